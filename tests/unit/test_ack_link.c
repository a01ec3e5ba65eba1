/*
 * test_ack_link.c - signed acknowledgement link tokens (ack_link.h):
 * tokens against values computed independently (Python's hmac and
 * base64), round trips across varint boundaries, every single-character
 * change refused, another secret refused, the expiry boundary, the length
 * bound, garbage and non-canonical encodings (also ones carrying a valid
 * MAC, so that the parser's own strictness is what refuses them), the URL,
 * and the host's ack_url hook on a real store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pagegate/ack.h"
#include "pagegate/ack_link.h"
#include "pagegate/util.h"

#define T0 1795361640LL           /* 2026-11-22T15:34:00Z */

static const char ALPHA[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static unsigned char secret[32];

static void
secret_init(unsigned char s[32])
{
	for (int i = 0; i < 32; i++)
		s[i] = (unsigned char)i;
}

/* ---- independent vectors ---- */

/* Computed with Python 3:
 *   varint = LEB128; p = varint(mid) + varint(did) + varint(exp)
 *   mac = hmac.new(bytes(range(32)), b"pagegate ack link 1\0" + p,
 *                  hashlib.sha256).digest()[:12]
 *   base64.urlsafe_b64encode(p + mac).rstrip(b"=") */
static const struct { int64_t mid, did, exp; const char *token; } vectors[] = {
	{ 4711, 99, 1795361640, "5yRj6JaM2Ab25DWCpdPdSUoN90s" },
	{ 1, 1, 1, "AQEBXsiqOnW4nODefpiE" },
	{ (1LL << 53) - 1, (1LL << 53) - 1, (1LL << 53) - 1,
	  "_________w__________D_________8PeYWfAr2_NKAr1GEV" },
};

static void
test_vectors(void **state)
{
	char tok[PG_ACK_LINK_LEN];
	struct pg_ack_link l;

	(void)state;
	secret_init(secret);
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		assert_int_equal(pg_ack_link_make(secret, vectors[i].mid, vectors[i].did,
						  vectors[i].exp, tok), PG_OK);
		assert_string_equal(tok, vectors[i].token);
		assert_int_equal(pg_ack_link_check(secret, vectors[i].token, 0, &l), PG_OK);
		assert_int_equal(l.mid, vectors[i].mid);
		assert_int_equal(l.did, vectors[i].did);
		assert_int_equal(l.expires_s, vectors[i].exp);
	}
	/* The longest token possible fits the bound. */
	assert_true(strlen(vectors[2].token) <= PG_ACK_LINK_MAX);
}

/* ---- round trips ---- */

static void
test_round_trip(void **state)
{
	static const int64_t vals[] = {
		1, 2, 127, 128, 16383, 16384, 2097151, 2097152, 1LL << 35,
		T0, T0 + 72 * 3600, (1LL << 53) - 1,
	};
	size_t nv = sizeof vals / sizeof vals[0];
	char tok[PG_ACK_LINK_LEN];
	struct pg_ack_link l;

	(void)state;
	secret_init(secret);
	for (size_t a = 0; a < nv; a++)
		for (size_t b = 0; b < nv; b++)
			for (size_t c = 0; c < nv; c++) {
				assert_int_equal(pg_ack_link_make(secret, vals[a], vals[b],
								  vals[c], tok), PG_OK);
				assert_true(strlen(tok) <= PG_ACK_LINK_MAX);
				assert_int_equal(strspn(tok, ALPHA), strlen(tok));
				assert_int_equal(pg_ack_link_check(secret, tok, 0, &l), PG_OK);
				assert_int_equal(l.mid, vals[a]);
				assert_int_equal(l.did, vals[b]);
				assert_int_equal(l.expires_s, vals[c]);
			}
	/* Short enough for an SMS: realistic ids and a 2026 expiry. */
	assert_int_equal(pg_ack_link_make(secret, 1500000, 4000000, T0 + 72 * 3600, tok),
			 PG_OK);
	assert_true(strlen(tok) <= 32);
	/* Out of range values make nothing. */
	assert_int_equal(pg_ack_link_make(secret, 0, 1, T0, tok), PG_ERR_INVAL);
	assert_string_equal(tok, "");
	assert_int_equal(pg_ack_link_make(secret, 1, -5, T0, tok), PG_ERR_INVAL);
	assert_int_equal(pg_ack_link_make(secret, 1, 1, 0, tok), PG_ERR_INVAL);
	assert_int_equal(pg_ack_link_make(secret, 1LL << 53, 1, T0, tok), PG_ERR_INVAL);
}

/* ---- tampering ---- */

