/*
 * test_config_keys.c - the configuration engine (config_keys.h) as the
 * daemon file, the client files and every driver's section use it: one
 * wording for each kind of mistake wherever it is made, "did you mean"
 * everywhere, integer literals libconfig would truncate refused at their
 * file:line (@include'd files too), every key table proven to fit its
 * fields, the store's DSN resolved and store.path read with a warning.
 * Each case writes files into a fresh mkdtemp directory and compares the
 * complete list of diagnostics.
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

#include "pagegate/channel.h"
#include "pagegate/config.h"
#include "pagegate/config_keys.h"
#include "pagegate/util.h"

struct fx {
	char dir[64];
	char conf[96];
	char hash[65];
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

/* The daemon file: store, templates, an operator, then extra. */
static void daemon_file(struct fx *f, const char *store, const char *extra)
{
	char text[4096];
	snprintf(text, sizeof text,
		 "%s\n"                                                        /* 1 */
		 "templates = \"templates\";\n"                                /* 2 */
		 "operators = ( { name = \"ops\"; token_sha256 = \"%s\"; } );\n" /* 3 */
		 "%s", store, f->hash, extra);
	put(f, "pagegate.conf", text);
}

static const char client_ok[] =
	"id = \"acme\";\nname = \"Acme\";\ntimezone = \"UTC\";\n"
	"contacts = ( { id = \"jane\"; name = \"Jane\";\n"
	"  devices = ( { channel = \"email\"; to = \"jane@example.org\"; } ); } );\n"
	"rules = ( { notify = \"contact:jane\"; } );\n";

static const char smtp_ok[] =
	"smtp = ( { name = \"relay\"; host = \"127.0.0.1\"; from = \"gw@example.org\"; } );\n";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char sub[128];

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/pg-test-keys.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->conf, sizeof f->conf, "%s/pagegate.conf", f->dir);
	snprintf(sub, sizeof sub, "%s/clients", f->dir);
	if (mkdir(sub, 0700) != 0)
		return -1;
	snprintf(sub, sizeof sub, "%s/templates", f->dir);
	if (mkdir(sub, 0700) != 0)
		return -1;
	pg_sha256_hex("secret", 6, f->hash);
	*state = f;
	static const char *const names[] = { "email.subject", "email.txt", "sms.txt",
		"pager.txt", "mqtt.json", "fax.txt", "notify.txt", "notify.subject" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(sub, sizeof sub, "templates/%s", names[i]);
		put(f, sub, strstr(names[i], "json") ? "{\"text\": \"{{text}}\"}\n" : "{{text}}\n");
	}
	put(f, "clients/acme.conf", client_ok);
	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; };", smtp_ok);
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

/* Loads; every diagnostic as "file:line: message\n" with the directory
 * removed.  A load fails exactly when it reports an error. */
static char *load(struct fx *f, struct pg_config **out)
{
	struct pg_diags d;
	struct pg_buf b;
	size_t plen = strlen(f->dir) + 1;

	pg_diags_init(&d);
	pg_buf_init(&b, 1 << 20);
	pg_err e = pg_config_load(f->conf, out, &d);
	for (size_t i = 0; i < d.n; i++) {
		const char *file = d.v[i].file;
		if (strncmp(file, f->dir, plen - 1) == 0 && file[plen - 1] == '/')
			file += plen;
		assert_true(d.v[i].warning == (strncmp(d.v[i].msg, "warning: ", 9) == 0));
		assert_int_equal(pg_buf_printf(&b, "%s:%d: %s\n", file, d.v[i].line,
					       d.v[i].msg), PG_OK);
	}
	if (pg_diags_errors(&d)) {
		assert_int_equal(e, PG_ERR_CONFIG);
		assert_null(*out);
	} else {
		assert_int_equal(e, PG_OK);
		assert_non_null(*out);
	}
	pg_diags_free(&d);
	return b.data ? pg_buf_steal(&b) : strdup("");
}

static void expect(struct fx *f, const char *expected)
{
	struct pg_config *c = NULL;
	char *got = load(f, &c);
	if (strcmp(got, expected) != 0)
		fprintf(stderr, "got:\n%s", got);
	assert_string_equal(got, expected);
	free(got);
	if (c)
		pg_config_release(c);
}

/* ---- one wording for each kind of mistake ---- */

/* The same mistakes - an unknown setting with a near name, a wrong type,
 * a number out of range, a bad enum value, a missing required setting,
 * bad UTF-8, a control character - in the daemon file, a client file and
 * each driver's section read the same. */
