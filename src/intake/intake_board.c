/*
 * intake_board.c - the console's board:
 *   GET /v1/board?view=&q=&client=&since=&until=&id=&limit=
 * the messages that need a human (view=needs, the default), or those
 * escalating, held, kept for check-in, failed, or all; searched by client,
 * caller name or phone, received date range and id.  Each row carries
 * what the operator decides by: the escalation's step, who was paged and
 * when the next step fires, the failed deliveries with the far end's
 * reply, until when it is held, whether it wants attention (the alarm)
 * and whether it is overdue.
 *
 * The store lists the rows (pg_store_list with the board's filters); each
 * row's details come from the message's deliveries and ledger.  In
 * view=needs the rows that want attention come first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/translit.h"
#include "pagegate/util.h"

#define BOARD_DEFAULT  100
#define BOARD_MAX      500
#define TEXT_SHOWN     200              /* characters of the text on a row */
#define OVERDUE_MS     (10 * 60 * 1000) /* an emergency not delivered by then */

static const char *const views[PG_VIEW__COUNT] = {
	[PG_VIEW_ALL] = "all", [PG_VIEW_NEEDS] = "needs",
	[PG_VIEW_ESCALATING] = "escalating", [PG_VIEW_HELD] = "held",
	[PG_VIEW_WAITING] = "mailbox", [PG_VIEW_FAILED] = "failed",
};

/* One row and whether it wants attention (for the order). */
struct row {
	json_t *j;
	bool attention;
	size_t order;
};

/* The first n characters of s (on character boundaries), "…" when cut. */
static json_t *
shown(const char *s)
{
	size_t i = 0, chars = 0;
	char *cut;
	json_t *j;

	if (!s)
		return json_null();
	while (s[i] && chars < TEXT_SHOWN) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	if (!s[i])
		return json_string(s);
	if (asprintf(&cut, "%.*s…", (int)i, s) < 0)
		return NULL;
	j = json_string(cut);
	free(cut);
	return j;
}

/* The escalation: policy, state, the step fired, who it paged and when
 * the next one fires; null without a policy. */
static json_t *
escalation(const struct pg_message_full *f)
{
	const struct pg_message *m = &f->msg;
	json_t *paged = json_array();

	if (!m->esc_policy) {
		json_decref(paged);
		return json_null();
	}
	for (size_t i = 0; paged && i < f->n_deliveries; i++)
		if (f->deliveries[i].esc_step == m->esc_fired && m->esc_fired > 0)
			json_array_append_new(paged, json_string(f->deliveries[i].contact_name ?
				f->deliveries[i].contact_name : f->deliveries[i].contact_id));
	return json_pack("{s:s,s:s,s:i,s:i,s:o,s:o?}", "policy", m->esc_policy,
			 "state", pg_esc_state_name(m->esc_state), "step", m->esc_fired,
			 "steps", m->esc_total,
			 "next_step_at", m->esc_state == PG_ES_ACTIVE ? intake__time(m->esc_next_ms) :
			 json_null(), "paged", paged);
}

/* What operators did that the board weighs (the store's needs view
 * weighs the same): when the message was last resent (0 = never), and
 * whether an operator's cancel stands (no escalation restart or resend
 * since). */
static void
operator_acts(const struct pg_message_full *f, int64_t *resent_ms, bool *cancelled)
{
	*resent_ms = 0;
	*cancelled = false;
	for (size_t i = 0; i < f->n_events; i++) {
		const struct pg_event *ev = &f->events[i];

		if (strcmp(ev->type, "resent") == 0) {
			*resent_ms = ev->at_ms;
			*cancelled = false;
		} else if (strcmp(ev->type, "escalation_restarted") == 0) {
			*cancelled = false;
		} else if (strcmp(ev->type, "cancelled") == 0 && ev->delivery_id == 0) {
			*cancelled = true;
		}
	}
}