static void
tamper_all(const char *tok)
{
	char t[PG_ACK_LINK_LEN + 2];
	struct pg_ack_link l;
	size_t n = strlen(tok);

	for (size_t i = 0; i < n; i++) {
		for (const char *c = ALPHA; *c; c++) {
			if (*c == tok[i])
				continue;
			strcpy(t, tok);
			t[i] = *c;
			if (pg_ack_link_check(secret, t, 0, &l) != PG_ERR_INVAL)
				fail_msg("\"%s\" (position %zu changed) was accepted", t, i);
			assert_int_equal(l.mid, 0);    /* zeroed on refusal */
		}
		/* one character removed */
		memcpy(t, tok, i);
		strcpy(t + i, tok + i + 1);
		assert_int_equal(pg_ack_link_check(secret, t, 0, &l), PG_ERR_INVAL);
	}
	/* one character added, at the end and at the start */
	for (const char *c = ALPHA; *c; c++) {
		snprintf(t, sizeof t, "%s%c", tok, *c);
		assert_int_equal(pg_ack_link_check(secret, t, 0, &l), PG_ERR_INVAL);
		snprintf(t, sizeof t, "%c%s", *c, tok);
		assert_int_equal(pg_ack_link_check(secret, t, 0, &l), PG_ERR_INVAL);
	}
}

static void
test_tamper(void **state)
{
	char tok[PG_ACK_LINK_LEN];

	(void)state;
	secret_init(secret);
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
		tamper_all(vectors[i].token);
	/* lengths 27 .. 32 leave 2, 4 or 0 unused bits in the last character */
	for (int64_t mid = 1; mid < (1LL << 42); mid <<= 7) {
		assert_int_equal(pg_ack_link_make(secret, mid, 77, T0, tok), PG_OK);
		tamper_all(tok);
	}
}

static void
test_wrong_secret(void **state)
{
	unsigned char other[32];
	char tok[PG_ACK_LINK_LEN];
	struct pg_ack_link l;

	(void)state;
	secret_init(secret);
	assert_int_equal(pg_ack_link_make(secret, 4711, 99, T0, tok), PG_OK);
	for (int byte = 0; byte < 32; byte++) {
		memcpy(other, secret, 32);
		other[byte] ^= 0x01;
		assert_int_equal(pg_ack_link_check(other, tok, 0, &l), PG_ERR_INVAL);
	}
	memset(other, 0, 32);
	assert_int_equal(pg_ack_link_check(other, tok, 0, &l), PG_ERR_INVAL);
	assert_int_equal(pg_ack_link_check(secret, tok, 0, &l), PG_OK);
}

static void
test_expiry(void **state)
{
	char tok[PG_ACK_LINK_LEN];
	struct pg_ack_link l;

	(void)state;
	secret_init(secret);
	assert_int_equal(pg_ack_link_make(secret, 4711, 99, T0, tok), PG_OK);
	assert_int_equal(pg_ack_link_check(secret, tok, 0, &l), PG_OK);
	assert_int_equal(pg_ack_link_check(secret, tok, T0 - 1, &l), PG_OK);
	assert_int_equal(l.expires_s, T0);
	memset(&l, 0, sizeof l);
	assert_int_equal(pg_ack_link_check(secret, tok, T0, &l), PG_ERR_EXPIRED);
	/* an expired token is still authentic: the page can name the message */
	assert_int_equal(l.mid, 4711);
	assert_int_equal(l.did, 99);
	assert_int_equal(l.expires_s, T0);
	assert_int_equal(pg_ack_link_check(secret, tok, T0 + 1, &l), PG_ERR_EXPIRED);
	assert_int_equal(pg_ack_link_check(secret, tok, INT64_MAX, &l), PG_ERR_EXPIRED);
	assert_string_equal(pg_strerror(PG_ERR_EXPIRED), "expired");
}

/* ---- garbage and non-canonical input ---- */

/* A token for raw payload bytes p[0..n) with a valid MAC, as a forger
 * holding the secret would make it: only the parser can refuse it. */
