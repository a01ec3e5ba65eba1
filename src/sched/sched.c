/*
 * sched.c - the scheduler (sched.h).
 *
 * Memory is only a cache of the store: a min-heap of waiting items ordered
 * by next try (then priority, then arrival), and per-priority FIFO queues
 * of items that are due.  Worker threads share one mutex and condition
 * variable (CLOCK_MONOTONIC): a worker moves whatever is due from the heap
 * to the ready queues, takes the first item of the most urgent queue plus
 * more due items for the same channel and gateway (same priority first),
 * and sleeps until the earliest next try when there is nothing to do.
 * Because every due item is in a ready queue before anything is taken, an
 * emergency (priority 0) never waits behind routine work that is due.
 *
 * Work on a batch happens outside the lock: load each delivery and its
 * message, render its templates with the live configuration, record the
 * attempt, call the driver, record each outcome.  A store write that
 * fails (disk full) leaves the item in memory to be retried after
 * STORE_RETRY_MS; an outcome the store refused is kept and replayed
 * without sending again.
 *
 * Deliveries that come out of a hold together for one recipient go out as
 * one digest (sched_digest.c); take_batch looks a little past the driver's
 * batch size for their companions.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pagegate/backoff.h"
#include "pagegate/content.h"
#include "pagegate/log.h"
#include "pagegate/sched.h"
#include "pagegate/template.h"
#include "pagegate/util.h"
#include "sched_priv.h"

#define SCHED_BATCH_MAX 64          /* most jobs handed to one send() */
#define RENDER_MAX      (64 * 1024) /* one rendered template */
#define STORE_RETRY_MS  5000        /* retry failed bookkeeping after */
#define MAX_WAIT_MS     30000       /* re-read the wall clock this often */
#define HEAP_MIN        64
#define DETAIL_MAX      (PG_REPLY_MAX + 64)
#define MS_PER_S        1000

/* An outcome the store refused after the attempt happened, to replay. */
struct finish_rec {
	int64_t aid;
	int64_t at;
	enum pg_outcome outcome;
	enum pg_dstate state;
	int64_t next;
	char reply[DETAIL_MAX];
};

struct item {
	int64_t did;
	int64_t mid;
	enum pg_channel_kind channel;
	char *gateway;               /* NULL = the channel's default */
	int prio;                    /* 0 = most urgent */
	int64_t next_try;            /* wall clock, ms */
	bool held;
	char *rcpt;                  /* held at first: "contact\naddress", for
					a digest (sched_digest.c); else NULL */
	uint64_t seq;                /* arrival order, for FIFO ties */
	struct finish_rec *pending;  /* bookkeeping still to write */
	struct item *next;           /* ready-queue link */
};

struct pg_sched {
	struct pg_store *store;
	struct pg_live_config *live;
	struct pg_metrics *metrics;
	const struct pg_channel *(*channel_for)(enum pg_channel_kind k);
	const struct pg_chan_host *host;   /* may be NULL (tests) */
	void *drv_state[PG_CH__COUNT];
	bool drv_started[PG_CH__COUNT];

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	struct item **heap;          /* cap_heap >= n_items: pushes never fail */
	size_t n_heap, cap_heap, n_items;
	struct item *ready_head[PG_PRIO_LEVELS], *ready_tail[PG_PRIO_LEVELS];
	size_t n_waiting[2];         /* [0] queued, [1] held; heap + ready */
	uint64_t seq;
	pthread_t *threads;
	int n_threads;
};

/* ---- heap and queues (caller holds mu) ---- */

static bool
before(const struct item *a, const struct item *b)
{
	if (a->next_try != b->next_try)
		return a->next_try < b->next_try;
	if (a->prio != b->prio)
		return a->prio < b->prio;
	return a->seq < b->seq;
}

static void
heap_push(struct pg_sched *s, struct item *it)
{
	size_t i = s->n_heap++, p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (!before(it, s->heap[p]))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = it;
}

