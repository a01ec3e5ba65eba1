/*
 * test_fax_t30.c - the T.30 sender session (fax_t30.c) against a
 * receiving fax machine built on spandsp directly, in process: audio
 * back to back (fax_state_t both ends exchanging G.711-rate samples) and
 * T.38 back to back (two t38_terminal_state_t without pacing).  A 3-page
 * TIFF goes through; the receiver's TIFF has the same pages, size and
 * pixels.  Then the failures: a silent line and a noisy line end by the
 * watchdog (temporary), a line that stays silent past T.30's own timers
 * ends with its completion code (temporary), a receiver that cannot take
 * fine resolution fails permanently, a hang-up mid-call is temporary
 * with the pages so far, and the outcome table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <spandsp.h>

#include "../../src/chan/fax/fax.h"
#include "pagegate/util.h"

#define CHUNK        160                 /* 20 ms */
#define MAX_SECONDS  600                 /* bound on any simulated call */
#define RX_IDENT     "+1 555 555 0100"
#define TX_IDENT     "PAGEGATE TEST"

static char tmpdir[] = "/tmp/test_fax_t30.XXXXXX";
static char tx_tif[300], rx_tif[300];

/* ---- the receiving machine, on spandsp alone ---- */

struct rcv {
	fax_state_t *fax;
	t38_terminal_state_t *t38;
	t30_state_t *t30;
	bool done;
	int code;
};

static void
rcv_phase_e(t30_state_t *t30, void *user, int code)
{
	struct rcv *r = user;
	(void)t30;
	r->done = true;
	r->code = code;
}

static void
rcv_setup(struct rcv *r, int resolutions)
{
	t30_set_tx_ident(r->t30, RX_IDENT);
	t30_set_rx_file(r->t30, rx_tif, -1);
	t30_set_ecm_capability(r->t30, 1);
	t30_set_supported_compressions(r->t30, T30_SUPPORT_T4_1D_COMPRESSION |
				       T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION);
	if (resolutions)
		t30_set_supported_resolutions(r->t30, resolutions);
	t30_set_phase_e_handler(r->t30, rcv_phase_e, r);
}

static void
rcv_audio(struct rcv *r, int resolutions)
{
	memset(r, 0, sizeof *r);
	assert_non_null(r->fax = fax_init(NULL, 0));
	fax_set_transmit_on_idle(r->fax, 1);
	r->t30 = fax_get_t30_state(r->fax);
	rcv_setup(r, resolutions);
}

static void
rcv_free(struct rcv *r)
{
	if (r->fax)
		fax_free(r->fax);
	if (r->t38)
		t38_terminal_free(r->t38);
}

/* ---- fixtures ---- */

static int
setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(tx_tif, sizeof tx_tif, "%s/tx.tif", tmpdir);
	snprintf(rx_tif, sizeof rx_tif, "%s/rx.tif", tmpdir);

	/* three pages of text */
	struct pg_buf b;
	struct pg_fax_doc *d;
	char err[256];
	pg_buf_init(&b, 1 << 16);
	pg_buf_printf(&b, "Test Clinic | Message 7\n# Three pages\n");
	for (int i = 1; i <= 120; i++)
		pg_buf_printf(&b, "Line %03d: the furnace is out at 12 Elm St.\n", i);
	if (pg_fax_layout(b.data, NULL, &d, err, sizeof err) != PG_OK)
		return -1;
	pg_buf_free(&b);
	int pages = pg_fax_doc_pages(d);
	pg_err e = pg_fax_tiff_write(d, PG_FAX_MR, tx_tif, err, sizeof err);
	pg_fax_doc_free(d);
	return pages == 3 && e == PG_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct pg_fax_tx *
sender(enum pg_fax_media m, int64_t watchdog_ms, pg_fax_t38_send send, void *arg)
{
	struct pg_fax_tx_opts o = {
		.tiff = tx_tif, .local_id = TX_IDENT, .no_pacing = true,
		.watchdog_ms = watchdog_ms,
	};
	struct pg_fax_tx *tx = NULL;
	assert_int_equal(pg_fax_tx_new(m, &o, send, arg, &tx), PG_OK);
	return tx;
}

