/*
 * test_fax_render.c - fax pages from text (FreeType, DejaVu fonts) and
 * TIFF Class F (libtiff): wrapping (by width, UTF-8 aware, long words),
 * pagination, header lines, styles, page geometry at both resolutions,
 * the TIFF tags as libtiff reads them back, MH/MR/MMR decoding to the
 * very bitmaps that were rendered, and the pre-dial check refusing bad
 * files.  Scripts: Chinese through fontconfig's fallback (fonts-noto-cjk
 * or another CJK font), emoji (fonts-symbola) or their names, Hebrew
 * and Arabic right to left, decomposed accents composed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tiffio.h>

#include "../../src/chan/fax/fax.h"
#include "pagegate/util.h"

#define HEADER "Test Clinic | Message 42 | Received 2026-11-22 09:34 (-06:00)"

static char tmpdir[] = "/tmp/test_fax_render.XXXXXX";

static int
setup_dir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
remove_dir(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
tpath(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

static struct pg_fax_doc *
layout(const char *text, enum pg_fax_res res)
{
	struct pg_fax_opts o = { .res = res };
	struct pg_fax_doc *d = NULL;
	char err[256] = "";
	pg_err e = pg_fax_layout(text, &o, &d, err, sizeof err);
	if (e != PG_OK)
		fail_msg("layout: %s", err);
	return d;
}

/* Every body line, joined with `sep`, into buf. */
static void
joined(const struct pg_fax_doc *d, const char *sep, char *buf, size_t n)
{
	const char *t;
	size_t len;
	int page;
	enum pg_fax_style st;

	buf[0] = '\0';
	for (size_t i = 0; pg_fax_doc_line(d, i, &t, &len, &page, &st) == PG_OK; i++) {
		if (i)
			strncat(buf, sep, n - strlen(buf) - 1);
		strncat(buf, t, len < n - strlen(buf) - 1 ? len : n - strlen(buf) - 1);
	}
}

/* Columns [x0, x1) of rows [y0, y1) hold no black pixel. */
static bool
blank(const struct pg_fax_page *p, int x0, int x1, int y0, int y1)
{
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++)
			if (pg_fax_pixel(p, x, y))
				return false;
	return true;
}

/* A paragraph longer than a line wraps at spaces: no word is lost or cut,
 * no line starts or ends with a space, every line but the last is full
 * (the next word would not have fitted: checked via the ink reaching
 * beyond 80% of the column), nothing is drawn in the margins. */
static void
test_wrap_words(void **state)
{
	(void)state;
	const char *para = "The quick brown fox jumps over the lazy dog while the "
		"answering service records every word that the caller says, even when "
		"the sentences get very long indeed and must wrap onto further lines "
		"of the page without losing anything at all.";
	char text[1024], got[1024];
	snprintf(text, sizeof text, "%s\n%s", HEADER, para);
	struct pg_fax_doc *d = layout(text, PG_FAX_FINE);

	assert_int_equal(pg_fax_doc_pages(d), 1);
	assert_true(pg_fax_doc_lines(d) >= 3);
	joined(d, " ", got, sizeof got);
	assert_string_equal(got, para);
	const char *t;
	size_t len;
	int page;
	enum pg_fax_style st;
	for (size_t i = 0; pg_fax_doc_line(d, i, &t, &len, &page, &st) == PG_OK; i++) {
		assert_true(len > 0);
		assert_true(t[0] != ' ' && t[len - 1] != ' ');
		assert_int_equal(st, PG_FAX_BODY);
	}

	struct pg_fax_page pg;
	assert_int_equal(pg_fax_doc_render(d, 1, &pg), PG_OK);
	assert_int_equal(pg.width, 1728);
	assert_int_equal(pg.height, 2156);
	assert_int_equal(pg.stride, 216);
	/* margins: 0.5 in = 102 pixels each side */
	assert_true(blank(&pg, 0, 102, 0, pg.height));
	assert_true(blank(&pg, 1728 - 102, 1728, 0, pg.height));
	/* the first line is full: ink beyond 80% of the column */
	int y0 = 70 * 196 / 100;
	assert_false(blank(&pg, 102 + (1524 * 8) / 10, 1728 - 102, y0, y0 + 30));
	pg_fax_page_free(&pg);
	pg_fax_doc_free(d);
}

/* A word longer than a line is broken inside, never inside a UTF-8
 * sequence; multi-byte characters are measured as one glyph each. */
