/*
 * fuzz.h - what the fuzz harnesses (tests/fuzz/fuzz_*.c) share: a copy of
 * the input as a C string, a scratch directory of their own, files
 * written into it, and a configuration loaded from text through the real
 * loader (pg_config_load), so that parsers are fuzzed with the clients,
 * fields and channels a daemon would have.
 *
 * Each harness defines LLVMFuzzerTestOneInput only: it is linked either
 * with libFuzzer (`make fuzz`, clang) or with tests/fuzz/replay.c (`make
 * test`: the committed corpus and crash files, any compiler).  Static
 * state lives here and in the harnesses (set up once, on the first input),
 * never in the library.
 */
#ifndef PAGEGATE_FUZZ_H
#define PAGEGATE_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pagegate/config.h"
#include "pagegate/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The source tree (for templates/), set by the Makefile. */
#ifndef PG_FUZZ_TOP
#define PG_FUZZ_TOP "."
#endif

/* Stops the harness with a message: an invariant of the code under test
 * does not hold (libFuzzer and the replay both see the abort). */
#define FUZZ_ASSERT(c)                                                         \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #c);                       \
			abort();                                               \
		}                                                              \
	} while (0)

/* data[0..size) as a NUL-terminated string (a NUL inside stays: C string
 * parsers see the part before it); exits on no memory. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The harness's scratch directory, made on first use and removed (with
 * what fuzz_write put there) at exit. */
static char fuzz_dir_path[256];
static char fuzz_files[8][320];
static size_t fuzz_n_files;

static void
fuzz_cleanup(void)
{
	for (size_t i = fuzz_n_files; i-- > 0; )
		if (unlink(fuzz_files[i]) != 0)
			(void)rmdir(fuzz_files[i]);
	if (fuzz_dir_path[0])
		(void)rmdir(fuzz_dir_path);
}

static inline const char *
fuzz_dir(void)
{
	if (!fuzz_dir_path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/pagegate-fuzz-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(fuzz_dir_path))
			abort();
		atexit(fuzz_cleanup);
	}
	return fuzz_dir_path;
}

/* The path of name in the scratch directory (remembered for the clean-up
 * the first time; at most 8 names). */
static inline const char *
fuzz_path(const char *name)
{
	static char p[320];

	snprintf(p, sizeof p, "%s/%s", fuzz_dir(), name);
	for (size_t i = 0; i < fuzz_n_files; i++)
		if (strcmp(fuzz_files[i], p) == 0)
			return p;
	if (fuzz_n_files == sizeof fuzz_files / sizeof fuzz_files[0])
		abort();
	strcpy(fuzz_files[fuzz_n_files++], p);
	return p;
}

/* Writes data[0..n) to name in the scratch directory (replacing it);
 * returns its path. */
static inline const char *
fuzz_write(const char *name, const void *data, size_t n)
{
	const char *p = fuzz_path(name);
	FILE *f = fopen(p, "wb");

	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
		abort();
	return p;
}

/* A subdirectory of the scratch directory (made once); returns its path. */
static inline const char *
fuzz_mkdir(const char *name)
{
	const char *p = fuzz_path(name);

	(void)mkdir(p, 0700);
	return p;
}

/* A daemon file for the harnesses that need a configuration: every
 * channel that has replies to parse (SMS with Kannel and Twilio, pager
 * with SNPP, WCTP and TAP, MQTT), the tree's default templates and the
 * clients of the scratch directory's clients/. */
