/*
 * test_ack.c - the acknowledgement model (ack.h): the reply parser as a
 * table of accepted and refused texts, callback tokens against values
 * computed independently with openssl(1), and the host drivers use, end
 * to end on a real store in a fresh temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pagegate/ack.h"
#include "pagegate/util.h"

#define T0 1795361640000LL   /* 2026-11-22T15:34:00Z */

/* ---- pg_ack_parse ---- */

struct parse_case { const char *text; bool ack; const char *ref; };

static const struct parse_case parse_cases[] = {
	/* the words, any case, white space and final "." "!" ignored */
	{ "1", true, "" },
	{ "ok", true, "" },
	{ "OK!", true, "" },
	{ "  Ok.  ", true, "" },
	{ "okay", true, "" },
	{ "OKAY!!", true, "" },
	{ "k", true, "" },
	{ "K", true, "" },
	{ "ack", true, "" },
	{ "ACK", true, "" },
	{ "acknowledged", true, "" },
	{ "Acknowledged.", true, "" },
	{ "yes", true, "" },
	{ "Yes", true, "" },
	{ "y", true, "" },
	{ "got it", true, "" },
	{ "Got  It!", true, "" },
	{ "\tgot\nit\r\n", true, "" },
	/* a reference, alone or after "ack" / "ok" */
	{ "482913", true, "482913" },
	{ " 048213 ", true, "048213" },
	{ "ack 482913", true, "482913" },
	{ "ACK  482913.", true, "482913" },
	{ "ok 482913", true, "482913" },
	{ "Ok 000001!", true, "000001" },
	/* replies, not acknowledgements */
	{ "ok call me back", false, "" },
	{ "call me", false, "" },
	{ "no", false, "" },
	{ "nope", false, "" },
	{ "2", false, "" },
	{ "11", false, "" },
	{ "ok?", false, "" },
	{ "yes but call the office", false, "" },
	{ "got it, on my way", false, "" },
	{ "okok", false, "" },
	{ "ack482913", false, "" },
	{ "ack 48291", false, "" },
	{ "ack 4829133", false, "" },
	{ "ack #482913", false, "" },
	{ "okay 482913", false, "" },
	{ "yes 482913", false, "" },
	{ "482913 ok", false, "" },
	{ "48291a", false, "" },
	{ "ok ok", false, "" },
	{ "\xef\xbc\xaf\xef\xbc\xab", false, "" },      /* fullwidth "ＯＫ" */
	{ "ok \xf0\x9f\x91\x8d", false, "" },           /* ok + thumbs up */
	{ "", false, "" },
	{ "   ", false, "" },
	{ ".", false, "" },
	{ "!!!", false, "" },
};

static void
test_parse_table(void **state)
{
	char ref[PG_ACK_REF_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];

		memset(ref, 'z', sizeof ref);
		print_message("\"%s\"\n", c->text);
		assert_int_equal(pg_ack_parse(c->text, ref), c->ack);
		assert_string_equal(ref, c->ref);
	}
}

static void
test_parse_bounds(void **state)
{
	char ref[PG_ACK_REF_MAX], text[200];

	(void)state;
	memset(ref, 'z', sizeof ref);
	assert_false(pg_ack_parse(NULL, ref));
	assert_string_equal(ref, "");
	/* White space does not count against the length bound... */
	memset(text, ' ', sizeof text);
	memcpy(text + 150, "ok", 2);
	text[sizeof text - 1] = '\0';
	assert_true(pg_ack_parse(text, ref));
	/* ... but text does: no acknowledgement is that long. */
	memset(text, 'k', sizeof text - 1);
	assert_false(pg_ack_parse(text, ref));
	text[1] = '\0';
	assert_true(pg_ack_parse(text, ref));          /* "k" */
}

/* ---- callback tokens ---- */

/* 32 bytes, ASCII so that openssl(1) takes it as a key. */
static const unsigned char secret_a[32] = "pagegate-test-secret-32-bytes!!!";

