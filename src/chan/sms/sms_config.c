/*
 * sms_config.c - the "sms" section of pagegate.conf: a list of providers
 * (Kannel, Twilio-style REST, generic HTTP), and the check of client
 * devices on the sms channel.
 *
 *   sms = ( { name = "kannel"; kind = "kannel";
 *             url = "http://127.0.0.1:13013/cgi-bin/sendsms";
 *             username = "pagegate"; password = "secret"; from = "5550000";
 *             dlr_mask = 31; rate = 10; max_segments = 3; },
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
#define DEFAULT_RATE   10.0
#define MAX_RATE       10000.0
#define DEFAULT_TMO_S  20
#define DEFAULT_CONN_S 10
#define MIN_TOKEN_LEN  16
#define MAX_HEADERS    32

enum vtype { T_STR, T_INT, T_NUM, T_BOOL, T_STRS };

#define KAN  (1u << SMS_KANNEL)
#define TWI  (1u << SMS_TWILIO)
#define HTP  (1u << SMS_HTTP)
#define ALL  (KAN | TWI | HTP)

struct skey {
	const char *name;
	enum vtype type;
	unsigned kinds;
};

static const struct skey keys[] = {
	{ "name", T_STR, ALL }, { "kind", T_STR, ALL }, { "url", T_STR, ALL },
	{ "from", T_STR, ALL }, { "rate", T_NUM, ALL }, { "timeout", T_INT, ALL },
	{ "connect_timeout", T_INT, ALL }, { "max_segments", T_INT, ALL },
	{ "tls_ca", T_STR, ALL }, { "default", T_BOOL, ALL },
	{ "username", T_STR, KAN | HTP }, { "password", T_STR, KAN | HTP },
	{ "dlr_mask", T_INT, KAN }, { "smsc", T_STR, KAN },
	{ "inbound_token", T_STR, KAN },
	{ "account_sid", T_STR, TWI }, { "auth_token", T_STR, TWI },
	{ "messaging_service_sid", T_STR, TWI },
	{ "method", T_STR, HTP }, { "headers", T_STRS, HTP }, { "body", T_STR, HTP },
	{ "escape", T_STR, HTP }, { "success", T_STR, HTP },
	{ NULL, T_STR, 0 }
};

static const char *const kind_names[SMS__KINDS] = { "kannel", "twilio", "http" };

/* State of one parse. */
struct parse {
	const char *file;
	struct pg_diags *d;
	int errors;
};

static void
diag(struct parse *ps, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
diag(struct parse *ps, const config_setting_t *s, const char *fmt, ...)
{
	char msg[sizeof ((struct pg_diag *)0)->msg];
	const char *file = s && config_setting_source_file(s) ?
		config_setting_source_file(s) : ps->file;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pg_diag_add(ps->d, file, s ? (int)config_setting_source_line(s) : 0, "%s", msg);
	ps->errors++;
}

static bool
type_ok(const config_setting_t *s, enum vtype t)
{
	int ty = config_setting_type(s);

	switch (t) {
	case T_STR:  return ty == CONFIG_TYPE_STRING;
	case T_INT:  return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64;
	case T_NUM:  return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64 ||
			    ty == CONFIG_TYPE_FLOAT;
	case T_BOOL: return ty == CONFIG_TYPE_BOOL;
	case T_STRS: return ty == CONFIG_TYPE_ARRAY || ty == CONFIG_TYPE_LIST;
	}
	return false;
}

static const char *
type_name(enum vtype t)
{
	switch (t) {
	case T_STR:  return "a string in quotes";
	case T_INT:  return "a whole number";
	case T_NUM:  return "a number";
	case T_BOOL: return "true or false";
	case T_STRS: return "an array of strings [ \"...\" ]";
	}
	return "?";
}

/* Reports unknown, misplaced and mistyped members of provider group g. */
static void
check_keys(struct parse *ps, const config_setting_t *g, int kind)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		const struct skey *k;

		for (k = keys; k->name && (!name || strcmp(k->name, name) != 0); k++)
			;
		if (!k->name) {
			diag(ps, m, "unknown sms provider setting \"%s\"", name ? name : "?");
			continue;
		}
		if (kind >= 0 && !(k->kinds & (1u << kind))) {
			diag(ps, m, "\"%s\" is not a setting of %s providers", name,
			     kind_names[kind]);
			continue;
		}
		if (!type_ok(m, k->type))
			diag(ps, m, "\"%s\" must be %s", name, type_name(k->type));
	}
}

