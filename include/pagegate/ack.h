/*
 * ack.h - one acknowledgement model for every channel.  Each message has a
 * short ack reference (store.h: ack_ref).  Acknowledgements arrive as SMS
 * or pager replies ("ok", "ack 482913"), on the MQTT ack topic, as WCTP
 * replies, through the API/CLI; whatever the channel, they end in
 * pg_store_ack() and one "acknowledged" ledger event.  This module also
 * implements the host interface drivers use (channel.h: struct
 * pg_chan_host), the callback tokens that authenticate peers' reports
 * and the URLs of signed acknowledgement links (ack_link.h).
 */
#ifndef PAGEGATE_ACK_H
#define PAGEGATE_ACK_H

#include "pagegate/channel.h"
#include "pagegate/metrics.h"
#include "pagegate/store.h"

#define PG_ACK_REF_MAX 16
/* How long after sending a page an inbound reply still matches it. */
#define PG_REPLY_WINDOW_MS (72LL * 3600 * 1000)

/* Parses an inbound reply.  Returns true when it is an acknowledgement:
 * one of the words "1", "ok", "okay", "k", "ack", "acknowledged", "yes",
 * "y", "got it" (any case, surrounding white space and final punctuation
 * ignored), or "ack"/"ok" followed by a reference, or a bare 6-digit
 * reference.  Sets ref to the reference given ("" when none).  Pure. */
bool pg_ack_parse(const char *text, char ref[PG_ACK_REF_MAX]);

/* The core's host for channel drivers, bound to the store. */
struct pg_ack_host {
	struct pg_chan_host host;     /* hand &h->host to drivers */
	struct pg_store *store;
	struct pg_metrics *metrics;   /* may be NULL */
	struct pg_esc *esc;           /* escalation timers, for escalate(); may be NULL */
	unsigned char secret[32];
};

/* Fills h (reads or creates the store's secret). */
pg_err pg_ack_host_init(struct pg_ack_host *h, struct pg_store *st,
			struct pg_metrics *metrics);

/* Callback token for delivery did under secret: 32 lower-case hex
 * characters of HMAC-SHA-256(secret, "cb:" did).  Pure. */
void pg_callback_token(const unsigned char secret[32], int64_t did,
		       char out[PG_TOKEN_LEN]);

/* The same kind of token for any purpose string ("ics:acme-hvac"): 32
 * hex characters of HMAC-SHA-256(secret, msg).  Pure. */
void pg_secret_token(const unsigned char secret[32], const char *msg,
		     char out[PG_TOKEN_LEN]);

/* Acknowledges message mid on behalf of `who` through channel (e.g. an
 * operator through "api"); the same path every driver's ack ends in.
 * *already as in pg_store_ack. */
pg_err pg_ack_message(struct pg_ack_host *h, int64_t mid, int64_t did,
		      const char *channel, const char *who, bool *already);

#endif
