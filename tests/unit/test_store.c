/*
 * test_store.c - the durable store (store.h) on SQLite files in a fresh
 * temporary directory: round trips, ids, the ledger, idempotency,
 * attempts, crash recovery, list filters.  Group commit and a full store
 * are test_store_commit.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pagegate/store.h"

#define T0    1795361640000LL   /* 2026-11-22T15:34:00Z */
#define T1    1795361700000LL   /* 2026-11-22T15:35:00Z */
#define T2    1795362000000LL   /* 2026-11-22T15:40:00Z */
#define THOLD 1795442400000LL   /* 2026-11-23T14:00:00Z */


static int setup(void **state) { return fixture_store_setup(state, "store"); }
static int teardown(void **state) { return fixture_store_teardown(state); }
/* One integer, one text from a constant query, read beside the store. */
static int64_t
sql_int(const struct store_fx *f, const char *q)
{
	return fixture_sql_int(f->db, q);
}

static const char *
sql_text(const struct store_fx *f, const char *q, char *buf, size_t size)
{
	return fixture_sql_text(f->db, q, buf, size);
}

static struct pg_kv test_fields[] = {
	{ "address", "12 Elm St, \"Apt\" 4 \xe2\x80\x94 rear door" },
	{ "gate_code", "#4412*" },
	{ "allergies", "p\xc3\xa9nicilline; l'aspirine" },
};

static void
msg_init(struct pg_message *m, const char *client, const char *text, int64_t at)
{
	memset(m, 0, sizeof *m);
	m->client_id = (char *)client;
	m->kind = PG_KIND_MESSAGE;
	m->urgency = PG_URG_ROUTINE;
	m->caller_name = "Zo\xc3\xab O'Brien \"Jr\"";
	m->caller_phone = "+1 (555) 555-0142";
	m->text = (char *)text;
	m->operator_name = "alice";
	m->received_ms = at;
}

static void
del_init(struct pg_delivery *d, const char *contact, enum pg_channel_kind ch,
	 const char *to, enum pg_dstate state, int64_t next)
{
	memset(d, 0, sizeof *d);
	d->contact_id = (char *)contact;
	d->contact_name = "Front office";
	d->channel = ch;
	d->address = (char *)to;
	d->state = state;
	d->priority = 2;
	d->next_try_ms = next;
	d->expires_ms = next + 86400000;
}

/* Submits a plain message with one queued email delivery; returns its id
 * and the delivery's id in *did. */
static int64_t
submit_simple(struct pg_store *st, const char *client, int64_t at, int64_t *did)
{
	struct pg_message m;
	struct pg_delivery d;
	bool existing = true;

	msg_init(&m, client, "Please call back", at);
	del_init(&d, "office", PG_CH_EMAIL, "office@acme.example", PG_D_QUEUED, at);
	assert_int_equal(pg_store_submit(st, &m, &d, 1, "rule 1", &existing), PG_OK);
	assert_false(existing);
	if (did)
		*did = d.id;
	return m.id;
}

static void
check_event(const struct pg_event *e, int64_t mid, int64_t did, int64_t at,
	    const char *type, const char *detail)
{
	assert_int_equal(e->message_id, mid);
	assert_int_equal(e->delivery_id, did);
	assert_int_equal(e->at_ms, at);
	assert_string_equal(e->type, type);
	if (detail)
		assert_string_equal(e->detail, detail);
	else
		assert_null(e->detail);
}

