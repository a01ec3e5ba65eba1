/*
 * test_intake_head.c - the head's own checks (intake_head.c): a request
 * target as sent, with control characters raw and %-encoded, in the path
 * and in the query, at the edges of the string; and the Transfer-Encoding
 * values that are "chunked" and those that are not; and the whole head
 * as the gate checks it (intake__head_check): well-formed heads and their
 * length, every prefix of them waiting for more, each fault found as soon
 * as its bytes are in, and the size limits at their edges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
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


/* ---- the whole head ---- */

static enum intake_head_verdict
head_n(const char *b, size_t n, size_t *len, struct intake_head_fault *f)
{
	memset(f, 0, sizeof *f);
	return intake__head_check(b, n, INTAKE_HEAD_MAX, len, f);
}

/* b (a C string) is BAD with status and field. */
static void
refused(const char *b, int status, const char *field)
{
	struct intake_head_fault f;
	size_t len;

	assert_int_equal(head_n(b, strlen(b), &len, &f), INTAKE_HEAD_BAD);
	assert_int_equal(f.status, status);
	assert_string_equal(f.field, field);
	assert_true(f.code[0] != '\0' && f.message[0] != '\0');
}

static void
test_head_good(void **state)
{
	static const char *const good[] = {
		"GET / HTTP/1.1\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /v1/messages HTTP/1.0\r\nHost: x\r\nContent-Length: 2\r\n\r\n",
		"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",          /* one empty line first */
		"\nGET / HTTP/1.1\nHost: x\n\n",                  /* bare LFs */
		"GET / HTTP/1.1\r\nHost: x\n\r\n",
		"GET / HTTP/1.9\r\nX:\r\nY:  a b\tc \r\n\r\n",    /* a later minor version */
		"OPTIONS * HTTP/1.1\r\nX: \r\n\r\n",
		"M-SEARCH /x?y=%C3%A9 HTTP/1.1\r\nA: \xc3\xa9\x80\r\n\r\n",
	};
	struct intake_head_fault f;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		size_t n = strlen(good[i]);
		char *more = malloc(n + 6);

		assert_int_equal(head_n(good[i], n, &len, &f), INTAKE_HEAD_OK);
		assert_int_equal(len, n);
		/* a body after the head is not the head's */
		memcpy(more, good[i], n);
		memcpy(more + n, "{}\0\r\n", 5);
		assert_int_equal(head_n(more, n + 5, &len, &f), INTAKE_HEAD_OK);
		assert_int_equal(len, n);
		/* every prefix: more may come */
		for (size_t k = 0; k < n; k++)
			assert_int_equal(head_n(good[i], k, &len, &f), INTAKE_HEAD_MORE);
		free(more);
	}
	/* a name is a token: UTF-8 is not */
	refused("GET / HTTP/1.1\r\nX-\xc3\xa9: y\r\n\r\n", 400, "X-");
}

static void
test_head_request_line(void **state)
{
	(void)state;
	refused("GARBAGE\r\n\r\n", 400, "request-line");
	refused("GARBAGE\r", 400, "request-line");
	refused("GET\r\n\r\n", 400, "request-line");
	refused("GET /\r\n\r\n", 400, "request-line");
	refused("GET  / HTTP/1.1\r\n\r\n", 400, "request-line");
	refused(" GET / HTTP/1.1\r\n\r\n", 400, "request-line");
	refused("GET / HTTP/1.1 \r\n\r\n", 400, "request-line");
	refused("GET / HTTP/1.10\r\n\r\n", 400, "request-line");
	refused("GET / http/1.1\r\n\r\n", 400, "request-line");
	refused("GET / HTTP/1.x", 400, "request-line");
	refused("GET / HTTP/1.1\rX", 400, "request-line");
	refused("G(T / HTTP/1.1\r\n\r\n", 400, "request-line");
	refused("\x16\x03\x01", 400, "request-line");
	refused("\xff", 400, "request-line");
	refused("\r\n\r\n", 400, "request-line");
	refused("\n\n", 400, "request-line");
	refused("\rX", 400, "request-line");
	refused("GET / HTTP/2.0\r\n\r\n", 505, "request-line");
	refused("GET / HTTP/0.9\r\n\r\n", 505, "request-line");
	/* the target's own check: raw and %-encoded controls */
	refused("GET /a%00 HTTP/1.1\r\n\r\n", 400, "path");
	refused("GET /a?b=%0a HTTP/1.1\r\n\r\n", 400, "query");
	refused("GET /a\x01 HTTP/1.1\r\n\r\n", 400, "path");
	refused("GET /a\tb HTTP/1.1\r\n\r\n", 400, "path");
	/* a raw NUL in the target */
	{
		struct intake_head_fault f;
		size_t len;
		static const char nul[] = "GET /a\0b HTTP/1.1\r\n\r\n";

		assert_int_equal(head_n(nul, sizeof nul - 1, &len, &f), INTAKE_HEAD_BAD);
		assert_string_equal(f.field, "path");
	}
}

