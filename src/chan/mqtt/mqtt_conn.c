/*
 * mqtt_conn.c - the mqtt channel's one broker connection (see
 * chan_mqtt.c for the model): a thread that runs the libmosquitto
 * network loop in threaded mode (mosquitto_loop), a fresh libmosquitto
 * client per connection, reconnection with capped exponential backoff,
 * the ack subscription renewed on every connection, and the callbacks:
 * CONNACK, disconnection, PUBACK (wakes the waiting send()), and messages
 * on the ack topic (handed to host->ack()).
 *
 * A fresh client per connection because libmosquitto keeps unacknowledged
 * QoS>0 messages across its own reconnects and sends them again: pages
 * the store already retries would arrive twice.  Its built-in reconnect
 * (mosquitto_reconnect_delay_set) is therefore not used.
 *
 * The session is persistent (clean start off; one day of session expiry
 * under MQTT 5) so that acknowledgements published while pagegate
 * reconnects or restarts still arrive.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "mqtt_priv.h"
#include "pagegate/backoff.h"
#include "pagegate/channel.h"
#include "pagegate/log.h"
#include "pagegate/net.h"
#include "pagegate/util.h"

#define INFLIGHT_MAX       1024     /* unacknowledged publishes per connection: every
				       worker's whole batch in flight at once (an MQTT 5
				       broker's receive maximum may lower it) */
#define LOOP_MS            200      /* one network loop turn (bounds stop()) */
#define RECONNECT_BASE_S   1
#define RECONNECT_CAP_S    30
#define STABLE_MS          10000    /* a connection this old was healthy */
#define SESSION_EXPIRY_S   86400u   /* the broker keeps our acks a day */
#define MS_PER_S           1000

/* Records why the broker is unreachable; logs it once per new reason. */
static void
note_failure(struct mqtt_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
note_failure(struct mqtt_state *st, const char *fmt, ...)
{
	char why[MQTT_WHY_MAX];
	bool fresh;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&st->mu);
	pg_strlcpy(st->why, why, sizeof st->why);
	fresh = strcmp(st->last_warn, why) != 0;
	if (fresh) {
		pg_strlcpy(st->last_warn, why, sizeof st->last_warn);
		pg_warn("mqtt broker %s: %s", st->peer, why);
	} else
		pg_debug("mqtt broker %s: %s", st->peer, why);
	pthread_mutex_unlock(&st->mu);
}

/* Waits on st->cv (st->mu held) at most ms milliseconds. */
void
mqtt_wait_ms(struct mqtt_state *st, int64_t ms)
{
	pg_cond_wait_ms(&st->cv, &st->mu, ms);
}

/* ---- libmosquitto callbacks (connection thread) ---- */

static void
on_connect(struct mosquitto *m, void *obj, int rc, int flags,
	   const mosquitto_property *props)
{
	struct mqtt_state *st = obj;
	const char *topic;
	bool v5;

	(void)flags;
	(void)props;
	if (rc != 0) {
		note_failure(st, "connection refused: %s", rc < 128 ?
			     mosquitto_connack_string(rc) : mosquitto_reason_string(rc));
		pthread_mutex_lock(&st->mu);
		/* a broker without MQTT 5 answers "unsupported protocol
		 * version" (5: reason 132, 3.1.1: return code 1) */
		st->refused_proto = rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION || rc == 1;
		st->refused = true;
		st->lost = true;
		/* "auto" tries 3.1.1 at once: senders keep waiting for it */
		if (!(st->refused_proto && st->v5 && st->conf &&
		      st->conf->proto == MQTT_PROTO_AUTO))
			st->connecting = false;
		pthread_cond_broadcast(&st->cv);
		pthread_mutex_unlock(&st->mu);
		return;
	}
	/* only this thread replaces st->conf, so topic stays valid here */
	pthread_mutex_lock(&st->mu);
	topic = st->conf ? st->conf->ack_topic : NULL;
	v5 = st->v5;
	pthread_mutex_unlock(&st->mu);
	if (topic) {
		rc = mosquitto_subscribe_v5(m, NULL, topic, 1, v5 ? MQTT_SUB_OPT_NO_LOCAL : 0,
					    NULL);
		if (rc != MOSQ_ERR_SUCCESS)
			pg_warn("mqtt: cannot subscribe to the ack topic: %s",
				mosquitto_strerror(rc));
	}
	pthread_mutex_lock(&st->mu);
	st->m = m;
	st->connected = true;
	st->connecting = false;
	st->why[0] = '\0';
	st->last_warn[0] = '\0';
	pg_info("mqtt: connected to %s (MQTT %s)", st->peer, v5 ? "5" : "3.1.1");
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

static void
on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
	struct mqtt_state *st = obj;
	bool was;

	(void)m;
	(void)props;
	pthread_mutex_lock(&st->mu);
	was = st->connected;
	st->connected = false;
	st->lost = true;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	if (was)
		note_failure(st, "connection lost: %s", rc > 0 && rc < 128 ?
			     mosquitto_strerror(rc) : mosquitto_reason_string(rc));
}

