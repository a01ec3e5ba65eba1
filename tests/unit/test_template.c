/*
 * test_template.c - {{variable}} checking and rendering, the variables of a
 * message, JSON escaping, bounds, and the default templates in templates/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/store.h"
#include "pagegate/template.h"
#include "pagegate/tz.h"
#include "pagegate/util.h"

static struct pg_field acme_fields[] = {
	{ .id = "address", .label = "Service address", .required = true },
	{ .id = "unit", .label = "Unit / equipment" },
	{ .id = "gate", .label = "Gate code" },
};
static struct pg_device jane_dev[] = { { .channel = PG_CH_EMAIL, .to = "jane@acme.example" } };
static struct pg_contact jane = {
	.id = "jane", .name = "Jane Ortiz", .devices = jane_dev, .n_devices = 1,
};

static struct pg_client acme(void)
{
	struct pg_client c;
	memset(&c, 0, sizeof c);
	c.id = "acme-hvac";
	c.name = "Acme Heating & Cooling";
	c.tzid = "America/Chicago";
	c.tz = pg_tz_get(c.tzid);
	assert_non_null(c.tz);
	c.instructions = "Gas smell? Leave the building and call 911.";
	c.fields = acme_fields;
	c.n_fields = 3;
	c.contacts = &jane;
	c.n_contacts = 1;
	return c;
}

static struct pg_kv msg_fields[] = {
	{ "address", "12 Elm St, Apt 4" },
	{ "gate", "" },
};

/* 2026-11-22T15:34:00.123Z = 09:34 CST. */
static struct pg_message message(void)
{
	struct pg_message m;
	memset(&m, 0, sizeof m);
	m.id = 4711;
	m.client_id = "acme-hvac";
	m.kind = PG_KIND_MESSAGE;
	m.urgency = PG_URG_URGENT;
	m.caller_name = "Zoë Müller";
	m.caller_phone = "+1 555 555 0199";
	m.caller_company = NULL;
	m.text = "No heat since last night.\nThermostat shows 52°F.";
	m.fields = msg_fields;
	m.n_fields = 2;
	m.received_ms = 1795361640123LL;
	return m;
}

/* Renders text with tv (bound 64 KiB); returns a static copy. */
static const char *render(const char *text, const struct pg_tvars *tv,
			  enum pg_escape esc)
{
	static char out[8192];
	struct pg_buf b;
	pg_buf_init(&b, 65536);
	assert_int_equal(pg_template_render(text, tv, esc, &b), PG_OK);
	pg_strlcpy(out, b.data ? b.data : "", sizeof out);
	pg_buf_free(&b);
	return out;
}

/* ---- checking ---- */

static void check_err(const char *text, const struct pg_client *cl,
		      int want_line, const char *want_msg)
{
	int line = -1;
	char err[256];
	assert_int_equal(pg_template_check(text, cl, &line, err, sizeof err),
			 PG_ERR_INVAL);
	assert_int_equal(line, want_line);
	assert_string_equal(err, want_msg);
}

static void test_check_ok(void **state)
{
	(void)state;
	struct pg_client c = acme();
	int line = -1;
	char err[256];
	const char *t = "Hi {{contact.name}},\n{{ caller.name }} ({{caller.phone}})\n"
			"{{fields.address}} {{fields}} {{\ttext\t}}\n"
			"{\"a\":{\"b\":\"{{text}}\"}}\n";
	assert_int_equal(pg_template_check(t, &c, &line, err, sizeof err), PG_OK);
	assert_int_equal(line, 0);
	assert_string_equal(err, "");
	/* Without a client, any fields.<id> passes. */
	assert_int_equal(pg_template_check("{{fields.whatever}}", NULL, &line,
					   err, sizeof err), PG_OK);
	assert_int_equal(pg_template_check("", &c, &line, err, sizeof err), PG_OK);
}

