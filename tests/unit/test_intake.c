/*
 * test_intake.c - API input validation (every field's bad forms, with the
 * exact status, code and field of the error), a valid message parsed
 * exactly (non-ASCII included), client and dnis lookup, preview parsing,
 * turning a plan into deliveries (queued vs held, expiry, priority) and
 * the Prometheus rendering of the metrics.
 *
 * The configuration is built by hand: one client with a required and an
 * optional field and two contacts with email devices.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pagegate/intake.h"
#include "pagegate/metrics.h"
#include "pagegate/util.h"

/* ---- the hand-built configuration ---- */

static struct pg_field fields[] = {
	{ .id = "address", .label = "Service address", .required = true, .line = 12 },
	{ .id = "unit", .label = "Unit / equipment", .required = false, .line = 13 },
};
static struct pg_device office_dev[] = {
	{ .channel = PG_CH_EMAIL, .to = "office@acme.example", .line = 17 },
};
static struct pg_device jane_dev[] = {
	{ .channel = PG_CH_EMAIL, .to = "jane@acme.example", .gateway = "backup", .line = 19 },
};
static struct pg_contact contacts[] = {
	{ .id = "office", .name = "Front office", .devices = office_dev, .n_devices = 1, .line = 16 },
	{ .id = "jane", .name = "Jane Ortiz", .devices = jane_dev, .n_devices = 1, .line = 18 },
};
static char *dnis[] = { "8005550142", "6125550100" };
static struct pg_client client = {
	.id = "acme-hvac", .name = "Acme Heating & Cooling",
	.file = "/etc/pagegate/clients/acme-hvac.conf", .tzid = "America/Chicago",
	.dnis = dnis, .n_dnis = 2,
	.fields = fields, .n_fields = 2,
	.contacts = contacts, .n_contacts = 2,
};
static struct pg_config cfg = {
	.listen = "127.0.0.1", .port = 8025, .max_body = 65536, .workers = 1,
	.retry = {
		[PG_CH_EMAIL] = { .base_s = 30, .cap_s = 1800, .give_up_s = 86400 },
		[PG_CH_SMS] = { .base_s = 10, .cap_s = 600, .give_up_s = 3600 },
	},
	.clients = &client, .n_clients = 1, .refs = 1,
};

/* ---- helpers ---- */

/* A valid body to mutate: {"client","caller":{name,phone},"text","fields"}. */
static json_t *
base(void)
{
	json_t *j = json_pack("{s:s, s:{s:s, s:s}, s:s, s:{s:s}}",
			      "client", "acme-hvac",
			      "caller", "name", "Maria Lopez", "phone", "+1 555 010 0199",
			      "text", "No heat since this morning.",
			      "fields", "address", "12 Elm St");

	assert_non_null(j);
	return j;
}

/* base() with path ("caller.name", "fields.unit", "kind") set to v, or
 * deleted when v is NULL; returned as JSON text (caller frees). */
static char *
with(const char *path, json_t *v)
{
	json_t *j = base(), *obj = j;
	char key[128];
	const char *dot = strchr(path, '.');
	char *s;

	if (dot) {
		memcpy(key, path, (size_t)(dot - path));
		key[dot - path] = '\0';
		obj = json_object_get(j, key);
		if (obj == NULL) {
			obj = json_object();
			json_object_set_new(j, key, obj);
		}
		path = dot + 1;
	}
	if (v)
		json_object_set_new(obj, path, v);
	else
		json_object_del(obj, path);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(s);
	return s;
}

/* Parses body (len bytes) expecting an error with exactly this status,
 * code and field; the message is left in *msg when asked.  Checks that a
 * failed parse leaves nothing behind. */
static void
expect_errn(const char *body, size_t len, int status, const char *code,
	    const char *field, char *msg, size_t msgsz)
{
	struct pg_message m;
	const struct pg_client *cl = &client;
	struct pg_api_error err;

	assert_int_equal(pg_intake_parse_message(body, len, &cfg, &m, &cl, &err),
			 PG_ERR_INVAL);
	if (strcmp(err.code, code) != 0 || strcmp(err.field, field) != 0 ||
	    err.status != status)
		print_error("body %.200s -> %d %s [%s] %s\n", body, err.status,
			    err.code, err.field, err.message);
	assert_int_equal(err.status, status);
	assert_string_equal(err.code, code);
	assert_string_equal(err.field, field);
	assert_true(err.message[0] != '\0');
	assert_null(cl);
	assert_null(m.client_id);
	assert_null(m.text);
	assert_null(m.fields);
	if (msg)
		pg_strlcpy(msg, err.message, msgsz);
}

static void
expect_err(const char *body, int status, const char *code, const char *field)
{
	expect_errn(body, strlen(body), status, code, field, NULL, 0);
}

