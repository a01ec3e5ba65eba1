/*
 * chan_mqtt.c - the mqtt channel driver.  Not built yet: the registry
 * (channel.c) asks pg_chan_mqtt_driver(), which answers NULL until the
 * driver exists, so configuration refuses mqtt devices with a clear error.
 */
#include "pagegate/channel.h"

const struct pg_channel *
pg_chan_mqtt_driver(void)
{
	return NULL;
}
