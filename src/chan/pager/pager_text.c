/*
 * pager_text.c - pager texts: what a rendered template becomes before it
 * goes to a paging gateway (pager_priv.h).
 *
 * Pagers show 80-240 characters on a small screen, so the text is
 * squeezed: line ends normalised, controls and blank runs collapsed,
 * empty lines dropped, then cut to the device's max_length at a character
 * (preferably a word) boundary.  TAP carries 7-bit ASCII only, and some
 * SNPP gateways too ("ascii = true"): there Latin letters lose their
 * accents (é -> e, ß -> ss, Æ -> AE), common punctuation becomes its ASCII
 * look-alike (“ ” -> ", – — -> -, … -> ...), the euro sign becomes EUR,
 * and every other character becomes '?'.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pager_priv.h"

#define WORD_LOOKBACK 16            /* characters searched for a word break */
#define REPLACEMENT   0xFFFD
#define JOINER        " / "

/* ASCII look-alikes, by code point (sorted). */
static const struct translit { uint32_t cp; const char *s; } translit[] = {
	{ 0x00A0, " " }, { 0x00A1, "!" }, { 0x00A2, "c" }, { 0x00A3, "GBP" },
	{ 0x00A5, "JPY" }, { 0x00A7, "S" }, { 0x00A9, "(c)" }, { 0x00AB, "\"" },
	{ 0x00AD, "-" }, { 0x00AE, "(R)" }, { 0x00B0, " deg" }, { 0x00B1, "+/-" },
	{ 0x00B2, "2" }, { 0x00B3, "3" }, { 0x00B5, "u" }, { 0x00B7, "." },
	{ 0x00B9, "1" }, { 0x00BB, "\"" }, { 0x00BC, "1/4" }, { 0x00BD, "1/2" },
	{ 0x00BE, "3/4" }, { 0x00BF, "?" },
	{ 0x00C0, "A" }, { 0x00C1, "A" }, { 0x00C2, "A" }, { 0x00C3, "A" },
	{ 0x00C4, "A" }, { 0x00C5, "A" }, { 0x00C6, "AE" }, { 0x00C7, "C" },
	{ 0x00C8, "E" }, { 0x00C9, "E" }, { 0x00CA, "E" }, { 0x00CB, "E" },
	{ 0x00CC, "I" }, { 0x00CD, "I" }, { 0x00CE, "I" }, { 0x00CF, "I" },
	{ 0x00D0, "D" }, { 0x00D1, "N" }, { 0x00D2, "O" }, { 0x00D3, "O" },
	{ 0x00D4, "O" }, { 0x00D5, "O" }, { 0x00D6, "O" }, { 0x00D7, "x" },
	{ 0x00D8, "O" }, { 0x00D9, "U" }, { 0x00DA, "U" }, { 0x00DB, "U" },
	{ 0x00DC, "U" }, { 0x00DD, "Y" }, { 0x00DE, "TH" }, { 0x00DF, "ss" },
	{ 0x00E0, "a" }, { 0x00E1, "a" }, { 0x00E2, "a" }, { 0x00E3, "a" },
	{ 0x00E4, "a" }, { 0x00E5, "a" }, { 0x00E6, "ae" }, { 0x00E7, "c" },
	{ 0x00E8, "e" }, { 0x00E9, "e" }, { 0x00EA, "e" }, { 0x00EB, "e" },
	{ 0x00EC, "i" }, { 0x00ED, "i" }, { 0x00EE, "i" }, { 0x00EF, "i" },
	{ 0x00F0, "d" }, { 0x00F1, "n" }, { 0x00F2, "o" }, { 0x00F3, "o" },
	{ 0x00F4, "o" }, { 0x00F5, "o" }, { 0x00F6, "o" }, { 0x00F7, "/" },
	{ 0x00F8, "o" }, { 0x00F9, "u" }, { 0x00FA, "u" }, { 0x00FB, "u" },
	{ 0x00FC, "u" }, { 0x00FD, "y" }, { 0x00FE, "th" }, { 0x00FF, "y" },
	{ 0x0106, "C" }, { 0x0107, "c" }, { 0x010C, "C" }, { 0x010D, "c" },
	{ 0x010E, "D" }, { 0x010F, "d" }, { 0x0110, "D" }, { 0x0111, "d" },
	{ 0x0118, "E" }, { 0x0119, "e" }, { 0x011A, "E" }, { 0x011B, "e" },
	{ 0x011E, "G" }, { 0x011F, "g" }, { 0x0130, "I" }, { 0x0131, "i" },
	{ 0x0141, "L" }, { 0x0142, "l" }, { 0x0143, "N" }, { 0x0144, "n" },
	{ 0x0147, "N" }, { 0x0148, "n" }, { 0x0150, "O" }, { 0x0151, "o" },
	{ 0x0152, "OE" }, { 0x0153, "oe" }, { 0x0158, "R" }, { 0x0159, "r" },
	{ 0x015A, "S" }, { 0x015B, "s" }, { 0x015E, "S" }, { 0x015F, "s" },
	{ 0x0160, "S" }, { 0x0161, "s" }, { 0x0162, "T" }, { 0x0163, "t" },
	{ 0x0164, "T" }, { 0x0165, "t" }, { 0x016E, "U" }, { 0x016F, "u" },
	{ 0x0170, "U" }, { 0x0171, "u" }, { 0x0178, "Y" }, { 0x0179, "Z" },
	{ 0x017A, "z" }, { 0x017B, "Z" }, { 0x017C, "z" }, { 0x017D, "Z" },
	{ 0x017E, "z" },
	{ 0x2010, "-" }, { 0x2011, "-" }, { 0x2012, "-" }, { 0x2013, "-" },
	{ 0x2014, "-" }, { 0x2015, "-" }, { 0x2018, "'" }, { 0x2019, "'" },
	{ 0x201A, "'" }, { 0x201C, "\"" }, { 0x201D, "\"" }, { 0x201E, "\"" },
	{ 0x2022, "*" }, { 0x2026, "..." }, { 0x2032, "'" }, { 0x2033, "\"" },
	{ 0x20AC, "EUR" }, { 0x2122, "TM" },
};

