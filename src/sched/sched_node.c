/*
 * sched_node.c - the scheduler of a node of several on one store
 * (sched_priv.h).  Its deliveries are not the ones this node accepted
 * but the ones it claims from the store (pg_store_claim): a feeder thread
 * claims due deliveries under a lease, as many as the queue has room for,
 * hands them to the workers as due now, and renews the leases of every
 * claim it still holds - queued, or being sent - so that a long send keeps
 * its delivery.  It wakes when this node accepts a message
 * (pg_sched_add), when the next delivery falls due, and at least every
 * second, so that what other nodes accepted, retries come due and a dead
 * node's claims ran out are all taken up.  A worker records its outcome
 * with the claim's token; the store refuses it, as a possible duplicate,
 * when the lease ran out meanwhile and another node took the delivery.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "sched_priv.h"

#define POLL_MS      1000           /* the feeder wakes at least this often */
#define ROOM         256            /* deliveries a node holds at most */
#define PER_WORKER   4              /* ... and per worker: what it can start
				       soon, so that the other nodes get
				       their share of a burst */

void
sched__token_drop(struct pg_sched *s, int64_t token)
{
	for (size_t i = 0; i < s->n_tokens; i++)
		if (s->tokens[i] == token) {
			s->tokens[i] = s->tokens[--s->n_tokens];
			return;
		}
}

/* Extends the leases of every claim held (mu not held). */
static void
renew(struct pg_sched *s)
{
	int64_t *t;
	size_t n, kept;
	pg_err e;

	pthread_mutex_lock(&s->mu);
	n = s->n_tokens;
	t = n ? malloc(n * sizeof *t) : NULL;
	if (t)
		memcpy(t, s->tokens, n * sizeof *t);
	pthread_mutex_unlock(&s->mu);
	if (!t)
		return;
	for (size_t i = 0; i < n; i += 1024) {
		size_t k = n - i < 1024 ? n - i : 1024;

		if ((e = pg_store_renew(s->store, t + i, k, s->lease_ms, &kept)))
			pg_warn("scheduler: renewing %zu leases failed: %s", k,
				pg_strerror(e));
		else if (kept < k)
			pg_warn("scheduler: %zu of %zu leases had run out; their "
				"outcomes will be refused", k - kept, k);
	}
	free(t);
}

/* Claims what is due, as much as there is room for; returns how many. */
static size_t
claim(struct pg_sched *s)
{
	struct pg_claimed cl[ROOM];
	struct pg_delivery d[ROOM];
	int64_t tokens[ROOM];
	size_t room, n = 0, k = 0, added = 0, cap = (size_t)s->n_threads * PER_WORKER;
	pg_err e;

	cap = cap < ROOM ? cap : ROOM;
	pthread_mutex_lock(&s->mu);
	room = s->n_items < cap ? cap - s->n_items : 0;
	pthread_mutex_unlock(&s->mu);
	if (room == 0)
		return 0;
	if ((e = pg_store_claim(s->store, s->lease_ms, room, cl, &n))) {
		pg_warn("scheduler: claiming deliveries failed: %s", pg_strerror(e));
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if ((e = pg_store_get_delivery(s->store, cl[i].did, &d[k]))) {
			pg_warn("scheduler: claimed delivery %lld unreadable (%s); "
				"its lease will run out", (long long)cl[i].did,
				pg_strerror(e));
			continue;
		}
		if (d[k].state == PG_D_SENDING)  /* a node's whose lease ran out */
			pg_info("delivery mid=%lld did=%lld: its node's lease ran "
				"out; taken over", (long long)d[k].message_id,
				(long long)d[k].id);
		tokens[k++] = cl[i].token;
	}
	/* all at once: a recipient's held deliveries, claimed together, reach
	 * a worker together (one digest) */
	if ((e = sched__add_all(s, d, tokens, k, &added)))
		pg_warn("scheduler: %zu claimed deliveries not queued (%s); their "
			"leases will run out", k - added, pg_strerror(e));
	for (size_t i = 0; i < k; i++)
		pg_delivery_free(&d[i]);
	return n == room ? added + 1 : added;  /* +1: there may be more */
}

static void *
feeder(void *arg)
{
	struct pg_sched *s = arg;
	int64_t last_renew = 0, now, due, wait;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		s->poke = false;
		pthread_mutex_unlock(&s->mu);
		now = pg_mono_ms();
		if (now - last_renew >= s->lease_ms / 3) {
			renew(s);
			last_renew = now;
		}
		wait = claim(s) > 0 ? 0 : POLL_MS;
		if (wait && !pg_store_next_due(s->store, &due) && due >= 0 &&
		    due < wait)
			wait = due;
		if (wait > s->lease_ms / 3)
			wait = s->lease_ms / 3;
		pthread_mutex_lock(&s->mu);
		if (!s->stopping && !s->poke && wait > 0)
			pg_cond_wait_ms(&s->fcv, &s->mu, wait);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

pg_err
sched__node_start(struct pg_sched *s)
{
	int rc = pthread_create(&s->feeder, NULL, feeder, s);

	if (rc != 0) {
		pg_error("scheduler: cannot start the feeder: %s", strerror(rc));
		return PG_ERR_NOMEM;
	}
	s->feeder_started = true;
	return PG_OK;
}

void
sched__node_stop(struct pg_sched *s)
{
	if (!s->feeder_started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_signal(&s->fcv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->feeder, NULL);
	s->feeder_started = false;
}
