/*
 * voice_party.c - a person on a telephone, for the voice tests: answers
 * calls on 127.0.0.1:PORT with sofia-sip's NUA (or places one, --call),
 * takes G.711 audio, records everything it hears to DIR/call-N.raw
 * (16-bit little-endian at 8000 Hz, each packet at its RTP timestamp, so
 * the recording does not depend on packet timing), and presses keys on
 * cue, as RFC 4733 telephone-events or as in-band tones (spandsp's
 * dtmf_tx).  One status line per call goes to DIR/status:
 *   call=N result=answered|busy|noanswer|failed keys="1 1" hangup=us|them|none
 *
 *   voice_party --port P --dir DIR [--keys SPEC] [--dtmf event|inband]
 *       [--busy N] [--calls N] [--timeout S] [--call URI --from URI] [-v]
 *
 * SPEC: one action per prompt, comma-separated.  A prompt has ended when
 * the party has heard speech and then QUIET_MS of silence.  An action is
 * keys to press ("1", "4321#"), "-" (nothing: keep listening) or "h"
 * (hang up).  After the last action it listens until the other side hangs
 * up.  --busy answers the first N calls 486 Busy Here.  --call places
 * one call to URI (from --from) instead of answering.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sofia-sip/su_wait.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_header.h>
#include <spandsp.h>

#include "../../src/chan/sip.h"
#include "pagegate/util.h"

#define TICK_MS        20
#define QUIET_MS       1500      /* silence that ends a prompt */
#define LOUD           64        /* a sample of speech */
#define EVENT_MS       100       /* how long a key is held */
#define REC_MAX        (8000 * 600)
#define ACTIONS_MAX    16

struct opts {
	int port, busy, calls, timeout;
	const char *dir, *call, *from;
	bool inband, verbose;
	char *actions[ACTIONS_MAX];
	int n_actions;
};

struct party {
	struct opts o;
	su_root_t *root;
	nua_t *nua;
	nua_handle_t *nh;
	int n_calls, fd, lport;
	bool active, up, shutdown_done, hung_up_by_us;
	int pt, ev_pt;
	struct sockaddr_in peer;
	struct pg_rtp_tx rtp;
	/* what was heard */
	int16_t *rec;
	size_t rec_n;
	bool rec_started;
	uint32_t ts0;
	/* cues */
	int action;                  /* next action */
	bool heard_speech;
	int64_t quiet_ms;
	char pending[32];            /* keys still to press */
	char pressed[64];
	/* key being sent */
	struct pg_rtp_event ev;
	int ev_left;                 /* event packets still to send; 0 none */
	int ev_end;                  /* end packets still to send */
	dtmf_tx_state_t *dtmf;
	unsigned sdp_version;
	char result[16];
};

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

#define LOG(p, ...) do { if ((p)->o.verbose) { fprintf(stderr, "voice_party: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* ---- media ---- */

static void
record(struct party *p, const uint8_t *pkt, size_t n)
{
	int16_t s[PG_MEDIA_MAX];
	int k = pg_rtp_parse(pkt, n, p->pt, s, PG_MEDIA_MAX);
	uint32_t ts;
	size_t at;

	if (k <= 0)
		return;
	ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
	if (!p->rec_started) {
		p->rec_started = true;
		p->ts0 = ts;
	}
	at = (size_t)(uint32_t)(ts - p->ts0);
	if (at + (size_t)k > REC_MAX)
		return;
	if (at + (size_t)k > p->rec_n) {
		int16_t *v = realloc(p->rec, (at + (size_t)k) * sizeof *v);
		if (!v)
			return;
		memset(v + p->rec_n, 0, (at + (size_t)k - p->rec_n) * sizeof *v);
		p->rec = v;
		p->rec_n = at + (size_t)k;
	}
	memcpy(p->rec + at, s, (size_t)k * sizeof *s);
	/* the cue: speech, then QUIET_MS of silence */
	for (int i = 0; i < k; i++)
		if (abs(s[i]) >= LOUD) {
			p->heard_speech = true;
			p->quiet_ms = 0;
		}
}

static void
media_read(struct party *p)
{
	uint8_t pkt[PG_MEDIA_MAX];
	ssize_t n;

	while ((n = recv(p->fd, pkt, sizeof pkt, MSG_DONTWAIT)) > 0)
		if (p->up)
			record(p, pkt, (size_t)n);
}

