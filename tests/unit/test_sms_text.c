/*
 * test_sms_text.c - GSM-7 / UCS-2 choice, segment counts at the 160/153
 * and 70/67 boundaries, extension characters, emoji, normalisation, the
 * truncation rule (cut at a word), the ellipsis as "..." in GSM-7, the
 * UTF-16 Kannel gets (no surrogate pair across a segment), the GSM-7-only
 * form (ascii) and the default sms.txt's layout: the operator's text
 * first, what can be dropped after it (sms_text.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/template.h"
#include "pagegate/translit.h"
#include "../../src/chan/sms/sms_priv.h"

/* s repeated n times. */
static char *
rep(const char *s, size_t n)
{
	size_t l = strlen(s);
	char *o = malloc(l * n + 1);

	assert_non_null(o);
	for (size_t i = 0; i < n; i++)
		memcpy(o + i * l, s, l);
	o[l * n] = '\0';
	return o;
}

static char *
cat(const char *a, const char *b)
{
	char *o = malloc(strlen(a) + strlen(b) + 1);

	assert_non_null(o);
	strcpy(o, a);
	strcat(o, b);
	return o;
}

struct want {
	enum sms_coding coding;
	unsigned segments;
	size_t units, chars;
	bool truncated;
};

static void
check(const char *in, unsigned max, struct want w, const char *text)
{
	struct sms_text t;

	assert_int_equal(sms_text_prepare(in, max, &t), PG_OK);
	assert_int_equal(t.coding, w.coding);
	assert_int_equal(t.segments, w.segments);
	assert_int_equal(t.units, w.units);
	assert_int_equal(t.chars, w.chars);
	assert_int_equal(t.truncated, w.truncated);
	if (text)
		assert_string_equal(t.utf8.data, text);
	sms_text_free(&t);
}

#define CYR "\xd0\x96"          /* Ж, one UTF-16 unit, not GSM */
#define FIRE "\xf0\x9f\x94\xa5"  /* U+1F525, two UTF-16 units */
#define EURO "\xe2\x82\xac"      /* extension table */
#define ELLIPSIS "\xe2\x80\xa6"  /* …: not GSM-7 */
#define GREEK128 "Δεν υπάρχει θέρμανση στο διαμέρισμα 4Β από χθες το βράδυ. " \
	"Η ηλικιωμένη ένοικος είναι μόνη στο σπίτι. Παρακαλώ, καλέστε την τώρα."
#define GREEK_MORE " Ο γιος της λέει ότι η πόρτα της πολυκατοικίας είναι " \
	"κλειδωμένη μετά τις 10 το βράδυ· ο κωδικός είναι 4412. Ο θυρωρός δεν " \
	"απαντά στο τηλέφωνο. Αν δεν μπορείτε να έρθετε απόψε, ενημερώστε το γραφείο."

