/*
 * test_pager_snpp.c - the SNPP client (src/pager_snpp.c): reply-line
 * parsing, whole multi-line replies read from a socket in pieces, and
 * complete sessions against a scripted RFC 1861 peer in a thread.  Each
 * script is the exact transcript expected: the peer checks every command
 * line (and DATA body) the client sends, refuses pipelining (it checks
 * that nothing more arrives before it answers) and answers with the
 * scripted reply.  Refusals for length are recovered in the same session
 * (hfaxd's way: DATA refused mid-text, the rest answered as commands,
 * RESE ending the login; RFC 1861's way), or in a new session when RESE
 * cannot bring the old one back in step.  The real peers (HylaFAX hfaxd, Net::SNPP::Server) are
 * exercised by tests/integration/t_pager.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/chan/pager/pager_priv.h"

#define PEER_WAIT_MS 5000
#define PIPELINE_MS  50          /* quiet time that proves lock-step */

/* ---- reply lines ---- */

static void
test_parse_line(void **state)
{
	bool more;

	(void)state;
	assert_int_equal(pager_snpp_parse_line("250 Message OK", &more), 250);
	assert_false(more);
	assert_int_equal(pager_snpp_parse_line("250", &more), 250);
	assert_false(more);
	assert_int_equal(pager_snpp_parse_line("250-first of several", &more), 250);
	assert_true(more);
	assert_int_equal(pager_snpp_parse_line("214 PAGEr <pager ID>", &more), 214);
	assert_true(more);                       /* RFC 1861 HELP lines */
	assert_int_equal(pager_snpp_parse_line("421 Too Many Errors", &more), 421);
	assert_false(more);
	assert_int_equal(pager_snpp_parse_line("25 short", &more), -1);
	assert_int_equal(pager_snpp_parse_line("2500 long", &more), -1);
	assert_int_equal(pager_snpp_parse_line("hello", &more), -1);
	assert_int_equal(pager_snpp_parse_line("", &more), -1);
	assert_int_equal(pager_snpp_parse_line("099 low", &more), -1);
}

/* ---- whole replies from a socket ---- */

struct feeder {
	int fd;
	const char *const *chunks;
	int delay_ms;
};

static void *
feed(void *arg)
{
	struct feeder *f = arg;

	for (size_t i = 0; f->chunks[i]; i++) {
		if (f->delay_ms)
			usleep((useconds_t)f->delay_ms * 1000);
		assert_true(write(f->fd, f->chunks[i], strlen(f->chunks[i])) > 0);
	}
	return NULL;
}

/* Reads one reply from chunks written (with delays) on a socketpair. */
static pg_err
read_from(const char *const *chunks, int delay_ms, bool close_after, int timeout_ms,
	  int *code, char *text, size_t tlen, struct pager_snpp_rd *rd, int sv[2])
{
	struct feeder f = { .chunks = chunks, .delay_ms = delay_ms };
	pthread_t th;
	pg_err e;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f.fd = sv[1];
	memset(rd, 0, sizeof *rd);
	rd->fd = sv[0];
	assert_int_equal(pthread_create(&th, NULL, feed, &f), 0);
	if (close_after) {
		pthread_join(th, NULL);
		close(sv[1]);
		sv[1] = -1;
	}
	e = pager_snpp_read_reply(rd, timeout_ms, code, text, tlen);
	if (!close_after)
		pthread_join(th, NULL);
	return e;
}

static void
test_read_multiline_in_pieces(void **state)
{
	static const char *const chunks[] = { "214-Level 1", " commands\r\n214 PAGEr",
		" <id>\r\n250 End of", " Help\r\n220 next reply\r\n", NULL };
	struct pager_snpp_rd rd;
	char text[128];
	int code, sv[2];

	(void)state;
	assert_int_equal(read_from(chunks, 5, false, PEER_WAIT_MS, &code, text,
				   sizeof text, &rd, sv), PG_OK);
	assert_int_equal(code, 250);
	assert_string_equal(text, "250 End of Help");
	/* the next reply was already buffered */
	assert_int_equal(pager_snpp_read_reply(&rd, PEER_WAIT_MS, &code, text,
					       sizeof text), PG_OK);
	assert_int_equal(code, 220);
	assert_string_equal(text, "220 next reply");
	close(sv[0]);
	close(sv[1]);
}

