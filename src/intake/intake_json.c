/*
 * intake_json.c - validation of API input (intake.h): JSON text plus the
 * configuration -> a message, a preview request or a precise error naming
 * the field.  Pure: no I/O, no clock.  Also turns a routing plan into the
 * deliveries the store records.
 *
 * Every body is validated completely before anything is allocated, so a
 * rejected body costs nothing to clean up.
 *
 * Error codes (struct pg_api_error.code):
 *   invalid_json   the body is not JSON (or not UTF-8): field ""
 *   invalid_type   a value has the wrong JSON type ("expected a string")
 *   missing        a required value is absent or blank
 *   too_large      a value is over its bound
 *   invalid        a value is malformed (characters, enumerations, times)
 *   unknown_field  a key the API or the client does not define
 *   unknown_client (404) no client with that id or dnis
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "intake_priv.h"      /* intake__error, defined here */
#include "pagegate/intake.h"
#include "pagegate/util.h"
#include "pagegate/visible.h"

pg_err
intake__error(struct pg_api_error *err, int status, const char *code,
	      const char *field, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	pg_strlcpy(err->code, code, sizeof err->code);
	pg_strlcpy(err->field, field, sizeof err->field);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return PG_ERR_INVAL;
}

/* Fills err and returns PG_ERR_INVAL (the only error of validation). */
#define fail intake__error

/*
 * Copies untrusted text into dst[size] so that it can be echoed safely:
 * printable ASCII and whole well-formed UTF-8 sequences are kept, anything
 * else (control characters, stray bytes) becomes '?', and the copy is cut
 * at a character boundary, with "..." when it had to be shortened.
 */
static void
safe_copy(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (size == 0)
		return;
	while (*s) {
		size_t n = 1;

		if (*s >= 0xc2 && *s <= 0xf4) {
			n = *s < 0xe0 ? 2 : *s < 0xf0 ? 3 : 4;
			if (strnlen((const char *)s, n) < n ||
			    !pg_utf8_valid((const char *)s, n))
				n = 0;          /* malformed: one byte -> '?' */
		}
		if (o + (n ? n : 1) > size - 1)
			break;
		if (n == 1 && *s >= 0x20 && *s < 0x7f)
			dst[o++] = (char)*s;
		else if (n <= 1)
			dst[o++] = '?';
		else
			memcpy(dst + o, s, n);
		o += n > 1 ? n : 0;
		s += n ? n : 1;
	}
	if (*s && size >= 4) {
		/* Cut: back up to a character boundary and mark it. */
		if (o > size - 4) {
			o = size - 4;
			while (o > 0 && ((unsigned char)dst[o] & 0xc0) == 0x80)
				o--;
		}
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* "prefix.key" with key made safe to echo. */
static void
field_name(char *dst, size_t size, const char *prefix, const char *key)
{
	size_t n = strlen(prefix);

	pg_strlcpy(dst, prefix, size);
	if (n + 1 < size) {
		dst[n] = '.';
		safe_copy(dst + n + 1, size - n - 1, key);
	}
}

/* True when s contains a C1 control character (U+0080..U+009F). */
static bool
has_c1(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return true;
	return false;
}

/* True when s has something other than spaces, tabs and line breaks. */
static bool
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/*
 * Checks one string value: UTF-8 (jansson guarantees it, checked again),
 * at most max bytes, no control characters (multi_line allows newlines and
 * tabs), non-blank when required, and nothing that would make it display
 * as something else (visible.h): refused, not edited, so that what is
 * stored is what was sent.  Multi-line values are text (PG_VIS_TEXT), one
 * line ones names and numbers (PG_VIS_NAME).
 */
static pg_err
check_text(const char *field, const char *s, size_t len, size_t max,
	   bool multi_line, bool required, struct pg_api_error *err)
{
	uint32_t cp;
	size_t at;

	if (required && blank(s))
		return fail(err, 400, "missing", field, "%s must not be empty", field);
	if (len > max)
		return fail(err, 400, "too_large", field,
			    "%s is %zu bytes long; at most %zu are allowed", field, len, max);
	if (strlen(s) != len || !pg_utf8_valid(s, len))
		return fail(err, 400, "invalid", field, "%s is not valid UTF-8 text", field);
	if (pg_has_ctl(s, multi_line) || has_c1(s))
		return fail(err, 400, "invalid", field,
			    multi_line ? "%s must not contain control characters other than newlines and tabs"
				       : "%s must not contain control characters or line breaks",
			    field);
	if ((cp = pg_visible_bad(s, multi_line ? PG_VIS_TEXT : PG_VIS_NAME, &at)))
		return fail(err, 400, "invalid", field, multi_line ?
			    "%s must not contain bidirectional embeddings, overrides "
			    "or isolates (U+%04X after %zu characters)" :
			    "%s must not contain invisible or direction-changing "
			    "characters (U+%04X after %zu characters)", field,
			    (unsigned)cp, at);
	return PG_OK;
}

/* Name of a JSON type for "expected a string, got a number". */
static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: case JSON_REAL: return "a number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "something else";
}

/*
 * The string member key of obj.  Absent (or null when nullable) -> *out =
 * NULL and PG_OK; any other non-string -> invalid_type naming field.
 */
static pg_err
get_str(json_t *obj, const char *key, const char *field, bool nullable,
	const char **out, size_t *len, struct pg_api_error *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (len)
		*len = 0;
	if (v == NULL || (nullable && json_is_null(v)))
		return PG_OK;
	if (!json_is_string(v))
		return fail(err, 400, "invalid_type", field,
			    "%s: expected a string, got %s", field, type_name(v));
	*out = json_string_value(v);
	if (len)
		*len = json_string_length(v);
	return PG_OK;
}

/* Rejects any key of obj not in allowed (NULL-terminated); prefix names
 * the object ("" for the top level). */
static pg_err
check_keys(json_t *obj, const char *const *allowed, const char *prefix,
	   struct pg_api_error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		bool ok = false;

		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = true;
		if (!ok) {
			char f[64];

			if (*prefix)
				field_name(f, sizeof f, prefix, key);
			else
				safe_copy(f, sizeof f, key);
			return fail(err, 400, "unknown_field", f, "unknown key \"%s\"", f);
		}
	}
	return PG_OK;
}

