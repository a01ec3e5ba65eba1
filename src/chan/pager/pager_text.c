/*
 * pager_text.c - pager texts: what a rendered template becomes before it
 * goes to a paging gateway, and how it is cut to fit (pager_priv.h).
 *
 * Pagers show 80-240 characters on a small screen, so the text is
 * squeezed: line ends normalised, controls and blank runs collapsed,
 * empty lines dropped.  TAP carries 7-bit ASCII only, and some SNPP and
 * WCTP gateways too ("ascii = true"): there the text goes through ICU's
 * transliterator (pagegate/translit.h: Greek, Chinese, Lithuanian,
 * Vietnamese become readable Latin letters) and is squeezed again.
 *
 * Then it is cut to fit twice over: the device's characters (its screen)
 * and the gateway's limit in the unit the gateway counts (SNPP: bytes on
 * the wire, pager_snpp_cost; WCTP and TAP: characters).  The cut falls
 * where a word ends (else at a blank among the last 16 characters, else
 * between two characters, never inside one) and ends with a mark that
 * shows it was cut: "…", or "..." on 7-bit gateways.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pager_priv.h"

#define WORD_LOOKBACK 16            /* characters searched for a word break */
#define REPLACEMENT   0xFFFD
#define JOINER        " / "
#define MARK_UTF8     "\xe2\x80\xa6"   /* U+2026 HORIZONTAL ELLIPSIS */
#define MARK_ASCII    "..."
#define RECUT_DIVISOR 4             /* no number in the refusal: a quarter less */

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

/* The squeeze of in into out: line ends normalised, controls and blank
 * runs become one space, lines trimmed, empty lines dropped, lines joined
 * with " / " when one_line.  Invalid UTF-8 becomes U+FFFD, or '?' when
 * qmark (text bound for the transliterator). */
static pg_err
squeeze(const char *in, bool one_line, bool qmark, struct pg_buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	struct pg_buf line;
	uint32_t c;
	size_t n;
	pg_err e = PG_OK;

	pg_buf_init(&line, 1u << 20);
	if (pg_buf_adds(out, "") || pg_buf_adds(&line, "")) {
		pg_buf_free(&line);
		return PG_ERR_NOMEM;
	}
	while (*p && !e) {
		n = utf8_decode(p, &c);
		p += n;
		if (c == '\r' && *p == '\n')
			continue;               /* CRLF: the LF ends the line */
		if (c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85) {
			e = flush_line(out, &line, one_line);
			continue;
		}
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xA0) || c == 0xA0 ||
		    c == ' ') {
			if (line.len > 0 && line.data[line.len - 1] != ' ')
				e = pg_buf_add(&line, " ", 1);
			continue;
		}
		if (c == REPLACEMENT && qmark)
			e = pg_buf_add(&line, "?", 1);
		else if (c < 0x80)
			e = pg_buf_add(&line, p - 1, 1);
		else
			e = utf8_put(&line, c);
	}
	if (!e)
		e = flush_line(out, &line, one_line);
	pg_buf_free(&line);
	return e;
}

pg_err
pager_text_prepare(const char *in, unsigned flags, struct pg_translit *tr, char **out)
{
	bool ascii = flags & PAGER_TEXT_ASCII, one = flags & PAGER_TEXT_ONE_LINE;
	struct pg_buf a, b;
	pg_err e;

	*out = NULL;
	if (ascii && !tr)
		return PG_ERR_INVAL;
	pg_buf_init(&a, 1u << 20);
	pg_buf_init(&b, 4u << 20);
	e = squeeze(in ? in : "", one, ascii, &a);
	if (!e && ascii) {
		/* ICU spells the text in ASCII; its spelling may bring blank
		 * runs back ("(fire) (fire)"), so it is squeezed again */
		e = pg_buf_adds(&b, "");
		if (!e)
			e = pg_translit_ascii(tr, a.data, &b);
		pg_buf_reset(&a);
		if (!e)
			e = squeeze(b.data, one, true, &a);
	}
	pg_buf_free(&b);
	if (e) {
		pg_buf_free(&a);
		return e == PG_ERR_INVAL || e == PG_ERR_TOOBIG ? e : PG_ERR_NOMEM;
	}
	*out = pg_buf_steal(&a);
	return *out ? PG_OK : PG_ERR_NOMEM;
}

