/*
 * chan_email.c - the email channel: SMTP submission through libesmtp.
 *
 * One send() call is split into SMTP sessions of at most the gateway's
 * `batch` messages: one TCP connection (and one TLS handshake, one AUTH)
 * carries a whole batch, one message per job (one recipient each), each
 * built in full by pg_mime_build(): libesmtp only adds Date/From/Message-Id
 * when they are missing, and ours are always there.  Outcomes come from
 * libesmtp's per-message statuses: 2xx for MAIL, RCPT and the end of DATA
 * -> ok; any 5xx -> perm; 4xx or no status (connection lost, timeout) ->
 * temp.  The reply is the server's own line plus what the session was,
 * "250 2.0.0 Ok: queued as 4F1C (TLS, verified, authenticated)".
 *
 * Job by job (send_each): libesmtp is given one message at a time.  The
 * event that ends a message (SMTP_EV_MESSAGESENT after the reply to the
 * end of its DATA, or SMTP_EV_MAILSTATUS with MAIL refused) judges it and
 * reports it to the scheduler at once (ctl->done: recorded "sent" within
 * moments of the 250), then asks whether to go on (ctl->start) and adds
 * the next message; libesmtp looks for a next message only after that
 * event, so with none added it says QUIT.  That is how a session ends
 * early for an emergency or a stop, with the rest of the batch never
 * started (it stays queued).  Adding a message to a running session works
 * because smtp_add_message appends to the list libesmtp's engine walks
 * (headers are set up when DATA begins); the tests prove it every run.
 *
 * TLS: the driver gives libesmtp its own SSL_CTX (smtp_starttls_set_ctx,
 * built and cached by email_tls.c), so libesmtp never builds one from files
 * in the home directory.  It trusts the gateway's tls_ca file, else the
 * system's CA store, speaks TLS 1.2 (see email_tls.c for why not 1.3) and
 * has OpenSSL check that the certificate names gw->host (DNS name, or IP
 * address for an IP literal).  The handshake itself never fails on
 * verification: libesmtp hands OpenSSL's verdict to on_event(), which ends
 * the session for "required" and lets "opportunistic" go on encrypted,
 * recording the verdict for the reply.  The only file libesmtp may still
 * look at is an optional client certificate under ~/.config/libesmtp/
 * private/; none is normal.
 *
 * AUTH: credentials are only ever sent over TLS, unless the gateway says
 * starttls = "off" (the operator's explicit choice of a plaintext relay,
 * e.g. on loopback).  The SASL context is attached to the session when
 * STARTTLS succeeds, so with "opportunistic" and a server without STARTTLS
 * the message goes out unauthenticated and the server decides; with
 * "opportunistic" and an unverified certificate the password is safe from
 * eavesdroppers but not from an active impostor ("required" is).  A
 * refused AUTH (535 bad credentials) is the outcome, with the server's
 * reply, of every message the server then refuses: libesmtp goes on to
 * MAIL without AUTH, which the server refuses in other words (530).
 *
 * Threads: Debian's libesmtp is built with pthreads (its smtp_errno lives
 * in thread-specific data; the plugin list is behind its own mutex), so
 * sessions from several workers run concurrently; the TLS context cache
 * has its own mutex.  libesmtp's connect() has no timeout, so the gateway
 * is first probed with a non-blocking connect bounded by the gateway's
 * timeout; every later phase (TLS handshake included) uses
 * smtp_set_timeout().
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>      /* before libesmtp.h: declares smtp_starttls_set_ctx */
#include <openssl/x509v3.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "pagegate/channel.h"
#include "pagegate/log.h"
#include "pagegate/net.h"
#include "pagegate/mime.h"
#include "pagegate/util.h"
#include "email_priv.h"
#include "../drivers.h"

