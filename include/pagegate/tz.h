/*
 * tz.h - time zones through libical's zone support over the system tz
 * database.  Never touches the process's TZ variable.  Zones are looked up
 * once (at configuration load) and live for the whole process.
 */
#ifndef PAGEGATE_TZ_H
#define PAGEGATE_TZ_H

#include "pagegate/common.h"

struct pg_tz;   /* opaque; owned by libical, never freed */

/* The zone named tzid ("America/Chicago", "UTC"), or NULL if unknown. */
const struct pg_tz *pg_tz_get(const char *tzid);
const char *pg_tz_name(const struct pg_tz *tz);

/* The zone as libical's icaltimezone (returned as void * so that this
 * header does not pull in libical), for modules that build iCalendar data
 * or expand recurrences in the zone (oncall.c).  Never freed. */
void *pg_tz_ical(const struct pg_tz *tz);

struct pg_localtime {
	int year, month, day;    /* month 1-12, day 1-31 */
	int hour, min, sec;
	int wday;                /* 0 = Sunday .. 6 = Saturday */
	int utc_offset_s;        /* local - UTC, seconds */
};

/* UTC seconds since the epoch -> local wall time in tz. */
void pg_tz_local(const struct pg_tz *tz, int64_t utc_s, struct pg_localtime *out);

/* Local wall time in tz -> UTC seconds.  A wall time skipped by a DST gap
 * maps to the first instant after the gap; a repeated (ambiguous) one maps
 * to its first occurrence. */
int64_t pg_tz_utc(const struct pg_tz *tz, int year, int month, int day,
		  int hour, int min, int sec);

/* Formats utc_s in tz as "2026-11-22 09:34 CST"-style text for templates:
 * "YYYY-MM-DD HH:MM" followed by the UTC offset "(-06:00)". */
void pg_tz_format(const struct pg_tz *tz, int64_t utc_s, char *buf, size_t size);

#endif
