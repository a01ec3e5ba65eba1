/*
 * sched.c - the scheduler (sched.h): its workers and what they do with a
 * batch.  The queue they take batches from is sched_queue.c.
 *
 * Worker threads share one mutex and condition variable
 * (CLOCK_MONOTONIC): a worker moves whatever is due to the ready queues,
 * takes a batch (sched__take_batch), and sleeps until the earliest next
 * try when there is nothing to do.
 *
 * Work on a batch happens outside the lock: load each delivery and its
 * message, render its templates with the live configuration, record the
 * batch's attempts, call the driver, record the outcomes.  The attempts
 * of a batch go to the store together, as do its outcomes: one group
 * commit each, not one per delivery (a node's claimed deliveries are the
 * exception: one by one).  A store write that
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
#include "pagegate/log.h"
#include "pagegate/sched.h"
#include "pagegate/util.h"
#include "sched_priv.h"

#define STORE_RETRY_MS  5000        /* retry failed bookkeeping after */
#define SCHED_LEASE_MS  30000       /* a node's claim, renewed meanwhile */
#define MAX_WAIT_MS     30000       /* re-read the wall clock this often */
#define MS_PER_S        1000

/* ---- item life ---- */

void
sched__item_free(struct item *it)
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
	sched__heap_push(s, it);
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
	if (it->token)
		sched__token_drop(s, it->token);
	pthread_mutex_unlock(&s->mu);
	sched__item_free(it);
}

/* The store failed: keep the item in memory and try again later.  A
 * store without room (PG_ERR_FULL) logs that spell once itself, so each
 * refused write is only a debug line here (a busy queue would otherwise
 * log several a second). */
static void
store_trouble(struct pg_sched *s, struct item *it, const char *what, pg_err e)
{
	pg_log(e == PG_ERR_FULL ? PG_LOG_DEBUG : PG_LOG_ERR,
	       "store: %s for delivery %lld failed (%s); kept in memory, retrying in %d s",
	       what, (long long)it->did, pg_strerror(e), STORE_RETRY_MS / MS_PER_S);
	requeue(s, it, pg_now_ms() + STORE_RETRY_MS);
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
		pg_channel_name(w->it->channel), pg_text_logsafe(a, sizeof a, w->d.address, SIZE_MAX),
		pg_text_logsafe(b, sizeof b, detail, SIZE_MAX));
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

/* Renders w's content through the one render path (channel.h); a
 * failure decides the outcome without the driver. */
static void
render(const struct pg_chan_host *host, const struct pg_config *cfg,
       const struct pg_channel *drv, struct work *w)
{
	char url[PG_ACK_URL_MAX] = "", why[PG_REPLY_MAX];
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
	w->device = pg_contact_device(w->contact, w->it->channel, w->d.address);
	if (host && host->ack_url)
		host->ack_url(host->ctx, cfg, w->m.id, w->d.id, url, sizeof url);
	if ((e = pg_channel_render(cfg, drv, w->client, w->contact, w->device, &w->m,
				   w->d.id, url, &w->out, why, sizeof why)))
		presolve(w, e == PG_ERR_NOMEM ? PG_OUT_TEMP : PG_OUT_PERM, "%s", why);
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
	render(pg_channels_host(s->channels), cfg, drv, w);
	w->ready = true;
	return true;
}

/* Records the attempts of the batch's ready items: the claimed ones (a
 * node of several) one by one, the others in one group commit.  An item
 * whose attempt is recorded is started (it then needs an outcome); the
 * others have been dropped or requeued. */
