/*
 * sip.h - the SIP gateways that calling channels share, and one call
 * over them: the top-level "sip" list of pagegate.conf (sip/sip_config.c),
 * a call placed with sofia-sip's NUA with its RTP or UDPTL media pumped
 * every 20 ms (sip/sip_call.c), and what goes on the wire besides SIP
 * (sip/sip_media.c: RTP with G.711, RFC 4733 telephone-events, UDPTL,
 * SDP).  Private to the channels that place calls: included by the files
 * of src/chan/sip/, src/chan/fax/ and src/chan/voice/ (through fax.h
 * and voice.h), and by their tests and test peers.  A channel brings what
 * its media carries (T.30 for the fax, speech and keys for the voice) as
 * a struct pg_sip_session of callbacks; everything about SIP is here.
 *
 *   sip = (
 *     { name = "trunk"; proxy = "sip:192.0.2.10:5060"; from = "sip:pagegate@example.com";
 *       user = "pagegate"; password = "..."; local_ip = "192.0.2.5";
 *       ring = "60s"; watchdog = "5m";
 *       t38 = true; ident = "+1 555 555 0000"; }      # fax over this trunk
 *   );
 * A fax or voice device names its trunk (gateway = "trunk"); without one
 * the first takes it.
 */
#ifndef PAGEGATE_CHAN_SIP_H
#define PAGEGATE_CHAN_SIP_H

#include <stdint.h>

#include <libconfig.h>

#include "pagegate/common.h"
#include "pagegate/config_keys.h"

#define PG_SIP_RATE        8000       /* audio samples per second */
#define PG_SIP_IDENT_MAX   20         /* T.30 station identifier */

/* ---- the gateways (sip_config.c) ---- */

/* A SIP trunk, ATA or PBX that takes our calls. */
struct pg_sip_gw {
	char *name;                  /* for devices and logs */
	char *proxy;                 /* "sip:host[:port]": where INVITEs go */
	char *user, *password;       /* digest credentials; NULL = none */
	char *from;                  /* "sip:pagegate@example.com" */
	char *local_ip;              /* SIP and media address; NULL = the one
					that routes to the proxy */
	char *ident;                 /* fax: our T.30 station id, may be NULL */
	bool t38;                    /* fax: offer T.38 first, G.711 after 488 */
	int watchdog_s;              /* the whole call, from INVITE to BYE */
	int ring_s;                  /* CANCEL when not answered within */
	int line;
};

struct pg_sip_cfg {
	struct pg_sip_gw *gw;
	size_t n;
};

/* The top-level setting, { "sip", PG_KT_LIST }, for the one driver table
 * that declares it (the fax's: its diagnostics come once). */
#define PG_SIP_SECTION "sip"
/* One gateway's keys: the table for channel.h's config_tables. */
extern const struct pg_keytab pg_sip_gateway_tab;

/* Parses the "sip" list of root into *out (an empty list when absent).
 * report: diagnostics into cx, and PG_ERR_CONFIG after any; otherwise
 * (the second reader of the same list) silent, and a list with errors
 * reads as what could be read.  PG_ERR_NOMEM. */
pg_err pg_sip_config_parse(struct pg_conf *cx, const config_setting_t *root,
			   bool report, struct pg_sip_cfg **out);
void pg_sip_config_free(struct pg_sip_cfg *c);
/* Parses one gateway group g (of a list called what, for diagnostics)
 * into gw, with the checks a table cannot say (URIs, addresses, pairs);
 * sets gw->line.  The fax list's older "kind = sip" entries use it. */
void pg_sip_gateway_parse(struct pg_conf *cx, const config_setting_t *g,
			  struct pg_sip_gw *gw);
/* Frees what pg_sip_gateway_parse stored (the password wiped). */
void pg_sip_gateway_release(struct pg_sip_gw *gw);
/* The gateway called name, or the first for NULL; NULL when none. */
const struct pg_sip_gw *pg_sip_gateway_find(const struct pg_sip_cfg *c, const char *name);
/* Fills names[0..max) with the gateways' names, NULL-terminated after
 * the last (for "known: ..."); returns how many. */
size_t pg_sip_gateway_names(const struct pg_sip_cfg *c, const char **names, size_t max);
/* True for a number we dial: an optional "+" and 3 to 20 digits. */
bool pg_sip_number_ok(const char *s);

/* ---- media on the wire (sip_media.c) ---- */

/* RTP (RFC 3550) carrying G.711 in 20 ms packets. */
#define PG_RTP_PCMU        0
#define PG_RTP_PCMA        8
#define PG_RTP_EVENTS      101        /* our telephone-event payload type */
#define PG_RTP_SAMPLES     160        /* per packet: 20 ms */
#define PG_RTP_HDR         12
#define PG_MEDIA_MAX       1500       /* largest datagram handled */

