/*
 * intake_http.c - the HTTP server of API v1 (intake.h): libmicrohttpd with
 * one thread per connection (handlers block on the store's group commit),
 * jansson for JSON.
 *
 *   GET  /healthz                   no auth
 *   GET  /metrics                   no auth, Prometheus text
 *   POST /v1/messages               submit (201; 200 for an idempotent repeat)
 *   GET  /v1/messages?client=&state=&since=&limit=
 *   GET  /v1/messages/{id}          message, deliveries, attempts, ledger
 *   POST /v1/route/preview          the plan routing would make, not stored
 *   POST /v1/messages/{id}/ack      acknowledge on the caller's behalf
 *   GET  /v1/clients/{id}/oncall    who is on call (?at=)
 *   GET  /v1/clients/{id}/oncall.ics  the schedule as iCalendar (token or ?key=)
 *   GET  /v1/clients/{id}/mailbox   retrieve the check-in mailbox (?peek=true)
 *   ANY  /cb/<channel>/...          peers' reports and replies (driver's http())
 *   GET/POST /a/TOKEN               signed acknowledgement link (intake_link.c)
 *
 * Every /v1 request needs "Authorization: Bearer TOKEN" (checked against
 * the live configuration, never logged).  Every error answers
 * {"error":{"code","field","message"}}.  A request's configuration is the
 * live one when its headers arrived, held until the request completes.
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
#define RETRY_AFTER_S        "5"
/* A body over max_body is read and dropped (so that the client sees the
 * 413) up to this many times max_body; past it the connection is cut. */
#define DISCARD_FACTOR       16u
#define LIST_DEFAULT_LIMIT   50
#define LIST_MAX_LIMIT       1000

static const char JSON_TYPE[] = "application/json; charset=utf-8";

struct pg_http {
	struct MHD_Daemon *d;
	struct pg_ctx *ctx;
};

enum action {
	A_NONE = 0, A_HEALTH, A_METRICS, A_SUBMIT, A_LIST, A_GET, A_PREVIEW,
	A_ACK, A_CALLBACK, A_ONCALL, A_ONCALL_ICS, A_CANCEL, A_ESCALATE, A_LINK,
	A_MAILBOX
};
/* POSTs about one message whose body may be empty. */
#define OPERATOR_ACTION(a) ((a) == A_ACK || (a) == A_CANCEL || (a) == A_ESCALATE)

/* Per-request state (MHD's con_cls). */
struct req {
	enum action act;
	struct pg_config *cfg;       /* held until completion; NULL for no-auth routes */
	const struct pg_operator *op;
	int64_t id;                  /* A_GET, A_ACK */
	enum pg_channel_kind ch;     /* A_CALLBACK */
	char client[72];             /* A_ONCALL, A_ONCALL_ICS, A_MAILBOX */
	char path[512];              /* A_CALLBACK: the whole path; A_LINK: the token */
	const char *sub;             /* A_CALLBACK: what follows /cb/<channel> */
	const char *method;          /* MHD's, valid for the request */
	int status;                  /* of route(): 200, 404 or 405 */
	const char *allow;           /* for 405 */
	bool post;
	struct pg_buf body;
	bool too_big;
	unsigned long long dropped;
	bool answered;               /* a response has been queued */
};

/* ---- responses ---- */

/* Queues status with data (malloc'd, taken) and extra headers given as
 * name, value pairs ending with NULL. */
static enum MHD_Result
respond(struct MHD_Connection *conn, struct req *r, unsigned status,
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
static enum MHD_Result
respond_json(struct MHD_Connection *conn, struct req *r, unsigned status,
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
	return respond(conn, r, status, JSON_TYPE, s, strlen(s), hdr, val, NULL);
}

static enum MHD_Result
respond_err(struct pg_http *h, struct MHD_Connection *conn, struct req *r,
	    const struct pg_api_error *e, const char *hdr, const char *val)
{
	json_t *j;

	if (r->act == A_SUBMIT && e->status >= 400 && e->status < 500) {
		atomic_fetch_add(&h->ctx->metrics->messages_rejected, 1);
		pg_info("intake: rejected %d %s%s%s", e->status, e->code,
			e->field[0] ? " " : "", e->field);
	}
	j = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", e->code,
		      "field", e->field, "message", e->message);
	return respond_json(conn, r, (unsigned)e->status, j, hdr, val);
}

