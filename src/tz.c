/*
 * tz.c - time zones through libical's zone support over the system tz
 * database (/usr/share/zoneinfo).  Never touches TZ, tzset() or localtime().
 *
 * Only one direction is taken from libical: UTC instant -> local wall time
 * (icaltime_from_timet_with_zone).  Local -> UTC is derived from it here,
 * because libical's own icaltime_as_timet_with_zone resolves DST edges the
 * other way round from our contract: for America/Chicago it maps the
 * skipped 2026-03-08 02:30 to 07:30Z (01:30 CST, before the gap) and the
 * repeated 2026-11-01 01:30 to its second occurrence (07:30Z).
 *
 * Thread-safety (libical 3.0.16 as built by Debian, checked in the binary):
 * the lazy expansion of a zone's changes and the lookup in them run under
 * libical's own changes_mutex inside icaltimezone_get_utc_offset*(), so
 * conversions from many threads need no lock of ours.  The lookup of a
 * zone by name, however, searches and appends to libical's array of builtin
 * zones without any lock, so pg_tz_get() serialises lookups with the one
 * static mutex below; lookups happen only at configuration load.
 */
#include "pagegate/tz.h"
#include "pagegate/util.h"

#include <libical/ical.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Static state, needed: libical's zone-by-name lookup is not thread-safe. */
static pthread_mutex_t lookup_mu = PTHREAD_MUTEX_INITIALIZER;

#define TZID_MAX 64

static icaltimezone *zone_of(const struct pg_tz *tz)
{
	return (icaltimezone *)tz;
}

/* Wall time as if it were UTC, in seconds. */
static int64_t wall_seconds(int year, int month, int day, int hour, int min, int sec)
{
	return pg_days_from_civil(year, month, day) * 86400 +
	       (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

/* A zone name we are willing to hand to libical (which builds a file path
 * from it): letters, digits, '_', '+', '-', '/'; no "..", no leading '/'. */
static bool tzid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TZID_MAX || s[0] == '/' || s[n - 1] == '/' || strstr(s, ".."))
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' ||
			  c == '/';
		if (!ok)
			return false;
	}
	return true;
}

const struct pg_tz *pg_tz_get(const char *tzid)
{
	if (!tzid)
		return NULL;
	if (strcmp(tzid, "UTC") == 0)
		return (const struct pg_tz *)icaltimezone_get_utc_timezone();
	if (!tzid_ok(tzid))
		return NULL;
	if (pthread_mutex_lock(&lookup_mu) != 0)
		return NULL;
	icaltimezone *z = icaltimezone_get_builtin_timezone(tzid);
	/* Make sure the zone really has data: a file that is not TZif (say, a
	 * directory name such as "America") gives a zone without a component. */
	if (z && !icaltimezone_get_component(z))
		z = NULL;
	pthread_mutex_unlock(&lookup_mu);
	return (const struct pg_tz *)z;
}

const char *pg_tz_name(const struct pg_tz *tz)
{
	icaltimezone *z = zone_of(tz);
	if (z == icaltimezone_get_utc_timezone())
		return "UTC";
	const char *loc = icaltimezone_get_location(z);
	return loc ? loc : icaltimezone_get_tzid(z);
}

void *pg_tz_ical(const struct pg_tz *tz)
{
	return zone_of(tz);
}

/* UTC -> local offset in seconds at instant utc_s; fills *lt if given. */
static int offset_at(const struct pg_tz *tz, int64_t utc_s, struct icaltimetype *lt)
{
	struct icaltimetype t = icaltime_from_timet_with_zone((time_t)utc_s, 0, zone_of(tz));
	if (lt)
		*lt = t;
	return (int)(wall_seconds(t.year, t.month, t.day, t.hour, t.minute, t.second) - utc_s);
}

void pg_tz_local(const struct pg_tz *tz, int64_t utc_s, struct pg_localtime *out)
{
	struct icaltimetype t;
	out->utc_offset_s = offset_at(tz, utc_s, &t);
	out->year = t.year;
	out->month = t.month;
	out->day = t.day;
	out->hour = t.hour;
	out->min = t.minute;
	out->sec = t.second;
	int64_t days = pg_days_from_civil(t.year, t.month, t.day);
	/* 1970-01-01 was a Thursday (4). */
	out->wday = (int)(((days % 7) + 7 + 4) % 7);
}

/*
 * Local -> UTC.  Offsets around the wall time are sampled a day before and
 * after (no zone changes twice within a day); each candidate offset that
 * maps back onto itself is a real occurrence, and the earliest wins (the
 * first of a repeated hour).  When none does, the wall time is in a gap and
 * the answer is the transition instant, found by bisection.
 */
int64_t pg_tz_utc(const struct pg_tz *tz, int year, int month, int day,
		  int hour, int min, int sec)
{
	int64_t wall = wall_seconds(year, month, day, hour, min, sec);
	int cand[3] = {
		offset_at(tz, wall - 86400, NULL),
		offset_at(tz, wall, NULL),
		offset_at(tz, wall + 86400, NULL),
	};
	bool found = false;
	int64_t best = 0;
	for (int i = 0; i < 3; i++) {
		int64_t u = wall - cand[i];
		if (offset_at(tz, u, NULL) == cand[i] && (!found || u < best)) {
			best = u;
			found = true;
		}
	}
	if (found)
		return best;

	/* Gap: before it the offset is smaller.  lo is before the transition,
	 * hi after it; find the first second with the later offset. */
	int before = cand[0], after = cand[2];
	int64_t lo = wall - after, hi = wall - before;
	if (lo > hi) {
		int64_t t = lo;
		lo = hi;
		hi = t;
	}
	int off_lo = offset_at(tz, lo, NULL);
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (offset_at(tz, mid, NULL) == off_lo)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

void pg_tz_format(const struct pg_tz *tz, int64_t utc_s, char *buf, size_t size)
{
	struct pg_localtime lt;
	if (size == 0)
		return;
	pg_tz_local(tz, utc_s, &lt);
	int off = lt.utc_offset_s;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(buf, size, "%04d-%02d-%02d %02d:%02d (%c%02d:%02d)",
		 lt.year, lt.month, lt.day, lt.hour, lt.min,
		 sign, off / 3600, (off / 60) % 60);
}
