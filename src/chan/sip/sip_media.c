/*
 * sip_media.c - what a call puts on the wire besides SIP (sip.h): RTP
 * packets of G.711 audio (RFC 3550, RFC 3551 payload types 0 and 8) and
 * of RFC 4733 telephone-events (keys), UDPTL datagrams carrying T.38 IFP
 * packets with redundancy (the ASN.1 PER framing of T.38 annex), and the
 * SDP offers and answers that set them up (parsed with sofia-sip's SDP
 * parser, written as plain text).
 *
 * Every datagram comes from the network and is hostile: lengths are
 * checked against what was received before anything is read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/sdp.h>
#include <spandsp.h>

#include "../sip.h"
#include "pagegate/util.h"

#define RTP_VERSION     2
#define SDP_TEXT_MAX    8192

/* ---- RTP ---- */

void
pg_rtp_tx_init(struct pg_rtp_tx *r, int pt)
{
	uint32_t v = pg_random_u32();

	r->pt = pt;
	r->seq = (uint16_t)v;
	r->ts = pg_random_u32();
	r->ssrc = pg_random_u32();
}

size_t
pg_rtp_build(struct pg_rtp_tx *r, const int16_t *s, int n, uint8_t *out)
{
	if (n > PG_RTP_SAMPLES)
		n = PG_RTP_SAMPLES;
	out[0] = RTP_VERSION << 6;
	out[1] = (uint8_t)(r->pt & 0x7f);
	out[2] = (uint8_t)(r->seq >> 8);
	out[3] = (uint8_t)r->seq;
	out[4] = (uint8_t)(r->ts >> 24);
	out[5] = (uint8_t)(r->ts >> 16);
	out[6] = (uint8_t)(r->ts >> 8);
	out[7] = (uint8_t)r->ts;
	out[8] = (uint8_t)(r->ssrc >> 24);
	out[9] = (uint8_t)(r->ssrc >> 16);
	out[10] = (uint8_t)(r->ssrc >> 8);
	out[11] = (uint8_t)r->ssrc;
	for (int i = 0; i < n; i++)
		out[PG_RTP_HDR + i] = r->pt == PG_RTP_PCMA ? linear_to_alaw(s[i]) :
			linear_to_ulaw(s[i]);
	r->seq++;
	r->ts += (uint32_t)n;
	return PG_RTP_HDR + (size_t)n;
}

int
pg_rtp_parse(const uint8_t *pkt, size_t len, int pt, int16_t *out, int max)
{
	size_t off = PG_RTP_HDR, end = len;

	if (len < PG_RTP_HDR || (pkt[0] >> 6) != RTP_VERSION || (pkt[1] & 0x7f) != pt)
		return -1;
	off += (size_t)(pkt[0] & 0x0f) * 4;          /* CSRC list */
	if (pkt[0] & 0x10) {                         /* header extension */
		if (off + 4 > len)
			return -1;
		off += 4 + (size_t)((pkt[off + 2] << 8) | pkt[off + 3]) * 4;
	}
	if (pkt[0] & 0x20) {                         /* padding */
		if (len == 0 || pkt[len - 1] == 0 || pkt[len - 1] > len)
			return -1;
		end = len - pkt[len - 1];
	}
	if (off > end || end - off > (size_t)max)
		return -1;
	for (size_t i = off; i < end; i++)
		*out++ = pt == PG_RTP_PCMA ? alaw_to_linear(pkt[i]) : ulaw_to_linear(pkt[i]);
	return (int)(end - off);
}

int
pg_rtp_pt(const uint8_t *pkt, size_t len)
{
	if (len < PG_RTP_HDR || (pkt[0] >> 6) != RTP_VERSION)
		return -1;
	return pkt[1] & 0x7f;
}

/* ---- RFC 4733 telephone-events ---- */

static const char EVENT_KEYS[] = "0123456789*#ABCD";
#define EVENT_VOLUME    10           /* -10 dBm0, as phones send */

