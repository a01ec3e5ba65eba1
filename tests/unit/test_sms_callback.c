/*
 * test_sms_callback.c - /cb/sms/...: Twilio's request signature against
 * the example Twilio publishes, form bodies, Kannel delivery reports,
 * Twilio status callbacks and inbound replies through a recording host;
 * every bad token or signature answers 403 and never reaches the host
 * (sms_callback.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../src/chan/sms/sms_priv.h"

/* ---- Twilio's published example ----
 * https://www.twilio.com/docs/usage/security#validating-requests and the
 * twilio-php "Validate Incoming Requests" page: auth token 12345, URL
 * https://mycompany.com/myapp.php?foo=1&bar=2, five POST fields, expected
 * X-Twilio-Signature RSOYDt4T1cUTdK1PDd93/VVr8B8= . */
static void
test_signature_published(void **st)
{
	struct pg_kv f[] = {   /* deliberately not in sorted order */
		{ "To", "+18005551212" }, { "Caller", "+14158675309" },
		{ "Digits", "1234" }, { "From", "+14158675309" },
		{ "CallSid", "CA1234567890ABCDE" },
	};
	char sig[32];

	(void)st;
	assert_int_equal(sms_twilio_signature("12345",
		"https://mycompany.com/myapp.php?foo=1&bar=2", f, 5, sig), PG_OK);
	assert_string_equal(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
	/* any change breaks it */
	f[2].value = "1235";
	assert_int_equal(sms_twilio_signature("12345",
		"https://mycompany.com/myapp.php?foo=1&bar=2", f, 5, sig), PG_OK);
	assert_string_not_equal(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

static void
test_form_decode(void **st)
{
	struct pg_kv *v;
	size_t n;
	const char *b = "a=1&b=x+y%21&c&&d=%zz&e=%4";

	(void)st;
	assert_int_equal(pg_form_decode(b, strlen(b), 10, &v, &n), PG_OK);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].key, "a");
	assert_string_equal(v[0].value, "1");
	assert_string_equal(v[1].value, "x y!");
	assert_string_equal(v[2].key, "c");
	assert_string_equal(v[2].value, "");
	assert_string_equal(v[3].value, "%zz");
	assert_string_equal(v[4].value, "%4");
	pg_kv_free(v, n);
	assert_int_equal(pg_form_decode(b, strlen(b), 4, &v, &n), PG_ERR_TOOBIG);
	assert_int_equal(n, 4);             /* the first four, for who wants them */
	assert_string_equal(v[3].key, "d");
	pg_kv_free(v, n);
	assert_int_equal(pg_form_decode("", 0, 4, &v, &n), PG_OK);
	assert_int_equal(n, 0);
	pg_kv_free(v, n);
}

/* ---- a recording host ---- */

struct rec {
	int receipts, inbounds;
	int64_t did;
	enum pg_dstate state;
	char detail[512], from[64], text[512];
	pg_err result;
};

static void
fake_token(void *ctx, int64_t did, char out[PG_TOKEN_LEN])
{
	(void)ctx;
	snprintf(out, PG_TOKEN_LEN, "%032llx", (unsigned long long)(did * 7919 + 1));
}

static bool
fake_ok(void *ctx, int64_t did, const char *token)
{
	char want[PG_TOKEN_LEN];

	fake_token(ctx, did, want);
	return strcmp(want, token) == 0;
}

static pg_err
fake_receipt(void *ctx, int64_t did, enum pg_dstate state, const char *detail)
{
	struct rec *r = ctx;

	r->receipts++;
	r->did = did;
	r->state = state;
	snprintf(r->detail, sizeof r->detail, "%s", detail);
	return r->result;
}

static pg_err
fake_inbound(void *ctx, enum pg_channel_kind ch, const char *from, const char *text)
{
	struct rec *r = ctx;

	assert_int_equal(ch, PG_CH_SMS);
	r->inbounds++;
	snprintf(r->from, sizeof r->from, "%s", from);
	snprintf(r->text, sizeof r->text, "%s", text);
	return r->result;
}

/* Request headers for the fake request: conn points at a NULL-ended
 * name/value array. */
static const char *
fake_header(const struct pg_http_req *r, const char *name)
{
	const char *const *h = r->conn;

	for (; h && h[0]; h += 2)
		if (strcasecmp(h[0], name) == 0)
			return h[1];
	return NULL;
}

struct fixture {
	struct rec rec;
	struct pg_chan_host host;
	struct sms_provider prov[2];
	struct sms_config sc;
	struct pg_config cfg;
	struct pg_http_resp resp;
};

static struct fixture *
setup(void)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->host.ctx = &f->rec;
	f->host.receipt = fake_receipt;
	f->host.inbound = fake_inbound;
	f->host.callback_token = fake_token;
	f->host.callback_ok = fake_ok;
	f->prov[0].name = "kannel";
	f->prov[0].kind = SMS_KANNEL;
	f->prov[0].inbound_token = "inbound-token-0123456789";
	f->prov[1].name = "twilio";
	f->prov[1].kind = SMS_TWILIO;
	f->prov[1].auth_token = "12345";
	f->sc.v = f->prov;
	f->sc.n = 2;
	f->cfg.chan_cfg[PG_CH_SMS] = &f->sc;
	f->cfg.public_url = "https://gw.example";
	return f;
}

