/*
 * store_node.c - several pagegated nodes on one store (store.h, "several
 * nodes"): the node's name, its claims on deliveries through the
 * backend's optional slots (store_backend.h), and attempts started and
 * finished under a claim.  Claims, renewals and the next due time run on
 * a connection of their own, outside the writer's group commit, so that
 * a claim is its own short transaction; the checks of a claim before an
 * attempt or an outcome run inside the writer's (store_ledger.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_priv.h"

#define CLAIM_MAX 256          /* deliveries claimed at once */

pg_err
store__node_open(struct pg_store *st, const char *target, const char *node)
{
	pg_err e;

	if (node == NULL)
		return PG_OK;
	if (!*node || !st->be->claim || !st->be->renew || !st->be->claim_check ||
	    !st->be->next_due) {
		pg_error("store: the %s store serves one process: no node name "
			 "(node = \"%s\")", st->be->name, node);
		return PG_ERR_CONFIG;
	}
	if (!(st->node = strdup(node)))
		return PG_ERR_NOMEM;
	if ((e = st->be->open(target, false, 0, &st->cw)))
		return e;
	pg_info("store: node \"%s\": deliveries are claimed from the store", node);
	return PG_OK;
}

void
store__node_close(struct pg_store *st)
{
	if (st->cw)
		st->be->close(st->cw);
	st->cw = NULL;
	free(st->node);
	st->node = NULL;
	pthread_mutex_destroy(&st->cmu);
}

const char *
pg_store_node(const struct pg_store *st)
{
	return st->node;
}

/* The channels this node sends: those pg_store_node_channels named, or
 * every one. */
static unsigned
node_channels(const struct pg_store *st)
{
	unsigned m = 0;

	if (st->channels)
		return st->channels;
	for (int ch = 0; ch < PG_CH__COUNT; ch++)
		m |= STORE_DCH(ch);
	return m;
}

void
pg_store_node_channels(struct pg_store *st, const enum pg_channel_kind *v,
		       size_t n)
{
	char names[256] = "";

	st->channels = 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)v[i] >= PG_CH__COUNT)
			continue;
		st->channels |= STORE_DCH(v[i]);
		snprintf(names + strlen(names), sizeof names - strlen(names),
			 "%s%s", i ? ", " : "", pg_channel_name(v[i]));
	}
	if (st->node && st->channels)
		pg_info("store: node \"%s\" sends %s only", st->node, names);
}

pg_err
pg_store_claim(struct pg_store *st, int64_t lease_ms, size_t max,
	       struct pg_claimed *out, size_t *n)
{
	struct pg_claim cl[CLAIM_MAX];
	pg_err e;

	*n = 0;
	if (!st->node)
		return PG_ERR_INVAL;
	if (max > CLAIM_MAX)
		max = CLAIM_MAX;
	if (max == 0)
		return PG_OK;
	pthread_mutex_lock(&st->cmu);
	e = st->be->claim(st->cw, st->node, node_channels(st), lease_ms, max, cl, n);
	pthread_mutex_unlock(&st->cmu);
	for (size_t i = 0; !e && i < *n; i++) {
		out[i].did = cl[i].did;
		out[i].token = cl[i].token;
	}
	return e;
}

pg_err
pg_store_renew(struct pg_store *st, const int64_t *tokens, size_t n,
	       int64_t lease_ms, size_t *kept)
{
	pg_err e;

	*kept = 0;
	if (!st->node)
		return PG_ERR_INVAL;
	pthread_mutex_lock(&st->cmu);
	e = st->be->renew(st->cw, st->node, tokens, n, lease_ms, kept);
	pthread_mutex_unlock(&st->cmu);
	return e;
}

pg_err
pg_store_next_due(struct pg_store *st, int64_t *ms)
{
	pg_err e;

	*ms = -1;
	if (!st->node)
		return PG_ERR_INVAL;
	pthread_mutex_lock(&st->cmu);
	e = st->be->next_due(st->cw, node_channels(st), ms);
	pthread_mutex_unlock(&st->cmu);
	return e;
}

