/*
 * intake_http.c - the HTTP server of API v1 (intake.h): libmicrohttpd with
 * one thread per connection (handlers block on the store's group commit),
 * jansson for JSON.  Here: the server, a request's life (its body read up
 * to what its row takes), the answers and errors the handlers use, and
 * the server's own endpoints (/healthz, /metrics).  The endpoints are the
 * table at the top of intake_route.c; their handlers live beside the code
 * they drive (intake_messages.c, intake_oncall.c, intake_mailbox.c,
 * intake_link.c, intake_cb.c).
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
#include "pagegate/log.h"
#include "pagegate/util.h"

#define HTTP_MAX_CONNECTIONS 512u
#define HTTP_TIMEOUT_S       30u
/* A body over max_body is read and dropped (so that the client sees the
 * 413) up to this many times max_body; past it the connection is cut. */
#define DISCARD_FACTOR       16u

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
 * or give work - "store_full" when it has no room (its cap or the disk:
 * the store logs that once, not each request) - 404 for a missing
 * object, 500 otherwise. */
enum MHD_Result
intake__fail_store(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r,
		   pg_err e)
{
	if (e == PG_ERR_FULL)
		return intake__fail(h, conn, r, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "store_full", "", MHD_HTTP_HEADER_RETRY_AFTER,
				    INTAKE_RETRY_AFTER_S, "the message store is full; "
				    "nothing was stored, try again later");
	if (e == PG_ERR_IO || e == PG_ERR_STORE ||
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

/* ---- query parameters ---- */

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

bool
intake__query_time(const char *v, int64_t *ms)
{
	char t[64];

	/* A '+' of an offset arrives as a space when not %-encoded. */
	if (strlen(v) >= sizeof t)
		return false;
	pg_strlcpy(t, v, sizeof t);
	for (char *p = t + (strlen(t) > 19 ? 19 : strlen(t)); *p; p++)
		if (*p == ' ')
			*p = '+';
	return pg_parse_iso8601(t, ms) == 0;
}

/* ---- the server's own endpoints ---- */

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
	struct pg_store_stats ss;
	size_t queued = 0, held = 0;
	char *s;

	pg_store_stats(h->ctx->store, &ss);
	if (h->ctx->sched)
		pg_sched_depth(h->ctx->sched, &queued, &held);
	pg_buf_init(&b, 1 << 20);
	int64_t unacked = 0;
	if (pg_store_count_unacked(h->ctx->store, &unacked) != PG_OK)
		unacked = -1;
	if (pg_metrics_render(h->ctx->metrics, queued, held, &b) != PG_OK ||
	    pg_metrics_render_esc(h->ctx->metrics, pg_esc_waiting(h->ctx->esc),
				  unacked, &b) != PG_OK ||
	    pg_metrics_render_store(ss.at_cap || ss.disk_full, ss.no_room, ss.refused,
				    ss.full_writes, &b) != PG_OK ||
	    intake__mailbox_metrics(h->ctx, &b) != PG_OK ||
	    (s = pg_buf_steal(&b)) == NULL) {
		pg_buf_free(&b);
		return intake__fail(h, conn, r, 500, "internal", "", NULL, NULL,
				    "cannot render the metrics");
	}
	return intake__respond(conn, r, MHD_HTTP_OK,
			       "text/plain; version=0.0.4; charset=utf-8", s, strlen(s), NULL);
}

/* ---- a request's life ---- */

/*
 * MHD calls this once with the headers, once per piece of body and once
 * more at the end.  A POST is checked on the first call, so that a refused
 * body is never read (MHD then closes the connection).  Everything else is
 * answered on the last call: in MHD 0.9.75 an answer queued on the first
 * call always closes the connection, which would cost every GET its
 * keep-alive.  Bodies are kept up to what the request's row takes (sized
 * by intake__check; nothing before it); beyond that they are dropped, and
 * an endless one is cut.
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

/* ---- the server ---- */

/* libmicrohttpd's own diagnostics, made into one safe log line.  Most are
 * about a client's malformed or abandoned request, which any client can
 * cause at will: INFO, not WARN (failing to listen is logged as an error
 * by pg_http_start). */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512], line[512];

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	pg_info("http: %s", pg_text_oneline(line, sizeof line, buf, sizeof buf));
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
	if (intake__sessions_new(&h->sessions) != PG_OK) {
		freeaddrinfo(ai);
		pg_config_release(cfg);
		free(h);
		return PG_ERR_NOMEM;
	}
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
		intake__sessions_free(h->sessions);
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
	/* event streams wait for their next event: wake them to end */
	pg_events_shutdown(h->ctx->events);
	MHD_stop_daemon(h->d);
	intake__sessions_free(h->sessions);
	free(h);
}
