/*
 * email_priv.h - private to the email channel (chan_email.c): the TLS
 * client contexts it hands to libesmtp (email_tls.c).
 */
#ifndef PAGEGATE_EMAIL_PRIV_H
#define PAGEGATE_EMAIL_PRIV_H

#include <openssl/ssl.h>

#include "pagegate/config.h"

#define EMAIL_VERIFY_MAX 96         /* a certificate problem, as text */

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
