/*
 * route.c - the delivery plan for a message (route.h): a pure function of
 * the client's preferences, the message's kind and urgency and an instant.
 * Business hours are evaluated in the client's zone through tz.h.
 */
#include <stdlib.h>
#include <string.h>

#include "pagegate/oncall.h"
#include "pagegate/route.h"
#include "pagegate/tz.h"
#include "pagegate/util.h"

/* How far ahead pg_client_next_open looks for an opening. */
#define NEXT_OPEN_MAX_DAYS 400

static const struct pg_tz *client_tz(const struct pg_client *cl)
{
	return cl->tz ? cl->tz : pg_tz_get("UTC");
}

static bool is_holiday(const struct pg_client *cl, int y, int m, int d)
{
	for (size_t i = 0; i < cl->n_holidays; i++) {
		const struct pg_date *h = &cl->holidays[i];
		if (h->year == y && h->month == m && h->day == d)
			return true;
	}
	return false;
}

bool pg_client_open(const struct pg_client *cl, int64_t at_s)
{
	const struct pg_tz *tz = client_tz(cl);
	struct pg_localtime lt;

	if (cl->n_hours == 0 || !tz)
		return false;
	pg_tz_local(tz, at_s, &lt);
	int minute = lt.hour * 60 + lt.min;
	bool in_hours = false;
	for (size_t i = 0; i < cl->n_hours && !in_hours; i++) {
		const struct pg_hours *h = &cl->hours[i];
		in_hours = (h->days >> lt.wday & 1u) &&
			   h->from_min <= minute && minute < h->to_min;
	}
	return in_hours && !is_holiday(cl, lt.year, lt.month, lt.day);
}

/* Walks local days from at_s's own date.  For each non-holiday day, every
 * range open on that weekday gives a candidate: its local opening time
 * converted to UTC (a time skipped by a DST gap becomes the end of the
 * gap).  A candidate counts only if it is >= at_s and really open then
 * (a range that lies wholly inside a DST gap never opens).  The earliest
 * candidate of the first day that has one wins. */
int64_t pg_client_next_open(const struct pg_client *cl, int64_t at_s)
{
	const struct pg_tz *tz = client_tz(cl);
	struct pg_localtime lt;

	if (cl->n_hours == 0 || !tz)
		return 0;
	if (pg_client_open(cl, at_s))
		return at_s;
	pg_tz_local(tz, at_s, &lt);
	int64_t day0 = pg_days_from_civil(lt.year, lt.month, lt.day);

	for (int k = 0; k <= NEXT_OPEN_MAX_DAYS; k++) {
		int y, m, d;
		pg_civil_from_days(day0 + k, &y, &m, &d);
		if (is_holiday(cl, y, m, d))
			continue;
		int wday = (int)((lt.wday + k) % 7);
		int64_t best = 0;
		for (size_t i = 0; i < cl->n_hours; i++) {
			const struct pg_hours *h = &cl->hours[i];
			if (!(h->days >> wday & 1u))
				continue;
			int64_t t = pg_tz_utc(tz, y, m, d, h->from_min / 60,
					      h->from_min % 60, 0);
			if (t < at_s) {
				/* Opened earlier today: still open at_s
				 * would have been caught above. */
				continue;
			}
			if ((best == 0 || t < best) && pg_client_open(cl, t))
				best = t;
		}
		if (best)
			return best;
	}
	return 0;
}

static bool rule_matches(const struct pg_rule *r, enum pg_kind kind,
			 enum pg_urgency urgency, bool open)
{
	if (r->kind >= 0 && r->kind != (int)kind)
		return false;
	if (r->urgency >= 0 && r->urgency != (int)urgency)
		return false;
	switch (r->hours) {
	case PG_HOURS_BUSINESS:
		return open;
	case PG_HOURS_AFTER:
		return !open;
	case PG_HOURS_ANY:
	default:
		return true;
	}
}

static bool plan_has(const struct pg_plan *p, size_t contact, size_t device)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].contact == contact && p->items[i].device == device)
			return true;
	return false;
}

static pg_err plan_add(struct pg_plan *p, size_t *cap,
		       const struct pg_plan_item *it)
{
	if (p->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct pg_plan_item *ni = realloc(p->items, nc * sizeof *ni);
		if (!ni)
			return PG_ERR_NOMEM;
		p->items = ni;
		*cap = nc;
	}
	p->items[p->n++] = *it;
	return PG_OK;
}

