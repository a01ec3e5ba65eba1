/*
 * intake_session.c - the console's sessions (intake_priv.h):
 *   POST   /v1/session  {"operator","token"}  sign in: the session cookie
 *   GET    /v1/session                        who am I, and my CSRF token
 *   DELETE /v1/session                        sign out
 * and the check that lets a session cookie stand for a bearer token.
 *
 * An operator signs in with the same name and token machines use as a
 * bearer token; the console then holds an HttpOnly, SameSite=Strict
 * cookie (Secure when public_url is https) naming a random 256-bit
 * session, and sends the session's CSRF token in X-CSRF-Token with every
 * POST and DELETE.  Sessions live in memory: a restart signs everybody
 * out.  A session ends after console.idle without a request of the
 * operator's: a GET the page makes by itself, because an event came,
 * says so in X-Pagegate-Background: 1 and does not count.
 *
 * Failed sign-ins are throttled per client address and per operator name
 * and each one is logged; the answer never says whether the name or the
 * token was wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define CSRF_HEADER    "X-CSRF-Token"
#define BACKGROUND_HEADER "X-Pagegate-Background"   /* "1": not the operator's doing */
#define THROTTLE_SLOTS 512            /* addresses and names remembered */
#define FORGET_MS      (60 * 60 * 1000)
#define KEY_MAX        96             /* "a:ADDRESS" or "o:NAME" */
#define ADDR_MAX       64

struct session {
	char sid[INTAKE_SID_LEN];        /* "" = free slot */
	char csrf[INTAKE_SID_LEN];
	char op[INTAKE_OP_MAX];
	int64_t last_ms, idle_ms;
};

struct throttle {
	char key[KEY_MAX];               /* "" = free slot */
	int fails;                       /* in a row */
	int64_t last_ms;                 /* of the last failure */
	int64_t until_ms;                /* no try before */
};

struct intake_sessions {
	pthread_mutex_t mu;
	struct session s[INTAKE_SESSIONS_MAX];
	struct throttle t[THROTTLE_SLOTS];
};

pg_err
intake__sessions_new(struct intake_sessions **out)
{
	struct intake_sessions *s = calloc(1, sizeof *s);

	*out = NULL;
	if (!s)
		return PG_ERR_NOMEM;
	pthread_mutex_init(&s->mu, NULL);
	*out = s;
	return PG_OK;
}

void
intake__sessions_free(struct intake_sessions *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->mu);
	explicit_bzero(s->s, sizeof s->s);
	free(s);
}

/* ---- throttling (mu held) ---- */

/* The slot of key, made when absent (evicting the least recent); NULL
 * when !make and absent. */
static struct throttle *
slot_of(struct intake_sessions *s, const char *key, bool make, int64_t now_ms)
{
	struct throttle *old = &s->t[0];

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct throttle *t = &s->t[i];

		if (t->key[0] && strcmp(t->key, key) == 0) {
			if (now_ms - t->last_ms > FORGET_MS)
				t->fails = 0, t->until_ms = 0;
			return t;
		}
		if (!t->key[0] || t->last_ms < old->last_ms)
			old = t;
	}
	if (!make)
		return NULL;
	memset(old, 0, sizeof *old);
	pg_strlcpy(old->key, key, sizeof old->key);
	return old;
}

static void
keys(const char *addr, const char *op, char ka[KEY_MAX], char ko[KEY_MAX])
{
	snprintf(ka, KEY_MAX, "a:%s", addr ? addr : "");
	snprintf(ko, KEY_MAX, "o:%s", op ? op : "");
}

int64_t
intake__signin_wait(struct intake_sessions *s, const char *addr, const char *op,
		    int64_t now_ms)
{
	char ka[KEY_MAX], ko[KEY_MAX];
	struct throttle *t;
	int64_t wait = 0;

	keys(addr, op, ka, ko);
	pthread_mutex_lock(&s->mu);
	if ((t = slot_of(s, ka, false, now_ms)) && t->until_ms > now_ms)
		wait = t->until_ms - now_ms;
	if ((t = slot_of(s, ko, false, now_ms)) && t->until_ms - now_ms > wait)
		wait = t->until_ms - now_ms;
	pthread_mutex_unlock(&s->mu);
	return wait;
}