static void test_one_wording(void **state)
{
	struct fx *f = *state;

	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; max_mb = -1; maxmb = 1; };",
	    "workrs = 4;\n"                                                        /* 4 */
	    "port = \"8025\";\n"                                                    /* 5 */
	    "callback = \"\\x01\";\n"                                              /* 6 */
	    "smtp = ( { name = \"relay\"; host = \"h\"; from = \"gw@example.org\";\n" /* 7 */
	    "  prot = 25; timeout = \"30\"; batch = 0; starttls = \"requird\"; helo = \"\\xff\"; },\n"
	    "  { name = \"b\"; from = \"b@example.org\"; } );\n"                  /* 9 */
	    "sms = ( { name = \"k\"; kind = \"http\"; url = \"http://k/\";\n"        /* 10 */
	    "  tiemout = 5; rate = \"fast\"; timeout = 0; escape = \"jsn\"; from = \"a\\tb\"; },\n"
	    "  { name = \"t\"; kind = \"twillio\"; } );\n"                          /* 12 */
	    "fax = ( { name = \"f\"; kind = \"hylafax\"; hots = \"h\"; user = \"u\";\n" /* 13 */
	    "  port = \"1\"; max_dials = 100; } );\n"                               /* 14 */
	    "pager = ( { name = \"p\"; kind = \"snpp\"; host = \"h\"; poart = 1;\n"  /* 15 */
	    "  ascii = \"no\"; max_length = 5; } );\n"                              /* 16 */
	    "mqtt = { hots = \"h\"; tls = 1; qos = 3; protocol = \"v55\"; client_id = \"\\xc3\"; };\n");
	put(f, "clients/acme.conf",
	    "id = \"acme\";\nname = \"Acme\\x02\";\ntimezone = \"UTC\";\n"        /* 1-3 */
	    "instructons = \"x\";\n"                                               /* 4 */
	    "fields = ( { id = \"a\"; required = \"yes\"; } );\n"                  /* 5 */
	    "contacts = ( { id = \"jane\";\n"                                      /* 6 */
	    "  devices = ( { channel = \"email\"; to = \"jane@example.org\"; content = \"ful\"; } ); } );\n"
	    "escalation = ( { id = \"e\"; repeat = 11; steps = ( { notify = \"contact:jane\"; } ); } );\n"
	    "rules = ( { notify = \"contact:jane\"; continu = true; } );\n");      /* 9 */
	expect(f,
	       /* the daemon file */
	       "pagegate.conf:1: bad max_mb: expected a whole number from 0 to 16777216\n"
	       "pagegate.conf:1: unknown setting \"maxmb\" in store (did you mean \"max_mb\"?)\n"
	       "pagegate.conf:4: unknown setting \"workrs\" (did you mean \"workers\"?)\n"
	       "pagegate.conf:5: \"port\" must be a whole number, not a string\n"
	       "pagegate.conf:6: bad callback: expected text without control characters (line breaks, tabs)\n"
	       /* email's smtp gateways */
	       "pagegate.conf:8: unknown setting \"prot\" in smtp gateway (did you mean \"port\"?)\n"
	       "pagegate.conf:8: \"timeout\" must be a whole number, not a string\n"
	       "pagegate.conf:8: bad batch: expected a whole number from 1 to 1000\n"
	       "pagegate.conf:8: bad starttls \"requird\": expected \"off\", \"opportunistic\" or \"required\" (did you mean \"required\"?)\n"
	       "pagegate.conf:8: bad helo: expected UTF-8 text\n"
	       "pagegate.conf:9: missing \"host\" in smtp gateway\n"
	       /* fax gateways */
	       "pagegate.conf:13: unknown setting \"hots\" in fax gateway (did you mean \"host\"?)\n"
	       "pagegate.conf:14: \"port\" must be a whole number, not a string\n"
	       "pagegate.conf:14: bad max_dials: expected a whole number from 1 to 99\n"
	       "pagegate.conf:13: missing \"host\" in fax gateway (a name or address)\n"
	       /* sms providers */
	       "pagegate.conf:11: unknown setting \"tiemout\" in sms provider (did you mean \"timeout\"?)\n"
	       "pagegate.conf:11: \"rate\" must be a number, not a string\n"
	       "pagegate.conf:11: bad timeout: expected a whole number from 1 to 300\n"
	       "pagegate.conf:11: bad escape \"jsn\": expected \"url\", \"json\" or \"none\" (did you mean \"json\"?)\n"
	       "pagegate.conf:11: bad from: expected text without control characters (line breaks, tabs)\n"
	       "pagegate.conf:12: bad kind \"twillio\": expected \"kannel\", \"twilio\" or \"http\" (did you mean \"twilio\"?)\n"
	       /* pager gateways */
	       "pagegate.conf:15: unknown setting \"poart\" in pager gateway (did you mean \"port\"?)\n"
	       "pagegate.conf:16: \"ascii\" must be true or false, not a string\n"
	       "pagegate.conf:16: bad max_length: expected a whole number from 20 to 1000\n"
	       /* the mqtt broker */
	       "pagegate.conf:17: unknown setting \"hots\" in mqtt (did you mean \"host\"?)\n"
	       "pagegate.conf:17: \"tls\" must be true or false, not a number\n"
	       "pagegate.conf:17: bad qos: expected a whole number from 0 to 2\n"
	       "pagegate.conf:17: bad protocol \"v55\": expected \"v5\", \"v311\" or \"auto\" (did you mean \"v5\"?)\n"
	       "pagegate.conf:17: bad client_id: expected UTF-8 text\n"
	       /* a client file */
	       "clients/acme.conf:2: bad name: expected text without control characters (line breaks, tabs)\n"
	       "clients/acme.conf:4: unknown setting \"instructons\" (did you mean \"instructions\"?)\n"
	       "clients/acme.conf:5: \"required\" must be true or false, not a string\n"
	       "clients/acme.conf:6: missing \"name\" in contact\n"
	       "clients/acme.conf:7: bad content \"ful\": expected \"full\", \"summary\" or \"notify\" (did you mean \"full\"?)\n"
	       "clients/acme.conf:8: bad repeat: expected a whole number from 1 to 10\n"
	       "clients/acme.conf:8: missing \"wait\" in escalation step (how long to wait for an acknowledgement, e.g. \"5m\")\n"
	       "clients/acme.conf:9: unknown setting \"continu\" in rule (did you mean \"continue\"?)\n");
}

