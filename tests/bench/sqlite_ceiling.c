/*
 * sqlite_ceiling.c - the raw SQLite ceiling the intake bench compares to:
 * durable inserts (journal_mode = WAL, synchronous = FULL, as the store
 * uses) into a table shaped like the store's messages table, in two modes:
 *   single  one row per transaction (one commit, one fsync per row)
 *   batch   BATCH rows per transaction (what group commit can reach)
 * Each mode runs until it has written ROWS rows or SECONDS have passed.
 * Prints "key value" lines on stdout for bench.sh:
 *   sqlite_single_rows_per_s N   sqlite_batch_rows_per_s N   ...
 *
 * With -s SCHEMA (the SQL of a database pagegated made: bench.sh dumps it
 * from sqlite_master, so the tables and every index are the daemon's own)
 * it measures messages instead of rows: each message is the rows
 * pagegated's intake writes for one submission routed to one device - the
 * message (its fields as JSON, a unique ack reference), its delivery, and
 * its two ledger events ("received", "routed") - in the same two modes
 * (one message per transaction, BATCH messages per transaction):
 *   sqlite_msg_rows_per_msg 4
 *   sqlite_msg_single_msgs_per_s N   sqlite_msg_batch_msgs_per_s N   ...
 *
 * usage: sqlite_ceiling -d DIR [-t SECONDS] [-n ROWS] [-b BATCH] [-s SCHEMA]
 * DIR should be on the same file system as the daemon's database; the
 * database file is created there and removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "pagegate/util.h"

/* The store's messages table and its indexes (store_sqlite.c, schema
 * version 1), so each insert maintains the same b-trees. */
static const char SCHEMA[] =
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  client_id TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  urgency TEXT NOT NULL,"
	"  caller_name TEXT,"
	"  caller_phone TEXT,"
	"  caller_company TEXT,"
	"  text TEXT NOT NULL,"
	"  fields TEXT NOT NULL DEFAULT '{}',"
	"  operator TEXT NOT NULL,"
	"  idem_key TEXT,"
	"  received_ms INTEGER NOT NULL,"
	"  state TEXT NOT NULL);"
	"CREATE UNIQUE INDEX messages_idem ON messages(operator, idem_key)"
	"  WHERE idem_key IS NOT NULL;"
	"CREATE INDEX messages_received ON messages(received_ms);"
	"CREATE INDEX messages_client ON messages(client_id, received_ms);"
	"CREATE INDEX messages_state ON messages(state, received_ms);";

static const char INSERT[] =
	"INSERT INTO messages (client_id, kind, urgency, caller_name, caller_phone,"
	" caller_company, text, fields, operator, idem_key, received_ms, state)"
	" VALUES ('bench', 'message', 'routine', 'Bench Caller', '+15555550100', NULL,"
	" ?1, '{}', 'bench', NULL, ?2, 'pending')";

/* What intake writes per message (store_ledger.c), one statement each. */
static const char MSG_INSERT[] =
	"INSERT INTO messages (client_id, kind, urgency, caller_name, caller_phone,"
	" caller_company, text, fields, operator, idem_key, received_ms, state, ack_ref)"
	" VALUES ('bench', 'message', 'routine', ?1, '+15555550100', NULL,"
	" ?2, '{}', 'bench', NULL, ?3, 'pending', ?4)";
static const char DLV_INSERT[] =
	"INSERT INTO deliveries (message_id, contact_id, contact_name, channel, address,"
	" gateway, state, priority, attempts, created_ms, next_try_ms, expires_ms,"
	" updated_ms) VALUES (?1, 'office', 'Front office', 'email',"
	" 'office@bench.example', NULL, 'queued', 2, 0, ?2, ?2, ?2 + 86400000, ?2)";
static const char EV_INSERT[] =
	"INSERT INTO events (message_id, delivery_id, at_ms, type, detail)"
	" VALUES (?1, NULL, ?2, ?3, ?4)";
#define MSG_ROWS 4

static int fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite_ceiling: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	return -1;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sqlite_ceiling: %s: %s\n", sql, err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Inserts rows in transactions of batch rows until max_rows are written or
 * seconds have passed.  Sets *rows and *ms.  Returns 0 or -1. */
