/*
 * test_tz.c - time zone conversions over the system tz database: both
 * directions, DST gaps and overlaps (America/Chicago, Europe/Berlin),
 * formatting, unknown zones, and conversions from several threads.
 * Expected instants were computed independently (Python zoneinfo).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "pagegate/tz.h"

static const struct pg_tz *zone(const char *name)
{
	const struct pg_tz *tz = pg_tz_get(name);
	assert_non_null(tz);
	return tz;
}

static void test_lookup(void **state)
{
	(void)state;
	assert_string_equal(pg_tz_name(zone("America/Chicago")), "America/Chicago");
	assert_string_equal(pg_tz_name(zone("Europe/Berlin")), "Europe/Berlin");
	assert_string_equal(pg_tz_name(zone("UTC")), "UTC");
	/* the same zone object every time: zones live for the process */
	assert_ptr_equal(pg_tz_get("America/Chicago"), pg_tz_get("America/Chicago"));

	assert_null(pg_tz_get(NULL));
	assert_null(pg_tz_get(""));
	assert_null(pg_tz_get("America/Chicgo"));
	assert_null(pg_tz_get("Mars/Olympus_Mons"));
	assert_null(pg_tz_get("America"));            /* a directory */
	assert_null(pg_tz_get("../../../etc/passwd"));
	assert_null(pg_tz_get("/usr/share/zoneinfo/UTC"));
	assert_null(pg_tz_get("America/Chicago "));
}

static void test_local(void **state)
{
	(void)state;
	struct pg_localtime lt;

	/* 2026-07-01T17:00:00Z: 12:00 CDT, a Wednesday */
	pg_tz_local(zone("America/Chicago"), 1782925200, &lt);
	assert_int_equal(lt.year, 2026);
	assert_int_equal(lt.month, 7);
	assert_int_equal(lt.day, 1);
	assert_int_equal(lt.hour, 12);
	assert_int_equal(lt.min, 0);
	assert_int_equal(lt.sec, 0);
	assert_int_equal(lt.wday, 3);
	assert_int_equal(lt.utc_offset_s, -5 * 3600);

	/* 2026-11-22T15:34:00Z: Sunday 09:34 CST, 16:34 CET */
	pg_tz_local(zone("America/Chicago"), 1795361640, &lt);
	assert_int_equal(lt.day, 22);
	assert_int_equal(lt.hour, 9);
	assert_int_equal(lt.min, 34);
	assert_int_equal(lt.wday, 0);
	assert_int_equal(lt.utc_offset_s, -6 * 3600);
	pg_tz_local(zone("Europe/Berlin"), 1795361640, &lt);
	assert_int_equal(lt.hour, 16);
	assert_int_equal(lt.utc_offset_s, 3600);

	/* a local date differing from the UTC date: 2026-07-01T02:00Z is
	 * Tuesday June 30, 21:00 in Chicago */
	pg_tz_local(zone("America/Chicago"), 1782871200, &lt);
	assert_int_equal(lt.month, 6);
	assert_int_equal(lt.day, 30);
	assert_int_equal(lt.hour, 21);
	assert_int_equal(lt.wday, 2);

	/* the second before and the instant of the spring change */
	pg_tz_local(zone("America/Chicago"), 1772956799, &lt);
	assert_int_equal(lt.hour, 1);
	assert_int_equal(lt.min, 59);
	assert_int_equal(lt.sec, 59);
	assert_int_equal(lt.utc_offset_s, -6 * 3600);
	pg_tz_local(zone("America/Chicago"), 1772956800, &lt);
	assert_int_equal(lt.hour, 3);
	assert_int_equal(lt.min, 0);
	assert_int_equal(lt.utc_offset_s, -5 * 3600);

	/* the two occurrences of 01:30 on 2026-11-01 */
	pg_tz_local(zone("America/Chicago"), 1793514600, &lt);
	assert_int_equal(lt.hour, 1);
	assert_int_equal(lt.min, 30);
	assert_int_equal(lt.utc_offset_s, -5 * 3600);
	pg_tz_local(zone("America/Chicago"), 1793518200, &lt);
	assert_int_equal(lt.hour, 1);
	assert_int_equal(lt.min, 30);
	assert_int_equal(lt.utc_offset_s, -6 * 3600);

	pg_tz_local(zone("UTC"), 1795361640, &lt);
	assert_int_equal(lt.hour, 15);
	assert_int_equal(lt.utc_offset_s, 0);
	assert_int_equal(lt.wday, 0);

	pg_tz_local(zone("Asia/Kolkata"), 1795361640, &lt);
	assert_int_equal(lt.hour, 21);
	assert_int_equal(lt.min, 4);
	assert_int_equal(lt.utc_offset_s, 5 * 3600 + 1800);
}

