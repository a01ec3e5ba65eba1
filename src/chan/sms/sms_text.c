/*
 * sms_text.c - what an SMS carries: normalisation, the choice between
 * GSM-7 and UCS-2, segment counting and truncation; and the GSM-7-only
 * form of a text for providers and phones that take nothing else.  Pure
 * functions (the transliterator is ICU's, handed in).
 *
 * Rules (also stated for template authors in the README):
 *
 *  1. Normalisation.  CR LF and lone CR become LF; tabs and other control
 *     characters become spaces; runs of spaces become one space; spaces
 *     next to a line break and blank lines are removed; the text is
 *     trimmed.  Invalid UTF-8 becomes U+FFFD.  Nothing is transliterated
 *     here (see sms_text_gsm).
 *
 *  2. Coding.  GSM-7 (3GPP TS 23.038 default alphabet) when every
 *     character that will be sent is in its basic or extension table;
 *     otherwise UCS-2.  Extension characters ( ^ { } \ [ ] ~ | and the
 *     euro sign) take 2 septets.  UCS-2 counts UTF-16 code units: a
 *     character outside the BMP (most emoji) takes 2.  An ellipsis "…"
 *     (not in GSM-7: a summary ends in one) goes as "..." when that lets
 *     the text go in GSM-7.  A long text whose only non-GSM characters
 *     lie beyond the point where GSM-7 truncation would cut it is sent in
 *     GSM-7.
 *
 *  3. Segments.  One SMS holds 160 septets or 70 units; past that, each
 *     concatenated segment holds 153 septets or 67 units, and a character
 *     never straddles two segments.  Providers count the same way (Kannel
 *     1.4.5, checked against its fake SMSC), except that Kannel cuts UCS-2
 *     every 67 units even inside a surrogate pair: sms_utf16be_segments
 *     fills the unit such a pair would leave with an invisible U+200B.
 *
 *  4. Truncation.  A text that needs more segments than the device allows
 *     (max_segments, 1..10, default 3) is cut after the last whole
 *     character that leaves room for the marker, moved back to the end of
 *     a word when one ends within the last WORD_BACK (20) characters (so
 *     a word or a phone number is not cut in half; a longer one, and text
 *     without spaces such as Chinese, is cut at a character), spaces
 *     before the cut are dropped, and the marker is appended: "..." in
 *     GSM-7 (the ellipsis character is not in the GSM alphabet), "…" in
 *     UCS-2.  The result uses exactly the allowed segments or fewer.
 *     What comes last is cut first: the default sms.txt puts the
 *     operator's text first and the caller, the client and how to
 *     acknowledge after it.
 */
#include <stdlib.h>
#include <string.h>

#include "pagegate/translit.h"
#include "sms_priv.h"

/* Code points looked at: more than the longest text that fits 10
 * segments (10 * 153 septets), so anything past it is cut anyway. */
#define SCAN_MAX       1700
#define REPLACEMENT    0xFFFDu
#define ELLIPSIS       0x2026u
#define ZWSP           0x200Bu   /* zero width space: fills a UCS-2 unit */
#define WORD_BACK      20        /* most characters given up to cut at a word */
#define GSM_ENOUGH     8192      /* GSM-7 text bytes: more than 10 segments hold */
#define RUN_MAX        (64 * 1024)

