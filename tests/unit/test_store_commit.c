/*
 * test_store_commit.c - the store's group commit and a full store
 * (store.h) on SQLite files in a fresh temporary directory: concurrent
 * writers share commits and a failing write fails alone; past max_mb a
 * submit is refused whole, old messages stay readable, and many writers
 * filling the store at once each get all or nothing; at the cap the
 * writes about messages already taken go on in the reserve above it.
 * (The rest of the store is test_store.c and test_store_ack.c.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/store.h"

#define T0    1795361640000LL   /* 2026-11-22T15:34:00Z */
#define T2    1795362000000LL   /* 2026-11-22T15:40:00Z */
#define THOLD 1795442400000LL   /* 2026-11-23T14:00:00Z */


static int setup(void **state) { return fixture_store_setup(state, "commit"); }
static int teardown(void **state) { return fixture_store_teardown(state); }
static int64_t
sql_int(const struct store_fx *f, const char *q)
{
	return fixture_sql_int(f->db, q);
}

static const char *
sql_text(const struct store_fx *f, const char *q, char *buf, size_t size)
{
	return fixture_sql_text(f->db, q, buf, size);
}

static void
msg_init(struct pg_message *m, const char *client, const char *text, int64_t at)
{
	memset(m, 0, sizeof *m);
	m->client_id = (char *)client;
	m->kind = PG_KIND_MESSAGE;
	m->urgency = PG_URG_ROUTINE;
	m->caller_name = "Zo\xc3\xab O'Brien \"Jr\"";
	m->caller_phone = "+1 (555) 555-0142";
	m->text = (char *)text;
	m->operator_name = "alice";
	m->received_ms = at;
}

static void
del_init(struct pg_delivery *d, const char *contact, enum pg_channel_kind ch,
	 const char *to, enum pg_dstate state, int64_t next)
{
	memset(d, 0, sizeof *d);
	d->contact_id = (char *)contact;
	d->contact_name = "Front office";
	d->channel = ch;
	d->address = (char *)to;
	d->state = state;
	d->priority = 2;
	d->next_try_ms = next;
	d->expires_ms = next + 86400000;
}

#define NSUBMIT 64                /* threads submitting */
#define NTHREADS (NSUBMIT + 16)  /* and some whose write fails */

struct worker {
	struct pg_store *st;
	pthread_barrier_t *bar;
	int i;
	char text[32];
	int64_t id;
	pg_err err;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pg_message m;
	struct pg_delivery d;
	bool existing;

	snprintf(w->text, sizeof w->text, "message %d", w->i);
	pthread_barrier_wait(w->bar);
	if (w->i >= NSUBMIT) {
		/* An event about a message that does not exist: it fails
		 * alone, inside the others' transaction. */
		w->err = pg_store_event(w->st, 1000000 + w->i, 0, "note", w->text);
		return NULL;
	}
	msg_init(&m, "acme-hvac", w->text, T0 + w->i);
	del_init(&d, "office", PG_CH_EMAIL, "office@acme.example", PG_D_QUEUED, T0);
	w->err = pg_store_submit(w->st, &m, &d, 1, "r", &existing);
	w->id = m.id;
	return NULL;
}

static void
test_group_commit(void **state)
{
	struct store_fx *f = *state;
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	pthread_barrier_t bar;
	struct pg_store_stats s0, s1;
	struct pg_message m;
	const int submits = NSUBMIT;

	pg_store_stats(f->st, &s0);
	assert_int_equal(pthread_barrier_init(&bar, NULL, NTHREADS), 0);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .st = f->st, .bar = &bar, .i = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	pg_store_stats(f->st, &s1);

	for (int i = 0; i < NTHREADS; i++) {
		if (i >= NSUBMIT) {
			assert_int_equal(w[i].err, PG_ERR_NOTFOUND);
			continue;
		}
		assert_int_equal(w[i].err, PG_OK);
		assert_int_equal(pg_store_get_msg(f->st, w[i].id, &m), PG_OK);
		assert_string_equal(m.text, w[i].text);
		pg_message_free(&m);
		for (int j = 0; j < i; j++)
			assert_true(w[j].id != w[i].id);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), submits);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), 2 * submits);
	/* message + delivery + 2 events per submit */
	assert_int_equal(s1.writes - s0.writes, 4 * submits);
	assert_true(s1.commits - s0.commits >= 1);
	assert_true(s1.commits - s0.commits < (uint64_t)submits);
	print_message("%d submits in %llu commits\n", submits,
		      (unsigned long long)(s1.commits - s0.commits));
}

