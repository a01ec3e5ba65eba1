/*
 * cli_priv.h - shared by the sources of the pagegate CLI (src/cli/) and
 * by nothing else: the daemon links none of them.
 *
 *   main.c          the command table, the options every command takes,
 *                   usage texts, dispatch
 *   cli_api.c       the HTTP client to the API: server URL and token
 *                   discovery, requests, API errors
 *   cli_print.c     output helpers: cleaned text, table cells, JSON getters
 *   cli_messages.c  send, show, ack, cancel, escalate, list
 *   cli_clients.c   oncall, mailbox, preview
 *   cli_config.c    check, hash-token; loading the configuration
 *   cli_render.c    render
 *
 * Adding a command: its handler in the file of its family, declared
 * below, and one row of the table in main.c.
 */
#ifndef PAGEGATE_CLI_PRIV_H
#define PAGEGATE_CLI_PRIV_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "pagegate/util.h"

struct pg_config;

/* The exit codes of every command. */
enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_CONN = 3 };

#define CLI_DEFAULT_CONFIG "etc/pagegate.conf"
#define CLI_TOKEN_MAX      4096          /* longest operator token */
#define CLI_STDIN_MAX      (1u << 20)    /* largest TEXT or token read from stdin */

/* Options shared by every command; filled from the command line, then
 * completed from the environment and the configuration file. */
struct cli {
	const char *url_opt;        /* --url */
	const char *config_opt;     /* --config */
	char *token;                /* owned; wiped on exit */
	bool json;                  /* --json */
	char url[1024];             /* resolved server base URL, no trailing '/' */
	const char *usage;          /* the running command's usage text (NULL:
				       the general one) */
};

/* ---- main.c: options and usage ---- */

/* getopt values of the options every command takes and of the route
 * options (CLI_ROUTE_OPTS); a command numbers its own long options from
 * CLI_O_FIRST. */
enum {
	CLI_O_URL = 256, CLI_O_TOKEN, CLI_O_TOKEN_FILE, CLI_O_JSON,
	CLI_O_CLIENT, CLI_O_DNIS, CLI_O_URGENCY, CLI_O_DISPATCH, CLI_O_FIRST
};

/* Ends each command's struct option array (before the terminator). */
#define CLI_COMMON_OPTS \
	{ "url", required_argument, NULL, CLI_O_URL }, \
	{ "token", required_argument, NULL, CLI_O_TOKEN }, \
	{ "token-file", required_argument, NULL, CLI_O_TOKEN_FILE }, \
	{ "config", required_argument, NULL, 'c' }, \
	{ "json", no_argument, NULL, CLI_O_JSON }, \
	{ "help", no_argument, NULL, 'h' }

/* The next of the running command's own options (getopt_long over opts,
 * short options "hc:"), handling the common ones into c.  Returns the
 * option's value (> 0, optarg set), 0 when the options are over (optind
 * is the first operand), or -1 when the command is to return *rc at once:
 * after --help (c->usage printed on stdout, EX_OK), an unknown option
 * (c->usage on stderr, EX_USAGE) or a bad --token-file. */
int cli__option(struct cli *c, int argc, char **argv, const struct option *opts, int *rc);

/* cli__option for a command that has only the common options: returns
 * the index of its first operand, or -1 when it is to return *rc. */
int cli__operands(struct cli *c, int argc, char **argv, int *rc);

/* Prints "pagegate: <problem>" and the first line of usage (NULL: of the
 * general usage text) on stderr; returns EX_USAGE. */
int cli__usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- cli_api.c: the HTTP client ---- */

/* Prints one answer of the server (status 2xx) for a human. */
typedef void cli_printer(json_t *answer, long status);

/* Reads the first line of f (at most CLI_TOKEN_MAX bytes, trailing white
 * space dropped) into *out (replacing it; the caller wipes and frees it).
 * Returns EX_OK, EX_USAGE (unreadable, too long or empty: said on
 * stderr, with what naming the source) or EX_FAIL (out of memory). */
int cli__read_token(FILE *f, const char *what, char **out);

/* Sends one request to the server named by c (URL and token completed
 * from the environment and the configuration first), body and the
 * Idempotency-Key idem optional, and prints the answer: as it came with
 * --json, else through print.  Returns EX_OK, EX_FAIL (the server's
 * error or a bad answer, said on stderr), EX_USAGE (no URL or token) or
 * EX_CONN (could not connect). */
int cli__call(struct cli *c, const char *method, const char *path, json_t *body,
	      const char *idem, cli_printer *print);

/* One query parameter of a GET; a NULL value leaves it out. */
struct cli_param {
	const char *name;
	const char *value;
};

/* GET path?name=value&... (the values URL-escaped) through cli__call.
 * Returns its codes, or EX_FAIL when the query does not fit. */
int cli__get(struct cli *c, const char *path, const struct cli_param *params, size_t n,
	     cli_printer *print);

/* What send and preview route: --client or --dnis, --urgency, --dispatch
 * (CLI_ROUTE_OPTS, taken by cli__route_opt). */