static void
test_open_reopen_schema(void **state)
{
	struct store_fx *f = *state;
	struct pg_message m;
	int64_t id = submit_simple(f->st, "acme-hvac", T0, NULL);
	char buf[160];

	fixture_store_reopen(f, 0);
	assert_int_equal(pg_store_get_msg(f->st, id, &m), PG_OK);
	assert_int_equal(m.id, id);
	assert_string_equal(m.text, "Please call back");
	assert_int_equal(m.state, PG_M_PENDING);
	pg_message_free(&m);
	assert_int_equal(sql_int(f, "SELECT max(version) FROM schema_version"), 4);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM schema_version"), 4);
	assert_string_equal(sql_text(f, "PRAGMA journal_mode", buf, sizeof buf), "wal");
	/* Enums are stored by name: the file is readable with sqlite3. */
	assert_string_equal(sql_text(f, "SELECT kind || '/' || urgency || '/' || "
		"state FROM messages", buf, sizeof buf), "message/routine/pending");
	assert_string_equal(sql_text(f, "SELECT channel || '/' || state FROM "
		"deliveries", buf, sizeof buf), "email/queued");
	assert_string_equal(sql_text(f, "SELECT fields FROM messages", buf,
				     sizeof buf), "{}");
	/* A dsn with the scheme, and one for a backend not built in. */
	snprintf(buf, sizeof buf, "sqlite:%s", f->db);
	pg_store_close(f->st);
	f->st = NULL;
	assert_int_equal(pg_store_open(buf, 0, &f->st), PG_OK);
	assert_int_equal(pg_store_get_msg(f->st, id, &m), PG_OK);
	pg_message_free(&m);
	struct pg_store *other = (struct pg_store *)1;
	assert_int_equal(pg_store_open("mysql://db/pagegate", 0, &other),
			 PG_ERR_CONFIG);
	assert_null(other);
}

/* Marks (a summary's end): absent until put, the last put wins, kept
 * across a reopen; bad keys refused. */
static void
test_marks(void **state)
{
	struct store_fx *f = *state;
	int64_t ms = 7;

	assert_int_equal(pg_store_mark_get(f->st, "summary:acme", &ms), PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_mark_put(f->st, "summary:acme", T0), PG_OK);
	assert_int_equal(pg_store_mark_put(f->st, "summary:other", -5), PG_OK);
	assert_int_equal(pg_store_mark_put(f->st, "summary:acme", T0 + 3600000), PG_OK);
	fixture_store_reopen(f, 0);
	assert_int_equal(pg_store_mark_get(f->st, "summary:acme", &ms), PG_OK);
	assert_int_equal(ms, T0 + 3600000);
	assert_int_equal(pg_store_mark_get(f->st, "summary:other", &ms), PG_OK);
	assert_int_equal(ms, -5);
	assert_int_equal(pg_store_mark_get(f->st, "", &ms), PG_ERR_INVAL);
	assert_int_equal(pg_store_mark_put(f->st, NULL, 1), PG_ERR_INVAL);
}

/* States are enums with one name each (common.c); the store keeps exactly
 * those names, as it always did, and reads them back. */
static void
test_state_names(void **state)
{
	struct store_fx *f = *state;
	static const char *const m_names[] = { "unrouted", "pending", "held",
		"waiting", "failed", "delivered", "cancelled", "sent" };
	static const char *const e_names[] = { "active", "acked", "exhausted",
		"cancelled" };
	struct pg_message m, g;
	enum pg_mstate ms;
	enum pg_esc_state es;
	char buf[64];

	for (int i = 0; i < 8; i++) {
		assert_int_equal(pg_mstate_parse(m_names[i], &ms), 0);
		assert_int_equal(ms, PG_M_UNROUTED + i);
		assert_string_equal(pg_mstate_name(ms), m_names[i]);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pg_esc_state_parse(e_names[i], &es), 0);
		assert_int_equal(es, PG_ES_ACTIVE + i);
		assert_string_equal(pg_esc_state_name(es), e_names[i]);
	}
	/* The "no state" values have names but do not parse. */
	assert_string_equal(pg_mstate_name(PG_M_ANY), "any");
	assert_string_equal(pg_esc_state_name(PG_ES_NONE), "none");
	assert_int_equal(pg_mstate_parse("any", &ms), -1);
	assert_int_equal(pg_esc_state_parse("none", &es), -1);
	assert_int_equal(pg_mstate_parse("Pending", &ms), -1);
	assert_int_equal(pg_esc_state_parse(NULL, &es), -1);
	assert_string_equal(pg_mstate_name(PG_M__COUNT), "?");

	/* On disk: the names; no escalation is NULL. */
	msg_init(&m, "acme-hvac", "escalating", T0);
	m.esc_policy = "night";
	m.esc_total = 2;
	m.esc_next_ms = T1;
	m.esc_state = PG_ES_ACTIVE;
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, NULL), PG_OK);
	submit_simple(f->st, "acme-hvac", T1, NULL);
	assert_string_equal(sql_text(f, "SELECT group_concat(state || '/' || "
		"coalesce(esc_state, 'NULL'), ' ') FROM messages ORDER BY id", buf,
		sizeof buf), "unrouted/active pending/NULL");
	assert_int_equal(pg_store_get_msg(f->st, m.id, &g), PG_OK);
	assert_int_equal(g.state, PG_M_UNROUTED);
	assert_int_equal(g.esc_state, PG_ES_ACTIVE);
	pg_message_free(&g);
	assert_int_equal(pg_store_get_msg(f->st, m.id + 1, &g), PG_OK);
	assert_int_equal(g.esc_state, PG_ES_NONE);
	pg_message_free(&g);
}

