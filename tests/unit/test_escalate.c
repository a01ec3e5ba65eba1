/*
 * test_escalate.c - escalation without a network: the timeline of a
 * policy, the recipients of each step (on-call resolved at the step's
 * instant), and the store's escalation writes on a real SQLite file - an
 * acknowledgement committed first stops every later step and cancels the
 * steps' pending deliveries, exhaustion flags the message, cancel and
 * re-trigger.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "pagegate/escalate.h"
#include "pagegate/oncall.h"
#include "pagegate/store.h"
#include "pagegate/util.h"

#define T0  1795361640000LL   /* 2026-11-22T15:34:00Z */

/* ---- pure: timeline and steps ---- */

static struct pg_device jane_dev[] = { { .channel = PG_CH_SMS, .to = "+15555550111" } };
static struct pg_device raj_dev[] = { { .channel = PG_CH_EMAIL, .to = "raj@x.example" } };
static struct pg_contact contacts[] = {
	{ .id = "jane", .name = "Jane", .devices = jane_dev, .n_devices = 1 },
	{ .id = "raj", .name = "Raj", .devices = raj_dev, .n_devices = 1 },
};
static size_t step1_c[] = { 0 }, step2_c[] = { 1 };
static struct pg_esc_step steps[] = {
	{ .target = { .contacts = step1_c, .n_contacts = 1 }, .wait_s = 300 },
	{ .target = { .contacts = step2_c, .n_contacts = 1, .channels = 1u << PG_CH_EMAIL },
	  .wait_s = 600 },
};
static struct pg_escalation policy = { .id = "em", .repeat = 2, .steps = steps, .n_steps = 2 };
static struct pg_rule rules[] = { { .kind = -1, .urgency = -1, .escalate = 1 } };
static struct pg_client client = {
	.id = "acme", .contacts = contacts, .n_contacts = 2,
	.escalations = &policy, .n_escalations = 1, .rules = rules, .n_rules = 1,
};

static void test_timeline(void **state)
{
	(void)state;
	assert_int_equal(pg_esc_total(&policy), 4);
	assert_int_equal(pg_esc_step_at(&policy, 1000, 1), 1000);
	assert_int_equal(pg_esc_step_at(&policy, 1000, 2), 1300);
	assert_int_equal(pg_esc_step_at(&policy, 1000, 3), 1900);   /* round 2 */
	assert_int_equal(pg_esc_step_at(&policy, 1000, 4), 2200);
	assert_int_equal(pg_esc_end_at(&policy, 1000), 2800);
	assert_ptr_equal(pg_esc_step_of(&policy, 3), &steps[0]);
	assert_null(pg_esc_step_of(&policy, 5));
	assert_null(pg_esc_step_of(&policy, 0));
}

static void test_route_starts_and_steps(void **state)
{
	struct pg_plan p;
	struct pg_message m;

	(void)state;
	/* A rule with escalate and no notify: the plan is step 1 alone. */
	assert_int_equal(pg_route(&client, PG_KIND_DISPATCH, PG_URG_EMERGENCY, T0 / 1000, &p),
			 PG_OK);
	assert_int_equal(p.escalate, 1);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.items[0].contact, 0);
	assert_int_equal(p.items[0].esc_step, 1);
	assert_int_equal(p.items[0].hold_until_s, 0);
	memset(&m, 0, sizeof m);
	assert_int_equal(pg_esc_begin(&client, &p, &m, T0), PG_OK);
	assert_string_equal(m.esc_policy, "em");
	assert_int_equal(m.esc_fired, 1);
	assert_int_equal(m.esc_total, 4);
	assert_int_equal(m.esc_next_ms, T0 + 300000);
	assert_string_equal(pg_esc_state_name(m.esc_state), "active");
	pg_message_free(&m);
	pg_plan_free(&p);

	/* Step 2 reaches Raj by email only; step 4 too (round 2). */
	assert_int_equal(pg_route_step(&client, &policy, 4, T0 / 1000, &p), PG_OK);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.items[0].contact, 1);
	assert_int_equal(p.items[0].channel, PG_CH_EMAIL);
	assert_int_equal(p.items[0].esc_step, 4);
	pg_plan_free(&p);
	assert_int_equal(pg_route_step(&client, &policy, 5, T0 / 1000, &p), PG_ERR_INVAL);
}

