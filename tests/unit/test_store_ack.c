/*
 * test_store_ack.c - the store's acknowledgement model (store.h, second
 * half) on SQLite files in a fresh temporary directory: the migration of
 * a version-1 database, ack references, acknowledgements, matching an
 * inbound sender to its recent page, replies, far-end receipts and the
 * server secret.  (The first half of the store is test_store.c.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pagegate/store.h"
#include "pagegate/util.h"

#define T0   1795361640000LL   /* 2026-11-22T15:34:00Z */
#define MIN  60000LL
#define HOUR 3600000LL
#define WINDOW (72 * HOUR)

struct fx {
	char dir[64];
	char db[128];
	struct pg_store *st;
};

static int
setup_dir(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	if (fixture_tmpdb(f->dir, f->db, "storeack") != 0)
		return -1;
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	struct fx *f;

	if (setup_dir(state))
		return -1;
	f = *state;
	return pg_store_open(f->db, 0, &f->st) == PG_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	fixture_store_done(f->st, f->dir);
	free(f);
	return 0;
}

static int64_t
sql_int(const struct fx *f, const char *q)
{
	return fixture_sql_int(f->db, q);
}

/* Submits a message with one delivery on ch to `to`; with started != 0
 * an attempt is started then (and finished "sent" unless keep_sending).
 * Returns the message id; *did the delivery's, ref its ack_ref. */
static int64_t
page(struct pg_store *st, enum pg_channel_kind ch, const char *to,
     int64_t started, bool keep_sending, int64_t *did, char ref[12])
{
	struct pg_message m;
	struct pg_delivery d;
	int64_t aid;
	bool existing;

	memset(&m, 0, sizeof m);
	m.client_id = "acme-hvac";
	m.caller_name = "Zoe";
	m.text = "No heat at 12 Elm St";
	m.operator_name = "alice";
	m.received_ms = T0;
	memset(&d, 0, sizeof d);
	d.contact_id = "jane";
	d.channel = ch;
	d.address = (char *)to;
	d.state = PG_D_QUEUED;
	d.next_try_ms = T0;
	d.expires_ms = T0 + 86400000;
	assert_int_equal(pg_store_submit(st, &m, &d, 1, "r", &existing), PG_OK);
	if (started) {
		assert_int_equal(pg_store_attempt_start(st, d.id, started, &aid),
				 PG_OK);
		if (!keep_sending)
			assert_int_equal(pg_store_attempt_finish(st, d.id, aid,
				started + 500, PG_OUT_OK, "0: Accepted for delivery",
				PG_D_SENT, 0), PG_OK);
	}
	if (did)
		*did = d.id;
	if (ref)
		snprintf(ref, 12, "%s", m.ack_ref);
	return m.id;
}

/* The last event of message mid. */
static void
last_event(struct pg_store *st, int64_t mid, const char *type,
	   int64_t did, const char *detail)
{
	struct pg_message_full full;
	struct pg_event *e;

	assert_int_equal(pg_store_get_message(st, mid, &full), PG_OK);
	assert_true(full.n_events > 0);
	e = &full.events[full.n_events - 1];
	assert_string_equal(e->type, type);
	assert_int_equal(e->delivery_id, did);
	if (detail)
		assert_string_equal(e->detail, detail);
	else
		assert_null(e->detail);
	pg_message_full_free(&full);
}

/* ---- migration ---- */