/* Code points of UTF-8 s. */
static size_t
cps_of(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void
test_gsm7_costs(void **st)
{
	(void)st;
	assert_int_equal(sms_gsm7_cost('A'), 1);
	assert_int_equal(sms_gsm7_cost('@'), 1);
	assert_int_equal(sms_gsm7_cost('$'), 1);
	assert_int_equal(sms_gsm7_cost('_'), 1);
	assert_int_equal(sms_gsm7_cost('\n'), 1);
	assert_int_equal(sms_gsm7_cost(0x00E9), 1);   /* é */
	assert_int_equal(sms_gsm7_cost(0x0394), 1);   /* Δ */
	assert_int_equal(sms_gsm7_cost(0x00DF), 1);   /* ß */
	for (const char *p = "^{}\\[~]|"; *p; p++)
		assert_int_equal(sms_gsm7_cost((unsigned char)*p), 2);
	assert_int_equal(sms_gsm7_cost(0x20AC), 2);   /* € */
	assert_int_equal(sms_gsm7_cost('`'), 0);
	assert_int_equal(sms_gsm7_cost(0x00E1), 0);   /* á is not in GSM-7 */
	assert_int_equal(sms_gsm7_cost(0x0416), 0);   /* Ж */
	assert_int_equal(sms_gsm7_cost(0x1F525), 0);
	assert_int_equal(sms_gsm7_cost(0x2026), 0);   /* … */
}

static void
test_gsm7_boundaries(void **st)
{
	char *s;

	(void)st;
	s = rep("a", 160);
	check(s, 10, (struct want){ SMS_GSM7, 1, 160, 160, false }, s);
	free(s);
	s = rep("a", 161);
	check(s, 10, (struct want){ SMS_GSM7, 2, 161, 161, false }, s);
	free(s);
	s = rep("a", 153 * 2);
	check(s, 10, (struct want){ SMS_GSM7, 2, 306, 306, false }, s);
	free(s);
	s = rep("a", 153 * 2 + 1);
	check(s, 10, (struct want){ SMS_GSM7, 3, 307, 307, false }, s);
	free(s);
	s = rep("a", 153 * 10);
	check(s, 10, (struct want){ SMS_GSM7, 10, 1530, 1530, false }, s);
	free(s);
}

static void
test_ucs2_boundaries(void **st)
{
	char *s;

	(void)st;
	s = rep(CYR, 70);
	check(s, 10, (struct want){ SMS_UCS2, 1, 70, 70, false }, s);
	free(s);
	s = rep(CYR, 71);
	check(s, 10, (struct want){ SMS_UCS2, 2, 71, 71, false }, s);
	free(s);
	s = rep(CYR, 67 * 2);
	check(s, 10, (struct want){ SMS_UCS2, 2, 134, 134, false }, s);
	free(s);
	s = rep(CYR, 67 * 2 + 1);
	check(s, 10, (struct want){ SMS_UCS2, 3, 135, 135, false }, s);
	free(s);
	/* one non-GSM character makes the whole text UCS-2: 69 + 1 = 70 */
	char *a = rep("a", 69);
	s = cat(a, CYR);
	check(s, 10, (struct want){ SMS_UCS2, 1, 70, 70, false }, s);
	free(s);
	free(a);
}

static void
test_extension_chars(void **st)
{
	char *s, *a, *b;

	(void)st;
	/* 80 euro signs = 160 septets: one SMS; 81 = 162: two */
	s = rep(EURO, 80);
	check(s, 10, (struct want){ SMS_GSM7, 1, 160, 80, false }, s);
	free(s);
	s = rep(EURO, 81);
	check(s, 10, (struct want){ SMS_GSM7, 2, 162, 81, false }, s);
	free(s);
	/* 159 + "[" = 161 septets: two segments although 160 characters */
	a = rep("a", 159);
	s = cat(a, "[");
	check(s, 10, (struct want){ SMS_GSM7, 2, 161, 160, false }, s);
	free(s);
	free(a);
	/* the escape pair never straddles segments: 152 + [ + 152 = 306
	 * septets would fit 2 x 153, but "[" moves to segment 2, so 3 */
	a = rep("a", 152);
	b = cat(a, "[");
	s = cat(b, a);
	check(s, 10, (struct want){ SMS_GSM7, 3, 306, 305, false }, s);
	free(s);
	free(b);
	free(a);
	{
		unsigned char c[] = { 1, 1, 2 };
		assert_int_equal(sms_segments(c, 3, 4, 3), 1);   /* total 4 fits */
		assert_int_equal(sms_segments(c, 3, 3, 3), 2);   /* 1 1 | 2 */
	}
}

static void
test_emoji(void **st)
{
	char *s;

	(void)st;
	/* 35 emoji = 70 units: one SMS; 36 = 72: two (33 per segment) */
	s = rep(FIRE, 35);
	check(s, 10, (struct want){ SMS_UCS2, 1, 70, 35, false }, s);
	free(s);
	s = rep(FIRE, 36);
	check(s, 10, (struct want){ SMS_UCS2, 2, 72, 36, false }, s);
	free(s);
	/* 33 emoji fill 66 of 67 units; the 34th goes to the next segment:
	 * 67 emoji need 3 segments (33 + 33 + 1) though 134 units = 2 x 67 */
	s = rep(FIRE, 67);
	check(s, 10, (struct want){ SMS_UCS2, 3, 134, 67, false }, s);
	free(s);
}

static void
test_truncation(void **st)
{
	char *s, *want, *a;

	(void)st;
	/* GSM-7, 3 segments = 459 septets: 456 characters + "..." */
	s = rep("a", 1000);
	a = rep("a", 456);
	want = cat(a, "...");
	check(s, 3, (struct want){ SMS_GSM7, 3, 459, 459, true }, want);
	free(want);
	free(a);
	/* one segment: 157 + "..." */
	a = rep("a", 157);
	want = cat(a, "...");
	check(s, 1, (struct want){ SMS_GSM7, 1, 160, 160, true }, want);
	free(want);
	free(a);
	free(s);

	/* UCS-2, 2 segments = 134 units: 133 characters + "…" */
	s = rep(CYR, 500);
	a = rep(CYR, 133);
	want = cat(a, "\xe2\x80\xa6");
	check(s, 2, (struct want){ SMS_UCS2, 2, 134, 134, true }, want);
	free(want);
	free(a);
	free(s);

	/* never inside a surrogate pair: 34 emoji (68) + "…" = 69 of 70 */
	s = rep(FIRE, 100);
	a = rep(FIRE, 34);
	want = cat(a, "\xe2\x80\xa6");
	check(s, 1, (struct want){ SMS_UCS2, 1, 69, 35, true }, want);
	free(want);
	free(a);
	free(s);

	/* an extension character just before the cut: 155 + € = 157 + 3 */
	a = rep("a", 155);
	char *e = rep(EURO, 10);
	s = cat(a, e);
	char *b = cat(a, EURO);
	want = cat(b, "...");
	check(s, 1, (struct want){ SMS_GSM7, 1, 160, 159, true }, want);
	free(want);
	free(b);
	free(s);
	free(e);
	free(a);

	/* spaces before the cut are dropped: the 157th character is a space,
	 * so 156 are kept, then "..." */
	s = cat("ab", "word word word word word word word word word word word word "
		"word word word word word word word word word word word word word word "
		"word word word word word word word word word word word word word word ");
	{
		struct sms_text t;
		assert_int_equal(sms_text_prepare(s, 1, &t), PG_OK);
		assert_int_equal(t.coding, SMS_GSM7);
		assert_int_equal(t.segments, 1);
		assert_int_equal(t.units, 159);
		assert_true(t.truncated);
		assert_int_equal(strlen(t.utf8.data), 159);
		assert_string_equal(t.utf8.data + 148, "ord word...");
		sms_text_free(&t);
	}
	free(s);
}

static void
test_late_non_gsm(void **st)
{
	char *a, *s, *w;

	(void)st;
	/* the emoji lies beyond the GSM-7 cut: the text stays GSM-7 */
	a = rep("a", 1000);
	s = cat(a, FIRE);
	free(a);
	a = rep("a", 456);
	w = cat(a, "...");
	check(s, 3, (struct want){ SMS_GSM7, 3, 459, 459, true }, w);
	free(w);
	free(a);
	free(s);
	/* an early emoji makes it UCS-2: 1 + 199 units, cut to 3 x 67 */
	a = rep("a", 1000);
	s = cat(FIRE, a);
	{
		struct sms_text t;
		assert_int_equal(sms_text_prepare(s, 3, &t), PG_OK);
		assert_int_equal(t.coding, SMS_UCS2);
		assert_int_equal(t.segments, 3);
		assert_int_equal(t.units, 201);    /* 2 + 198 a + 1 marker */
		assert_true(t.truncated);
		sms_text_free(&t);
	}
	free(s);
	free(a);
}

static void
test_normalise(void **st)
{
	(void)st;
	check("  a\r\n\tb   c  \n\n\n d \r", 10,
	      (struct want){ SMS_GSM7, 1, 7, 7, false }, "a\nb c\nd");
	check("x\ry", 10, (struct want){ SMS_GSM7, 1, 3, 3, false }, "x\ny");
	/* invalid UTF-8 becomes U+FFFD, which is UCS-2 */
	check("ok \xff", 10, (struct want){ SMS_UCS2, 1, 4, 4, false }, "ok \xef\xbf\xbd");
	/* a backtick is not GSM-7 */
	check("a`b", 10, (struct want){ SMS_UCS2, 1, 3, 3, false }, "a`b");
	{
		struct sms_text t;
		assert_int_equal(sms_text_prepare(" \n\t ", 3, &t), PG_ERR_INVAL);
		assert_int_equal(sms_text_prepare("", 3, &t), PG_ERR_INVAL);
	}
	/* max_segments out of range is clamped to 1..10 */
	check("hi", 0, (struct want){ SMS_GSM7, 1, 2, 2, false }, "hi");
}

static void
test_utf16(void **st)
{
	struct pg_buf b;

	(void)st;
	pg_buf_init(&b, 1024);
	assert_int_equal(sms_utf16be("A" CYR FIRE, 7, &b), PG_OK);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "\x00\x41\x04\x16\xd8\x3d\xdd\x25", 8);
	pg_buf_reset(&b);
	assert_int_equal(sms_utf16be_to_utf8((const unsigned char *)
		"\x00\x41\x04\x16\xd8\x3d\xdd\x25", 8, &b), PG_OK);
	assert_string_equal(b.data, "A" CYR FIRE);
	pg_buf_reset(&b);
	/* a lone high surrogate and an odd byte become U+FFFD */
	assert_int_equal(sms_utf16be_to_utf8((const unsigned char *)"\xd8\x3d\x00\x41\x00",
					     5, &b), PG_OK);
	assert_string_equal(b.data, "\xef\xbf\xbd" "A" "\xef\xbf\xbd");
	pg_buf_free(&b);
}


