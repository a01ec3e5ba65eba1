/*
 * test_pager_wctp.c - the WCTP 1.3 client (src/pager_wctp.c) and its
 * message tracking in the driver (src/chan_pager.c).
 *
 * Requests are checked byte for byte and validated against the WCTP 1.3
 * DTD (tests/peers/wctp_dtd.h transcribes, from wctp-dtd-v1r3.dtd, the
 * declarations of every element used here).  The responses served are shaped after the
 * specification's operations: wctp-Confirmation with wctp-Success /
 * wctp-Failure (errorCode from the WCTP code table: 3xx protocol, 4xx
 * content, 5xx message processing, 6xx system errors), wctp-PollResponse
 * carrying wctp-Message (sequenceNo) with wctp-MessageReply and
 * wctp-StatusInfo (wctp-Notification type DELIVERED/READ/QUEUED or
 * wctp-Failure), and a pushed wctp-MessageReply as carriers POST it to
 * sendResponsesToID.  Each fixture is itself validated against the DTD,
 * so the client is tested against conforming input.  HTTP goes to a
 * libmicrohttpd server inside this process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/valid.h>
#include <microhttpd.h>

#include "pagegate/config.h"
#include "../../src/chan/pager/pager_priv.h"
#include "../peers/wctp_dtd.h"

#define WAIT_MS 10000

#define HDR "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<!DOCTYPE wctp-Operation SYSTEM \"http://dtd.wctp.org/wctp-dtd-v1r3.dtd\">\n" \
	"<wctp-Operation wctpVersion=\"wctp-dtd-v1r3\">\n"

/* Responses in the form of the specification's operations. */
static const char OK_RESP[] = HDR
	"  <wctp-Confirmation>\n"
	"    <wctp-Success successCode=\"200\" successText=\"Message queued\">Accepted</wctp-Success>\n"
	"  </wctp-Confirmation>\n</wctp-Operation>\n";
static const char BAD_RECIPIENT[] = HDR
	"  <wctp-Confirmation>\n"
	"    <wctp-Failure errorCode=\"403\" errorText=\"Invalid recipientID\"/>\n"
	"  </wctp-Confirmation>\n</wctp-Operation>\n";
static const char TOO_LONG[] = HDR
	"  <wctp-Confirmation>\n"
	"    <wctp-Failure errorCode=\"411\" errorText=\"Message exceeds allowable length\">"
	"Message exceeds allowable message length of 20</wctp-Failure>\n"
	"  </wctp-Confirmation>\n</wctp-Operation>\n";
static const char SYSTEM_ERROR[] = HDR
	"  <wctp-Confirmation>\n"
	"    <wctp-Failure errorCode=\"604\" errorText=\"Internal Server Error\">try later</wctp-Failure>\n"
	"  </wctp-Confirmation>\n</wctp-Operation>\n";
static const char POLL_RESP[] = HDR
	"  <wctp-PollResponse minNextPollInterval=\"5\">\n"
	"    <wctp-Message sequenceNo=\"17\">\n"
	"      <wctp-MessageReply>\n"
	"        <wctp-ResponseHeader responseToMessageID=\"4711\" responseTimestamp=\"2026-11-22T15:40:00\">\n"
	"          <wctp-Originator senderID=\"4412\"/>\n"
	"          <wctp-MessageControl messageID=\"r-99\"/>\n"
	"          <wctp-Recipient recipientID=\"acme\"/>\n"
	"        </wctp-ResponseHeader>\n"
	"        <wctp-Payload><wctp-Alphanumeric>ok 482913</wctp-Alphanumeric></wctp-Payload>\n"
	"      </wctp-MessageReply>\n"
	"    </wctp-Message>\n"
	"    <wctp-Message sequenceNo=\"18\">\n"
	"      <wctp-StatusInfo>\n"
	"        <wctp-ResponseHeader responseToMessageID=\"4711\">\n"
	"          <wctp-Originator senderID=\"carrier\"/>\n"
	"          <wctp-MessageControl messageID=\"s-1\"/>\n"
	"          <wctp-Recipient recipientID=\"acme\"/>\n"
	"        </wctp-ResponseHeader>\n"
	"        <wctp-Notification type=\"DELIVERED\"/>\n"
	"      </wctp-StatusInfo>\n"
	"    </wctp-Message>\n"
	"    <wctp-Message sequenceNo=\"19\">\n"
	"      <wctp-StatusInfo>\n"
	"        <wctp-ResponseHeader responseToMessageID=\"4712\">\n"
	"          <wctp-Originator senderID=\"carrier\"/>\n"
	"          <wctp-MessageControl messageID=\"s-2\"/>\n"
	"          <wctp-Recipient recipientID=\"acme\"/>\n"
	"        </wctp-ResponseHeader>\n"
	"        <wctp-Failure errorCode=\"503\" errorText=\"Subscriber unreachable\"/>\n"
	"      </wctp-StatusInfo>\n"
	"    </wctp-Message>\n"
	"    <wctp-Message sequenceNo=\"20\">\n"
	"      <wctp-StatusInfo>\n"
	"        <wctp-ResponseHeader responseToMessageID=\"4713\">\n"
	"          <wctp-Originator senderID=\"carrier\"/>\n"
	"          <wctp-MessageControl messageID=\"s-3\"/>\n"
	"          <wctp-Recipient recipientID=\"acme\"/>\n"
	"        </wctp-ResponseHeader>\n"
	"        <wctp-Notification type=\"QUEUED\"/>\n"
	"      </wctp-StatusInfo>\n"
	"    </wctp-Message>\n"
	"  </wctp-PollResponse>\n</wctp-Operation>\n";
