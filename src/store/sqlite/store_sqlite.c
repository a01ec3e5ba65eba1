/*
 * store_sqlite.c - the SQLite backend of the store (store_backend.h).
 *
 * One file per database in WAL mode with synchronous=FULL: a COMMIT has
 * reached the disk when it returns, and readers run beside the writer.
 * Enums are stored by their names (common.h's *_name, read back with
 * *_parse) so that `sqlite3 pagegate.db` is readable;
 * message fields are a JSON object (jansson) in insertion order.  Every
 * statement is a constant text, prepared once per connection and run with
 * bound parameters.  Reads are in store_sqlite_read.c, the schema and its
 * migrations in store_sqlite_schema.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pagegate/log.h"
#include "pagegate/translit.h"
#include "pagegate/util.h"
#include "store_sqlite_priv.h"

#define BUSY_TIMEOUT_MS 10000

#define MSG_COLS "id, client_id, kind, urgency, caller_name, caller_phone, " \
	"caller_company, text, operator, idem_key, received_ms, state, " \
	"ack_ref, acked_ms, acked_by, esc_policy, esc_fired, esc_total, " \
	"esc_next_ms, esc_state"
#define DEL_COLS "id, message_id, contact_id, contact_name, channel, " \
	"address, gateway, state, priority, attempts, created_ms, " \
	"next_try_ms, expires_ms, updated_ms, last_reply, esc_step"
#define KEY_COLS "id, received_ms, state, ack_ref"
#define LIST_TAIL " ORDER BY received_ms DESC, id DESC LIMIT ?2"

static const char *const sql[ST__COUNT] = {
	[ST_BEGIN_W] = "BEGIN IMMEDIATE",
	[ST_BEGIN_R] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT op",
	[ST_RELEASE] = "RELEASE op",
	[ST_ROLLBACK_TO] = "ROLLBACK TO op",
	[ST_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_version",
	[ST_SET_VERSION] = "INSERT INTO schema_version (version, applied_ms)"
		" VALUES (?1, ?2)",
	[ST_USED] = "SELECT (SELECT page_count FROM pragma_page_count())"
		" - (SELECT freelist_count FROM pragma_freelist_count()),"
		" (SELECT page_size FROM pragma_page_size())",

	/* ---- messages ---- */
	[ST_INS_MSG] = "INSERT INTO messages (client_id, kind, urgency,"
		" caller_name, caller_phone, caller_company, text, fields,"
		" operator, idem_key, received_ms, state, ack_ref, esc_policy,"
		" esc_fired, esc_total, esc_next_ms, esc_state, idem_hash)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14, ?15, ?16, ?17, ?18, ?19)",
	/* update_message: one statement per column group, so that a write
	 * touches only the indexes of the columns it changes. */
	[ST_UPD_MSG_STATE] = "UPDATE messages SET state = ?2 WHERE id = ?1",
	[ST_UPD_MSG_ACK] = "UPDATE messages SET acked_ms = ?2, acked_by = ?3"
		" WHERE id = ?1",
	[ST_UPD_MSG_ESC] = "UPDATE messages SET esc_fired = ?2, esc_next_ms = ?3,"
		" esc_state = ?4 WHERE id = ?1",
	[ST_UPD_MSG_REF] = "UPDATE messages SET ack_ref = ?2 WHERE id = ?1",
	[ST_GET_MSG] = "SELECT " MSG_COLS ", fields FROM messages WHERE id = ?1",
	[ST_MSG_DELS] = "SELECT " DEL_COLS " FROM deliveries"
		" WHERE message_id = ?1 ORDER BY id",
	[ST_MSG_ATTS] = "SELECT a.id, a.delivery_id, a.started_ms,"
		" a.finished_ms, a.outcome, a.reply FROM attempts a"
		" JOIN deliveries d ON d.id = a.delivery_id"
		" WHERE d.message_id = ?1 ORDER BY a.id",
	[ST_MSG_EVTS] = "SELECT id, message_id, delivery_id, at_ms, type,"
		" detail FROM events WHERE message_id = ?1 ORDER BY id",
	/* find_message, by one unique index or the other (and nothing a
	 * version-2 schema lacks: the migration to 2 calls it). */
	[ST_FIND_REF] = "SELECT " KEY_COLS " FROM messages WHERE ack_ref = ?1",
	[ST_FIND_IDEM] = "SELECT " KEY_COLS ", idem_hash FROM messages"
		" WHERE operator = ?1 AND idem_key = ?2",
	[ST_NO_REF] = "SELECT id FROM messages WHERE id > ?1"
		" AND ack_ref IS NULL ORDER BY id LIMIT 1",
	/* One constant statement per filter combination, so each can use
	 * its index (an "?3 IS NULL OR ..." form could not). */
	[ST_LIST_ALL] = "SELECT " MSG_COLS " FROM messages"
		" WHERE received_ms >= ?1" LIST_TAIL,
	[ST_LIST_CLIENT] = "SELECT " MSG_COLS " FROM messages"
		" WHERE client_id = ?3 AND received_ms >= ?1" LIST_TAIL,
	[ST_LIST_STATE] = "SELECT " MSG_COLS " FROM messages"
		" WHERE state = ?3 AND received_ms >= ?1" LIST_TAIL,
	[ST_LIST_BOTH] = "SELECT " MSG_COLS " FROM messages"
		" WHERE client_id = ?3 AND state = ?4 AND received_ms >= ?1"
		LIST_TAIL,
	[ST_LIST_UNACK] = "SELECT " MSG_COLS " FROM messages"
		" WHERE esc_state = ?3 AND received_ms >= ?1" LIST_TAIL,
	[ST_LIST_UNACK_CLIENT] = "SELECT " MSG_COLS " FROM messages"
		" WHERE client_id = ?3 AND esc_state = ?4"
		" AND received_ms >= ?1" LIST_TAIL,
	/* The board's search: every filter NULL-able (?3 client, ?4 until,
	 * ?5 id, ?6 folded name pattern, ?7 digits pattern, ?20 the ids,
	 * comma-separated, of the clients whose name matched), ?8 the view;
	 * the state names bound (?9 active, ?10 exhausted, ?11 the failed
	 * delivery state, ?12 dispatch, ?13 emergency, ?14 delivered, ?15
	 * cancelled, ?17 held, ?18 waiting, ?19 urgent), ?16 the start of
	 * "the last 24 hours".  In needs, an operator's cancel takes a
	 * message off (until an escalation restarts or a resend), and a
	 * resend answers the failures before it.  One statement for every
	 * combination: the board is an operator's screen, not a hot path. */
	[ST_LIST_SEARCH] = "SELECT " MSG_COLS " FROM messages m"
		" WHERE received_ms >= ?1"
		" AND (?3 IS NULL OR client_id = ?3)"
		" AND (?4 IS NULL OR received_ms < ?4)"
		" AND (?5 IS NULL OR id = ?5)"
		" AND (?6 IS NULL OR client_id LIKE ?6 ESCAPE '\\'"
		"  OR pg_fold(caller_name) LIKE ?6 ESCAPE '\\'"
		"  OR instr(',' || ?20 || ',', ',' || client_id || ',') > 0"
		"  OR (?7 IS NOT NULL AND"
		"  replace(replace(replace(replace(replace(replace(caller_phone,"
		"  ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''), '.', '')"
		"  LIKE ?7))"
		" AND (?8 = 0"
		"  OR (?8 = 1 AND acked_ms IS NULL"
		"   AND NOT EXISTS (SELECT 1 FROM events c WHERE c.message_id = m.id"
		"    AND c.type = 'cancelled' AND c.delivery_id IS NULL"
		"    AND NOT EXISTS (SELECT 1 FROM events r WHERE r.message_id = m.id"
		"    AND r.id > c.id AND r.type IN ('escalation_restarted', 'resent')))"
		"   AND (esc_state IN (?9, ?10)"
		"   OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id"
		"    AND d.state = ?11 AND NOT EXISTS (SELECT 1 FROM events r"
		"    WHERE r.message_id = m.id AND r.type = 'resent'"
		"    AND r.at_ms >= d.updated_ms))"
		"   OR ((kind = ?12 OR urgency = ?13)"
		"   AND received_ms >= ?16 AND state NOT IN (?14, ?15))))"
		"  OR (?8 = 2 AND esc_state = ?9)"
		"  OR (?8 = 3 AND state = ?17)"
		"  OR (?8 = 4 AND state = ?18)"
		"  OR (?8 = 5 AND EXISTS (SELECT 1 FROM deliveries d"
		"   WHERE d.message_id = m.id AND d.state = ?11)))"
		" ORDER BY CASE WHEN ?8 = 1 THEN CASE WHEN kind = ?12 OR urgency = ?13"
		"  THEN 0 WHEN urgency = ?19 THEN 1 ELSE 2 END END,"
		" CASE WHEN ?8 = 1 THEN received_ms END,"
		" received_ms DESC, id DESC LIMIT ?2",
	/* The partial index messages_esc serves these two. */
	[ST_EACH_ESC] = "SELECT id, esc_next_ms FROM messages"
		" WHERE esc_state = ?1 ORDER BY id",
	[ST_COUNT_ESC] = "SELECT count(*) FROM messages WHERE esc_state = ?1",

	/* ---- deliveries ---- */
	[ST_INS_DEL] = "INSERT INTO deliveries (message_id, contact_id,"
		" contact_name, channel, address, gateway, state, priority,"
		" attempts, created_ms, next_try_ms, expires_ms, updated_ms,"
		" last_reply, esc_step) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		" ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	[ST_UPD_DEL] = "UPDATE deliveries SET state = ?2, priority = ?3,"
		" attempts = ?4, next_try_ms = ?5, expires_ms = ?6,"
		" updated_ms = ?7, last_reply = ?8 WHERE id = ?1",
	[ST_GET_DEL] = "SELECT " DEL_COLS " FROM deliveries WHERE id = ?1",
	/* One parameter per delivery state (NULL for those not asked):
	 * deliveries_pending finds the rows of each state asked. */
	[ST_EACH_DEL] = "SELECT " DEL_COLS " FROM deliveries"
		" WHERE state IN (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) AND id > ?9"
		" ORDER BY id",
	/* The check-in mailbox: deliveries_pending finds the waiting rows,
	 * messages_client the client's messages. */
	[ST_MAILBOX] = "SELECT " DEL_COLS " FROM deliveries"
		" WHERE state = ?1 AND message_id IN"
		" (SELECT id FROM messages WHERE client_id = ?2)"
		" ORDER BY created_ms, id LIMIT ?3",
	[ST_MAILBOX_CONTACT] = "SELECT " DEL_COLS " FROM deliveries"
		" WHERE state = ?1 AND contact_id = ?4 AND message_id IN"
		" (SELECT id FROM messages WHERE client_id = ?2)"
		" ORDER BY created_ms, id LIMIT ?3",
	/* Walks attempts_started backwards from now over the window only;
	 * a delivery's and a message's row are found by their primary keys.
	 * CROSS JOIN fixes that order: left to itself the planner starts
	 * from deliveries_pending, i.e. from every delivery ever sent. */
	[ST_RECENT] = "SELECT d.id, d.message_id, d.address FROM attempts a"
		" CROSS JOIN deliveries d ON d.id = a.delivery_id"
		" CROSS JOIN messages m ON m.id = d.message_id"
		" WHERE a.started_ms >= ?1 AND d.channel = ?2"
		" AND d.state IN (?3, ?4, ?5) AND (?7 OR m.acked_ms IS NULL)"
		" ORDER BY a.started_ms DESC, a.id DESC LIMIT ?6",
	[ST_COUNT_DSTATES] = "SELECT state, count(*) FROM deliveries"
		" WHERE message_id = ?1 GROUP BY state",
	[ST_COUNT_DEL] = "SELECT count(*) FROM deliveries WHERE state = ?1",

	/* ---- attempts, events, settings ---- */
	[ST_INS_ATT] = "INSERT INTO attempts (delivery_id, started_ms)"
		" VALUES (?1, ?2)",
	[ST_FIN_ATT] = "UPDATE attempts SET finished_ms = ?3, outcome = ?4,"
		" reply = ?5 WHERE id = ?2 AND delivery_id = ?1"
		" AND outcome IS NULL",
	[ST_FIN_ATTS] = "UPDATE attempts SET finished_ms = ?2, outcome = ?3,"
		" reply = ?4 WHERE delivery_id = ?1 AND outcome IS NULL",
	[ST_INS_EVT] = "INSERT INTO events (message_id, delivery_id, at_ms,"
		" type, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_GET_SETTING] = "SELECT value FROM settings WHERE key = ?1",
	[ST_PUT_SETTING] = "INSERT OR REPLACE INTO settings (key, value)"
		" VALUES (?1, ?2)",
};