static void
begin_all(struct pg_sched *s, struct work *w, size_t n, int64_t now)
{
	int64_t dids[SCHED_BATCH_MAX], aids[SCHED_BATCH_MAX];
	pg_err errs[SCHED_BATCH_MAX], e;
	size_t i, k = 0, idx[SCHED_BATCH_MAX];

	for (i = 0; i < n; i++) {
		struct item *it = w[i].it;

		if (!w[i].ready)
			continue;
		if (!it->token) {
			idx[k] = i;
			dids[k++] = it->did;
			continue;
		}
		e = pg_store_attempt_start_claimed(s->store, it->did, it->token, now,
						   &w[i].aid);
		if (e == PG_ERR_EXISTS) {
			pg_warn("delivery %lld: this node's claim was lost before its "
				"attempt; another node has it", (long long)it->did);
			drop(s, it);
		} else if (e)
			store_trouble(s, it, "recording the attempt", e);
		else
			w[i].started = true;
	}
	pg_store_attempt_start_many(s->store, dids, k, now, aids, errs);
	for (i = 0; i < k; i++) {
		if (errs[i]) {
			store_trouble(s, w[idx[i]].it, "recording the attempt", errs[i]);
			continue;
		}
		w[idx[i]].aid = aids[i];
		w[idx[i]].started = true;
	}
}

/* Writes an outcome; on success requeues a retry or forgets a final
 * delivery, on failure keeps the record to replay later. */
static void
finished(struct pg_sched *s, struct item *it, const struct finish_rec *r, pg_err e);

static void
apply_finish(struct pg_sched *s, struct item *it, const struct finish_rec *r)
{
	pg_err e = it->token ?
		pg_store_attempt_finish_claimed(s->store, it->did, it->token, r->aid,
			r->at, r->outcome, r->reply, r->state, r->next) :
		pg_store_attempt_finish(s->store, it->did, r->aid, r->at,
					r->outcome, r->reply, r->state, r->next);

	finished(s, it, r, e);
}

/* What follows the write of outcome r (e: the store's answer). */
static void
finished(struct pg_sched *s, struct item *it, const struct finish_rec *r, pg_err e)
{
	enum pg_dstate state;
	int64_t next;

	if (e == PG_ERR_EXISTS && it->token) {
		/* the store said "possible duplicate" in the ledger */
		pg_warn("delivery %lld: outcome not recorded: this node's claim "
			"was lost while it sent (possible duplicate)",
			(long long)it->did);
		drop(s, it);
		return;
	}
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
	if (state == PG_D_QUEUED && !it->token) {
		requeue(s, it, next);
		return;
	}
	if (state == PG_D_QUEUED) {         /* claimed again once it is due */
		drop(s, it);
		return;
	}
	pg_metrics_final(s->metrics, it->channel, state != PG_D_FAILED);
	drop(s, it);
}

/* Decides and logs the outcome of one attempt into r (finish_all
 * records it). */
static void
decide(struct pg_sched *s, const struct pg_config *cfg, struct work *w,
       enum pg_outcome o, const char *reply, int64_t dur_ms, struct finish_rec *rec)
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
		pg_channel_name(w->it->channel), pg_text_logsafe(a, sizeof a, w->d.address, SIZE_MAX),
		(long long)dur_ms, pg_outcome_name(o), pg_text_logsafe(b, sizeof b, r.reply, SIZE_MAX),
		pg_dstate_name(r.state), tail);
	*rec = r;
}

/* Records the outcomes recs[0..n) of the batch's items its[]: the claimed
 * ones one by one, the others in one group commit. */
static void
finish_all(struct pg_sched *s, struct item **its, const struct finish_rec *recs, size_t n)
{
	struct pg_attempt_end v[SCHED_BATCH_MAX];
	size_t i, k = 0, idx[SCHED_BATCH_MAX];

	for (i = 0; i < n; i++) {
		if (its[i]->token) {
			apply_finish(s, its[i], &recs[i]);
			continue;
		}
		idx[k] = i;
		v[k] = (struct pg_attempt_end){ .did = its[i]->did, .aid = recs[i].aid,
			.at_ms = recs[i].at, .next_try_ms = recs[i].next,
			.outcome = recs[i].outcome, .reply = recs[i].reply,
			.state = recs[i].state };
		k++;
	}
	pg_store_attempt_finish_many(s->store, v, k);
	for (i = 0; i < k; i++)
		finished(s, its[idx[i]], &recs[idx[i]], v[i].err);
}

static void
work_free(struct work *w)
{
	if (w->have_d)
		pg_delivery_free(&w->d);
	if (w->have_m)
		pg_message_free(&w->m);
	pg_rendered_free(&w->out);
}

