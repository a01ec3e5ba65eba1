/*
 * summary.h - clients' periodic summaries of their messages, by email
 * (a client file's summary = { every | at; empty; notify; }).
 *
 * One thread wakes at the next summary due.  A summary covers the
 * messages received from the end of the last one (kept in the store as
 * the mark "summary:CLIENT", so a restart neither skips nor repeats one)
 * to its due time; it is rendered from summary.subject and summary.txt
 * (a {{#messages}} section, as the digest) for each contact it notifies
 * and sent to their email devices through the email driver.  A temporary
 * failure tries again a minute later, covering the same span; a client's
 * first summary covers from when pagegated first ran with it.
 */
#ifndef PAGEGATE_SUMMARY_H
#define PAGEGATE_SUMMARY_H

#include "pagegate/channel.h"
#include "pagegate/config.h"
#include "pagegate/store.h"

struct pg_summaries;

struct pg_summary_deps {
	struct pg_store *store;
	struct pg_live_config *live;
	struct pg_channels *channels;    /* the email driver sends */
};

/* PG_ERR_NOMEM, PG_ERR_INVAL. */
pg_err pg_summary_start(const struct pg_summary_deps *deps, struct pg_summaries **out);
/* Stops the thread (a summary being sent finishes first); NULL is fine. */
void pg_summary_stop(struct pg_summaries *s);

/* When the summary of client cl that follows one ending at last_ms is
 * due (UTC ms): last + every, or the next local `at` after last.  0 when
 * the client has no summary.  Pure. */
int64_t pg_summary_due(const struct pg_client *cl, int64_t last_ms);

#endif
