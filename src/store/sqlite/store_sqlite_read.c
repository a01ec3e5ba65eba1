/*
 * store_sqlite_read.c - the SQLite backend's reads (store_sqlite_priv.h):
 * rows decoded back into the structures of store.h, enum names parsed,
 * message fields decoded from their JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pagegate/log.h"
#include "pagegate/translit.h"
#include "pagegate/util.h"
#include "store_sqlite_priv.h"

#define MAX_ROWS 100000   /* per array read back; beyond: PG_ERR_TOOBIG */

/* Reads columns 0, 1, 2 ... of the current row; the first failure sticks. */
struct row { sqlite3_stmt *s; int i; pg_err err; };

static int64_t
r_int(struct row *r)
{
	return sqlite3_column_int64(r->s, r->i++);
}

/* An allocated copy of the next column, NULL for SQL NULL. */
static char *
r_str(struct row *r)
{
	const unsigned char *t = sqlite3_column_text(r->s, r->i);
	int n = sqlite3_column_bytes(r->s, r->i++);
	char *p;

	if (t == NULL)
		return NULL;
	if ((p = malloc((size_t)n + 1)) == NULL) {
		r->err = PG_ERR_NOMEM;
		return NULL;
	}
	memcpy(p, t, (size_t)n);
	p[n] = '\0';
	return p;
}

/* The next column as text valid until the next step ("" for NULL). */
static const char *
r_peek(struct row *r)
{
	const unsigned char *t = sqlite3_column_text(r->s, r->i++);

	return t ? (const char *)t : "";
}