static const config_setting_t *
member(const config_setting_t *g, const char *name, enum vtype t)
{
	const config_setting_t *m = config_setting_get_member(g, name);

	return m && type_ok(m, t) ? m : NULL;
}

/* A string member, checked (UTF-8, no control characters, bounded),
 * copied; NULL when absent or bad (reported). */
static char *
str(struct parse *ps, const config_setting_t *g, const char *name, bool required,
    bool *nomem)
{
	const config_setting_t *m = member(g, name, T_STR);
	const char *v;
	char *c;

	if (!m) {
		if (required && !config_setting_get_member(g, name))
			diag(ps, g, "sms provider needs \"%s\"", name);
		return NULL;
	}
	v = config_setting_get_string(m);
	if (!v || !*v || strlen(v) > 4096 || !pg_utf8_valid(v, strlen(v)) ||
	    pg_has_ctl(v, false)) {
		diag(ps, m, "\"%s\" must be non-empty text without control characters "
		     "(at most 4096 bytes)", name);
		return NULL;
	}
	if (!(c = strdup(v)))
		*nomem = true;
	return c;
}

static void
int_member(struct parse *ps, const config_setting_t *g, const char *name,
	   long long lo, long long hi, long long *v)
{
	const config_setting_t *m = member(g, name, T_INT);
	long long x;

	if (!m)
		return;
	x = config_setting_get_int64(m);
	if (x < lo || x > hi)
		diag(ps, m, "\"%s\" must be between %lld and %lld", name, lo, hi);
	else
		*v = x;
}

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

/* tls_ca relative to the directory of the file that names it. */
static char *
resolve(const char *file, const char *path, bool *nomem)
{
	char *copy, *dir, *out = NULL;

	if (path[0] == '/') {
		if (!(out = strdup(path)))
			*nomem = true;
		return out;
	}
	if (!(copy = strdup(file ? file : "."))) {
		*nomem = true;
		return NULL;
	}
	dir = dirname(copy);
	if (asprintf(&out, "%s/%s", dir, path) < 0) {
		out = NULL;
		*nomem = true;
	}
	free(copy);
	return out;
}

static void
parse_kannel(struct parse *ps, const config_setting_t *g, struct sms_provider *p,
	     bool *nomem)
{
	long long v = 31;
	const config_setting_t *m;

	p->username = str(ps, g, "username", true, nomem);
	p->password = str(ps, g, "password", true, nomem);
	p->smsc = str(ps, g, "smsc", false, nomem);
	p->inbound_token = str(ps, g, "inbound_token", false, nomem);
	int_member(ps, g, "dlr_mask", 0, 31, &v);
	p->dlr_mask = (int)v;
	if (p->inbound_token && (strlen(p->inbound_token) < MIN_TOKEN_LEN ||
				 !word_ok(p->inbound_token, "-._~", 128))) {
		m = config_setting_get_member(g, "inbound_token");
		diag(ps, m, "\"inbound_token\" must be %d to 128 characters of "
		     "A-Z a-z 0-9 - . _ ~", MIN_TOKEN_LEN);
	}
	if (p->smsc && !word_ok(p->smsc, "-._", 64))
		diag(ps, config_setting_get_member(g, "smsc"),
		     "\"smsc\" must be a Kannel smsc-id (A-Z a-z 0-9 - . _)");
}

