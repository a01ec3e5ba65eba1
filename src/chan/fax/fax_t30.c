/*
 * fax_t30.c - the sending side of a fax call with spandsp 0.0.6 (fax.h):
 * T.30 over G.711 audio (fax_state_t, V.17/V.29/V.27ter modems) or over
 * T.38 (t38_terminal_state_t), with a watchdog on media time and the
 * mapping of T.30 completion codes to delivery outcomes.
 *
 * spandsp's timers advance with the samples it is given, so a session
 * runs as fast as it is fed: in real calls one 20 ms packet at a time, in
 * tests hundreds of times faster than real time.  The watchdog counts
 * the same samples, so it means "this much call time" either way.  With
 * continuous line noise the T.30 engine may never reach phase E on its
 * own; the watchdog is what ends such a call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "fax.h"
#include "pagegate/util.h"

#define DEFAULT_WATCHDOG_MS  (5 * 60 * 1000)
#define SAMPLES_PER_MS       (PG_FAX_RATE / 1000)
#define COMPRESSIONS (T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | \
		      T30_SUPPORT_T6_COMPRESSION)
#define T38_MAX_DATAGRAM     400
#define T38_MAX_BUFFER       2000
#define T38_TRANSFERRED_TCF  2

struct pg_fax_tx {
	enum pg_fax_media media;
	fax_state_t *fax;            /* audio */
	t38_terminal_state_t *t38;   /* T.38 */
	t30_state_t *t30;
	pg_fax_t38_send send;
	void *arg;
	int64_t samples, limit;      /* media time so far and the watchdog */
	bool done, watchdog;
	int code;                    /* completion code from phase E */
};

enum pg_outcome
pg_fax_t30_outcome(int code)
{
	switch (code) {
	case T30_ERR_OK:
		return PG_OUT_OK;
	case T30_ERR_INCOMPATIBLE:
	case T30_ERR_RX_INCAPABLE:
	case T30_ERR_TX_INCAPABLE:
	case T30_ERR_NORESSUPPORT:
	case T30_ERR_NOSIZESUPPORT:
	case T30_ERR_FILEERROR:
	case T30_ERR_NOPAGE:
	case T30_ERR_BADTIFF:
	case T30_ERR_BADPAGE:
	case T30_ERR_BADTAG:
	case T30_ERR_BADTIFFHDR:
	case T30_ERR_IDENT_UNACCEPTABLE:
	case T30_ERR_SUB_UNACCEPTABLE:
	case T30_ERR_SEP_UNACCEPTABLE:
	case T30_ERR_PSA_UNACCEPTABLE:
	case T30_ERR_SID_UNACCEPTABLE:
	case T30_ERR_PWD_UNACCEPTABLE:
	case T30_ERR_TSA_UNACCEPTABLE:
	case T30_ERR_IRA_UNACCEPTABLE:
	case T30_ERR_CIA_UNACCEPTABLE:
	case T30_ERR_ISP_UNACCEPTABLE:
	case T30_ERR_CSA_UNACCEPTABLE:
		return PG_OUT_PERM;
	default:
		return PG_OUT_TEMP;
	}
}

void
pg_fax_result_format(const struct pg_fax_result *r, char *buf, size_t n)
{
	struct pg_buf b;
	char *s;

	pg_buf_init(&b, n > 0 ? n - 1 : 0);
	(void)pg_buf_printf(&b, "%s: %d of %d page%s", r->text, r->pages_sent,
			    r->pages_total, r->pages_total == 1 ? "" : "s");
	if (r->bit_rate > 0)
		(void)pg_buf_printf(&b, ", %d bit/s", r->bit_rate);
	if (r->bit_rate > 0)
		(void)pg_buf_printf(&b, ", %s", r->ecm ? "ECM" : "no ECM");
	if (r->remote_id[0])
		(void)pg_buf_printf(&b, ", remote \"%s\"", r->remote_id);
	if (r->via[0])
		(void)pg_buf_printf(&b, ", via %s", r->via);
	s = b.data;
	snprintf(buf, n, "%s", s ? s : r->text);
	pg_buf_free(&b);
}

