/*
 * store_backend.h - the narrow interface between the store's front end
 * (store.c: writer thread, group commit, ledger texts, message-state
 * derivation, crash recovery) and one database (store_sqlite.c; a
 * PostgreSQL backend would be store_pgsql.c).  In the style of OpenSMTPD's
 * queue backends: a backend is one constant table of functions, each a
 * single row-level operation; every rule of the store lives in the front
 * end, so a new backend only has to speak its database.
 *
 * A backend connection (struct pg_sb) is used by one thread at a time.  The
 * front end opens exactly one writer connection, first, and some read-only
 * ones after it.  Every call returns PG_OK or: PG_ERR_NOTFOUND (no such
 * row), PG_ERR_FULL (store or disk full), PG_ERR_IO, PG_ERR_NOMEM,
 * PG_ERR_EXISTS (a uniqueness rule), PG_ERR_STORE (anything else).
 * Strings read back are allocated; the caller frees them with the
 * pg_*_free functions of store.h.
 */
#ifndef PAGEGATE_STORE_BACKEND_H
#define PAGEGATE_STORE_BACKEND_H

#include "pagegate/store.h"

struct pg_sb;   /* one backend connection, opaque */

struct pg_store_backend {
	/* The dsn scheme: "sqlite" serves "sqlite:PATH". */
	const char *name;

	/* Opens a connection to target (the dsn after "name:").  The writer
	 * (readonly false) creates the store if needed and applies every
	 * forward migration; max_mb > 0 caps the store's size so that writes
	 * past it fail with PG_ERR_FULL.  Readers never write. */
	pg_err (*open)(const char *target, bool readonly, int64_t max_mb,
		       struct pg_sb **out);
	void (*close)(struct pg_sb *c);
	/* The schema version the store is at. */
	pg_err (*schema_version)(struct pg_sb *c, int *version);

	/* Transactions.  begin on the writer takes the write lock at once;
	 * on a reader it starts a consistent snapshot.  savepoint/release/
	 * rollback_savepoint nest one level inside a write transaction so
	 * that one failing operation of a group commit leaves the others
	 * intact; rollback_savepoint fails when the database has already
	 * abandoned the whole transaction (some engines do on disk full). */
	pg_err (*begin)(struct pg_sb *c);
	pg_err (*commit)(struct pg_sb *c);
	pg_err (*rollback)(struct pg_sb *c);
	pg_err (*savepoint)(struct pg_sb *c);
	pg_err (*release)(struct pg_sb *c);
	pg_err (*rollback_savepoint)(struct pg_sb *c);

	/* ---- writes (writer connection, inside begin..commit) ---- */

	/* The message an operator already submitted with this idempotency
	 * key: its id, state and ack reference, or PG_ERR_NOTFOUND. */
	pg_err (*find_idem)(struct pg_sb *c, const char *operator_name,
			    const char *idem_key, int64_t *id,
			    enum pg_mstate *state, char ack_ref[12]);
	/* Inserts m with its fields, m->state, m->ack_ref and its escalation
	 * columns (acked_ms and acked_by are not written: a new message is
	 * not acknowledged); sets m->id.  PG_ERR_EXISTS when ack_ref is taken. */
	pg_err (*insert_message)(struct pg_sb *c, struct pg_message *m);
	/* Marks message mid acknowledged at acked_ms by acked_by, only if it
	 * is not yet: PG_ERR_NOTFOUND when no unacknowledged message mid. */
	pg_err (*set_message_ack)(struct pg_sb *c, int64_t mid, int64_t acked_ms,
				  const char *acked_by);
	/* Clears the acknowledgement of message mid (re-trigger). */
	pg_err (*clear_message_ack)(struct pg_sb *c, int64_t mid);
	/* Writes the escalation progress of message mid: fired steps, next
	 * due time, state. */
	pg_err (*update_escalation)(struct pg_sb *c, int64_t mid, int fired,
				    int64_t next_ms, enum pg_esc_state state);
	/* Takes reference ref from the message holding it if that message
	 * was received before before_ms (its ack_ref becomes NULL), so
	 * that the reference can be given again; PG_ERR_NOTFOUND when no
	 * message that old holds it. */
	pg_err (*release_ack_ref)(struct pg_sb *c, const char *ref,
				  int64_t before_ms);
	/* Stores (or replaces) setting key with len bytes of val. */
	pg_err (*put_setting)(struct pg_sb *c, const char *key, const void *val,
			      size_t len);
	pg_err (*set_message_state)(struct pg_sb *c, int64_t mid,
				    enum pg_mstate state);
	/* Inserts d (d->message_id set); sets d->id. */
	pg_err (*insert_delivery)(struct pg_sb *c, struct pg_delivery *d);
	/* Writes d's mutable columns (state, priority, attempts, next_try,
	 * expires, updated, last_reply) to row d->id. */
	pg_err (*update_delivery)(struct pg_sb *c, const struct pg_delivery *d);
	/* Inserts a running attempt (finished_ms 0, no outcome); sets *id. */
	pg_err (*insert_attempt)(struct pg_sb *c, int64_t did, int64_t started_ms,
				 int64_t *id);
	/* Closes running attempt aid of delivery did; PG_ERR_NOTFOUND when
	 * there is no such running attempt. */
	pg_err (*finish_attempt)(struct pg_sb *c, int64_t aid, int64_t did,
				 int64_t finished_ms, enum pg_outcome outcome,
				 const char *reply);
	/* Appends e (did 0 = about the message); sets e->id.  An unknown
	 * message or delivery gives PG_ERR_NOTFOUND. */
	pg_err (*insert_event)(struct pg_sb *c, struct pg_event *e);

