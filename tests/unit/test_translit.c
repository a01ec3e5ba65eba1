/*
 * test_translit.c - readable ASCII from every script a client may use
 * (translit.h): Greek, Vietnamese, Lithuanian, Chinese (pinyin), Cyrillic,
 * typographic punctuation; what ICU leaves outside ASCII spelled by name;
 * line breaks kept; never a '?'.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "pagegate/translit.h"

static struct pg_translit *T;

static int
setup(void **state)
{
	(void)state;
	return pg_translit_new(&T) == PG_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	pg_translit_free(T);
	return 0;
}

/* Expects in to read as want. */
static void
expect(const char *in, const char *want)
{
	struct pg_buf b;

	pg_buf_init(&b, 4096);
	assert_int_equal(pg_translit_ascii(T, in, &b), PG_OK);
	assert_string_equal(b.data ? b.data : "", want);
	for (size_t i = 0; i < b.len; i++)
		assert_true((unsigned char)b.data[i] < 0x80);
	pg_buf_free(&b);
}

static void
test_scripts(void **state)
{
	(void)state;
	expect("Δεν υπάρχει θέρμανση στο διαμέρισμα", "Den yparchei thermanse sto diamerisma");
	expect("Bà Nguyễn Thị Hương gọi", "Ba Nguyen Thi Huong goi");
	expect("Šildymas neveikia, skambinkite Žygimantui", "Sildymas neveikia, skambinkite Zygimantui");
	expect("没有暖气，请尽快回电", "mei you nuan qi, qing jin kuai hui dian");
	expect("Привет мир", "Privet mir");
	expect("Dr. Zoë Ångström, café Straße", "Dr. Zoe Angstrom, cafe Strasse");
	expect("No heat \xe2\x80\x94 \xe2\x80\x9cnow\xe2\x80\x9d \xe2\x80\xa6", "No heat - \"now\" ...");
	expect("plain ASCII stays", "plain ASCII stays");
	expect("", "");
}

static void
test_left_overs(void **state)
{
	(void)state;
	/* emoji and symbols ICU keeps are spelled, never '?' */
	expect("fire \xf0\x9f\x94\xa5 at 5\xe2\x82\xac", "fire (fire) at 5(euro sign)");
	/* line breaks and tabs stay; other controls go */
	expect("a\nb\tc\x01" "d", "a\nb\tcd");
	/* a variation selector after a heart is dropped, the heart named */
	expect("\xe2\x9d\xa4\xef\xb8\x8f", "(heavy black heart)");
}

static void
test_bad_input(void **state)
{
	struct pg_buf b;

	(void)state;
	pg_buf_init(&b, 4096);
	assert_int_equal(pg_translit_ascii(T, "\xff\xfe", &b), PG_ERR_INVAL);
	pg_buf_free(&b);
	pg_buf_init(&b, 8);          /* the output's bound holds */
	assert_int_equal(pg_translit_ascii(T, "Δεν υπάρχει θέρμανση", &b), PG_ERR_TOOBIG);
	pg_buf_free(&b);
}

/* Case folding matches text in any case, in any script. */
static void
fold_is(const char *in, const char *want)
{
	struct pg_buf b;

	pg_buf_init(&b, 4096);
	assert_int_equal(pg_fold_case(in, strlen(in), &b), PG_OK);
	assert_int_equal(pg_buf_add(&b, "", 1), PG_OK);
	assert_string_equal(b.data, want);
	pg_buf_free(&b);
}

static void
test_fold(void **state)
{
	struct pg_buf b;

	(void)state;
	fold_is("ØRJAN Ålesund", "ørjan ålesund");
	fold_is("ΔΕΝ Υπάρχει", "δεν υπάρχει");
	fold_is("Straße", "strasse");
	fold_is("NGUYỄN Thị", "nguyễn thị");
	fold_is("", "");
	pg_buf_init(&b, 64);
	assert_int_equal(pg_fold_case("\xff", 1, &b), PG_ERR_INVAL);
	assert_int_equal(pg_fold_case("ÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅ", 70, &b), PG_ERR_TOOBIG);
	pg_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_left_overs),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_fold),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
