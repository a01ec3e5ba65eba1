/*
 * fax_render.c - text -> fax pages with FreeType (fax.h): layout (wrap and
 * paginate by glyph advances) first, then one page at a time into a 1-bit
 * bitmap 1728 pixels wide.  The fonts (DejaVu, and fontconfig's fallback
 * for what DejaVu lacks) are fax_font.c's; what scripts need beyond
 * glyphs (NFC, CJK line breaks, right-to-left lines) is fax_script.c's.
 *
 * Glyphs are loaded hinted for monochrome targets and rendered 1-bit, the
 * same advances for measuring and drawing, so what the layout wrapped is
 * what fits.  Layout and drawing always happen at fine resolution (204 x
 * 196 dpi); a standard-resolution page (98 dpi vertically) is the fine one
 * with each pair of rows merged (a pixel is black when either is), so
 * both resolutions break lines and pages in the same places and glyphs
 * keep their fine shapes (FreeType's hinting at 204 x 98 dpi deforms them:
 * 0 and O become hard to tell apart).  Each document has its own
 * fonts (FreeType objects are not shared between threads) and caches.
 *
 * A line of Chinese or Japanese may break between any two characters
 * (but not before closing punctuation); a right-to-left paragraph is set
 * flush right, each of its lines drawn in display order.  A symbol or
 * emoji that no installed font has is written as its name, "(fire)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fax.h"
#include "fax_font.h"
#include "fax_script.h"
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
#define TAB_STOP          125         /* tab stops every 1.25 in */
#define RULE_ROWS         4           /* thickness of rules, fine rows */
#define MAX_BLANK_RUN     2           /* blank lines kept in a row */
#define HEADER_GAP_PX     40          /* between header text and "Page N of M" */
#define TEXT_MAX          (1u << 20)  /* normalised text bound */
#define NAME_LEN          128         /* "(name)" of a symbol */

static const char *const FONT_FILE[FAX__ROLES] = {
	[FAX_BODY] = "DejaVuSans.ttf",
	[FAX_TITLE] = "DejaVuSans-Bold.ttf",
	[FAX_HEADER] = "DejaVuSansMono.ttf",
};
static const int FONT_PT[FAX__ROLES] = {
	[FAX_BODY] = PT_BODY, [FAX_TITLE] = PT_TITLE, [FAX_HEADER] = PT_HEADER,
};

struct line {
	size_t off, len;            /* into doc->text */
	size_t voff, vlen;          /* shown: into doc->vis when vis */
	bool vis, rtl;              /* display order differs; set flush right */
	enum pg_fax_style style;
	int page, y;                /* y: top of the line box */
};

struct pg_fax_doc {
	struct fax_fonts *fonts;
	enum pg_fax_res res;
	int yres, height;           /* layout (fine) rows per inch and page */
	int out_height;             /* rows of the pages produced */
	int left, right, body_top, body_bottom, header_top;
	char *text;                 /* normalised, owned */
	char *header;               /* first line, owned */
	struct pg_buf vis;          /* right-to-left lines in display order */
	struct line *lines;
	size_t n_lines, cap_lines;
	int pages;
	size_t missing;             /* characters no font has */
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

static enum fax_role
role_of(enum pg_fax_style st)
{
	return st == PG_FAX_TITLE ? FAX_TITLE : FAX_BODY;
}

/* The pen position after cp drawn at x (pixels from the line's start):
 * a tab moves to the next tab stop, anything else by its advance. */
static int
step(struct fax_fonts *f, enum fax_role r, uint32_t cp, int x)
{
	int stop = TAB_STOP * PG_FAX_XRES / HUNDREDTHS;

	if (cp == '\t')
		return (x / stop + 1) * stop;
	return x + fax_fonts_lookup(f, r, cp).adv;
}

/* ---- normalising the text ---- */

/* Appends the character cp (n bytes at p) of a line in style r: a
 * symbol no font has as its name, and counts the characters that will
 * be drawn as the replacement mark. */
static pg_err
add_char(struct pg_fax_doc *d, struct pg_buf *b, enum fax_role r, uint32_t cp,
	 const char *p, size_t n)
{
	char name[NAME_LEN];

	if (cp >= 0x80 && fax_fonts_lookup(d->fonts, r, cp).kind == FAX_REF_MISSING) {
		if (fax_symbol_name(cp, name, sizeof name))
			return pg_buf_adds(b, name);
		d->missing++;
	}
	return pg_buf_add(b, p, n);
}

/* Copies text into d->header (first line) and d->text (the rest): line
 * ends as \n, tabs kept (tab stops), other controls dropped, symbols no
 * font has spelled by name, each line's trailing blanks trimmed, runs of
 * blank lines bounded, blank lines at the start and the end of the body
 * removed. */
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
				e = add_char(d, &b, d->header ? FAX_BODY : FAX_HEADER, cp, p, n);
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
	int h = fax_fonts_height(d->fonts, role_of(st));
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
		y = p->y + fax_fonts_height(d->fonts, role_of(p->style));
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
	memset(l, 0, sizeof *l);
	l->off = off;
	l->len = len;
	l->style = st;
	l->page = d->pages;
	l->y = y;
	return PG_OK;
}

