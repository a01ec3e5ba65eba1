/*
 * store.c - the store's front end (store.h): picks the backend from the
 * dsn, opens and closes the store, validates the callers' input to the
 * writes and runs the single writer thread with group commit.  What each
 * write does - rows, ledger, message state, crash recovery,
 * acknowledgements, receipts - is store_ledger.c; the reads and the
 * reader pool are store_read.c; a backend (store_backend.h) only stores
 * and fetches rows.
 *
 * Group commit: a caller puts its operation on the queue and sleeps until
 * the writer has committed the transaction that holds it.  The writer
 * takes every operation waiting, runs each inside a savepoint of one write
 * transaction (a failing one - an event about an unknown message, an
 * attempt already finished - is rolled back alone), commits once - one
 * fsync for all - and wakes everybody with their own result.  If the
 * transaction itself fails (disk or store full, I/O error, read-only file;
 * SQLite abandons the whole transaction on some of these) it is rolled
 * back and every operation of the batch gets the error: nothing of it is
 * stored, nothing older is touched, and the next batch tries again.  A
 * server's COMMIT whose answer was lost with the connection is the one
 * exception: the batch is in doubt, its callers wait while the backend
 * asks the server what became of it (settle_doubt).
 *
 * Room: with store.max_mb, a new message is refused once the store holds
 * max_mb (op_submit asks the backend's used); everything else may use a
 * reserve above it, up to the backend's hard limit.  On a full disk the
 * room the backend set aside is given back for the same writes.  After
 * each batch store_room.c moves the room state that /metrics shows and
 * logs each change once: a full store or disk is one line, not one per
 * write.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_priv.h"

#define DETAIL_MAX  65536    /* ledger detail text */
#define TEXT_MAX    65536    /* an inbound reply, a report, a name */
#define MB          STORE_MB

