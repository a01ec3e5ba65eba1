/*
 * sched_priv.h - shared by the scheduler's files: sched.c (workers and
 * their batches), sched_record.c (attempts and outcomes in the store),
 * sched_queue.c (the heap and ready queues), sched_digest.c (held deliveries for one recipient sent as one digest)
 * and sched_node.c (a node of several: deliveries claimed from the
 * store), the only files that include it.
 */
#ifndef PAGEGATE_SCHED_PRIV_H
#define PAGEGATE_SCHED_PRIV_H

#include <pthread.h>

#include "pagegate/channel.h"
#include "pagegate/config.h"
#include "pagegate/store.h"
#include "pagegate/util.h"

#define SCHED_BATCH_MAX 64          /* most jobs handed to one send() */
#define DETAIL_MAX      (PG_REPLY_MAX + 64)

/* An outcome the store refused after the attempt happened, to replay. */
struct finish_rec {
	int64_t aid;
	int64_t at;
	enum pg_outcome outcome;
	enum pg_dstate state;
	int64_t next;
	char reply[DETAIL_MAX];
};

/* One delivery the scheduler waits on or works on. */
struct item {
	int64_t did;
	int64_t mid;
	enum pg_channel_kind channel;
	char *gateway;               /* NULL = the channel's default */
	int prio;                    /* 0 = most urgent */
	int64_t next_try;            /* wall clock, ms */
	bool held;
	char *rcpt;                  /* held at first: "contact\naddress", for
					a digest (sched_digest.c); else NULL */
	uint64_t seq;                /* arrival order, for FIFO ties */
	struct finish_rec *pending;  /* bookkeeping still to write */
	int64_t token;               /* a node's claim on it (0: none) */
	struct item *next;           /* ready-queue link */
};

/* The scheduler: its queue under mu, its workers. */
struct pg_sched {
	struct pg_store *store;
	struct pg_live_config *live;
	struct pg_metrics *metrics;
	struct pg_channels *channels;  /* the running drivers */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	struct item **heap;          /* cap_heap >= n_items: pushes never fail */
	size_t n_heap, cap_heap, n_items;
	struct item *ready_head[PG_PRIO_LEVELS], *ready_tail[PG_PRIO_LEVELS];
	size_t n_ready[PG_PRIO_LEVELS];   /* items in each ready queue */
	int n_idle;                  /* workers waiting for work */
	bool reserve_idle;           /* the reserve worker waits for work */
	int n_yielding;              /* workers ending a batch early for
					more urgent work, not back yet */
	size_t n_waiting[2];         /* [0] queued, [1] held; heap + ready */
	uint64_t seq;
	pthread_t *threads;
	int n_threads;
	pthread_t reserve;           /* the worker kept for priority 0 */
	bool reserve_started;

	/* a node of several (sched_node.c): deliveries come from claims */
	bool claims;
	int64_t lease_ms;
	pthread_t feeder;
	bool feeder_started, poke;
	pthread_cond_t fcv;          /* wakes the feeder */
	int64_t *tokens;             /* the claims held, under mu */
	size_t n_tokens, cap_tokens;
};

/* Frees an item and what it owns (NULL is fine). */
void sched__item_free(struct item *it);

/* ---- a node of several (sched_node.c) ---- */

/* Adds delivery d to the queue, under claim token (0: none). */
pg_err sched__add(struct pg_sched *s, const struct pg_delivery *d,
		  int64_t token);
/* Queues the n deliveries d[] (claims tokens[]; NULL: none) at once,
 * under one hold of the lock, so that a worker finds a claimed digest
 * group whole; *added how many were queued.  The first error is
 * returned. */
pg_err sched__add_all(struct pg_sched *s, const struct pg_delivery *d,
		      const int64_t *tokens, size_t n, size_t *added);
/* Starts the feeder thread: it claims due deliveries from the store and
 * renews the leases of those held, waking at least every second. */
pg_err sched__node_start(struct pg_sched *s);
/* Stops and joins it (s->stopping set). */
void sched__node_stop(struct pg_sched *s);
/* Forgets token (mu held). */
void sched__token_drop(struct pg_sched *s, int64_t token);

/* ---- the queue (sched_queue.c); the caller holds s->mu ---- */

/* Frees an item (NULL is fine); mu need not be held. */
void sched__item_free(struct item *it);

/* Adds it to the heap of waiting items (the heap has room: pg_sched_add
 * grows it first). */
void sched__heap_push(struct pg_sched *s, struct item *it);
/* Moves every item due at now from the heap to its ready queue. */
void sched__dispatch_due(struct pg_sched *s, int64_t now);
/* Takes the most urgent ready item and up to the driver's batch size of
 * ready items for the same channel and gateway into out (room for
 * SCHED_BATCH_MAX), most urgent first; past that size, held items that
 * join a digest of one taken.  Only items of priority <= max_prio are
 * taken.  Returns how many (0: nothing is ready). */
