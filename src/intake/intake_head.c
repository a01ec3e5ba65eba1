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
#include <string.h>
#include <strings.h>

#include "intake_priv.h"

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