static void
on_publish(struct mosquitto *m, void *obj, int mid, int reason,
	   const mosquitto_property *props)
{
	struct mqtt_state *st = obj;
	struct waiter *w;
	struct early *e;

	(void)m;
	(void)props;
	pthread_mutex_lock(&st->mu);
	for (w = st->waiters; w; w = w->next)
		if (w->gen == st->gen && w->mid == mid && !w->done)
			break;
	if (w) {
		w->done = true;
		w->reason = reason;
		/* one wake-up per send() when its last PUBACK is in, not one
		 * for every waiting send() at every PUBACK */
		if (--*w->pending == 0)
			pthread_cond_broadcast(&st->cv);
	} else {                /* its send() finds it when it registers */
		e = &st->early[st->early_next++ % MQTT_EARLY_MAX];
		e->gen = st->gen;
		e->mid = mid;
		e->reason = reason;
		e->used = true;
	}
	pthread_mutex_unlock(&st->mu);
}

static void
on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
	     const mosquitto_property *props)
{
	(void)m;
	(void)obj;
	(void)mid;
	(void)props;
	if (n < 1 || granted[0] >= 0x80)
		pg_warn("mqtt: the broker refused the ack topic subscription (%s): "
			"acknowledgements over MQTT will not arrive",
			n < 1 ? "no answer" : mosquitto_reason_string(granted[0]));
	else
		pg_debug("mqtt: ack topic subscribed with QoS %d", granted[0]);
}

/* A message on the ack topic: parse, bound, and hand to the host. */
static void
on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
	   const mosquitto_property *props)
{
	struct mqtt_state *st = obj;
	char ref[PG_ACK_REF_MAX], who[MQTT_WHO_MAX], err[160], t[200];
	size_t tlen = msg->topic ? strlen(msg->topic) : 0;
	pg_err e;

	(void)m;
	(void)props;
	pg_text_logsafe(t, sizeof t, msg->topic, tlen);
	if (msg->retain) {
		/* a retained ack is stale: it could match a later page that
		 * happens to get the same reference */
		pg_info("mqtt: ignored a retained message on %s", t);
		return;
	}
	if (msg->payloadlen < 0 ||
	    mqtt_ack_parse(msg->payload, (size_t)msg->payloadlen, ref, who, err, sizeof err)) {
		pg_info("mqtt: ignored a malformed acknowledgement on %s: %s", t,
			msg->payloadlen < 0 ? "bad length" : err);
		return;
	}
	if (!who[0]) {
		if (tlen >= MQTT_WHO_MAX) {          /* cut on a character boundary */
			tlen = MQTT_WHO_MAX - 1;
			while (tlen > 0 && ((unsigned char)msg->topic[tlen] & 0xc0) == 0x80)
				tlen--;
		}
		pg_text_logsafe(who, sizeof who, msg->topic, tlen);
	}
	e = st->host->ack(st->host->ctx, PG_CH_MQTT, ref, who);
	if (e == PG_OK)
		pg_info("mqtt: acknowledgement %s by %s on %s", ref, who, t);
	else if (e == PG_ERR_NOTFOUND)
		pg_info("mqtt: acknowledgement on %s names unknown reference %s: ignored", t, ref);
	else
		pg_warn("mqtt: acknowledgement %s on %s not recorded: %s", ref, t, pg_strerror(e));
}

