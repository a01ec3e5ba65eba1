/*
 * config_diag.c - diagnostics (config.h) and the configuration's wordings
 * (config_keys.h): every message a configuration mistake can produce that
 * is not free text goes through one of the functions here, so that one
 * kind of mistake reads the same in the daemon file, a client file and
 * every driver's section.  Also "did you mean" (pg_conf_closest).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/config_keys.h"
#include "pagegate/util.h"

#define DIAG_MAX 1000
#define MSG_MAX (sizeof ((struct pg_diag *)0)->msg)

/* ---- diagnostics ---- */

void pg_diags_init(struct pg_diags *d)
{
	memset(d, 0, sizeof *d);
}

void pg_diags_free(struct pg_diags *d)
{
	free(d->v);
	memset(d, 0, sizeof *d);
}

/* Appends one diagnostic; false when it was dropped. */
static bool diag_put(struct pg_diags *d, const char *file, int line, bool warning,
		     const char *msg)
{
	if (d->n >= DIAG_MAX)
		return false;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct pg_diag *v = realloc(d->v, cap * sizeof *v);
		if (!v)
			return false;
		d->v = v;
		d->cap = cap;
	}
	struct pg_diag *g = &d->v[d->n++];
	pg_strlcpy(g->file, file ? file : "", sizeof g->file);
	g->line = line > 0 ? line : 1;   /* every diagnostic has a line */
	g->warning = warning;
	pg_strlcpy(g->msg, msg, sizeof g->msg);
	return true;
}

void pg_diag_add(struct pg_diags *d, const char *file, int line, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_put(d, file, line, false, msg);
}

size_t pg_diags_errors(const struct pg_diags *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += !d->v[i].warning;
	return n;
}

/* ---- where ---- */

const char *pg_conf_file_of(const struct pg_conf *cx, const config_setting_t *s,
			    char *buf, size_t n)
{
	const char *f = s ? config_setting_source_file(s) : NULL;

	if (!f)
		return cx->file;
	if (f[0] == '/' || !cx->dir || !cx->dir[0])
		return f;
	snprintf(buf, n, "%s%s", cx->dir, f);      /* libconfig: relative to
						      the include directory */
	return buf;
}

static void report(struct pg_conf *cx, const config_setting_t *s, int line,
		   bool warning, const char *msg)
{
	char buf[512];
	const char *file = pg_conf_file_of(cx, s, buf, sizeof buf);

	if (s)
		line = (int)config_setting_source_line(s);
	if (line <= 0)
		line = 1;                /* the top of the file (the root) */
	diag_put(cx->d, file, line, warning, msg);
	if (warning)
		cx->warnings++;
	else
		cx->errors++;
}

void pg_conf_error(struct pg_conf *cx, const config_setting_t *s, int line,
		   const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	report(cx, s, line, false, msg);
}

void pg_conf_warn(struct pg_conf *cx, const config_setting_t *s, int line,
		  const char *fmt, ...)
{
	char msg[MSG_MAX];
	int o = snprintf(msg, sizeof msg, "warning: ");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg + o, sizeof msg - (size_t)o, fmt, ap);
	va_end(ap);
	report(cx, s, line, true, msg);
}

/* ---- "did you mean" ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la > 63 || lb > 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *pg_conf_closest(const char *s, const char *const *names)
{
	const char *best = NULL;
	size_t bd = 3;

	for (size_t i = 0; s && names && names[i]; i++) {
		size_t dist = edit_distance(s, names[i]);
		if (dist < bd && dist < strlen(names[i])) {
			bd = dist;
			best = names[i];
		}
	}
	return best;
}

/* ---- the wordings ---- */

void pg_conf_missing(struct pg_conf *cx, const config_setting_t *s, int line,
		     const char *name, const char *what, const char *hint)
{
	pg_conf_error(cx, s, line, "missing \"%s\"%s%s%s%s%s", name,
		      what ? " in " : "", what ? what : "",
		      hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
}

void pg_conf_bad(struct pg_conf *cx, const config_setting_t *s, int line,
		 const char *name, const char *value, const char *context,
		 const char *fmt, ...)
{
	char want[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof want, fmt, ap);
	va_end(ap);
	pg_conf_error(cx, s, line, "bad %s%s%.80s%s%s%s: expected %s", name,
		      value ? " \"" : "", value ? value : "", value ? "\"" : "",
		      context ? " " : "", context ? context : "", want);
}

/* "a, b, c" of names into buf (what fits). */
static void join_names(char *buf, size_t n, const char *const *names)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; names && names[i] && o + 1 < n; i++) {
		int w = snprintf(buf + o, n - o, "%s%s", i ? ", " : "", names[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

void pg_conf_unknown(struct pg_conf *cx, const config_setting_t *s, int line,
		     const char *what, const char *name, const char *context,
		     const char *const *known)
{
	const char *hint = pg_conf_closest(name, known);
	char list[160];

	join_names(list, sizeof list, known);
	if (hint)
		pg_conf_error(cx, s, line, "unknown %s \"%.64s\"%s%s (did you mean \"%s\"?)",
			      what, name, context ? " " : "", context ? context : "", hint);
	else if (list[0])
		pg_conf_error(cx, s, line, "unknown %s \"%.64s\"%s%s (known: %s)",
			      what, name, context ? " " : "", context ? context : "", list);
	else
		pg_conf_error(cx, s, line, "unknown %s \"%.64s\"%s%s", what, name,
			      context ? " " : "", context ? context : "");
}

void pg_conf_duplicate(struct pg_conf *cx, const config_setting_t *s, int line,
		       const char *what, const char *name, const char *first_file,
		       int first_line)
{
	char buf[512];
	const char *here = pg_conf_file_of(cx, s, buf, sizeof buf);

	if (first_file && strcmp(first_file, here) != 0)
		pg_conf_error(cx, s, line, "duplicate %s \"%.64s\" (first in %s:%d)",
			      what, name, first_file, first_line);
	else
		pg_conf_error(cx, s, line, "duplicate %s \"%.64s\" (first at line %d)",
			      what, name, first_line);
}

void pg_conf_conflict(struct pg_conf *cx, const config_setting_t *s, int line,
		      const char *a, const char *b)
{
	pg_conf_error(cx, s, line, "set \"%s\" or \"%s\", not both", a, b);
}

void pg_conf_together(struct pg_conf *cx, const config_setting_t *s, int line,
		      const char *a, const char *b)
{
	pg_conf_error(cx, s, line, "set both \"%s\" and \"%s\", or neither", a, b);
}

void pg_conf_no_gateway(struct pg_conf *cx, int line, const char *channel,
			const char *what)
{
	pg_conf_error(cx, NULL, line, "%s device, but the daemon configuration "
		      "defines no %s", channel, what);
}

int pg_conf_enum(struct pg_conf *cx, const config_setting_t *s, int line,
		 const char *name, const char *value, const char *context,
		 const char *const *names)
{
	char list[200];
	size_t o = 0, n = 0;

	for (int i = 0; value && names[i]; i++)
		if (strcmp(names[i], value) == 0)
			return i;
	while (names[n])
		n++;
	list[0] = '\0';
	for (size_t i = 0; i < n && o + 1 < sizeof list; i++) {
		int w = snprintf(list + o, sizeof list - o, "%s\"%s\"",
				 i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	const char *hint = pg_conf_closest(value, names);
	pg_conf_bad(cx, s, line, name, value ? value : "", context, "%s%s%s%s", list,
		    hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
	return -1;
}
