/*
 * config_client.c - client preference files (etc/clients/NAME.conf):
 * identity, numbers, time zone, business hours, holidays, fields,
 * contacts and their devices, routing rules and template overrides; and
 * the checks of every template against the clients that use it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_priv.h"
#include "pagegate/channel.h"
#include "pagegate/mime.h"
#include "pagegate/oncall.h"
#include "pagegate/template.h"
#include "pagegate/util.h"

#define ID_MAX 64
#define TEMPLATE_MAX (64 * 1024)

static const struct key client_keys[] = {
	{ "id", K_STR }, { "name", K_STR }, { "dnis", K_STRS }, { "timezone", K_STR },
	{ "business_hours", K_LIST }, { "holidays", K_STRS }, { "instructions", K_STR },
	{ "fields", K_LIST }, { "contacts", K_LIST }, { "rules", K_LIST },
	{ "templates", K_GROUP }, { "oncall", K_LIST }, { "escalation", K_LIST },
	{ "content", K_GROUP }, { "callback", K_STR }, { NULL, 0 }
};
static const struct key hours_keys[] = {
	{ "days", K_STR }, { "from", K_STR }, { "to", K_STR }, { NULL, 0 }
};
static const struct key field_keys[] = {
	{ "id", K_STR }, { "label", K_STR }, { "required", K_BOOL }, { NULL, 0 }
};
static const struct key contact_keys[] = {
	{ "id", K_STR }, { "name", K_STR }, { "devices", K_LIST }, { "checkin", K_BOOL },
	{ NULL, 0 }
};
static const struct key device_keys[] = {
	{ "channel", K_STR }, { "to", K_STR }, { "topic", K_STR }, { "gateway", K_STR },
	{ "pin", K_STR }, { "content", K_STR }, { NULL, 0 }
};

/* Every device setting not in device_keys becomes an option (text) for
 * the channel driver's device_check; only single values are allowed. */
static void load_device_opts(struct loader *ld, struct pg_device *dv, config_setting_t *g)
{
	int n = config_setting_length(g);
	if (!(dv->opts = config__calloc(ld, (size_t)n, sizeof *dv->opts)))
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool known = false;
		char buf[64];
		const char *v = NULL;
		for (size_t k = 0; device_keys[k].name; k++)
			known = known || (name && strcmp(device_keys[k].name, name) == 0);
		if (!name || known)
			continue;
		switch (config_setting_type(m)) {
		case CONFIG_TYPE_STRING: v = config__str(ld, m, false); break;
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			snprintf(buf, sizeof buf, "%lld", config_setting_get_int64(m));
			v = buf;
			break;
		case CONFIG_TYPE_FLOAT:
			snprintf(buf, sizeof buf, "%g", config_setting_get_float(m));
			v = buf;
			break;
		case CONFIG_TYPE_BOOL:
			v = config_setting_get_bool(m) ? "true" : "false";
			break;
		default:
			config__diag(ld, m, "device setting \"%s\" must be a single value", name);
			continue;
		}
		if (!v)
			continue;
		struct pg_kv *kv = &dv->opts[dv->n_opts++];
		kv->key = config__strdup(ld, name);
		kv->value = config__strdup(ld, v);
	}
}
static const struct key rule_keys[] = {
	{ "when", K_GROUP }, { "notify", K_STR_OR_STRS }, { "channels", K_STRS },
	{ "hold", K_STR }, { "continue", K_BOOL }, { "escalate", K_STR }, { NULL, 0 }
};
static const struct key when_keys[] = {
	{ "kind", K_STR }, { "urgency", K_STR }, { "hours", K_STR }, { NULL, 0 }
};

static const char *const channel_names[] = { "email", "fax", "sms", "pager", "mqtt", NULL };
static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

/* ---- small parsers ---- */

/* True for 1..ID_MAX characters from [a-z0-9-] (plus '_' when
 * underscore). */
static bool id_ok(const char *s, bool underscore)
{
	size_t n = strlen(s);
	if (n == 0 || n > ID_MAX)
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

/* ---- list helpers ---- */

/* Element i of a list that must hold groups; NULL (reported) otherwise. */
static config_setting_t *group_at(struct loader *ld, config_setting_t *list, int i)
{
	config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
	if (g && config_setting_is_group(g))
		return g;
	config__diag(ld, g, "each entry of \"%s\" must be a group { ... }",
		     config_setting_name(list));
	return NULL;
}

/* Element i of an array that must hold strings; NULL (reported) otherwise. */
static const char *string_at(struct loader *ld, config_setting_t *arr, int i)
{
	config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
	if (e && config_setting_type(e) == CONFIG_TYPE_STRING)
		return config__str(ld, e, false);
	config__diag(ld, e ? e : arr, "each entry of \"%s\" must be a string in quotes",
		     config_setting_name(arr) ? config_setting_name(arr) : "array");
	return NULL;
}

/* Records value as seen in cl; returns the earlier entry if there was one. */
static const struct seen *seen_add(struct loader *ld, struct seen_set *s, const char *value,
				   const struct pg_client *cl, int line)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].value, value) == 0)
			return &s->v[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct seen *v = realloc(s->v, cap * sizeof *v);
		if (!v) {
			ld->nomem = true;
			return NULL;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct seen){ value, cl->id, cl->file, line };
	return NULL;
}

