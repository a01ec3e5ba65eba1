/*
 * pager_priv.h - what the pager channel's files share: the parsed "pager"
 * section of pagegate.conf, text preparation, and the three protocol
 * clients (SNPP, WCTP, TAP) that chan_pager.c dispatches to by the
 * gateway's kind.  Not a public contract: only the files of src/chan/pager/ and the
 * pager unit tests include it.
 *
 * Every protocol send function attempts all jobs it is given (one
 * gateway), sets each job's outcome and reply, and bounds every wait with
 * the gateway's timeout.  texts[i] is the prepared text for jobs[i]
 * (pager_text_prepare), cut to fit the device and the gateway
 * (pager_text_fit); jobs[i].address is the PIN, already checked with
 * pager_pin_ok.  A page the gateway refuses as too long is cut shorter
 * (pager_recut_limit, pager_text_fit) and sent once more, in the same
 * session.
 */
#ifndef PAGEGATE_PAGER_PRIV_H
#define PAGEGATE_PAGER_PRIV_H

#include <libconfig.h>

#include "pagegate/channel.h"
#include "pagegate/translit.h"
#include "pagegate/util.h"

enum pager_kind { PAGER_SNPP = 0, PAGER_WCTP, PAGER_TAP, PAGER__KINDS };

#define PAGER_DEFAULT_TIMEOUT_S  30
#define PAGER_DEFAULT_MAXLEN     240    /* characters, when a device sets none */
#define PAGER_MIN_MAXLEN         20
#define PAGER_MAX_MAXLEN         1000
#define PAGER_TAP_BLOCK_MAX      250    /* TAP: data characters per block */

struct pager_gw {
	char *name;
	enum pager_kind kind;
	int timeout_s;           /* connect and every reply / response wait */
	bool ascii;              /* transliterate texts to 7-bit ASCII */
	int max_length;          /* most the gateway takes, in its unit (SNPP:
				    bytes on the wire, pager_snpp_cost; WCTP,
				    TAP: characters); 0 = no limit of its own
				    (HylaFAX: 128) */
	int line;                /* in pagegate.conf */
	/* snpp */
	char *host;
	int port;
	char *login;             /* NULL = no LOGI */
	char *password;          /* snpp: LOGI password; tap: logon password */
	char **site;             /* "SITE <x>" before each page (HylaFAX: JQUEUE YES) */
	size_t n_site;
	/* wctp */
	char *url;
	char *sender_id;
	char *security_code;     /* may be NULL */
	char *poller_id;         /* PollForMessages pollerID (default sender_id) */
	int poll_s;              /* 0 = no polling for receipts and replies */
	bool push;               /* ask the carrier to POST replies and status
				    to public_url/cb/pager/wctp/<did>/<token> */
	char *ca_file;           /* PEM CAs for https (NULL = system store) */
	/* tap */
	char *device;
	int speed;               /* baud */
	bool seven_e1;           /* 7 data bits, even parity (TAP's classic
				    framing); false = 8N1 */
	int max_block;           /* data characters per TAP block */
	char *dial;              /* NULL = direct line; else ATDT<dial> first */
};

struct pager_cfg {
	struct pager_gw *gw;
	size_t n;
};

/* The driver table (chan_pager.c); pg_chan_pager_driver() answers it. */
extern const struct pg_channel pg_chan_pager;

/* ---- configuration (pager_config.c) ---- */

/* The channel table's configuration slots. */
extern const struct pg_key pager_config_keys[];
extern const struct pg_key pager_device_keys[];
extern const struct pg_keytab *const pager_config_tables[];
pg_err pager_config_parse(struct pg_conf *cx, const config_setting_t *root, void **out);
void pager_config_free(void *chan_cfg);
/* The PIN (dev->to, from "pin" or "to") and the gateway of a device. */
void pager_device_check(struct pg_conf *cx, const void *chan_cfg,
			const struct pg_device *dev);
/* Deep copy / release of one gateway (the WCTP poller keeps copies that
 * outlive a configuration reload). */
