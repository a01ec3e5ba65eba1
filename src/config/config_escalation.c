/*
 * config_escalation.c - escalation policies of a client file:
 *
 *   escalation = ( { id = "emergency"; repeat = 2;
 *     steps = ( { notify = "oncall:techs"; channels = [ "sms" ]; wait = "5m"; },
 *               { notify = "oncall:techs+1"; wait = "5m"; } ); } );
 *
 * A step names whom to notify and on which channels exactly as a rule
 * does (config__rule_targets), and how long to wait for an
 * acknowledgement before the next step.
 */
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

#define ID_MAX       64
#define STEPS_MAX    20
#define REPEAT_MAX   10
#define WAIT_MIN_S   1
#define WAIT_MAX_S   (7 * 86400)

static const struct key policy_keys[] = {
	{ "id", K_STR }, { "repeat", K_INT }, { "steps", K_LIST }, { NULL, 0 }
};
static const struct key step_keys[] = {
	{ "notify", K_STR_OR_STRS }, { "channels", K_STRS }, { "wait", K_DUR },
	{ NULL, 0 }
};

static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ID_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return false;
	return true;
}

static void load_step(struct loader *ld, struct pg_client *cl,
		      struct pg_esc_step *st, config_setting_t *g)
{
	int64_t w;

	config__keys(ld, g, step_keys, "escalation step");
	st->line = (int)config_setting_source_line(g);
	st->target.line = st->line;
	st->target.kind = -1;
	st->target.urgency = -1;
	config__rule_targets(ld, cl, &st->target, g, true, "escalation step");
	if (config__dur(ld, g, "wait", WAIT_MIN_S, WAIT_MAX_S, &w))
		st->wait_s = (int)w;
	else if (!config_setting_get_member(g, "wait"))
		config__diag(ld, g, "escalation step has no \"wait\" (how long to wait "
			     "for an acknowledgement, e.g. \"5m\")");
}

static void load_policy(struct loader *ld, struct pg_client *cl,
			struct pg_escalation *p, config_setting_t *g)
{
	config_setting_t *m, *steps;
	int64_t repeat = 1;
	int n;

	config__keys(ld, g, policy_keys, "escalation");
	p->line = (int)config_setting_source_line(g);
	p->repeat = 1;
	if ((m = config__member(g, "id", K_STR))) {
		const char *id = config__str(ld, m, false);
		if (id && !id_ok(id))
			config__diag(ld, m, "bad escalation id \"%s\": use 1 to %d of a-z, 0-9, "
				     "'-' and '_'", id, ID_MAX);
		else if (id && pg_client_escalation(cl, id))
			config__diag(ld, m, "escalation \"%s\" is declared twice", id);
		else if (id)
			p->id = config__strdup(ld, id);
	} else if (!config_setting_get_member(g, "id")) {
		config__diag(ld, g, "escalation has no \"id\"");
	}
	if (config__int(ld, g, "repeat", 1, REPEAT_MAX, &repeat))
		p->repeat = (int)repeat;
	steps = config__member(g, "steps", K_LIST);
	n = steps ? config_setting_length(steps) : 0;
	if (n == 0) {
		config__diag(ld, steps ? steps : g, "escalation has no steps");
		return;
	}
	if (n > STEPS_MAX) {
		config__diag(ld, steps, "escalation has %d steps; at most %d", n, STEPS_MAX);
		return;
	}
	if (!(p->steps = config__calloc(ld, (size_t)n, sizeof *p->steps)))
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *sg = config_setting_get_elem(steps, (unsigned)i);
		if (config_setting_type(sg) != CONFIG_TYPE_GROUP) {
			config__diag(ld, sg, "an escalation step must be a group { ... }");
			continue;
		}
		load_step(ld, cl, &p->steps[p->n_steps++], sg);
	}
}

void config__load_escalations(struct loader *ld, struct pg_client *cl,
			      config_setting_t *list)
{
	int n = config_setting_length(list);

	if (n == 0 || !(cl->escalations = config__calloc(ld, (size_t)n,
							 sizeof *cl->escalations)))
		return;
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct pg_escalation *p = &cl->escalations[cl->n_escalations];
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			config__diag(ld, g, "an escalation policy must be a group { ... }");
			continue;
		}
		load_policy(ld, cl, p, g);
		cl->n_escalations++;
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
