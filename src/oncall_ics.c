/*
 * oncall_ics.c - a rotation's schedule as iCalendar (RFC 5545), built with
 * libical, so that staff can subscribe to it in their calendar app
 * (oncall.h: pg_oncall_ics).
 *
 * One VEVENT per shift overlapping the window and one per override
 * overlapping it (an override is shown next to the shift it covers, with a
 * DESCRIPTION saying so).  Times are local wall times with the client's
 * TZID and the zone's VTIMEZONE; a UTC client gets UTC times.  The output
 * depends only on its inputs: DTSTAMP is the window's start and UIDs are
 * derived from the client, the rotation and the event's start instant, so
 * a calendar app refreshing the subscription sees stable events.
 */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/oncall.h"
#include "pagegate/tz.h"

#define ICS_MAX_EVENTS 1000

struct ics {
	const struct pg_client *cl;
	const struct pg_rotation *r;
	icaltimezone *zone;      /* NULL for UTC */
	const char *tzid;        /* "America/Chicago" */
	icalcomponent *cal;
	int64_t stamp_s;
	size_t events;
};

/* utc_s as a DATE-TIME in the client's zone (or UTC). */
static struct icaltimetype ical_time(const struct ics *x, int64_t utc_s)
{
	if (!x->zone)
		return icaltime_from_timet_with_zone((time_t)utc_s, 0,
						     icaltimezone_get_utc_timezone());
	/* libical 3.0 converts the fields but leaves .zone at UTC. */
	struct icaltimetype t = icaltime_from_timet_with_zone((time_t)utc_s, 0, x->zone);
	t.zone = x->zone;
	return t;
}

static icalproperty *time_prop(const struct ics *x, bool start, int64_t utc_s)
{
	struct icaltimetype t = ical_time(x, utc_s);
	icalproperty *p = start ? icalproperty_new_dtstart(t) : icalproperty_new_dtend(t);
	if (p && x->zone) {
		icalparameter *tzid = icalparameter_new_tzid(x->tzid);
		if (!tzid) {
			icalproperty_free(p);
			return NULL;
		}
		icalproperty_add_parameter(p, tzid);
	}
	return p;
}

/* Adds one VEVENT; kind is "" for a shift, "override-" for an override. */
static pg_err add_event(struct ics *x, size_t contact, int64_t s, int64_t e,
			const char *kind, const char *description)
{
	if (++x->events > ICS_MAX_EVENTS)
		return PG_ERR_TOOBIG;
	const struct pg_contact *ct = &x->cl->contacts[contact];
	char summary[256], uid[256];
	snprintf(summary, sizeof summary, "On call: %s (%s)",
		 ct->name ? ct->name : ct->id, x->r->id);
	snprintf(uid, sizeof uid, "oncall-%s-%s-%s%lld@pagegate", x->cl->id, x->r->id,
		 kind, (long long)s);
	icalcomponent *ev = icalcomponent_new_vevent();
	if (!ev)
		return PG_ERR_NOMEM;
	icalproperty *props[6] = {
		icalproperty_new_uid(uid),
		icalproperty_new_dtstamp(icaltime_from_timet_with_zone(
			(time_t)x->stamp_s, 0, icaltimezone_get_utc_timezone())),
		time_prop(x, true, s),
		time_prop(x, false, e),
		icalproperty_new_summary(summary),
		description ? icalproperty_new_description(description) : NULL,
	};
	bool ok = true;
	for (size_t i = 0; i < 6; i++) {
		if (props[i])
			icalcomponent_add_property(ev, props[i]);
		else if (i < 5)
			ok = false;
	}
	icalcomponent_add_component(x->cal, ev);   /* x->cal now owns ev */
	return ok ? PG_OK : PG_ERR_NOMEM;
}

