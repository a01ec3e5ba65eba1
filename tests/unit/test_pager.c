/*
 * test_pager.c - the pager channel's pure parts and its driver table:
 * text preparation (squeezing, UTF-8-aware truncation, transliteration to
 * 7-bit ASCII), the "pager" section of pagegate.conf with file:line
 * diagnostics, the device check, and send() preparing texts and refusing
 * bad jobs before any protocol runs (observed through an SNPP session to
 * a recording peer).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pagegate/config.h"
#include "../../src/chan/pager/pager_priv.h"

/* ---- text ---- */

static struct pg_translit *TR;

static int
tr_setup(void **state)
{
	(void)state;
	return pg_translit_new(&TR) == PG_OK ? 0 : -1;
}

static int
tr_teardown(void **state)
{
	(void)state;
	pg_translit_free(TR);
	return 0;
}

/* Prepared (squeezed, transliterated) and cut to max characters. */
static void
check_text(const char *in, unsigned flags, size_t max, const char *want)
{
	struct pager_limits l = { .max_chars = max, .ascii = flags & PAGER_TEXT_ASCII };
	char *full, *out;

	assert_int_equal(pager_text_prepare(in, flags, TR, &full), PG_OK);
	out = pager_text_fit(full, &l, false);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
	free(full);
}

