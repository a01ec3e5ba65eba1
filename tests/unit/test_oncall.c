/*
 * test_oncall.c - on-call rotations (oncall.h): parsing with exact
 * file:line diagnostics, who is on duty across DST changes, daily and
 * every-N-days rotations, backups, overrides, far-future instants, and
 * the iCalendar export read back with libical.
 *
 * The client is built by hand (as in test_route.c); rotations are parsed
 * from client-file text.  Every expected instant was computed
 * independently with Python's zoneinfo, e.g.
 *   datetime(2026, 3, 9, 8, 0, tzinfo=ZoneInfo("America/Chicago"))
 *       .timestamp() == 1773061200   (2026-03-09 13:00Z)
 * and is written here as a UTC wall time U(...) next to the Chicago wall
 * time it stands for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libical/ical.h>
#include <string.h>

#include "pagegate/oncall.h"
#include "pagegate/tz.h"

/* UTC wall time -> seconds since the epoch. */
static int64_t U(int y, int m, int d, int hh, int mm)
{
	return pg_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60;
}

enum { OFFICE = 0, JANE = 1, RAJ = 2, TOM = 3 };
static struct pg_contact contacts[] = {
	{ .id = "office", .name = "Front office" },
	{ .id = "jane", .name = "Jane Ortiz" },
	{ .id = "raj", .name = "Raj Patel" },
	{ .id = "tom", .name = "Tom Berg" },
};

static struct pg_client acme(void)
{
	struct pg_client c;
	memset(&c, 0, sizeof c);
	c.id = "acme-hvac";
	c.name = "Acme Heating & Cooling";
	c.file = "acme.conf";
	c.tzid = "America/Chicago";
	c.tz = pg_tz_get(c.tzid);
	assert_non_null(c.tz);
	c.contacts = contacts;
	c.n_contacts = 4;
	return c;
}

/* Parses the "oncall" setting of text as a client file "acme.conf". */
static pg_err parse(const char *text, struct pg_rotation **r, size_t *n, struct pg_diags *d)
{
	struct pg_client c = acme();
	config_t cf;
	config_init(&cf);
	assert_int_equal(config_read_string(&cf, text), CONFIG_TRUE);
	struct pg_conf cx;
	pg_diags_init(d);
	pg_conf_init(&cx, "acme.conf", d);
	pg_err err = pg_oncall_parse(&cx, config_lookup(&cf, "oncall"), &c, r, n);
	assert_true(err == PG_OK ? cx.errors == 0 : cx.errors > 0);
	pg_conf_done(&cx);
	config_destroy(&cf);
	return err;
}

static const char good[] =
	"oncall = (\n"
	"  { id = \"techs\"; members = [ \"jane\", \"raj\" ];\n"
	"    rotation = \"weekly\"; handoff = \"Mon 08:00\"; start = \"2026-01-05\";\n"
	"    overrides = ( { member = \"raj\"; from = \"2026-12-24 08:00\";\n"
	"                    to = \"2026-12-26 08:00\"; } ); },\n"
	"  { id = \"days\"; members = [ \"jane\", \"raj\", \"tom\" ];\n"
	"    rotation = \"daily\"; handoff = \"07:00\"; start = \"2026-03-07\"; },\n"
	"  { id = \"three\"; members = [ \"jane\", \"raj\" ];\n"
	"    rotation = \"every 3 days\"; handoff = \"18:00\"; start = \"2026-10-30\"; },\n"
	"  { id = \"late\"; members = [ \"jane\", \"raj\" ];\n"
	"    rotation = \"weekly\"; handoff = \"mon 08:00\"; start = \"2026-01-07\"; },\n"
	"  { id = \"gap\"; members = [ \"jane\" ];\n"
	"    rotation = \"every 1 day\"; handoff = \"02:30\"; start = \"2026-03-07\"; },\n"
	"  { id = \"crew\"; members = [ \"jane\", \"raj\", \"tom\" ];\n"
	"    rotation = \"daily\"; handoff = \"08:00\"; start = \"2026-12-25\";\n"
	"    overrides = ( { member = \"office\"; from = \"2026-12-25 12:00\";\n"
	"                    to = \"2026-12-25 18:00\"; },\n"
	"                  { member = \"raj\"; from = \"2026-12-25 13:00\";\n"
	"                    to = \"2026-12-25 14:00\"; } ); }\n"
	");\n";

struct fixture {
	struct pg_client c;
	struct pg_rotation *r;
	size_t n;
};

