/*
 * ack_link.h - signed acknowledgement links.  An email or SMS carries
 * public_url + "/a/" + TOKEN; GET shows a confirmation page, POST
 * acknowledges the message (intake_link.c).  The token is the credential:
 * it names one message and one delivery, carries its expiry and is signed
 * with the store's secret (pg_store_secret), so nothing is stored per link.
 *
 * A token is base64url without padding (RFC 4648 section 5) of
 *   varint(mid) varint(did) varint(expires_s) mac[12]
 * where each varint is minimal LEB128 (7 bits a byte, least significant
 * first, high bit = more) and mac is the first 96 bits of
 * HMAC-SHA-256(secret, "pagegate ack link 1" NUL payload) - a domain of
 * its own, never equal to a callback token's message ("cb:ID").  With ids
 * below 2^21 and an expiry before 2514 a token is 32 characters.
 */
#ifndef PAGEGATE_ACK_LINK_H
#define PAGEGATE_ACK_LINK_H

#include "pagegate/common.h"

#define PG_ACK_LINK_MAX 64           /* longest token ever made or accepted */
#define PG_ACK_LINK_LEN (PG_ACK_LINK_MAX + 1)
#define PG_ACK_LINK_ID_MAX ((int64_t)1 << 53)   /* ids and expiry below it */
/* ack_link_ttl: how long a link stays valid after it was sent. */
#define PG_ACK_LINK_TTL_DEFAULT_S (72 * 3600)
#define PG_ACK_LINK_TTL_MAX_S     (90 * 86400)

struct pg_ack_link {
	int64_t mid;                 /* the message */
	int64_t did;                 /* the delivery that carried the link */
	int64_t expires_s;           /* UTC seconds; valid while now < expires */
};

/* Makes the token for delivery did of message mid, expiring at expires_s,
 * into out (NUL-terminated).  PG_ERR_INVAL when a value is not in
 * 1..PG_ACK_LINK_ID_MAX-1; PG_ERR_IO when HMAC fails.  Pure. */
pg_err pg_ack_link_make(const unsigned char secret[32], int64_t mid,
			int64_t did, int64_t expires_s, char out[PG_ACK_LINK_LEN]);

/* Checks token at now_s, comparing the MAC in constant time.
 *   PG_OK           authentic and now_s < expires_s; *out filled
 *   PG_ERR_EXPIRED  authentic but now_s >= expires_s; *out filled
 *   PG_ERR_INVAL    NULL, longer than PG_ACK_LINK_MAX, not canonical
 *                   base64url, malformed payload or a wrong MAC (forged,
 *                   tampered, another secret); *out zeroed
 * Pure. */
pg_err pg_ack_link_check(const unsigned char secret[32], const char *token,
			 int64_t now_s, struct pg_ack_link *out);

/* base (public_url; trailing '/' dropped) + "/a/" + the token, into
 * out[0..n).  PG_ERR_TOOBIG when it does not fit (out = ""), else as
 * pg_ack_link_make. */
pg_err pg_ack_link_url(const unsigned char secret[32], const char *base,
		       int64_t mid, int64_t did, int64_t expires_s,
		       char *out, size_t n);

#endif
