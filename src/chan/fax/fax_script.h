/*
 * fax_script.h - what the fax layout needs to know about scripts
 * (fax_script.c, with ICU), included by fax_script.c and fax_render.c
 * only: composed characters (NFC), where Chinese and Japanese lines may
 * break without spaces, which CJK language a text is in (for the font),
 * names for symbols no font draws, and right-to-left lines put in
 * display order.
 */
#ifndef PAGEGATE_FAX_SCRIPT_H
#define PAGEGATE_FAX_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pagegate/common.h"
#include "pagegate/util.h"

/* Sets *out to the NFC form of text (valid UTF-8; the caller frees it),
 * or to NULL when text is NFC already (all ASCII text is).
 * PG_ERR_NOMEM, PG_ERR_TOOBIG. */
pg_err fax_nfc(const char *text, char **out);

/* The fontconfig language of the CJK characters in text: "ja" when it
 * has kana, "ko" with Hangul, "zh-cn" with Han characters only; NULL
 * when it has none. */
const char *fax_cjk_lang(const char *text);

/* True when a line may end between a and b although neither is a space:
 * one of them is a CJK character (ideograph, kana, CJK or full-width
 * punctuation), b is not a mark that may not start a line (closing
 * brackets and punctuation, small kana, the prolonged sound mark) and a
 * is not one that may not end it (opening brackets). */
bool fax_break_between(uint32_t a, uint32_t b);

/* Writes "(name)" for cp into buf when cp is a symbol or emoji (its
 * Unicode name, lower case: "(fire)"); false when it is neither, or
 * nameless, or buf is too small. */
bool fax_symbol_name(uint32_t cp, char *buf, size_t n);

/* True when s[0, len) (valid UTF-8) holds a right-to-left character
 * (Hebrew, Arabic, Syriac, Thaana, N'Ko, ... or an RTL control). */
bool fax_has_rtl(const char *s, size_t len);
/* True when the paragraph s[0, len) is right to left: its first strong
 * character is (UAX #9, P2-P3). */
bool fax_para_rtl(const char *s, size_t len);
/* Appends the line s[0, len) of a paragraph of direction rtl to out in
 * display order, left to right: runs reordered by the bidi algorithm
 * (UAX #9, ICU), brackets mirrored, Arabic letters in their joining
 * forms (presentation forms, which DejaVu has), bidi controls removed.
 * PG_ERR_NOMEM, PG_ERR_TOOBIG (out's bound), PG_ERR_INVAL. */
pg_err fax_visual(const char *s, size_t len, bool rtl, struct pg_buf *out);

#endif
