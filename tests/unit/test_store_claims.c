/*
 * test_store_claims.c - the conformance suite of the store backends'
 * operations for several nodes on one store (store_backend.h: exclusive,
 * claim, renew, claim_check, next_due, esc_due, lock_message, notify,
 * listen), run like the rest of the suite
 * (store_backend_suite.h).  A backend that serves one process (SQLite)
 * leaves them NULL: its tests are skipped, not passed.  t_store_pg runs
 * them against PostgreSQL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_backend_suite.h"

#define ALL_CH (STORE_DCH(PG_CH_EMAIL) | STORE_DCH(PG_CH_SMS))

/* Skips the test when the backend has no claims. */
#define NEED_CLAIMS(f) do { if (!(f)->be->claim) { skip(); return; } } while (0)

/* Inserts a delivery of message mid due at next (T0-based: long past). */
static int64_t
due_del(struct fx *f, int64_t mid, enum pg_channel_kind ch, int prio,
	int64_t next, enum pg_dstate st)
{
	struct pg_delivery d;

	del_init(&d, mid, ch, "x@example.com", st);
	d.priority = prio;
	d.next_try_ms = next;
	w_begin(f);
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	w_commit(f);
	return d.id;
}

static bool
has(const struct pg_claim *v, size_t n, int64_t did)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].did == did)
			return true;
	return false;
}

/* Claims take the due rows most urgent first, skip a row another
 * transaction has locked instead of waiting for it, never give one row to
 * two live claims, and only on the channels asked. */
static void
test_claim_disjoint(void **state)
{
	struct fx *f = *state;
	struct pg_sb *w2;
	struct pg_claim a[16], b[16];
	size_t na, nb;
	bool holds = true;
	int64_t mid = add_msg(f, "acme", T0, ""), far = pg_now_ms() + 3600000;
	int64_t d1 = due_del(f, mid, PG_CH_EMAIL, 2, T0, PG_D_QUEUED),
		d2 = due_del(f, mid, PG_CH_EMAIL, 0, T0 + 5, PG_D_QUEUED),
		d3 = due_del(f, mid, PG_CH_SMS, 1, T0, PG_D_QUEUED),
		d4 = due_del(f, mid, PG_CH_EMAIL, 2, T0 + 1, PG_D_HELD),
		later = due_del(f, mid, PG_CH_EMAIL, 0, far, PG_D_QUEUED),
		sent = due_del(f, mid, PG_CH_EMAIL, 0, T0, PG_D_SENT),
		fax = due_del(f, mid, PG_CH_FAX, 0, T0, PG_D_QUEUED);

	NEED_CLAIMS(f);
	assert_int_equal(f->be->open(f->target, false, 0, &w2), PG_OK);
	/* d1 locked by the writer's open transaction: skipped, no wait */
	w_begin(f);
	assert_int_equal(f->be->claim_check(f->w, d1, 1, false, &holds), PG_OK);
	assert_false(holds);
	assert_int_equal(f->be->claim(w2, "a", ALL_CH, 60000, 2, a, &na), PG_OK);
	assert_int_equal(na, 2);
	assert_int_equal(a[0].did, d2);                /* priority 0 first */
	assert_int_equal(a[1].did, d3);
	assert_int_equal(a[1].channel, PG_CH_SMS);
	assert_true(a[0].token != a[1].token && a[0].token > 0);
	assert_true(a[0].lease_until_ms > pg_now_ms() + 30000);
	assert_int_equal(f->be->claim(w2, "a", ALL_CH, 60000, 16, b, &nb), PG_OK);
	assert_int_equal(nb, 1);
	assert_int_equal(b[0].did, d4);                /* held, due */
	assert_int_equal(b[0].state, PG_D_HELD);
	assert_int_equal(f->be->rollback(f->w), PG_OK);
	/* now d1 is free; everything else due is claimed by "a" */
	assert_int_equal(f->be->claim(w2, "b", ALL_CH, 60000, 16, b, &nb), PG_OK);
	assert_int_equal(nb, 1);
	assert_int_equal(b[0].did, d1);
	assert_false(has(a, na, d1));
	assert_int_equal(f->be->claim(w2, "b", ALL_CH, 60000, 16, b, &nb), PG_OK);
	assert_int_equal(nb, 0);
	/* the fax channel was never asked for; not due, sent: never */
	assert_int_equal(f->be->claim(w2, "c", STORE_DCH(PG_CH_FAX), 60000, 16, b,
				      &nb), PG_OK);
	assert_int_equal(nb, 1);
	assert_int_equal(b[0].did, fax);
	(void)later;
	(void)sent;
	f->be->close(w2);
}

