/*
 * cli_messages.c - the CLI's commands about messages: send one, show one
 * with its deliveries and ledger, act on one (ack, cancel, escalate), and
 * list recent ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "pagegate/common.h"
#include "pagegate/util.h"
#include "cli_priv.h"

enum {
	O_CNAME = CLI_O_FIRST, O_CPHONE, O_COMPANY, O_FIELD, O_IDEM, O_STATE,
	O_SINCE, O_LIMIT, O_UNACKED
};

/* ---- send ---- */

/* Reads all of stdin (bounded), without trailing newlines. */
static char *read_stdin_text(void)
{
	struct pg_buf b;
	char *s = NULL;

	pg_buf_init(&b, CLI_STDIN_MAX);
	switch (cli__read_all(stdin, &b)) {
	case PG_OK:
		while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
			b.data[--b.len] = '\0';
		s = pg_buf_steal(&b);
		break;
	case PG_ERR_TOOBIG:
		fprintf(stderr, "pagegate: more than %u bytes on stdin\n", CLI_STDIN_MAX);
		break;
	default:
		fprintf(stderr, "pagegate: reading stdin: %s\n", strerror(errno));
		break;
	}
	pg_buf_free(&b);
	return s;
}

/* Joins words with single spaces, or reads stdin for "-". */
static char *join_text(int n, char **words)
{
	if (n == 1 && strcmp(words[0], "-") == 0)
		return read_stdin_text();
	struct pg_buf b;
	pg_buf_init(&b, CLI_STDIN_MAX);
	for (int i = 0; i < n; i++) {
		if ((i && pg_buf_adds(&b, " ") != PG_OK) || pg_buf_adds(&b, words[i]) != PG_OK) {
			fputs("pagegate: TEXT too long\n", stderr);
			pg_buf_free(&b);
			return NULL;
		}
	}
	char *s = pg_buf_steal(&b);
	pg_buf_free(&b);
	return s;
}

/* True for 1..200 printable ASCII characters (what the server accepts). */
static bool idem_key_ok(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return n >= 1 && n <= 200;
}

/* Sets key in o to a new string; false when out of memory or not UTF-8. */
static bool set_str(json_t *o, const char *key, const char *value)
{
	return json_object_set_new(o, key, json_string(value)) == 0;
}

/* Adds --field KEY=VALUE (arg, cut at its '=') to fields.  Returns EX_OK
 * or EX_USAGE. */
static int add_field(struct cli *c, json_t *fields, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return cli__usage_error(c->usage, "--field wants KEY=VALUE, not '%s'", arg);
	*eq = '\0';
	if (json_object_get(fields, arg))
		return cli__usage_error(c->usage, "--field %s given twice", arg);
	if (!set_str(fields, arg, eq + 1))
		return cli__usage_error(c->usage, "--field %s: not valid UTF-8", arg);
	return EX_OK;
}

/* The id on stdout, and one line on stderr:
 * "message 17 pending: jane email queued, office email held". */
static void send_summary(json_t *r, long status)
{
	printf("%lld\n", (long long)cli__jint(r, "id"));
	json_t *ds = json_object_get(r, "deliveries");
	size_t n = json_array_size(ds);
	fprintf(stderr, "pagegate: message %lld %s%s: ", (long long)cli__jint(r, "id"),
		cli__jstr(r, "state") ? cli__jstr(r, "state") : "stored",
		status == 200 ? " (already submitted with this idempotency key)" : "");
	if (n == 0)
		fputs("no deliveries (no rule matched)", stderr);
	for (size_t i = 0; i < n && i < 8; i++) {
		json_t *d = json_array_get(ds, i);
		fputs(i ? ", " : "", stderr);
		cli__put_clean(stderr, cli__or(cli__jstr(d, "contact"), "?"), NULL);
		fprintf(stderr, " %s %s", cli__or(cli__jstr(d, "channel"), "?"),
			cli__or(cli__jstr(d, "state"), "?"));
	}
	if (n > 8)
		fprintf(stderr, ", and %zu more", n - 8);
	fputc('\n', stderr);
}

