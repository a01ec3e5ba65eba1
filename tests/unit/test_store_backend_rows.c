/*
 * test_store_backend_rows.c - the conformance suite of the store's
 * backends (src/store/store_backend.h), second half: every row slot -
 * messages (their unique keys, column groups, lists, escalations),
 * deliveries (each by state, the mailbox, counts), attempts, events, the
 * candidates for an inbound reply - with the error codes each returns.
 * The first half is test_store_backend.c; how to run both against another
 * backend is store_backend_suite.h.  Not provoked: PG_ERR_TOOBIG from a
 * message with more rows than a backend reads back at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_backend_suite.h"

static struct pg_kv fields[] = {
	{ "address", "12 Elm St \xe2\x80\x94 rear door" },
	{ "gate", "#4412*" },
};

/* ---- messages ---- */

static void
test_message_rows(void **state)
{
	struct fx *f = *state;
	struct pg_message m, k, u;
	struct pg_message_full g;
	struct pg_kv dup[2] = { { "a", "1" }, { "a", "2" } };

	msg_init(&m, "acme", T0, "482913");
	m.caller_company = "O'Neil & Sons";
	m.fields = fields;
	m.n_fields = 2;
	m.idem_key = "call-1";
	m.esc_policy = "night";
	m.esc_fired = 1;
	m.esc_total = 4;
	m.esc_next_ms = T0 + 300000;
	m.esc_state = PG_ES_ACTIVE;
	w_begin(f);
	assert_int_equal(f->be->insert_message(f->w, &m), PG_OK);
	/* Unique keys: the ack reference, the operator's idempotency key. */
	msg_init(&k, "acme", T0, "482913");
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	assert_int_equal(f->be->insert_message(f->w, &k), PG_ERR_EXISTS);
	assert_int_equal(f->be->rollback_savepoint(f->w), PG_OK);
	msg_init(&k, "acme", T0, "");
	k.idem_key = "call-1";
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	assert_int_equal(f->be->insert_message(f->w, &k), PG_ERR_EXISTS);
	assert_int_equal(f->be->rollback_savepoint(f->w), PG_OK);
	k.operator_name = "bob";           /* another operator's key */
	assert_int_equal(f->be->insert_message(f->w, &k), PG_OK);
	/* Fields that cannot round-trip. */
	msg_init(&k, "acme", T0, "");
	k.fields = dup;
	k.n_fields = 2;
	assert_int_equal(f->be->insert_message(f->w, &k), PG_ERR_INVAL);
	w_commit(f);

	assert_int_equal(r_get(f, m.id, 0, &g), PG_OK);
	assert_int_equal(g.msg.id, m.id);
	assert_string_equal(g.msg.client_id, "acme");
	assert_int_equal(g.msg.kind, PG_KIND_DISPATCH);
	assert_int_equal(g.msg.urgency, PG_URG_URGENT);
	assert_string_equal(g.msg.caller_name, "Zo\xc3\xab");
	assert_null(g.msg.caller_phone);
	assert_string_equal(g.msg.caller_company, "O'Neil & Sons");
	assert_string_equal(g.msg.text, "No heat");
	assert_int_equal(g.msg.n_fields, 2);
	assert_string_equal(g.msg.fields[0].key, "address");
	assert_string_equal(g.msg.fields[0].value, fields[0].value);
	assert_string_equal(g.msg.fields[1].key, "gate");
	assert_string_equal(g.msg.operator_name, "alice");
	assert_string_equal(g.msg.idem_key, "call-1");
	assert_int_equal(g.msg.received_ms, T0);
	assert_int_equal(g.msg.state, PG_M_PENDING);
	assert_string_equal(g.msg.ack_ref, "482913");
	assert_int_equal(g.msg.acked_ms, 0);
	assert_null(g.msg.acked_by);
	assert_string_equal(g.msg.esc_policy, "night");
	assert_int_equal(g.msg.esc_fired, 1);
	assert_int_equal(g.msg.esc_total, 4);
	assert_int_equal(g.msg.esc_next_ms, T0 + 300000);
	assert_int_equal(g.msg.esc_state, PG_ES_ACTIVE);
	assert_int_equal(g.n_deliveries + g.n_attempts + g.n_events, 0);
	pg_message_full_free(&g);
	assert_int_equal(r_get(f, m.id + 1000, 0, &g), PG_ERR_NOTFOUND);
	assert_null(g.msg.client_id);

	/* Found by either unique key: id, received time, state, reference. */
	w_begin(f);
	assert_int_equal(f->be->find_message(f->w, "482913", NULL, NULL, &k), PG_OK);
	assert_int_equal(k.id, m.id);
	assert_int_equal(k.received_ms, T0);
	assert_int_equal(k.state, PG_M_PENDING);
	assert_string_equal(k.ack_ref, "482913");
	assert_int_equal(f->be->find_message(f->w, NULL, "alice", "call-1", &k),
			 PG_OK);
	assert_int_equal(k.id, m.id);
	assert_int_equal(f->be->find_message(f->w, "000000", NULL, NULL, &k),
			 PG_ERR_NOTFOUND);
	assert_int_equal(f->be->find_message(f->w, NULL, "carol", "call-1", &k),
			 PG_ERR_NOTFOUND);

	/* update_message writes the groups named, and only those. */
	u = (struct pg_message){ .id = m.id, .state = PG_M_DELIVERED,
		.acked_ms = T0 + 5, .acked_by = "jane via sms", .esc_fired = 3,
		.esc_next_ms = 0, .esc_state = PG_ES_ACKED };
	assert_int_equal(f->be->update_message(f->w, &u, STORE_M_STATE |
					       STORE_M_ACK), PG_OK);
	assert_int_equal(f->be->get_message(f->w, m.id, 0, &g), PG_OK);
	assert_int_equal(g.msg.state, PG_M_DELIVERED);
	assert_int_equal(g.msg.acked_ms, T0 + 5);
	assert_string_equal(g.msg.acked_by, "jane via sms");
	assert_int_equal(g.msg.esc_state, PG_ES_ACTIVE);     /* not named */
	assert_int_equal(g.msg.esc_fired, 1);
	assert_string_equal(g.msg.ack_ref, "482913");
	pg_message_full_free(&g);
	assert_int_equal(f->be->update_message(f->w, &u, STORE_M_ESC), PG_OK);
	u.acked_ms = 0;                    /* an acknowledgement withdrawn */
	u.acked_by = NULL;
	assert_int_equal(f->be->update_message(f->w, &u, STORE_M_ACK), PG_OK);
	assert_int_equal(f->be->get_message(f->w, m.id, 0, &g), PG_OK);
	assert_int_equal(g.msg.esc_state, PG_ES_ACKED);
	assert_int_equal(g.msg.esc_fired, 3);
	assert_int_equal(g.msg.esc_next_ms, 0);
	assert_int_equal(g.msg.acked_ms, 0);
	assert_null(g.msg.acked_by);
	pg_message_full_free(&g);
	/* The reference: taken by another (EXISTS), given up, given anew. */
	snprintf(u.ack_ref, sizeof u.ack_ref, "%s", "555555");
	assert_int_equal(f->be->update_message(f->w, &u, STORE_M_REF), PG_OK);
	assert_int_equal(f->be->find_message(f->w, "482913", NULL, NULL, &k),
			 PG_ERR_NOTFOUND);
	k = (struct pg_message){ .id = ins_msg(f, "acme", T0, "777777") };
	snprintf(k.ack_ref, sizeof k.ack_ref, "%s", "555555");
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	assert_int_equal(f->be->update_message(f->w, &k, STORE_M_REF), PG_ERR_EXISTS);
	assert_int_equal(f->be->rollback_savepoint(f->w), PG_OK);
	u.ack_ref[0] = '\0';
	assert_int_equal(f->be->update_message(f->w, &u, STORE_M_REF), PG_OK);
	assert_int_equal(f->be->update_message(f->w, &k, STORE_M_REF), PG_OK);
	assert_int_equal(f->be->find_message(f->w, "555555", NULL, NULL, &u), PG_OK);
	assert_int_equal(u.id, k.id);
	/* No such message; no group named. */
	u.id = m.id + 1000;
	assert_int_equal(f->be->update_message(f->w, &u, STORE_M_STATE),
			 PG_ERR_NOTFOUND);
	u.id = m.id;
	assert_int_equal(f->be->update_message(f->w, &u, 0), PG_ERR_INVAL);
	w_commit(f);
}