pg_err pager_gw_copy(struct pager_gw *dst, const struct pager_gw *src);
void pager_gw_clear(struct pager_gw *g);
/* The gateway named name, or the first one for name == NULL; NULL when
 * there is none. */
const struct pager_gw *pager_gw_find(const struct pager_cfg *c, const char *name);
/* True when pin is acceptable as a recipient for a gateway of kind k:
 * TAP 1..16 letters/digits; SNPP and WCTP 1..64 printable ASCII
 * characters without spaces. */
bool pager_pin_ok(enum pager_kind k, const char *pin);
/* The characters a page to dev through gw may have: the device's
 * max_length option (checked by device_check) or PAGER_DEFAULT_MAXLEN,
 * capped by the gateway's max_length where the gateway counts characters
 * (WCTP, TAP; an SNPP gateway's limit counts bytes: pager_snpp_cost). */
size_t pager_maxlen(const struct pager_gw *gw, const struct pg_device *dev);

/* ---- text (pager_text.c) ---- */

enum {
	PAGER_TEXT_ASCII = 1,        /* transliterate to printable ASCII */
	PAGER_TEXT_ONE_LINE = 2,     /* join lines with " / " */
};

/* Prepares a rendered template for a pager: line ends normalised, other
 * control characters become spaces, runs of blanks collapse, lines are
 * trimmed and empty lines dropped; then (flags) transliterated through tr
 * (ICU: readable ASCII from any script, pagegate/translit.h) and/or
 * joined.  Invalid UTF-8 becomes U+FFFD ('?' in ASCII).  Nothing is cut
 * (pager_text_fit).  *out is allocated.  PG_ERR_NOMEM; PG_ERR_INVAL when
 * ASCII is asked without a transliterator. */
pg_err pager_text_prepare(const char *in, unsigned flags, struct pg_translit *tr,
			  char **out);

/* A gateway's measure of the text s[0..len): what its limit counts. */
typedef size_t (*pager_cost_fn)(const char *s, size_t len);
/* Characters (code points): WCTP's and TAP's unit. */
size_t pager_cost_chars(const char *s, size_t len);

/* What a page must fit: the device's screen in characters and the
 * gateway's limit in its own unit. */
struct pager_limits {
	size_t max_chars;            /* 0 = no limit */
	pager_cost_fn cost;          /* NULL = characters */
	size_t max_cost;             /* 0 = no limit */
	bool ascii;                  /* 7-bit: the cut is marked "..." not "…" */
};
/* A copy of text cut to fit l: at the end of the last word that fits
 * together with the mark (else at a blank among the last 16 characters,
 * else between two characters, never inside one), no separator left
 * dangling, then the mark ("…" or "...").  Text that fits is copied
 * whole.  recut: text was sent and refused as too long (l has the
 * shorter limit): a mark of an earlier cut at its end is dropped first,
 * and the result is always marked.  NULL when out of memory. */
char *pager_text_fit(const char *text, const struct pager_limits *l, bool recut);
/* The limit to cut to after a refusal for length of a text that measured
 * sent: the first number in refusal (the server's "max 128") when it is
 * below sent, else a quarter less than sent. */
size_t pager_recut_limit(size_t sent, const char *refusal);
/* Cuts the UTF-8 string s in place to at most max_chars characters,
 * never inside a multi-byte sequence.  Returns the new length in bytes. */
size_t pager_utf8_truncate(char *s, size_t max_chars);
/* Number of characters (code points) in the UTF-8 string s. */
size_t pager_utf8_chars(const char *s);

/* ---- SNPP, RFC 1861 level 2 (pager_snpp.c) ---- */

#define PAGER_SNPP_LINE_MAX 512

/* Parses one reply line: returns its 3-digit code and sets *more when the
 * reply continues ("250-..." or an RFC 1861 "214" help line); -1 for a
 * line that is not a reply. */
int pager_snpp_parse_line(const char *line, bool *more);
/* Reads one whole reply from fd within timeout_ms: *code is the final
 * line's code, text the final line (controls removed).  Extra bytes that
 * arrive early stay in buf/len for the next call.  PG_ERR_TEMPFAIL with
 * text = reason on timeout, closed connection or a malformed reply. */
