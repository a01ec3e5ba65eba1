/*
 * sms_provider.c - for each provider kind, the HTTP request that submits
 * one SMS and what the reply means.  Pure: no I/O (chan_sms.c runs the
 * requests).
 *
 *   kannel  GET sendsms?username&password&from&to&text&coding&charset
 *           &smsc&dlr-mask&dlr-url.  GSM-7 text goes as UTF-8 with
 *           coding=0 (Kannel converts it to the GSM alphabet); UCS-2 text
 *           goes as UTF-16BE octets with coding=2 and charset=UTF-16BE, so
 *           that characters outside the BMP survive as surrogate pairs;
 *           Kannel cuts a long one every 134 octets, so a pair that would
 *           straddle a cut is moved past it (sms_utf16be_segments).
 *           202 "0: Accepted for delivery" or "3: Queued for later
 *           delivery" -> ok; 4xx (403 bad credentials, 400 bad number)
 *           -> perm; 5xx -> temp.
 *   twilio  POST {url}/2010-04-01/Accounts/{sid}/Messages.json, basic
 *           auth sid:token, form To, From | MessagingServiceSid, Body,
 *           StatusCallback.  2xx with a sid and a status queued /
 *           accepted / scheduled / sending / sent -> ok; failed /
 *           undelivered -> perm; 401/403 and other 4xx -> perm; 429 and
 *           5xx -> temp; an unreadable 2xx -> temp (a duplicate page is
 *           better than a lost one).
 *   http    the configured method, URL and body templates and headers;
 *           success = a status pattern ("2xx") or a regular expression
 *           the body must match (with a 2xx status).  Otherwise 5xx, 408
 *           and 429 -> temp, anything else -> perm.
 * No transport answer (refused, timeout, TLS failure) is always temp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sms_priv.h"

#define URL_MAX    (16 * 1024)
#define BODY_MAX   (16 * 1024)
#define SHOW_BODY  200          /* reply bytes quoted in the ledger */

pg_err
sms_url_encode(struct pg_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	pg_err e = PG_OK;

	for (size_t i = 0; i < n && !e; i++) {
		if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '.' ||
		    p[i] == '_' || p[i] == '~')
			e = pg_buf_add(b, p + i, 1);
		else {
			char t[3] = { '%', hex[p[i] >> 4], hex[p[i] & 15] };
			e = pg_buf_add(b, t, 3);
		}
	}
	if (!e && !b->data)
		e = pg_buf_adds(b, "");
	return e;
}

