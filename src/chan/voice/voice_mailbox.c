/*
 * voice_mailbox.c - the voice mailbox (voice.h): a staff member phones
 * pagegate's own SIP address and hears the client's check-in mailbox.
 *
 * The caller is recognised by the number they call from (a device of a
 * contact: their own messages), or asked for the client's PIN followed
 * by # (the client's messages).  They hear how many messages wait, then
 * each in turn, read from voice.txt's message part in the client's
 * language, each followed by "press 1 to acknowledge, 2 to hear it again,
 * 3 for the next message"; 1 acknowledges it (the one acknowledgement
 * model).  Each message is retrieved, exactly as GET
 * /v1/clients/{id}/mailbox retrieves ("retrieved from the mailbox by
 * NAME by phone"), once its text has been read to the end (or the caller
 * acknowledged it): a caller who skips a message or hangs up in the
 * middle of it leaves it waiting, and a message that arrived during the
 * call is not touched.  The mailbox's own words are English.  It uses the
 * configuration the daemon started with (a reload is seen after a
 * restart).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "voice.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define PIN_WAIT_MS   15000
#define PIN_MAX       12
#define WHO_MAX       160

enum phase { M_PIN_ASK, M_PIN, M_MSG, M_MENU_WAIT, M_BYE, M_DONE };

struct mbox_call {
	struct pg_sip_session s;
	struct voice_mailbox *mb;
	enum phase phase;
	char from[64], pin[PIN_MAX + 2], who[WHO_MAX];
	const struct pg_client *cl;
	const struct pg_contact *ct;
	struct pg_mailbox_item *items;
	size_t n, i;
	bool *retrieved;             /* per item */
	size_t n_retrieved;
	struct pg_voice_pcm say;     /* what is being said */
	size_t pos, gap;
	size_t heard_at;             /* m->say.n at the end of item i's text */
	int64_t waited;
	int plays;
	dtmf_rx_state_t *dtmf;
	bool events_seen;
};

/* Says text (appending to what is queued) in lang: a failure is logged
 * and the call goes on without it. */
static void
say(struct mbox_call *m, const char *lang, const char *text)
{
	char why[256];

	if (pg_voice_say(m->mb->tts, lang, text, PG_VOICE_RATE, &m->say, why, sizeof why))
		pg_warn("voice mailbox: cannot speak \"%.40s\": %s", text, why);
}

static void
start_saying(struct mbox_call *m, enum phase next)
{
	m->say.n = 0;
	m->heard_at = SIZE_MAX;
	m->pos = 0;
	m->gap = 0;
	m->waited = 0;
	m->phase = next;
}

/* Queues message i: "Message N.", voice.txt's message part for its
 * contact, the menu. */
static void
append_message(struct mbox_call *m)
{
	const struct pg_mailbox_item *it = &m->items[m->i];
	const struct pg_contact *ct = pg_client_contact(m->cl, it->d.contact_id);
	const char *lang = m->cl->language ? m->cl->language : PG_VOICE_LANG;
	struct pg_voice_script sc;
	struct pg_rendered r;
	char why[256], head[64];

	snprintf(head, sizeof head, "Message %zu.", m->i + 1);
	say(m, PG_VOICE_LANG, head);
	pg_rendered_init(&r);
	if (pg_channel_render(m->mb->cfg, m->mb->drv, m->cl, ct, NULL, &it->msg, it->d.id,
			      "", &r, why, sizeof why) == PG_OK &&
	    pg_voice_script_parse(r.body.data ? r.body.data : "", &sc, why, sizeof why) == PG_OK) {
		say(m, lang, sc.part[PG_VP_MESSAGE]);
		m->heard_at = m->say.n;
		pg_voice_script_free(&sc);
	} else {
		pg_warn("voice mailbox: message %lld: %s", (long long)it->msg.id, why);
	}
	pg_rendered_free(&r);
	(void)pg_voice_pcm_silence(&m->say, PG_VOICE_RATE, PG_VOICE_GAP_MS);
	say(m, PG_VOICE_LANG, "Press 1 to acknowledge, 2 to hear it again, 3 for the next message.");
	m->plays = 1;
}

static void
say_message(struct mbox_call *m)
{
	start_saying(m, M_MSG);
	append_message(m);
}

