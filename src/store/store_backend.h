/*
 * store_backend.h - the store's private contract with its databases.  The
 * front end (store.c, store_read.c, store_ledger.c, store_escalation.c,
 * store_mailbox.c, all through store_priv.h) calls one table of functions;
 * each backend fills one: sqlite/ (store_sqlite*.c through
 * store_sqlite_priv.h) and pg/ (store_pg*.c through store_pg_priv.h).  The
 * store's conformance suite includes it (tests/unit/store_backend_suite.h,
 * for test_store_backend.c and test_store_backend_rows.c) to run every
 * backend through every slot.  Nothing else includes it: the rest of
 * pagegate sees only store.h.
 *
 * In the style of OpenSMTPD's queue backends: a backend is one constant
 * table of functions, each a row-level operation; every rule of the store
 * (ledger texts, message-state derivation, acknowledgements, escalation,
 * crash recovery, which inbound address matches) lives in the front end,
 * so a new backend only has to speak its database.
 *
 * A backend connection (struct pg_sb) is used by one thread at a time.  The
 * front end opens exactly one writer connection, first, and some read-only
 * ones after it.  States travel as the enums of common.h; a backend that
 * stores them as text uses common.h's *_name and *_parse.  Strings read
 * back are allocated; the caller frees them with the pg_*_free functions
 * of store.h.
 *
 * Errors.  Each slot returns PG_OK or one of the codes its comment lists,
 * and besides those, any slot may return PG_ERR_NOMEM, PG_ERR_IO (the store
 * cannot be read or written) and PG_ERR_STORE (anything else the database
 * refuses, for example any write on a read-only connection, or a row this
 * build cannot read); any write may return PG_ERR_FULL (store or disk
 * full: nothing of that write is stored).
 */
#ifndef PAGEGATE_STORE_BACKEND_H
#define PAGEGATE_STORE_BACKEND_H

#include "pagegate/store.h"

/* The store's schema version: what the rows hold, the same for every
 * backend.  A writer's open brings a store to it. */
#define STORE_SCHEMA_VERSION 4

/* The parts of a message get_message reads besides the message itself. */
enum {
	STORE_DELIVERIES = 1 << 0,
	STORE_ATTEMPTS   = 1 << 1,
	STORE_EVENTS     = 1 << 2,
	STORE_ALL        = STORE_DELIVERIES | STORE_ATTEMPTS | STORE_EVENTS
};

/* The columns of a message update_message writes, by group. */
enum {
	STORE_M_STATE = 1 << 0,      /* state */
	STORE_M_ACK   = 1 << 1,      /* acked_ms (0 = none), acked_by */
	STORE_M_ESC   = 1 << 2,      /* esc_fired, esc_next_ms, esc_state */
	STORE_M_REF   = 1 << 3       /* ack_ref ("" = none) */
};

/* A set of delivery states for each_delivery: one bit per state. */
#define STORE_DSTATE(s) (1u << (s))
/* A set of channels for claim and next_due: one bit per channel. */
#define STORE_DCH(ch) (1u << (ch))

/* A delivery a node claimed (claim): the row, and the token that must
 * still hold when its outcome is recorded. */
struct pg_claim {
	int64_t did, mid, token, next_try_ms, lease_until_ms;
	enum pg_channel_kind channel;
	enum pg_dstate state;
	int priority;
};

struct pg_sb;   /* one backend connection, opaque */

struct pg_store_backend {
	/* The dsn scheme: "sqlite" serves "sqlite:PATH". */
	const char *name;

	/* ---- connections ---- */

	/* Opens a connection to target (the dsn after "name:").  The writer
	 * (readonly false) creates the store if needed and brings it to
	 * STORE_SCHEMA_VERSION; max_mb > 0 caps the store's size so that
	 * writes past it fail with PG_ERR_FULL (the front end passes the
	 * configured cap plus its reserve: the intake cap itself is the
	 * front end's, through used).  Readers never write.
	 * Errors: PG_ERR_IO (target cannot be opened or created),
	 * PG_ERR_STORE (the store's schema is newer than this build's: it is
	 * refused, not touched), PG_ERR_FULL (no room to create or migrate). */
	pg_err (*open)(const char *target, bool readonly, int64_t max_mb,
		       struct pg_sb **out);
	/* Closes c (NULL is fine), rolling back a transaction left open. */
	void (*close)(struct pg_sb *c);
	/* The schema version the store is at (STORE_SCHEMA_VERSION once a
	 * writer opened it).  No errors of its own. */
	pg_err (*schema_version)(struct pg_sb *c, int *version);
	/* The bytes the store's data takes now - inside a write transaction,
	 * counting what it wrote so far - in the unit that open's max_mb
	 * caps (free space the store reuses is not counted).  It is called
	 * before each new message, so it must be cheap: a counter the
	 * engine keeps, never a scan of the rows.  No errors of its own. */
	pg_err (*used)(struct pg_sb *c, int64_t *bytes);
	/* Room set aside on the store's disk for when it fills (the front
	 * end gives it back then, so that the writes about messages already
	 * taken go on while new ones are refused).  bytes > 0 sets that much
	 * aside (PG_OK also when it already is), provided the disk has as
	 * much again free besides - else PG_ERR_FULL, and nothing is set
	 * aside; 0 gives it back (PG_ERR_NOTFOUND when nothing was set
	 * aside).  PG_ERR_NOTFOUND for bytes > 0: this store cannot set
	 * room aside (its disk is a server's, or it has none).  Writer
	 * only. */
	pg_err (*spare)(struct pg_sb *c, int64_t bytes);