/* text cut to fit l (recut: after a refusal). */
static void
check_fit(const char *text, const struct pager_limits *l, bool recut, const char *want)
{
	char *out = pager_text_fit(text, l, recut);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void
test_text_squeeze(void **state)
{
	char *out;

	(void)state;
	check_text("  Hello\r\n\r\n  world\t\tagain  \n\n", 0, 240, "Hello\nworld again");
	check_text("  Hello\r\n\r\n  world\t\tagain  \n\n", PAGER_TEXT_ONE_LINE, 240,
		   "Hello / world again");
	check_text("a\rb\xc2\x85" "c\xe2\x80\xa8" "d", 0, 240, "a\nb\nc\nd");  /* CR, NEL, LS */
	check_text("bell\a esc\x1b[2J del\x7f nbsp\xc2\xa0x", 0, 240, "bell esc [2J del nbsp x");
	check_text("", 0, 240, "");
	check_text(" \n \r\n\t", 0, 240, "");
	check_text(NULL, 0, 240, "");
	/* ASCII needs a transliterator */
	assert_int_equal(pager_text_prepare("x", PAGER_TEXT_ASCII, NULL, &out), PG_ERR_INVAL);
	assert_null(out);
}

static void
test_text_truncate(void **state)
{
	char s[64];

	(void)state;
	/* at a word boundary when one is near, marked as cut */
	check_text("The furnace is out completely", 0, 20, "The furnace is out…");
	check_text("The furnace is out completely", PAGER_TEXT_ASCII, 20, "The furnace is...");
	/* one long word: at the character limit */
	check_text("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 10, "aaaaaaaaa…");
	/* counted in characters, never splitting a UTF-8 sequence */
	check_text("ééééééééééé", 0, 5, "éééé…");
	check_text("🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥", 0, 4, "🔥🔥🔥…");
	check_text("Zoë 🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥", 0, 8, "Zoë…");
	check_text("Zoë 🔥🔥🔥 🔥🔥", 0, 9, "Zoë 🔥🔥🔥…");       /* the cut ends a word */
	/* what fits is left whole, without a mark */
	check_text("Zoë 🔥🔥🔥 🔥🔥", 0, 10, "Zoë 🔥🔥🔥 🔥🔥");
	/* no dangling separator */
	check_text("urgent ACK 123\nJane 555\nFurnace", PAGER_TEXT_ONE_LINE, 18,
		   "urgent ACK 123…");
	check_text("urgent ACK 123\nJane 555\nFurnace", 0, 16, "urgent ACK 123…");
	assert_int_equal(pager_utf8_chars("aé🔥"), 3);
	strcpy(s, "aé🔥b");
	assert_int_equal(pager_utf8_truncate(s, 3), 7);
	assert_string_equal(s, "aé🔥");
	strcpy(s, "ab\xc3");                    /* a sequence cut short is dropped */
	assert_int_equal(pager_utf8_truncate(s, 10), 2);
	assert_string_equal(s, "ab");
}

/* Bytes, as an SNPP gateway counts a MESS line. */
static size_t
bytes(const char *s, size_t len)
{
	(void)s;
	return len;
}

static void
test_text_fit_measures(void **state)
{
	/* Greek: 2 bytes a letter; Chinese: 3; the mark: 3 */
	struct pager_limits by_bytes = { .cost = bytes, .max_cost = 20 };
	struct pager_limits snpp = { .cost = pager_snpp_cost, .max_cost = 20 };
	struct pager_limits both = { .max_chars = 6, .cost = bytes, .max_cost = 40 };

	(void)state;
	check_fit("Δεν υπάρχει θέρμανση", &by_bytes, false, "Δεν…");
	check_fit("没有暖气请尽快回电", &by_bytes, false, "没有暖气请…");
	check_fit("Ba Nguyễn Thị Hương gọi", &by_bytes, false, "Ba Nguyễn Thị…");
	/* the tighter of the device (characters) and the gateway decides */
	check_fit("没有暖气请尽快回电", &both, false, "没有暖气请…");
	both.max_chars = 0;
	both.max_cost = 12;
	check_fit("没有暖气请尽快回电", &both, false, "没有暖…");
	/* SNPP by DATA: every line break counts, the last one too */
	check_fit("ab\ncd\nef", &snpp, false, "ab\ncd\nef");       /* 9 */
	snpp.max_cost = 9;
	check_fit("ab\ncd\nef gh", &snpp, false, "ab\ncd…");        /* 3 + 6 */
	snpp.max_cost = 8;                      /* one line left: by MESS */
	check_fit("ab\ncd\nef gh", &snpp, false, "ab…");
	/* a recut drops the earlier mark and always marks */
	by_bytes.max_cost = 30;
	check_fit("Furnace out, door open…", &by_bytes, true, "Furnace out, door open…");
	by_bytes.max_cost = 20;
	check_fit("Furnace out, door open…", &by_bytes, true, "Furnace out, door…");
	by_bytes.ascii = true;
	check_fit("Furnace out, door open...", &by_bytes, true, "Furnace out, door...");
	/* limits too small for the mark: cut without it */
	by_bytes.max_cost = 2;
	check_fit("abcdef", &by_bytes, false, "ab");
	assert_int_equal(pager_cost_chars("aé🔥", strlen("aé🔥")), 3);
}

static void
test_snpp_cost(void **state)
{
	char long1[PAGER_SNPP_MESS_MAX + 2];

	(void)state;
	/* MESS: the bytes of the line */
	assert_int_equal(pager_snpp_cost("hello", 5), 5);
	assert_int_equal(pager_snpp_cost("Δεν", strlen("Δεν")), 6);
	/* DATA: each line and its break, the dot-stuffing dot too */
	assert_int_equal(pager_snpp_cost("ab\ncd", 5), 6);
	assert_int_equal(pager_snpp_cost("ab\n.cd", 6), 8);
	assert_int_equal(pager_snpp_cost(".ab\ncd", 6), 8);
	memset(long1, 'x', sizeof long1 - 1);
	long1[sizeof long1 - 1] = '\0';
	assert_int_equal(pager_snpp_cost(long1, strlen(long1)), PAGER_SNPP_MESS_MAX + 2);
	assert_int_equal(pager_snpp_cost(long1, PAGER_SNPP_MESS_MAX), PAGER_SNPP_MESS_MAX);
}

static void
test_recut_limit(void **state)
{
	(void)state;
	/* the server's number when it is below what was sent */
	assert_int_equal(pager_recut_limit(200, " Error, message too long; max 128 characters."),
			 128);
	assert_int_equal(pager_recut_limit(200, " 120 Character Maximum, Message Rejected"), 120);
	/* else a quarter less */
	assert_int_equal(pager_recut_limit(200, " Error, message too long"), 150);
	assert_int_equal(pager_recut_limit(100, " max 128"), 75);
	assert_int_equal(pager_recut_limit(2, NULL), 1);
	assert_int_equal(pager_recut_limit(0, NULL), 0);
}

static void
test_text_ascii(void **state)
{
	(void)state;
	/* ICU's Any-Latin; Latin-ASCII: readable, no '?' */
	check_text("Zoë Ångström, Müller & Söhne – “Straße” … €5 Łódź",
		   PAGER_TEXT_ASCII, 240,
		   "Zoe Angstrom, Muller & Sohne - \"Strasse\" ... (euro sign)5 Lodz");
	check_text("Δεν υπάρχει θέρμανση", PAGER_TEXT_ASCII, 240, "Den yparchei thermanse");
	check_text("没有暖气", PAGER_TEXT_ASCII, 240, "mei you nuan qi");
	check_text("Ponia Žąsinienė skambino", PAGER_TEXT_ASCII, 240,
		   "Ponia Zasiniene skambino");
	check_text("Bà Nguyễn Thị Hương gọi", PAGER_TEXT_ASCII, 240, "Ba Nguyen Thi Huong goi");
	check_text("Fire 🔥🔥 now", PAGER_TEXT_ASCII, 240, "Fire (fire)(fire) now");
	check_text("bad \xff\xfe utf8 \xc0\xaf", PAGER_TEXT_ASCII, 240, "bad ?? utf8 ??");
	check_text("Æsop\nŒuvre", PAGER_TEXT_ASCII | PAGER_TEXT_ONE_LINE, 240, "AEsop / OEuvre");
	/* cutting after transliteration counts ASCII characters */
	check_text("ßßßßßßßß ßßßß", PAGER_TEXT_ASCII, 20, "ssssssssssssssss...");
	check_text("没有暖气没有暖气", PAGER_TEXT_ASCII, 20, "mei you nuan qi...");
}

/* ---- configuration ---- */

static pg_err
parse(const char *text, struct pg_diags *d, struct pager_cfg **out)
{
	config_t c;
	pg_err e;

	struct pg_conf cx;

	config_init(&c);
	assert_int_equal(config_read_string(&c, text), CONFIG_TRUE);
	pg_conf_init(&cx, "/etc/pagegate/pagegate.conf", d);
	e = pager_config_parse(&cx, config_root_setting(&c), (void **)out);
	assert_true(e == PG_OK ? cx.errors == 0 : cx.errors > 0);
	pg_conf_done(&cx);
	config_destroy(&c);
	return e;
}

/* pager_device_check of dev as a device of file. */
static void
check(const struct pager_cfg *pc, const struct pg_device *dev, const char *file,
      struct pg_diags *d)
{
	struct pg_conf cx;

	pg_conf_init(&cx, file, d);
	pager_device_check(&cx, pc, dev);
	pg_conf_done(&cx);
}

static void
test_config_valid(void **state)
{
	struct pg_diags d;
	struct pager_cfg *pc;
	const struct pager_gw *g;

	(void)state;
	pg_diags_init(&d);
	assert_int_equal(parse(
		"pager = (\n"
		"  { name = \"metro-snpp\"; kind = \"snpp\"; host = \"snpp.example.net\";\n"
		"    login = \"acme\"; password = \"pw\"; site = [ \"JQUEUE YES\" ]; max_length = 128; },\n"
		"  { name = \"carrier-wctp\"; kind = \"wctp\"; url = \"https://wctp.example/wctp\";\n"
		"    sender_id = \"acme\"; security_code = \"sc\"; poll = \"2m\"; timeout = \"45s\";\n"
		"    ca_file = \"certs/ca.pem\"; push = true; },\n"
		"  { name = \"tap-modem\"; kind = \"tap\"; device = \"/dev/ttyS0\"; password = \"000000\";\n"
		"    speed = 2400; framing = \"8N1\"; max_block = 80; dial = \"9,5551234\"; }\n"
		");\n", &d, &pc), PG_OK);
	assert_int_equal(d.n, 0);
	assert_int_equal(pc->n, 3);
	g = pager_gw_find(pc, NULL);
	assert_string_equal(g->name, "metro-snpp");
	assert_int_equal(g->port, 444);
	assert_int_equal(g->timeout_s, 30);
	assert_int_equal(g->n_site, 1);
	assert_string_equal(g->site[0], "JQUEUE YES");
	assert_false(g->ascii);
	assert_int_equal(g->max_length, 128);
	g = pager_gw_find(pc, "carrier-wctp");
	assert_int_equal(g->max_length, 0);
	assert_int_equal(g->kind, PAGER_WCTP);
	assert_int_equal(g->poll_s, 120);
	assert_int_equal(g->timeout_s, 45);
	assert_string_equal(g->ca_file, "/etc/pagegate/certs/ca.pem");
	assert_true(g->push);
	g = pager_gw_find(pc, "tap-modem");
	assert_int_equal(g->speed, 2400);
	assert_false(g->seven_e1);
	assert_int_equal(g->max_block, 80);
	assert_true(g->ascii);
	assert_string_equal(g->dial, "9,5551234");
	assert_null(pager_gw_find(pc, "nope"));

	/* a deep copy survives the original */
	struct pager_gw copy;
	assert_int_equal(pager_gw_copy(&copy, pager_gw_find(pc, "metro-snpp")), PG_OK);
	pager_config_free(pc);
	assert_string_equal(copy.site[0], "JQUEUE YES");
	assert_string_equal(copy.host, "snpp.example.net");
	pager_gw_clear(&copy);

	/* no section at all is fine */
	assert_int_equal(parse("port = 1;\n", &d, &pc), PG_OK);
	assert_null(pc);
	pg_diags_free(&d);
}

static void
test_config_errors(void **state)
{
	struct pg_diags d;
	struct pager_cfg *pc = (void *)1;
	static const struct { int line; const char *msg; } want[] = {
		{ 2, "unknown setting \"hots\" in pager gateway (did you mean \"host\"?)" },
		{ 2, "missing \"host\" in pager gateway" },
		{ 3, "\"url\" is not a setting of snpp pager gateways (only of wctp)" },
		{ 3, "bad timeout: expected a duration from 1s to 10m such as \"30s\", \"5m\", "
		     "\"2h\", \"1d\"" },
		{ 4, "bad kind \"smtp\": expected \"snpp\", \"wctp\" or \"tap\" (did you mean "
		     "\"snpp\"?)" },
		{ 5, "bad port: expected a whole number from 1 to 65535" },
		{ 5, "duplicate pager gateway \"a\" (first at line 2)" },
		{ 6, "bad max_length: expected a whole number from 20 to 1000" },
		{ 6, "\"password\" needs a \"login\" (SNPP LOGIn <login> <password>)" },
		{ 7, "missing \"sender_id\" in pager gateway" },
		{ 7, "bad url \"ftp://x\": expected https://... (or http://...)" },
		{ 8, "bad framing \"7N2\": expected \"8N1\" or \"7E1\" (did you mean \"8N1\"?)" },
		{ 8, "bad speed: expected 300, 1200, 2400, 4800, 9600, 19200, 38400, 57600 or "
		     "115200" },
		{ 9, "bad max_block: expected a whole number from 16 to 250" },
		{ 9, "bad device \"ttyS0\": expected an absolute path like /dev/ttyS0" },
		{ 10, "bad name \"Bad Name\": expected lower-case letters, digits, '.', '-' and "
		      "'_'" },
	};

	(void)state;
	pg_diags_init(&d);
	assert_int_equal(parse(
		"pager = (\n"
		"  { name = \"a\"; kind = \"snpp\"; hots = \"x\"; },\n"
		"  { name = \"b\"; kind = \"snpp\"; host = \"h\"; url = \"http://x\"; timeout = \"soon\"; },\n"
		"  { name = \"c\"; kind = \"smtp\"; },\n"
		"  { name = \"a\"; kind = \"snpp\"; host = \"h\"; port = 70000; },\n"
		"  { name = \"d\"; kind = \"snpp\"; host = \"h\"; password = \"p\"; max_length = 5; },\n"
		"  { name = \"w\"; kind = \"wctp\"; url = \"ftp://x\"; },\n"
		"  { name = \"t\"; kind = \"tap\"; device = \"/dev/x\"; speed = 1000; framing = \"7N2\"; },\n"
		"  { name = \"u\"; kind = \"tap\"; device = \"ttyS0\"; max_block = 300; },\n"
		"  { name = \"Bad Name\"; kind = \"snpp\"; host = \"h\"; }\n"
		");\n", &d, &pc), PG_ERR_CONFIG);
	assert_null(pc);
	assert_int_equal(d.n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(d.v[i].file, "/etc/pagegate/pagegate.conf");
		assert_int_equal(d.v[i].line, want[i].line);
		assert_string_equal(d.v[i].msg, want[i].msg);
	}
	pg_diags_free(&d);

	pg_diags_init(&d);
	assert_int_equal(parse("pager = { name = \"x\"; };\n", &d, &pc), PG_ERR_CONFIG);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 1);
	pg_diags_free(&d);
}

/* ---- device check ---- */

static void
test_device_check(void **state)
{
	struct pg_diags d;
	struct pager_cfg *pc;
	struct pg_kv opts[2] = { { "max_length", "160" }, { "colour", "red" } };
	struct pg_device dev;

	(void)state;
	pg_diags_init(&d);
	assert_int_equal(parse(
		"pager = ( { name = \"metro-snpp\"; kind = \"snpp\"; host = \"h\"; },\n"
		"          { name = \"tap\"; kind = \"tap\"; device = \"/dev/ttyS0\"; max_length = 128; } );\n",
		&d, &pc), PG_OK);
	memset(&dev, 0, sizeof dev);
	dev.channel = PG_CH_PAGER;
	dev.line = 12;
	dev.gateway = "metro-snpp";
	dev.to = "4412";
	dev.opts = opts;
	dev.n_opts = 1;
	check(pc, &dev, "clients/acme.conf", &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(pager_maxlen(pager_gw_find(pc, "metro-snpp"), &dev), 160);
	assert_int_equal(pager_maxlen(pager_gw_find(pc, "tap"), &dev), 128);    /* gateway cap */

	dev.n_opts = 2;
	opts[0].value = "5000";      /* the engine refuses it at load (below) */
	dev.to = "44 12";
	check(pc, &dev, "clients/acme.conf", &d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].msg, "bad pager PIN \"44 12\" for snpp gateway \"metro-snpp\": "
			    "expected 1 to 64 printable characters without spaces");
	assert_int_equal(d.v[0].line, 12);
	assert_string_equal(d.v[0].file, "clients/acme.conf");
	assert_int_equal(pager_maxlen(pager_gw_find(pc, "metro-snpp"), &dev), PAGER_DEFAULT_MAXLEN);
	assert_int_equal(pager_maxlen(NULL, NULL), PAGER_DEFAULT_MAXLEN);
	pg_diags_free(&d);

	pg_diags_init(&d);
	dev.n_opts = 0;
	dev.gateway = "tap";
	dev.to = "44-12";                       /* TAP: letters and digits only */
	check(pc, &dev, "f", &d);
	dev.gateway = "nope";
	check(pc, &dev, "f", &d);
	dev.gateway = "tapp";
	check(pc, &dev, "f", &d);
	dev.gateway = NULL;                      /* default: the first gateway */
	dev.to = "4412";                         /* "pin" or "to": the loader's */
	check(pc, &dev, "f", &d);
	dev.to = NULL;                           /* missing: the loader reports it */
	check(pc, &dev, "f", &d);
	check(NULL, &dev, "f", &d);
	assert_int_equal(d.n, 4);
	assert_string_equal(d.v[0].msg, "bad pager PIN \"44-12\" for tap gateway \"tap\": "
			    "expected 1 to 16 letters or digits");
	assert_string_equal(d.v[1].msg, "unknown pager gateway \"nope\" (known: metro-snpp, tap)");
	assert_string_equal(d.v[2].msg, "unknown pager gateway \"tapp\" (did you mean \"tap\"?)");
	assert_string_equal(d.v[3].msg, "pager device, but the daemon configuration defines no "
			    "pager gateway");
	pg_diags_free(&d);
	pager_config_free(pc);

	assert_true(pager_pin_ok(PAGER_TAP, "ABC123"));
	assert_false(pager_pin_ok(PAGER_TAP, "12345678901234567"));
	assert_true(pager_pin_ok(PAGER_WCTP, "5551234@carrier.example"));
	assert_false(pager_pin_ok(PAGER_SNPP, "12\r\nSEND"));
	assert_false(pager_pin_ok(PAGER_SNPP, ""));
}

/* The device settings the driver declares (channel.h device_keys), as
 * the engine checks them in a client file. */
static void
test_device_keys(void **state)
{
	const struct pg_keytab t = { "pager device", pager_device_keys, NULL };
	struct pg_diags d;
	struct pg_conf cx;
	config_t cf;
	char why[200];

	(void)state;
	assert_true(pg_conf_table_check(&t, why, sizeof why));
	config_init(&cf);
	assert_int_equal(config_read_string(&cf,
		"a = { max_length = 5000; colour = \"red\"; };\n"
		"b = { max_length = 160; };\n"), CONFIG_TRUE);
	pg_diags_init(&d);
	pg_conf_init(&cx, "clients/acme.conf", &d);
	pg_conf_apply(&cx, config_lookup(&cf, "a"), &t, NULL);
	pg_conf_apply(&cx, config_lookup(&cf, "b"), &t, NULL);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].msg, "bad max_length: expected a whole number from 20 to 1000");
	assert_string_equal(d.v[1].msg, "unknown setting \"colour\" in pager device");
	assert_int_equal(d.v[1].line, 1);
	assert_string_equal(d.v[1].file, "clients/acme.conf");
	pg_conf_done(&cx);
	pg_diags_free(&d);
	config_destroy(&cf);
}

