/*
 * test_events.c - the ring the consoles' event streams read (events.h):
 * order and ids, calls for one operator or everyone, resuming with
 * Last-Event-ID (and the reset when that cannot be done), the bound on
 * streams, a reader that falls out of the ring, shutdown waking a
 * reader; and the store's observer, which publishes one event per
 * message an operation touched once its transaction is committed.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "pagegate/events.h"
#include "pagegate/util.h"
#include "store_fixture.h"

static void
test_order_and_ids(void **state)
{
	struct pg_events *ev;
	struct pg_event_stream *s;
	struct pg_event_rec r;
	char id[PG_EVENT_ID_LEN], id2[PG_EVENT_ID_LEN];
	bool reset;

	(void)state;
	assert_int_equal(pg_events_new(4, &ev), PG_OK);
	assert_int_equal(pg_events_open(ev, "ann", NULL, &reset, &s), PG_OK);
	assert_false(reset);
	assert_int_equal(pg_events_next(s, 0, &r), PG_ERR_NOTFOUND);   /* nothing yet */
	pg_events_message(ev, 42, "received");
	pg_events_message(ev, 43, "sent");
	assert_int_equal(pg_events_next(s, 0, &r), PG_OK);
	assert_int_equal(r.kind, PG_EV_MESSAGE);
	assert_int_equal(r.mid, 42);
	assert_string_equal(r.change, "received");
	pg_events_id(ev, r.seq, id);
	assert_int_equal(pg_events_next(s, 0, &r), PG_OK);
	assert_int_equal(r.mid, 43);
	pg_events_id(ev, r.seq, id2);
	assert_string_not_equal(id, id2);
	assert_non_null(strchr(id, '-'));
	assert_int_equal(pg_events_next(s, 0, &r), PG_ERR_NOTFOUND);
	pg_events_close(s);
	pg_events_free(ev);
}

static void
test_calls_by_operator(void **state)
{
	struct pg_events *ev;
	struct pg_event_stream *ann, *bob;
	struct pg_event_rec r;
	bool reset;

	(void)state;
	assert_int_equal(pg_events_new(4, &ev), PG_OK);
	assert_int_equal(pg_events_open(ev, "ann", NULL, &reset, &ann), PG_OK);
	assert_int_equal(pg_events_open(ev, "bob", NULL, &reset, &bob), PG_OK);
	assert_int_equal(pg_events_streams(ev, NULL), 2);
	assert_int_equal(pg_events_streams(ev, "ann"), 1);
	/* for ann only: bob's stream never sees it */
	assert_int_equal(pg_events_call(ev, "8005550142", "+15555550100", "acme-hvac", "ann"), 1);
	/* for everyone, with no client for the number */
	assert_int_equal(pg_events_call(ev, "8009999999", NULL, NULL, NULL), 2);
	assert_int_equal(pg_events_next(ann, 0, &r), PG_OK);
	assert_int_equal(r.kind, PG_EV_CALL);
	assert_string_equal(r.dnis, "8005550142");
	assert_string_equal(r.ani, "+15555550100");
	assert_string_equal(r.client, "acme-hvac");
	assert_string_equal(r.op, "ann");
	assert_int_equal(pg_events_next(ann, 0, &r), PG_OK);
	assert_string_equal(r.dnis, "8009999999");
	assert_string_equal(r.client, "");
	assert_int_equal(pg_events_next(bob, 0, &r), PG_OK);
	assert_string_equal(r.dnis, "8009999999");    /* ann's call skipped */
	assert_int_equal(pg_events_next(bob, 0, &r), PG_ERR_NOTFOUND);
	/* an operator with no open console */
	assert_int_equal(pg_events_call(ev, "8005550142", NULL, NULL, "carl"), 0);
	pg_events_close(ann);
	pg_events_close(bob);
	assert_int_equal(pg_events_streams(ev, NULL), 0);
	pg_events_free(ev);
}

