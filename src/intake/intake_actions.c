/*
 * intake_actions.c - what an operator does to a message besides
 * acknowledging, cancelling and escalating it (intake_messages.c), each
 * recorded in the ledger with the operator's name:
 *   POST /v1/messages/{id}/resend   {"contact","channel"}: new deliveries
 *                                   of the same message, sent now
 *   POST /v1/messages/{id}/notes    {"text"}: a note in the ledger
 *   POST /v1/messages/{id}/silence  the console's alarm for a message
 *                                   nobody acknowledged is silenced
 *   POST /v1/messages/bulk          {"action": "ack"|"note", "ids", "by",
 *                                   "text"}: the same on many messages
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/log.h"
#include "pagegate/route.h"
#include "pagegate/sched.h"
#include "pagegate/util.h"
#include "pagegate/visible.h"

#define NOTE_MAX   2000       /* bytes of a note */
#define BULK_MAX   200        /* messages in one bulk action */
#define DETAIL_MAX (PG_MAX_NAME * 2 + 64)
#define SILENCED_BY "alarm silenced by "     /* the ledger's text, then who */

/* The JSON object body of r, or NULL after answering 400 (*ret). */
static json_t *
object_body(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r,
	    const char *example, enum MHD_Result *ret)
{
	json_error_t je;
	json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len,
			       JSON_REJECT_DUPLICATES, &je);

	if (!json_is_object(j)) {
		json_decref(j);
		*ret = intake__fail(h, conn, r, 400, "invalid_json", "", NULL, NULL,
				    "the body must be a JSON object such as %s", example);
		return NULL;
	}
	return j;
}

/* The first member of j not in the NULL-terminated keys, or NULL. */
static const char *
unknown_key(json_t *j, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(j, k, v) {
		size_t i = 0;

		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i])
			return k;
	}
	return NULL;
}

/* A note's text: 1..NOTE_MAX bytes of UTF-8, line breaks allowed. */
static bool
note_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= NOTE_MAX && pg_utf8_valid(s, n) && !pg_has_ctl(s, true);
}

/* The ledger's note: "OPERATOR: text". */
static pg_err
add_note(struct pg_http *h, int64_t mid, const char *op, const char *text)
{
	char *detail = NULL;
	pg_err e;

	if (asprintf(&detail, "%s: %s", op, text) < 0)
		return PG_ERR_NOMEM;
	e = pg_store_event(h->ctx->store, mid, 0, "note", detail);
	free(detail);
	return e;
}

enum MHD_Result
intake__do_note(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	static const char *const keys[] = { "text", NULL };
	enum MHD_Result ret;
	json_t *j = object_body(h, conn, r, "{\"text\": \"called the office\"}", &ret);
	const char *text, *bad;
	char iso[PG_ISO_LEN];
	pg_err e;

	if (!j)
		return ret;
	text = json_string_value(json_object_get(j, "text"));
	if ((bad = unknown_key(j, keys)) || !note_ok(text)) {
		ret = intake__fail(h, conn, r, 400, bad ? "unknown_field" : "invalid",
				   bad ? bad : "text", NULL, NULL, bad ? "only \"text\" is known" :
				   "text must be 1 to %d bytes of UTF-8", NOTE_MAX);
		json_decref(j);
		return ret;
	}
	e = add_note(h, r->p.id, r->op->name, text);
	if (e) {
		json_decref(j);
		return e == PG_ERR_NOTFOUND ?
			intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				     "no message %lld", (long long)r->p.id) :
			intake__fail_store(h, conn, r, e);
	}
	ret = intake__respond_json(conn, r, MHD_HTTP_CREATED,
		json_pack("{s:I,s:{s:s,s:s,s:s}}", "id", (json_int_t)r->p.id, "note",
			  "at", pg_iso8601(pg_now_ms(), iso), "by", r->op->name, "text", text),
		NULL, NULL);
	json_decref(j);
	return ret;
}

void
intake__who(char *who, size_t n, const char *by, const char *op_name)
{
	if (by && by[0])
		snprintf(who, n, "%s (operator %s)", by, op_name);
	else
		snprintf(who, n, "operator %s", op_name);
}

const char *
intake__via(const struct intake_req *r)
{
	return r->sid[0] ? "console" : "api";
}

/* True when message m's console alarm is on: flagged unacknowledged and
 * not silenced since (the last "silenced" event after the last
 * "unacknowledged" one).  Sets *by to who silenced it. */
