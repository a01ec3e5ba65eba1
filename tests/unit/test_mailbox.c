/*
 * test_mailbox.c - the check-in mailbox: routing (a checkin contact gets
 * one mailbox item whatever the rule's channels and hold say), the
 * deliveries made from it, the client file (checkin, "mailbox" refused as
 * a device or rule channel), and the store (waiting deliveries never
 * loaded into the scheduler, peek writes nothing, take marks delivered
 * exactly once with a ledger event, message states, restart).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pagegate/config.h"
#include "pagegate/intake.h"
#include "pagegate/route.h"
#include "pagegate/store.h"
#include "pagegate/tz.h"
#include "pagegate/util.h"

#define T0    1795361640000LL   /* 2026-11-22T15:34:00Z, a Sunday */
#define MON_FRI 0x3eu
#define CH(c) (1u << (c))

/* ---- routing ---- */

static struct pg_device office_dev[] = {
	{ .channel = PG_CH_EMAIL, .to = "office@acme.example", .line = 1 },
};
static struct pg_device jane_dev[] = {
	{ .channel = PG_CH_EMAIL, .to = "jane@acme.example", .line = 2 },
	{ .channel = PG_CH_SMS, .to = "+15555550111", .line = 3 },
};
enum { OFFICE = 0, JANE = 1, NURSE = 2 };
static struct pg_contact contacts[] = {
	{ .id = "office", .name = "Front office", .devices = office_dev, .n_devices = 1 },
	{ .id = "jane", .name = "Jane Ortiz", .devices = jane_dev, .n_devices = 2,
	  .checkin = true },
	{ .id = "nurse", .name = "Night nurse", .checkin = true },   /* no devices */
};
static struct pg_hours hours[] = {
	{ .days = MON_FRI, .from_min = 8 * 60, .to_min = 17 * 60 },
};
static size_t n_oj[] = { OFFICE, JANE };
static size_t n_jn[] = { JANE, NURSE };
static struct pg_rule rules[] = {
	/* urgent: sms only, then continue to the next matching rule */
	{ .kind = -1, .urgency = PG_URG_URGENT, .contacts = n_jn, .n_contacts = 2,
	  .channels = CH(PG_CH_SMS), .cont = true, .line = 20 },
	/* after hours: everybody, held for the opening */
	{ .kind = -1, .urgency = -1, .hours = PG_HOURS_AFTER, .contacts = n_oj,
	  .n_contacts = 2, .hold_business = true, .line = 22 },
	{ .kind = -1, .urgency = -1, .contacts = n_oj, .n_contacts = 2,
	  .channels = CH(PG_CH_EMAIL), .line = 24 },
};

static struct pg_client acme(void)
{
	struct pg_client c;

	memset(&c, 0, sizeof c);
	c.id = "acme";
	c.name = "Acme";
	c.tz = pg_tz_get("America/Chicago");
	assert_non_null(c.tz);
	c.hours = hours;
	c.n_hours = 1;
	c.contacts = contacts;
	c.n_contacts = 3;
	c.rules = rules;
	c.n_rules = 3;
	return c;
}

/* Monday 2026-11-23 10:00 CST (open) and Sunday 2026-11-22 09:34 CST. */
#define OPEN_S   1795449600LL
#define CLOSED_S (T0 / 1000)

static void test_route_checkin_one_item(void **state)
{
	struct pg_client c = acme();
	struct pg_plan p;

	(void)state;
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE, OPEN_S, &p), PG_OK);
	assert_true(p.open);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.items[0].contact, OFFICE);
	assert_int_equal(p.items[0].device, 0);
	assert_int_equal(p.items[0].channel, PG_CH_EMAIL);
	/* jane has email and sms devices: only the mailbox item */
	assert_int_equal(p.items[1].contact, JANE);
	assert_int_equal(p.items[1].device, PG_PLAN_NO_DEVICE);
	assert_int_equal(p.items[1].channel, PG_CH_MAILBOX);
	assert_int_equal(p.items[1].hold_until_s, 0);
	assert_int_equal(p.items[1].rule_line, 24);
	pg_plan_free(&p);
}

/* A hold for business hours and checkin combine: the office's email is
 * held until the opening, jane's mailbox item simply waits. */
