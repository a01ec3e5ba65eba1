/*
 * pager_wctp.c - WCTP 1.3 client, enterprise mode (pager_priv.h).
 *
 * One wctp-SubmitRequest per page, built with libxml2 against the WCTP
 * 1.3 DTD (wctp-dtd-v1r3: wctp-SubmitHeader = wctp-Originator,
 * wctp-MessageControl, wctp-Recipient; wctp-Payload = wctp-Alphanumeric),
 * UTF-8, POSTed with libcurl as text/xml.  The answer is a
 * wctp-Confirmation holding wctp-Success or wctp-Failure; its code decides
 * (pager_wctp_code_outcome).  Anything that is not a well-formed
 * confirmation is a temporary failure whose reply says what was wrong.
 * The carrier's limit counts the characters of wctp-Alphanumeric (its
 * text, not the XML that carries it); a page refused with 411 (message
 * exceeds allowable length) goes once more, cut to the length the
 * carrier's text names, else a quarter shorter.
 *
 * Responses are hostile: parsed without network access, without loading
 * external DTDs and without entity substitution, bounded to 64 KiB, and
 * every text taken from them is cleaned and bounded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "pagegate/log.h"
#include "pager_priv.h"

#define MS_PER_S   1000
#define TS_LEN     32
#define NOTE_MAX   160

#define XC (const xmlChar *)

/* libxml2 parse options for hostile input: no network, no external DTD,
 * no entity substitution, no messages on stderr. */
#define SAFE_PARSE (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
		    XML_PARSE_NOCDATA)

/* ---- XML helpers ---- */

static xmlNodePtr
elem_child(xmlNodePtr n)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static bool
is(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, XC name) == 0;
}

/* Attribute name of n, cleaned into dst ("" when absent). */
static const char *
attr(xmlNodePtr n, const char *name, char *dst, size_t dn)
{
	xmlChar *v = xmlGetProp(n, XC name);

	dst[0] = '\0';
	if (v) {
		pg_text_oneline(dst, dn, (const char *)v, SIZE_MAX);
		xmlFree(v);
	}
	return dst;
}

/* Text content of n, cleaned into dst. */
static const char *
content(xmlNodePtr n, char *dst, size_t dn)
{
	xmlChar *v = xmlNodeGetContent(n);

	dst[0] = '\0';
	if (v) {
		pg_text_oneline(dst, dn, (const char *)v, SIZE_MAX);
		xmlFree(v);
	}
	return dst;
}

