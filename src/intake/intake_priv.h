/*
 * intake_priv.h - the intake's own contract, not a public one.  Included
 * by the intake's files only (intake_http.c, intake_route.c,
 * intake_messages.c, intake_oncall.c, intake_mailbox.c, intake_cb.c,
 * intake_link.c, intake_view.c, intake_json.c, intake_session.c,
 * intake_events.c, intake_console.c, intake_clients.c, intake_actions.c,
 * intake_board.c, intake_head.c, intake_guard.c, intake_gate.c) and by the unit
 * tests of the route matcher and the sessions
 * (tests/unit/test_intake_route.c, tests/unit/test_session.c), and of the
 * head's checks (tests/unit/test_intake_head.c,
 * tests/fuzz/fuzz_intake_head.c).
 */
#ifndef PAGEGATE_INTAKE_PRIV_H
#define PAGEGATE_INTAKE_PRIV_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "pagegate/channel.h"
#include "pagegate/intake.h"

/* ---- requests, routes and handlers (intake_route.c has the table) ---- */

struct intake_sessions;
struct intake_guard;

/* The server: libmicrohttpd's daemon, the daemon's context and the
 * console's sessions. */
struct pg_http {
	struct MHD_Daemon *d;
	struct pg_ctx *ctx;
	struct intake_sessions *sessions;
	struct intake_guard *guard;   /* the deadlines of heads and bodies */
	struct intake_gate *gate;     /* plain HTTP: first heads checked; else NULL */
	char *tls_cert, *tls_key;     /* PEM, while TLS is on; else NULL */
	_Atomic int64_t log_sec;      /* libmicrohttpd's log lines: this second's */
	atomic_ulong log_lines, log_dropped;
};

struct intake_req;
/* Answers r (every path through it queues a response or returns MHD_NO).
 * Called once the whole request is in, after its row's checks passed:
 * r->cfg is held (but for A_OPEN rows), r->op is the operator for
 * A_OPERATOR rows, r->p holds the path's parameters and r->body the body
 * the row takes. */
typedef enum MHD_Result intake_handler(struct pg_http *h, struct MHD_Connection *conn,
				       struct intake_req *r);

/* Methods a row serves. */
enum { R_GET = 1u,   /* GET, and HEAD (libmicrohttpd sends no body back) */
       R_POST = 2u,
       R_DELETE = 4u };

/* Who may call a row. */
enum intake_auth {
	A_OPEN,      /* anybody; no configuration is held; takes no body */
	A_OPERATOR,  /* an operator: "Authorization: Bearer TOKEN", or the
		      * console's session cookie (with its CSRF token on a
		      * POST or DELETE) */
	A_SIGNIN,    /* the body carries the credentials (sign-in) */
	A_CALENDAR,  /* ?key= the client's calendar key, else as A_OPERATOR */
	A_LINK,      /* the token in the path is the credential */
	A_DRIVER     /* the channel driver authenticates; it sees the method as
		      * sent and answers HEAD itself, so Allow names GET and POST */
};

/* What body a row takes. */
enum intake_body {
	B_NONE,           /* none: one sent anyway is read and dropped */
	B_JSON,           /* application/json (UTF-8) up to max_body: else 415, 413 */
	B_JSON_OR_EMPTY,  /* the same, or nothing at all without a Content-Type */
	B_FORM,           /* a small form up to INTAKE_FORM_MAX; more is dropped */
	B_RAW             /* anything up to max_body: else 413 */
};
#define INTAKE_FORM_MAX 1024u  /* what the link's form may send (nothing) */

/* Row flags. */
#define F_REJECTS 1u  /* a 4xx answer counts as a rejected message (and is logged) */

/* One endpoint: a row of intake__routes[]. */
struct intake_route {
	unsigned methods;         /* R_GET, R_POST */
	const char *path;         /* literal text and {typed} parameters */
	enum intake_auth auth;
	enum intake_body body;
	intake_handler *handler;
	unsigned flags;           /* F_ */
};
extern const struct intake_route intake__routes[];
extern const size_t intake__n_routes;

