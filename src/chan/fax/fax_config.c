/*
 * fax_config.c - the "fax" section of pagegate.conf (a list of gateways,
 * see fax_priv.h) and the check of fax devices in client files.  Keys are
 * declared once in a table with their type and the gateway kinds they
 * belong to; every problem is reported with file:line.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fax_priv.h"
#include "pagegate/util.h"

#define NAME_MAX_LEN   64
#define TEXT_MAX_LEN   255
#define CRED_MAX_LEN   128

enum ktype { K_STR, K_INT, K_BOOL, K_DUR };
enum kscope { SC_ALL, SC_SIP, SC_HYLA };

static const struct key {
	const char *name;
	enum ktype type;
	enum kscope scope;
} KEYS[] = {
	{ "name", K_STR, SC_ALL }, { "kind", K_STR, SC_ALL },
	{ "user", K_STR, SC_ALL }, { "password", K_STR, SC_ALL },
	{ "proxy", K_STR, SC_SIP }, { "from", K_STR, SC_SIP }, { "t38", K_BOOL, SC_SIP },
	{ "watchdog", K_DUR, SC_SIP }, { "ring", K_DUR, SC_SIP },
	{ "local_ip", K_STR, SC_SIP }, { "ident", K_STR, SC_SIP },
	{ "host", K_STR, SC_HYLA }, { "port", K_INT, SC_HYLA }, { "timeout", K_DUR, SC_HYLA },
	{ "poll", K_DUR, SC_HYLA }, { "max_dials", K_INT, SC_HYLA },
	{ "max_tries", K_INT, SC_HYLA },
	{ NULL, 0, 0 }
};
static const char *const TYPE_NAMES[] = { "a string", "an integer", "true or false",
	"a duration (\"30s\", \"5m\") or seconds" };
static const char *const DEVICE_OPTS[] = { "resolution", "paper", "coding", NULL };

struct parse {
	const char *file;
	struct pg_diags *d;
	int errors;
	bool nomem;
};

static void diag(struct parse *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
diag(struct parse *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pg_diag_add(p->d, p->file, s ? (int)config_setting_source_line(s) : 0, "fax: %s", msg);
	p->errors++;
}

static const struct key *
key_of(const char *name)
{
	for (const struct key *k = KEYS; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static bool
type_ok(const config_setting_t *m, enum ktype t)
{
	int ct = config_setting_type(m);
	bool num = ct == CONFIG_TYPE_INT || ct == CONFIG_TYPE_INT64;

	return t == K_STR ? ct == CONFIG_TYPE_STRING : t == K_INT ? num :
	       t == K_BOOL ? ct == CONFIG_TYPE_BOOL : num || ct == CONFIG_TYPE_STRING;
}

/* The string value of key in g (checked: no controls, 1..max bytes,
 * UTF-8), copied; NULL when absent or bad. */
static char *
get_str(struct parse *p, const config_setting_t *g, const char *key, size_t max)
{
	const config_setting_t *m = config_setting_get_member(g, key);
	const char *v;
	char *out;

	if (!m || !type_ok(m, K_STR))
		return NULL;
	v = config_setting_get_string(m);
	if (!v || !*v || strlen(v) > max || !pg_utf8_valid(v, strlen(v)) || pg_has_ctl(v, false)) {
		diag(p, m, "\"%s\" must be text of 1 to %zu bytes without control characters",
		     key, max);
		return NULL;
	}
	if (!(out = strdup(v)))
		p->nomem = true;
	return out;
}

static void
get_int(struct parse *p, const config_setting_t *g, const char *key, int lo, int hi, int *out)
{
	const config_setting_t *m = config_setting_get_member(g, key);
	long long v;

	if (!m || !type_ok(m, K_INT))
		return;
	v = config_setting_get_int64(m);
	if (v < lo || v > hi)
		diag(p, m, "\"%s\" must be between %d and %d", key, lo, hi);
	else
		*out = (int)v;
}

