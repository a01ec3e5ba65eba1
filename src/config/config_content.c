/*
 * config_content.c - a client file's content levels and callback number
 * (content.h): content = { sms = "summary"; pager = "notify"; } names a
 * level per channel; callback is the number staff call to hear a message
 * (else pagegate.conf's).  A device's own content is read with the device
 * (config_contacts.c).
 */
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "pagegate/content.h"

static const char *const level_names[] = { "full", "summary", "notify", NULL };

/* content = { CHANNEL = LEVEL; ... }: the line of the first notify entry
 * into *notify_line. */
static void content_group(struct pg_conf *cx, const config_setting_t *g,
			  struct pg_client *cl, int *notify_line)
{
	const char *chans[PG_CH__COUNT + 1];
	int n = config_setting_length(g);
	char ctx[32];

	config__channel_names(chans);
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		int ch = config__channel(name);
		enum pg_content lv;

		if (ch < 0) {
			pg_conf_unknown(cx, m, 0, "channel", name ? name : "?", "in content", chans);
			continue;
		}
		if (!pg_conf_section(cx, g, &(struct pg_key){ .name = name, .type = PG_KT_STR }))
			continue;                        /* wrong type: reported */
		const char *v = config_setting_get_string(m);
		snprintf(ctx, sizeof ctx, "for %s", name);
		int k = pg_conf_enum(cx, m, 0, "content", v, ctx, level_names);
		if (k < 0 || pg_content_parse(v, &lv) != 0)
			continue;
		cl->content[ch] = lv;
		if (lv == PG_CONTENT_NOTIFY && *notify_line == 0)
			*notify_line = (int)config_setting_source_line(m);
	}
}

void config__load_content(struct loader *ld, struct pg_client *cl,
			  const config_setting_t *root)
{
	static const char need[] = "content \"notify\" needs a callback number: "
		"set callback in this file or in pagegate.conf";
	const struct pg_keytab *t = &config__client_tab;
	struct pg_conf *cx = ld->cx;
	const config_setting_t *g = pg_conf_member(root, t, 0, "content");
	const char *v = pg_conf_string(root, t, 0, "callback");
	const char *dflt = ld->c->callback;
	int notify_line = 0;

	if (g)
		content_group(cx, g, cl, &notify_line);
	if (v) {
		if (!pg_callback_ok(v))
			pg_conf_bad(cx, config_setting_get_member(root, "callback"), 0,
				    "callback", v, NULL, "a number to dial such as \"+18005550100\"");
		else if (!(cl->callback = strdup(v)))
			cx->nomem = true;
	} else if (dflt && !(cl->callback = strdup(dflt))) {
		cx->nomem = true;
	}
	if (cl->callback || pg_conf_has(root, "callback"))
		return;
	if (notify_line)
		pg_conf_error(cx, NULL, notify_line, "%s", need);
	for (size_t i = 0; i < cl->n_contacts; i++)
		for (size_t j = 0; j < cl->contacts[i].n_devices; j++)
			if (cl->contacts[i].devices[j].content == PG_CONTENT_NOTIFY)
				pg_conf_error(cx, NULL, cl->contacts[i].devices[j].line, "%s", need);
}
