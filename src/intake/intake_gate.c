/*
 * intake_gate.c - plain HTTP's gate: a connection's first request head is
 * checked before libmicrohttpd reads a byte of it.
 *
 * libmicrohttpd (0.9.75) answers some malformed heads itself and others
 * not at all: a head larger than its buffer gets its own 431 HTML page,
 * a request line it cannot parse ("GARBAGE", "GET" alone, binary junk,
 * a stream of empty lines) is closed without a word, and a NUL inside a
 * header's value silently ends the value there (the request is served).
 * None of this can be caught from its callbacks: it parses in place,
 * reports what it parsed, and has no hook between accept() and its first
 * recv().  (MHD_OPTION_NOTIFY_CONNECTION's "started" runs in the
 * listening thread, before the connection's own thread exists: a peek
 * there would stall every accept behind one slow client.)
 *
 * So for plain HTTP the daemon runs without a listening socket of its
 * own (MHD_USE_NO_LISTEN_SOCKET) and the gate listens instead.  One
 * thread polls the listening socket and every connection that has not
 * yet sent a whole head: it peeks (recv MSG_PEEK: nothing is consumed)
 * and checks what came so far with intake__head_check (intake_head.c).
 *   - a head that ends well: the connection goes to libmicrohttpd as it
 *     is (MHD_add_connection), which reads the same bytes from the start;
 *   - a fault (as soon as its bytes are in; more than INTAKE_HEAD_MAX
 *     bytes without an end is one): our own JSON answer - 400, 431 or
 *     505, {"error":{"code","field","message"}}, Connection: close - is
 *     written straight to the socket, its writing side shut, and what
 *     the client still sends read and dropped for up to LINGER_MS (so
 *     that the kernel does not reset the connection under the answer);
 *   - no whole head within head_timeout of the accept: cut, as the guard
 *     (intake_guard.c) cuts a late head, and counted with its cuts.
 * The gate bounds what waits at it as libmicrohttpd bounds its own
 * connections: max_per_address from one address (the next is closed at
 * once, logged at most LOG_PER_S lines a second), HTTP_MAX_CONNECTIONS
 * in all (more wait in the listen backlog).  A connection handed on
 * counts against libmicrohttpd's limits from then on, so one address
 * holds at most max_per_address waiting here plus max_per_address
 * inside.  The
 * guard's head clock starts again when libmicrohttpd takes the
 * connection; the head is in by then, and the body's deadline follows.
 * Between peeks the socket's SO_RCVLOWAT is one more than the bytes
 * already seen, so that poll wakes for new bytes only (a head trickled
 * in costs one peek and one scan of at most INTAKE_HEAD_MAX bytes per
 * arrival).
 *
 * What the gate does not see:
 *   - the later requests of a kept-alive connection: libmicrohttpd reads
 *     them itself.  Their target's control bytes and Transfer-Encoding
 *     are still refused by the access handler (intake_http.c); a head
 *     over libmicrohttpd's buffer (its 32 KiB of memory per connection,
 *     MHD_POOL_SIZE_DEFAULT) still gets its 431 HTML, an unparseable
 *     request line still a silent close, and a NUL in a header value
 *     still cuts the value.  (A first head the gate passed - at most
 *     INTAKE_HEAD_MAX bytes and INTAKE_HEAD_FIELDS fields - always fits
 *     those 32 KiB with the fields' records.)  Peeking every head would
 *     mean one request per connection (Connection: close on every
 *     answer), which the console's many small requests would pay for;
 *   - TLS: the bytes are ciphertext until libmicrohttpd's GnuTLS session
 *     decrypts them, and libmicrohttpd offers no hook after decryption
 *     and before parsing; with tls_cert set the daemon listens itself and
 *     every head is libmicrohttpd's to parse, with the same three gaps.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <jansson.h>

#include "intake_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define LINGER_MS     2000             /* after our answer: drain, then close */
#define LINGER_BYTES  (1u << 20)       /* ... or after this much was dropped */
#define TICK_MS       1000             /* poll's longest sleep */
#define ACCEPTS       64               /* accept()s per round */
#define LOG_PER_S     10               /* refused heads logged a second */

/* A connection waiting at the gate. */
struct pend {
	int fd;
	struct sockaddr_storage addr;
	socklen_t alen;
	int64_t since_ms;        /* accepted */
	size_t seen;             /* bytes peeked so far */
	bool closing;            /* answered: draining until close_by */
	int64_t close_by;
	size_t dropped;
};

struct intake_gate {
	int lfd, port;
	int wake[2];             /* a byte on wake[1] stops the thread */
	pthread_t thr;
	bool running;
	struct MHD_Daemon *d;
	int head_ms;
	unsigned per_addr, max;
	struct pend *p;          /* max of them */
	size_t n;
	struct pollfd *pfd;      /* max + 2 */
	char *buf;               /* INTAKE_HEAD_MAX: a peek */
	int64_t log_sec;
	unsigned log_lines;
	atomic_ulong cut, refused;
};