#define EMAIL_MAX_BATCH     50          /* most messages per send() */
#define MSG_MAX             (4u << 20)  /* one built message */
#define DEFAULT_TIMEOUT_S   30
#define MS_PER_S            1000
#define MSGID_RAND_BYTES    8
#define HOST_MAX            256
#define NOTE_MAX            256
#define MON_LINE_MAX        1024        /* longest server line looked at */

struct email_state {
	char host[HOST_MAX];        /* system host name, for Message-IDs */
	struct email_tls_cache *tls;    /* TLS contexts per host and CA file */
};

/* What one session learnt besides the per-message statuses. */
struct session_ctx {
	const struct pg_smtp_gateway *gw;
	smtp_session_t s;
	auth_context_t auth;        /* NULL without credentials */
	char note[NOTE_MAX];        /* why the session was ended early */
	char last_line[PG_REPLY_MAX];   /* last final reply line of the server */
	char line[MON_LINE_MAX];    /* server line being assembled */
	size_t line_len;
	bool tls;                   /* STARTTLS completed */
	bool verified;              /* ... and the certificate is valid for gw->host */
	char verify_err[EMAIL_VERIFY_MAX];    /* why it is not */
	bool envelope;              /* MAIL was written: no AUTH any more */
	bool auth_pending;          /* AUTH written, its final reply not read yet */
	bool auth_ok;               /* the server answered 235 */
	char auth_reply[PG_REPLY_MAX];  /* the server's refusal of AUTH */
	/* the session's jobs, fed to libesmtp one message at a time */
	struct pg_job *jobs;
	struct pg_buf *texts;       /* a job without text has its outcome */
	smtp_message_t *msgs;
	smtp_recipient_t *rcpts;
	size_t n, base;             /* jobs[0..n) are the send's base.. */
	size_t next;                /* the next job to start */
	size_t cur;                 /* the job on the wire */
	bool on_wire;               /* ... not reported yet */
	bool stopped;               /* ctl->start() refused job `next` */
	const struct pg_send_ctl *ctl;  /* NULL: plain send() */
};

/* "550 5.1.1 text" from a libesmtp status. */
static void
format_status(char *dst, const smtp_status_t *st)
{
	char text[PG_REPLY_MAX - 64];   /* room for the codes */

	pg_text_oneline(text, sizeof text, st->text ? st->text : "", SIZE_MAX);
	if (st->enh_class > 0)
		snprintf(dst, PG_REPLY_MAX, "%d %d.%d.%d%s%s", st->code,
			 st->enh_class, st->enh_subject, st->enh_detail,
			 *text ? " " : "", text);
	else
		snprintf(dst, PG_REPLY_MAX, "%d%s%s", st->code, *text ? " " : "", text);
}

/* Appends text to a job's reply, truncating at the reply's size. */
static void
append_reply(struct pg_job *j, const char *text)
{
	size_t l = strnlen(j->reply, sizeof j->reply - 1);

	snprintf(j->reply + l, sizeof j->reply - l, "%s", text);
}

/* ---- libesmtp callbacks ---- */

/* One complete line from the server (CR/LF removed). */
static void
server_line(struct session_ctx *c, const char *l, size_t len)
{
	int code;

	if (len < 3 || !isdigit((unsigned char)l[0]) || !isdigit((unsigned char)l[1]) ||
	    !isdigit((unsigned char)l[2]) || (len > 3 && l[3] != ' '))
		return;                         /* not the last line of a reply */
	pg_text_oneline(c->last_line, sizeof c->last_line, l, len);
	if (!c->auth_pending || l[0] == '3')    /* 334: a SASL challenge */
		return;
	c->auth_pending = false;
	if (l[0] == '2') {
		c->auth_ok = true;
		return;
	}
	snprintf(c->auth_reply, sizeof c->auth_reply, "%s", c->last_line);
	/* Bad credentials stay bad through the server's next mechanism:
	 * make every mechanism unacceptable so libesmtp does not offer the
	 * same password again (it goes on to MAIL, and judge() reports
	 * this refusal). */
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (c->auth && (code == 535 || code == 454))
		auth_set_mechanism_ssf(c->auth, INT_MAX);
}