static void
send_pkt(struct party *p, const uint8_t *b, size_t n)
{
	sendto(p->fd, b, n, 0, (struct sockaddr *)&p->peer, sizeof p->peer);
}

/* The next cue's action, when the prompt has ended. */
static void
cue(struct party *p)
{
	char *a;

	if (!p->heard_speech || p->quiet_ms < QUIET_MS || p->action >= p->o.n_actions ||
	    p->pending[0] || p->ev_left || p->ev_end)
		return;
	a = p->o.actions[p->action++];
	p->heard_speech = false;
	LOG(p, "prompt over: action \"%s\"", a);
	if (strcmp(a, "h") == 0) {
		p->hung_up_by_us = true;
		nua_bye(p->nh, TAG_END());
	} else if (strcmp(a, "-") != 0) {
		pg_strlcpy(p->pending, a, sizeof p->pending);
	}
}

/* One 20 ms period: our audio (silence, or a tone), or a key's event. */
static void
media_tick(struct party *p)
{
	int16_t out[PG_RTP_SAMPLES];
	uint8_t pkt[PG_RTP_HDR + PG_RTP_SAMPLES];

	if (!p->up)
		return;
	p->quiet_ms += TICK_MS;
	cue(p);
	if (p->pending[0] && !p->ev_left && !p->ev_end) {
		char k = p->pending[0];
		memmove(p->pending, p->pending + 1, strlen(p->pending));
		size_t l = strlen(p->pressed);
		snprintf(p->pressed + l, sizeof p->pressed - l, "%s%c", l ? " " : "", k);
		LOG(p, "pressing %c (%s)", k, p->o.inband ? "in-band" : "telephone-event");
		if (p->o.inband || p->ev_pt < 0) {
			dtmf_tx_put(p->dtmf, &k, 1);
		} else {
			memset(&p->ev, 0, sizeof p->ev);
			p->ev.key = k;
			p->ev.ts = p->rtp.ts;
			p->ev_left = EVENT_MS / TICK_MS;
			p->ev_end = 3;
		}
	}
	if (p->ev_left || p->ev_end) {
		if (p->ev_left) {
			p->ev_left--;
			p->ev.duration = (uint16_t)(p->ev.duration + PG_RTP_SAMPLES);
		} else {
			p->ev_end--;
			p->ev.end = true;
		}
		send_pkt(p, pkt, pg_rtp_event_build(&p->rtp, p->ev_pt, &p->ev, pkt));
		if (!p->ev_left && !p->ev_end)
			p->rtp.ts += p->ev.duration + PG_RTP_SAMPLES;
		return;
	}
	int n = dtmf_tx(p->dtmf, out, PG_RTP_SAMPLES);
	if (n < PG_RTP_SAMPLES)
		memset(out + n, 0, (size_t)(PG_RTP_SAMPLES - n) * sizeof out[0]);
	send_pkt(p, pkt, pg_rtp_build(&p->rtp, out, PG_RTP_SAMPLES, pkt));
}

static bool
media_to(struct party *p, const struct pg_sdp_m *m)
{
	memset(&p->peer, 0, sizeof p->peer);
	p->peer.sin_family = AF_INET;
	p->peer.sin_port = htons((uint16_t)m->port);
	if (inet_pton(AF_INET, m->addr, &p->peer.sin_addr) != 1)
		return false;
	p->pt = m->pt;
	p->ev_pt = m->ev_pt;
	pg_rtp_tx_init(&p->rtp, m->pt);
	return true;
}

/* ---- calls ---- */