static void
test_wrap_long_word_utf8(void **state)
{
	(void)state;
	char text[4096], word[2048] = "", got[4096];
	for (int i = 0; i < 150; i++)
		strcat(word, i % 3 == 0 ? "ü" : i % 3 == 1 ? "€" : "x");
	snprintf(text, sizeof text, "H\n%s", word);
	struct pg_fax_doc *d = layout(text, PG_FAX_FINE);

	assert_true(pg_fax_doc_lines(d) >= 2);
	joined(d, "", got, sizeof got);
	assert_string_equal(got, word);
	const char *t;
	size_t len;
	int page;
	enum pg_fax_style st;
	for (size_t i = 0; pg_fax_doc_line(d, i, &t, &len, &page, &st) == PG_OK; i++)
		assert_true(pg_utf8_valid(t, len));
	pg_fax_doc_free(d);
}

/* 200 short lines: pages fill in order, each page holds the same number
 * of lines, the count of pages follows, headers say "Page N of M"; both
 * resolutions break pages in the same places. */
static void
test_paginate(void **state)
{
	(void)state;
	struct pg_buf b;
	pg_buf_init(&b, 1 << 16);
	assert_int_equal(pg_buf_printf(&b, "%s\n", HEADER), PG_OK);
	for (int i = 1; i <= 200; i++)
		assert_int_equal(pg_buf_printf(&b, "Line %03d\n", i), PG_OK);

	int page_of[200];
	for (int r = 0; r < 2; r++) {
		struct pg_fax_doc *d = layout(b.data, r ? PG_FAX_STANDARD : PG_FAX_FINE);
		const char *t;
		size_t len;
		int page, per = 0, last = 1;
		enum pg_fax_style st;

		assert_int_equal(pg_fax_doc_lines(d), 200);
		for (size_t i = 0; pg_fax_doc_line(d, i, &t, &len, &page, &st) == PG_OK; i++) {
			char want[16];
			snprintf(want, sizeof want, "Line %03zu", i + 1);
			assert_int_equal(len, strlen(want));
			assert_memory_equal(t, want, len);
			assert_true(page == last || page == last + 1);
			last = page;
			if (r == 0)
				page_of[i] = page;
			else
				assert_int_equal(page, page_of[i]);
			if (page == 1)
				per++;
		}
		assert_true(per > 40 && per < 70);
		assert_int_equal(pg_fax_doc_pages(d), (200 + per - 1) / per);
		assert_int_equal(last, pg_fax_doc_pages(d));
		assert_int_equal(pg_fax_doc_height(d), r ? 1078 : 2156);

		char h[256], want[256];
		int m = pg_fax_doc_pages(d);
		pg_fax_doc_header(d, 2, h, sizeof h);
		snprintf(want, sizeof want, HEADER "  Page 2 of %d", m);
		assert_string_equal(h, want);
		pg_fax_doc_header(d, m, h, sizeof h);
		snprintf(want, sizeof want, HEADER "  Page %d of %d", m, m);
		assert_string_equal(h, want);
		struct pg_fax_page pg;
		assert_int_equal(pg_fax_doc_render(d, m + 1, &pg), PG_ERR_NOTFOUND);
		assert_int_equal(pg_fax_doc_render(d, 0, &pg), PG_ERR_NOTFOUND);
		pg_fax_doc_free(d);
	}
	pg_buf_free(&b);
}

/* Every page carries the header: ink in the header band at the left
 * (the text) and at the right (the page counter), with a rule below it. */
static void
test_header_on_every_page(void **state)
{
	(void)state;
	struct pg_buf b;
	pg_buf_init(&b, 1 << 16);
	assert_int_equal(pg_buf_printf(&b, "%s\n", HEADER), PG_OK);
	for (int i = 1; i <= 130; i++)
		assert_int_equal(pg_buf_printf(&b, "Line %03d\n", i), PG_OK);
	struct pg_fax_doc *d = layout(b.data, PG_FAX_FINE);
	int y_hdr = 25 * 196 / 100;

	assert_int_equal(pg_fax_doc_pages(d), 3);
	for (int p = 1; p <= 3; p++) {
		struct pg_fax_page pg;
		assert_int_equal(pg_fax_doc_render(d, p, &pg), PG_OK);
		assert_true(blank(&pg, 0, 1728, 0, y_hdr - 2));
		assert_false(blank(&pg, 102, 300, y_hdr, y_hdr + 30));
		assert_false(blank(&pg, 1728 - 300, 1728 - 102, y_hdr, y_hdr + 30));
		/* the rule: one row black across the whole column */
		bool rule = false;
		for (int y = y_hdr; y < 70 * 196 / 100 && !rule; y++) {
			rule = true;
			for (int x = 102; x < 1728 - 102 && rule; x++)
				rule = pg_fax_pixel(&pg, x, y);
		}
		assert_true(rule);
		pg_fax_page_free(&pg);
	}
	pg_fax_doc_free(d);
	pg_buf_free(&b);
}

