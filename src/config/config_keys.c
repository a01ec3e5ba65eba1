/*
 * config_keys.c - the engine that walks a key table over a libconfig
 * group (config_keys.h): unknown keys, keys of another gateway kind,
 * types, bounds, enum values, text checks, defaults, required keys, and
 * storing each value into its field without ever overflowing it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_priv.h"
#include "pagegate/util.h"
#include "pagegate/visible.h"

#define NAMES_MAX 64      /* keys of one table, for "did you mean" */

/* ---- types ---- */

static bool type_ok(const config_setting_t *s, enum pg_ktype t)
{
	int ty = config_setting_type(s);

	switch (t) {
	case PG_KT_STR: case PG_KT_TEXT: case PG_KT_PATH: case PG_KT_ENUM:
		return ty == CONFIG_TYPE_STRING;
	case PG_KT_INT:
		return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64;
	case PG_KT_NUM:
		return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64 ||
		       ty == CONFIG_TYPE_FLOAT;
	case PG_KT_BOOL:
		return ty == CONFIG_TYPE_BOOL;
	case PG_KT_DUR:
		return ty == CONFIG_TYPE_STRING || ty == CONFIG_TYPE_INT ||
		       ty == CONFIG_TYPE_INT64;
	case PG_KT_STRS:
		return ty == CONFIG_TYPE_ARRAY || ty == CONFIG_TYPE_LIST;
	case PG_KT_STR_OR_STRS:
		return ty == CONFIG_TYPE_STRING || ty == CONFIG_TYPE_ARRAY ||
		       ty == CONFIG_TYPE_LIST;
	case PG_KT_GROUP:
		return ty == CONFIG_TYPE_GROUP;
	case PG_KT_LIST:
		return ty == CONFIG_TYPE_LIST ||
		       (ty == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0);
	}
	return false;
}

