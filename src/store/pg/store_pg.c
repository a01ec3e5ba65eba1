/*
 * store_pg.c - the PostgreSQL backend of the store (store_backend.h),
 * through libpq.  The dsn is "postgresql://..." (libpq's URI) or
 * "postgresql:KEY=VALUE ..." (libpq's key-value string, e.g.
 * "postgresql:host=db1,db2 dbname=pagegate target_session_attrs=read-write"
 * to follow a failover).  An options=-csearch_path=NAME in it keeps the
 * store in schema NAME, which the writer creates when missing.
 *
 * Every session runs with synchronous_commit = on: a COMMIT has reached
 * the server's disk (and, with synchronous standbys configured, theirs)
 * when it returns.  The writer's transactions are READ COMMITTED and take
 * the store's writer lock (a transaction-level advisory lock) first, so
 * that writers of several processes take turns like SQLite's BEGIN
 * IMMEDIATE; readers run REPEATABLE READ READ ONLY snapshots.  Enums are
 * stored by name, fields as the same JSON text as SQLite's.
 *
 * Statements are prepared once per session.  Transaction control (BEGIN
 * and the writer lock, SAVEPOINT, RELEASE) is not sent on its own: it
 * waits in c->pending and goes out in one libpq pipeline with the next
 * statement, so a group commit's operation costs one round trip per
 * statement it runs rather than three.  A session the server dropped is
 * re-established at the next begin (libpq follows target_session_attrs).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pagegate/log.h"
#include "pagegate/translit.h"
#include "pagegate/util.h"
#include "store_pg_priv.h"


#define MSG_COLS "id, client_id, kind, urgency, caller_name, caller_phone, " \
	"caller_company, text, operator, idem_key, received_ms, state, " \
	"ack_ref, acked_ms, acked_by, esc_policy, esc_fired, esc_total, " \
	"esc_next_ms, esc_state"
#define DEL_COLS "id, message_id, contact_id, contact_name, channel, " \
	"address, gateway, state, priority, attempts, created_ms, " \
	"next_try_ms, expires_ms, updated_ms, last_reply, esc_step"
#define KEY_COLS "id, received_ms, state, ack_ref"
#define LIST_TAIL " ORDER BY received_ms DESC, id DESC LIMIT $2"

const char *const pgsql__sql[PQ__COUNT] = {
	[PQ_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_version",
	[PQ_SET_VERSION] = "INSERT INTO schema_version (version, applied_ms)"
		" VALUES ($1, $2)",
	/* the store's size: its schema's tables with their indexes, TOAST */
	/* the writer's transaction id, asked before COMMIT, and later what
	 * became of it when the COMMIT's answer was lost */
	[PQ_XID] = "SELECT txid_current_if_assigned()",
	[PQ_XID_STATUS] = "SELECT txid_status($1)",
	[PQ_CLOCK] = "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint",
	[PQ_SIZE] = "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)"
		" FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace ="
		" (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",

	/* ---- messages ---- */
	[PQ_INS_MSG] = "INSERT INTO messages (client_id, kind, urgency,"
		" caller_name, caller_phone, caller_company, text, fields,"
		" operator, idem_key, received_ms, state, ack_ref, esc_policy,"
		" esc_fired, esc_total, esc_next_ms, esc_state, caller_fold,"
		" idem_hash)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
		" $14, $15, $16, $17, $18, $19, $20) RETURNING id",
	[PQ_UPD_MSG_STATE] = "UPDATE messages SET state = $2 WHERE id = $1",
	[PQ_UPD_MSG_ACK] = "UPDATE messages SET acked_ms = $2, acked_by = $3"
		" WHERE id = $1",
	[PQ_UPD_MSG_ESC] = "UPDATE messages SET esc_fired = $2, esc_next_ms = $3,"
		" esc_state = $4 WHERE id = $1",
	[PQ_UPD_MSG_REF] = "UPDATE messages SET ack_ref = $2 WHERE id = $1",
	[PQ_GET_MSG] = "SELECT " MSG_COLS ", fields FROM messages WHERE id = $1",
	[PQ_MSG_DELS] = "SELECT " DEL_COLS " FROM deliveries"
		" WHERE message_id = $1 ORDER BY id",
	[PQ_MSG_ATTS] = "SELECT a.id, a.delivery_id, a.started_ms,"
		" a.finished_ms, a.outcome, a.reply FROM attempts a"
		" JOIN deliveries d ON d.id = a.delivery_id"
		" WHERE d.message_id = $1 ORDER BY a.id",
	[PQ_MSG_EVTS] = "SELECT id, message_id, delivery_id, at_ms, type,"
		" detail FROM events WHERE message_id = $1 ORDER BY id",
	[PQ_FIND_REF] = "SELECT " KEY_COLS " FROM messages WHERE ack_ref = $1",
	[PQ_FIND_IDEM] = "SELECT " KEY_COLS ", idem_hash FROM messages"
		" WHERE operator = $1 AND idem_key = $2",
	[PQ_LIST_ALL] = "SELECT " MSG_COLS " FROM messages"
		" WHERE received_ms >= $1" LIST_TAIL,
	[PQ_LIST_CLIENT] = "SELECT " MSG_COLS " FROM messages"
		" WHERE client_id = $3 AND received_ms >= $1" LIST_TAIL,
	[PQ_LIST_STATE] = "SELECT " MSG_COLS " FROM messages"
		" WHERE state = $3 AND received_ms >= $1" LIST_TAIL,
	[PQ_LIST_BOTH] = "SELECT " MSG_COLS " FROM messages"
		" WHERE client_id = $3 AND state = $4 AND received_ms >= $1"
		LIST_TAIL,
	[PQ_LIST_UNACK] = "SELECT " MSG_COLS " FROM messages"
		" WHERE esc_state = $3 AND received_ms >= $1" LIST_TAIL,
	[PQ_LIST_UNACK_CLIENT] = "SELECT " MSG_COLS " FROM messages"
		" WHERE client_id = $3 AND esc_state = $4"
		" AND received_ms >= $1" LIST_TAIL,
	/* The board's search, parameter for parameter SQLite's
	 * ST_LIST_SEARCH (store_sqlite.c says what each is); the folded
	 * caller name is a column here (caller_fold, written at insert)
	 * since PostgreSQL cannot call pg_fold_case. */
	[PQ_LIST_SEARCH] = "SELECT " MSG_COLS " FROM messages m"
		" WHERE received_ms >= $1"
		" AND ($3::text IS NULL OR client_id = $3::text)"
		" AND ($4::bigint IS NULL OR received_ms < $4::bigint)"
		" AND ($5::bigint IS NULL OR id = $5::bigint)"
		" AND ($6::text IS NULL OR client_id LIKE $6::text ESCAPE '\\'"
		"  OR caller_fold LIKE $6::text ESCAPE '\\'"
		"  OR strpos(',' || $20::text || ',', ',' || client_id || ',') > 0"
		"  OR ($7::text IS NOT NULL AND"
		"  replace(replace(replace(replace(replace(replace(caller_phone,"
		"  ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''), '.', '')"
		"  LIKE $7::text))"
		" AND ($8::int = 0"
		"  OR ($8::int = 1 AND acked_ms IS NULL"
		"   AND NOT EXISTS (SELECT 1 FROM events c WHERE c.message_id = m.id"
		"    AND c.type = 'cancelled' AND c.delivery_id IS NULL"
		"    AND NOT EXISTS (SELECT 1 FROM events r WHERE r.message_id = m.id"
		"    AND r.id > c.id AND r.type IN ('escalation_restarted', 'resent')))"
		"   AND (esc_state IN ($9::text, $10::text)"
		"   OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id"
		"    AND d.state = $11::text AND NOT EXISTS (SELECT 1 FROM events r"
		"    WHERE r.message_id = m.id AND r.type = 'resent'"
		"    AND r.at_ms >= d.updated_ms))"
		"   OR ((kind = $12::text OR urgency = $13::text)"
		"   AND received_ms >= $16::bigint"
		"   AND state NOT IN ($14::text, $15::text))))"
		"  OR ($8::int = 2 AND esc_state = $9::text)"
		"  OR ($8::int = 3 AND state = $17::text)"
		"  OR ($8::int = 4 AND state = $18::text)"
		"  OR ($8::int = 5 AND EXISTS (SELECT 1 FROM deliveries d"
		"   WHERE d.message_id = m.id AND d.state = $11::text)))"
		" ORDER BY CASE WHEN $8::int = 1 THEN CASE WHEN kind = $12::text"
		"  OR urgency = $13::text THEN 0 WHEN urgency = $19::text THEN 1"
		"  ELSE 2 END END,"
		" CASE WHEN $8::int = 1 THEN received_ms END,"
		" received_ms DESC, id DESC LIMIT $2",
	[PQ_EACH_ESC] = "SELECT id, esc_next_ms FROM messages"
		" WHERE esc_state = $1 ORDER BY id",
	[PQ_COUNT_ESC] = "SELECT count(*) FROM messages WHERE esc_state = $1",

	/* ---- deliveries ---- */
	[PQ_INS_DEL] = "INSERT INTO deliveries (message_id, contact_id,"
		" contact_name, channel, address, gateway, state, priority,"
		" attempts, created_ms, next_try_ms, expires_ms, updated_ms,"
		" last_reply, esc_step) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
		" $9, $10, $11, $12, $13, $14, $15) RETURNING id",
	[PQ_UPD_DEL] = "UPDATE deliveries SET state = $2, priority = $3,"
		" attempts = $4, next_try_ms = $5, expires_ms = $6,"
		" updated_ms = $7, last_reply = $8 WHERE id = $1",
	[PQ_GET_DEL] = "SELECT " DEL_COLS " FROM deliveries WHERE id = $1",
	[PQ_EACH_DEL] = "SELECT " DEL_COLS " FROM deliveries"
		" WHERE state IN ($1, $2, $3, $4, $5, $6, $7, $8) AND id > $9"
		" ORDER BY id",
	[PQ_MAILBOX] = "SELECT " DEL_COLS " FROM deliveries"
		" WHERE state = $1 AND message_id IN"
		" (SELECT id FROM messages WHERE client_id = $2)"
		" ORDER BY created_ms, id LIMIT $3",
	[PQ_MAILBOX_CONTACT] = "SELECT " DEL_COLS " FROM deliveries"
		" WHERE state = $1 AND contact_id = $4 AND message_id IN"
		" (SELECT id FROM messages WHERE client_id = $2)"
		" ORDER BY created_ms, id LIMIT $3",
	[PQ_RECENT] = "SELECT d.id, d.message_id, d.address FROM attempts a"
		" JOIN deliveries d ON d.id = a.delivery_id"
		" JOIN messages m ON m.id = d.message_id"
		" WHERE a.started_ms >= $1 AND d.channel = $2"
		" AND d.state IN ($3, $4, $5) AND ($7::int = 1 OR m.acked_ms IS NULL)"
		" ORDER BY a.started_ms DESC, a.id DESC LIMIT $6",
	[PQ_COUNT_DSTATES] = "SELECT state, count(*) FROM deliveries"
		" WHERE message_id = $1 GROUP BY state",
	[PQ_COUNT_DEL] = "SELECT count(*) FROM deliveries WHERE state = $1",

	/* ---- attempts, events, settings ---- */
	[PQ_INS_ATT] = "INSERT INTO attempts (delivery_id, started_ms)"
		" VALUES ($1, $2) RETURNING id",
	[PQ_FIN_ATT] = "UPDATE attempts SET finished_ms = $3, outcome = $4,"
		" reply = $5 WHERE id = $2 AND delivery_id = $1"
		" AND outcome IS NULL",
	[PQ_FIN_ATTS] = "UPDATE attempts SET finished_ms = $2, outcome = $3,"
		" reply = $4 WHERE delivery_id = $1 AND outcome IS NULL",
	[PQ_INS_EVT] = "INSERT INTO events (message_id, delivery_id, at_ms,"
		" type, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id",
	[PQ_GET_SETTING] = "SELECT value FROM settings WHERE key = $1",
	[PQ_PUT_SETTING] = "INSERT INTO settings (key, value) VALUES ($1, $2)"
		" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
	[PQ_NOTIFY] = "SELECT pg_notify($1, $2)",
	[PQ_ESC_DUE] = "SELECT id, (extract(epoch from clock_timestamp()) * 1000)::bigint"
		" FROM messages WHERE esc_state = 'active' AND coalesce(acked_ms, 0) = 0"
		" AND esc_next_ms <= (extract(epoch from clock_timestamp()) * 1000)::bigint"
		" ORDER BY esc_next_ms LIMIT $1 FOR UPDATE SKIP LOCKED",
	[PQ_LOCK_MSG] = "SELECT id FROM messages WHERE id = $1 FOR UPDATE",
};