static bool has(config_setting_t *g, const char *name)
{
	return config_setting_get_member(g, name) != NULL;
}

/* ---- sections ---- */

static void load_dnis(struct loader *ld, struct pg_client *cl, config_setting_t *arr)
{
	int n = config_setting_length(arr);
	if (!(cl->dnis = config__calloc(ld, (size_t)n, sizeof *cl->dnis)))
		return;
	for (int i = 0; i < n; i++) {
		const char *v = string_at(ld, arr, i);
		config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		if (!v)
			continue;
		size_t len = strlen(v);
		if (len == 0 || len > 20 || strspn(v, "0123456789") != len) {
			config__diag(ld, e, "bad dnis \"%s\": expected the dialled number as digits only", v);
			continue;
		}
		char *copy = config__strdup(ld, v);
		if (!copy)
			continue;
		int line = (int)config_setting_source_line(e);
		const struct seen *old = seen_add(ld, &ld->dnis, copy, cl, line);
		if (old && old->file == cl->file)
			config__diag(ld, e, "dnis \"%s\" is listed twice (first at line %d)", v, old->line);
		else if (old)
			config__diag(ld, e, "dnis \"%s\" is already used by client %s (%s:%d)", v,
				     old->client ? old->client : "?", old->file, old->line);
		if (old)
			free(copy);
		else
			cl->dnis[cl->n_dnis++] = copy;
	}
}

static void load_hours(struct loader *ld, struct pg_client *cl, config_setting_t *list)
{
	int n = config_setting_length(list);
	if (!(cl->hours = config__calloc(ld, (size_t)n, sizeof *cl->hours)))
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *g = group_at(ld, list, i);
		if (!g)
			continue;
		config__keys(ld, g, hours_keys, "business_hours");
		struct pg_hours h = { .line = (int)config_setting_source_line(g) };
		bool ok = true;
		config_setting_t *m = config__member(g, "days", K_STR);
		if (m && !parse_days(config_setting_get_string(m), &h.days)) {
			config__diag(ld, m, "bad days \"%s\": expected \"Mon-Fri\", \"Sat\" or \"Mon,Wed,Fri\"",
				     config_setting_get_string(m));
			ok = false;
		}
		const char *names[2] = { "from", "to" };
		int mins[2] = { -1, -1 };
		for (int k = 0; k < 2; k++) {
			m = config__member(g, names[k], K_STR);
			if (!m)
				continue;
			const char *s = config_setting_get_string(m);
			mins[k] = parse_hhmm(s);
			if (mins[k] < 0 || (k == 0 && mins[k] == 1440)) {
				config__diag(ld, m, "bad time \"%s\": expected HH:MM", s);
				mins[k] = -1;
				ok = false;
			}
		}
		for (int k = 0; k < 3; k++) {
			const char *key = k == 0 ? "days" : names[k - 1];
			if (!has(g, key)) {
				config__diag(ld, g, "business hours have no \"%s\"", key);
				ok = false;
			}
		}
		if (ok && mins[0] >= mins[1]) {
			config__diag(ld, g, "business hours from %s is not before to %s "
				     "(split a range that crosses midnight in two)",
				     config_setting_get_string(config_setting_get_member(g, "from")),
				     config_setting_get_string(config_setting_get_member(g, "to")));
			ok = false;
		}
		if (ok && mins[0] >= 0 && mins[1] >= 0) {
			h.from_min = mins[0];
			h.to_min = mins[1];
			cl->hours[cl->n_hours++] = h;
		}
	}
}

static void load_holidays(struct loader *ld, struct pg_client *cl, config_setting_t *arr)
{
	int n = config_setting_length(arr);
	if (!(cl->holidays = config__calloc(ld, (size_t)n, sizeof *cl->holidays)))
		return;
	for (int i = 0; i < n; i++) {
		const char *v = string_at(ld, arr, i);
		struct pg_date d;
		if (!v)
			continue;
		if (!parse_date(v, &d))
			config__diag(ld, config_setting_get_elem(arr, (unsigned)i),
				     "bad holiday \"%s\": expected a calendar date YYYY-MM-DD", v);
		else
			cl->holidays[cl->n_holidays++] = d;
	}
}

