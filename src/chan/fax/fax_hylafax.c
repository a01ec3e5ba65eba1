/*
 * fax_hylafax.c - a fax through an existing HylaFAX server (fax.h): its
 * client-server protocol (hfaxd -i, port 4559) is FTP with job commands.
 * A submission is
 *   USER [PASS] / TYPE I / FORM TIFF / PASV + STOT (the TIFF, on a data
 *   connection) / JNEW / JPARM ... (FROMUSER, LASTTIME, MAXDIALS, MAXTRIES,
 *   DIALSTRING, NOTIFY, VRES, PAGEWIDTH, PAGELENGTH, DOCUMENT) / JSUBM / QUIT
 * strictly one command per reply, the way sendfax(1) talks; a job's state
 * is "JOB id" then "JPARM STATE" and "JPARM STATUS".
 *
 * Every read and write is bounded by the gateway's timeout; replies are
 * hostile text (bounded lines, controls cleaned); nothing we send can
 * carry CR or LF (the dial string and the server's own file name are
 * checked first).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fax.h"
#include "pagegate/log.h"
#include "pagegate/net.h"
#include "pagegate/util.h"

#define LINE_MAX_LEN     1024
#define REPLY_LINES_MAX  200          /* longest multi-line reply read */
#define DEFAULT_TIMEOUT  30
#define CHUNK            16384
#define PATH_MAX_LEN     200
#define TEXT_MAX         512
#define MM_LETTER_W      216
#define MM_LETTER_L      279
#define MM_A4_W          210
#define MM_A4_L          297

struct conn {
	int fd;
	int timeout_ms;
	char buf[LINE_MAX_LEN * 2];
	size_t have;
	struct sockaddr_storage peer;   /* the server, for the data connection */
	socklen_t peer_len;
	int code;                       /* last reply */
	char text[TEXT_MAX];        /* last reply's last line, cleaned */
	char first[TEXT_MAX];       /* its first line */
	char why[256];                  /* what went wrong below the protocol */
};

static bool
wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

static bool
write_all(int fd, const void *b, size_t n, int timeout_ms, char *why, size_t wn)
{
	const char *p = b;
	while (n > 0) {
		if (!wait_fd(fd, POLLOUT, timeout_ms)) {
			snprintf(why, wn, "write timed out");
			return false;
		}
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			snprintf(why, wn, "write: %s", strerror(errno));
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* One line (without CR LF) into out; false on timeout, EOF or an
 * over-long line. */
static bool
read_line(struct conn *c, char *out, size_t n)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->have);
		if (nl) {
			size_t len = (size_t)(nl - c->buf);
			size_t k = len < n - 1 ? len : n - 1;
			memcpy(out, c->buf, k);
			out[k] = '\0';
			if (k > 0 && out[k - 1] == '\r')
				out[k - 1] = '\0';
			memmove(c->buf, nl + 1, c->have - len - 1);
			c->have -= len + 1;
			return true;
		}
		if (c->have == sizeof c->buf) {
			snprintf(c->why, sizeof c->why, "reply line too long");
			return false;
		}
		if (!wait_fd(c->fd, POLLIN, c->timeout_ms)) {
			snprintf(c->why, sizeof c->why, "no reply in %d s", c->timeout_ms / 1000);
			return false;
		}
		ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			snprintf(c->why, sizeof c->why, "connection closed by the server");
			return false;
		}
		c->have += (size_t)r;
	}
}

/* Reads one reply (multi-line "NNN-" ... "NNN "); returns its code, or
 * 0 when the connection failed (c->why says why). */
static int
reply(struct conn *c)
{
	char line[LINE_MAX_LEN];
	int lines = 0;

	c->code = 0;
	if (!read_line(c, line, sizeof line))
		return 0;
	if (strlen(line) < 3 || line[0] < '1' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9') {
		snprintf(c->why, sizeof c->why, "not a HylaFAX reply");
		return 0;
	}
	pg_text_oneline(c->first, sizeof c->first, line, SIZE_MAX);
	pg_text_oneline(c->text, sizeof c->text, line, SIZE_MAX);
	if (line[3] == '-') {
		char code[5];
		snprintf(code, sizeof code, "%.3s ", line);
		do {
			if (++lines > REPLY_LINES_MAX || !read_line(c, line, sizeof line))
				return 0;
		} while (strncmp(line, code, 4) != 0);
		pg_text_oneline(c->text, sizeof c->text, line, SIZE_MAX);
	}
	c->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	return c->code;
}

/* Sends one command and reads its reply. */
static int
cmd(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int
cmd(struct conn *c, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 2 || strpbrk(line, "\r\n")) {
		snprintf(c->why, sizeof c->why, "command cannot be sent");
		return 0;
	}
	memcpy(line + n, "\r\n", 3);
	if (!write_all(c->fd, line, (size_t)n + 2, c->timeout_ms, c->why, sizeof c->why))
		return 0;
	return reply(c);
}

