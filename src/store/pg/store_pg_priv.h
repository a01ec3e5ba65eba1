/*
 * store_pg_priv.h - shared by the PostgreSQL backend's files: store_pg.c
 * (statement texts, writes, the backend table), store_pg_conn.c
 * (sessions, transactions, running statements in a pipeline),
 * store_pg_schema.c (the schema and its migrations), store_pg_read.c
 * (rows read back), store_pg_claim.c (several nodes: claims, leases) and
 * store_pg_notify.c (LISTEN/NOTIFY, reachability).
 * Not a public contract: only those files include it.
 */
#ifndef PAGEGATE_STORE_PG_PRIV_H
#define PAGEGATE_STORE_PG_PRIV_H

#include <libpq-fe.h>

#include "../store_backend.h"

/* Every statement the backend prepares; their text is in store_pg.c. */
enum pq_st {
	PQ_VERSION, PQ_SET_VERSION, PQ_SIZE,
	PQ_INS_MSG, PQ_UPD_MSG_STATE, PQ_UPD_MSG_ACK, PQ_UPD_MSG_ESC,
	PQ_UPD_MSG_REF, PQ_GET_MSG, PQ_MSG_DELS, PQ_MSG_ATTS, PQ_MSG_EVTS,
	PQ_FIND_REF, PQ_FIND_IDEM,
	PQ_LIST_ALL, PQ_LIST_CLIENT, PQ_LIST_STATE, PQ_LIST_BOTH,
	PQ_LIST_UNACK, PQ_LIST_UNACK_CLIENT, PQ_LIST_SEARCH, PQ_EACH_ESC,
	PQ_COUNT_ESC,
	PQ_INS_DEL, PQ_UPD_DEL, PQ_GET_DEL, PQ_EACH_DEL, PQ_MAILBOX,
	PQ_MAILBOX_CONTACT, PQ_RECENT, PQ_COUNT_DSTATES, PQ_COUNT_DEL,
	PQ_INS_ATT, PQ_FIN_ATT, PQ_FIN_ATTS, PQ_INS_EVT, PQ_GET_SETTING,
	PQ_PUT_SETTING, PQ_NOTIFY, PQ_ESC_DUE, PQ_LOCK_MSG, PQ_XID, PQ_XID_STATUS, PQ_CLOCK,
	PQ__COUNT
};

/* Their text, by id (store_pg.c). */
extern const char *const pgsql__sql[PQ__COUNT];

/* One connection: used by one thread at a time. */
struct pg_sb {
	PGconn *db;
	char *conninfo;              /* for a reconnect */
	bool readonly;
	int64_t max_mb;              /* > 0: the schema's size cap */
	int lock_key;                /* the schema's writer lock (hashtext) */
	bool exclusive;              /* holds the store's one-writer lock */
	bool coordinator;            /* holds the store's coordinator lock */
	bool listening;              /* LISTEN sent on this session */
	bool prepared[PQ__COUNT];    /* on this session */
	/* Transaction control not sent yet: it goes out in one pipeline
	 * with the next statement (store_pg.c). */
	char pending[16];
	/* The writer's open transaction id (0: none assigned yet), learned
	 * before its COMMIT is sent; doubt: that COMMIT went out but its
	 * answer was lost with the connection (pgsql__outcome). */
	int64_t xid;
	bool doubt;
};

/* The backend's slots that speak to the session (store_pg_conn.c). */
pg_err pgsql__open(const char *target, bool readonly, int64_t max_mb,
		   struct pg_sb **out);
void pgsql__close(struct pg_sb *c);
pg_err pgsql__begin(struct pg_sb *c);
pg_err pgsql__commit(struct pg_sb *c);
pg_err pgsql__rollback(struct pg_sb *c);
pg_err pgsql__clock(struct pg_sb *c, int64_t *ms);
pg_err pgsql__outcome(struct pg_sb *c);
pg_err pgsql__savepoint(struct pg_sb *c);
pg_err pgsql__release(struct pg_sb *c);
pg_err pgsql__rollback_savepoint(struct pg_sb *c);
pg_err pgsql__exclusive(struct pg_sb *c);
/* Sends the pending transaction control now (before a statement run
 * without pgsql__run). */
pg_err pgsql__flush(struct pg_sb *c);

/* Several nodes (store_pg_claim.c); contracts in store_backend.h. */
pg_err pgsql__claim(struct pg_sb *c, const char *node, unsigned channels,
		    int64_t lease_ms, size_t max, struct pg_claim *out,
		    size_t *n);
pg_err pgsql__renew(struct pg_sb *c, const char *node, const int64_t *tokens,
		    size_t n, int64_t lease_ms, size_t *kept);
pg_err pgsql__claim_check(struct pg_sb *c, int64_t did, int64_t token,
			  bool release, bool *holds);
pg_err pgsql__next_due(struct pg_sb *c, unsigned channels, int64_t *ms);
pg_err pgsql__coordinator(struct pg_sb *c, bool *held);
pg_err pgsql__esc_due(struct pg_sb *c, size_t max, int64_t *mids, size_t *n,
		      int64_t *now_ms);
