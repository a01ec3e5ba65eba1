/*
 * pager_config.c - the "pager" section of pagegate.conf and the check of
 * pager devices in client files (pager_priv.h).
 *
 *   pager = (
 *     { name = "metro-snpp"; kind = "snpp"; host = "snpp.example.net";
 *       port = 444; login = "acme"; password = "..."; timeout = 30;
 *       site = [ "JQUEUE YES" ]; ascii = false; max_length = 128; },
 *     { name = "carrier-wctp"; kind = "wctp"; url = "https://...";
 *       sender_id = "acme"; security_code = "..."; poll = "60s";
 *       push = false; },
 *     { name = "tap-modem"; kind = "tap"; device = "/dev/ttyS0";
 *       password = "000000"; speed = 1200; framing = "7E1";
 *       max_block = 250; dial = "5551234"; }
 *   );
 *
 * Keys are declared once in a table with the kinds they belong to, walked
 * by the configuration engine (config_keys.h); the checks here are what a
 * table cannot say (ASCII text, TAP speeds, dial strings, PINs).  A
 * device's PIN is its "pin" (channel.h address_key) or "to".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pager_priv.h"

#define NAME_MAX_LEN  64
#define TEXT_MAX_LEN  255
#define URL_MAX_LEN   1024
#define SITE_MAX      8
#define PIN_MAX_LEN   64
#define TAP_PIN_MAX   16
#define TAP_PASS_MAX  16
#define DIAL_MAX_LEN  40
#define TIMEOUT_MAX_S 600
#define POLL_MAX_S    86400
#define DEFAULT_POLL_S 60
#define DEFAULT_SNPP_PORT 444
#define DEFAULT_TAP_SPEED 1200
#define MIN_TAP_BLOCK 16

#define SNPP (1u << PAGER_SNPP)
#define WCTP (1u << PAGER_WCTP)
#define TAP  (1u << PAGER_TAP)
#define GW struct pager_gw
#define NAMES_MAX 64

static const char *const kind_names[] = { "snpp", "wctp", "tap", NULL };
static const char *const framing_names[] = { "8N1", "7E1", NULL };   /* seven_e1 */

static const struct pg_key gateway_keys[] = {
	{ "name", PG_KT_STR, PG_KF_REQUIRED, PG_AT(GW, name), .lo = 1, .hi = NAME_MAX_LEN },
	{ "kind", PG_KT_ENUM, PG_KF_REQUIRED, PG_AT(GW, kind), .lo = PAGER_SNPP,
	  .hi = PAGER_TAP, .names = kind_names },
	{ "timeout", PG_KT_DUR, PG_AT(GW, timeout_s), .lo = 1, .hi = TIMEOUT_MAX_S,
	  .def = PAGER_DEFAULT_TIMEOUT_S },
	{ "max_length", PG_KT_INT, PG_KF_KEEP, PG_AT(GW, max_length),
	  .lo = PAGER_MIN_MAXLEN, .hi = PAGER_MAX_MAXLEN },          /* 0 = none */
	{ "ascii", PG_KT_BOOL, 0, SNPP | WCTP, PG_AT(GW, ascii) },
	{ "host", PG_KT_STR, PG_KF_REQUIRED, SNPP, PG_AT(GW, host), .lo = 1,
	  .hi = TEXT_MAX_LEN },
	{ "port", PG_KT_INT, 0, SNPP, PG_AT(GW, port), .lo = 1, .hi = 65535,
	  .def = DEFAULT_SNPP_PORT },
	{ "login", PG_KT_STR, 0, SNPP, PG_AT(GW, login), .lo = 1, .hi = NAME_MAX_LEN },
	{ "password", PG_KT_STR, 0, SNPP, PG_AT(GW, password), .lo = 1, .hi = NAME_MAX_LEN },
	{ "password", PG_KT_STR, 0, TAP, PG_AT(GW, password), .lo = 1, .hi = TAP_PASS_MAX },
	{ "site", PG_KT_STRS, 0, SNPP, PG_AT_N(GW, site, n_site), .lo = 0, .hi = SITE_MAX },
	{ "url", PG_KT_STR, PG_KF_REQUIRED, WCTP, PG_AT(GW, url), .lo = 1, .hi = URL_MAX_LEN },
	{ "sender_id", PG_KT_STR, PG_KF_REQUIRED, WCTP, PG_AT(GW, sender_id), .lo = 1,
	  .hi = TEXT_MAX_LEN },
	{ "security_code", PG_KT_STR, 0, WCTP, PG_AT(GW, security_code), .lo = 1,
	  .hi = TEXT_MAX_LEN },
	{ "poller_id", PG_KT_STR, 0, WCTP, PG_AT(GW, poller_id), .lo = 1, .hi = TEXT_MAX_LEN },
	{ "poll", PG_KT_DUR, 0, WCTP, PG_AT(GW, poll_s), .lo = 0, .hi = POLL_MAX_S,
	  .def = DEFAULT_POLL_S },
	{ "ca_file", PG_KT_PATH, 0, WCTP, PG_AT(GW, ca_file), .lo = 1, .hi = URL_MAX_LEN },
	{ "push", PG_KT_BOOL, 0, WCTP, PG_AT(GW, push) },
	{ "device", PG_KT_STR, PG_KF_REQUIRED, TAP, PG_AT(GW, device), .lo = 1,
	  .hi = TEXT_MAX_LEN, .hint = "e.g. \"/dev/ttyS0\"" },
	{ "speed", PG_KT_INT, 0, TAP, PG_AT(GW, speed), .lo = 300, .hi = 115200,
	  .def = DEFAULT_TAP_SPEED },
	{ "framing", PG_KT_ENUM, 0, TAP, PG_AT(GW, seven_e1), .lo = 0, .hi = 1, .def = 1,
	  .names = framing_names },
	{ "max_block", PG_KT_INT, 0, TAP, PG_AT(GW, max_block), .lo = MIN_TAP_BLOCK,
	  .hi = PAGER_TAP_BLOCK_MAX, .def = PAGER_TAP_BLOCK_MAX },
	{ "dial", PG_KT_STR, 0, TAP, PG_AT(GW, dial), .lo = 1, .hi = DIAL_MAX_LEN },
	PG_KEY_END
};
static const struct pg_keytab gateway_tab = { "pager gateway", gateway_keys, "kind" };