static const char *want_name(enum pg_ktype t)
{
	switch (t) {
	case PG_KT_STR: case PG_KT_TEXT: case PG_KT_ENUM: return "a string in quotes";
	case PG_KT_PATH: return "a file name in quotes";
	case PG_KT_INT: return "a whole number";
	case PG_KT_NUM: return "a number";
	case PG_KT_BOOL: return "true or false";
	case PG_KT_DUR: return "a duration such as \"30s\", \"5m\" or \"2h\"";
	case PG_KT_STRS: return "an array of strings [ \"...\" ]";
	case PG_KT_STR_OR_STRS: return "a string or an array of strings";
	case PG_KT_GROUP: return "a group { ... }";
	case PG_KT_LIST: return "a list ( { ... }, ... )";
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

/* ---- fields ---- */

/* The range an integer field of k can hold. */
void config__field_range(const struct pg_key *k, int64_t *lo, int64_t *hi)
{
	int bits = (int)(k->size * 8);

	if (bits >= 64) {
		*lo = k->is_signed ? INT64_MIN : 0;
		*hi = INT64_MAX;
	} else if (k->is_signed) {
		*lo = -(INT64_C(1) << (bits - 1));
		*hi = (INT64_C(1) << (bits - 1)) - 1;
	} else {
		*lo = 0;
		*hi = (INT64_C(1) << bits) - 1;
	}
}

/* Stores v into k's integer field (its range was checked). */
static void put_int(const struct pg_key *k, void *target, int64_t v)
{
	char *p = (char *)target + k->off;

	switch (k->size) {
	case 1: { int8_t x = (int8_t)v; memcpy(p, &x, 1); break; }
	case 2: { int16_t x = (int16_t)v; memcpy(p, &x, 2); break; }
	case 4: { int32_t x = (int32_t)v; memcpy(p, &x, 4); break; }
	case 8: memcpy(p, &v, 8); break;
	}
}

static char **str_field(const struct pg_key *k, void *target)
{
	return (char **)(void *)((char *)target + k->off);
}

/* Replaces k's string field with a copy of v (NULL: cleared). */
static void put_str(struct pg_conf *cx, const struct pg_key *k, void *target,
		    const char *v)
{
	char **f = str_field(k, target);

	free(*f);
	*f = NULL;
	if (v && !(*f = strdup(v)))
		cx->nomem = true;
}

/* dir of the file s was read from joined with rel (absolute: as is). */
static char *join_path(const struct pg_conf *cx, const config_setting_t *s,
		       const char *rel)
{
	char buf[512], *out;
	const char *file = s ? pg_conf_file_of(cx, s, buf, sizeof buf) : cx->file;
	const char *slash = file ? strrchr(file, '/') : NULL;
	size_t dl = slash ? (size_t)(slash - file) + 1 : 0;

	if (rel[0] == '/' || dl == 0)
		return strdup(rel);
	if (!(out = malloc(dl + strlen(rel) + 1)))
		return NULL;
	memcpy(out, file, dl);
	strcpy(out + dl, rel);
	return out;
}

char *config__path(struct pg_conf *cx, const config_setting_t *s, const char *rel)
{
	char *p;

	if (!rel)
		return NULL;
	if (!(p = join_path(cx, s, rel)))
		cx->nomem = true;
	return p;
}

/* ---- one value ---- */

/* The text checks of a string value; reports when cx is set. */
static bool text_ok(struct pg_conf *cx, const struct pg_key *k,
		    const config_setting_t *s, const char *v)
{
	size_t n = strlen(v), at;
	bool multi = k->type == PG_KT_TEXT;
	uint32_t cp;

	if (!pg_utf8_valid(v, n)) {
		if (cx)
			pg_conf_bad(cx, s, 0, k->name, NULL, NULL, "UTF-8 text");
		return false;
	}
	if (pg_has_ctl(v, multi)) {
		if (cx)
			pg_conf_bad(cx, s, 0, k->name, NULL, NULL,
				    "text without control characters%s",
				    multi ? " other than line breaks and tabs" :
				    " (line breaks, tabs)");
		return false;
	}
	if ((k->lo || k->hi) && ((int64_t)n < k->lo || (int64_t)n > k->hi)) {
		if (cx)
			pg_conf_bad(cx, s, 0, k->name, NULL, NULL, "%lld to %lld bytes",
				    (long long)k->lo, (long long)k->hi);
		return false;
	}
	if ((k->flags & PG_KF_NAME) && (cp = pg_visible_bad(v, PG_VIS_NAME, &at))) {
		if (cx)
			pg_conf_bad(cx, s, 0, k->name, NULL, NULL, "a name without "
				    "invisible or direction-changing characters "
				    "(U+%04X after %zu characters)", (unsigned)cp, at);
		return false;
	}
	return true;
}

static int64_t int_of(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT64 ?
		(int64_t)config_setting_get_int64(s) : config_setting_get_int(s);
}

/* The effective bounds of an integer-like key: its own, within its
 * field's (pg_conf_table_check proves they already are). */
static void bounds(const struct pg_key *k, int64_t *lo, int64_t *hi)
{
	int64_t flo = INT64_MIN, fhi = INT64_MAX;

	if (k->size)
		config__field_range(k, &flo, &fhi);
	*lo = k->lo > flo ? k->lo : flo;
	*hi = k->hi < fhi ? k->hi : fhi;
}

/* Checks s against k (type already right); on success *iv / *dv hold the
 * value of numeric kinds.  Reports when cx is set. */
static bool value_ok(struct pg_conf *cx, const struct pg_conf *where,
		     const struct pg_key *k, const config_setting_t *s,
		     int64_t *iv, double *dv)
{
	int64_t lo, hi, v;
	char a[24], b[24];

	switch (k->type) {
	case PG_KT_STR: case PG_KT_TEXT: case PG_KT_PATH:
		return text_ok(cx, k, s, config_setting_get_string(s));
	case PG_KT_INT:
		if (where && config__refused(where, s))
			return false;            /* the reader reported it */
		v = int_of(s);
		bounds(k, &lo, &hi);
		if (v < lo || v > hi) {
			if (cx)
				pg_conf_bad(cx, s, 0, k->name, NULL, NULL,
					    "a whole number from %lld to %lld",
					    (long long)lo, (long long)hi);
			return false;
		}
		*iv = v;
		return true;
	case PG_KT_NUM: {
		double d;
		if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
			d = config_setting_get_float(s);
		else if (where && config__refused(where, s))
			return false;
		else
			d = (double)int_of(s);
		if (!isfinite(d) || d < (double)k->lo || d > (double)k->hi) {
			if (cx)
				pg_conf_bad(cx, s, 0, k->name, NULL, NULL,
					    "a number from %lld to %lld",
					    (long long)k->lo, (long long)k->hi);
			return false;
		}
		*dv = d;
		return true;
	}
	case PG_KT_DUR: {
		bool readable = true;
		bounds(k, &lo, &hi);
		if (config_setting_type(s) == CONFIG_TYPE_STRING)
			readable = pg_parse_duration(config_setting_get_string(s), &v) == 0;
		else if (where && config__refused(where, s))
			return false;
		else
			v = int_of(s);
		if (!readable || v < lo || v > hi) {
			if (cx)
				pg_conf_bad(cx, s, 0, k->name, NULL, NULL,
					    "a duration from %s to %s such as "
					    "\"30s\", \"5m\", \"2h\", \"1d\"",
					    config__dur_text(lo, a), config__dur_text(hi, b));
			return false;
		}
		*iv = v;
		return true;
	}
	case PG_KT_ENUM: {
		const char *name = config_setting_get_string(s);
		for (int i = 0; k->names[i]; i++)
			if (strcmp(k->names[i], name) == 0) {
				*iv = k->lo + i;
				return true;
			}
		if (cx)
			pg_conf_enum(cx, s, 0, k->name, name, NULL, k->names);
		return false;
	}
	case PG_KT_STRS: {
		int n = config_setting_length(s);
		bool ok = true;
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				if (cx)
					pg_conf_error(cx, e, 0, "each entry of \"%s\" must be "
						      "a string in quotes, not %s", k->name,
						      got_name(e));
				ok = false;
			} else if (!text_ok(cx, &(struct pg_key){ .name = k->name,
					.type = PG_KT_STR }, e, config_setting_get_string(e))) {
				ok = false;
			}
		}
		if (ok && (k->lo || k->hi) && (n < k->lo || n > k->hi)) {
			if (cx)
				pg_conf_bad(cx, s, 0, k->name, NULL, NULL, "%lld to %lld entries",
					    (long long)k->lo, (long long)k->hi);
			ok = false;
		}
		return ok;
	}
	case PG_KT_BOOL: case PG_KT_STR_OR_STRS: case PG_KT_GROUP: case PG_KT_LIST:
		return true;
	}
	return false;
}