/* libesmtp's protocol monitor.  Reading: assembles the server's lines
 * (chunks may split or join them) for the last reply and AUTH's verdict.
 * Writing: notes when AUTH is sent (it always starts a write, being never
 * pipelined) and when MAIL starts the envelope, after which the data
 * written is message text and never looked at. */
static void
on_monitor(const char *buf, int len, int writing, void *arg)
{
	struct session_ctx *c = arg;
	int i;

	if (len <= 0)
		return;
	if (writing == SMTP_CB_WRITING) {
		if (c->envelope)
			return;
		if (len >= 5 && strncasecmp(buf, "AUTH ", 5) == 0)
			c->auth_pending = true;
		else if (len >= 10 && strncasecmp(buf, "MAIL FROM:", 10) == 0)
			c->envelope = true;
		return;
	}
	if (writing != SMTP_CB_READING)
		return;
	for (i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			size_t l = c->line_len;
			if (l > 0 && c->line[l - 1] == '\r')
				l--;
			server_line(c, c->line, l);
			c->line_len = 0;
		} else if (c->line_len < sizeof c->line)
			c->line[c->line_len++] = buf[i];   /* the rest is dropped */
	}
}

static void judge(struct pg_job *j, smtp_message_t msg, smtp_recipient_t rcpt,
		  const struct session_ctx *c, const char *session_reason);
static void message_over(struct session_ctx *c, const char *reason);

/* libesmtp's event callback: the TLS verdict and missing extensions,
 * and the end of each message (MESSAGESENT after the reply to its DATA,
 * or MAILSTATUS with MAIL refused): its outcome is reported at once and
 * the next message fed in.
 * OpenSSL verified the chain against our CAs and the name against
 * gw->host during the handshake; libesmtp reports a bad verdict as
 * INVALID_PEER_CERTIFICATE and runs its own name match (DNS names only)
 * as WRONG_PEER_CERTIFICATE.  "required" ends the session on any
 * problem; "opportunistic" goes on encrypted and records it. */
static void
on_event(smtp_session_t s, int ev, void *arg, ...)
{
	struct session_ctx *c = arg;
	bool strict = c->gw->starttls == PG_TLS_REQUIRED;
	va_list ap;
	int *ok = NULL;
	long vr;
	SSL *ssl;
	smtp_message_t msg;
	const smtp_status_t *st;

	va_start(ap, arg);
	switch (ev) {
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		vr = va_arg(ap, long);
		ok = va_arg(ap, int *);
		snprintf(c->verify_err, sizeof c->verify_err, "%s",
			 X509_verify_cert_error_string(vr));
		*ok = !strict;
		if (strict)
			snprintf(c->note, sizeof c->note,
				 "TLS: the certificate of %.80s failed verification: %s",
				 c->gw->host, c->verify_err);
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		(void)va_arg(ap, const char *);
		ssl = va_arg(ap, SSL *);
		/* OpenSSL's match (which knows IP addresses) is the one that
		 * counts; it is part of the verify result */
		if (ssl && SSL_get_verify_result(ssl) == X509_V_OK)
			*ok = 1;
		else {
			*ok = !strict;
			if (!c->verify_err[0])
				snprintf(c->verify_err, sizeof c->verify_err,
					 "certificate not issued for %.60s", c->gw->host);
			if (strict)
				snprintf(c->note, sizeof c->note,
					 "TLS: the certificate is not valid for %.80s", c->gw->host);
		}
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		snprintf(c->verify_err, sizeof c->verify_err, "no certificate");
		*ok = !strict;
		if (strict)
			snprintf(c->note, sizeof c->note, "TLS: the server sent no certificate");
		break;
	case SMTP_EV_WEAK_CIPHER:
		(void)va_arg(ap, int);
		ok = va_arg(ap, int *);
		*ok = 0;                /* cannot happen with TLS 1.2 or later */
		snprintf(c->note, sizeof c->note, "TLS: weak cipher");
		break;
	case SMTP_EV_STARTTLS_OK:
		ssl = va_arg(ap, SSL *);
		c->tls = true;
		c->line_len = 0;        /* nothing read in clear counts now */
		c->verified = ssl && SSL_get_verify_result(ssl) == X509_V_OK &&
			      !c->verify_err[0];
		/* the connection is now encrypted: the password may go */
		if (c->auth && !smtp_auth_set_context(s, c->auth))
			pg_warn("smtp gateway %s: cannot enable AUTH", c->gw->name);
		break;
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 1;                /* go on without one */
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		snprintf(c->note, sizeof c->note,
			 "STARTTLS is required but the server does not offer it");
		break;
	case SMTP_EV_UNUSABLE_CA_LIST:
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
		snprintf(c->note, sizeof c->note,
			 "TLS: unusable client certificate file under ~/.config/libesmtp");
		break;
	case SMTP_EV_MAILSTATUS:
		(void)va_arg(ap, const char *);
		msg = va_arg(ap, smtp_message_t);
		st = msg ? smtp_reverse_path_status(msg) : NULL;
		if (st && st->code / 100 != 2)   /* no RCPT or DATA follows */
			message_over(c, "MAIL refused");
		break;
	case SMTP_EV_MESSAGESENT:
		message_over(c, "no reply to the message");
		break;
	default:
		break;
	}
	va_end(ap);
}