static void
test_word_cut(void **st)
{
	char *a, *s, *w;

	(void)st;
	/* the cut (157 characters + "...") falls inside the phone number:
	 * it moves back to the space before it, never "+3021055..." */
	a = rep("x", 150);
	s = cat(a, " +302105550142 tail tail tail");
	w = cat(a, "...");
	check(s, 1, (struct want){ SMS_GSM7, 1, 153, 153, true }, w);
	free(w);
	free(s);
	/* a cut right at the end of a word stays where it is */
	s = cat(a, " abcdef ghijklmnopqrstuvwxyz");      /* 150 + 7 = 157 */
	w = cat(a, " abcdef...");
	check(s, 1, (struct want){ SMS_GSM7, 1, 160, 160, true }, w);
	free(w);
	free(s);
	free(a);
	/* UCS-2: Greek cut after a whole word, then "…" */
	s = cat(GREEK128, GREEK_MORE);
	{
		struct sms_text t;
		size_t k;
		assert_int_equal(sms_text_prepare(s, 1, &t), PG_OK);
		assert_int_equal(t.coding, SMS_UCS2);
		assert_true(t.truncated);
		assert_true(t.units <= 70 && t.units >= 70 - 20);
		k = strlen(t.utf8.data) - strlen(ELLIPSIS);
		assert_string_equal(t.utf8.data + k, ELLIPSIS);
		assert_memory_equal(t.utf8.data, s, k);
		assert_true(s[k] == ' ');              /* the next character was a space */
		sms_text_free(&t);
	}
	free(s);
	/* no space to go back to (Chinese): cut at a character */
	s = rep("暖气", 100);
	w = cat(a = rep("暖气", 34), "暖" ELLIPSIS);
	check(s, 1, (struct want){ SMS_UCS2, 1, 70, 70, true }, w);
	free(w);
	free(a);
	free(s);
}