/* One board row for message f. */
static struct row
board_row(const struct pg_config *cfg, const struct pg_message_full *f, int64_t now)
{
	const struct pg_message *m = &f->msg;
	const struct pg_client *cl = pg_config_client(cfg, m->client_id);
	const char *silenced = NULL;
	const struct pg_event *last = f->n_events ? &f->events[f->n_events - 1] : NULL;
	json_t *failed = json_array();
	int64_t held = 0;
	int waiting = 0;
	struct row r = { NULL, intake__attention(f, &silenced), 0 };
	bool urgent = m->kind == PG_KIND_DISPATCH || m->urgency == PG_URG_EMERGENCY;
	bool cancelled;
	int64_t resent_ms;
	size_t unanswered = 0;

	operator_acts(f, &resent_ms, &cancelled);
	for (size_t i = 0; failed && i < f->n_deliveries; i++) {
		const struct pg_delivery *d = &f->deliveries[i];
		bool resent = resent_ms != 0 && resent_ms >= d->updated_ms;

		if (d->state == PG_D_FAILED) {
			unanswered += !resent;
			json_array_append_new(failed, json_pack("{s:I,s:s,s:s?,s:s,s:s,s:s?,s:b}",
				"delivery", (json_int_t)d->id, "contact", d->contact_id,
				"contact_name", d->contact_name, "channel",
				pg_channel_name(d->channel), "to", d->address, "reply",
				d->last_reply, "resent", resent));
		} else if (d->state == PG_D_HELD && (!held || d->next_try_ms < held))
			held = d->next_try_ms;
		else if (d->state == PG_D_WAITING)
			waiting++;
	}
	r.j = json_pack("{s:I,s:s,s:s?,s:s,s:s,s:s,s:{s:s?,s:s?,s:s?},s:o?,s:o,s:o,s:s?,"
			"s:s?,s:b,s:o,s:s?,s:b,s:b,s:s?,s:o,s:o,s:i,s:o}",
		"id", (json_int_t)m->id, "client", m->client_id,
		"client_name", cl ? cl->name : NULL,
		"kind", pg_kind_name(m->kind), "urgency", pg_urgency_name(m->urgency),
		"state", pg_mstate_name(m->state),
		"caller", "name", m->caller_name, "phone", m->caller_phone,
		"company", m->caller_company,
		"text", shown(m->text), "received", intake__time(m->received_ms),
		"last_event_at", intake__time(last ? last->at_ms : 0),
		"last_event", last ? last->type : NULL, "ack_ref", m->ack_ref[0] ? m->ack_ref : NULL,
		"acknowledged", m->acked_ms != 0, "acked_at", intake__time(m->acked_ms),
		"acked_by", m->acked_by,
		"unacknowledged", m->acked_ms == 0 && m->esc_state == PG_ES_EXHAUSTED,
		"attention", r.attention, "silenced_by", silenced,
		"escalation", escalation(f), "held_until", intake__time(held), "waiting", waiting,
		"failed", failed);
	if (r.j)
		json_object_set_new(r.j, "overdue", json_boolean(m->acked_ms == 0 && !cancelled &&
			(r.attention || unanswered > 0 ||
			 (urgent && now - m->received_ms > OVERDUE_MS &&
			  m->state != PG_M_DELIVERED && m->state != PG_M_CANCELLED))));
	return r;
}

/* The ids, comma-separated, of the clients whose name contains q in any
 * case, into out (empty when none). */
static pg_err
clients_named(const struct pg_config *cfg, const char *q, struct pg_buf *out)
{
	struct pg_buf fq, fn;
	pg_err e;

	pg_buf_init(&fq, 4096);
	pg_buf_init(&fn, 4096);
	e = pg_fold_case(q, strlen(q), &fq);
	for (size_t i = 0; !e && i < cfg->n_clients; i++) {
		const struct pg_client *cl = &cfg->clients[i];

		pg_buf_reset(&fn);
		if (!cl->name || (e = pg_fold_case(cl->name, strlen(cl->name), &fn)) ||
		    (e = pg_buf_add(&fn, "", 1)))
			continue;
		if (strstr(fn.data, fq.data ? fq.data : "") &&
		    (out->len ? (e = pg_buf_add(out, ",", 1)) : PG_OK) == PG_OK)
			e = pg_buf_add(out, cl->id, strlen(cl->id));
	}
	if (!e)
		e = pg_buf_add(out, "", 1);
	pg_buf_free(&fq);
	pg_buf_free(&fn);
	return e;
}

/* Attention first, then the store's order. */
static int
by_attention(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->attention != y->attention)
		return x->attention ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

