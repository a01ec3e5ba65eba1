/*
 * sched_digest.c - held deliveries for one recipient, released together at
 * opening, go out as one digest (sched_priv.h).
 *
 * Held deliveries all come due at the client's opening instant, so the
 * scheduler takes them in one batch (same channel and gateway).  Here the
 * batch is grouped by recipient; each group of two or more is rendered
 * once from digest.subject / digest.txt, one {{#messages}} row per
 * message with that message's variables at its content level.  The lead
 * (first) delivery carries the send; every delivery keeps its own attempt
 * and outcome in the store, so each message's state and retries stay right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/content.h"
#include "pagegate/log.h"
#include "pagegate/template.h"
#include "sched_priv.h"

#define DIGEST_SUBJECT "digest.subject"
#define DIGEST_BODY    "digest.txt"

static bool
eligible(const struct work *w)
{
	return w->gather && w->ready && !w->presolved && w->client && w->contact &&
	       w->have_m && w->d.address;
}

static bool
same_recipient(const struct work *a, const struct work *b)
{
	return a->client == b->client && a->contact == b->contact &&
	       strcmp(a->d.address, b->d.address) == 0;
}

/* The variables outside the section: the recipient, not a message. */
static pg_err
outer_vars(struct pg_tvars *tv, const struct pg_client *cl,
	   const struct pg_contact *ct, size_t count)
{
	char n[24];
	const struct pg_tvar vals[] = {
		{ "client.id", cl->id }, { "client.name", cl->name },
		{ "client.instructions", cl->instructions },
		{ "contact.id", ct->id }, { "contact.name", ct->name },
		{ "callback", cl->callback }, { "messages.count", n },
	};
	pg_err e;

	snprintf(n, sizeof n, "%zu", count);
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		if ((e = pg_tvars_set(tv, vals[i].name, vals[i].value)))
			return e;
	return PG_OK;
}

/* Renders the digest of the cnt entries whose lead is w[lead] into its
 * subject and body.  On any error the lead keeps its own rendering. */
static pg_err
render_digest(const struct pg_config *cfg, const struct pg_channel *drv,
	      struct work *w, size_t n, size_t lead, size_t cnt)
{
	const struct pg_client *cl = w[lead].client;
	const struct pg_template *tb = pg_config_template(cfg, cl, DIGEST_BODY);
	const struct pg_template *ts = NULL;
	struct pg_tvars outer, *rows;
	struct pg_buf subj, body;
	size_t r = 0;
	pg_err e = PG_OK;

	if (!tb)
		return PG_ERR_NOTFOUND;
	if (drv->subject_template && !(ts = pg_config_template(cfg, cl, DIGEST_SUBJECT)))
		return PG_ERR_NOTFOUND;
	if (!(rows = calloc(cnt, sizeof *rows)))
		return PG_ERR_NOMEM;
	pg_tvars_init(&outer);
	pg_buf_init(&subj, PG_RENDER_MAX);
	pg_buf_init(&body, PG_RENDER_MAX);
	for (size_t k = lead; k < n && r < cnt && !e; k++) {
		if (w[k].lead != (int)lead)
			continue;
		pg_tvars_init(&rows[r]);
		if (!(e = pg_tvars_for_message(&rows[r], cl, &w[k].m, w[k].contact, w[k].d.id)))
			e = pg_content_apply(&rows[r], w[k].out.content);
		r++;
	}
	if (!e)
		e = outer_vars(&outer, cl, w[lead].contact, cnt);
	outer.items = rows;
	outer.n_items = r;
	if (!e && ts)
		e = pg_template_render(ts->text, &outer, PG_ESC_NONE, &subj);
	if (!e)
		e = pg_template_render(tb->text, &outer, drv->body_escape, &body);
	if (!e) {
		pg_buf_free(&w[lead].out.subject);
		pg_buf_free(&w[lead].out.body);
		w[lead].out.subject = subj;
		w[lead].out.body = body;
		w[lead].out.has_subject = ts != NULL;
	} else {
		pg_buf_free(&subj);
		pg_buf_free(&body);
	}
	for (size_t k = 0; k < r; k++)
		pg_tvars_free(&rows[k]);
	free(rows);
	pg_tvars_free(&outer);
	return e;
}

void
sched__digests(const struct pg_config *cfg, const struct pg_channel *drv,
	       struct work *w, size_t n)
{
	size_t i, k, cnt;
	pg_err e;

	for (i = 0; i < n; i++) {
		w[i].lead = -1;
		w[i].digest_n = 0;
	}
	if (!drv || drv->body_escape != PG_ESC_NONE)
		return;                       /* JSON pages go one by one */
	for (i = 0; i < n; i++) {
		if (!eligible(&w[i]) || w[i].lead >= 0)
			continue;
		w[i].lead = (int)i;
		cnt = 1;
		for (k = i + 1; k < n; k++)
			if (eligible(&w[k]) && w[k].lead < 0 && same_recipient(&w[i], &w[k])) {
				w[k].lead = (int)i;
				cnt++;
			}
		e = cnt > 1 ? render_digest(cfg, drv, w, n, i, cnt) : PG_ERR_NOTFOUND;
		for (k = i; k < n; k++) {
			if (w[k].lead != (int)i)
				continue;
			if (e)
				w[k].lead = -1;       /* alone, or sent one by one */
			else
				w[k].digest_n = cnt;
		}
		if (e && cnt > 1)
			pg_warn("digest of %zu deliveries to %s: %s; sending them one by one",
				cnt, w[i].contact->id, e == PG_ERR_NOTFOUND ?
				"no " DIGEST_BODY " or " DIGEST_SUBJECT " template" :
				pg_strerror(e));
		else if (!e)
			pg_info("digest mid=%lld did=%lld of %zu held deliveries to %s",
				(long long)w[i].d.message_id, (long long)w[i].d.id, cnt,
				w[i].contact->id);
	}
}

void
sched__digest_reply(const struct work *w, const struct work *all,
		    const char *reply, char *out, size_t outlen)
{
	if (w->digest_n < 2 || w->lead < 0) {
		snprintf(out, outlen, "%s", reply);
		return;
	}
	snprintf(out, outlen, "%s (in a digest of %zu, sent as delivery %lld)", reply,
		 w->digest_n, (long long)all[w->lead].d.id);
}
