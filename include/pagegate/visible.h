/*
 * visible.h - text that shows what it holds: the check that keeps one
 * caller's name from displaying as another's.  Bidirectional controls
 * reorder what follows them ("\u202Eeknad" shows as "danke..."), and
 * invisible characters (zero-width space and joiners, word joiner, BOM,
 * soft hyphen, Hangul fillers, tag characters) make two names that look
 * the same compare different, or a name look empty.  Pure; ICU's
 * character properties decide.
 *
 * pagegate refuses such text (HTTP 400 naming the field, a configuration
 * error at its line) rather than editing it silently: an operator who
 * typed or pasted it learns that it is there, and what is stored is what
 * was sent.
 */
#ifndef PAGEGATE_VISIBLE_H
#define PAGEGATE_VISIBLE_H

#include <stddef.h>
#include <stdint.h>

enum pg_visible_kind {
	/* A name or a number (caller name, company, contact and client
	 * names, phone numbers): no bidi control (U+061C, U+200E, U+200F,
	 * U+202A..U+202E, U+2066..U+2069), no default-ignorable code point
	 * and no format character (Cf), except a zero-width joiner or
	 * non-joiner where RFC 5892's CONTEXTJ rules allow one (after a
	 * virama; ZWNJ between joining letters, as Persian writes "Mohammad-
	 * Reza" in one word) and variation selectors (a Japanese name's
	 * kanji variant). */
	PG_VIS_NAME,
	/* Free text (what the caller said, the client's fields): only the
	 * embeddings, overrides and isolates U+202A..U+202E and
	 * U+2066..U+2069, which reorder everything after them; the marks
	 * (LRM, RLM, ALM), joiners and other invisibles that scripts need
	 * are kept. */
	PG_VIS_TEXT,
};

/* The first code point of s (UTF-8, NUL-terminated) that kind does not
 * allow, 0 when there is none; *chars (may be NULL) is then the number of
 * characters before it.  Malformed UTF-8 is the caller's to refuse first:
 * a bad sequence is skipped here. */
uint32_t pg_visible_bad(const char *s, enum pg_visible_kind kind, size_t *chars);

#endif