static void
test_full(void **state)
{
	struct store_fx *f = *state;
	static char big[12000];
	struct pg_message m;
	struct pg_delivery d[2];
	int64_t first = 0, ok = 0, nmsg, ndel, nevt;
	bool existing;
	pg_err e = PG_OK;

	memset(big, 'x', sizeof big - 1);
	memcpy(big, "\xc3\xa9t\xc3\xa9 ", 6);
	fixture_store_reopen(f, 1);                       /* 1 MB cap */
	for (int i = 0; i < 400 && e == PG_OK; i++) {
		msg_init(&m, "acme-hvac", big, T0 + i);
		del_init(&d[0], "office", PG_CH_EMAIL, "o@x", PG_D_QUEUED, T0);
		del_init(&d[1], "jane", PG_CH_SMS, "+1555", PG_D_HELD, THOLD);
		e = pg_store_submit(f->st, &m, d, 2, "r", &existing);
		if (e == PG_OK && !first)
			first = m.id;
		if (e == PG_OK)
			ok++;
	}
	assert_int_equal(e, PG_ERR_FULL);
	assert_true(ok > 10);
	assert_int_equal(m.id, 0);
	assert_int_equal(d[0].id, 0);
	/* Nothing of the refused message: counts are exactly the accepted. */
	nmsg = sql_int(f, "SELECT count(*) FROM messages");
	ndel = sql_int(f, "SELECT count(*) FROM deliveries");
	nevt = sql_int(f, "SELECT count(*) FROM events");
	assert_int_equal(nmsg, ok);
	assert_int_equal(ndel, 2 * ok);
	assert_int_equal(nevt, 3 * ok);
	/* Refused again, still nothing partial; old messages still readable. */
	msg_init(&m, "acme-hvac", big, T2);
	assert_int_equal(pg_store_submit(f->st, &m, d, 2, "r", &existing),
			 PG_ERR_FULL);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), nmsg);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), nevt);
	assert_int_equal(pg_store_get_msg(f->st, first, &m), PG_OK);
	assert_string_equal(m.text, big);
	pg_message_free(&m);
	assert_int_equal(sql_text(f, "PRAGMA integrity_check", (char[16]){ 0 },
				  16)[0], 'o');

	/* Space is back: new submits work again. */
	fixture_store_reopen(f, 0);
	msg_init(&m, "acme-hvac", big, T2);
	del_init(&d[0], "office", PG_CH_EMAIL, "o@x", PG_D_QUEUED, T0);
	del_init(&d[1], "jane", PG_CH_SMS, "+1555", PG_D_HELD, THOLD);
	assert_int_equal(pg_store_submit(f->st, &m, d, 2, "r", &existing), PG_OK);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), nmsg + 1);
	assert_int_equal(pg_store_get_msg(f->st, first, &m), PG_OK);
	assert_string_equal(m.text, big);
	pg_message_free(&m);
}

/* The reserve: a quarter of the cap, at least PG_STORE_RESERVE_MIN_MB. */
static void
test_reserve_mb(void **state)
{
	(void)state;
	assert_int_equal(pg_store_reserve_mb(0), 0);
	assert_int_equal(pg_store_reserve_mb(1), PG_STORE_RESERVE_MIN_MB);
	assert_int_equal(pg_store_reserve_mb(64), 16);
	assert_int_equal(pg_store_reserve_mb(100), 25);
	assert_int_equal(pg_store_reserve_mb(4096), 1024);
}

/* Fills a store capped at 1 MB with big submits until one is refused;
 * returns how many were taken.  *keep is the first, with its delivery. */
static int
fill_to_cap(struct store_fx *f, const char *big, struct pg_message *keep,
	    struct pg_delivery *kd)
{
	struct pg_message m;
	struct pg_delivery d;
	bool existing;
	int ok = 0;
	pg_err e = PG_OK;