/* Runs one request; returns the status. */
static int
call(struct fixture *f, const char *method, const char *path, const struct pg_kv *params,
     size_t np, const char *body, const char *const *headers)
{
	static char url[1024];
	struct pg_http_req r;
	const char *ct = body ? "application/x-www-form-urlencoded" : NULL;

	snprintf(url, sizeof url, "https://gw.example/cb/sms%s", path);
	memset(&r, 0, sizeof r);
	r.method = method;
	r.path = path;
	r.url = url;
	r.params = params;
	r.n_params = np;
	r.body = body ? body : "";
	r.body_len = body ? strlen(body) : 0;
	r.content_type = ct;
	r.header = fake_header;
	r.conn = (void *)headers;
	pg_buf_free(&f->resp.body);
	memset(&f->resp, 0, sizeof f->resp);
	f->resp.status = 200;
	pg_buf_init(&f->resp.body, 65536);
	sms_http(&f->host, &f->cfg, &r, &f->resp);
	return f->resp.status;
}

static void
teardown(struct fixture *f)
{
	pg_buf_free(&f->resp.body);
	free(f);
}

static void
test_kannel_dlr(void **st)
{
	struct fixture *f = setup();
	char tok[PG_TOKEN_LEN], path[128];
	struct pg_kv p1[] = { { "type", "1" }, { "smsc", "FAKE" }, { "answer", "ACK/" } };
	struct pg_kv p8[] = { { "type", "8" }, { "smsc", "FAKE" } };
	struct pg_kv p2[] = { { "type", "2" }, { "answer", "NACK/0x0b\r\nX" } };
	struct pg_kv p16[] = { { "type", "16" } };
	struct pg_kv px[] = { { "type", "32" } };

	(void)st;
	fake_token(NULL, 42, tok);
	snprintf(path, sizeof path, "/dlr/42/%s", tok);
	assert_int_equal(call(f, "GET", path, p1, 3, NULL, NULL), 200);
	assert_int_equal(f->rec.receipts, 1);
	assert_int_equal(f->rec.did, 42);
	assert_int_equal(f->rec.state, PG_D_DELIVERED);
	assert_string_equal(f->rec.detail, "kannel report 1: delivered to phone (smsc FAKE): ACK/");

	/* intermediate report: a receipt event that keeps the state (SENT) */
	assert_int_equal(call(f, "GET", path, p8, 2, NULL, NULL), 200);
	assert_int_equal(f->rec.receipts, 2);
	assert_int_equal(f->rec.state, PG_D_SENT);
	assert_string_equal(f->rec.detail, "kannel report 8: accepted by the SMSC (smsc FAKE)");

	assert_int_equal(call(f, "GET", path, p2, 2, NULL, NULL), 200);
	assert_int_equal(f->rec.state, PG_D_FAILED);
	assert_string_equal(f->rec.detail, "kannel report 2: not delivered to phone: NACK/0x0b X");
	assert_int_equal(call(f, "POST", path, p16, 1, NULL, NULL), 200);
	assert_int_equal(f->rec.state, PG_D_FAILED);
	assert_string_equal(f->rec.detail, "kannel report 16: rejected by the SMSC");
	assert_int_equal(f->rec.receipts, 4);
	assert_int_equal(call(f, "GET", path, px, 1, NULL, NULL), 400);
	assert_int_equal(call(f, "GET", path, NULL, 0, NULL, NULL), 400);

	/* unknown delivery, store trouble */
	f->rec.result = PG_ERR_NOTFOUND;
	assert_int_equal(call(f, "GET", path, p1, 3, NULL, NULL), 404);
	f->rec.result = PG_ERR_STORE;
	assert_int_equal(call(f, "GET", path, p1, 3, NULL, NULL), 500);
	f->rec.result = PG_OK;
	assert_int_equal(f->rec.receipts, 6);

	/* forged: another delivery's token, a wrong token, junk */
	snprintf(path, sizeof path, "/dlr/43/%s", tok);
	assert_int_equal(call(f, "GET", path, p1, 3, NULL, NULL), 403);
	assert_int_equal(call(f, "GET", "/dlr/42/00000000000000000000000000000000", p1, 3,
			      NULL, NULL), 403);
	assert_int_equal(call(f, "GET", "/dlr/42/zz", p1, 3, NULL, NULL), 403);
	assert_int_equal(call(f, "GET", "/dlr/-1/x", p1, 3, NULL, NULL), 403);
	assert_int_equal(call(f, "GET", "/dlr/42", p1, 3, NULL, NULL), 404);
	assert_int_equal(call(f, "GET", "/nope", NULL, 0, NULL, NULL), 404);
	assert_int_equal(call(f, "DELETE", path, p1, 3, NULL, NULL), 404);
	assert_int_equal(f->rec.receipts, 6);   /* forgeries count none */
	teardown(f);
}

