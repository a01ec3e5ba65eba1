/*
 * chan_voice.c - the voice channel: each job's rendered voice.txt is cut
 * into its parts (voice_script.c), spoken in the client's language
 * (voice_speech.c) before dialling, and played as a dialogue
 * (voice_dialog.c) on a call through a trunk of the shared "sip" list
 * (voice_call.c, ../sip/).
 *
 * Outcomes: busy, no answer, SIP 5xx and the watchdog are temporary (the
 * scheduler retries with the voice backoff), numbers that do not exist
 * and refused credentials permanent; an answered call is sent.  While the
 * call runs, what happens goes into the ledger as receipts: answered, each
 * key; 1 at the greeting makes the delivery delivered (the message was
 * read to a person), 1 at the menu acknowledges the message (the one
 * acknowledgement model, who = the contact "by phone"), 3 runs the
 * message's escalation's next step now.  The attempt's reply says how the
 * call went: "answered after 2 s, keys 1 1, 31 s: acknowledged, via SIP
 * G.711 PCMU", or the SIP final response of a call that failed.
 *
 * One job per send() call: a call is a phone call, concurrency comes from
 * the scheduler's workers.  The speech engines are shared by the
 * workers (one lock).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voice.h"
#include "../drivers.h"
#include "pagegate/channel.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define WHO_MAX 160
#define MAILBOX_CALL_S (20 * 60)      /* the longest mailbox call */

struct voice_state {
	const struct pg_chan_host *host;
	struct pg_voice_tts *tts;
	/* the voice mailbox, when voice.listen is set */
	struct voice_mailbox mb;
	struct pg_config *cfg;               /* held for the mailbox */
	const struct voice_cfg *vc;
	pthread_t thread;
	bool thread_on;
	_Atomic bool stopping;
};

static void *
mailbox_thread(void *arg)
{
	struct voice_state *st = arg;
	const struct pg_sip_answerer a = {
		.arg = &st->mb, .incoming = voice_mailbox_incoming, .ended = voice_mailbox_ended,
	};

	(void)pg_sip_serve(st->vc->listen_ip, st->vc->listen_port, MAILBOX_CALL_S, &a,
			   &st->stopping);
	return NULL;
}

/* The language job j is spoken in: its device's, else its client's. */
static const char *
job_lang(const struct pg_client *cl, const struct pg_device *dev)
{
	const char *v = dev ? pg_device_opt(dev, "language") : NULL;

	return v ? v : cl && cl->language ? cl->language : PG_VOICE_LANG;
}

/* ---- during a call: the ledger, the acknowledgement, the escalation ---- */

struct job_call {
	struct voice_state *st;
	struct pg_job *j;
	char who[WHO_MAX];
	int64_t t0;
};

