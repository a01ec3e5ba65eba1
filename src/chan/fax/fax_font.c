/*
 * fax_font.c - the fonts of one fax document (fax_font.h): the DejaVu
 * faces of the three styles, fontconfig fallback for the characters they
 * lack, and the caches that keep a page's cost what it was (a lookup
 * table per style, rendered glyphs per face).
 *
 * fontconfig is asked once per style and document, and only when a
 * character is missing from the style's face: FcFontSort gives every
 * installed font in the order of preference for that style, with its
 * character set, and each missing character takes the first one that
 * has it.  Its configuration (the list of fonts) is a pg_fax_fontdb's,
 * loaded once and shared, or the document's own; never fontconfig's
 * process-wide default (FcInit), which lives until exit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include <fontconfig/fontconfig.h>
#include <unicode/uchar.h>

#include "fax.h"
#include "fax_font.h"

#define GLYPH_CACHE  1024            /* rendered glyphs kept per face */
#define MAX_FACES    24              /* the styles' faces and their fallbacks */
#define MAP_MIN      512             /* lookup table slots to start with */
#define MAP_MAX      (1u << 22)      /* and at most (far above Unicode's size) */

struct fax_face {
	FT_Face face;
	enum fax_role role;
	char *file;                  /* fallbacks: where it came from */
	int index;
	FT_Int32 load;               /* FT_Load_Glyph flags */
	struct fax_bitmap cache[GLYPH_CACHE];
};

struct slot {
	uint32_t cp, gi;
	int32_t adv;
	uint8_t face, kind, used;
};

struct map {
	struct slot *s;
	size_t cap, n;               /* cap: a power of two */
};

struct pg_fax_fontdb {
	pthread_mutex_t mu;
	bool loaded;
	FcConfig *fc;                /* NULL when fontconfig could not load */
};

struct fax_fonts {
	FT_Library ft;
	struct pg_fax_fontdb *db;    /* shared, or NULL */
	int xres, yres;
	int pt[FAX__ROLES];
	bool fallback;
	char lang[16];
	struct fax_face *faces[MAX_FACES];
	int n_faces;                 /* faces[r] is style r's own face */
	int ascent[FAX__ROLES], height[FAX__ROLES];
	FcConfig *own;               /* without db: loaded when first needed */
	bool own_loaded;
	FcFontSet *sorted[FAX__ROLES];
	bool asked[FAX__ROLES];      /* fontconfig was asked for style r */
	struct map map[FAX__ROLES];
};

/* DejaVu's glyphs as they always were: hinted for monochrome.  A
 * fallback font's embedded bitmaps (gray or colour) are not used. */
#define LOAD_PRIMARY   (FT_LOAD_TARGET_MONO)
#define LOAD_FALLBACK  (FT_LOAD_TARGET_MONO | FT_LOAD_NO_BITMAP)

static struct fax_face *
face_new(struct fax_fonts *f, enum fax_role r, const char *path, int index, FT_Int32 load)
{
	struct fax_face *fc;

	if (f->n_faces == MAX_FACES || !(fc = calloc(1, sizeof *fc)))
		return NULL;
	if (FT_New_Face(f->ft, path, index, &fc->face) != 0) {
		free(fc);
		return NULL;
	}
	if (!FT_IS_SCALABLE(fc->face) ||
	    FT_Set_Char_Size(fc->face, 0, f->pt[r] * 64, (FT_UInt)f->xres,
			     (FT_UInt)f->yres) != 0) {
		FT_Done_Face(fc->face);
		free(fc);
		return NULL;
	}
	fc->role = r;
	fc->index = index;
	fc->load = load;
	f->faces[f->n_faces++] = fc;
	return fc;
}

static void
face_free(struct fax_face *fc)
{
	for (int j = 0; j < GLYPH_CACHE; j++)
		free(fc->cache[j].bits);
	FT_Done_Face(fc->face);
	free(fc->file);
	free(fc);
}

