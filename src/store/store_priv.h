/*
 * store_priv.h - the store front end's own header, shared by its files:
 * store.c (open, close, the writer thread and group commit, the public
 * writes), store_room.c (the cap, its reserve, a full disk),
 * store_read.c (the reader pool and the public reads), store_setting.c
 * (the server secret, named instants), store_ledger.c (what each write
 * does to the rows and the ledger), store_recover.c (attempts cut short
 * by a crash), store_escalation.c (the escalation writes),
 * store_mailbox.c (the check-in mailbox), store_node.c (several nodes:
 * claims, leases) and store_notify.c (what nodes tell each other;
 * reachability).  Only those files include it; backends see
 * store_backend.h alone.
 */
#ifndef PAGEGATE_STORE_PRIV_H
#define PAGEGATE_STORE_PRIV_H

#include <pthread.h>

#include "pagegate/store.h"
#include "store_backend.h"
#include "pagegate/util.h"

/* Read connections.  A fixed pool rather than one connection per call:
 * opening one re-reads the schema and re-prepares every statement (tens of
 * microseconds to milliseconds per HTTP GET) and costs file descriptors;
 * a pool keeps prepared statements warm and bounds descriptors and memory.
 * WAL lets all of them read beside the writer.  Reads are short, so four
 * are plenty; a caller finding them all busy waits for one. */
#define STORE_READERS 4

struct store_op;

/* An open store: one writer connection used by the writer thread alone,
 * and the pool of readers (store_read.c). */
/* The messages a batch's operations touched, with the first ledger event
 * each wrote about it, for the observer once the batch is committed
 * (writer thread only). */
struct store_touch {
	int64_t mid;
	char change[24];
};
struct store_seen {
	struct store_touch *v;
	size_t n, cap;
};

struct pg_store {
	const struct pg_store_backend *be;
	struct pg_sb *w;             /* used by the writer thread only */
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;          /* guards everything below */
	pthread_cond_t work;         /* the writer waits for operations */
	struct store_op *head, *tail;
	bool stopping;
	struct pg_store_stats stats; /* with the room state below */
	/* The size cap (store.h's pg_store_open): new messages are refused
	 * from cap bytes on (0: no cap); the backend refuses every write
	 * past limit bytes, cap plus the reserve.  Set at open. */
	int64_t cap, limit;
	/* The room state (store_room.c), writer thread, under mu: when a
	 * write last failed for room (pg_mono_ms) and whether that spell was
	 * logged (once at its start, once at its end); the room set aside on
	 * the disk (spare bytes, 0: none) and whether the backend holds it,
	 * and when it was last tried again after a full disk. */
	int64_t full_at;
	bool full_logged;
	int64_t spare, spare_try_at;
	bool spare_held;
	/* pg_store_observe's callback (set before the store is shared) and
	 * what the writer's current batch touched */
	void (*observer)(void *arg, int64_t mid, const char *change);
	void *observer_arg;
	struct store_seen seen;
	/* A batch whose COMMIT lost its answer (store.c's settle_doubt),
	 * writer thread only: its callers wait until the database says. */
	struct store_op *doubt;
	uint64_t doubt_writes;
	int64_t doubt_since;         /* pg_mono_ms */

	pthread_mutex_t rmu;         /* guards the reader pool */
	pthread_cond_t rfree;
	struct pg_sb *readers[STORE_READERS];
	struct pg_sb *idle[STORE_READERS];
	size_t n_idle;

	/* several nodes (store_node.c): this node's name (NULL: the store's
	 * only process) and the connection its claims use */
	char *node;
	struct pg_sb *cw;
	pthread_mutex_t cmu;
	unsigned channels;           /* STORE_DCH bits it sends (0: all) */

	/* store_notify.c: the target the backend opened (for more sessions),
	 * the listener's session and thread (stopped under mu by lstop), what
	 * it wakes on a work notice, and the reachability check's session
	 * (under hmu) with its last answer (under mu). */
	char *target;
	struct pg_sb *lc;
	pthread_t lthread;
	bool lrunning, lstop;
	void (*waker)(void *arg);
	void *waker_arg;
	pthread_mutex_t hmu;
	struct pg_sb *hc;
	bool health_ok;
	int64_t health_at;
};

