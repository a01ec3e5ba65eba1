/*
 * config_keys.h - configuration declared once.  Every group of settings
 * (the top of pagegate.conf, a client file, a device, a rule, an sms
 * provider, a fax gateway ...) is a constant table of keys: name, type,
 * bounds, default, where the value lands in a target struct (or "checked
 * only"), whether it is required, and which gateway kinds it applies to.
 * One engine (pg_conf_apply) walks a table over a libconfig group; the
 * daemon file, the client files and every channel driver use it, so each
 * kind of mistake has one wording everywhere:
 *
 *   unknown setting "lisen" (did you mean "listen"?)
 *   unknown setting "proxi" in fax gateway (did you mean "proxy"?)
 *   "host" is not a setting of sip fax gateways (only of hylafax)
 *   "port" must be a whole number, not a string
 *   each entry of "fax" must be a group { ... }, not a string
 *   bad port: expected a whole number from 1 to 65535
 *   bad wait: expected a duration from 1s to 7d such as "30s", "5m", "2h", "1d"
 *   bad starttls "requird": expected "off", "opportunistic" or "required" (did you mean "required"?)
 *   bad name: expected 1 to 64 bytes
 *   bad name: expected UTF-8 text
 *   bad name: expected text without control characters (line breaks, tabs)
 *   missing "host" in smtp gateway
 *   cannot read tls_ca "/etc/pagegate/ca.pem": No such file or directory
 *   number 4294967297 does not fit in 32 bits: write 4294967297L for a 64-bit number
 *
 * and the checks that are not per key (duplicates, references, pairs of
 * settings) use the helpers below for theirs:
 *
 *   duplicate sms provider "k" (first at line 2)
 *   unknown sms gateway "nexmo" (did you mean "nexo"?) / (known: kannel, twilio)
 *   set "from" or "messaging_service_sid", not both
 *   set both "user" and "password", or neither
 *   sms device, but the daemon configuration defines no sms provider
 *   bad notify "jane": expected "contact:ID" or "oncall:ID"
 *   warning: store.path is deprecated: write dsn = "sqlite:var/pagegate.db"
 *
 * Every diagnostic is "file:line: message" - the file a setting was read
 * from (also inside @include'd files), line 1 for what is missing at the
 * top of a file (also an empty one).  Warnings ("warning: ...") never fail
 * a load.
 *
 * Numbers: libconfig 1.5 silently truncates an integer literal over 32
 * bits (4294967297 reads back as 1).  pg_conf_read scans each file (and
 * its @include'd files) before libconfig does and refuses such literals;
 * a 64-bit value is written with the L suffix and reaches the key's range
 * check.  The engine never stores a value into a field it does not fit:
 * bounds are checked against the field's size (pg_conf_table_check, run
 * by the unit tests over every table).
 */
#ifndef PAGEGATE_CONFIG_KEYS_H
#define PAGEGATE_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "pagegate/config.h"

/* ---- the context of reading one file ---- */

struct pg_conf_spot;          /* a line the reader refused (config_read.c) */

struct pg_conf {
	struct pg_diags *d;       /* where every diagnostic goes */
	const char *file;         /* the file being read: diagnostics of its
				     own settings, and of what is missing at
				     its top (line 1) */
	char *dir;                /* its directory with a trailing '/', or
				     "" (the current one): PATH keys and
				     @include'd names are relative to it */
	int errors;               /* errors reported through this context */
	int warnings;             /* warnings (never fail a load) */
	bool nomem;               /* an allocation failed */
	/* private to the engine */
	bool unreadable;          /* an @include names what is not a regular
				     file: libconfig must not read it */
	struct pg_conf_spot *spots;
	size_t n_spots, cap_spots;
};

/* Starts reading file (the name diagnostics show); d collects them.
 * Sets cx->nomem if the directory cannot be copied. */
void pg_conf_init(struct pg_conf *cx, const char *file, struct pg_diags *d);
void pg_conf_done(struct pg_conf *cx);

/* Reads and parses cx->file into cf (config_init'ed by the caller), with
 * @include relative to its directory.  First scans the text (and every
 * @include'd file) for integer literals libconfig would truncate and
 * reports them.  A missing file, a syntax error (with its file:line) and
 * a refused literal are errors; so is a file (or @include) that is not a
 * regular file, is over 16 MiB or holds a NUL byte, which libconfig is
 * then not given (libconfig 1.5 exits the process on a directory).
 * Returns false only when cf could not be parsed. */
bool pg_conf_read(struct pg_conf *cx, config_t *cf);

/* ---- key tables ---- */