/* One batch: all items share channel and gateway. */
static void
process_batch(struct pg_sched *s, struct item **items, size_t n)
{
	struct pg_config *cfg = pg_live_get(s->live);
	enum pg_channel_kind ch = items[0]->channel;
	const struct pg_channel *drv = pg_channels_driver(s->channels, ch);
	const char *gateway = items[0]->gateway;
	struct work w[SCHED_BATCH_MAX];
	struct pg_job jobs[SCHED_BATCH_MAX];
	int64_t now = pg_now_ms(), t0, dur = 0;
	size_t i, nj = 0, cap = drv && drv->max_batch > 0 ? drv->max_batch : 1;
	char reply[DETAIL_MAX];
	struct finish_rec recs[SCHED_BATCH_MAX];   /* the outcomes, recorded together */
	struct item *fit[SCHED_BATCH_MAX];
	size_t nf = 0;

	memset(w, 0, n * sizeof w[0]);
	memset(jobs, 0, sizeof jobs);
	for (i = 0; i < n; i++) {
		w[i].it = items[i];
		w[i].job = -1;
		pg_rendered_init(&w[i].out);
		if (items[i]->pending) {               /* replay bookkeeping only */
			apply_finish(s, items[i], items[i]->pending);
			continue;
		}
		w[i].gather = items[i]->rcpt != NULL;
		prepare(s, cfg, drv, &w[i], now);
	}
	begin_all(s, w, n, now);
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
		jobs[nj].subject = w[i].out.has_subject ?
			(w[i].out.subject.data ? w[i].out.subject.data : "") : NULL;
		jobs[nj].body = w[i].out.body.data ? w[i].out.body.data : "";
		jobs[nj].urgency = w[i].m.urgency;
		jobs[nj].outcome = PG_OUT_TEMP;
		jobs[nj].reply[0] = '\0';
		nj++;
	}
	if (nj > 0) {
		t0 = pg_mono_ms();
		for (i = 0; i < nj; i += cap)   /* digests of two clients may exceed it */
			drv->send(pg_channels_state(s->channels, ch), cfg, gateway, jobs + i,
				  nj - i < cap ? nj - i : cap);
		dur = pg_mono_ms() - t0;
	}
	for (i = 0; i < n; i++) {
		if (!w[i].started)
			continue;
		fit[nf] = items[i];
		if (w[i].presolved)
			decide(s, cfg, &w[i], w[i].outcome, w[i].reply, 0, &recs[nf++]);
		else {
			struct pg_job *j = &jobs[w[i].job];
			enum pg_outcome o = (unsigned)j->outcome < PG_OUT__COUNT ?
				j->outcome : PG_OUT_TEMP;
			j->reply[PG_REPLY_MAX - 1] = '\0';
			if (w[i].lead >= 0)
				w[i].retry_at = w[w[i].lead].retry_at;
			sched__digest_reply(&w[i], w, j->reply[0] ? j->reply : "driver gave no reply",
					    reply, sizeof reply);
			decide(s, cfg, &w[i], o, reply, dur, &recs[nf++]);
		}
	}
	finish_all(s, fit, recs, nf);
	for (i = 0; i < n; i++)
		work_free(&w[i]);
	pg_config_release(cfg);
}