static const char NO_MESSAGES[] = HDR
	"  <wctp-PollResponse><wctp-NoMessages/></wctp-PollResponse>\n</wctp-Operation>\n";
static const char POLL_REFUSED[] = HDR
	"  <wctp-PollResponse><wctp-Failure errorCode=\"300\" errorText=\"Operation not "
	"supported\"/></wctp-PollResponse>\n</wctp-Operation>\n";
static const char PUSHED_REPLY[] = HDR
	"  <wctp-MessageReply>\n"
	"    <wctp-ResponseHeader responseToMessageID=\"4711\" responseTimestamp=\"2026-11-22T15:41:00\">\n"
	"      <wctp-Originator senderID=\"4412\"/>\n"
	"      <wctp-MessageControl messageID=\"r-100\"/>\n"
	"      <wctp-Recipient recipientID=\"acme\"/>\n"
	"    </wctp-ResponseHeader>\n"
	"    <wctp-Payload><wctp-Alphanumeric>On my way &amp; calling</wctp-Alphanumeric></wctp-Payload>\n"
	"  </wctp-MessageReply>\n</wctp-Operation>\n";

/* ---- DTD validation ---- */

static void
silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static bool
validate(const char *xml, size_t len, bool quiet)
{
	xmlParserInputBufferPtr in = xmlParserInputBufferCreateMem(WCTP_DTD, sizeof WCTP_DTD - 1,
								   XML_CHAR_ENCODING_UTF8);
	xmlDtdPtr dtd = xmlIOParseDTD(NULL, in, XML_CHAR_ENCODING_UTF8);
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, "t.xml", NULL, XML_PARSE_NONET);
	xmlValidCtxtPtr v = xmlNewValidCtxt();
	bool ok;

	assert_non_null(dtd);
	assert_non_null(doc);
	assert_non_null(v);
	if (quiet) {
		v->error = silent;
		v->warning = silent;
		xmlSetGenericErrorFunc(NULL, silent);
	}
	ok = xmlValidateDtd(v, doc, dtd) == 1;
	if (quiet)
		xmlSetGenericErrorFunc(NULL, NULL);
	xmlFreeValidCtxt(v);
	xmlFreeDoc(doc);
	xmlFreeDtd(dtd);
	return ok;
}

static bool
valid(const char *xml, size_t len)
{
	return validate(xml, len, false);
}

static struct pager_gw
wctp_gw(const char *url)
{
	struct pager_gw g;

	memset(&g, 0, sizeof g);
	g.name = "carrier-wctp";
	g.kind = PAGER_WCTP;
	g.url = (char *)url;
	g.sender_id = "acme";
	g.security_code = "s3cr3t";
	g.timeout_s = 5;
	g.poll_s = 1;
	return g;
}

/* 2026-11-22T15:34:00Z */
#define NOW_MS 1795361640000LL

static void
test_fixtures_conform(void **state)
{
	(void)state;
	assert_true(valid(OK_RESP, sizeof OK_RESP - 1));
	assert_true(valid(BAD_RECIPIENT, sizeof BAD_RECIPIENT - 1));
	assert_true(valid(SYSTEM_ERROR, sizeof SYSTEM_ERROR - 1));
	assert_true(valid(POLL_RESP, sizeof POLL_RESP - 1));
	assert_true(valid(NO_MESSAGES, sizeof NO_MESSAGES - 1));
	assert_true(valid(POLL_REFUSED, sizeof POLL_REFUSED - 1));
	assert_true(valid(PUSHED_REPLY, sizeof PUSHED_REPLY - 1));
	/* and the DTD catches a wrong order (Recipient before MessageControl) */
	static const char bad[] = HDR "<wctp-SubmitRequest><wctp-SubmitHeader>"
		"<wctp-Originator senderID=\"a\"/><wctp-Recipient recipientID=\"1\"/>"
		"<wctp-MessageControl messageID=\"1\"/></wctp-SubmitHeader><wctp-Payload>"
		"<wctp-Alphanumeric>x</wctp-Alphanumeric></wctp-Payload></wctp-SubmitRequest>"
		"</wctp-Operation>";
	assert_false(validate(bad, sizeof bad - 1, true));
}

