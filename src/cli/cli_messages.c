/*
 * pagegate.c - the command-line client: send, show, list and preview talk
 * to a running pagegated over HTTP API v1 (libcurl + jansson); check and
 * hash-token work offline on the configuration.
 *
 * Exit codes: 0 ok, 1 server or validation error, 2 usage, 3 cannot connect.
 * Every response is read into a bounded buffer; every request has a connect
 * and a total timeout.  Text that came from the server is printed with
 * control characters replaced, so a stored message cannot drive the
 * operator's terminal.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libconfig.h>

#include "pagegate/common.h"
#include "pagegate/config.h"
#include "pagegate/util.h"
#include "cli_priv.h"

#ifndef PAGEGATE_VERSION
#define PAGEGATE_VERSION "0.1.0"
#endif

enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_CONN = 3 };

#define RESP_MAX        (8u << 20)    /* largest response body we accept */
#define STDIN_MAX       (1u << 20)    /* largest TEXT or token read from stdin */
#define TOKEN_MAX       4096
#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS   30000L
#define DEFAULT_CONFIG  "etc/pagegate.conf"

/* Options shared by every command; filled from the command line, then
 * completed from the environment and the configuration file. */
struct cli {
	const char *url_opt;        /* --url */
	const char *config_opt;     /* --config */
	char *token;                /* owned; wiped on exit */
	bool json;                  /* --json */
	char url[1024];             /* resolved server base URL, no trailing '/' */
};

enum {
	O_URL = 256, O_TOKEN, O_TOKEN_FILE, O_JSON, O_CLIENT, O_DNIS, O_CNAME,
	O_CPHONE, O_COMPANY, O_URGENCY, O_DISPATCH, O_FIELD, O_IDEM, O_STATE,
	O_SINCE, O_LIMIT, O_AT, O_UNACKED
};

#define COMMON_OPTS \
	{ "url", required_argument, NULL, O_URL }, \
	{ "token", required_argument, NULL, O_TOKEN }, \
	{ "token-file", required_argument, NULL, O_TOKEN_FILE }, \
	{ "config", required_argument, NULL, 'c' }, \
	{ "json", no_argument, NULL, O_JSON }, \
	{ "help", no_argument, NULL, 'h' }

static const char USAGE[] =
"usage: pagegate [--url URL] [--token-file FILE] [-c CONFIG] COMMAND [ARGS]\n"
"\n"
"commands:\n"
"  send      submit a caller message; prints its id\n"
"  show      a message with its deliveries, attempts and ledger\n"
"  ack       acknowledge a message on someone's behalf\n"
"  cancel    stop a message: its escalation and deliveries not yet tried\n"
"  escalate  run a message's escalation again from a step\n"
"  oncall    who is on call for a client, and the calendar URL\n"
"  mailbox   retrieve a client's check-in mailbox (marks the messages delivered)\n"
"  list      recent messages, newest first\n"
"  preview   the delivery plan routing would produce, without sending\n"
"  check     validate the configuration and client files\n"
"  render    what a message would look like on a channel (a fax as TIFF)\n"
"  hash-token  SHA-256 of an operator token, for etc/pagegate.conf\n"
"  help      this text; `pagegate COMMAND --help` for one command\n"
"\n"
"server: --url, else $PAGEGATE_URL, else public_url of the configuration\n"
"        (-c FILE|DIR, else $PAGEGATE_CONFIG, else " DEFAULT_CONFIG ").\n"
"token:  --token-file FILE, else $PAGEGATE_TOKEN.  --token TOKEN works too\n"
"        but puts the secret in shell history and the process list.\n"
"exit:   0 ok, 1 server or validation error, 2 usage, 3 cannot connect.\n";

static const char USAGE_SEND[] =
"usage: pagegate send (--client ID | --dnis NUMBER) --caller-name NAME\n"
"         --caller-phone PHONE [--company C] [--urgency routine|urgent|emergency]\n"
"         [--dispatch] [--field KEY=VALUE ...] [--idempotency-key K] TEXT...\n"
"TEXT is the remaining words joined by spaces, or - to read it from stdin.\n"
"Prints the new message id on stdout and a summary of its deliveries on\n"
"stderr.  With --json prints the server's JSON answer instead of the id.\n";
static const char USAGE_SHOW[] =
"usage: pagegate show [--json] ID\n"
"Prints the message, each delivery with its attempts, and the ledger.\n";
static const char USAGE_ACK[] =
"usage: pagegate ack [--by WHO] [--json] ID\n"
"Acknowledges message ID on someone's behalf (e.g. the on-call person\n"
"phoned in); the ledger records the operator and WHO.\n";
static const char USAGE_CANCEL[] =
"usage: pagegate cancel [--reason TEXT] [--json] ID\n"
"Stops message ID: its escalation, and every delivery not yet attempted\n"
"(the caller called back).  Deliveries already sent are not recalled.\n";
static const char USAGE_ESCALATE[] =
"usage: pagegate escalate [--from-step N] [--json] ID\n"
"Runs the escalation of message ID again from step N (default 1) now,\n"
"withdrawing its acknowledgement if it had one.\n";
static const char USAGE_ONCALL[] =
"usage: pagegate oncall [--at RFC3339] [--json] CLIENT\n"
"Who is on call for CLIENT now (or at --at): each rotation's person on\n"
"duty, the backup, the shift, and the calendar subscription URL.\n";
static const char USAGE_MAILBOX[] =
"usage: pagegate mailbox [--contact ID] [--peek] [--by WHO] [--json] CLIENT\n"
"Prints the messages waiting in CLIENT's check-in mailbox (only those of\n"
"contact ID with --contact), oldest first, and marks them delivered: the\n"
"ledger records them as retrieved by WHO and you.  --peek only lists them.\n";
static const char USAGE_RENDER[] =
"usage: pagegate render --channel CHANNEL --message FILE.json [--client ID] ...\n"
"Renders what a message would produce on a channel without sending it: a\n"
"fax as a TIFF file (-o out.tif), other channels as text.  `pagegate render\n"
"--help` lists every option.\n";
static const char USAGE_LIST[] =
"usage: pagegate list [--client ID] [--state STATE | --unacknowledged] [--since TIME]\n"
"         [--limit N] [--json]\n"
"--unacknowledged lists messages whose escalation ran out unanswered.\n"
"TIME is RFC 3339 (2026-11-22T09:00:00-06:00) or an age such as 2h or 1d.\n";
static const char USAGE_PREVIEW[] =
"usage: pagegate preview (--client ID | --dnis NUMBER) [--urgency U] [--dispatch]\n"
"         [--at RFC3339] [--json]\n";
static const char USAGE_CHECK[] =
"usage: pagegate check [FILE|DIR]\n"
"Loads the daemon configuration (DIR means DIR/pagegate.conf; default\n"
"$PAGEGATE_CONFIG, else " DEFAULT_CONFIG ") with its clients and templates\n"
"and prints every problem as file:line: message.  Exit 0 when valid.\n";
static const char USAGE_HASH[] =
"usage: pagegate hash-token TOKEN|-\n"
"Prints the SHA-256 hex of TOKEN (- reads one line from stdin) for the\n"
"token_sha256 of an operator in etc/pagegate.conf.\n";

/* Prints "pagegate: <problem>" and the first line of the usage text;
 * returns EX_USAGE. */
static int usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;
	fputs("pagegate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%.*s  (--help for more)\n", (int)strcspn(usage, "\n"), usage);
	return EX_USAGE;
}

