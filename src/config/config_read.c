/*
 * config_read.c - reading one configuration file (config_keys.h
 * pg_conf_read): a lexical scan for integer literals libconfig 1.5 would
 * truncate, then libconfig's parser with @include relative to the file's
 * directory and syntax errors at their file:line.
 *
 * Why the scan: libconfig 1.5 reads an integer literal without the L
 * suffix into 32 bits and silently keeps the low bits ("a =
 * 4294967297;" reads back as 1, "0x1FFFFFFFF" as -1), so no check after
 * parsing can tell.  The scan follows libconfig's lexical rules closely
 * enough to find every integer token - it skips strings, comments
 * (#, //, slash-star) and names - and refuses those that do not fit 32 bits
 * (a hexadecimal one above 0x7FFFFFFF, which libconfig turns negative,
 * included) or, with L, 64 bits.  The lines it refused are remembered so
 * that the engine does not also judge their truncated values.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_priv.h"
#include "pagegate/util.h"

#define FILE_MAX     (16 * 1024 * 1024)   /* larger files are refused: not scanned */
#define INCLUDE_MAX  10                   /* libconfig's own nesting limit */

struct pg_conf_spot {
	char *file;
	int line;
};

void pg_conf_init(struct pg_conf *cx, const char *file, struct pg_diags *d)
{
	memset(cx, 0, sizeof *cx);
	cx->d = d;
	cx->file = file;
	cx->dir = strdup(file ? file : "");
	if (!cx->dir) {
		cx->nomem = true;
		return;
	}
	char *slash = strrchr(cx->dir, '/');
	if (slash)
		slash[1] = '\0';
	else
		cx->dir[0] = '\0';
}

void pg_conf_done(struct pg_conf *cx)
{
	for (size_t i = 0; i < cx->n_spots; i++)
		free(cx->spots[i].file);
	free(cx->spots);
	free(cx->dir);
	cx->spots = NULL;
	cx->n_spots = cx->cap_spots = 0;
	cx->dir = NULL;
}

static void spot_add(struct pg_conf *cx, const char *file, int line)
{
	if (cx->n_spots == cx->cap_spots) {
		size_t cap = cx->cap_spots ? cx->cap_spots * 2 : 8;
		struct pg_conf_spot *v = realloc(cx->spots, cap * sizeof *v);
		if (!v) {
			cx->nomem = true;
			return;
		}
		cx->spots = v;
		cx->cap_spots = cap;
	}
	if (!(cx->spots[cx->n_spots].file = strdup(file))) {
		cx->nomem = true;
		return;
	}
	cx->spots[cx->n_spots++].line = line;
}

bool config__refused(const struct pg_conf *cx, const config_setting_t *s)
{
	char buf[512];
	const char *file;
	int line;

	if (!s || cx->n_spots == 0)
		return false;
	file = pg_conf_file_of(cx, s, buf, sizeof buf);
	line = (int)config_setting_source_line(s);
	for (size_t i = 0; i < cx->n_spots; i++)
		if (cx->spots[i].line == line && strcmp(cx->spots[i].file, file) == 0)
			return true;
	return false;
}

/* ---- the scan ---- */

/* The whole file, NUL-terminated; NULL when it cannot be read (libconfig
 * reports that). */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= FILE_MAX &&
	    (buf = malloc((size_t)st.st_size + 1)))
		*n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (buf)
		buf[*n] = '\0';
	return buf;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void scan(struct pg_conf *cx, const char *text, const char *file, int depth);

/* The line (from 1) of byte off of text. */
static int line_at(const char *text, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		line += text[i] == '\n';
	return line;
}

/* True, with a diagnostic at its line, when text[0..len) of file holds a
 * NUL byte: the scan stops there while libconfig reads on, so what follows
 * (an @include of a directory) would go unchecked. */
static bool has_nul(struct pg_conf *cx, const char *text, size_t len, const char *file)
{
	const char *z = memchr(text, '\0', len);

	if (!z)
		return false;
	pg_diag_add(cx->d, file, line_at(text, (size_t)(z - text)),
		    "a NUL byte: a configuration file is text");
	cx->errors++;
	cx->unreadable = true;
	return true;
}

/* @include "name" at p (just past "@include", on line of file): scans
 * that file.  One that is there but is not a regular file (a directory, a
 * FIFO, a device) is an error that keeps libconfig from reading at all:
 * libconfig 1.5 would exit the process on it ("input in flex scanner
 * failed") or wait on it for ever. */
static const char *include(struct pg_conf *cx, const char *p, int depth,
			   const char *file, int line)
{
	char name[1024], path[1536];
	size_t n = 0;
	struct stat st;
	char *text;
	size_t len;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '"')
		return p;
	for (p++; *p && *p != '"' && *p != '\n'; p++)
		if (n + 1 < sizeof name)
			name[n++] = *p;
	name[n] = '\0';
	if (*p == '"')
		p++;
	if (depth >= INCLUDE_MAX)
		return p;
	/* libconfig: relative to the include directory, the top file's (an
	 * empty name is that directory itself) */
	snprintf(path, sizeof path, "%s%s", name[0] == '/' || !cx->dir ? "" : cx->dir, name);
	if (stat(path, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_size > FILE_MAX)) {
		pg_diag_add(cx->d, file, line, "@include \"%s\": %s", name,
			    S_ISREG(st.st_mode) ? "larger than 16 MiB" : "not a regular file");
		cx->errors++;
		cx->unreadable = true;
		return p;
	}
	if ((text = slurp(path, &len))) {
		if (!has_nul(cx, text, len, path))
			scan(cx, text, path, depth + 1);
		free(text);
	}
	return p;
}

