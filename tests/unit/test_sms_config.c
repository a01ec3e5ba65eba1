/*
 * test_sms_config.c - the "sms" section of pagegate.conf (every provider
 * kind, defaults, the default provider) and its diagnostics at file:line;
 * sms device checks (number, gateway, max_segments) - sms_config.c.
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

/* Parses text's "sms" setting; returns the result and fills d. */
static pg_err
parse(const char *text, struct pg_diags *d, struct sms_config **out)
{
	config_t c;
	void *v = NULL;
	pg_err e;

	config_init(&c);
	assert_int_equal(config_read_string(&c, text), CONFIG_TRUE);
	pg_diags_init(d);
	e = sms_config_parse(config_lookup(&c, "sms"), "pagegate.conf", d, &v);
	config_destroy(&c);
	*out = v;
	return e;
}

/* "file:line: msg" lines of d joined by "|". */
static const char *
diags(const struct pg_diags *d)
{
	static char buf[4096];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n && o < sizeof buf; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s:%d: %s", i ? "|" : "",
				      d->v[i].file, d->v[i].line, d->v[i].msg);
	return buf;
}

static const char good[] =
	"sms = (\n"
	"  { name = \"kannel\"; kind = \"kannel\";\n"
	"    url = \"http://127.0.0.1:13013/cgi-bin/sendsms\";\n"
	"    username = \"pg\"; password = \"pw\"; from = \"5550000\";\n"
	"    inbound_token = \"0123456789abcdef-x\"; smsc = \"FAKE\"; },\n"
	"  { name = \"twilio\"; kind = \"twilio\"; account_sid = \"AC0123\";\n"
	"    auth_token = \"tok\"; messaging_service_sid = \"MG1\"; rate = 0.5;\n"
	"    max_segments = 5; timeout = 5; connect_timeout = 2; default = true; },\n"
	"  { name = \"generic\"; kind = \"http\"; url = \"https://sms.example/{{to}}\";\n"
	"    method = \"PUT\"; headers = [ \"Content-Type: application/json\", \"X-K: v\" ];\n"
	"    body = \"{\\\"t\\\":\\\"{{text}}\\\"}\"; escape = \"json\"; success = \"^OK\"; }\n"
	");\n";

static void
test_good(void **st)
{
	struct pg_diags d;
	struct sms_config *c;
	const struct sms_provider *p;

	(void)st;
	assert_int_equal(parse(good, &d, &c), PG_OK);
	assert_int_equal(d.n, 0);
	assert_int_equal(c->n, 3);
	p = sms_provider_find(c, "kannel");
	assert_int_equal(p->kind, SMS_KANNEL);
	assert_string_equal(p->username, "pg");
	assert_string_equal(p->password, "pw");
	assert_string_equal(p->from, "5550000");
	assert_int_equal(p->dlr_mask, 31);
	assert_true(p->rate == 10.0);
	assert_int_equal(p->timeout_s, 20);
	assert_int_equal(p->connect_timeout_s, 10);
	assert_int_equal(p->max_segments, 3);
	assert_string_equal(p->smsc, "FAKE");
	assert_int_equal(p->line, 2);
	p = sms_provider_find(c, NULL);            /* default = true */
	assert_string_equal(p->name, "twilio");
	assert_string_equal(p->url, "https://api.twilio.com");
	assert_true(p->rate == 0.5);
	assert_int_equal(p->max_segments, 5);
	assert_int_equal(p->timeout_s, 5);
	assert_string_equal(p->messaging_service_sid, "MG1");
	p = sms_provider_find(c, "generic");
	assert_string_equal(p->method, "PUT");
	assert_int_equal(p->n_headers, 2);
	assert_string_equal(p->headers[1], "X-K: v");
	assert_int_equal(p->escape, SMS_ESC_JSON);
	assert_true(p->has_regex);
	assert_null(sms_provider_find(c, "nope"));
	sms_config_free(c);
	pg_diags_free(&d);

	/* without "default", the first one; no section at all is fine */
	assert_int_equal(parse("sms = ( { name = \"a\"; kind = \"http\"; url = \"http://x/\"; },"
			       " { name = \"b\"; kind = \"http\"; url = \"http://y/\"; "
			       "success = \"20x\"; method = \"GET\"; } );", &d, &c), PG_OK);
	assert_string_equal(sms_provider_find(c, NULL)->name, "a");
	assert_string_equal(sms_provider_find(c, NULL)->method, "POST");
	assert_int_equal(sms_provider_find(c, "b")->ok_lo, 200);
	assert_int_equal(sms_provider_find(c, "b")->ok_hi, 209);
	sms_config_free(c);
	pg_diags_free(&d);
	assert_int_equal(parse("port = 1;", &d, &c), PG_OK);
	assert_null(c);
	pg_diags_free(&d);
}

