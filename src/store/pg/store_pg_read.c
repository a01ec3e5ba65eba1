/*
 * store_pg_read.c - the PostgreSQL backend's reads (store_pg_priv.h):
 * rows decoded back into the structures of store.h, enum names parsed,
 * message fields decoded from their JSON text.  A statement's rows come
 * back whole (libpq), so a callback never runs while the session is busy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pagegate/log.h"
#include "pagegate/translit.h"
#include "pagegate/util.h"
#include "store_pg_priv.h"

#define MAX_ROWS 100000   /* per array read back; beyond: PG_ERR_TOOBIG */

/* Reads columns 0, 1, 2 ... of row i; the first failure sticks. */
struct row { const PGresult *r; int i, j; pg_err err; };

static int64_t r_int(struct row *x) { return pgsql__int(x->r, x->i, x->j++); }
static char *r_str(struct row *x) { return pgsql__str(x->r, x->i, x->j++, &x->err); }

/* The next column as text valid while the result lives ("" for NULL). */
static const char *
r_peek(struct row *x)
{
	return PQgetvalue(x->r, x->i, x->j++);
}

static void
r_bad(struct row *x, const char *what, const char *val)
{
	if (x->err == PG_OK)
		pg_error("store: unknown %s \"%s\" in the database", what, val);
	x->err = PG_ERR_STORE;
}

static pg_err
fields_decode(const char *text, struct pg_message *m)
{
	json_error_t je;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je), *v;
	const char *key;
	pg_err e = PG_OK;

	if (o == NULL || !json_is_object(o)) {
		pg_error("store: message %lld: bad fields JSON: %s",
			 (long long)m->id, o ? "not an object" : je.text);
		json_decref(o);
		return PG_ERR_STORE;
	}
	if (json_object_size(o) > 0 &&
	    (m->fields = calloc(json_object_size(o), sizeof *m->fields)) == NULL)
		e = PG_ERR_NOMEM;
	json_object_foreach(o, key, v) {
		struct pg_kv *kv;

		if (e)
			break;
		if (!json_is_string(v)) {
			e = PG_ERR_STORE;
			break;
		}
		kv = &m->fields[m->n_fields++];
		kv->key = strdup(key);
		kv->value = strdup(json_string_value(v));
		if (kv->key == NULL || kv->value == NULL)
			e = PG_ERR_NOMEM;
	}
	json_decref(o);
	return e;
}

/* ---- rows ---- */

typedef pg_err (*row_fn)(const PGresult *r, int i, void *out);

/* MSG_COLS of row i. */
static pg_err
row_message(const PGresult *res, int i, void *p)
{
	struct pg_message *m = p;
	struct row r = { res, i, 0, PG_OK };
	const char *t;

	memset(m, 0, sizeof *m);
	m->id = r_int(&r);
	m->client_id = r_str(&r);
	if (pg_kind_parse((t = r_peek(&r)), &m->kind))
		r_bad(&r, "kind", t);
	if (pg_urgency_parse((t = r_peek(&r)), &m->urgency))
		r_bad(&r, "urgency", t);
	m->caller_name = r_str(&r);
	m->caller_phone = r_str(&r);
	m->caller_company = r_str(&r);
	m->text = r_str(&r);
	m->operator_name = r_str(&r);
	m->idem_key = r_str(&r);
	m->received_ms = r_int(&r);
	if (pg_mstate_parse((t = r_peek(&r)), &m->state))
		r_bad(&r, "message state", t);
	pg_strlcpy(m->ack_ref, r_peek(&r), sizeof m->ack_ref);
	m->acked_ms = r_int(&r);
	m->acked_by = r_str(&r);
	m->esc_policy = r_str(&r);
	m->esc_fired = (int)r_int(&r);
	m->esc_total = (int)r_int(&r);
	m->esc_next_ms = r_int(&r);
	t = r_peek(&r);
	if (*t && pg_esc_state_parse(t, &m->esc_state))
		r_bad(&r, "escalation state", t);
	if (r.err)
		pg_message_free(m);
	return r.err;
}

