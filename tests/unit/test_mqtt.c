/*
 * test_mqtt.c - the pure parts of the mqtt channel: topic templates and
 * their expansion, the ack subscription filter, ack payloads, the page
 * expiry rule, the "mqtt" section of pagegate.conf and device checks.
 * No network; the one file (a CA for ca_file) lives under mkdtemp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "../../src/chan/mqtt/mqtt_priv.h"

/* ---- topics ---- */

static void
topic_templates(void **ts)
{
	char err[200], big[MQTT_TOPIC_MAX + 2];
	static const char *const good[] = {
		"pages/{client}/{contact}", "acme/jane", "a", "x/{client}-{contact}/y",
		"h\xc3\xb4pital/{contact}", "{client}",
	};
	static const struct { const char *t, *why; } bad[] = {
		{ "", "the topic is empty" },
		{ "pages/+/x", "wildcard '+' in a topic to publish to" },
		{ "pages/#", "wildcard '#' in a topic to publish to" },
		{ "/pages", "the topic starts with '/' (empty level)" },
		{ "pages/", "the topic ends with '/' (empty level)" },
		{ "pages//x", "empty level (\"//\") in the topic" },
		{ "$SYS/x", "topics starting with '$' are reserved for the broker" },
		{ "pages/{user}", "unknown placeholder at \"{user}\" (only {client} and {contact})" },
		{ "pages/{client", "unknown placeholder at \"{client\" (only {client} and {contact})" },
		{ "pages/x}", "lone '}' in the topic" },
		{ "pages/\tx", "the topic contains a control character" },
		{ "pages/\xc3", "the topic is not valid UTF-8" },
	};
	size_t i;

	(void)ts;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(mqtt_topic_check(good[i], err, sizeof err), PG_OK);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(mqtt_topic_check(bad[i].t, err, sizeof err), PG_ERR_INVAL);
		assert_string_equal(err, bad[i].why);
	}
	assert_int_equal(mqtt_topic_check(NULL, err, sizeof err), PG_ERR_INVAL);
	memset(big, 'a', MQTT_TOPIC_MAX);
	big[MQTT_TOPIC_MAX] = '\0';
	assert_int_equal(mqtt_topic_check(big, err, sizeof err), PG_OK);
	big[MQTT_TOPIC_MAX] = 'a';
	big[MQTT_TOPIC_MAX + 1] = '\0';
	assert_int_equal(mqtt_topic_check(big, err, sizeof err), PG_ERR_INVAL);
	assert_string_equal(err, "the topic is longer than 1024 bytes");
}

static void
topic_expansion(void **ts)
{
	char out[MQTT_TOPIC_MAX + 1], small[12], err[200], tmpl[MQTT_TOPIC_MAX + 1];

	(void)ts;
	assert_int_equal(mqtt_topic_expand("pages/{client}/{contact}", "acme-hvac", "jane",
					   out, sizeof out, err, sizeof err), PG_OK);
	assert_string_equal(out, "pages/acme-hvac/jane");
	assert_int_equal(mqtt_topic_expand("acme/jane", "c", "d", out, sizeof out,
					   err, sizeof err), PG_OK);
	assert_string_equal(out, "acme/jane");
	assert_int_equal(mqtt_topic_expand("{contact}@{client}/{contact}", "c1", "d_2",
					   out, sizeof out, err, sizeof err), PG_OK);
	assert_string_equal(out, "d_2@c1/d_2");

	/* values may not add levels or wildcards, nor be empty */
	assert_int_equal(mqtt_topic_expand("p/{client}/{contact}", "a/b", "j", out, sizeof out,
					   err, sizeof err), PG_ERR_INVAL);
	assert_string_equal(err, "the client id \"a/b\" contains '/', '+', '#' or a brace");
	assert_string_equal(out, "");
	assert_int_equal(mqtt_topic_expand("p/{client}/{contact}", "a", "#", out, sizeof out,
					   err, sizeof err), PG_ERR_INVAL);
	assert_int_equal(mqtt_topic_expand("p/{client}/{contact}", "a", "", out, sizeof out,
					   err, sizeof err), PG_ERR_INVAL);
	assert_string_equal(err, "the contact id is empty");
	assert_int_equal(mqtt_topic_expand("p/{client}", NULL, "x", out, sizeof out,
					   err, sizeof err), PG_ERR_INVAL);
	/* a bad template is refused before expansion */
	assert_int_equal(mqtt_topic_expand("p/+/{client}", "a", "b", out, sizeof out,
					   err, sizeof err), PG_ERR_INVAL);
	assert_string_equal(err, "wildcard '+' in a topic to publish to");

	/* bounds: the caller's buffer and MQTT_TOPIC_MAX */
	assert_int_equal(mqtt_topic_expand("p/{client}", "abcdefghij", "x", small, sizeof small,
					   err, sizeof err), PG_ERR_TOOBIG);
	assert_string_equal(err, "the expanded topic is longer than 11 bytes");
	assert_string_equal(small, "");
	assert_int_equal(mqtt_topic_expand("p/{client}", "abcdefghi", "x", small, sizeof small,
					   err, sizeof err), PG_OK);
	assert_string_equal(small, "p/abcdefghi");
	memset(tmpl, 'a', MQTT_TOPIC_MAX - 9);
	strcpy(tmpl + MQTT_TOPIC_MAX - 9, "/{client}");
	assert_int_equal(mqtt_topic_expand(tmpl, "123456789", "x", out, sizeof out,
					   err, sizeof err), PG_ERR_TOOBIG);
	assert_string_equal(err, "the expanded topic is longer than 1024 bytes");
	assert_int_equal(mqtt_topic_expand(tmpl, "12345678", "x", out, sizeof out,
					   err, sizeof err), PG_OK);
	assert_int_equal(strlen(out), MQTT_TOPIC_MAX);
}