static void
test_submit_exact_and_valid(void **state)
{
	struct pager_gw g = wctp_gw("http://unused/");
	struct pg_buf b;
	static const char want[] = HDR
		"  <wctp-SubmitRequest>\n"
		"    <wctp-SubmitHeader submitTimestamp=\"2026-11-22T15:34:00\">\n"
		"      <wctp-Originator senderID=\"acme\" securityCode=\"s3cr3t\"/>\n"
		"      <wctp-MessageControl messageID=\"4711\" allowResponse=\"true\" "
		"notifyWhenDelivered=\"true\" deliveryPriority=\"HIGH\"/>\n"
		"      <wctp-Recipient recipientID=\"4412\"/>\n"
		"    </wctp-SubmitHeader>\n"
		"    <wctp-Payload>\n"
		"      <wctp-Alphanumeric>urgent Acme - ACK 482913\n"
		"Müller &lt;&amp;&gt; \"Zoë\" — furnace out</wctp-Alphanumeric>\n"
		"    </wctp-Payload>\n"
		"  </wctp-SubmitRequest>\n"
		"</wctp-Operation>\n";

	(void)state;
	pg_buf_init(&b, 64 * 1024);
	assert_int_equal(pager_wctp_build_submit(&g, "4412",
		"urgent Acme - ACK 482913\nMüller <&> \"Zoë\" — furnace out", 4711,
		PG_URG_URGENT, NOW_MS, NULL, &b), PG_OK);
	assert_string_equal(b.data, want);
	assert_true(valid(b.data, b.len));

	/* routine, no security code, a reply address: still valid */
	pg_buf_reset(&b);
	g.security_code = NULL;
	assert_int_equal(pager_wctp_build_submit(&g, "4412", "x", 1, PG_URG_ROUTINE, NOW_MS,
		"https://pg.example/cb/pager/wctp/1/abc", &b), PG_OK);
	assert_non_null(strstr(b.data, "<wctp-Originator senderID=\"acme\"/>"));
	assert_non_null(strstr(b.data, "<wctp-MessageControl messageID=\"1\" sendResponsesToID="
			       "\"https://pg.example/cb/pager/wctp/1/abc\" allowResponse=\"true\" "
			       "notifyWhenDelivered=\"true\"/>"));
	assert_true(valid(b.data, b.len));

	/* invalid UTF-8 or control characters are refused, not sent */
	pg_buf_reset(&b);
	assert_int_equal(pager_wctp_build_submit(&g, "4412", "bad \xff", 1, PG_URG_ROUTINE,
						 NOW_MS, NULL, &b), PG_ERR_INVAL);
	assert_int_equal(pager_wctp_build_submit(&g, "4412", "bell \a", 1, PG_URG_ROUTINE,
						 NOW_MS, NULL, &b), PG_ERR_INVAL);
	pg_buf_free(&b);
}

static void
test_poll_and_confirmation_valid(void **state)
{
	struct pager_gw g = wctp_gw("http://unused/");
	struct pg_buf b;
	long seqs[] = { 17, 18 };

	(void)state;
	pg_buf_init(&b, 64 * 1024);
	assert_int_equal(pager_wctp_build_poll(&g, seqs, 2, &b), PG_OK);
	assert_true(valid(b.data, b.len));
	assert_non_null(strstr(b.data, "<wctp-PollForMessages pollerID=\"acme\" "
			       "securityCode=\"s3cr3t\" maxMessagesInBatch=\"20\">"));
	assert_non_null(strstr(b.data, "<wctp-MessageReceived sequenceNo=\"17\">\n"
			       "      <wctp-Success successCode=\"200\" successText=\"Received\"/>"));
	assert_non_null(strstr(b.data, "<wctp-MessageReceived sequenceNo=\"18\">"));
	pg_buf_reset(&b);
	assert_int_equal(pager_wctp_build_confirmation(200, "Received", &b), PG_OK);
	assert_true(valid(b.data, b.len));
	pg_buf_reset(&b);
	assert_int_equal(pager_wctp_build_confirmation(301, "not XML <x>", &b), PG_OK);
	assert_true(valid(b.data, b.len));
	assert_non_null(strstr(b.data, "<wctp-Failure errorCode=\"301\" errorText=\"not XML "
			       "&lt;x&gt;\">not XML &lt;x&gt;</wctp-Failure>"));
	pg_buf_free(&b);
}

