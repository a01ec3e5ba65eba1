/*
 * translit.c - readable ASCII from any script through ICU (translit.h).
 *
 * UTF-8 in, UTF-16 through ICU's "Any-Latin; Latin-ASCII" (a clone of the
 * compiled transliterator per call: clones are cheap, and a transliterator
 * is not to be shared between threads), UTF-8 out; every code point ICU
 * leaves outside ASCII is written by its Unicode name, lower case, in
 * parentheses, or dropped when it is a combining mark or has no name.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utrans.h>

#include "pagegate/translit.h"

#define RULES     "Any-Latin; Latin-ASCII"
#define NAME_MAX_ 128

struct pg_translit {
	pthread_mutex_t mu;          /* guards cloning the template */
	UTransliterator *tpl;
};

pg_err
pg_translit_new(struct pg_translit **out)
{
	struct pg_translit *t = calloc(1, sizeof *t);
	UErrorCode e = U_ZERO_ERROR;
	UChar id[sizeof RULES];

	*out = NULL;
	if (!t)
		return PG_ERR_NOMEM;
	u_uastrcpy(id, RULES);
	t->tpl = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &e);
	if (U_FAILURE(e) || !t->tpl) {
		free(t);
		return e == U_MEMORY_ALLOCATION_ERROR ? PG_ERR_NOMEM : PG_ERR_IO;
	}
	pthread_mutex_init(&t->mu, NULL);
	*out = t;
	return PG_OK;
}

void
pg_translit_free(struct pg_translit *t)
{
	if (!t)
		return;
	utrans_close(t->tpl);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Writes code point c, which ICU left outside ASCII: its name ("(fire)"),
 * nothing for a mark or a nameless one. */
static pg_err
spell(UChar32 c, struct pg_buf *out)
{
	char name[NAME_MAX_];
	UErrorCode e = U_ZERO_ERROR;
	int32_t n;
	int8_t type = u_charType(c);

	if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK ||
	    type == U_COMBINING_SPACING_MARK || type == U_MODIFIER_LETTER ||
	    type == U_FORMAT_CHAR || type == U_MODIFIER_SYMBOL)
		return PG_OK;            /* accents, joiners, variation selectors */
	if (u_isUWhiteSpace(c))
		return pg_buf_add(out, " ", 1);
	n = u_charName(c, U_UNICODE_CHAR_NAME, name, sizeof name, &e);
	if (U_FAILURE(e) || n <= 0 || (size_t)n >= sizeof name)
		return PG_OK;
	for (int32_t i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	return pg_buf_printf(out, "(%.*s)", (int)n, name);
}

pg_err
pg_translit_ascii(struct pg_translit *t, const char *utf8, struct pg_buf *out)
{
	UErrorCode e = U_ZERO_ERROR;
	UTransliterator *tr;
	UChar *u = NULL;
	int32_t len = 0, cap, limit, i = 0;
	size_t n = strlen(utf8);
	pg_err err = PG_OK;

	if (!pg_utf8_valid(utf8, n))
		return PG_ERR_INVAL;
	if (n > (size_t)INT32_MAX / 8)
		return PG_ERR_TOOBIG;
	/* ICU may lengthen the text (one CJK character -> a pinyin syllable) */
	cap = (int32_t)(n * 8 + 16);
	pthread_mutex_lock(&t->mu);
	tr = utrans_clone(t->tpl, &e);
	pthread_mutex_unlock(&t->mu);
	if (U_FAILURE(e) || !tr)
		return PG_ERR_NOMEM;
	if (!(u = malloc((size_t)cap * sizeof *u))) {
		utrans_close(tr);
		return PG_ERR_NOMEM;
	}
	u_strFromUTF8(u, cap, &len, utf8, (int32_t)n, &e);
	limit = len;
	if (U_SUCCESS(e))
		utrans_transUChars(tr, u, &len, cap, 0, &limit, &e);
	utrans_close(tr);
	if (U_FAILURE(e)) {
		free(u);
		return e == U_BUFFER_OVERFLOW_ERROR ? PG_ERR_TOOBIG : PG_ERR_NOMEM;
	}
	while (i < len && !err) {
		UChar32 c;

		U16_NEXT(u, i, len, c);
		if (c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
			char ch = (char)c;
			err = pg_buf_add(out, &ch, 1);
		} else if (c >= 0x80) {
			err = spell(c, out);
		}                           /* other controls: dropped */
	}
	free(u);
	return err;
}

pg_err
pg_fold_case(const char *utf8, size_t n, struct pg_buf *out)
{
	UErrorCode e = U_ZERO_ERROR;
	UChar *u, *f;
	int32_t len = 0, flen = 0, cap, olen = 0;
	char *o;
	pg_err err;

	if (!pg_utf8_valid(utf8, n))
		return PG_ERR_INVAL;
	if (n > (size_t)INT32_MAX / 4)
		return PG_ERR_TOOBIG;
	cap = (int32_t)n * 3 + 1;                /* folding may lengthen (ß -> ss) */
	u = malloc(((size_t)n + 1) * sizeof *u);
	f = malloc((size_t)cap * sizeof *f);
	o = malloc((size_t)cap * 3 + 1);
	err = u && f && o ? PG_OK : PG_ERR_NOMEM;
	if (!err) {
		u_strFromUTF8(u, (int32_t)n + 1, &len, utf8, (int32_t)n, &e);
		if (U_SUCCESS(e))
			flen = u_strFoldCase(f, cap, u, len, U_FOLD_CASE_DEFAULT, &e);
		if (U_SUCCESS(e))
			u_strToUTF8(o, cap * 3 + 1, &olen, f, flen, &e);
		err = U_FAILURE(e) ? PG_ERR_NOMEM : pg_buf_add(out, o, (size_t)olen);
	}
	free(u);
	free(f);
	free(o);
	return err;
}
