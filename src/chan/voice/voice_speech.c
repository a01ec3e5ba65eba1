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
 * not (Greek, Chinese, Vietnamese ...).  flite keeps global state: its
 * uses go through one pg_voice_tts and its lock; espeak-ng speaks in a
 * child process (below).  Both are deterministic.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#define PCM_MAX          (60 * 22050 * 10)   /* 10 minutes at the highest rate */

/* flite's voice registration (cmu_us_awb has no header of its own). */
cst_voice *register_cmu_us_awb(const char *voxdir);
void unregister_cmu_us_awb(cst_voice *v);

struct pg_voice_tts {
	pthread_mutex_t mu;
	cst_voice *awb;              /* made at the first English text */
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

/* ---- the engines ---- */

bool
pg_voice_lang_english(const char *lang)
{
	return lang && strncmp(lang, "en", 2) == 0 && (lang[2] == '\0' || lang[2] == '-');
}

int
pg_voice_native_rate(const char *lang)
{
	return pg_voice_lang_english(lang) ? 16000 : 22050;
}

pg_err
pg_voice_tts_new(struct pg_voice_tts **out)
{
	struct pg_voice_tts *t = calloc(1, sizeof *t);

	if (!(*out = t))
		return PG_ERR_NOMEM;
	pthread_mutex_init(&t->mu, NULL);
	return PG_OK;
}

void
pg_voice_tts_free(struct pg_voice_tts *t)
{
	if (!t)
		return;
	if (t->awb)
		unregister_cmu_us_awb(t->awb);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static pg_err
say_flite(struct pg_voice_tts *t, const char *text, int rate, struct pg_voice_pcm *out,
	  char *why, size_t wlen)
{
	cst_wave *w;
	pg_err e;

	if (!t->awb) {
		flite_init();
		if (!(t->awb = register_cmu_us_awb(NULL))) {
			snprintf(why, wlen, "flite: no awb voice");
			return PG_ERR_NOTFOUND;
		}
		feat_set_float(t->awb->features, "duration_stretch", FLITE_STRETCH);
	}
	if (!(w = flite_text_to_wave(text, t->awb))) {
		snprintf(why, wlen, "flite could not speak the text");
		return PG_ERR_IO;
	}
	e = resample(w->samples, (size_t)w->num_samples, w->sample_rate,
		     rate ? rate : w->sample_rate, out);
	delete_wave(w);
	if (e)
		snprintf(why, wlen, "resampling: %s", pg_strerror(e));
	return e;
}

/* espeak-ng keeps state from one text to the next (the echo, the pitch
 * flutter, the pauses: the same text spoken second sounds slightly
 * different), and it cannot be shut down and started again in one
 * process.  So each text is spoken by a child process that starts
 * espeak-ng afresh: the same text gives the same samples every time, the
 * very samples the espeak-ng program gives, and the daemon holds none of
 * espeak-ng's global state.  The child writes its samples to a pipe. */
#define CHILD_NO_VOICE   3
#define CHILD_FAILED     4

static int child_fd = -1;        /* the child's own copy, set after fork */

static int
on_espeak(short *wav, int n, espeak_EVENT *ev)
{
	const char *b = (const char *)wav;
	size_t left = n > 0 && wav ? (size_t)n * sizeof *wav : 0;

	(void)ev;
	while (left > 0) {
		ssize_t k = write(child_fd, b, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return 1;                    /* stop */
		b += k;
		left -= (size_t)k;
	}
	return 0;
}

static void __attribute__((noreturn))
espeak_child(int fd, const char *lang, const char *text)
{
	child_fd = fd;
	srand(1);                            /* as a fresh espeak-ng program */
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

static pg_err
say_espeak(struct pg_voice_tts *t, const char *lang, const char *text, int rate,
	   struct pg_voice_pcm *out, char *why, size_t wlen)
{
	struct pg_voice_pcm raw = { 0 };
	uint8_t buf[8192], carry = 0;
	bool odd = false;
	int fds[2], status;
	pid_t pid;
	pg_err e = PG_OK;
	ssize_t k;

	(void)t;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, wlen, "espeak-ng: pipe: %s", strerror(errno));
		return PG_ERR_IO;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, wlen, "espeak-ng: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return PG_ERR_IO;
	}
	if (pid == 0) {
		close(fds[0]);
		espeak_child(fds[1], lang, text);
	}
	close(fds[1]);
	while ((k = read(fds[0], buf, sizeof buf)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			e = PG_ERR_IO;
			break;
		}
		for (ssize_t i = 0; i < k && !e; i++) {      /* little-endian pairs */
			if (!odd) {
				carry = buf[i];
				odd = true;
				continue;
			}
			odd = false;
			if (!(e = pcm_room(&raw, 1)))
				raw.s[raw.n++] = (int16_t)(carry | buf[i] << 8);
		}
		if (e)
			break;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!e && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		e = WIFEXITED(status) && WEXITSTATUS(status) == CHILD_NO_VOICE ?
			PG_ERR_NOTFOUND : PG_ERR_IO;
		if (e == PG_ERR_NOTFOUND)
			snprintf(why, wlen, "espeak-ng has no voice for language \"%s\"", lang);
		else
			snprintf(why, wlen, "espeak-ng could not speak the text");
	} else if (e) {
		snprintf(why, wlen, "espeak-ng: %s", pg_strerror(e));
	}
	if (!e && (e = resample(raw.s, raw.n, ESPEAK_RATE, rate ? rate : ESPEAK_RATE, out)))
		snprintf(why, wlen, "resampling: %s", pg_strerror(e));
	pg_voice_pcm_free(&raw);
	return e;
}

pg_err
pg_voice_say(struct pg_voice_tts *t, const char *lang, const char *text, int rate,
	     struct pg_voice_pcm *out, char *why, size_t wlen)
{
	pg_err e;

	if (!text || !*text)
		return PG_OK;
	if (!lang || !*lang)
		lang = PG_VOICE_LANG;
	if (!pg_voice_lang_english(lang))
		return say_espeak(t, lang, text, rate, out, why, wlen);
	pthread_mutex_lock(&t->mu);
	e = say_flite(t, text, rate, out, why, wlen);
	pthread_mutex_unlock(&t->mu);
	return e;
}