enum pg_ktype {
	PG_KT_STR = 1,     /* "text" on one line -> char * (copied) */
	PG_KT_TEXT,        /* "text", line breaks and tabs allowed -> char * */
	PG_KT_PATH,        /* "file" relative to the file that names it ->
			      char *, joined with that file's directory */
	PG_KT_INT,         /* 42, -3, 4294967297L -> integer field */
	PG_KT_NUM,         /* 0.5 or 2 -> double */
	PG_KT_BOOL,        /* true / false -> bool */
	PG_KT_DUR,         /* "90s", "5m", "2h", "1d" or seconds -> integer
			      field (seconds) */
	PG_KT_ENUM,        /* one of .names -> integer field: lo + index */
	PG_KT_STRS,        /* [ "a", "b" ] -> char ** (copied) and its
			      size_t count at .off_n */
	PG_KT_STR_OR_STRS, /* "a" or [ "a", "b" ] (checked only) */
	PG_KT_GROUP,       /* { ... }: walked with .sub into the same target
			      when .sub is set, else by the caller */
	PG_KT_LIST,        /* ( { ... }, ... ): the caller walks the entries */
};

#define PG_KF_REQUIRED  0x1u   /* absent is an error ("missing") */
#define PG_KF_READABLE  0x2u   /* PATH: the file must be readable */
#define PG_KF_KEEP      0x4u   /* no default: absent keeps what the caller
				  put in the field */
#define PG_KF_ELSEWHERE 0x8u   /* known here, checked by its owner (a
				  driver's top-level setting) */
#define PG_KF_NAME      0x10u  /* STR: a name people tell apart, without
				  invisible or direction-changing
				  characters (visible.h PG_VIS_NAME) */

struct pg_keytab;

struct pg_key {
	const char *name;
	enum pg_ktype type;
	unsigned flags;              /* PG_KF_* */
	unsigned kinds;              /* bit k: applies to gateway kind k of the
					table (the kind key's index); 0 = all */
	/* Where the value lands in the target: .size 0 = checked only (the
	 * caller reads it with pg_conf_member).  Use PG_AT / PG_AT_N. */
	size_t off, size;
	bool is_signed;              /* integer fields: a signed type */
	size_t off_n;                /* STRS: the size_t count */
	/* Bounds: INT, DUR, NUM the value; ENUM the first value (lo) and the
	 * last acceptable one (hi); STR, TEXT, PATH the length in bytes and
	 * STRS the number of entries, where 0..0 means any. */
	int64_t lo, hi;
	/* Default, stored when the key is absent and kept when its value is
	 * bad: INT, DUR, BOOL, ENUM .def; NUM .defd; STR, TEXT, PATH .defs
	 * (NULL = none, the field stays NULL). */
	int64_t def;
	double defd;
	const char *defs;
	const char *const *names;    /* ENUM: the names, NULL-terminated */
	const struct pg_keytab *sub; /* GROUP: its own table */
	const char *hint;            /* what to write, for "missing": "e.g. \"5m\"" */
};

struct pg_keytab {
	const char *what;            /* names the group in messages ("sms
					provider", "device"); NULL: the top
					of a file */
	const struct pg_key *keys;   /* ends with a key whose name is NULL */
	const char *kind_key;        /* the ENUM key whose value selects the
					gateway kind ("kind"), or NULL */
};

/* The end of a table of keys. */
#define PG_KEY_END { .name = NULL }

/* Where a member of struct T lands: offset, size and signedness. */
#define PG_SIGNED_(x) _Generic((x), signed char: 1, short: 1, int: 1, long: 1, \
			       long long: 1, default: 0)
#define PG_AT(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f), \
		    .is_signed = PG_SIGNED_(((T *)0)->f)
#define PG_AT_N(T, f, nf) PG_AT(T, f), .off_n = offsetof(T, nf)

/* Walks group g (NULL: absent - only the defaults are stored) with table
 * t into target: stores the defaults of every key that applies, then for
 * each member in file order reports an unknown name (with "did you
 * mean"), a key of another gateway kind, a wrong type, an out-of-range
 * number, a bad enum value, bad UTF-8 or control characters, and stores
 * the good values; then reports every required key that is missing.
 * GROUP keys with a .sub table are walked into the same target.  Returns
 * the gateway kind (the kind key's index; 0 for tables without kinds), or
 * -1 when the kind is missing or bad. */
int pg_conf_apply(struct pg_conf *cx, const config_setting_t *g,
		  const struct pg_keytab *t, void *target);

/* Frees every string and string array the table (and its sub-tables)
 * stores into target, leaving those fields NULL / 0. */
void pg_conf_release(const struct pg_keytab *t, void *target);

/* The member name of g when present and acceptable to its key in t (the
 * engine reports what is not, so this stays silent); NULL otherwise.
 * kind as returned by pg_conf_apply. */
const config_setting_t *pg_conf_member(const config_setting_t *g,
				       const struct pg_keytab *t, int kind,
				       const char *name);
/* Its string value (STR, TEXT, PATH as written, ENUM), or NULL. */
const char *pg_conf_string(const config_setting_t *g, const struct pg_keytab *t,
			   int kind, const char *name);