/* ---- printing text that came from outside ---- */

/* Writes s replacing control characters (C0, DEL, and UTF-8 encoded C1)
 * with '?'.  Each newline is written as nl ("\n    " to indent the next
 * line); with nl == NULL newlines become spaces. */
static void put_clean(FILE *f, const char *s, const char *nl)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n') {
			fputs(nl ? nl : " ", f);
		} else if (*p == '\r') {
			continue;
		} else if (*p == '\t') {
			fputc(' ', f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fputc('?', f);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', f);
			p++;
		} else {
			fputc(*p, f);
		}
	}
}

/* Prints s on one line in a column of width characters (code points,
 * an approximation of terminal columns): control characters become '?',
 * longer text is cut with a final '~', shorter text is padded when pad. */
static void put_cell(const char *s, size_t width, bool pad)
{
	char out[512];
	size_t o = 0, cols = 0;
	const unsigned char *p = (const unsigned char *)(s ? s : "-");

	while (*p && cols < width && o + 8 < sizeof out) {
		size_t len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
		if (cols + 1 == width && p[strnlen((const char *)p, len)]) {
			out[o++] = '~';        /* more follows than fits */
			cols++;
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			out[o++] = (*p == '\n' || *p == '\t') ? ' ' : '?';
			p++;
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			out[o++] = '?';
			p += 2;
		} else {
			for (size_t i = 0; i < len && *p; i++)
				out[o++] = (char)*p++;
		}
		cols++;
	}
	out[o] = '\0';
	fputs(out, stdout);
	for (; pad && cols < width; cols++)
		fputc(' ', stdout);
}

/* ---- JSON access ---- */

/* The value at a dotted path ("caller.name"), or NULL. */
static json_t *jget(json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

static const char *jstr(json_t *o, const char *path)
{
	return json_string_value(jget(o, path));
}

/* A time given as an RFC 3339 string or as ms since the epoch, as text. */
static const char *jtime(json_t *o, const char *path, char buf[PG_ISO_LEN])
{
	json_t *v = jget(o, path);
	if (json_is_string(v))
		return pg_strlcpy(buf, json_string_value(v), PG_ISO_LEN);
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return pg_iso8601(json_integer_value(v), buf);
	return pg_strlcpy(buf, "-", PG_ISO_LEN);
}

static const char *or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

static json_int_t jint(json_t *o, const char *path)
{
	return json_integer_value(jget(o, path));
}

/* ---- server address and token ---- */

/* The configuration file named by arg, $PAGEGATE_CONFIG or the default;
 * a directory means DIR/pagegate.conf. */
static void config_path(const char *arg, char *out, size_t size)
{
	struct stat st;
	const char *p = arg ? arg : getenv("PAGEGATE_CONFIG");
	if (!p || !*p)
		p = DEFAULT_CONFIG;
	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(out, size, "%s/pagegate.conf", p);
	else
		pg_strlcpy(out, p, size);
}

/* public_url of the configuration file, else http://listen:port.  Reads
 * only the daemon file, so that a broken client file does not stop an
 * operator from sending.  Returns 0 or -1 (message printed). */
static int url_from_config(const char *arg, char *url, size_t size)
{
	char path[1024];
	config_t cf;
	const char *s, *listen = "127.0.0.1";
	int port = 8025, rc = 0;

	config_path(arg, path, sizeof path);
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			fprintf(stderr, "pagegate: no server URL: set PAGEGATE_URL or --url "
				"(cannot read %s: %s)\n", path, strerror(errno));
		else
			fprintf(stderr, "pagegate: no server URL: set PAGEGATE_URL or --url "
				"(%s:%d: %s)\n", path, config_error_line(&cf),
				config_error_text(&cf));
		rc = -1;
	} else if (config_lookup_string(&cf, "public_url", &s) == CONFIG_TRUE) {
		pg_strlcpy(url, s, size);
	} else {
		if (config_lookup_string(&cf, "listen", &s) == CONFIG_TRUE)
			listen = s;
		(void)config_lookup_int(&cf, "port", &port);
		snprintf(url, size, "http://%s:%d", listen, port);
	}
	config_destroy(&cf);
	return rc;
}

/* Reads the first line of f (at most TOKEN_MAX bytes) as a token. */
static int read_token(FILE *f, const char *what, char **out)
{
	char buf[TOKEN_MAX + 2];
	if (!fgets(buf, sizeof buf, f)) {
		fprintf(stderr, "pagegate: cannot read a token from %s\n", what);
		return EX_USAGE;
	}
	size_t n = strcspn(buf, "\r\n");
	if (n > TOKEN_MAX) {
		fprintf(stderr, "pagegate: token in %s is too long\n", what);
		explicit_bzero(buf, sizeof buf);
		return EX_USAGE;
	}
	while (n && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "pagegate: the token in %s is empty\n", what);
		return EX_USAGE;
	}
	free(*out);
	*out = pg_strdup(buf);
	explicit_bzero(buf, sizeof buf);
	if (!*out) {
		fputs("pagegate: out of memory\n", stderr);
		return EX_FAIL;
	}
	return EX_OK;
}

/* Handles an option every command accepts; returns 1 if ch was one. */
static int common_opt(struct cli *c, int ch, char *arg, int *rc)
{
	switch (ch) {
	case O_URL: c->url_opt = arg; return 1;
	case 'c': c->config_opt = arg; return 1;
	case O_JSON: c->json = true; return 1;
	case O_TOKEN:
		free(c->token);
		c->token = pg_strdup(arg);
		explicit_bzero(arg, strlen(arg));   /* hide it from ps */
		if (!c->token)
			*rc = EX_FAIL;
		return 1;
	case O_TOKEN_FILE: {
		FILE *f = fopen(arg, "r");
		if (!f) {
			fprintf(stderr, "pagegate: %s: %s\n", arg, strerror(errno));
			*rc = EX_USAGE;
			return 1;
		}
		*rc = read_token(f, arg, &c->token);
		fclose(f);
		return 1;
	}
	default:
		return 0;
	}
}

