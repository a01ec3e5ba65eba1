/*
 * test_fax_media.c - what a fax call puts on the wire besides SIP: RTP
 * packets of G.711 (round trip, header fields, hostile packets refused),
 * UDPTL framing with redundancy (exact bytes of the T.38 ASN.1 PER
 * encoding, recovery of a lost datagram, duplicates, old packets,
 * sequence wrap, malformed datagrams), SDP offers and answers, and how
 * final SIP statuses count.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <spandsp.h>

#include "../../src/chan/fax/fax.h"

/* ---- RTP ---- */

static void
test_rtp_round_trip(void **state)
{
	(void)state;
	int16_t s[PG_RTP_SAMPLES], back[PG_RTP_SAMPLES + 8];
	uint8_t pkt[PG_RTP_HDR + PG_RTP_SAMPLES];
	struct pg_rtp_tx tx;

	for (int i = 0; i < PG_RTP_SAMPLES; i++)
		s[i] = (int16_t)(12000.0 * sin(i * 2 * M_PI * 1100.0 / 8000.0));
	for (int pt = 0; pt <= 8; pt += 8) {
		pg_rtp_tx_init(&tx, pt);
		uint16_t seq0 = tx.seq;
		uint32_t ts0 = tx.ts;
		for (int k = 0; k < 3; k++) {
			size_t n = pg_rtp_build(&tx, s, PG_RTP_SAMPLES, pkt);
			assert_int_equal(n, 172);
			assert_int_equal(pkt[0], 0x80);
			assert_int_equal(pkt[1], pt);
			assert_int_equal((pkt[2] << 8) | pkt[3], (uint16_t)(seq0 + k));
			assert_int_equal(((uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 |
					  (uint32_t)pkt[6] << 8 | pkt[7]), ts0 + 160u * (uint32_t)k);
			assert_int_equal(pg_rtp_parse(pkt, n, pt, back, PG_RTP_SAMPLES), 160);
			for (int i = 0; i < PG_RTP_SAMPLES; i++)
				assert_int_equal(back[i], pt ? alaw_to_linear(linear_to_alaw(s[i])) :
						 ulaw_to_linear(linear_to_ulaw(s[i])));
		}
		/* the other law's packets are not ours */
		assert_int_equal(pg_rtp_parse(pkt, 172, pt ? 0 : 8, back, PG_RTP_SAMPLES), -1);
	}
}

static void
test_rtp_hostile(void **state)
{
	(void)state;
	uint8_t p[PG_RTP_HDR + 200];
	int16_t out[PG_RTP_SAMPLES];

	memset(p, 0xff, sizeof p);
	p[0] = 0x80;
	p[1] = 0;
	assert_int_equal(pg_rtp_parse(p, 11, 0, out, PG_RTP_SAMPLES), -1);     /* short */
	assert_int_equal(pg_rtp_parse(p, 12 + 161, 0, out, PG_RTP_SAMPLES), -1); /* too long */
	assert_int_equal(pg_rtp_parse(p, 12 + 160, 0, out, PG_RTP_SAMPLES), 160);
	p[0] = 0x40;                                                            /* version 1 */
	assert_int_equal(pg_rtp_parse(p, 20, 0, out, PG_RTP_SAMPLES), -1);
	p[0] = 0x8f;                                       /* 15 CSRCs: 60 bytes, only 8 */
	assert_int_equal(pg_rtp_parse(p, 20, 0, out, PG_RTP_SAMPLES), -1);
	p[0] = 0x90;                                       /* extension running past the end */
	p[12] = 0; p[13] = 0; p[14] = 0x40; p[15] = 0;
	assert_int_equal(pg_rtp_parse(p, 40, 0, out, PG_RTP_SAMPLES), -1);
	p[0] = 0xa0;                                       /* padding larger than the packet */
	p[39] = 200;
	assert_int_equal(pg_rtp_parse(p, 40, 0, out, PG_RTP_SAMPLES), -1);
	p[39] = 8;                                         /* 12 + 20 samples + 8 padding */
	assert_int_equal(pg_rtp_parse(p, 40, 0, out, PG_RTP_SAMPLES), 20);
	p[0] = 0x80;
	p[1] = 0x80 | 0;                                   /* marker bit set: still PCMU */
	assert_int_equal(pg_rtp_parse(p, 40, 0, out, PG_RTP_SAMPLES), 28);
}

/* ---- UDPTL ---- */

static struct got {
	uint8_t b[16][64];
	int len[16];
	uint16_t seq[16];
	int n;
} G;

static void
collect(void *arg, const uint8_t *ifp, int len, uint16_t seq)
{
	(void)arg;
	assert_true(G.n < 16);
	memcpy(G.b[G.n], ifp, (size_t)len);
	G.len[G.n] = len;
	G.seq[G.n++] = seq;
}

static void
test_udptl_bytes(void **state)
{
	(void)state;
	struct pg_udptl_tx tx;
	uint8_t out[64];
	static const uint8_t a[] = { 0x00, 0x01 }, b[] = { 0x02 }, c[] = { 0xc0, 0x01, 0x80 };
	/* seq 0, primary {00 01}, redundancy with no entries */
	static const uint8_t want0[] = { 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00 };
	/* seq 1, primary {02}, redundancy: 1 entry {00 01} */
	static const uint8_t want1[] = { 0x00, 0x01, 0x01, 0x02, 0x00, 0x01, 0x02, 0x00, 0x01 };
	/* seq 2, primary {c0 01 80}, redundancy newest first: {02}, {00 01} */
	static const uint8_t want2[] = { 0x00, 0x02, 0x03, 0xc0, 0x01, 0x80, 0x00, 0x02,
					 0x01, 0x02, 0x02, 0x00, 0x01 };

	memset(&tx, 0, sizeof tx);
	assert_int_equal(pg_udptl_build(&tx, a, 2, out, sizeof out), sizeof want0);
	assert_memory_equal(out, want0, sizeof want0);
	assert_int_equal(pg_udptl_build(&tx, b, 1, out, sizeof out), sizeof want1);
	assert_memory_equal(out, want1, sizeof want1);
	assert_int_equal(pg_udptl_build(&tx, c, 3, out, sizeof out), sizeof want2);
	assert_memory_equal(out, want2, sizeof want2);
	/* a datagram too small for the packet */
	assert_int_equal(pg_udptl_build(&tx, c, 3, out, 5), -1);
	/* room for one earlier packet only: the newest is kept */
	static const uint8_t d[] = { 0x04 };
	static const uint8_t want3[] = { 0x00, 0x03, 0x01, 0x04, 0x00, 0x01, 0x03, 0xc0, 0x01, 0x80 };
	assert_int_equal(pg_udptl_build(&tx, d, 1, out, sizeof want3), sizeof want3);
	assert_memory_equal(out, want3, sizeof want3);
	/* an IFP longer than 127 bytes: two-byte length 0x80 0x96 */
	uint8_t big[150], buf[1500];
	memset(big, 0x55, sizeof big);
	memset(&tx, 0, sizeof tx);
	assert_int_equal(pg_udptl_build(&tx, big, 150, buf, sizeof buf), 2 + 2 + 150 + 2);
	assert_int_equal(buf[2], 0x80);
	assert_int_equal(buf[3], 150);
}

static void
test_udptl_recovery(void **state)
{
	(void)state;
	struct pg_udptl_tx tx;
	struct pg_udptl_rx rx;
	uint8_t d[6][64];
	int dl[6];
	uint8_t ifp[1];

	memset(&tx, 0, sizeof tx);
	tx.seq = 65533;                       /* wraps during the test */
	for (int i = 0; i < 6; i++) {
		ifp[0] = (uint8_t)(0x10 + i);
		dl[i] = pg_udptl_build(&tx, ifp, 1, d[i], sizeof d[i]);
		assert_true(dl[i] > 0);
	}
	memset(&rx, 0, sizeof rx);
	memset(&G, 0, sizeof G);
	assert_int_equal(pg_udptl_parse(&rx, d[0], (size_t)dl[0], collect, NULL), 0);
	/* d[1] and d[2] are lost: d[3] carries both */
	assert_int_equal(pg_udptl_parse(&rx, d[3], (size_t)dl[3], collect, NULL), 0);
	/* late and repeated datagrams deliver nothing */
	assert_int_equal(pg_udptl_parse(&rx, d[2], (size_t)dl[2], collect, NULL), 0);
	assert_int_equal(pg_udptl_parse(&rx, d[3], (size_t)dl[3], collect, NULL), 0);
	assert_int_equal(pg_udptl_parse(&rx, d[4], (size_t)dl[4], collect, NULL), 0);
	assert_int_equal(pg_udptl_parse(&rx, d[5], (size_t)dl[5], collect, NULL), 0);
	assert_int_equal(G.n, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(G.len[i], 1);
		assert_int_equal(G.b[i][0], 0x10 + i);
		assert_int_equal(G.seq[i], (uint16_t)(65533 + i));
	}
}

static void
test_udptl_malformed(void **state)
{
	(void)state;
	struct pg_udptl_rx rx;
	static const uint8_t short_pkt[] = { 0x00, 0x01, 0x05, 0x00 };          /* length 5, 1 byte */
	static const uint8_t frag[] = { 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00 };    /* fragmented */
	static const uint8_t empty[] = { 0x00, 0x01, 0x00, 0x00, 0x00 };         /* empty IFP */
	static const uint8_t no_ec[] = { 0x00, 0x01, 0x01, 0x02 };               /* no recovery */
	static const uint8_t bad_sec[] = { 0x00, 0x01, 0x01, 0x02, 0x00, 0x02, 0x01, 0x03, 0x09 };
	static const uint8_t fec[] = { 0x00, 0x07, 0x01, 0x42, 0x80, 0x01, 0x02, 0x03 };

	memset(&rx, 0, sizeof rx);
	memset(&G, 0, sizeof G);
	assert_int_equal(pg_udptl_parse(&rx, short_pkt, sizeof short_pkt, collect, NULL), -1);
	assert_int_equal(pg_udptl_parse(&rx, frag, sizeof frag, collect, NULL), -1);
	assert_int_equal(pg_udptl_parse(&rx, empty, sizeof empty, collect, NULL), -1);
	assert_int_equal(pg_udptl_parse(&rx, no_ec, sizeof no_ec, collect, NULL), -1);
	assert_int_equal(pg_udptl_parse(&rx, bad_sec, sizeof bad_sec, collect, NULL), -1);
	assert_int_equal(G.n, 0);
	/* forward error correction is not used, but its primary is taken */
	assert_int_equal(pg_udptl_parse(&rx, fec, sizeof fec, collect, NULL), 0);
	assert_int_equal(G.n, 1);
	assert_int_equal(G.b[0][0], 0x42);
	assert_int_equal(G.seq[0], 7);
}

/* ---- SDP ---- */

static const char OFFER[] =
	"v=0\r\n"
	"o=gw 1 1 IN IP4 192.0.2.1\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.1\r\n"
	"t=0 0\r\n"
	"m=audio 30000 RTP/AVP 8 0 101\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"m=image 30002 udptl t38\r\n"
	"c=IN IP4 192.0.2.7\r\n"
	"a=T38FaxVersion:0\r\n"
	"m=video 0 RTP/AVP 31\r\n";

static void
test_sdp_parse(void **state)
{
	(void)state;
	struct pg_sdp s;

	assert_int_equal(pg_sdp_parse(OFFER, strlen(OFFER), &s), PG_OK);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.m[0].kind, PG_SDP_AUDIO);
	assert_int_equal(s.m[0].port, 30000);
	assert_int_equal(s.m[0].pt, 8);                    /* the first it offered */
	assert_string_equal(s.m[0].addr, "192.0.2.1");
	assert_int_equal(s.m[1].kind, PG_SDP_T38);
	assert_int_equal(s.m[1].port, 30002);
	assert_string_equal(s.m[1].addr, "192.0.2.7");     /* media-level c= wins */
	assert_int_equal(s.m[2].kind, PG_SDP_OTHER);
	assert_int_equal(s.m[2].port, 0);
	assert_int_equal(pg_sdp_find(&s, PG_SDP_T38), 1);
	assert_int_equal(pg_sdp_find(&s, PG_SDP_AUDIO), 0);

	static const char v6[] = "v=0\r\no=x 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\n"
				 "m=image 4000 udptl t38\r\n";
	assert_int_equal(pg_sdp_parse(v6, strlen(v6), &s), PG_OK);
	assert_int_equal(pg_sdp_find(&s, PG_SDP_T38), -1);  /* nowhere we can send */
	static const char g729[] = "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
				   "t=0 0\r\nm=audio 4000 RTP/AVP 18\r\n";
	assert_int_equal(pg_sdp_parse(g729, strlen(g729), &s), PG_OK);
	assert_int_equal(pg_sdp_find(&s, PG_SDP_AUDIO), -1);
	assert_int_equal(pg_sdp_parse("hello", 5, &s), PG_ERR_INVAL);
	assert_int_equal(pg_sdp_parse("", 0, &s), PG_ERR_INVAL);
}

