/*
 * metrics.c - lock-free counters and their Prometheus text exposition
 * (metrics.h, format version 0.0.4).
 */
#include <stdio.h>
#include <string.h>

#include "pagegate/metrics.h"

const double pg_lat_bounds[PG_LAT_BUCKETS] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
};

void
pg_metrics_init(struct pg_metrics *m)
{
	atomic_init(&m->messages_received, 0);
	atomic_init(&m->messages_rejected, 0);
	for (int c = 0; c < PG_CH__COUNT; c++) {
		for (int o = 0; o < PG_OUT__COUNT; o++)
			atomic_init(&m->attempts[c][o], 0);
		atomic_init(&m->delivered[c], 0);
		atomic_init(&m->failed[c], 0);
		for (int b = 0; b <= PG_LAT_BUCKETS; b++)
			atomic_init(&m->lat_bucket[c][b], 0);
		atomic_init(&m->lat_sum_ms[c], 0);
		atomic_init(&m->lat_count[c], 0);
	}
}

/* Counts one finished attempt: its outcome and its duration in the
 * (non-cumulative) bucket it falls in; rendering makes them cumulative. */
void
pg_metrics_attempt(struct pg_metrics *m, enum pg_channel_kind ch,
		   enum pg_outcome o, int64_t dur_ms)
{
	int b = 0;

	if ((int)ch < 0 || ch >= PG_CH__COUNT || (int)o < 0 || o >= PG_OUT__COUNT)
		return;
	if (dur_ms < 0)
		dur_ms = 0;
	while (b < PG_LAT_BUCKETS &&
	       dur_ms > (int64_t)(pg_lat_bounds[b] * 1000.0 + 0.5))
		b++;
	atomic_fetch_add(&m->attempts[ch][o], 1);
	atomic_fetch_add(&m->lat_bucket[ch][b], 1);
	atomic_fetch_add(&m->lat_sum_ms[ch], (unsigned long long)dur_ms);
	atomic_fetch_add(&m->lat_count[ch], 1);
}

void
pg_metrics_final(struct pg_metrics *m, enum pg_channel_kind ch, bool sent)
{
	if ((int)ch < 0 || ch >= PG_CH__COUNT)
		return;
	atomic_fetch_add(sent ? &m->delivered[ch] : &m->failed[ch], 1);
}

static unsigned long long
get(const atomic_ullong *a)
{
	return atomic_load(a);
}