static void
test_token_values(void **state)
{
	unsigned char secret_b[32];
	char t[PG_TOKEN_LEN];

	(void)state;
	/* printf 'cb:34' | openssl dgst -sha256 \
	 *     -hmac 'pagegate-test-secret-32-bytes!!!'
	 * = 057bede1f17096bce81308cee9ba5f3eef2969a64a0bee4e6288410989a53193 */
	pg_callback_token(secret_a, 34, t);
	assert_string_equal(t, "057bede1f17096bce81308cee9ba5f3e");
	/* Key bytes 00 01 ... 1f:
	 * printf 'cb:34' | openssl dgst -sha256 -mac HMAC -macopt \
	 *     hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
	 * = 7cd35f895ddee2778277070512f833f7b16e35c44ff2a5e40f6e4f9b1e78f9a3
	 * and with 'cb:9007199254740993' (a 64-bit id)
	 * = d4509c01e5e6a2b9474c4852352450cde362b238c19c67d3131422ffd8b08879 */
	for (int i = 0; i < 32; i++)
		secret_b[i] = (unsigned char)i;
	pg_callback_token(secret_b, 34, t);
	assert_string_equal(t, "7cd35f895ddee2778277070512f833f7");
	pg_callback_token(secret_b, 9007199254740993LL, t);
	assert_string_equal(t, "d4509c01e5e6a2b9474c4852352450cd");
	assert_int_equal(strlen(t), PG_TOKEN_LEN - 1);
}

/* ---- the host on a real store ---- */

