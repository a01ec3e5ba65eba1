/*
 * store_ledger.c - what each write of the store does (store_priv.h), run by
 * the writer thread inside the group-commit transaction: the checks that
 * need the database, the rows touched, the ledger events with their
 * human-readable details, and the message state derived from its
 * deliveries (the recovery of attempts cut short by a crash: store_recover.c).  The rules live here,
 * above the backend, so that every backend follows them alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_priv.h"

#define REPLY_CUT   2000     /* bytes of a peer reply quoted in a detail */
#define WHO_CUT     200      /* bytes of a sender / acknowledger quoted */
#define REF_TRIES   64       /* random ack references tried per message */
#define REF_SPACE   1000000u /* 6 digits */
#define REF_KEEP_MS (30LL * 86400 * 1000)  /* a reference stays this long */
/* Random values at or above this are drawn again: v % REF_SPACE is then
 * uniform (4294000000 is the largest multiple of REF_SPACE below 2^32). */
#define REF_LIMIT   (UINT32_MAX / REF_SPACE * REF_SPACE)

/* ---- texts ---- */

const char *
store__when(int64_t ms, char buf[PG_ISO_LEN])
{
	size_t n;

	pg_iso8601(ms, buf);
	n = strlen(buf);
	if (n > 5 && strcmp(buf + n - 5, ".000Z") == 0)
		strcpy(buf + n - 5, "Z");
	return buf;
}

/* How many bytes of r to quote: at most max, cut on a UTF-8 character
 * boundary. */
