/*
 * pager_config.c - the "pager" section of pagegate.conf and the check of
 * pager devices in client files (pager_priv.h).
 *
 *   pager = (
 *     { name = "metro-snpp"; kind = "snpp"; host = "snpp.example.net";
 *       port = 444; login = "acme"; password = "..."; timeout = 30;
 *       site = [ "JQUEUE YES" ]; ascii = false; max_length = 128; },
 *     { name = "carrier-wctp"; kind = "wctp"; url = "https://...";
 *       sender_id = "acme"; security_code = "..."; poll = "60s";
 *       push = false; },
 *     { name = "tap-modem"; kind = "tap"; device = "/dev/ttyS0";
 *       password = "000000"; speed = 1200; framing = "7E1";
 *       max_block = 250; dial = "5551234"; }
 *   );
 *
 * Keys are declared once in a table with the kinds they belong to; every
 * problem is a diagnostic at the offending line, and an unknown key or a
 * key of another kind is a problem.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pager_priv.h"

#define NAME_MAX_LEN  64
#define TEXT_MAX_LEN  255
#define URL_MAX_LEN   1024
#define SITE_MAX      8
#define PIN_MAX_LEN   64
#define TAP_PIN_MAX   16
#define TAP_PASS_MAX  16
#define DIAL_MAX_LEN  40
#define TIMEOUT_MAX_S 600
#define POLL_MAX_S    86400
#define DEFAULT_POLL_S 60
#define DEFAULT_SNPP_PORT 444
#define DEFAULT_TAP_SPEED 1200
#define MIN_TAP_BLOCK 16

enum ktype { K_STR, K_INT, K_BOOL, K_LIST, K_SECONDS };
#define SNPP (1u << PAGER_SNPP)
#define WCTP (1u << PAGER_WCTP)
#define TAP  (1u << PAGER_TAP)
#define ALL  (SNPP | WCTP | TAP)

static const struct key {
	const char *name;
	enum ktype type;
	unsigned kinds;
} keys[] = {
	{ "name", K_STR, ALL }, { "kind", K_STR, ALL }, { "timeout", K_SECONDS, ALL },
	{ "max_length", K_INT, ALL },
	{ "ascii", K_BOOL, SNPP | WCTP },
	{ "host", K_STR, SNPP }, { "port", K_INT, SNPP }, { "login", K_STR, SNPP },
	{ "password", K_STR, SNPP | TAP }, { "site", K_LIST, SNPP },
	{ "url", K_STR, WCTP }, { "sender_id", K_STR, WCTP },
	{ "security_code", K_STR, WCTP }, { "poller_id", K_STR, WCTP },
	{ "poll", K_SECONDS, WCTP }, { "ca_file", K_STR, WCTP }, { "push", K_BOOL, WCTP },
	{ "device", K_STR, TAP }, { "speed", K_INT, TAP }, { "framing", K_STR, TAP },
	{ "max_block", K_INT, TAP }, { "dial", K_STR, TAP },
};

static const char *const kind_names[PAGER__KINDS] = { "snpp", "wctp", "tap" };
static const int tap_speeds[] = { 300, 1200, 2400, 4800, 9600, 19200, 38400,
				  57600, 115200 };

struct ctx {
	const char *file;
	struct pg_diags *d;
	bool bad;
};

#define DIAG(c, s, ...) do { \
	pg_diag_add((c)->d, (c)->file, config_setting_source_line(s), __VA_ARGS__); \
	(c)->bad = true; } while (0)

static const struct key *
key_find(const char *name)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* True for 1..max printable ASCII characters, optionally without spaces. */
static bool
text_ok(const char *s, size_t max, bool spaces)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x21 || c > 0x7e)
			if (!(spaces && c == ' '))
				return false;
	}
	return true;
}

/* A string member, copied; NULL when absent or bad (diagnosed). */
static char *
get_str(struct ctx *c, const config_setting_t *g, const char *name, size_t max,
	bool spaces)
{
	config_setting_t *m = config_setting_get_member(g, name);
	const char *v;
	char *r;

	if (!m)
		return NULL;
	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		DIAG(c, m, "\"%s\" must be a string", name);
		return NULL;
	}
	v = config_setting_get_string(m);
	if (!text_ok(v, max, spaces)) {
		DIAG(c, m, "bad \"%s\": expected 1 to %zu printable ASCII characters%s",
		     name, max, spaces ? "" : " without spaces");
		return NULL;
	}
	if (!(r = strdup(v)))
		DIAG(c, m, "out of memory");
	return r;
}

