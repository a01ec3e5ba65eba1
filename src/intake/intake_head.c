/*
 * intake_head.c - checks of a request's head that libmicrohttpd does not
 * make, as pure functions; intake_http.c applies them before any route
 * sees the request.
 *
 * libmicrohttpd decodes the path and the query in place into C strings,
 * so a NUL in the target - raw, or sent as %00 - cut the path short: an
 * acknowledgement link with "%00junk" after its token still acknowledged.
 * So the target is checked as sent, before any decoding: no control byte
 * raw, none %-encoded (the path and the query alike; no endpoint takes
 * one).  A malformed escape ("%G1", "%4") is left to the routes, which
 * find no such path or value.
 *
 * libmicrohttpd reads a chunked body itself (a chunk extension longer
 * than its buffer got a 500 it wrote) and waits for the end of a body in
 * any other transfer coding until the connection times out.  pagegate's
 * bodies are small JSON documents and forms: they come with a
 * Content-Length, and a request with a Transfer-Encoding is refused
 * before its body is read (411 for "chunked", 400 for anything else).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "intake_priv.h"

#define STR_(x) #x
#define PG_STR(x) STR_(x)

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
is_ctl(unsigned c)
{
	return c < 0x20 || c == 0x7f;
}

enum intake_target_fault
intake__target_check(const char *t, size_t n, bool *in_query)
{
	bool query = false;

	*in_query = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '?')
			query = true;
		if (is_ctl(c)) {
			*in_query = query;
			return INTAKE_TARGET_CTL;
		}
		if (c == '%' && i + 2 < n) {
			int hi = hexval((unsigned char)t[i + 1]);
			int lo = hexval((unsigned char)t[i + 2]);

			if (hi >= 0 && lo >= 0 && is_ctl((unsigned)(hi * 16 + lo))) {
				*in_query = query;
				return INTAKE_TARGET_PCT_CTL;
			}
		}
	}
	return INTAKE_TARGET_OK;
}

enum intake_te
intake__transfer_coding(const char *v)
{
	size_t n;

	if (v == NULL)
		return INTAKE_TE_NONE;
	v += strspn(v, " \t");
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n == 7 && strncasecmp(v, "chunked", 7) == 0)
		return INTAKE_TE_CHUNKED;
	return INTAKE_TE_OTHER;
}

/* ---- the whole head, before libmicrohttpd reads it (intake_gate.c) ---- */

/* RFC 9110 5.6.2: tchar. */
static bool
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static enum intake_head_verdict
bad(struct intake_head_fault *f, int status, const char *code, const char *field,
    size_t field_len, const char *message)
{
	size_t n = field_len < sizeof f->field - 1 ? field_len : sizeof f->field - 1;

	f->status = status;
	snprintf(f->code, sizeof f->code, "%s", code);
	memcpy(f->field, field, n);
	f->field[n] = '\0';
	snprintf(f->message, sizeof f->message, "%s", message);
	return INTAKE_HEAD_BAD;
}

#define BAD_LINE(f) bad(f, 400, "invalid", "request-line", 12, "the request line is " \
			"not METHOD SP TARGET SP HTTP/1.1 (RFC 9112 section 3)")

/* Not a fault yet, and the head's end not in the bytes: more may come,
 * unless max bytes are in already. */
static enum intake_head_verdict
more(size_t n, size_t max, struct intake_head_fault *f)
{
	if (n >= max)
		return bad(f, 431, "head_too_large", "head", 4, "the request head is "
			   "larger than " PG_STR(INTAKE_HEAD_MAX) " bytes");
	return INTAKE_HEAD_MORE;
}

/* The request line from b[p] (its method's first byte): *end is where the
 * first field line starts. */
static enum intake_head_verdict
request_line(const char *b, size_t n, size_t p, size_t max, size_t *end,
	     struct intake_head_fault *f)
{
	static const char http[] = "HTTP/";
	size_t i = p, j, k;
	bool q;