static void load_fields(struct loader *ld, struct pg_client *cl, config_setting_t *list)
{
	int n = config_setting_length(list);
	if (!(cl->fields = config__calloc(ld, (size_t)n, sizeof *cl->fields)))
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *g = group_at(ld, list, i);
		if (!g)
			continue;
		config__keys(ld, g, field_keys, "field");
		int line = (int)config_setting_source_line(g);
		char *id = config__dup(ld, g, "id", false);
		if (!id) {
			if (!has(g, "id"))
				config__diag(ld, g, "field has no \"id\"");
			continue;
		}
		if (!id_ok(id, true)) {
			config__diag(ld, config_setting_get_member(g, "id"),
				     "bad field id \"%s\": use lower-case letters, digits, '-' and '_'", id);
			free(id);
			continue;
		}
		const struct pg_field *old = pg_client_field(cl, id);
		if (old) {
			config__diag(ld, g, "duplicate field id \"%s\" (first at line %d)", id, old->line);
			free(id);
			continue;
		}
		struct pg_field *f = &cl->fields[cl->n_fields++];
		f->id = id;
		f->line = line;
		f->label = config__dup(ld, g, "label", false);
		if (!f->label)
			f->label = config__strdup(ld, id);
		config_setting_t *r = config__member(g, "required", K_BOOL);
		f->required = r && config_setting_get_bool(r);
	}
}

static void load_device(struct loader *ld, struct pg_device *dv, config_setting_t *g)
{
	const struct pg_config *c = ld->c;
	dv->line = (int)config_setting_source_line(g);
	load_device_opts(ld, dv, g);
	if (has(g, "to") && has(g, "topic"))
		config__diag(ld, config_setting_get_member(g, "topic"),
			     "set \"to\" or \"topic\", not both (they mean the same)");
	dv->to = config__dup(ld, g, has(g, "to") ? "to" : "topic", false);
	dv->gateway = config__dup(ld, g, "gateway", false);
	dv->pin = config__dup(ld, g, "pin", false);
	config_setting_t *m = config__member(g, "content", K_STR);
	if (m && pg_content_parse(config_setting_get_string(m), &dv->content) != 0)
		config__diag(ld, m, "bad content \"%s\": expected \"full\", \"summary\" or \"notify\"",
			     config_setting_get_string(m));
	m = config__member(g, "channel", K_STR);
	if (!m) {
		if (!has(g, "channel"))
			config__diag(ld, g, "device has no \"channel\" (email, fax, sms, pager or mqtt)");
		dv->channel = PG_CH__COUNT;
		return;
	}
	const char *name = config_setting_get_string(m);
	if (pg_channel_parse(name, &dv->channel) == 0 && dv->channel == PG_CH_MAILBOX) {
		config__diag(ld, m, "\"mailbox\" is not a device channel: set checkin = true; "
			     "on the contact to keep its messages for retrieval");
		dv->channel = PG_CH__COUNT;
		return;
	}
	if (pg_channel_parse(name, &dv->channel) != 0) {
		const char *hint = config__closest(name, channel_names);
		config__diag(ld, m, "unknown channel \"%s\"%s%s%s", name,
			     hint ? " (did you mean \"" : " (expected email, fax, sms, pager or mqtt",
			     hint ? hint : "", hint ? "\"?)" : ")");
		dv->channel = PG_CH__COUNT;
		return;
	}
	const struct pg_channel *drv = pg_channel_for(dv->channel);
	if (!drv) {
		config__diag(ld, m, "channel \"%s\" is not available in this build", name);
		return;
	}
	if (!drv->device_check) {    /* nobody understands options */
		config__keys(ld, g, device_keys, "device");
	} else {
		for (size_t k = 0; device_keys[k].name; k++) {
			config_setting_t *km = config_setting_get_member(g, device_keys[k].name);
			if (km && config_setting_type(km) != CONFIG_TYPE_STRING)
				config__diag(ld, km, "\"%s\" must be a string", device_keys[k].name);
		}
	}
	if (dv->pin && dv->channel != PG_CH_PAGER)
		config__diag(ld, config_setting_get_member(g, "pin"), "\"pin\" is only for pager devices");
	if (!has(g, "to") && !has(g, "topic") && !(dv->channel == PG_CH_PAGER && has(g, "pin")))
		config__diag(ld, g, "%s device has no \"to\"", name);
	if (drv->device_check && !ld->chan_bad[dv->channel]) {
		size_t before = ld->d->n;
		drv->device_check(c->chan_cfg[dv->channel], dv, ld->file, ld->d);
		ld->errors += (int)(ld->d->n - before);
	}
	if (dv->channel != PG_CH_EMAIL)
		return;
	if (dv->to && !pg_mime_addr_ok(dv->to))
		config__diag(ld, config_setting_get_member(g, "to"),
			     "bad email address \"%s\": expected local@domain", dv->to);
	if (dv->gateway && !pg_config_smtp(c, dv->gateway))
		config__diag(ld, config_setting_get_member(g, "gateway"),
			     "unknown smtp gateway \"%s\"", dv->gateway);
	else if (!dv->gateway && c->n_smtp == 0)
		config__diag(ld, m, "email device, but %s defines no smtp gateway", c->file);
}

