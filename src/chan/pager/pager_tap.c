/*
 * pager_tap.c - TAP/IXO client over a serial line (pager_priv.h), after
 * the Telocator Alphanumeric Protocol (TAP 1.8).
 *
 * The device is opened raw (termios: no echo, no line discipline, CLOCAL,
 * HUPCL so that closing hangs a modem up, XON/XOFF flow control as TAP's
 * operating environment asks) at the configured speed, 7E1 or 8N1.  With "dial" set, a Hayes modem first gets ATDT<number> and must
 * answer CONNECT.  Then, as the remote entry device:
 *
 *   remote                          paging terminal
 *   CR (every 2 s)           ->
 *                            <-     ID=
 *   ESC PG1 <password> CR    ->
 *                            <-     [message lines CR] ACK CR   (NAK: again,
 *                                                                ESC EOT: refused)
 *                            <-     ESC [ p CR                  (go ahead)
 *   per page, per block:
 *   STX pin CR text CR ETX sum CR ->                 (ETB / US: more blocks)
 *                            <-     [message lines] ACK CR | NAK CR | RS CR
 *                                   | ESC EOT CR
 *   EOT CR                   ->
 *                            <-     [message lines] [RS CR] ESC EOT CR
 *
 * ACK accepts the block (the page after its last block); NAK asks for the
 * block again (at most TAP_MAX_SENDS sends, then the page is a temporary
 * failure); RS rejects the page (permanent: "invalid pager id" and the
 * like) and the session goes on with the next, except that a page
 * rejected for its length (TAP 1.8's "517 nnn Character Maximum, Message
 * Rejected") goes once more, cut to nnn characters; ESC EOT ends the session
 * (the page and the rest are temporary failures).  The terminal's message
 * lines ("211 Page(s) sent") become the job's reply.  Input is masked to
 * 7 bits; everything sent is 7-bit ASCII (texts are transliterated by the
 * caller).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include "pagegate/log.h"
#include "pager_priv.h"

#define STX 0x02
#define ETX 0x03
#define EOT 0x04
#define ACK 0x06
#define LF  0x0a
#define CR  0x0d
#define NAK 0x15
#define ETB 0x17
#define ESC 0x1b
#define RS  0x1e
#define US  0x1f

#define MS_PER_S        1000
#define ID_INTERVAL_MS  2000       /* CR repeat while waiting for "ID=" */
#define TAP_MAX_SENDS   3          /* sends of one block (NAK -> again) */
#define LOGON_TRIES     3
#define LOGOUT_MAX_MS   10000
#define DIAL_MIN_MS     60000
#define MAX_BLOCKS      80
#define BLOCK_BYTES     (PAGER_TAP_BLOCK_MAX + 8)

enum tap_resp { R_ACK = PAGER_TAP_ACK, R_NAK = PAGER_TAP_NAK, R_RS = PAGER_TAP_RS,
		R_EOT = PAGER_TAP_EOT, R_GO = PAGER_TAP_GO, R_TIMEOUT, R_IO };

struct tap {
	const struct pager_gw *gw;
	int fd;
	int timeout_ms;
	struct pager_tap_rx rx;      /* what the terminal said since the last response */
	bool logout;                 /* logged on and the line still usable */
	char why[PG_REPLY_MAX];
};

void
pager_tap_checksum(const unsigned char *block, size_t len, char out[4])
{
	unsigned sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += block[i] & 0x7f;
	out[0] = (char)(0x30 + ((sum >> 8) & 0x0f));
	out[1] = (char)(0x30 + ((sum >> 4) & 0x0f));
	out[2] = (char)(0x30 + (sum & 0x0f));
	out[3] = '\0';
}

size_t
pager_tap_blocks(const char *pin, const char *text, int max_block,
		 struct pg_buf *blocks, size_t max_blocks)
{
	struct pg_buf data;
	size_t off = 0, nb = 0, take;
	char sum[4], term;

