/*
 * config.c - loading and validating the daemon configuration
 * (etc/pagegate.conf) with libconfig, the default templates, and the
 * reference-counted live configuration.  Client preference files are in
 * config_client.c.
 *
 * Every problem becomes a diagnostic "file:line: message" and loading goes
 * on, so that one `pagegate check` reports all problems of all files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_priv.h"
#include "pagegate/ack_link.h"
#include "pagegate/channel.h"
#include "pagegate/mime.h"
#include "pagegate/util.h"

#define DIAG_MAX 1000
#define TEMPLATE_MAX (64 * 1024)

/* ---- diagnostics ---- */

void pg_diags_init(struct pg_diags *d)
{
	memset(d, 0, sizeof *d);
}

void pg_diags_free(struct pg_diags *d)
{
	free(d->v);
	memset(d, 0, sizeof *d);
}

void pg_diag_add(struct pg_diags *d, const char *file, int line, const char *fmt, ...)
{
	if (d->n >= DIAG_MAX)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct pg_diag *v = realloc(d->v, cap * sizeof *v);
		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	struct pg_diag *g = &d->v[d->n++];
	pg_strlcpy(g->file, file ? file : "", sizeof g->file);
	g->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->msg, sizeof g->msg, fmt, ap);
	va_end(ap);
}

/* ---- the daemon file ---- */

/* dir (with trailing '/', or "" for the current directory) + rel, unless
 * rel is absolute. */
static char *resolve(struct loader *ld, const char *dir, const char *rel)
{
	if (!rel)
		return NULL;
	if (rel[0] == '/' || dir[0] == '\0')
		return config__strdup(ld, rel);
	size_t n = strlen(dir) + strlen(rel) + 1;
	char *p = malloc(n);
	if (!p) {
		ld->nomem = true;
		return NULL;
	}
	snprintf(p, n, "%s%s", dir, rel);
	return p;
}

static const struct key daemon_keys[] = {
	{ "listen", K_STR }, { "port", K_INT }, { "public_url", K_STR },
	{ "ack_link_ttl", K_DUR },
	{ "store", K_GROUP }, { "templates", K_STR }, { "clients", K_STR },
	{ "max_body", K_INT }, { "workers", K_INT }, { "operators", K_LIST },
	{ "smtp", K_LIST }, { "default_smtp", K_STR }, { "retry", K_GROUP },
	{ "callback", K_STR },
	/* channel sections, parsed by their drivers (load_channels) */
	{ "sms", K_ANY }, { "pager", K_ANY }, { "mqtt", K_ANY }, { "fax", K_ANY },
	{ NULL, 0 }
};
static const struct key store_keys[] = {
	{ "path", K_STR }, { "max_mb", K_INT }, { NULL, 0 }
};
static const struct key operator_keys[] = {
	{ "name", K_STR }, { "token_sha256", K_STR }, { NULL, 0 }
};
static const struct key smtp_keys[] = {
	{ "name", K_STR }, { "host", K_STR }, { "port", K_INT }, { "starttls", K_STR },
	{ "user", K_STR }, { "password", K_STR }, { "from", K_STR },
	{ "from_name", K_STR }, { "helo", K_STR }, { "timeout", K_INT },
	{ "batch", K_INT }, { "tls_ca", K_STR }, { NULL, 0 }
};
static const struct key retry_keys[] = {
	{ "base", K_DUR }, { "cap", K_DUR }, { "give_up", K_DUR }, { NULL, 0 }
};