static void load_contacts(struct loader *ld, struct pg_client *cl, config_setting_t *list)
{
	int n = config_setting_length(list);
	if (!(cl->contacts = config__calloc(ld, (size_t)n, sizeof *cl->contacts)))
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *g = group_at(ld, list, i);
		if (!g)
			continue;
		config__keys(ld, g, contact_keys, "contact");
		char *id = config__dup(ld, g, "id", false);
		int line = (int)config_setting_source_line(g);
		if (!id) {
			if (!has(g, "id"))
				config__diag(ld, g, "contact has no \"id\"");
			continue;
		}
		if (!id_ok(id, true)) {
			config__diag(ld, config_setting_get_member(g, "id"),
				     "bad contact id \"%s\": use lower-case letters, digits, '-' and '_'", id);
			free(id);
			continue;
		}
		const struct pg_contact *old = pg_client_contact(cl, id);
		if (old) {
			config__diag(ld, g, "duplicate contact id \"%s\" (first at line %d)", id, old->line);
			free(id);
			continue;
		}
		struct pg_contact *ct = &cl->contacts[cl->n_contacts++];
		ct->id = id;
		ct->line = line;
		ct->name = config__dup(ld, g, "name", false);
		if (!has(g, "name"))
			config__diag(ld, g, "contact \"%s\" has no \"name\"", id);
		config_setting_t *ck = config__member(g, "checkin", K_BOOL);
		ct->checkin = ck && config_setting_get_bool(ck);
		config_setting_t *devs = config__member(g, "devices", K_LIST);
		int nd = devs ? config_setting_length(devs) : 0;
		if (nd == 0 && (devs || !has(g, "devices"))) {
			if (!ct->checkin)    /* the mailbox is enough */
				config__diag(ld, devs ? devs : g, "contact \"%s\" has no devices", id);
			continue;
		}
		if (!(ct->devices = config__calloc(ld, (size_t)nd, sizeof *ct->devices)))
			continue;
		for (int j = 0; j < nd; j++) {
			config_setting_t *dg = group_at(ld, devs, j);
			if (dg)
				load_device(ld, &ct->devices[ct->n_devices++], dg);
		}
	}
}

/* "oncall:ID" or "oncall:ID+N" of a rule's notify into r->oncall. */
static void rule_oncall(struct loader *ld, struct pg_client *cl, struct pg_rule *r,
			config_setting_t *at, const char *v)
{
	char id[72];
	const char *plus = strchr(v, '+');
	size_t n = plus ? (size_t)(plus - v) : strlen(v);
	int offset = 0;

	if (plus) {
		char *end;
		long o = strtol(plus + 1, &end, 10);
		if (plus[1] < '1' || plus[1] > '9' || *end != '\0' || o < 1 || o > 9) {
			config__diag(ld, at, "bad notify \"oncall:%s\": expected oncall:ID or "
				     "oncall:ID+N with N from 1 to 9", v);
			return;
		}
		offset = (int)o;
	}
	if (n == 0 || n >= sizeof id) {
		config__diag(ld, at, "bad notify \"oncall:%s\": no rotation id", v);
		return;
	}
	memcpy(id, v, n);
	id[n] = '\0';
	const struct pg_rotation *rot = pg_oncall_find(cl->rotations, cl->n_rotations, id);
	if (!rot) {
		config__diag(ld, at, "rule notifies unknown rotation \"%s\"", id);
		return;
	}
	for (size_t j = 0; j < r->n_oncall; j++)
		if (r->oncall[j].rotation == (size_t)(rot - cl->rotations) &&
		    r->oncall[j].offset == offset)
			return;
	r->oncall[r->n_oncall].rotation = (size_t)(rot - cl->rotations);
	r->oncall[r->n_oncall].offset = offset;
	r->n_oncall++;
}

/* One "contact:ID" or "oncall:..." of a rule's notify into r->contacts or
 * r->oncall. */