static int
get_int(struct ctx *c, const config_setting_t *g, const char *name, int dflt,
	int lo, int hi)
{
	config_setting_t *m = config_setting_get_member(g, name);
	long long v;

	if (!m)
		return dflt;
	if (config_setting_type(m) != CONFIG_TYPE_INT &&
	    config_setting_type(m) != CONFIG_TYPE_INT64) {
		DIAG(c, m, "\"%s\" must be an integer", name);
		return dflt;
	}
	v = config_setting_get_int64(m);
	if (v < lo || v > hi) {
		DIAG(c, m, "\"%s\" must be between %d and %d", name, lo, hi);
		return dflt;
	}
	return (int)v;
}

/* Seconds as an integer or a duration string ("90s", "5m"). */
static int
get_seconds(struct ctx *c, const config_setting_t *g, const char *name, int dflt,
	    int lo, int hi)
{
	config_setting_t *m = config_setting_get_member(g, name);
	int64_t s;

	if (!m)
		return dflt;
	if (config_setting_type(m) == CONFIG_TYPE_STRING) {
		if (pg_parse_duration(config_setting_get_string(m), &s) != 0) {
			DIAG(c, m, "bad \"%s\" \"%s\": expected seconds or a duration "
			     "like \"30s\", \"5m\"", name, config_setting_get_string(m));
			return dflt;
		}
	} else if (config_setting_type(m) == CONFIG_TYPE_INT ||
		   config_setting_type(m) == CONFIG_TYPE_INT64) {
		s = config_setting_get_int64(m);
	} else {
		DIAG(c, m, "\"%s\" must be seconds or a duration string", name);
		return dflt;
	}
	if (s < lo || s > hi) {
		DIAG(c, m, "\"%s\" must be between %d and %d seconds", name, lo, hi);
		return dflt;
	}
	return (int)s;
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

void
pager_gw_clear(struct pager_gw *g)
{
	size_t i;

	free(g->name); free(g->host); free(g->login); free(g->password);
	for (i = 0; i < g->n_site; i++)
		free(g->site[i]);
	free(g->site);
	free(g->url); free(g->sender_id); free(g->security_code);
	free(g->poller_id); free(g->ca_file); free(g->device); free(g->dial);
	memset(g, 0, sizeof *g);
}

/* strdup for optional strings: *ok turns false when memory runs out. */
static char *
dup_opt(const char *s, bool *ok)
{
	char *r;

	if (!s)
		return NULL;
	if (!(r = strdup(s)))
		*ok = false;
	return r;
}

pg_err
pager_gw_copy(struct pager_gw *dst, const struct pager_gw *src)
{
	bool ok = true;
	size_t i;

	*dst = *src;
	dst->name = dup_opt(src->name, &ok);
	dst->host = dup_opt(src->host, &ok);
	dst->login = dup_opt(src->login, &ok);
	dst->password = dup_opt(src->password, &ok);
	dst->url = dup_opt(src->url, &ok);
	dst->sender_id = dup_opt(src->sender_id, &ok);
	dst->security_code = dup_opt(src->security_code, &ok);
	dst->poller_id = dup_opt(src->poller_id, &ok);
	dst->ca_file = dup_opt(src->ca_file, &ok);
	dst->device = dup_opt(src->device, &ok);
	dst->dial = dup_opt(src->dial, &ok);
	dst->site = NULL;
	dst->n_site = 0;
	if (src->n_site && (dst->site = calloc(src->n_site, sizeof *dst->site)))
		for (i = 0; i < src->n_site; i++, dst->n_site++)
			dst->site[i] = dup_opt(src->site[i], &ok);
	else if (src->n_site)
		ok = false;
	if (!ok) {
		pager_gw_clear(dst);
		return PG_ERR_NOMEM;
	}
	return PG_OK;
}

/* Checks every member of gateway g against the key table. */
static void
check_keys(struct ctx *c, const config_setting_t *g, int kind)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *nm = config_setting_name(m);
		const struct key *k = nm ? key_find(nm) : NULL;
		unsigned j, first = 0;
		if (!k) {
			DIAG(c, m, "unknown key \"%s\" in a pager gateway", nm ? nm : "?");
			continue;
		}
		if (kind < 0 || (k->kinds & (1u << kind)))
			continue;
		for (j = 0; j < PAGER__KINDS; j++)
			if (k->kinds & (1u << j)) {
				first = j;
				break;
			}
		DIAG(c, m, "\"%s\" is not a setting of %s gateways (it is for %s%s)",
		     nm, kind_names[kind], kind_names[first],
		     (k->kinds & ~(1u << first)) ? " and others" : " gateways");
	}
}

