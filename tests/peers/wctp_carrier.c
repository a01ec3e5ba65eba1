/*
 * wctp_carrier.c - a WCTP 1.3 carrier gateway for the pager integration
 * test, written from the specification's operations (no WCTP server is
 * packaged in Debian).  HTTP on 127.0.0.1:PORT (libmicrohttpd); every
 * request must be a well-formed wctp-Operation that validates against the
 * WCTP 1.3 DTD (wctp_dtd.h), else it is answered with wctp-Failure 301/302
 * and logged to STATEDIR/invalid.
 *
 *   wctp_carrier PORT STATEDIR SENDER_ID SECURITY_CODE [MAX_CHARS]
 *
 * wctp-SubmitRequest: the originator must be SENDER_ID/SECURITY_CODE
 *   (else 401/402); recipient 0000000 is unknown (403, permanent) and
 *   6666666 meets a system error (604, temporary); a text of more than
 *   MAX_CHARS characters (when given) is refused with 411 "Message
 *   exceeds allowable length" (the limit named in the failure's text) and
 *   logged to STATEDIR/too_long; otherwise the page is
 *   appended to STATEDIR/submits as "messageID<TAB>recipientID<TAB>
 *   priority<TAB>text<TAB>sendResponsesToID" (newlines in the text as \n,
 *   "-" for no sendResponsesToID), answered wctp-Success 200, and a
 *   wctp-StatusInfo DELIVERED for its messageID is queued for polling.
 * wctp-PollForMessages: pollerID/securityCode checked the same way; each
 *   wctp-MessageReceived removes that message from the queue (and is
 *   logged to STATEDIR/acks); a file STATEDIR/reply "PIN<TAB>text", when
 *   present, is consumed and becomes a wctp-MessageReply from PIN to the
 *   last page sent to it; the answer is a wctp-PollResponse with every
 *   queued message (sequenceNo) or wctp-NoMessages.
 *
 * Runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <microhttpd.h>

#include "pagegate/util.h"
#include "wctp_dtd.h"

#define MAX_QUEUE 64
#define BODY_MAX  (256 * 1024)
#define OPEN "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<!DOCTYPE wctp-Operation SYSTEM \"http://dtd.wctp.org/wctp-dtd-v1r3.dtd\">\n" \
	"<wctp-Operation wctpVersion=\"wctp-dtd-v1r3\">\n"
#define CLOSE "</wctp-Operation>\n"

static struct carrier {
	pthread_mutex_t mu;
	const char *dir, *sender, *code;
	int max_chars;                  /* 0 = any length */
	xmlDtdPtr dtd;
	struct { long seq; char *xml; } q[MAX_QUEUE];
	int nq;
	long next_seq;
	struct { char pin[32]; char id[32]; } last[32];
	int nlast;
} C = { .mu = PTHREAD_MUTEX_INITIALIZER, .next_seq = 1 };

static void
append(const char *name, const char *line)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", C.dir, name);
	if ((f = fopen(path, "a"))) {
		fputs(line, f);
		fclose(f);
	}
}

static char *
attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
	char *r = strdup(v ? (const char *)v : "");

	xmlFree(v);
	return r;
}

static xmlNodePtr
child(xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, (const xmlChar *)name))
			return n;
	return NULL;
}

static void
failure(struct pg_buf *out, int code, const char *text)
{
	pg_buf_printf(out, OPEN "  <wctp-Confirmation>\n    <wctp-Failure errorCode=\"%d\" "
		      "errorText=\"%s\">%s</wctp-Failure>\n  </wctp-Confirmation>\n" CLOSE,
		      code, text, text);
}

static void
queue(char *xml)
{
	if (C.nq == MAX_QUEUE) {
		free(xml);
		return;
	}
	C.q[C.nq].seq = C.next_seq++;
	C.q[C.nq++].xml = xml;
}

/* A queued wctp-StatusInfo or wctp-MessageReply answering message id. */
static char *
status_xml(const char *id, const char *from, const char *text)
{
	struct pg_buf b;
	xmlChar *esc = text ? xmlEncodeSpecialChars(NULL, (const xmlChar *)text) : NULL;

	pg_buf_init(&b, 64 * 1024);
	pg_buf_printf(&b, "      <wctp-%s>\n        <wctp-ResponseHeader responseToMessageID=\"%s\">\n"
		      "          <wctp-Originator senderID=\"%s\"/>\n"
		      "          <wctp-MessageControl messageID=\"c-%s\"/>\n"
		      "          <wctp-Recipient recipientID=\"%s\"/>\n"
		      "        </wctp-ResponseHeader>\n", text ? "MessageReply" : "StatusInfo",
		      id, from, id, C.sender);
	if (text)
		pg_buf_printf(&b, "        <wctp-Payload><wctp-Alphanumeric>%s</wctp-Alphanumeric>"
			      "</wctp-Payload>\n      </wctp-MessageReply>\n", (const char *)esc);
	else
		pg_buf_printf(&b, "        <wctp-Notification type=\"DELIVERED\"/>\n"
			      "      </wctp-StatusInfo>\n");
	xmlFree(esc);
	return pg_buf_steal(&b);
}