/* The typed parameters of a path, parsed (intake_route.c). */
struct intake_params {
	int64_t id;                  /* {id} */
	char client[72];             /* {client} */
	char token[512];             /* {token} */
	enum pg_channel_kind ch;     /* {channel} */
	char url[512];               /* {channel}: the whole path */
	char rest[512];              /* {channel}: what follows /cb/<channel> */
};

#define INTAKE_ALLOW_LEN 32          /* "GET, HEAD, POST, DELETE" */
#define INTAKE_SID_LEN   65          /* a session id or CSRF token: 64 hex + NUL */

/* Per-request state (MHD's con_cls). */
struct intake_req {
	const struct intake_route *route;  /* NULL when status is 404 or 405 */
	struct intake_params p;      /* the path's parameters */
	struct pg_config *cfg;       /* held until completion; NULL for A_OPEN rows */
	const struct pg_operator *op;  /* A_OPERATOR rows (A_CALENDAR without key) */
	char sid[INTAKE_SID_LEN];    /* the console session it came with ("" for a
					bearer token) */
	const char *method;          /* MHD's, valid for the request */
	int status;                  /* of the match: 200, 404 or 405 */
	char allow[INTAKE_ALLOW_LEN];  /* for 405 */
	bool post;
	struct pg_buf body;
	bool too_big;
	unsigned long long dropped;
	bool answered;               /* a response has been queued */
	bool started;                /* the handler has seen the headers */
	int target_fault;            /* intake__target_check of the target as sent */
	bool fault_in_query;
	const char *target_end;      /* where the target as sent ended (MHD's buffer) */
};

/* Finds the row for method and url (a path, without the query): 200 with
 * *route and p set; 404 when no row has the path; 405 when rows have it
 * but none serves the method, with allow naming theirs ("GET, HEAD").
 * Unless 200, *route is NULL and p zeroed.  Pure: no I/O, no
 * configuration (which channels take callbacks is a constant table). */
int intake__match(const char *method, const char *url, const struct intake_route **route,
		  struct intake_params *p, char allow[INTAKE_ALLOW_LEN]);
/* Checks r against its row: the match, the configuration, who calls, the
 * body's type and declared length.  Answers the first failure; returns
 * MHD_YES with r->answered false when the request may go on. */
enum MHD_Result intake__check(struct pg_http *h, struct MHD_Connection *conn,
			      struct intake_req *r);
/* The whole request is in: checks it (but a POST, checked on the first
 * call) and answers it through its row's handler. */
enum MHD_Result intake__serve(struct pg_http *h, struct MHD_Connection *conn,
			      struct intake_req *r);

/* ---- answers (intake_http.c) ---- */

#define INTAKE_RETRY_AFTER_S "5"     /* with a 503 */

/* Queues status with data (malloc'd, taken) and extra headers given as
 * name, value pairs ending with NULL. */
enum MHD_Result intake__respond(struct MHD_Connection *conn, struct intake_req *r,
				unsigned status, const char *ctype, char *data, size_t len,
				...);
/* Queues j (taken) as JSON; hdr/val: one optional extra header. */
enum MHD_Result intake__respond_json(struct MHD_Connection *conn, struct intake_req *r,
				     unsigned status, json_t *j, const char *hdr,
				     const char *val);
/* Answers e as {"error":{"code","field","message"}}. */
enum MHD_Result intake__respond_err(struct pg_http *h, struct MHD_Connection *conn,
				    struct intake_req *r, const struct pg_api_error *e,
				    const char *hdr, const char *val);
/* Builds an error and answers it (fields are constants or already safe). */
enum MHD_Result intake__fail(struct pg_http *h, struct MHD_Connection *conn,
			     struct intake_req *r, int status, const char *code,
			     const char *field, const char *hdr, const char *val,
			     const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));
/* Answers a store error: 503 with Retry-After when the store cannot take
 * or give work, 404 for a missing object, 500 otherwise. */
enum MHD_Result intake__fail_store(struct pg_http *h, struct MHD_Connection *conn,
				   struct intake_req *r, pg_err e);

/* ---- the handlers, one per row ---- */