static pg_err add_shifts(struct ics *x, int64_t from_s, int64_t to_s)
{
	const struct pg_rotation *r = x->r;
	int64_t k = 0, s, e;
	pg_err err = pg_oncall_shift_at(x->cl, r, from_s, &k);
	if (err == PG_ERR_NOTFOUND)
		k = 0;   /* the window begins before the first handoff */
	else if (err)
		return err;
	for (;; k++) {
		if ((err = pg_oncall_shift(x->cl, r, k, &s, &e)))
			return err == PG_ERR_INVAL ? PG_OK : err;   /* past year 9999 */
		if (s >= to_s)
			return PG_OK;
		if (e <= from_s)
			continue;
		if ((err = add_event(x, r->members[k % (int64_t)r->n_members], s, e, "", NULL)))
			return err;
	}
}

static pg_err add_overrides(struct ics *x, int64_t from_s, int64_t to_s)
{
	for (size_t i = 0; i < x->r->n_overrides; i++) {
		const struct pg_oncall_override *ov = &x->r->overrides[i];
		if (ov->to_s <= from_s || ov->from_s >= to_s)
			continue;
		char desc[160];
		snprintf(desc, sizeof desc, "Override: covers the %s rotation", x->r->id);
		pg_err err = add_event(x, ov->contact, ov->from_s, ov->to_s, "override-", desc);
		if (err)
			return err;
	}
	return PG_OK;
}

static pg_err add_header(struct ics *x)
{
	char name[256];
	snprintf(name, sizeof name, "On call: %s (%s)",
		 x->cl->name ? x->cl->name : x->cl->id, x->r->id);
	icalproperty *props[5] = {
		icalproperty_new_prodid("-//pagegate//on-call schedule//EN"),
		icalproperty_new_version("2.0"),
		icalproperty_new_calscale("GREGORIAN"),
		icalproperty_new_method(ICAL_METHOD_PUBLISH),
		icalproperty_new_x(name),
	};
	pg_err err = PG_OK;
	for (size_t i = 0; i < 5; i++) {
		if (!props[i]) {
			err = PG_ERR_NOMEM;
			continue;
		}
		if (i == 4)
			icalproperty_set_x_name(props[i], "X-WR-CALNAME");
		icalcomponent_add_property(x->cal, props[i]);
	}
	if (err || !x->zone)
		return err;
	icalcomponent *vtz = icaltimezone_get_component(x->zone);
	icalcomponent *copy = vtz ? icalcomponent_new_clone(vtz) : NULL;
	if (!copy)
		return PG_ERR_NOMEM;
	icalcomponent_add_component(x->cal, copy);
	/* The plain zone name instead of libical's "/freeassociation..."
	 * prefixed TZID, which some calendar apps do not map to their own
	 * zones. */
	icalproperty *tzid = icalcomponent_get_first_property(copy, ICAL_TZID_PROPERTY);
	if (!tzid)
		return PG_ERR_INVAL;
	icalproperty_set_tzid(tzid, x->tzid);
	return PG_OK;
}

pg_err pg_oncall_ics(const struct pg_client *cl, const struct pg_rotation *r,
		     int64_t from_s, int64_t to_s, struct pg_buf *out)
{
	if (!cl || !cl->tz || !r || !out || r->n_members == 0 || from_s < 0 ||
	    to_s <= from_s)
		return PG_ERR_INVAL;
	/* Cheap bound before any work (no shift is shorter than half its
	 * period, whatever the zone's changes); the exact count follows. */
	if ((to_s - from_s) / 86400 / r->period_days > 2 * ICS_MAX_EVENTS)
		return PG_ERR_TOOBIG;
	icaltimezone *zone = pg_tz_ical(cl->tz);
	struct ics x = {
		.cl = cl, .r = r, .stamp_s = from_s, .tzid = pg_tz_name(cl->tz),
		.zone = zone == icaltimezone_get_utc_timezone() ? NULL : zone,
	};
	if (!(x.cal = icalcomponent_new_vcalendar()))
		return PG_ERR_NOMEM;
	pg_err err = add_header(&x);
	if (!err)
		err = add_shifts(&x, from_s, to_s);
	if (!err)
		err = add_overrides(&x, from_s, to_s);
	if (!err) {
		char *text = icalcomponent_as_ical_string_r(x.cal);
		err = text ? pg_buf_adds(out, text) : PG_ERR_NOMEM;
		free(text);
	}
	icalcomponent_free(x.cal);
	return err;
}
