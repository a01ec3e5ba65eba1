/*
 * intake_route.c - the routes of API v1: the table (one row per
 * endpoint), the matcher that finds a request's row, and the checks and
 * the dispatch that a row's columns drive.  A new endpoint is one row
 * here plus its handler (an intake_handler, declared in intake_priv.h).
 *
 * A row is { methods, path, auth, body, handler, flags }:
 *
 *   methods  R_GET (GET and HEAD), R_POST, R_DELETE, or several.
 *   path     literal text and typed parameters, parsed into r->p:
 *              {id}       a message id, 1 to 18 digits, not 0      p.id
 *              {client}   a client id, 1 to 71 of a-z 0-9 -         p.client
 *              {token}    the rest of the path ("" when it is       p.token
 *                         over 511 bytes, too long for a token)
 *              {channel}  a channel whose driver serves callbacks,  p.ch
 *                         then the rest of the path (the whole      p.rest
 *                         path under 512 bytes)                     p.url
 *            {token} and {channel} end a pattern.
 *   auth     A_OPEN       nobody is asked; no configuration is held,
 *                         so the row takes no body
 *            A_OPERATOR   "Authorization: Bearer TOKEN" of an operator
 *                         (checked against the live configuration,
 *                         never logged), or the console's session
 *                         cookie, with the session's X-CSRF-Token on a
 *                         POST or DELETE: 401, 403
 *            A_SIGNIN     the body carries the credentials (sign-in)
 *            A_CALENDAR   ?key= the client's calendar key (403), else
 *                         as A_OPERATOR
 *            A_LINK       the token in the path is the credential
 *            A_DRIVER     the channel driver authenticates (callback
 *                         tokens, provider signatures); it gets the
 *                         method as sent and answers HEAD itself, so
 *                         the Allow of a 405 does not name HEAD
 *   body     B_NONE           none (one sent anyway is read and dropped)
 *            B_JSON           application/json (UTF-8) up to max_body:
 *                             415, 413
 *            B_JSON_OR_EMPTY  the same, or nothing without Content-Type
 *            B_FORM           a small form, up to INTAKE_FORM_MAX
 *            B_RAW            anything up to max_body: 413
 *   flags    F_REJECTS        a 4xx answer counts as a rejected message
 *
 * A path no row matches answers 404; a path that rows match with a
 * method none of them serves, 405 with Allow naming theirs.  A POST is
 * checked when its headers arrive, so that a refused body is never read;
 * everything else when the request is complete (intake_http.c says why).
 * Every error answers {"error":{"code","field","message"}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/util.h"

const struct intake_route intake__routes[] = {
	/*methods       path                               auth        body             handler                flags */
	/* the server's own: health, Prometheus metrics (intake_http.c) */
	{ R_GET,        "/healthz",                        A_OPEN,     B_NONE,          intake__do_health,     0 },
	{ R_GET,        "/metrics",                        A_OPEN,     B_NONE,          intake__do_metrics,    0 },
	/* messages (intake_messages.c): list (?client=&state=&since=&limit=
	 * &unacknowledged=), submit (201; 200 for an idempotent repeat), the
	 * plan routing would make (not stored), one message with its
	 * deliveries, attempts and ledger, and an operator's actions on it */
	{ R_GET,        "/v1/messages",                    A_OPERATOR, B_NONE,          intake__do_list,       0 },
	{ R_POST,       "/v1/messages",                    A_OPERATOR, B_JSON,          intake__do_submit,     F_REJECTS },
	{ R_POST,       "/v1/route/preview",               A_OPERATOR, B_JSON,          intake__do_preview,    0 },
	{ R_GET,        "/v1/messages/{id}",               A_OPERATOR, B_NONE,          intake__do_get,        0 },
	{ R_POST,       "/v1/messages/{id}/ack",           A_OPERATOR, B_JSON_OR_EMPTY, intake__do_ack,        0 },
	{ R_POST,       "/v1/messages/{id}/cancel",        A_OPERATOR, B_JSON_OR_EMPTY, intake__do_cancel,     0 },
	{ R_POST,       "/v1/messages/{id}/escalate",      A_OPERATOR, B_JSON_OR_EMPTY, intake__do_escalate,   0 },
	/* ... and the rest of what operators do (intake_actions.c): send it
	 * again to a chosen contact and channel, a note, the console's alarm
	 * silenced, acknowledgements and notes on many messages */
	{ R_POST,       "/v1/messages/{id}/resend",        A_OPERATOR, B_JSON,          intake__do_resend,     0 },
	{ R_POST,       "/v1/messages/{id}/notes",         A_OPERATOR, B_JSON,          intake__do_note,       0 },
	{ R_POST,       "/v1/messages/{id}/silence",       A_OPERATOR, B_JSON_OR_EMPTY, intake__do_silence,    0 },
	{ R_POST,       "/v1/messages/bulk",               A_OPERATOR, B_JSON,          intake__do_bulk,       0 },
	/* the board: what needs a human, most urgent first (intake_board.c) */
	{ R_GET,        "/v1/board",                       A_OPERATOR, B_NONE,          intake__do_board,      0 },
	/* a client's: who is on call (?at=), the schedule as iCalendar
	 * (intake_oncall.c), the check-in mailbox (intake_mailbox.c) */
	{ R_GET,        "/v1/clients/{client}/oncall",     A_OPERATOR, B_NONE,          intake__do_oncall,     0 },
	{ R_GET,        "/v1/clients/{client}/oncall.ics", A_CALENDAR, B_NONE,          intake__do_oncall_ics, 0 },
	{ R_GET,        "/v1/clients/{client}/mailbox",    A_OPERATOR, B_NONE,          intake__do_mailbox,    0 },
	/* signed acknowledgement links (intake_link.c), peers' reports and
	 * replies handed to the channel driver's http() (intake_cb.c) */
	{ R_GET|R_POST, "/a/{token}",                      A_LINK,     B_FORM,          intake__do_link,       0 },
	{ R_GET|R_POST, "/cb/{channel}",                   A_DRIVER,   B_RAW,           intake__do_callback,   0 },
	/* the operator console (intake_console.c): its page and files; its
	 * sessions (intake_session.c); what it hears and the screen pop
	 * (intake_events.c); the clients it answers for (intake_clients.c) */
	{ R_GET,        "/",                               A_OPEN,     B_NONE,          intake__do_index,      0 },
	{ R_GET,        "/console/{token}",                A_OPEN,     B_NONE,          intake__do_asset,      0 },
	{ R_POST,       "/v1/session",                     A_SIGNIN,   B_JSON,          intake__do_signin,     0 },
	{ R_GET,        "/v1/session",                     A_OPERATOR, B_NONE,          intake__do_session,    0 },
	{ R_DELETE,     "/v1/session",                     A_OPERATOR, B_NONE,          intake__do_signout,    0 },
	{ R_GET,        "/v1/events",                      A_OPERATOR, B_NONE,          intake__do_events,     0 },
	{ R_POST,       "/v1/calls",                       A_OPERATOR, B_JSON,          intake__do_calls,      0 },
	{ R_GET,        "/v1/clients",                     A_OPERATOR, B_NONE,          intake__do_clients,    0 },
	{ R_GET,        "/v1/clients/{client}",            A_OPERATOR, B_NONE,          intake__do_client,     0 },
};
const size_t intake__n_routes = sizeof intake__routes / sizeof intake__routes[0];