/* The writes a caller can queue; OP_RECOVER is pg_store_load_pending's
 * crash recovery, OP_SECRET pg_store_secret's first use, OP_MAILBOX
 * pg_store_mailbox's take (store_mailbox.c). */
enum op_kind {
	OP_SUBMIT, OP_ATTEMPT_START, OP_ATTEMPT_FINISH, OP_SET_STATE,
	OP_EVENT, OP_RECOVER, OP_ACK, OP_REPLY, OP_RECEIPT, OP_SECRET,
	OP_ESC_ADVANCE, OP_CANCEL, OP_ESC_RESTART, OP_MAILBOX, OP_RESEND, OP_MARK,
	OP_ESC_FIRE
};

/* pg_store_mailbox's arguments and what it found (store_mailbox.c). */
struct store_mailbox {
	const char *client, *contact, *who;
	bool take;
	int64_t only;                /* take only this delivery (0: all) */
	struct pg_mailbox_item *v;   /* *n items, allocated */
	size_t n;
	bool more;
};

/* One write waiting for the writer; lives on the caller's stack. */
struct store_op {
	enum op_kind kind;
	struct store_op *next;
	bool done;                   /* set by the writer, under st->mu */
	pthread_cond_t *wake;        /* its caller's own, signalled then */
	pg_err err;
	uint64_t writes;             /* rows written by this operation */
	struct store_seen *seen;     /* where its ledger events note the
					messages touched (NULL: nowhere) */
	size_t seen_from;            /* its first entry in *seen */
	bool db_clock;               /* several nodes: due times written
					"now" go on the database's clock */
	union {
		struct {
			struct pg_message *m;
			struct pg_delivery *d;
			size_t nd;
			const char *route;
			bool existing;
			bool conflict;   /* existing, for another request */
			int64_t cap;     /* st->cap */
			bool no_disk;    /* the disk is full: refuse */
			int room;        /* set by op_submit: 1 below the cap,
					    -1 at it, -2 refused for the disk,
					    0 not checked */
		} submit;
		struct { int64_t did, at, aid, token; const char *node; } start;   /* token: a
					node's claim (0: the only process) */
		struct {
			int64_t did, aid, at, next, token;
			bool refused;        /* the claim was lost: not recorded */
			enum pg_outcome outcome;
			const char *reply;
			enum pg_dstate state;
		} finish;
		struct {
			int64_t did, next;
			enum pg_dstate state;
			const char *type, *detail;
		} set;
		struct { int64_t mid, did; const char *type, *detail; } event;
		struct {
			int64_t mid, did;
			const char *channel, *who;
			bool already;
		} ack;
		struct {
			int64_t mid, did;
			const char *channel, *from, *text;
		} reply;
		struct {
			int64_t did;
			enum pg_dstate state;
			const char *detail;
		} receipt;
		struct { unsigned char *out; } secret;   /* 32 bytes */
		struct {
			int64_t mid, next;
			int fired;
			struct pg_delivery *d;
			size_t nd;
			const char *detail;
			bool exhaust, applied;
		} esc;
		struct {             /* pg_store_esc_fire_due's */
			pg_esc_build build;
			void *arg;
			struct pg_esc_fired *out;
			size_t max, n;
		} fire;
		struct {
			int64_t mid;
			const char *who, *reason;
			size_t n;
		} cancel;
		struct {
			int64_t mid, next;
			int from;
			const char *who;
		} restart;
		struct {
			int64_t mid;
			struct pg_delivery *d;
			size_t nd;
			const char *detail;
		} resend;
		struct { const char *key; int64_t ms; } mark;   /* pg_store_mark_put */
		struct store_mailbox *mailbox;
	} u;
};

/* The writer's backend and connection, inside the open transaction. */
struct wtx {
	const struct pg_store_backend *be;
	struct pg_sb *w;
};

/* Ledger helpers of store_ledger.c for the other op files: an event
 * (counted in op->writes), the message state recomputed, a delivery's
 * mutable columns written. */
/* How far the database's clock runs ahead of this process's node_now
 * when op->db_clock (several nodes compare every due time with the
 * database's clock); 0 otherwise. */
/* Deliveries left "sending" back to queued (store_recover.c). */
pg_err store__op_recover(const struct wtx *tx, struct store_op *op,
			 struct pg_buf *b);
