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
#include <libgen.h>
#include <stdarg.h>
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

enum ktype { K_STR, K_INT, K_BOOL, K_DUR };

static const struct key { const char *name; enum ktype type; } keys[] = {
	{ "host", K_STR }, { "port", K_INT }, { "tls", K_BOOL }, { "ca_file", K_STR },
	{ "username", K_STR }, { "password", K_STR }, { "client_id", K_STR },
	{ "keepalive", K_DUR }, { "protocol", K_STR }, { "ack_topic", K_STR },
	{ "qos", K_INT }, { "timeout", K_DUR }, { NULL, 0 }
};
static const char *const type_names[] = { "a string", "an integer", "true or false",
	"a duration (\"30s\", \"5m\") or seconds" };
static const char *const device_opts[] = { "expiry", NULL };

/* ---- parsing ---- */

struct parse {
	const char *file;
	struct pg_diags *d;
	int errors;
	bool nomem;
};

static void
diag(struct parse *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
diag(struct parse *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pg_diag_add(p->d, p->file, s ? (int)config_setting_source_line(s) : 0, "mqtt: %s", msg);
	p->errors++;
}

static const struct key *
key_of(const char *name)
{
	for (const struct key *k = keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* Edit distance of a and b, capped: enough to suggest a misspelt key. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t row[64];

	if (la >= sizeof row / sizeof row[0] || lb >= sizeof row / sizeof row[0])
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			tmp = row[j];
			row[j] = cur;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The closest known name to s (edit distance <= 2), or NULL: from the
 * NULL-terminated names, or from the key table when names is NULL. */
static const char *
closest(const char *s, const char *const *names)
{
	const char *best = NULL, *n;
	size_t bd = 3, dd, i;

	for (i = 0; (n = names ? names[i] : keys[i].name); i++)
		if ((dd = distance(s, n)) < bd) {
			bd = dd;
			best = n;
		}
	return best;
}

static bool
type_ok(const config_setting_t *m, enum ktype t)
{
	int ct = config_setting_type(m);

	switch (t) {
	case K_STR:  return ct == CONFIG_TYPE_STRING;
	case K_INT:  return ct == CONFIG_TYPE_INT || ct == CONFIG_TYPE_INT64;
	case K_BOOL: return ct == CONFIG_TYPE_BOOL;
	case K_DUR:  return ct == CONFIG_TYPE_INT || ct == CONFIG_TYPE_INT64 ||
			    ct == CONFIG_TYPE_STRING;
	}
	return false;
}

/* Member name of the section when present with the right type. */
static const config_setting_t *
member(const config_setting_t *sec, const char *name)
{
	const config_setting_t *m = config_setting_get_member(sec, name);
	const struct key *k = key_of(name);

	return m && k && type_ok(m, k->type) ? m : NULL;
}

/* A string value: UTF-8, no controls, 1..max bytes (0 allowed with
 * empty_ok); copied into *out. */
static void
get_str(struct parse *p, const config_setting_t *sec, const char *name, size_t max,
	bool empty_ok, char **out)
{
	const config_setting_t *m = member(sec, name);
	const char *v;
	size_t n;

	if (!m)
		return;
	v = config_setting_get_string(m);
	n = v ? strlen(v) : 0;
	if (!v || (n == 0 && !empty_ok))
		diag(p, m, "\"%s\" is empty", name);
	else if (n > max)
		diag(p, m, "\"%s\" is longer than %zu bytes", name, max);
	else if (!pg_utf8_valid(v, n) || pg_has_ctl(v, false))
		diag(p, m, "\"%s\" must be UTF-8 text without control characters", name);
	else {
		free(*out);
		if (!(*out = strdup(v)))
			p->nomem = true;
	}
}

static void
get_int(struct parse *p, const config_setting_t *sec, const char *name,
	long long lo, long long hi, int *out)
{
	const config_setting_t *m = member(sec, name);
	long long v;

	if (!m)
		return;
	v = config_setting_get_int64(m);
	if (v < lo || v > hi)
		diag(p, m, "\"%s\" must be between %lld and %lld", name, lo, hi);
	else
		*out = (int)v;
}

/* A duration in seconds, lo..hi. */
static void
get_dur(struct parse *p, const config_setting_t *sec, const char *name,
	int64_t lo, int64_t hi, int *out)
{
	const config_setting_t *m = member(sec, name);
	int64_t v;

	if (!m)
		return;
	if (config_setting_type(m) == CONFIG_TYPE_STRING) {
		if (pg_parse_duration(config_setting_get_string(m), &v) != 0) {
			diag(p, m, "\"%s\": bad duration \"%.40s\" (expected e.g. \"30s\", \"5m\")",
			     name, config_setting_get_string(m));
			return;
		}
	} else
		v = config_setting_get_int64(m);
	if (v < lo || v > hi)
		diag(p, m, "\"%s\" must be between %lld and %lld seconds", name,
		     (long long)lo, (long long)hi);
	else
		*out = (int)v;
}

/* Reports unknown and mistyped members, with a suggestion. */
static void
check_keys(struct parse *p, const config_setting_t *sec)
{
	int n = config_setting_length(sec), i;

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(sec, (unsigned)i);
		const char *name = config_setting_name(m);
		const struct key *k = name ? key_of(name) : NULL;
		const char *hint;

		if (!k) {
			hint = name ? closest(name, NULL) : NULL;
			diag(p, m, "unknown setting \"%s\"%s%s%s", name ? name : "?",
			     hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
		} else if (!type_ok(m, k->type))
			diag(p, m, "\"%s\" must be %s", name, type_names[k->type]);
	}
}

/* ca_file relative to the configuration file's directory, readable. */
static void
resolve_ca(struct parse *p, const config_setting_t *sec, struct mqtt_conf *c)
{
	char dirbuf[PATH_MAX], *dir, *abs;
	const config_setting_t *m = member(sec, "ca_file");

	if (!c->ca_file || c->ca_file[0] == '/')
		goto check;
	pg_strlcpy(dirbuf, p->file ? p->file : ".", sizeof dirbuf);
	dir = dirname(dirbuf);
	if (!(abs = malloc(strlen(dir) + strlen(c->ca_file) + 2))) {
		p->nomem = true;
		return;
	}
	sprintf(abs, "%s/%s", dir, c->ca_file);
	free(c->ca_file);
	c->ca_file = abs;
check:
	if (c->ca_file && access(c->ca_file, R_OK) != 0)
		diag(p, m, "cannot read ca_file \"%.150s\"", c->ca_file);
	if (c->ca_file && !c->tls)
		diag(p, m, "\"ca_file\" is set but tls is false");
}

pg_err
mqtt_conf_parse(const config_setting_t *sec, const char *file,
		struct pg_diags *d, void **out)
{
	struct parse p = { .file = file, .d = d, .errors = 0 };
	struct mqtt_conf *c;
	const config_setting_t *m;
	char *proto = NULL, err[ERR_MAX];

	*out = NULL;
	if (!sec)
		return PG_OK;                   /* no broker */
	if (config_setting_type(sec) != CONFIG_TYPE_GROUP) {
		diag(&p, sec, "\"mqtt\" must be a group: mqtt = { host = ...; };");
		return PG_ERR_CONFIG;
	}
	if (!(c = calloc(1, sizeof *c)))
		return PG_ERR_NOMEM;
	c->keepalive_s = DEFAULT_KEEPALIVE;
	c->timeout_s = DEFAULT_TIMEOUT;
	c->qos = 1;
	c->proto = MQTT_PROTO_V5;
	check_keys(&p, sec);

	get_str(&p, sec, "host", HOST_MAX, false, &c->host);
	if ((m = member(sec, "tls")))
		c->tls = config_setting_get_bool(m);
	c->port = c->tls ? DEFAULT_TLS_PORT : DEFAULT_PORT;
	get_int(&p, sec, "port", 1, 65535, &c->port);
	get_str(&p, sec, "ca_file", PATH_MAX / 2, false, &c->ca_file);
	resolve_ca(&p, sec, c);
	get_str(&p, sec, "username", CRED_MAX, false, &c->username);
	get_str(&p, sec, "password", CRED_MAX, true, &c->password);
	if (c->password && !c->username)
		diag(&p, member(sec, "password"), "\"password\" needs a \"username\"");
	get_str(&p, sec, "client_id", CLIENT_ID_MAX, false, &c->client_id);
	if (c->client_id && strspn(c->client_id, "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(c->client_id))
		diag(&p, member(sec, "client_id"),
		     "\"client_id\" may only use letters, digits, '.', '_' and '-'");
	get_dur(&p, sec, "keepalive", MIN_KEEPALIVE, MAX_KEEPALIVE, &c->keepalive_s);
	get_dur(&p, sec, "timeout", 1, MAX_TIMEOUT, &c->timeout_s);
	get_int(&p, sec, "qos", 0, 2, &c->qos);
	if ((m = member(sec, "qos")) && config_setting_get_int64(m) == 0)
		diag(&p, m, "qos 0 has no broker acknowledgement: use 1 (PUBACK) or 2");
	get_str(&p, sec, "protocol", 16, false, &proto);
	if (proto) {
		if (strcmp(proto, "v5") == 0)
			c->proto = MQTT_PROTO_V5;
		else if (strcmp(proto, "v311") == 0)
			c->proto = MQTT_PROTO_V311;
		else if (strcmp(proto, "auto") == 0)
			c->proto = MQTT_PROTO_AUTO;
		else
			diag(&p, member(sec, "protocol"),
			     "unknown protocol \"%s\" (expected \"v5\", \"v311\" or \"auto\": "
			     "5 with a fall-back to 3.1.1)", proto);
		free(proto);
	}
	if ((m = member(sec, "ack_topic"))) {
		get_str(&p, sec, "ack_topic", MQTT_TOPIC_MAX, true, &c->ack_topic);
		if (c->ack_topic && !c->ack_topic[0]) {      /* "" = no acks */
			free(c->ack_topic);
			c->ack_topic = NULL;
		} else if (c->ack_topic && mqtt_filter_check(c->ack_topic, err, sizeof err))
			diag(&p, m, "\"ack_topic\": %s", err);
	} else if (!(c->ack_topic = strdup(DEFAULT_ACK_TOPIC)))
		p.nomem = true;
	if (!c->host && !(c->host = strdup(DEFAULT_HOST)))
		p.nomem = true;
	if (!c->client_id && !(c->client_id = strdup(DEFAULT_CLIENT_ID)))
		p.nomem = true;
	if (p.errors || p.nomem) {
		mqtt_conf_free(c);
		return p.nomem ? PG_ERR_NOMEM : PG_ERR_CONFIG;
	}
	*out = c;
	return PG_OK;
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
mqtt_device_check(const void *conf, const struct pg_device *dev, const char *file,
		  struct pg_diags *d)
{
	const struct mqtt_conf *c = conf;
	char err[ERR_MAX], sample[MQTT_TOPIC_MAX + 1];
	const char *hint;
	bool match = false;
	size_t i;

	if (!c)
		pg_diag_add(d, file, dev->line, "mqtt device, but the daemon configuration "
			    "has no \"mqtt\" section (the broker)");
	if (dev->gateway)
		pg_diag_add(d, file, dev->line, "mqtt devices have no \"gateway\": the broker "
			    "is the \"mqtt\" section of the daemon configuration");
	if (dev->to && mqtt_topic_check(dev->to, err, sizeof err))
		pg_diag_add(d, file, dev->line, "mqtt topic \"%.100s\": %s", dev->to, err);
	else if (dev->to && c && c->ack_topic &&
		 mqtt_topic_expand(dev->to, "client", "contact", sample, sizeof sample,
				   err, sizeof err) == PG_OK &&
		 mosquitto_topic_matches_sub(c->ack_topic, sample, &match) == MOSQ_ERR_SUCCESS &&
		 match)
		pg_diag_add(d, file, dev->line, "mqtt topic \"%.100s\" would match the "
			    "ack_topic \"%.100s\": pages would come back as acknowledgements",
			    dev->to, c->ack_topic);
	for (i = 0; i < dev->n_opts; i++) {
		const char *k = dev->opts[i].key;
		if (strcmp(k, "expiry") == 0) {
			if (mqtt_device_expiry_s(dev) < 0)
				pg_diag_add(d, file, dev->line, "mqtt \"expiry\": bad duration "
					    "\"%.40s\" (expected e.g. \"30m\", \"2h\", at most %u s)",
					    dev->opts[i].value, UINT32_MAX);
			continue;
		}
		hint = closest(k, device_opts);
		pg_diag_add(d, file, dev->line, "unknown mqtt device setting \"%s\"%s%s%s", k,
			    hint ? " (did you mean \"" : " (known: expiry",
			    hint ? hint : "", hint ? "\"?)" : ")");
	}
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