/* A duration in seconds: "90s", "5m" or a number of seconds, lo..hi. */
static void
get_dur(struct parse *p, const config_setting_t *g, const char *key, int lo, int hi,
	int64_t *out)
{
	const config_setting_t *m = config_setting_get_member(g, key);
	int64_t v;

	if (!m || !type_ok(m, K_DUR))
		return;
	if (config_setting_type(m) == CONFIG_TYPE_STRING) {
		if (pg_parse_duration(config_setting_get_string(m), &v) != 0) {
			diag(p, m, "\"%s\" is not a duration (\"30s\", \"5m\")", key);
			return;
		}
	} else {
		v = config_setting_get_int64(m);
	}
	if (v < lo || v > hi)
		diag(p, m, "\"%s\" must be between %d and %d seconds", key, lo, hi);
	else
		*out = v;
}

/* s is made of the characters in set only. */
static bool
only(const char *s, const char *set)
{
	return s && s[strspn(s, set)] == '\0';
}

#define HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

/* "sip:host[:port][;transport=udp]" */
static bool
proxy_ok(const char *s)
{
	char host[TEXT_MAX_LEN + 1];
	const char *rest;
	size_t n;
	long port;
	char *end;

	if (strncmp(s, "sip:", 4) != 0)
		return false;
	s += 4;
	n = strspn(s, HOST_CHARS);
	if (n == 0 || n > TEXT_MAX_LEN)
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	rest = s + n;
	if (*rest == ':') {
		port = strtol(rest + 1, &end, 10);
		if (end == rest + 1 || port < 1 || port > 65535)
			return false;
		rest = end;
	}
	return *rest == '\0' || strcmp(rest, ";transport=udp") == 0;
}

bool
fax_number_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	if (*s == '+')
		s++;
	n = strlen(s);
	return n >= 3 && n <= 20 && only(s, "0123456789");
}

