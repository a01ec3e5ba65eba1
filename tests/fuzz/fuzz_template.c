/*
 * fuzz_template.c - the template language (template.h): the first byte of
 * the input picks the kind (a message template, a digest subject, a
 * digest body), the rest is the template text.  It is checked against a
 * client of a configuration loaded from text and, when the check passes,
 * rendered with a real message's variables (digests: two rows) plainly
 * and with JSON escaping.
 *
 * Checked besides the sanitizers: a refusal names a line within the text
 * and a reason; a template that passes the check always renders (the
 * check's promise: nothing unknown or malformed reaches rendering).
 */
#include "fuzz.h"

#include "pagegate/intake.h"
#include "pagegate/store.h"
#include "pagegate/template.h"

static struct pg_config *cfg;
static const struct pg_client *cl;
static struct pg_message msg;
static struct pg_tvars tv, rows[2];

static void
setup(void)
{
	static const char body[] =
		"{\"client\":\"acme-hvac\",\"kind\":\"dispatch\",\"urgency\":\"emergency\","
		"\"caller\":{\"name\":\"Maria \\\"M\\\" L\\u00f3pez\",\"phone\":\"+1 555 010 0199\","
		"\"company\":\"Elm <Apts>\"},\"text\":\"No heat since\\nthis morning \\u2744\","
		"\"fields\":{\"address\":\"12 Elm St\",\"unit\":\"Furnace\"}}";
	struct pg_api_error err;
	const struct pg_contact *contact;

	pg_log_set_level(PG_LOG_ERR);
	cfg = fuzz_config(FUZZ_DAEMON_CONF, strlen(FUZZ_DAEMON_CONF), FUZZ_CLIENT_CONF,
			  strlen(FUZZ_CLIENT_CONF));
	FUZZ_ASSERT(cfg != NULL);
	FUZZ_ASSERT(pg_intake_parse_message(body, strlen(body), cfg, &msg, &cl, &err) == PG_OK);
	msg.id = 42;
	msg.received_ms = 1764000000000;
	contact = &cl->contacts[1];
	pg_tvars_init(&tv);
	FUZZ_ASSERT(pg_tvars_for_message(&tv, cl, &msg, contact, 7) == PG_OK);
	FUZZ_ASSERT(pg_tvars_set(&tv, "ack_url", "https://pagegate.example/a/AbC") == PG_OK);
	FUZZ_ASSERT(pg_tvars_set(&tv, "callback", "+1 555 010 0100") == PG_OK);
	FUZZ_ASSERT(pg_tvars_set(&tv, "messages.count", "2") == PG_OK);
	for (int i = 0; i < 2; i++) {
		pg_tvars_init(&rows[i]);
		FUZZ_ASSERT(pg_tvars_for_message(&rows[i], cl, &msg, contact, 8 + i) == PG_OK);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum pg_tpl_kind kinds[] = {
		PG_TPL_MESSAGE, PG_TPL_DIGEST_SUBJECT, PG_TPL_DIGEST_BODY
	};
	enum pg_tpl_kind kind;
	struct pg_buf out;
	char *text, why[256];
	int line = 0;
	pg_err e;

	if (!cfg)
		setup();
	if (size == 0)
		return 0;
	kind = kinds[data[0] % 3];
	text = fuzz_cstr(data + 1, size - 1);
	why[0] = '\0';
	e = pg_template_check_kind(text, kind, cl, &line, why, sizeof why);
	if (e != PG_OK) {
		FUZZ_ASSERT(e == PG_ERR_INVAL);
		FUZZ_ASSERT(why[0] != '\0' && memchr(why, '\0', sizeof why));
		FUZZ_ASSERT(line >= 1);
	} else {
		tv.items = kind == PG_TPL_MESSAGE ? NULL : rows;
		tv.n_items = kind == PG_TPL_MESSAGE ? 0 : 2;
		for (int esc = 0; esc < 2; esc++) {
			pg_buf_init(&out, 1 << 20);
			e = pg_template_render(text, &tv, esc ? PG_ESC_JSON : PG_ESC_NONE, &out);
			FUZZ_ASSERT(e == PG_OK || e == PG_ERR_TOOBIG);
			pg_buf_free(&out);
		}
	}
	/* the same text as a client's own template (fields checked) and as a
	 * default (any fields.<id>) */
	(void)pg_template_check(text, NULL, &line, why, sizeof why);
	free(text);
	return 0;
}