pg_err
intake__gate_new(const struct sockaddr *sa, socklen_t salen, int head_ms, unsigned per_addr,
		 unsigned max, struct intake_gate **out)
{
	struct intake_gate *g = calloc(1, sizeof *g);
	struct sockaddr_storage bound;
	socklen_t blen = sizeof bound;
	int one = 1;

	*out = NULL;
	if (g == NULL)
		return PG_ERR_NOMEM;
	g->lfd = g->wake[0] = g->wake[1] = -1;
	g->head_ms = head_ms;
	g->per_addr = per_addr ? per_addr : 1;
	g->max = max;
	g->p = calloc(max, sizeof *g->p);
	g->pfd = calloc(max + 2, sizeof *g->pfd);
	g->buf = malloc(INTAKE_HEAD_MAX);
	if (g->p == NULL || g->pfd == NULL || g->buf == NULL) {
		intake__gate_free(g);
		return PG_ERR_NOMEM;
	}
	if (pipe(g->wake) != 0 ||
	    (g->lfd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			     0)) < 0 ||
	    setsockopt(g->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    (sa->sa_family == AF_INET6 &&
	     setsockopt(g->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
	    bind(g->lfd, sa, salen) != 0 || listen(g->lfd, SOMAXCONN) != 0 ||
	    getsockname(g->lfd, (struct sockaddr *)&bound, &blen) != 0) {
		pg_error("http: cannot listen: %s", strerror(errno));
		intake__gate_free(g);
		return PG_ERR_IO;
	}
	g->port = bound.ss_family == AF_INET6 ?
		  ntohs(((struct sockaddr_in6 *)&bound)->sin6_port) :
		  ntohs(((struct sockaddr_in *)&bound)->sin_port);
	*out = g;
	return PG_OK;
}

int
intake__gate_port(const struct intake_gate *g)
{
	return g ? g->port : 0;
}

void
intake__gate_counts(struct intake_gate *g, unsigned long *cut, unsigned long *refused)
{
	*cut = g ? atomic_load(&g->cut) : 0;
	*refused = g ? atomic_load(&g->refused) : 0;
}

/* At most LOG_PER_S lines a second about what any client can cause. */
static bool
may_log(struct intake_gate *g, int64_t now)
{
	if (now / 1000 != g->log_sec) {
		g->log_sec = now / 1000;
		g->log_lines = 0;
	}
	return g->log_lines++ < LOG_PER_S;
}

/* Forgets connection i (its descriptor closed or handed on). */
static void
drop(struct intake_gate *g, size_t i)
{
	g->p[i] = g->p[--g->n];
}

static void
cut(struct intake_gate *g, size_t i)
{
	close(g->p[i].fd);
	drop(g, i);
}

/* Writes f as our JSON answer to connection i and starts its lingering
 * close.  The socket's send buffer is empty (nothing was ever written to
 * it) and the answer is small: one send() takes it all, or the client
 * gets what fits. */
static void
answer(struct intake_gate *g, size_t i, const struct intake_head_fault *f, int64_t now)
{
	struct pend *c = &g->p[i];
	json_t *j = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", f->code, "field",
			      f->field, "message", f->message);
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	char head[512];
	int one = 1, n;

	json_decref(j);
	atomic_fetch_add(&g->refused, 1);
	if (may_log(g, now))
		pg_info("http: refused a malformed request head: %d %s %s", f->status,
			f->code, f->field);
	n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: application/json; "
		     "charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n"
		     "Content-Length: %zu\r\n\r\n", f->status,
		     f->status == 431 ? "Request Header Fields Too Large" :
		     f->status == 505 ? "HTTP Version Not Supported" : "Bad Request",
		     body ? strlen(body) : 0);
	if (n > 0 && (size_t)n < sizeof head && body) {
		struct iovec iov[2] = { { head, (size_t)n }, { body, strlen(body) } };
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

		(void)sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	free(body);
	shutdown(c->fd, SHUT_WR);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
	c->closing = true;
	c->close_by = now + LINGER_MS;
}

/* Connection i is readable: peeks, checks, and hands on, answers or waits. */
static void
look(struct intake_gate *g, size_t i, short revents, int64_t now)
{
	struct pend *c = &g->p[i];
	struct intake_head_fault f;
	size_t len;
	ssize_t k;
	int low;

	if (c->closing) {
		k = recv(c->fd, g->buf, INTAKE_HEAD_MAX, MSG_DONTWAIT);
		if (k > 0 && (c->dropped += (size_t)k) < LINGER_BYTES)
			return;
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		cut(g, i);
		return;
	}
	k = recv(c->fd, g->buf, INTAKE_HEAD_MAX, MSG_PEEK | MSG_DONTWAIT);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {                    /* gone, or an error, before any byte */
		cut(g, i);
		return;
	}
	switch (intake__head_check(g->buf, (size_t)k, INTAKE_HEAD_MAX, &len, &f)) {
	case INTAKE_HEAD_OK:
		low = 1;
		setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &low, sizeof low);
		/* libmicrohttpd closes the socket itself when it cannot take it */
		(void)MHD_add_connection(g->d, c->fd, (struct sockaddr *)&c->addr, c->alen);
		drop(g, i);
		return;
	case INTAKE_HEAD_BAD:
		answer(g, i, &f, now);
		return;
	case INTAKE_HEAD_MORE:
		break;
	}
	if ((size_t)k == c->seen && (revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		/* the client stopped sending in the middle of its head */
		struct intake_head_fault end = { .status = 400, .code = "invalid",
						 .field = "head" };

		pg_strlcpy(end.message, "the request head ended before its empty line",
			   sizeof end.message);
		answer(g, i, &end, now);
		return;
	}
	c->seen = (size_t)k;
	low = (int)k + 1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &low, sizeof low);
}