/* Maps an SQLite result code to pg_err and logs what failed. */
static pg_err
sb_fail(struct pg_sb *c, int rc, const char *what)
{
	pg_err e = PG_ERR_STORE;
	enum pg_log_level lvl = PG_LOG_WARN;

	switch (rc & 0xff) {
	case SQLITE_FULL:
		/* The front end logs a full store once, not each write. */
		e = PG_ERR_FULL;
		lvl = PG_LOG_DEBUG;
		break;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		e = PG_ERR_IO;
		break;
	case SQLITE_NOMEM:
		e = PG_ERR_NOMEM;
		break;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			e = PG_ERR_NOTFOUND;
		else if (rc == SQLITE_CONSTRAINT_UNIQUE ||
			 rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			e = PG_ERR_EXISTS;
		lvl = PG_LOG_DEBUG;
		break;
	default:
		break;
	}
	pg_log(lvl, "store: sqlite %s: %s (%d)", what,
	       c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc), rc);
	return e;
}

/* Gives the prepared statement id, preparing it on first use. */
static pg_err
st_get(struct pg_sb *c, enum st id, sqlite3_stmt **out)
{
	int rc;

	*out = NULL;
	if (c->stmt[id] == NULL) {
		rc = sqlite3_prepare_v3(c->db, sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL);
		if (rc != SQLITE_OK)
			return sb_fail(c, rc, sql[id]);
	}
	*out = c->stmt[id];
	return PG_OK;
}