static void
test_submit_roundtrip(void **state)
{
	struct store_fx *f = *state;
	struct pg_message m, *g;
	struct pg_delivery d[2];
	struct pg_message_full full;
	const char *text = "Caller says: \"the furnace\" won't start \xe2\x80\x94 "
		"\xe6\x9a\x96\xe6\x88\xbf\xe5\x9d\x8f\xe4\xba\x86 \xf0\x9f\x94\xa5\n"
		"2nd line\twith tab; DROP TABLE messages; --";
	bool existing = true;
	int64_t id1;

	msg_init(&m, "acme-hvac", text, T0);
	m.kind = PG_KIND_DISPATCH;
	m.urgency = PG_URG_EMERGENCY;
	m.caller_company = "O'Neil & Sons \"HVAC\"";
	m.fields = test_fields;
	m.n_fields = 3;
	del_init(&d[0], "jane", PG_CH_SMS, "+15555550111", PG_D_QUEUED, T0);
	d[0].gateway = "kannel-1";
	d[0].priority = 0;
	del_init(&d[1], "office", PG_CH_EMAIL, "office@acme.example", PG_D_HELD,
		 THOLD);
	d[1].contact_name = NULL;
	assert_int_equal(pg_store_submit(f->st, &m, d, 2, "rule 1: dispatch -> "
		"escalation emergency", &existing), PG_OK);
	assert_false(existing);
	assert_true(m.id > 0);
	id1 = m.id;
	assert_int_equal(m.state, PG_M_PENDING);
	assert_true(d[0].id > 0);
	assert_true(d[1].id > d[0].id);
	assert_int_equal(d[0].message_id, m.id);
	assert_int_equal(d[1].message_id, m.id);

	assert_int_equal(pg_store_get_message(f->st, m.id, &full), PG_OK);
	g = &full.msg;
	assert_int_equal(g->id, m.id);
	assert_string_equal(g->client_id, "acme-hvac");
	assert_int_equal(g->kind, PG_KIND_DISPATCH);
	assert_int_equal(g->urgency, PG_URG_EMERGENCY);
	assert_string_equal(g->caller_name, "Zo\xc3\xab O'Brien \"Jr\"");
	assert_string_equal(g->caller_phone, "+1 (555) 555-0142");
	assert_string_equal(g->caller_company, "O'Neil & Sons \"HVAC\"");
	assert_string_equal(g->text, text);
	assert_int_equal(g->n_fields, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(g->fields[i].key, test_fields[i].key);
		assert_string_equal(g->fields[i].value, test_fields[i].value);
	}
	assert_string_equal(g->operator_name, "alice");
	assert_null(g->idem_key);
	assert_int_equal(g->received_ms, T0);
	assert_int_equal(g->state, PG_M_PENDING);
	/* A fresh 6-digit ack reference, not yet acknowledged. */
	assert_int_equal(strlen(m.ack_ref), 6);
	assert_int_equal(strspn(m.ack_ref, "0123456789"), 6);
	assert_string_equal(g->ack_ref, m.ack_ref);
	assert_int_equal(g->acked_ms, 0);
	assert_null(g->acked_by);

	assert_int_equal(full.n_deliveries, 2);
	struct pg_delivery *r = full.deliveries;
	assert_int_equal(r[0].id, d[0].id);
	assert_int_equal(r[0].message_id, m.id);
	assert_string_equal(r[0].contact_id, "jane");
	assert_string_equal(r[0].contact_name, "Front office");
	assert_int_equal(r[0].channel, PG_CH_SMS);
	assert_string_equal(r[0].address, "+15555550111");
	assert_string_equal(r[0].gateway, "kannel-1");
	assert_int_equal(r[0].state, PG_D_QUEUED);
	assert_int_equal(r[0].priority, 0);
	assert_int_equal(r[0].attempts, 0);
	assert_int_equal(r[0].created_ms, T0);
	assert_int_equal(r[0].next_try_ms, T0);
	assert_int_equal(r[0].expires_ms, T0 + 86400000);
	assert_int_equal(r[0].updated_ms, T0);
	assert_null(r[0].last_reply);
	assert_null(r[1].contact_name);
	assert_null(r[1].gateway);
	assert_int_equal(r[1].state, PG_D_HELD);
	assert_int_equal(r[1].next_try_ms, THOLD);
	assert_int_equal(full.n_attempts, 0);

	assert_int_equal(full.n_events, 3);
	check_event(&full.events[0], m.id, 0, T0, "received",
		    "dispatch, emergency, for acme-hvac, taken by alice");
	check_event(&full.events[1], m.id, 0, T0, "routed",
		    "rule 1: dispatch -> escalation emergency");
	check_event(&full.events[2], m.id, d[1].id, T0, "held",
		    "email to office@acme.example until 2026-11-23T14:00:00Z");
	assert_true(full.events[0].id < full.events[1].id);
	assert_true(full.events[1].id < full.events[2].id);
	pg_message_full_free(&full);

	/* The message alone: the same, with its fields. */
	assert_int_equal(pg_store_get_msg(f->st, m.id, &m), PG_OK);
	assert_string_equal(m.text, text);
	assert_string_equal(m.fields[2].value, test_fields[2].value);
	pg_message_free(&m);

	/* A second message gets the next id; an unknown one is not found. */
	assert_int_equal(submit_simple(f->st, "acme-hvac", T1, NULL), id1 + 1);
	assert_int_equal(pg_store_get_message(f->st, 999999, &full), PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_get_msg(f->st, 999999, &m), PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_get_delivery(f->st, 999999, &d[0]), PG_ERR_NOTFOUND);
}

