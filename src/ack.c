/*
 * ack.c - one acknowledgement model for every channel (ack.h): the parser
 * of inbound replies, the callback tokens that authenticate peers'
 * reports, and the host services drivers call (channel.h: struct
 * pg_chan_host).  Whatever the channel, an acknowledgement ends in
 * pg_store_ack(), a reply in pg_store_reply(), a delivery report in
 * pg_store_receipt().
 *
 * Inbound texts and senders come from peers: they are hostile.  They are
 * bounded and checked (UTF-8, no control characters in a sender) before
 * they reach the store, and logged only cut and made printable.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pagegate/ack.h"
#include "pagegate/ack_link.h"
#include "pagegate/escalate.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define PARSE_MAX   64        /* a longer reply is never an acknowledgement */
#define REF_DIGITS  6         /* the store's references: 6 digits */
#define FROM_MAX    256       /* bytes of a sender address */
#define TEXT_MAX    4096      /* bytes of an inbound text */
#define LOG_TEXT    80        /* bytes of an inbound text in a log line */
#define TOKEN_HEX   (PG_TOKEN_LEN - 1)

/* The whole replies that acknowledge (after folding, see pg_ack_parse). */
static const char *const ack_words[] = {
	"1", "ok", "okay", "k", "ack", "acknowledged", "yes", "y", "got it",
};
/* The words a reference may follow. */
static const char *const ref_words[] = { "ack", "ok" };

/* ---- parsing ---- */

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* Exactly REF_DIGITS digits. */
static bool
is_ref(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n == REF_DIGITS && s[n] == '\0';
}

/* Folds text into t (at most PARSE_MAX bytes): ASCII lower case, runs of
 * white space made one space, no white space or final "." / "!" at either
 * end.  False when the text is longer. */
static bool
fold(const char *text, char t[PARSE_MAX + 1])
{
	size_t n = 0;
	unsigned char c;

	for (; *text; text++) {
		c = (unsigned char)*text;
		if (is_space(c)) {
			if (n == 0 || t[n - 1] == ' ')
				continue;
			c = ' ';
		} else if (c >= 'A' && c <= 'Z') {
			c = (unsigned char)(c - 'A' + 'a');
		}
		if (n == PARSE_MAX)
			return false;
		t[n++] = (char)c;
	}
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '.' || t[n - 1] == '!'))
		n--;
	t[n] = '\0';
	return true;
}

/* Conservative on purpose: only the whole replies listed, "ack"/"ok" and a
 * reference, or a bare reference.  "ok call me back" is a reply for the
 * operators, never an acknowledgement. */
bool
pg_ack_parse(const char *text, char ref[PG_ACK_REF_MAX])
{
	char t[PARSE_MAX + 1];
	size_t n;

	ref[0] = '\0';
	if (text == NULL || !fold(text, t))
		return false;
	for (size_t i = 0; i < sizeof ack_words / sizeof ack_words[0]; i++)
		if (strcmp(t, ack_words[i]) == 0)
			return true;
	if (is_ref(t)) {
		pg_strlcpy(ref, t, PG_ACK_REF_MAX);
		return true;
	}
	for (size_t i = 0; i < sizeof ref_words / sizeof ref_words[0]; i++) {
		n = strlen(ref_words[i]);
		if (strncmp(t, ref_words[i], n) == 0 && t[n] == ' ' &&
		    is_ref(t + n + 1)) {
			pg_strlcpy(ref, t + n + 1, PG_ACK_REF_MAX);
			return true;
		}
	}
	return false;
}

/* ---- callback tokens ---- */

void
pg_callback_token(const unsigned char secret[32], int64_t did,
		  char out[PG_TOKEN_LEN])
{
	char msg[32];

	snprintf(msg, sizeof msg, "cb:%lld", (long long)did);
	pg_secret_token(secret, msg, out);
}