/* A standard page is the fine page with each pair of rows merged. */
static void
test_standard_is_folded_fine(void **state)
{
	(void)state;
	const char *text = HEADER "\n# Title\nSome text: 0O 1l 8B, rules below\n---\nEnd";
	struct pg_fax_doc *f = layout(text, PG_FAX_FINE), *s = layout(text, PG_FAX_STANDARD);
	struct pg_fax_page pf, ps;

	assert_int_equal(pg_fax_doc_render(f, 1, &pf), PG_OK);
	assert_int_equal(pg_fax_doc_render(s, 1, &ps), PG_OK);
	assert_int_equal(ps.height, pf.height / 2);
	for (int y = 0; y < ps.height; y++)
		for (int x = 0; x < 1728; x++)
			assert_int_equal(pg_fax_pixel(&ps, x, y),
					 pg_fax_pixel(&pf, x, 2 * y) || pg_fax_pixel(&pf, x, 2 * y + 1));
	assert_false(blank(&ps, 102, 1626, 0, ps.height));
	pg_fax_page_free(&pf);
	pg_fax_page_free(&ps);
	pg_fax_doc_free(f);
	pg_fax_doc_free(s);
}

/* Titles, rules, blank-line runs, controls and tabs, an empty body. */
static void
test_styles_and_cleanup(void **state)
{
	(void)state;
	struct pg_fax_doc *d = layout("Hdr\r\n\n\n# Big title\r\nA\tB\x01" "C\n---\n\n\n\n\nEnd\n\n\n",
				      PG_FAX_FINE);
	static const struct { const char *text; enum pg_fax_style st; } want[] = {
		{ "Big title", PG_FAX_TITLE }, { "A\tBC", PG_FAX_BODY },
		{ "", PG_FAX_RULE }, { "", PG_FAX_BODY }, { "", PG_FAX_BODY },
		{ "End", PG_FAX_BODY },
	};
	const char *t;
	size_t len;
	int page;
	enum pg_fax_style st;
	char h[64];

	assert_int_equal(pg_fax_doc_lines(d), 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(pg_fax_doc_line(d, i, &t, &len, &page, &st), PG_OK);
		assert_int_equal(len, strlen(want[i].text));
		assert_memory_equal(t, want[i].text, len);
		assert_int_equal(st, want[i].st);
		assert_int_equal(page, 1);
	}
	pg_fax_doc_header(d, 1, h, sizeof h);
	assert_string_equal(h, "Hdr  Page 1 of 1");
	pg_fax_doc_free(d);

	d = layout("", PG_FAX_STANDARD);
	assert_int_equal(pg_fax_doc_pages(d), 1);
	assert_int_equal(pg_fax_doc_lines(d), 0);
	pg_fax_doc_header(d, 1, h, sizeof h);
	assert_string_equal(h, "Page 1 of 1");
	pg_fax_doc_free(d);
}

