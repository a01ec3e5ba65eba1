/*
 * chan_sms.c - the sms channel: SMS through HTTP providers (Kannel's
 * sendsms, Twilio-style REST, a generic HTTP API) with libcurl.
 *
 * One send() call is one batch for one provider.  Each job's text is
 * prepared (sms_text.c: for a provider or device set to ascii first made
 * GSM-7 by transliteration; then coding, segments, truncation to the
 * device's max_segments), its request built (sms_provider.c), and all
 * requests run concurrently on one libcurl multi handle, each started at
 * its slot of the provider's rate limit (messages per second, shared by
 * every worker thread).  Multi handles are pooled in the driver state, so
 * connections (and TLS sessions) to a provider are reused from batch to
 * batch.  TLS peers are always verified; every transfer has a connect and
 * a total timeout, and the batch as a whole a deadline.
 *
 * Each SMS carries a callback URL with the delivery's token (Kannel
 * dlr-url, Twilio StatusCallback); those reports, and replies from
 * phones, arrive through http() (sms_callback.c).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "pagegate/log.h"
#include "pagegate/translit.h"
#include "sms_priv.h"
#include "../drivers.h"

#define SMS_MAX_BATCH     50
#define POOL_MAX          8          /* idle multi handles kept */
#define MAX_HOST_CONNS    8          /* parallel connections per provider host */
#define CONN_CACHE        16
#define RESP_MAX          (16 * 1024)   /* reply bytes kept */
#define URL_BASE_MAX      1024
#define POLL_MAX_MS       1000
#define SLACK_MS          5000       /* batch deadline beyond timeouts */
#define RATE_NAME_MAX     64
#define GSM_TEXT_MAX      (64 * 1024)   /* a text made GSM-7 (ascii) */

/* The next free send slot of one provider, by name (survives reloads). */
struct rate_slot {
	char name[RATE_NAME_MAX];
	double next_ms;
};

struct sms_state {
	const struct pg_chan_host *host;
	pthread_mutex_t mu;              /* pool and rates */
	CURLM *pool[POOL_MAX];
	size_t n_pool;
	struct rate_slot *rates;
	size_t n_rates, cap_rates;
	struct pg_translit *tr;          /* made at the first ascii text */
};

/* One job in flight. */
struct xfer {
	struct pg_job *job;
	struct sms_text text;
	struct sms_request req;
	struct pg_buf resp;
	struct curl_slist *headers;
	CURL *easy;
	char err[CURL_ERROR_SIZE];
	double slot_ms;                  /* when it may start (monotonic) */
	bool live, added, done;
};

/* ---- pooled multi handles and rate slots ---- */

static CURLM *
pool_get(struct sms_state *st)
{
	CURLM *m = NULL;

	if (st) {
		pthread_mutex_lock(&st->mu);
		if (st->n_pool > 0)
			m = st->pool[--st->n_pool];
		pthread_mutex_unlock(&st->mu);
	}
	if (!m && (m = curl_multi_init())) {
		curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_HOST_CONNS);
		curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)CONN_CACHE);
	}
	return m;
}

static void
pool_put(struct sms_state *st, CURLM *m)
{
	if (st) {
		pthread_mutex_lock(&st->mu);
		if (st->n_pool < POOL_MAX) {
			st->pool[st->n_pool++] = m;
			m = NULL;
		}
		pthread_mutex_unlock(&st->mu);
	}
	if (m)
		curl_multi_cleanup(m);
}

/* Reserves count consecutive slots of provider p; returns the first one
 * (monotonic ms) and sets *step to the spacing. */
static double
rate_reserve(struct sms_state *st, const struct sms_provider *p, size_t count,
	     double *step)
{
	double now = (double)pg_mono_ms(), start = now;
	struct rate_slot *r = NULL;

	*step = p->rate > 0 ? 1000.0 / p->rate : 0;
	if (!st || *step == 0)
		return now;
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < st->n_rates && !r; i++)
		if (strcmp(st->rates[i].name, p->name) == 0)
			r = &st->rates[i];
	if (!r && st->n_rates == st->cap_rates) {
		size_t cap = st->cap_rates ? 2 * st->cap_rates : 4;
		struct rate_slot *v = realloc(st->rates, cap * sizeof *v);
		if (v) {
			st->rates = v;
			st->cap_rates = cap;
		}
	}
	if (!r && st->n_rates < st->cap_rates) {
		r = &st->rates[st->n_rates++];
		pg_strlcpy(r->name, p->name, sizeof r->name);
		r->next_ms = now;
	}
	if (r) {
		start = r->next_ms > now ? r->next_ms : now;
		r->next_ms = start + (double)count * *step;
	}
	pthread_mutex_unlock(&st->mu);
	return start;
}