	/* ---- transactions ----
	 * begin on the writer takes the write lock at once (a second writer,
	 * another process, waits a bounded time, then PG_ERR_STORE); on a
	 * reader it starts a consistent snapshot, taken at the latest by its
	 * first read: writes committed after that are not seen until the
	 * next begin, uncommitted ones never.  commit returns once the
	 * transaction is durable; when it fails (PG_ERR_FULL, PG_ERR_IO)
	 * nothing of the transaction is stored - unless outcome, below, says
	 * so - and the caller rolls back.
	 * rollback ends whatever transaction is open, also one the database
	 * has already abandoned (PG_OK when none is open).
	 * savepoint/release/rollback_savepoint nest one level inside a write
	 * transaction so that one failing operation of a group commit leaves
	 * the others intact: rollback_savepoint undoes everything since the
	 * savepoint and ends it, and fails (PG_ERR_STORE) when the database
	 * has already abandoned the whole transaction (some engines do on a
	 * full disk).  None has errors of its own beyond those. */
	pg_err (*begin)(struct pg_sb *c);
	pg_err (*commit)(struct pg_sb *c);
	pg_err (*rollback)(struct pg_sb *c);
	pg_err (*savepoint)(struct pg_sb *c);
	pg_err (*release)(struct pg_sb *c);
	pg_err (*rollback_savepoint)(struct pg_sb *c);
	/* After commit failed with PG_ERR_IO: whether that transaction
	 * committed all the same - a server's answer to COMMIT can be lost
	 * with the connection after the server made it durable.  PG_OK: it
	 * committed; PG_ERR_IO: not known yet (the server is unreachable;
	 * ask again); another error: it did not commit (nothing of it is
	 * stored).  Each call may try to reconnect once.  NULL (an embedded
	 * engine): commit's failure always means nothing was stored. */
	pg_err (*outcome)(struct pg_sb *c);

	/* ---- messages ---- */

	/* Inserts m with its fields, state, ack_ref ("" = none) and its
	 * escalation columns (acked_ms and acked_by are not written: a new
	 * message is not acknowledged); sets m->id.  Errors: PG_ERR_EXISTS
	 * (ack_ref, or operator_name with idem_key, is taken), PG_ERR_INVAL
	 * (fields that cannot round-trip: a key twice, text not UTF-8). */
	pg_err (*insert_message)(struct pg_sb *c, struct pg_message *m);
	/* Writes to row m->id the column groups cols names (STORE_M_*, at
	 * least one).  Errors: PG_ERR_NOTFOUND (no message m->id),
	 * PG_ERR_EXISTS (m->ack_ref is another message's), PG_ERR_INVAL
	 * (cols names none). */
	pg_err (*update_message)(struct pg_sb *c, const struct pg_message *m,
				 unsigned cols);
	/* Message id with its fields into out->msg and, as parts
	 * (STORE_DELIVERIES | ...) asks, its deliveries, attempts and events
	 * ordered by id (the others left empty).  Errors: PG_ERR_NOTFOUND,
	 * PG_ERR_TOOBIG (more rows than the backend reads back at once); on
	 * error *out is empty. */
	pg_err (*get_message)(struct pg_sb *c, int64_t id, unsigned parts,
			      struct pg_message_full *out);
	/* The message holding a unique key: ack_ref when not NULL, else
	 * operator_name with idem_key.  Only out's id, received_ms, state and
	 * ack_ref are set (columns every schema from version 2 has, so that a
	 * migration may call it by ack_ref), and by idem_key also idem_hash
	 * ("" for rows stored without one).  Errors: PG_ERR_NOTFOUND. */
	pg_err (*find_message)(struct pg_sb *c, const char *ack_ref,
			       const char *operator_name, const char *idem_key,
			       struct pg_message *out);
	/* Messages matching f, newest first (received_ms, then id), without
	 * fields; f->limit is already clamped to 1..1000 by the front end.
	 * *v is malloc'ed (NULL when *n is 0).  No errors of its own. */
	pg_err (*list_messages)(struct pg_sb *c, const struct pg_list_filter *f,
				struct pg_message **v, size_t *n);
	/* Calls cb(mid, esc_next_ms) for each message whose escalation is in
	 * state s, by id.  No errors of its own. */
	pg_err (*each_escalation)(struct pg_sb *c, enum pg_esc_state s,
		void (*cb)(int64_t mid, int64_t next_ms, void *arg), void *arg);
	/* The number of messages whose escalation is in state s.  No errors
	 * of its own. */
	pg_err (*count_escalations)(struct pg_sb *c, enum pg_esc_state s,
				    size_t *n);