/* Names that refer to something - channels, gateways, contacts, rotations,
 * policies - get "did you mean" too, in the daemon file, a client file
 * and the drivers' device checks. */
static void test_did_you_mean(void **state)
{
	struct fx *f = *state;

	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; };",
	    "smtp = ( { name = \"relay\"; host = \"h\"; from = \"gw@example.org\"; } );\n" /* 4 */
	    "default_smtp = \"rely\";\n"                                            /* 5 */
	    "retry = { pagr = { base = \"1m\"; }; };\n"                             /* 6 */
	    "sms = ( { name = \"kannel\"; kind = \"kannel\"; url = \"http://k/\";\n" /* 7 */
	    "  username = \"u\"; password = \"p\"; } );\n"
	    "pager = ( { name = \"metro\"; kind = \"snpp\"; host = \"h\"; } );\n"); /* 9 */
	put(f, "clients/acme.conf",
	    "id = \"acme\";\nname = \"Acme\";\ntimezone = \"UTC\";\n"
	    "contacts = ( { id = \"jane\"; name = \"Jane\"; devices = (\n"          /* 4 */
	    "  { channel = \"smss\"; to = \"+15555550111\"; },\n"                    /* 5 */
	    "  { channel = \"sms\"; to = \"+15555550111\"; gateway = \"kanel\"; },\n" /* 6 */
	    "  { channel = \"pager\"; pin = \"4412\"; gateway = \"metr\"; } ); } );\n" /* 7 */
	    "oncall = ( { id = \"techs\"; members = [ \"jane\" ]; rotation = \"daily\";\n"
	    "  handoff = \"08:00\"; start = \"2026-01-05\"; } );\n"                   /* 9 */
	    "content = { smss = \"summary\"; };\n"                                   /* 10 */
	    "rules = ( { notify = [ \"contact:jan\", \"oncall:tech\" ];\n"          /* 11 */
	    "  channels = [ \"emal\" ]; escalate = \"none\"; } );\n");              /* 12 */
	expect(f,
	       "pagegate.conf:5: unknown smtp gateway \"rely\" in default_smtp (did you mean \"relay\"?)\n"
	       "pagegate.conf:6: unknown channel \"pagr\" in retry (did you mean \"pager\"?)\n"
	       "clients/acme.conf:5: unknown channel \"smss\" (did you mean \"sms\"?)\n"
	       "clients/acme.conf:6: unknown sms gateway \"kanel\" (did you mean \"kannel\"?)\n"
	       "clients/acme.conf:7: unknown pager gateway \"metr\" (did you mean \"metro\"?)\n"
	       "clients/acme.conf:10: unknown channel \"smss\" in content (did you mean \"sms\"?)\n"
	       "clients/acme.conf:12: unknown escalation policy \"none\" in escalate\n"
	       "clients/acme.conf:11: unknown contact \"jan\" in notify (did you mean \"jane\"?)\n"
	       "clients/acme.conf:11: unknown rotation \"tech\" in notify (did you mean \"techs\"?)\n"
	       "clients/acme.conf:12: unknown channel \"emal\" in channels (did you mean \"email\"?)\n");
}

/* ---- numbers libconfig would truncate ---- */

