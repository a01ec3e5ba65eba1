/*
 * fax_font.h - the fonts of one fax document (fax_font.c), included by
 * fax_font.c and fax_render.c only.
 *
 * Each of the page's three styles (body, title, header) has its DejaVu
 * face, opened from a directory.  A character that face lacks is drawn
 * with the first installed font that has it, in fontconfig's order of
 * preference for that style (its family, weight and spacing, and the
 * document's CJK language): Noto Sans CJK or WenQuanYi for Chinese,
 * Symbola for emoji.  Fonts that FreeType cannot draw as 1-bit outlines
 * (colour emoji, bitmap-only fonts) are passed over.  Invisible format
 * characters (joiners, variation selectors, bidi marks) and emoji skin
 * tones that the face lacks take no room and draw nothing; a character
 * no font has is drawn as the face's replacement mark (U+FFFD, else
 * '?').
 *
 * Lookups are cached per style (code point -> face, glyph, advance), and
 * so are rendered glyphs per face, for the life of the set: a document
 * in Latin script never asks fontconfig anything.  One set belongs to
 * one document and one thread (FreeType objects are not shared); the
 * fontconfig configuration it asks (fax.h's pg_fax_fontdb) may be shared.
 */
#ifndef PAGEGATE_FAX_FONT_H
#define PAGEGATE_FAX_FONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pagegate/common.h"

enum fax_role { FAX_BODY = 0, FAX_TITLE, FAX_HEADER, FAX__ROLES };

/* One face at the size of one style. */
struct fax_face;
struct fax_fonts;
struct pg_fax_fontdb;                /* fax.h */

/* A rendered 1-bit glyph: w x h pixels, rows of pitch bytes, most
 * significant bit leftmost; left/top place it from the pen on the
 * baseline. */
struct fax_bitmap {
	unsigned gi;                 /* 0 = empty cache slot */
	int left, top, w, h, pitch;
	unsigned char *bits;
};

enum fax_ref_kind {
	FAX_REF_GLYPH = 0,           /* a glyph of some font */
	FAX_REF_BLANK,               /* an invisible format character */
	FAX_REF_MISSING,             /* no font has it: the replacement mark */
};

/* How a code point is drawn in a style. */
struct fax_ref {
	struct fax_face *face;       /* NULL for FAX_REF_BLANK */
	unsigned gi;
	int adv;                     /* advance, whole pixels */
	enum fax_ref_kind kind;
};

struct fax_fonts_opts {
	const char *dir;             /* the DejaVu files */
	const char *file[FAX__ROLES];/* their names in dir */
	int pt[FAX__ROLES];          /* type sizes, points */
	int xres, yres;              /* dpi */
	bool fallback;               /* false: the DejaVu faces only */
	const char *lang;            /* fontconfig language for CJK ("zh-cn"),
					NULL = none */
	struct pg_fax_fontdb *db;    /* fontconfig's fonts, shared; NULL = the
					set loads them when it needs them */
};

/* Opens the styles' faces.  PG_ERR_IO (err names the file) when one
 * cannot be loaded or sized, PG_ERR_NOMEM. */
pg_err fax_fonts_open(const struct fax_fonts_opts *o, struct fax_fonts **out,
		      char *err, size_t errlen);
void fax_fonts_free(struct fax_fonts *f);

/* The style's own face: ascent (baseline below the top of a line box)
 * and line height, pixels. */
int fax_fonts_ascent(const struct fax_fonts *f, enum fax_role r);
int fax_fonts_height(const struct fax_fonts *f, enum fax_role r);

/* How cp is drawn in style r (cached).  Never fails: a font that cannot
 * be opened, or a lookup that runs out of memory, makes the character
 * missing. */
struct fax_ref fax_fonts_lookup(struct fax_fonts *f, enum fax_role r, uint32_t cp);

/* The rendered glyph gi of face (cached per face), or NULL when it
 * cannot be rendered 1-bit (it is then not drawn). */
const struct fax_bitmap *fax_face_render(struct fax_face *face, unsigned gi);

#endif
