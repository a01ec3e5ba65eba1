/*
 * chan_email.c - the email channel: SMTP submission through libesmtp.
 *
 * One send() call is one SMTP session to one gateway, carrying one
 * message per job (one recipient each), built in full by pg_mime_build():
 * libesmtp only adds Date/From/Message-Id when they are missing, and ours
 * are always there.  Outcomes come from libesmtp's per-message statuses:
 * 2xx for MAIL, RCPT and the end of DATA -> ok; any 5xx -> perm; 4xx or no
 * status (connection lost, timeout) -> temp.  The reply is the server's
 * own line, "250 2.0.0 Ok: queued as 4F1C".
 *
 * Threads: Debian's libesmtp is built with pthreads (its smtp_errno lives
 * in thread-specific data; the plugin list and the TLS context are behind
 * its own mutexes), so sessions from several workers run concurrently and
 * this driver needs no lock.  libesmtp's connect() has no timeout, so the
 * gateway is first probed with a non-blocking connect bounded by the
 * gateway's timeout; every later phase uses smtp_set_timeout().
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "pagegate/channel.h"
#include "pagegate/log.h"
#include "pagegate/mime.h"
#include "pagegate/util.h"

#define EMAIL_MAX_BATCH     50          /* most messages per session */
#define MSG_MAX             (4u << 20)  /* one built message */
#define DEFAULT_TIMEOUT_S   30
#define MS_PER_S            1000
#define MSGID_RAND_BYTES    8
#define HOST_MAX            256
#define NOTE_MAX            160

struct email_state {
	char host[HOST_MAX];        /* system host name, for Message-IDs */
};

/* What one session learnt besides the per-message statuses. */
struct session_ctx {
	const struct pg_smtp_gateway *gw;
	char note[NOTE_MAX];        /* TLS / extension problem, if any */
	char last_line[PG_REPLY_MAX];   /* last line the server sent */
};

/* Copies src into dst (size n) with controls turned into single spaces
 * and the ends trimmed: server text is hostile until cleaned. */
static void
clean_text(char *dst, size_t n, const char *src, size_t len)
{
	size_t o = 0, i;
	bool space = true;              /* drops leading blanks */

	for (i = 0; i < len && src[i] && o + 1 < n; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space)
				dst[o++] = ' ';
			space = true;
			continue;
		}
		dst[o++] = (char)c;
		space = false;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* "550 5.1.1 text" from a libesmtp status. */
static void
format_status(char *dst, const smtp_status_t *st)
{
	char text[PG_REPLY_MAX - 64];   /* room for the codes */

	clean_text(text, sizeof text, st->text ? st->text : "", SIZE_MAX);
	if (st->enh_class > 0)
		snprintf(dst, PG_REPLY_MAX, "%d %d.%d.%d%s%s", st->code,
			 st->enh_class, st->enh_subject, st->enh_detail,
			 *text ? " " : "", text);
	else
		snprintf(dst, PG_REPLY_MAX, "%d%s%s", st->code, *text ? " " : "", text);
}