/* Makes a statement ready for its next use (bound strings may go). */
static void
st_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Prepares statement id and binds one parameter per character of types:
 * 'i' an int64_t, 'n' an int64_t where 0 binds NULL, 't' a const char *
 * (NULL binds NULL; it must live until st_done), 'b' a const void * and
 * a size_t (a blob, same lifetime).  The variable arguments must have
 * exactly those types. */
pg_err
sqlite__prep(struct pg_sb *c, enum st id, sqlite3_stmt **out,
	     const char *types, ...)
{
	va_list ap;
	int rc = SQLITE_OK;
	const char *t;
	const void *p;
	size_t n;
	int64_t v;
	pg_err e = st_get(c, id, out);

	if (e)
		return e;
	va_start(ap, types);
	for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
		if (types[i] == 't') {
			t = va_arg(ap, const char *);
			rc = t ? sqlite3_bind_text(*out, i + 1, t, -1, SQLITE_STATIC)
			       : sqlite3_bind_null(*out, i + 1);
		} else if (types[i] == 'b') {
			p = va_arg(ap, const void *);
			n = va_arg(ap, size_t);
			rc = sqlite3_bind_blob64(*out, i + 1, p, (sqlite3_uint64)n,
						 SQLITE_STATIC);
		} else {
			v = va_arg(ap, int64_t);
			rc = types[i] == 'n' && v == 0
			    ? sqlite3_bind_null(*out, i + 1)
			    : sqlite3_bind_int64(*out, i + 1, v);
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		e = sb_fail(c, rc, sql[id]);
		st_done(*out);
	}
	return e;
}