static int run(sqlite3 *db, sqlite3_stmt *ins, int batch, long max_rows,
	       double seconds, long *rows, int64_t *ms)
{
	static const char text[] =
		"Caller reports no heat in the building since this morning; the "
		"furnace makes a clicking noise and the thermostat shows 58F. "
		"Tenant in unit 4B has small children. Please call back.";
	int64_t t0 = pg_mono_ms(), deadline = t0 + (int64_t)(seconds * 1000);

	*rows = 0;
	while (*rows < max_rows && pg_mono_ms() < deadline) {
		if (exec(db, "BEGIN") != 0)
			return -1;
		for (int i = 0; i < batch; i++) {
			if (sqlite3_bind_text(ins, 1, text, -1, SQLITE_STATIC) != SQLITE_OK ||
			    sqlite3_bind_int64(ins, 2, pg_now_ms()) != SQLITE_OK ||
			    sqlite3_step(ins) != SQLITE_DONE)
				return fail(db, "insert");
			if (sqlite3_reset(ins) != SQLITE_OK)
				return fail(db, "reset");
		}
		if (exec(db, "COMMIT") != 0)
			return -1;
		*rows += batch;
	}
	*ms = pg_mono_ms() - t0;
	return 0;
}

/* Reads the whole file at path into a NUL-terminated buffer (free it). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || !(buf = malloc((size_t)n + 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
	}
	if (f)
		fclose(f);
	return buf;
}

struct msg_stmts { sqlite3_stmt *msg, *dlv, *ev; };

static int step_reset(sqlite3 *db, sqlite3_stmt *s, const char *what)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		return fail(db, what);
	if (sqlite3_reset(s) != SQLITE_OK)
		return fail(db, what);
	return 0;
}

/* Writes one message's rows (n numbers it: its ack reference). */
static int write_message(sqlite3 *db, struct msg_stmts *st, long n)
{
	static const char text[] =
		"Bench message: no heat in the building since this morning, "
		"please call back.";
	char name[64], ref[16];
	int64_t now = pg_now_ms();

	snprintf(name, sizeof name, "Bench Caller %ld", n);
	/* spread over the references as the daemon's random ones are: 7919
	 * is prime to 10^6, so n -> ref stays unique */
	snprintf(ref, sizeof ref, "%06ld", (n * 7919 + 123457) % 1000000);
	if (sqlite3_bind_text(st->msg, 1, name, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(st->msg, 2, text, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st->msg, 3, now) != SQLITE_OK ||
	    sqlite3_bind_text(st->msg, 4, ref, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    step_reset(db, st->msg, "insert message") != 0)
		return fail(db, "message");
	int64_t mid = sqlite3_last_insert_rowid(db);
	if (sqlite3_bind_int64(st->dlv, 1, mid) != SQLITE_OK ||
	    sqlite3_bind_int64(st->dlv, 2, now) != SQLITE_OK ||
	    step_reset(db, st->dlv, "insert delivery") != 0)
		return -1;
	const char *types[2] = { "received", "routed" };
	const char *details[2] = { "message, routine, for bench, taken by bench",
				   "rule at bench.conf:7 -> office by email" };
	for (int k = 0; k < 2; k++) {
		if (sqlite3_bind_int64(st->ev, 1, mid) != SQLITE_OK ||
		    sqlite3_bind_int64(st->ev, 2, now) != SQLITE_OK ||
		    sqlite3_bind_text(st->ev, 3, types[k], -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(st->ev, 4, details[k], -1, SQLITE_STATIC) != SQLITE_OK ||
		    step_reset(db, st->ev, "insert event") != 0)
			return -1;
	}
	return 0;
}

/* Messages in transactions of batch until max_msgs are written or seconds
 * have passed; *done counts them across calls (the ack references stay
 * unique).  Sets *msgs and *ms.  Returns 0 or -1. */
static int run_messages(sqlite3 *db, struct msg_stmts *st, int batch, long max_msgs,
			double seconds, long *done, long *msgs, int64_t *ms)
{
	int64_t t0 = pg_mono_ms(), deadline = t0 + (int64_t)(seconds * 1000);

	*msgs = 0;
	while (*msgs < max_msgs && pg_mono_ms() < deadline) {
		if (exec(db, "BEGIN") != 0)
			return -1;
		for (int i = 0; i < batch; i++)
			if (write_message(db, st, (*done)++) != 0)
				return -1;
		if (exec(db, "COMMIT") != 0)
			return -1;
		*msgs += batch;
	}
	*ms = pg_mono_ms() - t0;
	return 0;
}

/* The message mode (-s): the daemon's schema, its intake rows. */
static int message_mode(sqlite3 *db, const char *schema_path, int batch,
			long max_rows, double seconds)
{
	struct msg_stmts st = { 0 };
	char *schema = slurp(schema_path);
	long done = 0, msgs_a = 0, msgs_b = 0;
	int64_t ms_a = 0, ms_b = 0;
	int rc = -1;

	/* at most a million: the ack references are 6 digits and unique */
	long max_msgs = max_rows / MSG_ROWS < 400000 ? max_rows / MSG_ROWS : 400000;
	if (!schema || exec(db, schema) != 0)
		goto out;
	if (sqlite3_prepare_v2(db, MSG_INSERT, -1, &st.msg, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, DLV_INSERT, -1, &st.dlv, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, EV_INSERT, -1, &st.ev, NULL) != SQLITE_OK) {
		fail(db, "prepare");
		goto out;
	}
	if (run_messages(db, &st, 1, max_msgs, seconds, &done, &msgs_a, &ms_a) != 0 ||
	    run_messages(db, &st, batch, max_msgs, seconds, &done, &msgs_b, &ms_b) != 0)
		goto out;
	printf("sqlite_msg_rows_per_msg %d\n", MSG_ROWS);
	printf("sqlite_msg_single_msgs %ld\nsqlite_msg_single_seconds %.3f\n"
	       "sqlite_msg_single_msgs_per_s %.1f\n",
	       msgs_a, ms_a / 1000.0, ms_a ? msgs_a * 1000.0 / ms_a : 0.0);
	printf("sqlite_msg_batch_size %d\nsqlite_msg_batch_msgs %ld\n"
	       "sqlite_msg_batch_seconds %.3f\nsqlite_msg_batch_msgs_per_s %.1f\n"
	       "sqlite_msg_batch_rows_per_s %.1f\n",
	       batch, msgs_b, ms_b / 1000.0, ms_b ? msgs_b * 1000.0 / ms_b : 0.0,
	       ms_b ? msgs_b * MSG_ROWS * 1000.0 / ms_b : 0.0);
	rc = 0;
out:
	sqlite3_finalize(st.msg);
	sqlite3_finalize(st.dlv);
	sqlite3_finalize(st.ev);
	free(schema);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *schema = NULL;
	double seconds = 3;
	long max_rows = 200000;
	int batch = 64, ch;

	while ((ch = getopt(argc, argv, "d:t:n:b:s:")) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 't': seconds = atof(optarg); break;
		case 'n': max_rows = atol(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 's': schema = optarg; break;
		default: dir = NULL; optind = argc; break;
		}
	}
	if (!dir || seconds <= 0 || max_rows <= 0 || batch <= 0) {
		fputs("usage: sqlite_ceiling -d DIR [-t SECONDS] [-n ROWS] [-b BATCH] "
		      "[-s SCHEMA]\n", stderr);
		return 2;
	}

	char path[4096], side[4200];
	snprintf(path, sizeof path, "%s/ceiling.db", dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	long rows_a = 0, rows_b = 0;
	int64_t ms_a = 0, ms_b = 0;
	int rc = 1;

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fail(db, path);
		goto out;
	}
	if (exec(db, "PRAGMA journal_mode = WAL") != 0 ||
	    exec(db, "PRAGMA synchronous = FULL") != 0 ||
	    exec(db, "PRAGMA foreign_keys = ON") != 0)
		goto out;
	if (schema) {
		rc = message_mode(db, schema, batch, max_rows, seconds) == 0 ? 0 : 1;
		goto out;
	}
	if (exec(db, SCHEMA) != 0)
		goto out;
	if (sqlite3_prepare_v2(db, INSERT, -1, &ins, NULL) != SQLITE_OK) {
		fail(db, "prepare");
		goto out;
	}
	if (run(db, ins, 1, max_rows, seconds, &rows_a, &ms_a) != 0 ||
	    run(db, ins, batch, max_rows, seconds, &rows_b, &ms_b) != 0)
		goto out;
	printf("sqlite_single_rows %ld\nsqlite_single_seconds %.3f\n"
	       "sqlite_single_rows_per_s %.1f\n",
	       rows_a, ms_a / 1000.0, ms_a ? rows_a * 1000.0 / ms_a : 0.0);
	printf("sqlite_batch_size %d\nsqlite_batch_rows %ld\nsqlite_batch_seconds %.3f\n"
	       "sqlite_batch_rows_per_s %.1f\n",
	       batch, rows_b, ms_b / 1000.0, ms_b ? rows_b * 1000.0 / ms_b : 0.0);
	rc = 0;
out:
	if (sqlite3_finalize(ins) != SQLITE_OK)
		rc = 1;
	if (db && sqlite3_close(db) != SQLITE_OK) {
		fail(db, "close");
		rc = 1;
	}
	if (unlink(path) != 0)
		perror(path);
	snprintf(side, sizeof side, "%s-wal", path);
	(void)unlink(side);      /* removed by the last close; absent is fine */
	snprintf(side, sizeof side, "%s-shm", path);
	(void)unlink(side);
	return rc;
}
