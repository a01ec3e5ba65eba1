/*
 * cli_config.c - the CLI's offline side: finding and loading the
 * configuration (for check, render and the server URL), reading input,
 * and the commands that need no daemon, check and hash-token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pagegate/config.h"
#include "pagegate/util.h"
#include "cli_priv.h"

void cli__config_path(const char *arg, char *out, size_t size)
{
	struct stat st;
	const char *p = arg ? arg : getenv("PAGEGATE_CONFIG");
	if (!p || !*p)
		p = CLI_DEFAULT_CONFIG;
	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(out, size, "%s/pagegate.conf", p);
	else
		pg_strlcpy(out, p, size);
}

int cli__load_config(const char *arg, struct pg_config **cfg)
{
	char path[1024];
	struct pg_diags d;
	pg_err e;

	cli__config_path(arg, path, sizeof path);
	pg_diags_init(&d);
	e = pg_config_load(path, cfg, &d);
	for (size_t i = 0; i < d.n; i++)        /* every one has a line */
		fprintf(stderr, "%s:%d: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
	if (e != PG_OK && d.n == 0)
		fprintf(stderr, "%s: %s\n", path, pg_strerror(e));
	pg_diags_free(&d);
	return e == PG_OK ? EX_OK : EX_FAIL;
}

pg_err cli__read_all(FILE *f, struct pg_buf *b)
{
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (pg_buf_add(b, chunk, n) != PG_OK)
			return PG_ERR_TOOBIG;
	return ferror(f) ? PG_ERR_IO : PG_OK;
}

int cli__check(struct cli *c, int argc, char **argv)
{
	struct pg_config *cfg = NULL;
	int rc, first = cli__operands(c, argc, argv, &rc);

	if (first < 0)
		return rc;
	if (argc - first > 1)
		return cli__usage_error(c->usage, "%s", "give at most one FILE or DIR");
	rc = cli__load_config(argc > first ? argv[first] : c->config_opt, &cfg);
	if (rc == EX_OK) {
		printf("ok: %zu clients\n", cfg->n_clients);
		pg_config_release(cfg);
	}
	return rc;
}

int cli__hash_token(struct cli *c, int argc, char **argv)
{
	char hex[65], *tok = NULL;
	int rc, first = cli__operands(c, argc, argv, &rc);

	if (first < 0)
		return rc;
	if (argc - first != 1)
		return cli__usage_error(c->usage, "%s",
					"give one TOKEN, or - to read it from stdin");
	if (strcmp(argv[first], "-") == 0)
		rc = cli__read_token(stdin, "stdin", &tok);
	else if (!(tok = pg_strdup(argv[first])))
		rc = EX_FAIL;
	if (rc != EX_OK)
		return rc;
	if (!*tok) {
		free(tok);
		return cli__usage_error(c->usage, "%s", "the token is empty");
	}
	pg_sha256_hex(tok, strlen(tok), hex);
	explicit_bzero(tok, strlen(tok));
	free(tok);
	puts(hex);
	return EX_OK;
}