/* Loads body as a JSON object; errors carry jansson's line and column. */
static pg_err
load_object(const char *body, size_t len, json_t **out, struct pg_api_error *err)
{
	json_error_t je;
	json_t *root;

	*out = NULL;
	if (body == NULL)
		len = 0;
	root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		char text[JSON_ERROR_TEXT_LENGTH];

		safe_copy(text, sizeof text, je.text);
		return fail(err, 400, "invalid_json", "",
			    "malformed JSON at line %d, column %d: %s",
			    je.line, je.column, text);
	}
	if (!json_is_object(root)) {
		fail(err, 400, "invalid_json", "",
		     "the body must be a JSON object, not %s", type_name(root));
		json_decref(root);
		return PG_ERR_INVAL;
	}
	*out = root;
	return PG_OK;
}

/* client or dnis (exactly one) -> *cl. */
static pg_err
parse_target(json_t *root, const struct pg_config *cfg,
	     const struct pg_client **cl, struct pg_api_error *err)
{
	const char *client, *dnis;
	size_t clen, dlen;
	pg_err e;

	*cl = NULL;
	if ((e = get_str(root, "client", "client", false, &client, &clen, err)) ||
	    (e = get_str(root, "dnis", "dnis", false, &dnis, &dlen, err)))
		return e;
	if (client == NULL && dnis == NULL)
		return fail(err, 400, "missing", "client",
			    "either client (the client id) or dnis (the number dialled) is required");
	if (client && dnis)
		return fail(err, 400, "invalid", "client",
			    "give either client or dnis, not both");
	if (client) {
		if (strlen(client) == clen)
			*cl = pg_config_client(cfg, client);
		if (*cl == NULL)
			return fail(err, 404, "unknown_client", "client",
				    "there is no client with this id");
	} else {
		if (strlen(dnis) == dlen)
			*cl = pg_config_client_by_dnis(cfg, dnis);
		if (*cl == NULL)
			return fail(err, 404, "unknown_client", "dnis",
				    "no client answers this number");
	}
	return PG_OK;
}

/* kind and urgency, both optional (null = the default). */
static pg_err
parse_enums(json_t *root, enum pg_kind *kind, enum pg_urgency *urg,
	    struct pg_api_error *err)
{
	const char *s;
	pg_err e;

	*kind = PG_KIND_MESSAGE;
	*urg = PG_URG_ROUTINE;
	if ((e = get_str(root, "kind", "kind", true, &s, NULL, err)))
		return e;
	if (s && pg_kind_parse(s, kind) != 0)
		return fail(err, 400, "invalid", "kind",
			    "kind must be \"message\" or \"dispatch\"");
	if ((e = get_str(root, "urgency", "urgency", true, &s, NULL, err)))
		return e;
	if (s && pg_urgency_parse(s, urg) != 0)
		return fail(err, 400, "invalid", "urgency",
			    "urgency must be \"routine\", \"urgent\" or \"emergency\"");
	return PG_OK;
}

