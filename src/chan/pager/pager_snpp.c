/*
 * pager_snpp.c - SNPP client, RFC 1861 level 2 (pager_priv.h).
 *
 * Strict lock-step: read the greeting, then one command, read its whole
 * reply, and only then the next command; never pipelined (HylaFAX's hfaxd
 * loses a pipelined SEND).  One session per send() call:
 *
 *   220 greeting
 *   LOGI login [password]                 when configured
 *   per job:  SITE <x> ...                when configured (HylaFAX resets
 *                                          "SITE JQUEUE YES" after each SEND)
 *             PAGE <pin>
 *             LEVE 0                       urgent and emergency pages
 *             SUBJ <subject>               when the job has one
 *             MESS <text> | DATA ... .     DATA for multi-line or long text
 *             SEND
 *             RESE                         after a failure inside the page
 *   QUIT
 *
 * Reply codes decide: 2xx ok (the SEND reply and the PAGE reply, which
 * carries hfaxd's job id, become the job's reply), 4xx temporary, 5xx
 * permanent; a broken connection, a timeout or a malformed reply is
 * temporary.  421 (and any failure to RESE) ends the session: the rest of
 * the jobs are temporary failures.  LEVE and SUBJ are optional in RFC 1861,
 * so "500/502 not implemented" to them is noted and the page goes on;
 * DATA refused that way falls back to MESS with the lines joined.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pagegate/log.h"
#include "pagegate/net.h"
#include "pager_priv.h"

#define MS_PER_S       1000
#define REPLY_LINES    100         /* most lines in one reply */
#define CMD_MAX        (PAGER_SNPP_LINE_MAX + 16)
#define SUBJ_MAX       120

struct session {
	const struct pager_gw *gw;
	struct pager_snpp_rd rd;
	int timeout_ms;
	bool dead;                   /* connection unusable: stop */
	char why[PG_REPLY_MAX];      /* why it is dead */
	int code;                    /* last reply */
	char text[PG_REPLY_MAX / 2];       /* its final line, cleaned */
};

int
pager_snpp_parse_line(const char *line, bool *more)
{
	int code;

	if (!(line[0] >= '1' && line[0] <= '9' && line[1] >= '0' && line[1] <= '9' &&
	      line[2] >= '0' && line[2] <= '9'))
		return -1;
	if (line[3] != '\0' && line[3] != ' ' && line[3] != '-')
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	/* "250-more" continues; RFC 1861 HELP answers with plain "214 ..."
	 * lines followed by a final "250" */
	*more = line[3] == '-' || code == 214;
	return code;
}

/* Waits until fd is readable/writable within the deadline. */
static pg_err
wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int64_t left;
	int r;

	for (;;) {
		left = deadline - pg_mono_ms();
		if (left <= 0)
			return PG_ERR_TEMPFAIL;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return PG_OK;
		if (r == 0)
			return PG_ERR_TEMPFAIL;
		if (errno != EINTR)
			return PG_ERR_IO;
	}
}

/* Takes one line (without CR LF) out of rd's buffer, truncating an
 * over-long one; false when no complete line is buffered. */
static bool
take_line(struct pager_snpp_rd *rd, char *line, size_t n)
{
	char *nl = memchr(rd->buf, '\n', rd->len);
	size_t len, keep;

	if (!nl) {
		if (rd->len < sizeof rd->buf)
			return false;
		nl = rd->buf + rd->len - 1;      /* full without LF: cut here */
	}
	len = (size_t)(nl - rd->buf);
	keep = len;
	if (keep > 0 && rd->buf[keep - 1] == '\r')
		keep--;
	if (keep >= n)
		keep = n - 1;
	memcpy(line, rd->buf, keep);
	line[keep] = '\0';
	rd->len -= len + 1;
	memmove(rd->buf, nl + 1, rd->len);
	return true;
}

