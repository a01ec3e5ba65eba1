/*
 * fax_sip.c - one fax call over a SIP trunk (fax.h): the T.30 sender
 * session of fax_t30.c as the media of a call placed by ../sip/sip_call.c
 * (T.38 first when the trunk takes it, G.711 after a 488, a switch to
 * T.38 when the far end asks), and the call's end told in T.30's terms.
 */
#include <stdio.h>
#include <string.h>

#include "fax.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define TICK_MS 20

struct fax_call {
	const struct pg_sip_gw *g;
	const char *tiff;
	struct pg_sip_call *call;
	struct pg_fax_tx *tx;
};

static void
on_t38_out(void *arg, const uint8_t *ifp, int len, int count)
{
	struct fax_call *f = arg;
	pg_sip_call_t38_send(f->call, ifp, len, count);
}

/* A fresh T.30 session for the media that started, with the call's time
 * left as its watchdog. */
static bool
on_media(void *arg, struct pg_sip_call *c, enum pg_sdp_kind kind)
{
	struct fax_call *f = arg;
	struct pg_fax_tx_opts o;
	struct pg_fax_tx *tx;
	int64_t left = pg_sip_call_left_ms(c);

	memset(&o, 0, sizeof o);
	o.tiff = f->tiff;
	o.local_id = f->g->ident;
	o.watchdog_ms = left > TICK_MS ? left : TICK_MS;
	f->call = c;
	if (pg_fax_tx_new(kind == PG_SDP_T38 ? PG_FAX_T38 : PG_FAX_AUDIO, &o,
			  on_t38_out, f, &tx) != PG_OK)
		return false;
	pg_fax_tx_free(f->tx);
	f->tx = tx;
	return true;
}

static void
on_audio(void *arg, const int16_t *rx, int16_t *out, int n)
{
	struct fax_call *f = arg;
	pg_fax_tx_audio(f->tx, rx, out, n);
}

static void
on_t38_rx(void *arg, const uint8_t *ifp, int len, uint16_t seq)
{
	struct fax_call *f = arg;
	pg_fax_tx_t38_rx(f->tx, ifp, len, seq);
}

static void
on_t38_tick(void *arg, int n)
{
	struct fax_call *f = arg;
	pg_fax_tx_t38_tick(f->tx, n);
}

static bool
on_done(void *arg)
{
	struct fax_call *f = arg;
	return f->tx && pg_fax_tx_done(f->tx);
}

void
pg_fax_sip_send(const struct pg_sip_gw *g, const char *number, const char *tiff,
		struct pg_fax_result *r)
{
	struct fax_call f = { .g = g, .tiff = tiff };
	const struct pg_sip_session s = {
		.offer = g->t38 ? PG_SDP_T38 : PG_SDP_AUDIO, .fallback_audio = true,
		.t38_reinvite = true, .arg = &f, .media = on_media, .audio = on_audio,
		.t38_rx = on_t38_rx, .t38_tick = on_t38_tick, .done = on_done,
	};
	struct pg_fax_tiff_info ti;
	struct pg_sip_result sr;
	char why[256];

	memset(r, 0, sizeof *r);
	r->t30_code = -1;
	r->outcome = PG_OUT_TEMP;
	/* a file spandsp cannot send would fail only once the call is up */
	if (pg_fax_tiff_check(tiff, &ti, why, sizeof why) != PG_OK) {
		r->outcome = PG_OUT_PERM;
		snprintf(r->text, sizeof r->text, "not sent, bad fax file: %.120s", why);
		return;
	}
	pg_sip_call_run(g, number, &s, 0, &sr);
	switch (sr.end) {
	case PG_SIP_END_SESSION:                 /* T.30 reached phase E */
		pg_fax_tx_result(f.tx, NULL, r);
		break;
	case PG_SIP_END_FAR:
		if (f.tx)
			pg_fax_tx_result(f.tx, "far end hung up", r);
		else
			snprintf(r->text, sizeof r->text,
				 "far end hung up before the fax started");
		break;
	case PG_SIP_END_CALL:                    /* the call's own reason */
		if (f.tx)
			pg_fax_tx_result(f.tx, "call ended", r);
		r->outcome = sr.outcome;
		pg_strlcpy(r->text, sr.text, sizeof r->text);
		break;
	default:
		if (f.tx)
			pg_fax_tx_result(f.tx, "call ended", r);
		else
			snprintf(r->text, sizeof r->text, "the call ended without an answer");
	}
	if (sr.end == PG_SIP_END_FAR && !f.tx)
		r->outcome = PG_OUT_TEMP;
	pg_strlcpy(r->via, sr.via, sizeof r->via);
	if (r->pages_total == 0)
		r->pages_total = ti.pages;
	pg_fax_tx_free(f.tx);
}
