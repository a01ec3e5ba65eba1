/*
 * intake_oncall.c - who is on call (issue 6):
 *   GET /v1/clients/{id}/oncall?at=RFC3339       JSON, operator token
 *   GET /v1/clients/{id}/oncall.ics?rotation=ID  iCalendar, operator token
 *       or key=K, the per-client key a calendar app can keep in its
 *       subscription URL (HMAC of the server secret, like callback tokens)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/oncall.h"
#include "pagegate/util.h"

#define ICS_BACK_DAYS  7
#define ICS_AHEAD_DAYS 90
#define ICS_MAX        (2 * 1024 * 1024)

void
intake__ics_key(const struct pg_ctx *ctx, const char *client, char out[PG_TOKEN_LEN])
{
	char msg[128];

	snprintf(msg, sizeof msg, "ics:%s", client);
	pg_secret_token(ctx->ack->secret, msg, out);
}

static json_t *
person(const struct pg_client *cl, size_t ci)
{
	if (ci >= cl->n_contacts)
		return json_null();
	return json_pack("{s:s,s:s}", "id", cl->contacts[ci].id,
			 "name", cl->contacts[ci].name);
}

/* The subscription URL of a rotation's calendar. */
static json_t *
ics_url(const struct pg_ctx *ctx, const struct pg_config *cfg,
	const struct pg_client *cl, const struct pg_rotation *r)
{
	char key[PG_TOKEN_LEN], *url = NULL;
	const char *base = cfg->public_url ? cfg->public_url : "";
	size_t bl = strlen(base);
	json_t *j;

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	intake__ics_key(ctx, cl->id, key);
	if (asprintf(&url, "%.*s/v1/clients/%s/oncall.ics?rotation=%s&key=%s",
		     (int)bl, base, cl->id, r->id, key) < 0)
		return NULL;
	j = json_string(url);
	free(url);
	return j;
}

/* GET /v1/clients/{id}/oncall: every rotation's person on duty at at_ms,
 * the backup, the shift, and the calendar subscription URL; NULL when out
 * of memory. */
static json_t *
oncall_json(const struct pg_ctx *ctx, const struct pg_config *cfg,
	    const struct pg_client *cl, int64_t at_ms)
{
	int64_t at_s = at_ms >= 0 ? at_ms / 1000 : (at_ms - 999) / 1000;
	char iso[PG_ISO_LEN];
	json_t *o = json_object(), *a = json_array();

	if (!o || !a) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	json_object_set_new(o, "client", json_string(cl->id));
	json_object_set_new(o, "at", json_string(pg_iso8601(at_ms, iso)));
	for (size_t i = 0; i < cl->n_rotations; i++) {
		const struct pg_rotation *r = &cl->rotations[i];
		int64_t s0 = 0, s1 = 0;
		size_t on, backup;
		json_t *e = json_pack("{s:s}", "id", r->id);

		if (!e)
			break;
		if (pg_oncall_who(cl, r, at_s, 0, &on, &s0, &s1) == PG_OK) {
			json_object_set_new(e, "on_duty", person(cl, on));
			json_object_set_new(e, "shift_start", json_string(pg_iso8601(s0 * 1000, iso)));
			json_object_set_new(e, "shift_end", json_string(pg_iso8601(s1 * 1000, iso)));
			if (r->n_members > 1 &&
			    pg_oncall_who(cl, r, at_s, 1, &backup, NULL, NULL) == PG_OK)
				json_object_set_new(e, "backup", person(cl, backup));
		} else {
			json_object_set_new(e, "on_duty", json_null());   /* not started */
		}
		json_object_set_new(e, "ics_url", ics_url(ctx, cfg, cl, r));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "rotations", a);
	return o;
}

/* The iCalendar of rotation r, 7 days back to 90 days ahead of today. */
static pg_err
rotation_ics(const struct pg_client *cl, const struct pg_rotation *r,
	     int64_t now_ms, char **out, size_t *len)
{
	int64_t day = (now_ms / 1000) / 86400 * 86400;   /* stable within a day */
	struct pg_buf b;
	pg_err e;

	pg_buf_init(&b, ICS_MAX);
	e = pg_oncall_ics(cl, r, day - ICS_BACK_DAYS * 86400,
			  day + ICS_AHEAD_DAYS * 86400, &b);
	if (e) {
		pg_buf_free(&b);
		return e;
	}
	*len = b.len;
	if ((*out = pg_buf_steal(&b)) == NULL)
		return PG_ERR_NOMEM;
	return PG_OK;
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
	if ((j = oncall_json(h->ctx, r->cfg, cl, at_ms)) == NULL)
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
	if ((e = rotation_ics(cl, rot, pg_now_ms(), &text, &len)) != PG_OK)
		return intake__fail(h, conn, r, 500, "internal", "", NULL, NULL,
				    "cannot build the calendar: %s", pg_strerror(e));
	return intake__respond(conn, r, MHD_HTTP_OK, "text/calendar; charset=utf-8", text,
			       len, NULL);
}