/* ---- matching: a pure function of the method and the path ---- */

/* {id}: a message id, 1 to 18 digits, not 0. */
static bool
param_id(const char *url, const char *s, size_t *used, struct intake_params *p)
{
	size_t n = strspn(s, "0123456789");

	(void)url;
	if (n == 0 || n > 18 || (p->id = strtoll(s, NULL, 10)) <= 0)
		return false;
	*used = n;
	return true;
}

/* {client}: a client id, 1 to 71 of a-z, 0-9 and '-'. */
static bool
param_client(const char *url, const char *s, size_t *used, struct intake_params *p)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");

	(void)url;
	if (n == 0 || n >= sizeof p->client)
		return false;
	memcpy(p->client, s, n);
	p->client[n] = '\0';
	*used = n;
	return true;
}

/* {token}: the rest of the path, whatever it holds; one too long to be a
 * token reaches the handler as "". */
static bool
param_token(const char *url, const char *s, size_t *used, struct intake_params *p)
{
	size_t n = strlen(s);

	(void)url;
	pg_strlcpy(p->token, n < sizeof p->token ? s : "", sizeof p->token);
	*used = n;
	return true;
}

/* {channel}: a channel whose driver serves callbacks (its name runs to
 * the next '/'), then the rest of the path; the whole path is kept for
 * the driver (providers sign it) and must be under 512 bytes. */
