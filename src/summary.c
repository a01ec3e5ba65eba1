/*
 * summary.c - clients' periodic summaries (summary.h).
 *
 * The thread holds no state but a small table of clients whose last try
 * failed and when to try again: what each summary covered is the store's
 * mark, read and written around each one.  It wakes at the next due
 * summary, or every MAX_WAIT_MS to see a reloaded configuration.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/content.h"
#include "pagegate/log.h"
#include "pagegate/oncall.h"
#include "pagegate/summary.h"
#include "pagegate/template.h"
#include "pagegate/tz.h"
#include "pagegate/util.h"

#define MAX_WAIT_MS   30000           /* re-read the configuration */
#define COORD_POLL_MS 5000            /* a node not coordinating asks again */
#define RETRY_MS      60000           /* after a temporary failure */
#define LIST_MAX      1000            /* messages in one summary */
#define RETRY_SLOTS   64
#define MARK_MAX      160
#define RENDER_MAX    (256 * 1024)

struct retry { char client[72]; int64_t not_before; };

struct pg_summaries {
	struct pg_summary_deps d;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic bool stopping;
	pthread_t th;
	struct retry retry[RETRY_SLOTS];  /* this thread's own */
};

int64_t
pg_summary_due(const struct pg_client *cl, int64_t last_ms)
{
	const struct pg_summary *s = &cl->summary;
	struct pg_localtime lt;
	int64_t day, t;
	int y, m, d;

	if (!s->line)
		return 0;
	if (s->every_s)
		return last_ms + (int64_t)s->every_s * 1000;
	pg_tz_local(cl->tz, last_ms / 1000, &lt);
	day = pg_days_from_civil(lt.year, lt.month, lt.day);
	for (int k = 0; k < 3; k++) {
		pg_civil_from_days(day + k, &y, &m, &d);
		t = pg_tz_utc(cl->tz, y, m, d, s->at_min / 60, s->at_min % 60, 0) * 1000;
		if (t > last_ms)
			return t;
	}
	return last_ms + 86400 * 1000LL;     /* cannot happen */
}

/* ---- one summary ---- */

/* The contacts a summary notifies now: its contacts and who is on call,
 * each once, into v (room for cl->n_contacts); returns how many. */
static size_t
recipients(const struct pg_client *cl, int64_t now_s, size_t *v)
{
	const struct pg_rule *t = &cl->summary.target;
	size_t n = 0, ci;

	for (size_t i = 0; i < t->n_contacts + t->n_oncall; i++) {
		if (i < t->n_contacts)
			ci = t->contacts[i];
		else if (pg_oncall_who(cl, &cl->rotations[t->oncall[i - t->n_contacts].rotation],
				       now_s, t->oncall[i - t->n_contacts].offset, &ci,
				       NULL, NULL) != PG_OK)
			continue;
		bool seen = false;
		for (size_t k = 0; k < n; k++)
			seen |= v[k] == ci;
		if (!seen && ci < cl->n_contacts)
			v[n++] = ci;
	}
	return n;
}

/* The variables of the summary of msgs[0..n) for contact ct's device dev:
 * each message at the device's content level in a row, the outer ones. */
static pg_err
variables(const struct pg_client *cl, const struct pg_contact *ct,
	  const struct pg_device *dev, const struct pg_message *msgs, size_t n,
	  int64_t from, int64_t to, struct pg_tvars *outer, struct pg_tvars *rows)
{
	enum pg_content level = pg_content_level(cl, dev, PG_CH_EMAIL);
	char count[24], a[64], b[64];
	pg_err e = PG_OK;

	for (size_t i = 0; i < n && !e; i++)
		if (!(e = pg_tvars_for_message(&rows[i], cl, &msgs[i], ct, 0)))
			e = pg_content_apply(&rows[i], level);
	snprintf(count, sizeof count, "%zu", n);
	pg_tz_format(cl->tz, from / 1000, a, sizeof a);
	pg_tz_format(cl->tz, to / 1000, b, sizeof b);
	if (!e && !(e = pg_tvars_set(outer, "client.id", cl->id)) &&
	    !(e = pg_tvars_set(outer, "client.name", cl->name)) &&
	    !(e = pg_tvars_set(outer, "contact.id", ct->id)) &&
	    !(e = pg_tvars_set(outer, "contact.name", ct->name)) &&
	    !(e = pg_tvars_set(outer, "messages.count", count)) &&
	    !(e = pg_tvars_set(outer, "summary.from", a)))
		e = pg_tvars_set(outer, "summary.to", b);
	outer->items = rows;
	outer->n_items = n;
	return e;
}