struct fx {
	char dir[64];
	char db[128];
	struct pg_store *st;
	struct pg_ack_host h;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	if (fixture_tmpdb(f->dir, f->db, "ack") != 0)
		return -1;
	if (pg_store_open(f->db, 0, &f->st) != PG_OK ||
	    pg_ack_host_init(&f->h, f->st, NULL) != PG_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	fixture_store_done(f->st, f->dir);
	free(f);
	return 0;
}

static int64_t
sql_int(const struct fx *f, const char *q)
{
	return fixture_sql_int(f->db, q);
}

/* A page on ch to `to`, sent a minute ago (not sent when !sent).
 * Returns the message id; *did the delivery's, ref the ack reference. */
static int64_t
page(struct pg_store *st, enum pg_channel_kind ch, const char *to, bool sent,
     int64_t *did, char ref[12])
{
	struct pg_message m;
	struct pg_delivery d;
	int64_t aid, at = pg_now_ms() - 60000;
	bool existing;

	memset(&m, 0, sizeof m);
	m.client_id = "acme-hvac";
	m.text = "No heat at 12 Elm St";
	m.operator_name = "alice";
	m.received_ms = T0;
	memset(&d, 0, sizeof d);
	d.contact_id = "jane";
	d.channel = ch;
	d.address = (char *)to;
	d.state = PG_D_QUEUED;
	d.next_try_ms = T0;
	d.expires_ms = T0 + 86400000;
	assert_int_equal(pg_store_submit(st, &m, &d, 1, "r", &existing), PG_OK);
	if (sent) {
		assert_int_equal(pg_store_attempt_start(st, d.id, at, &aid), PG_OK);
		assert_int_equal(pg_store_attempt_finish(st, d.id, aid, at + 400,
			PG_OUT_OK, "0: Accepted for delivery", PG_D_SENT, 0),
			PG_OK);
	}
	*did = d.id;
	snprintf(ref, 12, "%s", m.ack_ref);
	return m.id;
}

static void
check_acked(struct pg_store *st, int64_t mid, const char *by)
{
	struct pg_message m;

	assert_int_equal(pg_store_get_msg(st, mid, &m), PG_OK);
	if (by) {
		assert_true(m.acked_ms > 0);
		assert_string_equal(m.acked_by, by);
	} else {
		assert_int_equal(m.acked_ms, 0);
		assert_null(m.acked_by);
	}
	pg_message_free(&m);
}

static void
last_event(struct pg_store *st, int64_t mid, const char *type, int64_t did,
	   const char *detail)
{
	struct pg_message_full full;
	struct pg_event *e;

	assert_int_equal(pg_store_get_message(st, mid, &full), PG_OK);
	e = &full.events[full.n_events - 1];
	assert_string_equal(e->type, type);
	assert_int_equal(e->delivery_id, did);
	assert_string_equal(e->detail, detail);
	pg_message_full_free(&full);
}

/* A reference no message holds. */
static void
free_ref(struct pg_store *st, char out[12])
{
	int64_t mid;

	for (int i = 999999; i > 0; i--) {
		snprintf(out, 12, "%06d", i);
		if (pg_store_find_ack_ref(st, out, &mid) == PG_ERR_NOTFOUND)
			return;
	}
	fail();
}

static void
test_host_inbound(void **state)
{
	struct fx *f = *state;
	const struct pg_chan_host *h = &f->h.host;
	char ra[12], rb[12], rc[12], none[12], want[128];
	int64_t da, db, dc, ma, mb, mc, n;

	ma = page(f->st, PG_CH_SMS, "+15555550111", true, &da, ra);
	mb = page(f->st, PG_CH_SMS, "+15555550122", true, &db, rb);
	mc = page(f->st, PG_CH_SMS, "+1 (555) 555-0133", true, &dc, rc);

	/* "OK" from the number of a sent page acknowledges its message. */
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "15555550111", "OK"), PG_OK);
	check_acked(f->st, ma, "15555550111 via sms");
	snprintf(want, sizeof want, "by 15555550111 via sms (delivery %lld)",
		 (long long)da);
	last_event(f->st, ma, "acknowledged", da, want);
	/* A second "ok" finds the same, acknowledged page: nothing written. */
	n = sql_int(f, "SELECT count(*) FROM events");
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "15555550111", "ok"), PG_OK);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), n);
	/* A reply after the acknowledgement still reaches the operators. */
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "15555550111", "on my way"), PG_OK);
	snprintf(want, sizeof want, "from 15555550111 via sms: on my way");
	last_event(f->st, ma, "reply", da, want);

	/* "ack REF" from a number nobody paged still acknowledges by ref. */
	snprintf(want, sizeof want, "Ack %s.", rb);
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+19995550000", want), PG_OK);
	check_acked(f->st, mb, "+19995550000 via sms");
	last_event(f->st, mb, "acknowledged", 0, "by +19995550000 via sms");

	/* Anything else is a reply for the operators, not an ack. */
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+15555550133",
				    "call me"), PG_OK);
	check_acked(f->st, mc, NULL);
	snprintf(want, sizeof want, "from +15555550133 via sms: call me");
	last_event(f->st, mc, "reply", dc, want);
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+15555550133",
				    "ok call me back"), PG_OK);
	check_acked(f->st, mc, NULL);
	last_event(f->st, mc, "reply", dc,
		   "from +15555550133 via sms: ok call me back");
	/* A reference nobody holds acknowledges nothing: a reply. */
	free_ref(f->st, none);
	snprintf(want, sizeof want, "ack %s", none);
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+15555550133", want), PG_OK);
	check_acked(f->st, mc, NULL);
	snprintf(want, sizeof want, "from +15555550133 via sms: ack %s", none);
	last_event(f->st, mc, "reply", dc, want);
	/* Its own reference from its own number names the delivery too. */
	snprintf(want, sizeof want, "%s", rc);
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+15555550133", want), PG_OK);
	snprintf(want, sizeof want, "by +15555550133 via sms (delivery %lld)",
		 (long long)dc);
	last_event(f->st, mc, "acknowledged", dc, want);

	/* An unknown sender: not found, nothing written. */
	n = sql_int(f, "SELECT count(*) FROM events");
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+18885550000", "OK"),
			 PG_ERR_NOTFOUND);
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+18885550000",
				    "who is this? \n\x1b[31m"), PG_ERR_NOTFOUND);
	/* The same number on another channel is another sender. */
	assert_int_equal(h->inbound(h->ctx, PG_CH_PAGER, "+15555550133", "call"),
			 PG_ERR_NOTFOUND);
	/* Hostile input. */
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, NULL, "ok"), PG_ERR_INVAL);
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "", "ok"), PG_ERR_INVAL);
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+1555\n0133", "ok"),
			 PG_ERR_INVAL);
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+15555550133", NULL),
			 PG_ERR_INVAL);
	assert_int_equal(h->inbound(h->ctx, PG_CH_SMS, "+15555550133",
				    "bad \xc3\x28 utf-8"), PG_ERR_INVAL);
	assert_int_equal(h->inbound(h->ctx, PG_CH__COUNT, "+15555550133", "ok"),
			 PG_ERR_INVAL);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), n);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE "
				 "acked_ms IS NOT NULL"), 3);
}

