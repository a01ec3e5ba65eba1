/*
 * config_priv.h - shared between config.c (daemon file, templates, lookups,
 * the live configuration) and config_client.c (client preference files).
 * Not a public contract: only those two files include it.
 *
 * Settings are declared once, in tables of (name, type).  config__keys()
 * reports every unknown or mistyped member of a group; the getters then
 * quietly skip members whose type was wrong, so each mistake is reported
 * exactly once.
 */
#ifndef PAGEGATE_CONFIG_PRIV_H
#define PAGEGATE_CONFIG_PRIV_H

#include <libconfig.h>

#include "pagegate/config.h"

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
};

/* State of one pg_config_load(). */
struct loader {
	struct pg_config *c;
	struct pg_diags *d;
	const char *file;          /* the file being read, for diagnostics */
	int errors;                /* diagnostics added by this load */
	bool nomem;
	struct seen_set client_ids;
	struct seen_set dnis;
	bool chan_bad[PG_CH__COUNT]; /* the channel's own section had errors:
				      its devices are not checked again */
	int templates_line;        /* lines of "templates" and "clients" */
	int clients_line;
};

enum ktype {
	K_STR,          /* "text" */
	K_INT,          /* 42 */
	K_BOOL,         /* true / false */
	K_GROUP,        /* { ... } */
	K_LIST,         /* ( { ... }, { ... } ) */
	K_STRS,         /* [ "a", "b" ] */
	K_STR_OR_STRS,  /* "a" or [ "a", "b" ] */
	K_DUR,          /* "30s", "5m", "2h", "1d" or 30 */
	K_ANY,          /* checked by someone else (a channel driver) */
};

struct key {
	const char *name;
	enum ktype type;
};

/* Adds "file:line: message" at setting s (line 0 when s is NULL). */
void config__diag(struct loader *ld, config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reports every member of group g that is not in keys (a NULL-terminated
 * table), suggesting the closest known name, and every member of the wrong
 * type.  where names the group in messages ("rule", "device"); NULL for
 * the top level of a file. */
void config__keys(struct loader *ld, config_setting_t *g, const struct key *keys,
		  const char *where);

/* Member name of g when present with type t, else NULL. */
config_setting_t *config__member(config_setting_t *g, const char *name, enum ktype t);

/* The string value of s after checking it is UTF-8 without control
 * characters (multi_line allows \n \r \t); NULL (reported) otherwise. */
const char *config__str(struct loader *ld, config_setting_t *s, bool multi_line);

/* config__str() of member name of g, copied; NULL when absent or bad. */
char *config__dup(struct loader *ld, config_setting_t *g, const char *name,
		  bool multi_line);

/* strdup() that records an allocation failure in ld. */
char *config__strdup(struct loader *ld, const char *s);
/* calloc() that records an allocation failure in ld (n may be 0). */
void *config__calloc(struct loader *ld, size_t n, size_t size);

/* Integer member name of g in lo..hi into *out.  Returns false (and leaves
 * *out) when absent or wrong; out of range is reported. */
bool config__int(struct loader *ld, config_setting_t *g, const char *name,
		 int64_t lo, int64_t hi, int64_t *out);

/* Duration member name of g ("30s", "5m", "2h", "1d" or seconds) in
 * lo..hi seconds into *out.  Returns false when absent or wrong (out of
 * range or unreadable is reported). */
bool config__dur(struct loader *ld, config_setting_t *g, const char *name,
		 int64_t lo, int64_t hi, int64_t *out);
/* Seconds as the shortest exact "90s", "5m", "2h", "1d". */
const char *config__dur_text(int64_t s, char buf[24]);

/* The closest of the NULL-terminated names to s (edit distance <= 2), or
 * NULL. */
const char *config__closest(const char *s, const char *const *names);

/* Reads and parses path into cf; a syntax or I/O error becomes a
 * diagnostic and false is returned. */
bool config__read(struct loader *ld, config_t *cf, const char *path);

/* Parses one client file into cl (cl->file set by the caller).  Needs the
 * daemon part of ld->c (smtp gateways, default templates) loaded. */
void config__load_client(struct loader *ld, struct pg_client *cl);
void config__free_client(struct pg_client *cl);

/* The "notify" and "channels" of group g (a rule, an escalation step)
 * into r's contacts, oncall and channels; what names g in messages. */
void config__rule_targets(struct loader *ld, struct pg_client *cl,
			  struct pg_rule *r, config_setting_t *g, bool required,
			  const char *what);
/* escalation = ( ... ) of a client (config_escalation.c), after its
 * contacts and on-call rotations; freed with the client. */
void config__load_escalations(struct loader *ld, struct pg_client *cl,
			      config_setting_t *list);
void config__free_escalations(struct pg_client *cl);

/* Checks every client's overrides and every default template against
 * every client that uses it; checks that each channel in use has its
 * templates. */
void config__check_templates(struct loader *ld);

#endif