static void
test_read_bad_replies(void **state)
{
	static const char *const garbage[] = { "hello there\r\n", NULL };
	static const char *const cut[] = { "250-partial\r\n", NULL };
	static const char *const none[] = { NULL };
	static const char *const ctl[] = { "250 ok\x01\x1b[2Jtext\r\n", NULL };
	struct pager_snpp_rd rd;
	char text[128], big[3000];
	const char *bigs[] = { big, NULL };
	int code, sv[2];
	int64_t t0;

	(void)state;
	assert_int_equal(read_from(garbage, 0, false, PEER_WAIT_MS, &code, text,
				   sizeof text, &rd, sv), PG_ERR_TEMPFAIL);
	assert_string_equal(text, "malformed SNPP reply \"hello there\"");
	close(sv[0]); close(sv[1]);

	assert_int_equal(read_from(cut, 0, true, PEER_WAIT_MS, &code, text, sizeof text,
				   &rd, sv), PG_ERR_TEMPFAIL);
	assert_string_equal(text, "connection closed by the SNPP gateway");
	close(sv[0]);

	t0 = pg_mono_ms();
	assert_int_equal(read_from(none, 0, false, 300, &code, text, sizeof text, &rd, sv),
			 PG_ERR_TEMPFAIL);
	assert_true(pg_mono_ms() - t0 >= 290);
	assert_string_equal(text, "no SNPP reply within 0 s");
	close(sv[0]); close(sv[1]);

	/* controls in server text are removed */
	assert_int_equal(read_from(ctl, 0, false, PEER_WAIT_MS, &code, text, sizeof text,
				   &rd, sv), PG_OK);
	assert_string_equal(text, "250 ok [2Jtext");
	close(sv[0]); close(sv[1]);

	/* an over-long line is cut, not overflowed */
	memset(big, 'x', sizeof big - 3);
	memcpy(big, "250 ", 4);
	memcpy(big + sizeof big - 3, "\r\n", 3);
	assert_int_equal(read_from(bigs, 0, false, PEER_WAIT_MS, &code, text, sizeof text,
				   &rd, sv), PG_OK);
	assert_int_equal(code, 250);
	assert_int_equal(strlen(text), sizeof text - 1);
	close(sv[0]); close(sv[1]);
}

/* ---- sessions against a scripted peer ---- */

struct step {
	const char *expect;          /* the exact command line, or NULL = close;
					"(reconnect)": the client closes, and its
					next connection goes on with the script */
	const char *reply;           /* CRLF-terminated reply; NULL = close at
					once; "" = never answer */
	const char *data;            /* for DATA: the expected body lines ("\n") */
};

static struct peer {
	int lfd, port;
	const struct step *script;
	char error[4096];
	int steps_done;
	pthread_t th;
} P;

static bool
peer_line(int fd, char *line, size_t n)
{
	size_t l = 0;
	char c;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		if (poll(&p, 1, PEER_WAIT_MS) <= 0 || read(fd, &c, 1) != 1)
			return false;
		if (c == '\n')
			break;
		if (l + 1 < n)
			line[l++] = c;
	}
	if (l > 0 && line[l - 1] == '\r')
		l--;
	line[l] = '\0';
	return true;
}

static void
peer_send(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		snprintf(P.error, sizeof P.error, "peer write failed");
}