static void
test_judge(void **state)
{
	char r[PG_REPLY_MAX];
	static const char not_conf[] = HDR "<wctp-PollResponse><wctp-NoMessages/>"
		"</wctp-PollResponse></wctp-Operation>";
	static const char no_code[] = HDR "<wctp-Confirmation><wctp-Failure errorText=\"x\"/>"
		"</wctp-Confirmation></wctp-Operation>";
	static const char wrong_root[] = "<?xml version=\"1.0\"?><html><body>502</body></html>";
	static const char xxe[] = "<?xml version=\"1.0\"?><!DOCTYPE wctp-Operation "
		"[<!ENTITY x SYSTEM \"file:///etc/passwd\">]><wctp-Operation wctpVersion=\"1\">"
		"<wctp-Confirmation><wctp-Success successCode=\"200\">&x;</wctp-Success>"
		"</wctp-Confirmation></wctp-Operation>";

	(void)state;
	assert_int_equal(pager_wctp_judge(OK_RESP, strlen(OK_RESP), 200, r, sizeof r), PG_OUT_OK);
	assert_string_equal(r, "WCTP 200 Message queued (Accepted)");
	assert_int_equal(pager_wctp_judge(BAD_RECIPIENT, strlen(BAD_RECIPIENT), 200, r, sizeof r),
			 PG_OUT_PERM);
	assert_string_equal(r, "WCTP 403 Invalid recipientID");
	assert_int_equal(pager_wctp_judge(SYSTEM_ERROR, strlen(SYSTEM_ERROR), 200, r, sizeof r),
			 PG_OUT_TEMP);
	assert_string_equal(r, "WCTP 604 Internal Server Error (try later)");
	/* a failure body with an HTTP error status is still judged by its code */
	assert_int_equal(pager_wctp_judge(BAD_RECIPIENT, strlen(BAD_RECIPIENT), 400, r, sizeof r),
			 PG_OUT_PERM);
	/* malformed: each is temporary with a clear reply */
	assert_int_equal(pager_wctp_judge("garbage", 7, 200, r, sizeof r), PG_OUT_TEMP);
	assert_string_equal(r, "malformed WCTP response: not XML");
	assert_int_equal(pager_wctp_judge("", 0, 200, r, sizeof r), PG_OUT_TEMP);
	assert_string_equal(r, "malformed WCTP response: empty body");
	assert_int_equal(pager_wctp_judge(not_conf, strlen(not_conf), 200, r, sizeof r), PG_OUT_TEMP);
	assert_string_equal(r, "malformed WCTP response: wctp-PollResponse instead of "
			    "wctp-Confirmation");
	assert_int_equal(pager_wctp_judge(no_code, strlen(no_code), 200, r, sizeof r), PG_OUT_TEMP);
	assert_string_equal(r, "malformed WCTP response: wctp-Failure without a valid errorCode");
	assert_int_equal(pager_wctp_judge(wrong_root, strlen(wrong_root), 200, r, sizeof r),
			 PG_OUT_TEMP);
	assert_string_equal(r, "malformed WCTP response: root is not wctp-Operation");
	/* no WCTP body: the HTTP status decides */
	assert_int_equal(pager_wctp_judge("", 0, 503, r, sizeof r), PG_OUT_TEMP);
	assert_string_equal(r, "HTTP 503 from the WCTP gateway");
	assert_int_equal(pager_wctp_judge("Not Found", 9, 404, r, sizeof r), PG_OUT_PERM);
	/* external entities are never loaded */
	assert_int_equal(pager_wctp_judge(xxe, strlen(xxe), 200, r, sizeof r), PG_OUT_OK);
	assert_null(strstr(r, "root:"));
	/* the code table's series */
	assert_int_equal(pager_wctp_code_outcome(200), PG_OUT_OK);
	assert_int_equal(pager_wctp_code_outcome(301), PG_OUT_PERM);
	assert_int_equal(pager_wctp_code_outcome(304), PG_OUT_TEMP);
	assert_int_equal(pager_wctp_code_outcome(401), PG_OUT_PERM);
	assert_int_equal(pager_wctp_code_outcome(505), PG_OUT_PERM);
	assert_int_equal(pager_wctp_code_outcome(606), PG_OUT_TEMP);
	assert_int_equal(pager_wctp_code_outcome(799), PG_OUT_TEMP);
}

/* ---- an HTTP server in the process ---- */

#define MAX_REQ 16

