/*
 * config_oncall.c - the "oncall" list of a client file (oncall.h
 * pg_oncall_parse): rotations of contacts with a handoff time and period,
 * and dated overrides, read with the engine (config_keys.h) and checked
 * against the client's contacts and time zone.  Who is on duty is
 * computed by src/oncall.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_priv.h"
#include "pagegate/oncall.h"
#include "pagegate/tz.h"

#define PERIOD_MAX 366
#define OVERRIDE_MAX_DAYS 366
#define NAMES_MAX 64

static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static const struct pg_key rotation_keys[] = {
	{ "id", PG_KT_STR, PG_KF_REQUIRED,
	  .hint = "the name rules use: notify = \"oncall:ID\"" },
	{ "members", PG_KT_STRS, PG_KF_REQUIRED,
	  .hint = "the contact ids on duty in turn, e.g. members = [ \"jane\", \"raj\" ]" },
	{ "rotation", PG_KT_STR, PG_KF_REQUIRED,
	  .hint = "\"daily\", \"weekly\" or \"every N days\"" },
	{ "handoff", PG_KT_STR, PG_KF_REQUIRED,
	  .hint = "the local time shifts change: \"Mon 08:00\" for a weekly rotation, "
		  "\"08:00\" otherwise" },
	{ "start", PG_KT_STR, PG_KF_REQUIRED,
	  .hint = "the date of the first member's first shift, e.g. \"2026-01-05\"; it "
		  "begins at the first handoff on or after that date" },
	{ .name = "overrides", .type = PG_KT_LIST },
	PG_KEY_END
};
const struct pg_keytab config__rotation_tab = { "on-call rotation", rotation_keys, NULL };

static const struct pg_key override_keys[] = {
	{ .name = "member", .type = PG_KT_STR, .flags = PG_KF_REQUIRED },
	{ "from", PG_KT_STR, PG_KF_REQUIRED, .hint = "\"YYYY-MM-DD HH:MM\"" },
	{ "to", PG_KT_STR, PG_KF_REQUIRED, .hint = "\"YYYY-MM-DD HH:MM\"" },
	PG_KEY_END
};
const struct pg_keytab config__override_tab = { "override", override_keys, NULL };

static int contact_index(const struct pg_client *cl, const char *id)
{
	for (size_t i = 0; i < cl->n_contacts; i++)
		if (cl->contacts[i].id && strcmp(cl->contacts[i].id, id) == 0)
			return (int)i;
	return -1;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "HH:MM" (00:00..23:59) -> minutes, or -1. */
static int parse_hhmm(const char *s)
{
	if (strlen(s) != 5 || s[2] != ':' || !digits(s, 2) || !digits(s + 3, 2))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	return h > 23 || m > 59 ? -1 : h * 60 + m;
}

/* "YYYY-MM-DD" (years 1970..9998) at the start of s; needs exactly 10
 * characters there. */
static bool parse_date(const char *s, struct pg_date *d)
{
	if (s[4] != '-' || s[7] != '-' || !digits(s, 4) || !digits(s + 5, 2) ||
	    !digits(s + 8, 2))
		return false;
	d->year = atoi(s);
	d->month = (s[5] - '0') * 10 + (s[6] - '0');
	d->day = (s[8] - '0') * 10 + (s[9] - '0');
	return d->year >= 1970 && d->year <= 9998 && d->month >= 1 && d->month <= 12 &&
	       d->day >= 1 && d->day <= pg_days_in_month(d->year, d->month);
}

/* "daily" | "weekly" | "every N days" (N 1..366; "every 1 day") -> days;
 * *weekly tells the second. */
static int parse_period(const char *s, bool *weekly)
{
	*weekly = false;
	if (strcmp(s, "daily") == 0)
		return 1;
	if (strcmp(s, "weekly") == 0) {
		*weekly = true;
		return 7;
	}
	if (strncmp(s, "every ", 6) != 0)
		return -1;
	s += 6;
	size_t nd = strspn(s, "0123456789");
	if (nd == 0 || nd > 3 || s[0] == '0')
		return -1;
	int n = atoi(s);
	const char *unit = s + nd;
	if (n < 1 || n > PERIOD_MAX ||
	    !(strcmp(unit, " days") == 0 || (n == 1 && strcmp(unit, " day") == 0)))
		return -1;
	return n;
}

/* "Mon 08:00" -> weekday 0..6 and minutes; false if malformed. */
static bool parse_weekly_handoff(const char *s, int *wday, int *min)
{
	if (strlen(s) != 9 || s[3] != ' ')
		return false;
	for (int d = 0; d < 7; d++) {
		if (strncasecmp(s, day_names[d], 3) == 0) {
			*wday = d;
			*min = parse_hhmm(s + 4);
			return *min >= 0;
		}
	}
	return false;
}

