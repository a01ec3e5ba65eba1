/*
 * test_config.c - loading and validating the daemon file, templates and
 * client preference files.  Each case writes files into a fresh mkdtemp
 * directory, loads them and compares the complete list of diagnostics
 * ("file:line: message", with the directory prefix removed) with the
 * expected text.  Also: the repository's own etc/pagegate.conf loads
 * cleanly with the right values, and the live configuration swaps and
 * counts references correctly under concurrent readers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pagegate/channel.h"
#include "pagegate/config.h"
#include "pagegate/config_keys.h"
#include "pagegate/util.h"
#include "../../src/chan/email/email_priv.h"

struct fx {
	char dir[64];
	char conf[96];
};

static void put(struct fx *f, const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", f->dir, rel);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* A valid daemon file (operator token "secret"), two templates and an
 * empty clients directory. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/pg-test-config.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->conf, sizeof f->conf, "%s/pagegate.conf", f->dir);
	char sub[128];
	snprintf(sub, sizeof sub, "%s/clients", f->dir);
	if (mkdir(sub, 0700) != 0)
		return -1;
	snprintf(sub, sizeof sub, "%s/templates", f->dir);
	if (mkdir(sub, 0700) != 0)
		return -1;
	char hash[65], text[1024];
	pg_sha256_hex("secret", 6, hash);
	snprintf(text, sizeof text,
		 "store = { dsn = \"sqlite:var/pg.db\"; };\n"
		 "templates = \"templates\";\n"
		 "operators = ( { name = \"ops\"; token_sha256 = \"%s\"; } );\n"
		 "smtp = ( { name = \"relay\"; host = \"127.0.0.1\"; from = \"gw@example.org\"; } );\n",
		 hash);
	*state = f;
	put(f, "pagegate.conf", text);
	put(f, "templates/email.subject", "{{client.name}}: {{caller.name}}\n");
	put(f, "templates/email.txt", "{{text}}\n\nReceived {{message.received}}\n");
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

/* Loads f's daemon file and returns every diagnostic as
 * "relative/file:line: message\n" (caller frees). */
static char *load(struct fx *f, struct pg_config **out)
{
	struct pg_diags d;
	struct pg_buf b;
	pg_diags_init(&d);
	pg_buf_init(&b, 1 << 20);
	pg_err e = pg_config_load(f->conf, out, &d);
	size_t plen = strlen(f->dir) + 1;
	for (size_t i = 0; i < d.n; i++) {
		const char *file = d.v[i].file;
		if (strncmp(file, f->dir, plen - 1) == 0 && file[plen - 1] == '/')
			file += plen;
		assert_int_equal(pg_buf_printf(&b, "%s:%d: %s\n", file, d.v[i].line, d.v[i].msg), PG_OK);
	}
	/* A load fails exactly when it reports an error (warnings do not
	 * fail it). */
	if (pg_diags_errors(&d)) {
		assert_int_equal(e, PG_ERR_CONFIG);
		assert_null(*out);
	} else {
		assert_int_equal(e, PG_OK);
		assert_non_null(*out);
	}
	pg_diags_free(&d);
	return pg_buf_steal(&b);
}

/* Loads and compares the diagnostics with expected ("" = must load). */
static void expect(struct fx *f, const char *expected)
{
	struct pg_config *c = NULL;
	char *got = load(f, &c);
	assert_string_equal(got, expected);
	free(got);
	if (c)
		pg_config_release(c);
}

/* A valid client with the given contacts and rules sections. */
#define CLIENT_HEAD \
	"id = \"acme\";\n"                                              /* 1 */ \
	"name = \"Acme\";\n"                                            /* 2 */ \
	"dnis = [ \"8005550142\" ];\n"                                  /* 3 */ \
	"timezone = \"America/Chicago\";\n"                             /* 4 */

#define CLIENT_OK CLIENT_HEAD \
	"contacts = ( { id = \"jane\"; name = \"Jane\";\n"              /* 5 */ \
	"  devices = ( { channel = \"email\"; to = \"jane@example.org\"; } ); } );\n" \
	"rules = ( { notify = \"contact:jane\"; } );\n"                 /* 7 */

static void test_minimal_loads(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_OK);
	struct pg_config *c = NULL;
	char *got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	/* defaults */
	assert_string_equal(c->listen, "127.0.0.1");
	assert_int_equal(c->port, 8025);
	assert_string_equal(c->public_url, "http://127.0.0.1:8025");
	assert_int_equal(c->max_body, 65536);
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->store_max_mb, 0);
	char want[160];
	snprintf(want, sizeof want, "sqlite:%s/var/pg.db", f->dir);
	assert_string_equal(c->store_dsn, want);
	snprintf(want, sizeof want, "%s/clients", f->dir);
	assert_string_equal(c->clients_dir, want);
	const struct email_cfg *ec = c->chan_cfg[PG_CH_EMAIL];
	assert_null(ec->default_name);
	const struct pg_smtp_gateway *gw = email_gateway(c, NULL);
	assert_ptr_equal(gw, &ec->gw[0]);
	assert_int_equal(gw->port, 25);
	assert_int_equal(gw->starttls, PG_TLS_OPPORTUNISTIC);
	assert_int_equal(gw->timeout_s, 30);
	assert_int_equal(gw->batch, 20);
	assert_null(gw->user);
	assert_null(gw->helo);
	assert_null(email_gateway(c, "other"));
	const struct pg_retry_policy *r = pg_config_retry(c, PG_CH_EMAIL);
	assert_int_equal(r->base_s, 30);
	assert_int_equal(r->cap_s, 1800);
	assert_int_equal(r->give_up_s, 86400);
	r = pg_config_retry(c, PG_CH_SMS);
	assert_int_equal(r->base_s, 30);
	assert_int_equal(r->cap_s, 600);
	assert_int_equal(r->give_up_s, 4 * 3600);
	/* authentication by token hash */
	assert_ptr_equal(pg_config_auth(c, "secret"), &c->operators[0]);
	assert_string_equal(pg_config_auth(c, "secret")->name, "ops");
	assert_null(pg_config_auth(c, "Secret"));
	assert_null(pg_config_auth(c, ""));
	assert_null(pg_config_auth(c, NULL));
	/* templates from the directory, sorted by name */
	assert_int_equal(c->n_templates, 2);
	assert_string_equal(c->templates[0].name, "email.subject");
	assert_string_equal(c->templates[1].name, "email.txt");
	assert_string_equal(c->templates[0].text, "{{client.name}}: {{caller.name}}\n");
	assert_int_equal(c->templates[0].line, 1);
	/* a rule without "when" matches everything, to every device */
	const struct pg_client *cl = pg_config_client(c, "acme");
	assert_non_null(cl);
	assert_int_equal(cl->n_rules, 1);
	assert_int_equal(cl->rules[0].kind, -1);
	assert_int_equal(cl->rules[0].urgency, -1);
	assert_int_equal(cl->rules[0].hours, PG_HOURS_ANY);
	assert_int_equal(cl->rules[0].channels, 0);
	assert_int_equal(cl->rules[0].line, 7);
	assert_false(cl->rules[0].hold_business);
	assert_false(cl->rules[0].cont);
	assert_null(cl->instructions);
	assert_int_equal(cl->n_hours, 0);
	pg_config_release(c);
}