/* The version-1 schema exactly as pagegate 1 wrote it. */
static const char v1_schema[] =
	"CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
	" applied_ms INTEGER NOT NULL);"
	"CREATE TABLE messages (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL,"
	" kind TEXT NOT NULL, urgency TEXT NOT NULL, caller_name TEXT,"
	" caller_phone TEXT, caller_company TEXT, text TEXT NOT NULL,"
	" fields TEXT NOT NULL DEFAULT '{}', operator TEXT NOT NULL,"
	" idem_key TEXT, received_ms INTEGER NOT NULL, state TEXT NOT NULL);"
	"CREATE UNIQUE INDEX messages_idem ON messages(operator, idem_key)"
	" WHERE idem_key IS NOT NULL;"
	"CREATE INDEX messages_received ON messages(received_ms);"
	"CREATE INDEX messages_client ON messages(client_id, received_ms);"
	"CREATE INDEX messages_state ON messages(state, received_ms);"
	"CREATE TABLE deliveries (id INTEGER PRIMARY KEY,"
	" message_id INTEGER NOT NULL REFERENCES messages(id),"
	" contact_id TEXT NOT NULL, contact_name TEXT, channel TEXT NOT NULL,"
	" address TEXT NOT NULL, gateway TEXT, state TEXT NOT NULL,"
	" priority INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	" created_ms INTEGER NOT NULL, next_try_ms INTEGER NOT NULL,"
	" expires_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
	" last_reply TEXT);"
	"CREATE INDEX deliveries_message ON deliveries(message_id);"
	"CREATE INDEX deliveries_pending ON deliveries(state, next_try_ms);"
	"CREATE TABLE attempts (id INTEGER PRIMARY KEY,"
	" delivery_id INTEGER NOT NULL REFERENCES deliveries(id),"
	" started_ms INTEGER NOT NULL, finished_ms INTEGER NOT NULL DEFAULT 0,"
	" outcome TEXT, reply TEXT);"
	"CREATE INDEX attempts_delivery ON attempts(delivery_id);"
	"CREATE TABLE events (id INTEGER PRIMARY KEY,"
	" message_id INTEGER NOT NULL REFERENCES messages(id),"
	" delivery_id INTEGER REFERENCES deliveries(id),"
	" at_ms INTEGER NOT NULL, type TEXT NOT NULL, detail TEXT);"
	"CREATE INDEX events_message ON events(message_id);"
	"INSERT INTO schema_version VALUES (1, 1795361000000);"
	"INSERT INTO messages (id, client_id, kind, urgency, caller_name, text,"
	" fields, operator, idem_key, received_ms, state) VALUES"
	" (1, 'acme-hvac', 'message', 'routine', 'Ann', 'old one',"
	"  '{\"gate\":\"#12\"}', 'alice', NULL, 1795361000000, 'sent'),"
	" (2, 'acme-hvac', 'dispatch', 'urgent', 'Bob', 'old two', '{}',"
	"  'bob', 'old-key', 1795361100000, 'pending'),"
	" (3, 'bravo', 'message', 'routine', NULL, 'old three', '{}',"
	"  'alice', NULL, 1795361200000, 'unrouted');"
	"INSERT INTO deliveries VALUES (1, 1, 'jane', 'Jane', 'sms',"
	" '+15555550111', NULL, 'sent', 2, 1, 1795361000000, 1795361000000,"
	" 1795447400000, 1795361001000, '0: Accepted');"
	"INSERT INTO attempts VALUES (1, 1, 1795361000500, 1795361001000,"
	" 'ok', '0: Accepted');"
	"INSERT INTO events (message_id, at_ms, type, detail) VALUES"
	" (1, 1795361000000, 'received', 'message, routine, for acme-hvac,"
	" taken by alice');";