static pg_err
head(struct pg_buf *out, const char *name, const char *type, const char *help)
{
	return pg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static pg_err
render_histogram(const struct pg_metrics *m, struct pg_buf *out)
{
	static const char *const name = "pagegate_attempt_duration_seconds";
	pg_err e;

	if ((e = head(out, name, "histogram", "Duration of delivery attempts by channel.")))
		return e;
	for (int c = 0; c < PG_CH__COUNT; c++) {
		const char *ch = pg_channel_name(c);
		unsigned long long cum = 0, sum = get(&m->lat_sum_ms[c]);

		if (c == PG_CH_MAILBOX)
			continue;        /* retrieved, never attempted */

		for (int b = 0; b <= PG_LAT_BUCKETS; b++) {
			char le[32];

			cum += get(&m->lat_bucket[c][b]);
			if (b < PG_LAT_BUCKETS)
				snprintf(le, sizeof le, "%g", pg_lat_bounds[b]);
			else
				pg_strlcpy(le, "+Inf", sizeof le);
			if ((e = pg_buf_printf(out, "%s_bucket{channel=\"%s\",le=\"%s\"} %llu\n",
					       name, ch, le, cum)))
				return e;
		}
		/* _count is the +Inf bucket so that the series is consistent
		 * even while attempts finish during rendering. */
		if ((e = pg_buf_printf(out, "%s_sum{channel=\"%s\"} %llu.%03llu\n"
				       "%s_count{channel=\"%s\"} %llu\n",
				       name, ch, sum / 1000, sum % 1000, name, ch, cum)))
			return e;
	}
	return PG_OK;
}

/* One metric with a single sample: its HELP/TYPE head and "name value". */
static pg_err
single(struct pg_buf *out, const char *name, const char *type, const char *help,
       long long value)
{
	pg_err e = head(out, name, type, help);

	return e ? e : pg_buf_printf(out, "%s %lld\n", name, value);
}

pg_err
pg_metrics_render(const struct pg_metrics *m, size_t queue_depth,
		  size_t held, struct pg_buf *out)
{
	pg_err e;

	if ((e = single(out, "pagegate_messages_received_total", "counter",
			"Messages accepted and stored by the intake.",
			(long long)get(&m->messages_received))) ||
	    (e = single(out, "pagegate_messages_rejected_total", "counter",
			"Message submissions refused by the intake (4xx).",
			(long long)get(&m->messages_rejected))) ||
	    (e = head(out, "pagegate_attempts_total", "counter",
		      "Delivery attempts by channel and outcome.")))
		return e;
	for (int c = 0; c < PG_CH__COUNT; c++)
		for (int o = 0; c != PG_CH_MAILBOX && o < PG_OUT__COUNT; o++)
			if ((e = pg_buf_printf(out,
				"pagegate_attempts_total{channel=\"%s\",outcome=\"%s\"} %llu\n",
				pg_channel_name(c), pg_outcome_name(o),
				get(&m->attempts[c][o]))))
				return e;
	if ((e = head(out, "pagegate_deliveries_final_total", "counter",
		      "Deliveries that reached a final state, by channel and result.")))
		return e;
	for (int c = 0; c < PG_CH__COUNT; c++)
		if ((e = pg_buf_printf(out,
			"pagegate_deliveries_final_total{channel=\"%s\",result=\"sent\"} %llu\n"
			"pagegate_deliveries_final_total{channel=\"%s\",result=\"failed\"} %llu\n",
			pg_channel_name(c), get(&m->delivered[c]),
			pg_channel_name(c), get(&m->failed[c]))))
			return e;
	if ((e = single(out, "pagegate_queue_depth", "gauge",
			"Deliveries waiting in the scheduler (queued, due or not).",
			(long long)queue_depth)) ||
	    (e = single(out, "pagegate_held_deliveries", "gauge",
			"Deliveries held until a client opens.", (long long)held)))
		return e;
	return render_histogram(m, out);
}

pg_err
pg_metrics_render_esc(const struct pg_metrics *m, size_t waiting,
		      int64_t unacked, struct pg_buf *out)
{
	pg_err e;

	if ((e = single(out, "pagegate_escalation_steps_total", "counter",
			"Escalation steps fired after the first (nobody had acknowledged).",
			(long long)get(&m->esc_steps))) ||
	    (e = single(out, "pagegate_escalations_exhausted_total", "counter",
			"Escalations that ran out with nobody acknowledging.",
			(long long)get(&m->esc_exhausted))) ||
	    (e = single(out, "pagegate_escalations_waiting", "gauge",
			"Messages whose escalation waits for its next step.",
			(long long)waiting)))
		return e;
	return single(out, "pagegate_messages_unacknowledged", "gauge",
		      "Messages flagged unacknowledged: their escalation ran out.",
		      (long long)unacked);
}

pg_err
pg_metrics_gauge(struct pg_buf *out, const char *name, const char *help,
		 unsigned long long value)
{
	return single(out, name, "gauge", help, (long long)value);
}

pg_err
pg_metrics_render_store(bool at_cap, bool no_room, unsigned long long refused,
			unsigned long long full_writes, struct pg_buf *out)
{
	pg_err e;

	if ((e = single(out, "pagegate_store_full", "gauge",
			"1 while new messages are refused: the store reached "
			"its cap (store.max_mb) or has no room.",
			at_cap || no_room)) ||
	    (e = single(out, "pagegate_store_no_room", "gauge",
			"1 while writes about accepted messages fail for room "
			"too (reserve used up or disk full); they are retried.",
			no_room)) ||
	    (e = single(out, "pagegate_store_refused_total", "counter",
			"New messages refused (503 store_full) for lack of room.",
			(long long)refused)))
		return e;
	return single(out, "pagegate_store_full_writes_total", "counter",
		      "Writes about accepted messages refused for lack of room "
		      "(kept and retried).", (long long)full_writes);
}