static void
parse_twilio(struct parse *ps, const config_setting_t *g, struct sms_provider *p,
	     bool *nomem)
{
	bool has_from, has_ms;

	p->account_sid = str(ps, g, "account_sid", true, nomem);
	p->auth_token = str(ps, g, "auth_token", true, nomem);
	p->messaging_service_sid = str(ps, g, "messaging_service_sid", false, nomem);
	if (p->account_sid && !word_ok(p->account_sid, "", 64))
		diag(ps, config_setting_get_member(g, "account_sid"),
		     "\"account_sid\" must be letters and digits (AC...)");
	if (p->messaging_service_sid && !word_ok(p->messaging_service_sid, "", 64))
		diag(ps, config_setting_get_member(g, "messaging_service_sid"),
		     "\"messaging_service_sid\" must be letters and digits (MG...)");
	has_from = config_setting_get_member(g, "from") != NULL;
	has_ms = config_setting_get_member(g, "messaging_service_sid") != NULL;
	if (!has_from && !has_ms)
		diag(ps, g, "twilio provider needs \"from\" or \"messaging_service_sid\"");
	else if (has_from && has_ms)
		diag(ps, config_setting_get_member(g, "messaging_service_sid"),
		     "give \"from\" or \"messaging_service_sid\", not both");
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
parse_http(struct parse *ps, const config_setting_t *g, struct sms_provider *p,
	   bool *nomem)
{
	const config_setting_t *m;
	char *esc, err[160];
	int n, rc;

	p->username = str(ps, g, "username", false, nomem);
	p->password = str(ps, g, "password", false, nomem);
	if (!!p->username != !!p->password && !*nomem)
		diag(ps, g, "give both \"username\" and \"password\", or neither");
	p->method = str(ps, g, "method", false, nomem);
	if (!p->method && !config_setting_get_member(g, "method") && !(p->method = strdup("POST")))
		*nomem = true;
	if (p->method && strcmp(p->method, "GET") && strcmp(p->method, "POST") &&
	    strcmp(p->method, "PUT"))
		diag(ps, config_setting_get_member(g, "method"),
		     "\"method\" must be \"GET\", \"POST\" or \"PUT\"");
	p->body = str(ps, g, "body", false, nomem);
	if (p->body && p->method && strcmp(p->method, "GET") == 0)
		diag(ps, config_setting_get_member(g, "body"), "a GET request has no body");
	if (p->body && !sms_tmpl_check(p->body, err, sizeof err))
		diag(ps, config_setting_get_member(g, "body"), "body: %s", err);
	if (p->url && !sms_tmpl_check(p->url, err, sizeof err))
		diag(ps, config_setting_get_member(g, "url"), "url: %s", err);

	p->escape = SMS_ESC_URL;
	if ((esc = str(ps, g, "escape", false, nomem))) {
		if (strcmp(esc, "url") == 0)
			p->escape = SMS_ESC_URL;
		else if (strcmp(esc, "json") == 0)
			p->escape = SMS_ESC_JSON;
		else if (strcmp(esc, "none") == 0)
			p->escape = SMS_ESC_NONE;
		else
			diag(ps, config_setting_get_member(g, "escape"),
			     "\"escape\" must be \"url\", \"json\" or \"none\"");
		free(esc);
	}

	if ((m = member(g, "headers", T_STRS))) {
		n = config_setting_length(m);
		if (n > MAX_HEADERS)
			diag(ps, m, "at most %d headers", MAX_HEADERS);
		else if (n > 0 && !(p->headers = calloc((size_t)n, sizeof *p->headers)))
			*nomem = true;
		for (int i = 0; p->headers && i < n; i++) {
			const config_setting_t *h = config_setting_get_elem(m, (unsigned)i);
			const char *v = config_setting_type(h) == CONFIG_TYPE_STRING ?
				config_setting_get_string(h) : NULL;
			const char *colon = v ? strchr(v, ':') : NULL;
			char name[80];

			if (colon && (size_t)(colon - v) < sizeof name) {
				memcpy(name, v, (size_t)(colon - v));
				name[colon - v] = '\0';
			}
			if (!v || !colon || (size_t)(colon - v) >= sizeof name ||
			    !word_ok(name, "-!#$%&'*+.^_`|~", 64) || pg_has_ctl(v, false) ||
			    !pg_utf8_valid(v, strlen(v))) {
				diag(ps, h, "header %d must be \"Name: value\" on one line", i + 1);
				continue;
			}
			if (!(p->headers[p->n_headers++] = strdup(v)))
				*nomem = true;
		}
	}

	p->success = str(ps, g, "success", false, nomem);
	p->ok_lo = 200;
	p->ok_hi = 299;
	if (p->success && !status_pattern(p->success, &p->ok_lo, &p->ok_hi)) {
		rc = regcomp(&p->ok_regex, p->success, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &p->ok_regex, err, sizeof err);
			diag(ps, config_setting_get_member(g, "success"),
			     "\"success\" is neither a status (\"2xx\", \"200\") nor a "
			     "valid regular expression: %s", err);
		} else
			p->has_regex = true;
	}
}

