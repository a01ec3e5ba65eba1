/*
 * oncall.c - on-call rotations of a client (oncall.h): the strict parser of
 * the client file's "oncall" list, and who is on duty at an instant.
 *
 * How a shift is found (pg_oncall_shift_at / pg_oncall_shift):
 *
 * Shifts begin at the handoffs, which are the occurrences of an RRULE in
 * the client's local wall time: FREQ=DAILY, FREQ=DAILY;INTERVAL=N or
 * FREQ=WEEKLY;BYDAY=MO, with DTSTART = the start date at the handoff time.
 * libical (icalrecur_iterator) expands the rule.  Because the rule runs on
 * wall time, a DST change does not move the handoff: "Mon 08:00" stays
 * 08:00 local, i.e. 14:00Z in CST and 13:00Z in CDT.  Each local occurrence
 * is converted to UTC with pg_tz_utc (the project's single rule for DST
 * edges: a handoff inside a spring-forward gap happens at the end of the
 * gap, one inside a repeated hour at its first occurrence).
 *
 * Iterating from DTSTART up to a far-future instant would cost one step per
 * shift, so the index of the shift is computed from calendar days instead:
 * every shift starts on a local date d0 + k * period_days (d0 = the first
 * handoff's date, found by libical), so k = floor((local date of the
 * instant - d0) / period_days), counting calendar days with
 * pg_days_from_civil (DST-safe: it counts dates, not seconds).  libical
 * then produces the exact local start of shift k and k + 1 from an
 * iterator whose DTSTART is shift k's date (an occurrence of the same rule)
 * and the estimate is corrected by at most a step each way for instants
 * near the handoff time of day.  The cost is constant for any date.
 */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pagegate/oncall.h"
#include "pagegate/tz.h"

#define ROT_ID_MAX 64
#define PERIOD_MAX 366
#define OVERRIDE_MAX_DAYS 366
#define AT_MAX_S INT64_C(253402300799)   /* 9999-12-31 23:59:59Z */

static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const ical_days[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };

/* ---- the rule and its occurrences ---- */

/* The rotation's RRULE text. */
static void rule_text(const struct pg_rotation *r, char *buf, size_t size)
{
	if (r->handoff_wday >= 0)
		snprintf(buf, size, "FREQ=WEEKLY;BYDAY=%s", ical_days[r->handoff_wday]);
	else
		snprintf(buf, size, "FREQ=DAILY;INTERVAL=%d", r->period_days);
}

/* The first n (<= 2) occurrences of r's rule from DTSTART = local date
 * (y, m, d) at the handoff time, as local wall times (floating). */
static pg_err occurrences(const struct pg_rotation *r, int y, int m, int d,
			  struct icaltimetype *occ, int n)
{
	char text[64];
	rule_text(r, text, sizeof text);
	struct icalrecurrencetype rule = icalrecurrencetype_from_string(text);
	if (rule.freq == ICAL_NO_RECURRENCE)
		return PG_ERR_INVAL;
	struct icaltimetype dt = icaltime_null_time();
	dt.year = y;
	dt.month = m;
	dt.day = d;
	dt.hour = r->handoff_min / 60;
	dt.minute = r->handoff_min % 60;
	icalrecur_iterator *it = icalrecur_iterator_new(rule, dt);
	if (!it)
		return PG_ERR_NOMEM;
	pg_err err = PG_OK;
	for (int i = 0; i < n && !err; i++) {
		occ[i] = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(occ[i]))
			err = PG_ERR_INVAL;
	}
	icalrecur_iterator_free(it);
	return err;
}

static int64_t local_days(const struct icaltimetype *t)
{
	return pg_days_from_civil(t->year, t->month, t->day);
}

static int64_t to_utc(const struct pg_client *cl, const struct icaltimetype *t)
{
	return pg_tz_utc(cl->tz, t->year, t->month, t->day, t->hour, t->minute, 0);
}

/* Local date (days since 1970-01-01) of the first handoff: the first
 * occurrence of the rule on/after the start date. */