static pg_err
row_delivery(const PGresult *res, int i, void *p)
{
	struct pg_delivery *d = p;
	struct row r = { res, i, 0, PG_OK };
	const char *t;

	memset(d, 0, sizeof *d);
	d->id = r_int(&r);
	d->message_id = r_int(&r);
	d->contact_id = r_str(&r);
	d->contact_name = r_str(&r);
	if (pg_channel_parse((t = r_peek(&r)), &d->channel))
		r_bad(&r, "channel", t);
	d->address = r_str(&r);
	d->gateway = r_str(&r);
	if (pg_dstate_parse((t = r_peek(&r)), &d->state))
		r_bad(&r, "delivery state", t);
	d->priority = (int)r_int(&r);
	d->attempts = (int)r_int(&r);
	d->created_ms = r_int(&r);
	d->next_try_ms = r_int(&r);
	d->expires_ms = r_int(&r);
	d->updated_ms = r_int(&r);
	d->last_reply = r_str(&r);
	d->esc_step = (int)r_int(&r);
	if (r.err)
		pg_delivery_free(d);
	return r.err;
}

static pg_err
row_attempt(const PGresult *res, int i, void *p)
{
	struct pg_attempt *a = p;
	struct row r = { res, i, 0, PG_OK };
	const char *t;

	memset(a, 0, sizeof *a);
	a->id = r_int(&r);
	a->delivery_id = r_int(&r);
	a->started_ms = r_int(&r);
	a->finished_ms = r_int(&r);
	t = r_peek(&r);
	if (*t && pg_outcome_parse(t, &a->outcome))
		r_bad(&r, "outcome", t);
	a->reply = r_str(&r);
	if (r.err) {
		free(a->reply);
		a->reply = NULL;
	}
	return r.err;
}

static pg_err
row_event(const PGresult *res, int i, void *p)
{
	struct pg_event *ev = p;
	struct row r = { res, i, 0, PG_OK };

	memset(ev, 0, sizeof *ev);
	ev->id = r_int(&r);
	ev->message_id = r_int(&r);
	ev->delivery_id = r_int(&r);
	ev->at_ms = r_int(&r);
	ev->type = r_str(&r);
	ev->detail = r_str(&r);
	if (!r.err && ev->type == NULL)
		r.err = PG_ERR_STORE;
	if (r.err) {
		free(ev->type);
		free(ev->detail);
		ev->type = ev->detail = NULL;
	}
	return r.err;
}

static void fr_msg(void *p) { pg_message_free(p); }
static void fr_del(void *p) { pg_delivery_free(p); }
static void fr_att(void *p) { free(((struct pg_attempt *)p)->reply); }
static void
fr_evt(void *p)
{
	free(((struct pg_event *)p)->type);
	free(((struct pg_event *)p)->detail);
}

/* Every row of res read with fn into *v (malloc'ed, NULL when none);
 * clears res. */
static pg_err
rows_all(PGresult *res, size_t sz, row_fn fn, void (*fr)(void *), void **v,
	 size_t *n)
{
	int rows = PQntuples(res);
	char *arr = NULL;
	size_t k = 0;
	pg_err e = PG_OK;

	*v = NULL;
	*n = 0;
	if (rows > MAX_ROWS)
		e = PG_ERR_TOOBIG;
	else if (rows > 0 && (arr = calloc((size_t)rows, sz)) == NULL)
		e = PG_ERR_NOMEM;
	for (; !e && k < (size_t)rows; k++)
		if ((e = fn(res, (int)k, arr + k * sz)))
			break;
	PQclear(res);
	if (e) {
		for (size_t i = 0; i < k; i++)
			fr(arr + i * sz);
		free(arr);
		return e;
	}
	*v = arr;
	*n = k;
	return PG_OK;
}

/* The first row of res read with fn into out, or PG_ERR_NOTFOUND; clears
 * res. */
static pg_err
row_one(PGresult *res, row_fn fn, void *out)
{
	pg_err e = PQntuples(res) > 0 ? fn(res, 0, out) : PG_ERR_NOTFOUND;

	PQclear(res);
	return e;
}

/* ---- messages ---- */

#define FIELDS_COL 20          /* the column after MSG_COLS in PQ_GET_MSG */
static pg_err
rd_message_fields(const PGresult *res, int i, void *p)
{
	pg_err e = row_message(res, i, p);

	if (!e && (e = fields_decode(PQgetvalue(res, i, FIELDS_COL), p)))
		pg_message_free(p);
	return e;
}

