/*
 * intake_view.c - the JSON views of API v1 (intake_priv.h): stored
 * messages, deliveries, attempts and ledger events, and routing previews.
 * Text that is not valid UTF-8 (a peer's reply may carry anything) is
 * shown with '?' for the bad bytes rather than breaking the answer.
 * Times are RFC 3339 UTC (pg_iso8601); a time not yet reached is null.
 */
#include <stdlib.h>
#include <string.h>

#include "intake_priv.h"
#include "pagegate/escalate.h"
#include "pagegate/util.h"

/* A JSON string from stored text; bytes that are not UTF-8 (a peer's reply
 * could carry any) become '?'.  NULL -> null. */
static json_t *
jstr(const char *s)
{
	size_t n;
	char *c;
	json_t *j;

	if (s == NULL)
		return json_null();
	n = strlen(s);
	if (pg_utf8_valid(s, n))
		return json_stringn(s, n);
	if ((c = strdup(s)) == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned char b = (unsigned char)c[i];
		size_t k = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;

		if (k > n - i || !pg_utf8_valid(c + i, k)) {
			c[i++] = '?';
			continue;
		}
		i += k;
	}
	j = json_stringn(c, n);
	free(c);
	return j;
}

json_t *
intake__time(int64_t ms)
{
	char buf[PG_ISO_LEN];

	return ms ? json_string(pg_iso8601(ms, buf)) : json_null();
}

/* Sets o[k] = v (stealing v); a NULL v or a failure marks *bad. */
static void
jset(json_t *o, const char *k, json_t *v, bool *bad)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		*bad = true;
}

static void
jpush(json_t *a, json_t *v, bool *bad)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		*bad = true;
}

