/*
 * test_summary.c - when a client's summary is due (summary.h), a pure
 * function of the client's summary setting and the end of the last one:
 * every so long, or daily at a local time across a change of UTC offset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "pagegate/summary.h"
#include "pagegate/tz.h"
#include "pagegate/util.h"

/* UTC ms of an RFC 3339 time. */
static int64_t
at(const char *s)
{
	int64_t ms;

	assert_int_equal(pg_parse_iso8601(s, &ms), 0);
	return ms;
}

static void
test_due(void **state)
{
	struct pg_client cl;

	(void)state;
	memset(&cl, 0, sizeof cl);
	assert_int_equal(pg_summary_due(&cl, at("2026-11-01T12:00:00Z")), 0);   /* none */
	cl.summary.line = 3;
	cl.summary.every_s = 4 * 3600;
	assert_int_equal(pg_summary_due(&cl, at("2026-11-01T12:00:00Z")),
			 at("2026-11-01T16:00:00Z"));
	/* daily at 07:00 in Chicago: CDT (-05:00) before 1 November 2026, CST after */
	assert_non_null(cl.tz = pg_tz_get("America/Chicago"));
	cl.summary.every_s = 0;
	cl.summary.at_min = 7 * 60;
	assert_int_equal(pg_summary_due(&cl, at("2026-10-30T10:00:00Z")),     /* 05:00 CDT */
			 at("2026-10-30T12:00:00Z"));
	assert_int_equal(pg_summary_due(&cl, at("2026-10-30T12:00:00Z")),     /* just sent */
			 at("2026-10-31T12:00:00Z"));
	assert_int_equal(pg_summary_due(&cl, at("2026-10-31T12:00:00Z")),     /* over the change */
			 at("2026-11-01T13:00:00Z"));
	assert_int_equal(pg_summary_due(&cl, at("2026-11-01T13:00:00Z")),
			 at("2026-11-02T13:00:00Z"));
	/* late in the local evening: the next morning */
	assert_int_equal(pg_summary_due(&cl, at("2026-11-03T05:30:00Z")),     /* 23:30 CST */
			 at("2026-11-03T13:00:00Z"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