/* Non-ASCII characters of the GSM 03.38 basic table. */
static const uint16_t gsm_basic_extra[] = {
	0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7,
	0x00D8, 0x00F8, 0x00C5, 0x00E5, 0x0394, 0x03A6, 0x0393, 0x039B,
	0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, 0x00C6, 0x00E6,
	0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6, 0x00D1, 0x00DC,
	0x00A7, 0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

int
sms_gsm7_cost(uint32_t cp)
{
	if (cp == '\n' || cp == '\r')
		return 1;
	if (cp == '\f' || cp == 0x20AC)            /* extension table */
		return 2;
	if (cp >= 0x20 && cp < 0x7f) {
		if (cp == '`')
			return 0;
		return strchr("^{}\\[~]|", (int)cp) ? 2 : 1;
	}
	for (size_t i = 0; i < sizeof gsm_basic_extra / sizeof gsm_basic_extra[0]; i++)
		if (gsm_basic_extra[i] == cp)
			return 1;
	return 0;
}

static unsigned
ucs2_cost(uint32_t cp)
{
	return cp > 0xFFFF ? 2 : 1;
}

unsigned
sms_segments(const unsigned char *costs, size_t n, size_t single, size_t multi)
{
	size_t total = 0, used = 0, i;
	unsigned seg = 1;

	for (i = 0; i < n; i++)
		total += costs[i];
	if (total <= single)
		return 1;
	for (i = 0; i < n; i++) {
		if (used + costs[i] > multi) {
			seg++;
			used = 0;
		}
		used += costs[i];
	}
	return seg;
}

/* Decodes one UTF-8 sequence at s (n bytes left); sets *len to the bytes
 * consumed.  Invalid input yields U+FFFD and consumes one byte. */
static uint32_t
utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t cp;
	size_t need, i;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		cp = s[0] & 0x1F;
		need = 1;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		cp = s[0] & 0x0F;
		need = 2;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		cp = s[0] & 0x07;
		need = 3;
	} else
		return REPLACEMENT;
	if (n < need + 1)
		return REPLACEMENT;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return REPLACEMENT;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return REPLACEMENT;
	*len = need + 1;
	return cp;
}

static pg_err
utf8_put(struct pg_buf *b, uint32_t cp)
{
	unsigned char o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		o[0] = (unsigned char)(0xF0 | (cp >> 18));
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return pg_buf_add(b, o, n);
}

static bool
is_ctl(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xA0);
}

/* Rule 1 over the UTF-8 input: fills cps (room for SCAN_MAX) and sets *more
 * when text was left unread. */
static size_t
normalise(const char *in, uint32_t *cps, bool *more)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), i = 0, o = 0, len;
	bool pending_space = false, pending_lf = false;
	uint32_t cp;

	*more = false;
	while (i < n) {
		cp = utf8_next(s + i, n - i, &len);
		i += len;
		if (cp == '\r') {
			if (i < n && s[i] == '\n')
				continue;
			cp = '\n';
		}
		if (cp == '\n') {
			pending_space = false;      /* no space before a break */
			pending_lf = o > 0;         /* none at the start */
			continue;
		}
		if (cp == ' ' || is_ctl(cp)) {
			pending_space = o > 0 && !pending_lf;
			continue;
		}
		if (o + 2 >= SCAN_MAX) {
			*more = true;
			break;
		}
		if (pending_lf)
			cps[o++] = '\n';
		else if (pending_space)
			cps[o++] = ' ';
		pending_lf = pending_space = false;
		cps[o++] = cp;
	}
	return o;
}

/* Rule 4: the largest k <= limit such that cps[0..k) followed by the
 * marker (costs mcost each, mlen of them) fits max segments. */
static size_t
cut_point(const unsigned char *costs, size_t limit, unsigned mcost, size_t mlen,
	  size_t single, size_t multi, unsigned max)
{
	size_t k, total = 0, used = 0, best = 0, j, u;
	unsigned seg = 1, s;

	for (k = 0; k <= limit; k++) {
		/* cps[0..k) packed greedily: seg, used; total units */
		bool fits = total + mcost * mlen <= single;
		if (!fits) {
			s = seg;
			u = used;
			for (j = 0; j < mlen; j++) {
				if (u + mcost > multi) {
					s++;
					u = 0;
				}
				u += mcost;
			}
			fits = s <= max;
		}
		if (!fits)
			break;
		best = k;
		if (k == limit)
			break;
		total += costs[k];
		if (used + costs[k] > multi) {
			seg++;
			used = 0;
		}
		used += costs[k];
	}
	return best;
}

