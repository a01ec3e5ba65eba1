/*
 * email_config.c - the email channel's settings of pagegate.conf (the
 * "smtp" list of relays and "default_smtp", email_priv.h) and the check of
 * email devices in client files.  Keys are declared once, in a table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email_priv.h"
#include "pagegate/mime.h"

#define GW struct pg_smtp_gateway
#define NAMES_MAX 64

static const char *const starttls_names[] = { "off", "opportunistic", "required", NULL };

static const struct pg_key smtp_keys[] = {
	{ "name", PG_KT_STR, PG_KF_REQUIRED, PG_AT(GW, name) },
	{ "host", PG_KT_STR, PG_KF_REQUIRED, PG_AT(GW, host) },
	{ "port", PG_KT_INT, PG_AT(GW, port), .lo = 1, .hi = 65535, .def = 25 },
	{ "starttls", PG_KT_ENUM, PG_AT(GW, starttls), .lo = PG_TLS_OFF,
	  .hi = PG_TLS_REQUIRED, .def = PG_TLS_OPPORTUNISTIC, .names = starttls_names },
	{ "user", PG_KT_STR, PG_AT(GW, user) },
	{ "password", PG_KT_STR, PG_AT(GW, password) },
	{ "from", PG_KT_STR, PG_KF_REQUIRED, PG_AT(GW, from),
	  .hint = "the envelope and From: address" },
	{ "from_name", PG_KT_STR, PG_AT(GW, from_name) },
	{ "helo", PG_KT_STR, PG_AT(GW, helo) },
	{ "tls_ca", PG_KT_PATH, PG_KF_READABLE, PG_AT(GW, tls_ca) },
	{ "timeout", PG_KT_INT, PG_AT(GW, timeout_s), .lo = 1, .hi = 600, .def = 30 },
	{ "batch", PG_KT_INT, PG_AT(GW, batch), .lo = 1, .hi = 1000, .def = 20 },
	PG_KEY_END
};
static const struct pg_keytab smtp_tab = { "smtp gateway", smtp_keys, NULL };

const struct pg_key email_config_keys[] = {
	{ .name = "smtp", .type = PG_KT_LIST },
	{ .name = "default_smtp", .type = PG_KT_STR },
	PG_KEY_END
};
const struct pg_keytab *const email_config_tables[] = { &smtp_tab, NULL };

/* The gateway names of c, NULL-terminated, for "did you mean". */
static void names_of(const struct email_cfg *c, const char *names[NAMES_MAX + 1])
{
	size_t n = 0;

	for (size_t i = 0; c && i < c->n && n < NAMES_MAX; i++)
		if (c->gw[i].name)
			names[n++] = c->gw[i].name;
	names[n] = NULL;
}

static const struct pg_smtp_gateway *find(const struct email_cfg *c, const char *name)
{
	if (!c)
		return NULL;
	if (!name)
		name = c->default_name;
	if (!name)
		return c->n ? &c->gw[0] : NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->gw[i].name && strcmp(c->gw[i].name, name) == 0)
			return &c->gw[i];
	return NULL;
}

const struct pg_smtp_gateway *email_gateway(const struct pg_config *cfg, const char *name)
{
	return find(cfg ? cfg->chan_cfg[PG_CH_EMAIL] : NULL, name);
}

static void parse_gateway(struct pg_conf *cx, const config_setting_t *g,
			  struct email_cfg *c)
{
	struct pg_smtp_gateway *gw = &c->gw[c->n++];
	const config_setting_t *m;

	gw->line = (int)config_setting_source_line(g);
	pg_conf_apply(cx, g, &smtp_tab, gw);
	for (size_t j = 0; gw->name && j + 1 < c->n; j++)
		if (c->gw[j].name && strcmp(c->gw[j].name, gw->name) == 0)
			pg_conf_duplicate(cx, g, 0, "smtp gateway", gw->name, NULL,
					  c->gw[j].line);
	if (gw->from && !pg_mime_addr_ok(gw->from) && (m = config_setting_get_member(g, "from")))
		pg_conf_bad(cx, m, 0, "from", gw->from, NULL, "an address local@domain");
	if (!gw->user != !gw->password)
		pg_conf_together(cx, g, 0, "user", "password");
}

pg_err email_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out)
{
	const config_setting_t *list = pg_conf_section(cx, root, &email_config_keys[0]);
	const config_setting_t *dm = pg_conf_section(cx, root, &email_config_keys[1]);
	const char *names[NAMES_MAX + 1];
	struct email_cfg *c;
	int n = list ? config_setting_length(list) : 0, before = cx->errors;

	*out = NULL;
	if (!(c = calloc(1, sizeof *c)) || (n > 0 && !(c->gw = calloc((size_t)n, sizeof *c->gw)))) {
		free(c);
		return PG_ERR_NOMEM;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, list, i);
		if (g)
			parse_gateway(cx, g, c);
	}
	if (dm) {
		const char *v = config_setting_get_string(dm);
		names_of(c, names);
		if (!(c->default_name = strdup(v)))
			cx->nomem = true;
		else if (!find(c, v))
			pg_conf_unknown(cx, dm, 0, "smtp gateway", v, "in default_smtp", names);
	}
	return pg_conf_parsed(cx, before, c, email_config_free, out);
}

void email_config_free(void *cfg)
{
	struct email_cfg *c = cfg;

	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		pg_conf_release(&smtp_tab, &c->gw[i]);
	free(c->gw);
	free(c->default_name);
	free(c);
}

void email_device_check(struct pg_conf *cx, const void *cfg, const struct pg_device *dev)
{
	const struct email_cfg *c = cfg;
	const char *names[NAMES_MAX + 1];

	if (dev->to && !pg_mime_addr_ok(dev->to))
		pg_conf_bad(cx, NULL, dev->line, "email address", dev->to, NULL, "local@domain");
	if (dev->gateway && !find(c, dev->gateway)) {
		names_of(c, names);
		pg_conf_unknown(cx, NULL, dev->line, "smtp gateway", dev->gateway, NULL, names);
	} else if (!dev->gateway && !find(c, NULL)) {
		pg_conf_no_gateway(cx, dev->line, "email", "smtp gateway");
	}
}
