/*
 * store_room.c - the store's room (store_priv.h): the cap, the reserve
 * above it, a full disk.  What was promised - the attempts, outcomes,
 * acknowledgements and ledger of messages already answered 201 - must
 * still be recorded when there is no room for new messages:
 *
 * - at store.max_mb, op_submit refuses new messages; every other write
 *   goes on in a reserve above the cap, up to the backend's hard limit;
 * - on a full disk, the room the backend set aside on it at open (as much
 *   as the reserve, at most SPARE_MAX) is given back, for the same
 *   writes, and new messages are refused until it can be set aside again;
 * - past both, every write is refused; the callers keep theirs and retry.
 *
 * Each change of state is logged once - the cap reached and cleared, a
 * spell without room begun and over, the disk full and with room again -
 * never once per write, and /metrics shows the state (pg_store_stats).
 * Everything here runs in the writer thread under st->mu.
 */
#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_priv.h"

#define MB STORE_MB
/* A spell without room ends (and is logged as over) once writes succeed
 * and none failed for room during this long, so that a store at its
 * limit, where small writes fit and large ones do not, logs one spell and
 * not one per write.  The room given back on a full disk is tried again
 * as often. */
#define ROOM_QUIET_MS 10000
/* The room set aside on the disk: as much as the reserve (16 MB without a
 * cap), at most this - at a few hundred bytes to a few kB per attempt
 * recorded, hours of deliveries while someone frees the disk. */
#define SPARE_MAX (256 * MB)

int64_t
pg_store_reserve_mb(int64_t max_mb)
{
	int64_t r = max_mb / PG_STORE_RESERVE_DIV;

	if (max_mb <= 0)
		return 0;
	return r > PG_STORE_RESERVE_MIN_MB ? r : PG_STORE_RESERVE_MIN_MB;
}

void
store__room_open(struct pg_store *st, int64_t used)
{
	pg_err e;

	if (st->cap > 0 && used >= st->cap) {
		st->stats.at_cap = true;
		pg_warn("store: already at its cap of %lld MB (store.max_mb): "
			"new messages are refused (503 store_full) until it has "
			"room; deliveries of messages already taken go on",
			(long long)(st->cap / MB));
	}
	st->spare = (st->cap > 0 ? st->limit - st->cap :
		     PG_STORE_RESERVE_MIN_MB * MB);
	if (st->spare > SPARE_MAX)
		st->spare = SPARE_MAX;
	e = st->be->spare(st->w, st->spare);
	st->spare_held = e == PG_OK;
	if (e == PG_ERR_NOTFOUND)
		st->spare = 0;                 /* this backend sets none aside */
	else if (e)
		pg_warn("store: cannot set %lld MB aside on the disk for when it "
			"fills (%s): a full disk will stop deliveries too",
			(long long)(st->spare / MB),
			e == PG_ERR_FULL ? "less than twice that is free" :
			pg_strerror(e));
}

/* Why a write found no room: the reserve is used up when the store is
 * within a megabyte of its limit, else the disk (or the database
 * server) is full.  Sets *disk for the latter. */
static const char *
no_room_why(struct pg_store *st, bool *disk)
{
	int64_t used = 0;

	*disk = !(st->limit > 0 && st->be->used(st->w, &used) == PG_OK &&
		  used + MB >= st->limit);
	return *disk ? "the disk is full" : "its reserve above the cap is used up";
}

/* A logged spell without room is over, and said so, once writes succeed
 * (no_room cleared) and ROOM_QUIET_MS have passed since the last
 * refusal. */
static void
room_over(struct pg_store *st, int64_t now)
{
	if (!st->full_logged || st->stats.no_room ||
	    now - st->full_at < ROOM_QUIET_MS)
		return;
	st->full_logged = false;
	pg_info("store: writes succeed again%s (%llu writes of accepted "
		"messages and %llu new messages were refused so far)",
		st->stats.disk_full ? ", in the room set aside; new messages "
		"stay refused until the disk has room" : ": has room again",
		(unsigned long long)st->stats.full_writes,
		(unsigned long long)st->stats.refused);
}

