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
 *             (LOGI again                  when RESE answered 220: hfaxd's
 *                                          RESE starts the session over)
 *   QUIT
 *
 * Reply codes decide: 2xx ok (the SEND reply and the PAGE reply, which
 * carries hfaxd's job id, become the job's reply), 4xx temporary, 5xx
 * permanent but hfaxd's "554 Failed to submit" to SEND (its scheduler
 * refused the job: nothing was queued, a later try may get through); a
 * broken connection, a timeout or a malformed reply is
 * temporary.  421 ends the session: the rest of the jobs are temporary
 * failures (a RESE that fails opens a new session, below).  LEVE and SUBJ are optional in RFC 1861,
 * so "500/502 not implemented" to them is noted and the page goes on;
 * DATA refused that way falls back to MESS with the lines joined.
 *
 * Too long: texts come cut to fit the gateway's max_length as hfaxd
 * counts (pager_snpp_cost).  A gateway that still refuses the text (or
 * SEND) as too long ("550 Error, message too long; max 128 characters.")
 * gets it once more in the same session, cut to the number its reply
 * gives (else a quarter shorter).  A refusal of a DATA text may come
 * before the server has read it all: hfaxd answers at the line that
 * overflows and reads the rest of the text, "." included, as commands.
 * So after any refusal RESE is answered only once the replies still owed
 * for those lines are read (at most one per line sent); a session that
 * cannot be brought back in step that way is closed and opened anew.
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
	size_t owed;                 /* lines of a refused DATA text the server
					may still read as commands */
	bool logi_refused;           /* session_open: LOGI answered no */
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
	size_t lines = 1;                       /* the "." */
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
		lines++;
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
	s->owed = ok && s->code / 100 != 2 ? lines : 0;
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
		s->owed = 0;
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

/* LOGI with the gateway's credentials; s->code has the answer. */
static bool
login(struct session *s)
{
	return s->gw->password ? command(s, "LOGI", "LOGI %s %s", s->gw->login, s->gw->password)
			       : command(s, "LOGI", "LOGI %s", s->gw->login);
}

/* Connects, reads the greeting and logs in.  False with s->why, or with
 * s->logi_refused and the refusal in s->code/s->text. */
static bool
session_open(struct session *s)
{
	s->dead = s->logi_refused = false;
	s->owed = 0;
	s->rd.len = 0;
	s->rd.fd = pg_tcp_open(s->gw->host, s->gw->port, s->timeout_ms, PG_TCP_NONBLOCK,
			       "SNPP gateway", NULL, NULL, s->why, sizeof s->why);
	if (s->rd.fd < 0 || !reply(s))
		return false;
	if (s->code / 100 != 2) {
		snprintf(s->why, sizeof s->why, "SNPP gateway refused the session: %s", s->text);
		return false;
	}
	if (s->gw->login) {
		if (!login(s))
			return false;
		if (s->code / 100 != 2) {
			snprintf(s->why, sizeof s->why, "LOGI refused: %s", s->text);
			s->logi_refused = true;
			return false;
		}
	}
	return true;
}

/* QUIT (when the session is in step) and close. */
static void
session_close(struct session *s, bool quit)
{
	if (s->rd.fd < 0)
		return;
	if (quit && !s->dead && command(s, "QUIT", "QUIT") && s->code != 221)
		pg_debug("snpp %s: QUIT answered %d", s->gw->name, s->code);
	close(s->rd.fd);
	s->rd.fd = -1;
}

/* Brings the session back in step after a refusal inside a page: RESE,
 * whose answer is the first 2xx among the replies still owed for the
 * lines of a refused DATA text (hfaxd reads them as commands and answers
 * each), then LOGI again when RESE answered 220 (hfaxd's RESE starts the
 * session over, login included).  False with s->why when that fails. */
static bool
reset(struct session *s)
{
	size_t owed = s->owed;

	if (!command(s, "RESE", "RESE"))
		return false;
	while (s->code / 100 != 2 && !s->dead && owed > 0) {
		pg_debug("snpp %s: reply owed for the refused text: %s", s->gw->name, s->text);
		owed--;
		if (!reply(s))
			return false;
	}
	s->owed = 0;
	if (s->dead || s->code / 100 != 2) {
		snprintf(s->why, sizeof s->why, "out of step after a refusal (RESE answered "
			 "\"%s\")", s->text);
		return false;
	}
	if (s->code == 220 && s->gw->login) {
		if (!login(s))
			return false;
		if (s->code / 100 != 2) {
			snprintf(s->why, sizeof s->why, "LOGI after RESE refused: %s", s->text);
			return false;
		}
	}
	return true;
}

/* True when the last reply refuses something for its length. */
static bool
too_long(const struct session *s)
{
	static const char *const words[] = { "too long", "too big", "too large", "exceed",
					     "max", NULL };

	if (s->code / 100 != 4 && s->code / 100 != 5)
		return false;
	for (size_t i = 0; words[i]; i++)
		if (strcasestr(s->text, words[i]))
			return true;
	return false;
}

enum { T_OK, T_REFUSED, T_DEAD };

/* One page transaction.  T_REFUSED with *step and *started (a page is
 * half built: RESE); T_DEAD when the connection is unusable (s->why). */
