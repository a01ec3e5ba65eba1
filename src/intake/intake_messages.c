/*
 * intake_messages.c - the handlers of the message endpoints of API v1
 * (their rows are in intake_route.c):
 *
 *   GET  /v1/messages?client=&state=&since=&limit=&unacknowledged=
 *   POST /v1/messages                 submit (201; 200 for an idempotent repeat,
 *                                     422 for its key reused on another body)
 *   POST /v1/route/preview            the plan routing would make, not stored
 *   GET  /v1/messages/{id}            message, deliveries, attempts, ledger
 *   POST /v1/messages/{id}/ack        acknowledge on the caller's behalf
 *   POST /v1/messages/{id}/cancel     the caller called back: stop it all
 *   POST /v1/messages/{id}/escalate   run the escalation again from a step
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"
#include "pagegate/visible.h"

#define LIST_DEFAULT_LIMIT   50
#define LIST_MAX_LIMIT       1000

/* The Idempotency-Key header: absent -> *key = NULL; else 1..PG_MAX_IDEM_KEY
 * printable ASCII characters. */
static bool
idem_key(struct MHD_Connection *conn, const char **key)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
	size_t n;

	*key = v;
	if (v == NULL)
		return true;
	n = strlen(v);
	if (n == 0 || n > PG_MAX_IDEM_KEY)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

/* "rule at acme-hvac.conf:31 -> office by email; ..." for the ledger. */
static char *
route_detail(const struct pg_client *cl, const struct pg_plan *p)
{
	const char *file = cl->file ? cl->file : cl->id;
	const char *slash = strrchr(file, '/');
	struct pg_buf b;
	size_t i;

	if (slash)
		file = slash + 1;
	pg_buf_init(&b, 4096);
	if (p->n == 0) {
		if (p->n_rules_matched == 0)
			pg_buf_adds(&b, "no rule matched");
		else
			pg_buf_printf(&b, "%d rule(s) matched but named no device",
				      p->n_rules_matched);
	}
	for (i = 0; i < p->n && b.len < 3800; i++) {
		const struct pg_plan_item *it = &p->items[i];
		char iso[PG_ISO_LEN];

		if (it->esc_step)
			pg_buf_printf(&b, "%sescalation %s step %d at %s:%d -> %s by %s",
				      i ? "; " : "", cl->escalations[p->escalate - 1].id,
				      it->esc_step, file, it->rule_line,
				      cl->contacts[it->contact].id,
				      pg_channel_name(it->channel));
		else
			pg_buf_printf(&b, "%srule at %s:%d -> %s by %s", i ? "; " : "", file,
				      it->rule_line, cl->contacts[it->contact].id,
				      pg_channel_name(it->channel));
		if (it->hold_until_s)
			pg_buf_printf(&b, ", held until %s",
				      pg_iso8601(it->hold_until_s * 1000, iso));
	}
	if (i < p->n)
		pg_buf_adds(&b, "; ...");
	return pg_buf_steal(&b);
}

