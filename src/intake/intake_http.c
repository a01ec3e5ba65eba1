/*
 * intake_http.c - the HTTP server of API v1 (intake.h): libmicrohttpd with
 * one thread per connection (handlers block on the store's group commit),
 * jansson for JSON.  Here: the server, a request's life (its body read up
 * to what its row takes), the answers and errors the handlers use, and
 * the handlers.  The endpoints are the table at the top of intake_route.c.
 *
 * Every error answers {"error":{"code","field","message"}}.  A request's
 * configuration is the live one when its headers arrived, held until the
 * request completes.
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/oncall.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define HTTP_MAX_CONNECTIONS 512u
#define HTTP_TIMEOUT_S       30u
/* A body over max_body is read and dropped (so that the client sees the
 * 413) up to this many times max_body; past it the connection is cut. */
#define DISCARD_FACTOR       16u
#define LIST_DEFAULT_LIMIT   50
#define LIST_MAX_LIMIT       1000

static const char JSON_TYPE[] = "application/json; charset=utf-8";

/* ---- responses ---- */

/* Queues status with data (malloc'd, taken) and extra headers given as
 * name, value pairs ending with NULL. */
enum MHD_Result
intake__respond(struct MHD_Connection *conn, struct intake_req *r, unsigned status,
		const char *ctype, char *data, size_t len, ...)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *name;
	va_list ap;

	resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	va_start(ap, len);
	while ((name = va_arg(ap, const char *)) != NULL)
		MHD_add_response_header(resp, name, va_arg(ap, const char *));
	va_end(ap);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

/* Queues j (taken) as JSON; hdr/val: one optional extra header. */
enum MHD_Result
intake__respond_json(struct MHD_Connection *conn, struct intake_req *r, unsigned status,
		     json_t *j, const char *hdr, const char *val)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (s == NULL) {
		static const char oom[] = "{\"error\":{\"code\":\"internal\",\"field\":\"\","
					  "\"message\":\"out of memory\"}}";

		if ((s = strdup(oom)) == NULL)
			return MHD_NO;
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		hdr = NULL;
	}
	return intake__respond(conn, r, status, JSON_TYPE, s, strlen(s), hdr, val, NULL);
}

enum MHD_Result
intake__respond_err(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r,
		    const struct pg_api_error *e, const char *hdr, const char *val)
{
	json_t *j;

	if (r->route && (r->route->flags & F_REJECTS) && e->status >= 400 &&
	    e->status < 500) {
		atomic_fetch_add(&h->ctx->metrics->messages_rejected, 1);
		pg_info("intake: rejected %d %s%s%s", e->status, e->code,
			e->field[0] ? " " : "", e->field);
	}
	j = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", e->code,
		      "field", e->field, "message", e->message);
	return intake__respond_json(conn, r, (unsigned)e->status, j, hdr, val);
}

/* Builds an error and answers it (fields are constants or already safe). */
enum MHD_Result
intake__fail(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r,
	     int status, const char *code, const char *field, const char *hdr,
	     const char *val, const char *fmt, ...)
{
	struct pg_api_error e;
	va_list ap;

	e.status = status;
	pg_strlcpy(e.code, code, sizeof e.code);
	pg_strlcpy(e.field, field, sizeof e.field);
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof e.message, fmt, ap);
	va_end(ap);
	return intake__respond_err(h, conn, r, &e, hdr, val);
}

/* Answers a store error: 503 with Retry-After when the store cannot take
 * or give work, 404 for a missing object, 500 otherwise. */
enum MHD_Result
intake__fail_store(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r,
		   pg_err e)
{
	if (e == PG_ERR_FULL || e == PG_ERR_IO || e == PG_ERR_STORE ||
	    e == PG_ERR_SHUTDOWN) {
		pg_warn("intake: store unavailable: %s", pg_strerror(e));
		return intake__fail(h, conn, r, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "store_unavailable", "", MHD_HTTP_HEADER_RETRY_AFTER,
				    INTAKE_RETRY_AFTER_S, "the message store is unavailable "
				    "(%s); nothing was stored, try again later",
				    pg_strerror(e));
	}
	if (e == PG_ERR_NOTFOUND)
		return intake__fail(h, conn, r, MHD_HTTP_NOT_FOUND, "not_found", "", NULL,
				    NULL, "no such message");
	pg_error("intake: internal error: %s", pg_strerror(e));
	return intake__fail(h, conn, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "",
			    NULL, NULL, "internal error: %s", pg_strerror(e));
}

/* ---- request checks ---- */

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