size_t
pg_rtp_event_build(struct pg_rtp_tx *r, int pt, const struct pg_rtp_event *ev,
		   uint8_t *out)
{
	const char *k = ev->key ? strchr(EVENT_KEYS, ev->key) : NULL;

	if (!k)
		return 0;
	out[0] = RTP_VERSION << 6;
	out[1] = (uint8_t)((pt & 0x7f) | (ev->duration <= PG_RTP_SAMPLES && !ev->end ?
					   0x80 : 0));
	out[2] = (uint8_t)(r->seq >> 8);
	out[3] = (uint8_t)r->seq;
	out[4] = (uint8_t)(ev->ts >> 24);
	out[5] = (uint8_t)(ev->ts >> 16);
	out[6] = (uint8_t)(ev->ts >> 8);
	out[7] = (uint8_t)ev->ts;
	out[8] = (uint8_t)(r->ssrc >> 24);
	out[9] = (uint8_t)(r->ssrc >> 16);
	out[10] = (uint8_t)(r->ssrc >> 8);
	out[11] = (uint8_t)r->ssrc;
	out[12] = (uint8_t)(k - EVENT_KEYS);
	out[13] = (uint8_t)((ev->end ? 0x80 : 0) | EVENT_VOLUME);
	out[14] = (uint8_t)(ev->duration >> 8);
	out[15] = (uint8_t)ev->duration;
	r->seq++;
	return PG_RTP_HDR + 4;
}

int
pg_rtp_event_parse(const uint8_t *pkt, size_t len, int pt, struct pg_rtp_event *ev)
{
	size_t off = PG_RTP_HDR;

	if (pg_rtp_pt(pkt, len) != pt || (pkt[0] & 0x30))
		return -1;                           /* no extensions, no padding here */
	off += (size_t)(pkt[0] & 0x0f) * 4;
	if (off + 4 > len || pkt[off] >= sizeof EVENT_KEYS - 1)
		return -1;
	ev->key = EVENT_KEYS[pkt[off]];
	ev->end = (pkt[off + 1] & 0x80) != 0;
	ev->duration = (uint16_t)((pkt[off + 2] << 8) | pkt[off + 3]);
	ev->ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
	return 0;
}

/* ---- UDPTL ---- */

/* ASN.1 PER length determinant (lengths below 16384). */
static int
put_len(uint8_t *out, int max, int *pos, int v)
{
	if (v < 0x80) {
		if (*pos + 1 > max)
			return -1;
		out[(*pos)++] = (uint8_t)v;
	} else if (v < 0x4000) {
		if (*pos + 2 > max)
			return -1;
		out[(*pos)++] = (uint8_t)(0x80 | (v >> 8));
		out[(*pos)++] = (uint8_t)v;
	} else {
		return -1;
	}
	return 0;
}

static int
put_open(uint8_t *out, int max, int *pos, const uint8_t *b, int len)
{
	if (put_len(out, max, pos, len) != 0 || *pos + len > max)
		return -1;
	memcpy(out + *pos, b, (size_t)len);
	*pos += len;
	return 0;
}

/* The datagram with the n newest earlier packets as redundancy; -1 when
 * it does not fit in max. */
static int
udptl_frame(const struct pg_udptl_tx *u, const uint8_t *ifp, int len, int n,
	    uint8_t *out, int max)
{
	int pos = 0;

	out[pos++] = (uint8_t)(u->seq >> 8);
	out[pos++] = (uint8_t)u->seq;
	if (put_open(out, max, &pos, ifp, len) != 0 || pos + 1 > max)
		return -1;
	out[pos++] = 0x00;                           /* secondary-ifp-packets */
	if (put_len(out, max, &pos, n) != 0)
		return -1;
	for (int i = 0; i < n; i++)                  /* newest first */
		if (put_open(out, max, &pos, u->hist[i], u->hist_len[i]) != 0)
			return -1;
	return pos;
}

int
pg_udptl_build(struct pg_udptl_tx *u, const uint8_t *ifp, int len, uint8_t *out, int max)
{
	int pos = -1, i;

	if (len <= 0 || len > PG_IFP_MAX || max < 4)
		return -1;
	/* as much redundancy as fits: large (ECM) packets carry less */
	for (i = u->n_hist; i >= 0 && pos < 0; i--)
		pos = udptl_frame(u, ifp, len, i, out, max);
	if (pos < 0)
		return -1;
	/* remember this one for the next datagrams */
	for (i = PG_UDPTL_REDUNDANCY - 1; i > 0; i--) {
		memcpy(u->hist[i], u->hist[i - 1], (size_t)u->hist_len[i - 1]);
		u->hist_len[i] = u->hist_len[i - 1];
	}
	memcpy(u->hist[0], ifp, (size_t)len);
	u->hist_len[0] = len;
	if (u->n_hist < PG_UDPTL_REDUNDANCY)
		u->n_hist++;
	u->seq++;
	return pos;
}

static int
get_len(const uint8_t *b, size_t len, size_t *pos, int *v)
{
	if (*pos >= len)
		return -1;
	if (!(b[*pos] & 0x80)) {
		*v = b[(*pos)++];
		return 0;
	}
	if (b[*pos] & 0x40)
		return -1;                           /* fragmented: never this large */
	if (*pos + 2 > len)
		return -1;
	*v = ((b[*pos] & 0x3f) << 8) | b[*pos + 1];
	*pos += 2;
	return 0;
}

