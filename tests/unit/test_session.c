/*
 * test_session.c - the console's sessions and sign-in throttling
 * (intake_session.c), with the test's own clock: a session lives while it
 * is used and ends after its idle time, ends on sign-out, is found only by
 * its whole id; failed sign-ins pause an address or an operator after
 * INTAKE_THROTTLE_FREE in a row, the pause doubles up to its cap, a
 * success clears it, an hour without failures forgets it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/intake/intake_priv.h"

static void
test_session_life(void **state)
{
	struct intake_sessions *s;
	char sid[INTAKE_SID_LEN], csrf[INTAKE_SID_LEN], sid2[INTAKE_SID_LEN],
	     csrf2[INTAKE_SID_LEN], op[INTAKE_OP_MAX], got[INTAKE_SID_LEN], wrong[INTAKE_SID_LEN];
	int64_t t = 1000000;

	(void)state;
	assert_int_equal(intake__sessions_new(&s), PG_OK);
	assert_int_equal(intake__session_start(s, "ann", 60000, t, sid, csrf), PG_OK);
	assert_int_equal(strlen(sid), 64);
	assert_int_equal(strlen(csrf), 64);
	assert_string_not_equal(sid, csrf);
	assert_true(intake__session_get(s, sid, t + 1000, true, op, got));
	assert_string_equal(op, "ann");
	assert_string_equal(got, csrf);
	/* used at t+1s: alive until t+61s, not after */
	assert_true(intake__session_get(s, sid, t + 60000, false, NULL, NULL));
	assert_true(intake__session_get(s, sid, t + 61000, false, NULL, NULL));
	assert_false(intake__session_get(s, sid, t + 61001, false, NULL, NULL));
	assert_false(intake__session_get(s, sid, t + 1000, false, NULL, NULL));   /* gone for good */

	/* a second one, ended by sign-out; a near miss of its id finds nothing */
	assert_int_equal(intake__session_start(s, "bob", 60000, t, sid2, csrf2), PG_OK);
	assert_string_not_equal(sid, sid2);
	memcpy(wrong, sid2, sizeof wrong);
	wrong[63] = wrong[63] == 'a' ? 'b' : 'a';
	assert_false(intake__session_get(s, wrong, t, false, NULL, NULL));
	assert_false(intake__session_get(s, "short", t, false, NULL, NULL));
	assert_false(intake__session_get(s, NULL, t, false, NULL, NULL));
	assert_true(intake__session_get(s, sid2, t, false, op, NULL));
	assert_string_equal(op, "bob");
	intake__session_end(s, sid2);
	assert_false(intake__session_get(s, sid2, t, false, NULL, NULL));
	intake__sessions_free(s);
}

/* More sessions than fit: the least recently used gives way. */
static void
test_session_bound(void **state)
{
	struct intake_sessions *s;
	char first[INTAKE_SID_LEN], sid[INTAKE_SID_LEN], csrf[INTAKE_SID_LEN];
	int64_t t = 5000;

	(void)state;
	assert_int_equal(intake__sessions_new(&s), PG_OK);
	assert_int_equal(intake__session_start(s, "ann", 3600000, t, first, csrf), PG_OK);
	for (int i = 1; i < INTAKE_SESSIONS_MAX; i++)
		assert_int_equal(intake__session_start(s, "bob", 3600000, t + i, sid, csrf), PG_OK);
	assert_true(intake__session_get(s, first, t + INTAKE_SESSIONS_MAX, false, NULL, NULL));
	assert_int_equal(intake__session_start(s, "carl", 3600000, t + INTAKE_SESSIONS_MAX + 1,
					       sid, csrf), PG_OK);
	assert_false(intake__session_get(s, first, t + INTAKE_SESSIONS_MAX + 2, false, NULL, NULL));
	assert_true(intake__session_get(s, sid, t + INTAKE_SESSIONS_MAX + 2, false, NULL, NULL));
	intake__sessions_free(s);
}

static void
test_throttle(void **state)
{
	struct intake_sessions *s;
	int64_t t = 10000000, w;
	int i;

	(void)state;
	assert_int_equal(intake__sessions_new(&s), PG_OK);
	for (i = 1; i < INTAKE_THROTTLE_FREE; i++) {
		assert_int_equal(intake__signin_failed(s, "10.0.0.1", "ann", t), i);
		assert_int_equal(intake__signin_wait(s, "10.0.0.1", "ann", t), 0);
	}
	/* the fifth failure pauses both the address and the name */
	assert_int_equal(intake__signin_failed(s, "10.0.0.1", "ann", t), INTAKE_THROTTLE_FREE);
	assert_int_equal(intake__signin_wait(s, "10.0.0.1", "ann", t), INTAKE_THROTTLE_MS);
	assert_int_equal(intake__signin_wait(s, "10.0.0.2", "ann", t), INTAKE_THROTTLE_MS);
	assert_int_equal(intake__signin_wait(s, "10.0.0.1", "bob", t), INTAKE_THROTTLE_MS);
	assert_int_equal(intake__signin_wait(s, "10.0.0.2", "bob", t), 0);
	assert_int_equal(intake__signin_wait(s, "10.0.0.1", "ann", t + INTAKE_THROTTLE_MS), 0);
	/* each further failure doubles the pause, up to the cap */
	t += INTAKE_THROTTLE_MS;
	intake__signin_failed(s, "10.0.0.1", "ann", t);
	assert_int_equal(intake__signin_wait(s, "10.0.0.1", "ann", t), 2 * INTAKE_THROTTLE_MS);
	for (i = 0; i < 20; i++)
		intake__signin_failed(s, "10.0.0.1", "ann", t);
	w = intake__signin_wait(s, "10.0.0.1", "ann", t);
	assert_int_equal(w, INTAKE_THROTTLE_CAP);
	/* a success clears both */
	intake__signin_ok(s, "10.0.0.1", "ann");
	assert_int_equal(intake__signin_wait(s, "10.0.0.1", "ann", t), 0);
	assert_int_equal(intake__signin_failed(s, "10.0.0.1", "ann", t), 1);
	/* an hour without failures forgets them */
	for (i = 0; i < INTAKE_THROTTLE_FREE; i++)
		intake__signin_failed(s, "10.0.0.9", "zed", t);
	assert_true(intake__signin_wait(s, "10.0.0.9", "zed", t) > 0);
	t += 60 * 60 * 1000 + 1;
	assert_int_equal(intake__signin_wait(s, "10.0.0.9", "zed", t), 0);
	assert_int_equal(intake__signin_failed(s, "10.0.0.9", "zed", t), 1);
	intake__sessions_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_life),
		cmocka_unit_test(test_session_bound),
		cmocka_unit_test(test_throttle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