/* ---- the store ---- */

struct fx {
	char dir[64];
	char db[128];
	struct pg_store *st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	if (fixture_tmpdb(f->dir, f->db, "esc") != 0)
		return -1;
	*state = f;
	return pg_store_open(f->db, 0, &f->st) == PG_OK ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fixture_store_done(f->st, f->dir);
	free(f);
	return 0;
}

static void delivery(struct pg_delivery *d, const char *who, int step)
{
	memset(d, 0, sizeof *d);
	d->contact_id = (char *)who;
	d->contact_name = (char *)who;
	d->channel = PG_CH_EMAIL;
	d->address = (char *)"x@example.org";
	d->state = PG_D_QUEUED;
	d->next_try_ms = T0;
	d->expires_ms = T0 + 3600000;
	d->esc_step = step;
}

/* A dispatch with policy "em" (total steps) and step 1 to jane queued,
 * plus one plain delivery to the office. */
static int64_t submit(struct fx *f, int total)
{
	struct pg_message m = {
		.client_id = "acme", .kind = PG_KIND_DISPATCH, .urgency = PG_URG_EMERGENCY,
		.caller_name = "Ann", .caller_phone = "555", .text = "No heat",
		.operator_name = "op", .received_ms = T0, .esc_policy = "em",
		.esc_fired = 1, .esc_total = total, .esc_next_ms = T0 + 300000,
	};
	struct pg_delivery d[2];

	m.esc_state = PG_ES_ACTIVE;
	delivery(&d[0], "jane", 1);
	delivery(&d[1], "office", 0);
	assert_int_equal(pg_store_submit(f->st, &m, d, 2, NULL, NULL), PG_OK);
	return m.id;
}

static int64_t q(struct fx *f, const char *sql)
{
	return fixture_sql_int(f->db, sql);
}

static void test_ack_wins_over_a_later_step(void **state)
{
	struct fx *f = *state;
	int64_t mid = submit(f, 3);
	struct pg_delivery d;
	struct pg_message m;
	bool applied = true, already;

	/* Step 2 fires: a delivery to raj, esc_fired 2. */
	delivery(&d, "raj", 0);
	assert_int_equal(pg_store_esc_advance(f->st, mid, 1, &d, 1, T0 + 600000, false,
					      "step 2 of 3", &applied), PG_OK);
	assert_true(applied);
	assert_int_equal(d.esc_step, 2);
	/* A stale timer (expects 1 fired) does nothing. */
	assert_int_equal(pg_store_esc_advance(f->st, mid, 1, NULL, 0, 0, false, "late",
					      &applied), PG_OK);
	assert_false(applied);
	/* The ack: escalation "acked", the steps' queued deliveries are
	 * cancelled, the office's plain delivery is not. */
	assert_int_equal(pg_store_ack(f->st, mid, 0, "sms", "Jane", &already), PG_OK);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE state = 'cancelled'"
			   " AND esc_step > 0"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE state = 'queued'"
			   " AND contact_id = 'office'"), 1);
	assert_int_equal(pg_store_get_msg(f->st, mid, &m), PG_OK);
	assert_string_equal(pg_esc_state_name(m.esc_state), "acked");
	pg_message_free(&m);
	/* Step 3 after the ack is refused, nothing stored. */
	delivery(&d, "office", 0);
	assert_int_equal(pg_store_esc_advance(f->st, mid, 2, &d, 1, T0 + 900000, false,
					      "step 3 of 3", &applied), PG_OK);
	assert_false(applied);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM events WHERE type = 'escalated'"), 1);
}

