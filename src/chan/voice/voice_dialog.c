/*
 * voice_dialog.c - the dialogue of one call (voice.h), sample by sample:
 * the greeting, said up to PG_VOICE_PLAYS times with PG_VOICE_WAIT_MS of
 * silence after each, until 1 is pressed; then the message and the menu;
 * then 1 (acknowledge), 2 (again) or 3 (pass it on), the menu said again
 * while nobody presses; the last words and the end.  Nothing after the
 * greeting is played before a 1.  Pure: the call feeds it keys and asks
 * for samples.
 */
#include <string.h>

#include "voice.h"

static void
start(struct pg_voice_dialog *d, enum pg_voice_step step, enum pg_voice_part part)
{
	d->step = step;
	d->cur = &d->a->part[part];
	d->pos = 0;
	d->gap = 0;
	d->waited = 0;
	if (d->cur->n == 0)                  /* nothing to say */
		d->cur = NULL;
}

void
pg_voice_dialog_init(struct pg_voice_dialog *d, const struct pg_voice_audio *a)
{
	memset(d, 0, sizeof *d);
	d->a = a;
	d->plays = 1;
	if (a->part[PG_VP_GREETING].n > 0) {
		start(d, PG_VS_GREETING, PG_VP_GREETING);
	} else {                             /* a one-part script */
		start(d, PG_VS_MESSAGE, PG_VP_MESSAGE);
		d->heard = true;
		d->todo |= PG_VOICE_DO_HEARD;
	}
}

void
pg_voice_dialog_key(struct pg_voice_dialog *d, char key)
{
	if (d->n_keys < PG_VOICE_KEYS_MAX)
		d->keys[d->n_keys++] = key;
	switch (d->step) {
	case PG_VS_GREETING:
	case PG_VS_GREET_WAIT:
		if (key != '1')
			return;
		d->heard = true;
		d->todo |= PG_VOICE_DO_HEARD;
		d->plays = 1;
		start(d, PG_VS_MESSAGE, PG_VP_MESSAGE);
		return;
	case PG_VS_MESSAGE:
	case PG_VS_MENU:
	case PG_VS_MENU_WAIT:
		if (key == '1') {
			d->acked = true;
			d->todo |= PG_VOICE_DO_ACK;
			start(d, PG_VS_BYE, PG_VP_ACKED);
		} else if (key == '2') {
			d->plays = 1;
			start(d, PG_VS_MESSAGE, PG_VP_MESSAGE);
		} else if (key == '3') {
			d->passed = true;
			d->todo |= PG_VOICE_DO_PASS;
			start(d, PG_VS_BYE, PG_VP_PASSED);
		}
		return;
	default:
		return;
	}
}

/* The part in cur has been said: what comes next. */
static void
part_done(struct pg_voice_dialog *d)
{
	d->cur = NULL;
	d->waited = 0;
	switch (d->step) {
	case PG_VS_GREETING:
		d->step = PG_VS_GREET_WAIT;
		break;
	case PG_VS_MESSAGE:                  /* the menu, after a pause */
		d->plays = 1;
		start(d, PG_VS_MENU, PG_VP_MENU);
		if (d->cur)
			d->gap = (size_t)d->a->rate * PG_VOICE_GAP_MS / 1000;
		else
			d->step = PG_VS_MENU_WAIT;
		break;
	case PG_VS_MENU:
		d->step = PG_VS_MENU_WAIT;
		break;
	default:                             /* PG_VS_BYE: a moment's quiet */
		d->step = PG_VS_DONE;
		d->gap = (size_t)d->a->rate * PG_VOICE_GAP_MS / 1000;
		break;
	}
}

/* Nobody pressed for PG_VOICE_WAIT_MS: say it again, or end. */
static void
wait_over(struct pg_voice_dialog *d)
{
	bool greet = d->step == PG_VS_GREET_WAIT;

	if (d->plays >= PG_VOICE_PLAYS) {
		d->step = PG_VS_DONE;
		return;
	}
	d->plays++;
	start(d, greet ? PG_VS_GREETING : PG_VS_MENU, greet ? PG_VP_GREETING : PG_VP_MENU);
	if (!d->cur)
		d->step = PG_VS_DONE;        /* nothing to say again */
}

void
pg_voice_dialog_play(struct pg_voice_dialog *d, int16_t *out, int n)
{
	int64_t wait = (int64_t)d->a->rate * PG_VOICE_WAIT_MS / 1000;

	for (int i = 0; i < n; i++) {
		out[i] = 0;
		if (d->gap > 0) {
			d->gap--;
			continue;
		}
		if (d->cur) {
			if (d->pos < d->cur->n)
				out[i] = d->cur->s[d->pos++];
			if (d->pos >= d->cur->n)
				part_done(d);
			continue;
		}
		if (d->step == PG_VS_GREET_WAIT || d->step == PG_VS_MENU_WAIT) {
			if (++d->waited >= wait)
				wait_over(d);
		} else if (d->step != PG_VS_DONE) {
			part_done(d);            /* a part with nothing to say */
			if (d->step == PG_VS_DONE)
				d->gap = 0;
		}
	}
}

bool
pg_voice_dialog_done(const struct pg_voice_dialog *d)
{
	return d->step == PG_VS_DONE && d->gap == 0;
}