static int
transaction(struct session *s, struct pg_job *j, const char *text, const char **step,
	    bool *started, char *page_reply, size_t prlen)
{
	char subj[SUBJ_MAX];
	size_t i;

	*started = false;
	*step = "SITE";
	for (i = 0; i < s->gw->n_site; i++) {
		*started = true;
		if (!command(s, "SITE", "SITE %s", s->gw->site[i]))
			return T_DEAD;
		if (s->code / 100 != 2)
			return T_REFUSED;
	}
	*step = "PAGE";
	if (!command(s, "PAGE", "PAGE %s", j->address))
		return T_DEAD;
	if (s->code / 100 != 2)
		return T_REFUSED;
	*started = true;
	snprintf(page_reply, prlen, "%s", s->text);
	if (j->urgency != PG_URG_ROUTINE) {
		*step = "LEVE";
		if (!command(s, "LEVE", "LEVE 0"))
			return T_DEAD;
		if (!optional_ok(s, "LEVE"))
			return T_REFUSED;
	}
	if (j->subject && *j->subject) {
		*step = "SUBJ";
		pg_text_oneline(subj, sizeof subj, j->subject, SIZE_MAX);
		if (*subj && !command(s, "SUBJ", "SUBJ %s", subj))
			return T_DEAD;
		if (*subj && !optional_ok(s, "SUBJ"))
			return T_REFUSED;
	}
	*step = "message text";
	if (!send_text(s, text))
		return T_DEAD;
	if (s->code / 100 != 2)
		return T_REFUSED;
	*step = "SEND";
	if (!command(s, "SEND", "SEND"))
		return T_DEAD;
	return s->code / 100 == 2 ? T_OK : T_REFUSED;
}

/* One page, sent once more cut shorter when the gateway refuses its text
 * as too long.  Returns false when the session cannot go on (dead, and
 * no new one could be opened). */
static bool
page(struct session *s, struct pg_job *j, const char *text)
{
	char page_reply[PG_REPLY_MAX / 2], *shorter = NULL, *cut;
	const char *step;
	bool started, retry, ok = true;
	size_t sent;

	for (;;) {
		switch (transaction(s, j, text, &step, &started, page_reply, sizeof page_reply)) {
		case T_OK:
			pg_job_set(j, PG_OUT_OK, "%s [%s]", s->text, page_reply);
			ok = !s->dead;
			goto out;
		case T_DEAD:
			pg_job_set(j, PG_OUT_TEMP, "%s: %s", step, s->why);
			ok = false;
			goto out;
		default:
			break;
		}
		retry = !shorter && (!strcmp(step, "message text") || !strcmp(step, "SEND")) &&
			too_long(s);
		if (s->code == 0)
			pg_job_set(j, PG_OUT_PERM, "%s", s->text);   /* local refusal */
		else if (s->code == 554 && !strcmp(step, "SEND") &&
			 strstr(s->text, "Failed to submit"))
			/* hfaxd's "554 Failed to submit message N: ...
			 * (scheduler NAK'd request)": its own queue refused the
			 * job, under load - nothing was queued and a later try
			 * may get through; a refusal of the page stays 5xx */
			pg_job_set(j, PG_OUT_TEMP, "%s refused: %s", step, s->text);
		else
			pg_job_set(j, outcome_of(s->code), "%s refused: %s", step, s->text);
		sent = pager_snpp_cost(text, strlen(text));
		cut = retry ? pager_text_fit(text, &(struct pager_limits){ .cost = pager_snpp_cost,
			.max_cost = pager_recut_limit(sent, s->text + 3), .ascii = s->gw->ascii },
			true) : NULL;
		if (s->dead) {
			ok = false;
			free(cut);
			goto out;
		}
		if (started && !reset(s)) {         /* clear the half-built page */
			pg_info("snpp %s: %s; opening a new session", s->gw->name, s->why);
			session_close(s, false);
			if (!session_open(s)) {
				free(cut);
				ok = false;
				goto out;
			}
		}
		if (!cut || !*cut) {
			free(cut);
			goto out;
		}
		pg_info("snpp %s: delivery %lld refused as too long (%zu bytes): sending it "
			"again cut to %zu", s->gw->name, (long long)j->delivery_id, sent,
			pager_snpp_cost(cut, strlen(cut)));
		text = shorter = cut;
	}
out:
	free(shorter);
	return ok;
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
	s.rd.fd = -1;
	if (!session_open(&s)) {
		if (!s.logi_refused)
			goto fail_rest;
		for (; i < n; i++)
			pg_job_set(&jobs[i], outcome_of(s.code), "LOGI refused: %s", s.text);
		goto quit;
	}
	for (; i < n; i++) {
		if (!page(&s, &jobs[i], texts[i])) {
			i++;
			goto fail_rest;
		}
	}
quit:
	session_close(&s, true);
	return;
fail_rest:
	pg_warn("snpp gateway %s (%s:%d): %s", gw->name, gw->host, gw->port, s.why);
	for (; i < n; i++)
		pg_job_set(&jobs[i], PG_OUT_TEMP, "not attempted: %s", s.why);
	session_close(&s, !s.dead && !s.logi_refused);
}
