/*
 * store_mailbox.c - the check-in mailbox of the store (store.h,
 * pg_store_mailbox).  A contact with checkin = true has its messages kept
 * as deliveries on the mailbox channel in state waiting, which the
 * scheduler never loads and which never expire.  Retrieving them lists
 * them with their messages and, unless peeking, marks them delivered: an
 * OP_MAILBOX write run by the writer thread inside one group-commit
 * transaction, so that the list an operator reads out is exactly what the
 * ledger records as retrieved, and two operators retrieving at once never
 * both get the same message.  A peek reads in a snapshot and writes
 * nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "pagegate/util.h"
#include "store_priv.h"

#define WHO_MAX 512          /* bytes of "who retrieved", at most */

/* The waiting deliveries of mb's client (and contact), at most
 * PG_MAILBOX_MAX, each with its message, into mb->v / mb->n; mb->more
 * when there are others.  On error mb->v holds what was read so far. */
pg_err
store__mailbox_collect(const struct pg_store_backend *be, struct pg_sb *c,
		       struct store_mailbox *mb)
{
	struct pg_delivery *ds = NULL;
	size_t nd = 0, keep;
	pg_err e = be->mailbox_deliveries(c, mb->client, mb->contact,
					  PG_MAILBOX_MAX + 1, &ds, &nd);

	if (e)
		return e;
	mb->more = nd > PG_MAILBOX_MAX;
	keep = mb->more ? PG_MAILBOX_MAX : nd;
	if (keep > 0 && (mb->v = calloc(keep, sizeof *mb->v)) == NULL)
		e = PG_ERR_NOMEM;
	for (size_t i = 0; i < nd; i++) {
		if (!e && i < keep) {
			mb->v[i].d = ds[i];           /* takes its strings */
			mb->n++;
			e = store__get_msg(be, c, ds[i].message_id, &mb->v[i].msg);
			continue;
		}
		pg_delivery_free(&ds[i]);
	}
	free(ds);
	return e;
}

/* Leaves in mb only the item of delivery mb->only (if there). */
static void
mailbox_keep_only(struct store_mailbox *mb)
{
	size_t k = 0;

	for (size_t i = 0; i < mb->n; i++) {
		if (mb->v[i].d.id == mb->only && k == 0) {
			if (i != k)
				mb->v[k] = mb->v[i];
			k++;
			continue;
		}
		pg_delivery_free(&mb->v[i].d);
		pg_message_free(&mb->v[i].msg);
	}
	mb->n = k;
	mb->more = false;
	if (k == 0) {
		free(mb->v);
		mb->v = NULL;
	}
}

pg_err
store__mailbox_take(const struct pg_store_backend *be, struct pg_sb *w,
		    struct store_op *op, struct pg_buf *b)
{
	struct store_mailbox *mb = op->u.mailbox;
	int64_t now = pg_now_ms();
	pg_err e = store__mailbox_collect(be, w, mb);

	if (!e && mb->only > 0)
		mailbox_keep_only(mb);

	for (size_t i = 0; !e && i < mb->n; i++) {
		struct pg_delivery *d = &mb->v[i].d;
		struct pg_event ev = { 0, d->message_id, d->id, now, "delivered",
				       NULL };

		d->state = PG_D_DELIVERED;
		d->updated_ms = now;
		if (!(e = be->update_delivery(w, d)))
			op->writes++;
		if (!e && !(e = pg_buf_printf(b, "retrieved from the mailbox by %s",
					      mb->who))) {
			ev.detail = b->data;
			if (!(e = be->insert_event(w, &ev)))
				op->writes++;
		}
		pg_buf_reset(b);
	}
	/* Each message's state once, when all its deliveries are done; the
	 * items of one message share it. */
	for (size_t i = 0; !e && i < mb->n; i++) {
		struct pg_message *m = &mb->v[i].msg;
		size_t k = 0;

		while (k < i && mb->v[k].msg.id != m->id)
			k++;
		if (k < i)
			m->state = mb->v[k].msg.state;
		else
			e = store__restate(be, w, op, m->id, &m->state);
	}
	return e;
}

/* Checks mb's arguments, lists (or with mb->take retrieves) its
 * mailbox, and hands the items over (pg_store_mailbox's contract). */
static pg_err
mailbox_run(struct pg_store *st, struct store_mailbox *mb,
	    struct pg_mailbox_item **out, size_t *n, bool *more)
{
	struct store_op op = { .kind = OP_MAILBOX, .u.mailbox = mb };
	struct store_rd rd = { RD_MAILBOX, .u.mailbox = mb };
	pg_err e;

	*out = NULL;
	*n = 0;
	if (more)
		*more = false;
	if (mb->client == NULL || *mb->client == '\0' ||
	    (mb->contact && *mb->contact == '\0') ||
	    (mb->take && (mb->who == NULL || *mb->who == '\0' ||
			  strnlen(mb->who, WHO_MAX + 1) > WHO_MAX)))
		return PG_ERR_INVAL;
	e = mb->take ? store__write(st, &op) : store__read(st, &rd);
	if (e) {
		pg_mailbox_free(mb->v, mb->n);
		return e;
	}
	*out = mb->v;
	*n = mb->n;
	if (more)
		*more = mb->more;
	return PG_OK;
}

pg_err
pg_store_mailbox(struct pg_store *st, const char *client_id,
		 const char *contact_id, bool take, const char *who,
		 struct pg_mailbox_item **out, size_t *n, bool *more)
{
	struct store_mailbox mb = { .client = client_id, .contact = contact_id,
				    .who = who, .take = take };

	return mailbox_run(st, &mb, out, n, more);
}

pg_err
pg_store_mailbox_take_one(struct pg_store *st, const char *client_id,
			  const char *contact_id, int64_t did, const char *who,
			  struct pg_mailbox_item **out, size_t *n)
{
	struct store_mailbox mb = { .client = client_id, .contact = contact_id,
				    .who = who, .take = true, .only = did };

	if (did <= 0) {
		*out = NULL;
		*n = 0;
		return PG_ERR_INVAL;
	}
	return mailbox_run(st, &mb, out, n, NULL);
}

void
pg_mailbox_free(struct pg_mailbox_item *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		pg_delivery_free(&v[i].d);
		pg_message_free(&v[i].msg);
	}
	free(v);
}

pg_err
pg_store_mailbox_count(struct pg_store *st, size_t *n)
{
	struct store_rd rd = { RD_COUNT_DELIVERIES, .u.count_deliveries = {
		PG_D_WAITING, n } };

	*n = 0;
	return store__read(st, &rd);
}