static void
test_ellipsis(void **st)
{
	char *a, *s, *w;

	(void)st;
	/* a summary's "…" goes as "..." so that the text stays GSM-7 */
	check("Please call back" ELLIPSIS, 3,
	      (struct want){ SMS_GSM7, 1, 19, 19, false }, "Please call back...");
	a = rep("a", 80);
	s = cat(a, ELLIPSIS);
	w = cat(a, "...");
	check(s, 3, (struct want){ SMS_GSM7, 1, 83, 83, false }, w);
	free(w);
	free(s);
	free(a);
	/* with anything else outside GSM-7 it stays one UCS-2 unit */
	check("Ωμέγα" ELLIPSIS, 3, (struct want){ SMS_UCS2, 1, 6, 6, false }, "Ωμέγα" ELLIPSIS);
	check("call" ELLIPSIS " " FIRE, 3,
	      (struct want){ SMS_UCS2, 1, 8, 7, false }, "call" ELLIPSIS " " FIRE);
	/* cut in GSM-7: "..." + 453 a + "..." in 3 x 153 */
	a = rep("a", 1000);
	s = cat(ELLIPSIS, a);
	free(a);
	a = rep("a", 453);
	w = cat("...", a);
	free(a);
	a = cat(w, "...");
	check(s, 3, (struct want){ SMS_GSM7, 3, 459, 459, true }, a);
	free(a);
	free(w);
	free(s);
}

