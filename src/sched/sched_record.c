/*
 * sched_record.c - the scheduler's bookkeeping in the store (sched_priv.h):
 * an item's life (requeued, dropped, kept in memory while the store is in
 * trouble), an attempt recorded as it starts - one by one, or a batch's in
 * one group commit (a node's claimed deliveries one by one) - and an
 * outcome decided (retry, give up), logged and recorded, one by one or a
 * batch's together.  An outcome the store refused is kept on the item and
 * replayed without sending again.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/backoff.h"
#include "pagegate/log.h"
#include "pagegate/sched.h"
#include "pagegate/util.h"
#include "sched_priv.h"

#define MS_PER_S        1000
#define STORE_RETRY_MS  5000        /* retry failed bookkeeping after */

static void
finished(struct pg_sched *s, struct item *it, const struct finish_rec *r, pg_err e);

/* Puts an item back to wait until next_try. */
void
sched__requeue(struct pg_sched *s, struct item *it, int64_t next_try)
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
void
sched__drop(struct pg_sched *s, struct item *it)
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
void
sched__store_trouble(struct pg_sched *s, struct item *it, const char *what, pg_err e)
{
	pg_log(e == PG_ERR_FULL ? PG_LOG_DEBUG : PG_LOG_ERR,
	       "store: %s for delivery %lld failed (%s); kept in memory, retrying in %d s",
	       what, (long long)it->did, pg_strerror(e), STORE_RETRY_MS / MS_PER_S);
	sched__requeue(s, it, pg_now_ms() + STORE_RETRY_MS);
}

/* Give-up time of a delivery; the retry policy's when none was stored. */
int64_t
sched__expires_of(const struct pg_delivery *d, const struct pg_retry_policy *pol)
{
	if (d->expires_ms > 0)
		return d->expires_ms;
	return d->created_ms + (int64_t)(pol ? pol->give_up_s : 0) * MS_PER_S;
}

/* Records the attempt of a prepared item, started at now, just before
 * it is sent.  Returns true when recorded (w->started: the item then
 * needs an outcome); otherwise the item has been dropped or requeued
 * already (and is not w->ready any more). */
bool
sched__begin(struct pg_sched *s, struct work *w, int64_t now)
{
	struct item *it = w->it;
	pg_err e = it->token ?
		pg_store_attempt_start_claimed(s->store, it->did, it->token, now, &w->aid) :
		pg_store_attempt_start(s->store, it->did, now, &w->aid);

	if (e == PG_ERR_EXISTS && it->token) {
		pg_warn("delivery %lld: this node's claim was lost before its "
			"attempt; another node has it", (long long)it->did);
		w->ready = false;
		sched__drop(s, it);
		return false;
	}
	if (e) {
		w->ready = false;
		sched__store_trouble(s, it, "recording the attempt", e);
		return false;
	}
	w->started = true;
	w->t0 = pg_mono_ms();
	return true;
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
		sched__drop(s, it);
		return;
	}
	if (e) {
		if (it->pending != r) {
			if (!it->pending && !(it->pending = malloc(sizeof *it->pending))) {
				pg_error("delivery %lld: outcome lost (out of memory); "
					 "the store still says sending", (long long)it->did);
				sched__drop(s, it);
				return;
			}
			*it->pending = *r;
		}
		sched__store_trouble(s, it, "recording the outcome", e);
		return;
	}
	state = r->state;                       /* r may be it->pending */
	next = r->next;
	free(it->pending);
	it->pending = NULL;
	if (state == PG_D_QUEUED && !it->token) {
		sched__requeue(s, it, next);
		return;
	}
	if (state == PG_D_QUEUED) {         /* claimed again once it is due */
		sched__drop(s, it);
		return;
	}
	pg_metrics_final(s->metrics, it->channel, state != PG_D_FAILED);
	sched__drop(s, it);
}

/* Writes an outcome; on success requeues a retry or forgets a final
 * delivery, on failure keeps the record to replay later. */