/* ---- fields as JSON (the same text as SQLite's) ---- */

/* Encodes the fields as a JSON object in their order.  A duplicate key or
 * text that is not UTF-8 gives PG_ERR_INVAL. */
static pg_err
fields_encode(const struct pg_message *m, char **out)
{
	json_t *o = json_object(), *v;
	pg_err e = PG_OK;

	if (o == NULL)
		return PG_ERR_NOMEM;
	for (size_t i = 0; !e && i < m->n_fields; i++) {
		const struct pg_kv *kv = &m->fields[i];

		if (kv->key == NULL || kv->value == NULL ||
		    json_object_get(o, kv->key) != NULL)
			e = PG_ERR_INVAL;
		else if ((v = json_string(kv->value)) == NULL ||
			 json_object_set_new(o, kv->key, v) != 0)
			e = PG_ERR_INVAL;
	}
	if (!e && (*out = json_dumps(o, JSON_COMPACT)) == NULL)
		e = PG_ERR_NOMEM;
	json_decref(o);
	return e;
}

/* ---- writes ---- */

/* The esc_state column: NULL for a message without an escalation. */
static const char *
esc_name(enum pg_esc_state s)
{
	return s != PG_ES_NONE ? pg_esc_state_name(s) : NULL;
}

static pg_err
pq_insert_message(struct pg_sb *c, struct pg_message *m)
{
	struct pg_buf fold;
	char *fields = NULL;
	const char *folded = NULL;
	pg_err e = fields_encode(m, &fields);

	pg_buf_init(&fold, 1 << 16);
	if (!e && m->caller_name) {
		e = pg_fold_case(m->caller_name, strlen(m->caller_name), &fold);
		if (e == PG_ERR_INVAL)
			e = PG_OK;               /* not UTF-8: refused below */
		else if (!e)
			folded = fold.data ? fold.data : "";
	}
	if (!e)
		e = pgsql__write(c, PQ_INS_MSG, false, &m->id, NULL,
		    "tttttttttti" "tt" "tiint" "tt",
		    m->client_id, pg_kind_name(m->kind),
		    pg_urgency_name(m->urgency), m->caller_name,
		    m->caller_phone, m->caller_company, m->text, fields,
		    m->operator_name, m->idem_key, m->received_ms,
		    pg_mstate_name(m->state), m->ack_ref[0] ? m->ack_ref : NULL,
		    m->esc_policy, (int64_t)m->esc_fired, (int64_t)m->esc_total,
		    m->esc_next_ms, m->esc_policy ? esc_name(m->esc_state) : NULL,
		    folded, m->idem_key && m->idem_hash[0] ? m->idem_hash : NULL);
	pg_buf_free(&fold);
	free(fields);
	return e;
}

