/*
 * mime.c - building an Internet message (mime.h): RFC 5322 headers with
 * RFC 2047 encoded-words for non-ASCII text, an RFC 2045 quoted-printable
 * body, CRLF line ends.  Pure functions, no I/O.
 *
 * Every header value goes through sanitize() first: CR, LF and the other
 * control characters become spaces and malformed UTF-8 becomes '?', so no
 * input can start a new header line or smuggle raw bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "pagegate/mime.h"

#define HDR_FOLD_COL   78     /* fold plain ASCII header text here */
#define EW_LINE_MAX    76     /* RFC 2047: lines holding encoded-words */
#define EW_MAX         75     /* RFC 2047: one encoded-word */
#define EW_PREFIX      "=?UTF-8?B?"
#define EW_SUFFIX      "?="
#define EW_OVERHEAD    12     /* strlen(EW_PREFIX) + strlen(EW_SUFFIX) */
#define EW_MAX_BYTES   ((EW_MAX - EW_OVERHEAD) / 4 * 3)   /* 45 */
#define HDR_WORD_MAX   900    /* a longer unbroken ASCII run is encoded */
#define NAME_QUOTE_MAX 64     /* longer display names are encoded */
#define QP_LINE_MAX    76     /* RFC 2045 */
#define ADDR_MAX       254    /* RFC 5321 path limit less the brackets */
#define FOLD           "\r\n "

static const char hex_digits[] = "0123456789ABCDEF";

/* Length of the well-formed UTF-8 sequence at p (n bytes left), or 0 when
 * it is malformed (overlong, surrogate, past U+10FFFF, truncated). */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < len)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

/* A copy of s safe for a header: controls (C0, DEL, C1) become spaces,
 * malformed UTF-8 bytes '?'.  Sets *ascii when only ASCII remains. */
static char *
sanitize(const char *s, bool *ascii)
{
	size_t n = strlen(s), i = 0, l;
	char *d = malloc(n + 1);
	const unsigned char *p = (const unsigned char *)s;

	if (!d)
		return NULL;
	*ascii = true;
	while (i < n) {
		l = utf8_seq(p + i, n - i);
		if (l == 0) {
			d[i++] = '?';
			continue;
		}
		if (l == 1) {
			d[i] = (p[i] < 0x20 || p[i] == 0x7f) ? ' ' : (char)p[i];
			i++;
			continue;
		}
		if (l == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0) {
			d[i] = d[i + 1] = ' ';          /* C1 control */
			i += 2;
			continue;
		}
		*ascii = false;
		memcpy(d + i, p + i, l);
		i += l;
	}
	d[n] = '\0';
	return d;
}

/* Appends s[0..n) (sanitized UTF-8) as B encoded-words starting at column
 * *col, each word at most EW_MAX long and split only between characters,
 * folding (CRLF SP) so that no line passes EW_LINE_MAX. */
static pg_err
put_ewords(struct pg_buf *out, const char *s, size_t n, size_t *col)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char b64[EW_MAX_BYTES / 3 * 4 + 1];
	size_t i = 0, j, l, avail, maxb;
	pg_err e;
	int blen;

	while (i < n) {
		avail = *col < EW_LINE_MAX ? EW_LINE_MAX - *col : 0;
		maxb = avail > EW_OVERHEAD ? (avail - EW_OVERHEAD) / 4 * 3 : 0;
		if (maxb > EW_MAX_BYTES)
			maxb = EW_MAX_BYTES;
		for (j = i; j < n; j += l) {
			l = utf8_seq(p + j, n - j);
			if (l == 0)
				l = 1;          /* cannot happen after sanitize */
			if (j + l - i > maxb)
				break;
		}
		if (j == i) {                   /* no room left on this line */
			if ((e = pg_buf_adds(out, FOLD)))
				return e;
			*col = 1;
			continue;
		}
		blen = EVP_EncodeBlock(b64, p + i, (int)(j - i));
		if ((e = pg_buf_adds(out, EW_PREFIX)) ||
		    (e = pg_buf_add(out, b64, (size_t)blen)) ||
		    (e = pg_buf_adds(out, EW_SUFFIX)))
			return e;
		*col += EW_OVERHEAD + (size_t)blen;
		i = j;
		if (i < n) {
			if ((e = pg_buf_adds(out, FOLD)))
				return e;
			*col = 1;
		}
	}
	return PG_OK;
}

