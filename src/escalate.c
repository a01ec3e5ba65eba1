/*
 * escalate.c - escalation until acknowledged (escalate.h).
 *
 * Memory holds only a min-heap of (message, due time, expected next time);
 * the store holds the truth.  An entry fires only if the message's stored
 * esc_next_ms still equals the time the entry was made for, so entries
 * left behind by a re-trigger or a duplicate wake simply lapse.  The thread
 * sleeps on a CLOCK_MONOTONIC condition variable until the earliest due
 * time (re-reading the wall clock at least every MAX_WAIT_MS).
 *
 * A node of several keeps no heap: every second (sooner when woken) it
 * asks the store to claim the escalations due by the database's clock and
 * fire their steps in the same transaction (pg_store_esc_fire_due, with
 * build_step saying what a step is), so each step fires once whichever
 * node claims it, and none after an acknowledgement (which locks the
 * message's row first).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pagegate/escalate.h"
#include "pagegate/route.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define HEAP_MIN       64
#define MAX_WAIT_MS    30000     /* re-read the wall clock this often */
#define STORE_RETRY_MS 5000      /* a step the store refused is tried again */
#define DETAIL_MAX     1024
#define MS_PER_S       1000
#define RESCAN_MS      1000      /* a node of several looks at the store */
#define FIRE_BATCH     32        /* due escalations fired per transaction */

struct entry {
	int64_t mid;
	int64_t due;                 /* when to look at it (wall clock, ms) */
	int64_t key;                 /* the esc_next_ms it was made for */
};

struct pg_esc {
	struct pg_store *store;
	struct pg_live_config *live;
	struct pg_sched *sched;
	struct pg_metrics *metrics;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	struct entry *heap;
	size_t n, cap;
	pthread_t thread;
	bool started;
	bool claims;                 /* a node of several: the store claims
					due escalations (fire_due) */
	int64_t scanned;             /* when fire_due last ran */
};

/* ---- pure parts ---- */

pg_err
pg_esc_begin(const struct pg_client *cl, const struct pg_plan *plan,
	     struct pg_message *m, int64_t now_ms)
{
	const struct pg_escalation *p;

	if (!plan->escalate || plan->escalate > cl->n_escalations)
		return PG_OK;
	p = &cl->escalations[plan->escalate - 1];
	if (!(m->esc_policy = strdup(p->id)))
		return PG_ERR_NOMEM;
	m->esc_fired = 1;
	m->esc_total = pg_esc_total(p);
	m->esc_next_ms = now_ms + (int64_t)p->steps[0].wait_s * MS_PER_S;
	m->esc_state = PG_ES_ACTIVE;
	return PG_OK;
}

int64_t
pg_esc_step_at(const struct pg_escalation *p, int64_t t0_s, int step)
{
	int64_t t = t0_s;

	for (int k = 1; k < step && k <= pg_esc_total(p); k++)
		t += pg_esc_step_of(p, k)->wait_s;
	return t;
}

int64_t
pg_esc_end_at(const struct pg_escalation *p, int64_t t0_s)
{
	return pg_esc_step_at(p, t0_s, pg_esc_total(p) + 1);
}

/* ---- heap (caller holds mu) ---- */

static pg_err
heap_push(struct pg_esc *e, const struct entry *x)
{
	size_t i;

	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : HEAP_MIN;
		struct entry *nh = realloc(e->heap, nc * sizeof *nh);

		if (!nh)
			return PG_ERR_NOMEM;
		e->heap = nh;
		e->cap = nc;
	}
	i = e->n++;
	while (i > 0 && x->due < e->heap[(i - 1) / 2].due) {
		e->heap[i] = e->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	e->heap[i] = *x;
	return PG_OK;
}

static struct entry
heap_pop(struct pg_esc *e)
{
	struct entry top = e->heap[0], last = e->heap[--e->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= e->n)
			break;
		if (c + 1 < e->n && e->heap[c + 1].due < e->heap[c].due)
			c++;
		if (last.due <= e->heap[c].due)
			break;
		e->heap[i] = e->heap[c];
		i = c;
	}
	if (e->n > 0)
		e->heap[i] = last;
	return top;
}

/* Adds an entry and wakes the thread. */
static pg_err
push(struct pg_esc *e, int64_t mid, int64_t due, int64_t key)
{
	struct entry x = { mid, due, key };
	pg_err err;

	pthread_mutex_lock(&e->mu);
	err = heap_push(e, &x);
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	return err;
}

static void
push_or_warn(struct pg_esc *e, int64_t mid, int64_t due, int64_t key)
{
	if (push(e, mid, due, key) != PG_OK)
		pg_error("escalation of message %lld: out of memory; its next "
			 "step runs after a restart", (long long)mid);
}

/* ---- firing a step ---- */