static void test_syntax_error(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_HEAD "contacts = ( { id = ; } );\n");
	put(f, "clients/zeta.conf", "id = \"zeta\"\nname = \"Zeta\";\ntimezone = \"UTC\";\nrules = (\n");
	expect(f, "clients/acme.conf:5: syntax error\n"
		  "clients/zeta.conf:5: syntax error\n");
	put(f, "pagegate.conf", "store = { dsn = \"sqlite:x\" };\nport = 80 80;\n");
	expect(f, "pagegate.conf:2: syntax error\n");
}

/* A file that cannot be opened is reported at its line 1 (every diagnostic
 * has a line). */
static void test_missing_files(void **state)
{
	struct fx *f = *state;
	snprintf(f->conf, sizeof f->conf, "%s/nope.conf", f->dir);
	expect(f, "nope.conf:1: cannot open: No such file or directory\n");
	snprintf(f->conf, sizeof f->conf, "%s/pagegate.conf", f->dir);
	put(f, "pagegate.conf",
	    "store = { dsn = \"sqlite:x\"; };\n"
	    "templates = \"tpl\";\n"
	    "clients = \"cl\";\n"
	    "operators = ( { name = \"a\"; token_sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"; } );\n");
	char want[512];
	snprintf(want, sizeof want,
		 "pagegate.conf:2: cannot read templates directory \"%s/tpl\": No such file or directory\n"
		 "pagegate.conf:3: cannot read clients directory \"%s/cl\": No such file or directory\n",
		 f->dir, f->dir);
	expect(f, want);
}

static void test_daemon_errors(void **state)
{
	struct fx *f = *state;
	put(f, "pagegate.conf",
	    "lisen = \"0.0.0.0\";\n"                                          /* 1 */
	    "port = \"8025\";\n"                                              /* 2 */
	    "store = { max_mb = 10; };\n"                                     /* 3 */
	    "templates = \"templates\";\n"                                    /* 4 */
	    "workers = 0;\n"                                                  /* 5 */
	    "max_body = 100;\n"                                               /* 6 */
	    "operators = ( { name = \"ops\"; token_sha256 = \"7c43ef5a\"; },\n" /* 7 */
	    "  { name = \"ops\"; token_sha256 = \"zz43ef5ae21d43ce2743f770c68e24def1a43ee2f416d2438410c8af7af2ff2c\"; } );\n"
	    "smtp = ( { name = \"relay\"; host = \"h\"; from = \"no at sign\"; user = \"u\"; },\n" /* 9 */
	    "  { name = \"relay\"; from = \"a@b.example\"; starttls = \"maybe\"; port = 0; } );\n"
	    "default_smtp = \"relay3\";\n"                                    /* 11 */
	    "retry = { email = { base = \"1h\"; cap = \"30m\"; };\n"          /* 12 */
	    "  emial = { base = \"1m\"; };\n"                                 /* 13 */
	    "  sms = { give_up = \"forever\"; basis = \"1m\"; }; };\n");      /* 14 */
	expect(f,
	       "pagegate.conf:1: unknown setting \"lisen\" (did you mean \"listen\"?)\n"
	       "pagegate.conf:2: \"port\" must be a whole number, not a string\n"
	       "pagegate.conf:5: bad workers: expected a whole number from 1 to 64\n"
	       "pagegate.conf:6: bad max_body: expected a whole number from 1024 to 16777216\n"
	       "pagegate.conf:3: missing \"dsn\" in store (e.g. \"sqlite:var/pagegate.db\")\n"
	       "pagegate.conf:7: bad token_sha256: expected 64 hexadecimal characters (the SHA-256 of the token; see pagegate hash-token)\n"
	       "pagegate.conf:8: duplicate operator name \"ops\" (first at line 7)\n"
	       "pagegate.conf:8: bad token_sha256: expected 64 hexadecimal characters (the SHA-256 of the token; see pagegate hash-token)\n"
	       "pagegate.conf:9: bad from \"no at sign\": expected an address local@domain\n"
	       "pagegate.conf:9: set both \"user\" and \"password\", or neither\n"
	       "pagegate.conf:10: bad starttls \"maybe\": expected \"off\", \"opportunistic\" or \"required\"\n"
	       "pagegate.conf:10: bad port: expected a whole number from 1 to 65535\n"
	       "pagegate.conf:10: missing \"host\" in smtp gateway\n"
	       "pagegate.conf:10: duplicate smtp gateway \"relay\" (first at line 9)\n"
	       "pagegate.conf:11: unknown smtp gateway \"relay3\" in default_smtp (did you mean \"relay\"?)\n"
	       "pagegate.conf:12: retry email: base (1h) is larger than cap (30m)\n"
	       "pagegate.conf:13: unknown channel \"emial\" in retry (did you mean \"email\"?)\n"
	       "pagegate.conf:14: bad give_up: expected a duration from 1s to 366d such as \"30s\", \"5m\", \"2h\", \"1d\"\n"
	       "pagegate.conf:14: unknown setting \"basis\" in retry (did you mean \"base\"?)\n");
}

