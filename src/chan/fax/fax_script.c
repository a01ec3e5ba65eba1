/*
 * fax_script.c - scripts for the fax layout (fax_script.h), with ICU:
 * NFC, CJK line breaks, the CJK language, symbol names, and bidi
 * reordering with Arabic shaping.
 *
 * Right-to-left text is laid out the usual way: lines are broken in
 * logical order (the order typed), then each line is put in display
 * order on its own, so a Hebrew or Arabic paragraph reads right to left
 * line after line, with its numbers and Latin words left to right
 * inside.  Arabic letters take their joining forms from ICU's shaper
 * (the presentation forms, not OpenType shaping: marks are not
 * positioned, but the words are joined as written).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ubidi.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ushape.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "fax_script.h"

#define NAME_MAX_  128               /* longest Unicode character name + () */

/* s[0, len) as UTF-16 (the caller frees it) and its length in *n;
 * NULL when out of memory, too long or not UTF-8. */
static UChar *
to_utf16(const char *s, size_t len, int32_t *n)
{
	UErrorCode e = U_ZERO_ERROR;
	UChar *u;

	if (len >= (size_t)INT32_MAX / 2 || !(u = malloc((len + 1) * sizeof *u)))
		return NULL;
	u_strFromUTF8(u, (int32_t)len + 1, n, s, (int32_t)len, &e);
	if (U_FAILURE(e)) {
		free(u);
		return NULL;
	}
	return u;
}

/* Appends u[0, n) to out as UTF-8. */
static pg_err
add_utf8(struct pg_buf *out, const UChar *u, int32_t n)
{
	UErrorCode e = U_ZERO_ERROR;
	int32_t len = 0;
	char *s;
	pg_err r;

	if (n > INT32_MAX / 4 || !(s = malloc((size_t)n * 3 + 1)))
		return PG_ERR_NOMEM;
	u_strToUTF8(s, n * 3 + 1, &len, u, n, &e);
	r = U_FAILURE(e) ? PG_ERR_INVAL : pg_buf_add(out, s, (size_t)len);
	free(s);
	return r;
}

pg_err
fax_nfc(const char *text, char **out)
{
	UErrorCode e = U_ZERO_ERROR;
	const UNormalizer2 *nfc;
	const unsigned char *p = (const unsigned char *)text;
	UChar *u, *v = NULL;
	int32_t n, m, cap;
	struct pg_buf b;
	pg_err r = PG_ERR_NOMEM;

	*out = NULL;
	while (*p && *p < 0x80)
		p++;
	if (!*p)
		return PG_OK;                   /* ASCII */
	if (!(nfc = unorm2_getNFCInstance(&e)) || U_FAILURE(e))
		return PG_OK;                   /* no ICU data: as typed */
	if (!(u = to_utf16(text, strlen(text), &n)))
		return PG_ERR_NOMEM;
	if (unorm2_quickCheck(nfc, u, n, &e) == UNORM_YES && U_SUCCESS(e)) {
		free(u);
		return PG_OK;
	}
	e = U_ZERO_ERROR;
	cap = n < INT32_MAX / 4 ? n * 3 + 16 : 0;
	if (cap && (v = malloc((size_t)cap * sizeof *v)) != NULL) {
		m = unorm2_normalize(nfc, u, n, v, cap, &e);
		if (U_SUCCESS(e)) {
			pg_buf_init(&b, (size_t)m * 3 + 1);
			if ((r = add_utf8(&b, v, m)) == PG_OK && !(*out = pg_buf_steal(&b)))
				r = PG_ERR_NOMEM;
			pg_buf_free(&b);
		} else {
			r = PG_ERR_TOOBIG;
		}
	}
	free(u);
	free(v);
	return r;
}

static bool
is_han(uint32_t c)
{
	return (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
	       (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f);
}

static bool
is_kana(uint32_t c)
{
	return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x31f0 && c <= 0x31ff) ||
	       (c >= 0xff66 && c <= 0xff9f);
}

static bool
is_hangul(uint32_t c)
{
	return (c >= 0x1100 && c <= 0x11ff) || (c >= 0x3130 && c <= 0x318f) ||
	       (c >= 0xac00 && c <= 0xd7af);
}

const char *
fax_cjk_lang(const char *text)
{
	const uint8_t *s = (const uint8_t *)text;
	bool han = false, kana = false, hangul = false;
	int32_t i = 0, n = (int32_t)strnlen(text, INT32_MAX);
	UChar32 c;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		U8_NEXT(s, i, n, c);
		if (c < 0)
			continue;
		han |= is_han((uint32_t)c);
		kana |= is_kana((uint32_t)c);
		hangul |= is_hangul((uint32_t)c);
	}
	return kana ? "ja" : hangul ? "ko" : han ? "zh-cn" : NULL;
}

/* Ideographs, kana, Bopomofo, CJK symbols and punctuation, full-width
 * forms: the characters between which a line may break. */
static bool
is_cjk(uint32_t c)
{
	return is_han(c) || is_kana(c) || (c >= 0x3000 && c <= 0x303f) ||
	       (c >= 0x3100 && c <= 0x312f) || (c >= 0xff00 && c <= 0xffef);
}