static void
forge(const unsigned char *p, size_t n, char *out)
{
	static const char dom[] = "pagegate ack link 1";
	unsigned char msg[128], raw[128], mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	size_t o = 0, i;
	uint32_t acc;

	memcpy(msg, dom, sizeof dom);
	memcpy(msg + sizeof dom, p, n);
	assert_non_null(HMAC(EVP_sha256(), secret, 32, msg, sizeof dom + n, mac, &len));
	memcpy(raw, p, n);
	memcpy(raw + n, mac, 12);
	n += 12;
	for (i = 0; i + 3 <= n; i += 3) {
		acc = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
		for (int k = 18; k >= 0; k -= 6)
			out[o++] = ALPHA[acc >> k & 63];
	}
	if (n - i == 1) {
		acc = (uint32_t)raw[i] << 16;
		out[o++] = ALPHA[acc >> 18 & 63];
		out[o++] = ALPHA[acc >> 12 & 63];
	} else if (n - i == 2) {
		acc = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8;
		out[o++] = ALPHA[acc >> 18 & 63];
		out[o++] = ALPHA[acc >> 12 & 63];
		out[o++] = ALPHA[acc >> 6 & 63];
	}
	out[o] = '\0';
}

static void
test_noncanonical(void **state)
{
	static const struct { const char *what; unsigned char p[32]; size_t n; bool ok; } c[] = {
		{ "the control: minimal varints", { 0x05, 0x07, 0x09 }, 3, true },
		{ "overlong mid (0x85 0x00)", { 0x85, 0x00, 0x07, 0x09 }, 4, false },
		{ "overlong expiry", { 0x05, 0x07, 0x89, 0x80, 0x00 }, 5, false },
		{ "mid 0", { 0x00, 0x07, 0x09 }, 3, false },
		{ "did 0", { 0x05, 0x00, 0x09 }, 3, false },
		{ "expiry 0", { 0x05, 0x07, 0x00 }, 3, false },
		{ "two varints", { 0x05, 0x07 }, 2, false },
		{ "four varints", { 0x05, 0x07, 0x09, 0x01 }, 4, false },
		{ "unterminated varint", { 0x05, 0x07, 0x89 }, 3, false },
		{ "mid = 2^53", { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0x07, 0x09 },
		  10, false },
		{ "nine-byte varint", { 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
					0x07, 0x09 }, 11, false },
		{ "empty payload", { 0 }, 0, false },
	};
	char tok[128], t2[160];
	struct pg_ack_link l;

	(void)state;
	secret_init(secret);
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		forge(c[i].p, c[i].n, tok);
		if ((pg_ack_link_check(secret, tok, 0, &l) == PG_OK) != c[i].ok)
			fail_msg("%s: \"%s\" %s", c[i].what, tok,
				 c[i].ok ? "refused" : "accepted");
	}
	/* The control token, spelled differently: padded, the unused low bits
	 * of its last character set, standard base64 characters. */
	forge(c[0].p, c[0].n, tok);                  /* 15 bytes: 20 characters */
	assert_int_equal(pg_ack_link_check(secret, tok, 0, &l), PG_OK);
	snprintf(t2, sizeof t2, "%s=", tok);
	assert_int_equal(pg_ack_link_check(secret, t2, 0, &l), PG_ERR_INVAL);
	/* payload 05 07 89 01 + MAC: 16 bytes, 22 characters */
	assert_int_equal(pg_ack_link_make(secret, 5, 7, 0x89, tok), PG_OK);
	assert_int_equal(strlen(tok) % 4, 2);           /* 4 unused bits */
	strcpy(t2, tok);
	t2[strlen(t2) - 1] = ALPHA[(strchr(ALPHA, tok[strlen(tok) - 1]) - ALPHA) | 1];
	assert_string_not_equal(t2, tok);
	assert_int_equal(pg_ack_link_check(secret, t2, 0, &l), PG_ERR_INVAL);
	strcpy(t2, tok);
	for (char *q = t2; *q; q++)
		if (*q == '-' || *q == '_')
			*q = *q == '-' ? '+' : '/';
	if (strcmp(t2, tok) != 0)
		assert_int_equal(pg_ack_link_check(secret, t2, 0, &l), PG_ERR_INVAL);
}