	pg_buf_init(&data, 4 * 1024);
	if (pg_buf_adds(&data, pin) || pg_buf_add(&data, "\r", 1) ||
	    pg_buf_adds(&data, text) || pg_buf_add(&data, "\r", 1)) {
		pg_buf_free(&data);
		return 0;
	}
	while (off < data.len) {
		if (nb == max_blocks) {
			nb = 0;
			break;
		}
		take = data.len - off < (size_t)max_block ? data.len - off : (size_t)max_block;
		if (off + take == data.len)
			term = ETX;                 /* last block of the transaction */
		else if (data.data[off + take - 1] == '\r')
			term = ETB;                 /* ends at a field boundary */
		else
			term = US;                  /* the field goes on in the next block */
		pg_buf_reset(&blocks[nb]);
		if (pg_buf_add(&blocks[nb], "\x02", 1) ||
		    pg_buf_add(&blocks[nb], data.data + off, take) ||
		    pg_buf_add(&blocks[nb], &term, 1)) {
			nb = 0;
			break;
		}
		pager_tap_checksum((const unsigned char *)blocks[nb].data, blocks[nb].len, sum);
		if (pg_buf_add(&blocks[nb], sum, 3) || pg_buf_add(&blocks[nb], "\r", 1)) {
			nb = 0;
			break;
		}
		off += take;
		nb++;
	}
	pg_buf_free(&data);
	return nb;
}

static speed_t
baud(int speed)
{
	switch (speed) {
	case 300: return B300;
	case 2400: return B2400;
	case 4800: return B4800;
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 115200: return B115200;
	default: return B1200;
	}
}

/* Opens and configures the line; false with t->why on failure. */
static bool
tap_open(struct tap *t)
{
	struct termios tio;
	char eb[128];

	t->fd = open(t->gw->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		snprintf(t->why, sizeof t->why, "cannot open %s: %s", t->gw->device,
			 strerror_r(errno, eb, sizeof eb));
		return false;
	}
	if (flock(t->fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(t->why, sizeof t->why, "%s is in use by another process",
			 t->gw->device);
		return false;
	}
	if (tcgetattr(t->fd, &tio) != 0) {
		snprintf(t->why, sizeof t->why, "%s is not a serial line: %s",
			 t->gw->device, strerror_r(errno, eb, sizeof eb));
		return false;
	}
	cfmakeraw(&tio);
	tio.c_cflag &= ~(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	tio.c_cflag |= CLOCAL | CREAD | HUPCL | (t->gw->seven_e1 ? (CS7 | PARENB) : CS8);
	/* TAP's operating environment: XON/XOFF flow control both ways */
	tio.c_iflag &= ~(IXANY | ISTRIP | INPCK);
	tio.c_iflag |= IXON | IXOFF;
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (cfsetispeed(&tio, baud(t->gw->speed)) != 0 ||
	    cfsetospeed(&tio, baud(t->gw->speed)) != 0 ||
	    tcsetattr(t->fd, TCSANOW, &tio) != 0) {
		snprintf(t->why, sizeof t->why, "cannot set %s to %d baud %s: %s",
			 t->gw->device, t->gw->speed, t->gw->seven_e1 ? "7E1" : "8N1",
			 strerror_r(errno, eb, sizeof eb));
		return false;
	}
	(void)tcflush(t->fd, TCIOFLUSH);
	return true;
}

static bool
tap_write(struct tap *t, const void *p, size_t n)
{
	const char *c = p;
	int64_t deadline = pg_mono_ms() + t->timeout_ms;
	struct pollfd pf = { .fd = t->fd, .events = POLLOUT };
	ssize_t w;
	char eb[128];

	while (n > 0) {
		int64_t left = deadline - pg_mono_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
			snprintf(t->why, sizeof t->why, "%s did not accept data within %d s",
				 t->gw->device, t->timeout_ms / MS_PER_S);
			return false;
		}
		w = write(t->fd, c, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0) {
			snprintf(t->why, sizeof t->why, "write to %s: %s", t->gw->device,
				 strerror_r(errno, eb, sizeof eb));
			return false;
		}
		c += w;
		n -= (size_t)w;
	}
	return true;
}

/* One byte (7 bits) within the deadline: 1, 0 on timeout, -1 on error. */
static int
tap_getc(struct tap *t, int64_t deadline, unsigned char *c)
{
	struct pollfd pf = { .fd = t->fd, .events = POLLIN };
	int64_t left;
	ssize_t r;
	int p;
	char eb[128];

	for (;;) {
		left = deadline - pg_mono_ms();
		if (left <= 0)
			return 0;
		p = poll(&pf, 1, (int)left);
		if (p == 0)
			return 0;
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0 || (pf.revents & (POLLERR | POLLNVAL))) {
			snprintf(t->why, sizeof t->why, "read from %s failed", t->gw->device);
			return -1;
		}
		r = read(t->fd, c, 1);
		if (r == 1) {
			*c &= 0x7f;
			return 1;
		}
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (pf.revents & POLLHUP || r == 0) {
			snprintf(t->why, sizeof t->why, "%s hung up", t->gw->device);
			return -1;
		}
		snprintf(t->why, sizeof t->why, "read from %s: %s", t->gw->device,
			 strerror_r(errno, eb, sizeof eb));
		return -1;
	}
}