static void test_big_literals(void **state)
{
	struct fx *f = *state;
	struct pg_config *c = NULL;
	char *got;

	/* 33 bits, in the daemon file, an @include'd file and a client file;
	 * the same digits in a string or a comment are no number */
	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; max_mb = 4294967297; };",
	    "smtp = ( { name = \"relay\"; host = \"h\"; from = \"gw@example.org\"; } );\n" /* 4 */
	    "@include \"more.conf\"\n"                                            /* 5 */
	    "max_body = 2147483648;\n");                                           /* 6 */
	put(f, "more.conf", "# 99999999999 in a comment\n"
	    "callback = \"+1 99999999999\";\n"
	    "workers = 0x1FFFFFFFF;\n");                                           /* 3 */
	put(f, "clients/acme.conf", "id = \"acme\";\nname = \"Acme\";\ntimezone = \"UTC\";\n"
	    "contacts = ( { id = \"jane\"; name = \"Jane\"; devices = (\n"
	    "  { channel = \"email\"; to = \"j@example.org\"; } ); } );\n"
	    "escalation = ( { id = \"e\"; repeat = -2147483649; steps = (\n"      /* 6 */
	    "  { notify = \"contact:jane\"; wait = 99999999999; } ); } );\n"       /* 7 */
	    "rules = ( { notify = \"contact:jane\"; } );\n");
	expect(f,
	       "pagegate.conf:1: number 4294967297 does not fit in 32 bits: write 4294967297L for a 64-bit number\n"
	       "more.conf:3: number 0x1FFFFFFFF does not fit in 32 bits: write 0x1FFFFFFFFL for a 64-bit number\n"
	       "pagegate.conf:6: number 2147483648 does not fit in 32 bits: write 2147483648L for a 64-bit number\n"
	       "clients/acme.conf:6: number -2147483649 does not fit in 32 bits: write -2147483649L for a 64-bit number\n"
	       "clients/acme.conf:7: number 99999999999 does not fit in 32 bits: write 99999999999L for a 64-bit number\n");

	/* with L they reach the range checks, which know the field */
	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; max_mb = 4294967297L; };",
	    "smtp = ( { name = \"relay\"; host = \"h\"; from = \"gw@example.org\";\n"
	    "  port = 4294967321L; } );\n"                                          /* 5 */
	    "sms = ( { name = \"k\"; kind = \"http\"; url = \"http://k/\"; timeout = 4294967297L; } );\n"
	    "max_body = 99999999999999999999L;\n");                                /* 7 */
	put(f, "clients/acme.conf", client_ok);
	expect(f,
	       "pagegate.conf:7: number 99999999999999999999L does not fit in 64 bits\n"
	       "pagegate.conf:1: bad max_mb: expected a whole number from 0 to 16777216\n"
	       "pagegate.conf:5: bad port: expected a whole number from 1 to 65535\n"
	       "pagegate.conf:6: bad timeout: expected a whole number from 1 to 300\n");

	/* a 64-bit value that fits its field loads */
	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; max_mb = 1024L; };", smtp_ok);
	got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	assert_int_equal(c->store_max_mb, 1024);
	pg_config_release(c);
}

/* ---- where: @include'd files, empty files ---- */

static void test_file_and_line(void **state)
{
	struct fx *f = *state;

	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; };",
	    "@include \"channels.conf\"\n");                                       /* 4 */
	put(f, "channels.conf", "\n"
	    "smtp = ( { name = \"relay\"; host = \"h\"; from = \"gw@example.org\";\n" /* 2 */
	    "  tls_ca = \"missing.pem\"; } );\n"                                    /* 3 */
	    "sms = ( { kind = \"kanel\"; } );\n");                                 /* 4 */
	put(f, "clients/empty.conf", "");
	char want[1024];
	snprintf(want, sizeof want,
		 "channels.conf:3: cannot read tls_ca \"%s/missing.pem\": No such file or directory\n"
		 "channels.conf:4: bad kind \"kanel\": expected \"kannel\", \"twilio\" or \"http\" (did you mean \"kannel\"?)\n"
		 "channels.conf:4: missing \"name\" in sms provider\n"
		 "clients/empty.conf:1: missing \"id\" (the client's short name, e.g. \"acme-hvac\")\n"
		 "clients/empty.conf:1: missing \"name\" (the client's name for people)\n"
		 "clients/empty.conf:1: missing \"timezone\" (e.g. \"America/Chicago\")\n"
		 "clients/empty.conf:1: client has no rules: no message would be sent to anyone\n",
		 f->dir);
	expect(f, want);
}

/* What is not a regular file is refused before libconfig reads it:
 * libconfig 1.5 exits the whole process on a directory ("input in flex
 * scanner failed"), which took the daemon down on a reload (found with
 * tests/fuzz/fuzz_config.c), and would wait on a FIFO. */