static void
test_migration_v1(void **state)
{
	struct fx *f = *state;
	struct pg_message m;
	sqlite3 *db;
	char ref[12];
	int64_t mid, did;
	bool existing = false;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);

	assert_int_equal(pg_store_open(f->db, 0, &f->st), PG_OK);
	assert_int_equal(sql_int(f, "SELECT max(version) FROM schema_version"), 4);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_version"), 4);
	/* Every old message got its own 6-digit reference. */
	assert_int_equal(sql_int(f, "SELECT count(DISTINCT ack_ref) FROM messages"
		" WHERE ack_ref GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]'"), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE "
				 "acked_ms IS NOT NULL OR acked_by IS NOT NULL"), 0);
	/* Old rows read back whole, with the new fields. */
	assert_int_equal(pg_store_get_msg(f->st, 1, &m), PG_OK);
	assert_string_equal(m.text, "old one");
	assert_int_equal(m.n_fields, 1);
	assert_string_equal(m.fields[0].value, "#12");
	assert_int_equal(strlen(m.ack_ref), 6);
	assert_int_equal(m.acked_ms, 0);
	assert_null(m.acked_by);
	snprintf(ref, sizeof ref, "%s", m.ack_ref);
	pg_message_free(&m);
	assert_int_equal(pg_store_find_ack_ref(f->st, ref, &mid), PG_OK);
	assert_int_equal(mid, 1);
	/* The old data works with the new operations... */
	assert_int_equal(pg_store_receipt(f->st, 1, PG_D_DELIVERED, "DELIVRD"),
			 PG_OK);
	last_event(f->st, 1, "delivered", 1, "DELIVRD");
	assert_int_equal(pg_store_ack(f->st, 2, 0, "api", "carol", NULL), PG_OK);
	/* ... and new messages go on after the old ids. */
	assert_int_equal(page(f->st, PG_CH_SMS, "+15555550123", 0, false, &did,
			      ref), 4);
	assert_int_equal(did, 2);
	/* An old Idempotency-Key has no request hash: it matches whatever
	 * request comes with it (answered with the old message). */
	memset(&m, 0, sizeof m);
	m.client_id = "acme-hvac";
	m.text = "a different request";
	m.operator_name = "bob";
	m.idem_key = "old-key";
	m.received_ms = T0;
	snprintf(m.idem_hash, sizeof m.idem_hash, "%064d", 7);
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing), PG_OK);
	assert_true(existing);
	assert_int_equal(m.id, 2);
	/* A second open migrates nothing more. */
	pg_store_close(f->st);
	f->st = NULL;
	assert_int_equal(pg_store_open(f->db, 0, &f->st), PG_OK);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_version"), 4);
	assert_int_equal(sql_int(f, "SELECT count(DISTINCT ack_ref) FROM messages"), 4);
}

/* A database from a newer pagegate is refused, not damaged. */
static void
test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE schema_version (version "
		"INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL);"
		"INSERT INTO schema_version VALUES (99, 0);", NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(pg_store_open(f->db, 0, &f->st), PG_ERR_STORE);
	assert_null(f->st);
	assert_int_equal(sql_int(f, "SELECT max(version) FROM schema_version"), 99);
}

/* ---- acknowledgements ---- */

static void
test_ack(void **state)
{
	struct fx *f = *state;
	struct pg_message m;
	int64_t did, did2, mid, mid2, n;
	bool already = true;
	char detail[96];

	mid = page(f->st, PG_CH_SMS, "+15555550111", T0, false, &did, NULL);
	mid2 = page(f->st, PG_CH_SMS, "+15555550122", T0, false, &did2, NULL);
	assert_int_equal(pg_store_ack(f->st, mid, did, "sms", "+15555550111",
				      &already), PG_OK);
	assert_false(already);
	assert_int_equal(pg_store_get_msg(f->st, mid, &m), PG_OK);
	assert_true(m.acked_ms >= pg_now_ms() - 60000 && m.acked_ms <= pg_now_ms());
	assert_string_equal(m.acked_by, "+15555550111 via sms");
	assert_int_equal(m.state, PG_M_SENT);     /* state is the deliveries' */
	pg_message_free(&m);
	snprintf(detail, sizeof detail, "by +15555550111 via sms (delivery %lld)",
		 (long long)did);
	last_event(f->st, mid, "acknowledged", did, detail);

	/* Twice: nothing written, *already, the first acknowledger kept. */
	n = sql_int(f, "SELECT count(*) FROM events");
	assert_int_equal(pg_store_ack(f->st, mid, 0, "api", "bob", &already), PG_OK);
	assert_true(already);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), n);
	assert_int_equal(pg_store_get_msg(f->st, mid, &m), PG_OK);
	assert_string_equal(m.acked_by, "+15555550111 via sms");
	pg_message_free(&m);

	/* An operator, no delivery. */
	assert_int_equal(pg_store_ack(f->st, mid2, 0, "api", "alice", &already),
			 PG_OK);
	assert_false(already);
	last_event(f->st, mid2, "acknowledged", 0, "by alice via api");
	/* Listed messages carry it too. */
	struct pg_list_filter flt = { .limit = 10 };
	struct pg_message *v;
	size_t nv;
	assert_int_equal(pg_store_list(f->st, &flt, &v, &nv), PG_OK);
	assert_int_equal(nv, 2);
	assert_int_equal(v[0].id, mid2);
	assert_string_equal(v[0].acked_by, "alice via api");
	assert_int_equal(strlen(v[0].ack_ref), 6);
	pg_message_list_free(v, nv);

	/* Unknown message, a delivery of another message, bad input. */
	assert_int_equal(pg_store_ack(f->st, 999999, 0, "api", "x", &already),
			 PG_ERR_NOTFOUND);
	mid2 = page(f->st, PG_CH_SMS, "+15555550133", 0, false, NULL, NULL);
	assert_int_equal(pg_store_ack(f->st, mid2, did, "sms", "x", &already),
			 PG_ERR_INVAL);
	assert_int_equal(pg_store_ack(f->st, mid2, 0, "sms", NULL, &already),
			 PG_ERR_INVAL);
	assert_int_equal(pg_store_ack(f->st, mid2, 0, "", "x", &already),
			 PG_ERR_INVAL);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE "
				 "acked_ms IS NOT NULL"), 2);
}