static void
on_phase_e_cb(t30_state_t *t30, void *user, int code)
{
	struct pg_fax_tx *tx = user;

	(void)t30;
	if (tx->code < 0)
		tx->code = code;
	tx->done = true;
}

static int
on_t38_out(t38_core_state_t *core, void *user, const uint8_t *buf, int len, int count)
{
	struct pg_fax_tx *tx = user;

	(void)core;
	if (tx->send && len > 0)
		tx->send(tx->arg, buf, len, count > 0 ? count : 1);
	return 0;
}

/* T.30 settings common to both media. */
static void
setup_t30(struct pg_fax_tx *tx, const struct pg_fax_tx_opts *o)
{
	t30_set_tx_ident(tx->t30, o->local_id ? o->local_id : "");
	t30_set_tx_file(tx->t30, o->tiff, -1, -1);
	t30_set_ecm_capability(tx->t30, !o->no_ecm);
	t30_set_supported_compressions(tx->t30, COMPRESSIONS);
	t30_set_phase_e_handler(tx->t30, on_phase_e_cb, tx);
}

pg_err
pg_fax_tx_new(enum pg_fax_media m, const struct pg_fax_tx_opts *o,
	      pg_fax_t38_send send, void *arg, struct pg_fax_tx **out)
{
	struct pg_fax_tx *tx;

	*out = NULL;
	if (!o || !o->tiff || (m == PG_FAX_T38 && !send))
		return PG_ERR_INVAL;
	if (!(tx = calloc(1, sizeof *tx)))
		return PG_ERR_NOMEM;
	tx->media = m;
	tx->send = send;
	tx->arg = arg;
	tx->code = -1;
	tx->limit = (o->watchdog_ms > 0 ? o->watchdog_ms : DEFAULT_WATCHDOG_MS) *
		    SAMPLES_PER_MS;
	if (m == PG_FAX_AUDIO) {
		if (!(tx->fax = fax_init(NULL, 1)))
			goto nomem;
		fax_set_transmit_on_idle(tx->fax, 1);
		fax_set_tep_mode(tx->fax, 0);
		tx->t30 = fax_get_t30_state(tx->fax);
	} else {
		if (!(tx->t38 = t38_terminal_init(NULL, 1, on_t38_out, tx)))
			goto nomem;
		t38_core_state_t *core = t38_terminal_get_t38_core_state(tx->t38);
		t38_set_t38_version(core, 0);
		t38_set_data_rate_management_method(core, T38_TRANSFERRED_TCF);
		t38_set_max_datagram_size(core, T38_MAX_DATAGRAM);
		t38_set_max_buffer_size(core, T38_MAX_BUFFER);
		t38_set_fastest_image_data_rate(core, 14400);
		t38_terminal_set_tep_mode(tx->t38, 0);
		t38_terminal_set_fill_bit_removal(tx->t38, 0);
		if (o->no_pacing)
			t38_terminal_set_config(tx->t38, T38_TERMINAL_OPTION_NO_PACING);
		tx->t30 = t38_terminal_get_t30_state(tx->t38);
	}
	setup_t30(tx, o);
	*out = tx;
	return PG_OK;
nomem:
	free(tx);
	return PG_ERR_NOMEM;
}

void
pg_fax_tx_free(struct pg_fax_tx *tx)
{
	if (!tx)
		return;
	if (tx->fax)
		fax_free(tx->fax);
	if (tx->t38)
		t38_terminal_free(tx->t38);
	free(tx);
}

enum pg_fax_media pg_fax_tx_media(const struct pg_fax_tx *tx) { return tx->media; }
bool pg_fax_tx_done(const struct pg_fax_tx *tx) { return tx->done; }