/* A caller's phone: digits, spaces and + - ( ) . x, at least 3 digits. */
static pg_err
check_phone(const char *s, size_t len, struct pg_api_error *err)
{
	const char *field = "caller.phone";
	int digits = 0;
	pg_err e;

	if ((e = check_text(field, s, len, PG_MAX_PHONE, false, true, err)))
		return e;
	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (strchr(" +-().x", *p) == NULL)
			return fail(err, 400, "invalid", field,
				    "caller.phone may contain only digits, spaces and + - ( ) . x");
	}
	if (digits < 3)
		return fail(err, 400, "invalid", field,
			    "caller.phone must contain at least 3 digits");
	return PG_OK;
}

/* The validated pieces of a message body, pointing into the JSON tree. */
struct parsed {
	const char *name, *phone, *company, *text;
	json_t *fields;              /* NULL when absent */
};

static pg_err
parse_caller(json_t *root, struct parsed *p, struct pg_api_error *err)
{
	static const char *const keys[] = { "name", "phone", "company", NULL };
	json_t *c = json_object_get(root, "caller");
	size_t nlen, plen, clen;
	pg_err e;

	if (c == NULL || json_is_null(c))
		return fail(err, 400, "missing", "caller",
			    "caller (an object with name and phone) is required");
	if (!json_is_object(c))
		return fail(err, 400, "invalid_type", "caller",
			    "caller: expected an object, got %s", type_name(c));
	if ((e = check_keys(c, keys, "caller", err)))
		return e;
	if ((e = get_str(c, "name", "caller.name", false, &p->name, &nlen, err)) ||
	    (e = get_str(c, "phone", "caller.phone", false, &p->phone, &plen, err)) ||
	    (e = get_str(c, "company", "caller.company", true, &p->company, &clen, err)))
		return e;
	if (p->name == NULL)
		return fail(err, 400, "missing", "caller.name", "caller.name is required");
	if ((e = check_text("caller.name", p->name, nlen, PG_MAX_NAME, false, true, err)))
		return e;
	if (p->phone == NULL)
		return fail(err, 400, "missing", "caller.phone", "caller.phone is required");
	if ((e = check_phone(p->phone, plen, err)))
		return e;
	if (p->company &&
	    (e = check_text("caller.company", p->company, clen, PG_MAX_NAME, false, false, err)))
		return e;
	return PG_OK;
}

/* fields: an object of strings, each declared by the client; every
 * required field present and non-blank. */
static pg_err
parse_fields(json_t *root, const struct pg_client *cl, struct parsed *p,
	     struct pg_api_error *err)
{
	json_t *f = json_object_get(root, "fields");
	const char *key;
	json_t *v;
	char name[64];
	pg_err e;

	p->fields = NULL;
	if (f != NULL && !json_is_null(f)) {
		if (!json_is_object(f))
			return fail(err, 400, "invalid_type", "fields",
				    "fields: expected an object, got %s", type_name(f));
		p->fields = f;
		json_object_foreach(f, key, v) {
			field_name(name, sizeof name, "fields", key);
			if (pg_client_field(cl, key) == NULL)
				return fail(err, 400, "unknown_field", name,
					    "unknown field: client %s has no field \"%s\"",
					    cl->id, name + 7);
			if (!json_is_string(v))
				return fail(err, 400, "invalid_type", name,
					    "%s: expected a string, got %s", name, type_name(v));
			if ((e = check_text(name, json_string_value(v),
					    json_string_length(v), PG_MAX_FIELD_VALUE,
					    true, false, err)))
				return e;
		}
	}
	for (size_t i = 0; i < cl->n_fields; i++) {
		const struct pg_field *fd = &cl->fields[i];
		json_t *val;

		if (!fd->required)
			continue;
		val = p->fields ? json_object_get(p->fields, fd->id) : NULL;
		if (val == NULL || blank(json_string_value(val))) {
			field_name(name, sizeof name, "fields", fd->id);
			return fail(err, 400, "missing", name,
				    "%s (%s) is required for client %s", name,
				    fd->label ? fd->label : fd->id, cl->id);
		}
	}
	return PG_OK;
}

/* The request's fingerprint for its Idempotency-Key: hex SHA-256 of the
 * body as canonical JSON (keys sorted, no spaces, jansson's escaping), so
 * that key order and white space do not make two requests differ while
 * any value does. */
