/*
 * test_fax_config.c - the "fax" section of pagegate.conf and the check
 * of fax devices: a full configuration with both gateway kinds, the
 * defaults, and every mistake reported with its line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../src/chan/fax/fax_priv.h"

/* Parses text's "fax" setting; returns the error and fills d. */
static pg_err
parse(const char *text, struct pg_diags *d, struct fax_cfg **out)
{
	config_t cf;
	pg_err e;
	void *c = NULL;

	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE)
		fail_msg("libconfig: line %d: %s", config_error_line(&cf), config_error_text(&cf));
	pg_diags_init(d);
	e = fax_config_parse(config_lookup(&cf, "fax"), "pagegate.conf", d, &c);
	config_destroy(&cf);
	*out = c;
	return e;
}

/* The diagnostics as "line: msg|" lines. */
static void
diags(const struct pg_diags *d, char *buf, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < d->n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, "%d: %s|", d->v[i].line, d->v[i].msg);
	}
}

static void
test_full(void **state)
{
	(void)state;
	struct pg_diags d;
	struct fax_cfg *c;
	const char *text =
		"fax = (\n"
		"  { name = \"trunk\"; kind = \"sip\"; proxy = \"sip:127.0.0.1:5070\";\n"
		"    user = \"pg\"; password = \"secret\"; from = \"sip:fax@pagegate.test\";\n"
		"    t38 = false; watchdog = \"2m\"; ring = 20; local_ip = \"127.0.0.1\";\n"
		"    ident = \"+1 555 555 0000\"; },\n"
		"  { name = \"office-hylafax\"; kind = \"hylafax\"; host = \"fax.example.com\";\n"
		"    port = 14559; user = \"gw\"; timeout = \"10s\"; poll = \"15s\";\n"
		"    max_dials = 5; max_tries = 2; },\n"
		"  { name = \"plain\"; kind = \"sip\"; proxy = \"sip:pbx.example.com\";\n"
		"    from = \"sip:fax@example.com\"; }\n"
		");\n";

	assert_int_equal(parse(text, &d, &c), PG_OK);
	assert_int_equal(d.n, 0);
	assert_int_equal(c->n, 3);
	const struct fax_gateway *g = fax_gateway_find(c, NULL);
	assert_string_equal(g->name, "trunk");
	assert_int_equal(g->kind, FAX_GW_SIP);
	assert_string_equal(g->sip.proxy, "sip:127.0.0.1:5070");
	assert_string_equal(g->sip.user, "pg");
	assert_string_equal(g->sip.password, "secret");
	assert_string_equal(g->sip.from, "sip:fax@pagegate.test");
	assert_false(g->sip.t38);
	assert_int_equal(g->sip.watchdog_ms, 120000);
	assert_int_equal(g->sip.ring_s, 20);
	assert_string_equal(g->sip.local_ip, "127.0.0.1");
	assert_string_equal(g->sip.ident, "+1 555 555 0000");
	assert_string_equal(g->sip.name, "trunk");
	g = fax_gateway_find(c, "office-hylafax");
	assert_non_null(g);
	assert_int_equal(g->kind, FAX_GW_HYLAFAX);
	assert_string_equal(g->hyla.host, "fax.example.com");
	assert_int_equal(g->hyla.port, 14559);
	assert_string_equal(g->hyla.user, "gw");
	assert_null(g->hyla.password);
	assert_int_equal(g->hyla.timeout_s, 10);
	assert_int_equal(g->poll_s, 15);
	assert_int_equal(g->hyla.max_dials, 5);
	assert_int_equal(g->hyla.max_tries, 2);
	g = fax_gateway_find(c, "plain");      /* defaults */
	assert_true(g->sip.t38);
	assert_int_equal(g->sip.watchdog_ms, 300000);
	assert_int_equal(g->sip.ring_s, 60);
	assert_null(g->sip.user);
	assert_null(g->sip.local_ip);
	assert_null(fax_gateway_find(c, "nope"));
	fax_config_free(c);
	pg_diags_free(&d);

	/* no section: no gateways, no error */
	assert_int_equal(parse("port = 1;\n", &d, &c), PG_OK);
	assert_int_equal(c->n, 0);
	assert_null(fax_gateway_find(c, NULL));
	fax_config_free(c);
	pg_diags_free(&d);
}