/* Rule 4's word boundary: moves a cut that keeps cps[0..k) of n back to
 * the last space or line break within WORD_BACK characters, unless it
 * already falls on one (cps[k] is a space, or nothing follows). */
static size_t
word_cut(const uint32_t *cps, size_t k, size_t n)
{
	if (k >= n || cps[k] == ' ' || cps[k] == '\n')
		return k;
	for (size_t j = k; j > 0 && k - j < WORD_BACK; j--)
		if (cps[j - 1] == ' ' || cps[j - 1] == '\n')
			return j - 1;
	return k;
}

/* Rule 2's GSM-7 view of cps[0..n): each ellipsis as three full stops,
 * into out (room for SCAN_MAX); *more when it did not all fit. */
static size_t
dots(const uint32_t *cps, size_t n, uint32_t *out, bool *more)
{
	size_t o = 0;

	*more = false;
	for (size_t i = 0; i < n; i++) {
		size_t w = cps[i] == ELLIPSIS ? 3 : 1;
		if (o + w > SCAN_MAX) {
			*more = true;
			break;
		}
		for (size_t j = 0; j < w; j++)
			out[o++] = w == 3 ? '.' : cps[i];
	}
	return o;
}

pg_err
sms_text_prepare(const char *in, unsigned max_segments, struct sms_text *t)
{
	uint32_t *cps = malloc(SCAN_MAX * sizeof *cps), *gcps = malloc(SCAN_MAX * sizeof *gcps);
	unsigned char *gsm = malloc(SCAN_MAX), *ucs = malloc(SCAN_MAX);
	const uint32_t *src;
	size_t n, gn, i, g, k;
	bool more, gmore;
	pg_err e = PG_OK;

	memset(t, 0, sizeof *t);
	pg_buf_init(&t->utf8, SCAN_MAX * 4 + 16);
	if (!cps || !gcps || !gsm || !ucs) {
		e = PG_ERR_NOMEM;
		goto out;
	}
	if (max_segments < 1)
		max_segments = 1;
	if (max_segments > SMS_MAX_SEGMENTS)
		max_segments = SMS_MAX_SEGMENTS;
	n = normalise(in ? in : "", cps, &more);
	if (n == 0) {
		e = PG_ERR_INVAL;
		goto out;
	}
	gn = dots(cps, n, gcps, &gmore);
	gmore = gmore || more;
	g = gn;
	for (i = 0; i < gn; i++) {
		gsm[i] = (unsigned char)sms_gsm7_cost(gcps[i]);
		if (gsm[i] == 0 && g == gn)
			g = i;
	}
	for (i = 0; i < n; i++)
		ucs[i] = (unsigned char)ucs2_cost(cps[i]);

	/* Rule 2: GSM-7 when it can carry everything that will be sent. */
	t->coding = SMS_UCS2;
	if (g == gn && !gmore &&
	    sms_segments(gsm, gn, SMS_GSM7_SINGLE, SMS_GSM7_MULTI) <= max_segments) {
		t->coding = SMS_GSM7;
		k = gn;
	} else {
		k = cut_point(gsm, g, 1, 3, SMS_GSM7_SINGLE, SMS_GSM7_MULTI, max_segments);
		if (k < g)
			t->coding = SMS_GSM7;
		else if (!more &&
			 sms_segments(ucs, n, SMS_UCS2_SINGLE, SMS_UCS2_MULTI) <= max_segments)
			k = n;
		else
			k = cut_point(ucs, n, 1, 1, SMS_UCS2_SINGLE, SMS_UCS2_MULTI,
				      max_segments);
	}
	if (t->coding == SMS_GSM7) {
		src = gcps;
		t->truncated = k < gn || gmore;
	} else {
		src = cps;
		gn = n;
		t->truncated = k < n || more;
	}
	if (t->truncated) {
		k = word_cut(src, k, gn);
		while (k > 0 && (src[k - 1] == ' ' || src[k - 1] == '\n'))
			k--;
	}

	for (i = 0; i < k && !e; i++)
		e = utf8_put(&t->utf8, src[i]);
	if (!e && t->truncated)
		e = pg_buf_adds(&t->utf8, t->coding == SMS_GSM7 ? "..." : "\xe2\x80\xa6");
	if (e)
		goto out;
	/* count what is actually sent, marker included */
	if (t->truncated) {
		unsigned char *costs = t->coding == SMS_GSM7 ? gsm : ucs;
		if (t->coding == SMS_GSM7)
			for (i = 0; i < 3 && k < SCAN_MAX; i++)
				costs[k++] = 1;
		else if (k < SCAN_MAX)
			costs[k++] = (unsigned char)ucs2_cost(ELLIPSIS);
	}
	t->chars = k;
	for (i = 0; i < k; i++)
		t->units += t->coding == SMS_GSM7 ? gsm[i] : ucs[i];
	t->segments = t->coding == SMS_GSM7 ?
		sms_segments(gsm, k, SMS_GSM7_SINGLE, SMS_GSM7_MULTI) :
		sms_segments(ucs, k, SMS_UCS2_SINGLE, SMS_UCS2_MULTI);
	if (!t->utf8.data)
		e = pg_buf_adds(&t->utf8, "");
out:
	free(cps);
	free(gcps);
	free(gsm);
	free(ucs);
	if (e)
		sms_text_free(t);
	return e;
}