static pg_err
message_rows(struct pg_sb *c, enum pq_st id, int64_t mid, size_t sz,
	     row_fn fn, void (*fr)(void *), void **v, size_t *n)
{
	PGresult *r;
	pg_err e = pgsql__run(c, id, &r, "i", mid);

	return e ? e : rows_all(r, sz, fn, fr, v, n);
}

pg_err
pgsql__get_message(struct pg_sb *c, int64_t id, unsigned parts,
		   struct pg_message_full *out)
{
	PGresult *r;
	pg_err e = pgsql__run(c, PQ_GET_MSG, &r, "i", id);

	memset(out, 0, sizeof *out);
	if (!e)
		e = row_one(r, rd_message_fields, &out->msg);
	if (!e && (parts & STORE_DELIVERIES))
		e = message_rows(c, PQ_MSG_DELS, id, sizeof *out->deliveries,
				 row_delivery, fr_del, (void **)&out->deliveries,
				 &out->n_deliveries);
	if (!e && (parts & STORE_ATTEMPTS))
		e = message_rows(c, PQ_MSG_ATTS, id, sizeof *out->attempts,
				 row_attempt, fr_att, (void **)&out->attempts,
				 &out->n_attempts);
	if (!e && (parts & STORE_EVENTS))
		e = message_rows(c, PQ_MSG_EVTS, id, sizeof *out->events,
				 row_event, fr_evt, (void **)&out->events,
				 &out->n_events);
	if (e)
		pg_message_full_free(out);
	return e;
}

/* KEY_COLS: id, received_ms, state, ack_ref. */
static pg_err
rd_key(const PGresult *res, int i, void *p)
{
	struct pg_message *m = p;
	struct row r = { res, i, 0, PG_OK };
	const char *t;

	m->id = r_int(&r);
	m->received_ms = r_int(&r);
	if (pg_mstate_parse((t = r_peek(&r)), &m->state))
		r_bad(&r, "message state", t);
	pg_strlcpy(m->ack_ref, r_peek(&r), sizeof m->ack_ref);
	if (PQnfields(res) > r.j)                  /* PQ_FIND_IDEM */
		pg_strlcpy(m->idem_hash, r_peek(&r), sizeof m->idem_hash);
	return r.err;
}

pg_err
pgsql__find_message(struct pg_sb *c, const char *ack_ref,
		    const char *operator_name, const char *idem_key,
		    struct pg_message *out)
{
	PGresult *r;
	pg_err e;

	memset(out, 0, sizeof *out);
	if (ack_ref)
		e = pgsql__run(c, PQ_FIND_REF, &r, "t", ack_ref);
	else
		e = pgsql__run(c, PQ_FIND_IDEM, &r, "tt", operator_name, idem_key);
	if (!e && (e = row_one(r, rd_key, out)))
		memset(out, 0, sizeof *out);
	return e;
}

/* A LIKE pattern "%q%" with q's LIKE characters escaped (by '\\'), only
 * the digits of q when digits; NULL when there is nothing to match. */
static char *
like(const char *q, bool digits)
{
	size_t n = strlen(q), o = 1;
	char *p = malloc(2 * n + 3);

	if (!p)
		return NULL;
	p[0] = '%';
	for (; *q; q++) {
		if (digits && (*q < '0' || *q > '9'))
			continue;
		if (*q == '%' || *q == '_' || *q == '\\')
			p[o++] = '\\';
		p[o++] = *q;
	}
	if (o == 1) {
		free(p);
		return NULL;
	}
	p[o++] = '%';
	p[o] = '\0';
	return p;
}

/* list_messages with the board's filters (PQ_LIST_SEARCH). */
static pg_err
search(struct pg_sb *c, const struct pg_list_filter *f, struct pg_message **v,
       size_t *n)
{
	struct pg_buf folded;
	char *name = NULL, *digits = NULL;
	PGresult *r;
	pg_err e = PG_OK;

	*v = NULL;
	*n = 0;
	pg_buf_init(&folded, 4096);
	if (f->q) {
		if (!(e = pg_fold_case(f->q, strlen(f->q), &folded)) &&
		    !(name = like(folded.data ? folded.data : "", false)))
			e = PG_ERR_NOMEM;
		digits = like(f->q, true);
	}
	if (!e)
		e = pgsql__run(c, PQ_LIST_SEARCH, &r, "iitnnttitttttttitttt",
			f->since_ms, (int64_t)f->limit, f->client_id, f->until_ms,
			f->id, name, digits, (int64_t)f->view,
			pg_esc_state_name(PG_ES_ACTIVE),
			pg_esc_state_name(PG_ES_EXHAUSTED), pg_dstate_name(PG_D_FAILED),
			pg_kind_name(PG_KIND_DISPATCH), pg_urgency_name(PG_URG_EMERGENCY),
			pg_mstate_name(PG_M_DELIVERED), pg_mstate_name(PG_M_CANCELLED),
			pg_now_ms() - 24 * 3600 * 1000LL, pg_mstate_name(PG_M_HELD),
			pg_mstate_name(PG_M_WAITING), pg_urgency_name(PG_URG_URGENT),
			f->q_clients && *f->q_clients ? f->q_clients : NULL);
	if (!e)
		e = rows_all(r, sizeof **v, row_message, fr_msg, (void **)v, n);
	pg_buf_free(&folded);
	free(name);
	free(digits);
	return e;
}