static void
filters(void **ts)
{
	char err[200];
	static const char *const good[] = {
		"pages/+/+/ack", "#", "+", "a/#", "+/+", "$share/g/pages/+/+/ack", "a/b",
	};
	static const struct { const char *f, *why; } bad[] = {
		{ "", "the topic filter is empty" },
		{ "a/#/b", "'#' must be the last level of the filter" },
		{ "a+/b", "'+' must be a whole level of the filter" },
		{ "a/b+", "'+' must be a whole level of the filter" },
		{ "a/#b", "'#' must be a whole level of the filter" },
		{ "a/\x01", "the topic filter contains a control character" },
	};
	size_t i;

	(void)ts;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(mqtt_filter_check(good[i], err, sizeof err), PG_OK);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(mqtt_filter_check(bad[i].f, err, sizeof err), PG_ERR_INVAL);
		assert_string_equal(err, bad[i].why);
	}
}

/* ---- ack payloads ---- */

static pg_err
ack(const char *payload, char ref[PG_ACK_REF_MAX], char who[MQTT_WHO_MAX])
{
	char err[200];

	return mqtt_ack_parse(payload, strlen(payload), ref, who, err, sizeof err);
}

static void
ack_payloads(void **ts)
{
	char ref[PG_ACK_REF_MAX], who[MQTT_WHO_MAX], err[200];
	static const char *const text_ok[] = {
		"482913", "  482913\n", "ack 482913", "ACK 482913", "Ack: 482913", "ack:482913",
		"ok 482913", "ack 482913.", "482913!", "\tack\t482913 ",
	};
	static const char *const bad[] = {
		"ack", "ok", "hello world", "482913 extra", "ack 48-2913", "ack ack 482913",
		"{\"ack\":\"\"}", "{\"ack\":\"48 2913\"}", "{\"ref\":\"482913\"}", "{\"ack\":482913.5}",
		"{\"ack\":-1}", "{\"ack\":\"482913\",\"by\":7}", "[\"482913\"]", "{\"ack\":\"1\",",
		"{\"ack\":\"1\",\"ack\":\"2\"}", "\"482913\"", "1234567890123456",
		"ack \xc3\xa9t\xc3\xa9", "ack AB12", "{\"ack\":\"AB12\"}",
	};
	char big[MQTT_ACK_MAX + 2];
	size_t i;

	(void)ts;
	for (i = 0; i < sizeof text_ok / sizeof text_ok[0]; i++) {
		strcpy(who, "x");
		assert_int_equal(ack(text_ok[i], ref, who), PG_OK);
		assert_string_equal(ref, "482913");
		assert_string_equal(who, "");
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(ack(bad[i], ref, who), PG_ERR_INVAL);
		assert_string_equal(ref, "");
	}
	assert_int_equal(ack("123456789012345", ref, who), PG_OK);   /* 15: the longest */
	assert_string_equal(ref, "123456789012345");

	assert_int_equal(ack("{\"ack\":\"482913\",\"by\":\"Dr. Zo\xc3\xab\"}", ref, who), PG_OK);
	assert_string_equal(ref, "482913");
	assert_string_equal(who, "Dr. Zo\xc3\xab");
	assert_int_equal(ack(" {\"by\":null,\"ack\":482913,\"at\":\"now\"} ", ref, who), PG_OK);
	assert_string_equal(ref, "482913");
	assert_string_equal(who, "");
	assert_int_equal(ack("{\"ack\":\"0012\",\"by\":\"  jane\\n\\u0007ortiz \"}", ref, who), PG_OK);
	assert_string_equal(ref, "0012");
	assert_string_equal(who, "jane  ortiz");

	/* a long name is cut on a character boundary */
	{
		char js[600] = "{\"ack\":\"1\",\"by\":\"";
		size_t o = strlen(js);
		for (i = 0; i < 100; i++) {       /* 100 x "é" = 200 bytes, then 'x' */
			js[o++] = '\xc3';
			js[o++] = '\xa9';
		}
		strcpy(js + o, "\"}");
		assert_int_equal(ack(js, ref, who), PG_OK);
		assert_int_equal(strlen(who), 126);   /* 63 characters of 2 bytes */
		assert_int_equal((unsigned char)who[125], 0xa9);
	}

	/* bounds and hostile bytes */
	memset(big, ' ', sizeof big);
	memcpy(big, "482913", 6);
	assert_int_equal(mqtt_ack_parse(big, MQTT_ACK_MAX, ref, who, err, sizeof err), PG_OK);
	assert_int_equal(mqtt_ack_parse(big, MQTT_ACK_MAX + 1, ref, who, err, sizeof err),
			 PG_ERR_INVAL);
	assert_string_equal(err, "payload of 1025 bytes is over 1024");
	assert_int_equal(mqtt_ack_parse("4829\0" "13", 7, ref, who, err, sizeof err), PG_ERR_INVAL);
	assert_string_equal(err, "payload contains a NUL byte");
	assert_int_equal(mqtt_ack_parse("ack \xff", 5, ref, who, err, sizeof err), PG_ERR_INVAL);
	assert_string_equal(err, "payload is not valid UTF-8");
	assert_int_equal(mqtt_ack_parse("", 0, ref, who, err, sizeof err), PG_ERR_INVAL);
	assert_int_equal(mqtt_ack_parse(NULL, 3, ref, who, err, sizeof err), PG_ERR_INVAL);
}