static void
test_head_fields(void **state)
{
	struct intake_head_fault f;
	size_t len;
	static const char nul[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Note: a\0b\r\n\r\n";
	static const char nul_early[] = "GET / HTTP/1.1\r\nAuthorization: Bearer t\0";

	(void)state;
	assert_int_equal(head_n(nul, sizeof nul - 1, &len, &f), INTAKE_HEAD_BAD);
	assert_int_equal(f.status, 400);
	assert_string_equal(f.field, "X-Note");
	/* found as soon as the NUL is in, before the head ends */
	assert_int_equal(head_n(nul_early, sizeof nul_early - 1, &len, &f), INTAKE_HEAD_BAD);
	assert_string_equal(f.field, "Authorization");
	refused("GET / HTTP/1.1\r\nX-Note: a\rb\r\n\r\n", 400, "X-Note");
	refused("GET / HTTP/1.1\r\nX-Note: a\x01\r\n\r\n", 400, "X-Note");
	refused("GET / HTTP/1.1\r\nX-Note: a\x7f\r\n\r\n", 400, "X-Note");
	refused("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "Host");
	refused("GET / HTTP/1.1\r\n: x\r\n\r\n", 400, "head");
	refused("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "NoColon");
	refused("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400, "head");
	refused("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 400, "head");
	refused("GET / HTTP/1.1\r\nX: a\r\n\rX", 400, "head");
	/* a name longer than the field's room is cut, not overrun */
	{
		char b[200];

		snprintf(b, sizeof b, "GET / HTTP/1.1\r\n%.*s: \x01\r\n\r\n", 100,
			 "NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN"
			 "NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN");
		assert_int_equal(head_n(b, strlen(b), &len, &f), INTAKE_HEAD_BAD);
		assert_int_equal(strlen(f.field), sizeof f.field - 1);
	}
}

static void
test_head_limits(void **state)
{
	struct intake_head_fault f;
	size_t len, n;
	char *b = malloc(INTAKE_HEAD_MAX + 64);

	(void)state;
	/* exactly INTAKE_HEAD_MAX bytes: taken; one more: 431 */
	n = (size_t)snprintf(b, 64, "GET / HTTP/1.1\r\nX: ");
	memset(b + n, 'a', INTAKE_HEAD_MAX - n - 4);
	memcpy(b + INTAKE_HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(head_n(b, INTAKE_HEAD_MAX, &len, &f), INTAKE_HEAD_OK);
	assert_int_equal(len, INTAKE_HEAD_MAX);
	memset(b + n, 'a', INTAKE_HEAD_MAX - n - 3);
	memcpy(b + INTAKE_HEAD_MAX - 3, "\r\n\r\n", 4);
	assert_int_equal(head_n(b, INTAKE_HEAD_MAX + 1, &len, &f), INTAKE_HEAD_BAD);
	assert_int_equal(f.status, 431);
	assert_string_equal(f.field, "head");
	/* what a peek of INTAKE_HEAD_MAX bytes sees of it */
	assert_int_equal(head_n(b, INTAKE_HEAD_MAX, &len, &f), INTAKE_HEAD_BAD);
	assert_int_equal(f.status, 431);
	assert_int_equal(head_n(b, INTAKE_HEAD_MAX - 1, &len, &f), INTAKE_HEAD_MORE);
	/* INTAKE_HEAD_FIELDS field lines: taken; one more: 431 */
	n = (size_t)sprintf(b, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < INTAKE_HEAD_FIELDS; i++)
		n += (size_t)sprintf(b + n, "X: y\r\n");
	memcpy(b + n, "\r\n", 2);
	assert_int_equal(head_n(b, n + 2, &len, &f), INTAKE_HEAD_OK);
	n += (size_t)sprintf(b + n, "X: y\r\n\r\n");
	assert_int_equal(head_n(b, n, &len, &f), INTAKE_HEAD_BAD);
	assert_int_equal(f.status, 431);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_targets),
		cmocka_unit_test(test_encoded_controls),
		cmocka_unit_test(test_raw_controls),
		cmocka_unit_test(test_transfer_coding),
		cmocka_unit_test(test_head_good),
		cmocka_unit_test(test_head_request_line),
		cmocka_unit_test(test_head_fields),
		cmocka_unit_test(test_head_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