static int setup(void **state)
{
	static struct fixture f;
	struct pg_diags d;
	f.c = acme();
	if (parse(good, &f.r, &f.n, &d) != PG_OK || d.n != 0)
		return -1;
	pg_diags_free(&d);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pg_oncall_free(f->r, f->n);
	return 0;
}

static const struct pg_rotation *rot(void **state, const char *id)
{
	struct fixture *f = *state;
	const struct pg_rotation *r = pg_oncall_find(f->r, f->n, id);
	assert_non_null(r);
	return r;
}

/* Asserts who is on duty (with offset) at at, and the shift bounds. */
static void expect(void **state, const char *id, int64_t at, int offset, size_t contact,
		   int64_t start, int64_t end)
{
	struct fixture *f = *state;
	size_t got = 99;
	int64_t s = 0, e = 0;
	assert_int_equal(pg_oncall_who(&f->c, rot(state, id), at, offset, &got, &s, &e), PG_OK);
	assert_int_equal(got, contact);
	assert_int_equal(s, start);
	assert_int_equal(e, end);
}

/* ---- parsing ---- */

static void test_parse_good(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->n, 6);
	const struct pg_rotation *t = rot(state, "techs");
	assert_int_equal(t->n_members, 2);
	assert_int_equal(t->members[0], JANE);
	assert_int_equal(t->members[1], RAJ);
	assert_int_equal(t->period_days, 7);
	assert_int_equal(t->handoff_wday, 1);
	assert_int_equal(t->handoff_min, 8 * 60);
	assert_int_equal(t->start.year, 2026);
	assert_int_equal(t->start.month, 1);
	assert_int_equal(t->start.day, 5);
	assert_int_equal(t->line, 2);
	assert_int_equal(t->n_overrides, 1);
	assert_int_equal(t->overrides[0].contact, RAJ);
	assert_int_equal(t->overrides[0].from_s, U(2026, 12, 24, 14, 0));  /* 08:00 CST */
	assert_int_equal(t->overrides[0].to_s, U(2026, 12, 26, 14, 0));
	assert_int_equal(t->overrides[0].line, 4);
	assert_int_equal(rot(state, "three")->period_days, 3);
	assert_int_equal(rot(state, "three")->handoff_wday, -1);
	assert_int_equal(rot(state, "days")->period_days, 1);
	assert_int_equal(rot(state, "gap")->period_days, 1);
	assert_null(pg_oncall_find(f->r, f->n, "nobody"));
	assert_null(pg_oncall_find(f->r, f->n, NULL));

	/* No setting: no rotations, no error. */
	struct pg_rotation *r = (void *)1;
	size_t n = 9;
	struct pg_diags d;
	struct pg_conf cx;
	pg_diags_init(&d);
	pg_conf_init(&cx, "acme.conf", &d);
	assert_int_equal(pg_oncall_parse(&cx, NULL, &f->c, &r, &n), PG_OK);
	pg_conf_done(&cx);
	assert_null(r);
	assert_int_equal(n, 0);
	assert_int_equal(d.n, 0);
	pg_diags_free(&d);
}

struct want { int line; const char *msg; };

static void expect_diags(const char *text, const struct want *w, size_t nw)
{
	struct pg_rotation *r = (void *)1;
	size_t n = 9;
	struct pg_diags d;
	assert_int_equal(parse(text, &r, &n, &d), PG_ERR_CONFIG);
	assert_null(r);
	assert_int_equal(n, 0);
	for (size_t i = 0; i < d.n && i < nw; i++) {
		if (d.v[i].line != w[i].line || strcmp(d.v[i].msg, w[i].msg) != 0)
			print_error("diagnostic %zu: %d: %s\n", i, d.v[i].line, d.v[i].msg);
		assert_string_equal(d.v[i].file, "acme.conf");
		assert_string_equal(d.v[i].msg, w[i].msg);
		assert_int_equal(d.v[i].line, w[i].line);
	}
	assert_int_equal(d.n, nw);
	pg_diags_free(&d);
}

