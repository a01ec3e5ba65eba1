/*
 * template.c - the {{variable}} template language (template.h).
 *
 * One scanner serves both the check and the renderer so that the two can
 * never disagree about what a substitution is: "{{", optional blanks, a
 * name, optional blanks, "}}", all on one line.  Anything else is literal
 * text (a lone "}}" too, so JSON templates such as {"a":{"b":1}} work).
 * A name that starts with '#' or '/' opens or closes a digest's section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/template.h"
#include "pagegate/config.h"
#include "pagegate/store.h"
#include "pagegate/tz.h"
#include "pagegate/util.h"

/* Longest variable name worth looking at ("fields." + a field id). */
#define TPL_NAME_MAX 128

/* Every variable except fields.<id>, which depends on the client. */
static const char *const known_vars[] = {
	"client.id", "client.name", "client.instructions",
	"message.id", "message.kind", "message.urgency", "message.received",
	"message.received_utc", "message.ack_ref", "caller.name", "caller.phone",
	"caller.company", "text", "contact.id", "contact.name",
	"delivery.id", "fields", "ack_url",
	"callback",
};

/* Outside a digest's section: the names that do not belong to one message. */
static const char *const outer_prefixes[] = { "client.", "contact.", NULL };
static const char *const outer_vars[] = { "callback", "messages.count", NULL };

#define SECTION "messages"

#define FIELD_PREFIX "fields."

/* What the scanner found at a "{{". */
enum tok_status { TOK_OK, TOK_UNCLOSED, TOK_EMPTY, TOK_BADNAME };

struct tok {
	enum tok_status st;
	char sigil;            /* '#' opens a section, '/' closes it, else 0 */
	const char *name;      /* the trimmed name inside the braces */
	size_t name_len;
	const char *end;       /* first character after the closing "}}" */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Scans one substitution starting at p, which points at "{{".  The closing
 * "}}" must be on the same line; the name is trimmed of blanks. */
static void scan_var(const char *p, struct tok *t)
{
	const char *s = p + 2;
	const char *close = NULL;

	for (const char *q = s; *q && *q != '\n'; q++) {
		if (q[0] == '}' && q[1] == '}') {
			close = q;
			break;
		}
	}
	memset(t, 0, sizeof *t);
	if (!close) {
		t->st = TOK_UNCLOSED;
		return;
	}
	t->end = close + 2;
	while (s < close && is_blank(*s))
		s++;
	const char *e = close;
	while (e > s && is_blank(e[-1]))
		e--;
	if (s < e && (*s == '#' || *s == '/')) {
		t->sigil = *s++;
		while (s < e && is_blank(*s))
			s++;
	}
	t->name = s;
	t->name_len = (size_t)(e - s);
	if (t->name_len == 0) {
		t->st = TOK_EMPTY;
		return;
	}
	for (const char *q = s; q < e; q++) {
		if (!is_name_char(*q)) {
			t->st = TOK_BADNAME;
			return;
		}
	}
	t->st = t->name_len >= TPL_NAME_MAX ? TOK_BADNAME : TOK_OK;
}

static bool name_is(const struct tok *t, const char *s)
{
	return strlen(s) == t->name_len && memcmp(t->name, s, t->name_len) == 0;
}

/* Checks one well-formed name against the known set and cl's fields. */
static pg_err check_name(const struct tok *t, const struct pg_client *cl,
			 char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof known_vars / sizeof known_vars[0]; i++)
		if (name_is(t, known_vars[i]))
			return PG_OK;