static void test_not_a_regular_file(void **state)
{
	struct fx *f = *state;
	char sub[128], want[512];

	snprintf(sub, sizeof sub, "%s/sub", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; };",
	    "@include \"sub\"\n");                                               /* 4 */
	expect(f, "pagegate.conf:4: @include \"sub\": not a regular file\n");
	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; };",
	    "@include \"/dev/null\"\n" "@include \".\"\n");                     /* 4, 5 */
	expect(f, "pagegate.conf:4: @include \"/dev/null\": not a regular file\n"
		  "pagegate.conf:5: @include \".\": not a regular file\n");
	/* an empty name is the directory itself; a NUL byte would hide the
	 * rest of the file from the check (both found by fuzz_config) */
	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; };",
	    "@include \"\"\n");                                                  /* 4 */
	expect(f, "pagegate.conf:4: @include \"\": not a regular file\n");
	{
		static const char nul[] = "listen = \"127.0.0.1\";\n@include \"\0/\";\n";
		snprintf(sub, sizeof sub, "%s/pagegate.conf", f->dir);
		FILE *fp = fopen(sub, "w");
		assert_non_null(fp);
		assert_int_equal(fwrite(nul, 1, sizeof nul - 1, fp), sizeof nul - 1);
		assert_int_equal(fclose(fp), 0);
		expect(f, "pagegate.conf:2: a NUL byte: a configuration file is text\n");
	}

	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; };", smtp_ok);
	snprintf(sub, sizeof sub, "%s/clients/dir.conf", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof sub, "%s/clients/fifo.conf", f->dir);
	assert_int_equal(mkfifo(sub, 0600), 0);
	snprintf(want, sizeof want, "clients/dir.conf:1: cannot read: not a regular file\n"
		 "clients/fifo.conf:1: cannot read: not a regular file\n");
	expect(f, want);
}

/* ---- the store ---- */

static void test_store_dsn(void **state)
{
	struct fx *f = *state;
	struct pg_config *c = NULL;
	char want[256], *got;

	/* relative to the file's directory */
	got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	snprintf(want, sizeof want, "sqlite:%s/var/pg.db", f->dir);
	assert_string_equal(c->store_dsn, want);
	pg_config_release(c);
	/* absolute, and another backend's DSN as written */
	daemon_file(f, "store = { dsn = \"sqlite:/srv/pg/pagegate.db\"; };", smtp_ok);
	got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	assert_string_equal(c->store_dsn, "sqlite:/srv/pg/pagegate.db");
	pg_config_release(c);
	daemon_file(f, "store = { dsn = \"postgresql://pg@db.example/pagegate\"; };", smtp_ok);
	got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	assert_string_equal(c->store_dsn, "postgresql://pg@db.example/pagegate");
	pg_config_release(c);
	daemon_file(f, "store = { dsn = \"postgresql:host=db1,db2 dbname=pagegate "
		    "target_session_attrs=read-write\"; };", smtp_ok);
	got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	assert_string_equal(c->store_dsn, "postgresql:host=db1,db2 dbname=pagegate "
			    "target_session_attrs=read-write");
	pg_config_release(c);

	daemon_file(f, "store = { dsn = \"sqlit:var/pg.db\"; };", smtp_ok);
	expect(f, "pagegate.conf:1: bad dsn \"sqlit:var/pg.db\": expected \"sqlite:PATH\" or a "
		  "backend's URL such as \"postgresql://...\" (did you mean \"sqlite:...\"?)\n");
	daemon_file(f, "store = { dsn = \"sqlite:\"; };", smtp_ok);
	expect(f, "pagegate.conf:1: bad dsn \"sqlite:\": expected \"sqlite:PATH\" or a "
		  "backend's URL such as \"postgresql://...\"\n");
	daemon_file(f, "store = { max_mb = 1; };", smtp_ok);
	expect(f, "pagegate.conf:1: missing \"dsn\" in store (e.g. \"sqlite:var/pagegate.db\")\n");
	daemon_file(f, "store = { dsn = \"sqlite:a.db\"; path = \"b.db\"; };", smtp_ok);
	expect(f, "pagegate.conf:1: set \"dsn\" or \"path\", not both\n");
}

