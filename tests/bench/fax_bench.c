/*
 * fax_bench.c - the fax channel's costs, for `make bench`:
 *
 *   1. render + encode: a one-page message laid out with FreeType and
 *      written as TIFF-F (MH, MR, MMR), in pages per second of CPU on one
 *      core, against the ceiling of libtiff encoding the same bitmap alone
 *   2. one simulated 3-page T.30 call, sender and receiver back to back in
 *      process (G.711 audio modems, and T.38 without pacing): CPU time and
 *      how many times faster than the call's real duration
 *
 *   fax_bench [SECONDS]       (per measurement, default 2)
 * Any error exits 1; slowness never does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <spandsp.h>
#include <tiffio.h>

#include "../../src/chan/fax/fax.h"
#include "pagegate/util.h"

#define CHUNK 160

static char dir[] = "/tmp/fax_bench.XXXXXX";
static char path[300];

static double
cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *
message(int lines)
{
	static char buf[16384];
	size_t o = 0;

	o += (size_t)snprintf(buf + o, sizeof buf - o, "Acme Heating & Cooling | Message 4242 | "
			      "Received 2026-11-22 09:34 (-06:00)\n# urgent message for Acme "
			      "Heating & Cooling\n\nCaller:\tJürgen Müller\nCall back:\t+1 (555) "
			      "555-0142\nCompany:\tMüller & Söhne\n---\n");
	for (int i = 0; i < lines && o < sizeof buf - 200; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "Furnace out at 12 Elm St, "
				      "Apt 3 - three kids at home, kitchen cold, please call "
				      "back before 6 pm (line %d).\n", i + 1);
	snprintf(buf + o, sizeof buf - o, "---\nService address: 12 Elm St, Apt 3\n");
	return buf;
}

/* Pages per CPU second of layout + render + TIFF for coding c. */
static double
render_rate(enum pg_fax_coding c, double seconds)
{
	char err[256];
	long pages = 0;
	double t0 = cpu_s(), t;

	do {
		struct pg_fax_doc *d;
		if (pg_fax_layout(message(20), NULL, &d, err, sizeof err) != PG_OK ||
		    pg_fax_tiff_write(d, c, path, err, sizeof err) != PG_OK) {
			fprintf(stderr, "fax_bench: %s\n", err);
			exit(1);
		}
		pages += pg_fax_doc_pages(d);
		pg_fax_doc_free(d);
	} while ((t = cpu_s() - t0) < seconds);
	return (double)pages / t;
}