/* Appends printable ASCII s[0..n), folding before a space when a word
 * would pass HDR_FOLD_COL. */
static pg_err
put_folded(struct pg_buf *out, const char *s, size_t n, size_t *col)
{
	size_t i = 0, ws, w, start;
	pg_err e;

	while (i < n) {
		start = i;
		while (i < n && s[i] == ' ')
			i++;
		ws = i - start;
		while (i < n && s[i] != ' ')
			i++;
		w = i - start - ws;
		if (ws > 0 && w > 0 && *col + ws + w > HDR_FOLD_COL) {
			if ((e = pg_buf_adds(out, "\r\n")))
				return e;
			*col = 0;
		}
		if ((e = pg_buf_add(out, s + start, ws + w)))
			return e;
		*col += ws + w;
	}
	return PG_OK;
}

/* True when sanitized ASCII text can go out as it is: no "=?" that a
 * reader would take for an encoded-word, no unfoldable giant word. */
static bool
plain_ok(const char *s)
{
	size_t run = 0;

	if (strstr(s, "=?"))
		return false;
	for (; *s; s++) {
		run = *s == ' ' ? 0 : run + 1;
		if (run > HDR_WORD_MAX)
			return false;
	}
	return true;
}

static void
truncate_to(struct pg_buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

static pg_err
header_value(struct pg_buf *out, const char *s, size_t *col)
{
	bool ascii;
	char *c = sanitize(s, &ascii);
	pg_err e;

	if (!c)
		return PG_ERR_NOMEM;
	if (ascii && plain_ok(c))
		e = put_folded(out, c, strlen(c), col);
	else
		e = put_ewords(out, c, strlen(c), col);
	free(c);
	return e;
}

pg_err
pg_mime_header_value(struct pg_buf *out, const char *s, size_t name_len)
{
	size_t start = out->len, col = name_len;
	pg_err e = header_value(out, s, &col);

	if (e)
		truncate_to(out, start);
	return e;
}

pg_err
pg_mime_qp(struct pg_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len, col = 0, tl, limit;
	char tok[3];
	bool eol;
	pg_err e = PG_OK;

	while (*p) {
		if (*p == '\r' || *p == '\n') {
			if (p[0] == '\r' && p[1] == '\n')
				p++;
			p++;
			if ((e = pg_buf_add(out, "\r\n", 2)))
				goto fail;
			col = 0;
			continue;
		}
		eol = p[1] == '\0' || p[1] == '\r' || p[1] == '\n';
		if ((*p >= 33 && *p <= 126 && *p != '=') ||
		    ((*p == ' ' || *p == '\t') && !eol)) {
			tok[0] = (char)*p;
			tl = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex_digits[*p >> 4];
			tok[2] = hex_digits[*p & 0xF];
			tl = 3;
		}
		/* the last token may end the line at column 76; any other must
		 * leave room for the soft break's '=' */
		limit = eol ? QP_LINE_MAX : QP_LINE_MAX - 1;
		if (col + tl > limit) {
			if ((e = pg_buf_add(out, "=\r\n", 3)))
				goto fail;
			col = 0;
		}
		if ((e = pg_buf_add(out, tok, tl)))
			goto fail;
		col += tl;
		p++;
	}
	return PG_OK;
fail:
	truncate_to(out, start);
	return e;
}

/* Characters allowed in an address or message id: printable ASCII other
 * than space, <>, quotes, comma and the header specials ( ) ; : \ . */
static bool
addr_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("<>\"',;:()\\", c);
}

bool
pg_mime_addr_ok(const char *addr)
{
	const char *at = NULL, *p;
	size_t n;

	if (!addr)
		return false;
	n = strlen(addr);
	if (n == 0 || n > ADDR_MAX)
		return false;
	for (p = addr; *p; p++) {
		if (!addr_char_ok((unsigned char)*p))
			return false;
		if (*p == '@') {
			if (at)
				return false;
			at = p;
		}
	}
	if (!at || at == addr || at[1] == '\0')
		return false;
	if (at[1] == '.' || addr[n - 1] == '.' || strstr(at, ".."))
		return false;
	return true;
}

