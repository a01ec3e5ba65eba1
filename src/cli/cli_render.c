/*
 * cli_render.c - `pagegate render`: what a message would look like on a
 * channel, without a daemon and without sending anything.
 *
 * The configuration is loaded the way `pagegate check` loads it, the
 * message file goes through the API's own validation
 * (pg_intake_parse_message), and the channel's templates are rendered the
 * way the scheduler renders them.  A fax is laid out and written as the
 * TIFF the fax driver would send; other channels print their subject and
 * body.  Exit codes as the rest of the CLI: 0 ok, 1 invalid input or
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
#include "pagegate/fax.h"
#include "pagegate/intake.h"
#include "pagegate/store.h"
#include "pagegate/template.h"
#include "pagegate/util.h"
#include "cli_priv.h"

#define RENDER_MAX      (64 * 1024)   /* one rendered template, as sched.c */

static const char USAGE_RENDER[] =
"usage: pagegate render --channel CHANNEL --message FILE.json [--client ID]\n"
"         [--contact ID] [-o OUT] [-c CONFIG] [--resolution fine|standard]\n"
"         [--paper letter|a4] [--coding mh|mr|mmr]\n"
"Renders what a message (FILE.json, the body of POST /v1/messages; - reads\n"
"stdin) would produce on CHANNEL.  fax writes the TIFF-F that would be sent\n"
"to OUT (required); other channels print the subject and body (to OUT when\n"
"given).  --contact fills the contact's variables and, for fax, takes the\n"
"page options of the contact's fax device; the --resolution, --paper and\n"
"--coding options override them.  --client sets the message's client when\n"
"the file names none.\n";

enum { O_CHANNEL = 256, O_MESSAGE, O_CLIENT, O_CONTACT, O_RES, O_PAPER, O_CODING };

struct render_args {
	const char *channel, *message, *client, *contact, *out, *config;
	const char *res, *paper, *coding;
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

/* Renders template name for the message into out. */
static int
render_template(const struct pg_config *cfg, const struct pg_client *cl,
		const char *name, const struct pg_tvars *tv, enum pg_escape esc,
		struct pg_buf *out)
{
	const struct pg_template *t = pg_config_template(cfg, cl, name);
	pg_err e;

