/*
 * test_sms_config.c - the "sms" section of pagegate.conf (every provider
 * kind, defaults, the default provider) and its diagnostics at file:line;
 * sms device checks (number, gateway, max_segments, ascii) - sms_config.c.
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

	struct pg_conf cx;

	config_init(&c);
	assert_int_equal(config_read_string(&c, text), CONFIG_TRUE);
	pg_diags_init(d);
	pg_conf_init(&cx, "pagegate.conf", d);
	e = sms_config_parse(&cx, config_root_setting(&c), &v);
	assert_true(e == PG_OK ? cx.errors == 0 : cx.errors > 0);
	pg_conf_done(&cx);
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

/* sms_device_check of dev as a device of "acme.conf". */
static void
check(const struct sms_config *c, const struct pg_device *dev, struct pg_diags *d)
{
	struct pg_conf cx;

	pg_conf_init(&cx, "acme.conf", d);
	sms_device_check(&cx, c, dev);
	pg_conf_done(&cx);
}

static const char good[] =
	"sms = (\n"
	"  { name = \"kannel\"; kind = \"kannel\";\n"
	"    url = \"http://127.0.0.1:13013/cgi-bin/sendsms\";\n"
	"    username = \"pg\"; password = \"pw\"; from = \"5550000\";\n"
	"    inbound_token = \"0123456789abcdef-x\"; smsc = \"FAKE\"; },\n"
	"  { name = \"twilio\"; kind = \"twilio\"; account_sid = \"AC0123\";\n"
	"    auth_token = \"tok\"; messaging_service_sid = \"MG1\"; rate = 0.5; ascii = true;\n"
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
	assert_false(p->ascii);
	assert_int_equal(p->line, 2);
	p = sms_provider_find(c, NULL);            /* default = true */
	assert_string_equal(p->name, "twilio");
	assert_string_equal(p->url, "https://api.twilio.com");
	assert_true(p->rate == 0.5);
	assert_int_equal(p->max_segments, 5);
	assert_int_equal(p->timeout_s, 5);
	assert_string_equal(p->messaging_service_sid, "MG1");
	assert_true(p->ascii);
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
		"    success = \"(\"; max_segments = 11; default = true; ascii = \"yes\"; },\n" /* 8 */
		"  { name = \"bad name!\"; kind = \"carrier-pigeon\"; default = true; },\n" /* 9 */
		"  { name = \"t2\"; kind = \"twilio\"; account_sid = \"AC1\"; auth_token = \"t\";\n"
		"    from = \"+1555\"; messaging_service_sid = \"MG1\"; },\n"      /* 11 */
		"  { name = \"g\"; kind = \"http\"; url = \"http://g/\"; method = \"GET\";\n"
		"    body = \"x\"; inbound_token = \"short\"; },\n"                /* 13 */
		"  \"not a group\"\n"                                              /* 14 */
		");\n", &d, &c), PG_ERR_CONFIG);
	assert_null(c);
	assert_string_equal(diags(&d),
		"pagegate.conf:3: unknown setting \"usrname\" in sms provider (did you mean \"username\"?)|"
		"pagegate.conf:3: \"password\" must be a string in quotes, not a number|"
		"pagegate.conf:3: bad dlr_mask: expected a whole number from 0 to 31|"
		"pagegate.conf:2: missing \"username\" in sms provider|"
		"pagegate.conf:5: \"dlr_mask\" is not a setting of twilio sms providers (only of kannel)|"
		"pagegate.conf:5: bad rate: expected a number from 0 to 10000|"
		"pagegate.conf:4: duplicate sms provider \"k\" (first at line 2)|"
		"pagegate.conf:4: missing \"from\" or \"messaging_service_sid\" in twilio sms provider|"
		"pagegate.conf:7: bad method \"DELETE\": expected \"GET\", \"POST\" or \"PUT\"|"
		"pagegate.conf:8: bad max_segments: expected a whole number from 1 to 10|"
		"pagegate.conf:8: \"ascii\" must be true or false, not a string|"
		"pagegate.conf:6: bad url \"ftp://x/{{phone}}\": expected http://... or https://... without spaces|"
		"pagegate.conf:6: bad url: expected a template: unknown variable \"phone\" (known: to, from, "
		"text, delivery_id, status_url, coding, segments)|"
		"pagegate.conf:7: bad header \"no colon\": expected \"Name: value\"|"
		"pagegate.conf:8: bad success \"(\": expected a status (\"2xx\", \"200\") or a regular "
		"expression: Unmatched ( or \\(|"
		"pagegate.conf:9: bad kind \"carrier-pigeon\": expected \"kannel\", \"twilio\" or \"http\"|"
		"pagegate.conf:9: bad name \"bad name!\": expected A-Z a-z 0-9 - . _|"
		"pagegate.conf:9: only one sms provider can be the default|"
		"pagegate.conf:11: set \"from\" or \"messaging_service_sid\", not both|"
		"pagegate.conf:13: \"inbound_token\" is not a setting of http sms providers (only of kannel)|"
		"pagegate.conf:13: a GET request has no body|"
		/* libconfig dates a scalar list element at the token after it */
		"pagegate.conf:15: each entry of \"sms\" must be a group { ... }, not a string");
	pg_diags_free(&d);

	assert_int_equal(parse("sms = { name = \"x\"; };", &d, &c), PG_ERR_CONFIG);
	assert_string_equal(diags(&d),
		"pagegate.conf:1: \"sms\" must be a list ( { ... }, ... ), not a group");
	pg_diags_free(&d);
	assert_int_equal(parse("sms = ( { name = \"k\"; kind = \"kannel\"; url = \"http://k/\";"
			       " username = \"u\"; password = \"p\"; inbound_token = \"short\";"
			       " smsc = \"a b\"; } );", &d, &c), PG_ERR_CONFIG);
	assert_string_equal(diags(&d),
		"pagegate.conf:1: bad inbound_token: expected 16 to 128 characters of A-Z a-z 0-9 - . _ ~|"
		"pagegate.conf:1: bad smsc \"a b\": expected a Kannel smsc-id (A-Z a-z 0-9 - . _)");
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
	check(c, &dev, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(sms_max_segments(sms_provider_find(c, "kannel"), &dev), 3);
	dev.n_opts = 0;
	assert_int_equal(sms_max_segments(sms_provider_find(c, "twilio"), &dev), 5);
	assert_int_equal(sms_max_segments(NULL, NULL), 3);

	/* ascii: the provider's or the device's, either is enough */
	{
		struct pg_kv on[] = { { "ascii", "true" } }, off[] = { { "ascii", "false" } };
		struct pg_device d2 = dev;
		const struct sms_provider *kan = sms_provider_find(c, "kannel");
		const struct sms_provider *twi = sms_provider_find(c, "twilio");

		assert_false(sms_ascii(kan, &dev));
		assert_false(sms_ascii(kan, NULL));
		assert_true(sms_ascii(twi, &dev));
		d2.opts = on;
		d2.n_opts = 1;
		check(c, &d2, &d);
		assert_int_equal(d.n, 0);
		assert_true(sms_ascii(kan, &d2));
		d2.opts = off;
		assert_false(sms_ascii(kan, &d2));
		assert_true(sms_ascii(twi, &d2));      /* the provider takes GSM-7 only */
	}

	dev.to = "555-0111";
	dev.gateway = "nexmo";
	dev.opts = bad;
	dev.n_opts = 3;
	check(c, &dev, &d);
	assert_string_equal(diags(&d),
		"acme.conf:7: bad sms number \"555-0111\": expected + and 5 to 15 digits "
		"(E.164, e.g. +15555550111) or a short code of 3 to 15 digits|"
		"acme.conf:7: unknown sms gateway \"nexmo\" (known: kannel, twilio, generic)");
	pg_diags_free(&d);
	pg_diags_init(&d);
	dev.to = "+15555550111";
	dev.gateway = "twillio";
	dev.n_opts = 0;
	check(c, &dev, &d);
	assert_string_equal(diags(&d), "acme.conf:7: unknown sms gateway \"twillio\" (did you "
			    "mean \"twilio\"?)");
	pg_diags_free(&d);
	sms_config_free(c);

	pg_diags_init(&d);
	dev.to = "+15555550111";
	check(NULL, &dev, &d);
	assert_string_equal(diags(&d), "acme.conf:7: sms device, but the daemon configuration "
			    "defines no sms provider");
	pg_diags_free(&d);
}