static void
test_find_ack_ref(void **state)
{
	struct fx *f = *state;
	char r1[12], r2[12], none[12];
	int64_t m1 = page(f->st, PG_CH_SMS, "+1555", 0, false, NULL, r1);
	int64_t m2 = page(f->st, PG_CH_SMS, "+1555", 0, false, NULL, r2);
	int64_t mid = 0;

	assert_string_not_equal(r1, r2);
	assert_int_equal(pg_store_find_ack_ref(f->st, r1, &mid), PG_OK);
	assert_int_equal(mid, m1);
	assert_int_equal(pg_store_find_ack_ref(f->st, r2, &mid), PG_OK);
	assert_int_equal(mid, m2);
	/* A reference neither holds. */
	snprintf(none, sizeof none, "%s", strcmp(r1, "999999") &&
		 strcmp(r2, "999999") ? "999999" : strcmp(r1, "999998") &&
		 strcmp(r2, "999998") ? "999998" : "999997");
	assert_int_equal(pg_store_find_ack_ref(f->st, none, &mid), PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_find_ack_ref(f->st, "", &mid), PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_find_ack_ref(f->st, NULL, &mid), PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_find_ack_ref(f->st, "12345678901234567890",
					       &mid), PG_ERR_NOTFOUND);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE "
				 "length(ack_ref) = 6"), 2);
}

/* Takes every one of the million references with messages received at
 * received_ms (about 150 MB and 3 s: the only way to crowd the space). */
static void
take_all_refs(const struct fx *f, int64_t received_ms)
{
	sqlite3 *db;
	char q[400];

	snprintf(q, sizeof q, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL "
		 "SELECT i + 1 FROM n WHERE i < 999999) INSERT INTO messages "
		 "(client_id, kind, urgency, text, operator, received_ms, state,"
		 " ack_ref) SELECT 'old', 'message', 'routine', 'x', 'alice', "
		 "%lld, 'sent', printf('%%06d', i) FROM n", (long long)received_ms);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* References of messages older than 30 days are given again. */
static void
test_ack_ref_reuse(void **state)
{
	struct fx *f = *state;
	char ref[12], q[160];
	int64_t mid, n;

	take_all_refs(f, pg_now_ms() - 31 * 24 * HOUR);
	mid = page(f->st, PG_CH_SMS, "+15555550111", 0, false, NULL, ref);
	assert_int_equal(strlen(ref), 6);
	assert_int_equal(pg_store_find_ack_ref(f->st, ref, &n), PG_OK);
	assert_int_equal(n, mid);
	snprintf(q, sizeof q, "SELECT count(*) FROM messages WHERE ack_ref = "
		 "'%s'", ref);
	assert_int_equal(sql_int(f, q), 1);
	/* The old holder lost it; nobody else did. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE "
				 "ack_ref IS NULL"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE "
				 "ack_ref IS NULL AND client_id = 'old'"), 1);
}

/* All held by recent messages: a submit is refused whole. */
static void
test_ack_ref_space_full(void **state)
{
	struct fx *f = *state;
	struct pg_message m;
	int64_t n;

	take_all_refs(f, pg_now_ms() - 29 * 24 * HOUR);
	n = sql_int(f, "SELECT count(*) FROM messages");
	memset(&m, 0, sizeof m);
	m.client_id = "acme-hvac";
	m.text = "one too many";
	m.operator_name = "alice";
	m.received_ms = T0;
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, NULL),
			 PG_ERR_FULL);
	assert_int_equal(m.id, 0);
	assert_string_equal(m.ack_ref, "");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), n);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE "
				 "ack_ref IS NULL"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), 0);
}