/* A lease that ran out returns the row, with a new token; the old token
 * then holds nothing (its outcome would be refused), renew keeps only live
 * leases, and a released claim makes the row claimable when it is due. */
static void
test_claim_lease(void **state)
{
	struct fx *f = *state;
	struct pg_claim a[4], b[4];
	struct pg_delivery d;
	size_t na, nb, kept;
	bool holds;
	int64_t mid = add_msg(f, "acme", T0, ""), ms;
	int64_t d1 = due_del(f, mid, PG_CH_EMAIL, 1, T0, PG_D_QUEUED);

	NEED_CLAIMS(f);
	assert_int_equal(f->be->next_due(f->w, ALL_CH, &ms), PG_OK);
	assert_int_equal(ms, 0);                       /* d1 is due */
	assert_int_equal(f->be->claim(f->w, "a", ALL_CH, 1, 4, a, &na), PG_OK);
	assert_int_equal(na, 1);
	usleep(20000);                                 /* the 1 ms lease ends */
	/* ran out but nobody took it: still a's, renewed */
	assert_int_equal(f->be->renew(f->w, "a", &a[0].token, 1, 1, &kept), PG_OK);
	assert_int_equal(kept, 1);
	usleep(20000);
	assert_int_equal(f->be->claim(f->w, "b", ALL_CH, 60000, 4, b, &nb), PG_OK);
	assert_int_equal(nb, 1);
	assert_int_equal(b[0].did, d1);
	assert_true(b[0].token != a[0].token);
	assert_int_equal(f->be->renew(f->w, "a", &a[0].token, 1, 60000, &kept), PG_OK);
	assert_int_equal(kept, 0);                     /* now b's */
	assert_int_equal(f->be->renew(f->w, "b", &b[0].token, 1, 60000, &kept), PG_OK);
	assert_int_equal(kept, 1);
	assert_int_equal(f->be->renew(f->w, "a", &b[0].token, 1, 60000, &kept), PG_OK);
	assert_int_equal(kept, 0);                     /* not a's */
	/* claimed, with a live lease: due in about a minute, not now */
	assert_int_equal(f->be->next_due(f->w, ALL_CH, &ms), PG_OK);
	assert_true(ms > 30000 && ms <= 60000);
	assert_int_equal(f->be->next_due(f->w, STORE_DCH(PG_CH_FAX), &ms), PG_OK);
	assert_int_equal(ms, -1);
	w_begin(f);
	assert_int_equal(f->be->claim_check(f->w, d1, a[0].token, true, &holds), PG_OK);
	assert_false(holds);                           /* a's outcome: refused */
	assert_int_equal(f->be->claim_check(f->w, d1, b[0].token, true, &holds), PG_OK);
	assert_true(holds);                            /* b's: recorded, released */
	assert_int_equal(f->be->claim_check(f->w, d1 + 1000, 1, false, &holds),
			 PG_ERR_NOTFOUND);
	w_commit(f);
	/* released and still due: claimable at once */
	assert_int_equal(f->be->claim(f->w, "c", ALL_CH, 60000, 4, b, &nb), PG_OK);
	assert_int_equal(nb, 1);
	/* a node that died while sending: its row returns after the lease */
	w_begin(f);
	assert_int_equal(f->be->get_delivery(f->w, d1, &d), PG_OK);
	d.state = PG_D_SENDING;
	assert_int_equal(f->be->update_delivery(f->w, &d), PG_OK);
	pg_delivery_free(&d);
	w_commit(f);
	assert_int_equal(f->be->claim(f->w, "d", ALL_CH, 60000, 4, a, &na), PG_OK);
	assert_int_equal(na, 0);                       /* c's lease lives */
	assert_int_equal(f->be->claim(f->w, "c", ALL_CH, 1, 4, a, &na), PG_OK);
	assert_int_equal(na, 0);
	assert_int_equal(f->be->renew(f->w, "c", &b[0].token, 1, 1, &kept), PG_OK);
	assert_int_equal(kept, 1);                     /* now a 1 ms lease */
	usleep(20000);
	assert_int_equal(f->be->claim(f->w, "d", ALL_CH, 60000, 4, a, &na), PG_OK);
	assert_int_equal(na, 1);
	assert_int_equal(a[0].state, PG_D_SENDING);
}

/* One writer per store: a second writer's exclusive is refused while the
 * first lives, granted once it is closed. */
static void
test_exclusive(void **state)
{
	struct fx *f = *state;
	struct pg_sb *w2;

	if (!f->be->exclusive) {
		skip();
		return;
	}
	assert_int_equal(f->be->exclusive(f->w), PG_OK);
	assert_int_equal(f->be->open(f->target, false, 0, &w2), PG_OK);
	assert_int_equal(f->be->exclusive(w2), PG_ERR_STORE);
	f->be->close(f->w);
	f->w = NULL;
	assert_int_equal(f->be->exclusive(w2), PG_OK);
	f->w = w2;
}

