/*
 * render.c - the one render path (channel.h): what a delivery looks like
 * on its channel.  The scheduler renders every attempt through it and
 * `pagegate render` every preview, so a preview shows exactly what the
 * content level lets through.
 */
#include <stdio.h>
#include <string.h>

#include "pagegate/channel.h"

const struct pg_device *
pg_contact_device(const struct pg_contact *ct, enum pg_channel_kind ch,
		  const char *address)
{
	for (size_t i = 0; ct && address && i < ct->n_devices; i++) {
		const struct pg_device *d = &ct->devices[i];

		if (d->channel != ch)
			continue;
		if (d->to && strcmp(d->to, address) == 0)
			return d;
	}
	return NULL;
}

void
pg_rendered_init(struct pg_rendered *r)
{
	memset(r, 0, sizeof *r);
	pg_buf_init(&r->subject, PG_RENDER_MAX);
	pg_buf_init(&r->body, PG_RENDER_MAX);
}

void
pg_rendered_free(struct pg_rendered *r)
{
	pg_buf_free(&r->subject);
	pg_buf_free(&r->body);
}

pg_err
pg_channel_render(const struct pg_config *cfg, const struct pg_channel *drv,
		  const struct pg_client *cl, const struct pg_contact *ct,
		  const struct pg_device *dev, const struct pg_message *m,
		  int64_t did, const char *ack_url, struct pg_rendered *out,
		  char *why, size_t wlen)
{
	const struct pg_template *t;
	const char *subject, *body;
	struct pg_tvars tv;
	pg_err e;

	out->content = pg_content_level(cl, dev, drv->kind);
	pg_tvars_init(&tv);
	if ((e = pg_tvars_for_message(&tv, cl, m, ct, did)) ||
	    (e = pg_tvars_set(&tv, "ack_url", ack_url ? ack_url : "")) ||
	    (e = pg_content_apply(&tv, out->content))) {
		snprintf(why, wlen, "cannot fill template variables: %s", pg_strerror(e));
		goto out;
	}
	/* at "notify", plain text comes from notify.txt (content.h) */
	pg_content_templates(out->content, drv->subject_template, drv->body_template,
			     drv->body_escape == PG_ESC_NONE, &subject, &body);
	if (subject && (t = pg_config_template(cfg, cl, subject))) {
		out->has_subject = true;
		if ((e = pg_template_render(t->text, &tv, PG_ESC_NONE, &out->subject))) {
			snprintf(why, wlen, "template %s: %s", subject, pg_strerror(e));
			goto out;
		}
	}
	if (!body || !(t = pg_config_template(cfg, cl, body))) {
		snprintf(why, wlen, "no template %s for client %s", body ? body : "(none)",
			 cl->id);
		e = PG_ERR_NOTFOUND;
	} else if ((e = pg_template_render(t->text, &tv, drv->body_escape, &out->body)))
		snprintf(why, wlen, "template %s: %s", body, pg_strerror(e));
out:
	pg_tvars_free(&tv);
	return e;
}