/* A 3-digit code, or -1. */
static int
code_of(const char *s)
{
	if (strlen(s) != 3 || s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9')
		return -1;
	return atoi(s);
}

enum pg_outcome
pager_wctp_code_outcome(int code)
{
	if (code >= 200 && code < 300)
		return PG_OUT_OK;
	if (code == 304)
		return PG_OUT_TEMP;
	if (code >= 300 && code < 600)
		return PG_OUT_PERM;
	return PG_OUT_TEMP;
}

/* "2026-11-22T15:34:00" (UTC), the WCTP timestamp form. */
static void
timestamp(int64_t ms, char out[TS_LEN])
{
	time_t t = (time_t)(ms / MS_PER_S);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Serialises doc (UTF-8, indented) into out. */
static pg_err
dump(xmlDocPtr doc, struct pg_buf *out)
{
	xmlChar *mem = NULL;
	int size = 0;
	pg_err e;

	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	if (!mem || size <= 0) {
		xmlFree(mem);
		return PG_ERR_NOMEM;
	}
	e = pg_buf_add(out, mem, (size_t)size);
	xmlFree(mem);
	return e;
}

/* A new document with the WCTP 1.3 DOCTYPE and its wctp-Operation root. */
static xmlDocPtr
new_operation(xmlNodePtr *root)
{
	xmlDocPtr doc = xmlNewDoc(XC "1.0");

	if (!doc)
		return NULL;
	if (!xmlCreateIntSubset(doc, XC "wctp-Operation", NULL, XC PAGER_WCTP_DTD_URL) ||
	    !(*root = xmlNewNode(NULL, XC "wctp-Operation")) ||
	    !xmlNewProp(*root, XC "wctpVersion", XC PAGER_WCTP_VERSION)) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlDocSetRootElement(doc, *root);
	return doc;
}

pg_err
pager_wctp_build_submit(const struct pager_gw *gw, const char *pin, const char *text,
			int64_t did, enum pg_urgency u, int64_t now_ms,
			const char *reply_to, struct pg_buf *out)
{
	xmlDocPtr doc;
	xmlNodePtr root, sr, hdr, n, pl;
	char ts[TS_LEN], id[24];
	pg_err e = PG_ERR_NOMEM;

	if (!pg_utf8_valid(text, strlen(text)) || pg_has_ctl(text, true))
		return PG_ERR_INVAL;
	if (!(doc = new_operation(&root)))
		return PG_ERR_NOMEM;
	timestamp(now_ms, ts);
	snprintf(id, sizeof id, "%lld", (long long)did);
	if (!(sr = xmlNewChild(root, NULL, XC "wctp-SubmitRequest", NULL)) ||
	    !(hdr = xmlNewChild(sr, NULL, XC "wctp-SubmitHeader", NULL)) ||
	    !xmlNewProp(hdr, XC "submitTimestamp", XC ts))
		goto out;
	if (!(n = xmlNewChild(hdr, NULL, XC "wctp-Originator", NULL)) ||
	    !xmlNewProp(n, XC "senderID", XC gw->sender_id) ||
	    (gw->security_code && !xmlNewProp(n, XC "securityCode", XC gw->security_code)))
		goto out;
	if (!(n = xmlNewChild(hdr, NULL, XC "wctp-MessageControl", NULL)) ||
	    !xmlNewProp(n, XC "messageID", XC id) ||
	    (reply_to && !xmlNewProp(n, XC "sendResponsesToID", XC reply_to)) ||
	    !xmlNewProp(n, XC "allowResponse", XC "true") ||
	    !xmlNewProp(n, XC "notifyWhenDelivered", XC "true") ||
	    (u != PG_URG_ROUTINE && !xmlNewProp(n, XC "deliveryPriority", XC "HIGH")))
		goto out;
	if (!(n = xmlNewChild(hdr, NULL, XC "wctp-Recipient", NULL)) ||
	    !xmlNewProp(n, XC "recipientID", XC pin))
		goto out;
	if (!(pl = xmlNewChild(sr, NULL, XC "wctp-Payload", NULL)) ||
	    !xmlNewTextChild(pl, NULL, XC "wctp-Alphanumeric", XC text))
		goto out;
	e = dump(doc, out);
out:
	xmlFreeDoc(doc);
	return e;
}

pg_err
pager_wctp_build_confirmation(int code, const char *text, struct pg_buf *out)
{
	xmlDocPtr doc;
	xmlNodePtr root, conf, n;
	char cs[8];
	bool ok = code >= 200 && code < 300;
	pg_err e = PG_ERR_NOMEM;

	if (!(doc = new_operation(&root)))
		return PG_ERR_NOMEM;
	snprintf(cs, sizeof cs, "%d", code);
	if ((conf = xmlNewChild(root, NULL, XC "wctp-Confirmation", NULL)) &&
	    (n = xmlNewTextChild(conf, NULL, XC (ok ? "wctp-Success" : "wctp-Failure"),
				 XC text)) &&
	    xmlNewProp(n, XC (ok ? "successCode" : "errorCode"), XC cs) &&
	    xmlNewProp(n, XC (ok ? "successText" : "errorText"), XC text))
		e = dump(doc, out);
	xmlFreeDoc(doc);
	return e;
}

/* The outcome of an HTTP status without a WCTP body. */
static enum pg_outcome
http_outcome(long st)
{
	if (st == 408 || st == 429 || st >= 500 || st < 300)
		return PG_OUT_TEMP;
	return PG_OUT_PERM;
}

enum pg_outcome
pager_wctp_judge(const char *body, size_t len, long http_status, char *reply,
		 size_t rlen)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, op, r;
	char code_s[16], text[NOTE_MAX], inner[NOTE_MAX];
	enum pg_outcome o = PG_OUT_TEMP;
	int code;

	if (len > 0 && len <= PAGER_WCTP_RESP_MAX)
		doc = xmlReadMemory(body, (int)len, "wctp-response.xml", NULL, SAFE_PARSE);
	if (!doc || !is(root = xmlDocGetRootElement(doc), "wctp-Operation")) {
		if (http_status < 200 || http_status >= 300) {
			snprintf(reply, rlen, "HTTP %ld from the WCTP gateway%s", http_status,
				 doc ? " (no WCTP operation in the body)" : "");
			o = http_outcome(http_status);
		} else {
			snprintf(reply, rlen, "malformed WCTP response: %s",
				 len == 0 ? "empty body" : len > PAGER_WCTP_RESP_MAX ?
				 "too large" : doc ? "root is not wctp-Operation" : "not XML");
		}
		goto out;
	}
	op = elem_child(root);
	if (!is(op, "wctp-Confirmation")) {
		snprintf(reply, rlen, "malformed WCTP response: %s instead of "
			 "wctp-Confirmation", op ? (const char *)op->name : "no operation");
		pager_utf8_truncate(reply, SIZE_MAX);
		goto out;
	}
	r = elem_child(op);
	if (is(r, "wctp-Success")) {
		attr(r, "successCode", code_s, sizeof code_s);
		code = code_of(code_s);
		if (code < 0) {
			snprintf(reply, rlen, "malformed WCTP response: wctp-Success without "
				 "a valid successCode");
			goto out;
		}
		attr(r, "successText", text, sizeof text);
		content(r, inner, sizeof inner);
		o = PG_OUT_OK;
	} else if (is(r, "wctp-Failure")) {
		attr(r, "errorCode", code_s, sizeof code_s);
		code = code_of(code_s);
		if (code < 0) {
			snprintf(reply, rlen, "malformed WCTP response: wctp-Failure without "
				 "a valid errorCode");
			goto out;
		}
		attr(r, "errorText", text, sizeof text);
		content(r, inner, sizeof inner);
		o = pager_wctp_code_outcome(code);
		if (o == PG_OUT_OK)             /* a "failure" with a 2xx code */
			o = PG_OUT_TEMP;
	} else {
		snprintf(reply, rlen, "malformed WCTP response: wctp-Confirmation without "
			 "wctp-Success or wctp-Failure");
		goto out;
	}
	snprintf(reply, rlen, "WCTP %d%s%s%s%s%s", code, *text ? " " : "", text,
		 *inner && strcmp(inner, text) ? " (" : "",
		 *inner && strcmp(inner, text) ? inner : "",
		 *inner && strcmp(inner, text) ? ")" : "");
	pager_utf8_truncate(reply, SIZE_MAX);
out:
	if (doc)
		xmlFreeDoc(doc);
	return o;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct pg_buf *b = arg;
	size_t n = size * nmemb;

	return pg_buf_add(b, p, n) == PG_OK ? n : 0;   /* 0 aborts: too big */
}

/* libcurl's progress callback: non-zero aborts the transfer. */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const _Atomic bool *stop = arg;

	(void)dt; (void)dn; (void)ut; (void)un;
	return stop && *stop;
}