static void test_parse_errors(void **state)
{
	(void)state;
	static const char text[] =
		"oncall = (\n"                                                            /* 1 */
		"  { id = \"techs\"; members = [ \"jane\", \"bob\" ]; rotation = \"weekly\";\n"
		"    handoff = \"Mon 8:00\"; start = \"2026-01-05\"; colour = \"red\"; },\n"   /* 3 */
		"  { id = \"techs\"; members = [ \"jane\", \"jane\" ]; rotation = \"fortnightly\";\n"
		"    handoff = \"08:00\"; start = \"2026-02-30\"; },\n"                     /* 5 */
		"  { id = \"Night Crew\"; members = [ ]; rotation = \"every 400 days\"; handoff = \"x\"; },\n"
		"  { id = \"x\"; members = [ \"raj\" ]; rotation = \"daily\"; handoff = \"Mon 08:00\"; start = \"2026-01-05\";\n"
		"    overrides = ( { member = \"bob\"; from = \"2026-12-24\"; to = \"2026-12-26 08:00\"; },\n"
		"                  { member = \"raj\"; from = \"2026-12-26 08:00\"; to = \"2026-12-24 08:00\"; },\n"
		"                  { member = \"raj\"; from = \"2026-01-01 00:00\"; to = \"2027-01-03 00:00\"; },\n"
		"                  { member = \"raj\"; from = \"2026-01-01 00:00\"; to = \"2026-01-03 00:00\"; when = 1; },\n"
		"                  { to = \"2026-01-03 00:00\"; } ); },\n"                  /* 12 */
		"  { id = \"y\"; members = \"raj\"; rotation = 7; handoff = \"07:00\"; start = \"2026-01-05\"; },\n"
		"  { start = \"2026-01-05\"; },\n"                                          /* 14 */
		"  { id = \"z\"; members = [ \"raj\" ]; rotation = \"every 03 days\"; handoff = \"24:00\"; start = \"2026-1-5\"; },\n"
		"  \"techs\" );\n";
	static const struct want w[] = {
		{ 3, "unknown setting \"colour\" in on-call rotation" },
		{ 2, "unknown contact \"bob\" in the members of rotation \"techs\" (did you "
		     "mean \"tom\"?)" },
		{ 3, "bad handoff \"Mon 8:00\" for a weekly rotation: expected a weekday "
		     "and a time, e.g. \"Mon 08:00\"" },
		{ 4, "duplicate rotation \"techs\" (first at line 2)" },
		{ 4, "duplicate member \"jane\" (first at line 4)" },
		{ 4, "bad rotation \"fortnightly\": expected \"daily\", \"weekly\" or "
		     "\"every N days\" (N 1..366)" },
		{ 5, "bad start \"2026-02-30\": expected a date \"YYYY-MM-DD\"" },
		{ 6, "missing \"start\" in on-call rotation (the date of the first member's "
		     "first shift, e.g. \"2026-01-05\"; it begins at the first handoff on "
		     "or after that date)" },
		{ 6, "bad rotation id \"Night Crew\": expected 1-64 characters from a-z, "
		     "0-9 and -" },
		{ 6, "rotation \"Night Crew\" has no members: list at least one contact id" },
		{ 6, "bad rotation \"every 400 days\": expected \"daily\", \"weekly\" or "
		     "\"every N days\" (N 1..366)" },
		{ 7, "bad handoff \"Mon 08:00\": expected a time \"HH:MM\", e.g. \"08:00\" "
		     "(only weekly rotations name a weekday)" },
		{ 8, "unknown contact \"bob\" in an override of rotation \"x\" (did you "
		     "mean \"tom\"?)" },
		{ 8, "bad from \"2026-12-24\": expected a local date and time \"YYYY-MM-DD "
		     "HH:MM\"" },
		{ 9, "override ends (to \"2026-12-24 08:00\") before or when it starts "
		     "(from \"2026-12-26 08:00\")" },
		{ 10, "override of rotation \"x\" is longer than 366 days" },
		{ 11, "unknown setting \"when\" in override" },
		{ 12, "missing \"member\" in override" },
		{ 12, "missing \"from\" in override (\"YYYY-MM-DD HH:MM\")" },
		{ 13, "\"members\" must be an array of strings [ \"...\" ], not a string" },
		{ 13, "\"rotation\" must be a string in quotes, not a number" },
		{ 14, "missing \"id\" in on-call rotation (the name rules use: notify = "
		     "\"oncall:ID\")" },
		{ 14, "missing \"members\" in on-call rotation (the contact ids on duty in "
		     "turn, e.g. members = [ \"jane\", \"raj\" ])" },
		{ 14, "missing \"rotation\" in on-call rotation (\"daily\", \"weekly\" or "
		     "\"every N days\")" },
		{ 14, "missing \"handoff\" in on-call rotation (the local time shifts "
		     "change: \"Mon 08:00\" for a weekly rotation, \"08:00\" otherwise)" },
		{ 15, "bad rotation \"every 03 days\": expected \"daily\", \"weekly\" or "
		     "\"every N days\" (N 1..366)" },
		{ 15, "bad start \"2026-1-5\": expected a date \"YYYY-MM-DD\"" },
		{ 16, "each entry of \"oncall\" must be a group { ... }, not a string" },
	};
	expect_diags(text, w, sizeof w / sizeof w[0]);

	static const struct want w2[] = {
		{ 1, "\"oncall\" must be a list ( { ... }, ... ), not a group" },
	};
	expect_diags("oncall = { id = \"techs\"; };\n", w2, 1);

	static const struct want w3[] = {
		{ 2, "bad handoff \"24:00\": expected a time \"HH:MM\", e.g. \"08:00\" (only "
		     "weekly rotations name a weekday)" },
		{ 3, "bad handoff \"Mon\" for a weekly rotation: expected a weekday and a time, "
		     "e.g. \"Mon 08:00\"" },
	};
	expect_diags("oncall = (\n"
		     " { id = \"a\"; members = [ \"raj\" ]; rotation = \"every 366 days\"; handoff = \"24:00\"; start = \"2026-01-05\"; },\n"
		     " { id = \"b\"; members = [ \"raj\" ]; rotation = \"weekly\"; handoff = \"Mon\"; start = \"2026-01-05\"; }\n"
		     ");\n", w3, 2);
}