/* Steps a prepared write to its end.  With one, a statement that changed
 * no row gives PG_ERR_NOTFOUND; with rowid, *rowid is the new row's id. */
pg_err
sqlite__write(struct pg_sb *c, sqlite3_stmt *s, const char *what, bool one,
	 int64_t *rowid)
{
	int rc = sqlite3_step(s);
	pg_err e = rc == SQLITE_DONE ? PG_OK : sb_fail(c, rc, what);

	st_done(s);
	if (!e && one && sqlite3_changes(c->db) != 1)
		e = PG_ERR_NOTFOUND;
	if (!e && rowid)
		*rowid = sqlite3_last_insert_rowid(c->db);
	return e;
}

/* Runs a parameterless constant statement (BEGIN, COMMIT...). */
static pg_err
sb_simple(struct pg_sb *c, enum st id)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, id, &s, "");

	return e ? e : sqlite__write(c, s, sql[id], false, NULL);
}

/* Steps s to its end calling fn(s, arg) on each row, stopping at fn's
 * first error; resets s. */
pg_err
sqlite__rows_each(struct pg_sb *c, sqlite3_stmt *s,
	  pg_err (*fn)(sqlite3_stmt *, void *), void *arg)
{
	pg_err e = PG_OK;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW && !(e = fn(s, arg)))
		;
	if (!e && rc != SQLITE_DONE)
		e = sb_fail(c, rc, "read rows");
	st_done(s);
	return e;
}

