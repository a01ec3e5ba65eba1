/*
 * store_sqlite_schema.c - the SQLite backend's schema: the forward
 * migrations and their application at open (store_sqlite_priv.h).
 *
 * Each migration is constant SQL plus, when rows must be filled in with
 * values SQL cannot make (random ack references), a step in C; both run in
 * the migration's own transaction.  Version N is migrations[N - 1].  Never
 * edit a released entry: append.
 */
#include <stdlib.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_sqlite_priv.h"

struct migration {
	const char *sql;
	pg_err (*fill)(struct pg_sb *c);     /* may be NULL */
};

static pg_err
rd_int(sqlite3_stmt *s, void *p)
{
	*(int64_t *)p = sqlite3_column_int64(s, 0);
	return PG_OK;
}

/* Version 2: gives every message stored before it an ack reference.  Each
 * message is visited once, by id: should the reference space be crowded,
 * a reference taken back from an old message is not given back to it. */
static pg_err
fill_ack_refs(struct pg_sb *c)
{
	sqlite3_stmt *s;
	struct pg_message m = { 0 };
	int64_t n = 0;
	pg_err e;

	for (;;) {
		if ((e = sqlite__prep(c, ST_NO_REF, &s, "i", m.id)))
			return e;
		if ((e = sqlite__row_one(c, s, rd_int, &m.id)) == PG_ERR_NOTFOUND)
			break;
		if (e || (e = store__new_ack_ref(&pg_store_sqlite, c, m.ack_ref)) ||
		    (e = pg_store_sqlite.update_message(c, &m, STORE_M_REF)))
			return e;
		n++;
	}
	if (n > 0)
		pg_info("store: %lld stored messages given an ack reference",
			(long long)n);
	return PG_OK;
}