const struct pg_key pager_config_keys[] = {
	{ .name = "pager", .type = PG_KT_LIST },
	PG_KEY_END
};
const struct pg_keytab *const pager_config_tables[] = { &gateway_tab, NULL };

/* Checked only: the value reaches pager_maxlen as text. */
const struct pg_key pager_device_keys[] = {
	{ "max_length", PG_KT_INT, .lo = PAGER_MIN_MAXLEN, .hi = PAGER_MAX_MAXLEN },
	PG_KEY_END
};

static const int tap_speeds[] = { 300, 1200, 2400, 4800, 9600, 19200, 38400,
				  57600, 115200 };

/* True for printable ASCII characters only, optionally with spaces. */
static bool
text_ok(const char *s, bool spaces)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x21 || c > 0x7e)
			if (!(spaces && c == ' '))
				return false;
	}
	return true;
}

/* The string settings of a gateway speak ASCII to the far end. */
static void
check_ascii(struct pg_conf *cx, const config_setting_t *g, const char *name,
	    const char *v, bool spaces)
{
	if (v && !text_ok(v, spaces))
		pg_conf_bad(cx, config_setting_get_member(g, name), 0, name, v, NULL,
			    "printable ASCII characters%s", spaces ? "" : " without spaces");
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

void
pager_gw_clear(struct pager_gw *g)
{
	size_t i;

	free(g->name); free(g->host); free(g->login); free(g->password);
	for (i = 0; i < g->n_site; i++)
		free(g->site[i]);
	free(g->site);
	free(g->url); free(g->sender_id); free(g->security_code);
	free(g->poller_id); free(g->ca_file); free(g->device); free(g->dial);
	memset(g, 0, sizeof *g);
}

/* strdup for optional strings: *ok turns false when memory runs out. */
static char *
dup_opt(const char *s, bool *ok)
{
	char *r;

	if (!s)
		return NULL;
	if (!(r = strdup(s)))
		*ok = false;
	return r;
}

pg_err
pager_gw_copy(struct pager_gw *dst, const struct pager_gw *src)
{
	bool ok = true;
	size_t i;

	*dst = *src;
	dst->name = dup_opt(src->name, &ok);
	dst->host = dup_opt(src->host, &ok);
	dst->login = dup_opt(src->login, &ok);
	dst->password = dup_opt(src->password, &ok);
	dst->url = dup_opt(src->url, &ok);
	dst->sender_id = dup_opt(src->sender_id, &ok);
	dst->security_code = dup_opt(src->security_code, &ok);
	dst->poller_id = dup_opt(src->poller_id, &ok);
	dst->ca_file = dup_opt(src->ca_file, &ok);
	dst->device = dup_opt(src->device, &ok);
	dst->dial = dup_opt(src->dial, &ok);
	dst->site = NULL;
	dst->n_site = 0;
	if (src->n_site && (dst->site = calloc(src->n_site, sizeof *dst->site)))
		for (i = 0; i < src->n_site; i++, dst->n_site++)
			dst->site[i] = dup_opt(src->site[i], &ok);
	else if (src->n_site)
		ok = false;
	if (!ok) {
		pager_gw_clear(dst);
		return PG_ERR_NOMEM;
	}
	return PG_OK;
}

/* What the table cannot say about gateway g of kind gw->kind. */
static void
check_gateway(struct pg_conf *cx, const config_setting_t *g, struct pager_gw *gw)
{
	size_t i;

	switch (gw->kind) {
	case PAGER_SNPP:
		check_ascii(cx, g, "host", gw->host, false);
		check_ascii(cx, g, "login", gw->login, false);
		check_ascii(cx, g, "password", gw->password, false);
		if (gw->password && !gw->login)
			pg_conf_error(cx, config_setting_get_member(g, "password"), 0,
				      "\"password\" needs a \"login\" (SNPP LOGIn <login> "
				      "<password>)");
		for (i = 0; i < gw->n_site; i++)
			if (strlen(gw->site[i]) > TEXT_MAX_LEN || !text_ok(gw->site[i], true))
				pg_conf_bad(cx, config_setting_get_elem(config_setting_get_member(
					    g, "site"), (unsigned)i), 0, "site", gw->site[i], NULL,
					    "printable ASCII text");
		break;
	case PAGER_WCTP:
		if (gw->url && strncmp(gw->url, "https://", 8) != 0 &&
		    strncmp(gw->url, "http://", 7) != 0)
			pg_conf_bad(cx, config_setting_get_member(g, "url"), 0, "url", gw->url,
				    NULL, "https://... (or http://...)");
		else
			check_ascii(cx, g, "url", gw->url, false);
		check_ascii(cx, g, "sender_id", gw->sender_id, false);
		check_ascii(cx, g, "security_code", gw->security_code, false);
		check_ascii(cx, g, "poller_id", gw->poller_id, false);
		break;
	case PAGER_TAP:
		if (gw->device && gw->device[0] != '/')
			pg_conf_bad(cx, config_setting_get_member(g, "device"), 0, "device",
				    gw->device, NULL, "an absolute path like /dev/ttyS0");
		else
			check_ascii(cx, g, "device", gw->device, false);
		check_ascii(cx, g, "password", gw->password, false);
		for (i = 0; i < sizeof tap_speeds / sizeof tap_speeds[0]; i++)
			if (tap_speeds[i] == gw->speed)
				break;
		if (i == sizeof tap_speeds / sizeof tap_speeds[0])
			pg_conf_bad(cx, config_setting_get_member(g, "speed"), 0, "speed", NULL,
				    NULL, "300, 1200, 2400, 4800, 9600, 19200, 38400, 57600 or "
				    "115200");
		if (gw->dial && strspn(gw->dial, "0123456789*#,+PTWptw") != strlen(gw->dial))
			pg_conf_bad(cx, config_setting_get_member(g, "dial"), 0, "dial", gw->dial,
				    NULL, "digits and , * # + P T W");
		gw->ascii = true;
		break;
	default:
		break;
	}
}

static void
parse_gateway(struct pg_conf *cx, const config_setting_t *g, struct pager_cfg *pc)
{
	struct pager_gw *gw = &pc->gw[pc->n];
	const struct pager_gw *old;
	int kind;

	memset(gw, 0, sizeof *gw);
	gw->line = (int)config_setting_source_line(g);
	kind = pg_conf_apply(cx, g, &gateway_tab, gw);
	if (gw->name && !name_ok(gw->name))
		pg_conf_bad(cx, config_setting_get_member(g, "name"), 0, "name", gw->name, NULL,
			    "lower-case letters, digits, '.', '-' and '_'");
	else if (gw->name && (old = pager_gw_find(pc, gw->name)))
		pg_conf_duplicate(cx, config_setting_get_member(g, "name"), 0, "pager gateway",
				  gw->name, NULL, old->line);
	if (!gw->name || kind < 0) {
		pager_gw_clear(gw);
		return;
	}
	check_gateway(cx, g, gw);
	pc->n++;
}

pg_err
pager_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out)
{
	const config_setting_t *section = pg_conf_section(cx, root, &pager_config_keys[0]);
	struct pager_cfg *pc;
	int n, before = cx->errors;

	*out = NULL;
	if (!section)
		return pg_conf_has(root, "pager") ? PG_ERR_CONFIG : PG_OK;
	n = config_setting_length(section);
	if (!(pc = calloc(1, sizeof *pc)) ||
	    (n > 0 && !(pc->gw = calloc((size_t)n, sizeof *pc->gw)))) {
		free(pc);
		return PG_ERR_NOMEM;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, section, i);
		if (g)
			parse_gateway(cx, g, pc);
	}
	return pg_conf_parsed(cx, before, pc, pager_config_free, out);
}

