/*
 * test_route.c - business hours, holidays, DST and rule evaluation.
 * Clients are built by hand; times are exact UTC instants written as UTC
 * wall times (U(...)) next to the Chicago wall time they stand for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pagegate/route.h"
#include "pagegate/tz.h"

/* UTC wall time -> seconds since the epoch. */
static int64_t U(int y, int m, int d, int hh, int mm)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400 + hh * 3600 + mm * 60;
}

#define DAY(d) (1u << (d))
#define MON_FRI (DAY(1) | DAY(2) | DAY(3) | DAY(4) | DAY(5))
#define EVERY_DAY 0x7fu
#define CH(c) (1u << (c))

/* ---- the test client: Acme in Chicago ---- */

static struct pg_device office_dev[] = {
	{ .channel = PG_CH_EMAIL, .to = "office@acme.example", .line = 1 },
};
static struct pg_device jane_dev[] = {
	{ .channel = PG_CH_EMAIL, .to = "jane@acme.example", .line = 2 },
	{ .channel = PG_CH_SMS, .to = "+15555550111", .line = 3 },
	{ .channel = PG_CH_PAGER, .to = "4412", .line = 4 },
};
static struct pg_device raj_dev[] = {
	{ .channel = PG_CH_SMS, .to = "+15555550112", .line = 5 },
};
enum { OFFICE = 0, JANE = 1, RAJ = 2 };
static struct pg_contact contacts[] = {
	{ .id = "office", .name = "Front office", .devices = office_dev, .n_devices = 1 },
	{ .id = "jane", .name = "Jane Ortiz", .devices = jane_dev, .n_devices = 3 },
	{ .id = "raj", .name = "Raj Patel", .devices = raj_dev, .n_devices = 1 },
};

static struct pg_hours acme_hours[] = {
	{ .days = MON_FRI, .from_min = 8 * 60, .to_min = 17 * 60 },
	{ .days = DAY(6), .from_min = 9 * 60, .to_min = 12 * 60 },
};
static struct pg_date acme_holidays[] = {
	{ 2026, 12, 25 }, { 2027, 1, 1 },
};

static size_t n_jro[] = { JANE, RAJ, OFFICE };
static size_t n_jo[] = { JANE, OFFICE };
static size_t n_j[] = { JANE };
static size_t n_o[] = { OFFICE };
static size_t n_oj[] = { OFFICE, JANE };

static struct pg_rule acme_rules[] = {
	{ .kind = PG_KIND_DISPATCH, .urgency = -1, .contacts = n_jro, .n_contacts = 3,
	  .channels = CH(PG_CH_SMS) | CH(PG_CH_PAGER), .line = 30 },
	{ .kind = -1, .urgency = PG_URG_EMERGENCY, .contacts = n_jo, .n_contacts = 2,
	  .line = 32 },
	{ .kind = -1, .urgency = PG_URG_URGENT, .hours = PG_HOURS_AFTER,
	  .contacts = n_j, .n_contacts = 1, .channels = CH(PG_CH_SMS), .cont = true,
	  .line = 34 },
	{ .kind = -1, .urgency = -1, .hours = PG_HOURS_BUSINESS,
	  .contacts = n_o, .n_contacts = 1, .channels = CH(PG_CH_EMAIL), .line = 36 },
	{ .kind = -1, .urgency = -1, .hours = PG_HOURS_AFTER,
	  .contacts = n_oj, .n_contacts = 2, .hold_business = true, .line = 38 },
};

static struct pg_client acme(void)
{
	struct pg_client c;
	memset(&c, 0, sizeof c);
	c.id = "acme-hvac";
	c.name = "Acme Heating & Cooling";
	c.tzid = "America/Chicago";
	c.tz = pg_tz_get(c.tzid);
	assert_non_null(c.tz);
	c.hours = acme_hours;
	c.n_hours = 2;
	c.holidays = acme_holidays;
	c.n_holidays = 2;
	c.contacts = contacts;
	c.n_contacts = 3;
	c.rules = acme_rules;
	c.n_rules = sizeof acme_rules / sizeof acme_rules[0];
	return c;
}