/* with(path, v) must fail with 400 code on field. */
static void
expect_bad(const char *path, json_t *v, const char *code, const char *field)
{
	char *s = with(path, v);

	expect_err(s, 400, code, field);
	free(s);
}

static void
expect_ok(const char *body)
{
	struct pg_message m;
	const struct pg_client *cl;
	struct pg_api_error err;
	pg_err e = pg_intake_parse_message(body, strlen(body), &cfg, &m, &cl, &err);

	if (e != PG_OK)
		print_error("body %.200s -> %d %s [%s] %s\n", body, err.status,
			    err.code, err.field, err.message);
	assert_int_equal(e, PG_OK);
	assert_ptr_equal(cl, &client);
	pg_message_free(&m);
}

/* A string of n copies of c (caller frees). */
static char *
rep(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- parsing a valid message ---- */

static void
test_valid_exact(void **st)
{
	const char *body =
		"{\"client\":\"acme-hvac\",\"kind\":\"dispatch\",\"urgency\":\"emergency\","
		"\"caller\":{\"name\":\"Zoë Ångström\",\"phone\":\"+1 (555) 010-0199 x12\","
		"\"company\":\"Café Łódź\"},"
		"\"text\":\"Gas smell — 水漏れ\\nsecond line\\tend\","
		"\"fields\":{\"unit\":\"Furnace \\\"B\\\"\",\"address\":\"12 Elm St\\nApt 4\"}}";
	struct pg_message m;
	const struct pg_client *cl;
	struct pg_api_error err;

	(void)st;
	assert_int_equal(pg_intake_parse_message(body, strlen(body), &cfg, &m, &cl, &err), PG_OK);
	assert_ptr_equal(cl, &client);
	assert_string_equal(m.client_id, "acme-hvac");
	assert_int_equal(m.kind, PG_KIND_DISPATCH);
	assert_int_equal(m.urgency, PG_URG_EMERGENCY);
	assert_string_equal(m.caller_name, "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m");
	assert_string_equal(m.caller_phone, "+1 (555) 010-0199 x12");
	assert_string_equal(m.caller_company, "Caf\xc3\xa9 \xc5\x81\xc3\xb3" "d\xc5\xba");
	assert_string_equal(m.text, "Gas smell \xe2\x80\x94 \xe6\xb0\xb4\xe6\xbc\x8f\xe3\x82\x8c\n"
				    "second line\tend");
	/* fields in the order given, not the client's order */
	assert_int_equal(m.n_fields, 2);
	assert_string_equal(m.fields[0].key, "unit");
	assert_string_equal(m.fields[0].value, "Furnace \"B\"");
	assert_string_equal(m.fields[1].key, "address");
	assert_string_equal(m.fields[1].value, "12 Elm St\nApt 4");
	/* left for the caller */
	assert_int_equal(m.id, 0);
	assert_null(m.operator_name);
	assert_null(m.idem_key);
	assert_int_equal(m.received_ms, 0);
	pg_message_free(&m);
}

static void
test_defaults_and_dnis(void **st)
{
	const char *body =
		"{\"dnis\":\"6125550100\",\"kind\":null,\"urgency\":null,"
		"\"caller\":{\"name\":\"Al\",\"phone\":\"911\",\"company\":null},"
		"\"text\":\"x\",\"fields\":{\"address\":\"1 Main\"}}";
	struct pg_message m;
	const struct pg_client *cl;
	struct pg_api_error err;

	(void)st;
	assert_int_equal(pg_intake_parse_message(body, strlen(body), &cfg, &m, &cl, &err), PG_OK);
	assert_ptr_equal(cl, &client);
	assert_string_equal(m.client_id, "acme-hvac");
	assert_int_equal(m.kind, PG_KIND_MESSAGE);
	assert_int_equal(m.urgency, PG_URG_ROUTINE);
	assert_null(m.caller_company);
	assert_string_equal(m.text, "x");
	assert_int_equal(m.n_fields, 1);
	pg_message_free(&m);
}

/* ---- the body as a whole ---- */

static void
test_malformed_json(void **st)
{
	char msg[256];
	static const char nul_inside[] = "{\"client\":\"acme\0hvac\"}";
	static const char nul_after[] = "{}\0{}";
	char *deep;

	(void)st;
	expect_errn("{\n  \"client\": ,\n}", 17, 400, "invalid_json", "", msg, sizeof msg);
	assert_string_equal(msg, "malformed JSON at line 2, column 13: unexpected token near ','");
	expect_err("{", 400, "invalid_json", "");
	expect_err("", 400, "invalid_json", "");
	expect_err("null", 400, "invalid_json", "");
	expect_err("{} trailing", 400, "invalid_json", "");
	expect_errn("[1,2]", 5, 400, "invalid_json", "", msg, sizeof msg);
	assert_string_equal(msg, "the body must be a JSON object, not an array");
	/* NUL bytes, raw or escaped */
	expect_errn(nul_inside, sizeof nul_inside - 1, 400, "invalid_json", "", NULL, 0);
	expect_errn(nul_after, sizeof nul_after - 1, 400, "invalid_json", "", NULL, 0);
	expect_err("{\"text\":\"a\\u0000b\"}", 400, "invalid_json", "");
	/* duplicate keys are ambiguous */
	expect_err("{\"client\":\"acme-hvac\",\"client\":\"other\"}", 400, "invalid_json", "");
	/* nesting deeper than jansson's limit (2048) is refused, not a crash */
	deep = rep('[', 100000);
	expect_errn(deep, 100000, 400, "invalid_json", "", msg, sizeof msg);
	assert_non_null(strstr(msg, "maximum parsing depth"));
	free(deep);
	/* a NULL body is an empty one */
	expect_errn(NULL, 0, 400, "invalid_json", "", NULL, 0);
}

static void
test_invalid_utf8(void **st)
{
	char msg[256];
	/* a lone continuation byte, an overlong '/', a surrogate, a truncated
	 * sequence at the end of the string */
	static const char *const bad[] = {
		"\x80", "\xc0\xaf", "\xed\xa0\x80", "caf\xc3",
	};

	(void)st;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char body[512];

		snprintf(body, sizeof body,
			 "{\"client\":\"acme-hvac\",\"caller\":{\"name\":\"A\",\"phone\":\"555\"},"
			 "\"text\":\"%s\",\"fields\":{\"address\":\"x\"}}", bad[i]);
		expect_errn(body, strlen(body), 400, "invalid_json", "", msg, sizeof msg);
		/* the echoed jansson text is itself clean ASCII/UTF-8 */
		assert_true(pg_utf8_valid(msg, strlen(msg)));
		assert_false(pg_has_ctl(msg, false));
	}
	/* an escaped lone surrogate is refused too */
	expect_err("{\"text\":\"\\ud800\"}", 400, "invalid_json", "");
}

