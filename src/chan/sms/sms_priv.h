/*
 * sms_priv.h - the parts of the sms channel (chan_sms.c) shared between
 * its files.  Not a public contract: only the files of src/chan/sms/ (and the unit
 * tests tests/unit/test_sms*.c) include it.
 *
 *   sms_text.c      pure: GSM-7 / UCS-2 choice, segments, truncation, the
 *                   GSM-7-only form of a text (ascii)
 *   sms_config.c    the "sms" section of pagegate.conf and device checks
 *   sms_provider.c  per provider kind: the HTTP request to make and what
 *                   its reply means (Kannel, Twilio, generic HTTP)
 *   sms_callback.c  /cb/sms/...: delivery reports, status callbacks,
 *                   inbound replies, Twilio request signatures
 *   chan_sms.c      the driver table; sending with libcurl's multi
 *                   interface, rate limits, connection reuse
 */
#ifndef PAGEGATE_SMS_PRIV_H
#define PAGEGATE_SMS_PRIV_H

#include <regex.h>

#include "pagegate/channel.h"
#include "pagegate/util.h"

#define SMS_MAX_SEGMENTS      10   /* most segments a device may allow */
#define SMS_DEFAULT_SEGMENTS  3    /* when neither device nor provider says */

/* The driver table (chan_sms.c). */
extern const struct pg_channel pg_chan_sms;

/* ---- text (sms_text.c, pure) ---- */

enum sms_coding { SMS_GSM7 = 0, SMS_UCS2 };

/* Segment capacities (3GPP TS 23.038 / 23.040): a single SMS carries 160
 * septets or 70 UTF-16 units; a concatenated one loses 6 octets to its
 * user data header, leaving 153 septets or 67 units per segment. */
#define SMS_GSM7_SINGLE  160
#define SMS_GSM7_MULTI   153
#define SMS_UCS2_SINGLE  70
#define SMS_UCS2_MULTI   67

/* The text to send, after normalisation and truncation. */
struct sms_text {
	enum sms_coding coding;
	unsigned segments;     /* SMS segments it needs (>= 1) */
	size_t units;          /* septets (GSM-7) or UTF-16 code units (UCS-2) */
	size_t chars;          /* Unicode code points */
	bool truncated;        /* cut to fit, ends with the marker */
	struct pg_buf utf8;    /* the text, UTF-8, NUL-terminated */
};

/* Septets the code point takes in GSM-7: 1 (basic table), 2 (extension
 * table, sent as escape + character), 0 (not representable). */
int sms_gsm7_cost(uint32_t cp);

/* Segments needed for n characters of the given costs (septets or
 * UTF-16 units each): one SMS when the total fits single, else greedy
 * packing into segments of multi, never splitting a character (an
 * extension escape pair or a surrogate pair stays in one segment). */
unsigned sms_segments(const unsigned char *costs, size_t n, size_t single,
		      size_t multi);

/* Prepares text for sending in at most max_segments segments (1..10):
 * normalises white space, chooses the coding and truncates.  The rules
 * are stated at the top of sms_text.c.  t is initialised here; free it
 * with sms_text_free.  PG_ERR_INVAL when nothing is left to send (empty
 * text), PG_ERR_NOMEM. */
pg_err sms_text_prepare(const char *in, unsigned max_segments, struct sms_text *t);
void sms_text_free(struct sms_text *t);

struct pg_translit;
/* The text for a provider or phone that takes GSM-7 only (ascii = true),
 * appended to out: in (UTF-8) with each run of characters outside the
 * GSM-7 alphabet (and of Greek capitals, which it has only some of)
 * transliterated to ASCII by tr (translit.h: Greek "Den yparchei",
 * Chinese as pinyin, emoji by name) and a backtick as an apostrophe;
 * the rest (ASCII, é ü ñ £ €...) as it is, so sms_text_prepare then
 * chooses GSM-7.  Stops once out holds more than 10 segments can carry.
 * PG_ERR_NOMEM, PG_ERR_TOOBIG (out's bound). */
pg_err sms_text_gsm(struct pg_translit *tr, const char *in, struct pg_buf *out);

/* Appends the UTF-16BE form of UTF-8 text s[0..n) (invalid sequences
 * become U+FFFD) to out. */
pg_err sms_utf16be(const char *s, size_t n, struct pg_buf *out);
/* The same for a provider that cuts a concatenated SMS every
 * SMS_UCS2_MULTI units whatever falls there (Kannel: inside a surrogate
 * pair too, which phones then show as two broken characters): with
 * concat (the text needs more than one SMS), the units a segment would
 * leave unused because the next character does not fit whole are filled
 * with U+200B (zero width space), so each character opens the segment
 * sms_segments counted it in. */
pg_err sms_utf16be_segments(const char *s, size_t n, bool concat, struct pg_buf *out);
/* Appends the UTF-8 form of UTF-16BE bytes s[0..n) to out (unpaired
 * surrogates and an odd last byte become U+FFFD). */
pg_err sms_utf16be_to_utf8(const unsigned char *s, size_t n, struct pg_buf *out);

/* ---- configuration (sms_config.c) ---- */

enum sms_kind { SMS_KANNEL = 0, SMS_TWILIO, SMS_HTTP, SMS__KINDS };
enum sms_escape { SMS_ESC_URL = 0, SMS_ESC_JSON, SMS_ESC_NONE };

