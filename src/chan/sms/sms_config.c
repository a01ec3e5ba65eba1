/*
 * sms_config.c - the "sms" section of pagegate.conf: a list of providers
 * (Kannel, Twilio-style REST, generic HTTP), and the check of client
 * devices on the sms channel.
 *
 *   sms = ( { name = "kannel"; kind = "kannel";
 *             url = "http://127.0.0.1:13013/cgi-bin/sendsms";
 *             username = "pagegate"; password = "secret"; from = "5550000";
 *             dlr_mask = 31; rate = 10; max_segments = 3; ascii = false; },
 *           { name = "twilio"; kind = "twilio"; account_sid = "AC...";
 *             auth_token = "..."; from = "+15555550100"; },
 *           { name = "generic"; kind = "http"; url = "https://sms.example/send";
 *             method = "POST"; headers = [ "Content-Type: application/json" ];
 *             body = "{\"to\":\"{{to}}\",\"text\":\"{{text}}\"}"; escape = "json";
 *             success = "2xx"; } );
 *
 * Keys are declared once, in a table saying which kinds take them; an
 * unknown key, a key of another kind, a wrong type or a bad value is a
 * diagnostic at its file:line.  The default provider is the one marked
 * default = true, else the first.
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sms_priv.h"

#define NAME_MAX_LEN   63
#define TEXT_MAX_LEN   4096
#define DEFAULT_RATE   10.0
#define MAX_RATE       10000
#define DEFAULT_TMO_S  20
#define DEFAULT_CONN_S 10
#define MIN_TOKEN_LEN  16
#define MAX_HEADERS    32
#define NAMES_MAX      64

#define KAN  (1u << SMS_KANNEL)
#define TWI  (1u << SMS_TWILIO)
#define HTP  (1u << SMS_HTTP)
#define P struct sms_provider
#define TEXT(n, f) { n, PG_KT_STR, PG_AT(P, f), .lo = 1, .hi = TEXT_MAX_LEN }
#define TEXT_FOR(n, fl, k, f) { n, PG_KT_STR, fl, k, PG_AT(P, f), .lo = 1, \
			       .hi = TEXT_MAX_LEN }

static const char *const kind_names[] = { "kannel", "twilio", "http", NULL };
static const char *const method_names[] = { "GET", "POST", "PUT", NULL };
static const char *const escape_names[] = { "url", "json", "none", NULL };

static const struct pg_key provider_keys[] = {
	{ "name", PG_KT_STR, PG_KF_REQUIRED, PG_AT(P, name), .lo = 1, .hi = NAME_MAX_LEN },
	{ "kind", PG_KT_ENUM, PG_KF_REQUIRED, PG_AT(P, kind), .lo = SMS_KANNEL,
	  .hi = SMS_HTTP, .names = kind_names },
	TEXT_FOR("url", PG_KF_REQUIRED, KAN | HTP, url),
	{ "url", PG_KT_STR, 0, TWI, PG_AT(P, url), .lo = 1, .hi = TEXT_MAX_LEN,
	  .defs = "https://api.twilio.com" },
	TEXT("from", from),
	{ "rate", PG_KT_NUM, PG_AT(P, rate), .lo = 0, .hi = MAX_RATE, .defd = DEFAULT_RATE },
	{ "timeout", PG_KT_INT, PG_AT(P, timeout_s), .lo = 1, .hi = 300, .def = DEFAULT_TMO_S },
	{ "connect_timeout", PG_KT_INT, PG_AT(P, connect_timeout_s), .lo = 1, .hi = 60,
	  .def = DEFAULT_CONN_S },
	{ "max_segments", PG_KT_INT, PG_AT(P, max_segments), .lo = 1,
	  .hi = SMS_MAX_SEGMENTS, .def = SMS_DEFAULT_SEGMENTS },
	{ "ascii", PG_KT_BOOL, PG_AT(P, ascii) },
	{ "tls_ca", PG_KT_PATH, PG_KF_READABLE, PG_AT(P, tls_ca) },
	{ "default", PG_KT_BOOL, PG_AT(P, is_default) },
	TEXT_FOR("username", PG_KF_REQUIRED, KAN, username),
	TEXT_FOR("username", 0, HTP, username),
	TEXT_FOR("password", PG_KF_REQUIRED, KAN, password),
	TEXT_FOR("password", 0, HTP, password),
	{ "dlr_mask", PG_KT_INT, 0, KAN, PG_AT(P, dlr_mask), .lo = 0, .hi = 31, .def = 31 },
	TEXT_FOR("smsc", 0, KAN, smsc),
	TEXT_FOR("inbound_token", 0, KAN, inbound_token),
	TEXT_FOR("account_sid", PG_KF_REQUIRED, TWI, account_sid),
	TEXT_FOR("auth_token", PG_KF_REQUIRED, TWI, auth_token),
	TEXT_FOR("messaging_service_sid", 0, TWI, messaging_service_sid),
	{ "method", PG_KT_ENUM, 0, HTP, .lo = 0, .hi = 2, .def = 1, .names = method_names },
	{ "headers", PG_KT_STRS, 0, HTP, PG_AT_N(P, headers, n_headers), .lo = 0,
	  .hi = MAX_HEADERS },
	TEXT_FOR("body", 0, HTP, body),
	{ "escape", PG_KT_ENUM, 0, HTP, PG_AT(P, escape), .lo = SMS_ESC_URL,
	  .hi = SMS_ESC_NONE, .def = SMS_ESC_URL, .names = escape_names },
	TEXT_FOR("success", 0, HTP, success),
	PG_KEY_END
};
static const struct pg_keytab provider_tab = { "sms provider", provider_keys, "kind" };

const struct pg_key sms_config_keys[] = {
	{ .name = "sms", .type = PG_KT_LIST },
	PG_KEY_END
};
const struct pg_keytab *const sms_config_tables[] = { &provider_tab, NULL };

/* Checked only: the values reach sms_max_segments and sms_ascii as text. */
const struct pg_key sms_device_keys[] = {
	{ "max_segments", PG_KT_INT, .lo = 1, .hi = SMS_MAX_SEGMENTS },
	{ .name = "ascii", .type = PG_KT_BOOL },
	PG_KEY_END
};