static void test_route_checkin_not_held(void **state)
{
	struct pg_client c = acme();
	struct pg_plan p;

	(void)state;
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE, CLOSED_S, &p), PG_OK);
	assert_false(p.open);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.items[0].channel, PG_CH_EMAIL);
	assert_int_equal(p.items[0].hold_until_s, pg_client_next_open(&c, CLOSED_S));
	assert_true(p.items[0].hold_until_s > CLOSED_S);
	assert_int_equal(p.items[1].channel, PG_CH_MAILBOX);
	assert_int_equal(p.items[1].hold_until_s, 0);
	pg_plan_free(&p);
}

/* Whatever channels the rule names, and however many matching rules name
 * the contact, a checkin contact gets one mailbox item; a checkin contact
 * without devices too. */
static void test_route_checkin_channels_and_duplicates(void **state)
{
	struct pg_client c = acme();
	struct pg_plan p;

	(void)state;
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_URGENT, OPEN_S, &p), PG_OK);
	assert_int_equal(p.n_rules_matched, 2);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.items[0].contact, JANE);
	assert_int_equal(p.items[0].channel, PG_CH_MAILBOX);
	assert_int_equal(p.items[0].rule_line, 20);
	assert_int_equal(p.items[1].contact, NURSE);
	assert_int_equal(p.items[1].channel, PG_CH_MAILBOX);
	assert_int_equal(p.items[1].device, PG_PLAN_NO_DEVICE);
	assert_int_equal(p.items[2].contact, OFFICE);
	assert_int_equal(p.items[2].channel, PG_CH_EMAIL);
	pg_plan_free(&p);
}

static void test_deliveries_waiting(void **state)
{
	struct pg_client c = acme();
	struct pg_config cfg;
	struct pg_message m;
	struct pg_plan p;
	struct pg_delivery *d;
	size_t n;
	int64_t now = CLOSED_S * 1000;

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	memset(&m, 0, sizeof m);
	cfg.retry[PG_CH_EMAIL].give_up_s = 3600;
	m.urgency = PG_URG_ROUTINE;
	assert_int_equal(pg_route(&c, PG_KIND_MESSAGE, PG_URG_ROUTINE, CLOSED_S, &p), PG_OK);
	assert_int_equal(pg_plan_deliveries(&cfg, &c, &m, &p, now, &d, &n), PG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].state, PG_D_HELD);
	assert_int_equal(d[0].expires_ms, d[0].next_try_ms + 3600 * 1000);
	assert_int_equal(d[1].channel, PG_CH_MAILBOX);
	assert_int_equal(d[1].state, PG_D_WAITING);
	assert_string_equal(d[1].address, "jane");
	assert_string_equal(d[1].contact_id, "jane");
	assert_string_equal(d[1].contact_name, "Jane Ortiz");
	assert_null(d[1].gateway);
	assert_int_equal(d[1].next_try_ms, now);
	assert_int_equal(d[1].expires_ms, 0);            /* never expires */
	for (size_t i = 0; i < n; i++)
		pg_delivery_free(&d[i]);
	free(d);
	pg_plan_free(&p);
}

/* ---- the client file ---- */

struct cfx {
	char dir[64];
};

