/*
 * voice.h - the voice channel's building blocks: speech (flite for
 * English, espeak-ng for every other language), the script a call reads
 * (the rendered voice.txt cut into parts), the dialogue of a call (what
 * is played, what each key does) and the call itself over a SIP trunk
 * (../sip.h).  Private to the voice channel: included by the files of
 * src/chan/voice/ and its tests; the rest of pagegate reaches it through
 * its driver table (`pagegate render` through its preview slot).
 *
 * The script.  templates/voice.txt renders to five parts separated by
 * lines of exactly "---": the greeting (nothing private: who calls, for
 * whom, "press 1 to hear it"), the message, the menu ("press 1 to
 * acknowledge, 2 to hear it again, 3 to pass it to the next person"),
 * what is said after an acknowledgement and what is said after passing
 * it on.  A body of one part (notify.txt at the "notify" content level,
 * which holds nothing private) is the message, read at once, with keys
 * still heard.
 */
#ifndef PAGEGATE_VOICE_H
#define PAGEGATE_VOICE_H

#include <stdint.h>

#include "pagegate/channel.h"
#include "pagegate/common.h"
#include "pagegate/config.h"
#include "pagegate/config_keys.h"
#include "../sip.h"

#define PG_VOICE_TEMPLATE  "voice.txt"
#define PG_VOICE_RATE      PG_SIP_RATE   /* what a call carries */
#define PG_VOICE_LANG      "en"          /* without a language setting */

/* ---- audio (voice_speech.c) ---- */

/* Mono 16-bit samples, growing. */
struct pg_voice_pcm {
	int16_t *s;
	size_t n, cap;
};
void pg_voice_pcm_free(struct pg_voice_pcm *p);
/* Appends ms of silence at rate.  PG_ERR_NOMEM. */
pg_err pg_voice_pcm_silence(struct pg_voice_pcm *p, int rate, int ms);
/* Appends src. PG_ERR_NOMEM. */
pg_err pg_voice_pcm_append(struct pg_voice_pcm *p, const struct pg_voice_pcm *src);
/* Writes p as a RIFF WAVE file (PCM, 16 bits, mono) at rate, under a
 * temporary name then renamed.  PG_ERR_IO with why. */
pg_err pg_voice_wav_write(const char *path, const struct pg_voice_pcm *p, int rate,
			  char *why, size_t wlen);

/* The speech engines, for pg_voice_say (thread-safe: each text is spoken
 * by a child process of its own). */
struct pg_voice_tts;
pg_err pg_voice_tts_new(struct pg_voice_tts **out);
void pg_voice_tts_free(struct pg_voice_tts *t);

/* True when lang is English ("en", "en-us" ...): spoken by flite. */
bool pg_voice_lang_english(const char *lang);
/* Speaks text (UTF-8) in language lang, appending the samples to out at
 * rate (8000, 16000, or 0 = the engine's own: 16000 for flite, 22050 for
 * espeak-ng), resampled with libsamplerate.  English is flite's awb voice
 * (what pocketsphinx and people understand best); every other language
 * espeak-ng's voice of that name, so Greek is read as Greek.  Speech is
 * deterministic: the same text gives the same samples.  Errors:
 * PG_ERR_NOTFOUND (no voice for lang), PG_ERR_NOMEM, PG_ERR_IO (the
 * engine failed); why says which. */
pg_err pg_voice_say(struct pg_voice_tts *t, const char *lang, const char *text, int rate,
		    struct pg_voice_pcm *out, char *why, size_t wlen);
/* The rate pg_voice_say uses for rate 0 and lang. */
int pg_voice_native_rate(const char *lang);

/* ---- the script (voice_script.c) ---- */

enum pg_voice_part {
	PG_VP_GREETING = 0, PG_VP_MESSAGE, PG_VP_MENU, PG_VP_ACKED, PG_VP_PASSED,
	PG_VP__COUNT
};
/* "greeting", "message", "menu", "acked", "passed"; and back (-1). */
const char *pg_voice_part_name(enum pg_voice_part p);
int pg_voice_part_parse(const char *s);

/* The parts of a rendered voice.txt (see the top of this file); a part
 * may be "" (nothing said). */
struct pg_voice_script {
	char *part[PG_VP__COUNT];
};
/* Cuts body into parts: five parts, or one (the message).  PG_ERR_INVAL
 * for another count (why says), PG_ERR_NOMEM. */
pg_err pg_voice_script_parse(const char *body, struct pg_voice_script *out,
			     char *why, size_t wlen);
void pg_voice_script_free(struct pg_voice_script *s);

/* Every part spoken, at one rate. */
struct pg_voice_audio {
	struct pg_voice_pcm part[PG_VP__COUNT];
	int rate;
};
/* Speaks each part of s in lang at rate.  Errors as pg_voice_say. */
pg_err pg_voice_audio_make(struct pg_voice_tts *t, const char *lang,
			   const struct pg_voice_script *s, int rate,
			   struct pg_voice_audio *out, char *why, size_t wlen);