static bool
url_ok(const char *u)
{
	return (strncmp(u, "http://", 7) == 0 && u[7]) ||
	       (strncmp(u, "https://", 8) == 0 && u[8]);
}

static bool
word_ok(const char *s, const char *extra, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

#define AT(g, n) config_setting_get_member(g, n)

static void
check_kannel(struct pg_conf *cx, const config_setting_t *g, struct sms_provider *p)
{
	if (p->inbound_token && (strlen(p->inbound_token) < MIN_TOKEN_LEN ||
				 !word_ok(p->inbound_token, "-._~", 128)))
		pg_conf_bad(cx, AT(g, "inbound_token"), 0, "inbound_token", NULL, NULL,
			    "%d to 128 characters of A-Z a-z 0-9 - . _ ~", MIN_TOKEN_LEN);
	if (p->smsc && !word_ok(p->smsc, "-._", 64))
		pg_conf_bad(cx, AT(g, "smsc"), 0, "smsc", p->smsc, NULL,
			    "a Kannel smsc-id (A-Z a-z 0-9 - . _)");
}

static void
check_twilio(struct pg_conf *cx, const config_setting_t *g, struct sms_provider *p)
{
	if (p->account_sid && !word_ok(p->account_sid, "", 64))
		pg_conf_bad(cx, AT(g, "account_sid"), 0, "account_sid", p->account_sid, NULL,
			    "letters and digits (AC...)");
	if (p->messaging_service_sid && !word_ok(p->messaging_service_sid, "", 64))
		pg_conf_bad(cx, AT(g, "messaging_service_sid"), 0, "messaging_service_sid",
			    p->messaging_service_sid, NULL, "letters and digits (MG...)");
	if (!pg_conf_has(g, "from") && !pg_conf_has(g, "messaging_service_sid"))
		pg_conf_missing(cx, g, 0, "from\" or \"messaging_service_sid", "twilio sms "
				"provider", NULL);
	else if (pg_conf_has(g, "from") && pg_conf_has(g, "messaging_service_sid"))
		pg_conf_conflict(cx, AT(g, "messaging_service_sid"), 0, "from",
				 "messaging_service_sid");
}

/* Parses "2xx", "200", "20x" into a status range. */
static bool
status_pattern(const char *s, int *lo, int *hi)
{
	int l = 0, h = 0;

	if (strlen(s) != 3 || s[0] < '1' || s[0] > '5')
		return false;
	for (int i = 0; i < 3; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			l = l * 10 + (s[i] - '0');
			h = h * 10 + (s[i] - '0');
		} else if ((s[i] == 'x' || s[i] == 'X') && i > 0) {
			l = l * 10;
			h = h * 10 + 9;
		} else
			return false;
	}
	*lo = l;
	*hi = h;
	return true;
}