static void
test_kannel_inbound(void **st)
{
	struct fixture *f = setup();
	char tok0[PG_TOKEN_LEN];
	struct pg_kv good[] = { { "token", "inbound-token-0123456789" },
		{ "from", "+15555550111" }, { "to", "5550000" }, { "text", "ACK 123456" } };
	struct pg_kv bad[] = { { "token", "inbound-token-0123456780" },
		{ "from", "+15555550111" }, { "text", "ACK" } };
	struct pg_kv ucs[] = { { "token", tok0 }, { "from", "+15555550111" },
		{ "text", "\x04\x16\x04\x16" }, { "coding", "2" } };
	struct pg_kv nofrom[] = { { "token", "inbound-token-0123456789" }, { "text", "x" } };
	struct pg_kv ctl[] = { { "token", "inbound-token-0123456789" },
		{ "from", "+15555550111" }, { "text", "ok\tthanks\x1b" } };

	(void)st;
	assert_int_equal(call(f, "GET", "/kannel/inbound", good, 4, NULL, NULL), 200);
	assert_int_equal(f->rec.inbounds, 1);
	assert_string_equal(f->rec.from, "+15555550111");
	assert_string_equal(f->rec.text, "ACK 123456");
	assert_int_equal(f->resp.body.len, 0);    /* Kannel would send a body back */

	/* the host's token for "delivery 0" works too; UCS-2 is decoded */
	fake_token(NULL, 0, tok0);
	assert_int_equal(call(f, "GET", "/kannel/inbound", ucs, 4, NULL, NULL), 200);
	assert_string_equal(f->rec.text, "\xd0\x96\xd0\x96");
	assert_int_equal(call(f, "GET", "/kannel/inbound", ctl, 3, NULL, NULL), 200);
	assert_string_equal(f->rec.text, "ok thanks ");

	/* unknown sender: still 200 (the core logs it) */
	f->rec.result = PG_ERR_NOTFOUND;
	assert_int_equal(call(f, "GET", "/kannel/inbound", good, 4, NULL, NULL), 200);
	f->rec.result = PG_OK;
	assert_int_equal(f->rec.inbounds, 4);

	assert_int_equal(call(f, "GET", "/kannel/inbound", bad, 3, NULL, NULL), 403);
	assert_int_equal(call(f, "GET", "/kannel/inbound", bad + 1, 2, NULL, NULL), 403);
	assert_int_equal(call(f, "GET", "/kannel/inbound", nofrom, 2, NULL, NULL), 400);
	assert_int_equal(f->rec.inbounds, 4);
	teardown(f);
}

/* Signs body fields for url with token as Twilio does. */
static void
sign(const char *token, const char *url, const char *body, char sig[32])
{
	struct pg_kv *v;
	size_t n;

	assert_int_equal(pg_form_decode(body, strlen(body), 100, &v, &n), PG_OK);
	assert_int_equal(sms_twilio_signature(token, url, v, n, sig), PG_OK);
	pg_kv_free(v, n);
}