static void
test_unknown_keys(void **st)
{
	char msg[256];
	char *s, *longkey, body[512];

	(void)st;
	expect_bad("colour", json_string("red"), "unknown_field", "colour");
	expect_bad("caller.email", json_string("a@b.c"), "unknown_field", "caller.email");
	expect_bad("operator", json_string("me"), "unknown_field", "operator");
	/* a key with a control character and a long one are echoed safely */
	s = with("a\x01" "b", json_true());
	expect_errn(s, strlen(s), 400, "unknown_field", "a?b", msg, sizeof msg);
	assert_string_equal(msg, "unknown key \"a?b\"");
	free(s);
	longkey = rep('k', 100);
	snprintf(body, sizeof body, "{\"%s\":1}", longkey);
	memcpy(longkey + 60, "...", 4);          /* 60 characters and "..." fill field[64] */
	expect_errn(body, strlen(body), 400, "unknown_field", longkey, NULL, 0);
	free(longkey);
	/* a multi-byte key cut on a character boundary */
	longkey = malloc(301);
	assert_non_null(longkey);
	for (int i = 0; i < 100; i++)
		memcpy(longkey + 3 * i, "\xe6\xb0\xb4", 3);
	longkey[300] = '\0';
	snprintf(body, sizeof body, "{\"%s\":1}", longkey);
	{
		struct pg_message m;
		const struct pg_client *cl;
		struct pg_api_error err;

		assert_int_equal(pg_intake_parse_message(body, strlen(body), &cfg, &m, &cl, &err),
				 PG_ERR_INVAL);
		assert_string_equal(err.code, "unknown_field");
		assert_int_equal(strlen(err.field), 20 * 3 + 3);
		assert_true(pg_utf8_valid(err.field, strlen(err.field)));
		assert_string_equal(err.field + 60, "...");
	}
	free(longkey);
}

/* ---- client / dnis ---- */

static void
test_client_and_dnis(void **st)
{
	char *s;
	json_t *j;

	(void)st;
	expect_bad("client", NULL, "missing", "client");
	expect_bad("dnis", json_string("8005550142"), "invalid", "client");
	expect_bad("client", json_integer(42), "invalid_type", "client");
	expect_bad("client", json_null(), "invalid_type", "client");
	s = with("client", json_string("nobody"));
	expect_err(s, 404, "unknown_client", "client");
	free(s);
	s = with("client", json_string("acme-hvac "));
	expect_err(s, 404, "unknown_client", "client");
	free(s);
	/* dnis instead of client */
	j = base();
	json_object_del(j, "client");
	json_object_set_new(j, "dnis", json_string("8005550199"));
	s = json_dumps(j, JSON_COMPACT);
	expect_err(s, 404, "unknown_client", "dnis");
	free(s);
	json_object_set_new(j, "dnis", json_string("8005550142"));
	s = json_dumps(j, JSON_COMPACT);
	expect_ok(s);
	free(s);
	json_object_set_new(j, "dnis", json_array());
	s = json_dumps(j, JSON_COMPACT);
	expect_err(s, 400, "invalid_type", "dnis");
	free(s);
	json_decref(j);
}