pg_err
fax_fonts_open(const struct fax_fonts_opts *o, struct fax_fonts **out, char *err,
	       size_t errlen)
{
	struct fax_fonts *f;
	char path[512];

	*out = NULL;
	if (!(f = calloc(1, sizeof *f))) {
		snprintf(err, errlen, "out of memory");
		return PG_ERR_NOMEM;
	}
	if (FT_Init_FreeType(&f->ft) != 0) {
		free(f);
		snprintf(err, errlen, "cannot initialise FreeType");
		return PG_ERR_NOMEM;
	}
	f->xres = o->xres;
	f->yres = o->yres;
	f->fallback = o->fallback;
	f->db = o->db;
	if (o->lang)
		snprintf(f->lang, sizeof f->lang, "%s", o->lang);
	for (int r = 0; r < FAX__ROLES; r++) {
		struct fax_face *fc;
		f->pt[r] = o->pt[r];
		snprintf(path, sizeof path, "%s/%s", o->dir, o->file[r]);
		if (!(fc = face_new(f, (enum fax_role)r, path, 0, LOAD_PRIMARY))) {
			snprintf(err, errlen, "cannot load font %s", path);
			fax_fonts_free(f);
			return PG_ERR_IO;
		}
		f->ascent[r] = (int)((fc->face->size->metrics.ascender + 63) >> 6);
		f->height[r] = (int)((fc->face->size->metrics.height + 63) >> 6);
		f->map[r].cap = MAP_MIN;
		if (!(f->map[r].s = calloc(MAP_MIN, sizeof *f->map[r].s))) {
			snprintf(err, errlen, "out of memory");
			fax_fonts_free(f);
			return PG_ERR_NOMEM;
		}
	}
	*out = f;
	return PG_OK;
}

void
fax_fonts_free(struct fax_fonts *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->n_faces; i++)
		face_free(f->faces[i]);
	for (int r = 0; r < FAX__ROLES; r++) {
		free(f->map[r].s);
		if (f->sorted[r])
			FcFontSetDestroy(f->sorted[r]);
	}
	if (f->own)
		FcConfigDestroy(f->own);
	FT_Done_FreeType(f->ft);
	free(f);
}

int fax_fonts_ascent(const struct fax_fonts *f, enum fax_role r) { return f->ascent[r]; }
int fax_fonts_height(const struct fax_fonts *f, enum fax_role r) { return f->height[r]; }

/* ---- fallback ---- */

pg_err
pg_fax_fontdb_new(struct pg_fax_fontdb **out)
{
	if (!(*out = calloc(1, sizeof **out)))
		return PG_ERR_NOMEM;
	pthread_mutex_init(&(*out)->mu, NULL);
	return PG_OK;
}

void
pg_fax_fontdb_free(struct pg_fax_fontdb *db)
{
	if (!db)
		return;
	if (db->fc)
		FcConfigDestroy(db->fc);
	pthread_mutex_destroy(&db->mu);
	free(db);
}

/* fontconfig's configuration for f: the shared one, or f's own; loaded
 * (once) on first use.  NULL when it cannot be loaded. */
static FcConfig *
config(struct fax_fonts *f)
{
	FcConfig *c;

	if (!f->db) {
		if (!f->own_loaded) {
			f->own_loaded = true;
			f->own = FcInitLoadConfigAndFonts();
		}
		return f->own;
	}
	pthread_mutex_lock(&f->db->mu);
	if (!f->db->loaded) {
		f->db->loaded = true;
		f->db->fc = FcInitLoadConfigAndFonts();
	}
	c = f->db->fc;
	pthread_mutex_unlock(&f->db->mu);
	return c;
}

/* Every installed font, best first, for style r: its own face's family,
 * boldness and spacing, and the document's CJK language.  NULL when
 * fontconfig cannot say. */