struct walk { size_t n; int64_t id[8], at[8]; };

static void
esc_seen(int64_t mid, int64_t next_ms, void *arg)
{
	struct walk *w = arg;

	if (w->n < 8) {
		w->id[w->n] = mid;
		w->at[w->n] = next_ms;
	}
	w->n++;
}

/* Inserts a message of client with state s and escalation state es (a
 * policy when not PG_ES_NONE), inside the open transaction. */
static int64_t
ins_listed(struct fx *f, const char *client, int64_t at, enum pg_mstate s,
	   enum pg_esc_state es)
{
	struct pg_message m;

	msg_init(&m, client, at, "");
	m.state = s;
	m.fields = fields;
	m.n_fields = 2;
	if (es != PG_ES_NONE) {
		m.esc_policy = "night";
		m.esc_total = 2;
		m.esc_next_ms = at + 60000;
		m.esc_state = es;
	}
	assert_int_equal(f->be->insert_message(f->w, &m), PG_OK);
	return m.id;
}

/* list_messages with f on the reader: the ids, newest first. */
static size_t
listed(struct fx *f, struct pg_list_filter flt, int64_t ids[8])
{
	struct pg_message *v = (struct pg_message *)1;
	size_t n = 99;

	assert_int_equal(f->be->begin(f->r), PG_OK);
	assert_int_equal(f->be->list_messages(f->r, &flt, &v, &n), PG_OK);
	assert_int_equal(f->be->commit(f->r), PG_OK);
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		ids[i] = v[i].id;
		assert_int_equal(v[i].n_fields, 0);   /* without fields */
		assert_null(v[i].fields);
		assert_non_null(v[i].text);
	}
	if (n == 0)
		assert_null(v);
	pg_message_list_free(v, n);
	return n;
}