/* ---- who is on duty ---- */

static void test_weekly_across_dst(void **state)
{
	/* Shift 0: Mon 2026-01-05 08:00 CST = 14:00Z, Jane. */
	expect(state, "techs", U(2026, 1, 5, 14, 0), 0, JANE,
	       U(2026, 1, 5, 14, 0), U(2026, 1, 12, 14, 0));
	expect(state, "techs", U(2026, 1, 12, 13, 59), 0, JANE,
	       U(2026, 1, 5, 14, 0), U(2026, 1, 12, 14, 0));
	expect(state, "techs", U(2026, 1, 12, 14, 0), 0, RAJ,
	       U(2026, 1, 12, 14, 0), U(2026, 1, 19, 14, 0));
	/* Week 8 (Mon 2 Mar, CST) spans the 8 March change: it begins at 14:00Z
	 * and ends Mon 9 Mar 08:00 CDT = 13:00Z, one hour short. */
	expect(state, "techs", U(2026, 3, 8, 12, 0), 0, JANE,
	       U(2026, 3, 2, 14, 0), U(2026, 3, 9, 13, 0));
	expect(state, "techs", U(2026, 3, 9, 12, 59), 0, JANE,       /* 07:59 CDT */
	       U(2026, 3, 2, 14, 0), U(2026, 3, 9, 13, 0));
	expect(state, "techs", U(2026, 3, 9, 13, 0), 0, RAJ,         /* 08:00 CDT */
	       U(2026, 3, 9, 13, 0), U(2026, 3, 16, 13, 0));
	/* Week 42 (Mon 26 Oct, CDT) spans the 1 November change: 13:00Z to
	 * Mon 2 Nov 08:00 CST = 14:00Z. */
	expect(state, "techs", U(2026, 11, 2, 13, 30), 0, JANE,      /* 07:30 CST */
	       U(2026, 10, 26, 13, 0), U(2026, 11, 2, 14, 0));
	expect(state, "techs", U(2026, 11, 2, 14, 0), 0, RAJ,
	       U(2026, 11, 2, 14, 0), U(2026, 11, 9, 14, 0));

	/* A start that is not a Monday: the first shift begins the next Monday. */
	struct fixture *f = *state;
	size_t who;
	assert_int_equal(pg_oncall_who(&f->c, rot(state, "late"), U(2026, 1, 12, 13, 59), 0,
				       &who, NULL, NULL), PG_ERR_NOTFOUND);
	expect(state, "late", U(2026, 1, 12, 14, 0), 0, JANE,
	       U(2026, 1, 12, 14, 0), U(2026, 1, 19, 14, 0));

	/* Every shift of two years begins Monday 08:00 local and the next one
	 * begins where it ends. */
	int64_t prev_end = 0;
	for (int64_t k = 0; k < 104; k++) {
		int64_t s, e;
		struct pg_localtime lt;
		assert_int_equal(pg_oncall_shift(&f->c, rot(state, "techs"), k, &s, &e), PG_OK);
		pg_tz_local(f->c.tz, s, &lt);
		assert_int_equal(lt.wday, 1);
		assert_int_equal(lt.hour, 8);
		assert_int_equal(lt.min, 0);
		if (k > 0)
			assert_int_equal(s, prev_end);
		int64_t got;
		assert_int_equal(pg_oncall_shift_at(&f->c, rot(state, "techs"), s, &got), PG_OK);
		assert_int_equal(got, k);
		assert_int_equal(pg_oncall_shift_at(&f->c, rot(state, "techs"), e - 1, &got), PG_OK);
		assert_int_equal(got, k);
		prev_end = e;
	}
}

