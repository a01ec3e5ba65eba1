/*
 * intake_mailbox.c - the check-in mailbox (issue 6, "hold for check-in"):
 *
 *   GET /v1/clients/{id}/mailbox?contact=ID&peek=true&by=WHO
 *
 * A contact with checkin = true gets no pages: its messages wait in the
 * store until somebody (usually the contact, phoning the answering service
 * and having an operator read them out) retrieves them.  A GET retrieves:
 * it lists the waiting messages, oldest first, and marks them delivered in
 * the ledger, "retrieved from the mailbox by WHO (operator NAME)".  A GET
 * with a side effect is what the issue asks for; peek=true (and any HEAD)
 * lists without marking.  Operator bearer token, as every /v1 route.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"
#include "pagegate/visible.h"

/* The query parameters GET .../mailbox knows (intake__query). */
enum { Q_CONTACT, Q_PEEK, Q_BY, Q__COUNT };
static const char *const q_keys[Q__COUNT] = { "contact", "peek", "by" };

#define bad intake__error

/* peek: absent -> false; "", "true", "1" -> true; "false", "0" -> false. */
static int
parse_peek(const struct intake_query *q, bool *peek)
{
	const char *v = q->v[Q_PEEK];

	*peek = q->count[Q_PEEK] > 0;
	if (v == NULL || *v == '\0' || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		return 0;
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*peek = false;
		return 0;
	}
	return -1;
}

/* The answer: {"client","contact","retrieved","more","messages":[...]},
 * each message as GET /v1/messages/{id} shows it (without deliveries and
 * ledger) plus the mailbox delivery, its contact and since when it waits. */
static json_t *
answer(const char *client, const char *contact, bool taken, bool more,
       const struct pg_mailbox_item *v, size_t n)
{
	json_t *a = json_array();
	char iso[PG_ISO_LEN];
	bool ok = a != NULL;

	for (size_t i = 0; ok && i < n; i++) {
		const struct pg_delivery *d = &v[i].d;
		json_t *m = intake__message(&v[i].msg);

		ok = m && json_array_append_new(a, m) == 0 &&
		    json_object_set_new(m, "delivery", json_integer(d->id)) == 0 &&
		    json_object_set_new(m, "contact", json_string(d->contact_id)) == 0 &&
		    json_object_set_new(m, "contact_name", d->contact_name ?
			json_string(d->contact_name) : json_null()) == 0 &&
		    json_object_set_new(m, "waiting_since",
			json_string(pg_iso8601(d->created_ms, iso))) == 0;
	}
	if (!ok) {
		json_decref(a);
		return NULL;
	}
	/* "o" takes a, also when packing fails */
	return json_pack("{s:s,s:s?,s:b,s:b,s:o}", "client", client, "contact",
			 contact, "retrieved", taken, "more", more, "messages", a);
}

/* GET /v1/clients/{client}/mailbox?contact=&peek=&by= for operator
 * op_name: the waiting mailbox messages of the client, taken (marked
 * delivered) unless peek, or head (a HEAD request).  PG_OK with *out the
 * answer; PG_ERR_INVAL or PG_ERR_NOTFOUND with err filled (400 or 404
 * naming the field); another error: the store's. */
static pg_err
retrieve(struct pg_ctx *ctx, const struct pg_config *cfg,
	 struct MHD_Connection *conn, const char *client,
	 const char *op_name, bool head, json_t **out,
	 struct pg_api_error *err)
{
	const struct pg_client *cl = pg_config_client(cfg, client);
	const char *contact, *by, *name;
	struct pg_mailbox_item *v = NULL;
	struct intake_query q = { .keys = q_keys, .n = Q__COUNT };
	char who[PG_MAX_NAME + 128];
	size_t n = 0;
	bool peek, more = false, repeated;
	pg_err e;

	*out = NULL;
	if (!cl)
		return bad(err, 404, "unknown_client", "client", "no client with that id");
	if ((name = intake__query(conn, &q, &repeated)) && !repeated)
		return bad(err, 400, "unknown_field", name,
			   "unknown query parameter; use contact, peek and by");
	if (name)
		return bad(err, 400, "invalid", name, "%s is given more than once", name);
	contact = q.v[Q_CONTACT];
	if (q.count[Q_CONTACT] > 0 && (contact == NULL || !pg_client_contact(cl, contact)))
		return bad(err, 404, "unknown_contact", "contact",
			   "client %s has no contact with that id", cl->id);
	if (parse_peek(&q, &peek) != 0)
		return bad(err, 400, "invalid", "peek", "peek must be true or false");
	by = q.v[Q_BY];
	if (by && (strlen(by) > PG_MAX_NAME || pg_has_ctl(by, false) ||
		   !pg_utf8_valid(by, strlen(by)) || pg_visible_bad(by, PG_VIS_NAME, NULL)))
		return bad(err, 400, "invalid", "by",
			   "by must be one line of at most %d bytes, without invisible "
			   "or direction-changing characters", PG_MAX_NAME);
	intake__who(who, sizeof who, by, op_name);
	peek = peek || head;
	if ((e = pg_store_mailbox(ctx->store, cl->id, contact, !peek, who, &v, &n,
				  &more)) != PG_OK)
		return e;
	if (!peek && n > 0) {
		for (size_t i = 0; i < n; i++)
			pg_metrics_final(ctx->metrics, PG_CH_MAILBOX, true);
		pg_info("mailbox: %zu message%s of client %s%s%s retrieved by %s",
			n, n == 1 ? "" : "s", cl->id, contact ? " contact " : "",
			contact ? contact : "", who);
	}
	*out = answer(cl->id, contact, !peek, more, v, n);
	pg_mailbox_free(v, n);
	return *out ? PG_OK : PG_ERR_NOMEM;
}

pg_err
intake__mailbox_metrics(struct pg_ctx *ctx, struct pg_buf *out)
{
	size_t n = 0;
	pg_err e = pg_store_mailbox_count(ctx->store, &n);

	if (e) {
		pg_warn("metrics: cannot count the mailbox messages: %s",
			pg_strerror(e));
		return PG_OK;
	}
	return pg_metrics_gauge(out, "pagegate_mailbox_waiting",
		"Messages waiting in check-in mailboxes for retrieval.", n);
}

/* GET /v1/clients/{id}/mailbox; HEAD only peeks. */
enum MHD_Result
intake__do_mailbox(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_api_error err;
	json_t *j = NULL;
	pg_err e = retrieve(h->ctx, r->cfg, conn, r->p.client, r->op->name,
			    strcmp(r->method, MHD_HTTP_METHOD_HEAD) == 0, &j, &err);

	if (e == PG_ERR_INVAL || e == PG_ERR_NOTFOUND)
		return intake__respond_err(h, conn, r, &err, NULL, NULL);
	if (e != PG_OK)
		return intake__fail_store(h, conn, r, e);
	return intake__respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}