/* Kannel cuts a long UCS-2 text every 67 units: a U+200B fills the unit a
 * surrogate pair would straddle, only when the text needs several SMS. */
static void
test_utf16_segments(void **st)
{
	char *a = rep(CYR, 66), *b = cat(a, FIRE), *c = rep(CYR, 10), *s = cat(b, c);
	struct pg_buf o;
	struct sms_text t;

	(void)st;
	pg_buf_init(&o, 4096);
	assert_int_equal(sms_utf16be_segments(s, strlen(s), true, &o), PG_OK);
	assert_int_equal(o.len, (66 + 1 + 2 + 10) * 2);
	assert_memory_equal(o.data + 130, "\x04\x16\x20\x0b\xd8\x3d\xdd\x25", 8);
	pg_buf_reset(&o);
	assert_int_equal(sms_utf16be_segments(s, strlen(s), false, &o), PG_OK);
	assert_int_equal(o.len, (66 + 2 + 10) * 2);
	/* the segments counted are the ones Kannel makes with the filler */
	assert_int_equal(sms_text_prepare(s, 3, &t), PG_OK);
	assert_int_equal(t.segments, 2);
	sms_text_free(&t);
	free(s);
	free(c);
	free(b);
	free(a);
	/* a pair that fits ends its segment exactly: no filler */
	a = rep(CYR, 65);
	b = cat(a, FIRE);
	s = cat(b, CYR CYR CYR CYR CYR);
	pg_buf_reset(&o);
	assert_int_equal(sms_utf16be_segments(s, strlen(s), true, &o), PG_OK);
	assert_int_equal(o.len, (65 + 2 + 5) * 2);
	pg_buf_free(&o);
	free(s);
	free(b);
	free(a);
}

static struct pg_translit *TR;

/* sms_text_gsm of in is want, and all of it GSM-7. */
static void
gsm_is(const char *in, const char *want)
{
	struct pg_buf b;
	struct sms_text t;

	pg_buf_init(&b, 64 * 1024);
	assert_int_equal(sms_text_gsm(TR, in, &b), PG_OK);
	assert_string_equal(b.data, want);
	if (*want) {
		assert_int_equal(sms_text_prepare(b.data, 10, &t), PG_OK);
		assert_int_equal(t.coding, SMS_GSM7);
		sms_text_free(&t);
	}
	pg_buf_free(&b);
}

static void
test_gsm_only(void **st)
{
	(void)st;
	assert_int_equal(pg_translit_new(&TR), PG_OK);
	gsm_is("Δεν υπάρχει θέρμανση", "Den yparchei thermanse");
	gsm_is("ΔΕΝ ΥΠΑΡΧΕΙ", "DEN YPARCHEI");         /* no "ΔEN": capitals too */
	gsm_is("Bà Nguyễn Thị Hương gọi", "Bà Nguyen Thi Huong goi");
	gsm_is("Šildymas neveikia, skambinkite", "Sildymas neveikia, skambinkite");
	gsm_is("4B公寓没有暖气。Call 5", "4B gong yu mei you nuan qi. Call 5");
	gsm_is("暖气4B", "nuan qi 4B");
	gsm_is("没有暖气。请回电，谢谢！", "mei you nuan qi. qing hui dian, xie xie!");
	gsm_is("没有暖气。\n请回电。 OK", "mei you nuan qi.\nqing hui dian. OK");
	gsm_is("Café fermé " FIRE " 5" EURO " {ok}", "Café fermé (fire) 5" EURO " {ok}");
	gsm_is("a`b “quoted” " ELLIPSIS, "a'b \"quoted\" ...");
	gsm_is("plain text\nline two", "plain text\nline two");
	gsm_is("", "");
	pg_translit_free(TR);
	TR = NULL;
}

/* The repository's top: $PAGEGATE_TOP (tests/run.sh), else relative to
 * this file as the compiler was given it. */