/* One UPDATE per column group that cols names, each of one row. */
static pg_err
pq_update_message(struct pg_sb *c, const struct pg_message *m, unsigned cols)
{
	pg_err e = PG_OK;

	if (cols == 0 || (cols & ~(unsigned)(STORE_M_STATE | STORE_M_ACK |
					      STORE_M_ESC | STORE_M_REF)))
		return PG_ERR_INVAL;
	if (cols & STORE_M_STATE)
		e = pgsql__write(c, PQ_UPD_MSG_STATE, true, NULL, NULL, "it",
				 m->id, pg_mstate_name(m->state));
	if (!e && cols & STORE_M_ACK)
		e = pgsql__write(c, PQ_UPD_MSG_ACK, true, NULL, NULL, "int",
				 m->id, m->acked_ms, m->acked_by);
	if (!e && cols & STORE_M_ESC)
		e = pgsql__write(c, PQ_UPD_MSG_ESC, true, NULL, NULL, "iiit",
				 m->id, (int64_t)m->esc_fired, m->esc_next_ms,
				 esc_name(m->esc_state));
	if (!e && cols & STORE_M_REF)
		e = pgsql__write(c, PQ_UPD_MSG_REF, true, NULL, NULL, "it", m->id,
				 m->ack_ref[0] ? m->ack_ref : NULL);
	return e;
}

