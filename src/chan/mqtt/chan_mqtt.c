/*
 * chan_mqtt.c - the mqtt channel: pages published as JSON (templates/
 * mqtt.json) with QoS 1 to a broker through libmosquitto, and
 * acknowledgements received on a subscribed ack topic (mqtt_conn.c runs
 * the connection, mqtt_config.c reads the settings).
 *
 * The store is the only queue:
 *   - send() publishes only while connected; otherwise every job is TEMP
 *     at once ("broker not connected") and stays queued in the store
 *     (a connection attempt under way, at start-up or after new settings,
 *     is waited for, bounded by the timeout);
 *   - every job of a send() is published at once (up to INFLIGHT_MAX in
 *     flight on the connection, all workers' batches together); on_publish
 *     matches each PUBACK to its job by mid, and the last one of a send()
 *     wakes it;
 *   - a job is OK only when the broker's PUBACK for its mid arrives; a
 *     lost connection makes the jobs still waiting TEMP, and their copies
 *     go with that connection's client;
 *   - a PUBACK that does not come within the timeout makes the job TEMP
 *     and drops the connection, so no copy lingers in libmosquitto.
 *
 * MQTT 5 pages carry a message-expiry-interval (the device's "expiry",
 * bounded by the delivery's give-up time), payload-format-indicator 1
 * and content-type application/json.
 *
 * Locking: st->mu guards the connection state, waiters and settings; no
 * libmosquitto function is called while holding it.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "mqtt_priv.h"
#include "../drivers.h"
#include "pagegate/channel.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define MQTT_MAX_BATCH     64       /* most pages per send(): the scheduler's most */
#define MS_PER_S           1000

/* Copies s for a log line or reply: controls become '?'. */

/* ---- sending (scheduler workers) ---- */

/* What one job needs to be published. */
struct prepared {
	char topic[MQTT_TOPIC_MAX + 1];
	bool has_expiry;
	uint32_t expiry_s;
	struct waiter w;
	bool ok;                    /* passed prepare() */
	bool published;
};

/* Checks the job and fills p; on a problem sets the job's outcome and
 * returns false. */
static bool
prepare(struct pg_job *j, struct prepared *p, int64_t now_ms)
{
	char err[200];
	json_error_t je;
	json_t *doc;
	int64_t dev_exp = mqtt_device_expiry_s(j->device);
	int r;

	if (!j->client || !j->contact) {
		pg_job_set(j, PG_OUT_PERM, "no client or contact for the topic");
		return false;
	}
	if (mqtt_topic_expand(j->address, j->client->id, j->contact->id, p->topic,
			      sizeof p->topic, err, sizeof err)) {
		pg_job_set(j, PG_OUT_PERM, "bad topic: %s", err);
		return false;
	}
	doc = json_loads(j->body ? j->body : "", JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		pg_job_set(j, PG_OUT_PERM, "template mqtt.json did not render valid JSON "
			"(line %d, column %d: %s): not published", je.line, je.column, je.text);
		return false;
	}
	json_decref(doc);
	r = mqtt_expiry(dev_exp > 0 ? dev_exp : 0, j->expires_ms, now_ms, &p->expiry_s);
	if (r < 0) {
		pg_job_set(j, PG_OUT_PERM, "the delivery expired before it could be published");
		return false;
	}
	p->has_expiry = r > 0;
	return true;
}

/* Publishes one page on m; returns the waiter's mid via p->w. */
static void
publish(struct mqtt_state *st, struct mosquitto *m, bool v5, unsigned gen, int qos,
	struct pg_job *j, struct prepared *p, size_t *pending)
{
	mosquitto_property *props = NULL;
	int rc = MOSQ_ERR_SUCCESS, mid = 0;
	size_t len = strlen(j->body), i;
	struct early *e;

	p->has_expiry = p->has_expiry && v5;    /* MQTT 3.1.1 has no expiry */

	if (v5 && ((rc = mosquitto_property_add_byte(&props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1)) ||
		   (rc = mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE,
						       "application/json")) ||
		   (p->has_expiry &&
		    (rc = mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
						       p->expiry_s)))))
		goto out;
	if (len > (size_t)MQTT_MAX_PAYLOAD) {
		rc = MOSQ_ERR_PAYLOAD_SIZE;
		goto out;
	}
	rc = mosquitto_publish_v5(m, &mid, p->topic, (int)len, j->body, qos, false, props);