static void check_item(const struct pg_plan *p, size_t i, size_t contact,
		       size_t device, enum pg_channel_kind ch, int64_t hold, int line)
{
	assert_true(i < p->n);
	assert_int_equal(p->items[i].contact, contact);
	assert_int_equal(p->items[i].device, device);
	assert_int_equal(p->items[i].channel, ch);
	assert_int_equal(p->items[i].hold_until_s, hold);
	assert_int_equal(p->items[i].rule_line, line);
}

/* ---- business hours ---- */

static void test_business_vs_after(void **state)
{
	(void)state;
	struct pg_client c = acme();
	/* Monday 2026-11-23 (CST, -06:00). */
	assert_false(pg_client_open(&c, U(2026, 11, 23, 13, 59)));  /* 07:59 */
	assert_true(pg_client_open(&c, U(2026, 11, 23, 14, 0)));    /* 08:00 */
	assert_true(pg_client_open(&c, U(2026, 11, 23, 22, 59)));   /* 16:59 */
	assert_false(pg_client_open(&c, U(2026, 11, 23, 23, 0)));   /* 17:00 */
	/* Sunday is closed all day. */
	assert_false(pg_client_open(&c, U(2026, 11, 22, 18, 0)));   /* Sun 12:00 */
	/* Summer time (CDT, -05:00): Monday 2026-06-01 08:00 = 13:00Z. */
	assert_false(pg_client_open(&c, U(2026, 6, 1, 12, 59)));
	assert_true(pg_client_open(&c, U(2026, 6, 1, 13, 0)));
	assert_false(pg_client_open(&c, U(2026, 6, 1, 22, 0)));     /* 17:00 */
}

static void test_saturday_short_hours(void **state)
{
	(void)state;
	struct pg_client c = acme();
	/* Saturday 2026-11-21: 09:00-12:00 CST. */
	assert_false(pg_client_open(&c, U(2026, 11, 21, 14, 30)));  /* 08:30 */
	assert_true(pg_client_open(&c, U(2026, 11, 21, 15, 0)));    /* 09:00 */
	assert_true(pg_client_open(&c, U(2026, 11, 21, 17, 59)));   /* 11:59 */
	assert_false(pg_client_open(&c, U(2026, 11, 21, 18, 0)));   /* 12:00 */
	/* Saturday noon -> Monday 08:00 CST. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 11, 21, 18, 0)),
			 U(2026, 11, 23, 14, 0));
	/* Friday 18:00 -> Saturday 09:00. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 11, 21, 0, 0)),
			 U(2026, 11, 21, 15, 0));
}

static void test_holiday(void **state)
{
	(void)state;
	struct pg_client c = acme();
	/* Friday 2026-12-25 is a holiday: closed at 10:00 and at 16:59. */
	assert_false(pg_client_open(&c, U(2026, 12, 25, 16, 0)));
	assert_false(pg_client_open(&c, U(2026, 12, 25, 22, 59)));
	assert_true(pg_client_open(&c, U(2026, 12, 24, 16, 0)));    /* Thu 10:00 */
	/* Thursday 17:30 -> skips Friday -> Saturday 09:00 CST. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 12, 24, 23, 30)),
			 U(2026, 12, 26, 15, 0));
	/* New Year's Day 2027 (Friday) too. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 12, 31, 23, 30)),
			 U(2027, 1, 2, 15, 0));
	/* Open now -> now. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 12, 24, 16, 7)),
			 U(2026, 12, 24, 16, 7));
}

/* A holiday is a whole LOCAL day: with round-the-clock hours, 21:00 on
 * 24 December in Chicago (already the 25th in UTC) is open, 21:00 on the
 * 25th (the 26th in UTC) is not. */
static void test_holiday_is_local_date(void **state)
{
	(void)state;
	struct pg_hours all_day = { .days = EVERY_DAY, .from_min = 0, .to_min = 1440 };
	struct pg_client c = acme();
	c.hours = &all_day;
	c.n_hours = 1;
	assert_true(pg_client_open(&c, U(2026, 12, 25, 3, 0)));
	assert_false(pg_client_open(&c, U(2026, 12, 26, 3, 0)));
	assert_false(pg_client_open(&c, U(2026, 12, 25, 6, 0)));    /* 00:00 on the 25th */
	/* The 26th starts at 06:00Z. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 12, 26, 3, 0)),
			 U(2026, 12, 26, 6, 0));
}

/* ---- DST (America/Chicago 2026: 8 March 02:00 -> 03:00, 1 November
 * 02:00 -> 01:00) ---- */

static void test_dst_days(void **state)
{
	(void)state;
	struct pg_hours daily = { .days = EVERY_DAY, .from_min = 8 * 60, .to_min = 17 * 60 };
	struct pg_client c = acme();
	c.hours = &daily;
	c.n_hours = 1;

	/* Spring forward: 08:00 CDT = 13:00Z (the day before, 08:00 CST = 14:00Z). */
	assert_false(pg_client_open(&c, U(2026, 3, 8, 12, 59)));
	assert_true(pg_client_open(&c, U(2026, 3, 8, 13, 0)));
	assert_false(pg_client_open(&c, U(2026, 3, 7, 13, 59)));
	assert_true(pg_client_open(&c, U(2026, 3, 7, 14, 0)));
	/* Saturday 20:00 CST -> Sunday 08:00 CDT, across the change. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 3, 8, 2, 0)),
			 U(2026, 3, 8, 13, 0));

	/* Fall back: 08:00 CST = 14:00Z (the day before, 08:00 CDT = 13:00Z). */
	assert_false(pg_client_open(&c, U(2026, 11, 1, 13, 59)));
	assert_true(pg_client_open(&c, U(2026, 11, 1, 14, 0)));
	assert_true(pg_client_open(&c, U(2026, 10, 31, 13, 0)));
	assert_false(pg_client_open(&c, U(2026, 10, 31, 12, 59)));
	/* Saturday 20:00 CDT -> Sunday 08:00 CST. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 11, 1, 1, 0)),
			 U(2026, 11, 1, 14, 0));

	/* A rule for business hours routes to the office at 08:00 on both days,
	 * and after-hours (held) one minute earlier. */
	struct pg_plan p;
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE,
				  U(2026, 3, 8, 13, 0), &p), PG_OK);
	assert_true(p.open);
	assert_int_equal(p.n, 1);
	check_item(&p, 0, OFFICE, 0, PG_CH_EMAIL, 0, 36);
	pg_plan_free(&p);
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE,
				  U(2026, 11, 1, 13, 59), &p), PG_OK);
	assert_false(p.open);
	assert_int_equal(p.n, 4);
	check_item(&p, 0, OFFICE, 0, PG_CH_EMAIL, U(2026, 11, 1, 14, 0), 38);
	pg_plan_free(&p);
}