static void
parse_gateway(struct parse *p, const config_setting_t *g, struct fax_gateway *gw,
	      const struct fax_cfg *c)
{
	const config_setting_t *m;
	const char *kind = NULL;
	int64_t v;
	int i, b;

	gw->line = (int)config_setting_source_line(g);
	for (i = 0; (m = config_setting_get_elem(g, (unsigned)i)); i++) {
		const char *name = config_setting_name(m);
		const struct key *k = name ? key_of(name) : NULL;
		if (!k)
			diag(p, m, "unknown gateway key \"%s\"", name ? name : "?");
		else if (!type_ok(m, k->type))
			diag(p, m, "\"%s\" must be %s", name, TYPE_NAMES[k->type]);
	}
	gw->name = get_str(p, g, "name", NAME_MAX_LEN);
	if (!gw->name) {
		diag(p, g, "every fax gateway needs a \"name\"");
	} else if (!only(gw->name, HOST_CHARS "_")) {
		diag(p, g, "gateway name \"%s\" may use letters, digits, '.', '-' and '_'", gw->name);
	} else {
		for (size_t j = 0; c->gw + j < gw; j++)
			if (c->gw[j].name && strcmp(c->gw[j].name, gw->name) == 0)
				diag(p, g, "a second gateway named \"%s\" (first at line %d)",
				     gw->name, c->gw[j].line);
	}
	if ((m = config_setting_get_member(g, "kind")) && type_ok(m, K_STR))
		kind = config_setting_get_string(m);
	if (kind && strcmp(kind, "sip") == 0)
		gw->kind = FAX_GW_SIP;
	else if (kind && strcmp(kind, "hylafax") == 0)
		gw->kind = FAX_GW_HYLAFAX;
	else {
		diag(p, m ? m : g, "gateway \"kind\" must be \"sip\" or \"hylafax\"");
		return;
	}
	for (i = 0; (m = config_setting_get_elem(g, (unsigned)i)); i++) {
		const struct key *k = config_setting_name(m) ? key_of(config_setting_name(m)) : NULL;
		if (k && k->scope != SC_ALL &&
		    k->scope != (gw->kind == FAX_GW_SIP ? SC_SIP : SC_HYLA))
			diag(p, m, "\"%s\" is not a key of %s gateways", k->name, kind);
	}
	gw->user = get_str(p, g, "user", CRED_MAX_LEN);
	gw->password = get_str(p, g, "password", CRED_MAX_LEN);
	if (gw->kind == FAX_GW_SIP) {
		struct pg_fax_sip *s = &gw->sip;
		gw->proxy = get_str(p, g, "proxy", TEXT_MAX_LEN);
		gw->from = get_str(p, g, "from", TEXT_MAX_LEN);
		gw->local_ip = get_str(p, g, "local_ip", 15);
		gw->ident = get_str(p, g, "ident", PG_FAX_IDENT_MAX);
		if (!gw->proxy || !proxy_ok(gw->proxy))
			diag(p, g, "sip gateway \"%s\" needs proxy = \"sip:host[:port]\"",
			     gw->name ? gw->name : "?");
		if (!gw->from || strncmp(gw->from, "sip:", 4) != 0 || !strchr(gw->from, '@') ||
		    strpbrk(gw->from, " <>\""))
			diag(p, g, "sip gateway \"%s\" needs from = \"sip:user@domain\"",
			     gw->name ? gw->name : "?");
		if (!gw->user != !gw->password)
			diag(p, g, "\"user\" and \"password\" go together");
		struct in_addr a;
		if (gw->local_ip && inet_pton(AF_INET, gw->local_ip, &a) != 1)
			diag(p, config_setting_get_member(g, "local_ip"),
			     "\"local_ip\" must be an IPv4 address");
		if (gw->ident && !only(gw->ident, "+0123456789 "))
			diag(p, config_setting_get_member(g, "ident"),
			     "\"ident\" (the fax station id) may use digits, '+' and spaces");
		s->t38 = true;
		if ((m = config_setting_get_member(g, "t38")) && type_ok(m, K_BOOL))
			s->t38 = config_setting_get_bool(m) != 0;
		v = 300;
		get_dur(p, g, "watchdog", 30, 3600, &v);
		s->watchdog_ms = v * 1000;
		v = 60;
		get_dur(p, g, "ring", 5, 300, &v);
		s->ring_s = (int)v;
		s->name = gw->name;
		s->proxy = gw->proxy;
		s->user = gw->user;
		s->password = gw->password;
		s->from = gw->from;
		s->local_ip = gw->local_ip;
		s->ident = gw->ident;
	} else {
		struct pg_fax_hylafax *h = &gw->hyla;
		gw->host = get_str(p, g, "host", TEXT_MAX_LEN);
		if (!gw->host || !only(gw->host, HOST_CHARS ":"))
			diag(p, g, "hylafax gateway \"%s\" needs host = \"name or address\"",
			     gw->name ? gw->name : "?");
		if (!gw->user || !only(gw->user, HOST_CHARS "_@"))
			diag(p, g, "hylafax gateway \"%s\" needs a \"user\" (letters, digits, "
			     "'.', '-', '_', '@')", gw->name ? gw->name : "?");
		h->port = 4559;
		get_int(p, g, "port", 1, 65535, &h->port);
		v = 30;
		get_dur(p, g, "timeout", 1, 300, &v);
		h->timeout_s = (int)v;
		v = 60;
		get_dur(p, g, "poll", 5, 3600, &v);
		gw->poll_s = (int)v;
		b = 3;
		get_int(p, g, "max_dials", 1, 99, &b);
		h->max_dials = b;
		b = 3;
		get_int(p, g, "max_tries", 1, 99, &b);
		h->max_tries = b;
		h->name = gw->name;
		h->host = gw->host;
		h->user = gw->user;
		h->password = gw->password;
	}
}

