/*
 * sip_call.c - one call over a SIP trunk with sofia-sip's NUA (sip.h):
 * INVITE with the session's media (T.38 over UDPTL, or G.711 PCMU/PCMA
 * with RFC 4733 telephone-events), a second INVITE offering G.711 when
 * the far end refuses T.38 (488/415/606) and the session allows it,
 * digest authentication, early media (183 with SDP starts the media),
 * 200/ACK, a switch to T.38 when the far end re-INVITEs for it and the
 * session takes it, BYE; what the media carries is the session's (T.30
 * for the fax, speech and keys for a voice call).
 *
 * Each call runs in the calling thread on its own su_root and NUA (bound
 * to an ephemeral UDP port) and its own media socket, so concurrent calls
 * from several workers share nothing.  The loop steps the SIP stack for at
 * most one 20 ms media period at a time: on each period the session gets
 * 160 received samples (or a T.38 timer tick) and sends its own.
 * Every phase has a bound: ringing (ring_s), the whole call (watchdog),
 * BYE and shutdown (a few seconds).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sofia-sip/su_wait.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/url.h>

#include "sip_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define BYE_WAIT_MS      3000
#define SHUTDOWN_WAIT_MS 3000
#define DEFAULT_RING_S   60
#define DEFAULT_WATCHDOG (5 * 60 * 1000)
#define MAX_AUTH_TRIES   2

enum pg_outcome
pg_sip_outcome(int status, const char **why)
{
	const char *w;
	enum pg_outcome o;

	switch (status) {
	case 486: case 600:
		w = "busy"; o = PG_OUT_TEMP; break;
	case 408: case 480: case 487:
		w = "no answer"; o = PG_OUT_TEMP; break;
	case 404: case 410: case 484: case 604:
		w = "no such number"; o = PG_OUT_PERM; break;
	case 401: case 403: case 407:
		w = "refused: authentication failed"; o = PG_OUT_PERM; break;
	case 415: case 488: case 606:
		w = "the far end takes none of the media offered"; o = PG_OUT_PERM; break;
	case 603:
		w = "declined"; o = PG_OUT_PERM; break;
	default:
		if (status >= 500 && status < 600) {
			w = "SIP server failure"; o = PG_OUT_TEMP;
		} else {
			w = "call refused"; o = PG_OUT_PERM;
		}
	}
	if (why)
		*why = w;
	return o;
}

/* Records how the call ended; the first end found is the one kept. */
static void
set_end(struct pg_sip_call *c, enum pg_sip_end end, enum pg_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void
set_end(struct pg_sip_call *c, enum pg_sip_end end, enum pg_outcome o, const char *fmt, ...)
{
	va_list ap;

	if (c->res.end != PG_SIP_END_NONE)
		return;
	c->res.end = end;
	c->res.outcome = o;
	va_start(ap, fmt);
	vsnprintf(c->res.text, sizeof c->res.text, fmt, ap);
	va_end(ap);
}

int64_t
pg_sip_call_left_ms(const struct pg_sip_call *c)
{
	return c->watchdog_ms - (pg_mono_ms() - c->t_invite);
}

/* ---- media ---- */

void
sip__send_dgram(struct pg_sip_call *c, const uint8_t *b, size_t n)
{
	if (sendto(c->fd, b, n, MSG_DONTWAIT, (const struct sockaddr *)&c->peer,
		   sizeof c->peer) < 0 && errno != EAGAIN)
		pg_debug("sip %s: media send: %s", c->g->name, strerror(errno));
}

void
pg_sip_call_t38_send(struct pg_sip_call *c, const uint8_t *ifp, int len, int count)
{
	uint8_t pkt[PG_MEDIA_MAX];

	for (int i = 0; i < count; i++) {
		int n = pg_udptl_build(&c->utx, ifp, len, pkt, sizeof pkt);
		if (n > 0)
			sip__send_dgram(c, pkt, (size_t)n);
	}
}

static void
on_ifp(void *arg, const uint8_t *ifp, int len, uint16_t seq)
{
	struct pg_sip_call *c = arg;
	c->s->t38_rx(c->s->arg, ifp, len, seq);
}

/* Starts (or switches) the media to kind at the far end's addr:port,
 * with a fresh session for it. */
bool
sip__media_start(struct pg_sip_call *c, const struct pg_sdp_m *m)
{
	memset(&c->peer, 0, sizeof c->peer);
	c->peer.sin_family = AF_INET;
	c->peer.sin_port = htons((uint16_t)m->port);
	if (inet_pton(AF_INET, m->addr, &c->peer.sin_addr) != 1)
		return false;
	if (c->media_on && c->media == m->kind)
		return true;                     /* same media, maybe a new address */
	if (!c->s->media(c->s->arg, c, m->kind))
		return false;
	c->media = m->kind;
	c->media_on = true;
	c->fifo_len = c->fifo_head = 0;
	c->playing = false;
	c->ev_pt = c->s->events && m->kind == PG_SDP_AUDIO ? m->ev_pt : -1;
	memset(&c->utx, 0, sizeof c->utx);
	memset(&c->urx, 0, sizeof c->urx);
	if (m->kind == PG_SDP_AUDIO)
		pg_rtp_tx_init(&c->rtp, m->pt);
	snprintf(c->res.via, sizeof c->res.via, "%s", m->kind == PG_SDP_T38 ? "SIP T.38" :
		 m->pt == PG_RTP_PCMA ? "SIP G.711 PCMA" : "SIP G.711 PCMU");
	pg_debug("sip %s: media %s to %s:%d", c->g->name, c->res.via, m->addr, m->port);
	return true;
}

/* A telephone-event packet: the key once, at the first packet seen of
 * its event (events repeat, and end with three packets). */
static void
media_event(struct pg_sip_call *c, const uint8_t *pkt, size_t n)
{
	struct pg_rtp_event ev;

	if (pg_rtp_event_parse(pkt, n, c->ev_pt, &ev) != 0 ||
	    (c->any_ev && ev.ts == c->last_ev_ts))
		return;
	c->any_ev = true;
	c->last_ev_ts = ev.ts;
	if (c->s->key)
		c->s->key(c->s->arg, ev.key);
}

/* Reads every datagram waiting on the media socket. */
void
sip__media_read(struct pg_sip_call *c)
{
	uint8_t pkt[PG_MEDIA_MAX];
	int16_t s[PG_MEDIA_MAX];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t n;

	for (;;) {
		fl = sizeof from;
		n = recvfrom(c->fd, pkt, sizeof pkt, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (!c->media_on || from.sin_addr.s_addr != c->peer.sin_addr.s_addr)
			continue;                    /* not from the far end */
		if (c->media == PG_SDP_T38) {
			(void)pg_udptl_parse(&c->urx, pkt, (size_t)n, on_ifp, c);
			continue;
		}
		if (c->ev_pt >= 0 && pg_rtp_pt(pkt, (size_t)n) == c->ev_pt) {
			media_event(c, pkt, (size_t)n);
			continue;
		}
		int k = pg_rtp_parse(pkt, (size_t)n, c->rtp.pt, s, (int)(sizeof s / sizeof s[0]));
		for (int i = 0; i < k; i++) {
			if (c->fifo_len == RX_FIFO) {         /* drop the oldest */
				c->fifo_head = (c->fifo_head + 1) % RX_FIFO;
				c->fifo_len--;
			}
			c->fifo[(c->fifo_head + c->fifo_len) % RX_FIFO] = s[i];
			c->fifo_len++;
		}
	}
}

/* One 20 ms media period. */
void
sip__media_tick(struct pg_sip_call *c)
{
	int16_t in[PG_RTP_SAMPLES], out[PG_RTP_SAMPLES];
	uint8_t pkt[PG_RTP_HDR + PG_RTP_SAMPLES];

	if (!c->media_on)
		return;
	if (c->media == PG_SDP_T38) {
		c->s->t38_tick(c->s->arg, PG_RTP_SAMPLES);
		return;
	}
	/* a jitter buffer: received audio is played 60 ms late, so packets
	 * that come late or in bursts (network, scheduling) still arrive in
	 * time; after running dry it fills up again before playing */
	if (!c->playing && c->fifo_len >= RX_PREFILL)
		c->playing = true;
	if (c->playing && c->fifo_len < PG_RTP_SAMPLES)
		c->playing = false;
	for (int i = 0; i < PG_RTP_SAMPLES; i++) {
		if (c->playing) {
			in[i] = c->fifo[c->fifo_head];
			c->fifo_head = (c->fifo_head + 1) % RX_FIFO;
			c->fifo_len--;
		} else {
			in[i] = 0;
		}
	}
	c->s->audio(c->s->arg, in, out, PG_RTP_SAMPLES);
	sip__send_dgram(c, pkt, pg_rtp_build(&c->rtp, out, PG_RTP_SAMPLES, pkt));
}

/* ---- SIP ---- */

static void
invite(struct pg_sip_call *c, enum pg_sdp_kind kind)
{
	char sdp[SDP_MAX];

	c->offered = kind;
	pg_sdp_offer(sdp, sizeof sdp, c->lip, c->lport, kind, c->s->events, ++c->sdp_version);
	nua_invite(c->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), TAG_END());
}

/* Answers a 401/407 with the gateway's credentials. */
static bool
authenticate(struct pg_sip_call *c, const sip_t *sip, int status)
{
	const msg_auth_t *au = status == 401 ? sip->sip_www_authenticate :
		sip->sip_proxy_authenticate;
	const char *realm;
	struct pg_buf b;
	bool ok;

	if (!c->g->user || !c->g->password || !au || !au->au_scheme ||
	    ++c->auth_tries > MAX_AUTH_TRIES)
		return false;
	realm = msg_params_find(au->au_params, "realm=");
	if (!realm || strchr(realm, '\r') || strchr(realm, '\n'))
		return false;
	pg_buf_init(&b, 1024);
	ok = pg_buf_printf(&b, "%s:%s:%s:%s", au->au_scheme, realm, c->g->user,
			   c->g->password) == PG_OK;
	if (ok)
		nua_authenticate(c->nh, NUTAG_AUTH(b.data), TAG_END());
	if (b.data)
		explicit_bzero(b.data, b.len);
	pg_buf_free(&b);
	return ok;
}

static bool
parse_sdp(const sip_t *sip, struct pg_sdp *s)
{
	if (!sip || !sip->sip_payload || !sip->sip_payload->pl_data)
		return false;
	return pg_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, s) == PG_OK;
}

