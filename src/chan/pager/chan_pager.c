/*
 * chan_pager.c - the pager channel: paging gateways of three kinds, named
 * in the "pager" section of pagegate.conf (pager_config.c), each device
 * naming its gateway and PIN.
 *
 *   snpp  RFC 1861 level 2 over TCP (pager_snpp.c)
 *   wctp  WCTP 1.3 enterprise mode over HTTP(S) (pager_wctp.c)
 *   tap   TAP/IXO over a serial line or modem (pager_tap.c)
 *
 * send() prepares every job's text (templates/pager.txt rendered, then
 * squeezed; ASCII for TAP and for gateways with ascii = true, through the
 * driver's one ICU transliterator; one line for TAP), cuts it to fit the
 * device's max_length (characters) and the gateway's max_length in the
 * gateway's unit (SNPP: bytes on the wire, pager_snpp_cost; WCTP, TAP:
 * characters), and hands the batch to the gateway's protocol, which cuts
 * a page shorter once if the gateway still refuses it as too long.  Pages
 * to one TAP device are serialised.
 *
 * WCTP message tracking: a thread started by start() polls every WCTP
 * gateway with poll > 0 (wctp-PollForMessages), and with push = true the
 * carrier may POST the same operations to /cb/pager/wctp/<did>/<token>
 * (http()).  A wctp-StatusInfo becomes a receipt (DELIVERED/READ ->
 * delivered, wctp-Failure -> failed); a wctp-MessageReply an inbound
 * reply from the pager's PIN, which the core turns into an acknowledgement
 * ("ok", "ack 482913") or a reply for the operators.  The poller works on
 * copies of the gateways, refreshed by every send() (configuration
 * reloads) and bounded by the gateway's timeout; stop() cuts a poll short.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "pagegate/log.h"
#include "pager_priv.h"
#include "../drivers.h"

#define PAGER_MAX_BATCH   20
#define MS_PER_S          1000
#define SENT_RING         512         /* recent WCTP pages: did -> PIN */
#define TAP_LOCKS         16
#define POLL_RETRY_MAX_S  600         /* back-off cap after poll errors */
#define POLL_REFUSED_S    3600        /* after a permanent poll refusal */
#define IDLE_WAIT_MS      60000
#define URL_MAX           1024

struct poll_gw {
	struct pager_gw gw;               /* own copy */
	int64_t next_ms;                  /* monotonic */
	int backoff_s;
	long acks[PAGER_WCTP_POLL_BATCH];  /* received, to acknowledge */
	size_t n_acks;
	bool busy;                        /* being polled right now */
};

struct sent {
	int64_t did;
	char pin[72];
};

struct pager_state {
	const struct pg_chan_host *host;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic bool stopping;
	bool thread_started;
	pthread_t thread;
	struct poll_gw *polls;
	size_t n_polls;
	struct sent sent[SENT_RING];
	size_t sent_pos;
	struct { char *device; pthread_mutex_t mu; } tap[TAP_LOCKS];
	size_t n_tap;
	pthread_mutex_t tap_spare;        /* for devices past TAP_LOCKS */
	struct pg_translit *tr;           /* ASCII for 7-bit gateways; NULL when
					     ICU could not make one at start */
};

/* ---- WCTP tracking: did -> PIN of recent pages ---- */

static void
remember(struct pager_state *st, int64_t did, const char *pin)
{
	pthread_mutex_lock(&st->mu);
	st->sent[st->sent_pos].did = did;
	pg_strlcpy(st->sent[st->sent_pos].pin, pin, sizeof st->sent[0].pin);
	st->sent_pos = (st->sent_pos + 1) % SENT_RING;
	pthread_mutex_unlock(&st->mu);
}

static bool
recall(struct pager_state *st, int64_t did, char *pin, size_t n)
{
	bool found = false;

	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < SENT_RING && did > 0; i++)
		if (st->sent[i].did == did) {
			pg_strlcpy(pin, st->sent[i].pin, n);
			found = true;
			break;
		}
	pthread_mutex_unlock(&st->mu);
	return found;
}

/* True for host errors worth trying again (the carrier then delivers the
 * operation again); anything else is final and the operation is dropped. */