/* SASL: libesmtp asks for the user and password it needs.  Refuses
 * (belt and braces: the context is only attached when allowed) over a
 * plaintext connection unless the gateway says starttls = "off". */
static int
on_auth(auth_client_request_t req, char **result, int fields, void *arg)
{
	const struct session_ctx *c = arg;
	int i;

	if (!c->tls && c->gw->starttls != PG_TLS_OFF)
		return 0;
	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = c->gw->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = c->gw->password;
		else
			result[i] = NULL;
		if (!result[i])
			return 0;
	}
	return 1;
}

/* " (TLS, verified, authenticated)": what the session was, for the
 * ledger. */
static void
session_summary(const struct session_ctx *c, char *dst, size_t n)
{
	const struct pg_smtp_gateway *gw = c->gw;
	char tls[EMAIL_VERIFY_MAX + 32];
	const char *auth = "";

	if (!c->tls)
		snprintf(tls, sizeof tls, "no TLS");
	else if (c->verified)
		snprintf(tls, sizeof tls, "TLS, verified");
	else
		snprintf(tls, sizeof tls, "TLS, not verified: %s", c->verify_err);
	if (c->auth) {
		if (c->auth_ok)
			auth = ", authenticated";
		else if (c->auth_reply[0])
			auth = ", AUTH refused";
		else if (!c->tls && gw->starttls != PG_TLS_OFF)
			auth = ", AUTH withheld without TLS";
		else
			auth = ", server offered no AUTH";
	}
	snprintf(dst, n, " (%s%s)", tls, auth);
}

/* The final outcome of one message from libesmtp's statuses and what the
 * session learnt. */
static void
judge(struct pg_job *j, smtp_message_t msg, smtp_recipient_t rcpt,
      const struct session_ctx *c, const char *session_reason)
{
	const smtp_status_t *st[3] = {
		smtp_reverse_path_status(msg),     /* MAIL FROM */
		smtp_recipient_status(rcpt),       /* RCPT TO */
		smtp_message_transfer_status(msg), /* DATA ... "." */
	};
	char summary[NOTE_MAX];
	int i, cls = 0;

	session_summary(c, summary, sizeof summary);
	for (i = 0; i < 3; i++) {
		cls = st[i] ? st[i]->code / 100 : 0;
		if (cls != 2)
			break;
	}
	if (i == 3) {                   /* accepted, even if AUTH was refused */
		j->outcome = PG_OUT_OK;
		format_status(j->reply, st[2]);
		append_reply(j, summary);
		return;
	}
	if (c->auth_reply[0]) {         /* refused because AUTH was */
		pg_job_set(j, c->auth_reply[0] == '5' ? PG_OUT_PERM : PG_OUT_TEMP,
			"%s", c->auth_reply);
		append_reply(j, summary);
		return;
	}
	if (cls == 4 || cls == 5) {
		j->outcome = cls == 5 ? PG_OUT_PERM : PG_OUT_TEMP;
		format_status(j->reply, st[i]);
		append_reply(j, summary);
		return;
	}
	pg_job_set(j, PG_OUT_TEMP, "%s", session_reason);
}