static bool
param_channel(const char *url, const char *s, size_t *used, struct intake_params *p)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	const struct pg_channel *drv;
	char name[16];

	if (strlen(url) >= sizeof p->url || n == 0 || n >= sizeof name)
		return false;
	memcpy(name, s, n);
	name[n] = '\0';
	if (pg_channel_parse(name, &p->ch) != 0 || !(drv = pg_channel_for(p->ch)) ||
	    !drv->http)
		return false;
	pg_strlcpy(p->url, url, sizeof p->url);
	pg_strlcpy(p->rest, s + n, sizeof p->rest);
	*used = strlen(s);
	return true;
}

/* The typed parameters of path patterns: each parses the start of s (url
 * is the whole path) into p and sets *used, or answers false. */
static const struct {
	const char *name;
	bool (*parse)(const char *url, const char *s, size_t *used,
		      struct intake_params *p);
} param_types[] = {
	{ "id", param_id },
	{ "client", param_client },
	{ "token", param_token },
	{ "channel", param_channel },
};

/* True when url matches the pattern pat, with its parameters in p. */
static bool
path_match(const char *pat, const char *url, struct intake_params *p)
{
	const char *u = url;

	while (*pat) {
		const char *end;
		size_t i, n, used = 0;

		if (*pat != '{') {
			if (*pat++ != *u++)
				return false;
			continue;
		}
		if ((end = strchr(pat, '}')) == NULL)
			return false;
		n = (size_t)(end - pat - 1);
		for (i = 0; i < sizeof param_types / sizeof param_types[0]; i++)
			if (strlen(param_types[i].name) == n &&
			    memcmp(param_types[i].name, pat + 1, n) == 0)
				break;
		if (i == sizeof param_types / sizeof param_types[0] ||
		    !param_types[i].parse(url, u, &used, p))
			return false;
		u += used;
		pat = end + 1;
	}
	return *u == '\0';
}

int
intake__match(const char *method, const char *url, const struct intake_route **route,
	      struct intake_params *p, char allow[INTAKE_ALLOW_LEN])
{
	unsigned want = 0, any = 0;
	bool head = false, found = false;

	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		want = R_GET;
	else if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		want = R_POST;
	else if (strcmp(method, MHD_HTTP_METHOD_DELETE) == 0)
		want = R_DELETE;
	*route = NULL;
	allow[0] = '\0';
	for (size_t i = 0; i < intake__n_routes; i++) {
		const struct intake_route *rt = &intake__routes[i];

		memset(p, 0, sizeof *p);
		if (!path_match(rt->path, url, p))
			continue;
		if (rt->methods & want) {
			*route = rt;
			return 200;
		}
		found = true;
		any |= rt->methods;
		/* a driver answers HEAD itself: not promised in Allow */
		head |= (rt->methods & R_GET) && rt->auth != A_DRIVER;
	}
	memset(p, 0, sizeof *p);
	if (!found)
		return 404;
	snprintf(allow, INTAKE_ALLOW_LEN, "%s%s%s%s%s%s", any & R_GET ? "GET" : "",
		 head ? ", HEAD" : "", any & R_GET && any & R_POST ? ", " : "",
		 any & R_POST ? "POST" : "", any & R_DELETE && any & (R_GET | R_POST) ?
		 ", " : "", any & R_DELETE ? "DELETE" : "");
	return 405;
}

/* ---- checks and dispatch ---- */

/* The operator named by "Authorization: Bearer TOKEN", or NULL. */
static const struct pg_operator *
authenticate(struct MHD_Connection *conn, const struct pg_config *cfg, bool *given)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);

	*given = v != NULL;
	if (v == NULL || strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
		return NULL;
	v += 6;
	v += strspn(v, " \t");
	if (*v == '\0')
		return NULL;
	return pg_config_auth(cfg, v);
}

/* True for "application/json" with optional parameters, where a charset
 * parameter, if any, is UTF-8. */