static void
submit(xmlNodePtr op, struct pg_buf *out)
{
	xmlNodePtr hdr = child(op, "wctp-SubmitHeader");
	char *sid = attr(child(hdr, "wctp-Originator"), "senderID");
	char *sc = attr(child(hdr, "wctp-Originator"), "securityCode");
	char *id = attr(child(hdr, "wctp-MessageControl"), "messageID");
	char *prio = attr(child(hdr, "wctp-MessageControl"), "deliveryPriority");
	char *rcpt = attr(child(hdr, "wctp-Recipient"), "recipientID");
	char *resp_to = attr(child(hdr, "wctp-MessageControl"), "sendResponsesToID");
	xmlNodePtr a = child(child(op, "wctp-Payload"), "wctp-Alphanumeric");
	xmlChar *text = a ? xmlNodeGetContent(a) : NULL;
	struct pg_buf line;
	const char *p;

	if (strcmp(sid, C.sender) != 0)
		failure(out, 401, "Invalid senderID");
	else if (strcmp(sc, C.code) != 0)
		failure(out, 402, "Invalid security code");
	else if (!strcmp(rcpt, "0000000"))
		failure(out, 403, "Invalid recipientID");
	else if (!strcmp(rcpt, "6666666"))
		failure(out, 604, "Internal Server Error");
	else if (!text)
		failure(out, 400, "Function not supported");
	else if (C.max_chars > 0 && xmlUTF8Strlen(text) > C.max_chars) {
		char why[96];
		snprintf(why, sizeof why, "Message exceeds allowable message length of %d",
			 C.max_chars);
		failure(out, 411, why);
		append("too_long", "411\n");
	}
	else {
		pg_buf_init(&line, 64 * 1024);
		pg_buf_printf(&line, "%s\t%s\t%s\t", id, rcpt, prio[0] ? prio : "NORMAL");
		for (p = (const char *)text; *p; p++)
			pg_buf_adds(&line, *p == '\n' ? "\\n" : (char[]){ *p, 0 });
		pg_buf_printf(&line, "\t%s\n", resp_to[0] ? resp_to : "-");
		append("submits", line.data);
		pg_buf_free(&line);
		queue(status_xml(id, "carrier", NULL));
		if (strlen(rcpt) < sizeof C.last[0].pin && strlen(id) < sizeof C.last[0].id) {
			int i;
			for (i = 0; i < C.nlast && strcmp(C.last[i].pin, rcpt); i++)
				;
			if (i == C.nlast && C.nlast < 32)
				C.nlast++;
			if (i < 32) {
				strcpy(C.last[i].pin, rcpt);
				strcpy(C.last[i].id, id);
			}
		}
		pg_buf_printf(out, OPEN "  <wctp-Confirmation>\n    <wctp-Success successCode=\"200\" "
			      "successText=\"Message queued\"/>\n  </wctp-Confirmation>\n" CLOSE);
	}
	free(sid); free(sc); free(id); free(prio); free(rcpt); free(resp_to);
	xmlFree(text);
}

/* Turns STATEDIR/reply ("PIN<TAB>text") into a queued wctp-MessageReply. */
static void
take_reply(void)
{
	char path[1024], buf[1024], *tab, *nl;
	FILE *f;
	int i;

	snprintf(path, sizeof path, "%s/reply", C.dir);
	if (!(f = fopen(path, "r")))
		return;
	buf[0] = '\0';
	if (!fgets(buf, sizeof buf, f))
		buf[0] = '\0';
	fclose(f);
	unlink(path);
	if ((nl = strchr(buf, '\n')))
		*nl = '\0';
	if (!(tab = strchr(buf, '\t')))
		return;
	*tab++ = '\0';
	for (i = 0; i < C.nlast; i++)
		if (!strcmp(C.last[i].pin, buf)) {
			queue(status_xml(C.last[i].id, buf, tab));
			return;
		}
}