static void
finish(struct party *p, const char *result)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof path, "%s/call-%d.raw", p->o.dir, p->n_calls);
	if (p->rec_n && (f = fopen(path, "wb"))) {
		for (size_t i = 0; i < p->rec_n; i++) {
			uint8_t b[2] = { (uint8_t)p->rec[i], (uint8_t)((uint16_t)p->rec[i] >> 8) };
			fwrite(b, 1, 2, f);
		}
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/status", p->o.dir);
	if ((f = fopen(path, "a"))) {
		fprintf(f, "call=%d result=%s keys=\"%s\" hangup=%s\n", p->n_calls, result,
			p->pressed, !p->up ? "none" : p->hung_up_by_us ? "us" : "them");
		fclose(f);
	}
	LOG(p, "call %d %s, heard %zu samples, pressed \"%s\"", p->n_calls, result, p->rec_n,
	    p->pressed);
	if (p->nh)
		nua_handle_destroy(p->nh);
	p->nh = NULL;
	free(p->rec);
	p->rec = NULL;
	p->rec_n = 0;
	p->rec_started = false;
	p->active = p->up = p->hung_up_by_us = p->heard_speech = false;
	p->action = 0;
	p->pending[0] = p->pressed[0] = '\0';
	p->ev_left = p->ev_end = 0;
	p->quiet_ms = 0;
}

static bool
sdp_of(const sip_t *sip, struct pg_sdp *s)
{
	return sip && sip->sip_payload && sip->sip_payload->pl_data &&
	       pg_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, s) == PG_OK;
}