/* The receiver's TIFF holds the pages we sent, pixel for pixel. */
static void
assert_received_same(void)
{
	struct pg_fax_tiff_info a, b;
	char err[256];

	assert_int_equal(pg_fax_tiff_check(tx_tif, &a, err, sizeof err), PG_OK);
	if (pg_fax_tiff_check(rx_tif, &b, err, sizeof err) != PG_OK)
		fail_msg("received TIFF: %s", err);
	assert_int_equal(b.pages, 3);
	assert_int_equal(b.width, 1728);
	assert_int_equal(b.height, a.height);
	assert_true(b.yres > 190 && b.yres < 200);
	for (int p = 1; p <= 3; p++) {
		struct pg_fax_page x, y;
		assert_int_equal(pg_fax_tiff_read(tx_tif, p, &x, err, sizeof err), PG_OK);
		assert_int_equal(pg_fax_tiff_read(rx_tif, p, &y, err, sizeof err), PG_OK);
		assert_int_equal(x.height, y.height);
		assert_memory_equal(x.bits, y.bits, (size_t)x.height * x.stride);
		pg_fax_page_free(&x);
		pg_fax_page_free(&y);
	}
}

/* Runs sender and receiver back to back over audio until both are done
 * (or stop_after_rx_pages pages reached the receiver). */
static void
run_audio(struct pg_fax_tx *tx, struct rcv *r, int stop_after_rx_pages)
{
	int16_t a2b[CHUNK] = { 0 }, b2a[CHUNK] = { 0 };
	t30_stats_t st;

	for (int i = 0; i < MAX_SECONDS * 50; i++) {
		pg_fax_tx_audio(tx, b2a, a2b, CHUNK);
		fax_rx(r->fax, a2b, CHUNK);
		int n = fax_tx(r->fax, b2a, CHUNK);
		if (n < CHUNK)
			memset(b2a + n, 0, (CHUNK - n) * sizeof b2a[0]);
		if (stop_after_rx_pages) {
			t30_get_transfer_statistics(r->t30, &st);
			if (st.pages_rx >= stop_after_rx_pages)
				return;
		}
		if (pg_fax_tx_done(tx) && r->done)
			return;
	}
	fail_msg("the call did not end in %d simulated seconds", MAX_SECONDS);
}

static void
test_audio_back_to_back(void **state)
{
	(void)state;
	struct rcv r;
	struct pg_fax_result res;
	clock_t c0 = clock();

	rcv_audio(&r, 0);
	struct pg_fax_tx *tx = sender(PG_FAX_AUDIO, 0, NULL, NULL);
	run_audio(tx, &r, 0);
	pg_fax_tx_result(tx, NULL, &res);
	double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
	double media = pg_fax_tx_elapsed_ms(tx) / 1000.0;
	print_message("audio call: %.1f s of call in %.2f s CPU (%.0fx real time)\n",
		      media, cpu, media / (cpu > 0 ? cpu : 1e-3));
	assert_int_equal(res.outcome, PG_OUT_OK);
	assert_int_equal(res.t30_code, T30_ERR_OK);
	assert_int_equal(res.pages_sent, 3);
	assert_int_equal(res.pages_total, 3);
	assert_int_equal(res.bit_rate, 14400);
	assert_true(res.ecm);
	assert_string_equal(res.remote_id, RX_IDENT);
	assert_string_equal(res.text, "OK");
	assert_int_equal(r.code, T30_ERR_OK);
	assert_string_equal(t30_get_rx_ident(r.t30), TX_IDENT);
	char line[256];
	pg_fax_result_format(&res, line, sizeof line);
	assert_string_equal(line, "OK: 3 of 3 pages, 14400 bit/s, ECM, remote \"" RX_IDENT "\"");
	pg_fax_tx_free(tx);
	rcv_free(&r);
	assert_received_same();
	unlink(rx_tif);
}

/* ---- T.38: packets queued between the two terminals ---- */