	msg_init(keep, "acme-hvac", "first", T0);
	keep->idem_key = "first-key";
	del_init(kd, "office", PG_CH_EMAIL, "o@x", PG_D_QUEUED, T0);
	assert_int_equal(pg_store_submit(f->st, keep, kd, 1, "r", &existing), PG_OK);
	while (e == PG_OK && ok < 400) {
		msg_init(&m, "acme-hvac", big, T0 + ok);
		del_init(&d, "office", PG_CH_EMAIL, "o@x", PG_D_QUEUED, T0);
		if ((e = pg_store_submit(f->st, &m, &d, 1, "r", &existing)) == PG_OK)
			ok++;
	}
	assert_int_equal(e, PG_ERR_FULL);
	assert_int_equal(m.id, 0);
	return ok;
}

/* At the cap new messages are refused, but everything about the messages
 * already taken - attempts, outcomes, ledger events, acknowledgements -
 * is stored in the reserve above it, well past the cap; a repeated
 * idempotency key still finds its message.  Past the reserve every write
 * is refused, and the stats say which. */
static void
test_cap_reserve(void **state)
{
	struct store_fx *f = *state;
	static char big[12000], note[60000];
	struct pg_message keep, m;
	struct pg_delivery kd, d;
	struct pg_store_stats ss;
	int64_t aid = 0, nmsg;
	bool existing, already;
	int n;
	pg_err e = PG_OK;

	memset(big, 'x', sizeof big - 1);
	memset(note, 'n', sizeof note - 1);
	fixture_store_reopen(f, 1);
	pg_store_stats(f->st, &ss);
	assert_false(ss.at_cap);
	assert_true(fill_to_cap(f, big, &keep, &kd) > 10);
	pg_store_stats(f->st, &ss);
	assert_true(ss.at_cap);
	assert_false(ss.no_room);
	assert_int_equal(ss.refused, 1);
	nmsg = sql_int(f, "SELECT count(*) FROM messages");

	/* The taken message's delivery goes on: attempt, outcome, ack. */
	assert_int_equal(pg_store_attempt_start(f->st, kd.id, T2, &aid), PG_OK);
	assert_int_equal(pg_store_attempt_finish(f->st, kd.id, aid, T2 + 1,
			 PG_OUT_OK, "250 ok", PG_D_SENT, 0), PG_OK);
	assert_int_equal(pg_store_ack(f->st, keep.id, kd.id, "email", "jane",
				      &already), PG_OK);
	/* Ledger rows past the cap by far: 40 x 60 kB is 2.4 MB more. */
	for (int i = 0; i < 40; i++)
		assert_int_equal(pg_store_event(f->st, keep.id, 0, "note", note), PG_OK);
	assert_true(sql_int(f, "PRAGMA page_count") *
		    sql_int(f, "PRAGMA page_size") > 3 * 1048576);
	assert_int_equal(pg_store_get_msg(f->st, keep.id, &m), PG_OK);
	assert_int_equal(m.state, PG_M_SENT);
	assert_true(m.acked_ms > 0);
	pg_message_free(&m);

	/* Still no new message; the same idempotency key answers the first. */
	msg_init(&m, "acme-hvac", "short", T2);
	del_init(&d, "office", PG_CH_EMAIL, "o@x", PG_D_QUEUED, T2);
	assert_int_equal(pg_store_submit(f->st, &m, &d, 1, "r", &existing),
			 PG_ERR_FULL);
	msg_init(&m, "acme-hvac", "first", T2);
	m.idem_key = "first-key";
	assert_int_equal(pg_store_submit(f->st, &m, &d, 1, "r", &existing), PG_OK);
	assert_true(existing);
	assert_int_equal(m.id, keep.id);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), nmsg);
	pg_store_stats(f->st, &ss);
	assert_int_equal(ss.refused, 2);
	assert_int_equal(ss.full_writes, 0);

	/* The reserve (16 MB over the 1 MB cap) runs out: refused too. */
	for (n = 0; n < 1000 && e == PG_OK; n++)
		e = pg_store_event(f->st, keep.id, 0, "note", note);
	assert_int_equal(e, PG_ERR_FULL);
	assert_true(n > 200);
	pg_store_stats(f->st, &ss);
	assert_true(ss.no_room);
	assert_true(ss.at_cap);
	assert_int_equal(ss.full_writes, 1);
	assert_true(sql_int(f, "PRAGMA page_count") * sql_int(f, "PRAGMA page_size")
		    <= (1 + PG_STORE_RESERVE_MIN_MB) * 1048576LL);
	assert_int_equal(sql_text(f, "PRAGMA integrity_check", (char[16]){ 0 },
				  16)[0], 'o');

	/* Opened again at its cap, it says so at once. */
	fixture_store_reopen(f, 1);
	pg_store_stats(f->st, &ss);
	assert_true(ss.at_cap);
	assert_false(ss.no_room);
	assert_int_equal(ss.refused, 0);

	/* Without the cap, room again. */
	fixture_store_reopen(f, 0);
	pg_store_stats(f->st, &ss);
	assert_false(ss.at_cap);
	assert_false(ss.no_room);
	msg_init(&m, "acme-hvac", "after", T2);
	del_init(&d, "office", PG_CH_EMAIL, "o@x", PG_D_QUEUED, T2);
	assert_int_equal(pg_store_submit(f->st, &m, &d, 1, "r", &existing), PG_OK);
}

