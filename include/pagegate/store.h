/*
 * store.h - the durable truth: messages, deliveries, attempts and the
 * per-message ledger.  The scheme of the dsn picks the backend; the
 * default is SQLite in WAL mode (src/store/sqlite/).  Backends are tables
 * of functions behind a contract private to the store
 * (src/store/store_backend.h), so a PostgreSQL backend can be added
 * without touching routing or channels.
 *
 * Every write goes through one writer thread that commits whatever writes
 * are waiting in one transaction (group commit: many messages per fsync).
 * A write call returns only after its transaction is durable (synchronous =
 * FULL), or with an error, in which case nothing of it was stored.
 * All functions are safe to call from any thread.  Times are UTC ms.
 */
#ifndef PAGEGATE_STORE_H
#define PAGEGATE_STORE_H

#include "pagegate/common.h"

struct pg_message {
	int64_t id;                  /* set by the store */
	char *client_id;
	enum pg_kind kind;
	enum pg_urgency urgency;
	char *caller_name;
	char *caller_phone;
	char *caller_company;        /* may be NULL */
	char *text;
	struct pg_kv *fields;        /* the client's own fields, in given order */
	size_t n_fields;
	char *operator_name;         /* who entered it */
	char *idem_key;              /* Idempotency-Key, may be NULL */
	char idem_hash[65];          /* with idem_key: hex SHA-256 of the
					canonical request (pg_intake_request_hash),
					"" = none (messages stored before schema
					version 4, or a caller without one) */
	int64_t received_ms;         /* set by the caller before submit */
	enum pg_mstate state;        /* derived, see pg_store_submit */
	char ack_ref[12];            /* set by the store at submit: 6 digits,
					unique among messages, e.g. "482913" */
	int64_t acked_ms;            /* 0 = not acknowledged */
	char *acked_by;              /* who acknowledged ("jane via sms"), or NULL */
	/* Escalation (all zero / NULL when the message has no policy).
	 * esc_fired steps of esc_total (steps x rounds) have gone out; the
	 * next one (or, when esc_fired == esc_total, the verdict
	 * "unacknowledged") is due at esc_next_ms while esc_state is
	 * PG_ES_ACTIVE.  PG_ES_EXHAUSTED: nobody acknowledged, the message is
	 * flagged unacknowledged.  PG_ES_NONE without a policy. */
	char *esc_policy;
	int esc_fired;
	int esc_total;
	int64_t esc_next_ms;
	enum pg_esc_state esc_state;
};

struct pg_delivery {
	int64_t id;                  /* set by the store */
	int64_t message_id;
	char *contact_id;
	char *contact_name;
	enum pg_channel_kind channel;
	char *address;               /* "to": email address, number, topic... */
	char *gateway;               /* may be NULL = channel default */
	enum pg_dstate state;        /* PG_D_QUEUED or PG_D_HELD at submit */
	int priority;                /* pg_priority() of the message */
	int attempts;
	int64_t created_ms;
	int64_t next_try_ms;         /* queued: when due; held: release time */
	int64_t expires_ms;          /* give-up time */
	int64_t updated_ms;
	char *last_reply;            /* peer's last reply text, may be NULL */
	int esc_step;                /* 0 = not from an escalation policy, else
					the step (1-based, counting rounds) that
					made it */
};

struct pg_attempt {
	int64_t id;
	int64_t delivery_id;
	int64_t started_ms;
	int64_t finished_ms;         /* 0 while running */
	enum pg_outcome outcome;
	char *reply;
};

struct pg_event {
	int64_t id;
	int64_t message_id;
	int64_t delivery_id;         /* 0 = about the message */
	int64_t at_ms;
	char *type;                  /* received, routed, held, released,
					attempt_started, attempt_finished,
					sent, delivered, retry_scheduled,
					failed, cancelled, acknowledged ... */
	char *detail;                /* human text, may be NULL */
};