static void
test_bad_input(void **state)
{
	struct store_fx *f = *state;
	struct pg_message m;
	struct pg_delivery d;
	struct pg_kv dup[2] = { { "a", "1" }, { "a", "2" } };
	bool existing;

	msg_init(&m, "acme-hvac", NULL, T0);
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing),
			 PG_ERR_INVAL);
	msg_init(&m, "acme-hvac", "x", T0);
	del_init(&d, "office", PG_CH_EMAIL, "o@x", PG_D_SENT, T0);
	assert_int_equal(pg_store_submit(f->st, &m, &d, 1, NULL, &existing),
			 PG_ERR_INVAL);
	/* Duplicate field keys cannot round-trip: refused, nothing stored. */
	m.fields = dup;
	m.n_fields = 2;
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing),
			 PG_ERR_INVAL);
	assert_int_equal(m.id, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), 0);
	/* No deliveries: "unrouted". */
	m.fields = NULL;
	m.n_fields = 0;
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing),
			 PG_OK);
	assert_int_equal(m.state, PG_M_UNROUTED);
}

static void
test_idempotency(void **state)
{
	struct store_fx *f = *state;
	struct pg_message m;
	struct pg_delivery d;
	bool existing = true;
	int64_t first;
	char ref[12];

	msg_init(&m, "acme-hvac", "first", T0);
	m.idem_key = "call-7781";
	del_init(&d, "office", PG_CH_EMAIL, "office@acme.example", PG_D_QUEUED, T0);
	assert_int_equal(pg_store_submit(f->st, &m, &d, 1, "r", &existing), PG_OK);
	assert_false(existing);
	first = m.id;
	snprintf(ref, sizeof ref, "%s", m.ack_ref);
	assert_int_equal(strlen(ref), 6);

	msg_init(&m, "acme-hvac", "second try", T1);
	m.idem_key = "call-7781";
	del_init(&d, "office", PG_CH_EMAIL, "office@acme.example", PG_D_QUEUED, T1);
	assert_int_equal(pg_store_submit(f->st, &m, &d, 1, "r", &existing), PG_OK);
	assert_true(existing);
	assert_int_equal(m.id, first);
	assert_int_equal(m.state, PG_M_PENDING);
	assert_string_equal(m.ack_ref, ref);          /* the first one's */
	assert_int_equal(d.id, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), 2);

	/* With request hashes: the same hash is the first message again... */
	msg_init(&m, "acme-hvac", "hashed", T1);
	m.idem_key = "call-9000";
	snprintf(m.idem_hash, sizeof m.idem_hash, "%064d", 1);
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing), PG_OK);
	assert_false(existing);
	first = m.id;
	msg_init(&m, "acme-hvac", "hashed", T1);
	m.idem_key = "call-9000";
	snprintf(m.idem_hash, sizeof m.idem_hash, "%064d", 1);
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing), PG_OK);
	assert_true(existing);
	assert_int_equal(m.id, first);
	/* ... another hash is refused, naming the first, nothing written... */
	msg_init(&m, "acme-hvac", "EMERGENCY: another request", T1);
	m.idem_key = "call-9000";
	snprintf(m.idem_hash, sizeof m.idem_hash, "%064d", 2);
	existing = false;
	assert_int_equal(pg_store_submit(f->st, &m, &d, 1, "r", &existing),
			 PG_ERR_EXISTS);
	assert_int_equal(m.id, first);
	assert_int_equal(d.id, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM deliveries"), 1);
	/* ... and a request without a hash matches (as rows stored before
	 * schema version 4 match any). */
	msg_init(&m, "acme-hvac", "no hash", T1);
	m.idem_key = "call-9000";
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing), PG_OK);
	assert_true(existing);
	assert_int_equal(m.id, first);
	msg_init(&m, "acme-hvac", "hash, old row", T1);
	m.idem_key = "call-7781";
	snprintf(m.idem_hash, sizeof m.idem_hash, "%064d", 3);
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing), PG_OK);
	assert_true(existing);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 2);

	/* The key is per operator. */
	msg_init(&m, "acme-hvac", "bob's", T1);
	m.operator_name = "bob";
	m.idem_key = "call-7781";
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing), PG_OK);
	assert_false(existing);
	assert_true(m.id != first);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 3);
}