#define QMAX 4096
struct pkt { uint8_t b[512]; int len; };
struct queue { struct pkt p[QMAX]; int head, tail; uint16_t seq; };
static struct queue q_ab, q_ba;      /* sender -> receiver, receiver -> sender */

static void
q_put(struct queue *q, const uint8_t *b, int len, int count)
{
	for (int i = 0; i < count; i++) {
		assert_true(len > 0 && len <= (int)sizeof q->p[0].b);
		assert_true((q->tail + 1) % QMAX != q->head);
		memcpy(q->p[q->tail].b, b, (size_t)len);
		q->p[q->tail].len = len;
		q->tail = (q->tail + 1) % QMAX;
	}
}

static void
tx_send(void *arg, const uint8_t *ifp, int len, int count)
{
	(void)arg;
	q_put(&q_ab, ifp, len, count);
}

static int
rcv_send(t38_core_state_t *s, void *user, const uint8_t *buf, int len, int count)
{
	(void)s;
	(void)user;
	q_put(&q_ba, buf, len, count > 0 ? count : 1);
	return 0;
}

static void
test_t38_back_to_back(void **state)
{
	(void)state;
	struct rcv r;
	struct pg_fax_result res;
	clock_t c0 = clock();

	memset(&q_ab, 0, sizeof q_ab);
	memset(&q_ba, 0, sizeof q_ba);
	memset(&r, 0, sizeof r);
	assert_non_null(r.t38 = t38_terminal_init(NULL, 0, rcv_send, &r));
	t38_terminal_set_config(r.t38, T38_TERMINAL_OPTION_NO_PACING);
	r.t30 = t38_terminal_get_t30_state(r.t38);
	rcv_setup(&r, 0);
	struct pg_fax_tx *tx = sender(PG_FAX_T38, 0, tx_send, NULL);

	int i;
	for (i = 0; i < MAX_SECONDS * 50 && !(pg_fax_tx_done(tx) && r.done); i++) {
		pg_fax_tx_t38_tick(tx, CHUNK);
		t38_terminal_send_timeout(r.t38, CHUNK);
		while (q_ab.head != q_ab.tail) {
			struct pkt *p = &q_ab.p[q_ab.head];
			q_ab.head = (q_ab.head + 1) % QMAX;
			t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(r.t38),
					       p->b, p->len, q_ab.seq++);
		}
		while (q_ba.head != q_ba.tail) {
			struct pkt *p = &q_ba.p[q_ba.head];
			q_ba.head = (q_ba.head + 1) % QMAX;
			pg_fax_tx_t38_rx(tx, p->b, p->len, q_ba.seq++);
		}
	}
	assert_true(pg_fax_tx_done(tx) && r.done);
	pg_fax_tx_result(tx, NULL, &res);
	double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
	print_message("T.38 call: %.1f s of call in %.3f s CPU\n",
		      pg_fax_tx_elapsed_ms(tx) / 1000.0, cpu);
	assert_int_equal(res.outcome, PG_OUT_OK);
	assert_int_equal(res.pages_sent, 3);
	assert_int_equal(res.pages_total, 3);
	assert_int_equal(res.bit_rate, 14400);
	assert_string_equal(res.remote_id, RX_IDENT);
	assert_int_equal(r.code, T30_ERR_OK);
	pg_fax_tx_free(tx);
	rcv_free(&r);
	assert_received_same();
	unlink(rx_tif);
}

/* A line with only silence: nobody answers; the watchdog ends the call
 * after exactly its limit of call time. */
static void
test_silent_line_watchdog(void **state)
{
	(void)state;
	int16_t out[CHUNK];
	struct pg_fax_result res;
	struct pg_fax_tx *tx = sender(PG_FAX_AUDIO, 20000, NULL, NULL);
	int i;

	for (i = 0; i < MAX_SECONDS * 50 && !pg_fax_tx_done(tx); i++)
		pg_fax_tx_audio(tx, NULL, out, CHUNK);
	assert_true(pg_fax_tx_done(tx));
	assert_int_equal(pg_fax_tx_elapsed_ms(tx), 20000);
	pg_fax_tx_result(tx, NULL, &res);
	assert_int_equal(res.outcome, PG_OUT_TEMP);
	assert_int_equal(res.t30_code, -1);
	assert_int_equal(res.pages_sent, 0);
	assert_string_equal(res.text, "watchdog: no end of call after 20 s");
	pg_fax_tx_free(tx);
}