static void test_check_errors(void **state)
{
	(void)state;
	struct pg_client c = acme();
	check_err("Hello {{caler.name}}", &c, 1, "unknown variable \"caler.name\"");
	check_err("one\ntwo\nthree {{ caler.name }}\n", NULL, 3,
		  "unknown variable \"caler.name\"");
	check_err("Where:\n  {{fields.adress}}", &c, 2,
		  "client acme-hvac has no field \"adress\"");
	check_err("a\nb {{caller.name\n}}", &c, 2,
		  "\"{{\" without \"}}\" on the same line");
	check_err("trailing {{", &c, 1, "\"{{\" without \"}}\" on the same line");
	check_err("\n\n\n{{}}", &c, 4, "empty variable name in \"{{ }}\"");
	check_err("x {{   }} y", &c, 1, "empty variable name in \"{{ }}\"");
	check_err("{{caller name}}", &c, 1, "bad variable name \"caller name\"");
	check_err("{{{{text}}", &c, 1, "bad variable name \"{{text\"");
	check_err("{{fields.}}", &c, 1, "unknown variable \"fields.\"");
	check_err("{{Text}}", &c, 1, "unknown variable \"Text\"");
	/* The first problem is the one reported. */
	check_err("ok {{text}}\n{{nope}}\n{{also.nope}}", &c, 2,
		  "unknown variable \"nope\"");
	/* NULL line/err are allowed. */
	assert_int_equal(pg_template_check("{{nope}}", &c, NULL, NULL, 0), PG_ERR_INVAL);
}

/* ---- rendering ---- */

static void test_render_exact(void **state)
{
	(void)state;
	struct pg_tvars tv;
	pg_tvars_init(&tv);
	assert_int_equal(pg_tvars_set(&tv, "caller.name", "Ann Lee"), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "caller.phone", "555-0100"), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "fields.address", "1 Main St"), PG_OK);
	assert_string_equal(render("Call {{caller.name}} at {{caller.phone}} re {{fields.address}}.\n",
				   &tv, PG_ESC_NONE),
			    "Call Ann Lee at 555-0100 re 1 Main St.\n");
	/* Whitespace inside the braces. */
	assert_string_equal(render("[{{caller.name}}|{{ caller.name }}|{{\tcaller.name  }}]",
				   &tv, PG_ESC_NONE),
			    "[Ann Lee|Ann Lee|Ann Lee]");
	/* Unset variables render empty; text around braces is untouched. */
	assert_string_equal(render("<{{text}}>{a} }} {b}", &tv, PG_ESC_NONE),
			    "<>{a} }} {b}");
	/* Setting again replaces. */
	assert_int_equal(pg_tvars_set(&tv, "caller.name", "Bo"), PG_OK);
	assert_string_equal(render("{{caller.name}}", &tv, PG_ESC_NONE), "Bo");
	/* Appends to what is already in the buffer. */
	struct pg_buf b;
	pg_buf_init(&b, 1024);
	assert_int_equal(pg_buf_adds(&b, "x:"), PG_OK);
	assert_int_equal(pg_template_render("{{caller.phone}}", &tv, PG_ESC_NONE, &b), PG_OK);
	assert_string_equal(b.data, "x:555-0100");
	/* Malformed text: PG_ERR_INVAL, buffer as it was. */
	assert_int_equal(pg_template_render(" {{caller.phone", &tv, PG_ESC_NONE, &b),
			 PG_ERR_INVAL);
	assert_string_equal(b.data, "x:555-0100");
	assert_int_equal(b.len, 10);
	pg_buf_free(&b);
	pg_tvars_free(&tv);
}

static void test_json_escape(void **state)
{
	(void)state;
	struct pg_tvars tv;
	pg_tvars_init(&tv);
	assert_int_equal(pg_tvars_set(&tv, "text", "He said \"hi\" \\o/\n\tbye\x01\x1f\x7f é"), PG_OK);
	assert_string_equal(render("{\"text\":\"{{text}}\"}", &tv, PG_ESC_JSON),
			    "{\"text\":\"He said \\\"hi\\\" \\\\o/\\u000a\\u0009bye"
			    "\\u0001\\u001f\\u007f é\"}");
	/* Without escaping the value goes as is. */
	assert_string_equal(render("{{text}}", &tv, PG_ESC_NONE),
			    "He said \"hi\" \\o/\n\tbye\x01\x1f\x7f é");
	pg_tvars_free(&tv);
}