pg_err
pgsql__list_messages(struct pg_sb *c, const struct pg_list_filter *f,
		     struct pg_message **v, size_t *n)
{
	const char *state = pg_mstate_name(f->state);
	const char *exhausted = pg_esc_state_name(PG_ES_EXHAUSTED);
	PGresult *r;
	pg_err e;

	*v = NULL;
	*n = 0;
	if (f->view != PG_VIEW_ALL || f->q || f->until_ms || f->id)
		return search(c, f, v, n);
	if (f->unacknowledged && f->client_id)
		e = pgsql__run(c, PQ_LIST_UNACK_CLIENT, &r, "iitt", f->since_ms,
			       (int64_t)f->limit, f->client_id, exhausted);
	else if (f->unacknowledged)
		e = pgsql__run(c, PQ_LIST_UNACK, &r, "iit", f->since_ms,
			       (int64_t)f->limit, exhausted);
	else if (f->client_id && f->state != PG_M_ANY)
		e = pgsql__run(c, PQ_LIST_BOTH, &r, "iitt", f->since_ms,
			       (int64_t)f->limit, f->client_id, state);
	else if (f->client_id || f->state != PG_M_ANY)
		e = pgsql__run(c, f->client_id ? PQ_LIST_CLIENT : PQ_LIST_STATE,
			       &r, "iit", f->since_ms, (int64_t)f->limit,
			       f->client_id ? f->client_id : state);
	else
		e = pgsql__run(c, PQ_LIST_ALL, &r, "ii", f->since_ms,
			       (int64_t)f->limit);
	return e ? e : rows_all(r, sizeof **v, row_message, fr_msg, (void **)v, n);
}

/* The one integer of a count into *n. */
static pg_err
count_one(pg_err e, PGresult *r, size_t *n)
{
	*n = 0;
	if (e)
		return e;
	if (PQntuples(r) > 0)
		*n = (size_t)pgsql__int(r, 0, 0);
	PQclear(r);
	return PG_OK;
}

pg_err
pgsql__each_escalation(struct pg_sb *c, enum pg_esc_state st,
	void (*cb)(int64_t mid, int64_t next_ms, void *arg), void *arg)
{
	PGresult *r;
	pg_err e = pgsql__run(c, PQ_EACH_ESC, &r, "t", pg_esc_state_name(st));

	if (e)
		return e;
	for (int i = 0; i < PQntuples(r); i++)
		cb(pgsql__int(r, i, 0), pgsql__int(r, i, 1), arg);
	PQclear(r);
	return PG_OK;
}

pg_err
pgsql__count_escalations(struct pg_sb *c, enum pg_esc_state st, size_t *n)
{
	PGresult *r = NULL;
	pg_err e = pgsql__run(c, PQ_COUNT_ESC, &r, "t", pg_esc_state_name(st));

	return count_one(e, r, n);
}

/* ---- deliveries ---- */

pg_err
pgsql__get_delivery(struct pg_sb *c, int64_t id, struct pg_delivery *out)
{
	PGresult *r;
	pg_err e = pgsql__run(c, PQ_GET_DEL, &r, "i", id);

	return e ? e : row_one(r, row_delivery, out);
}

