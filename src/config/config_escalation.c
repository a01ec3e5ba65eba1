/*
 * config_escalation.c - escalation policies of a client file:
 *
 *   escalation = ( { id = "emergency"; repeat = 2;
 *     steps = ( { notify = "oncall:techs"; channels = [ "sms" ]; wait = "5m"; },
 *               { notify = "oncall:techs+1"; wait = "5m"; } ); } );
 *
 * A step names whom to notify and on which channels exactly as a rule
 * does (config__rule_targets), and how long to wait for an
 * acknowledgement before the next step.  Read after the contacts and the
 * rotations, before the rules that name the policies.
 */
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

#define STEPS_MAX    20
#define REPEAT_MAX   10
#define WAIT_MIN_S   1
#define WAIT_MAX_S   (7 * 86400)

static const struct pg_key policy_keys[] = {
	{ .name = "id", .type = PG_KT_STR, .flags = PG_KF_REQUIRED },
	{ "repeat", PG_KT_INT, PG_AT(struct pg_escalation, repeat), .lo = 1,
	  .hi = REPEAT_MAX, .def = 1 },
	{ .name = "steps", .type = PG_KT_LIST },
	PG_KEY_END
};
const struct pg_keytab config__policy_tab = { "escalation", policy_keys, NULL };

static const struct pg_key step_keys[] = {
	{ .name = "notify", .type = PG_KT_STR_OR_STRS },
	{ .name = "channels", .type = PG_KT_STRS },
	{ "wait", PG_KT_DUR, PG_KF_REQUIRED, PG_AT(struct pg_esc_step, wait_s),
	  .lo = WAIT_MIN_S, .hi = WAIT_MAX_S,
	  .hint = "how long to wait for an acknowledgement, e.g. \"5m\"" },
	PG_KEY_END
};
const struct pg_keytab config__step_tab = { "escalation step", step_keys, NULL };

static void load_step(struct loader *ld, struct pg_client *cl,
		      struct pg_esc_step *st, const config_setting_t *g)
{
	pg_conf_apply(ld->cx, g, &config__step_tab, st);
	st->line = (int)config_setting_source_line(g);
	st->target.line = st->line;
	st->target.kind = -1;
	st->target.urgency = -1;
	config__rule_targets(ld, cl, &st->target, g, true, "escalation step");
}

static void load_policy(struct loader *ld, struct pg_client *cl,
			struct pg_escalation *p, const config_setting_t *g)
{
	const struct pg_keytab *t = &config__policy_tab;
	struct pg_conf *cx = ld->cx;
	const config_setting_t *steps;
	const char *id;
	int n;

	pg_conf_apply(cx, g, t, p);
	p->line = (int)config_setting_source_line(g);
	if ((id = pg_conf_string(g, t, 0, "id"))) {
		const struct pg_escalation *old = pg_client_escalation(cl, id);
		if (!config__id_ok(id, true))
			pg_conf_bad(cx, config_setting_get_member(g, "id"), 0, "escalation id",
				    id, NULL, "1 to %d of a-z, 0-9, '-' and '_'", CONFIG_ID_MAX);
		else if (old)
			pg_conf_duplicate(cx, config_setting_get_member(g, "id"), 0,
					  "escalation", id, NULL, old->line);
		else if (!(p->id = strdup(id)))
			cx->nomem = true;
	}
	steps = pg_conf_member(g, t, 0, "steps");
	n = steps ? config_setting_length(steps) : 0;
	if (n == 0) {
		if (steps || !pg_conf_has(g, "steps"))
			pg_conf_error(cx, steps ? steps : g, 0, "escalation has no steps");
		return;
	}
	if (n > STEPS_MAX) {
		pg_conf_error(cx, steps, 0, "escalation has %d steps; at most %d", n, STEPS_MAX);
		return;
	}
	if (!(p->steps = calloc((size_t)n, sizeof *p->steps))) {
		cx->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *sg = pg_conf_group_at(cx, steps, i);
		if (sg)
			load_step(ld, cl, &p->steps[p->n_steps++], sg);
	}
}

void config__load_escalations(struct loader *ld, struct pg_client *cl,
			      const config_setting_t *list)
{
	int n = config_setting_length(list);

	if (n == 0)
		return;
	if (!(cl->escalations = calloc((size_t)n, sizeof *cl->escalations))) {
		ld->cx->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(ld->cx, list, i);
		if (g)
			load_policy(ld, cl, &cl->escalations[cl->n_escalations++], g);
	}
}

void config__free_escalations(struct pg_client *cl)
{
	for (size_t i = 0; i < cl->n_escalations; i++) {
		struct pg_escalation *p = &cl->escalations[i];
		for (size_t j = 0; j < p->n_steps; j++) {
			free(p->steps[j].target.contacts);
			free(p->steps[j].target.oncall);
		}
		free(p->steps);
		free(p->id);
	}
	free(cl->escalations);
	cl->escalations = NULL;
	cl->n_escalations = 0;
}

const struct pg_escalation *pg_client_escalation(const struct pg_client *cl,
						 const char *id)
{
	for (size_t i = 0; cl && id && i < cl->n_escalations; i++)
		if (cl->escalations[i].id && strcmp(cl->escalations[i].id, id) == 0)
			return &cl->escalations[i];
	return NULL;
}