/* ---- send() through the table ---- */

static struct rec {
	int lfd, port;
	char seen[4096];
	pthread_t th;
} R;

/* Answers every SNPP command positively and records what it received. */
static void *
recorder(void *arg)
{
	char line[1024], c;
	size_t l = 0;
	struct pollfd p = { .events = POLLIN };
	int fd;
	bool data = false;

	(void)arg;
	p.fd = R.lfd;
	if (poll(&p, 1, 5000) <= 0 || (fd = accept(R.lfd, NULL, NULL)) < 0)
		return NULL;
	p.fd = fd;
	assert_true(write(fd, "220 ready\r\n", 11) == 11);
	while (poll(&p, 1, 5000) > 0 && read(fd, &c, 1) == 1) {
		if (c != '\n') {
			if (c != '\r' && l + 1 < sizeof line)
				line[l++] = c;
			continue;
		}
		line[l] = '\0';
		l = 0;
		strncat(R.seen, line, sizeof R.seen - strlen(R.seen) - 2);
		strcat(R.seen, "|");
		const char *r = "250 OK\r\n";
		if (data) {
			if (strcmp(line, ".") != 0)
				continue;
			data = false;
		} else if (!strcmp(line, "DATA")) {
			data = true;
			r = "354 go\r\n";
		} else if (!strcmp(line, "QUIT")) {
			r = "221 bye\r\n";
		}
		assert_true(write(fd, r, strlen(r)) == (ssize_t)strlen(r));
		if (!strcmp(line, "QUIT"))
			break;
	}
	close(fd);
	return NULL;
}

