/*
 * intake_http.c - the HTTP server of API v1 (intake.h): libmicrohttpd with
 * one thread per connection (handlers block on the store's group commit,
 * event streams wait for their next event), jansson for JSON.  Here: the
 * server, a request's life (its body read up to what its row takes), the
 * answers and errors the handlers use, and the server's own endpoints
 * (/healthz, /metrics).  The endpoints are the table at the top of
 * intake_route.c; their handlers live beside the code they drive
 * (intake_messages.c, intake_oncall.c, intake_mailbox.c, intake_link.c,
 * intake_cb.c).
 *
 * Every error answers {"error":{"code","field","message"}}.  A request's
 * configuration is the live one when its headers arrived, held until the
 * request completes.
 *
 * Holding under abuse.  The server stays one thread per connection: a
 * handler may wait for the store's group commit and an event stream for
 * its next event, and suspending either would be a rewrite of both for
 * no gain at this scale.  What kept one address from locking everyone
 * out is bounded instead:
 *   - at most max_per_address connections from one address (libmicrohttpd
 *     closes the next at once), of HTTP_MAX_CONNECTIONS in all, so one
 *     address holds a bounded share of the threads;
 *   - a total deadline for a request's head and one for its body, however
 *     slowly the bytes trickle in (intake_guard.c; libmicrohttpd's own
 *     timeout restarts with every byte);
 *   - the head's own checks before any route sees it (intake_head.c): a
 *     control character in the target, raw or %-encoded, and any
 *     Transfer-Encoding (libmicrohttpd's chunked reader answers some
 *     malformed bodies with a 500 of its own, others never) are refused
 *     with our JSON 400 / 411 on the first call, before a body is read;
 *   - plain HTTP: a connection's first head is checked whole before
 *     libmicrohttpd reads it (intake_gate.c: its shape, its size, a NUL
 *     in a header's value), so that a malformed one gets our JSON 400 /
 *     431 / 505 rather than libmicrohttpd's HTML or silence.  There the
 *     gate listens and hands the connections on; with TLS libmicrohttpd
 *     listens itself (see intake_gate.c for what that leaves).
 *
 * TLS.  With tls_cert and tls_key set, the port speaks only TLS
 * (libmicrohttpd on GnuTLS, the PEM files read at start): a plain HTTP
 * request fails the handshake and its connection is closed without an
 * answer.  Every answer then carries Strict-Transport-Security.
 */
#include <errno.h>
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
#define MHD_LOG_PER_S        10u                  /* libmicrohttpd's lines a second */
#define HSTS                 "max-age=31536000"   /* a year, with TLS on */
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
	if (MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY, HSTS);
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
	/* a node that cannot reach its database takes nothing: say so, so
	 * that a load balancer sends callers to another node */
	if (!pg_store_reachable(h->ctx->store))
		return intake__respond_json(conn, r, MHD_HTTP_SERVICE_UNAVAILABLE,
					    json_pack("{s:s,s:s}", "status", "degraded",
						      "store", "unreachable"), NULL, NULL);
	return intake__respond_json(conn, r, MHD_HTTP_OK,
				    json_pack("{s:s,s:s}", "status", "ok", "store", "ok"),
				    NULL, NULL);
}

/* The connections the guard cut (intake_guard.c), as a counter. */
static pg_err
guard_metrics(struct pg_http *h, struct pg_buf *b)
{
	unsigned long heads = 0, bodies = 0;

	unsigned long gate_cut = 0, refused = 0;
	pg_err e;

	intake__guard_counts(h->guard, &heads, &bodies);
	intake__gate_counts(h->gate, &gate_cut, &refused);
	heads += gate_cut;
	e = pg_buf_printf(b, "# HELP pagegate_http_cut_total Connections cut because a "
			     "request's head or body was not in by its deadline.\n"
			     "# TYPE pagegate_http_cut_total counter\n"
			     "pagegate_http_cut_total{part=\"head\"} %lu\n"
			     "pagegate_http_cut_total{part=\"body\"} %lu\n", heads, bodies);
	if (e == PG_OK)
		e = pg_buf_printf(b, "# HELP pagegate_http_malformed_total Request heads "
				  "refused before libmicrohttpd read them (plain HTTP).\n"
				  "# TYPE pagegate_http_malformed_total counter\n"
				  "pagegate_http_malformed_total %lu\n", refused);
	return e;
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
	    guard_metrics(h, &b) != PG_OK ||
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
 * libmicrohttpd calls this with the target as sent, before it decodes it
 * in place (MHD_OPTION_URI_LOG_CALLBACK): the request's state starts
 * here, with the target checked (intake_head.c) and where it ended noted.
 * A raw NUL inside the target hides the rest from this C string; it shows
 * in the handler: libmicrohttpd (0.9.75) parses the request line in place
 * and hands the handler a version that starts one byte after the
 * target's real end, which then is not the end seen here.  (Were a later
 * libmicrohttpd to lay the line out otherwise, every request would be
 * refused, loudly, not one let through.)  Returns the request's state
 * (con_cls), or NULL when out of memory (the handler then cuts the
 * connection).
 */