/* The far end answers and takes a page, then the line turns to
 * continuous noise at -30 dBm0: T.30 never reaches phase E by itself
 * (spandsp keeps waiting), so the watchdog ends the call at its limit.
 * Noise from the start instead ends with T.30's own T0 timeout. */
static void
test_noisy_line_watchdog(void **state)
{
	(void)state;
	int16_t in[CHUNK], out[CHUNK];
	struct pg_fax_result res;
	struct rcv r;
	awgn_state_t *noise = awgn_init_dbm0(NULL, 1234567, -30.0f);
	struct pg_fax_tx *tx = sender(PG_FAX_AUDIO, 300000, NULL, NULL);
	int i;

	assert_non_null(noise);
	rcv_audio(&r, 0);
	run_audio(tx, &r, 1);
	for (i = 0; i < MAX_SECONDS * 50 && !pg_fax_tx_done(tx); i++) {
		for (int k = 0; k < CHUNK; k++)
			in[k] = awgn(noise);
		pg_fax_tx_audio(tx, in, out, CHUNK);
	}
	pg_fax_tx_result(tx, NULL, &res);
	assert_int_equal(res.outcome, PG_OUT_TEMP);
	assert_int_equal(res.t30_code, -1);
	assert_string_equal(res.text, "watchdog: no end of call after 300 s");
	assert_int_equal(pg_fax_tx_elapsed_ms(tx), 300000);
	assert_string_equal(res.remote_id, RX_IDENT);
	pg_fax_tx_free(tx);
	rcv_free(&r);
	unlink(rx_tif);

	tx = sender(PG_FAX_AUDIO, 300000, NULL, NULL);
	for (i = 0; i < MAX_SECONDS * 50 && !pg_fax_tx_done(tx); i++) {
		for (int k = 0; k < CHUNK; k++)
			in[k] = awgn(noise);
		pg_fax_tx_audio(tx, in, out, CHUNK);
	}
	pg_fax_tx_result(tx, NULL, &res);
	assert_int_equal(res.t30_code, T30_ERR_T0_EXPIRED);
	assert_int_equal(res.outcome, PG_OUT_TEMP);
	pg_fax_tx_free(tx);
	awgn_free(noise);
}

/* Silence with a long watchdog: T.30's own timer gives up first, with a
 * completion code that counts as temporary. */
static void
test_silent_line_t30_timeout(void **state)
{
	(void)state;
	int16_t out[CHUNK];
	struct pg_fax_result res;
	struct pg_fax_tx *tx = sender(PG_FAX_AUDIO, 10 * 60 * 1000, NULL, NULL);

	for (int i = 0; i < MAX_SECONDS * 50 && !pg_fax_tx_done(tx); i++)
		pg_fax_tx_audio(tx, NULL, out, CHUNK);
	pg_fax_tx_result(tx, NULL, &res);
	assert_true(res.t30_code == T30_ERR_T0_EXPIRED || res.t30_code == T30_ERR_T1_EXPIRED);
	assert_int_equal(res.outcome, PG_OUT_TEMP);
	assert_string_equal(res.text, t30_completion_code_to_str(res.t30_code));
	assert_true(pg_fax_tx_elapsed_ms(tx) < 10 * 60 * 1000);
	pg_fax_tx_free(tx);
}

/* A receiver that only takes standard resolution cannot print our fine
 * pages: a permanent failure, with no page sent. */