static void test_exhausted_flag_and_filter(void **state)
{
	struct fx *f = *state;
	int64_t mid = submit(f, 1), other = submit(f, 1), n = -1;
	struct pg_list_filter lf = { .unacknowledged = true, .limit = 10 };
	struct pg_message *v, m;
	size_t nv;
	bool applied, already;

	(void)other;
	assert_int_equal(pg_store_esc_advance(f->st, mid, 1, NULL, 0, 0, false,
					      "nobody acknowledged", &applied), PG_OK);
	assert_true(applied);
	assert_int_equal(pg_store_count_unacked(f->st, &n), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(pg_store_list(f->st, &lf, &v, &nv), PG_OK);
	assert_int_equal(nv, 1);
	assert_int_equal(v[0].id, mid);
	assert_string_equal(pg_esc_state_name(v[0].esc_state), "exhausted");
	pg_message_list_free(v, nv);
	assert_int_equal(q(f, "SELECT count(*) FROM events WHERE type = 'unacknowledged'"), 1);
	/* A late ack clears the flag. */
	assert_int_equal(pg_store_ack(f->st, mid, 0, "api", "operator", &already), PG_OK);
	assert_int_equal(pg_store_count_unacked(f->st, &n), PG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pg_store_get_msg(f->st, mid, &m), PG_OK);
	assert_string_equal(pg_esc_state_name(m.esc_state), "acked");
	pg_message_free(&m);
}

static void esc_seen(int64_t mid, int64_t next, void *arg)
{
	int64_t *v = arg;

	v[0]++;
	v[1] = mid;
	v[2] = next;
}

static void test_cancel_and_restart(void **state)
{
	struct fx *f = *state;
	int64_t mid = submit(f, 3), next = 0, seen[3] = { 0 };
	struct pg_message m;
	size_t n = 0;
	bool already;

	assert_int_equal(pg_store_esc_load(f->st, esc_seen, seen), PG_OK);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], mid);
	assert_int_equal(seen[2], T0 + 300000);
	/* Cancel: every queued delivery of the message, plain ones too. */
	assert_int_equal(pg_store_cancel(f->st, mid, "operator op", "called back", &n), PG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(pg_store_get_msg(f->st, mid, &m), PG_OK);
	assert_string_equal(pg_esc_state_name(m.esc_state), "cancelled");
	assert_string_equal(pg_mstate_name(m.state), "cancelled");
	pg_message_free(&m);
	seen[0] = 0;
	assert_int_equal(pg_store_esc_load(f->st, esc_seen, seen), PG_OK);
	assert_int_equal(seen[0], 0);
	/* Re-trigger: out of range refused; from step 2 active, due now,
	 * an acknowledgement withdrawn. */
	assert_int_equal(pg_store_ack(f->st, mid, 0, "api", "x", &already), PG_OK);
	assert_int_equal(pg_store_esc_restart(f->st, mid, 4, "operator op", &next),
			 PG_ERR_INVAL);
	assert_int_equal(pg_store_esc_restart(f->st, mid, 2, "operator op", &next), PG_OK);
	assert_int_equal(pg_store_get_msg(f->st, mid, &m), PG_OK);
	assert_string_equal(pg_esc_state_name(m.esc_state), "active");
	assert_int_equal(m.esc_fired, 1);
	assert_int_equal(m.esc_next_ms, next);
	assert_int_equal(m.acked_ms, 0);
	pg_message_free(&m);
	assert_int_equal(pg_store_esc_restart(f->st, 999, 1, "operator op", &next),
			 PG_ERR_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeline),
		cmocka_unit_test(test_route_starts_and_steps),
		cmocka_unit_test_setup_teardown(test_ack_wins_over_a_later_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhausted_flag_and_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_restart, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
