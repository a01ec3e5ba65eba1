/*
 * main.c - the pagegate command-line client: one table of commands drives
 * dispatch, `pagegate help` and the usage text; the options every command
 * takes are parsed here.  send, show, list ... talk to a running
 * pagegated over HTTP API v1 (cli_api.c); check, hash-token and render
 * work offline on the configuration.
 *
 * Exit codes: 0 ok, 1 server or validation error, 2 usage, 3 cannot connect.
 * Every response is read into a bounded buffer; every request has a connect
 * and a total timeout.  Text that came from the server is printed with
 * control characters replaced, so a stored message cannot drive the
 * operator's terminal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "cli_priv.h"

#include "version.h"          /* PG_VERSION, made by the Makefile */

/* A command: its name, what runs it, one line for the general usage text
 * and its own usage text (`pagegate help NAME`, NAME --help and usage
 * errors; NULL: the general text). */
struct command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *summary;
	const char *usage;
};

static int cmd_render(struct cli *c, int argc, char **argv);
static int cmd_help(struct cli *c, int argc, char **argv);

static const struct command COMMANDS[] = {
	{ "send", cli__send, "submit a caller message; prints its id",
	  "usage: pagegate send (--client ID | --dnis NUMBER) --caller-name NAME\n"
	  "         --caller-phone PHONE [--company C] [--urgency routine|urgent|emergency]\n"
	  "         [--dispatch] [--field KEY=VALUE ...] [--idempotency-key K] TEXT...\n"
	  "TEXT is the remaining words joined by spaces, or - to read it from stdin.\n"
	  "Prints the new message id on stdout and a summary of its deliveries on\n"
	  "stderr.  With --json prints the server's JSON answer instead of the id.\n" },
	{ "show", cli__show, "a message with its deliveries, attempts and ledger",
	  "usage: pagegate show [--json] ID\n"
	  "Prints the message, each delivery with its attempts, and the ledger.\n" },
	{ "ack", cli__ack, "acknowledge a message on someone's behalf",
	  "usage: pagegate ack [--by WHO] [--json] ID\n"
	  "Acknowledges message ID on someone's behalf (e.g. the on-call person\n"
	  "phoned in); the ledger records the operator and WHO.\n" },
	{ "cancel", cli__cancel, "stop a message: its escalation and deliveries not yet tried",
	  "usage: pagegate cancel [--reason TEXT] [--json] ID\n"
	  "Stops message ID: its escalation, and every delivery not yet attempted\n"
	  "(the caller called back).  Deliveries already sent are not recalled.\n" },
	{ "escalate", cli__escalate, "run a message's escalation again from a step",
	  "usage: pagegate escalate [--from-step N] [--json] ID\n"
	  "Runs the escalation of message ID again from step N (default 1) now,\n"
	  "withdrawing its acknowledgement if it had one.\n" },
	{ "resend", cli__resend, "send a message again to a chosen contact and channel",
	  "usage: pagegate resend --contact ID --channel CHANNEL [--json] MSGID\n"
	  "Sends message MSGID again, now, to the contact's devices on CHANNEL (a\n"
	  "new delivery of the same message; the ledger records who asked).\n" },
	{ "note", cli__note, "add a note to a message's ledger",
	  "usage: pagegate note [--json] MSGID TEXT...\n"
	  "Adds TEXT (or stdin for -) to the ledger of message MSGID, with your\n"
	  "operator name.\n" },
	{ "oncall", cli__oncall, "who is on call for a client, and the calendar URL",
	  "usage: pagegate oncall [--at RFC3339] [--json] CLIENT\n"
	  "Who is on call for CLIENT now (or at --at): each rotation's person on\n"
	  "duty, the backup, the shift, and the calendar subscription URL.\n" },
	{ "mailbox", cli__mailbox,
	  "retrieve a client's check-in mailbox (marks the messages delivered)",
	  "usage: pagegate mailbox [--contact ID] [--peek] [--by WHO] [--json] CLIENT\n"
	  "Prints the messages waiting in CLIENT's check-in mailbox (only those of\n"
	  "contact ID with --contact), oldest first, and marks them delivered: the\n"
	  "ledger records them as retrieved by WHO and you.  --peek only lists them.\n" },
	{ "list", cli__list, "recent messages, newest first",
	  "usage: pagegate list [--client ID] [--state STATE | --unacknowledged] [--since TIME]\n"
	  "         [--limit N] [--json]\n"
	  "--unacknowledged lists messages whose escalation ran out unanswered.\n"
	  "TIME is RFC 3339 (2026-11-22T09:00:00-06:00) or an age such as 2h or 1d.\n" },
	{ "preview", cli__preview, "the delivery plan routing would produce, without sending",
	  "usage: pagegate preview (--client ID | --dnis NUMBER) [--urgency U] [--dispatch]\n"
	  "         [--at RFC3339] [--json]\n" },
	{ "check", cli__check, "validate the configuration and client files",
	  "usage: pagegate check [FILE|DIR]\n"
	  "Loads the daemon configuration (DIR means DIR/pagegate.conf; default\n"
	  "$PAGEGATE_CONFIG, else " CLI_DEFAULT_CONFIG ") with its clients and templates\n"
	  "and prints every problem as file:line: message.  Exit 0 when valid.\n" },
	{ "render", cmd_render, "what a message would look like on a channel (a fax as TIFF)",
	  "usage: pagegate render --channel CHANNEL --message FILE.json [--client ID] ...\n"
	  "Renders what a message would produce on a channel without sending it: a\n"
	  "fax as a TIFF file (-o out.tif), other channels as text.  `pagegate render\n"
	  "--help` lists every option.\n" },
	{ "hash-token", cli__hash_token, "SHA-256 of an operator token, for etc/pagegate.conf",
	  "usage: pagegate hash-token TOKEN|-\n"
	  "Prints the SHA-256 hex of TOKEN (- reads one line from stdin) for the\n"
	  "token_sha256 of an operator in etc/pagegate.conf.\n" },
	{ "help", cmd_help, "this text; `pagegate COMMAND --help` for one command", NULL },
};

