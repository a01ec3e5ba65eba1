/*
 * sms_callback.c - what providers send back to /cb/sms/...:
 *
 *   GET|POST /cb/sms/dlr/<did>/<token>?type=N&smsc=..&answer=..
 *            Kannel delivery report (the dlr-url given with each SMS)
 *   POST     /cb/sms/twilio/status/<did>/<token>
 *            Twilio status callback (StatusCallback of each SMS)
 *   GET|POST /cb/sms/kannel/inbound?token=T&from=%p&to=%P&text=%a
 *            Kannel sms-service get-url: a reply from a phone
 *   POST     /cb/sms/twilio/inbound
 *            Twilio incoming-message webhook
 *
 * Every request is hostile until authenticated: the per-delivery token
 * (HMAC of the delivery id with the server's secret, checked by the host
 * in constant time), for Kannel's inbound URL a fixed token (a provider's
 * inbound_token, or the host's token for delivery 0), and for Twilio the
 * X-Twilio-Signature as Twilio documents it.  A failed check answers 403
 * and reaches neither the store nor the acknowledgement logic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pagegate/log.h"
#include "sms_priv.h"

#define MAX_FIELDS     128
#define FROM_MAX       32
#define TEXT_MAX       4096
#define DETAIL_MAX     300
#define SIG_INPUT_MAX  (64 * 1024)

/* ---- form bodies and Twilio signatures (pure) ---- */

/* Orders fields by name, then by their order in the body. */
struct sorted { const struct pg_kv *kv; size_t idx; };

static int
by_name(const void *a, const void *b)
{
	const struct sorted *x = a, *y = b;
	int c = strcmp(x->kv->key, y->kv->key);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

pg_err
sms_twilio_signature(const char *auth_token, const char *url,
		     const struct pg_kv *fields, size_t n, char out[32])
{
	struct sorted *s = n ? calloc(n, sizeof *s) : NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;
	struct pg_buf in;
	pg_err e;

	out[0] = '\0';
	if (n && !s)
		return PG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		s[i].kv = &fields[i];
		s[i].idx = i;
	}
	if (n)
		qsort(s, n, sizeof *s, by_name);
	pg_buf_init(&in, SIG_INPUT_MAX);
	e = pg_buf_adds(&in, url);
	for (size_t i = 0; i < n && !e; i++) {
		e = pg_buf_adds(&in, s[i].kv->key);
		if (!e)
			e = pg_buf_adds(&in, s[i].kv->value);
	}
	free(s);
	if (!e && !HMAC(EVP_sha1(), auth_token, (int)strlen(auth_token),
			(const unsigned char *)in.data, in.len, mac, &mlen))
		e = PG_ERR_INVAL;
	pg_buf_free(&in);
	if (e)
		return e;
	EVP_EncodeBlock((unsigned char *)out, mac, (int)mlen);   /* 28 chars + NUL */
	return PG_OK;
}

/* ---- request helpers ---- */

static void
answer(struct pg_http_resp *resp, int status, const char *text)
{
	resp->status = status;
	pg_buf_reset(&resp->body);
	if (text && *text && pg_buf_adds(&resp->body, text) != PG_OK)
		resp->status = 500;
}

/* "/a/b/c" split into at most max segments; false when there are more. */
static bool
split_path(const char *path, char seg[][72], size_t max, size_t *n)
{
	*n = 0;
	while (*path == '/') {
		const char *s = ++path;
		while (*path && *path != '/')
			path++;
		if (*n == max || (size_t)(path - s) >= sizeof seg[0])
			return false;
		memcpy(seg[*n], s, (size_t)(path - s));
		seg[(*n)++][path - s] = '\0';
	}
	return *path == '\0';
}

static bool
parse_did(const char *s, int64_t *did)
{
	long long v = 0;

	if (!*s || strlen(s) > 18)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*did = v;
	return v > 0;
}

/* The delivery id and token of ".../<did>/<token>" checked with the host. */
static bool
token_ok(const struct pg_chan_host *host, const char *sdid, const char *tok,
	 int64_t *did)
{
	size_t n = strlen(tok);

	if (!parse_did(sdid, did) || n != PG_TOKEN_LEN - 1)
		return false;
	if (strspn(tok, "0123456789abcdefABCDEF") != n)
		return false;
	return host->callback_ok(host->ctx, *did, tok);
}