static void load_operators(struct loader *ld, config_setting_t *list)
{
	struct pg_config *c = ld->c;
	int n = list ? config_setting_length(list) : 0;
	if (n == 0) {
		config__diag(ld, list, "no operators: at least one is needed to use the API");
		return;
	}
	c->operators = config__calloc(ld, (size_t)n, sizeof *c->operators);
	if (!c->operators)
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(g)) {
			config__diag(ld, g, "each operator must be a group { name = ...; token_sha256 = ...; }");
			continue;
		}
		config__keys(ld, g, operator_keys, "operator");
		struct pg_operator *op = &c->operators[c->n_operators++];
		op->line = (int)config_setting_source_line(g);
		op->name = config__dup(ld, g, "name", false);
		if (!config__member(g, "name", K_STR))
			config__diag(ld, g, "operator has no \"name\"");
		for (size_t j = 0; op->name && j + 1 < c->n_operators; j++) {
			if (c->operators[j].name && strcmp(c->operators[j].name, op->name) == 0)
				config__diag(ld, g, "duplicate operator name \"%s\" (first at line %d)",
					     op->name, c->operators[j].line);
		}
		config_setting_t *h = config__member(g, "token_sha256", K_STR);
		const char *hex = h ? config_setting_get_string(h) : NULL;
		if (!h) {
			if (!config_setting_get_member(g, "token_sha256"))
				config__diag(ld, g, "operator has no \"token_sha256\"");
			continue;
		}
		bool ok = strlen(hex) == 64;
		for (size_t j = 0; ok && j < 64; j++) {
			char ch = hex[j];
			ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
			     (ch >= 'A' && ch <= 'F');
			op->token_sha256[j] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
		}
		if (!ok) {
			memset(op->token_sha256, 0, sizeof op->token_sha256);
			config__diag(ld, h, "token_sha256 must be 64 hexadecimal characters "
				     "(the SHA-256 of the token; see pagegate hash-token)");
			continue;
		}
		/* One token, one operator: the ledger names who entered what. */
		for (size_t j = 0; j + 1 < c->n_operators; j++) {
			if (strcmp(c->operators[j].token_sha256, op->token_sha256) == 0)
				config__diag(ld, h, "operator \"%s\" has the same token as \"%s\" (line %d)",
					     op->name ? op->name : "", c->operators[j].name ?
					     c->operators[j].name : "", c->operators[j].line);
		}
	}
}

static void load_smtp(struct loader *ld, config_setting_t *list, const char *dir)
{
	struct pg_config *c = ld->c;
	int n = list ? config_setting_length(list) : 0;
	if (n == 0)
		return;
	c->smtp = config__calloc(ld, (size_t)n, sizeof *c->smtp);
	if (!c->smtp)
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(g)) {
			config__diag(ld, g, "each smtp gateway must be a group { name = ...; host = ...; }");
			continue;
		}
		config__keys(ld, g, smtp_keys, "smtp gateway");
		struct pg_smtp_gateway *gw = &c->smtp[c->n_smtp++];
		gw->line = (int)config_setting_source_line(g);
		gw->name = config__dup(ld, g, "name", false);
		gw->host = config__dup(ld, g, "host", false);
		gw->user = config__dup(ld, g, "user", false);
		gw->password = config__dup(ld, g, "password", false);
		gw->from = config__dup(ld, g, "from", false);
		gw->from_name = config__dup(ld, g, "from_name", false);
		gw->helo = config__dup(ld, g, "helo", false);
		char *ca = config__dup(ld, g, "tls_ca", false);
		gw->tls_ca = resolve(ld, dir, ca);
		free(ca);
		if (gw->tls_ca && access(gw->tls_ca, R_OK) != 0)
			config__diag(ld, config_setting_get_member(g, "tls_ca"),
				     "cannot read tls_ca \"%s\": %s", gw->tls_ca, strerror(errno));
		const char *what = gw->name ? gw->name : "";
		if (!config__member(g, "name", K_STR))
			config__diag(ld, g, "smtp gateway has no \"name\"");
		for (size_t j = 0; gw->name && j + 1 < c->n_smtp; j++) {
			if (c->smtp[j].name && strcmp(c->smtp[j].name, gw->name) == 0)
				config__diag(ld, g, "duplicate smtp gateway name \"%s\" (first at line %d)",
					     gw->name, c->smtp[j].line);
		}
		if (!config__member(g, "host", K_STR))
			config__diag(ld, g, "smtp gateway \"%s\" has no \"host\"", what);
		if (!config_setting_get_member(g, "from"))
			config__diag(ld, g, "smtp gateway \"%s\" has no \"from\" address", what);
		else if (gw->from && !pg_mime_addr_ok(gw->from))
			config__diag(ld, config_setting_get_member(g, "from"),
				     "bad from address \"%s\": expected local@domain", gw->from);
		if (!gw->user != !gw->password)
			config__diag(ld, g, "smtp gateway \"%s\": set both \"user\" and \"password\", or neither",
				     what);
		int64_t v = 25;
		config__int(ld, g, "port", 1, 65535, &v);
		gw->port = (int)v;
		v = 30;
		config__int(ld, g, "timeout", 1, 600, &v);
		gw->timeout_s = (int)v;
		v = 20;
		config__int(ld, g, "batch", 1, 1000, &v);
		gw->batch = (int)v;
		gw->starttls = PG_TLS_OPPORTUNISTIC;
		config_setting_t *t = config__member(g, "starttls", K_STR);
		if (t) {
			const char *s = config_setting_get_string(t);
			if (strcmp(s, "off") == 0)
				gw->starttls = PG_TLS_OFF;
			else if (strcmp(s, "required") == 0)
				gw->starttls = PG_TLS_REQUIRED;
			else if (strcmp(s, "opportunistic") != 0)
				config__diag(ld, t, "bad starttls \"%s\": expected off, opportunistic or required", s);
		}
	}
}