static void test_missing_store_and_operators(void **state)
{
	struct fx *f = *state;
	put(f, "pagegate.conf", "templates = \"templates\";\nsmtp = ();\n");
	expect(f, "pagegate.conf:1: missing \"store\" (store = { dsn = \"sqlite:var/pagegate.db\"; })\n"
		  "pagegate.conf:1: no operators: at least one is needed to use the API\n");
}

static void test_operator_tokens(void **state)
{
	struct fx *f = *state;
	put(f, "pagegate.conf",
	    "store = { dsn = \"sqlite:x\"; max_mb = 20000000; };\n"
	    "templates = \"templates\";\n"
	    "operators = ( { name = \"ann\"; token_sha256 = \"7C43EF5AE21D43CE2743F770C68E24DEF1A43EE2F416D2438410C8AF7AF2FF2C\"; },\n"
	    "  { name = \"bob\";\n"
	    "    token_sha256 = \"7c43ef5ae21d43ce2743f770c68e24def1a43ee2f416d2438410c8af7af2ff2c\"; },\n"
	    "  { token_sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"; } );\n");
	expect(f, "pagegate.conf:1: bad max_mb: expected a whole number from 0 to 16777216\n"
		  "pagegate.conf:5: operator \"bob\" has the same token as \"ann\" (line 3)\n"
		  "pagegate.conf:6: missing \"name\" in operator\n");
	/* upper-case hex is accepted and stored in lower case */
	put(f, "pagegate.conf",
	    "store = { dsn = \"sqlite:x\"; };\n"
	    "templates = \"templates\";\n"
	    "operators = ( { name = \"ann\"; token_sha256 = \"7C43EF5AE21D43CE2743F770C68E24DEF1A43EE2F416D2438410C8AF7AF2FF2C\"; } );\n");
	struct pg_config *c = NULL;
	char *got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	assert_string_equal(c->operators[0].token_sha256,
			    "7c43ef5ae21d43ce2743f770c68e24def1a43ee2f416d2438410c8af7af2ff2c");
	assert_string_equal(pg_config_auth(c, "demo-token")->name, "ann");
	pg_config_release(c);
}

/* Escalation policies: every mistake named with its line; a valid one
 * is loaded with its steps, waits and targets. */
static void test_escalation_policies(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_HEAD
	    "contacts = ( { id = \"jane\"; name = \"Jane\";\n"                         /* 5 */
	    "  devices = ( { channel = \"email\"; to = \"j@example.org\"; } ); } );\n" /* 6 */
	    "escalation = ( { id = \"em\"; repeat = 2; steps = (\n"                     /* 7 */
	    "    { notify = \"contact:jane\"; wait = \"90s\"; },\n"                     /* 8 */
	    "    { notify = \"oncall:nobody\"; wait = \"5m\"; },\n"                     /* 9 */
	    "    { notify = \"contact:jane\"; },\n"                                     /* 10 */
	    "    { notify = \"contact:jane\"; wait = \"0s\"; waitt = 1; } ); },\n"      /* 11 */
	    "  { id = \"em\"; repeat = 0; steps = ( ); } );\n"                          /* 12 */
	    "rules = ( { escalate = \"emm\"; },\n"                                      /* 13 */
	    "  { notify = \"contact:jane\"; escalate = \"em\"; } );\n");                /* 14 */
	expect(f,
	       "clients/acme.conf:9: unknown rotation \"nobody\" in notify\n"
	       "clients/acme.conf:10: missing \"wait\" in escalation step (how long to wait for an acknowledgement, e.g. \"5m\")\n"
	       "clients/acme.conf:11: bad wait: expected a duration from 1s to 7d such as \"30s\", \"5m\", \"2h\", \"1d\"\n"
	       "clients/acme.conf:11: unknown setting \"waitt\" in escalation step (did you mean \"wait\"?)\n"
	       "clients/acme.conf:12: bad repeat: expected a whole number from 1 to 10\n"
	       "clients/acme.conf:12: duplicate escalation \"em\" (first at line 7)\n"
	       "clients/acme.conf:12: escalation has no steps\n"
	       "clients/acme.conf:13: unknown escalation policy \"emm\" in escalate (did you mean \"em\"?)\n");

	put(f, "clients/acme.conf", CLIENT_HEAD
	    "contacts = ( { id = \"jane\"; name = \"Jane\";\n"
	    "  devices = ( { channel = \"email\"; to = \"j@example.org\"; } ); } );\n"
	    "escalation = ( { id = \"em\"; repeat = 3; steps = (\n"
	    "    { notify = \"contact:jane\"; channels = [ \"email\" ]; wait = \"90s\"; },\n"
	    "    { notify = \"contact:jane\"; wait = 30; } ); } );\n"
	    "rules = ( { escalate = \"em\"; } );\n");
	struct pg_config *c = NULL;
	char *got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	const struct pg_client *cl = pg_config_client(c, "acme");
	assert_non_null(cl);
	assert_int_equal(cl->n_escalations, 1);
	assert_int_equal(cl->escalations[0].repeat, 3);
	assert_int_equal(cl->escalations[0].n_steps, 2);
	assert_int_equal(cl->escalations[0].steps[0].wait_s, 90);
	assert_int_equal(cl->escalations[0].steps[1].wait_s, 30);
	assert_int_equal(cl->escalations[0].steps[0].target.channels, 1u << PG_CH_EMAIL);
	assert_int_equal(cl->rules[0].escalate, 1);
	assert_int_equal(cl->rules[0].n_contacts, 0);
	pg_config_release(c);
}

static void test_unknown_keys_and_types(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_HEAD
	    "instructons = \"x\";\n"                                                  /* 5 */
	    "fields = ( { id = \"unit\"; required = \"yes\"; } );\n"                  /* 6 */
	    "contacts = ( { id = \"jane\"; name = \"Jane\";\n"                        /* 7 */
	    "  devices = ( { channel = \"email\"; too = \"j@example.org\"; } ); } );\n" /* 8 */
	    "rules = ( { when = { urgncy = \"urgent\"; }; notfy = \"contact:jane\"; },\n" /* 9 */
	    "  { notify = \"contact:jane\"; continue = 1; channels = \"email\"; } );\n" /* 10 */
	    "escalaton = ( );\n");                                                    /* 11 */
	expect(f,
	       "clients/acme.conf:5: unknown setting \"instructons\" (did you mean \"instructions\"?)\n"
	       "clients/acme.conf:11: unknown setting \"escalaton\" (did you mean \"escalation\"?)\n"
	       "clients/acme.conf:6: \"required\" must be true or false, not a string\n"
	       "clients/acme.conf:8: unknown setting \"too\" in email device (did you mean \"to\"?)\n"
	       "clients/acme.conf:8: missing \"to\" in email device\n"
	       "clients/acme.conf:9: unknown setting \"urgncy\" in when (did you mean \"urgency\"?)\n"
	       "clients/acme.conf:9: unknown setting \"notfy\" in rule (did you mean \"notify\"?)\n"
	       "clients/acme.conf:9: missing \"notify\" in rule (whom to send to, e.g. \"contact:office\")\n"
	       "clients/acme.conf:10: \"continue\" must be true or false, not a number\n"
	       "clients/acme.conf:10: \"channels\" must be an array of strings [ \"...\" ], not a string\n");
}