static const struct sms_config *
sms_cfg(const struct pg_config *cfg)
{
	return cfg ? cfg->chan_cfg[PG_CH_SMS] : NULL;
}

/* Checks X-Twilio-Signature against every twilio provider's token. */
static bool
twilio_signed(const struct pg_config *cfg, const struct pg_http_req *req,
	      const struct pg_kv *f, size_t nf)
{
	const struct sms_config *c = sms_cfg(cfg);
	const char *sig = req->header ? req->header(req, "X-Twilio-Signature") : NULL;
	char want[32];
	bool ok = false;

	if (!c || !sig || strlen(sig) != 28)
		return false;
	for (size_t i = 0; i < c->n && !ok; i++) {
		if (c->v[i].kind != SMS_TWILIO ||
		    sms_twilio_signature(c->v[i].auth_token, req->url, f, nf, want) != PG_OK)
			continue;
		ok = strlen(want) == 28 && pg_ct_equal(want, sig, 28);
	}
	return ok;
}

/* POST fields of a form body (the query is part of the signed URL). */
static pg_err
post_fields(const struct pg_http_req *req, struct pg_kv **f, size_t *nf)
{
	*f = NULL;
	*nf = 0;
	if (!req->content_type ||
	    strncasecmp(req->content_type, "application/x-www-form-urlencoded", 33) != 0)
		return PG_OK;
	pg_err e = pg_form_decode(req->body, req->body_len, MAX_FIELDS, f, nf);

	if (e) {                /* too many fields: refused whole */
		pg_kv_free(*f, *nf);
		*f = NULL;
		*nf = 0;
	}
	return e;
}

static const char *
field(const struct pg_kv *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].key, name) == 0)
			return f[i].value;
	return NULL;
}

/* Records a final report; answers 200, 404 (unknown delivery) or 500. */
static void
receipt(const struct pg_chan_host *host, int64_t did, enum pg_dstate st,
	const char *detail, struct pg_http_resp *resp)
{
	pg_err e = host->receipt(host->ctx, did, st, detail);

	if (e == PG_OK)
		answer(resp, 200, "ok\n");
	else if (e == PG_ERR_NOTFOUND)
		answer(resp, 404, "unknown delivery\n");
	else {
		pg_warn("sms: receipt for delivery %lld not recorded: %s", (long long)did,
			pg_strerror(e));
		answer(resp, 500, "not recorded\n");
	}
}

/* ---- Kannel ---- */

static void
kannel_dlr(const struct pg_chan_host *host, const struct pg_http_req *req,
	   int64_t did, struct pg_http_resp *resp)
{
	const char *type = pg_http_param(req, "type");
	const char *smsc = pg_http_param(req, "smsc");
	const char *ans = pg_http_param(req, "answer");
	char detail[DETAIL_MAX], s_smsc[40], s_ans[160];
	const char *what;
	enum pg_dstate st;
	int t;

	if (!type || strlen(type) > 3 || (t = atoi(type)) <= 0) {
		answer(resp, 400, "missing or bad type\n");
		return;
	}
	switch (t) {
	case 1:  what = "delivered to phone"; st = PG_D_DELIVERED; break;
	case 2:  what = "not delivered to phone"; st = PG_D_FAILED; break;
	case 16: what = "rejected by the SMSC"; st = PG_D_FAILED; break;
	case 4:  what = "queued on the SMSC"; st = PG_D_SENT; break;
	case 8:  what = "accepted by the SMSC"; st = PG_D_SENT; break;
	default: answer(resp, 400, "unknown type\n"); return;
	}
	pg_text_oneline(s_smsc, sizeof s_smsc, smsc ? smsc : "", SIZE_MAX);
	pg_text_oneline(s_ans, sizeof s_ans, ans ? ans : "", SIZE_MAX);
	snprintf(detail, sizeof detail, "kannel report %d: %s%s%s%s%s%s", t, what,
		 *s_smsc ? " (smsc " : "", s_smsc, *s_smsc ? ")" : "",
		 *s_ans ? ": " : "", s_ans);
	/* PG_D_SENT: an intermediate report, recorded as a receipt event */
	receipt(host, did, st, detail, resp);
}

