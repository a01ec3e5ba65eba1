/*
 * fax_config.c - the "fax" section of pagegate.conf (a list of gateways,
 * see fax_priv.h) with the shared "sip" list of trunks (../sip.h), and
 * the check of fax devices in client files.  Keys are declared once in a
 * table with their type, bounds, default and the gateway kinds they
 * belong to (config_keys.h); the checks here are the ones a table cannot
 * say: name characters, duplicates.
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
#define HYL (1u << FAX_GW_HYLAFAX)

static const char *const kind_names[] = { "sip", "hylafax", NULL };

static const struct pg_key gateway_keys[] = {
	{ "name", PG_KT_STR, PG_KF_REQUIRED, PG_AT(GWT, name), .lo = 1, .hi = NAME_MAX_LEN },
	{ "kind", PG_KT_ENUM, PG_KF_REQUIRED, PG_AT(GWT, kind), .lo = FAX_GW_SIP,
	  .hi = FAX_GW_HYLAFAX, .names = kind_names },
	{ "user", PG_KT_STR, PG_KF_REQUIRED, HYL, PG_AT(GWT, user), .lo = 1,
	  .hi = CRED_MAX_LEN, .hint = "letters, digits, '.', '-', '_', '@'" },
	{ "password", PG_KT_STR, 0, HYL, PG_AT(GWT, password), .lo = 1, .hi = CRED_MAX_LEN },
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

/* The fax declares the shared "sip" list too (the voice channel reads it
 * silently): its mistakes are reported once. */
const struct pg_key fax_config_keys[] = {
	{ .name = "fax", .type = PG_KT_LIST },
	{ .name = PG_SIP_SECTION, .type = PG_KT_LIST },
	PG_KEY_END
};
const struct pg_keytab *const fax_config_tables[] = { &gateway_tab, &pg_sip_gateway_tab,
						      NULL };

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

/* A name used twice across the fax list and the sip list. */
static void
check_name(struct pg_conf *cx, const config_setting_t *g, const struct fax_cfg *c,
	   const char *name, size_t upto)
{
	const struct pg_sip_gw *t = pg_sip_gateway_find(c->trunks, name);

	for (size_t j = 0; j < upto; j++) {
		const char *other = c->gw[j].kind == FAX_GW_SIP ? c->gw[j].sip.name :
			c->gw[j].name;
		if (other && strcmp(other, name) == 0) {
			pg_conf_duplicate(cx, g, 0, "fax gateway", name, NULL, c->gw[j].line);
			return;
		}
	}
	if (t)
		pg_conf_duplicate(cx, g, 0, "fax gateway", name, NULL, t->line);
}

static void
parse_gateway(struct pg_conf *cx, const config_setting_t *g, struct fax_cfg *c)
{
	struct fax_gateway *gw = &c->gw[c->n++];
	const char *kind = NULL;

	gw->line = (int)config_setting_source_line(g);
	if (config_setting_lookup_string(g, "kind", &kind) && strcmp(kind, "sip") == 0) {
		/* the older form: a trunk in the fax list */
		gw->kind = FAX_GW_SIP;
		pg_sip_gateway_parse(cx, g, &gw->sip);
		pg_conf_warn(cx, g, 0, "fax gateway \"%s\" of kind \"sip\": move it to the "
			     "top-level sip list, where voice calls can use it too",
			     gw->sip.name ? gw->sip.name : "");
		if (gw->sip.name)
			check_name(cx, g, c, gw->sip.name, c->n - 1);
		return;
	}
	if (pg_conf_apply(cx, g, &gateway_tab, gw) == FAX_GW_HYLAFAX)
		check_hylafax(cx, g, gw);
	if (gw->name && !only(gw->name, HOST_CHARS "_"))
		pg_conf_bad(cx, config_setting_get_member(g, "name"), 0, "name", gw->name, NULL,
			    "letters, digits, '.', '-' and '_'");
	else if (gw->name)
		check_name(cx, g, c, gw->name, c->n - 1);
}

pg_err
fax_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out)
{
	const config_setting_t *section = pg_conf_section(cx, root, &fax_config_keys[0]);
	int n, before = cx->errors;
	struct fax_cfg *c;

	pg_err e;

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
	if ((e = pg_sip_config_parse(cx, root, true, &c->trunks)) == PG_ERR_NOMEM) {
		fax_config_free(c);
		return e;
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
		if (g->kind == FAX_GW_SIP)
			pg_sip_gateway_release(&g->sip);
		if (g->password)
			explicit_bzero(g->password, strlen(g->password));
		pg_conf_release(&gateway_tab, g);
	}
	pg_sip_config_free(c->trunks);
	free(c->gw);
	free(c);
}

bool
fax_gateway_find(const struct fax_cfg *c, const char *name,
		 const struct pg_sip_gw **sip, const struct fax_gateway **hyla)
{
	*sip = NULL;
	*hyla = NULL;
	if (!c)
		return false;
	for (size_t i = 0; i < c->n; i++) {
		const struct fax_gateway *g = &c->gw[i];
		const char *gn = g->kind == FAX_GW_SIP ? g->sip.name : g->name;
		if (name && (!gn || strcmp(gn, name) != 0))
			continue;
		if (g->kind == FAX_GW_SIP)
			*sip = &g->sip;
		else
			*hyla = g;
		return true;
	}
	*sip = pg_sip_gateway_find(c->trunks, name);
	return *sip != NULL;
}

void
fax_device_check(struct pg_conf *cx, const void *cfg, const struct pg_device *dev)
{
	const struct fax_cfg *c = cfg;
	const char *names[NAMES_MAX + 1];
	const struct pg_sip_gw *sip;
	const struct fax_gateway *hyla;
	size_t n = 0;

	if (dev->to && !pg_sip_number_ok(dev->to))
		pg_conf_bad(cx, NULL, dev->line, "fax number", dev->to, NULL,
			    "an optional '+' and 3 to 20 digits");
	if (dev->gateway && !fax_gateway_find(c, dev->gateway, &sip, &hyla)) {
		for (size_t i = 0; c && i < c->n && n < NAMES_MAX; i++)
			names[n++] = c->gw[i].kind == FAX_GW_SIP ? c->gw[i].sip.name :
				c->gw[i].name;
		n += pg_sip_gateway_names(c ? c->trunks : NULL, names + n, NAMES_MAX + 1 - n);
		names[n] = NULL;
		pg_conf_unknown(cx, NULL, dev->line, "fax gateway", dev->gateway, NULL, names);
	} else if (!dev->gateway && !fax_gateway_find(c, NULL, &sip, &hyla)) {
		pg_conf_no_gateway(cx, dev->line, "fax", "fax gateway");
	}
}