static void test_too_big(void **state)
{
	(void)state;
	struct pg_tvars tv;
	pg_tvars_init(&tv);
	assert_int_equal(pg_tvars_set(&tv, "text", "0123456789abcdefghij"), PG_OK);

	struct pg_buf b;
	pg_buf_init(&b, 24);
	assert_int_equal(pg_buf_adds(&b, "ab"), PG_OK);
	/* "ab" + "<" + 20 + ">" = 24 fits exactly... */
	assert_int_equal(pg_template_render("<{{text}}>", &tv, PG_ESC_NONE, &b), PG_OK);
	assert_int_equal(b.len, 24);
	/* ...one more byte does not, and leaves the buffer as it was. */
	pg_buf_reset(&b);
	assert_int_equal(pg_buf_adds(&b, "ab"), PG_OK);
	assert_int_equal(pg_template_render("<{{text}}>!", &tv, PG_ESC_NONE, &b),
			 PG_ERR_TOOBIG);
	assert_string_equal(b.data, "ab");
	assert_int_equal(b.len, 2);
	/* Escaping grows the text past the bound. */
	assert_int_equal(pg_tvars_set(&tv, "text", "\n\n\n\n"), PG_OK);
	assert_int_equal(pg_template_render("{{text}}", &tv, PG_ESC_JSON, &b),
			 PG_ERR_TOOBIG);
	assert_string_equal(b.data, "ab");
	pg_buf_free(&b);
	pg_tvars_free(&tv);
}

static void test_non_ascii(void **state)
{
	(void)state;
	const char *s = "Ärger mit der Heizung — 水漏れ 🔥 ça";
	struct pg_tvars tv;
	pg_tvars_init(&tv);
	assert_int_equal(pg_tvars_set(&tv, "text", s), PG_OK);
	assert_string_equal(render("{{text}}", &tv, PG_ESC_NONE), s);
	assert_string_equal(render("{{text}}", &tv, PG_ESC_JSON), s);
	assert_string_equal(render(s, &tv, PG_ESC_JSON), s);
	pg_tvars_free(&tv);
}

/* ---- digest sections ---- */

static void check_kind_err(const char *text, enum pg_tpl_kind kind,
			   const struct pg_client *cl, int want_line, const char *want_msg)
{
	int line = -1;
	char err[256];
	assert_int_equal(pg_template_check_kind(text, kind, cl, &line, err, sizeof err),
			 PG_ERR_INVAL);
	assert_int_equal(line, want_line);
	assert_string_equal(err, want_msg);
}

static void test_section_check(void **state)
{
	(void)state;
	struct pg_client c = acme();
	int line = -1;
	char err[256];
	const enum pg_tpl_kind B = PG_TPL_DIGEST_BODY, S = PG_TPL_DIGEST_SUBJECT;

	assert_int_equal(pg_template_kind("digest.txt"), B);
	assert_int_equal(pg_template_kind("digest.subject"), S);
	assert_int_equal(pg_template_kind("email.txt"), PG_TPL_MESSAGE);
	assert_int_equal(pg_template_kind(NULL), PG_TPL_MESSAGE);
	assert_int_equal(pg_template_check_kind(
		"{{messages.count}} for {{client.name}} / {{contact.name}} {{callback}}\n"
		"{{#messages}}\n- {{caller.name}} {{fields.address}}: {{text}} {{messages.count}}\n"
		"{{/messages}}\nagain: {{# messages }}{{message.id}} {{ /messages}}\n",
		B, &c, &line, err, sizeof err), PG_OK);
	assert_int_equal(line, 0);
	assert_int_equal(pg_template_check_kind("[{{client.name}}] {{messages.count}} waiting",
						S, &c, &line, err, sizeof err), PG_OK);

	/* Sections and messages.count belong to digests only. */
	check_err("a\n{{#messages}}{{text}}{{/messages}}", &c, 2,
		  "sections (\"{{#messages}}\") are only for the digest templates");
	check_err("{{messages.count}}", &c, 1, "unknown variable \"messages.count\"");
	/* Unbalanced, nested, unknown sections, with the line. */
	check_kind_err("x\n{{#messages}}\n{{text}}\n", B, &c, 2,
		       "\"{{#messages}}\" without \"{{/messages}}\"");
	check_kind_err("{{#messages}}{{/messages}}\n{{/messages}}", B, &c, 2,
		       "\"{{/messages}}\" without \"{{#messages}}\"");
	check_kind_err("{{#messages}}\n{{#messages}}\n", B, &c, 2,
		       "sections do not nest (\"{{#messages}}\" at line 1 is still open)");
	check_kind_err("{{#calls}}{{/calls}}", B, &c, 1,
		       "unknown section \"calls\" (the only one is \"messages\")");
	check_kind_err("{{#messages}}{{/message}}", B, &c, 1,
		       "unknown section \"message\" (the only one is \"messages\")");
	check_kind_err("{{#}}", B, &c, 1, "empty variable name in \"{{ }}\"");
	/* Message variables only inside the section. */
	check_kind_err("{{client.name}}\n{{text}}\n{{#messages}}{{/messages}}", B, &c, 2,
		       "\"text\" belongs to one message: use it inside {{#messages}} ... {{/messages}}");
	check_kind_err("{{caller.name}} waiting", S, &c, 1,
		       "\"caller.name\" belongs to one message: use it inside {{#messages}} ... {{/messages}}");
	/* Inside, the usual checks. */
	check_kind_err("{{#messages}}\n{{fields.adress}}\n{{/messages}}", B, &c, 2,
		       "client acme-hvac has no field \"adress\"");
	check_kind_err("{{#messages}}{{nope}}{{/messages}}", B, &c, 1,
		       "unknown variable \"nope\"");
	/* digest.txt must list the messages; a subject need not. */
	check_kind_err("{{messages.count}} messages", B, &c, 1,
		       "a digest lists its messages in a section: {{#messages}} ... {{/messages}}");
}