/* Records a column that does not hold a name this build knows. */
static void
r_bad(struct row *r, const char *what, const char *val)
{
	if (r->err == PG_OK)
		pg_error("store: unknown %s \"%s\" in the database", what, val);
	r->err = PG_ERR_STORE;
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

/* Reads MSG_COLS from the current row of s. */
static pg_err
row_message(sqlite3_stmt *s, void *p)
{
	struct pg_message *m = p;
	struct row r = { s, 0, PG_OK };
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
	m->acked_ms = r_int(&r);           /* NULL reads as 0 */
	m->acked_by = r_str(&r);
	m->esc_policy = r_str(&r);
	m->esc_fired = (int)r_int(&r);
	m->esc_total = (int)r_int(&r);
	m->esc_next_ms = r_int(&r);
	t = r_peek(&r);                    /* NULL: no escalation */
	if (*t && pg_esc_state_parse(t, &m->esc_state))
		r_bad(&r, "escalation state", t);
	if (r.err)
		pg_message_free(m);
	return r.err;
}

static pg_err
row_delivery(sqlite3_stmt *s, void *p)
{
	struct pg_delivery *d = p;
	struct row r = { s, 0, PG_OK };
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
	d->esc_step = (int)r_int(&r);      /* NULL reads as 0 */
	if (r.err)
		pg_delivery_free(d);
	return r.err;
}

static pg_err
row_attempt(sqlite3_stmt *s, void *p)
{
	struct pg_attempt *a = p;
	struct row r = { s, 0, PG_OK };
	const char *t;

	memset(a, 0, sizeof *a);
	a->id = r_int(&r);
	a->delivery_id = r_int(&r);
	a->started_ms = r_int(&r);
	a->finished_ms = r_int(&r);
	t = r_peek(&r);
	if (*t && pg_outcome_parse(t, &a->outcome))   /* "" while running */
		r_bad(&r, "outcome", t);
	a->reply = r_str(&r);
	if (r.err) {
		free(a->reply);
		a->reply = NULL;
	}
	return r.err;
}

static pg_err
row_event(sqlite3_stmt *s, void *p)
{
	struct pg_event *ev = p;
	struct row r = { s, 0, PG_OK };

	memset(ev, 0, sizeof *ev);
	ev->id = r_int(&r);
	ev->message_id = r_int(&r);
	ev->delivery_id = r_int(&r);       /* NULL reads as 0 */
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

/* A growing array of rows of size sz read by fn, freed by fr. */
struct rows {
	size_t sz, cap, n;
	char *arr;
	pg_err (*fn)(sqlite3_stmt *, void *);
	void (*fr)(void *);
};

static pg_err
rows_add(sqlite3_stmt *s, void *arg)
{
	struct rows *r = arg;
	char *p;
	pg_err e;

	if (r->n == r->cap) {
		if (r->cap >= MAX_ROWS)
			return PG_ERR_TOOBIG;
		r->cap = r->cap ? r->cap * 2 : 8;
		if ((p = realloc(r->arr, r->cap * r->sz)) == NULL)
			return PG_ERR_NOMEM;
		r->arr = p;
	}
	if (!(e = r->fn(s, r->arr + r->n * r->sz)))
		r->n++;
	return e;
}

/* Reads every row of the prepared s into *v (malloc'ed, NULL when none). */
static pg_err
rows_all(struct pg_sb *c, sqlite3_stmt *s, size_t sz,
	 pg_err (*fn)(sqlite3_stmt *, void *), void (*fr)(void *),
	 void **v, size_t *n)
{
	struct rows r = { sz, 0, 0, NULL, fn, fr };
	pg_err e = sqlite__rows_each(c, s, rows_add, &r);

	if (e) {
		for (size_t i = 0; i < r.n; i++)
			fr(r.arr + i * sz);
		free(r.arr);
		r.arr = NULL;
		r.n = 0;
	}
	*v = r.arr;
	*n = r.n;
	return e;
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


/* ---- messages ---- */

/* A message with its fields (the column after MSG_COLS). */
#define FIELDS_COL 20          /* the column after MSG_COLS in ST_GET_MSG */
static pg_err
rd_message_fields(sqlite3_stmt *s, void *p)
{
	const char *f = (const char *)sqlite3_column_text(s, FIELDS_COL);
	pg_err e = row_message(s, p);

	if (!e && (e = fields_decode(f ? f : "{}", p)))
		pg_message_free(p);
	return e;
}

/* Prepares the statement id that takes message id mid and reads all its
 * rows with fn into *v. */
static pg_err
message_rows(struct pg_sb *c, enum st id, int64_t mid, size_t sz,
	     pg_err (*fn)(sqlite3_stmt *, void *), void (*fr)(void *),
	     void **v, size_t *n)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, id, &s, "i", mid);

	return e ? e : rows_all(c, s, sz, fn, fr, v, n);
}

pg_err
sqlite__get_message(struct pg_sb *c, int64_t id, unsigned parts,
		    struct pg_message_full *out)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_GET_MSG, &s, "i", id);

	memset(out, 0, sizeof *out);
	if (!e)
		e = sqlite__row_one(c, s, rd_message_fields, &out->msg);
	if (!e && (parts & STORE_DELIVERIES))
		e = message_rows(c, ST_MSG_DELS, id, sizeof *out->deliveries,
				 row_delivery, fr_del, (void **)&out->deliveries,
				 &out->n_deliveries);
	if (!e && (parts & STORE_ATTEMPTS))
		e = message_rows(c, ST_MSG_ATTS, id, sizeof *out->attempts,
				 row_attempt, fr_att, (void **)&out->attempts,
				 &out->n_attempts);
	if (!e && (parts & STORE_EVENTS))
		e = message_rows(c, ST_MSG_EVTS, id, sizeof *out->events,
				 row_event, fr_evt, (void **)&out->events,
				 &out->n_events);
	if (e)
		pg_message_full_free(out);
	return e;
}

/* KEY_COLS: id, received_ms, state, ack_ref. */
static pg_err
rd_key(sqlite3_stmt *s, void *p)
{
	struct pg_message *m = p;
	struct row r = { s, 0, PG_OK };
	const char *t;

	m->id = r_int(&r);
	m->received_ms = r_int(&r);
	if (pg_mstate_parse((t = r_peek(&r)), &m->state))
		r_bad(&r, "message state", t);
	pg_strlcpy(m->ack_ref, r_peek(&r), sizeof m->ack_ref);
	if (sqlite3_column_count(s) > r.i)         /* ST_FIND_IDEM */
		pg_strlcpy(m->idem_hash, r_peek(&r), sizeof m->idem_hash);
	return r.err;
}