static bool
json_content_type(const char *ct)
{
	const char *p;

	if (ct == NULL)
		return false;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, "application/json", 16) != 0)
		return false;
	p = ct + 16;
	p += strspn(p, " \t");
	while (*p == ';') {
		size_t n;

		p++;
		p += strspn(p, " \t");
		n = strcspn(p, ";");
		if (strncasecmp(p, "charset", 7) == 0) {
			const char *v = p + 7;

			v += strspn(v, " \t");
			if (*v++ != '=')
				return false;
			v += strspn(v, " \t\"");
			if (strncasecmp(v, "utf-8", 5) != 0 ||
			    strspn(v + 5, " \t\"") != (size_t)(p + n - v - 5))
				return false;
		}
		p += n;
	}
	return *p == '\0';
}

/* In the order of the answers: 404 or 405, the configuration (503; none
 * for A_OPEN rows), who calls (403, 401), the body's type (415) and
 * declared length (413). */
enum MHD_Result
intake__check(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	const struct intake_route *rt = r->route;
	const char *v;
	bool given;

	if (r->status == 404)
		return intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				    "no such resource");
	if (r->status == 405)
		return intake__fail(h, conn, r, 405, "method_not_allowed", "",
				    MHD_HTTP_HEADER_ALLOW, r->allow,
				    "this resource allows %s", r->allow);
	if (rt->auth == A_OPEN)
		return MHD_YES;
	if ((r->cfg = pg_live_get(h->ctx->live)) == NULL)
		return intake__fail(h, conn, r, 503, "unavailable", "",
				    MHD_HTTP_HEADER_RETRY_AFTER, INTAKE_RETRY_AFTER_S,
				    "no configuration loaded");
	if (rt->auth == A_CALENDAR && h->ctx->ack &&
	    (v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "key")) != NULL) {
		char key[PG_TOKEN_LEN];

		intake__ics_key(h->ctx, r->p.client, key);
		if (strlen(v) != strlen(key) || !key[0] || !pg_ct_equal(v, key, strlen(key)))
			return intake__fail(h, conn, r, 403, "forbidden", "key", NULL, NULL,
					    "this calendar key is not valid");
	} else if ((rt->auth == A_OPERATOR || rt->auth == A_CALENDAR) &&
		   (r->op = authenticate(conn, r->cfg, &given)) == NULL) {
		const char *why = NULL;
		int st = given ? 401 : MHD_lookup_connection_value(conn, MHD_COOKIE_KIND,
				 INTAKE_COOKIE) ? intake__session_auth(h, conn, r, &why) : 401;

		if (st == 403)
			return intake__fail(h, conn, r, 403, "csrf", "X-CSRF-Token", NULL, NULL,
					    "%s", why);
		if (st != 0)
			return intake__fail(h, conn, r, 401, "unauthorized", "Authorization",
					    MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					    "Bearer realm=\"pagegate\"",
					    "%s", why ? why : given ? "the bearer token is not valid"
					    : "an Authorization: Bearer token is required");
	}
	switch (rt->body) {
	case B_NONE:
		return MHD_YES;
	case B_FORM:
		pg_buf_init(&r->body, INTAKE_FORM_MAX);
		return MHD_YES;
	case B_RAW:
		pg_buf_init(&r->body, r->cfg->max_body);
		return MHD_YES;
	case B_JSON:
	case B_JSON_OR_EMPTY:
		break;
	}
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (rt->body == B_JSON_OR_EMPTY && v == NULL) {
		/* nothing sent, nothing to type */
	} else if (!json_content_type(v))
		return intake__fail(h, conn, r, 415, "unsupported_media_type",
				    "Content-Type", NULL, NULL,
				    "the body must be application/json (UTF-8)");
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v) {
		char *end;
		unsigned long long n = strtoull(v, &end, 10);

		if (end == v || *end != '\0' || n > r->cfg->max_body)
			return intake__fail(h, conn, r, 413, "too_large", "", NULL, NULL,
					    "the body is over the limit of %zu bytes",
					    r->cfg->max_body);
	}
	pg_buf_init(&r->body, r->cfg->max_body);
	return MHD_YES;
}

enum MHD_Result
intake__serve(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	enum MHD_Result ret;
	enum intake_body b;

	if (!r->post && ((ret = intake__check(h, conn, r)) != MHD_YES || r->answered))
		return ret;
	b = r->route->body;
	if (r->too_big && (b == B_JSON || b == B_JSON_OR_EMPTY || b == B_RAW))
		return intake__fail(h, conn, r, 413, "too_large", "", NULL, NULL,
				    "the body is over the limit of %zu bytes",
				    r->cfg->max_body);
	return r->route->handler(h, conn, r);
}