/* Answers an idempotent repeat with the first message, as stored. */
static enum MHD_Result
answer_existing(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r,
		int64_t id)
{
	struct pg_message_full f;
	pg_err e;
	json_t *j;

	memset(&f, 0, sizeof f);
	if ((e = pg_store_get_message(h->ctx->store, id, &f)) != PG_OK)
		return intake__fail_store(h, conn, r, e);
	j = intake__submit(&f.msg, f.deliveries, f.n_deliveries);
	pg_message_full_free(&f);
	pg_info("intake: idempotent repeat of message %lld", (long long)id);
	return intake__respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

enum MHD_Result
intake__do_submit(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_api_error err;
	struct pg_message m;
	const struct pg_client *cl;
	struct pg_plan plan;
	struct pg_delivery *d = NULL;
	size_t nd = 0;
	const char *key;
	char *detail = NULL;
	bool existing = false;
	enum MHD_Result ret;
	pg_err e;

	if (!idem_key(conn, &key))
		return intake__fail(h, conn, r, 400, "invalid", "Idempotency-Key", NULL,
				    NULL, "Idempotency-Key must be 1 to %d printable ASCII "
				    "characters", PG_MAX_IDEM_KEY);
	e = pg_intake_parse_message(r->body.data, r->body.len, r->cfg, &m, &cl, &err);
	if (e == PG_ERR_INVAL)
		return intake__respond_err(h, conn, r, &err, NULL, NULL);
	if (e != PG_OK)
		return intake__fail_store(h, conn, r, e);
	memset(&plan, 0, sizeof plan);
	m.received_ms = pg_now_ms();
	m.operator_name = strdup(r->op->name);
	m.idem_key = pg_strdup(key);
	if (m.operator_name == NULL || (key && m.idem_key == NULL))
		e = PG_ERR_NOMEM;
	if (e == PG_OK)
		e = pg_route(cl, m.kind, m.urgency, m.received_ms / 1000, &plan);
	if (e == PG_OK)
		e = pg_plan_deliveries(r->cfg, cl, &m, &plan, m.received_ms, &d, &nd);
	if (e == PG_OK)
		e = pg_esc_begin(cl, &plan, &m, m.received_ms);
	if (e == PG_OK && (detail = route_detail(cl, &plan)) == NULL)
		e = PG_ERR_NOMEM;
	if (e == PG_OK)
		e = pg_store_submit(h->ctx->store, &m, d, nd, detail, &existing);
	if (e == PG_ERR_EXISTS) {
		/* The key was used for another request: refusing is the only
		 * answer that loses nothing (a 200 with the first message
		 * would drop this one, perhaps an emergency, unseen).  422, as
		 * draft-ietf-httpapi-idempotency-key-header and payment APIs
		 * answer a reused key with a different payload. */
		pg_warn("intake: operator %s reused Idempotency-Key of message "
			"%lld for a different request: refused", m.operator_name,
			(long long)m.id);
		ret = intake__fail(h, conn, r, 422, "idempotency_conflict",
				   "Idempotency-Key", NULL, NULL,
				   "this Idempotency-Key was already used for a "
				   "different message (id %lld); this one was not "
				   "stored - send it with a new key", (long long)m.id);
	} else if (e != PG_OK) {
		ret = intake__fail_store(h, conn, r, e);
	} else if (existing) {
		ret = answer_existing(h, conn, r, m.id);
	} else {
		char loc[64];

		atomic_fetch_add(&h->ctx->metrics->messages_received, 1);
		pg_info("intake: message %lld client %s operator %s %s/%s: "
			"%zu deliveries, %s", (long long)m.id, m.client_id,
			m.operator_name, pg_kind_name(m.kind),
			pg_urgency_name(m.urgency), nd, pg_mstate_name(m.state));
		if (h->ctx->sched) {   /* (mailbox ones wait for a call) */
			pg_err se = pg_sched_add_many(h->ctx->sched, d, nd);

			if (se != PG_OK)
				pg_warn("intake: deliveries of message %lld not all "
					"scheduled now (%s); they run after the next "
					"restart", (long long)m.id, pg_strerror(se));
		}
		if (m.esc_policy && h->ctx->esc &&
		    pg_esc_wake(h->ctx->esc, m.id, m.esc_next_ms) != PG_OK)
			pg_warn("intake: escalation of message %lld not timed now; "
				"it runs after the next restart", (long long)m.id);
		snprintf(loc, sizeof loc, "/v1/messages/%lld", (long long)m.id);
		ret = intake__respond_json(conn, r, MHD_HTTP_CREATED, intake__submit(&m, d, nd),
					   MHD_HTTP_HEADER_LOCATION, loc);
	}
	for (size_t i = 0; i < nd; i++)
		pg_delivery_free(&d[i]);
	free(d);
	free(detail);
	pg_plan_free(&plan);
	pg_message_free(&m);
	return ret;
}

enum MHD_Result
intake__do_preview(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_api_error err;
	const struct pg_client *cl;
	enum pg_kind kind;
	enum pg_urgency urg;
	int64_t at_ms, at_s, next;
	struct pg_plan plan;
	json_t *j;
	pg_err e;

	e = pg_intake_parse_preview(r->body.data, r->body.len, r->cfg, pg_now_ms(),
				    &cl, &kind, &urg, &at_ms, &err);
	if (e == PG_ERR_INVAL)
		return intake__respond_err(h, conn, r, &err, NULL, NULL);
	if (e != PG_OK)
		return intake__fail_store(h, conn, r, e);
	at_s = at_ms >= 0 ? at_ms / 1000 : (at_ms - 999) / 1000;
	memset(&plan, 0, sizeof plan);
	if ((e = pg_route(cl, kind, urg, at_s, &plan)) != PG_OK)
		return intake__fail_store(h, conn, r, e);
	next = pg_client_next_open(cl, at_s);
	j = intake__preview(cl, kind, urg, at_ms, &plan, next);
	pg_plan_free(&plan);
	return intake__respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

enum MHD_Result
intake__do_get(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_message_full f;
	json_t *j;
	pg_err e;

	memset(&f, 0, sizeof f);
	if ((e = pg_store_get_message(h->ctx->store, r->p.id, &f)) != PG_OK)
		return intake__fail_store(h, conn, r, e);
	j = intake__full(&f);
	pg_message_full_free(&f);
	return intake__respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

/* The optional body of an operator action: empty, or a JSON object whose
 * only member may be `key` of type t.  Sets *body (the caller decrefs;
 * NULL when empty) and *val (NULL when absent).  Returns false when the
 * request has been answered with an error (*ret). */
static bool
action_body(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r,
	    const char *key, json_type t, const char *example, json_t **body,
	    json_t **val, enum MHD_Result *ret)
{
	json_error_t jerr;
	const char *k;
	json_t *v;

	*body = *val = NULL;
	if (r->body.len == 0)
		return true;
	*body = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(*body)) {
		json_decref(*body);
		*body = NULL;
		*ret = intake__fail(h, conn, r, 400, "invalid_json", "", NULL, NULL,
				    "the body must be a JSON object such as %s", example);
		return false;
	}
	json_object_foreach(*body, k, v) {
		if (strcmp(k, key) != 0 || json_typeof(v) != t) {
			*ret = intake__fail(h, conn, r, 400, "invalid",
					    strcmp(k, key) ? k : key, NULL, NULL,
					    "only \"%s\" (%s) may be given", key,
					    t == JSON_STRING ? "a string" : "a whole number");
			json_decref(*body);
			*body = NULL;
			return false;
		}
	}
	*val = json_object_get(*body, key);
	if (t == JSON_STRING && *val) {
		const char *s = json_string_value(*val);
		if (strlen(s) > PG_MAX_NAME || pg_has_ctl(s, false) ||
		    !pg_utf8_valid(s, strlen(s)) ||
		    pg_visible_bad(s, strcmp(key, "by") == 0 ? PG_VIS_NAME : PG_VIS_TEXT,
				   NULL)) {
			*ret = intake__fail(h, conn, r, 400, "invalid", key, NULL, NULL,
					    "\"%s\" must be one line of at most %d bytes, "
					    "without characters that change how it "
					    "displays", key, PG_MAX_NAME);
			json_decref(*body);
			*body = *val = NULL;
			return false;
		}
	}
	return true;
}

/* POST /v1/messages/{id}/ack, body empty or {"by": "..."}: an operator
 * acknowledges on the caller's behalf (e.g. the on-call doctor phoned
 * the office).  200 with the message's acknowledgement, also when it was
 * acknowledged before ("already": true).  Stops its escalation. */
enum MHD_Result
intake__do_ack(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	char who[PG_MAX_NAME + 64];
	const char *by;
	json_t *body, *v, *j;
	struct pg_message m;
	bool already = false;
	enum MHD_Result ret;
	pg_err e;

	if (!action_body(h, conn, r, "by", JSON_STRING, "{\"by\": \"...\"}",
			 &body, &v, &ret))
		return ret;
	by = v ? json_string_value(v) : NULL;
	intake__who(who, sizeof who, by, r->op->name);
	json_decref(body);
	if (!h->ctx->ack)
		return intake__fail(h, conn, r, 503, "unavailable", "", NULL, NULL,
				    "acknowledgements are not available");
	e = pg_ack_message(h->ctx->ack, r->p.id, 0, intake__via(r), who, &already);
	if (e == PG_ERR_NOTFOUND)
		return intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				    "no message %lld", (long long)r->p.id);
	if (e != PG_OK)
		return intake__fail_store(h, conn, r, e);
	memset(&m, 0, sizeof m);
	if ((e = pg_store_get_msg(h->ctx->store, r->p.id, &m)) != PG_OK)
		return intake__fail_store(h, conn, r, e);
	j = json_pack("{s:I,s:b,s:b,s:s?}", "id", (json_int_t)m.id, "acknowledged", 1,
		      "already", already, "acked_by", m.acked_by);
	if (j && m.acked_ms) {
		char iso[PG_ISO_LEN];
		json_object_set_new(j, "acked_at", json_string(pg_iso8601(m.acked_ms, iso)));
	}
	pg_message_free(&m);
	return intake__respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

/* POST /v1/messages/{id}/cancel, body empty or {"reason": "..."}: the
 * caller called back, never mind.  Stops the escalation and cancels every
 * delivery not yet attempted; answers with the message. */
enum MHD_Result
intake__do_cancel(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	char who[PG_MAX_NAME + 16];
	json_t *body, *v;
	enum MHD_Result ret;
	size_t n = 0;
	pg_err e;

	if (!action_body(h, conn, r, "reason", JSON_STRING,
			 "{\"reason\": \"caller called back\"}", &body, &v, &ret))
		return ret;
	snprintf(who, sizeof who, "operator %s", r->op->name);
	e = pg_store_cancel(h->ctx->store, r->p.id, who, v ? json_string_value(v) : NULL, &n);
	json_decref(body);
	if (e == PG_ERR_NOTFOUND)
		return intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				    "no message %lld", (long long)r->p.id);
	if (e != PG_OK)
		return intake__fail_store(h, conn, r, e);
	pg_info("intake: message %lld cancelled by %s: %zu deliveries cancelled",
		(long long)r->p.id, who, n);
	return intake__do_get(h, conn, r);
}

/* POST /v1/messages/{id}/escalate, body empty or {"from_step": N}: runs
 * the message's escalation again from step N (default 1) now, withdrawing
 * an acknowledgement (the tech said "on my way" an hour ago and never
 * came).  409 when the message has no escalation policy. */
enum MHD_Result
intake__do_escalate(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	char who[PG_MAX_NAME + 16];
	struct pg_message m;
	json_t *body, *v;
	enum MHD_Result ret;
	int64_t from = 1, next = 0;
	int total;
	pg_err e;

	if (!action_body(h, conn, r, "from_step", JSON_INTEGER, "{\"from_step\": 2}",
			 &body, &v, &ret))
		return ret;
	if (v)
		from = json_integer_value(v);
	json_decref(body);
	memset(&m, 0, sizeof m);
	if ((e = pg_store_get_msg(h->ctx->store, r->p.id, &m)) == PG_ERR_NOTFOUND)
		return intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				    "no message %lld", (long long)r->p.id);
	if (e != PG_OK)
		return intake__fail_store(h, conn, r, e);
	total = m.esc_policy ? m.esc_total : 0;
	pg_message_free(&m);
	if (total == 0)
		return intake__fail(h, conn, r, 409, "no_escalation", "", NULL, NULL,
				    "message %lld has no escalation policy (its client's rule "
				    "has no escalate)", (long long)r->p.id);
	if (from < 1 || from > total)
		return intake__fail(h, conn, r, 400, "invalid", "from_step", NULL, NULL,
				    "from_step must be from 1 to %d", total);
	snprintf(who, sizeof who, "operator %s", r->op->name);
	if ((e = pg_store_esc_restart(h->ctx->store, r->p.id, (int)from, who, &next)))
		return intake__fail_store(h, conn, r, e);
	if (h->ctx->esc && pg_esc_wake(h->ctx->esc, r->p.id, next) != PG_OK)
		pg_warn("intake: re-triggered escalation of message %lld not timed "
			"now; it runs after the next restart", (long long)r->p.id);
	pg_info("intake: escalation of message %lld restarted from step %lld by %s",
		(long long)r->p.id, (long long)from, who);
	return intake__do_get(h, conn, r);
}

