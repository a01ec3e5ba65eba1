/*
 * test_mime.c - message building: RFC 2047 header values (exact output,
 * folding, character boundaries), quoted-printable bodies (exact output,
 * line lengths, never a split =XX), header injection attempts, dates and
 * address checks.  Every encoded form is decoded back and compared.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pagegate/mime.h"

#define BUF_MAX (1 << 20)

/* ---- decoding helpers (independent of mime.c) ---- */

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Decodes n base64 characters into out; returns the byte count. */
static size_t
b64dec(const char *s, size_t n, char *out)
{
	size_t o = 0, i;
	unsigned acc = 0;
	int bits = 0, v;

	assert_int_equal(n % 4, 0);
	for (i = 0; i < n && s[i] != '='; i++) {
		v = b64val(s[i]);
		assert_true(v >= 0);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xFF);
		}
	}
	return o;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Decodes a quoted-printable body; checks every line is <= 76 and that
 * no line ends in a space or tab.  Returns malloc'ed text with CRLF. */
static char *
qp_decode(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	const char *line = s, *eol;
	size_t len;

	assert_non_null(out);
	while (*line) {
		eol = strstr(line, "\r\n");
		len = eol ? (size_t)(eol - line) : strlen(line);
		assert_true(len <= 76);
		assert_null(memchr(line, '\n', len));
		assert_null(memchr(line, '\r', len));
		if (len > 0)
			assert_true(line[len - 1] != ' ' && line[len - 1] != '\t');
		for (size_t i = 0; i < len; i++) {
			if (line[i] != '=') {
				*o++ = line[i];
				continue;
			}
			if (i == len - 1)          /* soft break */
				goto soft;
			assert_true(i + 2 < len);      /* a whole =XX */
			assert_true(hexval(line[i + 1]) >= 0 && hexval(line[i + 2]) >= 0);
			*o++ = (char)(hexval(line[i + 1]) * 16 + hexval(line[i + 2]));
			i += 2;
		}
		if (eol) {
			*o++ = '\r';
			*o++ = '\n';
		}
soft:
		line = eol ? eol + 2 : line + len;
	}
	*o = '\0';
	return out;
}

/* Decodes a header value made of encoded-words separated by folding
 * white space; checks each word <= 75 chars and decodes to whole UTF-8
 * characters on its own.  Returns malloc'ed text. */
static char *
ew_decode(const char *v)
{
	char *out = malloc(strlen(v) + 1);
	size_t o = 0;

	assert_non_null(out);
	while (*v) {
		while (*v == ' ' || *v == '\r' || *v == '\n')
			v++;
		if (!*v)
			break;
		assert_memory_equal(v, "=?UTF-8?B?", 10);
		const char *end = strstr(v + 10, "?=");
		assert_non_null(end);
		assert_true((size_t)(end + 2 - v) <= 75);
		size_t n = b64dec(v + 10, (size_t)(end - v - 10), out + o);
		/* a word never ends inside a UTF-8 sequence */
		unsigned char last = (unsigned char)out[o + n - 1];
		if (last >= 0x80) {
			size_t k = n;
			while (k > 0 && ((unsigned char)out[o + k - 1] & 0xC0) == 0x80)
				k--;
			assert_true(k > 0);
			unsigned char lead = (unsigned char)out[o + k - 1];
			size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
			assert_int_equal(n - (k - 1), want);
		}
		unsigned char first = (unsigned char)out[o];
		assert_true((first & 0xC0) != 0x80);
		o += n;
		v = end + 2;
	}
	out[o] = '\0';
	return out;
}

/* Every physical line of s (split at CRLF) is at most max long. */
static void
assert_lines_max(const char *s, size_t max)
{
	const char *eol;

	for (;;) {
		eol = strstr(s, "\r\n");
		size_t len = eol ? (size_t)(eol - s) : strlen(s);
		assert_true(len <= max);
		if (!eol)
			break;
		s = eol + 2;
	}
}

struct hdr { char name[64]; char value[2048]; };

