/*
 * channel.h - the channel driver table.  Each channel (email, fax, sms,
 * pager, mqtt) is one file src/chan_NAME.c ending in a constant
 * struct pg_channel.  Drivers never touch the store: they fill in each
 * job's outcome and reply, and the scheduler records them.
 */
#ifndef PAGEGATE_CHANNEL_H
#define PAGEGATE_CHANNEL_H

#include "pagegate/config.h"

#define PG_REPLY_MAX 512

/* One delivery to attempt, with its content already rendered. */
struct pg_job {
	/* in */
	int64_t delivery_id;
	int64_t message_id;
	const struct pg_client *client;
	const char *address;         /* recipient address/number/topic */
	const char *to_name;         /* recipient display name, may be NULL */
	const char *subject;         /* rendered "<channel>.subject", may be NULL */
	const char *body;            /* rendered "<channel>.txt" */
	enum pg_urgency urgency;
	/* out */
	enum pg_outcome outcome;
	char reply[PG_REPLY_MAX];    /* the peer's reply, e.g. "250 2.0.0 Ok" */
};

struct pg_channel {
	const char *name;                 /* "email" */
	enum pg_channel_kind kind;
	size_t max_batch;                 /* most jobs per send() call */
	/* Optional: long-lived state (connections).  May be NULL. */
	pg_err (*start)(const struct pg_config *cfg, void **state);
	void (*stop)(void *state);
	/* Attempts every job, all for the same gateway (NULL = default), and
	 * sets each job's outcome and reply.  Blocking; called from a worker
	 * thread; must bound every wait with a timeout.  cfg stays valid for
	 * the duration of the call. */
	void (*send)(void *state, const struct pg_config *cfg,
		     const char *gateway, struct pg_job *jobs, size_t n);
};

extern const struct pg_channel pg_chan_email;

/* The driver for a channel, or NULL when that channel is not built yet. */
const struct pg_channel *pg_channel_for(enum pg_channel_kind k);

#endif