void
sched__apply_finish(struct pg_sched *s, struct item *it, const struct finish_rec *r)
{
	pg_err e = it->token ?
		pg_store_attempt_finish_claimed(s->store, it->did, it->token, r->aid,
			r->at, r->outcome, r->reply, r->state, r->next) :
		pg_store_attempt_finish(s->store, it->did, r->aid, r->at,
					r->outcome, r->reply, r->state, r->next);

	finished(s, it, r, e);
}

/* Decides and logs the outcome of one attempt into r (finish_all
 * records it). */
void
sched__decide(struct pg_sched *s, const struct pg_config *cfg, struct work *w,
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
		 pg_backoff_next(pol, attempts, now, sched__expires_of(&w->d, pol),
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

/* Decides, logs and records the outcome of one attempt. */
void
sched__finish(struct pg_sched *s, const struct pg_config *cfg, struct work *w,
	      enum pg_outcome o, const char *reply, int64_t dur_ms)
{
	struct finish_rec r;

	sched__decide(s, cfg, w, o, reply, dur_ms, &r);
	sched__apply_finish(s, w->it, &r);
}

/* Records the outcomes recs[0..nf) of items its[], then the attempts of
 * the works ws[0..nw) (ready, not started), all in one group commit; a
 * node's claimed items go one by one.  A work whose attempt is recorded
 * is started (it then needs an outcome); the others have been dropped or
 * requeued (ready false).  Returns false when any attempt was not
 * recorded. */
bool
sched__record(struct pg_sched *s, struct item **its, const struct finish_rec *recs,
	      size_t nf, struct work **ws, size_t nw, int64_t now)
{
	struct pg_attempt_end v[SCHED_BATCH_MAX];
	int64_t dids[SCHED_BATCH_MAX] = { 0 }, aids[SCHED_BATCH_MAX];
	pg_err errs[SCHED_BATCH_MAX];
	size_t i, k = 0, m = 0, fidx[SCHED_BATCH_MAX], widx[SCHED_BATCH_MAX];
	bool ok = true;

	for (i = 0; i < nf; i++) {
		if (its[i]->token) {
			sched__apply_finish(s, its[i], &recs[i]);
			continue;
		}
		fidx[k] = i;
		v[k] = (struct pg_attempt_end){ .did = its[i]->did, .aid = recs[i].aid,
			.at_ms = recs[i].at, .next_try_ms = recs[i].next,
			.outcome = recs[i].outcome, .reply = recs[i].reply,
			.state = recs[i].state };
		k++;
	}
	for (i = 0; i < nw; i++) {
		struct work *w = ws[i];
		struct item *it = w->it;

		if (!it->token) {
			widx[m] = i;
			dids[m++] = it->did;
			continue;
		}
		if (!sched__begin(s, w, now))      /* claimed: on its own */
			ok = false;
	}
	pg_store_attempt_record(s->store, v, k, dids, m, now, aids, errs);
	for (i = 0; i < k; i++)
		finished(s, its[fidx[i]], &recs[fidx[i]], v[i].err);
	for (i = 0; i < m; i++) {
		struct work *w = ws[widx[i]];

		if (errs[i]) {
			w->ready = false;
			sched__store_trouble(s, w->it, "recording the attempt", errs[i]);
			ok = false;
			continue;
		}
		w->aid = aids[i];
		w->started = true;
		w->t0 = pg_mono_ms();
	}
	return ok;
}

/* Records the attempts of the batch's ready items w[0..n) not started
 * yet (sched__record). */
void
sched__begin_all(struct pg_sched *s, struct work *w, size_t n, int64_t now)
{
	struct work *ws[SCHED_BATCH_MAX];
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (w[i].ready && !w[i].started)
			ws[k++] = &w[i];
	(void)sched__record(s, NULL, NULL, 0, ws, k, now);
}

/* Records the outcomes recs[0..n) of the batch's items its[]
 * (sched__record). */
void
sched__finish_all(struct pg_sched *s, struct item **its, const struct finish_rec *recs, size_t n)
{
	(void)sched__record(s, its, recs, n, NULL, 0, 0);
}
