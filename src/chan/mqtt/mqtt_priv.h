/*
 * mqtt_priv.h - the parts of the mqtt channel shared between its files:
 * chan_mqtt.c (publishing, the driver table), mqtt_conn.c (the broker
 * connection and the ack subscription), mqtt_config.c (the "mqtt"
 * section of pagegate.conf, device checks, expiry), mqtt_topic.c (topic
 * templates) and mqtt_ack.c (ack payloads); the pure ones are unit-tested
 * (tests/unit/test_mqtt.c).  Not a public contract: only those files
 * include it.
 */
#ifndef PAGEGATE_MQTT_PRIV_H
#define PAGEGATE_MQTT_PRIV_H

#include <pthread.h>

#include <libconfig.h>

#include "pagegate/ack.h"
#include "pagegate/config.h"
#include "pagegate/config_keys.h"

#define MQTT_TOPIC_MAX   1024     /* bytes of a topic, template or expanded */
#define MQTT_ACK_MAX     1024     /* largest ack payload looked at */
#define MQTT_WHO_MAX     128      /* bytes of "who" handed to host->ack */

enum mqtt_proto {
	MQTT_PROTO_V5 = 0,        /* "v5": MQTT 5 only */
	MQTT_PROTO_V311,          /* "v311": MQTT 3.1.1 only (no expiry) */
	MQTT_PROTO_AUTO,          /* "auto": 5, falling back to 3.1.1 when the
				     broker refuses the protocol version */
};

/* The "mqtt" section of pagegate.conf (cfg->chan_cfg[PG_CH_MQTT]). */
struct mqtt_conf {
	char *host;               /* default "127.0.0.1" */
	int port;                 /* default 1883, 8883 with tls */
	bool tls;
	char *ca_file;            /* absolute path; NULL = the system's CAs */
	char *username;           /* NULL = none */
	char *password;           /* NULL = none; never logged */
	char *client_id;          /* default "pagegate" */
	int keepalive_s;          /* default 30 */
	enum mqtt_proto proto;    /* default v5 */
	char *ack_topic;          /* subscription filter; NULL = no acks */
	int qos;                  /* 1 (PUBACK) or 2 (PUBCOMP); default 1 */
	int timeout_s;            /* bound on CONNACK and PUBACK waits; 10 */
};

/* ---- configuration (mqtt_config.c) ---- */

/* channel.h's configuration slots for the mqtt section.  A missing
 * section gives *out = NULL (no broker: mqtt devices are refused).  Every
 * unknown or mistyped key, bad value and problem is a diagnostic
 * "file:line: ..." (config_keys.h). */
extern const struct pg_key mqtt_config_keys[];
extern const struct pg_key mqtt_device_keys[];
extern const struct pg_keytab *const mqtt_config_tables[];
pg_err mqtt_conf_parse(struct pg_conf *cx, const config_setting_t *root, void **out);
void mqtt_conf_free(void *conf);
void mqtt_device_check(struct pg_conf *cx, const void *conf, const struct pg_device *dev);

/* A deep copy of c (NULL for NULL); NULL with *nomem on allocation
 * failure. */
struct mqtt_conf *mqtt_conf_dup(const struct mqtt_conf *c, bool *nomem);
/* True when a and b describe the same broker connection (every field;
 * both NULL counts as equal). */
bool mqtt_conf_same(const struct mqtt_conf *a, const struct mqtt_conf *b);

/* The device option "expiry" in seconds: 0 when absent.  Returns -1 for a
 * malformed value (device_check refuses those). */
int64_t mqtt_device_expiry_s(const struct pg_device *dev);

/* The v5 message-expiry-interval for a page: the smaller of the device's
 * expiry (dev_expiry_s, 0 = none) and the delivery's remaining time
 * (expires_ms, 0 = none; rounded up to whole seconds), capped at
 * UINT32_MAX.  Returns 1 and sets *out when the property is to be sent,
 * 0 when neither bound exists, -1 when the delivery has already expired
 * (expires_ms <= now_ms). */
int mqtt_expiry(int64_t dev_expiry_s, int64_t expires_ms, int64_t now_ms,
		uint32_t *out);

/* ---- topics (mqtt_topic.c) ---- */

/* Checks a device's topic template: UTF-8, no control characters, at
 * most MQTT_TOPIC_MAX bytes, no wildcards ('+', '#'), no empty level (no
 * leading or trailing '/', no "//"), not starting with '$' (broker
 * topics), and only the placeholders {client} and {contact}.  Returns
 * PG_OK or PG_ERR_INVAL with the reason in err. */
