/*
 * chan_pager.c - the pager channel driver.  Not built yet: the registry
 * (channel.c) asks pg_chan_pager_driver(), which answers NULL until the
 * driver exists, so configuration refuses pager devices with a clear error.
 */
#include "pagegate/channel.h"

const struct pg_channel *
pg_chan_pager_driver(void)
{
	return NULL;
}