/* Steps s once: the row read with fn into out, or PG_ERR_NOTFOUND. */
pg_err
sqlite__row_one(struct pg_sb *c, sqlite3_stmt *s,
	pg_err (*fn)(sqlite3_stmt *, void *), void *out)
{
	int rc = sqlite3_step(s);
	pg_err e;

	if (rc == SQLITE_ROW)
		e = fn(s, out);
	else
		e = rc == SQLITE_DONE ? PG_ERR_NOTFOUND : sb_fail(c, rc, "read row");
	st_done(s);
	return e;
}

/* Runs constant SQL text (schema, pragmas) that binds nothing. */
pg_err
sqlite__exec(struct pg_sb *c, const char *text)
{
	int rc = sqlite3_exec(c->db, text, NULL, NULL, NULL);

	return rc == SQLITE_OK ? PG_OK : sb_fail(c, rc, "exec");
}

/* ---- open ---- */

/* Reads a one-value pragma into buf. */
static pg_err
sb_pragma(struct pg_sb *c, const char *text, char *buf, size_t size)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(c->db, text, -1, &s, NULL);
	pg_err e = PG_OK;

	if (rc != SQLITE_OK)
		return sb_fail(c, rc, text);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		pg_strlcpy(buf, (const char *)sqlite3_column_text(s, 0) ?
			   (const char *)sqlite3_column_text(s, 0) : "", size);
	else
		e = sb_fail(c, rc, text);
	sqlite3_finalize(s);
	return e;
}

/* Settings of the writer connection, then the cap and the schema. */
static pg_err
sb_setup_writer(struct pg_sb *c, int64_t max_mb)
{
	char val[64], text[96];
	long long pages;
	pg_err e;

	if ((e = sb_pragma(c, "PRAGMA journal_mode = WAL", val, sizeof val)))
		return e;
	if (strcmp(val, "wal") != 0) {
		pg_error("store: cannot switch the database to WAL (%s)", val);
		return PG_ERR_STORE;
	}
	if ((e = sqlite__exec(c, "PRAGMA synchronous = FULL")) ||
	    (e = sqlite__exec(c, "PRAGMA foreign_keys = ON")))
		return e;
	if (max_mb > 0) {
		/* PRAGMA takes no bound parameter; the value is our own
		 * integer, never caller text. */
		if ((e = sb_pragma(c, "PRAGMA page_size", val, sizeof val)))
			return e;
		pages = (long long)(max_mb * 1048576 / (atoll(val) > 0 ?
						    atoll(val) : 4096));
		snprintf(text, sizeof text, "PRAGMA max_page_count = %lld",
			 pages > 1 ? pages : 1);
		if ((e = sb_pragma(c, text, val, sizeof val)))
			return e;
		pg_debug("store: capped at %s pages", val);
	}
	return sqlite__migrate(c);
}

/* The pages in use (page_count less the freelist SQLite reuses) times
 * the page size: header fields, no scan, one prepared statement.
 * page_count includes the pages the open transaction added. */
static pg_err
sb_used_row(sqlite3_stmt *s, void *out)
{
	int64_t n = sqlite3_column_int64(s, 0);

	*(int64_t *)out = (n > 0 ? n : 0) * sqlite3_column_int64(s, 1);
	return PG_OK;
}

static pg_err
sb_used(struct pg_sb *c, int64_t *bytes)
{
	sqlite3_stmt *s;
	pg_err e;

	*bytes = 0;
	if ((e = sqlite__prep(c, ST_USED, &s, "")))
		return e;
	return sqlite__row_one(c, s, sb_used_row, bytes);
}

