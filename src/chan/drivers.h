/*
 * drivers.h - the constant driver table of every channel, for the
 * registry in channel.c.  Included by channel.c and by each driver's own
 * table file (chan_email.c, chan_fax.c, chan_sms.c, chan_pager.c,
 * chan_mqtt.c, chan_voice.c), so that each definition is checked against this
 * declaration; nothing else may name a driver's table: the rest of
 * pagegate finds drivers through pg_channel_for().
 */
#ifndef PAGEGATE_CHAN_DRIVERS_H
#define PAGEGATE_CHAN_DRIVERS_H

#include "pagegate/channel.h"

extern const struct pg_channel pg_chan_email;   /* email/chan_email.c */
extern const struct pg_channel pg_chan_fax;     /* fax/chan_fax.c */
extern const struct pg_channel pg_chan_sms;     /* sms/chan_sms.c */
extern const struct pg_channel pg_chan_pager;   /* pager/chan_pager.c */
extern const struct pg_channel pg_chan_mqtt;    /* mqtt/chan_mqtt.c */
extern const struct pg_channel pg_chan_voice;   /* voice/chan_voice.c */

#endif
