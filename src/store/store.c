/*
 * store.c - the store's front end (store.h): picks the backend from the
 * dsn, validates the callers' input, runs the single writer thread with
 * group commit and keeps a pool of read connections.  What each write
 * does - rows, ledger, message state, crash recovery, acknowledgements,
 * receipts - is store_ledger.c; a backend (store_backend.h) only stores
 * and fetches rows.  The one rule applied here, on the read side, is
 * which delivery an inbound sender's address matches (find_recent).
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
 * stored, nothing older is touched, and the next batch tries again.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_priv.h"

/* Read connections.  A fixed pool rather than one connection per call:
 * opening one re-reads the schema and re-prepares every statement (tens of
 * microseconds to milliseconds per HTTP GET) and costs file descriptors;
 * a pool keeps prepared statements warm and bounds descriptors and memory.
 * WAL lets all of them read beside the writer.  Reads are short, so four
 * are plenty; a caller finding them all busy waits for one. */
#define READERS 4

#define LIST_MAX    1000
#define DETAIL_MAX  65536    /* ledger detail text */
#define RECENT_MAX  1000     /* attempts looked at per inbound reply */
#define PHONE_MAX   20       /* digits of a phone number, at most */
#define PHONE_MIN   3        /* digits that make an address a number */
#define PHONE_TAIL  10       /* digits compared of two long numbers */
#define TEXT_MAX    65536    /* an inbound reply, a report, a name */
#define PG_ACK_REF_CAP 12    /* sizeof pg_message.ack_ref */

static const struct pg_store_backend *const backends[] = { &pg_store_sqlite };


struct pg_store {
	const struct pg_store_backend *be;
	struct pg_sb *w;             /* used by the writer thread only */
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;          /* guards everything below */
	pthread_cond_t work;         /* the writer waits for operations */
	pthread_cond_t done;         /* callers wait for their operation */
	struct store_op *head, *tail;
	bool stopping;
	struct pg_store_stats stats;

	pthread_mutex_t rmu;         /* guards the reader pool */
	pthread_cond_t rfree;
	struct pg_sb *readers[READERS];
	struct pg_sb *idle[READERS];
	size_t n_idle;
};

/* Errors that mean the store itself is unwell rather than one operation's
 * input. */
static bool
fatal(pg_err e)
{
	return e == PG_ERR_FULL || e == PG_ERR_IO || e == PG_ERR_STORE ||
	    e == PG_ERR_NOMEM;
}

/* Runs one group commit over the list of operations. */
static void
run_batch(struct pg_store *st, struct store_op *batch, uint64_t *writes,
	  bool *committed)
{
	const struct pg_store_backend *be = st->be;
	struct pg_buf b;
	struct store_op *op;
	pg_err e, bad = PG_OK;

	*writes = 0;
	*committed = false;
	pg_buf_init(&b, DETAIL_MAX);
	if ((bad = be->begin(st->w)))
		goto fail;
	for (op = batch; op; op = op->next) {
		if ((bad = be->savepoint(st->w)))
			break;
		op->writes = 0;
		op->err = store__apply(st->be, st->w, op, &b);
		pg_buf_reset(&b);
		if (op->err == PG_OK) {
			if ((bad = be->release(st->w)))
				break;
			*writes += op->writes;
			continue;
		}
		store__unwind(op);
		/* Undo this operation alone; when the database has already
		 * dropped the whole transaction, the batch is lost. */
		if ((e = be->rollback_savepoint(st->w))) {
			bad = fatal(op->err) ? op->err : e;
			break;
		}
	}
	if (!bad && !(bad = be->commit(st->w))) {
		*committed = true;
		pg_buf_free(&b);
		return;
	}
fail:
	pg_warn("store: group commit of %s failed: %s; nothing of it is stored",
		batch->next ? "several writes" : "one write", pg_strerror(bad));
	if (be->rollback(st->w))
		pg_debug("store: rollback after failure: already rolled back");
	for (op = batch; op; op = op->next) {
		store__unwind(op);
		op->err = bad;
	}
	*writes = 0;
	pg_buf_free(&b);
}

