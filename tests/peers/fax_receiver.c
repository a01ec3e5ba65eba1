/*
 * fax_receiver.c - a fax machine on a SIP line, for the tests: answers
 * calls on 127.0.0.1:PORT with sofia-sip's NUA and receives the fax with
 * spandsp (T.38 terminal or audio fax modems over G.711 RTP), writing each
 * call's pages to DIR/call-N.tif and one status line per call to
 * DIR/status:
 *   call=N result=received|failed|cancelled|hungup|refused media=t38|pcmu|pcma|none
 *   code=T30 pages=P remote="TSI" status=SIP
 *
 *   fax_receiver --port P --dir DIR [--mode t38|g711|g711-reinvite]
 *       [--auth USER:PASSWORD] [--busy N] [--no-answer N]
 *       [--hangup-after MS] [--hangup-calls N] [--early-media]
 *       [--ident ID] [--calls N] [--timeout S] [-v]
 *
 * Modes: t38 takes what is offered (T.38 first); g711 answers a T.38-only
 * offer with 488 and takes G.711; g711-reinvite does the same and then
 * re-INVITEs to T.38 one second into the call, as T.38 gateways do when
 * they hear a fax.  --busy/--no-answer apply to the first N calls;
 * --hangup-after hangs up MS after answering (the first --hangup-calls
 * calls, default 1).  --auth challenges every INVITE (401, digest, checked
 * with sofia-sip's digest code).  Exits 0 after --calls calls (default 1),
 * 1 on --timeout (default 120 s).
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
#include <sofia-sip/msg_header.h>
#include <sofia-sip/auth_digest.h>
#include <spandsp.h>

#include "../../src/chan/fax/fax.h"
#include "pagegate/util.h"

#define REALM          "pagegate-test"
#define TICK_MS        20
#define FIFO_N         8000
#define BYE_AFTER_MS   5000     /* our BYE when the caller does not hang up */
#define REINVITE_MS    1000
#define EARLY_MS       1500

enum mode { M_T38, M_G711, M_G711_REINVITE };

struct opts {
	int port, busy, no_answer, hangup_after, hangup_calls, calls, timeout;
	const char *dir, *user, *password, *ident;
	enum mode mode;
	bool early, verbose;
};

struct rx {
	struct opts o;
	su_root_t *root;
	nua_t *nua;
	nua_handle_t *nh;             /* the current call */
	int n_calls, n_invites, fd, lport;
	bool active, answered, media_on, reinvited, hung_up, shutdown_done, playing;
	enum pg_sdp_kind media;
	int pt;
	struct sockaddr_in peer;
	struct pg_rtp_tx rtp;
	struct pg_udptl_tx utx;
	struct pg_udptl_rx urx;
	int16_t fifo[FIFO_N];
	int fifo_head, fifo_len;
	fax_state_t *fax;
	t38_terminal_state_t *t38;
	t30_state_t *t30;
	bool t30_done;
	int code, status;
	unsigned sdp_version;
	int64_t t_answer, t_done, t_early;
	char file[512], nonce[40], early_sdp[2048];
};

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

#define LOG(r, ...) do { if ((r)->o.verbose) { fprintf(stderr, "fax_receiver: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* ---- T.30 receiving side ---- */

static void
phase_e(t30_state_t *t30, void *user, int code)
{
	struct rx *r = user;
	(void)t30;
	r->t30_done = true;
	r->code = code;
	r->t_done = pg_mono_ms();
	LOG(r, "phase E: %d %s", code, t30_completion_code_to_str(code));
}

static int
t38_out(t38_core_state_t *s, void *user, const uint8_t *buf, int len, int count)
{
	struct rx *r = user;
	uint8_t pkt[PG_MEDIA_MAX];
	(void)s;
	for (int i = 0; i < (count > 0 ? count : 1); i++) {
		int n = pg_udptl_build(&r->utx, buf, len, pkt, sizeof pkt);
		if (n > 0)
			sendto(r->fd, pkt, (size_t)n, 0, (struct sockaddr *)&r->peer, sizeof r->peer);
	}
	return 0;
}

static void
fax_free_all(struct rx *r)
{
	if (r->fax)
		fax_free(r->fax);
	if (r->t38)
		t38_terminal_free(r->t38);
	r->fax = NULL;
	r->t38 = NULL;
	r->t30 = NULL;
}