#define LISTED(f, flt, ...) do {                                         \
	int64_t got_[8], want_[] = { __VA_ARGS__ };                      \
	size_t n_ = sizeof want_ / sizeof want_[0];                      \
	assert_int_equal(listed(f, flt, got_), n_);                      \
	assert_memory_equal(got_, want_, n_ * sizeof want_[0]);          \
} while (0)

static void
test_lists_and_escalations(void **state)
{
	struct fx *f = *state;
	struct pg_list_filter all = { .limit = 10 };
	struct walk w = { 0 };
	int64_t m1, m2, m3, m4;
	size_t n = 99;

	w_begin(f);
	m1 = ins_listed(f, "a", T0, PG_M_PENDING, PG_ES_NONE);
	m2 = ins_listed(f, "b", T0 + 1000, PG_M_SENT, PG_ES_EXHAUSTED);
	m3 = ins_listed(f, "a", T0 + 1000, PG_M_SENT, PG_ES_ACTIVE);
	m4 = ins_listed(f, "a", T0 + 2000, PG_M_SENT, PG_ES_EXHAUSTED);
	w_commit(f);
	/* Newest first; the same time: the higher id first. */
	LISTED(f, all, m4, m3, m2, m1);
	LISTED(f, ((struct pg_list_filter){ .client_id = "a", .limit = 10 }),
	       m4, m3, m1);
	LISTED(f, ((struct pg_list_filter){ .state = PG_M_SENT, .limit = 10 }),
	       m4, m3, m2);
	LISTED(f, ((struct pg_list_filter){ .client_id = "a", .state = PG_M_SENT,
					    .limit = 10 }), m4, m3);
	LISTED(f, ((struct pg_list_filter){ .unacknowledged = true,
					    .limit = 10 }), m4, m2);
	LISTED(f, ((struct pg_list_filter){ .unacknowledged = true,
					    .client_id = "b", .limit = 10 }), m2);
	LISTED(f, ((struct pg_list_filter){ .since_ms = T0 + 1000, .limit = 2 }),
	       m4, m3);
	assert_int_equal(listed(f, (struct pg_list_filter){ .client_id = "z",
		.limit = 10 }, (int64_t[8]){ 0 }), 0);

	/* Escalations by state, by id. */
	assert_int_equal(f->be->begin(f->r), PG_OK);
	assert_int_equal(f->be->each_escalation(f->r, PG_ES_ACTIVE, esc_seen, &w),
			 PG_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.id[0], m3);
	assert_int_equal(w.at[0], T0 + 1000 + 60000);
	w.n = 0;
	assert_int_equal(f->be->each_escalation(f->r, PG_ES_EXHAUSTED, esc_seen,
						&w), PG_OK);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.id[0], m2);
	assert_int_equal(w.id[1], m4);
	assert_int_equal(f->be->count_escalations(f->r, PG_ES_EXHAUSTED, &n), PG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(f->be->count_escalations(f->r, PG_ES_CANCELLED, &n), PG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(f->be->commit(f->r), PG_OK);
}

/* ---- deliveries ---- */

struct seen { size_t n, stop_at; int64_t id[8]; enum pg_dstate st[8]; };

static bool
del_seen(const struct pg_delivery *d, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->id[s->n] = d->id;
		s->st[s->n] = d->state;
	}
	return ++s->n == s->stop_at;
}

/* A message for the board's search: caller, phone, kind, urgency, state,
 * escalation state, acknowledged or not. */
static int64_t
ins_board(struct fx *f, const char *client, int64_t at, const char *name,
	  const char *phone, enum pg_kind k, enum pg_urgency u, enum pg_mstate s,
	  enum pg_esc_state es, bool acked)
{
	struct pg_message m;

	msg_init(&m, client, at, "");
	m.caller_name = (char *)name;
	m.caller_phone = (char *)phone;
	m.kind = k;
	m.urgency = u;
	m.state = s;
	if (es != PG_ES_NONE) {
		m.esc_policy = "night";
		m.esc_total = 2;
		m.esc_next_ms = at + 60000;
		m.esc_state = es;
	}
	assert_int_equal(f->be->insert_message(f->w, &m), PG_OK);
	if (acked) {
		m.acked_ms = at + 1;
		m.acked_by = "jane";
		assert_int_equal(f->be->update_message(f->w, &m, STORE_M_ACK), PG_OK);
	}
	return m.id;
}