static void put(const struct cfx *f, const char *rel, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", f->dir, rel);
	assert_non_null(fp = fopen(path, "w"));
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Writes a daemon file (5 lines, then daemon_extra), the email templates
 * and clients/acme.conf with client_text; loads; returns the diagnostics
 * "FILE:LINE: message\n" ("" when it loaded) and, when it loaded, the
 * configuration in *out. */
static char *load_client(const char *daemon_extra, const char *client_text,
			 struct pg_config **out)
{
	struct cfx f;
	struct pg_diags d;
	struct pg_buf b;
	char path[128], hash[65], text[1024];
	pg_err e;

	strcpy(f.dir, "/tmp/pg-test-mailbox.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(path, sizeof path, "%s/clients", f.dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/templates", f.dir);
	assert_int_equal(mkdir(path, 0700), 0);
	pg_sha256_hex("secret", 6, hash);
	snprintf(text, sizeof text,
		 "store = { dsn = \"sqlite:var/pg.db\"; };\n"
		 "templates = \"templates\";\nclients = \"clients\";\n"
		 "operators = ( { name = \"ops\"; token_sha256 = \"%s\"; } );\n"
		 "smtp = ( { name = \"relay\"; host = \"127.0.0.1\"; from = \"gw@example.org\"; } );\n"
		 "%s", hash, daemon_extra);
	put(&f, "pagegate.conf", text);
	put(&f, "templates/email.subject", "{{client.name}}\n");
	put(&f, "templates/email.txt", "{{text}}\n");
	put(&f, "clients/acme.conf", client_text);
	snprintf(path, sizeof path, "%s/pagegate.conf", f.dir);
	pg_diags_init(&d);
	pg_buf_init(&b, 1 << 16);
	*out = NULL;
	e = pg_config_load(path, out, &d);
	for (size_t i = 0; i < d.n; i++) {
		const char *slash = strrchr(d.v[i].file, '/');
		assert_int_equal(pg_buf_printf(&b, "%s:%d: %s\n", slash ? slash + 1 :
					       d.v[i].file, d.v[i].line, d.v[i].msg), PG_OK);
	}
	assert_int_equal(e, d.n ? PG_ERR_CONFIG : PG_OK);
	pg_diags_free(&d);
	assert_int_equal(nftw(f.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	return b.data ? pg_buf_steal(&b) : strdup("");
}

#define HEAD \
	"id = \"acme\";\nname = \"Acme\";\ntimezone = \"America/Chicago\";\n"   /* 1-3 */

static void test_config_checkin(void **state)
{
	struct pg_config *c;
	const struct pg_client *cl;
	char *diags;

	(void)state;
	diags = load_client("", HEAD
		"contacts = ( { id = \"jane\"; name = \"Jane\"; checkin = true;\n"
		"  devices = ( { channel = \"email\"; to = \"jane@example.org\"; } ); },\n"
		"  { id = \"nurse\"; name = \"Nurse\"; checkin = true; },\n"
		"  { id = \"raj\"; name = \"Raj\"; checkin = false;\n"
		"  devices = ( { channel = \"email\"; to = \"raj@example.org\"; } ); } );\n"
		"rules = ( { notify = [ \"contact:jane\", \"contact:nurse\" ]; channels = [ \"email\" ]; } );\n",
		&c);
	assert_string_equal(diags, "");
	free(diags);
	assert_non_null(cl = pg_config_client(c, "acme"));
	assert_true(pg_client_contact(cl, "jane")->checkin);
	assert_int_equal(pg_client_contact(cl, "jane")->n_devices, 1);
	assert_true(pg_client_contact(cl, "nurse")->checkin);
	assert_int_equal(pg_client_contact(cl, "nurse")->n_devices, 0);
	assert_false(pg_client_contact(cl, "raj")->checkin);
	pg_config_release(c);
}

static void test_config_mailbox_refused(void **state)
{
	struct pg_config *c;
	char *diags;

	(void)state;
	diags = load_client("", HEAD
		"contacts = ( { id = \"jane\"; name = \"Jane\";\n"                       /* 4 */
		"  devices = ( { channel = \"mailbox\"; to = \"jane\"; } ); },\n"       /* 5 */
		"  { id = \"raj\"; name = \"Raj\"; checkin = \"yes\"; },\n"             /* 6 */
		"  { id = \"ann\"; name = \"Ann\"; checkin = false; } );\n"             /* 7 */
		"rules = ( { notify = \"contact:jane\";\n"                              /* 8 */
		"  channels = [ \"mailbox\" ]; } );\n", &c);                            /* 9 */
	assert_string_equal(diags,
		"acme.conf:5: \"mailbox\" is not a device channel: set checkin = true; on the "
		"contact to keep its messages for retrieval\n"
		"acme.conf:6: \"checkin\" must be true or false, not a string\n"
		"acme.conf:6: contact \"raj\" has no devices\n"
		"acme.conf:7: contact \"ann\" has no devices\n"
		"acme.conf:9: a rule cannot select \"mailbox\": contacts with checkin = true "
		"get every message in their mailbox\n");
	free(diags);
	assert_null(c);
}

/* The mailbox has no retries and no settings section of its own. */
static void test_config_retry_mailbox_refused(void **state)
{
	struct pg_config *c;
	char *diags;

	(void)state;
	diags = load_client("retry = { mailbox = { base = \"1m\"; }; };\n"   /* 6 */
			    "mailbox = { keep = \"1d\"; };\n",                   /* 7 */
			    HEAD "contacts = ( { id = \"nurse\"; name = \"Nurse\"; checkin = true; } );\n"
			    "rules = ( { notify = \"contact:nurse\"; } );\n", &c);
	assert_string_equal(diags,
		"pagegate.conf:7: unknown setting \"mailbox\"\n"
		"pagegate.conf:6: the mailbox has no retries: its messages wait until retrieved\n");
	free(diags);
	assert_null(c);
}

/* ---- the store ---- */

struct fx {
	char dir[64];
	char db[128];
	struct pg_store *st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	if (fixture_tmpdb(f->dir, f->db, "mailbox") != 0)
		return -1;
	if (pg_store_open(f->db, 0, &f->st) != PG_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fixture_store_done(f->st, f->dir);
	free(f);
	return 0;
}

static int64_t sql_int(const struct fx *f, const char *q)
{
	return fixture_sql_int(f->db, q);
}

static struct pg_kv fields[] = { { "address", "14 Oak St" }, { "gate", "#4412" } };

/* Submits a message of client at `at` with one delivery per contact:
 * a waiting mailbox one for each name in mailbox (a NULL-terminated
 * list), a queued email one to "office" when email; fills did[] in that
 * order (mailbox ones first) and returns the message id. */
static int64_t submit(struct fx *f, const char *client, const char *text, int64_t at,
		      const char *const *mailbox, bool email, int64_t *did)
{
	struct pg_message m;
	struct pg_delivery d[4];
	size_t n = 0;
	bool existing;

	memset(&m, 0, sizeof m);
	m.client_id = (char *)client;
	m.caller_name = "Maria Lopez";
	m.caller_phone = "+1 555 555 0142";
	m.caller_company = "Lopez Bakery";
	m.text = (char *)text;
	m.fields = fields;
	m.n_fields = 2;
	m.operator_name = "alice";
	m.received_ms = at;
	memset(d, 0, sizeof d);
	for (; mailbox && *mailbox; mailbox++, n++) {
		d[n].contact_id = (char *)*mailbox;
		d[n].contact_name = "Someone";
		d[n].channel = PG_CH_MAILBOX;
		d[n].address = (char *)*mailbox;
		d[n].state = PG_D_WAITING;
		d[n].priority = 2;
		d[n].next_try_ms = at;
	}
	if (email) {
		d[n].contact_id = "office";
		d[n].channel = PG_CH_EMAIL;
		d[n].address = "office@acme.example";
		d[n].state = PG_D_QUEUED;
		d[n].priority = 2;
		d[n].next_try_ms = at;
		d[n].expires_ms = at + 3600000;
		n++;
	}
	assert_int_equal(pg_store_submit(f->st, &m, d, n, "r", &existing), PG_OK);
	for (size_t i = 0; did && i < n; i++)
		did[i] = d[i].id;
	return m.id;
}

static const char *const JANE_ONLY[] = { "jane", NULL };
static const char *const JANE_RAJ[] = { "jane", "raj", NULL };

static char *state_of(struct fx *f, int64_t mid, char buf[16])
{
	struct pg_message m;

	assert_int_equal(pg_store_get_msg(f->st, mid, &m), PG_OK);
	pg_strlcpy(buf, pg_mstate_name(m.state), 16);
	pg_message_free(&m);
	return buf;
}

struct seen { size_t n; int64_t ids[16]; };

static void seen_cb(const struct pg_delivery *d, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->ids[s->n] = d->id;
	s->n++;
}

static void test_store_submit_rules(void **state)
{
	struct fx *f = *state;
	struct pg_message m;
	struct pg_delivery d;
	char st[16];
	int64_t mid, did[2];

	/* A mailbox delivery must be waiting, and waiting is the mailbox's. */
	memset(&m, 0, sizeof m);
	m.client_id = "acme";
	m.text = "x";
	m.operator_name = "alice";
	memset(&d, 0, sizeof d);
	d.contact_id = "jane";
	d.address = "jane";
	d.channel = PG_CH_MAILBOX;
	d.state = PG_D_QUEUED;
	assert_int_equal(pg_store_submit(f->st, &m, &d, 1, "r", NULL), PG_ERR_INVAL);
	d.channel = PG_CH_EMAIL;
	d.state = PG_D_WAITING;
	assert_int_equal(pg_store_submit(f->st, &m, &d, 1, "r", NULL), PG_ERR_INVAL);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 0);

	/* Only the mailbox: "waiting", stored as text (no migration of its own). */
	mid = submit(f, "acme", "one", T0, JANE_ONLY, false, did);
	assert_string_equal(state_of(f, mid, st), "waiting");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries WHERE "
				 "state = 'waiting' AND channel = 'mailbox' AND address = 'jane'"), 1);
	assert_int_equal(sql_int(f, "SELECT max(version) FROM schema_version"), 4);
	/* Email queued beside it: "pending" until the email is done. */
	mid = submit(f, "acme", "two", T0, JANE_ONLY, true, did);
	assert_string_equal(state_of(f, mid, st), "pending");
	int64_t aid;
	assert_int_equal(pg_store_attempt_start(f->st, did[1], T0, &aid), PG_OK);
	assert_int_equal(pg_store_attempt_finish(f->st, did[1], aid, T0, PG_OUT_OK,
						 "250 ok", PG_D_SENT, 0), PG_OK);
	assert_string_equal(state_of(f, mid, st), "waiting");
	/* A waiting delivery cannot be attempted. */
	assert_int_equal(pg_store_attempt_start(f->st, did[0], T0, &aid), PG_ERR_INVAL);
	/* Held beats waiting: the held one goes out by itself. */
	assert_int_equal(pg_store_set_state(f->st, did[1], PG_D_HELD, T0 + 1000,
					    "held", NULL), PG_OK);
	assert_string_equal(state_of(f, mid, st), "held");
}

static void test_store_load_pending_ignores_waiting(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	int64_t did[3];
	size_t n;

	submit(f, "acme", "one", T0, JANE_RAJ, true, did);
	assert_int_equal(pg_store_load_pending(f->st, seen_cb, &s), PG_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0], did[2]);               /* the email only */
	assert_int_equal(pg_store_mailbox_count(f->st, &n), PG_OK);
	assert_int_equal(n, 2);
	/* After a restart too, and the waiting ones are untouched. */
	pg_store_close(f->st);
	assert_int_equal(pg_store_open(f->db, 0, &f->st), PG_OK);
	memset(&s, 0, sizeof s);
	assert_int_equal(pg_store_load_pending(f->st, seen_cb, &s), PG_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0], did[2]);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries WHERE state = 'waiting'"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM attempts"), 0);
}