static void test_before_first_handoff(void **state)
{
	struct fixture *f = *state;
	size_t who = 99;
	int64_t k;
	assert_int_equal(pg_oncall_who(&f->c, rot(state, "techs"), U(2026, 1, 5, 13, 59), 0,
				       &who, NULL, NULL), PG_ERR_NOTFOUND);
	assert_int_equal(pg_oncall_who(&f->c, rot(state, "techs"), U(2025, 6, 1, 0, 0), 1,
				       &who, NULL, NULL), PG_ERR_NOTFOUND);
	assert_int_equal(who, 99);
	assert_int_equal(pg_oncall_shift_at(&f->c, rot(state, "techs"), 0, &k),
			 PG_ERR_NOTFOUND);
	/* Overrides do not apply before the rotation exists (crew starts on
	 * 25 Dec 08:00 CST = 14:00Z). */
	assert_int_equal(pg_oncall_who(&f->c, rot(state, "crew"), U(2026, 12, 25, 13, 0), 0,
				       &who, NULL, NULL), PG_ERR_NOTFOUND);
	/* Bad arguments. */
	assert_int_equal(pg_oncall_who(&f->c, rot(state, "techs"), U(2026, 2, 1, 0, 0), -1,
				       &who, NULL, NULL), PG_ERR_INVAL);
	assert_int_equal(pg_oncall_who(&f->c, rot(state, "techs"), -5, 0, &who, NULL, NULL),
			 PG_ERR_INVAL);
	assert_int_equal(pg_oncall_who(&f->c, rot(state, "techs"), INT64_MAX, 0, &who,
				       NULL, NULL), PG_ERR_INVAL);
}

static void test_daily_and_every_three_days(void **state)
{
	/* Daily 07:00 from Sat 7 Mar: 07:00 CST = 13:00Z; on Sun 8 Mar (the
	 * change) 07:00 CDT = 12:00Z, so the first shift lasts 23 hours. */
	expect(state, "days", U(2026, 3, 7, 13, 0), 0, JANE,
	       U(2026, 3, 7, 13, 0), U(2026, 3, 8, 12, 0));
	expect(state, "days", U(2026, 3, 8, 11, 59), 0, JANE,
	       U(2026, 3, 7, 13, 0), U(2026, 3, 8, 12, 0));
	expect(state, "days", U(2026, 3, 8, 12, 0), 0, RAJ,
	       U(2026, 3, 8, 12, 0), U(2026, 3, 9, 12, 0));
	expect(state, "days", U(2026, 3, 9, 12, 0), 0, TOM,
	       U(2026, 3, 9, 12, 0), U(2026, 3, 10, 12, 0));
	expect(state, "days", U(2026, 3, 10, 12, 0), 0, JANE,
	       U(2026, 3, 10, 12, 0), U(2026, 3, 11, 12, 0));

	/* Every 3 days 18:00 from Fri 30 Oct: 18:00 CDT = 23:00Z; Mon 2 Nov
	 * 18:00 CST = 3 Nov 00:00Z (a 73-hour shift); Thu 5 Nov 18:00 CST. */
	expect(state, "three", U(2026, 10, 30, 23, 0), 0, JANE,
	       U(2026, 10, 30, 23, 0), U(2026, 11, 3, 0, 0));
	expect(state, "three", U(2026, 11, 2, 23, 30), 0, JANE,  /* 17:30 CST */
	       U(2026, 10, 30, 23, 0), U(2026, 11, 3, 0, 0));
	expect(state, "three", U(2026, 11, 3, 0, 0), 0, RAJ,
	       U(2026, 11, 3, 0, 0), U(2026, 11, 6, 0, 0));
	expect(state, "three", U(2026, 11, 6, 0, 0), 0, JANE,
	       U(2026, 11, 6, 0, 0), U(2026, 11, 9, 0, 0));

	/* A handoff inside the spring-forward gap (02:30 does not exist on
	 * 8 Mar) happens at the end of the gap, 03:00 CDT = 08:00Z (pg_tz_utc's
	 * rule); the days around it keep 02:30: 7 Mar 08:30Z, 9 Mar 07:30Z. */
	expect(state, "gap", U(2026, 3, 8, 7, 59), 0, JANE,
	       U(2026, 3, 7, 8, 30), U(2026, 3, 8, 8, 0));
	expect(state, "gap", U(2026, 3, 8, 8, 0), 0, JANE,
	       U(2026, 3, 8, 8, 0), U(2026, 3, 9, 7, 30));
}

