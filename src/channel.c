/*
 * channel.c - the channel driver table (channel.h), indexed by channel
 * kind.  A channel whose driver is not built yet has no entry.
 */
#include "pagegate/channel.h"

static const struct pg_channel *const drivers[PG_CH__COUNT] = {
	[PG_CH_EMAIL] = &pg_chan_email,
};

const struct pg_channel *
pg_channel_for(enum pg_channel_kind k)
{
	if ((unsigned)k >= PG_CH__COUNT)
		return NULL;
	return drivers[k];
}
