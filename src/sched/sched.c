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
 * message, render its templates with the live configuration, call the
 * driver.  Without send_each() a batch's attempts are recorded together
 * before it is sent and its outcomes together after (one group commit
 * each; a node's claimed deliveries one by one: sched_record.c).  With
 * send_each() each attempt is recorded as its job starts, in the same
 * group commit as the outcome the driver reported for the job before
 * (the last job's outcome at once); between jobs the batch stops
 * for a stop or for more urgent work no idle worker can take, the rest
 * going back to the queue unstarted.  One reserve worker takes priority
 * 0 only.  A store write that
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

#define SCHED_LEASE_MS  30000       /* a node's claim, renewed meanwhile */
#define MAX_WAIT_MS     30000       /* re-read the wall clock this often */
#define MS_PER_S        1000

/* ---- item life ---- */

/* Fails a delivery without an attempt (expired, no driver). */
static void
fail_now(struct pg_sched *s, struct work *w, const char *detail)
{
	char a[256], b[DETAIL_MAX];
	pg_err e;

	if ((e = pg_store_set_state(s->store, w->it->did, PG_D_FAILED, 0,
				    "failed", detail))) {
		sched__store_trouble(s, w->it, "marking failed", e);
		return;
	}
	pg_metrics_final(s->metrics, w->it->channel, false);
	pg_info("delivery mid=%lld did=%lld channel=%s to=%s failed: %s",
		(long long)w->d.message_id, (long long)w->it->did,
		pg_channel_name(w->it->channel), pg_text_logsafe(a, sizeof a, w->d.address, SIZE_MAX),
		pg_text_logsafe(b, sizeof b, detail, SIZE_MAX));
	sched__drop(s, w->it);
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

/* Everything before the attempt.  Returns true when the item is ready
 * for one (w->ready; sched__begin() records it); otherwise the item has been
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
			sched__store_trouble(s, it, "reading the delivery", e);
			return false;
		}
		pg_warn("delivery %lld is no longer in the store; dropped", (long long)it->did);
		sched__drop(s, it);
		return false;
	}
	w->have_d = true;
	if (pg_dstate_final(w->d.state)) {
		pg_debug("delivery %lld is already %s", (long long)it->did,
			 pg_dstate_name(w->d.state));
		sched__drop(s, it);
		return false;
	}
	if (w->d.state == PG_D_HELD) {
		if ((e = pg_store_set_state(s->store, it->did, PG_D_QUEUED, now,
					    "released", "hold ended"))) {
			sched__store_trouble(s, it, "releasing the hold", e);
			return false;
		}
		it->held = false;
		pg_info("released mid=%lld did=%lld", (long long)w->d.message_id,
			(long long)it->did);
	}
	if (now >= sched__expires_of(&w->d, pg_config_retry(cfg, it->channel))) {
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
			sched__store_trouble(s, it, "reading the message", e);
			return false;
		}
		pg_warn("message %lld of delivery %lld is gone; dropped",
			(long long)w->d.message_id, (long long)it->did);
		sched__drop(s, it);
		return false;
	}
	w->have_m = true;
	render(pg_channels_host(s->channels), cfg, drv, w);
	w->ready = true;
	return true;
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

/* A batch under way, for the driver's send_each() callbacks. */
struct batch {
	struct pg_sched *s;
	const struct pg_config *cfg;
	struct work *w;
	size_t n;
	struct pg_job *jobs;
	size_t off;                  /* the driver's job 0 is jobs[off] */
	size_t end;                  /* and its last jobs[end - 1] */
	bool yielded;                /* stopped early for more urgent work */
	/* outcomes are gathered here and recorded together: with the
	 * batch's others, or with the attempt of the next job (send_each) */
	struct finish_rec *recs;
	struct item **fit;
	size_t nf;
};

/* Decides the outcome of every started entry of job j (those of a digest
 * together, the lead first) into b->recs, to be recorded. */
static void
job_finish(struct batch *b, size_t j)
{
	struct work *w = b->w;
	struct pg_job *jb = &b->jobs[j];
	enum pg_outcome o = (unsigned)jb->outcome < PG_OUT__COUNT ? jb->outcome : PG_OUT_TEMP;
	char reply[DETAIL_MAX];

	jb->reply[PG_REPLY_MAX - 1] = '\0';
	for (size_t i = 0; i < b->n; i++) {
		if (w[i].job != (int)j || !w[i].started || w[i].finished)
			continue;
		if (w[i].lead >= 0)
			w[i].retry_at = w[w[i].lead].retry_at;
		sched__digest_reply(&w[i], w, jb->reply[0] ? jb->reply : "driver gave no reply",
				    reply, sizeof reply);
		b->fit[b->nf] = w[i].it;        /* recorded later, together */
		sched__decide(b->s, b->cfg, &w[i], o, reply,
			      pg_mono_ms() - w[i].t0, &b->recs[b->nf++]);
		w[i].finished = true;
	}
}

/* send_each()'s start(): job j may go unless the scheduler is stopping
 * or, past the batch's first job, more urgent work waits for a worker;
 * then its attempt (each delivery's, for a digest) is recorded. */
static bool
job_start(void *arg, size_t rel)
{
	struct batch *b = arg;
	size_t j = rel + b->off;
	struct pg_sched *s = b->s;
	struct work *ws[SCHED_BATCH_MAX];
	int prio = PG_PRIO_LEVELS;
	bool go, ok;
	size_t i, nw = 0;

	for (i = 0; i < b->n; i++)
		if (b->w[i].job == (int)j && b->w[i].it->prio < prio)
			prio = b->w[i].it->prio;
	pthread_mutex_lock(&s->mu);
	sched__dispatch_due(s, pg_now_ms());
	go = !s->stopping;
	if (go && j > 0 && !b->yielded && sched__should_yield(s, prio)) {
		b->yielded = true;
		go = false;
	}
	pthread_mutex_unlock(&s->mu);
	if (!go) {            /* the outcome of the job before, at once */
		sched__finish_all(s, b->fit, b->recs, b->nf);
		b->nf = 0;
		return false;
	}
	/* the outcome of the job before and this job's attempt: one commit */
	for (i = 0; i < b->n; i++)
		if (b->w[i].job == (int)j)
			ws[nw++] = &b->w[i];
	ok = sched__record(s, b->fit, b->recs, b->nf, ws, nw, pg_now_ms());
	b->nf = 0;
	if (!ok) {          /* store trouble: whatever began of job j fails */
		pg_job_set(&b->jobs[j], PG_OUT_TEMP, "not sent: the store could not "
			   "record the attempt of a delivery sent with it");
		job_finish(b, j);
	}
	return ok;
}

/* send_each()'s done(): job j's outcome is decided now and recorded
 * with the next job's attempt (moments later), or at once when j is the
 * last job the driver was given. */
static void
job_done(void *arg, size_t rel)
{
	struct batch *b = arg;

	job_finish(b, rel + b->off);
	if (rel + b->off + 1 >= b->end && b->nf > 0) {
		sched__finish_all(b->s, b->fit, b->recs, b->nf);
		b->nf = 0;
	}
}

/* One batch: all items share channel and gateway.  Returns true when the
 * driver stopped it early for more urgent work. */
static bool
process_batch(struct pg_sched *s, struct item **items, size_t n)
{
	struct pg_config *cfg = pg_live_get(s->live);
	enum pg_channel_kind ch = items[0]->channel;
	const struct pg_channel *drv = pg_channels_driver(s->channels, ch);
	const char *gateway = items[0]->gateway;
	struct work w[SCHED_BATCH_MAX];
	struct pg_job jobs[SCHED_BATCH_MAX];
	struct item *back[SCHED_BATCH_MAX], *fit[SCHED_BATCH_MAX];
	struct finish_rec recs[SCHED_BATCH_MAX];
	struct batch b = { s, cfg, w, n, jobs, 0, 0, false, recs, fit, 0 };
	struct pg_send_ctl ctl = { &b, job_start, job_done };
	int64_t now = pg_now_ms();
	size_t i, nj = 0, nb = 0, sent = 0,
		cap = drv && drv->max_batch > 0 ? drv->max_batch : 1;

	memset(w, 0, n * sizeof w[0]);
	memset(jobs, 0, sizeof jobs);
	for (i = 0; i < n; i++) {
		w[i].it = items[i];
		w[i].job = -1;
		pg_rendered_init(&w[i].out);
		if (items[i]->pending) {               /* replay bookkeeping only */
			sched__apply_finish(s, items[i], items[i]->pending);
			continue;
		}
		w[i].gather = items[i]->rcpt != NULL;
		prepare(s, cfg, drv, &w[i], now);
		if (w[i].ready && drv->send_each && w[i].presolved)
			sched__begin(s, &w[i], pg_now_ms());
	}
	/* without send_each() every attempt is recorded first, together */
	if (drv && !drv->send_each)
		sched__begin_all(s, w, n, now);
	sched__digests(cfg, drv, w, n);
	for (i = 0; i < n; i++) {
		if (!w[i].ready)
			continue;
		if (w[i].presolved) {          /* decided without the driver */
			sched__finish(s, cfg, &w[i], w[i].outcome, w[i].reply, 0);
			w[i].finished = true;
			continue;
		}
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
		jobs[nj].expires_ms = sched__expires_of(&w[i].d, pg_config_retry(cfg, ch));
		jobs[nj].subject = w[i].out.has_subject ?
			(w[i].out.subject.data ? w[i].out.subject.data : "") : NULL;
		jobs[nj].body = w[i].out.body.data ? w[i].out.body.data : "";
		jobs[nj].urgency = w[i].m.urgency;
		jobs[nj].outcome = PG_OUT_TEMP;
		jobs[nj].reply[0] = '\0';
		nj++;
	}
	if (nj > 0 && drv->send_each) {
		/* job by job: each attempt recorded as it starts, each outcome
		 * as the far end gives it; the driver may stop between jobs */
		for (i = 0; i < nj; i = sent) {
			size_t k = nj - i < cap ? nj - i : cap, r;

			b.off = i;
			b.end = i + k;
			r = drv->send_each(pg_channels_state(s->channels, ch), cfg,
						   gateway, jobs + i, k, &ctl);
			/* (its indices are relative to jobs + i) */
			sent = i + (r < k ? r : k);
			if (sent < i + k)
				break;
		}
	} else if (nj > 0) {
		for (i = 0; i < nj; i += cap)   /* digests of two clients may exceed it */
			drv->send(pg_channels_state(s->channels, ch), cfg, gateway, jobs + i,
				  nj - i < cap ? nj - i : cap);
		sent = nj;
	}
	for (i = 0; i < nj; i++)
		if (i < sent)
			job_finish(&b, i);              /* the driver did not say done */
	if (b.nf > 0)
		sched__finish_all(s, b.fit, b.recs, b.nf);
	for (i = 0; i < n; i++)
		if (w[i].ready && !w[i].started)    /* never started: stays queued */
			back[nb++] = w[i].it;
	if (nb > 0) {
		pthread_mutex_lock(&s->mu);
		sched__hand_back(s, back, nb);
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pg_debug("batch of %zu on %s: %zu handed back unstarted%s", n,
			 pg_channel_name(ch), nb, b.yielded ? " for more urgent work" : "");
	}
	for (i = 0; i < n; i++)
		work_free(&w[i]);
	pg_config_release(cfg);
	return b.yielded;
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

/* A worker: takes batches until the stop.  The reserve worker takes
 * only priority 0 (dispatches, emergencies), so one of them never waits
 * for routine work to finish; woken for what it may not take, it passes
 * the wake-up on to a peer. */
static void
work(struct pg_sched *s, bool reserve)
{
	struct item *batch[SCHED_BATCH_MAX];
	size_t n;
	int p;
	bool yielded, more;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		sched__dispatch_due(s, pg_now_ms());
		n = sched__take_batch(s, batch, reserve ? 0 : PG_PRIO_LEVELS - 1);
		for (p = 0, more = false; p < PG_PRIO_LEVELS && !more; p++)
			more = s->ready_head[p] != NULL;
		if (more)                       /* more due: wake a peer */
			pthread_cond_signal(&s->cv);
		if (n == 0) {
			if (reserve)
				s->reserve_idle = true;
			else
				s->n_idle++;
			wait_for_work(s);
			if (reserve)
				s->reserve_idle = false;
			else
				s->n_idle--;
			continue;
		}
		pthread_mutex_unlock(&s->mu);
		yielded = process_batch(s, batch, n);
		pthread_mutex_lock(&s->mu);
		if (yielded)            /* back for the urgent work it saw */
			s->n_yielding--;
	}
	pthread_mutex_unlock(&s->mu);
}

static void *
worker(void *arg)
{
	work(arg, false);
	return NULL;
}

static void *
reserve_worker(void *arg)
{
	work(arg, true);
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

pg_err
pg_sched_add_many(struct pg_sched *s, const struct pg_delivery *d, size_t n)
{
	size_t added;

	if (s->claims)
		return pg_sched_add(s, d);      /* a poke: the feeder claims them */
	return n ? sched__add_all(s, d, NULL, n, &added) : PG_OK;
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
	pg_info("scheduler: %zu pending deliveries (%zu held), %d workers "
		"and one kept for dispatches and emergencies",
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
	if ((rc = pthread_create(&s->reserve, NULL, reserve_worker, s)) != 0) {
		pg_error("cannot start the scheduler's reserve worker: %s", strerror(rc));
		pg_sched_stop(s);
		return PG_ERR_NOMEM;
	}
	s->reserve_started = true;
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
	if (s->reserve_started)
		pthread_join(s->reserve, NULL);
	sched__node_stop(s);
	for (size_t i = 0; i < s->n_heap; i++)
		flush_pending(s, s->heap[i]);
	for (k = 0; k < PG_PRIO_LEVELS; k++)
		for (it = s->ready_head[k]; it; it = it->next)
			flush_pending(s, it);
	destroy(s);
}