/* Completes the server URL and token.  Returns EX_OK or an exit code. */
static int need_server(struct cli *c)
{
	const char *u = c->url_opt ? c->url_opt : getenv("PAGEGATE_URL");
	if (u && *u)
		pg_strlcpy(c->url, u, sizeof c->url);
	else if (url_from_config(c->config_opt, c->url, sizeof c->url) != 0)
		return EX_USAGE;
	size_t n = strlen(c->url);
	while (n && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	if ((strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) ||
	    pg_has_ctl(c->url, false)) {
		fprintf(stderr, "pagegate: server URL must start with http:// or https://\n");
		return EX_USAGE;
	}
	if (!c->token) {
		const char *t = getenv("PAGEGATE_TOKEN");
		if (!t || !*t) {
			fputs("pagegate: no token: set PAGEGATE_TOKEN or use --token-file FILE\n",
			      stderr);
			return EX_USAGE;
		}
		if (!(c->token = pg_strdup(t)))
			return EX_FAIL;
	}
	if (pg_has_ctl(c->token, false) || strlen(c->token) > TOKEN_MAX) {
		fputs("pagegate: the token contains control characters or is too long\n", stderr);
		return EX_USAGE;
	}
	return EX_OK;
}

/* ---- HTTP ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	return pg_buf_add(arg, p, size * n) == PG_OK ? size * n : 0;
}

/* Appends line to *h; false (list unchanged) when out of memory. */
static bool header(struct curl_slist **h, const char *line)
{
	struct curl_slist *t = curl_slist_append(*h, line);
	if (t)
		*h = t;
	return t != NULL;
}

/* Prints the server's error {"error":{"code","field","message"}} as
 * "pagegate: 400 caller.phone: message"; anything else by its first line. */
static void print_api_error(long status, const struct pg_buf *body)
{
	json_t *j = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	const char *msg = jstr(j, "error.message");
	const char *field = jstr(j, "error.field");
	const char *code = jstr(j, "error.code");

	fprintf(stderr, "pagegate: %ld", status);
	if (field && *field) {
		fputc(' ', stderr);
		put_clean(stderr, field, NULL);
	} else if (code && *code) {
		fputc(' ', stderr);
		put_clean(stderr, code, NULL);
	}
	fputs(": ", stderr);
	if (msg) {
		put_clean(stderr, msg, NULL);
	} else {
		char line[200];
		const char *d = body->data ? body->data : "";
		size_t n = strcspn(d, "\r\n");
		pg_strlcpy(line, d, n + 1 < sizeof line ? n + 1 : sizeof line);
		put_clean(stderr, *line ? line : "(no error text)", NULL);
	}
	fputc('\n', stderr);
	if (status == 401)
		fputs("pagegate: check PAGEGATE_TOKEN / --token-file\n", stderr);
	json_decref(j);
}

/* Sends one request (body may be NULL) and reads the answer.  On a 2xx
 * answer with a JSON body returns EX_OK with *out set (caller decrefs) and
 * raw holding the text; otherwise prints why and returns EX_FAIL, or
 * EX_CONN when the server could not be reached.  *status gets the HTTP
 * status (0 when there was none). */
static int api(struct cli *c, const char *method, const char *path, json_t *body,
	       const char *idem, long *status, struct pg_buf *raw, json_t **out)
{
	char url[2048], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	struct pg_buf auth;
	char *text = NULL;
	int rc = EX_FAIL;
	CURL *e;

	*out = NULL;
	*status = 0;
	pg_buf_reset(raw);
	if ((size_t)snprintf(url, sizeof url, "%s%s", c->url, path) >= sizeof url) {
		fputs("pagegate: URL too long\n", stderr);
		return EX_USAGE;
	}
	pg_buf_init(&auth, TOKEN_MAX + 64);
	if (pg_buf_printf(&auth, "Authorization: Bearer %s", c->token) != PG_OK ||
	    !(e = curl_easy_init())) {
		pg_buf_free(&auth);
		fputs("pagegate: out of memory\n", stderr);
		return EX_FAIL;
	}
	char idem_line[300];
	snprintf(idem_line, sizeof idem_line, "Idempotency-Key: %s", idem ? idem : "");
	if (!header(&h, auth.data) || !header(&h, "Accept: application/json") ||
	    (body && !header(&h, "Content-Type: application/json")) ||
	    (idem && !header(&h, idem_line)) ||
	    (body && !(text = json_dumps(body, JSON_COMPACT)))) {
		fputs("pagegate: out of memory\n", stderr);
		goto out;
	}
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "pagegate/" PAGEGATE_VERSION) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, raw) != CURLE_OK ||
	    (text && curl_easy_setopt(e, CURLOPT_POSTFIELDS, text) != CURLE_OK)) {
		fprintf(stderr, "pagegate: cannot set up libcurl for %s\n", url);
		goto out;
	}

	CURLcode cr = curl_easy_perform(e);
	double connect_s = 0;
	curl_easy_getinfo(e, CURLINFO_CONNECT_TIME, &connect_s);
	if (cr == CURLE_COULDNT_CONNECT || cr == CURLE_COULDNT_RESOLVE_HOST ||
	    (cr == CURLE_OPERATION_TIMEDOUT && connect_s == 0)) {
		fprintf(stderr, "pagegate: cannot connect to %s: %s (is pagegated running?)\n",
			c->url, *errbuf ? errbuf : curl_easy_strerror(cr));
		rc = EX_CONN;
		goto out;
	}
	if (cr == CURLE_WRITE_ERROR) {
		fprintf(stderr, "pagegate: answer from %s larger than %u bytes\n", url, RESP_MAX);
		goto out;
	}
	if (cr != CURLE_OK) {
		fprintf(stderr, "pagegate: %s %s: %s\n", method, url,
			*errbuf ? errbuf : curl_easy_strerror(cr));
		if (idem)
			fprintf(stderr, "pagegate: it may or may not have been stored; repeating "
				"it with --idempotency-key %s cannot make a duplicate\n", idem);
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	if (*status < 200 || *status > 299) {
		print_api_error(*status, raw);
		goto out;
	}
	json_error_t je;
	if (!(*out = json_loadb(raw->data ? raw->data : "", raw->len, 0, &je))) {
		fprintf(stderr, "pagegate: %s: answer is not JSON: %s\n", url, je.text);
		goto out;
	}
	rc = EX_OK;
out:
	free(text);
	for (struct curl_slist *l = h; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));   /* the token's copy */
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	if (auth.data)
		explicit_bzero(auth.data, auth.len);
	pg_buf_free(&auth);
	return rc;
}

/* Sends the request to the server named by c and prints the answer: as
 * it came with --json, else through pretty().  Returns an exit code. */
static int call(struct cli *c, const char *method, const char *path, json_t *body,
		const char *idem, void (*pretty)(json_t *answer, long status))
{
	struct pg_buf raw;
	json_t *r = NULL;
	long status;
	int rc = need_server(c);

	if (rc != EX_OK)
		return rc;
	pg_buf_init(&raw, RESP_MAX);
	rc = api(c, method, path, body, idem, &status, &raw, &r);
	if (rc == EX_OK && c->json) {
		fwrite(raw.data, 1, raw.len, stdout);
		if (raw.len && raw.data[raw.len - 1] != '\n')
			fputc('\n', stdout);
	} else if (rc == EX_OK) {
		pretty(r, status);
	}
	json_decref(r);
	pg_buf_free(&raw);
	return rc;
}

/* ---- send ---- */

/* Reads all of stdin (bounded), without trailing newlines. */
static char *read_stdin_text(void)
{
	struct pg_buf b;
	char chunk[4096];
	size_t n;
	pg_buf_init(&b, STDIN_MAX);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (pg_buf_add(&b, chunk, n) != PG_OK) {
			fprintf(stderr, "pagegate: more than %u bytes on stdin\n", STDIN_MAX);
			pg_buf_free(&b);
			return NULL;
		}
	}
	if (ferror(stdin)) {
		fprintf(stderr, "pagegate: reading stdin: %s\n", strerror(errno));
		pg_buf_free(&b);
		return NULL;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	char *s = pg_buf_steal(&b);
	pg_buf_free(&b);
	return s;
}

/* Joins words with single spaces, or reads stdin for "-". */
static char *join_text(int n, char **words)
{
	if (n == 1 && strcmp(words[0], "-") == 0)
		return read_stdin_text();
	struct pg_buf b;
	pg_buf_init(&b, STDIN_MAX);
	for (int i = 0; i < n; i++) {
		if ((i && pg_buf_adds(&b, " ") != PG_OK) || pg_buf_adds(&b, words[i]) != PG_OK) {
			fputs("pagegate: TEXT too long\n", stderr);
			pg_buf_free(&b);
			return NULL;
		}
	}
	char *s = pg_buf_steal(&b);
	pg_buf_free(&b);
	return s;
}