static void
test_kind_urgency(void **st)
{
	char *s;

	(void)st;
	expect_bad("kind", json_string("page"), "invalid", "kind");
	expect_bad("kind", json_string("Dispatch"), "invalid", "kind");
	expect_bad("kind", json_integer(1), "invalid_type", "kind");
	expect_bad("urgency", json_string("high"), "invalid", "urgency");
	expect_bad("urgency", json_true(), "invalid_type", "urgency");
	s = with("urgency", json_string("urgent"));
	expect_ok(s);
	free(s);
}

/* ---- caller ---- */

static void
test_caller_name(void **st)
{
	char msg[256];
	char *s, *n;

	(void)st;
	expect_bad("caller", NULL, "missing", "caller");
	expect_bad("caller", json_string("Maria"), "invalid_type", "caller");
	expect_bad("caller.name", NULL, "missing", "caller.name");
	expect_bad("caller.name", json_string(""), "missing", "caller.name");
	expect_bad("caller.name", json_string("  \t "), "missing", "caller.name");
	expect_bad("caller.name", json_integer(7), "invalid_type", "caller.name");
	s = with("caller.name", json_null());
	expect_errn(s, strlen(s), 400, "invalid_type", "caller.name", msg, sizeof msg);
	assert_string_equal(msg, "caller.name: expected a string, got null");
	free(s);
	/* header injection attempts and other control characters */
	expect_bad("caller.name", json_string("Bob\r\nBcc: all@example.com"), "invalid", "caller.name");
	expect_bad("caller.name", json_string("Bob\nSmith"), "invalid", "caller.name");
	expect_bad("caller.name", json_string("Bob\tSmith"), "invalid", "caller.name");
	expect_bad("caller.name", json_string("Bob\x7f"), "invalid", "caller.name");
	expect_bad("caller.name", json_string("Bob\xc2\x85"), "invalid", "caller.name"); /* NEL */
	/* 200 bytes pass (100 two-byte characters), 201 do not */
	n = malloc(202);
	assert_non_null(n);
	for (int i = 0; i < 100; i++)
		memcpy(n + 2 * i, "\xc3\xa9", 2);
	n[200] = '\0';
	s = with("caller.name", json_string(n));
	expect_ok(s);
	free(s);
	n[200] = 'x';
	n[201] = '\0';
	s = with("caller.name", json_string(n));
	expect_errn(s, strlen(s), 400, "too_large", "caller.name", msg, sizeof msg);
	assert_string_equal(msg, "caller.name is 201 bytes long; at most 200 are allowed");
	free(s);
	free(n);
}

static void
test_caller_phone(void **st)
{
	char *s, *p;

	(void)st;
	expect_bad("caller.phone", NULL, "missing", "caller.phone");
	expect_bad("caller.phone", json_string(""), "missing", "caller.phone");
	expect_bad("caller.phone", json_integer(5550100), "invalid_type", "caller.phone");
	expect_bad("caller.phone", json_string("12"), "invalid", "caller.phone");
	expect_bad("caller.phone", json_string("(1)-2"), "invalid", "caller.phone");
	expect_bad("caller.phone", json_string("555-0100 ext 5"), "invalid", "caller.phone");
	expect_bad("caller.phone", json_string("555\n0100"), "invalid", "caller.phone");
	expect_bad("caller.phone", json_string("５５５０１００"), "invalid", "caller.phone");
	p = rep('5', 41);
	expect_bad("caller.phone", json_string(p), "too_large", "caller.phone");
	p[40] = '\0';
	s = with("caller.phone", json_string(p));
	expect_ok(s);
	free(s);
	free(p);
	s = with("caller.phone", json_string("+44 (0)20 7946.0958 x7"));
	expect_ok(s);
	free(s);
}

static void
test_caller_company(void **st)
{
	char *c;

	(void)st;
	expect_bad("caller.company", json_integer(1), "invalid_type", "caller.company");
	expect_bad("caller.company", json_string("Acme\r\nX-Evil: 1"), "invalid", "caller.company");
	c = rep('c', 201);
	expect_bad("caller.company", json_string(c), "too_large", "caller.company");
	free(c);
}

/* ---- text ---- */

