/*
 * intake_clients.c - the clients an operator answers for, for the
 * console's Take-a-message screen:
 *   GET /v1/clients          every client: id, name, numbers (by name)
 *   GET /v1/clients/{id}     one client as the operator needs it on a
 *                            live call: the greeting to read, local time,
 *                            open or closed now (holidays included), the
 *                            instructions, the client's fields, who is on
 *                            call now and next, and its contacts with
 *                            their devices (whom a resend may reach)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/oncall.h"
#include "pagegate/route.h"
#include "pagegate/tz.h"
#include "pagegate/util.h"

static int
by_name(const void *a, const void *b)
{
	const struct pg_client *x = *(const struct pg_client *const *)a;
	const struct pg_client *y = *(const struct pg_client *const *)b;
	int c = strcasecmp(x->name ? x->name : x->id, y->name ? y->name : y->id);

	return c ? c : strcmp(x->id, y->id);
}

enum MHD_Result
intake__do_clients(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	const struct pg_config *cfg = r->cfg;
	const struct pg_client **v = calloc(cfg->n_clients ? cfg->n_clients : 1, sizeof *v);
	json_t *a = json_array(), *o;
	bool bad = !v || !a;

	for (size_t i = 0; v && i < cfg->n_clients; i++)
		v[i] = &cfg->clients[i];
	if (v)
		qsort(v, cfg->n_clients, sizeof *v, by_name);
	for (size_t i = 0; !bad && i < cfg->n_clients; i++) {
		json_t *d = json_array();

		for (size_t k = 0; d && k < v[i]->n_dnis; k++)
			bad |= json_array_append_new(d, json_string(v[i]->dnis[k])) != 0;
		o = d ? json_pack("{s:s,s:s,s:o}", "id", v[i]->id, "name",
				  v[i]->name ? v[i]->name : v[i]->id, "dnis", d) : NULL;
		bad |= !o || json_array_append_new(a, o) != 0;
	}
	free(v);
	if (bad) {
		json_decref(a);
		return intake__fail(h, conn, r, 500, "internal", "", NULL, NULL, "out of memory");
	}
	return intake__respond_json(conn, r, MHD_HTTP_OK, json_pack("{s:o}", "clients", a),
				    NULL, NULL);
}

/* {"contact","name"} of contact ci, or null. */
static json_t *
person(const struct pg_client *cl, size_t ci)
{
	if (ci >= cl->n_contacts)
		return json_null();
	return json_pack("{s:s,s:s}", "contact", cl->contacts[ci].id, "name",
			 cl->contacts[ci].name ? cl->contacts[ci].name : cl->contacts[ci].id);
}

/* Each rotation: who is on call now, who is next, until when. */
static json_t *
oncall(const struct pg_client *cl, int64_t now_s)
{
	json_t *a = json_array();
	char iso[PG_ISO_LEN];

	for (size_t i = 0; a && i < cl->n_rotations; i++) {
		const struct pg_rotation *rot = &cl->rotations[i];
		int64_t s0 = 0, s1 = 0;
		size_t now, next;
		json_t *e;

		if (pg_oncall_who(cl, rot, now_s, 0, &now, &s0, &s1) != PG_OK)
			e = json_pack("{s:s,s:n,s:n,s:n}", "rotation", rot->id, "now", "next",
				      "until");              /* not started yet */
		else
			e = json_pack("{s:s,s:o,s:o,s:s}", "rotation", rot->id,
				      "now", person(cl, now), "next",
				      rot->n_members > 1 && pg_oncall_who(cl, rot, now_s, 1, &next,
						 NULL, NULL) == PG_OK ? person(cl, next) : json_null(),
				      "until", pg_iso8601(s1 * 1000, iso));
		if (!e || json_array_append_new(a, e) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* "2026-12-06T09:04:05-06:00": now on the client's wall clock. */
static void
local_iso(const struct pg_localtime *lt, char out[40])
{
	int off = lt->utc_offset_s, a = off < 0 ? -off : off;

	snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", lt->year, lt->month,
		 lt->day, lt->hour, lt->min, lt->sec, off < 0 ? '-' : '+', a / 3600,
		 a % 3600 / 60);
}

/* The client's contacts: id, name, checkin and each device's channel and
 * address, in the order of the client file. */
static json_t *
contacts(const struct pg_client *cl)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < cl->n_contacts; i++) {
		const struct pg_contact *ct = &cl->contacts[i];
		json_t *devs = json_array();

		for (size_t k = 0; devs && k < ct->n_devices; k++)
			json_array_append_new(devs, json_pack("{s:s,s:s?}", "channel",
				pg_channel_name(ct->devices[k].channel), "to", ct->devices[k].to));
		json_array_append_new(a, json_pack("{s:s,s:s,s:b,s:o?}", "id", ct->id, "name",
			ct->name ? ct->name : ct->id, "checkin", ct->checkin, "devices", devs));
	}
	return a;
}

enum MHD_Result
intake__do_client(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	const struct pg_client *cl = pg_config_client(r->cfg, r->p.client);
	int64_t now_ms = pg_now_ms(), now_s = now_ms / 1000, next;
	struct pg_localtime lt;
	char local[40], iso[PG_ISO_LEN], *greet = NULL;
	json_t *fields, *j;
	bool holiday = false;

	if (!cl)
		return intake__fail(h, conn, r, 404, "unknown_client", "client", NULL, NULL,
				    "no client with that id");
	pg_tz_local(cl->tz, now_s, &lt);
	local_iso(&lt, local);
	for (size_t i = 0; i < cl->n_holidays; i++)
		holiday |= cl->holidays[i].year == lt.year && cl->holidays[i].month == lt.month &&
			   cl->holidays[i].day == lt.day;
	next = pg_client_next_open(cl, now_s);
	if (!cl->greeting && asprintf(&greet, "Thank you for calling %s. How may I help you?",
				      cl->name ? cl->name : cl->id) < 0)
		greet = NULL;
	fields = json_array();
	for (size_t i = 0; fields && i < cl->n_fields; i++)
		json_array_append_new(fields, json_pack("{s:s,s:s,s:b}", "id", cl->fields[i].id,
			"label", cl->fields[i].label ? cl->fields[i].label : cl->fields[i].id,
			"required", cl->fields[i].required));
	j = json_pack("{s:s,s:s,s:s?,s:s?,s:s,s:s,s:b,s:b,s:s?,s:o?,s:o?,s:o?}",
		      "id", cl->id, "name", cl->name ? cl->name : cl->id,
		      "greeting", cl->greeting ? cl->greeting : greet,
		      "instructions", cl->instructions, "timezone", cl->tzid ? cl->tzid : "UTC",
		      "local_time", local, "open", pg_client_open(cl, now_s),
		      "holiday", holiday,
		      "next_open", next > now_s ? pg_iso8601(next * 1000, iso) : NULL,
		      "fields", fields, "oncall", oncall(cl, now_s), "contacts", contacts(cl));
	free(greet);
	if (!j)
		return intake__fail(h, conn, r, 500, "internal", "", NULL, NULL, "out of memory");
	return intake__respond_json(conn, r, MHD_HTTP_OK, j, NULL, NULL);
}