/* "YYYY-MM-DD HH:MM" local -> UTC; *wall gets the wall time as if UTC
 * (for lengths in calendar terms). */
static bool parse_local(const struct pg_client *cl, const char *s, int64_t *utc,
			int64_t *wall)
{
	struct pg_date d;
	int min;
	if (strlen(s) != 16 || s[10] != ' ' || !parse_date(s, &d) ||
	    (min = parse_hhmm(s + 11)) < 0)
		return false;
	*utc = pg_tz_utc(cl->tz, d.year, d.month, d.day, min / 60, min % 60, 0);
	*wall = pg_days_from_civil(d.year, d.month, d.day) * 86400 + min * 60;
	return true;
}

/* A member or override contact id: its index, or -1 after reporting it. */
static int member_of(struct pg_conf *cx, const struct pg_client *cl,
		     const config_setting_t *at, const char *id, const char *context)
{
	const char *names[NAMES_MAX + 1];
	size_t k;
	int c = contact_index(cl, id);

	if (c >= 0)
		return c;
	for (k = 0; k < cl->n_contacts && k < NAMES_MAX; k++)
		names[k] = cl->contacts[k].id;
	names[k] = NULL;
	pg_conf_unknown(cx, at, 0, "contact", id, context, names);
	return -1;
}

static void parse_members(struct pg_conf *cx, const struct pg_client *cl,
			  struct pg_rotation *r, const config_setting_t *g)
{
	const config_setting_t *arr = pg_conf_member(g, &config__rotation_tab, 0, "members");
	char ctx[100];
	int n;

	if (!arr)
		return;                      /* missing or bad: reported */
	if ((n = config_setting_length(arr)) == 0) {
		pg_conf_error(cx, arr, 0, "rotation \"%s\" has no members: list at least one "
			      "contact id", r->id);
		return;
	}
	if (!(r->members = calloc((size_t)n, sizeof *r->members))) {
		cx->nomem = true;
		return;
	}
	snprintf(ctx, sizeof ctx, "in the members of rotation \"%.64s\"", r->id);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		const char *id = config_setting_get_string(e);
		int c = member_of(cx, cl, e, id, ctx);
		bool dup = false;
		if (c < 0)
			continue;
		for (size_t j = 0; j < r->n_members; j++)
			dup = dup || r->members[j] == (size_t)c;
		if (dup)
			pg_conf_duplicate(cx, e, 0, "member", id, NULL,
					  (int)config_setting_source_line(e));
		else
			r->members[r->n_members++] = (size_t)c;
	}
}

static void parse_override(struct pg_conf *cx, const struct pg_client *cl,
			   struct pg_rotation *r, const config_setting_t *g)
{
	const struct pg_keytab *t = &config__override_tab;
	struct pg_oncall_override ov = { .line = (int)config_setting_source_line(g) };
	int before = cx->errors;
	char ctx[100];

	pg_conf_apply(cx, g, t, NULL);
	const char *who = pg_conf_string(g, t, 0, "member");
	if (who) {
		snprintf(ctx, sizeof ctx, "in an override of rotation \"%.64s\"", r->id);
		int c = member_of(cx, cl, config_setting_get_member(g, "member"), who, ctx);
		ov.contact = (size_t)(c < 0 ? 0 : c);
	}
	const char *names[2] = { "from", "to" }, *v[2];
	int64_t utc[2] = { 0, 0 }, wall[2] = { 0, 0 };
	for (int k = 0; k < 2; k++)
		if ((v[k] = pg_conf_string(g, t, 0, names[k])) &&
		    !parse_local(cl, v[k], &utc[k], &wall[k]))
			pg_conf_bad(cx, config_setting_get_member(g, names[k]), 0, names[k],
				    v[k], NULL, "a local date and time \"YYYY-MM-DD HH:MM\"");
	if (cx->errors != before)
		return;
	if (utc[1] <= utc[0]) {
		pg_conf_error(cx, config_setting_get_member(g, "to"), 0, "override ends (to "
			      "\"%s\") before or when it starts (from \"%s\")", v[1], v[0]);
		return;
	}
	if (wall[1] - wall[0] > (int64_t)OVERRIDE_MAX_DAYS * 86400) {
		pg_conf_error(cx, g, 0, "override of rotation \"%s\" is longer than %d days",
			      r->id, OVERRIDE_MAX_DAYS);
		return;
	}
	ov.from_s = utc[0];
	ov.to_s = utc[1];
	r->overrides[r->n_overrides++] = ov;
}