/* store.path still works: a warning, never an error. */
static void test_store_path_deprecated(void **state)
{
	struct fx *f = *state;
	struct pg_config *c = NULL;
	struct pg_diags d;
	char want[256], *got;

	daemon_file(f, "store = {\n  path = \"var/pg.db\"; max_mb = 5; };", smtp_ok);
	got = load(f, &c);
	assert_string_equal(got, "pagegate.conf:2: warning: store.path is deprecated: write "
			    "dsn = \"sqlite:var/pg.db\"\n");
	free(got);
	snprintf(want, sizeof want, "sqlite:%s/var/pg.db", f->dir);
	assert_string_equal(c->store_dsn, want);
	assert_int_equal(c->store_max_mb, 5);
	pg_config_release(c);

	pg_diags_init(&d);
	assert_int_equal(pg_config_load(f->conf, &c, &d), PG_OK);
	assert_int_equal(d.n, 1);
	assert_true(d.v[0].warning);
	assert_int_equal(pg_diags_errors(&d), 0);
	pg_diags_free(&d);
	pg_config_release(c);

	/* with an error elsewhere, the load fails and reports both */
	daemon_file(f, "store = { path = \"var/pg.db\"; };", "workers = 0;\n" "smtp = ();\n");
	expect(f, "pagegate.conf:4: bad workers: expected a whole number from 1 to 64\n"
		  "pagegate.conf:1: warning: store.path is deprecated: write dsn = \"sqlite:var/pg.db\"\n"
		  "clients/acme.conf:5: email device, but the daemon configuration defines no smtp gateway\n");
}

/* ---- devices: the channel's address key and device keys ---- */

static void test_device_address(void **state)
{
	struct fx *f = *state;
	struct pg_config *c = NULL;
	char *got;

	daemon_file(f, "store = { dsn = \"sqlite:var/pg.db\"; };",
	    "pager = ( { name = \"metro\"; kind = \"snpp\"; host = \"h\"; } );\n"
	    "mqtt = { };\n");
	put(f, "clients/acme.conf", "id = \"acme\";\nname = \"Acme\";\ntimezone = \"UTC\";\n"
	    "contacts = ( { id = \"jane\"; name = \"Jane\"; devices = (\n"           /* 4 */
	    "  { channel = \"pager\"; pin = \"4412\"; max_length = 80; },\n"          /* 5 */
	    "  { channel = \"pager\"; to = \"4413\"; },\n"                            /* 6 */
	    "  { channel = \"mqtt\"; topic = \"pages/{client}/{contact}\"; expiry = \"1h\"; } ); } );\n"
	    "rules = ( { notify = \"contact:jane\"; } );\n");
	got = load(f, &c);
	assert_string_equal(got, "");
	free(got);
	const struct pg_contact *ct = pg_client_contact(pg_config_client(c, "acme"), "jane");
	assert_string_equal(ct->devices[0].to, "4412");
	assert_string_equal(pg_device_opt(&ct->devices[0], "max_length"), "80");
	assert_string_equal(ct->devices[1].to, "4413");
	assert_string_equal(ct->devices[2].to, "pages/{client}/{contact}");
	assert_string_equal(pg_device_opt(&ct->devices[2], "expiry"), "1h");
	pg_config_release(c);

	put(f, "clients/acme.conf", "id = \"acme\";\nname = \"Acme\";\ntimezone = \"UTC\";\n"
	    "contacts = ( { id = \"jane\"; name = \"Jane\"; devices = (\n"           /* 4 */
	    "  { channel = \"pager\"; },\n"                                          /* 5 */
	    "  { channel = \"pager\"; pin = \"4412\"; to = \"4413\"; },\n"            /* 6 */
	    "  { channel = \"pager\"; pin = \"4412\"; to = \"4412\"; max_lenght = 80; },\n"
	    "  { channel = \"mqtt\"; to = \"a\"; topic = \"b\"; expiry = 0; },\n"     /* 8 */
	    "  { channel = \"sms\"; to = \"+15555550111\"; } ); } );\n"               /* 9 */
	    "rules = ( { notify = \"contact:jane\"; } );\n");
	expect(f,
	       "clients/acme.conf:5: missing \"pin\" in pager device\n"
	       "clients/acme.conf:6: set \"pin\" or \"to\", not both\n"
	       "clients/acme.conf:7: unknown setting \"max_lenght\" in pager device (did you mean \"max_length\"?)\n"
	       "clients/acme.conf:8: bad expiry: expected a duration from 1s to 4294967295s such as \"30s\", \"5m\", \"2h\", \"1d\"\n"
	       "clients/acme.conf:8: set \"to\" or \"topic\", not both\n"
	       "clients/acme.conf:9: sms device, but the daemon configuration defines no sms provider\n");
}

/* ---- the tables ---- */

/* Every key table of the core and of every driver fits its fields; and
 * the check can fail. */
