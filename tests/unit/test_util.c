/* Unit tests of util.c and common.c: buffers, time, text checks, hashing. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/util.h"

static void
test_buf_bounds(void **state)
{
	struct pg_buf b;

	(void)state;
	pg_buf_init(&b, 10);
	assert_int_equal(pg_buf_adds(&b, "hello"), PG_OK);
	assert_int_equal(pg_buf_printf(&b, "%d", 12345), PG_OK);
	assert_string_equal(b.data, "hello12345");
	/* One byte past the ceiling fails and leaves the buffer as it was. */
	assert_int_equal(pg_buf_adds(&b, "x"), PG_ERR_TOOBIG);
	assert_int_equal(pg_buf_printf(&b, "%s", "y"), PG_ERR_TOOBIG);
	assert_string_equal(b.data, "hello12345");
	assert_int_equal(b.len, 10);
	char *s = pg_buf_steal(&b);
	assert_string_equal(s, "hello12345");
	assert_null(b.data);
	free(s);
	s = pg_buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
}

/* The one-line cleaners that every driver and log line use (they were
 * sms_clean, pager_clean and the log_safe copies, tested there). */
static void
test_text_clean(void **state)
{
	char out[8], d[16], big[64];

	(void)state;
	pg_text_oneline(out, sizeof out, "  a\r\n\tb  ", SIZE_MAX);
	assert_string_equal(out, "a b");
	/* "ab" + é + ü: 6 bytes; room for 7 bytes keeps "abé" and drops
	 * the first byte of ü rather than cutting it */
	pg_text_oneline(out, sizeof out, "ab\xc3\xa9\xc3\xbc\xc3\xbc", SIZE_MAX);
	assert_string_equal(out, "ab\xc3\xa9\xc3\xbc");
	pg_text_oneline(out, 6, "ab\xc3\xa9\xc3\xbc", SIZE_MAX);
	assert_string_equal(out, "ab\xc3\xa9");
	pg_text_oneline(out, 5, "ab\xe2\x82\xac", SIZE_MAX);
	assert_string_equal(out, "ab");
	pg_text_oneline(d, sizeof d, "  a\r\nb\x01\x02 c  ", SIZE_MAX);
	assert_string_equal(d, "a b c");
	pg_text_oneline(d, 6, "abcd\xc3\xa9" "fgh", SIZE_MAX);  /* é would be cut: dropped */
	assert_string_equal(d, "abcd");
	pg_text_oneline(d, sizeof d, "ab cd", 4);                /* len bounds the input */
	assert_string_equal(d, "ab c");
	/* a byte that starts no sequence becomes '?': peer text goes into JSON */
	pg_text_oneline(big, sizeof big, "a\xff b \xc3(\xe2\x82", SIZE_MAX);
	assert_string_equal(big, "a? b ?(");
	pg_text_oneline(big, sizeof big, NULL, SIZE_MAX);
	assert_string_equal(big, "");

	pg_text_logsafe(big, sizeof big, "say \"hi\"\n\x7f", SIZE_MAX);
	assert_string_equal(big, "say 'hi'??");
	pg_text_logsafe(big, sizeof big, "caf\xc3\xa9!", 4);       /* cut on a boundary */
	assert_string_equal(big, "caf");
	pg_text_logsafe(big, 5, "caf\xc3\xa9!", SIZE_MAX);
	assert_string_equal(big, "caf");
}

struct sleeper {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic bool stopping;
	int wakeups;
};