static void
poll_for(xmlNodePtr op, struct pg_buf *out)
{
	char *pid = attr(op, "pollerID"), *sc = attr(op, "securityCode"), *seq;
	char line[64];
	xmlNodePtr m;
	int i, j;

	if (strcmp(pid, C.sender) != 0 || strcmp(sc, C.code) != 0) {
		failure(out, strcmp(pid, C.sender) ? 401 : 402, "Invalid poller");
		goto out;
	}
	for (m = op->children; m; m = m->next) {
		if (m->type != XML_ELEMENT_NODE || xmlStrcmp(m->name, (const xmlChar *)"wctp-MessageReceived"))
			continue;
		seq = attr(m, "sequenceNo");
		for (i = 0; i < C.nq; i++)
			if (C.q[i].seq == atol(seq)) {
				free(C.q[i].xml);
				for (j = i; j + 1 < C.nq; j++)
					C.q[j] = C.q[j + 1];
				C.nq--;
				snprintf(line, sizeof line, "%s\n", seq);
				append("acks", line);
				break;
			}
		free(seq);
	}
	take_reply();
	if (C.nq == 0) {
		pg_buf_printf(out, OPEN "  <wctp-PollResponse minNextPollInterval=\"1\">"
			      "<wctp-NoMessages/></wctp-PollResponse>\n" CLOSE);
		goto out;
	}
	pg_buf_printf(out, OPEN "  <wctp-PollResponse minNextPollInterval=\"1\">\n");
	for (i = 0; i < C.nq; i++)
		pg_buf_printf(out, "    <wctp-Message sequenceNo=\"%ld\">\n%s    </wctp-Message>\n",
			      C.q[i].seq, C.q[i].xml);
	pg_buf_printf(out, "  </wctp-PollResponse>\n" CLOSE);
out:
	free(pid);
	free(sc);
}

static bool
valid(xmlDocPtr doc)
{
	xmlValidCtxtPtr v = xmlNewValidCtxt();
	bool ok = v && xmlValidateDtd(v, doc, C.dtd) == 1;

	xmlFreeValidCtxt(v);
	return ok;
}

static void
handle(const char *body, size_t len, struct pg_buf *out)
{
	xmlDocPtr doc = xmlReadMemory(body, (int)len, "req.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNodePtr root, op;

	pthread_mutex_lock(&C.mu);
	if (!doc) {
		append("invalid", "not XML\n");
		failure(out, 301, "Input can not be parsed");
	} else if (!valid(doc)) {
		append("invalid", "DTD\n");
		failure(out, 302, "XML validation error");
	} else {
		root = xmlDocGetRootElement(doc);
		for (op = root->children; op && op->type != XML_ELEMENT_NODE; op = op->next)
			;
		if (!xmlStrcmp(op->name, (const xmlChar *)"wctp-SubmitRequest"))
			submit(op, out);
		else if (!xmlStrcmp(op->name, (const xmlChar *)"wctp-PollForMessages"))
			poll_for(op, out);
		else
			failure(out, 300, "Operation not supported");
	}
	pthread_mutex_unlock(&C.mu);
	if (doc)
		xmlFreeDoc(doc);
}

static enum MHD_Result
on_req(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *data, size_t *size, void **con_cls)
{
	struct pg_buf *in = *con_cls, out;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls; (void)url; (void)version;
	if (!in) {
		if (!(in = calloc(1, sizeof *in)))
			return MHD_NO;
		pg_buf_init(in, BODY_MAX);
		*con_cls = in;
		return MHD_YES;
	}
	if (*size) {
		if (pg_buf_add(in, data, *size) != PG_OK)
			return MHD_NO;
		*size = 0;
		return MHD_YES;
	}
	pg_buf_init(&out, BODY_MAX);
	if (strcmp(method, "POST") != 0)
		failure(&out, 300, "Operation not supported");
	else
		handle(in->data ? in->data : "", in->len, &out);
	r = MHD_create_response_from_buffer(out.len, out.data, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "text/xml; charset=UTF-8");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	pg_buf_free(&out);
	return ret;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct pg_buf *in = *con_cls;

	(void)cls; (void)c; (void)t;
	if (in) {
		pg_buf_free(in);
		free(in);
	}
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	xmlParserInputBufferPtr dtdin;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	sigset_t set;
	int sig, i;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s PORT STATEDIR SENDER_ID SECURITY_CODE [MAX_CHARS]\n",
			argv[0]);
		return 2;
	}
	C.dir = argv[2];
	C.sender = argv[3];
	C.code = argv[4];
	C.max_chars = argc > 5 ? atoi(argv[5]) : 0;
	xmlInitParser();
	dtdin = xmlParserInputBufferCreateMem(WCTP_DTD, sizeof WCTP_DTD - 1, XML_CHAR_ENCODING_UTF8);
	if (!(C.dtd = xmlIOParseDTD(NULL, dtdin, XML_CHAR_ENCODING_UTF8))) {
		fprintf(stderr, "wctp_carrier: bad DTD\n");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	addr.sin_port = htons((uint16_t)atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)atoi(argv[1]), NULL, NULL,
			     on_req, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "wctp_carrier: cannot listen on port %s\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "wctp_carrier: listening on %s\n", argv[1]);
	while (sigwait(&set, &sig) != 0 && errno == EINTR)
		;
	MHD_stop_daemon(d);
	for (i = 0; i < C.nq; i++)
		free(C.q[i].xml);
	xmlFreeDtd(C.dtd);
	xmlCleanupParser();
	return 0;
}
