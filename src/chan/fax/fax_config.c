/*
 * fax_config.c - the "fax" section of pagegate.conf (a list of gateways,
 * see fax_priv.h) and the check of fax devices in client files.  Keys are
 * declared once in a table with their type, bounds, default and the
 * gateway kinds they belong to (config_keys.h); the checks here are the
 * ones a table cannot say: name characters, duplicates, SIP URIs.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fax_priv.h"
#include "pagegate/util.h"

#define NAME_MAX_LEN   64
#define TEXT_MAX_LEN   255
#define CRED_MAX_LEN   128
#define NAMES_MAX      64

#define GWT struct fax_gateway
#define SIP (1u << FAX_GW_SIP)
#define HYL (1u << FAX_GW_HYLAFAX)

static const char *const kind_names[] = { "sip", "hylafax", NULL };

static const struct pg_key gateway_keys[] = {
	{ "name", PG_KT_STR, PG_KF_REQUIRED, PG_AT(GWT, name), .lo = 1, .hi = NAME_MAX_LEN },
	{ "kind", PG_KT_ENUM, PG_KF_REQUIRED, PG_AT(GWT, kind), .lo = FAX_GW_SIP,
	  .hi = FAX_GW_HYLAFAX, .names = kind_names },
	{ "user", PG_KT_STR, 0, SIP, PG_AT(GWT, user), .lo = 1, .hi = CRED_MAX_LEN },
	{ "user", PG_KT_STR, PG_KF_REQUIRED, HYL, PG_AT(GWT, user), .lo = 1,
	  .hi = CRED_MAX_LEN, .hint = "letters, digits, '.', '-', '_', '@'" },
	{ "password", PG_KT_STR, PG_AT(GWT, password), .lo = 1, .hi = CRED_MAX_LEN },
	{ "proxy", PG_KT_STR, PG_KF_REQUIRED, SIP, PG_AT(GWT, proxy), .lo = 1,
	  .hi = TEXT_MAX_LEN, .hint = "\"sip:host[:port]\"" },
	{ "from", PG_KT_STR, PG_KF_REQUIRED, SIP, PG_AT(GWT, from), .lo = 1,
	  .hi = TEXT_MAX_LEN, .hint = "\"sip:user@domain\"" },
	{ "t38", PG_KT_BOOL, 0, SIP, PG_AT(GWT, sip.t38), .def = true },
	{ "watchdog", PG_KT_DUR, 0, SIP, PG_AT(GWT, watchdog_s), .lo = 30, .hi = 3600,
	  .def = 300 },
	{ "ring", PG_KT_DUR, 0, SIP, PG_AT(GWT, sip.ring_s), .lo = 5, .hi = 300, .def = 60 },
	{ "local_ip", PG_KT_STR, 0, SIP, PG_AT(GWT, local_ip), .lo = 1, .hi = 15 },
	{ "ident", PG_KT_STR, 0, SIP, PG_AT(GWT, ident), .lo = 1, .hi = PG_FAX_IDENT_MAX },
	{ "host", PG_KT_STR, PG_KF_REQUIRED, HYL, PG_AT(GWT, host), .lo = 1,
	  .hi = TEXT_MAX_LEN, .hint = "a name or address" },
	{ "port", PG_KT_INT, 0, HYL, PG_AT(GWT, hyla.port), .lo = 1, .hi = 65535,
	  .def = 4559 },
	{ "timeout", PG_KT_DUR, 0, HYL, PG_AT(GWT, hyla.timeout_s), .lo = 1, .hi = 300,
	  .def = 30 },
	{ "poll", PG_KT_DUR, 0, HYL, PG_AT(GWT, poll_s), .lo = 5, .hi = 3600, .def = 60 },
	{ "max_dials", PG_KT_INT, 0, HYL, PG_AT(GWT, hyla.max_dials), .lo = 1, .hi = 99,
	  .def = 3 },
	{ "max_tries", PG_KT_INT, 0, HYL, PG_AT(GWT, hyla.max_tries), .lo = 1, .hi = 99,
	  .def = 3 },
	PG_KEY_END
};
static const struct pg_keytab gateway_tab = { "fax gateway", gateway_keys, "kind" };

const struct pg_key fax_config_keys[] = {
	{ .name = "fax", .type = PG_KT_LIST },
	PG_KEY_END
};
const struct pg_keytab *const fax_config_tables[] = { &gateway_tab, NULL };

static const char *const res_names[] = { "fine", "standard", NULL };
static const char *const paper_names[] = { "letter", "a4", NULL };
static const char *const coding_names[] = { "mh", "mr", "mmr", NULL };

/* Checked only: the values reach chan_fax.c as text (pg_fax_device_opts). */
const struct pg_key fax_device_keys[] = {
	{ "resolution", PG_KT_ENUM, .lo = 0, .hi = 1, .names = res_names },
	{ "paper", PG_KT_ENUM, .lo = 0, .hi = 1, .names = paper_names },
	{ "coding", PG_KT_ENUM, .lo = 0, .hi = 2, .names = coding_names },
	PG_KEY_END
};

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

