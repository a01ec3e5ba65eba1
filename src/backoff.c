/*
 * backoff.c - retry timing (backoff.h): capped exponential backoff with
 * jitter.  Pure: no clock, no randomness of its own.
 */
#include <limits.h>

#include "pagegate/backoff.h"

#define MS_PER_S       1000
#define MAX_SHIFT      62             /* 2^62 ms is far past any cap */

/* The un-jittered delay: min(cap, base * 2^(attempts-1)), in ms, computed
 * without overflow for any attempt count. */
static int64_t
raw_delay_ms(const struct pg_retry_policy *p, int attempts)
{
	int64_t base = (int64_t)(p->base_s > 0 ? p->base_s : 0) * MS_PER_S;
	int64_t cap = (int64_t)(p->cap_s > 0 ? p->cap_s : 0) * MS_PER_S;
	int shift = attempts > 1 ? attempts - 1 : 0;

	if (base > cap)
		return cap;
	if (shift > MAX_SHIFT || base > (cap >> shift))
		return cap;
	return base << shift;
}

int64_t
pg_backoff_ms(const struct pg_retry_policy *p, int attempts, uint32_t rnd)
{
	int64_t raw = raw_delay_ms(p, attempts);
	int64_t cap = (int64_t)(p->cap_s > 0 ? p->cap_s : 0) * MS_PER_S;
	/* factor in [1 - J, 1 + J]: rnd 0 -> lowest, UINT32_MAX -> highest */
	double factor = 1.0 - PG_BACKOFF_JITTER +
		2.0 * PG_BACKOFF_JITTER * ((double)rnd / (double)UINT32_MAX);
	double d = (double)raw * factor + 0.5;
	int64_t ms;

	if (d >= (double)cap)
		return cap;
	ms = (int64_t)d;
	return ms < 0 ? 0 : ms;
}

bool
pg_backoff_next(const struct pg_retry_policy *p, int attempts,
		int64_t now_ms, int64_t expires_ms, uint32_t rnd,
		int64_t *next_ms)
{
	int64_t d = pg_backoff_ms(p, attempts, rnd);

	if (now_ms > INT64_MAX - d)
		return false;
	if (now_ms + d >= expires_ms)
		return false;
	*next_ms = now_ms + d;
	return true;
}