static void test_timezone_hours_holidays(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf",
	    "id = \"acme\";\n"
	    "name = \"Acme\";\n"
	    "timezone = \"America/Chicgo\";\n"                                      /* 3 */
	    "business_hours = ( { days = \"Mon-Fri\"; from = \"25:00\"; to = \"17:00\"; },\n" /* 4 */
	    "  { days = \"Sat\"; from = \"17:00\"; to = \"08:00\"; },\n"              /* 5 */
	    "  { days = \"Mon-Fry\"; from = \"8:00\"; to = \"24:00\"; },\n"           /* 6 */
	    "  { days = \"Sun\"; from = \"09:00\"; },\n"                              /* 7 */
	    "  { days = \"Sat-Sun\"; from = \"10:00\"; to = \"10:00\"; } );\n"        /* 8 */
	    "holidays = [ \"2026-12-25\", \"2026-02-30\",\n"                          /* 9 */
	    "  \"2026-13-01\", \"25.12.2026\" ];\n"                                   /* 10 */
	    "contacts = ( { id = \"jane\"; name = \"Jane\";\n"
	    "  devices = ( { channel = \"email\"; to = \"jane@example.org\"; } ); } );\n"
	    "rules = ( { notify = \"contact:jane\"; } );\n");
	expect(f,
	       "clients/acme.conf:3: unknown time zone \"America/Chicgo\"\n"
	       "clients/acme.conf:4: bad time \"25:00\": expected HH:MM\n"
	       "clients/acme.conf:5: business hours from 17:00 is not before to 08:00 (split a range that crosses midnight in two)\n"
	       "clients/acme.conf:6: bad days \"Mon-Fry\": expected \"Mon-Fri\", \"Sat\" or \"Mon,Wed,Fri\"\n"
	       "clients/acme.conf:6: bad time \"8:00\": expected HH:MM\n"
	       "clients/acme.conf:7: missing \"to\" in business hours (HH:MM)\n"
	       "clients/acme.conf:8: business hours from 10:00 is not before to 10:00 (split a range that crosses midnight in two)\n"
	       "clients/acme.conf:9: bad holiday \"2026-02-30\": expected a calendar date YYYY-MM-DD\n"
	       "clients/acme.conf:10: bad holiday \"2026-13-01\": expected a calendar date YYYY-MM-DD\n"
	       "clients/acme.conf:10: bad holiday \"25.12.2026\": expected a calendar date YYYY-MM-DD\n");
}

static void test_hours_parsed(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_OK
	    "business_hours = ( { days = \"Mon,Wed,Fri\"; from = \"00:00\"; to = \"24:00\"; },\n"
	    "  { days = \"Fri-Mon\"; from = \"07:30\"; to = \"12:15\"; },\n"
	    "  { days = \"sat - sun\"; from = \"09:00\"; to = \"10:00\"; } );\n"
	    "holidays = [ \"2028-02-29\" ];\n");
	struct pg_config *c = NULL;
	char *got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	const struct pg_client *cl = &c->clients[0];
	assert_int_equal(cl->n_hours, 3);
	assert_int_equal(cl->hours[0].days, (1u << 1) | (1u << 3) | (1u << 5));
	assert_int_equal(cl->hours[0].from_min, 0);
	assert_int_equal(cl->hours[0].to_min, 1440);
	assert_int_equal(cl->hours[0].line, 8);
	assert_int_equal(cl->hours[1].days, (1u << 5) | (1u << 6) | (1u << 0) | (1u << 1));
	assert_int_equal(cl->hours[1].from_min, 450);
	assert_int_equal(cl->hours[1].to_min, 735);
	assert_int_equal(cl->hours[2].days, (1u << 6) | (1u << 0));
	assert_int_equal(cl->n_holidays, 1);
	assert_int_equal(cl->holidays[0].year, 2028);
	assert_int_equal(cl->holidays[0].month, 2);
	assert_int_equal(cl->holidays[0].day, 29);
	assert_string_equal(pg_tz_name(cl->tz), "America/Chicago");
	assert_string_equal(cl->tzid, "America/Chicago");
	pg_config_release(c);
}