static bool
transient(pg_err e)
{
	return e == PG_ERR_NOMEM || e == PG_ERR_IO || e == PG_ERR_FULL ||
	       e == PG_ERR_STORE || e == PG_ERR_TEMPFAIL || e == PG_ERR_SHUTDOWN;
}

/* Records one carried WCTP operation through the host.  Returns false
 * only when it should come again (a transient store problem). */
static bool
on_wctp_event(void *arg, const struct pager_wctp_ev *ev)
{
	struct pager_state *st = arg;
	char pin[72];
	const char *from;
	pg_err e;

	if (ev->type == PAGER_WCTP_STATUS) {
		if (ev->state == PG_D_SENT || ev->did <= 0)
			return true;                /* QUEUED, or not one of ours */
		e = st->host->receipt(st->host->ctx, ev->did, ev->state, ev->detail);
		if (e && e != PG_ERR_NOTFOUND)
			pg_warn("wctp receipt for delivery %lld: %s", (long long)ev->did,
				pg_strerror(e));
		return !transient(e);
	}
	from = recall(st, ev->did, pin, sizeof pin) ? pin : ev->from;
	if (!from[0] || !ev->text[0]) {
		pg_info("wctp reply without sender or text ignored (delivery %lld)",
			(long long)ev->did);
		return true;
	}
	e = st->host->inbound(st->host->ctx, PG_CH_PAGER, from, ev->text);
	if (e == PG_ERR_NOTFOUND)
		pg_info("wctp reply from unknown pager %s ignored", from);
	else if (e)
		pg_warn("wctp reply from %s: %s", from, pg_strerror(e));
	return !transient(e);
}

/* ---- WCTP poller ---- */

static bool
same_poll_gw(const struct pager_gw *a, const struct pager_gw *b)
{
#define SAME(f) ((a->f == NULL && b->f == NULL) || \
		 (a->f && b->f && strcmp(a->f, b->f) == 0))
	return SAME(name) && SAME(url) && SAME(sender_id) && SAME(security_code) &&
	       SAME(poller_id) && SAME(ca_file) && a->poll_s == b->poll_s &&
	       a->timeout_s == b->timeout_s;
#undef SAME
}

/* True for the gateways the poller handles. */
static bool
polled(const struct pager_gw *g)
{
	return g->kind == PAGER_WCTP && g->poll_s > 0;
}

/* Brings the poller's gateway copies in line with pc (same gateways in
 * the same order, or rebuilt keeping pending acknowledgements by name).
 * Skipped while a poll is under way; the next send() tries again. */
static void
refresh_polls(struct pager_state *st, const struct pager_cfg *pc)
{
	size_t i, j, want = 0;
	struct poll_gw *nv;
	bool same = true;

	for (i = 0; pc && i < pc->n; i++)
		if (polled(&pc->gw[i]))
			want++;
	pthread_mutex_lock(&st->mu);
	for (i = 0; i < st->n_polls; i++)
		if (st->polls[i].busy)
			goto out;
	same = want == st->n_polls;
	for (i = 0, j = 0; same && pc && i < pc->n; i++)
		if (polled(&pc->gw[i]))
			same = same_poll_gw(&st->polls[j++].gw, &pc->gw[i]);
	if (same || !(nv = calloc(want ? want : 1, sizeof *nv)))
		goto out;
	for (i = 0, j = 0; pc && i < pc->n; i++) {
		if (!polled(&pc->gw[i]) || pager_gw_copy(&nv[j].gw, &pc->gw[i]) != PG_OK)
			continue;
		for (size_t k = 0; k < st->n_polls; k++)
			if (!strcmp(st->polls[k].gw.name, nv[j].gw.name)) {
				memcpy(nv[j].acks, st->polls[k].acks, sizeof nv[j].acks);
				nv[j].n_acks = st->polls[k].n_acks;
				break;
			}
		nv[j].next_ms = pg_mono_ms();
		j++;
	}
	for (i = 0; i < st->n_polls; i++)
		pager_gw_clear(&st->polls[i].gw);
	free(st->polls);
	st->polls = nv;
	st->n_polls = j;
	pthread_cond_broadcast(&st->cv);
out:
	pthread_mutex_unlock(&st->mu);
}