static void rule_notify(struct loader *ld, struct pg_client *cl, struct pg_rule *r,
			config_setting_t *at, const char *v)
{
	if (strncmp(v, "oncall:", 7) == 0) {
		rule_oncall(ld, cl, r, at, v + 7);
		return;
	}
	if (strncmp(v, "contact:", 8) != 0) {
		config__diag(ld, at, "bad notify \"%s\": expected \"contact:ID\" or \"oncall:ID\"", v);
		return;
	}
	const char *id = v + 8;
	for (size_t k = 0; k < cl->n_contacts; k++) {
		if (strcmp(cl->contacts[k].id, id) != 0)
			continue;
		for (size_t j = 0; j < r->n_contacts; j++)
			if (r->contacts[j] == k)
				return;
		r->contacts[r->n_contacts++] = k;
		return;
	}
	config__diag(ld, at, "rule notifies unknown contact \"%s\"", id);
}

/* A checkin contact gets every message in its mailbox, whatever the
 * rule's channels say: it never makes a rule's channel pointless. */
static bool contact_has(const struct pg_contact *ct, enum pg_channel_kind ch)
{
	if (ct->checkin)
		return true;
	for (size_t j = 0; j < ct->n_devices; j++)
		if (ct->devices[j].channel == ch)
			return true;
	return false;
}

static void rule_channels(struct loader *ld, struct pg_client *cl, struct pg_rule *r,
			  config_setting_t *arr)
{
	int n = config_setting_length(arr);
	if (n == 0)
		config__diag(ld, arr, "\"channels\" is empty: leave it out to use every device");
	for (int i = 0; i < n; i++) {
		const char *v = string_at(ld, arr, i);
		config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		enum pg_channel_kind ch;
		if (!v)
			continue;
		if (pg_channel_parse(v, &ch) != 0) {
			const char *hint = config__closest(v, channel_names);
			config__diag(ld, e, "unknown channel \"%s\" in channels%s%s%s", v,
				     hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
			continue;
		}
		if (ch == PG_CH_MAILBOX) {
			config__diag(ld, e, "a rule cannot select \"mailbox\": contacts with "
				     "checkin = true get every message in their mailbox");
			continue;
		}
		r->channels |= 1u << ch;
		bool any = false;
		for (size_t k = 0; k < r->n_contacts && !any; k++)
			any = contact_has(&cl->contacts[r->contacts[k]], ch);
		for (size_t k = 0; k < r->n_oncall && !any; k++) {
			const struct pg_rotation *rot = &cl->rotations[r->oncall[k].rotation];
			for (size_t j = 0; j < rot->n_members && !any; j++)
				any = contact_has(&cl->contacts[rot->members[j]], ch);
			for (size_t j = 0; j < rot->n_overrides && !any; j++)
				any = contact_has(&cl->contacts[rot->overrides[j].contact], ch);
		}
		if (!any && (r->n_contacts > 0 || r->n_oncall > 0))
			config__diag(ld, e, "rule sends by %s, but none of its contacts has a %s device",
				     v, v);
	}
}

/* The "notify" and "channels" of group g (a rule or an escalation step)
 * into r; notify is required unless !required. */
void config__rule_targets(struct loader *ld, struct pg_client *cl,
			  struct pg_rule *r, config_setting_t *g, bool required,
			  const char *what)
{
	config_setting_t *nt = config__member(g, "notify", K_STR_OR_STRS);
	bool one = nt && config_setting_type(nt) == CONFIG_TYPE_STRING;
	int n = !nt ? 0 : one ? 1 : config_setting_length(nt);
	if (!has(g, "notify") && required)
		config__diag(ld, g, "%s has no \"notify\" (whom to send to, e.g. \"contact:office\")",
			     what);
	else if (nt && n == 0)
		config__diag(ld, nt, "%s notifies nobody", what);
	if (n > 0 && (!(r->contacts = config__calloc(ld, (size_t)n, sizeof *r->contacts)) ||
		      !(r->oncall = config__calloc(ld, (size_t)n, sizeof *r->oncall))))
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *at = one ? nt : config_setting_get_elem(nt, (unsigned)i);
		const char *v = one ? config__str(ld, nt, false) : string_at(ld, nt, i);
		if (v)
			rule_notify(ld, cl, r, at, v);
	}

	config_setting_t *chs = config__member(g, "channels", K_STRS);
	if (chs)
		rule_channels(ld, cl, r, chs);
}