enum MHD_Result
intake__do_board(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	static const char *const keys[] = { "view", "q", "client", "since", "until", "id",
					    "limit" };
	struct intake_query q = { .keys = keys, .n = sizeof keys / sizeof keys[0] };
	struct pg_list_filter f = { .limit = BOARD_DEFAULT + 1, .view = PG_VIEW_NEEDS };
	struct pg_message *v = NULL;
	struct pg_buf named;
	struct row *rows = NULL;
	const char *bad;
	json_t *a;
	bool repeated;
	size_t n = 0, shown_n;
	int64_t now = pg_now_ms();
	int limit = BOARD_DEFAULT;
	pg_err e;
	int k;

	if ((bad = intake__query(conn, &q, &repeated)))
		return intake__fail(h, conn, r, 400, repeated ? "invalid" : "unknown_field", bad,
				    NULL, NULL, repeated ? "%s is given more than once" :
				    "unknown query parameter; use view, q, client, since, until, id "
				    "and limit", bad);
	for (size_t i = 0; i < q.n; i++)
		if (q.v[i] && !*q.v[i])
			q.v[i] = NULL;
	if (q.v[0]) {
		for (k = 0; k < PG_VIEW__COUNT && strcmp(views[k], q.v[0]); k++)
			;
		if (k == PG_VIEW__COUNT)
			return intake__fail(h, conn, r, 400, "invalid", "view", NULL, NULL,
					    "view must be needs, escalating, held, mailbox, "
					    "failed or all");
		f.view = (enum pg_list_view)k;
	}
	if (q.v[1] && (strlen(q.v[1]) > PG_MAX_NAME || pg_has_ctl(q.v[1], false) ||
		       !pg_utf8_valid(q.v[1], strlen(q.v[1]))))
		return intake__fail(h, conn, r, 400, "invalid", "q", NULL, NULL,
				    "q must be one line of at most %d bytes", PG_MAX_NAME);
	f.q = q.v[1];
	f.client_id = q.v[2];
	if (q.v[3] && !intake__query_time(q.v[3], &f.since_ms))
		return intake__fail(h, conn, r, 400, "invalid", "since", NULL, NULL,
				    "since must be an RFC 3339 time such as 2026-11-22T15:34:00Z");
	if (q.v[4] && !intake__query_time(q.v[4], &f.until_ms))
		return intake__fail(h, conn, r, 400, "invalid", "until", NULL, NULL,
				    "until must be an RFC 3339 time such as 2026-11-22T15:34:00Z");
	if (q.v[5] && (strspn(q.v[5], "0123456789") != strlen(q.v[5]) ||
		       strlen(q.v[5]) > 18 || (f.id = strtoll(q.v[5], NULL, 10)) <= 0))
		return intake__fail(h, conn, r, 400, "invalid", "id", NULL, NULL,
				    "id must be a message id");
	if (q.v[6]) {
		size_t d = strspn(q.v[6], "0123456789");

		limit = d == strlen(q.v[6]) && d <= 4 ? atoi(q.v[6]) : 0;
		if (limit < 1 || limit > BOARD_MAX)
			return intake__fail(h, conn, r, 400, "invalid", "limit", NULL, NULL,
					    "limit must be a whole number from 1 to %d", BOARD_MAX);
		f.limit = limit + 1;              /* one more: is there more? */
	}
	pg_buf_init(&named, 1 << 20);
	e = PG_OK;
	if (f.q && (e = clients_named(r->cfg, f.q, &named)) == PG_OK)
		f.q_clients = named.data;
	if (!e)
		e = pg_store_list(h->ctx->store, &f, &v, &n);
	pg_buf_free(&named);
	if (e)
		return intake__fail_store(h, conn, r, e);
	shown_n = n > (size_t)limit ? (size_t)limit : n;
	if (shown_n && !(rows = calloc(shown_n, sizeof *rows))) {
		pg_message_list_free(v, n);
		return MHD_NO;
	}
	for (size_t i = 0; i < shown_n && !e; i++) {
		struct pg_message_full full;

		if ((e = pg_store_get_message(h->ctx->store, v[i].id, &full)) == PG_ERR_NOTFOUND) {
			e = PG_OK;                /* gone meanwhile */
			continue;
		}
		if (!e) {
			rows[i] = board_row(r->cfg, &full, now);
			rows[i].order = i;
			pg_message_full_free(&full);
		}
	}
	pg_message_list_free(v, n);
	if (f.view == PG_VIEW_NEEDS && shown_n > 1)
		qsort(rows, shown_n, sizeof *rows, by_attention);
	a = json_array();
	for (size_t i = 0; i < shown_n; i++)
		if (rows[i].j && (e || !a || json_array_append_new(a, rows[i].j) != 0))
			json_decref(rows[i].j);
	free(rows);
	if (e) {
		json_decref(a);
		return intake__fail_store(h, conn, r, e);
	}
	return intake__respond_json(conn, r, MHD_HTTP_OK,
				    json_pack("{s:o,s:b}", "messages", a, "more", n > shown_n),
				    NULL, NULL);
}
