/*
 * config_rules.c - the routing rules of a client file, and whom a rule or
 * an escalation step notifies on which channels ("notify", "channels").
 * Read after the contacts, the on-call rotations and the escalation
 * policies, which rules name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "pagegate/channel.h"
#include "pagegate/oncall.h"
#include "pagegate/util.h"

#define NAMES_MAX 64      /* contact ids, rotation ids ... offered as hints */

static const char *const hours_names[] = { "any", "business", "after", NULL };
static const char *const hold_names[] = { "business", NULL };

static const struct pg_key when_keys[] = {
	{ .name = "kind", .type = PG_KT_STR },
	{ .name = "urgency", .type = PG_KT_STR },
	{ "hours", PG_KT_ENUM, PG_AT(struct pg_rule, hours), .lo = PG_HOURS_ANY,
	  .hi = PG_HOURS_AFTER, .def = PG_HOURS_ANY, .names = hours_names },
	PG_KEY_END
};
static const struct pg_keytab when_tab = { "when", when_keys, NULL };

static const struct pg_key rule_keys[] = {
	{ "when", PG_KT_GROUP, .sub = &when_tab },
	{ .name = "notify", .type = PG_KT_STR_OR_STRS },
	{ .name = "channels", .type = PG_KT_STRS },
	{ "hold", PG_KT_ENUM, .lo = 0, .hi = 0, .names = hold_names },
	{ "continue", PG_KT_BOOL, PG_AT(struct pg_rule, cont) },
	{ .name = "escalate", .type = PG_KT_STR },
	PG_KEY_END
};
const struct pg_keytab config__rule_tab = { "rule", rule_keys, NULL };