/* The sip gateway's own checks; its library view points into gw. */
static void
check_sip(struct pg_conf *cx, const config_setting_t *g, struct fax_gateway *gw)
{
	struct pg_fax_sip *s = &gw->sip;
	struct in_addr a;

	if (gw->proxy && !proxy_ok(gw->proxy))
		pg_conf_bad(cx, config_setting_get_member(g, "proxy"), 0, "proxy", gw->proxy,
			    NULL, "\"sip:host[:port]\"");
	if (gw->from && (strncmp(gw->from, "sip:", 4) != 0 || !strchr(gw->from, '@') ||
			 strpbrk(gw->from, " <>\"")))
		pg_conf_bad(cx, config_setting_get_member(g, "from"), 0, "from", gw->from,
			    NULL, "\"sip:user@domain\"");
	if (!gw->user != !gw->password)
		pg_conf_together(cx, g, 0, "user", "password");
	if (gw->local_ip && inet_pton(AF_INET, gw->local_ip, &a) != 1)
		pg_conf_bad(cx, config_setting_get_member(g, "local_ip"), 0, "local_ip",
			    gw->local_ip, NULL, "an IPv4 address");
	if (gw->ident && !only(gw->ident, "+0123456789 "))
		pg_conf_bad(cx, config_setting_get_member(g, "ident"), 0, "ident", gw->ident,
			    NULL, "digits, '+' and spaces (the fax station id)");
	s->watchdog_ms = (int64_t)gw->watchdog_s * 1000;
	s->name = gw->name;
	s->proxy = gw->proxy;
	s->user = gw->user;
	s->password = gw->password;
	s->from = gw->from;
	s->local_ip = gw->local_ip;
	s->ident = gw->ident;
}

static void
check_hylafax(struct pg_conf *cx, const config_setting_t *g, struct fax_gateway *gw)
{
	struct pg_fax_hylafax *h = &gw->hyla;

	if (gw->host && !only(gw->host, HOST_CHARS ":"))
		pg_conf_bad(cx, config_setting_get_member(g, "host"), 0, "host", gw->host,
			    NULL, "a name or address");
	if (gw->user && !only(gw->user, HOST_CHARS "_@"))
		pg_conf_bad(cx, config_setting_get_member(g, "user"), 0, "user", gw->user,
			    NULL, "letters, digits, '.', '-', '_', '@'");
	h->name = gw->name;
	h->host = gw->host;
	h->user = gw->user;
	h->password = gw->password;
}

static void
parse_gateway(struct pg_conf *cx, const config_setting_t *g, struct fax_cfg *c)
{
	struct fax_gateway *gw = &c->gw[c->n++];
	int kind;

	gw->line = (int)config_setting_source_line(g);
	kind = pg_conf_apply(cx, g, &gateway_tab, gw);
	if (gw->name && !only(gw->name, HOST_CHARS "_")) {
		pg_conf_bad(cx, config_setting_get_member(g, "name"), 0, "name", gw->name, NULL,
			    "letters, digits, '.', '-' and '_'");
	} else if (gw->name) {
		for (size_t j = 0; c->gw + j < gw; j++)
			if (c->gw[j].name && strcmp(c->gw[j].name, gw->name) == 0)
				pg_conf_duplicate(cx, g, 0, "fax gateway", gw->name, NULL,
						  c->gw[j].line);
	}
	if (kind == FAX_GW_SIP)
		check_sip(cx, g, gw);
	else if (kind == FAX_GW_HYLAFAX)
		check_hylafax(cx, g, gw);
}

pg_err
fax_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out)
{
	const config_setting_t *section = pg_conf_section(cx, root, &fax_config_keys[0]);
	int n, before = cx->errors;
	struct fax_cfg *c;

	*out = NULL;
	if (pg_conf_has(root, "fax") && !section)
		return PG_ERR_CONFIG;                 /* of the wrong type: reported */
	if (!(c = calloc(1, sizeof *c)))
		return PG_ERR_NOMEM;
	n = section ? config_setting_length(section) : 0;
	if (n > 0 && !(c->gw = calloc((size_t)n, sizeof *c->gw))) {
		free(c);
		return PG_ERR_NOMEM;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, section, i);
		if (g)
			parse_gateway(cx, g, c);
	}
	return pg_conf_parsed(cx, before, c, fax_config_free, out);
}

void
fax_config_free(void *cfg)
{
	struct fax_cfg *c = cfg;

	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct fax_gateway *g = &c->gw[i];
		if (g->password)
			explicit_bzero(g->password, strlen(g->password));
		pg_conf_release(&gateway_tab, g);
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
fax_device_check(struct pg_conf *cx, const void *cfg, const struct pg_device *dev)
{
	const struct fax_cfg *c = cfg;
	const char *names[NAMES_MAX + 1];
	size_t n = 0;

	if (dev->to && !fax_number_ok(dev->to))
		pg_conf_bad(cx, NULL, dev->line, "fax number", dev->to, NULL,
			    "an optional '+' and 3 to 20 digits");
	if (dev->gateway && !fax_gateway_find(c, dev->gateway)) {
		for (size_t i = 0; c && i < c->n && n < NAMES_MAX; i++)
			names[n++] = c->gw[i].name;
		names[n] = NULL;
		pg_conf_unknown(cx, NULL, dev->line, "fax gateway", dev->gateway, NULL, names);
	} else if (!dev->gateway && !fax_gateway_find(c, NULL)) {
		pg_conf_no_gateway(cx, dev->line, "fax", "fax gateway");
	}
}