	size_t plen = strlen(FIELD_PREFIX);
	if (t->name_len > plen && memcmp(t->name, FIELD_PREFIX, plen) == 0) {
		const char *id = t->name + plen;
		int idlen = (int)(t->name_len - plen);
		if (!cl)
			return PG_OK;
		for (size_t i = 0; i < cl->n_fields; i++) {
			const char *f = cl->fields[i].id;
			if (f && strlen(f) == (size_t)idlen &&
			    memcmp(f, id, (size_t)idlen) == 0)
				return PG_OK;
		}
		snprintf(err, errlen, "client %s has no field \"%.*s\"",
			 cl->id ? cl->id : "?", idlen, id);
		return PG_ERR_INVAL;
	}
	snprintf(err, errlen, "unknown variable \"%.*s\"", (int)t->name_len, t->name);
	return PG_ERR_INVAL;
}

/* May a digest use this name outside its section? */
static bool outer_ok(const struct tok *t)
{
	for (size_t i = 0; outer_vars[i]; i++)
		if (name_is(t, outer_vars[i]))
			return true;
	for (size_t i = 0; outer_prefixes[i]; i++) {
		size_t n = strlen(outer_prefixes[i]);
		if (t->name_len > n && memcmp(t->name, outer_prefixes[i], n) == 0)
			return true;
	}
	return false;
}

/* State of one check. */
struct checker {
	enum pg_tpl_kind kind;
	const struct pg_client *cl;
	int open_line;           /* line of the open section, 0 = none */
	int n_sections;
	char *err;
	size_t errlen;
};

/* Checks one well-formed tag at line ln. */
static pg_err check_tag(struct checker *c, const struct tok *t, int ln)
{
	bool digest = c->kind != PG_TPL_MESSAGE;

	if (t->sigil && !digest) {
		snprintf(c->err, c->errlen, "sections (\"{{%c%.*s}}\") are only for the digest "
			 "templates", t->sigil, t->name_len > 60 ? 60 : (int)t->name_len, t->name);
		return PG_ERR_INVAL;
	}
	if (t->sigil && !name_is(t, SECTION)) {
		snprintf(c->err, c->errlen, "unknown section \"%.*s\" (the only one is \""
			 SECTION "\")", t->name_len > 60 ? 60 : (int)t->name_len, t->name);
		return PG_ERR_INVAL;
	}
	if (t->sigil == '#') {
		if (c->open_line) {
			snprintf(c->err, c->errlen, "sections do not nest (\"{{#" SECTION
				 "}}\" at line %d is still open)", c->open_line);
			return PG_ERR_INVAL;
		}
		c->open_line = ln;
		return PG_OK;
	}
	if (t->sigil == '/') {
		if (!c->open_line) {
			snprintf(c->err, c->errlen, "\"{{/" SECTION "}}\" without \"{{#"
				 SECTION "}}\"");
			return PG_ERR_INVAL;
		}
		c->open_line = 0;
		c->n_sections++;
		return PG_OK;
	}
	if (digest && (name_is(t, "messages.count") || name_is(t, "summary.from") ||
		       name_is(t, "summary.to")))
		return PG_OK;
	pg_err e = check_name(t, c->cl, c->err, c->errlen);
	if (e || !digest || c->open_line || outer_ok(t))
		return e;
	snprintf(c->err, c->errlen, "\"%.*s\" belongs to one message: use it inside "
		 "{{#" SECTION "}} ... {{/" SECTION "}}", (int)t->name_len, t->name);
	return PG_ERR_INVAL;
}

enum pg_tpl_kind pg_template_kind(const char *name)
{
	if (name && (strcmp(name, "digest.txt") == 0 || strcmp(name, "summary.txt") == 0))
		return PG_TPL_DIGEST_BODY;
	if (name && (strcmp(name, "digest.subject") == 0 ||
		     strcmp(name, "summary.subject") == 0))
		return PG_TPL_DIGEST_SUBJECT;
	return PG_TPL_MESSAGE;
}

pg_err pg_template_check(const char *text, const struct pg_client *cl,
			 int *line, char *err, size_t errlen)
{
	return pg_template_check_kind(text, PG_TPL_MESSAGE, cl, line, err, errlen);
}