static void
check_http(struct pg_conf *cx, const config_setting_t *g, struct sms_provider *p)
{
	char err[160];
	int rc;

	if (!p->username != !p->password)
		pg_conf_together(cx, g, 0, "username", "password");
	const char *method = pg_conf_string(g, &provider_tab, SMS_HTTP, "method");
	if (!(p->method = strdup(method ? method : "POST")))
		cx->nomem = true;
	if (p->body && pg_conf_has(g, "method") && method && strcmp(method, "GET") == 0)
		pg_conf_error(cx, AT(g, "body"), 0, "a GET request has no body");
	if (p->body && !sms_tmpl_check(p->body, err, sizeof err))
		pg_conf_bad(cx, AT(g, "body"), 0, "body", NULL, NULL, "a template: %s", err);
	if (p->url && !sms_tmpl_check(p->url, err, sizeof err))
		pg_conf_bad(cx, AT(g, "url"), 0, "url", NULL, NULL, "a template: %s", err);
	for (size_t i = 0; i < p->n_headers; i++) {
		const char *v = p->headers[i], *colon = strchr(v, ':');
		char name[80];
		if (colon && (size_t)(colon - v) < sizeof name) {
			memcpy(name, v, (size_t)(colon - v));
			name[colon - v] = '\0';
		}
		if (!colon || (size_t)(colon - v) >= sizeof name ||
		    !word_ok(name, "-!#$%&'*+.^_`|~", 64))
			pg_conf_bad(cx, config_setting_get_elem(AT(g, "headers"), (unsigned)i), 0,
				    "header", v, NULL, "\"Name: value\"");
	}
	p->ok_lo = 200;
	p->ok_hi = 299;
	if (p->success && !status_pattern(p->success, &p->ok_lo, &p->ok_hi)) {
		rc = regcomp(&p->ok_regex, p->success, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &p->ok_regex, err, sizeof err);
			pg_conf_bad(cx, AT(g, "success"), 0, "success", p->success, NULL,
				    "a status (\"2xx\", \"200\") or a regular expression: %s", err);
		} else {
			p->has_regex = true;
		}
	}
}

static void
provider_free(struct sms_provider *p)
{
	if (p->password)
		explicit_bzero(p->password, strlen(p->password));
	if (p->auth_token)
		explicit_bzero(p->auth_token, strlen(p->auth_token));
	pg_conf_release(&provider_tab, p);
	free(p->method);
	if (p->has_regex)
		regfree(&p->ok_regex);
	memset(p, 0, sizeof *p);
}

