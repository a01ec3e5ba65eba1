/*
 * test_visible.c - names and text that show what they hold (visible.h):
 * bidi controls and invisible characters refused in names, with the
 * code point and where; what scripts need kept (Persian ZWNJ between
 * joining letters, ZWJ after a Devanagari virama, Japanese variation
 * selectors; in text the marks, joiners and zero-width space); only the
 * reordering controls refused in text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pagegate/visible.h"

/* s must be refused as kind with code point cp after `at` characters. */
static void
bad(const char *s, enum pg_visible_kind kind, uint32_t cp, size_t at)
{
	size_t n = 9999;

	if (pg_visible_bad(s, kind, &n) != cp || n != at)
		print_error("\"%s\": U+%04X after %zu, expected U+%04X after %zu\n", s,
			    (unsigned)pg_visible_bad(s, kind, &n), n, (unsigned)cp, at);
	assert_int_equal(pg_visible_bad(s, kind, &n), cp);
	assert_int_equal(n, at);
}

static void
good(const char *s, enum pg_visible_kind kind)
{
	uint32_t cp = pg_visible_bad(s, kind, NULL);

	if (cp)
		print_error("\"%s\": refused U+%04X\n", s, (unsigned)cp);
	assert_int_equal(cp, 0);
}

static void
test_names_plain(void **st)
{
	(void)st;
	good("", PG_VIS_NAME);
	good("Maria Lopez", PG_VIS_NAME);
	good("Dr. Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m", PG_VIS_NAME);
	good("\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e", PG_VIS_NAME);  /* 山田 太郎 */
	good("\xd7\x99\xd7\xa2\xd7\x9c", PG_VIS_NAME);                           /* Hebrew */
	good("\xd8\xb9\xd9\x84\xd9\x8a", PG_VIS_NAME);                           /* Arabic */
	good("+1 (555) 010-0199", PG_VIS_NAME);
}

static void
test_names_bidi(void **st)
{
	(void)st;
	/* "Bob" + RIGHT-TO-LEFT OVERRIDE + "ecila": shows as "Bobalice" */
	bad("Bob\xe2\x80\xae" "ecila", PG_VIS_NAME, 0x202e, 3);
	bad("\xe2\x80\xaa" "A", PG_VIS_NAME, 0x202a, 0);              /* LRE */
	bad("A\xe2\x80\xac", PG_VIS_NAME, 0x202c, 1);                 /* PDF */
	bad("Jo\xe2\x81\xa6hn\xe2\x81\xa9", PG_VIS_NAME, 0x2066, 2);   /* LRI..PDI */
	bad("x\xe2\x81\xa8y", PG_VIS_NAME, 0x2068, 1);                /* FSI */
	bad("A\xe2\x80\x8e" "B", PG_VIS_NAME, 0x200e, 1);             /* LRM */
	bad("A\xe2\x80\x8f" "B", PG_VIS_NAME, 0x200f, 1);             /* RLM */
	bad("\xd8\xb9\xd8\x9c", PG_VIS_NAME, 0x061c, 1);              /* ALM */
	/* in a phone number: "555" RLO "0100" */
	bad("555\xe2\x80\xae" "0100", PG_VIS_NAME, 0x202e, 3);
}

static void
test_names_invisible(void **st)
{
	(void)st;
	bad("Jane\xe2\x80\x8b", PG_VIS_NAME, 0x200b, 4);              /* ZWSP */
	bad("\xef\xbb\xbf" "Jane", PG_VIS_NAME, 0xfeff, 0);           /* BOM */
	bad("Ja\xe2\x81\xa0ne", PG_VIS_NAME, 0x2060, 2);              /* WJ */
	bad("Ja\xc2\xadne", PG_VIS_NAME, 0x00ad, 2);                  /* SHY */
	bad("\xe3\x85\xa4", PG_VIS_NAME, 0x3164, 0);                  /* Hangul filler */
	bad("A\xf3\xa0\x81\x81", PG_VIS_NAME, 0xe0041, 1);            /* TAG A */
	bad("A\xcd\x8f" "B", PG_VIS_NAME, 0x034f, 1);                 /* CGJ */
	/* joiners between Latin letters, at the start, at the end */
	bad("Ja\xe2\x80\x8dne", PG_VIS_NAME, 0x200d, 2);
	bad("Ja\xe2\x80\x8cne", PG_VIS_NAME, 0x200c, 2);
	bad("\xe2\x80\x8c", PG_VIS_NAME, 0x200c, 0);
	bad("\xd8\xb9\xd9\x84\xdb\x8c\xe2\x80\x8c", PG_VIS_NAME, 0x200c, 3);
}

static void
test_names_scripts_keep(void **st)
{
	(void)st;
	/* Persian "Ali-Akbar": YEH (dual joining) ZWNJ ALEF (right joining) */
	good("\xd8\xb9\xd9\x84\xdb\x8c\xe2\x80\x8c\xd8\xa7\xda\xa9\xd8\xa8\xd8\xb1",
	     PG_VIS_NAME);
	/* ... with a transparent mark (FATHA) between the letter and ZWNJ */
	good("\xd8\xb9\xd9\x84\xdb\x8c\xd9\x8e\xe2\x80\x8c\xd8\xa7", PG_VIS_NAME);
	/* but not after DAL (right joining only): no join to break */
	bad("\xd8\xaf\xe2\x80\x8c\xd8\xa7", PG_VIS_NAME, 0x200c, 1);
	/* Devanagari KA VIRAMA ZWJ SSA (half form), KA VIRAMA ZWNJ SSA */
	good("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7", PG_VIS_NAME);
	good("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\xb7", PG_VIS_NAME);
	/* Japanese kanji with an ideographic variation selector (VS17) */
	good("\xe8\x91\x9b\xf3\xa0\x84\x80\xe5\x9f\x8e", PG_VIS_NAME);
	good("\xe2\x9d\xa4\xef\xb8\x8f", PG_VIS_NAME);                /* heart VS16 */
}

static void
test_text(void **st)
{
	(void)st;
	/* marks, joiners and invisibles that writing needs stay */
	good("\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7\xe2\x80\x8f 123", PG_VIS_TEXT);
	good("A\xe2\x80\x8e" "B\xd8\x9c", PG_VIS_TEXT);
	good("\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85", PG_VIS_TEXT);
	good("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x94\xa7 fixed it", PG_VIS_TEXT);  /* ZWJ emoji */
	good("\xe0\xb8\x81\xe2\x80\x8b\xe0\xb8\x82", PG_VIS_TEXT);    /* Thai ZWSP */
	good("line 1\nline 2\t\xef\xbb\xbf", PG_VIS_TEXT);
	/* what reorders everything after it does not */
	bad("Call back \xe2\x80\xae" "0010-555", PG_VIS_TEXT, 0x202e, 10);
	bad("x\xe2\x80\xab" "y", PG_VIS_TEXT, 0x202b, 1);             /* RLE */
	bad("a\nb\xe2\x81\xa7" "c\xe2\x81\xa9", PG_VIS_TEXT, 0x2067, 3);  /* RLI */
	bad("\xe2\x81\xa9", PG_VIS_TEXT, 0x2069, 0);                  /* PDI */
	/* a malformed byte is skipped (UTF-8 is checked before) */
	good("a\xff" "b", PG_VIS_TEXT);
	bad("a\xff\xe2\x80\xae", PG_VIS_TEXT, 0x202e, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_plain),
		cmocka_unit_test(test_names_bidi),
		cmocka_unit_test(test_names_invisible),
		cmocka_unit_test(test_names_scripts_keep),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