pg_err pgsql__lock_message(struct pg_sb *c, int64_t mid);
/* LISTEN/NOTIFY and reachability (store_pg_notify.c). */
pg_err pgsql__notify(struct pg_sb *c, const char *channel, const char *payload);
pg_err pgsql__listen(struct pg_sb *c, const char *const *channels,
		     int64_t wait_ms, void (*cb)(void *arg, const char *channel,
		     const char *payload), void *arg);
pg_err pgsql__ping(struct pg_sb *c);
/* Re-establishes a session the server dropped (store_pg_conn.c). */
pg_err pgsql__reconnect(struct pg_sb *c);

/* Runs prepared statement id with one parameter per character of types:
 * 'i' an int64_t, 'n' an int64_t where 0 binds NULL, 't' a const char *
 * (NULL binds NULL), 'b' a const void * then a size_t (bytea).  The
 * variable arguments must have exactly those types.  On PG_OK *res holds
 * the result (PQclear it); else it is NULL and the error is mapped from
 * the SQLSTATE (unique: PG_ERR_EXISTS, foreign key: PG_ERR_NOTFOUND, bad
 * encoding: PG_ERR_INVAL, read-only: PG_ERR_STORE, disk full: PG_ERR_FULL,
 * connection lost: PG_ERR_IO). */
pg_err pgsql__run(struct pg_sb *c, enum pq_st id, PGresult **res,
		  const char *types, ...);
/* A write through pgsql__run.  With one, a statement that changed no row
 * gives PG_ERR_NOTFOUND; with rowid, *rowid is the value of the first
 * column of the first row returned (INSERT ... RETURNING id); with n,
 * *n the rows changed.  Past the size cap: PG_ERR_FULL. */
pg_err pgsql__write(struct pg_sb *c, enum pq_st id, bool one, int64_t *rowid,
		    size_t *n, const char *types, ...);
/* Runs constant SQL text (schema, transaction control) that binds
 * nothing; several statements may be separated by ';'. */
pg_err pgsql__exec(struct pg_sb *c, const char *text);
/* Maps a failed result to pg_err, logging what failed. */
pg_err pgsql__fail(struct pg_sb *c, const PGresult *r, const char *what);

/* Column j of row i as an integer (NULL reads as 0), as an allocated
 * string (NULL for NULL; *err set on no memory). */
int64_t pgsql__int(const PGresult *r, int i, int j);
/* Runs statement id (no parameters): its first row's first value into *v
 * (0 when it has no row or that value is NULL). */
pg_err pgsql__scalar(struct pg_sb *c, enum pq_st id, int64_t *v);
char *pgsql__str(const PGresult *r, int i, int j, pg_err *err);

/* The schema (store_pg_schema.c): the version the store is at, and the
 * store created or brought to STORE_SCHEMA_VERSION (writer connection),
 * once whatever other writers open it at the same time. */
pg_err pgsql__version(struct pg_sb *c, int *version);
pg_err pgsql__used(struct pg_sb *c, int64_t *bytes);
pg_err pgsql__spare(struct pg_sb *c, int64_t bytes);
pg_err pgsql__migrate(struct pg_sb *c);

/* The read slots (store_pg_read.c); contracts in store_backend.h. */
pg_err pgsql__get_message(struct pg_sb *c, int64_t id, unsigned parts,
			  struct pg_message_full *out);
pg_err pgsql__find_message(struct pg_sb *c, const char *ack_ref,
			   const char *operator_name, const char *idem_key,
			   struct pg_message *out);
pg_err pgsql__list_messages(struct pg_sb *c, const struct pg_list_filter *f,
			    struct pg_message **v, size_t *n);
pg_err pgsql__each_escalation(struct pg_sb *c, enum pg_esc_state s,
	void (*cb)(int64_t mid, int64_t next_ms, void *arg), void *arg);
pg_err pgsql__count_escalations(struct pg_sb *c, enum pg_esc_state s,
				size_t *n);
pg_err pgsql__get_delivery(struct pg_sb *c, int64_t id,
			   struct pg_delivery *out);
pg_err pgsql__each_delivery(struct pg_sb *c, unsigned states, int64_t after,
	bool (*cb)(const struct pg_delivery *d, void *arg), void *arg);
pg_err pgsql__mailbox_deliveries(struct pg_sb *c, const char *client_id,
				 const char *contact_id, size_t max,
				 struct pg_delivery **v, size_t *n);
pg_err pgsql__recent_deliveries(struct pg_sb *c, enum pg_channel_kind ch,
	int64_t since_ms, size_t max, bool include_acked,
	bool (*cb)(int64_t did, int64_t mid, const char *address, void *arg),
	void *arg);
pg_err pgsql__count_dstates(struct pg_sb *c, int64_t mid,
			    size_t counts[PG_D__COUNT]);
pg_err pgsql__count_deliveries(struct pg_sb *c, enum pg_dstate s, size_t *n);
pg_err pgsql__get_setting(struct pg_sb *c, const char *key, void *buf,
			  size_t size, size_t *len);

#endif