/* Stores the checked value of s into k's field. */
static void store(struct pg_conf *cx, const struct pg_key *k, const config_setting_t *s,
		  void *target, int64_t iv, double dv)
{
	char *p = (char *)target + k->off;

	if (!k->size)
		return;
	switch (k->type) {
	case PG_KT_STR: case PG_KT_TEXT:
		put_str(cx, k, target, config_setting_get_string(s));
		break;
	case PG_KT_PATH: {
		char **f = str_field(k, target);
		free(*f);
		*f = config__path(cx, s, config_setting_get_string(s));
		if (*f && (k->flags & PG_KF_READABLE) && access(*f, R_OK) != 0)
			pg_conf_error(cx, s, 0, "cannot read %s \"%.150s\": %s", k->name,
				      *f, strerror(errno));
		break;
	}
	case PG_KT_INT: case PG_KT_DUR: case PG_KT_ENUM:
		put_int(k, target, iv);
		break;
	case PG_KT_NUM:
		memcpy(p, &dv, sizeof dv);
		break;
	case PG_KT_BOOL: {
		bool b = config_setting_get_bool(s) != 0;
		memcpy(p, &b, sizeof b);
		break;
	}
	case PG_KT_STRS: {
		char ***arr = (char ***)(void *)p;
		size_t *cnt = (size_t *)(void *)((char *)target + k->off_n);
		int n = config_setting_length(s);
		for (size_t i = 0; i < *cnt; i++)
			free((*arr)[i]);
		free(*arr);
		*arr = NULL;
		*cnt = 0;
		if (n > 0 && !(*arr = calloc((size_t)n, sizeof **arr))) {
			cx->nomem = true;
			break;
		}
		for (int i = 0; i < n; i++) {
			const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
			if (!((*arr)[i] = strdup(v))) {
				cx->nomem = true;
				break;
			}
			(*cnt)++;
		}
		break;
	}
	default:
		break;
	}
}