static void
test_text(void **st)
{
	char *s, *t;

	(void)st;
	expect_bad("text", NULL, "missing", "text");
	expect_bad("text", json_string(""), "missing", "text");
	expect_bad("text", json_string(" \r\n\t "), "missing", "text");
	expect_bad("text", json_integer(3), "invalid_type", "text");
	expect_bad("text", json_pack("[s]", "a"), "invalid_type", "text");
	expect_bad("text", json_string("ring \x07 bell"), "invalid", "text");
	expect_bad("text", json_string("esc \x1b[2J"), "invalid", "text");
	expect_bad("text", json_string("c1 \xc2\x9b"), "invalid", "text");
	/* newlines (CRLF too) and tabs are text */
	s = with("text", json_string("line 1\r\nline 2\n\tindented"));
	expect_ok(s);
	free(s);
	t = rep('t', PG_MAX_TEXT);
	s = with("text", json_string(t));
	expect_ok(s);
	free(s);
	free(t);
	t = rep('t', PG_MAX_TEXT + 1);
	expect_bad("text", json_string(t), "too_large", "text");
	free(t);
}

/* ---- the client's fields ---- */

static void
test_fields(void **st)
{
	char msg[256];
	char *s, *v;

	(void)st;
	expect_bad("fields", json_string("address=1"), "invalid_type", "fields");
	expect_bad("fields", json_pack("[s]", "x"), "invalid_type", "fields");
	expect_bad("fields.colour", json_string("red"), "unknown_field", "fields.colour");
	s = with("fields.Address", json_string("x"));
	expect_errn(s, strlen(s), 400, "unknown_field", "fields.Address", msg, sizeof msg);
	assert_string_equal(msg, "unknown field: client acme-hvac has no field \"Address\"");
	free(s);
	expect_bad("fields.unit", json_integer(4), "invalid_type", "fields.unit");
	expect_bad("fields.unit", json_null(), "invalid_type", "fields.unit");
	expect_bad("fields.unit", json_string("a\x1b" "b"), "invalid", "fields.unit");
	v = rep('v', PG_MAX_FIELD_VALUE + 1);
	expect_bad("fields.unit", json_string(v), "too_large", "fields.unit");
	v[PG_MAX_FIELD_VALUE] = '\0';
	s = with("fields.unit", json_string(v));
	expect_ok(s);
	free(s);
	free(v);
	/* the required field */
	s = with("fields", NULL);
	expect_errn(s, strlen(s), 400, "missing", "fields.address", msg, sizeof msg);
	assert_string_equal(msg, "fields.address (Service address) is required for client acme-hvac");
	free(s);
	expect_bad("fields", json_object(), "missing", "fields.address");
	expect_bad("fields", json_null(), "missing", "fields.address");
	expect_bad("fields.address", json_string(""), "missing", "fields.address");
	expect_bad("fields.address", json_string(" \n "), "missing", "fields.address");
	expect_bad("fields.address", NULL, "missing", "fields.address");
	/* an optional field may be empty; newlines and tabs are allowed */
	s = with("fields.unit", json_string(""));
	expect_ok(s);
	free(s);
}

/* ---- preview ---- */

static void
test_preview(void **st)
{
	const struct pg_client *cl;
	enum pg_kind kind;
	enum pg_urgency urg;
	int64_t at = -1;
	struct pg_api_error err;
	const char *b;

	(void)st;
	b = "{\"client\":\"acme-hvac\",\"kind\":\"dispatch\",\"urgency\":\"urgent\","
	    "\"at\":\"2026-11-22T09:34:00-06:00\"}";
	assert_int_equal(pg_intake_parse_preview(b, strlen(b), &cfg, 1000, &cl, &kind,
						 &urg, &at, &err), PG_OK);
	assert_ptr_equal(cl, &client);
	assert_int_equal(kind, PG_KIND_DISPATCH);
	assert_int_equal(urg, PG_URG_URGENT);
	assert_int_equal(at, INT64_C(1795361640000));   /* 2026-11-22T15:34:00Z */

	b = "{\"dnis\":\"8005550142\"}";
	assert_int_equal(pg_intake_parse_preview(b, strlen(b), &cfg, 1234567, &cl, &kind,
						 &urg, &at, &err), PG_OK);
	assert_ptr_equal(cl, &client);
	assert_int_equal(kind, PG_KIND_MESSAGE);
	assert_int_equal(urg, PG_URG_ROUTINE);
	assert_int_equal(at, 1234567);

	b = "{\"client\":\"acme-hvac\",\"at\":\"tomorrow\"}";
	assert_int_equal(pg_intake_parse_preview(b, strlen(b), &cfg, 0, &cl, &kind,
						 &urg, &at, &err), PG_ERR_INVAL);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "invalid");
	assert_string_equal(err.field, "at");
	assert_null(cl);

	b = "{\"client\":\"acme-hvac\",\"at\":\"2026-11-22T15:34:00\"}";   /* no zone */
	assert_int_equal(pg_intake_parse_preview(b, strlen(b), &cfg, 0, &cl, &kind,
						 &urg, &at, &err), PG_ERR_INVAL);
	assert_string_equal(err.field, "at");

	b = "{\"client\":\"acme-hvac\",\"at\":1795361640}";
	assert_int_equal(pg_intake_parse_preview(b, strlen(b), &cfg, 0, &cl, &kind,
						 &urg, &at, &err), PG_ERR_INVAL);
	assert_string_equal(err.code, "invalid_type");
	assert_string_equal(err.field, "at");

	b = "{\"client\":\"acme-hvac\",\"text\":\"hi\"}";
	assert_int_equal(pg_intake_parse_preview(b, strlen(b), &cfg, 0, &cl, &kind,
						 &urg, &at, &err), PG_ERR_INVAL);
	assert_string_equal(err.code, "unknown_field");
	assert_string_equal(err.field, "text");

	b = "{\"client\":\"other\"}";
	assert_int_equal(pg_intake_parse_preview(b, strlen(b), &cfg, 0, &cl, &kind,
						 &urg, &at, &err), PG_ERR_INVAL);
	assert_int_equal(err.status, 404);
	assert_string_equal(err.code, "unknown_client");

	b = "{\"client\":\"acme-hvac\",\"urgency\":\"low\"}";
	assert_int_equal(pg_intake_parse_preview(b, strlen(b), &cfg, 0, &cl, &kind,
						 &urg, &at, &err), PG_ERR_INVAL);
	assert_string_equal(err.field, "urgency");

	b = "{\"client\":";
	assert_int_equal(pg_intake_parse_preview(b, strlen(b), &cfg, 0, &cl, &kind,
						 &urg, &at, &err), PG_ERR_INVAL);
	assert_string_equal(err.code, "invalid_json");
}