static void
sb_close(struct pg_sb *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	free(c->spare_path);
	if (sqlite3_close(c->db) != SQLITE_OK)
		pg_warn("store: sqlite close: %s", sqlite3_errmsg(c->db));
	free(c);
}

/* SQL pg_fold(x): x case-folded (pg_fold_case), so that the board's
 * search matches "ørjan" with "Ørjan" (LIKE folds ASCII only); NULL for
 * NULL, x itself when it is not UTF-8. */
static void
sql_fold(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	struct pg_buf b;
	pg_err e;

	(void)argc;
	if (!t) {
		sqlite3_result_null(cx);
		return;
	}
	pg_buf_init(&b, 1 << 20);
	e = pg_fold_case(t, (size_t)sqlite3_value_bytes(argv[0]), &b);
	if (e == PG_ERR_INVAL)
		sqlite3_result_value(cx, argv[0]);
	else if (e)
		sqlite3_result_error_nomem(cx);
	else
		sqlite3_result_text(cx, b.data ? b.data : "", (int)b.len, SQLITE_TRANSIENT);
	pg_buf_free(&b);
}

static pg_err
sb_open(const char *target, bool readonly, int64_t max_mb, struct pg_sb **out)
{
	struct pg_sb *c = calloc(1, sizeof *c);
	int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
		(readonly ? SQLITE_OPEN_READONLY :
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc;
	pg_err e = PG_OK;

	if (c == NULL)
		return PG_ERR_NOMEM;
	c->readonly = readonly;
	rc = sqlite3_open_v2(target, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		pg_error("store: cannot open %s: %s", target,
			 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		e = (rc & 0xff) == SQLITE_NOMEM ? PG_ERR_NOMEM : PG_ERR_IO;
	}
	if (!e && (rc = sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS)))
		e = sb_fail(c, rc, "busy_timeout");
	if (!e && (rc = sqlite3_create_function(c->db, "pg_fold", 1, SQLITE_UTF8 |
			SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, sql_fold, NULL, NULL)))
		e = sb_fail(c, rc, "create_function");
	if (!e && !readonly)
		e = sb_setup_writer(c, max_mb);
	if (!e && !readonly && *target && strcmp(target, ":memory:") != 0 &&
	    asprintf(&c->spare_path, "%s-spare", target) < 0) {
		c->spare_path = NULL;
		e = PG_ERR_NOMEM;
	}
	if (e) {
		sb_close(c);
		return e;
	}
	*out = c;
	return PG_OK;
}

static pg_err sb_begin(struct pg_sb *c)
{ return sb_simple(c, c->readonly ? ST_BEGIN_R : ST_BEGIN_W); }
static pg_err sb_commit(struct pg_sb *c) { return sb_simple(c, ST_COMMIT); }

/* No transaction left (SQLite may end one itself on an error): nothing to
 * undo. */
static pg_err
sb_rollback(struct pg_sb *c)
{
	return sqlite3_get_autocommit(c->db) ? PG_OK : sb_simple(c, ST_ROLLBACK);
}
static pg_err sb_savepoint(struct pg_sb *c) { return sb_simple(c, ST_SAVEPOINT); }
static pg_err sb_release(struct pg_sb *c) { return sb_simple(c, ST_RELEASE); }

static pg_err
sb_rollback_savepoint(struct pg_sb *c)
{
	pg_err e;

	/* SQLite may have rolled the whole transaction back on its own
	 * (SQLITE_FULL, SQLITE_IOERR...): then there is no savepoint left. */
	if (sqlite3_get_autocommit(c->db)) {
		/* the front end logs the write's own error */
		pg_debug("store: the transaction was rolled back by sqlite");
		return PG_ERR_STORE;
	}
	if ((e = sb_simple(c, ST_ROLLBACK_TO)))
		return e;
	return sb_simple(c, ST_RELEASE);
}

/* ---- fields as JSON ---- */

/* Encodes the fields as a JSON object in their order.  A duplicate key or
 * text that is not UTF-8 gives PG_ERR_INVAL. */
static pg_err
fields_encode(const struct pg_message *m, char **out)
{
	json_t *o = json_object(), *v;
	pg_err e = PG_OK;

	if (o == NULL)
		return PG_ERR_NOMEM;
	for (size_t i = 0; !e && i < m->n_fields; i++) {
		const struct pg_kv *kv = &m->fields[i];

		if (kv->key == NULL || kv->value == NULL ||
		    json_object_get(o, kv->key) != NULL)
			e = PG_ERR_INVAL;
		else if ((v = json_string(kv->value)) == NULL ||
			 json_object_set_new(o, kv->key, v) != 0)
			e = PG_ERR_INVAL;
	}
	if (!e && (*out = json_dumps(o, JSON_COMPACT)) == NULL)
		e = PG_ERR_NOMEM;
	json_decref(o);
	return e;
}


/* ---- writes ---- */

/* The esc_state column: NULL for a message without an escalation. */
static const char *
esc_name(enum pg_esc_state s)
{
	return s != PG_ES_NONE ? pg_esc_state_name(s) : NULL;
}

static pg_err
sb_insert_message(struct pg_sb *c, struct pg_message *m)
{
	sqlite3_stmt *s;
	char *fields = NULL;
	pg_err e = fields_encode(m, &fields);

	if (!e)
		e = sqlite__prep(c, ST_INS_MSG, &s, "tttttttttti" "tt" "tiint" "t",
		    m->client_id, pg_kind_name(m->kind),
		    pg_urgency_name(m->urgency), m->caller_name,
		    m->caller_phone, m->caller_company, m->text, fields,
		    m->operator_name, m->idem_key, m->received_ms,
		    pg_mstate_name(m->state), m->ack_ref[0] ? m->ack_ref : NULL,
		    m->esc_policy, (int64_t)m->esc_fired, (int64_t)m->esc_total,
		    m->esc_next_ms, m->esc_policy ? esc_name(m->esc_state) : NULL,
		    m->idem_key && m->idem_hash[0] ? m->idem_hash : NULL);
	if (!e)
		e = sqlite__write(c, s, "insert message", false, &m->id);
	free(fields);
	return e;
}

/* One UPDATE per column group that cols names, each of one row. */
static pg_err
sb_update_message(struct pg_sb *c, const struct pg_message *m, unsigned cols)
{
	sqlite3_stmt *s;
	pg_err e = PG_OK;

	if (cols == 0 || (cols & ~(unsigned)(STORE_M_STATE | STORE_M_ACK |
					      STORE_M_ESC | STORE_M_REF)))
		return PG_ERR_INVAL;
	if (cols & STORE_M_STATE &&
	    !(e = sqlite__prep(c, ST_UPD_MSG_STATE, &s, "it", m->id,
			       pg_mstate_name(m->state))))
		e = sqlite__write(c, s, "set message state", true, NULL);
	if (!e && cols & STORE_M_ACK &&
	    !(e = sqlite__prep(c, ST_UPD_MSG_ACK, &s, "int", m->id, m->acked_ms,
			       m->acked_by)))
		e = sqlite__write(c, s, "set acknowledgement", true, NULL);
	if (!e && cols & STORE_M_ESC &&
	    !(e = sqlite__prep(c, ST_UPD_MSG_ESC, &s, "iiit", m->id,
			       (int64_t)m->esc_fired, m->esc_next_ms,
			       esc_name(m->esc_state))))
		e = sqlite__write(c, s, "update escalation", true, NULL);
	if (!e && cols & STORE_M_REF &&
	    !(e = sqlite__prep(c, ST_UPD_MSG_REF, &s, "it", m->id,
			       m->ack_ref[0] ? m->ack_ref : NULL)))
		e = sqlite__write(c, s, "set ack reference", true, NULL);
	return e;
}

static pg_err
sb_put_setting(struct pg_sb *c, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_PUT_SETTING, &s, "tb", key, val, len);

	return e ? e : sqlite__write(c, s, "store setting", false, NULL);
}