static void
test_errors(void **st)
{
	struct pg_diags d;
	struct sms_config *c;

	(void)st;
	assert_int_equal(parse(
		"sms = (\n"
		"  { name = \"k\"; kind = \"kannel\"; url = \"http://k/\";\n"     /* 2 */
		"    usrname = \"pg\"; password = 5; dlr_mask = 40; },\n"          /* 3 */
		"  { name = \"k\"; kind = \"twilio\"; account_sid = \"AC1\";\n"    /* 4 */
		"    auth_token = \"t\"; dlr_mask = 3; rate = -1; },\n"            /* 5 */
		"  { name = \"h\"; kind = \"http\"; url = \"ftp://x/{{phone}}\";\n" /* 6 */
		"    method = \"DELETE\"; headers = [ \"no colon\" ];\n"           /* 7 */
		"    success = \"(\"; max_segments = 11; default = true; },\n"     /* 8 */
		"  { name = \"bad name!\"; kind = \"carrier-pigeon\"; default = true; },\n" /* 9 */
		"  { name = \"t2\"; kind = \"twilio\"; account_sid = \"AC1\"; auth_token = \"t\";\n"
		"    from = \"+1555\"; messaging_service_sid = \"MG1\"; },\n"      /* 11 */
		"  { name = \"g\"; kind = \"http\"; url = \"http://g/\"; method = \"GET\";\n"
		"    body = \"x\"; inbound_token = \"short\"; },\n"                /* 13 */
		"  \"not a group\"\n"                                              /* 14 */
		");\n", &d, &c), PG_ERR_CONFIG);
	assert_null(c);
	assert_string_equal(diags(&d),
		"pagegate.conf:3: unknown sms provider setting \"usrname\"|"
		"pagegate.conf:3: \"password\" must be a string in quotes|"
		"pagegate.conf:2: sms provider needs \"username\"|"
		"pagegate.conf:3: \"dlr_mask\" must be between 0 and 31|"
		"pagegate.conf:5: \"dlr_mask\" is not a setting of twilio providers|"
		"pagegate.conf:5: \"rate\" must be between 0 (no limit) and 10000 messages per second|"
		"pagegate.conf:4: twilio provider needs \"from\" or \"messaging_service_sid\"|"
		"pagegate.conf:4: sms provider \"k\" is already defined at line 2|"
		"pagegate.conf:6: \"url\" must start with http:// or https://|"
		"pagegate.conf:8: \"max_segments\" must be between 1 and 10|"
		"pagegate.conf:7: \"method\" must be \"GET\", \"POST\" or \"PUT\"|"
		"pagegate.conf:6: url: unknown variable \"phone\" (known: to, from, text, "
		"delivery_id, status_url, coding, segments)|"
		"pagegate.conf:7: header 1 must be \"Name: value\" on one line|"
		"pagegate.conf:8: \"success\" is neither a status (\"2xx\", \"200\") nor a valid "
		"regular expression: Unmatched ( or \\(|"
		"pagegate.conf:9: unknown sms provider kind \"carrier-pigeon\" (kannel, twilio, http)|"
		"pagegate.conf:9: provider name must be 1 to 63 characters of A-Z a-z 0-9 - . _|"
		"pagegate.conf:9: only one sms provider can be the default|"
		"pagegate.conf:11: give \"from\" or \"messaging_service_sid\", not both|"
		"pagegate.conf:13: \"inbound_token\" is not a setting of http providers|"
		"pagegate.conf:13: a GET request has no body|"
		/* libconfig dates a scalar list element at the token after it */
		"pagegate.conf:15: each sms provider must be a group { ... }");
	pg_diags_free(&d);

	assert_int_equal(parse("sms = { name = \"x\"; };", &d, &c), PG_ERR_CONFIG);
	assert_string_equal(diags(&d),
		"pagegate.conf:1: \"sms\" must be a list of providers ( { ... }, ... )");
	pg_diags_free(&d);
	assert_int_equal(parse("sms = ( { name = \"k\"; kind = \"kannel\"; url = \"http://k/\";"
			       " username = \"u\"; password = \"p\"; inbound_token = \"short\";"
			       " smsc = \"a b\"; } );", &d, &c), PG_ERR_CONFIG);
	assert_string_equal(diags(&d),
		"pagegate.conf:1: \"inbound_token\" must be 16 to 128 characters of A-Z a-z 0-9 - . _ ~|"
		"pagegate.conf:1: \"smsc\" must be a Kannel smsc-id (A-Z a-z 0-9 - . _)");
	pg_diags_free(&d);
}