static void test_store_peek_take(void **state)
{
	struct fx *f = *state;
	struct pg_mailbox_item *v;
	struct pg_message_full full;
	size_t n, events;
	bool more = true;
	char st[16];
	int64_t d1[3], d2[3], m1, m2, m3, before;

	m1 = submit(f, "acme", "first", T0, JANE_ONLY, false, d1);
	m2 = submit(f, "acme", "second", T0 + 60000, JANE_RAJ, false, d2);
	m3 = submit(f, "other-client", "not ours", T0, JANE_ONLY, false, NULL);
	events = (size_t)sql_int(f, "SELECT count(*) FROM events");

	/* Peek: everything of acme, oldest first, full content, no writes. */
	assert_int_equal(pg_store_mailbox(f->st, "acme", NULL, false, NULL, &v, &n,
					  &more), PG_OK);
	assert_false(more);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].d.id, d1[0]);
	assert_int_equal(v[0].msg.id, m1);
	assert_string_equal(v[0].msg.text, "first");
	assert_string_equal(v[0].msg.caller_name, "Maria Lopez");
	assert_string_equal(v[0].msg.caller_phone, "+1 555 555 0142");
	assert_string_equal(v[0].msg.caller_company, "Lopez Bakery");
	assert_int_equal(v[0].msg.n_fields, 2);
	assert_string_equal(v[0].msg.fields[1].key, "gate");
	assert_string_equal(v[0].msg.fields[1].value, "#4412");
	assert_int_equal(v[0].msg.received_ms, T0);
	assert_int_equal(strlen(v[0].msg.ack_ref), 6);
	assert_int_equal(v[0].d.state, PG_D_WAITING);
	assert_string_equal(v[0].d.contact_id, "jane");
	assert_int_equal(v[1].d.id, d2[0]);
	assert_int_equal(v[2].d.id, d2[1]);
	assert_string_equal(v[2].d.contact_id, "raj");
	pg_mailbox_free(v, n);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), (int64_t)events);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries WHERE state = 'waiting'"), 4);

	/* One contact's. */
	assert_int_equal(pg_store_mailbox(f->st, "acme", "raj", false, NULL, &v, &n,
					  NULL), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].d.id, d2[1]);
	pg_mailbox_free(v, n);

	/* Take jane's: both delivered, with one event each, in one go. */
	assert_int_equal(pg_store_mailbox(f->st, "acme", "jane", true, NULL, &v, &n,
					  NULL), PG_ERR_INVAL);        /* who is needed */
	assert_null(v);
	before = pg_now_ms();
	assert_int_equal(pg_store_mailbox(f->st, "acme", "jane", true,
		"Jane by phone (operator alice)", &v, &n, &more), PG_OK);
	assert_false(more);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].d.id, d1[0]);
	assert_int_equal(v[1].d.id, d2[0]);
	assert_int_equal(v[0].d.state, PG_D_DELIVERED);
	assert_string_equal(pg_mstate_name(v[0].msg.state), "delivered");     /* its only delivery */
	assert_string_equal(pg_mstate_name(v[1].msg.state), "waiting");       /* raj's still waits */
	pg_mailbox_free(v, n);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), (int64_t)events + 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE type = 'delivered' "
		"AND detail = 'retrieved from the mailbox by Jane by phone (operator alice)'"), 2);

	assert_int_equal(pg_store_get_message(f->st, m1, &full), PG_OK);
	assert_string_equal(pg_mstate_name(full.msg.state), "delivered");
	assert_int_equal(full.deliveries[0].state, PG_D_DELIVERED);
	assert_true(full.deliveries[0].updated_ms >= before);
	assert_string_equal(full.events[full.n_events - 1].type, "delivered");
	assert_int_equal(full.events[full.n_events - 1].delivery_id, d1[0]);
	pg_message_full_free(&full);
	assert_string_equal(state_of(f, m2, st), "waiting");

	/* A second take finds nothing of jane's; raj's is still there. */
	assert_int_equal(pg_store_mailbox(f->st, "acme", "jane", true, "again", &v, &n,
					  NULL), PG_OK);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(pg_store_mailbox(f->st, "acme", NULL, true, "raj", &v, &n,
					  NULL), PG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(pg_mstate_name(v[0].msg.state), "delivered");
	pg_mailbox_free(v, n);
	assert_string_equal(state_of(f, m2, st), "delivered");
	assert_int_equal(pg_store_mailbox(f->st, "acme", NULL, true, "x", &v, &n,
					  NULL), PG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE type = 'delivered'"), 3);
	/* The other client's message is untouched. */
	assert_string_equal(state_of(f, m3, st), "waiting");
	assert_int_equal(pg_store_mailbox_count(f->st, &n), PG_OK);
	assert_int_equal(n, 1);
}

/* Taking one message for two contacts at once: one state for both. */
static void test_store_take_shared_message(void **state)
{
	struct fx *f = *state;
	struct pg_mailbox_item *v;
	size_t n;
	int64_t did[3];
	int64_t mid = submit(f, "acme", "both", T0, JANE_RAJ, true, did);

	assert_int_equal(pg_store_mailbox(f->st, "acme", NULL, true, "ops", &v, &n,
					  NULL), PG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].msg.id, mid);
	assert_int_equal(v[1].msg.id, mid);
	/* the email is still queued */
	assert_string_equal(pg_mstate_name(v[0].msg.state), "pending");
	assert_string_equal(pg_mstate_name(v[1].msg.state), "pending");
	pg_mailbox_free(v, n);
}

