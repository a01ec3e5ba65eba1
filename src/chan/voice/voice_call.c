/*
 * voice_call.c - one call to a person (voice.h): a G.711 call on a SIP
 * trunk placed by ../sip/sip_call.c, whose media is the dialogue of
 * voice_dialog.c; keys arrive as RFC 4733 telephone-events and as
 * in-band tones, heard by spandsp's DTMF detector on what the far end
 * sends.  Early media (a 183 with SDP) plays nothing: the greeting
 * starts when the call is answered.
 */
#include <string.h>

#include <spandsp.h>

#include "voice.h"
#include "pagegate/log.h"

struct voice_call {
	const struct pg_voice_hooks *h;
	struct pg_voice_dialog d;
	dtmf_rx_state_t *dtmf;
	bool up;                     /* answered */
	bool events_seen;            /* the phone sends telephone-events */
	unsigned done_todo;
};

/* The hooks for what the last key asked for, each once. */
static void
run_todo(struct voice_call *v)
{
	unsigned todo = v->d.todo & ~v->done_todo;

	v->done_todo |= todo;
	if ((todo & PG_VOICE_DO_HEARD) && v->h->heard)
		v->h->heard(v->h->arg);
	if ((todo & PG_VOICE_DO_ACK) && v->h->ack)
		v->h->ack(v->h->arg);
	if ((todo & PG_VOICE_DO_PASS) && v->h->pass)
		v->h->pass(v->h->arg);
}

static void
key(struct voice_call *v, char k, bool inband)
{
	if (!v->up)
		return;
	if (v->h->key)
		v->h->key(v->h->arg, k, inband);
	pg_voice_dialog_key(&v->d, k);
	run_todo(v);
}

static void
on_dtmf(void *arg, const char *digits, int len)
{
	struct voice_call *v = arg;

	/* a phone that sends telephone-events may leak the tone as well */
	for (int i = 0; i < len && !v->events_seen; i++)
		key(v, digits[i], true);
}

static bool
on_media(void *arg, struct pg_sip_call *c, enum pg_sdp_kind kind)
{
	struct voice_call *v = arg;

	(void)c;
	return kind == PG_SDP_AUDIO && v->dtmf;
}

static void
on_answered(void *arg)
{
	struct voice_call *v = arg;

	v->up = true;
	if (v->h->answered)
		v->h->answered(v->h->arg);
	pg_voice_dialog_init(&v->d, v->d.a);
	run_todo(v);                     /* a one-part script is heard at once */
}

static void
on_audio(void *arg, const int16_t *rx, int16_t *out, int n)
{
	struct voice_call *v = arg;

	if (!v->up) {
		memset(out, 0, (size_t)n * sizeof *out);
		return;
	}
	dtmf_rx(v->dtmf, rx, n);
	pg_voice_dialog_play(&v->d, out, n);
}

static void
on_key(void *arg, char k)
{
	struct voice_call *v = arg;

	v->events_seen = true;
	key(v, k, false);
}

static bool
on_done(void *arg)
{
	struct voice_call *v = arg;

	return v->up && pg_voice_dialog_done(&v->d);
}

void
pg_voice_call(const struct pg_sip_gw *g, const char *number,
	      const struct pg_voice_audio *a, const struct pg_voice_hooks *h,
	      struct pg_voice_result *r)
{
	struct voice_call v = { .h = h };
	const struct pg_sip_session s = {
		.offer = PG_SDP_AUDIO, .events = true, .arg = &v, .media = on_media,
		.answered = on_answered, .audio = on_audio, .key = on_key, .done = on_done,
	};

	memset(r, 0, sizeof *r);
	v.d.a = a;
	v.dtmf = dtmf_rx_init(NULL, on_dtmf, &v);
	pg_sip_call_run(g, number, &s, 0, &r->sip);
	if (!v.dtmf)
		pg_warn("voice: no DTMF detector (out of memory)");
	else
		dtmf_rx_free(v.dtmf);
	memcpy(r->keys, v.d.keys, sizeof r->keys);
	r->heard = v.d.heard;
	r->acked = v.d.acked;
	r->passed = v.d.passed;
}