bool
intake__attention(const struct pg_message_full *f, const char **by)
{
	int64_t flagged = 0, silenced = 0;

	*by = NULL;
	if (f->msg.acked_ms || f->msg.esc_state != PG_ES_EXHAUSTED)
		return false;
	for (size_t i = 0; i < f->n_events; i++) {
		if (strcmp(f->events[i].type, "unacknowledged") == 0)
			flagged = f->events[i].id;
		else if (strcmp(f->events[i].type, "silenced") == 0) {
			silenced = f->events[i].id;
			*by = f->events[i].detail;
			if (*by && strncmp(*by, SILENCED_BY, strlen(SILENCED_BY)) == 0)
				*by += strlen(SILENCED_BY);
		}
	}
	if (silenced < flagged)
		*by = NULL;
	return silenced < flagged;
}

enum MHD_Result
intake__do_silence(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_message_full f;
	char detail[DETAIL_MAX];
	const char *by;
	bool on;
	pg_err e = pg_store_get_message(h->ctx->store, r->p.id, &f);

	if (e == PG_ERR_NOTFOUND)
		return intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				    "no message %lld", (long long)r->p.id);
	if (e)
		return intake__fail_store(h, conn, r, e);
	on = intake__attention(&f, &by);
	pg_message_full_free(&f);
	if (!on)
		return intake__fail(h, conn, r, 409, "no_alarm", "", NULL, NULL,
				    "message %lld wants no attention", (long long)r->p.id);
	snprintf(detail, sizeof detail, SILENCED_BY "%s", r->op->name);
	if ((e = pg_store_event(h->ctx->store, r->p.id, 0, "silenced", detail)))
		return intake__fail_store(h, conn, r, e);
	pg_info("intake: message %lld: %s", (long long)r->p.id, detail);
	return intake__respond_json(conn, r, MHD_HTTP_OK,
				    json_pack("{s:I,s:s}", "id", (json_int_t)r->p.id,
					      "silenced_by", r->op->name), NULL, NULL);
}

enum MHD_Result
intake__do_resend(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	static const char *const keys[] = { "contact", "channel", NULL };
	enum MHD_Result ret;
	json_t *j = object_body(h, conn, r, "{\"contact\": \"jane\", \"channel\": \"email\"}",
				&ret), *out;
	const char *contact, *channel, *bad;
	const struct pg_client *cl;
	const struct pg_contact *ct = NULL;
	struct pg_plan_item items[16];
	struct pg_plan plan = { .items = items };
	struct pg_message m;
	struct pg_delivery *d = NULL;
	enum pg_channel_kind ch = PG_CH__COUNT;
	char detail[DETAIL_MAX];
	size_t nd = 0;
	pg_err e;

	if (!j)
		return ret;
	contact = json_string_value(json_object_get(j, "contact"));
	channel = json_string_value(json_object_get(j, "channel"));
	if ((bad = unknown_key(j, keys))) {
		ret = intake__fail(h, conn, r, 400, "unknown_field", bad, NULL, NULL,
				   "only \"contact\" and \"channel\" are known");
		json_decref(j);
		return ret;
	}
	memset(&m, 0, sizeof m);
	if ((e = pg_store_get_msg(h->ctx->store, r->p.id, &m))) {
		json_decref(j);
		return e == PG_ERR_NOTFOUND ?
			intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				     "no message %lld", (long long)r->p.id) :
			intake__fail_store(h, conn, r, e);
	}
	if (m.state == PG_M_CANCELLED || m.esc_state == PG_ES_CANCELLED)
		bad = "cancelled";
	else if (!(cl = pg_config_client(r->cfg, m.client_id)))
		bad = "client";
	else if (!contact || !(ct = pg_client_contact(cl, contact)))
		bad = "contact";
	else if (!channel || pg_channel_parse(channel, &ch) != 0 || ch == PG_CH_MAILBOX)
		bad = "channel";
	for (size_t i = 0; !bad && i < ct->n_devices && plan.n < 16; i++)
		if (ct->devices[i].channel == ch)
			items[plan.n++] = (struct pg_plan_item){
				.contact = (size_t)(ct - cl->contacts), .device = i, .channel = ch };
	if (!bad && plan.n == 0)
		bad = "channel";
	if (bad) {
		ret = strcmp(bad, "cancelled") == 0 ?
			intake__fail(h, conn, r, 409, "cancelled", "", NULL, NULL,
				     "message %lld is cancelled", (long long)r->p.id) :
			strcmp(bad, "client") == 0 ?
			intake__fail(h, conn, r, 409, "unknown_client", "", NULL, NULL,
				     "the message's client %s is no longer configured", m.client_id) :
			strcmp(bad, "contact") == 0 ?
			intake__fail(h, conn, r, 400, "invalid", "contact", NULL, NULL,
				     "contact must be one of the client's contact ids") :
			intake__fail(h, conn, r, 400, "invalid", "channel", NULL, NULL,
				     "the contact has no device on that channel");
		pg_message_free(&m);
		json_decref(j);
		return ret;
	}
	snprintf(detail, sizeof detail, "by %s to %s by %s", r->op->name, ct->id,
		 pg_channel_name(ch));
	if (!(e = pg_plan_deliveries(r->cfg, cl, &m, &plan, pg_now_ms(), &d, &nd)))
		e = pg_store_resend(h->ctx->store, m.id, d, nd, detail);
	if (!e && h->ctx->sched && pg_sched_add_many(h->ctx->sched, d, nd) != PG_OK)
		pg_warn("intake: deliveries resent for message %lld wait for a "
			"restart", (long long)m.id);
	out = e ? NULL : intake__submit(&m, d, nd);
	for (size_t i = 0; i < nd; i++)
		pg_delivery_free(&d[i]);
	free(d);
	pg_message_free(&m);
	json_decref(j);
	if (e)
		return intake__fail_store(h, conn, r, e);
	pg_info("intake: message %lld resent %s (%zu deliveries)", (long long)r->p.id,
		detail, nd);
	return intake__respond_json(conn, r, MHD_HTTP_CREATED, out, NULL, NULL);
}