static void
message_id(char *dst, size_t n, const struct pg_job *j, const char *host)
{
	unsigned char rnd[MSGID_RAND_BYTES];
	char hex[2 * MSGID_RAND_BYTES + 1];
	uint32_t a, b;
	size_t i;

	if (pg_random(rnd, sizeof rnd) != PG_OK) {
		a = pg_random_u32();
		b = (uint32_t)pg_mono_ms();
		memcpy(rnd, &a, 4);
		memcpy(rnd + 4, &b, 4);
	}
	for (i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(dst, n, "pg.%lld.%lld.%s@%s", (long long)j->message_id,
		 (long long)j->delivery_id, hex, host);
}

/* Job i of the session is over (its outcome set): tells the scheduler. */
static void
report(struct session_ctx *c, size_t i)
{
	if (c->ctl)
		c->ctl->done(c->ctl->arg, c->base + i);
}

/* Starts the session's next job (*i), unless none is left or the
 * scheduler says stop (c->stopped). */
static bool
start_next(struct session_ctx *c, size_t *i)
{
	if (c->next >= c->n || c->stopped)
		return false;
	if (c->ctl && !c->ctl->start(c->ctl->arg, c->base + c->next)) {
		c->stopped = true;
		return false;
	}
	*i = c->next++;
	return true;
}

/* Starts the session's next jobs: those decided already (no text) are
 * only reported; the first with a message is added to the session
 * (after the one on the wire, whose reply has been read).  Returns false
 * when no message was added. */
static bool
feed(struct session_ctx *c)
{
	const struct pg_smtp_gateway *gw = c->gw;
	char eb[128];
	size_t i;

	while (start_next(c, &i)) {
		if (!c->texts[i].data) {
			report(c, i);
			continue;
		}
		/* the recipient last: a message without one is skipped by
		 * libesmtp, one without text is never seen */
		if (!(c->msgs[i] = smtp_add_message(c->s)) ||
		    !smtp_set_reverse_path(c->msgs[i], gw->from) ||
		    !smtp_set_message_str(c->msgs[i], c->texts[i].data) ||
		    !(c->rcpts[i] = smtp_add_recipient(c->msgs[i], c->jobs[i].address))) {
			c->msgs[i] = NULL;
			pg_job_set(&c->jobs[i], PG_OUT_TEMP, "SMTP client error: %s",
				   smtp_strerror(smtp_errno(), eb, sizeof eb));
			report(c, i);
			continue;
		}
		c->cur = i;
		c->on_wire = true;
		return true;
	}
	return false;
}

/* The message on the wire got its last reply (or the session ended):
 * judges and reports it, then feeds the next one in, so that libesmtp,
 * which looks for a next message right after this event, goes on with it
 * or says QUIT. */
static void
message_over(struct session_ctx *c, const char *reason)
{
	if (!c->on_wire)
		return;
	c->on_wire = false;
	judge(&c->jobs[c->cur], c->msgs[c->cur], c->rcpts[c->cur], c, reason);
	report(c, c->cur);
	feed(c);
}

/* Fails every job not started yet with reason (each started first). */
static void
fail_rest(struct session_ctx *c, const char *reason)
{
	size_t i;

	while (start_next(c, &i)) {
		if (c->texts[i].data)
			pg_job_set(&c->jobs[i], PG_OUT_TEMP, "%s", reason);
		report(c, i);
	}
}

/* Runs one SMTP session for jobs[0..n) (jobs base.. of the send), whose
 * message text was built (texts[i].data set) or whose outcome is set,
 * one message at a time (see the top).  Returns how many jobs were
 * started; *stopped when ctl->start() refused the next one. */
static size_t
run_session(struct email_state *es, const struct pg_smtp_gateway *gw,
	    struct pg_job *jobs, size_t n, struct pg_buf *texts, size_t base,
	    const struct pg_send_ctl *ctl, bool *stopped)
{
	struct session_ctx ctx;
	smtp_session_t s = NULL;
	smtp_message_t *msgs = calloc(n, sizeof *msgs);
	smtp_recipient_t *rcpts = calloc(n, sizeof *rcpts);
	SSL_CTX *tls = NULL;
	char hostport[HOST_MAX + 16], reason[PG_REPLY_MAX] = "", eb[128];
	long tmo = (long)(gw->timeout_s > 0 ? gw->timeout_s : DEFAULT_TIMEOUT_S) * MS_PER_S;
	static const int phases[] = { Timeout_GREETING, Timeout_ENVELOPE,
		Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };
	size_t i;
	int ok, err;
	int64_t t0;

	memset(&ctx, 0, sizeof ctx);
	ctx.gw = gw;
	ctx.jobs = jobs;
	ctx.texts = texts;
	ctx.msgs = msgs;
	ctx.rcpts = rcpts;
	ctx.n = n;
	ctx.base = base;
	ctx.ctl = ctl;
	for (i = 0; i < n && !texts[i].data; i++)
		;
	if (i == n)                     /* nothing to send: only report */
		goto fail_all;
	if (!msgs || !rcpts) {
		snprintf(reason, sizeof reason, "out of memory");
		goto fail_all;
	}
	if (gw->starttls != PG_TLS_OFF && !(tls = email_tls_ctx(es ? es->tls : NULL, gw, reason, sizeof reason)))
		goto fail_all;
	if (!pg_tcp_probe(gw->host, gw->port, (int)tmo, reason, sizeof reason))
		goto fail_all;
	snprintf(hostport, sizeof hostport, "%s:%d", gw->host, gw->port);
	if (!(s = smtp_create_session()) || !smtp_set_server(s, hostport) ||
	    (gw->helo && !smtp_set_hostname(s, gw->helo)) ||
	    !smtp_set_eventcb(s, on_event, &ctx) ||
	    !smtp_set_monitorcb(s, on_monitor, &ctx, 0))
		goto lib_fail;
	ctx.s = s;
	for (i = 0; i < sizeof phases / sizeof phases[0]; i++)
		if (!smtp_set_timeout(s, phases[i] | Timeout_OVERRIDE_RFC2822_MINIMUM, tmo))
			goto lib_fail;
	if (!smtp_starttls_enable(s, gw->starttls == PG_TLS_REQUIRED ? Starttls_REQUIRED :
				  gw->starttls == PG_TLS_OPPORTUNISTIC ? Starttls_ENABLED :
				  Starttls_DISABLED) ||
	    (tls && !smtp_starttls_set_ctx(s, tls)))
		goto lib_fail;
	if (gw->user && gw->password) {
		/* PLAIN and LOGIN are fine: the channel is encrypted, or
		 * the operator chose starttls = "off" */
		if (!(ctx.auth = auth_create_context()) ||
		    !auth_set_mechanism_flags(ctx.auth, AUTH_PLUGIN_PLAIN, 0) ||
		    !auth_set_interact_cb(ctx.auth, on_auth, &ctx))
			goto lib_fail;
		/* over TLS it is attached by on_event(SMTP_EV_STARTTLS_OK) */
		if (gw->starttls == PG_TLS_OFF && !smtp_auth_set_context(s, ctx.auth))
			goto lib_fail;
	}
	if (!feed(&ctx))
		goto out;                       /* stopped, or nothing to send */

	t0 = pg_mono_ms();
	ok = smtp_start_session(s);
	err = smtp_errno();
	if (ctx.note[0])
		snprintf(reason, sizeof reason, "%s", ctx.note);
	else if (!ok && ctx.last_line[0] && ctx.last_line[0] != '2')
		snprintf(reason, sizeof reason, "%s", ctx.last_line);
	else
		snprintf(reason, sizeof reason, "SMTP session with %s failed: %s%s",
			 hostport, smtp_strerror(err, eb, sizeof eb),
			 err == SMTP_ERR_DROPPED_CONNECTION && pg_mono_ms() - t0 >= tmo ?
			 " or did not answer in time" : "");
	if (!ok || ctx.note[0])
		pg_warn("smtp gateway %s (%s): %s", gw->name, hostport, reason);
	if (ctx.auth_reply[0])
		pg_warn("smtp gateway %s (%s): AUTH refused: %s", gw->name, hostport,
			ctx.auth_reply);
	message_over(&ctx, reason);     /* the one the session ended on */
	fail_rest(&ctx, reason);        /* the session ended before them */
	goto out;

lib_fail:
	snprintf(reason, sizeof reason, "SMTP client error: %s",
		 smtp_strerror(smtp_errno(), eb, sizeof eb));
	pg_warn("smtp gateway %s: %s", gw->name, reason);
fail_all:
	fail_rest(&ctx, reason);
out:
	if (s)
		smtp_destroy_session(s);        /* drops its reference to tls */
	if (ctx.auth)
		auth_destroy_context(ctx.auth);
	SSL_CTX_free(tls);
	ERR_clear_error();                      /* leave this thread's queue clean */
	free(msgs);
	free(rcpts);
	*stopped = ctx.stopped;
	return ctx.next;
}

/* Fails every job with o and why, each started and reported first. */
static size_t
fail_jobs(struct pg_job *jobs, size_t n, const struct pg_send_ctl *ctl,
	  enum pg_outcome o, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		if (ctl && !ctl->start(ctl->arg, i))
			return i;
		pg_job_set(&jobs[i], o, "%s", why);
		if (ctl)
			ctl->done(ctl->arg, i);
	}
	return n;
}