/* The backends built in, as curl's protocols[]: a backend is one line. */
static const struct pg_store_backend *const backends[] = {
	&pg_store_sqlite, &pg_store_postgresql
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

/* Errors that mean the store itself is unwell rather than one operation's
 * input. */
static bool
fatal(pg_err e)
{
	return e == PG_ERR_FULL || e == PG_ERR_IO || e == PG_ERR_STORE ||
	    e == PG_ERR_NOMEM;
}

/* What became of a batch: committed, failed (nothing of it stored), or
 * in doubt - its COMMIT went out and the answer was lost with the
 * connection (a database server's crash), so that the server may have
 * made it durable all the same. */
enum batch_end { BATCH_COMMITTED, BATCH_FAILED, BATCH_DOUBT };

/* Ends every operation of a batch that did not commit with error bad. */
static void
batch_failed(struct pg_store *st, struct store_op *batch, pg_err bad)
{
	for (struct store_op *op = batch; op; op = op->next) {
		store__unwind(op);
		op->err = bad;
	}
	st->seen.n = 0;                       /* nothing of it happened */
}

/* Runs one group commit over the list of operations. */
static enum batch_end
run_batch(struct pg_store *st, struct store_op *batch, uint64_t *writes)
{
	const struct pg_store_backend *be = st->be;
	struct pg_buf b;
	struct store_op *op;
	pg_err e, bad;

	*writes = 0;
	st->seen.n = 0;
	pg_buf_init(&b, DETAIL_MAX);
	bad = be->begin(st->w);
	for (op = batch; op && !bad; op = op->next) {
		if ((bad = be->savepoint(st->w)))
			break;
		op->writes = 0;
		op->seen = st->observer ? &st->seen : NULL;
		op->seen_from = st->seen.n;
		op->db_clock = st->node != NULL;
		if (op->kind == OP_SUBMIT)      /* the room set aside is in use */
			op->u.submit.no_disk = st->stats.disk_full;
		op->err = store__apply(st->be, st->w, op, &b);
		pg_buf_reset(&b);
		if (op->err == PG_OK) {
			if ((bad = be->release(st->w)))
				break;
			*writes += op->writes;
			continue;
		}
		store__unwind(op);
		st->seen.n = op->seen_from;   /* its touches were undone too */
		/* Undo this operation alone; when the database has already
		 * dropped the whole transaction, the batch is lost. */
		if ((e = be->rollback_savepoint(st->w)))
			bad = fatal(op->err) ? op->err : e;
	}
	if (!bad)                   /* other nodes hear of it at COMMIT */
		store__notify_batch(st, batch);
	if (!bad)
		bad = be->commit(st->w);
	pg_buf_free(&b);
	if (!bad)
		return BATCH_COMMITTED;
	if (bad == PG_ERR_IO && be->outcome) {   /* lost under the COMMIT? */
		if ((e = be->outcome(st->w)) == PG_OK)
			return BATCH_COMMITTED;
		if (e == PG_ERR_IO)
			return BATCH_DOUBT;       /* the writer asks again */
	}
	if (bad != PG_ERR_FULL)   /* no room: note_room logs the spell once */
		pg_warn("store: group commit of %s failed: %s; nothing of it is "
			"stored", batch->next ? "several writes" : "one write",
			pg_strerror(bad));
	if (be->rollback(st->w))
		pg_debug("store: rollback after failure: already rolled back");
	batch_failed(st, batch, bad);
	*writes = 0;
	return BATCH_FAILED;
}

/* Ends a batch: on commit tells the observer what it touched (before
 * anyone is woken) and counts it; wakes its callers.  mu not held. */
static void
batch_done(struct pg_store *st, struct store_op *batch, bool committed,
	   uint64_t writes)
{
	struct store_op *op, *next;

	for (size_t i = 0; committed && i < st->seen.n; i++)
		st->observer(st->observer_arg, st->seen.v[i].mid,
			     st->seen.v[i].change);
	pthread_mutex_lock(&st->mu);
	if (committed && writes > 0) {
		st->stats.commits++;
		st->stats.writes += writes;
	}
	store__room_note(st, batch);
	for (op = batch; op; op = next) {
		next = op->next;     /* op may vanish once done and mu free */
		op->done = true;
		pthread_cond_signal(op->wake);   /* its caller alone */
	}
	pthread_mutex_unlock(&st->mu);
}

#define DOUBT_RETRY_MS 250      /* how often a batch in doubt asks again */
#define DOUBT_MAX_MS   30000    /* and how long its callers wait at most */

/* A batch in doubt waits here, its callers with it, until the database
 * says what became of it; meanwhile nothing else is written (the
 * database is unreachable: later batches fail at once, unrun).  Returns
 * true once settled.  Still unknown when the store closes (last) or
 * after DOUBT_MAX_MS, it is answered as not stored: whatever of it the
 * database kept is found again at the next start. */
static bool
settle_doubt(struct pg_store *st, bool last)
{
	pg_err e = st->be->outcome(st->w);

	if (e == PG_ERR_IO && !last &&
	    pg_mono_ms() - st->doubt_since < DOUBT_MAX_MS)
		return false;
	if (e == PG_ERR_IO)
		pg_error("store: the outcome of a COMMIT is still unknown %s: "
			 "its callers are told it failed; whatever of it the "
			 "database kept is taken up again at the next start",
			 last ? "as the store closes" : "after 30 s");
	if (e != PG_OK) {
		st->be->rollback(st->w);
		batch_failed(st, st->doubt, PG_ERR_IO);
	}
	batch_done(st, st->doubt, e == PG_OK, e == PG_OK ? st->doubt_writes : 0);
	st->doubt = NULL;
	return true;
}

static void *
writer_main(void *arg)
{
	struct pg_store *st = arg;
	struct store_op *batch;
	uint64_t writes;
	enum batch_end end;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (st->head == NULL && !st->stopping) {
			int64_t ms = store__room_idle(st);

			if (st->doubt && (ms < 0 || ms > DOUBT_RETRY_MS))
				ms = DOUBT_RETRY_MS;
			if (ms < 0)
				pthread_cond_wait(&st->work, &st->mu);
			else  /* the room state may change while idle */
				pg_cond_wait_ms(&st->work, &st->mu, ms);
			if (st->doubt && st->head == NULL) {
				pthread_mutex_unlock(&st->mu);
				settle_doubt(st, false);
				pthread_mutex_lock(&st->mu);
			}
		}
		if (st->head == NULL)
			break;
		batch = st->head;
		st->head = st->tail = NULL;
		pthread_mutex_unlock(&st->mu);

		if (st->doubt && !settle_doubt(st, false)) {
			batch_failed(st, batch, PG_ERR_IO);    /* unrun */
			batch_done(st, batch, false, 0);
			pthread_mutex_lock(&st->mu);
			continue;
		}
		end = run_batch(st, batch, &writes);
		if (end == BATCH_DOUBT) {
			st->doubt = batch;            /* its callers wait on */
			st->doubt_since = pg_mono_ms();
			st->doubt_writes = writes;
		} else {
			batch_done(st, batch, end == BATCH_COMMITTED, writes);
		}
		pthread_mutex_lock(&st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	if (st->doubt)
		settle_doubt(st, true);
	return NULL;
}

pg_err
store__write(struct pg_store *st, struct store_op *op)
{
	pthread_cond_t wake = PTHREAD_COND_INITIALIZER;

	op->next = NULL;
	op->done = false;
	op->err = PG_OK;
	op->wake = &wake;
	pthread_mutex_lock(&st->mu);
	if (st->stopping) {
		pthread_mutex_unlock(&st->mu);
		return PG_ERR_SHUTDOWN;
	}
	if (st->tail)
		st->tail->next = op;
	else
		st->head = op;
	st->tail = op;
	pthread_cond_signal(&st->work);
	while (!op->done)
		pthread_cond_wait(&wake, &st->mu);
	pthread_mutex_unlock(&st->mu);
	pthread_cond_destroy(&wake);
	return op->err;
}

/* store__write for the n operations ops[0..n) at once: they join the
 * queue together, so that one group commit holds them all (each in its
 * own savepoint, with its own result in ops[i].err).  Returns when every
 * one is done: PG_ERR_SHUTDOWN for all when the store is stopping. */
void
store__write_many(struct pg_store *st, struct store_op *ops, size_t n)
{
	pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		ops[i].next = i + 1 < n ? &ops[i + 1] : NULL;
		ops[i].done = false;
		ops[i].err = PG_OK;
		ops[i].wake = &wake;
	}
	pthread_mutex_lock(&st->mu);
	if (st->stopping) {
		pthread_mutex_unlock(&st->mu);
		for (i = 0; i < n; i++)
			ops[i].err = PG_ERR_SHUTDOWN;
		return;
	}
	if (st->tail)
		st->tail->next = &ops[0];
	else
		st->head = &ops[0];
	st->tail = &ops[n - 1];
	pthread_cond_signal(&st->work);
	for (i = 0; i < n; i++)
		while (!ops[i].done)
			pthread_cond_wait(&wake, &st->mu);
	pthread_mutex_unlock(&st->mu);
	pthread_cond_destroy(&wake);
}

/* ---- open, close ---- */

/* The length of dsn's scheme: "sqlite" of "sqlite:x", "postgresql" of
 * "postgresql://h/db" (a letter, then letters, digits, "+-.", then ':'),
 * or 0 when dsn is a file path ("var/pagegate.db", "/tmp/x:y"). */
static size_t
scheme_len(const char *dsn)
{
	size_t n = strspn(dsn, "abcdefghijklmnopqrstuvwxyz"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

	return n >= 2 && isalpha((unsigned char)dsn[0]) && dsn[n] == ':' ? n : 0;
}

const struct pg_store_backend *
store__backend_for(const char *dsn, const char **target)
{
	char names[128] = "";
	size_t n = scheme_len(dsn);

	*target = dsn;
	if (n == 0)
		return &pg_store_sqlite;       /* a plain file path */
	for (size_t i = 0; i < N_BACKENDS; i++) {
		if (strlen(backends[i]->name) != n ||
		    strncmp(dsn, backends[i]->name, n) != 0)
			continue;
		*target = dsn + n + 1;
		if (**target)
			return backends[i];
		pg_error("store: the dsn \"%s:\" names no store after its "
			 "scheme", backends[i]->name);
		return NULL;
	}
	/* Only the scheme: the rest of a dsn may hold a password. */
	for (size_t i = 0; i < N_BACKENDS; i++)
		snprintf(names + strlen(names), sizeof names - strlen(names),
			 "%s%s", i ? ", " : "", backends[i]->name);
	pg_error("store: no backend for dsn scheme \"%.*s\" (built in: %s)",
		 (int)(n > 64 ? 64 : n), dsn, names);
	return NULL;
}

void
pg_store_close(struct pg_store *st)
{
	if (st == NULL)
		return;
	store__listen_stop(st);          /* it hands events to the observer */
	if (st->running) {
		pthread_mutex_lock(&st->mu);
		st->stopping = true;
		pthread_cond_signal(&st->work);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->thread, NULL);
	}
	/* Readers first: the last connection to close checkpoints the WAL. */
	if (st->be)
		store__readers_close(st);
	if (st->w)
		st->be->close(st->w);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->work);
	pthread_mutex_destroy(&st->rmu);
	pthread_cond_destroy(&st->rfree);
	store__node_close(st);
	pthread_mutex_destroy(&st->hmu);
	free(st->target);
	free(st->seen.v);
	free(st);
}