static bool
open_conn(struct conn *c, const struct pg_fax_hylafax *h)
{
	memset(c, 0, sizeof *c);
	c->timeout_ms = (h->timeout_s > 0 ? h->timeout_s : DEFAULT_TIMEOUT) * 1000;
	c->fd = pg_tcp_open(h->host, h->port > 0 ? h->port : 4559, c->timeout_ms,
			    PG_TCP_NONBLOCK, NULL, &c->peer, &c->peer_len, c->why,
			    sizeof c->why);
	return c->fd >= 0;
}

/* Greeting, USER and (when asked) PASS. */
static bool
login(struct conn *c, const struct pg_fax_hylafax *h)
{
	int r;

	if (reply(c) != 220)
		return false;
	r = cmd(c, "USER %s", h->user);
	if (r == 331) {
		if (!h->password) {
			snprintf(c->why, sizeof c->why, "the server wants a password");
			c->code = 530;
			return false;
		}
		r = cmd(c, "PASS %s", h->password);
	}
	return r == 230;
}

/* Stores the file with PASV + STOT; the server's name for it goes to
 * path. */
static bool
store(struct conn *c, const char *tiff, char *path, size_t pn)
{
	unsigned v[6];
	const char *p, *f;
	FILE *in;
	char chunk[CHUNK];
	size_t k;
	int dfd;
	bool ok = true;

	if (cmd(c, "PASV") != 227 || !(p = strchr(c->text, '(')) ||
	    sscanf(p, "(%u,%u,%u,%u,%u,%u)", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6 ||
	    v[4] > 255 || v[5] > 255)
		return false;
	/* the server's own address, whatever PASV says (NAT) */
	if (c->peer.ss_family == AF_INET)
		((struct sockaddr_in *)&c->peer)->sin_port = htons((uint16_t)(v[4] * 256 + v[5]));
	else
		((struct sockaddr_in6 *)&c->peer)->sin6_port = htons((uint16_t)(v[4] * 256 + v[5]));
	if ((dfd = pg_tcp_dial((struct sockaddr *)&c->peer, c->peer_len, c->timeout_ms,
			       PG_TCP_NONBLOCK, c->why, sizeof c->why)) < 0)
		return false;
	if (cmd(c, "STOT") != 150 || !(f = strstr(c->text, "FILE: "))) {
		close(dfd);
		return false;
	}
	f += 6;
	k = strcspn(f, " )");
	if (k == 0 || k >= pn || k > PATH_MAX_LEN || strspn(f, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") != k || strstr(f, "..")) {
		snprintf(c->why, sizeof c->why, "unexpected file name from the server");
		close(dfd);
		return false;
	}
	memcpy(path, f, k);
	path[k] = '\0';
	if (!(in = fopen(tiff, "rb"))) {
		snprintf(c->why, sizeof c->why, "cannot read %s: %s", tiff, strerror(errno));
		close(dfd);
		return false;
	}
	while (ok && (k = fread(chunk, 1, sizeof chunk, in)) > 0)
		ok = write_all(dfd, chunk, k, c->timeout_ms, c->why, sizeof c->why);
	fclose(in);
	close(dfd);
	return ok && reply(c) == 226;
}

/* A reply that stopped the session, as an outcome. */
static enum pg_outcome
judge(const struct conn *c, const struct pg_fax_hylafax *h, char *out, size_t n)
{
	if (c->code == 0) {
		snprintf(out, n, "HylaFAX %s: %s", h->name, c->why[0] ? c->why : "failed");
		return PG_OUT_TEMP;
	}
	snprintf(out, n, "HylaFAX %s: %s", h->name, c->text);
	return c->code >= 500 ? PG_OUT_PERM : PG_OUT_TEMP;
}

static bool
dial_string_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 40 && strspn(s, "+0123456789") == n;
}

enum pg_outcome
pg_fax_hylafax_submit(const struct pg_fax_hylafax *h, const struct pg_fax_hylafax_job *j,
		      unsigned *jobid, char *out, size_t n)
{
	struct conn c;
	struct pg_fax_tiff_info ti;
	char path[PATH_MAX_LEN + 1], why[200];
	enum pg_outcome o = PG_OUT_TEMP;
	int64_t lt = j->give_up_s > PG_FAX_JOB_MIN_S ? j->give_up_s : PG_FAX_JOB_MIN_S;
	const char *id;

	*jobid = 0;
	if (!dial_string_ok(j->number)) {
		snprintf(out, n, "not a dial string: only + and digits");
		return PG_OUT_PERM;
	}
	if (pg_fax_tiff_check(j->tiff, &ti, why, sizeof why) != PG_OK) {
		snprintf(out, n, "not sent, bad fax file: %s", why);
		return PG_OUT_PERM;
	}
	if (lt > 99 * 86400)
		lt = 99 * 86400;
	if (!open_conn(&c, h)) {
		snprintf(out, n, "HylaFAX %s: %s", h->name, c.why);
		return PG_OUT_TEMP;
	}
	if (!login(&c, h) || cmd(&c, "TYPE I") != 200 || cmd(&c, "FORM TIFF") != 200 ||
	    !store(&c, j->tiff, path, sizeof path) || cmd(&c, "JNEW") != 200)
		goto fail;
	if (!(id = strstr(c.text, "jobid: ")) || sscanf(id + 7, "%u", jobid) != 1) {
		snprintf(c.why, sizeof c.why, "no job id in \"%.100s\"", c.text);
		c.code = 0;
		goto fail;
	}
	if (cmd(&c, "JPARM FROMUSER \"%s\"", h->user) != 213 ||
	    cmd(&c, "JPARM LASTTIME %02lld%02lld%02lld", (long long)(lt / 86400),
		(long long)(lt % 86400 / 3600), (long long)(lt % 3600 / 60)) != 213 ||
	    cmd(&c, "JPARM MAXDIALS %d", h->max_dials > 0 ? h->max_dials : 3) != 213 ||
	    cmd(&c, "JPARM MAXTRIES %d", h->max_tries > 0 ? h->max_tries : 3) != 213 ||
	    cmd(&c, "JPARM DIALSTRING \"%s\"", j->number) != 213 ||
	    cmd(&c, "JPARM NOTIFY \"none\"") != 213 ||
	    cmd(&c, "JPARM VRES %d", pg_fax_yres(j->res)) != 213 ||
	    cmd(&c, "JPARM PAGEWIDTH %d", j->paper == PG_FAX_A4 ? MM_A4_W : MM_LETTER_W) != 213 ||
	    cmd(&c, "JPARM PAGELENGTH %d", j->paper == PG_FAX_A4 ? MM_A4_L : MM_LETTER_L) != 213 ||
	    cmd(&c, "JPARM DOCUMENT %s", path) != 200 ||
	    cmd(&c, "JSUBM") != 200)
		goto fail;
	snprintf(out, n, "HylaFAX job %u queued on %s: %d page%s (%s)", *jobid, h->name,
		 ti.pages, ti.pages == 1 ? "" : "s", c.text);
	o = PG_OUT_OK;
	(void)cmd(&c, "QUIT");
	close(c.fd);
	return o;
fail:
	o = judge(&c, h, out, n);
	if (*jobid && c.code != 0)
		(void)cmd(&c, "JDELE %u", *jobid);     /* no half-made job left behind */
	*jobid = 0;
	(void)cmd(&c, "QUIT");
	close(c.fd);
	return o;
}

pg_err
pg_fax_hylafax_state(const struct pg_fax_hylafax *h, unsigned jobid,
		     enum pg_fax_job_state *st, char *detail, size_t n)
{
	struct conn c;
	char state[64];
	pg_err e = PG_ERR_TEMPFAIL;

	*st = PG_FAXJOB_PENDING;
	if (!open_conn(&c, h)) {
		snprintf(detail, n, "HylaFAX %s: %s", h->name, c.why);
		return PG_ERR_TEMPFAIL;
	}
	if (!login(&c, h))
		goto out;
	if (cmd(&c, "JOB %u", jobid) != 200) {
		if (c.code >= 500) {
			snprintf(detail, n, "HylaFAX %s: job %u: %s", h->name, jobid, c.text);
			e = PG_ERR_NOTFOUND;
		}
		goto out;
	}
	if (cmd(&c, "JPARM STATE") != 213)
		goto out;
	/* "213 DONE"; a bare "213" (or "213 ", trimmed) names no state: c.text + 4
	 * would be past its end, in an earlier reply's bytes */
	pg_strlcpy(state, strlen(c.text) > 4 ? c.text + 4 : "", sizeof state);
	if (cmd(&c, "JPARM STATUS") != 213)
		goto out;
	if (strcmp(state, "DONE") == 0)
		*st = PG_FAXJOB_DONE;
	else if (strcmp(state, "FAILED") == 0)
		*st = PG_FAXJOB_FAILED;
	snprintf(detail, n, "HylaFAX job %u %s%s%s", jobid, state,
		 strlen(c.text) > 4 ? ": " : "", strlen(c.text) > 4 ? c.text + 4 : "");
	e = PG_OK;
out:
	if (e == PG_ERR_TEMPFAIL)
		(void)judge(&c, h, detail, n);
	if (c.code != 0)
		(void)cmd(&c, "QUIT");
	close(c.fd);
	return e;
}