/* A message with everything about it, for GET /v1/messages/{id}. */
struct pg_message_full {
	struct pg_message msg;
	struct pg_delivery *deliveries;
	size_t n_deliveries;
	struct pg_attempt *attempts;     /* all attempts, ordered by id */
	size_t n_attempts;
	struct pg_event *events;         /* the ledger, ordered by id */
	size_t n_events;
};

/* What the console's board shows (pg_list_filter.view). */
enum pg_list_view {
	PG_VIEW_ALL = 0,     /* every message (the other filters apply) */
	PG_VIEW_NEEDS,       /* needs a human: not acknowledged, not
				cancelled by an operator (unless escalated
				or resent since), and (its escalation active
				or run out, or a delivery failed and not
				resent since, or an emergency or dispatch
				of the last 24 hours not delivered); most
				urgent first (dispatch/emergency, urgent,
				routine), then oldest first */
	PG_VIEW_ESCALATING,  /* escalation active */
	PG_VIEW_HELD,        /* message state held */
	PG_VIEW_WAITING,     /* message state waiting (check-in mailbox) */
	PG_VIEW_FAILED,      /* a delivery failed */
	PG_VIEW__COUNT
};

struct pg_list_filter {
	const char *client_id;       /* NULL = any */
	enum pg_mstate state;        /* PG_M_ANY (0) = any */
	int64_t since_ms;            /* 0 = any; received_ms >= since */
	bool unacknowledged;         /* only messages whose escalation ran
					out unacknowledged (state is then
					ignored) */
	int limit;                   /* 1..1000 */
	/* The board's search (with view != ALL or any of these set, state and
	 * unacknowledged are ignored): */
	enum pg_list_view view;
	const char *q;               /* NULL = any: a part of the client id,
					of the caller's name (in any case) or
					of the caller's phone's digits (q's own
					digits) */
	const char *q_clients;       /* NULL = none: ids of clients, comma-
					separated, that q matches too (by the
					name the configuration gives them) */
	int64_t until_ms;            /* 0 = any; received_ms < until */
	int64_t id;                  /* 0 = any; this message only */
};

struct pg_store;

/* Opens (creating if needed) the store named by dsn: "sqlite:PATH" or a
 * plain file path (SQLite's).  Applies forward schema migrations.
 * max_mb > 0 caps the database size for new messages: once the store
 * holds max_mb, pg_store_submit refuses new ones (PG_ERR_FULL), while
 * every write about messages already stored (attempts, outcomes,
 * acknowledgements, escalation steps, the ledger) goes on in a reserve
 * of pg_store_reserve_mb(max_mb) above it; past the reserve, or on a
 * full disk, every write fails with PG_ERR_FULL.  Errors: PG_ERR_INVAL (no dsn, max_mb < 0), PG_ERR_CONFIG
 * (a scheme this build has no backend for, such as "postgresql://...",
 * logged with the schemes built in; nothing after "sqlite:"), PG_ERR_IO
 * (cannot open or create), PG_ERR_STORE (a store from a newer pagegate,
 * refused untouched), PG_ERR_FULL, PG_ERR_NOMEM. */
pg_err pg_store_open(const char *dsn, int64_t max_mb, struct pg_store **out);
/* The reserve above a cap of max_mb (0 for no cap): a quarter of it, at
 * least PG_STORE_RESERVE_MIN_MB - room for the attempts, outcomes and
 * ledger rows of the messages taken before the cap was reached. */
#define PG_STORE_RESERVE_DIV    4
#define PG_STORE_RESERVE_MIN_MB 16
int64_t pg_store_reserve_mb(int64_t max_mb);

