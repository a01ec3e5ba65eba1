/*
 * intake_events.c - what the consoles hear (events.h):
 *   GET  /v1/events   Server-Sent Events: message changes and calls
 *   POST /v1/calls    a phone system offers a call: the screen pop
 *
 * A stream is one libmicrohttpd response whose content callback waits
 * for the next event in the connection's own thread (the server runs a
 * thread per connection), so streams are bounded: console.max_streams at
 * once, past that 503.  The callback wakes at least every HEARTBEAT_MS to
 * send a comment line (proxies close silent connections) and to end the
 * stream when its console session has ended.  A stream holds no
 * configuration: it is released as the stream starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define HEARTBEAT_MS   15000
#define BLOCK          4096          /* what one callback may write */
#define RETRY_MS       "3000"        /* how soon a browser reconnects */
#define DNIS_MAX       32
#define ANI_MAX        32

/* One open stream. */
struct sse {
	struct pg_http *h;
	struct pg_event_stream *s;
	char sid[INTAKE_SID_LEN];        /* its console session, "" for a token */
	bool started, reset;
};

/* One event as SSE lines into buf (at most n bytes): "id:", "event:",
 * "data:" and a blank line; 0 when it does not fit (never: events are
 * small). */
static size_t
format(const struct pg_events *ev, const struct pg_event_rec *e, char *buf, size_t n)
{
	char id[PG_EVENT_ID_LEN], iso[PG_ISO_LEN], *data;
	json_t *j;
	int w;

	if (e->kind == PG_EV_MESSAGE)
		j = json_pack("{s:I,s:s}", "id", (json_int_t)e->mid, "change", e->change);
	else
		j = json_pack("{s:s,s:s?,s:s?,s:s?,s:s}", "dnis", e->dnis,
			      "ani", e->ani[0] ? e->ani : NULL,
			      "client", e->client[0] ? e->client : NULL,
			      "operator", e->op[0] ? e->op : NULL,
			      "at", pg_iso8601(e->at_ms, iso));
	data = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!data)
		return 0;
	pg_events_id(ev, e->seq, id);
	w = snprintf(buf, n, "id: %s\nevent: %s\ndata: %s\n\n", id,
		     e->kind == PG_EV_MESSAGE ? "message" : "call", data);
	free(data);
	return w > 0 && (size_t)w < n ? (size_t)w : 0;
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *x = cls;
	struct pg_event_rec e;
	size_t n = 0;
	int w;

	(void)pos;
	if (!x->started) {
		x->started = true;
		w = snprintf(buf, max, "retry: %s\n%s\n", RETRY_MS,
			     x->reset ? "event: reset\ndata: {}\n" : "");
		return w > 0 && (size_t)w < max ? w : MHD_CONTENT_READER_END_WITH_ERROR;
	}
	switch (pg_events_next(x->s, HEARTBEAT_MS, &e)) {
	case PG_OK:
		n = format(pg_events_of(x->s), &e, buf, max < BLOCK ? max : BLOCK);
		return n ? (ssize_t)n : MHD_CONTENT_READER_END_WITH_ERROR;
	case PG_ERR_NOTFOUND:
		if (x->sid[0] && !intake__session_get(x->h->sessions, x->sid, pg_now_ms(),
						      false, NULL, NULL))
			return MHD_CONTENT_READER_END_OF_STREAM;  /* signed out */
		w = snprintf(buf, max, ": ping\n\n");
		return w > 0 && (size_t)w < max ? w : MHD_CONTENT_READER_END_WITH_ERROR;
	case PG_ERR_EXPIRED:
		w = snprintf(buf, max, "event: reset\ndata: {}\n\n");
		return w > 0 && (size_t)w < max ? w : MHD_CONTENT_READER_END_WITH_ERROR;
	default:                             /* shutting down */
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
}

static void
sse_free(void *cls)
{
	struct sse *x = cls;

	pg_events_close(x->s);
	free(x);
}