/* ---- handlers ---- */

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
		e = pg_intake_deliveries(r->cfg, cl, &m, &plan, m.received_ms, &d, &nd);
	if (e == PG_OK)
		e = pg_esc_begin(cl, &plan, &m, m.received_ms);
	if (e == PG_OK && (detail = route_detail(cl, &plan)) == NULL)
		e = PG_ERR_NOMEM;
	if (e == PG_OK)
		e = pg_store_submit(h->ctx->store, &m, d, nd, detail, &existing);
	if (e != PG_OK) {
		ret = intake__fail_store(h, conn, r, e);
	} else if (existing) {
		ret = answer_existing(h, conn, r, m.id);
	} else {
		char loc[64];

		atomic_fetch_add(&h->ctx->metrics->messages_received, 1);
		pg_info("intake: message %lld client %s operator %s %s/%s: "
			"%zu deliveries, %s", (long long)m.id, m.client_id,
			m.operator_name, pg_kind_name(m.kind),
			pg_urgency_name(m.urgency), nd, m.state);
		for (size_t i = 0; h->ctx->sched && i < nd; i++) {
			pg_err se = d[i].state == PG_D_WAITING ? PG_OK   /* mailbox */
				: pg_sched_add(h->ctx->sched, &d[i]);

			if (se != PG_OK)
				pg_warn("intake: delivery %lld not scheduled now (%s); "
					"it runs after the next restart",
					(long long)d[i].id, pg_strerror(se));
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
		    !pg_utf8_valid(s, strlen(s))) {
			*ret = intake__fail(h, conn, r, 400, "invalid", key, NULL, NULL,
					    "\"%s\" must be one line of at most %d bytes", key,
					    PG_MAX_NAME);
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
	if (by && by[0])
		snprintf(who, sizeof who, "%s (operator %s)", by, r->op->name);
	else
		snprintf(who, sizeof who, "operator %s", r->op->name);
	json_decref(body);
	if (!h->ctx->ack)
		return intake__fail(h, conn, r, 503, "unavailable", "", NULL, NULL,
				    "acknowledgements are not available");
	e = pg_ack_message(h->ctx->ack, r->p.id, 0, "api", who, &already);
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

enum MHD_Result
intake__do_oncall(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	const struct pg_client *cl = pg_config_client(r->cfg, r->p.client);
	const char *at = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "at");
	int64_t at_ms = pg_now_ms();
	json_t *j;

	if (!cl)
		return intake__fail(h, conn, r, 404, "unknown_client", "client", NULL, NULL,
				    "no client with that id");
	if (at && *at && pg_parse_iso8601(at, &at_ms) != 0)
		return intake__fail(h, conn, r, 400, "invalid", "at", NULL, NULL,
				    "at must be an RFC 3339 time such as "
				    "2026-12-24T22:00:00-06:00");
	if ((j = intake__oncall(h->ctx, r->cfg, cl, at_ms)) == NULL)
		return intake__fail(h, conn, r, 500, "internal", "", NULL, NULL,
				    "out of memory");
	return intake__respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

enum MHD_Result
intake__do_oncall_ics(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	const struct pg_client *cl = pg_config_client(r->cfg, r->p.client);
	const char *id = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "rotation");
	const struct pg_rotation *rot;
	char *text;
	size_t len;
	pg_err e;

	if (!cl)
		return intake__fail(h, conn, r, 404, "unknown_client", "client", NULL, NULL,
				    "no client with that id");
	if (id && *id)
		rot = pg_oncall_find(cl->rotations, cl->n_rotations, id);
	else if (cl->n_rotations == 1)
		rot = &cl->rotations[0];
	else
		return intake__fail(h, conn, r, 400, cl->n_rotations ? "missing" : "not_found",
				    "rotation", NULL, NULL, cl->n_rotations ?
				    "this client has several rotations: name one with "
				    "?rotation=ID" :
				    "this client has no on-call rotation");
	if (!rot)
		return intake__fail(h, conn, r, 404, "not_found", "rotation", NULL, NULL,
				    "no rotation with that id");
	if ((e = intake__oncall_ics(cl, rot, pg_now_ms(), &text, &len)) != PG_OK)
		return intake__fail(h, conn, r, 500, "internal", "", NULL, NULL,
				    "cannot build the calendar: %s", pg_strerror(e));
	return intake__respond(conn, r, MHD_HTTP_OK, "text/calendar; charset=utf-8", text,
			       len, NULL);
}

/* GET /v1/clients/{id}/mailbox: intake_mailbox.c; HEAD only peeks. */
enum MHD_Result
intake__do_mailbox(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_api_error err;
	json_t *j = NULL;
	pg_err e = intake__mailbox(h->ctx, r->cfg, conn, r->p.client, r->op->name,
				   strcmp(r->method, MHD_HTTP_METHOD_HEAD) == 0, &j, &err);

	if (e == PG_ERR_INVAL || e == PG_ERR_NOTFOUND)
		return intake__respond_err(h, conn, r, &err, NULL, NULL);
	if (e != PG_OK)
		return intake__fail_store(h, conn, r, e);
	return intake__respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

/* /cb/<channel>/...: handed to the channel driver. */
enum MHD_Result
intake__do_callback(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_http_resp resp;
	char *data;
	int status;

	status = intake__callback(h->ctx, r->cfg, conn, r->p.ch, r->method, r->p.url,
				  r->p.rest, r->body.data, r->body.len, &resp);
	if (status == 404 && resp.body.len == 0) {
		pg_buf_free(&resp.body);
		return intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				    "no such resource");
	}
	data = pg_buf_steal(&resp.body);
	if (!data) {
		pg_buf_free(&resp.body);
		return MHD_NO;
	}
	return intake__respond(conn, r, (unsigned)status, resp.content_type, data,
			       strlen(data), NULL);
}

/* /a/TOKEN: an HTML page, never cached, indexed, framed or referred. */
enum MHD_Result
intake__do_link(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_http_resp resp;
	int status = intake__link(h->ctx, r->cfg, r->post, r->p.token, &resp);
	char *data = pg_buf_steal(&resp.body);

	pg_buf_free(&resp.body);
	if (!data)
		return MHD_NO;
	return intake__respond(conn, r, (unsigned)status, resp.content_type, data,
			       strlen(data), "Referrer-Policy", "no-referrer",
			       "X-Robots-Tag", "noindex", "Content-Security-Policy",
			       "default-src 'none'; form-action 'self'", NULL);
}

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct intake_query *q = cls;
	size_t i, k;

	(void)kind;
	for (i = 0; i < q->n && strcmp(key, q->keys[i]) != 0; i++)
		;
	if (i < q->n) {
		q->count[i]++;
		q->v[i] = value;
		return MHD_YES;
	}
	if (q->unknown[0] == '\0') {
		for (k = 0; key[k] && k < sizeof q->unknown - 1; k++)
			q->unknown[k] = key[k] > 0x20 && key[k] < 0x7f ? key[k] : '?';
		q->unknown[k] = '\0';
		if (k == 0)
			pg_strlcpy(q->unknown, "?", sizeof q->unknown);
	}
	return MHD_YES;
}