pg_err
sqlite__find_message(struct pg_sb *c, const char *ack_ref,
		     const char *operator_name, const char *idem_key,
		     struct pg_message *out)
{
	sqlite3_stmt *s;
	pg_err e;

	memset(out, 0, sizeof *out);
	if (ack_ref)
		e = sqlite__prep(c, ST_FIND_REF, &s, "t", ack_ref);
	else
		e = sqlite__prep(c, ST_FIND_IDEM, &s, "tt", operator_name,
				 idem_key);
	if (!e && (e = sqlite__row_one(c, s, rd_key, out)))
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

/* list_messages with the board's filters (ST_LIST_SEARCH). */
static pg_err
search(struct pg_sb *c, const struct pg_list_filter *f, struct pg_message **v,
       size_t *n)
{
	struct pg_buf folded;
	char *name = NULL, *digits = NULL;
	sqlite3_stmt *s;
	pg_err e = PG_OK;

	*v = NULL;
	*n = 0;
	pg_buf_init(&folded, 4096);
	if (f->q) {
		/* the name pattern folded like pg_fold(caller_name) */
		if (!(e = pg_fold_case(f->q, strlen(f->q), &folded)) &&
		    !(name = like(folded.data ? folded.data : "", false)))
			e = PG_ERR_NOMEM;
		digits = like(f->q, true);       /* NULL: no digits in q */
	}
	if (!e)
		e = sqlite__prep(c, ST_LIST_SEARCH, &s, "iitnnttitttttttitttt", f->since_ms,
			(int64_t)f->limit, f->client_id, f->until_ms, f->id, name, digits,
			(int64_t)f->view, pg_esc_state_name(PG_ES_ACTIVE),
			pg_esc_state_name(PG_ES_EXHAUSTED), pg_dstate_name(PG_D_FAILED),
			pg_kind_name(PG_KIND_DISPATCH), pg_urgency_name(PG_URG_EMERGENCY),
			pg_mstate_name(PG_M_DELIVERED), pg_mstate_name(PG_M_CANCELLED),
			pg_now_ms() - 24 * 3600 * 1000LL, pg_mstate_name(PG_M_HELD),
			pg_mstate_name(PG_M_WAITING), pg_urgency_name(PG_URG_URGENT),
			f->q_clients && *f->q_clients ? f->q_clients : NULL);
	if (!e)
		e = rows_all(c, s, sizeof **v, row_message, fr_msg, (void **)v, n);
	pg_buf_free(&folded);
	free(name);
	free(digits);
	return e;
}

pg_err
sqlite__list_messages(struct pg_sb *c, const struct pg_list_filter *f,
		 struct pg_message **v, size_t *n)
{
	const char *state = pg_mstate_name(f->state);
	const char *exhausted = pg_esc_state_name(PG_ES_EXHAUSTED);
	sqlite3_stmt *s;
	pg_err e;