size_t sched__take_batch(struct pg_sched *s, struct item **out, int max_prio);
/* Puts the n items of a batch that were never started back at the head
 * of their ready queues, in the order they were taken (out[] order), so
 * they go next, before what came after them. */
void sched__hand_back(struct pg_sched *s, struct item **its, size_t n);
/* True when a worker busy with work of priority prio should stop before
 * its next job: more items more urgent than prio are due than there are
 * idle workers (the reserve for priority 0 only) and workers already
 * stopping for them.  Counts the caller
 * among the latter when it says true (the worker loop uncounts it). */
bool sched__should_yield(struct pg_sched *s, int prio);


/* One item's work in a batch. */
struct work {
	struct item *it;
	struct pg_delivery d;
	struct pg_message m;
	bool have_d, have_m;
	const struct pg_client *client;
	const struct pg_contact *contact;
	const struct pg_device *device;  /* NULL when a reload removed it */
	struct pg_rendered out;      /* its content (subject, body, level) */
	int64_t aid;
	bool ready;                  /* prepared: due an attempt */
	bool started;                /* attempt recorded in the store */
	bool finished;               /* its outcome recorded (the item is gone) */
	int64_t t0;                  /* when its attempt began (monotonic ms) */
	bool presolved;              /* outcome decided without the driver */
	int job;                     /* index into the jobs array, or -1 */
	enum pg_outcome outcome;
	char reply[PG_REPLY_MAX];
	/* digests */
	bool gather;                 /* came out of a hold: may join a digest */
	int lead;                    /* -1: its own send; else the batch index of
					the digest's first delivery, which sends it */
	size_t digest_n;             /* deliveries in its digest, 0 = none */
	int64_t retry_at;            /* a digest's deliveries retry together */
};

/* Groups the batch's deliveries that came out of a hold (gather) and are
 * ready to send by recipient (client, contact, address; the batch shares
 * channel and gateway) and renders each group of two or more as ONE send
 * from the client's "digest.subject" / "digest.txt", every message with
 * its own content level, into the group's first entry (its lead).  Sets
 * lead and digest_n on every entry.  A group whose digest cannot be
 * rendered (no digest template, too big) and every delivery of a channel
 * whose body is JSON stay separate sends. */
void sched__digests(const struct pg_config *cfg, const struct pg_channel *drv,
		    struct work *w, size_t n);

/* The reply to record for w from its send's reply: for a digest, with
 * "(in a digest of N, sent as delivery D)" appended. */
void sched__digest_reply(const struct work *w, const struct work *all,
			 const char *reply, char *out, size_t outlen);

/* ---- the store's side (sched_record.c) ---- */

/* Puts an item back to wait until next_try. */
void sched__requeue(struct pg_sched *s, struct item *it, int64_t next_try);
/* Forgets an item that needs no more work. */
void sched__drop(struct pg_sched *s, struct item *it);
/* The store failed: the item stays in memory and is tried again later. */
void sched__store_trouble(struct pg_sched *s, struct item *it, const char *what,
			  pg_err e);
/* Give-up time of a delivery; the retry policy's when none was stored. */
int64_t sched__expires_of(const struct pg_delivery *d,
			  const struct pg_retry_policy *pol);
/* Records the attempt of a prepared item as it starts: true when
 * recorded (w->started); otherwise the item was dropped or requeued and
 * w->ready is false. */
bool sched__begin(struct pg_sched *s, struct work *w, int64_t now);
/* The same for every ready item of w[0..n) not started yet, in one group
 * commit (a node's claimed ones one by one). */
void sched__begin_all(struct pg_sched *s, struct work *w, size_t n, int64_t now);
/* Decides and logs the outcome of one attempt into *rec. */
void sched__decide(struct pg_sched *s, const struct pg_config *cfg, struct work *w,
		   enum pg_outcome o, const char *reply, int64_t dur_ms,
		   struct finish_rec *rec);
/* Writes outcome r of item it; requeues a retry or forgets a final
 * delivery; on a store failure keeps r on the item to replay. */
void sched__apply_finish(struct pg_sched *s, struct item *it,
			 const struct finish_rec *r);
/* sched__decide then sched__apply_finish. */
void sched__finish(struct pg_sched *s, const struct pg_config *cfg, struct work *w,
		   enum pg_outcome o, const char *reply, int64_t dur_ms);
/* Records the outcomes recs[0..n) of items its[] in one group commit (a
 * node's claimed ones one by one). */
void sched__finish_all(struct pg_sched *s, struct item **its,
		       const struct finish_rec *recs, size_t n);
/* Both at once: the outcomes recs[0..nf) of items its[], then the
 * attempts of works ws[0..nw), in one group commit; false when any
 * attempt was not recorded (that work is no longer ready). */
bool sched__record(struct pg_sched *s, struct item **its, const struct finish_rec *recs,
		   size_t nf, struct work **ws, size_t nw, int64_t now);

#endif
