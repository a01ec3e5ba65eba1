/*
 * visible.c - refusing text that would display as something else
 * (visible.h), by ICU's character properties: Bidi_Control,
 * Default_Ignorable_Code_Point, general category Cf, Joining_Type and the
 * virama combining class for RFC 5892's CONTEXTJ rules.  One pass over
 * the text; looking around a joiner only crosses the transparent marks
 * next to it.
 */
#include <stdbool.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "pagegate/visible.h"

#define ZWNJ 0x200c
#define ZWJ  0x200d
#define VIRAMA 9        /* Canonical_Combining_Class of a virama */

/* Embeddings, overrides and isolates: they reorder what follows. */
static bool
reorders(UChar32 c)
{
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

static int
joining(UChar32 c)
{
	return u_getIntPropertyValue(c, UCHAR_JOINING_TYPE);
}

/* RFC 5892 A.1 and A.2 for the joiner at s[at] (len bytes long). */
static bool
joiner_ok(const uint8_t *s, int32_t at, int32_t len, UChar32 j)
{
	int32_t i = at, n = at;
	UChar32 c = 0;
	int jt;

	if (at == 0)
		return false;
	U8_PREV(s, 0, i, c);
	if (c >= 0 && u_getCombiningClass(c) == VIRAMA)
		return true;
	if (j != ZWNJ)
		return false;
	/* (Joining_Type:{L,D})(Joining_Type:T)* ZWNJ (Joining_Type:T)*(Joining_Type:{R,D}) */
	for (i = at; i > 0;) {
		U8_PREV(s, 0, i, c);
		if (c < 0 || (jt = joining(c)) != U_JT_TRANSPARENT)
			break;
	}
	if (c < 0 || (jt = joining(c), jt != U_JT_LEFT_JOINING && jt != U_JT_DUAL_JOINING))
		return false;
	U8_NEXT(s, n, len, c);           /* past the ZWNJ itself */
	jt = U_JT_NON_JOINING;
	while (n < len) {
		U8_NEXT(s, n, len, c);
		if (c < 0 || (jt = joining(c)) != U_JT_TRANSPARENT)
			break;
	}
	return c >= 0 && (jt == U_JT_RIGHT_JOINING || jt == U_JT_DUAL_JOINING);
}

/* Invisible or direction-changing, in a name. */
static bool
hidden(UChar32 c)
{
	return u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL) ||
	       u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
	       u_charType(c) == U_FORMAT_CHAR;
}

uint32_t
pg_visible_bad(const char *text, enum pg_visible_kind kind, size_t *chars)
{
	const uint8_t *s = (const uint8_t *)text;
	size_t len = strlen(text), k = 0;
	int32_t i = 0, n = len > INT32_MAX ? INT32_MAX : (int32_t)len;

	while (i < n) {
		int32_t at = i;
		UChar32 c;
		bool bad;

		U8_NEXT(s, i, n, c);
		if (c < 0)
			continue;
		if (kind == PG_VIS_TEXT)
			bad = reorders(c);
		else if (c == ZWNJ || c == ZWJ)
			bad = !joiner_ok(s, at, n, c);
		else
			bad = hidden(c) && !u_hasBinaryProperty(c, UCHAR_VARIATION_SELECTOR);
		if (bad) {
			if (chars)
				*chars = k;
			return (uint32_t)c;
		}
		k++;
	}
	return 0;
}
