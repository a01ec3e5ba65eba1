/*
 * store_pg_claim.c - several nodes on one PostgreSQL store
 * (store_pg_priv.h): the store's one-writer lock aside, the operations by
 * which nodes share deliveries - claim under a lease, renew, check a
 * claim before an outcome is recorded, and the time of the next due
 * delivery; and the due escalations a node fires (locked the same way,
 * inside the writer's transaction that fires them) and the row lock an
 * acknowledgement takes first.  Every time is the database's clock (clock_timestamp() in
 * milliseconds), never a node's.
 *
 * In the manner of River and GoAlert (SCALE.md): due rows are claimed with
 * UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED), so concurrent
 * claims take disjoint rows without waiting for each other; a claim is
 * (owner, token, lease expiry).  A row whose lease ran out is due again,
 * whatever its owner: a dead node's deliveries return after the lease.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_pg_priv.h"

#define NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"
#define MAX_TOKENS 1024
#define STR_(x) #x
#define STR(x) STR_(x)

/* The channel names of the bit set, as a text[] literal for $n::text[]. */
static pg_err
channels_array(unsigned channels, char *out, size_t size)
{
	size_t o = 0;
	int k = 0;

	o += (size_t)snprintf(out, size, "{");
	for (int ch = 0; ch < PG_CH__COUNT && o < size; ch++)
		if (channels & STORE_DCH(ch))
			o += (size_t)snprintf(out + o, size - o, "%s%s", k++ ? "," : "",
					      pg_channel_name(ch));
	if (o + 2 > size)
		return PG_ERR_TOOBIG;
	snprintf(out + o, size - o, "}");
	return PG_OK;
}

/* Runs text with n text parameters (NULL-terminated vals) as its own
 * statement, unprepared (claims are not the hot path of a statement
 * count; each is one round trip). */
static pg_err
run(struct pg_sb *c, const char *text, int n, const char *const *vals,
    PGresult **res)
{
	PGresult *r = PQexecParams(c->db, text, n, NULL, vals, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK &&
	    PQresultStatus(r) != PGRES_COMMAND_OK) {
		pg_err e = pgsql__fail(c, r, text);

		PQclear(r);
		*res = NULL;
		return e;
	}
	*res = r;
	return PG_OK;
}

/* What a claim returns, in this column order. */
#define CLAIMED " RETURNING d.id, d.message_id, d.claim_token, d.next_try_ms," \
	" d.claim_until_ms, d.channel, d.state, d.priority"
#define CLAIM_SET " SET claim_owner = $1, claim_token = nextval('claim_tokens')," \
	" claim_until_ms = " NOW_MS " + $2::bigint"
#define UNCLAIMED "(claim_until_ms IS NULL OR claim_until_ms < " NOW_MS ")"
#define HOLD_LOCK 1885825124       /* 0x70676864, "pghd": a digest group's lock class */

/* Queued deliveries that are due, and those being sent whose node's
 * lease ran out. */
static const char claim_due[] =
	"UPDATE deliveries d" CLAIM_SET
	" FROM (SELECT id FROM deliveries"
	"  WHERE ((state = 'queued' AND next_try_ms <= " NOW_MS ")"
	"   OR state = 'sending') AND " UNCLAIMED
	"  AND channel = ANY($3::text[])"
	"  ORDER BY priority, next_try_ms, id LIMIT $4::int"
	"  FOR UPDATE SKIP LOCKED) due"
	" WHERE d.id = due.id" CLAIMED;

/* Held deliveries released (due), a recipient's whole at once: one group
 * per client, contact, address, channel and gateway - what one digest
 * gathers - taken by one node.  A group is claimed under a
 * transaction-level advisory lock on its hash, so that another node's
 * claim running beside this one skips the whole group, and a row claimed
 * meanwhile fails the re-check of UNCLAIMED.  Groups are taken oldest
 * first while they fit in $4 rows (the first always: one bigger than that
 * goes out in parts). */