/* After the room set aside was given back: every ROOM_QUIET_MS, tries to
 * set it aside again; once it is, new messages are taken again. */
static void
spare_again(struct pg_store *st, int64_t now)
{
	if (!st->stats.disk_full || now - st->spare_try_at < ROOM_QUIET_MS)
		return;
	st->spare_try_at = now;
	if (st->be->spare(st->w, st->spare) != PG_OK)
		return;
	st->spare_held = true;
	st->stats.disk_full = false;
	pg_info("store: the disk has room again: %lld MB set aside again for "
		"when it fills; new messages are taken", (long long)(st->spare / MB));
}

/* A write failed for room: the spell begins (logged once); on a full
 * disk the room set aside is given back. */
static void
no_room(struct pg_store *st, int64_t now)
{
	bool disk, gave = false;
	const char *why = no_room_why(st, &disk);

	st->full_at = now;
	st->stats.no_room = true;
	if (disk && st->spare_held && st->be->spare(st->w, 0) == PG_OK) {
		st->spare_held = false;
		st->stats.disk_full = gave = true;
		st->spare_try_at = now;
	}
	if (!st->full_logged) {
		st->full_logged = true;
		if (gave)
			pg_error("store: no room to write: %s; gave back the %lld MB "
				 "set aside for it, for the writes about messages "
				 "already taken; new messages are refused (503 "
				 "store_full) until the disk has room", why,
				 (long long)(st->spare / MB));
		else
			pg_error("store: no room to write: %s; new messages are "
				 "refused (503 store_full), writes about messages "
				 "already taken are kept in memory and retried "
				 "until there is room", why);
	} else if (gave) {
		pg_error("store: %s: gave back the %lld MB set aside for it",
			 why, (long long)(st->spare / MB));
	}
}

void
store__room_note(struct pg_store *st, struct store_op *batch)
{
	struct pg_store_stats *x = &st->stats;
	bool full = false, wrote = false;
	int cap = 0;
	int64_t now = pg_mono_ms();

	for (struct store_op *op = batch; op; op = op->next) {
		bool submit = op->kind == OP_SUBMIT;

		if (submit && (op->u.submit.room == 1 || op->u.submit.room == -1))
			cap = op->u.submit.room;         /* the latest check */
		if (op->err == PG_OK) {
			wrote = true;
			continue;
		}
		if (op->err != PG_ERR_FULL)
			continue;
		if (submit)
			x->refused++;
		else
			x->full_writes++;
		if (!submit || op->u.submit.room >= 0)
			full = true;     /* not a refusal: the write itself failed */
	}
	if (cap < 0 && !x->at_cap) {
		x->at_cap = true;
		pg_warn("store: reached its cap of %lld MB (store.max_mb): new "
			"messages are refused (503 store_full) until it has room; "
			"deliveries, acknowledgements and the ledger of messages "
			"already taken go on in a reserve of %lld MB",
			(long long)(st->cap / MB),
			(long long)((st->limit - st->cap) / MB));
	} else if (cap > 0 && x->at_cap) {
		x->at_cap = false;
		pg_info("store: below its cap again: new messages are taken");
	}
	if (full) {
		no_room(st, now);
	} else if (wrote) {
		x->no_room = false;
		room_over(st, now);
	}
	spare_again(st, now);
}

int64_t
store__room_idle(struct pg_store *st)
{
	int64_t now = pg_mono_ms(), wait = -1, w;

	room_over(st, now);
	spare_again(st, now);
	if (st->full_logged && !st->stats.no_room)
		wait = st->full_at + ROOM_QUIET_MS - now;
	if (st->stats.disk_full) {
		w = st->spare_try_at + ROOM_QUIET_MS - now;
		if (wait == -1 || w < wait)
			wait = w;
	}
	return wait < 0 ? -1 : wait > 0 ? wait : 1;
}