/* The board's views and search (pg_list_filter's view, q, until, id). */
static void
test_board_search(void **state)
{
	struct fx *f = *state;
	struct pg_delivery d;
	int64_t now = pg_now_ms(), t = now - 3600 * 1000, esc, exh, fail, emer, held,
		wait, old, done;

	w_begin(f);
	esc = ins_board(f, "acme", t, "Maria Lopez", "+1 (555) 555-0142", PG_KIND_MESSAGE,
			PG_URG_ROUTINE, PG_M_SENT, PG_ES_ACTIVE, false);
	exh = ins_board(f, "acme", t + 1000, "Bo Nguyen", "555.555.0199", PG_KIND_MESSAGE,
			PG_URG_URGENT, PG_M_SENT, PG_ES_EXHAUSTED, false);
	fail = ins_board(f, "lake", t + 2000, "Ann Lee", NULL, PG_KIND_MESSAGE,
			 PG_URG_ROUTINE, PG_M_PENDING, PG_ES_NONE, false);
	del_init(&d, fail, PG_CH_EMAIL, "a@x.example", PG_D_FAILED);
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	del_init(&d, fail, PG_CH_EMAIL, "b@x.example", PG_D_QUEUED);
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	emer = ins_board(f, "lake", t + 3000, "Al 100%_sure", "+15550001111", PG_KIND_MESSAGE,
			 PG_URG_EMERGENCY, PG_M_SENT, PG_ES_NONE, false);
	held = ins_board(f, "acme", t + 4000, "Cy", "5551234", PG_KIND_MESSAGE,
			 PG_URG_ROUTINE, PG_M_HELD, PG_ES_NONE, false);
	wait = ins_board(f, "acme", t + 5000, "Di", "5551235", PG_KIND_MESSAGE,
			 PG_URG_ROUTINE, PG_M_WAITING, PG_ES_NONE, false);
	/* an emergency from two days ago, not delivered: not "needs" any more */
	old = ins_board(f, "acme", now - 48 * 3600 * 1000LL, "Ed", NULL, PG_KIND_DISPATCH,
			PG_URG_EMERGENCY, PG_M_SENT, PG_ES_NONE, false);
	/* acknowledged: never "needs", whatever else */
	done = ins_board(f, "acme", t + 6000, "Flo", NULL, PG_KIND_DISPATCH,
			 PG_URG_EMERGENCY, PG_M_SENT, PG_ES_EXHAUSTED, true);
	w_commit(f);

	/* needs: dispatch/emergency first, then urgent, then routine; oldest
	 * first within each */
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_NEEDS, .limit = 10 }),
	       emer, exh, esc, fail);
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_ESCALATING, .limit = 10 }), esc);
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_HELD, .limit = 10 }), held);
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_WAITING, .limit = 10 }), wait);
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_FAILED, .limit = 10 }), fail);
	/* search: client id, caller name in any case, phone by its digits */
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_ALL, .q = "LAKE", .limit = 10 }),
	       emer, fail);
	LISTED(f, ((struct pg_list_filter){ .q = "nguy", .limit = 10 }), exh);
	LISTED(f, ((struct pg_list_filter){ .q = "555 0142", .limit = 10 }), esc);
	LISTED(f, ((struct pg_list_filter){ .q = "5550199", .limit = 10 }), exh);
	/* LIKE's own characters are matched as themselves */
	LISTED(f, ((struct pg_list_filter){ .q = "100%_", .limit = 10 }), emer);
	assert_int_equal(listed(f, (struct pg_list_filter){ .q = "%", .limit = 10 },
				(int64_t[8]){ 0 }), 1);
	assert_int_equal(listed(f, (struct pg_list_filter){ .q = "nobody", .limit = 10 },
				(int64_t[8]){ 0 }), 0);
	/* the received range, one id, a client with a view */
	LISTED(f, ((struct pg_list_filter){ .since_ms = t + 1000, .until_ms = t + 3000,
					    .view = PG_VIEW_ALL, .limit = 10 }), fail, exh);
	LISTED(f, ((struct pg_list_filter){ .id = held, .limit = 10 }), held);
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_NEEDS, .client_id = "lake",
					    .limit = 10 }), emer, fail);
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_NEEDS, .limit = 2 }), emer, exh);
	(void)old;
	(void)done;
}

static void
event(struct fx *f, int64_t mid, int64_t did, int64_t at, const char *type)
{
	struct pg_event ev = { 0, mid, did, at, (char *)type, NULL };

	assert_int_equal(f->be->insert_event(f->w, &ev), PG_OK);
}

/* The board's search folds case beyond ASCII and takes the clients the
 * configuration's names matched; needs weighs what operators did: a
 * cancel takes a message off until an escalation restart or a resend,
 * and a resend answers the failures before it. */