static int
get_open(const uint8_t *b, size_t len, size_t *pos, const uint8_t **p, int *n)
{
	if (get_len(b, len, pos, n) != 0 || *n > PG_IFP_MAX || *pos + (size_t)*n > len)
		return -1;
	*p = b + *pos;
	*pos += (size_t)*n;
	return 0;
}

int
pg_udptl_parse(struct pg_udptl_rx *u, const uint8_t *pkt, size_t len,
	       pg_udptl_deliver deliver, void *arg)
{
	const uint8_t *prim, *sec[PG_UDPTL_REDUNDANCY + 13];
	int prim_len, sec_len[PG_UDPTL_REDUNDANCY + 13], count = 0, i;
	size_t pos = 2;
	uint16_t seq;

	if (len < 4)
		return -1;
	seq = (uint16_t)((pkt[0] << 8) | pkt[1]);
	if (get_open(pkt, len, &pos, &prim, &prim_len) != 0 || prim_len == 0 || pos >= len)
		return -1;
	if (!(pkt[pos] & 0x80)) {                    /* redundancy */
		pos++;
		if (get_len(pkt, len, &pos, &count) != 0 ||
		    count > (int)(sizeof sec / sizeof sec[0]))
			return -1;
		for (i = 0; i < count; i++)
			if (get_open(pkt, len, &pos, &sec[i], &sec_len[i]) != 0)
				return -1;
	}                                            /* FEC: primary only */
	if (!u->started) {
		u->started = true;
		u->expect = seq;
	}
	int16_t ahead = (int16_t)(uint16_t)(seq - u->expect);
	if (ahead < 0)
		return 0;                            /* old or repeated */
	for (i = count - 1; i >= 0; i--) {           /* oldest first */
		uint16_t s = (uint16_t)(seq - i - 1);
		if ((int16_t)(uint16_t)(s - u->expect) >= 0 && sec_len[i] > 0)
			deliver(arg, sec[i], sec_len[i], s);
	}
	deliver(arg, prim, prim_len, seq);
	u->expect = (uint16_t)(seq + 1);
	return 0;
}

/* ---- SDP ---- */

static const char T38_ATTRS[] =
	"a=T38FaxVersion:0\r\n"
	"a=T38MaxBitRate:14400\r\n"
	"a=T38FaxRateManagement:transferredTCF\r\n"
	"a=T38FaxMaxBuffer:2000\r\n"
	"a=T38FaxMaxDatagram:400\r\n"
	"a=T38FaxUdpEC:t38UDPRedundancy\r\n";

static const char *
ipv4_of(const sdp_connection_t *c)
{
	struct in_addr a;

	if (!c || c->c_nettype != sdp_net_in || c->c_addrtype != sdp_addr_ip4 ||
	    !c->c_address || inet_pton(AF_INET, c->c_address, &a) != 1)
		return NULL;
	return c->c_address;
}

pg_err
pg_sdp_parse(const char *body, size_t len, struct pg_sdp *out)
{
	su_home_t *home;
	sdp_parser_t *p;
	sdp_session_t *s;
	pg_err e = PG_OK;

	memset(out, 0, sizeof *out);
	if (!body || len == 0 || len > SDP_TEXT_MAX)
		return PG_ERR_INVAL;
	if (!(home = su_home_new(sizeof *home)))
		return PG_ERR_NOMEM;
	p = sdp_parse(home, body, (issize_t)len, 0);
	if (!p || !(s = sdp_session(p))) {
		e = PG_ERR_INVAL;
		goto out;
	}
	for (sdp_media_t *m = s->sdp_media; m && out->n < PG_SDP_MAX_MEDIA; m = m->m_next) {
		struct pg_sdp_m *o = &out->m[out->n++];
		const char *ip = ipv4_of(m->m_connections ? m->m_connections : s->sdp_connection);
		o->port = m->m_rejected || m->m_port > 65535 ? 0 : (int)m->m_port;
		o->pt = o->ev_pt = -1;
		pg_strlcpy(o->addr, ip ? ip : "", sizeof o->addr);
		char fmt[16];
		if (m->m_rtpmaps)               /* RTP formats come as maps */
			snprintf(fmt, sizeof fmt, "%u", (unsigned)m->m_rtpmaps->rm_pt);
		else
			pg_strlcpy(fmt, m->m_format && m->m_format->l_text ?
				   m->m_format->l_text : "0", sizeof fmt);
		snprintf(o->line, sizeof o->line, "%.15s 0 %.15s %s",
			 m->m_type_name ? m->m_type_name : "audio",
			 m->m_proto_name ? m->m_proto_name : "RTP/AVP", fmt);
		if (m->m_type == sdp_media_image && m->m_proto == sdp_proto_udptl) {
			for (sdp_list_t *f = m->m_format; f; f = f->l_next)
				if (f->l_text && strcasecmp(f->l_text, "t38") == 0)
					o->kind = PG_SDP_T38;
		} else if (m->m_type == sdp_media_audio && m->m_proto == sdp_proto_rtp) {
			o->kind = PG_SDP_AUDIO;
			for (sdp_rtpmap_t *r = m->m_rtpmaps; r && o->pt < 0; r = r->rm_next)
				if ((r->rm_pt == PG_RTP_PCMU || r->rm_pt == PG_RTP_PCMA) &&
				    r->rm_rate == PG_SIP_RATE)
					o->pt = (int)r->rm_pt;
			for (sdp_rtpmap_t *r = m->m_rtpmaps; r && o->ev_pt < 0; r = r->rm_next)
				if (r->rm_encoding && strcasecmp(r->rm_encoding, "telephone-event") == 0 &&
				    r->rm_rate == PG_SIP_RATE)
					o->ev_pt = (int)r->rm_pt;
		}
		if (!ip)
			o->port = 0;                 /* nowhere to send it */
	}
out:
	if (p)
		sdp_parser_free(p);
	su_home_unref(home);
	return e;
}