static void
test_garbage(void **state)
{
	static const char *const bad[] = {
		"", "A", "AA", "AAAA", "====", "AQEB", "AQEBXsiqOnW4nODefpi",
		"AQEBXsiqOnW4nODefpiE ", " AQEBXsiqOnW4nODefpiE", "AQEBXsiqOnW4nODefpiE\n",
		"AQEB%58siqOnW4nODefpiE", "AQEBXsiqOnW4nODefpiE/", "../../etc/passwd",
		"AQEBXsiqOnW4nODefpiE?x=1", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	};
	char big[PG_ACK_LINK_MAX + 10];
	struct pg_ack_link l;

	(void)state;
	secret_init(secret);
	assert_int_equal(pg_ack_link_check(secret, "AQEBXsiqOnW4nODefpiE", 0, &l), PG_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (pg_ack_link_check(secret, bad[i], 0, &l) != PG_ERR_INVAL)
			fail_msg("\"%s\" was not refused", bad[i]);
	assert_int_equal(pg_ack_link_check(secret, NULL, 0, &l), PG_ERR_INVAL);

	/* The length bound: the longest token plus junk up to and past it. */
	strcpy(big, vectors[2].token);
	while (strlen(big) < PG_ACK_LINK_MAX + 1)
		strcat(big, "A");
	assert_int_equal(pg_ack_link_check(secret, big, 0, &l), PG_ERR_INVAL);
	big[PG_ACK_LINK_MAX] = '\0';
	assert_int_equal(pg_ack_link_check(secret, big, 0, &l), PG_ERR_INVAL);

	/* Random strings of the alphabet never pass. */
	for (int i = 0; i < 20000; i++) {
		size_t n = pg_random_u32() % (sizeof big);   /* 0 .. MAX + 9 */

		for (size_t k = 0; k < n; k++)
			big[k] = ALPHA[pg_random_u32() % 64];
		big[n] = '\0';
		assert_int_equal(pg_ack_link_check(secret, big, 0, &l), PG_ERR_INVAL);
	}
}

/* ---- URL and the host hook ---- */

static void
test_url(void **state)
{
	char url[128], tok[PG_ACK_LINK_LEN];

	(void)state;
	secret_init(secret);
	assert_int_equal(pg_ack_link_make(secret, 4711, 99, T0, tok), PG_OK);
	assert_int_equal(pg_ack_link_url(secret, "https://pg.example//", 4711, 99, T0,
					 url, sizeof url), PG_OK);
	assert_string_equal(url, "https://pg.example/a/5yRj6JaM2Ab25DWCpdPdSUoN90s");
	assert_int_equal(pg_ack_link_url(secret, "http://127.0.0.1:8025", 4711, 99, T0,
					 url, sizeof url), PG_OK);
	assert_string_equal(url, "http://127.0.0.1:8025/a/5yRj6JaM2Ab25DWCpdPdSUoN90s");
	/* exactly fits, one byte short */
	size_t need = strlen("https://pg.example/a/") + strlen(tok) + 1;
	assert_int_equal(pg_ack_link_url(secret, "https://pg.example", 4711, 99, T0,
					 url, need), PG_OK);
	assert_int_equal(pg_ack_link_url(secret, "https://pg.example", 4711, 99, T0,
					 url, need - 1), PG_ERR_TOOBIG);
	assert_string_equal(url, "");
	assert_int_equal(pg_ack_link_url(secret, "https://pg.example", 0, 99, T0,
					 url, sizeof url), PG_ERR_INVAL);
	assert_string_equal(url, "");
}

static void
test_host_hook(void **state)
{
	char dir[] = "/tmp/pg-test-ack-link-XXXXXX", db[128], url[PG_ACK_URL_MAX];
	struct pg_ack_host h;
	struct pg_store *st;
	struct pg_config cfg;
	struct pg_ack_link l;
	unsigned char again[32];
	const char *tok;
	int64_t now;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/pg.db", dir);
	assert_int_equal(pg_store_open(db, 0, &st), PG_OK);
	assert_int_equal(pg_ack_host_init(&h, st, NULL), PG_OK);
	assert_non_null(h.host.ack_url);
	memset(&cfg, 0, sizeof cfg);
	cfg.public_url = "https://pg.example/";
	cfg.ack_link_ttl_s = 3600;
	now = pg_now_ms() / 1000;
	h.host.ack_url(h.host.ctx, &cfg, 12, 34, url, sizeof url);
	assert_int_equal(strncmp(url, "https://pg.example/a/", 21), 0);
	tok = url + 21;
	assert_int_equal(pg_ack_link_check(h.secret, tok, now, &l), PG_OK);
	assert_int_equal(l.mid, 12);
	assert_int_equal(l.did, 34);
	assert_true(l.expires_s >= now + 3600 && l.expires_s <= now + 3602);
	assert_int_equal(pg_ack_link_check(h.secret, tok, now + 3603, &l), PG_ERR_EXPIRED);
	/* the store's secret: the same after a restart */
	pg_store_close(st);
	assert_int_equal(pg_store_open(db, 0, &st), PG_OK);
	assert_int_equal(pg_store_secret(st, again), PG_OK);
	assert_memory_equal(again, h.secret, 32);
	assert_int_equal(pg_ack_link_check(again, tok, now, &l), PG_OK);
	/* no room: "" */
	h.host.ack_url(h.host.ctx, &cfg, 12, 34, url, 10);
	assert_string_equal(url, "");
	pg_store_close(st);
	fixture_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_noncanonical),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_host_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