/* Adds every device of the rule's contacts that the rule's channel mask
 * selects, skipping (contact, device) pairs already planned. */
/* Adds every device of contact ci that the rule's channels allow. */
static pg_err add_contact(const struct pg_client *cl, const struct pg_rule *r,
			  size_t ci, int64_t hold_until, int esc_step,
			  struct pg_plan *p, size_t *cap)
{
	if (ci >= cl->n_contacts)
		return PG_OK;    /* cannot pass config validation */
	{
		const struct pg_contact *c = &cl->contacts[ci];
		if (c->checkin) {
			/* Kept for retrieval: no device, no channel mask,
			 * no hold (waiting in the mailbox is the hold). */
			struct pg_plan_item it = {
				.contact = ci, .device = PG_PLAN_NO_DEVICE,
				.channel = PG_CH_MAILBOX, .rule_line = r->line,
			};
			return plan_has(p, ci, PG_PLAN_NO_DEVICE) ? PG_OK
				: plan_add(p, cap, &it);
		}
		for (size_t di = 0; di < c->n_devices; di++) {
			enum pg_channel_kind ch = c->devices[di].channel;
			if (r->channels && !(r->channels >> ch & 1u))
				continue;
			if (plan_has(p, ci, di))
				continue;
			struct pg_plan_item it = {
				.contact = ci, .device = di, .channel = ch,
				.hold_until_s = hold_until, .rule_line = r->line,
				.esc_step = esc_step,
				.content = pg_content_level(cl, &c->devices[di], ch),
			};
			pg_err e = plan_add(p, cap, &it);
			if (e)
				return e;
		}
	}
	return PG_OK;
}

/* The rule's contacts, then whoever its on-call targets name at at_s (a
 * rotation that has not started yet names nobody). */
static pg_err add_rule_items(const struct pg_client *cl, const struct pg_rule *r,
			     int64_t at_s, int64_t hold_until, int esc_step,
			     struct pg_plan *p, size_t *cap)
{
	pg_err e;

	for (size_t i = 0; i < r->n_contacts; i++)
		if ((e = add_contact(cl, r, r->contacts[i], hold_until, esc_step, p, cap)))
			return e;
	for (size_t i = 0; i < r->n_oncall; i++) {
		size_t ci;

		if (r->oncall[i].rotation >= cl->n_rotations ||
		    pg_oncall_who(cl, &cl->rotations[r->oncall[i].rotation], at_s,
				  r->oncall[i].offset, &ci, NULL, NULL) != PG_OK)
			continue;
		if ((e = add_contact(cl, r, ci, hold_until, esc_step, p, cap)))
			return e;
	}
	return PG_OK;
}

pg_err pg_route(const struct pg_client *cl, enum pg_kind kind,
		enum pg_urgency urgency, int64_t at_s, struct pg_plan *out)
{
	size_t cap = 0;
	bool next_known = false;
	int64_t next_open = 0;

	memset(out, 0, sizeof *out);
	out->open = pg_client_open(cl, at_s);

	/* A hold never applies to an emergency or a dispatch: whatever the
	 * rule says, those go out now.  An answering service that sat on a
	 * burst pipe or a chest pain until Monday morning because a catch-all
	 * after-hours rule said hold = "business" would be failing at its one
	 * job; holds are for routine mail that can wait for the office. */
	bool never_hold = kind == PG_KIND_DISPATCH || urgency == PG_URG_EMERGENCY;

	for (size_t i = 0; i < cl->n_rules; i++) {
		const struct pg_rule *r = &cl->rules[i];
		if (!rule_matches(r, kind, urgency, out->open))
			continue;
		out->n_rules_matched++;

		int64_t hold = 0;
		if (r->hold_business && !out->open && !never_hold) {
			if (!next_known) {
				next_open = pg_client_next_open(cl, at_s);
				next_known = true;
			}
			hold = next_open;   /* 0 (send now) when no hours */
		}
		pg_err e = add_rule_items(cl, r, at_s, hold, 0, out, &cap);
		/* The first rule that escalates starts its policy: step 1
		 * goes out now, never held. */
		if (!e && r->escalate && !out->escalate &&
		    r->escalate <= cl->n_escalations) {
			out->escalate = r->escalate;
			e = add_rule_items(cl, &cl->escalations[r->escalate - 1].steps[0].target,
					   at_s, 0, 1, out, &cap);
		}
		if (e) {
			pg_plan_free(out);
			return e;
		}
		if (!r->cont)
			break;
	}
	return PG_OK;
}