static void test_contacts_and_rules(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_HEAD
	    "contacts = (\n"                                                            /* 5 */
	    "  { id = \"jane\"; name = \"Jane\";\n"                                     /* 6 */
	    "    devices = ( { channel = \"email\"; to = \"jane@example.org\"; gateway = \"relay2\"; } ); },\n"
	    "  { id = \"raj\"; name = \"Raj\";\n"                                       /* 8 */
	    "    devices = ( { channel = \"email\"; to = \"raj at example.org\"; pin = \"12\"; } ); },\n"
	    "  { id = \"jane\"; name = \"Jane again\";\n"                               /* 10 */
	    "    devices = ( { channel = \"email\"; to = \"j2@example.org\"; } ); },\n"
	    "  { id = \"bob\"; name = \"Bob\"; devices = ( { channel = \"emial\"; to = \"b@example.org\"; } ); },\n" /* 12 */
	    "  { id = \"kim\"; name = \"Kim\"; devices = ( ); }\n"                      /* 13 */
	    ");\n"
	    "rules = (\n"                                                               /* 15 */
	    "  { when = { kind = \"dispach\"; hours = \"night\"; }; notify = [ \"contact:jim\", \"oncall:techs\", \"jane\" ]; },\n"
	    "  { when = { urgency = \"critical\"; }; notify = \"contact:jane\"; channels = [ \"fax\", \"emial\" ]; },\n"
	    "  { notify = \"contact:jane\"; hold = \"after\"; },\n"                    /* 18 */
	    "  { notify = [ ]; hold = \"business\"; }\n"                                /* 19 */
	    ");\n");
	expect(f,
	       "clients/acme.conf:7: unknown smtp gateway \"relay2\" (did you mean \"relay\"?)\n"
	       "clients/acme.conf:9: unknown setting \"pin\" in email device\n"
	       "clients/acme.conf:9: bad email address \"raj at example.org\": expected local@domain\n"
	       "clients/acme.conf:10: duplicate contact id \"jane\" (first at line 6)\n"
	       "clients/acme.conf:12: unknown channel \"emial\" (did you mean \"email\"?)\n"
	       "clients/acme.conf:13: contact \"kim\" has no devices\n"
	       "clients/acme.conf:16: bad hours \"night\": expected \"any\", \"business\" or \"after\"\n"
	       "clients/acme.conf:16: bad kind \"dispach\": expected \"message\" or \"dispatch\" (did you mean \"dispatch\"?)\n"
	       "clients/acme.conf:16: unknown contact \"jim\" in notify (did you mean \"kim\"?)\n"
	       "clients/acme.conf:16: unknown rotation \"techs\" in notify\n"
	       "clients/acme.conf:16: bad notify \"jane\": expected \"contact:ID\" or \"oncall:ID\"\n"
	       "clients/acme.conf:17: bad urgency \"critical\": expected \"routine\", \"urgent\" or \"emergency\"\n"
	       "clients/acme.conf:17: rule sends by fax, but none of its contacts has a fax device\n"
	       "clients/acme.conf:17: unknown channel \"emial\" in channels (did you mean \"email\"?)\n"
	       "clients/acme.conf:18: bad hold \"after\": expected \"business\"\n"
	       "clients/acme.conf:19: rule notifies nobody\n"
	       "clients/acme.conf:19: hold = \"business\", but the client has no business_hours\n");
}

/* Names people tell apart (PG_KF_NAME): a client's or contact's name with
 * a bidi override or an invisible character is an error at its line; a
 * Persian name with the ZWNJ it needs loads. */
static void test_names_visible(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf",
	    "id = \"acme\";\n"                                                     /* 1 */
	    "name = \"Acme \xe2\x80\xae" "emca\";\n"                               /* 2 */
	    "timezone = \"America/Chicago\";\n"                                     /* 3 */
	    "contacts = (\n"                                                          /* 4 */
	    "  { id = \"jane\"; name = \"Ja\xe2\x80\x8bne\";\n"                       /* 5 */
	    "    devices = ( { channel = \"email\"; to = \"jane@example.org\"; } ); },\n"
	    "  { id = \"ali\"; name = \"\xd8\xb9\xd9\x84\xdb\x8c\xe2\x80\x8c\xd8\xa7\xda\xa9\xd8\xa8\xd8\xb1\";\n"
	    "    devices = ( { channel = \"email\"; to = \"ali@example.org\"; } ); }\n"
	    ");\n"
	    "rules = ( { notify = [ \"contact:jane\", \"contact:ali\" ]; } );\n");
	expect(f,
	       "clients/acme.conf:2: bad name: expected a name without invisible or "
	       "direction-changing characters (U+202E after 5 characters)\n"
	       "clients/acme.conf:5: bad name: expected a name without invisible or "
	       "direction-changing characters (U+200B after 2 characters)\n");
}

/* summary: every or at, not both; a real local time; a bounded period;
 * whom, as a rule's notify.  A good one loads with its values. */
static void test_summary(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_OK
	    "summary = { every = \"4h\"; at = \"07:00\"; notify = \"contact:jane\"; };\n"); /* 8 */
	expect(f, "clients/acme.conf:8: set \"every\" or \"at\", not both\n");
	put(f, "clients/acme.conf", CLIENT_OK
	    "summary = { at = \"25:00\"; notify = \"contact:jim\"; };\n");
	expect(f, "clients/acme.conf:8: bad at \"25:00\": expected a local time HH:MM such as \"07:00\"\n"
	       "clients/acme.conf:8: unknown contact \"jim\" in notify (known: jane)\n");
	put(f, "clients/acme.conf", CLIENT_OK
	    "summary = { every = \"5s\"; notify = \"contact:jim\"; };\n");
	expect(f, "clients/acme.conf:8: bad every: expected a duration from 10s to 7d such as \"30s\", \"5m\", \"2h\", \"1d\"\n"
	       "clients/acme.conf:8: unknown contact \"jim\" in notify (known: jane)\n");
	put(f, "clients/acme.conf", CLIENT_OK "summary = { empty = true; };\n");
	expect(f, "clients/acme.conf:8: missing \"every\" in summary (or \"at\", e.g. every = \"4h\" or at = \"07:00\")\n"
	       "clients/acme.conf:8: missing \"notify\" in summary (whom to send to, e.g. \"contact:office\")\n");
	put(f, "clients/acme.conf", CLIENT_OK
	    "summary = { at = \"07:30\"; empty = true; notify = \"contact:jane\"; };\n");
	struct pg_config *c = NULL;
	char *got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	const struct pg_summary *sm = &c->clients[0].summary;
	assert_int_equal(sm->line, 8);
	assert_int_equal(sm->at_min, 7 * 60 + 30);
	assert_int_equal(sm->every_s, 0);
	assert_true(sm->empty);
	assert_int_equal(sm->target.n_contacts, 1);
	pg_config_release(c);
}

/* A device on a channel this build has no driver for is refused; which
 * channels those are changes as drivers land, so the test picks one.  When
 * every channel is built, it checks exactly that instead.  The mailbox is
 * no driver (test_mailbox.c checks its own refusal). */