/* Splits a message's header block into unfolded header fields. */
static size_t
parse_headers(const char *msg, struct hdr *h, size_t max)
{
	size_t n = 0;
	const char *p = msg, *eol;

	for (;;) {
		eol = strstr(p, "\r\n");
		assert_non_null(eol);
		if (eol == p)
			break;                          /* blank line */
		size_t len = (size_t)(eol - p);
		assert_null(memchr(p, '\r', len));
		assert_null(memchr(p, '\n', len));
		if (*p == ' ' || *p == '\t') {          /* continuation */
			assert_true(n > 0);
			size_t have = strlen(h[n - 1].value);
			assert_true(have + 2 + len < sizeof h[0].value);
			memcpy(h[n - 1].value + have, "\r\n", 2);
			memcpy(h[n - 1].value + have + 2, p, len);
			h[n - 1].value[have + 2 + len] = '\0';
		} else {
			const char *colon = memchr(p, ':', len);
			assert_non_null(colon);
			assert_true(n < max);
			memset(&h[n], 0, sizeof h[n]);
			assert_true((size_t)(colon - p) < sizeof h[0].name);
			memcpy(h[n].name, p, (size_t)(colon - p));
			const char *v = colon + 1;
			if (*v == ' ')
				v++;
			assert_true((size_t)(eol - v) < sizeof h[0].value);
			memcpy(h[n].value, v, (size_t)(eol - v));
			n++;
		}
		p = eol + 2;
	}
	return n;
}

