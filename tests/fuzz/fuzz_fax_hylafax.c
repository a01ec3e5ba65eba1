/*
 * fuzz_fax_hylafax.c - what a HylaFAX server answers the fax channel's
 * job-state query (fax_hylafax.c: greeting, USER/PASS, JOB, JPARM STATE
 * and STATUS, QUIT; FTP-style replies, "NNN-" continuations): the input
 * is the byte stream the server sends, written by a thread that accepted
 * the client's connection on a loopback port, then shut down; the client
 * reads it through pg_fax_hylafax_state as it reads a real server.
 *
 * Checked besides the sanitizers: the answer is one of the documented
 * errors with a state and a terminated detail of one line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "fuzz.h"

#include "pagegate/channel.h"
#include "../../src/chan/fax/fax.h"

static int lfd = -1;
static int port;

struct feed {
	const uint8_t *data;
	size_t size;
};

/* The server: accepts one connection, sends the input, reads what the
 * client says until it closes. */
static void *
serve(void *arg)
{
	const struct feed *f = arg;
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	char sink[4096];
	size_t off = 0;
	int fd;

	if (poll(&p, 1, 10000) != 1 || (fd = accept(lfd, NULL, NULL)) < 0)
		return NULL;
	while (off < f->size) {
		ssize_t w = send(fd, f->data + off, f->size - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, sink, sizeof sink) > 0)
		;
	close(fd);
	return NULL;
}

static void
setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;

	pg_log_set_level(PG_LOG_ERR);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 8) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &al) != 0)
		abort();
	port = ntohs(a.sin_port);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f = { data, size };
	struct pg_fax_hylafax h = {
		.name = "hylafax", .host = "127.0.0.1", .user = "pagegate",
		.password = "secret", .timeout_s = 2, .max_dials = 3, .max_tries = 3,
	};
	enum pg_fax_job_state st;
	char detail[PG_REPLY_MAX];
	pthread_t th;
	pg_err e;

	if (lfd < 0)
		setup();
	if (size > 65536)
		return 0;
	h.port = port;
	if (pthread_create(&th, NULL, serve, &f) != 0)
		abort();
	memset(detail, 'x', sizeof detail);
	detail[0] = '\0';
	e = pg_fax_hylafax_state(&h, 41, &st, detail, sizeof detail);
	pthread_join(th, NULL);
	FUZZ_ASSERT(e == PG_OK || e == PG_ERR_TEMPFAIL || e == PG_ERR_NOTFOUND);
	FUZZ_ASSERT(st == PG_FAXJOB_PENDING || st == PG_FAXJOB_DONE || st == PG_FAXJOB_FAILED);
	FUZZ_ASSERT(memchr(detail, '\0', sizeof detail) != NULL);
	FUZZ_ASSERT(!strchr(detail, '\n') && !strchr(detail, '\r'));
	return 0;
}