/* One poll of p (called without the lock; p->busy keeps it in place). */
static void
poll_once(struct pager_state *st, struct poll_gw *p, void *curl)
{
	struct pg_buf xml, resp;
	long seqs[PAGER_WCTP_POLL_BATCH], status;
	size_t n_seqs = 0, sent_acks;
	int next_s = 0, wait_s;
	char why[PG_REPLY_MAX];
	pg_err e;

	pg_buf_init(&xml, 64 * 1024);
	pg_buf_init(&resp, PAGER_WCTP_RESP_MAX);
	pthread_mutex_lock(&st->mu);
	sent_acks = p->n_acks;
	e = pager_wctp_build_poll(&p->gw, p->acks, p->n_acks, &xml);
	pthread_mutex_unlock(&st->mu);
	if (!e)
		e = pager_wctp_post(curl, &p->gw, xml.data, xml.len, &resp, &status,
				    &st->stopping, why, sizeof why);
	else
		snprintf(why, sizeof why, "cannot build the poll: %s", pg_strerror(e));
	if (!e && (status < 200 || status >= 300)) {
		snprintf(why, sizeof why, "HTTP %ld", status);
		e = PG_ERR_TEMPFAIL;
	}
	if (!e)
		e = pager_wctp_parse_poll(resp.data, resp.len, on_wctp_event, st, seqs,
					  PAGER_WCTP_POLL_BATCH, &n_seqs, &next_s, why,
					  sizeof why);
	pthread_mutex_lock(&st->mu);
	if (!e) {
		/* the acknowledged ones are done; the new ones go next time */
		memmove(p->acks, p->acks + sent_acks, (p->n_acks - sent_acks) * sizeof *p->acks);
		p->n_acks -= sent_acks;
		for (size_t i = 0; i < n_seqs && p->n_acks < PAGER_WCTP_POLL_BATCH; i++)
			p->acks[p->n_acks++] = seqs[i];
		p->backoff_s = 0;
		wait_s = next_s > p->gw.poll_s ? next_s : p->gw.poll_s;
		if (n_seqs > 0)
			wait_s = 0;                 /* more may be waiting; ack promptly */
	} else if (e == PG_ERR_PERMFAIL) {
		pg_warn("wctp gateway %s: %s; polling again in %d s", p->gw.name, why,
			POLL_REFUSED_S);
		wait_s = POLL_REFUSED_S;
	} else {
		p->backoff_s = p->backoff_s ? p->backoff_s * 2 : p->gw.poll_s;
		if (p->backoff_s > POLL_RETRY_MAX_S)
			p->backoff_s = POLL_RETRY_MAX_S;
		wait_s = p->backoff_s;
		if (!st->stopping)
			pg_warn("wctp gateway %s: poll failed: %s", p->gw.name, why);
	}
	p->next_ms = pg_mono_ms() + (int64_t)wait_s * MS_PER_S;
	p->busy = false;
	pthread_mutex_unlock(&st->mu);
	pg_buf_free(&xml);
	pg_buf_free(&resp);
}

static void *
poller(void *arg)
{
	struct pager_state *st = arg;
	CURL *curl = curl_easy_init();
	struct poll_gw *due;
	int64_t now, first;
	size_t i;

	if (!curl) {
		pg_error("wctp poller: no HTTP client");
		return NULL;
	}
	pthread_mutex_lock(&st->mu);
	while (!st->stopping) {
		now = pg_mono_ms();
		due = NULL;
		first = now + IDLE_WAIT_MS;
		for (i = 0; i < st->n_polls; i++) {
			if (st->polls[i].next_ms <= now) {
				due = &st->polls[i];
				break;
			}
			if (st->polls[i].next_ms < first)
				first = st->polls[i].next_ms;
		}
		if (due) {
			due->busy = true;
			pthread_mutex_unlock(&st->mu);
			poll_once(st, due, curl);
			pthread_mutex_lock(&st->mu);
			continue;
		}
		pg_cond_wait_ms(&st->cv, &st->mu, first - now);
	}
	pthread_mutex_unlock(&st->mu);
	curl_easy_cleanup(curl);
	return NULL;
}

