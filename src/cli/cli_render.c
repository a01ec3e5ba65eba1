/*
 * cli_render.c - `pagegate render`: what a message would look like on a
 * channel, without a daemon and without sending anything.
 *
 * The configuration is loaded the way `pagegate check` loads it, the
 * message file goes through the API's own validation
 * (pg_intake_parse_message), and the content is rendered by the same
 * function the scheduler sends with (pg_channel_render), at the content
 * level of the contact's device (else the client's for the channel), so
 * a "summary" pager previews as a summary.  A channel with a preview slot
 * (fax, voice) writes the file it would send; the others print their subject
 * and body.  Exit codes as the rest of the CLI: 0 ok, 1 invalid input or
 * configuration, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "pagegate/channel.h"
#include "pagegate/config.h"
#include "pagegate/intake.h"
#include "pagegate/store.h"
#include "pagegate/template.h"
#include "pagegate/util.h"
#include "cli_priv.h"


static const char USAGE_RENDER[] =
"usage: pagegate render --channel CHANNEL --message FILE.json [--client ID]\n"
"         [--contact ID] [-o OUT] [-c CONFIG] [--resolution fine|standard]\n"
"         [--paper letter|a4] [--coding mh|mr|mmr] [--set KEY=VALUE]...\n"
"Renders what a message (FILE.json, the body of POST /v1/messages; - reads\n"
"stdin) would produce on CHANNEL.  fax writes the TIFF-F that would be sent\n"
"to OUT (required); other channels print the subject and body (to OUT when\n"
"given).  --contact fills the contact's variables and, for fax, takes the\n"
"page options of the contact's fax device; the --resolution, --paper and\n"
"--coding options override them.  --client sets the message's client when\n"
"the file names none.  voice writes the WAV a call would play to OUT\n"
"(required): the greeting, a second's pause, the message and the menu, at\n"
"8000 Hz, in the client's language; --set part=greeting|message|menu|acked|\n"
"passed, --set rate=16000|native and --set language=TAG change that.  --set\n"
"hands any KEY=VALUE to the channel's file writer (fax: resolution, paper,\n"
"coding).\n";

enum { O_CHANNEL = 256, O_MESSAGE, O_CLIENT, O_CONTACT, O_RES, O_PAPER, O_CODING, O_SET };

#define SETS_MAX 8

struct render_args {
	const char *channel, *message, *client, *contact, *out, *config;
	const char *res, *paper, *coding;
	struct pg_kv sets[SETS_MAX];     /* --set KEY=VALUE (pointing into argv) */
	size_t n_sets;
};

static int
usage(const char *fmt, const char *arg)
{
	return cli__usage_error(USAGE_RENDER, fmt, arg);
}

/* Reads path ("-" = stdin) into b (bounded by b's max). */
static int
read_all(const char *path, struct pg_buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	int rc = EX_FAIL;

	if (!f) {
		fprintf(stderr, "pagegate: %s: %s\n", path, strerror(errno));
		return EX_FAIL;
	}
	switch (cli__read_all(f, b)) {
	case PG_OK:
		rc = EX_OK;
		break;
	case PG_ERR_TOOBIG:
		fprintf(stderr, "pagegate: %s: larger than %zu bytes\n", path, b->max);
		break;
	default:
		fprintf(stderr, "pagegate: %s: %s\n", path, strerror(errno));
		break;
	}
	if (f != stdin)
		fclose(f);
	return rc;
}

/* The message text with "client" set to client when it names neither a
 * client nor a dnis; the caller frees *out. */