out:
	mosquitto_property_free_all(&props);
	switch (rc) {
	case MOSQ_ERR_SUCCESS:
		break;
	case MOSQ_ERR_PAYLOAD_SIZE:
	case MOSQ_ERR_OVERSIZE_PACKET:
		pg_job_set(j, PG_OUT_PERM, "page too large for the broker (%zu bytes)", len);
		return;
	case MOSQ_ERR_MALFORMED_UTF8:
	case MOSQ_ERR_INVAL:
		pg_job_set(j, PG_OUT_PERM, "the broker cannot take this page: %s",
			mosquitto_strerror(rc));
		return;
	case MOSQ_ERR_NOMEM:
	case MOSQ_ERR_QOS_NOT_SUPPORTED:
		pg_job_set(j, PG_OUT_TEMP, "not published: %s", mosquitto_strerror(rc));
		return;
	default:
		/* the client may hold a copy: start over on a new connection */
		pg_job_set(j, PG_OUT_TEMP, "not published: %s", mosquitto_strerror(rc));
		pthread_mutex_lock(&st->mu);
		st->reset = true;
		pthread_mutex_unlock(&st->mu);
		return;
	}
	p->published = true;
	p->w.gen = gen;
	p->w.mid = mid;
	pthread_mutex_lock(&st->mu);
	for (i = 0; i < MQTT_EARLY_MAX; i++) {
		e = &st->early[i];
		if (e->used && e->gen == gen && e->mid == mid) {
			e->used = false;
			p->w.done = true;
			p->w.reason = e->reason;
			break;
		}
	}
	if (!p->w.done) {
		p->w.pending = pending;
		(*pending)++;
		p->w.prev = NULL;
		p->w.next = st->waiters;
		if (st->waiters)
			st->waiters->prev = &p->w;
		st->waiters = &p->w;
		p->w.linked = true;
	}
	pthread_mutex_unlock(&st->mu);
}

static void
unlink_waiter(struct mqtt_state *st, struct waiter *w)
{
	if (!w->linked)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		st->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->linked = false;
}

/* The outcome of a PUBACK reason code (MQTT 5; 0 under 3.1.1). */
static void
judge(struct pg_job *j, const struct prepared *p, const char *peer, int reason)
{
	char t[160], exp[40] = "";

	pg_text_logsafe(t, sizeof t, p->topic, sizeof p->topic);
	if (p->has_expiry)
		snprintf(exp, sizeof exp, ", expiry %u s", p->expiry_s);
	if (reason < 0x80) {
		pg_job_set(j, PG_OUT_OK, "PUBACK from %s for %s (mid %d%s)%s%s", peer, t, p->w.mid,
			exp, reason ? ": " : "", reason ? mosquitto_reason_string(reason) : "");
		return;
	}
	/* refusals that a retry cannot fix */
	bool perm = reason == MQTT_RC_NOT_AUTHORIZED || reason == MQTT_RC_TOPIC_NAME_INVALID ||
		    reason == MQTT_RC_PAYLOAD_FORMAT_INVALID || reason == MQTT_RC_PACKET_TOO_LARGE;
	pg_job_set(j, perm ? PG_OUT_PERM : PG_OUT_TEMP, "broker %s refused %s: %s (reason %d)",
		peer, t, mosquitto_reason_string(reason), reason);
}

/* Brings the connection's settings in line with the configuration this
 * call runs under (SIGHUP may have changed them): asks the connection
 * thread to reconnect with them.  False on allocation failure. */
static bool
follow_config(struct mqtt_state *st, const struct mqtt_conf *want)
{
	const struct mqtt_conf *have;
	struct mqtt_conf *dup;
	bool nomem, same;

	pthread_mutex_lock(&st->mu);
	have = st->conf_changed ? st->next_conf : st->conf;
	same = mqtt_conf_same(have, want);
	pthread_mutex_unlock(&st->mu);
	if (same)
		return true;
	dup = mqtt_conf_dup(want, &nomem);
	if (nomem)
		return false;
	pthread_mutex_lock(&st->mu);
	have = st->conf_changed ? st->next_conf : st->conf;
	if (!mqtt_conf_same(have, want)) {
		mqtt_conf_free(st->next_conf);
		st->next_conf = dup;
		st->conf_changed = true;
		dup = NULL;
		pg_info("mqtt: broker settings changed: reconnecting");
		pthread_cond_broadcast(&st->cv);
	}
	pthread_mutex_unlock(&st->mu);
	mqtt_conf_free(dup);
	return true;
}

static void
mqtt_send(void *state, const struct pg_config *cfg, const char *gateway,
	  struct pg_job *jobs, size_t n)
{
	struct mqtt_state *st = state;
	const struct mqtt_conf *c = cfg->chan_cfg[PG_CH_MQTT];
	struct prepared *p;
	struct mosquitto *m;
	char peer[sizeof st->peer], why[MQTT_WHY_MAX];
	int64_t now = pg_now_ms(), deadline;
	unsigned gen;
	bool v5, timed_out = false;
	size_t i, live = 0, pending = 0;

