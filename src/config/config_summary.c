/*
 * config_summary.c - a client's periodic summary of its messages:
 *
 *   summary = { every = "4h"; notify = "contact:office"; };
 *   summary = { at = "07:00"; empty = true; notify = [ "contact:office", "oncall:techs" ]; };
 *
 * every: every so long (10s to 7d); at: daily at that local time; one of
 * the two.  empty: sent also when there were no messages (default not).
 * notify: whom, as a rule's notify (config__rule_targets), by email.
 * The scheduler is summary.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

#define EVERY_MIN_S 10
#define EVERY_MAX_S (7 * 86400)

static const struct pg_key summary_keys[] = {
	{ "every", PG_KT_DUR, PG_KF_KEEP, PG_AT(struct pg_summary, every_s), .lo = EVERY_MIN_S,
	  .hi = EVERY_MAX_S, .hint = "e.g. \"4h\"" },
	{ .name = "at", .type = PG_KT_STR, .hint = "a local time such as \"07:00\"" },
	{ "empty", PG_KT_BOOL, PG_AT(struct pg_summary, empty), .def = 0 },
	{ .name = "notify", .type = PG_KT_STR_OR_STRS },     /* required: config__rule_targets */
	PG_KEY_END
};
const struct pg_keytab config__summary_tab = { "summary", summary_keys, NULL };

void config__load_summary(struct loader *ld, struct pg_client *cl,
			  const config_setting_t *g)
{
	const struct pg_keytab *t = &config__summary_tab;
	struct pg_conf *cx = ld->cx;
	struct pg_summary *s = &cl->summary;
	const char *at;
	unsigned h, m;
	char rest;

	pg_conf_apply(cx, g, t, s);
	at = pg_conf_string(g, t, 0, "at");
	if (at && s->every_s)
		pg_conf_conflict(cx, g, 0, "every", "at");
	else if (!at && !s->every_s && !config_setting_get_member(g, "every"))  /* not already bad */
		pg_conf_missing(cx, g, 0, "every", "summary",
				"or \"at\", e.g. every = \"4h\" or at = \"07:00\"");
	if (at && !s->every_s) {
		if (sscanf(at, "%2u:%2u%c", &h, &m, &rest) != 2 || strlen(at) != 5 ||
		    h > 23 || m > 59)
			pg_conf_bad(cx, config_setting_get_member(g, "at"), 0, "at", at, NULL,
				    "a local time HH:MM such as \"07:00\"");
		else
			s->at_min = (int)(h * 60 + m);
	}
	/* whom, checked also when the timing was bad */
	s->target.kind = -1;
	s->target.urgency = -1;
	s->target.line = (int)config_setting_source_line(g);
	config__rule_targets(ld, cl, &s->target, g, true, "summary");
	s->line = s->target.line;
}