static void test_backup(void **state)
{
	/* 9 Mar 2026 14:00Z: shift 2 of "days" (Tom). */
	int64_t s = U(2026, 3, 9, 12, 0), e = U(2026, 3, 10, 12, 0);
	expect(state, "days", U(2026, 3, 9, 14, 0), 0, TOM, s, e);
	expect(state, "days", U(2026, 3, 9, 14, 0), 1, JANE, s, e);
	expect(state, "days", U(2026, 3, 9, 14, 0), 2, RAJ, s, e);
	expect(state, "days", U(2026, 3, 9, 14, 0), 3, TOM, s, e);   /* wraps */
	/* Weekly, week 9 (Raj): the backup is Jane. */
	expect(state, "techs", U(2026, 3, 10, 0, 0), 1, JANE,
	       U(2026, 3, 9, 13, 0), U(2026, 3, 16, 13, 0));
}

static void test_override(void **state)
{
	/* Week 50 (Mon 21 Dec 08:00 CST = 14:00Z) is Jane's; Raj covers her
	 * from 24 Dec 08:00 CST (14:00Z) to 26 Dec 08:00 CST. */
	int64_t ws = U(2026, 12, 21, 14, 0), we = U(2026, 12, 28, 14, 0);
	int64_t os = U(2026, 12, 24, 14, 0), oe = U(2026, 12, 26, 14, 0);
	expect(state, "techs", os - 1, 0, JANE, ws, we);
	expect(state, "techs", os - 1, 1, RAJ, ws, we);
	expect(state, "techs", os, 0, RAJ, os, oe);
	expect(state, "techs", U(2026, 12, 25, 18, 0), 0, RAJ, os, oe);   /* noon, 25th */
	/* The backup during the override is Jane (the only other member),
	 * valid while both the override and her shift last. */
	expect(state, "techs", U(2026, 12, 25, 18, 0), 1, JANE, os, oe);
	expect(state, "techs", U(2026, 12, 25, 18, 0), 2, RAJ, os, oe);
	expect(state, "techs", oe, 0, JANE, ws, we);
	expect(state, "techs", oe, 1, RAJ, ws, we);

	/* "crew": daily 08:00 from 25 Dec, members Jane, Raj, Tom, so Jane
	 * has 25 Dec 14:00Z .. 26 Dec 14:00Z.  The office covers 12:00-18:00
	 * CST (18:00Z-00:00Z) and, listed later, Raj 13:00-14:00 CST
	 * (19:00Z-20:00Z). */
	int64_t cs = U(2026, 12, 25, 14, 0), ce = U(2026, 12, 26, 14, 0);
	int64_t o1s = U(2026, 12, 25, 18, 0), o1e = U(2026, 12, 26, 0, 0);
	int64_t o2s = U(2026, 12, 25, 19, 0), o2e = U(2026, 12, 25, 20, 0);
	int64_t at = U(2026, 12, 25, 21, 0);    /* 15:00 CST: the office */
	expect(state, "crew", at, 0, OFFICE, o1s, o1e);
	expect(state, "crew", at, 1, RAJ, o1s, o1e);
	expect(state, "crew", at, 2, TOM, o1s, o1e);
	expect(state, "crew", at, 3, JANE, o1s, o1e);
	expect(state, "crew", at, 4, OFFICE, o1s, o1e);
	at = U(2026, 12, 25, 19, 30);           /* 13:30 CST: Raj, listed last */
	expect(state, "crew", at, 0, RAJ, o2s, o2e);
	expect(state, "crew", at, 1, TOM, o2s, o2e);    /* skipping Raj */
	expect(state, "crew", at, 2, JANE, o2s, o2e);
	expect(state, "crew", at, 3, RAJ, o2s, o2e);
	expect(state, "crew", U(2026, 12, 26, 0, 0), 0, JANE, cs, ce);
}