static void test_channel_not_built(void **state)
{
	struct fx *f = *state;
	char text[512], want[128];
	int k;

	for (k = 0; k < PG_CH__COUNT && (k == PG_CH_MAILBOX ||
	     pg_channel_for((enum pg_channel_kind)k)); k++)
		;
	if (k == PG_CH__COUNT) {
		for (k = 0; k < PG_CH__COUNT; k++)
			if (k != PG_CH_MAILBOX)
				assert_non_null(pg_channel_for((enum pg_channel_kind)k));
		assert_null(pg_channel_for(PG_CH_MAILBOX));
		return;
	}
	const char *name = pg_channel_name((enum pg_channel_kind)k);
	snprintf(text, sizeof text, CLIENT_HEAD
		 "contacts = ( { id = \"jane\"; name = \"Jane\";\n"
		 "  devices = ( { channel = \"%s\"; to = \"x1\"; } ); } );\n"  /* 6 */
		 "rules = ( { notify = \"contact:jane\"; } );\n", name);
	put(f, "clients/acme.conf", text);
	snprintf(want, sizeof want,
		 "clients/acme.conf:6: channel \"%s\" is not available in this build\n", name);
	expect(f, want);
}

static void test_duplicates_across_clients(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_OK);
	put(f, "clients/beta.conf",
	    "# a second file claiming the same id and number\n"
	    "id = \"acme\";\n"                                                    /* 2 */
	    "name = \"Beta\";\n"
	    "dnis = [ \"6125550100\", \"8005550142\", \"6125550100\", \"800-555\" ];\n" /* 4 */
	    "timezone = \"UTC\";\n"
	    "contacts = ( { id = \"x\"; name = \"X\";\n"
	    "  devices = ( { channel = \"email\"; to = \"x@example.org\"; } ); } );\n"
	    "rules = ( { notify = \"contact:x\"; } );\n");
	/* the earlier file is named as the load named it (full path) */
	char want[1024];
	snprintf(want, sizeof want,
		 "clients/beta.conf:2: duplicate client id \"acme\" (first in %s/clients/acme.conf:1)\n"
		 "clients/beta.conf:4: dnis \"8005550142\" is already used by client acme (%s/clients/acme.conf:3)\n"
		 "clients/beta.conf:4: duplicate dnis \"6125550100\" (first at line 4)\n"
		 "clients/beta.conf:4: bad dnis \"800-555\": expected the dialled number as digits only\n",
		 f->dir, f->dir);
	expect(f, want);
}

static void test_missing_client_basics(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", "# nothing but a comment\nfields = ( { label = \"x\"; } );\nrules = ();\n");
	put(f, "clients/notes.txt", "not a client file: ignored\n");
	expect(f,
	       "clients/acme.conf:1: missing \"id\" (the client's short name, e.g. \"acme-hvac\")\n"
	       "clients/acme.conf:1: missing \"name\" (the client's name for people)\n"
	       "clients/acme.conf:1: missing \"timezone\" (e.g. \"America/Chicago\")\n"
	       "clients/acme.conf:2: missing \"id\" in field\n"
	       "clients/acme.conf:3: client has no rules: no message would be sent to anyone\n");
}

static void test_template_errors(void **state)
{
	struct fx *f = *state;
	put(f, "templates/email.txt", "Hello {{caller.name}}\n\nAddress: {{fields.address}}\n");
	put(f, "templates/sms.txt", "Call from {{caller.name}}\n{{caller.nmae}}\n");
	put(f, "templates/pager.txt", "{{text\n");
	put(f, "templates/.hidden", "{{ignored}}\n");
	put(f, "clients/acme.conf", CLIENT_OK
	    "fields = ( { id = \"address\"; label = \"Address\"; required = true; } );\n" /* 8 */
	    "templates = {\n"                                                         /* 9 */
	    "  email_txt = \"Line one {{fields.address}}\n"                           /* 10 */
	    "Line two {{caller.name}}\n"                                              /* 11 */
	    "Line three {{caller.nam}}\";\n"                                          /* 12 */
	    "  email_subjct = \"x\";\n"                                               /* 13 */
	    "  email_subject = \"{{message.urgency}} {{fields.unit}}\";\n"            /* 14 */
	    "};\n");
	put(f, "clients/beta.conf",
	    "id = \"beta\";\nname = \"Beta\";\ntimezone = \"UTC\";\n"
	    "contacts = ( { id = \"x\"; name = \"X\";\n"
	    "  devices = ( { channel = \"email\"; to = \"x@example.org\"; } ); } );\n"
	    "rules = ( { notify = \"contact:x\"; } );\n");
	expect(f,
	       "clients/acme.conf:13: unknown setting \"email_subjct\" in templates (did you mean \"email_subject\"?)\n"
	       "templates/pager.txt:1: \"{{\" without \"}}\" on the same line\n"
	       "templates/sms.txt:2: unknown variable \"caller.nmae\"\n"
	       "clients/acme.conf:12: template email_txt: unknown variable \"caller.nam\"\n"
	       "clients/acme.conf:14: template email_subject: client acme has no field \"unit\"\n"
	       "templates/email.txt:3: client beta has no field \"address\"\n");
}

static void test_template_needed(void **state)
{
	struct fx *f = *state;
	char path[128];
	snprintf(path, sizeof path, "%s/templates/email.subject", f->dir);
	assert_int_equal(unlink(path), 0);
	put(f, "clients/acme.conf", CLIENT_OK);
	char want[512];
	snprintf(want, sizeof want,
		 "clients/acme.conf:6: email devices need the template \"email.subject\", which is not in %s/templates\n",
		 f->dir);
	expect(f, want);
}

/* One load reports the problems of every file, not just the first. */
static void test_all_files_reported(void **state)
{
	struct fx *f = *state;
	put(f, "pagegate.conf",
	    "store = { dsn = \"sqlite:x\"; };\ntemplates = \"templates\";\nworkers = 65;\n"
	    "operators = ( { name = \"a\"; token_sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"; } );\n"
	    "smtp = ( { name = \"relay\"; host = \"h\"; from = \"a@b.example\"; } );\n");
	put(f, "clients/a.conf", CLIENT_HEAD "contacts = ( { id = ; } );\n");
	put(f, "clients/b.conf", "id = \"b\";\nname = \"B\";\ntimezone = \"Mars/Base\";\n"
	    "contacts = ( { id = \"x\"; name = \"X\";\n"
	    "  devices = ( { channel = \"email\"; to = \"x@example.org\"; } ); } );\n"
	    "rules = ( { notify = \"contact:y\"; } );\n");
	expect(f,
	       "pagegate.conf:3: bad workers: expected a whole number from 1 to 64\n"
	       "clients/a.conf:5: syntax error\n"
	       "clients/b.conf:3: unknown time zone \"Mars/Base\"\n"
	       "clients/b.conf:6: unknown contact \"y\" in notify (known: x)\n");
}

