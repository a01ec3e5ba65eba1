/*
 * fuzz_sms.c - what SMS providers send to /cb/sms/... (sms_callback.c):
 * Kannel delivery reports (dlr-url query strings), Kannel inbound replies
 * (get-url, UTF-8 or undecoded UCS-2), Twilio status callbacks and
 * incoming-message webhooks (form bodies), through the driver's http()
 * entry with the configuration's two providers.  The input is
 *
 *   METHOD SP PATH[?QUERY] LF
 *   Content-Type LF
 *   X-Twilio-Signature LF     ("*": the harness signs the request right,
 *                              so the fuzzer gets past the check)
 *   body
 *
 * The query and a form body are decoded into parameters as the HTTP layer
 * does (intake_cb.c).  The host accepts the callback token
 * FUZZ_CB_TOKEN for any delivery and records nothing.
 *
 * Checked besides the sanitizers: the answer is a known status; what
 * reaches the host is what its contract promises - a receipt's detail on
 * one line, an inbound sender of printable ASCII and a text of valid UTF-8
 * without control characters but newlines.
 */
#include <strings.h>

#include "fuzz.h"

#include "pagegate/channel.h"
#include "pagegate/util.h"
#include "../../src/chan/sms/sms_priv.h"

#define FUZZ_CB_TOKEN "0123456789abcdef0123456789abcdef"

static struct pg_config *cfg;

static bool
no_controls(const char *s, bool newline_ok)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && !(newline_ok && *s == '\n')) || *s == 0x7f)
			return false;
	return true;
}

static pg_err
host_receipt(void *ctx, int64_t did, enum pg_dstate state, const char *detail)
{
	(void)ctx;
	FUZZ_ASSERT(did > 0);
	FUZZ_ASSERT(state == PG_D_DELIVERED || state == PG_D_FAILED || state == PG_D_SENT);
	FUZZ_ASSERT(pg_utf8_valid(detail, strlen(detail)) && no_controls(detail, false));
	return PG_OK;
}

static pg_err
host_inbound(void *ctx, enum pg_channel_kind ch, const char *from, const char *text)
{
	(void)ctx;
	FUZZ_ASSERT(ch == PG_CH_SMS && *from);
	for (const char *p = from; *p; p++)
		FUZZ_ASSERT((unsigned char)*p > ' ' && (unsigned char)*p < 0x7f);
	FUZZ_ASSERT(pg_utf8_valid(text, strlen(text)) && no_controls(text, true));
	return PG_ERR_NOTFOUND;
}

static pg_err
host_ack(void *ctx, enum pg_channel_kind ch, const char *ref, const char *who)
{
	(void)ctx, (void)ch, (void)ref, (void)who;
	return PG_ERR_NOTFOUND;
}

static void
host_token(void *ctx, int64_t did, char out[PG_TOKEN_LEN])
{
	(void)ctx, (void)did;
	memcpy(out, FUZZ_CB_TOKEN, PG_TOKEN_LEN);
}

static bool
host_token_ok(void *ctx, int64_t did, const char *token)
{
	(void)ctx, (void)did;
	return strcmp(token, FUZZ_CB_TOKEN) == 0;
}

/* The request's headers: only the signature is asked for. */
static const char *sig_header;

static const char *
req_header(const struct pg_http_req *r, const char *name)
{
	(void)r;
	return strcasecmp(name, "X-Twilio-Signature") == 0 ? sig_header : NULL;
}

/* The next line of *s (cut at LF, which is consumed); NULL at the end. */
static char *
next_line(char **s)
{
	char *l = *s, *nl;

	if (!l)
		return NULL;
	if ((nl = strchr(l, '\n'))) {
		*nl = '\0';
		*s = nl + 1;
	} else {
		*s = NULL;
	}
	return l;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pg_chan_host host = {
		.receipt = host_receipt, .inbound = host_inbound, .ack = host_ack,
		.callback_token = host_token, .callback_ok = host_token_ok,
	};
	char *in = fuzz_cstr(data, size), *rest = in, *line, *method, *path, *query;
	const char *ct, *sig, *body;
	struct pg_kv *params = NULL, *qv = NULL, *bv = NULL;
	size_t nq = 0, nb = 0, blen;
	struct pg_http_req req;
	struct pg_http_resp resp;
	struct pg_buf url;
	char want[32];

	if (!cfg) {
		pg_log_set_level(PG_LOG_ERR);
		cfg = fuzz_config(FUZZ_DAEMON_CONF, strlen(FUZZ_DAEMON_CONF),
				  FUZZ_CLIENT_CONF, strlen(FUZZ_CLIENT_CONF));
		FUZZ_ASSERT(cfg != NULL && cfg->chan_cfg[PG_CH_SMS] != NULL);
	}
	line = next_line(&rest);
	method = line;
	path = strchr(line, ' ');
	if (path)
		*path++ = '\0';
	else
		path = "/";
	if ((query = strchr(path, '?')))
		*query++ = '\0';
	ct = (line = next_line(&rest)) && *line ? line : NULL;
	sig = next_line(&rest);
	body = rest ? rest : "";
	blen = rest ? size - (size_t)(rest - in) : 0;

	/* the parameters: the query's, then a form body's */
	if (query)
		(void)pg_form_decode(query, strlen(query), 64, &qv, &nq);
	if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 && blen)
		(void)pg_form_decode(body, blen, 128 - nq, &bv, &nb);
	if (nq + nb && !(params = calloc(nq + nb, sizeof *params)))
		abort();
	if (nq)
		memcpy(params, qv, nq * sizeof *params);
	if (nb)
		memcpy(params + nq, bv, nb * sizeof *params);

	pg_buf_init(&url, 1 << 16);
	if (pg_buf_adds(&url, "https://pagegate.example/cb/sms") || pg_buf_adds(&url, path) ||
	    (query && (pg_buf_adds(&url, "?") || pg_buf_adds(&url, query))))
		pg_buf_reset(&url);
	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = path;
	req.url = url.data ? url.data : "";
	req.params = params;
	req.n_params = nq + nb;
	req.body = body;
	req.body_len = blen;
	req.content_type = ct;
	req.header = req_header;
	sig_header = sig;
	if (sig && strcmp(sig, "*") == 0) {
		/* Twilio signs the URL and the POST fields only */
		if (sms_twilio_signature("twilio-auth-token", req.url, bv, nb, want) == PG_OK)
			sig_header = want;
	}

	resp.status = 200;
	strcpy(resp.content_type, "text/plain");
	pg_buf_init(&resp.body, 64 * 1024);
	sms_http(&host, cfg, &req, &resp);
	FUZZ_ASSERT(resp.status == 200 || resp.status == 400 || resp.status == 403 ||
		    resp.status == 404 || resp.status == 500 || resp.status == 503);
	pg_buf_free(&resp.body);
	pg_buf_free(&url);
	free(params);              /* the strings belong to qv and bv */
	pg_kv_free(qv, nq);
	pg_kv_free(bv, nb);
	free(in);
	return 0;
}