/* "2026-11-22T15:40:00Z", with milliseconds only when there are some. */
const char *store__when(int64_t ms, char buf[PG_ISO_LEN]);
/* The settings' writes (store_setting.c): the server secret, created
 * when missing; a named instant. */
pg_err store__op_secret(const struct wtx *tx, struct store_op *op);
pg_err store__op_mark(const struct wtx *tx, struct store_op *op);
pg_err store__skew(const struct wtx *tx, const struct store_op *op,
		   int64_t node_now, int64_t *off);
pg_err store__w_event(const struct wtx *tx, struct store_op *op, int64_t mid,
		      int64_t did, int64_t at, const char *type,
		      const char *detail);
pg_err store__w_restate(const struct wtx *tx, struct store_op *op, int64_t mid);
/* Inserts new deliveries d of message mid (their created/updated times
 * default to at); sets each id. */
pg_err store__w_insert_deliveries(const struct wtx *tx, struct store_op *op,
				  int64_t mid, struct pg_delivery *d, size_t nd,
				  int64_t at);
pg_err store__w_update(const struct wtx *tx, struct store_op *op,
		       const struct pg_delivery *d);
/* Writes the column groups cols (STORE_M_*) of message m, counted in
 * op->writes. */
pg_err store__w_message(const struct wtx *tx, struct store_op *op,
			const struct pg_message *m, unsigned cols);
/* Message id alone (with its fields) through be's get_message. */
pg_err store__get_msg(const struct pg_store_backend *be, struct pg_sb *c,
		      int64_t id, struct pg_message *out);

/* The escalation writes (store_escalation.c).  store__esc_stop cancels
 * the queued/held deliveries of message mid that an escalation step made
 * (all of them with every_delivery), each with a "cancelled" event
 * carrying why, and counts them in *n; it is part of op_ack. */
/* pg_store_esc_fire_due's operation (store_escalation.c). */
pg_err store__op_esc_fire(const struct wtx *tx, struct store_op *op,
			  struct pg_buf *b);
pg_err store__op_esc_advance(const struct wtx *tx, struct store_op *op,
			     struct pg_buf *b);
pg_err store__op_cancel(const struct wtx *tx, struct store_op *op,
			struct pg_buf *b);
pg_err store__op_esc_restart(const struct wtx *tx, struct store_op *op,
			     struct pg_buf *b);
pg_err store__op_resend(const struct wtx *tx, struct store_op *op);
pg_err store__esc_stop(const struct wtx *tx, struct store_op *op, int64_t mid,
		       bool every_delivery, const char *why, size_t *n);

/* The setting that holds pg_store_secret's bytes. */
#define SECRET_KEY "secret"
#define SECRET_LEN 32

/* Runs op inside the write transaction open on the writer connection w:
 * checks, rows, ledger events, message state.  b is scratch space for
 * ledger texts (left reset).  Counts the rows written in op->writes.
 * Returns op's own result; the caller rolls back its savepoint on error. */
pg_err store__apply(const struct pg_store_backend *be, struct pg_sb *w,
		    struct store_op *op, struct pg_buf *b);
/* Forgets the ids op handed out in a transaction that did not survive, so
 * that a caller never sees an id that is not stored. */
void store__unwind(struct store_op *op);

/* Recomputes and stores the state of message mid (store.h's derivation),
 * counting the write in op; sets *state unless NULL. */
pg_err store__restate(const struct pg_store_backend *be, struct pg_sb *w,
		      struct store_op *op, int64_t mid, enum pg_mstate *state);

/* The store's room (store_room.c), all under st->mu in the writer
 * thread.  store__room_open: the state at open (the cap already reached?
 * room set aside on the disk); store__room_note: after each batch, counts
 * the writes refused for room, moves the state and logs each change once
 * (the disk full: gives back the room set aside); store__room_idle: the
 * changes due while no write comes, and how long the writer may wait
 * before the next (-1: for ever). */
#define STORE_MB 1048576LL
void store__room_open(struct pg_store *st, int64_t used);
void store__room_note(struct pg_store *st, struct store_op *batch);
int64_t store__room_idle(struct pg_store *st);

/* store.c's writer: queues op and waits until its transaction is over
 * (group commit).  Returns op's result, PG_ERR_SHUTDOWN when the store is
 * closing, or the transaction's error (PG_ERR_FULL, PG_ERR_IO ...). */
