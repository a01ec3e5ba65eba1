/*
 * config.h - the daemon configuration (etc/pagegate.conf) and the client
 * preference files (etc/clients/NAME.conf), read with libconfig.
 *
 * Loading validates everything and reports every problem as a diagnostic
 * "file:line: what is wrong".  A loaded configuration is immutable and
 * reference-counted so that SIGHUP can swap in a new one while workers still
 * use the old one (struct pg_live_config).
 */
#ifndef PAGEGATE_CONFIG_H
#define PAGEGATE_CONFIG_H

#include <pthread.h>
#include "pagegate/common.h"
#include "pagegate/content.h"
#include "pagegate/tz.h"

/* ---- diagnostics ---- */

struct pg_diag {
	char file[256];
	int line;            /* always >= 1: a problem of a whole file (it
				cannot be opened, a required top-level key
				is missing) is at line 1 */
	char msg[256];       /* a warning's starts with "warning: " */
	bool warning;        /* never fails a load (config_keys.h) */
};
struct pg_diags {
	struct pg_diag *v;
	size_t n, cap;
};
void pg_diags_init(struct pg_diags *d);
void pg_diags_free(struct pg_diags *d);
/* Records one diagnostic, an error (silently drops past 1000).  The
 * configuration's own wordings are in config_keys.h. */