	if (f->view != PG_VIEW_ALL || f->q || f->until_ms || f->id)
		return search(c, f, v, n);
	if (f->unacknowledged && f->client_id)
		e = sqlite__prep(c, ST_LIST_UNACK_CLIENT, &s, "iitt", f->since_ms,
			    (int64_t)f->limit, f->client_id, exhausted);
	else if (f->unacknowledged)
		e = sqlite__prep(c, ST_LIST_UNACK, &s, "iit", f->since_ms,
			    (int64_t)f->limit, exhausted);
	else if (f->client_id && f->state != PG_M_ANY)
		e = sqlite__prep(c, ST_LIST_BOTH, &s, "iitt", f->since_ms,
			    (int64_t)f->limit, f->client_id, state);
	else if (f->client_id || f->state != PG_M_ANY)
		e = sqlite__prep(c, f->client_id ? ST_LIST_CLIENT : ST_LIST_STATE, &s,
			    "iit", f->since_ms, (int64_t)f->limit,
			    f->client_id ? f->client_id : state);
	else
		e = sqlite__prep(c, ST_LIST_ALL, &s, "ii", f->since_ms,
			    (int64_t)f->limit);
	if (e) {
		*v = NULL;
		*n = 0;
		return e;
	}
	return rows_all(c, s, sizeof **v, row_message, fr_msg, (void **)v, n);
}

static pg_err
rd_int(sqlite3_stmt *s, void *p)
{
	*(int64_t *)p = sqlite3_column_int64(s, 0);
	return PG_OK;
}

/* Steps the prepared count s: its one integer into *n. */
static pg_err
count_one(struct pg_sb *c, sqlite3_stmt *s, size_t *n)
{
	int64_t v = 0;
	pg_err e = sqlite__row_one(c, s, rd_int, &v);

	*n = e ? 0 : (size_t)v;
	return e;
}

struct esc_walk {
	void (*cb)(int64_t mid, int64_t next_ms, void *arg);
	void *arg;
};

static pg_err
rd_esc(sqlite3_stmt *s, void *p)
{
	struct esc_walk *w = p;

	w->cb(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), w->arg);
	return PG_OK;
}

pg_err
sqlite__each_escalation(struct pg_sb *c, enum pg_esc_state st,
	void (*cb)(int64_t mid, int64_t next_ms, void *arg), void *arg)
{
	struct esc_walk w = { cb, arg };
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_EACH_ESC, &s, "t", pg_esc_state_name(st));

	return e ? e : sqlite__rows_each(c, s, rd_esc, &w);
}

pg_err
sqlite__count_escalations(struct pg_sb *c, enum pg_esc_state st, size_t *n)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_COUNT_ESC, &s, "t", pg_esc_state_name(st));

	*n = 0;
	return e ? e : count_one(c, s, n);
}

/* ---- deliveries ---- */

pg_err
sqlite__get_delivery(struct pg_sb *c, int64_t id, struct pg_delivery *out)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_GET_DEL, &s, "i", id);

	return e ? e : sqlite__row_one(c, s, row_delivery, out);
}

struct each {
	bool (*cb)(const struct pg_delivery *, void *);
	void *arg;
	bool stop;
};

static pg_err
rd_each(sqlite3_stmt *s, void *p)
{
	struct each *x = p;
	struct pg_delivery d;
	pg_err e = row_delivery(s, &d);

	if (!e) {
		x->stop = x->cb(&d, x->arg);
		pg_delivery_free(&d);
	}
	return !e && x->stop ? PG_ERR_EXISTS : e;   /* EXISTS: stop stepping */
}

pg_err
sqlite__each_delivery(struct pg_sb *c, unsigned states, int64_t after,
	bool (*cb)(const struct pg_delivery *d, void *arg), void *arg)
{
	struct each x = { cb, arg, false };
	const char *in[PG_D__COUNT];
	sqlite3_stmt *s;
	pg_err e;

	_Static_assert(PG_D__COUNT == 8, "ST_EACH_DEL takes one ? per state");
	for (int i = 0; i < PG_D__COUNT; i++)
		in[i] = states & STORE_DSTATE(i) ? pg_dstate_name(i) : NULL;
	e = sqlite__prep(c, ST_EACH_DEL, &s, "tttttttti", in[0], in[1], in[2],
			 in[3], in[4], in[5], in[6], in[7], after);
	if (!e)
		e = sqlite__rows_each(c, s, rd_each, &x);
	return e == PG_ERR_EXISTS && x.stop ? PG_OK : e;
}

pg_err
sqlite__mailbox_deliveries(struct pg_sb *c, const char *client_id,
			   const char *contact_id, size_t max,
			   struct pg_delivery **v, size_t *n)
{
	sqlite3_stmt *s;
	pg_err e;

