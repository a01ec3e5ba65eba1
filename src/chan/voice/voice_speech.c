/*
 * voice_speech.c - text to speech for calls (voice.h): flite's awb voice
 * for English, espeak-ng for every other language a client may set, both
 * from Debian's C libraries; samples resampled to the call's rate with
 * libsamplerate; WAV files for `pagegate render`.
 *
 * Why two engines: pocketsphinx, standing in for a listener, transcribes
 * flite's awb voice (slowed by 1.3) at 16 kHz nearly word for word ("an
 * urgent message for jane ortiz press one"), and espeak-ng's English
 * hardly at all; espeak-ng speaks about a hundred languages flite does
 * not (Greek, Chinese, Vietnamese ...).  Each text is spoken by a child
 * process (below), so both are deterministic.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <espeak-ng/espeak_ng.h>
#include <flite/flite.h>
#include <samplerate.h>

#include "voice.h"
#include "pagegate/util.h"

#define FLITE_STRETCH    1.3f     /* slower: clearer on a telephone */
#define ESPEAK_WPM       150
#define ESPEAK_RATE      22050    /* espeak-ng's voices' sample rate */
#define FLITE_RATE       16000    /* flite's awb voice's */
#define PCM_MAX          (60 * 22050 * 10)   /* 10 minutes at the highest rate */

/* flite's voice registration (cmu_us_awb has no header of its own). */
cst_voice *register_cmu_us_awb(const char *voxdir);

/* Nothing yet: the engines run in child processes (below). */
struct pg_voice_tts {
	int unused;
};

/* ---- pcm ---- */

static pg_err
pcm_room(struct pg_voice_pcm *p, size_t more)
{
	size_t cap = p->cap ? p->cap : 4096;
	int16_t *v;

	if (p->n + more > PCM_MAX)
		return PG_ERR_TOOBIG;
	while (cap < p->n + more)
		cap *= 2;
	if (cap == p->cap)
		return PG_OK;
	if (!(v = realloc(p->s, cap * sizeof *v)))
		return PG_ERR_NOMEM;
	p->s = v;
	p->cap = cap;
	return PG_OK;
}

void
pg_voice_pcm_free(struct pg_voice_pcm *p)
{
	free(p->s);
	memset(p, 0, sizeof *p);
}

pg_err
pg_voice_pcm_silence(struct pg_voice_pcm *p, int rate, int ms)
{
	size_t k = (size_t)rate * (size_t)ms / 1000;
	pg_err e = pcm_room(p, k);

	if (e)
		return e;
	memset(p->s + p->n, 0, k * sizeof *p->s);
	p->n += k;
	return PG_OK;
}

pg_err
pg_voice_pcm_append(struct pg_voice_pcm *p, const struct pg_voice_pcm *src)
{
	pg_err e = pcm_room(p, src->n);

	if (e)
		return e;
	if (src->n)
		memcpy(p->s + p->n, src->s, src->n * sizeof *p->s);
	p->n += src->n;
	return PG_OK;
}

static void
put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b + 2, v >> 16);
}

pg_err
pg_voice_wav_write(const char *path, const struct pg_voice_pcm *p, int rate,
		   char *why, size_t wlen)
{
	uint8_t h[44];
	uint32_t bytes = (uint32_t)(p->n * 2);
	char tmp[4096];
	FILE *f;
	bool ok;

	memcpy(h, "RIFF", 4);
	put32(h + 4, 36 + bytes);
	memcpy(h + 8, "WAVEfmt ", 8);
	put32(h + 16, 16);
	put16(h + 20, 1);                            /* PCM */
	put16(h + 22, 1);                            /* mono */
	put32(h + 24, (uint32_t)rate);
	put32(h + 28, (uint32_t)rate * 2);
	put16(h + 32, 2);
	put16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	put32(h + 40, bytes);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		snprintf(why, wlen, "%s: name too long", path);
		return PG_ERR_IO;
	}
	if (!(f = fopen(tmp, "wb"))) {
		snprintf(why, wlen, "%s: %s", tmp, strerror(errno));
		return PG_ERR_IO;
	}
	ok = fwrite(h, 1, sizeof h, f) == sizeof h;
	for (size_t i = 0; ok && i < p->n; i++) {            /* little-endian */
		uint8_t s[2];
		put16(s, (uint16_t)p->s[i]);
		ok = fwrite(s, 1, 2, f) == 2;
	}
	ok = fflush(f) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return PG_ERR_IO;
	}
	return PG_OK;
}