/* ---- expiry ---- */

static void
expiry(void **ts)
{
	uint32_t s = 7;
	const int64_t now = 1800000000000;

	(void)ts;
	assert_int_equal(mqtt_expiry(0, 0, now, &s), 0);            /* no bound at all */
	assert_int_equal(s, 7);
	assert_int_equal(mqtt_expiry(3600, 0, now, &s), 1);
	assert_int_equal(s, 3600);
	assert_int_equal(mqtt_expiry(0, now + 90000, now, &s), 1);  /* 90 s left */
	assert_int_equal(s, 90);
	assert_int_equal(mqtt_expiry(3600, now + 90000, now, &s), 1);
	assert_int_equal(s, 90);
	assert_int_equal(mqtt_expiry(60, now + 90000, now, &s), 1);
	assert_int_equal(s, 60);
	assert_int_equal(mqtt_expiry(0, now + 1500, now, &s), 1);   /* rounded up */
	assert_int_equal(s, 2);
	assert_int_equal(mqtt_expiry(0, now + 1, now, &s), 1);
	assert_int_equal(s, 1);
	assert_int_equal(mqtt_expiry(3600, now, now, &s), -1);      /* already expired */
	assert_int_equal(mqtt_expiry(0, now - 5000, now, &s), -1);
	assert_int_equal(mqtt_expiry(0, now + 5000000000000LL, now, &s), 1);
	assert_int_equal(s, UINT32_MAX);                             /* capped */
}

/* ---- configuration ---- */

