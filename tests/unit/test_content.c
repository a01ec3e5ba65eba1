/*
 * test_content.c - content levels (content.h): the names, the callback
 * number check, which level a device gets, the summary cut, what each
 * level leaves of the variables (a notify render of a template that names
 * the text and the caller shows neither), the templates a level renders,
 * the plan items' level, and the client file settings with their errors
 * as file:line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pagegate/config.h"
#include "pagegate/content.h"
#include "pagegate/route.h"
#include "pagegate/store.h"
#include "pagegate/template.h"
#include "pagegate/util.h"

/* ---- pure parts ---- */

static void test_names(void **state)
{
	enum pg_content c;

	(void)state;
	assert_string_equal(pg_content_name(PG_CONTENT_UNSET), "full");
	assert_string_equal(pg_content_name(PG_CONTENT_FULL), "full");
	assert_string_equal(pg_content_name(PG_CONTENT_SUMMARY), "summary");
	assert_string_equal(pg_content_name(PG_CONTENT_NOTIFY), "notify");
	assert_int_equal(pg_content_parse("notify", &c), 0);
	assert_int_equal(c, PG_CONTENT_NOTIFY);
	assert_int_equal(pg_content_parse("summary", &c), 0);
	assert_int_equal(c, PG_CONTENT_SUMMARY);
	assert_int_equal(pg_content_parse("full", &c), 0);
	assert_int_equal(c, PG_CONTENT_FULL);
	assert_int_equal(pg_content_parse("Full", &c), -1);
	assert_int_equal(pg_content_parse("", &c), -1);
	assert_int_equal(pg_content_parse(NULL, &c), -1);

	assert_true(pg_callback_ok("+18005550100"));
	assert_true(pg_callback_ok("(800) 555-0100"));
	assert_true(pg_callback_ok("911"));
	assert_false(pg_callback_ok("91"));
	assert_false(pg_callback_ok(""));
	assert_false(pg_callback_ok(NULL));
	assert_false(pg_callback_ok("call 800"));
	assert_false(pg_callback_ok("+1800555\n0100"));
	assert_false(pg_callback_ok("123456789012345678901234567890123"));   /* 33 */
}

