/*
 * chan_sms.c - the sms channel driver.  Not built yet: the registry
 * (channel.c) asks pg_chan_sms_driver(), which answers NULL until the
 * driver exists, so configuration refuses sms devices with a clear error.
 */
#include "pagegate/channel.h"

const struct pg_channel *
pg_chan_sms_driver(void)
{
	return NULL;
}