/* ---- several nodes on one store (PostgreSQL) ----
 * pg_store_open_node opens the store as node `node` (NULL: as its only
 * process, pg_store_open's way, which a second process writing to a
 * PostgreSQL store is refused); a backend that cannot share a store
 * (SQLite) refuses a node name (PG_ERR_CONFIG).  A node's deliveries come
 * from pg_store_claim: due ones (by the database's clock), each under a
 * lease of lease_ms with a token, which pg_store_renew extends while the
 * node works on it; its attempt is started and finished with the token,
 * and an outcome that arrives after the claim was lost (the lease ran out
 * and another node took the delivery) is not recorded: the ledger gets a
 * "possible_duplicate" event and the call PG_ERR_EXISTS. */
struct pg_claimed { int64_t did, token; };
pg_err pg_store_open_node(const char *dsn, int64_t max_mb, const char *node,
			  struct pg_store **out);
/* Limits the deliveries the node claims to those of the n channels v
 * (n = 0: every channel, the default); set before the scheduler starts. */
void pg_store_node_channels(struct pg_store *st, const enum pg_channel_kind *v,
			    size_t n);
/* The node's name, or NULL when it is the store's only process. */
const char *pg_store_node(const struct pg_store *st);
pg_err pg_store_claim(struct pg_store *st, int64_t lease_ms, size_t max,
		      struct pg_claimed *out, size_t *n);
/* *kept: how many of the n tokens were still this node's. */
pg_err pg_store_renew(struct pg_store *st, const int64_t *tokens, size_t n,
		      int64_t lease_ms, size_t *kept);
/* Whether this node runs what runs once per store (summaries): true for
 * the store's only process; among nodes, the one holding the role (taken
 * when no live node holds it, so a dead coordinator's role passes on). */
bool pg_store_coordinator(struct pg_store *st);
/* A node hears the other nodes through the store (PostgreSQL's
 * LISTEN/NOTIFY, on a session of its own): their changes to messages go
 * to the observer (pg_store_observe) as if written here, and their
 * notices of new work call waker(arg).  Only a hint, sooner than the
 * next poll; a no-op without a node name.  Call once, after observe. */
pg_err pg_store_listen(struct pg_store *st, void (*waker)(void *arg),
		       void *arg);
/* Stops listening (waits for the listener): waker is no longer called.
 * pg_store_close does it too. */
void pg_store_unlisten(struct pg_store *st);
/* Escalation steps on a node of several: pg_store_esc_fire_due claims,
 * in one write transaction, at most max messages whose next step is due
 * by the database's clock (their rows locked FOR UPDATE SKIP LOCKED, so
 * two nodes never take the same one, and an acknowledgement, which locks
 * its message's row first, waits or wins), asks build what each step is
 * (out[i]'s mid and step set; build fills d, nd, next, exhaust and detail
 * from the message and the database's now_ms) and fires it in the same
 * transaction: each step once, none after an acknowledgement.  out[i]
 * .applied says which were recorded; *n how many out[] build filled (their
 * d to be freed by the caller, on error too).  PG_ERR_INVAL on a store
 * without nodes (SQLite: escalate.c's timers fire the steps). */
struct pg_esc_fired {
	int64_t mid;
	int step;                    /* the step fired: esc_fired + 1 */
	struct pg_delivery *d;       /* its deliveries, made by build */
	size_t nd;
	int64_t next;                /* the next step's due time (ms) */
	bool exhaust;                /* the verdict "unacknowledged" */
	bool applied;                /* recorded (set by the store) */
	char detail[1024];
};
typedef pg_err (*pg_esc_build)(void *arg, const struct pg_message *m,
			       int64_t now_ms, struct pg_esc_fired *s);
pg_err pg_store_esc_fire_due(struct pg_store *st, pg_esc_build build,
			     void *arg, struct pg_esc_fired *out, size_t max,
			     size_t *n);
/* Whether the store can be reached now (a database server answers; a
 * file store always), asked at most once a second. */
bool pg_store_reachable(struct pg_store *st);
/* Milliseconds until the next delivery is due (0: now, -1: none). */
pg_err pg_store_next_due(struct pg_store *st, int64_t *ms);
/* pg_store_attempt_start / _finish under a claim: PG_ERR_EXISTS when the
 * token no longer holds the delivery. */
