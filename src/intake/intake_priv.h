/*
 * intake_priv.h - shared by the intake's own files (intake_http.c,
 * intake_view.c); not a public contract.
 */
#ifndef PAGEGATE_INTAKE_PRIV_H
#define PAGEGATE_INTAKE_PRIV_H

#include <jansson.h>
#include <microhttpd.h>

#include "pagegate/channel.h"
#include "pagegate/intake.h"

/* Each returns a new JSON value the caller owns, or NULL when out of
 * memory. */

/* The answer to a submit: {"id","client","state","received",
 * "deliveries":[{"id","contact","channel","to","state","hold_until"?}]}. */
/* The query parameters of a request, against the names the route knows. */
#define INTAKE_QUERY_MAX 8
struct intake_query {
	const char *const *keys;          /* set by the caller: n names */
	size_t n;                         /* <= INTAKE_QUERY_MAX */
	const char *v[INTAKE_QUERY_MAX];  /* the value given (may be "" or NULL
					     for "?name"); NULL when absent */
	int count[INTAKE_QUERY_MAX];      /* how often it was given */
	char unknown[48];                 /* first unknown name, made printable */
};
/* Gathers conn's query parameters into q (keys and n set).  Returns NULL
 * when every one is known and given once; else the name to complain
 * about: the first unknown one (*repeated false) or one given more than
 * once (*repeated true). */
const char *intake__query(struct MHD_Connection *conn, struct intake_query *q,
			  bool *repeated);

/* Fills a client-facing error (intake.h struct pg_api_error); returns
 * PG_ERR_INVAL whatever the status. */
pg_err intake__error(struct pg_api_error *err, int status, const char *code,
		   const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

json_t *intake__submit(const struct pg_message *m, const struct pg_delivery *d,
		       size_t nd);
/* GET /v1/messages/{id}: the message with "fields", "deliveries" (each
 * with its "attempts") and the "ledger". */
json_t *intake__full(const struct pg_message_full *f);
/* One message with caller, text and fields, without its deliveries. */
json_t *intake__message(const struct pg_message *m);
/* GET /v1/messages: {"messages":[summary, ...]} (no fields). */
json_t *intake__list(const struct pg_message *v, size_t n);
/* POST /v1/route/preview: the plan for client cl at at_ms. */
json_t *intake__preview(const struct pg_client *cl, enum pg_kind kind,
			enum pg_urgency urg, int64_t at_ms, const struct pg_plan *plan,
			int64_t next_open_s);

struct pg_rotation;
/* GET /v1/clients/{id}/oncall: every rotation's person on duty at at_ms,
 * the backup, the shift, and the calendar subscription URL. */
json_t *intake__oncall(const struct pg_ctx *ctx, const struct pg_config *cfg,
		       const struct pg_client *cl, int64_t at_ms);
/* The iCalendar of rotation r, 7 days back to 90 days ahead of today. */
pg_err intake__oncall_ics(const struct pg_client *cl, const struct pg_rotation *r,
			  int64_t now_ms, char **out, size_t *len);
/* The key that lets a calendar app fetch a client's .ics without a token. */
void intake__ics_key(const struct pg_ctx *ctx, const char *client,
		     char out[PG_TOKEN_LEN]);

struct MHD_Connection;
/* GET /v1/clients/{client}/mailbox?contact=&peek=&by= (intake_mailbox.c)
 * for operator op_name: the waiting mailbox messages of the client, taken
 * (marked delivered) unless peek, or head (a HEAD request).  PG_OK with
 * *out the answer; PG_ERR_INVAL or PG_ERR_NOTFOUND with err filled (400
 * or 404 naming the field); another error: the store's. */
pg_err intake__mailbox(struct pg_ctx *ctx, const struct pg_config *cfg,
		       struct MHD_Connection *conn, const char *client,
		       const char *op_name, bool head, json_t **out,
		       struct pg_api_error *err);
/* Appends the pagegate_mailbox_waiting gauge to the metrics text; a store
 * that cannot count leaves it out. */
pg_err intake__mailbox_metrics(struct pg_ctx *ctx, struct pg_buf *out);
/* Serves a request to /cb/<ch><sub> through the channel driver's http():
 * fills resp (whose body the caller frees) and returns its status; 404
 * when the channel has no callbacks. */
int intake__callback(struct pg_ctx *ctx, const struct pg_config *cfg,
		     struct MHD_Connection *conn, enum pg_channel_kind ch,
		     const char *method, const char *path, const char *sub,
		     const char *body, size_t body_len, struct pg_http_resp *resp);

/* GET/HEAD (post false) or POST /a/TOKEN, a signed acknowledgement link
 * (ack_link.h): fills resp with an HTML page (body freed by the caller)
 * and returns its status: 200 confirmation / acknowledged / already,
 * 404 malformed, forged or unknown message, 410 expired, 503 store
 * trouble. */
int intake__link(struct pg_ctx *ctx, const struct pg_config *cfg, bool post,
		 const char *token, struct pg_http_resp *resp);

#endif
