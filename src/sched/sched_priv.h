/*
 * sched_priv.h - shared between sched.c (the queue, batches, attempts) and
 * sched_digest.c (held deliveries for one recipient sent as one digest),
 * the only two files that include it.
 */
#ifndef PAGEGATE_SCHED_PRIV_H
#define PAGEGATE_SCHED_PRIV_H

#include "pagegate/channel.h"
#include "pagegate/config.h"
#include "pagegate/store.h"
#include "pagegate/util.h"

struct item;                     /* sched.c */

/* One item's work in a batch. */
struct work {
	struct item *it;
	struct pg_delivery d;
	struct pg_message m;
	bool have_d, have_m;
	const struct pg_client *client;
	const struct pg_contact *contact;
	const struct pg_device *device;  /* NULL when a reload removed it */
	struct pg_rendered out;      /* its content (subject, body, level) */
	int64_t aid;
	bool started;                /* attempt recorded in the store */
	bool presolved;              /* outcome decided without the driver */
	int job;                     /* index into the jobs array, or -1 */
	enum pg_outcome outcome;
	char reply[PG_REPLY_MAX];
	/* digests */
	bool gather;                 /* came out of a hold: may join a digest */
	int lead;                    /* -1: its own send; else the batch index of
					the digest's first delivery, which sends it */
	size_t digest_n;             /* deliveries in its digest, 0 = none */
	int64_t retry_at;            /* a digest's deliveries retry together */
};

/* Groups the batch's deliveries that came out of a hold (gather) and are
 * ready to send by recipient (client, contact, address; the batch shares
 * channel and gateway) and renders each group of two or more as ONE send
 * from the client's "digest.subject" / "digest.txt", every message with
 * its own content level, into the group's first entry (its lead).  Sets
 * lead and digest_n on every entry.  A group whose digest cannot be
 * rendered (no digest template, too big) and every delivery of a channel
 * whose body is JSON stay separate sends. */
void sched__digests(const struct pg_config *cfg, const struct pg_channel *drv,
		    struct work *w, size_t n);

/* The reply to record for w from its send's reply: for a digest, with
 * "(in a digest of N, sent as delivery D)" appended. */
void sched__digest_reply(const struct work *w, const struct work *all,
			 const char *reply, char *out, size_t outlen);

#endif
