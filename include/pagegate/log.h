/*
 * log.h - the logger, the only process-wide state.  One line per call on
 * stderr: "2026-11-22T15:34:00.123Z LEVEL text".  Thread-safe.  Secrets
 * (tokens, passwords) must never be passed to it.
 */
#ifndef PAGEGATE_LOG_H
#define PAGEGATE_LOG_H

enum pg_log_level { PG_LOG_DEBUG = 0, PG_LOG_INFO, PG_LOG_WARN, PG_LOG_ERR };

/* Sets the minimum level printed (default INFO; env PAGEGATE_LOG=debug). */
void pg_log_set_level(enum pg_log_level min);

void pg_log(enum pg_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pg_debug(...) pg_log(PG_LOG_DEBUG, __VA_ARGS__)
#define pg_info(...)  pg_log(PG_LOG_INFO, __VA_ARGS__)
#define pg_warn(...)  pg_log(PG_LOG_WARN, __VA_ARGS__)
#define pg_error(...) pg_log(PG_LOG_ERR, __VA_ARGS__)

#endif