static void
test_errors(void **state)
{
	(void)state;
	struct pg_fax_doc *d = (void *)1;
	struct pg_fax_opts o = { .max_pages = 2 };
	char err[256], big[8192] = "H\n";

	assert_int_equal(pg_fax_layout("H\n\xc3\x28", NULL, &d, err, sizeof err), PG_ERR_INVAL);
	assert_null(d);
	for (int i = 0; i < 150; i++)
		strcat(big, "x\n");
	assert_int_equal(pg_fax_layout(big, &o, &d, err, sizeof err), PG_ERR_TOOBIG);
	assert_string_equal(err, "the message needs more than 2 pages");
	o.max_pages = 0;
	o.font_dir = "/nonexistent";
	assert_int_equal(pg_fax_layout("H\nx", &o, &d, err, sizeof err), PG_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent/DejaVuSans.ttf"));
	o.font_dir = NULL;
	o.paper = PG_FAX_A4;
	assert_int_equal(pg_fax_layout("H\nx", &o, &d, err, sizeof err), PG_OK);
	assert_int_equal(pg_fax_doc_height(d), 2291);
	pg_fax_doc_free(d);

	enum pg_fax_coding c;
	enum pg_fax_res r;
	enum pg_fax_paper p;
	assert_int_equal(pg_fax_coding_parse("mmr", &c), 0);
	assert_int_equal(c, PG_FAX_MMR);
	assert_int_equal(pg_fax_coding_parse("g4", &c), -1);
	assert_int_equal(pg_fax_res_parse("standard", &r), 0);
	assert_int_equal(r, PG_FAX_STANDARD);
	assert_int_equal(pg_fax_res_parse("superfine", &r), -1);
	assert_int_equal(pg_fax_paper_parse("a4", &p), 0);
	assert_int_equal(pg_fax_paper_parse("legal", &p), -1);
}

/* ---- scripts ---- */

static struct pg_fax_doc *
layout_opts(const char *text, bool fallback)
{
	struct pg_fax_opts o = { .no_fallback = !fallback };
	struct pg_fax_doc *d = NULL;
	char err[256] = "";
	if (pg_fax_layout(text, &o, &d, err, sizeof err) != PG_OK)
		fail_msg("layout: %s", err);
	return d;
}

/* Line i's text as drawn, NUL-terminated, into buf. */
static const char *
shown(const struct pg_fax_doc *d, size_t i, bool *rtl, char *buf, size_t n)
{
	const char *t;
	size_t len;
	assert_int_equal(pg_fax_doc_line_shown(d, i, &t, &len, rtl), PG_OK);
	assert_true(len < n);
	memcpy(buf, t, len);
	buf[len] = '\0';
	return buf;
}

#define LINE1_Y   (70 * 196 / 100)    /* top of the first body line */
#define LINE_BAND 34                  /* rows of a body line's ink */

/* The rightmost column with ink in the first body line, -1 when none. */
static int
ink_right(const struct pg_fax_page *p)
{
	for (int x = p->width - 1; x >= 0; x--)
		if (!blank(p, x, x + 1, LINE1_Y, LINE1_Y + LINE_BAND))
			return x;
	return -1;
}

static int
ink_left(const struct pg_fax_page *p)
{
	for (int x = 0; x < p->width; x++)
		if (!blank(p, x, x + 1, LINE1_Y, LINE1_Y + LINE_BAND))
			return x;
	return -1;
}

/* Page 1 of text. */
static struct pg_fax_page
page1(const char *text, bool fallback)
{
	struct pg_fax_doc *d = layout_opts(text, fallback);
	struct pg_fax_page pg;
	assert_int_equal(pg_fax_doc_render(d, 1, &pg), PG_OK);
	pg_fax_doc_free(d);
	return pg;
}

/* Two texts draw exactly the same page. */
static void
assert_same_page(const char *a, const char *b)
{
	struct pg_fax_page pa = page1(a, true), pb = page1(b, true);
	assert_memory_equal(pa.bits, pb.bits, (size_t)pa.height * pa.stride);
	pg_fax_page_free(&pa);
	pg_fax_page_free(&pb);
}

#define ZH "从早上开始没有暖气，锅炉发出很大的响声。家里有两个孩子和一位老人，" \
	   "请今天派人来维修。地址：北京市朝阳区建国路88号3单元502室，请从东门进来。"

/* Chinese is drawn with a CJK font found through fontconfig (no
 * character missing, none drawn as the replacement mark), each
 * character about one em wide (twice a Latin letter), and wraps between
 * characters without spaces: nothing lost or added, the first line full,
 * no line starting with closing punctuation. */
static void
test_cjk_fallback_and_wrap(void **state)
{
	(void)state;
	struct pg_fax_doc *d = layout_opts("H\n" ZH ZH, true);
	char got[4096];
	const char *t;
	size_t len;
	int page;
	enum pg_fax_style st;

	assert_int_equal(pg_fax_doc_missing(d), 0);
	assert_true(pg_fax_doc_lines(d) >= 3);
	joined(d, "", got, sizeof got);
	assert_string_equal(got, ZH ZH);
	for (size_t i = 0; pg_fax_doc_line(d, i, &t, &len, &page, &st) == PG_OK; i++) {
		assert_true(len > 0 && pg_utf8_valid(t, len));
		assert_true(strncmp(t, "，", 3) != 0 && strncmp(t, "。", 3) != 0 &&
			    strncmp(t, "：", 3) != 0);
	}
	struct pg_fax_page pg;
	assert_int_equal(pg_fax_doc_render(d, 1, &pg), PG_OK);
	/* full: ink within two characters of the right margin */
	assert_true(ink_right(&pg) > 1626 - 62);
	pg_fax_page_free(&pg);
	pg_fax_doc_free(d);

	/* ten ideographs: ten ems of 11 pt at 204 dpi (31 px); ten x: less
	 * than two thirds of that */
	pg = page1("H\n中中中中中中中中中中", true);
	assert_in_range(ink_right(&pg), 102 + 290, 102 + 320);
	pg_fax_page_free(&pg);
	pg = page1("H\nxxxxxxxxxx", true);
	assert_true(ink_right(&pg) < 102 + 200);
	pg_fax_page_free(&pg);

	/* a real glyph, not the replacement mark: which DejaVu alone draws */
	struct pg_fax_page han = page1("H\n中", true), fffd = page1("H\n\xef\xbf\xbd", true),
		alone = page1("H\n中", false);
	assert_memory_not_equal(han.bits, fffd.bits, (size_t)han.height * han.stride);
	assert_memory_equal(alone.bits, fffd.bits, (size_t)han.height * han.stride);
	pg_fax_page_free(&han);
	pg_fax_page_free(&fffd);
	pg_fax_page_free(&alone);
	d = layout_opts("H\nA 中 B", false);
	assert_int_equal(pg_fax_doc_missing(d), 1);
	pg_fax_doc_free(d);
}

struct shared_arg {
	struct pg_fax_fontdb *db;
	struct pg_fax_page pg;
	pg_err e;
};

static void *
render_shared(void *p)
{
	struct shared_arg *a = p;
	struct pg_fax_opts o = { .fontdb = a->db };
	struct pg_fax_doc *d;
	char err[256];

	if ((a->e = pg_fax_layout("H\n" ZH, &o, &d, err, sizeof err)) == PG_OK) {
		a->e = pg_fax_doc_render(d, 1, &a->pg);
		pg_fax_doc_free(d);
	}
	return NULL;
}

/* Documents in two threads at once share one list of fonts (the
 * daemon's) and draw what a document with its own list draws. */
static void
test_fontdb_shared(void **state)
{
	(void)state;
	struct pg_fax_fontdb *db;
	struct shared_arg a[2];
	pthread_t t[2];
	struct pg_fax_page own = page1("H\n" ZH, true);

	assert_int_equal(pg_fax_fontdb_new(&db), PG_OK);
	for (int i = 0; i < 2; i++) {
		a[i] = (struct shared_arg){ .db = db };
		assert_int_equal(pthread_create(&t[i], NULL, render_shared, &a[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].e, PG_OK);
		assert_memory_equal(a[i].pg.bits, own.bits, (size_t)own.height * own.stride);
		pg_fax_page_free(&a[i].pg);
	}
	pg_fax_fontdb_free(db);
	pg_fax_page_free(&own);
}

/* Emoji are drawn with a monochrome emoji font; without one, written as
 * their names.  Joiners, variation selectors and skin tones take no
 * room; an unassigned code point is counted as missing. */
static void
test_emoji_and_names(void **state)
{
	(void)state;
	char buf[256];
	bool rtl;
	struct pg_fax_doc *d = layout_opts("H\nFire \xf0\x9f\x94\xa5 now", true);

	assert_int_equal(pg_fax_doc_missing(d), 0);
	assert_string_equal(shown(d, 0, &rtl, buf, sizeof buf), "Fire \xf0\x9f\x94\xa5 now");
	pg_fax_doc_free(d);
	struct pg_fax_page emo = page1("H\n\xf0\x9f\x94\xa5", true), fffd = page1("H\n\xef\xbf\xbd", true);
	assert_true(ink_right(&emo) > 102);
	assert_memory_not_equal(emo.bits, fffd.bits, (size_t)emo.height * emo.stride);
	pg_fax_page_free(&emo);
	pg_fax_page_free(&fffd);

	d = layout_opts("Alarm \xe2\x8f\xb0\nFire \xf0\x9f\x94\xa5 now \xf0\x9f\x9a\x92!", false);
	assert_int_equal(pg_fax_doc_missing(d), 0);
	assert_string_equal(shown(d, 0, &rtl, buf, sizeof buf), "Fire (fire) now (fire engine)!");
	pg_fax_doc_header(d, 1, buf, sizeof buf);
	assert_string_equal(buf, "Alarm (alarm clock)  Page 1 of 1");
	pg_fax_doc_free(d);

	assert_same_page("H\nA\xe2\x80\x8d" "B\xef\xb8\x8f" "C", "H\nABC");
	assert_same_page("H\n\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", "H\n\xf0\x9f\x91\x8d");
	d = layout_opts("H\nA \xcd\xb8 B", true);           /* U+0378: unassigned */
	assert_int_equal(pg_fax_doc_missing(d), 1);
	pg_fax_doc_free(d);
}

/* A right-to-left paragraph is set flush right, its lines in display
 * order: Hebrew reversed, numbers left to right, brackets mirrored,
 * Arabic letters joined (presentation forms); a left-to-right line
 * keeps its order with the Hebrew run inside reversed.  The text of
 * the layout stays as typed. */
static void
test_right_to_left(void **state)
{
	(void)state;
	char buf[256];
	bool rtl = false;
	const char *t;
	size_t len;
	int page;
	enum pg_fax_style st;
	struct pg_fax_doc *d = layout_opts("H\nשלום עולם\nCaller: משה כהן\nדירה 12 (דחוף)\n"
					   "سلام\n# כותרת", true);

	assert_int_equal(pg_fax_doc_missing(d), 0);
	assert_int_equal(pg_fax_doc_line(d, 0, &t, &len, &page, &st), PG_OK);
	assert_int_equal(len, strlen("שלום עולם"));
	assert_memory_equal(t, "שלום עולם", len);
	assert_string_equal(shown(d, 0, &rtl, buf, sizeof buf), "םלוע םולש");
	assert_true(rtl);
	assert_string_equal(shown(d, 1, &rtl, buf, sizeof buf), "Caller: ןהכ השמ");
	assert_false(rtl);
	assert_string_equal(shown(d, 2, &rtl, buf, sizeof buf), "(ףוחד) 12 הריד");
	assert_true(rtl);
	/* meem alone, lam-alef final, seen initial */
	assert_string_equal(shown(d, 3, &rtl, buf, sizeof buf), "\uFEE1\uFEFC\uFEB3");
	assert_true(rtl);
	assert_string_equal(shown(d, 4, &rtl, buf, sizeof buf), "תרתוכ");
	assert_true(rtl);
	assert_int_equal(pg_fax_doc_line_shown(d, 5, &t, &len, &rtl), PG_ERR_NOTFOUND);
	pg_fax_doc_free(d);

	struct pg_fax_page pg = page1("H\nשלום עולם", true);
	assert_in_range(ink_right(&pg), 1626 - 8, 1625);
	assert_true(ink_left(&pg) > 1626 - 400);
	pg_fax_page_free(&pg);
	/* drawn as displayed: the same page as the reversed text typed
	 * left to right would give, moved flush right */
	pg = page1("H\nCaller: משה כהן", true);
	assert_in_range(ink_left(&pg), 102, 110);
	pg_fax_page_free(&pg);
}

/* Decomposed text (as some keyboards type Vietnamese) is composed: the
 * same line text and the same page as the composed form. */
static void
test_nfc(void **state)
{
	(void)state;
	char buf[64];
	bool rtl;
	struct pg_fax_doc *d = layout_opts("H\nNguye\xcc\x82\xcc\x83n Thi\xcc\xa3", true);
	assert_string_equal(shown(d, 0, &rtl, buf, sizeof buf), "Nguyễn Thị");
	pg_fax_doc_free(d);
	assert_same_page("H\nNguye\xcc\x82\xcc\x83n Thi\xcc\xa3", "H\nNguyễn Thị");
}

/* ---- TIFF ---- */

static struct pg_fax_doc *
three_pages(enum pg_fax_res res)
{
	struct pg_buf b;
	pg_buf_init(&b, 1 << 16);
	assert_int_equal(pg_buf_printf(&b, "%s\n# Urgent message\n", HEADER), PG_OK);
	for (int i = 1; i <= 120; i++)
		assert_int_equal(pg_buf_printf(&b, "Line %03d of a message with some "
					       "words: Grüße aus Köln.\n", i), PG_OK);
	struct pg_fax_doc *d = layout(b.data, res);
	pg_buf_free(&b);
	assert_int_equal(pg_fax_doc_pages(d), 3);
	return d;
}

/* The tags of every page, as libtiff reads them. */
static void
test_tiff_tags(void **state)
{
	(void)state;
	static const uint16_t comp[] = { COMPRESSION_CCITTFAX3, COMPRESSION_CCITTFAX3,
					 COMPRESSION_CCITTFAX4 };
	for (int res = 0; res < 2; res++) {
		struct pg_fax_doc *d = three_pages((enum pg_fax_res)res);
		for (int c = 0; c < 3; c++) {
			char path[256], err[256] = "";
			tpath(path, sizeof path, "tags.tif");
			assert_int_equal(pg_fax_tiff_write(d, (enum pg_fax_coding)c, path,
							   err, sizeof err), PG_OK);
			TIFF *t = TIFFOpen(path, "r");
			assert_non_null(t);
			for (int p = 0; p < 3; p++) {
				uint32_t w, h, sub, rps, g3 = 99;
				uint16_t bps, spp, cp, ph, fo, unit, pn, pt, pc;
				float xr, yr;
				assert_int_equal(TIFFSetDirectory(t, (tdir_t)p), 1);
				assert_int_equal(TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w), 1);
				assert_int_equal(w, 1728);
				assert_int_equal(TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h), 1);
				assert_int_equal(h, res ? 1078 : 2156);
				assert_int_equal(TIFFGetField(t, TIFFTAG_SUBFILETYPE, &sub), 1);
				assert_int_equal(sub, FILETYPE_PAGE);
				assert_int_equal(TIFFGetField(t, TIFFTAG_BITSPERSAMPLE, &bps), 1);
				assert_int_equal(bps, 1);
				assert_int_equal(TIFFGetField(t, TIFFTAG_SAMPLESPERPIXEL, &spp), 1);
				assert_int_equal(spp, 1);
				assert_int_equal(TIFFGetField(t, TIFFTAG_COMPRESSION, &cp), 1);
				assert_int_equal(cp, comp[c]);
				if (c < 2) {
					assert_int_equal(TIFFGetField(t, TIFFTAG_GROUP3OPTIONS, &g3), 1);
					assert_int_equal(g3, c == 1 ? GROUP3OPT_2DENCODING : 0);
				}
				assert_int_equal(TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &ph), 1);
				assert_int_equal(ph, PHOTOMETRIC_MINISWHITE);
				assert_int_equal(TIFFGetField(t, TIFFTAG_FILLORDER, &fo), 1);
				assert_int_equal(fo, FILLORDER_LSB2MSB);
				assert_int_equal(TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr), 1);
				assert_true(xr == 204.0f);
				assert_int_equal(TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr), 1);
				assert_true(yr == (res ? 98.0f : 196.0f));
				assert_int_equal(TIFFGetField(t, TIFFTAG_RESOLUTIONUNIT, &unit), 1);
				assert_int_equal(unit, RESUNIT_INCH);
				assert_int_equal(TIFFGetField(t, TIFFTAG_PAGENUMBER, &pn, &pt), 1);
				assert_int_equal(pn, p);
				assert_int_equal(pt, 3);
				assert_int_equal(TIFFGetField(t, TIFFTAG_ROWSPERSTRIP, &rps), 1);
				assert_int_equal(rps, h);
				assert_int_equal(TIFFGetField(t, TIFFTAG_PLANARCONFIG, &pc), 1);
				assert_int_equal(pc, PLANARCONFIG_CONTIG);
			}
			assert_int_equal(TIFFReadDirectory(t), 0);   /* exactly 3 */
			TIFFClose(t);

			struct pg_fax_tiff_info in;
			assert_int_equal(pg_fax_tiff_check(path, &in, err, sizeof err), PG_OK);
			assert_int_equal(in.pages, 3);
			assert_int_equal(in.width, 1728);
			assert_int_equal(in.height, res ? 1078 : 2156);
			assert_int_equal(in.compression, comp[c]);
			assert_int_equal(in.two_d, c == 1);
			assert_true(in.xres == 204.0 && in.yres == (res ? 98.0 : 196.0));
			unlink(path);
		}
		pg_fax_doc_free(d);
	}
}

