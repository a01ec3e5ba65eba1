/*
 * chan_fax.c - the fax channel driver.  Not built yet: the registry
 * (channel.c) asks pg_chan_fax_driver(), which answers NULL until the
 * driver exists, so configuration refuses fax devices with a clear error.
 */
#include "pagegate/channel.h"

const struct pg_channel *
pg_chan_fax_driver(void)
{
	return NULL;
}
