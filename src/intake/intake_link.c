/*
 * intake_link.c - the pages behind signed acknowledgement links
 * (ack_link.h), GET and POST /a/TOKEN.  No operator token: the link's
 * token is the credential.
 *
 *   GET   a confirmation page: client, ack reference, when the message
 *         was received (client's zone), kind and urgency, who the page was
 *         sent to, and one button that POSTs to the same URL.  It never
 *         acknowledges: mail scanners and link previews fetch links.
 *   POST  acknowledges through pg_ack_message() on behalf of the
 *         delivery's contact, via "<channel> link" ("email link").
 * Already acknowledged: both say by whom and when, and write nothing.
 * A malformed or forged token or an unknown message: 404; an authentic
 * but expired one: 410, saying how else to acknowledge.
 *
 * The link may be forwarded, and a client may keep message content off
 * some channels: the pages never show the message text, the caller or
 * the recipient's address.  Everything shown is HTML-escaped.
 */
#include <string.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/ack_link.h"
#include "pagegate/log.h"
#include "pagegate/tz.h"
#include "pagegate/util.h"

#define PAGE_MAX   (16 * 1024)
#define TIME_MAX   128
#define WHO_MAX    (PG_MAX_NAME + 1)
#define CHAN_MAX   32

static const char HTML_TYPE[] = "text/html; charset=utf-8";

/* What a page shows about one message and delivery. */
struct view {
	const char *token;
	const struct pg_client *cl;      /* NULL when no longer configured */
	const struct pg_message *m;
	const struct pg_delivery *d;
};

/* Appends s with & < > " ' escaped. */
static pg_err
esc(struct pg_buf *b, const char *s)
{
	const char *run = s;
	const char *rep;
	pg_err e;

	for (const char *p = s; ; p++) {
		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\0': return pg_buf_add(b, run, (size_t)(p - run));
		default: continue;
		}
		if ((e = pg_buf_add(b, run, (size_t)(p - run))) || (e = pg_buf_adds(b, rep)))
			return e;
		run = p + 1;
	}
}

/* ms as local time in the client's zone ("2026-11-22 09:34 (-06:00)
 * America/Chicago"), UTC when the client is gone. */
static const char *
local_time(const struct pg_client *cl, int64_t ms, char buf[TIME_MAX])
{
	const struct pg_tz *tz = cl && cl->tz ? cl->tz : pg_tz_get("UTC");
	size_t n;

	if (!tz) {
		pg_iso8601(ms, buf);
		return buf;
	}
	pg_tz_format(tz, ms / 1000, buf, TIME_MAX);
	n = strlen(buf);
	snprintf(buf + n, TIME_MAX - n, " %s", cl && cl->tzid ? cl->tzid : "UTC");
	return buf;
}

static const char *
client_name(const struct view *v)
{
	return v->cl && v->cl->name ? v->cl->name : v->m->client_id;
}

static const char *
contact_name(const struct pg_delivery *d)
{
	return d->contact_name && d->contact_name[0] ? d->contact_name :
	    d->contact_id && d->contact_id[0] ? d->contact_id : "unknown";
}

static pg_err
head(struct pg_buf *b, const char *title)
{
	pg_err e;

	if ((e = pg_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">"
	    "<meta name=\"robots\" content=\"noindex\"><title>")) ||
	    (e = esc(b, title)) ||
	    (e = pg_buf_adds(b, "</title></head>\n<body>\n<h1>")) ||
	    (e = esc(b, title)))
		return e;
	return pg_buf_adds(b, "</h1>\n");
}

static pg_err
foot(struct pg_buf *b)
{
	return pg_buf_adds(b, "</body></html>\n");
}

/* A page with a title and one paragraph of text (escaped). */
static int
simple(struct pg_http_resp *r, int status, const char *title, const char *text)
{
	pg_buf_reset(&r->body);
	if (head(&r->body, title) || pg_buf_adds(&r->body, "<p>") ||
	    esc(&r->body, text) || pg_buf_adds(&r->body, "</p>\n") || foot(&r->body))
		return 500;
	return status;
}

