/*
 * test_voice.c - the pure parts of the voice channel: voice.txt cut into
 * its parts, the dialogue of a call (what is played, what each key does,
 * the waits and replays), and RFC 4733 telephone-events on the wire.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/chan/voice/voice.h"

static void
test_script(void **state)
{
	struct pg_voice_script s;
	char why[256];

	(void)state;
	assert_int_equal(pg_voice_script_parse("Hello Jane. Press 1.\n---\nThe text.\n\n---\r\n"
		"Press 1, 2 or 3.\n---\nThanks.\n---\nPassed on.\n", &s, why, sizeof why), PG_OK);
	assert_string_equal(s.part[PG_VP_GREETING], "Hello Jane. Press 1.");
	assert_string_equal(s.part[PG_VP_MESSAGE], "The text.");
	assert_string_equal(s.part[PG_VP_MENU], "Press 1, 2 or 3.");
	assert_string_equal(s.part[PG_VP_ACKED], "Thanks.");
	assert_string_equal(s.part[PG_VP_PASSED], "Passed on.");
	pg_voice_script_free(&s);

	/* one part (notify.txt): the message, nothing else */
	assert_int_equal(pg_voice_script_parse("Message waiting. Call 555.\n", &s, why,
					       sizeof why), PG_OK);
	assert_string_equal(s.part[PG_VP_GREETING], "");
	assert_string_equal(s.part[PG_VP_MESSAGE], "Message waiting. Call 555.");
	pg_voice_script_free(&s);

	/* "----" or " ---" are text; 3 parts are a mistake */
	assert_int_equal(pg_voice_script_parse("a\n----\n ---\nb\n---\nc\n---\nd\n", &s, why,
					       sizeof why), PG_ERR_INVAL);
	assert_non_null(strstr(why, "renders 3 parts"));
	assert_int_equal(pg_voice_script_parse("a\n---\nb\n---\nc\n---\nd\n---\ne\n---\nf\n",
					       &s, why, sizeof why), PG_ERR_INVAL);
	assert_non_null(strstr(why, "more than 5 parts"));
	assert_int_equal(pg_voice_part_parse("menu"), PG_VP_MENU);
	assert_int_equal(pg_voice_part_parse("nope"), -1);
}

/* Audio where part p is n samples of the value p + 1 (rate 1000 Hz, so
 * waits are short). */
static void
audio(struct pg_voice_audio *a, size_t n)
{
	memset(a, 0, sizeof *a);
	a->rate = 1000;
	for (int p = 0; p < PG_VP__COUNT; p++) {
		a->part[p].s = calloc(n, sizeof(int16_t));
		a->part[p].n = a->part[p].cap = n;
		for (size_t i = 0; i < n; i++)
			a->part[p].s[i] = (int16_t)(p + 1);
	}
}

/* The last sample's value as a digit ('\0' silence), across play()s. */
static char last;

/* Plays n samples; appends to heard each run of non-zero values, as a
 * digit ("12" = greeting then message; heard[0] = '\0' starts afresh). */
static void
play(struct pg_voice_dialog *d, int n, char *heard, size_t hn)
{
	int16_t s[1];
	size_t k = strlen(heard);

	if (k == 0)
		last = 0;
	for (int i = 0; i < n; i++) {
		pg_voice_dialog_play(d, s, 1);
		if (s[0] && s[0] + '0' != last && k + 1 < hn) {
			heard[k++] = (char)(s[0] + '0');
			heard[k] = '\0';
		}
		last = s[0] ? (char)(s[0] + '0') : 0;
	}
}