static pg_err first_handoff_days(const struct pg_rotation *r, int64_t *d0)
{
	struct icaltimetype occ;
	pg_err err = occurrences(r, r->start.year, r->start.month, r->start.day, &occ, 1);
	if (!err)
		*d0 = local_days(&occ);
	return err;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

pg_err pg_oncall_shift(const struct pg_client *cl, const struct pg_rotation *r,
		       int64_t k, int64_t *start_s, int64_t *end_s)
{
	if (!cl || !cl->tz || !r || r->period_days < 1 || k < 0 ||
	    k > (AT_MAX_S / 86400) / r->period_days)
		return PG_ERR_INVAL;
	int64_t d0;
	pg_err err = first_handoff_days(r, &d0);
	if (err)
		return err;
	int y, m, d;
	pg_civil_from_days(d0 + k * r->period_days, &y, &m, &d);
	struct icaltimetype occ[2];
	if ((err = occurrences(r, y, m, d, occ, 2)))
		return err;
	/* DTSTART is shift k's own handoff, so it is the first occurrence. */
	if (local_days(&occ[0]) != d0 + k * r->period_days)
		return PG_ERR_INVAL;
	*start_s = to_utc(cl, &occ[0]);
	*end_s = to_utc(cl, &occ[1]);
	return PG_OK;
}

pg_err pg_oncall_shift_at(const struct pg_client *cl, const struct pg_rotation *r,
			  int64_t at_s, int64_t *k_out)
{
	if (!cl || !cl->tz || !r || r->period_days < 1 || at_s < 0 || at_s > AT_MAX_S)
		return PG_ERR_INVAL;
	int64_t d0;
	pg_err err = first_handoff_days(r, &d0);
	if (err)
		return err;
	struct pg_localtime lt;
	pg_tz_local(cl->tz, at_s, &lt);
	int64_t k = floor_div(pg_days_from_civil(lt.year, lt.month, lt.day) - d0,
			      r->period_days);
	if (k < 0)
		k = 0;
	int64_t s, e;
	if ((err = pg_oncall_shift(cl, r, k, &s, &e)))
		return err;
	/* The estimate is off by at most one shift (before the handoff time
	 * on a handoff date); the loops are bounded for safety. */
	for (int i = 0; i < 4 && at_s < s && k > 0; i++) {
		k--;
		if ((err = pg_oncall_shift(cl, r, k, &s, &e)))
			return err;
	}
	if (at_s < s)
		return PG_ERR_NOTFOUND;
	for (int i = 0; i < 4 && at_s >= e; i++) {
		k++;
		if ((err = pg_oncall_shift(cl, r, k, &s, &e)))
			return err;
	}
	if (at_s < s || at_s >= e)
		return PG_ERR_INVAL;   /* cannot happen with a sane zone */
	*k_out = k;
	return PG_OK;
}

pg_err pg_oncall_who(const struct pg_client *cl, const struct pg_rotation *r,
		     int64_t at_s, int offset, size_t *contact,
		     int64_t *shift_start_s, int64_t *shift_end_s)
{
	if (!r || !contact || offset < 0 || r->n_members == 0)
		return PG_ERR_INVAL;
	int64_t k, s, e;
	pg_err err = pg_oncall_shift_at(cl, r, at_s, &k);
	if (!err)
		err = pg_oncall_shift(cl, r, k, &s, &e);
	if (err)
		return err;
	size_t n = r->n_members;
	size_t sched = (size_t)(k % (int64_t)n);

	const struct pg_oncall_override *ov = NULL;
	for (size_t i = 0; i < r->n_overrides; i++)
		if (r->overrides[i].from_s <= at_s && at_s < r->overrides[i].to_s)
			ov = &r->overrides[i];   /* the last listed wins */

	if (!ov) {
		*contact = r->members[(sched + (size_t)offset % n) % n];
	} else if (offset == 0) {
		*contact = ov->contact;
		s = ov->from_s;
		e = ov->to_s;
	} else {
		/* Duty order: the overriding contact, then the members after
		 * the scheduled one (ending with the scheduled one itself),
		 * without the overriding contact. */
		size_t len = 1;
		for (size_t j = 1; j <= n; j++)
			len += r->members[(sched + j) % n] != ov->contact;
		size_t want = (size_t)offset % len;
		*contact = ov->contact;
		for (size_t j = 1, pos = 1; j <= n && want > 0; j++) {
			size_t c = r->members[(sched + j) % n];
			if (c == ov->contact)
				continue;
			if (pos++ == want) {
				*contact = c;
				break;
			}
		}
		/* The answer holds while both the shift and the override do. */
		if (ov->from_s > s)
			s = ov->from_s;
		if (ov->to_s < e)
			e = ov->to_s;
	}
	if (shift_start_s)
		*shift_start_s = s;
	if (shift_end_s)
		*shift_end_s = e;
	return PG_OK;
}

const struct pg_rotation *pg_oncall_find(const struct pg_rotation *r, size_t n,
					 const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].id, id) == 0)
			return &r[i];
	return NULL;
}

