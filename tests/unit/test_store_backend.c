/*
 * test_store_backend.c - the conformance suite of the store's backends
 * (src/store/store_backend.h), first half: dsns, opening and the schema
 * version, transactions and the one-level savepoint of a group commit, a
 * reader's snapshot, read-only connections that never write, a full store
 * (PG_ERR_FULL through max_mb), the size used (what max_mb caps), room
 * set aside on the disk, and settings (PG_ERR_TOOBIG).  The row
 * slots are test_store_backend_rows.c; how to run both against another
 * backend is store_backend_suite.h.  Not provoked: PG_ERR_NOMEM, and
 * PG_ERR_IO past open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_backend_suite.h"

#include <fcntl.h>

/* Runs fn with stderr going to a file; returns what it wrote (static). */
static const char *
stderr_of(void (*fn)(void *), void *arg)
{
	static char out[2048];
	char path[] = "/tmp/pg-test-backend-err-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, out, sizeof out - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return out;
}

/* ---- dsn, open, schema ---- */

struct lookup { const char *dsn, *target; const struct pg_store_backend *be; };

static void
do_lookup(void *arg)
{
	struct lookup *l = arg;

	l->be = store__backend_for(l->dsn, &l->target);
}

static void
test_dsn(void **state)
{
	struct fx *f = *state;
	struct lookup l = { .dsn = "nosuchdb://alice:s3cret@db1/pagegate" };
	struct pg_store *st = (struct pg_store *)1;
	char dsn[DSN_MAX];
	const char *err;

	/* The dsn under test names this backend, with a target. */
	assert_non_null(f->be);
	assert_non_null(f->be->name);
	assert_true(*f->target != '\0');
	snprintf(dsn, sizeof dsn, "%s:%s", f->be->name, f->target);
	assert_ptr_equal(store__backend_for(dsn, &l.target), f->be);
	assert_string_equal(l.target, f->target);
	/* Another scheme: refused, naming it and the schemes built in, but
	 * not the rest of the dsn (a password). */
	err = stderr_of(do_lookup, &l);
	assert_null(l.be);
	assert_non_null(strstr(err, "\"nosuchdb\""));
	assert_non_null(strstr(err, f->be->name));
	assert_null(strstr(err, "s3cret"));
	assert_int_equal(pg_store_open(l.dsn, 0, &st), PG_ERR_CONFIG);
	assert_null(st);
	/* The scheme with nothing after it. */
	snprintf(dsn, sizeof dsn, "%s:", f->be->name);
	l.dsn = dsn;
	stderr_of(do_lookup, &l);
	assert_null(l.be);
}

static void
test_open_schema(void **state)
{
	struct fx *f = *state;
	struct pg_message_full g;
	char bad[DSN_MAX];
	const char *target;
	struct pg_sb *c = (struct pg_sb *)1;
	int v = -1;
	int64_t id;

	assert_int_equal(f->be->schema_version(f->w, &v), PG_OK);
	assert_int_equal(v, STORE_SCHEMA_VERSION);
	v = -1;
	assert_int_equal(f->be->schema_version(f->r, &v), PG_OK);
	assert_int_equal(v, STORE_SCHEMA_VERSION);
	/* Closed and opened again: the same version, the rows kept; a
	 * transaction left open at close is rolled back. */
	id = add_msg(f, "acme", T0, "100001");
	w_begin(f);
	assert_int_equal(f->be->put_setting(f->w, "left-open", "x", 1), PG_OK);
	f->be->close(f->r);
	f->be->close(f->w);
	f->r = f->w = NULL;
	assert_int_equal(f->be->open(f->target, false, 0, &f->w), PG_OK);
	assert_int_equal(f->be->open(f->target, true, 0, &f->r), PG_OK);
	assert_int_equal(f->be->schema_version(f->w, &v), PG_OK);
	assert_int_equal(v, STORE_SCHEMA_VERSION);
	assert_int_equal(r_get(f, id, 0, &g), PG_OK);
	assert_string_equal(g.msg.ack_ref, "100001");
	pg_message_full_free(&g);
	{
		char buf[4];
		size_t len;

		w_begin(f);
		assert_int_equal(f->be->get_setting(f->w, "left-open", buf,
						    sizeof buf, &len), PG_ERR_NOTFOUND);
		assert_int_equal(f->be->rollback(f->w), PG_OK);
	}
	/* A store that cannot be created: PG_ERR_IO, nothing opened. */
	if (strstr(g_dsn, "%s")) {
		dsn_named(bad, "no-such-dir/store");
		assert_non_null(store__backend_for(bad, &target));
		assert_int_equal(f->be->open(target, false, 0, &c), PG_ERR_IO);
	}
}

