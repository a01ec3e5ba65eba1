/*
 * test_fax_config.c - the "fax" section of pagegate.conf with the shared
 * "sip" list of trunks, and the check of fax devices: a full
 * configuration with both gateway kinds and the older form, the
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
	struct pg_conf cx;
	config_t cf;
	pg_err e;
	void *c = NULL;

	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE)
		fail_msg("libconfig: line %d: %s", config_error_line(&cf), config_error_text(&cf));
	pg_diags_init(d);
	pg_conf_init(&cx, "pagegate.conf", d);
	e = fax_config_parse(&cx, config_root_setting(&cf), &c);
	/* a failed parse reports why */
	assert_true(e == PG_OK ? cx.errors == 0 : cx.errors > 0);
	pg_conf_done(&cx);
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

/* The gateway called name: its trunk, else its HylaFAX server. */
static const struct pg_sip_gw *
trunk(const struct fax_cfg *c, const char *name)
{
	const struct pg_sip_gw *t;
	const struct fax_gateway *h;

	return fax_gateway_find(c, name, &t, &h) ? t : NULL;
}

static const struct fax_gateway *
hylafax(const struct fax_cfg *c, const char *name)
{
	const struct pg_sip_gw *t;
	const struct fax_gateway *h;

	return fax_gateway_find(c, name, &t, &h) ? h : NULL;
}

