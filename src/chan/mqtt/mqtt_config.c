/*
 * mqtt_config.c - the "mqtt" section of pagegate.conf (the broker), the
 * check of mqtt devices in client files, and the page expiry rule.
 *
 *   mqtt = { host = "127.0.0.1"; port = 1883; tls = false; ca_file = "ca.pem";
 *            username = "pagegate"; password = "..."; client_id = "pagegate";
 *            keepalive = 30; protocol = "v5"; ack_topic = "pages/+/+/ack";
 *            qos = 1; timeout = "10s"; };
 *   device: { channel = "mqtt"; topic = "pages/{client}/{contact}"; expiry = "1h"; }
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>

#include "mqtt_priv.h"
#include "pagegate/util.h"

#define DEFAULT_HOST      "127.0.0.1"
#define DEFAULT_CLIENT_ID "pagegate"
#define DEFAULT_ACK_TOPIC "pages/+/+/ack"
#define DEFAULT_PORT      1883
#define DEFAULT_TLS_PORT  8883
#define DEFAULT_KEEPALIVE 30
#define MIN_KEEPALIVE     5        /* libmosquitto refuses less (but 0) */
#define MAX_KEEPALIVE     65535
#define DEFAULT_TIMEOUT   10
#define MAX_TIMEOUT       300
#define HOST_MAX          255
#define CLIENT_ID_MAX     64
#define CRED_MAX          255
#define ERR_MAX           200

#define C struct mqtt_conf

static const char *const proto_names[] = { "v5", "v311", "auto", NULL };

static const struct pg_key broker_keys[] = {
	{ "host", PG_KT_STR, PG_AT(C, host), .lo = 1, .hi = HOST_MAX, .defs = DEFAULT_HOST },
	{ "port", PG_KT_INT, PG_KF_KEEP, PG_AT(C, port), .lo = 1, .hi = 65535 },
	{ "tls", PG_KT_BOOL, PG_AT(C, tls) },
	{ "ca_file", PG_KT_PATH, PG_KF_READABLE, PG_AT(C, ca_file), .lo = 1,
	  .hi = PATH_MAX / 2 },
	{ "username", PG_KT_STR, PG_AT(C, username), .lo = 1, .hi = CRED_MAX },
	{ "password", PG_KT_STR, PG_AT(C, password), .lo = 0, .hi = CRED_MAX },
	{ "client_id", PG_KT_STR, PG_AT(C, client_id), .lo = 1, .hi = CLIENT_ID_MAX,
	  .defs = DEFAULT_CLIENT_ID },
	{ "keepalive", PG_KT_DUR, PG_AT(C, keepalive_s), .lo = MIN_KEEPALIVE,
	  .hi = MAX_KEEPALIVE, .def = DEFAULT_KEEPALIVE },
	{ "protocol", PG_KT_ENUM, PG_AT(C, proto), .lo = MQTT_PROTO_V5,
	  .hi = MQTT_PROTO_AUTO, .def = MQTT_PROTO_V5, .names = proto_names },
	{ "ack_topic", PG_KT_STR, PG_AT(C, ack_topic), .lo = 0, .hi = MQTT_TOPIC_MAX,
	  .defs = DEFAULT_ACK_TOPIC },
	{ "qos", PG_KT_INT, PG_AT(C, qos), .lo = 0, .hi = 2, .def = 1 },
	{ "timeout", PG_KT_DUR, PG_AT(C, timeout_s), .lo = 1, .hi = MAX_TIMEOUT,
	  .def = DEFAULT_TIMEOUT },
	PG_KEY_END
};
static const struct pg_keytab broker_tab = { "mqtt", broker_keys, NULL };

const struct pg_key mqtt_config_keys[] = {
	{ .name = "mqtt", .type = PG_KT_GROUP },
	PG_KEY_END
};
const struct pg_keytab *const mqtt_config_tables[] = { &broker_tab, NULL };

/* Checked only: the value reaches mqtt_device_expiry_s as text. */
const struct pg_key mqtt_device_keys[] = {
	{ "expiry", PG_KT_DUR, .lo = 1, .hi = UINT32_MAX },
	PG_KEY_END
};

#define AT(g, n) config_setting_get_member(g, n)

