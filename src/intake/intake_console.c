/*
 * intake_console.c - the operator console's files:
 *   GET /                 index.html (whatever the query: /?dnis=&ani= is
 *                         the softphone's screen pop; the page reads it)
 *   GET /console/PATH     the page's scripts, styles and images
 * from the table the build embeds (src/console/www/, by
 * src/console/embed.sh), or from console.dir when pagegate.conf names
 * one (for development: edit, reload).  The page gets a strict
 * Content-Security-Policy: its scripts and styles come from these files
 * only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <microhttpd.h>

#include "intake_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define FILE_MAX  (4 * 1024 * 1024)   /* one file served from console.dir */
#define PATH_MAX_ 256

static const char CSP[] =
	"default-src 'self'; img-src 'self' data:; style-src 'self'; "
	"script-src 'self'; connect-src 'self'; base-uri 'none'; "
	"frame-ancestors 'none'; form-action 'self'";

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".woff2", "font/woff2" },
};

/* The content type of path by its extension, or NULL (not served). */
static const char *
type_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* A path the console may name: segments of [A-Za-z0-9._-], none starting
 * with '.', no empty ones - nothing that leaves the directory. */
static bool
path_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n >= PATH_MAX_ || strspn(p, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != n)
		return false;
	for (const char *s = p; *s; ) {
		if (*s == '.' || *s == '/')
			return false;            /* ".x", "..", "//", "/x" */
		s += strcspn(s, "/");
		if (*s == '/' && !*++s)
			return false;            /* "x/" */
	}
	return true;
}

/* Reads dir/path (a regular file, at most FILE_MAX) into *data. */
static pg_err
read_file(const char *dir, const char *path, char **data, size_t *len)
{
	char full[PATH_MAX_ + 1024];
	struct pg_buf b;
	struct stat st;
	char chunk[8192];
	size_t n;
	FILE *f;

	snprintf(full, sizeof full, "%s/%s", dir, path);
	if (stat(full, &st) != 0 || !S_ISREG(st.st_mode) || !(f = fopen(full, "rb")))
		return PG_ERR_NOTFOUND;
	pg_buf_init(&b, FILE_MAX);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (pg_buf_add(&b, chunk, n) != PG_OK) {
			fclose(f);
			pg_buf_free(&b);
			return PG_ERR_TOOBIG;
		}
	fclose(f);
	*len = b.len;
	if (!(*data = b.len ? pg_buf_steal(&b) : strdup("")))
		return PG_ERR_NOMEM;
	return PG_OK;
}

/* Answers path from console.dir or the embedded table. */
static enum MHD_Result
serve(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r,
      const char *path)
{
	const char *type = type_of(path);
	struct pg_config *cfg;
	char *data = NULL;
	size_t len = 0;
	pg_err e = PG_ERR_NOTFOUND;
	bool html;

	if (!type || !path_ok(path))
		return intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				    "no such resource");
	if ((cfg = pg_live_get(h->ctx->live)) && cfg->console_dir) {
		e = read_file(cfg->console_dir, path, &data, &len);
	} else {
		for (size_t i = 0; i < intake__n_www; i++)
			if (strcmp(intake__www[i].path, path) == 0) {
				len = intake__www[i].len;
				if ((data = malloc(len ? len : 1)))
					memcpy(data, intake__www[i].data, len);
				e = data ? PG_OK : PG_ERR_NOMEM;
				break;
			}
	}
	if (cfg)
		pg_config_release(cfg);
	if (e == PG_ERR_NOTFOUND)
		return intake__fail(h, conn, r, 404, "not_found", "", NULL, NULL,
				    strcmp(path, "index.html") == 0 ?
				    "the console is not in this build" : "no such resource");
	if (e)
		return intake__fail(h, conn, r, 500, "internal", "", NULL, NULL,
				    "cannot read %s: %s", path, pg_strerror(e));
	html = strcmp(type, types[0].type) == 0;
	return intake__respond(conn, r, MHD_HTTP_OK, type, data, len,
			       "X-Content-Type-Options", "nosniff",
			       "Referrer-Policy", "no-referrer",
			       "X-Frame-Options", "DENY",
			       html ? "Content-Security-Policy" : NULL, CSP, NULL);
}

enum MHD_Result
intake__do_index(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	return serve(h, conn, r, "index.html");
}

enum MHD_Result
intake__do_asset(struct pg_http *h, struct MHD_Connection *conn, struct intake_req *r)
{
	return serve(h, conn, r, r->p.token);
}