/* Builds an error and answers it (fields are constants or already safe). */
static enum MHD_Result
fail(struct pg_http *h, struct MHD_Connection *conn, struct req *r, int status,
     const char *code, const char *field, const char *hdr, const char *val,
     const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));

static enum MHD_Result
fail(struct pg_http *h, struct MHD_Connection *conn, struct req *r, int status,
     const char *code, const char *field, const char *hdr, const char *val,
     const char *fmt, ...)
{
	struct pg_api_error e;
	va_list ap;

	e.status = status;
	pg_strlcpy(e.code, code, sizeof e.code);
	pg_strlcpy(e.field, field, sizeof e.field);
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof e.message, fmt, ap);
	va_end(ap);
	return respond_err(h, conn, r, &e, hdr, val);
}

/* Answers a store error: 503 with Retry-After when the store cannot take
 * or give work, 404 for a missing object, 500 otherwise. */
static enum MHD_Result
fail_store(struct pg_http *h, struct MHD_Connection *conn, struct req *r, pg_err e)
{
	if (e == PG_ERR_FULL || e == PG_ERR_IO || e == PG_ERR_STORE ||
	    e == PG_ERR_SHUTDOWN) {
		pg_warn("intake: store unavailable: %s", pg_strerror(e));
		return fail(h, conn, r, MHD_HTTP_SERVICE_UNAVAILABLE, "store_unavailable",
			    "", MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S,
			    "the message store is unavailable (%s); nothing was stored, "
			    "try again later", pg_strerror(e));
	}
	if (e == PG_ERR_NOTFOUND)
		return fail(h, conn, r, MHD_HTTP_NOT_FOUND, "not_found", "", NULL, NULL,
			    "no such message");
	pg_error("intake: internal error: %s", pg_strerror(e));
	return fail(h, conn, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "", NULL,
		    NULL, "internal error: %s", pg_strerror(e));
}

/* ---- request checks ---- */

/* The operator named by "Authorization: Bearer TOKEN", or NULL. */
static const struct pg_operator *
authenticate(struct MHD_Connection *conn, const struct pg_config *cfg, bool *given)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);

	*given = v != NULL;
	if (v == NULL || strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
		return NULL;
	v += 6;
	v += strspn(v, " \t");
	if (*v == '\0')
		return NULL;
	return pg_config_auth(cfg, v);
}

/* True for "application/json" with optional parameters, where a charset
 * parameter, if any, is UTF-8. */