/* More than PG_MAILBOX_MAX: the oldest come first, *more says so, and
 * the rest come with the next call. */
static void test_store_more(void **state)
{
	struct fx *f = *state;
	struct pg_mailbox_item *v;
	size_t n;
	bool more;
	int64_t first = 0, did[1];

	for (int i = 0; i < PG_MAILBOX_MAX + 2; i++) {
		int64_t mid = submit(f, "acme", "m", T0 + (PG_MAILBOX_MAX - i) * 1000LL,
				     JANE_ONLY, false, did);
		if (i == PG_MAILBOX_MAX + 1)
			first = mid;          /* received first */
	}
	assert_int_equal(pg_store_mailbox(f->st, "acme", NULL, false, NULL, &v, &n,
					  &more), PG_OK);
	assert_int_equal(n, PG_MAILBOX_MAX);
	assert_true(more);
	pg_mailbox_free(v, n);
	/* created_ms is the message's received time here (the store's
	 * default): the oldest comes first. */
	assert_int_equal(pg_store_mailbox(f->st, "acme", NULL, true, "ops", &v, &n,
					  &more), PG_OK);
	assert_int_equal(n, PG_MAILBOX_MAX);
	assert_true(more);
	assert_int_equal(v[0].msg.id, first);
	pg_mailbox_free(v, n);
	assert_int_equal(pg_store_mailbox(f->st, "acme", NULL, true, "ops", &v, &n,
					  &more), PG_OK);
	assert_int_equal(n, 2);
	assert_false(more);
	pg_mailbox_free(v, n);
}

