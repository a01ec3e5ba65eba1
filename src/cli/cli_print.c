/*
 * cli_print.c - the CLI's output helpers: text that came from the server
 * printed with its control characters replaced (so that a stored message
 * cannot drive the operator's terminal), table cells, the JSON getters
 * and the pieces of a message that show, mailbox and preview share.
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "pagegate/util.h"
#include "cli_priv.h"

/* ---- printing text that came from outside ---- */

void cli__put_clean(FILE *f, const char *s, const char *nl)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n') {
			fputs(nl ? nl : " ", f);
		} else if (*p == '\r') {
			continue;
		} else if (*p == '\t') {
			fputc(' ', f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fputc('?', f);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', f);
			p++;
		} else {
			fputc(*p, f);
		}
	}
}

void cli__put_cell(const char *s, size_t width, bool pad)
{
	char out[512];
	size_t o = 0, cols = 0;
	const unsigned char *p = (const unsigned char *)(s ? s : "-");

	while (*p && cols < width && o + 8 < sizeof out) {
		size_t len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
		if (cols + 1 == width && p[strnlen((const char *)p, len)]) {
			out[o++] = '~';        /* more follows than fits */
			cols++;
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			out[o++] = (*p == '\n' || *p == '\t') ? ' ' : '?';
			p++;
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			out[o++] = '?';
			p += 2;
		} else {
			for (size_t i = 0; i < len && *p; i++)
				out[o++] = (char)*p++;
		}
		cols++;
	}
	out[o] = '\0';
	fputs(out, stdout);
	for (; pad && cols < width; cols++)
		fputc(' ', stdout);
}

/* ---- JSON access ---- */

json_t *cli__jget(json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

const char *cli__jstr(json_t *o, const char *path)
{
	return json_string_value(cli__jget(o, path));
}

const char *cli__jtime(json_t *o, const char *path, char buf[PG_ISO_LEN])
{
	json_t *v = cli__jget(o, path);
	if (json_is_string(v))
		return pg_strlcpy(buf, json_string_value(v), PG_ISO_LEN);
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return pg_iso8601(json_integer_value(v), buf);
	return pg_strlcpy(buf, "-", PG_ISO_LEN);
}

const char *cli__or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

json_int_t cli__jint(json_t *o, const char *path)
{
	return json_integer_value(cli__jget(o, path));
}

/* ---- pieces of a message ---- */

void cli__put_text_fields(json_t *m)
{
	const char *key;
	json_t *v;

	fputs("\n  text      ", stdout);
	cli__put_clean(stdout, cli__or(cli__jstr(m, "text"), ""), "\n            ");
	fputc('\n', stdout);
	json_object_foreach(json_object_get(m, "fields"), key, v) {
		fputs("  field     ", stdout);
		cli__put_clean(stdout, key, NULL);
		fputs(": ", stdout);
		cli__put_clean(stdout, cli__or(json_string_value(v), ""), "\n              ");
		fputc('\n', stdout);
	}
}

void cli__put_caller(json_t *m, const char *phone_sep, const char *company_sep)
{
	cli__put_clean(stdout, cli__or(cli__jstr(m, "caller.name"), "?"), NULL);
	fputs(phone_sep, stdout);
	cli__put_clean(stdout, cli__or(cli__jstr(m, "caller.phone"), "?"), NULL);
	if (cli__jstr(m, "caller.company")) {
		fputs(company_sep, stdout);
		cli__put_clean(stdout, cli__jstr(m, "caller.company"), NULL);
	}
}

void cli__put_contact(json_t *d)
{
	cli__put_clean(stdout, cli__or(cli__jstr(d, "contact"), "?"), NULL);
	if (cli__jstr(d, "contact_name")) {
		fputs(" (", stdout);
		cli__put_clean(stdout, cli__jstr(d, "contact_name"), NULL);
		fputc(')', stdout);
	}
}

void cli__put_delivery_head(json_t *d, const char *indent)
{
	fputs(indent, stdout);
	if (cli__jint(d, "id"))
		printf("#%lld ", (long long)cli__jint(d, "id"));
	cli__put_contact(d);
	printf("  %s  ", cli__or(cli__jstr(d, "channel"), "?"));
	cli__put_clean(stdout, cli__or(cli__jstr(d, "to"), "-"), NULL);
}
