/*
 * sched.h - the scheduler: an in-memory due-time queue that is only a cache
 * of the store, rebuilt from it at start.  Worker threads take due
 * deliveries, highest priority first (an emergency never waits behind
 * routine work), batch those for the same channel and gateway, render their
 * templates with the current configuration, call the channel driver and
 * record each outcome in the store:
 *   ok   -> sent
 *   temp -> queued again after pg_backoff_next(), or failed once the
 *           delivery's give-up time has passed
 *   perm -> failed
 * Held deliveries wait until their release time, then are logged
 * "released" and sent.  Deliveries whose channel has no driver yet fail
 * with a clear reason.  One structured log line per attempt: message id,
 * delivery id, channel, recipient, duration, outcome, reply.
 */
#ifndef PAGEGATE_SCHED_H
#define PAGEGATE_SCHED_H

#include "pagegate/channel.h"
#include "pagegate/config.h"
#include "pagegate/metrics.h"
#include "pagegate/store.h"

struct pg_sched;

struct pg_sched_deps {
	struct pg_store *store;
	struct pg_live_config *live;
	struct pg_metrics *metrics;
	int workers;                 /* >= 1 */
	/* The running drivers (pg_channels_start), which outlive the
	 * scheduler: each batch goes to its channel's driver and state, and
	 * the set's host makes the acknowledgement links.  Tests start a set
	 * of their own drivers. */
	struct pg_channels *channels;
	/* A node of several (the store opened with pg_store_open_node): how
	 * long a claim on a delivery lasts unless renewed (0: 30 s). */
	int64_t lease_ms;
};

/* Loads every pending delivery from the store and starts the workers.
 * PG_ERR_INVAL without store, configuration, metrics, channels or a
 * worker; the store's error. */
pg_err pg_sched_start(const struct pg_sched_deps *deps, struct pg_sched **out);
/* Stops taking work, waits for attempts under way, frees everything. */
void pg_sched_stop(struct pg_sched *s);

/* Adds a delivery just committed by the store (queued or held). */
pg_err pg_sched_add(struct pg_sched *s, const struct pg_delivery *d);
/* The same for the n deliveries of one message (or escalation step) at
 * once, so that a worker finds them together and those for one gateway
 * share a session; mailbox (waiting) and final ones are skipped.  Returns
 * the first error (what was not queued runs after the next restart). */
pg_err pg_sched_add_many(struct pg_sched *s, const struct pg_delivery *d, size_t n);
/* A node of several: another node queued work; look in the store now
 * rather than at the next poll (a void * for pg_store_listen). */
void pg_sched_poke(void *s);

/* Deliveries waiting (queued, due or not) and held, for /metrics. */
void pg_sched_depth(struct pg_sched *s, size_t *queued, size_t *held);

#endif
