/*
 * store_sqlite_priv.h - shared by store_sqlite.c (connection,
 * transactions, statements, writes, the backend table),
 * store_sqlite_schema.c (migrations), store_sqlite_read.c (rows read
 * back) and store_sqlite_spare.c (room set aside on the disk).  Not a
 * public contract: only those four files include it.
 */
#ifndef PAGEGATE_STORE_SQLITE_PRIV_H
#define PAGEGATE_STORE_SQLITE_PRIV_H

#include <sqlite3.h>

#include "../store_backend.h"

/* Every statement the backend runs; their text is in store_sqlite.c. */
enum st {
	ST_BEGIN_W, ST_BEGIN_R, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT,
	ST_RELEASE, ST_ROLLBACK_TO, ST_VERSION, ST_SET_VERSION, ST_USED,
	ST_INS_MSG, ST_UPD_MSG_STATE, ST_UPD_MSG_ACK, ST_UPD_MSG_ESC,
	ST_UPD_MSG_REF, ST_GET_MSG, ST_MSG_DELS, ST_MSG_ATTS, ST_MSG_EVTS,
	ST_FIND_REF, ST_FIND_IDEM, ST_NO_REF,
	ST_LIST_ALL, ST_LIST_CLIENT, ST_LIST_STATE, ST_LIST_BOTH,
	ST_LIST_UNACK, ST_LIST_UNACK_CLIENT, ST_LIST_SEARCH, ST_EACH_ESC, ST_COUNT_ESC,
	ST_INS_DEL, ST_UPD_DEL, ST_GET_DEL, ST_EACH_DEL, ST_MAILBOX,
	ST_MAILBOX_CONTACT, ST_RECENT, ST_COUNT_DSTATES, ST_COUNT_DEL,
	ST_INS_ATT, ST_FIN_ATT, ST_FIN_ATTS, ST_INS_EVT, ST_GET_SETTING,
	ST_PUT_SETTING,
	ST__COUNT
};

/* One connection: used by one thread at a time. */
struct pg_sb {
	sqlite3 *db;
	bool readonly;
	char *spare_path;                /* the writer's PATH-spare, else NULL */
	sqlite3_stmt *stmt[ST__COUNT];   /* prepared on first use */
};

/* The spare slot (store_sqlite_spare.c; contract in store_backend.h). */
pg_err sqlite__spare(struct pg_sb *c, int64_t bytes);

/* Prepares statement id (once per connection) and binds one parameter per
 * character of types: 'i' an int64_t, 'n' an int64_t where 0 binds NULL,
 * 't' a const char * (NULL binds NULL; it must live until the statement
 * is stepped), 'b' a const void * then a size_t (a blob, same lifetime).
 * The variable arguments must have exactly those types. */
pg_err sqlite__prep(struct pg_sb *c, enum st id, sqlite3_stmt **out,
		    const char *types, ...);
/* Steps a prepared write to its end.  With one, a statement that changed
 * no row gives PG_ERR_NOTFOUND; with rowid, *rowid is the new row's id. */
pg_err sqlite__write(struct pg_sb *c, sqlite3_stmt *s, const char *what,
		     bool one, int64_t *rowid);
/* Runs constant SQL text (schema, pragmas) that binds nothing. */
pg_err sqlite__exec(struct pg_sb *c, const char *text);
/* Steps s to its end calling fn(s, arg) on each row, stopping at fn's
 * first error; resets s. */
pg_err sqlite__rows_each(struct pg_sb *c, sqlite3_stmt *s,
			 pg_err (*fn)(sqlite3_stmt *, void *), void *arg);
/* Steps s once: the row read with fn into out, or PG_ERR_NOTFOUND. */
pg_err sqlite__row_one(struct pg_sb *c, sqlite3_stmt *s,
		       pg_err (*fn)(sqlite3_stmt *, void *), void *out);

/* The schema (store_sqlite_schema.c): the version the file is at, and
 * every forward migration it lacks applied (writer connection). */
pg_err sqlite__version(struct pg_sb *c, int *version);
pg_err sqlite__migrate(struct pg_sb *c);

/* The read slots of pg_store_sqlite (store_sqlite_read.c); contracts in
 * store_backend.h. */
pg_err sqlite__get_message(struct pg_sb *c, int64_t id, unsigned parts,
			   struct pg_message_full *out);
pg_err sqlite__find_message(struct pg_sb *c, const char *ack_ref,
			    const char *operator_name, const char *idem_key,
			    struct pg_message *out);
pg_err sqlite__list_messages(struct pg_sb *c, const struct pg_list_filter *f,
			     struct pg_message **v, size_t *n);
pg_err sqlite__each_escalation(struct pg_sb *c, enum pg_esc_state s,
	void (*cb)(int64_t mid, int64_t next_ms, void *arg), void *arg);
pg_err sqlite__count_escalations(struct pg_sb *c, enum pg_esc_state s,
				 size_t *n);
pg_err sqlite__get_delivery(struct pg_sb *c, int64_t id,
			    struct pg_delivery *out);
pg_err sqlite__each_delivery(struct pg_sb *c, unsigned states, int64_t after,
	bool (*cb)(const struct pg_delivery *d, void *arg), void *arg);
pg_err sqlite__mailbox_deliveries(struct pg_sb *c, const char *client_id,
				  const char *contact_id, size_t max,
				  struct pg_delivery **v, size_t *n);
pg_err sqlite__recent_deliveries(struct pg_sb *c, enum pg_channel_kind ch,
	int64_t since_ms, size_t max, bool include_acked,
	bool (*cb)(int64_t did, int64_t mid, const char *address, void *arg),
	void *arg);
pg_err sqlite__count_dstates(struct pg_sb *c, int64_t mid,
			     size_t counts[PG_D__COUNT]);
pg_err sqlite__count_deliveries(struct pg_sb *c, enum pg_dstate s, size_t *n);
pg_err sqlite__get_setting(struct pg_sb *c, const char *key, void *buf,
			   size_t size, size_t *len);

#endif