struct pager_snpp_rd {
	int fd;
	char buf[PAGER_SNPP_LINE_MAX * 2];
	size_t len;
};
pg_err pager_snpp_read_reply(struct pager_snpp_rd *rd, int timeout_ms,
			     int *code, char *text, size_t tlen);
void pager_snpp_send(const struct pager_gw *gw, struct pg_job *jobs,
		     char *const *texts, size_t n);
/* What an SNPP gateway counts of a page text, as HylaFAX's hfaxd counts
 * it (an upper bound for servers that count less): sent by MESS (one
 * line of at most PAGER_SNPP_MESS_MAX bytes), its bytes; by DATA, the
 * bytes of every line with its line break, the last line's included, and
 * the dot that dot-stuffing adds to a line starting with '.'. */
#define PAGER_SNPP_MESS_MAX 200
size_t pager_snpp_cost(const char *s, size_t len);

/* ---- WCTP 1.3 (pager_wctp.c, pager_wctp_poll.c) ---- */

#define PAGER_WCTP_VERSION "wctp-dtd-v1r3"
#define PAGER_WCTP_DTD_URL "http://dtd.wctp.org/wctp-dtd-v1r3.dtd"
#define PAGER_WCTP_RESP_MAX (64 * 1024)

/* Builds the wctp-SubmitRequest (enterprise mode) for one page into out:
 * messageID = did, submitTimestamp = now_ms (UTC), deliveryPriority HIGH
 * for urgent and emergency, allowResponse and notifyWhenDelivered true;
 * reply_to (may be NULL) becomes sendResponsesToID. */
pg_err pager_wctp_build_submit(const struct pager_gw *gw, const char *pin,
			       const char *text, int64_t did, enum pg_urgency u,
			       int64_t now_ms, const char *reply_to,
			       struct pg_buf *out);
/* Judges a response to a submit: wctp-Confirmation/wctp-Success -> ok;
 * wctp-Failure by its errorCode (pager_wctp_code_outcome); anything else
 * (not XML, another operation, missing codes) -> temp.  reply gets
 * "WCTP <code> <text>" or the reason it is malformed. */
enum pg_outcome pager_wctp_judge(const char *body, size_t len, long http_status,
				 char *reply, size_t rlen);
/* The outcome of a WCTP error code, from the code table's series:
 * 300-399 protocol errors and 400-499 content errors are permanent except
 * 304 (operation refused until messages are polled); 500-599 message
 * processing errors are permanent; 600-699 system errors and anything
 * else are temporary. */
enum pg_outcome pager_wctp_code_outcome(int code);
/* POSTs xml (Content-Type: text/xml) to gw->url with the gateway's
 * timeout, using the curl easy handle curl; the body (bounded) goes to
 * resp.  stop (may be NULL) cuts the transfer short when it turns true.
 * PG_ERR_TEMPFAIL with why on transport errors. */
pg_err pager_wctp_post(void *curl, const struct pager_gw *gw, const char *xml,
		       size_t len, struct pg_buf *resp, long *http_status,
		       const _Atomic bool *stop, char *why, size_t wlen);
void pager_wctp_send(const struct pager_gw *gw, struct pg_job *jobs,
		     char *const *texts, size_t n, const char *const *reply_to);

/* What a poll (or a pushed operation) reports. */
enum pager_wctp_ev_type { PAGER_WCTP_STATUS, PAGER_WCTP_REPLY };
struct pager_wctp_ev {
	enum pager_wctp_ev_type type;
	int64_t did;               /* responseToMessageID, 0 if absent/foreign */
	const char *from;          /* REPLY: originator senderID ("" if none) */
	const char *text;          /* REPLY: the reply text */
	enum pg_dstate state;      /* STATUS: PG_D_DELIVERED or PG_D_FAILED;
				      PG_D_SENT for QUEUED (informational) */
	const char *detail;        /* STATUS: "WCTP DELIVERED", "WCTP 503 ..." */
};
/* Returns true when the event was handled (its sequence number is then
 * acknowledged on the next poll). */
typedef bool (*pager_wctp_ev_fn)(void *arg, const struct pager_wctp_ev *ev);

