/*
 * fax_render.c - text -> fax pages with FreeType (fax.h): layout (wrap and
 * paginate by glyph advances) first, then one page at a time into a 1-bit
 * bitmap 1728 pixels wide.
 *
 * Glyphs are loaded hinted for monochrome targets and rendered 1-bit, the
 * same advances for measuring and drawing, so what the layout wrapped is
 * what fits.  Layout and drawing always happen at fine resolution (204 x
 * 196 dpi); a standard-resolution page (98 dpi vertically) is the fine one
 * with each pair of rows merged (a pixel is black when either is), so
 * both resolutions break lines and pages in the same places and glyphs
 * keep their fine shapes (FreeType's hinting at 204 x 98 dpi deforms them:
 * 0 and O become hard to tell apart).  Each document has its own
 * FT_Library (FreeType objects are not shared between threads) and a
 * small cache of rendered glyphs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "fax.h"
#include "pagegate/util.h"

/* Geometry, in 1/100 inch. */
#define MARGIN_SIDE       50          /* left and right */
#define HEADER_TOP        25          /* top of the header line */
#define BODY_TOP          70          /* first body line */
#define MARGIN_BOTTOM     50
#define LETTER_LEN        1100        /* 11 in */
#define A4_LEN            1169        /* 297 mm */
#define HUNDREDTHS        100
/* Type sizes, points. */
#define PT_BODY           11
#define PT_TITLE          16
#define PT_HEADER         9
#define PT_PER_INCH       72
#define TAB_STOP          125         /* tab stops every 1.25 in */
#define RULE_ROWS         4           /* thickness of rules, fine rows */
#define MAX_BLANK_RUN     2           /* blank lines kept in a row */
#define HEADER_GAP_PX     40          /* between header text and "Page N of M" */
#define GLYPH_CACHE       1024        /* rendered glyphs kept per face */
#define ADV_CACHE         0x3000      /* code points whose advance is cached */
#define TEXT_MAX          (1u << 20)  /* normalised text bound */

enum { F_BODY = 0, F_TITLE, F_HEADER, F__COUNT };

static const struct font_spec {
	const char *file;
	int pt;
} FONTS[F__COUNT] = {
	[F_BODY] = { "DejaVuSans.ttf", PT_BODY },
	[F_TITLE] = { "DejaVuSans-Bold.ttf", PT_TITLE },
	[F_HEADER] = { "DejaVuSansMono.ttf", PT_HEADER },
};

struct glyph {
	unsigned gi;                /* 0 = empty slot (index 0 is never cached) */
	int left, top, w, h, pitch;
	unsigned char *bits;
};

struct font {
	FT_Face face;
	int ascent, height;         /* pixels */
	int16_t adv[ADV_CACHE];     /* advance by code point, -1 = unknown */
	struct glyph cache[GLYPH_CACHE];
};

struct line {
	size_t off, len;            /* into doc->text */
	enum pg_fax_style style;
	int page, y;                /* y: top of the line box */
};

struct pg_fax_doc {
	FT_Library ft;
	struct font fonts[F__COUNT];
	enum pg_fax_res res;
	int yres, height;           /* layout (fine) rows per inch and page */
	int out_height;             /* rows of the pages produced */
	int left, right, body_top, body_bottom, header_top;
	char *text;                 /* normalised, owned */
	char *header;               /* first line, owned */
	struct line *lines;
	size_t n_lines, cap_lines;
	int pages;
};

/* ---- small helpers ---- */

int
pg_fax_res_parse(const char *s, enum pg_fax_res *out)
{
	if (s && strcmp(s, "fine") == 0)
		*out = PG_FAX_FINE;
	else if (s && strcmp(s, "standard") == 0)
		*out = PG_FAX_STANDARD;
	else
		return -1;
	return 0;
}

int
pg_fax_paper_parse(const char *s, enum pg_fax_paper *out)
{
	if (s && strcmp(s, "letter") == 0)
		*out = PG_FAX_LETTER;
	else if (s && strcmp(s, "a4") == 0)
		*out = PG_FAX_A4;
	else
		return -1;
	return 0;
}