pg_err
pager_wctp_post(void *curl, const struct pager_gw *gw, const char *xml, size_t len,
		struct pg_buf *resp, long *http_status, const _Atomic bool *stop,
		char *why, size_t wlen)
{
	CURL *c = curl;
	struct curl_slist *hdrs = NULL, *h2;
	char err[CURL_ERROR_SIZE] = "";
	long tmo = (long)(gw->timeout_s > 0 ? gw->timeout_s : PAGER_DEFAULT_TIMEOUT_S) *
		   MS_PER_S;
	CURLcode rc;

	*http_status = 0;
	pg_buf_reset(resp);
	if (!(h2 = curl_slist_append(hdrs, "Content-Type: text/xml"))) {
		snprintf(why, wlen, "out of memory");
		return PG_ERR_TEMPFAIL;
	}
	hdrs = h2;
	curl_easy_reset(c);
	if (curl_easy_setopt(c, CURLOPT_URL, gw->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, xml) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "pagegate") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, tmo) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, tmo) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop) != CURLE_OK ||
	    (gw->ca_file && curl_easy_setopt(c, CURLOPT_CAINFO, gw->ca_file) != CURLE_OK)) {
		curl_slist_free_all(hdrs);
		snprintf(why, wlen, "HTTP client set-up failed");
		return PG_ERR_TEMPFAIL;
	}
	rc = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		snprintf(why, wlen, "POST to the WCTP gateway failed: %s",
			 rc == CURLE_WRITE_ERROR ? "response too large" :
			 rc == CURLE_ABORTED_BY_CALLBACK ? "shutting down" :
			 err[0] ? err : curl_easy_strerror(rc));
		pager_utf8_truncate(why, SIZE_MAX);
		return PG_ERR_TEMPFAIL;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http_status);
	return PG_OK;
}