/* ---- deliveries from a plan ---- */

static void
test_deliveries(void **st)
{
	const int64_t now = INT64_C(1795361640123);              /* 15:34:00.123Z */
	const int64_t hold = INT64_C(1795442400);                /* next day 08:00 CST */
	struct pg_plan_item items[] = {
		{ .contact = 0, .device = 0, .channel = PG_CH_EMAIL, .hold_until_s = 0, .rule_line = 30 },
		{ .contact = 1, .device = 0, .channel = PG_CH_EMAIL, .hold_until_s = hold, .rule_line = 31 },
	};
	struct pg_plan plan = { .items = items, .n = 2, .open = false, .n_rules_matched = 2 };
	struct pg_message m = { .id = 77, .kind = PG_KIND_MESSAGE, .urgency = PG_URG_ROUTINE };
	struct pg_delivery *d;
	size_t n;

	(void)st;
	assert_int_equal(pg_plan_deliveries(&cfg, &client, &m, &plan, now, &d, &n), PG_OK);
	assert_int_equal(n, 2);

	assert_int_equal(d[0].message_id, 77);
	assert_string_equal(d[0].contact_id, "office");
	assert_string_equal(d[0].contact_name, "Front office");
	assert_int_equal(d[0].channel, PG_CH_EMAIL);
	assert_string_equal(d[0].address, "office@acme.example");
	assert_null(d[0].gateway);
	assert_int_equal(d[0].state, PG_D_QUEUED);
	assert_int_equal(d[0].priority, 2);
	assert_int_equal(d[0].attempts, 0);
	assert_int_equal(d[0].created_ms, now);
	assert_int_equal(d[0].next_try_ms, now);
	assert_int_equal(d[0].expires_ms, now + INT64_C(86400000));

	assert_string_equal(d[1].contact_id, "jane");
	assert_string_equal(d[1].address, "jane@acme.example");
	assert_string_equal(d[1].gateway, "backup");
	assert_int_equal(d[1].state, PG_D_HELD);
	assert_int_equal(d[1].next_try_ms, hold * 1000);
	assert_int_equal(d[1].expires_ms, hold * 1000 + INT64_C(86400000));
	assert_int_equal(d[1].created_ms, now);
	for (size_t i = 0; i < n; i++)
		pg_delivery_free(&d[i]);
	free(d);

	/* priority follows the message; the give-up time follows the channel */
	m.kind = PG_KIND_DISPATCH;
	items[0].channel = PG_CH_SMS;
	plan.n = 1;
	assert_int_equal(pg_plan_deliveries(&cfg, &client, &m, &plan, now, &d, &n), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].priority, 0);
	assert_int_equal(d[0].channel, PG_CH_SMS);
	assert_int_equal(d[0].expires_ms, now + INT64_C(3600000));
	pg_delivery_free(&d[0]);
	free(d);
	m.kind = PG_KIND_MESSAGE;
	m.urgency = PG_URG_URGENT;
	assert_int_equal(pg_plan_deliveries(&cfg, &client, &m, &plan, now, &d, &n), PG_OK);
	assert_int_equal(d[0].priority, 1);
	pg_delivery_free(&d[0]);
	free(d);

	/* nothing to send */
	plan.n = 0;
	assert_int_equal(pg_plan_deliveries(&cfg, &client, &m, &plan, now, &d, &n), PG_OK);
	assert_int_equal(n, 0);
	assert_null(d);

	/* an index outside the client is refused, not followed */
	items[0].device = 5;
	plan.n = 1;
	assert_int_equal(pg_plan_deliveries(&cfg, &client, &m, &plan, now, &d, &n),
			 PG_ERR_INVAL);
	assert_int_equal(n, 0);
	assert_null(d);
}