pg_err
pager_snpp_read_reply(struct pager_snpp_rd *rd, int timeout_ms, int *code,
		      char *text, size_t tlen)
{
	int64_t deadline = pg_mono_ms() + timeout_ms;
	char line[PAGER_SNPP_LINE_MAX];
	int lines = 0, c;
	bool more;
	ssize_t r;

	*code = 0;
	for (;;) {
		while (take_line(rd, line, sizeof line)) {
			if ((c = pager_snpp_parse_line(line, &more)) < 0) {
				char shown[81];
				pg_text_oneline(shown, sizeof shown, line, sizeof line);
				snprintf(text, tlen, "malformed SNPP reply \"%s\"", shown);
				return PG_ERR_TEMPFAIL;
			}
			if (++lines > REPLY_LINES) {
				snprintf(text, tlen, "SNPP reply longer than %d lines", REPLY_LINES);
				return PG_ERR_TEMPFAIL;
			}
			if (!more) {
				*code = c;
				pg_text_oneline(text, tlen, line, sizeof line);
				return PG_OK;
			}
		}
		if (wait_fd(rd->fd, POLLIN, deadline) != PG_OK) {
			snprintf(text, tlen, "no SNPP reply within %d s", timeout_ms / MS_PER_S);
			return PG_ERR_TEMPFAIL;
		}
		r = recv(rd->fd, rd->buf + rd->len, sizeof rd->buf - rd->len, 0);
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
			snprintf(text, tlen, "connection closed by the SNPP gateway");
			return PG_ERR_TEMPFAIL;
		}
		if (r > 0)
			rd->len += (size_t)r;
	}
}