/* "oncall:ID" or "oncall:ID+N" of a notify into r->oncall. */
static void rule_oncall(struct loader *ld, struct pg_client *cl, struct pg_rule *r,
			const config_setting_t *at, const char *v)
{
	struct pg_conf *cx = ld->cx;
	const char *names[NAMES_MAX + 1];
	char id[72];
	const char *plus = strchr(v, '+');
	size_t n = plus ? (size_t)(plus - v) : strlen(v), k;
	int offset = 0;

	if (plus) {
		char *end;
		long o = strtol(plus + 1, &end, 10);
		if (plus[1] < '1' || plus[1] > '9' || *end != '\0' || o < 1 || o > 9) {
			pg_conf_bad(cx, at, 0, "notify", v - 7, NULL,
				    "oncall:ID or oncall:ID+N with N from 1 to 9");
			return;
		}
		offset = (int)o;
	}
	if (n == 0 || n >= sizeof id) {
		pg_conf_bad(cx, at, 0, "notify", v - 7, NULL, "oncall: and a rotation id");
		return;
	}
	memcpy(id, v, n);
	id[n] = '\0';
	const struct pg_rotation *rot = pg_oncall_find(cl->rotations, cl->n_rotations, id);
	if (!rot) {
		for (k = 0; k < cl->n_rotations && k < NAMES_MAX; k++)
			names[k] = cl->rotations[k].id;
		names[k] = NULL;
		pg_conf_unknown(cx, at, 0, "rotation", id, "in notify", names);
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

/* One "contact:ID" or "oncall:..." of a notify into r->contacts or
 * r->oncall. */
static void rule_notify(struct loader *ld, struct pg_client *cl, struct pg_rule *r,
			const config_setting_t *at, const char *v)
{
	const char *names[NAMES_MAX + 1];
	size_t k;

	if (strncmp(v, "oncall:", 7) == 0) {
		rule_oncall(ld, cl, r, at, v + 7);
		return;
	}
	if (strncmp(v, "contact:", 8) != 0) {
		pg_conf_bad(ld->cx, at, 0, "notify", v, NULL,
			    "\"contact:ID\" or \"oncall:ID\"");
		return;
	}
	const char *id = v + 8;
	for (k = 0; k < cl->n_contacts; k++) {
		if (strcmp(cl->contacts[k].id, id) != 0)
			continue;
		for (size_t j = 0; j < r->n_contacts; j++)
			if (r->contacts[j] == k)
				return;
		r->contacts[r->n_contacts++] = k;
		return;
	}
	for (k = 0; k < cl->n_contacts && k < NAMES_MAX; k++)
		names[k] = cl->contacts[k].id;
	names[k] = NULL;
	pg_conf_unknown(ld->cx, at, 0, "contact", id, "in notify", names);
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
			  const config_setting_t *arr)
{
	struct pg_conf *cx = ld->cx;
	const char *names[PG_CH__COUNT + 1];
	int n = config_setting_length(arr);

	config__channel_names(names);
	if (n == 0)
		pg_conf_error(cx, arr, 0, "\"channels\" is empty: leave it out to use every "
			      "device");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		const char *v = config_setting_get_string(e);   /* checked by the engine */
		int ch = config__channel(v);
		if (ch < 0) {
			pg_conf_unknown(cx, e, 0, "channel", v, "in channels", names);
			continue;
		}
		if (ch == PG_CH_MAILBOX) {
			pg_conf_error(cx, e, 0, "a rule cannot select \"mailbox\": contacts with "
				      "checkin = true get every message in their mailbox");
			continue;
		}
		r->channels |= 1u << ch;
		bool any = false;
		for (size_t k = 0; k < r->n_contacts && !any; k++)
			any = contact_has(&cl->contacts[r->contacts[k]], (enum pg_channel_kind)ch);
		for (size_t k = 0; k < r->n_oncall && !any; k++) {
			const struct pg_rotation *rot = &cl->rotations[r->oncall[k].rotation];
			for (size_t j = 0; j < rot->n_members && !any; j++)
				any = contact_has(&cl->contacts[rot->members[j]],
						  (enum pg_channel_kind)ch);
			for (size_t j = 0; j < rot->n_overrides && !any; j++)
				any = contact_has(&cl->contacts[rot->overrides[j].contact],
						  (enum pg_channel_kind)ch);
		}
		if (!any && (r->n_contacts > 0 || r->n_oncall > 0))
			pg_conf_error(cx, e, 0, "rule sends by %s, but none of its contacts has "
				      "a %s device", v, v);
	}
}

void config__rule_targets(struct loader *ld, struct pg_client *cl,
			  struct pg_rule *r, const config_setting_t *g,
			  bool required, const char *what)
{
	struct pg_conf *cx = ld->cx;
	const config_setting_t *nt = config_setting_get_member(g, "notify");
	bool one = nt && config_setting_type(nt) == CONFIG_TYPE_STRING;
	bool list = nt && (config_setting_type(nt) == CONFIG_TYPE_ARRAY ||
			   config_setting_type(nt) == CONFIG_TYPE_LIST);
	int n = one ? 1 : list ? config_setting_length(nt) : 0;

	if (!nt && required)
		pg_conf_missing(cx, g, 0, "notify", what,
				"whom to send to, e.g. \"contact:office\"");
	else if (list && n == 0)
		pg_conf_error(cx, nt, 0, "%s notifies nobody", what);
	if (n > 0 && (!(r->contacts = calloc((size_t)n, sizeof *r->contacts)) ||
		      !(r->oncall = calloc((size_t)n, sizeof *r->oncall)))) {
		cx->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *at = one ? nt : config_setting_get_elem(nt, (unsigned)i);
		const char *v = config_setting_type(at) == CONFIG_TYPE_STRING ?
			config_setting_get_string(at) : NULL;
		if (v && (!one || (pg_utf8_valid(v, strlen(v)) && !pg_has_ctl(v, false))))
			rule_notify(ld, cl, r, at, v);
		else if (one)
			pg_conf_bad(cx, at, 0, "notify", NULL, NULL, "text without control "
				    "characters");
		else
			pg_conf_string_at(cx, nt, i);    /* reports it */
	}
	const config_setting_t *chs = config_setting_get_member(g, "channels");
	bool chs_ok = chs && (config_setting_type(chs) == CONFIG_TYPE_ARRAY ||
			      config_setting_type(chs) == CONFIG_TYPE_LIST);
	for (int i = 0; chs_ok && i < config_setting_length(chs); i++) {
		const config_setting_t *e = config_setting_get_elem(chs, (unsigned)i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING ?
			config_setting_get_string(e) : NULL;
		chs_ok = v && pg_utf8_valid(v, strlen(v)) && !pg_has_ctl(v, false);
	}
	if (chs_ok)                  /* else reported by the engine */
		rule_channels(ld, cl, r, chs);
}

/* kind and urgency of a rule's "when": the message vocabulary's names. */
static void rule_when(struct loader *ld, struct pg_rule *r, const config_setting_t *w)
{
	const char *names[PG_KIND__COUNT + PG_URG__COUNT + 2];
	const char *v;
	enum pg_kind k;
	enum pg_urgency u;

	if ((v = pg_conf_string(w, &when_tab, 0, "kind"))) {
		for (int i = 0; i < PG_KIND__COUNT; i++)
			names[i] = pg_kind_name((enum pg_kind)i);
		names[PG_KIND__COUNT] = NULL;
		if (pg_kind_parse(v, &k) == 0)
			r->kind = (int)k;
		else
			pg_conf_enum(ld->cx, config_setting_get_member(w, "kind"), 0, "kind", v,
				     NULL, names);
	}
	if ((v = pg_conf_string(w, &when_tab, 0, "urgency"))) {
		for (int i = 0; i < PG_URG__COUNT; i++)
			names[i] = pg_urgency_name((enum pg_urgency)i);
		names[PG_URG__COUNT] = NULL;
		if (pg_urgency_parse(v, &u) == 0)
			r->urgency = (int)u;
		else
			pg_conf_enum(ld->cx, config_setting_get_member(w, "urgency"), 0,
				     "urgency", v, NULL, names);
	}
}

static void load_rule(struct loader *ld, struct pg_client *cl, struct pg_rule *r,
		      const config_setting_t *g, bool has_hours)
{
	const struct pg_keytab *t = &config__rule_tab;
	struct pg_conf *cx = ld->cx;
	const char *names[NAMES_MAX + 1];
	const config_setting_t *m;
	const char *v;

	r->line = (int)config_setting_source_line(g);
	r->kind = -1;
	r->urgency = -1;
	pg_conf_apply(cx, g, t, r);
	if ((m = pg_conf_member(g, t, 0, "when")))
		rule_when(ld, r, m);
	if ((v = pg_conf_string(g, t, 0, "escalate"))) {
		const struct pg_escalation *p = pg_client_escalation(cl, v);
		size_t k, n = 0;
		if (p) {
			r->escalate = (size_t)(p - cl->escalations) + 1;
		} else {
			for (k = 0; k < cl->n_escalations && n < NAMES_MAX; k++)
				if (cl->escalations[k].id)
					names[n++] = cl->escalations[k].id;
			names[n] = NULL;
			pg_conf_unknown(cx, config_setting_get_member(g, "escalate"), 0,
					"escalation policy", v, "in escalate", names);
		}
	}
	config__rule_targets(ld, cl, r, g, !pg_conf_has(g, "escalate"), "rule");
	if ((m = pg_conf_member(g, t, 0, "hold"))) {
		if (!has_hours)
			pg_conf_error(cx, m, 0, "hold = \"business\", but the client has no "
				      "business_hours");
		else
			r->hold_business = true;
	}
}

void config__load_rules(struct loader *ld, struct pg_client *cl,
			const config_setting_t *root)
{
	struct pg_conf *cx = ld->cx;
	const config_setting_t *list = pg_conf_member(root, &config__client_tab, 0, "rules");
	int n = list ? config_setting_length(list) : 0;

	if (n == 0) {
		if (list || !pg_conf_has(root, "rules"))
			pg_conf_error(cx, list, 0, "client has no rules: no message would be "
				      "sent to anyone");
		return;
	}
	if (!(cl->rules = calloc((size_t)n, sizeof *cl->rules))) {
		cx->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, list, i);
		if (g)
			load_rule(ld, cl, &cl->rules[cl->n_rules++], g,
				  pg_conf_has(root, "business_hours"));
	}
}