/* The transliterator for ascii texts: st's, made at its first use (it
 * costs ~12 ms and most daemons never need it), or without a state one
 * of the caller's own (*own, freed by the caller).  NULL when ICU cannot
 * make one (logged). */
static struct pg_translit *
translit(struct sms_state *st, struct pg_translit **own)
{
	struct pg_translit *tr = NULL;
	pg_err e = PG_OK;

	if (!st) {
		if (!*own)
			e = pg_translit_new(own);
		tr = *own;
	} else {
		pthread_mutex_lock(&st->mu);
		if (!st->tr)
			e = pg_translit_new(&st->tr);
		tr = st->tr;
		pthread_mutex_unlock(&st->mu);
	}
	if (e)
		pg_warn("sms: cannot make the GSM-7 transliterator: %s", pg_strerror(e));
	return tr;
}

/* ---- one transfer ---- */

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct pg_buf *b = arg;
	size_t n = size * nmemb, room = b->max > b->len + 1 ? b->max - b->len - 1 : 0;

	/* keep the start of a long reply, drain the rest */
	if (room > 0 && pg_buf_add(b, ptr, n < room ? n : room) != PG_OK)
		return 0;
	return n;
}

static bool
easy_setup(struct xfer *x, const struct sms_provider *p)
{
	CURL *e = curl_easy_init();
	bool ok;

	if (!(x->easy = e))
		return false;
	for (size_t i = 0; i < x->req.n_headers; i++) {
		struct curl_slist *h = curl_slist_append(x->headers, x->req.headers[i]);
		if (!h)
			return false;
		x->headers = h;
	}
	ok = curl_easy_setopt(e, CURLOPT_URL, x->req.url) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			      (long)p->connect_timeout_s * 1000L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->timeout_s * 1000L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_USERAGENT, "pagegate") == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_WRITEDATA, &x->resp) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->err) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_PRIVATE, x) == CURLE_OK &&
	     (!x->headers || curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) == CURLE_OK) &&
	     (!p->tls_ca || curl_easy_setopt(e, CURLOPT_CAINFO, p->tls_ca) == CURLE_OK);
	if (ok && x->req.user)
		ok = curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) == CURLE_OK &&
		     curl_easy_setopt(e, CURLOPT_USERNAME, x->req.user) == CURLE_OK &&
		     curl_easy_setopt(e, CURLOPT_PASSWORD, x->req.password) == CURLE_OK;
	if (ok && strcmp(x->req.method, "GET") != 0)
		ok = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)x->req.body_len) == CURLE_OK &&
		     curl_easy_setopt(e, CURLOPT_POSTFIELDS,
				      x->req.body ? x->req.body : "") == CURLE_OK &&
		     (strcmp(x->req.method, "POST") == 0 ||
		      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->req.method) == CURLE_OK);
	return ok;
}

static void
finish(struct xfer *x, const struct sms_provider *p, CURLcode rc)
{
	struct sms_reply r;
	char why[PG_REPLY_MAX - 80];
	long status = 0;

	memset(&r, 0, sizeof r);
	r.body = x->resp.data ? x->resp.data : "";
	r.body_len = x->resp.len;
	if (rc == CURLE_OK && curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
						&status) == CURLE_OK) {
		r.status = status;
	} else {
		pg_text_oneline(why, sizeof why, x->err[0] ? x->err : curl_easy_strerror(rc),
			  SIZE_MAX);
		r.error = why;
		r.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
	}
	sms_judge_reply(p, &r, &x->job->outcome, x->job->reply);
	if (r.error)
		pg_warn("sms provider %s: delivery %lld: %s", p->name,
			(long long)x->job->delivery_id, x->job->reply);
	x->done = true;
}