	/* ---- deliveries ---- */

	/* Inserts d (d->message_id set); sets d->id.  Errors:
	 * PG_ERR_NOTFOUND (no message d->message_id). */
	pg_err (*insert_delivery)(struct pg_sb *c, struct pg_delivery *d);
	/* Writes d's mutable columns (state, priority, attempts, next_try,
	 * expires, updated, last_reply) to row d->id.  Errors:
	 * PG_ERR_NOTFOUND. */
	pg_err (*update_delivery)(struct pg_sb *c, const struct pg_delivery *d);
	/* Errors: PG_ERR_NOTFOUND. */
	pg_err (*get_delivery)(struct pg_sb *c, int64_t id, struct pg_delivery *out);
	/* Calls cb for each delivery whose state is in states (STORE_DSTATE
	 * bits) and whose id is above after, by id, until cb returns true.
	 * cb's delivery is valid during the call only and cb must not use c.
	 * No errors of its own. */
	pg_err (*each_delivery)(struct pg_sb *c, unsigned states, int64_t after,
		bool (*cb)(const struct pg_delivery *d, void *arg), void *arg);
	/* The check-in mailbox: deliveries in state waiting of the messages
	 * of client_id (only those to contact_id unless NULL), by created_ms
	 * then id, at most max; *v is malloc'ed (NULL when *n is 0).  No
	 * errors of its own. */
	pg_err (*mailbox_deliveries)(struct pg_sb *c, const char *client_id,
				     const char *contact_id, size_t max,
				     struct pg_delivery **v, size_t *n);
	/* Candidates for an inbound reply: calls cb with each attempt started
	 * at or after since_ms of a delivery on channel ch that is sending,
	 * sent or delivered and whose message is not acknowledged (or is,
	 * with include_acked) - the delivery's id, its message's and its
	 * address (valid during the call) - most recent attempt first, at
	 * most max calls; stops early when cb returns true.  A delivery tried
	 * twice comes twice.  No errors of its own. */
	pg_err (*recent_deliveries)(struct pg_sb *c, enum pg_channel_kind ch,
		int64_t since_ms, size_t max, bool include_acked,
		bool (*cb)(int64_t did, int64_t mid, const char *address,
			   void *arg),
		void *arg);
	/* counts[s] = number of deliveries of message mid in state s (all 0
	 * for an unknown message).  No errors of its own. */
	pg_err (*count_dstates)(struct pg_sb *c, int64_t mid,
				size_t counts[PG_D__COUNT]);
	/* The number of deliveries in state s, all messages.  No errors of
	 * its own. */
	pg_err (*count_deliveries)(struct pg_sb *c, enum pg_dstate s, size_t *n);

	/* ---- attempts, events, settings ---- */

	/* Inserts a running attempt of delivery did (finished_ms 0, no
	 * outcome); sets *id.  Errors: PG_ERR_NOTFOUND (no delivery did). */
	pg_err (*insert_attempt)(struct pg_sb *c, int64_t did, int64_t started_ms,
				 int64_t *id);
	/* Closes the running attempt aid of delivery did - or, with aid 0,
	 * every running attempt of did - with the outcome and the reply;
	 * sets *n to how many it closed.  Errors: PG_ERR_NOTFOUND (aid is not
	 * 0 and is no running attempt of did). */
	pg_err (*finish_attempt)(struct pg_sb *c, int64_t did, int64_t aid,
				 int64_t finished_ms, enum pg_outcome outcome,
				 const char *reply, size_t *n);
	/* Appends e (delivery_id 0 = about the message); sets e->id.
	 * Errors: PG_ERR_NOTFOUND (no message e->message_id, or no delivery
	 * e->delivery_id). */
	pg_err (*insert_event)(struct pg_sb *c, struct pg_event *e);
	/* Copies setting key into buf and sets *len.  Errors:
	 * PG_ERR_NOTFOUND, PG_ERR_TOOBIG (the value is over size bytes). */
	pg_err (*get_setting)(struct pg_sb *c, const char *key, void *buf,
			      size_t size, size_t *len);
	/* Stores (or replaces) setting key with len bytes of val.  No errors
	 * of its own. */
	pg_err (*put_setting)(struct pg_sb *c, const char *key, const void *val,
			      size_t len);