static int
with_client(const struct pg_buf *raw, const char *file, const char *client, char **out)
{
	json_error_t je;
	json_t *j;
	const char *have;

	*out = NULL;
	if (!client)
		return (*out = pg_strdup(raw->data ? raw->data : "")) ? EX_OK : EX_FAIL;
	j = json_loadb(raw->data ? raw->data : "", raw->len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		fprintf(stderr, "pagegate: %s:%d: not a JSON object%s%s\n", file,
			j ? 1 : je.line, j ? "" : ": ", j ? "" : je.text);
		json_decref(j);
		return EX_FAIL;
	}
	have = json_string_value(json_object_get(j, "client"));
	if (have && strcmp(have, client) != 0) {
		fprintf(stderr, "pagegate: %s names client \"%s\", not \"%s\"\n", file,
			have, client);
		json_decref(j);
		return EX_FAIL;
	}
	if (!have && !json_object_get(j, "dnis") &&
	    json_object_set_new(j, "client", json_string(client)) != 0) {
		json_decref(j);
		return EX_FAIL;
	}
	*out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return *out ? EX_OK : EX_FAIL;
}

/* A channel with a preview slot: the file it would send, to a->out. */
static int
render_file(const struct render_args *a, const struct pg_channel *drv,
	    const struct pg_client *cl, const struct pg_device *dev, const char *body)
{
	struct pg_kv over[3 + SETS_MAX];
	size_t n = 0;
	char summary[512];
	pg_err e;

	if (a->res)
		over[n++] = (struct pg_kv){ "resolution", (char *)a->res };
	if (a->paper)
		over[n++] = (struct pg_kv){ "paper", (char *)a->paper };
	if (a->coding)
		over[n++] = (struct pg_kv){ "coding", (char *)a->coding };
	for (size_t i = 0; i < a->n_sets; i++)
		over[n++] = a->sets[i];
	e = drv->preview(cl, dev, over, n, body, a->out, summary, sizeof summary);
	if (e == PG_ERR_INVAL)
		return usage(a->n_sets ? "%s" : "--%s", summary);
	if (e != PG_OK) {
		fprintf(stderr, "pagegate: %s\n", summary);
		return EX_FAIL;
	}
	fprintf(stderr, "%s: %s\n", a->out, summary);
	return EX_OK;
}

/* Any other channel: "Subject: ..." (when the channel has one), a blank
 * line, the body. */
static int
render_text(const struct render_args *a, const struct pg_rendered *r)
{
	FILE *f = stdout;

	if (a->out && !(f = fopen(a->out, "w"))) {
		fprintf(stderr, "pagegate: %s: %s\n", a->out, strerror(errno));
		return EX_FAIL;
	}
	if (r->has_subject)
		fprintf(f, "Subject: %s\n\n", r->subject.data ? r->subject.data : "");
	fputs(r->body.data ? r->body.data : "", f);
	if (r->body.len && r->body.data[r->body.len - 1] != '\n')
		fputc('\n', f);
	if ((f != stdout ? fclose(f) : fflush(f)) != 0) {
		fprintf(stderr, "pagegate: writing %s: %s\n", a->out ? a->out : "stdout",
			strerror(errno));
		return EX_FAIL;
	}
	return EX_OK;
}

/* The contact's first device on the channel (whose content level and
 * settings a preview takes), or NULL. */
static const struct pg_device *
first_device(const struct pg_contact *ct, enum pg_channel_kind kind)
{
	for (size_t i = 0; ct && i < ct->n_devices; i++)
		if (ct->devices[i].channel == kind)
			return &ct->devices[i];
	return NULL;
}