pg_err pg_store_attempt_start_claimed(struct pg_store *st, int64_t did,
				      int64_t token, int64_t at_ms,
				      int64_t *attempt_id);
pg_err pg_store_attempt_finish_claimed(struct pg_store *st, int64_t did,
				       int64_t token, int64_t attempt_id,
				       int64_t at_ms, enum pg_outcome outcome,
				       const char *reply, enum pg_dstate new_state,
				       int64_t next_try_ms);
void pg_store_close(struct pg_store *st);

/* Stores a new message and its deliveries in one durable transaction, with
 * ledger events "received" and "routed" (route_detail) and "held" for held
 * deliveries.  Sets m->id, each d[i].id / message_id and m->state.
 * If m->idem_key is set and (operator_name, idem_key) already exists,
 * nothing is written, *existing = true and m->id is the first message's id;
 * when both messages carry an idem_hash and they differ (the key reused
 * for another request), nothing is written either, but the answer is
 * PG_ERR_EXISTS with m->id the first message's id.  A missing hash on
 * either side (rows from before schema version 4) counts as matching.
 * Deliveries are queued, held, or waiting (mailbox channel only).
 * Message state is derived from its deliveries, first match wins:
 *   PG_M_UNROUTED (none), PG_M_PENDING (any queued/sending), PG_M_HELD
 *   (else any held), PG_M_WAITING (else any waiting: only mailbox
 *   deliveries are still open), PG_M_FAILED (else any failed),
 *   PG_M_DELIVERED (all delivered), PG_M_CANCELLED (all cancelled), else
 *   PG_M_SENT.
 * Errors: PG_ERR_EXISTS (above), PG_ERR_FULL (the store reached its
 * cap or the disk is full - checked before the message is written, after
 * the idempotency key, so a repeated key still finds its message - or
 * disk/store full), PG_ERR_IO, PG_ERR_STORE. */
pg_err pg_store_submit(struct pg_store *st, struct pg_message *m,
		       struct pg_delivery *d, size_t nd, const char *route_detail,
		       bool *existing);

/* Marks delivery did as sending, increments its attempts, records an
 * attempt row and an "attempt_started" event.  Sets *attempt_id. */
pg_err pg_store_attempt_start(struct pg_store *st, int64_t did, int64_t at_ms,
			      int64_t *attempt_id);

/* Finishes an attempt with the outcome and the peer's reply; sets the
 * delivery's state (queued with next_try_ms for a retry, sent, failed) and
 * last_reply; records "attempt_finished" plus "sent" / "retry_scheduled" /
 * "failed" events; updates the message state. */
pg_err pg_store_attempt_finish(struct pg_store *st, int64_t did,
			       int64_t attempt_id, int64_t at_ms,
			       enum pg_outcome outcome, const char *reply,
			       enum pg_dstate new_state, int64_t next_try_ms);

struct pg_attempt_end {
	int64_t did, aid, at_ms, next_try_ms;  /* as pg_store_attempt_finish */
	enum pg_outcome outcome;
	const char *reply;
	enum pg_dstate state;
	pg_err err;                            /* out */
};
/* The outcomes v[0..nv) and then the attempts of dids[0..nd) (started at
 * at_ms) in one group commit: a batch's attempts or outcomes, or a
 * worker's outcome of one job with the attempt of its next - one fsync
 * for all instead of one round to the writer each.  Each entry is written
 * exactly as pg_store_attempt_finish / pg_store_attempt_start would, in
 * its own savepoint, and gets its own result (v[i].err, errs[i]; aids[i]
 * is 0 unless errs[i] is PG_OK); one that fails leaves the others stored.
 * Returns the first error, or PG_OK when every entry was stored; with
 * nothing to write, PG_OK and no commit. */