static void *
peer(void *arg)
{
	int fd;
	char line[1200], body[2400];
	struct pollfd p;
	(void)arg;

	p.events = POLLIN;
	p.fd = P.lfd;
	if (poll(&p, 1, PEER_WAIT_MS) <= 0 || (fd = accept(P.lfd, NULL, NULL)) < 0)
		return NULL;
	peer_send(fd, "220 test SNPP gateway ready\r\n");
	for (const struct step *s = P.script; s->expect; s++) {
		if (!strcmp(s->expect, "(reconnect)")) {
			while (peer_line(fd, line, sizeof line))
				;                   /* until the client closes */
			close(fd);
			p.fd = P.lfd;
			if (poll(&p, 1, PEER_WAIT_MS) <= 0 || (fd = accept(P.lfd, NULL, NULL)) < 0) {
				snprintf(P.error, sizeof P.error, "no new connection");
				return NULL;
			}
			peer_send(fd, "220 test SNPP gateway ready again\r\n");
			P.steps_done++;
			continue;
		}
		if (!peer_line(fd, line, sizeof line)) {
			snprintf(P.error, sizeof P.error, "no command, expected \"%s\"", s->expect);
			break;
		}
		if (strcmp(line, s->expect) != 0) {
			snprintf(P.error, sizeof P.error, "got \"%s\", expected \"%s\"", line,
				 s->expect);
			break;
		}
		p.fd = fd;
		if (poll(&p, 1, PIPELINE_MS) > 0 && strcmp(s->expect, "QUIT") != 0) {
			snprintf(P.error, sizeof P.error, "pipelined after \"%s\"", line);
			break;
		}
		if (s->data) {
			peer_send(fd, "354 Begin Input; End with <CRLF>'.'<CRLF>\r\n");
			body[0] = '\0';
			while (peer_line(fd, line, sizeof line) && strcmp(line, ".") != 0) {
				strncat(body, line, sizeof body - strlen(body) - 2);
				strcat(body, "\n");
			}
			if (strcmp(body, s->data) != 0) {
				snprintf(P.error, sizeof P.error, "DATA body \"%.2000s\"", body);
				break;
			}
		}
		P.steps_done++;
		if (!s->reply)
			break;                      /* close without answering */
		if (!s->reply[0]) {                 /* never answer: wait for the close */
			while (peer_line(fd, line, sizeof line))
				;
			break;
		}
		peer_send(fd, s->reply);
	}
	close(fd);
	return NULL;
}

static struct pager_gw G;
static struct pg_job J[4];
static char *TX[4];

static int
sess_setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;

	(void)state;
	memset(&P, 0, sizeof P);
	memset(J, 0, sizeof J);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	P.lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(P.lfd >= 0);
	assert_int_equal(bind(P.lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(P.lfd, 4), 0);
	assert_int_equal(getsockname(P.lfd, (struct sockaddr *)&a, &al), 0);
	P.port = ntohs(a.sin_port);
	memset(&G, 0, sizeof G);
	G.name = "snpp-test";
	G.kind = PAGER_SNPP;
	G.host = "127.0.0.1";
	G.port = P.port;
	G.timeout_s = 5;
	return 0;
}

static int
sess_teardown(void **state)
{
	(void)state;
	close(P.lfd);
	return 0;
}

static void
job(size_t i, const char *pin, enum pg_urgency u, const char *text)
{
	J[i].delivery_id = 500 + (int64_t)i;
	J[i].address = pin;
	J[i].urgency = u;
	J[i].outcome = PG_OUT__COUNT;
	TX[i] = (char *)text;
}

static void
session(const struct step *script, size_t n)
{
	P.script = script;
	assert_int_equal(pthread_create(&P.th, NULL, peer, NULL), 0);
	pager_snpp_send(&G, J, TX, n);
	assert_int_equal(pthread_join(P.th, NULL), 0);
	assert_string_equal(P.error, "");
}

static void
test_session_hylafax_style(void **state)
{
	static char *site[] = { "JQUEUE YES" };
	static const struct step s[] = {
		{ "LOGI gw secret", "250 User gw logged in.\r\n", NULL },
		{ "SITE JQUEUE YES", "250 Job will be queued.\r\n", NULL },
		{ "PAGE 4412", "250 Pager ID accepted; provider: 5551234 pin: 4412 jobid: 9.\r\n", NULL },
		{ "LEVE 0", "250 OK, service level 0 accepted.\r\n", NULL },
		{ "DATA", "250 Message text OK.\r\n",
		  "urgent Acme - ACK 482913\n..dotted line\nFurnace out\n" },
		{ "SEND", "250-Job queued\r\n250 Message successfully queued.\r\n", NULL },
		{ "SITE JQUEUE YES", "250 Job will be queued.\r\n", NULL },
		{ "PAGE 77", "250 Pager ID accepted; provider: 5551234 pin: 77 jobid: 10.\r\n", NULL },
		{ "MESS routine text", "250 Message text OK.\r\n", NULL },
		{ "SEND", "250 Message successfully queued.\r\n", NULL },
		{ "QUIT", "221 Goodbye.\r\n", NULL },
		{ NULL, NULL, NULL },
	};

	(void)state;
	G.login = "gw";
	G.password = "secret";
	G.site = site;
	G.n_site = 1;
	job(0, "4412", PG_URG_URGENT, "urgent Acme - ACK 482913\n.dotted line\nFurnace out");
	job(1, "77", PG_URG_ROUTINE, "routine text");
	session(s, 2);
	assert_int_equal(P.steps_done, 11);
	assert_int_equal(J[0].outcome, PG_OUT_OK);
	assert_string_equal(J[0].reply, "250 Message successfully queued. [250 Pager ID "
			    "accepted; provider: 5551234 pin: 4412 jobid: 9.]");
	assert_int_equal(J[1].outcome, PG_OUT_OK);
	assert_string_equal(J[1].reply, "250 Message successfully queued. [250 Pager ID "
			    "accepted; provider: 5551234 pin: 77 jobid: 10.]");
}

