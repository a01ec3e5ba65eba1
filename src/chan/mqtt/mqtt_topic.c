/*
 * mqtt_topic.c - topic templates of mqtt devices ("pages/{client}/{contact}")
 * and the checks of publish topics and of the ack subscription filter.
 *
 * MQTT itself allows empty levels and most characters; pagegate is
 * stricter so that a typo in a client file ("pages//jane", "pages/+/x")
 * is a configuration error instead of pages that nobody subscribed to.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mqtt_priv.h"
#include "pagegate/util.h"

static const char *const placeholders[] = { "{client}", "{contact}" };
enum { PH_CLIENT = 0, PH_CONTACT, PH__COUNT };

pg_err
mqtt_invalid(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return PG_ERR_INVAL;
}

/* The placeholder starting at s, or -1. */
static int
placeholder_at(const char *s)
{
	for (int i = 0; i < PH__COUNT; i++)
		if (strncmp(s, placeholders[i], strlen(placeholders[i])) == 0)
			return i;
	return -1;
}

/* Checks s as a publish topic; with tmpl, {client} and {contact} are
 * allowed and other braces are not. */
static pg_err
check_topic(const char *s, bool tmpl, char *err, size_t errlen)
{
	size_t n = strlen(s), level = 0, i;
	int ph;

	if (n == 0)
		return mqtt_invalid(err, errlen, "the topic is empty");
	if (n > MQTT_TOPIC_MAX)
		return mqtt_invalid(err, errlen, "the topic is longer than %d bytes", MQTT_TOPIC_MAX);
	if (!pg_utf8_valid(s, n))
		return mqtt_invalid(err, errlen, "the topic is not valid UTF-8");
	if (pg_has_ctl(s, false))
		return mqtt_invalid(err, errlen, "the topic contains a control character");
	if (s[0] == '$')
		return mqtt_invalid(err, errlen, "topics starting with '$' are reserved for the broker");
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '+':
		case '#':
			return mqtt_invalid(err, errlen, "wildcard '%c' in a topic to publish to", s[i]);
		case '/':
			if (level == 0)
				return mqtt_invalid(err, errlen, i == 0 ? "the topic starts with '/' (empty level)" :
					    "empty level (\"//\") in the topic");
			level = 0;
			continue;
		case '{':
			if (tmpl && (ph = placeholder_at(s + i)) >= 0) {
				i += strlen(placeholders[ph]) - 1;
				level++;
				continue;
			}
			if (tmpl)
				return mqtt_invalid(err, errlen, "unknown placeholder at \"%.20s\" "
					    "(only {client} and {contact})", s + i);
			return mqtt_invalid(err, errlen, "'{' in the topic");
		case '}':
			return mqtt_invalid(err, errlen, "lone '}' in the topic");
		default:
			level++;
		}
	}
	if (level == 0)
		return mqtt_invalid(err, errlen, "the topic ends with '/' (empty level)");
	return PG_OK;
}

pg_err
mqtt_topic_check(const char *tmpl, char *err, size_t errlen)
{
	if (!tmpl)
		return mqtt_invalid(err, errlen, "no topic");
	return check_topic(tmpl, true, err, errlen);
}

/* A value put in place of a placeholder: one non-empty level. */
static pg_err
value_ok(const char *what, const char *v, char *err, size_t errlen)
{
	if (!v || !*v)
		return mqtt_invalid(err, errlen, "the %s id is empty", what);
	if (strpbrk(v, "/+#{}"))
		return mqtt_invalid(err, errlen, "the %s id \"%.64s\" contains '/', '+', '#' or a brace",
			    what, v);
	return PG_OK;
}

pg_err
mqtt_topic_expand(const char *tmpl, const char *client, const char *contact,
		  char *out, size_t outlen, char *err, size_t errlen)
{
	struct pg_buf b;
	const char *p;
	int ph;
	pg_err e;

	if (!out || outlen == 0)
		return PG_ERR_INVAL;
	out[0] = '\0';
	if ((e = mqtt_topic_check(tmpl, err, errlen)))
		return e;
	pg_buf_init(&b, outlen - 1 < MQTT_TOPIC_MAX ? outlen - 1 : MQTT_TOPIC_MAX);
	for (p = tmpl; *p && !e; ) {
		if (*p == '{' && (ph = placeholder_at(p)) >= 0) {
			const char *v = ph == PH_CLIENT ? client : contact;
			if (!(e = value_ok(ph == PH_CLIENT ? "client" : "contact", v, err, errlen)))
				e = pg_buf_adds(&b, v);
			p += strlen(placeholders[ph]);
		} else {
			e = pg_buf_add(&b, p, 1);
			p++;
		}
	}
	if (e == PG_ERR_TOOBIG)
		mqtt_invalid(err, errlen, "the expanded topic is longer than %zu bytes",
		     outlen - 1 < MQTT_TOPIC_MAX ? outlen - 1 : (size_t)MQTT_TOPIC_MAX);
	else if (e == PG_ERR_NOMEM)
		mqtt_invalid(err, errlen, "out of memory");
	if (!e)
		e = check_topic(b.data ? b.data : "", false, err, errlen);
	if (!e)
		pg_strlcpy(out, b.data, outlen);
	pg_buf_free(&b);
	return e;
}

pg_err
mqtt_filter_check(const char *f, char *err, size_t errlen)
{
	size_t n, i;
	bool level_start = true;

	if (!f || !*f)
		return mqtt_invalid(err, errlen, "the topic filter is empty");
	n = strlen(f);
	if (n > MQTT_TOPIC_MAX)
		return mqtt_invalid(err, errlen, "the topic filter is longer than %d bytes", MQTT_TOPIC_MAX);
	if (!pg_utf8_valid(f, n))
		return mqtt_invalid(err, errlen, "the topic filter is not valid UTF-8");
	if (pg_has_ctl(f, false))
		return mqtt_invalid(err, errlen, "the topic filter contains a control character");
	for (i = 0; i < n; i++) {
		if (f[i] == '+' || f[i] == '#') {
			if (!level_start || (f[i + 1] && f[i + 1] != '/'))
				return mqtt_invalid(err, errlen, "'%c' must be a whole level of the filter", f[i]);
			if (f[i] == '#' && f[i + 1])
				return mqtt_invalid(err, errlen, "'#' must be the last level of the filter");
		}
		level_start = f[i] == '/';
	}
	return PG_OK;
}