/* A fresh answering T.30 session on kind (a switch restarts it). */
static void
fax_start(struct rx *r, enum pg_sdp_kind kind)
{
	fax_free_all(r);
	if (kind == PG_SDP_T38) {
		r->t38 = t38_terminal_init(NULL, 0, t38_out, r);
		t38_core_state_t *core = t38_terminal_get_t38_core_state(r->t38);
		t38_set_t38_version(core, 0);
		t38_set_data_rate_management_method(core, 2);
		t38_set_max_datagram_size(core, 400);
		r->t30 = t38_terminal_get_t30_state(r->t38);
	} else {
		r->fax = fax_init(NULL, 0);
		fax_set_transmit_on_idle(r->fax, 1);
		r->t30 = fax_get_t30_state(r->fax);
	}
	t30_set_tx_ident(r->t30, r->o.ident);
	t30_set_rx_file(r->t30, r->file, -1);
	t30_set_ecm_capability(r->t30, 1);
	t30_set_supported_compressions(r->t30, T30_SUPPORT_T4_1D_COMPRESSION |
				       T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION);
	t30_set_phase_e_handler(r->t30, phase_e, r);
	r->media = kind;
	r->t30_done = false;
	r->code = -1;
	memset(&r->utx, 0, sizeof r->utx);
	memset(&r->urx, 0, sizeof r->urx);
	r->fifo_len = r->fifo_head = 0;
	r->playing = false;
}

static bool
media_to(struct rx *r, const struct pg_sdp_m *m)
{
	memset(&r->peer, 0, sizeof r->peer);
	r->peer.sin_family = AF_INET;
	r->peer.sin_port = htons((uint16_t)m->port);
	if (inet_pton(AF_INET, m->addr, &r->peer.sin_addr) != 1)
		return false;
	if (m->kind == PG_SDP_AUDIO) {
		r->pt = m->pt;
		pg_rtp_tx_init(&r->rtp, m->pt);
	}
	if (!r->media_on || r->media != m->kind)
		fax_start(r, m->kind);
	r->media_on = true;
	return true;
}

static void
on_ifp(void *arg, const uint8_t *ifp, int len, uint16_t seq)
{
	struct rx *r = arg;
	if (r->t38)
		t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(r->t38), ifp, len, seq);
}

static void
media_read(struct rx *r)
{
	uint8_t pkt[PG_MEDIA_MAX];
	int16_t s[PG_MEDIA_MAX];
	ssize_t n;

	while ((n = recv(r->fd, pkt, sizeof pkt, MSG_DONTWAIT)) > 0) {
		if (!r->media_on)
			continue;
		if (r->media == PG_SDP_T38) {
			pg_udptl_parse(&r->urx, pkt, (size_t)n, on_ifp, r);
			continue;
		}
		int k = pg_rtp_parse(pkt, (size_t)n, r->pt, s, PG_MEDIA_MAX);
		for (int i = 0; i < k; i++) {
			if (r->fifo_len == FIFO_N) {
				r->fifo_head = (r->fifo_head + 1) % FIFO_N;
				r->fifo_len--;
			}
			r->fifo[(r->fifo_head + r->fifo_len++) % FIFO_N] = s[i];
		}
	}
}

static void
media_tick(struct rx *r)
{
	int16_t in[PG_RTP_SAMPLES], out[PG_RTP_SAMPLES];
	uint8_t pkt[PG_RTP_HDR + PG_RTP_SAMPLES];

	if (!r->media_on)
		return;
	if (r->t38) {
		t38_terminal_send_timeout(r->t38, PG_RTP_SAMPLES);
		return;
	}
	/* 60 ms jitter buffer, as the sender has */
	if (!r->playing && r->fifo_len >= 3 * PG_RTP_SAMPLES)
		r->playing = true;
	if (r->playing && r->fifo_len < PG_RTP_SAMPLES)
		r->playing = false;
	for (int i = 0; i < PG_RTP_SAMPLES; i++) {
		in[i] = r->playing ? r->fifo[r->fifo_head] : 0;
		if (r->playing) {
			r->fifo_head = (r->fifo_head + 1) % FIFO_N;
			r->fifo_len--;
		}
	}
	fax_rx(r->fax, in, PG_RTP_SAMPLES);
	int n = fax_tx(r->fax, out, PG_RTP_SAMPLES);
	if (n < PG_RTP_SAMPLES)
		memset(out + n, 0, (size_t)(PG_RTP_SAMPLES - n) * sizeof out[0]);
	size_t len = pg_rtp_build(&r->rtp, out, PG_RTP_SAMPLES, pkt);
	sendto(r->fd, pkt, len, 0, (struct sockaddr *)&r->peer, sizeof r->peer);
}