/* One message heard on the phone: only its delivery is retrieved; the
 * others wait; taking it again finds nothing. */
static void test_store_take_one(void **state)
{
	struct fx *f = *state;
	struct pg_mailbox_item *v;
	size_t n;
	int64_t d1[3], d2[3], m2;

	(void)submit(f, "acme", "first", T0, JANE_ONLY, false, d1);
	m2 = submit(f, "acme", "second", T0 + 60000, JANE_ONLY, false, d2);
	assert_int_equal(pg_store_mailbox_take_one(f->st, "acme", "jane", d2[0], "Jane by phone",
						   &v, &n), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].d.id, d2[0]);
	assert_int_equal(v[0].msg.id, m2);
	assert_int_equal(v[0].d.state, PG_D_DELIVERED);
	pg_mailbox_free(v, n);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE type = 'delivered' AND "
				 "detail = 'retrieved from the mailbox by Jane by phone'"), 1);
	assert_int_equal(pg_store_mailbox(f->st, "acme", "jane", false, NULL, &v, &n, NULL),
			 PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].d.id, d1[0]);
	pg_mailbox_free(v, n);
	/* again, or another contact's mailbox: nothing */
	assert_int_equal(pg_store_mailbox_take_one(f->st, "acme", "jane", d2[0], "Jane",
						   &v, &n), PG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pg_store_mailbox_take_one(f->st, "acme", "raj", d1[0], "Raj",
						   &v, &n), PG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pg_store_mailbox_take_one(f->st, "acme", "jane", 0, "Jane", &v, &n),
			 PG_ERR_INVAL);
	assert_int_equal(pg_store_mailbox_take_one(f->st, "acme", "jane", d1[0], "", &v, &n),
			 PG_ERR_INVAL);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries WHERE state = 'waiting'"), 1);
}