static int
parse_args(int argc, char **argv, struct render_args *a)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, O_CHANNEL },
		{ "message", required_argument, NULL, O_MESSAGE },
		{ "client", required_argument, NULL, O_CLIENT },
		{ "contact", required_argument, NULL, O_CONTACT },
		{ "resolution", required_argument, NULL, O_RES },
		{ "paper", required_argument, NULL, O_PAPER },
		{ "coding", required_argument, NULL, O_CODING },
		{ "set", required_argument, NULL, O_SET },
		{ "output", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(a, 0, sizeof *a);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "ho:c:", opts, NULL)) != -1) {
		switch (ch) {
		case O_CHANNEL: a->channel = optarg; break;
		case O_MESSAGE: a->message = optarg; break;
		case O_CLIENT: a->client = optarg; break;
		case O_CONTACT: a->contact = optarg; break;
		case O_RES: a->res = optarg; break;
		case O_PAPER: a->paper = optarg; break;
		case O_CODING: a->coding = optarg; break;
		case O_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || a->n_sets == SETS_MAX)
				return usage("--set wants KEY=VALUE (at most 8), not '%s'", optarg);
			*eq = '\0';
			a->sets[a->n_sets++] = (struct pg_kv){ optarg, eq + 1 };
			break;
		}
		case 'o': a->out = optarg; break;
		case 'c': a->config = optarg; break;
		case 'h': fputs(USAGE_RENDER, stdout); return -1;
		default: fputs(USAGE_RENDER, stderr); return EX_USAGE;
		}
	}
	if (optind != argc)
		return usage("unexpected argument '%s'", argv[optind]);
	if (!a->channel)
		return usage("%s", "--channel is required");
	if (!a->message)
		return usage("%s", "--message FILE.json is required");
	return EX_OK;
}

int
pg_cli_render(int argc, char **argv)
{
	struct render_args a;
	struct pg_config *cfg = NULL;
	struct pg_message m;
	const struct pg_client *cl = NULL;
	const struct pg_contact *ct = NULL;
	const struct pg_device *dev;
	const struct pg_channel *drv;
	enum pg_channel_kind kind;
	struct pg_api_error ae;
	struct pg_rendered r;
	struct pg_buf raw;
	char *json = NULL, link[PG_ACK_URL_MAX], why[512];
	int rc;

	if ((rc = parse_args(argc, argv, &a)) != EX_OK)
		return rc < 0 ? EX_OK : rc;
	if (pg_channel_parse(a.channel, &kind) != 0)
		return usage("unknown channel '%s'", a.channel);
	if (!(drv = pg_channel_for(kind))) {
		fprintf(stderr, "pagegate: nothing is sent on the %s channel: there is "
			"nothing to render\n", a.channel);
		return EX_FAIL;
	}
	if (drv->preview && !a.out)
		return usage("the %s channel writes a file: -o OUT is required", a.channel);
	if ((rc = cli__load_config(a.config, &cfg)) != EX_OK)
		return rc;

	memset(&m, 0, sizeof m);
	pg_rendered_init(&r);
	pg_buf_init(&raw, cfg->max_body);
	if ((rc = read_all(a.message, &raw)) != EX_OK ||
	    (rc = with_client(&raw, a.message, a.client, &json)) != EX_OK)
		goto out;
	if (pg_intake_parse_message(json, strlen(json), cfg, &m, &cl, &ae) != PG_OK) {
		fprintf(stderr, "pagegate: %s: %s%s%s\n", a.message, ae.field,
			ae.field[0] ? ": " : "", ae.message);
		rc = EX_FAIL;
		goto out;
	}
	m.received_ms = pg_now_ms();
	if (a.contact && !(ct = pg_client_contact(cl, a.contact))) {
		fprintf(stderr, "pagegate: client %s has no contact \"%s\"\n", cl->id, a.contact);
		rc = EX_FAIL;
		goto out;
	}
	dev = first_device(ct, kind);
	/* A link as long as a real one (32-character token), that works
	 * nowhere: the CLI has no store and so no secret. */
	snprintf(link, sizeof link, "%s/a/sample-link-not-valid-0000000000",
		 cfg->public_url ? cfg->public_url : "");
	if (pg_channel_render(cfg, drv, cl, ct, dev, &m, 0, link, &r, why, sizeof why)) {
		fprintf(stderr, "pagegate: %s\n", why);
		rc = EX_FAIL;
		goto out;
	}
	if (drv->preview)
		rc = render_file(&a, drv, cl, dev, r.body.data ? r.body.data : "");
	else
		rc = render_text(&a, &r);
out:
	free(json);
	pg_buf_free(&raw);
	pg_rendered_free(&r);
	pg_message_free(&m);
	pg_config_release(cfg);
	return rc;
}
