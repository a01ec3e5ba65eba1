/*
 * route.h - routing: a pure function of (client, message kind and urgency,
 * instant) -> delivery plan.  No I/O, no clock: the instant is an argument.
 * What POST /v1/route/preview shows and what the daemon stores.
 */
#ifndef PAGEGATE_ROUTE_H
#define PAGEGATE_ROUTE_H

#include "pagegate/config.h"
#include "pagegate/store.h"

/* The device of a mailbox item: a contact with checkin = true gets one
 * item on PG_CH_MAILBOX (never held) instead of its devices, whatever
 * channels the rule names. */
#define PG_PLAN_NO_DEVICE ((size_t)-1)

struct pg_plan_item {
	size_t contact;              /* index into client->contacts */
	size_t device;               /* index into that contact's devices, or
					PG_PLAN_NO_DEVICE for the mailbox */
	enum pg_channel_kind channel;
	int64_t hold_until_s;        /* 0 = send now, else UTC release time */
	int rule_line;               /* the rule (or step) that produced it */
	int esc_step;                /* 0, or the escalation step (1-based) */
	enum pg_content content;     /* what the device shows: pg_content_level() */
};

struct pg_plan {
	struct pg_plan_item *items;  /* one per (contact, device), no duplicates;
					one per checkin contact */
	size_t n;
	bool open;                   /* client was in business hours at the instant */
	int n_rules_matched;         /* 0 = no rule matched: nothing to send */
	size_t escalate;             /* index + 1 into cl->escalations of the
					policy started (its step 1 is in items);
					0 = none */
};

/* Computes the plan.  Returns PG_OK (possibly with n == 0) or PG_ERR_NOMEM.
 * Items are ordered by rule, then contact, then device.  The first
 * matching rule with escalate = "ID" starts that policy: the items of its
 * step 1 (esc_step 1, never held) follow that rule's own items. */
pg_err pg_route(const struct pg_client *cl, enum pg_kind kind,
		enum pg_urgency urgency, int64_t at_s, struct pg_plan *out);
void pg_plan_free(struct pg_plan *p);

/* Steps of a policy counting its rounds (repeat x steps), and step n
 * (1-based over all rounds) of it, or NULL out of range. */
int pg_esc_total(const struct pg_escalation *p);
const struct pg_esc_step *pg_esc_step_of(const struct pg_escalation *p, int step);
/* The deliveries of escalation step `step` (1-based, counting rounds) of
 * policy p of client cl at instant at_s: its contacts and whoever its
 * on-call targets name then, on its channels; items carry esc_step.
 * PG_ERR_INVAL for a step out of range, PG_ERR_NOMEM. */
pg_err pg_route_step(const struct pg_client *cl, const struct pg_escalation *p,
		     int step, int64_t at_s, struct pg_plan *out);

/* True when at_s falls in the client's business hours and is not a
 * holiday (holidays are whole local days). */
bool pg_client_open(const struct pg_client *cl, int64_t at_s);
/* The first instant >= at_s at which the client is open (at_s itself if
 * open now), skipping holidays; 0 when the client has no business hours
 * (then nothing is ever held). Searches at most 400 days ahead. */
int64_t pg_client_next_open(const struct pg_client *cl, int64_t at_s);

/* Turns a routing plan into deliveries for message m received at now_ms:
 * queued (due now) or held until the item's hold_until; priority from
 * pg_priority(); expires = now + the channel's give-up time (for held ones,
 * counted from the release).  A mailbox item becomes a waiting delivery
 * on PG_CH_MAILBOX to the contact's id that never expires (expires 0).
 * *out is an array of *n the caller frees with pg_delivery_free on each
 * and free().  PG_ERR_INVAL for an item that names no contact or device
 * of cl, PG_ERR_NOMEM.  Submit and every escalation step use it. */
pg_err pg_plan_deliveries(const struct pg_config *cfg,
	const struct pg_client *cl, const struct pg_message *m,
	const struct pg_plan *plan, int64_t now_ms,
	struct pg_delivery **out, size_t *n);

#endif