static void store_default(struct pg_conf *cx, const struct pg_key *k, void *target)
{
	char *p = (char *)target + k->off;

	if (!k->size)
		return;
	switch (k->type) {
	case PG_KT_STR: case PG_KT_TEXT:
		put_str(cx, k, target, k->defs);
		break;
	case PG_KT_PATH: {
		char **f = str_field(k, target);
		free(*f);
		*f = config__path(cx, NULL, k->defs);
		break;
	}
	case PG_KT_INT: case PG_KT_DUR: case PG_KT_ENUM:
		put_int(k, target, k->def);
		break;
	case PG_KT_NUM:
		memcpy(p, &k->defd, sizeof k->defd);
		break;
	case PG_KT_BOOL: {
		bool b = k->def != 0;
		memcpy(p, &b, sizeof b);
		break;
	}
	default:
		break;
	}
}

/* ---- the walk ---- */

static bool applies(const struct pg_key *k, int kind)
{
	return k->kinds == 0 || (kind >= 0 && (k->kinds & (1u << kind)));
}

/* The key called name that applies to kind (any key of that name when
 * kind < 0), or NULL; *named tells whether the name exists at all. */
static const struct pg_key *find(const struct pg_keytab *t, const char *name, int kind,
				 bool *named)
{
	const struct pg_key *any = NULL;

	*named = false;
	for (const struct pg_key *k = t->keys; k->name; k++) {
		if (strcmp(k->name, name) != 0)
			continue;
		*named = true;
		if (applies(k, kind))
			return k;
		if (!any)
			any = k;
	}
	return kind < 0 ? any : NULL;
}

const struct pg_key *config__kind_key(const struct pg_keytab *t)
{
	bool named;

	return t->kind_key ? find(t, t->kind_key, -1, &named) : NULL;
}

