/*
 * voice_config.c - the voice channel's settings (voice.h): the shared
 * "sip" list of trunks (../sip.h) and the "voice" section, and the check
 * of voice devices in client files.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voice.h"
#include "pagegate/util.h"

#define NAMES_MAX 64

static const struct pg_key section_keys[] = {
	{ "listen", PG_KT_STR, PG_AT(struct voice_cfg, listen), .lo = 9, .hi = 21,
	  .hint = "\"IP:PORT\" the voice mailbox answers calls on" },
	PG_KEY_END
};
static const struct pg_keytab section_tab = { "voice", section_keys, NULL };

const struct pg_key voice_config_keys[] = {
	{ .name = "voice", .type = PG_KT_GROUP },
	PG_KEY_END
};
const struct pg_keytab *const voice_config_tables[] = { &section_tab, NULL };

/* Checked only: the value reaches chan_voice.c as text. */
const struct pg_key voice_device_keys[] = {
	{ "language", PG_KT_STR, .lo = 2, .hi = 16,
	  .hint = "the language this person is called in, e.g. \"el\"" },
	PG_KEY_END
};

static void
free_any(void *c)
{
	voice_config_free(c);
}

/* "a.b.c.d:port" into its parts. */
static bool
split_listen(struct voice_cfg *c)
{
	const char *colon = strrchr(c->listen, ':');
	struct in_addr a;
	char *end;
	long port;

	if (!colon || !(c->listen_ip = strndup(c->listen, (size_t)(colon - c->listen))))
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535 ||
	    inet_pton(AF_INET, c->listen_ip, &a) != 1)
		return false;
	c->listen_port = (int)port;
	return true;
}

pg_err
voice_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out)
{
	const config_setting_t *g = pg_conf_section(cx, root, &voice_config_keys[0]);
	int before = cx->errors;
	struct voice_cfg *c;
	pg_err e;

	*out = NULL;
	if (pg_conf_has(root, "voice") && !g)
		return PG_ERR_CONFIG;                 /* of the wrong type: reported */
	if (!(c = calloc(1, sizeof *c)))
		return PG_ERR_NOMEM;
	if ((e = pg_sip_config_parse(cx, root, false, &c->trunks)) != PG_OK) {
		free(c);
		return e;
	}
	(void)pg_conf_apply(cx, g, &section_tab, c);
	if (c->listen && !split_listen(c))
		pg_conf_bad(cx, config_setting_get_member(g, "listen"), 0, "listen", c->listen,
			    NULL, "\"IP:PORT\" such as \"127.0.0.1:5070\"");
	return pg_conf_parsed(cx, before, c, free_any, out);
}

void
voice_config_free(void *cfg)
{
	struct voice_cfg *c = cfg;

	if (!c)
		return;
	pg_sip_config_free(c->trunks);
	pg_conf_release(&section_tab, c);
	free(c->listen_ip);
	free(c);
}

void
voice_device_check(struct pg_conf *cx, const void *cfg, const struct pg_device *dev)
{
	const struct voice_cfg *c = cfg;
	const char *names[NAMES_MAX + 1];

	if (dev->to && !pg_sip_number_ok(dev->to))
		pg_conf_bad(cx, NULL, dev->line, "voice number", dev->to, NULL,
			    "an optional '+' and 3 to 20 digits");
	if (dev->gateway && !pg_sip_gateway_find(c ? c->trunks : NULL, dev->gateway)) {
		pg_sip_gateway_names(c ? c->trunks : NULL, names, NAMES_MAX + 1);
		pg_conf_unknown(cx, NULL, dev->line, "sip gateway", dev->gateway, NULL, names);
	} else if (!dev->gateway && !pg_sip_gateway_find(c ? c->trunks : NULL, NULL)) {
		pg_conf_no_gateway(cx, dev->line, "voice", "sip gateway");
	}
}
