/*
 * test_sms_provider.c - the requests each provider kind gets (Kannel
 * sendsms URL with its exact encoding, Twilio REST form POST, generic
 * HTTP templates) and how replies map to outcomes (success, error JSON,
 * garbage, transport failures) - sms_provider.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/chan/sms/sms_priv.h"

#define TOKEN "abcdef0123456789abcdef0123456789"

static struct sms_text
text_of(const char *s)
{
	struct sms_text t;

	assert_int_equal(sms_text_prepare(s, 3, &t), PG_OK);
	return t;
}

static struct sms_provider
kannel(void)
{
	struct sms_provider p;

	memset(&p, 0, sizeof p);
	p.name = "kannel";
	p.kind = SMS_KANNEL;
	p.url = "http://127.0.0.1:13013/cgi-bin/sendsms";
	p.username = "pg user";
	p.password = "p&ss=w/rd";
	p.from = "+15550000";
	p.dlr_mask = 31;
	return p;
}

static void
test_kannel_gsm(void **st)
{
	struct sms_provider p = kannel();
	struct sms_text t = text_of("Hi there & more: 100% \xc3\xa9");
	struct sms_msg m = { "+15555550111", &t, 42,
		"http://gw.example:8025/cb/sms/dlr/42/" TOKEN };
	struct sms_request r;
	char why[128];

	(void)st;
	assert_int_equal(sms_build_request(&p, &m, &r, why, sizeof why), PG_OK);
	assert_string_equal(r.method, "GET");
	assert_null(r.body);
	assert_null(r.user);
	assert_string_equal(r.url,
		"http://127.0.0.1:13013/cgi-bin/sendsms?username=pg%20user"
		"&password=p%26ss%3Dw%2Frd&from=%2B15550000&to=%2B15555550111"
		"&text=Hi%20there%20%26%20more%3A%20100%25%20%C3%A9"
		"&coding=0&charset=UTF-8&dlr-mask=31"
		"&dlr-url=http%3A%2F%2Fgw.example%3A8025%2Fcb%2Fsms%2Fdlr%2F42%2F" TOKEN
		"%3Ftype%3D%25d%26smsc%3D%25i%26answer%3D%25A");
	sms_request_free(&r);

	/* no report URL, no dlr; an smsc route; a URL that has a query */
	p.url = "http://k/cgi-bin/sendsms?x=1";
	p.smsc = "FAKE";
	p.from = NULL;
	m.status_url = NULL;
	assert_int_equal(sms_build_request(&p, &m, &r, why, sizeof why), PG_OK);
	assert_string_equal(r.url,
		"http://k/cgi-bin/sendsms?x=1&username=pg%20user&password=p%26ss%3Dw%2Frd"
		"&to=%2B15555550111&text=Hi%20there%20%26%20more%3A%20100%25%20%C3%A9"
		"&coding=0&charset=UTF-8&smsc=FAKE");
	sms_request_free(&r);
	sms_text_free(&t);
}

static void
test_kannel_ucs2(void **st)
{
	struct sms_provider p = kannel();
	struct sms_text t = text_of("\xd0\x96 \xf0\x9f\x94\xa5");   /* Ж 🔥 */
	struct sms_msg m = { "4915112345", &t, 7, NULL };
	struct sms_request r;
	char why[128];

	(void)st;
	p.dlr_mask = 0;
	assert_int_equal(sms_build_request(&p, &m, &r, why, sizeof why), PG_OK);
	assert_string_equal(r.url,
		"http://127.0.0.1:13013/cgi-bin/sendsms?username=pg%20user"
		"&password=p%26ss%3Dw%2Frd&from=%2B15550000&to=4915112345"
		"&text=%04%16%00%20%D8%3D%DD%25&coding=2&charset=UTF-16BE");
	sms_request_free(&r);
	sms_text_free(&t);
}