	while (i < n && is_tchar((unsigned char)b[i]))
		i++;
	if (i == n)
		return more(n, max, f);
	if (i == p || b[i] != ' ')
		return BAD_LINE(f);
	for (j = i + 1; j < n && b[j] != ' ' && b[j] != '\r' && b[j] != '\n'; j++)
		;
	if (j == n)
		return more(n, max, f);
	if (j == i + 1 || b[j] != ' ')
		return BAD_LINE(f);
	if (intake__target_check(b + i + 1, j - i - 1, &q) != INTAKE_TARGET_OK)
		return bad(f, 400, "invalid", q ? "query" : "path", q ? 5 : 4, q ?
			   "the request's query holds a control character (raw or "
			   "%-encoded, such as %00)" : "the request's path holds a control "
			   "character (raw or %-encoded, such as %00)");
	/* "HTTP/" DIGIT "." DIGIT, then CRLF (or a bare LF, RFC 9112 2.2) */
	for (k = 0; k < 8; k++) {
		unsigned char c;

		if (j + 1 + k == n)
			return more(n, max, f);
		c = (unsigned char)b[j + 1 + k];
		if (k < 5 ? c != (unsigned char)http[k] : k == 6 ? c != '.' :
		    !(c >= '0' && c <= '9'))
			return BAD_LINE(f);
	}
	k = j + 9;
	if (k < n && b[k] == '\r')
		k++;
	if (k == n)
		return more(n, max, f);
	if (b[k] != '\n')
		return BAD_LINE(f);
	if (b[j + 6] != '1')
		return bad(f, 505, "http_version", "request-line", 12, "only HTTP/1.0 and "
			   "HTTP/1.1 are spoken here");
	*end = k + 1;
	return INTAKE_HEAD_OK;
}

enum intake_head_verdict
intake__head_check(const char *b, size_t n, size_t max, size_t *len,
		   struct intake_head_fault *f)
{
	size_t p = 0, fields = 0;
	enum intake_head_verdict v;

	*len = 0;
	/* one empty line before the request line is ignored (RFC 9112 2.2) */
	if (n > 0 && b[0] == '\r')
		p = 1;
	if (p < n && b[p] == '\n')
		p++;
	else if (p == 1 && n > 1)
		return BAD_LINE(f);        /* a CR alone */
	if (p == n)
		return more(n, max, f);
	if (p > 0 && (b[p] == '\r' || b[p] == '\n'))
		return bad(f, 400, "invalid", "request-line", 12, "the request head "
			   "begins with empty lines, not with its request line");
	if ((v = request_line(b, n, p, max, &p, f)) != INTAKE_HEAD_OK)
		return v;
	for (;;) {
		size_t q, name;

		if (p == n)
			return more(n, max, f);
		if (b[p] == '\r' || b[p] == '\n') {      /* the blank line */
			if (b[p] == '\r' && ++p == n)
				return more(n, max, f);
			if (b[p] != '\n')
				return bad(f, 400, "invalid", "head", 4, "a CR without "
					   "its LF in the request head");
			*len = p + 1;
			return *len > max ? more(max, max, f) : INTAKE_HEAD_OK;
		}
		if (b[p] == ' ' || b[p] == '\t')
			return bad(f, 400, "invalid", "head", 4, "a header field line "
				   "starts with a blank (obsolete line folding, RFC 9112 "
				   "section 5.2)");
		if (++fields > INTAKE_HEAD_FIELDS)
			return bad(f, 431, "head_too_large", "head", 4, "the request head "
				   "has more than " PG_STR(INTAKE_HEAD_FIELDS) " header "
				   "fields");
		for (q = p; q < n && is_tchar((unsigned char)b[q]); q++)
			;
		if (q == n)
			return more(n, max, f);
		name = q - p;
		if (name == 0 || b[q] != ':')
			return bad(f, 400, "invalid", name ? b + p : "head", name ? name : 4,
				   "a header field line is NAME \":\" VALUE, with no blank "
				   "before the colon (RFC 9112 section 5)");
		for (q++; q < n && b[q] != '\n'; q++) {
			unsigned char c = (unsigned char)b[q];

			if (c == '\r') {
				if (q + 1 == n)
					return more(n, max, f);
				if (b[q + 1] == '\n')
					continue;
				return bad(f, 400, "invalid", b + p, name, "a CR without its "
					   "LF in this header's value");
			}
			if (c == '\0')
				return bad(f, 400, "invalid", b + p, name, "a NUL byte in this "
					   "header's value");
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return bad(f, 400, "invalid", b + p, name, "a control "
					   "character in this header's value");
		}
		if (q == n)
			return more(n, max, f);
		p = q + 1;
	}
}