/* One bulk item's outcome into results. */
static void
bulk_result(json_t *results, json_int_t id, pg_err e)
{
	json_t *x = e ? json_pack("{s:I,s:b,s:{s:s,s:s}}", "id", id, "ok", 0, "error",
				  "code", e == PG_ERR_NOTFOUND ? "not_found" : "failed",
				  "message", e == PG_ERR_NOTFOUND ? "no such message" :
				  pg_strerror(e))
		      : json_pack("{s:I,s:b}", "id", id, "ok", 1);

	if (x)
		json_array_append_new(results, x);
}

enum MHD_Result
intake__do_bulk(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	static const char *const keys[] = { "action", "ids", "by", "text", NULL };
	enum MHD_Result ret;
	json_t *j = object_body(h, conn, r, "{\"action\": \"ack\", \"ids\": [1, 2]}", &ret),
	       *ids, *v, *results;
	const char *action, *by, *text, *bad = NULL, *why = NULL;
	char who[PG_MAX_NAME * 2 + 16];
	bool note, already;
	size_t i;

	if (!j)
		return ret;
	action = json_string_value(json_object_get(j, "action"));
	ids = json_object_get(j, "ids");
	by = json_string_value(json_object_get(j, "by"));
	text = json_string_value(json_object_get(j, "text"));
	note = action && strcmp(action, "note") == 0;
	if ((bad = unknown_key(j, keys)))
		why = "only action, ids, by and text are known";
	else if (!action || (!note && strcmp(action, "ack") != 0))
		bad = "action", why = "action must be \"ack\" or \"note\"";
	else if (!json_is_array(ids) || json_array_size(ids) == 0 ||
		 json_array_size(ids) > BULK_MAX)
		bad = "ids", why = "ids must list 1 to 200 message ids";
	else if (note && !note_ok(text))
		bad = "text", why = "text must be 1 to 2000 bytes of UTF-8";
	else if (json_object_get(j, "by") && (!by || strlen(by) > PG_MAX_NAME ||
		 pg_has_ctl(by, false) || !pg_utf8_valid(by, strlen(by)) ||
		 pg_visible_bad(by, PG_VIS_NAME, NULL)))
		bad = "by", why = "by must be one line of at most 200 bytes, without "
			"invisible or direction-changing characters";
	json_array_foreach(ids, i, v)
		if (!bad && (!json_is_integer(v) || json_integer_value(v) <= 0))
			bad = "ids", why = "ids must list message ids (whole numbers)";
	if (bad) {
		ret = intake__fail(h, conn, r, 400, "invalid", bad, NULL, NULL, "%s", why);
		json_decref(j);
		return ret;
	}
	intake__who(who, sizeof who, by, r->op->name);
	if (!(results = json_array())) {
		json_decref(j);
		return MHD_NO;
	}
	json_array_foreach(ids, i, v) {
		int64_t mid = json_integer_value(v);
		pg_err e = note ? add_note(h, mid, r->op->name, text) :
			h->ctx->ack ? pg_ack_message(h->ctx->ack, mid, 0, intake__via(r), who, &already) :
			PG_ERR_SHUTDOWN;

		bulk_result(results, (json_int_t)mid, e);
	}
	pg_info("intake: bulk %s of %zu messages by %s", action, json_array_size(ids),
		r->op->name);
	json_decref(j);
	return intake__respond_json(conn, r, MHD_HTTP_OK, json_pack("{s:o}", "results", results),
				    NULL, NULL);
}