void
pager_config_free(void *chan_cfg)
{
	struct pager_cfg *pc = chan_cfg;

	if (!pc)
		return;
	for (size_t i = 0; i < pc->n; i++)
		pager_gw_clear(&pc->gw[i]);
	free(pc->gw);
	free(pc);
}

const struct pager_gw *
pager_gw_find(const struct pager_cfg *c, const char *name)
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

bool
pager_pin_ok(enum pager_kind k, const char *pin)
{
	size_t n;

	if (!pin)
		return false;
	n = strlen(pin);
	if (k == PAGER_TAP) {
		if (n == 0 || n > TAP_PIN_MAX)
			return false;
		for (; *pin; pin++)
			if (!isalnum((unsigned char)*pin))
				return false;
		return true;
	}
	return n > 0 && n <= PIN_MAX_LEN && text_ok(pin, false);
}

/* Parses a device option as a whole decimal number; -1 when it is not. */
static long
opt_number(const char *v)
{
	char *end;
	long r;

	if (!v || !isdigit((unsigned char)v[0]) || strlen(v) > 9)
		return -1;
	r = strtol(v, &end, 10);
	return *end ? -1 : r;
}

size_t
pager_maxlen(const struct pager_gw *gw, const struct pg_device *dev)
{
	long v = dev ? opt_number(pg_device_opt(dev, "max_length")) : -1;
	size_t n = v >= PAGER_MIN_MAXLEN && v <= PAGER_MAX_MAXLEN ? (size_t)v :
		   PAGER_DEFAULT_MAXLEN;

	if (gw && gw->kind != PAGER_SNPP && gw->max_length > 0 && (size_t)gw->max_length < n)
		n = (size_t)gw->max_length;
	return n;
}

void
pager_device_check(struct pg_conf *cx, const void *chan_cfg, const struct pg_device *dev)
{
	const struct pager_cfg *pc = chan_cfg;
	const struct pager_gw *gw;
	const char *names[NAMES_MAX + 1];
	char ctx[NAME_MAX_LEN + 32];
	size_t n = 0;

	if (!pc || pc->n == 0) {
		pg_conf_no_gateway(cx, dev->line, "pager", "pager gateway");
		return;
	}
	if (!(gw = pager_gw_find(pc, dev->gateway))) {
		for (size_t i = 0; i < pc->n && n < NAMES_MAX; i++)
			names[n++] = pc->gw[i].name;
		names[n] = NULL;
		pg_conf_unknown(cx, NULL, dev->line, "pager gateway", dev->gateway, NULL, names);
		return;
	}
	snprintf(ctx, sizeof ctx, "for %s gateway \"%s\"", kind_names[gw->kind], gw->name);
	if (dev->to && !pager_pin_ok(gw->kind, dev->to))
		pg_conf_bad(cx, NULL, dev->line, "pager PIN", dev->to, ctx,
			    gw->kind == PAGER_TAP ? "1 to 16 letters or digits" :
			    "1 to 64 printable characters without spaces");
}