/* Weekday client: Saturday noon before the fall-back Sunday -> Monday
 * 08:00 CST; Friday evening before the spring-forward -> Saturday 09:00 CST. */
static void test_next_open_weekend_dst(void **state)
{
	(void)state;
	struct pg_client c = acme();
	assert_int_equal(pg_client_next_open(&c, U(2026, 10, 31, 17, 0)),  /* Sat 12:00 CDT */
			 U(2026, 11, 2, 14, 0));
	assert_int_equal(pg_client_next_open(&c, U(2026, 3, 6, 23, 0)),    /* Fri 17:00 CST */
			 U(2026, 3, 7, 15, 0));
	/* Saturday 12:00 CST before spring-forward -> Monday 08:00 CDT. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 3, 7, 18, 0)),
			 U(2026, 3, 9, 13, 0));
}

/* Opening hours that start inside the spring-forward gap open at its end;
 * a range wholly inside the gap never opens that day. */
static void test_opening_in_dst_gap(void **state)
{
	(void)state;
	struct pg_hours gap[] = {
		{ .days = DAY(0), .from_min = 2 * 60 + 30, .to_min = 3 * 60 + 30 },
	};
	struct pg_client c = acme();
	c.hours = gap;
	c.n_hours = 1;
	/* 03:00 CDT = 08:00Z. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 3, 7, 18, 0)),
			 U(2026, 3, 8, 8, 0));

	struct pg_hours inside[] = {
		{ .days = DAY(0), .from_min = 2 * 60 + 10, .to_min = 2 * 60 + 50 },
	};
	c.hours = inside;
	/* Next Sunday 02:10 CDT = 07:10Z on 15 March. */
	assert_int_equal(pg_client_next_open(&c, U(2026, 3, 7, 18, 0)),
			 U(2026, 3, 15, 7, 10));
}

static void test_no_hours(void **state)
{
	(void)state;
	struct pg_client c = acme();
	c.hours = NULL;
	c.n_hours = 0;
	assert_false(pg_client_open(&c, U(2026, 11, 23, 16, 0)));
	assert_int_equal(pg_client_next_open(&c, U(2026, 11, 23, 16, 0)), 0);
	/* Always after hours, and a hold rule holds nothing. */
	struct pg_plan p;
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE,
				  U(2026, 11, 23, 16, 0), &p), PG_OK);
	assert_false(p.open);
	assert_int_equal(p.n, 4);
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(p.items[i].hold_until_s, 0);
	pg_plan_free(&p);
}