/* One duration member of a retry group into *out (seconds). */
static void retry_dur(struct loader *ld, config_setting_t *g, const char *name, int *out)
{
	int64_t s;

	if (config__dur(ld, g, name, 1, 366 * 86400, &s))
		*out = (int)s;
}

static void load_retry(struct loader *ld, config_setting_t *r)
{
	struct pg_config *c = ld->c;
	for (int ch = 0; ch < PG_CH__COUNT; ch++) {
		c->retry[ch].base_s = 30;
		c->retry[ch].cap_s = ch == PG_CH_EMAIL ? 30 * 60 : 10 * 60;
		c->retry[ch].give_up_s = ch == PG_CH_EMAIL ? 24 * 3600 : 4 * 3600;
	}
	if (!r)
		return;
	const char *chans[PG_CH__COUNT + 1];
	for (int ch = 0; ch < PG_CH__COUNT; ch++)
		chans[ch] = pg_channel_name((enum pg_channel_kind)ch);
	chans[PG_CH__COUNT] = NULL;
	int n = config_setting_length(r);
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(r, (unsigned)i);
		const char *name = config_setting_name(g);
		enum pg_channel_kind ch;
		if (pg_channel_parse(name, &ch) != 0) {
			const char *hint = config__closest(name, chans);
			config__diag(ld, g, "unknown channel \"%s\" in retry%s%s%s", name,
				     hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
			continue;
		}
		if (ch == PG_CH_MAILBOX) {
			config__diag(ld, g, "the mailbox has no retries: its messages wait until retrieved");
			continue;
		}
		if (!config_setting_is_group(g)) {
			config__diag(ld, g, "retry %s must be a group { base = \"30s\"; cap = \"30m\"; give_up = \"24h\"; }",
				     name);
			continue;
		}
		config__keys(ld, g, retry_keys, "retry");
		struct pg_retry_policy *p = &c->retry[ch];
		retry_dur(ld, g, "base", &p->base_s);
		retry_dur(ld, g, "cap", &p->cap_s);
		retry_dur(ld, g, "give_up", &p->give_up_s);
		char b1[24], b2[24];
		if (p->base_s > p->cap_s)
			config__diag(ld, g, "retry %s: base (%s) is larger than cap (%s)",
				     name, config__dur_text(p->base_s, b1), config__dur_text(p->cap_s, b2));
	}
}

/* Hands each channel's own section ("sms", "pager", ...) to its driver's
 * config_parse; a section for a channel not built is an error.  The
 * driver reports its problems straight into the diagnostics, which are
 * counted here as this load's errors. */