pg_err pg_template_check_kind(const char *text, enum pg_tpl_kind kind,
			      const struct pg_client *cl, int *line, char *err,
			      size_t errlen)
{
	int ln = 1;
	char dummy[8];
	struct checker c;

	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	if (line)
		*line = 0;
	memset(&c, 0, sizeof c);
	c.kind = kind;
	c.cl = cl;
	c.err = err;
	c.errlen = errlen;

	for (const char *p = text ? text : ""; *p; ) {
		if (*p == '\n') {
			ln++;
			p++;
			continue;
		}
		if (!(p[0] == '{' && p[1] == '{')) {
			p++;
			continue;
		}
		struct tok t;
		scan_var(p, &t);
		pg_err e = PG_OK;
		switch (t.st) {
		case TOK_UNCLOSED:
			snprintf(err, errlen, "\"{{\" without \"}}\" on the same line");
			e = PG_ERR_INVAL;
			break;
		case TOK_EMPTY:
			snprintf(err, errlen, "empty variable name in \"{{ }}\"");
			e = PG_ERR_INVAL;
			break;
		case TOK_BADNAME:
			snprintf(err, errlen, "bad variable name \"%.*s\"",
				 t.name_len > 60 ? 60 : (int)t.name_len, t.name);
			e = PG_ERR_INVAL;
			break;
		case TOK_OK:
			e = check_tag(&c, &t, ln);
			break;
		}
		if (e != PG_OK) {
			if (line)
				*line = ln;
			return e;
		}
		p = t.end;
	}
	if (c.open_line) {
		snprintf(err, errlen, "\"{{#" SECTION "}}\" without \"{{/" SECTION "}}\"");
		if (line)
			*line = c.open_line;
		return PG_ERR_INVAL;
	}
	if (kind == PG_TPL_DIGEST_BODY && c.n_sections == 0) {
		snprintf(err, errlen, "a digest lists its messages in a section: "
			 "{{#" SECTION "}} ... {{/" SECTION "}}");
		if (line)
			*line = 1;
		return PG_ERR_INVAL;
	}
	return PG_OK;
}

/* ---- variables ---- */

void pg_tvars_init(struct pg_tvars *tv)
{
	memset(tv, 0, sizeof *tv);
}

void pg_tvars_free(struct pg_tvars *tv)
{
	if (!tv)
		return;
	for (size_t i = 0; i < tv->n_owned; i++)
		free(tv->owned[i]);
	free(tv->owned);
	free(tv->v);
	memset(tv, 0, sizeof *tv);
}

/* Takes ownership of s (freeing it on failure). */
static pg_err tvars_own(struct pg_tvars *tv, char *s)
{
	if (!s)
		return PG_ERR_NOMEM;
	if (tv->n_owned == tv->cap_owned) {
		size_t nc = tv->cap_owned ? tv->cap_owned * 2 : 32;
		char **no = realloc(tv->owned, nc * sizeof *no);
		if (!no) {
			free(s);
			return PG_ERR_NOMEM;
		}
		tv->owned = no;
		tv->cap_owned = nc;
	}
	tv->owned[tv->n_owned++] = s;
	return PG_OK;
}

static struct pg_tvar *tvars_find(const struct pg_tvars *tv, const char *name,
				  size_t len)
{
	for (size_t i = 0; i < tv->n; i++)
		if (strlen(tv->v[i].name) == len && memcmp(tv->v[i].name, name, len) == 0)
			return &tv->v[i];
	return NULL;
}

/* Setting a name again replaces its value (the old copy lives until free). */
pg_err pg_tvars_set(struct pg_tvars *tv, const char *name, const char *value)
{
	if (!name)
		return PG_ERR_INVAL;
	char *val = strdup(value ? value : "");
	pg_err e = tvars_own(tv, val);
	if (e)
		return e;

	struct pg_tvar *old = tvars_find(tv, name, strlen(name));
	if (old) {
		old->value = val;
		return PG_OK;
	}
	char *nm = strdup(name);
	if ((e = tvars_own(tv, nm)))
		return e;
	if (tv->n == tv->cap) {
		size_t nc = tv->cap ? tv->cap * 2 : 32;
		struct pg_tvar *nv = realloc(tv->v, nc * sizeof *nv);
		if (!nv)
			return PG_ERR_NOMEM;
		tv->v = nv;
		tv->cap = nc;
	}
	tv->v[tv->n].name = nm;
	tv->v[tv->n].value = val;
	tv->n++;
	return PG_OK;
}