/* ---- rules ---- */

static void test_first_match_decides(void **state)
{
	(void)state;
	struct pg_client c = acme();
	struct pg_plan p;
	/* Routine, Monday 10:00: the business rule only. */
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE,
				  U(2026, 11, 23, 16, 0), &p), PG_OK);
	assert_true(p.open);
	assert_int_equal(p.n_rules_matched, 1);
	assert_int_equal(p.n, 1);
	check_item(&p, 0, OFFICE, 0, PG_CH_EMAIL, 0, 36);
	pg_plan_free(&p);

	/* Emergency in business hours: rule 32 decides; rule 36 (which also
	 * matches) is not consulted.  Mask 0 = every device. */
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_EMERGENCY,
				  U(2026, 11, 23, 16, 0), &p), PG_OK);
	assert_int_equal(p.n_rules_matched, 1);
	assert_int_equal(p.n, 4);
	check_item(&p, 0, JANE, 0, PG_CH_EMAIL, 0, 32);
	check_item(&p, 1, JANE, 1, PG_CH_SMS, 0, 32);
	check_item(&p, 2, JANE, 2, PG_CH_PAGER, 0, 32);
	check_item(&p, 3, OFFICE, 0, PG_CH_EMAIL, 0, 32);
	pg_plan_free(&p);
}

static void test_channel_mask(void **state)
{
	(void)state;
	struct pg_client c = acme();
	struct pg_plan p;
	/* Dispatch: sms + pager only; the office (email only) gets nothing. */
	assert_int_equal(pg_route(&c, PG_KIND_DISPATCH, PG_URG_ROUTINE,
				  U(2026, 11, 23, 16, 0), &p), PG_OK);
	assert_int_equal(p.n_rules_matched, 1);
	assert_int_equal(p.n, 3);
	check_item(&p, 0, JANE, 1, PG_CH_SMS, 0, 30);
	check_item(&p, 1, JANE, 2, PG_CH_PAGER, 0, 30);
	check_item(&p, 2, RAJ, 0, PG_CH_SMS, 0, 30);
	pg_plan_free(&p);
}

/* Urgent after hours: rule 34 (continue) pages Jane by SMS, rule 38 adds
 * the office and Jane's other devices, held until Monday 08:00; Jane's SMS
 * is not repeated and keeps rule 34's "now". */
static void test_continue_and_duplicates(void **state)
{
	(void)state;
	struct pg_client c = acme();
	struct pg_plan p;
	int64_t at = U(2026, 11, 22, 3, 0);        /* Sat 21:00 CST */
	int64_t mon = U(2026, 11, 23, 14, 0);
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_URGENT, at, &p), PG_OK);
	assert_false(p.open);
	assert_int_equal(p.n_rules_matched, 2);
	assert_int_equal(p.n, 4);
	check_item(&p, 0, JANE, 1, PG_CH_SMS, 0, 34);
	check_item(&p, 1, OFFICE, 0, PG_CH_EMAIL, mon, 38);
	check_item(&p, 2, JANE, 0, PG_CH_EMAIL, mon, 38);
	check_item(&p, 3, JANE, 2, PG_CH_PAGER, mon, 38);
	pg_plan_free(&p);
}