pg_err
pg_store_attempt_start_claimed(struct pg_store *st, int64_t did, int64_t token,
			       int64_t at_ms, int64_t *attempt_id)
{
	struct store_op op = { .kind = OP_ATTEMPT_START,
		.u.start = { .did = did, .at = at_ms, .token = token,
			     .node = st->node } };
	pg_err e;

	if (!(e = store__write(st, &op)) && attempt_id)
		*attempt_id = op.u.start.aid;
	return e;
}

pg_err
pg_store_attempt_finish_claimed(struct pg_store *st, int64_t did, int64_t token,
				int64_t attempt_id, int64_t at_ms,
				enum pg_outcome outcome, const char *reply,
				enum pg_dstate new_state, int64_t next_try_ms)
{
	struct store_op op = { .kind = OP_ATTEMPT_FINISH, .u.finish = {
		.did = did, .aid = attempt_id, .at = at_ms, .next = next_try_ms,
		.outcome = outcome, .reply = reply, .state = new_state,
		.token = token } };
	pg_err e;

	if ((unsigned)outcome >= PG_OUT__COUNT ||
	    (new_state != PG_D_QUEUED && new_state != PG_D_SENT &&
	     new_state != PG_D_DELIVERED && new_state != PG_D_FAILED))
		return PG_ERR_INVAL;
	e = store__write(st, &op);
	return !e && op.u.finish.refused ? PG_ERR_EXISTS : e;
}

pg_err
store__claim_start(const struct wtx *tx, struct store_op *op,
		   struct pg_delivery *d)
{
	static const char why[] = "interrupted: its node's lease ran out";
	int64_t at = op->u.start.at;
	bool holds = true;
	size_t n = 0;
	pg_err e;

	if (!op->u.start.token || !tx->be->claim_check)
		return PG_OK;
	if ((e = tx->be->claim_check(tx->w, d->id, op->u.start.token, false,
				     &holds)))
		return e;
	if (!holds)
		return PG_ERR_EXISTS;
	if (d->state != PG_D_SENDING)
		return PG_OK;
	if ((e = tx->be->finish_attempt(tx->w, d->id, 0, at, PG_OUT_TEMP, why, &n)))
		return e;
	op->writes += n;
	for (size_t i = 0; !e && i < n; i++)
		e = store__w_event(tx, op, d->message_id, d->id, at,
				   "attempt_finished", "temp: interrupted: its "
				   "node's lease ran out");
	d->state = PG_D_QUEUED;
	return e;
}

pg_err
store__claim_finish(const struct wtx *tx, struct store_op *op,
		    const struct pg_delivery *d)
{
	char detail[160];
	bool holds = true;
	pg_err e;

	if (!op->u.finish.token || !tx->be->claim_check)
		return PG_OK;
	if ((e = tx->be->claim_check(tx->w, d->id, op->u.finish.token, true,
				     &holds)) || holds)
		return e;
	pg_warn("store: delivery %lld: outcome %s of attempt %lld came after "
		"its claim was lost: possible duplicate", (long long)d->id,
		pg_outcome_name(op->u.finish.outcome), (long long)op->u.finish.aid);
	snprintf(detail, sizeof detail, "%s of attempt %lld after the claim was "
		 "lost; it may have been sent twice",
		 pg_outcome_name(op->u.finish.outcome), (long long)op->u.finish.aid);
	op->u.finish.refused = true;
	return store__w_event(tx, op, d->message_id, d->id, op->u.finish.at,
			      "possible_duplicate", detail);
}

bool
pg_store_coordinator(struct pg_store *st)
{
	bool held = false;
	pg_err e;

	if (!st->node || !st->be->coordinator)
		return true;                      /* the store's only process */
	pthread_mutex_lock(&st->cmu);
	e = st->be->coordinator(st->cw, &held);
	pthread_mutex_unlock(&st->cmu);
	if (e)
		pg_warn("store: cannot tell whether this node coordinates: %s",
			pg_strerror(e));
	return !e && held;
}