static char tmpdir[64];
static char conf_path[128];

static int
setup_dir(void **ts)
{
	char p[160];
	FILE *f;

	(void)ts;
	strcpy(tmpdir, "/tmp/test_mqtt.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(conf_path, sizeof conf_path, "%s/pagegate.conf", tmpdir);
	snprintf(p, sizeof p, "%s/ca.pem", tmpdir);
	if (!(f = fopen(p, "w")))
		return -1;
	fputs("not really a certificate\n", f);
	return fclose(f);
}

static int
teardown_dir(void **ts)
{
	char p[160];

	(void)ts;
	snprintf(p, sizeof p, "%s/ca.pem", tmpdir);
	unlink(p);
	return rmdir(tmpdir);
}

/* Parses text as a whole file and hands its "mqtt" setting to the
 * parser; diagnostics land in d. */
static pg_err
parse(const char *text, struct pg_diags *d, struct mqtt_conf **out)
{
	config_t cf;
	pg_err e;
	void *o = NULL;

	struct pg_conf cx;

	config_init(&cf);
	assert_int_equal(config_read_string(&cf, text), CONFIG_TRUE);
	pg_conf_init(&cx, conf_path, d);
	e = mqtt_conf_parse(&cx, config_root_setting(&cf), &o);
	assert_true(e == PG_OK ? cx.errors == 0 : cx.errors > 0);
	pg_conf_done(&cx);
	config_destroy(&cf);
	*out = o;
	return e;
}

/* mqtt_device_check of dev as a device of clients/acme.conf. */
static void
check(const struct mqtt_conf *c, const struct pg_device *dev, struct pg_diags *d)
{
	struct pg_conf cx;

	pg_conf_init(&cx, "clients/acme.conf", d);
	mqtt_device_check(&cx, c, dev);
	pg_conf_done(&cx);
}

static void
conf_defaults(void **ts)
{
	struct pg_diags d;
	struct mqtt_conf *c;

	(void)ts;
	pg_diags_init(&d);
	assert_int_equal(parse("port = 1;", &d, &c), PG_OK);       /* no section */
	assert_null(c);
	assert_int_equal(parse("mqtt = {};", &d, &c), PG_OK);
	assert_int_equal(d.n, 0);
	assert_non_null(c);
	assert_string_equal(c->host, "127.0.0.1");
	assert_int_equal(c->port, 1883);
	assert_false(c->tls);
	assert_null(c->ca_file);
	assert_null(c->username);
	assert_null(c->password);
	assert_string_equal(c->client_id, "pagegate");
	assert_int_equal(c->keepalive_s, 30);
	assert_int_equal(c->proto, MQTT_PROTO_V5);
	assert_string_equal(c->ack_topic, "pages/+/+/ack");
	assert_int_equal(c->qos, 1);
	assert_int_equal(c->timeout_s, 10);
	mqtt_conf_free(c);
	pg_diags_free(&d);
}

static void
conf_full(void **ts)
{
	struct pg_diags d;
	struct mqtt_conf *c, *c2;
	char want[160];
	bool nomem;

	(void)ts;
	pg_diags_init(&d);
	assert_int_equal(parse(
		"mqtt = { host = \"broker.example\"; tls = true; ca_file = \"ca.pem\";\n"
		"  username = \"pg\"; password = \"s3cret\"; client_id = \"pagegate-1\";\n"
		"  keepalive = \"1m\"; protocol = \"auto\"; ack_topic = \"\"; qos = 2;\n"
		"  timeout = 20; };", &d, &c), PG_OK);
	assert_int_equal(d.n, 0);
	assert_string_equal(c->host, "broker.example");
	assert_int_equal(c->port, 8883);                  /* the TLS default */
	assert_true(c->tls);
	snprintf(want, sizeof want, "%s/ca.pem", tmpdir);
	assert_string_equal(c->ca_file, want);            /* relative to the file */
	assert_string_equal(c->username, "pg");
	assert_string_equal(c->password, "s3cret");
	assert_string_equal(c->client_id, "pagegate-1");
	assert_int_equal(c->keepalive_s, 60);
	assert_int_equal(c->proto, MQTT_PROTO_AUTO);
	assert_null(c->ack_topic);                        /* "" = no acks */
	assert_int_equal(c->qos, 2);
	assert_int_equal(c->timeout_s, 20);

	c2 = mqtt_conf_dup(c, &nomem);
	assert_false(nomem);
	assert_true(mqtt_conf_same(c, c2));
	c2->port = 8884;
	assert_false(mqtt_conf_same(c, c2));
	c2->port = c->port;
	free(c2->password);
	c2->password = strdup("other");
	assert_false(mqtt_conf_same(c, c2));
	assert_false(mqtt_conf_same(c, NULL));
	assert_true(mqtt_conf_same(NULL, NULL));
	assert_null(mqtt_conf_dup(NULL, &nomem));
	assert_false(nomem);
	mqtt_conf_free(c2);
	mqtt_conf_free(c);
	pg_diags_free(&d);
}

static void
conf_errors(void **ts)
{
	struct pg_diags d;
	struct mqtt_conf *c;
	/* unknown, mistyped and out-of-range keys first (in file order), then
	 * the checks that are not per key */
	static const struct { int line; const char *msg; } want[] = {
		{ 2, "unknown setting \"hots\" in mqtt (did you mean \"host\"?)" },
		{ 3, "bad port: expected a whole number from 1 to 65535" },
		{ 4, "\"tls\" must be true or false, not a string" },
		{ 5, "cannot read ca_file \"%s/missing.pem\": No such file or directory" },
		{ 8, "bad keepalive: expected a duration from 5s to 65535s such as \"30s\", "
		     "\"5m\", \"2h\", \"1d\"" },
		{ 9, "bad timeout: expected a duration from 1s to 5m such as \"30s\", \"5m\", "
		     "\"2h\", \"1d\"" },
		{ 11, "bad protocol \"v4\": expected \"v5\", \"v311\" or \"auto\" (did you "
		      "mean \"v5\"?)" },
		{ 13, "unknown setting \"retain\" in mqtt" },
		{ 5, "\"ca_file\" is set but tls is false" },
		{ 6, "\"password\" needs a \"username\"" },
		{ 7, "bad client_id \"page gate\": expected letters, digits, '.', '_' and '-'" },
		{ 10, "qos 0 has no broker acknowledgement: use 1 (PUBACK) or 2" },
		{ 12, "bad ack_topic \"pages/#/ack\": expected a subscription filter: '#' must "
		      "be the last level of the filter" },
	};
	char msg[300];
	size_t i;

	(void)ts;
	pg_diags_init(&d);
	assert_int_equal(parse(
		"mqtt = {\n"
		"  hots = \"x\";\n"                      /* 2 */
		"  port = 70000;\n"                      /* 3 */
		"  tls = \"yes\";\n"                     /* 4 */
		"  ca_file = \"missing.pem\";\n"         /* 5 */
		"  password = \"p\";\n"                  /* 6 */
		"  client_id = \"page gate\";\n"         /* 7 */
		"  keepalive = 2;\n"                     /* 8 */
		"  timeout = \"soon\";\n"                /* 9 */
		"  qos = 0;\n"                           /* 10 */
		"  protocol = \"v4\";\n"                 /* 11 */
		"  ack_topic = \"pages/#/ack\";\n"       /* 12 */
		"  retain = true;\n"                     /* 13 */
		"};", &d, &c), PG_ERR_CONFIG);
	assert_null(c);
	assert_int_equal(d.n, sizeof want / sizeof want[0]);
	for (i = 0; i < d.n; i++) {
		snprintf(msg, sizeof msg, want[i].msg, tmpdir);
		assert_string_equal(d.v[i].msg, msg);
		assert_string_equal(d.v[i].file, conf_path);
		assert_int_equal(d.v[i].line, want[i].line);
	}
	pg_diags_free(&d);

	pg_diags_init(&d);
	assert_int_equal(parse("mqtt = \"localhost\";", &d, &c), PG_ERR_CONFIG);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].msg, "\"mqtt\" must be a group { ... }, not a string");
	assert_int_equal(d.v[0].line, 1);
	pg_diags_free(&d);
}

