/*
 * tap_term.h - a TAP paging terminal, emulated from the published
 * protocol (Telocator Alphanumeric Protocol 1.8) independently of
 * pagegate's client, on the master side of a pseudo-terminal: used by the
 * TAP unit test (in a thread) and by the tap_terminal peer.
 *
 * It prompts "ID=" on CR, checks the "ESC PG1 password CR" logon (a wrong
 * one gets ESC EOT), sends "110 1.8", ACK and the go-ahead "ESC [ p CR",
 * verifies every block's checksum with its own arithmetic (a bad one gets
 * NAK), reassembles fields split over blocks (US) and transactions over
 * blocks (ETB), answers each block from a script (A ACK, N NAK, R RS,
 * E ESC EOT; ACK after the script), answers a finished transaction for
 * reject_pin with "501 Invalid pager ID" RS, one whose message is longer
 * than max_chars (when set) with TAP 1.8's "517 nnn Character Maximum,
 * Message Rejected" RS, and logs out on "EOT CR"
 * with "115 Goodbye" ESC EOT CR.  With modem set it first answers a Hayes
 * "ATDT..." line with CONNECT.
 */
#ifndef PAGEGATE_TEST_TAP_TERM_H
#define PAGEGATE_TEST_TAP_TERM_H

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define T_STX 0x02
#define T_ETX 0x03
#define T_EOT 0x04
#define T_ACK 0x06
#define T_CR  0x0d
#define T_NAK 0x15
#define T_ETB 0x17
#define T_ESC 0x1b
#define T_RS  0x1e
#define T_US  0x1f

#define TERM_WAIT_MS 10000
#define MAX_PAGES 24

struct term {
	int fd;
	const char *password;
	const char *reject_pin;     /* transactions for it get RS (may be NULL) */
	int max_chars;              /* longer messages get 517 and RS (0 = any) */
	int too_long;               /* how many it rejected so */
	bool modem;                 /* answer ATDT... with CONNECT first */
	const char *script;         /* per block: A ack, N nak, R rs, E esc-eot */
	size_t pos;
	bool silent;                /* never answer at all */
	/* what it saw */
	char dialled[64];
	int logons, blocks, bad_sums, logouts;
	char pin[MAX_PAGES][32], text[MAX_PAGES][1200];
	int pages;
	char error[256];
	/* the transaction being assembled */
	char fields[1300];
	size_t flen;
};

static int
term_getc(struct term *t)
{
	struct pollfd p = { .fd = t->fd, .events = POLLIN };
	unsigned char c;

	if (poll(&p, 1, TERM_WAIT_MS) <= 0 || read(t->fd, &c, 1) != 1)
		return -1;
	return c;
}

static void
term_put(struct term *t, const char *s, size_t n)
{
	if (write(t->fd, s, n) != (ssize_t)n)
		snprintf(t->error, sizeof t->error, "terminal write failed");
}
#define PUT(t, lit) term_put((t), (lit), sizeof(lit) - 1)

/* The checksum as TAP 1.8 defines it, computed here on its own. */
static void
tap_sum(const unsigned char *p, size_t n, char out[4])
{
	unsigned s = 0;

	while (n--)
		s += *p++ & 0x7f;
	snprintf(out, 4, "%c%c%c", '0' + ((s >> 8) & 15), '0' + ((s >> 4) & 15),
		 '0' + (s & 15));
}

/* Splits the assembled fields "pin CR text CR" into a page. */
static void
term_page(struct term *t)
{
	char *cr1 = memchr(t->fields, '\r', t->flen);
	char *cr2 = cr1 ? memchr(cr1 + 1, '\r', t->flen - (size_t)(cr1 + 1 - t->fields)) : NULL;

	if (!cr1 || !cr2 || cr2 != t->fields + t->flen - 1 || t->pages >= MAX_PAGES) {
		snprintf(t->error, sizeof t->error, "bad transaction fields");
		return;
	}
	snprintf(t->pin[t->pages], sizeof t->pin[0], "%.*s", (int)(cr1 - t->fields), t->fields);
	snprintf(t->text[t->pages], sizeof t->text[0], "%.*s", (int)(cr2 - cr1 - 1), cr1 + 1);
	t->pages++;
}

