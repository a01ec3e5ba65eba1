/*
 * sched_queue.c - the scheduler's queue (sched_priv.h): its items, how
 * they are added, taken in batches and handed back.
 *
 * Memory is only a cache of the store: a min-heap of waiting items ordered
 * by next try (then priority, then arrival), and per-priority FIFO queues
 * of items that are due.  Because every due item is in a ready queue
 * before anything is taken, an emergency (priority 0) never waits behind
 * routine work that is due.  A batch is the first item of the most urgent
 * queue plus more due items for the same channel and gateway (same
 * priority first), up to what the driver takes at once; held items that
 * join a digest with one taken come along (sched_digest.c).
 *
 * The functions of the queue proper are called with the scheduler's mutex
 * held; those that add items take it themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/sched.h"
#include "sched_priv.h"

#define HEAP_MIN 64             /* first size of the heap and the claims list */

static bool
before(const struct item *a, const struct item *b)
{
	if (a->next_try != b->next_try)
		return a->next_try < b->next_try;
	if (a->prio != b->prio)
		return a->prio < b->prio;
	return a->seq < b->seq;
}

void
sched__heap_push(struct pg_sched *s, struct item *it)
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
void
sched__dispatch_due(struct pg_sched *s, int64_t now)
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
		s->n_ready[it->prio]++;
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
size_t
sched__take_batch(struct pg_sched *s, struct item **out, int max_prio)
{
	const struct pg_channel *drv;
	struct item *first, *it, *prev, *nx;
	size_t n = 0, cap, i, sends = 0, looked = 0;
	bool mate, more = true, gathering = false;
	int p, q;

	for (p = 0; p < PG_PRIO_LEVELS && !s->ready_head[p]; p++)
		;
	if (p == PG_PRIO_LEVELS || p > max_prio)
		return 0;
	first = s->ready_head[p];
	drv = pg_channels_driver(s->channels, first->channel);
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
	for (q = p; q < PG_PRIO_LEVELS && q <= max_prio && more; q++) {
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
			s->n_ready[q]--;
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

/* Puts never-started items back at the head of their ready queues: the
 * last taken first, so the first taken ends up in front. */
void
sched__hand_back(struct pg_sched *s, struct item **its, size_t n)
{
	struct item *it;

	while (n-- > 0) {
		it = its[n];
		it->next = s->ready_head[it->prio];
		s->ready_head[it->prio] = it;
		if (!s->ready_tail[it->prio])
			s->ready_tail[it->prio] = it;
		s->n_ready[it->prio]++;
		s->n_waiting[it->held]++;
	}
}

bool
sched__should_yield(struct pg_sched *s, int prio)
{
	size_t urgent = 0;
	int q;

	for (q = 0; q < prio && q < PG_PRIO_LEVELS; q++)
		urgent += s->n_ready[q];
	if (urgent <= (size_t)s->n_idle + (size_t)s->n_yielding +
	    (s->reserve_idle && s->n_ready[0] > 0))
		return false;
	s->n_yielding++;
	return true;
}

/* ---- items ---- */

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

/* A new item for d (*out NULL when d is final: nothing to schedule). */
static pg_err
item_new(const struct pg_delivery *d, int64_t token, struct item **out)
{
	struct item *it;

	*out = NULL;
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
	it->next_try = token ? 0 : d->next_try_ms;   /* a claim is due */
	it->token = token;
	it->held = d->state == PG_D_HELD;
	if (it->held && d->contact_id && d->address &&
	    asprintf(&it->rcpt, "%s\n%s", d->contact_id, d->address) < 0) {
		it->rcpt = NULL;
		sched__item_free(it);
		return PG_ERR_NOMEM;
	}
	*out = it;
	return PG_OK;
}

/* Queues it (mu held; the caller signals cv).  On failure it is freed. */
static pg_err
push_locked(struct pg_sched *s, struct item *it)
{
	size_t cap;

	if (s->n_items + 1 > s->cap_heap) {
		struct item **nh;

		cap = s->cap_heap ? 2 * s->cap_heap : HEAP_MIN;
		if (!(nh = realloc(s->heap, cap * sizeof *nh))) {
			sched__item_free(it);
			return PG_ERR_NOMEM;
		}
		s->heap = nh;
		s->cap_heap = cap;
	}
	if (it->token && s->n_tokens == s->cap_tokens) {
		int64_t *nt;

		cap = s->cap_tokens ? 2 * s->cap_tokens : HEAP_MIN;
		if (!(nt = realloc(s->tokens, cap * sizeof *nt))) {
			sched__item_free(it);
			return PG_ERR_NOMEM;
		}
		s->tokens = nt;
		s->cap_tokens = cap;
	}
	if (it->token)
		s->tokens[s->n_tokens++] = it->token;
	it->seq = s->seq++;
	s->n_items++;
	sched__heap_push(s, it);
	s->n_waiting[it->held]++;
	return PG_OK;
}

pg_err
sched__add(struct pg_sched *s, const struct pg_delivery *d, int64_t token)
{
	struct item *it;
	pg_err e;

	if ((e = item_new(d, token, &it)) || !it)
		return e;
	pthread_mutex_lock(&s->mu);
	if (!(e = push_locked(s, it)))
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return e;
}

pg_err
sched__add_all(struct pg_sched *s, const struct pg_delivery *d,
	       const int64_t *tokens, size_t n, size_t *added)
{
	struct item **its = calloc(n ? n : 1, sizeof *its);
	pg_err e = PG_OK, e1;

	*added = 0;
	if (!its)
		return PG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		if ((e1 = item_new(&d[i], tokens ? tokens[i] : 0, &its[i])) && !e)
			e = e1;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		if (!its[i])
			continue;
		if ((e1 = push_locked(s, its[i])) && !e)
			e = e1;
		else if (!e1)
			(*added)++;
	}
	if (*added)
		pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	free(its);
	return e;
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