/* MH, MR and MMR all decode to exactly the rendered bitmaps. */
static void
test_tiff_codings_decode(void **state)
{
	(void)state;
	struct pg_fax_doc *d = three_pages(PG_FAX_FINE);
	struct pg_fax_page want[3], got;
	char path[256], err[256];

	for (int p = 0; p < 3; p++)
		assert_int_equal(pg_fax_doc_render(d, p + 1, &want[p]), PG_OK);
	for (int c = 0; c < 3; c++) {
		tpath(path, sizeof path, pg_fax_coding_name((enum pg_fax_coding)c));
		assert_int_equal(pg_fax_tiff_write(d, (enum pg_fax_coding)c, path, err,
						   sizeof err), PG_OK);
		for (int p = 0; p < 3; p++) {
			assert_int_equal(pg_fax_tiff_read(path, p + 1, &got, err, sizeof err), PG_OK);
			assert_int_equal(got.width, want[p].width);
			assert_int_equal(got.height, want[p].height);
			assert_memory_equal(got.bits, want[p].bits,
					    (size_t)got.height * got.stride);
			pg_fax_page_free(&got);
		}
		assert_int_equal(pg_fax_tiff_read(path, 4, &got, err, sizeof err),
				 PG_ERR_NOTFOUND);
		unlink(path);
	}
	for (int p = 0; p < 3; p++)
		pg_fax_page_free(&want[p]);
	pg_fax_doc_free(d);
}