/* True when g has a member called name, of any type or value. */
bool pg_conf_has(const config_setting_t *g, const char *name);

/* A top-level setting a driver owns (key: its name and type, e.g.
 * { "sms", PG_KT_LIST }) from root: NULL when absent or of the wrong
 * type (reported).  The daemon file's own walk leaves these names to
 * their owners. */
const config_setting_t *pg_conf_section(struct pg_conf *cx,
					const config_setting_t *root,
					const struct pg_key *key);

/* How a driver's config_parse ends: when this file reported errors since
 * before (cx->errors when the parse began) or an allocation failed, frees
 * cfg with free_fn and returns PG_ERR_CONFIG or PG_ERR_NOMEM; otherwise
 * sets *out = cfg and returns PG_OK. */
pg_err pg_conf_parsed(struct pg_conf *cx, int before, void *cfg,
		      void (*free_fn)(void *), void **out);

/* Entry i of list l when it is a group; reports 'each entry of "NAME"
 * must be a group { ... }, not ...' and returns NULL otherwise. */
const config_setting_t *pg_conf_group_at(struct pg_conf *cx,
					 const config_setting_t *l, int i);
/* Entry i of array a when it is a string (checked: UTF-8, no control
 * characters); reports and returns NULL otherwise. */
const char *pg_conf_string_at(struct pg_conf *cx, const config_setting_t *a, int i);

/* Checks one value of an ENUM-like set outside a table (a name list of
 * the caller): the index of value in names, or -1 after reporting
 * 'bad NAME "VALUE"[ CONTEXT]: expected ... (did you mean ...?)'. */
int pg_conf_enum(struct pg_conf *cx, const config_setting_t *s, int line,
		 const char *name, const char *value, const char *context,
		 const char *const *names);

/* Checks that table t fits its fields: types and sizes agree, integer
 * bounds and defaults fit the field's width and signedness, lo <= hi,
 * enum names fit, kinds exist, no name applies twice to one kind,
 * required keys have no default.  Sub-tables are checked too.  Returns
 * true, or false with the first problem in why. */
bool pg_conf_table_check(const struct pg_keytab *t, char *why, size_t n);

/* Every key table of the core (the daemon file, the client files and
 * their groups), NULL-terminated; the drivers list theirs in their
 * channel table (channel.h config_tables). */
const struct pg_keytab *const *pg_conf_core_tables(void);

/* ---- diagnostics: the wordings ----
 *
 * Each reports at setting s (its file and line) or, when s is NULL, at
 * line of cx->file (a device's line, say; 0 = the top of the file, shown
 * as line 1).  Errors count in cx->errors. */

void pg_conf_error(struct pg_conf *cx, const config_setting_t *s, int line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "warning: ..." - never fails a load. */
void pg_conf_warn(struct pg_conf *cx, const config_setting_t *s, int line,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* missing "NAME"[ in WHAT][ (HINT)] */
void pg_conf_missing(struct pg_conf *cx, const config_setting_t *s, int line,
		     const char *name, const char *what, const char *hint);
/* bad NAME[ "VALUE"][ CONTEXT]: expected ... */
void pg_conf_bad(struct pg_conf *cx, const config_setting_t *s, int line,
		 const char *name, const char *value, const char *context,
		 const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* unknown WHAT "NAME"[ CONTEXT] (did you mean "X"?) or (known: a, b)
 * known: the names it could have been, NULL-terminated (may be NULL). */
void pg_conf_unknown(struct pg_conf *cx, const config_setting_t *s, int line,
		     const char *what, const char *name, const char *context,
		     const char *const *known);
/* duplicate WHAT "NAME" (first at line N) - or (first in FILE:N) when
 * first_file is another file than the one reported. */
void pg_conf_duplicate(struct pg_conf *cx, const config_setting_t *s, int line,
		       const char *what, const char *name, const char *first_file,
		       int first_line);
/* set "A" or "B", not both */
void pg_conf_conflict(struct pg_conf *cx, const config_setting_t *s, int line,
		      const char *a, const char *b);
/* set both "A" and "B", or neither */
void pg_conf_together(struct pg_conf *cx, const config_setting_t *s, int line,
		      const char *a, const char *b);
/* CHANNEL device, but the daemon configuration defines no WHAT */
void pg_conf_no_gateway(struct pg_conf *cx, int line, const char *channel,
			const char *what);

/* The closest of the NULL-terminated names to s (edit distance at most 2
 * and less than the name's length), or NULL: "did you mean". */
const char *pg_conf_closest(const char *s, const char *const *names);

/* The file and line diagnostics name for setting s (the file it was read
 * from, @include'd ones joined to cx->dir; cx->file for the top file). */
const char *pg_conf_file_of(const struct pg_conf *cx, const config_setting_t *s,
			    char *buf, size_t n);

#endif
