/*
 * oncall.h - on-call schedules of a client (issue 6): rotations of
 * members with a handoff time and period, and dated overrides ("Raj covers
 * Jane 24-26 Dec"), all in the client's time zone and correct across DST.
 * Recurrence and zone handling go through libical (RRULE expansion in the
 * client's zone), never hand-written date arithmetic.  Pure: no clock, no
 * I/O; the instant is an argument.
 *
 * In a client file:
 *   oncall = (
 *     { id = "techs"; members = [ "jane", "raj" ];
 *       rotation = "weekly";          # daily | weekly | "every 3 days"
 *       handoff = "Mon 08:00";        # weekly: weekday + time; else "08:00"
 *       start = "2026-01-05";         # the first member's first shift begins
 *                                     # at the first handoff on/after this date
 *       overrides = ( { member = "raj"; from = "2026-12-24 08:00";
 *                       to = "2026-12-26 08:00"; } ); }
 *   );
 * Rules name "oncall:techs" (who is on duty) or "oncall:techs+1" (the next
 * one in the rotation: the backup).
 */
#ifndef PAGEGATE_ONCALL_H
#define PAGEGATE_ONCALL_H

#include <libconfig.h>

#include "pagegate/config.h"
#include "pagegate/config_keys.h"
#include "pagegate/util.h"

struct pg_oncall_override {
	size_t contact;              /* index into client->contacts */
	int64_t from_s, to_s;        /* UTC, [from, to) */
	int line;
};

struct pg_rotation {
	char *id;
	size_t *members;             /* indexes into client->contacts, in order */
	size_t n_members;
	int period_days;             /* 1 daily, 7 weekly, N "every N days" */
	int handoff_wday;            /* weekly: 0 = Sunday .. 6; else -1 */
	int handoff_min;             /* minutes after local midnight */
	struct pg_date start;        /* anchor date (local) */
	struct pg_oncall_override *overrides;
	size_t n_overrides;
	int line;
};

/* Parses the client's "oncall" list (setting may be NULL) into *out / *n,
 * resolving member names against cl->contacts (cl->tz and cl->contacts
 * are already loaded), with the configuration engine's context cx (the
 * client file; config_keys.h).  Every problem becomes a diagnostic
 * "file:line: ..." (unknown member, bad handoff, bad period, empty
 * members, duplicate id, override outside sane bounds or to <= from ...)
 * and the function returns PG_ERR_CONFIG; PG_ERR_NOMEM on allocation
 * failure.  (src/config/config_oncall.c) */
pg_err pg_oncall_parse(struct pg_conf *cx, const config_setting_t *setting,
		       const struct pg_client *cl, struct pg_rotation **out, size_t *n);
void pg_oncall_free(struct pg_rotation *r, size_t n);

/* The rotation named id ("techs"), or NULL. */
const struct pg_rotation *pg_oncall_find(const struct pg_rotation *r, size_t n,
					 const char *id);

/* Who is on duty in rotation r at at_s, or with offset 1, 2 ... the next
 * members after them in the rotation (the backup).  An override covering
 * at_s (the last listed one, if several do) replaces the on-duty member
 * (offset 0); offsets 1, 2 ... count on from the scheduled member,
 * skipping the overriding one: members [jane, raj, tom], jane scheduled,
 * raj covering -> raj, tom, jane.  Offsets wrap around (offset n_members
 * is the on-duty member again).  Sets *contact and, when not NULL, the
 * [start, end) in UTC over which this answer holds: the shift; for an
 * override at offset 0 the override's; for a backup during an override
 * the overlap of both.  PG_ERR_NOTFOUND before the rotation's first
 * handoff (overrides included), PG_ERR_INVAL for a negative offset or
 * at_s outside 1970..9999. */
pg_err pg_oncall_who(const struct pg_client *cl, const struct pg_rotation *r,
		     int64_t at_s, int offset, size_t *contact,
		     int64_t *shift_start_s, int64_t *shift_end_s);

/* Shift k (0 = the first, beginning at the first handoff on/after start)
 * of rotation r: its [start, end) in UTC.  Its scheduled member is
 * r->members[k % r->n_members].  PG_ERR_INVAL for a k beyond year 9999. */
pg_err pg_oncall_shift(const struct pg_client *cl, const struct pg_rotation *r,
		       int64_t k, int64_t *start_s, int64_t *end_s);

/* The index k of the shift containing at_s, in constant time for any date
 * (see oncall.c).  PG_ERR_NOTFOUND before the first handoff, PG_ERR_INVAL
 * for at_s outside 1970..9999. */
pg_err pg_oncall_shift_at(const struct pg_client *cl, const struct pg_rotation *r,
			  int64_t at_s, int64_t *k);

/* Appends an iCalendar (RFC 5545) VCALENDAR for rotation r: one VEVENT per
 * shift (and per override) overlapping [from_s, to_s), with SUMMARY "On
 * call: NAME (ROTATION)", DTSTART/DTEND in the client's zone with a
 * VTIMEZONE, stable UIDs, built with libical. */
pg_err pg_oncall_ics(const struct pg_client *cl, const struct pg_rotation *r,
		     int64_t from_s, int64_t to_s, struct pg_buf *out);

#endif