static const char *const CODING_NAMES[] = { "mh", "mr", "mmr" };

int
pg_fax_coding_parse(const char *s, enum pg_fax_coding *out)
{
	for (int i = 0; s && i < 3; i++)
		if (strcmp(s, CODING_NAMES[i]) == 0) {
			*out = (enum pg_fax_coding)i;
			return 0;
		}
	return -1;
}

const char *
pg_fax_coding_name(enum pg_fax_coding c)
{
	return (unsigned)c < 3 ? CODING_NAMES[c] : "?";
}

int
pg_fax_yres(enum pg_fax_res r)
{
	return r == PG_FAX_STANDARD ? 98 : 196;
}

void
pg_fax_page_free(struct pg_fax_page *p)
{
	free(p->bits);
	memset(p, 0, sizeof *p);
}

bool
pg_fax_pixel(const struct pg_fax_page *p, int x, int y)
{
	if (x < 0 || y < 0 || x >= p->width || y >= p->height)
		return false;
	return (p->bits[(size_t)y * p->stride + x / 8] >> (7 - x % 8)) & 1;
}

/* Decodes one code point of valid UTF-8 at s; returns its length. */
static size_t
utf8_next(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] < 0xe0) {
		*cp = ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
		return 2;
	}
	if (u[0] < 0xf0) {
		*cp = ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) |
		      (u[2] & 0x3f);
		return 3;
	}
	*cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3f) << 12) |
	      ((uint32_t)(u[2] & 0x3f) << 6) | (u[3] & 0x3f);
	return 4;
}

/* ---- fonts ---- */

/* The glyph for cp, or a replacement (U+FFFD, then '?'). */
static unsigned
glyph_index(struct font *f, uint32_t cp)
{
	unsigned gi = FT_Get_Char_Index(f->face, cp);

	if (!gi)
		gi = FT_Get_Char_Index(f->face, 0xfffd);
	if (!gi)
		gi = FT_Get_Char_Index(f->face, '?');
	return gi;
}

#define LOAD_FLAGS (FT_LOAD_TARGET_MONO)

/* Horizontal advance of cp in whole pixels (0 when it cannot load). */
static int
advance(struct font *f, uint32_t cp)
{
	int a;

	if (cp < ADV_CACHE && f->adv[cp] >= 0)
		return f->adv[cp];
	if (FT_Load_Glyph(f->face, glyph_index(f, cp), LOAD_FLAGS) != 0)
		a = 0;
	else
		a = (int)((f->face->glyph->advance.x + 32) >> 6);
	if (cp < ADV_CACHE)
		f->adv[cp] = (int16_t)a;
	return a;
}

/* The pen position after cp drawn at x (pixels from the left margin):
 * a tab moves to the next tab stop, anything else by its advance. */
static int
step(struct font *f, uint32_t cp, int x)
{
	int stop = TAB_STOP * PG_FAX_XRES / HUNDREDTHS;

	if (cp == '\t')
		return (x / stop + 1) * stop;
	return x + advance(f, cp);
}

