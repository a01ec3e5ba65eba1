/*
 * intake_cb.c - requests to /cb/<channel>/...: delivery reports and
 * inbound messages from peers (Kannel, Twilio, ...), handed to the
 * channel driver's http() (channel.h).  No operator token: the driver
 * authenticates each request (callback tokens, provider signatures).
 * Parameters are decoded here once: the query string, then an
 * application/x-www-form-urlencoded body.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define CB_MAX_PARAMS 128
#define CB_RESP_MAX   (64 * 1024)
#define CB_URL_MAX    4096

struct cb_params {
	struct pg_kv v[CB_MAX_PARAMS];
	size_t n;
	bool nomem;
};

static void
params_free(struct cb_params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].key);
		free(p->v[i].value);
	}
	p->n = 0;
}

static void
params_add(struct cb_params *p, const char *k, size_t kn, const char *v, size_t vn)
{
	if (p->n >= CB_MAX_PARAMS)
		return;              /* bounded: the rest are ignored */
	char *ks = strndup(k, kn), *vs = strndup(v ? v : "", v ? vn : 0);
	if (!ks || !vs) {
		free(ks);
		free(vs);
		p->nomem = true;
		return;
	}
	p->v[p->n].key = ks;
	p->v[p->n].value = vs;
	p->n++;
}

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	if (key)
		params_add(cls, key, strlen(key), value, value ? strlen(value) : 0);
	return MHD_YES;
}

/* Adds the fields of a url-encoded body, as many as fit (the rest are
 * ignored, as past CB_MAX_PARAMS in the query). */
static void
parse_form(struct cb_params *p, const char *body, size_t len)
{
	struct pg_kv *v;
	size_t n;
	pg_err e = pg_form_decode(body, len, CB_MAX_PARAMS - p->n, &v, &n);

	if (e == PG_ERR_NOMEM) {
		p->nomem = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		params_add(p, v[i].key, strlen(v[i].key), v[i].value, strlen(v[i].value));
	pg_kv_free(v, n);
}

static const char *
req_header(const struct pg_http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Appends s percent-encoded as RFC 3986 does for a query component. */
static pg_err
url_escape(struct pg_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	pg_err e = PG_OK;

	for (const unsigned char *p = (const unsigned char *)s; *p && !e; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			e = pg_buf_add(b, p, 1);
		else {
			char t[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			e = pg_buf_add(b, t, 3);
		}
	}
	return e;
}

/* Serves a request to /cb/<ch><sub> (path: the whole of it) through the
 * channel driver's http(): fills resp (whose body the caller frees) and
 * returns its status; 404 when the channel has no callbacks. */
static int
to_driver(struct pg_ctx *ctx, const struct pg_config *cfg,
	  struct MHD_Connection *conn, enum pg_channel_kind ch,
	  const char *method, const char *path, const char *sub,
	  const char *body, size_t body_len, struct pg_http_resp *resp)
{
	const struct pg_channel *drv = pg_channel_for(ch);
	struct cb_params *p;
	struct pg_http_req req;
	struct pg_buf url;
	const char *ct;
	size_t nq;

	resp->status = 200;
	pg_strlcpy(resp->content_type, "text/plain; charset=utf-8", sizeof resp->content_type);
	pg_buf_init(&resp->body, CB_RESP_MAX);
	if (!drv || !drv->http)
		return 404;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return 500;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, p);
	nq = p->n;
	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 && body_len)
		parse_form(p, body, body_len);
	if (p->nomem) {
		params_free(p);
		free(p);
		return 500;
	}
	/* The URL as the peer was given it: public_url + path (+ the query,
	 * re-encoded), for providers that sign it. */
	pg_buf_init(&url, CB_URL_MAX);
	const char *base = cfg->public_url ? cfg->public_url : "";
	size_t bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	pg_err e = pg_buf_add(&url, base, bl);
	if (!e)
		e = pg_buf_adds(&url, path);
	for (size_t i = 0; i < nq && !e; i++) {
		e = pg_buf_adds(&url, i ? "&" : "?");
		if (!e)
			e = url_escape(&url, p->v[i].key);
		if (!e)
			e = pg_buf_adds(&url, "=");
		if (!e)
			e = url_escape(&url, p->v[i].value);
	}
	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = sub;
	req.url = e ? "" : (url.data ? url.data : "");
	req.params = p->v;
	req.n_params = p->n;
	req.body = body ? body : "";
	req.body_len = body ? body_len : 0;
	req.content_type = ct;
	req.header = req_header;
	req.conn = conn;
	drv->http(pg_channels_state(ctx->channels, ch), cfg, &req, resp);
	pg_buf_free(&url);
	params_free(p);
	free(p);
	if (resp->status < 100 || resp->status > 599)
		resp->status = 500;
	return resp->status;
}

/* /cb/<channel>/...: handed to the channel driver. */
enum MHD_Result
intake__do_callback(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_http_resp resp;
	char *data;
	int status;

	status = to_driver(h->ctx, r->cfg, conn, r->p.ch, r->method, r->p.url, r->p.rest,
			   r->body.data, r->body.len, &resp);
	if (status == 404 && resp.body.len == 0) {
		pg_buf_free(&resp.body);
		return intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				    "no such resource");
	}
	data = pg_buf_steal(&resp.body);
	if (!data) {
		pg_buf_free(&resp.body);
		return MHD_NO;
	}
	return intake__respond(conn, r, (unsigned)status, resp.content_type, data,
			       strlen(data), NULL);
}