static pg_err
pq_put_setting(struct pg_sb *c, const char *key, const void *val, size_t len)
{
	return pgsql__write(c, PQ_PUT_SETTING, false, NULL, NULL, "tb", key,
			    val, len);
}

static pg_err
pq_insert_delivery(struct pg_sb *c, struct pg_delivery *d)
{
	return pgsql__write(c, PQ_INS_DEL, false, &d->id, NULL,
	    "itttttt" "iiiiiit" "n",
	    d->message_id, d->contact_id, d->contact_name,
	    pg_channel_name(d->channel), d->address, d->gateway,
	    pg_dstate_name(d->state), (int64_t)d->priority,
	    (int64_t)d->attempts, d->created_ms, d->next_try_ms, d->expires_ms,
	    d->updated_ms, d->last_reply, (int64_t)d->esc_step);
}

static pg_err
pq_update_delivery(struct pg_sb *c, const struct pg_delivery *d)
{
	return pgsql__write(c, PQ_UPD_DEL, true, NULL, NULL, "itiiiiit", d->id,
	    pg_dstate_name(d->state), (int64_t)d->priority,
	    (int64_t)d->attempts, d->next_try_ms, d->expires_ms, d->updated_ms,
	    d->last_reply);
}

static pg_err
pq_insert_attempt(struct pg_sb *c, int64_t did, int64_t started_ms, int64_t *id)
{
	return pgsql__write(c, PQ_INS_ATT, false, id, NULL, "ii", did,
			    started_ms);
}

