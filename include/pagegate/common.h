/*
 * common.h - the one error enum, the message vocabulary (kinds, urgencies,
 * channels, delivery, message and escalation states) and their names, each
 * written once in common.c.  Every module includes this.
 */
#ifndef PAGEGATE_COMMON_H
#define PAGEGATE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The one error type.  Functions return PG_OK (0) or one of these; the
 * caller propagates it upward unchanged unless it can add meaning. */
typedef enum pg_err {
	PG_OK = 0,
	PG_ERR_NOMEM,     /* allocation failed */
	PG_ERR_INVAL,     /* bad input (caller's fault) */
	PG_ERR_NOTFOUND,  /* no such object */
	PG_ERR_EXISTS,    /* already there (duplicate id, idempotency hit) */
	PG_ERR_TOOBIG,    /* over a configured bound */
	PG_ERR_IO,        /* operating system / file error */
	PG_ERR_FULL,      /* disk or store full: refuse new work, keep old */
	PG_ERR_STORE,     /* database error other than full */
	PG_ERR_CONFIG,    /* configuration invalid */
	PG_ERR_TEMPFAIL,  /* peer or resource failed, worth retrying */
	PG_ERR_PERMFAIL,  /* peer refused for good */
	PG_ERR_SHUTDOWN,  /* the component is stopping */
	PG_ERR_EXPIRED,   /* authentic but too old (a signed link) */
	PG_ERR__COUNT
} pg_err;

/* A name/value pair (message fields, HTTP parameters, device options). */
struct pg_kv { char *key; char *value; };

/* Static English text for an error code; never NULL. */
const char *pg_strerror(pg_err e);

enum pg_kind { PG_KIND_MESSAGE = 0, PG_KIND_DISPATCH, PG_KIND__COUNT };
enum pg_urgency { PG_URG_ROUTINE = 0, PG_URG_URGENT, PG_URG_EMERGENCY, PG_URG__COUNT };

/* The channels, each the index of its driver in the registry
 * (src/chan/channel.c), which also holds every channel's name.
 * PG_CH_MAILBOX is no driver but the check-in mailbox: deliveries kept
 * (state waiting) until the contact's messages are retrieved through the
 * API (pg_store_mailbox); it has no devices, retries or templates. */
enum pg_channel_kind {
	PG_CH_EMAIL = 0, PG_CH_FAX, PG_CH_SMS, PG_CH_PAGER, PG_CH_MQTT,
	PG_CH_VOICE, PG_CH_MAILBOX, PG_CH__COUNT
};

/* Delivery states, as the API names them. */
enum pg_dstate {
	PG_D_QUEUED = 0,  /* waiting for its next_try */
	PG_D_SENDING,     /* an attempt is under way */
	PG_D_SENT,        /* accepted by the peer */
	PG_D_DELIVERED,   /* far end confirmed (channels with receipts) */
	PG_D_FAILED,      /* permanent failure or gave up */
	PG_D_HELD,        /* waiting for a hold to end (next_try = release) */
	PG_D_CANCELLED,
	PG_D_WAITING,     /* in a check-in mailbox until retrieved; never
			     scheduled, never expires */
	PG_D__COUNT
};

/* Message states, derived from the message's deliveries (pg_store_submit
 * in store.h says how).  PG_M_ANY is no state: a list filter's "any state"
 * (and a message not stored yet). */
enum pg_mstate {
	PG_M_ANY = 0,
	PG_M_UNROUTED,    /* no deliveries */
	PG_M_PENDING,     /* some queued or sending */
	PG_M_HELD,        /* else some held */
	PG_M_WAITING,     /* else some waiting in a check-in mailbox */
	PG_M_FAILED,      /* else some failed */
	PG_M_DELIVERED,   /* all delivered */
	PG_M_CANCELLED,   /* all cancelled */
	PG_M_SENT,        /* else: all final, some only sent */
	PG_M__COUNT
};

/* Escalation states of a message (store.h).  PG_ES_NONE: the message has
 * no escalation policy. */
enum pg_esc_state {
	PG_ES_NONE = 0,
	PG_ES_ACTIVE,     /* the next step (or the verdict) is due */
	PG_ES_ACKED,      /* stopped by an acknowledgement */
	PG_ES_EXHAUSTED,  /* every step fired, nobody acknowledged */
	PG_ES_CANCELLED,  /* stopped by an operator */
	PG_ES__COUNT
};

/* Attempt outcomes reported by channel drivers. */
enum pg_outcome { PG_OUT_OK = 0, PG_OUT_TEMP, PG_OUT_PERM, PG_OUT__COUNT };

/* Name <-> value: the names the API shows and the store keeps.  *_name()
 * return static strings ("message", "urgent", "email", "mailbox",
 * "queued", "pending", "exhausted", "ok"/"temp"/"perm"; "any" for
 * PG_M_ANY, "none" for PG_ES_NONE, "?" out of range); *_parse() return 0
 * and set *out, or -1 for an unknown name (exact, lower-case match).
 * Only real states parse: "any" and "none" do not. */
const char *pg_kind_name(enum pg_kind k);
const char *pg_urgency_name(enum pg_urgency u);
const char *pg_channel_name(enum pg_channel_kind c);   /* src/chan/channel.c */
const char *pg_dstate_name(enum pg_dstate s);
const char *pg_mstate_name(enum pg_mstate s);
const char *pg_esc_state_name(enum pg_esc_state s);
const char *pg_outcome_name(enum pg_outcome o);
int pg_kind_parse(const char *s, enum pg_kind *out);
int pg_urgency_parse(const char *s, enum pg_urgency *out);
int pg_channel_parse(const char *s, enum pg_channel_kind *out);  /* channel.c */
int pg_dstate_parse(const char *s, enum pg_dstate *out);
int pg_mstate_parse(const char *s, enum pg_mstate *out);
int pg_esc_state_parse(const char *s, enum pg_esc_state *out);
int pg_outcome_parse(const char *s, enum pg_outcome *out);

/* True for states after which nothing more will be attempted. */
bool pg_dstate_final(enum pg_dstate s);

/* Scheduling priority of a message: 0 is served first.
 * dispatch or emergency -> 0, urgent -> 1, routine -> 2. */
int pg_priority(enum pg_kind k, enum pg_urgency u);
#define PG_PRIO_LEVELS 3

#endif
