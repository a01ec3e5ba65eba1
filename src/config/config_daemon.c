/*
 * config_daemon.c - the daemon file, pagegate.conf: its own settings
 * (listen, port, store, operators, retry ...) declared in key tables, and
 * each channel driver's settings ("smtp", "sms", "fax" ...) handed to the
 * driver's config_parse through the registry - this file names no
 * channel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "config_priv.h"
#include "pagegate/ack_link.h"
#include "pagegate/channel.h"
#include "pagegate/content.h"
#include "pagegate/util.h"

#define STORE_MAX_MB  (16 * 1024 * 1024)
#define RETRY_MAX_S   (366 * 86400)
#define DSN_SQLITE    "sqlite:"

#define CFG struct pg_config

static const struct pg_key store_keys[] = {
	{ "dsn", PG_KT_STR, .hint = "e.g. \"sqlite:var/pagegate.db\"" },
	{ .name = "path", .type = PG_KT_STR },                        /* deprecated: dsn */
	{ "max_mb", PG_KT_INT, PG_AT(CFG, store_max_mb), .lo = 0, .hi = STORE_MAX_MB },
	PG_KEY_END
};
static const struct pg_keytab store_tab = { "store", store_keys, NULL };

static const struct pg_key console_keys[] = {
	{ "dir", PG_KT_PATH, PG_KF_READABLE, PG_AT(CFG, console_dir),
	  .hint = "a directory of the console's files" },
	{ "idle", PG_KT_DUR, PG_AT(CFG, console_idle_s), .lo = 1, .hi = 7 * 86400,
	  .def = 30 * 60 },
	{ "max_streams", PG_KT_INT, PG_AT(CFG, console_max_streams), .lo = 1, .hi = 256,
	  .def = 64 },
	PG_KEY_END
};
static const struct pg_keytab console_tab = { "console", console_keys, NULL };

static const struct pg_key daemon_keys[] = {
	{ .name = "listen", .type = PG_KT_STR },
	{ "port", PG_KT_INT, PG_AT(CFG, port), .lo = 1, .hi = 65535, .def = 8025 },
	{ .name = "public_url", .type = PG_KT_STR },
	{ "ack_link_ttl", PG_KT_DUR, PG_AT(CFG, ack_link_ttl_s), .lo = 1,
	  .hi = PG_ACK_LINK_TTL_MAX_S, .def = PG_ACK_LINK_TTL_DEFAULT_S },
	{ "store", PG_KT_GROUP, PG_KF_REQUIRED, .sub = &store_tab,
	  .hint = "store = { dsn = \"sqlite:var/pagegate.db\"; }" },
	{ "templates", PG_KT_PATH, PG_KF_REQUIRED, PG_AT(CFG, templates_dir),
	  .hint = "the directory of default templates" },
	{ "clients", PG_KT_PATH, PG_AT(CFG, clients_dir), .defs = "clients" },
	{ "max_body", PG_KT_INT, PG_AT(CFG, max_body), .lo = 1024, .hi = 16777216,
	  .def = 65536 },
	{ "workers", PG_KT_INT, PG_AT(CFG, workers), .lo = 1, .hi = 64, .def = 4 },
	{ "max_per_address", PG_KT_INT, PG_AT(CFG, max_per_address), .lo = 1, .hi = 512,
	  .def = 32 },
	{ "head_timeout", PG_KT_DUR, PG_AT(CFG, head_timeout_s), .lo = 1, .hi = 600,
	  .def = 10 },
	{ "body_timeout", PG_KT_DUR, PG_AT(CFG, body_timeout_s), .lo = 1, .hi = 3600,
	  .def = 60 },
	{ "tls_cert", PG_KT_PATH, PG_KF_READABLE, PG_AT(CFG, tls_cert),
	  .hint = "the server's certificate (and chain), PEM" },
	{ "tls_key", PG_KT_PATH, PG_KF_READABLE, PG_AT(CFG, tls_key),
	  .hint = "the private key of tls_cert, PEM (unencrypted)" },
	{ "console", PG_KT_GROUP, .sub = &console_tab },
	{ .name = "operators", .type = PG_KT_LIST },
	{ .name = "retry", .type = PG_KT_GROUP },
	{ .name = "callback", .type = PG_KT_STR },
	{ "node", PG_KT_STR, PG_AT(CFG, node) },
	{ "node_lease", PG_KT_DUR, PG_AT(CFG, node_lease_s), .lo = 1, .hi = 3600,
	  .def = 30 },
	{ "node_channels", PG_KT_STRS, PG_AT_N(CFG, node_channels, n_node_channels),
	  .lo = 1, .hi = PG_CH__COUNT,
	  .hint = "the channels this node sends, e.g. [ \"email\", \"sms\" ]" },
	PG_KEY_END
};
const struct pg_keytab config__daemon_tab = { NULL, daemon_keys, NULL };