int64_t
pg_fax_tx_elapsed_ms(const struct pg_fax_tx *tx)
{
	return tx->samples / SAMPLES_PER_MS;
}

/* Counts n samples of media time; past the limit the watchdog ends the
 * session. */
static void
tick(struct pg_fax_tx *tx, int n)
{
	tx->samples += n;
	if (!tx->done && tx->samples >= tx->limit) {
		tx->watchdog = true;
		tx->done = true;
	}
}

void
pg_fax_tx_audio(struct pg_fax_tx *tx, const int16_t *rx, int16_t *out, int n)
{
	int16_t buf[PG_FAX_RATE / 10];
	int got;

	while (n > 0) {
		int k = n < (int)(sizeof buf / sizeof buf[0]) ? n :
			(int)(sizeof buf / sizeof buf[0]);
		if (tx->media != PG_FAX_AUDIO || tx->done) {
			memset(out, 0, (size_t)k * sizeof *out);
		} else {
			if (rx)
				memcpy(buf, rx, (size_t)k * sizeof *buf);
			else
				memset(buf, 0, (size_t)k * sizeof *buf);
			fax_rx(tx->fax, buf, k);
			got = fax_tx(tx->fax, out, k);
			if (got < k)
				memset(out + got, 0, (size_t)(k - got) * sizeof *out);
			tick(tx, k);
		}
		if (rx)
			rx += k;
		out += k;
		n -= k;
	}
}

void
pg_fax_tx_t38_rx(struct pg_fax_tx *tx, const uint8_t *ifp, int len, uint16_t seq)
{
	if (tx->media != PG_FAX_T38 || tx->done || len <= 0)
		return;
	t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(tx->t38), ifp, len, seq);
}

void
pg_fax_tx_t38_tick(struct pg_fax_tx *tx, int n)
{
	if (tx->media != PG_FAX_T38 || tx->done)
		return;
	t38_terminal_send_timeout(tx->t38, n);
	tick(tx, n);
}

void
pg_fax_tx_result(struct pg_fax_tx *tx, const char *why, struct pg_fax_result *r)
{
	t30_stats_t st;
	const char *id;

	memset(r, 0, sizeof r[0]);
	if (!tx->done && why) {
		/* the call went away under the session: let T.30 close */
		t30_terminate(tx->t30);
		tx->done = true;
	}
	memset(&st, 0, sizeof st);
	t30_get_transfer_statistics(tx->t30, &st);
	r->pages_sent = st.pages_tx;
	r->pages_total = st.pages_in_file > 0 ? st.pages_in_file : 0;
	r->bit_rate = st.pages_tx > 0 ? st.bit_rate : 0;
	r->ecm = st.error_correcting_mode != 0;
	id = t30_get_rx_ident(tx->t30);
	pg_strlcpy(r->remote_id, id ? id : "", sizeof r->remote_id);
	for (char *p = r->remote_id; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';               /* the far end's text is hostile */
	r->t30_code = tx->watchdog ? -1 : tx->code;
	if (tx->watchdog) {
		r->outcome = PG_OUT_TEMP;
		snprintf(r->text, sizeof r->text,
			 "watchdog: no end of call after %lld s",
			 (long long)(tx->limit / PG_FAX_RATE));
	} else if (tx->code == T30_ERR_OK && r->pages_total > 0 &&
		   r->pages_sent >= r->pages_total) {
		r->outcome = PG_OUT_OK;
		snprintf(r->text, sizeof r->text, "%s", t30_completion_code_to_str(tx->code));
	} else if (tx->code >= 0 && tx->code != T30_ERR_OK) {
		r->outcome = pg_fax_t30_outcome(tx->code);
		snprintf(r->text, sizeof r->text, "%s%s%s", why ? why : "",
			 why ? ": " : "", t30_completion_code_to_str(tx->code));
	} else {
		r->outcome = PG_OUT_TEMP;
		snprintf(r->text, sizeof r->text, "%s", why ? why : "the call ended early");
	}
}