pg_err pg_store_attempt_record(struct pg_store *st, struct pg_attempt_end *v, size_t nv,
			       const int64_t *dids, size_t nd, int64_t at_ms,
			       int64_t *aids, pg_err *errs);

/* Moves a delivery to state (with next_try_ms) and records event type with
 * detail: hold release ("released"), give-up ("failed"), cancel... */
pg_err pg_store_set_state(struct pg_store *st, int64_t did, enum pg_dstate state,
			  int64_t next_try_ms, const char *event_type,
			  const char *detail);

/* Appends a ledger event (did may be 0). */
pg_err pg_store_event(struct pg_store *st, int64_t mid, int64_t did,
		      const char *type, const char *detail);

/* Calls cb for every delivery that still needs work (queued, sending,
 * held; never waiting mailbox ones), oldest first.  Deliveries found "sending" (the process died
 * mid-attempt) are first moved back to queued, due now, with their open
 * attempt closed as temp "interrupted by restart".  Used at start-up to
 * rebuild the scheduler.  cb's delivery is valid only during the call. */
pg_err pg_store_load_pending(struct pg_store *st,
	void (*cb)(const struct pg_delivery *d, void *arg), void *arg);

pg_err pg_store_get_message(struct pg_store *st, int64_t id, struct pg_message_full *out);
/* The message alone (with fields), without deliveries or ledger. */
pg_err pg_store_get_msg(struct pg_store *st, int64_t id, struct pg_message *out);
pg_err pg_store_get_delivery(struct pg_store *st, int64_t did, struct pg_delivery *out);
/* Newest first, at most f->limit, without fields.  *out is an array of n. */
pg_err pg_store_list(struct pg_store *st, const struct pg_list_filter *f,
		     struct pg_message **out, size_t *n);

/* ---- acknowledgements, receipts, replies (one model for every channel) ---- */

/* Acknowledges message mid (through delivery did, 0 = none, on channel
 * `channel`, e.g. "sms" or "api"): sets acked_ms / acked_by = who and
 * records an "acknowledged" event ("by WHO via CHANNEL").  When the message
 * was already acknowledged, nothing is written and *already = true.
 * In the same transaction an escalation that is active (or exhausted)
 * stops (PG_ES_ACKED): no later step can fire, and the queued or held
 * deliveries of earlier steps are cancelled (deliveries from the
 * message's plain rules still go).  PG_ERR_NOTFOUND for an unknown
 * message. */
pg_err pg_store_ack(struct pg_store *st, int64_t mid, int64_t did,
		    const char *channel, const char *who, bool *already);

/* The message whose ack_ref is ref.  PG_ERR_NOTFOUND if none. */
pg_err pg_store_find_ack_ref(struct pg_store *st, const char *ref, int64_t *mid);

/* The most recent delivery on channel ch to `address` that is sending,
 * sent or delivered, whose last attempt started within max_age_ms of now
 * and whose message is not acknowledged (unless include_acked: a reply
 * such as "on my way" after "ok" still belongs to that page).  Addresses
 * match when equal or,
 * for phone numbers, when their digits agree (the last 10 digits when both
 * have at least 10, else all digits): "+1 555 555 0111" matches
 * "15555550111".  PG_ERR_NOTFOUND if none. */
pg_err pg_store_find_recent(struct pg_store *st, enum pg_channel_kind ch,
			    const char *address, int64_t max_age_ms,
			    bool include_acked, int64_t *did, int64_t *mid);

/* Stores an inbound reply on message mid (delivery did) as a "reply" event
 * with detail "from FROM via CHANNEL: TEXT" for operators. */
pg_err pg_store_reply(struct pg_store *st, int64_t mid, int64_t did,
		      const char *channel, const char *from, const char *text);