static struct item *
heap_pop(struct pg_sched *s)
{
	struct item *top = s->heap[0], *last = s->heap[--s->n_heap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < s->n_heap) {
		if (c + 1 < s->n_heap && before(s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s->heap[c], last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->n_heap > 0)
		s->heap[i] = last;
	return top;
}

/* Moves every item due at now from the heap to its ready queue. */
static void
dispatch_due(struct pg_sched *s, int64_t now)
{
	struct item *it;

	while (s->n_heap > 0 && s->heap[0]->next_try <= now) {
		it = heap_pop(s);
		it->next = NULL;
		if (s->ready_tail[it->prio])
			s->ready_tail[it->prio]->next = it;
		else
			s->ready_head[it->prio] = it;
		s->ready_tail[it->prio] = it;
	}
}

static bool
same_gateway(const struct item *a, const struct item *b)
{
	if (!a->gateway || !b->gateway)
		return a->gateway == b->gateway;
	return strcmp(a->gateway, b->gateway) == 0;
}

/* True when it can join a digest with an item already in out[0..n). */
static bool
digest_mate(struct item *const *out, size_t n, const struct item *it)
{
	for (size_t i = 0; it->rcpt && i < n; i++)
		if (out[i]->rcpt && strcmp(out[i]->rcpt, it->rcpt) == 0)
			return true;
	return false;
}

/* Takes the most urgent ready item and up to the driver's batch size of
 * ready items for the same channel and gateway, most urgent first; past
 * that size, held items that join a digest of one taken (one send between
 * them), looking at most SCHED_BATCH_MAX items further. */
static size_t
take_batch(struct pg_sched *s, struct item **out)
{
	const struct pg_channel *drv;
	struct item *first, *it, *prev, *nx;
	size_t n = 0, cap, i, sends = 0, looked = 0;
	bool mate, more = true, gathering = false;
	int p, q;

	for (p = 0; p < PG_PRIO_LEVELS && !s->ready_head[p]; p++)
		;
	if (p == PG_PRIO_LEVELS)
		return 0;
	first = s->ready_head[p];
	drv = s->channel_for(first->channel);
	cap = drv && drv->max_batch > 0 ? drv->max_batch : 1;
	if (drv && drv->batch_for) {
		/* live's lock is a leaf: taking it under mu cannot deadlock */
		struct pg_config *cfg = pg_live_get(s->live);
		size_t c = cfg ? drv->batch_for(cfg, first->gateway) : 0;

		if (cfg)
			pg_config_release(cfg);
		if (c > 0 && c < cap)
			cap = c;
	}
	if (cap > SCHED_BATCH_MAX)
		cap = SCHED_BATCH_MAX;
	for (q = p; q < PG_PRIO_LEVELS && more; q++) {
		prev = NULL;
		for (it = s->ready_head[q]; it && more; it = nx) {
			nx = it->next;
			looked += sends >= cap;
			more = looked < SCHED_BATCH_MAX;
			mate = gathering && digest_mate(out, n, it);
			if (it->channel != first->channel || !same_gateway(it, first) ||
			    (sends >= cap && !mate)) {
				prev = it;
				continue;
			}
			sends += !mate;
			if (prev)
				prev->next = nx;
			else
				s->ready_head[q] = nx;
			if (s->ready_tail[q] == it)
				s->ready_tail[q] = prev;
			it->next = NULL;
			out[n++] = it;
			gathering = gathering || it->rcpt;
			more = n < SCHED_BATCH_MAX && (sends < cap || gathering);
		}
	}
	for (i = 0; i < n; i++)
		s->n_waiting[out[i]->held]--;
	return n;
}

/* ---- item life ---- */

static void
item_free(struct item *it)
{
	if (!it)
		return;
	free(it->gateway);
	free(it->rcpt);
	free(it->pending);
	free(it);
}

/* Puts an item back to wait until next_try. */
static void
requeue(struct pg_sched *s, struct item *it, int64_t next_try)
{
	pthread_mutex_lock(&s->mu);
	it->next_try = next_try;
	it->seq = s->seq++;
	heap_push(s, it);
	s->n_waiting[it->held]++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Forgets an item that needs no more work. */
static void
drop(struct pg_sched *s, struct item *it)
{
	pthread_mutex_lock(&s->mu);
	s->n_items--;
	pthread_mutex_unlock(&s->mu);
	item_free(it);
}

/* The store failed: keep the item in memory and try again later. */
static void
store_trouble(struct pg_sched *s, struct item *it, const char *what, pg_err e)
{
	pg_error("store: %s for delivery %lld failed (%s); kept in memory, retrying in %d s",
		 what, (long long)it->did, pg_strerror(e), STORE_RETRY_MS / MS_PER_S);
	requeue(s, it, pg_now_ms() + STORE_RETRY_MS);
}

/* Copies s for a log line: controls become '?', double quotes '\''. */
static const char *
log_safe(char *dst, size_t n, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 1 < n; s++) {
		unsigned char c = (unsigned char)*s;
		dst[o++] = c < 0x20 || c == 0x7f ? '?' : c == '"' ? '\'' : (char)c;
	}
	dst[o] = '\0';
	return dst;
}

/* Give-up time of a delivery; the retry policy's when none was stored. */
static int64_t
expires_of(const struct pg_delivery *d, const struct pg_retry_policy *pol)
{
	if (d->expires_ms > 0)
		return d->expires_ms;
	return d->created_ms + (int64_t)(pol ? pol->give_up_s : 0) * MS_PER_S;
}

/* Fails a delivery without an attempt (expired, no driver). */
static void
fail_now(struct pg_sched *s, struct work *w, const char *detail)
{
	char a[256], b[DETAIL_MAX];
	pg_err e;

	if ((e = pg_store_set_state(s->store, w->it->did, PG_D_FAILED, 0,
				    "failed", detail))) {
		store_trouble(s, w->it, "marking failed", e);
		return;
	}
	pg_metrics_final(s->metrics, w->it->channel, false);
	pg_info("delivery mid=%lld did=%lld channel=%s to=%s failed: %s",
		(long long)w->d.message_id, (long long)w->it->did,
		pg_channel_name(w->it->channel), log_safe(a, sizeof a, w->d.address),
		log_safe(b, sizeof b, detail));
	drop(s, w->it);
}

static void
presolve(struct work *w, enum pg_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
presolve(struct work *w, enum pg_outcome o, const char *fmt, ...)
{
	va_list ap;

	w->presolved = true;
	w->outcome = o;
	va_start(ap, fmt);
	vsnprintf(w->reply, sizeof w->reply, fmt, ap);
	va_end(ap);
}

/* The contact's device this delivery was made for: same channel and the
 * same address (or PIN); NULL when a reload removed it. */
static const struct pg_device *
find_device(const struct pg_contact *c, enum pg_channel_kind ch, const char *addr)
{
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct pg_device *d = &c->devices[i];

		if (d->channel != ch || addr == NULL)
			continue;
		if (d->to && strcmp(d->to, addr) == 0)
			return d;
	}
	return NULL;
}

/* Renders the driver's subject template (when it exists) and its body
 * template, with the driver's escaping for the body. */
static void
render(const struct pg_chan_host *host, const struct pg_config *cfg,
       const struct pg_channel *drv, struct work *w)
{
	const struct pg_template *t;
	struct pg_tvars tv;
	const char *name, *subject, *body;
	char url[PG_ACK_URL_MAX] = "";
	pg_err e;

	w->client = pg_config_client(cfg, w->m.client_id);
	if (!w->client) {
		presolve(w, PG_OUT_PERM, "client %s no longer configured", w->m.client_id);
		return;
	}
	w->contact = pg_client_contact(w->client, w->d.contact_id);
	if (!w->contact) {
		presolve(w, PG_OUT_PERM, "contact %s of client %s no longer configured",
			 w->d.contact_id, w->m.client_id);
		return;
	}
	w->device = find_device(w->contact, w->it->channel, w->d.address);
	w->content = pg_content_level(w->client, w->device, w->it->channel);
	pg_tvars_init(&tv);
	if (host && host->ack_url)
		host->ack_url(host->ctx, cfg, w->m.id, w->d.id, url, sizeof url);
	if ((e = pg_tvars_for_message(&tv, w->client, &w->m, w->contact, w->d.id)) ||
	    (e = pg_tvars_set(&tv, "ack_url", url)) ||
	    (e = pg_content_apply(&tv, w->content))) {
		presolve(w, e == PG_ERR_NOMEM ? PG_OUT_TEMP : PG_OUT_PERM,
			 "cannot fill template variables: %s", pg_strerror(e));
		goto out;
	}
	/* at "notify", plain text comes from notify.txt (content.h) */
	pg_content_templates(w->content, drv->subject_template, drv->body_template,
			     drv->body_escape == PG_ESC_NONE, &subject, &body);
	name = subject;
	if (name && (t = pg_config_template(cfg, w->client, name))) {
		w->has_subject = true;
		if ((e = pg_template_render(t->text, &tv, PG_ESC_NONE, &w->subj))) {
			presolve(w, e == PG_ERR_NOMEM ? PG_OUT_TEMP : PG_OUT_PERM,
				 "template %s: %s", name, pg_strerror(e));
			goto out;
		}
	}
	name = body;
	if (!name || !(t = pg_config_template(cfg, w->client, name)))
		presolve(w, PG_OUT_PERM, "no template %s for client %s",
			 name ? name : "(none)", w->client->id);
	else if ((e = pg_template_render(t->text, &tv, drv->body_escape, &w->body)))
		presolve(w, e == PG_ERR_NOMEM ? PG_OUT_TEMP : PG_OUT_PERM,
			 "template %s: %s", name, pg_strerror(e));
out:
	pg_tvars_free(&tv);
}

/* Everything before the driver.  Returns true when an attempt was
 * recorded (the item then needs an outcome); otherwise the item has been
 * dropped or requeued already. */
static bool
prepare(struct pg_sched *s, const struct pg_config *cfg,
	const struct pg_channel *drv, struct work *w, int64_t now)
{
	struct item *it = w->it;
	char detail[DETAIL_MAX];
	pg_err e;

	if ((e = pg_store_get_delivery(s->store, it->did, &w->d))) {
		if (e != PG_ERR_NOTFOUND) {
			store_trouble(s, it, "reading the delivery", e);
			return false;
		}
		pg_warn("delivery %lld is no longer in the store; dropped", (long long)it->did);
		drop(s, it);
		return false;
	}
	w->have_d = true;
	if (pg_dstate_final(w->d.state)) {
		pg_debug("delivery %lld is already %s", (long long)it->did,
			 pg_dstate_name(w->d.state));
		drop(s, it);
		return false;
	}
	if (w->d.state == PG_D_HELD) {
		if ((e = pg_store_set_state(s->store, it->did, PG_D_QUEUED, now,
					    "released", "hold ended"))) {
			store_trouble(s, it, "releasing the hold", e);
			return false;
		}
		it->held = false;
		pg_info("released mid=%lld did=%lld", (long long)w->d.message_id,
			(long long)it->did);
	}
	if (now >= expires_of(&w->d, pg_config_retry(cfg, it->channel))) {
		fail_now(s, w, "expired before it could be sent");
		return false;
	}
	if (!drv) {
		snprintf(detail, sizeof detail, "channel %s is not available in this build",
			 pg_channel_name(it->channel));
		fail_now(s, w, detail);
		return false;
	}
	if ((e = pg_store_get_msg(s->store, w->d.message_id, &w->m))) {
		if (e != PG_ERR_NOTFOUND) {
			store_trouble(s, it, "reading the message", e);
			return false;
		}
		pg_warn("message %lld of delivery %lld is gone; dropped",
			(long long)w->d.message_id, (long long)it->did);
		drop(s, it);
		return false;
	}
	w->have_m = true;
	render(s->host, cfg, drv, w);
	if ((e = pg_store_attempt_start(s->store, it->did, now, &w->aid))) {
		store_trouble(s, it, "recording the attempt", e);
		return false;
	}
	w->started = true;
	return true;
}

/* Writes an outcome; on success requeues a retry or forgets a final
 * delivery, on failure keeps the record to replay later. */
static void
apply_finish(struct pg_sched *s, struct item *it, const struct finish_rec *r)
{
	pg_err e = pg_store_attempt_finish(s->store, it->did, r->aid, r->at,
					   r->outcome, r->reply, r->state, r->next);
	enum pg_dstate state;
	int64_t next;

	if (e) {
		if (it->pending != r) {
			if (!it->pending && !(it->pending = malloc(sizeof *it->pending))) {
				pg_error("delivery %lld: outcome lost (out of memory); "
					 "the store still says sending", (long long)it->did);
				drop(s, it);
				return;
			}
			*it->pending = *r;
		}
		store_trouble(s, it, "recording the outcome", e);
		return;
	}
	state = r->state;                       /* r may be it->pending */
	next = r->next;
	free(it->pending);
	it->pending = NULL;
	if (state == PG_D_QUEUED) {
		requeue(s, it, next);
		return;
	}
	pg_metrics_final(s->metrics, it->channel, state != PG_D_FAILED);
	drop(s, it);
}

/* Decides, logs and records the outcome of one attempt. */
static void
finish(struct pg_sched *s, const struct pg_config *cfg, struct work *w,
       enum pg_outcome o, const char *reply, int64_t dur_ms)
{
	const struct pg_retry_policy *pol = pg_config_retry(cfg, w->it->channel);
	int attempts = w->d.attempts + 1;      /* attempt_start counted one */
	struct finish_rec r;
	char a[256], b[DETAIL_MAX], tail[64] = "";
	int64_t now = pg_now_ms();

	memset(&r, 0, sizeof r);
	r.aid = w->aid;
	r.at = now;
	r.outcome = o;
	snprintf(r.reply, sizeof r.reply, "%s", reply && *reply ? reply : "(no reply)");
	if (o == PG_OUT_OK)
		r.state = PG_D_SENT;
	else if (o == PG_OUT_TEMP && pol &&
		 pg_backoff_next(pol, attempts, now, expires_of(&w->d, pol),
				 pg_random_u32(), &r.next)) {
		r.state = PG_D_QUEUED;
		if (w->retry_at > 0)            /* a digest retries together */
			r.next = w->retry_at;
		w->retry_at = r.next;
		snprintf(tail, sizeof tail, " retry_in_s=%lld",
			 (long long)((r.next - now + MS_PER_S - 1) / MS_PER_S));
	} else {
		r.state = PG_D_FAILED;
		if (o == PG_OUT_TEMP)
			snprintf(r.reply, sizeof r.reply, "gave up after %d attempt%s: %s",
				 attempts, attempts == 1 ? "" : "s",
				 reply && *reply ? reply : "(no reply)");
	}
	pg_metrics_attempt(s->metrics, w->it->channel, o, dur_ms);
	pg_info("attempt mid=%lld did=%lld channel=%s to=%s dur_ms=%lld outcome=%s "
		"reply=\"%s\" state=%s%s",
		(long long)w->d.message_id, (long long)w->it->did,
		pg_channel_name(w->it->channel), log_safe(a, sizeof a, w->d.address),
		(long long)dur_ms, pg_outcome_name(o), log_safe(b, sizeof b, r.reply),
		pg_dstate_name(r.state), tail);
	apply_finish(s, w->it, &r);
}

static void
work_free(struct work *w)
{
	if (w->have_d)
		pg_delivery_free(&w->d);
	if (w->have_m)
		pg_message_free(&w->m);
	pg_buf_free(&w->subj);
	pg_buf_free(&w->body);
}

/* One batch: all items share channel and gateway. */
static void
process_batch(struct pg_sched *s, struct item **items, size_t n)
{
	struct pg_config *cfg = pg_live_get(s->live);
	enum pg_channel_kind ch = items[0]->channel;
	const struct pg_channel *drv = s->channel_for(ch);
	const char *gateway = items[0]->gateway;
	struct work w[SCHED_BATCH_MAX];
	struct pg_job jobs[SCHED_BATCH_MAX];
	int64_t now = pg_now_ms(), t0, dur = 0;
	size_t i, nj = 0, cap = drv && drv->max_batch > 0 ? drv->max_batch : 1;
	char reply[DETAIL_MAX];

	memset(w, 0, n * sizeof w[0]);
	memset(jobs, 0, sizeof jobs);
	for (i = 0; i < n; i++) {
		w[i].it = items[i];
		w[i].job = -1;
		pg_buf_init(&w[i].subj, RENDER_MAX);
		pg_buf_init(&w[i].body, RENDER_MAX);
		if (items[i]->pending) {               /* replay bookkeeping only */
			apply_finish(s, items[i], items[i]->pending);
			continue;
		}
		w[i].gather = items[i]->rcpt != NULL;
		prepare(s, cfg, drv, &w[i], now);
	}
	sched__digests(cfg, drv, w, n);
	for (i = 0; i < n; i++) {
		if (!w[i].started || w[i].presolved)
			continue;
		if (w[i].lead >= 0 && w[i].lead != (int)i) {
			w[i].job = w[w[i].lead].job;   /* in the lead's digest */
			continue;
		}
		w[i].job = (int)nj;
		jobs[nj].delivery_id = items[i]->did;
		jobs[nj].message_id = w[i].d.message_id;
		jobs[nj].client = w[i].client;
		jobs[nj].address = w[i].d.address;
		jobs[nj].to_name = w[i].contact->name;
		jobs[nj].contact = w[i].contact;
		jobs[nj].device = w[i].device;
		jobs[nj].ack_ref = w[i].m.ack_ref;
		jobs[nj].expires_ms = expires_of(&w[i].d, pg_config_retry(cfg, ch));
		jobs[nj].subject = w[i].has_subject ? (w[i].subj.data ? w[i].subj.data : "") : NULL;
		jobs[nj].body = w[i].body.data ? w[i].body.data : "";
		jobs[nj].urgency = w[i].m.urgency;
		jobs[nj].outcome = PG_OUT_TEMP;
		jobs[nj].reply[0] = '\0';
		nj++;
	}
	if (nj > 0) {
		t0 = pg_mono_ms();
		for (i = 0; i < nj; i += cap)   /* digests of two clients may exceed it */
			drv->send(s->drv_state[ch], cfg, gateway, jobs + i,
				  nj - i < cap ? nj - i : cap);
		dur = pg_mono_ms() - t0;
	}
	for (i = 0; i < n; i++) {
		if (!w[i].started)
			continue;
		if (w[i].presolved)
			finish(s, cfg, &w[i], w[i].outcome, w[i].reply, 0);
		else {
			struct pg_job *j = &jobs[w[i].job];
			enum pg_outcome o = (unsigned)j->outcome < PG_OUT__COUNT ?
				j->outcome : PG_OUT_TEMP;
			j->reply[PG_REPLY_MAX - 1] = '\0';
			if (w[i].lead >= 0)
				w[i].retry_at = w[w[i].lead].retry_at;
			sched__digest_reply(&w[i], w, j->reply[0] ? j->reply : "driver gave no reply",
					    reply, sizeof reply);
			finish(s, cfg, &w[i], o, reply, dur);
		}
	}
	for (i = 0; i < n; i++)
		work_free(&w[i]);
	pg_config_release(cfg);
}

/* Sleeps until the earliest next try (bounded), or a signal. */
static void
wait_for_work(struct pg_sched *s)
{
	int64_t ms = MAX_WAIT_MS, d;
	struct timespec ts;

	if (s->n_heap > 0) {
		d = s->heap[0]->next_try - pg_now_ms();
		if (d < ms)
			ms = d;
	}
	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / MS_PER_S);
	ts.tv_nsec += (long)(ms % MS_PER_S) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

static void *
worker(void *arg)
{
	struct pg_sched *s = arg;
	struct item *batch[SCHED_BATCH_MAX];
	size_t n;
	int p;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		dispatch_due(s, pg_now_ms());
		if ((n = take_batch(s, batch)) == 0) {
			wait_for_work(s);
			continue;
		}
		for (p = 0; p < PG_PRIO_LEVELS; p++)
			if (s->ready_head[p]) {        /* more due: wake a peer */
				pthread_cond_signal(&s->cv);
				break;
			}
		pthread_mutex_unlock(&s->mu);
		process_batch(s, batch, n);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- public ---- */

pg_err
pg_sched_add(struct pg_sched *s, const struct pg_delivery *d)
{
	struct item *it, **nh;
	size_t cap;

	/* "sending" only if the store handed one over unrecovered: retry it */
	if (d->state != PG_D_QUEUED && d->state != PG_D_HELD && d->state != PG_D_SENDING)
		return PG_OK;                   /* final: nothing to schedule */
	if (!(it = calloc(1, sizeof *it)))
		return PG_ERR_NOMEM;
	if (d->gateway && !(it->gateway = strdup(d->gateway))) {
		free(it);
		return PG_ERR_NOMEM;
	}
	it->did = d->id;
	it->mid = d->message_id;
	it->channel = d->channel;
	it->prio = d->priority < 0 ? 0 : d->priority >= PG_PRIO_LEVELS ?
		PG_PRIO_LEVELS - 1 : d->priority;
	it->next_try = d->next_try_ms;
	it->held = d->state == PG_D_HELD;
	if (it->held && d->contact_id && d->address &&
	    asprintf(&it->rcpt, "%s\n%s", d->contact_id, d->address) < 0) {
		it->rcpt = NULL;
		item_free(it);
		return PG_ERR_NOMEM;
	}

	pthread_mutex_lock(&s->mu);
	if (s->n_items + 1 > s->cap_heap) {
		cap = s->cap_heap ? 2 * s->cap_heap : HEAP_MIN;
		if (!(nh = realloc(s->heap, cap * sizeof *nh))) {
			pthread_mutex_unlock(&s->mu);
			item_free(it);
			return PG_ERR_NOMEM;
		}
		s->heap = nh;
		s->cap_heap = cap;
	}
	it->seq = s->seq++;
	s->n_items++;
	heap_push(s, it);
	s->n_waiting[it->held]++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return PG_OK;
}

void *
pg_sched_driver_state(struct pg_sched *s, enum pg_channel_kind k)
{
	if (!s || (unsigned)k >= PG_CH__COUNT || !s->drv_started[k])
		return NULL;
	return s->drv_state[k];
}

void
pg_sched_depth(struct pg_sched *s, size_t *queued, size_t *held)
{
	pthread_mutex_lock(&s->mu);
	if (queued)
		*queued = s->n_waiting[0];
	if (held)
		*held = s->n_waiting[1];
	pthread_mutex_unlock(&s->mu);
}

struct load_ctx { struct pg_sched *s; pg_err e; size_t n; };

static void
load_one(const struct pg_delivery *d, void *arg)
{
	struct load_ctx *c = arg;
	pg_err e = pg_sched_add(c->s, d);

	if (e && !c->e)
		c->e = e;
	if (!e)
		c->n++;
}

/* Frees everything once no worker runs. */
static void
destroy(struct pg_sched *s)
{
	const struct pg_channel *drv;
	struct item *it, *nx;
	size_t i;
	int k;

	for (k = 0; k < PG_CH__COUNT; k++)
		if (s->drv_started[k] && (drv = s->channel_for((enum pg_channel_kind)k)) &&
		    drv->stop)
			drv->stop(s->drv_state[k]);
	for (i = 0; i < s->n_heap; i++)
		item_free(s->heap[i]);
	for (k = 0; k < PG_PRIO_LEVELS; k++)
		for (it = s->ready_head[k]; it; it = nx) {
			nx = it->next;
			item_free(it);
		}
	free(s->heap);
	free(s->threads);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

pg_err
pg_sched_start(const struct pg_sched_deps *deps, struct pg_sched **out)
{
	struct pg_sched *s;
	struct pg_config *cfg;
	const struct pg_channel *drv;
	pthread_condattr_t ca;
	struct load_ctx lc;
	pg_err e = PG_OK;
	int k, rc;

	*out = NULL;
	if (!deps->store || !deps->live || !deps->metrics || deps->workers < 1)
		return PG_ERR_INVAL;
	if (!(s = calloc(1, sizeof *s)))
		return PG_ERR_NOMEM;
	s->store = deps->store;
	s->live = deps->live;
	s->metrics = deps->metrics;
	s->channel_for = deps->channel_for ? deps->channel_for : pg_channel_for;
	s->host = deps->host;
	if (pthread_condattr_init(&ca) != 0) {
		free(s);
		return PG_ERR_NOMEM;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0) {
		free(s);
		return PG_ERR_NOMEM;
	}
	pthread_mutex_init(&s->mu, NULL);

	cfg = pg_live_get(s->live);
	for (k = 0; k < PG_CH__COUNT && !e; k++) {
		drv = s->channel_for((enum pg_channel_kind)k);
		if (!drv || !drv->start)
			continue;
		if ((e = drv->start(cfg, deps->host, &s->drv_state[k])))
			pg_error("cannot start the %s channel: %s", drv->name, pg_strerror(e));
		else
			s->drv_started[k] = true;
	}
	pg_config_release(cfg);
	if (e)
		goto fail;

	memset(&lc, 0, sizeof lc);
	lc.s = s;
	if ((e = pg_store_load_pending(s->store, load_one, &lc)) || (e = lc.e)) {
		pg_error("cannot load pending deliveries: %s", pg_strerror(e));
		goto fail;
	}
	pg_info("scheduler: %zu pending deliveries (%zu held), %d workers",
		lc.n, s->n_waiting[1], deps->workers);

	if (!(s->threads = calloc((size_t)deps->workers, sizeof *s->threads))) {
		e = PG_ERR_NOMEM;
		goto fail;
	}
	for (k = 0; k < deps->workers; k++) {
		if ((rc = pthread_create(&s->threads[k], NULL, worker, s)) != 0) {
			pg_error("cannot start scheduler worker %d: %s", k, strerror(rc));
			pg_sched_stop(s);
			return PG_ERR_NOMEM;
		}
		s->n_threads++;
	}
	*out = s;
	return PG_OK;
fail:
	destroy(s);
	return e;
}

void
pg_sched_stop(struct pg_sched *s)
{
	int k;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (k = 0; k < s->n_threads; k++)
		pthread_join(s->threads[k], NULL);
	destroy(s);
}