/* True for 1..200 printable ASCII characters (what the server accepts). */
static bool idem_key_ok(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return n >= 1 && n <= 200;
}

/* Sets key in o to a new string; false when out of memory or not UTF-8. */
static bool set_str(json_t *o, const char *key, const char *value)
{
	return json_object_set_new(o, key, json_string(value)) == 0;
}

/* Sets "client" or "dnis" in o; exactly one of them must be given. */
static int set_target(json_t *o, const char *client, const char *dnis, const char *usage)
{
	if (!client == !dnis)
		return usage_error(usage, "%s", "give exactly one of --client ID and --dnis NUMBER");
	if (!set_str(o, client ? "client" : "dnis", client ? client : dnis))
		return usage_error(usage, "%s", "--client/--dnis must be UTF-8 text");
	return EX_OK;
}

static int set_urgency(json_t *o, const char *urgency, bool dispatch, const char *usage)
{
	enum pg_urgency u;
	if (urgency && pg_urgency_parse(urgency, &u) != 0)
		return usage_error(usage, "unknown urgency '%s' (routine, urgent, emergency)",
				   urgency);
	if ((urgency && !set_str(o, "urgency", urgency)) ||
	    !set_str(o, "kind", dispatch ? "dispatch" : "message")) {
		fputs("pagegate: out of memory\n", stderr);
		return EX_FAIL;
	}
	return EX_OK;
}

/* The id on stdout, and one line on stderr:
 * "message 17 pending: jane email queued, office email held". */
static void send_summary(json_t *r, long status)
{
	printf("%lld\n", (long long)jint(r, "id"));
	json_t *ds = json_object_get(r, "deliveries");
	size_t n = json_array_size(ds);
	fprintf(stderr, "pagegate: message %lld %s%s: ", (long long)jint(r, "id"),
		jstr(r, "state") ? jstr(r, "state") : "stored",
		status == 200 ? " (already submitted with this idempotency key)" : "");
	if (n == 0)
		fputs("no deliveries (no rule matched)", stderr);
	for (size_t i = 0; i < n && i < 8; i++) {
		json_t *d = json_array_get(ds, i);
		fputs(i ? ", " : "", stderr);
		put_clean(stderr, or(jstr(d, "contact"), "?"), NULL);
		fprintf(stderr, " %s %s", or(jstr(d, "channel"), "?"), or(jstr(d, "state"), "?"));
	}
	if (n > 8)
		fprintf(stderr, ", and %zu more", n - 8);
	fputc('\n', stderr);
}

static int cmd_send(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client", required_argument, NULL, O_CLIENT },
		{ "dnis", required_argument, NULL, O_DNIS },
		{ "caller-name", required_argument, NULL, O_CNAME },
		{ "caller-phone", required_argument, NULL, O_CPHONE },
		{ "company", required_argument, NULL, O_COMPANY },
		{ "urgency", required_argument, NULL, O_URGENCY },
		{ "dispatch", no_argument, NULL, O_DISPATCH },
		{ "field", required_argument, NULL, O_FIELD },
		{ "idempotency-key", required_argument, NULL, O_IDEM },
		COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	const char *client = NULL, *dnis = NULL, *name = NULL, *phone = NULL;
	const char *company = NULL, *urgency = NULL, *idem = NULL;
	bool dispatch = false;
	json_t *fields = json_object(), *req = json_object(), *caller = json_object();
	char *text = NULL;
	int ch, rc = EX_OK;

	if (!fields || !req || !caller) {
		rc = EX_FAIL;
		goto out;
	}
	while (rc == EX_OK && (ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
		if (common_opt(c, ch, optarg, &rc))
			continue;
		switch (ch) {
		case O_CLIENT: client = optarg; break;
		case O_DNIS: dnis = optarg; break;
		case O_CNAME: name = optarg; break;
		case O_CPHONE: phone = optarg; break;
		case O_COMPANY: company = optarg; break;
		case O_URGENCY: urgency = optarg; break;
		case O_DISPATCH: dispatch = true; break;
		case O_IDEM: idem = optarg; break;
		case O_FIELD: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				rc = usage_error(USAGE_SEND, "--field wants KEY=VALUE, not '%s'", optarg);
				break;
			}
			*eq = '\0';
			if (json_object_get(fields, optarg)) {
				rc = usage_error(USAGE_SEND, "--field %s given twice", optarg);
				break;
			}
			if (!set_str(fields, optarg, eq + 1))
				rc = usage_error(USAGE_SEND, "--field %s: not valid UTF-8", optarg);
			break;
		}
		case 'h': fputs(USAGE_SEND, stdout); goto out;
		default: rc = EX_USAGE; fputs(USAGE_SEND, stderr); break;
		}
	}
	if (rc != EX_OK)
		goto out;
	if (!name || !phone) {
		rc = usage_error(USAGE_SEND, "%s", "--caller-name and --caller-phone are required");
		goto out;
	}
	if (optind >= argc) {
		rc = usage_error(USAGE_SEND, "%s", "no TEXT (give it as words, or - for stdin)");
		goto out;
	}
	if (idem && !idem_key_ok(idem)) {
		rc = usage_error(USAGE_SEND, "%s",
				 "--idempotency-key wants 1 to 200 printable ASCII characters");
		goto out;
	}
	if ((rc = set_target(req, client, dnis, USAGE_SEND)) != EX_OK ||
	    (rc = set_urgency(req, urgency, dispatch, USAGE_SEND)) != EX_OK)
		goto out;
	if (!(text = join_text(argc - optind, argv + optind))) {
		rc = EX_FAIL;
		goto out;
	}
	/* json_string() refuses invalid UTF-8: say so rather than send less */
	if (!set_str(caller, "name", name) || !set_str(caller, "phone", phone) ||
	    (company && !set_str(caller, "company", company)) || !set_str(req, "text", text) ||
	    json_object_set(req, "caller", caller) != 0 ||
	    (json_object_size(fields) && json_object_set(req, "fields", fields) != 0)) {
		rc = usage_error(USAGE_SEND, "%s", "TEXT and the caller must be valid UTF-8");
		goto out;
	}
	/* Without a key of the operator's, make one, so that a send whose
	 * answer was lost can be repeated without a duplicate. */
	char key[40];
	if (!idem) {
		unsigned char rnd[12];
		if (pg_random(rnd, sizeof rnd) == PG_OK) {
			for (size_t i = 0; i < sizeof rnd; i++)
				snprintf(key + 2 * i, 3, "%02x", rnd[i]);
			idem = key;
		}
	}
	rc = call(c, "POST", "/v1/messages", req, idem, send_summary);
out:
	free(text);
	json_decref(fields);
	json_decref(caller);
	json_decref(req);
	return rc;
}

/* ---- show ---- */

/* "  text      ..." and one "  field     key: value" line per field. */
static void put_text_fields(json_t *m)
{
	const char *key;
	json_t *v;

	fputs("\n  text      ", stdout);
	put_clean(stdout, or(jstr(m, "text"), ""), "\n            ");
	fputc('\n', stdout);
	json_object_foreach(json_object_get(m, "fields"), key, v) {
		fputs("  field     ", stdout);
		put_clean(stdout, key, NULL);
		fputs(": ", stdout);
		put_clean(stdout, or(json_string_value(v), ""), "\n              ");
		fputc('\n', stdout);
	}
}