void
pg_store_observe(struct pg_store *st, void (*fn)(void *arg, int64_t mid,
						 const char *change), void *arg)
{
	pthread_mutex_lock(&st->mu);
	st->observer = fn;
	st->observer_arg = arg;
	pthread_mutex_unlock(&st->mu);
}

pg_err
pg_store_open(const char *dsn, int64_t max_mb, struct pg_store **out)
{
	return pg_store_open_node(dsn, max_mb, NULL, out);
}

pg_err
pg_store_open_node(const char *dsn, int64_t max_mb, const char *node,
		   struct pg_store **out)
{
	struct pg_store *st;
	const char *target;
	int version = 0;
	int64_t used = 0;
	pg_err e;

	*out = NULL;
	if (dsn == NULL || *dsn == '\0' || max_mb < 0 ||
	    max_mb > INT64_MAX / MB / 2)
		return PG_ERR_INVAL;
	if ((st = calloc(1, sizeof *st)) == NULL)
		return PG_ERR_NOMEM;
	if (pthread_mutex_init(&st->mu, NULL) || pg_cond_init_mono(&st->work) ||
	    pthread_mutex_init(&st->rmu, NULL) ||
	    pthread_cond_init(&st->rfree, NULL) || pthread_mutex_init(&st->cmu, NULL) ||
	    pthread_mutex_init(&st->hmu, NULL)) {
		free(st);        /* init of these cannot fail on Linux */
		return PG_ERR_NOMEM;
	}
	if ((st->be = store__backend_for(dsn, &target)) == NULL) {
		e = PG_ERR_CONFIG;
		goto fail;
	}
	if ((st->target = strdup(target)) == NULL) {
		e = PG_ERR_NOMEM;
		goto fail;
	}
	st->cap = max_mb * MB;
	st->limit = max_mb > 0 ? (max_mb + pg_store_reserve_mb(max_mb)) * MB : 0;
	if ((e = store__node_open(st, target, node)))
		goto fail;
	if ((e = st->be->open(target, false, st->limit / MB, &st->w)) ||
	    (!node && st->be->exclusive && (e = st->be->exclusive(st->w))) ||
	    (e = st->be->schema_version(st->w, &version)) ||
	    (e = st->be->used(st->w, &used)) ||
	    (e = store__readers_open(st, target)))
		goto fail;
	store__room_open(st, used);
	if (pthread_create(&st->thread, NULL, writer_main, st) != 0) {
		pg_error("store: cannot start the writer thread");
		e = PG_ERR_NOMEM;
		goto fail;
	}
	st->running = true;
	if (max_mb > 0)
		pg_info("store: %s %s open, schema version %d, %lld MB used, "
			"new messages up to %lld MB, the rest up to %lld MB",
			st->be->name, target, version, (long long)(used / MB),
			(long long)max_mb, (long long)(st->limit / MB));
	else
		pg_info("store: %s %s open, schema version %d", st->be->name,
			target, version);
	*out = st;
	return PG_OK;
fail:
	pg_store_close(st);
	return e;
}