static void
receipt(struct job_call *c, enum pg_dstate state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
receipt(struct job_call *c, enum pg_dstate state, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	pg_err e;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (!c->st->host || !c->st->host->receipt)
		return;
	if ((e = c->st->host->receipt(c->st->host->ctx, c->j->delivery_id, state, text)))
		pg_warn("voice: delivery %lld: cannot record \"%s\": %s",
			(long long)c->j->delivery_id, text, pg_strerror(e));
}

static void
on_answered(void *arg)
{
	struct job_call *c = arg;

	receipt(c, PG_D_SENT, "answered after %.1f s", (double)(pg_mono_ms() - c->t0) / 1000);
}

static void
on_key(void *arg, char key, bool inband)
{
	struct job_call *c = arg;

	receipt(c, PG_D_SENT, "key %c (%s)", key, inband ? "in-band tone" :
		"telephone-event");
}

static void
on_heard(void *arg)
{
	struct job_call *c = arg;

	receipt(c, PG_D_DELIVERED, "the message is read to %s", c->who);
}

static void
on_ack(void *arg)
{
	struct job_call *c = arg;
	const struct pg_chan_host *h = c->st->host;
	pg_err e = h && h->ack ? h->ack(h->ctx, PG_CH_VOICE, c->j->ack_ref, c->who) :
		PG_ERR_INVAL;

	if (e)
		pg_warn("voice: delivery %lld: acknowledgement by key not recorded: %s",
			(long long)c->j->delivery_id, pg_strerror(e));
}

static void
on_pass(void *arg)
{
	struct job_call *c = arg;
	const struct pg_chan_host *h = c->st->host;
	pg_err e = h && h->escalate ? h->escalate(h->ctx, c->j->delivery_id, c->who) :
		PG_ERR_INVAL;

	if (e)
		receipt(c, PG_D_SENT, "key 3: not passed on (%s)", e == PG_ERR_INVAL ?
			"no escalation step left" : pg_strerror(e));
}

/* ---- sending ---- */

static void
send_one(struct voice_state *st, const struct voice_cfg *vc, const char *gateway,
	 struct pg_job *j)
{
	const struct pg_sip_gw *g = pg_sip_gateway_find(vc ? vc->trunks : NULL, gateway);
	const char *lang = job_lang(j->client, j->device);
	struct pg_voice_script sc;
	struct pg_voice_audio au;
	struct pg_voice_result r;
	struct job_call c = { .st = st, .j = j, .t0 = pg_mono_ms() };
	const struct pg_voice_hooks h = {
		.arg = &c, .answered = on_answered, .key = on_key, .heard = on_heard,
		.ack = on_ack, .pass = on_pass,
	};
	char why[256], keys[2 * PG_VOICE_KEYS_MAX + 1] = "";
	int64_t t_job = pg_mono_ms();
	pg_err e;

	j->reply[0] = '\0';
	if (!g) {
		pg_job_set(j, PG_OUT_PERM, "sip gateway \"%s\" is not configured",
			   gateway ? gateway : "(default)");
		return;
	}
	if (!pg_sip_number_ok(j->address)) {
		pg_job_set(j, PG_OUT_PERM, "not a phone number, not called");
		return;
	}
	snprintf(c.who, sizeof c.who, "%s by phone %s", j->to_name ? j->to_name : "",
		 j->address);
	if ((e = pg_voice_script_parse(j->body, &sc, why, sizeof why))) {
		pg_job_set(j, e == PG_ERR_NOMEM ? PG_OUT_TEMP : PG_OUT_PERM,
			   "not called: %s", e == PG_ERR_NOMEM ? "out of memory" : why);
		return;
	}
	e = pg_voice_audio_make(st->tts, lang, &sc, PG_VOICE_RATE, &au, why, sizeof why);
	pg_voice_script_free(&sc);
	if (e) {
		pg_job_set(j, e == PG_ERR_NOTFOUND || e == PG_ERR_TOOBIG ? PG_OUT_PERM :
			   PG_OUT_TEMP, "not called, no speech: %s", why);
		return;
	}
	c.t0 = pg_mono_ms();                 /* the INVITE */
	pg_voice_call(g, j->address, &au, &h, &r);
	pg_voice_audio_free(&au);
	for (int i = 0; r.keys[i]; i++)
		snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%c", i ? " " : "",
			 r.keys[i]);
	if (!r.sip.answered) {
		pg_job_set(j, r.sip.outcome == PG_OUT_OK ? PG_OUT_TEMP : r.sip.outcome, "%s",
			   r.sip.text[0] ? r.sip.text : "the call ended without an answer");
	} else {
		pg_job_set(j, PG_OUT_OK, "answered after %.1f s, %s%s, %lld s: %s%s%s",
			   (double)r.sip.setup_ms / 1000, keys[0] ? "keys " : "no key",
			   keys, (long long)(r.sip.talk_ms / 1000),
			   r.acked ? "acknowledged" : r.passed ? "passed on" :
			   r.heard ? "heard, not acknowledged" : "not heard (no key at the greeting)",
			   r.sip.via[0] ? ", via " : "", r.sip.via);
	}
	pg_info("voice attempt: message %lld delivery %lld to %s via %s in %s: %s in %lld ms: %s",
		(long long)j->message_id, (long long)j->delivery_id, j->address, g->name, lang,
		pg_outcome_name(j->outcome), (long long)(pg_mono_ms() - t_job), j->reply);
}

static void
voice_send(void *state, const struct pg_config *cfg, const char *gateway,
	   struct pg_job *jobs, size_t n)
{
	struct voice_state *st = state;

	for (size_t i = 0; i < n; i++)
		send_one(st, cfg->chan_cfg[PG_CH_VOICE], gateway, &jobs[i]);
}

/* `pagegate render` (channel.h's preview): the WAV of body as the call
 * plays it, in the client's (or the device's) language.  Overrides:
 * rate = 8000 (the call, default), 16000, or "native" (the engine's own
 * rate: 16000 for English, 22050 for espeak-ng); part = greeting,
 * message, menu, acked, passed or all (default: the greeting, a second's
 * pause, the message and the menu); language = a language tag. */