static FcFontSet *
sort_fonts(struct fax_fonts *f, enum fax_role r)
{
	FT_Face own = f->faces[r]->face;
	FcConfig *c = config(f);
	FcPattern *p;
	FcFontSet *s;
	FcResult res;

	if (!c || !(p = FcPatternCreate()))
		return NULL;
	if (own->family_name)
		FcPatternAddString(p, FC_FAMILY, (const FcChar8 *)own->family_name);
	if (own->style_flags & FT_STYLE_FLAG_BOLD)
		FcPatternAddInteger(p, FC_WEIGHT, FC_WEIGHT_BOLD);
	if (FT_IS_FIXED_WIDTH(own))
		FcPatternAddInteger(p, FC_SPACING, FC_MONO);
	if (f->lang[0])
		FcPatternAddString(p, FC_LANG, (const FcChar8 *)f->lang);
	FcConfigSubstitute(c, p, FcMatchPattern);
	FcDefaultSubstitute(p);
	s = FcFontSort(c, p, FcFalse, NULL, &res);
	FcPatternDestroy(p);
	return s;
}

/* Style r's face from file/index, opened on first use; NULL when it
 * cannot be opened or the document has all the faces it may. */
static struct fax_face *
fallback_face(struct fax_fonts *f, enum fax_role r, const char *file, int index)
{
	struct fax_face *fc;

	for (int i = FAX__ROLES; i < f->n_faces; i++) {
		fc = f->faces[i];
		if (fc->role == r && fc->index == index && strcmp(fc->file, file) == 0)
			return fc;
	}
	if (!(fc = face_new(f, r, file, index, LOAD_FALLBACK)))
		return NULL;
	if (!(fc->file = strdup(file))) {
		f->faces[--f->n_faces] = NULL;
		face_free(fc);
		return NULL;
	}
	return fc;
}

/* The first font in style r's order that draws cp as a 1-bit outline;
 * sets *gi.  NULL when none does. */
static struct fax_face *
find_fallback(struct fax_fonts *f, enum fax_role r, uint32_t cp, unsigned *gi)
{
	FcFontSet *s;

	if (!f->asked[r]) {
		f->asked[r] = true;
		f->sorted[r] = sort_fonts(f, r);
	}
	if (!(s = f->sorted[r]))
		return NULL;
	for (int i = 0; i < s->nfont; i++) {
		FcPattern *p = s->fonts[i];
		FcCharSet *cs;
		FcChar8 *file;
		FcBool b;
		int index = 0;
		struct fax_face *fc;

		if (FcPatternGetCharSet(p, FC_CHARSET, 0, &cs) != FcResultMatch ||
		    !FcCharSetHasChar(cs, cp))
			continue;
		if ((FcPatternGetBool(p, FC_OUTLINE, 0, &b) == FcResultMatch && !b) ||
		    (FcPatternGetBool(p, FC_COLOR, 0, &b) == FcResultMatch && b))
			continue;
		if (FcPatternGetString(p, FC_FILE, 0, &file) != FcResultMatch)
			continue;
		(void)FcPatternGetInteger(p, FC_INDEX, 0, &index);
		if ((fc = fallback_face(f, r, (const char *)file, index)) &&
		    (*gi = FT_Get_Char_Index(fc->face, cp)) != 0)
			return fc;
	}
	return NULL;
}

/* ---- lookup ---- */