static const char *repo_root(void)
{
	static const char *const cands[] = { ".", "..", "../..", "../../.." };
	const char *top = getenv("PAGEGATE_TOP");
	struct stat st;
	char p[512];
	if (top) {
		snprintf(p, sizeof p, "%s/etc/pagegate.conf", top);
		if (stat(p, &st) == 0)
			return top;
	}
	for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
		snprintf(p, sizeof p, "%s/etc/pagegate.conf", cands[i]);
		if (stat(p, &st) == 0)
			return cands[i];
	}
	return NULL;
}

static void test_repository_config(void **state)
{
	(void)state;
	const char *root = repo_root();
	assert_non_null(root);
	char path[512];
	snprintf(path, sizeof path, "%s/etc/pagegate.conf", root);
	struct pg_diags d;
	struct pg_config *c = NULL;
	pg_diags_init(&d);
	pg_err e = pg_config_load(path, &c, &d);
	for (size_t i = 0; i < d.n; i++)
		print_error("%s:%d: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
	assert_int_equal(d.n, 0);
	assert_int_equal(e, PG_OK);
	pg_diags_free(&d);

	assert_int_equal(c->refs, 1);
	assert_string_equal(c->listen, "127.0.0.1");
	assert_int_equal(c->port, 8025);
	assert_string_equal(c->public_url, "http://127.0.0.1:8025");
	char want[600];
	snprintf(want, sizeof want, "sqlite:%s/etc/../var/pagegate.db", root);
	assert_string_equal(c->store_dsn, want);
	snprintf(want, sizeof want, "%s/etc/../templates", root);
	assert_string_equal(c->templates_dir, want);
	assert_int_equal(c->max_body, 65536);
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->n_operators, 1);
	assert_string_equal(c->operators[0].name, "demo");
	assert_ptr_equal(pg_config_auth(c, "demo-token"), &c->operators[0]);
	assert_null(pg_config_auth(c, "demo-token "));
	assert_int_equal(((const struct email_cfg *)c->chan_cfg[PG_CH_EMAIL])->n, 1);
	const struct pg_smtp_gateway *gw = email_gateway(c, NULL);
	assert_string_equal(gw->name, "local");
	assert_string_equal(gw->host, "127.0.0.1");
	assert_int_equal(gw->port, 2526);
	assert_int_equal(gw->starttls, PG_TLS_OFF);
	assert_string_equal(gw->from, "pagegate@localhost");
	assert_string_equal(gw->from_name, "Answering Service");
	assert_int_equal(gw->timeout_s, 30);
	assert_int_equal(gw->batch, 20);
	assert_int_equal(c->retry[PG_CH_EMAIL].give_up_s, 86400);
	assert_non_null(pg_config_template(c, NULL, "email.subject"));
	assert_non_null(pg_config_template(c, NULL, "email.txt"));

	/* clients, sorted by file name */
	assert_int_equal(c->n_clients, 2);
	const struct pg_client *a = pg_config_client(c, "acme-hvac");
	assert_ptr_equal(a, &c->clients[0]);
	assert_string_equal(a->name, "Acme Heating & Cooling");
	snprintf(want, sizeof want, "%s/etc/clients/acme-hvac.conf", root);
	assert_string_equal(a->file, want);
	assert_string_equal(a->tzid, "America/Chicago");
	assert_ptr_equal(a->tz, pg_tz_get("America/Chicago"));
	assert_int_equal(a->n_dnis, 1);
	assert_string_equal(a->dnis[0], "8005550142");
	assert_ptr_equal(pg_config_client_by_dnis(c, "8005550142"), a);
	assert_int_equal(a->n_hours, 2);
	assert_int_equal(a->hours[0].days, 0x3e);           /* Mon-Fri */
	assert_int_equal(a->hours[0].from_min, 8 * 60);
	assert_int_equal(a->hours[0].to_min, 17 * 60);
	assert_int_equal(a->hours[0].line, 7);
	assert_int_equal(a->hours[1].days, 0x40);           /* Sat */
	assert_int_equal(a->hours[1].from_min, 9 * 60);
	assert_int_equal(a->hours[1].to_min, 12 * 60);
	assert_int_equal(a->n_holidays, 2);
	assert_int_equal(a->holidays[0].year, 2026);
	assert_int_equal(a->holidays[0].month, 12);
	assert_int_equal(a->holidays[0].day, 25);
	assert_int_equal(a->holidays[1].year, 2027);
	assert_string_equal(a->instructions,
			    "Gas smell? Tell the caller to leave the building and call 911.");
	assert_int_equal(a->n_fields, 2);
	assert_string_equal(a->fields[0].id, "address");
	assert_string_equal(a->fields[0].label, "Service address");
	assert_true(a->fields[0].required);
	assert_false(pg_client_field(a, "unit")->required);
	assert_null(pg_client_field(a, "phone"));

	assert_int_equal(a->n_contacts, 3);
	const struct pg_contact *jane = pg_client_contact(a, "jane");
	assert_ptr_equal(jane, &a->contacts[1]);
	assert_string_equal(jane->name, "Jane Ortiz");
	assert_int_equal(jane->line, 19);
	assert_int_equal(jane->n_devices, 1);
	assert_int_equal(jane->devices[0].channel, PG_CH_EMAIL);
	assert_string_equal(jane->devices[0].to, "jane@acme.example");
	assert_null(jane->devices[0].gateway);
	assert_int_equal(jane->devices[0].n_opts, 0);
	assert_int_equal(jane->devices[0].line, 20);

	assert_int_equal(a->n_rules, 5);
	const struct pg_rule *r = a->rules;
	assert_int_equal(r[0].kind, PG_KIND_DISPATCH);
	assert_int_equal(r[0].urgency, -1);
	assert_int_equal(r[0].n_contacts, 0);    /* the escalation notifies */
	assert_int_equal(r[0].escalate, 1);
	assert_int_equal(r[0].line, 39);
	assert_int_equal(a->n_rotations, 1);
	assert_int_equal(a->n_escalations, 1);
	const struct pg_escalation *pe = &a->escalations[0];
	assert_string_equal(pe->id, "no-heat");
	assert_int_equal(pe->repeat, 2);
	assert_int_equal(pe->n_steps, 3);
	assert_int_equal(pe->steps[1].target.n_oncall, 1);
	assert_int_equal(pe->steps[1].target.oncall[0].offset, 1);
	assert_int_equal(pe->steps[2].wait_s, 600);
	assert_int_equal(r[1].kind, -1);
	assert_int_equal(r[1].urgency, PG_URG_EMERGENCY);
	assert_int_equal(r[1].channels, 0);
	assert_int_equal(r[1].n_contacts, 2);
	assert_int_equal(r[2].urgency, PG_URG_URGENT);
	assert_int_equal(r[2].hours, PG_HOURS_AFTER);
	assert_true(r[2].cont);
	assert_false(r[2].hold_business);
	assert_int_equal(r[3].hours, PG_HOURS_BUSINESS);
	assert_false(r[3].cont);
	assert_int_equal(r[4].hours, PG_HOURS_AFTER);
	assert_true(r[4].hold_business);
	assert_int_equal(r[4].n_contacts, 1);
	assert_int_equal(r[4].contacts[0], 0);
	assert_int_equal(r[4].line, 46);

	/* the subject is overridden, the body is the default */
	const struct pg_template *t = pg_config_template(c, a, "email.subject");
	assert_ptr_equal(t, &a->templates[0]);
	assert_string_equal(t->text,
			    "[Acme] {{message.urgency}} call from {{caller.name}} ({{caller.phone}})");
	assert_int_equal(t->line, 52);
	assert_ptr_equal(pg_config_template(c, a, "email.txt"), pg_config_template(c, NULL, "email.txt"));
	assert_null(pg_config_template(c, a, "no-such.txt"));

	const struct pg_client *l = pg_config_client(c, "lakeside-clinic");
	assert_ptr_equal(l, &c->clients[1]);
	assert_string_equal(pg_tz_name(l->tz), "America/New_York");
	assert_ptr_equal(pg_config_client_by_dnis(c, "6125550100"), l);
	assert_null(pg_config_client_by_dnis(c, "6125550101"));
	assert_null(pg_config_client(c, "acme"));
	assert_int_equal(l->hours[0].days, 0x1e);           /* Mon-Thu */
	assert_int_equal(l->hours[0].from_min, 7 * 60 + 30);
	assert_int_equal(l->n_rules, 4);
	assert_int_equal(l->n_templates, 0);
	pg_config_release(c);
}