static void
test_incompatible_receiver(void **state)
{
	(void)state;
	struct rcv r;
	struct pg_fax_result res;

	rcv_audio(&r, T30_SUPPORT_STANDARD_RESOLUTION);
	struct pg_fax_tx *tx = sender(PG_FAX_AUDIO, 0, NULL, NULL);
	run_audio(tx, &r, 0);
	pg_fax_tx_result(tx, NULL, &res);
	assert_int_equal(res.t30_code, T30_ERR_NORESSUPPORT);
	assert_int_equal(res.outcome, PG_OUT_PERM);
	assert_int_equal(res.pages_sent, 0);
	assert_string_equal(res.text, t30_completion_code_to_str(T30_ERR_NORESSUPPORT));
	pg_fax_tx_free(tx);
	rcv_free(&r);
	unlink(rx_tif);
}

/* The far end hangs up after the first page arrived: temporary, with the
 * reason and the page count. */
static void
test_hangup_mid_call(void **state)
{
	(void)state;
	struct rcv r;
	struct pg_fax_result res;

	rcv_audio(&r, 0);
	struct pg_fax_tx *tx = sender(PG_FAX_AUDIO, 0, NULL, NULL);
	run_audio(tx, &r, 1);
	assert_false(pg_fax_tx_done(tx));
	pg_fax_tx_result(tx, "far end hung up", &res);
	assert_int_equal(res.outcome, PG_OUT_TEMP);
	assert_true(res.pages_sent >= 0 && res.pages_sent < 3);
	assert_int_equal(res.pages_total, 3);
	assert_true(strncmp(res.text, "far end hung up", 15) == 0);
	pg_fax_tx_free(tx);
	rcv_free(&r);
	unlink(rx_tif);
}

static void
test_outcomes(void **state)
{
	(void)state;
	static const struct { int code; enum pg_outcome o; } t[] = {
		{ T30_ERR_OK, PG_OUT_OK },
		{ T30_ERR_NOSIZESUPPORT, PG_OUT_PERM },
		{ T30_ERR_NORESSUPPORT, PG_OUT_PERM },
		{ T30_ERR_INCOMPATIBLE, PG_OUT_PERM },
		{ T30_ERR_RX_INCAPABLE, PG_OUT_PERM },
		{ T30_ERR_BADTIFF, PG_OUT_PERM },
		{ T30_ERR_FILEERROR, PG_OUT_PERM },
		{ T30_ERR_PWD_UNACCEPTABLE, PG_OUT_PERM },
		{ T30_ERR_T0_EXPIRED, PG_OUT_TEMP },
		{ T30_ERR_T1_EXPIRED, PG_OUT_TEMP },
		{ T30_ERR_CANNOT_TRAIN, PG_OUT_TEMP },
		{ T30_ERR_CALLDROPPED, PG_OUT_TEMP },
		{ T30_ERR_TX_PHDDEAD, PG_OUT_TEMP },
		{ T30_ERR_RETRYDCN, PG_OUT_TEMP },
		{ T30_ERR_HDLC_CARRIER, PG_OUT_TEMP },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		assert_int_equal(pg_fax_t30_outcome(t[i].code), t[i].o);

	struct pg_fax_result r = { .pages_total = 1 };
	char line[256];
	pg_strlcpy(r.text, "watchdog: no end of call after 300 s", sizeof r.text);
	pg_fax_result_format(&r, line, sizeof line);
	assert_string_equal(line, "watchdog: no end of call after 300 s: 0 of 1 page");
	struct pg_fax_tx *tx = NULL;
	struct pg_fax_tx_opts o = { 0 };
	assert_int_equal(pg_fax_tx_new(PG_FAX_AUDIO, &o, NULL, NULL, &tx), PG_ERR_INVAL);
	o.tiff = tx_tif;
	assert_int_equal(pg_fax_tx_new(PG_FAX_T38, &o, NULL, NULL, &tx), PG_ERR_INVAL);
	assert_null(tx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audio_back_to_back),
		cmocka_unit_test(test_t38_back_to_back),
		cmocka_unit_test(test_silent_line_watchdog),
		cmocka_unit_test(test_noisy_line_watchdog),
		cmocka_unit_test(test_silent_line_t30_timeout),
		cmocka_unit_test(test_incompatible_receiver),
		cmocka_unit_test(test_hangup_mid_call),
		cmocka_unit_test(test_outcomes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