/* The messages waiting, once the caller is known. */
static void
open_mailbox(struct mbox_call *m)
{
	const struct pg_chan_host *h = m->mb->host;
	char text[96];
	pg_err e = h && h->mailbox ? h->mailbox(h->ctx, m->cl->id, m->ct ? m->ct->id : NULL,
						 false, 0, NULL, &m->items, &m->n) : PG_ERR_INVAL;

	if (e) {
		pg_warn("voice mailbox: client %s: %s", m->cl->id, pg_strerror(e));
		m->n = 0;
	}
	if (m->n > 0 && (m->retrieved = calloc(m->n, sizeof *m->retrieved)) == NULL) {
		pg_warn("voice mailbox: client %s: out of memory", m->cl->id);
		pg_mailbox_free(m->items, m->n);
		m->items = NULL;
		m->n = 0;
	}
	snprintf(m->who, sizeof m->who, "%s by phone%s%s", m->ct ? m->ct->name : m->cl->name,
		 m->from[0] ? " " : "", m->from);
	pg_info("voice mailbox: %s: %zu message%s waiting", m->who, m->n, m->n == 1 ? "" : "s");
	start_saying(m, m->n ? M_MSG : M_BYE);
	if (m->n == 0) {
		say(m, PG_VOICE_LANG, "You have no messages. Goodbye.");
		return;
	}
	/* the count and the first message at once: no pause to mistake */
	snprintf(text, sizeof text, "You have %zu message%s.", m->n, m->n == 1 ? "" : "s");
	say(m, PG_VOICE_LANG, text);
	m->i = 0;
	append_message(m);
}

/* Item i has been heard: it is retrieved (once). */
static void
retrieve(struct mbox_call *m)
{
	const struct pg_chan_host *h = m->mb->host;
	const struct pg_mailbox_item *it;
	struct pg_mailbox_item *taken = NULL;
	size_t n = 0;
	pg_err e;

	if (m->i >= m->n || m->retrieved == NULL || m->retrieved[m->i])
		return;
	it = &m->items[m->i];
	m->retrieved[m->i] = true;
	if ((e = h->mailbox(h->ctx, m->cl->id, m->ct ? m->ct->id : NULL, true, it->d.id,
			    m->who, &taken, &n)))
		pg_warn("voice mailbox: retrieving message %lld for %s: %s",
			(long long)it->msg.id, m->who, pg_strerror(e));
	else if (n == 1)
		m->n_retrieved++;
	pg_mailbox_free(taken, n);
}

/* The next message, or the end. */
static void
next_message(struct mbox_call *m)
{
	if (++m->i < m->n) {
		say_message(m);
		return;
	}
	start_saying(m, M_BYE);
	say(m, PG_VOICE_LANG, "No more messages. Goodbye.");
}

/* The client whose PIN was keyed, if one. */
static const struct pg_client *
client_by_pin(const struct pg_config *cfg, const char *pin)
{
	for (size_t i = 0; pin[0] && i < cfg->n_clients; i++)
		if (cfg->clients[i].pin && strcmp(cfg->clients[i].pin, pin) == 0)
			return &cfg->clients[i];
	return NULL;
}

static void
key(struct mbox_call *m, char k)
{
	const struct pg_chan_host *h = m->mb->host;
	size_t l;

	pg_info("voice mailbox: key %c", k);
	switch (m->phase) {
	case M_PIN_ASK:
	case M_PIN:
		if (k == '#') {
			if ((m->cl = client_by_pin(m->mb->cfg, m->pin))) {
				open_mailbox(m);
			} else {
				pg_info("voice mailbox: a wrong PIN from %s", m->from[0] ? m->from :
					"(no number)");
				start_saying(m, M_BYE);
				say(m, PG_VOICE_LANG, "That PIN is not known. Goodbye.");
			}
		} else if ((l = strlen(m->pin)) < PIN_MAX && k >= '0' && k <= '9') {
			m->pin[l] = k;
			m->pin[l + 1] = '\0';
			m->phase = M_PIN;
			m->waited = 0;
		}
		return;
	case M_MSG:
	case M_MENU_WAIT:
		if (k == '1') {
			pg_err e = h && h->ack ? h->ack(h->ctx, PG_CH_VOICE,
				m->items[m->i].msg.ack_ref, m->who) : PG_ERR_INVAL;
			if (e)
				pg_warn("voice mailbox: acknowledgement not recorded: %s",
					pg_strerror(e));
			retrieve(m);
			next_message(m);
		} else if (k == '2') {
			m->i--;
			next_message(m);
		} else if (k == '3') {
			next_message(m);
		}
		return;
	default:
		return;
	}
}

static void
on_dtmf(void *arg, const char *digits, int len)
{
	struct mbox_call *m = arg;

	for (int i = 0; i < len && !m->events_seen; i++)
		key(m, digits[i]);
}