static void
parse_site(struct ctx *c, const config_setting_t *g, struct pager_gw *gw)
{
	config_setting_t *m = config_setting_get_member(g, "site");
	int i, n;

	if (!m)
		return;
	if (!config_setting_is_aggregate(m) || config_setting_is_group(m)) {
		DIAG(c, m, "\"site\" must be a list of strings, e.g. [ \"JQUEUE YES\" ]");
		return;
	}
	n = config_setting_length(m);
	if (n > SITE_MAX) {
		DIAG(c, m, "\"site\" has %d entries, at most %d", n, SITE_MAX);
		return;
	}
	if (n == 0 || !(gw->site = calloc((size_t)n, sizeof *gw->site)))
		return;
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (!v || !text_ok(v, TEXT_MAX_LEN, true)) {
			DIAG(c, e ? e : m, "bad \"site\" entry: expected printable ASCII text");
			continue;
		}
		if (!(gw->site[gw->n_site] = strdup(v))) {
			DIAG(c, e, "out of memory");
			continue;
		}
		gw->n_site++;
	}
}

/* ca_file relative to the directory of the configuration file. */
static char *
resolve_path(const char *file, const char *p)
{
	const char *slash = strrchr(file, '/');
	char *r;
	size_t dl;

	if (p[0] == '/' || !slash)
		return strdup(p);
	dl = (size_t)(slash - file);
	if (!(r = malloc(dl + 1 + strlen(p) + 1)))
		return NULL;
	memcpy(r, file, dl);
	r[dl] = '/';
	strcpy(r + dl + 1, p);
	return r;
}

static void
parse_kind_keys(struct ctx *c, const config_setting_t *g, struct pager_gw *gw)
{
	config_setting_t *m;
	char *s;
	size_t i;

	switch (gw->kind) {
	case PAGER_SNPP:
		if (!(gw->host = get_str(c, g, "host", TEXT_MAX_LEN, false)) &&
		    !config_setting_get_member(g, "host"))
			DIAG(c, g, "snpp gateway \"%s\" has no \"host\"", gw->name);
		gw->port = get_int(c, g, "port", DEFAULT_SNPP_PORT, 1, 65535);
		gw->login = get_str(c, g, "login", NAME_MAX_LEN, false);
		gw->password = get_str(c, g, "password", NAME_MAX_LEN, false);
		if (gw->password && !gw->login)
			DIAG(c, config_setting_get_member(g, "password"),
			     "\"password\" needs a \"login\" (SNPP LOGIn <login> <password>)");
		parse_site(c, g, gw);
		break;
	case PAGER_WCTP:
		if ((gw->url = get_str(c, g, "url", URL_MAX_LEN, false)) &&
		    strncmp(gw->url, "https://", 8) != 0 && strncmp(gw->url, "http://", 7) != 0)
			DIAG(c, config_setting_get_member(g, "url"),
			     "bad \"url\" \"%s\": expected https://... (or http://...)", gw->url);
		else if (!gw->url && !config_setting_get_member(g, "url"))
			DIAG(c, g, "wctp gateway \"%s\" has no \"url\"", gw->name);
		if (!(gw->sender_id = get_str(c, g, "sender_id", TEXT_MAX_LEN, false)) &&
		    !config_setting_get_member(g, "sender_id"))
			DIAG(c, g, "wctp gateway \"%s\" has no \"sender_id\"", gw->name);
		gw->security_code = get_str(c, g, "security_code", TEXT_MAX_LEN, false);
		gw->poller_id = get_str(c, g, "poller_id", TEXT_MAX_LEN, false);
		gw->poll_s = get_seconds(c, g, "poll", DEFAULT_POLL_S, 0, POLL_MAX_S);
		if ((m = config_setting_get_member(g, "push"))) {
			if (config_setting_type(m) != CONFIG_TYPE_BOOL)
				DIAG(c, m, "\"push\" must be true or false");
			else
				gw->push = config_setting_get_bool(m);
		}
		if ((s = get_str(c, g, "ca_file", URL_MAX_LEN, true))) {
			gw->ca_file = resolve_path(c->file, s);
			free(s);
		}
		break;
	case PAGER_TAP:
		if ((gw->device = get_str(c, g, "device", TEXT_MAX_LEN, false)) &&
		    gw->device[0] != '/')
			DIAG(c, config_setting_get_member(g, "device"),
			     "bad \"device\" \"%s\": expected an absolute path like /dev/ttyS0",
			     gw->device);
		else if (!gw->device && !config_setting_get_member(g, "device"))
			DIAG(c, g, "tap gateway \"%s\" has no \"device\"", gw->name);
		gw->password = get_str(c, g, "password", TAP_PASS_MAX, false);
		gw->speed = get_int(c, g, "speed", DEFAULT_TAP_SPEED, 1, INT_MAX);
		for (i = 0; i < sizeof tap_speeds / sizeof tap_speeds[0]; i++)
			if (tap_speeds[i] == gw->speed)
				break;
		if (i == sizeof tap_speeds / sizeof tap_speeds[0])
			DIAG(c, config_setting_get_member(g, "speed"),
			     "bad \"speed\" %d: expected 300, 1200, 2400, 4800, 9600, 19200, "
			     "38400, 57600 or 115200", gw->speed);
		gw->seven_e1 = true;
		if ((m = config_setting_get_member(g, "framing"))) {
			const char *f = config_setting_get_string(m);
			if (f && strcmp(f, "7E1") == 0)
				gw->seven_e1 = true;
			else if (f && strcmp(f, "8N1") == 0)
				gw->seven_e1 = false;
			else
				DIAG(c, m, "bad \"framing\": expected \"7E1\" or \"8N1\"");
		}
		gw->max_block = get_int(c, g, "max_block", PAGER_TAP_BLOCK_MAX,
					MIN_TAP_BLOCK, PAGER_TAP_BLOCK_MAX);
		if ((gw->dial = get_str(c, g, "dial", DIAL_MAX_LEN, false)) &&
		    strspn(gw->dial, "0123456789*#,+PTWptw") != strlen(gw->dial))
			DIAG(c, config_setting_get_member(g, "dial"),
			     "bad \"dial\" \"%s\": expected digits and , * # + P T W", gw->dial);
		gw->ascii = true;
		break;
	default:
		break;
	}
}