void pg_diag_add(struct pg_diags *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The diagnostics of d that are errors (not warnings). */
size_t pg_diags_errors(const struct pg_diags *d);

/* ---- client preference file ---- */

struct pg_device {
	enum pg_channel_kind channel;
	char *to;          /* address/number/topic/PIN: "to", its synonym
			      "topic", or the setting the channel names for
			      it (channel.h address_key: the pager's "pin") */
	char *gateway;     /* gateway name, NULL = channel default */
	struct pg_kv *opts; /* the driver's own device settings (channel.h
			      device_keys), checked, as text: numbers as
			      written in decimal, durations and names as
			      written; e.g. max_segments = 3 */
	size_t n_opts;
	enum pg_content content; /* content = "full"/"summary"/"notify"; UNSET =
			      the client's level for the channel (content.h) */
	int line;
};

/* The value of device option name, or NULL. */
const char *pg_device_opt(const struct pg_device *dev, const char *name);

struct pg_contact {
	char *id;
	char *name;
	struct pg_device *devices;   /* none needed when checkin */
	size_t n_devices;
	bool checkin;      /* checkin = true: messages are kept in the
			      check-in mailbox, not pushed to the devices */
	int line;
};

/* One business-hours range: on the days in the mask, from..to local time. */
struct pg_hours {
	unsigned days;     /* bit d set = open on weekday d (0 = Sunday) */
	int from_min;      /* minutes after local midnight, 0..1439 */
	int to_min;        /* 1..1440, > from_min */
	int line;
};

struct pg_date { int year, month, day; };

struct pg_field {
	char *id;
	char *label;
	bool required;
	int line;
};

enum pg_hours_cond { PG_HOURS_ANY = 0, PG_HOURS_BUSINESS, PG_HOURS_AFTER };

struct pg_rotation;          /* oncall.h */

/* "oncall:ID" (offset 0: who is on duty) or "oncall:ID+N" (the Nth next
 * member of the rotation: the backup). */
struct pg_oncall_ref {
	size_t rotation;       /* index into client->rotations */
	int offset;
};

/* A routing rule: "when" conditions -> recipients and channels.  Rules are
 * evaluated in file order; the first that matches decides, unless it has
 * continue = true, in which case later matching rules add to the plan. */
struct pg_rule {
	int kind;              /* -1 = any, else enum pg_kind */
	int urgency;           /* -1 = any, else enum pg_urgency */
	enum pg_hours_cond hours;
	size_t *contacts;      /* indexes into client->contacts, from notify */
	size_t n_contacts;
	struct pg_oncall_ref *oncall;  /* on-call targets, resolved at the instant */
	size_t n_oncall;
	unsigned channels;     /* bit per pg_channel_kind; 0 = every device */
	bool hold_business;    /* hold = "business" */
	bool cont;             /* continue = true */
	size_t escalate;       /* escalate = "ID": index + 1 into
				  client->escalations; 0 = none */
	int line;
};

/* One step of an escalation policy: whom to notify on which channels
 * (only the notify/channels part of target is used), then how long to
 * wait for an acknowledgement before the next step. */
struct pg_esc_step {
	struct pg_rule target;
	int wait_s;
	int line;
};

/* escalation = ( { id; repeat; steps = ( ... ); } ): the steps run in
 * order, the whole sequence `repeat` times, until someone acknowledges;
 * after the last step's wait the message is flagged unacknowledged. */
struct pg_escalation {
	char *id;
	int repeat;            /* rounds, >= 1 */
	struct pg_esc_step *steps;
	size_t n_steps;
	int line;
};

/* summary = { every = "4h"; } or { at = "07:00"; }, empty = true,
 * notify = ...: a periodic email of the client's messages (summary.h). */
struct pg_summary {
	int every_s;           /* every so long; 0: daily at at_min */
	int at_min;            /* minutes after local midnight (every_s == 0) */
	bool empty;            /* sent also when there were no messages */
	struct pg_rule target; /* whom (notify: contacts, on-call) */
	int line;              /* 0: the client has no summary */
};

/* A template text: a default from templates/ or a client's override. */
struct pg_template {
	char *name;            /* "email.subject", "email.txt", ... */
	char *text;
	char *file;            /* where it came from, for diagnostics */
	int line;              /* line of the text in that file (1 for files) */
};

struct pg_client {
	char *id;
	char *name;
	char *file;
	char *tzid;
	const struct pg_tz *tz;
	char **dnis;
	size_t n_dnis;
	struct pg_hours *hours;
	size_t n_hours;
	struct pg_date *holidays;
	size_t n_holidays;
	char *instructions;          /* may be NULL */
	char *greeting;              /* what the operator says on answering; the
					default names the client */
	struct pg_field *fields;
	size_t n_fields;
	struct pg_contact *contacts;
	size_t n_contacts;
	struct pg_rotation *rotations;   /* on-call schedules (oncall.h) */
	size_t n_rotations;
	struct pg_escalation *escalations;
	size_t n_escalations;
	struct pg_rule *rules;
	size_t n_rules;
	struct pg_template *templates;   /* overrides */
	size_t n_templates;
	enum pg_content content[PG_CH__COUNT]; /* content = { sms = "summary"; } */
	char *callback;              /* number staff call to hear a message: the
					client's, else pagegate.conf's; may be NULL */
	struct pg_summary summary;   /* line 0: none */
	char *language;              /* speech: "en", "el" ... (default "en") */
	char *pin;                   /* the voice mailbox's PIN, digits; may be NULL */
};

/* ---- daemon configuration ---- */

struct pg_operator {
	char *name;
	char token_sha256[65];   /* lower-case hex */
	int line;
};

struct pg_retry_policy {
	int base_s;          /* first retry delay */
	int cap_s;           /* largest delay */
	int give_up_s;       /* a delivery older than this fails */
};
/* The policy of a channel whose driver names none (channel.h retry). */
#define PG_RETRY_DEFAULT { 30, 10 * 60, 4 * 3600 }

struct pg_config {
	char *file;               /* the daemon configuration file */
	char *listen;             /* address, default "127.0.0.1" */
	int port;                 /* default 8025 */
	char *store_dsn;          /* store.dsn with a sqlite: path resolved
				     against the file's directory:
				     "sqlite:/abs/path" (pg_store_open) */
	int64_t store_max_mb;     /* 0 = no limit; past it intake answers 503 */
	char *templates_dir;
	char *clients_dir;
	char *public_url;         /* how peers reach us, for links/callbacks */
	int ack_link_ttl_s;       /* signed ack links stay valid (default 72h) */
	char *node;               /* this node's name on a shared store, or NULL */
	int node_lease_s;         /* a node's claim on a delivery (default 30 s) */
	char **node_channels;     /* the channels this node sends (none: all) */
	size_t n_node_channels;
	size_t max_body;          /* HTTP body limit, bytes (default 65536) */
	int max_per_address;      /* HTTP connections from one address (default 32) */
	int head_timeout_s;       /* a request's head, in all (default 10 s) */
	int body_timeout_s;       /* a request's body, in all (default 60 s) */
	char *tls_cert, *tls_key; /* PEM files: the port speaks only TLS; both
				     or neither (read at start) */
	int workers;              /* delivery worker threads (default 4) */
	/* console = { dir; idle; max_streams; } */
	char *console_dir;        /* serve the console from here instead of the
				     files built in (development); NULL */
	int console_idle_s;       /* a console session ends after this long
				     without a request (default 30m) */
	int console_max_streams;  /* open event streams at most (default 64) */
	struct pg_operator *operators;
	size_t n_operators;
	char *callback;           /* default callback number (content.h), may be NULL */
	struct pg_retry_policy retry[PG_CH__COUNT];
	struct pg_template *templates;    /* defaults from templates_dir */
	size_t n_templates;
	struct pg_client *clients;
	size_t n_clients;
	/* Each channel driver's own settings ("smtp", "sms" ...), parsed by
	 * its config_parse (NULL when the driver has none). */
	void *chan_cfg[PG_CH__COUNT];

	int refs;                 /* managed by pg_config_hold/release */
};

/* Loads path (the daemon file) and every *.conf under its clients_dir and
 * every file of its templates_dir; validates all of it (unknown keys, bad
 * values, unknown contacts/gateways, duplicate ids, bad time zones/ranges,
 * template variables).  Relative paths in the file are taken relative to the
 * file's directory.  On success *out has refs = 1.  On failure returns
 * PG_ERR_CONFIG with at least one diagnostic in d and *out = NULL.
 * Warnings (a deprecated setting) are diagnostics too but never fail a
 * load: PG_OK with them in d. */
pg_err pg_config_load(const char *path, struct pg_config **out, struct pg_diags *d);

void pg_config_hold(struct pg_config *c);
void pg_config_release(struct pg_config *c);   /* frees at zero refs */

const struct pg_client *pg_config_client(const struct pg_config *c, const char *id);
const struct pg_client *pg_config_client_by_dnis(const struct pg_config *c, const char *dnis);
const struct pg_contact *pg_client_contact(const struct pg_client *cl, const char *id);
/* The client's escalation policy id, or NULL. */
const struct pg_escalation *pg_client_escalation(const struct pg_client *cl,
						 const char *id);
const struct pg_field *pg_client_field(const struct pg_client *cl, const char *id);
/* The operator whose token hashes to the stored hash (constant time), or NULL. */
const struct pg_operator *pg_config_auth(const struct pg_config *c, const char *token);
/* The operator called name, or NULL. */
const struct pg_operator *pg_config_operator(const struct pg_config *c, const char *name);
/* The template text for name: the client's override, else the default;
 * NULL when neither exists. */
const struct pg_template *pg_config_template(const struct pg_config *c,
	const struct pg_client *cl, const char *name);
/* Retry policy of a channel (PG_RETRY_DEFAULT for a kind out of range). */
const struct pg_retry_policy *pg_config_retry(const struct pg_config *c,
	enum pg_channel_kind ch);

/* ---- the live configuration, swapped on SIGHUP ---- */

struct pg_live_config {
	pthread_mutex_t mu;
	struct pg_config *cur;
};
void pg_live_init(struct pg_live_config *l, struct pg_config *c);  /* takes c's ref */
/* Returns the current configuration with a reference the caller releases. */
struct pg_config *pg_live_get(struct pg_live_config *l);
/* Installs c (taking its reference) and releases the old one. */
void pg_live_swap(struct pg_live_config *l, struct pg_config *c);
void pg_live_destroy(struct pg_live_config *l);

#endif