#define FILLERS 8

struct filler {
	struct pg_store *st;
	pthread_barrier_t *bar;
	const char *text;
	int n_ok, n_full, n_other;
	int64_t ids[64];
};

/* Submits big messages until the store says it is full. */
static void *
filler_main(void *arg)
{
	struct filler *fl = arg;
	struct pg_message m;
	struct pg_delivery d[2];
	bool existing;
	pg_err e = PG_OK;

	pthread_barrier_wait(fl->bar);
	while (e == PG_OK && fl->n_ok < 64) {
		msg_init(&m, "acme-hvac", fl->text, T0);
		del_init(&d[0], "office", PG_CH_EMAIL, "o@x", PG_D_QUEUED, T0);
		del_init(&d[1], "jane", PG_CH_SMS, "+1555", PG_D_HELD, THOLD);
		e = pg_store_submit(fl->st, &m, d, 2, "r", &existing);
		if (e == PG_OK)
			fl->ids[fl->n_ok++] = m.id;
		else if (e == PG_ERR_FULL && m.id == 0 && d[0].id == 0)
			fl->n_full++;
		else
			fl->n_other++;
	}
	return NULL;
}

/* Many writers filling the store at once: whatever batches the writer
 * forms, each submit is either wholly stored or not at all. */
static void
test_full_concurrent(void **state)
{
	struct store_fx *f = *state;
	static char big[20000];
	struct filler fl[FILLERS];
	pthread_t t[FILLERS];
	pthread_barrier_t bar;
	struct pg_message m;
	int64_t ok = 0;

	memset(big, 'y', sizeof big - 1);
	fixture_store_reopen(f, 1);
	assert_int_equal(pthread_barrier_init(&bar, NULL, FILLERS), 0);
	for (int i = 0; i < FILLERS; i++) {
		fl[i] = (struct filler){ .st = f->st, .bar = &bar, .text = big };
		assert_int_equal(pthread_create(&t[i], NULL, filler_main, &fl[i]), 0);
	}
	for (int i = 0; i < FILLERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	for (int i = 0; i < FILLERS; i++) {
		assert_int_equal(fl[i].n_other, 0);
		assert_int_equal(fl[i].n_full, 1);
		ok += fl[i].n_ok;
		for (int j = 0; j < fl[i].n_ok; j++) {
			assert_int_equal(pg_store_get_msg(f->st, fl[i].ids[j], &m),
					 PG_OK);
			assert_string_equal(m.text, big);
			pg_message_free(&m);
		}
	}
	assert_true(ok > 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), ok);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries"), 2 * ok);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), 3 * ok);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries d LEFT JOIN "
				 "messages m ON m.id = d.message_id WHERE m.id "
				 "IS NULL"), 0);
}

/* A batch's attempts and outcomes (pg_store_attempt_record) are one
 * commit each, every entry written as the single calls write it, and an
 * entry that fails (a delivery already final, an unknown one, a bad
 * state) fails alone; an outcome and a next attempt share one commit. */
