/*
 * test_backoff.c - retry timing: exact delays at the jitter extremes and
 * the middle, the cap, overflow safety and the give-up boundary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <cmocka.h>

#include "pagegate/backoff.h"

#define RND_LOW  0u
#define RND_MID  0x80000000u
#define RND_HIGH UINT32_MAX

static const struct pg_retry_policy pol = {
	.base_s = 30, .cap_s = 3600, .give_up_s = 86400,
};

static void
test_first_retry(void **st)
{
	(void)st;
	assert_int_equal(pg_backoff_ms(&pol, 1, RND_LOW), 24000);   /* 30 s * 0.8 */
	assert_int_equal(pg_backoff_ms(&pol, 1, RND_MID), 30000);
	assert_int_equal(pg_backoff_ms(&pol, 1, RND_HIGH), 36000);  /* 30 s * 1.2 */
}

static void
test_doubling(void **st)
{
	(void)st;
	assert_int_equal(pg_backoff_ms(&pol, 2, RND_MID), 60000);
	assert_int_equal(pg_backoff_ms(&pol, 2, RND_LOW), 48000);
	assert_int_equal(pg_backoff_ms(&pol, 2, RND_HIGH), 72000);
	assert_int_equal(pg_backoff_ms(&pol, 3, RND_MID), 120000);
	/* 30 * 2^6 = 1920 s, still under the cap even with +20 % */
	assert_int_equal(pg_backoff_ms(&pol, 7, RND_MID), 1920000);
	assert_int_equal(pg_backoff_ms(&pol, 7, RND_HIGH), 2304000);
}

static void
test_cap(void **st)
{
	(void)st;
	/* 30 * 2^7 = 3840 s > 3600 s cap */
	assert_int_equal(pg_backoff_ms(&pol, 8, RND_LOW), 2880000);
	assert_int_equal(pg_backoff_ms(&pol, 8, RND_MID), 3600000);
	assert_int_equal(pg_backoff_ms(&pol, 8, RND_HIGH), 3600000); /* never above cap */
	/* base already above the cap */
	struct pg_retry_policy p = { .base_s = 100, .cap_s = 50, .give_up_s = 10 };
	assert_int_equal(pg_backoff_ms(&p, 1, RND_HIGH), 50000);
	assert_int_equal(pg_backoff_ms(&p, 1, RND_LOW), 40000);
}

static void
test_huge_attempts(void **st)
{
	(void)st;
	int n[] = { 30, 62, 63, 64, 65, 1000, INT_MAX };
	for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
		assert_int_equal(pg_backoff_ms(&pol, n[i], RND_LOW), 2880000);
		assert_int_equal(pg_backoff_ms(&pol, n[i], RND_HIGH), 3600000);
	}
	struct pg_retry_policy big = { .base_s = INT_MAX, .cap_s = INT_MAX, .give_up_s = INT_MAX };
	assert_int_equal(pg_backoff_ms(&big, 40, RND_HIGH), (int64_t)INT_MAX * 1000);
	assert_int_equal(pg_backoff_ms(&big, INT_MAX, RND_MID), (int64_t)INT_MAX * 1000);
	/* attempts below 1 behave as the first retry */
	assert_int_equal(pg_backoff_ms(&pol, 0, RND_MID), 30000);
	assert_int_equal(pg_backoff_ms(&pol, -5, RND_LOW), 24000);
}

static void
test_monotonic(void **st)
{
	(void)st;
	uint32_t r[] = { RND_LOW, RND_MID, RND_HIGH, 12345u };
	for (size_t k = 0; k < 4; k++) {
		int64_t prev = 0;
		for (int a = 1; a < 200; a++) {
			int64_t d = pg_backoff_ms(&pol, a, r[k]);
			assert_true(d >= prev);
			assert_true(d <= 3600000);
			prev = d;
		}
	}
}

static void
test_give_up_boundary(void **st)
{
	(void)st;
	int64_t next = -1;
	const int64_t now = 1700000000000;

	/* first retry with the lowest jitter is due at now + 24 s */
	assert_true(pg_backoff_next(&pol, 1, now, now + 24001, RND_LOW, &next));
	assert_int_equal(next, now + 24000);
	next = -1;
	assert_false(pg_backoff_next(&pol, 1, now, now + 24000, RND_LOW, &next));
	assert_int_equal(next, -1);   /* untouched when giving up */
	assert_false(pg_backoff_next(&pol, 1, now, now - 1, RND_LOW, &next));
	/* the highest jitter needs more room */
	assert_false(pg_backoff_next(&pol, 1, now, now + 36000, RND_HIGH, &next));
	assert_true(pg_backoff_next(&pol, 1, now, now + 36001, RND_HIGH, &next));
	assert_int_equal(next, now + 36000);
	/* no overflow near the end of time */
	assert_false(pg_backoff_next(&pol, 1, INT64_MAX - 10, INT64_MAX, RND_MID, &next));
	assert_true(pg_backoff_next(&pol, 1000, now, INT64_MAX, RND_HIGH, &next));
	assert_int_equal(next, now + 3600000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_retry),
		cmocka_unit_test(test_doubling),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_huge_attempts),
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_give_up_boundary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
