/*
 * escalate.h - escalation until acknowledged.  A rule with
 * escalate = "ID" starts a policy (config.h struct pg_escalation) when a
 * message is taken: step 1 goes out with the message itself, and the
 * message row carries the policy's progress (store.h esc_*), so timers
 * survive any restart.  The escalator is one thread with a due-time heap
 * of messages (a cache of the store, rebuilt at start): when a message's
 * next step is due it resolves the step's recipients at that instant with
 * the live configuration, and pg_store_esc_advance() stores them only if
 * nobody has acknowledged meanwhile - an acknowledgement committed first
 * always wins.  After the last step's wait the message is flagged
 * "unacknowledged" for operators.
 */
#ifndef PAGEGATE_ESCALATE_H
#define PAGEGATE_ESCALATE_H

#include "pagegate/config.h"
#include "pagegate/metrics.h"
#include "pagegate/route.h"
#include "pagegate/sched.h"
#include "pagegate/store.h"

/* Fills m's escalation columns for a message about to be submitted with
 * plan (pure): none when plan->escalate is 0, else policy id, 1 step
 * fired (the plan's step-1 items) of pg_esc_total(), state "active", the
 * next step due at now_ms + step 1's wait.  PG_ERR_NOMEM. */
pg_err pg_esc_begin(const struct pg_client *cl, const struct pg_plan *plan,
		    struct pg_message *m, int64_t now_ms);

/* The timeline of policy p started at t0_s with nobody acknowledging, for
 * previews: when step n (1-based, counting rounds) fires, and when the
 * message would be flagged unacknowledged. */
int64_t pg_esc_step_at(const struct pg_escalation *p, int64_t t0_s, int step);
/* When a policy started at t0_s with nobody acknowledging runs out. */
int64_t pg_esc_end_at(const struct pg_escalation *p, int64_t t0_s);

struct pg_esc;

struct pg_esc_deps {
	struct pg_store *store;
	struct pg_live_config *live;
	struct pg_sched *sched;      /* new step deliveries are added here */
	struct pg_metrics *metrics;  /* may be NULL */
};

/* Loads every active escalation from the store and starts the thread. */
pg_err pg_esc_start(const struct pg_esc_deps *deps, struct pg_esc **out);
/* Stops the thread (a step being fired completes first) and frees. */
void pg_esc_stop(struct pg_esc *e);
/* Message mid's next escalation event is due at due_ms (after a submit or
 * an operator's re-trigger).  A message already waiting is moved. */
pg_err pg_esc_wake(struct pg_esc *e, int64_t mid, int64_t due_ms);
/* Messages waiting for their next step, for /metrics. */
size_t pg_esc_waiting(struct pg_esc *e);

#endif