/* One provider of the "sms" list.  Strings are owned. */
struct sms_provider {
	char *name;
	enum sms_kind kind;
	char *url;             /* kannel: sendsms URL; twilio: API base;
				  http: URL template */
	char *from;            /* sender id / number, may be NULL */
	double rate;           /* messages per second, 0 = unlimited */
	int timeout_s;         /* whole request */
	int connect_timeout_s;
	unsigned max_segments; /* default for devices without their own */
	bool ascii;            /* GSM-7 only: transliterate what it lacks */
	char *tls_ca;          /* CA file (absolute), NULL = system store */
	bool is_default;
	int line;
	/* kannel */
	char *username, *password;
	int dlr_mask;
	char *smsc;            /* Kannel smsc-id to route through, may be NULL */
	char *inbound_token;   /* token Kannel's get-url carries, may be NULL */
	/* twilio */
	char *account_sid, *auth_token, *messaging_service_sid;
	/* http */
	char *method;          /* "GET", "POST", "PUT" */
	char **headers;        /* "Name: value" */
	size_t n_headers;
	char *body;            /* body template, may be NULL */
	enum sms_escape escape;
	int ok_lo, ok_hi;      /* success status range (e.g. 200..299) */
	bool has_regex;        /* success also needs the body to match */
	regex_t ok_regex;
	char *success;         /* as written, for messages */
};

struct sms_config {
	struct sms_provider *v;
	size_t n;
	size_t def;            /* index of the default provider */
};

/* channel.h's configuration slots for the "sms" section. */
extern const struct pg_key sms_config_keys[];
extern const struct pg_key sms_device_keys[];
extern const struct pg_keytab *const sms_config_tables[];
pg_err sms_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out);
void sms_config_free(void *cfg);
void sms_device_check(struct pg_conf *cx, const void *chan_cfg, const struct pg_device *dev);

/* The provider called name, or the default one for name == NULL; NULL
 * when there is none. */
const struct sms_provider *sms_provider_find(const struct sms_config *c,
					     const char *name);
/* The segment limit for a device: its max_segments option, else the
 * provider's. */
unsigned sms_max_segments(const struct sms_provider *p, const struct pg_device *dev);
/* True when the text for a device goes GSM-7 only (sms_text_gsm): the
 * provider's ascii = true, or the device's (a phone that shows nothing
 * else); either is enough. */
bool sms_ascii(const struct sms_provider *p, const struct pg_device *dev);
/* True for "+" followed by 5..15 digits, or 3..15 digits (short codes,
 * national numbers). */
bool sms_number_ok(const char *s);

/* ---- requests and replies (sms_provider.c) ---- */

/* One SMS as the request builders need it. */
struct sms_msg {
	const char *to;
	const struct sms_text *text;
	int64_t delivery_id;
	const char *status_url;   /* where the provider reports on this
				     delivery (token included), or NULL */
};

/* An HTTP request to make.  Strings are owned; user/password borrowed
 * from the provider. */
struct sms_request {
	char *url;
	const char *method;       /* "GET", "POST", "PUT" */
	char *body;               /* NULL for none */
	size_t body_len;
	char **headers;           /* "Name: value" */
	size_t n_headers;
	const char *user, *password;   /* HTTP basic auth, NULL = none */
};
void sms_request_free(struct sms_request *r);

/* What came back. */
struct sms_reply {
	long status;              /* HTTP status, 0 when none arrived */
	const char *error;        /* transport error text, NULL when a
				     response arrived */
	bool timed_out;
	const char *body;         /* NUL-terminated, may be "" */
	size_t body_len;
};

/* Builds the request for m through provider p.  PG_ERR_INVAL (with why)
 * for a message the provider cannot take, PG_ERR_TOOBIG, PG_ERR_NOMEM. */
pg_err sms_build_request(const struct sms_provider *p, const struct sms_msg *m,
			 struct sms_request *out, char *why, size_t why_len);
/* Maps a reply to an outcome and the text recorded in the ledger. */
void sms_judge_reply(const struct sms_provider *p, const struct sms_reply *r,
		     enum pg_outcome *outcome, char reply[PG_REPLY_MAX]);

/* The generic provider's templates (url, body): "{{name}}" with the
 * variables to, from, text, delivery_id, status_url, coding ("gsm7" or
 * "ucs2") and segments.  check: false with err for an unknown variable or
 * an unclosed "{{". */
bool sms_tmpl_check(const char *tmpl, char *err, size_t errlen);

/* Appends s[0..n) percent-encoded (everything but A-Z a-z 0-9 - . _ ~). */
pg_err sms_url_encode(struct pg_buf *b, const char *s, size_t n);
/* ---- callbacks (sms_callback.c) ---- */

/* channel.h http(): serves /cb/sms/... for host (NULL = not started). */
void sms_http(const struct pg_chan_host *host, const struct pg_config *cfg,
	      const struct pg_http_req *req, struct pg_http_resp *resp);

/* Twilio's request signature: base64(HMAC-SHA1(auth_token, url followed
 * by every POST field name and value, sorted by name)).  out gets 28
 * characters and a NUL. */
pg_err sms_twilio_signature(const char *auth_token, const char *url,
			    const struct pg_kv *fields, size_t n, char out[32]);

#endif
