/*
 * config_keys_check.c - the proof that a key table fits its fields
 * (config_keys.h pg_conf_table_check), run by the unit tests over every
 * table of the core and of every driver: types agree with field sizes,
 * integer bounds and defaults fit the field's width and signedness, enum
 * bounds are their names, kinds exist, no name applies twice to a kind.
 * The engine relies on it never to store a value a field cannot hold.
 */
#include <stdio.h>
#include <string.h>

#include "config_priv.h"

static bool int_size_ok(size_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static bool key_check(const struct pg_keytab *t, const struct pg_key *k, char *why, size_t n)
{
	const struct pg_key *kk = config__kind_key(t);
	int64_t flo, fhi;
	int nn = 0;

#define BAD(...) do { snprintf(why, n, __VA_ARGS__); return false; } while (0)
	if (k->kinds && !kk)
		BAD("%s: kinds without a kind key", k->name);
	if (kk) {
		while (kk->names[nn])
			nn++;
		if (k->kinds >> nn)
			BAD("%s: a kind beyond the %d of \"%s\"", k->name, nn, kk->name);
	}
	for (const struct pg_key *q = t->keys; q < k; q++)
		if (strcmp(q->name, k->name) == 0 &&
		    (q->kinds == 0 || k->kinds == 0 || (q->kinds & k->kinds)))
			BAD("%s: declared twice for one kind", k->name);
	if ((k->flags & (PG_KF_REQUIRED | PG_KF_KEEP)) && (k->defs || k->def || k->defd != 0))
		BAD("%s: required or kept, yet with a default", k->name);
	if ((k->flags & PG_KF_NAME) && k->type != PG_KT_STR)
		BAD("%s: only a string is a name", k->name);
	if ((k->flags & PG_KF_ELSEWHERE) && k->size)
		BAD("%s: checked elsewhere, yet landing here", k->name);
	if (k->lo > k->hi)
		BAD("%s: lo > hi", k->name);
	switch (k->type) {
	case PG_KT_STR: case PG_KT_TEXT: case PG_KT_PATH:
		if (k->size && k->size != sizeof(char *))
			BAD("%s: a string lands in a char *", k->name);
		if (k->lo < 0)
			BAD("%s: negative length", k->name);
		if (k->defs && (k->lo || k->hi) &&
		    ((int64_t)strlen(k->defs) < k->lo || (int64_t)strlen(k->defs) > k->hi))
			BAD("%s: default outside its length bounds", k->name);
		break;
	case PG_KT_INT: case PG_KT_DUR: case PG_KT_ENUM:
		if (k->type == PG_KT_ENUM) {
			int ne = 0;
			if (!k->names || !k->names[0])
				BAD("%s: an enum without names", k->name);
			while (k->names[ne])
				ne++;
			if (k->hi != k->lo + ne - 1)
				BAD("%s: enum bounds are not its %d names", k->name, ne);
		} else if (k->lo == k->hi) {
			BAD("%s: no range", k->name);
		}
		if (k->size && !(k->flags & (PG_KF_REQUIRED | PG_KF_KEEP)) &&
		    (k->def < k->lo || k->def > k->hi))
			BAD("%s: default %lld outside %lld..%lld", k->name,
			    (long long)k->def, (long long)k->lo, (long long)k->hi);
		if (!k->size)
			break;
		if (!int_size_ok(k->size))
			BAD("%s: a field of %zu bytes is no integer", k->name, k->size);
		config__field_range(k, &flo, &fhi);
		if (k->lo < flo || k->hi > fhi)
			BAD("%s: %lld..%lld does not fit a %s%zu-byte field", k->name,
			    (long long)k->lo, (long long)k->hi, k->is_signed ? "signed " :
			    "unsigned ", k->size);
		break;
	case PG_KT_NUM:
		if (k->size && k->size != sizeof(double))
			BAD("%s: a number lands in a double", k->name);
		if (k->size && !(k->flags & (PG_KF_REQUIRED | PG_KF_KEEP)) &&
		    (k->defd < (double)k->lo || k->defd > (double)k->hi))
			BAD("%s: default outside its bounds", k->name);
		break;
	case PG_KT_BOOL:
		if (k->size && k->size != sizeof(bool))
			BAD("%s: a boolean lands in a bool", k->name);
		break;
	case PG_KT_STRS:
		if (k->size && (k->size != sizeof(char **) || k->off_n == k->off))
			BAD("%s: an array lands in a char ** and a count", k->name);
		break;
	case PG_KT_GROUP:
		if (k->size)
			BAD("%s: a group lands nowhere (its sub-table does)", k->name);
		if (k->sub && !pg_conf_table_check(k->sub, why, n))
			return false;
		break;
	case PG_KT_STR_OR_STRS: case PG_KT_LIST:
		if (k->size)
			BAD("%s: checked only", k->name);
		break;
	default:
		BAD("%s: unknown type", k->name);
	}
	return true;
#undef BAD
}

bool pg_conf_table_check(const struct pg_keytab *t, char *why, size_t n)
{
	const struct pg_key *k;

	if (t->kind_key && !config__kind_key(t)) {
		snprintf(why, n, "%s: no kind key \"%s\"", t->what ? t->what : "top",
			 t->kind_key);
		return false;
	}
	if (t->kind_key && (config__kind_key(t)->type != PG_KT_ENUM || config__kind_key(t)->kinds)) {
		snprintf(why, n, "%s: the kind key is an enum of every kind", t->what);
		return false;
	}
	for (k = t->keys; k->name; k++)
		if (!key_check(t, k, why, n))
			return false;
	return true;
}
