/*
 * content.c - content levels (content.h): which level a delivery gets, what
 * each level leaves of a message's template variables, the summary cut.
 * The client file's "content" and "callback" settings are read by
 * src/config/config_content.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/config.h"
#include "pagegate/content.h"
#include "pagegate/template.h"
#include "pagegate/util.h"

#define ELLIPSIS "\xe2\x80\xa6"      /* U+2026 */
#define FIELD_PREFIX "fields."

static const char *const level_names[PG_CONTENT__COUNT] = {
	"full", "full", "summary", "notify",
};

const char *
pg_content_name(enum pg_content c)
{
	return (unsigned)c < PG_CONTENT__COUNT ? level_names[c] : "full";
}

int
pg_content_parse(const char *s, enum pg_content *out)
{
	for (int i = PG_CONTENT_FULL; s && i < PG_CONTENT__COUNT; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum pg_content)i;
			return 0;
		}
	return -1;
}

bool
pg_callback_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0, digits = 0;

	if (n == 0 || n > PG_CALLBACK_MAX)
		return false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (!strchr(" +-().", *s))
			return false;
	}
	return digits >= 3;
}

enum pg_content
pg_content_level(const struct pg_client *cl, const struct pg_device *dev,
		 enum pg_channel_kind ch)
{
	if (dev && dev->content > PG_CONTENT_UNSET && dev->content < PG_CONTENT__COUNT)
		return dev->content;
	if (cl && (unsigned)ch < PG_CH__COUNT && cl->content[ch] > PG_CONTENT_UNSET &&
	    cl->content[ch] < PG_CONTENT__COUNT)
		return cl->content[ch];
	return PG_CONTENT_FULL;
}

/* ---- the summary ---- */

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Bytes of the UTF-8 sequence that starts with c (1 for a stray byte). */
static size_t
seq_len(unsigned char c)
{
	return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 1;
}

/* Byte offset of the end of the first k characters of s (length n). */
static size_t
char_offset(const char *s, size_t n, size_t k)
{
	size_t o = 0;

	while (o < n && k > 0) {
		o += seq_len((unsigned char)s[o]);
		k--;
	}
	return o < n ? o : n;
}

/* Copies text with whitespace runs as one blank, at most PG_SUMMARY_CHARS
 * characters; then, when more text follows, cuts it to leave room for the
 * ellipsis: at a blank when one keeps at least half, else at a character
 * boundary. */
void
pg_content_summary(const char *text, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)(text ? text : "");
	size_t o = 0, n = 0, keep = PG_SUMMARY_CHARS - 1, cut, b;
	bool pending = false, over = false, at_blank = false;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (outlen < sizeof ELLIPSIS + 1)
		return;
	while (*p) {
		if (is_space(*p)) {
			pending = n > 0;
			p++;
			continue;
		}
		size_t len = seq_len(*p), i;
		for (i = 1; i < len && p[i]; i++)
			;
		len = i;
		if (n + pending + 1 > PG_SUMMARY_CHARS ||
		    o + pending + len + sizeof ELLIPSIS > outlen) {
			over = true;
			at_blank = pending;
			break;
		}
		if (pending) {
			out[o++] = ' ';
			n++;
			pending = false;
		}
		memcpy(out + o, p, len);
		o += len;
		n++;
		p += len;
	}
	if (!over) {
		out[o] = '\0';
		return;
	}
	cut = char_offset(out, o, keep);
	if (!(cut == o && at_blank) && !(cut < o && out[cut] == ' ')) {
		/* mid-word: back to the last blank if that keeps half */
		for (b = cut; b > 0 && out[b - 1] != ' '; b--)
			;
		if (b > 0 && char_offset(out, o, keep / 2) <= b - 1)
			cut = b - 1;
	}
	while (cut > 0 && out[cut - 1] == ' ')
		cut--;
	memcpy(out + cut, ELLIPSIS, sizeof ELLIPSIS);
}

/* ---- levels applied to variables ---- */

static const char *
tv_get(const struct pg_tvars *tv, const char *name)
{
	for (size_t i = 0; i < tv->n; i++)
		if (strcmp(tv->v[i].name, name) == 0)
			return tv->v[i].value;
	return NULL;
}

/* Empties "fields" and every "fields.<id>". */
static pg_err
blank_fields(struct pg_tvars *tv)
{
	size_t plen = strlen(FIELD_PREFIX);
	pg_err e;

	if ((e = pg_tvars_set(tv, "fields", "")))
		return e;
	/* Setting an existing name replaces its value in place: tv->v does
	 * not move, and n does not grow. */
	for (size_t i = 0; i < tv->n; i++)
		if (strncmp(tv->v[i].name, FIELD_PREFIX, plen) == 0 &&
		    (e = pg_tvars_set(tv, tv->v[i].name, "")))
			return e;
	return PG_OK;
}

pg_err
pg_content_apply(struct pg_tvars *tv, enum pg_content level)
{
	static const char *const caller[] = { "caller.name", "caller.phone", "caller.company" };
	char sum[4 * PG_SUMMARY_CHARS + 8];
	pg_err e;

	switch (level) {
	case PG_CONTENT_SUMMARY:
		pg_content_summary(tv_get(tv, "text"), sum, sizeof sum);
		if ((e = pg_tvars_set(tv, "text", sum)))
			return e;
		return blank_fields(tv);
	case PG_CONTENT_NOTIFY:
		if ((e = pg_tvars_set(tv, "text", "")))
			return e;
		for (size_t i = 0; i < sizeof caller / sizeof caller[0]; i++)
			if ((e = pg_tvars_set(tv, caller[i], "")))
				return e;
		return blank_fields(tv);
	default:
		return PG_OK;
	}
}

void
pg_content_templates(enum pg_content level, const char *subject,
		     const char *body, bool plain,
		     const char **subject_out, const char **body_out)
{
	bool notify = level == PG_CONTENT_NOTIFY && plain;

	*subject_out = subject && notify ? "notify.subject" : subject;
	*body_out = notify ? "notify.txt" : body;
}