pg_err
pager_config_parse(const config_setting_t *section, const char *file,
		   struct pg_diags *d, void **out)
{
	struct ctx c = { .file = file, .d = d };
	struct pager_cfg *pc;
	int i, n;

	*out = NULL;
	if (!section)
		return PG_OK;
	if (!config_setting_is_list(section) && !config_setting_is_array(section)) {
		pg_diag_add(d, file, config_setting_source_line(section),
			    "\"pager\" must be a list of gateways: pager = ( { name = ...; "
			    "kind = \"snpp\"; ... } );");
		return PG_ERR_CONFIG;
	}
	n = config_setting_length(section);
	if (!(pc = calloc(1, sizeof *pc)) ||
	    (n > 0 && !(pc->gw = calloc((size_t)n, sizeof *pc->gw)))) {
		free(pc);
		return PG_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(section, (unsigned)i);
		struct pager_gw *gw = &pc->gw[pc->n];
		config_setting_t *m;
		const char *k;
		int kind = -1;

		if (!config_setting_is_group(g)) {
			DIAG(&c, g, "a pager gateway must be a group { name = ...; kind = ...; }");
			continue;
		}
		memset(gw, 0, sizeof *gw);
		gw->line = config_setting_source_line(g);
		if ((m = config_setting_get_member(g, "kind"))) {
			k = config_setting_get_string(m);
			for (unsigned j = 0; k && j < PAGER__KINDS; j++)
				if (strcmp(k, kind_names[j]) == 0)
					kind = (int)j;
			if (kind < 0)
				DIAG(&c, m, "unknown pager gateway kind \"%s\": expected "
				     "\"snpp\", \"wctp\" or \"tap\"", k ? k : "?");
		} else {
			DIAG(&c, g, "pager gateway has no \"kind\" (snpp, wctp or tap)");
		}
		check_keys(&c, g, kind);
		if (!(gw->name = get_str(&c, g, "name", NAME_MAX_LEN, false))) {
			if (!config_setting_get_member(g, "name"))
				DIAG(&c, g, "pager gateway has no \"name\"");
			pager_gw_clear(gw);
			continue;
		}
		if (!name_ok(gw->name)) {
			DIAG(&c, config_setting_get_member(g, "name"), "bad gateway name \"%s\": "
			     "use lower-case letters, digits, '.', '-' and '_'", gw->name);
		} else if (pager_gw_find(pc, gw->name)) {
			DIAG(&c, config_setting_get_member(g, "name"),
			     "duplicate pager gateway \"%s\" (first at line %d)", gw->name,
			     pager_gw_find(pc, gw->name)->line);
		}
		if (kind < 0) {
			pager_gw_clear(gw);
			continue;
		}
		gw->kind = (enum pager_kind)kind;
		gw->timeout_s = get_seconds(&c, g, "timeout", PAGER_DEFAULT_TIMEOUT_S, 1,
					    TIMEOUT_MAX_S);
		gw->max_length = get_int(&c, g, "max_length", 0, PAGER_MIN_MAXLEN,
					 PAGER_MAX_MAXLEN);
		if ((m = config_setting_get_member(g, "ascii"))) {
			if (config_setting_type(m) != CONFIG_TYPE_BOOL)
				DIAG(&c, m, "\"ascii\" must be true or false");
			else
				gw->ascii = config_setting_get_bool(m);
		}
		parse_kind_keys(&c, g, gw);
		pc->n++;
	}
	if (c.bad) {
		pager_config_free(pc);
		return PG_ERR_CONFIG;
	}
	*out = pc;
	return PG_OK;
}