const char *
intake__query(struct MHD_Connection *conn, struct intake_query *q, bool *repeated)
{
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, q);
	*repeated = false;
	if (q->unknown[0])
		return q->unknown;
	for (size_t i = 0; i < q->n; i++)
		if (q->count[i] > 1) {
			*repeated = true;
			return q->keys[i];
		}
	return NULL;
}

/* Query parameters of GET /v1/messages. */
#define LIST_KEYS 5
static const char *const list_keys[LIST_KEYS] = {
	"client", "state", "since", "limit", "unacknowledged"
};

/* A message state name as pg_store_submit derives them. */
static bool
message_state(const char *s)
{
	static const char *const states[] = {
		"unrouted", "pending", "held", "failed", "delivered", "cancelled", "sent",
		"waiting"
	};

	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (strcmp(s, states[i]) == 0)
			return true;
	return false;
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
	if (q.v[1]) {
		if (!message_state(q.v[1]))
			return intake__fail(h, conn, r, 400, "invalid", "state", NULL, NULL,
					    "state must be one of unrouted, pending, held, "
					    "failed, delivered, cancelled, sent, waiting");
		f.state = q.v[1];
	}
	if (q.v[2]) {
		char t[64];

		/* A '+' of an offset arrives as a space when not %-encoded. */
		pg_strlcpy(t, q.v[2], sizeof t);
		for (char *p = t + (strlen(t) > 19 ? 19 : strlen(t)); *p; p++)
			if (*p == ' ')
				*p = '+';
		if (strlen(q.v[2]) >= sizeof t || pg_parse_iso8601(t, &f.since_ms) != 0)
			return intake__fail(h, conn, r, 400, "invalid", "since", NULL, NULL,
					    "since must be an RFC 3339 time such as "
					    "2026-11-22T15:34:00Z");
	}
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
		if (f.unacknowledged && f.state)
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

enum MHD_Result
intake__do_health(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	(void)h;
	return intake__respond_json(conn, r, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"),
				    NULL, NULL);
}

enum MHD_Result
intake__do_metrics(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_buf b;
	size_t queued = 0, held = 0;
	char *s;

	if (h->ctx->sched)
		pg_sched_depth(h->ctx->sched, &queued, &held);
	pg_buf_init(&b, 1 << 20);
	int64_t unacked = 0;
	if (pg_store_count_unacked(h->ctx->store, &unacked) != PG_OK)
		unacked = -1;
	if (pg_metrics_render(h->ctx->metrics, queued, held, &b) != PG_OK ||
	    pg_metrics_render_esc(h->ctx->metrics, pg_esc_waiting(h->ctx->esc),
				  unacked, &b) != PG_OK ||
	    intake__mailbox_metrics(h->ctx, &b) != PG_OK ||
	    (s = pg_buf_steal(&b)) == NULL) {
		pg_buf_free(&b);
		return intake__fail(h, conn, r, 500, "internal", "", NULL, NULL,
				    "cannot render the metrics");
	}
	return intake__respond(conn, r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
			       s, strlen(s), NULL);
}

/*
 * MHD calls this once with the headers, once per piece of body and once
 * more at the end.  A POST is checked on the first call, so that a refused
 * body is never read (MHD then closes the connection).  Everything else is
 * answered on the last call: in MHD 0.9.75 an answer queued on the first
 * call always closes the connection, which would cost every GET its
 * keep-alive.  Bodies are kept up to max_body; beyond it (and for requests
 * that take no body) they are dropped, and an endless one is cut.
 */
static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **con_cls)
{
	struct pg_http *h = cls;
	struct intake_req *r = *con_cls;

	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof *r)) == NULL)
			return MHD_NO;
		pg_buf_init(&r->body, 0);
		*con_cls = r;
		r->post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
		r->method = method;
		r->status = intake__match(method, url, &r->route, &r->p, r->allow);
		return r->post ? intake__check(h, conn, r) : MHD_YES;
	}
	if (r->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size, keep;

		*upload_data_size = 0;
		if (!r->too_big) {
			pg_err e = pg_buf_add(&r->body, upload_data, n);

			if (e == PG_ERR_NOMEM)
				return MHD_NO;
			if (e != PG_OK) {
				r->too_big = true;
				pg_buf_free(&r->body);
			}
		}
		if (r->too_big) {
			keep = r->cfg && r->cfg->max_body > 65536 ? r->cfg->max_body : 65536;
			r->dropped += n;
			if (r->dropped / DISCARD_FACTOR > keep)
				return MHD_NO;   /* stop reading an endless body */
		}
		return MHD_YES;
	}
	return intake__serve(h, conn, r);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	  enum MHD_RequestTerminationCode toe)
{
	struct intake_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	pg_buf_free(&r->body);
	if (r->cfg)
		pg_config_release(r->cfg);
	free(r);
	*con_cls = NULL;
}