static void
test_resume(void **state)
{
	struct pg_events *ev;
	struct pg_event_stream *s;
	struct pg_event_rec r;
	char id[PG_EVENT_ID_LEN], bad[PG_EVENT_ID_LEN + 8];
	bool reset;

	(void)state;
	assert_int_equal(pg_events_new(4, &ev), PG_OK);
	for (int i = 1; i <= 5; i++)
		pg_events_message(ev, i, "received");
	/* a console that saw up to message 2 gets 3, 4, 5 again */
	pg_events_id(ev, 2, id);
	assert_int_equal(pg_events_open(ev, "ann", id, &reset, &s), PG_OK);
	assert_false(reset);
	for (int i = 3; i <= 5; i++) {
		assert_int_equal(pg_events_next(s, 0, &r), PG_OK);
		assert_int_equal(r.mid, i);
	}
	assert_int_equal(pg_events_next(s, 0, &r), PG_ERR_NOTFOUND);
	pg_events_close(s);
	/* one that saw everything misses nothing and needs no reset */
	pg_events_id(ev, 5, id);
	assert_int_equal(pg_events_open(ev, "ann", id, &reset, &s), PG_OK);
	assert_false(reset);
	assert_int_equal(pg_events_next(s, 0, &r), PG_ERR_NOTFOUND);
	pg_events_close(s);
	/* an id of another run of the process, or junk: reset */
	snprintf(bad, sizeof bad, "1-%s", strchr(id, '-') + 1);
	assert_int_equal(pg_events_open(ev, "ann", bad, &reset, &s), PG_OK);
	assert_true(reset);
	assert_int_equal(pg_events_next(s, 0, &r), PG_ERR_NOTFOUND);   /* from now on */
	pg_events_close(s);
	assert_int_equal(pg_events_open(ev, "ann", "not-an-id", &reset, &s), PG_OK);
	assert_true(reset);
	pg_events_close(s);
	/* an id from the future of this run: reset */
	pg_events_id(ev, 99, id);
	assert_int_equal(pg_events_open(ev, "ann", id, &reset, &s), PG_OK);
	assert_true(reset);
	pg_events_close(s);
	/* one that fell out of the ring: reset */
	pg_events_id(ev, 1, id);
	for (int i = 0; i < PG_EVENTS_RING; i++)
		pg_events_message(ev, 100 + i, "sent");
	assert_int_equal(pg_events_open(ev, "ann", id, &reset, &s), PG_OK);
	assert_true(reset);
	pg_events_close(s);
	pg_events_free(ev);
}

/* A reader that falls a whole ring behind is told so, and goes on from
 * the newest event. */
static void
test_reader_falls_behind(void **state)
{
	struct pg_events *ev;
	struct pg_event_stream *s;
	struct pg_event_rec r;
	bool reset;

	(void)state;
	assert_int_equal(pg_events_new(4, &ev), PG_OK);
	assert_int_equal(pg_events_open(ev, "ann", NULL, &reset, &s), PG_OK);
	for (int i = 0; i < PG_EVENTS_RING + 10; i++)
		pg_events_message(ev, i + 1, "sent");
	assert_int_equal(pg_events_next(s, 0, &r), PG_ERR_EXPIRED);
	assert_int_equal(pg_events_next(s, 0, &r), PG_ERR_NOTFOUND);
	pg_events_message(ev, 7, "acknowledged");
	assert_int_equal(pg_events_next(s, 0, &r), PG_OK);
	assert_int_equal(r.mid, 7);
	pg_events_close(s);
	pg_events_free(ev);
}

static void
test_bounded_streams(void **state)
{
	struct pg_events *ev;
	struct pg_event_stream *s[3], *extra;
	bool reset;

	(void)state;
	assert_int_equal(pg_events_new(3, &ev), PG_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pg_events_open(ev, "ann", NULL, &reset, &s[i]), PG_OK);
	assert_int_equal(pg_events_open(ev, "ann", NULL, &reset, &extra), PG_ERR_FULL);
	pg_events_close(s[1]);
	assert_int_equal(pg_events_open(ev, "ann", NULL, &reset, &extra), PG_OK);
	pg_events_close(extra);
	pg_events_close(s[0]);
	pg_events_close(s[2]);
	pg_events_free(ev);
}