static void test_store_bad_args(void **state)
{
	struct fx *f = *state;
	struct pg_mailbox_item *v = (struct pg_mailbox_item *)1;
	size_t n = 9;
	char who[600];

	assert_int_equal(pg_store_mailbox(f->st, NULL, NULL, false, NULL, &v, &n, NULL),
			 PG_ERR_INVAL);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_int_equal(pg_store_mailbox(f->st, "", NULL, false, NULL, &v, &n, NULL),
			 PG_ERR_INVAL);
	assert_int_equal(pg_store_mailbox(f->st, "acme", "", false, NULL, &v, &n, NULL),
			 PG_ERR_INVAL);
	assert_int_equal(pg_store_mailbox(f->st, "acme", NULL, true, "", &v, &n, NULL),
			 PG_ERR_INVAL);
	memset(who, 'w', sizeof who - 1);
	who[sizeof who - 1] = '\0';
	assert_int_equal(pg_store_mailbox(f->st, "acme", NULL, true, who, &v, &n, NULL),
			 PG_ERR_INVAL);
	/* An empty mailbox of a client nobody knows is just empty. */
	assert_int_equal(pg_store_mailbox(f->st, "nobody", NULL, true, "ops", &v, &n,
					  NULL), PG_OK);
	assert_int_equal(n, 0);
}

#define S(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_checkin_one_item),
		cmocka_unit_test(test_route_checkin_not_held),
		cmocka_unit_test(test_route_checkin_channels_and_duplicates),
		cmocka_unit_test(test_deliveries_waiting),
		cmocka_unit_test(test_config_checkin),
		cmocka_unit_test(test_config_mailbox_refused),
		cmocka_unit_test(test_config_retry_mailbox_refused),
		S(test_store_submit_rules),
		S(test_store_load_pending_ignores_waiting),
		S(test_store_peek_take),
		S(test_store_take_shared_message),
		S(test_store_more),
		S(test_store_take_one),
		S(test_store_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