static pg_err
pq_finish_attempt(struct pg_sb *c, int64_t did, int64_t aid, int64_t at,
		  enum pg_outcome outcome, const char *reply, size_t *n)
{
	*n = 0;
	if (aid != 0)
		return pgsql__write(c, PQ_FIN_ATT, true, NULL, n, "iiitt", did,
				    aid, at, pg_outcome_name(outcome), reply);
	return pgsql__write(c, PQ_FIN_ATTS, false, NULL, n, "iitt", did, at,
			    pg_outcome_name(outcome), reply);
}

static pg_err
pq_insert_event(struct pg_sb *c, struct pg_event *ev)
{
	return pgsql__write(c, PQ_INS_EVT, false, &ev->id, NULL, "initt",
			    ev->message_id, ev->delivery_id, ev->at_ms, ev->type,
			    ev->detail);
}

const struct pg_store_backend pg_store_postgresql = {
	.name = "postgresql",
	.open = pgsql__open,             /* libpq URI or key-value string */
	.close = pgsql__close,
	.schema_version = pgsql__version,  /* max(schema_version.version) */
	.used = pgsql__used,             /* the schema's relations, when capped */
	.spare = pgsql__spare,           /* none: the disk is the server's */
	.begin = pgsql__begin,           /* writer: READ COMMITTED + lock */
	.commit = pgsql__commit,         /* synchronous_commit = on */
	.rollback = pgsql__rollback,
	.outcome = pgsql__outcome,       /* txid_status of a lost COMMIT */
	.savepoint = pgsql__savepoint,   /* SAVEPOINT op, pipelined */
	.release = pgsql__release,       /* RELEASE SAVEPOINT op, pipelined */
	.rollback_savepoint = pgsql__rollback_savepoint,
	.insert_message = pq_insert_message,   /* fields -> JSON text */
	.update_message = pq_update_message,   /* one UPDATE per group */
	.get_message = pgsql__get_message,
	.find_message = pgsql__find_message,
	.list_messages = pgsql__list_messages,
	.each_escalation = pgsql__each_escalation,
	.count_escalations = pgsql__count_escalations,
	.insert_delivery = pq_insert_delivery,
	.update_delivery = pq_update_delivery,
	.get_delivery = pgsql__get_delivery,
	.each_delivery = pgsql__each_delivery,
	.mailbox_deliveries = pgsql__mailbox_deliveries,
	.recent_deliveries = pgsql__recent_deliveries,
	.count_dstates = pgsql__count_dstates,
	.count_deliveries = pgsql__count_deliveries,
	.insert_attempt = pq_insert_attempt,
	.finish_attempt = pq_finish_attempt,
	.insert_event = pq_insert_event,       /* delivery 0 -> NULL */
	.get_setting = pgsql__get_setting,
	.put_setting = pq_put_setting,         /* settings(key, value BYTEA) */
	.exclusive = pgsql__exclusive,   /* session advisory lock */
	.claim = pgsql__claim,           /* FOR UPDATE SKIP LOCKED, lease */
	.renew = pgsql__renew,
	.claim_check = pgsql__claim_check,   /* FOR UPDATE of the row */
	.next_due = pgsql__next_due,
	.coordinator = pgsql__coordinator,   /* session advisory lock */
	.notify = pgsql__notify,             /* pg_notify, at commit */
	.listen = pgsql__listen,             /* LISTEN on a session of its own */
	.ping = pgsql__ping,
	.esc_due = pgsql__esc_due,           /* FOR UPDATE SKIP LOCKED */
	.lock_message = pgsql__lock_message, /* FOR UPDATE */
	.clock = pgsql__clock,               /* clock_timestamp() */
};