static void
on_key(void *arg, char k)
{
	struct mbox_call *m = arg;

	m->events_seen = true;
	key(m, k);
}

/* What is said has been said. */
static void
said(struct mbox_call *m)
{
	switch (m->phase) {
	case M_MSG:
		m->phase = M_MENU_WAIT;
		m->waited = 0;
		break;
	case M_BYE:
		m->phase = M_DONE;
		break;
	case M_PIN_ASK:
		m->phase = M_PIN;
		m->waited = 0;
		break;
	default:
		break;
	}
}

static void
on_audio(void *arg, const int16_t *rx, int16_t *out, int n)
{
	struct mbox_call *m = arg;
	int64_t wait = (int64_t)PG_VOICE_RATE * PG_VOICE_WAIT_MS / 1000;

	if (m->dtmf)
		dtmf_rx(m->dtmf, rx, n);
	for (int i = 0; i < n; i++) {
		out[i] = 0;
		if (m->pos < m->say.n) {
			out[i] = m->say.s[m->pos++];
			if (m->pos == m->heard_at)
				retrieve(m);
			if (m->pos == m->say.n)
				said(m);
			continue;
		}
		m->waited++;
		if (m->phase == M_PIN && m->waited > (int64_t)PG_VOICE_RATE * PIN_WAIT_MS / 1000)
			m->phase = M_DONE;
		if (m->phase == M_MENU_WAIT && m->waited > wait) {
			if (m->plays++ < PG_VOICE_PLAYS) {
				m->pos = m->say.n;       /* the menu again: say it anew */
				start_saying(m, M_MSG);
				say(m, PG_VOICE_LANG, "Press 1 to acknowledge, 2 to hear it "
				    "again, 3 for the next message.");
			} else {
				next_message(m);
			}
		}
	}
}

static void
on_answered(void *arg)
{
	struct mbox_call *m = arg;

	if (m->cl) {
		open_mailbox(m);
		return;
	}
	start_saying(m, M_PIN_ASK);
	say(m, PG_VOICE_LANG, "Welcome to the voice mailbox. Please enter your PIN, then "
	    "press the pound key.");
}

static bool
on_media(void *arg, struct pg_sip_call *c, enum pg_sdp_kind kind)
{
	(void)arg;
	(void)c;
	return kind == PG_SDP_AUDIO;
}

static bool
on_done(void *arg)
{
	struct mbox_call *m = arg;

	return m->phase == M_DONE;
}

/* The contact (and client) one of whose devices is number. */
static void
find_caller(const struct pg_config *cfg, const char *number, struct mbox_call *m)
{
	for (size_t i = 0; number[0] && i < cfg->n_clients; i++) {
		const struct pg_client *cl = &cfg->clients[i];
		for (size_t j = 0; j < cl->n_contacts; j++)
			for (size_t k = 0; k < cl->contacts[j].n_devices; k++) {
				const char *to = cl->contacts[j].devices[k].to;
				if (to && strcmp(to, number) == 0) {
					m->cl = cl;
					m->ct = &cl->contacts[j];
					return;
				}
			}
	}
}

const struct pg_sip_session *
voice_mailbox_incoming(void *arg, const char *from)
{
	struct voice_mailbox *mb = arg;
	struct mbox_call *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	m->mb = mb;
	pg_strlcpy(m->from, from, sizeof m->from);
	find_caller(mb->cfg, m->from, m);
	m->dtmf = dtmf_rx_init(NULL, on_dtmf, m);
	m->s = (struct pg_sip_session){
		.offer = PG_SDP_AUDIO, .events = true, .arg = m, .media = on_media,
		.answered = on_answered, .audio = on_audio, .key = on_key, .done = on_done,
	};
	return &m->s;
}

void
voice_mailbox_ended(void *arg, const struct pg_sip_session *s, const struct pg_sip_result *r)
{
	struct mbox_call *m = s->arg;

	(void)arg;
	pg_info("voice mailbox: call from %s ended after %lld s: %s", m->from[0] ? m->from :
		"(no number)", (long long)(r->talk_ms / 1000),
		m->n > 0 && m->n_retrieved == m->n ? "every message read and retrieved" :
		m->n_retrieved ? "some messages read and retrieved, others left waiting" :
		m->cl ? "no message retrieved" : "caller not known");
	if (m->dtmf)
		dtmf_rx_free(m->dtmf);
	pg_mailbox_free(m->items, m->n);
	free(m->retrieved);
	pg_voice_pcm_free(&m->say);
	free(m);
}