	/* ---- reads (any connection) ---- */

	/* counts[s] = number of deliveries of message mid in state s. */
	pg_err (*count_dstates)(struct pg_sb *c, int64_t mid,
				size_t counts[PG_D__COUNT]);
	/* The running attempts of delivery did, oldest first, at most max;
	 * *n is how many were found (<= max). */
	pg_err (*open_attempts)(struct pg_sb *c, int64_t did, int64_t *ids,
				size_t max, size_t *n);
	/* The first delivery in state s with id > after, or PG_ERR_NOTFOUND. */
	pg_err (*next_in_state)(struct pg_sb *c, enum pg_dstate s, int64_t after,
				struct pg_delivery *out);
	/* Calls cb for each queued, sending or held delivery, by id (never
	 * a waiting one). */
	pg_err (*each_pending)(struct pg_sb *c,
		void (*cb)(const struct pg_delivery *d, void *arg), void *arg);
	pg_err (*get_message)(struct pg_sb *c, int64_t id, struct pg_message *out);
	pg_err (*get_delivery)(struct pg_sb *c, int64_t id, struct pg_delivery *out);
	/* All rows of message mid, ordered by id; *v is malloc'ed (NULL when
	 * *n is 0). */
	pg_err (*message_deliveries)(struct pg_sb *c, int64_t mid,
				     struct pg_delivery **v, size_t *n);
	pg_err (*message_attempts)(struct pg_sb *c, int64_t mid,
				   struct pg_attempt **v, size_t *n);
	pg_err (*message_events)(struct pg_sb *c, int64_t mid,
				 struct pg_event **v, size_t *n);
	/* Newest first (received_ms, then id), without fields; f->limit is
	 * already clamped to 1..1000 by the front end. */
	pg_err (*list_messages)(struct pg_sb *c, const struct pg_list_filter *f,
				struct pg_message **v, size_t *n);
	/* Calls cb(mid, esc_next_ms) for each message whose escalation is
	 * "active", by id. */
	pg_err (*each_escalation)(struct pg_sb *c,
		void (*cb)(int64_t mid, int64_t next_ms, void *arg), void *arg);
	/* The number of messages whose escalation is "exhausted". */
	pg_err (*count_unacked)(struct pg_sb *c, int64_t *n);
	/* The message whose ack_ref is ref, or PG_ERR_NOTFOUND. */
	pg_err (*find_ack_ref)(struct pg_sb *c, const char *ref, int64_t *mid);
	/* Candidates for an inbound reply: calls cb with each attempt started
	 * at or after since_ms of a delivery on channel ch that is sending,
	 * sent or delivered and whose message is not acknowledged - the
	 * delivery's id, its message's and its address (valid during the
	 * call) - most recent attempt first, at most max calls; stops early
	 * when cb returns true.  A delivery tried twice comes twice. */
	pg_err (*recent_deliveries)(struct pg_sb *c, enum pg_channel_kind ch,
		int64_t since_ms, size_t max, bool include_acked,
		bool (*cb)(int64_t did, int64_t mid, const char *address,
			   void *arg),
		void *arg);
	/* Copies setting key into buf (size bytes at most; a longer value is
	 * PG_ERR_TOOBIG) and sets *len, or PG_ERR_NOTFOUND. */
	pg_err (*get_setting)(struct pg_sb *c, const char *key, void *buf,
			      size_t size, size_t *len);
	/* The check-in mailbox: deliveries in state waiting of the messages
	 * of client_id (only those to contact_id unless NULL), by created_ms
	 * then id, at most max; *v is malloc'ed (NULL when *n is 0). */
	pg_err (*mailbox_deliveries)(struct pg_sb *c, const char *client_id,
				     const char *contact_id, size_t max,
				     struct pg_delivery **v, size_t *n);
	/* The number of deliveries in state s. */
	pg_err (*count_in_state)(struct pg_sb *c, enum pg_dstate s, size_t *n);
};

/* A random 6-digit ack reference ("048213") that no message on connection
 * c (inside its write transaction) holds: a free one, or one released
 * from a message older than 30 days (6 digits are a million references; a
 * busy service goes through them in a few years).  For the front end at
 * submit and for a backend's migration that gives stored messages one.
 * PG_ERR_FULL when a bounded number of tries found none. */
#define PG_STORE_REF_LEN 6
pg_err store__new_ack_ref(const struct pg_store_backend *be, struct pg_sb *c,
			  char out[12]);

/* The backends compiled in. */
extern const struct pg_store_backend pg_store_sqlite;

#endif
