/*
 * daemon.h - the context passed to the HTTP server: every long-lived part
 * of a running pagegated.  No globals: this is handed around by pointer.
 */
#ifndef PAGEGATE_DAEMON_H
#define PAGEGATE_DAEMON_H

#include "pagegate/ack.h"
#include "pagegate/channel.h"
#include "pagegate/config.h"
#include "pagegate/escalate.h"
#include "pagegate/events.h"
#include "pagegate/metrics.h"
#include "pagegate/sched.h"
#include "pagegate/store.h"

struct pg_ctx {
	struct pg_live_config *live;
	struct pg_store *store;
	struct pg_channels *channels; /* the running drivers */
	struct pg_sched *sched;
	struct pg_esc *esc;           /* escalation timers */
	struct pg_metrics *metrics;
	struct pg_ack_host *ack;      /* acknowledgements, callback tokens */
	struct pg_events *events;     /* what the consoles' event streams hear */
	int64_t started_ms;
};

#endif