static void
test_host_ack_receipt(void **state)
{
	struct fx *f = *state;
	const struct pg_chan_host *h = &f->h.host;
	struct pg_delivery d;
	char ref[12], none[12];
	int64_t did, mid = page(f->st, PG_CH_MQTT, "pagegate/acme/jane", true,
				&did, ref);
	bool already = true;

	/* By reference (MQTT ack topic, WCTP reply). */
	free_ref(f->st, none);
	assert_int_equal(h->ack(h->ctx, PG_CH_MQTT, none, "jane-phone"),
			 PG_ERR_NOTFOUND);
	assert_int_equal(h->ack(h->ctx, PG_CH_MQTT, ref, "jane-phone"), PG_OK);
	check_acked(f->st, mid, "jane-phone via mqtt");
	assert_int_equal(h->ack(h->ctx, PG_CH_MQTT, ref, "bob"), PG_OK);
	check_acked(f->st, mid, "jane-phone via mqtt");   /* the first stays */
	/* An operator through the API. */
	assert_int_equal(pg_ack_message(&f->h, mid, 0, "api", "alice", &already),
			 PG_OK);
	assert_true(already);
	mid = page(f->st, PG_CH_SMS, "+15555550111", false, &did, ref);
	assert_int_equal(pg_ack_message(&f->h, mid, 0, "api", "alice", &already),
			 PG_OK);
	assert_false(already);
	check_acked(f->st, mid, "alice via api");

	/* Receipts. */
	mid = page(f->st, PG_CH_SMS, "+15555550122", true, &did, ref);
	assert_int_equal(h->receipt(h->ctx, did, PG_D_DELIVERED, "stat:DELIVRD"),
			 PG_OK);
	assert_int_equal(pg_store_get_delivery(f->st, did, &d), PG_OK);
	assert_int_equal(d.state, PG_D_DELIVERED);
	pg_delivery_free(&d);
	last_event(f->st, mid, "delivered", did, "stat:DELIVRD");
	assert_int_equal(h->receipt(h->ctx, 999999, PG_D_DELIVERED, "x"),
			 PG_ERR_NOTFOUND);
}

static void
test_host_tokens(void **state)
{
	struct fx *f = *state;
	const struct pg_chan_host *h = &f->h.host;
	struct pg_ack_host h2;
	char t[PG_TOKEN_LEN], t2[PG_TOKEN_LEN], want[PG_TOKEN_LEN];

	h->callback_token(h->ctx, 34, t);
	assert_int_equal(strlen(t), 32);
	assert_int_equal(strspn(t, "0123456789abcdef"), 32);
	pg_callback_token(f->h.secret, 34, want);
	assert_string_equal(t, want);
	assert_true(h->callback_ok(h->ctx, 34, t));
	assert_false(h->callback_ok(h->ctx, 35, t));
	assert_false(h->callback_ok(h->ctx, 34, NULL));
	assert_false(h->callback_ok(h->ctx, 34, ""));
	t2[0] = '\0';
	snprintf(t2, sizeof t2, "%.31s", t);
	assert_false(h->callback_ok(h->ctx, 34, t2));
	snprintf(t2, sizeof t2, "%s", t);
	t2[5] = t2[5] == '0' ? '1' : '0';
	assert_false(h->callback_ok(h->ctx, 34, t2));
	char longer[40];
	snprintf(longer, sizeof longer, "%s0", t);
	assert_false(h->callback_ok(h->ctx, 34, longer));

	/* The secret is the store's: a restarted daemon makes the same
	 * tokens. */
	pg_store_close(f->st);
	f->st = NULL;
	assert_int_equal(pg_store_open(f->db, 0, &f->st), PG_OK);
	assert_int_equal(pg_ack_host_init(&h2, f->st, NULL), PG_OK);
	h2.host.callback_token(h2.host.ctx, 34, t2);
	assert_string_equal(t2, t);
	assert_true(h2.host.callback_ok(h2.host.ctx, 34, t));
	assert_ptr_equal(h2.host.ctx, &h2);
	assert_ptr_equal(h2.store, f->st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_token_values),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_host_inbound),
		T(test_host_ack_receipt),
		T(test_host_tokens),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