void pg_oncall_free(struct pg_rotation *r, size_t n)
{
	if (!r)
		return;
	for (size_t i = 0; i < n; i++) {
		free(r[i].id);
		free(r[i].members);
		free(r[i].overrides);
	}
	free(r);
}

/* ---- parsing ---- */

struct parser {
	const struct pg_client *cl;
	const char *file;
	struct pg_diags *d;
	int errors;
	bool nomem;
};

__attribute__((format(printf, 3, 4)))
static void diag(struct parser *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[sizeof ((struct pg_diag *)0)->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char *f = s && config_setting_source_file(s) ?
		config_setting_source_file(s) : p->file;
	pg_diag_add(p->d, f, s ? (int)config_setting_source_line(s) : 0, "%s", msg);
	p->errors++;
}

enum vtype { V_STR, V_STRS, V_LIST };

struct okey {
	const char *name;
	enum vtype type;
};

static const struct okey rotation_keys[] = {
	{ "id", V_STR }, { "members", V_STRS }, { "rotation", V_STR },
	{ "handoff", V_STR }, { "start", V_STR }, { "overrides", V_LIST }, { NULL, 0 }
};
static const struct okey override_keys[] = {
	{ "member", V_STR }, { "from", V_STR }, { "to", V_STR }, { NULL, 0 }
};

static bool vtype_ok(const config_setting_t *s, enum vtype t)
{
	int ty = config_setting_type(s);
	switch (t) {
	case V_STR: return ty == CONFIG_TYPE_STRING;
	case V_STRS: return ty == CONFIG_TYPE_ARRAY || ty == CONFIG_TYPE_LIST;
	case V_LIST:
		return ty == CONFIG_TYPE_LIST ||
		       (ty == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0);
	}
	return false;
}

static const char *vtype_name(enum vtype t)
{
	switch (t) {
	case V_STR: return "a string in quotes";
	case V_STRS: return "an array of contact ids [ \"...\" ]";
	case V_LIST: return "a list ( { ... }, ... )";
	}
	return "?";
}

/* Reports unknown and mistyped keys of group g; where = "oncall" or "an
 * override".  Returns false if anything was wrong. */
static bool check_keys(struct parser *p, const config_setting_t *g,
		       const struct okey *keys, const char *where)
{
	char expected[128] = "";
	size_t used = 0;
	for (size_t k = 0; keys[k].name; k++) {
		int w = snprintf(expected + used, sizeof expected - used, "%s%s",
				 k ? ", " : "", keys[k].name);
		if (w > 0 && (size_t)w < sizeof expected - used)
			used += (size_t)w;
	}
	bool ok = true;
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		if (!name)
			continue;
		size_t k = 0;
		while (keys[k].name && strcmp(keys[k].name, name) != 0)
			k++;
		if (!keys[k].name) {
			diag(p, m, "unknown setting \"%s\" in %s (expected %s)", name, where,
			     expected);
			ok = false;
		} else if (!vtype_ok(m, keys[k].type)) {
			diag(p, m, "\"%s\" must be %s", name, vtype_name(keys[k].type));
			ok = false;
		}
	}
	return ok;
}

/* The member name of g if it is present and of the right type. */
static const config_setting_t *member(const config_setting_t *g, const char *name,
				      enum vtype t)
{
	const config_setting_t *m = config_setting_get_member(g, name);
	return m && vtype_ok(m, t) ? m : NULL;
}

static int contact_index(const struct pg_client *cl, const char *id)
{
	for (size_t i = 0; i < cl->n_contacts; i++)
		if (cl->contacts[i].id && strcmp(cl->contacts[i].id, id) == 0)
			return (int)i;
	return -1;
}

static bool rot_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ROT_ID_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
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

static const char *str_of(const config_setting_t *g, const char *name)
{
	const config_setting_t *m = member(g, name, V_STR);
	return m ? config_setting_get_string(m) : NULL;
}

