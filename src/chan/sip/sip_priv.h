/*
 * sip_priv.h - what the two sides of a call share inside src/chan/sip/:
 * the call's state and its media pump (sip_call.c), used by the calls we
 * place (sip_call.c) and the calls we answer (sip_answer.c).
 */
#ifndef PAGEGATE_SIP_PRIV_H
#define PAGEGATE_SIP_PRIV_H

#include <netinet/in.h>

#include <sofia-sip/su_wait.h>
#include <sofia-sip/nua.h>

#include "../sip.h"

#define TICK_MS          20
#define RX_FIFO          (PG_SIP_RATE)      /* 1 s of received audio */
#define RX_PREFILL       (3 * PG_RTP_SAMPLES) /* jitter buffer: 60 ms */
#define SDP_MAX          2048
#define MAX_CATCHUP      10                 /* media periods made up at once */

enum call_state { C_INVITING, C_UP, C_BYE, C_DONE };

struct pg_sip_call {
	const struct pg_sip_gw *g;
	const struct pg_sip_session *s;
	int64_t watchdog_ms;
	su_root_t *root;
	nua_t *nua;
	nua_handle_t *nh;
	enum call_state st;
	bool shutdown_done;
	int auth_tries;
	int challenged;              /* last 401/407 answered with credentials */
	enum pg_sdp_kind offered;
	unsigned sdp_version;
	char lip[64];
	int fd, lport;
	/* media */
	bool media_on;
	struct sockaddr_in peer;
	enum pg_sdp_kind media;
	int ev_pt;                   /* the far end's telephone-events, -1 none */
	uint32_t last_ev_ts;         /* the last event reported */
	bool any_ev;
	struct pg_rtp_tx rtp;
	struct pg_udptl_tx utx;
	struct pg_udptl_rx urx;
	int16_t fifo[RX_FIFO];
	int fifo_head, fifo_len;
	bool playing;                /* the jitter buffer has filled */
	/* outcome */
	struct pg_sip_result res;
	int64_t t_invite, t_answer, t_bye;
};

/* Sends one datagram to the far end's media address. */
void sip__send_dgram(struct pg_sip_call *c, const uint8_t *b, size_t n);
/* Starts (or switches) the media to m, with a fresh session for it. */
bool sip__media_start(struct pg_sip_call *c, const struct pg_sdp_m *m);
/* Reads every datagram waiting on the media socket. */
void sip__media_read(struct pg_sip_call *c);
/* One 20 ms media period. */
void sip__media_tick(struct pg_sip_call *c);
/* Binds the media socket on c->lip (an ephemeral port: c->lport). */
bool sip__media_socket(struct pg_sip_call *c, char *why, size_t wn);

#endif