static void
test_board_operators(void **state)
{
	struct fx *f = *state;
	struct pg_delivery d;
	int64_t now = pg_now_ms(), t = now - 3600 * 1000, ors, can, back, res, again;

	w_begin(f);
	ors = ins_board(f, "lake", t, "Ørjan Ålesund", NULL, PG_KIND_MESSAGE,
			PG_URG_ROUTINE, PG_M_SENT, PG_ES_NONE, false);
	can = ins_board(f, "acme", t + 1000, "Cy", NULL, PG_KIND_DISPATCH,
			PG_URG_EMERGENCY, PG_M_SENT, PG_ES_NONE, false);
	event(f, can, 0, t + 1100, "cancelled");
	back = ins_board(f, "acme", t + 2000, "Di", NULL, PG_KIND_DISPATCH,
			 PG_URG_EMERGENCY, PG_M_SENT, PG_ES_ACTIVE, false);
	event(f, back, 0, t + 2100, "cancelled");
	event(f, back, 0, t + 2200, "escalation_restarted");
	res = ins_board(f, "acme", t + 3000, "Ed", NULL, PG_KIND_MESSAGE,
			PG_URG_ROUTINE, PG_M_SENT, PG_ES_NONE, false);
	del_init(&d, res, PG_CH_EMAIL, "a@x.example", PG_D_FAILED);
	d.updated_ms = t + 3100;
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	event(f, res, 0, t + 3200, "resent");
	/* resent, and the resent delivery failed too (after the resend) */
	again = ins_board(f, "acme", t + 4000, "Flo", NULL, PG_KIND_MESSAGE,
			  PG_URG_ROUTINE, PG_M_SENT, PG_ES_NONE, false);
	del_init(&d, again, PG_CH_EMAIL, "a@x.example", PG_D_FAILED);
	d.updated_ms = t + 4100;
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	event(f, again, 0, t + 4200, "resent");
	del_init(&d, again, PG_CH_EMAIL, "b@x.example", PG_D_FAILED);
	d.updated_ms = t + 4300;
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	w_commit(f);

	LISTED(f, ((struct pg_list_filter){ .q = "øRJAN", .limit = 10 }), ors);
	LISTED(f, ((struct pg_list_filter){ .q = "ÅLESUND", .limit = 10 }), ors);
	LISTED(f, ((struct pg_list_filter){ .q = "family", .q_clients = "zzz,lake",
					    .limit = 10 }), ors);
	assert_int_equal(listed(f, (struct pg_list_filter){ .q = "family", .q_clients = "lak",
				.limit = 10 }, (int64_t[8]){ 0 }), 0);
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_NEEDS, .limit = 10 }), back, again);
	LISTED(f, ((struct pg_list_filter){ .view = PG_VIEW_FAILED, .limit = 10 }), again, res);
	(void)can;
}

