/*
 * store_notify.c - what several nodes tell each other through the store
 * (store.h, "several nodes"), and whether the store can be reached.
 *
 * Each committed batch of the writer that touched messages notifies
 * "pagegate_events" with the node's name and the messages touched (one
 * line "MID CHANGE" each, in as many notifications of under 8000 bytes as
 * it takes), and a batch that queued deliveries notifies "pagegate_work".
 * A listener thread, on a session of its own, hands the other nodes'
 * events to the store's observer as if they had been written here (its
 * own are skipped: the writer told the observer already) and the work
 * notices to the waker (the scheduler's feeder).  The notifications are
 * sent inside the batch's transaction, each under a savepoint: they go out
 * with its COMMIT, and one that fails costs nothing but the notice.
 * Nothing depends on them: a node still polls the store every second.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_priv.h"

#define PAYLOAD_MAX 7900       /* bytes per notification (the server's
				  limit is 8000) */
#define LISTEN_WAIT 500        /* ms: the listener checks for a stop */
#define HEALTH_TTL  1000       /* ms a reachability answer is kept */

static const char *const channels[] = { "pagegate_events", "pagegate_work",
					NULL };

/* One notification under its own savepoint; a failure only loses it. */
static void
notify_one(struct pg_store *st, const char *channel, const char *payload)
{
	const struct pg_store_backend *be = st->be;
	pg_err e;

	if (be->savepoint(st->w))
		return;
	if (!(e = be->notify(st->w, channel, payload))) {
		be->release(st->w);
		return;
	}
	pg_debug("store: notify %s failed: %s", channel, pg_strerror(e));
	be->rollback_savepoint(st->w);
}

/* Whether the committed operation put deliveries in the queue. */
static bool
queues(const struct store_op *op)
{
	return op->err == PG_OK &&
	    (op->kind == OP_SUBMIT || op->kind == OP_RESEND ||
	     op->kind == OP_ESC_ADVANCE || op->kind == OP_ESC_RESTART ||
	     op->kind == OP_RECOVER);
}

void
store__notify_batch(struct pg_store *st, const struct store_op *batch)
{
	char buf[PAYLOAD_MAX + 64];
	size_t len = 0, head;
	bool work = false;

	if (!st->node || !st->be->notify)
		return;
	for (const struct store_op *op = batch; op && !work; op = op->next)
		work = queues(op);
	if (work)
		notify_one(st, "pagegate_work", st->node);
	head = (size_t)snprintf(buf, sizeof buf, "%.64s\n", st->node);
	len = head;
	for (size_t i = 0; i < st->seen.n; i++) {
		char line[64];
		int k = snprintf(line, sizeof line, "%lld %s\n",
				 (long long)st->seen.v[i].mid, st->seen.v[i].change);

		if (k <= 0 || (size_t)k >= sizeof line)
			continue;
		if (len + (size_t)k > PAYLOAD_MAX) {
			notify_one(st, "pagegate_events", buf);
			len = head;
		}
		memcpy(buf + len, line, (size_t)k + 1);
		len += (size_t)k;
	}
	if (len > head)
		notify_one(st, "pagegate_events", buf);
}

/* One notification heard (listener thread). */
static void
heard(void *arg, const char *channel, const char *payload)
{
	struct pg_store *st = arg;
	const char *nl = strchr(payload, '\n'), *p;
	size_t nlen = strlen(st->node);

	if (strcmp(channel, "pagegate_work") == 0) {
		if (st->waker)
			st->waker(st->waker_arg);
		return;
	}
	if (strcmp(channel, "pagegate_events") != 0 || !nl)
		return;
	if ((size_t)(nl - payload) == nlen && strncmp(payload, st->node, nlen) == 0)
		return;                  /* ours: the writer told the observer */
	for (p = nl + 1; *p; ) {
		char change[24];
		long long mid;
		const char *end = strchr(p, '\n');
		int used = 0;

		if (!end)
			break;
		if (sscanf(p, "%lld %23s%n", &mid, change, &used) == 2 &&
		    mid > 0 && st->observer)
			st->observer(st->observer_arg, (int64_t)mid, change);
		p = end + 1;
	}
}

static void *
listener_main(void *arg)
{
	struct pg_store *st = arg;
	bool down = false;
	pg_err e;

	for (;;) {
		pthread_mutex_lock(&st->mu);
		bool stop = st->lstop;
		pthread_mutex_unlock(&st->mu);
		if (stop)
			break;
		e = st->be->listen(st->lc, channels, LISTEN_WAIT, heard, st);
		if (e && !down)
			pg_warn("store: listening for other nodes failed (%s); "
				"polling only until it is back", pg_strerror(e));
		else if (!e && down)
			pg_info("store: listening for other nodes again");
		down = e != PG_OK;
		if (e)
			poll(NULL, 0, LISTEN_WAIT);
	}
	return NULL;
}

pg_err
pg_store_listen(struct pg_store *st, void (*waker)(void *arg), void *arg)
{
	int rc;
	pg_err e;

	if (!st->node || !st->be->listen || st->lrunning)
		return PG_OK;
	if ((e = st->be->open(st->target, true, 0, &st->lc)))
		return e;
	st->waker = waker;
	st->waker_arg = arg;
	if ((rc = pthread_create(&st->lthread, NULL, listener_main, st)) != 0) {
		pg_error("store: cannot start the listener: %s", strerror(rc));
		return PG_ERR_NOMEM;
	}
	st->lrunning = true;
	return PG_OK;
}

void
pg_store_unlisten(struct pg_store *st)
{
	if (st && st->lrunning) {
		pthread_mutex_lock(&st->mu);
		st->lstop = true;
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->lthread, NULL);
		st->lrunning = false;
	}
}

void
store__listen_stop(struct pg_store *st)
{
	pg_store_unlisten(st);
	if (st->lc)
		st->be->close(st->lc);
	st->lc = NULL;
	if (st->hc)
		st->be->close(st->hc);
	st->hc = NULL;
}

bool
pg_store_reachable(struct pg_store *st)
{
	int64_t now = pg_mono_ms();
	bool ok;

	if (!st->be->ping)
		return true;                       /* a file: it is here */
	if (pthread_mutex_trylock(&st->hmu) != 0) {
		/* another request is asking: its answer, or the last one */
		pthread_mutex_lock(&st->mu);
		ok = st->health_ok;
		pthread_mutex_unlock(&st->mu);
		return ok;
	}
	pthread_mutex_lock(&st->mu);
	ok = st->health_ok;
	bool fresh = st->health_at && now - st->health_at < HEALTH_TTL;
	pthread_mutex_unlock(&st->mu);
	if (!fresh) {
		if (!st->hc && st->be->open(st->target, true, 0, &st->hc))
			st->hc = NULL;
		ok = st->hc && st->be->ping(st->hc) == PG_OK;
		pthread_mutex_lock(&st->mu);
		st->health_ok = ok;
		st->health_at = pg_mono_ms();
		pthread_mutex_unlock(&st->mu);
	}
	pthread_mutex_unlock(&st->hmu);
	return ok;
}