static pg_err
request_hash(const json_t *root, char out[65])
{
	char *canon = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT |
				 JSON_ENCODE_ANY);

	if (canon == NULL)
		return PG_ERR_NOMEM;
	pg_sha256_hex(canon, strlen(canon), out);
	free(canon);
	return PG_OK;
}

/* Copies the validated body into out; PG_ERR_NOMEM leaves out empty. */
static pg_err
build_message(const struct pg_client *cl, enum pg_kind kind,
	      enum pg_urgency urg, const struct parsed *p, struct pg_message *out)
{
	bool bad = false;

	out->client_id = strdup(cl->id);
	out->kind = kind;
	out->urgency = urg;
	out->caller_name = strdup(p->name);
	out->caller_phone = strdup(p->phone);
	out->caller_company = pg_strdup(p->company);
	out->text = strdup(p->text);
	bad = !out->client_id || !out->caller_name || !out->caller_phone ||
	      (p->company && !out->caller_company) || !out->text;
	if (!bad && p->fields && json_object_size(p->fields) > 0) {
		size_t n = json_object_size(p->fields), i = 0;
		const char *key;
		json_t *v;

		out->fields = calloc(n, sizeof *out->fields);
		if (out->fields == NULL) {
			bad = true;
		} else {
			json_object_foreach(p->fields, key, v) {
				if (i >= n)
					break;
				out->fields[i].key = strdup(key);
				out->fields[i].value = strdup(json_string_value(v));
				out->n_fields = ++i;
				if (!out->fields[i - 1].key || !out->fields[i - 1].value) {
					bad = true;
					break;
				}
			}
		}
	}
	if (bad) {
		pg_message_free(out);
		memset(out, 0, sizeof *out);
		return PG_ERR_NOMEM;
	}
	return PG_OK;
}

pg_err
pg_intake_parse_message(const char *body, size_t len,
	const struct pg_config *cfg, struct pg_message *out,
	const struct pg_client **cl, struct pg_api_error *err)
{
	static const char *const keys[] = {
		"client", "dnis", "kind", "urgency", "caller", "text", "fields", NULL
	};
	struct parsed p = { 0 };
	enum pg_kind kind;
	enum pg_urgency urg;
	json_t *root;
	size_t tlen;
	pg_err e;

	memset(out, 0, sizeof *out);
	memset(err, 0, sizeof *err);
	*cl = NULL;
	if ((e = load_object(body, len, &root, err)))
		return e;
	if ((e = check_keys(root, keys, "", err)) ||
	    (e = parse_target(root, cfg, cl, err)) ||
	    (e = parse_enums(root, &kind, &urg, err)) ||
	    (e = parse_caller(root, &p, err)) ||
	    (e = get_str(root, "text", "text", false, &p.text, &tlen, err)))
		goto done;
	if (p.text == NULL) {
		e = fail(err, 400, "missing", "text", "text (what the caller said) is required");
		goto done;
	}
	if ((e = check_text("text", p.text, tlen, PG_MAX_TEXT, true, true, err)) ||
	    (e = parse_fields(root, *cl, &p, err)))
		goto done;
	if (!(e = build_message(*cl, kind, urg, &p, out)))
		e = request_hash(root, out->idem_hash);
	if (e == PG_ERR_NOMEM)
		pg_message_free(out);
done:
	if (e != PG_OK && e != PG_ERR_NOMEM)
		*cl = NULL;
	if (e == PG_ERR_NOMEM)
		fail(err, 500, "internal", "", "out of memory");
	json_decref(root);
	return e;
}

pg_err
pg_intake_parse_preview(const char *body, size_t len,
	const struct pg_config *cfg, int64_t now_ms, const struct pg_client **cl,
	enum pg_kind *kind, enum pg_urgency *urg, int64_t *at_ms,
	struct pg_api_error *err)
{
	static const char *const keys[] = {
		"client", "dnis", "kind", "urgency", "at", NULL
	};
	const char *at;
	json_t *root;
	pg_err e;

	memset(err, 0, sizeof *err);
	*cl = NULL;
	if ((e = load_object(body, len, &root, err)))
		return e;
	if ((e = check_keys(root, keys, "", err)) ||
	    (e = parse_target(root, cfg, cl, err)) ||
	    (e = parse_enums(root, kind, urg, err)) ||
	    (e = get_str(root, "at", "at", true, &at, NULL, err)))
		goto done;
	*at_ms = now_ms;
	if (at && pg_parse_iso8601(at, at_ms) != 0)
		e = fail(err, 400, "invalid", "at",
			 "at must be an RFC 3339 time such as 2026-11-22T15:34:00Z");
done:
	if (e)
		*cl = NULL;
	json_decref(root);
	return e;
}