static void
test_full(void **state)
{
	(void)state;
	struct pg_diags d;
	struct fax_cfg *c;
	const char *text =
		"sip = (\n"
		"  { name = \"trunk\"; proxy = \"sip:127.0.0.1:5070\";\n"
		"    user = \"pg\"; password = \"secret\"; from = \"sip:fax@pagegate.test\";\n"
		"    t38 = false; watchdog = \"2m\"; ring = 20; local_ip = \"127.0.0.1\";\n"
		"    ident = \"+1 555 555 0000\"; },\n"
		"  { name = \"plain\"; proxy = \"sip:pbx.example.com\";\n"
		"    from = \"sip:fax@example.com\"; }\n"
		");\n"
		"fax = (\n"
		"  { name = \"office-hylafax\"; kind = \"hylafax\"; host = \"fax.example.com\";\n"
		"    port = 14559; user = \"gw\"; timeout = \"10s\"; poll = \"15s\";\n"
		"    max_dials = 5; max_tries = 2; },\n"
		"  { name = \"old\"; kind = \"sip\"; proxy = \"sip:old.example.com\";\n"
		"    from = \"sip:fax@example.com\"; }\n"
		");\n";

	assert_int_equal(parse(text, &d, &c), PG_OK);
	char got[1024];
	diags(&d, got, sizeof got);
	assert_string_equal(got, "13: warning: fax gateway \"old\" of kind \"sip\": move it to "
			    "the top-level sip list, where voice calls can use it too|");
	assert_int_equal(c->n, 2);
	assert_int_equal(c->trunks->n, 2);
	/* the default: the first of the fax list */
	assert_ptr_equal(hylafax(c, NULL), &c->gw[0]);
	const struct pg_sip_gw *g = trunk(c, "trunk");
	assert_string_equal(g->name, "trunk");
	assert_string_equal(g->proxy, "sip:127.0.0.1:5070");
	assert_string_equal(g->user, "pg");
	assert_string_equal(g->password, "secret");
	assert_string_equal(g->from, "sip:fax@pagegate.test");
	assert_false(g->t38);
	assert_int_equal(g->watchdog_s, 120);
	assert_int_equal(g->ring_s, 20);
	assert_string_equal(g->local_ip, "127.0.0.1");
	assert_string_equal(g->ident, "+1 555 555 0000");
	const struct fax_gateway *h = hylafax(c, "office-hylafax");
	assert_non_null(h);
	assert_int_equal(h->kind, FAX_GW_HYLAFAX);
	assert_string_equal(h->hyla.host, "fax.example.com");
	assert_int_equal(h->hyla.port, 14559);
	assert_string_equal(h->hyla.user, "gw");
	assert_null(h->hyla.password);
	assert_int_equal(h->hyla.timeout_s, 10);
	assert_int_equal(h->poll_s, 15);
	assert_int_equal(h->hyla.max_dials, 5);
	assert_int_equal(h->hyla.max_tries, 2);
	g = trunk(c, "plain");      /* defaults */
	assert_true(g->t38);
	assert_int_equal(g->watchdog_s, 300);
	assert_int_equal(g->ring_s, 60);
	assert_null(g->user);
	assert_null(g->local_ip);
	g = trunk(c, "old");        /* the older form is a trunk too */
	assert_non_null(g);
	assert_string_equal(g->proxy, "sip:old.example.com");
	assert_null(trunk(c, "nope"));
	assert_null(hylafax(c, "nope"));
	fax_config_free(c);
	pg_diags_free(&d);

	/* only trunks: the first is the default */
	assert_int_equal(parse("sip = ( { name = \"t\"; proxy = \"sip:h\"; from = \"sip:a@b\"; } );\n",
			       &d, &c), PG_OK);
	assert_string_equal(trunk(c, NULL)->name, "t");
	fax_config_free(c);
	pg_diags_free(&d);

	/* no section: no gateways, no error */
	assert_int_equal(parse("port = 1;\n", &d, &c), PG_OK);
	assert_int_equal(c->n, 0);
	assert_null(trunk(c, NULL));
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
		"sip = (\n"
		"  { name = \"a\"; proxy = \"sip:h\"; from = \"sip:f@x\";\n"
		"    proxi = \"x\"; t38 = \"yes\"; host = \"h\"; },\n"
		"  { name = \"a\"; proxy = \"http://h\"; from = \"fax\";\n"
		"    user = \"u\"; local_ip = \"::1\"; ident = \"ACME\"; watchdog = \"1s\"; }\n"
		");\n"
		"fax = (\n"
		"  { kind = \"hylafax\"; port = 70000; },\n"
		"  { name = \"b c\"; kind = \"modem\"; },\n"
		"  { name = \"a\"; kind = \"hylafax\"; host = \"h\"; user = \"u\"; },\n"
		"  \"not a group\"\n"
		");\n";

	assert_int_equal(parse(text, &d, &c), PG_ERR_CONFIG);
	assert_null(c);
	diags(&d, got, sizeof got);
	assert_string_equal(got,
		"3: unknown setting \"proxi\" in sip gateway (did you mean \"proxy\"?)|"
		"3: \"t38\" must be true or false, not a string|"
		"3: unknown setting \"host\" in sip gateway|"
		"5: bad watchdog: expected a duration from 30s to 1h such as \"30s\", \"5m\", \"2h\", \"1d\"|"
		"4: bad proxy \"http://h\": expected \"sip:host[:port]\"|"
		"4: bad from \"fax\": expected \"sip:user@domain\"|"
		"4: set both \"user\" and \"password\", or neither|"
		"5: bad local_ip \"::1\": expected an IPv4 address|"
		"5: bad ident \"ACME\": expected digits, '+' and spaces (the fax station id)|"
		"4: duplicate sip gateway \"a\" (first at line 2)|"
		"8: bad port: expected a whole number from 1 to 65535|"
		"8: missing \"name\" in fax gateway|"
		"8: missing \"user\" in fax gateway (letters, digits, '.', '-', '_', '@')|"
		"8: missing \"host\" in fax gateway (a name or address)|"
		"9: bad kind \"modem\": expected \"sip\" or \"hylafax\"|"
		"9: bad name \"b c\": expected letters, digits, '.', '-' and '_'|"
		"12: each entry of \"fax\" must be a group { ... }, not a string|");
	pg_diags_free(&d);

	/* one name across the sip list and the fax list */
	assert_int_equal(parse("sip = ( { name = \"a\"; proxy = \"sip:h\"; from = \"sip:f@x\"; } );\n"
			       "fax = ( { name = \"a\"; kind = \"hylafax\"; host = \"h\"; user = \"u\"; } );\n",
			       &d, &c), PG_ERR_CONFIG);
	diags(&d, got, sizeof got);
	assert_string_equal(got, "2: duplicate fax gateway \"a\" (first at line 1)|");
	pg_diags_free(&d);

	assert_int_equal(parse("fax = { name = \"x\"; };\n", &d, &c), PG_ERR_CONFIG);
	diags(&d, got, sizeof got);
	assert_string_equal(got, "1: \"fax\" must be a list ( { ... }, ... ), not a group|");
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
	struct pg_conf cx;
	char got[1024];

	pg_diags_init(&d);
	pg_conf_init(&cx, "clients/x.conf", &d);
	fax_device_check(&cx, c, &dev);
	pg_conf_done(&cx);
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

	assert_int_equal(parse("sip = ( { name = \"trunk\"; proxy = \"sip:h\"; "
			       "from = \"sip:a@b\"; } );", &d, &c), PG_OK);
	pg_diags_free(&d);
	assert_int_equal(parse("x = 1;", &d, &none), PG_OK);
	pg_diags_free(&d);

	check_dev(c, "+15555550100", NULL, NULL, NULL, "");
	check_dev(c, "5550100", "trunk", "resolution", "standard", "");
	check_dev(c, "5550100", NULL, "paper", "a4", "");
	check_dev(c, "5550100", NULL, "coding", "mmr", "");
	check_dev(c, "+1 555 0100", NULL, NULL, NULL,
		  "12: bad fax number \"+1 555 0100\": expected an optional '+' and 3 to 20 digits|");
	check_dev(c, NULL, NULL, NULL, NULL, "");     /* the loader reports a missing "to" */
	check_dev(c, "12", NULL, NULL, NULL,
		  "12: bad fax number \"12\": expected an optional '+' and 3 to 20 digits|");
	check_dev(c, "5550100", "other", NULL, NULL,
		  "12: unknown fax gateway \"other\" (known: trunk)|");
	check_dev(c, "5550100", "trnk", NULL, NULL,
		  "12: unknown fax gateway \"trnk\" (did you mean \"trunk\"?)|");
	check_dev(none, "5550100", NULL, NULL, NULL,
		  "12: fax device, but the daemon configuration defines no fax gateway|");
	fax_config_free(c);
	fax_config_free(none);

	assert_true(pg_sip_number_ok("+15555550100"));
	assert_true(pg_sip_number_ok("911"));
	assert_false(pg_sip_number_ok("+"));
	assert_false(pg_sip_number_ok("555-0100"));
	assert_false(pg_sip_number_ok("123456789012345678901"));
}