/* ---- calls ---- */

/* Appends this call's status line and resets for the next call. */
static void
finish(struct rx *r, const char *result)
{
	char path[600];
	FILE *f;
	t30_stats_t st;
	char remote[64] = "";

	memset(&st, 0, sizeof st);
	if (r->t30) {
		t30_get_transfer_statistics(r->t30, &st);
		const char *id = t30_get_rx_ident(r->t30);
		pg_strlcpy(remote, id ? id : "", sizeof remote);
	}
	fax_free_all(r);        /* closes the TIFF */
	snprintf(path, sizeof path, "%s/status", r->o.dir);
	if ((f = fopen(path, "a"))) {
		fprintf(f, "call=%d result=%s media=%s code=%d pages=%d remote=\"%s\" status=%d\n",
			r->n_calls, result, !r->media_on ? "none" : r->media == PG_SDP_T38 ? "t38" :
			r->pt == PG_RTP_PCMA ? "pcma" : "pcmu", r->code, st.pages_rx,
			remote, r->status);
		fclose(f);
	}
	LOG(r, "call %d %s", r->n_calls, result);
	if (r->nh)
		nua_handle_destroy(r->nh);
	r->nh = NULL;
	r->active = r->answered = r->media_on = r->reinvited = r->hung_up = false;
}

static bool
auth_ok(struct rx *r, const sip_t *sip)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	auth_response_t ar[1];
	auth_hexmd5_t ha1, want;
	bool ok = false;

	memset(ar, 0, sizeof ar);
	ar->ar_size = sizeof ar[0];

	if (sip->sip_authorization &&
	    auth_digest_response_get(home, ar, sip->sip_authorization->au_params) > 0 &&
	    ar->ar_username && ar->ar_nonce && ar->ar_response && ar->ar_realm &&
	    strcmp(ar->ar_username, r->o.user) == 0 && strcmp(ar->ar_realm, REALM) == 0 &&
	    strcmp(ar->ar_nonce, r->nonce) == 0) {
		auth_digest_ha1(ha1, r->o.user, REALM, r->o.password);
		auth_digest_response(ar, want, ha1, "INVITE", NULL, 0);
		ok = strcmp(want, ar->ar_response) == 0;
		LOG(r, "digest from %s: %s", ar->ar_username, ok ? "valid" : "WRONG");
	}
	su_home_deinit(home);
	return ok;
}