pg_err store__write(struct pg_store *st, struct store_op *op);
/* Queues ops[0..n) together (one group commit) and waits for all; each
 * one's result is in its err. */
void store__write_many(struct pg_store *st, struct store_op *ops, size_t n);

/* One read: the backend call it makes and its arguments.  Every read of
 * the store fills one and hands it to store__read, as every write fills a
 * store_op for store__write. */
enum rd_kind {
	RD_MESSAGE, RD_DELIVERY, RD_LIST, RD_FIND_REF, RD_RECENT, RD_SETTING,
	RD_EACH_DELIVERY, RD_EACH_ESCALATION, RD_COUNT_DELIVERIES,
	RD_COUNT_ESCALATIONS, RD_MAILBOX
};

struct store_mailbox;

struct store_rd {
	enum rd_kind kind;
	union {
		struct {        /* get_message */
			int64_t id;
			unsigned parts;
			struct pg_message_full *out;
		} message;
		struct { int64_t id; struct pg_delivery *out; } delivery;
		struct {        /* list_messages */
			const struct pg_list_filter *f;
			struct pg_message **v;
			size_t *n;
		} list;
		struct { const char *ref; struct pg_message *out; } find;
		struct {        /* recent_deliveries */
			enum pg_channel_kind ch;
			int64_t since;
			bool include_acked;
			bool (*cb)(int64_t did, int64_t mid, const char *address,
				   void *arg);
			void *arg;
		} recent;
		struct {        /* get_setting */
			const char *key;
			void *buf;
			size_t size, *len;
		} setting;
		struct {        /* each_delivery */
			unsigned states;
			bool (*cb)(const struct pg_delivery *d, void *arg);
			void *arg;
		} each_delivery;
		struct {        /* each_escalation */
			enum pg_esc_state state;
			void (*cb)(int64_t mid, int64_t next_ms, void *arg);
			void *arg;
		} each_escalation;
		struct { enum pg_dstate state; size_t *n; } count_deliveries;
		struct { enum pg_esc_state state; size_t *n; } count_escalations;
		struct store_mailbox *mailbox;   /* store__mailbox_collect */
	} u;
};

/* Runs rd inside a read snapshot of a pooled reader connection (waiting
 * for a free one).  Returns the backend call's result, else the error of
 * ending the snapshot. */
pg_err store__read(struct pg_store *st, const struct store_rd *rd);

/* Several nodes (store_node.c): with node, checks the backend can share
 * the store and opens the claims' connection; closes it. */
pg_err store__node_open(struct pg_store *st, const char *target,
			const char *node);
void store__node_close(struct pg_store *st);
/* store_notify.c: the notifications of the writer's batch, sent inside
 * its transaction just before COMMIT (nodes only); the listener stopped
 * and its sessions closed (at close). */
void store__notify_batch(struct pg_store *st, const struct store_op *batch);
void store__listen_stop(struct pg_store *st);
/* Inside OP_ATTEMPT_START / OP_ATTEMPT_FINISH with a node's claim token
 * (nothing without one): the claim must still hold delivery d.  At the
 * start PG_ERR_EXISTS when it does not, and a row still "sending" (a
 * node's whose lease ran out) has that attempt closed and is queued
 * again in *d.  At the finish the claim is released; when it no longer
 * holds, a "possible_duplicate" event is written, a line logged and
 * op->u.finish.refused set (the outcome is not to be recorded). */
pg_err store__claim_start(const struct wtx *tx, struct store_op *op,
			  struct pg_delivery *d);
pg_err store__claim_finish(const struct wtx *tx, struct store_op *op,
			   const struct pg_delivery *d);

/* Opens the pool's connections to target; closes them (NULL ones too). */
pg_err store__readers_open(struct pg_store *st, const char *target);
void store__readers_close(struct pg_store *st);

/* The mailbox (store_mailbox.c): the waiting deliveries with their
 * messages, read on connection c (RD_MAILBOX, and inside OP_MAILBOX's
 * write transaction); OP_MAILBOX itself. */
pg_err store__mailbox_collect(const struct pg_store_backend *be,
			      struct pg_sb *c, struct store_mailbox *mb);
pg_err store__mailbox_take(const struct pg_store_backend *be, struct pg_sb *w,
			   struct store_op *op, struct pg_buf *b);

#endif