/* libmicrohttpd's own diagnostics, made into one safe log line.  Most are
 * about a client's malformed or abandoned request, which any client can
 * cause at will: INFO, not WARN (failing to listen is logged as an error
 * by pg_http_start). */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = ' ';
	for (size_t n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--)
		buf[n - 1] = '\0';
	pg_info("http: %s", buf);
}

pg_err
pg_http_start(struct pg_ctx *ctx, struct pg_http **out)
{
	struct pg_config *cfg = pg_live_get(ctx->live);
	struct addrinfo hints, *ai = NULL;
	struct pg_http *h;
	char port[16];
	unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_ERROR_LOG;
	int rc;

	*out = NULL;
	if (cfg == NULL)
		return PG_ERR_CONFIG;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", cfg->port);
	rc = getaddrinfo(cfg->listen ? cfg->listen : "127.0.0.1", port, &hints, &ai);
	if (rc != 0) {
		pg_error("http: cannot resolve listen address %s: %s",
			 cfg->listen ? cfg->listen : "127.0.0.1", gai_strerror(rc));
		pg_config_release(cfg);
		return PG_ERR_IO;
	}
	if ((h = calloc(1, sizeof *h)) == NULL) {
		freeaddrinfo(ai);
		pg_config_release(cfg);
		return PG_ERR_NOMEM;
	}
	h->ctx = ctx;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, handler, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,      /* first, to catch all */
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, completed, h,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (h->d == NULL) {
		pg_error("http: cannot listen on %s port %d",
			 cfg->listen ? cfg->listen : "127.0.0.1", cfg->port);
		pg_config_release(cfg);
		free(h);
		return PG_ERR_IO;
	}
	pg_info("http: listening on %s port %d", cfg->listen ? cfg->listen : "127.0.0.1",
		pg_http_port(h));
	pg_config_release(cfg);
	*out = h;
	return PG_OK;
}

int
pg_http_port(const struct pg_http *h)
{
	const union MHD_DaemonInfo *i;

	if (h == NULL || h->d == NULL)
		return 0;
	i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	return i ? (int)i->port : 0;
}

void
pg_http_stop(struct pg_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