/* Sleeps a minute at a time until told to stop, as a driver's poller. */
static void *
sleeper(void *arg)
{
	struct sleeper *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		pg_cond_wait_ms(&s->cv, &s->mu, 60000);
		s->wakeups++;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* pg_thread_stop wakes a thread from a long pg_cond_wait_ms and joins it
 * (were the wake-up lost, the join would wait out the minute and the
 * runner's timeout would fail the test); a wait of 0 ms returns at once. */
static void
test_thread_stop(void **state)
{
	struct sleeper s = { .mu = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th;

	(void)state;
	assert_int_equal(pg_cond_init_mono(&s.cv), PG_OK);
	pthread_mutex_lock(&s.mu);
	pg_cond_wait_ms(&s.cv, &s.mu, 0);
	pthread_mutex_unlock(&s.mu);
	assert_int_equal(pthread_create(&th, NULL, sleeper, &s), 0);
	pg_thread_stop(&s.mu, &s.cv, &s.stopping, th, true);
	assert_true(s.stopping);
	assert_true(s.wakeups <= 1);
	pthread_cond_destroy(&s.cv);
}

static void
test_iso8601(void **state)
{
	char buf[PG_ISO_LEN];
	int64_t ms;

	(void)state;
	assert_string_equal(pg_iso8601(1795361640123, buf), "2026-11-22T15:34:00.123Z");
	assert_int_equal(pg_parse_iso8601("2026-11-22T15:34:00Z", &ms), 0);
	assert_int_equal(ms, 1795361640000);
	assert_int_equal(pg_parse_iso8601("2026-11-22T09:34:00.5-06:00", &ms), 0);
	assert_int_equal(ms, 1795361640500);
	assert_int_equal(pg_parse_iso8601("2026-11-22T21:04:00+05:30", &ms), 0);
	assert_int_equal(ms, 1795361640000);
	assert_int_equal(pg_parse_iso8601("2026-02-29T00:00:00Z", &ms), -1);
	assert_int_equal(pg_parse_iso8601("2026-11-22T15:34:00", &ms), -1);
	assert_int_equal(pg_parse_iso8601("2026-11-22T25:00:00Z", &ms), -1);
	assert_int_equal(pg_parse_iso8601("2026-11-22T15:34:00Zjunk", &ms), -1);
	assert_int_equal(pg_parse_iso8601("tomorrow", &ms), -1);
}

static void
test_duration(void **state)
{
	int64_t s;

	(void)state;
	assert_int_equal(pg_parse_duration("90s", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(pg_parse_duration("5m", &s), 0);
	assert_int_equal(s, 300);
	assert_int_equal(pg_parse_duration("2h", &s), 0);
	assert_int_equal(s, 7200);
	assert_int_equal(pg_parse_duration("1d", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(pg_parse_duration("30", &s), 0);
	assert_int_equal(s, 30);
	assert_int_equal(pg_parse_duration("5 m", &s), -1);
	assert_int_equal(pg_parse_duration("-5m", &s), -1);
	assert_int_equal(pg_parse_duration("5w", &s), -1);
	assert_int_equal(pg_parse_duration("", &s), -1);
	assert_int_equal(pg_parse_duration("99999999999999999999d", &s), -1);
}

static void
test_utf8_and_ctl(void **state)
{
	(void)state;
	assert_true(pg_utf8_valid("Müller – 🔥", strlen("Müller – 🔥")));
	assert_false(pg_utf8_valid("\xc3", 1));              /* truncated */
	assert_false(pg_utf8_valid("\xc0\xaf", 2));          /* overlong */
	assert_false(pg_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	assert_false(pg_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
	assert_false(pg_utf8_valid("\xff", 1));
	assert_true(pg_has_ctl("a\r\nb", false));
	assert_false(pg_has_ctl("a\r\n\tb", true));
	assert_true(pg_has_ctl("a\x1b[31m", true));
	assert_true(pg_has_ctl("del\x7f", true));
	assert_false(pg_has_ctl("plain text", false));
}

static void
test_hash_and_names(void **state)
{
	char hex[65];

	(void)state;
	pg_sha256_hex("demo-token", 10, hex);
	assert_string_equal(hex, "7c43ef5ae21d43ce2743f770c68e24def1a43ee2f416d2438410c8af7af2ff2c");
	assert_true(pg_ct_equal("abc", "abc", 3));
	assert_false(pg_ct_equal("abc", "abd", 3));

	enum pg_urgency u;
	assert_int_equal(pg_urgency_parse("urgent", &u), 0);
	assert_int_equal(u, PG_URG_URGENT);
	assert_int_equal(pg_urgency_parse("Urgent", &u), -1);
	assert_string_equal(pg_dstate_name(PG_D_HELD), "held");
	assert_int_equal(pg_priority(PG_KIND_DISPATCH, PG_URG_ROUTINE), 0);
	assert_int_equal(pg_priority(PG_KIND_MESSAGE, PG_URG_EMERGENCY), 0);
	assert_int_equal(pg_priority(PG_KIND_MESSAGE, PG_URG_URGENT), 1);
	assert_int_equal(pg_priority(PG_KIND_MESSAGE, PG_URG_ROUTINE), 2);
	assert_true(pg_dstate_final(PG_D_FAILED));
	assert_false(pg_dstate_final(PG_D_HELD));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bounds),
		cmocka_unit_test(test_text_clean),
		cmocka_unit_test(test_thread_stop),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_utf8_and_ctl),
		cmocka_unit_test(test_hash_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
