/*
 * intake.h - validation of API input (pure: JSON text + configuration ->
 * message or a precise error naming the field) and the HTTP server
 * (libmicrohttpd + jansson) that serves API v1.
 */
#ifndef PAGEGATE_INTAKE_H
#define PAGEGATE_INTAKE_H

#include "pagegate/daemon.h"
#include "pagegate/route.h"

/* Bounds on message content (bytes of UTF-8). */
#define PG_MAX_TEXT        10000
#define PG_MAX_NAME        200
#define PG_MAX_PHONE       40
#define PG_MAX_FIELD_VALUE 2000
#define PG_MAX_IDEM_KEY    200

/* A client-facing error: HTTP status, a stable code ("invalid",
 * "missing", "unknown_client", "too_large", ...), the JSON field it is
 * about ("caller.name", "fields.address", "" for the whole body) and a
 * sentence for a person. */
struct pg_api_error {
	int status;
	char code[32];
	char field[64];
	char message[256];
};

/* Parses the body of POST /v1/messages.  Strict: unknown keys, wrong
 * types, invalid UTF-8, control characters in one-line fields (names,
 * phone), missing required fields (message ones and the client's own
 * required fields), values over the bounds -> PG_ERR_INVAL with err filled
 * (status 400, or 404 for an unknown client/dnis).  On success fills out
 * (caller frees with pg_message_free; received_ms, operator, idem_key left
 * for the caller; idem_hash is the hex SHA-256 of the body as canonical
 * JSON - sorted keys, no white space - what an Idempotency-Key is bound
 * to) and *cl. */
pg_err pg_intake_parse_message(const char *body, size_t len,
	const struct pg_config *cfg, struct pg_message *out,
	const struct pg_client **cl, struct pg_api_error *err);

/* Parses POST /v1/route/preview {client|dnis, kind, urgency, at}; at is
 * RFC 3339 (default: now_ms). */
pg_err pg_intake_parse_preview(const char *body, size_t len,
	const struct pg_config *cfg, int64_t now_ms, const struct pg_client **cl,
	enum pg_kind *kind, enum pg_urgency *urg, int64_t *at_ms,
	struct pg_api_error *err);

struct pg_http;
/* Starts serving on cfg->listen:cfg->port (the configuration at start;
 * SIGHUP does not rebind).  Returns PG_ERR_IO when it cannot bind. */
pg_err pg_http_start(struct pg_ctx *ctx, struct pg_http **out);
void pg_http_stop(struct pg_http *h);
/* The port actually bound (useful with port 0: the kernel picks one). */
int pg_http_port(const struct pg_http *h);

#endif
