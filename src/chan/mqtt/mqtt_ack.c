/*
 * mqtt_ack.c - what arrives on the ack topic: a JSON object
 * {"ack": "482913", "by": "jane"} from an app, or the plain text a
 * person or a simple device sends ("482913", "ack 482913").  Payloads
 * come from anybody who may publish on the broker: hostile until parsed,
 * bounded, and never more than a reference and a name come out.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mqtt_priv.h"
#include "pagegate/util.h"

/* Copies s[0..n) into ref when it is 1..PG_ACK_REF_MAX-1 digits (the
 * store's references are digits; words like "ok" never pass). */
static bool
ref_copy(const char *s, size_t n, char ref[PG_ACK_REF_MAX])
{
	size_t i;

	if (n == 0 || n >= PG_ACK_REF_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	memcpy(ref, s, n);
	ref[n] = '\0';
	return true;
}

/* Copies the name s into who: controls become spaces, blanks at the ends
 * go, at most MQTT_WHO_MAX-1 bytes, never cutting a UTF-8 sequence. */
static void
who_copy(const char *s, char who[MQTT_WHO_MAX])
{
	size_t o = 0, i, k, len;
	unsigned char c;

	while (*s == ' ' || ((unsigned char)*s < 0x20 && *s))
		s++;
	for (i = 0; s[i]; i += len) {
		c = (unsigned char)s[i];
		len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		for (k = 1; k < len; k++)       /* input is valid UTF-8 */
			if (!s[i + k])
				return;
		if (o + len >= MQTT_WHO_MAX)
			break;
		if (c < 0x20 || c == 0x7f)
			who[o++] = ' ';
		else {
			memcpy(who + o, s + i, len);
			o += len;
		}
	}
	while (o > 0 && who[o - 1] == ' ')
		o--;
	who[o] = '\0';
}

static pg_err
parse_json(const char *text, size_t len, char ref[PG_ACK_REF_MAX],
	   char who[MQTT_WHO_MAX], char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *ack, *by;
	char num[32];
	const char *r;
	pg_err e = PG_OK;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return mqtt_invalid(err, errlen, "not valid JSON: %s", je.text);
	if (!json_is_object(root)) {
		e = mqtt_invalid(err, errlen, "JSON payload is not an object");
		goto out;
	}
	ack = json_object_get(root, "ack");
	if (json_is_string(ack))
		r = json_string_value(ack);
	else if (json_is_integer(ack) && json_integer_value(ack) >= 0) {
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(ack));
		r = num;
	} else {
		e = mqtt_invalid(err, errlen, "JSON payload has no \"ack\" string");
		goto out;
	}
	if (!ref_copy(r, strlen(r), ref)) {
		e = mqtt_invalid(err, errlen, "\"ack\" is not a reference (1 to %d digits)",
			 PG_ACK_REF_MAX - 1);
		goto out;
	}
	by = json_object_get(root, "by");
	if (by && !json_is_string(by) && !json_is_null(by)) {
		e = mqtt_invalid(err, errlen, "\"by\" is not a string");
		goto out;
	}
	who_copy(json_is_string(by) ? json_string_value(by) : "", who);
out:
	json_decref(root);
	return e;
}

static pg_err
parse_text(const char *s, size_t n, char ref[PG_ACK_REF_MAX], char *err,
	   size_t errlen)
{
	size_t b = 0, e = n;

	while (b < e && isspace((unsigned char)s[b]))
		b++;
	while (e > b && isspace((unsigned char)s[e - 1]))
		e--;
	if (e > b && (s[e - 1] == '.' || s[e - 1] == '!'))
		e--;
	/* an optional leading word "ack" or "ok", then blanks or ':' */
	if (e - b > 3 && strncasecmp(s + b, "ack", 3) == 0 &&
	    (isspace((unsigned char)s[b + 3]) || s[b + 3] == ':'))
		b += 3;
	else if (e - b > 2 && strncasecmp(s + b, "ok", 2) == 0 &&
		 (isspace((unsigned char)s[b + 2]) || s[b + 2] == ':'))
		b += 2;
	while (b < e && (isspace((unsigned char)s[b]) || s[b] == ':'))
		b++;
	if (!ref_copy(s + b, e - b, ref))
		return mqtt_invalid(err, errlen, "not an acknowledgement (expected \"REF\", "
			    "\"ack REF\" or JSON {\"ack\":\"REF\"})");
	return PG_OK;
}

pg_err
mqtt_ack_parse(const void *payload, size_t len, char ref[PG_ACK_REF_MAX],
	       char who[MQTT_WHO_MAX], char *err, size_t errlen)
{
	const char *s = payload;
	size_t i = 0;
	pg_err e;

	ref[0] = '\0';
	who[0] = '\0';
	if (!payload || len == 0)
		return mqtt_invalid(err, errlen, "empty payload");
	if (len > MQTT_ACK_MAX)
		return mqtt_invalid(err, errlen, "payload of %zu bytes is over %d", len, MQTT_ACK_MAX);
	if (memchr(s, '\0', len))
		return mqtt_invalid(err, errlen, "payload contains a NUL byte");
	if (!pg_utf8_valid(s, len))
		return mqtt_invalid(err, errlen, "payload is not valid UTF-8");
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i < len && s[i] == '{')
		e = parse_json(s, len, ref, who, err, errlen);
	else
		e = parse_text(s, len, ref, err, errlen);
	if (e) {
		ref[0] = '\0';
		who[0] = '\0';
	}
	return e;
}