/* Provider group g into c's next slot. */
static void
parse_provider(struct pg_conf *cx, const config_setting_t *g, struct sms_config *c,
	       int *defaults)
{
	struct sms_provider *p = &c->v[c->n++];
	int kind;

	p->line = (int)config_setting_source_line(g);
	kind = pg_conf_apply(cx, g, &provider_tab, p);
	if (p->name && !word_ok(p->name, "-._", NAME_MAX_LEN))
		pg_conf_bad(cx, AT(g, "name"), 0, "name", p->name, NULL,
			    "A-Z a-z 0-9 - . _");
	for (size_t j = 0; p->name && j + 1 < c->n; j++)
		if (c->v[j].name && strcmp(c->v[j].name, p->name) == 0)
			pg_conf_duplicate(cx, AT(g, "name"), 0, "sms provider", p->name, NULL,
					  c->v[j].line);
	if (p->url && (!url_ok(p->url) || strchr(p->url, ' ')))
		pg_conf_bad(cx, AT(g, "url"), 0, "url", p->url, NULL,
			    "http://... or https://... without spaces");
	if (p->is_default && (*defaults)++)
		pg_conf_error(cx, AT(g, "default"), 0, "only one sms provider can be the "
			      "default");
	if (p->is_default)
		c->def = c->n - 1;
	switch (kind) {
	case SMS_KANNEL: check_kannel(cx, g, p); break;
	case SMS_TWILIO: check_twilio(cx, g, p); break;
	case SMS_HTTP:   check_http(cx, g, p); break;
	default: break;
	}
}

pg_err
sms_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out)
{
	const config_setting_t *section = pg_conf_section(cx, root, &sms_config_keys[0]);
	struct sms_config *c;
	int n, defaults = 0, before = cx->errors;

	*out = NULL;
	if (!section)
		return pg_conf_has(root, "sms") ? PG_ERR_CONFIG : PG_OK;
	if (!(c = calloc(1, sizeof *c)))
		return PG_ERR_NOMEM;
	n = config_setting_length(section);
	if (n > 0 && !(c->v = calloc((size_t)n, sizeof *c->v))) {
		free(c);
		return PG_ERR_NOMEM;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, section, i);
		if (g)
			parse_provider(cx, g, c, &defaults);
	}
	return pg_conf_parsed(cx, before, c, sms_config_free, out);
}

void
sms_config_free(void *cfg)
{
	struct sms_config *c = cfg;

	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		provider_free(&c->v[i]);
	free(c->v);
	free(c);
}

const struct sms_provider *
sms_provider_find(const struct sms_config *c, const char *name)
{
	if (!c || c->n == 0)
		return NULL;
	if (!name)
		return &c->v[c->def];
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	return NULL;
}

unsigned
sms_max_segments(const struct sms_provider *p, const struct pg_device *dev)
{
	const char *v = dev ? pg_device_opt(dev, "max_segments") : NULL;
	char *end;
	long x;

	if (v) {
		errno = 0;
		x = strtol(v, &end, 10);
		if (!errno && !*end && x >= 1 && x <= SMS_MAX_SEGMENTS)
			return (unsigned)x;
	}
	return p && p->max_segments ? p->max_segments : SMS_DEFAULT_SEGMENTS;
}

bool
sms_ascii(const struct sms_provider *p, const struct pg_device *dev)
{
	const char *v = dev ? pg_device_opt(dev, "ascii") : NULL;

	return (p && p->ascii) || (v && strcmp(v, "true") == 0);
}

void
sms_device_check(struct pg_conf *cx, const void *chan_cfg, const struct pg_device *dev)
{
	const struct sms_config *c = chan_cfg;
	const char *names[NAMES_MAX + 1];
	size_t n = 0;

	if (!c || c->n == 0) {
		pg_conf_no_gateway(cx, dev->line, "sms", "sms provider");
		return;
	}
	if (dev->to && !sms_number_ok(dev->to))
		pg_conf_bad(cx, NULL, dev->line, "sms number", dev->to, NULL,
			    "+ and 5 to 15 digits (E.164, e.g. +15555550111) or a short code "
			    "of 3 to 15 digits");
	if (dev->gateway && !sms_provider_find(c, dev->gateway)) {
		for (size_t i = 0; i < c->n && n < NAMES_MAX; i++)
			names[n++] = c->v[i].name;
		names[n] = NULL;
		pg_conf_unknown(cx, NULL, dev->line, "sms gateway", dev->gateway, NULL, names);
	}
}