static void
set_job(struct pg_job *j, enum pg_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_job(struct pg_job *j, enum pg_outcome o, const char *fmt, ...)
{
	va_list ap;

	j->outcome = o;
	va_start(ap, fmt);
	vsnprintf(j->reply, sizeof j->reply, fmt, ap);
	va_end(ap);
}

/* libesmtp's protocol monitor: keeps the last line the server sent, so a
 * session refused at the greeting still has the server's words. */
static void
on_monitor(const char *buf, int len, int writing, void *arg)
{
	struct session_ctx *c = arg;
	int end, start;

	if (writing != SMTP_CB_READING || len <= 0)
		return;
	end = len;
	while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r'))
		end--;
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (end > start)
		clean_text(c->last_line, sizeof c->last_line, buf + start,
			   (size_t)(end - start));
}

/* libesmtp's event callback: TLS verdicts and missing extensions.  With
 * STARTTLS "required" certificate problems end the session; with
 * "opportunistic" encryption is still better than none, so they pass. */
static void
on_event(smtp_session_t s, int ev, void *arg, ...)
{
	struct session_ctx *c = arg;
	bool lenient = c->gw->starttls != PG_TLS_REQUIRED;
	va_list ap;
	int *ok = NULL;
	long vr;
	int bits;
	const char *name;

	(void)s;
	va_start(ap, arg);
	switch (ev) {
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		vr = va_arg(ap, long);
		ok = va_arg(ap, int *);
		snprintf(c->note, sizeof c->note, "TLS: invalid server certificate (%s)",
			 X509_verify_cert_error_string(vr));
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		snprintf(c->note, sizeof c->note, "TLS: the server sent no certificate");
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		name = va_arg(ap, const char *);
		snprintf(c->note, sizeof c->note,
			 "TLS: server certificate is for \"%.60s\", not %.60s",
			 name ? name : "", c->gw->host);
		break;
	case SMTP_EV_WEAK_CIPHER:
		bits = va_arg(ap, int);
		ok = va_arg(ap, int *);
		snprintf(c->note, sizeof c->note, "TLS: weak cipher (%d bits)", bits);
		break;
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 1;                        /* go on without one */
		ok = NULL;
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		snprintf(c->note, sizeof c->note,
			 "STARTTLS is required but the server does not offer it");
		break;
	case SMTP_EV_UNUSABLE_CA_LIST:
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
		snprintf(c->note, sizeof c->note, "TLS: unusable local certificate files");
		break;
	default:
		break;
	}
	if (ok)
		*ok = lenient ? 1 : 0;
	va_end(ap);
}

/* SASL: libesmtp asks for the user and password it needs. */
static int
on_auth(auth_client_request_t req, char **result, int fields, void *arg)
{
	const struct pg_smtp_gateway *gw = arg;
	int i;

	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = gw->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = gw->password;
		else
			result[i] = NULL;
		if (!result[i])
			return 0;
	}
	return 1;
}

/* Checks that host:port accepts a TCP connection within timeout_ms (the
 * connect() inside libesmtp has no timeout of its own).  On failure
 * writes the reason into why. */
static bool
probe(const char *host, int port, int timeout_ms, char *why, size_t wlen)
{
	struct addrinfo hints, *res, *ai;
	char ports[16], eb[128];
	int err, fd, soerr = ETIMEDOUT, r;
	socklen_t sl;
	int64_t deadline = pg_mono_ms() + timeout_ms, left;
	struct pollfd pfd;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ports, sizeof ports, "%d", port);
	if ((err = getaddrinfo(host, ports, &hints, &res)) != 0) {
		snprintf(why, wlen, "cannot resolve %s: %s", host, gai_strerror(err));
		return false;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			soerr = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			goto ok;
		if (errno != EINPROGRESS) {
			soerr = errno;
			close(fd);
			continue;
		}
		do {
			left = deadline - pg_mono_ms();
			pfd.fd = fd;
			pfd.events = POLLOUT;
			r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		} while (r < 0 && errno == EINTR);
		if (r <= 0) {
			soerr = r == 0 ? ETIMEDOUT : errno;
			close(fd);
			continue;
		}
		sl = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
			goto ok;
		close(fd);
	}
	freeaddrinfo(res);
	snprintf(why, wlen, "connect to %s:%d: %s", host, port,
		 strerror_r(soerr, eb, sizeof eb));
	return false;
ok:
	close(fd);
	freeaddrinfo(res);
	return true;
}