static void
on_log(struct mosquitto *m, void *obj, int level, const char *text)
{
	(void)m;
	(void)obj;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		pg_debug("libmosquitto: %s", text);
}

/* ---- the connection thread ---- */

/* A new client for conf speaking MQTT 5 or 3.1.1; NULL (reason in why)
 * on failure. */
static struct mosquitto *
new_client(struct mqtt_state *st, const struct mqtt_conf *c, bool v5, char *why,
	   size_t wlen)
{
	struct mosquitto *m = mosquitto_new(c->client_id, false, st);
	int rc;

	if (!m) {
		snprintf(why, wlen, "cannot create the client: %s", strerror(errno));
		return NULL;
	}
	mosquitto_threaded_set(m, true);
	mosquitto_connect_v5_callback_set(m, on_connect);
	mosquitto_disconnect_v5_callback_set(m, on_disconnect);
	mosquitto_publish_v5_callback_set(m, on_publish);
	mosquitto_subscribe_v5_callback_set(m, on_subscribe);
	mosquitto_message_v5_callback_set(m, on_message);
	mosquitto_log_callback_set(m, on_log);
	if ((rc = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
				       v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311)) ||
	    (rc = mosquitto_max_inflight_messages_set(m, INFLIGHT_MAX)) ||
	    (v5 && (rc = mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, INFLIGHT_MAX))) ||
	    (c->username && (rc = mosquitto_username_pw_set(m, c->username, c->password))))
		goto fail;
	if (c->tls) {
		if (!c->ca_file && (rc = mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1)))
			goto fail;
		if ((c->ca_file && (rc = mosquitto_tls_set(m, c->ca_file, NULL, NULL, NULL, NULL))) ||
		    (rc = mosquitto_tls_opts_set(m, 1, NULL, NULL)) ||   /* 1 = verify peer */
		    (rc = mosquitto_tls_insecure_set(m, false)))
			goto fail;
	}
	return m;
fail:
	snprintf(why, wlen, "client setup failed: %s", mosquitto_strerror(rc));
	mosquitto_destroy(m);
	return NULL;
}

enum conn_result {
	CONN_UP,          /* the broker accepted the connection (now ended) */
	CONN_FAILED,      /* it did not: back off */
	CONN_FALLBACK,    /* "auto": MQTT 5 refused, try 3.1.1 at once */
};

