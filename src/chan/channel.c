/*
 * channel.c - the registry of channel drivers and their lifetime
 * (channel.h).  Adding a channel adds its folder src/chan/NAME/, its kind
 * to enum pg_channel_kind (common.h) and one line to drivers[] below;
 * nothing else names it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/channel.h"
#include "pagegate/log.h"
#include "pagegate/util.h"
#include "drivers.h"

/* Every driver, by kind.  PG_CH_MAILBOX has none: the store keeps its
 * deliveries until they are retrieved. */
static const struct pg_channel *const drivers[PG_CH__COUNT] = {
	[PG_CH_EMAIL] = &pg_chan_email,
	[PG_CH_FAX]   = &pg_chan_fax,
	[PG_CH_SMS]   = &pg_chan_sms,
	[PG_CH_PAGER] = &pg_chan_pager,
	[PG_CH_MQTT]  = &pg_chan_mqtt,
	[PG_CH_VOICE] = &pg_chan_voice,
};

/* The check-in mailbox's name: it is a channel of deliveries (the API
 * and the ledger name it) without a driver. */
#define MAILBOX_NAME "mailbox"

const struct pg_channel *
pg_channel_for(enum pg_channel_kind k)
{
	return (unsigned)k < PG_CH__COUNT ? drivers[k] : NULL;
}

const char *
pg_channel_name(enum pg_channel_kind k)
{
	if (k == PG_CH_MAILBOX)
		return MAILBOX_NAME;
	return (unsigned)k < PG_CH__COUNT && drivers[k] ? drivers[k]->name : "?";
}

int
pg_channel_parse(const char *s, enum pg_channel_kind *out)
{
	for (int k = 0; s && k < PG_CH__COUNT; k++)
		if (strcmp(pg_channel_name((enum pg_channel_kind)k), s) == 0) {
			*out = (enum pg_channel_kind)k;
			return 0;
		}
	return -1;
}

void
pg_job_set(struct pg_job *j, enum pg_outcome o, const char *fmt, ...)
{
	va_list ap;

	j->outcome = o;
	va_start(ap, fmt);
	vsnprintf(j->reply, sizeof j->reply, fmt, ap);
	va_end(ap);
	pg_utf8_trim_partial(j->reply);
}

const char *
pg_http_param(const struct pg_http_req *r, const char *name)
{
	for (size_t i = 0; r && name && i < r->n_params; i++)
		if (strcmp(r->params[i].key, name) == 0)
			return r->params[i].value;
	return NULL;
}

/* ---- the running drivers ---- */

struct pg_channels {
	const struct pg_channel *drv[PG_CH__COUNT];
	void *state[PG_CH__COUNT];
	bool started[PG_CH__COUNT];
	const struct pg_chan_host *host;
};

pg_err
pg_channels_start(const struct pg_config *cfg, const struct pg_chan_host *host,
		  const struct pg_channel *(*lookup)(enum pg_channel_kind),
		  struct pg_channels **out)
{
	struct pg_channels *set = calloc(1, sizeof *set);
	const struct pg_channel *drv;
	pg_err e = PG_OK;

	*out = NULL;
	if (!set)
		return PG_ERR_NOMEM;
	set->host = host;
	for (int k = 0; k < PG_CH__COUNT && !e; k++) {
		drv = set->drv[k] = (lookup ? lookup : pg_channel_for)((enum pg_channel_kind)k);
		if (!drv || !drv->start)
			continue;
		if ((e = drv->start(cfg, host, &set->state[k])))
			pg_error("cannot start the %s channel: %s", drv->name, pg_strerror(e));
		else
			set->started[k] = true;
	}
	if (e) {
		pg_channels_stop(set);
		return e;
	}
	*out = set;
	return PG_OK;
}

void
pg_channels_stop(struct pg_channels *set)
{
	if (!set)
		return;
	for (int k = 0; k < PG_CH__COUNT; k++)
		if (set->started[k] && set->drv[k]->stop)
			set->drv[k]->stop(set->state[k]);
	free(set);
}

const struct pg_channel *
pg_channels_driver(const struct pg_channels *set, enum pg_channel_kind k)
{
	return set && (unsigned)k < PG_CH__COUNT ? set->drv[k] : NULL;
}

void *
pg_channels_state(const struct pg_channels *set, enum pg_channel_kind k)
{
	if (!set || (unsigned)k >= PG_CH__COUNT || !set->started[k])
		return NULL;
	return set->state[k];
}

const struct pg_chan_host *
pg_channels_host(const struct pg_channels *set)
{
	return set ? set->host : NULL;
}