/* intake_http.c: the server's own */
intake_handler intake__do_health, intake__do_metrics;
/* intake_messages.c: /v1/messages..., /v1/route/preview */
intake_handler intake__do_list, intake__do_submit, intake__do_preview, intake__do_get,
	intake__do_ack, intake__do_cancel, intake__do_escalate;
/* intake_oncall.c, intake_mailbox.c: /v1/clients/{client}/... */
intake_handler intake__do_oncall, intake__do_oncall_ics, intake__do_mailbox;
/* intake_link.c: /a/{token}; intake_cb.c: /cb/{channel}... */
intake_handler intake__do_link, intake__do_callback;
/* intake_session.c: /v1/session (sign in, who am I, sign out) */
intake_handler intake__do_signin, intake__do_session, intake__do_signout;
/* intake_events.c: /v1/events (the stream), /v1/calls (screen pop) */
intake_handler intake__do_events, intake__do_calls;
/* intake_console.c: / and /console/... (the console's files) */
intake_handler intake__do_index, intake__do_asset;
/* intake_clients.c: /v1/clients, /v1/clients/{client} */
intake_handler intake__do_clients, intake__do_client;
/* intake_actions.c: resend, notes, silence, bulk; intake_board.c: the board */
intake_handler intake__do_resend, intake__do_note, intake__do_silence, intake__do_bulk,
	intake__do_board;
/* True while message f's console alarm is on: flagged unacknowledged and
 * nobody silenced it since; *by: who silenced it since (points into f),
 * or NULL (intake_actions.c). */
bool intake__attention(const struct pg_message_full *f, const char **by);
/* Who an acknowledgement is recorded as: "BY (operator NAME)", or
 * "operator NAME" when by is NULL or empty, into who (size n). */
void intake__who(char *who, size_t n, const char *by, const char *op_name);
/* The channel an operator's request came through, for the ledger:
 * "console" (a session cookie) or "api" (a bearer token). */
const char *intake__via(const struct intake_req *r);

/* ---- the console's files (intake_console.c) ---- */

/* One file of src/console/www, embedded by src/console/embed.sh into the
 * generated table below (the build's gen/console_www.c). */
struct intake_www {
	const char *path;            /* "index.html", "app.js" ... */
	const unsigned char *data;
	size_t len;
};
extern const struct intake_www intake__www[];
extern const size_t intake__n_www;

/* ---- the console's sessions (intake_session.c) ---- */

#define INTAKE_SESSIONS_MAX  1024    /* live sessions at most; the oldest goes */
#define INTAKE_THROTTLE_FREE 5       /* failed sign-ins before a pause */
#define INTAKE_THROTTLE_MS   30000   /* the first pause; it doubles ... */
#define INTAKE_THROTTLE_CAP  (15 * 60 * 1000)   /* ... up to this */
#define INTAKE_OP_MAX        64      /* an operator name, with its NUL */
#define INTAKE_COOKIE        "pg_session"   /* the session cookie's name */

/* PG_ERR_NOMEM. */
pg_err intake__sessions_new(struct intake_sessions **out);
void intake__sessions_free(struct intake_sessions *s);

/* Sign-in throttling, per address and per operator name: after
 * INTAKE_THROTTLE_FREE failures in a row (of either), each further try
 * waits INTAKE_THROTTLE_MS, doubling per failure up to INTAKE_THROTTLE_CAP;
 * a success clears both; an hour without failures forgets them.  Pure
 * but for the lock: now_ms is the caller's clock. */
/* Milliseconds to wait before addr may try op again; 0: now. */
int64_t intake__signin_wait(struct intake_sessions *s, const char *addr,
			    const char *op, int64_t now_ms);
/* Records a failure; returns the failures in a row (the larger of the
 * address's and the operator's). */
int intake__signin_failed(struct intake_sessions *s, const char *addr,
			  const char *op, int64_t now_ms);
void intake__signin_ok(struct intake_sessions *s, const char *addr, const char *op);

/* Starts a session for op that ends after idle_ms without use: a new
 * random session id and CSRF token (64 hex each).  PG_ERR_IO when no
 * random bytes could be had. */
