/*
 * config_keys.c - the table-driven layer over libconfig shared by config.c
 * and config_client.c (config_priv.h): diagnostics at a setting's
 * file:line, unknown and mistyped keys with "did you mean" hints, checked
 * strings and integers, and reading a file with precise syntax errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "pagegate/util.h"

/* ---- helpers over libconfig (config_priv.h) ---- */

void config__diag(struct loader *ld, config_setting_t *s, const char *fmt, ...)
{
	char msg[sizeof ((struct pg_diag *)0)->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char *file = s && config_setting_source_file(s) ?
		config_setting_source_file(s) : ld->file;
	pg_diag_add(ld->d, file, s ? (int)config_setting_source_line(s) : 0, "%s", msg);
	ld->errors++;
}

static bool type_ok(const config_setting_t *s, enum ktype t)
{
	int ty = config_setting_type(s);
	switch (t) {
	case K_STR: return ty == CONFIG_TYPE_STRING;
	case K_INT: return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64;
	case K_BOOL: return ty == CONFIG_TYPE_BOOL;
	case K_GROUP: return ty == CONFIG_TYPE_GROUP;
	case K_LIST:
		return ty == CONFIG_TYPE_LIST ||
		       (ty == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0);
	case K_STRS: return ty == CONFIG_TYPE_ARRAY || ty == CONFIG_TYPE_LIST;
	case K_STR_OR_STRS:
		return ty == CONFIG_TYPE_STRING || ty == CONFIG_TYPE_ARRAY ||
		       ty == CONFIG_TYPE_LIST;
	case K_DUR: return ty == CONFIG_TYPE_STRING || ty == CONFIG_TYPE_INT;
	case K_ANY: return true;
	}
	return false;
}

static const char *want_name(enum ktype t)
{
	switch (t) {
	case K_STR: return "a string in quotes";
	case K_INT: return "a whole number";
	case K_BOOL: return "true or false";
	case K_GROUP: return "a group { ... }";
	case K_LIST: return "a list ( { ... }, ... )";
	case K_STRS: return "an array of strings [ \"...\" ]";
	case K_STR_OR_STRS: return "a string or an array of strings";
	case K_DUR: return "a duration such as \"30s\", \"5m\" or \"2h\"";
	case K_ANY: return "any value";
	}
	return "?";
}

static const char *got_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "a number";
	case CONFIG_TYPE_FLOAT: return "a decimal number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "true/false";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	}
	return "nothing";
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return 99;
	size_t row[64];
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

const char *config__closest(const char *s, const char *const *names)
{
	const char *best = NULL;
	size_t bd = 3;
	for (size_t i = 0; names[i]; i++) {
		size_t dist = edit_distance(s, names[i]);
		if (dist < bd && dist < strlen(names[i])) {
			bd = dist;
			best = names[i];
		}
	}
	return best;
}

void config__keys(struct loader *ld, config_setting_t *g, const struct key *keys,
		  const char *where)
{
	const char *names[64];
	size_t nk = 0;
	for (; keys[nk].name && nk < 63; nk++)
		names[nk] = keys[nk].name;
	names[nk] = NULL;

	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		if (!name)
			continue;
		size_t k = 0;
		while (k < nk && strcmp(keys[k].name, name) != 0)
			k++;
		if (k < nk) {
			if (!type_ok(m, keys[k].type))
				config__diag(ld, m, "\"%s\" must be %s, not %s", name,
					     want_name(keys[k].type), got_name(m));
			continue;
		}
		const char *hint = config__closest(name, names);
		char in[64] = "";
		if (where)
			snprintf(in, sizeof in, " in %s", where);
		if (hint)
			config__diag(ld, m, "unknown setting \"%s\"%s (did you mean \"%s\"?)",
				     name, in, hint);
		else
			config__diag(ld, m, "unknown setting \"%s\"%s", name, in);
	}
}

const char *config__dur_text(int64_t s, char buf[24])
{
	if (s % 86400 == 0)
		snprintf(buf, 24, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, 24, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, 24, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, 24, "%llds", (long long)s);
	return buf;
}

bool config__dur(struct loader *ld, config_setting_t *g, const char *name,
		 int64_t lo, int64_t hi, int64_t *out)
{
	config_setting_t *m = config__member(g, name, K_DUR);
	int64_t s = -1;
	char a[24], b[24];

	if (!m)
		return false;
	if (config_setting_type(m) == CONFIG_TYPE_INT)
		s = config_setting_get_int(m);
	else if (pg_parse_duration(config_setting_get_string(m), &s) != 0)
		s = -1;
	if (s < lo || s > hi) {
		config__diag(ld, m, "bad %s: expected a duration from %s to %s such as "
			     "\"30s\", \"5m\", \"2h\", \"1d\"", name,
			     config__dur_text(lo, a), config__dur_text(hi, b));
		return false;
	}
	*out = s;
	return true;
}

config_setting_t *config__member(config_setting_t *g, const char *name, enum ktype t)
{
	config_setting_t *m = config_setting_get_member(g, name);
	return m && type_ok(m, t) ? m : NULL;
}

const char *config__str(struct loader *ld, config_setting_t *s, bool multi_line)
{
	const char *v = config_setting_get_string(s);
	const char *name = config_setting_name(s);
	if (!v)
		return NULL;
	if (!pg_utf8_valid(v, strlen(v))) {
		config__diag(ld, s, "\"%s\" is not valid UTF-8", name ? name : v);
		return NULL;
	}
	if (pg_has_ctl(v, multi_line)) {
		config__diag(ld, s, "\"%s\" contains a control character%s",
			     name ? name : v, multi_line ? "" : " (line break or tab)");
		return NULL;
	}
	return v;
}

char *config__strdup(struct loader *ld, const char *s)
{
	if (!s)
		return NULL;
	char *p = strdup(s);
	if (!p)
		ld->nomem = true;
	return p;
}

void *config__calloc(struct loader *ld, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		ld->nomem = true;
	return p;
}

char *config__dup(struct loader *ld, config_setting_t *g, const char *name,
		  bool multi_line)
{
	config_setting_t *m = config__member(g, name, K_STR);
	const char *v = m ? config__str(ld, m, multi_line) : NULL;
	return config__strdup(ld, v);
}

bool config__int(struct loader *ld, config_setting_t *g, const char *name,
		 int64_t lo, int64_t hi, int64_t *out)
{
	config_setting_t *m = config__member(g, name, K_INT);
	if (!m)
		return false;
	int64_t v = config_setting_type(m) == CONFIG_TYPE_INT64 ?
		(int64_t)config_setting_get_int64(m) : config_setting_get_int(m);
	if (v < lo || v > hi) {
		config__diag(ld, m, "%s %lld is out of range (%lld..%lld)", name,
			     (long long)v, (long long)lo, (long long)hi);
		return false;
	}
	*out = v;
	return true;
}

bool config__read(struct loader *ld, config_t *cf, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		pg_diag_add(ld->d, path, 0, "cannot open: %s", strerror(errno));
		ld->errors++;
		return false;
	}
	char *dir = strdup(path);
	if (!dir) {
		fclose(f);
		ld->nomem = true;
		return false;
	}
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[1] = '\0';
	if (slash)
		config_set_include_dir(cf, dir);
	int ok = config_read(cf, f);
	fclose(f);
	free(dir);   /* libconfig copied it */
	if (!ok) {
		const char *ef = config_error_file(cf);
		pg_diag_add(ld->d, ef ? ef : path, config_error_line(cf), "%s",
			    config_error_text(cf));
		ld->errors++;
		return false;
	}
	return true;
}