static const char claim_held[] =
	"WITH due AS (SELECT d.id, hashtext(m.client_id || chr(31) ||"
	"  coalesce(d.contact_id, '') || chr(31) || d.address || chr(31) ||"
	"  d.channel || chr(31) || coalesce(d.gateway, '')) AS g"
	"  FROM deliveries d JOIN messages m ON m.id = d.message_id"
	"  WHERE d.state = 'held' AND d.next_try_ms <= " NOW_MS
	"  AND (d.claim_until_ms IS NULL OR d.claim_until_ms < " NOW_MS ")"
	"  AND d.channel = ANY($3::text[])),"
	" groups AS (SELECT g, min(id) AS first, count(*) AS n FROM due GROUP BY g),"
	" ranked AS (SELECT g, n, sum(n) OVER (ORDER BY first ROWS UNBOUNDED"
	"  PRECEDING) AS upto FROM groups),"
	" mine AS (SELECT g FROM ranked WHERE (upto <= $4::int OR upto = n)"
	"  AND pg_try_advisory_xact_lock(" STR(HOLD_LOCK) ", g)),"
	" pick AS (SELECT due.id FROM due JOIN mine USING (g)"
	"  ORDER BY due.id LIMIT $4::int)"
	" UPDATE deliveries d" CLAIM_SET
	" FROM pick WHERE d.id = pick.id AND d.state = 'held' AND " UNCLAIMED
	CLAIMED;

/* Runs a claim statement, appending what it claimed to out[*n..max). */
static pg_err
claim_rows(struct pg_sb *c, const char *text, const char *const *vals,
	   size_t max, struct pg_claim *out, size_t *n)
{
	PGresult *r;
	pg_err e;

	if ((e = run(c, text, 4, vals, &r)))
		return e;
	for (int i = 0; i < PQntuples(r) && *n < max && !e; i++) {
		struct pg_claim *cl = &out[*n];

		memset(cl, 0, sizeof *cl);
		cl->did = pgsql__int(r, i, 0);
		cl->mid = pgsql__int(r, i, 1);
		cl->token = pgsql__int(r, i, 2);
		cl->next_try_ms = pgsql__int(r, i, 3);
		cl->lease_until_ms = pgsql__int(r, i, 4);
		cl->priority = (int)pgsql__int(r, i, 7);
		if (pg_channel_parse(PQgetvalue(r, i, 5), &cl->channel) ||
		    pg_dstate_parse(PQgetvalue(r, i, 6), &cl->state)) {
			pg_error("store: delivery %lld: unknown channel or state",
				 (long long)cl->did);
			e = PG_ERR_STORE;
		} else {
			(*n)++;
		}
	}
	PQclear(r);
	return e;
}

pg_err
pgsql__claim(struct pg_sb *c, const char *node, unsigned channels,
	     int64_t lease_ms, size_t max, struct pg_claim *out, size_t *n)
{
	char lease[24], lim[24], chs[256];
	const char *vals[4] = { node, lease, chs, lim };
	pg_err e;

	*n = 0;
	if (!node || !*node || lease_ms <= 0 || max == 0 || max > INT32_MAX)
		return PG_ERR_INVAL;
	if ((e = channels_array(channels, chs, sizeof chs)))
		return e;
	snprintf(lease, sizeof lease, "%lld", (long long)lease_ms);
	snprintf(lim, sizeof lim, "%zu", max);
	if ((e = pgsql__begin(c)) || (e = pgsql__commit(c)))   /* reconnects */
		return e;
	if ((e = claim_rows(c, claim_due, vals, max, out, n)) || *n == max)
		return e;
	snprintf(lim, sizeof lim, "%zu", max - *n);
	return claim_rows(c, claim_held, vals, max, out, n);
}

pg_err
pgsql__renew(struct pg_sb *c, const char *node, const int64_t *tokens,
	     size_t n, int64_t lease_ms, size_t *kept)
{
	static const char text[] =
		"UPDATE deliveries SET claim_until_ms = " NOW_MS " + $2::bigint"
		" WHERE claim_owner = $1 AND claim_token = ANY($3::bigint[])";
	char lease[24], *arr;
	const char *vals[3];
	size_t o = 0;
	PGresult *r;
	pg_err e;

	*kept = 0;
	if (!node || lease_ms <= 0 || n > MAX_TOKENS)
		return PG_ERR_INVAL;
	if (n == 0)
		return PG_OK;
	if ((arr = malloc(n * 22 + 3)) == NULL)
		return PG_ERR_NOMEM;
	arr[o++] = '{';
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(arr + o, "%s%lld", i ? "," : "",
				     (long long)tokens[i]);
	arr[o++] = '}';
	arr[o] = '\0';
	snprintf(lease, sizeof lease, "%lld", (long long)lease_ms);
	vals[0] = node;
	vals[1] = lease;
	vals[2] = arr;
	if (!(e = pgsql__begin(c)) && !(e = pgsql__commit(c)) &&
	    !(e = run(c, text, 3, vals, &r))) {
		*kept = (size_t)atol(PQcmdTuples(r));
		PQclear(r);
	}
	free(arr);
	return e;
}