enum MHD_Result
intake__do_events(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	const char *last = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
	struct MHD_Response *resp;
	struct sse *x = calloc(1, sizeof *x);
	enum MHD_Result ret;
	pg_err e;

	if (!x)
		return MHD_NO;
	x->h = h;
	pg_strlcpy(x->sid, r->sid, sizeof x->sid);
	if ((e = pg_events_open(h->ctx->events, r->op->name, last, &x->reset, &x->s))) {
		free(x);
		if (e == PG_ERR_FULL)
			pg_warn("console: event stream for %s refused: all %d are open",
				r->op->name, pg_events_streams(h->ctx->events, NULL));
		return intake__fail(h, conn, r, 503, "unavailable", "",
				    MHD_HTTP_HEADER_RETRY_AFTER, INTAKE_RETRY_AFTER_S,
				    e == PG_ERR_FULL ? "too many event streams are open" :
				    "the server is stopping");
	}
	/* the stream may last hours: it holds no configuration */
	pg_config_release(r->cfg);
	r->cfg = NULL;
	r->op = NULL;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK, sse_read, x,
						 sse_free);
	if (!resp) {
		sse_free(x);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

/* A dialled number or caller id: 1..max of digits and "+ -().", at least
 * one digit. */
static bool
number_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, "0123456789+-(). ") == n &&
	       strpbrk(s, "0123456789") != NULL;
}

/* The client whose dnis is the dialled number, compared by its digits
 * ("+1 800-555-0142" is 18005550142; a leading 1 of an 11-digit North
 * American number may be left off either side). */
static const struct pg_client *
client_for(const struct pg_config *cfg, const char *dnis)
{
	char d[DNIS_MAX + 1];
	size_t n = 0;
	const struct pg_client *cl;

	for (; *dnis && n < DNIS_MAX; dnis++)
		if (*dnis >= '0' && *dnis <= '9')
			d[n++] = *dnis;
	d[n] = '\0';
	if ((cl = pg_config_client_by_dnis(cfg, d)) || n != 11 || d[0] != '1')
		return cl;
	return pg_config_client_by_dnis(cfg, d + 1);
}

enum MHD_Result
intake__do_calls(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	json_error_t je;
	json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len,
			       JSON_REJECT_DUPLICATES, &je), *v;
	const char *dnis = NULL, *ani = NULL, *op = NULL, *bad = NULL;
	const struct pg_client *cl;
	char sd[DNIS_MAX + 1], sa[ANI_MAX + 1];
	int n;

	if (!j || !json_is_object(j)) {
		json_decref(j);
		return intake__fail(h, conn, r, 400, "invalid", "", NULL, NULL,
				    "the body must be a JSON object {\"dnis\",\"ani\",\"operator\"}");
	}
	v = json_object_get(j, "dnis");
	if (!json_is_string(v) || !number_ok(dnis = json_string_value(v), DNIS_MAX))
		bad = "dnis";
	else if ((v = json_object_get(j, "ani")) && !json_is_null(v) &&
		 (!json_is_string(v) || !number_ok(ani = json_string_value(v), ANI_MAX)))
		bad = "ani";
	else if ((v = json_object_get(j, "operator")) && !json_is_null(v) &&
		 (!json_is_string(v) || !pg_config_operator(r->cfg, op = json_string_value(v))))
		bad = "operator";
	else {
		const char *k;
		json_t *x;

		json_object_foreach(j, k, x)
			if (strcmp(k, "dnis") && strcmp(k, "ani") && strcmp(k, "operator"))
				bad = "unknown";
	}
	if (bad) {
		const char *what = strcmp(bad, "dnis") == 0 ?
			"dnis must be the dialled number (digits)" :
			strcmp(bad, "ani") == 0 ? "ani must be the caller's number (digits)" :
			strcmp(bad, "operator") == 0 ? "operator must name a configured operator" :
			"only dnis, ani and operator are known";
		json_decref(j);
		return intake__fail(h, conn, r, 400, "invalid",
				    strcmp(bad, "unknown") ? bad : "", NULL, NULL, "%s", what);
	}
	pg_strlcpy(sd, dnis, sizeof sd);
	pg_strlcpy(sa, ani ? ani : "", sizeof sa);
	cl = client_for(r->cfg, sd);
	if (op)
		op = pg_config_operator(r->cfg, op)->name;      /* checked above */
	n = pg_events_call(h->ctx->events, sd, sa, cl ? cl->id : NULL, op);
	pg_info("console: call on %s from %s for %s offered to %s (%d console%s)", sd,
		sa[0] ? sa : "unknown", cl ? cl->id : "no client", op ? op : "everyone", n,
		n == 1 ? "" : "s");
	json_decref(j);
	return intake__respond_json(conn, r, MHD_HTTP_ACCEPTED,
				    json_pack("{s:s?,s:i}", "client", cl ? cl->id : NULL,
					      "consoles", n), NULL, NULL);
}