static const struct pg_key operator_keys[] = {
	{ "name", PG_KT_STR, PG_KF_REQUIRED | PG_KF_NAME, PG_AT(struct pg_operator, name) },
	{ "token_sha256", PG_KT_STR, PG_KF_REQUIRED,
	  .hint = "the SHA-256 of the token; see pagegate hash-token" },
	PG_KEY_END
};
const struct pg_keytab config__operator_tab = { "operator", operator_keys, NULL };

#define RETRY_DUR(n, f) { n, PG_KT_DUR, PG_KF_KEEP, \
	PG_AT(struct pg_retry_policy, f), .lo = 1, .hi = RETRY_MAX_S }
static const struct pg_key retry_keys[] = {
	RETRY_DUR("base", base_s), RETRY_DUR("cap", cap_s), RETRY_DUR("give_up", give_up_s),
	PG_KEY_END
};
const struct pg_keytab config__retry_tab = { "retry", retry_keys, NULL };

/* ---- channels ---- */

void config__channel_names(const char *names[PG_CH__COUNT + 1])
{
	size_t n = 0;

	for (int k = 0; k < PG_CH__COUNT; k++)
		if (pg_channel_for((enum pg_channel_kind)k))
			names[n++] = pg_channel_name((enum pg_channel_kind)k);
	names[n] = NULL;
}

int config__channel(const char *name)
{
	for (int k = 0; name && k < PG_CH__COUNT; k++)
		if (strcmp(pg_channel_name((enum pg_channel_kind)k), name) == 0)
			return k;
	return -1;
}

/* The daemon file's table plus every driver's top-level settings (known
 * here, checked by their driver) and the sections of channels not built
 * (reported by load_channels); NULL on no memory. */
static struct pg_key *daemon_keys_all(void)
{
	size_t n = sizeof daemon_keys / sizeof daemon_keys[0];
	struct pg_key *v;

	for (int k = 0; k < PG_CH__COUNT; k++) {
		const struct pg_channel *drv = pg_channel_for((enum pg_channel_kind)k);
		for (size_t i = 0; drv && drv->config_keys && drv->config_keys[i].name; i++)
			n++;
		n += !drv;
	}
	if (!(v = calloc(n, sizeof *v)))
		return NULL;
	n = 0;
	for (size_t i = 0; daemon_keys[i].name; i++)
		v[n++] = daemon_keys[i];
	for (int k = 0; k < PG_CH__COUNT; k++) {
		const struct pg_channel *drv = pg_channel_for((enum pg_channel_kind)k);
		if (!drv && k != PG_CH_MAILBOX)
			v[n++] = (struct pg_key){ .name = pg_channel_name((enum pg_channel_kind)k),
						  .type = PG_KT_GROUP, .flags = PG_KF_ELSEWHERE };
		for (size_t i = 0; drv && drv->config_keys && drv->config_keys[i].name; i++) {
			v[n] = (struct pg_key){ .name = drv->config_keys[i].name,
						.type = drv->config_keys[i].type,
						.flags = PG_KF_ELSEWHERE };
			n++;
		}
	}
	return v;
}

/* Hands the settings of each driver to its config_parse; a section of a
 * channel that is not built is an error.  The driver reports into the
 * same context. */
static void load_channels(struct loader *ld, const config_setting_t *root)
{
	struct pg_conf *cx = ld->cx;

	for (int k = 0; k < PG_CH__COUNT; k++) {
		const char *name = pg_channel_name((enum pg_channel_kind)k);
		const struct pg_channel *drv = pg_channel_for((enum pg_channel_kind)k);
		if (!drv) {
			const config_setting_t *sec = config_setting_get_member(root, name);
			if (sec && k != PG_CH_MAILBOX)
				pg_conf_error(cx, sec, 0, "channel \"%s\" is not available "
					      "in this build", name);
			continue;
		}
		if (!drv->config_parse)
			continue;
		int before = cx->errors;
		pg_err e = drv->config_parse(cx, root, &ld->c->chan_cfg[k]);
		if (e == PG_ERR_NOMEM)
			cx->nomem = true;
		else if (e != PG_OK && cx->errors == before)
			pg_conf_error(cx, NULL, 0, "%s settings are invalid", name);
		ld->chan_bad[k] = e != PG_OK || cx->errors > before;
	}
}