/* ---- matching a sender to its recent page ---- */

static void
want_recent_x(struct pg_store *st, enum pg_channel_kind ch, const char *from,
	      int64_t age, bool include_acked, int64_t want_did, int64_t want_mid)
{
	int64_t did = -1, mid = -1;
	pg_err e = pg_store_find_recent(st, ch, from, age, include_acked, &did, &mid);

	if (want_did == 0) {
		assert_int_equal(e, PG_ERR_NOTFOUND);
		return;
	}
	assert_int_equal(e, PG_OK);
	assert_int_equal(did, want_did);
	assert_int_equal(mid, want_mid);
}

/* Pages still waiting for an acknowledgement only. */
static void
want_recent(struct pg_store *st, enum pg_channel_kind ch, const char *from,
	    int64_t age, int64_t want_did, int64_t want_mid)
{
	want_recent_x(st, ch, from, age, false, want_did, want_mid);
}

static void
test_find_recent(void **state)
{
	struct fx *f = *state;
	int64_t now = pg_now_ms(), d1, d2, d3, d4, d5, d6, m1, m2, m4, m5, m6;

	/* m1: 2 h ago to a formatted number, sent. */
	m1 = page(f->st, PG_CH_SMS, "+1 (555) 555-0111", now - 2 * HOUR, false,
		  &d1, NULL);
	/* m2: 1 h ago to the same number written otherwise, still sending. */
	m2 = page(f->st, PG_CH_SMS, "15555550111", now - HOUR, true, &d2, NULL);
	/* Three days and a bit ago: too old. */
	page(f->st, PG_CH_SMS, "+15555550111", now - WINDOW - MIN, false, &d3,
	     NULL);
	/* Never attempted; e-mail to an address with the same digits. */
	page(f->st, PG_CH_SMS, "+15555550111", 0, false, NULL, NULL);
	page(f->st, PG_CH_EMAIL, "15555550111@sms.example", now - MIN, false,
	     NULL, NULL);
	/* A short code, an e-mail address, a 7-digit number. */
	m4 = page(f->st, PG_CH_SMS, "4412", now - 3 * HOUR, false, &d4, NULL);
	m5 = page(f->st, PG_CH_EMAIL, "Jane@Example.COM", now - 3 * HOUR, false,
		  &d5, NULL);
	m6 = page(f->st, PG_CH_PAGER, "555-0199", now - 3 * HOUR, false, &d6,
		  NULL);

	/* The most recent attempt first, whatever the number's format. */
	want_recent(f->st, PG_CH_SMS, "+15555550111", WINDOW, d2, m2);
	want_recent(f->st, PG_CH_SMS, "+1 (555) 555-0111", WINDOW, d2, m2);
	want_recent(f->st, PG_CH_SMS, "5555550111", WINDOW, d2, m2);
	want_recent(f->st, PG_CH_SMS, "0015555550111", WINDOW, d2, m2);
	/* Fewer than 10 digits: all must agree. */
	want_recent(f->st, PG_CH_SMS, "555-0111", WINDOW, 0, 0);
	/* Another number, another channel, an age bound it misses. */
	want_recent(f->st, PG_CH_SMS, "+15555550112", WINDOW, 0, 0);
	want_recent(f->st, PG_CH_PAGER, "+15555550111", WINDOW, 0, 0);
	want_recent(f->st, PG_CH_SMS, "+15555550111", 30 * MIN, 0, 0);
	/* Once m2 is acknowledged, the page before it; then nothing (the
	 * three-day-old one is out of the window). */
	assert_int_equal(pg_store_ack(f->st, m2, d2, "sms", "x", NULL), PG_OK);
	want_recent(f->st, PG_CH_SMS, "15555550111", WINDOW, d1, m1);
	assert_int_equal(pg_store_ack(f->st, m1, d1, "sms", "x", NULL), PG_OK);
	want_recent(f->st, PG_CH_SMS, "15555550111", WINDOW, 0, 0);
	/* ... but a reply after the acknowledgement still finds the latest. */
	want_recent_x(f->st, PG_CH_SMS, "15555550111", WINDOW, true, d2, m2);
	want_recent(f->st, PG_CH_SMS, "15555550111", WINDOW + HOUR, d3,
		    m1 + 2);
	/* Short codes and digits of three or more. */
	want_recent(f->st, PG_CH_SMS, "4412", WINDOW, d4, m4);
	want_recent(f->st, PG_CH_SMS, "44-12", WINDOW, d4, m4);
	want_recent(f->st, PG_CH_SMS, "412", WINDOW, 0, 0);
	want_recent(f->st, PG_CH_PAGER, "5550199", WINDOW, d6, m6);
	/* E-mail: equal ignoring case; digits in an address do not count. */
	want_recent(f->st, PG_CH_EMAIL, "jane@example.com", WINDOW, d5, m5);
	want_recent(f->st, PG_CH_EMAIL, "15555550111", WINDOW, 0, 0);
	/* A delivery that failed is no longer open to replies. */
	assert_int_equal(pg_store_receipt(f->st, d4, PG_D_FAILED, "expired"),
			 PG_OK);
	want_recent(f->st, PG_CH_SMS, "4412", WINDOW, 0, 0);
	/* Bad input. */
	assert_int_equal(pg_store_find_recent(f->st, PG_CH_SMS, "", WINDOW, false, &d1,
					      &m1), PG_ERR_INVAL);
	assert_int_equal(pg_store_find_recent(f->st, PG_CH_SMS, NULL, WINDOW, false, &d1,
					      &m1), PG_ERR_INVAL);
	assert_int_equal(pg_store_find_recent(f->st, PG_CH__COUNT, "4412", WINDOW, false,
					      &d1, &m1), PG_ERR_INVAL);
}