static void test_tables_fit(void **state)
{
	char why[200];
	size_t n = 0;

	(void)state;
	for (const struct pg_keytab *const *t = pg_conf_core_tables(); *t; t++, n++)
		if (!pg_conf_table_check(*t, why, sizeof why))
			fail_msg("%s: %s", (*t)->what ? (*t)->what : "top", why);
	assert_true(n >= 10);
	for (int k = 0; k < PG_CH__COUNT; k++) {
		const struct pg_channel *drv = pg_channel_for((enum pg_channel_kind)k);
		if (!drv)
			continue;
		for (const struct pg_keytab *const *t = drv->config_tables; t && *t; t++, n++)
			if (!pg_conf_table_check(*t, why, sizeof why))
				fail_msg("%s: %s: %s", drv->name, (*t)->what, why);
		const struct pg_keytab dk = { "device", drv->device_keys, NULL };
		const struct pg_keytab ck = { "top", drv->config_keys, NULL };
		if (drv->device_keys && !pg_conf_table_check(&dk, why, sizeof why))
			fail_msg("%s device keys: %s", drv->name, why);
		if (drv->config_keys && !pg_conf_table_check(&ck, why, sizeof why))
			fail_msg("%s settings: %s", drv->name, why);
		if (drv->config_parse)
			assert_non_null(drv->config_tables);
	}
	assert_true(n >= 15);

	/* what the check refuses */
	struct t8 { int8_t small; uint16_t port; bool b; char *s; int kind; };
	static const char *const names[] = { "a", "b", NULL };
	static const struct pg_key too_wide[] = {
		{ "small", PG_KT_INT, PG_AT(struct t8, small), .lo = 0, .hi = 300 }, PG_KEY_END };
	static const struct pg_key negative[] = {
		{ "port", PG_KT_INT, PG_AT(struct t8, port), .lo = -1, .hi = 65535 }, PG_KEY_END };
	static const struct pg_key fits[] = {
		{ "small", PG_KT_INT, PG_AT(struct t8, small), .lo = -128, .hi = 127 },
		{ "port", PG_KT_INT, PG_AT(struct t8, port), .lo = 0, .hi = 65535, .def = 80 },
		{ "b", PG_KT_BOOL, PG_AT(struct t8, b) },
		{ "s", PG_KT_STR, PG_AT(struct t8, s) },
		{ "kind", PG_KT_ENUM, PG_AT(struct t8, kind), .lo = 0, .hi = 1, .names = names },
		PG_KEY_END };
	static const struct pg_key wrong_type[] = {
		{ "b", PG_KT_STR, PG_AT(struct t8, b) }, PG_KEY_END };
	static const struct pg_key bad_default[] = {
		{ "port", PG_KT_INT, PG_AT(struct t8, port), .lo = 1, .hi = 9, .def = 10 }, PG_KEY_END };
	static const struct pg_key bad_enum[] = {
		{ "kind", PG_KT_ENUM, PG_AT(struct t8, kind), .lo = 0, .hi = 2, .names = names },
		PG_KEY_END };
	static const struct pg_key twice[] = {
		{ .name = "s", .type = PG_KT_STR }, { .name = "s", .type = PG_KT_STR }, PG_KEY_END };
	assert_true(pg_conf_table_check(&(struct pg_keytab){ "t", fits, NULL }, why, sizeof why));
	assert_false(pg_conf_table_check(&(struct pg_keytab){ "t", too_wide, NULL }, why, sizeof why));
	assert_string_equal(why, "small: 0..300 does not fit a signed 1-byte field");
	assert_false(pg_conf_table_check(&(struct pg_keytab){ "t", negative, NULL }, why, sizeof why));
	assert_string_equal(why, "port: -1..65535 does not fit a unsigned 2-byte field");
	assert_false(pg_conf_table_check(&(struct pg_keytab){ "t", wrong_type, NULL }, why, sizeof why));
	assert_false(pg_conf_table_check(&(struct pg_keytab){ "t", bad_default, NULL }, why, sizeof why));
	assert_false(pg_conf_table_check(&(struct pg_keytab){ "t", bad_enum, NULL }, why, sizeof why));
	assert_false(pg_conf_table_check(&(struct pg_keytab){ "t", twice, NULL }, why, sizeof why));
}