static void
on_invite(struct party *p, nua_handle_t *nh, const sip_t *sip)
{
	struct pg_sdp s;
	char sdp[2048];
	int i = -1;

	if (p->active) {
		nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	if (sdp_of(sip, &s))
		i = pg_sdp_find(&s, PG_SDP_AUDIO);
	if (i < 0) {
		nua_respond(nh, SIP_488_NOT_ACCEPTABLE, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	p->n_calls++;
	p->nh = nh;
	p->active = true;
	if (p->n_calls <= p->o.busy) {
		nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
		finish(p, "busy");
		return;
	}
	media_to(p, &s.m[i]);
	pg_sdp_answer(sdp, sizeof sdp, &s, i, "127.0.0.1", p->lport, true, ++p->sdp_version);
	nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	p->up = true;
	LOG(p, "answered call %d (telephone-events %s)", p->n_calls, p->ev_pt >= 0 ? "yes" : "no");
}

static void
on_event(nua_event_t ev, int status, const char *phrase, nua_t *nua, nua_magic_t *magic,
	 nua_handle_t *nh, nua_hmagic_t *hmagic, const sip_t *sip, tagi_t tags[])
{
	struct party *p = (struct party *)magic;
	struct pg_sdp s;
	int i;

	(void)nua;
	(void)hmagic;
	(void)tags;
	LOG(p, "event %s %d %s", nua_event_name(ev), status, phrase ? phrase : "");
	switch (ev) {
	case nua_i_invite:
		if (nh == p->nh && p->up)
			nua_respond(nh, SIP_488_NOT_ACCEPTABLE, TAG_END());
		else
			on_invite(p, nh, sip);
		break;
	case nua_r_invite:                 /* our own call (--call) */
		if (status >= 200 && status < 300 && !p->up && sdp_of(sip, &s) &&
		    (i = pg_sdp_find(&s, PG_SDP_AUDIO)) >= 0 && media_to(p, &s.m[i])) {
			p->up = true;
			LOG(p, "our call answered");
		} else if (status >= 300) {
			finish(p, status == 486 ? "busy" : "failed");
		}
		break;
	case nua_i_cancel:
		if (p->active && nh == p->nh)
			finish(p, "noanswer");
		break;
	case nua_i_bye:
		if (p->active && nh == p->nh) {
			media_read(p);           /* what came before the BYE */
			finish(p, "answered");
		}
		break;
	case nua_r_bye:
		if (p->active && nh == p->nh && status >= 200)
			finish(p, "answered");
		break;
	case nua_r_shutdown:
		if (status >= 200)
			p->shutdown_done = true;
		break;
	default:
		break;
	}
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "port", 1, NULL, 'p' }, { "dir", 1, NULL, 'd' }, { "keys", 1, NULL, 'k' },
		{ "dtmf", 1, NULL, 'm' }, { "busy", 1, NULL, 'b' }, { "calls", 1, NULL, 'c' },
		{ "timeout", 1, NULL, 't' }, { "call", 1, NULL, 'C' }, { "from", 1, NULL, 'f' },
		{ "verbose", 0, NULL, 'v' }, { NULL, 0, NULL, 0 }
	};
	int ch;
	char *tok, *save;

	memset(o, 0, sizeof *o);
	o->calls = 1;
	o->timeout = 120;
	while ((ch = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (ch) {
		case 'p': o->port = atoi(optarg); break;
		case 'd': o->dir = optarg; break;
		case 'k':
			for (tok = strtok_r(optarg, ",", &save); tok && o->n_actions < ACTIONS_MAX;
			     tok = strtok_r(NULL, ",", &save))
				o->actions[o->n_actions++] = tok;
			break;
		case 'm':
			if (strcmp(optarg, "inband") == 0) o->inband = true;
			else if (strcmp(optarg, "event") != 0) return -1;
			break;
		case 'b': o->busy = atoi(optarg); break;
		case 'c': o->calls = atoi(optarg); break;
		case 't': o->timeout = atoi(optarg); break;
		case 'C': o->call = optarg; break;
		case 'f': o->from = optarg; break;
		case 'v': o->verbose = true; break;
		default: return -1;
		}
	}
	return o->dir && (o->port > 0 || o->call) ? 0 : -1;
}

/* --call: the INVITE of our one call. */
static void
place_call(struct party *p)
{
	char sdp[2048];

	p->nh = nua_handle(p->nua, NULL, NUTAG_URL(p->o.call), SIPTAG_TO_STR(p->o.call),
			   TAG_END());
	pg_sdp_offer(sdp, sizeof sdp, "127.0.0.1", p->lport, PG_SDP_AUDIO, true,
		     ++p->sdp_version);
	p->n_calls = 1;
	p->active = true;
	nua_invite(p->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), TAG_END());
}

int
main(int argc, char **argv)
{
	static struct party p;
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	char url[64];
	int64_t start, now, next;
	int rc = 0;

	if (parse_opts(argc, argv, &p.o) != 0) {
		fprintf(stderr, "usage: voice_party --port P --dir DIR [--keys SPEC] "
			"[--dtmf event|inband] [--busy N] [--calls N] [--timeout S] "
			"[--call URI --from URI] [-v]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((p.fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(p.fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(p.fd, (struct sockaddr *)&a, &al) != 0) {
		perror("voice_party: media socket");
		return 1;
	}
	p.lport = ntohs(a.sin_port);
	p.ev_pt = -1;
	p.dtmf = dtmf_tx_init(NULL);
	pg_sip_init();
	p.root = su_root_create(NULL);
	su_root_threading(p.root, 0);
	if (p.o.port > 0)
		snprintf(url, sizeof url, "sip:127.0.0.1:%d;transport=udp", p.o.port);
	else
		snprintf(url, sizeof url, "sip:127.0.0.1:*;transport=udp");
	p.nua = nua_create(p.root, on_event, (nua_magic_t *)&p, NUTAG_URL(url),
			   NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0),
			   NUTAG_AUTOACK(1), NUTAG_SESSION_TIMER(0),
			   SIPTAG_USER_AGENT_STR("pagegate-voice-party"),
			   TAG_IF(p.o.from, SIPTAG_FROM_STR(p.o.from)), TAG_END());
	if (!p.nua) {
		fprintf(stderr, "voice_party: cannot listen on %s\n", url);
		return 1;
	}
	LOG(&p, "on %s, media port %d", url, p.lport);
	if (p.o.call)
		place_call(&p);
	start = next = pg_mono_ms();
	while (!stop && p.n_calls - (p.active ? 1 : 0) < p.o.calls) {
		now = pg_mono_ms();
		if (now - start > (int64_t)p.o.timeout * 1000) {
			fprintf(stderr, "voice_party: timeout after %d s\n", p.o.timeout);
			rc = 1;
			break;
		}
		while (now >= next) {
			media_read(&p);
			media_tick(&p);
			next += TICK_MS;
		}
		su_root_step(p.root, (su_duration_t)(next - now > 0 ? next - now : 1));
		media_read(&p);
	}
	if (p.active)
		finish(&p, "failed");
	nua_shutdown(p.nua);
	for (start = pg_mono_ms(); !p.shutdown_done && pg_mono_ms() - start < 3000;)
		su_root_step(p.root, 50);
	nua_destroy(p.nua);
	su_root_destroy(p.root);
	pg_sip_deinit();
	dtmf_tx_free(p.dtmf);
	close(p.fd);
	return rc;
}