/* ---- replies, receipts ---- */

static void
test_reply(void **state)
{
	struct fx *f = *state;
	static char big[3001];
	char want[2100];
	int64_t did, mid = page(f->st, PG_CH_SMS, "+15555550111", T0, false,
				&did, NULL);

	assert_int_equal(pg_store_reply(f->st, mid, did, "sms", "+15555550111",
		"call me at 555-0199 \xe2\x80\x94 Jane"), PG_OK);
	last_event(f->st, mid, "reply", did, "from +15555550111 via sms: call me "
		   "at 555-0199 \xe2\x80\x94 Jane");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE "
				 "acked_ms IS NOT NULL"), 0);
	/* A long text is quoted up to 2000 bytes, marked as cut. */
	memset(big, 'x', sizeof big - 1);
	assert_int_equal(pg_store_reply(f->st, mid, 0, "sms", "+1555", big), PG_OK);
	snprintf(want, sizeof want, "from +1555 via sms: %.2000s...", big);
	last_event(f->st, mid, "reply", 0, want);
	assert_int_equal(pg_store_reply(f->st, 999999, 0, "sms", "+1555", "hi"),
			 PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_reply(f->st, mid + 1, did, "sms", "+1555", "hi"),
			 PG_ERR_INVAL);
	assert_int_equal(pg_store_reply(f->st, mid, did, "sms", "+1555", NULL),
			 PG_ERR_INVAL);
}

