/*
 * store_escalation.c - the escalation writes of the store (store_priv.h),
 * run by the writer thread inside the group-commit transaction: a step
 * fired (or the verdict "unacknowledged"), and an operator's cancel,
 * re-trigger and resend.  Each re-reads the message inside the
 * transaction, so an acknowledgement committed first always wins: no step
 * fires after the ack is on disk.  On a store of several nodes the due
 * steps are claimed and fired in one transaction (store__op_esc_fire).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_priv.h"

#define WHO_CUT 200      /* bytes of an operator name or reason quoted */

static bool
state_is(const struct pg_message *m, enum pg_esc_state s)
{
	return m->esc_policy && m->esc_state == s;
}

pg_err
store__esc_stop(const struct wtx *tx, struct store_op *op, int64_t mid,
		bool every_delivery, const char *why, size_t *n)
{
	struct pg_message_full f;
	int64_t now = pg_now_ms();
	pg_err e = tx->be->get_message(tx->w, mid, STORE_DELIVERIES, &f);

	*n = 0;
	for (size_t i = 0; !e && i < f.n_deliveries; i++) {
		struct pg_delivery *d = &f.deliveries[i];

		/* A message kept in a check-in mailbox stays there on an ack;
		 * an operator's cancel takes it out too. */
		if ((d->state != PG_D_QUEUED && d->state != PG_D_HELD &&
		     !(every_delivery && d->state == PG_D_WAITING)) ||
		    (!every_delivery && d->esc_step == 0))
			continue;
		d->state = PG_D_CANCELLED;
		d->updated_ms = now;
		if (!(e = store__w_update(tx, op, d)))
			e = store__w_event(tx, op, mid, d->id, now, "cancelled", why);
		(*n)++;
	}
	if (!e && *n > 0)
		e = store__w_restate(tx, op, mid);
	pg_message_full_free(&f);
	return e;
}

pg_err
store__op_esc_advance(const struct wtx *tx, struct store_op *op,
		      struct pg_buf *b)
{
	struct pg_message m;
	int64_t mid = op->u.esc.mid, now = pg_now_ms();
	int fired = op->u.esc.fired;
	pg_err e = store__get_msg(tx->be, tx->w, mid, &m);

	(void)b;
	if (e)
		return e;
	op->u.esc.applied = false;
	if (m.acked_ms != 0 || !state_is(&m, PG_ES_ACTIVE) || m.esc_fired != fired)
		goto out;
	if (fired >= m.esc_total || op->u.esc.exhaust) {
		m.esc_next_ms = 0;
		m.esc_state = PG_ES_EXHAUSTED;
		if (!(e = store__w_message(tx, op, &m, STORE_M_ESC)))
			e = store__w_event(tx, op, mid, 0, now, "unacknowledged",
					   op->u.esc.detail);
		op->u.esc.applied = !e;
		goto out;
	}
	for (size_t i = 0; i < op->u.esc.nd; i++)
		op->u.esc.d[i].esc_step = fired + 1;
	e = store__w_insert_deliveries(tx, op, mid, op->u.esc.d, op->u.esc.nd, now);
	m.esc_fired = fired + 1;
	m.esc_next_ms = op->u.esc.next;
	if (!e)
		e = store__w_message(tx, op, &m, STORE_M_ESC);
	if (!e)
		e = store__w_event(tx, op, mid, 0, now, "escalated", op->u.esc.detail);
	if (!e && op->u.esc.nd > 0)
		e = store__w_restate(tx, op, mid);
	op->u.esc.applied = !e;
out:
	pg_message_free(&m);
	return e;
}

pg_err
store__op_cancel(const struct wtx *tx, struct store_op *op, struct pg_buf *b)
{
	struct pg_message m;
	int64_t mid = op->u.cancel.mid, now = pg_now_ms();
	pg_err e = store__get_msg(tx->be, tx->w, mid, &m);
	const char *r = op->u.cancel.reason;

	if (e)
		return e;
	if (state_is(&m, PG_ES_ACTIVE) || state_is(&m, PG_ES_EXHAUSTED)) {
		m.esc_state = PG_ES_CANCELLED;
		if ((e = store__w_message(tx, op, &m, STORE_M_ESC)))
			goto out;
	}
	e = pg_buf_printf(b, "by %.*s%s%.*s", WHO_CUT, op->u.cancel.who,
			  r && *r ? ": " : "", WHO_CUT, r ? r : "");
	if (!e)
		e = store__esc_stop(tx, op, mid, true, b->data, &op->u.cancel.n);
	if (!e)
		e = store__w_event(tx, op, mid, 0, now, "cancelled", b->data);
	pg_buf_reset(b);
out:
	pg_message_free(&m);
	return e;
}

pg_err
store__op_esc_restart(const struct wtx *tx, struct store_op *op,
		      struct pg_buf *b)
{
	struct pg_message m, u = { .id = op->u.restart.mid };
	int64_t mid = op->u.restart.mid, now = pg_now_ms();
	int from = op->u.restart.from;
	pg_err e = store__get_msg(tx->be, tx->w, mid, &m);