/* One more failure of t; the pause that follows it. */
static int
fail_one(struct throttle *t, int64_t now_ms)
{
	int64_t pause = INTAKE_THROTTLE_MS;

	t->fails++;
	t->last_ms = now_ms;
	if (t->fails >= INTAKE_THROTTLE_FREE) {
		for (int i = INTAKE_THROTTLE_FREE; i < t->fails && pause < INTAKE_THROTTLE_CAP; i++)
			pause *= 2;
		t->until_ms = now_ms + (pause < INTAKE_THROTTLE_CAP ? pause : INTAKE_THROTTLE_CAP);
	}
	return t->fails;
}

int
intake__signin_failed(struct intake_sessions *s, const char *addr, const char *op,
		      int64_t now_ms)
{
	char ka[KEY_MAX], ko[KEY_MAX];
	int a, o;

	keys(addr, op, ka, ko);
	pthread_mutex_lock(&s->mu);
	a = fail_one(slot_of(s, ka, true, now_ms), now_ms);
	o = fail_one(slot_of(s, ko, true, now_ms), now_ms);
	pthread_mutex_unlock(&s->mu);
	return a > o ? a : o;
}

void
intake__signin_ok(struct intake_sessions *s, const char *addr, const char *op)
{
	char ka[KEY_MAX], ko[KEY_MAX];
	struct throttle *t;

	keys(addr, op, ka, ko);
	pthread_mutex_lock(&s->mu);
	if ((t = slot_of(s, ka, false, 0)))
		memset(t, 0, sizeof *t);
	if ((t = slot_of(s, ko, false, 0)))
		memset(t, 0, sizeof *t);
	pthread_mutex_unlock(&s->mu);
}

/* ---- sessions ---- */

