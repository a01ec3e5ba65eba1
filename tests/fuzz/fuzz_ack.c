/*
 * fuzz_ack.c - acknowledgements from outside: the input is taken as the
 * token of a signed acknowledgement link (/a/TOKEN, ack_link.h:
 * pg_ack_link_check) and as the text of an SMS or pager reply
 * (pg_ack_parse: "1", "ok", "ACK 482913" ...).  Its first 24 bytes also
 * give a message id, a delivery id and an expiry for a token made and
 * checked again (pg_ack_link_make).
 *
 * Checked besides the sanitizers: a token that checks (valid or expired)
 * is the canonical one made from what it names, with ids and expiry in
 * range - no second spelling of a link acknowledges; a token made checks
 * back to its values, and to nothing with another secret; a parsed reply's
 * reference is digits only.
 */
#include "fuzz.h"

#include "pagegate/ack.h"
#include "pagegate/ack_link.h"

static const unsigned char secret[32] = "pagegate fuzz secret 0123456789";
static const unsigned char other[32] = "pagegate fuzz secret 9876543210";

#define NOW_S 1764000000

static int64_t
take(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)(v >> 11);       /* 0 .. 2^53 - 1 */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), again[PG_ACK_LINK_LEN], ref[PG_ACK_REF_MAX];
	struct pg_ack_link l, l2;
	pg_err e;

	e = pg_ack_link_check(secret, s, NOW_S, &l);
	if (e == PG_OK || e == PG_ERR_EXPIRED) {
		FUZZ_ASSERT(l.mid > 0 && l.mid < PG_ACK_LINK_ID_MAX);
		FUZZ_ASSERT(l.did > 0 && l.did < PG_ACK_LINK_ID_MAX);
		FUZZ_ASSERT(e == PG_OK ? l.expires_s > NOW_S : l.expires_s <= NOW_S);
		FUZZ_ASSERT(pg_ack_link_make(secret, l.mid, l.did, l.expires_s, again) == PG_OK);
		FUZZ_ASSERT(strcmp(again, s) == 0);
	} else {
		FUZZ_ASSERT(e == PG_ERR_INVAL);
		FUZZ_ASSERT(l.mid == 0 && l.did == 0 && l.expires_s == 0);
	}

	if (pg_ack_parse(s, ref))
		FUZZ_ASSERT(strspn(ref, "0123456789") == strlen(ref));

	if (size >= 24) {
		int64_t mid = take(data), did = take(data + 8), exp = take(data + 16);
		e = pg_ack_link_make(secret, mid, did, exp, again);
		if (e == PG_OK) {
			FUZZ_ASSERT(strlen(again) <= PG_ACK_LINK_MAX);
			e = pg_ack_link_check(secret, again, NOW_S, &l2);
			FUZZ_ASSERT(e == (exp > NOW_S ? PG_OK : PG_ERR_EXPIRED));
			FUZZ_ASSERT(l2.mid == mid && l2.did == did && l2.expires_s == exp);
			FUZZ_ASSERT(pg_ack_link_check(other, again, NOW_S, &l2) == PG_ERR_INVAL);
		} else {
			FUZZ_ASSERT(e == PG_ERR_INVAL);
			FUZZ_ASSERT(mid < 1 || did < 1 || exp < 1);
		}
	}
	free(s);
	return 0;
}