static void load_rule(struct loader *ld, struct pg_client *cl, struct pg_rule *r,
		      config_setting_t *g, bool has_hours)
{
	config__keys(ld, g, rule_keys, "rule");
	r->line = (int)config_setting_source_line(g);
	r->kind = -1;
	r->urgency = -1;
	r->hours = PG_HOURS_ANY;
	config_setting_t *w = config__member(g, "when", K_GROUP);
	if (w) {
		config__keys(ld, w, when_keys, "when");
		config_setting_t *m;
		enum pg_kind k;
		enum pg_urgency u;
		if ((m = config__member(w, "kind", K_STR))) {
			if (pg_kind_parse(config_setting_get_string(m), &k) == 0)
				r->kind = (int)k;
			else
				config__diag(ld, m, "bad kind \"%s\": expected \"message\" or \"dispatch\"",
					     config_setting_get_string(m));
		}
		if ((m = config__member(w, "urgency", K_STR))) {
			if (pg_urgency_parse(config_setting_get_string(m), &u) == 0)
				r->urgency = (int)u;
			else
				config__diag(ld, m, "bad urgency \"%s\": expected \"routine\", \"urgent\" or \"emergency\"",
					     config_setting_get_string(m));
		}
		if ((m = config__member(w, "hours", K_STR))) {
			const char *s = config_setting_get_string(m);
			if (strcmp(s, "business") == 0)
				r->hours = PG_HOURS_BUSINESS;
			else if (strcmp(s, "after") == 0)
				r->hours = PG_HOURS_AFTER;
			else if (strcmp(s, "any") != 0)
				config__diag(ld, m, "bad hours \"%s\": expected \"business\", \"after\" or \"any\"", s);
		}
	}

	config_setting_t *m = config__member(g, "escalate", K_STR);
	if (m) {
		const struct pg_escalation *p =
			pg_client_escalation(cl, config_setting_get_string(m));
		if (p)
			r->escalate = (size_t)(p - cl->escalations) + 1;
		else
			config__diag(ld, m, "rule escalates by unknown policy \"%s\" "
				     "(declare it in \"escalation\")",
				     config_setting_get_string(m));
	}
	config__rule_targets(ld, cl, r, g, !has(g, "escalate"), "rule");
	m = config__member(g, "hold", K_STR);
	if (m) {
		if (strcmp(config_setting_get_string(m), "business") != 0)
			config__diag(ld, m, "bad hold \"%s\": the only value is \"business\"",
				     config_setting_get_string(m));
		else if (!has_hours)
			config__diag(ld, m, "hold = \"business\", but the client has no business_hours");
		else
			r->hold_business = true;
	}
	m = config__member(g, "continue", K_BOOL);
	r->cont = m && config_setting_get_bool(m);
}

static void load_rules(struct loader *ld, struct pg_client *cl, config_setting_t *root)
{
	config_setting_t *list = config__member(root, "rules", K_LIST);
	int n = list ? config_setting_length(list) : 0;
	if (n == 0) {
		if (list || !has(root, "rules"))
			config__diag(ld, list, "client has no rules: no message would be sent to anyone");
		return;
	}
	if (!(cl->rules = config__calloc(ld, (size_t)n, sizeof *cl->rules)))
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *g = group_at(ld, list, i);
		if (g)
			load_rule(ld, cl, &cl->rules[cl->n_rules++], g,
				  has(root, "business_hours"));
	}
}

/* templates = { email_subject = "..."; }: the key is the template name
 * with its first '.' written as '_'. */
static void load_overrides(struct loader *ld, struct pg_client *cl, config_setting_t *g)
{
	const struct pg_config *c = ld->c;
	int n = config_setting_length(g);
	if (!(cl->templates = config__calloc(ld, (size_t)n, sizeof *cl->templates)))
		return;
	const char **keys = config__calloc(ld, c->n_templates + 1, sizeof *keys);
	char (*keybuf)[128] = config__calloc(ld, c->n_templates + 1, sizeof *keybuf);
	for (size_t i = 0; keys && keybuf && i < c->n_templates; i++) {
		pg_strlcpy(keybuf[i], c->templates[i].name, sizeof keybuf[i]);
		char *dot = strchr(keybuf[i], '.');
		if (dot)
			*dot = '_';
		keys[i] = keybuf[i];
	}
	for (int i = 0; keys && keybuf && i < n; i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(m);
		size_t k = 0;
		while (k < c->n_templates && strcmp(keys[k], key) != 0)
			k++;
		if (k == c->n_templates) {
			const char *hint = config__closest(key, keys);
			config__diag(ld, m, "template override \"%s\" matches no default template%s%s%s",
				     key, hint ? " (did you mean \"" : "", hint ? hint : "",
				     hint ? "\"?)" : "");
			continue;
		}
		if (config_setting_type(m) != CONFIG_TYPE_STRING) {
			config__diag(ld, m, "template \"%s\" must be a string in quotes", key);
			continue;
		}
		const char *text = config__str(ld, m, true);
		if (text && strlen(text) > TEMPLATE_MAX)
			config__diag(ld, m, "template \"%s\" is larger than 64 KiB", key);
		else if (text) {
			struct pg_template *t = &cl->templates[cl->n_templates++];
			t->name = config__strdup(ld, c->templates[k].name);
			t->text = config__strdup(ld, text);
			t->file = config__strdup(ld, cl->file);
			t->line = (int)config_setting_source_line(m);
		}
	}
	free(keys);
	free(keybuf);
}