static void
test_twilio_status(void **st)
{
	struct fixture *f = setup();
	char tok[PG_TOKEN_LEN], path[128], url[256], sig[32], other[32];
	const char *body = "MessageSid=SM123&MessageStatus=delivered&AccountSid=AC1"
		"&From=%2B15550000&To=%2B15555550111&ApiVersion=2010-04-01";
	const char *failed = "MessageSid=SM123&MessageStatus=undelivered&ErrorCode=30003";
	const char *sent = "MessageSid=SM123&MessageStatus=sent";
	const char *hdr[] = { "X-Twilio-Signature", sig, NULL };
	const char *hdr2[] = { "X-Twilio-Signature", other, NULL };

	(void)st;
	fake_token(NULL, 42, tok);
	snprintf(path, sizeof path, "/twilio/status/42/%s", tok);
	snprintf(url, sizeof url, "https://gw.example/cb/sms%s", path);
	sign("12345", url, body, sig);
	assert_int_equal(call(f, "POST", path, NULL, 0, body, hdr), 200);
	assert_int_equal(f->rec.receipts, 1);
	assert_int_equal(f->rec.state, PG_D_DELIVERED);
	assert_string_equal(f->rec.detail, "twilio status delivered sid=SM123");

	sign("12345", url, failed, sig);
	assert_int_equal(call(f, "POST", path, NULL, 0, failed, hdr), 200);
	assert_int_equal(f->rec.state, PG_D_FAILED);
	assert_string_equal(f->rec.detail, "twilio status undelivered error 30003 sid=SM123");
	sign("12345", url, sent, sig);
	assert_int_equal(call(f, "POST", path, NULL, 0, sent, hdr), 200);
	assert_int_equal(f->rec.receipts, 3);          /* on the way: recorded */
	assert_int_equal(f->rec.state, PG_D_SENT);

	/* wrong auth token, tampered body, no header, valid signature but
	 * another delivery's token */
	sign("54321", url, body, other);
	assert_int_equal(call(f, "POST", path, NULL, 0, body, hdr2), 403);
	sign("12345", url, body, sig);
	assert_int_equal(call(f, "POST", path, NULL, 0, failed, hdr), 403);
	assert_int_equal(call(f, "POST", path, NULL, 0, body, NULL), 403);
	snprintf(path, sizeof path, "/twilio/status/41/%s", tok);
	assert_int_equal(call(f, "POST", path, NULL, 0, body, hdr), 403);
	assert_int_equal(f->rec.receipts, 3);   /* no forgery counted */
	teardown(f);
}

static void
test_twilio_inbound(void **st)
{
	struct fixture *f = setup();
	char sig[32];
	const char *body = "ToCountry=US&SmsMessageSid=SM1&NumMedia=0&From=%2B15555550111"
		"&Body=ok+%F0%9F%91%8D&To=%2B15550000&AccountSid=AC1&MessageSid=SM1";
	const char *hdr[] = { "X-Twilio-Signature", sig, NULL };

	(void)st;
	sign("12345", "https://gw.example/cb/sms/twilio/inbound", body, sig);
	assert_int_equal(call(f, "POST", "/twilio/inbound", NULL, 0, body, hdr), 200);
	assert_int_equal(f->rec.inbounds, 1);
	assert_string_equal(f->rec.from, "+15555550111");
	assert_string_equal(f->rec.text, "ok \xf0\x9f\x91\x8d");
	assert_string_equal(f->resp.content_type, "text/xml");
	assert_string_equal(f->resp.body.data,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>\n");

	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	assert_int_equal(call(f, "POST", "/twilio/inbound", NULL, 0, body, hdr), 403);
	assert_int_equal(call(f, "GET", "/twilio/inbound", NULL, 0, NULL, NULL), 404);
	/* no twilio provider configured: nothing can be valid */
	f->sc.n = 1;
	sign("12345", "https://gw.example/cb/sms/twilio/inbound", body, sig);
	assert_int_equal(call(f, "POST", "/twilio/inbound", NULL, 0, body, hdr), 403);
	assert_int_equal(f->rec.inbounds, 1);
	teardown(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_published),
		cmocka_unit_test(test_form_decode),
		cmocka_unit_test(test_kannel_dlr),
		cmocka_unit_test(test_kannel_inbound),
		cmocka_unit_test(test_twilio_status),
		cmocka_unit_test(test_twilio_inbound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