static void *
writer_main(void *arg)
{
	struct pg_store *st = arg;
	struct store_op *batch, *op, *next;
	uint64_t writes;
	bool committed;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (st->head == NULL && !st->stopping)
			pthread_cond_wait(&st->work, &st->mu);
		if (st->head == NULL)
			break;
		batch = st->head;
		st->head = st->tail = NULL;
		pthread_mutex_unlock(&st->mu);

		run_batch(st, batch, &writes, &committed);

		pthread_mutex_lock(&st->mu);
		if (committed && writes > 0) {
			st->stats.commits++;
			st->stats.writes += writes;
		}
		for (op = batch; op; op = next) {
			next = op->next;     /* op may vanish once done */
			op->done = true;
		}
		pthread_cond_broadcast(&st->done);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* Queues op for the writer and waits until its transaction is over. */
static pg_err
submit_op(struct pg_store *st, struct store_op *op)
{
	op->next = NULL;
	op->done = false;
	op->err = PG_OK;
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
		pthread_cond_wait(&st->done, &st->mu);
	pthread_mutex_unlock(&st->mu);
	return op->err;
}

pg_err
store__write(struct pg_store *st, struct store_op *op)
{
	return submit_op(st, op);
}

/* ---- open, close ---- */

/* "sqlite:PATH" -> that backend; "name://..." of a backend not built in
 * -> PG_ERR_CONFIG; anything else is a file path for SQLite. */
static pg_err
pick_backend(const char *dsn, const struct pg_store_backend **be,
	     const char **target)
{
	size_t n;

	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
		n = strlen(backends[i]->name);
		if (strncmp(dsn, backends[i]->name, n) == 0 && dsn[n] == ':') {
			*be = backends[i];
			*target = dsn + n + 1;
			return **target ? PG_OK : PG_ERR_CONFIG;
		}
	}
	if (strstr(dsn, "://")) {
		pg_error("store: no backend for \"%.*s\"",
			 (int)(strstr(dsn, "://") - dsn), dsn);
		return PG_ERR_CONFIG;
	}
	*be = &pg_store_sqlite;
	*target = dsn;
	return PG_OK;
}

void
pg_store_close(struct pg_store *st)
{
	if (st == NULL)
		return;
	if (st->running) {
		pthread_mutex_lock(&st->mu);
		st->stopping = true;
		pthread_cond_signal(&st->work);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->thread, NULL);
	}
	/* Readers first: the last connection to close checkpoints the WAL. */
	for (int i = 0; i < READERS; i++)
		if (st->readers[i])
			st->be->close(st->readers[i]);
	if (st->w)
		st->be->close(st->w);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->work);
	pthread_cond_destroy(&st->done);
	pthread_mutex_destroy(&st->rmu);
	pthread_cond_destroy(&st->rfree);
	free(st);
}

pg_err
pg_store_open(const char *dsn, int64_t max_mb, struct pg_store **out)
{
	struct pg_store *st;
	const char *target = "";
	int version = 0;
	pg_err e;

	*out = NULL;
	if (dsn == NULL || *dsn == '\0' || max_mb < 0)
		return PG_ERR_INVAL;
	if ((st = calloc(1, sizeof *st)) == NULL)
		return PG_ERR_NOMEM;
	if (pthread_mutex_init(&st->mu, NULL) || pthread_cond_init(&st->work, NULL) ||
	    pthread_cond_init(&st->done, NULL) || pthread_mutex_init(&st->rmu, NULL) ||
	    pthread_cond_init(&st->rfree, NULL)) {
		free(st);        /* init of these cannot fail on Linux */
		return PG_ERR_NOMEM;
	}
	st->be = &pg_store_sqlite;
	if ((e = pick_backend(dsn, &st->be, &target)) ||
	    (e = st->be->open(target, false, max_mb, &st->w)) ||
	    (e = st->be->schema_version(st->w, &version)))
		goto fail;
	for (int i = 0; i < READERS; i++) {
		if ((e = st->be->open(target, true, 0, &st->readers[i])))
			goto fail;
		st->idle[st->n_idle++] = st->readers[i];
	}
	if (pthread_create(&st->thread, NULL, writer_main, st) != 0) {
		pg_error("store: cannot start the writer thread");
		e = PG_ERR_NOMEM;
		goto fail;
	}
	st->running = true;
	pg_info("store: %s %s open, schema version %d%s", st->be->name, target,
		version, max_mb > 0 ? ", size capped" : "");
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
		.nd = nd, .route = route_detail } };
	pg_err e;

	if (existing)
		*existing = false;
	if (m == NULL || m->client_id == NULL || m->text == NULL ||
	    m->operator_name == NULL || (unsigned)m->kind >= PG_KIND__COUNT ||
	    (unsigned)m->urgency >= PG_URG__COUNT || (nd > 0 && d == NULL))
		return PG_ERR_INVAL;
	if (!new_deliveries_ok(d, nd, true))
		return PG_ERR_INVAL;
	e = submit_op(st, &op);
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

	if (!(e = submit_op(st, &op)) && attempt_id)
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
	return submit_op(st, &op);
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
	return submit_op(st, &op);
}