/* The rendered 1-bit glyph gi (cached), or NULL. */
static const struct glyph *
render_glyph(struct font *f, unsigned gi)
{
	struct glyph *g = &f->cache[gi % GLYPH_CACHE];
	FT_GlyphSlot s;
	size_t size;

	if (gi && g->gi == gi)
		return g;
	if (FT_Load_Glyph(f->face, gi, LOAD_FLAGS | FT_LOAD_RENDER) != 0)
		return NULL;
	s = f->face->glyph;
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

static pg_err
font_open(struct pg_fax_doc *d, int i, const char *dir, char *err, size_t errlen)
{
	struct font *f = &d->fonts[i];
	char path[512];

	snprintf(path, sizeof path, "%s/%s", dir, FONTS[i].file);
	if (FT_New_Face(d->ft, path, 0, &f->face) != 0) {
		f->face = NULL;
		snprintf(err, errlen, "cannot load font %s", path);
		return PG_ERR_IO;
	}
	if (FT_Set_Char_Size(f->face, 0, FONTS[i].pt * 64, PG_FAX_XRES,
			     (FT_UInt)d->yres) != 0) {
		snprintf(err, errlen, "cannot size font %s", path);
		return PG_ERR_IO;
	}
	f->ascent = (int)((f->face->size->metrics.ascender + 63) >> 6);
	f->height = (int)((f->face->size->metrics.height + 63) >> 6);
	memset(f->adv, 0xff, sizeof f->adv);
	return PG_OK;
}

/* ---- normalising the text ---- */

/* Copies text into d->header (first line) and d->text (the rest): line
 * ends as \n, tabs kept (tab stops), other controls dropped, each line's
 * trailing blanks trimmed, runs of blank lines bounded, blank lines at
 * the start and the end of the body removed. */
static pg_err
normalise(struct pg_fax_doc *d, const char *text)
{
	struct pg_buf b;
	const char *p = text;
	size_t blanks = 0, line_start;
	pg_err e = PG_OK;

	pg_buf_init(&b, TEXT_MAX);
	while (*p && !e) {
		line_start = b.len;
		while (*p && *p != '\n' && *p != '\r' && !e) {
			unsigned char c = (unsigned char)*p;
			uint32_t cp;
			size_t n = utf8_next(p, &cp);
			if (c == '\t' || (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0)))
				e = pg_buf_add(&b, p, n);
			p += n;
		}
		if (*p == '\r' && p[1] == '\n')
			p++;
		if (*p)
			p++;
		while (b.len > line_start && (b.data[b.len - 1] == ' ' ||
					      b.data[b.len - 1] == '\t'))
			b.len--;
		if (b.data)
			b.data[b.len] = '\0';
		if (!d->header) {
			d->header = strndup(b.data ? b.data : "", b.len);
			if (!d->header)
				e = PG_ERR_NOMEM;
			pg_buf_reset(&b);
			continue;
		}
		if (b.len == line_start) {
			if (++blanks > MAX_BLANK_RUN || line_start == 0)
				continue;       /* no blank first lines either */
		} else {
			blanks = 0;
		}
		if (!e)
			e = pg_buf_add(&b, "\n", 1);
	}
	if (!e && !d->header && !(d->header = strdup("")))
		e = PG_ERR_NOMEM;
	while (!e && b.len > 0 && b.data[b.len - 1] == '\n')
		b.len--;
	if (!e && !(d->text = strndup(b.data ? b.data : "", b.len)))
		e = PG_ERR_NOMEM;
	pg_buf_free(&b);
	return e;
}

/* ---- layout ---- */

static pg_err
add_line(struct pg_fax_doc *d, size_t off, size_t len, enum pg_fax_style st,
	 int max_pages)
{
	struct font *f = &d->fonts[st == PG_FAX_TITLE ? F_TITLE : F_BODY];
	int h = f->height;
	struct line *l;

	if (d->pages == 0)
		d->pages = 1;
	if (d->n_lines == 0 || d->lines[d->n_lines - 1].page != d->pages) {
		/* first line of a page: a blank one is dropped */
		if (len == 0 && st == PG_FAX_BODY && d->n_lines > 0)
			return PG_OK;
	}
	int y = d->body_top;
	if (d->n_lines > 0 && d->lines[d->n_lines - 1].page == d->pages) {
		const struct line *p = &d->lines[d->n_lines - 1];
		struct font *pf = &d->fonts[p->style == PG_FAX_TITLE ? F_TITLE : F_BODY];
		y = p->y + pf->height;
	}
	if (y + h > d->body_bottom) {
		if (len == 0 && st == PG_FAX_BODY)
			return PG_OK;           /* a blank line that ends a page */
		if (++d->pages > max_pages)
			return PG_ERR_TOOBIG;
		y = d->body_top;
	}
	if (d->n_lines == d->cap_lines) {
		size_t cap = d->cap_lines ? d->cap_lines * 2 : 64;
		struct line *nl = realloc(d->lines, cap * sizeof *nl);
		if (!nl)
			return PG_ERR_NOMEM;
		d->lines = nl;
		d->cap_lines = cap;
	}
	l = &d->lines[d->n_lines++];
	l->off = off;
	l->len = len;
	l->style = st;
	l->page = d->pages;
	l->y = y;
	return PG_OK;
}