static void
test_delivery_rows(void **state)
{
	struct fx *f = *state;
	struct pg_delivery d, g, *v;
	struct pg_message_full full;
	struct seen s = { 0 };
	size_t counts[PG_D__COUNT], n;
	int64_t mid, d1, d2, d3, d4, d5;

	w_begin(f);
	mid = ins_msg(f, "acme", T0, "");
	del_init(&d, mid, PG_CH_EMAIL, "office@acme.example", PG_D_QUEUED);
	d.contact_name = "Front office";
	d.gateway = "relay-1";
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	d1 = d.id;
	del_init(&d, mid, PG_CH_SMS, "+15555550111", PG_D_HELD);
	d.esc_step = 2;
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	d2 = d.id;
	del_init(&d, mid, PG_CH_MAILBOX, "raj", PG_D_WAITING);
	d.contact_id = "raj";
	d.created_ms = T0 + 5;
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	d3 = d.id;
	del_init(&d, mid, PG_CH_MAILBOX, "jane", PG_D_WAITING);
	d.created_ms = T0 + 1;
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	d4 = d.id;
	del_init(&d, mid, PG_CH_SMS, "+15555550122", PG_D_SENDING);
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_OK);
	d5 = d.id;
	assert_true(d1 > 0 && d2 > d1 && d3 > d2 && d4 > d3 && d5 > d4);
	/* A delivery of no message. */
	del_init(&d, mid + 1000, PG_CH_SMS, "+1555", PG_D_QUEUED);
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	assert_int_equal(f->be->insert_delivery(f->w, &d), PG_ERR_NOTFOUND);
	assert_int_equal(f->be->rollback_savepoint(f->w), PG_OK);
	w_commit(f);

	/* Read back whole; the mutable columns rewritten. */
	w_begin(f);
	assert_int_equal(f->be->get_delivery(f->w, d1, &g), PG_OK);
	assert_int_equal(g.id, d1);
	assert_int_equal(g.message_id, mid);
	assert_string_equal(g.contact_id, "jane");
	assert_string_equal(g.contact_name, "Front office");
	assert_int_equal(g.channel, PG_CH_EMAIL);
	assert_string_equal(g.address, "office@acme.example");
	assert_string_equal(g.gateway, "relay-1");
	assert_int_equal(g.state, PG_D_QUEUED);
	assert_int_equal(g.priority, 1);
	assert_int_equal(g.attempts, 0);
	assert_int_equal(g.created_ms, T0);
	assert_int_equal(g.next_try_ms, T0 + 1000);
	assert_int_equal(g.expires_ms, T0 + 86400000);
	assert_int_equal(g.updated_ms, T0);
	assert_null(g.last_reply);
	assert_int_equal(g.esc_step, 0);
	pg_delivery_free(&g);
	del_init(&d, mid, PG_CH_FAX, "changed", PG_D_SENT);
	d.id = d1;
	d.priority = 0;
	d.attempts = 2;
	d.next_try_ms = T0 + 7;
	d.expires_ms = T0 + 8;
	d.updated_ms = T0 + 9;
	d.last_reply = "250 2.0.0 Ok";
	assert_int_equal(f->be->update_delivery(f->w, &d), PG_OK);
	assert_int_equal(f->be->get_delivery(f->w, d1, &g), PG_OK);
	assert_int_equal(g.state, PG_D_SENT);
	assert_int_equal(g.priority, 0);
	assert_int_equal(g.attempts, 2);
	assert_int_equal(g.next_try_ms, T0 + 7);
	assert_int_equal(g.expires_ms, T0 + 8);
	assert_int_equal(g.updated_ms, T0 + 9);
	assert_string_equal(g.last_reply, "250 2.0.0 Ok");
	assert_int_equal(g.channel, PG_CH_EMAIL);        /* not mutable */
	assert_string_equal(g.address, "office@acme.example");
	pg_delivery_free(&g);
	assert_int_equal(f->be->get_delivery(f->w, d2, &g), PG_OK);
	assert_int_equal(g.esc_step, 2);
	assert_null(g.contact_name);
	assert_null(g.gateway);
	pg_delivery_free(&g);
	d.id = d5 + 1000;
	assert_int_equal(f->be->update_delivery(f->w, &d), PG_ERR_NOTFOUND);
	assert_int_equal(f->be->get_delivery(f->w, d5 + 1000, &g), PG_ERR_NOTFOUND);
	w_commit(f);

	/* The message's deliveries, by id; counts by state. */
	assert_int_equal(r_get(f, mid, STORE_DELIVERIES, &full), PG_OK);
	assert_int_equal(full.n_deliveries, 5);
	assert_int_equal(full.deliveries[0].id, d1);
	assert_int_equal(full.deliveries[4].id, d5);
	assert_int_equal(full.deliveries[2].channel, PG_CH_MAILBOX);
	assert_int_equal(full.n_attempts + full.n_events, 0);
	pg_message_full_free(&full);
	assert_int_equal(f->be->begin(f->r), PG_OK);
	assert_int_equal(f->be->count_dstates(f->r, mid, counts), PG_OK);
	assert_int_equal(counts[PG_D_SENT], 1);
	assert_int_equal(counts[PG_D_HELD], 1);
	assert_int_equal(counts[PG_D_WAITING], 2);
	assert_int_equal(counts[PG_D_SENDING], 1);
	assert_int_equal(counts[PG_D_QUEUED] + counts[PG_D_DELIVERED] +
			 counts[PG_D_FAILED] + counts[PG_D_CANCELLED], 0);
	assert_int_equal(f->be->count_dstates(f->r, mid + 1000, counts), PG_OK);
	for (int i = 0; i < PG_D__COUNT; i++)
		assert_int_equal(counts[i], 0);
	assert_int_equal(f->be->count_deliveries(f->r, PG_D_WAITING, &n), PG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(f->be->count_deliveries(f->r, PG_D_FAILED, &n), PG_OK);
	assert_int_equal(n, 0);

	/* By states, by id, after an id, until the callback stops. */
	assert_int_equal(f->be->each_delivery(f->r, STORE_DSTATE(PG_D_QUEUED) |
		STORE_DSTATE(PG_D_SENDING) | STORE_DSTATE(PG_D_HELD), 0, del_seen,
		&s), PG_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], d2);
	assert_int_equal(s.st[0], PG_D_HELD);
	assert_int_equal(s.id[1], d5);
	s = (struct seen){ 0 };
	assert_int_equal(f->be->each_delivery(f->r, STORE_DSTATE(PG_D_WAITING) |
		STORE_DSTATE(PG_D_SENT), d1, del_seen, &s), PG_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], d3);
	assert_int_equal(s.id[1], d4);
	s = (struct seen){ .stop_at = 1 };
	assert_int_equal(f->be->each_delivery(f->r, ~0u, 0, del_seen, &s), PG_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], d1);

	/* The mailbox: waiting ones of the client, by creation time. */
	assert_int_equal(f->be->mailbox_deliveries(f->r, "acme", NULL, 10, &v, &n),
			 PG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, d4);
	assert_int_equal(v[1].id, d3);
	for (size_t i = 0; i < n; i++)
		pg_delivery_free(&v[i]);
	free(v);
	assert_int_equal(f->be->mailbox_deliveries(f->r, "acme", "raj", 10, &v, &n),
			 PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, d3);
	pg_delivery_free(&v[0]);
	free(v);
	assert_int_equal(f->be->mailbox_deliveries(f->r, "acme", NULL, 1, &v, &n),
			 PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, d4);
	pg_delivery_free(&v[0]);
	free(v);
	assert_int_equal(f->be->mailbox_deliveries(f->r, "bravo", NULL, 10, &v, &n),
			 PG_OK);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(f->be->commit(f->r), PG_OK);
}