void
sms_text_free(struct sms_text *t)
{
	pg_buf_free(&t->utf8);
}

/* Kept as it is by sms_text_gsm: ASCII but the backtick, and the rest of
 * the GSM-7 alphabet (é, ü, ñ, £, €...) but its Greek capitals, which
 * would stand beside transliterated small letters ("Δen"). */
static bool
gsm_keeps(uint32_t cp)
{
	if (cp < 0x80)
		return cp != '`';
	return sms_gsm7_cost(cp) > 0 && !(cp >= 0x0391 && cp <= 0x03A9);
}

/* Han characters: pinyin syllables get spaces from ICU, but not from the
 * letters and digits kept beside them ("4B公寓" -> "4B gong yu"). */
static bool
is_han(uint32_t cp)
{
	return (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0x20000 && cp <= 0x3FFFF);
}

/* Han characters and CJK punctuation ("。" becomes "."): a letter or
 * digit after them gets a space. */
static bool
ends_cjk(uint32_t cp)
{
	return is_han(cp) || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFFEF);
}

/* CJK punctuation after which ICU's Latin needs a space to read: 。 、
 * and the fullwidth ! , : ; ? */
static bool
cjk_stop(uint32_t cp)
{
	return cp == 0x3001 || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF0C ||
	       cp == 0xFF1A || cp == 0xFF1B || cp == 0xFF1F;
}

static bool
is_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A run of the characters gsm_keeps refused, waiting for ICU. */
struct run {
	struct pg_buf text;
	bool han_first, han_last;
	bool spaced;                 /* ends in the space after a cjk_stop */
};

/* Drops the space after a cjk_stop at the end of r when white space or
 * the end of the text follows anyway. */
static void
unspace(struct run *r)
{
	if (r->spaced && r->text.len > 0)
		r->text.data[--r->text.len] = '\0';
	r->spaced = false;
}

/* Appends the ASCII form of r to out (a backtick as an apostrophe, a
 * space between pinyin and a letter or digit before it); empties r. */
static pg_err
flush_run(struct pg_translit *tr, struct run *r, struct pg_buf *out)
{
	size_t from = out->len;
	pg_err e = PG_OK;

	if (r->text.len == 0)
		return PG_OK;
	if (r->han_first && out->len > 0 && is_alnum((unsigned char)out->data[out->len - 1]))
		e = pg_buf_adds(out, " ");
	if (!e)
		e = pg_translit_ascii(tr, r->text.data, out);
	for (size_t i = from; !e && i < out->len; i++)
		if (out->data[i] == '`')
			out->data[i] = '\'';
	pg_buf_reset(&r->text);
	return e;
}