static struct srv {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *resp[MAX_REQ];   /* served in turn; NULL = empty 500 */
	int status[MAX_REQ];
	int n_resp, next;
	char *body[MAX_REQ];         /* requests received */
	char ctype[MAX_REQ][64];
	char method[MAX_REQ][8];
	int n_req;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

struct upload { struct pg_buf b; };

static enum MHD_Result
on_req(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *data, size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;
	struct MHD_Response *r;
	const char *ct, *text;
	enum MHD_Result ret;
	int st, i;

	(void)cls; (void)url; (void)version;
	if (!u) {
		u = calloc(1, sizeof *u);
		pg_buf_init(&u->b, 1 << 20);
		pg_buf_adds(&u->b, "");
		*con_cls = u;
		return MHD_YES;
	}
	if (*size) {
		pg_buf_add(&u->b, data, *size);
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&S.mu);
	i = S.n_req < MAX_REQ ? S.n_req++ : MAX_REQ - 1;
	free(S.body[i]);
	S.body[i] = pg_buf_steal(&u->b);
	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	snprintf(S.ctype[i], sizeof S.ctype[i], "%s", ct ? ct : "");
	snprintf(S.method[i], sizeof S.method[i], "%s", method);
	text = S.next < S.n_resp ? S.resp[S.next] : NO_MESSAGES;
	st = S.next < S.n_resp ? S.status[S.next] : 200;
	S.next++;
	pthread_cond_broadcast(&S.cv);
	pthread_mutex_unlock(&S.mu);
	r = MHD_create_response_from_buffer(text ? strlen(text) : 0, (void *)(text ? text : ""),
					    MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "text/xml");
	ret = MHD_queue_response(c, (unsigned)st, r);
	MHD_destroy_response(r);
	return ret;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct upload *u = *con_cls;

	(void)cls; (void)c; (void)t;
	if (u) {
		pg_buf_free(&u->b);
		free(u);
	}
}

static void
serve(const char *resp, int status)
{
	S.resp[S.n_resp] = resp;
	S.status[S.n_resp++] = status;
}

static int
srv_setup(void **state)
{
	const union MHD_DaemonInfo *info;

	(void)state;
	S.n_resp = S.next = S.n_req = 0;
	S.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			       on_req, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
			       MHD_OPTION_END);
	assert_non_null(S.d);
	info = MHD_get_daemon_info(S.d, MHD_DAEMON_INFO_BIND_PORT);
	S.port = info->port;
	return 0;
}

static int
srv_teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(S.d);
	for (int i = 0; i < MAX_REQ; i++) {
		free(S.body[i]);
		S.body[i] = NULL;
	}
	return 0;
}

static char URL[64];

static const char *
url(void)
{
	snprintf(URL, sizeof URL, "http://127.0.0.1:%d/wctp", S.port);
	return URL;
}

/* The value of attribute attr of the first element named el in xml. */
static char *
xml_attr(const char *xml, const char *el, const char *attr)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL, XML_PARSE_NONET);
	xmlNodePtr n = doc ? xmlDocGetRootElement(doc) : NULL;
	char *r = NULL;

	while (n) {
		if (n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, (const xmlChar *)el)) {
			xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
			r = v ? strdup((char *)v) : NULL;
			xmlFree(v);
			break;
		}
		if (n->children)
			n = n->children;
		else {
			while (n && !n->next)
				n = n->parent;
			n = n ? n->next : NULL;
		}
	}
	xmlFreeDoc(doc);
	return r;
}

static void
test_send_outcomes(void **state)
{
	struct pager_gw g;
	struct pg_job j[3];
	char *texts[3] = { "first page", "second page", "third page" };
	char *v;

	(void)state;
	g = wctp_gw(url());
	serve(OK_RESP, 200);
	serve(BAD_RECIPIENT, 200);
	serve("<not-xml", 200);
	memset(j, 0, sizeof j);
	for (int i = 0; i < 3; i++) {
		j[i].delivery_id = 4711 + i;
		j[i].address = i == 1 ? "0000" : "4412";
		j[i].urgency = PG_URG_ROUTINE;
		j[i].outcome = PG_OUT__COUNT;
	}
	pager_wctp_send(&g, j, texts, 3, NULL);
	assert_int_equal(S.n_req, 3);
	assert_int_equal(j[0].outcome, PG_OUT_OK);
	assert_string_equal(j[0].reply, "WCTP 200 Message queued (Accepted)");
	assert_int_equal(j[1].outcome, PG_OUT_PERM);
	assert_string_equal(j[1].reply, "WCTP 403 Invalid recipientID");
	assert_int_equal(j[2].outcome, PG_OUT_TEMP);
	assert_string_equal(j[2].reply, "malformed WCTP response: not XML");
	/* what the server received: POST text/xml, valid, the right ids */
	for (int i = 0; i < 3; i++) {
		assert_string_equal(S.method[i], "POST");
		assert_string_equal(S.ctype[i], "text/xml");
		assert_true(valid(S.body[i], strlen(S.body[i])));
	}
	v = xml_attr(S.body[1], "wctp-MessageControl", "messageID");
	assert_string_equal(v, "4712");
	free(v);
	v = xml_attr(S.body[1], "wctp-Recipient", "recipientID");
	assert_string_equal(v, "0000");
	free(v);
	assert_non_null(strstr(S.body[2], "<wctp-Alphanumeric>third page</wctp-Alphanumeric>"));
}

/* 411: the page goes once more, cut to the characters the carrier names
 * (not the bytes of its UTF-8), marked; a second 411 stands. */