static char *
read_template(const char *name)
{
	const char *top = getenv("PAGEGATE_TOP");
	char path[1024];
	static char buf[4096];
	FILE *f;
	size_t n;

	if (top && *top)
		snprintf(path, sizeof path, "%s/templates/%s", top, name);
	else
		snprintf(path, sizeof path, "%.*s/../../templates/%s",
			 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__, name);
	assert_non_null(f = fopen(path, "rb"));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The default sms.txt rendered for text from caller, then prepared for
 * 3 segments. */
static void
sms_of(const char *text, const char *caller, const char *phone, struct sms_text *t)
{
	const char *tpl = read_template("sms.txt");
	struct pg_tvars tv;
	struct pg_buf b;
	char err[200];
	int line;

	assert_int_equal(pg_template_check(tpl, NULL, &line, err, sizeof err), PG_OK);
	pg_tvars_init(&tv);
	assert_int_equal(pg_tvars_set(&tv, "text", text), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "caller.name", caller), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "caller.phone", phone), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "client.name", "Test Clinic"), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "message.ack_ref", "482913"), PG_OK);
	pg_buf_init(&b, 64 * 1024);
	assert_int_equal(pg_template_render(tpl, &tv, PG_ESC_NONE, &b), PG_OK);
	assert_int_equal(sms_text_prepare(b.data, 3, t), PG_OK);
	pg_buf_free(&b);
	pg_tvars_free(&tv);
}

static void
test_default_layout(void **st)
{
	struct sms_text t;
	char *s;

	(void)st;
	/* the text, then who called, then how to acknowledge: no link */
	sms_of("Furnace out at 12 Elm St; kids home.", "Ann Lee", "555-0142", &t);
	assert_string_equal(t.utf8.data, "Furnace out at 12 Elm St; kids home.\n"
			    "Ann Lee 555-0142 (Test Clinic)\n"
			    "Reply 1 or ACK 482913 to acknowledge");
	assert_int_equal(t.coding, SMS_GSM7);
	assert_int_equal(t.segments, 1);
	sms_text_free(&t);

	/* a 128-character Greek message arrives whole in 3 UCS-2 segments;
	 * what is cut is the end of the acknowledgement line, visibly */
	assert_int_equal(cps_of(GREEK128), 128);
	sms_of(GREEK128, "Μαρία Παπαδοπούλου", "+30 210 555 0142", &t);
	assert_int_equal(t.coding, SMS_UCS2);
	assert_int_equal(t.segments, 3);
	assert_true(strncmp(t.utf8.data, GREEK128 "\n", strlen(GREEK128) + 1) == 0);
	assert_string_equal(t.utf8.data + strlen(GREEK128),
			    "\nΜαρία Παπαδοπούλου +30 210 555 0142 (Test Clinic)\n"
			    "Reply 1 or ACK 482913" ELLIPSIS);
	sms_text_free(&t);

	/* longer than 3 segments hold: the text itself is cut at a word,
	 * with "…"; the caller's line goes first */
	s = cat(GREEK128, GREEK_MORE);
	sms_of(s, "Μαρία Παπαδοπούλου", "+30 210 555 0142", &t);
	assert_int_equal(t.coding, SMS_UCS2);
	assert_int_equal(t.segments, 3);
	assert_true(t.truncated);
	{
		size_t k = strlen(t.utf8.data) - strlen(ELLIPSIS);
		assert_string_equal(t.utf8.data + k, ELLIPSIS);
		assert_memory_equal(t.utf8.data, s, k);
		assert_true(cps_of(t.utf8.data) >= 201 - 20);
	}
	sms_text_free(&t);
	free(s);

	/* a summary ("…" at its end) stays GSM-7: one SMS, not three */
	sms_of("No heat in apartment 4B since last night. The elderly tenant is alone. "
	       "Please" ELLIPSIS, "Ann Lee", "+1 555 555 0142", &t);
	assert_int_equal(t.coding, SMS_GSM7);
	assert_int_equal(t.segments, 1);
	assert_false(t.truncated);
	assert_non_null(strstr(t.utf8.data, "Please...\nAnn Lee"));
	sms_text_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gsm7_costs),
		cmocka_unit_test(test_gsm7_boundaries),
		cmocka_unit_test(test_ucs2_boundaries),
		cmocka_unit_test(test_extension_chars),
		cmocka_unit_test(test_emoji),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_late_non_gsm),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_utf16),
		cmocka_unit_test(test_word_cut),
		cmocka_unit_test(test_ellipsis),
		cmocka_unit_test(test_utf16_segments),
		cmocka_unit_test(test_gsm_only),
		cmocka_unit_test(test_default_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
