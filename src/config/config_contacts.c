/*
 * config_contacts.c - the contacts of a client file and their devices.  A
 * device's settings are the common ones (channel, to or its synonym
 * topic, gateway, content) and those its channel's driver declares
 * (channel.h: address_key, device_keys); the driver's device_check then
 * judges the address and the gateway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "pagegate/channel.h"
#include "pagegate/util.h"


static const struct pg_key contact_keys[] = {
	{ .name = "id", .type = PG_KT_STR, .flags = PG_KF_REQUIRED },
	{ "name", PG_KT_STR, PG_KF_REQUIRED | PG_KF_NAME, PG_AT(struct pg_contact, name) },
	{ .name = "devices", .type = PG_KT_LIST },
	{ "checkin", PG_KT_BOOL, PG_AT(struct pg_contact, checkin) },
	PG_KEY_END
};
const struct pg_keytab config__contact_tab = { "contact", contact_keys, NULL };

static const char *const content_names[] = { "full", "summary", "notify", NULL };

static const struct pg_key device_keys[] = {
	{ .name = "channel", .type = PG_KT_STR },
	{ .name = "to", .type = PG_KT_STR },
	{ .name = "topic", .type = PG_KT_STR },
	{ "gateway", PG_KT_STR, PG_AT(struct pg_device, gateway) },
	{ "content", PG_KT_ENUM, PG_KF_KEEP, PG_AT(struct pg_device, content),
	  .lo = PG_CONTENT_FULL, .hi = PG_CONTENT_NOTIFY, .names = content_names },
	PG_KEY_END
};
const struct pg_keytab config__device_tab = { "device", device_keys, NULL };

/* A device table per channel, built at its first device: the common keys,
 * the driver's address key and its device keys (checked only: their
 * values go to dev->opts as text). */
static const struct pg_keytab *device_tab(struct loader *ld, enum pg_channel_kind ch,
					  struct pg_keytab *t)
{
	const struct pg_channel *drv = pg_channel_for(ch);
	size_t nb = sizeof device_keys / sizeof device_keys[0] - 1, n = nb + 2;
	struct pg_key *v = ld->device_keys[ch];

	if (!v) {
		for (size_t i = 0; drv->device_keys && drv->device_keys[i].name; i++)
			n++;
		if (!(v = calloc(n, sizeof *v))) {
			ld->cx->nomem = true;
			return NULL;
		}
		ld->device_keys[ch] = v;
		snprintf(ld->device_what[ch], sizeof ld->device_what[ch], "%s device",
			 pg_channel_name(ch));
		memcpy(v, device_keys, nb * sizeof *v);
		n = nb;
		if (drv->address_key)
			v[n++] = (struct pg_key){ .name = drv->address_key, .type = PG_KT_STR };
		for (size_t i = 0; drv->device_keys && drv->device_keys[i].name; i++) {
			v[n] = drv->device_keys[i];
			v[n].size = 0;          /* as text in dev->opts */
			v[n].flags &= ~PG_KF_KEEP;
			n++;
		}
	}
	*t = (struct pg_keytab){ ld->device_what[ch], v, NULL };
	return t;
}

void config__free_devices(struct loader *ld)
{
	for (int k = 0; k < PG_CH__COUNT; k++) {
		free(ld->device_keys[k]);
		ld->device_keys[k] = NULL;
	}
}

/* The value of a driver's device setting m as text into buf. */
static const char *opt_text(const config_setting_t *m, char *buf, size_t n)
{
	switch (config_setting_type(m)) {
	case CONFIG_TYPE_STRING: return config_setting_get_string(m);
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, n, "%lld", (long long)config_setting_get_int64(m));
		return buf;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, n, "%g", config_setting_get_float(m));
		return buf;
	case CONFIG_TYPE_BOOL: return config_setting_get_bool(m) ? "true" : "false";
	}
	return NULL;
}

/* The channel of device g into dv->channel (PG_CH__COUNT when it has
 * none that works: reported); the driver, or NULL. */
static const struct pg_channel *device_channel(struct loader *ld, struct pg_device *dv,
					       const config_setting_t *g)
{
	static const struct pg_key key = { .name = "channel", .type = PG_KT_STR };
	struct pg_conf *cx = ld->cx;
	const char *names[PG_CH__COUNT + 1];
	const config_setting_t *m;
	const struct pg_channel *drv;
	char hint[96];

	dv->channel = PG_CH__COUNT;
	config__channel_names(names);
	if (!pg_conf_has(g, "channel")) {
		size_t o = 0;
		hint[0] = '\0';
		for (size_t i = 0; names[i] && o + 1 < sizeof hint; i++)
			o += (size_t)snprintf(hint + o, sizeof hint - o, "%s%s", i == 0 ? "" :
					      names[i + 1] ? ", " : " or ", names[i]);
		pg_conf_missing(cx, g, 0, "channel", "device", hint);
		return NULL;
	}
	if (!(m = pg_conf_section(cx, g, &key)))
		return NULL;
	const char *name = config_setting_get_string(m);
	int ch = config__channel(name);
	if (ch == PG_CH_MAILBOX) {
		pg_conf_error(cx, m, 0, "\"mailbox\" is not a device channel: set checkin = "
			      "true; on the contact to keep its messages for retrieval");
		return NULL;
	}
	if (ch < 0) {
		pg_conf_unknown(cx, m, 0, "channel", name, NULL, names);
		return NULL;
	}
	if (!(drv = pg_channel_for((enum pg_channel_kind)ch))) {
		pg_conf_error(cx, m, 0, "channel \"%s\" is not available in this build", name);
		return NULL;
	}
	dv->channel = (enum pg_channel_kind)ch;
	return drv;
}