/* send_each(): builds every message, then runs sessions of the gateway's
 * batch while the scheduler lets it go on. */
static size_t
email_send_each(void *state, const struct pg_config *cfg, const char *gateway,
		struct pg_job *jobs, size_t n, const struct pg_send_ctl *ctl)
{
	struct email_state *es = state;
	const struct pg_smtp_gateway *gw = email_gateway(cfg, gateway);
	struct pg_buf *texts;
	char host[HOST_MAX], mid[HOST_MAX + 64];
	struct pg_mail m;
	size_t i, per, done = 0;
	bool stopped = false;
	pg_err e;
	sigset_t pipe_set, old, pend;
	struct timespec zero = { 0, 0 };

	if (!gw) {
		snprintf(mid, sizeof mid, "smtp gateway \"%.200s\" is not configured",
			 gateway ? gateway : "(default)");
		return fail_jobs(jobs, n, ctl, PG_OUT_PERM, mid);
	}
	if (gw->helo)
		pg_strlcpy(host, gw->helo, sizeof host);
	else if (es && es->host[0])
		pg_strlcpy(host, es->host, sizeof host);
	else if (gethostname(host, sizeof host) != 0 || !host[0])
		pg_strlcpy(host, "localhost", sizeof host);
	host[sizeof host - 1] = '\0';