static void
test_attempts(void **state)
{
	struct store_fx *f = *state;
	struct pg_message_full full;
	struct pg_delivery d;
	int64_t did, aid1, aid2, mid = submit_simple(f->st, "acme-hvac", T0, &did);

	assert_int_equal(pg_store_attempt_start(f->st, did, T0 + 10, &aid1), PG_OK);
	assert_true(aid1 > 0);
	assert_int_equal(pg_store_get_delivery(f->st, did, &d), PG_OK);
	assert_int_equal(d.state, PG_D_SENDING);
	assert_int_equal(d.attempts, 1);
	assert_int_equal(d.updated_ms, T0 + 10);
	pg_delivery_free(&d);
	/* Only one attempt at a time. */
	assert_int_equal(pg_store_attempt_start(f->st, did, T0 + 11, &aid2),
			 PG_ERR_INVAL);

	assert_int_equal(pg_store_attempt_finish(f->st, did, aid1, T1, PG_OUT_TEMP,
		"450 4.3.0 Error: queue file write error", PG_D_QUEUED, T2), PG_OK);
	assert_int_equal(pg_store_get_delivery(f->st, did, &d), PG_OK);
	assert_int_equal(d.state, PG_D_QUEUED);
	assert_int_equal(d.next_try_ms, T2);
	assert_string_equal(d.last_reply, "450 4.3.0 Error: queue file write error");
	pg_delivery_free(&d);
	/* The same attempt cannot finish twice; nor can an unknown one. */
	assert_int_equal(pg_store_attempt_finish(f->st, did, aid1, T1, PG_OUT_OK,
		"250", PG_D_SENT, 0), PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_attempt_finish(f->st, 424242, aid1, T1,
		PG_OUT_OK, "250", PG_D_SENT, 0), PG_ERR_NOTFOUND);

	assert_int_equal(pg_store_attempt_start(f->st, did, T2, &aid2), PG_OK);
	assert_true(aid2 > aid1);
	assert_int_equal(pg_store_attempt_finish(f->st, did, aid2, T2 + 700,
		PG_OUT_OK, "250 2.0.0 Ok: queued as 4Xb9", PG_D_SENT, 0), PG_OK);
	/* A finished delivery cannot start again. */
	assert_int_equal(pg_store_attempt_start(f->st, did, T2 + 800, &aid1),
			 PG_ERR_INVAL);

	assert_int_equal(pg_store_get_message(f->st, mid, &full), PG_OK);
	assert_int_equal(full.msg.state, PG_M_SENT);
	assert_int_equal(full.deliveries[0].state, PG_D_SENT);
	assert_int_equal(full.deliveries[0].attempts, 2);
	assert_string_equal(full.deliveries[0].last_reply,
			    "250 2.0.0 Ok: queued as 4Xb9");
	assert_int_equal(full.n_attempts, 2);
	assert_int_equal(full.attempts[0].id, aid1);
	assert_int_equal(full.attempts[0].delivery_id, did);
	assert_int_equal(full.attempts[0].started_ms, T0 + 10);
	assert_int_equal(full.attempts[0].finished_ms, T1);
	assert_int_equal(full.attempts[0].outcome, PG_OUT_TEMP);
	assert_string_equal(full.attempts[0].reply,
			    "450 4.3.0 Error: queue file write error");
	assert_int_equal(full.attempts[1].outcome, PG_OUT_OK);
	assert_int_equal(full.attempts[1].finished_ms, T2 + 700);
	assert_int_equal(full.n_events, 8);
	check_event(&full.events[2], mid, did, T0 + 10, "attempt_started",
		    "attempt 1: email to office@acme.example");
	check_event(&full.events[3], mid, did, T1, "attempt_finished",
		    "temp: 450 4.3.0 Error: queue file write error");
	check_event(&full.events[4], mid, did, T1, "retry_scheduled",
		    "temp: 450 4.3.0 Error: queue file write error; "
		    "next try 2026-11-22T15:40:00Z");
	check_event(&full.events[5], mid, did, T2, "attempt_started",
		    "attempt 2: email to office@acme.example");
	check_event(&full.events[6], mid, did, T2 + 700, "attempt_finished",
		    "ok: 250 2.0.0 Ok: queued as 4Xb9");
	check_event(&full.events[7], mid, did, T2 + 700, "sent",
		    "email to office@acme.example");
	pg_message_full_free(&full);

	/* A permanent failure on a second message: "failed". */
	mid = submit_simple(f->st, "acme-hvac", T1, &did);
	assert_int_equal(pg_store_attempt_start(f->st, did, T1, &aid1), PG_OK);
	assert_int_equal(pg_store_attempt_finish(f->st, did, aid1, T1 + 5,
		PG_OUT_PERM, "550 5.1.1 <x@y>: Recipient address rejected",
		PG_D_FAILED, 0), PG_OK);
	assert_int_equal(pg_store_get_message(f->st, mid, &full), PG_OK);
	assert_int_equal(full.msg.state, PG_M_FAILED);
	check_event(&full.events[full.n_events - 1], mid, did, T1 + 5, "failed",
		    "perm: 550 5.1.1 <x@y>: Recipient address rejected");
	pg_message_full_free(&full);
	assert_int_equal(pg_store_attempt_finish(f->st, did, aid1, T1, PG_OUT_OK,
		NULL, PG_D_SENDING, 0), PG_ERR_INVAL);
}

