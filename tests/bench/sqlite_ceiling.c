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
 * usage: sqlite_ceiling -d DIR [-t SECONDS] [-n ROWS] [-b BATCH]
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

int main(int argc, char **argv)
{
	const char *dir = NULL;
	double seconds = 3;
	long max_rows = 200000;
	int batch = 64, ch;

	while ((ch = getopt(argc, argv, "d:t:n:b:")) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 't': seconds = atof(optarg); break;
		case 'n': max_rows = atol(optarg); break;
		case 'b': batch = atoi(optarg); break;
		default: dir = NULL; optind = argc; break;
		}
	}
	if (!dir || seconds <= 0 || max_rows <= 0 || batch <= 0) {
		fputs("usage: sqlite_ceiling -d DIR [-t SECONDS] [-n ROWS] [-b BATCH]\n", stderr);
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
	    exec(db, "PRAGMA foreign_keys = ON") != 0 ||
	    exec(db, SCHEMA) != 0)
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