pg_err
fax_config_parse(const config_setting_t *section, const char *file,
		 struct pg_diags *d, void **out)
{
	struct parse p = { .file = file, .d = d };
	struct fax_cfg *c = calloc(1, sizeof *c);
	const config_setting_t *g;
	int n;

	*out = NULL;
	if (!c)
		return PG_ERR_NOMEM;
	if (!section) {
		*out = c;
		return PG_OK;
	}
	if (!config_setting_is_list(section)) {
		diag(&p, section, "\"fax\" must be a list of gateways: fax = ( { ... }, ... );");
		fax_config_free(c);
		return PG_ERR_CONFIG;
	}
	n = config_setting_length(section);
	if (n > 0 && !(c->gw = calloc((size_t)n, sizeof *c->gw))) {
		free(c);
		return PG_ERR_NOMEM;
	}
	for (int i = 0; i < n; i++) {
		g = config_setting_get_elem(section, (unsigned)i);
		c->n++;
		if (!config_setting_is_group(g))
			diag(&p, g, "each fax gateway is a group { name = ...; kind = ...; }");
		else
			parse_gateway(&p, g, &c->gw[i], c);
	}
	if (p.nomem || p.errors) {
		fax_config_free(c);
		return p.nomem ? PG_ERR_NOMEM : PG_ERR_CONFIG;
	}
	*out = c;
	return PG_OK;
}

void
fax_config_free(void *cfg)
{
	struct fax_cfg *c = cfg;

	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct fax_gateway *g = &c->gw[i];
		free(g->name);
		free(g->proxy);
		free(g->user);
		if (g->password)
			explicit_bzero(g->password, strlen(g->password));
		free(g->password);
		free(g->from);
		free(g->local_ip);
		free(g->ident);
		free(g->host);
	}
	free(c->gw);
	free(c);
}

const struct fax_gateway *
fax_gateway_find(const struct fax_cfg *c, const char *name)
{
	if (!c || c->n == 0)
		return NULL;
	if (!name)
		return &c->gw[0];
	for (size_t i = 0; i < c->n; i++)
		if (c->gw[i].name && strcmp(c->gw[i].name, name) == 0)
			return &c->gw[i];
	return NULL;
}

void
fax_device_check(const void *cfg, const struct pg_device *dev, const char *file,
		 struct pg_diags *d)
{
	const struct fax_cfg *c = cfg;
	struct pg_fax_devopts o;
	const char *bad;
	size_t i, j;

	if (!fax_number_ok(dev->to))
		pg_diag_add(d, file, dev->line, "fax: \"to\" must be a fax number: an optional "
			    "'+' and 3 to 20 digits");
	if (dev->gateway && !fax_gateway_find(c, dev->gateway))
		pg_diag_add(d, file, dev->line, "fax: no fax gateway named \"%s\" in the daemon "
			    "configuration", dev->gateway);
	else if (!dev->gateway && (!c || c->n == 0))
		pg_diag_add(d, file, dev->line, "fax: no fax gateway is configured (a \"fax\" "
			    "list in the daemon configuration)");
	for (i = 0; i < dev->n_opts; i++) {
		for (j = 0; DEVICE_OPTS[j] && strcmp(DEVICE_OPTS[j], dev->opts[i].key) != 0; j++)
			;
		if (!DEVICE_OPTS[j])
			pg_diag_add(d, file, dev->line, "fax: unknown device option \"%s\" "
				    "(resolution, paper, coding)", dev->opts[i].key);
	}
	if ((bad = pg_fax_device_opts(dev, &o)) != NULL)
		pg_diag_add(d, file, dev->line, "fax: %s must be %s", bad,
			    strcmp(bad, "resolution") == 0 ? "\"fine\" or \"standard\"" :
			    strcmp(bad, "paper") == 0 ? "\"letter\" or \"a4\"" :
			    "\"mh\", \"mr\" or \"mmr\"");
}