/* A far-end report about delivery did: state PG_D_DELIVERED or
 * PG_D_FAILED; PG_D_SENT for an intermediate report ("accepted by the
 * SMSC", "queued") that is only recorded as a "receipt" event.  A delivery that is queued, sending or sent moves to that
 * state with a "delivered" / "failed" event carrying detail, and the
 * message state is recomputed.  A report about a delivery already final
 * (or a second report) is only recorded as a "receipt" event.
 * PG_ERR_NOTFOUND for an unknown delivery, PG_ERR_INVAL for another state. */
pg_err pg_store_receipt(struct pg_store *st, int64_t did, enum pg_dstate state,
			const char *detail);

/* ---- escalation ---- */

/* The next escalation event of message mid, in one transaction, only if
 * the message is not acknowledged, its escalation is PG_ES_ACTIVE and has
 * fired exactly `fired` steps (so a concurrent ack, cancel or restart wins
 * and *applied = false).  When fired < esc_total it stores the step's
 * deliveries d (each gets esc_step = fired + 1; nd may be 0 when nobody
 * could be reached), records an "escalated" event with detail, and sets
 * esc_fired = fired + 1, esc_next_ms = next_ms.  When fired == esc_total
 * or exhaust (the policy is no longer configured) it sets esc_state
 * PG_ES_EXHAUSTED and records an "unacknowledged" event
 * with detail.  PG_ERR_NOTFOUND for an unknown message. */
pg_err pg_store_esc_advance(struct pg_store *st, int64_t mid, int fired,
			    struct pg_delivery *d, size_t nd, int64_t next_ms,
			    bool exhaust, const char *detail, bool *applied);

/* Operator resend: stores new deliveries d[0..nd) (queued, due now, not
 * from an escalation step, never the mailbox) of message mid, after a
 * "resent" event with detail ("by WHO to CONTACT by CHANNEL"), and
 * recomputes the message's state; sets each d[i].id and message_id.
 * PG_ERR_NOTFOUND for an unknown message, PG_ERR_INVAL for bad input,
 * PG_ERR_FULL, PG_ERR_IO, PG_ERR_STORE. */
pg_err pg_store_resend(struct pg_store *st, int64_t mid, struct pg_delivery *d,
		       size_t nd, const char *detail);

/* Operator cancel: stops the escalation (PG_ES_CANCELLED) and cancels
 * every queued, held or waiting (mailbox) delivery of message mid, with
 * an event "cancelled"
 * "by WHO: REASON".  Deliveries already sending finish.  *n_cancelled
 * says how many deliveries were cancelled.  PG_ERR_NOTFOUND. */
pg_err pg_store_cancel(struct pg_store *st, int64_t mid, const char *who,
		       const char *reason, size_t *n_cancelled);

/* Operator re-trigger: restarts the escalation of message mid from step
 * `from` (1-based, 1..esc_total): PG_ES_ACTIVE, esc_fired = from - 1,
 * due now; the acknowledgement, if any, is withdrawn (the ledger keeps
 * it) and an "escalation_restarted" event says by whom.  PG_ERR_INVAL when
 * the message has no escalation or from is out of range, PG_ERR_NOTFOUND.
 * Sets *next_ms to the due time for the caller's timer. */
pg_err pg_store_esc_restart(struct pg_store *st, int64_t mid, int from,
			    const char *who, int64_t *next_ms);

/* Calls cb(mid, esc_next_ms) for every active escalation; for start-up. */
/* Messages whose escalation is active (waiting for a next step). */
pg_err pg_store_count_escalating(struct pg_store *st, int64_t *n);
pg_err pg_store_esc_load(struct pg_store *st,
	void (*cb)(int64_t mid, int64_t next_ms, void *arg), void *arg);

/* How many messages are flagged unacknowledged (escalation exhausted). */
pg_err pg_store_count_unacked(struct pg_store *st, int64_t *n);

/* ---- the check-in mailbox ---- */

/* A waiting mailbox delivery and its message (with fields). */
struct pg_mailbox_item {
	struct pg_delivery d;
	struct pg_message msg;
};