int cli__send(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_ROUTE_OPTS,
		{ "caller-name", required_argument, NULL, O_CNAME },
		{ "caller-phone", required_argument, NULL, O_CPHONE },
		{ "company", required_argument, NULL, O_COMPANY },
		{ "field", required_argument, NULL, O_FIELD },
		{ "idempotency-key", required_argument, NULL, O_IDEM },
		CLI_COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	struct cli_route route = { 0 };
	const char *name = NULL, *phone = NULL, *company = NULL, *idem = NULL;
	json_t *fields = json_object(), *req = json_object(), *caller = json_object();
	char *text = NULL;
	int ch = 0, rc = EX_OK;

	if (!fields || !req || !caller) {
		rc = EX_FAIL;
		goto out;
	}
	while (rc == EX_OK && (ch = cli__option(c, argc, argv, opts, &rc)) > 0) {
		if (cli__route_opt(&route, ch, optarg))
			continue;
		switch (ch) {
		case O_CNAME: name = optarg; break;
		case O_CPHONE: phone = optarg; break;
		case O_COMPANY: company = optarg; break;
		case O_IDEM: idem = optarg; break;
		case O_FIELD: rc = add_field(c, fields, optarg); break;
		}
	}
	if (ch < 0 || rc != EX_OK)
		goto out;
	if (!name || !phone) {
		rc = cli__usage_error(c->usage, "%s",
				      "--caller-name and --caller-phone are required");
		goto out;
	}
	if (optind >= argc) {
		rc = cli__usage_error(c->usage, "%s", "no TEXT (give it as words, or - for stdin)");
		goto out;
	}
	if (idem && !idem_key_ok(idem)) {
		rc = cli__usage_error(c->usage, "%s",
				      "--idempotency-key wants 1 to 200 printable ASCII characters");
		goto out;
	}
	if ((rc = cli__set_route(c, req, &route)) != EX_OK)
		goto out;
	if (!(text = join_text(argc - optind, argv + optind))) {
		rc = EX_FAIL;
		goto out;
	}
	/* json_string() refuses invalid UTF-8: say so rather than send less */
	if (!set_str(caller, "name", name) || !set_str(caller, "phone", phone) ||
	    (company && !set_str(caller, "company", company)) || !set_str(req, "text", text) ||
	    json_object_set(req, "caller", caller) != 0 ||
	    (json_object_size(fields) && json_object_set(req, "fields", fields) != 0)) {
		rc = cli__usage_error(c->usage, "%s", "TEXT and the caller must be valid UTF-8");
		goto out;
	}
	/* Without a key of the operator's, make one, so that a send whose
	 * answer was lost can be repeated without a duplicate. */
	char key[40];
	if (!idem) {
		unsigned char rnd[12];
		if (pg_random(rnd, sizeof rnd) == PG_OK) {
			for (size_t i = 0; i < sizeof rnd; i++)
				snprintf(key + 2 * i, 3, "%02x", rnd[i]);
			idem = key;
		}
	}
	rc = cli__call(c, "POST", "/v1/messages", req, idem, send_summary);
out:
	free(text);
	json_decref(fields);
	json_decref(caller);
	json_decref(req);
	return rc;
}