/* ---- attempts, events ---- */

static void
test_attempts_and_events(void **state)
{
	struct fx *f = *state;
	struct pg_message_full full;
	struct pg_event ev;
	int64_t mid, did, did2, a1, a2, a3, bad;
	size_t n = 99;

	w_begin(f);
	mid = ins_msg(f, "acme", T0, "");
	w_commit(f);
	did = add_del(f, mid, PG_CH_SMS, "+15555550111", PG_D_SENDING);
	did2 = add_del(f, mid, PG_CH_SMS, "+15555550122", PG_D_SENDING);
	w_begin(f);
	assert_int_equal(f->be->insert_attempt(f->w, did, T0, &a1), PG_OK);
	assert_int_equal(f->be->insert_attempt(f->w, did, T0 + 10, &a2), PG_OK);
	assert_true(a1 > 0 && a2 > a1);
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	assert_int_equal(f->be->insert_attempt(f->w, did2 + 1000, T0, &bad),
			 PG_ERR_NOTFOUND);
	assert_int_equal(f->be->rollback_savepoint(f->w), PG_OK);
	/* One attempt closed; not twice, not through another delivery. */
	assert_int_equal(f->be->finish_attempt(f->w, did, a1, T0 + 20, PG_OUT_TEMP,
					       "450 try later", &n), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(f->be->finish_attempt(f->w, did, a1, T0 + 21, PG_OUT_OK,
					       NULL, &n), PG_ERR_NOTFOUND);
	assert_int_equal(f->be->finish_attempt(f->w, did2, a2, T0 + 21, PG_OUT_OK,
					       NULL, &n), PG_ERR_NOTFOUND);
	/* aid 0: every running attempt of the delivery. */
	assert_int_equal(f->be->finish_attempt(f->w, did, 0, T0 + 30, PG_OUT_PERM,
					       "interrupted", &n), PG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(f->be->finish_attempt(f->w, did, 0, T0 + 31, PG_OUT_PERM,
					       "again", &n), PG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(f->be->insert_attempt(f->w, did2, T0 + 40, &a3), PG_OK);

	/* Events: about the message, about a delivery, with no detail. */
	ev = (struct pg_event){ 0, mid, 0, T0, "received", "by alice" };
	assert_int_equal(f->be->insert_event(f->w, &ev), PG_OK);
	assert_true(ev.id > 0);
	ev = (struct pg_event){ 0, mid, did, T0 + 1, "note", NULL };
	assert_int_equal(f->be->insert_event(f->w, &ev), PG_OK);
	ev = (struct pg_event){ 0, mid + 1000, 0, T0, "note", "x" };
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	assert_int_equal(f->be->insert_event(f->w, &ev), PG_ERR_NOTFOUND);
	assert_int_equal(f->be->rollback_savepoint(f->w), PG_OK);
	ev = (struct pg_event){ 0, mid, did2 + 1000, T0, "note", "x" };
	assert_int_equal(f->be->savepoint(f->w), PG_OK);
	assert_int_equal(f->be->insert_event(f->w, &ev), PG_ERR_NOTFOUND);
	assert_int_equal(f->be->rollback_savepoint(f->w), PG_OK);
	w_commit(f);

	assert_int_equal(r_get(f, mid, STORE_ATTEMPTS | STORE_EVENTS, &full), PG_OK);
	assert_int_equal(full.n_deliveries, 0);          /* not asked */
	assert_int_equal(full.n_attempts, 3);
	assert_int_equal(full.attempts[0].id, a1);
	assert_int_equal(full.attempts[0].delivery_id, did);
	assert_int_equal(full.attempts[0].started_ms, T0);
	assert_int_equal(full.attempts[0].finished_ms, T0 + 20);
	assert_int_equal(full.attempts[0].outcome, PG_OUT_TEMP);
	assert_string_equal(full.attempts[0].reply, "450 try later");
	assert_int_equal(full.attempts[1].finished_ms, T0 + 30);
	assert_int_equal(full.attempts[1].outcome, PG_OUT_PERM);
	assert_string_equal(full.attempts[1].reply, "interrupted");
	assert_int_equal(full.attempts[2].id, a3);       /* still running */
	assert_int_equal(full.attempts[2].delivery_id, did2);
	assert_int_equal(full.attempts[2].finished_ms, 0);
	assert_null(full.attempts[2].reply);
	assert_int_equal(full.n_events, 2);
	assert_int_equal(full.events[0].message_id, mid);
	assert_int_equal(full.events[0].delivery_id, 0);
	assert_int_equal(full.events[0].at_ms, T0);
	assert_string_equal(full.events[0].type, "received");
	assert_string_equal(full.events[0].detail, "by alice");
	assert_int_equal(full.events[1].delivery_id, did);
	assert_null(full.events[1].detail);
	assert_true(full.events[1].id > full.events[0].id);
	pg_message_full_free(&full);
}

/* ---- inbound replies ---- */

struct hits { size_t n, stop_at; int64_t did[8], mid[8]; char addr[8][32]; };

static bool
hit(int64_t did, int64_t mid, const char *address, void *arg)
{
	struct hits *h = arg;

	if (h->n < 8) {
		h->did[h->n] = did;
		h->mid[h->n] = mid;
		snprintf(h->addr[h->n], sizeof h->addr[0], "%s", address);
	}
	return ++h->n == h->stop_at;
}

/* A delivery of a new message on ch to `to` in state s, tried at each of
 * the times given (0 ends them); *mid its message. */
static int64_t
tried(struct fx *f, enum pg_channel_kind ch, const char *to, enum pg_dstate s,
      int64_t *mid, int64_t t1, int64_t t2)
{
	int64_t did, aid;

	*mid = add_msg(f, "acme", T0, "");
	did = add_del(f, *mid, ch, to, s);
	w_begin(f);
	assert_int_equal(f->be->insert_attempt(f->w, did, t1, &aid), PG_OK);
	if (t2)
		assert_int_equal(f->be->insert_attempt(f->w, did, t2, &aid), PG_OK);
	w_commit(f);
	return did;
}

static void
test_recent_deliveries(void **state)
{
	struct fx *f = *state;
	struct hits h = { 0 };
	struct pg_message u = { 0 };
	int64_t ma, mb, mq, me, mk, da, db, dk;

	da = tried(f, PG_CH_SMS, "+1 555 555 0111", PG_D_SENT, &ma, T0 + 100,
		   T0 + 250);
	db = tried(f, PG_CH_SMS, "+15555550122", PG_D_SENDING, &mb, T0 + 200, 0);
	tried(f, PG_CH_SMS, "+15555550133", PG_D_QUEUED, &mq, T0 + 300, 0);
	tried(f, PG_CH_EMAIL, "jane@example.com", PG_D_SENT, &me, T0 + 400, 0);
	dk = tried(f, PG_CH_SMS, "+15555550144", PG_D_DELIVERED, &mk, T0 + 500, 0);
	u.id = mk;
	u.acked_ms = T0 + 600;
	u.acked_by = "jane via sms";
	w_begin(f);
	assert_int_equal(f->be->update_message(f->w, &u, STORE_M_ACK), PG_OK);
	w_commit(f);

	assert_int_equal(f->be->begin(f->r), PG_OK);
	/* Most recent attempt first; a delivery tried twice comes twice;
	 * not queued, not another channel, not acknowledged. */
	assert_int_equal(f->be->recent_deliveries(f->r, PG_CH_SMS, T0, 10, false,
						  hit, &h), PG_OK);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.did[0], da);
	assert_int_equal(h.mid[0], ma);
	assert_string_equal(h.addr[0], "+1 555 555 0111");
	assert_int_equal(h.did[1], db);
	assert_int_equal(h.mid[1], mb);
	assert_int_equal(h.did[2], da);
	/* With the acknowledged ones. */
	h = (struct hits){ 0 };
	assert_int_equal(f->be->recent_deliveries(f->r, PG_CH_SMS, T0, 10, true,
						  hit, &h), PG_OK);
	assert_int_equal(h.n, 4);
	assert_int_equal(h.did[0], dk);
	/* Since a time; at most max; stopped by the callback. */
	h = (struct hits){ 0 };
	assert_int_equal(f->be->recent_deliveries(f->r, PG_CH_SMS, T0 + 150, 10,
						  false, hit, &h), PG_OK);
	assert_int_equal(h.n, 2);
	h = (struct hits){ 0 };
	assert_int_equal(f->be->recent_deliveries(f->r, PG_CH_SMS, T0, 1, false,
						  hit, &h), PG_OK);
	assert_int_equal(h.n, 1);
	h = (struct hits){ .stop_at = 2 };
	assert_int_equal(f->be->recent_deliveries(f->r, PG_CH_SMS, T0, 10, false,
						  hit, &h), PG_OK);
	assert_int_equal(h.n, 2);
	h = (struct hits){ 0 };
	assert_int_equal(f->be->recent_deliveries(f->r, PG_CH_EMAIL, T0, 10, false,
						  hit, &h), PG_OK);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.mid[0], me);
	assert_int_equal(f->be->commit(f->r), PG_OK);
	(void)mq;
}

/* ---- the tests ---- */

int
main(void)
{
	static const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_message_rows),
		T(test_lists_and_escalations),
		T(test_board_search),
		T(test_board_operators),
		T(test_delivery_rows),
		T(test_attempts_and_events),
		T(test_recent_deliveries),
#undef T
	};

	return suite_run(tests, sizeof tests / sizeof tests[0]);
}