static void test_far_future(void **state)
{
	struct fixture *f = *state;
	/* Wed 16 Jul 2036 12:00 CDT = 2099840400: week 549 since 5 Jan 2026,
	 * odd, so Raj; Mon 14 Jul 08:00 CDT = 13:00Z to Mon 21 Jul 13:00Z. */
	expect(state, "techs", 2099840400, 0, RAJ, 2099653200, 2100258000);
	expect(state, "techs", 2099840400, 1, JANE, 2099653200, 2100258000);
	/* Sun 3 Feb 2126 09:00 CST = 4925804400: week 5221 (Raj), from Mon
	 * 28 Jan 2126 08:00 CST = 14:00Z. */
	expect(state, "techs", 4925804400, 0, RAJ, 4925282400, 4925887200);

	/* Constant time: a thousand look-ups spread over 100 years. */
	int64_t t0 = pg_mono_ms();
	for (int i = 0; i < 1000; i++) {
		size_t who;
		int64_t at = U(2027, 1, 1, 0, 0) + (int64_t)i * 3155760;
		assert_int_equal(pg_oncall_who(&f->c, rot(state, "three"), at, 1, &who,
					       NULL, NULL), PG_OK);
	}
	assert_true(pg_mono_ms() - t0 < 2000);
}

/* ---- iCalendar ---- */

static icalcomponent *ics(void **state, const char *id, int64_t from, int64_t to)
{
	struct fixture *f = *state;
	struct pg_buf b;
	pg_buf_init(&b, 1 << 20);
	assert_int_equal(pg_oncall_ics(&f->c, rot(state, id), from, to, &b), PG_OK);
	assert_non_null(strstr(b.data, "BEGIN:VTIMEZONE"));
	icalcomponent *cal = icalparser_parse_string(b.data);
	pg_buf_free(&b);
	assert_non_null(cal);
	assert_int_equal(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
	return cal;
}

struct ev { const char *uid, *summary, *dtstart, *dtend; int64_t start_s; };

static void check_events(icalcomponent *cal, const struct ev *want, int n)
{
	assert_int_equal(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT), n);
	icalcomponent *tzc = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT);
	assert_non_null(tzc);
	const char *tzid = icalproperty_get_tzid(
		icalcomponent_get_first_property(tzc, ICAL_TZID_PROPERTY));
	assert_string_equal(tzid, "America/Chicago");
	icaltimezone *zone = icalcomponent_get_timezone(cal, tzid);
	assert_non_null(zone);
	int i = 0;
	for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     ev; ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT), i++) {
		assert_string_equal(icalcomponent_get_uid(ev), want[i].uid);
		assert_string_equal(icalcomponent_get_summary(ev), want[i].summary);
		icalproperty *p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
		assert_string_equal(icalproperty_get_value_as_string(p), want[i].dtstart);
		assert_string_equal(icalparameter_get_tzid(
			icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)), tzid);
		p = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
		assert_string_equal(icalproperty_get_value_as_string(p), want[i].dtend);
		/* The local time read back through the VTIMEZONE is the instant. */
		struct icaltimetype t = icalcomponent_get_dtstart(ev);
		assert_int_equal((int64_t)icaltime_as_timet_with_zone(t, zone), want[i].start_s);
		p = icalcomponent_get_first_property(ev, ICAL_DTSTAMP_PROPERTY);
		assert_string_equal(icalproperty_get_value_as_string(p), "20260301T060000Z");
	}
}