static const struct migration migrations[] = {
	/* 1: the initial schema */
	{
		"CREATE TABLE messages ("
		"  id INTEGER PRIMARY KEY,"
		"  client_id TEXT NOT NULL,"
		"  kind TEXT NOT NULL,"
		"  urgency TEXT NOT NULL,"
		"  caller_name TEXT,"
		"  caller_phone TEXT,"
		"  caller_company TEXT,"
		"  text TEXT NOT NULL,"
		"  fields TEXT NOT NULL DEFAULT '{}',"     /* JSON object */
		"  operator TEXT NOT NULL,"
		"  idem_key TEXT,"
		"  received_ms INTEGER NOT NULL,"
		"  state TEXT NOT NULL);"
		"CREATE UNIQUE INDEX messages_idem ON messages(operator, idem_key)"
		"  WHERE idem_key IS NOT NULL;"
		"CREATE INDEX messages_received ON messages(received_ms);"
		"CREATE INDEX messages_client ON messages(client_id, received_ms);"
		"CREATE INDEX messages_state ON messages(state, received_ms);"
		"CREATE TABLE deliveries ("
		"  id INTEGER PRIMARY KEY,"
		"  message_id INTEGER NOT NULL REFERENCES messages(id),"
		"  contact_id TEXT NOT NULL,"
		"  contact_name TEXT,"
		"  channel TEXT NOT NULL,"
		"  address TEXT NOT NULL,"
		"  gateway TEXT,"
		"  state TEXT NOT NULL,"
		"  priority INTEGER NOT NULL,"
		"  attempts INTEGER NOT NULL DEFAULT 0,"
		"  created_ms INTEGER NOT NULL,"
		"  next_try_ms INTEGER NOT NULL,"
		"  expires_ms INTEGER NOT NULL,"
		"  updated_ms INTEGER NOT NULL,"
		"  last_reply TEXT);"
		"CREATE INDEX deliveries_message ON deliveries(message_id);"
		"CREATE INDEX deliveries_pending ON deliveries(state, next_try_ms);"
		"CREATE TABLE attempts ("
		"  id INTEGER PRIMARY KEY,"
		"  delivery_id INTEGER NOT NULL REFERENCES deliveries(id),"
		"  started_ms INTEGER NOT NULL,"
		"  finished_ms INTEGER NOT NULL DEFAULT 0,"
		"  outcome TEXT,"                          /* NULL while running */
		"  reply TEXT);"
		"CREATE INDEX attempts_delivery ON attempts(delivery_id);"
		"CREATE TABLE events ("
		"  id INTEGER PRIMARY KEY,"
		"  message_id INTEGER NOT NULL REFERENCES messages(id),"
		"  delivery_id INTEGER REFERENCES deliveries(id),"  /* NULL: message */
		"  at_ms INTEGER NOT NULL,"
		"  type TEXT NOT NULL,"
		"  detail TEXT);"
		"CREATE INDEX events_message ON events(message_id);",
	  NULL },
	/* 2: acknowledgements (messages.ack_ref, acked_ms, acked_by), the
	 * settings table (the callback secret) and the index behind
	 * find_recent (attempts by start time).  SQLite cannot add a UNIQUE
	 * column: the uniqueness is a unique index (NULLs allowed while the
	 * fill step runs). */
	{
		"ALTER TABLE messages ADD COLUMN ack_ref TEXT;"
		"ALTER TABLE messages ADD COLUMN acked_ms INTEGER;"   /* NULL: no */
		"ALTER TABLE messages ADD COLUMN acked_by TEXT;"
		"CREATE UNIQUE INDEX messages_ack_ref ON messages(ack_ref);"
		"CREATE INDEX attempts_started ON attempts(started_ms);"
		"CREATE TABLE settings ("
		"  key TEXT PRIMARY KEY,"
		"  value BLOB NOT NULL);",
	  fill_ack_refs },
	/* 3: escalation.  A message's policy and progress (steps fired of
	 * total, next due time, state) and, per delivery, the step that
	 * made it.  The partial index serves start-up (active ones) and the
	 * "unacknowledged" filter (exhausted ones) without touching the
	 * many messages that never escalate. */
	{
		"ALTER TABLE messages ADD COLUMN esc_policy TEXT;"
		"ALTER TABLE messages ADD COLUMN esc_fired INTEGER;"
		"ALTER TABLE messages ADD COLUMN esc_total INTEGER;"
		"ALTER TABLE messages ADD COLUMN esc_next_ms INTEGER;"
		"ALTER TABLE messages ADD COLUMN esc_state TEXT;"
		"CREATE INDEX messages_esc ON messages(esc_state, received_ms)"
		"  WHERE esc_state IS NOT NULL;"
		"ALTER TABLE deliveries ADD COLUMN esc_step INTEGER;",
	  NULL },
	/* 4: the request an Idempotency-Key was first used for (hex SHA-256
	 * of its canonical JSON), so that the key reused for a different
	 * request is refused instead of answered with the first message.
	 * Rows stored before have none (NULL) and match any request. */
	{
		"ALTER TABLE messages ADD COLUMN idem_hash TEXT;",
	  NULL },
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
_Static_assert(N_MIGRATIONS == STORE_SCHEMA_VERSION,
	       "one migration per version of the store's schema");

pg_err
sqlite__version(struct pg_sb *c, int *version)
{
	sqlite3_stmt *s;
	int64_t v = 0;
	pg_err e = sqlite__prep(c, ST_VERSION, &s, "");

	if (!e && !(e = sqlite__row_one(c, s, rd_int, &v)))
		*version = (int)v;
	return e;
}

/* Applies the migrations the file lacks, each in its own transaction; safe
 * against a second process doing the same at the same time. */
pg_err
sqlite__migrate(struct pg_sb *c)
{
	sqlite3_stmt *s;
	int v;
	pg_err e;

	for (;;) {
		if ((e = sqlite__exec(c, "BEGIN IMMEDIATE")))
			return e;
		e = sqlite__exec(c, "CREATE TABLE IF NOT EXISTS schema_version ("
			   " version INTEGER PRIMARY KEY,"
			   " applied_ms INTEGER NOT NULL)");
		if (!e)
			e = sqlite__version(c, &v);
		if (!e && v > N_MIGRATIONS) {
			pg_error("store: database schema version %d is newer "
				 "than this pagegate's (%d)", v, N_MIGRATIONS);
			e = PG_ERR_STORE;
		}
		if (!e && v == N_MIGRATIONS)
			return sqlite__exec(c, "COMMIT");
		if (!e)
			e = sqlite__exec(c, migrations[v].sql);
		if (!e && migrations[v].fill)
			e = migrations[v].fill(c);
		if (!e && !(e = sqlite__prep(c, ST_SET_VERSION, &s, "ii",
					(int64_t)v + 1, pg_now_ms())))
			e = sqlite__write(c, s, "record schema version", false, NULL);
		if (!e)
			e = sqlite__exec(c, "COMMIT");
		if (e) {
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			return e;
		}
		pg_info("store: schema migrated to version %d", v + 1);
	}
}