/* Duplicates within one rule (a contact named twice) are dropped too. */
static void test_duplicate_contact_in_rule(void **state)
{
	(void)state;
	size_t twice[] = { RAJ, JANE, RAJ };
	struct pg_rule r = { .kind = -1, .urgency = -1, .contacts = twice,
			     .n_contacts = 3, .channels = CH(PG_CH_SMS), .line = 7 };
	struct pg_client c = acme();
	c.rules = &r;
	c.n_rules = 1;
	struct pg_plan p;
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE,
				  U(2026, 11, 23, 16, 0), &p), PG_OK);
	assert_int_equal(p.n, 2);
	check_item(&p, 0, RAJ, 0, PG_CH_SMS, 0, 7);
	check_item(&p, 1, JANE, 1, PG_CH_SMS, 0, 7);
	pg_plan_free(&p);
}

/* One catch-all after-hours rule with hold = "business": routine and
 * urgent messages wait for Monday 08:00; emergencies and dispatches go now. */
static void test_hold(void **state)
{
	(void)state;
	struct pg_rule r = { .kind = -1, .urgency = -1, .hours = PG_HOURS_AFTER,
			     .contacts = n_o, .n_contacts = 1, .hold_business = true,
			     .line = 40 };
	struct pg_client c = acme();
	c.rules = &r;
	c.n_rules = 1;
	int64_t at = U(2026, 11, 22, 3, 0);        /* Sat 21:00 CST */
	int64_t mon = U(2026, 11, 23, 14, 0);
	struct pg_plan p;

	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE, at, &p), PG_OK);
	assert_int_equal(p.n, 1);
	check_item(&p, 0, OFFICE, 0, PG_CH_EMAIL, mon, 40);
	pg_plan_free(&p);

	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_URGENT, at, &p), PG_OK);
	check_item(&p, 0, OFFICE, 0, PG_CH_EMAIL, mon, 40);
	pg_plan_free(&p);

	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_EMERGENCY, at, &p), PG_OK);
	assert_int_equal(p.n, 1);
	check_item(&p, 0, OFFICE, 0, PG_CH_EMAIL, 0, 40);
	pg_plan_free(&p);

	assert_int_equal(pg_route(&c, PG_KIND_DISPATCH, PG_URG_ROUTINE, at, &p), PG_OK);
	assert_int_equal(p.n, 1);
	check_item(&p, 0, OFFICE, 0, PG_CH_EMAIL, 0, 40);
	pg_plan_free(&p);

	/* A hold rule that matches in business hours holds nothing. */
	r.hours = PG_HOURS_ANY;
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE,
				  U(2026, 11, 23, 16, 0), &p), PG_OK);
	check_item(&p, 0, OFFICE, 0, PG_CH_EMAIL, 0, 40);
	pg_plan_free(&p);
}

static void test_no_rule_matched(void **state)
{
	(void)state;
	struct pg_rule r = { .kind = -1, .urgency = -1, .hours = PG_HOURS_BUSINESS,
			     .contacts = n_o, .n_contacts = 1, .line = 50 };
	struct pg_client c = acme();
	c.rules = &r;
	c.n_rules = 1;
	struct pg_plan p;
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE,
				  U(2026, 11, 22, 3, 0), &p), PG_OK);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.n_rules_matched, 0);
	assert_false(p.open);
	pg_plan_free(&p);

	/* A rule that matches but selects no device: matched, nothing to send. */
	r.hours = PG_HOURS_ANY;
	r.channels = CH(PG_CH_FAX);
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE,
				  U(2026, 11, 22, 3, 0), &p), PG_OK);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.n_rules_matched, 1);
	pg_plan_free(&p);

	/* No rules at all. */
	c.n_rules = 0;
	assert_int_equal(pg_route(&c, PG_KIND_DISPATCH, PG_URG_EMERGENCY,
				  U(2026, 11, 22, 3, 0), &p), PG_OK);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.n_rules_matched, 0);
	pg_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_business_vs_after),
		cmocka_unit_test(test_saturday_short_hours),
		cmocka_unit_test(test_holiday),
		cmocka_unit_test(test_holiday_is_local_date),
		cmocka_unit_test(test_dst_days),
		cmocka_unit_test(test_next_open_weekend_dst),
		cmocka_unit_test(test_opening_in_dst_gap),
		cmocka_unit_test(test_no_hours),
		cmocka_unit_test(test_first_match_decides),
		cmocka_unit_test(test_channel_mask),
		cmocka_unit_test(test_continue_and_duplicates),
		cmocka_unit_test(test_duplicate_contact_in_rule),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_no_rule_matched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