/* A usable inbound sender and text, cleaned into the buffers. */
static bool
inbound_args(const char *from, const char *text, char sfrom[FROM_MAX + 1],
	     char *stext, size_t tlen)
{
	size_t n, o = 0;

	if (!from || !*from || strlen(from) > FROM_MAX)
		return false;
	for (const char *p = from; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	pg_strlcpy(sfrom, from, FROM_MAX + 1);
	if (!text)
		text = "";
	n = strlen(text);
	if (n >= tlen || !pg_utf8_valid(text, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		stext[o++] = (c < 0x20 && c != '\n') || c == 0x7f ? ' ' : (char)c;
	}
	stext[o] = '\0';
	return true;
}

static void
inbound(const struct pg_chan_host *host, const char *from, const char *text,
	struct pg_http_resp *resp, const char *ok_body)
{
	char sfrom[FROM_MAX + 1], *stext = malloc(TEXT_MAX);
	pg_err e;

	if (!stext) {
		answer(resp, 500, "");
		return;
	}
	if (!inbound_args(from, text, sfrom, stext, TEXT_MAX)) {
		free(stext);
		answer(resp, 400, "bad from or text\n");
		return;
	}
	e = host->inbound(host->ctx, PG_CH_SMS, sfrom, stext);
	free(stext);
	if (e == PG_OK || e == PG_ERR_NOTFOUND)   /* unknown senders: logged by the core */
		answer(resp, 200, ok_body);
	else {
		pg_warn("sms: inbound message not recorded: %s", pg_strerror(e));
		answer(resp, 500, "");
	}
}

/* Kannel's sms-service get-url.  With mo-recode = true in Kannel's smsbox
 * group, %a is UTF-8 whatever the phone sent; without it a UCS-2 reply
 * arrives as UTF-16BE octets (coding=%c is 2), which the HTTP layer has
 * already cut at the first zero byte: decoded as far as it goes. */
static void
kannel_inbound(const struct pg_chan_host *host, const struct pg_config *cfg,
	       const struct pg_http_req *req, struct pg_http_resp *resp)
{
	const struct sms_config *c = sms_cfg(cfg);
	const char *tok = pg_http_param(req, "token");
	const char *text = pg_http_param(req, "text");
	const char *coding = pg_http_param(req, "coding");
	const char *charset = pg_http_param(req, "charset");
	struct pg_buf conv;
	bool ok = false;
	size_t tl = tok ? strlen(tok) : 0;

	for (size_t i = 0; c && tok && i < c->n && !ok; i++) {
		const char *it = c->v[i].inbound_token;
		ok = c->v[i].kind == SMS_KANNEL && it && strlen(it) == tl &&
		     pg_ct_equal(it, tok, tl);
	}
	if (!ok && tok && tl == PG_TOKEN_LEN - 1)
		ok = host->callback_ok(host->ctx, 0, tok);
	if (!ok) {
		pg_warn("sms: Kannel inbound request with a bad token refused");
		answer(resp, 403, "forbidden\n");
		return;
	}
	pg_buf_init(&conv, TEXT_MAX);
	if (text && ((coding && strcmp(coding, "2") == 0) ||
		     (charset && (strcasecmp(charset, "UTF-16BE") == 0 ||
				  strcasecmp(charset, "UCS-2") == 0)))) {
		if (sms_utf16be_to_utf8((const unsigned char *)text, strlen(text), &conv)) {
			pg_buf_free(&conv);
			answer(resp, 400, "text too long\n");
			return;
		}
		text = conv.data;
		pg_warn("sms: Kannel passed a UCS-2 reply undecoded (its text is cut at "
			"the first zero byte): set mo-recode = true in Kannel's smsbox group");
	}
	inbound(host, pg_http_param(req, "from"), text, resp, "");
	pg_buf_free(&conv);
}

/* ---- Twilio ---- */

static void
twilio_status(const struct pg_chan_host *host, const struct pg_config *cfg,
	      const struct pg_http_req *req, int64_t did, struct pg_http_resp *resp)
{
	struct pg_kv *f;
	size_t nf;
	const char *st, *sid, *err;
	char detail[DETAIL_MAX], s_st[32], s_sid[64], s_err[16];

	if (post_fields(req, &f, &nf) != PG_OK) {
		answer(resp, 400, "bad form body\n");
		return;
	}
	if (!twilio_signed(cfg, req, f, nf)) {
		pg_kv_free(f, nf);
		pg_warn("sms: Twilio status callback with a bad signature refused");
		answer(resp, 403, "forbidden\n");
		return;
	}
	st = field(f, nf, "MessageStatus");
	if (!st)
		st = field(f, nf, "SmsStatus");
	sid = field(f, nf, "MessageSid");
	err = field(f, nf, "ErrorCode");
	pg_text_oneline(s_st, sizeof s_st, st ? st : "", SIZE_MAX);
	pg_text_oneline(s_sid, sizeof s_sid, sid ? sid : "", SIZE_MAX);
	pg_text_oneline(s_err, sizeof s_err, err ? err : "", SIZE_MAX);
	snprintf(detail, sizeof detail, "twilio status %s%s%s%s%s", s_st,
		 *s_err ? " error " : "", s_err, *s_sid ? " sid=" : "", s_sid);
	pg_kv_free(f, nf);
	if (strcmp(s_st, "delivered") == 0 || strcmp(s_st, "read") == 0)
		receipt(host, did, PG_D_DELIVERED, detail, resp);
	else if (strcmp(s_st, "failed") == 0 || strcmp(s_st, "undelivered") == 0)
		receipt(host, did, PG_D_FAILED, detail, resp);
	else if (*s_st)         /* queued, sending, sent: on the way */
		receipt(host, did, PG_D_SENT, detail, resp);
	else
		answer(resp, 400, "no MessageStatus\n");
}

static void
twilio_inbound(const struct pg_chan_host *host, const struct pg_config *cfg,
	       const struct pg_http_req *req, struct pg_http_resp *resp)
{
	struct pg_kv *f;
	size_t nf;

	if (post_fields(req, &f, &nf) != PG_OK) {
		answer(resp, 400, "bad form body\n");
		return;
	}
	if (!twilio_signed(cfg, req, f, nf)) {
		pg_kv_free(f, nf);
		pg_warn("sms: Twilio inbound webhook with a bad signature refused");
		answer(resp, 403, "forbidden\n");
		return;
	}
	pg_strlcpy(resp->content_type, "text/xml", sizeof resp->content_type);
	inbound(host, field(f, nf, "From"), field(f, nf, "Body"), resp,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>\n");
	if (resp->status != 200)
		pg_strlcpy(resp->content_type, "text/plain", sizeof resp->content_type);
	pg_kv_free(f, nf);
}

void
sms_http(const struct pg_chan_host *host, const struct pg_config *cfg,
	 const struct pg_http_req *req, struct pg_http_resp *resp)
{
	char seg[4][72];
	size_t n;
	int64_t did;
	bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;

	if (!host) {
		answer(resp, 503, "sms channel not running\n");
		return;
	}
	if (!split_path(req->path, seg, 4, &n)) {
		answer(resp, 404, "not found\n");
		return;
	}
	if (n == 3 && strcmp(seg[0], "dlr") == 0 && (get || post)) {
		if (!token_ok(host, seg[1], seg[2], &did)) {
			answer(resp, 403, "forbidden\n");
			return;
		}
		kannel_dlr(host, req, did, resp);
	} else if (n == 4 && strcmp(seg[0], "twilio") == 0 &&
		   strcmp(seg[1], "status") == 0 && post) {
		if (!token_ok(host, seg[2], seg[3], &did)) {
			answer(resp, 403, "forbidden\n");
			return;
		}
		twilio_status(host, cfg, req, did, resp);
	} else if (n == 2 && strcmp(seg[0], "kannel") == 0 &&
		   strcmp(seg[1], "inbound") == 0 && (get || post))
		kannel_inbound(host, cfg, req, resp);
	else if (n == 2 && strcmp(seg[0], "twilio") == 0 &&
		 strcmp(seg[1], "inbound") == 0 && post)
		twilio_inbound(host, cfg, req, resp);
	else
		answer(resp, 404, "not found\n");
}