/* Items one call returns at most; the rest stay for the next call. */
#define PG_MAILBOX_MAX 200

/* The check-in mailbox of client_id: its messages' deliveries in state
 * waiting (only contact_id's unless NULL), oldest first (created, then
 * id), at most PG_MAILBOX_MAX; *more tells whether others remain.  With
 * take, in the same durable transaction each becomes delivered with a
 * "delivered" event "retrieved from the mailbox by WHO" and its message's
 * state is recomputed (the items carry the new states); without take
 * nothing is written.  A message kept for two contacts comes once per
 * contact.  *out (an array of *n, NULL when 0) is freed with
 * pg_mailbox_free.  Errors: PG_ERR_INVAL (no client, take without who),
 * PG_ERR_FULL, PG_ERR_IO, PG_ERR_STORE; on error nothing was taken. */
pg_err pg_store_mailbox(struct pg_store *st, const char *client_id,
			const char *contact_id, bool take, const char *who,
			struct pg_mailbox_item **out, size_t *n, bool *more);
/* As pg_store_mailbox with take, but only delivery did is retrieved (if
 * it still waits in that mailbox among the first PG_MAILBOX_MAX): *n is
 * 1 when it was, 0 when it no longer waits. */
pg_err pg_store_mailbox_take_one(struct pg_store *st, const char *client_id,
				 const char *contact_id, int64_t did, const char *who,
				 struct pg_mailbox_item **out, size_t *n);
void pg_mailbox_free(struct pg_mailbox_item *v, size_t n);
/* How many deliveries wait in mailboxes, all clients (for /metrics). */
pg_err pg_store_mailbox_count(struct pg_store *st, size_t *n);

/* The server's secret for callback tokens and signed links: 32 random
 * bytes created on first use and kept in the store, so tokens stay valid
 * across restarts. */
pg_err pg_store_secret(struct pg_store *st, unsigned char out[32]);

void pg_message_free(struct pg_message *m);     /* frees members only */
void pg_delivery_free(struct pg_delivery *d);   /* frees members only */
void pg_message_full_free(struct pg_message_full *f);
void pg_message_list_free(struct pg_message *v, size_t n);

/* Calls fn(arg, mid, change) from the store's writer thread after each
 * commit, once for every message an operation of it touched; change is
 * the first ledger event the operation wrote about it ("received",
 * "attempt_started", "sent", "acknowledged" ...).  Nothing is called for
 * what was rolled back.  fn must be quick and must not call the store
 * (the writer waits for it).  Set it before the store is shared. */
void pg_store_observe(struct pg_store *st,
		      void (*fn)(void *arg, int64_t mid, const char *change), void *arg);

/* Named instants that must survive a restart (what a client's summary
 * covered so far: "summary:acme-hvac").  key: 1..128 bytes.
 * pg_store_mark_get: PG_ERR_NOTFOUND when never put.  Both: PG_ERR_INVAL,
 * the store's errors. */
pg_err pg_store_mark_get(struct pg_store *st, const char *key, int64_t *ms);
pg_err pg_store_mark_put(struct pg_store *st, const char *key, int64_t ms);

/* Counters for /metrics and the bench: commits and rows written; and
 * whether the store has room.  at_cap: it reached its cap, new messages
 * are refused.  no_room: the last write failed for room (reserve used
 * up, or the disk full) - the writes of accepted messages are refused too
 * and their callers retry them.  disk_full: the disk filled, the room
 * set aside on it was given back to the writes about accepted messages,
 * and new messages are refused until it can be set aside again.
 * refused: new messages refused for room;
 * full_writes: other writes refused for room. */
struct pg_store_stats {
	uint64_t commits;
	uint64_t writes;
	bool at_cap;
	bool no_room;
	bool disk_full;
	uint64_t refused;
	uint64_t full_writes;
};
void pg_store_stats(struct pg_store *st, struct pg_store_stats *out);

#endif