/* ---- writes ---- */

/* New deliveries d[0..nd) are complete and start as they may: waiting on
 * the mailbox channel, otherwise queued (or held, when may_hold). */
static bool
new_deliveries_ok(const struct pg_delivery *d, size_t nd, bool may_hold)
{
	if (nd > 0 && d == NULL)
		return false;
	for (size_t i = 0; i < nd; i++)
		if (d[i].contact_id == NULL || d[i].address == NULL ||
		    (unsigned)d[i].channel >= PG_CH__COUNT ||
		    (d[i].channel == PG_CH_MAILBOX ? d[i].state != PG_D_WAITING :
		     d[i].state != PG_D_QUEUED && !(may_hold && d[i].state == PG_D_HELD)))
			return false;
	return true;
}

pg_err
pg_store_submit(struct pg_store *st, struct pg_message *m,
		struct pg_delivery *d, size_t nd, const char *route_detail,
		bool *existing)
{
	struct store_op op = { .kind = OP_SUBMIT, .u.submit = { .m = m, .d = d,
		.nd = nd, .route = route_detail, .cap = st->cap } };
	pg_err e;

	if (existing)
		*existing = false;
	if (m == NULL || m->client_id == NULL || m->text == NULL ||
	    m->operator_name == NULL || (unsigned)m->kind >= PG_KIND__COUNT ||
	    (unsigned)m->urgency >= PG_URG__COUNT || (nd > 0 && d == NULL))
		return PG_ERR_INVAL;
	if (!new_deliveries_ok(d, nd, true))
		return PG_ERR_INVAL;
	e = store__write(st, &op);
	if (!e && op.u.submit.conflict)
		return PG_ERR_EXISTS;
	if (!e && existing)
		*existing = op.u.submit.existing;
	return e;
}

