/*
 * sip_answer.c - the calls pagegate answers (sip.h): one NUA listening on
 * an address of ours, one call at a time, each with the session the
 * answerer gives for its caller; the media pump is the one of the calls
 * we place (sip_call.c, through sip_priv.h).  200 with an SDP answer
 * (G.711, telephone-events when offered), the session until it is done
 * or the caller hangs up, BYE; a watchdog bounds every call.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_header.h>

#include "sip_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define BYE_WAIT_MS      3000
#define SHUTDOWN_WAIT_MS 3000
#define FROM_MAX         64

struct serve {
	struct pg_sip_call c;
	const struct pg_sip_answerer *a;
	int watchdog_s;
	bool active;
};

static const struct pg_sip_gw mailbox_gw = { .name = (char *)"mailbox" };

/* The call is over: the answerer is told, the call's state reset. */
static void
finish(struct serve *sv)
{
	struct pg_sip_call *c = &sv->c;
	int64_t now = pg_mono_ms();

	if (!sv->active)
		return;
	c->res.talk_ms = now - c->t_answer;
	sv->a->ended(sv->a->arg, c->s, &c->res);
	if (c->nh)
		nua_handle_destroy(c->nh);
	c->nh = NULL;
	c->s = NULL;
	c->media_on = false;
	c->st = C_DONE;
	sv->active = false;
}

/* The caller's number: the From URI's user part, printable, bounded. */
static void
caller_of(const sip_t *sip, char *out, size_t n)
{
	const char *u = sip && sip->sip_from ? sip->sip_from->a_url->url_user : NULL;
	size_t k = 0;

	for (; u && *u && k + 1 < n && k < FROM_MAX; u++)
		if (strchr("+0123456789*#", *u))
			out[k++] = *u;
	out[k] = '\0';
}

static void
on_invite(struct serve *sv, nua_handle_t *nh, const sip_t *sip)
{
	struct pg_sip_call *c = &sv->c;
	const struct pg_sip_session *s;
	struct pg_sdp sdp;
	char from[FROM_MAX + 1], answer[SDP_MAX];
	int i = -1;

	if (sv->active) {
		nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	if (sip && sip->sip_payload && sip->sip_payload->pl_data &&
	    pg_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &sdp) == PG_OK)
		i = pg_sdp_find(&sdp, PG_SDP_AUDIO);
	if (i < 0) {
		nua_respond(nh, SIP_488_NOT_ACCEPTABLE, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	caller_of(sip, from, sizeof from);
	if (!(s = sv->a->incoming(sv->a->arg, from))) {
		nua_respond(nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	memset(&c->res, 0, sizeof c->res);
	c->s = s;
	c->nh = nh;
	c->any_ev = false;
	sv->active = true;
	if (!sip__media_start(c, &sdp.m[i])) {
		nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		c->res.end = PG_SIP_END_CALL;
		finish(sv);
		return;
	}
	pg_sdp_answer(answer, sizeof answer, &sdp, i, c->lip, c->lport, s->events,
		      ++c->sdp_version);
	nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(answer), TAG_END());
	c->st = C_UP;
	c->t_invite = c->t_answer = pg_mono_ms();
	c->res.answered = true;
	c->res.status = 200;
	pg_info("sip mailbox: call from %s answered", from[0] ? from : "(no number)");
	if (s->answered)
		s->answered(s->arg);
}

static void
on_event(nua_event_t ev, int status, const char *phrase, nua_t *nua,
	 nua_magic_t *magic, nua_handle_t *nh, nua_hmagic_t *hmagic,
	 const sip_t *sip, tagi_t tags[])
{
	struct serve *sv = (struct serve *)magic;
	struct pg_sip_call *c = &sv->c;

	(void)phrase;
	(void)nua;
	(void)hmagic;
	(void)tags;
	switch (ev) {
	case nua_i_invite:
		if (sv->active && nh == c->nh)          /* a re-INVITE: keep ours */
			nua_respond(nh, SIP_488_NOT_ACCEPTABLE, TAG_END());
		else
			on_invite(sv, nh, sip);
		break;
	case nua_i_bye:
	case nua_i_cancel:
		if (sv->active && nh == c->nh) {
			sip__media_read(c);          /* keys sent just before */
			if (c->res.end == PG_SIP_END_NONE)
				c->res.end = PG_SIP_END_FAR;
			finish(sv);
		}
		break;
	case nua_r_bye:
		if (sv->active && nh == c->nh && status >= 200)
			finish(sv);
		break;
	case nua_r_shutdown:
		if (status >= 200)
			c->shutdown_done = true;
		break;
	default:
		break;
	}
}

pg_err
pg_sip_serve(const char *ip, int port, int watchdog_s, const struct pg_sip_answerer *a,
	     _Atomic bool *stop)
{
	struct serve sv = { .a = a, .watchdog_s = watchdog_s };
	struct pg_sip_call *c = &sv.c;
	char why[256], url[96];
	int64_t now, next, t0;
	pg_err e = PG_OK;

	c->g = &mailbox_gw;
	c->fd = -1;
	c->ev_pt = -1;
	pg_strlcpy(c->lip, ip, sizeof c->lip);
	if (!sip__media_socket(c, why, sizeof why)) {
		pg_error("sip mailbox: %s", why);
		return PG_ERR_IO;
	}
	if (!(c->root = su_root_create(NULL))) {
		close(c->fd);
		return PG_ERR_NOMEM;
	}
	su_root_threading(c->root, 0);
	snprintf(url, sizeof url, "sip:%s:%d;transport=udp", ip, port);
	c->nua = nua_create(c->root, on_event, (nua_magic_t *)&sv, NUTAG_URL(url),
			    NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0),
			    NUTAG_AUTOACK(1), NUTAG_SESSION_TIMER(0), NUTAG_ENABLEMESSAGE(0),
			    SIPTAG_USER_AGENT_STR("pagegate"), TAG_END());
	if (!c->nua) {
		pg_error("sip mailbox: cannot listen on %s", url);
		e = PG_ERR_IO;
		goto out;
	}
	pg_info("sip mailbox: answering calls on %s", url);
	next = pg_mono_ms();
	while (!*stop) {
		now = pg_mono_ms();
		if (sv.active && c->st == C_UP &&
		    (c->s->done(c->s->arg) || now - c->t_answer > (int64_t)watchdog_s * 1000)) {
			if (c->res.end == PG_SIP_END_NONE)
				c->res.end = c->s->done(c->s->arg) ? PG_SIP_END_SESSION :
					PG_SIP_END_CALL;
			nua_bye(c->nh, TAG_END());
			c->st = C_BYE;
			c->t_bye = now;
		}
		if (sv.active && c->st == C_BYE && now - c->t_bye > BYE_WAIT_MS)
			finish(&sv);
		if (now >= next) {
			for (int k = 0; now >= next && k < MAX_CATCHUP; k++) {
				sip__media_read(c);
				if (sv.active)
					sip__media_tick(c);
				next += TICK_MS;
			}
			if (now >= next)
				next = now + TICK_MS;
		}
		su_root_step(c->root, (su_duration_t)(next - now > 0 ? next - now : 0));
	}
	finish(&sv);
	nua_shutdown(c->nua);
	t0 = pg_mono_ms();
	while (!c->shutdown_done && pg_mono_ms() - t0 < SHUTDOWN_WAIT_MS)
		su_root_step(c->root, 50);
	nua_destroy(c->nua);
out:
	su_root_destroy(c->root);
	close(c->fd);
	return e;
}