static void
hang_up(struct pg_sip_call *c)
{
	nua_bye(c->nh, TAG_END());
	c->st = C_BYE;
	c->t_bye = pg_mono_ms();
}

static void
on_answer(struct pg_sip_call *c, const sip_t *sip)
{
	struct pg_sdp s;
	int i;

	c->st = C_UP;
	c->res.answered = true;
	c->t_answer = pg_mono_ms();
	if (parse_sdp(sip, &s) && (i = pg_sdp_find(&s, c->offered)) >= 0) {
		if (!sip__media_start(c, &s.m[i])) {
			set_end(c, PG_SIP_END_CALL, PG_OUT_TEMP, "cannot start the media");
			hang_up(c);
			return;
		}
	} else if (!c->media_on) {
		set_end(c, PG_SIP_END_CALL, PG_OUT_PERM, "the far end answered without usable media");
		hang_up(c);
		return;
	}
	if (c->s->answered)
		c->s->answered(c->s->arg);
}

static void
on_invite_response(struct pg_sip_call *c, int status, const char *phrase, const sip_t *sip)
{
	struct pg_sdp s;
	const char *why;
	int i;

	if (status < 200) {
		/* early media: a provisional answer with SDP starts it */
		if (status > 100 && parse_sdp(sip, &s) &&
		    (i = pg_sdp_find(&s, c->offered)) >= 0)
			(void)sip__media_start(c, &s.m[i]);
		return;
	}
	if (status < 300) {
		if (c->st == C_INVITING) {   /* else a response to our re-INVITE */
			c->res.status = status;
			on_answer(c, sip);
		}
		return;
	}
	if ((status == 401 || status == 407) && authenticate(c, sip, status)) {
		c->challenged = status;
		return;
	}
	if (status == 904 && c->challenged) {
		/* sofia-sip's own "no matching challenge": the credentials were
		 * refused again */
		status = c->challenged;
		phrase = status == 401 ? "Unauthorized" : "Proxy Authentication Required";
	}
	if ((status == 488 || status == 415 || status == 606) && c->offered == PG_SDP_T38 &&
	    c->s->fallback_audio) {
		pg_debug("sip %s: %d to T.38, offering G.711", c->g->name, status);
		c->media_on = false;
		invite(c, PG_SDP_AUDIO);
		return;
	}
	enum pg_outcome o = pg_sip_outcome(status, &why);
	char text[64];
	size_t k;
	/* the far end's reason phrase is hostile text: printable ASCII only */
	for (k = 0; phrase && phrase[k] && k + 1 < sizeof text; k++)
		text[k] = phrase[k] >= 0x20 && phrase[k] < 0x7f ? phrase[k] : '?';
	text[k] = '\0';
	if (c->st == C_INVITING)
		c->res.status = status;
	/* else the watchdog or ring timer decided (set_end keeps the first) */
	set_end(c, PG_SIP_END_CALL, o, "%s (SIP %d %s)", why, status, text);
	c->st = C_DONE;
}

