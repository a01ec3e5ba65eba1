/*
 * metrics.h - counters for GET /metrics (Prometheus text format).  Lock-free
 * atomic counters; one struct owned by the daemon context.
 */
#ifndef PAGEGATE_METRICS_H
#define PAGEGATE_METRICS_H

#include <stdatomic.h>
#include "pagegate/util.h"

/* Attempt latency histogram upper bounds, seconds. */
#define PG_LAT_BUCKETS 10
extern const double pg_lat_bounds[PG_LAT_BUCKETS];

struct pg_metrics {
	atomic_ullong messages_received;
	atomic_ullong messages_rejected;              /* 4xx at intake */
	atomic_ullong attempts[PG_CH__COUNT][PG_OUT__COUNT];
	atomic_ullong delivered[PG_CH__COUNT];         /* final: sent/delivered */
	atomic_ullong failed[PG_CH__COUNT];            /* final: failed */
	atomic_ullong lat_bucket[PG_CH__COUNT][PG_LAT_BUCKETS + 1]; /* last: +Inf */
	atomic_ullong lat_sum_ms[PG_CH__COUNT];
	atomic_ullong lat_count[PG_CH__COUNT];
	atomic_ullong esc_steps;        /* escalation steps fired after step 1 */
	atomic_ullong esc_exhausted;    /* messages flagged unacknowledged */
};

void pg_metrics_init(struct pg_metrics *m);
void pg_metrics_attempt(struct pg_metrics *m, enum pg_channel_kind ch,
			enum pg_outcome o, int64_t dur_ms);
/* Counts a delivery that reached its final state: sent (or delivered)
 * when sent is true, failed otherwise. */
void pg_metrics_final(struct pg_metrics *m, enum pg_channel_kind ch, bool sent);
/* Appends the text exposition; queue_depth and per-state counts come from
 * the scheduler. */
pg_err pg_metrics_render(const struct pg_metrics *m, size_t queue_depth,
			 size_t held, struct pg_buf *out);
/* Appends one gauge (HELP, TYPE and its value) to the text exposition. */
pg_err pg_metrics_gauge(struct pg_buf *out, const char *name, const char *help,
			unsigned long long value);

/* Appends the escalation part: the counters above plus how many messages
 * wait for a next step and how many are flagged unacknowledged now. */
pg_err pg_metrics_render_esc(const struct pg_metrics *m, size_t waiting,
			     int64_t unacked, struct pg_buf *out);

/* Appends the store's room: pagegate_store_full (1 while new messages are
 * refused: at_cap - the store reached its cap, or the disk filled - or
 * no_room),
 * pagegate_store_no_room (1 while writes about accepted messages fail
 * too: reserve used up or disk full), and the counters of new messages
 * and of other writes refused for room. */
pg_err pg_metrics_render_store(bool at_cap, bool no_room,
			       unsigned long long refused,
			       unsigned long long full_writes, struct pg_buf *out);

#endif