void
pager_wctp_send(const struct pager_gw *gw, struct pg_job *jobs, char *const *texts,
		size_t n, const char *const *reply_to)
{
	CURL *c = curl_easy_init();
	struct pg_buf xml, resp;
	struct pager_limits lim = { .ascii = gw->ascii };
	char why[PG_REPLY_MAX];
	long st;
	size_t i = 0;
	pg_err e;

	pg_buf_init(&xml, 64 * 1024);
	pg_buf_init(&resp, PAGER_WCTP_RESP_MAX);
	if (!c) {
		snprintf(why, sizeof why, "HTTP client unavailable");
		goto fail_rest;
	}
	for (; i < n; i++) {
		const char *text = texts[i];
		char *shorter = NULL;

		for (;;) {
			pg_buf_reset(&xml);
			e = pager_wctp_build_submit(gw, jobs[i].address, text, jobs[i].delivery_id,
						    jobs[i].urgency, pg_now_ms(),
						    reply_to ? reply_to[i] : NULL, &xml);
			if (e) {
				pg_job_set(&jobs[i], e == PG_ERR_INVAL ? PG_OUT_PERM : PG_OUT_TEMP,
					   "cannot build the WCTP request: %s", pg_strerror(e));
				break;
			}
			if (pager_wctp_post(c, gw, xml.data, xml.len, &resp, &st, NULL, why,
					    sizeof why) != PG_OK) {
				free(shorter);
				goto fail_rest;
			}
			jobs[i].outcome = pager_wctp_judge(resp.data ? resp.data : "", resp.len,
							   st, jobs[i].reply, sizeof jobs[i].reply);
			if (jobs[i].outcome == PG_OUT_OK)
				break;
			pg_info("wctp %s: delivery %lld: %s", gw->name,
				(long long)jobs[i].delivery_id, jobs[i].reply);
			/* 411: the message exceeds the allowable length; once
			 * more, cut to the length the carrier names (else a
			 * quarter shorter) */
			if (shorter || strncmp(jobs[i].reply, "WCTP 411", 8) != 0)
				break;
			lim.max_cost = pager_recut_limit(pager_utf8_chars(text), jobs[i].reply + 8);
			if (!(shorter = pager_text_fit(text, &lim, true)) || !*shorter)
				break;
			text = shorter;
		}
		free(shorter);
	}
	goto out;
fail_rest:
	pg_warn("wctp gateway %s: %s", gw->name, why);
	if (i < n)
		pg_job_set(&jobs[i++], PG_OUT_TEMP, "%s", why);
	for (; i < n; i++)
		pg_job_set(&jobs[i], PG_OUT_TEMP, "not attempted: %s", why);
out:
	if (c)
		curl_easy_cleanup(c);
	pg_buf_free(&xml);
	pg_buf_free(&resp);
}

/* ---- message tracking: wctp-PollForMessages and pushed operations ---- */

#define REPLY_TEXT_MAX 1024
#define POLL_INTERVAL_MAX 86400

pg_err
pager_wctp_build_poll(const struct pager_gw *gw, const long *seqs, size_t n,
		      struct pg_buf *out)
{
	xmlDocPtr doc;
	xmlNodePtr root, poll, mr, ok;
	char num[24];
	size_t i;
	pg_err e = PG_ERR_NOMEM;

	if (!(doc = new_operation(&root)))
		return PG_ERR_NOMEM;
	snprintf(num, sizeof num, "%d", PAGER_WCTP_POLL_BATCH);
	if (!(poll = xmlNewChild(root, NULL, XC "wctp-PollForMessages", NULL)) ||
	    !xmlNewProp(poll, XC "pollerID", XC (gw->poller_id ? gw->poller_id :
						  gw->sender_id)) ||
	    (gw->security_code && !xmlNewProp(poll, XC "securityCode",
					      XC gw->security_code)) ||
	    !xmlNewProp(poll, XC "maxMessagesInBatch", XC num))
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof num, "%ld", seqs[i]);
		if (!(mr = xmlNewChild(poll, NULL, XC "wctp-MessageReceived", NULL)) ||
		    !xmlNewProp(mr, XC "sequenceNo", XC num) ||
		    !(ok = xmlNewChild(mr, NULL, XC "wctp-Success", NULL)) ||
		    !xmlNewProp(ok, XC "successCode", XC "200") ||
		    !xmlNewProp(ok, XC "successText", XC "Received"))
			goto out;
	}
	e = dump(doc, out);