static pg_err
sb_insert_delivery(struct pg_sb *c, struct pg_delivery *d)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_INS_DEL, &s, "itttttt" "iiiiiit" "n",
	    d->message_id, d->contact_id, d->contact_name,
	    pg_channel_name(d->channel), d->address, d->gateway,
	    pg_dstate_name(d->state), (int64_t)d->priority,
	    (int64_t)d->attempts, d->created_ms, d->next_try_ms, d->expires_ms,
	    d->updated_ms, d->last_reply, (int64_t)d->esc_step);

	return e ? e : sqlite__write(c, s, "insert delivery", false, &d->id);
}

static pg_err
sb_update_delivery(struct pg_sb *c, const struct pg_delivery *d)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_UPD_DEL, &s, "itiiiiit", d->id,
	    pg_dstate_name(d->state), (int64_t)d->priority,
	    (int64_t)d->attempts, d->next_try_ms, d->expires_ms, d->updated_ms,
	    d->last_reply);

	return e ? e : sqlite__write(c, s, "update delivery", true, NULL);
}

static pg_err
sb_insert_attempt(struct pg_sb *c, int64_t did, int64_t started_ms, int64_t *id)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_INS_ATT, &s, "ii", did, started_ms);

	return e ? e : sqlite__write(c, s, "insert attempt", false, id);
}