static pg_err set_i64(struct pg_tvars *tv, const char *name, int64_t v)
{
	char buf[32] = "";
	if (v > 0)
		snprintf(buf, sizeof buf, "%lld", (long long)v);
	return pg_tvars_set(tv, name, buf);
}

static const char *msg_field(const struct pg_message *m, const char *id)
{
	for (size_t i = 0; i < m->n_fields; i++)
		if (m->fields[i].key && strcmp(m->fields[i].key, id) == 0)
			return m->fields[i].value;
	return NULL;
}

/* fields.<id> for every declared field, and "fields": one "Label: value"
 * line per non-empty field in declaration order, joined by newlines. */
static pg_err set_fields(struct pg_tvars *tv, const struct pg_client *cl,
			 const struct pg_message *m)
{
	struct pg_buf all;
	struct pg_buf name;
	pg_err e = PG_OK;

	pg_buf_init(&all, 1 << 20);
	pg_buf_init(&name, 256);
	for (size_t i = 0; i < cl->n_fields && !e; i++) {
		const struct pg_field *f = &cl->fields[i];
		const char *v = msg_field(m, f->id);
		pg_buf_reset(&name);
		if ((e = pg_buf_printf(&name, FIELD_PREFIX "%s", f->id)))
			break;
		if ((e = pg_tvars_set(tv, name.data, v)))
			break;
		if (!v || !*v)
			continue;
		e = pg_buf_printf(&all, "%s%s: %s", all.len ? "\n" : "",
				  f->label ? f->label : f->id, v);
	}
	if (!e)
		e = pg_tvars_set(tv, "fields", all.data ? all.data : "");
	pg_buf_free(&name);
	pg_buf_free(&all);
	return e;
}

pg_err pg_tvars_for_message(struct pg_tvars *tv, const struct pg_client *cl,
	const struct pg_message *m, const struct pg_contact *contact, int64_t did)
{
	char tbuf[64];
	char iso[PG_ISO_LEN];
	pg_err e;

	const struct pg_tz *tz = cl->tz ? cl->tz : pg_tz_get("UTC");
	if (tz)
		pg_tz_format(tz, m->received_ms / 1000, tbuf, sizeof tbuf);
	else
		tbuf[0] = '\0';
	pg_iso8601(m->received_ms, iso);

	const struct pg_tvar vals[] = {
		{ "client.id", cl->id },
		{ "client.name", cl->name },
		{ "client.instructions", cl->instructions },
		{ "message.kind", pg_kind_name(m->kind) },
		{ "message.urgency", pg_urgency_name(m->urgency) },
		{ "message.received", tbuf },
		{ "message.received_utc", iso },
		{ "message.ack_ref", m->ack_ref },
		{ "caller.name", m->caller_name },
		{ "caller.phone", m->caller_phone },
		{ "caller.company", m->caller_company },
		{ "text", m->text },
		{ "contact.id", contact ? contact->id : NULL },
		{ "contact.name", contact ? contact->name : NULL },
		{ "callback", cl->callback },
	};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		if ((e = pg_tvars_set(tv, vals[i].name, vals[i].value)))
			return e;
	if ((e = set_i64(tv, "message.id", m->id)))
		return e;
	if ((e = set_i64(tv, "delivery.id", did)))
		return e;
	return set_fields(tv, cl, m);
}

/* ---- rendering ---- */

/* Appends s as the content of a JSON string: quote and backslash escaped,
 * control characters (and DEL) as \uXXXX; UTF-8 passes through. */