/* ---- the daemon's own settings ---- */

static void load_operators(struct loader *ld, const config_setting_t *list)
{
	struct pg_conf *cx = ld->cx;
	struct pg_config *c = ld->c;
	int n = list ? config_setting_length(list) : 0;

	if (n == 0) {
		pg_conf_error(cx, list, 0, "no operators: at least one is needed to use the API");
		return;
	}
	if (!(c->operators = calloc((size_t)n, sizeof *c->operators))) {
		cx->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, list, i);
		if (!g)
			continue;
		struct pg_operator *op = &c->operators[c->n_operators++];
		op->line = (int)config_setting_source_line(g);
		pg_conf_apply(cx, g, &config__operator_tab, op);
		for (size_t j = 0; op->name && j + 1 < c->n_operators; j++)
			if (c->operators[j].name && strcmp(c->operators[j].name, op->name) == 0)
				pg_conf_duplicate(cx, g, 0, "operator name", op->name, NULL,
						  c->operators[j].line);
		const config_setting_t *h = pg_conf_member(g, &config__operator_tab, 0,
							   "token_sha256");
		if (!h)
			continue;
		const char *hex = config_setting_get_string(h);
		bool ok = strlen(hex) == 64;
		for (size_t j = 0; ok && j < 64; j++) {
			char ch = hex[j];
			ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
			     (ch >= 'A' && ch <= 'F');
			op->token_sha256[j] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
		}
		if (!ok) {
			memset(op->token_sha256, 0, sizeof op->token_sha256);
			pg_conf_bad(cx, h, 0, "token_sha256", NULL, NULL, "64 hexadecimal "
				    "characters (the SHA-256 of the token; see pagegate hash-token)");
			continue;
		}
		/* One token, one operator: the ledger names who entered what. */
		for (size_t j = 0; j + 1 < c->n_operators; j++)
			if (strcmp(c->operators[j].token_sha256, op->token_sha256) == 0)
				pg_conf_error(cx, h, 0, "operator \"%s\" has the same token as "
					      "\"%s\" (line %d)", op->name ? op->name : "",
					      c->operators[j].name ? c->operators[j].name : "",
					      c->operators[j].line);
	}
}

/* retry = { email = { base = "30s"; cap = "30m"; give_up = "24h"; }; ... }:
 * each channel's policy starts from its driver's default. */
static void load_retry(struct loader *ld, const config_setting_t *r)
{
	static const struct pg_retry_policy dflt = PG_RETRY_DEFAULT;
	struct pg_conf *cx = ld->cx;
	struct pg_config *c = ld->c;
	const char *chans[PG_CH__COUNT + 1];
	char b1[24], b2[24];

	for (int ch = 0; ch < PG_CH__COUNT; ch++) {
		const struct pg_channel *drv = pg_channel_for((enum pg_channel_kind)ch);
		c->retry[ch] = drv && drv->retry.base_s ? drv->retry : dflt;
	}
	if (!r)
		return;
	config__channel_names(chans);
	int n = config_setting_length(r);
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(r, (unsigned)i);
		const char *name = config_setting_name(g);
		int ch = config__channel(name);
		if (ch < 0) {
			pg_conf_unknown(cx, g, 0, "channel", name, "in retry", chans);
			continue;
		}
		if (ch == PG_CH_MAILBOX) {
			pg_conf_error(cx, g, 0, "the mailbox has no retries: its messages wait "
				      "until retrieved");
			continue;
		}
		if (!config_setting_is_group(g)) {
			pg_conf_error(cx, g, 0, "\"%s\" must be a group { base = \"30s\"; cap = "
				      "\"30m\"; give_up = \"24h\"; }, not a value", name);
			continue;
		}
		struct pg_retry_policy *p = &c->retry[ch];
		pg_conf_apply(cx, g, &config__retry_tab, p);
		if (p->base_s > p->cap_s)
			pg_conf_error(cx, g, 0, "retry %s: base (%s) is larger than cap (%s)",
				      name, config__dur_text(p->base_s, b1),
				      config__dur_text(p->cap_s, b2));
	}
}

/* store = { dsn = "sqlite:var/pagegate.db"; max_mb = 0; }: a sqlite: path
 * is relative to this file's directory; another backend's DSN (one with
 * "://") is passed on as written.  The old store.path is read as a
 * sqlite: DSN with a deprecation warning. */