/* ---- devices ---- */

static void
devices(void **ts)
{
	struct pg_diags d;
	struct mqtt_conf *c;
	struct pg_kv opts[] = { { "expiry", "1h" }, { "expirey", "2h" }, { "qos", "2" } };
	struct pg_device dev = { .channel = PG_CH_MQTT, .to = "pages/{client}/{contact}",
				 .opts = opts, .n_opts = 1, .line = 7 };

	(void)ts;
	pg_diags_init(&d);
	assert_int_equal(parse("mqtt = {};", &d, &c), PG_OK);
	check(c, &dev, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(mqtt_device_expiry_s(&dev), 3600);

	dev.n_opts = 3;
	opts[0].value = "0s";
	dev.gateway = "b2";
	dev.to = "pages/{client}/{contact}/ack";
	check(c, &dev, &d);
	assert_int_equal(d.n, 2);            /* the options are the engine's: below */
	assert_string_equal(d.v[0].msg, "mqtt devices have no \"gateway\": the broker is the "
			    "\"mqtt\" section of the daemon configuration");
	assert_string_equal(d.v[1].msg, "mqtt topic \"pages/{client}/{contact}/ack\" would match "
			    "the ack_topic \"pages/+/+/ack\": pages would come back as "
			    "acknowledgements");
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(d.v[i].file, "clients/acme.conf");
		assert_int_equal(d.v[i].line, 7);
	}
	assert_int_equal(mqtt_device_expiry_s(&dev), -1);
	pg_diags_free(&d);

	pg_diags_init(&d);
	dev.gateway = NULL;
	dev.n_opts = 0;
	dev.to = "pages//{contact}";
	check(NULL, &dev, &d);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].msg, "mqtt device, but the daemon configuration defines no "
			    "mqtt broker (an \"mqtt\" section)");
	assert_string_equal(d.v[1].msg, "mqtt topic \"pages//{contact}\": empty level (\"//\") "
			    "in the topic");
	assert_int_equal(mqtt_device_expiry_s(&dev), 0);
	assert_int_equal(mqtt_device_expiry_s(NULL), 0);
	mqtt_conf_free(c);
	pg_diags_free(&d);
}