void config__load_client(struct loader *ld, struct pg_client *cl)
{
	const char *saved = ld->file;
	config_t cf;
	ld->file = cl->file;
	config_init(&cf);
	if (!config__read(ld, &cf, cl->file))
		goto out;
	config_setting_t *root = config_root_setting(&cf);
	config__keys(ld, root, client_keys, NULL);

	config_setting_t *m = config__member(root, "id", K_STR);
	cl->id = config__dup(ld, root, "id", false);
	if (!has(root, "id")) {
		config__diag(ld, NULL, "missing \"id\" (the client's short name, e.g. \"acme-hvac\")");
	} else if (cl->id && !id_ok(cl->id, false)) {
		config__diag(ld, m, "bad client id \"%s\": use lower-case letters, digits and '-'", cl->id);
	} else if (cl->id) {
		const struct seen *old = seen_add(ld, &ld->client_ids, cl->id, cl,
						  (int)config_setting_source_line(m));
		if (old)
			config__diag(ld, m, "duplicate client id \"%s\" (first in %s:%d)",
				     cl->id, old->file, old->line);
	}
	cl->name = config__dup(ld, root, "name", false);
	if (!has(root, "name"))
		config__diag(ld, NULL, "missing \"name\" (the client's name for people)");
	if ((m = config__member(root, "timezone", K_STR))) {
		cl->tzid = config__strdup(ld, config_setting_get_string(m));
		if (cl->tzid && !(cl->tz = pg_tz_get(cl->tzid)))
			config__diag(ld, m, "unknown time zone \"%s\"", cl->tzid);
	} else if (!has(root, "timezone")) {
		config__diag(ld, NULL, "missing \"timezone\" (e.g. \"America/Chicago\")");
	}
	if ((m = config__member(root, "dnis", K_STRS)))
		load_dnis(ld, cl, m);
	if ((m = config__member(root, "business_hours", K_LIST)))
		load_hours(ld, cl, m);
	if ((m = config__member(root, "holidays", K_STRS)))
		load_holidays(ld, cl, m);
	cl->instructions = config__dup(ld, root, "instructions", true);
	if ((m = config__member(root, "fields", K_LIST)))
		load_fields(ld, cl, m);
	if ((m = config__member(root, "contacts", K_LIST)))
		load_contacts(ld, cl, m);
	size_t before_content = ld->d->n;   /* content levels, callback (content.h) */
	if (pg_content_config(root, cl, ld->c->callback, ld->file, ld->d) == PG_ERR_NOMEM)
		ld->nomem = true;
	ld->errors += (int)(ld->d->n - before_content);
	if ((m = config__member(root, "oncall", K_LIST)) && cl->tz) {
		size_t before = ld->d->n;
		pg_err e = pg_oncall_parse(m, cl, ld->file, ld->d, &cl->rotations,
					   &cl->n_rotations);
		if (e == PG_ERR_NOMEM)
			ld->nomem = true;
		ld->errors += (int)(ld->d->n - before);
		if (e != PG_OK && e != PG_ERR_NOMEM && ld->d->n == before)
			config__diag(ld, m, "the on-call schedules are invalid");
	}
	if ((m = config__member(root, "escalation", K_LIST)))
		config__load_escalations(ld, cl, m);
	load_rules(ld, cl, root);
	if ((m = config__member(root, "templates", K_GROUP)))
		load_overrides(ld, cl, m);
out:
	config_destroy(&cf);
	ld->file = saved;
}

