/*
 * fax_priv.h - the fax driver's own configuration: the "fax" section of
 * pagegate.conf, a list of HylaFAX servers, and the SIP trunks of the
 * shared top-level "sip" list (../sip.h) (fax_config.c), used by
 * chan_fax.c.
 *
 *   sip = ( { name = "trunk"; proxy = "sip:192.0.2.10:5060"; ... t38 = true;
 *             ident = "+1 555 555 0000"; } );
 *   fax = (
 *     { name = "office-hylafax"; kind = "hylafax"; host = "fax.example.com";
 *       port = 4559; user = "pagegate"; password = "..."; timeout = "30s";
 *       poll = "1m"; max_dials = 3; max_tries = 3; }
 *   );
 * A device names its gateway (gateway = "trunk"); without one the first
 * of the fax list, else the first SIP trunk, takes it.  An entry of the
 * fax list with kind = "sip" and a trunk's settings (the older form) is
 * still a trunk, for the fax only, with a warning.
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
	/* owned strings the struct below points into */
	char *user, *password, *host;
	struct pg_sip_gw sip;        /* kind sip (the older form) */
	struct pg_fax_hylafax hyla;
	int poll_s;                  /* hylafax: job state poll interval */
};

struct fax_cfg {
	struct fax_gateway *gw;
	size_t n;
	struct pg_sip_cfg *trunks;   /* the top-level "sip" list */
};

/* channel.h's configuration slots for the "fax" section. */
extern const struct pg_key fax_config_keys[];
extern const struct pg_key fax_device_keys[];
extern const struct pg_keytab *const fax_config_tables[];
pg_err fax_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out);
void fax_config_free(void *cfg);
void fax_device_check(struct pg_conf *cx, const void *cfg, const struct pg_device *dev);
/* The gateway called name (NULL: the first of the fax list, else the
 * first SIP trunk): *sip for a SIP trunk, else *hyla for a HylaFAX
 * server.  false when there is none. */
bool fax_gateway_find(const struct fax_cfg *c, const char *name,
		      const struct pg_sip_gw **sip, const struct fax_gateway **hyla);

#endif