/* ---- metrics ---- */

static void
test_metrics(void **st)
{
	struct pg_metrics m;
	struct pg_buf b;

	(void)st;
	pg_metrics_init(&m);
	atomic_fetch_add(&m.messages_received, 5);
	atomic_fetch_add(&m.messages_rejected, 2);
	pg_metrics_attempt(&m, PG_CH_EMAIL, PG_OUT_OK, 30);      /* <= 0.05 */
	pg_metrics_attempt(&m, PG_CH_EMAIL, PG_OUT_OK, 50);      /* == 0.05: same bucket */
	pg_metrics_attempt(&m, PG_CH_EMAIL, PG_OUT_OK, 120);     /* <= 0.25 */
	pg_metrics_attempt(&m, PG_CH_EMAIL, PG_OUT_TEMP, 70000); /* +Inf */
	pg_metrics_attempt(&m, PG_CH_SMS, PG_OUT_PERM, 1000);    /* == 1 */
	pg_metrics_final(&m, PG_CH_EMAIL, true);
	pg_metrics_final(&m, PG_CH_EMAIL, true);
	pg_metrics_final(&m, PG_CH_SMS, false);
	pg_buf_init(&b, 1 << 20);
	assert_int_equal(pg_metrics_render(&m, 7, 3, &b), PG_OK);
	assert_non_null(strstr(b.data,
		"# HELP pagegate_messages_received_total Messages accepted and stored by the intake.\n"
		"# TYPE pagegate_messages_received_total counter\n"
		"pagegate_messages_received_total 5\n"));
	assert_non_null(strstr(b.data, "\npagegate_messages_rejected_total 2\n"));
	assert_non_null(strstr(b.data,
		"\npagegate_attempts_total{channel=\"email\",outcome=\"ok\"} 3\n"
		"pagegate_attempts_total{channel=\"email\",outcome=\"temp\"} 1\n"
		"pagegate_attempts_total{channel=\"email\",outcome=\"perm\"} 0\n"));
	assert_non_null(strstr(b.data,
		"\npagegate_attempts_total{channel=\"sms\",outcome=\"perm\"} 1\n"));
	assert_non_null(strstr(b.data,
		"\npagegate_deliveries_final_total{channel=\"email\",result=\"sent\"} 2\n"
		"pagegate_deliveries_final_total{channel=\"email\",result=\"failed\"} 0\n"));
	assert_non_null(strstr(b.data,
		"\npagegate_deliveries_final_total{channel=\"sms\",result=\"failed\"} 1\n"));
	assert_non_null(strstr(b.data,
		"# TYPE pagegate_queue_depth gauge\npagegate_queue_depth 7\n"));
	assert_non_null(strstr(b.data,
		"# TYPE pagegate_held_deliveries gauge\npagegate_held_deliveries 3\n"));
	assert_non_null(strstr(b.data,
		"# TYPE pagegate_attempt_duration_seconds histogram\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"0.05\"} 2\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"0.1\"} 2\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"0.25\"} 3\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"0.5\"} 3\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"1\"} 3\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"2.5\"} 3\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"5\"} 3\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"10\"} 3\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"30\"} 3\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"60\"} 3\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"email\",le=\"+Inf\"} 4\n"
		"pagegate_attempt_duration_seconds_sum{channel=\"email\"} 70.200\n"
		"pagegate_attempt_duration_seconds_count{channel=\"email\"} 4\n"));
	assert_non_null(strstr(b.data,
		"pagegate_attempt_duration_seconds_bucket{channel=\"sms\",le=\"0.5\"} 0\n"
		"pagegate_attempt_duration_seconds_bucket{channel=\"sms\",le=\"1\"} 1\n"));
	assert_non_null(strstr(b.data,
		"pagegate_attempt_duration_seconds_sum{channel=\"sms\"} 1.000\n"
		"pagegate_attempt_duration_seconds_count{channel=\"sms\"} 1\n"));
	/* every line is a comment or "name{labels} value" */
	for (char *line = b.data, *nl; *line; line = nl + 1) {
		assert_non_null(nl = strchr(line, '\n'));
		if (*line != '#')
			assert_true(strncmp(line, "pagegate_", 9) == 0 && memchr(line, ' ', (size_t)(nl - line)));
	}
	/* a buffer too small to hold it fails cleanly */
	pg_buf_free(&b);
	pg_buf_init(&b, 100);
	assert_int_equal(pg_metrics_render(&m, 0, 0, &b), PG_ERR_TOOBIG);
	pg_buf_free(&b);
}

