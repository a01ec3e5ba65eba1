/*
 * channel.h - the channel driver table, the registry of drivers, their
 * lifetime and the one render path.  Each channel (email, fax, sms, pager,
 * mqtt) is a folder src/chan/NAME/ whose chan_NAME.c ends in a constant
 * struct pg_channel with commented slots; src/chan/channel.c lists those
 * tables in one array, as curl's protocols[].  A channel's name, its
 * configuration, its device check, its retry defaults and its preview come
 * from its table and nowhere else.  Drivers never touch the store:
 * they fill in each job's outcome and reply and the scheduler records them;
 * what arrives later (receipts, replies, acknowledgements) they report
 * through the host interface (struct pg_chan_host) that start() receives.
 *
 * A driver plugs into every layer through its table alone:
 *   configuration  its own settings of pagegate.conf (config_keys,
 *                  config_parse), its retry defaults, its devices' settings
 *                  (address_key, device_keys, device_check)
 *   templates      which templates it renders (subject/body names, escaping)
 *   sending        send(), batched per gateway, from scheduler workers
 *   callbacks      http(): requests to /cb/<name>/... (delivery reports,
 *                  inbound replies), authenticated by the driver itself
 *                  (callback tokens from the host, provider signatures)
 */
#ifndef PAGEGATE_CHANNEL_H
#define PAGEGATE_CHANNEL_H

#include <libconfig.h>

#include "pagegate/config.h"
#include "pagegate/config_keys.h"
#include "pagegate/content.h"
#include "pagegate/store.h"
#include "pagegate/template.h"
#include "pagegate/util.h"

#define PG_REPLY_MAX 512
#define PG_TOKEN_LEN 33          /* callback token: 32 hex characters + NUL */
#define PG_ACK_URL_MAX 512       /* a signed acknowledgement link, with NUL */

/* One delivery to attempt, with its content already rendered. */
struct pg_job {
	/* in */
	int64_t delivery_id;
	int64_t message_id;
	const struct pg_client *client;
	const struct pg_contact *contact;
	const struct pg_device *device;  /* the device the delivery was made for;
					    NULL if it was removed by a reload */
	const char *address;         /* recipient address/number/topic/PIN */
	const char *to_name;         /* recipient display name, may be NULL */
	const char *subject;         /* rendered subject_template, may be NULL */
	const char *body;            /* rendered body_template */
	const char *ack_ref;         /* the message's acknowledgement reference */
	enum pg_urgency urgency;
	int64_t expires_ms;          /* the delivery's give-up time (UTC ms) */
	/* out */
	enum pg_outcome outcome;
	char reply[PG_REPLY_MAX];    /* the peer's reply, e.g. "250 2.0.0 Ok" */
};

/* Sets a job's outcome and its reply from fmt (cut to PG_REPLY_MAX on a
 * UTF-8 boundary).  For drivers. */