static void
test_devices(void **st)
{
	struct pg_diags d;
	struct sms_config *c;
	struct pg_kv o3[] = { { "max_segments", "3" } };
	struct pg_kv bad[] = { { "max_segments", "11" }, { "flash", "true" },
		{ "max_segments", "x" } };
	struct pg_device dev = { .channel = PG_CH_SMS, .to = "+15555550111",
		.gateway = "kannel", .opts = o3, .n_opts = 1, .line = 7 };

	(void)st;
	assert_int_equal(parse(good, &d, &c), PG_OK);
	sms_device_check(c, &dev, "acme.conf", &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(sms_max_segments(sms_provider_find(c, "kannel"), &dev), 3);
	dev.n_opts = 0;
	assert_int_equal(sms_max_segments(sms_provider_find(c, "twilio"), &dev), 5);
	assert_int_equal(sms_max_segments(NULL, NULL), 3);

	dev.to = "555-0111";
	dev.gateway = "nexmo";
	dev.opts = bad;
	dev.n_opts = 3;
	sms_device_check(c, &dev, "acme.conf", &d);
	assert_string_equal(diags(&d),
		"acme.conf:7: bad sms number \"555-0111\": expected + and 5 to 15 digits "
		"(E.164, e.g. +15555550111) or a short code of 3 to 15 digits|"
		"acme.conf:7: unknown sms gateway \"nexmo\" (known: kannel, twilio, generic)|"
		"acme.conf:7: max_segments must be a whole number from 1 to 10, not \"11\"|"
		"acme.conf:7: unknown sms device setting \"flash\" (known: max_segments)|"
		"acme.conf:7: max_segments must be a whole number from 1 to 10, not \"x\"");
	pg_diags_free(&d);
	pg_diags_init(&d);
	dev.to = NULL;
	dev.gateway = NULL;
	dev.n_opts = 0;
	sms_device_check(c, &dev, "acme.conf", &d);
	assert_string_equal(diags(&d), "acme.conf:7: sms device needs \"to\" (a phone number)");
	pg_diags_free(&d);
	sms_config_free(c);

	pg_diags_init(&d);
	dev.to = "+15555550111";
	sms_device_check(NULL, &dev, "acme.conf", &d);
	assert_string_equal(diags(&d), "acme.conf:7: sms device, but no sms provider is "
			    "configured (sms = ( { ... } ) in pagegate.conf)");
	pg_diags_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_devices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
