/*
 * route.h - routing: a pure function of (client, message kind and urgency,
 * instant) -> delivery plan.  No I/O, no clock: the instant is an argument.
 * What POST /v1/route/preview shows and what the daemon stores.
 */
#ifndef PAGEGATE_ROUTE_H
#define PAGEGATE_ROUTE_H

#include "pagegate/config.h"

struct pg_plan_item {
	size_t contact;              /* index into client->contacts */
	size_t device;               /* index into that contact's devices */
	enum pg_channel_kind channel;
	int64_t hold_until_s;        /* 0 = send now, else UTC release time */
	int rule_line;               /* the rule that produced it */
	enum pg_content content;     /* what the device shows: pg_content_level() */
};

struct pg_plan {
	struct pg_plan_item *items;  /* one per (contact, device), no duplicates */
	size_t n;
	bool open;                   /* client was in business hours at the instant */
	int n_rules_matched;         /* 0 = no rule matched: nothing to send */
};

/* Computes the plan.  Returns PG_OK (possibly with n == 0) or PG_ERR_NOMEM.
 * Items are ordered by rule, then contact, then device. */
pg_err pg_route(const struct pg_client *cl, enum pg_kind kind,
		enum pg_urgency urgency, int64_t at_s, struct pg_plan *out);
void pg_plan_free(struct pg_plan *p);

/* True when at_s falls in the client's business hours and is not a
 * holiday (holidays are whole local days). */
bool pg_client_open(const struct pg_client *cl, int64_t at_s);
/* The first instant >= at_s at which the client is open (at_s itself if
 * open now), skipping holidays; 0 when the client has no business hours
 * (then nothing is ever held). Searches at most 400 days ahead. */
int64_t pg_client_next_open(const struct pg_client *cl, int64_t at_s);

#endif
