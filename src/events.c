/*
 * events.c - the ring of recent events the consoles' streams read
 * (events.h).  One mutex guards the ring and the list of streams; a
 * monotonic condition variable wakes waiting readers.  The ring holds
 * fixed-size records, so publishing never allocates.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/events.h"
#include "pagegate/util.h"

struct pg_event_stream {
	struct pg_events *ev;
	uint64_t next;               /* seq of the next event to read */
	char op[PG_EVENT_STR];       /* its operator */
	struct pg_event_stream *prev, *nx;
};

struct pg_events {
	pthread_mutex_t mu;
	pthread_cond_t cv;           /* CLOCK_MONOTONIC: an event came */
	struct pg_event_rec *ring;   /* PG_EVENTS_RING slots, by seq */
	uint64_t next_seq;           /* of the next event; the first is 1 */
	int64_t boot;                /* names this run in the wire ids */
	int max_streams, n_streams;
	struct pg_event_stream *streams;
	bool down;
};

pg_err
pg_events_new(int max_streams, struct pg_events **out)
{
	struct pg_events *ev = calloc(1, sizeof *ev);

	*out = NULL;
	if (!ev || !(ev->ring = calloc(PG_EVENTS_RING, sizeof *ev->ring)) ||
	    pg_cond_init_mono(&ev->cv) != PG_OK) {
		if (ev)
			free(ev->ring);
		free(ev);
		return PG_ERR_NOMEM;
	}
	pthread_mutex_init(&ev->mu, NULL);
	ev->next_seq = 1;
	ev->boot = pg_now_ms();
	ev->max_streams = max_streams;
	*out = ev;
	return PG_OK;
}

void
pg_events_free(struct pg_events *ev)
{
	if (!ev)
		return;
	pthread_cond_destroy(&ev->cv);
	pthread_mutex_destroy(&ev->mu);
	free(ev->ring);
	free(ev);
}

void
pg_events_shutdown(struct pg_events *ev)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	ev->down = true;
	pthread_cond_broadcast(&ev->cv);
	pthread_mutex_unlock(&ev->mu);
}

/* Copies s into a record's field, cut on a character boundary. */
static void
field(char dst[PG_EVENT_STR], const char *s)
{
	pg_strlcpy(dst, s ? s : "", PG_EVENT_STR);
	pg_utf8_trim_partial(dst);
}

/* The oldest seq still in the ring (caller holds mu). */
static uint64_t
oldest(const struct pg_events *ev)
{
	return ev->next_seq > PG_EVENTS_RING ? ev->next_seq - PG_EVENTS_RING : 1;
}

/* Fills the next slot through fill (mu held inside) and wakes readers. */
static struct pg_event_rec *
slot(struct pg_events *ev, enum pg_event_kind kind)
{
	struct pg_event_rec *r = &ev->ring[ev->next_seq % PG_EVENTS_RING];

	memset(r, 0, sizeof *r);
	r->seq = ev->next_seq++;
	r->kind = kind;
	r->at_ms = pg_now_ms();
	return r;
}

void
pg_events_message(struct pg_events *ev, int64_t mid, const char *change)
{
	struct pg_event_rec *r;

	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	r = slot(ev, PG_EV_MESSAGE);
	r->mid = mid;
	field(r->change, change);
	pthread_cond_broadcast(&ev->cv);
	pthread_mutex_unlock(&ev->mu);
}

/* Streams that receive an event for operator op ("" = everyone); caller
 * holds mu. */
static int
count_streams(const struct pg_events *ev, const char *op)
{
	int n = 0;

	for (const struct pg_event_stream *s = ev->streams; s; s = s->nx)
		n += !op || !op[0] || strcmp(s->op, op) == 0;
	return n;
}

int
pg_events_call(struct pg_events *ev, const char *dnis, const char *ani,
	       const char *client, const char *op)
{
	struct pg_event_rec *r;
	int n;

	if (!ev)
		return 0;
	pthread_mutex_lock(&ev->mu);
	r = slot(ev, PG_EV_CALL);
	field(r->dnis, dnis);
	field(r->ani, ani);
	field(r->client, client);
	field(r->op, op);
	n = count_streams(ev, r->op);
	pthread_cond_broadcast(&ev->cv);
	pthread_mutex_unlock(&ev->mu);
	return n;
}