static const char USAGE_HEAD[] =
"usage: pagegate [--url URL] [--token-file FILE] [-c CONFIG] COMMAND [ARGS]\n";

static const char USAGE_TAIL[] =
"server: --url, else $PAGEGATE_URL, else public_url of the configuration\n"
"        (-c FILE|DIR, else $PAGEGATE_CONFIG, else " CLI_DEFAULT_CONFIG ").\n"
"token:  --token-file FILE, else $PAGEGATE_TOKEN.  --token TOKEN works too\n"
"        but puts the secret in shell history and the process list.\n"
"exit:   0 ok, 1 server or validation error, 2 usage, 3 cannot connect.\n";

/* Writes usage to f; NULL writes the general text, its list of commands
 * from the table. */
static void put_usage(FILE *f, const char *usage)
{
	if (usage) {
		fputs(usage, f);
		return;
	}
	fprintf(f, "%s\ncommands:\n", USAGE_HEAD);
	for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
		fprintf(f, "  %-8s  %s\n", COMMANDS[i].name, COMMANDS[i].summary);
	fprintf(f, "\n%s", USAGE_TAIL);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
		if (strcmp(COMMANDS[i].name, name) == 0)
			return &COMMANDS[i];
	return NULL;
}

int cli__usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	if (!usage)
		usage = USAGE_HEAD;
	fputs("pagegate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%.*s  (--help for more)\n", (int)strcspn(usage, "\n"), usage);
	return EX_USAGE;
}

/* Handles an option every command accepts; returns true if ch was one
 * (*rc set when it failed). */
static bool common_opt(struct cli *c, int ch, char *arg, int *rc)
{
	switch (ch) {
	case CLI_O_URL: c->url_opt = arg; return true;
	case 'c': c->config_opt = arg; return true;
	case CLI_O_JSON: c->json = true; return true;
	case CLI_O_TOKEN:
		free(c->token);
		c->token = pg_strdup(arg);
		explicit_bzero(arg, strlen(arg));   /* hide it from ps */
		if (!c->token)
			*rc = EX_FAIL;
		return true;
	case CLI_O_TOKEN_FILE: {
		FILE *f = fopen(arg, "r");
		if (!f) {
			fprintf(stderr, "pagegate: %s: %s\n", arg, strerror(errno));
			*rc = EX_USAGE;
			return true;
		}
		*rc = cli__read_token(f, arg, &c->token);
		fclose(f);
		return true;
	}
	default:
		return false;
	}
}

/* cli__option with getopt's short options shorts. */
static int next_option(struct cli *c, int argc, char **argv, const char *shorts,
		       const struct option *opts, int *rc)
{
	int ch;

	*rc = EX_OK;
	while ((ch = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if (common_opt(c, ch, optarg, rc)) {
			if (*rc != EX_OK)
				return -1;
			continue;
		}
		if (ch == 'h') {
			put_usage(stdout, c->usage);
			return -1;
		}
		if (ch == '?') {             /* getopt has said what was wrong */
			put_usage(stderr, c->usage);
			*rc = EX_USAGE;
			return -1;
		}
		return ch;
	}
	return 0;
}

int cli__option(struct cli *c, int argc, char **argv, const struct option *opts, int *rc)
{
	return next_option(c, argc, argv, "hc:", opts, rc);
}

int cli__operands(struct cli *c, int argc, char **argv, int *rc)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, { NULL, 0, NULL, 0 } };
	return cli__option(c, argc, argv, opts, rc) < 0 ? -1 : optind;
}

static int cmd_render(struct cli *c, int argc, char **argv)
{
	(void)c;
	return pg_cli_render(argc, argv);   /* cli_render.c: its own options */
}

/* help [COMMAND] */
static int cmd_help(struct cli *c, int argc, char **argv)
{
	const struct command *cmd = argc > 1 ? find_command(argv[1]) : NULL;

	(void)c;
	put_usage(stdout, cmd ? cmd->usage : NULL);
	return EX_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", no_argument, NULL, 'V' }, CLI_COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	struct cli c = { 0 };
	const struct command *cmd;
	int ch, rc;

	/* options before the command; '+' stops at the command name */
	if ((ch = next_option(&c, argc, argv, "+hVc:", opts, &rc)) != 0) {
		if (ch == 'V')
			printf("pagegate %s (libcurl %s, jansson %s)\n", PG_VERSION,
			       curl_version_info(CURLVERSION_NOW)->version, jansson_version_str());
		goto out;
	}
	if (optind >= argc) {
		put_usage(stderr, NULL);
		rc = EX_USAGE;
		goto out;
	}
	if (!(cmd = find_command(argv[optind]))) {
		rc = cli__usage_error(NULL, "unknown command '%s'", argv[optind]);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("pagegate: cannot initialise libcurl\n", stderr);
		rc = EX_FAIL;
		goto out;
	}
	c.usage = cmd->usage;
	argc -= optind;
	argv += optind;
	optind = 0;   /* re-initialise getopt for the command's own options */
	rc = cmd->run(&c, argc, argv);
	curl_global_cleanup();
out:
	if (c.token) {
		explicit_bzero(c.token, strlen(c.token));
		free(c.token);
	}
	if (fflush(stdout) != 0 && rc == EX_OK) {
		fprintf(stderr, "pagegate: writing output: %s\n", strerror(errno));
		rc = EX_FAIL;
	}
	return rc;
}