static void
on_invite(struct rx *r, nua_handle_t *nh, const sip_t *sip)
{
	struct pg_sdp s;
	char sdp[2048];
	int i = -1;

	r->n_invites++;
	if (r->active) {
		nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	if (r->o.user && !auth_ok(r, sip)) {
		char ch[200];
		snprintf(r->nonce, sizeof r->nonce, "%08x%08x", pg_random_u32(), pg_random_u32());
		snprintf(ch, sizeof ch, "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"",
			 REALM, r->nonce);
		LOG(r, "challenging INVITE");
		nua_respond(nh, SIP_401_UNAUTHORIZED, SIPTAG_WWW_AUTHENTICATE_STR(ch), TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	if (sip->sip_payload && sip->sip_payload->pl_data &&
	    pg_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &s) == PG_OK) {
		if (r->o.mode == M_T38)
			i = pg_sdp_find(&s, PG_SDP_T38);
		if (i < 0)
			i = pg_sdp_find(&s, PG_SDP_AUDIO);
	}
	if (i < 0) {
		/* not a call yet: the caller may offer other media */
		LOG(r, "no media we take: 488");
		nua_respond(nh, SIP_488_NOT_ACCEPTABLE, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	r->n_calls++;
	r->nh = nh;
	r->active = true;
	r->code = -1;
	snprintf(r->file, sizeof r->file, "%s/call-%d.tif", r->o.dir, r->n_calls);
	if (r->n_calls <= r->o.busy) {
		r->status = 486;
		nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
		finish(r, "refused");
		return;
	}
	if (r->n_calls <= r->o.no_answer) {
		r->status = 180;
		nua_respond(nh, SIP_180_RINGING, TAG_END());
		return;                          /* until the caller cancels */
	}
	media_to(r, &s.m[i]);
	pg_sdp_answer(sdp, sizeof sdp, &s, i, "127.0.0.1", r->lport, false, ++r->sdp_version);
	if (r->o.early) {
		r->status = 183;
		pg_strlcpy(r->early_sdp, sdp, sizeof r->early_sdp);
		r->t_early = pg_mono_ms();
		LOG(r, "early media: 183 with SDP");
		nua_respond(nh, SIP_183_SESSION_PROGRESS, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
		return;
	}
	r->status = 200;
	nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	r->answered = true;
	r->t_answer = pg_mono_ms();
}

static void
on_event(nua_event_t ev, int status, const char *phrase, nua_t *nua, nua_magic_t *magic,
	 nua_handle_t *nh, nua_hmagic_t *hmagic, const sip_t *sip, tagi_t tags[])
{
	struct rx *r = (struct rx *)magic;
	struct pg_sdp s;
	int i;

	(void)nua;
	(void)hmagic;
	(void)tags;
	LOG(r, "event %s %d %s", nua_event_name(ev), status, phrase ? phrase : "");
	switch (ev) {
	case nua_i_invite:
		if (nh == r->nh && r->answered)
			nua_respond(nh, SIP_488_NOT_ACCEPTABLE, TAG_END());
		else
			on_invite(r, nh, sip);
		break;
	case nua_r_invite:              /* our re-INVITE to T.38 */
		if (status == 200 && sip && sip->sip_payload &&
		    pg_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &s) == PG_OK &&
		    (i = pg_sdp_find(&s, PG_SDP_T38)) >= 0) {
			LOG(r, "switching to T.38");
			media_to(r, &s.m[i]);
		}
		break;
	case nua_i_cancel:
		if (r->active && nh == r->nh)
			finish(r, "cancelled");
		break;
	case nua_i_bye:
		if (r->active && nh == r->nh)
			finish(r, r->t30_done && r->code == T30_ERR_OK ? "received" : "failed");
		break;
	case nua_r_bye:
		if (r->active && nh == r->nh && status >= 200)
			finish(r, r->t30_done && r->code == T30_ERR_OK ? "received" : "hungup");
		break;
	case nua_r_shutdown:
		if (status >= 200)
			r->shutdown_done = true;
		break;
	default:
		break;
	}
}

/* Timed actions of the current call. */
static void
call_timers(struct rx *r, int64_t now)
{
	if (!r->active || !r->nh)
		return;
	if (r->o.early && !r->answered && r->t_early && now - r->t_early >= EARLY_MS) {
		r->status = 200;
		nua_respond(r->nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			    SIPTAG_PAYLOAD_STR(r->early_sdp), TAG_END());
		r->answered = true;
		r->t_answer = now;
	}
	if (!r->answered)
		return;
	if (r->o.mode == M_G711_REINVITE && !r->reinvited && r->media == PG_SDP_AUDIO &&
	    now - r->t_answer >= REINVITE_MS) {
		char sdp[2048];
		r->reinvited = true;
		pg_sdp_offer(sdp, sizeof sdp, "127.0.0.1", r->lport, PG_SDP_T38, false, ++r->sdp_version);
		LOG(r, "re-INVITE to T.38");
		nua_invite(r->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			   SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	}
	if (r->o.hangup_after > 0 && r->n_calls <= r->o.hangup_calls && !r->hung_up &&
	    now - r->t_answer >= r->o.hangup_after) {
		LOG(r, "hanging up");
		r->hung_up = true;
		nua_bye(r->nh, TAG_END());
		return;
	}
	if (r->t30_done && now - r->t_done >= BYE_AFTER_MS) {
		r->t_done = now;
		nua_bye(r->nh, TAG_END());
	}
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "port", 1, NULL, 'p' }, { "dir", 1, NULL, 'd' }, { "mode", 1, NULL, 'm' },
		{ "auth", 1, NULL, 'a' }, { "busy", 1, NULL, 'b' }, { "no-answer", 1, NULL, 'n' },
		{ "hangup-after", 1, NULL, 'H' }, { "hangup-calls", 1, NULL, 'C' },
		{ "early-media", 0, NULL, 'e' }, { "ident", 1, NULL, 'i' },
		{ "calls", 1, NULL, 'c' }, { "timeout", 1, NULL, 't' }, { "verbose", 0, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;
	char *colon;

	memset(o, 0, sizeof *o);
	o->calls = 1;
	o->timeout = 120;
	o->hangup_calls = 1;
	o->ident = "+1 555 555 0199";
	while ((ch = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (ch) {
		case 'p': o->port = atoi(optarg); break;
		case 'd': o->dir = optarg; break;
		case 'm':
			if (strcmp(optarg, "t38") == 0) o->mode = M_T38;
			else if (strcmp(optarg, "g711") == 0) o->mode = M_G711;
			else if (strcmp(optarg, "g711-reinvite") == 0) o->mode = M_G711_REINVITE;
			else return -1;
			break;
		case 'a':
			if (!(colon = strchr(optarg, ':')))
				return -1;
			*colon = '\0';
			o->user = optarg;
			o->password = colon + 1;
			break;
		case 'b': o->busy = atoi(optarg); break;
		case 'n': o->no_answer = atoi(optarg); break;
		case 'H': o->hangup_after = atoi(optarg); break;
		case 'C': o->hangup_calls = atoi(optarg); break;
		case 'e': o->early = true; break;
		case 'i': o->ident = optarg; break;
		case 'c': o->calls = atoi(optarg); break;
		case 't': o->timeout = atoi(optarg); break;
		case 'v': o->verbose = true; break;
		default: return -1;
		}
	}
	return o->port > 0 && o->dir ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static struct rx r;
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	char url[64];
	int64_t start, now, next;
	int rc = 0;

	if (parse_opts(argc, argv, &r.o) != 0) {
		fprintf(stderr, "usage: fax_receiver --port P --dir DIR [--mode t38|g711|g711-reinvite] "
			"[--auth U:P] [--busy N] [--no-answer N] [--hangup-after MS] "
			"[--early-media] [--ident ID] [--calls N] [--timeout S] [-v]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((r.fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(r.fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(r.fd, (struct sockaddr *)&a, &al) != 0) {
		perror("fax_receiver: media socket");
		return 1;
	}
	r.lport = ntohs(a.sin_port);
	pg_sip_init();
	r.root = su_root_create(NULL);
	su_root_threading(r.root, 0);
	snprintf(url, sizeof url, "sip:127.0.0.1:%d;transport=udp", r.o.port);
	r.nua = nua_create(r.root, on_event, (nua_magic_t *)&r, NUTAG_URL(url),
			   NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0),
			   NUTAG_SESSION_TIMER(0), SIPTAG_USER_AGENT_STR("pagegate-fax-receiver"),
			   TAG_END());
	if (!r.nua) {
		fprintf(stderr, "fax_receiver: cannot listen on %s\n", url);
		return 1;
	}
	LOG(&r, "listening on %s, media port %d", url, r.lport);
	start = next = pg_mono_ms();
	while (!stop && r.n_calls - (r.active ? 1 : 0) < r.o.calls) {
		now = pg_mono_ms();
		if (now - start > (int64_t)r.o.timeout * 1000) {
			fprintf(stderr, "fax_receiver: timeout after %d s\n", r.o.timeout);
			rc = 1;
			break;
		}
		call_timers(&r, now);
		while (now >= next) {
			media_read(&r);
			media_tick(&r);
			next += TICK_MS;
		}
		su_root_step(r.root, (su_duration_t)(next - now > 0 ? next - now : 1));
		media_read(&r);
	}
	if (r.active)
		finish(&r, "failed");
	nua_shutdown(r.nua);
	for (start = pg_mono_ms(); !r.shutdown_done && pg_mono_ms() - start < 3000;)
		su_root_step(r.root, 50);
	nua_destroy(r.nua);
	su_root_destroy(r.root);
	pg_sip_deinit();
	close(r.fd);
	return rc;
}