	if (e)
		return e;
	if (!m.esc_policy || from < 1 || from > m.esc_total) {
		e = PG_ERR_INVAL;
		goto out;
	}
	if (m.acked_ms != 0)              /* u: acked_ms 0, acked_by NULL */
		e = store__w_message(tx, op, &u, STORE_M_ACK);
	u.esc_fired = from - 1;
	if ((e = store__skew(tx, op, now, &u.esc_next_ms)))
		goto out;
	u.esc_next_ms += now;
	u.esc_state = PG_ES_ACTIVE;
	if (!e)
		e = store__w_message(tx, op, &u, STORE_M_ESC);
	if (!e)
		e = pg_buf_printf(b, "from step %d of %d by %.*s%s", from,
				  m.esc_total, WHO_CUT, op->u.restart.who,
				  m.acked_ms ? " (the acknowledgement is withdrawn)" : "");
	if (!e)
		e = store__w_event(tx, op, mid, 0, now, "escalation_restarted", b->data);
	pg_buf_reset(b);
	op->u.restart.next = u.esc_next_ms;
out:
	pg_message_free(&m);
	return e;
}

/* An operator's resend: new deliveries of an existing message, with the
 * "resent" event first so that the ledger names who asked before the
 * deliveries' own events. */
pg_err
store__op_resend(const struct wtx *tx, struct store_op *op)
{
	struct pg_message m;
	int64_t mid = op->u.resend.mid, now = pg_now_ms(), off;
	pg_err e = store__get_msg(tx->be, tx->w, mid, &m);

	if (e)
		return e;
	pg_message_free(&m);
	if ((e = store__skew(tx, op, now, &off)))
		return e;
	for (size_t i = 0; i < op->u.resend.nd; i++)
		if (op->u.resend.d[i].state == PG_D_QUEUED)
			op->u.resend.d[i].next_try_ms += off;
	if ((e = store__w_event(tx, op, mid, 0, now, "resent", op->u.resend.detail)) ||
	    (e = store__w_insert_deliveries(tx, op, mid, op->u.resend.d, op->u.resend.nd,
					    now)))
		return e;
	return store__w_restate(tx, op, mid);
}

#define FIRE_MAX 64      /* due escalations claimed by one transaction */

/* Claims the due escalations (the backend locks their rows, due by the
 * database's clock), asks the caller's build what each step is and fires
 * it as OP_ESC_ADVANCE does, all in this transaction.  A message whose
 * step build cannot make (no memory) is left for the next claim. */
pg_err
store__op_esc_fire(const struct wtx *tx, struct store_op *op, struct pg_buf *b)
{
	int64_t mids[FIRE_MAX], now = pg_now_ms();
	size_t k = 0, max = op->u.fire.max < FIRE_MAX ? op->u.fire.max : FIRE_MAX;
	pg_err e;

	if ((e = tx->be->esc_due(tx->w, max, mids, &k, &now)))
		return e;
	for (size_t i = 0; i < k; i++) {
		struct pg_esc_fired *s = &op->u.fire.out[op->u.fire.n];
		struct pg_message m;
		int fired;

		if ((e = store__get_msg(tx->be, tx->w, mids[i], &m)))
			return e;
		memset(s, 0, sizeof *s);
		s->mid = m.id;
		s->step = m.esc_fired + 1;
		fired = m.esc_fired;
		e = op->u.fire.build(op->u.fire.arg, &m, now, s);
		pg_message_free(&m);
		op->u.fire.n++;
		if (e) {
			pg_warn("escalation of message %lld: step %d not made: %s",
				(long long)s->mid, s->step, pg_strerror(e));
			continue;
		}
		struct store_op adv = { .kind = OP_ESC_ADVANCE, .seen = op->seen,
			.u.esc = { .mid = s->mid, .next = s->next, .fired = fired,
				   .d = s->d, .nd = s->nd, .detail = s->detail,
				   .exhaust = s->exhaust } };
		e = store__op_esc_advance(tx, &adv, b);
		pg_buf_reset(b);
		op->writes += adv.writes;
		s->applied = adv.u.esc.applied;
		if (e)
			return e;
	}
	return PG_OK;
}

pg_err
pg_store_esc_fire_due(struct pg_store *st, pg_esc_build build, void *arg,
		      struct pg_esc_fired *out, size_t max, size_t *n)
{
	struct store_op op = { .kind = OP_ESC_FIRE, .u.fire = { .build = build,
		.arg = arg, .out = out, .max = max } };
	pg_err e;

	*n = 0;
	if (!st->node || !st->be->esc_due || !build || !out || max == 0)
		return PG_ERR_INVAL;
	e = store__write(st, &op);
	*n = op.u.fire.n;
	for (size_t i = 0; e && i < *n; i++)
		out[i].applied = false;       /* rolled back with the batch */
	return e;
}
