/*
 * log.c - the logger: the one piece of process-wide state (log.h).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pagegate/log.h"
#include "pagegate/util.h"

static int log_min = -1;    /* -1: not yet read from PAGEGATE_LOG */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };

void
pg_log_set_level(enum pg_log_level min)
{
	pthread_mutex_lock(&log_mu);
	log_min = (int)min;
	pthread_mutex_unlock(&log_mu);
}

static int
level_from_env(void)
{
	const char *e = getenv("PAGEGATE_LOG");

	if (e == NULL)
		return PG_LOG_INFO;
	if (strcasecmp(e, "debug") == 0)
		return PG_LOG_DEBUG;
	if (strcasecmp(e, "warn") == 0)
		return PG_LOG_WARN;
	if (strcasecmp(e, "error") == 0)
		return PG_LOG_ERR;
	return PG_LOG_INFO;
}

void
pg_log(enum pg_log_level lvl, const char *fmt, ...)
{
	char line[2048], ts[PG_ISO_LEN];
	va_list ap;
	int n;

	pthread_mutex_lock(&log_mu);
	if (log_min < 0)
		log_min = level_from_env();
	if ((int)lvl < log_min) {
		pthread_mutex_unlock(&log_mu);
		return;
	}
	pthread_mutex_unlock(&log_mu);

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* One record per line: a newline inside a message cannot forge one. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	pg_iso8601(pg_now_ms(), ts);
	flockfile(stderr);
	fprintf(stderr, "%s %s %s%s\n", ts, level_names[lvl], line,
	    (size_t)n >= sizeof line ? "..." : "");
	fflush(stderr);
	funlockfile(stderr);
}
