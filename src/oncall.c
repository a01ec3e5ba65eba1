/*
 * oncall.c - on-call rotations of a client (oncall.h): who is on duty at
 * an instant.  The client file's "oncall" list is read by
 * src/config/config_oncall.c.
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

#include "pagegate/oncall.h"
#include "pagegate/tz.h"

#define ROT_ID_MAX 64
#define PERIOD_MAX 366
#define OVERRIDE_MAX_DAYS 366
#define AT_MAX_S INT64_C(253402300799)   /* 9999-12-31 23:59:59Z */

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