static void
test_bad_number(void **st)
{
	struct sms_provider p = kannel();
	struct sms_text t = text_of("x");
	struct sms_msg m = { "555-0111", &t, 7, NULL };
	struct sms_request r;
	char why[128];

	(void)st;
	assert_int_equal(sms_build_request(&p, &m, &r, why, sizeof why), PG_ERR_INVAL);
	assert_string_equal(why, "invalid phone number \"555-0111\", not sent");
	sms_text_free(&t);
	assert_true(sms_number_ok("+15555550111"));
	assert_true(sms_number_ok("+44207"));
	assert_true(sms_number_ok("911"));
	assert_true(sms_number_ok("4915112345"));
	assert_false(sms_number_ok("+1234"));
	assert_false(sms_number_ok("12"));
	assert_false(sms_number_ok("+1234567890123456"));
	assert_false(sms_number_ok("+1 555 555"));
	assert_false(sms_number_ok(""));
	assert_false(sms_number_ok(NULL));
}

static void
judge(const struct sms_provider *p, long status, const char *body, const char *error,
      enum pg_outcome want, const char *reply)
{
	struct sms_reply r = { status, error, false, body, strlen(body) };
	enum pg_outcome o;
	char out[PG_REPLY_MAX];

	sms_judge_reply(p, &r, &o, out);
	assert_string_equal(out, reply);
	assert_int_equal(o, want);
}

static void
test_kannel_replies(void **st)
{
	struct sms_provider p = kannel();
	struct sms_reply r = { 0, "Failed to connect to 127.0.0.1 port 13013", true, "", 0 };
	enum pg_outcome o;
	char out[PG_REPLY_MAX];

	(void)st;
	judge(&p, 202, "0: Accepted for delivery", NULL, PG_OUT_OK, "202 0: Accepted for delivery");
	judge(&p, 202, "3: Queued for later delivery", NULL, PG_OUT_OK,
	      "202 3: Queued for later delivery");
	judge(&p, 403, "Authorization failed for sendsms", NULL, PG_OUT_PERM,
	      "403 Authorization failed for sendsms");
	judge(&p, 400, "Number(s) has/have been denied by white- and/or black-lists.", NULL,
	      PG_OUT_PERM, "400 Number(s) has/have been denied by white- and/or black-lists.");
	judge(&p, 503, "busy\r\n", NULL, PG_OUT_TEMP, "503 busy");
	judge(&p, 0, "", "Failed to connect to 127.0.0.1 port 13013: Connection refused",
	      PG_OUT_TEMP, "Failed to connect to 127.0.0.1 port 13013: Connection refused");
	sms_judge_reply(&p, &r, &o, out);
	assert_int_equal(o, PG_OUT_TEMP);
	assert_string_equal(out, "no answer in time: Failed to connect to 127.0.0.1 port 13013");
}

static struct sms_provider
twilio(void)
{
	struct sms_provider p;

	memset(&p, 0, sizeof p);
	p.name = "twilio";
	p.kind = SMS_TWILIO;
	p.url = "https://api.twilio.com/";
	p.account_sid = "AC0123456789abcdef0123456789abcdef";
	p.auth_token = "secret-token";
	p.from = "+15550000";
	return p;
}

static void
test_twilio_request(void **st)
{
	struct sms_provider p = twilio();
	struct sms_text t = text_of("Call Ann 555-0100 & ack: \xf0\x9f\x94\xa5");
	struct sms_msg m = { "+15555550111", &t, 42,
		"https://gw.example/cb/sms/twilio/status/42/" TOKEN };
	struct sms_request r;
	char why[128];

	(void)st;
	assert_int_equal(sms_build_request(&p, &m, &r, why, sizeof why), PG_OK);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.url, "https://api.twilio.com/2010-04-01/Accounts/"
			    "AC0123456789abcdef0123456789abcdef/Messages.json");
	assert_string_equal(r.body,
		"To=%2B15555550111&From=%2B15550000"
		"&Body=Call%20Ann%20555-0100%20%26%20ack%3A%20%F0%9F%94%A5"
		"&StatusCallback=https%3A%2F%2Fgw.example%2Fcb%2Fsms%2Ftwilio%2Fstatus%2F42%2F"
		TOKEN);
	assert_int_equal(r.body_len, strlen(r.body));
	assert_string_equal(r.user, "AC0123456789abcdef0123456789abcdef");
	assert_string_equal(r.password, "secret-token");
	assert_int_equal(r.n_headers, 1);
	assert_string_equal(r.headers[0], "Content-Type: application/x-www-form-urlencoded");
	sms_request_free(&r);

	/* messaging service instead of From, no status callback */
	p.from = NULL;
	p.messaging_service_sid = "MG0123";
	m.status_url = NULL;
	assert_int_equal(sms_build_request(&p, &m, &r, why, sizeof why), PG_OK);
	assert_string_equal(r.body, "To=%2B15555550111&MessagingServiceSid=MG0123"
			    "&Body=Call%20Ann%20555-0100%20%26%20ack%3A%20%F0%9F%94%A5");
	sms_request_free(&r);
	sms_text_free(&t);
}

