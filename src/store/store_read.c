/*
 * store_read.c - the store's reads (store.h): the pool of read-only
 * connections, the one helper every read goes through (store__read runs a
 * struct store_rd inside a snapshot of a pooled connection), the public
 * reads built on it, and the freeing of what they return.  The one rule
 * applied here is which delivery an inbound sender's address matches
 * (pg_store_find_recent).  The writer is store.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pagegate/util.h"
#include "store_priv.h"

#define LIST_MAX    1000
#define RECENT_MAX  1000     /* attempts looked at per inbound reply */
#define PHONE_MAX   20       /* digits of a phone number, at most */
#define PHONE_MIN   3        /* digits that make an address a number */
#define PHONE_TAIL  10       /* digits compared of two long numbers */
#define TEXT_MAX    65536    /* an address to match */
#define PG_ACK_REF_CAP 12    /* sizeof pg_message.ack_ref */

/* ---- the pool and the one read helper ---- */

pg_err
store__readers_open(struct pg_store *st, const char *target)
{
	pg_err e;

	for (int i = 0; i < STORE_READERS; i++) {
		if ((e = st->be->open(target, true, 0, &st->readers[i])))
			return e;
		st->idle[st->n_idle++] = st->readers[i];
	}
	return PG_OK;
}

void
store__readers_close(struct pg_store *st)
{
	for (int i = 0; i < STORE_READERS; i++)
		if (st->readers[i])
			st->be->close(st->readers[i]);
}

static struct pg_sb *
reader_take(struct pg_store *st)
{
	struct pg_sb *c;

	pthread_mutex_lock(&st->rmu);
	while (st->n_idle == 0)
		pthread_cond_wait(&st->rfree, &st->rmu);
	c = st->idle[--st->n_idle];
	pthread_mutex_unlock(&st->rmu);
	return c;
}

static void
reader_give(struct pg_store *st, struct pg_sb *c)
{
	pthread_mutex_lock(&st->rmu);
	st->idle[st->n_idle++] = c;
	pthread_cond_signal(&st->rfree);
	pthread_mutex_unlock(&st->rmu);
}

/* The backend call rd names, on connection c. */
static pg_err
rd_apply(const struct pg_store_backend *be, struct pg_sb *c,
	 const struct store_rd *rd)
{
	switch (rd->kind) {
	case RD_MESSAGE:
		return be->get_message(c, rd->u.message.id, rd->u.message.parts,
				       rd->u.message.out);
	case RD_DELIVERY:
		return be->get_delivery(c, rd->u.delivery.id, rd->u.delivery.out);
	case RD_LIST:
		return be->list_messages(c, rd->u.list.f, rd->u.list.v,
					 rd->u.list.n);
	case RD_FIND_REF:
		return be->find_message(c, rd->u.find.ref, NULL, NULL,
					rd->u.find.out);
	case RD_RECENT:
		return be->recent_deliveries(c, rd->u.recent.ch,
			rd->u.recent.since, RECENT_MAX, rd->u.recent.include_acked,
			rd->u.recent.cb, rd->u.recent.arg);
	case RD_SETTING:
		return be->get_setting(c, rd->u.setting.key, rd->u.setting.buf,
				       rd->u.setting.size, rd->u.setting.len);
	case RD_EACH_DELIVERY:
		return be->each_delivery(c, rd->u.each_delivery.states, 0,
			rd->u.each_delivery.cb, rd->u.each_delivery.arg);
	case RD_EACH_ESCALATION:
		return be->each_escalation(c, rd->u.each_escalation.state,
			rd->u.each_escalation.cb, rd->u.each_escalation.arg);
	case RD_COUNT_DELIVERIES:
		return be->count_deliveries(c, rd->u.count_deliveries.state,
					    rd->u.count_deliveries.n);
	case RD_COUNT_ESCALATIONS:
		return be->count_escalations(c, rd->u.count_escalations.state,
					     rd->u.count_escalations.n);
	case RD_MAILBOX:
		return store__mailbox_collect(be, c, rd->u.mailbox);
	}
	return PG_ERR_INVAL;
}

pg_err
store__read(struct pg_store *st, const struct store_rd *rd)
{
	struct pg_sb *c = reader_take(st);
	pg_err e, e2;

	if (!(e = st->be->begin(c)))
		e = rd_apply(st->be, c, rd);
	/* A snapshot wrote nothing: ending it either way is the same. */
	e2 = e ? st->be->rollback(c) : st->be->commit(c);
	reader_give(st, c);
	return e ? e : e2;
}