static void
provider_free(struct sms_provider *p)
{
	char **strs[] = { &p->name, &p->url, &p->from, &p->tls_ca, &p->username,
		&p->password, &p->smsc, &p->inbound_token, &p->account_sid,
		&p->auth_token, &p->messaging_service_sid, &p->method, &p->body,
		&p->success };

	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		free(*strs[i]);
	for (size_t i = 0; i < p->n_headers; i++)
		free(p->headers[i]);
	free(p->headers);
	if (p->has_regex)
		regfree(&p->ok_regex);
	memset(p, 0, sizeof *p);
}

/* Parses provider group g into p. */
static void
parse_provider(struct parse *ps, const config_setting_t *g, struct sms_provider *p,
	       bool *nomem)
{
	const config_setting_t *m;
	char *kind, *ca;
	long long v;
	int k = -1;

	p->line = (int)config_setting_source_line(g);
	if ((kind = str(ps, g, "kind", true, nomem))) {
		for (k = 0; k < SMS__KINDS && strcmp(kind, kind_names[k]) != 0; k++)
			;
		if (k == SMS__KINDS) {
			diag(ps, config_setting_get_member(g, "kind"),
			     "unknown sms provider kind \"%s\" (kannel, twilio, http)", kind);
			k = -1;
		}
		free(kind);
	}
	check_keys(ps, g, k);
	p->kind = k < 0 ? SMS_HTTP : (enum sms_kind)k;
	if ((p->name = str(ps, g, "name", true, nomem)) &&
	    !word_ok(p->name, "-._", NAME_MAX_LEN))
		diag(ps, config_setting_get_member(g, "name"),
		     "provider name must be 1 to %d characters of A-Z a-z 0-9 - . _",
		     NAME_MAX_LEN);
	p->url = str(ps, g, "url", k != SMS_TWILIO && k >= 0, nomem);
	if (!p->url && k == SMS_TWILIO && !config_setting_get_member(g, "url") &&
	    !(p->url = strdup("https://api.twilio.com")))
		*nomem = true;
	if (p->url && !url_ok(p->url))
		diag(ps, config_setting_get_member(g, "url"),
		     "\"url\" must start with http:// or https://");
	if (p->url && strchr(p->url, ' '))
		diag(ps, config_setting_get_member(g, "url"), "\"url\" contains a space");
	p->from = str(ps, g, "from", false, nomem);

	p->rate = DEFAULT_RATE;
	if ((m = member(g, "rate", T_NUM))) {
		double r = config_setting_type(m) == CONFIG_TYPE_FLOAT ?
			config_setting_get_float(m) : (double)config_setting_get_int64(m);
		if (!(r >= 0 && r <= MAX_RATE))
			diag(ps, m, "\"rate\" must be between 0 (no limit) and %g messages "
			     "per second", MAX_RATE);
		else
			p->rate = r;
	}
	v = DEFAULT_TMO_S;
	int_member(ps, g, "timeout", 1, 300, &v);
	p->timeout_s = (int)v;
	v = DEFAULT_CONN_S;
	int_member(ps, g, "connect_timeout", 1, 60, &v);
	p->connect_timeout_s = (int)v;
	v = SMS_DEFAULT_SEGMENTS;
	int_member(ps, g, "max_segments", 1, SMS_MAX_SEGMENTS, &v);
	p->max_segments = (unsigned)v;
	if ((m = member(g, "default", T_BOOL)))
		p->is_default = config_setting_get_bool(m);
	if ((ca = str(ps, g, "tls_ca", false, nomem))) {
		p->tls_ca = resolve(config_setting_source_file(g) ?
				    config_setting_source_file(g) : ps->file, ca, nomem);
		if (p->tls_ca && access(p->tls_ca, R_OK) != 0)
			diag(ps, config_setting_get_member(g, "tls_ca"),
			     "cannot read tls_ca \"%s\": %s", p->tls_ca, strerror(errno));
		free(ca);
	}

	switch (k) {
	case SMS_KANNEL: parse_kannel(ps, g, p, nomem); break;
	case SMS_TWILIO: parse_twilio(ps, g, p, nomem); break;
	case SMS_HTTP:   parse_http(ps, g, p, nomem); break;
	default: break;
	}
}