/* ---- resampling ---- */

/* Appends in[0..n) at rate from, resampled to rate to, to out. */
static pg_err
resample(const int16_t *in, size_t n, int from, int to, struct pg_voice_pcm *out)
{
	SRC_DATA d;
	float *fi = NULL, *fo = NULL;
	size_t on;
	pg_err e = PG_OK;

	if (n == 0)
		return PG_OK;
	if (from == to) {
		struct pg_voice_pcm src = { (int16_t *)in, n, n };
		return pg_voice_pcm_append(out, &src);
	}
	on = (size_t)((double)n * to / from) + 64;
	if (!(fi = malloc(n * sizeof *fi)) || !(fo = malloc(on * sizeof *fo))) {
		e = PG_ERR_NOMEM;
		goto out;
	}
	src_short_to_float_array(in, fi, (int)n);
	memset(&d, 0, sizeof d);
	d.data_in = fi;
	d.input_frames = (long)n;
	d.data_out = fo;
	d.output_frames = (long)on;
	d.src_ratio = (double)to / from;
	if (src_simple(&d, SRC_SINC_MEDIUM_QUALITY, 1) != 0) {
		e = PG_ERR_IO;
		goto out;
	}
	if ((e = pcm_room(out, (size_t)d.output_frames_gen)))
		goto out;
	src_float_to_short_array(fo, out->s + out->n, (int)d.output_frames_gen);
	out->n += (size_t)d.output_frames_gen;
out:
	free(fi);
	free(fo);
	return e;
}

/* ---- the engines ----
 *
 * Both engines keep state from one text to the next and draw on the C
 * library's rand(), which other libraries of the daemon use too (sofia-sip):
 * in one process the same text would sound slightly different each time
 * (espeak-ng's echo and pitch flutter, flite's excitation noise), and
 * espeak-ng cannot be shut down and started again.  So each text is
 * spoken by a child process that starts its engine afresh, with rand()
 * seeded as a fresh program's: the same text gives the same samples every
 * time - for espeak-ng the very samples the espeak-ng program writes -
 * and the daemon holds none of the engines' global state.  The child
 * writes its samples to a pipe and exits. */

#define CHILD_NO_VOICE   3
#define CHILD_FAILED     4

static int child_fd = -1;        /* the child's own copy, set after fork */

/* Writes n samples to the pipe; false when it is gone. */
static bool
child_write(const short *wav, size_t n)
{
	const char *b = (const char *)wav;
	size_t left = wav ? n * sizeof *wav : 0;

	while (left > 0) {
		ssize_t k = write(child_fd, b, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		b += k;
		left -= (size_t)k;
	}
	return true;
}

static int
on_espeak(short *wav, int n, espeak_EVENT *ev)
{
	(void)ev;
	return n > 0 && !child_write(wav, (size_t)n);    /* 1: stop */
}

static void __attribute__((noreturn))
child_espeak(const char *lang, const char *text)
{
	espeak_ng_InitializePath(NULL);
	if (espeak_ng_Initialize(NULL) != ENS_OK ||
	    espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL) != ENS_OK)
		_exit(CHILD_FAILED);
	espeak_SetSynthCallback(on_espeak);
	if (espeak_ng_SetVoiceByName(lang) != ENS_OK)
		_exit(CHILD_NO_VOICE);
	espeak_ng_SetParameter(espeakRATE, ESPEAK_WPM, 0);
	if (espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
				 espeakCHARS_UTF8 | espeakENDPAUSE, NULL, NULL) != ENS_OK ||
	    espeak_ng_Synchronize() != ENS_OK)
		_exit(CHILD_FAILED);
	_exit(0);
}

