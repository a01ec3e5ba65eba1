/*
 * cli_api.c - the CLI's HTTP client to the API v1 of a running pagegated
 * (libcurl + jansson): where the server is (--url, $PAGEGATE_URL, else the
 * configuration), the operator's token, one request with bounded answer
 * and timeouts, the API's errors as one line on stderr, and the pieces of
 * requests that several commands build (GET queries, the route of send
 * and preview).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libconfig.h>

#include "pagegate/common.h"
#include "pagegate/util.h"
#include "cli_priv.h"

#include "version.h"          /* PG_VERSION, made by the Makefile */

#define RESP_MAX        (8u << 20)    /* largest response body we accept */
#define QUERY_MAX       4096          /* longest query string of a GET */
#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS   30000L

/* ---- server address and token ---- */

/* public_url of the configuration file, else http://listen:port.  Reads
 * only the daemon file, so that a broken client file does not stop an
 * operator from sending.  Returns 0 or -1 (message printed). */
static int url_from_config(const char *arg, char *url, size_t size)
{
	char path[1024];
	config_t cf;
	const char *s, *listen = "127.0.0.1";
	int port = 8025, rc = 0;

	cli__config_path(arg, path, sizeof path);
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

int cli__read_token(FILE *f, const char *what, char **out)
{
	char buf[CLI_TOKEN_MAX + 2];
	if (!fgets(buf, sizeof buf, f)) {
		fprintf(stderr, "pagegate: cannot read a token from %s\n", what);
		return EX_USAGE;
	}
	size_t n = strcspn(buf, "\r\n");
	if (n > CLI_TOKEN_MAX) {
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
	if (pg_has_ctl(c->token, false) || strlen(c->token) > CLI_TOKEN_MAX) {
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
	const char *msg = cli__jstr(j, "error.message");
	const char *field = cli__jstr(j, "error.field");
	const char *code = cli__jstr(j, "error.code");

	fprintf(stderr, "pagegate: %ld", status);
	if (field && *field) {
		fputc(' ', stderr);
		cli__put_clean(stderr, field, NULL);
	} else if (code && *code) {
		fputc(' ', stderr);
		cli__put_clean(stderr, code, NULL);
	}
	fputs(": ", stderr);
	if (msg) {
		cli__put_clean(stderr, msg, NULL);
	} else {
		char line[200];
		const char *d = body->data ? body->data : "";
		size_t n = strcspn(d, "\r\n");
		pg_strlcpy(line, d, n + 1 < sizeof line ? n + 1 : sizeof line);
		cli__put_clean(stderr, *line ? line : "(no error text)", NULL);
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
	pg_buf_init(&auth, CLI_TOKEN_MAX + 64);
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
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "pagegate/" PG_VERSION) != CURLE_OK ||
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

int cli__call(struct cli *c, const char *method, const char *path, json_t *body,
	      const char *idem, cli_printer *print)
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
		print(r, status);
	}
	json_decref(r);
	pg_buf_free(&raw);
	return rc;
}

/* ---- requests ---- */

int cli__get(struct cli *c, const char *path, const struct cli_param *params, size_t n,
	     cli_printer *print)
{
	struct pg_buf url;
	CURL *e = curl_easy_init();        /* only to URL-escape the values */
	char sep = '?';
	int rc = e ? EX_OK : EX_FAIL;

	pg_buf_init(&url, strlen(path) + QUERY_MAX);
	if (rc == EX_OK && pg_buf_adds(&url, path) != PG_OK)
		rc = EX_FAIL;
	for (size_t i = 0; i < n && rc == EX_OK; i++) {
		char *v;
		if (!params[i].value)
			continue;
		if (!(v = curl_easy_escape(e, params[i].value, 0)) ||
		    pg_buf_printf(&url, "%c%s=%s", sep, params[i].name, v) != PG_OK)
			rc = EX_FAIL;
		curl_free(v);
		sep = '&';
	}
	if (rc == EX_OK)
		rc = cli__call(c, "GET", url.data, NULL, NULL, print);
	curl_easy_cleanup(e);
	pg_buf_free(&url);
	return rc;
}

bool cli__route_opt(struct cli_route *r, int ch, const char *arg)
{
	switch (ch) {
	case CLI_O_CLIENT: r->client = arg; return true;
	case CLI_O_DNIS: r->dnis = arg; return true;
	case CLI_O_URGENCY: r->urgency = arg; return true;
	case CLI_O_DISPATCH: r->dispatch = true; return true;
	default: return false;
	}
}

int cli__set_route(struct cli *c, json_t *o, const struct cli_route *r)
{
	enum pg_urgency u;

	if (!r->client == !r->dnis)
		return cli__usage_error(c->usage, "%s",
					"give exactly one of --client ID and --dnis NUMBER");
	if (json_object_set_new(o, r->client ? "client" : "dnis",
				json_string(r->client ? r->client : r->dnis)) != 0)
		return cli__usage_error(c->usage, "%s", "--client/--dnis must be UTF-8 text");
	if (r->urgency && pg_urgency_parse(r->urgency, &u) != 0)
		return cli__usage_error(c->usage,
					"unknown urgency '%s' (routine, urgent, emergency)",
					r->urgency);
	if ((r->urgency && json_object_set_new(o, "urgency", json_string(r->urgency)) != 0) ||
	    json_object_set_new(o, "kind",
				json_string(r->dispatch ? "dispatch" : "message")) != 0) {
		fputs("pagegate: out of memory\n", stderr);
		return EX_FAIL;
	}
	return EX_OK;
}