/* Decodes one UTF-8 sequence at s (NUL-terminated): sets *cp (REPLACEMENT
 * for an invalid, overlong or surrogate sequence) and returns the bytes
 * consumed, at least 1. */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2; c &= 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3; c &= 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		*cp = REPLACEMENT;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = REPLACEMENT;
			return i;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		c = REPLACEMENT;
	*cp = c;
	return n;
}

static pg_err
utf8_put(struct pg_buf *b, uint32_t c)
{
	unsigned char o[4];
	size_t n;

	if (c < 0x80) {
		o[0] = (unsigned char)c; n = 1;
	} else if (c < 0x800) {
		o[0] = (unsigned char)(0xC0 | (c >> 6));
		o[1] = (unsigned char)(0x80 | (c & 0x3F)); n = 2;
	} else if (c < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (c >> 12));
		o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (c & 0x3F)); n = 3;
	} else {
		o[0] = (unsigned char)(0xF0 | (c >> 18));
		o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
		o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
		o[3] = (unsigned char)(0x80 | (c & 0x3F)); n = 4;
	}
	return pg_buf_add(b, o, n);
}

static const char *
ascii_of(uint32_t c)
{
	size_t lo = 0, hi = sizeof translit / sizeof translit[0];

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (translit[mid].cp == c)
			return translit[mid].s;
		if (translit[mid].cp < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return "?";
}

size_t
pager_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

size_t
pager_utf8_truncate(char *s, size_t max_chars)
{
	size_t i = 0, chars = 0, start;

	while (s[i]) {
		if (chars == max_chars) {
			s[i] = '\0';
			return i;
		}
		start = i++;
		/* a lead byte and its continuation bytes, as far as present */
		while (s[i] && ((unsigned char)s[i] & 0xC0) == 0x80 && i - start < 4)
			i++;
		if ((unsigned char)s[start] >= 0xC0) {
			size_t want = (unsigned char)s[start] >= 0xF0 ? 4 :
				      (unsigned char)s[start] >= 0xE0 ? 3 : 2;
			if (i - start < want) {      /* sequence cut short: drop it */
				s[start] = '\0';
				return start;
			}
		}
		chars++;
	}
	return i;
}

/* Appends the finished line (trailing blanks trimmed) unless empty. */
static pg_err
flush_line(struct pg_buf *out, struct pg_buf *line, bool one_line)
{
	pg_err e = PG_OK;

	while (line->len > 0 && line->data[line->len - 1] == ' ')
		line->data[--line->len] = '\0';
	if (line->len == 0)
		return PG_OK;
	if (out->len > 0)
		e = pg_buf_adds(out, one_line ? JOINER : "\n");
	if (!e)
		e = pg_buf_add(out, line->data, line->len);
	pg_buf_reset(line);
	return e;
}

/* Cuts out (UTF-8) to max_chars: where a word ends when the cut falls
 * just before a blank, else at a blank among the last WORD_LOOKBACK
 * characters when there is one, else at the character limit. */
static void
cut(struct pg_buf *out, size_t max_chars)
{
	size_t len, i, chars = 0;
	char next;

	if (pager_utf8_chars(out->data) <= max_chars)
		return;
	for (len = 0, i = 0; out->data[len]; len++)     /* byte offset of the cut */
		if (((unsigned char)out->data[len] & 0xC0) != 0x80 && i++ == max_chars)
			break;
	next = out->data[len];
	if (next != ' ' && next != '\n') {
		for (i = len; i > 0 && chars < WORD_LOOKBACK; i--) {
			char c = out->data[i - 1];
			if (c == ' ' || c == '\n') {
				len = i - 1;
				break;
			}
			if (((unsigned char)c & 0xC0) != 0x80)
				chars++;
		}
	}
	/* no dangling separator at the end */
	while (len > 0 && (out->data[len - 1] == ' ' || out->data[len - 1] == '\n' ||
			   out->data[len - 1] == '/'))
		len--;
	out->data[len] = '\0';
	out->len = len;
}

char *
pager_text_prepare(const char *in, unsigned flags, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	bool ascii = flags & PAGER_TEXT_ASCII, one = flags & PAGER_TEXT_ONE_LINE;
	struct pg_buf out, line;
	uint32_t c;
	pg_err e = PG_OK;

	pg_buf_init(&out, 1u << 20);
	pg_buf_init(&line, 1u << 20);
	if (pg_buf_adds(&out, "") || pg_buf_adds(&line, ""))
		goto fail;
	while (*p && !e) {
		p += utf8_decode(p, &c);
		if (c == '\r' && *p == '\n')
			continue;               /* CRLF: the LF ends the line */
		if (c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85) {
			e = flush_line(&out, &line, one);
			continue;
		}
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xA0) || c == 0xA0 ||
		    c == ' ') {
			if (line.len > 0 && line.data[line.len - 1] != ' ')
				e = pg_buf_add(&line, " ", 1);
			continue;
		}
		if (c < 0x80)
			e = pg_buf_add(&line, p - 1, 1);
		else if (ascii)
			e = pg_buf_adds(&line, ascii_of(c));
		else
			e = utf8_put(&line, c);
	}
	if (!e)
		e = flush_line(&out, &line, one);
	pg_buf_free(&line);
	if (e)
		goto fail;
	cut(&out, max_chars);
	return pg_buf_steal(&out);
fail:
	pg_buf_free(&line);
	pg_buf_free(&out);
	return NULL;
}