static pg_err
voice_preview(const struct pg_client *cl, const struct pg_device *dev,
	      const struct pg_kv *over, size_t n_over, const char *body, const char *out,
	      char *summary, size_t slen)
{
	const char *lang = job_lang(cl, dev);
	struct pg_voice_tts *tts = NULL;
	struct pg_voice_script sc;
	struct pg_voice_audio au;
	struct pg_voice_pcm pcm = { 0 };
	int rate = PG_VOICE_RATE, part = -1;
	char why[256];
	pg_err e;

	for (size_t i = 0; i < n_over; i++) {
		const char *k = over[i].key, *v = over[i].value;
		if (strcmp(k, "rate") == 0 && (strcmp(v, "8000") == 0 || strcmp(v, "16000") == 0))
			rate = atoi(v);
		else if (strcmp(k, "rate") == 0 && strcmp(v, "native") == 0)
			rate = 0;
		else if (strcmp(k, "part") == 0 && (strcmp(v, "all") == 0 ||
						     (part = pg_voice_part_parse(v)) >= 0))
			;
		else if (strcmp(k, "language") == 0 && v[0])
			lang = v;
		else {
			snprintf(summary, slen, "set %s=%s: the voice takes rate=8000|16000|native, "
				 "part=greeting|message|menu|acked|passed|all, language=TAG", k, v);
			return PG_ERR_INVAL;
		}
	}
	if ((e = pg_voice_script_parse(body, &sc, why, sizeof why))) {
		snprintf(summary, slen, "%s", e == PG_ERR_NOMEM ? "out of memory" : why);
		return e;
	}
	if ((e = pg_voice_tts_new(&tts)) == PG_OK)
		e = pg_voice_audio_make(tts, lang, &sc, rate, &au, why, sizeof why);
	else
		snprintf(why, sizeof why, "out of memory");
	pg_voice_script_free(&sc);
	pg_voice_tts_free(tts);
	if (e) {
		snprintf(summary, slen, "%s", why);
		return e;
	}
	e = part >= 0 ? pg_voice_pcm_append(&pcm, &au.part[part]) : pg_voice_audio_listen(&au, &pcm);
	if (!e)
		e = pg_voice_wav_write(out, &pcm, au.rate, why, sizeof why);
	if (e)
		snprintf(summary, slen, "%s", e == PG_ERR_IO ? why : pg_strerror(e));
	else
		snprintf(summary, slen, "%s, %.1f s at %d Hz, language %s (%s)",
			 part >= 0 ? pg_voice_part_name(part) : "greeting, message and menu",
			 (double)pcm.n / au.rate, au.rate, lang,
			 pg_voice_lang_english(lang) ? "flite" : "espeak-ng");
	pg_voice_pcm_free(&pcm);
	pg_voice_audio_free(&au);
	return e;
}

static void voice_stop(void *state);

static pg_err
voice_start(const struct pg_config *cfg, const struct pg_chan_host *host, void **state)
{
	struct voice_state *st = calloc(1, sizeof *st);

	if (!st)
		return PG_ERR_NOMEM;
	st->host = host;
	if (pg_voice_tts_new(&st->tts) != PG_OK) {
		free(st);
		return PG_ERR_NOMEM;
	}
	pg_sip_init();
	st->vc = cfg->chan_cfg[PG_CH_VOICE];
	if (st->vc && st->vc->listen) {
		/* the mailbox keeps the configuration it started with */
		st->cfg = (struct pg_config *)cfg;
		pg_config_hold(st->cfg);
		st->mb = (struct voice_mailbox){ .cfg = cfg, .host = host, .drv = &pg_chan_voice,
						 .tts = st->tts };
		if (pthread_create(&st->thread, NULL, mailbox_thread, st) != 0) {
			voice_stop(st);
			return PG_ERR_NOMEM;
		}
		st->thread_on = true;
	}
	*state = st;
	return PG_OK;
}

static void
voice_stop(void *state)
{
	struct voice_state *st = state;

	if (!st)
		return;
	st->stopping = true;
	if (st->thread_on)
		pthread_join(st->thread, NULL);
	if (st->cfg)
		pg_config_release(st->cfg);
	pg_sip_deinit();
	pg_voice_tts_free(st->tts);
	free(st);
}

const struct pg_channel pg_chan_voice = {
	.name = "voice",
	.kind = PG_CH_VOICE,
	.max_batch = 1,                    /* one call per send() */
	.subject_template = NULL,
	.body_template = PG_VOICE_TEMPLATE,
	.body_escape = PG_ESC_NONE,
	.config_keys = voice_config_keys,      /* voice = { listen; } (and the sip list) */
	.config_parse = voice_config_parse,
	.config_free = voice_config_free,
	.config_tables = voice_config_tables,
	.retry = { 60, 5 * 60, 2 * 3600 },     /* a person's phone: not too often */
	.device_keys = voice_device_keys,      /* language */
	.device_check = voice_device_check,    /* number, trunk */
	.start = voice_start,
	.stop = voice_stop,
	.send = voice_send,
	.preview = voice_preview,              /* pagegate render: the WAV */
};