pg_err mqtt_topic_check(const char *tmpl, char *err, size_t errlen);

/* Expands tmpl with client and contact ids into out (size outlen) and
 * checks the result as a publish topic (the rules above).  PG_ERR_INVAL
 * (reason in err) for a bad template or value, PG_ERR_TOOBIG when the
 * topic would not fit MQTT_TOPIC_MAX or outlen. */
pg_err mqtt_topic_expand(const char *tmpl, const char *client,
			 const char *contact, char *out, size_t outlen,
			 char *err, size_t errlen);

/* Checks a subscription filter (the ack topic): UTF-8, no controls, at
 * most MQTT_TOPIC_MAX bytes, '+' and '#' only as whole levels and '#'
 * only last.  PG_OK or PG_ERR_INVAL with the reason in err. */
pg_err mqtt_filter_check(const char *filter, char *err, size_t errlen);

/* ---- acknowledgements (mqtt_ack.c) ---- */

/* Parses a message received on the ack topic: a JSON object
 * {"ack": "482913", "by": "jane"} ("ack" a string or a non-negative
 * integer, "by" optional, other members ignored) or plain text "482913",
 * "ack 482913" or "ok 482913" (any case, surrounding blanks and a final
 * '.' or '!' ignored).  A reference is 1..PG_ACK_REF_MAX-1 digits.  On success sets ref and who ("" when the payload names
 * nobody; controls removed, at most MQTT_WHO_MAX-1 bytes) and returns
 * PG_OK; PG_ERR_INVAL (reason in err) for anything else, including
 * payloads over MQTT_ACK_MAX bytes, NUL bytes or invalid UTF-8. */
pg_err mqtt_ack_parse(const void *payload, size_t len, char ref[PG_ACK_REF_MAX],
		      char who[MQTT_WHO_MAX], char *err, size_t errlen);

/* ---- the connection (mqtt_conn.c), shared with chan_mqtt.c ---- */

#define MQTT_EARLY_MAX   64       /* PUBACKs seen before their waiter */
#define MQTT_WHY_MAX     200

struct mosquitto;

/* A published page waiting for its PUBACK. */
struct waiter {
	struct waiter *next, *prev;
	unsigned gen;               /* connection it was published on */
	int mid;
	bool done;
	bool linked;                /* in st->waiters */
	int reason;                 /* PUBACK reason code (0 under 3.1.1) */
	size_t *pending;            /* its send()'s count of waiters not done:
				       the PUBACK that ends it wakes the send() */
};

/* A PUBACK that arrived before send() registered its mid. */
struct early {
	unsigned gen;
	int mid;
	int reason;
	bool used;
};

struct mqtt_state {
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* any change below */
	pthread_t thread;
	bool thread_started;
	_Atomic bool stopping;        /* pg_thread_stop */
	const struct pg_chan_host *host;
	struct mqtt_conf *conf;     /* own copy: the broker connected to;
				       replaced only by the connection thread */
	struct mqtt_conf *next_conf;/* settings of a reloaded configuration */
	bool conf_changed;          /* reconnect with next_conf */
	bool connecting;            /* a connection attempt is under way */
	bool refused;               /* the broker refused the CONNECT */
	bool refused_proto;         /* ... because of the protocol version */
	bool reset;                 /* drop the connection (stuck, unsure) */
	bool lost;                  /* on_disconnect fired */
	struct mosquitto *m;        /* the client, valid while connected */
	bool connected;             /* CONNACK accepted on m */
	bool v5;                    /* m speaks MQTT 5 */
	bool v311_next;             /* "auto": the next attempt uses 3.1.1 */
	unsigned gen;               /* bumped when a connection ends */
	int users;                  /* send() calls publishing on m */
	struct waiter *waiters;
	struct early early[MQTT_EARLY_MAX];
	size_t early_next;
	char why[MQTT_WHY_MAX];          /* why not connected, for replies */
	char last_warn[MQTT_WHY_MAX];    /* repeated failures log once */
	char peer[300];             /* "host:port", for replies */
};

/* The connection thread: connects to st->conf (replacing it with
 * st->next_conf when conf_changed), runs the network loop, reconnects
 * with backoff until st->stopping. */
void *mqtt_conn_main(void *st);

/* Waits on st->cv (st->mu held) at most ms milliseconds. */
void mqtt_wait_ms(struct mqtt_state *st, int64_t ms);

/* Writes the reason into err (when given) and returns PG_ERR_INVAL: the
 * answer of the topic and acknowledgement parsers to bad input
 * (mqtt_topic.c). */
pg_err mqtt_invalid(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