pg_err
pg_store_event(struct pg_store *st, int64_t mid, int64_t did,
	       const char *type, const char *detail)
{
	struct store_op op = { .kind = OP_EVENT, .u.event = { .mid = mid,
		.did = did, .type = type, .detail = detail } };

	if (type == NULL || *type == '\0')
		return PG_ERR_INVAL;
	return submit_op(st, &op);
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
	if (!(e = submit_op(st, &op)) && already)
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
	if (!(e = submit_op(st, &op)) && applied)
		*applied = op.u.esc.applied;
	return e;
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
	if (!(e = submit_op(st, &op)) && n_cancelled)
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
	if (!(e = submit_op(st, &op)) && next_ms)
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
	return submit_op(st, &op);
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
	return submit_op(st, &op);
}

void
pg_store_stats(struct pg_store *st, struct pg_store_stats *out)
{
	pthread_mutex_lock(&st->mu);
	*out = st->stats;
	pthread_mutex_unlock(&st->mu);
}

/* ---- reads ---- */

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

/* Ends a read snapshot; keeps the first error. */
static pg_err
read_end(struct pg_store *st, struct pg_sb *c, pg_err e)
{
	pg_err e2 = e ? st->be->rollback(c) : st->be->commit(c);

	reader_give(st, c);
	return e ? e : e2;
}

pg_err
store__read(struct pg_store *st,
	    pg_err (*fn)(const struct pg_store_backend *be, struct pg_sb *c,
			 void *arg), void *arg)
{
	struct pg_sb *c = reader_take(st);
	pg_err e;

	if (!(e = st->be->begin(c)))
		e = fn(st->be, c, arg);
	return read_end(st, c, e);
}

pg_err
pg_store_get_message(struct pg_store *st, int64_t id, struct pg_message_full *out)
{
	struct pg_sb *c = reader_take(st);
	pg_err e;

	memset(out, 0, sizeof *out);
	if (!(e = st->be->begin(c)))
		e = st->be->get_message(c, id, STORE_ALL, out);
	e = read_end(st, c, e);
	if (e)
		pg_message_full_free(out);
	return e;
}

pg_err
pg_store_get_msg(struct pg_store *st, int64_t id, struct pg_message *out)
{
	struct pg_sb *c = reader_take(st);
	pg_err e;

	memset(out, 0, sizeof *out);
	if (!(e = st->be->begin(c)))
		e = store__get_msg(st->be, c, id, out);
	if ((e = read_end(st, c, e)))
		pg_message_free(out);
	return e;
}

pg_err
pg_store_get_delivery(struct pg_store *st, int64_t did, struct pg_delivery *out)
{
	struct pg_sb *c = reader_take(st);
	pg_err e;

	memset(out, 0, sizeof *out);
	if (!(e = st->be->begin(c)))
		e = st->be->get_delivery(c, did, out);
	if ((e = read_end(st, c, e)))
		pg_delivery_free(out);
	return e;
}