static void
test_sdp_offer_answer(void **state)
{
	(void)state;
	char buf[2048];
	struct pg_sdp s, back;

	pg_sdp_offer(buf, sizeof buf, "127.0.0.1", 40000, PG_SDP_T38, false, 1);
	assert_string_equal(buf,
		"v=0\r\no=pagegate 1 1 IN IP4 127.0.0.1\r\ns=pagegate\r\n"
		"c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=image 40000 udptl t38\r\n"
		"a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n"
		"a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxBuffer:2000\r\n"
		"a=T38FaxMaxDatagram:400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n");
	pg_sdp_offer(buf, sizeof buf, "127.0.0.1", 40002, PG_SDP_AUDIO, false, 2);
	assert_int_equal(pg_sdp_parse(buf, strlen(buf), &back), PG_OK);
	assert_int_equal(back.n, 1);
	assert_int_equal(back.m[0].kind, PG_SDP_AUDIO);
	assert_int_equal(back.m[0].pt, 0);
	assert_non_null(strstr(buf, "m=audio 40002 RTP/AVP 0 8\r\n"));

	/* answering the 3-stream offer with T.38: the others rejected */
	assert_int_equal(pg_sdp_parse(OFFER, strlen(OFFER), &s), PG_OK);
	pg_sdp_answer(buf, sizeof buf, &s, 1, "127.0.0.1", 41000, false, 5);
	assert_non_null(strstr(buf, "o=pagegate 1 5 IN IP4 127.0.0.1\r\n"));
	assert_non_null(strstr(buf, "m=audio 0 RTP/AVP 8\r\nm=image 41000 udptl t38\r\n"));
	assert_non_null(strstr(buf, "m=video 0 RTP/AVP 31\r\n"));
	assert_int_equal(pg_sdp_parse(buf, strlen(buf), &back), PG_OK);
	assert_int_equal(back.n, 3);
	assert_int_equal(pg_sdp_find(&back, PG_SDP_T38), 1);
	assert_int_equal(pg_sdp_find(&back, PG_SDP_AUDIO), -1);
	/* answering with audio keeps the payload type chosen */
	pg_sdp_answer(buf, sizeof buf, &s, 0, "127.0.0.1", 41002, false, 6);
	assert_non_null(strstr(buf, "m=audio 41002 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"));
	assert_non_null(strstr(buf, "m=image 0 udptl t38\r\n"));
}

