/*
 * fuzz_mqtt_ack.c - a payload published on the MQTT ack topic (anybody
 * who may publish on the broker can send one): the input is the payload,
 * parsed by mqtt_ack_parse as on_message does, JSON ({"ack","by"}) or
 * plain text ("ack 482913").
 *
 * Checked besides the sanitizers: an accepted payload gives a reference of
 * 1..PG_ACK_REF_MAX-1 digits and a "who" of valid UTF-8 without control
 * characters, shorter than MQTT_WHO_MAX; a refused one a reason.
 */
#include "fuzz.h"

#include "pagegate/util.h"
#include "../../src/chan/mqtt/mqtt_priv.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ref[PG_ACK_REF_MAX], who[MQTT_WHO_MAX], err[160];
	size_t n;
	pg_err e;

	err[0] = '\0';
	e = mqtt_ack_parse(data, size, ref, who, err, sizeof err);
	if (e != PG_OK) {
		FUZZ_ASSERT(e == PG_ERR_INVAL);
		FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof err));
		return 0;
	}
	n = strnlen(ref, sizeof ref);
	FUZZ_ASSERT(n >= 1 && n < PG_ACK_REF_MAX);
	FUZZ_ASSERT(strspn(ref, "0123456789") == n);
	n = strnlen(who, sizeof who);
	FUZZ_ASSERT(n < MQTT_WHO_MAX && pg_utf8_valid(who, n));
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)who[i] >= 0x20 && who[i] != 0x7f);
	return 0;
}
