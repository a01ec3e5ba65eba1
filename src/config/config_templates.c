/*
 * config_templates.c - the default templates (templates_dir: one file per
 * template, named like "email.subject") and the checks of every template
 * against the clients that use it: syntax, variables, fields, and that
 * each channel in use has the templates its driver renders.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_priv.h"
#include "pagegate/channel.h"
#include "pagegate/template.h"
#include "pagegate/util.h"

#define TEMPLATE_MAX (64 * 1024)

static void template_diag(struct loader *ld, const char *file, int line, const char *msg)
{
	pg_diag_add(ld->d, file, line, "%s", msg);
	ld->errors++;
}

/* ---- default templates ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir (but hidden ones), sorted; NULL with a diagnostic at
 * the "templates" line of the daemon file when dir cannot be read. */
static char **list_dir(struct loader *ld, const char *dir, size_t *n)
{
	DIR *dp = opendir(dir);
	*n = 0;
	if (!dp) {
		pg_diag_add(ld->d, ld->c->file, ld->templates_line, "cannot read templates "
			    "directory \"%s\": %s", dir, strerror(errno));
		ld->errors++;
		return NULL;
	}
	char **v = NULL;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.')
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
		if (!(v[*n] = strdup(e->d_name))) {
			ld->nomem = true;
			break;
		}
		(*n)++;
	}
	closedir(dp);
	if (*n)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
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

/* The line (from 1) of the first NUL or malformed UTF-8 in buf[0..n),
 * checked a line at a time (linear); 1 when there is none. */
static int bad_line(const char *buf, size_t n)
{
	int line = 1;

	for (size_t i = 0; i < n && buf;) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - buf) : n;

		if (memchr(buf + i, '\0', end - i) || !pg_utf8_valid(buf + i, end - i))
			return line;
		i = end + 1;
		line++;
	}
	return 1;
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
		pg_diag_add(ld->d, path, err || n > TEMPLATE_MAX ? 1 : bad_line(buf, n),
			    "%s", bad);
		ld->errors++;
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

void config__load_templates(struct loader *ld)
{
	struct pg_config *c = ld->c;
	size_t n;
	char **names = list_dir(ld, c->templates_dir, &n);
	if (names && n && !(c->templates = calloc(n, sizeof *c->templates)))
		ld->nomem = true;
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

void config__free_templates(struct pg_template *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].name);
		free(t[i].text);
		free(t[i].file);
	}
	free(t);
}

/* ---- templates against clients ---- */

/* Each channel used by a device needs its driver's body template and,
 * when the driver has one, its subject template (at content "notify":
 * notify.txt, notify.subject); each missing one is reported once, at its
 * first use. */
static void check_needed(struct loader *ld, bool reported[PG_CH__COUNT][4])
{
	const struct pg_config *c = ld->c;
	for (size_t i = 0; i < c->n_clients; i++) {
		const struct pg_client *cl = &c->clients[i];
		for (size_t k = 0; k < cl->n_contacts; k++) {
			const struct pg_contact *ct = &cl->contacts[k];
			for (size_t j = 0; j < ct->n_devices; j++) {
				enum pg_channel_kind ch = ct->devices[j].channel;
				const struct pg_channel *drv;
				if ((unsigned)ch >= PG_CH__COUNT || !(drv = pg_channel_for(ch)))
					continue;   /* already reported */
				enum pg_content lv = pg_content_level(cl, &ct->devices[j], ch);
				bool notify = lv == PG_CONTENT_NOTIFY;
				const char *names[2];
				pg_content_templates(lv, drv->subject_template, drv->body_template,
						     drv->body_escape == PG_ESC_NONE, &names[1], &names[0]);
				for (int w = 0; w < (drv->subject_template ? 2 : 1); w++) {
					const char *name = names[w];
					int slot = w + (notify ? 2 : 0);
					if (!name || reported[ch][slot] || pg_config_template(c, NULL, name))
						continue;
					reported[ch][slot] = true;
					char msg[300];
					snprintf(msg, sizeof msg,
						 "%s devices%s need the template \"%s\", which is not in %.200s",
						 pg_channel_name(ch), notify ? " with content \"notify\"" : "",
						 name, c->templates_dir);
					template_diag(ld, cl->file, ct->devices[j].line, msg);
				}
			}
		}
	}
}

void config__check_templates(struct loader *ld)
{
	const struct pg_config *c = ld->c;
	char err[200];
	int line;
	bool reported[PG_CH__COUNT][4] = { { false } };

	/* Defaults on their own: syntax and unknown variables. */
	bool *bad = calloc(c->n_templates ? c->n_templates : 1, sizeof *bad);
	if (!bad) {
		ld->nomem = true;
		return;
	}
	for (size_t i = 0; i < c->n_templates; i++) {
		const struct pg_template *t = &c->templates[i];
		if (pg_template_check_kind(t->text, pg_template_kind(t->name), NULL, &line,
					   err, sizeof err) != PG_OK) {
			template_diag(ld, t->file, t->line + line - 1, err);
			bad[i] = true;
		}
	}
	for (size_t i = 0; i < c->n_clients; i++) {
		const struct pg_client *cl = &c->clients[i];
		if (!cl->id)
			continue;
		/* The client's overrides, with its own fields. */
		for (size_t k = 0; k < cl->n_templates; k++) {
			const struct pg_template *t = &cl->templates[k];
			if (pg_template_check_kind(t->text, pg_template_kind(t->name), cl, &line,
						   err, sizeof err) != PG_OK) {
				char msg[400];
				snprintf(msg, sizeof msg, "template %.150s: %s", t->name, err);
				char *dot = strchr(msg + 9, '.');
				if (dot)
					*dot = '_';
				template_diag(ld, t->file, t->line + line - 1, msg);
			}
		}
		/* Defaults the client does not override, against its fields. */
		for (size_t k = 0; k < c->n_templates; k++) {
			const struct pg_template *t = &c->templates[k];
			if (bad[k] || pg_config_template(c, cl, t->name) != t)
				continue;
			if (pg_template_check_kind(t->text, pg_template_kind(t->name), cl, &line,
						   err, sizeof err) == PG_OK)
				continue;
			char msg[400];
			if (strstr(err, cl->id))
				snprintf(msg, sizeof msg, "%s", err);
			else
				snprintf(msg, sizeof msg, "for client %s: %s", cl->id, err);
			template_diag(ld, t->file, t->line + line - 1, msg);
		}
	}
	free(bad);
	check_needed(ld, reported);
}