/* ---- settings ---- */

static void
test_settings(void **state)
{
	struct fx *f = *state;
	unsigned char buf[32], v1[3] = { 1, 0, 2 }, v2[5] = { 9, 8, 7, 6, 5 };
	size_t len = 99;

	w_begin(f);
	assert_int_equal(f->be->get_setting(f->w, "secret", buf, sizeof buf, &len),
			 PG_ERR_NOTFOUND);
	assert_int_equal(f->be->put_setting(f->w, "secret", v1, sizeof v1), PG_OK);
	assert_int_equal(f->be->get_setting(f->w, "secret", buf, sizeof buf, &len),
			 PG_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, v1, 3);
	assert_int_equal(f->be->put_setting(f->w, "secret", v2, sizeof v2), PG_OK);
	w_commit(f);
	assert_int_equal(f->be->begin(f->r), PG_OK);
	assert_int_equal(f->be->get_setting(f->r, "secret", buf, sizeof buf, &len),
			 PG_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, v2, 5);
	assert_int_equal(f->be->get_setting(f->r, "secret", buf, 4, &len),
			 PG_ERR_TOOBIG);
	assert_int_equal(f->be->get_setting(f->r, "other", buf, 4, &len),
			 PG_ERR_NOTFOUND);
	assert_int_equal(f->be->commit(f->r), PG_OK);
}

/* ---- transactions ---- */

/* A group commit: the failed operation rolled back to its savepoint, the
 * others of the transaction committed; a rollback keeps nothing. */
static void
test_savepoints(void **state)
{
	struct fx *f = *state;
	struct pg_event ev = { 0, 0, 0, T0, "note", NULL };

	w_begin(f);
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	ins_msg(f, "acme", T0, "200001");
	assert_int_equal(f->be->release(f->w), PG_OK);
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	ins_msg(f, "acme", T0, "200002");
	assert_int_equal(f->be->rollback_savepoint(f->w), PG_OK);
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	ev.message_id = ins_msg(f, "acme", T0, "200003") + 1000;
	assert_int_equal(f->be->insert_event(f->w, &ev), PG_ERR_NOTFOUND);
	assert_int_equal(f->be->rollback_savepoint(f->w), PG_OK);
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	ins_msg(f, "acme", T0, "200004");
	assert_int_equal(f->be->release(f->w), PG_OK);
	w_commit(f);
	assert_int_equal(r_find(f, "200001"), PG_OK);
	assert_int_equal(r_find(f, "200002"), PG_ERR_NOTFOUND);
	assert_int_equal(r_find(f, "200003"), PG_ERR_NOTFOUND);
	assert_int_equal(r_find(f, "200004"), PG_OK);

	w_begin(f);
	ins_msg(f, "acme", T0, "200005");
	assert_int_equal(f->be->rollback(f->w), PG_OK);
	assert_int_equal(r_find(f, "200005"), PG_ERR_NOTFOUND);
	assert_int_equal(f->be->rollback(f->w), PG_OK);      /* none open */
}

/* A reader's snapshot sees neither an uncommitted write nor one committed
 * after it began reading; its next snapshot sees the committed one. */
static void
test_snapshot(void **state)
{
	struct fx *f = *state;
	struct pg_message m;

	add_msg(f, "acme", T0, "300001");
	assert_int_equal(f->be->begin(f->r), PG_OK);
	assert_int_equal(f->be->find_message(f->r, "300001", NULL, NULL, &m), PG_OK);
	w_begin(f);
	ins_msg(f, "acme", T0, "300002");
	assert_int_equal(f->be->find_message(f->r, "300002", NULL, NULL, &m),
			 PG_ERR_NOTFOUND);
	w_commit(f);
	assert_int_equal(f->be->find_message(f->r, "300002", NULL, NULL, &m),
			 PG_ERR_NOTFOUND);
	assert_int_equal(f->be->commit(f->r), PG_OK);
	assert_int_equal(r_find(f, "300002"), PG_OK);
}