static void
test_set_state_and_event(void **state)
{
	struct store_fx *f = *state;
	struct pg_message m;
	struct pg_delivery d[2];
	struct pg_message_full full;
	bool existing;

	msg_init(&m, "acme-hvac", "after hours", T0);
	del_init(&d[0], "office", PG_CH_EMAIL, "office@acme.example", PG_D_HELD, THOLD);
	del_init(&d[1], "office", PG_CH_FAX, "+15555550100", PG_D_HELD, THOLD);
	assert_int_equal(pg_store_submit(f->st, &m, d, 2, "rule 4", &existing), PG_OK);
	assert_int_equal(m.state, PG_M_HELD);

	assert_int_equal(pg_store_set_state(f->st, d[0].id, PG_D_QUEUED, THOLD,
		"released", "business hours began"), PG_OK);
	assert_int_equal(pg_store_get_msg(f->st, m.id, &m), PG_OK);
	assert_int_equal(m.state, PG_M_PENDING);
	pg_message_free(&m);
	assert_int_equal(pg_store_set_state(f->st, d[0].id, PG_D_CANCELLED, 0,
		"cancelled", "by operator bob"), PG_OK);
	assert_int_equal(pg_store_get_msg(f->st, d[0].message_id, &m), PG_OK);
	assert_int_equal(m.state, PG_M_HELD);
	pg_message_free(&m);
	assert_int_equal(pg_store_set_state(f->st, d[1].id, PG_D_CANCELLED, 0,
		"cancelled", NULL), PG_OK);
	assert_int_equal(pg_store_event(f->st, d[0].message_id, 0, "acknowledged",
		"by jane via SMS \"OK\""), PG_OK);
	assert_int_equal(pg_store_event(f->st, d[0].message_id, d[1].id, "note",
		NULL), PG_OK);
	assert_int_equal(pg_store_event(f->st, 777777, 0, "note", "x"),
			 PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_event(f->st, 777777, d[1].id, "note", "x"),
			 PG_ERR_INVAL);
	assert_int_equal(pg_store_set_state(f->st, 888888, PG_D_QUEUED, 0,
		"released", NULL), PG_ERR_NOTFOUND);
	assert_int_equal(pg_store_set_state(f->st, d[1].id, PG_D_SENDING, 0,
		"x", NULL), PG_ERR_INVAL);

	assert_int_equal(pg_store_get_message(f->st, d[0].message_id, &full), PG_OK);
	assert_int_equal(full.msg.state, PG_M_CANCELLED);
	assert_int_equal(full.deliveries[0].state, PG_D_CANCELLED);
	assert_int_equal(full.n_events, 9);   /* received routed held held ... */
	assert_string_equal(full.events[4].type, "released");
	assert_string_equal(full.events[4].detail, "business hours began");
	assert_int_equal(full.events[4].delivery_id, d[0].id);
	assert_string_equal(full.events[5].type, "cancelled");
	assert_null(full.events[6].detail);
	check_event(&full.events[7], full.msg.id, 0, full.events[7].at_ms,
		    "acknowledged", "by jane via SMS \"OK\"");
	check_event(&full.events[8], full.msg.id, d[1].id, full.events[8].at_ms,
		    "note", NULL);
	assert_true(full.events[7].at_ms >= full.events[4].at_ms);
	pg_message_full_free(&full);
}

