/*
 * test_intake_head.c - the head's own checks (intake_head.c): a request
 * target as sent, with control characters raw and %-encoded, in the path
 * and in the query, at the edges of the string; and the Transfer-Encoding
 * values that are "chunked" and those that are not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../src/intake/intake_priv.h"

static enum intake_target_fault
check_n(const char *t, size_t n, bool *q)
{
	return intake__target_check(t, n, q);
}

static enum intake_target_fault
check(const char *t, bool *q)
{
	return check_n(t, strlen(t), q);
}

static void
test_good_targets(void **state)
{
	static const char *const good[] = {
		"/", "/healthz", "/a/v1.AbC-_x", "/v1/messages?client=x&limit=5",
		"/a/%41%62", "/a/%2F%25", "/q?x=%20%7E", "/a/%", "/a/%0", "/a/%G0",
		"/a/%25%30%30", "/v1/board?q=%C3%A9", "",
	};
	bool q = true;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(check(good[i], &q), INTAKE_TARGET_OK);
		assert_false(q);
	}
}

static void
test_encoded_controls(void **state)
{
	bool q;

	(void)state;
	assert_int_equal(check("/a/tok%00junk", &q), INTAKE_TARGET_PCT_CTL);
	assert_false(q);
	assert_int_equal(check("/a/%00", &q), INTAKE_TARGET_PCT_CTL);
	assert_int_equal(check("%00", &q), INTAKE_TARGET_PCT_CTL);
	assert_int_equal(check("/a/x%0a", &q), INTAKE_TARGET_PCT_CTL);
	assert_int_equal(check("/a/x%0D", &q), INTAKE_TARGET_PCT_CTL);
	assert_int_equal(check("/a/x%1f", &q), INTAKE_TARGET_PCT_CTL);
	assert_int_equal(check("/a/x%7F", &q), INTAKE_TARGET_PCT_CTL);
	assert_int_equal(check("/a/x%7f", &q), INTAKE_TARGET_PCT_CTL);
	assert_int_equal(check("/a/x%20", &q), INTAKE_TARGET_OK);
	assert_int_equal(check("/v1/messages?client=a%00b", &q), INTAKE_TARGET_PCT_CTL);
	assert_true(q);
	assert_int_equal(check("/v1/x%00?client=a", &q), INTAKE_TARGET_PCT_CTL);
	assert_false(q);
	/* only the three bytes given are read: "%0" at the end is no escape */
	assert_int_equal(check_n("/a/%00", 5, &q), INTAKE_TARGET_OK);
	assert_int_equal(check_n("/a/%00", 6, &q), INTAKE_TARGET_PCT_CTL);
}

static void
test_raw_controls(void **state)
{
	bool q;

	(void)state;
	assert_int_equal(check_n("/a/b\0c", 6, &q), INTAKE_TARGET_CTL);
	assert_false(q);
	assert_int_equal(check("/a/b\tc", &q), INTAKE_TARGET_CTL);
	assert_int_equal(check("/a/b\x7f", &q), INTAKE_TARGET_CTL);
	assert_int_equal(check("\r", &q), INTAKE_TARGET_CTL);
	assert_int_equal(check("/x?y=\x01", &q), INTAKE_TARGET_CTL);
	assert_true(q);
	/* bytes past 0x7f are not controls (UTF-8 sent raw) */
	assert_int_equal(check("/x?y=\xc3\xa9", &q), INTAKE_TARGET_OK);
}

static void
test_transfer_coding(void **state)
{
	(void)state;
	assert_int_equal(intake__transfer_coding(NULL), INTAKE_TE_NONE);
	assert_int_equal(intake__transfer_coding("chunked"), INTAKE_TE_CHUNKED);
	assert_int_equal(intake__transfer_coding("Chunked"), INTAKE_TE_CHUNKED);
	assert_int_equal(intake__transfer_coding(" CHUNKED\t"), INTAKE_TE_CHUNKED);
	assert_int_equal(intake__transfer_coding("gzip, chunked"), INTAKE_TE_OTHER);
	assert_int_equal(intake__transfer_coding("chunked, gzip"), INTAKE_TE_OTHER);
	assert_int_equal(intake__transfer_coding("chunkedx"), INTAKE_TE_OTHER);
	assert_int_equal(intake__transfer_coding("identity"), INTAKE_TE_OTHER);
	assert_int_equal(intake__transfer_coding(""), INTAKE_TE_OTHER);
	assert_int_equal(intake__transfer_coding("chunked;x=1"), INTAKE_TE_OTHER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_targets),
		cmocka_unit_test(test_encoded_controls),
		cmocka_unit_test(test_raw_controls),
		cmocka_unit_test(test_transfer_coding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