static void *
target_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct intake_req *r = calloc(1, sizeof *r);
	size_t n = uri ? strlen(uri) : 0;

	(void)cls;
	(void)conn;
	if (r == NULL)
		return NULL;
	pg_buf_init(&r->body, 0);
	r->target_fault = (int)intake__target_check(uri ? uri : "", n, &r->fault_in_query);
	r->target_end = uri ? uri + n : NULL;
	return r;
}

/* The first call, with the headers: the head's own checks, then the
 * route's (a POST's at once).  Answers a failure on this call, so that
 * libmicrohttpd reads no body and closes the connection. */
static enum MHD_Result
head_seen(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r,
	  const char *url, const char *method, const char *version)
{
	const char *te;

	r->started = true;
	r->method = method;
	r->post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if (r->target_end == NULL || version != r->target_end + 1 ||
	    r->target_fault != INTAKE_TARGET_OK) {
		const char *where = r->fault_in_query ? "query" : "path";

		pg_info("http: refused a request target with a control character");
		return intake__fail(h, conn, r, 400, "invalid", where, NULL, NULL,
				    "the request's %s holds a control character (raw or "
				    "%%-encoded, such as %%00)", where);
	}
	te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_TRANSFER_ENCODING);
	switch (intake__transfer_coding(te)) {
	case INTAKE_TE_NONE:
		break;
	case INTAKE_TE_CHUNKED:
		return intake__fail(h, conn, r, 411, "length_required", "Transfer-Encoding",
				    NULL, NULL, "send the body with a Content-Length; a "
				    "chunked body is not taken");
	case INTAKE_TE_OTHER:
		return intake__fail(h, conn, r, 400, "invalid", "Transfer-Encoding", NULL,
				    NULL, "unknown transfer coding; send the body with a "
				    "Content-Length");
	}
	r->status = intake__match(method, url, &r->route, &r->p, r->allow);
	return r->post ? intake__check(h, conn, r) : MHD_YES;
}

/*
 * MHD calls this once with the headers, once per piece of body and once
 * more at the end.  A POST is checked on the first call, so that a refused
 * body is never read (MHD then closes the connection).  Everything else is
 * answered on the last call: in MHD 0.9.75 an answer queued on the first
 * call always closes the connection, which would cost every GET its
 * keep-alive.  Bodies are kept up to what the request's row takes (sized
 * by intake__check; nothing before it); beyond that they are dropped, and
 * an endless one is cut.  The guard's clock follows: the head is in at the
 * first call, the body at the last.
 */
static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **con_cls)
{
	struct pg_http *h = cls;
	struct intake_req *r = *con_cls;

	if (r == NULL)
		return MHD_NO;           /* out of memory in target_seen */
	if (!r->started) {
		enum MHD_Result ret = head_seen(h, conn, r, url, method, version);

		intake__guard_phase(h->guard, conn, r->answered ? INTAKE_PH_REPLY :
				    INTAKE_PH_BODY);
		return ret;
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
	intake__guard_phase(h->guard, conn, INTAKE_PH_REPLY);
	return intake__serve(h, conn, r);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	  enum MHD_RequestTerminationCode toe)
{
	struct pg_http *h = cls;
	struct intake_req *r = *con_cls;

	/* kept alive: the next request's head is on the clock */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		intake__guard_phase(h->guard, conn, INTAKE_PH_HEAD);
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
 * by pg_http_start), and at most MHD_LOG_PER_S lines a second (a flood
 * of refused connections would write one each), the rest counted in one
 * line when the next second begins. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct pg_http *h = cls;
	char buf[512], line[512];
	int64_t sec = pg_mono_ms() / 1000, was = atomic_load(&h->log_sec);

	if (sec != was && atomic_compare_exchange_strong(&h->log_sec, &was, sec)) {
		unsigned long n = atomic_exchange(&h->log_dropped, 0);

		atomic_store(&h->log_lines, 0);
		if (n)
			pg_info("http: %lu more libmicrohttpd messages not logged", n);
	}
	if (atomic_fetch_add(&h->log_lines, 1) >= MHD_LOG_PER_S) {
		atomic_fetch_add(&h->log_dropped, 1);
		return;
	}
	vsnprintf(buf, sizeof buf, fmt, ap);
	pg_info("http: %s", pg_text_oneline(line, sizeof line, buf, sizeof buf));
}

