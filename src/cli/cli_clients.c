/*
 * cli_clients.c - the CLI's commands about a client rather than one
 * message: who is on call (oncall), its check-in mailbox (mailbox) and
 * the delivery plan routing would produce (preview).
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "pagegate/util.h"
#include "cli_priv.h"

enum { O_AT = CLI_O_FIRST };

/* ---- oncall ---- */

static void show_oncall(json_t *r, long status)
{
	json_t *rs = json_object_get(r, "rotations"), *e;
	char t1[PG_ISO_LEN], t2[PG_ISO_LEN], t[PG_ISO_LEN];
	size_t i;

	(void)status;
	printf("On call for ");
	cli__put_clean(stdout, cli__or(cli__jstr(r, "client"), "?"), NULL);
	printf(" at %s\n", cli__jtime(r, "at", t));
	json_array_foreach(rs, i, e) {
		printf("  ");
		cli__put_clean(stdout, cli__or(cli__jstr(e, "id"), "?"), NULL);
		if (!json_is_object(json_object_get(e, "on_duty"))) {
			printf(": nobody (the rotation has not started)\n");
			continue;
		}
		printf(": ");
		cli__put_clean(stdout, cli__or(cli__jstr(e, "on_duty.name"), "?"), NULL);
		printf(" (%s) from %s to %s", cli__or(cli__jstr(e, "on_duty.id"), "?"),
		       cli__jtime(e, "shift_start", t1), cli__jtime(e, "shift_end", t2));
		if (cli__jstr(e, "backup.name")) {
			printf(", backup ");
			cli__put_clean(stdout, cli__jstr(e, "backup.name"), NULL);
		}
		printf("\n    calendar: ");
		cli__put_clean(stdout, cli__or(cli__jstr(e, "ics_url"), "?"), NULL);
		fputc('\n', stdout);
	}
	if (json_array_size(rs) == 0)
		puts("  (no on-call rotations)");
}

/* The one operand of a command about a client: its id, or NULL (said
 * against c->usage). */
static const char *client_operand(struct cli *c, int argc, char **argv)
{
	const char *id = argv[optind];

	if (argc - optind != 1 || strlen(id) > 64 ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(id)) {
		cli__usage_error(c->usage, "%s", "give one client id");
		return NULL;
	}
	return id;
}

int cli__oncall(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, O_AT }, CLI_COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	const char *at = NULL, *id;
	char path[256];
	int ch, rc;

	while ((ch = cli__option(c, argc, argv, opts, &rc)) > 0)
		at = optarg;                    /* --at */
	if (ch < 0)
		return rc;
	if (!(id = client_operand(c, argc, argv)))
		return EX_USAGE;
	const struct cli_param q[] = { { "at", at } };
	snprintf(path, sizeof path, "/v1/clients/%s/oncall", id);
	return cli__get(c, path, q, 1, show_oncall);
}

/* ---- mailbox ---- */

static void show_mailbox(json_t *r, long status)
{
	json_t *ms = json_object_get(r, "messages"), *m;
	bool taken = json_is_true(json_object_get(r, "retrieved"));
	char t[PG_ISO_LEN];
	size_t i, n = json_array_size(ms);

	(void)status;
	printf("Mailbox of ");
	cli__put_clean(stdout, cli__or(cli__jstr(r, "client"), "?"), NULL);
	if (cli__jstr(r, "contact")) {
		fputs(" for ", stdout);
		cli__put_clean(stdout, cli__jstr(r, "contact"), NULL);
	}
	printf(": %zu message%s %s\n", n, n == 1 ? "" : "s",
	       !n ? "waiting" : taken ? "retrieved (now marked delivered)"
				      : "waiting (peek: left in the mailbox)");
	json_array_foreach(ms, i, m) {
		printf("\n#%lld  %s  for ", (long long)cli__jint(m, "id"),
		       cli__jtime(m, "received", t));
		cli__put_contact(m);
		printf("  %s/%s\n  caller    ", cli__or(cli__jstr(m, "kind"), "?"),
		       cli__or(cli__jstr(m, "urgency"), "?"));
		cli__put_caller(m, "\n  phone     ", "\n  company   ");
		cli__put_text_fields(m);
		if (cli__jstr(m, "ack_ref"))
			printf("  ack ref   %s\n", cli__jstr(m, "ack_ref"));
	}
	if (json_is_true(json_object_get(r, "more")))
		puts("\nMore messages are waiting: run the command again.");
}