/* The device settings the driver declares (channel.h device_keys), as
 * the engine checks them in a client file. */
static void
test_device_keys(void **st)
{
	const struct pg_keytab t = { "sms device", sms_device_keys, NULL };
	struct pg_diags d;
	struct pg_conf cx;
	config_t cf;
	char why[200];

	(void)st;
	assert_true(pg_conf_table_check(&t, why, sizeof why));
	config_init(&cf);
	assert_int_equal(config_read_string(&cf,
		"a = { max_segments = 11; flash = true; };\n"
		"b = { max_segments = \"x\"; max_segment = 2; };\n"
		"c = { max_segments = 4; ascii = true; };\n"
		"d = { ascii = 1; };\n"), CONFIG_TRUE);
	pg_diags_init(&d);
	pg_conf_init(&cx, "acme.conf", &d);
	pg_conf_apply(&cx, config_lookup(&cf, "a"), &t, NULL);
	pg_conf_apply(&cx, config_lookup(&cf, "b"), &t, NULL);
	pg_conf_apply(&cx, config_lookup(&cf, "c"), &t, NULL);
	pg_conf_apply(&cx, config_lookup(&cf, "d"), &t, NULL);
	assert_string_equal(diags(&d),
		"acme.conf:1: bad max_segments: expected a whole number from 1 to 10|"
		"acme.conf:1: unknown setting \"flash\" in sms device|"
		"acme.conf:2: \"max_segments\" must be a whole number, not a string|"
		"acme.conf:2: unknown setting \"max_segment\" in sms device (did you mean "
		"\"max_segments\"?)|"
		"acme.conf:4: \"ascii\" must be true or false, not a number");
	assert_non_null(pg_conf_member(config_lookup(&cf, "c"), &t, 0, "max_segments"));
	assert_non_null(pg_conf_member(config_lookup(&cf, "c"), &t, 0, "ascii"));
	assert_null(pg_conf_member(config_lookup(&cf, "a"), &t, 0, "max_segments"));
	pg_conf_done(&cx);
	pg_diags_free(&d);
	config_destroy(&cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_device_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
