/*
 * config_client.c - one client preference file (etc/clients/NAME.conf):
 * identity, numbers, time zone, business hours, holidays, fields and
 * template overrides here; contacts and devices (config_contacts.c),
 * on-call rotations (config_oncall.c), escalation policies
 * (config_escalation.c), rules (config_rules.c) and content levels
 * (config_content.c) in their own files, read in that order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_priv.h"
#include "pagegate/oncall.h"
#include "pagegate/util.h"

#define TEMPLATE_MAX (64 * 1024)

#define CL struct pg_client

static const struct pg_key client_keys[] = {
	{ "id", PG_KT_STR, PG_KF_REQUIRED,
	  .hint = "the client's short name, e.g. \"acme-hvac\"" },
	{ "name", PG_KT_STR, PG_KF_REQUIRED | PG_KF_NAME, PG_AT(CL, name),
	  .hint = "the client's name for people" },
	{ .name = "dnis", .type = PG_KT_STRS },
	{ "timezone", PG_KT_STR, PG_KF_REQUIRED, .hint = "e.g. \"America/Chicago\"" },
	{ .name = "business_hours", .type = PG_KT_LIST },
	{ .name = "holidays", .type = PG_KT_STRS },
	{ "instructions", PG_KT_TEXT, PG_AT(CL, instructions) },
	{ "greeting", PG_KT_STR, PG_AT(CL, greeting), .lo = 1, .hi = 400 },
	{ .name = "fields", .type = PG_KT_LIST },
	{ .name = "contacts", .type = PG_KT_LIST },
	{ .name = "rules", .type = PG_KT_LIST },
	{ .name = "templates", .type = PG_KT_GROUP },
	{ .name = "oncall", .type = PG_KT_LIST },
	{ .name = "escalation", .type = PG_KT_LIST },
	{ .name = "summary", .type = PG_KT_GROUP },
	{ .name = "content", .type = PG_KT_GROUP },
	{ .name = "callback", .type = PG_KT_STR },
	{ "language", PG_KT_STR, PG_AT(CL, language), .lo = 2, .hi = 16,
	  .hint = "the language calls are spoken in, e.g. \"en\", \"el\"" },
	{ "pin", PG_KT_STR, PG_AT(CL, pin), .lo = 4, .hi = 12,
	  .hint = "4 to 12 digits, for the voice mailbox" },
	PG_KEY_END
};
const struct pg_keytab config__client_tab = { NULL, client_keys, NULL };

static const struct pg_key hours_keys[] = {
	{ "days", PG_KT_STR, PG_KF_REQUIRED, .hint = "e.g. \"Mon-Fri\"" },
	{ "from", PG_KT_STR, PG_KF_REQUIRED, .hint = "HH:MM" },
	{ "to", PG_KT_STR, PG_KF_REQUIRED, .hint = "HH:MM" },
	PG_KEY_END
};
const struct pg_keytab config__hours_tab = { "business hours", hours_keys, NULL };

static const struct pg_key field_keys[] = {
	{ .name = "id", .type = PG_KT_STR, .flags = PG_KF_REQUIRED },
	{ "label", PG_KT_STR, PG_AT(struct pg_field, label) },
	{ "required", PG_KT_BOOL, PG_AT(struct pg_field, required) },
	PG_KEY_END
};
const struct pg_keytab config__field_tab = { "field", field_keys, NULL };

static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

/* ---- small parsers ---- */

bool config__new_id(struct pg_conf *cx, const config_setting_t *g, const char *id,
		    const char *what, int taken_line)
{
	if (!id)
		return false;
	if (!config__id_ok(id, true)) {
		pg_conf_bad(cx, config_setting_get_member(g, "id"), 0, what, id, NULL,
			    "lower-case letters, digits, '-' and '_'");
		return false;
	}
	if (taken_line) {
		pg_conf_duplicate(cx, g, 0, what, id, NULL, taken_line);
		return false;
	}
	return true;
}

bool config__id_ok(const char *s, bool underscore)
{
	size_t n = strlen(s);
	if (n == 0 || n > CONFIG_ID_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      (underscore && *s == '_')))
			return false;
	return true;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