/* ---- the public reads ---- */

pg_err
pg_store_get_message(struct pg_store *st, int64_t id, struct pg_message_full *out)
{
	struct store_rd rd = { RD_MESSAGE, .u.message = { id, STORE_ALL, out } };
	pg_err e;

	memset(out, 0, sizeof *out);
	if ((e = store__read(st, &rd)))
		pg_message_full_free(out);
	return e;
}

pg_err
pg_store_get_msg(struct pg_store *st, int64_t id, struct pg_message *out)
{
	struct pg_message_full f = { 0 };
	struct store_rd rd = { RD_MESSAGE, .u.message = { id, 0, &f } };
	pg_err e = store__read(st, &rd);

	if (e)
		pg_message_full_free(&f);
	*out = f.msg;                    /* all zero on error */
	return e;
}

pg_err
pg_store_get_delivery(struct pg_store *st, int64_t did, struct pg_delivery *out)
{
	struct store_rd rd = { RD_DELIVERY, .u.delivery = { did, out } };
	pg_err e;

	memset(out, 0, sizeof *out);
	if ((e = store__read(st, &rd)))
		pg_delivery_free(out);
	return e;
}

pg_err
pg_store_list(struct pg_store *st, const struct pg_list_filter *f,
	      struct pg_message **out, size_t *n)
{
	struct pg_list_filter g = f ? *f : (struct pg_list_filter){ 0 };
	struct store_rd rd = { RD_LIST, .u.list = { &g, out, n } };

	*out = NULL;
	*n = 0;
	if ((unsigned)g.view >= PG_VIEW__COUNT || g.until_ms < 0 || g.id < 0)
		return PG_ERR_INVAL;
	g.limit = g.limit < 1 ? 1 : g.limit > LIST_MAX ? LIST_MAX : g.limit;
	return store__read(st, &rd);
}

pg_err
pg_store_find_ack_ref(struct pg_store *st, const char *ref, int64_t *mid)
{
	struct pg_message m;
	struct store_rd rd = { RD_FIND_REF, .u.find = { ref, &m } };
	pg_err e;

	if (ref == NULL || *ref == '\0' || strnlen(ref, PG_ACK_REF_CAP) >=
	    PG_ACK_REF_CAP)
		return PG_ERR_NOTFOUND;
	if (!(e = store__read(st, &rd)))
		*mid = m.id;
	return e;
}

/* The digits of a phone number into out: s holds only digits, spaces and
 * "+-()." with PHONE_MIN..PHONE_MAX digits.  Returns how many, or 0 when s
 * is not a phone number (an e-mail address, a topic, a short code "12"). */
static size_t
phone_digits(const char *s, char out[PHONE_MAX + 1])
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (n == PHONE_MAX)
				return 0;
			out[n++] = *s;
		} else if (strchr(" +-().", *s) == NULL) {
			return 0;
		}
	}
	out[n] = '\0';
	return n >= PHONE_MIN ? n : 0;
}

struct recent {
	const char *address;
	char digits[PHONE_MAX + 1];
	size_t n;
	int64_t did, mid;
};

/* store.h's rule: equal (ignoring case), or phone numbers whose digits
 * agree - the last PHONE_TAIL when both have that many, else all. */
static bool
recent_match(int64_t did, int64_t mid, const char *address, void *arg)
{
	struct recent *x = arg;
	char d[PHONE_MAX + 1];
	size_t n;
	bool same = strcasecmp(address, x->address) == 0;

	if (!same && x->n && (n = phone_digits(address, d)) > 0) {
		if (n >= PHONE_TAIL && x->n >= PHONE_TAIL)
			same = memcmp(d + n - PHONE_TAIL,
				      x->digits + x->n - PHONE_TAIL, PHONE_TAIL) == 0;
		else
			same = n == x->n && memcmp(d, x->digits, n) == 0;
	}
	if (same) {
		x->did = did;
		x->mid = mid;
	}
	return same;
}