/* "kannel and http" - the kinds a name applies to. */
static void kinds_text(const struct pg_keytab *t, const char *name, char *buf, size_t n)
{
	const struct pg_key *kk = config__kind_key(t);
	unsigned mask = 0;
	size_t o = 0;
	int count = 0, done = 0;

	for (const struct pg_key *k = t->keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			mask |= k->kinds;
	for (int i = 0; kk && kk->names[i]; i++)
		count += (mask >> i) & 1;
	buf[0] = '\0';
	for (int i = 0; kk && kk->names[i] && o + 1 < n; i++) {
		if (!((mask >> i) & 1))
			continue;
		done++;
		int w = snprintf(buf + o, n - o, "%s%s", done == 1 ? "" :
				 done == count ? " and " : ", ", kk->names[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static int read_kind(struct pg_conf *cx, const config_setting_t *g,
		     const struct pg_keytab *t)
{
	const struct pg_key *kk = config__kind_key(t);
	const config_setting_t *m;
	int64_t iv;
	double dv;

	if (!kk)
		return 0;
	if (!g || !(m = config_setting_get_member(g, kk->name)) || !type_ok(m, kk->type) ||
	    !value_ok(NULL, cx, kk, m, &iv, &dv))
		return -1;
	return (int)(iv - kk->lo);
}

/* One member m of g: known, of this kind, of the right type, a good
 * value - then stored. */
static void member(struct pg_conf *cx, const config_setting_t *m,
		   const struct pg_keytab *t, int kind, void *target)
{
	const char *name = config_setting_name(m);
	const char *names[NAMES_MAX + 1];
	const struct pg_key *k;
	size_t n = 0;
	bool named;
	int64_t iv = 0;
	double dv = 0;

	if (!name)
		return;
	if (!(k = find(t, name, kind, &named))) {
		if (named) {
			const struct pg_key *kk = config__kind_key(t);
			char list[128];
			kinds_text(t, name, list, sizeof list);
			pg_conf_error(cx, m, 0, "\"%s\" is not a setting of %s %ss (only of %s)",
				      name, kk->names[kind], t->what, list);
			return;
		}
		for (const struct pg_key *q = t->keys; q->name && n < NAMES_MAX; q++)
			names[n++] = q->name;
		names[n] = NULL;
		const char *hint = pg_conf_closest(name, names);
		pg_conf_error(cx, m, 0, "unknown setting \"%s\"%s%s%s%s%s", name,
			      t->what ? " in " : "", t->what ? t->what : "",
			      hint ? " (did you mean \"" : "", hint ? hint : "",
			      hint ? "\"?)" : "");
		return;
	}
	if (k->flags & PG_KF_ELSEWHERE)
		return;
	if (!type_ok(m, k->type)) {
		pg_conf_error(cx, m, 0, "\"%s\" must be %s, not %s", name,
			      want_name(k->type), got_name(m));
		return;
	}
	if (!value_ok(cx, cx, k, m, &iv, &dv))
		return;
	if (k->type == PG_KT_GROUP && k->sub)
		pg_conf_apply(cx, m, k->sub, target);
	else if (target)
		store(cx, k, m, target, iv, dv);
}

int pg_conf_apply(struct pg_conf *cx, const config_setting_t *g,
		  const struct pg_keytab *t, void *target)
{
	int kind = read_kind(cx, g, t);

	for (const struct pg_key *k = t->keys; target && k->name; k++) {
		if (!applies(k, kind) || (k->flags & PG_KF_KEEP))
			continue;
		if (k->type == PG_KT_GROUP && k->sub)
			pg_conf_apply(cx, NULL, k->sub, target);
		else
			store_default(cx, k, target);
	}
	if (!g)
		return kind;
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++)
		member(cx, config_setting_get_elem(g, (unsigned)i), t, kind, target);
	for (const struct pg_key *k = t->keys; k->name; k++) {
		if (!(k->flags & PG_KF_REQUIRED) || !applies(k, kind) ||
		    config_setting_get_member(g, k->name))
			continue;
		if (k->type == PG_KT_ENUM && !k->hint) {
			char list[160];
			size_t o = 0;
			for (int i = 0; k->names[i] && o + 1 < sizeof list; i++) {
				int w = snprintf(list + o, sizeof list - o, "%s\"%s\"",
						 i == 0 ? "" : k->names[i + 1] ? ", " : " or ",
						 k->names[i]);
				if (w < 0)
					break;
				o += (size_t)w;
			}
			pg_conf_missing(cx, g, 0, k->name, t->what, list);
		} else {
			pg_conf_missing(cx, g, 0, k->name, t->what, k->hint);
		}
	}
	return kind;
}

void pg_conf_release(const struct pg_keytab *t, void *target)
{
	if (!target)
		return;
	for (const struct pg_key *k = t->keys; k->name; k++) {
		if (k->type == PG_KT_GROUP && k->sub) {
			pg_conf_release(k->sub, target);
			continue;
		}
		if (!k->size)
			continue;
		if (k->type == PG_KT_STR || k->type == PG_KT_TEXT || k->type == PG_KT_PATH) {
			char **f = str_field(k, target);
			free(*f);
			*f = NULL;
		} else if (k->type == PG_KT_STRS) {
			char ***arr = (char ***)(void *)((char *)target + k->off);
			size_t *cnt = (size_t *)(void *)((char *)target + k->off_n);
			for (size_t i = 0; *arr && i < *cnt; i++)
				free((*arr)[i]);
			free(*arr);
			*arr = NULL;
			*cnt = 0;
		}
	}
}

/* ---- reading what the engine accepted ---- */

const config_setting_t *pg_conf_member(const config_setting_t *g,
				       const struct pg_keytab *t, int kind,
				       const char *name)
{
	const config_setting_t *m = g ? config_setting_get_member(g, name) : NULL;
	const struct pg_key *k;
	bool named;
	int64_t iv;
	double dv;

	if (!m || !(k = find(t, name, kind, &named)) || !type_ok(m, k->type))
		return NULL;
	return value_ok(NULL, NULL, k, m, &iv, &dv) ? m : NULL;
}

const char *pg_conf_string(const config_setting_t *g, const struct pg_keytab *t,
			   int kind, const char *name)
{
	const config_setting_t *m = pg_conf_member(g, t, kind, name);

	return m && config_setting_type(m) == CONFIG_TYPE_STRING ?
		config_setting_get_string(m) : NULL;
}

pg_err pg_conf_parsed(struct pg_conf *cx, int before, void *cfg,
		      void (*free_fn)(void *), void **out)
{
	if (cx->nomem || cx->errors != before) {
		free_fn(cfg);
		return cx->nomem ? PG_ERR_NOMEM : PG_ERR_CONFIG;
	}
	*out = cfg;
	return PG_OK;
}

bool pg_conf_has(const config_setting_t *g, const char *name)
{
	return g && config_setting_get_member(g, name) != NULL;
}

const config_setting_t *pg_conf_section(struct pg_conf *cx,
					const config_setting_t *root,
					const struct pg_key *key)
{
	const config_setting_t *m = root ? config_setting_get_member(root, key->name) : NULL;

	if (!m)
		return NULL;
	if (!type_ok(m, key->type)) {
		pg_conf_error(cx, m, 0, "\"%s\" must be %s, not %s", key->name,
			      want_name(key->type), got_name(m));
		return NULL;
	}
	return m;
}

const config_setting_t *pg_conf_group_at(struct pg_conf *cx,
					 const config_setting_t *l, int i)
{
	const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
	const char *name = config_setting_name(l);

	if (g && config_setting_is_group(g))
		return g;
	pg_conf_error(cx, g ? g : l, 0, "each entry of \"%s\" must be a group { ... }, not %s",
		      name ? name : "list", g ? got_name(g) : "nothing");
	return NULL;
}

const char *pg_conf_string_at(struct pg_conf *cx, const config_setting_t *a, int i)
{
	const config_setting_t *e = config_setting_get_elem(a, (unsigned)i);
	const char *name = config_setting_name(a);
	struct pg_key k = { .name = name ? name : "array", .type = PG_KT_STR };

	if (!e || config_setting_type(e) != CONFIG_TYPE_STRING) {
		pg_conf_error(cx, e ? e : a, 0, "each entry of \"%s\" must be a string in "
			      "quotes, not %s", k.name, e ? got_name(e) : "nothing");
		return NULL;
	}
	return text_ok(cx, &k, e, config_setting_get_string(e)) ?
		config_setting_get_string(e) : NULL;
}

const char *config__dur_text(int64_t s, char buf[24])
{
	if (s != 0 && s % 86400 == 0)
		snprintf(buf, 24, "%lldd", (long long)(s / 86400));
	else if (s != 0 && s % 3600 == 0)
		snprintf(buf, 24, "%lldh", (long long)(s / 3600));
	else if (s != 0 && s % 60 == 0)
		snprintf(buf, 24, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, 24, "%llds", (long long)s);
	return buf;
}