static void __attribute__((noreturn))
child_flite(const char *text)
{
	cst_voice *v;
	cst_wave *w;

	flite_init();
	if (!(v = register_cmu_us_awb(NULL)))
		_exit(CHILD_NO_VOICE);
	feat_set_float(v->features, "duration_stretch", FLITE_STRETCH);
	if (!(w = flite_text_to_wave(text, v)) || w->sample_rate != FLITE_RATE)
		_exit(CHILD_FAILED);
	_exit(child_write(w->samples, (size_t)w->num_samples) ? 0 : CHILD_FAILED);
}

/* Speaks text in a child (see above) into raw at the engine's rate. */
static pg_err
speak_in_child(const char *lang, const char *text, struct pg_voice_pcm *raw,
	       char *why, size_t wlen)
{
	uint8_t buf[8192], carry = 0;
	bool odd = false, english = pg_voice_lang_english(lang);
	const char *engine = english ? "flite" : "espeak-ng";
	int fds[2], status;
	pid_t pid;
	pg_err e = PG_OK;
	ssize_t k;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, wlen, "%s: pipe: %s", engine, strerror(errno));
		return PG_ERR_IO;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, wlen, "%s: fork: %s", engine, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return PG_ERR_IO;
	}
	if (pid == 0) {
		close(fds[0]);
		child_fd = fds[1];
		srand(1);                    /* as a fresh program */
		if (english)
			child_flite(text);
		child_espeak(lang, text);
	}
	close(fds[1]);
	while ((k = read(fds[0], buf, sizeof buf)) != 0 && !e) {
		if (k < 0) {
			if (errno != EINTR)
				e = PG_ERR_IO;
			continue;
		}
		for (ssize_t i = 0; i < k && !e; i++) {      /* little-endian pairs */
			if (!odd) {
				carry = buf[i];
				odd = true;
			} else if (!(e = pcm_room(raw, 1))) {
				odd = false;
				raw->s[raw->n++] = (int16_t)(carry | buf[i] << 8);
			}
		}
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (e) {
		snprintf(why, wlen, "%s: %s", engine, pg_strerror(e));
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		e = WIFEXITED(status) && WEXITSTATUS(status) == CHILD_NO_VOICE ?
			PG_ERR_NOTFOUND : PG_ERR_IO;
		if (e == PG_ERR_NOTFOUND)
			snprintf(why, wlen, "%s has no voice for language \"%s\"", engine, lang);
		else
			snprintf(why, wlen, "%s could not speak the text", engine);
	}
	return e;
}

bool
pg_voice_lang_english(const char *lang)
{
	return lang && strncmp(lang, "en", 2) == 0 && (lang[2] == '\0' || lang[2] == '-');
}

int
pg_voice_native_rate(const char *lang)
{
	return pg_voice_lang_english(lang) ? FLITE_RATE : ESPEAK_RATE;
}

pg_err
pg_voice_tts_new(struct pg_voice_tts **out)
{
	return (*out = calloc(1, sizeof **out)) ? PG_OK : PG_ERR_NOMEM;
}

void
pg_voice_tts_free(struct pg_voice_tts *t)
{
	free(t);
}

pg_err
pg_voice_say(struct pg_voice_tts *t, const char *lang, const char *text, int rate,
	     struct pg_voice_pcm *out, char *why, size_t wlen)
{
	struct pg_voice_pcm raw = { 0 };
	int native;
	pg_err e;

	(void)t;
	if (!text || !*text)
		return PG_OK;
	if (!lang || !*lang)
		lang = PG_VOICE_LANG;
	native = pg_voice_native_rate(lang);
	if ((e = speak_in_child(lang, text, &raw, why, wlen)) == PG_OK &&
	    (e = resample(raw.s, raw.n, native, rate ? rate : native, out)))
		snprintf(why, wlen, "resampling: %s", pg_strerror(e));
	pg_voice_pcm_free(&raw);
	return e;
}