	if (!(texts = calloc(n, sizeof *texts)))
		return fail_jobs(jobs, n, ctl, PG_OUT_TEMP, "out of memory");
	for (i = 0; i < n; i++) {
		pg_buf_init(&texts[i], MSG_MAX);
		jobs[i].reply[0] = '\0';
		if (!pg_mime_addr_ok(jobs[i].address)) {
			pg_job_set(&jobs[i], PG_OUT_PERM, "invalid recipient address, not sent");
			continue;
		}
		message_id(mid, sizeof mid, &jobs[i], host);
		m = (struct pg_mail){ .from_addr = gw->from, .from_name = gw->from_name,
			.to_addr = jobs[i].address, .to_name = jobs[i].to_name,
			.subject = jobs[i].subject, .body = jobs[i].body,
			.message_id = mid, .date_ms = pg_now_ms(),
			.pg_message_id = jobs[i].message_id,
			.pg_delivery_id = jobs[i].delivery_id };
		if ((e = pg_mime_build(&texts[i], &m)) != PG_OK) {
			pg_buf_free(&texts[i]);
			pg_job_set(&jobs[i], e == PG_ERR_NOMEM ? PG_OUT_TEMP : PG_OUT_PERM,
				"cannot build the message: %s%s", pg_strerror(e),
				e == PG_ERR_INVAL ? " (bad sender address or host name)" : "");
			continue;
		}
	}