static void
test_twilio_replies(void **st)
{
	struct sms_provider p = twilio();

	(void)st;
	judge(&p, 201, "{\"account_sid\":\"AC1\",\"sid\":\"SM0123456789abcdef\",\"status\":"
	      "\"queued\",\"error_code\":null,\"error_message\":null,\"num_segments\":\"1\"}",
	      NULL, PG_OUT_OK, "201 queued sid=SM0123456789abcdef");
	judge(&p, 201, "{\"sid\":\"SM9\",\"status\":\"accepted\"}", NULL, PG_OUT_OK,
	      "201 accepted sid=SM9");
	judge(&p, 201, "{\"sid\":\"SM9\",\"status\":\"failed\",\"error_code\":30007,"
	      "\"error_message\":\"Carrier violation\"}", NULL, PG_OUT_PERM,
	      "201 failed sid=SM9 error 30007: Carrier violation");
	judge(&p, 400, "{\"code\": 21211, \"message\": \"The 'To' number +1555 is not a valid "
	      "phone number.\", \"more_info\": \"https://www.twilio.com/docs/errors/21211\", "
	      "\"status\": 400}", NULL, PG_OUT_PERM,
	      "400 Twilio error 21211: The 'To' number +1555 is not a valid phone number.");
	judge(&p, 401, "{\"code\":20003,\"message\":\"Authenticate\",\"more_info\":"
	      "\"https://www.twilio.com/docs/errors/20003\",\"status\":401}", NULL,
	      PG_OUT_PERM, "401 Twilio error 20003: Authenticate");
	judge(&p, 429, "{\"code\":20429,\"message\":\"Too Many Requests\",\"status\":429}",
	      NULL, PG_OUT_TEMP, "429 Twilio error 20429: Too Many Requests");
	judge(&p, 503, "<html><body>Service\nUnavailable</body></html>", NULL, PG_OUT_TEMP,
	      "503 <html><body>Service Unavailable</body></html>");
	/* garbage with a 2xx: not known to be sent, so tried again */
	judge(&p, 201, "garbage{\x01", NULL, PG_OUT_TEMP, "201 unreadable reply: garbage{");
	judge(&p, 200, "{\"status\":\"queued\"}", NULL, PG_OUT_TEMP,
	      "200 unreadable reply: {\"status\":\"queued\"}");
	judge(&p, 200, "[1,2]", NULL, PG_OUT_TEMP, "200 unreadable reply: [1,2]");
	judge(&p, 0, "", "SSL certificate problem: unable to get local issuer certificate",
	      PG_OUT_TEMP, "SSL certificate problem: unable to get local issuer certificate");
}