static void
test_attempts_many(void **state)
{
	struct store_fx *f = *state;
	struct pg_message m;
	struct pg_delivery d[5], got;
	struct pg_store_stats s0, s1;
	int64_t dids[6], aids[6];
	pg_err errs[6];
	struct pg_attempt_end v[5];
	char buf[256];
	bool existing;
	int i;

	msg_init(&m, "acme-hvac", "five devices", T0);
	for (i = 0; i < 5; i++)
		del_init(&d[i], "office", PG_CH_MQTT, "pages/acme/office", PG_D_QUEUED, T0);
	assert_int_equal(pg_store_submit(f->st, &m, d, 5, "r", &existing), PG_OK);
	for (i = 0; i < 5; i++)
		dids[i] = d[i].id;
	dids[5] = 999999;                         /* no such delivery */

	pg_store_stats(f->st, &s0);
	assert_int_equal(pg_store_attempt_record(f->st, NULL, 0, dids, 6, T2, aids, errs),
			 PG_ERR_NOTFOUND);
	pg_store_stats(f->st, &s1);
	assert_int_equal(s1.commits - s0.commits, 1);
	for (i = 0; i < 5; i++) {
		assert_int_equal(errs[i], PG_OK);
		assert_true(aids[i] > 0);
		assert_int_equal(pg_store_get_delivery(f->st, dids[i], &got), PG_OK);
		assert_int_equal(got.state, PG_D_SENDING);
		assert_int_equal(got.attempts, 1);
		pg_delivery_free(&got);
	}
	assert_int_equal(errs[5], PG_ERR_NOTFOUND);
	assert_int_equal(aids[5], 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM attempts"), 5);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE type = 'attempt_started'"), 5);

	/* outcomes: three sent, one retry, one with an impossible state */
	for (i = 0; i < 5; i++)
		v[i] = (struct pg_attempt_end){ .did = dids[i], .aid = aids[i],
			.at_ms = T2 + 5, .outcome = PG_OUT_OK, .reply = "PUBACK",
			.state = PG_D_SENT };
	v[3].outcome = PG_OUT_TEMP;
	v[3].reply = "connection lost";
	v[3].state = PG_D_QUEUED;
	v[3].next_try_ms = T2 + 60000;
	v[4].state = PG_D_SENDING;                /* refused before the store */
	pg_store_stats(f->st, &s0);
	assert_int_equal(pg_store_attempt_record(f->st, v, 5, NULL, 0, 0, NULL, NULL), PG_ERR_INVAL);
	pg_store_stats(f->st, &s1);
	assert_int_equal(s1.commits - s0.commits, 1);
	for (i = 0; i < 4; i++)
		assert_int_equal(v[i].err, PG_OK);
	assert_int_equal(v[4].err, PG_ERR_INVAL);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries WHERE state = 'sent'"), 3);
	assert_string_equal(sql_text(f, "SELECT state || ' ' || next_try_ms || ' ' || last_reply "
				     "FROM deliveries WHERE id = (SELECT max(id) - 1 FROM deliveries)",
				     buf, sizeof buf), "queued 1795362060000 connection lost");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE type = 'sent'"), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE type = 'retry_scheduled'"), 1);
	assert_int_equal(pg_store_get_delivery(f->st, dids[4], &got), PG_OK);
	assert_int_equal(got.state, PG_D_SENDING);  /* untouched: still to finish */
	pg_delivery_free(&got);
	/* the outcome of one (dids[4], sent) and the retry's attempt of
	 * another (dids[3]) together: one commit */
	v[4].state = PG_D_SENT;
	pg_store_stats(f->st, &s0);
	assert_int_equal(pg_store_attempt_record(f->st, &v[4], 1, &dids[3], 1, T2 + 10,
						 &aids[3], &errs[3]), PG_OK);
	pg_store_stats(f->st, &s1);
	assert_int_equal(s1.commits - s0.commits, 1);
	assert_int_equal(v[4].err, PG_OK);
	assert_int_equal(errs[3], PG_OK);
	assert_true(aids[3] > 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries WHERE state = 'sent'"), 4);
	assert_int_equal(pg_store_get_delivery(f->st, dids[3], &got), PG_OK);
	assert_int_equal(got.state, PG_D_SENDING);
	assert_int_equal(got.attempts, 2);
	pg_delivery_free(&got);
	/* nothing to do: no commit */
	pg_store_stats(f->st, &s0);
	assert_int_equal(pg_store_attempt_record(f->st, NULL, 0, dids, 0, T2, aids, errs), PG_OK);
	assert_int_equal(pg_store_attempt_record(f->st, v, 0, NULL, 0, 0, NULL, NULL), PG_OK);
	pg_store_stats(f->st, &s1);
	assert_int_equal(s1.commits, s0.commits);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_group_commit),
		T(test_full),
		T(test_full_concurrent),
		T(test_reserve_mb),
		T(test_cap_reserve),
		T(test_attempts_many),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