/* Breaks the paragraph text[off, off+len) into lines no wider than the
 * text column: at the last space that fits, else (a word longer than the
 * line) before the character that does not fit. */
static pg_err
wrap(struct pg_fax_doc *d, size_t off, size_t len, enum pg_fax_style st,
     int max_pages)
{
	struct font *f = &d->fonts[st == PG_FAX_TITLE ? F_TITLE : F_BODY];
	const char *t = d->text;
	int maxw = d->right - d->left;
	size_t end = off + len, start = off, i, brk, after;
	pg_err e;

	if (len == 0)
		return add_line(d, off, 0, st, max_pages);
	while (start < end) {
		int w = 0;
		brk = after = 0;
		for (i = start; i < end;) {
			uint32_t cp;
			size_t n = utf8_next(t + i, &cp);
			int nw = step(f, cp, w);
			if (cp == ' ' && i > start) {
				brk = i;                /* the line may end here */
				after = i + 1;
			}
			if (nw > maxw && cp != ' ' && i > start)
				break;
			w = nw;
			i += n;
		}
		if (i >= end) {
			brk = end;
			after = end;
		} else if (brk == 0) {
			brk = i;                        /* hard break inside a word */
			after = i;
		}
		while (brk > start && t[brk - 1] == ' ')
			brk--;
		if ((e = add_line(d, start, brk - start, st, max_pages)) != PG_OK)
			return e;
		start = after;
		while (start < end && t[start] == ' ')
			start++;                        /* continuation lines start flush */
	}
	return PG_OK;
}

pg_err
pg_fax_layout(const char *text, const struct pg_fax_opts *o,
	      struct pg_fax_doc **out, char *err, size_t errlen)
{
	struct pg_fax_doc *d;
	const char *dir = o && o->font_dir ? o->font_dir : PG_FAX_FONT_DIR;
	int max_pages = o && o->max_pages > 0 ? o->max_pages : PG_FAX_MAX_PAGES;
	int len_in;
	size_t p, e_off;
	pg_err e;

	*out = NULL;
	if (!text || !pg_utf8_valid(text, strlen(text))) {
		snprintf(err, errlen, "the text is not valid UTF-8");
		return PG_ERR_INVAL;
	}
	if (!(d = calloc(1, sizeof *d))) {
		snprintf(err, errlen, "out of memory");
		return PG_ERR_NOMEM;
	}
	d->res = o ? o->res : PG_FAX_FINE;
	d->yres = pg_fax_yres(PG_FAX_FINE);
	len_in = o && o->paper == PG_FAX_A4 ? A4_LEN : LETTER_LEN;
	d->height = len_in * d->yres / HUNDREDTHS;
	d->out_height = d->res == PG_FAX_FINE ? d->height : d->height / 2;
	d->left = MARGIN_SIDE * PG_FAX_XRES / HUNDREDTHS;
	d->right = PG_FAX_WIDTH - d->left;
	d->header_top = HEADER_TOP * d->yres / HUNDREDTHS;
	d->body_top = BODY_TOP * d->yres / HUNDREDTHS;
	d->body_bottom = d->height - MARGIN_BOTTOM * d->yres / HUNDREDTHS;
	if (FT_Init_FreeType(&d->ft) != 0) {
		free(d);
		snprintf(err, errlen, "cannot initialise FreeType");
		return PG_ERR_NOMEM;
	}
	for (int i = 0; i < F__COUNT; i++)
		if ((e = font_open(d, i, dir, err, errlen)) != PG_OK)
			goto fail;
	if ((e = normalise(d, text)) != PG_OK) {
		snprintf(err, errlen, e == PG_ERR_TOOBIG ? "the text is too long" :
			 "out of memory");
		goto fail;
	}
	d->pages = 1;
	for (p = 0; d->text[p];) {
		enum pg_fax_style st = PG_FAX_BODY;
		size_t start = p;
		e_off = p + strcspn(d->text + p, "\n");
		if (e_off - p == 3 && strncmp(d->text + p, "---", 3) == 0) {
			st = PG_FAX_RULE;
			start = e_off;
		} else if (strncmp(d->text + p, "# ", 2) == 0) {
			st = PG_FAX_TITLE;
			start = p + 2;
			while (start < e_off && d->text[start] == ' ')
				start++;
		}
		if ((e = wrap(d, start, e_off - start, st, max_pages)) != PG_OK) {
			if (e == PG_ERR_TOOBIG)
				snprintf(err, errlen, "the message needs more than %d pages",
					 max_pages);
			else
				snprintf(err, errlen, "out of memory");
			goto fail;
		}
		p = d->text[e_off] ? e_off + 1 : e_off;
	}
	*out = d;
	return PG_OK;
fail:
	pg_fax_doc_free(d);
	return e;
}