/* One connection: connect, run the loop until it ends, tear down. */
static enum conn_result
run_connection(struct mqtt_state *st, const struct mqtt_conf *c)
{
	struct mosquitto *m;
	mosquitto_property *props = NULL;
	char why[MQTT_WHY_MAX];
	bool v5, up = false, stop, was, bad_proto = false, fallback = false;
	int rc, i;
	int64_t t0;

	pthread_mutex_lock(&st->mu);
	v5 = c->proto == MQTT_PROTO_V5 || (c->proto == MQTT_PROTO_AUTO && !st->v311_next);
	st->v5 = v5;
	st->lost = false;
	st->reset = false;
	st->refused = false;
	st->refused_proto = false;
	pthread_mutex_unlock(&st->mu);

	if (!pg_tcp_probe(c->host, c->port, c->timeout_s * MS_PER_S, why, sizeof why)) {
		note_failure(st, "%s", why);
		return CONN_FAILED;
	}
	if (!(m = new_client(st, c, v5, why, sizeof why))) {
		note_failure(st, "%s", why);
		return CONN_FAILED;
	}
	if (v5 && (rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
						       SESSION_EXPIRY_S))) {
		note_failure(st, "client setup failed: %s", mosquitto_strerror(rc));
		mosquitto_destroy(m);
		return CONN_FAILED;
	}
	rc = mosquitto_connect_bind_v5(m, c->host, c->port, c->keepalive_s, NULL, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		note_failure(st, "cannot connect: %s", rc == MOSQ_ERR_ERRNO ?
			     strerror(errno) : mosquitto_strerror(rc));
		mosquitto_destroy(m);
		return CONN_FAILED;
	}
	t0 = pg_mono_ms();
	for (;;) {
		pthread_mutex_lock(&st->mu);
		stop = st->stopping || st->reset || st->conf_changed || st->lost;
		up = up || st->connected;
		pthread_mutex_unlock(&st->mu);
		if (stop)
			break;
		if (!up && pg_mono_ms() - t0 > (int64_t)c->timeout_s * MS_PER_S) {
			note_failure(st, "no CONNACK within %d s", c->timeout_s);
			bad_proto = true;
			break;
		}
		rc = mosquitto_loop(m, LOOP_MS, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			bad_proto = rc == MOSQ_ERR_PROTOCOL || rc == MOSQ_ERR_MALFORMED_PACKET;
			pthread_mutex_lock(&st->mu);
			stop = st->lost;        /* the callbacks told why already */
			pthread_mutex_unlock(&st->mu);
			if (!stop)
				note_failure(st, "%s: %s", up ? "connection lost" : "connection failed",
					     rc == MOSQ_ERR_ERRNO ? strerror(errno) :
					     mosquitto_strerror(rc));
			break;
		}
	}

	/* tear down: waiting jobs see the new generation and turn TEMP */
	pthread_mutex_lock(&st->mu);
	/* "auto": a broker that does not understand MQTT 5 gets 3.1.1 next */
	if (!up && c->proto == MQTT_PROTO_AUTO && (bad_proto || st->refused_proto)) {
		st->v311_next = !st->v311_next;
		fallback = st->v311_next;
	}
	was = st->connected;
	stop = st->stopping;
	st->connected = false;
	st->gen++;
	memset(st->early, 0, sizeof st->early);
	pthread_cond_broadcast(&st->cv);
	while (st->users > 0)
		pthread_cond_wait(&st->cv, &st->mu);
	st->m = NULL;
	pthread_mutex_unlock(&st->mu);
	if (was) {
		if (!stop)
			pg_warn("mqtt: dropping the connection to %s", st->peer);
		mosquitto_disconnect(m);
		for (i = 0; i < 3 && mosquitto_loop(m, 50, 1) == MOSQ_ERR_SUCCESS; i++)
			;
	}
	mosquitto_destroy(m);
	return up ? CONN_UP : fallback ? CONN_FALLBACK : CONN_FAILED;
}

void *
mqtt_conn_main(void *arg)
{
	struct mqtt_state *st = arg;
	struct pg_retry_policy pol = { .base_s = RECONNECT_BASE_S, .cap_s = RECONNECT_CAP_S };
	struct mqtt_conf *c;
	int failures = 0;
	int64_t delay, until, t0;
	enum conn_result r;

	pthread_mutex_lock(&st->mu);
	while (!st->stopping) {
		if (st->conf_changed) {
			mqtt_conf_free(st->conf);
			st->conf = st->next_conf;
			st->next_conf = NULL;
			st->conf_changed = false;
			st->v311_next = false;
			failures = 0;
		}
		if (!(c = st->conf)) {
			pthread_cond_wait(&st->cv, &st->mu);
			continue;
		}
		snprintf(st->peer, sizeof st->peer, "%s:%d", c->host, c->port);
		st->connecting = true;
		pthread_mutex_unlock(&st->mu);
		t0 = pg_mono_ms();
		r = run_connection(st, c);
		pthread_mutex_lock(&st->mu);
		if (r == CONN_FALLBACK && !st->stopping && !st->conf_changed)
			continue;               /* still connecting */
		st->connecting = false;
		pthread_cond_broadcast(&st->cv);
		/* a connection that keeps dropping at once backs off too */
		failures = r == CONN_UP && pg_mono_ms() - t0 >= STABLE_MS ? 0 : failures + 1;
		if (st->stopping || st->conf_changed)
			continue;
		delay = failures == 0 ? RECONNECT_BASE_S * MS_PER_S :
			pg_backoff_ms(&pol, failures, pg_random_u32());
		until = pg_mono_ms() + delay;
		while (!st->stopping && !st->conf_changed && pg_mono_ms() < until)
			mqtt_wait_ms(st, until - pg_mono_ms());
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}