static void parse_members(struct parser *p, struct pg_rotation *r, const config_setting_t *g)
{
	const config_setting_t *arr = member(g, "members", V_STRS);
	if (!arr) {
		if (!config_setting_get_member(g, "members"))
			diag(p, g, "rotation \"%s\" has no \"members\" (the contact ids on "
			     "duty in turn, e.g. members = [ \"jane\", \"raj\" ])", r->id);
		return;
	}
	int n = config_setting_length(arr);
	if (n == 0) {
		diag(p, arr, "rotation \"%s\" has no members: list at least one contact id",
		     r->id);
		return;
	}
	if (!(r->members = calloc((size_t)n, sizeof *r->members))) {
		p->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			diag(p, e, "each entry of \"members\" must be a contact id in quotes");
			continue;
		}
		const char *id = config_setting_get_string(e);
		int c = contact_index(p->cl, id);
		if (c < 0) {
			diag(p, e, "unknown contact \"%s\" in the members of rotation \"%s\"",
			     id, r->id);
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < r->n_members; j++)
			dup = dup || r->members[j] == (size_t)c;
		if (dup)
			diag(p, e, "contact \"%s\" is listed twice in the members of rotation \"%s\"",
			     id, r->id);
		else
			r->members[r->n_members++] = (size_t)c;
	}
}

static void parse_override(struct parser *p, struct pg_rotation *r, const config_setting_t *g)
{
	if (!check_keys(p, g, override_keys, "an override"))
		return;
	struct pg_oncall_override ov = { .line = (int)config_setting_source_line(g) };
	bool ok = true;
	for (size_t k = 0; override_keys[k].name; k++) {
		if (!config_setting_get_member(g, override_keys[k].name)) {
			diag(p, g, "override of rotation \"%s\" has no \"%s\"", r->id,
			     override_keys[k].name);
			ok = false;
		}
	}
	const char *who = str_of(g, "member");
	if (who) {
		int c = contact_index(p->cl, who);
		if (c < 0) {
			diag(p, config_setting_get_member(g, "member"),
			     "unknown contact \"%s\" in an override of rotation \"%s\"", who, r->id);
			ok = false;
		}
		ov.contact = (size_t)(c < 0 ? 0 : c);
	}
	const char *names[2] = { "from", "to" };
	int64_t utc[2] = { 0, 0 }, wall[2] = { 0, 0 };
	for (int k = 0; k < 2; k++) {
		const char *v = str_of(g, names[k]);
		if (v && !parse_local(p->cl, v, &utc[k], &wall[k])) {
			diag(p, config_setting_get_member(g, names[k]),
			     "bad %s \"%s\": expected a local date and time \"YYYY-MM-DD HH:MM\"",
			     names[k], v);
			ok = false;
		}
	}
	if (!ok)
		return;
	if (utc[1] <= utc[0]) {
		diag(p, config_setting_get_member(g, "to"),
		     "override ends (to \"%s\") before or when it starts (from \"%s\")",
		     str_of(g, "to"), str_of(g, "from"));
		return;
	}
	if (wall[1] - wall[0] > (int64_t)OVERRIDE_MAX_DAYS * 86400) {
		diag(p, g, "override of rotation \"%s\" is longer than %d days", r->id,
		     OVERRIDE_MAX_DAYS);
		return;
	}
	ov.from_s = utc[0];
	ov.to_s = utc[1];
	r->overrides[r->n_overrides++] = ov;
}

