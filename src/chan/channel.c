/*
 * channel.c - the channel driver registry (channel.h).  Each driver file
 * answers for itself through pg_chan_NAME_driver(), NULL while that
 * channel is not built, so adding a driver never edits this file.
 */
#include <stdarg.h>
#include <stdio.h>

#include "pagegate/channel.h"
#include "pagegate/util.h"

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

const struct pg_channel *
pg_channel_for(enum pg_channel_kind k)
{
	switch (k) {
	case PG_CH_EMAIL: return &pg_chan_email;
	case PG_CH_FAX:   return pg_chan_fax_driver();
	case PG_CH_SMS:   return pg_chan_sms_driver();
	case PG_CH_PAGER: return pg_chan_pager_driver();
	case PG_CH_MQTT:  return pg_chan_mqtt_driver();
	case PG_CH_MAILBOX: return NULL;   /* kept in the store, never sent */
	default:          return NULL;
	}
}