static void load_device(struct loader *ld, struct pg_device *dv, const config_setting_t *g)
{
	struct pg_conf *cx = ld->cx;
	const struct pg_channel *drv;
	const struct pg_keytab *t;
	struct pg_keytab tab;
	char buf[64];

	dv->line = (int)config_setting_source_line(g);
	if (!(drv = device_channel(ld, dv, g)) || !(t = device_tab(ld, dv->channel, &tab)))
		return;
	pg_conf_apply(cx, g, t, dv);

	/* the address: "to", its synonym "topic", or the driver's own key */
	const char *ak = drv->address_key;
	const char *to = pg_conf_string(g, t, 0, "to");
	const char *topic = pg_conf_string(g, t, 0, "topic");
	const char *addr = ak ? pg_conf_string(g, t, 0, ak) : NULL;
	bool has_to = pg_conf_has(g, "to"), has_topic = pg_conf_has(g, "topic");
	if (has_to && has_topic)
		pg_conf_conflict(cx, config_setting_get_member(g, "topic"), 0, "to", "topic");
	if (!to)
		to = topic;
	if (ak && pg_conf_has(g, ak) && (has_to || has_topic) &&
	    (!to || !addr || strcmp(to, addr) != 0))
		pg_conf_conflict(cx, config_setting_get_member(g, ak), 0, ak,
				 has_to ? "to" : "topic");
	if (!has_to && !has_topic && !(ak && pg_conf_has(g, ak)))
		pg_conf_missing(cx, g, 0, ak ? ak : "to", t->what, NULL);
	if ((to || addr) && !(dv->to = strdup(to ? to : addr)))
		cx->nomem = true;

	/* the driver's own settings, as text */
	size_t n = 0;
	for (size_t i = 0; drv->device_keys && drv->device_keys[i].name; i++)
		n += pg_conf_has(g, drv->device_keys[i].name);
	if (n && !(dv->opts = calloc(n, sizeof *dv->opts)))
		cx->nomem = true;
	for (size_t i = 0; dv->opts && drv->device_keys[i].name; i++) {
		const char *name = drv->device_keys[i].name;
		const config_setting_t *m = pg_conf_member(g, t, 0, name);
		const char *v = m ? opt_text(m, buf, sizeof buf) : NULL;
		if (!v)
			continue;
		struct pg_kv *kv = &dv->opts[dv->n_opts++];
		if (!(kv->key = strdup(name)) || !(kv->value = strdup(v)))
			cx->nomem = true;
	}
	if (drv->device_check && !ld->chan_bad[dv->channel])
		drv->device_check(cx, ld->c->chan_cfg[dv->channel], dv);
}

void config__load_contacts(struct loader *ld, struct pg_client *cl,
			   const config_setting_t *list)
{
	const struct pg_keytab *t = &config__contact_tab;
	struct pg_conf *cx = ld->cx;
	int n = config_setting_length(list);

	/* The ids so far, hashed: a duplicate is found without walking every
	 * contact before it (thousands of contacts check in linear time);
	 * without the table, pg_client_contact walks them. */
	struct hsearch_data ids;
	bool indexed;
	ENTRY q, *hit;

	if (n == 0 || !(cl->contacts = calloc((size_t)n, sizeof *cl->contacts))) {
		cx->nomem = cx->nomem || n > 0;
		return;
	}
	memset(&ids, 0, sizeof ids);
	indexed = hcreate_r((size_t)n * 2, &ids) != 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = pg_conf_group_at(cx, list, i);
		if (!g)
			continue;
		struct pg_contact *ct = &cl->contacts[cl->n_contacts];
		pg_conf_apply(cx, g, t, ct);
		const char *id = pg_conf_string(g, t, 0, "id");
		const struct pg_contact *old = NULL;
		if (id && indexed) {
			q = (ENTRY){ (char *)id, NULL };
			if (hsearch_r(q, FIND, &hit, &ids) && hit)
				old = &cl->contacts[(intptr_t)hit->data];
		} else if (id) {
			old = pg_client_contact(cl, id);
		}
		if (!config__new_id(cx, g, id, "contact id", old ? old->line : 0)) {
			pg_conf_release(t, ct);
			continue;
		}
		if (!(ct->id = strdup(id))) {
			cx->nomem = true;
			pg_conf_release(t, ct);
			continue;
		}
		ct->line = (int)config_setting_source_line(g);
		q = (ENTRY){ ct->id, (void *)(intptr_t)cl->n_contacts };
		if (indexed && !hsearch_r(q, ENTER, &hit, &ids)) {
			hdestroy_r(&ids);
			indexed = false;
		}
		cl->n_contacts++;
		const config_setting_t *devs = pg_conf_member(g, t, 0, "devices");
		int nd = devs ? config_setting_length(devs) : 0;
		if (nd == 0 && (devs || !pg_conf_has(g, "devices"))) {
			if (!ct->checkin)    /* the mailbox is enough */
				pg_conf_error(cx, devs ? devs : g, 0, "contact \"%s\" has no devices",
					      id);
			continue;
		}
		if (!(ct->devices = calloc((size_t)nd, sizeof *ct->devices))) {
			cx->nomem = true;
			continue;
		}
		for (int j = 0; j < nd; j++) {
			const config_setting_t *dg = pg_conf_group_at(cx, devs, j);
			if (dg)
				load_device(ld, &ct->devices[ct->n_devices++], dg);
		}
	}
	if (indexed)
		hdestroy_r(&ids);
}