/* ---- sending ---- */

/* The lock serialising pages to one TAP device. */
static pthread_mutex_t *
tap_lock(struct pager_state *st, const char *device)
{
	pthread_mutex_t *m = &st->tap_spare;
	size_t i;

	pthread_mutex_lock(&st->mu);
	for (i = 0; i < st->n_tap; i++)
		if (!strcmp(st->tap[i].device, device)) {
			m = &st->tap[i].mu;
			goto out;
		}
	if (st->n_tap < TAP_LOCKS && (st->tap[st->n_tap].device = strdup(device))) {
		pthread_mutex_init(&st->tap[st->n_tap].mu, NULL);
		m = &st->tap[st->n_tap++].mu;
	}
out:
	pthread_mutex_unlock(&st->mu);
	return m;
}

/* public_url/cb/pager/wctp/<did>/<token> for a pushed reply, or NULL. */
static char *
reply_url(struct pager_state *st, const struct pg_config *cfg, int64_t did)
{
	char tok[PG_TOKEN_LEN], *u;
	size_t n;

	if (!st || !cfg->public_url || !st->host->callback_token)
		return NULL;
	st->host->callback_token(st->host->ctx, did, tok);
	n = strlen(cfg->public_url);
	while (n > 0 && cfg->public_url[n - 1] == '/')
		n--;
	if (!(u = malloc(URL_MAX)))
		return NULL;
	snprintf(u, URL_MAX, "%.*s/cb/pager/wctp/%lld/%s", (int)n, cfg->public_url,
		 (long long)did, tok);
	return u;
}

static void
dispatch(struct pager_state *st, const struct pg_config *cfg, const struct pager_gw *gw,
	 struct pg_job *jobs, char **texts, size_t n)
{
	pthread_mutex_t *m;
	char **urls;
	size_t i;

	switch (gw->kind) {
	case PAGER_SNPP:
		pager_snpp_send(gw, jobs, texts, n);
		break;
	case PAGER_WCTP:
		urls = gw->push ? calloc(n, sizeof *urls) : NULL;
		for (i = 0; urls && i < n; i++)
			urls[i] = reply_url(st, cfg, jobs[i].delivery_id);
		pager_wctp_send(gw, jobs, texts, n, (const char *const *)urls);
		for (i = 0; i < n; i++) {
			if (urls)
				free(urls[i]);
			if (st && jobs[i].outcome == PG_OUT_OK)
				remember(st, jobs[i].delivery_id, jobs[i].address);
		}
		free(urls);
		break;
	case PAGER_TAP:
		m = st ? tap_lock(st, gw->device) : NULL;
		if (m)
			pthread_mutex_lock(m);
		pager_tap_send(gw, jobs, texts, n);
		if (m)
			pthread_mutex_unlock(m);
		break;
	default:
		for (i = 0; i < n; i++)
			pg_job_set(&jobs[i], PG_OUT_PERM, "unknown pager gateway kind");
	}
}

static void
pager_send(void *state, const struct pg_config *cfg, const char *gateway,
	   struct pg_job *jobs, size_t n)
{
	struct pager_state *st = state;
	const struct pager_cfg *pc = cfg->chan_cfg[PG_CH_PAGER];
	const struct pager_gw *gw = pager_gw_find(pc, gateway);
	struct pg_job *live = NULL;
	char **texts = NULL;
	size_t *from = NULL, i, nl = 0;
	struct pg_translit *tr, *own_tr = NULL;
	unsigned flags;
	bool ascii;
	pg_err e;
	sigset_t pipe_set, old, pend;
	struct timespec zero = { 0, 0 };