pg_err
pg_store_attempt_start(struct pg_store *st, int64_t did, int64_t at_ms,
		       int64_t *attempt_id)
{
	struct store_op op = { .kind = OP_ATTEMPT_START,
		.u.start = { .did = did, .at = at_ms } };
	pg_err e;

	if (!(e = store__write(st, &op)) && attempt_id)
		*attempt_id = op.u.start.aid;
	return e;
}

pg_err
pg_store_attempt_finish(struct pg_store *st, int64_t did, int64_t attempt_id,
			int64_t at_ms, enum pg_outcome outcome,
			const char *reply, enum pg_dstate new_state,
			int64_t next_try_ms)
{
	struct store_op op = { .kind = OP_ATTEMPT_FINISH, .u.finish = {
		.did = did, .aid = attempt_id, .at = at_ms, .next = next_try_ms,
		.outcome = outcome, .reply = reply, .state = new_state } };

	if ((unsigned)outcome >= PG_OUT__COUNT ||
	    (new_state != PG_D_QUEUED && new_state != PG_D_SENT &&
	     new_state != PG_D_DELIVERED && new_state != PG_D_FAILED))
		return PG_ERR_INVAL;
	return store__write(st, &op);
}

pg_err
pg_store_attempt_record(struct pg_store *st, struct pg_attempt_end *v, size_t nv,
			const int64_t *dids, size_t nd, int64_t at_ms,
			int64_t *aids, pg_err *errs)
{
	struct store_op *ops;
	pg_err first = PG_OK;
	size_t i, k = 0;

	if (nv + nd == 0)
		return PG_OK;
	if (!(ops = calloc(nv + nd, sizeof *ops))) {
		for (i = 0; i < nv; i++)
			v[i].err = PG_ERR_NOMEM;
		for (i = 0; i < nd; i++)
			errs[i] = PG_ERR_NOMEM;
		return PG_ERR_NOMEM;
	}
	for (i = 0; i < nv; i++) {
		v[i].err = PG_OK;
		if ((unsigned)v[i].outcome >= PG_OUT__COUNT ||
		    (v[i].state != PG_D_QUEUED && v[i].state != PG_D_SENT &&
		     v[i].state != PG_D_DELIVERED && v[i].state != PG_D_FAILED)) {
			v[i].err = PG_ERR_INVAL;
			continue;
		}
		ops[k].kind = OP_ATTEMPT_FINISH;
		ops[k].u.finish.did = v[i].did;
		ops[k].u.finish.aid = v[i].aid;
		ops[k].u.finish.at = v[i].at_ms;
		ops[k].u.finish.next = v[i].next_try_ms;
		ops[k].u.finish.outcome = v[i].outcome;
		ops[k].u.finish.reply = v[i].reply;
		ops[k].u.finish.state = v[i].state;
		k++;
	}
	for (i = 0; i < nd; i++, k++) {
		ops[k].kind = OP_ATTEMPT_START;
		ops[k].u.start.did = dids[i];
		ops[k].u.start.at = at_ms;
	}
	store__write_many(st, ops, k);
	for (i = 0, k = 0; i < nv; i++) {
		if (!v[i].err)
			v[i].err = ops[k++].err;
		if (v[i].err && !first)
			first = v[i].err;
	}
	for (i = 0; i < nd; i++, k++) {
		errs[i] = ops[k].err;
		aids[i] = ops[k].err ? 0 : ops[k].u.start.aid;
		if (errs[i] && !first)
			first = errs[i];
	}
	free(ops);
	return first;
}