/* Keeps printable message text (lines separated by "; "). */
static void
msg_add(struct pager_tap_rx *rx, unsigned char c)
{
	if (c == CR || c == LF) {
		if (rx->mlen > 0 && rx->msg[rx->mlen - 1] != ' ' && rx->mlen + 2 < sizeof rx->msg) {
			rx->msg[rx->mlen++] = ';';
			rx->msg[rx->mlen++] = ' ';
		}
	} else if (c >= 0x20 && c < 0x7f && rx->mlen + 1 < sizeof rx->msg) {
		rx->msg[rx->mlen++] = (char)c;
	}
	rx->msg[rx->mlen] = '\0';
}

const char *
pager_tap_rx_text(struct pager_tap_rx *rx)
{
	while (rx->mlen > 0 && (rx->msg[rx->mlen - 1] == ' ' || rx->msg[rx->mlen - 1] == ';'))
		rx->msg[--rx->mlen] = '\0';
	return rx->mlen ? rx->msg : "(no message from the terminal)";
}

enum pager_tap_resp
pager_tap_rx_byte(struct pager_tap_rx *rx, unsigned char c)
{
	c &= 0x7f;
	if (rx->esc_bracket) {
		rx->esc = rx->esc_bracket = false;
		return c == 'p' ? PAGER_TAP_GO : PAGER_TAP_MORE;
	}
	if (rx->esc) {
		rx->esc = false;
		if (c == EOT)
			return PAGER_TAP_EOT;
		if (c == '[')
			rx->esc_bracket = true;
		return PAGER_TAP_MORE;
	}
	switch (c) {
	case ACK: return PAGER_TAP_ACK;
	case NAK: return PAGER_TAP_NAK;
	case RS:  return PAGER_TAP_RS;
	case ESC: rx->esc = true; break;
	default:  msg_add(rx, c); break;
	}
	return PAGER_TAP_MORE;
}

void
pager_tap_rx_reset(struct pager_tap_rx *rx)
{
	rx->mlen = 0;
	rx->msg[0] = '\0';
}

/* Waits for the terminal's next response; message lines before it are
 * collected in t->rx. */
static enum tap_resp
tap_response(struct tap *t, int timeout_ms)
{
	int64_t deadline = pg_mono_ms() + timeout_ms;
	enum pager_tap_resp p;
	unsigned char c;
	int r;

	for (;;) {
		r = tap_getc(t, deadline, &c);
		if (r == 0) {
			snprintf(t->why, sizeof t->why, "no answer from the TAP terminal within "
				 "%d s", timeout_ms / MS_PER_S);
			return R_TIMEOUT;
		}
		if (r < 0)
			return R_IO;
		if ((p = pager_tap_rx_byte(&t->rx, c)) != PAGER_TAP_MORE)
			return (enum tap_resp)p;
	}
}

/* Hayes dialling: ATDT<number>, then CONNECT within a minute or more. */
static bool
tap_dial(struct tap *t)
{
	char cmd[64], line[80];
	size_t ll = 0;
	int64_t deadline;
	unsigned char c;
	int r, ms = t->timeout_ms > DIAL_MIN_MS ? t->timeout_ms : DIAL_MIN_MS;

	snprintf(cmd, sizeof cmd, "ATDT%s\r", t->gw->dial);
	if (!tap_write(t, cmd, strlen(cmd)))
		return false;
	deadline = pg_mono_ms() + ms;
	for (;;) {
		if ((r = tap_getc(t, deadline, &c)) <= 0) {
			if (r == 0)
				snprintf(t->why, sizeof t->why, "modem: no CONNECT within %d s",
					 ms / MS_PER_S);
			return false;
		}
		if (c != CR && c != LF) {
			if (ll + 1 < sizeof line)
				line[ll++] = (char)c;
			continue;
		}
		line[ll] = '\0';
		ll = 0;
		if (strncmp(line, "CONNECT", 7) == 0)
			return true;
		if (!strcmp(line, "NO CARRIER") || !strcmp(line, "BUSY") ||
		    !strcmp(line, "NO DIALTONE") || !strcmp(line, "NO DIAL TONE") ||
		    !strcmp(line, "NO ANSWER") || !strcmp(line, "ERROR")) {
			char shown[sizeof line];
			pg_text_oneline(shown, sizeof shown, line, sizeof line);
			snprintf(t->why, sizeof t->why, "modem: %s", shown);
			return false;
		}
	}
}