void
pg_secret_token(const unsigned char secret[32], const char *msg,
		char out[PG_TOKEN_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	size_t n = strlen(msg);

	out[0] = '\0';          /* no token: callback_ok then refuses all */
	if (HMAC(EVP_sha256(), secret, 32, (const unsigned char *)msg,
		 n, mac, &len) == NULL || len * 2 < TOKEN_HEX) {
		pg_error("ack: HMAC-SHA-256 failed; callback tokens unavailable");
		return;
	}
	for (int i = 0; i < TOKEN_HEX / 2; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[TOKEN_HEX] = '\0';
}

/* ---- the host ---- */

pg_err
pg_ack_message(struct pg_ack_host *h, int64_t mid, int64_t did,
	       const char *channel, const char *who, bool *already)
{
	char w[FROM_MAX + 1];
	bool again = false;
	pg_err e = pg_store_ack(h->store, mid, did, channel, who, &again);

	if (already)
		*already = again;
	if (e == PG_OK)
		pg_info("ack mid=%lld did=%lld by=\"%s\" via=%s%s",
			(long long)mid, (long long)did,
			pg_text_logsafe(w, sizeof w, who, FROM_MAX), channel,
			again ? " (already acknowledged)" : "");
	return e;
}

static pg_err
host_receipt(void *ctx, int64_t did, enum pg_dstate state, const char *detail)
{
	struct pg_ack_host *h = ctx;
	pg_err e = pg_store_receipt(h->store, did, state, detail);

	if (e == PG_OK)
		pg_info("receipt did=%lld state=%s", (long long)did,
			pg_dstate_name(state));
	else if (e == PG_ERR_NOTFOUND)
		pg_info("receipt about unknown delivery %lld ignored",
			(long long)did);
	return e;
}

/* A sender as the ledger will show it: bounded, UTF-8, no controls. */
static bool
from_ok(const char *from)
{
	size_t n = from ? strnlen(from, FROM_MAX + 1) : 0;

	return n > 0 && n <= FROM_MAX && pg_utf8_valid(from, n) &&
	    !pg_has_ctl(from, false);
}

static pg_err
host_inbound(void *ctx, enum pg_channel_kind ch, const char *from,
	     const char *text)
{
	struct pg_ack_host *h = ctx;
	char ref[PG_ACK_REF_MAX], f[FROM_MAX + 1], t[LOG_TEXT + 1];
	const char *name;
	int64_t mid = 0, did = 0, rmid = 0;
	size_t tn = text ? strnlen(text, TEXT_MAX + 1) : 0;
	bool is_ack;
	pg_err e;

	if ((unsigned)ch >= PG_CH__COUNT || !from_ok(from) || text == NULL ||
	    tn > TEXT_MAX || !pg_utf8_valid(text, tn)) {
		pg_info("inbound message refused: bad sender or text");
		return PG_ERR_INVAL;
	}
	name = pg_channel_name(ch);
	is_ack = pg_ack_parse(text, ref);
	if (is_ack && ref[0]) {
		/* By reference, whoever sends it; the sender's own delivery
		 * of that message, if there is one, is named too. */
		e = pg_store_find_ack_ref(h->store, ref, &mid);
		if (e == PG_OK) {
			if (pg_store_find_recent(h->store, ch, from,
			    PG_REPLY_WINDOW_MS, true, &did, &rmid) != PG_OK || rmid != mid)
				did = 0;
			return pg_ack_message(h, mid, did, name, from, NULL);
		}
		if (e != PG_ERR_NOTFOUND)
			return e;
		/* A reference nobody holds acknowledges nothing: at most a
		 * reply for the operators of the sender's last page. */
		is_ack = false;
	}
	/* An acknowledgement goes to the sender's latest page still waiting
	 * for one; a reply (or a late "ok") to the latest page at all. */
	e = PG_ERR_NOTFOUND;
	if (is_ack)
		e = pg_store_find_recent(h->store, ch, from, PG_REPLY_WINDOW_MS,
					 false, &did, &mid);
	if (e == PG_ERR_NOTFOUND)
		e = pg_store_find_recent(h->store, ch, from, PG_REPLY_WINDOW_MS,
					 true, &did, &mid);
	if (e == PG_ERR_NOTFOUND) {
		pg_info("inbound %s from \"%s\" matches no recent page; "
			"ignored: \"%s\"", name, pg_text_logsafe(f, sizeof f, from,
			FROM_MAX), pg_text_logsafe(t, sizeof t, text, LOG_TEXT));
		return e;
	}
	if (e)
		return e;
	if (is_ack)
		return pg_ack_message(h, mid, did, name, from, NULL);
	if ((e = pg_store_reply(h->store, mid, did, name, from, text)) == PG_OK)
		pg_info("reply mid=%lld did=%lld from=\"%s\" via=%s",
			(long long)mid, (long long)did,
			pg_text_logsafe(f, sizeof f, from, FROM_MAX), name);
	return e;
}

static pg_err
host_ack(void *ctx, enum pg_channel_kind ch, const char *ack_ref,
	 const char *who)
{
	struct pg_ack_host *h = ctx;
	int64_t mid;
	pg_err e;

	if ((unsigned)ch >= PG_CH__COUNT)
		return PG_ERR_INVAL;
	if (who == NULL || *who == '\0')
		who = "unknown";
	if (!from_ok(who))
		return PG_ERR_INVAL;
	if ((e = pg_store_find_ack_ref(h->store, ack_ref, &mid)))
		return e;
	return pg_ack_message(h, mid, 0, pg_channel_name(ch), who, NULL);
}

static void
host_token(void *ctx, int64_t did, char out[PG_TOKEN_LEN])
{
	struct pg_ack_host *h = ctx;

	pg_callback_token(h->secret, did, out);
}

static bool
host_token_ok(void *ctx, int64_t did, const char *token)
{
	struct pg_ack_host *h = ctx;
	char want[PG_TOKEN_LEN];

	if (token == NULL || strnlen(token, TOKEN_HEX + 1) != TOKEN_HEX)
		return false;
	pg_callback_token(h->secret, did, want);
	return want[0] != '\0' && pg_ct_equal(want, token, TOKEN_HEX);
}

/* The signed link of ack_link.h, valid for cfg's ack_link_ttl from now. */
static void
host_ack_url(void *ctx, const struct pg_config *cfg, int64_t mid, int64_t did,
	     char *out, size_t n)
{
	struct pg_ack_host *h = ctx;
	int64_t ttl = cfg->ack_link_ttl_s > 0 ? cfg->ack_link_ttl_s :
	    PG_ACK_LINK_TTL_DEFAULT_S;
	pg_err e = pg_ack_link_url(h->secret, cfg->public_url, mid, did,
				   pg_now_ms() / 1000 + ttl, out, n);

	if (e)
		pg_warn("ack: no acknowledgement link for delivery %lld: %s",
			(long long)did, pg_strerror(e));
}

/* The next step of the escalation of delivery did's message, now. */
static pg_err
host_escalate(void *ctx, int64_t did, const char *who)
{
	struct pg_ack_host *h = ctx;
	struct pg_delivery d;
	struct pg_message m;
	int64_t next = 0;
	int from;
	pg_err e;

	if (!from_ok(who))
		return PG_ERR_INVAL;
	if ((e = pg_store_get_delivery(h->store, did, &d)))
		return e;
	e = pg_store_get_msg(h->store, d.message_id, &m);
	pg_delivery_free(&d);
	if (e)
		return e;
	from = m.esc_fired + 1;
	e = m.esc_state == PG_ES_NONE || m.esc_total == 0 || from > m.esc_total ?
		PG_ERR_INVAL : pg_store_esc_restart(h->store, m.id, from, who, &next);
	if (!e && h->esc && pg_esc_wake(h->esc, m.id, next) != PG_OK)
		pg_warn("ack: escalation of message %lld not timed now; it runs after the "
			"next restart", (long long)m.id);
	if (!e)
		pg_info("escalate mid=%lld from step %d by %s", (long long)m.id, from, who);
	pg_message_free(&m);
	return e;
}

/* The mailbox, for a mailbox that is phoned (the voice channel). */
static pg_err
host_mailbox(void *ctx, const char *client_id, const char *contact_id, bool take,
	     int64_t did, const char *who, struct pg_mailbox_item **out, size_t *n)
{
	struct pg_ack_host *h = ctx;
	bool more = false;
	pg_err e;

	if (take && !from_ok(who))
		return PG_ERR_INVAL;
	e = take && did > 0 ?
	    pg_store_mailbox_take_one(h->store, client_id, contact_id, did, who, out, n) :
	    pg_store_mailbox(h->store, client_id, contact_id, take, who, out, n, &more);
	if (!e && take && *n > 0) {
		for (size_t i = 0; h->metrics && i < *n; i++)
			pg_metrics_final(h->metrics, PG_CH_MAILBOX, true);
		pg_info("mailbox: %zu message%s of client %s retrieved by %s", *n,
			*n == 1 ? "" : "s", client_id, who);
	}
	return e;
}

pg_err
pg_ack_host_init(struct pg_ack_host *h, struct pg_store *st,
		 struct pg_metrics *metrics)
{
	pg_err e;

	memset(h, 0, sizeof *h);
	h->store = st;
	h->metrics = metrics;
	if ((e = pg_store_secret(st, h->secret)))
		return e;
	h->host.ctx = h;
	h->host.receipt = host_receipt;
	h->host.inbound = host_inbound;
	h->host.ack = host_ack;
	h->host.callback_token = host_token;
	h->host.callback_ok = host_token_ok;
	h->host.ack_url = host_ack_url;
	h->host.escalate = host_escalate;
	h->host.mailbox = host_mailbox;
	return PG_OK;
}