/* The final outcome of one message from libesmtp's statuses. */
static void
judge(struct pg_job *j, smtp_message_t msg, smtp_recipient_t rcpt,
      const char *session_reason)
{
	const smtp_status_t *st[3] = {
		smtp_reverse_path_status(msg),     /* MAIL FROM */
		smtp_recipient_status(rcpt),       /* RCPT TO */
		smtp_message_transfer_status(msg), /* DATA ... "." */
	};
	int i, cls;

	for (i = 0; i < 3; i++) {
		cls = st[i] ? st[i]->code / 100 : 0;
		if (cls == 4 || cls == 5) {
			j->outcome = cls == 5 ? PG_OUT_PERM : PG_OUT_TEMP;
			format_status(j->reply, st[i]);
			return;
		}
		if (cls != 2)
			break;
	}
	if (i == 3) {
		j->outcome = PG_OUT_OK;
		format_status(j->reply, st[2]);
		return;
	}
	set_job(j, PG_OUT_TEMP, "%s", session_reason);
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

/* Runs one SMTP session for the jobs whose message text was built
 * (texts[i].data set); the others already have their outcome. */
static void
run_session(const struct pg_smtp_gateway *gw, struct pg_job *jobs, size_t n,
	    struct pg_buf *texts)
{
	struct session_ctx ctx;
	smtp_session_t s = NULL;
	smtp_message_t *msgs = calloc(n, sizeof *msgs);
	smtp_recipient_t *rcpts = calloc(n, sizeof *rcpts);
	auth_context_t auth = NULL;
	char hostport[HOST_MAX + 16], reason[PG_REPLY_MAX], eb[128];
	long tmo = (long)(gw->timeout_s > 0 ? gw->timeout_s : DEFAULT_TIMEOUT_S) * MS_PER_S;
	static const int phases[] = { Timeout_GREETING, Timeout_ENVELOPE,
		Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };
	size_t i;
	int ok, err;
	int64_t t0;

	for (i = 0; i < n && !texts[i].data; i++)
		;
	if (i == n)
		goto out;                       /* nothing to send here */
	memset(&ctx, 0, sizeof ctx);
	ctx.gw = gw;
	if (!msgs || !rcpts) {
		snprintf(reason, sizeof reason, "out of memory");
		goto fail_all;
	}
	if (!probe(gw->host, gw->port, (int)tmo, reason, sizeof reason))
		goto fail_all;
	snprintf(hostport, sizeof hostport, "%s:%d", gw->host, gw->port);
	if (!(s = smtp_create_session()) || !smtp_set_server(s, hostport) ||
	    (gw->helo && !smtp_set_hostname(s, gw->helo)) ||
	    !smtp_set_eventcb(s, on_event, &ctx) ||
	    !smtp_set_monitorcb(s, on_monitor, &ctx, 0))
		goto lib_fail;
	for (i = 0; i < sizeof phases / sizeof phases[0]; i++)
		if (!smtp_set_timeout(s, phases[i] | Timeout_OVERRIDE_RFC2822_MINIMUM, tmo))
			goto lib_fail;
	if (!smtp_starttls_enable(s, gw->starttls == PG_TLS_REQUIRED ? Starttls_REQUIRED :
				  gw->starttls == PG_TLS_OPPORTUNISTIC ? Starttls_ENABLED :
				  Starttls_DISABLED))
		goto lib_fail;
	if (gw->user && gw->password) {
		if (!(auth = auth_create_context()) ||
		    !auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0) ||
		    !auth_set_interact_cb(auth, on_auth, (void *)gw) ||
		    !smtp_auth_set_context(s, auth))
			goto lib_fail;
	}
	for (i = 0; i < n; i++) {
		if (!texts[i].data)
			continue;
		if (!(msgs[i] = smtp_add_message(s)) ||
		    !smtp_set_reverse_path(msgs[i], gw->from) ||
		    !(rcpts[i] = smtp_add_recipient(msgs[i], jobs[i].address)) ||
		    !smtp_set_message_str(msgs[i], texts[i].data))
			goto lib_fail;
	}

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
	if (!ok)
		pg_warn("smtp gateway %s (%s): %s", gw->name, hostport, reason);
	for (i = 0; i < n; i++)
		if (msgs[i])
			judge(&jobs[i], msgs[i], rcpts[i], reason);
	goto out;

lib_fail:
	snprintf(reason, sizeof reason, "SMTP client error: %s",
		 smtp_strerror(smtp_errno(), eb, sizeof eb));
	pg_warn("smtp gateway %s: %s", gw->name, reason);
fail_all:
	for (i = 0; i < n; i++)
		if (texts[i].data)
			set_job(&jobs[i], PG_OUT_TEMP, "%s", reason);
out:
	if (s)
		smtp_destroy_session(s);
	if (auth)
		auth_destroy_context(auth);
	free(msgs);
	free(rcpts);
}

