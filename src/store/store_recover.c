/*
 * store_recover.c - the recovery of attempts cut short (store_priv.h): at
 * start-up, deliveries a process left "sending" when it died go back to
 * queued, due now, their running attempts closed as temp failures
 * "interrupted by restart", each with its ledger events.  Run by the
 * writer thread inside the group-commit transaction.
 */
#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_priv.h"

#define RECOVER_BATCH 16     /* deliveries recovered per lookup */

/* Up to RECOVER_BATCH ids of deliveries, for op_recover. */
struct ids { int64_t v[RECOVER_BATCH]; size_t n; };

static bool
take_id(const struct pg_delivery *d, void *arg)
{
	struct ids *x = arg;

	x->v[x->n++] = d->id;
	return x->n == RECOVER_BATCH;
}

/* Delivery did, left sending: its running attempts closed as temp
 * failures, queued again, due now. */
static pg_err
recover_one(const struct wtx *tx, struct store_op *op, struct pg_buf *b,
	    int64_t did, int64_t now)
{
	static const char why[] = "interrupted by restart";
	struct pg_delivery d;
	char t[PG_ISO_LEN];
	size_t n = 0;
	pg_err e = tx->be->get_delivery(tx->w, did, &d);

	if (e)
		return e;
	e = tx->be->finish_attempt(tx->w, d.id, 0, now, PG_OUT_TEMP, why, &n);
	op->writes += e ? 0 : n;
	for (size_t i = 0; !e && i < n; i++)
		e = store__w_event(tx, op, d.message_id, d.id, now,
				   "attempt_finished", "temp: interrupted by restart");
	d.state = PG_D_QUEUED;
	d.next_try_ms = now;
	d.updated_ms = now;
	if (!e)
		e = store__w_update(tx, op, &d);
	if (!e && !(e = pg_buf_printf(b, "temp: %s; next try %s", why,
				     store__when(now, t))))
		e = store__w_event(tx, op, d.message_id, d.id, now,
				   "retry_scheduled", b->data);
	pg_buf_reset(b);
	if (!e)
		e = store__w_restate(tx, op, d.message_id);
	if (!e)
		pg_info("store: delivery %lld was sending at the last "
			"stop; queued again", (long long)d.id);
	pg_delivery_free(&d);
	return e;
}

/* Deliveries left "sending" by a process that died mid-attempt go back to
 * queued, due now; their running attempts are closed as temp failures.
 * Their ids are taken a batch at a time, then each is recovered. */
pg_err
store__op_recover(const struct wtx *tx, struct store_op *op, struct pg_buf *b)
{
	struct ids x;
	int64_t after = 0, now = pg_now_ms();
	pg_err e;

	do {
		x.n = 0;
		e = tx->be->each_delivery(tx->w, STORE_DSTATE(PG_D_SENDING), after,
					  take_id, &x);
		for (size_t i = 0; !e && i < x.n; i++)
			e = recover_one(tx, op, b, x.v[i], now);
		after = x.n ? x.v[x.n - 1] : after;
	} while (!e && x.n == RECOVER_BATCH);
	return e;
}