/* 64 hex characters from the kernel's CSPRNG. */
static pg_err
random_hex(char out[INTAKE_SID_LEN])
{
	unsigned char b[32];
	pg_err e = pg_random(b, sizeof b);

	for (size_t i = 0; !e && i < sizeof b; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	explicit_bzero(b, sizeof b);
	return e;
}

pg_err
intake__session_start(struct intake_sessions *s, const char *op, int64_t idle_ms,
		      int64_t now_ms, char sid[INTAKE_SID_LEN], char csrf[INTAKE_SID_LEN])
{
	struct session *slot;
	pg_err e;

	if ((e = random_hex(sid)) || (e = random_hex(csrf)))
		return e;
	pthread_mutex_lock(&s->mu);
	slot = &s->s[0];
	for (size_t i = 0; i < INTAKE_SESSIONS_MAX; i++) {
		struct session *x = &s->s[i];

		if (x->sid[0] && now_ms - x->last_ms > x->idle_ms)
			memset(x, 0, sizeof *x);          /* expired: free */
		if (!x->sid[0]) {
			slot = x;
			break;
		}
		if (x->last_ms < slot->last_ms)
			slot = x;                         /* the least recent goes */
	}
	memcpy(slot->sid, sid, INTAKE_SID_LEN);
	memcpy(slot->csrf, csrf, INTAKE_SID_LEN);
	pg_strlcpy(slot->op, op, sizeof slot->op);
	slot->last_ms = now_ms;
	slot->idle_ms = idle_ms;
	pthread_mutex_unlock(&s->mu);
	return PG_OK;
}

/* The slot of sid (mu held), compared in constant time; NULL. */
static struct session *
find(struct intake_sessions *s, const char *sid)
{
	struct session *found = NULL;

	if (!sid || strlen(sid) != INTAKE_SID_LEN - 1)
		return NULL;
	for (size_t i = 0; i < INTAKE_SESSIONS_MAX; i++)
		if (s->s[i].sid[0] && pg_ct_equal(s->s[i].sid, sid, INTAKE_SID_LEN - 1) &&
		    !found)
			found = &s->s[i];
	return found;
}

bool
intake__session_get(struct intake_sessions *s, const char *sid, int64_t now_ms,
		    bool touch, char op[INTAKE_OP_MAX], char csrf[INTAKE_SID_LEN])
{
	struct session *x;
	bool ok = false;

	pthread_mutex_lock(&s->mu);
	if ((x = find(s, sid)) != NULL) {
		if (now_ms - x->last_ms > x->idle_ms) {
			memset(x, 0, sizeof *x);
		} else {
			ok = true;
			if (touch)
				x->last_ms = now_ms;
			if (op)
				pg_strlcpy(op, x->op, INTAKE_OP_MAX);
			if (csrf)
				memcpy(csrf, x->csrf, INTAKE_SID_LEN);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

void
intake__session_end(struct intake_sessions *s, const char *sid)
{
	struct session *x;

	pthread_mutex_lock(&s->mu);
	if ((x = find(s, sid)) != NULL)
		memset(x, 0, sizeof *x);
	pthread_mutex_unlock(&s->mu);
}

/* ---- requests ---- */

/* The client's address as text ("127.0.0.1", "::1"), or "?". */
static void
client_addr(struct MHD_Connection *conn, char out[ADDR_MAX])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	pg_strlcpy(out, "?", ADDR_MAX);
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, ADDR_MAX);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, ADDR_MAX);
}

int
intake__session_auth(struct pg_http *h, struct MHD_Connection *conn,
		     struct intake_req *r, const char **why)
{
	const char *sid = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, INTAKE_COOKIE);
	const char *tok;
	char op[INTAKE_OP_MAX], csrf[INTAKE_SID_LEN];
	const char *bg = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, BACKGROUND_HEADER);
	/* a GET the page makes by itself (an event came) is no use of it */
	bool use = !(bg && strcmp(bg, "1") == 0 && strcmp(r->method, MHD_HTTP_METHOD_GET) == 0);

	if (!sid || !intake__session_get(h->sessions, sid, pg_now_ms(), use, op, csrf) ||
	    !(r->op = pg_config_operator(r->cfg, op))) {
		r->op = NULL;
		*why = "the console session has ended: sign in again";
		return 401;
	}
	if (strcmp(r->method, MHD_HTTP_METHOD_POST) == 0 ||
	    strcmp(r->method, MHD_HTTP_METHOD_DELETE) == 0) {
		tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, CSRF_HEADER);
		if (!tok || strlen(tok) != INTAKE_SID_LEN - 1 ||
		    !pg_ct_equal(tok, csrf, INTAKE_SID_LEN - 1)) {
			r->op = NULL;
			*why = "this request needs the session's X-CSRF-Token";
			return 403;
		}
	}
	pg_strlcpy(r->sid, sid, sizeof r->sid);
	return 0;
}

/* The session's answer: {"operator","csrf","idle_timeout_s"} (csrf null
 * for a bearer token). */
static json_t *
session_json(const char *op, const char *csrf, int idle_s)
{
	return json_pack("{s:s,s:s?,s:i}", "operator", op, "csrf", csrf,
			 "idle_timeout_s", idle_s);
}

/* The Set-Cookie value: the session, or (sid NULL) its end. */
static void
cookie(const struct pg_config *cfg, const char *sid, char *out, size_t n)
{
	bool tls = cfg->public_url && strncmp(cfg->public_url, "https://", 8) == 0;

	snprintf(out, n, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", INTAKE_COOKIE,
		 sid ? sid : "", tls ? "; Secure" : "", sid ? "" : "; Max-Age=0");
}