static void
test_http_request(void **st)
{
	char *hdrs[] = { "Content-Type: application/json", "X-Api-Key: k1" };
	struct sms_provider p;
	struct sms_text t = text_of("Say \"hi\"\nnow \\ \xc3\xa9");
	struct sms_msg m = { "+15555550111", &t, 42, "http://gw/cb/sms/dlr/42/" TOKEN };
	struct sms_request r;
	char why[128];

	(void)st;
	memset(&p, 0, sizeof p);
	p.name = "generic";
	p.kind = SMS_HTTP;
	p.url = "https://sms.example/api/send?to={{to}}&ref={{ delivery_id }}";
	p.method = "POST";
	p.headers = hdrs;
	p.n_headers = 2;
	p.from = "Clinic";
	p.body = "{\"from\":\"{{from}}\",\"text\":\"{{text}}\",\"cb\":\"{{status_url}}\","
		 "\"coding\":\"{{coding}}\",\"parts\":{{segments}}}";
	p.escape = SMS_ESC_JSON;
	assert_int_equal(sms_build_request(&p, &m, &r, why, sizeof why), PG_OK);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.url, "https://sms.example/api/send?to=%2B15555550111&ref=42");
	assert_string_equal(r.body, "{\"from\":\"Clinic\",\"text\":\"Say \\\"hi\\\"\\u000anow "
			    "\\\\ \xc3\xa9\",\"cb\":\"http://gw/cb/sms/dlr/42/" TOKEN
			    "\",\"coding\":\"gsm7\",\"parts\":1}");
	assert_int_equal(r.n_headers, 2);
	assert_string_equal(r.headers[1], "X-Api-Key: k1");
	assert_null(r.user);
	sms_request_free(&r);

	/* form escaping and a GET without body */
	p.body = "to={{to}}&msg={{text}}";
	p.escape = SMS_ESC_URL;
	assert_int_equal(sms_build_request(&p, &m, &r, why, sizeof why), PG_OK);
	assert_string_equal(r.body, "to=%2B15555550111&msg=Say%20%22hi%22%0Anow%20%5C%20%C3%A9");
	sms_request_free(&r);
	p.method = "GET";
	p.body = NULL;
	p.n_headers = 0;
	assert_int_equal(sms_build_request(&p, &m, &r, why, sizeof why), PG_OK);
	assert_null(r.body);
	assert_null(r.headers);
	sms_request_free(&r);
	sms_text_free(&t);

	assert_true(sms_tmpl_check("a {{to}} b {{ text }} {{segments}}", why, sizeof why));
	assert_false(sms_tmpl_check("{{phone}}", why, sizeof why));
	assert_string_equal(why, "unknown variable \"phone\" (known: to, from, text, "
			    "delivery_id, status_url, coding, segments)");
	assert_false(sms_tmpl_check("x {{to", why, sizeof why));
	assert_string_equal(why, "\"{{\" without \"}}\" on the same line");
	assert_false(sms_tmpl_check("{{to\n}}", why, sizeof why));
}

static void
test_http_replies(void **st)
{
	struct sms_provider p;

	(void)st;
	memset(&p, 0, sizeof p);
	p.kind = SMS_HTTP;
	p.ok_lo = 200;
	p.ok_hi = 299;
	judge(&p, 200, "queued", NULL, PG_OUT_OK, "200 queued");
	judge(&p, 404, "no such route", NULL, PG_OUT_PERM, "404 no such route");
	judge(&p, 429, "slow down", NULL, PG_OUT_TEMP, "429 slow down");
	judge(&p, 408, "", NULL, PG_OUT_TEMP, "408 ");
	judge(&p, 502, "bad gateway", NULL, PG_OUT_TEMP, "502 bad gateway");
	p.ok_lo = p.ok_hi = 202;
	judge(&p, 200, "ok", NULL, PG_OUT_PERM, "200 ok");
	assert_int_equal(regcomp(&p.ok_regex, "^OK [0-9]+", REG_EXTENDED | REG_NOSUB), 0);
	p.has_regex = true;
	judge(&p, 200, "OK 123", NULL, PG_OUT_OK, "200 OK 123");
	judge(&p, 200, "ERR invalid number", NULL, PG_OUT_PERM,
	      "200 reply does not match success: ERR invalid number");
	judge(&p, 500, "OK 1", NULL, PG_OUT_TEMP, "500 OK 1");
	regfree(&p.ok_regex);
}

static void
test_url_encode(void **st)
{
	struct pg_buf b;

	(void)st;
	pg_buf_init(&b, 64);
	assert_int_equal(sms_url_encode(&b, "a b+c/~_.-\x01", 11), PG_OK);
	assert_string_equal(b.data, "a%20b%2Bc%2F~_.-%01");
	pg_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kannel_gsm),
		cmocka_unit_test(test_kannel_ucs2),
		cmocka_unit_test(test_bad_number),
		cmocka_unit_test(test_kannel_replies),
		cmocka_unit_test(test_twilio_request),
		cmocka_unit_test(test_twilio_replies),
		cmocka_unit_test(test_http_request),
		cmocka_unit_test(test_http_replies),
		cmocka_unit_test(test_url_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