/* The engine stores into fields of every width and never past them. */
static void test_engine_stores(void **state)
{
	struct t { int8_t i8; uint16_t u16; int64_t i64; double d; bool b; char *s; char *p;
		   char **v; size_t n; int e; int keep; } x;
	static const char *const names[] = { "one", "two", "three", NULL };
	static const struct pg_key keys[] = {
		{ "i8", PG_KT_INT, PG_AT(struct t, i8), .lo = -100, .hi = 100, .def = 7 },
		{ "u16", PG_KT_INT, PG_AT(struct t, u16), .lo = 0, .hi = 65535, .def = 1 },
		{ "i64", PG_KT_DUR, PG_AT(struct t, i64), .lo = 1, .hi = INT64_C(1) << 40, .def = 5 },
		{ "d", PG_KT_NUM, PG_AT(struct t, d), .lo = 0, .hi = 10, .defd = 2.5 },
		{ "b", PG_KT_BOOL, PG_AT(struct t, b), .def = true },
		{ "s", PG_KT_STR, PG_AT(struct t, s), .lo = 1, .hi = 4, .defs = "dflt" },
		{ "p", PG_KT_PATH, PG_AT(struct t, p) },
		{ "v", PG_KT_STRS, PG_AT_N(struct t, v, n), .lo = 0, .hi = 3 },
		{ "e", PG_KT_ENUM, PG_AT(struct t, e), .lo = 10, .hi = 12, .def = 11, .names = names },
		{ "keep", PG_KT_INT, PG_KF_KEEP, PG_AT(struct t, keep), .lo = 1, .hi = 9 },
		PG_KEY_END };
	const struct pg_keytab tab = { "t", keys, NULL };
	struct pg_diags d;
	struct pg_conf cx;
	config_t cf;
	char why[200];

	(void)state;
	assert_true(pg_conf_table_check(&tab, why, sizeof why));
	memset(&x, 0, sizeof x);
	x.keep = 42;
	pg_diags_init(&d);
	pg_conf_init(&cx, "/etc/pg/x.conf", &d);
	pg_conf_apply(&cx, NULL, &tab, &x);              /* the defaults */
	assert_int_equal(x.i8, 7);
	assert_int_equal(x.i64, 5);
	assert_true(x.d == 2.5);
	assert_true(x.b);
	assert_string_equal(x.s, "dflt");
	assert_int_equal(x.e, 11);
	assert_int_equal(x.keep, 42);
	config_init(&cf);
	assert_int_equal(config_read_string(&cf,
		"a = { i8 = -100; u16 = 65535; i64 = \"12345678h\"; d = 7; b = false;\n"
		"      s = \"abcd\"; p = \"f.pem\"; v = [ \"x\", \"y\" ]; e = \"three\"; keep = 9; };\n"
		"b = { i8 = 101; u16 = 65536; i64 = 1099511627777L; d = 10.5; s = \"abcde\";\n"
		"      v = [ \"1\", \"2\", \"3\", \"4\" ]; e = \"four\"; };\n"), CONFIG_TRUE);
	pg_conf_apply(&cx, config_lookup(&cf, "a"), &tab, &x);
	assert_int_equal(d.n, 0);
	assert_int_equal(x.i8, -100);
	assert_int_equal(x.u16, 65535);
	assert_int_equal(x.i64, INT64_C(12345678) * 3600);
	assert_true(x.d == 7);
	assert_false(x.b);
	assert_string_equal(x.s, "abcd");
	assert_string_equal(x.p, "/etc/pg/f.pem");
	assert_int_equal(x.n, 2);
	assert_string_equal(x.v[1], "y");
	assert_int_equal(x.e, 12);
	assert_int_equal(x.keep, 9);
	pg_conf_apply(&cx, config_lookup(&cf, "b"), &tab, &x);   /* all refused */
	assert_int_equal(d.n, 7);
	assert_int_equal(cx.errors, 7);
	assert_string_equal(d.v[0].msg, "bad i8: expected a whole number from -100 to 100");
	assert_string_equal(d.v[1].msg, "bad u16: expected a whole number from 0 to 65535");
	assert_string_equal(d.v[2].msg, "bad i64: expected a duration from 1s to 1099511627776s "
			    "such as \"30s\", \"5m\", \"2h\", \"1d\"");
	assert_string_equal(d.v[3].msg, "bad d: expected a number from 0 to 10");
	assert_string_equal(d.v[4].msg, "bad s: expected 1 to 4 bytes");
	assert_string_equal(d.v[5].msg, "bad v: expected 0 to 3 entries");
	assert_string_equal(d.v[6].msg, "bad e \"four\": expected \"one\", \"two\" or \"three\"");
	/* a refused value leaves the default, never a cut-down value */
	assert_int_equal(x.i8, 7);                   /* their defaults */
	assert_int_equal(x.u16, 1);
	assert_string_equal(x.s, "dflt");
	assert_int_equal(x.e, 11);
	assert_int_equal(x.keep, 9);                 /* no default: kept */
	pg_conf_release(&tab, &x);
	assert_null(x.s);
	assert_null(x.p);
	assert_null(x.v);
	assert_int_equal(x.n, 0);
	pg_conf_done(&cx);
	pg_diags_free(&d);
	config_destroy(&cf);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_one_wording),
		T(test_did_you_mean),
		T(test_big_literals),
		T(test_file_and_line),
		T(test_not_a_regular_file),
		T(test_store_dsn),
		T(test_store_path_deprecated),
		T(test_device_address),
		cmocka_unit_test(test_tables_fit),
		cmocka_unit_test(test_engine_stores),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