pg_err
pg_store_set_state(struct pg_store *st, int64_t did, enum pg_dstate state,
		   int64_t next_try_ms, const char *event_type,
		   const char *detail)
{
	struct store_op op = { .kind = OP_SET_STATE, .u.set = { .did = did,
		.next = next_try_ms, .state = state, .detail = detail,
		.type = event_type ? event_type : pg_dstate_name(state) } };

	/* "sending" is entered only through pg_store_attempt_start. */
	if ((unsigned)state >= PG_D__COUNT || state == PG_D_SENDING)
		return PG_ERR_INVAL;
	return store__write(st, &op);
}

pg_err
pg_store_event(struct pg_store *st, int64_t mid, int64_t did,
	       const char *type, const char *detail)
{
	struct store_op op = { .kind = OP_EVENT, .u.event = { .mid = mid,
		.did = did, .type = type, .detail = detail } };

	if (type == NULL || *type == '\0')
		return PG_ERR_INVAL;
	return store__write(st, &op);
}

/* A bounded text argument from a caller (peers' texts come through). */
static bool
text_ok(const char *s, bool empty_ok)
{
	return s && (empty_ok || *s) && strnlen(s, TEXT_MAX + 1) <= TEXT_MAX;
}

pg_err
pg_store_ack(struct pg_store *st, int64_t mid, int64_t did,
	     const char *channel, const char *who, bool *already)
{
	struct store_op op = { .kind = OP_ACK, .u.ack = { .mid = mid,
		.did = did, .channel = channel, .who = who } };
	pg_err e;

	if (already)
		*already = false;
	if (mid <= 0 || did < 0 || !text_ok(channel, false) ||
	    !text_ok(who, false))
		return PG_ERR_INVAL;
	if (!(e = store__write(st, &op)) && already)
		*already = op.u.ack.already;
	return e;
}