/* rotation, handoff and start of rotation r (named name). */
static void parse_schedule(struct pg_conf *cx, struct pg_rotation *r,
			   const config_setting_t *g)
{
	const struct pg_keytab *t = &config__rotation_tab;
	bool weekly = false;
	const char *rot = pg_conf_string(g, t, 0, "rotation");
	const char *h = pg_conf_string(g, t, 0, "handoff");
	const char *st = pg_conf_string(g, t, 0, "start");

	if (rot && (r->period_days = parse_period(rot, &weekly)) < 0)
		pg_conf_bad(cx, config_setting_get_member(g, "rotation"), 0, "rotation", rot,
			    NULL, "\"daily\", \"weekly\" or \"every N days\" (N 1..%d)",
			    PERIOD_MAX);
	if (h && r->period_days > 0 && weekly &&
	    !parse_weekly_handoff(h, &r->handoff_wday, &r->handoff_min))
		pg_conf_bad(cx, config_setting_get_member(g, "handoff"), 0, "handoff", h,
			    "for a weekly rotation", "a weekday and a time, e.g. \"Mon 08:00\"");
	else if (h && r->period_days > 0 && !weekly && (r->handoff_min = parse_hhmm(h)) < 0)
		pg_conf_bad(cx, config_setting_get_member(g, "handoff"), 0, "handoff", h, NULL,
			    "a time \"HH:MM\", e.g. \"08:00\" (only weekly rotations name a "
			    "weekday)");
	if (st && (strlen(st) != 10 || !parse_date(st, &r->start)))
		pg_conf_bad(cx, config_setting_get_member(g, "start"), 0, "start", st, NULL,
			    "a date \"YYYY-MM-DD\"");
}

static void parse_rotation(struct pg_conf *cx, const struct pg_client *cl,
			   struct pg_rotation *r, const config_setting_t *g,
			   const struct pg_rotation *done, size_t n_done)
{
	const struct pg_keytab *t = &config__rotation_tab;

	r->line = (int)config_setting_source_line(g);
	r->handoff_wday = -1;
	r->handoff_min = -1;
	pg_conf_apply(cx, g, t, NULL);

	const char *id = pg_conf_string(g, t, 0, "id");
	if (id && !config__id_ok(id, false)) {
		pg_conf_bad(cx, config_setting_get_member(g, "id"), 0, "rotation id", id, NULL,
			    "1-%d characters from a-z, 0-9 and -", CONFIG_ID_MAX);
	} else if (id) {
		const struct pg_rotation *old = pg_oncall_find(done, n_done, id);
		if (old)
			pg_conf_duplicate(cx, config_setting_get_member(g, "id"), 0, "rotation",
					  id, NULL, old->line);
	}
	if (!(r->id = strdup(id ? id : "?"))) {
		cx->nomem = true;
		return;
	}
	parse_members(cx, cl, r, g);
	parse_schedule(cx, r, g);

	const config_setting_t *ovs = pg_conf_member(g, t, 0, "overrides");
	int n = ovs ? config_setting_length(ovs) : 0;
	if (n > 0 && !(r->overrides = calloc((size_t)n, sizeof *r->overrides))) {
		cx->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = pg_conf_group_at(cx, ovs, i);
		if (e)
			parse_override(cx, cl, r, e);
	}
}

pg_err pg_oncall_parse(struct pg_conf *cx, const config_setting_t *setting,
		       const struct pg_client *cl, struct pg_rotation **out, size_t *n)
{
	static const struct pg_key key = { .name = "oncall", .type = PG_KT_LIST };
	int before = cx->errors;

	*out = NULL;
	*n = 0;
	if (!setting)
		return PG_OK;
	if (!cl->tz) {
		pg_conf_error(cx, setting, 0, "on-call rotations need the client's \"timezone\"");
		return PG_ERR_CONFIG;
	}
	if (config_setting_parent(setting) &&
	    !pg_conf_section(cx, config_setting_parent(setting), &key))
		return PG_ERR_CONFIG;
	int len = config_setting_length(setting);
	struct pg_rotation *r = calloc(len > 0 ? (size_t)len : 1, sizeof *r);
	if (!r)
		return PG_ERR_NOMEM;
	size_t count = 0;
	for (int i = 0; i < len && !cx->nomem; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, setting, i);
		if (g) {
			parse_rotation(cx, cl, &r[count], g, r, count);
			count++;
		}
	}
	if (cx->nomem || cx->errors != before) {
		pg_oncall_free(r, count);
		return cx->nomem ? PG_ERR_NOMEM : PG_ERR_CONFIG;
	}
	*out = r;
	*n = count;
	return PG_OK;
}