/* ---- names and text that display as something else (visible.h) ---- */

static void
test_bidi_and_invisible(void **st)
{
	char msg[256];
	char *s;

	(void)st;
	/* names and numbers: refused, naming the field and the character */
	s = with("caller.name", json_string("Bob\xe2\x80\xae" "ecila"));
	expect_errn(s, strlen(s), 400, "invalid", "caller.name", msg, sizeof msg);
	assert_string_equal(msg, "caller.name must not contain invisible or "
			    "direction-changing characters (U+202E after 3 characters)");
	free(s);
	expect_bad("caller.name", json_string("Jane\xe2\x80\x8b"), "invalid", "caller.name");
	expect_bad("caller.name", json_string("\xef\xbb\xbfJane"), "invalid", "caller.name");
	expect_bad("caller.company", json_string("Acme\xe2\x81\xa6"), "invalid", "caller.company");
	expect_bad("caller.phone", json_string("555\xe2\x80\x8b" "0100"), "invalid", "caller.phone");
	/* a Persian name with its ZWNJ is a name */
	s = with("caller.name", json_string("\xd8\xb9\xd9\x84\xdb\x8c\xe2\x80\x8c\xd8\xa7\xda\xa9\xd8\xa8\xd8\xb1"));
	expect_ok(s);
	free(s);
	/* text and the client's fields: the reordering controls only */
	s = with("text", json_string("Call back \xe2\x80\xae" "0010-555"));
	expect_errn(s, strlen(s), 400, "invalid", "text", msg, sizeof msg);
	assert_string_equal(msg, "text must not contain bidirectional embeddings, "
			    "overrides or isolates (U+202E after 10 characters)");
	free(s);
	expect_bad("fields.address", json_string("12 Elm\xe2\x81\xa7St"), "invalid", "fields.address");
	s = with("text", json_string("\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7\xe2\x80\x8f 12, "
				     "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x94\xa7, \xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae"));
	expect_ok(s);
	free(s);
}

/* ---- the request an Idempotency-Key is bound to ---- */

static void
hash_of(const char *body, char out[65])
{
	struct pg_message m;
	const struct pg_client *cl;
	struct pg_api_error err;

	assert_int_equal(pg_intake_parse_message(body, strlen(body), &cfg, &m, &cl, &err), PG_OK);
	assert_int_equal(strlen(m.idem_hash), 64);
	assert_int_equal(strspn(m.idem_hash, "0123456789abcdef"), 64);
	memcpy(out, m.idem_hash, 65);
	pg_message_free(&m);
}

static void
test_request_hash(void **st)
{
	char a[65], b[65], c[65], d[65];

	(void)st;
	hash_of("{\"client\":\"acme-hvac\",\"caller\":{\"name\":\"Ann\",\"phone\":\"555-0100\"},"
		"\"text\":\"leak\",\"fields\":{\"address\":\"1 Elm\",\"unit\":\"B\"}}", a);
	/* other key order, white space, an escaped character: the same request */
	hash_of("{ \"fields\": {\"unit\": \"B\", \"address\": \"1 Elm\"},\n  \"text\": \"l\\u0065ak\",\n"
		"  \"caller\": {\"phone\": \"555-0100\", \"name\": \"Ann\"}, \"client\": \"acme-hvac\" }", b);
	assert_string_equal(a, b);
	/* any value changed: another */
	hash_of("{\"client\":\"acme-hvac\",\"caller\":{\"name\":\"Ann\",\"phone\":\"555-0100\"},"
		"\"text\":\"leak!\",\"fields\":{\"address\":\"1 Elm\",\"unit\":\"B\"}}", c);
	assert_string_not_equal(a, c);
	hash_of("{\"client\":\"acme-hvac\",\"urgency\":\"emergency\",\"caller\":{\"name\":\"Ann\","
		"\"phone\":\"555-0100\"},\"text\":\"leak\",\"fields\":{\"address\":\"1 Elm\",\"unit\":\"B\"}}", d);
	assert_string_not_equal(a, d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_exact),
		cmocka_unit_test(test_defaults_and_dnis),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_client_and_dnis),
		cmocka_unit_test(test_kind_urgency),
		cmocka_unit_test(test_caller_name),
		cmocka_unit_test(test_caller_phone),
		cmocka_unit_test(test_caller_company),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_preview),
		cmocka_unit_test(test_deliveries),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_bidi_and_invisible),
		cmocka_unit_test(test_request_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