/* "Routine message", "Emergency dispatch", ... */
static pg_err
what(struct pg_buf *b, const struct pg_message *m)
{
	const char *u = pg_urgency_name(m->urgency);

	return pg_buf_printf(b, "%c%s %s", u[0] - 'a' + 'A', u + 1,
			     pg_kind_name(m->kind));
}

/* The facts every page lists. */
static pg_err
facts(struct pg_buf *b, const struct view *v)
{
	char t[TIME_MAX];
	pg_err e;

	if ((e = pg_buf_adds(b, "<dl>\n<dt>For</dt><dd>")) ||
	    (e = esc(b, client_name(v))) ||
	    (e = pg_buf_adds(b, "</dd>\n<dt>Message</dt><dd>")) ||
	    (e = what(b, v->m)) ||
	    (e = pg_buf_adds(b, ", reference ")) ||
	    (e = esc(b, v->m->ack_ref)) ||
	    (e = pg_buf_adds(b, "</dd>\n<dt>Received</dt><dd>")) ||
	    (e = esc(b, local_time(v->cl, v->m->received_ms, t))) ||
	    (e = pg_buf_adds(b, "</dd>\n<dt>Sent to</dt><dd>")) ||
	    (e = esc(b, contact_name(v->d))) ||
	    (e = pg_buf_printf(b, " by %s", pg_channel_name(v->d->channel))))
		return e;
	return pg_buf_adds(b, "</dd>\n</dl>\n");
}

/* Who acknowledged and when. */
static pg_err
acked_line(struct pg_buf *b, const struct view *v)
{
	char t[TIME_MAX];
	pg_err e;

	if ((e = pg_buf_adds(b, "<p>Acknowledged by ")) ||
	    (e = esc(b, v->m->acked_by ? v->m->acked_by : "someone")) ||
	    (e = pg_buf_adds(b, " at ")) ||
	    (e = esc(b, local_time(v->cl, v->m->acked_ms, t))))
		return e;
	return pg_buf_adds(b, ".</p>\n");
}

static int
page_confirm(struct pg_http_resp *r, const struct view *v)
{
	struct pg_buf *b = &r->body;

	if (head(b, "Acknowledge this message?") || facts(b, v) ||
	    pg_buf_adds(b, "<form method=\"post\" action=\"") ||
	    esc(b, v->token) ||
	    pg_buf_adds(b, "\"><button type=\"submit\">Acknowledge</button>"
			"</form>\n<p>Acknowledging tells the answering service "
			"that you have the message; nobody else will be paged "
			"about it.</p>\n") ||
	    foot(b))
		return 500;
	return 200;
}

/* done: this request acknowledged it; otherwise it already was. */
static int
page_acked(struct pg_http_resp *r, const struct view *v, bool done)
{
	struct pg_buf *b = &r->body;

	pg_buf_reset(b);
	if (head(b, done ? "Acknowledged \xe2\x80\x94 thank you" :
		 "Already acknowledged") ||
	    facts(b, v) || acked_line(b, v) || foot(b))
		return 500;
	return 200;
}

static int
page_expired(struct pg_http_resp *r, const struct view *v)
{
	struct pg_buf *b = &r->body;

	if (head(b, "This link has expired") || facts(b, v) ||
	    pg_buf_adds(b, "<p>To acknowledge the message, reply <strong>ACK ") ||
	    esc(b, v->m->ack_ref) ||
	    pg_buf_adds(b, "</strong> to the page on your phone or pager, or "
			"call the answering service and give the reference ") ||
	    esc(b, v->m->ack_ref) || pg_buf_adds(b, ".</p>\n") ||
	    (v->m->acked_ms && acked_line(b, v)) || foot(b))
		return 500;
	return 410;
}

/* Acknowledges v's message for its delivery's contact, then re-reads it
 * into *m for the page.  Answers the page's status. */
static int
acknowledge(struct pg_ctx *ctx, struct pg_http_resp *r, struct view *v,
	    struct pg_message *m)
{
	char chan[CHAN_MAX], who[WHO_MAX];
	bool already = false;
	pg_err e;