/* The device settings the driver declares (channel.h device_keys), as
 * the engine checks them in a client file. */
static void
device_keys(void **ts)
{
	const struct pg_keytab t = { "mqtt device", mqtt_device_keys, NULL };
	struct pg_diags d;
	struct pg_conf cx;
	config_t cf;
	char why[200];

	(void)ts;
	assert_true(pg_conf_table_check(&t, why, sizeof why));
	config_init(&cf);
	assert_int_equal(config_read_string(&cf,
		"a = { expiry = \"0s\"; expirey = \"2h\"; qos = 2; };\n"
		"b = { expiry = \"soon\"; };\n"
		"c = { expiry = 4294967296L; };\n"
		"d = { expiry = \"1h\"; };\n"), CONFIG_TRUE);
	pg_diags_init(&d);
	pg_conf_init(&cx, "clients/acme.conf", &d);
	for (const char *g = "abcd"; *g; g++)
		pg_conf_apply(&cx, config_lookup(&cf, (char[]){ *g, 0 }), &t, NULL);
	assert_int_equal(d.n, 5);
	assert_string_equal(d.v[0].msg, "bad expiry: expected a duration from 1s to 4294967295s "
			    "such as \"30s\", \"5m\", \"2h\", \"1d\"");
	assert_string_equal(d.v[1].msg, "unknown setting \"expirey\" in mqtt device (did you "
			    "mean \"expiry\"?)");
	assert_string_equal(d.v[2].msg, "unknown setting \"qos\" in mqtt device");
	assert_string_equal(d.v[3].msg, d.v[0].msg);
	assert_int_equal(d.v[3].line, 2);
	assert_string_equal(d.v[4].msg, d.v[0].msg);
	assert_int_equal(d.v[4].line, 3);
	assert_non_null(pg_conf_member(config_lookup(&cf, "d"), &t, 0, "expiry"));
	pg_conf_done(&cx);
	pg_diags_free(&d);
	config_destroy(&cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(topic_templates),
		cmocka_unit_test(topic_expansion),
		cmocka_unit_test(filters),
		cmocka_unit_test(ack_payloads),
		cmocka_unit_test(expiry),
		cmocka_unit_test(conf_defaults),
		cmocka_unit_test(conf_full),
		cmocka_unit_test(conf_errors),
		cmocka_unit_test(devices),
		cmocka_unit_test(device_keys),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