/* Query parameters of GET /v1/messages. */
#define LIST_KEYS 5
static const char *const list_keys[LIST_KEYS] = {
	"client", "state", "since", "limit", "unacknowledged"
};

/* "unrouted, pending, ...": every message state's name, for an error. */
static const char *
mstate_names(char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int s = PG_M_ANY + 1; s < PG_M__COUNT && o < n; s++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "",
				      pg_mstate_name((enum pg_mstate)s));
	return buf;
}

enum MHD_Result
intake__do_list(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct intake_query q = { .keys = list_keys, .n = LIST_KEYS };
	struct pg_list_filter f = { .limit = LIST_DEFAULT_LIMIT };
	struct pg_message *v = NULL;
	const char *bad;
	bool repeated;
	size_t n = 0;
	json_t *j;
	pg_err e;

	if ((bad = intake__query(conn, &q, &repeated)) && !repeated)
		return intake__fail(h, conn, r, 400, "unknown_field", bad, NULL, NULL,
				    "unknown query parameter; use client, state, since, limit "
				    "and unacknowledged");
	if (bad)
		return intake__fail(h, conn, r, 400, "invalid", bad, NULL, NULL,
				    "%s is given more than once", bad);
	for (int i = 0; i < LIST_KEYS; i++)      /* "?client=" means no filter */
		if (q.v[i] && !*q.v[i])
			q.v[i] = NULL;
	if (q.v[0]) {
		if (strlen(q.v[0]) > PG_MAX_NAME || pg_has_ctl(q.v[0], false) ||
		    !pg_utf8_valid(q.v[0], strlen(q.v[0])))
			return intake__fail(h, conn, r, 400, "invalid", "client", NULL, NULL,
					    "client must be a client id");
		f.client_id = q.v[0];
	}
	if (q.v[1] && pg_mstate_parse(q.v[1], &f.state)) {
		char names[160];

		return intake__fail(h, conn, r, 400, "invalid", "state", NULL, NULL,
				    "state must be one of %s", mstate_names(names, sizeof names));
	}
	if (q.v[2] && !intake__query_time(q.v[2], &f.since_ms))
		return intake__fail(h, conn, r, 400, "invalid", "since", NULL, NULL,
				    "since must be an RFC 3339 time such as "
				    "2026-11-22T15:34:00Z");
	if (q.v[3]) {
		const char *s = q.v[3];
		size_t k = strspn(s, "0123456789");

		f.limit = (k == strlen(s) && k <= 4) ? atoi(s) : 0;
		if (f.limit < 1 || f.limit > LIST_MAX_LIMIT)
			return intake__fail(h, conn, r, 400, "invalid", "limit", NULL, NULL,
					    "limit must be a whole number from 1 to %d",
					    LIST_MAX_LIMIT);
	}
	if (q.v[4]) {
		if (strcmp(q.v[4], "true") != 0 && strcmp(q.v[4], "false") != 0)
			return intake__fail(h, conn, r, 400, "invalid", "unacknowledged",
					    NULL, NULL, "unacknowledged must be true or false");
		f.unacknowledged = q.v[4][0] == 't';
		if (f.unacknowledged && f.state != PG_M_ANY)
			return intake__fail(h, conn, r, 400, "invalid", "unacknowledged",
					    NULL, NULL,
					    "unacknowledged cannot be combined with state");
	}
	if ((e = pg_store_list(h->ctx->store, &f, &v, &n)) != PG_OK)
		return intake__fail_store(h, conn, r, e);
	j = intake__list(v, n);
	pg_message_list_free(v, n);
	return intake__respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}