/* An integer token s[0..n) (sign, digits or 0x..., an L suffix or not):
 * reports it when libconfig would not read it as written. */
static void judge(struct pg_conf *cx, const char *s, size_t n, bool wide, bool hex,
		  const char *file, int line)
{
	char tok[80];
	unsigned long long u;
	long long v;
	char *end;
	bool bad;

	if (n >= sizeof tok)
		n = sizeof tok - 1;
	memcpy(tok, s, n);
	tok[n] = '\0';
	errno = 0;
	if (hex) {
		const char *h = tok + (tok[0] == '-' || tok[0] == '+');
		u = strtoull(h, &end, 16);
		bad = errno == ERANGE || (!wide && u > 0x7fffffffULL);
	} else {
		v = strtoll(tok, &end, 10);
		bad = errno == ERANGE || (!wide && (v < INT32_MIN || v > INT32_MAX));
	}
	if (!bad)
		return;
	if (wide || errno == ERANGE)
		pg_diag_add(cx->d, file, line, "number %s%s does not fit in 64 bits",
			    tok, wide ? "L" : "");
	else
		pg_diag_add(cx->d, file, line, "number %s does not fit in 32 bits: "
			    "write %sL for a 64-bit number", tok, tok);
	cx->errors++;
	spot_add(cx, file, line);
}

static void scan(struct pg_conf *cx, const char *p, const char *file, int depth)
{
	int line = 1;
	bool line_start = true;

	while (*p) {
		char c = *p;
		if (c == '\n') {
			line++;
			line_start = true;
			p++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			p++;
			continue;
		}
		if (c == '#' || (c == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (c == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				line += *p == '\n';
			p += *p ? 2 : 0;
			continue;
		}
		bool at_start = line_start;
		line_start = false;
		if (c == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				line += *p == '\n';
			}
			p += *p ? 1 : 0;
			continue;
		}
		if (c == '@' && at_start && strncmp(p, "@include", 8) == 0) {
			p = include(cx, p + 8, depth, file, line);
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*') {
			while (is_name_char(*p))
				p++;
			continue;
		}
		const char *t = p;
		if ((c == '-' || c == '+') && (is_digit(p[1]) || p[1] == '.'))
			p++;
		if (is_digit(*p) || (*p == '.' && is_digit(p[1]))) {
			bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && is_hex(p[2]);
			bool flt = false;
			if (hex) {
				for (p += 2; is_hex(*p); p++)
					;
			} else {
				while (is_digit(*p) || *p == '.' ||
				       ((*p == 'e' || *p == 'E') && !flt) ||
				       ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E'))) {
					flt = flt || *p == '.' || *p == 'e' || *p == 'E';
					p++;
				}
			}
			size_t n = (size_t)(p - t);
			bool wide = *p == 'L';
			while (*p == 'L')
				p++;
			if (!flt)
				judge(cx, t, n, wide, hex, file, line);
			continue;
		}
		p++;
	}
}

/* ---- reading ---- */

bool pg_conf_read(struct pg_conf *cx, config_t *cf)
{
	char buf[512];
	struct stat st;
	size_t len;
	char *text;
	FILE *f;
	int ok;

	if (stat(cx->file, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* libconfig 1.5 exits the process on a directory, and opening a
		 * FIFO waits for a writer (see include) */
		pg_diag_add(cx->d, cx->file, 0, "cannot read: not a regular file");
		cx->errors++;
		return false;
	}
	if (!(f = fopen(cx->file, "r"))) {
		pg_diag_add(cx->d, cx->file, 0, "cannot open: %s", strerror(errno));
		cx->errors++;
		return false;
	}
	text = slurp(cx->file, &len);
	if (!text) {
		/* unchecked, libconfig must not read it (see include) */
		pg_diag_add(cx->d, cx->file, 0, "cannot read: larger than 16 MiB or out of memory");
		cx->errors++;
		fclose(f);
		return false;
	}
	if (!has_nul(cx, text, len, cx->file))
		scan(cx, text, cx->file, 0);
	if (cx->unreadable) {
		free(text);
		fclose(f);
		return false;
	}
	if (cx->dir && cx->dir[0])
		config_set_include_dir(cf, cx->dir);
	/* From memory when the file could be read whole: libconfig's scanner
	 * reading a FILE rescans a token from its start at every 8 KiB refill,
	 * which makes a long string quadratic (4 MB: seconds); from one
	 * buffer it is linear.  An @include'd file is still read by libconfig
	 * itself (so a huge string belongs in the top file). */
	ok = text ? config_read_string(cf, text) : config_read(cf, f);
	free(text);
	fclose(f);
	if (!ok) {
		const char *ef = config_error_file(cf);
		if (ef && ef[0] != '/' && cx->dir && cx->dir[0]) {
			snprintf(buf, sizeof buf, "%s%s", cx->dir, ef);
			ef = buf;
		}
		pg_diag_add(cx->d, ef ? ef : cx->file, config_error_line(cf), "%s",
			    config_error_text(cf));
		cx->errors++;
		return false;
	}
	return true;
}