/* Breaks the paragraph text[off, off+len) into lines no wider than the
 * text column: at the last space that fits, or between two characters
 * of which one is CJK (fax_break_between), else (a word longer than the
 * line) before the character that does not fit. */
static pg_err
wrap(struct pg_fax_doc *d, size_t off, size_t len, enum pg_fax_style st,
     int max_pages)
{
	enum fax_role r = role_of(st);
	const char *t = d->text;
	int maxw = d->right - d->left;
	size_t end = off + len, start = off, i, brk, after;
	pg_err e;

	if (len == 0)
		return add_line(d, off, 0, st, max_pages);
	while (start < end) {
		int w = 0;
		uint32_t prev = 0;
		brk = after = 0;
		for (i = start; i < end;) {
			uint32_t cp;
			size_t n = utf8_next(t + i, &cp);
			int nw = step(d->fonts, r, cp, w);
			if (cp == ' ' && i > start) {
				brk = i;                /* the line may end here */
				after = i + 1;
			} else if (i > start && (prev >= 0x80 || cp >= 0x80) &&
				   fax_break_between(prev, cp)) {
				brk = i;                /* or here, next to an ideograph */
				after = i;
			}
			if (nw > maxw && cp != ' ' && i > start)
				break;
			w = nw;
			prev = cp;
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

/* Puts lines [first, d->n_lines) of the paragraph text[off, off+len) in
 * display order when it has right-to-left text. */
static pg_err
reorder(struct pg_fax_doc *d, size_t off, size_t len, size_t first)
{
	bool rtl;
	pg_err e;

	if (!fax_has_rtl(d->text + off, len))
		return PG_OK;
	rtl = fax_para_rtl(d->text + off, len);
	for (size_t i = first; i < d->n_lines; i++) {
		struct line *l = &d->lines[i];
		l->voff = d->vis.len;
		if ((e = fax_visual(d->text + l->off, l->len, rtl, &d->vis)) != PG_OK)
			return e;
		l->vlen = d->vis.len - l->voff;
		l->vis = true;
		l->rtl = rtl;
	}
	return PG_OK;
}

pg_err
pg_fax_layout(const char *text, const struct pg_fax_opts *o,
	      struct pg_fax_doc **out, char *err, size_t errlen)
{
	struct pg_fax_doc *d;
	struct fax_fonts_opts fo = { 0 };
	int max_pages = o && o->max_pages > 0 ? o->max_pages : PG_FAX_MAX_PAGES;
	int len_in;
	size_t p, e_off;
	char *nfc = NULL;
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
	pg_buf_init(&d->vis, 4 * (size_t)TEXT_MAX);
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
	if ((e = fax_nfc(text, &nfc)) != PG_OK) {
		snprintf(err, errlen, e == PG_ERR_TOOBIG ? "the text is too long" :
			 "out of memory");
		goto fail;
	}
	if (nfc)
		text = nfc;
	fo.dir = o && o->font_dir ? o->font_dir : PG_FAX_FONT_DIR;
	for (int r = 0; r < FAX__ROLES; r++) {
		fo.file[r] = FONT_FILE[r];
		fo.pt[r] = FONT_PT[r];
	}
	fo.xres = PG_FAX_XRES;
	fo.yres = d->yres;
	fo.fallback = !(o && o->no_fallback);
	fo.lang = fax_cjk_lang(text);
	fo.db = o ? o->fontdb : NULL;
	if ((e = fax_fonts_open(&fo, &d->fonts, err, errlen)) != PG_OK)
		goto fail;
	if ((e = normalise(d, text)) != PG_OK) {
		snprintf(err, errlen, e == PG_ERR_TOOBIG ? "the text is too long" :
			 "out of memory");
		goto fail;
	}
	d->pages = 1;
	for (p = 0; d->text[p];) {
		enum pg_fax_style st = PG_FAX_BODY;
		size_t start = p, first = d->n_lines;
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
		if ((e = wrap(d, start, e_off - start, st, max_pages)) != PG_OK ||
		    (e = reorder(d, start, e_off - start, first)) != PG_OK) {
			if (e == PG_ERR_TOOBIG && d->pages > max_pages)
				snprintf(err, errlen, "the message needs more than %d pages",
					 max_pages);
			else if (e == PG_ERR_TOOBIG)
				snprintf(err, errlen, "the text is too long");
			else
				snprintf(err, errlen, "out of memory");
			goto fail;
		}
		p = d->text[e_off] ? e_off + 1 : e_off;
	}
	free(nfc);
	*out = d;
	return PG_OK;
fail:
	free(nfc);
	pg_fax_doc_free(d);
	return e;
}

void
pg_fax_doc_free(struct pg_fax_doc *d)
{
	if (!d)
		return;
	fax_fonts_free(d->fonts);
	pg_buf_free(&d->vis);
	free(d->text);
	free(d->header);
	free(d->lines);
	free(d);
}

int pg_fax_doc_pages(const struct pg_fax_doc *d) { return d->pages; }
enum pg_fax_res pg_fax_doc_res(const struct pg_fax_doc *d) { return d->res; }
int pg_fax_doc_height(const struct pg_fax_doc *d) { return d->out_height; }
size_t pg_fax_doc_lines(const struct pg_fax_doc *d) { return d->n_lines; }
size_t pg_fax_doc_missing(const struct pg_fax_doc *d) { return d->missing; }

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

pg_err
pg_fax_doc_line_shown(const struct pg_fax_doc *d, size_t i, const char **text,
		      size_t *len, bool *rtl)
{
	const struct line *l;

	if (i >= d->n_lines)
		return PG_ERR_NOTFOUND;
	l = &d->lines[i];
	*text = l->vis ? d->vis.data + l->voff : d->text + l->off;
	*len = l->vis ? l->vlen : l->len;
	*rtl = l->rtl;
	return PG_OK;
}

/* ---- drawing ---- */

static void
page_text(const struct pg_fax_doc *d, int page, char *buf, size_t n)
{
	snprintf(buf, n, "Page %d of %d", page, d->pages);
}

/* Width in pixels of s[0, len) in style r. */
static int
text_width(struct fax_fonts *f, enum fax_role r, const char *s, size_t len)
{
	int w = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		i += utf8_next(s + i, &cp);
		w = step(f, r, cp, w);
	}
	return w;
}

/* ORs glyph g into the page with its top left pixel at (x, y), a byte
 * of the glyph at a time; what falls outside the page is clipped. */
static void
blit(struct pg_fax_page *pg, const struct fax_bitmap *g, int x, int y)
{
	int nb = (g->w + 7) / 8;
	unsigned last = g->w % 8 ? (0xff00u >> (g->w % 8)) & 0xff : 0xff;

	for (int row = 0; row < g->h; row++) {
		int py = y + row;
		if (py < 0 || py >= pg->height)
			continue;
		unsigned char *dst = pg->bits + (size_t)py * pg->stride;
		const unsigned char *src = g->bits + (size_t)row * g->pitch;
		for (int b = 0; b < nb; b++) {
			unsigned v = src[b] & (b == nb - 1 ? last : 0xff);
			int px = x + 8 * b, sh = px & 7;
			if (!v)
				continue;
			if (px >= 0 && px + 8 <= pg->width) {
				dst[px >> 3] |= (unsigned char)(v >> sh);
				if (sh)
					dst[(px >> 3) + 1] |= (unsigned char)(v << (8 - sh));
				continue;
			}
			for (int c = 0; c < 8; c++)     /* at an edge of the page */
				if (((v >> (7 - c)) & 1) && px + c >= 0 && px + c < pg->width)
					dst[(px + c) / 8] |= (unsigned char)(0x80 >> ((px + c) % 8));
		}
	}
}

/* Draws s[0, len) in style r starting at x0 with its line box's top at y
 * (tab stops count from x0); returns the end x. */
static int
draw_text(struct pg_fax_page *pg, struct fax_fonts *f, enum fax_role r, int x0, int y,
	  const char *s, size_t len)
{
	int base = y + fax_fonts_ascent(f, r), x = x0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		i += utf8_next(s + i, &cp);
		if (cp == '\t') {
			x = x0 + step(f, r, cp, x - x0);
			continue;
		}
		struct fax_ref ref = fax_fonts_lookup(f, r, cp);
		const struct fax_bitmap *g = cp == ' ' || !ref.face ? NULL :
			fax_face_render(ref.face, ref.gi);
		if (g)
			blit(pg, g, x + g->left, base - g->top);
		x += ref.adv;
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

/* The header line: the text at the left (cut to fit, in display order),
 * the page counter at the right, a rule below. */
static pg_err
draw_header(struct pg_fax_doc *d, struct pg_fax_page *pg, int page)
{
	struct fax_fonts *f = d->fonts;
	char pt[64];
	int pw, room;
	size_t len = strlen(d->header), cut = len;
	static const char ELL[] = "...";
	struct pg_buf b;
	pg_err e = PG_OK;

	page_text(d, page, pt, sizeof pt);
	pw = text_width(f, FAX_HEADER, pt, strlen(pt));
	draw_text(pg, f, FAX_HEADER, d->right - pw, d->header_top, pt, strlen(pt));
	room = d->right - d->left - pw - HEADER_GAP_PX;
	if (text_width(f, FAX_HEADER, d->header, len) > room) {
		room -= text_width(f, FAX_HEADER, ELL, 3);
		for (cut = 0; cut < len;) {
			uint32_t cp;
			size_t nb = utf8_next(d->header + cut, &cp);
			if (text_width(f, FAX_HEADER, d->header, cut + nb) > room)
				break;
			cut += nb;
		}
	}
	pg_buf_init(&b, 4 * (len + sizeof ELL));
	if ((e = pg_buf_add(&b, d->header, cut)) == PG_OK && cut < len)
		e = pg_buf_add(&b, ELL, 3);
	if (e == PG_OK && fax_has_rtl(d->header, len)) {
		/* the cut text and its "..." in display order */
		struct pg_buf v;
		pg_buf_init(&v, b.max);
		if ((e = fax_visual(b.data, b.len, fax_para_rtl(d->header, len), &v)) == PG_OK) {
			pg_buf_free(&b);
			b = v;
		} else {
			pg_buf_free(&v);
		}
	}
	if (e == PG_OK && b.len)
		draw_text(pg, f, FAX_HEADER, d->left, d->header_top, b.data, b.len);
	pg_buf_free(&b);
	draw_hline(pg, d->left, d->right,
		   d->header_top + fax_fonts_height(f, FAX_HEADER) + RULE_ROWS, RULE_ROWS);
	return e;
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
	pg_err e;

	memset(out, 0, sizeof *out);
	if (page < 1 || page > d->pages)
		return PG_ERR_NOTFOUND;
	out->width = PG_FAX_WIDTH;
	out->stride = PG_FAX_WIDTH / 8;
	out->height = d->height;
	if (!(out->bits = calloc((size_t)out->height, (size_t)out->stride)))
		return PG_ERR_NOMEM;
	if ((e = draw_header(d, out, page)) != PG_OK) {
		pg_fax_page_free(out);
		return e;
	}
	for (size_t i = 0; i < d->n_lines; i++) {
		const struct line *l = &d->lines[i];
		enum fax_role r = role_of(l->style);
		const char *s = l->vis ? d->vis.data + l->voff : d->text + l->off;
		size_t len = l->vis ? l->vlen : l->len;
		int x = d->left;

		if (l->page != page)
			continue;
		if (l->style == PG_FAX_RULE) {
			draw_hline(out, d->left, d->right,
				   l->y + fax_fonts_height(d->fonts, FAX_BODY) / 2 - 1, RULE_ROWS);
			continue;
		}
		if (l->rtl)                     /* flush right */
			x = d->right - text_width(d->fonts, r, s, len);
		draw_text(out, d->fonts, r, x, l->y, s, len);
	}
	if (d->res == PG_FAX_STANDARD)
		fold_rows(out);
	return PG_OK;
}