static void
test_session_failures_and_rese(void **state)
{
	static const struct step s[] = {
		{ "PAGE 11", "550 Error, Invalid Pager ID\r\n", NULL },
		{ "PAGE 22", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS second", "250 Message OK\r\n", NULL },
		{ "SEND", "451 Paging terminal busy, try later\r\n", NULL },
		{ "RESE", "250 RESET OK\r\n", NULL },
		{ "PAGE 33", "250 Pager ID Accepted\r\n", NULL },
		{ "LEVE 0", "500 Command Not Implemented, Try Again\r\n", NULL },
		{ "DATA", "500 Command Not Implemented, Try Again\r\n", NULL },
		{ "MESS line one / line two", "250 Message OK\r\n", NULL },
		{ "SEND", "250 Message Sent Successfully\r\n", NULL },
		{ "QUIT", "221 OK, Goodbye\r\n", NULL },
		{ NULL, NULL, NULL },
	};

	(void)state;
	job(0, "11", PG_URG_ROUTINE, "first");
	job(1, "22", PG_URG_ROUTINE, "second");
	job(2, "33", PG_URG_EMERGENCY, "line one\nline two");
	session(s, 3);
	assert_int_equal(J[0].outcome, PG_OUT_PERM);
	assert_string_equal(J[0].reply, "PAGE refused: 550 Error, Invalid Pager ID");
	assert_int_equal(J[1].outcome, PG_OUT_TEMP);
	assert_string_equal(J[1].reply, "SEND refused: 451 Paging terminal busy, try later");
	assert_int_equal(J[2].outcome, PG_OUT_OK);
	assert_string_equal(J[2].reply, "250 Message Sent Successfully [250 Pager ID Accepted]");
}

/* hfaxd: DATA refused at the line that overflows, the rest of the text
 * ("." included) read as commands and answered; RESE answers 220 and ends
 * the login.  The page goes again in the same session, cut to the number
 * the refusal gave, and the next page of the batch goes too. */
static void
test_session_too_long_hylafax(void **state)
{
	static char *site[] = { "JQUEUE YES" };
	static const struct step s[] = {
		{ "LOGI gw", "230 User gw logged in.\r\n", NULL },
		{ "SITE JQUEUE YES", "250 Job will be queued.\r\n", NULL },
		{ "PAGE 4412", "250 Pager ID accepted; jobid: 9.\r\n", NULL },
		{ "DATA", "550 Error, message too long; max 20 characters.\r\n"
			  "500 .: Command not recognized.\r\n",
		  "ACK 1\nΔεν υπάρχει θέρμανση\n" },
		{ "RESE", "220 host server (HylaFAX (tm) Version 6.0.7) ready.\r\n", NULL },
		{ "LOGI gw", "230 User gw logged in.\r\n", NULL },
		{ "SITE JQUEUE YES", "250 Job will be queued.\r\n", NULL },
		{ "PAGE 4412", "250 Pager ID accepted; jobid: 10.\r\n", NULL },
		{ "DATA", "250 Message text OK.\r\n", "ACK 1\nΔεν…\n" },
		{ "SEND", "250 Message successfully queued.\r\n", NULL },
		{ "SITE JQUEUE YES", "250 Job will be queued.\r\n", NULL },
		{ "PAGE 77", "250 Pager ID accepted; jobid: 11.\r\n", NULL },
		{ "MESS next page", "250 Message text OK.\r\n", NULL },
		{ "SEND", "250 Message successfully queued.\r\n", NULL },
		{ "QUIT", "221 Goodbye.\r\n", NULL },
		{ NULL, NULL, NULL },
	};

	(void)state;
	G.login = "gw";
	G.site = site;
	G.n_site = 1;
	job(0, "4412", PG_URG_ROUTINE, "ACK 1\nΔεν υπάρχει θέρμανση");
	job(1, "77", PG_URG_ROUTINE, "next page");
	session(s, 2);
	assert_int_equal(P.steps_done, 15);
	assert_int_equal(J[0].outcome, PG_OUT_OK);
	assert_string_equal(J[0].reply, "250 Message successfully queued. [250 Pager ID "
			    "accepted; jobid: 10.]");
	assert_int_equal(J[1].outcome, PG_OUT_OK);
}

/* An RFC 1861 server: MESS refused as too long without a number (a
 * quarter shorter, once: the second refusal stands), RESE 250 keeps the
 * login. */
static void
test_session_too_long_once(void **state)
{
	static const struct step s[] = {
		{ "LOGI gw", "250 Login OK\r\n", NULL },
		{ "PAGE 11", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS Furnace out in the whole building now", "550 Error, message too long\r\n",
		  NULL },
		{ "RESE", "250 RESET OK\r\n", NULL },
		{ "PAGE 11", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS Furnace out in the whole…", "250 Message OK\r\n", NULL },
		{ "SEND", "250 Message Sent Successfully\r\n", NULL },
		{ "PAGE 22", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS second page, too long", "550 Error, message too long\r\n", NULL },
		{ "RESE", "250 RESET OK\r\n", NULL },
		{ "PAGE 22", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS second page,…", "550 Error, message too long\r\n", NULL },
		{ "RESE", "250 RESET OK\r\n", NULL },
		{ "PAGE 33", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS third", "250 Message OK\r\n", NULL },
		{ "SEND", "250 Message Sent Successfully\r\n", NULL },
		{ "QUIT", "221 OK, Goodbye\r\n", NULL },
		{ NULL, NULL, NULL },
	};

	(void)state;
	G.login = "gw";
	job(0, "11", PG_URG_ROUTINE, "Furnace out in the whole building now");
	job(1, "22", PG_URG_ROUTINE, "second page, too long");
	job(2, "33", PG_URG_ROUTINE, "third");
	session(s, 3);
	assert_int_equal(J[0].outcome, PG_OUT_OK);
	assert_int_equal(J[1].outcome, PG_OUT_PERM);
	assert_string_equal(J[1].reply, "message text refused: 550 Error, message too long");
	assert_int_equal(J[2].outcome, PG_OUT_OK);
}

/* A session that RESE cannot bring back in step is closed and a new one
 * opened: the page goes again there, cut shorter, and so do the rest. */
static void
test_session_out_of_step_reopens(void **state)
{
	static const struct step s[] = {
		{ "LOGI gw", "250 Login OK\r\n", NULL },
		{ "PAGE 11", "250 Pager ID Accepted\r\n", NULL },
		{ "DATA", "550 Error, message too long; max 12 characters.\r\n",
		  "line one\nline two\n" },
		{ "RESE", "500 a\r\n500 b\r\n500 c\r\n500 d\r\n", NULL },
		{ "(reconnect)", NULL, NULL },
		{ "LOGI gw", "250 Login OK\r\n", NULL },
		{ "PAGE 11", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS line one…", "250 Message OK\r\n", NULL },
		{ "SEND", "250 Message Sent Successfully\r\n", NULL },
		{ "PAGE 22", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS second", "250 Message OK\r\n", NULL },
		{ "SEND", "250 Message Sent Successfully\r\n", NULL },
		{ "QUIT", "221 OK, Goodbye\r\n", NULL },
		{ NULL, NULL, NULL },
	};

	(void)state;
	G.login = "gw";
	job(0, "11", PG_URG_ROUTINE, "line one\nline two");
	job(1, "22", PG_URG_ROUTINE, "second");
	session(s, 2);
	assert_int_equal(J[0].outcome, PG_OUT_OK);
	assert_int_equal(J[1].outcome, PG_OUT_OK);
}

static void
test_session_421_ends_it(void **state)
{
	static const struct step s[] = {
		{ "PAGE 11", "421 Too Many Errors, Goodbye (terminate connection)\r\n", NULL },
		{ NULL, NULL, NULL },
	};

	(void)state;
	job(0, "11", PG_URG_ROUTINE, "first");
	job(1, "22", PG_URG_ROUTINE, "second");
	session(s, 2);
	assert_int_equal(J[0].outcome, PG_OUT_TEMP);
	assert_string_equal(J[0].reply,
			    "PAGE refused: 421 Too Many Errors, Goodbye (terminate connection)");
	assert_int_equal(J[1].outcome, PG_OUT_TEMP);
	assert_string_equal(J[1].reply, "not attempted: 421 Too Many Errors, Goodbye "
			    "(terminate connection)");
}

static void
test_session_closed_mid_dialogue(void **state)
{
	static const struct step s[] = {
		{ "PAGE 11", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS first", NULL, NULL },       /* closes without a reply */
		{ NULL, NULL, NULL },
	};

	(void)state;
	job(0, "11", PG_URG_ROUTINE, "first");
	job(1, "22", PG_URG_ROUTINE, "second");
	session(s, 2);
	assert_int_equal(J[0].outcome, PG_OUT_TEMP);
	assert_string_equal(J[0].reply,
			    "message text: connection closed by the SNPP gateway");
	assert_int_equal(J[1].outcome, PG_OUT_TEMP);
	assert_string_equal(J[1].reply, "not attempted: connection closed by the SNPP gateway");
}

static void
test_session_logi_refused(void **state)
{
	static const struct step s[] = {
		{ "LOGI gw", "550 Error, invalid login\r\n", NULL },
		{ "QUIT", "221 OK, Goodbye\r\n", NULL },
		{ NULL, NULL, NULL },
	};

	(void)state;
	G.login = "gw";
	job(0, "11", PG_URG_ROUTINE, "first");
	job(1, "22", PG_URG_ROUTINE, "second");
	session(s, 2);
	assert_int_equal(J[0].outcome, PG_OUT_PERM);
	assert_string_equal(J[0].reply, "LOGI refused: 550 Error, invalid login");
	assert_int_equal(J[1].outcome, PG_OUT_PERM);
}

static void
test_session_reply_timeout(void **state)
{
	static const struct step s[] = {
		{ "PAGE 11", "250 Pager ID Accepted\r\n", NULL },
		{ "MESS first", "", NULL },          /* never answers */
		{ NULL, NULL, NULL },
	};
	int64_t t0;

	(void)state;
	G.timeout_s = 1;
	job(0, "11", PG_URG_ROUTINE, "first");
	t0 = pg_mono_ms();
	session(s, 1);
	assert_true(pg_mono_ms() - t0 < 3000);
	assert_int_equal(J[0].outcome, PG_OUT_TEMP);
	assert_string_equal(J[0].reply, "message text: no SNPP reply within 1 s");
}

static void
test_connection_refused(void **state)
{
	(void)state;
	close(P.lfd);                            /* nobody listens any more */
	P.lfd = socket(AF_INET, SOCK_STREAM, 0);
	job(0, "11", PG_URG_ROUTINE, "first");
	job(1, "22", PG_URG_ROUTINE, "second");
	pager_snpp_send(&G, J, TX, 2);
	assert_int_equal(J[0].outcome, PG_OUT_TEMP);
	assert_non_null(strstr(J[0].reply, "not attempted: connect to SNPP gateway 127.0.0.1:"));
	assert_non_null(strstr(J[0].reply, "Connection refused"));
	assert_int_equal(J[1].outcome, PG_OUT_TEMP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_read_multiline_in_pieces),
		cmocka_unit_test(test_read_bad_replies),
		cmocka_unit_test_setup_teardown(test_session_hylafax_style, sess_setup, sess_teardown),
		cmocka_unit_test_setup_teardown(test_session_failures_and_rese, sess_setup, sess_teardown),
		cmocka_unit_test_setup_teardown(test_session_too_long_hylafax, sess_setup, sess_teardown),
		cmocka_unit_test_setup_teardown(test_session_too_long_once, sess_setup, sess_teardown),
		cmocka_unit_test_setup_teardown(test_session_out_of_step_reopens, sess_setup, sess_teardown),
		cmocka_unit_test_setup_teardown(test_session_421_ends_it, sess_setup, sess_teardown),
		cmocka_unit_test_setup_teardown(test_session_closed_mid_dialogue, sess_setup, sess_teardown),
		cmocka_unit_test_setup_teardown(test_session_logi_refused, sess_setup, sess_teardown),
		cmocka_unit_test_setup_teardown(test_session_reply_timeout, sess_setup, sess_teardown),
		cmocka_unit_test_setup_teardown(test_connection_refused, sess_setup, sess_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