	/* ---- several nodes on one store (optional: NULL in a backend that
	 * serves one process, SQLite's) ---- */

	/* Makes the writer c the only one of the store for as long as it
	 * lives (and again after a reconnect).  PG_ERR_STORE when another
	 * process's writer has it. */
	pg_err (*exclusive)(struct pg_sb *c);
	/* Claims for node at most max deliveries due by the database's
	 * clock, most urgent first (priority, next_try_ms, id): queued or
	 * held ones whose next_try_ms has come, and sending ones whose lease
	 * ran out (a dead node's), on the channels of the STORE_DCH bit set,
	 * skipping rows another claim holds or is taking (SKIP LOCKED).  Each
	 * gets owner node, a new claim token and a lease of lease_ms; out[]
	 * (room for max) says which, *n how many.  Its own transaction: not
	 * inside begin. */
	pg_err (*claim)(struct pg_sb *c, const char *node, unsigned channels,
			int64_t lease_ms, size_t max, struct pg_claim *out,
			size_t *n);
	/* Extends by lease_ms (from the database's clock) the leases node
	 * holds with the n tokens; *kept says how many it still held (a
	 * lease that ran out holds until another claim takes the row).  Its
	 * own transaction. */
	pg_err (*renew)(struct pg_sb *c, const char *node, const int64_t *tokens,
			size_t n, int64_t lease_ms, size_t *kept);
	/* Inside the writer's transaction: *holds whether token is still
	 * delivery did's claim (no other claim took it since, even if its
	 * lease ran out), with the row locked until the transaction
	 * ends (an outcome is recorded only if it holds); with release and
	 * holding, the claim is cleared.  Errors: PG_ERR_NOTFOUND. */
	pg_err (*claim_check)(struct pg_sb *c, int64_t did, int64_t token,
			      bool release, bool *holds);
	/* Milliseconds from the database's now until the next delivery on
	 * those channels is due (0 when one is due, -1 when none waits). */
	pg_err (*next_due)(struct pg_sb *c, unsigned channels, int64_t *ms);
	/* *held: whether c's session is the store's coordinator - the one
	 * node that runs what must run once per store (summaries) - taking
	 * the role when no live session holds it.  Never waits. */
	pg_err (*coordinator)(struct pg_sb *c, bool *held);
	/* Inside the writer's transaction: payload (under 8000 bytes) goes
	 * to every session listening on channel when the transaction
	 * commits, and nowhere if it rolls back. */
	pg_err (*notify)(struct pg_sb *c, const char *channel,
			 const char *payload);
	/* On a session of its own: listens on the NULL-ended channels (again
	 * after a reconnect) and waits up to wait_ms for notifications,
	 * calling cb with each.  PG_ERR_IO when the server cannot be
	 * reached (tried again at the next call). */
	pg_err (*listen)(struct pg_sb *c, const char *const *channels,
			 int64_t wait_ms, void (*cb)(void *arg,
			 const char *channel, const char *payload), void *arg);
	/* Whether the server answers (reconnecting if needed): PG_ERR_IO if
	 * not. */
	pg_err (*ping)(struct pg_sb *c);
	/* Inside the writer's transaction: locks (FOR UPDATE SKIP LOCKED)
	 * and names in mids[] at most max messages whose escalation is
	 * active, unacknowledged and due by the database's clock (*now_ms,
	 * that clock), most overdue first; *n how many. */
	pg_err (*esc_due)(struct pg_sb *c, size_t max, int64_t *mids, size_t *n,
			  int64_t *now_ms);
	/* Inside the writer's transaction: locks message mid's row (FOR
	 * UPDATE) until it ends, as an acknowledgement does before it is
	 * recorded, so that no escalation step is fired beside it. */
	pg_err (*lock_message)(struct pg_sb *c, int64_t mid);
	/* The database's clock in milliseconds since the epoch, the one
	 * claims and esc_due compare with; NULL where the store has none of
	 * its own (the process's clock is the store's). */
	pg_err (*clock)(struct pg_sb *c, int64_t *ms);
};

/* The backend serving dsn: "NAME:TARGET" for a backend built in (*target
 * is then TARGET), or a plain file path (SQLite's; *target is dsn).  NULL,
 * with an error logged that names the scheme and the schemes built in,
 * for another scheme ("postgresql://...", "mysql:...") or an empty target. */
const struct pg_store_backend *store__backend_for(const char *dsn,
						   const char **target);

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
extern const struct pg_store_backend pg_store_postgresql;   /* pg/ */

#endif