void
pg_events_id(const struct pg_events *ev, uint64_t seq, char out[PG_EVENT_ID_LEN])
{
	snprintf(out, PG_EVENT_ID_LEN, "%" PRId64 "-%" PRIu64, ev->boot, seq);
}

/* The seq a Last-Event-ID of this run names, or 0 (another run, junk). */
static uint64_t
parse_id(const struct pg_events *ev, const char *id)
{
	char want[PG_EVENT_ID_LEN];
	const char *dash = id ? strchr(id, '-') : NULL;
	char *end;

	snprintf(want, sizeof want, "%" PRId64 "-", ev->boot);
	if (!dash || strncmp(id, want, strlen(want)) != 0 || !dash[1] ||
	    strspn(dash + 1, "0123456789") != strlen(dash + 1))
		return 0;
	return strtoull(dash + 1, &end, 10);
}

pg_err
pg_events_open(struct pg_events *ev, const char *op, const char *last_id,
	       bool *reset, struct pg_event_stream **out)
{
	struct pg_event_stream *s;
	uint64_t seq;

	*out = NULL;
	*reset = false;
	if (!(s = calloc(1, sizeof *s)))
		return PG_ERR_NOMEM;
	s->ev = ev;
	field(s->op, op);
	pthread_mutex_lock(&ev->mu);
	if (ev->down || ev->n_streams >= ev->max_streams) {
		pg_err e = ev->down ? PG_ERR_SHUTDOWN : PG_ERR_FULL;

		pthread_mutex_unlock(&ev->mu);
		free(s);
		return e;
	}
	s->next = ev->next_seq;
	if (last_id && *last_id) {
		seq = parse_id(ev, last_id);
		if (seq && seq < ev->next_seq && seq + 1 >= oldest(ev))
			s->next = seq + 1;       /* replay what it missed */
		else
			*reset = true;           /* another run, or too old */
	}
	s->nx = ev->streams;
	if (ev->streams)
		ev->streams->prev = s;
	ev->streams = s;
	ev->n_streams++;
	pthread_mutex_unlock(&ev->mu);
	*out = s;
	return PG_OK;
}

void
pg_events_close(struct pg_event_stream *s)
{
	struct pg_events *ev;

	if (!s)
		return;
	ev = s->ev;
	pthread_mutex_lock(&ev->mu);
	if (s->prev)
		s->prev->nx = s->nx;
	else
		ev->streams = s->nx;
	if (s->nx)
		s->nx->prev = s->prev;
	ev->n_streams--;
	pthread_mutex_unlock(&ev->mu);
	free(s);
}

pg_err
pg_events_next(struct pg_event_stream *s, int64_t wait_ms, struct pg_event_rec *out)
{
	struct pg_events *ev = s->ev;
	int64_t deadline = pg_mono_ms() + wait_ms, left;
	pg_err e = PG_ERR_NOTFOUND;

	pthread_mutex_lock(&ev->mu);
	for (;;) {
		if (ev->down) {
			e = PG_ERR_SHUTDOWN;
			break;
		}
		if (s->next < oldest(ev)) {
			s->next = ev->next_seq;
			e = PG_ERR_EXPIRED;
			break;
		}
		while (s->next < ev->next_seq) {
			const struct pg_event_rec *r = &ev->ring[s->next % PG_EVENTS_RING];

			s->next++;
			if (r->kind == PG_EV_CALL && r->op[0] && strcmp(r->op, s->op) != 0)
				continue;        /* another operator's call */
			*out = *r;
			e = PG_OK;
			break;
		}
		if (e == PG_OK || (left = deadline - pg_mono_ms()) <= 0)
			break;
		pg_cond_wait_ms(&ev->cv, &ev->mu, left);
	}
	pthread_mutex_unlock(&ev->mu);
	return e;
}

struct pg_events *
pg_events_of(const struct pg_event_stream *s)
{
	return s->ev;
}

int
pg_events_streams(struct pg_events *ev, const char *op)
{
	int n;

	if (!ev)
		return 0;
	pthread_mutex_lock(&ev->mu);
	n = op ? count_streams(ev, op) : ev->n_streams;
	pthread_mutex_unlock(&ev->mu);
	return n;
}