pg_err
mqtt_conf_parse(struct pg_conf *cx, const config_setting_t *root, void **out)
{
	const config_setting_t *sec = pg_conf_section(cx, root, &mqtt_config_keys[0]);
	int before = cx->errors;
	struct mqtt_conf *c;
	char err[ERR_MAX];

	*out = NULL;
	if (!sec)                               /* no broker, or reported */
		return pg_conf_has(root, "mqtt") ? PG_ERR_CONFIG : PG_OK;
	if (!(c = calloc(1, sizeof *c)))
		return PG_ERR_NOMEM;
	pg_conf_apply(cx, sec, &broker_tab, c);
	if (!c->port)
		c->port = c->tls ? DEFAULT_TLS_PORT : DEFAULT_PORT;
	if (c->ca_file && !c->tls)
		pg_conf_error(cx, AT(sec, "ca_file"), 0, "\"ca_file\" is set but tls is false");
	if (c->password && !c->username)
		pg_conf_error(cx, AT(sec, "password"), 0, "\"password\" needs a \"username\"");
	if (c->client_id && strspn(c->client_id, "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(c->client_id))
		pg_conf_bad(cx, AT(sec, "client_id"), 0, "client_id", c->client_id, NULL,
			    "letters, digits, '.', '_' and '-'");
	if (pg_conf_member(sec, &broker_tab, 0, "qos") && c->qos == 0)
		pg_conf_error(cx, AT(sec, "qos"), 0, "qos 0 has no broker acknowledgement: "
			      "use 1 (PUBACK) or 2");
	if (c->ack_topic && !c->ack_topic[0]) {          /* "" = no acks */
		free(c->ack_topic);
		c->ack_topic = NULL;
	} else if (c->ack_topic && mqtt_filter_check(c->ack_topic, err, sizeof err)) {
		pg_conf_bad(cx, AT(sec, "ack_topic"), 0, "ack_topic", c->ack_topic, NULL,
			    "a subscription filter: %s", err);
	}
	return pg_conf_parsed(cx, before, c, mqtt_conf_free, out);
}

void
mqtt_conf_free(void *conf)
{
	struct mqtt_conf *c = conf;

	if (!c)
		return;
	free(c->host);
	free(c->ca_file);
	free(c->username);
	if (c->password) {
		memset(c->password, 0, strlen(c->password));
		free(c->password);
	}
	free(c->client_id);
	free(c->ack_topic);
	free(c);
}

struct mqtt_conf *
mqtt_conf_dup(const struct mqtt_conf *c, bool *nomem)
{
	struct mqtt_conf *n;

	*nomem = false;
	if (!c)
		return NULL;
	if (!(n = calloc(1, sizeof *n))) {
		*nomem = true;
		return NULL;
	}
	*n = *c;
	n->host = pg_strdup(c->host);
	n->ca_file = pg_strdup(c->ca_file);
	n->username = pg_strdup(c->username);
	n->password = pg_strdup(c->password);
	n->client_id = pg_strdup(c->client_id);
	n->ack_topic = pg_strdup(c->ack_topic);
	if ((c->host && !n->host) || (c->ca_file && !n->ca_file) ||
	    (c->username && !n->username) || (c->password && !n->password) ||
	    (c->client_id && !n->client_id) || (c->ack_topic && !n->ack_topic)) {
		mqtt_conf_free(n);
		*nomem = true;
		return NULL;
	}
	return n;
}

static bool
str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool
mqtt_conf_same(const struct mqtt_conf *a, const struct mqtt_conf *b)
{
	if (!a || !b)
		return a == b;
	return str_same(a->host, b->host) && a->port == b->port && a->tls == b->tls &&
	       str_same(a->ca_file, b->ca_file) && str_same(a->username, b->username) &&
	       str_same(a->password, b->password) && str_same(a->client_id, b->client_id) &&
	       a->keepalive_s == b->keepalive_s && a->proto == b->proto &&
	       str_same(a->ack_topic, b->ack_topic) && a->qos == b->qos &&
	       a->timeout_s == b->timeout_s;
}

/* ---- devices ---- */

int64_t
mqtt_device_expiry_s(const struct pg_device *dev)
{
	const char *v = dev ? pg_device_opt(dev, "expiry") : NULL;
	int64_t s;

	if (!v)
		return 0;
	if (pg_parse_duration(v, &s) != 0 || s <= 0 || s > (int64_t)UINT32_MAX)
		return -1;
	return s;
}

void
mqtt_device_check(struct pg_conf *cx, const void *conf, const struct pg_device *dev)
{
	const struct mqtt_conf *c = conf;
	char err[ERR_MAX], sample[MQTT_TOPIC_MAX + 1];
	bool match = false;

	if (!c)
		pg_conf_no_gateway(cx, dev->line, "mqtt", "mqtt broker (an \"mqtt\" section)");
	if (dev->gateway)
		pg_conf_error(cx, NULL, dev->line, "mqtt devices have no \"gateway\": the "
			      "broker is the \"mqtt\" section of the daemon configuration");
	if (dev->to && mqtt_topic_check(dev->to, err, sizeof err))
		pg_conf_error(cx, NULL, dev->line, "mqtt topic \"%.100s\": %s", dev->to, err);
	else if (dev->to && c && c->ack_topic &&
		 mqtt_topic_expand(dev->to, "client", "contact", sample, sizeof sample,
				   err, sizeof err) == PG_OK &&
		 mosquitto_topic_matches_sub(c->ack_topic, sample, &match) == MOSQ_ERR_SUCCESS &&
		 match)
		pg_conf_error(cx, NULL, dev->line, "mqtt topic \"%.100s\" would match the "
			      "ack_topic \"%.100s\": pages would come back as acknowledgements",
			      dev->to, c->ack_topic);
}

int
mqtt_expiry(int64_t dev_expiry_s, int64_t expires_ms, int64_t now_ms, uint32_t *out)
{
	int64_t s = -1, left;

	if (expires_ms > 0) {
		if (expires_ms <= now_ms)
			return -1;
		left = (expires_ms - now_ms + 999) / 1000;
		s = left;
	}
	if (dev_expiry_s > 0 && (s < 0 || dev_expiry_s < s))
		s = dev_expiry_s;
	if (s < 0)
		return 0;
	*out = s > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)s;
	return 1;
}