pg_err
pg_store_list(struct pg_store *st, const struct pg_list_filter *f,
	      struct pg_message **out, size_t *n)
{
	struct pg_list_filter g = f ? *f : (struct pg_list_filter){ 0 };
	struct pg_sb *c;
	pg_err e;

	*out = NULL;
	*n = 0;
	g.limit = g.limit < 1 ? 1 : g.limit > LIST_MAX ? LIST_MAX : g.limit;
	c = reader_take(st);
	if (!(e = st->be->begin(c)))
		e = st->be->list_messages(c, &g, out, n);
	return read_end(st, c, e);
}

pg_err
pg_store_find_ack_ref(struct pg_store *st, const char *ref, int64_t *mid)
{
	struct pg_message m;
	struct pg_sb *c;
	pg_err e;

	if (ref == NULL || *ref == '\0' || strnlen(ref, PG_ACK_REF_CAP) >=
	    PG_ACK_REF_CAP)
		return PG_ERR_NOTFOUND;
	c = reader_take(st);
	if (!(e = st->be->begin(c)) &&
	    !(e = st->be->find_message(c, ref, NULL, NULL, &m)))
		*mid = m.id;
	return read_end(st, c, e);
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
	struct pg_sb *c;
	pg_err e;

	if ((unsigned)ch >= PG_CH__COUNT || !text_ok(address, false) ||
	    max_age_ms <= 0)
		return PG_ERR_INVAL;
	x.n = phone_digits(address, x.digits);
	c = reader_take(st);
	if (!(e = st->be->begin(c)))
		e = st->be->recent_deliveries(c, ch, pg_now_ms() - max_age_ms,
					      RECENT_MAX, include_acked,
					      recent_match, &x);
	if ((e = read_end(st, c, e)))
		return e;
	if (x.did == 0)
		return PG_ERR_NOTFOUND;
	if (did)
		*did = x.did;
	if (mid)
		*mid = x.mid;
	return PG_OK;
}

/* Read first; only the first use of a store creates the secret (in the
 * writer, which looks again: two first uses make one secret). */
pg_err
pg_store_secret(struct pg_store *st, unsigned char out[32])
{
	struct store_op op = { .kind = OP_SECRET, .u.secret = { out } };
	struct pg_sb *c = reader_take(st);
	size_t len = 0;
	pg_err e;

	if (!(e = st->be->begin(c)))
		e = st->be->get_setting(c, SECRET_KEY, out, SECRET_LEN, &len);
	e = read_end(st, c, e);
	if (e == PG_OK && len == SECRET_LEN)
		return PG_OK;
	if (e != PG_OK && e != PG_ERR_NOTFOUND && e != PG_ERR_TOOBIG)
		return e;
	return submit_op(st, &op);
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
	struct pg_sb *c;
	pg_err e;

	if (cb == NULL)
		return PG_ERR_INVAL;
	if ((e = submit_op(st, &op)))
		return e;
	c = reader_take(st);
	if (!(e = st->be->begin(c)))
		e = st->be->each_delivery(c, PENDING, 0, pending_one, &x);
	return read_end(st, c, e);
}

pg_err
pg_store_esc_load(struct pg_store *st,
	void (*cb)(int64_t mid, int64_t next_ms, void *arg), void *arg)
{
	struct pg_sb *c;
	pg_err e;

	if (cb == NULL)
		return PG_ERR_INVAL;
	c = reader_take(st);
	if (!(e = st->be->begin(c)))
		e = st->be->each_escalation(c, PG_ES_ACTIVE, cb, arg);
	return read_end(st, c, e);
}

pg_err
pg_store_count_unacked(struct pg_store *st, int64_t *n)
{
	struct pg_sb *c = reader_take(st);
	size_t k = 0;
	pg_err e;

	if (!(e = st->be->begin(c)))
		e = st->be->count_escalations(c, PG_ES_EXHAUSTED, &k);
	*n = (int64_t)k;
	return read_end(st, c, e);
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