static pg_err add_json(struct pg_buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	pg_err e;

	for (const char *p = s; ; p++) {
		unsigned char c = (unsigned char)*p;
		bool esc = c == '"' || c == '\\' || (c < 0x20 && c != 0) || c == 0x7f;
		if (!esc && c != 0)
			continue;
		if (p > run && (e = pg_buf_add(out, run, (size_t)(p - run))))
			return e;
		if (c == 0)
			return PG_OK;
		char q[6];
		size_t qn;
		if (c == '"' || c == '\\') {
			q[0] = '\\';
			q[1] = (char)c;
			qn = 2;
		} else {
			memcpy(q, "\\u00", 4);
			q[4] = hex[c >> 4];
			q[5] = hex[c & 15];
			qn = 6;
		}
		if ((e = pg_buf_add(out, q, qn)))
			return e;
		run = p + 1;
	}
}

static pg_err add_value(struct pg_buf *out, const char *v, enum pg_escape esc)
{
	if (!v || !*v)
		return PG_OK;
	if (esc == PG_ESC_JSON)
		return add_json(out, v);
	return pg_buf_adds(out, v);
}

/* The value of a name: the row's, else the outer variables'. */
static const struct pg_tvar *lookup(const struct pg_tvars *tv,
				    const struct pg_tvars *outer, const struct tok *t)
{
	const struct pg_tvar *v = tv ? tvars_find(tv, t->name, t->name_len) : NULL;
	return v ? v : outer ? tvars_find(outer, t->name, t->name_len) : NULL;
}

/* A section tag takes the newline right after it. */
static const char *after_tag(const struct tok *t)
{
	return *t->end == '\n' ? t->end + 1 : t->end;
}

/* Renders [text, end) with tv (then outer).  At the top level (outer ==
 * NULL) a section renders its body once per row of tv->items. */
static pg_err render(const char *text, const char *end, const struct pg_tvars *tv,
		     const struct pg_tvars *outer, enum pg_escape esc,
		     struct pg_buf *out)
{
	const char *run = text;
	pg_err e;

	for (const char *p = text; ; ) {
		if (p < end && !(p + 1 < end && p[0] == '{' && p[1] == '{')) {
			p++;
			continue;
		}
		if (p > run && (e = pg_buf_add(out, run, (size_t)(p - run))))
			return e;
		if (p >= end)
			return PG_OK;
		struct tok t;
		scan_var(p, &t);
		if (t.st != TOK_OK || t.end > end)
			return PG_ERR_INVAL;
		if (t.sigil == '/' || (t.sigil == '#' && outer))
			return PG_ERR_INVAL;      /* unbalanced or nested */
		if (t.sigil == '#') {
			const char *body = after_tag(&t), *q = body;
			struct tok c;
			for (;; q++) {
				if (q >= end || !*q)
					return PG_ERR_INVAL;
				if (q[0] != '{' || q[1] != '{')
					continue;
				scan_var(q, &c);
				if (c.st == TOK_OK && c.sigil)
					break;
			}
			if (c.sigil != '/')
				return PG_ERR_INVAL;
			for (size_t i = 0; tv && i < tv->n_items; i++)
				if ((e = render(body, q, &tv->items[i], tv, esc, out)))
					return e;
			p = run = after_tag(&c);
			continue;
		}
		const struct pg_tvar *v = lookup(tv, outer, &t);
		if (v && (e = add_value(out, v->value, esc)))
			return e;
		p = run = t.end;
	}
}

pg_err pg_template_render(const char *text, const struct pg_tvars *tv,
			  enum pg_escape esc, struct pg_buf *out)
{
	size_t start = out->len;

	if (!text)
		return PG_OK;
	pg_err e = render(text, text + strlen(text), tv, NULL, esc, out);
	if (e && out->data) {
		/* Leave out as it was: no half-rendered text. */
		out->len = start;
		out->data[start] = '\0';
	}
	return e;
}