void
pg_fax_doc_free(struct pg_fax_doc *d)
{
	if (!d)
		return;
	for (int i = 0; i < F__COUNT; i++) {
		for (int j = 0; j < GLYPH_CACHE; j++)
			free(d->fonts[i].cache[j].bits);
		if (d->fonts[i].face)
			FT_Done_Face(d->fonts[i].face);
	}
	FT_Done_FreeType(d->ft);
	free(d->text);
	free(d->header);
	free(d->lines);
	free(d);
}

int pg_fax_doc_pages(const struct pg_fax_doc *d) { return d->pages; }
enum pg_fax_res pg_fax_doc_res(const struct pg_fax_doc *d) { return d->res; }
int pg_fax_doc_height(const struct pg_fax_doc *d) { return d->out_height; }
size_t pg_fax_doc_lines(const struct pg_fax_doc *d) { return d->n_lines; }

pg_err
pg_fax_doc_line(const struct pg_fax_doc *d, size_t i, const char **text,
		size_t *len, int *page, enum pg_fax_style *style)
{
	if (i >= d->n_lines)
		return PG_ERR_NOTFOUND;
	*text = d->text + d->lines[i].off;
	*len = d->lines[i].len;
	*page = d->lines[i].page;
	*style = d->lines[i].style;
	return PG_OK;
}

/* ---- drawing ---- */

static void
page_text(const struct pg_fax_doc *d, int page, char *buf, size_t n)
{
	snprintf(buf, n, "Page %d of %d", page, d->pages);
}

/* Width in pixels of s[0, len) in font f. */
static int
text_width(struct font *f, const char *s, size_t len)
{
	int w = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		i += utf8_next(s + i, &cp);
		w = step(f, cp, w);
	}
	return w;
}

/* Draws s[0, len) starting at x0 with its line box's top at y (tab stops
 * count from x0); returns the end x. */
static int
draw_text(struct pg_fax_page *pg, struct font *f, int x0, int y, const char *s,
	  size_t len)
{
	int base = y + f->ascent, x = x0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		i += utf8_next(s + i, &cp);
		unsigned gi = glyph_index(f, cp);
		const struct glyph *g = cp == ' ' || cp == '\t' ? NULL : render_glyph(f, gi);
		for (int r = 0; g && r < g->h; r++) {
			int py = base - g->top + r;
			if (py < 0 || py >= pg->height)
				continue;
			unsigned char *row = pg->bits + (size_t)py * pg->stride;
			for (int c = 0; c < g->w; c++) {
				int px = x + g->left + c;
				if (px < 0 || px >= pg->width ||
				    !((g->bits[r * g->pitch + c / 8] >> (7 - c % 8)) & 1))
					continue;
				row[px / 8] |= (unsigned char)(0x80 >> (px % 8));
			}
		}
		x = x0 + step(f, cp, x - x0);
	}
	return x;
}