/* The device settings the driver declares (channel.h device_keys), as
 * the engine checks them in a client file. */
static void
test_device_keys(void **state)
{
	const struct pg_keytab t = { "fax device", fax_device_keys, NULL };
	struct pg_diags d;
	struct pg_conf cx;
	config_t cf;
	char got[1024], why[200];

	(void)state;
	assert_true(pg_conf_table_check(&t, why, sizeof why));
	config_init(&cf);
	assert_int_equal(config_read_string(&cf,
		"d = { resolution = \"superfine\"; paper = \"a4\";\n"
		"      coding = \"jbig\"; speed = \"fast\"; papr = \"letter\"; };\n"),
		CONFIG_TRUE);
	pg_diags_init(&d);
	pg_conf_init(&cx, "clients/x.conf", &d);
	pg_conf_apply(&cx, config_lookup(&cf, "d"), &t, NULL);
	diags(&d, got, sizeof got);
	assert_string_equal(got,
		"1: bad resolution \"superfine\": expected \"fine\" or \"standard\"|"
		"2: bad coding \"jbig\": expected \"mh\", \"mr\" or \"mmr\"|"
		"2: unknown setting \"speed\" in fax device|"
		"2: unknown setting \"papr\" in fax device (did you mean \"paper\"?)|");
	assert_int_equal(cx.errors, 4);
	pg_conf_done(&cx);
	pg_diags_free(&d);
	config_destroy(&cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_mistakes),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_device_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