/* A message's escalation state, next due time and acknowledgement. */
static void
set_esc(struct fx *f, int64_t mid, int64_t next, enum pg_esc_state st,
	int64_t acked)
{
	struct pg_message m = { .id = mid, .esc_fired = 1, .esc_next_ms = next,
		.esc_state = st, .acked_ms = acked, .acked_by = acked ? "x" : NULL };

	w_begin(f);
	assert_int_equal(f->be->update_message(f->w, &m, STORE_M_ESC | STORE_M_ACK),
			 PG_OK);
	w_commit(f);
}

/* Due escalations: active, unacknowledged and due by the database's
 * clock, most overdue first; one locked by another transaction is
 * skipped, not waited for; lock_message locks an existing row. */
static void
test_esc_due(void **state)
{
	struct fx *f = *state;
	struct pg_sb *w2;
	int64_t mids[8], now = 0, far = pg_now_ms() + 3600000;
	int64_t a = add_msg(f, "acme", T0, ""), b = add_msg(f, "acme", T0, ""),
		later = add_msg(f, "acme", T0, ""), done = add_msg(f, "acme", T0, ""),
		acked = add_msg(f, "acme", T0, "");
	size_t n;

	if (!f->be->esc_due || !f->be->lock_message) {
		skip();
		return;
	}
	set_esc(f, a, T0, PG_ES_ACTIVE, 0);
	set_esc(f, b, T0 + 5, PG_ES_ACTIVE, 0);
	set_esc(f, later, far, PG_ES_ACTIVE, 0);
	set_esc(f, done, T0, PG_ES_EXHAUSTED, 0);
	set_esc(f, acked, T0, PG_ES_ACTIVE, T0 + 1);
	assert_int_equal(f->be->open(f->target, false, 0, &w2), PG_OK);
	w_begin(f);
	assert_int_equal(f->be->esc_due(f->w, 1, mids, &n, &now), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(mids[0], a);                  /* most overdue */
	assert_true(now > pg_now_ms() - 60000 && now < pg_now_ms() + 60000);
	/* a is locked by f's transaction: another session skips it */
	assert_int_equal(f->be->esc_due(w2, 8, mids, &n, &now), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(mids[0], b);
	w_commit(f);
	assert_int_equal(f->be->esc_due(w2, 8, mids, &n, &now), PG_OK);
	assert_int_equal(n, 2);                        /* not later, done, acked */
	w_begin(f);
	assert_int_equal(f->be->lock_message(f->w, acked), PG_OK);
	assert_int_equal(f->be->lock_message(f->w, acked + 1000), PG_ERR_NOTFOUND);
	f->be->rollback(f->w);
	f->be->close(w2);
}

struct heard { int n; char last[64]; };

static void
heard(void *arg, const char *channel, const char *payload)
{
	struct heard *h = arg;

	h->n++;
	snprintf(h->last, sizeof h->last, "%s %s", channel, payload);
}

/* A notification goes out when its transaction commits, never for one
 * rolled back, to a session listening on the store's channel. */
static void
test_notify(void **state)
{
	static const char *const chans[] = { "pagegate_test", NULL };
	struct fx *f = *state;
	struct heard h = { 0 };
	struct pg_sb *l;

	if (!f->be->notify || !f->be->listen) {
		skip();
		return;
	}
	assert_int_equal(f->be->open(f->target, true, 0, &l), PG_OK);
	assert_int_equal(f->be->listen(l, chans, 0, heard, &h), PG_OK);
	w_begin(f);
	assert_int_equal(f->be->notify(f->w, "pagegate_test", "rolled back"), PG_OK);
	f->be->rollback(f->w);
	w_begin(f);
	assert_int_equal(f->be->notify(f->w, "pagegate_test", "42 received"), PG_OK);
	assert_int_equal(f->be->listen(l, chans, 50, heard, &h), PG_OK);
	assert_int_equal(h.n, 0);                      /* not committed yet */
	w_commit(f);
	for (int i = 0; i < 20 && h.n == 0; i++)
		assert_int_equal(f->be->listen(l, chans, 100, heard, &h), PG_OK);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.last, "pagegate_test 42 received");
	assert_int_equal(f->be->ping(l), PG_OK);
	f->be->close(l);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_claim_disjoint),
		T(test_claim_lease),
		T(test_exclusive),
		T(test_esc_due),
		T(test_notify),
#undef T
	};

	return suite_run(tests, sizeof tests / sizeof tests[0]);
}
