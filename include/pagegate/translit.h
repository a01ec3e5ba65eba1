/*
 * translit.h - readable 7-bit text from any script, for the devices that
 * can show nothing else: TAP pagers, SNPP/WCTP gateways set to ascii, SMS
 * providers that can only send GSM-7.  ICU's transliterator ("Any-Latin;
 * Latin-ASCII") does the work: Greek, Cyrillic, Lithuanian, Vietnamese
 * become their Latin spellings without accents ("Den yparchei
 * thermanse"), Chinese becomes pinyin ("mei you nuan qi"), typographic
 * punctuation its ASCII look-alike.  What ICU leaves outside ASCII
 * (emoji, some symbols) is spelled by its Unicode name in parentheses
 * ("(fire)"), so nothing reaches a pager as '?'.
 *
 * pg_fold_case, ICU's case folding, sits here too: the other use of ICU
 * on plain text.
 *
 * A struct pg_translit holds the compiled transliterator (opening one
 * costs ~12 ms; each use clones it, ~4 us).  Safe to use from several
 * threads at once.
 */
#ifndef PAGEGATE_TRANSLIT_H
#define PAGEGATE_TRANSLIT_H

#include "pagegate/common.h"
#include "pagegate/util.h"

struct pg_translit;

/* PG_ERR_NOMEM, or PG_ERR_IO when ICU cannot make the transliterator
 * (its data missing). */
pg_err pg_translit_new(struct pg_translit **out);
void pg_translit_free(struct pg_translit *t);

/* Appends the ASCII form of utf8 (NUL-terminated, valid UTF-8) to out:
 * printable ASCII plus the \n \r \t it had.  PG_ERR_NOMEM, PG_ERR_TOOBIG
 * (out's bound), PG_ERR_INVAL (not UTF-8). */
pg_err pg_translit_ascii(struct pg_translit *t, const char *utf8, struct pg_buf *out);

/* Appends utf8 (valid UTF-8, n bytes) case-folded to out (ICU's full
 * case folding: "ØRJAN" and "ørjan" both give "ørjan", "STRASSE" and
 * "Straße" both "strasse"), for matching text in any case.  PG_ERR_INVAL
 * (not UTF-8), PG_ERR_NOMEM, PG_ERR_TOOBIG (out's bound). */
pg_err pg_fold_case(const char *utf8, size_t n, struct pg_buf *out);

#endif