void config__free_client(struct pg_client *cl)
{
	free(cl->id);
	free(cl->name);
	free(cl->file);
	free(cl->tzid);
	for (size_t i = 0; i < cl->n_dnis; i++)
		free(cl->dnis[i]);
	free(cl->dnis);
	free(cl->hours);
	free(cl->holidays);
	free(cl->instructions);
	free(cl->callback);
	for (size_t i = 0; i < cl->n_fields; i++) {
		free(cl->fields[i].id);
		free(cl->fields[i].label);
	}
	free(cl->fields);
	for (size_t i = 0; i < cl->n_contacts; i++) {
		struct pg_contact *ct = &cl->contacts[i];
		for (size_t j = 0; j < ct->n_devices; j++) {
			free(ct->devices[j].to);
			free(ct->devices[j].gateway);
			free(ct->devices[j].pin);
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
	pg_oncall_free(cl->rotations, cl->n_rotations);
	for (size_t i = 0; i < cl->n_templates; i++) {
		free(cl->templates[i].name);
		free(cl->templates[i].text);
		free(cl->templates[i].file);
	}
	free(cl->templates);
}

/* ---- templates against clients ---- */

static void template_diag(struct loader *ld, const char *file, int line, const char *msg)
{
	pg_diag_add(ld->d, file, line, "%s", msg);
	ld->errors++;
}

/* Each channel used by a device needs its driver's body template, email
 * also "email.subject" (at content "notify": notify.txt, notify.subject);
 * each missing one is reported once, at its first use. */
static void check_needed(struct loader *ld, bool reported[PG_CH__COUNT][4])
{
	const struct pg_config *c = ld->c;
	for (size_t i = 0; i < c->n_clients; i++) {
		const struct pg_client *cl = &c->clients[i];
		for (size_t k = 0; k < cl->n_contacts; k++) {
			const struct pg_contact *ct = &cl->contacts[k];
			for (size_t j = 0; j < ct->n_devices; j++) {
				enum pg_channel_kind ch = ct->devices[j].channel;
				const struct pg_channel *drv;
				if ((unsigned)ch >= PG_CH__COUNT || !(drv = pg_channel_for(ch)))
					continue;   /* already reported */
				enum pg_content lv = pg_content_level(cl, &ct->devices[j], ch);
				bool notify = lv == PG_CONTENT_NOTIFY;
				const char *names[2];
				pg_content_templates(lv, drv->subject_template, drv->body_template,
						     drv->body_escape == PG_ESC_NONE, &names[1], &names[0]);
				for (int w = 0; w < (ch == PG_CH_EMAIL ? 2 : 1); w++) {
					const char *name = names[w];
					int slot = w + (notify ? 2 : 0);
					if (!name || reported[ch][slot] || pg_config_template(c, NULL, name))
						continue;
					reported[ch][slot] = true;
					char msg[300];
					snprintf(msg, sizeof msg,
						 "%s devices%s need the template \"%s\", which is not in %.200s",
						 pg_channel_name(ch), notify ? " with content \"notify\"" : "",
						 name, c->templates_dir);
					template_diag(ld, cl->file, ct->devices[j].line, msg);
				}
			}
		}
	}
}

void config__check_templates(struct loader *ld)
{
	const struct pg_config *c = ld->c;
	char err[200];
	int line;
	bool reported[PG_CH__COUNT][4] = { { false } };

	/* Defaults on their own: syntax and unknown variables. */
	bool *bad = config__calloc(ld, c->n_templates, sizeof *bad);
	if (!bad)
		return;
	for (size_t i = 0; i < c->n_templates; i++) {
		const struct pg_template *t = &c->templates[i];
		if (pg_template_check_kind(t->text, pg_template_kind(t->name), NULL, &line,
					   err, sizeof err) != PG_OK) {
			template_diag(ld, t->file, t->line + line - 1, err);
			bad[i] = true;
		}
	}
	for (size_t i = 0; i < c->n_clients; i++) {
		const struct pg_client *cl = &c->clients[i];
		if (!cl->id)
			continue;
		/* The client's overrides, with its own fields. */
		for (size_t k = 0; k < cl->n_templates; k++) {
			const struct pg_template *t = &cl->templates[k];
			if (pg_template_check_kind(t->text, pg_template_kind(t->name), cl, &line,
						   err, sizeof err) != PG_OK) {
				char msg[400];
				snprintf(msg, sizeof msg, "template %.150s: %s", t->name, err);
				char *dot = strchr(msg + 9, '.');
				if (dot)
					*dot = '_';
				template_diag(ld, t->file, t->line + line - 1, msg);
			}
		}
		/* Defaults the client does not override, against its fields. */
		for (size_t k = 0; k < c->n_templates; k++) {
			const struct pg_template *t = &c->templates[k];
			if (bad[k] || pg_config_template(c, cl, t->name) != t)
				continue;
			if (pg_template_check_kind(t->text, pg_template_kind(t->name), cl, &line,
						   err, sizeof err) == PG_OK)
				continue;
			char msg[400];
			if (strstr(err, cl->id))
				snprintf(msg, sizeof msg, "%s", err);
			else
				snprintf(msg, sizeof msg, "for client %s: %s", cl->id, err);
			template_diag(ld, t->file, t->line + line - 1, msg);
		}
	}
	free(bad);
	check_needed(ld, reported);
}
