/*
 * store_backend_suite.h - what the two halves of the store backends'
 * conformance suite share (test_store_backend.c: connections, dsns,
 * schema, transactions, snapshots, read-only connections, a full store,
 * settings; test_store_backend_rows.c: every row slot): a fresh store per
 * test, opened through the backend table alone, and the runner.  Include
 * after cmocka.h.
 *
 * The suite talks to a backend only through its table, picked by dsn with
 * store__backend_for, so that every backend runs it unchanged and no
 * assertion names one.  PAGEGATE_TEST_DSNS lists the dsns to run it
 * against, one per line; the "%s" each must hold is replaced by a fresh
 * name for each test, which then has a store of its own (and
 * "no-such-dir/store" names one that cannot be created).  The default is a
 * file per test in a fresh temporary directory:
 * "sqlite:/tmp/pg-test-backend-XXXXXX/%s".
 */
#ifndef PAGEGATE_TEST_STORE_BACKEND_SUITE_H
#define PAGEGATE_TEST_STORE_BACKEND_SUITE_H

#include "store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pagegate/store.h"
#include "pagegate/util.h"
#include "../../src/store/store_backend.h"

#define T0    1795361640000LL   /* 2026-11-22T15:34:00Z */
#define DSN_MAX 512

static const char *g_dsn;          /* the dsn under test, "%s" a fresh name */
static int g_seq;

struct fx {
	char dsn[DSN_MAX];
	const struct pg_store_backend *be;
	const char *target;
	struct pg_sb *w, *r;         /* a writer, a reader */
};

/* g_dsn with its "%s" replaced by name. */
static inline void
dsn_named(char out[DSN_MAX], const char *name)
{
	const char *p = strstr(g_dsn, "%s");

	if (p == NULL)
		snprintf(out, DSN_MAX, "%s", g_dsn);
	else
		snprintf(out, DSN_MAX, "%.*s%s%s", (int)(p - g_dsn), g_dsn, name,
			 p + 2);
}

static inline int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char name[32];

	if (f == NULL)
		return -1;
	snprintf(name, sizeof name, "t%d-%d", (int)getpid(), ++g_seq);
	dsn_named(f->dsn, name);
	if ((f->be = store__backend_for(f->dsn, &f->target)) == NULL ||
	    f->be->open(f->target, false, 0, &f->w) != PG_OK ||
	    f->be->open(f->target, true, 0, &f->r) != PG_OK)
		return -1;
	*state = f;
	return 0;
}

static inline int
teardown(void **state)
{
	struct fx *f = *state;

	f->be->close(f->r);
	f->be->close(f->w);
	free(f);
	return 0;
}

static inline void
w_begin(struct fx *f)
{
	assert_int_equal(f->be->begin(f->w), PG_OK);
}

static inline void
w_commit(struct fx *f)
{
	assert_int_equal(f->be->commit(f->w), PG_OK);
}

/* A message of client `client` received at `at`; ack_ref "" = none. */
static inline void
msg_init(struct pg_message *m, const char *client, int64_t at, const char *ref)
{
	memset(m, 0, sizeof *m);
	m->client_id = (char *)client;
	m->kind = PG_KIND_DISPATCH;
	m->urgency = PG_URG_URGENT;
	m->caller_name = "Zo\xc3\xab";
	m->text = "No heat";
	m->operator_name = "alice";
	m->received_ms = at;
	m->state = PG_M_PENDING;
	pg_strlcpy(m->ack_ref, ref, sizeof m->ack_ref);
}

/* Inserts a message inside the writer's open transaction; returns its id. */
static inline int64_t
ins_msg(struct fx *f, const char *client, int64_t at, const char *ref)
{
	struct pg_message m;

	msg_init(&m, client, at, ref);
	assert_int_equal(f->be->insert_message(f->w, &m), PG_OK);
	assert_true(m.id > 0);
	return m.id;
}

/* The same in a transaction of its own. */
static inline int64_t
add_msg(struct fx *f, const char *client, int64_t at, const char *ref)
{
	int64_t id;

	w_begin(f);
	id = ins_msg(f, client, at, ref);
	w_commit(f);
	return id;
}

static inline void
del_init(struct pg_delivery *d, int64_t mid, enum pg_channel_kind ch,
	 const char *to, enum pg_dstate s)
{
	memset(d, 0, sizeof *d);
	d->message_id = mid;
	d->contact_id = "jane";
	d->channel = ch;
	d->address = (char *)to;
	d->state = s;
	d->priority = 1;
	d->created_ms = d->updated_ms = T0;
	d->next_try_ms = T0 + 1000;
	d->expires_ms = T0 + 86400000;
}

/* Inserts a delivery in its own transaction; returns its id. */
static inline int64_t
add_del(struct fx *f, int64_t mid, enum pg_channel_kind ch, const char *to,
	enum pg_dstate s)
{
	struct pg_delivery d;

	del_init(&d, mid, ch, to, s);
	w_begin(f);
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	w_commit(f);
	return d.id;
}

/* Message id read on the reader, in a snapshot of its own. */
static inline pg_err
r_get(struct fx *f, int64_t id, unsigned parts, struct pg_message_full *out)
{
	pg_err e;

	assert_int_equal(f->be->begin(f->r), PG_OK);
	e = f->be->get_message(f->r, id, parts, out);
	assert_int_equal(f->be->commit(f->r), PG_OK);
	return e;
}

/* PG_OK when a message holds ref, as the reader sees it now. */
static inline pg_err
r_find(struct fx *f, const char *ref)
{
	struct pg_message m;
	pg_err e;

	assert_int_equal(f->be->begin(f->r), PG_OK);
	e = f->be->find_message(f->r, ref, NULL, NULL, &m);
	assert_int_equal(f->be->commit(f->r), PG_OK);
	return e;
}

/* Runs tests (n of them) against every dsn of PAGEGATE_TEST_DSNS, or
 * against a file per test in a fresh temporary directory; returns the
 * number of failures, for main. */
static inline int
suite_run(const struct CMUnitTest *tests, size_t n)
{
	const char *env = getenv("PAGEGATE_TEST_DSNS");
	char dir[64] = "", *list, *dsn, *save = NULL;
	int failed = 0;

	if (env && *env) {
		list = strdup(env);
	} else {
		snprintf(dir, sizeof dir, "/tmp/pg-test-backend-XXXXXX");
		if (mkdtemp(dir) == NULL)
			return 1;
		if (asprintf(&list, "sqlite:%s/%%s", dir) < 0)
			list = NULL;
	}
	if (list == NULL)
		return 1;
	for (dsn = strtok_r(list, "\n", &save); dsn;
	     dsn = strtok_r(NULL, "\n", &save)) {
		if (strstr(dsn, "%s") == NULL) {
			fprintf(stderr, "PAGEGATE_TEST_DSNS: \"%s\" has no %%s "
				"for a fresh store per test\n", dsn);
			failed++;
			continue;
		}
		g_dsn = dsn;
		failed += _cmocka_run_group_tests(dsn, tests, n, NULL, NULL);
	}
	free(list);
	if (*dir)
		fixture_rmdir(dir);
	return failed;
}

#endif