/* The whole of a PEM file (at most 1 MiB) as a string, or NULL (logged). */
static char *
read_pem(const char *path)
{
	struct pg_buf b;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");
	pg_err e = PG_OK;

	if (f == NULL) {
		pg_error("http: cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	pg_buf_init(&b, 1 << 20);
	while (e == PG_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		e = pg_buf_add(&b, chunk, n);
	if (ferror(f) || e != PG_OK) {
		pg_error("http: cannot read %s: %s", path, ferror(f) ? "read error" :
			 pg_strerror(e));
		fclose(f);
		pg_buf_free(&b);
		return NULL;
	}
	fclose(f);
	return pg_buf_steal(&b);
}

static void
http_free(struct pg_http *h)
{
	intake__gate_free(h->gate);
	intake__guard_free(h->guard);
	intake__sessions_free(h->sessions);
	free(h->tls_cert);
	free(h->tls_key);
	free(h);
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
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, NULL },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, NULL },
		{ MHD_OPTION_SOCK_ADDR, 0, NULL },
		{ MHD_OPTION_END, 0, NULL }
	};
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
	if (intake__sessions_new(&h->sessions) != PG_OK ||
	    intake__guard_new(cfg->head_timeout_s * 1000, cfg->body_timeout_s * 1000,
			      &h->guard) != PG_OK) {
		freeaddrinfo(ai);
		pg_config_release(cfg);
		http_free(h);
		return PG_ERR_NOMEM;
	}
	if (cfg->tls_cert && cfg->tls_key) {
		if ((h->tls_cert = read_pem(cfg->tls_cert)) == NULL ||
		    (h->tls_key = read_pem(cfg->tls_key)) == NULL) {
			freeaddrinfo(ai);
			pg_config_release(cfg);
			http_free(h);
			return PG_ERR_IO;
		}
		flags |= MHD_USE_TLS;
		tls[0].ptr_value = h->tls_key;
		tls[1].ptr_value = h->tls_cert;
		tls[2].ptr_value = ai->ai_addr;      /* libmicrohttpd listens */
	} else {
		/* the gate listens and hands checked connections on */
		if (intake__gate_new(ai->ai_addr, ai->ai_addrlen, cfg->head_timeout_s * 1000,
				     (unsigned)cfg->max_per_address, HTTP_MAX_CONNECTIONS,
				     &h->gate) != PG_OK) {
			pg_error("http: cannot listen on %s port %d",
				 cfg->listen ? cfg->listen : "127.0.0.1", cfg->port);
			freeaddrinfo(ai);
			pg_config_release(cfg);
			http_free(h);
			return PG_ERR_IO;
		}
		flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
		tls[0].option = MHD_OPTION_END;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, handler, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,      /* first, to catch all */
		MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_per_address,
		MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
		MHD_OPTION_URI_LOG_CALLBACK, target_seen, h,
		MHD_OPTION_NOTIFY_CONNECTION, intake__guard_notify, h->guard,
		MHD_OPTION_NOTIFY_COMPLETED, completed, h,
		MHD_OPTION_ARRAY, tls,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (h->d == NULL) {
		pg_error("http: cannot listen on %s port %d%s",
			 cfg->listen ? cfg->listen : "127.0.0.1", cfg->port,
			 h->tls_cert ? " with TLS (is tls_key the key of tls_cert?)" : "");
		pg_config_release(cfg);
		http_free(h);
		return PG_ERR_IO;
	}
	if (h->gate && intake__gate_run(h->gate, h->d) != PG_OK) {
		pg_error("http: cannot start the gate's thread");
		MHD_stop_daemon(h->d);
		pg_config_release(cfg);
		http_free(h);
		return PG_ERR_IO;
	}
	pg_info("http: listening on %s port %d%s", cfg->listen ? cfg->listen : "127.0.0.1",
		pg_http_port(h), h->tls_cert ? " (TLS only)" : "");
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
	if (h->gate)
		return intake__gate_port(h->gate);
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
	/* the gate hands connections to the daemon: it stops first */
	intake__gate_free(h->gate);
	h->gate = NULL;
	MHD_stop_daemon(h->d);
	http_free(h);
}