out:
	xmlFreeDoc(doc);
	return e;
}

/* Our messageID back from responseToMessageID: a delivery id, or 0. */
static int64_t
did_of(xmlNodePtr hdr)
{
	char v[32];
	char *end;
	long long d;

	attr(hdr, "responseToMessageID", v, sizeof v);
	if (!v[0] || strlen(v) > 18 || strspn(v, "0123456789") != strlen(v))
		return 0;
	d = strtoll(v, &end, 10);
	return *end ? 0 : d;
}

/* The child element of n named name, or NULL. */
static xmlNodePtr
child_named(xmlNodePtr n, const char *name)
{
	xmlNodePtr c;

	for (c = elem_child(n); c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* The alphanumeric text of a wctp-Payload (or of an MCR's message text). */
static void
payload_text(xmlNodePtr payload, char *dst, size_t dn)
{
	xmlNodePtr a = child_named(payload, "wctp-Alphanumeric");

	if (!a && (a = child_named(payload, "wctp-MCR")))
		a = child_named(a, "wctp-MessageText");
	if (a)
		content(a, dst, dn);
	else
		dst[0] = '\0';
}

/* One carried operation: a reply, a status or a device-originated
 * message.  Returns whether it was handled (unknown kinds count as
 * handled: nothing will ever do more with them). */
static bool
handle_op(xmlNodePtr op, pager_wctp_ev_fn ev, void *arg)
{
	struct pager_wctp_ev e;
	xmlNodePtr hdr, n;
	char from[NOTE_MAX], text[REPLY_TEXT_MAX], detail[NOTE_MAX + 32], code_s[16];
	char et[NOTE_MAX];
	int code;

	memset(&e, 0, sizeof e);
	from[0] = text[0] = '\0';
	if (is(op, "wctp-MessageReply") || is(op, "wctp-SubmitRequest")) {
		hdr = child_named(op, is(op, "wctp-MessageReply") ? "wctp-ResponseHeader" :
				  "wctp-SubmitHeader");
		if (!hdr)
			return true;
		e.type = PAGER_WCTP_REPLY;
		e.did = is(op, "wctp-MessageReply") ? did_of(hdr) : 0;
		if ((n = child_named(hdr, "wctp-Originator")))
			attr(n, "senderID", from, sizeof from);
		if ((n = child_named(op, "wctp-Payload")))
			payload_text(n, text, sizeof text);
		e.from = from;
		e.text = text;
		return ev(arg, &e);
	}
	if (is(op, "wctp-StatusInfo")) {
		if (!(hdr = child_named(op, "wctp-ResponseHeader")))
			return true;
		e.type = PAGER_WCTP_STATUS;
		e.did = did_of(hdr);
		if ((n = child_named(op, "wctp-Notification"))) {
			attr(n, "type", code_s, sizeof code_s);
			if (!strcmp(code_s, "DELIVERED") || !strcmp(code_s, "READ"))
				e.state = PG_D_DELIVERED;
			else
				e.state = PG_D_SENT;
			snprintf(detail, sizeof detail, "WCTP %s", code_s[0] ? code_s : "notification");
		} else if ((n = child_named(op, "wctp-Failure"))) {
			attr(n, "errorCode", code_s, sizeof code_s);
			attr(n, "errorText", et, sizeof et);
			code = code_of(code_s);
			e.state = PG_D_FAILED;
			snprintf(detail, sizeof detail, "WCTP %s%s%s", code >= 0 ? code_s : "failure",
				 *et ? " " : "", et);
			pager_utf8_truncate(detail, SIZE_MAX);
		} else {
			return true;
		}
		e.detail = detail;
		return ev(arg, &e);
	}
	return true;
}

/* Parses body into a document whose root is wctp-Operation. */
static xmlDocPtr
parse_operation(const char *body, size_t len, xmlNodePtr *op, char *why, size_t wlen)
{
	xmlDocPtr doc;
	xmlNodePtr root;

	if (len == 0 || len > PAGER_WCTP_RESP_MAX) {
		snprintf(why, wlen, "malformed WCTP operation: %s", len ? "too large" : "empty");
		return NULL;
	}
	if (!(doc = xmlReadMemory(body, (int)len, "wctp.xml", NULL, SAFE_PARSE))) {
		snprintf(why, wlen, "malformed WCTP operation: not XML");
		return NULL;
	}
	root = xmlDocGetRootElement(doc);
	if (!is(root, "wctp-Operation") || !(*op = elem_child(root))) {
		snprintf(why, wlen, "malformed WCTP operation: no wctp-Operation");
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* A wctp-Failure answering a poll: its code decides temp or perm. */
static pg_err
poll_failure(xmlNodePtr f, char *why, size_t wlen)
{
	char code_s[16], et[NOTE_MAX];
	int code;

	attr(f, "errorCode", code_s, sizeof code_s);
	attr(f, "errorText", et, sizeof et);
	code = code_of(code_s);
	snprintf(why, wlen, "WCTP poll refused: %s%s%s", code >= 0 ? code_s : "(no code)",
		 *et ? " " : "", et);
	pager_utf8_truncate(why, SIZE_MAX);
	return code >= 0 && pager_wctp_code_outcome(code) == PG_OUT_PERM ?
	       PG_ERR_PERMFAIL : PG_ERR_TEMPFAIL;
}

pg_err
pager_wctp_parse_poll(const char *body, size_t len, pager_wctp_ev_fn ev, void *arg,
		      long *seqs, size_t max_seqs, size_t *n_seqs, int *next_s,
		      char *why, size_t wlen)
{
	xmlDocPtr doc;
	xmlNodePtr op, m, f;
	char v[32], *end;
	long seq, iv;
	pg_err e = PG_OK;

	*n_seqs = 0;
	*next_s = 0;
	if (!(doc = parse_operation(body, len, &op, why, wlen)))
		return PG_ERR_TEMPFAIL;
	if (is(op, "wctp-Confirmation") && (f = child_named(op, "wctp-Failure"))) {
		e = poll_failure(f, why, wlen);
		goto out;
	}
	if (!is(op, "wctp-PollResponse")) {
		snprintf(why, wlen, "malformed WCTP poll response: %s", (const char *)op->name);
		pager_utf8_truncate(why, SIZE_MAX);
		e = PG_ERR_TEMPFAIL;
		goto out;
	}
	attr(op, "minNextPollInterval", v, sizeof v);
	iv = v[0] ? strtol(v, &end, 10) : 0;
	if (v[0] && !*end && iv > 0)
		*next_s = iv > POLL_INTERVAL_MAX ? POLL_INTERVAL_MAX : (int)iv;
	if ((f = child_named(op, "wctp-Failure"))) {
		e = poll_failure(f, why, wlen);
		goto out;
	}
	for (m = elem_child(op); m; m = m->next) {
		if (!is(m, "wctp-Message"))
			continue;
		attr(m, "sequenceNo", v, sizeof v);
		seq = v[0] && strlen(v) <= 9 && strspn(v, "0123456789") == strlen(v) ?
		      strtol(v, NULL, 10) : -1;
		if (handle_op(elem_child(m), ev, arg) && seq >= 0 && *n_seqs < max_seqs)
			seqs[(*n_seqs)++] = seq;
	}
out:
	xmlFreeDoc(doc);
	return e;
}

pg_err
pager_wctp_parse_push(const char *body, size_t len, pager_wctp_ev_fn ev, void *arg,
		      char *why, size_t wlen)
{
	xmlDocPtr doc;
	xmlNodePtr op;
	pg_err e = PG_OK;

	if (!(doc = parse_operation(body, len, &op, why, wlen)))
		return PG_ERR_INVAL;
	if (!is(op, "wctp-MessageReply") && !is(op, "wctp-StatusInfo")) {
		snprintf(why, wlen, "unsupported WCTP operation %s", (const char *)op->name);
		pager_utf8_truncate(why, SIZE_MAX);
		e = PG_ERR_INVAL;
	} else if (!handle_op(op, ev, arg)) {
		snprintf(why, wlen, "could not record the operation");
		e = PG_ERR_TEMPFAIL;
	}
	xmlFreeDoc(doc);
	return e;
}