int pg_esc_total(const struct pg_escalation *p)
{
	return p ? p->repeat * (int)p->n_steps : 0;
}

const struct pg_esc_step *pg_esc_step_of(const struct pg_escalation *p, int step)
{
	if (!p || p->n_steps == 0 || step < 1 || step > pg_esc_total(p))
		return NULL;
	return &p->steps[(size_t)(step - 1) % p->n_steps];
}

pg_err pg_route_step(const struct pg_client *cl, const struct pg_escalation *p,
		     int step, int64_t at_s, struct pg_plan *out)
{
	const struct pg_esc_step *st = pg_esc_step_of(p, step);
	size_t cap = 0;
	pg_err e;

	memset(out, 0, sizeof *out);
	if (!st)
		return PG_ERR_INVAL;
	out->open = pg_client_open(cl, at_s);
	out->escalate = (size_t)(p - cl->escalations) + 1;
	if ((e = add_rule_items(cl, &st->target, at_s, 0, step, out, &cap)))
		pg_plan_free(out);
	return e;
}

void pg_plan_free(struct pg_plan *p)
{
	if (!p)
		return;
	free(p->items);
	p->items = NULL;
	p->n = 0;
}

pg_err
pg_plan_deliveries(const struct pg_config *cfg,
	const struct pg_client *cl, const struct pg_message *m,
	const struct pg_plan *plan, int64_t now_ms,
	struct pg_delivery **out, size_t *n)
{
	struct pg_delivery *d;
	int prio = pg_priority(m->kind, m->urgency);

	*out = NULL;
	*n = 0;
	if (plan->n == 0)
		return PG_OK;
	if ((d = calloc(plan->n, sizeof *d)) == NULL)
		return PG_ERR_NOMEM;
	for (size_t i = 0; i < plan->n; i++) {
		/* A mailbox item has no device: its address is the contact's
		 * id, and it waits for retrieval without ever expiring. */
		static const struct pg_device mailbox_dev = { .channel = PG_CH_MAILBOX };
		const struct pg_plan_item *it = &plan->items[i];
		const struct pg_contact *c;
		const struct pg_device *dev;
		const struct pg_retry_policy *rp;
		bool mailbox = it->channel == PG_CH_MAILBOX;
		int64_t start;
		const char *to;

		if (it->contact >= cl->n_contacts || (mailbox ?
		    it->device != PG_PLAN_NO_DEVICE :
		    it->device >= cl->contacts[it->contact].n_devices)) {
			for (size_t k = 0; k < i; k++)
				pg_delivery_free(&d[k]);
			free(d);
			return PG_ERR_INVAL;
		}
		c = &cl->contacts[it->contact];
		dev = mailbox ? &mailbox_dev : &c->devices[it->device];
		rp = mailbox ? NULL : pg_config_retry(cfg, it->channel);
		if (mailbox) {
			d[i].state = PG_D_WAITING;
			start = now_ms;
		} else if (it->hold_until_s != 0 && it->hold_until_s * 1000 > now_ms) {
			/* A hold already over (cannot come from pg_route) sends now. */
			d[i].state = PG_D_HELD;
			start = it->hold_until_s * 1000;
		} else {
			d[i].state = PG_D_QUEUED;
			start = now_ms;
		}
		to = mailbox ? c->id : dev->to ? dev->to : "";
		d[i].message_id = m->id;
		d[i].contact_id = strdup(c->id);
		d[i].contact_name = pg_strdup(c->name);
		d[i].channel = it->channel;
		d[i].address = strdup(to);
		d[i].gateway = pg_strdup(dev->gateway);
		d[i].priority = prio;
		d[i].esc_step = it->esc_step;
		d[i].created_ms = now_ms;
		d[i].updated_ms = now_ms;
		d[i].next_try_ms = start;
		d[i].expires_ms = rp ? start + (int64_t)rp->give_up_s * 1000 : 0;
		*n = i + 1;
		if (!d[i].contact_id || (c->name && !d[i].contact_name) ||
		    !d[i].address || (dev->gateway && !d[i].gateway)) {
			for (size_t k = 0; k <= i; k++)
				pg_delivery_free(&d[k]);
			free(d);
			*n = 0;
			return PG_ERR_NOMEM;
		}
	}
	*out = d;
	return PG_OK;
}