/* Sleeps until the earliest next try (bounded), or a signal. */
static void
wait_for_work(struct pg_sched *s)
{
	int64_t ms = MAX_WAIT_MS, d;

	if (s->n_heap > 0) {
		d = s->heap[0]->next_try - pg_now_ms();
		if (d < ms)
			ms = d;
	}
	pg_cond_wait_ms(&s->cv, &s->mu, ms);
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
		sched__dispatch_due(s, pg_now_ms());
		if ((n = sched__take_batch(s, batch)) == 0) {
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

void
pg_sched_poke(void *arg)
{
	struct pg_sched *s = arg;

	if (!s->claims)
		return;
	pthread_mutex_lock(&s->mu);
	s->poke = true;
	pthread_cond_signal(&s->fcv);
	pthread_mutex_unlock(&s->mu);
}

pg_err
pg_sched_add(struct pg_sched *s, const struct pg_delivery *d)
{
	if (s->claims) {                /* the feeder claims it from the store */
		pthread_mutex_lock(&s->mu);
		s->poke = true;
		pthread_cond_signal(&s->fcv);
		pthread_mutex_unlock(&s->mu);
		return PG_OK;
	}
	return sched__add(s, d, 0);
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
	struct item *it, *nx;
	size_t i;
	int k;

	for (i = 0; i < s->n_heap; i++)
		sched__item_free(s->heap[i]);
	for (k = 0; k < PG_PRIO_LEVELS; k++)
		for (it = s->ready_head[k]; it; it = nx) {
			nx = it->next;
			sched__item_free(it);
		}
	free(s->heap);
	free(s->threads);
	free(s->tokens);
	if (s->claims)
		pthread_cond_destroy(&s->fcv);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

pg_err
pg_sched_start(const struct pg_sched_deps *deps, struct pg_sched **out)
{
	struct pg_sched *s;
	struct load_ctx lc;
	pg_err e = PG_OK;
	int k, rc;

	*out = NULL;
	if (!deps->store || !deps->live || !deps->metrics || !deps->channels ||
	    deps->workers < 1)
		return PG_ERR_INVAL;
	if (!(s = calloc(1, sizeof *s)))
		return PG_ERR_NOMEM;
	s->store = deps->store;
	s->live = deps->live;
	s->metrics = deps->metrics;
	s->channels = deps->channels;
	if (pg_cond_init_mono(&s->cv) != PG_OK) {
		free(s);
		return PG_ERR_NOMEM;
	}
	pthread_mutex_init(&s->mu, NULL);

	memset(&lc, 0, sizeof lc);
	lc.s = s;
	s->claims = pg_store_node(s->store) != NULL;
	s->lease_ms = deps->lease_ms > 0 ? deps->lease_ms : SCHED_LEASE_MS;
	if (s->claims && pg_cond_init_mono(&s->fcv) != PG_OK) {
		e = PG_ERR_NOMEM;
		s->claims = false;
		goto fail;
	}
	if (s->claims)
		pg_info("scheduler: node \"%s\", leases of %lld ms",
			pg_store_node(s->store), (long long)s->lease_ms);
	else if ((e = pg_store_load_pending(s->store, load_one, &lc)) || (e = lc.e)) {
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
	if (s->claims && (e = sched__node_start(s))) {
		pg_sched_stop(s);
		return e;
	}
	*out = s;
	return PG_OK;
fail:
	destroy(s);
	return e;
}

/* At the stop, one last try to record the outcomes the store refused
 * (attempts that did happen).  One that still fails is said plainly: the
 * store still says "sending", so the next start queues it again and a
 * recipient may get it twice.  Workers have stopped. */
static void
flush_pending(struct pg_sched *s, struct item *it)
{
	const struct finish_rec *r = it->pending;
	pg_err e;

	if (!r)
		return;
	e = pg_store_attempt_finish(s->store, it->did, r->aid, r->at, r->outcome,
				    r->reply, r->state, r->next);
	if (e)
		pg_error("delivery %lld: its outcome (%s, state %s) could not be "
			 "recorded before the stop (%s); the store still says "
			 "sending, so the next start tries it again",
			 (long long)it->did, pg_outcome_name(r->outcome),
			 pg_dstate_name(r->state), pg_strerror(e));
	else
		pg_info("delivery %lld: outcome recorded at the stop", (long long)it->did);
}

void
pg_sched_stop(struct pg_sched *s)
{
	struct item *it;
	int k;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (k = 0; k < s->n_threads; k++)
		pthread_join(s->threads[k], NULL);
	sched__node_stop(s);
	for (size_t i = 0; i < s->n_heap; i++)
		flush_pending(s, s->heap[i]);
	for (k = 0; k < PG_PRIO_LEVELS; k++)
		for (it = s->ready_head[k]; it; it = it->next)
			flush_pending(s, it);
	destroy(s);
}