static void test_section_render(void **state)
{
	(void)state;
	struct pg_tvars tv, rows[3];
	const char *texts[3] = { "first \"one\"", "second", "third" };
	const char *names[3] = { "Ann", "Bo", "" };

	pg_tvars_init(&tv);
	for (int i = 0; i < 3; i++) {
		pg_tvars_init(&rows[i]);
		assert_int_equal(pg_tvars_set(&rows[i], "text", texts[i]), PG_OK);
		assert_int_equal(pg_tvars_set(&rows[i], "caller.name", names[i]), PG_OK);
	}
	assert_int_equal(pg_tvars_set(&tv, "messages.count", "3"), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "client.name", "Acme"), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "caller.name", "OUTER"), PG_OK);
	tv.items = rows;
	tv.n_items = 3;
	/* Each row with its own variables, the outer ones behind them; a tag
	 * followed by a newline takes it along. */
	assert_string_equal(render("{{messages.count}} for {{client.name}}\n"
				   "{{#messages}}\n"
				   "- {{caller.name}}: {{text}} ({{client.name}}, {{messages.count}})\n"
				   "{{/messages}}\n"
				   "end", &tv, PG_ESC_NONE),
			    "3 for Acme\n"
			    "- Ann: first \"one\" (Acme, 3)\n"
			    "- Bo: second (Acme, 3)\n"
			    "- : third (Acme, 3)\n"
			    "end");
	/* Inline, twice, with JSON escaping of the values. */
	assert_string_equal(render("[{{#messages}}{{text}};{{/messages}}][{{#messages}}x{{/messages}}]",
				   &tv, PG_ESC_JSON),
			    "[first \\\"one\\\";second;third;][xxx]");
	/* No rows: the section renders nothing. */
	tv.n_items = 0;
	assert_string_equal(render("a{{#messages}}{{text}}{{/messages}}b", &tv, PG_ESC_NONE), "ab");
	tv.n_items = 3;
	/* Malformed: unbalanced or nested sections are errors, never output. */
	struct pg_buf b;
	pg_buf_init(&b, 1024);
	assert_int_equal(pg_template_render("{{#messages}}x", &tv, PG_ESC_NONE, &b), PG_ERR_INVAL);
	assert_int_equal(pg_template_render("x{{/messages}}", &tv, PG_ESC_NONE, &b), PG_ERR_INVAL);
	assert_int_equal(pg_template_render("{{#messages}}{{#messages}}{{/messages}}",
					    &tv, PG_ESC_NONE, &b), PG_ERR_INVAL);
	assert_int_equal(b.len, 0);
	/* Bounded: rows x section past the buffer's bound is PG_ERR_TOOBIG. */
	struct pg_buf small;
	pg_buf_init(&small, 20);
	assert_int_equal(pg_template_render("{{#messages}}{{text}}{{/messages}}", &tv,
					    PG_ESC_NONE, &small), PG_ERR_TOOBIG);
	assert_int_equal(small.len, 0);
	pg_buf_free(&small);
	pg_buf_free(&b);
	for (int i = 0; i < 3; i++)
		pg_tvars_free(&rows[i]);
	pg_tvars_free(&tv);
}

/* ---- variables of a message ---- */

