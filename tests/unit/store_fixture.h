/*
 * store_fixture.h - helpers shared by the unit tests that run a real store
 * in a temporary directory (test_store, test_store_ack, test_ack,
 * test_ack_link, test_escalate, test_mailbox, and the backend conformance
 * suite through store_backend_suite.h).  Include after cmocka.h.
 */
#ifndef PAGEGATE_TEST_STORE_FIXTURE_H
#define PAGEGATE_TEST_STORE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pagegate/store.h"

/* Removes the files of a test's temporary directory, then the directory. */
static inline void
fixture_rmdir(const char *dir)
{
	struct dirent *de;
	char path[384];
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* Makes a fresh directory /tmp/pg-test-NAME-XXXXXX in dir (64 bytes) and
 * names the store file in it in db (128 bytes).  0, or -1. */
static inline int
fixture_tmpdb(char dir[64], char db[128], const char *name)
{
	snprintf(dir, 64, "/tmp/pg-test-%s-XXXXXX", name);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db, 128, "%s/pagegate.db", dir);
	return 0;
}

/* Closes the store (NULL is fine) and removes its directory. */
static inline void
fixture_store_done(struct pg_store *st, const char *dir)
{
	pg_store_close(st);
	fixture_rmdir(dir);
}

/* The one integer that query q answers on database file db, read through
 * a connection of its own (what is on disk, not what the store says). */
static inline int64_t
fixture_sql_int(const char *db, const char *q)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

/* The one text query q answers on database file db, copied into buf. */
static inline const char *
fixture_sql_text(const char *db, const char *q, char *buf, size_t size)
{
	sqlite3 *h;
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	snprintf(buf, size, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(h);
	return buf;
}

/* A store open on a file in a fresh temporary directory, per test. */
struct store_fx {
	char dir[64];
	char db[128];
	struct pg_store *st;
};

/* Sets *state to a new store_fx whose store is open (name names the
 * directory); 0, or -1. */
static inline int
fixture_store_setup(void **state, const char *name)
{
	struct store_fx *f = calloc(1, sizeof *f);

	if (f == NULL || fixture_tmpdb(f->dir, f->db, name) != 0 ||
	    pg_store_open(f->db, 0, &f->st) != PG_OK) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int
fixture_store_teardown(void **state)
{
	struct store_fx *f = *state;

	fixture_store_done(f->st, f->dir);
	free(f);
	return 0;
}

/* Closes and opens the store again, as a restarted daemon would. */
static inline void
fixture_store_reopen(struct store_fx *f, int64_t max_mb)
{
	pg_store_close(f->st);
	f->st = NULL;
	assert_int_equal(pg_store_open(f->db, max_mb, &f->st), PG_OK);
}

#endif
