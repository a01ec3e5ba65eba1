/*
 * backoff.h - retry timing: capped exponential backoff with jitter.  Pure.
 *   delay(n) = min(cap, base * 2^(n-1)) scaled by a jitter factor in
 *   [1 - PG_BACKOFF_JITTER, 1 + PG_BACKOFF_JITTER], never above cap.
 */
#ifndef PAGEGATE_BACKOFF_H
#define PAGEGATE_BACKOFF_H

#include "pagegate/config.h"

#define PG_BACKOFF_JITTER 0.2

/* Delay in ms before attempt number attempts+1, after `attempts` (>= 1)
 * failed attempts.  rnd is a uniform random 32-bit value (tests pass fixed
 * values: 0 gives the lowest jitter, UINT32_MAX the highest). */
int64_t pg_backoff_ms(const struct pg_retry_policy *p, int attempts, uint32_t rnd);

/* What to do after a failed attempt finished at now_ms: returns true and
 * sets *next_ms when another attempt fits before expires_ms; false when
 * the delivery should fail (gave up). */
bool pg_backoff_next(const struct pg_retry_policy *p, int attempts,
		     int64_t now_ms, int64_t expires_ms, uint32_t rnd,
		     int64_t *next_ms);

#endif
