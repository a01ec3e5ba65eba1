/*
 * config.c - loading the configuration (config.h): the daemon file
 * (config_daemon.c), the default templates (config_templates.c) and every
 * client file (config_client.c), in that order, into one immutable
 * pg_config; the lookups over it; and the reference-counted live
 * configuration that SIGHUP swaps.
 *
 * Every problem becomes a diagnostic "file:line: message" and loading goes
 * on, so that one `pagegate check` reports all problems of all files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "pagegate/channel.h"
#include "pagegate/util.h"

/* ---- clients ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool conf_name(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* Every *.conf of the clients directory, in name order. */
static void load_clients(struct loader *ld)
{
	struct pg_config *c = ld->c;
	DIR *dp = opendir(c->clients_dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	if (!dp) {
		pg_diag_add(ld->d, c->file, ld->clients_line, "cannot read clients directory "
			    "\"%s\": %s", c->clients_dir, strerror(errno));
		ld->errors++;
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.' || !conf_name(e->d_name))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(names, nc * sizeof *nv);
			if (!nv) {
				ld->nomem = true;
				break;
			}
			names = nv;
			cap = nc;
		}
		if (!(names[n] = strdup(e->d_name))) {
			ld->nomem = true;
			break;
		}
		n++;
	}
	closedir(dp);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	if (n && !(c->clients = calloc(n, sizeof *c->clients)))
		ld->nomem = true;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(c->clients_dir) + strlen(names[i]) + 2;
		char *path = c->clients ? malloc(len) : NULL;
		if (path) {
			snprintf(path, len, "%s/%s", c->clients_dir, names[i]);
			struct pg_client *cl = &c->clients[c->n_clients++];
			cl->file = path;
			config__load_client(ld, cl);
		} else if (c->clients) {
			ld->nomem = true;
		}
		free(names[i]);
	}
	free(names);
}

/* ---- loading, freeing ---- */

static void config_free(struct pg_config *c)
{
	if (!c)
		return;
	pg_conf_release(&config__daemon_tab, c);
	free(c->file);
	free(c->listen);
	free(c->store_dsn);
	free(c->public_url);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->node);
	for (size_t i = 0; i < c->n_operators; i++)
		pg_conf_release(&config__operator_tab, &c->operators[i]);
	free(c->operators);
	free(c->callback);
	config__free_templates(c->templates, c->n_templates);
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
	struct pg_conf cx;
	config_t cf;

	*out = NULL;
	struct pg_config *c = calloc(1, sizeof *c);
	if (!c || !(c->file = strdup(path))) {
		free(c);
		pg_diag_add(d, path, 0, "out of memory");
		return PG_ERR_NOMEM;
	}
	struct loader ld = { .c = c, .d = d, .cx = &cx };

	pg_conf_init(&cx, path, d);
	config_init(&cf);
	bool parsed = !cx.nomem && pg_conf_read(&cx, &cf);
	if (parsed)
		config__load_daemon(&ld, config_root_setting(&cf));
	config_destroy(&cf);
	ld.errors += cx.errors;
	ld.nomem = ld.nomem || cx.nomem;
	pg_conf_done(&cx);
	ld.cx = NULL;

	if (parsed && c->templates_dir)
		config__load_templates(&ld);
	if (parsed && c->clients_dir)
		load_clients(&ld);
	if (parsed && !ld.nomem)
		config__check_templates(&ld);
	config__free_devices(&ld);
	config__seen_free(&ld.client_ids);
	config__seen_free(&ld.dnis);

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

const struct pg_keytab *const *pg_conf_core_tables(void)
{
	static const struct pg_keytab *const tabs[] = {
		&config__daemon_tab, &config__operator_tab, &config__retry_tab,
		&config__client_tab, &config__hours_tab, &config__field_tab,
		&config__contact_tab, &config__device_tab, &config__rule_tab,
		&config__policy_tab, &config__step_tab, &config__rotation_tab,
		&config__override_tab, &config__summary_tab, NULL
	};
	return tabs;
}

/* ---- lookups ---- */

const struct pg_client *pg_config_client(const struct pg_config *c, const char *id)
{
	for (size_t i = 0; id && i < c->n_clients; i++)
		if (c->clients[i].id && strcmp(c->clients[i].id, id) == 0)
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
const struct pg_operator *pg_config_operator(const struct pg_config *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_operators; i++)
		if (c->operators[i].name && strcmp(c->operators[i].name, name) == 0)
			return &c->operators[i];
	return NULL;
}

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
	static const struct pg_retry_policy none = PG_RETRY_DEFAULT;

	return (unsigned)ch < PG_CH__COUNT ? &c->retry[ch] : &none;
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