static pg_err
sb_finish_attempt(struct pg_sb *c, int64_t did, int64_t aid, int64_t at,
		  enum pg_outcome outcome, const char *reply, size_t *n)
{
	sqlite3_stmt *s;
	pg_err e;

	*n = 0;
	if (aid != 0)
		e = sqlite__prep(c, ST_FIN_ATT, &s, "iiitt", did, aid, at,
				 pg_outcome_name(outcome), reply);
	else
		e = sqlite__prep(c, ST_FIN_ATTS, &s, "iitt", did, at,
				 pg_outcome_name(outcome), reply);
	if (!e && !(e = sqlite__write(c, s, "finish attempt", aid != 0, NULL)))
		*n = (size_t)sqlite3_changes(c->db);
	return e;
}

static pg_err
sb_insert_event(struct pg_sb *c, struct pg_event *ev)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_INS_EVT, &s, "initt", ev->message_id,
			   ev->delivery_id, ev->at_ms, ev->type, ev->detail);

	return e ? e : sqlite__write(c, s, "insert event", false, &ev->id);
}

const struct pg_store_backend pg_store_sqlite = {
	.name = "sqlite",
	.open = sb_open,                 /* file path; writer migrates */
	.close = sb_close,               /* finalizes statements */
	.schema_version = sqlite__version, /* max(schema_version.version) */
	.used = sb_used,                 /* page_count - freelist_count */
	.spare = sqlite__spare,          /* the file PATH-spare */
	.begin = sb_begin,               /* writer: BEGIN IMMEDIATE */
	.commit = sb_commit,             /* fsync'ed (synchronous=FULL) */
	.rollback = sb_rollback,
	.savepoint = sb_savepoint,       /* SAVEPOINT op */
	.release = sb_release,           /* RELEASE op */
	.rollback_savepoint = sb_rollback_savepoint, /* ROLLBACK TO + RELEASE */
	.insert_message = sb_insert_message,   /* fields -> JSON */
	.update_message = sb_update_message,   /* one UPDATE per group */
	.get_message = sqlite__get_message,    /* fields <- JSON */
	.find_message = sqlite__find_message,  /* unique indexes */
	.list_messages = sqlite__list_messages, /* one statement per filter */
	.each_escalation = sqlite__each_escalation,     /* messages_esc */
	.count_escalations = sqlite__count_escalations, /* messages_esc */
	.insert_delivery = sb_insert_delivery,
	.update_delivery = sb_update_delivery,
	.get_delivery = sqlite__get_delivery,
	.each_delivery = sqlite__each_delivery,     /* deliveries_pending */
	.mailbox_deliveries = sqlite__mailbox_deliveries, /* deliveries_pending */
	.recent_deliveries = sqlite__recent_deliveries, /* attempts_started */
	.count_dstates = sqlite__count_dstates,     /* GROUP BY state */
	.count_deliveries = sqlite__count_deliveries, /* deliveries_pending */
	.insert_attempt = sb_insert_attempt,   /* outcome NULL = running */
	.finish_attempt = sb_finish_attempt,
	.insert_event = sb_insert_event,       /* delivery 0 -> NULL */
	.get_setting = sqlite__get_setting,
	.put_setting = sb_put_setting,         /* settings(key, value BLOB) */
};