static void load_store(struct loader *ld, const config_setting_t *root)
{
	static const char *const schemes[] = { "sqlite", NULL };
	struct pg_conf *cx = ld->cx;
	const config_setting_t *st = pg_conf_member(root, &config__daemon_tab, 0, "store");
	const config_setting_t *dm, *pm, *at;
	const char *path;
	char *abs;

	if (!st)
		return;
	if (!pg_conf_has(st, "dsn") && !pg_conf_has(st, "path")) {
		pg_conf_missing(cx, st, 0, "dsn", "store", "e.g. \"sqlite:var/pagegate.db\"");
		return;
	}
	dm = pg_conf_member(st, &store_tab, 0, "dsn");
	pm = pg_conf_member(st, &store_tab, 0, "path");
	if (pg_conf_has(st, "dsn") && pg_conf_has(st, "path")) {
		pg_conf_conflict(cx, config_setting_get_member(st, "path"), 0, "dsn", "path");
		pm = NULL;
	}
	if (dm) {
		const char *dsn = config_setting_get_string(dm);
		const char *sep = strstr(dsn, "://");
		at = dm;
		path = dsn + strlen(DSN_SQLITE);
		/* another backend's: a URL, or libpq's key-value string */
		if ((sep && sep != dsn) || strncmp(dsn, "postgresql:", 11) == 0) {
			if (!(ld->c->store_dsn = strdup(dsn)))
				cx->nomem = true;
			return;
		}
		if (strncmp(dsn, DSN_SQLITE, strlen(DSN_SQLITE)) != 0 || !*path) {
			char scheme[32];
			const char *colon = strchr(dsn, ':');
			size_t sl = colon ? (size_t)(colon - dsn) : 0;
			pg_strlcpy(scheme, dsn, sl + 1 < sizeof scheme ? sl + 1 : sizeof scheme);
			const char *hint = sl && strcmp(scheme, "sqlite") != 0 ?
				pg_conf_closest(scheme, schemes) : NULL;
			pg_conf_bad(cx, dm, 0, "dsn", dsn, NULL, "\"sqlite:PATH\" or a backend's "
				    "URL such as \"postgresql://...\"%s%s%s",
				    hint ? " (did you mean \"" : "", hint ? hint : "",
				    hint ? ":...\"?)" : "");
			return;
		}
	} else if (pm) {
		at = pm;
		path = config_setting_get_string(pm);
		if (!path[0]) {
			pg_conf_bad(cx, pm, 0, "path", NULL, NULL, "the SQLite database file");
			return;
		}
		pg_conf_warn(cx, pm, 0, "store.path is deprecated: write dsn = \"sqlite:%.150s\"",
			     path);
	} else {
		return;                                  /* bad: reported */
	}
	if (!(abs = config__path(cx, at, path)))
		return;
	size_t n = strlen(DSN_SQLITE) + strlen(abs) + 1;
	if ((ld->c->store_dsn = malloc(n)))
		snprintf(ld->c->store_dsn, n, "%s%s", DSN_SQLITE, abs);
	else
		cx->nomem = true;
	free(abs);
}

/* OpenSSL asks for no passphrase (the daemon could not give one). */
static int no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf; (void)size; (void)rw; (void)u;
	return 0;
}

/* tls_cert and tls_key (both readable): a PEM certificate chain and the
 * unencrypted private key of its first certificate, as the server will
 * load them at start; else an error at the line of the one at fault,
 * with OpenSSL's reason. */
static void check_tls_pair(struct pg_conf *cx, const config_setting_t *root,
			   const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	const char *bad = NULL, *what = NULL;
	char reason[160] = "";
	EVP_PKEY *pk = NULL;
	FILE *f;

	if (!ctx) {
		cx->nomem = true;
		return;
	}
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		bad = "tls_cert", what = "a PEM certificate (chain)";
	else if (!(f = fopen(key, "r")) ||
		 !(pk = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL)) || fclose(f)) {
		if (f && !pk)
			fclose(f);
		bad = "tls_key", what = "an unencrypted PEM private key";
	} else if (SSL_CTX_use_PrivateKey(ctx, pk) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		bad = "tls_key", what = "the private key of tls_cert's certificate";
	if (bad) {
		ERR_error_string_n(ERR_peek_last_error(), reason, sizeof reason);
		pg_conf_error(cx, config_setting_get_member(root, bad), 0,
			      "bad %s: expected %s (%s)", bad, what,
			      reason[0] ? reason : "unreadable");
	}
	ERR_clear_error();
	EVP_PKEY_free(pk);
	SSL_CTX_free(ctx);
}