/* Sends the summary of msgs[0..n) to every email device of the
 * recipients; PG_OK when each was accepted or refused for good,
 * PG_ERR_TEMPFAIL when one should be tried again. */
static pg_err
send_all(struct pg_summaries *s, const struct pg_config *cfg, const struct pg_client *cl,
	 const struct pg_message *msgs, size_t n, int64_t from, int64_t to)
{
	const struct pg_channel *drv = pg_channels_driver(s->d.channels, PG_CH_EMAIL);
	const struct pg_template *ts = pg_config_template(cfg, cl, "summary.subject");
	const struct pg_template *tb = pg_config_template(cfg, cl, "summary.txt");
	size_t *who = calloc(cl->n_contacts ? cl->n_contacts : 1, sizeof *who), nw;
	pg_err result = PG_OK;

	if (!who)
		return PG_ERR_TEMPFAIL;
	if (!drv || !drv->send || !ts || !tb) {
		pg_error("summary of %s: %s", cl->id, !drv ? "no email channel" :
			 "no summary.subject or summary.txt template");
		free(who);
		return PG_OK;                    /* nothing to retry */
	}
	nw = recipients(cl, to / 1000, who);
	for (size_t w = 0; w < nw; w++) {
		const struct pg_contact *ct = &cl->contacts[who[w]];

		for (size_t k = 0; k < ct->n_devices; k++) {
			const struct pg_device *dev = &ct->devices[k];
			struct pg_tvars outer, *rows = calloc(n ? n : 1, sizeof *rows);
			struct pg_buf subj, body;
			struct pg_job job;
			pg_err e;

			if (dev->channel != PG_CH_EMAIL)
				continue;
			if (!rows) {
				result = PG_ERR_TEMPFAIL;
				continue;
			}
			pg_tvars_init(&outer);
			for (size_t i = 0; i < n; i++)
				pg_tvars_init(&rows[i]);
			pg_buf_init(&subj, RENDER_MAX);
			pg_buf_init(&body, RENDER_MAX);
			e = variables(cl, ct, dev, msgs, n, from, to, &outer, rows);
			if (!e)
				e = pg_template_render(ts->text, &outer, PG_ESC_NONE, &subj);
			if (!e)
				e = pg_template_render(tb->text, &outer, PG_ESC_NONE, &body);
			memset(&job, 0, sizeof job);
			job.client = cl;
			job.contact = ct;
			job.device = dev;
			job.address = dev->to;
			job.to_name = ct->name;
			job.subject = subj.data ? subj.data : "";
			job.body = body.data ? body.data : "";
			job.ack_ref = "";
			job.urgency = PG_URG_ROUTINE;
			job.expires_ms = to + 3600 * 1000LL;
			job.outcome = PG_OUT_TEMP;
			if (e)
				pg_job_set(&job, PG_OUT_PERM, "cannot render: %s", pg_strerror(e));
			else
				drv->send(pg_channels_state(s->d.channels, PG_CH_EMAIL), cfg,
					  dev->gateway, &job, 1);
			pg_info("summary of %s: %zu message%s to %s (%s): %s %s", cl->id, n,
				n == 1 ? "" : "s", ct->id, dev->to, pg_outcome_name(job.outcome),
				job.reply);
			if (job.outcome == PG_OUT_TEMP)
				result = PG_ERR_TEMPFAIL;
			for (size_t i = 0; i < n; i++)
				pg_tvars_free(&rows[i]);
			free(rows);
			pg_tvars_free(&outer);
			pg_buf_free(&subj);
			pg_buf_free(&body);
		}
	}
	free(who);
	return result;
}

/* The summary of cl covering [from, to): PG_OK (sent, or nothing to send),
 * PG_ERR_TEMPFAIL, or the store's error. */