void
pager_config_free(void *chan_cfg)
{
	struct pager_cfg *pc = chan_cfg;

	if (!pc)
		return;
	for (size_t i = 0; i < pc->n; i++)
		pager_gw_clear(&pc->gw[i]);
	free(pc->gw);
	free(pc);
}

const struct pager_gw *
pager_gw_find(const struct pager_cfg *c, const char *name)
{
	if (!c || c->n == 0)
		return NULL;
	if (!name)
		return &c->gw[0];
	for (size_t i = 0; i < c->n; i++)
		if (c->gw[i].name && strcmp(c->gw[i].name, name) == 0)
			return &c->gw[i];
	return NULL;
}

bool
pager_pin_ok(enum pager_kind k, const char *pin)
{
	size_t n;

	if (!pin)
		return false;
	n = strlen(pin);
	if (k == PAGER_TAP) {
		if (n == 0 || n > TAP_PIN_MAX)
			return false;
		for (; *pin; pin++)
			if (!isalnum((unsigned char)*pin))
				return false;
		return true;
	}
	return text_ok(pin, PIN_MAX_LEN, false);
}

/* Parses a device option as a whole decimal number; -1 when it is not. */
static long
opt_number(const char *v)
{
	char *end;
	long r;

	if (!v || !isdigit((unsigned char)v[0]) || strlen(v) > 9)
		return -1;
	r = strtol(v, &end, 10);
	return *end ? -1 : r;
}

size_t
pager_maxlen(const struct pager_gw *gw, const struct pg_device *dev)
{
	long v = dev ? opt_number(pg_device_opt(dev, "max_length")) : -1;
	size_t n = v >= PAGER_MIN_MAXLEN && v <= PAGER_MAX_MAXLEN ? (size_t)v :
		   PAGER_DEFAULT_MAXLEN;

	if (gw && gw->max_length > 0 && (size_t)gw->max_length < n)
		n = (size_t)gw->max_length;
	return n;
}

void
pager_device_check(const void *chan_cfg, const struct pg_device *dev,
		   const char *file, struct pg_diags *d)
{
	const struct pager_cfg *pc = chan_cfg;
	const struct pager_gw *gw;
	const char *pin = dev->to ? dev->to : dev->pin;    /* as intake reads it */
	size_t i;
	long v;

	if (!pc || pc->n == 0) {
		pg_diag_add(d, file, dev->line,
			    "pager device, but pagegate.conf defines no pager gateways");
		return;
	}
	if (!(gw = pager_gw_find(pc, dev->gateway))) {
		pg_diag_add(d, file, dev->line, "unknown pager gateway \"%s\"", dev->gateway);
		return;
	}
	if (dev->to && dev->pin && strcmp(dev->to, dev->pin) != 0)
		pg_diag_add(d, file, dev->line, "pager device with both \"pin\" and \"to\": "
			    "set only \"pin\"");
	if (!pin)
		pg_diag_add(d, file, dev->line, "pager device has no \"pin\"");
	else if (!pager_pin_ok(gw->kind, pin))
		pg_diag_add(d, file, dev->line, "bad pager PIN \"%.64s\" for %s gateway \"%s\": %s",
			    pin, kind_names[gw->kind], gw->name, gw->kind == PAGER_TAP ?
			    "expected 1 to 16 letters or digits" :
			    "expected 1 to 64 printable characters without spaces");
	for (i = 0; i < dev->n_opts; i++) {
		const struct pg_kv *o = &dev->opts[i];
		if (strcmp(o->key, "max_length") != 0) {
			pg_diag_add(d, file, dev->line, "unknown option \"%s\" for a pager device "
				    "(known: max_length)", o->key);
			continue;
		}
		v = opt_number(o->value);
		if (v < PAGER_MIN_MAXLEN || v > PAGER_MAX_MAXLEN)
			pg_diag_add(d, file, dev->line, "bad \"max_length\" \"%s\": expected a "
				    "number of characters from %d to %d", o->value,
				    PAGER_MIN_MAXLEN, PAGER_MAX_MAXLEN);
	}
}