	(void)gateway;
	if (!c) {                       /* a reload removed the broker */
		follow_config(st, NULL);
		for (i = 0; i < n; i++)
			pg_job_set(&jobs[i], PG_OUT_PERM, "no mqtt broker is configured");
		return;
	}
	if (!(p = calloc(n, sizeof *p))) {
		for (i = 0; i < n; i++)
			pg_job_set(&jobs[i], PG_OUT_TEMP, "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		if ((p[i].ok = prepare(&jobs[i], &p[i], now)))
			live++;
	if (live == 0)
		goto out;
	if (!follow_config(st, c)) {
		for (i = 0; i < n; i++)
			if (p[i].ok)
				pg_job_set(&jobs[i], PG_OUT_TEMP, "out of memory");
		goto out;
	}

	/* a connection on its way (start-up, new settings) is waited for;
	 * a broker that is down is not */
	deadline = pg_mono_ms() + (int64_t)c->timeout_s * MS_PER_S;
	pthread_mutex_lock(&st->mu);
	while ((st->conf_changed || st->connecting) && !st->stopping &&
	       pg_mono_ms() < deadline)
		mqtt_wait_ms(st, deadline - pg_mono_ms());
	pg_strlcpy(peer, st->peer, sizeof peer);
	if (!st->connected || !st->m || st->conf_changed) {
		snprintf(why, sizeof why, "%s", st->why[0] ? st->why : "connecting");
		pthread_mutex_unlock(&st->mu);
		for (i = 0; i < n; i++)
			if (p[i].ok)
				pg_job_set(&jobs[i], PG_OUT_TEMP, "broker not connected (%s): %s",
					peer[0] ? peer : "-", why);
		goto out;
	}
	m = st->m;
	v5 = st->v5;
	gen = st->gen;
	st->users++;
	pthread_mutex_unlock(&st->mu);

	for (i = 0; i < n; i++)
		if (p[i].ok)
			publish(st, m, v5, gen, c->qos, &jobs[i], &p[i], &pending);

	deadline = pg_mono_ms() + (int64_t)c->timeout_s * MS_PER_S;
	pthread_mutex_lock(&st->mu);
	st->users--;
	pthread_cond_broadcast(&st->cv);
	for (;;) {
		if (pending == 0 || st->gen != gen || !st->connected)
			break;
		if (pg_mono_ms() >= deadline) {
			timed_out = true;
			st->reset = true;       /* no copy may linger in the client */
			break;
		}
		mqtt_wait_ms(st, deadline - pg_mono_ms());
	}
	for (i = 0; i < n; i++) {
		if (!p[i].published)
			continue;
		unlink_waiter(st, &p[i].w);
		if (p[i].w.done)
			judge(&jobs[i], &p[i], peer, p[i].w.reason);
		else if (timed_out)
			pg_job_set(&jobs[i], PG_OUT_TEMP, "no PUBACK from %s within %d s", peer,
				c->timeout_s);
		else
			pg_job_set(&jobs[i], PG_OUT_TEMP, "connection to %s lost before the PUBACK",
				peer);
	}
	pthread_mutex_unlock(&st->mu);
out:
	free(p);
}

/* ---- life ---- */

static pg_err
mqtt_start(const struct pg_config *cfg, const struct pg_chan_host *host, void **state)
{
	struct mqtt_state *st;
	bool nomem;
	int rc;

	*state = NULL;
	if (!(st = calloc(1, sizeof *st)))
		return PG_ERR_NOMEM;
	st->host = host;
	st->conf = mqtt_conf_dup(cfg->chan_cfg[PG_CH_MQTT], &nomem);
	if (nomem) {
		free(st);
		return PG_ERR_NOMEM;
	}
	if (pg_cond_init_mono(&st->cv) != PG_OK) {
		mqtt_conf_free(st->conf);
		free(st);
		return PG_ERR_NOMEM;
	}
	pthread_mutex_init(&st->mu, NULL);
	/* process-wide: once here, undone in stop */
	if ((rc = mosquitto_lib_init()) != MOSQ_ERR_SUCCESS) {
		pg_error("mqtt: cannot initialise libmosquitto: %s", mosquitto_strerror(rc));
		goto fail;
	}
	if ((rc = pthread_create(&st->thread, NULL, mqtt_conn_main, st)) != 0) {
		pg_error("mqtt: cannot start the connection thread: %s", strerror(rc));
		mosquitto_lib_cleanup();
		goto fail;
	}
	st->thread_started = true;
	*state = st;
	return PG_OK;
fail:
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	mqtt_conf_free(st->conf);
	free(st);
	return PG_ERR_IO;
}

static void
mqtt_stop(void *state)
{
	struct mqtt_state *st = state;

	if (!st)
		return;
	pg_thread_stop(&st->mu, &st->cv, &st->stopping, st->thread, st->thread_started);
	mosquitto_lib_cleanup();
	mqtt_conf_free(st->conf);
	mqtt_conf_free(st->next_conf);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

const struct pg_channel pg_chan_mqtt = {
	.name = "mqtt",
	.kind = PG_CH_MQTT,
	.max_batch = MQTT_MAX_BATCH,
	.subject_template = NULL,
	.body_template = "mqtt.json",
	.body_escape = PG_ESC_JSON,          /* values inside JSON strings */
	.config_keys = mqtt_config_keys,     /* mqtt = { host; port; ... } */
	.config_parse = mqtt_conf_parse,
	.config_free = mqtt_conf_free,
	.config_tables = mqtt_config_tables,
	.device_keys = mqtt_device_keys,     /* expiry */
	.device_check = mqtt_device_check,   /* topic; no gateway */
	.start = mqtt_start,
	.stop = mqtt_stop,
	.send = mqtt_send,
};