/* "step 2 of 6 (policy emergency): raj by sms, raj by pager" into b. */
static void
step_detail(char *b, size_t n, const struct pg_message *m, int step,
	    const struct pg_delivery *d, size_t nd)
{
	size_t len;

	snprintf(b, n, "step %d of %d (policy %s): ", step, m->esc_total, m->esc_policy);
	if (nd == 0)
		snprintf(b + strlen(b), n - strlen(b), "nobody to notify at this step");
	for (size_t i = 0; i < nd; i++) {
		len = strlen(b);
		if (len + 8 >= n)
			break;
		snprintf(b + len, n - len, "%s%s by %s", i ? ", " : "",
			 d[i].contact_id, pg_channel_name(d[i].channel));
	}
}

static void
free_deliveries(struct pg_delivery *d, size_t nd)
{
	for (size_t i = 0; i < nd; i++)
		pg_delivery_free(&d[i]);
	free(d);
}

/* What step m->esc_fired + 1 of message m (active, unacknowledged, due)
 * is at now: its deliveries, or the verdict; into s (pg_esc_build, also
 * called by the store inside the transaction that claimed a node's due
 * escalation). */
static pg_err
build_step(void *arg, const struct pg_message *m, int64_t now,
	   struct pg_esc_fired *s)
{
	struct pg_esc *e = arg;
	struct pg_config *cfg = pg_live_get(e->live);
	const struct pg_client *cl = pg_config_client(cfg, m->client_id);
	const struct pg_escalation *p = pg_client_escalation(cl, m->esc_policy);
	int step = m->esc_fired + 1;
	struct pg_plan plan;
	pg_err err = PG_OK;

	memset(&plan, 0, sizeof plan);
	s->step = step;
	if (!p) {
		snprintf(s->detail, sizeof s->detail, "escalation policy %s of "
			 "client %s is no longer configured; nobody acknowledged "
			 "after %d step%s", m->esc_policy, m->client_id,
			 m->esc_fired, m->esc_fired == 1 ? "" : "s");
		s->exhaust = true;
	} else if (step > m->esc_total || step > pg_esc_total(p)) {
		snprintf(s->detail, sizeof s->detail, "nobody acknowledged after "
			 "%d step%s (policy %s)", m->esc_fired,
			 m->esc_fired == 1 ? "" : "s", m->esc_policy);
		s->exhaust = true;
	} else if (!(err = pg_route_step(cl, p, step, now / MS_PER_S, &plan)) &&
		   !(err = pg_plan_deliveries(cfg, cl, m, &plan, now, &s->d, &s->nd))) {
		s->next = now + (int64_t)pg_esc_step_of(p, step)->wait_s * MS_PER_S;
		step_detail(s->detail, sizeof s->detail, m, step, s->d, s->nd);
	}
	pg_plan_free(&plan);
	pg_config_release(cfg);
	return err;
}

/* Logs, counts and schedules a step the store was asked to record (err:
 * its answer); frees its deliveries.  Returns false when it was refused
 * (to be tried again). */
static bool
report(struct pg_esc *e, struct pg_esc_fired *s, pg_err err)
{
	bool ok = true;

	if (err) {
		/* no room is logged once by the store, not at each retry */
		pg_log(err == PG_ERR_FULL ? PG_LOG_DEBUG : PG_LOG_WARN,
		       "escalation of message %lld: step %d not fired yet: %s",
		       (long long)s->mid, s->step, pg_strerror(err));
		ok = false;
	} else if (!s->applied) {
		pg_info("escalation of message %lld: acknowledged or changed "
			"meanwhile; step %d not fired", (long long)s->mid, s->step);
	} else if (s->exhaust) {
		pg_warn("escalation of message %lld UNACKNOWLEDGED: %s",
			(long long)s->mid, s->detail);
		if (e->metrics)
			atomic_fetch_add(&e->metrics->esc_exhausted, 1);
	} else {
		pg_info("escalation of message %lld: %s", (long long)s->mid, s->detail);
		if (e->metrics)
			atomic_fetch_add(&e->metrics->esc_steps, 1);
		if (e->sched && pg_sched_add_many(e->sched, s->d, s->nd) != PG_OK)
			pg_warn("escalation: deliveries of message %lld not all "
				"scheduled now; they run after the next restart",
				(long long)s->mid);
		if (!e->claims)
			push_or_warn(e, s->mid, s->next, s->next);
	}
	free_deliveries(s->d, s->nd);
	s->d = NULL;
	s->nd = 0;
	return ok;
}

/* Works out and stores the next escalation event of message m (active,
 * unacknowledged, due).  Returns false when the store refused it (to be
 * tried again). */
static bool
fire(struct pg_esc *e, const struct pg_message *m)
{
	struct pg_esc_fired s = { .mid = m->id };
	pg_err err = build_step(e, m, pg_now_ms(), &s);

	if (!err)
		err = pg_store_esc_advance(e->store, m->id, m->esc_fired, s.d, s.nd,
					   s.next, s.exhaust, s.detail, &s.applied);
	return report(e, &s, err);
}

/* A node of several: the store claims the due escalations (by the
 * database's clock, rows locked so that no two nodes take one) and fires
 * their steps in the same transaction, FIRE_BATCH at a time. */