static size_t
slot_of(const struct map *m, uint32_t cp)
{
	size_t i = (size_t)((cp * 2654435761u) & (m->cap - 1));

	while (m->s[i].used && m->s[i].cp != cp)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Doubles m; false (m unchanged) when it cannot. */
static bool
map_grow(struct map *m)
{
	struct map g = { .cap = m->cap * 2, .n = m->n };

	if (g.cap > MAP_MAX || !(g.s = calloc(g.cap, sizeof *g.s)))
		return false;
	for (size_t i = 0; i < m->cap; i++)
		if (m->s[i].used)
			g.s[slot_of(&g, m->s[i].cp)] = m->s[i];
	free(m->s);
	*m = g;
	return true;
}

static int
face_index(const struct fax_fonts *f, const struct fax_face *fc)
{
	for (int i = 0; i < f->n_faces; i++)
		if (f->faces[i] == fc)
			return i;
	return 0;
}

struct fax_ref
fax_fonts_lookup(struct fax_fonts *f, enum fax_role r, uint32_t cp)
{
	struct map *m = &f->map[r];
	struct fax_face *own = f->faces[r];
	struct fax_ref ref = { own, 0, 0, FAX_REF_GLYPH };
	size_t i = slot_of(m, cp);

	if (m->s[i].used) {
		ref.face = f->faces[m->s[i].face];
		ref.gi = m->s[i].gi;
		ref.adv = m->s[i].adv;
		ref.kind = (enum fax_ref_kind)m->s[i].kind;
		if (ref.kind == FAX_REF_BLANK)
			ref.face = NULL;
		return ref;
	}
	if ((ref.gi = FT_Get_Char_Index(own->face, cp)) != 0) {
		/* the style's own glyph */
	} else if (u_hasBinaryProperty((UChar32)cp, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
		   u_hasBinaryProperty((UChar32)cp, UCHAR_EMOJI_MODIFIER)) {
		/* joiners, variation selectors; skin tones (monochrome) */
		ref.face = NULL;
		ref.kind = FAX_REF_BLANK;
	} else if (f->fallback && (ref.face = find_fallback(f, r, cp, &ref.gi)) != NULL) {
		/* another font's */
	} else {
		ref.face = own;
		ref.kind = FAX_REF_MISSING;
		if (!(ref.gi = FT_Get_Char_Index(own->face, 0xfffd)))
			ref.gi = FT_Get_Char_Index(own->face, '?');
	}
	if (ref.face && FT_Load_Glyph(ref.face->face, ref.gi, ref.face->load) == 0)
		ref.adv = (int)((ref.face->face->glyph->advance.x + 32) >> 6);
	if (2 * (m->n + 1) > m->cap) {
		if (!map_grow(m))
			return ref;          /* not cached, still right */
		i = slot_of(m, cp);
	}
	m->s[i] = (struct slot){ .cp = cp, .gi = ref.gi, .adv = ref.adv,
				 .face = (uint8_t)(ref.face ? face_index(f, ref.face) : 0),
				 .kind = (uint8_t)ref.kind, .used = 1 };
	m->n++;
	return ref;
}

const struct fax_bitmap *
fax_face_render(struct fax_face *fc, unsigned gi)
{
	struct fax_bitmap *g = &fc->cache[gi % GLYPH_CACHE];
	FT_GlyphSlot s;
	size_t size;

	if (gi && g->gi == gi)
		return g;
	if (FT_Load_Glyph(fc->face, gi, fc->load | FT_LOAD_RENDER) != 0)
		return NULL;
	s = fc->face->glyph;
	if (s->bitmap.pixel_mode != FT_PIXEL_MODE_MONO &&
	    FT_Render_Glyph(s, FT_RENDER_MODE_MONO) != 0)
		return NULL;
	if (s->bitmap.pixel_mode != FT_PIXEL_MODE_MONO || s->bitmap.pitch < 0)
		return NULL;
	size = (size_t)s->bitmap.pitch * s->bitmap.rows;
	free(g->bits);
	memset(g, 0, sizeof *g);
	if (size && !(g->bits = malloc(size)))
		return NULL;
	if (size)
		memcpy(g->bits, s->bitmap.buffer, size);
	g->gi = gi;
	g->left = s->bitmap_left;
	g->top = s->bitmap_top;
	g->w = (int)s->bitmap.width;
	g->h = (int)s->bitmap.rows;
	g->pitch = s->bitmap.pitch;
	return g;
}