#define FUZZ_DAEMON_CONF                                                       \
	"listen = \"127.0.0.1\"; port = 8025;\n"                               \
	"public_url = \"https://pagegate.example\";\n"                         \
	"store = { dsn = \"sqlite:unused.db\"; };\n"                           \
	"templates = \"" PG_FUZZ_TOP "/templates\";\n"                         \
	"clients = \"clients\";\n"                                            \
	"operators = ( { name = \"demo\"; token_sha256 = "                     \
	"\"7c43ef5ae21d43ce2743f770c68e24def1a43ee2f416d2438410c8af7af2ff2c\"; } );\n" \
	"smtp = ( { name = \"local\"; host = \"127.0.0.1\"; port = 2526; "     \
	"from = \"pagegate@localhost\"; } );\n"                                \
	"sms = ( { name = \"kannel\"; kind = \"kannel\"; "                     \
	"url = \"http://127.0.0.1:13013/cgi-bin/sendsms\"; username = \"pg\"; " \
	"password = \"pw\"; from = \"5550000\"; "                              \
	"inbound_token = \"kannel-inbound-token-0123456789\"; },\n"            \
	"  { name = \"twilio\"; kind = \"twilio\"; url = \"http://127.0.0.1:1/\"; " \
	"account_sid = \"AC0123456789abcdef0123456789abcdef\"; "              \
	"auth_token = \"twilio-auth-token\"; from = \"+15550000000\"; } );\n"  \
	"pager = ( { name = \"hylafax\"; kind = \"snpp\"; host = \"127.0.0.1\"; " \
	"port = 444; max_length = 128; },\n"                                   \
	"  { name = \"wctp\"; kind = \"wctp\"; url = \"http://127.0.0.1:1/wctp\"; " \
	"sender_id = \"pagegate\"; },\n"                                       \
	"  { name = \"tap\"; kind = \"tap\"; device = \"/dev/null\"; } );\n"   \
	"mqtt = { host = \"127.0.0.1\"; port = 1883; ack_topic = \"pages/+/+/ack\"; };\n"

/* A client with fields, contacts on every channel above, a rotation and
 * rules. */
#define FUZZ_CLIENT_CONF                                                       \
	"id = \"acme-hvac\"; name = \"Acme Heating & Cooling\";\n"             \
	"dnis = [ \"8005550142\", \"6125550100\" ]; timezone = \"America/Chicago\";\n" \
	"business_hours = ( { days = \"Mon-Fri\"; from = \"08:00\"; to = \"17:00\"; } );\n" \
	"fields = ( { id = \"address\"; label = \"Service address\"; required = true; },\n" \
	"           { id = \"unit\"; label = \"Unit / equipment\"; } );\n"       \
	"contacts = (\n"                                                       \
	"  { id = \"office\"; name = \"Front office\"; devices = (\n"           \
	"      { channel = \"email\"; to = \"office@acme.example\"; } ); },\n"  \
	"  { id = \"jane\"; name = \"Jane Ortiz\"; devices = (\n"               \
	"      { channel = \"sms\"; to = \"+15555550111\"; },\n"                \
	"      { channel = \"pager\"; pin = \"1234567\"; gateway = \"wctp\"; },\n" \
	"      { channel = \"mqtt\"; topic = \"pages/{client}/{contact}\"; } ); }\n" \
	");\n"                                                                 \
	"oncall = ( { id = \"techs\"; members = [ \"jane\", \"office\" ]; "    \
	"rotation = \"weekly\"; handoff = \"Mon 08:00\"; start = \"2026-01-05\"; } );\n" \
	"rules = ( { when = { urgency = \"emergency\"; }; notify = \"oncall:techs\"; },\n" \
	"          { notify = \"contact:office\"; } );\n"

/* Loads the configuration of daemon text (written to pagegate.conf) and
 * one client file (clients/NAME.conf, left out when client is NULL) from
 * the scratch directory.  NULL when it does not load; the diagnostics are
 * dropped. */
static inline struct pg_config *
fuzz_config(const char *daemon, size_t dlen, const char *client, size_t clen)
{
	struct pg_config *c = NULL;
	struct pg_diags d;
	const char *conf;

	fuzz_mkdir("clients");
	if (client)
		fuzz_write("clients/acme-hvac.conf", client, clen);
	conf = fuzz_write("pagegate.conf", daemon, dlen);
	pg_diags_init(&d);
	if (pg_config_load(conf, &c, &d) != PG_OK)
		c = NULL;
	pg_diags_free(&d);
	return c;
}

#endif
