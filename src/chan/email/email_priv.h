/*
 * email_priv.h - private to the email channel: its configuration, the
 * "smtp" list and "default_smtp" of pagegate.conf (email_config.c), the
 * TLS client contexts it hands to libesmtp (email_tls.c), shared with
 * the driver (chan_email.c).  Only those files and the unit tests include
 * it.
 *
 *   smtp = ( { name = "relay"; host = "smtp.example.com"; port = 587;
 *              starttls = "required"; user = "pagegate"; password = "...";
 *              from = "pagegate@example.com"; from_name = "Answering Service";
 *              helo = "gw.example.com"; tls_ca = "ca.pem"; timeout = 30;
 *              batch = 20; } );
 *   default_smtp = "relay";         # else the first gateway
 */
#ifndef PAGEGATE_EMAIL_PRIV_H
#define PAGEGATE_EMAIL_PRIV_H

#include <openssl/ssl.h>

#include "pagegate/channel.h"

#define EMAIL_VERIFY_MAX 96         /* a certificate problem, as text */

/* ---- configuration (email_config.c) ---- */

enum pg_starttls { PG_TLS_OFF = 0, PG_TLS_OPPORTUNISTIC, PG_TLS_REQUIRED };

struct pg_smtp_gateway {
	char *name;
	char *host;
	int port;
	enum pg_starttls starttls;
	char *user;          /* NULL = no AUTH */
	char *password;
	char *from;          /* envelope and From: address */
	char *from_name;     /* display name for From:, may be NULL */
	char *helo;          /* NULL = system host name */
	char *tls_ca;        /* PEM file of CAs that verify the relay's
				certificate (relative to the config file);
				NULL = the system's CA store */
	int timeout_s;       /* per SMTP command */
	int batch;           /* messages per SMTP session, >= 1 */
	int line;
};

/* cfg->chan_cfg[PG_CH_EMAIL]: never NULL after a load. */
struct email_cfg {
	struct pg_smtp_gateway *gw;
	size_t n;
	char *default_name;  /* default_smtp; NULL = the first gateway */
};

/* The channel table's configuration slots. */
extern const struct pg_key email_config_keys[];
extern const struct pg_keytab *const email_config_tables[];
pg_err email_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out);
void email_config_free(void *cfg);
void email_device_check(struct pg_conf *cx, const void *cfg, const struct pg_device *dev);

/* The gateway called name, or the default one for name == NULL; NULL
 * when there is none.  cfg is the loaded configuration. */
const struct pg_smtp_gateway *email_gateway(const struct pg_config *cfg, const char *name);

/* ---- TLS (email_tls.c) ---- */

/* Client contexts per relay host and CA file, shared by all workers. */
struct email_tls_cache;

struct email_tls_cache *email_tls_cache_new(void);   /* NULL: no memory */
void email_tls_cache_free(struct email_tls_cache *c);

/* The client context for gw, with a reference the caller drops with
 * SSL_CTX_free(): TLS 1.2, trusting gw->tls_ca (else the system's CA
 * store), checking that the certificate names gw->host (a DNS name, or an
 * IP address for an IP literal).  The handshake never fails on
 * verification (SSL_VERIFY_NONE): the verdict is SSL_get_verify_result(),
 * which chan_email.c reads in libesmtp's event callback.  Taken from c
 * while the host and the CA file (path, inode, size, mtime) are unchanged;
 * c may be NULL (built afresh).  NULL with the reason in why when the CA
 * file cannot be read or used. */
SSL_CTX *email_tls_ctx(struct email_tls_cache *c, const struct pg_smtp_gateway *gw,
		       char *why, size_t wlen);

/* OpenSSL password callback answering "no password": a daemon must never
 * prompt on a terminal for a key's pass phrase. */
int email_tls_no_password(char *buf, int size, int rwflag, void *arg);

#endif
