/*
 * fuzz_config.c - the daemon's configuration file: the input is
 * pagegate.conf (libconfig syntax, the key tables, every channel's
 * section, operators, retries), loaded by pg_config_load from a scratch
 * directory that holds one valid client file (clients/) and a link to the
 * tree's templates/ (templates), which the input's settings may name.
 *
 * Checked besides the sanitizers: every refusal comes with at least one
 * diagnostic, and each names a file and says something; a loaded
 * configuration is freed whole.
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
	if (access(fuzz_path("templates"), F_OK) != 0 &&
	    symlink(PG_FUZZ_TOP "/templates", fuzz_path("templates")) != 0)
		abort();
	fuzz_mkdir("clients");
	fuzz_write("clients/acme-hvac.conf", FUZZ_CLIENT_CONF, strlen(FUZZ_CLIENT_CONF));
	conf = fuzz_write("pagegate.conf", data, size);
	pg_diags_init(&d);
	e = pg_config_load(conf, &c, &d);
	if (e == PG_OK) {
		FUZZ_ASSERT(c != NULL);
		pg_config_release(c);
	} else {
		FUZZ_ASSERT(c == NULL && pg_diags_errors(&d) > 0);
		for (size_t i = 0; i < d.n; i++)
			FUZZ_ASSERT(d.v[i].file[0] && d.v[i].msg[0]);
	}
	pg_diags_free(&d);
	return 0;
}