/* Pages per CPU second of libtiff encoding an already rendered page. */
static double
encode_rate(enum pg_fax_coding c, double seconds)
{
	struct pg_fax_doc *d;
	struct pg_fax_page pg;
	char err[256];
	long pages = 0;
	double t0, t;

	if (pg_fax_layout(message(20), NULL, &d, err, sizeof err) != PG_OK ||
	    pg_fax_doc_render(d, 1, &pg) != PG_OK) {
		fprintf(stderr, "fax_bench: %s\n", err);
		exit(1);
	}
	pg_fax_doc_free(d);
	t0 = cpu_s();
	do {
		TIFF *tf = TIFFOpen(path, "w");
		if (!tf)
			exit(1);
		TIFFSetField(tf, TIFFTAG_IMAGEWIDTH, (uint32_t)pg.width);
		TIFFSetField(tf, TIFFTAG_IMAGELENGTH, (uint32_t)pg.height);
		TIFFSetField(tf, TIFFTAG_BITSPERSAMPLE, 1);
		TIFFSetField(tf, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(tf, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
		TIFFSetField(tf, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
		TIFFSetField(tf, TIFFTAG_ROWSPERSTRIP, (uint32_t)pg.height);
		TIFFSetField(tf, TIFFTAG_COMPRESSION, c == PG_FAX_MMR ? COMPRESSION_CCITTFAX4 :
			     COMPRESSION_CCITTFAX3);
		if (c != PG_FAX_MMR)
			TIFFSetField(tf, TIFFTAG_GROUP3OPTIONS, c == PG_FAX_MR ? GROUP3OPT_2DENCODING : 0);
		for (int y = 0; y < pg.height; y++)
			if (TIFFWriteScanline(tf, pg.bits + (size_t)y * pg.stride, (uint32_t)y, 0) < 0)
				exit(1);
		TIFFClose(tf);
		pages++;
	} while ((t = cpu_s() - t0) < seconds);
	pg_fax_page_free(&pg);
	return (double)pages / t;
}

/* ---- one simulated call ---- */

static bool rx_done;
static void rx_phase_e(t30_state_t *s, void *u, int c) { (void)s; (void)u; (void)c; rx_done = true; }

struct q { uint8_t b[4096][400]; int len[4096]; int head, tail; };
static struct q qa, qb;
static void qput(struct q *q, const uint8_t *b, int len)
{
	if ((q->tail + 1) % 4096 == q->head || len > 400)
		exit(1);
	memcpy(q->b[q->tail], b, (size_t)len);
	q->len[q->tail] = len;
	q->tail = (q->tail + 1) % 4096;
}
static void tx_out(void *a, const uint8_t *b, int len, int n) { (void)a; while (n-- > 0) qput(&qa, b, len); }
static int rx_out(t38_core_state_t *s, void *u, const uint8_t *b, int len, int n)
{
	(void)s; (void)u;
	do qput(&qb, b, len); while (--n > 0);
	return 0;
}

static void
call(enum pg_fax_media m, const char *tif, const char *rx_tif)
{
	struct pg_fax_tx_opts o = { .tiff = tif, .no_pacing = true };
	struct pg_fax_tx *tx;
	struct pg_fax_result r;
	fax_state_t *fx = NULL;
	t38_terminal_state_t *t38 = NULL;
	t30_state_t *t30;
	int16_t a[CHUNK] = { 0 }, b[CHUNK] = { 0 };
	uint16_t sa = 0, sb = 0;
	double t0 = cpu_s(), cpu;

	rx_done = false;
	memset(&qa, 0, sizeof qa);
	memset(&qb, 0, sizeof qb);
	if (pg_fax_tx_new(m, &o, tx_out, NULL, &tx) != PG_OK)
		exit(1);
	if (m == PG_FAX_AUDIO) {
		fx = fax_init(NULL, 0);
		fax_set_transmit_on_idle(fx, 1);
		t30 = fax_get_t30_state(fx);
	} else {
		t38 = t38_terminal_init(NULL, 0, rx_out, NULL);
		t38_terminal_set_config(t38, T38_TERMINAL_OPTION_NO_PACING);
		t30 = t38_terminal_get_t30_state(t38);
	}
	t30_set_rx_file(t30, rx_tif, -1);
	t30_set_ecm_capability(t30, 1);
	t30_set_supported_compressions(t30, T30_SUPPORT_T4_1D_COMPRESSION |
				       T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION);
	t30_set_phase_e_handler(t30, rx_phase_e, NULL);
	for (int i = 0; i < 600 * 50 && !(pg_fax_tx_done(tx) && rx_done); i++) {
		if (m == PG_FAX_AUDIO) {
			pg_fax_tx_audio(tx, b, a, CHUNK);
			fax_rx(fx, a, CHUNK);
			int n = fax_tx(fx, b, CHUNK);
			if (n < CHUNK)
				memset(b + n, 0, (size_t)(CHUNK - n) * sizeof b[0]);
		} else {
			pg_fax_tx_t38_tick(tx, CHUNK);
			t38_terminal_send_timeout(t38, CHUNK);
			for (; qa.head != qa.tail; qa.head = (qa.head + 1) % 4096)
				t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(t38),
						       qa.b[qa.head], qa.len[qa.head], sa++);
			for (; qb.head != qb.tail; qb.head = (qb.head + 1) % 4096)
				pg_fax_tx_t38_rx(tx, qb.b[qb.head], qb.len[qb.head], sb++);
		}
	}
	cpu = cpu_s() - t0;
	pg_fax_tx_result(tx, NULL, &r);
	if (r.outcome != PG_OUT_OK || r.pages_sent != 3) {
		fprintf(stderr, "fax_bench: simulated call failed: %s\n", r.text);
		exit(1);
	}
	double media = (double)pg_fax_tx_elapsed_ms(tx) / 1000.0;
	if (m == PG_FAX_AUDIO)
		printf("fax T.30 3-page call, G.711 audio (V.17, ECM): %.1f s of call in %.3f s "
		       "CPU: %.0fx faster than real time\n", media, cpu, media / (cpu > 0 ? cpu : 1e-6));
	else
		printf("fax T.30 3-page call, T.38 terminals without pacing: %.3f s CPU\n", cpu);
	pg_fax_tx_free(tx);
	if (fx)
		fax_free(fx);
	if (t38)
		t38_terminal_free(t38);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	char tif3[320], rx[320], err[256];
	struct pg_fax_doc *d;

	if (secs <= 0 || !mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/bench.tif", dir);
	snprintf(tif3, sizeof tif3, "%s/three.tif", dir);
	snprintf(rx, sizeof rx, "%s/rx.tif", dir);
	for (int c = 0; c < 3; c++) {
		double r = render_rate((enum pg_fax_coding)c, secs);
		double e = encode_rate((enum pg_fax_coding)c, secs);
		printf("fax render+encode %-3s: %7.1f pages/s per core; libtiff encoding alone "
		       "%7.1f pages/s (ratio %.2f)\n", pg_fax_coding_name((enum pg_fax_coding)c),
		       r, e, r / e);
	}
	d = NULL;
	for (int lines = 20; lines < 200 && (!d || pg_fax_doc_pages(d) < 3); lines += 5) {
		pg_fax_doc_free(d);
		if (pg_fax_layout(message(lines), NULL, &d, err, sizeof err) != PG_OK)
			d = NULL;
	}
	if (!d || pg_fax_doc_pages(d) != 3 ||
	    pg_fax_tiff_write(d, PG_FAX_MR, tif3, err, sizeof err) != PG_OK) {
		fprintf(stderr, "fax_bench: cannot make the 3-page fax: %s\n", err);
		return 1;
	}
	pg_fax_doc_free(d);
	call(PG_FAX_AUDIO, tif3, rx);
	call(PG_FAX_T38, tif3, rx);
	unlink(path);
	unlink(tif3);
	unlink(rx);
	rmdir(dir);
	return 0;
}