static int
cut_len(const char *r, size_t max)
{
	size_t n = strlen(r);

	if (n <= max)
		return (int)n;
	n = max;
	while (n > 0 && ((unsigned char)r[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

/* A peer reply is quoted up to REPLY_CUT bytes; the whole reply is kept
 * in the attempt. */
static int
reply_len(const char *r)
{
	return cut_len(r, REPLY_CUT);
}

/* Appends s, cut to at most max bytes with "..." marking a cut. */
static pg_err
quote(struct pg_buf *b, const char *s, size_t max)
{
	int n = cut_len(s, max);

	return pg_buf_printf(b, "%.*s%s", n, s, s[n] ? "..." : "");
}

/* "temp: 450 4.3.0 Error" (or "temp") into b. */
static pg_err
outcome_text(struct pg_buf *b, enum pg_outcome o, const char *reply)
{
	if (reply == NULL || *reply == '\0')
		return pg_buf_adds(b, pg_outcome_name(o));
	return pg_buf_printf(b, "%s: %.*s%s", pg_outcome_name(o),
			     reply_len(reply), reply,
			     reply[reply_len(reply)] ? "..." : "");
}

/* Message state from the number of deliveries in each state (store.h). */
static enum pg_mstate
derive_state(const size_t c[PG_D__COUNT])
{
	size_t total = 0;

	for (int i = 0; i < PG_D__COUNT; i++)
		total += c[i];
	if (total == 0)
		return PG_M_UNROUTED;
	if (c[PG_D_QUEUED] + c[PG_D_SENDING] > 0)
		return PG_M_PENDING;
	if (c[PG_D_HELD] > 0)
		return PG_M_HELD;
	if (c[PG_D_WAITING] > 0)
		return PG_M_WAITING;
	if (c[PG_D_FAILED] > 0)
		return PG_M_FAILED;
	if (c[PG_D_DELIVERED] == total)
		return PG_M_DELIVERED;
	if (c[PG_D_CANCELLED] == total)
		return PG_M_CANCELLED;
	return PG_M_SENT;
}

/* ---- writer-side steps (writer thread, inside the transaction) ---- */

/* Notes that op touched message mid (first time only: the first event
 * names the change), for the observer after the commit.  Out of memory
 * loses the note, never the write. */
static void
note_touch(struct store_op *op, int64_t mid, const char *type)
{
	struct store_seen *s = op->seen;
	struct store_touch *t;

	if (!s)
		return;
	for (size_t i = op->seen_from; i < s->n; i++)
		if (s->v[i].mid == mid)
			return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;

		if (!(t = realloc(s->v, cap * sizeof *t)))
			return;
		s->v = t;
		s->cap = cap;
	}
	t = &s->v[s->n++];
	t->mid = mid;
	pg_strlcpy(t->change, type ? type : "", sizeof t->change);
}

pg_err
store__w_event(const struct wtx *tx, struct store_op *op, int64_t mid, int64_t did,
	int64_t at, const char *type, const char *detail)
{
	struct pg_event ev = { 0, mid, did, at, (char *)type, (char *)detail };
	pg_err e = tx->be->insert_event(tx->w, &ev);

	if (!e) {
		op->writes++;
		note_touch(op, mid, type);
	}
	return e;
}

/* Same, with the detail the caller built in b (reset afterwards); berr is
 * the result of building it. */
static pg_err
w_event_buf(const struct wtx *tx, struct store_op *op, int64_t mid,
	    int64_t did, int64_t at, const char *type, struct pg_buf *b,
	    pg_err berr)
{
	pg_err e = berr ? berr : store__w_event(tx, op, mid, did, at, type, b->data);

	pg_buf_reset(b);
	return e;
}

pg_err
store__w_message(const struct wtx *tx, struct store_op *op,
		 const struct pg_message *m, unsigned cols)
{
	pg_err e = tx->be->update_message(tx->w, m, cols);

	if (!e)
		op->writes++;
	return e;
}

pg_err
store__get_msg(const struct pg_store_backend *be, struct pg_sb *c, int64_t id,
	       struct pg_message *out)
{
	struct pg_message_full f;
	pg_err e = be->get_message(c, id, 0, &f);

	*out = f.msg;               /* all zero on error */
	return e;
}

/* Recomputes and stores the state of message mid. */
pg_err
store__w_restate(const struct wtx *tx, struct store_op *op, int64_t mid)
{
	size_t counts[PG_D__COUNT];
	struct pg_message m = { .id = mid };
	pg_err e = tx->be->count_dstates(tx->w, mid, counts);

	if (!e) {
		m.state = derive_state(counts);
		e = store__w_message(tx, op, &m, STORE_M_STATE);
	}
	return e;
}

/* store__w_restate for the mailbox (no wtx there), telling the new state. */
pg_err
store__restate(const struct pg_store_backend *be, struct pg_sb *w,
	       struct store_op *op, int64_t mid, enum pg_mstate *state)
{
	const struct wtx tx = { be, w };
	size_t counts[PG_D__COUNT];
	pg_err e = store__w_restate(&tx, op, mid);

	if (!e && state && !(e = be->count_dstates(w, mid, counts)))
		*state = derive_state(counts);
	return e;
}

pg_err
store__w_update(const struct wtx *tx, struct store_op *op, const struct pg_delivery *d)
{
	pg_err e = tx->be->update_delivery(tx->w, d);

	if (!e)
		op->writes++;
	return e;
}

pg_err
store__skew(const struct wtx *tx, const struct store_op *op, int64_t node_now,
	    int64_t *off)
{
	int64_t now;
	pg_err e;

	*off = 0;
	if (!op->db_clock || !tx->be->clock)
		return PG_OK;
	if ((e = tx->be->clock(tx->w, &now)))
		return e;
	*off = now - node_now;
	return PG_OK;
}

static pg_err
op_submit(const struct wtx *tx, struct store_op *op, struct pg_buf *b)
{
	struct pg_message *m = op->u.submit.m;
	struct pg_delivery *d = op->u.submit.d;
	size_t nd = op->u.submit.nd, counts[PG_D__COUNT] = { 0 };
	struct pg_message first;
	char t[PG_ISO_LEN];
	pg_err e;

	if (m->idem_key) {
		e = tx->be->find_message(tx->w, NULL, m->operator_name,
					 m->idem_key, &first);
		if (e == PG_OK) {
			m->id = first.id;
			m->state = first.state;
			memcpy(m->ack_ref, first.ack_ref, sizeof m->ack_ref);
			op->u.submit.existing = true;
			op->u.submit.conflict = m->idem_hash[0] && first.idem_hash[0] &&
				strcmp(m->idem_hash, first.idem_hash) != 0;
			return PG_OK;
		}
		if (e != PG_ERR_NOTFOUND)
			return e;
	}
	/* A new message needs room: a disk that is not full, a store below
	 * its cap; what follows for messages already taken may use the room
	 * set aside and the reserve above the cap (store_room.c). */
	if (op->u.submit.no_disk) {
		op->u.submit.room = -2;
		return PG_ERR_FULL;
	}
	if (op->u.submit.cap > 0) {
		int64_t used = 0;

		if ((e = tx->be->used(tx->w, &used)))
			return e;
		op->u.submit.room = used < op->u.submit.cap ? 1 : -1;
		if (op->u.submit.room < 0)
			return PG_ERR_FULL;
	}
	/* Nodes compare due times with the database's clock: what is due
	 * now, and the first step's wait, run from that clock's now, not
	 * this node's (a held delivery's opening is a time of day: kept). */
	for (size_t i = 0; i < nd; i++)
		counts[d[i].state]++;
	if (counts[PG_D_QUEUED] > 0 || m->esc_next_ms > 0) {   /* (else no query) */
		int64_t off;

		if ((e = store__skew(tx, op, m->received_ms, &off)))
			return e;
		if (m->esc_next_ms > 0)
			m->esc_next_ms += off;
		for (size_t i = 0; i < nd; i++)
			if (d[i].state == PG_D_QUEUED)
				d[i].next_try_ms += off;
	}
	m->state = derive_state(counts);
	if ((e = store__new_ack_ref(tx->be, tx->w, m->ack_ref)) ||
	    (e = tx->be->insert_message(tx->w, m)))
		return e;
	op->writes++;
	if ((e = store__w_insert_deliveries(tx, op, m->id, d, nd, m->received_ms)))
		return e;
	e = pg_buf_printf(b, "%s, %s, for %s, taken by %s",
			  pg_kind_name(m->kind), pg_urgency_name(m->urgency),
			  m->client_id, m->operator_name);
	if ((e = w_event_buf(tx, op, m->id, 0, m->received_ms, "received", b, e)))
		return e;
	if (op->u.submit.route)
		e = pg_buf_adds(b, op->u.submit.route);
	else
		e = pg_buf_printf(b, "%zu deliveries", nd);
	if ((e = w_event_buf(tx, op, m->id, 0, m->received_ms, "routed", b, e)))
		return e;
	for (size_t i = 0; i < nd; i++) {
		if (d[i].state != PG_D_HELD)
			continue;
		e = pg_buf_printf(b, "%s to %s until %s",
				  pg_channel_name(d[i].channel), d[i].address,
				  store__when(d[i].next_try_ms, t));
		if ((e = w_event_buf(tx, op, m->id, d[i].id, m->received_ms,
				     "held", b, e)))
			return e;
	}
	return PG_OK;
}

static pg_err
op_attempt_start(const struct wtx *tx, struct store_op *op, struct pg_buf *b)
{
	struct pg_delivery d;
	int64_t at = op->u.start.at;
	pg_err e = tx->be->get_delivery(tx->w, op->u.start.did, &d);

	if (e)
		return e;
	if ((e = store__claim_start(tx, op, &d))) {
		pg_delivery_free(&d);
		return e;
	}
	if (d.state != PG_D_QUEUED && d.state != PG_D_HELD) {
		pg_warn("store: delivery %lld is %s: no attempt can start",
			(long long)d.id, pg_dstate_name(d.state));
		e = PG_ERR_INVAL;
	}
	d.state = PG_D_SENDING;
	d.attempts++;
	d.updated_ms = at;
	if (!e)
		e = store__w_update(tx, op, &d);
	if (!e && !(e = tx->be->insert_attempt(tx->w, d.id, at, &op->u.start.aid)))
		op->writes++;
	if (!e) {
		e = pg_buf_printf(b, "attempt %d: %s to %s%s%s%s%s%s", d.attempts,
				  pg_channel_name(d.channel), d.address,
				  d.gateway ? " via " : "",
				  d.gateway ? d.gateway : "",
				  op->u.start.node ? " (node " : "",
				  op->u.start.node ? op->u.start.node : "",
				  op->u.start.node ? ")" : "");
		e = w_event_buf(tx, op, d.message_id, d.id, at,
				"attempt_started", b, e);
	}
	if (!e)
		e = store__w_restate(tx, op, d.message_id);
	pg_delivery_free(&d);
	return e;
}

static pg_err
op_attempt_finish(const struct wtx *tx, struct store_op *op, struct pg_buf *b)
{
	struct pg_delivery d;
	const char *reply = op->u.finish.reply, *type;
	enum pg_outcome o = op->u.finish.outcome;
	int64_t at = op->u.finish.at;
	char t[PG_ISO_LEN], *old;
	bool settled;
	size_t n;
	pg_err e = tx->be->get_delivery(tx->w, op->u.finish.did, &d);

	if (e)
		return e;
	if ((e = store__claim_finish(tx, op, &d)) || op->u.finish.refused) {
		pg_delivery_free(&d);
		return e;
	}
	/* aid 0 would close every running attempt: it names none. */
	e = op->u.finish.aid == 0 ? PG_ERR_NOTFOUND : tx->be->finish_attempt(
	    tx->w, d.id, op->u.finish.aid, at, o, reply, &n);
	if (e == PG_ERR_NOTFOUND)
		pg_warn("store: delivery %lld has no running attempt %lld",
			(long long)d.id, (long long)op->u.finish.aid);
	if (!e)
		op->writes++;
	/* A far-end receipt can settle a delivery while its attempt still
	 * runs (a fast SMS delivery report): the attempt is closed and the
	 * receipt's state stays. */
	settled = d.state == PG_D_DELIVERED || d.state == PG_D_FAILED;
	if (!settled)
		d.state = op->u.finish.state;
	if (d.state == PG_D_QUEUED)
		d.next_try_ms = op->u.finish.next;
	/* a node's retry waits its backoff on the database's clock, which
	 * claims compare with, whatever the node's own says */
	if (d.state == PG_D_QUEUED) {
		int64_t off;

		if ((e = store__skew(tx, op, at, &off))) {
			pg_delivery_free(&d);
			return e;
		}
		d.next_try_ms += off;
	}
	d.updated_ms = at;
	old = d.last_reply;
	d.last_reply = (char *)reply;
	if (!e)
		e = store__w_update(tx, op, &d);
	d.last_reply = old;
	if (!e) {
		e = outcome_text(b, o, reply);
		e = w_event_buf(tx, op, d.message_id, d.id, at,
				"attempt_finished", b, e);
	}
	if (!e && !settled) {
		switch (d.state) {
		case PG_D_QUEUED:
			type = "retry_scheduled";
			e = outcome_text(b, o, reply);
			if (!e)
				e = pg_buf_printf(b, "; next try %s",
						  store__when(d.next_try_ms, t));
			break;
		case PG_D_FAILED:
			type = "failed";
			e = outcome_text(b, o, reply);
			if (!e && o != PG_OUT_PERM)
				e = pg_buf_printf(b, "; gave up after %d "
						  "attempts", d.attempts);
			break;
		default:        /* sent, delivered */
			type = pg_dstate_name(d.state);
			e = pg_buf_printf(b, "%s to %s", pg_channel_name(d.channel),
					  d.address);
			break;
		}
		e = w_event_buf(tx, op, d.message_id, d.id, at, type, b, e);
	}
	if (!e)
		e = store__w_restate(tx, op, d.message_id);
	pg_delivery_free(&d);
	return e;
}

static pg_err
op_set_state(const struct wtx *tx, struct store_op *op)
{
	struct pg_delivery d;
	int64_t now = pg_now_ms();
	pg_err e = tx->be->get_delivery(tx->w, op->u.set.did, &d);

	if (e)
		return e;
	d.state = op->u.set.state;
	d.next_try_ms = op->u.set.next;
	d.updated_ms = now;
	if (!(e = store__w_update(tx, op, &d)))
		e = store__w_event(tx, op, d.message_id, d.id, now, op->u.set.type,
			    op->u.set.detail);
	if (!e)
		e = store__w_restate(tx, op, d.message_id);
	pg_delivery_free(&d);
	return e;
}

/* Delivery did (0: none) exists and belongs to message mid. */
static pg_err
check_delivery(const struct wtx *tx, int64_t mid, int64_t did)
{
	struct pg_delivery d;
	pg_err e;

	if (did == 0)
		return PG_OK;
	if ((e = tx->be->get_delivery(tx->w, did, &d)))
		return e;
	e = d.message_id == mid ? PG_OK : PG_ERR_INVAL;
	pg_delivery_free(&d);
	return e;
}

static pg_err
op_event(const struct wtx *tx, struct store_op *op)
{
	pg_err e = check_delivery(tx, op->u.event.mid, op->u.event.did);

	return e ? e : store__w_event(tx, op, op->u.event.mid, op->u.event.did,
			       pg_now_ms(), op->u.event.type, op->u.event.detail);
}

/* Sets acked_ms / acked_by = "WHO via CHANNEL" once, with an
 * "acknowledged" event "by WHO via CHANNEL (delivery N)"; an escalation
 * under way stops there, its pending steps' deliveries cancelled. */
static pg_err
op_ack(const struct wtx *tx, struct store_op *op, struct pg_buf *b)
{
	struct pg_message m, u = { .id = op->u.ack.mid };
	int64_t mid = op->u.ack.mid, did = op->u.ack.did, now = pg_now_ms();
	/* nodes: the row a node firing a step locks, locked first */
	pg_err e = tx->be->lock_message ? tx->be->lock_message(tx->w, mid) : PG_OK;
	bool escalating;
	size_t n;

	if (e || (e = store__get_msg(tx->be, tx->w, mid, &m)))
		return e;
	op->u.ack.already = m.acked_ms != 0;
	escalating = m.esc_policy && (m.esc_state == PG_ES_ACTIVE ||
				      m.esc_state == PG_ES_EXHAUSTED);
	if ((e = check_delivery(tx, mid, did)) || op->u.ack.already)
		goto out;
	if (!(e = pg_buf_adds(b, "by ")) && !(e = quote(b, op->u.ack.who, WHO_CUT)))
		e = pg_buf_printf(b, " via %s", op->u.ack.channel);
	/* acked_by is the detail without its "by ". */
	u.acked_ms = now;
	u.acked_by = b->data + 3;
	if (!e)
		e = store__w_message(tx, op, &u, STORE_M_ACK);
	if (!e && did)
		e = pg_buf_printf(b, " (delivery %lld)", (long long)did);
	if ((e = w_event_buf(tx, op, mid, did, now, "acknowledged", b, e)) ||
	    !escalating)
		goto out;
	m.esc_state = PG_ES_ACKED;
	if (!(e = store__w_message(tx, op, &m, STORE_M_ESC)))
		e = store__esc_stop(tx, op, mid, false, "acknowledged", &n);
out:
	pg_message_free(&m);
	return e;
}

/* A "reply" event "from FROM via CHANNEL: TEXT". */
static pg_err
op_reply(const struct wtx *tx, struct store_op *op, struct pg_buf *b)
{
	pg_err e = check_delivery(tx, op->u.reply.mid, op->u.reply.did);

	if (e)
		return e;
	if (!(e = pg_buf_adds(b, "from ")) &&
	    !(e = quote(b, op->u.reply.from, WHO_CUT)) &&
	    !(e = pg_buf_printf(b, " via %s: ", op->u.reply.channel)))
		e = quote(b, op->u.reply.text, REPLY_CUT);
	return w_event_buf(tx, op, op->u.reply.mid, op->u.reply.did,
			   pg_now_ms(), "reply", b, e);
}

/* A far-end report: moves a delivery still open or sent to the reported
 * state ("delivered" / "failed" event with the report); about one
 * already settled it is only a "receipt" event, "STATE: REPORT (delivery
 * was already STATE)". */
static pg_err
op_receipt(const struct wtx *tx, struct store_op *op, struct pg_buf *b)
{
	struct pg_delivery d;
	enum pg_dstate to = op->u.receipt.state;
	const char *detail = op->u.receipt.detail, *type = "receipt";
	int64_t now = pg_now_ms();
	bool moves, progress = to == PG_D_SENT;
	pg_err e = tx->be->get_delivery(tx->w, op->u.receipt.did, &d);

	if (e)
		return e;
	moves = !progress && (d.state == PG_D_QUEUED || d.state == PG_D_SENDING ||
	    d.state == PG_D_SENT);
	if (progress) {          /* "accepted by the SMSC": on the way */
		if (detail && *detail)
			e = quote(b, detail, REPLY_CUT);
	} else if (moves) {
		type = pg_dstate_name(to);
		if (detail && *detail)
			e = quote(b, detail, REPLY_CUT);
	} else {
		e = pg_buf_adds(b, pg_dstate_name(to));
		if (!e && detail && *detail && !(e = pg_buf_adds(b, ": ")))
			e = quote(b, detail, REPLY_CUT);
		if (!e)
			e = pg_buf_printf(b, " (delivery was already %s)",
					  pg_dstate_name(d.state));
	}
	if (!e && moves) {
		d.state = to;
		d.updated_ms = now;
		e = store__w_update(tx, op, &d);
	}
	if (!e)
		e = store__w_event(tx, op, d.message_id, d.id, now, type,
			    b->len ? b->data : NULL);
	pg_buf_reset(b);
	if (!e && moves)
		e = store__w_restate(tx, op, d.message_id);
	pg_delivery_free(&d);
	return e;
}

pg_err
store__w_insert_deliveries(const struct wtx *tx, struct store_op *op,
			   int64_t mid, struct pg_delivery *d, size_t nd,
			   int64_t at)
{
	pg_err e;

	for (size_t i = 0; i < nd; i++) {
		d[i].message_id = mid;
		if (d[i].created_ms == 0)
			d[i].created_ms = at;
		if (d[i].updated_ms == 0)
			d[i].updated_ms = d[i].created_ms;
		if ((e = tx->be->insert_delivery(tx->w, &d[i])))
			return e;
		op->writes++;
	}
	return PG_OK;
}

pg_err
store__apply(const struct pg_store_backend *be, struct pg_sb *w,
	     struct store_op *op, struct pg_buf *b)
{
	const struct wtx ctx = { be, w }, *tx = &ctx;

	switch (op->kind) {
	case OP_SUBMIT:         return op_submit(tx, op, b);
	case OP_ATTEMPT_START:  return op_attempt_start(tx, op, b);
	case OP_ATTEMPT_FINISH: return op_attempt_finish(tx, op, b);
	case OP_SET_STATE:      return op_set_state(tx, op);
	case OP_EVENT:          return op_event(tx, op);
	case OP_RECOVER:        return store__op_recover(tx, op, b);
	case OP_ACK:            return op_ack(tx, op, b);
	case OP_REPLY:          return op_reply(tx, op, b);
	case OP_RECEIPT:        return op_receipt(tx, op, b);
	case OP_SECRET:         return store__op_secret(tx, op);
	case OP_ESC_ADVANCE:    return store__op_esc_advance(tx, op, b);
	case OP_CANCEL:         return store__op_cancel(tx, op, b);
	case OP_ESC_RESTART:    return store__op_esc_restart(tx, op, b);
	case OP_MAILBOX:        return store__mailbox_take(be, w, op, b);
	case OP_RESEND:         return store__op_resend(tx, op);
	case OP_MARK:           return store__op_mark(tx, op);
	case OP_ESC_FIRE:       return store__op_esc_fire(tx, op, b);
	}
	return PG_ERR_INVAL;
}

void
store__unwind(struct store_op *op)
{
	op->writes = 0;
	if (op->kind == OP_SUBMIT) {
		/* u.submit.room stays: it says what the store looked like */
		op->u.submit.m->id = 0;
		op->u.submit.m->ack_ref[0] = '\0';
		op->u.submit.existing = false;
		op->u.submit.conflict = false;
		for (size_t i = 0; i < op->u.submit.nd; i++)
			op->u.submit.d[i].id = op->u.submit.d[i].message_id = 0;
	} else if (op->kind == OP_ATTEMPT_START) {
		op->u.start.aid = 0;
	} else if (op->kind == OP_ACK) {
		op->u.ack.already = false;
	} else if (op->kind == OP_SECRET) {
		memset(op->u.secret.out, 0, SECRET_LEN);
	} else if (op->kind == OP_ESC_ADVANCE) {
		op->u.esc.applied = false;
		for (size_t i = 0; i < op->u.esc.nd; i++)
			op->u.esc.d[i].id = op->u.esc.d[i].message_id = 0;
	} else if (op->kind == OP_CANCEL) {
		op->u.cancel.n = 0;
	} else if (op->kind == OP_RESEND) {
		for (size_t i = 0; i < op->u.resend.nd; i++)
			op->u.resend.d[i].id = op->u.resend.d[i].message_id = 0;
	}
}


pg_err
store__new_ack_ref(const struct pg_store_backend *be, struct pg_sb *c,
		   char out[12])
{
	struct pg_message holder;
	uint32_t v;
	int64_t before = pg_now_ms() - REF_KEEP_MS;
	pg_err e = PG_OK;

	for (int i = 0; i < REF_TRIES; i++) {
		do {
			if ((e = pg_random(&v, sizeof v)))
				return e;
		} while (v >= REF_LIMIT);
		snprintf(out, 12, "%0*u", PG_STORE_REF_LEN,
			 (unsigned)(v % REF_SPACE));
		e = be->find_message(c, out, NULL, NULL, &holder);
		if (e == PG_ERR_NOTFOUND)
			return PG_OK;
		if (e)
			break;
		if (holder.received_ms >= before)
			continue;                     /* still in use */
		/* The holder is old enough: it gives the reference up. */
		holder.ack_ref[0] = '\0';
		if ((e = be->update_message(c, &holder, STORE_M_REF)))
			break;
		pg_debug("store: ack reference %s of message %lld given again",
			 out, (long long)holder.id);
		return PG_OK;
	}
	out[0] = '\0';
	if (!e) {
		pg_error("store: no free ack reference in %d tries", REF_TRIES);
		e = PG_ERR_FULL;
	}
	return e;
}