#define PAGER_WCTP_POLL_BATCH 20

/* Builds wctp-PollForMessages, acknowledging seqs[0..n) as received. */
pg_err pager_wctp_build_poll(const struct pager_gw *gw, const long *seqs,
			     size_t n, struct pg_buf *out);
/* Parses a wctp-PollResponse: calls ev for each wctp-Message's reply or
 * status and collects the sequence numbers to acknowledge (at most
 * max_seqs); *next_s = minNextPollInterval (0 if absent).  PG_ERR_TEMPFAIL
 * or PG_ERR_PERMFAIL (a wctp-Failure whose code is permanent, e.g. 300
 * polling not supported) with why. */
pg_err pager_wctp_parse_poll(const char *body, size_t len, pager_wctp_ev_fn ev,
			     void *arg, long *seqs, size_t max_seqs, size_t *n_seqs,
			     int *next_s, char *why, size_t wlen);
/* Parses one pushed operation (wctp-MessageReply or wctp-StatusInfo, as
 * a carrier POSTs it to sendResponsesToID), calling ev.  PG_ERR_INVAL for
 * anything else. */
pg_err pager_wctp_parse_push(const char *body, size_t len, pager_wctp_ev_fn ev,
			     void *arg, char *why, size_t wlen);
/* A wctp-Confirmation answering a pushed operation (code 200 or an error
 * code), for the HTTP reply body. */
pg_err pager_wctp_build_confirmation(int code, const char *text, struct pg_buf *out);

/* ---- TAP / IXO over a serial line (pager_tap.c) ---- */

/* The TAP checksum of block[0..len) (STX through ETX/ETB/US inclusive):
 * the sum of the 7-bit values, its low 12 bits as three 4-bit nibbles,
 * most significant first, each plus 0x30.  out gets 3 characters + NUL. */
void pager_tap_checksum(const unsigned char *block, size_t len, char out[4]);
/* Splits one transaction (fields pin and text, each ended by CR) into
 * blocks of at most max_block data characters: STX data (ETB|US|ETX)
 * checksum CR.  Returns the number of blocks written to blocks[] (each
 * pg_buf initialised by the caller), or 0 when more than max_blocks would
 * be needed. */
size_t pager_tap_blocks(const char *pin, const char *text, int max_block,
			struct pg_buf *blocks, size_t max_blocks);
void pager_tap_send(const struct pager_gw *gw, struct pg_job *jobs,
		    char *const *texts, size_t n);

/* What the terminal sends back, taken byte by byte (pure, so that it can
 * be fuzzed apart from the serial line): message lines are kept as
 * printable text ("; " between lines), and ACK, NAK, RS, ESC EOT and the
 * go-ahead ESC [ p end a wait.  Zero-initialise, then reset before each
 * wait whose message lines matter. */
#define PAGER_TAP_MSG_MAX 200
struct pager_tap_rx {
	char msg[PAGER_TAP_MSG_MAX];
	size_t mlen;
	bool esc;                    /* ESC seen, waiting for its follower */
	bool esc_bracket;            /* ESC [ seen */
};
enum pager_tap_resp { PAGER_TAP_MORE = 0, PAGER_TAP_ACK, PAGER_TAP_NAK, PAGER_TAP_RS,
		      PAGER_TAP_EOT, PAGER_TAP_GO };
/* Takes one received byte (masked to 7 bits): the response it completes,
 * or PAGER_TAP_MORE. */
enum pager_tap_resp pager_tap_rx_byte(struct pager_tap_rx *rx, unsigned char c);
/* The message text so far without a trailing separator, or a
 * placeholder when there is none. */
const char *pager_tap_rx_text(struct pager_tap_rx *rx);
void pager_tap_rx_reset(struct pager_tap_rx *rx);
/* True when the terminal's message lines before an RS refuse the page
 * for its length: TAP 1.8's "517 nnn Character Maximum, Message
 * Rejected", or words to that effect.  *num is where the number the
 * terminal gives may start. */
bool pager_tap_refused_too_long(const char *msg, const char **num);

/* ---- shared helpers (pager_text.c) ---- */


#endif