size_t
pager_cost_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* Whether s[0..len) followed by mark fits both limits; tmp is scratch. */
static bool
fits(const char *s, size_t len, const char *mark, const struct pager_limits *l,
     struct pg_buf *tmp)
{
	size_t ml = strlen(mark);

	if (l->max_chars &&
	    pager_cost_chars(s, len) + pager_cost_chars(mark, ml) > l->max_chars)
		return false;
	if (!l->max_cost)
		return true;
	pg_buf_reset(tmp);
	if (pg_buf_add(tmp, s, len) || pg_buf_add(tmp, mark, ml))
		return false;
	return (l->cost ? l->cost : pager_cost_chars)(tmp->data, tmp->len) <= l->max_cost;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\n';
}

char *
pager_text_fit(const char *text, const struct pager_limits *l, bool recut)
{
	const char *mark = l->ascii ? MARK_ASCII : MARK_UTF8;
	size_t len = strlen(text), ml = strlen(mark), lo, hi, k, cut, i, chars;
	size_t *offs = NULL, nch = 0;
	struct pg_buf tmp, out;
	char *r = NULL;

	pg_buf_init(&tmp, 4u << 20);
	pg_buf_init(&out, 4u << 20);
	if (recut && len >= ml && !memcmp(text + len - ml, mark, ml))
		len -= ml;                      /* our mark from the cut before */
	if (!recut && fits(text, len, "", l, &tmp)) {
		r = strdup(text);
		goto out;
	}
	/* the character starts: the cut never falls inside one */
	if (!(offs = malloc((len + 1) * sizeof *offs)))
		goto out;
	for (i = 0; i < len; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			offs[nch++] = i;
	offs[nch] = len;
	if (!fits(text, 0, mark, l, &tmp)) {
		mark = "";                      /* limits too small for the mark */
		ml = 0;
	}
	/* the most characters that fit with the mark (the measures grow
	 * with the text) */
	for (lo = 0, hi = nch; lo < hi; ) {
		k = (lo + hi + 1) / 2;
		if (fits(text, offs[k], mark, l, &tmp))
			lo = k;
		else
			hi = k - 1;
	}
	cut = offs[lo];
	/* where a word ends: just before a blank, else at a blank among the
	 * last WORD_LOOKBACK characters */
	if (cut < len && !blank(text[cut]))
		for (i = cut, chars = 0; i > 0 && chars < WORD_LOOKBACK; i--) {
			if (blank(text[i - 1])) {
				cut = i - 1;
				break;
			}
			if (((unsigned char)text[i - 1] & 0xC0) != 0x80)
				chars++;
		}
	/* no dangling separator before the mark */
	while (cut > 0 && (blank(text[cut - 1]) || text[cut - 1] == '/'))
		cut--;
	if (pg_buf_add(&out, text, cut) || pg_buf_add(&out, mark, ml) || pg_buf_adds(&out, ""))
		goto out;
	r = pg_buf_steal(&out);
out:
	free(offs);
	pg_buf_free(&tmp);
	pg_buf_free(&out);
	return r;
}

size_t
pager_recut_limit(size_t sent, const char *refusal)
{
	const char *p = refusal ? refusal : "";
	unsigned long n = 0;

	while (*p && (*p < '0' || *p > '9'))
		p++;
	if (*p) {
		char *end;
		n = strtoul(p, &end, 10);
	}
	if (n > 0 && n < sent)
		return (size_t)n;
	return sent > 1 ? sent - (sent / RECUT_DIVISOR ? sent / RECUT_DIVISOR : 1) : 0;
}