pg_err
pgsql__each_delivery(struct pg_sb *c, unsigned states, int64_t after,
	bool (*cb)(const struct pg_delivery *d, void *arg), void *arg)
{
	const char *in[PG_D__COUNT];
	struct pg_delivery d;
	PGresult *r;
	pg_err e;
	bool stop = false;

	_Static_assert(PG_D__COUNT == 8, "PQ_EACH_DEL takes one $ per state");
	for (int i = 0; i < PG_D__COUNT; i++)
		in[i] = states & STORE_DSTATE(i) ? pg_dstate_name(i) : NULL;
	if ((e = pgsql__run(c, PQ_EACH_DEL, &r, "tttttttti", in[0], in[1], in[2],
			    in[3], in[4], in[5], in[6], in[7], after)))
		return e;
	for (int i = 0; !e && !stop && i < PQntuples(r); i++)
		if (!(e = row_delivery(r, i, &d))) {
			stop = cb(&d, arg);
			pg_delivery_free(&d);
		}
	PQclear(r);
	return e;
}

pg_err
pgsql__mailbox_deliveries(struct pg_sb *c, const char *client_id,
			  const char *contact_id, size_t max,
			  struct pg_delivery **v, size_t *n)
{
	PGresult *r;
	pg_err e;

	*v = NULL;
	*n = 0;
	if (contact_id)
		e = pgsql__run(c, PQ_MAILBOX_CONTACT, &r, "ttit",
			       pg_dstate_name(PG_D_WAITING), client_id,
			       (int64_t)max, contact_id);
	else
		e = pgsql__run(c, PQ_MAILBOX, &r, "tti",
			       pg_dstate_name(PG_D_WAITING), client_id,
			       (int64_t)max);
	return e ? e : rows_all(r, sizeof **v, row_delivery, fr_del, (void **)v, n);
}

pg_err
pgsql__recent_deliveries(struct pg_sb *c, enum pg_channel_kind ch,
	int64_t since_ms, size_t max, bool include_acked,
	bool (*cb)(int64_t did, int64_t mid, const char *address, void *arg),
	void *arg)
{
	PGresult *r;
	pg_err e = pgsql__run(c, PQ_RECENT, &r, "ittttii", since_ms,
	    pg_channel_name(ch), pg_dstate_name(PG_D_SENDING),
	    pg_dstate_name(PG_D_SENT), pg_dstate_name(PG_D_DELIVERED),
	    (int64_t)max, (int64_t)(include_acked ? 1 : 0));

	if (e)
		return e;
	for (int i = 0; i < PQntuples(r); i++)
		if (cb(pgsql__int(r, i, 0), pgsql__int(r, i, 1),
		       PQgetvalue(r, i, 2), arg))
			break;
	PQclear(r);
	return PG_OK;
}

pg_err
pgsql__count_dstates(struct pg_sb *c, int64_t mid, size_t counts[PG_D__COUNT])
{
	PGresult *r;
	enum pg_dstate ds;
	pg_err e = pgsql__run(c, PQ_COUNT_DSTATES, &r, "i", mid);

	memset(counts, 0, PG_D__COUNT * sizeof counts[0]);
	if (e)
		return e;
	for (int i = 0; !e && i < PQntuples(r); i++) {
		if (pg_dstate_parse(PQgetvalue(r, i, 0), &ds)) {
			pg_error("store: unknown delivery state \"%s\" in the "
				 "database", PQgetvalue(r, i, 0));
			e = PG_ERR_STORE;
		} else {
			counts[ds] = (size_t)pgsql__int(r, i, 1);
		}
	}
	PQclear(r);
	return e;
}

pg_err
pgsql__count_deliveries(struct pg_sb *c, enum pg_dstate ds, size_t *n)
{
	PGresult *r = NULL;
	pg_err e = pgsql__run(c, PQ_COUNT_DEL, &r, "t", pg_dstate_name(ds));

	return count_one(e, r, n);
}

/* ---- settings ---- */

pg_err
pgsql__get_setting(struct pg_sb *c, const char *key, void *buf, size_t size,
		   size_t *len)
{
	PGresult *r;
	unsigned char *v;
	size_t n = 0;
	pg_err e = pgsql__run(c, PQ_GET_SETTING, &r, "t", key);

	if (e)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return PG_ERR_NOTFOUND;
	}
	v = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
	PQclear(r);
	if (v == NULL)
		return PG_ERR_NOMEM;
	if (n > size) {
		e = PG_ERR_TOOBIG;
	} else {
		if (n > 0)
			memcpy(buf, v, n);
		*len = n;
	}
	PQfreemem(v);
	return e;
}