	/* a write to a connection the server closed raises SIGPIPE: keep it
	 * from this thread and discard it afterwards */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	per = gw->batch > 0 ? (size_t)gw->batch : 1;
	for (i = 0; i < n && !stopped; i += per)
		done = i + run_session(es, gw, jobs + i, n - i < per ? n - i : per,
				       texts + i, i, ctl, &stopped);
	if (!sigismember(&old, SIGPIPE) && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE))
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < n; i++)
		pg_buf_free(&texts[i]);
	free(texts);
	return done;
}

static void
email_send(void *state, const struct pg_config *cfg, const char *gateway,
	   struct pg_job *jobs, size_t n)
{
	(void)email_send_each(state, cfg, gateway, jobs, n, NULL);
}

static pg_err
email_start(const struct pg_config *cfg, const struct pg_chan_host *host,
	    void **state)
{
	struct email_state *es = calloc(1, sizeof *es);

	(void)cfg;
	(void)host;
	if (!es)
		return PG_ERR_NOMEM;
	if (!(es->tls = email_tls_cache_new())) {
		free(es);
		return PG_ERR_NOMEM;
	}
	if (gethostname(es->host, sizeof es->host) != 0)
		es->host[0] = '\0';
	es->host[sizeof es->host - 1] = '\0';
	/* libesmtp's own TLS context is never built (every session gets
	 * ours), but its password prompt is process-wide: silence it */
	smtp_starttls_set_password_cb(email_tls_no_password, NULL);
	auth_client_init();
	*state = es;
	return PG_OK;
}

static void
email_stop(void *state)
{
	struct email_state *es = state;

	auth_client_exit();
	if (!es)
		return;
	email_tls_cache_free(es->tls);
	free(es);
}

/* One SMTP session's worth: the gateway's batch. */
static size_t
email_batch_for(const struct pg_config *cfg, const char *gateway)
{
	const struct pg_smtp_gateway *g = email_gateway(cfg, gateway);

	return g && g->batch > 0 ? (size_t)g->batch : 0;
}

const struct pg_channel pg_chan_email = {
	.name = "email",
	.kind = PG_CH_EMAIL,
	.max_batch = EMAIL_MAX_BATCH,    /* split into sessions of the gateway's batch */
	.batch_for = email_batch_for,
	.subject_template = "email.subject",
	.body_template = "email.txt",
	.body_escape = PG_ESC_NONE,
	.config_keys = email_config_keys,      /* smtp = ( ... ); default_smtp */
	.config_parse = email_config_parse,
	.config_free = email_config_free,
	.config_tables = email_config_tables,
	.retry = { 30, 30 * 60, 24 * 3600 },   /* mail servers take their time */
	.device_check = email_device_check,    /* address, gateway */
	.start = email_start,
	.stop = email_stop,
	.send = email_send,
	.send_each = email_send_each,   /* a session ends early for an emergency */
};