static void show_delivery(json_t *d)
{
	json_t *list = json_object_get(d, "attempts"), *a;
	const char *state = cli__or(cli__jstr(d, "state"), "?");
	char t[PG_ISO_LEN];
	size_t i;

	cli__put_delivery_head(d, "  ");
	printf("\n      %s", state);
	if (strcmp(state, "held") == 0)
		printf(" until %s", cli__jtime(d, "next_try", t));
	else if (strcmp(state, "waiting") == 0)
		fputs(" in the check-in mailbox", stdout);
	else if (strcmp(state, "queued") == 0 && json_array_size(list))
		printf(", next try %s", cli__jtime(d, "next_try", t));
	printf(", %zu attempt%s", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
	enum pg_dstate ds;
	if (pg_dstate_parse(state, &ds) == 0 && !pg_dstate_final(ds) && ds != PG_D_WAITING)
		printf(", gives up %s", cli__jtime(d, "expires", t));
	fputc('\n', stdout);
	json_array_foreach(list, i, a) {
		printf("      attempt %zu  %s  ", i + 1, cli__jtime(a, "started", t));
		if (cli__jstr(a, "outcome"))
			printf("%-4s %6lld ms  ", cli__jstr(a, "outcome"),
			       (long long)cli__jint(a, "duration_ms"));
		else
			fputs("running       ", stdout);
		cli__put_clean(stdout, cli__or(cli__jstr(a, "reply"), ""), NULL);
		fputc('\n', stdout);
	}
}

/* The whole message as an operator reads it: header, deliveries, ledger. */
static void show_message(json_t *m, long status)
{
	json_t *v, *ds = json_object_get(m, "deliveries"), *evs = json_object_get(m, "ledger");
	char t[PG_ISO_LEN];
	size_t i;

	(void)status;
	printf("Message %lld  ", (long long)cli__jint(m, "id"));
	cli__put_clean(stdout, cli__or(cli__jstr(m, "client"), "?"), NULL);
	printf("  %s/%s\n  received  %s by ", cli__or(cli__jstr(m, "kind"), "?"),
	       cli__or(cli__jstr(m, "urgency"), "?"), cli__jtime(m, "received", t));
	cli__put_clean(stdout, cli__or(cli__jstr(m, "operator"), "?"), NULL);
	printf("\n  state     %s", cli__or(cli__jstr(m, "state"), "?"));
	if (json_is_true(json_object_get(m, "acknowledged"))) {
		printf("\n  acked     %s by ", cli__jtime(m, "acked_at", t));
		cli__put_clean(stdout, cli__or(cli__jstr(m, "acked_by"), "?"), NULL);
	} else if (cli__jstr(m, "ack_ref")) {
		printf("\n  ack ref   %s (not acknowledged)", cli__jstr(m, "ack_ref"));
	}
	if (json_is_object(json_object_get(m, "escalation"))) {
		printf("\n  escalate  policy ");
		cli__put_clean(stdout, cli__or(cli__jstr(m, "escalation.policy"), "?"), NULL);
		printf(", %s, %lld of %lld steps fired", cli__or(cli__jstr(m, "escalation.state"), "?"),
		       (long long)cli__jint(m, "escalation.steps_fired"),
		       (long long)cli__jint(m, "escalation.steps"));
		if (cli__jstr(m, "escalation.next_step_at"))
			printf(", next step %s", cli__jtime(m, "escalation.next_step_at", t));
		if (cli__jstr(m, "escalation.unacknowledged_at"))
			printf(", flagged unacknowledged %s",
			       cli__jtime(m, "escalation.unacknowledged_at", t));
	}
	if (json_is_true(json_object_get(m, "unacknowledged")))
		printf("\n  UNACKNOWLEDGED: the escalation ran out and nobody answered");
	printf("\n  caller    ");
	cli__put_caller(m, ", ", ", ");
	cli__put_text_fields(m);
	printf("\nDeliveries (%zu)\n", json_array_size(ds));
	json_array_foreach(ds, i, v)
		show_delivery(v);
	printf("\nLedger (%zu events)\n", json_array_size(evs));
	json_array_foreach(evs, i, v) {
		char dbuf[32] = "";
		if (cli__jint(v, "delivery"))
			snprintf(dbuf, sizeof dbuf, "#%lld", (long long)cli__jint(v, "delivery"));
		printf("  %-24s  %-17s %-5s ", cli__jtime(v, "at", t),
		       cli__or(cli__jstr(v, "type"), "?"), dbuf);
		cli__put_clean(stdout, cli__or(cli__jstr(v, "detail"), ""), "\n  ");
		fputc('\n', stdout);
	}
}

/* Parses a positive message id. */
static int parse_id(const char *s, long long *id)
{
	char *end;
	errno = 0;
	*id = strtoll(s, &end, 10);
	return (errno || end == s || *end || *id <= 0) ? -1 : 0;
}

/* The one operand argv[first] as a message id into *id.  Returns EX_OK or
 * EX_USAGE (said against c->usage). */
static int message_id(struct cli *c, int argc, char **argv, int first, long long *id)
{
	if (argc - first != 1 || parse_id(argv[first], id) != 0)
		return cli__usage_error(c->usage, "%s", "give one message id (a positive number)");
	return EX_OK;
}

int cli__show(struct cli *c, int argc, char **argv)
{
	long long id;
	char path[64];
	int rc, first = cli__operands(c, argc, argv, &rc);

	if (first < 0)
		return rc;
	if ((rc = message_id(c, argc, argv, first, &id)) != EX_OK)
		return rc;
	snprintf(path, sizeof path, "/v1/messages/%lld", id);
	return cli__call(c, "GET", path, NULL, NULL, show_message);
}

/* ---- ack ---- */

static void show_ack(json_t *r, long status)
{
	char t[PG_ISO_LEN];

	(void)status;
	printf("message %lld %s at %s by ", (long long)cli__jint(r, "id"),
	       json_is_true(json_object_get(r, "already")) ? "was already acknowledged"
							   : "acknowledged",
	       cli__jtime(r, "acked_at", t));
	cli__put_clean(stdout, cli__or(cli__jstr(r, "acked_by"), "?"), NULL);
	fputc('\n', stdout);
}

/* A POST about one message with at most one option (--by, --reason,
 * --from-step) that becomes the body's one member. */
struct msg_action {
	const char *opt;             /* long option name */
	const char *key;             /* body member */
	bool integer;                /* the value is a step number */
	const char *suffix;          /* "/ack" ... */
	cli_printer *print;
};

static int msg_action(struct cli *c, int argc, char **argv, const struct msg_action *a)
{
	const struct option opts[] = {
		{ a->opt, required_argument, NULL, 'b' }, CLI_COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	const char *val = NULL;
	long long id, n = 0;
	char path[80];
	json_t *body = NULL;
	int ch, rc;

	while ((ch = cli__option(c, argc, argv, opts, &rc)) > 0)
		val = optarg;                   /* a->opt */
	if (ch < 0)
		return rc;
	if ((rc = message_id(c, argc, argv, optind, &id)) != EX_OK)
		return rc;
	if (val && a->integer && (parse_id(val, &n) != 0 || n > 1000))
		return cli__usage_error(c->usage, "--%s wants a step number, not '%s'",
					a->opt, val);
	if (val && (body = a->integer ? json_pack("{s:I}", a->key, (json_int_t)n)
				      : json_pack("{s:s}", a->key, val)) == NULL)
		return cli__usage_error(c->usage, "--%s must be UTF-8 text", a->opt);
	snprintf(path, sizeof path, "/v1/messages/%lld%s", id, a->suffix);
	rc = cli__call(c, "POST", path, body, NULL, a->print);
	json_decref(body);
	return rc;
}

int cli__ack(struct cli *c, int argc, char **argv)
{
	static const struct msg_action a = { "by", "by", false, "/ack", show_ack };
	return msg_action(c, argc, argv, &a);
}

int cli__cancel(struct cli *c, int argc, char **argv)
{
	static const struct msg_action a = { "reason", "reason", false, "/cancel",
					     show_message };
	return msg_action(c, argc, argv, &a);
}

int cli__escalate(struct cli *c, int argc, char **argv)
{
	static const struct msg_action a = { "from-step", "from_step", true, "/escalate",
					     show_message };
	return msg_action(c, argc, argv, &a);
}

/* ---- resend, note ---- */

static void show_resent(json_t *r, long status)
{
	json_t *ds = json_object_get(r, "deliveries"), *d;
	size_t i;

	(void)status;
	json_array_foreach(ds, i, d) {
		printf("message %lld: delivery %lld to ", (long long)cli__jint(r, "id"),
		       (long long)cli__jint(d, "id"));
		cli__put_clean(stdout, cli__or(cli__jstr(d, "contact"), "?"), NULL);
		printf(" by %s ", cli__or(cli__jstr(d, "channel"), "?"));
		cli__put_clean(stdout, cli__or(cli__jstr(d, "to"), ""), NULL);
		printf(" %s\n", cli__or(cli__jstr(d, "state"), "?"));
	}
}

int cli__resend(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "contact", required_argument, NULL, 'C' },
		{ "channel", required_argument, NULL, 'H' },
		CLI_COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	const char *contact = NULL, *channel = NULL;
	long long id;
	char path[80];
	json_t *body;
	int ch, rc;

	while ((ch = cli__option(c, argc, argv, opts, &rc)) > 0)
		if (ch == 'C')
			contact = optarg;
		else
			channel = optarg;
	if (ch < 0)
		return rc;
	if (!contact || !channel)
		return cli__usage_error(c->usage, "%s", "--contact and --channel are required");
	if ((rc = message_id(c, argc, argv, optind, &id)) != EX_OK)
		return rc;
	if (!(body = json_pack("{s:s,s:s}", "contact", contact, "channel", channel)))
		return cli__usage_error(c->usage, "%s", "--contact and --channel must be UTF-8");
	snprintf(path, sizeof path, "/v1/messages/%lld/resend", id);
	rc = cli__call(c, "POST", path, body, NULL, show_resent);
	json_decref(body);
	return rc;
}

static void show_note(json_t *r, long status)
{
	(void)status;
	printf("message %lld: note by ", (long long)cli__jint(r, "id"));
	cli__put_clean(stdout, cli__or(cli__jstr(r, "note.by"), "?"), NULL);
	fputc('\n', stdout);
}

int cli__note(struct cli *c, int argc, char **argv)
{
	long long id;
	char path[80], *text;
	json_t *body;
	int rc, first = cli__operands(c, argc, argv, &rc);

	if (first < 0)
		return rc;
	if (argc - first < 2 || parse_id(argv[first], &id) != 0)
		return cli__usage_error(c->usage, "%s", "give a message id and the note's text");
	if (!(text = join_text(argc - first - 1, argv + first + 1)))
		return EX_USAGE;
	body = json_pack("{s:s}", "text", text);
	free(text);
	if (!body)
		return cli__usage_error(c->usage, "%s", "the note must be UTF-8 text");
	snprintf(path, sizeof path, "/v1/messages/%lld/notes", id);
	rc = cli__call(c, "POST", path, body, NULL, show_note);
	json_decref(body);
	return rc;
}

/* ---- list ---- */

static void list_table(json_t *r, long status)
{
	json_t *ms = json_object_get(r, "messages"), *m;
	char t[PG_ISO_LEN], ku[40];
	size_t i;

	(void)status;
	printf("%-7s %-19s %-16s %-17s %-9s %-20s %s\n", "ID", "RECEIVED (UTC)", "CLIENT",
	       "KIND/URGENCY", "STATE", "CALLER", "TEXT");
	json_array_foreach(ms, i, m) {
		cli__jtime(m, "received", t);
		t[strlen(t) > 19 ? 19 : strlen(t)] = '\0';   /* to the second */
		snprintf(ku, sizeof ku, "%s/%s", cli__or(cli__jstr(m, "kind"), "?"),
			 cli__or(cli__jstr(m, "urgency"), "?"));
		printf("%-7lld %-19s ", (long long)cli__jint(m, "id"), t);
		cli__put_cell(cli__jstr(m, "client"), 16, true);
		printf(" %-17s %-9s ", ku, cli__or(cli__jstr(m, "state"), "?"));
		cli__put_cell(cli__jstr(m, "caller.name"), 20, true);
		fputc(' ', stdout);
		cli__put_cell(cli__jstr(m, "text"), 40, false);
		fputc('\n', stdout);
	}
	if (json_array_size(ms) == 0)
		puts("(no messages)");
}

int cli__list(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client", required_argument, NULL, CLI_O_CLIENT },
		{ "state", required_argument, NULL, O_STATE },
		{ "since", required_argument, NULL, O_SINCE },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "unacknowledged", no_argument, NULL, O_UNACKED },
		CLI_COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	struct cli_param q[] = {
		{ "client", NULL }, { "state", NULL }, { "since", NULL }, { "limit", NULL },
		{ "unacknowledged", NULL }
	};
	const char *since = NULL, *limit = NULL;
	char since_iso[PG_ISO_LEN];
	int ch, rc;
	long long n;

	while ((ch = cli__option(c, argc, argv, opts, &rc)) > 0) {
		switch (ch) {
		case CLI_O_CLIENT: q[0].value = optarg; break;
		case O_STATE: q[1].value = optarg; break;
		case O_SINCE: since = optarg; break;
		case O_LIMIT: limit = optarg; break;
		case O_UNACKED: q[4].value = "true"; break;
		}
	}
	if (ch < 0)
		return rc;
	if (optind != argc)
		return cli__usage_error(c->usage, "unexpected argument '%s'", argv[optind]);
	if (limit && (parse_id(limit, &n) != 0 || n > 1000))
		return cli__usage_error(c->usage, "--limit wants 1..1000, not '%s'", limit);
	if (since) {
		int64_t ms, secs;
		if (pg_parse_iso8601(since, &ms) != 0) {
			if (pg_parse_duration(since, &secs) != 0)
				return cli__usage_error(c->usage, "--since wants RFC 3339 or an "
							"age like 2h, not '%s'", since);
			ms = pg_now_ms() - secs * 1000;
		}
		q[2].value = pg_iso8601(ms, since_iso);
	}
	q[3].value = limit;
	return cli__get(c, "/v1/messages", q, sizeof q / sizeof q[0], list_table);
}