static void load_channels(struct loader *ld, config_setting_t *root)
{
	for (int k = 0; k < PG_CH__COUNT; k++) {
		if (k == PG_CH_EMAIL || k == PG_CH_MAILBOX)
			continue;   /* email's "smtp" gateways are read above;
				       the mailbox has no settings */
		const char *name = pg_channel_name((enum pg_channel_kind)k);
		const struct pg_channel *drv = pg_channel_for((enum pg_channel_kind)k);
		config_setting_t *sec = config_setting_get_member(root, name);
		if (!drv) {
			if (sec)
				config__diag(ld, sec, "channel \"%s\" is not available in this build", name);
			continue;
		}
		if (!drv->config_parse) {
			if (sec)
				config__diag(ld, sec, "the %s channel has no settings here", name);
			continue;
		}
		size_t before = ld->d->n;
		pg_err e = drv->config_parse(sec, ld->file, ld->d, &ld->c->chan_cfg[k]);
		int added = (int)(ld->d->n - before);
		if (e == PG_ERR_NOMEM)
			ld->nomem = true;
		else if (e != PG_OK && added == 0)
			config__diag(ld, sec, "%s settings are invalid", name);
		ld->errors += added;
		ld->chan_bad[k] = e != PG_OK || added > 0;
	}
}

/* ack_link_ttl: how long a signed acknowledgement link stays valid. */
static void load_link_ttl(struct loader *ld, config_setting_t *root)
{
	config_setting_t *m = config__member(root, "ack_link_ttl", K_DUR);
	int64_t s = -1;

	ld->c->ack_link_ttl_s = PG_ACK_LINK_TTL_DEFAULT_S;
	if (!m)
		return;
	if (config_setting_type(m) == CONFIG_TYPE_INT)
		s = config_setting_get_int(m);
	else if (pg_parse_duration(config_setting_get_string(m), &s) != 0)
		s = -1;
	if (s < 1 || s > PG_ACK_LINK_TTL_MAX_S)
		config__diag(ld, m, "bad ack_link_ttl: expected a duration from 1s to 90d such as \"72h\"");
	else
		ld->c->ack_link_ttl_s = (int)s;
}

static void load_daemon(struct loader *ld, config_setting_t *root, const char *dir)
{
	struct pg_config *c = ld->c;
	config__keys(ld, root, daemon_keys, NULL);

	const char *listen = "127.0.0.1";
	config_setting_t *m = config__member(root, "listen", K_STR);
	if (m && config__str(ld, m, false)) {
		listen = config_setting_get_string(m);
		if (!listen[0] || strchr(listen, ' ')) {
			config__diag(ld, m, "bad listen address \"%s\"", listen);
			listen = "127.0.0.1";
		}
	}
	c->listen = config__strdup(ld, listen);
	int64_t v = 8025;
	config__int(ld, root, "port", 1, 65535, &v);
	c->port = (int)v;
	c->public_url = config__dup(ld, root, "public_url", false);
	m = config__member(root, "public_url", K_STR);
	if (c->public_url && strncmp(c->public_url, "http://", 7) != 0 &&
	    strncmp(c->public_url, "https://", 8) != 0)
		config__diag(ld, m, "bad public_url \"%s\": expected http://... or https://...",
			     c->public_url);
	if (!m) {
		char url[320];
		bool v6 = strchr(listen, ':') != NULL;
		snprintf(url, sizeof url, "http://%s%s%s:%d", v6 ? "[" : "", listen,
			 v6 ? "]" : "", c->port);
		c->public_url = config__strdup(ld, url);
	}
	load_link_ttl(ld, root);
	v = 65536;
	config__int(ld, root, "max_body", 1024, 16777216, &v);
	c->max_body = (size_t)v;
	v = 4;
	config__int(ld, root, "workers", 1, 64, &v);
	c->workers = (int)v;

	config_setting_t *store = config__member(root, "store", K_GROUP);
	if (store) {
		config__keys(ld, store, store_keys, "store");
		char *p = config__dup(ld, store, "path", false);
		if (!config_setting_get_member(store, "path"))
			config__diag(ld, store, "store has no \"path\" (the SQLite database file)");
		else if (p && !p[0])
			config__diag(ld, config_setting_get_member(store, "path"), "store path is empty");
		c->db_path = resolve(ld, dir, p);
		free(p);
		config__int(ld, store, "max_mb", 0, 16 * 1024 * 1024, &c->store_max_mb);
	} else if (!config_setting_get_member(root, "store")) {
		config__diag(ld, NULL, "missing \"store\" (store = { path = \"...\"; };)");
	}

	if ((m = config_setting_get_member(root, "templates")))
		ld->templates_line = (int)config_setting_source_line(m);
	if ((m = config_setting_get_member(root, "clients")))
		ld->clients_line = (int)config_setting_source_line(m);
	char *t = config__dup(ld, root, "templates", false);
	if (!config_setting_get_member(root, "templates"))
		config__diag(ld, NULL, "missing \"templates\" (the directory of default templates)");
	c->templates_dir = resolve(ld, dir, t);
	free(t);
	t = config__dup(ld, root, "clients", false);
	c->clients_dir = resolve(ld, dir, t ? t : (config_setting_get_member(root, "clients") ?
							NULL : "clients"));
	free(t);

	config_setting_t *ops = config__member(root, "operators", K_LIST);
	if (ops || !config_setting_get_member(root, "operators"))
		load_operators(ld, ops);
	load_smtp(ld, config__member(root, "smtp", K_LIST), dir);
	load_channels(ld, root);
	m = config__member(root, "default_smtp", K_STR);
	if (m) {
		c->default_smtp = config__strdup(ld, config_setting_get_string(m));
		if (c->default_smtp && !pg_config_smtp(c, c->default_smtp))
			config__diag(ld, m, "default_smtp \"%s\" is not one of the smtp gateways",
				     c->default_smtp);
	}
	load_retry(ld, config__member(root, "retry", K_GROUP));
	m = config__member(root, "callback", K_STR);    /* content.h */
	if (m && !pg_callback_ok(config_setting_get_string(m)))
		config__diag(ld, m, "bad callback \"%.40s\": expected a number to dial such as \"+18005550100\"",
			     config_setting_get_string(m));
	else if (m)
		c->callback = config__strdup(ld, config_setting_get_string(m));
}