static void parse_rotation(struct parser *p, struct pg_rotation *r, const config_setting_t *g,
			   const struct pg_rotation *done, size_t n_done)
{
	r->line = (int)config_setting_source_line(g);
	r->handoff_wday = -1;
	r->handoff_min = -1;
	check_keys(p, g, rotation_keys, "oncall");

	const char *id = str_of(g, "id");
	if (!config_setting_get_member(g, "id")) {
		diag(p, g, "rotation has no \"id\" (the name rules use: notify = \"oncall:ID\")");
	} else if (id && !rot_id_ok(id)) {
		diag(p, config_setting_get_member(g, "id"),
		     "bad rotation id \"%s\": use 1-%d characters from a-z, 0-9 and -",
		     id, ROT_ID_MAX);
	} else if (id) {
		const struct pg_rotation *old = pg_oncall_find(done, n_done, id);
		if (old)
			diag(p, config_setting_get_member(g, "id"),
			     "rotation \"%s\" is defined twice (first at line %d)", id, old->line);
		if (!(r->id = strdup(id))) {
			p->nomem = true;
			return;
		}
	}
	const char *name = id ? id : "?";
	if (!r->id && !(r->id = strdup(name))) {
		p->nomem = true;
		return;
	}

	parse_members(p, r, g);

	bool weekly = false;
	const char *rot = str_of(g, "rotation");
	if (!config_setting_get_member(g, "rotation"))
		diag(p, g, "rotation \"%s\" has no \"rotation\" (\"daily\", \"weekly\" or "
		     "\"every N days\")", name);
	else if (rot && (r->period_days = parse_period(rot, &weekly)) < 0)
		diag(p, config_setting_get_member(g, "rotation"),
		     "bad rotation \"%s\": expected \"daily\", \"weekly\" or \"every N days\" "
		     "(N 1..%d)", rot, PERIOD_MAX);

	const char *h = str_of(g, "handoff");
	const config_setting_t *hs = config_setting_get_member(g, "handoff");
	if (!hs)
		diag(p, g, "rotation \"%s\" has no \"handoff\" (the local time shifts change: "
		     "\"Mon 08:00\" for a weekly rotation, \"08:00\" otherwise)", name);
	else if (h && r->period_days > 0 && weekly &&
		 !parse_weekly_handoff(h, &r->handoff_wday, &r->handoff_min))
		diag(p, hs, "bad handoff \"%s\" for a weekly rotation: expected a weekday "
		     "and a time, e.g. \"Mon 08:00\"", h);
	else if (h && r->period_days > 0 && !weekly && (r->handoff_min = parse_hhmm(h)) < 0)
		diag(p, hs, "bad handoff \"%s\": expected a time \"HH:MM\", e.g. \"08:00\" "
		     "(only weekly rotations name a weekday)", h);

	const char *st = str_of(g, "start");
	if (!config_setting_get_member(g, "start"))
		diag(p, g, "rotation \"%s\" has no \"start\": give the date of the first "
		     "member's first shift, e.g. start = \"2026-01-05\" (it begins at the "
		     "first handoff on or after that date)", name);
	else if (st && (strlen(st) != 10 || !parse_date(st, &r->start)))
		diag(p, config_setting_get_member(g, "start"),
		     "bad start \"%s\": expected a date \"YYYY-MM-DD\"", st);

	const config_setting_t *ovs = member(g, "overrides", V_LIST);
	if (ovs && p->cl->tz) {
		int n = config_setting_length(ovs);
		if (n > 0 && !(r->overrides = calloc((size_t)n, sizeof *r->overrides))) {
			p->nomem = true;
			return;
		}
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(ovs, (unsigned)i);
			if (!config_setting_is_group(e))
				diag(p, e, "each entry of \"overrides\" must be a group "
				     "{ member = ...; from = ...; to = ...; }");
			else
				parse_override(p, r, e);
		}
	}
}

pg_err pg_oncall_parse(const config_setting_t *setting, const struct pg_client *cl,
		       const char *file, struct pg_diags *d,
		       struct pg_rotation **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!setting)
		return PG_OK;
	struct parser p = { .cl = cl, .file = file, .d = d };
	if (!cl->tz) {
		diag(&p, setting, "on-call rotations need the client's \"timezone\"");
		return PG_ERR_CONFIG;
	}
	if (!vtype_ok(setting, V_LIST)) {
		diag(&p, setting, "\"oncall\" must be %s", vtype_name(V_LIST));
		return PG_ERR_CONFIG;
	}
	int len = config_setting_length(setting);
	struct pg_rotation *r = calloc(len > 0 ? (size_t)len : 1, sizeof *r);
	if (!r)
		return PG_ERR_NOMEM;
	size_t count = 0;
	for (int i = 0; i < len && !p.nomem; i++) {
		const config_setting_t *g = config_setting_get_elem(setting, (unsigned)i);
		if (!config_setting_is_group(g)) {
			diag(&p, g, "each entry of \"oncall\" must be a group { id = ...; ... }");
			continue;
		}
		parse_rotation(&p, &r[count], g, r, count);
		count++;
	}
	if (p.nomem || p.errors) {
		pg_oncall_free(r, count);
		return p.nomem ? PG_ERR_NOMEM : PG_ERR_CONFIG;
	}
	*out = r;
	*n = count;
	return PG_OK;
}