static void test_tvars_for_message(void **state)
{
	(void)state;
	struct pg_client c = acme();
	struct pg_message m = message();
	struct pg_tvars tv;
	pg_tvars_init(&tv);
	assert_int_equal(pg_tvars_for_message(&tv, &c, &m, &jane, 99), PG_OK);
	assert_string_equal(render(
		"{{client.id}}|{{client.name}}|{{client.instructions}}\n"
		"{{message.id}}|{{message.kind}}|{{message.urgency}}\n"
		"{{message.received}}|{{message.received_utc}}\n"
		"{{caller.name}}|{{caller.phone}}|{{caller.company}}\n"
		"{{contact.id}}|{{contact.name}}|{{delivery.id}}\n"
		"{{fields.address}}|{{fields.unit}}|{{fields.gate}}\n"
		"{{fields}}\n{{text}}", &tv, PG_ESC_NONE),
		"acme-hvac|Acme Heating & Cooling|Gas smell? Leave the building and call 911.\n"
		"4711|message|urgent\n"
		"2026-11-22 09:34 (-06:00)|2026-11-22T15:34:00.123Z\n"
		"Zoë Müller|+1 555 555 0199|\n"
		"jane|Jane Ortiz|99\n"
		"12 Elm St, Apt 4||\n"
		"Service address: 12 Elm St, Apt 4\n"
		"No heat since last night.\nThermostat shows 52°F.");
	pg_tvars_free(&tv);

	/* No contact, no delivery, two fields filled, in declaration order. */
	struct pg_kv f2[] = { { "gate", "#4411" }, { "address", "9 Oak Rd" } };
	m.fields = f2;
	m.kind = PG_KIND_DISPATCH;
	m.urgency = PG_URG_EMERGENCY;
	m.caller_company = "Oak Apartments";
	pg_tvars_init(&tv);
	assert_int_equal(pg_tvars_for_message(&tv, &c, &m, NULL, 0), PG_OK);
	assert_string_equal(render("{{contact.id}}/{{contact.name}}/{{delivery.id}}/"
				   "{{message.kind}}/{{message.urgency}}/{{caller.company}}\n{{fields}}",
				   &tv, PG_ESC_NONE),
			    "///dispatch/emergency/Oak Apartments\n"
			    "Service address: 9 Oak Rd\nGate code: #4411");
	pg_tvars_free(&tv);
}

/* ---- the default templates ---- */

static bool is_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f)
		fclose(f);
	return f != NULL;
}

/* Finds the repository's top directory: $PAGEGATE_TOP, else this source
 * file's directory as the compiler was given it (relative to the repository
 * root), else the current directory or one of its parents (tests/run.sh runs
 * the binaries in BUILD/test-results).  The top is where templates/ sits
 * next to include/pagegate/template.h. */
static void find_top(char *top, size_t size)
{
	char probe[1100];
	const char *env = getenv("PAGEGATE_TOP");
	if (env && *env) {
		snprintf(top, size, "%s", env);
		return;
	}
	const char *src = __FILE__;
	const char *slash = strrchr(src, '/');
	snprintf(top, size, "%.*s/../..", slash ? (int)(slash - src) : 1,
		 slash ? src : ".");
	snprintf(probe, sizeof probe, "%s/include/pagegate/template.h", top);
	if (is_file(probe))
		return;
	snprintf(top, size, ".");
	for (int up = 0; up < 6; up++) {
		snprintf(probe, sizeof probe, "%s/include/pagegate/template.h", top);
		if (is_file(probe))
			return;
		size_t n = strlen(top);
		if (n + 4 >= size)
			break;
		memcpy(top + n, "/..", 4);
	}
	fail_msg("cannot find the repository (set PAGEGATE_TOP)");
}