enum MHD_Result
intake__do_signin(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	json_error_t je;
	json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len,
			       JSON_REJECT_DUPLICATES, &je);
	const char *name = NULL, *token = NULL;
	const struct pg_operator *op;
	char addr[ADDR_MAX], shown[INTAKE_OP_MAX], sid[INTAKE_SID_LEN],
	     csrf[INTAKE_SID_LEN], set[160], retry[24];
	int64_t now = pg_now_ms(), wait;
	enum MHD_Result ret;
	int fails;

	if (!j || !json_is_object(j) ||
	    !json_is_string(json_object_get(j, "operator")) ||
	    !json_is_string(json_object_get(j, "token"))) {
		const char *field = !j || !json_is_object(j) ? "" :
			json_is_string(json_object_get(j, "operator")) ? "token" : "operator";

		json_decref(j);
		return intake__fail(h, conn, r, 400, "invalid", field, NULL, NULL,
				    "sign in with {\"operator\": NAME, \"token\": TOKEN}");
	}
	name = json_string_value(json_object_get(j, "operator"));
	token = json_string_value(json_object_get(j, "token"));
	client_addr(conn, addr);
	pg_text_logsafe(shown, sizeof shown, name, INTAKE_OP_MAX - 1);
	if ((wait = intake__signin_wait(h->sessions, addr, shown, now)) > 0) {
		json_decref(j);
		snprintf(retry, sizeof retry, "%lld", (long long)((wait + 999) / 1000));
		pg_warn("console: sign-in for operator \"%s\" from %s refused: throttled "
			"for %s s", shown, addr, retry);
		return intake__fail(h, conn, r, 429, "throttled", "",
				    MHD_HTTP_HEADER_RETRY_AFTER, retry,
				    "too many failed sign-ins: try again in %s s", retry);
	}
	op = pg_config_auth(r->cfg, token);
	if (!op || !op->name || strcmp(op->name, name) != 0) {
		json_decref(j);
		fails = intake__signin_failed(h->sessions, addr, shown, now);
		pg_warn("console: sign-in for operator \"%s\" from %s failed (%d in a row)",
			shown, addr, fails);
		return intake__fail(h, conn, r, 401, "unauthorized", "token", NULL, NULL,
				    "the operator name or token is not right");
	}
	json_decref(j);
	intake__signin_ok(h->sessions, addr, shown);
	if (intake__session_start(h->sessions, op->name, (int64_t)r->cfg->console_idle_s * 1000,
				  now, sid, csrf) != PG_OK)
		return intake__fail(h, conn, r, 503, "unavailable", "",
				    MHD_HTTP_HEADER_RETRY_AFTER, INTAKE_RETRY_AFTER_S,
				    "cannot make a session now");
	pg_info("console: operator %s signed in from %s", op->name, addr);
	cookie(r->cfg, sid, set, sizeof set);
	ret = intake__respond_json(conn, r, MHD_HTTP_OK,
				   session_json(op->name, csrf, r->cfg->console_idle_s),
				   MHD_HTTP_HEADER_SET_COOKIE, set);
	explicit_bzero(sid, sizeof sid);
	explicit_bzero(set, sizeof set);
	return ret;
}

enum MHD_Result
intake__do_session(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	char csrf[INTAKE_SID_LEN];
	bool by_cookie = r->sid[0] &&
		intake__session_get(h->sessions, r->sid, pg_now_ms(), false, NULL, csrf);

	return intake__respond_json(conn, r, MHD_HTTP_OK,
				    session_json(r->op->name, by_cookie ? csrf : NULL,
						 r->cfg->console_idle_s), NULL, NULL);
}

enum MHD_Result
intake__do_signout(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	char set[160];
	char *empty = strdup("");

	if (!empty)
		return MHD_NO;
	if (r->sid[0]) {
		intake__session_end(h->sessions, r->sid);
		pg_info("console: operator %s signed out", r->op->name);
	}
	cookie(r->cfg, NULL, set, sizeof set);
	return intake__respond(conn, r, MHD_HTTP_NO_CONTENT, "text/plain", empty, 0,
			       MHD_HTTP_HEADER_SET_COOKIE, set, NULL);
}