static void
test_sip_outcomes(void **state)
{
	(void)state;
	static const struct { int st; enum pg_outcome o; const char *why; } t[] = {
		{ 486, PG_OUT_TEMP, "busy" }, { 600, PG_OUT_TEMP, "busy" },
		{ 408, PG_OUT_TEMP, "no answer" }, { 480, PG_OUT_TEMP, "no answer" },
		{ 487, PG_OUT_TEMP, "no answer" }, { 503, PG_OUT_TEMP, "SIP server failure" },
		{ 404, PG_OUT_PERM, "no such number" }, { 484, PG_OUT_PERM, "no such number" },
		{ 403, PG_OUT_PERM, "refused: authentication failed" },
		{ 407, PG_OUT_PERM, "refused: authentication failed" },
		{ 488, PG_OUT_PERM, "the far end takes none of the media offered" },
		{ 603, PG_OUT_PERM, "declined" }, { 420, PG_OUT_PERM, "call refused" },
	};
	const char *why;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_int_equal(pg_sip_outcome(t[i].st, &why), t[i].o);
		assert_string_equal(why, t[i].why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_round_trip),
		cmocka_unit_test(test_rtp_hostile),
		cmocka_unit_test(test_udptl_bytes),
		cmocka_unit_test(test_udptl_recovery),
		cmocka_unit_test(test_udptl_malformed),
		cmocka_unit_test(test_sdp_parse),
		cmocka_unit_test(test_sdp_offer_answer),
		cmocka_unit_test(test_sip_outcomes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