bool
sms_number_ok(const char *s)
{
	size_t n;
	bool plus;

	if (!s)
		return false;
	plus = *s == '+';
	if (plus)
		s++;
	n = strlen(s);
	if (n < (plus ? 5u : 3u) || n > 15)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

void
sms_request_free(struct sms_request *r)
{
	free(r->url);
	free(r->body);
	for (size_t i = 0; i < r->n_headers; i++)
		free(r->headers[i]);
	free(r->headers);
	memset(r, 0, sizeof *r);
}

static pg_err
add_param(struct pg_buf *b, const char *name, const char *v, size_t n)
{
	char last = b->len ? b->data[b->len - 1] : '?';
	pg_err e = pg_buf_printf(b, "%s%s=", last == '?' || last == '&' ? "" : "&", name);
	return e ? e : sms_url_encode(b, v, n);
}

static pg_err
add_params(struct pg_buf *b, const char *name, const char *v)
{
	return add_param(b, name, v, strlen(v));
}

/* ---- Kannel ---- */

static pg_err
kannel_request(const struct sms_provider *p, const struct sms_msg *m,
	       struct sms_request *r)
{
	struct pg_buf u, ucs, dlr;
	const struct sms_text *t = m->text;
	pg_err e;

	pg_buf_init(&u, URL_MAX);
	pg_buf_init(&ucs, BODY_MAX);
	pg_buf_init(&dlr, URL_MAX);
	e = pg_buf_printf(&u, "%s%c", p->url, strchr(p->url, '?') ? '&' : '?');
	if (!e)
		e = add_params(&u, "username", p->username);
	if (!e)
		e = add_params(&u, "password", p->password);
	if (!e && p->from)
		e = add_params(&u, "from", p->from);
	if (!e)
		e = add_params(&u, "to", m->to);
	if (!e && t->coding == SMS_GSM7) {
		e = add_param(&u, "text", t->utf8.data, t->utf8.len);
		if (!e)
			e = pg_buf_adds(&u, "&coding=0&charset=UTF-8");
	} else if (!e) {
		e = sms_utf16be_segments(t->utf8.data, t->utf8.len, t->segments > 1, &ucs);
		if (!e)
			e = add_param(&u, "text", ucs.data, ucs.len);
		if (!e)
			e = pg_buf_adds(&u, "&coding=2&charset=UTF-16BE");
	}
	if (!e && p->smsc)
		e = add_params(&u, "smsc", p->smsc);
	if (!e && p->dlr_mask && m->status_url) {
		e = pg_buf_printf(&u, "&dlr-mask=%d", p->dlr_mask);
		/* Kannel fills in %d (report type), %i (smsc-id), %A (the
		 * SMSC's answer) when it calls the URL */
		if (!e)
			e = pg_buf_printf(&dlr, "%s?type=%%d&smsc=%%i&answer=%%A", m->status_url);
		if (!e)
			e = add_param(&u, "dlr-url", dlr.data, dlr.len);
	}
	if (!e) {
		r->method = "GET";
		r->url = pg_buf_steal(&u);
		e = r->url ? PG_OK : PG_ERR_NOMEM;
	}
	pg_buf_free(&u);
	pg_buf_free(&ucs);
	pg_buf_free(&dlr);
	return e;
}

static void
kannel_judge(const struct sms_reply *rp, enum pg_outcome *o, char *reply)
{
	char text[PG_REPLY_MAX - 16];

	pg_text_oneline(text, sizeof text, rp->body, rp->body_len);
	snprintf(reply, PG_REPLY_MAX, "%ld %s", rp->status, text);
	if (rp->status >= 200 && rp->status < 300)
		*o = PG_OUT_OK;
	else if (rp->status >= 400 && rp->status < 500)
		*o = PG_OUT_PERM;
	else
		*o = PG_OUT_TEMP;
}

/* ---- Twilio ---- */

static pg_err
twilio_request(const struct sms_provider *p, const struct sms_msg *m,
	       struct sms_request *r)
{
	struct pg_buf u, b;
	size_t ul = strlen(p->url);
	pg_err e;

	while (ul > 0 && p->url[ul - 1] == '/')
		ul--;
	pg_buf_init(&u, URL_MAX);
	pg_buf_init(&b, BODY_MAX);
	e = pg_buf_printf(&u, "%.*s/2010-04-01/Accounts/", (int)ul, p->url);
	if (!e)
		e = sms_url_encode(&u, p->account_sid, strlen(p->account_sid));
	if (!e)
		e = pg_buf_adds(&u, "/Messages.json");
	if (!e)
		e = add_params(&b, "To", m->to);
	if (!e && p->messaging_service_sid)
		e = add_params(&b, "MessagingServiceSid", p->messaging_service_sid);
	else if (!e)
		e = add_params(&b, "From", p->from);
	if (!e)
		e = add_param(&b, "Body", m->text->utf8.data, m->text->utf8.len);
	if (!e && m->status_url)
		e = add_params(&b, "StatusCallback", m->status_url);
	if (!e && (r->headers = calloc(1, sizeof *r->headers)) &&
	    (r->headers[0] = strdup("Content-Type: application/x-www-form-urlencoded")))
		r->n_headers = 1;
	else if (!e)
		e = PG_ERR_NOMEM;
	if (!e) {
		r->method = "POST";
		r->body_len = b.len;
		r->url = pg_buf_steal(&u);
		r->body = pg_buf_steal(&b);
		r->user = p->account_sid;
		r->password = p->auth_token;
		e = r->url && r->body ? PG_OK : PG_ERR_NOMEM;
	}
	pg_buf_free(&u);
	pg_buf_free(&b);
	return e;
}

static bool
in_list(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static void
twilio_judge(const struct sms_reply *rp, enum pg_outcome *o, char *reply)
{
	static const char *const accepted[] = { "queued", "accepted", "scheduled",
		"sending", "sent", "delivered", NULL };
	static const char *const refused[] = { "failed", "undelivered", "canceled", NULL };
	char text[PG_REPLY_MAX - 64], msg[256], sid[64], st[32];
	json_t *j = json_loadb(rp->body, rp->body_len, JSON_REJECT_DUPLICATES, NULL);
	const char *s_sid = NULL, *s_status = NULL, *s_msg = NULL;
	json_t *code = NULL;
	long long c = 0;

	if (json_is_object(j)) {
		s_sid = json_string_value(json_object_get(j, "sid"));
		s_status = json_string_value(json_object_get(j, "status"));
		code = json_object_get(j, json_is_integer(json_object_get(j, "code")) ?
				       "code" : "error_code");
		c = json_is_integer(code) ? json_integer_value(code) : 0;
		s_msg = json_string_value(json_object_get(j, "message"));
		if (!s_msg)
			s_msg = json_string_value(json_object_get(j, "error_message"));
	}
	pg_text_oneline(sid, sizeof sid, s_sid ? s_sid : "", SIZE_MAX);
	pg_text_oneline(st, sizeof st, s_status ? s_status : "", SIZE_MAX);
	pg_text_oneline(msg, sizeof msg, s_msg ? s_msg : "", SIZE_MAX);

	if (rp->status >= 200 && rp->status < 300 && s_sid && *sid &&
	    in_list(s_status, accepted)) {
		*o = PG_OUT_OK;
		snprintf(reply, PG_REPLY_MAX, "%ld %s sid=%s", rp->status, st, sid);
	} else if (rp->status >= 200 && rp->status < 300 && s_sid && in_list(s_status, refused)) {
		*o = PG_OUT_PERM;
		snprintf(reply, PG_REPLY_MAX, "%ld %s sid=%s error %lld%s%s", rp->status, st,
			 sid, c, *msg ? ": " : "", msg);
	} else if (rp->status >= 200 && rp->status < 300) {
		*o = PG_OUT_TEMP;
		pg_text_oneline(text, sizeof text, rp->body, rp->body_len < SHOW_BODY ?
			  rp->body_len : SHOW_BODY);
		snprintf(reply, PG_REPLY_MAX, "%ld unreadable reply: %s", rp->status, text);
	} else {
		*o = rp->status == 429 || rp->status >= 500 || rp->status < 400 ?
			PG_OUT_TEMP : PG_OUT_PERM;
		if (json_is_integer(code) || *msg)
			snprintf(reply, PG_REPLY_MAX, "%ld Twilio error %lld: %s", rp->status,
				 c, msg);
		else {
			pg_text_oneline(text, sizeof text, rp->body, rp->body_len < SHOW_BODY ?
				  rp->body_len : SHOW_BODY);
			snprintf(reply, PG_REPLY_MAX, "%ld %s", rp->status, text);
		}
	}
	json_decref(j);
}

/* ---- generic HTTP ---- */

static const char *const tmpl_vars[] = { "to", "from", "text", "delivery_id",
	"status_url", "coding", "segments", NULL };

/* Finds the next "{{name}}" at or after s: sets *start, *end (past "}}")
 * and the trimmed name.  false when there is none; *bad when "{{" is not
 * closed on its line. */
static bool
next_var(const char *s, const char **start, const char **end, const char **name,
	 size_t *nlen, bool *bad)
{
	const char *a = strstr(s, "{{"), *b, *nl;

	*bad = false;
	if (!a)
		return false;
	b = strstr(a + 2, "}}");
	nl = strchr(a, '\n');
	if (!b || (nl && nl < b)) {
		*bad = true;
		return false;
	}
	*start = a;
	*end = b + 2;
	a += 2;
	while (a < b && *a == ' ')
		a++;
	while (b > a && b[-1] == ' ')
		b--;
	*name = a;
	*nlen = (size_t)(b - a);
	return true;
}

static int
var_index(const char *name, size_t n)
{
	for (int i = 0; tmpl_vars[i]; i++)
		if (strlen(tmpl_vars[i]) == n && strncmp(tmpl_vars[i], name, n) == 0)
			return i;
	return -1;
}

bool
sms_tmpl_check(const char *tmpl, char *err, size_t errlen)
{
	const char *s = tmpl, *a, *b, *name;
	size_t n;
	bool bad;

	while (next_var(s, &a, &b, &name, &n, &bad)) {
		if (var_index(name, n) < 0) {
			snprintf(err, errlen, "unknown variable \"%.*s\" (known: to, from, "
				 "text, delivery_id, status_url, coding, segments)",
				 (int)(n > 40 ? 40 : n), name);
			return false;
		}
		s = b;
	}
	if (bad) {
		snprintf(err, errlen, "\"{{\" without \"}}\" on the same line");
		return false;
	}
	return true;
}

static pg_err
escape_json(struct pg_buf *b, const char *s)
{
	pg_err e = PG_OK;

	for (const unsigned char *p = (const unsigned char *)s; *p && !e; p++) {
		if (*p == '"' || *p == '\\')
			e = pg_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			e = pg_buf_printf(b, "\\u%04x", *p);
		else
			e = pg_buf_add(b, p, 1);
	}
	return e;
}

static pg_err
render(const char *tmpl, const char *const vals[], enum sms_escape esc,
       struct pg_buf *out)
{
	const char *s = tmpl, *a, *b, *name;
	size_t n;
	bool bad;
	int i;
	pg_err e = PG_OK;

	while (!e && next_var(s, &a, &b, &name, &n, &bad)) {
		e = pg_buf_add(out, s, (size_t)(a - s));
		if (!e && (i = var_index(name, n)) >= 0 && vals[i]) {
			if (esc == SMS_ESC_URL)
				e = sms_url_encode(out, vals[i], strlen(vals[i]));
			else if (esc == SMS_ESC_JSON)
				e = escape_json(out, vals[i]);
			else
				e = pg_buf_adds(out, vals[i]);
		}
		s = b;
	}
	if (!e)
		e = pg_buf_adds(out, s);
	return e;
}

static pg_err
http_request(const struct sms_provider *p, const struct sms_msg *m,
	     struct sms_request *r)
{
	char did[24], seg[8];
	const char *vals[] = { m->to, p->from ? p->from : "", m->text->utf8.data, did,
		m->status_url ? m->status_url : "",
		m->text->coding == SMS_GSM7 ? "gsm7" : "ucs2", seg };
	struct pg_buf u, b;
	pg_err e;

	snprintf(did, sizeof did, "%lld", (long long)m->delivery_id);
	snprintf(seg, sizeof seg, "%u", m->text->segments);
	pg_buf_init(&u, URL_MAX);
	pg_buf_init(&b, BODY_MAX);
	e = render(p->url, vals, SMS_ESC_URL, &u);
	if (!e && p->body)
		e = render(p->body, vals, p->escape, &b);
	if (!e && p->n_headers) {
		if (!(r->headers = calloc(p->n_headers, sizeof *r->headers)))
			e = PG_ERR_NOMEM;
		for (size_t i = 0; !e && i < p->n_headers; i++)
			if (!(r->headers[r->n_headers++] = strdup(p->headers[i])))
				e = PG_ERR_NOMEM;
	}
	if (!e) {
		r->method = p->method;
		r->url = pg_buf_steal(&u);
		if (p->body) {
			r->body_len = b.len;
			r->body = pg_buf_steal(&b);
		}
		if (p->username) {
			r->user = p->username;
			r->password = p->password;
		}
		e = r->url && (!p->body || r->body) ? PG_OK : PG_ERR_NOMEM;
	}
	pg_buf_free(&u);
	pg_buf_free(&b);
	return e;
}

static void
http_judge(const struct sms_provider *p, const struct sms_reply *rp,
	   enum pg_outcome *o, char *reply)
{
	char text[PG_REPLY_MAX - 64];
	bool st_ok = rp->status >= p->ok_lo && rp->status <= p->ok_hi;

	pg_text_oneline(text, sizeof text, rp->body, rp->body_len);
	snprintf(reply, PG_REPLY_MAX, "%ld %s", rp->status, text);
	if (p->has_regex) {
		st_ok = rp->status >= 200 && rp->status < 300;
		if (st_ok && regexec(&p->ok_regex, rp->body, 0, NULL, 0) != 0) {
			*o = PG_OUT_PERM;
			snprintf(reply, PG_REPLY_MAX, "%ld reply does not match success: %s",
				 rp->status, text);
			return;
		}
	}
	if (st_ok)
		*o = PG_OUT_OK;
	else if (rp->status >= 500 || rp->status == 408 || rp->status == 429 ||
		 rp->status < 100)
		*o = PG_OUT_TEMP;
	else
		*o = PG_OUT_PERM;
}

/* ---- dispatch ---- */

pg_err
sms_build_request(const struct sms_provider *p, const struct sms_msg *m,
		  struct sms_request *out, char *why, size_t why_len)
{
	pg_err e;

	memset(out, 0, sizeof *out);
	if (!sms_number_ok(m->to)) {
		snprintf(why, why_len, "invalid phone number \"%.40s\", not sent", m->to);
		return PG_ERR_INVAL;
	}
	switch (p->kind) {
	case SMS_KANNEL: e = kannel_request(p, m, out); break;
	case SMS_TWILIO: e = twilio_request(p, m, out); break;
	default:         e = http_request(p, m, out); break;
	}
	if (e) {
		snprintf(why, why_len, "cannot build the %s request: %s",
			 p->kind == SMS_KANNEL ? "Kannel" : p->kind == SMS_TWILIO ?
			 "Twilio" : "HTTP", pg_strerror(e));
		sms_request_free(out);
	}
	return e;
}

void
sms_judge_reply(const struct sms_provider *p, const struct sms_reply *r,
		enum pg_outcome *outcome, char reply[PG_REPLY_MAX])
{
	if (r->error || r->status == 0) {
		*outcome = PG_OUT_TEMP;
		snprintf(reply, PG_REPLY_MAX, "%s%s", r->timed_out ? "no answer in time: " : "",
			 r->error ? r->error : "no HTTP response");
		return;
	}
	switch (p->kind) {
	case SMS_KANNEL: kannel_judge(r, outcome, reply); break;
	case SMS_TWILIO: twilio_judge(r, outcome, reply); break;
	default:         http_judge(p, r, outcome, reply); break;
	}
}