pg_err
pg_store_esc_advance(struct pg_store *st, int64_t mid, int fired,
		     struct pg_delivery *d, size_t nd, int64_t next_ms,
		     bool exhaust, const char *detail, bool *applied)
{
	struct store_op op = { .kind = OP_ESC_ADVANCE, .u.esc = { .mid = mid,
		.next = next_ms, .fired = fired, .d = d, .nd = nd,
		.exhaust = exhaust, .detail = detail } };
	pg_err e;

	if (applied)
		*applied = false;
	if (mid <= 0 || fired < 0 || (nd > 0 && d == NULL) ||
	    !text_ok(detail, false))
		return PG_ERR_INVAL;
	if (!new_deliveries_ok(d, nd, false))
		return PG_ERR_INVAL;
	if (!(e = store__write(st, &op)) && applied)
		*applied = op.u.esc.applied;
	return e;
}

pg_err
pg_store_resend(struct pg_store *st, int64_t mid, struct pg_delivery *d, size_t nd,
		const char *detail)
{
	struct store_op op = { .kind = OP_RESEND, .u.resend = { .mid = mid, .d = d,
		.nd = nd, .detail = detail } };

	if (mid <= 0 || nd == 0 || !text_ok(detail, false) || !new_deliveries_ok(d, nd, false))
		return PG_ERR_INVAL;
	for (size_t i = 0; i < nd; i++)
		if (d[i].channel == PG_CH_MAILBOX || d[i].esc_step != 0)
			return PG_ERR_INVAL;
	return store__write(st, &op);
}

pg_err
pg_store_cancel(struct pg_store *st, int64_t mid, const char *who,
		const char *reason, size_t *n_cancelled)
{
	struct store_op op = { .kind = OP_CANCEL, .u.cancel = { .mid = mid,
		.who = who, .reason = reason } };
	pg_err e;

	if (n_cancelled)
		*n_cancelled = 0;
	if (mid <= 0 || !text_ok(who, false) || (reason && !text_ok(reason, true)))
		return PG_ERR_INVAL;
	if (!(e = store__write(st, &op)) && n_cancelled)
		*n_cancelled = op.u.cancel.n;
	return e;
}

pg_err
pg_store_esc_restart(struct pg_store *st, int64_t mid, int from,
		     const char *who, int64_t *next_ms)
{
	struct store_op op = { .kind = OP_ESC_RESTART, .u.restart = {
		.mid = mid, .from = from, .who = who } };
	pg_err e;

	if (mid <= 0 || !text_ok(who, false))
		return PG_ERR_INVAL;
	if (!(e = store__write(st, &op)) && next_ms)
		*next_ms = op.u.restart.next;
	return e;
}

pg_err
pg_store_reply(struct pg_store *st, int64_t mid, int64_t did,
	       const char *channel, const char *from, const char *text)
{
	struct store_op op = { .kind = OP_REPLY, .u.reply = { .mid = mid,
		.did = did, .channel = channel, .from = from, .text = text } };

	if (mid <= 0 || did < 0 || !text_ok(channel, false) ||
	    !text_ok(from, false) || !text_ok(text, true))
		return PG_ERR_INVAL;
	return store__write(st, &op);
}

pg_err
pg_store_receipt(struct pg_store *st, int64_t did, enum pg_dstate state,
		 const char *detail)
{
	struct store_op op = { .kind = OP_RECEIPT, .u.receipt = { .did = did,
		.state = state, .detail = detail } };

	if ((state != PG_D_DELIVERED && state != PG_D_FAILED && state != PG_D_SENT) ||
	    (detail && !text_ok(detail, true)))
		return PG_ERR_INVAL;
	return store__write(st, &op);
}

void
pg_store_stats(struct pg_store *st, struct pg_store_stats *out)
{
	pthread_mutex_lock(&st->mu);
	*out = st->stats;
	pthread_mutex_unlock(&st->mu);
}