static void test_level(void **state)
{
	struct pg_device dev[3] = {
		{ .channel = PG_CH_SMS },
		{ .channel = PG_CH_SMS, .content = PG_CONTENT_FULL },
		{ .channel = PG_CH_PAGER, .content = PG_CONTENT_SUMMARY },
	};
	struct pg_client cl;

	(void)state;
	memset(&cl, 0, sizeof cl);
	/* nothing set anywhere: full */
	assert_int_equal(pg_content_level(&cl, &dev[0], PG_CH_SMS), PG_CONTENT_FULL);
	assert_int_equal(pg_content_level(NULL, NULL, PG_CH_SMS), PG_CONTENT_FULL);
	/* the client's level for the channel */
	cl.content[PG_CH_SMS] = PG_CONTENT_NOTIFY;
	cl.content[PG_CH_PAGER] = PG_CONTENT_NOTIFY;
	assert_int_equal(pg_content_level(&cl, &dev[0], PG_CH_SMS), PG_CONTENT_NOTIFY);
	assert_int_equal(pg_content_level(&cl, &dev[0], PG_CH_EMAIL), PG_CONTENT_FULL);
	/* a device removed by a reload still gets the client's level */
	assert_int_equal(pg_content_level(&cl, NULL, PG_CH_SMS), PG_CONTENT_NOTIFY);
	/* the device's own level wins, also "full" over the client's */
	assert_int_equal(pg_content_level(&cl, &dev[1], PG_CH_SMS), PG_CONTENT_FULL);
	assert_int_equal(pg_content_level(&cl, &dev[2], PG_CH_PAGER), PG_CONTENT_SUMMARY);
	assert_int_equal(pg_content_level(&cl, &dev[0], PG_CH__COUNT), PG_CONTENT_FULL);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void test_summary(void **state)
{
	char out[4 * PG_SUMMARY_CHARS + 8];
	char in[512];

	(void)state;
	/* short: whitespace runs become one blank, ends trimmed */
	pg_content_summary("  No heat.\n\n  Thermostat\tshows 52°F.  ", out, sizeof out);
	assert_string_equal(out, "No heat. Thermostat shows 52°F.");
	pg_content_summary(NULL, out, sizeof out);
	assert_string_equal(out, "");
	/* exactly PG_SUMMARY_CHARS characters: kept whole */
	memset(in, 'a', 80);
	in[80] = '\0';
	pg_content_summary(in, out, sizeof out);
	assert_string_equal(out, in);
	/* one more: cut to 79 and an ellipsis (no blank to cut at) */
	memset(in, 'a', 81);
	in[81] = '\0';
	pg_content_summary(in, out, sizeof out);
	assert_int_equal(utf8_chars(out), 80);
	assert_int_equal(strncmp(out, in, 79), 0);
	assert_string_equal(out + 79, "…");
	/* cut at the last blank, never in a word */
	pg_content_summary("Patient Maria Lopez called about her post-operative pain after the "
			   "knee replacement on Tuesday; she needs a callback tonight please.",
			   out, sizeof out);
	assert_string_equal(out, "Patient Maria Lopez called about her post-operative pain after the "
			    "knee…");
	assert_true(utf8_chars(out) <= PG_SUMMARY_CHARS);
	/* multi-byte characters: counted as characters, cut on a boundary */
	in[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(in, "é");
	pg_content_summary(in, out, sizeof out);
	assert_int_equal(utf8_chars(out), 80);
	assert_true(pg_utf8_valid(out, strlen(out)));
	in[0] = '\0';
	for (int i = 0; i < 40; i++)
		strcat(in, "水漏れ ");
	pg_content_summary(in, out, sizeof out);
	assert_true(pg_utf8_valid(out, strlen(out)));
	assert_true(utf8_chars(out) <= PG_SUMMARY_CHARS);
	assert_string_equal(out + strlen(out) - 6, "れ…");   /* whole words only */
	/* a tiny buffer stays a valid, empty or short string */
	pg_content_summary("hello", out, 3);
	assert_string_equal(out, "");
}

static struct pg_field fields[] = {
	{ .id = "address", .label = "Service address" },
	{ .id = "dob", .label = "Date of birth" },
};
static struct pg_device jane_dev[] = { { .channel = PG_CH_PAGER, .to = "4412" } };
static struct pg_contact jane = {
	.id = "jane", .name = "Jane Ortiz", .devices = jane_dev, .n_devices = 1,
};
static struct pg_kv msg_fields[] = { { "address", "14 Oak St" }, { "dob", "1961-02-03" } };

static struct pg_client client(void)
{
	struct pg_client c;
	memset(&c, 0, sizeof c);
	c.id = "clinic";
	c.name = "Oak Clinic";
	c.fields = fields;
	c.n_fields = 2;
	c.contacts = &jane;
	c.n_contacts = 1;
	c.callback = "+18005550100";
	return c;
}

static struct pg_message message(void)
{
	struct pg_message m;
	memset(&m, 0, sizeof m);
	m.id = 7;
	m.client_id = "clinic";
	m.caller_name = "Maria Lopez";
	m.caller_phone = "+1 555 555 0142";
	m.caller_company = "Lopez Family";
	m.text = "Post-op pain after knee replacement, oxycodone not helping, fever 101.";
	m.fields = msg_fields;
	m.n_fields = 2;
	m.received_ms = 1795361640123LL;
	pg_strlcpy(m.ack_ref, "482913", sizeof m.ack_ref);
	return m;
}

/* Renders text with m's variables at level. */
static char *render_at(const char *text, enum pg_content level, enum pg_escape esc)
{
	struct pg_client c = client();
	struct pg_message m = message();
	struct pg_tvars tv;
	struct pg_buf b;
	int line;
	char err[200];

	assert_int_equal(pg_template_check(text, &c, &line, err, sizeof err), PG_OK);
	pg_tvars_init(&tv);
	pg_buf_init(&b, 65536);
	assert_int_equal(pg_tvars_for_message(&tv, &c, &m, &jane, 3), PG_OK);
	assert_int_equal(pg_content_apply(&tv, level), PG_OK);
	assert_int_equal(pg_template_render(text, &tv, esc, &b), PG_OK);
	pg_tvars_free(&tv);
	return pg_buf_steal(&b);
}

/* A client's own template that names everything cannot show what its
 * level hides. */
static void test_masking(void **state)
{
	const char *greedy = "{{text}}|{{caller.name}}|{{caller.phone}}|{{caller.company}}|"
			     "{{fields}}|{{fields.address}}|{{fields.dob}}|"
			     "{{client.name}}|{{callback}}|{{message.ack_ref}}";
	const char *secret[] = { "oxycodone", "Post-op", "Maria", "Lopez", "555 555 0142",
				 "14 Oak", "1961", "Service address" };
	char *s;

	(void)state;
	s = render_at(greedy, PG_CONTENT_FULL, PG_ESC_NONE);
	for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
		assert_non_null(strstr(s, secret[i]));
	free(s);

	s = render_at(greedy, PG_CONTENT_NOTIFY, PG_ESC_NONE);
	assert_string_equal(s, "|||||||Oak Clinic|+18005550100|482913");
	free(s);
	/* JSON keeps its own template: blanked the same way */
	s = render_at("{\"text\":\"{{text}}\",\"who\":\"{{caller.name}}\",\"ref\":\"{{message.ack_ref}}\"}",
		      PG_CONTENT_NOTIFY, PG_ESC_JSON);
	assert_string_equal(s, "{\"text\":\"\",\"who\":\"\",\"ref\":\"482913\"}");
	free(s);

	/* summary: the cut text and the caller, no fields */
	s = render_at(greedy, PG_CONTENT_SUMMARY, PG_ESC_NONE);
	assert_string_equal(s, "Post-op pain after knee replacement, oxycodone not helping, fever 101.|"
			    "Maria Lopez|+1 555 555 0142|Lopez Family||||Oak Clinic|+18005550100|482913");
	free(s);
	/* the default notify template */
	s = render_at("Message waiting for {{client.name}}.\nCall {{callback}} and give reference "
		      "{{message.ack_ref}}.\n", PG_CONTENT_NOTIFY, PG_ESC_NONE);
	assert_string_equal(s, "Message waiting for Oak Clinic.\nCall +18005550100 and give "
			    "reference 482913.\n");
	free(s);
}

static void test_templates(void **state)
{
	const char *sub, *body;

	(void)state;
	pg_content_templates(PG_CONTENT_FULL, "email.subject", "email.txt", true, &sub, &body);
	assert_string_equal(sub, "email.subject");
	assert_string_equal(body, "email.txt");
	pg_content_templates(PG_CONTENT_SUMMARY, NULL, "sms.txt", true, &sub, &body);
	assert_null(sub);
	assert_string_equal(body, "sms.txt");
	pg_content_templates(PG_CONTENT_NOTIFY, "email.subject", "email.txt", true, &sub, &body);
	assert_string_equal(sub, "notify.subject");
	assert_string_equal(body, "notify.txt");
	pg_content_templates(PG_CONTENT_NOTIFY, NULL, "pager.txt", true, &sub, &body);
	assert_null(sub);
	assert_string_equal(body, "notify.txt");
	pg_content_templates(PG_CONTENT_NOTIFY, NULL, "mqtt.json", false, &sub, &body);
	assert_null(sub);
	assert_string_equal(body, "mqtt.json");
}

/* ---- configuration ---- */

struct fx { char dir[64]; char conf[96]; };

static void put(struct fx *f, const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", f->dir, rel);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Writes the daemon file (with extra lines) and the templates. */
static void daemon_file(struct fx *f, const char *extra)
{
	char hash[65], text[1024];
	pg_sha256_hex("secret", 6, hash);
	snprintf(text, sizeof text,
		 "store = { dsn = \"sqlite:var/pg.db\"; };\n"
		 "templates = \"templates\";\n"
		 "operators = ( { name = \"ops\"; token_sha256 = \"%s\"; } );\n"
		 "smtp = ( { name = \"relay\"; host = \"127.0.0.1\"; from = \"gw@example.org\"; } );\n"
		 "%s", hash, extra);
	put(f, "pagegate.conf", text);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char sub[128];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/pg-test-content.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof f->conf, "%s/pagegate.conf", f->dir);
	snprintf(sub, sizeof sub, "%s/clients", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof sub, "%s/templates", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	daemon_file(f, "");
	put(f, "templates/email.subject", "{{client.name}}: {{caller.name}}");
	put(f, "templates/email.txt", "{{text}}\n");
	put(f, "templates/notify.subject", "Message for {{client.name}}");
	put(f, "templates/notify.txt", "Call {{callback}}, ref {{message.ack_ref}}\n");
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int r = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

/* Loads; returns the diagnostics as "file:line: message\n" lines. */
static char *load(struct fx *f, struct pg_config **out)
{
	struct pg_diags d;
	struct pg_buf b;
	size_t plen = strlen(f->dir) + 1;

	pg_diags_init(&d);
	pg_buf_init(&b, 1 << 16);
	pg_err e = pg_config_load(f->conf, out, &d);
	for (size_t i = 0; i < d.n; i++) {
		const char *file = d.v[i].file;
		if (strncmp(file, f->dir, plen - 1) == 0)
			file += plen;
		assert_int_equal(pg_buf_printf(&b, "%s:%d: %s\n", file, d.v[i].line, d.v[i].msg), PG_OK);
	}
	assert_int_equal(e, pg_diags_errors(&d) ? PG_ERR_CONFIG : PG_OK);
	pg_diags_free(&d);
	return pg_buf_steal(&b);
}

#define HEAD \
	"id = \"clinic\";\nname = \"Oak Clinic\";\ntimezone = \"UTC\";\n"       /* 1-3 */ \
	"business_hours = ( { days = \"Mon-Fri\"; from = \"08:00\"; to = \"17:00\"; } );\n" /* 4 */

static void test_config_ok(void **state)
{
	struct fx *f = *state;
	struct pg_config *c = NULL;
	char *got;

	daemon_file(f, "callback = \"+1 800 555 0199\";\n");
	put(f, "clients/clinic.conf", HEAD
	    "content = { pager = \"notify\"; sms = \"summary\"; email = \"full\"; };\n"  /* 5 */
	    "contacts = ( { id = \"jane\"; name = \"Jane\"; devices = (\n"              /* 6 */
	    "  { channel = \"email\"; to = \"jane@example.org\"; },\n"                  /* 7 */
	    "  { channel = \"email\"; to = \"jane-pager@example.org\"; content = \"notify\"; },\n"
	    "  { channel = \"email\"; to = \"jane-sum@example.org\"; content = \"summary\"; } ); } );\n"
	    "rules = ( { notify = \"contact:jane\"; } );\n");
	put(f, "clients/other.conf",
	    "id = \"other\";\nname = \"Other\";\ntimezone = \"UTC\";\n"
	    "callback = \"(800) 555-0111\";\n"
	    "contacts = ( { id = \"bo\"; name = \"Bo\"; devices = (\n"
	    "  { channel = \"email\"; to = \"bo@example.org\"; content = \"notify\"; } ); } );\n"
	    "rules = ( { notify = \"contact:bo\"; } );\n");
	got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	const struct pg_client *cl = pg_config_client(c, "clinic");
	assert_non_null(cl);
	assert_string_equal(c->callback, "+1 800 555 0199");
	assert_string_equal(cl->callback, "+1 800 555 0199");       /* the daemon's */
	assert_string_equal(pg_config_client(c, "other")->callback, "(800) 555-0111");
	assert_int_equal(cl->content[PG_CH_PAGER], PG_CONTENT_NOTIFY);
	assert_int_equal(cl->content[PG_CH_SMS], PG_CONTENT_SUMMARY);
	assert_int_equal(cl->content[PG_CH_EMAIL], PG_CONTENT_FULL);
	assert_int_equal(cl->content[PG_CH_FAX], PG_CONTENT_UNSET);
	const struct pg_contact *ct = pg_client_contact(cl, "jane");
	assert_int_equal(ct->n_devices, 3);
	assert_int_equal(ct->devices[0].content, PG_CONTENT_UNSET);
	assert_int_equal(ct->devices[1].content, PG_CONTENT_NOTIFY);
	assert_int_equal(ct->devices[2].content, PG_CONTENT_SUMMARY);
	assert_int_equal(ct->devices[1].n_opts, 0);      /* not a driver option */

	/* The plan shows each device's level. */
	struct pg_plan p;
	assert_int_equal(pg_route(cl, PG_KIND_MESSAGE, PG_URG_ROUTINE, 1795361640, &p), PG_OK);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.items[0].content, PG_CONTENT_FULL);
	assert_int_equal(p.items[1].content, PG_CONTENT_NOTIFY);
	assert_int_equal(p.items[2].content, PG_CONTENT_SUMMARY);
	pg_plan_free(&p);
	pg_config_release(c);
}

static void test_config_errors(void **state)
{
	struct fx *f = *state;
	struct pg_config *c = NULL;
	char *got;

	daemon_file(f, "callback = \"ask the operator\";\n");                      /* 5 */
	put(f, "clients/clinic.conf", HEAD
	    "content = { pagr = \"notify\"; sms = \"brief\"; pager = 3;\n"          /* 5 */
	    "            fax = \"notify\"; };\n"                                    /* 6 */
	    "contacts = ( { id = \"jane\"; name = \"Jane\"; devices = (\n"          /* 7 */
	    "  { channel = \"email\"; to = \"jane@example.org\"; content = \"none\"; },\n"
	    "  { channel = \"email\"; to = \"j2@example.org\"; content = \"notify\"; } ); } );\n"
	    "rules = ( { notify = \"contact:jane\"; } );\n");                        /* 10 */
	put(f, "clients/bad.conf",
	    "id = \"bad\";\nname = \"Bad\";\ntimezone = \"UTC\";\n"
	    "callback = \"+1 800 CALL NOW\";\n"                                      /* 4 */
	    "content = ( \"notify\" );\n"                                            /* 5 */
	    "contacts = ( { id = \"bo\"; name = \"Bo\"; devices = (\n"
	    "  { channel = \"email\"; to = \"bo@example.org\"; content = 1; } ); } );\n" /* 7 */
	    "rules = ( { notify = \"contact:bo\"; } );\n");
	got = load(f, &c);
	assert_null(c);
	assert_string_equal(got,
		"pagegate.conf:5: bad callback \"ask the operator\": expected a number to dial such as \"+18005550100\"\n"
		"clients/bad.conf:5: \"content\" must be a group { ... }, not a list\n"
		"clients/bad.conf:7: \"content\" must be a string in quotes, not a number\n"
		"clients/bad.conf:4: bad callback \"+1 800 CALL NOW\": expected a number to dial such as \"+18005550100\"\n"
		"clients/clinic.conf:8: bad content \"none\": expected \"full\", \"summary\" or \"notify\"\n"
		"clients/clinic.conf:5: unknown channel \"pagr\" in content (did you mean \"pager\"?)\n"
		"clients/clinic.conf:5: bad content \"brief\" for sms: expected \"full\", \"summary\" or \"notify\"\n"
		"clients/clinic.conf:5: \"pager\" must be a string in quotes, not a number\n"
		"clients/clinic.conf:6: content \"notify\" needs a callback number: set callback in this file or in pagegate.conf\n"
		"clients/clinic.conf:9: content \"notify\" needs a callback number: set callback in this file or in pagegate.conf\n");
	free(got);
}

/* notify.txt / notify.subject are needed only where a device is at
 * notify, and reported once at its first use. */
static void test_config_needs_notify_templates(void **state)
{
	struct fx *f = *state;
	struct pg_config *c = NULL;
	char path[256], want[600], *got;

	snprintf(path, sizeof path, "%s/templates/notify.txt", f->dir);
	assert_int_equal(remove(path), 0);
	snprintf(path, sizeof path, "%s/templates/notify.subject", f->dir);
	assert_int_equal(remove(path), 0);
	put(f, "clients/clinic.conf", HEAD
	    "callback = \"+18005550100\";\n"                                          /* 5 */
	    "contacts = ( { id = \"jane\"; name = \"Jane\"; devices = (\n"           /* 6 */
	    "  { channel = \"email\"; to = \"jane@example.org\"; },\n"               /* 7 */
	    "  { channel = \"email\"; to = \"j2@example.org\"; content = \"notify\"; },\n"
	    "  { channel = \"email\"; to = \"j3@example.org\"; content = \"notify\"; } ); } );\n"
	    "rules = ( { notify = \"contact:jane\"; } );\n");
	got = load(f, &c);
	assert_null(c);
	snprintf(want, sizeof want,
		 "clients/clinic.conf:8: email devices with content \"notify\" need the template \"notify.txt\", which is not in %s/templates\n"
		 "clients/clinic.conf:8: email devices with content \"notify\" need the template \"notify.subject\", which is not in %s/templates\n",
		 f->dir, f->dir);
	assert_string_equal(got, want);
	free(got);
	/* without a notify device, nothing is missing */
	put(f, "clients/clinic.conf", HEAD
	    "contacts = ( { id = \"jane\"; name = \"Jane\"; devices = (\n"
	    "  { channel = \"email\"; to = \"jane@example.org\"; content = \"summary\"; } ); } );\n"
	    "rules = ( { notify = \"contact:jane\"; } );\n");
	got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	pg_config_release(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_masking),
		cmocka_unit_test(test_templates),
		cmocka_unit_test_setup_teardown(test_config_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_needs_notify_templates, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