pg_err intake__session_start(struct intake_sessions *s, const char *op,
			     int64_t idle_ms, int64_t now_ms,
			     char sid[INTAKE_SID_LEN], char csrf[INTAKE_SID_LEN]);
/* The live session sid (compared in constant time): its operator and
 * CSRF token (either may be NULL); touch renews its idle time.  An
 * expired one is ended.  False when there is none. */
bool intake__session_get(struct intake_sessions *s, const char *sid, int64_t now_ms,
			 bool touch, char op[INTAKE_OP_MAX], char csrf[INTAKE_SID_LEN]);
void intake__session_end(struct intake_sessions *s, const char *sid);
/* Who a request with the session cookie is: sets r->op (from r->cfg) and
 * r->sid when the cookie names a live session of an operator still
 * configured (and touches it); for a POST or DELETE the X-CSRF-Token
 * header must also match.  Returns 0, or the status to answer: 401 (no
 * such session, expired, signed out) or 403 (CSRF token missing or
 * wrong), with what went wrong in why. */
int intake__session_auth(struct pg_http *h, struct MHD_Connection *conn,
			 struct intake_req *r, const char **why);


/* ---- the head's own checks (intake_head.c), pure ---- */

enum intake_target_fault {
	INTAKE_TARGET_OK,
	INTAKE_TARGET_CTL,       /* a raw control byte (NUL, CR, TAB ...) */
	INTAKE_TARGET_PCT_CTL    /* an escape that decodes to one (%00, %0A ...) */
};
/* Checks a request target as sent (t, n bytes, before %-decoding): no
 * control byte, raw or %-encoded; *in_query tells whether the fault is
 * after the '?'. */
enum intake_target_fault intake__target_check(const char *t, size_t n, bool *in_query);

enum intake_te {
	INTAKE_TE_NONE,          /* no Transfer-Encoding (v NULL) */
	INTAKE_TE_CHUNKED,       /* exactly "chunked" (any case, blanks around) */
	INTAKE_TE_OTHER          /* anything else: "gzip, chunked", "identity" ... */
};
/* Classifies a Transfer-Encoding header's value (NULL: none). */
enum intake_te intake__transfer_coding(const char *v);

/* The whole head of a connection's first request, as sent, before
 * libmicrohttpd reads it (intake_gate.c calls this on peeked bytes). */
#define INTAKE_HEAD_MAX    8192    /* bytes of a head, its blank line included */
#define INTAKE_HEAD_FIELDS 100     /* header field lines of a head */
enum intake_head_verdict {
	INTAKE_HEAD_MORE,        /* no fault yet, no end yet: wait for more */
	INTAKE_HEAD_OK,          /* a well-formed head ends within the bytes */
	INTAKE_HEAD_BAD          /* refused: the fault says why */
};
struct intake_head_fault {
	int status;              /* 400, 431 or 505 */
	char code[24];
	char field[64];          /* "request-line", "path", "query", "head" or
				    the header's name (a token: safe to show) */
	char message[160];
};
/* Checks the first n bytes of a connection (b) as a request head (RFC
 * 9112): a request line METHOD SP TARGET SP HTTP/d.d (one empty line
 * before it is ignored), the target as intake__target_check wants it,
 * field lines NAME ":" VALUE with no NUL, CR or other control byte but
 * HTAB in the value, no line folding, at most INTAKE_HEAD_FIELDS of
 * them, ended by an empty line; CRLF or a bare LF ends a line.  OK with
 * *len the head's length; BAD with f filled (431 when max bytes hold no
 * end); MORE when n < max and more bytes may complete it.  A fault is
 * found as soon as its bytes are in, whatever follows.  Pure. */
enum intake_head_verdict intake__head_check(const char *b, size_t n, size_t max,
					    size_t *len, struct intake_head_fault *f);

/* ---- deadlines for a request's head and body (intake_guard.c) ---- */

/* head_timeout (default 10 s): a request's head, from the connection or
 * the end of the previous request to its blank line; body_timeout
 * (default 60 s): a body, from the head to its last byte. */