static bool
msgid_ok(const char *id)
{
	if (!id || !*id || strlen(id) > ADDR_MAX)
		return false;
	for (; *id; id++)
		if (!addr_char_ok((unsigned char)*id))
			return false;
	return true;
}

/* Appends "name <addr>" (or the bare address): an ASCII name short enough
 * as a quoted-string, any other as encoded-words. */
static pg_err
put_mailbox(struct pg_buf *out, const char *name, const char *addr, size_t *col)
{
	char *c = NULL, *t;
	bool ascii = true;
	size_t n, i, alen = strlen(addr);
	pg_err e = PG_OK;

	if (name) {
		if (!(c = sanitize(name, &ascii)))
			return PG_ERR_NOMEM;
		for (t = c; *t == ' '; t++)
			;
		n = strlen(t);
		while (n > 0 && t[n - 1] == ' ')
			n--;
		if (n == 0)
			goto bare;
		if (ascii && n <= NAME_QUOTE_MAX && !strstr(t, "=?")) {
			if ((e = pg_buf_add(out, "\"", 1)))
				goto out;
			for (i = 0; i < n; i++) {
				if ((t[i] == '"' || t[i] == '\\') &&
				    (e = pg_buf_add(out, "\\", 1)))
					goto out;
				if ((e = pg_buf_add(out, t + i, 1)))
					goto out;
				*col += (t[i] == '"' || t[i] == '\\') ? 2 : 1;
			}
			if ((e = pg_buf_add(out, "\"", 1)))
				goto out;
			*col += 2;
		} else if ((e = put_ewords(out, t, n, col)))
			goto out;
		if (*col + 3 + alen > HDR_FOLD_COL) {
			if ((e = pg_buf_adds(out, "\r\n")))
				goto out;
			*col = 0;
		}
		e = pg_buf_printf(out, " <%s>", addr);
		*col += 3 + alen;
		goto out;
	}
bare:
	e = pg_buf_adds(out, addr);
	*col += alen;
out:
	free(c);
	return e;
}

/* "Sun, 22 Nov 2026 15:34:00 +0000" (RFC 5322 date-time, always UTC). */
static pg_err
put_date(struct pg_buf *out, int64_t ms)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char mons[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return PG_ERR_INVAL;
	return pg_buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
			     days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon],
			     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static pg_err
build(struct pg_buf *out, const struct pg_mail *m)
{
	size_t col, body_start;
	pg_err e;

	if ((e = put_date(out, m->date_ms)))
		return e;
	col = 6;
	if ((e = pg_buf_adds(out, "From: ")) ||
	    (e = put_mailbox(out, m->from_name, m->from_addr, &col)))
		return e;
	col = 4;
	if ((e = pg_buf_adds(out, "\r\nTo: ")) ||
	    (e = put_mailbox(out, m->to_name, m->to_addr, &col)) ||
	    (e = pg_buf_adds(out, "\r\n")))
		return e;
	if (m->subject) {
		col = 9;
		if ((e = pg_buf_adds(out, "Subject: ")) ||
		    (e = header_value(out, m->subject, &col)) ||
		    (e = pg_buf_adds(out, "\r\n")))
			return e;
	}
	if ((e = pg_buf_printf(out,
			"Message-ID: <%s>\r\n"
			"MIME-Version: 1.0\r\n"
			"Content-Type: text/plain; charset=UTF-8\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n"
			"X-Pagegate-Message: %lld\r\n"
			"X-Pagegate-Delivery: %lld\r\n"
			"\r\n",
			m->message_id, (long long)m->pg_message_id,
			(long long)m->pg_delivery_id)))
		return e;
	body_start = out->len;
	if ((e = pg_mime_qp(out, m->body ? m->body : "")))
		return e;
	if (out->len > body_start &&
	    (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0))
		e = pg_buf_adds(out, "\r\n");
	return e;
}

pg_err
pg_mime_build(struct pg_buf *out, const struct pg_mail *m)
{
	size_t start = out->len;
	pg_err e;

	if (!pg_mime_addr_ok(m->from_addr) || !pg_mime_addr_ok(m->to_addr) ||
	    !msgid_ok(m->message_id))
		return PG_ERR_INVAL;
	if ((e = build(out, m)))
		truncate_to(out, start);
	return e;
}