/* A three-letter day name at *s (after blanks) -> 0..6, advancing *s. */
static int read_day(const char **s)
{
	const char *p = skip_blanks(*s);
	for (int i = 0; i < 3; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
			return -1;
	if ((p[3] >= 'a' && p[3] <= 'z') || (p[3] >= 'A' && p[3] <= 'Z'))
		return -1;
	for (int d = 0; d < 7; d++) {
		if (strncasecmp(p, day_names[d], 3) == 0) {
			*s = p + 3;
			return d;
		}
	}
	return -1;
}

/* "Mon-Fri", "Sat", "Mon,Wed,Fri", "Fri-Mon" -> weekday bit mask. */
static bool parse_days(const char *s, unsigned *mask)
{
	*mask = 0;
	for (;;) {
		int a = read_day(&s), b = a;
		if (a < 0)
			return false;
		s = skip_blanks(s);
		if (*s == '-') {
			s++;
			if ((b = read_day(&s)) < 0)
				return false;
			s = skip_blanks(s);
		}
		for (int d = a;; d = (d + 1) % 7) {
			*mask |= 1u << d;
			if (d == b)
				break;
		}
		if (*s == '\0')
			return true;
		if (*s++ != ',')
			return false;
	}
}

/* "HH:MM" -> minutes after midnight (24:00 -> 1440), or -1. */
static int parse_hhmm(const char *s)
{
	if (strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static bool parse_date(const char *s, struct pg_date *d)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	d->year = atoi(s);
	d->month = atoi(s + 5);
	d->day = atoi(s + 8);
	if (d->year < 1970 || d->month < 1 || d->month > 12 || d->day < 1)
		return false;
	return d->day <= pg_days_in_month(d->year, d->month);
}

/* Makes s's index anew for cap entries and enters every value (false:
 * no index, seen_add walks the values instead). */
static bool seen_reindex(struct seen_set *s, size_t cap)
{
	ENTRY e, *hit;

	if (s->indexed)
		hdestroy_r(&s->index);
	memset(&s->index, 0, sizeof s->index);
	s->indexed = hcreate_r(cap * 2, &s->index) != 0;
	for (size_t i = 0; s->indexed && i < s->n; i++) {
		e = (ENTRY){ (char *)s->v[i].value, (void *)(intptr_t)i };
		if (!hsearch_r(e, ENTER, &hit, &s->index)) {
			hdestroy_r(&s->index);
			s->indexed = false;
		}
	}
	return s->indexed;
}

void config__seen_free(struct seen_set *s)
{
	if (s->indexed)
		hdestroy_r(&s->index);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* Records value as seen in cl; returns the earlier entry if there was one.
 * By the index: a file with many numbers is checked in linear time. */
static const struct seen *seen_add(struct loader *ld, struct seen_set *s, const char *value,
				   const struct pg_client *cl, int line)
{
	ENTRY e = { (char *)value, NULL }, *hit = NULL;

	if (s->indexed) {
		if (hsearch_r(e, FIND, &hit, &s->index) && hit)
			return &s->v[(intptr_t)hit->data];
	} else {
		for (size_t i = 0; i < s->n; i++)
			if (strcmp(s->v[i].value, value) == 0)
				return &s->v[i];
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct seen *v = realloc(s->v, cap * sizeof *v);
		if (!v) {
			ld->nomem = true;
			return NULL;
		}
		s->v = v;
		s->cap = cap;
		seen_reindex(s, cap);
	}
	s->v[s->n] = (struct seen){ value, cl->id, cl->file, line };
	e.data = (void *)(intptr_t)s->n++;
	if (s->indexed && !hsearch_r(e, ENTER, &hit, &s->index)) {
		hdestroy_r(&s->index);
		s->indexed = false;
	}
	return NULL;
}

/* The string entries of array a (others are reported by the engine). */
static const char *string_entry(const config_setting_t *a, int i)
{
	const config_setting_t *e = config_setting_get_elem(a, (unsigned)i);
	const char *v = e && config_setting_type(e) == CONFIG_TYPE_STRING ?
		config_setting_get_string(e) : NULL;

	return v && pg_utf8_valid(v, strlen(v)) && !pg_has_ctl(v, false) ? v : NULL;
}

/* ---- sections ---- */

static void load_dnis(struct loader *ld, struct pg_client *cl, const config_setting_t *arr)
{
	struct pg_conf *cx = ld->cx;
	int n = config_setting_length(arr);

	if (n == 0 || !(cl->dnis = calloc((size_t)n, sizeof *cl->dnis))) {
		cx->nomem = cx->nomem || n > 0;
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *v = string_entry(arr, i);
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		if (!v)
			continue;
		size_t len = strlen(v);
		if (len == 0 || len > 20 || strspn(v, "0123456789") != len) {
			pg_conf_bad(cx, e, 0, "dnis", v, NULL, "the dialled number as digits only");
			continue;
		}
		char *copy = strdup(v);
		if (!copy) {
			cx->nomem = true;
			continue;
		}
		int line = (int)config_setting_source_line(e);
		const struct seen *old = seen_add(ld, &ld->dnis, copy, cl, line);
		if (old && old->file == cl->file)
			pg_conf_duplicate(cx, e, 0, "dnis", v, NULL, old->line);
		else if (old)
			pg_conf_error(cx, e, 0, "dnis \"%s\" is already used by client %s (%s:%d)",
				      v, old->client ? old->client : "?", old->file, old->line);
		if (old)
			free(copy);
		else
			cl->dnis[cl->n_dnis++] = copy;
	}
}

static void load_hours(struct loader *ld, struct pg_client *cl, const config_setting_t *list)
{
	struct pg_conf *cx = ld->cx;
	const struct pg_keytab *t = &config__hours_tab;
	int n = config_setting_length(list);

	if (n == 0 || !(cl->hours = calloc((size_t)n, sizeof *cl->hours))) {
		cx->nomem = cx->nomem || n > 0;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, list, i);
		if (!g)
			continue;
		int before = cx->errors;
		pg_conf_apply(cx, g, t, NULL);
		struct pg_hours h = { .line = (int)config_setting_source_line(g) };
		const char *days = pg_conf_string(g, t, 0, "days");
		if (days && !parse_days(days, &h.days))
			pg_conf_bad(cx, config_setting_get_member(g, "days"), 0, "days", days,
				    NULL, "\"Mon-Fri\", \"Sat\" or \"Mon,Wed,Fri\"");
		const char *names[2] = { "from", "to" }, *v[2];
		int mins[2] = { -1, -1 };
		for (int k = 0; k < 2; k++) {
			if (!(v[k] = pg_conf_string(g, t, 0, names[k])))
				continue;
			mins[k] = parse_hhmm(v[k]);
			if (mins[k] < 0 || (k == 0 && mins[k] == 1440)) {
				pg_conf_bad(cx, config_setting_get_member(g, names[k]), 0, "time",
					    v[k], NULL, "HH:MM");
				mins[k] = -1;
			}
		}
		if (cx->errors != before)
			continue;
		if (mins[0] >= mins[1]) {
			pg_conf_error(cx, g, 0, "business hours from %s is not before to %s "
				      "(split a range that crosses midnight in two)", v[0], v[1]);
			continue;
		}
		h.from_min = mins[0];
		h.to_min = mins[1];
		cl->hours[cl->n_hours++] = h;
	}
}

static void load_holidays(struct loader *ld, struct pg_client *cl, const config_setting_t *arr)
{
	struct pg_conf *cx = ld->cx;
	int n = config_setting_length(arr);

	if (n == 0 || !(cl->holidays = calloc((size_t)n, sizeof *cl->holidays))) {
		cx->nomem = cx->nomem || n > 0;
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *v = string_entry(arr, i);
		struct pg_date d;
		if (!v)
			continue;
		if (!parse_date(v, &d))
			pg_conf_bad(cx, config_setting_get_elem(arr, (unsigned)i), 0, "holiday",
				    v, NULL, "a calendar date YYYY-MM-DD");
		else
			cl->holidays[cl->n_holidays++] = d;
	}
}

static void load_fields(struct loader *ld, struct pg_client *cl, const config_setting_t *list)
{
	struct pg_conf *cx = ld->cx;
	const struct pg_keytab *t = &config__field_tab;
	int n = config_setting_length(list);

	if (n == 0 || !(cl->fields = calloc((size_t)n, sizeof *cl->fields))) {
		cx->nomem = cx->nomem || n > 0;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, list, i);
		if (!g)
			continue;
		struct pg_field *f = &cl->fields[cl->n_fields];
		pg_conf_apply(cx, g, t, f);
		const char *id = pg_conf_string(g, t, 0, "id");
		const struct pg_field *old = id ? pg_client_field(cl, id) : NULL;
		if (!config__new_id(cx, g, id, "field id", old ? old->line : 0)) {
			pg_conf_release(t, f);
			continue;
		}
		f->line = (int)config_setting_source_line(g);
		if (!(f->id = strdup(id)) || (!f->label && !(f->label = strdup(id))))
			cx->nomem = true;
		cl->n_fields++;
	}
}

/* templates = { email_subject = "..."; }: the key is the template name
 * with its first '.' written as '_'; the keys are the default templates,
 * declared for the engine at load time. */
static void load_overrides(struct loader *ld, struct pg_client *cl, const config_setting_t *g)
{
	struct pg_conf *cx = ld->cx;
	const struct pg_config *c = ld->c;
	int n = config_setting_length(g);
	struct pg_key *keys;
	char (*names)[128];

	if (n == 0)
		return;
	cl->templates = calloc((size_t)n, sizeof *cl->templates);
	keys = calloc(c->n_templates + 1, sizeof *keys);
	names = calloc(c->n_templates + 1, sizeof *names);
	if (!cl->templates || !keys || !names) {
		cx->nomem = true;
		goto out;
	}
	for (size_t i = 0; i < c->n_templates; i++) {
		pg_strlcpy(names[i], c->templates[i].name, sizeof names[i]);
		char *dot = strchr(names[i], '.');
		if (dot)
			*dot = '_';
		keys[i] = (struct pg_key){ names[i], PG_KT_TEXT, .lo = 0, .hi = TEMPLATE_MAX };
	}
	const struct pg_keytab t = { "templates", keys, NULL };
	pg_conf_apply(cx, g, &t, NULL);
	for (int i = 0; i < n; i++) {                /* in file order */
		const char *key = config_setting_name(config_setting_get_elem(g, (unsigned)i));
		const config_setting_t *m = pg_conf_member(g, &t, 0, key);
		size_t k = 0;
		while (k < c->n_templates && strcmp(names[k], key) != 0)
			k++;
		if (!m || k == c->n_templates)
			continue;
		struct pg_template *tp = &cl->templates[cl->n_templates++];
		tp->name = strdup(c->templates[k].name);
		tp->text = strdup(config_setting_get_string(m));
		tp->file = strdup(cl->file);
		tp->line = (int)config_setting_source_line(m);
		if (!tp->name || !tp->text || !tp->file)
			cx->nomem = true;
	}
out:
	free(keys);
	free(names);
}

/* id, name and time zone: who the client is. */
static void load_identity(struct loader *ld, struct pg_client *cl,
			  const config_setting_t *root)
{
	struct pg_conf *cx = ld->cx;
	const struct pg_keytab *t = &config__client_tab;
	const config_setting_t *m;
	const char *v;

	if ((v = pg_conf_string(root, t, 0, "id"))) {
		m = config_setting_get_member(root, "id");
		if (!(cl->id = strdup(v)))
			cx->nomem = true;
		if (!config__id_ok(v, false)) {
			pg_conf_bad(cx, m, 0, "client id", v, NULL,
				    "lower-case letters, digits and '-'");
		} else if (cl->id) {
			const struct seen *old = seen_add(ld, &ld->client_ids, cl->id, cl,
							  (int)config_setting_source_line(m));
			if (old)
				pg_conf_duplicate(cx, m, 0, "client id", cl->id, old->file,
						  old->line);
		}
	}
	if ((v = pg_conf_string(root, t, 0, "timezone"))) {
		if (!(cl->tzid = strdup(v)))
			cx->nomem = true;
		else if (!(cl->tz = pg_tz_get(cl->tzid)))
			pg_conf_error(cx, config_setting_get_member(root, "timezone"), 0,
				      "unknown time zone \"%s\"", cl->tzid);
	}
}

/* language: a language tag ("en", "el", "pt-br"); pin: digits. */
static void load_speech(struct pg_conf *cx, struct pg_client *cl,
			const config_setting_t *root)
{
	const char *v = cl->language;

	if (v && (strspn(v, "abcdefghijklmnopqrstuvwxyz") < 2 ||
		  v[strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-")] != '\0'))
		pg_conf_bad(cx, config_setting_get_member(root, "language"), 0, "language",
			    v, NULL, "a language tag such as \"en\", \"el\", \"pt-br\"");
	if ((v = cl->pin) && v[strspn(v, "0123456789")] != '\0')
		pg_conf_bad(cx, config_setting_get_member(root, "pin"), 0, "pin", v, NULL,
			    "4 to 12 digits");
}

void config__load_client(struct loader *ld, struct pg_client *cl)
{
	const struct pg_keytab *t = &config__client_tab;
	struct pg_conf cx;
	const config_setting_t *root, *m;
	config_t cf;

	pg_conf_init(&cx, cl->file, ld->d);
	ld->cx = &cx;
	config_init(&cf);
	if (cx.nomem || !pg_conf_read(&cx, &cf))
		goto out;
	root = config_root_setting(&cf);
	pg_conf_apply(&cx, root, t, cl);
	load_identity(ld, cl, root);
	load_speech(&cx, cl, root);
	if ((m = pg_conf_member(root, t, 0, "dnis")))
		load_dnis(ld, cl, m);
	if ((m = pg_conf_member(root, t, 0, "business_hours")))
		load_hours(ld, cl, m);
	if ((m = pg_conf_member(root, t, 0, "holidays")))
		load_holidays(ld, cl, m);
	if ((m = pg_conf_member(root, t, 0, "fields")))
		load_fields(ld, cl, m);
	if ((m = pg_conf_member(root, t, 0, "contacts")))
		config__load_contacts(ld, cl, m);
	config__load_content(ld, cl, root);
	if ((m = pg_conf_member(root, t, 0, "oncall")) && cl->tz) {
		int before = cx.errors;
		pg_err e = pg_oncall_parse(&cx, m, cl, &cl->rotations, &cl->n_rotations);
		if (e == PG_ERR_NOMEM)
			cx.nomem = true;
		else if (e != PG_OK && cx.errors == before)
			pg_conf_error(&cx, m, 0, "the on-call schedules are invalid");
	}
	if ((m = pg_conf_member(root, t, 0, "escalation")))
		config__load_escalations(ld, cl, m);
	config__load_rules(ld, cl, root);
	if ((m = pg_conf_member(root, t, 0, "summary")))
		config__load_summary(ld, cl, m);
	if ((m = pg_conf_member(root, t, 0, "templates")))
		load_overrides(ld, cl, m);
out:
	config_destroy(&cf);
	ld->errors += cx.errors;
	ld->nomem = ld->nomem || cx.nomem;
	pg_conf_done(&cx);
	ld->cx = NULL;
}

void config__free_client(struct pg_client *cl)
{
	pg_conf_release(&config__client_tab, cl);
	free(cl->id);
	free(cl->file);
	free(cl->tzid);
	for (size_t i = 0; i < cl->n_dnis; i++)
		free(cl->dnis[i]);
	free(cl->dnis);
	free(cl->hours);
	free(cl->holidays);
	free(cl->callback);
	for (size_t i = 0; i < cl->n_fields; i++) {
		free(cl->fields[i].id);
		pg_conf_release(&config__field_tab, &cl->fields[i]);
	}
	free(cl->fields);
	for (size_t i = 0; i < cl->n_contacts; i++) {
		struct pg_contact *ct = &cl->contacts[i];
		for (size_t j = 0; j < ct->n_devices; j++) {
			free(ct->devices[j].to);
			free(ct->devices[j].gateway);
			for (size_t o = 0; o < ct->devices[j].n_opts; o++) {
				free(ct->devices[j].opts[o].key);
				free(ct->devices[j].opts[o].value);
			}
			free(ct->devices[j].opts);
		}
		free(ct->devices);
		free(ct->id);
		free(ct->name);
	}
	free(cl->contacts);
	for (size_t i = 0; i < cl->n_rules; i++) {
		free(cl->rules[i].contacts);
		free(cl->rules[i].oncall);
	}
	free(cl->rules);
	config__free_escalations(cl);
	free(cl->summary.target.contacts);
	free(cl->summary.target.oncall);
	pg_oncall_free(cl->rotations, cl->n_rotations);
	for (size_t i = 0; i < cl->n_templates; i++) {
		free(cl->templates[i].name);
		free(cl->templates[i].text);
		free(cl->templates[i].file);
	}
	free(cl->templates);
}