int cli__mailbox(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "contact", required_argument, NULL, 'C' },
		{ "peek", no_argument, NULL, 'p' },
		{ "by", required_argument, NULL, 'b' },
		CLI_COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	struct cli_param q[] = { { "contact", NULL }, { "peek", NULL }, { "by", NULL } };
	const char *id;
	char path[256];
	int ch, rc;

	while ((ch = cli__option(c, argc, argv, opts, &rc)) > 0) {
		switch (ch) {
		case 'C': q[0].value = optarg; break;
		case 'p': q[1].value = "true"; break;
		case 'b': q[2].value = optarg; break;
		}
	}
	if (ch < 0)
		return rc;
	if (!(id = client_operand(c, argc, argv)))
		return EX_USAGE;
	snprintf(path, sizeof path, "/v1/clients/%s/mailbox", id);
	return cli__get(c, path, q, sizeof q / sizeof q[0], show_mailbox);
}

/* ---- preview ---- */

static void preview_print(json_t *r, long status)
{
	json_t *ds = json_object_get(r, "deliveries"), *d;
	char t[PG_ISO_LEN];
	size_t i;

	(void)status;
	cli__put_clean(stdout, cli__or(cli__jstr(r, "client"), "?"), NULL);
	printf(" at %s: ", cli__jtime(r, "at", t));
	if (json_is_true(json_object_get(r, "open")))
		fputs("open", stdout);
	else if (cli__jstr(r, "next_open"))
		printf("closed, opens %s", cli__jtime(r, "next_open", t));
	else
		fputs("closed (no business hours)", stdout);
	printf("; %lld rule(s) matched\n", (long long)cli__jint(r, "rules_matched"));
	if (json_array_size(ds) == 0)
		puts("  nothing would be sent");
	json_array_foreach(ds, i, d) {
		cli__put_delivery_head(d, "  ");
		if (cli__jstr(d, "hold_until"))
			printf("  held until %s", cli__jtime(d, "hold_until", t));
		else if (strcmp(cli__or(cli__jstr(d, "channel"), ""), "mailbox") == 0)
			fputs("  kept for check-in", stdout);
		else
			fputs("  now", stdout);
		if (cli__jstr(d, "content") && strcmp(cli__jstr(d, "content"), "full") != 0)
			printf("  content %s", cli__jstr(d, "content"));
		if (cli__jint(d, "escalation_step"))
			printf("  (escalation step %lld)\n", (long long)cli__jint(d, "escalation_step"));
		else
			printf("  (rule at line %lld)\n", (long long)cli__jint(d, "rule_line"));
	}
	json_t *esc = json_object_get(r, "escalation"), *st, *x;
	size_t k;
	if (!json_is_object(esc))
		return;
	printf("escalation ");
	cli__put_clean(stdout, cli__or(cli__jstr(esc, "policy"), "?"), NULL);
	printf(" until someone acknowledges:\n");
	json_array_foreach(json_object_get(esc, "steps"), i, st) {
		printf("  step %lld at %s, then waits %llds\n", (long long)cli__jint(st, "step"),
		       cli__jtime(st, "at", t), (long long)cli__jint(st, "wait_s"));
		if (json_array_size(json_object_get(st, "deliveries")) == 0)
			puts("    nobody (no one on call or no matching device)");
		json_array_foreach(json_object_get(st, "deliveries"), k, x) {
			cli__put_delivery_head(x, "    ");
			fputc('\n', stdout);
		}
	}
	printf("  unacknowledged at %s if nobody has answered\n",
	       cli__jtime(esc, "unacknowledged_at", t));
}

int cli__preview(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_ROUTE_OPTS,
		{ "at", required_argument, NULL, O_AT },
		CLI_COMMON_OPTS, { NULL, 0, NULL, 0 }
	};
	struct cli_route route = { 0 };
	const char *at = NULL;
	int ch, rc;
	int64_t ms;
	json_t *req;

	while ((ch = cli__option(c, argc, argv, opts, &rc)) > 0)
		if (!cli__route_opt(&route, ch, optarg))
			at = optarg;            /* --at */
	if (ch < 0)
		return rc;
	if (optind != argc)
		return cli__usage_error(c->usage, "unexpected argument '%s'", argv[optind]);
	if (at && pg_parse_iso8601(at, &ms) != 0)
		return cli__usage_error(c->usage, "--at wants RFC 3339, not '%s'", at);
	if (!(req = json_object()))
		return EX_FAIL;
	if ((rc = cli__set_route(c, req, &route)) == EX_OK) {
		if (at)
			json_object_set_new(req, "at", json_string(at));
		rc = cli__call(c, "POST", "/v1/route/preview", req, NULL, preview_print);
	}
	json_decref(req);
	return rc;
}