/* CR until "ID=", then the logon and the go-ahead. */
static bool
tap_logon(struct tap *t)
{
	int64_t deadline = pg_mono_ms() + t->timeout_ms, next = 0;
	char logon[32];
	unsigned char c;
	int r, tries, matched = 0;

	for (;;) {
		if (pg_mono_ms() >= next) {
			if (!tap_write(t, "\r", 1))
				return false;
			next = pg_mono_ms() + ID_INTERVAL_MS;
		}
		r = tap_getc(t, next < deadline ? next : deadline, &c);
		if (r < 0)
			return false;
		if (r == 0) {
			if (pg_mono_ms() >= deadline) {
				snprintf(t->why, sizeof t->why, "TAP terminal did not send ID= "
					 "within %d s", t->timeout_ms / MS_PER_S);
				return false;
			}
			continue;
		}
		matched = c == "ID="[matched] ? matched + 1 : c == 'I' ? 1 : 0;
		if (matched == 3)
			break;
	}
	snprintf(logon, sizeof logon, "\x1bPG1%s\r", t->gw->password ? t->gw->password : "");
	for (tries = 0; tries < LOGON_TRIES; tries++) {
		pager_tap_rx_reset(&t->rx);
		if (!tap_write(t, logon, strlen(logon)))
			return false;
		switch (tap_response(t, t->timeout_ms)) {
		case R_ACK:
			goto accepted;
		case R_NAK:
			continue;
		case R_EOT:
			snprintf(t->why, sizeof t->why, "TAP logon refused: %s", pager_tap_rx_text(&t->rx));
			return false;
		case R_TIMEOUT:
		case R_IO:
			return false;
		default:
			continue;
		}
	}
	snprintf(t->why, sizeof t->why, "TAP logon not accepted after %d tries: %s",
		 LOGON_TRIES, pager_tap_rx_text(&t->rx));
	return false;
accepted:
	for (;;) {
		switch (tap_response(t, t->timeout_ms)) {
		case R_GO:
			return true;
		case R_EOT:
			snprintf(t->why, sizeof t->why, "TAP terminal ended the session: %s",
				 pager_tap_rx_text(&t->rx));
			return false;
		case R_TIMEOUT:
		case R_IO:
			return false;
		default:
			continue;               /* stray ACKs before the go-ahead */
		}
	}
}

bool
pager_tap_refused_too_long(const char *msg, const char **num)
{
	const char *c517 = strstr(msg, "517");

	*num = c517 ? c517 + 3 : msg;
	return c517 || strcasestr(msg, "too long") || strcasestr(msg, "maximum") ||
	       strcasestr(msg, "exceed");
}

/* Sends the blocks of one page.  T_OK, T_RS (rejected: the session goes
 * on) or T_DEAD (the session cannot go on; the job's outcome is set). */
enum { T_OK, T_RS, T_DEAD };

static int
tap_blocks_send(struct tap *t, struct pg_job *j, struct pg_buf *blocks, size_t nb)
{
	size_t b;
	int sends;

	pager_tap_rx_reset(&t->rx);
	for (b = 0; b < nb; b++) {
		for (sends = 0;; ) {
			if (++sends > TAP_MAX_SENDS) {
				pg_job_set(j, PG_OUT_TEMP, "TAP block %zu refused %d times (NAK): "
					      "%s", b + 1, TAP_MAX_SENDS, pager_tap_rx_text(&t->rx));
				snprintf(t->why, sizeof t->why, "TAP block refused %d times",
					 TAP_MAX_SENDS);
				return T_DEAD;
			}
			if (!tap_write(t, blocks[b].data, blocks[b].len))
				goto dead;
			switch (tap_response(t, t->timeout_ms)) {
			case R_ACK:
				goto next_block;
			case R_NAK:
				pg_debug("tap %s: NAK for block %zu, sending again", t->gw->name, b + 1);
				continue;
			case R_RS:
				return T_RS;
			case R_EOT:
				pg_job_set(j, PG_OUT_TEMP, "TAP terminal ended the session: %s",
					      pager_tap_rx_text(&t->rx));
				snprintf(t->why, sizeof t->why, "TAP terminal ended the session");
				t->logout = false;
				return T_DEAD;
			case R_TIMEOUT:
			case R_IO:
				goto dead;
			default:
				continue;           /* a stray go-ahead: keep waiting */
			}
		}
next_block:
		;
	}
	return T_OK;
dead:
	pg_job_set(j, PG_OUT_TEMP, "%s", t->why);
	t->logout = false;
	return T_DEAD;
}