struct pending { size_t n; struct pg_delivery v[8]; };

static void
collect(const struct pg_delivery *d, void *arg)
{
	struct pending *p = arg;

	if (p->n < 8) {
		p->v[p->n] = *d;
		p->v[p->n].contact_id = p->v[p->n].contact_name = NULL;
		p->v[p->n].address = p->v[p->n].gateway = NULL;
		p->v[p->n].last_reply = NULL;
	}
	p->n++;
}

static void
test_load_pending(void **state)
{
	struct store_fx *f = *state;
	struct pg_message m;
	struct pg_delivery d[4];
	struct pg_message_full full;
	struct pending p = { 0 };
	int64_t aid, before;
	bool existing;

	msg_init(&m, "acme-hvac", "four ways", T0);
	del_init(&d[0], "a", PG_CH_EMAIL, "a@x", PG_D_QUEUED, T1);
	del_init(&d[1], "b", PG_CH_EMAIL, "b@x", PG_D_HELD, THOLD);
	del_init(&d[2], "c", PG_CH_EMAIL, "c@x", PG_D_QUEUED, T0);
	del_init(&d[3], "d", PG_CH_SMS, "+1555", PG_D_QUEUED, T0);
	assert_int_equal(pg_store_submit(f->st, &m, d, 4, "r", &existing), PG_OK);
	assert_int_equal(pg_store_attempt_start(f->st, d[2].id, T0, &aid), PG_OK);
	assert_int_equal(pg_store_attempt_finish(f->st, d[2].id, aid, T0 + 1,
		PG_OUT_OK, "250 ok", PG_D_SENT, 0), PG_OK);
	/* d[3] is mid-attempt when the process dies. */
	assert_int_equal(pg_store_attempt_start(f->st, d[3].id, T1, &aid), PG_OK);
	fixture_store_reopen(f, 0);

	before = (int64_t)time(NULL) * 1000 - 1000;
	assert_int_equal(pg_store_load_pending(f->st, collect, &p), PG_OK);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.v[0].id, d[0].id);
	assert_int_equal(p.v[0].state, PG_D_QUEUED);
	assert_int_equal(p.v[0].next_try_ms, T1);
	assert_int_equal(p.v[1].id, d[1].id);
	assert_int_equal(p.v[1].state, PG_D_HELD);
	assert_int_equal(p.v[1].next_try_ms, THOLD);
	assert_int_equal(p.v[2].id, d[3].id);
	assert_int_equal(p.v[2].state, PG_D_QUEUED);      /* was sending */
	assert_int_equal(p.v[2].attempts, 1);
	assert_true(p.v[2].next_try_ms >= before);

	assert_int_equal(pg_store_get_message(f->st, m.id, &full), PG_OK);
	assert_int_equal(full.msg.state, PG_M_PENDING);
	assert_int_equal(full.n_attempts, 2);
	assert_int_equal(full.attempts[1].id, aid);
	assert_int_equal(full.attempts[1].outcome, PG_OUT_TEMP);
	assert_true(full.attempts[1].finished_ms >= before);
	assert_string_equal(full.attempts[1].reply, "interrupted by restart");
	struct pg_event *ev = &full.events[full.n_events - 2];
	assert_string_equal(ev[0].type, "attempt_finished");
	assert_string_equal(ev[0].detail, "temp: interrupted by restart");
	assert_int_equal(ev[0].delivery_id, d[3].id);
	assert_string_equal(ev[1].type, "retry_scheduled");
	assert_memory_equal(ev[1].detail, "temp: interrupted by restart; next "
			    "try 20", 41);
	pg_message_full_free(&full);

	/* A second start-up finds nothing more to recover. */
	p.n = 0;
	assert_int_equal(pg_store_load_pending(f->st, collect, &p), PG_OK);
	assert_int_equal(p.n, 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE "
				 "type = 'retry_scheduled'"), 1);
}

