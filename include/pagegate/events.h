/*
 * events.h - what the consoles hear: a bounded ring of recent events that
 * the event streams (GET /v1/events, Server-Sent Events) read from.
 *
 * An event is a change to a message (the store's observer publishes one
 * per message an operation touched, after its transaction committed) or a
 * call offered to an operator (POST /v1/calls).  Each has a sequence
 * number; on the wire its id is "BOOT-SEQ", BOOT naming this run of the
 * process, so that a console reconnecting with Last-Event-ID gets what it
 * missed, or a reset when that is no longer in the ring (the process
 * restarted, or the console was away for more than PG_EVENTS_RING
 * events).
 *
 * Publishing is a lock and a copy into a fixed slot (no allocation), so
 * the store's writer can publish on every commit.  Streams are bounded:
 * each holds an HTTP connection and, in libmicrohttpd's thread-per-
 * connection mode, a thread.
 */
#ifndef PAGEGATE_EVENTS_H
#define PAGEGATE_EVENTS_H

#include "pagegate/common.h"

#define PG_EVENTS_RING  4096     /* events kept for a reconnecting console */
#define PG_EVENT_ID_LEN 48       /* "BOOT-SEQ" with its NUL */
#define PG_EVENT_STR    80       /* one string field of an event, with NUL */

enum pg_event_kind { PG_EV_MESSAGE = 0, PG_EV_CALL };

/* One event, as a stream reads it. */
struct pg_event_rec {
	uint64_t seq;
	enum pg_event_kind kind;
	int64_t at_ms;
	/* PG_EV_MESSAGE */
	int64_t mid;
	char change[PG_EVENT_STR];   /* the ledger event: "received", "sent" ... */
	/* PG_EV_CALL */
	char dnis[PG_EVENT_STR];
	char ani[PG_EVENT_STR];      /* "" when not given */
	char client[PG_EVENT_STR];   /* "" when no client has the number */
	char op[PG_EVENT_STR];       /* the operator it is for; "" = everyone */
};

struct pg_events;

/* A ring for streams, at most max_streams of them open at once.
 * PG_ERR_NOMEM. */
pg_err pg_events_new(int max_streams, struct pg_events **out);
/* Frees it; every stream must be closed (pg_events_shutdown first). */
void pg_events_free(struct pg_events *ev);
/* Wakes every waiting reader and makes every later read answer
 * PG_ERR_SHUTDOWN, so that a server can stop without waiting for its
 * streams' next heartbeat. */
void pg_events_shutdown(struct pg_events *ev);

/* Publishes that message mid changed (change: what happened).  Safe from
 * any thread; never blocks on a reader. */
void pg_events_message(struct pg_events *ev, int64_t mid, const char *change);
/* Publishes a call offered on dnis (ani may be NULL or "", client NULL
 * when no client has the number) to operator op's streams, or to every
 * stream when op is NULL.  Returns how many open streams will receive
 * it. */
int pg_events_call(struct pg_events *ev, const char *dnis, const char *ani,
		   const char *client, const char *op);

/* ---- a stream ---- */

/* Opens a stream for operator op that resumes after last_id (the
 * Last-Event-ID a reconnecting console sends; NULL or "" starts with what
 * comes next).  *reset is set when last_id cannot be resumed: the stream
 * starts with what comes next and the console must refetch.  Returns
 * PG_ERR_FULL when max_streams are open, PG_ERR_SHUTDOWN, PG_ERR_NOMEM. */
struct pg_event_stream;
pg_err pg_events_open(struct pg_events *ev, const char *op, const char *last_id,
		      bool *reset, struct pg_event_stream **out);
void pg_events_close(struct pg_event_stream *s);

/* Waits up to wait_ms for the stream's next event (those of other
 * operators are skipped) and copies it to *out: PG_OK; PG_ERR_NOTFOUND
 * when none came in time (send a heartbeat); PG_ERR_EXPIRED when the
 * stream fell out of the ring (send a reset: it goes on from the newest
 * event); PG_ERR_SHUTDOWN. */
pg_err pg_events_next(struct pg_event_stream *s, int64_t wait_ms,
		      struct pg_event_rec *out);

/* The wire id of an event ("BOOT-SEQ"). */
void pg_events_id(const struct pg_events *ev, uint64_t seq, char out[PG_EVENT_ID_LEN]);
/* The stream's events object. */
struct pg_events *pg_events_of(const struct pg_event_stream *s);

/* How many streams are open (for /metrics), and for operator op (NULL =
 * all). */
int pg_events_streams(struct pg_events *ev, const char *op);

#endif