struct waiter {
	struct pg_event_stream *s;
	pg_err got;
};

static void *
wait_long(void *arg)
{
	struct waiter *w = arg;
	struct pg_event_rec r;

	w->got = pg_events_next(w->s, 600000, &r);
	return NULL;
}

/* A reader waiting for its next event is woken by shutdown at once (were
 * it not, the join would wait ten minutes and the runner's timeout would
 * fail the test); later opens are refused. */
static void
test_shutdown_wakes(void **state)
{
	struct pg_events *ev;
	struct waiter w = { NULL, PG_OK };
	struct pg_event_stream *s;
	pthread_t th;
	bool reset;

	(void)state;
	assert_int_equal(pg_events_new(4, &ev), PG_OK);
	assert_int_equal(pg_events_open(ev, "ann", NULL, &reset, &w.s), PG_OK);
	assert_int_equal(pthread_create(&th, NULL, wait_long, &w), 0);
	pg_events_shutdown(ev);
	pthread_join(th, NULL);
	assert_int_equal(w.got, PG_ERR_SHUTDOWN);
	assert_int_equal(pg_events_open(ev, "ann", NULL, &reset, &s), PG_ERR_SHUTDOWN);
	pg_events_close(w.s);
	pg_events_free(ev);
}

/* ---- the store's observer ---- */

struct seen {
	int n;
	int64_t mid[16];
	char change[16][32];
};

static void
observe(void *arg, int64_t mid, const char *change)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->mid[s->n] = mid;
		pg_strlcpy(s->change[s->n], change, sizeof s->change[0]);
	}
	s->n++;
}

/* One call per message an operation touched, after the commit; nothing
 * for an operation that failed and was rolled back. */
static void
test_store_observer(void **state)
{
	char dir[64], db[128];
	char client[] = "acme", name[] = "Ann", phone[] = "555-0100", text[] = "hi",
	     op[] = "t", cid[] = "office", addr[] = "office@acme.example";
	struct pg_store *st;
	struct pg_message m;
	struct pg_delivery d;
	struct seen seen = { 0 };
	int64_t aid;

	(void)state;
	assert_int_equal(fixture_tmpdb(dir, db, "events"), 0);
	assert_int_equal(pg_store_open(db, 0, &st), PG_OK);
	pg_store_observe(st, observe, &seen);
	memset(&m, 0, sizeof m);
	m.client_id = client;
	m.caller_name = name;
	m.caller_phone = phone;
	m.text = text;
	m.operator_name = op;
	m.received_ms = pg_now_ms();
	memset(&d, 0, sizeof d);
	d.contact_id = cid;
	d.channel = PG_CH_EMAIL;
	d.address = addr;
	d.state = PG_D_QUEUED;
	d.next_try_ms = m.received_ms;
	assert_int_equal(pg_store_submit(st, &m, &d, 1, "rule", NULL), PG_OK);
	assert_int_equal(seen.n, 1);                 /* one message, once */
	assert_int_equal(seen.mid[0], m.id);
	assert_string_equal(seen.change[0], "received");
	assert_int_equal(pg_store_attempt_start(st, d.id, pg_now_ms(), &aid), PG_OK);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.mid[1], m.id);
	assert_string_equal(seen.change[1], "attempt_started");
	/* an event about a message that does not exist fails: nothing told */
	assert_int_not_equal(pg_store_event(st, m.id + 1000, 0, "note", "x"), PG_OK);
	assert_int_equal(seen.n, 2);
	assert_int_equal(pg_store_event(st, m.id, 0, "note", "called back"), PG_OK);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.change[2], "note");
	fixture_store_done(st, dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_ids),
		cmocka_unit_test(test_calls_by_operator),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_reader_falls_behind),
		cmocka_unit_test(test_bounded_streams),
		cmocka_unit_test(test_shutdown_wakes),
		cmocka_unit_test(test_store_observer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