static void
email_send(void *state, const struct pg_config *cfg, const char *gateway,
	   struct pg_job *jobs, size_t n)
{
	struct email_state *es = state;
	const struct pg_smtp_gateway *gw = pg_config_smtp(cfg, gateway);
	struct pg_buf *texts;
	char host[HOST_MAX], mid[HOST_MAX + 64];
	struct pg_mail m;
	size_t i, per, live = 0;
	pg_err e;
	sigset_t pipe_set, old, pend;
	struct timespec zero = { 0, 0 };

	if (!gw) {
		for (i = 0; i < n; i++)
			set_job(&jobs[i], PG_OUT_PERM, "smtp gateway \"%s\" is not configured",
				gateway ? gateway : "(default)");
		return;
	}
	if (gw->helo)
		pg_strlcpy(host, gw->helo, sizeof host);
	else if (es && es->host[0])
		pg_strlcpy(host, es->host, sizeof host);
	else if (gethostname(host, sizeof host) != 0 || !host[0])
		pg_strlcpy(host, "localhost", sizeof host);
	host[sizeof host - 1] = '\0';

	if (!(texts = calloc(n, sizeof *texts))) {
		for (i = 0; i < n; i++)
			set_job(&jobs[i], PG_OUT_TEMP, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		pg_buf_init(&texts[i], MSG_MAX);
		jobs[i].reply[0] = '\0';
		if (!pg_mime_addr_ok(jobs[i].address)) {
			set_job(&jobs[i], PG_OUT_PERM, "invalid recipient address, not sent");
			continue;
		}
		message_id(mid, sizeof mid, &jobs[i], host);
		memset(&m, 0, sizeof m);
		m.from_addr = gw->from;
		m.from_name = gw->from_name;
		m.to_addr = jobs[i].address;
		m.to_name = jobs[i].to_name;
		m.subject = jobs[i].subject;
		m.body = jobs[i].body;
		m.message_id = mid;
		m.date_ms = pg_now_ms();
		m.pg_message_id = jobs[i].message_id;
		m.pg_delivery_id = jobs[i].delivery_id;
		if ((e = pg_mime_build(&texts[i], &m)) != PG_OK) {
			pg_buf_free(&texts[i]);
			set_job(&jobs[i], e == PG_ERR_NOMEM ? PG_OUT_TEMP : PG_OUT_PERM,
				"cannot build the message: %s%s", pg_strerror(e),
				e == PG_ERR_INVAL ? " (bad sender address or host name)" : "");
			continue;
		}
		live++;
	}

	if (live > 0) {
		/* a write to a connection the server closed raises SIGPIPE:
		 * keep it from this thread and discard it afterwards */
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
		per = gw->batch > 0 ? (size_t)gw->batch : 1;
		for (i = 0; i < n; i += per)
			run_session(gw, jobs + i, n - i < per ? n - i : per, texts + i);
		if (!sigismember(&old, SIGPIPE) && sigpending(&pend) == 0 &&
		    sigismember(&pend, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	for (i = 0; i < n; i++)
		pg_buf_free(&texts[i]);
	free(texts);
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
	if (gethostname(es->host, sizeof es->host) != 0)
		es->host[0] = '\0';
	es->host[sizeof es->host - 1] = '\0';
	auth_client_init();
	*state = es;
	return PG_OK;
}

static void
email_stop(void *state)
{
	auth_client_exit();
	free(state);
}

const struct pg_channel pg_chan_email = {
	.name = "email",
	.kind = PG_CH_EMAIL,
	.max_batch = EMAIL_MAX_BATCH,    /* further capped by the gateway's batch */
	.subject_template = "email.subject",
	.body_template = "email.txt",
	.body_escape = PG_ESC_NONE,
	/* the "smtp" gateways are part of the daemon file (config.c) */
	.start = email_start,
	.stop = email_stop,
	.send = email_send,
};