struct pg_rtp_tx {
	int pt;                      /* PG_RTP_PCMU or PG_RTP_PCMA */
	uint16_t seq;
	uint32_t ts, ssrc;
};
/* Starts a stream with random sequence, timestamp and SSRC. */
void pg_rtp_tx_init(struct pg_rtp_tx *r, int pt);
/* Builds one packet of n (<= PG_RTP_SAMPLES) samples into out; returns
 * its length. */
size_t pg_rtp_build(struct pg_rtp_tx *r, const int16_t *s, int n, uint8_t *out);
/* Decodes a received packet of payload type pt into at most max samples;
 * returns their number, or -1 for anything else (wrong version or type,
 * padding, truncated, too long). */
int pg_rtp_parse(const uint8_t *pkt, size_t len, int pt, int16_t *out, int max);
/* The payload type of an RTP packet, or -1 when it is not one. */
int pg_rtp_pt(const uint8_t *pkt, size_t len);

/* An RFC 4733 telephone-event: a key held since timestamp ts. */
struct pg_rtp_event {
	char key;                    /* '0'..'9', '*', '#', 'A'..'D' */
	bool end;                    /* the E bit: the key was released */
	uint16_t duration;           /* samples so far */
	uint32_t ts;                 /* the event's start: its identity */
};
/* Builds one telephone-event packet of payload type pt for key ev->key
 * into out (marker on the first packet of an event: duration 0..160);
 * the stream's timestamp is not advanced.  Returns its length, or 0 for
 * a key that is not a DTMF key. */
size_t pg_rtp_event_build(struct pg_rtp_tx *r, int pt, const struct pg_rtp_event *ev,
			  uint8_t *out);
/* Parses a telephone-event packet of payload type pt; 0, or -1 when it is
 * not one (or an event that is not a DTMF key). */
int pg_rtp_event_parse(const uint8_t *pkt, size_t len, int pt, struct pg_rtp_event *ev);

/* UDPTL (T.38 annex; the framing Asterisk, FreeSWITCH and gateways use)
 * with redundancy error recovery: every datagram repeats the previous
 * IFP packets so a lost one is recovered from the next. */
#define PG_UDPTL_REDUNDANCY 3         /* earlier packets repeated */
#define PG_IFP_MAX          400       /* one IFP packet */

struct pg_udptl_tx {
	uint16_t seq;
	uint8_t hist[PG_UDPTL_REDUNDANCY][PG_IFP_MAX];
	int hist_len[PG_UDPTL_REDUNDANCY];
	int n_hist;
};
/* Frames ifp into out (room max); returns the length or -1. */
int pg_udptl_build(struct pg_udptl_tx *u, const uint8_t *ifp, int len,
		   uint8_t *out, int max);

struct pg_udptl_rx {
	bool started;
	uint16_t expect;             /* next sequence number */
};
typedef void (*pg_udptl_deliver)(void *arg, const uint8_t *ifp, int len, uint16_t seq);
/* Parses one datagram and delivers its IFP packets in order: packets
 * lost before it that its redundancy carries, then the primary; old and
 * repeated datagrams deliver nothing.  Returns 0, or -1 when malformed
 * (nothing delivered). */
int pg_udptl_parse(struct pg_udptl_rx *u, const uint8_t *pkt, size_t len,
		   pg_udptl_deliver deliver, void *arg);

/* SDP (parsed with sofia-sip's parser). */
#define PG_SDP_MAX_MEDIA   4
enum pg_sdp_kind { PG_SDP_OTHER = 0, PG_SDP_AUDIO, PG_SDP_T38 };
struct pg_sdp_m {
	enum pg_sdp_kind kind;
	int port;                    /* 0 = rejected */
	char addr[64];               /* IPv4 address of the media */
	int pt;                      /* audio: first of PCMU/PCMA offered, -1 none */
	int ev_pt;                   /* audio: telephone-event/8000, -1 none */
	char line[64];               /* "audio 0 RTP/AVP 0 8": to reject it */
};
struct pg_sdp {
	struct pg_sdp_m m[PG_SDP_MAX_MEDIA];
	int n;
};
/* Parses body.  PG_ERR_INVAL when it is not SDP or names no IPv4
 * address. */
pg_err pg_sdp_parse(const char *body, size_t len, struct pg_sdp *out);
/* The index of the usable stream of the kind wanted (T.38: udptl with a
 * port; audio: RTP/AVP with PCMU or PCMA), or -1. */
int pg_sdp_find(const struct pg_sdp *s, enum pg_sdp_kind kind);
/* Writes an offer (one m= line: T.38, or audio offering PCMU and PCMA,
 * and telephone-events as PG_RTP_EVENTS when events) for media at
 * ip:port into buf; version is the o= line's session version (raise it
 * for each new offer or answer in a dialog). */
void pg_sdp_offer(char *buf, size_t n, const char *ip, int port,
		  enum pg_sdp_kind kind, bool events, unsigned version);
/* Writes the answer to offer accepting stream `chosen` (for audio with
 * the stream's pt, and its telephone-events when events and offered) at
 * ip:port, every other stream rejected (port 0). */