static void
test_dialog(void **state)
{
	struct pg_voice_audio a;
	struct pg_voice_dialog d;
	char heard[64];

	(void)state;
	audio(&a, 100);                      /* 0.1 s parts; waits of 5 s */

	/* no key: the greeting three times, nothing else, then the end */
	pg_voice_dialog_init(&d, &a);
	heard[0] = '\0';
	play(&d, 3 * 100 + 3 * 5000 + 10, heard, sizeof heard);
	assert_string_equal(heard, "111");
	assert_true(pg_voice_dialog_done(&d));
	assert_int_equal(d.todo, 0);
	assert_false(d.heard);

	/* other keys at the greeting do nothing */
	pg_voice_dialog_init(&d, &a);
	heard[0] = '\0';
	play(&d, 50, heard, sizeof heard);
	pg_voice_dialog_key(&d, '2');
	pg_voice_dialog_key(&d, '#');
	play(&d, 100, heard, sizeof heard);
	assert_string_equal(heard, "1");
	assert_false(d.heard);

	/* 1: the message (at once), the menu after a pause, 1: acked, the end */
	pg_voice_dialog_key(&d, '1');
	assert_true(d.heard);
	assert_int_equal(d.todo, PG_VOICE_DO_HEARD);
	play(&d, 100 + PG_VOICE_GAP_MS + 100, heard, sizeof heard);
	assert_string_equal(heard, "123");
	pg_voice_dialog_key(&d, '1');
	assert_true(d.acked);
	assert_int_equal(d.todo, PG_VOICE_DO_HEARD | PG_VOICE_DO_ACK);
	assert_false(pg_voice_dialog_done(&d));
	play(&d, 100 + PG_VOICE_GAP_MS, heard, sizeof heard);
	assert_string_equal(heard, "1234");
	assert_true(pg_voice_dialog_done(&d));
	assert_string_equal(d.keys, "2#11");

	/* 2 reads it again; 3 passes it on */
	pg_voice_dialog_init(&d, &a);
	heard[0] = '\0';
	pg_voice_dialog_key(&d, '1');
	play(&d, 50, heard, sizeof heard);
	pg_voice_dialog_key(&d, '2');
	play(&d, 100 + PG_VOICE_GAP_MS + 100, heard, sizeof heard);
	pg_voice_dialog_key(&d, '3');
	play(&d, 200 + PG_VOICE_GAP_MS, heard, sizeof heard);
	assert_string_equal(heard, "235");       /* the message again, unbroken */
	assert_true(d.passed);
	assert_false(d.acked);
	assert_true(pg_voice_dialog_done(&d));

	/* nobody answers the menu: said three times, then the end */
	pg_voice_dialog_init(&d, &a);
	heard[0] = '\0';
	pg_voice_dialog_key(&d, '1');
	play(&d, 100 + PG_VOICE_GAP_MS + 3 * 100 + 3 * 5000 + 10, heard, sizeof heard);
	assert_string_equal(heard, "2333");
	assert_true(pg_voice_dialog_done(&d));

	/* a one-part script: the message at once, heard */
	for (int p = 0; p < PG_VP__COUNT; p++)
		if (p != PG_VP_MESSAGE)
			a.part[p].n = 0;
	pg_voice_dialog_init(&d, &a);
	heard[0] = '\0';
	assert_true(d.heard);
	play(&d, 100 + 5000 + 10, heard, sizeof heard);
	assert_string_equal(heard, "2");
	assert_true(pg_voice_dialog_done(&d));
	for (int p = 0; p < PG_VP__COUNT; p++)
		free(a.part[p].s);
}

static void
test_events(void **state)
{
	struct pg_rtp_tx tx;
	struct pg_rtp_event ev = { .key = '#', .duration = 160, .ts = 12345 }, back;
	uint8_t pkt[64];
	size_t n;

	(void)state;
	pg_rtp_tx_init(&tx, PG_RTP_PCMU);
	n = pg_rtp_event_build(&tx, 101, &ev, pkt);
	assert_int_equal(n, 16);
	assert_int_equal(pkt[1], 0x80 | 101);        /* marker: the event's first packet */
	assert_int_equal(pkt[12], 11);               /* '#' is event 11 */
	assert_int_equal(pg_rtp_pt(pkt, n), 101);
	assert_int_equal(pg_rtp_event_parse(pkt, n, 101, &back), 0);
	assert_int_equal(back.key, '#');
	assert_false(back.end);
	assert_int_equal(back.duration, 160);
	assert_int_equal(back.ts, 12345);
	ev.end = true;
	ev.duration = 800;
	n = pg_rtp_event_build(&tx, 101, &ev, pkt);
	assert_int_equal(pkt[1], 101);               /* no marker */
	assert_int_equal(pg_rtp_event_parse(pkt, n, 101, &back), 0);
	assert_true(back.end);
	/* hostile: short, another type, event 16 (not a key) */
	assert_int_equal(pg_rtp_event_parse(pkt, 15, 101, &back), -1);
	assert_int_equal(pg_rtp_event_parse(pkt, n, 100, &back), -1);
	pkt[12] = 16;
	assert_int_equal(pg_rtp_event_parse(pkt, n, 101, &back), -1);
	ev.key = 'x';
	assert_int_equal(pg_rtp_event_build(&tx, 101, &ev, pkt), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_dialog),
		cmocka_unit_test(test_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