	if (contact_id)
		e = sqlite__prep(c, ST_MAILBOX_CONTACT, &s, "ttit",
				 pg_dstate_name(PG_D_WAITING), client_id,
				 (int64_t)max, contact_id);
	else
		e = sqlite__prep(c, ST_MAILBOX, &s, "tti",
				 pg_dstate_name(PG_D_WAITING), client_id,
				 (int64_t)max);
	if (e) {
		*v = NULL;
		*n = 0;
		return e;
	}
	return rows_all(c, s, sizeof **v, row_delivery, fr_del, (void **)v, n);
}

struct recent {
	bool (*cb)(int64_t did, int64_t mid, const char *address, void *arg);
	void *arg;
	bool stop;
};

static pg_err
rd_recent(sqlite3_stmt *s, void *p)
{
	struct recent *x = p;
	const char *a = (const char *)sqlite3_column_text(s, 2);

	x->stop = x->cb(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
			a ? a : "", x->arg);
	return x->stop ? PG_ERR_EXISTS : PG_OK;   /* EXISTS: stop stepping */
}

pg_err
sqlite__recent_deliveries(struct pg_sb *c, enum pg_channel_kind ch,
	int64_t since_ms, size_t max, bool include_acked,
	bool (*cb)(int64_t did, int64_t mid, const char *address, void *arg),
	void *arg)
{
	struct recent x = { cb, arg, false };
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_RECENT, &s, "ittttii", since_ms,
	    pg_channel_name(ch), pg_dstate_name(PG_D_SENDING),
	    pg_dstate_name(PG_D_SENT), pg_dstate_name(PG_D_DELIVERED),
	    (int64_t)max, (int64_t)(include_acked ? 1 : 0));

	if (!e)
		e = sqlite__rows_each(c, s, rd_recent, &x);
	return e == PG_ERR_EXISTS && x.stop ? PG_OK : e;
}

static pg_err
rd_dstate_count(sqlite3_stmt *s, void *p)
{
	size_t *counts = p;
	const char *t = (const char *)sqlite3_column_text(s, 0);
	enum pg_dstate ds;

	if (t == NULL || pg_dstate_parse(t, &ds)) {
		pg_error("store: unknown delivery state \"%s\" in the database",
			 t ? t : "");
		return PG_ERR_STORE;
	}
	counts[ds] = (size_t)sqlite3_column_int64(s, 1);
	return PG_OK;
}

pg_err
sqlite__count_dstates(struct pg_sb *c, int64_t mid, size_t counts[PG_D__COUNT])
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_COUNT_DSTATES, &s, "i", mid);

	memset(counts, 0, PG_D__COUNT * sizeof counts[0]);
	return e ? e : sqlite__rows_each(c, s, rd_dstate_count, counts);
}

pg_err
sqlite__count_deliveries(struct pg_sb *c, enum pg_dstate ds, size_t *n)
{
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_COUNT_DEL, &s, "t", pg_dstate_name(ds));

	*n = 0;
	return e ? e : count_one(c, s, n);
}

/* ---- settings ---- */

struct blob { void *buf; size_t size, *len; };

static pg_err
rd_blob(sqlite3_stmt *s, void *p)
{
	struct blob *x = p;
	const void *v = sqlite3_column_blob(s, 0);
	int n = sqlite3_column_bytes(s, 0);

	if (n < 0 || (size_t)n > x->size)
		return PG_ERR_TOOBIG;
	if (n > 0)
		memcpy(x->buf, v, (size_t)n);
	*x->len = (size_t)n;
	return PG_OK;
}

pg_err
sqlite__get_setting(struct pg_sb *c, const char *key, void *buf, size_t size,
		    size_t *len)
{
	struct blob x = { buf, size, len };
	sqlite3_stmt *s;
	pg_err e = sqlite__prep(c, ST_GET_SETTING, &s, "t", key);

	return e ? e : sqlite__row_one(c, s, rd_blob, &x);
}