/* Takes new connections: at most max waiting, per_addr of one address. */
static void
take(struct intake_gate *g, int64_t now)
{
	for (int round = 0; round < ACCEPTS; round++) {
		struct pend c = { .alen = sizeof c.addr, .since_ms = now };
		unsigned same = 0;

		c.fd = accept4(g->lfd, (struct sockaddr *)&c.addr, &c.alen,
			       SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c.fd < 0)
			return;
		for (size_t i = 0; i < g->n; i++) {
			const struct pend *o = &g->p[i];

			if (o->addr.ss_family != c.addr.ss_family)
				continue;
			if (c.addr.ss_family == AF_INET ?
			    ((struct sockaddr_in *)&o->addr)->sin_addr.s_addr ==
			    ((struct sockaddr_in *)&c.addr)->sin_addr.s_addr :
			    memcmp(&((struct sockaddr_in6 *)&o->addr)->sin6_addr,
				   &((struct sockaddr_in6 *)&c.addr)->sin6_addr,
				   sizeof(struct in6_addr)) == 0)
				same++;
		}
		if (g->n >= g->max || same >= g->per_addr) {
			if (may_log(g, now))
				pg_info("http: refused a connection: %s", g->n >= g->max ?
					"too many wait for their request head" :
					"its address already has max_per_address waiting");
			close(c.fd);
			continue;
		}
		g->p[g->n++] = c;
	}
}

static void *
run(void *arg)
{
	struct intake_gate *g = arg;

	for (;;) {
		int64_t now = pg_mono_ms(), wait = TICK_MS;
		size_t np = 2;

		g->pfd[0] = (struct pollfd){ .fd = g->wake[0], .events = POLLIN };
		g->pfd[1] = (struct pollfd){ .fd = g->n < g->max ? g->lfd : -1,
					     .events = POLLIN };
		for (size_t i = 0; i < g->n; i++) {
			int64_t by = g->p[i].closing ? g->p[i].close_by :
				     g->p[i].since_ms + g->head_ms;

			g->pfd[np++] = (struct pollfd){ .fd = g->p[i].fd,
							.events = POLLIN | POLLRDHUP };
			if (by - now < wait)
				wait = by - now > 0 ? by - now : 0;
		}
		if (poll(g->pfd, np, (int)wait) < 0 && errno != EINTR) {
			pg_error("http: the gate's poll failed: %s", strerror(errno));
			return NULL;
		}
		if (g->pfd[0].revents)
			return NULL;
		now = pg_mono_ms();
		/* backwards: drop() moves the last one into the place freed */
		for (size_t i = np - 2; i-- > 0;) {
			struct pend *c = &g->p[i];

			/* a deadline holds however the bytes trickle in */
			if (c->closing && now >= c->close_by) {
				cut(g, i);
			} else if (!c->closing && now - c->since_ms > g->head_ms) {
				atomic_fetch_add(&g->cut, 1);
				pg_info("http: cut a connection whose request head was not "
					"in after %d s", g->head_ms / 1000);
				cut(g, i);
			} else if (g->pfd[i + 2].revents) {
				look(g, i, g->pfd[i + 2].revents, now);
			}
		}
		if (g->pfd[1].revents)
			take(g, now);
	}
}

pg_err
intake__gate_run(struct intake_gate *g, struct MHD_Daemon *d)
{
	g->d = d;
	if (pthread_create(&g->thr, NULL, run, g) != 0)
		return PG_ERR_IO;
	g->running = true;
	return PG_OK;
}

void
intake__gate_free(struct intake_gate *g)
{
	if (g == NULL)
		return;
	if (g->running) {
		(void)!write(g->wake[1], "x", 1);
		pthread_join(g->thr, NULL);
	}
	for (size_t i = 0; i < g->n; i++)
		close(g->p[i].fd);
	if (g->lfd >= 0)
		close(g->lfd);
	if (g->wake[0] >= 0) {
		close(g->wake[0]);
		close(g->wake[1]);
	}
	free(g->p);
	free(g->pfd);
	free(g->buf);
	free(g);
}