	snprintf(chan, sizeof chan, "%s link", pg_channel_name(v->d->channel));
	pg_strlcpy(who, contact_name(v->d), sizeof who);
	e = pg_ack_message(ctx->ack, m->id, v->d->id, chan, who, &already);
	if (e == PG_ERR_NOTFOUND)
		return simple(r, 404, "Message not found",
			      "This link names a message that no longer exists.");
	if (e == PG_OK) {
		pg_message_free(m);
		memset(m, 0, sizeof *m);
		e = pg_store_get_msg(ctx->store, v->d->message_id, m);
	}
	if (e != PG_OK) {
		pg_warn("ack link: delivery %lld: %s", (long long)v->d->id,
			pg_strerror(e));
		return simple(r, 503, "Please try again",
			      "The acknowledgement could not be recorded just "
			      "now. Please try again in a minute, or call the "
			      "answering service.");
	}
	return page_acked(r, v, !already);
}

/* GET/HEAD (post false) or POST /a/TOKEN: fills resp with an HTML page
 * (body freed by the caller) and returns its status: 200 confirmation /
 * acknowledged / already, 404 malformed, forged or unknown message, 410
 * expired, 503 store trouble. */
static int
link_page(struct pg_ctx *ctx, const struct pg_config *cfg, bool post,
	  const char *token, struct pg_http_resp *resp)
{
	struct pg_ack_link l;
	struct pg_delivery d;
	struct pg_message m;
	struct view v;
	pg_err chk, e;
	int status;

	resp->status = 200;
	pg_strlcpy(resp->content_type, HTML_TYPE, sizeof resp->content_type);
	pg_buf_init(&resp->body, PAGE_MAX);
	if (!ctx->ack)
		return simple(resp, 503, "Not available",
			      "Acknowledgement links are not available.");
	chk = pg_ack_link_check(ctx->ack->secret, token, pg_now_ms() / 1000, &l);
	if (chk != PG_OK && chk != PG_ERR_EXPIRED) {
		pg_info("ack link: refused a malformed or forged token");
		return simple(resp, 404, "Link not valid",
			      "This acknowledgement link is not valid. Check "
			      "that it was copied completely.");
	}
	memset(&d, 0, sizeof d);
	memset(&m, 0, sizeof m);
	e = pg_store_get_delivery(ctx->store, l.did, &d);
	if (e == PG_OK && d.message_id != l.mid)
		e = PG_ERR_NOTFOUND;
	if (e == PG_OK)
		e = pg_store_get_msg(ctx->store, l.mid, &m);
	if (e == PG_ERR_NOTFOUND) {
		status = simple(resp, 404, "Message not found",
				"This link names a message that no longer exists.");
		goto out;
	}
	if (e != PG_OK) {
		status = simple(resp, 503, "Please try again",
				"The message cannot be read just now. Please try "
				"again in a minute, or call the answering service.");
		goto out;
	}
	v.token = token;
	v.cl = pg_config_client(cfg, m.client_id);
	v.m = &m;
	v.d = &d;
	if (chk == PG_ERR_EXPIRED)
		status = page_expired(resp, &v);
	else if (m.acked_ms)
		status = page_acked(resp, &v, false);
	else if (post)
		status = acknowledge(ctx, resp, &v, &m);
	else
		status = page_confirm(resp, &v);
out:
	if (status == 500) {              /* a page over PAGE_MAX, or no memory */
		pg_buf_reset(&resp->body);
		pg_buf_adds(&resp->body, "Internal error\n");
		pg_strlcpy(resp->content_type, "text/plain; charset=utf-8",
			   sizeof resp->content_type);
	}
	pg_delivery_free(&d);
	pg_message_free(&m);
	return status;
}

/* /a/TOKEN: an HTML page, never cached, indexed, framed or referred. */
enum MHD_Result
intake__do_link(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	struct pg_http_resp resp;
	int status = link_page(h->ctx, r->cfg, r->post, r->p.token, &resp);
	char *data = pg_buf_steal(&resp.body);

	pg_buf_free(&resp.body);
	if (!data)
		return MHD_NO;
	return intake__respond(conn, r, (unsigned)status, resp.content_type, data,
			       strlen(data), "Referrer-Policy", "no-referrer",
			       "X-Robots-Tag", "noindex", "Content-Security-Policy",
			       "default-src 'none'; form-action 'self'", NULL);
}