/* A re-INVITE from the far end: T.38 wanted (and taken) -> switch; our
 * own audio again (a refresh) -> same answer; anything else -> 488. */
static void
on_reinvite(struct pg_sip_call *c, nua_handle_t *nh, const sip_t *sip)
{
	struct pg_sdp s;
	char sdp[SDP_MAX];
	int i = -1;

	if (c->st == C_UP && parse_sdp(sip, &s)) {
		if (c->s->t38_reinvite)
			i = pg_sdp_find(&s, PG_SDP_T38);
		if (i < 0 && c->media == PG_SDP_AUDIO)
			i = pg_sdp_find(&s, PG_SDP_AUDIO);
	}
	if (i < 0 || !sip__media_start(c, &s.m[i])) {
		nua_respond(nh, SIP_488_NOT_ACCEPTABLE, TAG_END());
		return;
	}
	pg_sdp_answer(sdp, sizeof sdp, &s, i, c->lip, c->lport, c->s->events, ++c->sdp_version);
	nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
}

static void
on_event(nua_event_t ev, int status, const char *phrase, nua_t *nua,
	 nua_magic_t *magic, nua_handle_t *nh, nua_hmagic_t *hmagic,
	 const sip_t *sip, tagi_t tags[])
{
	struct pg_sip_call *c = (struct pg_sip_call *)magic;

	(void)nua;
	(void)hmagic;
	(void)tags;
	switch (ev) {
	case nua_r_invite:
		on_invite_response(c, status, phrase, sip);
		break;
	case nua_i_invite:
		if (nh == c->nh) {
			on_reinvite(c, nh, sip);
		} else {                          /* nobody calls a caller */
			nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
			nua_handle_destroy(nh);
		}
		break;
	case nua_i_bye:
		set_end(c, PG_SIP_END_FAR, PG_OUT_TEMP, "far end hung up");
		c->st = C_DONE;
		break;
	case nua_r_bye:
		if (status >= 200)
			c->st = C_DONE;
		break;
	case nua_r_shutdown:
		if (status >= 200)
			c->shutdown_done = true;
		break;
	case nua_i_terminated:
		if (c->st != C_INVITING)
			c->st = C_DONE;
		break;
	default:
		break;
	}
}