static bool
send_all(struct session *s, const char *p, size_t n)
{
	int64_t deadline = pg_mono_ms() + s->timeout_ms;
	ssize_t w;

	while (n > 0) {
		if (wait_fd(s->rd.fd, POLLOUT, deadline) != PG_OK) {
			snprintf(s->why, sizeof s->why, "SNPP gateway did not accept data "
				 "within %d s", s->timeout_ms / MS_PER_S);
			s->dead = true;
			return false;
		}
		w = send(s->rd.fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0) {
			snprintf(s->why, sizeof s->why, "connection to the SNPP gateway lost");
			s->dead = true;
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads the reply to what was just sent into s->code/s->text. */
static bool
reply(struct session *s)
{
	if (pager_snpp_read_reply(&s->rd, s->timeout_ms, &s->code, s->text,
				  sizeof s->text) != PG_OK) {
		snprintf(s->why, sizeof s->why, "%s", s->text);
		s->dead = true;
		return false;
	}
	if (s->code == 421) {               /* the gateway is closing */
		snprintf(s->why, sizeof s->why, "%s", s->text);
		s->dead = true;
	}
	return true;
}

/* Sends one command line and reads its reply.  label names the command
 * in logs (never the arguments: LOGI carries the password). */
static bool
command(struct session *s, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool
command(struct session *s, const char *label, const char *fmt, ...)
{
	char line[CMD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 2) {
		snprintf(s->text, sizeof s->text, "%s command too long", label);
		s->code = 0;
		return true;                    /* a local refusal, not the link */
	}
	memcpy(line + n, "\r\n", 3);
	if (!send_all(s, line, (size_t)n + 2))
		return false;
	if (!reply(s))
		return false;
	pg_debug("snpp %s: %s -> %d", s->gw->name, label, s->code);
	return true;
}

static enum pg_outcome
outcome_of(int code)
{
	return code / 100 == 2 ? PG_OUT_OK : code / 100 == 5 ? PG_OUT_PERM : PG_OUT_TEMP;
}

size_t
pager_snpp_cost(const char *s, size_t len)
{
	size_t n = 0, i;
	bool start = true;

	if (!memchr(s, '\n', len) && len <= PAGER_SNPP_MESS_MAX)
		return len;                     /* MESS */
	for (i = 0; i < len; i++) {
		if (start && s[i] == '.')
			n++;                    /* dot-stuffed (hfaxd keeps it) */
		start = s[i] == '\n';
		n++;
	}
	return len > 0 && s[len - 1] == '\n' ? n : n + 1;   /* the last break */
}

static size_t
bytes(const char *s, size_t len)
{
	(void)s;
	return len;
}

/* RFC 1861 DATA: 354, the text's lines with dot-stuffing, ".". */
static bool
send_data(struct session *s, const char *text)
{
	struct pg_buf b;
	const char *p = text, *nl;
	bool ok;

	if (!command(s, "DATA", "DATA"))
		return false;
	if (s->code != 354)
		return true;                    /* the caller judges s->code */
	pg_buf_init(&b, 64 * 1024);
	for (ok = true; ok && *p; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (*p == '.')
			ok = pg_buf_add(&b, ".", 1) == PG_OK;
		ok = ok && pg_buf_add(&b, p, (size_t)(nl - p)) == PG_OK &&
		     pg_buf_add(&b, "\r\n", 2) == PG_OK;
	}
	ok = ok && pg_buf_add(&b, ".\r\n", 3) == PG_OK;
	if (!ok) {
		pg_buf_free(&b);
		snprintf(s->why, sizeof s->why, "page text too long for DATA");
		s->dead = true;
		return false;
	}
	ok = send_all(s, b.data, b.len) && reply(s);
	pg_buf_free(&b);
	return ok;
}

/* Joins the lines of text with " / " into dst (one SNPP command line),
 * cut to fit the gateway's max_length and the line. */
static void
one_line(const struct pager_gw *gw, char *dst, size_t n, const char *text)
{
	struct pager_limits lim = { .cost = bytes, .max_cost = n - 1, .ascii = gw->ascii };
	struct pg_buf b;
	char *fit;

	if (gw->max_length > 0 && (size_t)gw->max_length < lim.max_cost)
		lim.max_cost = (size_t)gw->max_length;
	pg_buf_init(&b, 64 * 1024);
	for (; *text; text++) {
		if (*text == '\n')
			(void)pg_buf_adds(&b, " / ");
		else if ((unsigned char)*text >= 0x20 && *text != 0x7f)
			(void)pg_buf_add(&b, text, 1);
	}
	if (pg_buf_adds(&b, "") == PG_OK && (fit = pager_text_fit(b.data, &lim, false))) {
		snprintf(dst, n, "%s", fit);
		free(fit);
	} else {
		dst[0] = '\0';
	}
	pg_buf_free(&b);
	pager_utf8_truncate(dst, SIZE_MAX);
}

/* Sends the message text: MESS, or DATA for multi-line or long text (MESS
 * with the lines joined when the gateway does not implement DATA). */
static bool
send_text(struct session *s, const char *text)
{
	char line[PAGER_SNPP_LINE_MAX - 8];

	if (strchr(text, '\n') || strlen(text) > PAGER_SNPP_MESS_MAX) {
		if (!send_data(s, text))
			return false;
		if (s->code != 500 && s->code != 502)
			return true;
		pg_info("snpp %s: DATA not implemented (%d), using MESS", s->gw->name,
			s->code);
	}
	one_line(s->gw, line, sizeof line, text);
	return command(s, "MESS", "MESS %s", line);
}

/* An optional command (LEVE, SUBJ): true to go on with the page. */
static bool
optional_ok(struct session *s, const char *what)
{
	if (s->code / 100 == 2)
		return true;
	if (s->code == 500 || s->code == 502) {
		pg_info("snpp %s: %s not implemented by the gateway: %s", s->gw->name,
			what, s->text);
		return true;
	}
	return false;
}

/* One page transaction.  Returns false when the session cannot go on. */
static bool
page(struct session *s, struct pg_job *j, const char *text)
{
	char page_reply[PG_REPLY_MAX / 2], subj[SUBJ_MAX];
	const char *step = "SITE";
	bool started = false;
	size_t i;

	for (i = 0; i < s->gw->n_site; i++) {
		started = true;
		if (!command(s, "SITE", "SITE %s", s->gw->site[i]))
			goto dead;
		if (s->code / 100 != 2)
			goto refused;
	}
	step = "PAGE";
	if (!command(s, "PAGE", "PAGE %s", j->address))
		goto dead;
	if (s->code / 100 != 2)
		goto refused;
	started = true;
	snprintf(page_reply, sizeof page_reply, "%s", s->text);
	if (j->urgency != PG_URG_ROUTINE) {
		step = "LEVE";
		if (!command(s, "LEVE", "LEVE 0"))
			goto dead;
		if (!optional_ok(s, "LEVE"))
			goto refused;
	}
	if (j->subject && *j->subject) {
		step = "SUBJ";
		pg_text_oneline(subj, sizeof subj, j->subject, SIZE_MAX);
		if (*subj && !command(s, "SUBJ", "SUBJ %s", subj))
			goto dead;
		if (*subj && !optional_ok(s, "SUBJ"))
			goto refused;
	}
	step = "message text";
	if (!send_text(s, text))
		goto dead;
	if (s->code / 100 != 2)
		goto refused;
	step = "SEND";
	if (!command(s, "SEND", "SEND"))
		goto dead;
	if (s->code / 100 != 2)
		goto refused;
	pg_job_set(j, PG_OUT_OK, "%s [%s]", s->text, page_reply);
	return !s->dead;

refused:
	if (s->code == 0)
		pg_job_set(j, PG_OUT_PERM, "%s", s->text);   /* local refusal */
	else
		pg_job_set(j, outcome_of(s->code), "%s refused: %s", step, s->text);
	if (s->dead)
		return false;
	if (started) {                      /* clear the half-built page */
		if (!command(s, "RESE", "RESE"))
			return false;
		if (s->code / 100 != 2) {
			snprintf(s->why, sizeof s->why, "RESE refused: %s", s->text);
			s->dead = true;
			return false;
		}
	}
	return true;
dead:
	pg_job_set(j, PG_OUT_TEMP, "%s: %s", step, s->why);
	return false;
}

void
pager_snpp_send(const struct pager_gw *gw, struct pg_job *jobs, char *const *texts,
		size_t n)
{
	struct session s;
	size_t i = 0;

	memset(&s, 0, sizeof s);
	s.gw = gw;
	s.timeout_ms = (gw->timeout_s > 0 ? gw->timeout_s : PAGER_DEFAULT_TIMEOUT_S) *
		       MS_PER_S;
	s.rd.fd = pg_tcp_open(gw->host, gw->port, s.timeout_ms, PG_TCP_NONBLOCK,
			      "SNPP gateway", NULL, NULL, s.why, sizeof s.why);
	if (s.rd.fd < 0)
		goto fail_rest;
	if (!reply(&s))
		goto fail_rest;
	if (s.code / 100 != 2) {
		snprintf(s.why, sizeof s.why, "SNPP gateway refused the session: %s", s.text);
		goto fail_rest;
	}
	if (gw->login) {
		bool ok = gw->password ? command(&s, "LOGI", "LOGI %s %s", gw->login, gw->password)
				       : command(&s, "LOGI", "LOGI %s", gw->login);
		if (!ok)
			goto fail_rest;
		if (s.code / 100 != 2) {
			for (; i < n; i++)
				pg_job_set(&jobs[i], outcome_of(s.code), "LOGI refused: %s",
					      s.text);
			goto quit;
		}
	}
	for (; i < n; i++) {
		if (!page(&s, &jobs[i], texts[i])) {
			i++;
			goto fail_rest;
		}
	}
quit:
	if (command(&s, "QUIT", "QUIT") && s.code != 221)
		pg_debug("snpp %s: QUIT answered %d", gw->name, s.code);
	close(s.rd.fd);
	return;
fail_rest:
	pg_warn("snpp gateway %s (%s:%d): %s", gw->name, gw->host, gw->port, s.why);
	for (; i < n; i++)
		pg_job_set(&jobs[i], PG_OUT_TEMP, "not attempted: %s", s.why);
	if (s.rd.fd >= 0) {
		if (!s.dead)
			(void)command(&s, "QUIT", "QUIT");
		close(s.rd.fd);
	}
}