static void
release(CURLM *m, struct xfer *x)
{
	if (x->easy) {
		if (x->added)
			curl_multi_remove_handle(m, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	curl_slist_free_all(x->headers);
	x->headers = NULL;
}

/* Ends every live transfer not finished yet as a temporary failure. */
static void
fail_rest(CURLM *m, const struct sms_provider *p, struct xfer *x, size_t n,
	  const char *why)
{
	for (size_t i = 0; i < n; i++)
		if (x[i].live && !x[i].done) {
			pg_job_set(x[i].job, PG_OUT_TEMP, "%s: %s", p->name, why);
			release(m, &x[i]);
			x[i].done = true;
		}
}

/* Runs the live transfers of x[0..n) on multi handle m. */
static void
run(CURLM *m, const struct sms_provider *p, struct xfer *x, size_t n, double last_slot)
{
	int64_t deadline = (int64_t)last_slot + (int64_t)p->timeout_s * 1000 + SLACK_MS;
	size_t left = 0, i;
	int running, q;
	CURLMsg *msg;
	CURLMcode mc;

	for (i = 0; i < n; i++)
		left += x[i].live;
	while (left > 0) {
		double now = (double)pg_mono_ms(), next = -1;
		long wait;

		for (i = 0; i < n; i++) {
			if (!x[i].live || x[i].added)
				continue;
			if (x[i].slot_ms > now) {
				if (next < 0 || x[i].slot_ms < next)
					next = x[i].slot_ms;
				continue;
			}
			if (!easy_setup(&x[i], p) ||
			    curl_multi_add_handle(m, x[i].easy) != CURLM_OK) {
				release(m, &x[i]);
				pg_job_set(x[i].job, PG_OUT_TEMP, "cannot start the HTTP request "
					"(out of memory?)");
				x[i].live = false;
				left--;
				continue;
			}
			x[i].added = true;
		}
		if (left == 0)
			break;
		if ((mc = curl_multi_perform(m, &running)) != CURLM_OK) {
			fail_rest(m, p, x, n, curl_multi_strerror(mc));
			break;
		}
		while ((msg = curl_multi_info_read(m, &q))) {
			char *pv = NULL;
			struct xfer *d;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &pv);
			d = (struct xfer *)(void *)pv;
			if (!d || d->done)
				continue;
			finish(d, p, msg->data.result);
			release(m, d);
			left--;
		}
		if (left == 0)
			break;
		if (pg_mono_ms() > deadline) {
			fail_rest(m, p, x, n, "no answer in time");
			break;
		}
		wait = POLL_MAX_MS;
		if (next >= 0 && next - now < wait)
			wait = next - now < 1 ? 1 : (long)(next - now);
		if ((mc = curl_multi_poll(m, NULL, 0, (int)wait, NULL)) != CURLM_OK) {
			fail_rest(m, p, x, n, curl_multi_strerror(mc));
			break;
		}
	}
}

/* public_url + "/cb/sms/" + what + "/<did>/<token>", or NULL. */
static char *
status_url(const struct sms_state *st, const struct pg_config *cfg,
	   const struct sms_provider *p, int64_t did)
{
	char tok[PG_TOKEN_LEN], *out = NULL;
	const char *base = cfg->public_url;
	size_t bl;

	if (!st || !st->host || !st->host->callback_token || !base)
		return NULL;
	bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (bl > URL_BASE_MAX)
		return NULL;
	st->host->callback_token(st->host->ctx, did, tok);
	if (asprintf(&out, "%.*s/cb/sms/%s/%lld/%s", (int)bl, base,
		     p->kind == SMS_TWILIO ? "twilio/status" : "dlr", (long long)did, tok) < 0)
		return NULL;
	return out;
}

static void
sms_send(void *state, const struct pg_config *cfg, const char *gateway,
	 struct pg_job *jobs, size_t n)
{
	struct sms_state *st = state;
	const struct sms_provider *p = sms_provider_find(cfg->chan_cfg[PG_CH_SMS], gateway);
	struct pg_translit *own_tr = NULL;
	struct xfer *x;
	struct sms_msg msg;
	char why[PG_REPLY_MAX];
	size_t i, live = 0, k = 0;
	double first, step;
	CURLM *m;
	pg_err e;

	if (!p || !(x = calloc(n, sizeof *x))) {
		for (i = 0; i < n; i++)
			pg_job_set(&jobs[i], p ? PG_OUT_TEMP : PG_OUT_PERM, p ? "out of memory" :
				"sms gateway \"%s\" is not configured",
				gateway ? gateway : "(default)");
		return;
	}
	for (i = 0; i < n; i++) {
		const char *body = jobs[i].body;
		struct pg_buf gsm;
		char *surl;

		x[i].job = &jobs[i];
		jobs[i].reply[0] = '\0';
		pg_buf_init(&x[i].resp, RESP_MAX);
		pg_buf_init(&gsm, GSM_TEXT_MAX);
		if (sms_ascii(p, jobs[i].device)) {
			struct pg_translit *tr = translit(st, &own_tr);
			e = tr ? sms_text_gsm(tr, body ? body : "", &gsm) : PG_ERR_IO;
			if (e) {
				pg_buf_free(&gsm);
				pg_job_set(&jobs[i], PG_OUT_TEMP, "cannot transliterate the text "
					   "to GSM-7: %s", pg_strerror(e));
				continue;
			}
			body = gsm.data;
		}
		e = sms_text_prepare(body, sms_max_segments(p, jobs[i].device), &x[i].text);
		pg_buf_free(&gsm);
		if (e) {
			pg_job_set(&jobs[i], e == PG_ERR_INVAL ? PG_OUT_PERM : PG_OUT_TEMP, "%s",
				e == PG_ERR_INVAL ? "empty text, not sent" : pg_strerror(e));
			continue;
		}
		surl = status_url(st, cfg, p, jobs[i].delivery_id);
		msg.to = jobs[i].address;
		msg.text = &x[i].text;
		msg.delivery_id = jobs[i].delivery_id;
		msg.status_url = surl;
		e = sms_build_request(p, &msg, &x[i].req, why, sizeof why);
		free(surl);
		if (e) {
			pg_job_set(&jobs[i], e == PG_ERR_INVAL ? PG_OUT_PERM : PG_OUT_TEMP, "%s", why);
			continue;
		}
		x[i].live = true;
		live++;
	}

	if (live > 0) {
		first = rate_reserve(st, p, live, &step);
		for (i = 0; i < n; i++)
			if (x[i].live)
				x[i].slot_ms = first + (double)k++ * step;
		if ((m = pool_get(st))) {
			run(m, p, x, n, first + (double)live * step);
			for (i = 0; i < n; i++)
				release(m, &x[i]);
			pool_put(st, m);
		} else
			for (i = 0; i < n; i++)
				if (x[i].live)
					pg_job_set(&jobs[i], PG_OUT_TEMP, "cannot create an HTTP client");
	}
	for (i = 0; i < n; i++) {
		sms_text_free(&x[i].text);
		sms_request_free(&x[i].req);
		pg_buf_free(&x[i].resp);
	}
	free(x);
	pg_translit_free(own_tr);
}

static pg_err
sms_start(const struct pg_config *cfg, const struct pg_chan_host *host, void **state)
{
	struct sms_state *st = calloc(1, sizeof *st);

	(void)cfg;
	if (!st)
		return PG_ERR_NOMEM;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(st);
		return PG_ERR_NOMEM;
	}
	if (pthread_mutex_init(&st->mu, NULL) != 0) {
		curl_global_cleanup();
		free(st);
		return PG_ERR_NOMEM;
	}
	st->host = host;
	*state = st;
	return PG_OK;
}