static void
test_send_prepares_texts(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	struct pager_cfg pc;
	struct pager_gw g[1];
	struct pg_config cfg;
	struct pg_kv opt = { "max_length", "30" };
	struct pg_device dev = { .opts = &opt, .n_opts = 1 };
	struct pg_job j[4];

	(void)state;
	memset(&R, 0, sizeof R);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	R.lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(R.lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(R.lfd, 1), 0);
	assert_int_equal(getsockname(R.lfd, (struct sockaddr *)&a, &al), 0);
	memset(g, 0, sizeof g);
	g[0].name = "snpp";
	g[0].kind = PAGER_SNPP;
	g[0].host = "127.0.0.1";
	g[0].port = ntohs(a.sin_port);
	g[0].timeout_s = 5;
	g[0].ascii = true;
	pc.gw = g;
	pc.n = 1;
	memset(&cfg, 0, sizeof cfg);
	cfg.chan_cfg[PG_CH_PAGER] = &pc;
	memset(j, 0, sizeof j);
	j[0].address = "4412";                  /* squeezed, ASCII, cut to 30, marked */
	j[0].body = "urgent  Zoë's clinic\n\n  ACK 123456 furnace out in the basement";
	j[0].device = &dev;
	j[1].address = "12 34";                 /* bad PIN: never sent */
	j[1].body = "x";
	j[2].address = "77";                    /* nothing left to send */
	j[2].body = " \n\t ";
	j[3].address = "78";                    /* no device: default length */
	j[3].body = "short";
	assert_int_equal(pthread_create(&R.th, NULL, recorder, NULL), 0);
	pg_chan_pager.send(NULL, &cfg, "snpp", j, 4);
	assert_int_equal(pthread_join(R.th, NULL), 0);
	close(R.lfd);
	assert_string_equal(R.seen, "PAGE 4412|DATA|urgent Zoe's clinic|ACK...|.|SEND|"
			    "PAGE 78|MESS short|SEND|QUIT|");
	assert_int_equal(j[0].outcome, PG_OUT_OK);
	assert_int_equal(j[1].outcome, PG_OUT_PERM);
	assert_string_equal(j[1].reply, "invalid pager PIN, not sent");
	assert_int_equal(j[2].outcome, PG_OUT_PERM);
	assert_string_equal(j[2].reply, "empty page text, not sent");
	assert_int_equal(j[3].outcome, PG_OUT_OK);
	assert_string_equal(j[3].reply, "250 OK [250 OK]");

	/* an unknown gateway fails every job for good */
	pg_chan_pager.send(NULL, &cfg, "elsewhere", j, 1);
	assert_int_equal(j[0].outcome, PG_OUT_PERM);
	assert_string_equal(j[0].reply, "pager gateway \"elsewhere\" is not configured");
	/* the table */
	assert_string_equal(pg_chan_pager.name, "pager");
	assert_int_equal(pg_chan_pager.kind, PG_CH_PAGER);
	assert_string_equal(pg_chan_pager.body_template, "pager.txt");
	assert_null(pg_chan_pager.subject_template);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_squeeze),
		cmocka_unit_test(test_text_truncate),
		cmocka_unit_test(test_text_fit_measures),
		cmocka_unit_test(test_snpp_cost),
		cmocka_unit_test(test_recut_limit),
		cmocka_unit_test(test_text_ascii),
		cmocka_unit_test(test_config_valid),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_device_check),
		cmocka_unit_test(test_device_keys),
		cmocka_unit_test(test_send_prepares_texts),
	};
	return cmocka_run_group_tests(tests, tr_setup, tr_teardown);
}
