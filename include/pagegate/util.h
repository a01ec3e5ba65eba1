/*
 * util.h - small standalone building blocks: bounded growable buffers,
 * time, timed waits, UTF-8 and control-character checks, hashing and
 * randomness.
 */
#ifndef PAGEGATE_UTIL_H
#define PAGEGATE_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include "pagegate/common.h"

/* A growable byte buffer with a ceiling (curl's dynbuf habit).  data is
 * always NUL-terminated when non-NULL.  Growing past max fails with
 * PG_ERR_TOOBIG and leaves the buffer as it was. */
struct pg_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void pg_buf_init(struct pg_buf *b, size_t max);
void pg_buf_free(struct pg_buf *b);
void pg_buf_reset(struct pg_buf *b);          /* len = 0, keeps memory */
pg_err pg_buf_add(struct pg_buf *b, const void *p, size_t n);
pg_err pg_buf_adds(struct pg_buf *b, const char *s);
pg_err pg_buf_printf(struct pg_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
pg_err pg_buf_vprintf(struct pg_buf *b, const char *fmt, va_list ap);
/* Hands the data to the caller (who frees it) and resets the buffer.
 * Returns "" (allocated) for an empty buffer; NULL only on NOMEM. */
char *pg_buf_steal(struct pg_buf *b);

/* Wall clock in milliseconds since the epoch (UTC). */
int64_t pg_now_ms(void);
/* Monotonic clock in milliseconds, for durations and timeouts. */
int64_t pg_mono_ms(void);

/* Formats ms since epoch as "2026-11-22T15:34:00.123Z" (needs 25 bytes). */
#define PG_ISO_LEN 32
char *pg_iso8601(int64_t ms, char buf[PG_ISO_LEN]);
/* Parses RFC 3339 ("2026-11-22T15:34:00Z", "...T09:34:00-06:00", optional
 * fraction).  Returns 0 and sets *ms, or -1. */
int pg_parse_iso8601(const char *s, int64_t *ms);

/* Proleptic Gregorian calendar arithmetic (H. Hinnant's algorithms), for
 * code that must not depend on the process's time zone. */
int pg_days_in_month(int year, int month);             /* month 1-12 */
int64_t pg_days_from_civil(int64_t year, int month, int day);  /* since 1970-01-01 */
void pg_civil_from_days(int64_t days, int *year, int *month, int *day);

/* A condition variable whose timed waits run on CLOCK_MONOTONIC, so that
 * a wall-clock jump neither cuts a wait short nor stretches it.
 * PG_ERR_NOMEM when it cannot be made. */
pg_err pg_cond_init_mono(pthread_cond_t *cv);
/* Waits on cv (made by pg_cond_init_mono; mu held) until it is signalled
 * or ms milliseconds have passed; returns at once when ms <= 0. */
void pg_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms);
/* Stops a background thread that sleeps on cv under mu and ends when it
 * sees *stopping: sets it under mu, wakes every waiter and, when started,
 * joins th. */
void pg_thread_stop(pthread_mutex_t *mu, pthread_cond_t *cv,
		    _Atomic bool *stopping, pthread_t th, bool started);

/* Parses a duration "90s", "5m", "2h", "1d" or plain seconds "30".
 * Returns 0 and sets *seconds, or -1. */
int pg_parse_duration(const char *s, int64_t *seconds);

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool pg_utf8_valid(const char *s, size_t n);
/* True when s contains a control character (< 0x20 or 0x7f); with
 * allow_newlines, \n \r and \t are permitted. */
bool pg_has_ctl(const char *s, bool allow_newlines);

/* Text from a peer or a person, made fit for one line.  Both read at most
 * len bytes of src (stopping at a NUL; src may be NULL), write at most
 * n - 1 bytes and a NUL into dst (n > 0), never end inside a UTF-8
 * sequence, and return dst.
 *
 * pg_text_oneline: for a reply in the ledger or an error message - every
 * control character and run of blanks becomes one space, and leading and
 * trailing blanks are dropped ("250  ok\r\n" -> "250 ok").
 * pg_text_logsafe: for a value quoted in a log line - each control
 * character becomes '?' and each '"' a '\'', so the line stays one line
 * and its quoting holds. */
char *pg_text_oneline(char *dst, size_t n, const char *src, size_t len);
char *pg_text_logsafe(char *dst, size_t n, const char *src, size_t len);
/* Cuts s back, in place, so that it does not end inside a UTF-8
 * sequence (after a byte-bounded copy).  Returns s. */
char *pg_utf8_trim_partial(char *s);

/* Decodes an application/x-www-form-urlencoded body[0..len) ('+' is a
 * space, %XX a byte, a malformed escape stays literal; empty pairs are
 * skipped, a name without '=' gets "") into *out, an array of *n fields
 * the caller frees with pg_kv_free.  At most max_fields fields: when the
 * body has more, *out holds the first max_fields and PG_ERR_TOOBIG is
 * returned.  PG_ERR_NOMEM (then *out is NULL). */
pg_err pg_form_decode(const char *body, size_t len, size_t max_fields,
		      struct pg_kv **out, size_t *n);
void pg_kv_free(struct pg_kv *v, size_t n);

/* strdup that returns NULL for NULL. */
char *pg_strdup(const char *s);
/* snprintf-style copy that always terminates; returns dst. */
char *pg_strlcpy(char *dst, const char *src, size_t size);

/* SHA-256 of s as 64 lower-case hex characters plus NUL. */
void pg_sha256_hex(const char *s, size_t n, char out[65]);
/* Constant-time comparison of two equal-length byte strings. */
bool pg_ct_equal(const void *a, const void *b, size_t n);
/* Fills buf with n bytes from the kernel's CSPRNG.  Returns PG_OK/PG_ERR_IO. */
pg_err pg_random(void *buf, size_t n);
/* A uniformly random 32-bit value (CSPRNG). */
uint32_t pg_random_u32(void);

#endif