/* ---- setting up ---- */

/* sofia-sip's log lines (transport errors and the like) as debug lines. */
static void
on_su_log(void *stream, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)stream;
	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n > 0)
		pg_debug("sofia-sip: %s", line);
}

void
pg_sip_init(void)
{
	su_init();
	su_log_redirect(su_log_default, on_su_log, NULL);
}

void
pg_sip_deinit(void)
{
	su_deinit();
}

/* The local address that routes to host:port (and a check that the
 * proxy's name resolves). */
static bool
route_ip(const char *host, const char *port, char *ip, size_t n, char *why, size_t wn)
{
	struct addrinfo hints, *ai;
	struct sockaddr_in me;
	socklen_t ml = sizeof me;
	int fd, err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	if ((err = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(why, wn, "cannot resolve %s: %s", host, gai_strerror(err));
		return false;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		  getsockname(fd, (struct sockaddr *)&me, &ml) == 0 &&
		  inet_ntop(AF_INET, &me.sin_addr, ip, (socklen_t)n) != NULL;
	if (!ok)
		snprintf(why, wn, "no route to %s: %s", host, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ok;
}

bool
sip__media_socket(struct pg_sip_call *c, char *why, size_t wn)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	if (inet_pton(AF_INET, c->lip, &a.sin_addr) != 1 ||
	    (c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(c->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(c->fd, (struct sockaddr *)&a, &al) != 0) {
		snprintf(why, wn, "media socket on %s: %s", c->lip, strerror(errno));
		return false;
	}
	c->lport = ntohs(a.sin_port);
	return true;
}

/* Runs the call until it is over. */
static void
run(struct pg_sip_call *c, int ring_s)
{
	int64_t now, next = pg_mono_ms(), ring_end = c->t_invite + (int64_t)ring_s * 1000;
	int64_t wd_end = c->t_invite + c->watchdog_ms;
	bool cancelled = false, done;

	while (c->st != C_DONE) {
		now = pg_mono_ms();
		if (c->st == C_INVITING && !cancelled && (now >= ring_end || now >= wd_end)) {
			set_end(c, PG_SIP_END_CALL, PG_OUT_TEMP, now >= wd_end ?
				"watchdog: call not set up in %lld s" : "no answer in %lld s",
				(long long)((now - c->t_invite) / 1000));
			nua_cancel(c->nh, TAG_END());
			cancelled = true;
			c->t_bye = now;
		}
		if (cancelled && now - c->t_bye > BYE_WAIT_MS)
			break;
		done = c->media_on && c->s->done(c->s->arg);
		if (c->st == C_UP && (now >= wd_end || done)) {
			if (done)
				set_end(c, PG_SIP_END_SESSION, PG_OUT_OK, "done");
			else
				set_end(c, PG_SIP_END_CALL, PG_OUT_TEMP,
					"watchdog: no end of call after %lld s",
					(long long)(c->watchdog_ms / 1000));
			hang_up(c);
		}
		if (c->st == C_BYE && now - c->t_bye > BYE_WAIT_MS)
			break;
		if (now >= next) {
			int k = 0;
			while (now >= next && k++ < MAX_CATCHUP) {
				sip__media_read(c);
				sip__media_tick(c);
				next += TICK_MS;
			}
			if (now >= next)
				next = now + TICK_MS;    /* far behind: skip ahead */
		}
		su_root_step(c->root, (su_duration_t)(next - now > 0 ? next - now : 0));
		sip__media_read(c);
	}
}

void
pg_sip_call_run(const struct pg_sip_gw *g, const char *number,
		const struct pg_sip_session *s, int64_t watchdog_ms,
		struct pg_sip_result *r)
{
	struct pg_sip_call *c = calloc(1, sizeof *c);
	su_home_t home[1] = { SU_HOME_INIT(home) };
	url_t *proxy = NULL;
	char why[256] = "", bind_url[128], ruri[512];
	const char *port;
	int64_t t0, end;

	memset(r, 0, sizeof *r);
	r->outcome = PG_OUT_TEMP;
	r->end = PG_SIP_END_CALL;
	if (!c) {
		snprintf(r->text, sizeof r->text, "out of memory");
		return;
	}
	c->g = g;
	c->s = s;
	c->watchdog_ms = g->watchdog_s > 0 ? (int64_t)g->watchdog_s * 1000 : DEFAULT_WATCHDOG;
	if (watchdog_ms > 0 && watchdog_ms < c->watchdog_ms)
		c->watchdog_ms = watchdog_ms;
	c->fd = -1;
	c->ev_pt = -1;
	c->res.outcome = PG_OUT_TEMP;
	proxy = url_make(home, g->proxy);
	if (!proxy || proxy->url_type != url_sip || !proxy->url_host) {
		c->res.outcome = PG_OUT_PERM;
		snprintf(why, sizeof why, "bad proxy URI %.100s", g->proxy);
		goto fail;
	}
	port = proxy->url_port ? proxy->url_port : "5060";
	if (g->local_ip)
		pg_strlcpy(c->lip, g->local_ip, sizeof c->lip);
	else if (!route_ip(proxy->url_host, port, c->lip, sizeof c->lip, why, sizeof why))
		goto fail;
	if (!sip__media_socket(c, why, sizeof why))
		goto fail;
	if (!(c->root = su_root_create(NULL))) {
		snprintf(why, sizeof why, "cannot create the SIP event loop");
		goto fail;
	}
	su_root_threading(c->root, 0);
	snprintf(bind_url, sizeof bind_url, "sip:%s:*;transport=udp", c->lip);
	c->nua = nua_create(c->root, on_event, (nua_magic_t *)c,
			    NUTAG_URL(bind_url),
			    NUTAG_MEDIA_ENABLE(0),
			    NUTAG_AUTOANSWER(0),
			    NUTAG_AUTOACK(1),
			    NUTAG_SESSION_TIMER(0),
			    NUTAG_ENABLEMESSAGE(0),
			    SIPTAG_USER_AGENT_STR("pagegate"),
			    SIPTAG_FROM_STR(g->from),
			    TAG_END());
	if (!c->nua) {
		snprintf(why, sizeof why, "cannot start SIP on %s", bind_url);
		goto fail;
	}
	snprintf(ruri, sizeof ruri, "sip:%s@%s%s%s", number, proxy->url_host,
		 proxy->url_port ? ":" : "", proxy->url_port ? proxy->url_port : "");
	c->nh = nua_handle(c->nua, NULL, NUTAG_URL(ruri), SIPTAG_TO_STR(ruri), TAG_END());
	if (!c->nh) {
		snprintf(why, sizeof why, "cannot create the call");
		goto fail;
	}
	c->t_invite = pg_mono_ms();
	invite(c, s->offer);
	run(c, g->ring_s > 0 ? g->ring_s : DEFAULT_RING_S);
	end = pg_mono_ms();
	c->res.setup_ms = (c->res.answered ? c->t_answer : end) - c->t_invite;
	c->res.talk_ms = c->res.answered ? end - c->t_answer : 0;
	*r = c->res;
	goto out;
fail:
	r->outcome = c->res.outcome;
	pg_strlcpy(r->text, why, sizeof r->text);
	pg_warn("sip %s: %s", g->name, why);
out:
	if (c->nh)
		nua_handle_destroy(c->nh);
	if (c->nua) {
		nua_shutdown(c->nua);
		t0 = pg_mono_ms();
		while (!c->shutdown_done && pg_mono_ms() - t0 < SHUTDOWN_WAIT_MS)
			su_root_step(c->root, 50);
		nua_destroy(c->nua);
	}
	if (c->root)
		su_root_destroy(c->root);
	if (c->fd >= 0)
		close(c->fd);
	su_home_deinit(home);
	free(c);
}