static void
test_list(void **state)
{
	struct store_fx *f = *state;
	struct pg_list_filter flt = { .limit = 100 };
	struct pg_message *v, m;
	size_t n;
	int64_t id[6], did;
	bool existing;

	for (int i = 0; i < 5; i++)
		id[i] = submit_simple(f->st, i % 2 ? "bravo" : "acme-hvac",
				      T0 + i * 1000, i == 3 ? &did : NULL);
	msg_init(&m, "acme-hvac", "no route", T0 + 2000);  /* same time as id[2] */
	m.fields = test_fields;
	m.n_fields = 1;
	assert_int_equal(pg_store_submit(f->st, &m, NULL, 0, NULL, &existing), PG_OK);
	id[5] = m.id;
	assert_int_equal(pg_store_set_state(f->st, did, PG_D_CANCELLED, 0,
					    "cancelled", NULL), PG_OK);

	assert_int_equal(pg_store_list(f->st, &flt, &v, &n), PG_OK);
	assert_int_equal(n, 6);
	int64_t want[] = { id[4], id[3], id[5], id[2], id[1], id[0] };
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].id, want[i]);
	assert_int_equal(v[2].n_fields, 0);           /* list: without fields */
	assert_null(v[2].fields);
	assert_string_equal(v[2].text, "no route");
	pg_message_list_free(v, n);

	flt.client_id = "bravo";
	assert_int_equal(pg_store_list(f->st, &flt, &v, &n), PG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, id[3]);
	assert_int_equal(v[1].id, id[1]);
	assert_int_equal(v[0].state, PG_M_CANCELLED);
	pg_message_list_free(v, n);

	flt.state = PG_M_PENDING;
	assert_int_equal(pg_store_list(f->st, &flt, &v, &n), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, id[1]);
	pg_message_list_free(v, n);

	flt.client_id = NULL;
	flt.state = PG_M_UNROUTED;
	assert_int_equal(pg_store_list(f->st, &flt, &v, &n), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, id[5]);
	pg_message_list_free(v, n);

	flt.state = PG_M_ANY;
	flt.since_ms = T0 + 2000;
	flt.limit = 2;
	assert_int_equal(pg_store_list(f->st, &flt, &v, &n), PG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, id[4]);
	assert_int_equal(v[1].id, id[3]);
	pg_message_list_free(v, n);

	flt.limit = 0;                                 /* clamped to 1 */
	assert_int_equal(pg_store_list(f->st, &flt, &v, &n), PG_OK);
	assert_int_equal(n, 1);
	pg_message_list_free(v, n);
	flt.limit = 1000000;                           /* clamped to 1000 */
	flt.since_ms = T0 + 1000;
	flt.client_id = "nobody";
	assert_int_equal(pg_store_list(f->st, &flt, &v, &n), PG_OK);
	assert_int_equal(n, 0);
	pg_message_list_free(v, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_open_reopen_schema),
		T(test_state_names),
		T(test_marks),
		T(test_submit_roundtrip),
		T(test_bad_input),
		T(test_idempotency),
		T(test_attempts),
		T(test_set_state_and_event),
		T(test_load_pending),
		T(test_list),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