void pg_sdp_answer(char *buf, size_t n, const struct pg_sdp *offer, int chosen,
		   const char *ip, int port, bool events, unsigned version);

/* ---- one call (sip_call.c) ---- */

/* Starts and stops the SIP library for the process (sofia-sip's su_init,
 * its log lines redirected to the debug log).  Each channel that places
 * calls calls them from its start() and stop(). */
void pg_sip_init(void);
void pg_sip_deinit(void);

struct pg_sip_call;

/* What a call carries: the channel's side of the media.  Every callback
 * runs in the calling thread, from inside pg_sip_call_run. */
struct pg_sip_session {
	enum pg_sdp_kind offer;      /* the first INVITE's media */
	bool fallback_audio;         /* after 488/415/606 to T.38, offer G.711 */
	bool t38_reinvite;           /* accept the far end's switch to T.38 */
	bool events;                 /* offer RFC 4733 telephone-events */
	void *arg;
	/* The media of kind started, early (183 with SDP) or at the answer,
	 * or switched; a fresh session for it.  false: it cannot (the call
	 * ends, temporary). */
	bool (*media)(void *arg, struct pg_sip_call *c, enum pg_sdp_kind kind);
	/* Optional: the far end answered (200 to the INVITE). */
	void (*answered)(void *arg);
	/* Audio: one 20 ms period, n received samples (after a 60 ms jitter
	 * buffer; silence while it fills) in, n to send out. */
	void (*audio)(void *arg, const int16_t *rx, int16_t *out, int n);
	/* T.38: a received IFP packet; n samples' worth of time passed.
	 * Needed only when offer is T.38 or t38_reinvite is set. */
	void (*t38_rx)(void *arg, const uint8_t *ifp, int len, uint16_t seq);
	void (*t38_tick)(void *arg, int n);
	/* Optional: a key pressed, as an RFC 4733 telephone-event (once per
	 * event, at its first packet). */
	void (*key)(void *arg, char key);
	/* True when the session has ended: we hang up. */
	bool (*done)(void *arg);
};

/* How a call ended. */
enum pg_sip_end {
	PG_SIP_END_NONE = 0,         /* it went away without a known end */
	PG_SIP_END_SESSION,          /* the session was done; we hung up */
	PG_SIP_END_FAR,              /* the far end hung up (BYE) */
	PG_SIP_END_CALL,             /* the call decided: outcome and text */
};

struct pg_sip_result {
	enum pg_sip_end end;
	enum pg_outcome outcome;     /* PG_SIP_END_CALL: busy, no answer, SIP
					5xx, the watchdog are temporary; refused
					numbers, credentials, media permanent */
	char text[160];              /* PG_SIP_END_CALL: why, with the SIP final
					response: "busy (SIP 486 Busy Here)" */
	int status;                  /* the INVITE's final SIP status; 0 none */
	bool answered;
	int64_t setup_ms;            /* INVITE to answer (or to the end) */
	int64_t talk_ms;             /* answer to hang-up; 0 unanswered */
	char via[64];                /* "SIP T.38", "SIP G.711 PCMU", ... */
};

/* Calls number through g and runs s until the call is over; always fills
 * *r.  Every phase is bounded: ringing (g->ring_s), the whole call
 * (g->watchdog_s, or watchdog_ms when that is shorter and not 0), BYE and
 * shutdown (a few seconds). */
void pg_sip_call_run(const struct pg_sip_gw *g, const char *number,
		     const struct pg_sip_session *s, int64_t watchdog_ms,
		     struct pg_sip_result *r);
/* T.38: sends IFP packet ifp count times (the terminal's repetition). */
void pg_sip_call_t38_send(struct pg_sip_call *c, const uint8_t *ifp, int len, int count);
/* The call time left before its watchdog, ms. */
int64_t pg_sip_call_left_ms(const struct pg_sip_call *c);
/* The outcome and a short reason for a final SIP status of an INVITE. */
enum pg_outcome pg_sip_outcome(int status, const char **why);

/* ---- calls we answer (sip_answer.c) ---- */

/* What answers calls to an address of ours (the voice mailbox). */
struct pg_sip_answerer {
	void *arg;
	/* A call from `from` (the From URI's user part, e.g. "+15555550111",
	 * or ""): the session that runs it (audio; events offered back when
	 * the caller offers them), or NULL to refuse it (480). */
	const struct pg_sip_session *(*incoming)(void *arg, const char *from);
	/* That session's call is over. */
	void (*ended)(void *arg, const struct pg_sip_session *s,
		      const struct pg_sip_result *r);
};
/* Answers G.711 calls on ip:port until *stop, one at a time (a second
 * caller hears 486 Busy Here), each at most watchdog_s.  Blocking: run it
 * on a thread of its own (with its own su_root).  PG_ERR_IO when it
 * cannot listen (logged). */
pg_err pg_sip_serve(const char *ip, int port, int watchdog_s,
		    const struct pg_sip_answerer *a, _Atomic bool *stop);

#endif