void pg_job_set(struct pg_job *j, enum pg_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Services of the core for drivers.  All are thread-safe and may block on
 * a store write (group commit); call them from the driver's own threads or
 * from http(), never while holding a lock the scheduler could need. */
struct pg_chan_host {
	void *ctx;
	/* A far-end report about delivery did: state PG_D_DELIVERED or
	 * PG_D_FAILED, or PG_D_SENT for an intermediate report (accepted by
	 * the SMSC, queued) that only goes into the ledger as a "receipt"
	 * event; detail = the report's text for the ledger.
	 * PG_ERR_NOTFOUND for an unknown delivery. */
	pg_err (*receipt)(void *ctx, int64_t did, enum pg_dstate state,
			  const char *detail);
	/* An inbound message on channel ch from `from` (phone number, pager
	 * id ...).  The core matches it to the most recent open delivery
	 * sent to that address on ch: an acknowledgement word ("1", "ok",
	 * "ack", "yes", optionally followed by the ack reference)
	 * acknowledges that message; anything else is stored on it as a
	 * reply for operators.  PG_ERR_NOTFOUND: unknown sender (logged,
	 * ignored). */
	pg_err (*inbound)(void *ctx, enum pg_channel_kind ch, const char *from,
			  const char *text);
	/* An acknowledgement that names the message's ack reference (MQTT
	 * ack topic, WCTP reply).  who is free text for the ledger.
	 * PG_ERR_NOTFOUND for an unknown reference. */
	pg_err (*ack)(void *ctx, enum pg_channel_kind ch, const char *ack_ref,
		      const char *who);
	/* The unguessable token that authenticates callbacks about delivery
	 * did (HMAC-SHA-256 with the server's secret, truncated), and its
	 * constant-time check.  Put it in callback URLs you hand to peers. */
	void (*callback_token)(void *ctx, int64_t did, char out[PG_TOKEN_LEN]);
	bool (*callback_ok)(void *ctx, int64_t did, const char *token);
	/* The signed acknowledgement link (ack_link.h) for delivery did of
	 * message mid: cfg's public_url + "/a/" + a token valid for cfg's
	 * ack_link_ttl from now, into out[0..n) (PG_ACK_URL_MAX bytes hold
	 * it for any public_url under 400 characters); "" when none can be
	 * made.  The template variable ack_url.  Optional: NULL = no links. */
	void (*ack_url)(void *ctx, const struct pg_config *cfg, int64_t mid,
			int64_t did, char *out, size_t n);
	/* "Pass it to the next person" (a key on a voice call): the
	 * escalation of delivery did's message runs its next step now, by
	 * who (ledger text).  PG_ERR_INVAL when the message has no
	 * escalation or none left, PG_ERR_NOTFOUND.  Optional: NULL = none. */
	pg_err (*escalate)(void *ctx, int64_t did, const char *who);
	/* The check-in mailbox of client_id (contact_id's only, unless
	 * NULL), as pg_store_mailbox: listed, or with take retrieved by who
	 * exactly as GET /v1/clients/{id}/mailbox retrieves - only delivery
	 * did when did > 0 (a message heard on the phone), else all.  *out
	 * is freed with pg_mailbox_free.  Optional: NULL = none (the voice
	 * mailbox). */
	pg_err (*mailbox)(void *ctx, const char *client_id, const char *contact_id,
			  bool take, int64_t did, const char *who,
			  struct pg_mailbox_item **out, size_t *n);
};

/* A request to /cb/<channel>/..., as the HTTP layer hands it to http(). */
struct pg_http_req {
	const char *method;          /* "GET", "POST" */
	const char *path;            /* what follows "/cb/<channel>", e.g. "/dlr/34/TOKEN" */
	const char *url;             /* public_url + the whole requested path and
					query, as a provider signs it */
	const struct pg_kv *params;  /* decoded query parameters, then decoded
					application/x-www-form-urlencoded body fields */
	size_t n_params;
	const char *body;            /* raw body (NUL-terminated), may be "" */
	size_t body_len;
	const char *content_type;    /* may be NULL */
	/* A request header by name (case-insensitive), or NULL. */
	const char *(*header)(const struct pg_http_req *r, const char *name);
	void *conn;                  /* for header() */
};

/* The first parameter named name, or NULL. */
const char *pg_http_param(const struct pg_http_req *r, const char *name);

/* What http() answers.  Preset: status 200, content type "text/plain",
 * empty body (bounded at 64 KiB). */
struct pg_http_resp {
	int status;
	char content_type[64];
	struct pg_buf body;
};

/* How the scheduler follows a send_each() job by job. */
struct pg_send_ctl {
	void *arg;
	/* Job i is about to be attempted (called in order, once per job, also
	 * for one the driver then fails without the network): true = go on
	 * (its attempt is recorded now); false = stop before it: jobs i..n-1
	 * are handed back unstarted (the scheduler wants the worker for more
	 * urgent work, or is stopping) and the driver leaves them untouched. */
	bool (*start)(void *arg, size_t i);
	/* Job i's outcome and reply are final (the far end answered it, or it
	 * failed): the scheduler records them now, before the next job. */
	void (*done)(void *arg, size_t i);
};

struct pg_channel {
	const char *name;                 /* "email"; also its config section */
	enum pg_channel_kind kind;
	size_t max_batch;                 /* most jobs per send() call */
	/* Optional: the most jobs worth handing over at once to gateway
	 * (NULL = the default one) under cfg, e.g. one SMTP session's worth.
	 * A worker holds its whole batch until send() returns, so this bounds
	 * how long an emergency can wait for a worker busy with routine
	 * work.  0 or NULL: max_batch. */
	size_t (*batch_for)(const struct pg_config *cfg, const char *gateway);

	/* Templates rendered for each job: subject_template into job->subject
	 * when such a template exists (NULL = none), body_template (required,
	 * e.g. "sms.txt", "mqtt.json") into job->body with body_escape applied
	 * to the variables' values.  The configuration refuses to load when a
	 * device uses this channel and body_template is missing. */
	const char *subject_template;
	const char *body_template;
	enum pg_escape body_escape;

	/* ---- configuration (config_keys.h declares keys and reports) ---- */
	/* The top-level settings of pagegate.conf this driver owns, with
	 * their types, ending with a NULL name: { "sms", PG_KT_LIST }; email
	 * owns "smtp" and "default_smtp".  The daemon file's walk leaves
	 * them to config_parse; no other file names them. */
	const struct pg_key *config_keys;
	/* Optional: parses those settings from the root of pagegate.conf
	 * (any may be absent: fetch each with pg_conf_section) into *out,
	 * walking the driver's key tables with pg_conf_apply and reporting
	 * what is not per key with the pg_conf_* helpers into cx.  Returns
	 * PG_ERR_CONFIG after reporting, PG_ERR_NOMEM.  The result is stored
	 * in cfg->chan_cfg[kind] and freed with config_free. */
	pg_err (*config_parse)(struct pg_conf *cx, const config_setting_t *root,
			       void **out);
	void (*config_free)(void *chan_cfg);
	/* Every key table config_parse walks, NULL-terminated: the unit test
	 * proves each one's bounds fit its fields. */
	const struct pg_keytab *const *config_tables;
	/* Retry policy of the channel's deliveries when pagegate.conf's
	 * retry group does not set one; zeros: PG_RETRY_DEFAULT. */
	struct pg_retry_policy retry;

	/* Devices in client files: the setting that may carry the address
	 * instead of "to" (the pager's "pin"; NULL = only "to"/"topic"); the
	 * driver's own device settings (checked only: their values reach
	 * device_check and send() as text in dev->opts, see
	 * pg_device_opt), ending with a NULL name.  A device with any other
	 * setting is refused. */
	const char *address_key;
	const struct pg_key *device_keys;
	/* Optional: checks one device of this channel: the address form,
	 * that a named gateway exists in chan_cfg (NULL when the driver's
	 * settings are absent), what the device keys cannot say alone.
	 * Reports with the pg_conf_* helpers at dev->line of cx->file. */
	void (*device_check)(struct pg_conf *cx, const void *chan_cfg,
			     const struct pg_device *dev);

	/* Optional: long-lived state (connections, subscriptions, threads).
	 * host stays valid until stop() returns. */
	pg_err (*start)(const struct pg_config *cfg, const struct pg_chan_host *host,
			void **state);
	void (*stop)(void *state);

	/* Attempts every job, all for the same gateway (NULL = default), and
	 * sets each job's outcome and reply.  Blocking; called from a worker
	 * thread; must bound every wait with a timeout.  cfg stays valid for
	 * the duration of the call. */
	void (*send)(void *state, const struct pg_config *cfg,
		     const char *gateway, struct pg_job *jobs, size_t n);
	/* Optional, preferred to send() by the scheduler: the same, one job
	 * after another, calling ctl->start(i) before job i and ctl->done(i)
	 * as soon as its outcome is known, and stopping before the first job
	 * start() refuses.  Returns how many jobs were started (each of them
	 * done); the rest are untouched.  So a long session can be cut
	 * between messages for an emergency or a stop, and each outcome is
	 * recorded when the far end gives it, not when the session ends. */
	size_t (*send_each)(void *state, const struct pg_config *cfg,
			    const char *gateway, struct pg_job *jobs, size_t n,
			    const struct pg_send_ctl *ctl);

	/* Optional: serves requests to /cb/<name>/... (no operator token:
	 * the driver authenticates them).  Called from HTTP threads. */
	void (*http)(void *state, const struct pg_config *cfg,
		     const struct pg_http_req *req, struct pg_http_resp *resp);

	/* Optional: what `pagegate render -o OUT` writes for this channel
	 * when its content is not plain text (the fax's TIFF, the voice's
	 * WAV): the rendered body for client cl's device dev (NULL = the
	 * channel's defaults), with the
	 * device settings in over[0..n_over) replaced (the command line's
	 * --resolution fine is { "resolution", "fine" }), into the file out.
	 * On success a one-line description of what was written goes to
	 * summary.  PG_ERR_INVAL: an override is bad (why names it: a usage
	 * error); another error: why says what failed.  Without preview,
	 * render prints the subject and body. */
	pg_err (*preview)(const struct pg_client *cl, const struct pg_device *dev,
			  const struct pg_kv *over, size_t n_over, const char *body,
			  const char *out, char *summary, size_t slen);
};

/* ---- the registry (src/chan/channel.c) ---- */

/* The driver for a channel; NULL for PG_CH_MAILBOX (nothing is sent: the
 * store keeps those deliveries until they are retrieved) and for a kind
 * out of range. */
const struct pg_channel *pg_channel_for(enum pg_channel_kind k);
/* pg_channel_name() and pg_channel_parse() (common.h) read the same
 * tables: a channel's name is written once, in its table. */

/* ---- the running drivers ---- */

/* The drivers of one daemon, each started with its long-lived state. */
struct pg_channels;

/* Starts the driver of every channel that has a start() (lookup NULL =
 * the registry; tests pass a table of their own), with cfg and host
 * (which must outlive the set).  When one fails the ones started are
 * stopped again and its error returned (logged with the channel).
 * PG_ERR_NOMEM. */
pg_err pg_channels_start(const struct pg_config *cfg, const struct pg_chan_host *host,
			 const struct pg_channel *(*lookup)(enum pg_channel_kind),
			 struct pg_channels **out);
/* Stops every driver started (NULL is fine) and frees the set. */
void pg_channels_stop(struct pg_channels *set);
/* The set's driver for k (its lookup's), or NULL. */
const struct pg_channel *pg_channels_driver(const struct pg_channels *set,
					    enum pg_channel_kind k);
/* The state k's start() made (NULL without one), for send() and http(). */
void *pg_channels_state(const struct pg_channels *set, enum pg_channel_kind k);
/* The host the set was started with (NULL in tests that have none). */
const struct pg_chan_host *pg_channels_host(const struct pg_channels *set);

/* ---- the render path: the scheduler and `pagegate render` ---- */

/* The contact's device a delivery on channel ch to address was made for,
 * or NULL (a reload removed it). */
const struct pg_device *pg_contact_device(const struct pg_contact *ct,
					  enum pg_channel_kind ch, const char *address);

/* One delivery's content as its channel sends it. */
struct pg_rendered {
	struct pg_buf subject;      /* empty unless has_subject */
	struct pg_buf body;
	bool has_subject;           /* the channel's subject template exists */
	enum pg_content content;    /* the level its variables were rendered at */
};
#define PG_RENDER_MAX (64 * 1024)   /* one rendered template */
void pg_rendered_init(struct pg_rendered *r);
void pg_rendered_free(struct pg_rendered *r);

/* Renders drv's templates for message m to contact ct (NULL: none, for a
 * preview) on its device dev (NULL: none or removed) of client cl under
 * cfg: the variables of the message at dev's content level (else the
 * client's for the channel, else full; content.h), {{ack_url}} = ack_url
 * ("" for none), the subject template when the channel has one and it
 * exists, then the body with the channel's escaping.  did is the
 * delivery's id (0 for a preview).  PG_ERR_NOMEM (worth retrying), or
 * another error with why saying what ("no template pager.txt for client
 * acme", "template sms.txt: ..."); out holds what was rendered so far. */
pg_err pg_channel_render(const struct pg_config *cfg, const struct pg_channel *drv,
			 const struct pg_client *cl, const struct pg_contact *ct,
			 const struct pg_device *dev, const struct pg_message *m,
			 int64_t did, const char *ack_url, struct pg_rendered *out,
			 char *why, size_t wlen);

#endif