/* A read-only connection refuses every write and changes nothing. */
static void
test_readonly(void **state)
{
	struct fx *f = *state;
	struct pg_message m;
	struct pg_delivery d;
	struct pg_event ev;
	struct pg_message_full full;
	char buf[8];
	int64_t mid = add_msg(f, "acme", T0, "400001"), aid;
	size_t n;

	msg_init(&m, "acme", T0, "400002");
	del_init(&d, mid, PG_CH_SMS, "+1555", PG_D_QUEUED);
	ev = (struct pg_event){ 0, mid, 0, T0, "note", NULL };
	assert_int_equal(f->be->begin(f->r), PG_OK);
	assert_int_equal(f->be->insert_message(f->r, &m), PG_ERR_STORE);
	m.id = mid;
	assert_int_equal(f->be->update_message(f->r, &m, STORE_M_STATE), PG_ERR_STORE);
	assert_int_equal(f->be->insert_delivery(f->r, &d), PG_ERR_STORE);
	assert_int_equal(f->be->insert_event(f->r, &ev), PG_ERR_STORE);
	assert_int_equal(f->be->put_setting(f->r, "k", "v", 1), PG_ERR_STORE);
	assert_int_equal(f->be->rollback(f->r), PG_OK);
	d.id = add_del(f, mid, PG_CH_SMS, "+1555", PG_D_SENDING);
	assert_int_equal(f->be->begin(f->r), PG_OK);
	assert_int_equal(f->be->update_delivery(f->r, &d), PG_ERR_STORE);
	assert_int_equal(f->be->insert_attempt(f->r, d.id, T0, &aid), PG_ERR_STORE);
	assert_int_equal(f->be->finish_attempt(f->r, d.id, 0, T0, PG_OUT_OK, NULL,
					       &n), PG_ERR_STORE);
	assert_int_equal(f->be->rollback(f->r), PG_OK);
	assert_int_equal(r_find(f, "400002"), PG_ERR_NOTFOUND);
	assert_int_equal(r_get(f, mid, STORE_ALL, &full), PG_OK);
	assert_int_equal(full.msg.state, PG_M_PENDING);
	assert_int_equal(full.n_deliveries, 1);
	assert_int_equal(full.deliveries[0].state, PG_D_SENDING);
	assert_int_equal(full.n_attempts + full.n_events, 0);
	pg_message_full_free(&full);
	w_begin(f);
	assert_int_equal(f->be->get_setting(f->w, "k", buf, sizeof buf, &n),
			 PG_ERR_NOTFOUND);
	assert_int_equal(f->be->rollback(f->w), PG_OK);
}

/* ---- a full store ---- */

/* With max_mb, writes past the cap fail with PG_ERR_FULL and leave nothing
 * of their transaction; what was committed before stays readable, and a
 * failed write inside a savepoint is undone (or, where the engine gave up
 * the whole transaction, the rollback of the savepoint says so). */
static void
test_full(void **state)
{
	struct fx *f = *state;
	static char big[32768];
	struct pg_message m;
	char ref[16];
	int ok = 0;
	pg_err e = PG_OK, e2;

	memset(big, 'x', sizeof big - 1);
	f->be->close(f->r);
	f->be->close(f->w);
	f->r = f->w = NULL;
	assert_int_equal(f->be->open(f->target, false, 1, &f->w), PG_OK);
	assert_int_equal(f->be->open(f->target, true, 0, &f->r), PG_OK);
	for (int i = 0; i < 200 && e == PG_OK; i++) {
		snprintf(ref, sizeof ref, "9%05d", i);
		msg_init(&m, "acme", T0 + i, ref);
		m.text = big;
		w_begin(f);
		if (!(e = f->be->insert_message(f->w, &m)) &&
		    !(e = f->be->commit(f->w)))
			ok++;
		else
			assert_int_equal(f->be->rollback(f->w), PG_OK);
	}
	assert_int_equal(e, PG_ERR_FULL);
	assert_true(ok >= 5);
	snprintf(ref, sizeof ref, "9%05d", ok);
	assert_int_equal(r_find(f, ref), PG_ERR_NOTFOUND);
	for (int i = 0; i < ok; i++) {
		snprintf(ref, sizeof ref, "9%05d", i);
		assert_int_equal(r_find(f, ref), PG_OK);
	}
	/* Inside a savepoint. */
	w_begin(f);
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	msg_init(&m, "acme", T0, "800001");
	m.text = big;
	assert_int_equal(f->be->insert_message(f->w, &m), PG_ERR_FULL);
	e2 = f->be->rollback_savepoint(f->w);
	assert_true(e2 == PG_OK || e2 == PG_ERR_STORE);
	assert_int_equal(f->be->rollback(f->w), PG_OK);
	assert_int_equal(r_find(f, "800001"), PG_ERR_NOTFOUND);
	/* Without the cap, room again. */
	f->be->close(f->w);
	assert_int_equal(f->be->open(f->target, false, 0, &f->w), PG_OK);
	add_msg(f, "acme", T0, "800002");
	assert_int_equal(r_find(f, "800002"), PG_OK);
}

