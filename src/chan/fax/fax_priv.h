/*
 * fax_priv.h - the fax driver's own configuration: the "fax" section of
 * pagegate.conf, a list of gateways (fax_config.c), used by chan_fax.c.
 *
 *   fax = (
 *     { name = "trunk"; kind = "sip"; proxy = "sip:192.0.2.10:5060";
 *       user = "pagegate"; password = "..."; from = "sip:fax@example.com";
 *       t38 = true; watchdog = "5m"; ring = "60s"; local_ip = "192.0.2.5";
 *       ident = "+1 555 555 0000"; },
 *     { name = "office-hylafax"; kind = "hylafax"; host = "fax.example.com";
 *       port = 4559; user = "pagegate"; password = "..."; timeout = "30s";
 *       poll = "1m"; max_dials = 3; max_tries = 3; }
 *   );
 * A device names its gateway (gateway = "trunk"); without one the first
 * gateway takes it.
 */
#ifndef PAGEGATE_FAX_PRIV_H
#define PAGEGATE_FAX_PRIV_H

#include <libconfig.h>

#include "pagegate/channel.h"
#include "fax.h"

enum fax_gw_kind { FAX_GW_SIP = 0, FAX_GW_HYLAFAX };

struct fax_gateway {
	char *name;
	enum fax_gw_kind kind;
	int line;
	/* owned strings the structs below point into */
	char *proxy, *user, *password, *from, *local_ip, *ident, *host;
	struct pg_fax_sip sip;
	struct pg_fax_hylafax hyla;
	int poll_s;                  /* hylafax: job state poll interval */
	int watchdog_s;              /* sip: as read (sip.watchdog_ms) */
};

struct fax_cfg {
	struct fax_gateway *gw;
	size_t n;
};

/* channel.h's configuration slots for the "fax" section. */
extern const struct pg_key fax_config_keys[];
extern const struct pg_key fax_device_keys[];
extern const struct pg_keytab *const fax_config_tables[];
pg_err fax_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out);
void fax_config_free(void *cfg);
void fax_device_check(struct pg_conf *cx, const void *cfg, const struct pg_device *dev);
/* The gateway called name, or the first one for NULL; NULL when none. */
const struct fax_gateway *fax_gateway_find(const struct fax_cfg *c, const char *name);
/* True for a number we dial: an optional "+" and 3 to 20 digits. */
bool fax_number_ok(const char *s);

#endif
