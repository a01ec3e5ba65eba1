/*
 * fuzz_client.c - a client's preference file: the input is
 * clients/acme-hvac.conf beside a fixed pagegate.conf (email, SMS, pager,
 * MQTT; the tree's templates), loaded by pg_config_load: fields,
 * contacts and their devices on every channel, business hours, holidays,
 * rules, on-call rotations, escalations, summaries, the client's own
 * templates and content.
 *
 * Checked besides the sanitizers: every refusal comes with at least one
 * diagnostic, and each names a file and says something; a loaded
 * configuration has the client.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_config *c = NULL;
	struct pg_diags d;
	const char *conf;
	pg_err e;

	pg_log_set_level(PG_LOG_ERR);
	fuzz_mkdir("clients");
	fuzz_write("clients/acme-hvac.conf", data, size);
	conf = fuzz_write("pagegate.conf", FUZZ_DAEMON_CONF, strlen(FUZZ_DAEMON_CONF));
	pg_diags_init(&d);
	e = pg_config_load(conf, &c, &d);
	if (e == PG_OK) {
		FUZZ_ASSERT(c != NULL && c->n_clients == 1);
		pg_config_release(c);
	} else {
		FUZZ_ASSERT(c == NULL && pg_diags_errors(&d) > 0);
		for (size_t i = 0; i < d.n; i++)
			FUZZ_ASSERT(d.v[i].file[0] && d.v[i].msg[0]);
	}
	pg_diags_free(&d);
	return 0;
}
