/*
 * fuzz_intake.c - the JSON intake: a request body of POST /v1/messages
 * and of POST /v1/route/preview, parsed against a configuration loaded
 * from text (one client with a required field, on every channel) by
 * pg_intake_parse_message and pg_intake_parse_preview - the pure part of
 * the API, without the HTTP server.
 *
 * Checked besides the sanitizers: a refusal is a 4xx naming a code and a
 * message (never a 5xx but for out of memory), an acceptance names the
 * client and carries text, and the error's strings are terminated.
 */
#include "fuzz.h"

#include "pagegate/intake.h"
#include "pagegate/store.h"

static struct pg_config *cfg;

static void
check_error(pg_err e, const struct pg_api_error *err)
{
	FUZZ_ASSERT(e == PG_ERR_INVAL || e == PG_ERR_NOMEM);
	FUZZ_ASSERT(memchr(err->code, '\0', sizeof err->code));
	FUZZ_ASSERT(memchr(err->field, '\0', sizeof err->field));
	FUZZ_ASSERT(memchr(err->message, '\0', sizeof err->message));
	if (e == PG_ERR_INVAL) {
		FUZZ_ASSERT(err->status >= 400 && err->status <= 499);
		FUZZ_ASSERT(err->code[0] && err->message[0]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	const struct pg_client *cl;
	struct pg_api_error err;
	struct pg_message m;
	enum pg_kind kind;
	enum pg_urgency urg;
	int64_t at;
	pg_err e;

	if (!cfg) {
		pg_log_set_level(PG_LOG_ERR);
		cfg = fuzz_config(FUZZ_DAEMON_CONF, strlen(FUZZ_DAEMON_CONF),
				  FUZZ_CLIENT_CONF, strlen(FUZZ_CLIENT_CONF));
		FUZZ_ASSERT(cfg != NULL);
	}
	e = pg_intake_parse_message(body, size, cfg, &m, &cl, &err);
	if (e == PG_OK) {
		FUZZ_ASSERT(cl != NULL && m.text != NULL);
		pg_message_free(&m);
	} else {
		check_error(e, &err);
	}
	e = pg_intake_parse_preview(body, size, cfg, 1764000000000, &cl, &kind, &urg, &at,
				    &err);
	if (e == PG_OK)
		FUZZ_ASSERT(cl != NULL);
	else
		check_error(e, &err);
	return 0;
}