/* Sends one page; a page rejected for its length goes once more, cut to
 * the terminal's maximum (else a quarter shorter).  Returns false when
 * the session cannot go on. */
static bool
tap_page(struct tap *t, struct pg_job *j, const char *text, struct pg_buf *blocks)
{
	struct pager_limits lim = { .ascii = true };
	char *shorter = NULL;
	const char *num;
	size_t nb;
	bool ok = true;

	for (;;) {
		nb = pager_tap_blocks(j->address, text, t->gw->max_block, blocks, MAX_BLOCKS);
		if (nb == 0) {
			pg_job_set(j, PG_OUT_PERM, "page too long for TAP blocks");
			break;
		}
		switch (tap_blocks_send(t, j, blocks, nb)) {
		case T_OK:
			pg_job_set(j, PG_OUT_OK, "TAP accepted: %s", pager_tap_rx_text(&t->rx));
			goto out;
		case T_DEAD:
			ok = false;
			goto out;
		default:
			break;
		}
		pg_job_set(j, PG_OUT_PERM, "TAP page rejected: %s", pager_tap_rx_text(&t->rx));
		if (shorter || !pager_tap_refused_too_long(pager_tap_rx_text(&t->rx), &num))
			break;
		lim.max_cost = pager_recut_limit(strlen(text), num);
		if (!(shorter = pager_text_fit(text, &lim, true)) || !*shorter)
			break;
		pg_info("tap %s: delivery %lld rejected as too long (%zu characters): sending "
			"it again cut to %zu", t->gw->name, (long long)j->delivery_id,
			strlen(text), strlen(shorter));
		text = shorter;
	}
out:
	free(shorter);
	return ok;
}

/* EOT CR, then the terminal's ESC EOT (bounded; the pages are done). */
static void
tap_logout(struct tap *t)
{
	int64_t deadline = pg_mono_ms() + (t->timeout_ms < LOGOUT_MAX_MS ?
					   t->timeout_ms : LOGOUT_MAX_MS);
	enum tap_resp r;

	if (!tap_write(t, "\x04\r", 2))
		return;
	do {
		r = tap_response(t, (int)(deadline - pg_mono_ms() > 0 ?
					  deadline - pg_mono_ms() : 1));
	} while (r != R_EOT && r != R_TIMEOUT && r != R_IO);
	if (r != R_EOT)
		pg_debug("tap %s: no ESC EOT after logout", t->gw->name);
}

void
pager_tap_send(const struct pager_gw *gw, struct pg_job *jobs, char *const *texts,
	       size_t n)
{
	struct tap t;
	struct pg_buf *blocks;
	size_t i = 0, b;

	memset(&t, 0, sizeof t);
	t.gw = gw;
	t.fd = -1;
	t.timeout_ms = (gw->timeout_s > 0 ? gw->timeout_s : PAGER_DEFAULT_TIMEOUT_S) *
		       MS_PER_S;
	if (!(blocks = calloc(MAX_BLOCKS, sizeof *blocks))) {
		snprintf(t.why, sizeof t.why, "out of memory");
		goto fail_rest;
	}
	for (b = 0; b < MAX_BLOCKS; b++)
		pg_buf_init(&blocks[b], BLOCK_BYTES);
	if (!tap_open(&t) || (gw->dial && !tap_dial(&t)) || !tap_logon(&t))
		goto fail_rest;
	t.logout = true;
	for (; i < n; i++) {
		if (!tap_page(&t, &jobs[i], texts[i], blocks)) {
			i++;
			goto fail_rest;
		}
	}
	tap_logout(&t);
	goto out;
fail_rest:
	pg_warn("tap gateway %s (%s): %s", gw->name, gw->device, t.why);
	for (; i < n; i++)
		pg_job_set(&jobs[i], PG_OUT_TEMP, "not attempted: %s", t.why);
	if (t.logout)
		tap_logout(&t);
out:
	if (blocks) {
		for (b = 0; b < MAX_BLOCKS; b++)
			pg_buf_free(&blocks[b]);
		free(blocks);
	}
	if (t.fd >= 0)
		close(t.fd);
}