static void
fire_due(struct pg_esc *e)
{
	struct pg_esc_fired s[FIRE_BATCH];
	size_t n;
	pg_err err;

	do {
		err = pg_store_esc_fire_due(e->store, build_step, e, s, FIRE_BATCH, &n);
		for (size_t i = 0; i < n; i++)
			report(e, &s[i], err);
		if (err)
			pg_warn("escalation: firing the due steps failed: %s; "
				"tried again in a second", pg_strerror(err));
	} while (!err && n == FIRE_BATCH);
}

/* Looks at entry x now that it is due. */
static void
visit(struct pg_esc *e, const struct entry *x)
{
	struct pg_message m;
	pg_err err = pg_store_get_msg(e->store, x->mid, &m);

	if (err == PG_ERR_NOTFOUND)
		return;
	if (err) {
		pg_warn("escalation of message %lld: cannot read it: %s",
			(long long)x->mid, pg_strerror(err));
		push_or_warn(e, x->mid, pg_now_ms() + STORE_RETRY_MS, x->key);
		return;
	}
	if (m.esc_policy && m.esc_state == PG_ES_ACTIVE &&
	    m.acked_ms == 0 && m.esc_next_ms == x->key && !fire(e, &m))
		push_or_warn(e, x->mid, pg_now_ms() + STORE_RETRY_MS, x->key);
	pg_message_free(&m);
}

static void *
run(void *arg)
{
	struct pg_esc *e = arg;

	pthread_mutex_lock(&e->mu);
	while (!e->stopping) {
		int64_t now = pg_now_ms(), wait = MAX_WAIT_MS;

		if (e->n > 0 && e->heap[0].due <= now) {
			struct entry x = heap_pop(e);

			pthread_mutex_unlock(&e->mu);
			visit(e, &x);
			pthread_mutex_lock(&e->mu);
			continue;
		}
		if (e->n > 0 && e->heap[0].due - now < wait)
			wait = e->heap[0].due - now;
		if (e->claims) {               /* the store says what is due */
			e->n = 0;
			if (now - e->scanned >= RESCAN_MS) {
				e->scanned = now;
				pthread_mutex_unlock(&e->mu);
				fire_due(e);
				pthread_mutex_lock(&e->mu);
				continue;
			}
			wait = RESCAN_MS - (now - e->scanned);
		}
		pg_cond_wait_ms(&e->cv, &e->mu, wait);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/* ---- life cycle ---- */

static void
load_one(int64_t mid, int64_t next_ms, void *arg)
{
	push_or_warn(arg, mid, next_ms, next_ms);
}


pg_err
pg_esc_start(const struct pg_esc_deps *deps, struct pg_esc **out)
{
	struct pg_esc *e = calloc(1, sizeof *e);
	pg_err err;

	*out = NULL;
	if (!e)
		return PG_ERR_NOMEM;
	e->store = deps->store;
	e->live = deps->live;
	e->sched = deps->sched;
	e->metrics = deps->metrics;
	e->claims = pg_store_node(e->store) != NULL;
	if (pthread_mutex_init(&e->mu, NULL) != 0) {
		free(e);
		return PG_ERR_NOMEM;
	}
	if (pg_cond_init_mono(&e->cv) != PG_OK) {
		pthread_mutex_destroy(&e->mu);
		free(e);
		return PG_ERR_NOMEM;
	}
	if (!e->claims && (err = pg_store_esc_load(e->store, load_one, e))) {
		pg_esc_stop(e);
		return err;
	}
	if (pthread_create(&e->thread, NULL, run, e) != 0) {
		pg_esc_stop(e);
		return PG_ERR_NOMEM;
	}
	e->started = true;
	pg_info("escalation: %zu message%s waiting for a next step", e->n,
		e->n == 1 ? "" : "s");
	*out = e;
	return PG_OK;
}

void
pg_esc_stop(struct pg_esc *e)
{
	if (!e)
		return;
	if (e->started) {
		pthread_mutex_lock(&e->mu);
		e->stopping = true;
		pthread_cond_signal(&e->cv);
		pthread_mutex_unlock(&e->mu);
		pthread_join(e->thread, NULL);
	}
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e->heap);
	free(e);
}

pg_err
pg_esc_wake(struct pg_esc *e, int64_t mid, int64_t due_ms)
{
	if (!e || mid <= 0)
		return PG_ERR_INVAL;
	if (e->claims) {                   /* look in the store soon */
		pthread_mutex_lock(&e->mu);
		if (due_ms <= pg_now_ms())
			e->scanned = 0;
		pthread_cond_signal(&e->cv);
		pthread_mutex_unlock(&e->mu);
		return PG_OK;
	}
	return push(e, mid, due_ms, due_ms);
}

size_t
pg_esc_waiting(struct pg_esc *e)
{
	size_t n;

	if (!e)
		return 0;
	if (e->claims) {
		int64_t k = 0;

		return pg_store_count_escalating(e->store, &k) ? 0 : (size_t)k;
	}
	pthread_mutex_lock(&e->mu);
	n = e->n;
	pthread_mutex_unlock(&e->mu);
	return n;
}
