/*
 * fuzz_wctp.c - what a WCTP 1.3 gateway sends back (XML, libxml2): the
 * input is an HTTP response body judged as the answer to a
 * wctp-SubmitRequest (pager_wctp_judge, with a 200 and a 500 status),
 * parsed as a wctp-PollResponse (pager_wctp_parse_poll) and as an
 * operation a carrier pushes to the callback URL (pager_wctp_parse_push:
 * wctp-MessageReply, wctp-StatusInfo).
 *
 * Checked besides the sanitizers: the outcome is one of the three, the
 * texts for the ledger are terminated valid UTF-8; each event handed on
 * is a reply with sender and text or a status with a known state; no more
 * sequence numbers than there is room for.
 */
#include "fuzz.h"

#include "pagegate/util.h"
#include "../../src/chan/pager/pager_priv.h"

static bool
on_event(void *arg, const struct pager_wctp_ev *ev)
{
	(void)arg;
	FUZZ_ASSERT(ev->did >= 0);
	if (ev->type == PAGER_WCTP_REPLY) {
		FUZZ_ASSERT(ev->from != NULL && ev->text != NULL);
		FUZZ_ASSERT(pg_utf8_valid(ev->from, strlen(ev->from)));
		FUZZ_ASSERT(pg_utf8_valid(ev->text, strlen(ev->text)));
	} else {
		FUZZ_ASSERT(ev->type == PAGER_WCTP_STATUS);
		FUZZ_ASSERT(ev->state == PG_D_DELIVERED || ev->state == PG_D_FAILED ||
			    ev->state == PG_D_SENT);
		FUZZ_ASSERT(ev->detail != NULL && pg_utf8_valid(ev->detail, strlen(ev->detail)));
	}
	return true;
}

static void
check_text(const char *s, size_t n)
{
	FUZZ_ASSERT(memchr(s, '\0', n) != NULL);
	FUZZ_ASSERT(pg_utf8_valid(s, strlen(s)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	char reply[PG_REPLY_MAX], why[PG_REPLY_MAX];
	long seqs[PAGER_WCTP_POLL_BATCH];
	size_t n_seqs = 0;
	int next_s = 0;
	enum pg_outcome o;
	pg_err e;

	for (int i = 0; i < 2; i++) {
		o = pager_wctp_judge(body, size, i ? 500 : 200, reply, sizeof reply);
		FUZZ_ASSERT(o == PG_OUT_OK || o == PG_OUT_TEMP || o == PG_OUT_PERM);
		check_text(reply, sizeof reply);
	}
	why[0] = '\0';
	e = pager_wctp_parse_poll(body, size, on_event, NULL, seqs, PAGER_WCTP_POLL_BATCH,
				  &n_seqs, &next_s, why, sizeof why);
	FUZZ_ASSERT(e == PG_OK || e == PG_ERR_TEMPFAIL || e == PG_ERR_PERMFAIL);
	FUZZ_ASSERT(n_seqs <= PAGER_WCTP_POLL_BATCH && next_s >= 0);
	check_text(why, sizeof why);
	why[0] = '\0';
	e = pager_wctp_parse_push(body, size, on_event, NULL, why, sizeof why);
	FUZZ_ASSERT(e == PG_OK || e == PG_ERR_INVAL);
	check_text(why, sizeof why);
	return 0;
}