static void
test_send_too_long(void **state)
{
	struct pager_gw g;
	struct pg_job j[2];
	char *texts[2] = { "Δεν υπάρχει θέρμανση στο σπίτι", "没有暖气没有暖气没有暖气没有暖气没有暖气没有暖气" };

	(void)state;
	g = wctp_gw(url());
	serve(TOO_LONG, 200);
	serve(OK_RESP, 200);
	serve(TOO_LONG, 200);
	serve(TOO_LONG, 200);
	memset(j, 0, sizeof j);
	for (int i = 0; i < 2; i++) {
		j[i].delivery_id = 4800 + i;
		j[i].address = "4412";
		j[i].urgency = PG_URG_ROUTINE;
		j[i].outcome = PG_OUT__COUNT;
	}
	pager_wctp_send(&g, j, texts, 2, NULL);
	assert_int_equal(S.n_req, 4);
	assert_non_null(strstr(S.body[1], "<wctp-Alphanumeric>Δεν υπάρχει…"
				  "</wctp-Alphanumeric>"));
	assert_true(valid(S.body[1], strlen(S.body[1])));
	assert_int_equal(j[0].outcome, PG_OUT_OK);
	assert_non_null(strstr(S.body[3], "<wctp-Alphanumeric>没有暖气没有暖气没有暖气没有暖气没有暖…"
				  "</wctp-Alphanumeric>"));
	assert_int_equal(j[1].outcome, PG_OUT_PERM);
	assert_string_equal(j[1].reply, "WCTP 411 Message exceeds allowable length (Message "
			    "exceeds allowable message length of 20)");
}

static void
test_send_unreachable(void **state)
{
	struct pager_gw g = wctp_gw("http://127.0.0.1:1/wctp");
	struct pg_job j[2];
	char *texts[2] = { "a", "b" };

	(void)state;
	memset(j, 0, sizeof j);
	j[0].address = j[1].address = "4412";
	pager_wctp_send(&g, j, texts, 2, NULL);
	assert_int_equal(j[0].outcome, PG_OUT_TEMP);
	assert_non_null(strstr(j[0].reply, "POST to the WCTP gateway failed"));
	assert_int_equal(j[1].outcome, PG_OUT_TEMP);
	assert_non_null(strstr(j[1].reply, "not attempted"));
}

/* ---- poll and push parsing ---- */

struct seen {
	int n;
	struct pager_wctp_ev ev[8];
	char from[8][32], text[8][128], detail[8][128];
};

static bool
record(void *arg, const struct pager_wctp_ev *e)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->ev[s->n] = *e;
		snprintf(s->from[s->n], 32, "%s", e->from ? e->from : "");
		snprintf(s->text[s->n], 128, "%s", e->text ? e->text : "");
		snprintf(s->detail[s->n], 128, "%s", e->detail ? e->detail : "");
		s->n++;
	}
	return true;
}

static void
test_parse_poll(void **state)
{
	struct seen s = { 0 };
	long seqs[8];
	size_t n;
	int next;
	char why[256];

	(void)state;
	assert_int_equal(pager_wctp_parse_poll(POLL_RESP, strlen(POLL_RESP), record, &s, seqs, 8,
					       &n, &next, why, sizeof why), PG_OK);
	assert_int_equal(next, 5);
	assert_int_equal(n, 4);
	assert_int_equal(seqs[0], 17);
	assert_int_equal(seqs[3], 20);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.ev[0].type, PAGER_WCTP_REPLY);
	assert_int_equal(s.ev[0].did, 4711);
	assert_string_equal(s.from[0], "4412");
	assert_string_equal(s.text[0], "ok 482913");
	assert_int_equal(s.ev[1].type, PAGER_WCTP_STATUS);
	assert_int_equal(s.ev[1].did, 4711);
	assert_int_equal(s.ev[1].state, PG_D_DELIVERED);
	assert_string_equal(s.detail[1], "WCTP DELIVERED");
	assert_int_equal(s.ev[2].did, 4712);
	assert_int_equal(s.ev[2].state, PG_D_FAILED);
	assert_string_equal(s.detail[2], "WCTP 503 Subscriber unreachable");
	assert_int_equal(s.ev[3].state, PG_D_SENT);        /* QUEUED: informational */

	memset(&s, 0, sizeof s);
	assert_int_equal(pager_wctp_parse_poll(NO_MESSAGES, strlen(NO_MESSAGES), record, &s, seqs,
					       8, &n, &next, why, sizeof why), PG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(pager_wctp_parse_poll(POLL_REFUSED, strlen(POLL_REFUSED), record, &s,
					       seqs, 8, &n, &next, why, sizeof why), PG_ERR_PERMFAIL);
	assert_string_equal(why, "WCTP poll refused: 300 Operation not supported");
	assert_int_equal(pager_wctp_parse_poll("<x/>", 4, record, &s, seqs, 8, &n, &next, why,
					       sizeof why), PG_ERR_TEMPFAIL);
	assert_int_equal(pager_wctp_parse_poll(SYSTEM_ERROR, strlen(SYSTEM_ERROR), record, &s,
					       seqs, 8, &n, &next, why, sizeof why), PG_ERR_TEMPFAIL);
}