static void
test_receipt(void **state)
{
	struct fx *f = *state;
	struct pg_delivery d;
	struct pg_message m;
	int64_t did, did2, did3, aid, n;
	int64_t mid = page(f->st, PG_CH_SMS, "+15555550111", T0, false, &did,
			   NULL);
	int64_t mid2 = page(f->st, PG_CH_SMS, "+15555550122", 0, false, &did2,
			    NULL);
	int64_t mid3 = page(f->st, PG_CH_SMS, "+15555550133", T0, true, &did3,
			    NULL);

	/* Sent -> delivered, the message with it. */
	assert_int_equal(pg_store_receipt(f->st, did, PG_D_DELIVERED,
		"id:7 stat:DELIVRD err:000"), PG_OK);
	assert_int_equal(pg_store_get_delivery(f->st, did, &d), PG_OK);
	assert_int_equal(d.state, PG_D_DELIVERED);
	pg_delivery_free(&d);
	assert_int_equal(pg_store_get_msg(f->st, mid, &m), PG_OK);
	assert_int_equal(m.state, PG_M_DELIVERED);
	pg_message_free(&m);
	last_event(f->st, mid, "delivered", did, "id:7 stat:DELIVRD err:000");
	/* A second report: only a "receipt" event. */
	assert_int_equal(pg_store_receipt(f->st, did, PG_D_FAILED, "late"), PG_OK);
	assert_int_equal(pg_store_get_delivery(f->st, did, &d), PG_OK);
	assert_int_equal(d.state, PG_D_DELIVERED);
	pg_delivery_free(&d);
	last_event(f->st, mid, "receipt", did,
		   "failed: late (delivery was already delivered)");
	assert_int_equal(pg_store_receipt(f->st, did, PG_D_DELIVERED, NULL), PG_OK);
	last_event(f->st, mid, "receipt", did,
		   "delivered (delivery was already delivered)");

	/* Queued (a retry pending) -> failed. */
	assert_int_equal(pg_store_receipt(f->st, did2, PG_D_FAILED, NULL), PG_OK);
	last_event(f->st, mid2, "failed", did2, NULL);
	assert_int_equal(pg_store_get_msg(f->st, mid2, &m), PG_OK);
	assert_int_equal(m.state, PG_M_FAILED);
	pg_message_free(&m);

	/* A report that overtakes its attempt's outcome: the attempt closes,
	 * the delivery stays delivered. */
	assert_int_equal(pg_store_receipt(f->st, did3, PG_D_DELIVERED, "fast"),
			 PG_OK);
	aid = sql_int(f, "SELECT max(id) FROM attempts");
	assert_int_equal(pg_store_attempt_finish(f->st, did3, aid, T0 + 900,
		PG_OUT_OK, "0: Accepted", PG_D_SENT, 0), PG_OK);
	assert_int_equal(pg_store_get_delivery(f->st, did3, &d), PG_OK);
	assert_int_equal(d.state, PG_D_DELIVERED);
	pg_delivery_free(&d);
	assert_int_equal(pg_store_get_msg(f->st, mid3, &m), PG_OK);
	assert_int_equal(m.state, PG_M_DELIVERED);
	pg_message_free(&m);
	last_event(f->st, mid3, "attempt_finished", did3, "ok: 0: Accepted");

	/* Unknown delivery, a state that is no report. */
	n = sql_int(f, "SELECT count(*) FROM events");
	assert_int_equal(pg_store_receipt(f->st, 999999, PG_D_DELIVERED, "x"),
			 PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_receipt(f->st, did, PG_D_QUEUED, "x"),
			 PG_ERR_INVAL);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), n);

	/* An intermediate report ("accepted by the SMSC") is a ledger event
	 * only: the delivery keeps its state. */
	int64_t did4, mid4 = page(f->st, PG_CH_SMS, "+15555550144", T0, false,
				  &did4, NULL);
	assert_int_equal(pg_store_receipt(f->st, did4, PG_D_SENT,
		"kannel report 8: accepted by the SMSC"), PG_OK);
	assert_int_equal(pg_store_get_delivery(f->st, did4, &d), PG_OK);
	assert_int_equal(d.state, PG_D_SENT);
	pg_delivery_free(&d);
	last_event(f->st, mid4, "receipt", did4, "kannel report 8: accepted by the SMSC");
}

/* ---- the secret ---- */

static void
test_secret(void **state)
{
	struct fx *f = *state;
	unsigned char a[32], b[32], zero[32] = { 0 };

	assert_int_equal(pg_store_secret(f->st, a), PG_OK);
	assert_memory_not_equal(a, zero, 32);
	assert_int_equal(pg_store_secret(f->st, b), PG_OK);
	assert_memory_equal(a, b, 32);
	pg_store_close(f->st);
	f->st = NULL;
	assert_int_equal(pg_store_open(f->db, 0, &f->st), PG_OK);
	memset(b, 0, sizeof b);
	assert_int_equal(pg_store_secret(f->st, b), PG_OK);
	assert_memory_equal(a, b, 32);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM settings"), 1);
	assert_int_equal(sql_int(f, "SELECT length(value) FROM settings "
				 "WHERE key = 'secret'"), 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migration_v1, setup_dir,
						teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
						setup_dir, teardown),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_ack),
		T(test_find_ack_ref),
		T(test_ack_ref_reuse),
		T(test_ack_ref_space_full),
		T(test_find_recent),
		T(test_reply),
		T(test_receipt),
		T(test_secret),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