pg_err
pgsql__claim_check(struct pg_sb *c, int64_t did, int64_t token, bool release,
		   bool *holds)
{
	/* a lease that ran out still holds until another node claims the
	 * row: that claim gives it a new token */
	static const char lock[] = "SELECT coalesce(claim_token = $2::bigint, false)"
		" FROM deliveries WHERE id = $1::bigint FOR UPDATE";
	static const char clear[] = "UPDATE deliveries SET claim_owner = NULL,"
		" claim_token = NULL, claim_until_ms = NULL WHERE id = $1::bigint";
	char a[24], b[24];
	const char *vals[2] = { a, b };
	PGresult *r;
	pg_err e;

	*holds = false;
	snprintf(a, sizeof a, "%lld", (long long)did);
	snprintf(b, sizeof b, "%lld", (long long)token);
	if ((e = pgsql__flush(c)) || (e = run(c, lock, 2, vals, &r)))
		return e;
	if (PQntuples(r) == 0)
		e = PG_ERR_NOTFOUND;
	else
		*holds = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!e && *holds && release && !(e = run(c, clear, 1, vals, &r)))
		PQclear(r);
	return e;
}

pg_err
pgsql__next_due(struct pg_sb *c, unsigned channels, int64_t *ms)
{
	static const char text[] =
		"SELECT min(CASE WHEN state = 'sending'"
		"  THEN claim_until_ms ELSE greatest(next_try_ms,"
		"  coalesce(claim_until_ms, 0)) END) - " NOW_MS
		" FROM deliveries WHERE state IN ('queued', 'held', 'sending')"
		" AND channel = ANY($1::text[])";
	char chs[256];
	const char *vals[1] = { chs };
	PGresult *r;
	pg_err e;

	*ms = -1;
	if ((e = channels_array(channels, chs, sizeof chs)))
		return e;
	if ((e = pgsql__begin(c)) || (e = pgsql__commit(c)) ||
	    (e = run(c, text, 1, vals, &r)))
		return e;
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		*ms = pgsql__int(r, 0, 0);
		*ms = *ms < 0 ? 0 : *ms;
	}
	PQclear(r);
	return PG_OK;
}

pg_err
pgsql__coordinator(struct pg_sb *c, bool *held)
{
	char text[96];
	PGresult *r;
	pg_err e;

	*held = false;
	if ((e = pgsql__begin(c)) || (e = pgsql__commit(c)))   /* reconnects */
		return e;
	if (c->coordinator) {
		*held = true;
		return PG_OK;
	}
	snprintf(text, sizeof text, "SELECT pg_try_advisory_lock(%d, %d)",
		 0x70676774 + 2, c->lock_key);
	if ((e = run(c, text, 0, NULL, &r)))
		return e;
	c->coordinator = *held = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (*held)
		pg_info("store: this node is now the store's coordinator");
	return PG_OK;
}

pg_err
pgsql__esc_due(struct pg_sb *c, size_t max, int64_t *mids, size_t *n,
	       int64_t *now_ms)
{
	PGresult *r;
	pg_err e;

	*n = 0;
	if (max == 0 || max > INT32_MAX)
		return PG_ERR_INVAL;
	if ((e = pgsql__run(c, PQ_ESC_DUE, &r, "i", (int64_t)max)))
		return e;
	for (int i = 0; i < PQntuples(r) && (size_t)i < max; i++) {
		mids[i] = pgsql__int(r, i, 0);
		*now_ms = pgsql__int(r, i, 1);
		(*n)++;
	}
	PQclear(r);
	return PG_OK;
}

pg_err
pgsql__clock(struct pg_sb *c, int64_t *ms)
{
	return pgsql__scalar(c, PQ_CLOCK, ms);
}

pg_err
pgsql__lock_message(struct pg_sb *c, int64_t mid)
{
	PGresult *r;
	pg_err e;

	if ((e = pgsql__run(c, PQ_LOCK_MSG, &r, "i", mid)))
		return e;
	e = PQntuples(r) == 1 ? PG_OK : PG_ERR_NOTFOUND;
	PQclear(r);
	return e;
}