pg_err
pg_store_find_recent(struct pg_store *st, enum pg_channel_kind ch,
		     const char *address, int64_t max_age_ms, bool include_acked,
		     int64_t *did, int64_t *mid)
{
	struct recent x = { .address = address };
	struct store_rd rd = { RD_RECENT, .u.recent = { ch,
		pg_now_ms() - max_age_ms, include_acked, recent_match, &x } };
	pg_err e;

	if ((unsigned)ch >= PG_CH__COUNT || address == NULL || *address == '\0' ||
	    strnlen(address, TEXT_MAX + 1) > TEXT_MAX || max_age_ms <= 0)
		return PG_ERR_INVAL;
	x.n = phone_digits(address, x.digits);
	if ((e = store__read(st, &rd)))
		return e;
	if (x.did == 0)
		return PG_ERR_NOTFOUND;
	if (did)
		*did = x.did;
	if (mid)
		*mid = x.mid;
	return PG_OK;
}

/* What the scheduler loads: never waiting (mailbox) deliveries. */
#define PENDING (STORE_DSTATE(PG_D_QUEUED) | STORE_DSTATE(PG_D_SENDING) | \
		 STORE_DSTATE(PG_D_HELD))

struct pending { void (*cb)(const struct pg_delivery *, void *); void *arg; };

static bool
pending_one(const struct pg_delivery *d, void *arg)
{
	struct pending *x = arg;

	x->cb(d, x->arg);
	return false;
}

pg_err
pg_store_load_pending(struct pg_store *st,
	void (*cb)(const struct pg_delivery *d, void *arg), void *arg)
{
	struct store_op op = { .kind = OP_RECOVER };
	struct pending x = { cb, arg };
	struct store_rd rd = { RD_EACH_DELIVERY, .u.each_delivery = { PENDING,
		pending_one, &x } };
	pg_err e;

	if (cb == NULL)
		return PG_ERR_INVAL;
	if ((e = store__write(st, &op)))
		return e;
	return store__read(st, &rd);
}

pg_err
pg_store_esc_load(struct pg_store *st,
	void (*cb)(int64_t mid, int64_t next_ms, void *arg), void *arg)
{
	struct store_rd rd = { RD_EACH_ESCALATION, .u.each_escalation = {
		PG_ES_ACTIVE, cb, arg } };

	return cb ? store__read(st, &rd) : PG_ERR_INVAL;
}

pg_err
pg_store_count_escalating(struct pg_store *st, int64_t *n)
{
	size_t k = 0;
	struct store_rd rd = { RD_COUNT_ESCALATIONS, .u.count_escalations = {
		PG_ES_ACTIVE, &k } };
	pg_err e = store__read(st, &rd);

	*n = (int64_t)k;
	return e;
}

pg_err
pg_store_count_unacked(struct pg_store *st, int64_t *n)
{
	size_t k = 0;
	struct store_rd rd = { RD_COUNT_ESCALATIONS, .u.count_escalations = {
		PG_ES_EXHAUSTED, &k } };
	pg_err e = store__read(st, &rd);

	*n = (int64_t)k;
	return e;
}

/* ---- freeing ---- */

void
pg_message_free(struct pg_message *m)
{
	if (m == NULL)
		return;
	free(m->client_id);
	free(m->caller_name);
	free(m->caller_phone);
	free(m->caller_company);
	free(m->text);
	for (size_t i = 0; i < m->n_fields; i++) {
		free(m->fields[i].key);
		free(m->fields[i].value);
	}
	free(m->fields);
	free(m->operator_name);
	free(m->idem_key);
	free(m->acked_by);
	free(m->esc_policy);
	memset(m, 0, sizeof *m);
}

void
pg_delivery_free(struct pg_delivery *d)
{
	if (d == NULL)
		return;
	free(d->contact_id);
	free(d->contact_name);
	free(d->address);
	free(d->gateway);
	free(d->last_reply);
	memset(d, 0, sizeof *d);
}

void
pg_message_full_free(struct pg_message_full *f)
{
	if (f == NULL)
		return;
	pg_message_free(&f->msg);
	for (size_t i = 0; i < f->n_deliveries; i++)
		pg_delivery_free(&f->deliveries[i]);
	free(f->deliveries);
	for (size_t i = 0; i < f->n_attempts; i++)
		free(f->attempts[i].reply);
	free(f->attempts);
	for (size_t i = 0; i < f->n_events; i++) {
		free(f->events[i].type);
		free(f->events[i].detail);
	}
	free(f->events);
	memset(f, 0, sizeof *f);
}

void
pg_message_list_free(struct pg_message *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		pg_message_free(&v[i]);
	free(v);
}