/* "  #3 jane (Jane Ortiz)  email  jane@acme.example" for show and preview. */
static void put_delivery_head(json_t *d, const char *indent)
{
	fputs(indent, stdout);
	if (jint(d, "id"))
		printf("#%lld ", (long long)jint(d, "id"));
	put_clean(stdout, or(jstr(d, "contact"), "?"), NULL);
	if (jstr(d, "contact_name")) {
		fputs(" (", stdout);
		put_clean(stdout, jstr(d, "contact_name"), NULL);
		fputc(')', stdout);
	}
	printf("  %s  ", or(jstr(d, "channel"), "?"));
	put_clean(stdout, or(jstr(d, "to"), "-"), NULL);
}

/* A delivery: where it goes, its state, then one line per attempt. */
static void show_delivery(json_t *d)
{
	json_t *list = json_object_get(d, "attempts"), *a;
	const char *state = or(jstr(d, "state"), "?");
	char t[PG_ISO_LEN];
	size_t i;

	put_delivery_head(d, "  ");
	printf("\n      %s", state);
	if (strcmp(state, "held") == 0)
		printf(" until %s", jtime(d, "next_try", t));
	else if (strcmp(state, "waiting") == 0)
		fputs(" in the check-in mailbox", stdout);
	else if (strcmp(state, "queued") == 0 && json_array_size(list))
		printf(", next try %s", jtime(d, "next_try", t));
	printf(", %zu attempt%s", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
	enum pg_dstate ds;
	if (pg_dstate_parse(state, &ds) == 0 && !pg_dstate_final(ds) && ds != PG_D_WAITING)
		printf(", gives up %s", jtime(d, "expires", t));
	fputc('\n', stdout);
	json_array_foreach(list, i, a) {
		printf("      attempt %zu  %s  ", i + 1, jtime(a, "started", t));
		if (jstr(a, "outcome"))
			printf("%-4s %6lld ms  ", jstr(a, "outcome"), (long long)jint(a, "duration_ms"));
		else
			fputs("running       ", stdout);
		put_clean(stdout, or(jstr(a, "reply"), ""), NULL);
		fputc('\n', stdout);
	}
}

/* The whole message as an operator reads it: header, deliveries, ledger. */
static void show_message(json_t *m, long status)
{
	json_t *v, *ds = json_object_get(m, "deliveries"), *evs = json_object_get(m, "ledger");
	char t[PG_ISO_LEN];
	size_t i;

	(void)status;
	printf("Message %lld  ", (long long)jint(m, "id"));
	put_clean(stdout, or(jstr(m, "client"), "?"), NULL);
	printf("  %s/%s\n  received  %s by ", or(jstr(m, "kind"), "?"),
	       or(jstr(m, "urgency"), "?"), jtime(m, "received", t));
	put_clean(stdout, or(jstr(m, "operator"), "?"), NULL);
	printf("\n  state     %s", or(jstr(m, "state"), "?"));
	if (json_is_true(json_object_get(m, "acknowledged"))) {
		printf("\n  acked     %s by ", jtime(m, "acked_at", t));
		put_clean(stdout, or(jstr(m, "acked_by"), "?"), NULL);
	} else if (jstr(m, "ack_ref")) {
		printf("\n  ack ref   %s (not acknowledged)", jstr(m, "ack_ref"));
	}
	if (json_is_object(json_object_get(m, "escalation"))) {
		printf("\n  escalate  policy ");
		put_clean(stdout, or(jstr(m, "escalation.policy"), "?"), NULL);
		printf(", %s, %lld of %lld steps fired", or(jstr(m, "escalation.state"), "?"),
		       (long long)jint(m, "escalation.steps_fired"),
		       (long long)jint(m, "escalation.steps"));
		if (jstr(m, "escalation.next_step_at"))
			printf(", next step %s", jtime(m, "escalation.next_step_at", t));
		if (jstr(m, "escalation.unacknowledged_at"))
			printf(", flagged unacknowledged %s",
			       jtime(m, "escalation.unacknowledged_at", t));
	}
	if (json_is_true(json_object_get(m, "unacknowledged")))
		printf("\n  UNACKNOWLEDGED: the escalation ran out and nobody answered");
	printf("\n  caller    ");
	put_clean(stdout, or(jstr(m, "caller.name"), "?"), NULL);
	fputs(", ", stdout);
	put_clean(stdout, or(jstr(m, "caller.phone"), "?"), NULL);
	if (jstr(m, "caller.company")) {
		fputs(", ", stdout);
		put_clean(stdout, jstr(m, "caller.company"), NULL);
	}
	put_text_fields(m);
	printf("\nDeliveries (%zu)\n", json_array_size(ds));
	json_array_foreach(ds, i, v)
		show_delivery(v);
	printf("\nLedger (%zu events)\n", json_array_size(evs));
	json_array_foreach(evs, i, v) {
		char dbuf[32] = "";
		if (jint(v, "delivery"))
			snprintf(dbuf, sizeof dbuf, "#%lld", (long long)jint(v, "delivery"));
		printf("  %-24s  %-17s %-5s ", jtime(v, "at", t), or(jstr(v, "type"), "?"), dbuf);
		put_clean(stdout, or(jstr(v, "detail"), ""), "\n  ");
		fputc('\n', stdout);
	}
}

/* Parses a positive message id. */
static int parse_id(const char *s, long long *id)
{
	char *end;
	errno = 0;
	*id = strtoll(s, &end, 10);
	return (errno || end == s || *end || *id <= 0) ? -1 : 0;
}

/* Runs a command that takes only common options and returns the index of
 * the first positional argument, or -rc. */
static int common_only(struct cli *c, int argc, char **argv, const char *usage)
{
	static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
	int ch, rc = EX_OK;
	while (rc == EX_OK && (ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
		if (common_opt(c, ch, optarg, &rc))
			continue;
		if (ch == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		fputs(usage, stderr);
		rc = EX_USAGE;
	}
	return rc == EX_OK ? optind : -rc;
}

static int cmd_show(struct cli *c, int argc, char **argv)
{
	int first = common_only(c, argc, argv, USAGE_SHOW);
	long long id;
	char path[64];

	if (first <= 0)
		return -first;
	if (argc - first != 1 || parse_id(argv[first], &id) != 0)
		return usage_error(USAGE_SHOW, "%s", "give one message id (a positive number)");
	snprintf(path, sizeof path, "/v1/messages/%lld", id);
	return call(c, "GET", path, NULL, NULL, show_message);
}

/* ---- ack ---- */

static void show_ack(json_t *r, long status)
{
	char t[PG_ISO_LEN];

	(void)status;
	printf("message %lld %s at %s by ", (long long)jint(r, "id"),
	       json_is_true(json_object_get(r, "already")) ? "was already acknowledged"
							   : "acknowledged",
	       jtime(r, "acked_at", t));
	put_clean(stdout, or(jstr(r, "acked_by"), "?"), NULL);
	fputc('\n', stdout);
}

/* A POST about one message with at most one option (--by, --reason,
 * --from-step) that becomes the body's one member. */
struct msg_action {
	const char *usage;
	const char *opt;             /* long option name */
	const char *key;             /* body member */
	bool integer;                /* the value is a step number */
	const char *suffix;          /* "/ack" ... */
	void (*print)(json_t *r, long status);
};

static int msg_action(struct cli *c, int argc, char **argv, const struct msg_action *a)
{
	const struct option opts[] = {
		{ a->opt, required_argument, NULL, 'b' }, COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	const char *val = NULL;
	long long id, n = 0;
	char path[80];
	json_t *body = NULL;
	int ch, rc = EX_OK;

	while (rc == EX_OK && (ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
		if (common_opt(c, ch, optarg, &rc))
			continue;
		if (ch == 'b') {
			val = optarg;
			continue;
		}
		if (ch == 'h') {
			fputs(a->usage, stdout);
			return EX_OK;
		}
		fputs(a->usage, stderr);
		rc = EX_USAGE;
	}
	if (rc != EX_OK)
		return rc;
	if (argc - optind != 1 || parse_id(argv[optind], &id) != 0)
		return usage_error(a->usage, "%s", "give one message id (a positive number)");
	if (val && a->integer && (parse_id(val, &n) != 0 || n > 1000))
		return usage_error(a->usage, "--%s wants a step number, not '%s'", a->opt, val);
	if (val && (body = a->integer ? json_pack("{s:I}", a->key, (json_int_t)n)
				      : json_pack("{s:s}", a->key, val)) == NULL)
		return usage_error(a->usage, "--%s must be UTF-8 text", a->opt);
	snprintf(path, sizeof path, "/v1/messages/%lld%s", id, a->suffix);
	rc = call(c, "POST", path, body, NULL, a->print);
	json_decref(body);
	return rc;
}

static int cmd_ack(struct cli *c, int argc, char **argv)
{
	static const struct msg_action a = { USAGE_ACK, "by", "by", false, "/ack", show_ack };
	return msg_action(c, argc, argv, &a);
}

static int cmd_cancel(struct cli *c, int argc, char **argv)
{
	static const struct msg_action a = { USAGE_CANCEL, "reason", "reason", false,
					     "/cancel", show_message };
	return msg_action(c, argc, argv, &a);
}

static int cmd_escalate(struct cli *c, int argc, char **argv)
{
	static const struct msg_action a = { USAGE_ESCALATE, "from-step", "from_step", true,
					     "/escalate", show_message };
	return msg_action(c, argc, argv, &a);
}

/* ---- oncall ---- */

static void show_oncall(json_t *r, long status)
{
	json_t *rs = json_object_get(r, "rotations"), *e;
	char t1[PG_ISO_LEN], t2[PG_ISO_LEN], t[PG_ISO_LEN];
	size_t i;

	(void)status;
	printf("On call for ");
	put_clean(stdout, or(jstr(r, "client"), "?"), NULL);
	printf(" at %s\n", jtime(r, "at", t));
	json_array_foreach(rs, i, e) {
		printf("  ");
		put_clean(stdout, or(jstr(e, "id"), "?"), NULL);
		if (!json_is_object(json_object_get(e, "on_duty"))) {
			printf(": nobody (the rotation has not started)\n");
			continue;
		}
		printf(": ");
		put_clean(stdout, or(jstr(e, "on_duty.name"), "?"), NULL);
		printf(" (%s) from %s to %s", or(jstr(e, "on_duty.id"), "?"),
		       jtime(e, "shift_start", t1), jtime(e, "shift_end", t2));
		if (jstr(e, "backup.name")) {
			printf(", backup ");
			put_clean(stdout, jstr(e, "backup.name"), NULL);
		}
		printf("\n    calendar: ");
		put_clean(stdout, or(jstr(e, "ics_url"), "?"), NULL);
		fputc('\n', stdout);
	}
	if (json_array_size(rs) == 0)
		puts("  (no on-call rotations)");
}

static int cmd_oncall(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' }, COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	const char *at = NULL;
	char path[256];
	int ch, rc = EX_OK;
	CURL *e;

	while (rc == EX_OK && (ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
		if (common_opt(c, ch, optarg, &rc))
			continue;
		if (ch == 'a') {
			at = optarg;
			continue;
		}
		if (ch == 'h') {
			fputs(USAGE_ONCALL, stdout);
			return EX_OK;
		}
		fputs(USAGE_ONCALL, stderr);
		rc = EX_USAGE;
	}
	if (rc != EX_OK)
		return rc;
	if (argc - optind != 1 || strlen(argv[optind]) > 64 ||
	    strspn(argv[optind], "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(argv[optind]))
		return usage_error(USAGE_ONCALL, "%s", "give one client id");
	snprintf(path, sizeof path, "/v1/clients/%s/oncall", argv[optind]);
	if (at) {
		char *v;
		if ((e = curl_easy_init()) == NULL || (v = curl_easy_escape(e, at, 0)) == NULL) {
			if (e)
				curl_easy_cleanup(e);
			return EX_FAIL;
		}
		snprintf(path + strlen(path), sizeof path - strlen(path), "?at=%s", v);
		curl_free(v);
		curl_easy_cleanup(e);
	}
	return call(c, "GET", path, NULL, NULL, show_oncall);
}

/* ---- list ---- */

static void list_table(json_t *r, long status)
{
	json_t *ms = json_object_get(r, "messages"), *m;
	char t[PG_ISO_LEN], ku[40];
	size_t i;

	(void)status;
	printf("%-7s %-19s %-16s %-17s %-9s %-20s %s\n", "ID", "RECEIVED (UTC)", "CLIENT",
	       "KIND/URGENCY", "STATE", "CALLER", "TEXT");
	json_array_foreach(ms, i, m) {
		jtime(m, "received", t);
		t[strlen(t) > 19 ? 19 : strlen(t)] = '\0';   /* to the second */
		snprintf(ku, sizeof ku, "%s/%s", or(jstr(m, "kind"), "?"), or(jstr(m, "urgency"), "?"));
		printf("%-7lld %-19s ", (long long)jint(m, "id"), t);
		put_cell(jstr(m, "client"), 16, true);
		printf(" %-17s %-9s ", ku, or(jstr(m, "state"), "?"));
		put_cell(jstr(m, "caller.name"), 20, true);
		fputc(' ', stdout);
		put_cell(jstr(m, "text"), 40, false);
		fputc('\n', stdout);
	}
	if (json_array_size(ms) == 0)
		puts("(no messages)");
}

/* Appends "&name=value" (URL-escaped) to q. */
static int add_query(CURL *e, struct pg_buf *q, const char *name, const char *value)
{
	char *v = curl_easy_escape(e, value, 0);
	pg_err err = v ? pg_buf_printf(q, "%c%s=%s", q->len ? '&' : '?', name, v) : PG_ERR_NOMEM;
	curl_free(v);
	return err == PG_OK ? 0 : -1;
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client", required_argument, NULL, O_CLIENT },
		{ "state", required_argument, NULL, O_STATE },
		{ "since", required_argument, NULL, O_SINCE },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "unacknowledged", no_argument, NULL, O_UNACKED },
		COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	const char *client = NULL, *state = NULL, *since = NULL, *limit = NULL;
	bool unacked = false;
	char since_iso[PG_ISO_LEN];
	int ch, rc = EX_OK;
	long long n;

	while (rc == EX_OK && (ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
		if (common_opt(c, ch, optarg, &rc))
			continue;
		switch (ch) {
		case O_CLIENT: client = optarg; break;
		case O_STATE: state = optarg; break;
		case O_SINCE: since = optarg; break;
		case O_LIMIT: limit = optarg; break;
		case O_UNACKED: unacked = true; break;
		case 'h': fputs(USAGE_LIST, stdout); return EX_OK;
		default: fputs(USAGE_LIST, stderr); return EX_USAGE;
		}
	}
	if (rc != EX_OK)
		return rc;
	if (optind != argc)
		return usage_error(USAGE_LIST, "unexpected argument '%s'", argv[optind]);
	if (limit && (parse_id(limit, &n) != 0 || n > 1000))
		return usage_error(USAGE_LIST, "--limit wants 1..1000, not '%s'", limit);
	if (since) {
		int64_t ms, secs;
		if (pg_parse_iso8601(since, &ms) != 0) {
			if (pg_parse_duration(since, &secs) != 0)
				return usage_error(USAGE_LIST,
					"--since wants RFC 3339 or an age like 2h, not '%s'", since);
			ms = pg_now_ms() - secs * 1000;
		}
		since = pg_iso8601(ms, since_iso);
	}
	struct pg_buf q;
	CURL *e = curl_easy_init();
	pg_buf_init(&q, 4096);
	if (!e) {
		rc = EX_FAIL;
		goto out;
	}
	if ((client && add_query(e, &q, "client", client)) ||
	    (state && add_query(e, &q, "state", state)) ||
	    (since && add_query(e, &q, "since", since)) ||
	    (limit && add_query(e, &q, "limit", limit)) ||
	    (unacked && add_query(e, &q, "unacknowledged", "true"))) {
		rc = EX_FAIL;
		goto out;
	}
	char path[4200];
	snprintf(path, sizeof path, "/v1/messages%s", q.len ? q.data : "");
	rc = call(c, "GET", path, NULL, NULL, list_table);
out:
	curl_easy_cleanup(e);
	pg_buf_free(&q);
	return rc;
}

/* ---- mailbox ---- */

static void show_mailbox(json_t *r, long status)
{
	json_t *ms = json_object_get(r, "messages"), *m;
	bool taken = json_is_true(json_object_get(r, "retrieved"));
	char t[PG_ISO_LEN];
	size_t i, n = json_array_size(ms);

	(void)status;
	printf("Mailbox of ");
	put_clean(stdout, or(jstr(r, "client"), "?"), NULL);
	if (jstr(r, "contact")) {
		fputs(" for ", stdout);
		put_clean(stdout, jstr(r, "contact"), NULL);
	}
	printf(": %zu message%s %s\n", n, n == 1 ? "" : "s",
	       !n ? "waiting" : taken ? "retrieved (now marked delivered)"
				      : "waiting (peek: left in the mailbox)");
	json_array_foreach(ms, i, m) {
		printf("\n#%lld  %s  for ", (long long)jint(m, "id"), jtime(m, "received", t));
		put_clean(stdout, or(jstr(m, "contact"), "?"), NULL);
		if (jstr(m, "contact_name")) {
			fputs(" (", stdout);
			put_clean(stdout, jstr(m, "contact_name"), NULL);
			fputc(')', stdout);
		}
		printf("  %s/%s\n  caller    ", or(jstr(m, "kind"), "?"),
		       or(jstr(m, "urgency"), "?"));
		put_clean(stdout, or(jstr(m, "caller.name"), "?"), NULL);
		fputs("\n  phone     ", stdout);
		put_clean(stdout, or(jstr(m, "caller.phone"), "?"), NULL);
		if (jstr(m, "caller.company")) {
			fputs("\n  company   ", stdout);
			put_clean(stdout, jstr(m, "caller.company"), NULL);
		}
		put_text_fields(m);
		if (jstr(m, "ack_ref"))
			printf("  ack ref   %s\n", jstr(m, "ack_ref"));
	}
	if (json_is_true(json_object_get(r, "more")))
		puts("\nMore messages are waiting: run the command again.");
}

static int cmd_mailbox(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "contact", required_argument, NULL, 'C' },
		{ "peek", no_argument, NULL, 'p' },
		{ "by", required_argument, NULL, 'b' },
		COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	const char *contact = NULL, *by = NULL;
	bool peek = false;
	int ch, rc = EX_OK;
	struct pg_buf q;
	char path[4400];
	CURL *e;

	while (rc == EX_OK && (ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
		if (common_opt(c, ch, optarg, &rc))
			continue;
		switch (ch) {
		case 'C': contact = optarg; break;
		case 'p': peek = true; break;
		case 'b': by = optarg; break;
		case 'h': fputs(USAGE_MAILBOX, stdout); return EX_OK;
		default: fputs(USAGE_MAILBOX, stderr); return EX_USAGE;
		}
	}
	if (rc != EX_OK)
		return rc;
	if (argc - optind != 1 || strlen(argv[optind]) > 64 ||
	    strspn(argv[optind], "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(argv[optind]))
		return usage_error(USAGE_MAILBOX, "%s", "give one client id");
	if ((e = curl_easy_init()) == NULL)
		return EX_FAIL;
	pg_buf_init(&q, 4096);
	if ((contact && add_query(e, &q, "contact", contact)) ||
	    (peek && add_query(e, &q, "peek", "true")) ||
	    (by && add_query(e, &q, "by", by))) {
		rc = EX_FAIL;
	} else {
		snprintf(path, sizeof path, "/v1/clients/%s/mailbox%s", argv[optind],
			 q.len ? q.data : "");
		rc = call(c, "GET", path, NULL, NULL, show_mailbox);
	}
	curl_easy_cleanup(e);
	pg_buf_free(&q);
	return rc;
}

/* ---- preview ---- */

static void preview_print(json_t *r, long status)
{
	json_t *ds = json_object_get(r, "deliveries"), *d;
	char t[PG_ISO_LEN];
	size_t i;

	(void)status;
	put_clean(stdout, or(jstr(r, "client"), "?"), NULL);
	printf(" at %s: ", jtime(r, "at", t));
	if (json_is_true(json_object_get(r, "open")))
		fputs("open", stdout);
	else if (jstr(r, "next_open"))
		printf("closed, opens %s", jtime(r, "next_open", t));
	else
		fputs("closed (no business hours)", stdout);
	printf("; %lld rule(s) matched\n", (long long)jint(r, "rules_matched"));
	if (json_array_size(ds) == 0)
		puts("  nothing would be sent");
	json_array_foreach(ds, i, d) {
		put_delivery_head(d, "  ");
		if (jstr(d, "hold_until"))
			printf("  held until %s", jtime(d, "hold_until", t));
		else if (strcmp(or(jstr(d, "channel"), ""), "mailbox") == 0)
			fputs("  kept for check-in", stdout);
		else
			fputs("  now", stdout);
		if (jstr(d, "content") && strcmp(jstr(d, "content"), "full") != 0)
			printf("  content %s", jstr(d, "content"));
		if (jint(d, "escalation_step"))
			printf("  (escalation step %lld)\n", (long long)jint(d, "escalation_step"));
		else
			printf("  (rule at line %lld)\n", (long long)jint(d, "rule_line"));
	}
	json_t *esc = json_object_get(r, "escalation"), *st, *x;
	size_t k;
	if (!json_is_object(esc))
		return;
	printf("escalation ");
	put_clean(stdout, or(jstr(esc, "policy"), "?"), NULL);
	printf(" until someone acknowledges:\n");
	json_array_foreach(json_object_get(esc, "steps"), i, st) {
		printf("  step %lld at %s, then waits %llds\n", (long long)jint(st, "step"),
		       jtime(st, "at", t), (long long)jint(st, "wait_s"));
		if (json_array_size(json_object_get(st, "deliveries")) == 0)
			puts("    nobody (no one on call or no matching device)");
		json_array_foreach(json_object_get(st, "deliveries"), k, x) {
			put_delivery_head(x, "    ");
			fputc('\n', stdout);
		}
	}
	printf("  unacknowledged at %s if nobody has answered\n",
	       jtime(esc, "unacknowledged_at", t));
}

static int cmd_preview(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client", required_argument, NULL, O_CLIENT },
		{ "dnis", required_argument, NULL, O_DNIS },
		{ "urgency", required_argument, NULL, O_URGENCY },
		{ "dispatch", no_argument, NULL, O_DISPATCH },
		{ "at", required_argument, NULL, O_AT },
		COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	const char *client = NULL, *dnis = NULL, *urgency = NULL, *at = NULL;
	bool dispatch = false;
	int ch, rc = EX_OK;
	json_t *req = json_object();

	while (req && rc == EX_OK && (ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
		if (common_opt(c, ch, optarg, &rc))
			continue;
		switch (ch) {
		case O_CLIENT: client = optarg; break;
		case O_DNIS: dnis = optarg; break;
		case O_URGENCY: urgency = optarg; break;
		case O_DISPATCH: dispatch = true; break;
		case O_AT: at = optarg; break;
		case 'h': fputs(USAGE_PREVIEW, stdout); goto out;
		default: fputs(USAGE_PREVIEW, stderr); rc = EX_USAGE; break;
		}
	}
	if (!req)
		rc = EX_FAIL;
	if (rc != EX_OK)
		goto out;
	int64_t ms;
	if (optind != argc) {
		rc = usage_error(USAGE_PREVIEW, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (at && pg_parse_iso8601(at, &ms) != 0) {
		rc = usage_error(USAGE_PREVIEW, "--at wants RFC 3339, not '%s'", at);
		goto out;
	}
	if ((rc = set_target(req, client, dnis, USAGE_PREVIEW)) != EX_OK ||
	    (rc = set_urgency(req, urgency, dispatch, USAGE_PREVIEW)) != EX_OK)
		goto out;
	if (at)
		json_object_set_new(req, "at", json_string(at));
	rc = call(c, "POST", "/v1/route/preview", req, NULL, preview_print);
out:
	json_decref(req);
	return rc;
}

/* ---- offline commands ---- */

static int cmd_render(struct cli *c, int argc, char **argv)
{
	(void)c;
	return pg_cli_render(argc, argv);   /* cli_render.c: its own options */
}

static int cmd_check(struct cli *c, int argc, char **argv)
{
	int first = common_only(c, argc, argv, USAGE_CHECK);
	char path[1024];
	struct pg_diags d;
	struct pg_config *cfg = NULL;

	if (first <= 0)
		return -first;
	if (argc - first > 1)
		return usage_error(USAGE_CHECK, "%s", "give at most one FILE or DIR");
	config_path(argc > first ? argv[first] : c->config_opt, path, sizeof path);
	pg_diags_init(&d);
	pg_err err = pg_config_load(path, &cfg, &d);
	for (size_t i = 0; i < d.n; i++) {
		if (d.v[i].line > 0)
			fprintf(stderr, "%s:%d: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
		else
			fprintf(stderr, "%s: %s\n", d.v[i].file, d.v[i].msg);
	}
	if (err == PG_OK && cfg) {
		printf("ok: %zu clients\n", cfg->n_clients);
		pg_config_release(cfg);
	} else if (d.n == 0) {
		fprintf(stderr, "%s: %s\n", path, pg_strerror(err));
	}
	pg_diags_free(&d);
	return err == PG_OK ? EX_OK : EX_FAIL;
}

static int cmd_hash_token(struct cli *c, int argc, char **argv)
{
	int first = common_only(c, argc, argv, USAGE_HASH), rc = EX_OK;
	char hex[65], *tok = NULL;

	if (first <= 0)
		return -first;
	if (argc - first != 1)
		return usage_error(USAGE_HASH, "%s", "give one TOKEN, or - to read it from stdin");
	if (strcmp(argv[first], "-") == 0)
		rc = read_token(stdin, "stdin", &tok);
	else if (!(tok = pg_strdup(argv[first])))
		rc = EX_FAIL;
	if (rc != EX_OK)
		return rc;
	if (!*tok) {
		free(tok);
		return usage_error(USAGE_HASH, "%s", "the token is empty");
	}
	pg_sha256_hex(tok, strlen(tok), hex);
	explicit_bzero(tok, strlen(tok));
	free(tok);
	puts(hex);
	return EX_OK;
}

/* ---- main ---- */

static const struct command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *usage;
} COMMANDS[] = {
	{ "send", cmd_send, USAGE_SEND },
	{ "show", cmd_show, USAGE_SHOW },
	{ "ack", cmd_ack, USAGE_ACK },
	{ "cancel", cmd_cancel, USAGE_CANCEL },
	{ "escalate", cmd_escalate, USAGE_ESCALATE },
	{ "oncall", cmd_oncall, USAGE_ONCALL },
	{ "mailbox", cmd_mailbox, USAGE_MAILBOX },
	{ "list", cmd_list, USAGE_LIST },
	{ "preview", cmd_preview, USAGE_PREVIEW },
	{ "check", cmd_check, USAGE_CHECK },
	{ "hash-token", cmd_hash_token, USAGE_HASH },
	{ "render", cmd_render, USAGE_RENDER },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
		if (strcmp(COMMANDS[i].name, name) == 0)
			return &COMMANDS[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", no_argument, NULL, 'V' }, COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	struct cli c = { 0 };
	int ch, rc = EX_OK;

	/* options before the command; '+' stops at the command name */
	while (rc == EX_OK && (ch = getopt_long(argc, argv, "+hVc:", opts, NULL)) != -1) {
		if (common_opt(&c, ch, optarg, &rc))
			continue;
		if (ch == 'V') {
			printf("pagegate %s (libcurl %s, jansson %s)\n", PAGEGATE_VERSION,
			       curl_version_info(CURLVERSION_NOW)->version, jansson_version_str());
			goto out;
		}
		if (ch == 'h') {
			fputs(USAGE, stdout);
			goto out;
		}
		fputs(USAGE, stderr);
		rc = EX_USAGE;
	}
	if (rc != EX_OK)
		goto out;
	if (optind >= argc) {
		fputs(USAGE, stderr);
		rc = EX_USAGE;
		goto out;
	}
	const char *name = argv[optind];
	const struct command *cmd = find_command(name);
	if (strcmp(name, "help") == 0) {    /* help [COMMAND] */
		cmd = optind + 1 < argc ? find_command(argv[optind + 1]) : NULL;
		fputs(cmd ? cmd->usage : USAGE, stdout);
		goto out;
	}
	if (!cmd) {
		rc = usage_error(USAGE, "unknown command '%s'", name);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("pagegate: cannot initialise libcurl\n", stderr);
		rc = EX_FAIL;
		goto out;
	}
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0;   /* re-initialise getopt for the command's own options */
	rc = cmd->run(&c, sub_argc, sub_argv);
	curl_global_cleanup();
out:
	if (c.token) {
		explicit_bzero(c.token, strlen(c.token));
		free(c.token);
	}
	if (fflush(stdout) != 0 && rc == EX_OK) {
		fprintf(stderr, "pagegate: writing output: %s\n", strerror(errno));
		rc = EX_FAIL;
	}
	return rc;
}