pg_err
sms_text_gsm(struct pg_translit *tr, const char *in, struct pg_buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), i = 0, len;
	struct run r = { .spaced = false };
	uint32_t cp;
	pg_err e = PG_OK;

	pg_buf_init(&r.text, RUN_MAX);
	while (i < n && !e && out->len < GSM_ENOUGH) {
		cp = utf8_next(s + i, n - i, &len);
		i += len;
		if (!gsm_keeps(cp)) {
			if (r.text.len + 4 >= RUN_MAX)   /* a very long run: in parts */
				e = flush_run(tr, &r, out);
			if (r.text.len == 0)
				r.han_first = is_han(cp);
			r.han_last = ends_cjk(cp);
			if (!e)
				e = utf8_put(&r.text, cp);
			r.spaced = false;
			if (!e && cjk_stop(cp)) {         /* ICU: "。" -> "." */
				e = pg_buf_adds(&r.text, " ");
				r.han_last = false;
				r.spaced = true;
			}
			continue;
		}
		if (cp == ' ' || cp == '\n' || cp == '\r' || cp == '\t')
			unspace(&r);
		if (r.text.len > 0 && r.han_last && is_alnum(cp))
			e = pg_buf_adds(&r.text, " ");
		if (!e)
			e = flush_run(tr, &r, out);
		if (!e)
			e = cp == '`' ? pg_buf_adds(out, "'") : utf8_put(out, cp);
	}
	unspace(&r);
	if (!e && out->len < GSM_ENOUGH)
		e = flush_run(tr, &r, out);
	if (!e && !out->data)
		e = pg_buf_adds(out, "");
	pg_buf_free(&r.text);
	return e;
}

static pg_err
utf16_put(struct pg_buf *out, uint32_t cp)
{
	unsigned char o[4];
	uint32_t v;

	if (cp > 0xFFFF) {
		v = cp - 0x10000;
		o[0] = (unsigned char)(0xD8 | (v >> 18));
		o[1] = (unsigned char)((v >> 10) & 0xFF);
		o[2] = (unsigned char)(0xDC | ((v >> 8) & 0x03));
		o[3] = (unsigned char)(v & 0xFF);
		return pg_buf_add(out, o, 4);
	}
	o[0] = (unsigned char)(cp >> 8);
	o[1] = (unsigned char)(cp & 0xFF);
	return pg_buf_add(out, o, 2);
}

pg_err
sms_utf16be(const char *s, size_t n, struct pg_buf *out)
{
	return sms_utf16be_segments(s, n, false, out);
}

pg_err
sms_utf16be_segments(const char *s, size_t n, bool concat, struct pg_buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len, used = 0;
	uint32_t cp;
	unsigned c;
	pg_err e = PG_OK;

	while (i < n && !e) {
		cp = utf8_next(p + i, n - i, &len);
		i += len;
		c = ucs2_cost(cp);
		if (concat && used + c > SMS_UCS2_MULTI) {
			for (; used < SMS_UCS2_MULTI && !e; used++)
				e = utf16_put(out, ZWSP);
			used = 0;
		}
		used += c;
		if (!e)
			e = utf16_put(out, cp);
	}
	return e;
}

pg_err
sms_utf16be_to_utf8(const unsigned char *s, size_t n, struct pg_buf *out)
{
	size_t i = 0;
	uint32_t u, lo;
	pg_err e = PG_OK;

	while (i + 1 < n && !e) {
		u = (uint32_t)s[i] << 8 | s[i + 1];
		i += 2;
		if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n &&
		    (lo = (uint32_t)s[i] << 8 | s[i + 1]) >= 0xDC00 && lo <= 0xDFFF) {
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			i += 2;
		} else if (u >= 0xD800 && u <= 0xDFFF)
			u = REPLACEMENT;
		e = utf8_put(out, u);
	}
	if (!e && i < n)
		e = utf8_put(out, REPLACEMENT);
	if (!e && !out->data)
		e = pg_buf_adds(out, "");
	return e;
}