/* Finishes building o: on a failure somewhere, frees it and returns NULL. */
static json_t *
jdone(json_t *o, bool bad)
{
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* {"id","contact","channel","to","state","hold_until"?} (the submit
 * answer); full adds everything the ledger view shows. */
static json_t *
delivery_json(const struct pg_delivery *d, bool full)
{
	json_t *o = json_object();
	bool bad = o == NULL;

	if (bad)
		return NULL;
	jset(o, "id", json_integer(d->id), &bad);
	jset(o, "contact", jstr(d->contact_id), &bad);
	if (full)
		jset(o, "contact_name", jstr(d->contact_name), &bad);
	jset(o, "channel", json_string(pg_channel_name(d->channel)), &bad);
	jset(o, "to", jstr(d->address), &bad);
	jset(o, "state", json_string(pg_dstate_name(d->state)), &bad);
	if (d->state == PG_D_HELD)
		jset(o, "hold_until", intake__time(d->next_try_ms), &bad);
	if (d->esc_step)
		jset(o, "escalation_step", json_integer(d->esc_step), &bad);
	if (full) {
		jset(o, "gateway", jstr(d->gateway), &bad);
		jset(o, "priority", json_integer(d->priority), &bad);
		jset(o, "created", intake__time(d->created_ms), &bad);
		jset(o, "next_try", pg_dstate_final(d->state) ||
		     d->state == PG_D_WAITING ? json_null()
			: intake__time(d->next_try_ms), &bad);
		jset(o, "expires", intake__time(d->expires_ms), &bad);
		jset(o, "updated", intake__time(d->updated_ms), &bad);
		jset(o, "last_reply", jstr(d->last_reply), &bad);
	}
	return jdone(o, bad);
}

static json_t *
attempt_json(const struct pg_attempt *a)
{
	json_t *o = json_object();
	bool bad = o == NULL;
	bool done = a->finished_ms != 0;

	if (bad)
		return NULL;
	jset(o, "id", json_integer(a->id), &bad);
	jset(o, "started", intake__time(a->started_ms), &bad);
	jset(o, "finished", intake__time(a->finished_ms), &bad);
	jset(o, "duration_ms", done ? json_integer(a->finished_ms - a->started_ms)
				    : json_null(), &bad);
	jset(o, "outcome", done ? json_string(pg_outcome_name(a->outcome))
				: json_null(), &bad);
	jset(o, "reply", jstr(a->reply), &bad);
	return jdone(o, bad);
}

/* "ack_ref", "acknowledged" and, once acknowledged, "acked_at" and
 * "acked_by". */
static void
ack_json(json_t *o, const struct pg_message *m, bool *bad)
{
	if (m->ack_ref[0])
		jset(o, "ack_ref", json_string(m->ack_ref), bad);
	jset(o, "acknowledged", json_boolean(m->acked_ms != 0), bad);
	if (m->acked_ms) {
		jset(o, "acked_at", intake__time(m->acked_ms), bad);
		jset(o, "acked_by", jstr(m->acked_by), bad);
	}
	/* The operators' flag: an escalation ran out and nobody answered. */
	jset(o, "unacknowledged", json_boolean(m->esc_policy && m->acked_ms == 0 &&
		m->esc_state == PG_ES_EXHAUSTED), bad);
	if (m->esc_policy) {
		json_t *x = json_object();
		bool active = m->esc_state == PG_ES_ACTIVE;

		if (x) {
			jset(x, "policy", jstr(m->esc_policy), bad);
			jset(x, "state", json_string(pg_esc_state_name(m->esc_state)), bad);
			jset(x, "steps_fired", json_integer(m->esc_fired), bad);
			jset(x, "steps", json_integer(m->esc_total), bad);
			jset(x, active && m->esc_fired >= m->esc_total ? "unacknowledged_at"
								     : "next_step_at",
			     active ? intake__time(m->esc_next_ms) : json_null(), bad);
		}
		jset(o, "escalation", x, bad);
	}
}

/* The message itself; with_body adds text and fields. */
static json_t *
message_json(const struct pg_message *m, bool with_fields)
{
	json_t *o = json_object(), *caller = json_object(), *f = NULL;
	bool bad = o == NULL || caller == NULL;

	if (bad) {
		json_decref(o);
		json_decref(caller);
		return NULL;
	}
	jset(caller, "name", jstr(m->caller_name), &bad);
	jset(caller, "phone", jstr(m->caller_phone), &bad);
	jset(caller, "company", jstr(m->caller_company), &bad);
	jset(o, "id", json_integer(m->id), &bad);
	jset(o, "client", jstr(m->client_id), &bad);
	jset(o, "kind", json_string(pg_kind_name(m->kind)), &bad);
	jset(o, "urgency", json_string(pg_urgency_name(m->urgency)), &bad);
	jset(o, "caller", caller, &bad);
	jset(o, "text", jstr(m->text), &bad);
	if (with_fields) {
		if ((f = json_object()) == NULL)
			bad = true;
		for (size_t i = 0; f && i < m->n_fields; i++)
			jset(f, m->fields[i].key, jstr(m->fields[i].value), &bad);
		jset(o, "fields", f, &bad);
	}
	jset(o, "operator", jstr(m->operator_name), &bad);
	jset(o, "received", intake__time(m->received_ms), &bad);
	jset(o, "state", json_string(pg_mstate_name(m->state)), &bad);
	ack_json(o, m, &bad);
	return jdone(o, bad);
}

/* The answer to a submit: the message's id, state and deliveries. */
json_t *
intake__submit(const struct pg_message *m, const struct pg_delivery *d, size_t nd)
{
	json_t *o = json_object(), *a = json_array();
	bool bad = o == NULL || a == NULL;

	for (size_t i = 0; !bad && i < nd; i++)
		jpush(a, delivery_json(&d[i], false), &bad);
	if (o) {
		jset(o, "id", json_integer(m->id), &bad);
		jset(o, "client", jstr(m->client_id), &bad);
		jset(o, "state", json_string(pg_mstate_name(m->state)), &bad);
		jset(o, "received", intake__time(m->received_ms), &bad);
		ack_json(o, m, &bad);
	}
	if (o && a)
		jset(o, "deliveries", a, &bad);
	else
		json_decref(a);
	return jdone(o, bad);
}

/* GET /v1/messages/{id}: the message, deliveries with attempts, ledger. */
json_t *
intake__full(const struct pg_message_full *f)
{
	json_t *o = message_json(&f->msg, true), *ds = json_array(), *ev = json_array();
	bool bad = o == NULL || ds == NULL || ev == NULL;
	const char *silenced = NULL;

	for (size_t i = 0; !bad && i < f->n_deliveries; i++) {
		json_t *d = delivery_json(&f->deliveries[i], true), *at = json_array();

		for (size_t k = 0; d && at && k < f->n_attempts; k++)
			if (f->attempts[k].delivery_id == f->deliveries[i].id)
				jpush(at, attempt_json(&f->attempts[k]), &bad);
		if (d && at)
			jset(d, "attempts", at, &bad);
		else
			json_decref(at);
		jpush(ds, d, &bad);
	}
	for (size_t i = 0; !bad && i < f->n_events; i++) {
		const struct pg_event *e = &f->events[i];
		json_t *x = json_object();

		if (x) {
			jset(x, "at", intake__time(e->at_ms), &bad);
			jset(x, "type", jstr(e->type), &bad);
			jset(x, "delivery", e->delivery_id ? json_integer(e->delivery_id)
							   : json_null(), &bad);
			jset(x, "detail", jstr(e->detail), &bad);
		}
		jpush(ev, x, &bad);
	}
	if (o == NULL) {
		json_decref(ds);
		json_decref(ev);
		return NULL;
	}
	jset(o, "deliveries", ds, &bad);
	jset(o, "ledger", ev, &bad);
	jset(o, "attention", json_boolean(intake__attention(f, &silenced)), &bad);
	jset(o, "silenced_by", jstr(silenced), &bad);
	return jdone(o, bad);
}

json_t *
intake__list(const struct pg_message *v, size_t n)
{
	json_t *o = json_object(), *a = json_array();
	bool bad = o == NULL || a == NULL;

	for (size_t i = 0; !bad && i < n; i++)
		jpush(a, message_json(&v[i], false), &bad);
	if (o == NULL) {
		json_decref(a);
		return NULL;
	}
	jset(o, "messages", a, &bad);
	return jdone(o, bad);
}

/* {"contact","contact_name","channel","to"} of a plan item. */
static json_t *
item_json(const struct pg_client *cl, const struct pg_plan_item *it, bool *bad)
{
	const struct pg_contact *c = &cl->contacts[it->contact];
	/* a mailbox item has no device: it goes to the contact's id */
	const struct pg_device *dv = it->device < c->n_devices ?
		&c->devices[it->device] : NULL;
	json_t *x = json_object();

	if (x) {
		jset(x, "contact", jstr(c->id), bad);
		jset(x, "contact_name", jstr(c->name), bad);
		jset(x, "channel", json_string(pg_channel_name(it->channel)), bad);
		jset(x, "to", jstr(!dv ? c->id : dv->to ? dv->to : ""), bad);
	}
	return x;
}

/* The escalation timeline of the plan's policy if nobody acknowledges:
 * each step with its time and whom it would reach then (on-call
 * resolved at that instant), and when the message would be flagged. */
static json_t *
escalation_json(const struct pg_client *cl, const struct pg_plan *plan,
		int64_t at_s, bool *bad)
{
	const struct pg_escalation *p = &cl->escalations[plan->escalate - 1];
	json_t *o = json_object(), *steps = json_array();

	if (!o || !steps) {
		json_decref(o);
		json_decref(steps);
		*bad = true;
		return NULL;
	}
	for (int k = 1; !*bad && k <= pg_esc_total(p); k++) {
		int64_t t = pg_esc_step_at(p, at_s, k);
		json_t *x = json_object(), *who = json_array();
		struct pg_plan sp;

		if (pg_route_step(cl, p, k, t, &sp) != PG_OK) {
			*bad = true;
			json_decref(x);
			json_decref(who);
			break;
		}
		for (size_t i = 0; who && i < sp.n; i++)
			jpush(who, item_json(cl, &sp.items[i], bad), bad);
		pg_plan_free(&sp);
		if (x) {
			jset(x, "step", json_integer(k), bad);
			jset(x, "at", intake__time(t * 1000), bad);
			jset(x, "wait_s", json_integer(pg_esc_step_of(p, k)->wait_s), bad);
			jset(x, "line", json_integer(pg_esc_step_of(p, k)->line), bad);
			jset(x, "deliveries", who, bad);
		} else {
			json_decref(who);
		}
		jpush(steps, x, bad);
	}
	jset(o, "policy", jstr(p->id), bad);
	jset(o, "repeat", json_integer(p->repeat), bad);
	jset(o, "steps", steps, bad);
	jset(o, "unacknowledged_at", intake__time(pg_esc_end_at(p, at_s) * 1000), bad);
	return o;
}

json_t *
intake__preview(const struct pg_client *cl, enum pg_kind kind,
		enum pg_urgency urg, int64_t at_ms, const struct pg_plan *plan,
		int64_t next_open_s)
{
	json_t *o = json_object(), *a = json_array();
	bool bad = o == NULL || a == NULL;
	char iso[PG_ISO_LEN];

	for (size_t i = 0; !bad && i < plan->n; i++) {
		const struct pg_plan_item *it = &plan->items[i];
		json_t *x = item_json(cl, it, &bad);

		if (x) {
			jset(x, "hold_until", intake__time(it->hold_until_s * 1000), &bad);
			jset(x, "rule_line", json_integer(it->rule_line), &bad);
			jset(x, "content", json_string(pg_content_name(it->content)), &bad);
			if (it->esc_step)
				jset(x, "escalation_step", json_integer(it->esc_step), &bad);
		}
		jpush(a, x, &bad);
	}
	if (o == NULL) {
		json_decref(a);
		return NULL;
	}
	jset(o, "client", jstr(cl->id), &bad);
	jset(o, "kind", json_string(pg_kind_name(kind)), &bad);
	jset(o, "urgency", json_string(pg_urgency_name(urg)), &bad);
	jset(o, "at", json_string(pg_iso8601(at_ms, iso)), &bad);
	jset(o, "open", json_boolean(plan->open), &bad);
	jset(o, "next_open", intake__time(next_open_s * 1000), &bad);
	jset(o, "rules_matched", json_integer(plan->n_rules_matched), &bad);
	jset(o, "deliveries", a, &bad);
	if (plan->escalate)
		jset(o, "escalation", escalation_json(cl, plan, at_ms / 1000, &bad), &bad);
	return jdone(o, bad);
}

/* A message with its text and fields, as GET /v1/messages/{id} shows it
 * (without deliveries and ledger): for the mailbox. */
json_t *
intake__message(const struct pg_message *m)
{
	return message_json(m, true);
}
