/*
 * ack_link.c - signed acknowledgement link tokens (ack_link.h): minimal
 * LEB128 varints, base64url without padding, HMAC-SHA-256 truncated to
 * 96 bits under the domain "pagegate ack link 1".
 *
 * Decoding is strict so that one token has exactly one spelling: only the
 * base64url alphabet, no padding, the unused low bits of the last
 * character zero, varints minimal, nothing after the third varint but
 * the MAC.  Changing any one character of a token therefore changes the
 * bytes the MAC covers or the MAC itself.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pagegate/ack_link.h"

#define MAC_LEN      12                 /* bytes of the MAC kept: 96 bits */
#define VARINT_MAX   8                  /* bytes of a varint below 2^53 */
#define PAYLOAD_MAX  (3 * VARINT_MAX)
#define RAW_MAX      (PAYLOAD_MAX + MAC_LEN)
#define DOMAIN       "pagegate ack link 1"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ---- varints ---- */

static size_t
varint_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* Reads one minimal varint below PG_ACK_LINK_ID_MAX from p[*i..n). */
static bool
varint_get(const unsigned char *p, size_t n, size_t *i, int64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	size_t k;

	for (k = 0; *i + k < n && k < VARINT_MAX; k++) {
		unsigned char c = p[*i + k];

		v |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
		if (c & 0x80)
			continue;
		if (c == 0 && k > 0)
			return false;           /* overlong: a trailing zero byte */
		if (v >= (uint64_t)PG_ACK_LINK_ID_MAX)
			return false;
		*i += k + 1;
		*out = (int64_t)v;
		return true;
	}
	return false;
}

/* ---- base64url ---- */

static size_t
b64_encode(const unsigned char *p, size_t n, char *out)
{
	size_t o = 0, i;
	uint32_t acc;

	for (i = 0; i + 3 <= n; i += 3) {
		acc = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64[acc >> 18 & 63];
		out[o++] = b64[acc >> 12 & 63];
		out[o++] = b64[acc >> 6 & 63];
		out[o++] = b64[acc & 63];
	}
	if (n - i == 1) {
		acc = (uint32_t)p[i] << 16;
		out[o++] = b64[acc >> 18 & 63];
		out[o++] = b64[acc >> 12 & 63];
	} else if (n - i == 2) {
		acc = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64[acc >> 18 & 63];
		out[o++] = b64[acc >> 12 & 63];
		out[o++] = b64[acc >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes s[0..n) into out (room for n * 3 / 4 bytes); -1 unless
 * canonical. */
static long
b64_decode(const char *s, size_t n, unsigned char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	int v;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((v = b64_val(s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;               /* unused low bits must be zero */
	return (long)o;
}

/* ---- tokens ---- */

static bool
mac_of(const unsigned char secret[32], const unsigned char *payload, size_t n,
       unsigned char mac[MAC_LEN])
{
	unsigned char msg[sizeof DOMAIN + PAYLOAD_MAX], full[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	memcpy(msg, DOMAIN, sizeof DOMAIN);      /* with its NUL */
	memcpy(msg + sizeof DOMAIN, payload, n);
	if (HMAC(EVP_sha256(), secret, 32, msg, sizeof DOMAIN + n, full,
		 &len) == NULL || len < MAC_LEN)
		return false;
	memcpy(mac, full, MAC_LEN);
	return true;
}

static bool
in_range(int64_t v)
{
	return v > 0 && v < PG_ACK_LINK_ID_MAX;
}

pg_err
pg_ack_link_make(const unsigned char secret[32], int64_t mid, int64_t did,
		 int64_t expires_s, char out[PG_ACK_LINK_LEN])
{
	unsigned char raw[RAW_MAX];
	size_t n = 0;

	out[0] = '\0';
	if (!in_range(mid) || !in_range(did) || !in_range(expires_s))
		return PG_ERR_INVAL;
	n += varint_put(raw + n, (uint64_t)mid);
	n += varint_put(raw + n, (uint64_t)did);
	n += varint_put(raw + n, (uint64_t)expires_s);
	if (!mac_of(secret, raw, n, raw + n))
		return PG_ERR_IO;
	b64_encode(raw, n + MAC_LEN, out);      /* <= 48 characters */
	return PG_OK;
}

pg_err
pg_ack_link_check(const unsigned char secret[32], const char *token,
		  int64_t now_s, struct pg_ack_link *out)
{
	unsigned char raw[PG_ACK_LINK_MAX * 3 / 4 + 1], mac[MAC_LEN];
	struct pg_ack_link l;
	size_t n, i = 0;
	long got;

	memset(out, 0, sizeof *out);
	if (token == NULL || (n = strnlen(token, PG_ACK_LINK_MAX + 1)) >
	    PG_ACK_LINK_MAX || (got = b64_decode(token, n, raw)) <= MAC_LEN)
		return PG_ERR_INVAL;
	n = (size_t)got - MAC_LEN;               /* the payload's length */
	if (n > PAYLOAD_MAX || !varint_get(raw, n, &i, &l.mid) || !varint_get(raw, n, &i, &l.did) ||
	    !varint_get(raw, n, &i, &l.expires_s) || i != n ||
	    !in_range(l.mid) || !in_range(l.did) || !in_range(l.expires_s))
		return PG_ERR_INVAL;
	if (!mac_of(secret, raw, n, mac) ||
	    CRYPTO_memcmp(mac, raw + n, MAC_LEN) != 0)
		return PG_ERR_INVAL;
	*out = l;
	return now_s < l.expires_s ? PG_OK : PG_ERR_EXPIRED;
}

pg_err
pg_ack_link_url(const unsigned char secret[32], const char *base, int64_t mid,
		int64_t did, int64_t expires_s, char *out, size_t n)
{
	char tok[PG_ACK_LINK_LEN];
	size_t bn = base ? strlen(base) : 0;
	pg_err e;

	if (n > 0)
		out[0] = '\0';
	if ((e = pg_ack_link_make(secret, mid, did, expires_s, tok)))
		return e;
	while (bn > 0 && base[bn - 1] == '/')
		bn--;
	if (bn + 3 + strlen(tok) + 1 > n)
		return PG_ERR_TOOBIG;
	memcpy(out, base, bn);
	memcpy(out + bn, "/a/", 3);
	strcpy(out + bn + 3, tok);
	return PG_OK;
}