static void test_ics(void **state)
{
	/* 1 Mar 00:00 CST (06:00Z) .. 22 Mar 00:00 CDT (05:00Z): the shifts
	 * beginning 23 Feb, 2, 9 and 16 March, 08:00 local each. */
	icalcomponent *cal = ics(state, "techs", U(2026, 3, 1, 6, 0), U(2026, 3, 22, 5, 0));
	static const struct ev want[] = {
		{ "oncall-acme-hvac-techs-1771855200@pagegate", "On call: Raj Patel (techs)",
		  "20260223T080000", "20260302T080000", 1771855200 },
		{ "oncall-acme-hvac-techs-1772460000@pagegate", "On call: Jane Ortiz (techs)",
		  "20260302T080000", "20260309T080000", 1772460000 },
		{ "oncall-acme-hvac-techs-1773061200@pagegate", "On call: Raj Patel (techs)",
		  "20260309T080000", "20260316T080000", 1773061200 },
		{ "oncall-acme-hvac-techs-1773666000@pagegate", "On call: Jane Ortiz (techs)",
		  "20260316T080000", "20260323T080000", 1773666000 },
	};
	check_events(cal, want, 4);
	icalcomponent_free(cal);

	/* The override shows next to the shift it covers. */
	cal = ics(state, "techs", U(2026, 12, 22, 0, 0), U(2026, 12, 23, 0, 0));
	assert_int_equal(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT), 1);
	icalcomponent_free(cal);
	cal = ics(state, "techs", U(2026, 12, 25, 0, 0), U(2026, 12, 25, 1, 0));
	assert_int_equal(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT), 2);
	icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT);
	assert_string_equal(icalcomponent_get_uid(ev),
			    "oncall-acme-hvac-techs-override-1798120800@pagegate");
	assert_string_equal(icalcomponent_get_summary(ev), "On call: Raj Patel (techs)");
	assert_string_equal(icalcomponent_get_description(ev),
			    "Override: covers the techs rotation");
	icalcomponent_free(cal);

	/* A window before the first handoff has no events but is valid. */
	cal = ics(state, "techs", U(2025, 12, 1, 0, 0), U(2026, 1, 5, 14, 0));
	assert_int_equal(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT), 0);
	icalcomponent_free(cal);
}

static void test_ics_bounds(void **state)
{
	struct fixture *f = *state;
	struct pg_buf b;
	pg_buf_init(&b, 1 << 20);
	/* 1,000 daily shifts fit, 1,001 do not. */
	int64_t from = U(2026, 3, 7, 13, 0);
	int64_t s, e;
	assert_int_equal(pg_oncall_shift(&f->c, rot(state, "days"), 1000, &s, &e), PG_OK);
	assert_int_equal(pg_oncall_ics(&f->c, rot(state, "days"), from, s, &b), PG_OK);
	pg_buf_reset(&b);
	assert_int_equal(pg_oncall_ics(&f->c, rot(state, "days"), from, s + 1, &b),
			 PG_ERR_TOOBIG);
	pg_buf_reset(&b);
	assert_int_equal(pg_oncall_ics(&f->c, rot(state, "days"), from, from + 86400 * 5000,
				       &b), PG_ERR_TOOBIG);
	assert_int_equal(pg_oncall_ics(&f->c, rot(state, "days"), from, from, &b),
			 PG_ERR_INVAL);
	pg_buf_free(&b);
	/* A small ceiling on the buffer is honoured. */
	pg_buf_init(&b, 512);
	assert_int_equal(pg_oncall_ics(&f->c, rot(state, "days"), from, from + 86400 * 30,
				       &b), PG_ERR_TOOBIG);
	pg_buf_free(&b);
}

static void test_utc_client(void **state)
{
	struct fixture *f = *state;
	struct pg_client c = f->c;
	c.tzid = "UTC";
	c.tz = pg_tz_get("UTC");
	assert_non_null(c.tz);
	const struct pg_rotation *r = rot(state, "days");   /* daily 07:00 from 7 Mar */
	size_t who;
	int64_t s, e;
	assert_int_equal(pg_oncall_who(&c, r, U(2026, 3, 8, 6, 59), 0, &who, &s, &e), PG_OK);
	assert_int_equal(who, JANE);
	assert_int_equal(s, U(2026, 3, 7, 7, 0));
	assert_int_equal(e, U(2026, 3, 8, 7, 0));
	struct pg_buf b;
	pg_buf_init(&b, 1 << 16);
	assert_int_equal(pg_oncall_ics(&c, r, U(2026, 3, 7, 0, 0), U(2026, 3, 8, 0, 0), &b),
			 PG_OK);
	assert_null(strstr(b.data, "VTIMEZONE"));
	icalcomponent *cal = icalparser_parse_string(b.data);
	pg_buf_free(&b);
	assert_non_null(cal);
	assert_int_equal(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT), 1);
	icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	icalproperty *p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
	assert_string_equal(icalproperty_get_value_as_string(p), "20260307T070000Z");
	icalcomponent_free(cal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_weekly_across_dst),
		cmocka_unit_test(test_before_first_handoff),
		cmocka_unit_test(test_daily_and_every_three_days),
		cmocka_unit_test(test_backup),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_far_future),
		cmocka_unit_test(test_ics),
		cmocka_unit_test(test_ics_bounds),
		cmocka_unit_test(test_utc_client),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