void pg_voice_audio_free(struct pg_voice_audio *a);
/* What `pagegate render` writes for "all": the greeting, a second of
 * silence (a key), the message and the menu as the call plays them. */
pg_err pg_voice_audio_listen(const struct pg_voice_audio *a, struct pg_voice_pcm *out);

/* ---- the dialogue of a call (voice_dialog.c): pure ---- */

#define PG_VOICE_GAP_MS      400   /* between the message and the menu */
#define PG_VOICE_WAIT_MS     5000  /* silence waiting for a key, then again */
#define PG_VOICE_PLAYS       3     /* greeting or menu said at most */
#define PG_VOICE_KEYS_MAX    32

enum pg_voice_step {
	PG_VS_GREETING = 0,          /* saying the greeting */
	PG_VS_GREET_WAIT,            /* waiting for 1 */
	PG_VS_MESSAGE,               /* saying the message */
	PG_VS_MENU,                  /* saying the menu */
	PG_VS_MENU_WAIT,             /* waiting for 1, 2 or 3 */
	PG_VS_BYE,                   /* saying acked / passed */
	PG_VS_DONE,                  /* hang up */
};

/* What the driver must do after a key: bits of pg_voice_dialog.todo. */
#define PG_VOICE_DO_HEARD   0x1u     /* the message is being read */
#define PG_VOICE_DO_ACK     0x2u     /* 1 at the menu: acknowledge */
#define PG_VOICE_DO_PASS    0x4u     /* 3 at the menu: escalate now */

struct pg_voice_dialog {
	const struct pg_voice_audio *a;
	enum pg_voice_step step;
	const struct pg_voice_pcm *cur;  /* being played, or NULL */
	size_t pos;                  /* in cur */
	size_t gap;                  /* silence left before the next part */
	int64_t waited;              /* samples of silence waiting for a key */
	int plays;                   /* of the greeting or the menu */
	char keys[PG_VOICE_KEYS_MAX + 1];
	int n_keys;
	bool heard, acked, passed;
	unsigned todo;               /* PG_VOICE_DO_* not yet done */
};
/* Starts with the greeting (or, for a one-part script, the message). */
void pg_voice_dialog_init(struct pg_voice_dialog *d, const struct pg_voice_audio *a);
/* A key pressed: at the greeting 1 reads the message; afterwards 1
 * acknowledges, 2 reads it again, 3 passes it on; others are noted and
 * ignored. */
void pg_voice_dialog_key(struct pg_voice_dialog *d, char key);
/* The next n samples to play into out (silence while waiting). */
void pg_voice_dialog_play(struct pg_voice_dialog *d, int16_t *out, int n);
bool pg_voice_dialog_done(const struct pg_voice_dialog *d);

/* ---- one call (voice_call.c) ---- */

/* What a call to a person came to. */
struct pg_voice_result {
	struct pg_sip_result sip;
	char keys[PG_VOICE_KEYS_MAX + 1];   /* pressed, in order */
	bool heard, acked, passed;
};
/* What the call reports while it runs (the driver: ledger, ack,
 * escalation).  Optional each; called from inside the call. */
struct pg_voice_hooks {
	void *arg;
	void (*answered)(void *arg);
	void (*key)(void *arg, char key, bool inband);
	void (*heard)(void *arg);
	void (*ack)(void *arg);
	void (*pass)(void *arg);
};
/* Calls number through trunk g and plays a's dialogue, keys as RFC 4733
 * telephone-events and as in-band tones (spandsp's DTMF detector). */
void pg_voice_call(const struct pg_sip_gw *g, const char *number,
		   const struct pg_voice_audio *a, const struct pg_voice_hooks *h,
		   struct pg_voice_result *r);

/* ---- the voice mailbox (voice_mailbox.c) ---- */

/* What the mailbox's calls need, for as long as it answers. */
struct voice_mailbox {
	const struct pg_config *cfg;         /* held by the driver */
	const struct pg_chan_host *host;     /* mailbox, ack */
	const struct pg_channel *drv;        /* the voice driver: its templates */
	struct pg_voice_tts *tts;
};
/* pg_sip_answerer's callbacks, arg = a struct voice_mailbox. */
const struct pg_sip_session *voice_mailbox_incoming(void *arg, const char *from);
void voice_mailbox_ended(void *arg, const struct pg_sip_session *s,
			 const struct pg_sip_result *r);

/* ---- the driver's configuration (voice_config.c) ---- */

/* The shared trunks (the "sip" list, read here silently: the fax's
 * table reports its mistakes) and the "voice" section:
 *   voice = { listen = "192.0.2.5:5070"; };   # the voice mailbox
 */
struct voice_cfg {
	struct pg_sip_cfg *trunks;
	char *listen;                /* "ip:port" the mailbox answers on; NULL none */
	char *listen_ip;             /* its parts */
	int listen_port;
};
extern const struct pg_key voice_config_keys[];
extern const struct pg_key voice_device_keys[];
extern const struct pg_keytab *const voice_config_tables[];
pg_err voice_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out);
void voice_config_free(void *cfg);
void voice_device_check(struct pg_conf *cx, const void *cfg, const struct pg_device *dev);

#endif