/* The text of the default template templates/NAME. */
static char *read_default(const char *name)
{
	char top[512];
	char path[1100];
	find_top(top, sizeof top);
	snprintf(path, sizeof path, "%s/templates/%s", top, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	buf[n] = '\0';
	return strdup(buf);
}

static void test_defaults(void **state)
{
	(void)state;
	struct pg_client c = acme();
	struct pg_message m = message();
	strcpy(m.ack_ref, "482913");
	char *subj = read_default("email.subject");
	char *body = read_default("email.txt");
	assert_non_null(subj);
	assert_non_null(body);

	/* Defaults pass for any client, with or without fields. */
	struct pg_client bare = acme();
	bare.fields = NULL;
	bare.n_fields = 0;
	int line;
	char err[256];
	assert_int_equal(pg_template_check(subj, NULL, &line, err, sizeof err), PG_OK);
	assert_int_equal(pg_template_check(body, NULL, &line, err, sizeof err), PG_OK);
	assert_int_equal(pg_template_check(subj, &bare, &line, err, sizeof err), PG_OK);
	assert_int_equal(pg_template_check(body, &bare, &line, err, sizeof err), PG_OK);
	assert_null(strchr(subj, '\n'));

	struct pg_tvars tv;
	pg_tvars_init(&tv);
	assert_int_equal(pg_tvars_for_message(&tv, &c, &m, &jane, 99), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "ack_url", "https://pg.example/a/TOKEN"), PG_OK);
	assert_string_equal(render(subj, &tv, PG_ESC_NONE),
		"[Acme Heating & Cooling] urgent message from Zoë Müller +1 555 555 0199");
	assert_string_equal(render(body, &tv, PG_ESC_NONE),
		"urgent message for Acme Heating & Cooling\n"
		"\n"
		"Caller:  Zoë Müller\n"
		"Phone:   +1 555 555 0199\n"
		"Company: \n"
		"\n"
		"No heat since last night.\nThermostat shows 52°F.\n"
		"\n"
		"Service address: 12 Elm St, Apt 4\n"
		"\n"
		"Received 2026-11-22 09:34 (-06:00)\n"
		"Message 4711, delivery 99\n"
		"\n"
		"Acknowledge: https://pg.example/a/TOKEN\n"
		"(or call the answering service with reference 482913)\n");
	pg_tvars_free(&tv);
	free(subj);
	free(body);
}

/* notify.* and digest.* pass their checks; the digest default lists each
 * message with its own variables. */
static void test_defaults_notify_digest(void **state)
{
	(void)state;
	struct pg_client c = acme();
	struct pg_message m = message(), m2 = message();
	const char *const message_kind[] = { "notify.txt", "notify.subject" };
	int line;
	char err[256];

	for (int i = 0; i < 2; i++) {
		char *t = read_default(message_kind[i]);
		assert_int_equal(pg_template_check(t, &c, &line, err, sizeof err), PG_OK);
		if (i == 1)
			assert_null(strchr(t, '\n'));
		free(t);
	}
	char *dsub = read_default("digest.subject");
	char *dbody = read_default("digest.txt");
	assert_null(strchr(dsub, '\n'));
	assert_int_equal(pg_template_check_kind(dsub, PG_TPL_DIGEST_SUBJECT, &c, &line,
						err, sizeof err), PG_OK);
	assert_int_equal(pg_template_check_kind(dbody, PG_TPL_DIGEST_BODY, &c, &line,
						err, sizeof err), PG_OK);

	struct pg_tvars tv, rows[2];
	pg_tvars_init(&tv);
	pg_tvars_init(&rows[0]);
	pg_tvars_init(&rows[1]);
	pg_strlcpy(m.ack_ref, "111111", sizeof m.ack_ref);
	m2.id = 4712;
	m2.text = "Second message.";
	m2.caller_name = "Bo";
	pg_strlcpy(m2.ack_ref, "222222", sizeof m2.ack_ref);
	assert_int_equal(pg_tvars_for_message(&rows[0], &c, &m, &jane, 1), PG_OK);
	assert_int_equal(pg_tvars_for_message(&rows[1], &c, &m2, &jane, 2), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "client.name", c.name), PG_OK);
	assert_int_equal(pg_tvars_set(&tv, "messages.count", "2"), PG_OK);
	tv.items = rows;
	tv.n_items = 2;
	assert_string_equal(render(dsub, &tv, PG_ESC_NONE),
		"[Acme Heating & Cooling] 2 messages taken while you were closed");
	assert_string_equal(render(dbody, &tv, PG_ESC_NONE),
		"2 messages for Acme Heating & Cooling taken while you were closed\n"
		"\n"
		"urgent message, received 2026-11-22 09:34 (-06:00), reference 111111\n"
		"Caller: Zoë Müller +1 555 555 0199 \n"
		"No heat since last night.\nThermostat shows 52°F.\n"
		"Service address: 12 Elm St, Apt 4\n"
		"\n"
		"urgent message, received 2026-11-22 09:34 (-06:00), reference 222222\n"
		"Caller: Bo +1 555 555 0199 \n"
		"Second message.\n"
		"Service address: 12 Elm St, Apt 4\n");
	for (int i = 0; i < 2; i++)
		pg_tvars_free(&rows[i]);
	pg_tvars_free(&tv);
	free(dsub);
	free(dbody);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_ok),
		cmocka_unit_test(test_check_errors),
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_section_check),
		cmocka_unit_test(test_section_render),
		cmocka_unit_test(test_tvars_for_message),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_notify_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