static void
sms_stop(void *state)
{
	struct sms_state *st = state;

	if (!st)
		return;
	for (size_t i = 0; i < st->n_pool; i++)
		curl_multi_cleanup(st->pool[i]);
	free(st->rates);
	pg_translit_free(st->tr);
	pthread_mutex_destroy(&st->mu);
	free(st);
	curl_global_cleanup();
}

static void
sms_http_cb(void *state, const struct pg_config *cfg, const struct pg_http_req *req,
	    struct pg_http_resp *resp)
{
	struct sms_state *st = state;

	sms_http(st ? st->host : NULL, cfg, req, resp);
}

const struct pg_channel pg_chan_sms = {
	.name = "sms",
	.kind = PG_CH_SMS,
	.max_batch = SMS_MAX_BATCH,
	.subject_template = NULL,
	.body_template = "sms.txt",
	.body_escape = PG_ESC_NONE,
	.config_keys = sms_config_keys,      /* sms = ( { name; kind; ... } ) */
	.config_parse = sms_config_parse,
	.config_free = sms_config_free,
	.config_tables = sms_config_tables,
	.device_keys = sms_device_keys,      /* max_segments, ascii */
	.device_check = sms_device_check,    /* number, gateway */
	.start = sms_start,
	.stop = sms_stop,
	.send = sms_send,                    /* concurrent, rate-limited */
	.http = sms_http_cb,                 /* /cb/sms/...: reports, replies */
};