static pg_err
one(struct pg_summaries *s, const struct pg_config *cfg, const struct pg_client *cl,
    int64_t from, int64_t to)
{
	struct pg_list_filter f = { .client_id = cl->id, .since_ms = from, .until_ms = to,
				    .limit = LIST_MAX };
	struct pg_message *v = NULL, *full;
	size_t n = 0, got = 0;
	pg_err e;

	if ((e = pg_store_list(s->d.store, &f, &v, &n)))
		return e;
	if (n == 0 && !cl->summary.empty) {
		pg_info("summary of %s: no messages, none sent", cl->id);
		return PG_OK;
	}
	/* oldest first, with their fields */
	if (!(full = calloc(n ? n : 1, sizeof *full))) {
		pg_message_list_free(v, n);
		return PG_ERR_NOMEM;
	}
	for (size_t i = n; i-- > 0 && !e; )
		if (!(e = pg_store_get_msg(s->d.store, v[i].id, &full[got])))
			got++;
	pg_message_list_free(v, n);
	if (!e)
		e = send_all(s, cfg, cl, full, got, from, to);
	for (size_t i = 0; i < got; i++)
		pg_message_free(&full[i]);
	free(full);
	return e;
}

/* ---- the thread ---- */

static struct retry *
retry_of(struct pg_summaries *s, const char *client, bool make)
{
	struct retry *free_slot = NULL;

	for (size_t i = 0; i < RETRY_SLOTS; i++) {
		if (strcmp(s->retry[i].client, client) == 0)
			return &s->retry[i];
		if (!s->retry[i].client[0] && !free_slot)
			free_slot = &s->retry[i];
	}
	if (make && free_slot)
		pg_strlcpy(free_slot->client, client, sizeof free_slot->client);
	return make ? free_slot : NULL;
}

/* Does what is due for client cl now; returns when it is next due. */
static int64_t
visit(struct pg_summaries *s, const struct pg_config *cfg, const struct pg_client *cl,
      int64_t now)
{
	char key[MARK_MAX];
	struct retry *r = retry_of(s, cl->id, false);
	int64_t last, due;
	pg_err e;

	if (r && r->not_before > now)
		return r->not_before;
	snprintf(key, sizeof key, "summary:%s", cl->id);
	if ((e = pg_store_mark_get(s->d.store, key, &last)) == PG_ERR_NOTFOUND) {
		last = now;                      /* the first summary starts now */
		e = pg_store_mark_put(s->d.store, key, last);
	}
	if (e)
		goto retry;
	if ((due = pg_summary_due(cl, last)) > now)
		return due;
	/* down for several periods: one summary covers them all */
	for (int64_t next; (next = pg_summary_due(cl, due)) <= now; )
		due = next;
	if ((e = one(s, cfg, cl, last, due)) || (e = pg_store_mark_put(s->d.store, key, due)))
		goto retry;
	if (r)
		r->client[0] = '\0';
	return pg_summary_due(cl, due);
retry:
	pg_warn("summary of %s: %s; trying again in %d s", cl->id, pg_strerror(e),
		RETRY_MS / 1000);
	if ((r = retry_of(s, cl->id, true)))
		r->not_before = now + RETRY_MS;
	return now + RETRY_MS;
}

static void *
loop(void *arg)
{
	struct pg_summaries *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		struct pg_config *cfg;
		int64_t now = pg_now_ms(), wake = now + MAX_WAIT_MS;

		pthread_mutex_unlock(&s->mu);
		/* of several nodes, one sends the summaries */
		if (!pg_store_coordinator(s->d.store))
			wake = now + COORD_POLL_MS;
		else if ((cfg = pg_live_get(s->d.live))) {
			for (size_t i = 0; i < cfg->n_clients && !s->stopping; i++) {
				int64_t at;

				if (!cfg->clients[i].summary.line)
					continue;
				at = visit(s, cfg, &cfg->clients[i], now);
				if (at < wake)
					wake = at;
			}
			pg_config_release(cfg);
		}
		pthread_mutex_lock(&s->mu);
		if (!s->stopping)
			pg_cond_wait_ms(&s->cv, &s->mu, wake - pg_now_ms());
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

pg_err
pg_summary_start(const struct pg_summary_deps *deps, struct pg_summaries **out)
{
	struct pg_summaries *s;

	*out = NULL;
	if (!deps->store || !deps->live || !deps->channels)
		return PG_ERR_INVAL;
	if (!(s = calloc(1, sizeof *s)))
		return PG_ERR_NOMEM;
	s->d = *deps;
	pthread_mutex_init(&s->mu, NULL);
	if (pg_cond_init_mono(&s->cv) != PG_OK || pthread_create(&s->th, NULL, loop, s) != 0) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return PG_ERR_NOMEM;
	}
	*out = s;
	return PG_OK;
}

void
pg_summary_stop(struct pg_summaries *s)
{
	if (!s)
		return;
	pg_thread_stop(&s->mu, &s->cv, &s->stopping, s->th, true);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