enum intake_phase { INTAKE_PH_HEAD, INTAKE_PH_BODY, INTAKE_PH_REPLY };

/* Starts the thread that cuts a connection whose head or body is not in
 * by its deadline (head_ms, body_ms): PG_ERR_NOMEM, PG_ERR_IO. */
pg_err intake__guard_new(int head_ms, int body_ms, struct intake_guard **out);
void intake__guard_free(struct intake_guard *g);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (cls: the guard):
 * watches a connection from its start to its close. */
void intake__guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe);
/* conn's request entered phase ph (its clock starts now). */
void intake__guard_phase(struct intake_guard *g, struct MHD_Connection *conn,
			 enum intake_phase ph);
/* Connections cut for a late head and for a late body, so far. */
void intake__guard_counts(struct intake_guard *g, unsigned long *heads,
			  unsigned long *bodies);

/* ---- the gate: plain HTTP's first heads, checked before libmicrohttpd
 * reads them (intake_gate.c) ---- */

struct intake_gate;
/* Listens on sa (a TCP socket of its own): PG_ERR_IO (logged).  head_ms:
 * head_timeout; per_addr: max_per_address; at most max connections wait
 * at the gate at once. */
pg_err intake__gate_new(const struct sockaddr *sa, socklen_t salen, int head_ms,
			unsigned per_addr, unsigned max, struct intake_gate **out);
/* Starts the gate's thread, which hands each connection whose first head
 * passed intake__head_check to d (MHD_add_connection): PG_ERR_IO. */
pg_err intake__gate_run(struct intake_gate *g, struct MHD_Daemon *d);
/* Stops the thread, closes the listening socket and what waits; before
 * d stops.  NULL is fine. */
void intake__gate_free(struct intake_gate *g);
int intake__gate_port(const struct intake_gate *g);
/* Connections cut at the gate for a late head, and heads refused there. */
void intake__gate_counts(struct intake_gate *g, unsigned long *cut,
			 unsigned long *refused);

/* ---- helpers ---- */

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
/* An RFC 3339 time given in a query (where an offset's '+' may arrive as
 * a space) into *ms; false when it is not one. */
bool intake__query_time(const char *v, int64_t *ms);

/* Fills a client-facing error (intake.h struct pg_api_error); returns
 * PG_ERR_INVAL whatever the status. */
pg_err intake__error(struct pg_api_error *err, int status, const char *code,
		   const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The JSON views (intake_view.c).  Each returns a new JSON value the
 * caller owns, or NULL when out of memory. */

/* The answer to a submit: {"id","client","state","received",
 * "deliveries":[{"id","contact","channel","to","state","hold_until"?}]}. */
json_t *intake__submit(const struct pg_message *m, const struct pg_delivery *d,
		       size_t nd);
/* GET /v1/messages/{id}: the message with "fields", "deliveries" (each
 * with its "attempts") and the "ledger". */
json_t *intake__full(const struct pg_message_full *f);
/* RFC 3339 UTC, or JSON null for 0 (not happened). */
json_t *intake__time(int64_t ms);
/* One message with caller, text and fields, without its deliveries. */
json_t *intake__message(const struct pg_message *m);
/* GET /v1/messages: {"messages":[summary, ...]} (no fields). */
json_t *intake__list(const struct pg_message *v, size_t n);
/* POST /v1/route/preview: the plan for client cl at at_ms. */
json_t *intake__preview(const struct pg_client *cl, enum pg_kind kind,
			enum pg_urgency urg, int64_t at_ms, const struct pg_plan *plan,
			int64_t next_open_s);

/* The key that lets a calendar app fetch a client's .ics without a token
 * (intake_oncall.c). */
void intake__ics_key(const struct pg_ctx *ctx, const char *client,
		     char out[PG_TOKEN_LEN]);

/* Appends the pagegate_mailbox_waiting gauge to the metrics text; a store
 * that cannot count leaves it out (intake_mailbox.c). */
pg_err intake__mailbox_metrics(struct pg_ctx *ctx, struct pg_buf *out);

#endif