/* Writes a one-page G3 TIFF of the given width and y resolution. */
static void
write_odd_tiff(const char *path, uint32_t width, float yres)
{
	TIFF *t = TIFFOpen(path, "w");
	unsigned char row[512] = { 0 };
	assert_non_null(t);
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, width);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, 10);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3);
	TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0f);
	TIFFSetField(t, TIFFTAG_YRESOLUTION, yres);
	TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 10);
	for (uint32_t y = 0; y < 10; y++)
		assert_true(TIFFWriteScanline(t, row, y, 0) >= 0);
	TIFFClose(t);
}

/* The check before dialling refuses what spandsp could not send. */
static void
test_tiff_check_refuses(void **state)
{
	(void)state;
	char path[256], err[256];
	struct pg_fax_tiff_info in;
	FILE *f;

	tpath(path, sizeof path, "missing.tif");
	assert_int_equal(pg_fax_tiff_check(path, &in, err, sizeof err), PG_ERR_IO);

	tpath(path, sizeof path, "text.tif");
	assert_non_null(f = fopen(path, "w"));
	fputs("this is not a TIFF\n", f);
	fclose(f);
	assert_int_equal(pg_fax_tiff_check(path, &in, err, sizeof err), PG_ERR_INVAL);
	assert_non_null(strstr(err, "not a TIFF"));

	tpath(path, sizeof path, "narrow.tif");
	write_odd_tiff(path, 1700, 196.0f);
	assert_int_equal(pg_fax_tiff_check(path, &in, err, sizeof err), PG_ERR_INVAL);
	assert_string_equal(err, "page 1 is 1700 pixels wide, not 1728");

	tpath(path, sizeof path, "res.tif");
	write_odd_tiff(path, 1728, 300.0f);
	assert_int_equal(pg_fax_tiff_check(path, &in, err, sizeof err), PG_ERR_INVAL);
	assert_string_equal(err, "page 1 has no fax resolution (204 x 300 dpi)");

	/* a good file cut short: the strip does not decode */
	struct pg_fax_doc *d = layout("H\nSome text to make the strip long enough.", PG_FAX_FINE);
	tpath(path, sizeof path, "cut.tif");
	assert_int_equal(pg_fax_tiff_write(d, PG_FAX_MH, path, err, sizeof err), PG_OK);
	pg_fax_doc_free(d);
	assert_int_equal(pg_fax_tiff_check(path, &in, err, sizeof err), PG_OK);
	FILE *g = fopen(path, "r+b");
	assert_non_null(g);
	/* libtiff writes the directory after the image data: zero the data */
	unsigned char zeros[512] = { 0 };
	assert_int_equal(fseek(g, 8 + 200, SEEK_SET), 0);
	assert_int_equal(fwrite(zeros, 1, sizeof zeros, g), sizeof zeros);
	fclose(g);
	assert_int_equal(pg_fax_tiff_check(path, &in, err, sizeof err), PG_ERR_INVAL);
	assert_non_null(strstr(err, "does not decode"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrap_words),
		cmocka_unit_test(test_wrap_long_word_utf8),
		cmocka_unit_test(test_paginate),
		cmocka_unit_test(test_header_on_every_page),
		cmocka_unit_test(test_standard_is_folded_fine),
		cmocka_unit_test(test_styles_and_cleanup),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_cjk_fallback_and_wrap),
		cmocka_unit_test(test_fontdb_shared),
		cmocka_unit_test(test_emoji_and_names),
		cmocka_unit_test(test_right_to_left),
		cmocka_unit_test(test_nfc),
		cmocka_unit_test(test_tiff_tags),
		cmocka_unit_test(test_tiff_codings_decode),
		cmocka_unit_test(test_tiff_check_refuses),
	};
	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