static void
test_parse_push(void **state)
{
	struct seen s = { 0 };
	char why[256];

	(void)state;
	assert_int_equal(pager_wctp_parse_push(PUSHED_REPLY, strlen(PUSHED_REPLY), record, &s,
					       why, sizeof why), PG_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ev[0].did, 4711);
	assert_string_equal(s.text[0], "On my way & calling");
	assert_int_equal(pager_wctp_parse_push(OK_RESP, strlen(OK_RESP), record, &s, why,
					       sizeof why), PG_ERR_INVAL);
	assert_string_equal(why, "unsupported WCTP operation wctp-Confirmation");
}

/* ---- the driver: polling through the host ---- */

static struct host_rec {
	pthread_mutex_t mu;
	int receipts, inbounds;
	int64_t r_did[8];
	enum pg_dstate r_state[8];
	char r_detail[8][128], i_from[8][32], i_text[8][128];
} H = { .mu = PTHREAD_MUTEX_INITIALIZER };

static pg_err
h_receipt(void *ctx, int64_t did, enum pg_dstate st, const char *detail)
{
	(void)ctx;
	pthread_mutex_lock(&H.mu);
	if (H.receipts < 8) {
		H.r_did[H.receipts] = did;
		H.r_state[H.receipts] = st;
		snprintf(H.r_detail[H.receipts], 128, "%s", detail);
		H.receipts++;
	}
	pthread_mutex_unlock(&H.mu);
	return PG_OK;
}

static pg_err
h_inbound(void *ctx, enum pg_channel_kind ch, const char *from, const char *text)
{
	(void)ctx;
	assert_int_equal(ch, PG_CH_PAGER);
	pthread_mutex_lock(&H.mu);
	if (H.inbounds < 8) {
		snprintf(H.i_from[H.inbounds], 32, "%s", from);
		snprintf(H.i_text[H.inbounds], 128, "%s", text);
		H.inbounds++;
	}
	pthread_mutex_unlock(&H.mu);
	return PG_OK;
}

static bool
wait_requests(int n)
{
	struct timespec ts;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&S.mu);
	while (S.n_req < n && ok)
		ok = pthread_cond_timedwait(&S.cv, &S.mu, &ts) == 0;
	pthread_mutex_unlock(&S.mu);
	return S.n_req >= n;
}

static void
test_driver_polls_and_acknowledges(void **state)
{
	struct pg_chan_host host = { .receipt = h_receipt, .inbound = h_inbound };
	struct pager_cfg pc;
	struct pager_gw g;
	struct pg_config cfg;
	void *st = NULL;
	char *v;

	(void)state;
	g = wctp_gw(url());
	pc.gw = &g;
	pc.n = 1;
	memset(&cfg, 0, sizeof cfg);
	cfg.chan_cfg[PG_CH_PAGER] = &pc;
	serve(POLL_RESP, 200);                   /* first poll: four messages */
	serve(NO_MESSAGES, 200);                 /* second: acknowledges them */
	assert_int_equal(pg_chan_pager.start(&cfg, &host, &st), PG_OK);
	assert_true(wait_requests(2));
	pg_chan_pager.stop(st);

	assert_true(valid(S.body[0], strlen(S.body[0])));
	assert_null(strstr(S.body[0], "wctp-MessageReceived"));
	assert_true(valid(S.body[1], strlen(S.body[1])));
	for (int seq = 17; seq <= 20; seq++) {
		char want[64];
		snprintf(want, sizeof want, "<wctp-MessageReceived sequenceNo=\"%d\">", seq);
		assert_non_null(strstr(S.body[1], want));
	}
	v = xml_attr(S.body[1], "wctp-PollForMessages", "pollerID");
	assert_string_equal(v, "acme");
	free(v);
	assert_int_equal(H.receipts, 2);
	assert_int_equal(H.r_did[0], 4711);
	assert_int_equal(H.r_state[0], PG_D_DELIVERED);
	assert_string_equal(H.r_detail[0], "WCTP DELIVERED");
	assert_int_equal(H.r_did[1], 4712);
	assert_int_equal(H.r_state[1], PG_D_FAILED);
	assert_int_equal(H.inbounds, 1);
	assert_string_equal(H.i_from[0], "4412");
	assert_string_equal(H.i_text[0], "ok 482913");
}

/* ---- the driver: pushed operations at /cb/pager/wctp/<did>/<token> ---- */

#define GOOD_TOKEN "0123456789abcdef0123456789abcdef"

static bool
h_token_ok(void *ctx, int64_t did, const char *token)
{
	(void)ctx;
	return did == 7 && strcmp(token, GOOD_TOKEN) == 0;
}