static void test_utc_plain(void **state)
{
	(void)state;
	const struct pg_tz *chi = zone("America/Chicago");
	assert_int_equal(pg_tz_utc(chi, 2026, 7, 1, 12, 0, 0), 1782925200);
	assert_int_equal(pg_tz_utc(chi, 2026, 11, 22, 9, 34, 0), 1795361640);
	assert_int_equal(pg_tz_utc(chi, 2026, 6, 30, 21, 0, 0), 1782871200);
	assert_int_equal(pg_tz_utc(zone("Europe/Berlin"), 2026, 11, 22, 16, 34, 0), 1795361640);
	assert_int_equal(pg_tz_utc(zone("UTC"), 2026, 11, 22, 15, 34, 0), 1795361640);
	assert_int_equal(pg_tz_utc(zone("UTC"), 1970, 1, 1, 0, 0, 0), 0);
	/* around the spring gap, outside it */
	assert_int_equal(pg_tz_utc(chi, 2026, 3, 8, 1, 59, 59), 1772956799);
	assert_int_equal(pg_tz_utc(chi, 2026, 3, 8, 3, 0, 0), 1772956800);
	/* around the autumn overlap, outside it */
	assert_int_equal(pg_tz_utc(chi, 2026, 11, 1, 0, 59, 59), 1793512799);
	assert_int_equal(pg_tz_utc(chi, 2026, 11, 1, 2, 0, 0), 1793520000);
}

static void test_utc_gap(void **state)
{
	(void)state;
	/* skipped wall times map to the first instant after the gap */
	const struct pg_tz *chi = zone("America/Chicago");
	assert_int_equal(pg_tz_utc(chi, 2026, 3, 8, 2, 30, 0), 1772956800);  /* 08:00Z */
	assert_int_equal(pg_tz_utc(chi, 2026, 3, 8, 2, 0, 0), 1772956800);
	assert_int_equal(pg_tz_utc(chi, 2026, 3, 8, 2, 59, 59), 1772956800);
	const struct pg_tz *ber = zone("Europe/Berlin");
	assert_int_equal(pg_tz_utc(ber, 2026, 3, 29, 2, 30, 0), 1774746000);  /* 01:00Z */
	assert_int_equal(pg_tz_utc(ber, 2026, 3, 29, 1, 59, 0), 1774745940);  /* 00:59Z */
}

static void test_utc_overlap(void **state)
{
	(void)state;
	/* repeated wall times map to their first occurrence */
	const struct pg_tz *chi = zone("America/Chicago");
	assert_int_equal(pg_tz_utc(chi, 2026, 11, 1, 1, 30, 0), 1793514600);  /* 06:30Z */
	assert_int_equal(pg_tz_utc(chi, 2026, 11, 1, 1, 0, 0), 1793512800);   /* 06:00Z */
	assert_int_equal(pg_tz_utc(chi, 2026, 11, 1, 1, 59, 59), 1793516399);
	const struct pg_tz *ber = zone("Europe/Berlin");
	assert_int_equal(pg_tz_utc(ber, 2026, 10, 25, 2, 30, 0), 1792888200); /* 00:30Z */
	assert_int_equal(pg_tz_utc(ber, 2026, 10, 25, 3, 0, 0), 1792893600);  /* 02:00Z */
}

/* Every hour of 2026 in Chicago: local(utc(local(x))) == local(x), and
 * utc(local(x)) == x except for the second occurrence of a repeated hour. */
static void test_round_trip(void **state)
{
	(void)state;
	const struct pg_tz *chi = zone("America/Chicago");
	int64_t start = 1767225600;   /* 2026-01-01T00:00Z */
	int repeated = 0;
	for (int64_t t = start; t < start + 365 * 86400; t += 3600) {
		struct pg_localtime a, b;
		pg_tz_local(chi, t, &a);
		int64_t u = pg_tz_utc(chi, a.year, a.month, a.day, a.hour, a.min, a.sec);
		if (u != t) {
			assert_int_equal(u, t - 3600);   /* first occurrence */
			repeated++;
		}
		pg_tz_local(chi, u, &b);
		assert_int_equal(a.hour, b.hour);
		assert_int_equal(a.day, b.day);
	}
	assert_int_equal(repeated, 1);
}

static void test_format(void **state)
{
	(void)state;
	char buf[64];
	pg_tz_format(zone("America/Chicago"), 1795361640, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-22 09:34 (-06:00)");
	pg_tz_format(zone("America/Chicago"), 1782925200, buf, sizeof buf);
	assert_string_equal(buf, "2026-07-01 12:00 (-05:00)");
	pg_tz_format(zone("Europe/Berlin"), 1795361640, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-22 16:34 (+01:00)");
	pg_tz_format(zone("UTC"), 1795361640, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-22 15:34 (+00:00)");
	pg_tz_format(zone("Asia/Kolkata"), 1795361640, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-22 21:04 (+05:30)");
	char small[11];
	pg_tz_format(zone("UTC"), 1795361640, small, sizeof small);
	assert_string_equal(small, "2026-11-22");
}

struct worker { const struct pg_tz *tz; int bad; };

static void *convert_many(void *arg)
{
	struct worker *w = arg;
	for (int64_t t = 1767225600; t < 1767225600 + 2 * 365 * 86400; t += 7 * 3600) {
		struct pg_localtime lt;
		pg_tz_local(w->tz, t, &lt);
		if (pg_tz_utc(w->tz, lt.year, lt.month, lt.day, lt.hour, lt.min, lt.sec) > t)
			w->bad++;
	}
	return NULL;
}

/* Conversions are called from many threads at once. */
static void test_threads(void **state)
{
	(void)state;
	const char *names[] = { "America/Denver", "Europe/Paris", "America/Denver", "Europe/Paris" };
	pthread_t th[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i].tz = zone(names[i]);
		w[i].bad = 0;
		assert_int_equal(pthread_create(&th[i], NULL, convert_many, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_utc_plain),
		cmocka_unit_test(test_utc_gap),
		cmocka_unit_test(test_utc_overlap),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