static void
test_mistakes(void **state)
{
	(void)state;
	struct pg_diags d;
	struct fax_cfg *c = (void *)1;
	char got[4096];
	const char *text =
		"fax = (\n"
		"  { name = \"a\"; kind = \"sip\"; proxy = \"sip:h\"; from = \"sip:f@x\";\n"
		"    proxi = \"x\"; t38 = \"yes\"; host = \"h\"; },\n"
		"  { name = \"a\"; kind = \"sip\"; proxy = \"http://h\"; from = \"fax\";\n"
		"    user = \"u\"; local_ip = \"::1\"; ident = \"ACME\"; watchdog = \"1s\"; },\n"
		"  { kind = \"hylafax\"; port = 70000; },\n"
		"  { name = \"b c\"; kind = \"modem\"; },\n"
		"  \"not a group\"\n"
		");\n";

	assert_int_equal(parse(text, &d, &c), PG_ERR_CONFIG);
	assert_null(c);
	diags(&d, got, sizeof got);
	assert_string_equal(got,
		"3: fax: unknown gateway key \"proxi\"|"
		"3: fax: \"t38\" must be true or false|"
		"3: fax: \"host\" is not a key of sip gateways|"
		"4: fax: a second gateway named \"a\" (first at line 2)|"
		"4: fax: sip gateway \"a\" needs proxy = \"sip:host[:port]\"|"
		"4: fax: sip gateway \"a\" needs from = \"sip:user@domain\"|"
		"4: fax: \"user\" and \"password\" go together|"
		"5: fax: \"local_ip\" must be an IPv4 address|"
		"5: fax: \"ident\" (the fax station id) may use digits, '+' and spaces|"
		"5: fax: \"watchdog\" must be between 30 and 3600 seconds|"
		"6: fax: every fax gateway needs a \"name\"|"
		"6: fax: hylafax gateway \"?\" needs host = \"name or address\"|"
		"6: fax: hylafax gateway \"?\" needs a \"user\" (letters, digits, '.', '-', '_', '@')|"
		"6: fax: \"port\" must be between 1 and 65535|"
		"7: fax: gateway name \"b c\" may use letters, digits, '.', '-' and '_'|"
		"7: fax: gateway \"kind\" must be \"sip\" or \"hylafax\"|"
		"9: fax: each fax gateway is a group { name = ...; kind = ...; }|");
	pg_diags_free(&d);

	assert_int_equal(parse("fax = { name = \"x\"; };\n", &d, &c), PG_ERR_CONFIG);
	diags(&d, got, sizeof got);
	assert_string_equal(got, "1: fax: \"fax\" must be a list of gateways: "
			    "fax = ( { ... }, ... );|");
	pg_diags_free(&d);
}

static void
check_dev(const struct fax_cfg *c, const char *to, const char *gw, const char *opt,
	  const char *val, const char *want)
{
	struct pg_kv kv = { (char *)opt, (char *)val };
	struct pg_device dev = {
		.channel = PG_CH_FAX, .to = (char *)to, .gateway = (char *)gw,
		.opts = opt ? &kv : NULL, .n_opts = opt ? 1 : 0, .line = 12,
	};
	struct pg_diags d;
	char got[1024];

	pg_diags_init(&d);
	fax_device_check(c, &dev, "clients/x.conf", &d);
	diags(&d, got, sizeof got);
	assert_string_equal(got, want);
	pg_diags_free(&d);
}

static void
test_devices(void **state)
{
	(void)state;
	struct pg_diags d;
	struct fax_cfg *c, *none;

	assert_int_equal(parse("fax = ( { name = \"t\"; kind = \"sip\"; proxy = \"sip:h\"; "
			       "from = \"sip:a@b\"; } );", &d, &c), PG_OK);
	pg_diags_free(&d);
	assert_int_equal(parse("x = 1;", &d, &none), PG_OK);
	pg_diags_free(&d);

	check_dev(c, "+15555550100", NULL, NULL, NULL, "");
	check_dev(c, "5550100", "t", "resolution", "standard", "");
	check_dev(c, "5550100", NULL, "paper", "a4", "");
	check_dev(c, "5550100", NULL, "coding", "mmr", "");
	check_dev(c, "+1 555 0100", NULL, NULL, NULL,
		  "12: fax: \"to\" must be a fax number: an optional '+' and 3 to 20 digits|");
	check_dev(c, NULL, NULL, NULL, NULL,
		  "12: fax: \"to\" must be a fax number: an optional '+' and 3 to 20 digits|");
	check_dev(c, "12", NULL, NULL, NULL,
		  "12: fax: \"to\" must be a fax number: an optional '+' and 3 to 20 digits|");
	check_dev(c, "5550100", "other", NULL, NULL,
		  "12: fax: no fax gateway named \"other\" in the daemon configuration|");
	check_dev(none, "5550100", NULL, NULL, NULL,
		  "12: fax: no fax gateway is configured (a \"fax\" list in the daemon "
		  "configuration)|");
	check_dev(c, "5550100", NULL, "resolution", "superfine",
		  "12: fax: resolution must be \"fine\" or \"standard\"|");
	check_dev(c, "5550100", NULL, "coding", "jbig",
		  "12: fax: coding must be \"mh\", \"mr\" or \"mmr\"|");
	check_dev(c, "5550100", NULL, "speed", "fast",
		  "12: fax: unknown device option \"speed\" (resolution, paper, coding)|");
	fax_config_free(c);
	fax_config_free(none);

	assert_true(fax_number_ok("+15555550100"));
	assert_true(fax_number_ok("911"));
	assert_false(fax_number_ok("+"));
	assert_false(fax_number_ok("555-0100"));
	assert_false(fax_number_ok("123456789012345678901"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_mistakes),
		cmocka_unit_test(test_devices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