static const char *
hval(struct hdr *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

/* ---- header values ---- */

static char *
hv(const char *s, size_t name_len)
{
	struct pg_buf b;

	pg_buf_init(&b, BUF_MAX);
	assert_int_equal(pg_mime_header_value(&b, s, name_len), PG_OK);
	return pg_buf_steal(&b);
}

static void
test_ascii_subject(void **st)
{
	(void)st;
	char *v = hv("Boiler out at 12 Main St", 9);
	assert_string_equal(v, "Boiler out at 12 Main St");
	free(v);
}

static void
test_utf8_subject(void **st)
{
	(void)st;
	const char *s = "M\xc3\xbcller \xe2\x80\x93 Heizung ausgefallen \xf0\x9f\x94\xa5";
	char *v = hv(s, 9);
	assert_string_equal(v, "=?UTF-8?B?TcO8bGxlciDigJMgSGVpenVuZyBhdXNnZWZhbGxlbiDwn5Sl?=");
	char *d = ew_decode(v);
	assert_string_equal(d, s);
	free(d);
	free(v);
}

static void
test_long_ascii_subject_folds(void **st)
{
	(void)st;
	const char *s = "Caller reports no heat at the property since early this "
		"morning; tenants in units 3 and 4 are affected, please call back soon";
	char *v = hv(s, 9);
	assert_string_equal(v,
		"Caller reports no heat at the property since early this morning;\r\n"
		" tenants in units 3 and 4 are affected, please call back soon");
	free(v);
}

static void
test_long_utf8_subject_folds(void **st)
{
	(void)st;
	char s[512] = "";
	/* 20 four-byte characters: 80 bytes, the first line takes 36 of them
	 * (39 bytes fit after "Subject: ", rounded down to whole characters) */
	for (int i = 0; i < 20; i++)
		strcat(s, "\xf0\x9f\x94\xa5");
	char *v = hv(s, 9);
	assert_string_equal(v,
		"=?UTF-8?B?8J+UpfCflKXwn5Sl8J+UpfCflKXwn5Sl8J+UpfCflKXwn5Sl?=\r\n"
		" =?UTF-8?B?8J+UpfCflKXwn5Sl8J+UpfCflKXwn5Sl8J+UpfCflKXwn5Sl8J+UpfCflKU=?=");
	char *d = ew_decode(v);
	assert_string_equal(d, s);
	free(d);
	free(v);

	/* mixed widths, long: every word and line within bounds */
	s[0] = '\0';
	for (int i = 0; i < 12; i++)
		strcat(s, "Stra\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x94\xa5 ");
	v = hv(s, 9);
	assert_lines_max(v, 76);
	assert_true(strstr(v, "\r\n ") != NULL);
	const char *first_eol = strstr(v, "\r\n");
	assert_true((size_t)(first_eol - v) + 9 <= 76);
	d = ew_decode(v);
	assert_string_equal(d, s);
	free(d);
	free(v);
}

static void
test_header_sanitised(void **st)
{
	(void)st;
	char *v = hv("x\r\nBcc: evil@x", 9);
	assert_string_equal(v, "x  Bcc: evil@x");
	free(v);
	v = hv("tab\there\x7f" "del\x01", 9);
	assert_string_equal(v, "tab here del ");
	free(v);
	/* non-ASCII with an injection attempt: encoded, and no raw CR/LF */
	v = hv("\xc3\xbc\r\nBcc: evil@x", 9);
	char *d = ew_decode(v);
	assert_string_equal(d, "\xc3\xbc  Bcc: evil@x");
	free(d);
	free(v);
	/* malformed UTF-8 becomes '?' */
	v = hv("a\xff" "b\xc3", 9);
	assert_string_equal(v, "a?b?");
	free(v);
	/* text that looks like an encoded-word is itself encoded */
	v = hv("=?UTF-8?B?ZXZpbA==?=", 9);
	d = ew_decode(v);
	assert_string_equal(d, "=?UTF-8?B?ZXZpbA==?=");
	free(d);
	free(v);
}

/* ---- quoted-printable ---- */

static char *
qp(const char *s)
{
	struct pg_buf b;

	pg_buf_init(&b, BUF_MAX);
	assert_int_equal(pg_mime_qp(&b, s), PG_OK);
	return pg_buf_steal(&b);
}

static char *
crlf(const char *s)
{
	char *o = malloc(2 * strlen(s) + 1), *p = o;

	for (; *s; s++) {
		if (*s == '\r' || *s == '\n') {
			if (s[0] == '\r' && s[1] == '\n')
				s++;
			*p++ = '\r';
			*p++ = '\n';
		} else
			*p++ = *s;
	}
	*p = '\0';
	return o;
}

static void
check_qp(const char *in, const char *want)
{
	char *e = qp(in), *d, *n;

	if (want)
		assert_string_equal(e, want);
	d = qp_decode(e);
	n = crlf(in);
	assert_string_equal(d, n);
	free(n);
	free(d);
	free(e);
}

static void
test_qp_basic(void **st)
{
	(void)st;
	check_qp("Hello, world.", "Hello, world.");
	check_qp("a=b", "a=3Db");
	check_qp("M\xc3\xbcller", "M=C3=BCller");
	check_qp("abc  \nnext\t\r\nlast ", "abc =20\r\nnext=09\r\nlast=20");
	check_qp("a\rb\nc\r\nd\n", "a\r\nb\r\nc\r\nd\r\n");
	check_qp("", "");
	check_qp("\n\n", "\r\n\r\n");
}

static void
test_qp_long_lines(void **st)
{
	(void)st;
	char in[512], want[512];

	memset(in, 'a', 76);
	in[76] = '\0';
	check_qp(in, in);                       /* exactly 76: no break */

	memset(in, 'a', 77);
	in[77] = '\0';
	memset(want, 'a', 75);
	strcpy(want + 75, "=\r\naa");
	check_qp(in, want);

	memset(in, 'a', 100);
	in[100] = '\0';
	memset(want, 'a', 75);
	memcpy(want + 75, "=\r\n", 3);
	memset(want + 78, 'a', 25);
	want[103] = '\0';
	check_qp(in, want);

	/* =XX never split: 74 a's then u-umlaut */
	memset(in, 'a', 74);
	strcpy(in + 74, "\xc3\xbc");
	memset(want, 'a', 74);
	strcpy(want + 74, "=\r\n=C3=BC");
	check_qp(in, want);
	/* 72 a's: the first =XX fits, the second moves to the next line */
	memset(in, 'a', 72);
	strcpy(in + 72, "\xc3\xbc");
	memset(want, 'a', 72);
	strcpy(want + 72, "=C3=\r\n=BC");
	check_qp(in, want);

	/* a space right before a soft break is not trailing white space */
	memset(in, 'a', 74);
	strcpy(in + 74, " bcd");
	memset(want, 'a', 74);
	strcpy(want + 74, " =\r\nbcd");
	check_qp(in, want);

	/* a long mixed text round-trips with every line <= 76 */
	in[0] = '\0';
	for (int i = 0; i < 20; i++)
		strcat(in, "x=y \xf0\x9f\x94\xa5\t ");
	strcat(in, "\nend  ");
	check_qp(in, NULL);
}

static void
test_qp_bound(void **st)
{
	(void)st;
	struct pg_buf b;

	pg_buf_init(&b, 10);
	assert_int_equal(pg_buf_adds(&b, "ab"), PG_OK);
	assert_int_equal(pg_mime_qp(&b, "====="), PG_ERR_TOOBIG);
	assert_string_equal(b.data, "ab");     /* left as it was */
	assert_int_equal(b.len, 2);
	pg_buf_free(&b);
}

/* ---- whole messages ---- */

static struct pg_mail
mail(void)
{
	struct pg_mail m = {
		.from_addr = "gw@pagegate.example",
		.from_name = "Acme Answering",
		.to_addr = "office@acme.example",
		.to_name = "Front office",
		.subject = "Message for Acme",
		.body = "Call back 555-0100.\n",
		.message_id = "pg.12.34.00ff@gw.example",
		.date_ms = 1795362840123,
		.pg_message_id = 12,
		.pg_delivery_id = 34,
	};
	return m;
}

static char *
build(const struct pg_mail *m, pg_err want)
{
	struct pg_buf b;

	pg_buf_init(&b, BUF_MAX);
	assert_int_equal(pg_mime_build(&b, m), want);
	if (want != PG_OK) {
		assert_int_equal(b.len, 0);
		pg_buf_free(&b);
		return NULL;
	}
	return pg_buf_steal(&b);
}

static void
test_build_exact(void **st)
{
	(void)st;
	struct pg_mail m = mail();
	char *s = build(&m, PG_OK);
	assert_string_equal(s,
		"Date: Sun, 22 Nov 2026 15:54:00 +0000\r\n"
		"From: \"Acme Answering\" <gw@pagegate.example>\r\n"
		"To: \"Front office\" <office@acme.example>\r\n"
		"Subject: Message for Acme\r\n"
		"Message-ID: <pg.12.34.00ff@gw.example>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=UTF-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"X-Pagegate-Message: 12\r\n"
		"X-Pagegate-Delivery: 34\r\n"
		"\r\n"
		"Call back 555-0100.\r\n");
	free(s);

	/* no names, no subject, body without final newline */
	m.from_name = NULL;
	m.to_name = "  ";
	m.subject = NULL;
	m.body = "x";
	s = build(&m, PG_OK);
	assert_string_equal(s,
		"Date: Sun, 22 Nov 2026 15:54:00 +0000\r\n"
		"From: gw@pagegate.example\r\n"
		"To: office@acme.example\r\n"
		"Message-ID: <pg.12.34.00ff@gw.example>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=UTF-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"X-Pagegate-Message: 12\r\n"
		"X-Pagegate-Delivery: 34\r\n"
		"\r\n"
		"x\r\n");
	free(s);
}

static void
test_build_names(void **st)
{
	(void)st;
	struct pg_mail m = mail();
	m.to_name = "Jane \"JJ\" O\\Ortiz";
	m.from_name = "Jane Ortiz\xe2\x80\x93M\xc3\xbcller";
	char *s = build(&m, PG_OK);
	struct hdr h[32];
	size_t n = parse_headers(s, h, 32);
	assert_string_equal(hval(h, n, "To"),
			    "\"Jane \\\"JJ\\\" O\\\\Ortiz\" <office@acme.example>");
	assert_string_equal(hval(h, n, "From"),
			    "=?UTF-8?B?SmFuZSBPcnRpeuKAk03DvGxsZXI=?= <gw@pagegate.example>");
	free(s);
}

static void
test_build_injection(void **st)
{
	(void)st;
	struct pg_mail m = mail();
	m.subject = "x\r\nBcc: evil@x";
	m.to_name = "x\r\nBcc: evil@x";
	m.from_name = "y\nX-Evil: 1\r";
	m.body = "Body\r\n\r\nBcc: not a header\r\n.\r\n";
	char *s = build(&m, PG_OK);
	struct hdr h[32];
	size_t n = parse_headers(s, h, 32);
	const char *names[] = { "Date", "From", "To", "Subject", "Message-ID",
		"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
		"X-Pagegate-Message", "X-Pagegate-Delivery" };
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(h[i].name, names[i]);
	assert_null(hval(h, n, "Bcc"));
	assert_string_equal(hval(h, n, "Subject"), "x  Bcc: evil@x");
	assert_string_equal(hval(h, n, "To"), "\"x  Bcc: evil@x\" <office@acme.example>");
	assert_string_equal(hval(h, n, "From"), "\"y X-Evil: 1\" <gw@pagegate.example>");
	/* the body round-trips */
	char *body = strstr(s, "\r\n\r\n") + 4;
	char *d = qp_decode(body);
	assert_string_equal(d, "Body\r\n\r\nBcc: not a header\r\n.\r\n");
	free(d);
	free(s);

	/* bad addresses or ids are refused and nothing is appended */
	m = mail();
	m.to_addr = "a@b\r\nBcc: evil@x";
	build(&m, PG_ERR_INVAL);
	m = mail();
	m.from_addr = "Jane <gw@x>";
	build(&m, PG_ERR_INVAL);
	m = mail();
	m.message_id = "a>\r\nBcc: x";
	build(&m, PG_ERR_INVAL);
	m = mail();
	m.message_id = "";
	build(&m, PG_ERR_INVAL);
}

static void
test_build_utf8(void **st)
{
	(void)st;
	struct pg_mail m = mail();
	const char *subj = "M\xc3\xbcller \xe2\x80\x93 Heizung ausgefallen \xf0\x9f\x94\xa5";
	const char *body = "Anrufer: J\xc3\xbcrgen M\xc3\xbcller\nText: Heizung = aus  \n"
		"Eine sehr lange Zeile, die deutlich \xc3\xbc" "ber sechsundsiebzig Zeichen "
		"hinausgeht und umbrochen werden muss \xf0\x9f\x94\xa5\n";
	m.subject = subj;
	m.body = body;
	m.to_name = "J\xc3\xbcrgen";
	char *s = build(&m, PG_OK);
	struct hdr h[32];
	size_t n = parse_headers(s, h, 32);
	char *d = ew_decode(hval(h, n, "Subject"));
	assert_string_equal(d, subj);
	free(d);
	assert_string_equal(hval(h, n, "To"), "=?UTF-8?B?SsO8cmdlbg==?= <office@acme.example>");
	assert_lines_max(s, 78);
	for (const char *p = s; *p; p++)
		assert_true((unsigned char)*p < 0x80);   /* 7-bit clean */
	char *b = qp_decode(strstr(s, "\r\n\r\n") + 4);
	char *want = crlf(body);
	assert_string_equal(b, want);
	free(want);
	free(b);
	free(s);
}

static void
test_date(void **st)
{
	(void)st;
	struct pg_mail m = mail();
	m.date_ms = 0;
	char *s = build(&m, PG_OK);
	assert_memory_equal(s, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n", 39);
	free(s);
	m.date_ms = 951782400000;   /* leap day 2000 */
	s = build(&m, PG_OK);
	assert_memory_equal(s, "Date: Tue, 29 Feb 2000 00:00:00 +0000\r\n", 39);
	free(s);
}

static void
test_addr_ok(void **st)
{
	(void)st;
	char big[300];

	assert_true(pg_mime_addr_ok("a@b.c"));
	assert_true(pg_mime_addr_ok("first.last+tag@example.org"));
	assert_true(pg_mime_addr_ok("x@[127.0.0.1]"));
	assert_false(pg_mime_addr_ok(NULL));
	assert_false(pg_mime_addr_ok(""));
	assert_false(pg_mime_addr_ok("ab"));
	assert_false(pg_mime_addr_ok("a@"));
	assert_false(pg_mime_addr_ok("@b.c"));
	assert_false(pg_mime_addr_ok("a@b@c"));
	assert_false(pg_mime_addr_ok("a b@c"));
	assert_false(pg_mime_addr_ok("a<b@c"));
	assert_false(pg_mime_addr_ok("a@b>"));
	assert_false(pg_mime_addr_ok("\"a\"@b"));
	assert_false(pg_mime_addr_ok("a,b@c"));
	assert_false(pg_mime_addr_ok("a@b\r\nBcc: x@y"));
	assert_false(pg_mime_addr_ok("a@b\tc"));
	assert_false(pg_mime_addr_ok("m\xc3\xbc@x.de"));
	assert_false(pg_mime_addr_ok("a@.b"));
	assert_false(pg_mime_addr_ok("a@b."));
	assert_false(pg_mime_addr_ok("a@b..c"));
	memset(big, 'a', sizeof big);
	big[250] = '@';
	strcpy(big + 251, "b.c");                 /* 254 bytes */
	assert_true(pg_mime_addr_ok(big));
	strcpy(big + 251, "b.cd");                /* 255 bytes */
	assert_false(pg_mime_addr_ok(big));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_subject),
		cmocka_unit_test(test_utf8_subject),
		cmocka_unit_test(test_long_ascii_subject_folds),
		cmocka_unit_test(test_long_utf8_subject_folds),
		cmocka_unit_test(test_header_sanitised),
		cmocka_unit_test(test_qp_basic),
		cmocka_unit_test(test_qp_long_lines),
		cmocka_unit_test(test_qp_bound),
		cmocka_unit_test(test_build_exact),
		cmocka_unit_test(test_build_names),
		cmocka_unit_test(test_build_injection),
		cmocka_unit_test(test_build_utf8),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_addr_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