/* May not start a line (closing marks) / end one (opening brackets). */
static const uint32_t NO_START[] = {
	'!', ')', ',', '.', ':', ';', '?', ']', '}', 0x2019, 0x201d, 0x2026,
	0x3001, 0x3002, 0x3009, 0x300b, 0x300d, 0x300f, 0x3011, 0x3015, 0x3017,
	0x3019, 0x301f, 0x3005, 0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063,
	0x3083, 0x3085, 0x3087, 0x308e, 0x309d, 0x309e, 0x30a1, 0x30a3, 0x30a5,
	0x30a7, 0x30a9, 0x30c3, 0x30e3, 0x30e5, 0x30e7, 0x30ee, 0x30f5, 0x30f6,
	0x30fb, 0x30fc, 0x30fd, 0x30fe, 0xff01, 0xff09, 0xff0c, 0xff0e, 0xff1a,
	0xff1b, 0xff1f, 0xff3d, 0xff5d, 0xff60,
};
static const uint32_t NO_END[] = {
	'(', '[', '{', 0x2018, 0x201c, 0x3008, 0x300a, 0x300c, 0x300e, 0x3010,
	0x3014, 0x3016, 0x3018, 0x301d, 0xff08, 0xff3b, 0xff5b, 0xff5f,
};

static bool
in(const uint32_t *set, size_t n, uint32_t c)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == c)
			return true;
	return false;
}

bool
fax_break_between(uint32_t a, uint32_t b)
{
	if (!is_cjk(a) && !is_cjk(b))
		return false;
	if (a == ' ' || b == ' ' || a == '\t' || b == '\t')
		return false;
	return !in(NO_START, sizeof NO_START / sizeof NO_START[0], b) &&
	       !in(NO_END, sizeof NO_END / sizeof NO_END[0], a);
}

bool
fax_symbol_name(uint32_t cp, char *buf, size_t n)
{
	char name[NAME_MAX_];
	UErrorCode e = U_ZERO_ERROR;
	int32_t len;

	if (u_charType((UChar32)cp) != U_OTHER_SYMBOL &&
	    !u_hasBinaryProperty((UChar32)cp, UCHAR_EXTENDED_PICTOGRAPHIC))
		return false;
	len = u_charName((UChar32)cp, U_UNICODE_CHAR_NAME, name, sizeof name, &e);
	if (U_FAILURE(e) || len <= 0 || (size_t)len >= sizeof name || (size_t)len + 3 > n)
		return false;
	buf[0] = '(';
	for (int32_t i = 0; i < len; i++)
		buf[i + 1] = (char)tolower((unsigned char)name[i]);
	buf[len + 1] = ')';
	buf[len + 2] = '\0';
	return true;
}

bool
fax_has_rtl(const char *s, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;
	int32_t i = 0, n = (int32_t)len;
	UChar32 c;

	while (i < n) {
		if (u[i] < 0xd6) {              /* below U+0590: never RTL */
			i++;
			continue;
		}
		U8_NEXT(u, i, n, c);
		if (c < 0)
			continue;
		switch (u_charDirection(c)) {
		case U_RIGHT_TO_LEFT:
		case U_RIGHT_TO_LEFT_ARABIC:
		case U_RIGHT_TO_LEFT_EMBEDDING:
		case U_RIGHT_TO_LEFT_OVERRIDE:
		case U_RIGHT_TO_LEFT_ISOLATE:
			return true;
		default:
			break;
		}
	}
	return false;
}

bool
fax_para_rtl(const char *s, size_t len)
{
	int32_t n;
	UChar *u = to_utf16(s, len, &n);
	bool rtl = u && ubidi_getBaseDirection(u, n) == UBIDI_RTL;

	free(u);
	return rtl;
}

static bool
has_arabic(const UChar *u, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		if ((u[i] >= 0x0600 && u[i] <= 0x06ff) || (u[i] >= 0x0750 && u[i] <= 0x077f) ||
		    (u[i] >= 0x08a0 && u[i] <= 0x08ff))
			return true;
	return false;
}

pg_err
fax_visual(const char *s, size_t len, bool rtl, struct pg_buf *out)
{
	UErrorCode e = U_ZERO_ERROR;
	UBiDi *bidi = NULL;
	UChar *u, *v = NULL, *w = NULL;
	int32_t n, m;
	pg_err r = PG_ERR_NOMEM;

	if (!(u = to_utf16(s, len, &n)))
		return PG_ERR_NOMEM;
	if (!(bidi = ubidi_openSized(n, 0, &e)) || U_FAILURE(e) ||
	    !(v = malloc(((size_t)n + 1) * sizeof *v)))
		goto out;
	ubidi_setPara(bidi, u, n, rtl ? UBIDI_RTL : UBIDI_LTR, NULL, &e);
	m = ubidi_writeReordered(bidi, v, n + 1, UBIDI_DO_MIRRORING | UBIDI_REMOVE_BIDI_CONTROLS,
				 &e);
	if (U_FAILURE(e)) {
		r = PG_ERR_INVAL;
		goto out;
	}
	if (has_arabic(v, m)) {
		/* the shaped text is never longer (lam + alef become one) */
		if (!(w = malloc(((size_t)m + 1) * sizeof *w)))
			goto out;
		m = u_shapeArabic(v, m, w, m + 1, U_SHAPE_LETTERS_SHAPE |
				  U_SHAPE_TEXT_DIRECTION_VISUAL_LTR | U_SHAPE_LENGTH_GROW_SHRINK, &e);
		if (U_FAILURE(e)) {
			r = PG_ERR_INVAL;
			goto out;
		}
	}
	r = add_utf8(out, w ? w : v, m);
out:
	if (bidi)
		ubidi_close(bidi);
	free(u);
	free(v);
	free(w);
	return r;
}