	if (!t) {
		fprintf(stderr, "pagegate: no template %s for client %s\n", name, cl->id);
		return EX_FAIL;
	}
	if ((e = pg_template_render(t->text, tv, esc, out)) != PG_OK) {
		fprintf(stderr, "pagegate: template %s (%s): %s\n", name, t->file,
			pg_strerror(e));
		return EX_FAIL;
	}
	return EX_OK;
}

/* The fax: the contact's device options, overridden by the command line,
 * then layout and TIFF. */
static int
render_fax(const struct render_args *a, const struct pg_contact *ct, const char *body)
{
	struct pg_fax_devopts o;
	const struct pg_device *dev = NULL;
	struct pg_fax_opts fo;
	struct pg_fax_doc *doc;
	const char *bad;
	char err[256];
	pg_err e;

	for (size_t i = 0; ct && i < ct->n_devices && !dev; i++)
		if (ct->devices[i].channel == PG_CH_FAX)
			dev = &ct->devices[i];
	if ((bad = pg_fax_device_opts(dev, &o)) != NULL) {
		fprintf(stderr, "pagegate: the fax device of %s has a bad %s\n", ct->id, bad);
		return EX_FAIL;
	}
	if (a->res && pg_fax_res_parse(a->res, &o.res) != 0)
		return usage("--resolution wants fine or standard, not '%s'", a->res);
	if (a->paper && pg_fax_paper_parse(a->paper, &o.paper) != 0)
		return usage("--paper wants letter or a4, not '%s'", a->paper);
	if (a->coding && pg_fax_coding_parse(a->coding, &o.coding) != 0)
		return usage("--coding wants mh, mr or mmr, not '%s'", a->coding);
	memset(&fo, 0, sizeof fo);
	fo.res = o.res;
	fo.paper = o.paper;
	if ((e = pg_fax_layout(body, &fo, &doc, err, sizeof err)) != PG_OK) {
		fprintf(stderr, "pagegate: cannot lay out the fax: %s\n", err);
		return EX_FAIL;
	}
	e = pg_fax_tiff_write(doc, o.coding, a->out, err, sizeof err);
	if (e != PG_OK)
		fprintf(stderr, "pagegate: %s\n", err);
	else
		fprintf(stderr, "%s: %d page(s), %s resolution, %s, %s\n", a->out,
			pg_fax_doc_pages(doc), o.res == PG_FAX_FINE ? "fine" : "standard",
			o.paper == PG_FAX_A4 ? "A4" : "letter",
			pg_fax_coding_name(o.coding));
	pg_fax_doc_free(doc);
	return e == PG_OK ? EX_OK : EX_FAIL;
}

/* Any other channel: "Subject: ..." (when the channel has one), a blank
 * line, the body. */
static int
render_text(const struct render_args *a, const struct pg_config *cfg,
	    const struct pg_client *cl, const struct pg_channel *drv,
	    const struct pg_tvars *tv)
{
	struct pg_buf subj, body;
	FILE *f = stdout;
	int rc = EX_OK;

	pg_buf_init(&subj, RENDER_MAX);
	pg_buf_init(&body, RENDER_MAX);
	if (drv->subject_template && pg_config_template(cfg, cl, drv->subject_template))
		rc = render_template(cfg, cl, drv->subject_template, tv, PG_ESC_NONE, &subj);
	if (rc == EX_OK)
		rc = render_template(cfg, cl, drv->body_template, tv, drv->body_escape, &body);
	if (rc == EX_OK && a->out && !(f = fopen(a->out, "w"))) {
		fprintf(stderr, "pagegate: %s: %s\n", a->out, strerror(errno));
		rc = EX_FAIL;
	}
	if (rc == EX_OK) {
		if (subj.data)
			fprintf(f, "Subject: %s\n\n", subj.data);
		fputs(body.data ? body.data : "", f);
		if (body.len && body.data[body.len - 1] != '\n')
			fputc('\n', f);
		if ((f != stdout ? fclose(f) : fflush(f)) != 0) {
			fprintf(stderr, "pagegate: writing %s: %s\n", a->out ? a->out : "stdout",
				strerror(errno));
			rc = EX_FAIL;
		}
	}
	pg_buf_free(&subj);
	pg_buf_free(&body);
	return rc;
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
	const struct pg_channel *drv = NULL;
	enum pg_channel_kind kind;
	struct pg_api_error ae;
	struct pg_tvars tv;
	struct pg_buf raw, body;
	char *json = NULL, link[PG_ACK_URL_MAX];
	int rc;

	if ((rc = parse_args(argc, argv, &a)) != EX_OK)
		return rc < 0 ? EX_OK : rc;
	if (pg_channel_parse(a.channel, &kind) != 0)
		return usage("unknown channel '%s'", a.channel);
	if (kind != PG_CH_FAX && !(drv = pg_channel_for(kind))) {
		fprintf(stderr, "pagegate: the %s channel is not built in this version\n",
			a.channel);
		return EX_FAIL;
	}
	if (kind == PG_CH_FAX && !a.out)
		return usage("%s", "a fax needs -o OUT.tif");
	if ((rc = cli__load_config(a.config, &cfg)) != EX_OK)
		return rc;

	memset(&m, 0, sizeof m);
	pg_tvars_init(&tv);
	pg_buf_init(&raw, cfg->max_body);
	pg_buf_init(&body, RENDER_MAX);
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
	/* A link as long as a real one (32-character token), that works
	 * nowhere: the CLI has no store and so no secret. */
	snprintf(link, sizeof link, "%s/a/sample-link-not-valid-0000000000",
		 cfg->public_url ? cfg->public_url : "");
	if (pg_tvars_for_message(&tv, cl, &m, ct, 0) != PG_OK ||
	    pg_tvars_set(&tv, "ack_url", link) != PG_OK) {
		fputs("pagegate: out of memory\n", stderr);
		rc = EX_FAIL;
		goto out;
	}
	if (kind == PG_CH_FAX) {
		if ((rc = render_template(cfg, cl, PG_FAX_TEMPLATE, &tv, PG_ESC_NONE,
					  &body)) == EX_OK)
			rc = render_fax(&a, ct, body.data ? body.data : "");
	} else {
		rc = render_text(&a, cfg, cl, drv, &tv);
	}
out:
	free(json);
	pg_buf_free(&raw);
	pg_buf_free(&body);
	pg_tvars_free(&tv);
	pg_message_free(&m);
	pg_config_release(cfg);
	return rc;
}
