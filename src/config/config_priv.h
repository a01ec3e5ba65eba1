/*
 * config_priv.h - shared by the files of src/config/: the engine
 * (config_keys.c, config_keys_check.c, config_read.c, config_diag.c) and
 * the loader of pagegate.conf (config.c, config_daemon.c), the templates
 * (config_templates.c) and the client files (config_client.c,
 * config_contacts.c, config_rules.c, config_escalation.c,
 * config_oncall.c, config_content.c).  Not a public contract: only the
 * files of src/config/ include it.
 *
 * Settings are declared in key tables (config_keys.h) and walked by
 * pg_conf_apply, which reports each mistake once; the code here reads
 * what the engine accepted (pg_conf_member, pg_conf_string) and checks
 * what is not per key.
 */
#ifndef PAGEGATE_CONFIG_PRIV_H
#define PAGEGATE_CONFIG_PRIV_H

#include <search.h>
#include <libconfig.h>

#include "pagegate/config.h"
#include "pagegate/config_keys.h"

/* A value that must be unique across clients (client id, dnis), with
 * where it was first seen.  Pointers into the configuration being loaded. */
struct seen {
	const char *value;
	const char *client;
	const char *file;
	int line;
};
struct seen_set {
	struct seen *v;
	size_t n, cap;
	struct hsearch_data index;   /* value -> its position in v, rebuilt as
					v grows, so that a check is not a walk of
					all before it (config_client.c seen_add) */
	bool indexed;
};
/* Frees what a seen_set holds (not the values: they are the caller's). */
void config__seen_free(struct seen_set *s);

/* State of one pg_config_load(). */
struct loader {
	struct pg_config *c;
	struct pg_diags *d;
	struct pg_conf *cx;        /* the file being read */
	int errors;                /* errors of the files read so far */
	bool nomem;
	struct seen_set client_ids;
	struct seen_set dnis;
	bool chan_bad[PG_CH__COUNT]; /* the channel's own section had errors:
				      its devices are not checked again */
	struct pg_key *device_keys[PG_CH__COUNT]; /* each channel's device
				      table: the common keys and the driver's */
	char device_what[PG_CH__COUNT][32];   /* "sms device" */
	int templates_line;        /* lines of "templates" and "clients" */
	int clients_line;
};

/* ---- the engine's own (config_read.c, config_keys.c) ---- */

/* True when the reader refused the literal on s's line (the engine does
 * not judge its truncated value again). */
bool config__refused(const struct pg_conf *cx, const config_setting_t *s);
/* rel joined to the directory of the file s was read from (s NULL: the
 * top file's); absolute paths as they are.  NULL (cx->nomem) on no
 * memory or for rel NULL. */
char *config__path(struct pg_conf *cx, const config_setting_t *s, const char *rel);
/* The range an integer field of k can hold (its size and signedness). */
void config__field_range(const struct pg_key *k, int64_t *lo, int64_t *hi);
/* The key of t that selects the gateway kind, or NULL. */
const struct pg_key *config__kind_key(const struct pg_keytab *t);
/* Seconds as the shortest exact "90s", "5m", "2h", "1d". */
const char *config__dur_text(int64_t s, char buf[24]);

/* ---- the loader ---- */

/* Reads the daemon file's root into ld->c (config_daemon.c): its own
 * settings, then each driver's through the registry. */
void config__load_daemon(struct loader *ld, const config_setting_t *root);
/* Channel names for "did you mean": every channel with a driver,
 * NULL-terminated. */
void config__channel_names(const char *names[PG_CH__COUNT + 1]);
/* The channel called name: its kind, or -1. */
int config__channel(const char *name);

/* The default templates (config_templates.c); then, once the clients are
 * loaded, every template against every client that uses it and each
 * channel in use against its templates. */
void config__load_templates(struct loader *ld);
void config__check_templates(struct loader *ld);
void config__free_templates(struct pg_template *t, size_t n);

/* An id of a client file (client, contact, field, rotation, escalation):
 * 1..CONFIG_ID_MAX characters of [a-z0-9-], plus '_' when underscore.
 * (config_client.c) */
#define CONFIG_ID_MAX 64
bool config__id_ok(const char *s, bool underscore);
/* True when id, the "id" of entry g (what: "field id", "contact id"),
 * is given, well formed (config__id_ok with '_') and new; otherwise
 * reports why - bad, or a duplicate of the entry at taken_line (0: not
 * taken) - and returns false.  A missing id was reported by the key
 * table. */
bool config__new_id(struct pg_conf *cx, const config_setting_t *g, const char *id,
		    const char *what, int taken_line);

/* Parses one client file into cl (cl->file set by the caller); needs the
 * daemon part of ld->c (the drivers' settings, the default templates).
 * config_client.c. */
void config__load_client(struct loader *ld, struct pg_client *cl);
void config__free_client(struct pg_client *cl);

/* contacts = ( ... ) with their devices (config_contacts.c). */
void config__load_contacts(struct loader *ld, struct pg_client *cl,
			   const config_setting_t *list);
void config__free_devices(struct loader *ld);

/* rules = ( ... ) (config_rules.c), after contacts, rotations and
 * escalations; and the "notify" and "channels" of group g (a rule, an
 * escalation step) into r, notify required unless !required. */
void config__load_rules(struct loader *ld, struct pg_client *cl,
			const config_setting_t *root);
void config__rule_targets(struct loader *ld, struct pg_client *cl,
			  struct pg_rule *r, const config_setting_t *g,
			  bool required, const char *what);

/* escalation = ( ... ) (config_escalation.c), after contacts and
 * rotations; freed with the client. */
void config__load_escalations(struct loader *ld, struct pg_client *cl,
			      const config_setting_t *list);
void config__free_escalations(struct pg_client *cl);

/* summary = { ... } (config_summary.c), after contacts and rotations. */
void config__load_summary(struct loader *ld, struct pg_client *cl,
			  const config_setting_t *g);

/* content = { ... } and callback (config_content.c), after contacts:
 * falls back to pagegate.conf's callback. */
void config__load_content(struct loader *ld, struct pg_client *cl,
			  const config_setting_t *root);

/* The tables of the client file's groups, for pg_conf_core_tables. */
extern const struct pg_keytab config__client_tab, config__hours_tab,
	config__field_tab, config__contact_tab, config__device_tab,
	config__rule_tab, config__policy_tab, config__step_tab,
	config__rotation_tab, config__override_tab, config__summary_tab;
extern const struct pg_keytab config__daemon_tab, config__operator_tab,
	config__retry_tab;

#endif