	if (st)
		refresh_polls(st, pc);
	if (!gw) {
		for (i = 0; i < n; i++)
			pg_job_set(&jobs[i], PG_OUT_PERM, "pager gateway \"%s\" is not "
				      "configured", gateway ? gateway : "(default)");
		return;
	}
	if (!(live = calloc(n, sizeof *live)) || !(texts = calloc(n, sizeof *texts)) ||
	    !(from = calloc(n, sizeof *from))) {
		for (i = 0; i < n; i++)
			pg_job_set(&jobs[i], PG_OUT_TEMP, "out of memory");
		goto out;
	}
	ascii = gw->ascii || gw->kind == PAGER_TAP;
	flags = (ascii ? PAGER_TEXT_ASCII : 0) | (gw->kind == PAGER_TAP ? PAGER_TEXT_ONE_LINE : 0);
	tr = st ? st->tr : NULL;
	if (ascii && !tr && (e = pg_translit_new(&own_tr)) != PG_OK) {
		for (i = 0; i < n; i++)
			pg_job_set(&jobs[i], PG_OUT_TEMP, "cannot transliterate to ASCII: %s",
				   pg_strerror(e));
		goto out;
	}
	if (!tr)
		tr = own_tr;
	for (i = 0; i < n; i++) {
		struct pager_limits lim = {
			.max_chars = pager_maxlen(gw, jobs[i].device),
			.cost = gw->kind == PAGER_SNPP ? pager_snpp_cost : NULL,
			.max_cost = gw->max_length > 0 ? (size_t)gw->max_length : 0,
			.ascii = ascii,
		};
		char *full = NULL;

		jobs[i].reply[0] = '\0';
		if (!pager_pin_ok(gw->kind, jobs[i].address)) {
			pg_job_set(&jobs[i], PG_OUT_PERM, "invalid pager PIN, not sent");
			continue;
		}
		e = pager_text_prepare(jobs[i].body, flags, tr, &full);
		texts[nl] = e ? NULL : pager_text_fit(full, &lim, false);
		free(full);
		if (!texts[nl]) {
			if (e && e != PG_ERR_NOMEM)
				pg_job_set(&jobs[i], PG_OUT_PERM, "page text cannot be prepared: %s",
					   pg_strerror(e));
			else
				pg_job_set(&jobs[i], PG_OUT_TEMP, "out of memory");
			continue;
		}
		if (!texts[nl][0]) {
			free(texts[nl]);
			texts[nl] = NULL;
			pg_job_set(&jobs[i], PG_OUT_PERM, "empty page text, not sent");
			continue;
		}
		live[nl] = jobs[i];
		live[nl].outcome = PG_OUT_TEMP;
		from[nl++] = i;
	}
	if (nl > 0) {
		/* a write to a connection the peer closed raises SIGPIPE in
		 * libraries that do not ask for MSG_NOSIGNAL: keep it from this
		 * thread and discard it afterwards */
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
		dispatch(st, cfg, gw, live, texts, nl);
		if (!sigismember(&old, SIGPIPE) && sigpending(&pend) == 0 &&
		    sigismember(&pend, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	for (i = 0; i < nl; i++) {
		jobs[from[i]].outcome = live[i].outcome;
		memcpy(jobs[from[i]].reply, live[i].reply, sizeof jobs[0].reply);
	}
out:
	pg_translit_free(own_tr);
	for (i = 0; texts && i < nl; i++)
		free(texts[i]);
	free(texts);
	free(live);
	free(from);
}

/* ---- callbacks: /cb/pager/wctp/<did>/<token> ---- */

/* A pushed operation speaks for the delivery its URL's token
 * authenticates, whatever responseToMessageID it claims. */
struct pushed {
	struct pager_state *st;
	int64_t did;
};

static bool
on_pushed_event(void *arg, const struct pager_wctp_ev *ev)
{
	struct pushed *p = arg;
	struct pager_wctp_ev e = *ev;

	if (e.did != p->did)
		pg_info("wctp push for delivery %lld names %lld; taken as %lld",
			(long long)p->did, (long long)e.did, (long long)p->did);
	e.did = p->did;
	return on_wctp_event(p->st, &e);
}

static void
respond(struct pg_http_resp *resp, int status, int code, const char *text)
{
	resp->status = status;
	snprintf(resp->content_type, sizeof resp->content_type, "text/xml");
	pg_buf_reset(&resp->body);
	if (pager_wctp_build_confirmation(code, text, &resp->body) != PG_OK) {
		resp->status = 500;
		snprintf(resp->content_type, sizeof resp->content_type, "text/plain");
	}
}

static void
pager_http(void *state, const struct pg_config *cfg, const struct pg_http_req *req,
	   struct pg_http_resp *resp)
{
	struct pager_state *st = state;
	struct pushed pu;
	char why[PG_REPLY_MAX], tok[PG_TOKEN_LEN + 1];
	long long did;
	int used = 0;
	pg_err e;

	(void)cfg;
	if (!st || strncmp(req->path, "/wctp/", 6) != 0 ||
	    sscanf(req->path + 6, "%18lld/%33[0-9a-f]%n", &did, tok, &used) != 2 ||
	    req->path[6 + used] != '\0' || did <= 0 || strlen(tok) != PG_TOKEN_LEN - 1) {
		resp->status = 404;
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		resp->status = 405;
		return;
	}
	if (!st->host->callback_ok || !st->host->callback_ok(st->host->ctx, did, tok)) {
		resp->status = 403;
		return;
	}
	pu.st = st;
	pu.did = did;
	e = pager_wctp_parse_push(req->body, req->body_len, on_pushed_event, &pu, why,
				  sizeof why);
	if (e == PG_ERR_INVAL)
		respond(resp, 400, 301, why);
	else if (e)
		respond(resp, 503, 604, why);
	else
		respond(resp, 200, 200, "Received");
}

/* ---- life cycle ---- */

static pg_err
pager_start(const struct pg_config *cfg, const struct pg_chan_host *host, void **state)
{
	struct pager_state *st = calloc(1, sizeof *st);

	if (!st)
		return PG_ERR_NOMEM;
	st->host = host;
	pthread_mutex_init(&st->mu, NULL);
	pthread_mutex_init(&st->tap_spare, NULL);
	if (pg_cond_init_mono(&st->cv) != PG_OK) {
		free(st);
		return PG_ERR_NOMEM;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(st);
		return PG_ERR_NOMEM;
	}
	xmlInitParser();
	/* made once: opening one costs ~12 ms, each page only a clone */
	if (pg_translit_new(&st->tr) != PG_OK)
		pg_error("pager: no ICU transliterator (ICU data missing?): ASCII pages "
			 "will try to make one per batch");
	refresh_polls(st, cfg->chan_cfg[PG_CH_PAGER]);
	if (pthread_create(&st->thread, NULL, poller, st) != 0) {
		pg_error("pager: cannot start the WCTP poller thread");
		for (size_t i = 0; i < st->n_polls; i++)
			pager_gw_clear(&st->polls[i].gw);
		free(st->polls);
		pg_translit_free(st->tr);
		curl_global_cleanup();
		free(st);
		return PG_ERR_NOMEM;
	}
	st->thread_started = true;
	*state = st;
	return PG_OK;
}

static void
pager_stop(void *state)
{
	struct pager_state *st = state;
	size_t i;

	if (!st)
		return;
	pg_thread_stop(&st->mu, &st->cv, &st->stopping, st->thread, st->thread_started);
	for (i = 0; i < st->n_polls; i++)
		pager_gw_clear(&st->polls[i].gw);
	free(st->polls);
	for (i = 0; i < st->n_tap; i++) {
		free(st->tap[i].device);
		pthread_mutex_destroy(&st->tap[i].mu);
	}
	pthread_mutex_destroy(&st->tap_spare);
	pg_translit_free(st->tr);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	curl_global_cleanup();
	free(st);
}

const struct pg_channel pg_chan_pager = {
	.name = "pager",
	.kind = PG_CH_PAGER,
	.max_batch = PAGER_MAX_BATCH,     /* one SNPP/TAP session, or WCTP POSTs */
	.subject_template = NULL,
	.body_template = "pager.txt",
	.body_escape = PG_ESC_NONE,
	.config_keys = pager_config_keys,     /* pager = ( { name; kind; ... } ) */
	.config_parse = pager_config_parse,
	.config_free = pager_config_free,
	.config_tables = pager_config_tables,
	.address_key = "pin",                 /* { channel = "pager"; pin = "4412"; } */
	.device_keys = pager_device_keys,     /* max_length */
	.device_check = pager_device_check,   /* PIN for its gateway's kind */
	.start = pager_start,
	.stop = pager_stop,
	.send = pager_send,
	.http = pager_http,
};