/* ---- default templates ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir accepted by want(), sorted; NULL with a diagnostic at
 * line of the daemon file when dir cannot be read. */
static char **list_dir(struct loader *ld, const char *dir, bool (*want)(const char *),
		       size_t *n, const char *what, int line)
{
	DIR *dp = opendir(dir);
	*n = 0;
	if (!dp) {
		pg_diag_add(ld->d, ld->c->file, line, "cannot read %s directory \"%s\": %s",
			    what, dir, strerror(errno));
		ld->errors++;
		return NULL;
	}
	char **v = NULL;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.' || !want(e->d_name))
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(v, nc * sizeof *nv);
			if (!nv) {
				ld->nomem = true;
				break;
			}
			v = nv;
			cap = nc;
		}
		if (!(v[*n] = config__strdup(ld, e->d_name)))
			break;
		(*n)++;
	}
	closedir(dp);
	if (*n)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

static bool any_name(const char *name)
{
	(void)name;
	return true;
}

static bool conf_name(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static char *join(struct loader *ld, const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (!p)
		ld->nomem = true;
	else
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Reads a whole template file; NULL with a diagnostic when unusable. */
static char *read_template(struct loader *ld, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;   /* not a regular file: not a template */
	FILE *f = fopen(path, "rb");
	if (!f) {
		pg_diag_add(ld->d, path, 0, "cannot open: %s", strerror(errno));
		ld->errors++;
		return NULL;
	}
	char *buf = malloc(TEMPLATE_MAX + 2);
	size_t n = buf ? fread(buf, 1, TEMPLATE_MAX + 1, f) : 0;
	bool err = ferror(f);
	fclose(f);
	if (!buf) {
		ld->nomem = true;
		return NULL;
	}
	const char *bad = err ? "cannot read the file" :
		n > TEMPLATE_MAX ? "template is larger than 64 KiB" :
		!pg_utf8_valid(buf, n) ? "template is not valid UTF-8" :
		memchr(buf, '\0', n) ? "template contains a NUL byte" : NULL;
	if (bad) {
		pg_diag_add(ld->d, path, 0, "%s", bad);
		ld->errors++;
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static void load_templates(struct loader *ld)
{
	struct pg_config *c = ld->c;
	size_t n;
	char **names = list_dir(ld, c->templates_dir, any_name, &n, "templates", ld->templates_line);
	if (names && n)
		c->templates = config__calloc(ld, n, sizeof *c->templates);
	for (size_t i = 0; i < n; i++) {
		char *path = join(ld, c->templates_dir, names[i]);
		char *text = path && c->templates ? read_template(ld, path) : NULL;
		if (text) {
			struct pg_template *t = &c->templates[c->n_templates++];
			t->name = names[i];
			t->text = text;
			t->file = path;
			t->line = 1;
			names[i] = NULL;
			path = NULL;
		}
		free(path);
		free(names[i]);
	}
	free(names);
}

/* ---- clients ---- */

static void load_clients(struct loader *ld)
{
	struct pg_config *c = ld->c;
	size_t n;
	char **names = list_dir(ld, c->clients_dir, conf_name, &n, "clients", ld->clients_line);
	if (names && n)
		c->clients = config__calloc(ld, n, sizeof *c->clients);
	for (size_t i = 0; i < n; i++) {
		char *path = c->clients ? join(ld, c->clients_dir, names[i]) : NULL;
		free(names[i]);
		if (!path)
			continue;
		struct pg_client *cl = &c->clients[c->n_clients++];
		cl->file = path;
		config__load_client(ld, cl);
	}
	free(names);
}

/* ---- loading, freeing ---- */

static void free_templates(struct pg_template *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].name);
		free(t[i].text);
		free(t[i].file);
	}
	free(t);
}

static void config_free(struct pg_config *c)
{
	if (!c)
		return;
	free(c->file);
	free(c->listen);
	free(c->db_path);
	free(c->templates_dir);
	free(c->clients_dir);
	free(c->public_url);
	for (size_t i = 0; i < c->n_operators; i++)
		free(c->operators[i].name);
	free(c->operators);
	for (size_t i = 0; i < c->n_smtp; i++) {
		struct pg_smtp_gateway *g = &c->smtp[i];
		free(g->name);
		free(g->host);
		free(g->user);
		free(g->password);
		free(g->from);
		free(g->from_name);
		free(g->helo);
		free(g->tls_ca);
	}
	free(c->smtp);
	free(c->default_smtp);
	free(c->callback);
	free_templates(c->templates, c->n_templates);
	for (size_t i = 0; i < c->n_clients; i++)
		config__free_client(&c->clients[i]);
	free(c->clients);
	for (int k = 0; k < PG_CH__COUNT; k++) {
		const struct pg_channel *drv = pg_channel_for((enum pg_channel_kind)k);
		if (c->chan_cfg[k] && drv && drv->config_free)
			drv->config_free(c->chan_cfg[k]);
	}
	free(c);
}

pg_err pg_config_load(const char *path, struct pg_config **out, struct pg_diags *d)
{
	*out = NULL;
	struct pg_config *c = calloc(1, sizeof *c);
	if (!c || !(c->file = strdup(path))) {
		free(c);
		pg_diag_add(d, path, 0, "out of memory");
		return PG_ERR_NOMEM;
	}
	struct loader ld = { .c = c, .d = d, .file = path };

	/* The directory of the daemon file, with its trailing '/'. */
	char *dir = strdup(path);
	if (!dir)
		ld.nomem = true;
	else {
		char *slash = strrchr(dir, '/');
		if (slash)
			slash[1] = '\0';
		else
			dir[0] = '\0';
	}

	config_t cf;
	config_init(&cf);
	bool parsed = dir && config__read(&ld, &cf, path);
	if (parsed)
		load_daemon(&ld, config_root_setting(&cf), dir);
	config_destroy(&cf);
	free(dir);

	if (parsed && c->templates_dir)
		load_templates(&ld);
	if (parsed && c->clients_dir)
		load_clients(&ld);
	if (parsed && !ld.nomem)
		config__check_templates(&ld);
	free(ld.client_ids.v);
	free(ld.dnis.v);

	if (ld.nomem) {
		pg_diag_add(d, path, 0, "out of memory while loading the configuration");
		config_free(c);
		return PG_ERR_NOMEM;
	}
	if (ld.errors > 0) {
		config_free(c);
		return PG_ERR_CONFIG;
	}
	c->refs = 1;
	*out = c;
	return PG_OK;
}

void pg_config_hold(struct pg_config *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
}

void pg_config_release(struct pg_config *c)
{
	if (c && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}

/* ---- lookups ---- */

const struct pg_client *pg_config_client(const struct pg_config *c, const char *id)
{
	for (size_t i = 0; id && i < c->n_clients; i++)
		if (strcmp(c->clients[i].id, id) == 0)
			return &c->clients[i];
	return NULL;
}

const struct pg_client *pg_config_client_by_dnis(const struct pg_config *c, const char *dnis)
{
	for (size_t i = 0; dnis && i < c->n_clients; i++)
		for (size_t j = 0; j < c->clients[i].n_dnis; j++)
			if (strcmp(c->clients[i].dnis[j], dnis) == 0)
				return &c->clients[i];
	return NULL;
}

const struct pg_contact *pg_client_contact(const struct pg_client *cl, const char *id)
{
	for (size_t i = 0; id && i < cl->n_contacts; i++)
		if (strcmp(cl->contacts[i].id, id) == 0)
			return &cl->contacts[i];
	return NULL;
}

const char *pg_device_opt(const struct pg_device *dev, const char *name)
{
	for (size_t i = 0; dev && name && i < dev->n_opts; i++)
		if (strcmp(dev->opts[i].key, name) == 0)
			return dev->opts[i].value;
	return NULL;
}

const struct pg_field *pg_client_field(const struct pg_client *cl, const char *id)
{
	for (size_t i = 0; id && i < cl->n_fields; i++)
		if (strcmp(cl->fields[i].id, id) == 0)
			return &cl->fields[i];
	return NULL;
}

/* Hashes the token once and compares it with every operator's hash (no
 * early exit, so the time does not depend on which operator matched). */
const struct pg_operator *pg_config_auth(const struct pg_config *c, const char *token)
{
	if (!token || !token[0])
		return NULL;
	char hash[65];
	pg_sha256_hex(token, strlen(token), hash);
	const struct pg_operator *found = NULL;
	for (size_t i = 0; i < c->n_operators; i++)
		if (pg_ct_equal(hash, c->operators[i].token_sha256, 64) && !found)
			found = &c->operators[i];
	return found;
}

const struct pg_smtp_gateway *pg_config_smtp(const struct pg_config *c, const char *name)
{
	if (!name)
		name = c->default_smtp;
	if (!name)
		return c->n_smtp ? &c->smtp[0] : NULL;
	for (size_t i = 0; i < c->n_smtp; i++)
		if (c->smtp[i].name && strcmp(c->smtp[i].name, name) == 0)
			return &c->smtp[i];
	return NULL;
}

const struct pg_template *pg_config_template(const struct pg_config *c,
	const struct pg_client *cl, const char *name)
{
	for (size_t i = 0; cl && i < cl->n_templates; i++)
		if (strcmp(cl->templates[i].name, name) == 0)
			return &cl->templates[i];
	for (size_t i = 0; i < c->n_templates; i++)
		if (strcmp(c->templates[i].name, name) == 0)
			return &c->templates[i];
	return NULL;
}

const struct pg_retry_policy *pg_config_retry(const struct pg_config *c,
	enum pg_channel_kind ch)
{
	return (unsigned)ch < PG_CH__COUNT ? &c->retry[ch] : &c->retry[PG_CH_EMAIL];
}

/* ---- the live configuration ---- */

void pg_live_init(struct pg_live_config *l, struct pg_config *c)
{
	pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;   /* cannot fail */
	l->mu = init;
	l->cur = c;
}

struct pg_config *pg_live_get(struct pg_live_config *l)
{
	pthread_mutex_lock(&l->mu);
	struct pg_config *c = l->cur;
	if (c)
		pg_config_hold(c);
	pthread_mutex_unlock(&l->mu);
	return c;
}

void pg_live_swap(struct pg_live_config *l, struct pg_config *c)
{
	pthread_mutex_lock(&l->mu);
	struct pg_config *old = l->cur;
	l->cur = c;
	pthread_mutex_unlock(&l->mu);
	pg_config_release(old);
}

void pg_live_destroy(struct pg_live_config *l)
{
	pg_config_release(l->cur);
	l->cur = NULL;
	pthread_mutex_destroy(&l->mu);
}