/* ---- the live configuration ---- */

static struct pg_config *load_ok(struct fx *f)
{
	struct pg_config *c = NULL;
	char *got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	return c;
}

static void test_live_swap(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_OK);
	struct pg_config *c1 = load_ok(f), *c2 = load_ok(f);
	struct pg_live_config live;
	pg_live_init(&live, c1);
	assert_int_equal(c1->refs, 1);

	struct pg_config *held = pg_live_get(&live);
	assert_ptr_equal(held, c1);
	assert_int_equal(c1->refs, 2);

	pg_live_swap(&live, c2);
	/* the old one lives on for its holder, the new one is current */
	assert_int_equal(c1->refs, 1);
	assert_string_equal(pg_config_client(held, "acme")->name, "Acme");
	struct pg_config *now = pg_live_get(&live);
	assert_ptr_equal(now, c2);
	assert_int_equal(c2->refs, 2);
	pg_config_release(now);
	assert_int_equal(c2->refs, 1);
	pg_config_hold(held);
	assert_int_equal(c1->refs, 2);
	pg_config_release(held);
	pg_config_release(held);   /* frees c1 (ASan checks) */
	pg_live_destroy(&live);    /* frees c2 */
}

struct reader { struct pg_live_config *live; int rounds; int bad; };

static void *read_live(void *arg)
{
	struct reader *r = arg;
	for (int i = 0; i < r->rounds; i++) {
		struct pg_config *c = pg_live_get(r->live);
		if (!pg_config_client(c, "acme") || __atomic_load_n(&c->refs, __ATOMIC_RELAXED) < 1)
			r->bad++;
		pg_config_release(c);
	}
	return NULL;
}

/* Readers take and drop references while the configuration is swapped;
 * every configuration is freed exactly once (ASan/LSan check it). */
static void test_live_concurrent(void **state)
{
	struct fx *f = *state;
	put(f, "clients/acme.conf", CLIENT_OK);
	struct pg_live_config live;
	pg_live_init(&live, load_ok(f));
	enum { N = 4 };
	pthread_t th[N];
	struct reader rd[N];
	for (int i = 0; i < N; i++) {
		rd[i] = (struct reader){ &live, 20000, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, read_live, &rd[i]), 0);
	}
	for (int i = 0; i < 30; i++)
		pg_live_swap(&live, load_ok(f));
	for (int i = 0; i < N; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(rd[i].bad, 0);
	}
	struct pg_config *c = pg_live_get(&live);
	assert_int_equal(c->refs, 2);
	pg_config_release(c);
	pg_live_destroy(&live);
}

static void test_diags_bounded(void **state)
{
	(void)state;
	struct pg_diags d;
	pg_diags_init(&d);
	for (int i = 0; i < 1005; i++)
		pg_diag_add(&d, "f.conf", i, "problem %d", i);
	assert_int_equal(d.n, 1000);
	assert_string_equal(d.v[999].msg, "problem 999");
	assert_int_equal(d.v[999].line, 999);
	pg_diags_free(&d);
	assert_int_equal(d.n, 0);
	assert_null(d.v);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_minimal_loads),
		T(test_syntax_error),
		T(test_missing_files),
		T(test_daemon_errors),
		T(test_missing_store_and_operators),
		T(test_operator_tokens),
		T(test_unknown_keys_and_types),
		T(test_escalation_policies),
		T(test_timezone_hours_holidays),
		T(test_hours_parsed),
		T(test_contacts_and_rules),
		T(test_names_visible),
		T(test_summary),
		T(test_channel_not_built),
		T(test_duplicates_across_clients),
		T(test_missing_client_basics),
		T(test_template_errors),
		T(test_template_needed),
		T(test_all_files_reported),
		cmocka_unit_test(test_repository_config),
		T(test_live_swap),
		T(test_live_concurrent),
		cmocka_unit_test(test_diags_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