static void
draw_hline(struct pg_fax_page *pg, int x0, int x1, int y, int rows)
{
	for (int r = y; r < y + rows && r < pg->height; r++)
		for (int x = x0; x < x1 && x < pg->width; x++)
			pg->bits[(size_t)r * pg->stride + x / 8] |=
				(unsigned char)(0x80 >> (x % 8));
}

void
pg_fax_doc_header(const struct pg_fax_doc *d, int page, char *buf, size_t n)
{
	char pt[64];

	page_text(d, page, pt, sizeof pt);
	if (d->header[0])
		snprintf(buf, n, "%s  %s", d->header, pt);
	else
		snprintf(buf, n, "%s", pt);
}

/* The header line: the text at the left (cut to fit), the page counter
 * at the right, a rule below. */
static void
draw_header(struct pg_fax_doc *d, struct pg_fax_page *pg, int page)
{
	struct font *f = &d->fonts[F_HEADER];
	char pt[64];
	int pw, room;
	size_t len = strlen(d->header), cut;
	static const char ELL[] = "...";

	page_text(d, page, pt, sizeof pt);
	pw = text_width(f, pt, strlen(pt));
	draw_text(pg, f, d->right - pw, d->header_top, pt, strlen(pt));
	room = d->right - d->left - pw - HEADER_GAP_PX;
	if (text_width(f, d->header, len) <= room) {
		draw_text(pg, f, d->left, d->header_top, d->header, len);
	} else {
		room -= text_width(f, ELL, 3);
		for (cut = 0; cut < len;) {
			uint32_t cp;
			size_t nb = utf8_next(d->header + cut, &cp);
			if (text_width(f, d->header, cut + nb) > room)
				break;
			cut += nb;
		}
		int x = draw_text(pg, f, d->left, d->header_top, d->header, cut);
		draw_text(pg, f, x, d->header_top, ELL, 3);
	}
	draw_hline(pg, d->left, d->right, d->header_top + f->height + RULE_ROWS, RULE_ROWS);
}

/* Merges each pair of rows of a fine page into one (OR): standard
 * resolution, half the rows. */
static void
fold_rows(struct pg_fax_page *p)
{
	int h = p->height / 2;

	for (int y = 0; y < h; y++) {
		unsigned char *dst = p->bits + (size_t)y * p->stride;
		const unsigned char *a = p->bits + (size_t)(2 * y) * p->stride;
		const unsigned char *b = a + p->stride;
		for (int i = 0; i < p->stride; i++)
			dst[i] = a[i] | b[i];
	}
	p->height = h;
}

pg_err
pg_fax_doc_render(struct pg_fax_doc *d, int page, struct pg_fax_page *out)
{
	memset(out, 0, sizeof *out);
	if (page < 1 || page > d->pages)
		return PG_ERR_NOTFOUND;
	out->width = PG_FAX_WIDTH;
	out->stride = PG_FAX_WIDTH / 8;
	out->height = d->height;
	if (!(out->bits = calloc((size_t)out->height, (size_t)out->stride)))
		return PG_ERR_NOMEM;
	draw_header(d, out, page);
	for (size_t i = 0; i < d->n_lines; i++) {
		const struct line *l = &d->lines[i];
		if (l->page != page)
			continue;
		if (l->style == PG_FAX_RULE) {
			struct font *f = &d->fonts[F_BODY];
			draw_hline(out, d->left, d->right, l->y + f->height / 2 - 1, RULE_ROWS);
			continue;
		}
		draw_text(out, &d->fonts[l->style == PG_FAX_TITLE ? F_TITLE : F_BODY],
			  d->left, l->y, d->text + l->off, l->len);
	}
	if (d->res == PG_FAX_STANDARD)
		fold_rows(out);
	return PG_OK;
}
