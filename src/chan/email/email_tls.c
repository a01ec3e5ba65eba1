/*
 * email_tls.c - the TLS client contexts of the email channel
 * (email_priv.h).  libesmtp would otherwise build one process-wide context
 * from files under the user's home directory; the driver gives each
 * session one of these instead (smtp_starttls_set_ctx), so what is trusted
 * is exactly the gateway's tls_ca or the system's CA store.
 *
 * The cache is a small array behind a mutex: a context is built outside
 * the lock (loading the system's store takes milliseconds), then shared by
 * reference count; a changed CA file gets a new context, and when every
 * slot is used the oldest is replaced (sessions keep their own reference).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "email_priv.h"

#define TLS_CACHE_MAX 16

struct tls_slot {
	char *host;
	char *ca;                   /* NULL = the system's CA store */
	struct timespec mtime;      /* of ca when it was loaded */
	off_t size;
	ino_t ino;
	SSL_CTX *ctx;               /* NULL = free slot */
};

struct email_tls_cache {
	pthread_mutex_t mu;         /* guards everything below */
	struct tls_slot slot[TLS_CACHE_MAX];
	size_t next;                /* replaced next when all are used */
};

int
email_tls_no_password(char *buf, int size, int rwflag, void *arg)
{
	(void)rwflag;
	(void)arg;
	if (size > 0)
		buf[0] = '\0';
	return 0;
}

static bool
is_ip_literal(const char *h)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

/* The last OpenSSL error of this thread as text; clears the queue. */
static const char *
ssl_error(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, n);
	else
		snprintf(buf, n, "no details");
	ERR_clear_error();
	return buf;
}

static SSL_CTX *
ctx_build(const struct pg_smtp_gateway *gw, char *why, size_t wlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *vp;
	char eb[200];

	if (!ctx) {
		snprintf(why, wlen, "TLS: cannot create a context: %s", ssl_error(eb, sizeof eb));
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_default_passwd_cb(ctx, email_tls_no_password);
	/* TLS 1.2 exactly: a TLS 1.3 server sends session tickets after the
	 * handshake, and libesmtp 1.1 (protocol.c) reads whenever the socket
	 * is readable, before it has flushed its EHLO: SSL_read consumes the
	 * tickets, then waits for the reply to a command never sent, until
	 * the timeout (1 session in 10 against aiosmtpd, 7 in 10 under
	 * strace).  TLS 1.2 sends nothing unasked after its handshake. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(why, wlen, "TLS: cannot select TLS 1.2: %s", ssl_error(eb, sizeof eb));
		goto fail;
	}
	if (gw->tls_ca ? SSL_CTX_load_verify_locations(ctx, gw->tls_ca, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(why, wlen, "TLS: cannot load %s%s: %s",
			 gw->tls_ca ? "tls_ca " : "the system's CA store",
			 gw->tls_ca ? gw->tls_ca : "", ssl_error(eb, sizeof eb));
		goto fail;
	}
	vp = SSL_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if ((is_ip_literal(gw->host) ? X509_VERIFY_PARAM_set1_ip_asc(vp, gw->host) :
	     X509_VERIFY_PARAM_set1_host(vp, gw->host, 0)) != 1) {
		snprintf(why, wlen, "TLS: cannot check certificates for \"%.100s\": %s",
			 gw->host, ssl_error(eb, sizeof eb));
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static bool
slot_matches(const struct tls_slot *t, const struct pg_smtp_gateway *gw,
	     const struct stat *st)
{
	if (!t->ctx || strcmp(t->host, gw->host) != 0)
		return false;
	if (!gw->tls_ca || !t->ca)
		return !gw->tls_ca && !t->ca;
	return strcmp(t->ca, gw->tls_ca) == 0 && t->ino == st->st_ino &&
	       t->size == st->st_size && t->mtime.tv_sec == st->st_mtim.tv_sec &&
	       t->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void
slot_clear(struct tls_slot *t)
{
	SSL_CTX_free(t->ctx);
	free(t->host);
	free(t->ca);
	memset(t, 0, sizeof *t);
}

/* Returns the matching slot's context with a new reference, or NULL.
 * Called with c->mu held. */
static SSL_CTX *
lookup(struct email_tls_cache *c, const struct pg_smtp_gateway *gw,
       const struct stat *st)
{
	size_t i;

	for (i = 0; i < TLS_CACHE_MAX; i++)
		if (slot_matches(&c->slot[i], gw, st) &&
		    SSL_CTX_up_ref(c->slot[i].ctx) == 1)
			return c->slot[i].ctx;
	return NULL;
}

SSL_CTX *
email_tls_ctx(struct email_tls_cache *c, const struct pg_smtp_gateway *gw,
	      char *why, size_t wlen)
{
	struct stat st;
	struct tls_slot *t;
	SSL_CTX *ctx, *had;
	char eb[128];
	size_t i;

	memset(&st, 0, sizeof st);
	if (gw->tls_ca && stat(gw->tls_ca, &st) != 0) {
		snprintf(why, wlen, "TLS: cannot read tls_ca %s: %s", gw->tls_ca,
			 strerror_r(errno, eb, sizeof eb));
		return NULL;
	}
	if (!c)
		return ctx_build(gw, why, wlen);
	pthread_mutex_lock(&c->mu);
	ctx = lookup(c, gw, &st);
	pthread_mutex_unlock(&c->mu);
	if (ctx || !(ctx = ctx_build(gw, why, wlen)))
		return ctx;

	pthread_mutex_lock(&c->mu);
	if ((had = lookup(c, gw, &st))) {       /* another worker was faster */
		pthread_mutex_unlock(&c->mu);
		SSL_CTX_free(ctx);
		return had;
	}
	for (i = 0; i < TLS_CACHE_MAX && c->slot[i].ctx; i++)
		;
	if (i == TLS_CACHE_MAX)
		i = c->next++ % TLS_CACHE_MAX;
	t = &c->slot[i];
	slot_clear(t);
	t->host = strdup(gw->host);
	t->ca = gw->tls_ca ? strdup(gw->tls_ca) : NULL;
	if (t->host && (t->ca || !gw->tls_ca) && SSL_CTX_up_ref(ctx) == 1) {
		t->ctx = ctx;
		t->ino = st.st_ino;
		t->size = st.st_size;
		t->mtime = st.st_mtim;
	} else
		slot_clear(t);                  /* not cached, still usable */
	pthread_mutex_unlock(&c->mu);
	return ctx;
}

struct email_tls_cache *
email_tls_cache_new(void)
{
	struct email_tls_cache *c = calloc(1, sizeof *c);

	if (c && pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
email_tls_cache_free(struct email_tls_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < TLS_CACHE_MAX; i++)
		slot_clear(&c->slot[i]);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