/* node_channels: channel names built in, on a named node only. */
static void load_node_channels(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *m = config_setting_get_member(root, "node_channels");
	const char *names[PG_CH__COUNT + 1];
	struct pg_config *c = ld->c;

	if (!m || !c->node_channels)
		return;
	if (!c->node)
		pg_conf_error(ld->cx, m, 0, "node_channels needs a node name "
			      "(node = \"a\"): only a node of several sends some "
			      "channels only");
	config__channel_names(names);
	for (size_t i = 0; i < c->n_node_channels; i++)
		pg_conf_enum(ld->cx, config_setting_get_elem(m, (unsigned)i), 0,
			     "node_channels", c->node_channels[i], NULL, names);
}

void config__load_daemon(struct loader *ld, const config_setting_t *root)
{
	const struct pg_keytab *t = &config__daemon_tab;
	struct pg_conf *cx = ld->cx;
	struct pg_config *c = ld->c;
	struct pg_key *all = daemon_keys_all();
	const config_setting_t *m;
	const char *v;

	if (!all) {
		cx->nomem = true;
		return;
	}
	pg_conf_apply(cx, root, &(struct pg_keytab){ NULL, all, NULL }, c);
	free(all);

	const char *listen = "127.0.0.1";
	if ((v = pg_conf_string(root, t, 0, "listen"))) {
		if (!v[0] || strchr(v, ' '))
			pg_conf_bad(cx, config_setting_get_member(root, "listen"), 0, "listen",
				    v, NULL, "an address without spaces");
		else
			listen = v;
	}
	c->listen = pg_strdup(listen);
	/* TLS: the port speaks only TLS, so links and callbacks say https */
	bool tls = pg_conf_has(root, "tls_cert") || pg_conf_has(root, "tls_key");
	if (pg_conf_has(root, "tls_cert") != pg_conf_has(root, "tls_key"))
		pg_conf_error(cx, config_setting_get_member(root, pg_conf_has(root, "tls_cert")
			      ? "tls_cert" : "tls_key"), 0, "tls_cert and tls_key go "
			      "together: give both (TLS) or neither (plain HTTP)");
	if (c->tls_cert && c->tls_key && access(c->tls_cert, R_OK) == 0 &&
	    access(c->tls_key, R_OK) == 0)   /* else reported as unreadable */
		check_tls_pair(cx, root, c->tls_cert, c->tls_key);
	if ((v = pg_conf_string(root, t, 0, "public_url"))) {
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			pg_conf_bad(cx, config_setting_get_member(root, "public_url"), 0,
				    "public_url", v, NULL, "http://... or https://...");
		else if (tls && strncmp(v, "https://", 8) != 0)
			pg_conf_bad(cx, config_setting_get_member(root, "public_url"), 0,
				    "public_url", v, NULL, "https://... (tls_cert is set: "
				    "the port speaks only TLS)");
		c->public_url = pg_strdup(v);
	} else if (!pg_conf_has(root, "public_url")) {
		char url[320];
		bool v6 = strchr(listen, ':') != NULL;
		snprintf(url, sizeof url, "%s://%s%s%s:%d", tls ? "https" : "http",
			 v6 ? "[" : "", listen, v6 ? "]" : "", c->port);
		c->public_url = pg_strdup(url);
	}
	if (!c->listen || (!c->public_url && pg_conf_string(root, t, 0, "public_url")))
		cx->nomem = true;
	load_store(ld, root);
	load_node_channels(ld, root);
	if ((m = config_setting_get_member(root, "templates")))
		ld->templates_line = (int)config_setting_source_line(m);
	if ((m = config_setting_get_member(root, "clients"))) {
		ld->clients_line = (int)config_setting_source_line(m);
		if (!pg_conf_member(root, t, 0, "clients")) {   /* bad: reported */
			free(c->clients_dir);
			c->clients_dir = NULL;
		}
	}
	m = pg_conf_member(root, t, 0, "operators");
	if (m || !pg_conf_has(root, "operators"))
		load_operators(ld, m);
	load_channels(ld, root);
	load_retry(ld, pg_conf_member(root, t, 0, "retry"));
	if ((v = pg_conf_string(root, t, 0, "callback"))) {   /* content.h */
		if (!pg_callback_ok(v))
			pg_conf_bad(cx, config_setting_get_member(root, "callback"), 0,
				    "callback", v, NULL, "a number to dial such as \"+18005550100\"");
		else if (!(c->callback = strdup(v)))
			cx->nomem = true;
	}
}
