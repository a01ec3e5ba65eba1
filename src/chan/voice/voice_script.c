/*
 * voice_script.c - the script of a call (voice.h): the rendered
 * voice.txt cut into its parts at lines of "---", and each part spoken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voice.h"
#include "pagegate/util.h"

#define PART_GAP_MS 1000     /* `pagegate render`: the key after the greeting */

static const char *const part_names[PG_VP__COUNT] = {
	"greeting", "message", "menu", "acked", "passed",
};

const char *
pg_voice_part_name(enum pg_voice_part p)
{
	return (unsigned)p < PG_VP__COUNT ? part_names[p] : "?";
}

int
pg_voice_part_parse(const char *s)
{
	for (int i = 0; s && i < PG_VP__COUNT; i++)
		if (strcmp(part_names[i], s) == 0)
			return i;
	return -1;
}

/* A copy of [b, e) without the blank space around it; NULL: no memory. */
static char *
trimmed(const char *b, const char *e)
{
	char *s;

	while (b < e && (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if (!(s = malloc((size_t)(e - b) + 1)))
		return NULL;
	memcpy(s, b, (size_t)(e - b));
	s[e - b] = '\0';
	return s;
}

pg_err
pg_voice_script_parse(const char *body, struct pg_voice_script *out, char *why, size_t wlen)
{
	const char *cut[PG_VP__COUNT + 1], *ends[PG_VP__COUNT + 1], *p = body;
	int n = 0;

	memset(out, 0, sizeof *out);
	cut[0] = body;
	/* every line of exactly "---" ends a part */
	while (p && *p) {
		const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
		size_t len = (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 3 && strncmp(p, "---", 3) == 0) {
			if (n + 1 >= PG_VP__COUNT) {
				n = PG_VP__COUNT;            /* too many */
				break;
			}
			ends[n++] = p;
			cut[n] = nl ? nl + 1 : end;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (n != 0 && n != PG_VP__COUNT - 1) {
		snprintf(why, wlen, "voice.txt renders %s%d parts between lines of \"---\": "
			 "it needs %d (greeting, message, menu, acked, passed) or 1",
			 n >= PG_VP__COUNT ? "more than " : "", n >= PG_VP__COUNT ?
			 PG_VP__COUNT : n + 1, PG_VP__COUNT);
		return PG_ERR_INVAL;
	}
	ends[n] = body + strlen(body);
	for (int i = 0; i < PG_VP__COUNT; i++) {
		int k = n == 0 ? (i == PG_VP_MESSAGE ? 0 : -1) : i;
		out->part[i] = k < 0 ? pg_strdup("") : trimmed(cut[k], ends[k]);
		if (!out->part[i]) {
			pg_voice_script_free(out);
			return PG_ERR_NOMEM;
		}
	}
	return PG_OK;
}

void
pg_voice_script_free(struct pg_voice_script *s)
{
	for (int i = 0; i < PG_VP__COUNT; i++)
		free(s->part[i]);
	memset(s, 0, sizeof *s);
}

pg_err
pg_voice_audio_make(struct pg_voice_tts *t, const char *lang,
		    const struct pg_voice_script *s, int rate, struct pg_voice_audio *out,
		    char *why, size_t wlen)
{
	pg_err e = PG_OK;

	memset(out, 0, sizeof *out);
	out->rate = rate ? rate : pg_voice_native_rate(lang);
	for (int i = 0; i < PG_VP__COUNT && !e; i++)
		e = pg_voice_say(t, lang, s->part[i], out->rate, &out->part[i], why, wlen);
	if (e)
		pg_voice_audio_free(out);
	return e;
}

void
pg_voice_audio_free(struct pg_voice_audio *a)
{
	for (int i = 0; i < PG_VP__COUNT; i++)
		pg_voice_pcm_free(&a->part[i]);
}

pg_err
pg_voice_audio_listen(const struct pg_voice_audio *a, struct pg_voice_pcm *out)
{
	pg_err e = PG_OK;

	if (a->part[PG_VP_GREETING].n > 0) {
		e = pg_voice_pcm_append(out, &a->part[PG_VP_GREETING]);
		if (!e)
			e = pg_voice_pcm_silence(out, a->rate, PART_GAP_MS);
	}
	if (!e)
		e = pg_voice_pcm_append(out, &a->part[PG_VP_MESSAGE]);
	if (!e && a->part[PG_VP_MENU].n > 0) {
		e = pg_voice_pcm_silence(out, a->rate, PG_VOICE_GAP_MS);
		if (!e)
			e = pg_voice_pcm_append(out, &a->part[PG_VP_MENU]);
	}
	return e;
}
