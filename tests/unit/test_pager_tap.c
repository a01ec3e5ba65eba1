/*
 * test_pager_tap.c - the TAP/IXO client (src/pager_tap.c) against a TAP
 * paging terminal emulated in a thread on the master side of a
 * pseudo-terminal pair; the client opens the slave like a serial port.
 *
 * The emulation (tests/peers/tap_term.h, shared with the tap_terminal
 * peer) follows the published protocol, independently of the client's
 * code; each test scripts its answers per block (ACK, NAK, RS, ESC EOT).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../../src/chan/pager/pager_priv.h"
#include "../peers/tap_term.h"

/* ---- fixture: a pty pair, the terminal thread, a gateway ---- */

static struct fx {
	int master, slave;
	char path[64];
	pthread_t th;
	struct term term;
	struct pager_gw gw;
	struct pg_job jobs[4];
	char *texts[4];
} F;

static int
setup(void **state)
{
	struct termios tio;

	(void)state;
	memset(&F, 0, sizeof F);
	assert_int_equal(openpty(&F.master, &F.slave, F.path, NULL, NULL), 0);
	assert_int_equal(tcgetattr(F.slave, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(F.slave, TCSANOW, &tio), 0);
	F.term.fd = F.master;
	F.term.password = "A1B2C3";
	F.term.script = "";
	F.gw.name = "tap-test";
	F.gw.kind = PAGER_TAP;
	F.gw.device = F.path;
	F.gw.password = "A1B2C3";
	F.gw.speed = 1200;
	F.gw.seven_e1 = true;
	F.gw.max_block = PAGER_TAP_BLOCK_MAX;
	F.gw.timeout_s = 5;
	F.gw.ascii = true;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(F.slave);
	close(F.master);
	return 0;
}

static void
add_job(size_t i, const char *pin, const char *text)
{
	F.jobs[i].delivery_id = 100 + (int64_t)i;
	F.jobs[i].address = pin;
	F.jobs[i].outcome = PG_OUT__COUNT;      /* must be set by the client */
	F.texts[i] = (char *)text;
}

static void
run(size_t n)
{
	assert_int_equal(pthread_create(&F.th, NULL, terminal, &F.term), 0);
	pager_tap_send(&F.gw, F.jobs, F.texts, n);
	assert_int_equal(pthread_join(F.th, NULL), 0);
	assert_string_equal(F.term.error, "");
	assert_int_equal(F.term.bad_sums, 0);
}

/* ---- tests ---- */

/* TAP 1.8's worked example: <STX>123<CR>ABC<CR><ETX> has checksum "17;"
 * (sum 0x17B: nibbles 1, 7, B -> '1' '7' ';'). */
static void
test_checksum_spec_example(void **state)
{
	const unsigned char blk[] = "\x02" "123\r" "ABC\r" "\x03";
	char out[4];

	(void)state;
	pager_tap_checksum(blk, sizeof blk - 1, out);
	assert_string_equal(out, "17;");
	/* only the 7 low bits of each character count */
	const unsigned char hi[] = { 0x02, 0x80 | '1', 0x03 };
	pager_tap_checksum(hi, 3, out);
	assert_string_equal(out, "036");        /* 2 + 49 + 3 = 54 = 0x036 */
}

static void
test_blocks_split(void **state)
{
	struct pg_buf b[8];
	char sum[4];
	size_t n, i;

	(void)state;
	for (i = 0; i < 8; i++)
		pg_buf_init(&b[i], 512);
	/* one block: STX pin CR text CR ETX sum CR */
	n = pager_tap_blocks("1234", "HELLO", 250, b, 8);
	assert_int_equal(n, 1);
	pager_tap_checksum((unsigned char *)b[0].data, b[0].len - 4, sum);
	assert_memory_equal(b[0].data, "\x02" "1234\rHELLO\r\x03", 13);
	assert_memory_equal(b[0].data + 13, sum, 3);
	assert_int_equal(b[0].data[16], '\r');
	assert_int_equal(b[0].len, 17);
	/* 16 data characters a block: "1234\r" + 20-char text + "\r" = 26 */
	n = pager_tap_blocks("1234", "ABCDEFGHIJKLMNOPQRST", 16, b, 8);
	assert_int_equal(n, 2);
	assert_memory_equal(b[0].data, "\x02" "1234\rABCDEFGHIJK\x1f", 18);   /* US: field goes on */
	assert_memory_equal(b[1].data, "\x02" "LMNOPQRST\r\x03", 12);
	/* a block that ends at a field boundary ends with ETB */
	n = pager_tap_blocks("123456789012345", "XY", 16, b, 8);
	assert_int_equal(n, 2);
	assert_memory_equal(b[0].data, "\x02" "123456789012345\r\x17", 18);
	assert_memory_equal(b[1].data, "\x02" "XY\r\x03", 5);
	/* too many blocks needed */
	assert_int_equal(pager_tap_blocks("1", "0123456789012345678901234567890123456789",
					  16, b, 2), 0);
	for (i = 0; i < 8; i++)
		pg_buf_free(&b[i]);
}

static void
test_session_two_pages(void **state)
{
	(void)state;
	add_job(0, "4412", "URGENT Acme ACK 482913 / Ann 555-0100 / Furnace out");
	add_job(1, "77", "routine Acme ACK 111111 / call back");
	run(2);
	assert_int_equal(F.term.logons, 1);
	assert_int_equal(F.term.logouts, 1);
	assert_int_equal(F.term.pages, 2);
	assert_string_equal(F.term.pin[0], "4412");
	assert_string_equal(F.term.text[0], "URGENT Acme ACK 482913 / Ann 555-0100 / Furnace out");
	assert_string_equal(F.term.pin[1], "77");
	assert_string_equal(F.term.text[1], "routine Acme ACK 111111 / call back");
	assert_int_equal(F.jobs[0].outcome, PG_OUT_OK);
	assert_string_equal(F.jobs[0].reply, "TAP accepted: 211 Page(s) Sent Successfully");
	assert_int_equal(F.jobs[1].outcome, PG_OUT_OK);
}

static void
test_multiblock_reassembled(void **state)
{
	char text[301];

	(void)state;
	for (int i = 0; i < 300; i++)
		text[i] = (char)('A' + i % 26);
	text[300] = '\0';
	F.gw.max_block = 40;
	add_job(0, "4412", text);
	run(1);
	assert_int_equal(F.term.blocks, 8);     /* 4+1+300+1 = 306 chars / 40 */
	assert_int_equal(F.term.pages, 1);
	assert_string_equal(F.term.text[0], text);
	assert_int_equal(F.jobs[0].outcome, PG_OUT_OK);
}

static void
test_nak_forces_retransmit(void **state)
{
	(void)state;
	F.term.script = "NA";
	add_job(0, "4412", "HELLO");
	run(1);
	assert_int_equal(F.term.blocks, 2);     /* the same block twice */
	assert_int_equal(F.term.pages, 1);
	assert_string_equal(F.term.text[0], "HELLO");
	assert_int_equal(F.jobs[0].outcome, PG_OUT_OK);
}

static void
test_nak_bounded(void **state)
{
	(void)state;
	F.term.script = "NNNN";
	add_job(0, "4412", "HELLO");
	add_job(1, "77", "NEXT");
	run(2);
	assert_int_equal(F.term.blocks, 3);     /* three sends, then give up */
	assert_int_equal(F.term.pages, 0);
	assert_int_equal(F.jobs[0].outcome, PG_OUT_TEMP);
	assert_non_null(strstr(F.jobs[0].reply, "refused 3 times"));
	assert_int_equal(F.jobs[1].outcome, PG_OUT_TEMP);
	assert_non_null(strstr(F.jobs[1].reply, "not attempted"));
	assert_int_equal(F.term.logouts, 1);
}

static void
test_rs_rejects_page(void **state)
{
	(void)state;
	F.term.script = "RA";
	add_job(0, "999", "TO NOBODY");
	add_job(1, "4412", "HELLO");
	run(2);
	assert_int_equal(F.jobs[0].outcome, PG_OUT_PERM);
	assert_string_equal(F.jobs[0].reply, "TAP page rejected: 501 Invalid pager ID");
	assert_int_equal(F.jobs[1].outcome, PG_OUT_OK);
	assert_int_equal(F.term.pages, 1);
	assert_string_equal(F.term.pin[0], "4412");
	assert_int_equal(F.term.logouts, 1);
}

/* TAP 1.8's 517: the page goes once more, cut to the terminal's maximum
 * at a word, marked; a second 517 stands, and the session goes on. */
static void
test_517_cut_shorter(void **state)
{
	(void)state;
	F.term.max_chars = 24;
	add_job(0, "4412", "urgent Acme / Ann 555-0100 / Furnace out");
	add_job(1, "77", "short");
	run(2);
	assert_int_equal(F.term.too_long, 1);
	assert_int_equal(F.term.pages, 2);
	assert_string_equal(F.term.text[0], "urgent Acme / Ann...");
	assert_int_equal(F.jobs[0].outcome, PG_OUT_OK);
	assert_string_equal(F.term.text[1], "short");
	assert_int_equal(F.jobs[1].outcome, PG_OUT_OK);
}

static void
test_terminal_hangs_up(void **state)
{
	(void)state;
	F.term.script = "E";
	add_job(0, "4412", "HELLO");
	add_job(1, "77", "NEXT");
	run(2);
	assert_int_equal(F.jobs[0].outcome, PG_OUT_TEMP);
	assert_non_null(strstr(F.jobs[0].reply, "ended the session"));
	assert_int_equal(F.jobs[1].outcome, PG_OUT_TEMP);
	assert_int_equal(F.term.logouts, 0);
}

static void
test_wrong_password_refused(void **state)
{
	(void)state;
	F.gw.password = "WRONG1";
	add_job(0, "4412", "HELLO");
	assert_int_equal(pthread_create(&F.th, NULL, terminal, &F.term), 0);
	pager_tap_send(&F.gw, F.jobs, F.texts, 1);
	assert_int_equal(pthread_join(F.th, NULL), 0);
	assert_int_equal(F.jobs[0].outcome, PG_OUT_TEMP);
	assert_non_null(strstr(F.jobs[0].reply, "TAP logon refused"));
	assert_int_equal(F.term.pages, 0);
}

static void
test_no_terminal_times_out(void **state)
{
	int64_t t0;

	(void)state;
	F.term.silent = true;
	F.gw.timeout_s = 1;
	add_job(0, "4412", "HELLO");
	assert_int_equal(pthread_create(&F.th, NULL, terminal, &F.term), 0);
	t0 = pg_mono_ms();
	pager_tap_send(&F.gw, F.jobs, F.texts, 1);
	assert_true(pg_mono_ms() - t0 < 3000);
	close(F.slave);                          /* ends the silent reader */
	F.slave = -1;
	assert_int_equal(F.jobs[0].outcome, PG_OUT_TEMP);
	assert_non_null(strstr(F.jobs[0].reply, "did not send ID="));
	assert_int_equal(pthread_join(F.th, NULL), 0);
}

static void
test_modem_dial(void **state)
{
	(void)state;
	F.term.modem = true;
	F.gw.dial = "5551234";
	add_job(0, "4412", "HELLO");
	run(1);
	assert_string_equal(F.term.dialled, "ATDT5551234");
	assert_int_equal(F.jobs[0].outcome, PG_OUT_OK);
}

/* The line is opened and set up afresh for every batch. */
static void
test_two_sessions(void **state)
{
	(void)state;
	F.gw.seven_e1 = false;
	add_job(0, "4412", "FIRST");
	run(1);
	assert_int_equal(F.jobs[0].outcome, PG_OUT_OK);
	memset(&F.term, 0, sizeof F.term);
	F.term.fd = F.master;
	F.term.password = "A1B2C3";
	F.term.script = "";
	add_job(0, "4413", "SECOND");
	run(1);
	assert_int_equal(F.jobs[0].outcome, PG_OUT_OK);
	assert_int_equal(F.term.pages, 1);
	assert_string_equal(F.term.pin[0], "4413");
	assert_string_equal(F.term.text[0], "SECOND");
}

static void
test_missing_device(void **state)
{
	(void)state;
	F.gw.device = "/nonexistent/ttyX";
	add_job(0, "4412", "HELLO");
	pager_tap_send(&F.gw, F.jobs, F.texts, 1);
	assert_int_equal(F.jobs[0].outcome, PG_OUT_TEMP);
	assert_non_null(strstr(F.jobs[0].reply, "cannot open /nonexistent/ttyX"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_spec_example),
		cmocka_unit_test(test_blocks_split),
		cmocka_unit_test_setup_teardown(test_session_two_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiblock_reassembled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nak_forces_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nak_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rs_rejects_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_517_cut_shorter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminal_hangs_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_terminal_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modem_dial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_device, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
