/*
 * sip_config.c - the top-level "sip" list of pagegate.conf: the SIP
 * trunks that the fax and voice channels share (sip.h).  Keys are
 * declared once in a table (config_keys.h); the checks here are the ones
 * a table cannot say: name characters, duplicates, SIP URIs, addresses.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sip.h"
#include "pagegate/util.h"

#define NAME_MAX_LEN   64
#define TEXT_MAX_LEN   255
#define CRED_MAX_LEN   128

#define GWT struct pg_sip_gw

/* kind = "sip": the fax list's older entries of this form */
static const char *const kind_names[] = { "sip", NULL };

static const struct pg_key gateway_keys[] = {
	{ "kind", PG_KT_ENUM, .lo = 0, .hi = 0, .names = kind_names },
	{ "name", PG_KT_STR, PG_KF_REQUIRED, PG_AT(GWT, name), .lo = 1, .hi = NAME_MAX_LEN },
	{ "proxy", PG_KT_STR, PG_KF_REQUIRED, PG_AT(GWT, proxy), .lo = 1,
	  .hi = TEXT_MAX_LEN, .hint = "\"sip:host[:port]\"" },
	{ "from", PG_KT_STR, PG_KF_REQUIRED, PG_AT(GWT, from), .lo = 1,
	  .hi = TEXT_MAX_LEN, .hint = "\"sip:user@domain\"" },
	{ "user", PG_KT_STR, PG_AT(GWT, user), .lo = 1, .hi = CRED_MAX_LEN },
	{ "password", PG_KT_STR, PG_AT(GWT, password), .lo = 1, .hi = CRED_MAX_LEN },
	{ "t38", PG_KT_BOOL, PG_AT(GWT, t38), .def = true },
	{ "watchdog", PG_KT_DUR, PG_AT(GWT, watchdog_s), .lo = 30, .hi = 3600, .def = 300 },
	{ "ring", PG_KT_DUR, PG_AT(GWT, ring_s), .lo = 5, .hi = 300, .def = 60 },
	{ "local_ip", PG_KT_STR, PG_AT(GWT, local_ip), .lo = 1, .hi = 15 },
	{ "ident", PG_KT_STR, PG_AT(GWT, ident), .lo = 1, .hi = PG_SIP_IDENT_MAX },
	PG_KEY_END
};
const struct pg_keytab pg_sip_gateway_tab = { "sip gateway", gateway_keys, NULL };

static const struct pg_key section_key = { .name = PG_SIP_SECTION, .type = PG_KT_LIST };

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
pg_sip_number_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	if (*s == '+')
		s++;
	n = strlen(s);
	return n >= 3 && n <= 20 && only(s, "0123456789");
}

void
pg_sip_gateway_parse(struct pg_conf *cx, const config_setting_t *g, struct pg_sip_gw *gw)
{
	struct in_addr a;

	gw->line = (int)config_setting_source_line(g);
	(void)pg_conf_apply(cx, g, &pg_sip_gateway_tab, gw);
	if (gw->name && !only(gw->name, HOST_CHARS "_"))
		pg_conf_bad(cx, config_setting_get_member(g, "name"), 0, "name", gw->name, NULL,
			    "letters, digits, '.', '-' and '_'");
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
}

void
pg_sip_gateway_release(struct pg_sip_gw *gw)
{
	if (gw->password)
		explicit_bzero(gw->password, strlen(gw->password));
	pg_conf_release(&pg_sip_gateway_tab, gw);
}

/* The list into c, reporting into cx. */
static void
parse_list(struct pg_conf *cx, const config_setting_t *section, struct pg_sip_cfg *c)
{
	int n = config_setting_length(section);

	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, section, i);
		struct pg_sip_gw *gw;

		if (!g)
			continue;
		gw = &c->gw[c->n++];
		pg_sip_gateway_parse(cx, g, gw);
		for (size_t j = 0; gw->name && c->gw + j < gw; j++)
			if (c->gw[j].name && strcmp(c->gw[j].name, gw->name) == 0)
				pg_conf_duplicate(cx, g, 0, "sip gateway", gw->name, NULL,
						  c->gw[j].line);
	}
}

static void
free_any(void *c)
{
	pg_sip_config_free(c);
}

pg_err
pg_sip_config_parse(struct pg_conf *cx, const config_setting_t *root, bool report,
		    struct pg_sip_cfg **out)
{
	struct pg_diags quiet_d;
	struct pg_conf quiet;
	struct pg_conf *use = cx;
	const config_setting_t *section;
	struct pg_sip_cfg *c;
	int n, before;
	pg_err e;

	*out = NULL;
	if (!report) {
		pg_diags_init(&quiet_d);
		pg_conf_init(&quiet, cx->file, &quiet_d);
		use = &quiet;
	}
	before = use->errors;
	section = pg_conf_section(use, root, &section_key);
	n = section ? config_setting_length(section) : 0;
	if (!(c = calloc(1, sizeof *c)) ||
	    (n > 0 && !(c->gw = calloc((size_t)n, sizeof *c->gw)))) {
		free(c);
		e = PG_ERR_NOMEM;
		goto out;
	}
	if (section)
		parse_list(use, section, c);
	if (report) {
		void *v = NULL;
		e = pg_conf_parsed(cx, before, c, free_any, &v);
		*out = v;
	} else {
		*out = c;
		e = PG_OK;
	}
out:
	if (!report) {
		pg_conf_done(&quiet);
		pg_diags_free(&quiet_d);
	}
	return e;
}

void
pg_sip_config_free(struct pg_sip_cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		pg_sip_gateway_release(&c->gw[i]);
	free(c->gw);
	free(c);
}

const struct pg_sip_gw *
pg_sip_gateway_find(const struct pg_sip_cfg *c, const char *name)
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

size_t
pg_sip_gateway_names(const struct pg_sip_cfg *c, const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; c && i < c->n && n + 1 < max; i++)
		if (c->gw[i].name)
			names[n++] = c->gw[i].name;
	if (max > 0)
		names[n] = NULL;
	return n;
}