/* The length of the message field of the assembled "pin CR text CR". */
static int
term_text_len(const struct term *t)
{
	const char *cr1 = memchr(t->fields, '\r', t->flen);

	return cr1 ? (int)(t->flen - (size_t)(cr1 + 1 - t->fields)) - 1 : 0;
}

static void *
terminal(void *arg)
{
	struct term *t = arg;
	unsigned char blk[400];
	char sum[4], got[4], logon[64], line[64];
	size_t n, ln;
	int c, i;

	if (t->silent) {
		while (term_getc(t) >= 0)
			;
		return NULL;
	}
	if (t->modem) {
		for (ln = 0; (c = term_getc(t)) >= 0 && c != '\r'; )
			if (ln + 1 < sizeof line)
				line[ln++] = (char)c;
		line[ln] = '\0';
		snprintf(t->dialled, sizeof t->dialled, "%s", line);
		PUT(t, "\r\nCONNECT 1200\r\n");
	}
	/* CR -> ID= */
	while ((c = term_getc(t)) >= 0 && c != '\r')
		;
	if (c < 0)
		return NULL;
	PUT(t, "ID=");
	/* ESC PG1 password CR; extra CRs before it are ignored */
	while ((c = term_getc(t)) >= 0 && c != T_ESC)
		;
	for (ln = 0; (c = term_getc(t)) >= 0 && c != '\r'; )
		if (ln + 1 < sizeof logon)
			logon[ln++] = (char)c;
	logon[ln] = '\0';
	snprintf(line, sizeof line, "PG1%s", t->password);
	if (strcmp(logon, line) != 0) {
		snprintf(t->error, sizeof t->error, "bad logon \"%s\"", logon);
		PUT(t, "\x1b\x04\r");
		return NULL;
	}
	t->logons++;
	PUT(t, "110 1.8\r\x06\r\x1b[p\r");
	for (;;) {
		if ((c = term_getc(t)) < 0)
			return NULL;
		if (c == T_EOT) {
			(void)term_getc(t);             /* its CR */
			t->logouts++;
			PUT(t, "115 Goodbye\r\x1b\x04\r");
			return NULL;
		}
		if (c != T_STX)
			continue;
		blk[0] = T_STX;
		for (n = 1; n < sizeof blk; n++) {
			if ((c = term_getc(t)) < 0)
				return NULL;
			blk[n] = (unsigned char)c;
			if (c == T_ETX || c == T_ETB || c == T_US)
				break;
		}
		for (i = 0; i < 3; i++)
			got[i] = (char)term_getc(t);
		got[3] = '\0';
		(void)term_getc(t);                 /* CR */
		t->blocks++;
		tap_sum(blk, n + 1, sum);
		if (strcmp(sum, got) != 0) {
			t->bad_sums++;
			PUT(t, "\x15\r");
			continue;
		}
		if (n - 1 > 250)
			snprintf(t->error, sizeof t->error, "block of %zu characters", n - 1);
		switch (t->script[t->pos] ? t->script[t->pos++] : 'A') {
		case 'N':
			PUT(t, "\x15\r");
			continue;
		case 'R':
			t->flen = 0;
			PUT(t, "501 Invalid pager ID\r\x1e\r");
			continue;
		case 'E':
			PUT(t, "\x1b\x04\r");
			return NULL;
		default:
			break;
		}
		if (t->flen + n - 1 < sizeof t->fields) {
			memcpy(t->fields + t->flen, blk + 1, n - 1);
			t->flen += n - 1;
		}
		if (blk[n] == T_ETX && t->reject_pin && t->flen > strlen(t->reject_pin) &&
		    !strncmp(t->fields, t->reject_pin, strlen(t->reject_pin)) &&
		    t->fields[strlen(t->reject_pin)] == '\r') {
			t->flen = 0;
			PUT(t, "501 Invalid pager ID\r\x1e\r");
		} else if (blk[n] == T_ETX && t->max_chars > 0 && term_text_len(t) > t->max_chars) {
			char m[64];
			int ml = snprintf(m, sizeof m, "517 %d Character Maximum, Message Rejected\r\x1e\r",
					  t->max_chars);
			t->flen = 0;
			t->too_long++;
			term_put(t, m, (size_t)ml);
		} else if (blk[n] == T_ETX) {
			term_page(t);
			t->flen = 0;
			PUT(t, "211 Page(s) Sent Successfully\r\x06\r");
		} else {
			PUT(t, "\x06\r");
		}
	}
}

#endif