static int
push(void *st, const char *method, const char *path, const char *body, char *out, size_t n)
{
	struct pg_http_req rq;
	struct pg_http_resp rs;
	struct pg_config cfg;
	int status;

	memset(&rq, 0, sizeof rq);
	memset(&cfg, 0, sizeof cfg);
	rq.method = method;
	rq.path = path;
	rq.body = body;
	rq.body_len = strlen(body);
	rs.status = 200;
	rs.content_type[0] = '\0';
	pg_buf_init(&rs.body, 64 * 1024);
	pg_chan_pager.http(st, &cfg, &rq, &rs);
	snprintf(out, n, "%s", rs.body.data ? rs.body.data : "");
	status = rs.status;
	pg_buf_free(&rs.body);
	return status;
}

static void
test_driver_push_callback(void **state)
{
	struct pg_chan_host host = { .receipt = h_receipt, .inbound = h_inbound,
				     .callback_ok = h_token_ok };
	struct pg_config cfg;
	void *st = NULL;
	char out[4096];
	static const char status_9999[] = HDR
		"  <wctp-StatusInfo>\n"
		"    <wctp-ResponseHeader responseToMessageID=\"9999\">\n"
		"      <wctp-Originator senderID=\"carrier\"/>\n"
		"      <wctp-MessageControl messageID=\"s-9\"/>\n"
		"      <wctp-Recipient recipientID=\"acme\"/>\n"
		"    </wctp-ResponseHeader>\n"
		"    <wctp-Notification type=\"READ\"/>\n"
		"  </wctp-StatusInfo>\n</wctp-Operation>\n";

	(void)state;
	assert_true(valid(status_9999, sizeof status_9999 - 1));
	memset(&cfg, 0, sizeof cfg);
	memset(&H, 0, sizeof H);
	pthread_mutex_init(&H.mu, NULL);
	assert_int_equal(pg_chan_pager.start(&cfg, &host, &st), PG_OK);
	assert_int_equal(push(st, "POST", "/sms/7/" GOOD_TOKEN, PUSHED_REPLY, out, sizeof out), 404);
	assert_int_equal(push(st, "POST", "/wctp/7/" GOOD_TOKEN "/x", PUSHED_REPLY, out,
			      sizeof out), 404);
	assert_int_equal(push(st, "POST", "/wctp/7/short", PUSHED_REPLY, out, sizeof out), 404);
	assert_int_equal(push(st, "GET", "/wctp/7/" GOOD_TOKEN, "", out, sizeof out), 405);
	assert_int_equal(push(st, "POST", "/wctp/8/" GOOD_TOKEN, PUSHED_REPLY, out, sizeof out),
			 403);
	assert_int_equal(H.inbounds + H.receipts, 0);
	/* the token authenticates delivery 7: the claimed 9999 does not count */
	assert_int_equal(push(st, "POST", "/wctp/7/" GOOD_TOKEN, status_9999, out, sizeof out),
			 200);
	assert_true(valid(out, strlen(out)));
	assert_non_null(strstr(out, "<wctp-Success successCode=\"200\""));
	assert_int_equal(H.receipts, 1);
	assert_int_equal(H.r_did[0], 7);
	assert_int_equal(H.r_state[0], PG_D_DELIVERED);
	assert_string_equal(H.r_detail[0], "WCTP READ");
	assert_int_equal(push(st, "POST", "/wctp/7/" GOOD_TOKEN, PUSHED_REPLY, out, sizeof out),
			 200);
	assert_int_equal(H.inbounds, 1);
	assert_string_equal(H.i_from[0], "4412");
	assert_string_equal(H.i_text[0], "On my way & calling");
	/* hostile bodies */
	assert_int_equal(push(st, "POST", "/wctp/7/" GOOD_TOKEN, "<oops", out, sizeof out), 400);
	assert_true(valid(out, strlen(out)));
	assert_non_null(strstr(out, "errorCode=\"301\""));
	assert_int_equal(push(st, "POST", "/wctp/7/" GOOD_TOKEN, OK_RESP, out, sizeof out), 400);
	pg_chan_pager.stop(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_conform),
		cmocka_unit_test(test_submit_exact_and_valid),
		cmocka_unit_test(test_poll_and_confirmation_valid),
		cmocka_unit_test(test_judge),
		cmocka_unit_test_setup_teardown(test_send_outcomes, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_send_too_long, srv_setup, srv_teardown),
		cmocka_unit_test(test_send_unreachable),
		cmocka_unit_test(test_parse_poll),
		cmocka_unit_test(test_parse_push),
		cmocka_unit_test_setup_teardown(test_driver_polls_and_acknowledges, srv_setup,
						srv_teardown),
		cmocka_unit_test(test_driver_push_callback),
	};
	int r;

	xmlInitParser();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	xmlCleanupParser();
	return r;
}