int
pg_sdp_find(const struct pg_sdp *s, enum pg_sdp_kind kind)
{
	for (int i = 0; i < s->n; i++) {
		const struct pg_sdp_m *m = &s->m[i];
		if (m->kind == kind && m->port > 0 && (kind != PG_SDP_AUDIO || m->pt >= 0))
			return i;
	}
	return -1;
}

static void
sdp_head(struct pg_buf *b, const char *ip, unsigned version)
{
	(void)pg_buf_printf(b, "v=0\r\no=pagegate 1 %u IN IP4 %s\r\ns=pagegate\r\n"
			    "c=IN IP4 %s\r\nt=0 0\r\n", version, ip, ip);
}

static void
sdp_stream(struct pg_buf *b, enum pg_sdp_kind kind, int port, int pt, int ev_pt)
{
	char ev[16] = "";

	if (ev_pt >= 0)
		snprintf(ev, sizeof ev, " %d", ev_pt);
	if (kind == PG_SDP_T38) {
		(void)pg_buf_printf(b, "m=image %d udptl t38\r\n%s", port, T38_ATTRS);
		return;
	}
	if (pt < 0)
		(void)pg_buf_printf(b, "m=audio %d RTP/AVP 0 8%s\r\na=rtpmap:0 PCMU/8000\r\n"
				    "a=rtpmap:8 PCMA/8000\r\n", port, ev);
	else
		(void)pg_buf_printf(b, "m=audio %d RTP/AVP %d%s\r\na=rtpmap:%d %s/8000\r\n",
				    port, pt, ev, pt, pt == PG_RTP_PCMA ? "PCMA" : "PCMU");
	if (ev_pt >= 0)
		(void)pg_buf_printf(b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n",
				    ev_pt, ev_pt);
	(void)pg_buf_printf(b, "a=ptime:20\r\na=sendrecv\r\n");
}

void
pg_sdp_offer(char *buf, size_t n, const char *ip, int port, enum pg_sdp_kind kind,
	     bool events, unsigned version)
{
	struct pg_buf b;

	pg_buf_init(&b, n - 1);
	sdp_head(&b, ip, version);
	sdp_stream(&b, kind, port, -1, events ? PG_RTP_EVENTS : -1);
	pg_strlcpy(buf, b.data ? b.data : "", n);
	pg_buf_free(&b);
}

void
pg_sdp_answer(char *buf, size_t n, const struct pg_sdp *offer, int chosen,
	      const char *ip, int port, bool events, unsigned version)
{
	struct pg_buf b;

	pg_buf_init(&b, n - 1);
	sdp_head(&b, ip, version);
	for (int i = 0; i < offer->n; i++) {
		if (i == chosen)
			sdp_stream(&b, offer->m[i].kind, port,
				   offer->m[i].kind == PG_SDP_AUDIO ? offer->m[i].pt : -1,
				   events && offer->m[i].kind == PG_SDP_AUDIO ? offer->m[i].ev_pt : -1);
		else
			(void)pg_buf_printf(&b, "m=%s\r\n", offer->m[i].line);
	}
	pg_strlcpy(buf, b.data ? b.data : "", n);
	pg_buf_free(&b);
}