static bool
json_content_type(const char *ct)
{
	const char *p;

	if (ct == NULL)
		return false;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, "application/json", 16) != 0)
		return false;
	p = ct + 16;
	p += strspn(p, " \t");
	while (*p == ';') {
		size_t n;

		p++;
		p += strspn(p, " \t");
		n = strcspn(p, ";");
		if (strncasecmp(p, "charset", 7) == 0) {
			const char *v = p + 7;

			v += strspn(v, " \t");
			if (*v++ != '=')
				return false;
			v += strspn(v, " \t\"");
			if (strncasecmp(v, "utf-8", 5) != 0 ||
			    strspn(v + 5, " \t\"") != (size_t)(p + n - v - 5))
				return false;
		}
		p += n;
	}
	return *p == '\0';
}

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
answer_existing(struct pg_http *h, struct MHD_Connection *conn, struct req *r,
		int64_t id)
{
	struct pg_message_full f;
	pg_err e;
	json_t *j;

	memset(&f, 0, sizeof f);
	if ((e = pg_store_get_message(h->ctx->store, id, &f)) != PG_OK)
		return fail_store(h, conn, r, e);
	j = intake__submit(&f.msg, f.deliveries, f.n_deliveries);
	pg_message_full_free(&f);
	pg_info("intake: idempotent repeat of message %lld", (long long)id);
	return respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

static enum MHD_Result
do_submit(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
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
		return fail(h, conn, r, 400, "invalid", "Idempotency-Key", NULL, NULL,
			    "Idempotency-Key must be 1 to %d printable ASCII characters",
			    PG_MAX_IDEM_KEY);
	e = pg_intake_parse_message(r->body.data, r->body.len, r->cfg, &m, &cl, &err);
	if (e == PG_ERR_INVAL)
		return respond_err(h, conn, r, &err, NULL, NULL);
	if (e != PG_OK)
		return fail_store(h, conn, r, e);
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
		ret = fail_store(h, conn, r, e);
	} else if (existing) {
		ret = answer_existing(h, conn, r, m.id);
	} else {
		char loc[64];

		atomic_fetch_add(&h->ctx->metrics->messages_received, 1);
		pg_info("intake: message %lld client %s operator %s %s/%s: "
			"%zu deliveries, %s", (long long)m.id, m.client_id,
			m.operator_name, pg_kind_name(m.kind),
			pg_urgency_name(m.urgency), nd, pg_mstate_name(m.state));
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
		ret = respond_json(conn, r, MHD_HTTP_CREATED, intake__submit(&m, d, nd),
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

static enum MHD_Result
do_preview(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
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
		return respond_err(h, conn, r, &err, NULL, NULL);
	if (e != PG_OK)
		return fail_store(h, conn, r, e);
	at_s = at_ms >= 0 ? at_ms / 1000 : (at_ms - 999) / 1000;
	memset(&plan, 0, sizeof plan);
	if ((e = pg_route(cl, kind, urg, at_s, &plan)) != PG_OK)
		return fail_store(h, conn, r, e);
	next = pg_client_next_open(cl, at_s);
	j = intake__preview(cl, kind, urg, at_ms, &plan, next);
	pg_plan_free(&plan);
	return respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

static enum MHD_Result
do_get(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
{
	struct pg_message_full f;
	json_t *j;
	pg_err e;

	memset(&f, 0, sizeof f);
	if ((e = pg_store_get_message(h->ctx->store, r->id, &f)) != PG_OK)
		return fail_store(h, conn, r, e);
	j = intake__full(&f);
	pg_message_full_free(&f);
	return respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

/* The optional body of an operator action: empty, or a JSON object whose
 * only member may be `key` of type t.  Sets *body (the caller decrefs;
 * NULL when empty) and *val (NULL when absent).  Returns false when the
 * request has been answered with an error (*ret). */
static bool
action_body(struct pg_http *h, struct MHD_Connection *conn, struct req *r,
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
		*ret = fail(h, conn, r, 400, "invalid_json", "", NULL, NULL,
			    "the body must be a JSON object such as %s", example);
		return false;
	}
	json_object_foreach(*body, k, v) {
		if (strcmp(k, key) != 0 || json_typeof(v) != t) {
			*ret = fail(h, conn, r, 400, "invalid", strcmp(k, key) ? k : key,
				    NULL, NULL, "only \"%s\" (%s) may be given", key,
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
			*ret = fail(h, conn, r, 400, "invalid", key, NULL, NULL,
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
static enum MHD_Result
do_ack(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
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
		return fail(h, conn, r, 503, "unavailable", "", NULL, NULL,
			    "acknowledgements are not available");
	e = pg_ack_message(h->ctx->ack, r->id, 0, "api", who, &already);
	if (e == PG_ERR_NOTFOUND)
		return fail(h, conn, r, 404, "not_found", "", NULL, NULL, "no message %lld",
			    (long long)r->id);
	if (e != PG_OK)
		return fail_store(h, conn, r, e);
	memset(&m, 0, sizeof m);
	if ((e = pg_store_get_msg(h->ctx->store, r->id, &m)) != PG_OK)
		return fail_store(h, conn, r, e);
	j = json_pack("{s:I,s:b,s:b,s:s?}", "id", (json_int_t)m.id, "acknowledged", 1,
		      "already", already, "acked_by", m.acked_by);
	if (j && m.acked_ms) {
		char iso[PG_ISO_LEN];
		json_object_set_new(j, "acked_at", json_string(pg_iso8601(m.acked_ms, iso)));
	}
	pg_message_free(&m);
	return respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

/* POST /v1/messages/{id}/cancel, body empty or {"reason": "..."}: the
 * caller called back, never mind.  Stops the escalation and cancels every
 * delivery not yet attempted; answers with the message. */
static enum MHD_Result
do_cancel(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
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
	e = pg_store_cancel(h->ctx->store, r->id, who, v ? json_string_value(v) : NULL, &n);
	json_decref(body);
	if (e == PG_ERR_NOTFOUND)
		return fail(h, conn, r, 404, "not_found", "", NULL, NULL, "no message %lld",
			    (long long)r->id);
	if (e != PG_OK)
		return fail_store(h, conn, r, e);
	pg_info("intake: message %lld cancelled by %s: %zu deliveries cancelled",
		(long long)r->id, who, n);
	return do_get(h, conn, r);
}

/* POST /v1/messages/{id}/escalate, body empty or {"from_step": N}: runs
 * the message's escalation again from step N (default 1) now, withdrawing
 * an acknowledgement (the tech said "on my way" an hour ago and never
 * came).  409 when the message has no escalation policy. */
static enum MHD_Result
do_escalate(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
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
	if ((e = pg_store_get_msg(h->ctx->store, r->id, &m)) == PG_ERR_NOTFOUND)
		return fail(h, conn, r, 404, "not_found", "", NULL, NULL, "no message %lld",
			    (long long)r->id);
	if (e != PG_OK)
		return fail_store(h, conn, r, e);
	total = m.esc_policy ? m.esc_total : 0;
	pg_message_free(&m);
	if (total == 0)
		return fail(h, conn, r, 409, "no_escalation", "", NULL, NULL,
			    "message %lld has no escalation policy (its client's rule "
			    "has no escalate)", (long long)r->id);
	if (from < 1 || from > total)
		return fail(h, conn, r, 400, "invalid", "from_step", NULL, NULL,
			    "from_step must be from 1 to %d", total);
	snprintf(who, sizeof who, "operator %s", r->op->name);
	if ((e = pg_store_esc_restart(h->ctx->store, r->id, (int)from, who, &next)))
		return fail_store(h, conn, r, e);
	if (h->ctx->esc && pg_esc_wake(h->ctx->esc, r->id, next) != PG_OK)
		pg_warn("intake: re-triggered escalation of message %lld not timed "
			"now; it runs after the next restart", (long long)r->id);
	pg_info("intake: escalation of message %lld restarted from step %lld by %s",
		(long long)r->id, (long long)from, who);
	return do_get(h, conn, r);
}

static enum MHD_Result
do_oncall(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
{
	const struct pg_client *cl = pg_config_client(r->cfg, r->client);
	const char *at = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "at");
	int64_t at_ms = pg_now_ms();
	json_t *j;

	if (!cl)
		return fail(h, conn, r, 404, "unknown_client", "client", NULL, NULL,
			    "no client with that id");
	if (at && *at && pg_parse_iso8601(at, &at_ms) != 0)
		return fail(h, conn, r, 400, "invalid", "at", NULL, NULL,
			    "at must be an RFC 3339 time such as 2026-12-24T22:00:00-06:00");
	if ((j = intake__oncall(h->ctx, r->cfg, cl, at_ms)) == NULL)
		return fail(h, conn, r, 500, "internal", "", NULL, NULL, "out of memory");
	return respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

static enum MHD_Result
do_oncall_ics(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
{
	const struct pg_client *cl = pg_config_client(r->cfg, r->client);
	const char *id = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "rotation");
	const struct pg_rotation *rot;
	char *text;
	size_t len;
	pg_err e;

	if (!cl)
		return fail(h, conn, r, 404, "unknown_client", "client", NULL, NULL,
			    "no client with that id");
	if (id && *id)
		rot = pg_oncall_find(cl->rotations, cl->n_rotations, id);
	else if (cl->n_rotations == 1)
		rot = &cl->rotations[0];
	else
		return fail(h, conn, r, 400, cl->n_rotations ? "missing" : "not_found",
			    "rotation", NULL, NULL, cl->n_rotations ?
			    "this client has several rotations: name one with ?rotation=ID" :
			    "this client has no on-call rotation");
	if (!rot)
		return fail(h, conn, r, 404, "not_found", "rotation", NULL, NULL,
			    "no rotation with that id");
	if ((e = intake__oncall_ics(cl, rot, pg_now_ms(), &text, &len)) != PG_OK)
		return fail(h, conn, r, 500, "internal", "", NULL, NULL,
			    "cannot build the calendar: %s", pg_strerror(e));
	return respond(conn, r, MHD_HTTP_OK, "text/calendar; charset=utf-8", text, len, NULL);
}

/* GET /v1/clients/{id}/mailbox: intake_mailbox.c; HEAD only peeks. */
static enum MHD_Result
do_mailbox(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
{
	struct pg_api_error err;
	json_t *j = NULL;
	pg_err e = intake__mailbox(h->ctx, r->cfg, conn, r->client, r->op->name,
				   strcmp(r->method, MHD_HTTP_METHOD_HEAD) == 0, &j, &err);

	if (e == PG_ERR_INVAL || e == PG_ERR_NOTFOUND)
		return respond_err(h, conn, r, &err, NULL, NULL);
	if (e != PG_OK)
		return fail_store(h, conn, r, e);
	return respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

/* /cb/<channel>/...: handed to the channel driver. */
static enum MHD_Result
do_callback(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
{
	struct pg_http_resp resp;
	char *data;
	int status;

	status = intake__callback(h->ctx, r->cfg, conn, r->ch, r->method, r->path,
				  r->sub, r->body.data, r->body.len, &resp);
	if (status == 404 && resp.body.len == 0) {
		pg_buf_free(&resp.body);
		return fail(h, conn, r, 404, "not_found", "", NULL, NULL, "no such resource");
	}
	data = pg_buf_steal(&resp.body);
	if (!data) {
		pg_buf_free(&resp.body);
		return MHD_NO;
	}
	return respond(conn, r, (unsigned)status, resp.content_type, data, strlen(data), NULL);
}

/* /a/TOKEN: an HTML page, never cached, indexed, framed or referred. */
static enum MHD_Result
do_link(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
{
	struct pg_http_resp resp;
	int status = intake__link(h->ctx, r->cfg, r->post, r->path, &resp);
	char *data = pg_buf_steal(&resp.body);

	pg_buf_free(&resp.body);
	if (!data)
		return MHD_NO;
	return respond(conn, r, (unsigned)status, resp.content_type, data, strlen(data),
		       "Referrer-Policy", "no-referrer", "X-Robots-Tag", "noindex",
		       "Content-Security-Policy", "default-src 'none'; form-action 'self'",
		       NULL);
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

static enum MHD_Result
do_list(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
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
		return fail(h, conn, r, 400, "unknown_field", bad, NULL, NULL,
			    "unknown query parameter; use client, state, since, limit "
			    "and unacknowledged");
	if (bad)
		return fail(h, conn, r, 400, "invalid", bad, NULL, NULL,
			    "%s is given more than once", bad);
	for (int i = 0; i < LIST_KEYS; i++)      /* "?client=" means no filter */
		if (q.v[i] && !*q.v[i])
			q.v[i] = NULL;
	if (q.v[0]) {
		if (strlen(q.v[0]) > PG_MAX_NAME || pg_has_ctl(q.v[0], false) ||
		    !pg_utf8_valid(q.v[0], strlen(q.v[0])))
			return fail(h, conn, r, 400, "invalid", "client", NULL, NULL,
				    "client must be a client id");
		f.client_id = q.v[0];
	}
	if (q.v[1]) {
		if (pg_mstate_parse(q.v[1], &f.state))
			return fail(h, conn, r, 400, "invalid", "state", NULL, NULL,
				    "state must be one of unrouted, pending, held, "
				    "failed, delivered, cancelled, sent, waiting");
	}
	if (q.v[2]) {
		char t[64];

		/* A '+' of an offset arrives as a space when not %-encoded. */
		pg_strlcpy(t, q.v[2], sizeof t);
		for (char *p = t + (strlen(t) > 19 ? 19 : strlen(t)); *p; p++)
			if (*p == ' ')
				*p = '+';
		if (strlen(q.v[2]) >= sizeof t || pg_parse_iso8601(t, &f.since_ms) != 0)
			return fail(h, conn, r, 400, "invalid", "since", NULL, NULL,
				    "since must be an RFC 3339 time such as 2026-11-22T15:34:00Z");
	}
	if (q.v[3]) {
		const char *s = q.v[3];
		size_t k = strspn(s, "0123456789");

		f.limit = (k == strlen(s) && k <= 4) ? atoi(s) : 0;
		if (f.limit < 1 || f.limit > LIST_MAX_LIMIT)
			return fail(h, conn, r, 400, "invalid", "limit", NULL, NULL,
				    "limit must be a whole number from 1 to %d", LIST_MAX_LIMIT);
	}
	if (q.v[4]) {
		if (strcmp(q.v[4], "true") != 0 && strcmp(q.v[4], "false") != 0)
			return fail(h, conn, r, 400, "invalid", "unacknowledged", NULL, NULL,
				    "unacknowledged must be true or false");
		f.unacknowledged = q.v[4][0] == 't';
		if (f.unacknowledged && f.state != PG_M_ANY)
			return fail(h, conn, r, 400, "invalid", "unacknowledged", NULL, NULL,
				    "unacknowledged cannot be combined with state");
	}
	if ((e = pg_store_list(h->ctx->store, &f, &v, &n)) != PG_OK)
		return fail_store(h, conn, r, e);
	j = intake__list(v, n);
	pg_message_list_free(v, n);
	return respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}

static enum MHD_Result
do_metrics(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
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
		return fail(h, conn, r, 500, "internal", "", NULL, NULL,
			    "cannot render the metrics");
	}
	return respond(conn, r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		       s, strlen(s), NULL);
}

/* ---- dispatch ---- */

/* Maps url and method to an action; unknown paths -> 404, known paths
 * with another method -> 405 with *allow set. */
static int
route(const char *url, const char *method, enum action *act, int64_t *id,
      const char **allow, struct req *r)
{
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		   strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	static const char pfx[] = "/v1/messages/";

	*act = A_NONE;
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0) {
		*allow = "GET, HEAD";
		*act = url[1] == 'h' ? A_HEALTH : A_METRICS;
		return get ? 200 : 405;
	}
	if (strcmp(url, "/v1/messages") == 0) {
		*allow = "GET, HEAD, POST";
		*act = post ? A_SUBMIT : A_LIST;
		return get || post ? 200 : 405;
	}
	if (strcmp(url, "/v1/route/preview") == 0) {
		*allow = "POST";
		*act = A_PREVIEW;
		return post ? 200 : 405;
	}
	if (strncmp(url, pfx, sizeof pfx - 1) == 0) {
		const char *s = url + sizeof pfx - 1;
		size_t n = strspn(s, "0123456789");

		if (n == 0 || n > 18 || (*id = strtoll(s, NULL, 10)) <= 0)
			return 404;
		if (strcmp(s + n, "/ack") == 0 || strcmp(s + n, "/cancel") == 0 ||
		    strcmp(s + n, "/escalate") == 0) {
			*allow = "POST";
			*act = s[n + 1] == 'a' ? A_ACK : s[n + 1] == 'c' ? A_CANCEL
							      : A_ESCALATE;
			return post ? 200 : 405;
		}
		if (s[n] != '\0')
			return 404;
		*allow = "GET, HEAD";
		*act = A_GET;
		return get ? 200 : 405;
	}
	if (strncmp(url, "/v1/clients/", 12) == 0) {
		const char *s = url + 12;
		size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");

		if (n == 0 || n >= sizeof r->client)
			return 404;
		memcpy(r->client, s, n);
		r->client[n] = '\0';
		*allow = "GET, HEAD";
		if (strcmp(s + n, "/oncall") == 0)
			*act = A_ONCALL;
		else if (strcmp(s + n, "/oncall.ics") == 0)
			*act = A_ONCALL_ICS;
		else if (strcmp(s + n, "/mailbox") == 0)
			*act = A_MAILBOX;
		else
			return 404;
		return get ? 200 : 405;
	}
	if (strncmp(url, "/a/", 3) == 0) {
		/* a token too long to be one reaches intake__link as "" */
		pg_strlcpy(r->path, strlen(url + 3) < sizeof r->path ? url + 3 : "",
			   sizeof r->path);
		*allow = "GET, HEAD, POST";
		*act = A_LINK;
		return get || post ? 200 : 405;
	}
	if (strncmp(url, "/cb/", 4) == 0 && strlen(url) < sizeof r->path) {
		const char *s = url + 4, *slash = strchr(s, '/');
		char name[16];
		size_t n = slash ? (size_t)(slash - s) : strlen(s);
		const struct pg_channel *drv;

		if (n == 0 || n >= sizeof name)
			return 404;
		memcpy(name, s, n);
		name[n] = '\0';
		if (pg_channel_parse(name, &r->ch) != 0 || !(drv = pg_channel_for(r->ch)) ||
		    !drv->http)
			return 404;
		pg_strlcpy(r->path, url, sizeof r->path);
		r->sub = r->path + 4 + n;
		*allow = "GET, POST";
		*act = A_CALLBACK;
		return get || post ? 200 : 405;
	}
	return 404;
}

/*
 * Checks a request's route, then (except for /healthz and /metrics) the
 * configuration and the operator, then for a body its type and declared
 * length.  Answers the first failure; returns MHD_YES with r->answered
 * false when the request may go on.
 */
static enum MHD_Result
check(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
{
	const char *v;
	bool given;

	if (r->status == 404)
		return fail(h, conn, r, 404, "not_found", "", NULL, NULL, "no such resource");
	if (r->status == 405)
		return fail(h, conn, r, 405, "method_not_allowed", "", MHD_HTTP_HEADER_ALLOW,
			    r->allow, "this resource allows %s", r->allow);
	if (r->act == A_HEALTH || r->act == A_METRICS)
		return MHD_YES;
	if ((r->cfg = pg_live_get(h->ctx->live)) == NULL)
		return fail(h, conn, r, 503, "unavailable", "", MHD_HTTP_HEADER_RETRY_AFTER,
			    RETRY_AFTER_S, "no configuration loaded");
	if (r->act == A_LINK) {          /* the token is the credential */
		pg_buf_init(&r->body, 1024);   /* the form sends nothing */
		return MHD_YES;
	}
	if (r->act == A_CALLBACK) {      /* the driver authenticates these */
		pg_buf_init(&r->body, r->cfg->max_body);
		return MHD_YES;
	}
	if (r->act == A_ONCALL_ICS && h->ctx->ack &&
	    (v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "key")) != NULL) {
		char key[PG_TOKEN_LEN];

		intake__ics_key(h->ctx, r->client, key);
		if (strlen(v) != strlen(key) || !key[0] || !pg_ct_equal(v, key, strlen(key)))
			return fail(h, conn, r, 403, "forbidden", "key", NULL, NULL,
				    "this calendar key is not valid");
		return MHD_YES;
	}
	if ((r->op = authenticate(conn, r->cfg, &given)) == NULL)
		return fail(h, conn, r, 401, "unauthorized", "Authorization",
			    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"pagegate\"",
			    given ? "the bearer token is not valid"
				  : "an Authorization: Bearer token is required");
	if (r->act != A_SUBMIT && r->act != A_PREVIEW && !OPERATOR_ACTION(r->act))
		return MHD_YES;
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (OPERATOR_ACTION(r->act) && v == NULL) {
		/* an empty acknowledgement needs no body */
	} else if (!json_content_type(v))
		return fail(h, conn, r, 415, "unsupported_media_type", "Content-Type",
			    NULL, NULL, "the body must be application/json (UTF-8)");
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v) {
		char *end;
		unsigned long long n = strtoull(v, &end, 10);

		if (end == v || *end != '\0' || n > r->cfg->max_body)
			return fail(h, conn, r, 413, "too_large", "", NULL, NULL,
				    "the body is over the limit of %zu bytes", r->cfg->max_body);
	}
	pg_buf_init(&r->body, r->cfg->max_body);
	return MHD_YES;
}

/* Last call: the whole request is in; answers it. */
static enum MHD_Result
serve(struct pg_http *h, struct MHD_Connection *conn, struct req *r)
{
	enum MHD_Result ret;

	if (!r->post && ((ret = check(h, conn, r)) != MHD_YES || r->answered))
		return ret;
	switch (r->act) {
	case A_HEALTH:
		return respond_json(conn, r, MHD_HTTP_OK,
				    json_pack("{s:s}", "status", "ok"), NULL, NULL);
	case A_METRICS:
		return do_metrics(h, conn, r);
	case A_LIST:
		return do_list(h, conn, r);
	case A_ONCALL:
		return do_oncall(h, conn, r);
	case A_ONCALL_ICS:
		return do_oncall_ics(h, conn, r);
	case A_MAILBOX:
		return do_mailbox(h, conn, r);
	case A_GET:
		return do_get(h, conn, r);
	case A_LINK:
		return do_link(h, conn, r);
	case A_CALLBACK:
	case A_ACK:
	case A_CANCEL:
	case A_ESCALATE:
	case A_SUBMIT:
	case A_PREVIEW:
		if (r->too_big)
			return fail(h, conn, r, 413, "too_large", "", NULL, NULL,
				    "the body is over the limit of %zu bytes",
				    r->cfg->max_body);
		if (r->act == A_CALLBACK)
			return do_callback(h, conn, r);
		if (r->act == A_ACK)
			return do_ack(h, conn, r);
		if (r->act == A_CANCEL)
			return do_cancel(h, conn, r);
		if (r->act == A_ESCALATE)
			return do_escalate(h, conn, r);
		return r->act == A_SUBMIT ? do_submit(h, conn, r) : do_preview(h, conn, r);
	case A_NONE:
		break;
	}
	return fail(h, conn, r, 404, "not_found", "", NULL, NULL, "no such resource");
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
	struct req *r = *con_cls;

	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof *r)) == NULL)
			return MHD_NO;
		pg_buf_init(&r->body, 0);
		*con_cls = r;
		r->post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
		r->method = method;
		r->status = route(url, method, &r->act, &r->id, &r->allow, r);
		return r->post ? check(h, conn, r) : MHD_YES;
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
	return serve(h, conn, r);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	  enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

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