/* used: the bytes the data takes, what max_mb caps - it counts the open
 * transaction's own writes, never grows with a rollback (SQLite gives
 * them back at once; PostgreSQL keeps a rolled-back write's pages until
 * vacuum reuses them), and a reader sees the committed size. */
static void
test_used(void **state)
{
	struct fx *f = *state;
	static char big[65536];
	struct pg_message m;
	int64_t empty = 0, during = 0, after = 0, reader = 0;

	memset(big, 'u', sizeof big - 1);
	assert_int_equal(f->be->used(f->w, &empty), PG_OK);
	assert_true(empty > 0);                  /* the schema takes room */
	w_begin(f);
	msg_init(&m, "acme", T0, "700001");
	m.text = big;
	assert_int_equal(f->be->insert_message(f->w, &m), PG_OK);
	assert_int_equal(f->be->used(f->w, &during), PG_OK);
	assert_true(during >= empty + (int64_t)sizeof big - 4096);
	assert_int_equal(f->be->rollback(f->w), PG_OK);
	assert_int_equal(f->be->used(f->w, &after), PG_OK);
	assert_true(after <= during);
	if (strcmp(f->be->name, "sqlite") == 0)
		assert_true(after < during);
	add_msg(f, "acme", T0, "700002");
	w_begin(f);
	msg_init(&m, "acme", T0, "700003");
	m.text = big;
	assert_int_equal(f->be->insert_message(f->w, &m), PG_OK);
	w_commit(f);
	assert_int_equal(f->be->used(f->w, &after), PG_OK);
	assert_true(after >= empty + (int64_t)sizeof big - 4096);
	assert_int_equal(f->be->begin(f->r), PG_OK);
	assert_int_equal(f->be->used(f->r, &reader), PG_OK);
	assert_int_equal(f->be->rollback(f->r), PG_OK);
	assert_int_equal(reader, after);
}

/* spare: room set aside on the disk and given back - or, for a backend
 * that sets none aside, PG_ERR_NOTFOUND; never more than the disk has
 * twice over; never on a reader. */
static void
test_spare(void **state)
{
	struct fx *f = *state;
	pg_err e = f->be->spare(f->w, 1048576);

	if (e == PG_ERR_NOTFOUND) {
		assert_int_equal(f->be->spare(f->w, 0), PG_ERR_NOTFOUND);
		return;
	}
	assert_int_equal(e, PG_OK);
	assert_int_equal(f->be->spare(f->w, 1048576), PG_OK);   /* already */
	assert_int_equal(f->be->spare(f->w, 0), PG_OK);
	assert_int_equal(f->be->spare(f->w, 0), PG_ERR_NOTFOUND);
	assert_int_equal(f->be->spare(f->w, INT64_MAX / 4), PG_ERR_FULL);
	assert_int_equal(f->be->spare(f->w, 0), PG_ERR_NOTFOUND);
	assert_int_equal(f->be->spare(f->r, 1048576), PG_ERR_STORE);
	/* the store itself is untouched */
	add_msg(f, "acme", T0, "700004");
	assert_int_equal(r_find(f, "700004"), PG_OK);
}

/* ---- the tests ---- */

int
main(void)
{
	static const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_dsn),
		T(test_open_schema),
		T(test_settings),
		T(test_savepoints),
		T(test_snapshot),
		T(test_readonly),
		T(test_full),
		T(test_used),
		T(test_spare),
#undef T
	};

	return suite_run(tests, sizeof tests / sizeof tests[0]);
}