pg_err
sms_config_parse(const config_setting_t *section, const char *file,
		 struct pg_diags *d, void **out)
{
	struct parse ps = { file, d, 0 };
	struct sms_config *c;
	bool nomem = false;
	int n, defaults = 0;

	*out = NULL;
	if (!section)
		return PG_OK;
	if (config_setting_type(section) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(section) == CONFIG_TYPE_ARRAY &&
	      config_setting_length(section) == 0)) {
		diag(&ps, section, "\"sms\" must be a list of providers ( { ... }, ... )");
		return PG_ERR_CONFIG;
	}
	if (!(c = calloc(1, sizeof *c)))
		return PG_ERR_NOMEM;
	n = config_setting_length(section);
	if (n > 0 && !(c->v = calloc((size_t)n, sizeof *c->v))) {
		free(c);
		return PG_ERR_NOMEM;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(section, (unsigned)i);
		struct sms_provider *p = &c->v[c->n];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			diag(&ps, g, "each sms provider must be a group { ... }");
			continue;
		}
		parse_provider(&ps, g, p, &nomem);
		c->n++;
		for (size_t j = 0; p->name && j + 1 < c->n; j++)
			if (c->v[j].name && strcmp(c->v[j].name, p->name) == 0)
				diag(&ps, config_setting_get_member(g, "name"),
				     "sms provider \"%s\" is already defined at line %d",
				     p->name, c->v[j].line);
		if (p->is_default) {
			if (defaults++)
				diag(&ps, config_setting_get_member(g, "default"),
				     "only one sms provider can be the default");
			c->def = c->n - 1;
		}
	}
	if (nomem || ps.errors) {
		sms_config_free(c);
		return nomem ? PG_ERR_NOMEM : PG_ERR_CONFIG;
	}
	*out = c;
	return PG_OK;
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

void
sms_device_check(const void *chan_cfg, const struct pg_device *dev,
		 const char *file, struct pg_diags *d)
{
	const struct sms_config *c = chan_cfg;
	char known[256];
	size_t o = 0;

	if (!c || c->n == 0) {
		pg_diag_add(d, file, dev->line, "sms device, but no sms provider is "
			    "configured (sms = ( { ... } ) in pagegate.conf)");
		return;
	}
	if (!dev->to)
		pg_diag_add(d, file, dev->line, "sms device needs \"to\" (a phone number)");
	else if (!sms_number_ok(dev->to))
		pg_diag_add(d, file, dev->line, "bad sms number \"%.64s\": expected "
			    "+ and 5 to 15 digits (E.164, e.g. +15555550111) or a short "
			    "code of 3 to 15 digits", dev->to);
	if (dev->gateway && !sms_provider_find(c, dev->gateway)) {
		known[0] = '\0';
		for (size_t i = 0; i < c->n && o < sizeof known; i++)
			o += (size_t)snprintf(known + o, sizeof known - o, "%s%s",
					      i ? ", " : "", c->v[i].name);
		pg_diag_add(d, file, dev->line, "unknown sms gateway \"%.64s\" (known: %.150s)",
			    dev->gateway, known);
	}
	for (size_t i = 0; i < dev->n_opts; i++) {
		const char *k = dev->opts[i].key, *v = dev->opts[i].value;
		char *end;
		long x;

		if (strcmp(k, "max_segments") != 0) {
			pg_diag_add(d, file, dev->line, "unknown sms device setting \"%.64s\" "
				    "(known: max_segments)", k);
			continue;
		}
		errno = 0;
		x = strtol(v, &end, 10);
		if (errno || end == v || *end || x < 1 || x > SMS_MAX_SEGMENTS)
			pg_diag_add(d, file, dev->line, "max_segments must be a whole number "
				    "from 1 to %d, not \"%.32s\"", SMS_MAX_SEGMENTS, v);
	}
}