struct cli_route {
	const char *client, *dnis, *urgency;
	bool dispatch;
};

#define CLI_ROUTE_OPTS \
	{ "client", required_argument, NULL, CLI_O_CLIENT }, \
	{ "dnis", required_argument, NULL, CLI_O_DNIS }, \
	{ "urgency", required_argument, NULL, CLI_O_URGENCY }, \
	{ "dispatch", no_argument, NULL, CLI_O_DISPATCH }

/* Takes the option ch (with arg) into r when it is a route option;
 * returns whether it was. */
bool cli__route_opt(struct cli_route *r, int ch, const char *arg);

/* Sets the route r in the request o: "client" or "dnis" (exactly one of
 * them must be given), "urgency" (when given; checked against the known
 * names) and "kind".  Returns EX_OK, EX_USAGE (said against c->usage) or
 * EX_FAIL (out of memory). */
int cli__set_route(struct cli *c, json_t *o, const struct cli_route *r);

/* ---- cli_print.c: output ---- */

/* Writes s replacing control characters (C0, DEL, and UTF-8 encoded C1)
 * with '?'.  Each newline is written as nl ("\n    " to indent the next
 * line); with nl == NULL newlines become spaces. */
void cli__put_clean(FILE *f, const char *s, const char *nl);

/* Prints s on one line of stdout in a column of width characters (code
 * points, an approximation of terminal columns): control characters
 * become '?', longer text is cut with a final '~', shorter text is padded
 * when pad; NULL prints "-". */
void cli__put_cell(const char *s, size_t width, bool pad);

/* The caller of message m: name, phone_sep, phone and, when there is one,
 * company_sep and company; cleaned. */
void cli__put_caller(json_t *m, const char *phone_sep, const char *company_sep);

/* "contact (Contact Name)" of a delivery or mailbox entry, cleaned. */
void cli__put_contact(json_t *d);

/* "\n  text      ..." and one "  field     key: value" line per field. */
void cli__put_text_fields(json_t *m);

/* "  #3 jane (Jane Ortiz)  email  jane@acme.example" for show and preview
 * (no newline). */
void cli__put_delivery_head(json_t *d, const char *indent);

/* The value at a dotted path ("caller.name"), or NULL. */
json_t *cli__jget(json_t *o, const char *path);
/* The string, or NULL; the integer, or 0. */
const char *cli__jstr(json_t *o, const char *path);
json_int_t cli__jint(json_t *o, const char *path);
/* A time given as an RFC 3339 string or as ms since the epoch, as text in
 * buf ("-" when absent); returns buf. */
const char *cli__jtime(json_t *o, const char *path, char buf[PG_ISO_LEN]);
/* s, or dflt when s is NULL. */
const char *cli__or(const char *s, const char *dflt);

/* ---- cli_config.c: the configuration and input ---- */

/* The configuration file named by arg, $PAGEGATE_CONFIG or the default;
 * a directory means DIR/pagegate.conf. */
void cli__config_path(const char *arg, char *out, size_t size);

/* Loads the configuration named as cli__config_path takes it, with its
 * clients and templates, printing every diagnostic on stderr as
 * "file:line: message".  Returns EX_OK with *cfg (pg_config_release it)
 * or EX_FAIL. */
int cli__load_config(const char *arg, struct pg_config **cfg);

/* Reads f to its end into b.  Returns PG_OK, PG_ERR_TOOBIG (past b's
 * ceiling; b holds what fitted) or PG_ERR_IO (errno says why). */
pg_err cli__read_all(FILE *f, struct pg_buf *b);

/* ---- the commands (argv[0] is the command's name) ---- */

int cli__send(struct cli *c, int argc, char **argv);       /* cli_messages.c */
int cli__show(struct cli *c, int argc, char **argv);
int cli__ack(struct cli *c, int argc, char **argv);
int cli__cancel(struct cli *c, int argc, char **argv);
int cli__resend(struct cli *c, int argc, char **argv);
int cli__note(struct cli *c, int argc, char **argv);
int cli__escalate(struct cli *c, int argc, char **argv);
int cli__list(struct cli *c, int argc, char **argv);
int cli__oncall(struct cli *c, int argc, char **argv);     /* cli_clients.c */
int cli__mailbox(struct cli *c, int argc, char **argv);
int cli__preview(struct cli *c, int argc, char **argv);
int cli__check(struct cli *c, int argc, char **argv);      /* cli_config.c */
int cli__hash_token(struct cli *c, int argc, char **argv);

/* `pagegate render --channel CH --client ID --message FILE.json
 * [-o OUT] [-c CONFIG] [--contact ID] [--resolution fine|standard]
 * [--paper letter|a4] [--coding mh|mr|mmr]`: what a message would look
 * like on a channel.  fax writes OUT (a TIFF); other channels print the
 * rendered subject and body.  Returns the CLI's exit code (0 ok, 1
 * invalid input or configuration, 2 usage).  (cli_render.c) */
int pg_cli_render(int argc, char **argv);

#endif
