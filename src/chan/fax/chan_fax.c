/*
 * chan_fax.c - the fax channel: each job's rendered fax.txt is laid out
 * (fax_render.c), written as TIFF Class F (fax_tiff.c), checked, and sent
 * through the device's gateway: a SIP call on a trunk of the shared
 * "sip" list carrying T.30 over T.38 or G.711 (fax_sip.c, fax_t30.c,
 * ../sip/), or a job submitted to a HylaFAX server
 * (fax_hylafax.c).
 *
 * A SIP call's outcome is T.30's: OK once the far machine confirmed every
 * page; busy, no answer, line failures and the watchdog are temporary
 * (the scheduler retries with the fax backoff), incompatible machines
 * and refused numbers permanent.  The reply (the ledger's text) carries
 * pages sent, bit rate, ECM, the remote station id and T.30's completion
 * text.  A HylaFAX submission is "sent" when the server queued it; a
 * poller thread then asks for the job's state and reports DONE or FAILED
 * as a receipt.  Jobs polled are kept in memory: after a restart their
 * deliveries stay "sent".
 *
 * One job per send() call: a fax is a phone call, concurrency comes from
 * the scheduler's workers.  TIFF files live in a private spool directory
 * ($TMPDIR/pagegate-fax.XXXXXX, made at the first fax, removed at stop)
 * only while a job is being sent.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fax_priv.h"
#include "../drivers.h"
#include "pagegate/channel.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define PENDING_MAX     10000         /* HylaFAX jobs polled at once */
#define POLL_TICK_MS    1000
#define DEFAULT_GIVE_UP (24 * 3600)   /* s, when a job has no expiry */
#define WATCH_GRACE     (15 * 60)     /* s: polled past the job's LASTTIME */

/* A HylaFAX job whose end we wait for, with its own copy of the server's
 * address (the configuration may be reloaded meanwhile). */
struct pending {
	int64_t did;
	unsigned jobid;
	int64_t expires_ms, next_ms;
	int poll_s;
	char *name, *host, *user, *password;
	int port, timeout_s;
};

struct fax_state {
	const struct pg_chan_host *host;
	char spool[256];             /* made at the first fax ("" = not yet) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t poller;
	bool poller_on;
	_Atomic bool stopping;        /* pg_thread_stop */
	struct pending *pend;
	size_t n_pend;
	struct pg_fax_fontdb *fonts; /* fontconfig's list, for every fax */
};

const char *
pg_fax_device_opts(const struct pg_device *dev, struct pg_fax_devopts *out)
{
	const char *v;

	out->res = PG_FAX_FINE;
	out->paper = PG_FAX_LETTER;
	out->coding = PG_FAX_MH;
	if (!dev)
		return NULL;
	if ((v = pg_device_opt(dev, "resolution")) && pg_fax_res_parse(v, &out->res) != 0)
		return "resolution";
	if ((v = pg_device_opt(dev, "paper")) && pg_fax_paper_parse(v, &out->paper) != 0)
		return "paper";
	if ((v = pg_device_opt(dev, "coding")) && pg_fax_coding_parse(v, &out->coding) != 0)
		return "coding";
	return NULL;
}

/* ---- the HylaFAX poller ---- */

static void
pending_free(struct pending *p)
{
	free(p->name);
	free(p->host);
	free(p->user);
	if (p->password)
		explicit_bzero(p->password, strlen(p->password));
	free(p->password);
}

static void
watch_job(struct fax_state *st, const struct fax_gateway *gw, int64_t did, unsigned jobid,
	  int64_t expires_ms)
{
	struct pending p = {
		.did = did, .jobid = jobid, .expires_ms = expires_ms,
		.next_ms = pg_now_ms() + (int64_t)gw->poll_s * 1000, .poll_s = gw->poll_s,
		.port = gw->hyla.port, .timeout_s = gw->hyla.timeout_s,
	};
	struct pending *v;

	p.name = pg_strdup(gw->name);
	p.host = pg_strdup(gw->host);
	p.user = pg_strdup(gw->user);
	p.password = pg_strdup(gw->password);
	pthread_mutex_lock(&st->mu);
	if (!p.name || !p.host || !p.user || (gw->password && !p.password) ||
	    st->n_pend >= PENDING_MAX ||
	    !(v = realloc(st->pend, (st->n_pend + 1) * sizeof *v))) {
		pthread_mutex_unlock(&st->mu);
		pg_warn("fax: cannot watch HylaFAX job %u of delivery %lld", jobid, (long long)did);
		pending_free(&p);
		return;
	}
	st->pend = v;
	st->pend[st->n_pend++] = p;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

/* Asks HylaFAX about one job (without the lock); true when it is over. */
static bool
poll_one(struct fax_state *st, const struct pending *p)
{
	struct pg_fax_hylafax h = {
		.name = p->name, .host = p->host, .port = p->port, .user = p->user,
		.password = p->password, .timeout_s = p->timeout_s,
	};
	enum pg_fax_job_state js;
	char detail[PG_REPLY_MAX];
	pg_err e = pg_fax_hylafax_state(&h, p->jobid, &js, detail, sizeof detail);

	pg_debug("fax: delivery %lld, HylaFAX job %u: %s", (long long)p->did, p->jobid, detail);
	if (e == PG_ERR_TEMPFAIL || (e == PG_OK && js == PG_FAXJOB_PENDING))
		return false;
	e = st->host->receipt(st->host->ctx, p->did,
			      e == PG_OK && js == PG_FAXJOB_DONE ? PG_D_DELIVERED : PG_D_FAILED,
			      detail);
	if (e != PG_OK)
		pg_warn("fax: receipt for delivery %lld: %s", (long long)p->did, pg_strerror(e));
	return true;
}

static void *
poller(void *arg)
{
	struct fax_state *st = arg;

	pthread_mutex_lock(&st->mu);
	while (!st->stopping) {
		int64_t now = pg_now_ms();
		size_t i;
		for (i = 0; i < st->n_pend && st->pend[i].next_ms > now; i++)
			;
		if (i < st->n_pend) {
			struct pending p = st->pend[i];
			st->pend[i].next_ms = now + (int64_t)p.poll_s * 1000;
			/* p's strings stay valid: only this thread removes entries */
			pthread_mutex_unlock(&st->mu);
			bool over = poll_one(st, &p);
			if (!over && pg_now_ms() > p.expires_ms) {
				pg_warn("fax: HylaFAX job %u of delivery %lld did not end in time; "
					"no longer polled", p.jobid, (long long)p.did);
				over = true;
			}
			pthread_mutex_lock(&st->mu);
			if (over) {
				for (i = 0; i < st->n_pend && st->pend[i].did != p.did; i++)
					;
				if (i < st->n_pend) {
					pending_free(&st->pend[i]);
					st->pend[i] = st->pend[--st->n_pend];
				}
			}
			continue;
		}
		pg_cond_wait_ms(&st->cv, &st->mu, POLL_TICK_MS);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* ---- sending ---- */

/* Lays out and writes the job's fax into path; false with the job's
 * outcome set when it cannot be made. */
static bool
make_tiff(struct fax_state *st, struct pg_job *j, const struct pg_fax_devopts *o,
	  const char *path, int *pages)
{
	struct pg_fax_opts fo = { .res = o->res, .paper = o->paper, .fontdb = st->fonts };
	struct pg_fax_doc *doc;
	struct pg_fax_tiff_info ti;
	char err[256];
	pg_err e;

	if ((e = pg_fax_layout(j->body, &fo, &doc, err, sizeof err)) != PG_OK) {
		/* missing fonts can be installed: worth another try */
		pg_job_set(j, e == PG_ERR_IO || e == PG_ERR_NOMEM ? PG_OUT_TEMP : PG_OUT_PERM,
			"not sent, cannot lay out the fax: %s", err);
		return false;
	}
	*pages = pg_fax_doc_pages(doc);
	if (pg_fax_doc_missing(doc) > 0)
		pg_warn("fax: message %lld delivery %lld: %zu character(s) with no glyph in "
			"any installed font, printed as the replacement mark",
			(long long)j->message_id, (long long)j->delivery_id,
			pg_fax_doc_missing(doc));
	e = pg_fax_tiff_write(doc, o->coding, path, err, sizeof err);
	pg_fax_doc_free(doc);
	if (e != PG_OK) {
		pg_job_set(j, PG_OUT_TEMP, "not sent, cannot write the fax: %s", err);
		return false;
	}
	if (pg_fax_tiff_check(path, &ti, err, sizeof err) != PG_OK) {
		pg_job_set(j, PG_OUT_PERM, "not sent, the fax file is not sendable: %s", err);
		return false;
	}
	return true;
}

/* `pagegate render` (channel.h's preview): the TIFF-F the driver would
 * send for body on device dev, with the device's resolution, paper and
 * coding replaced by the overrides of the same names.  The summary
 * counts the characters no installed font has, if any. */
static pg_err
fax_preview(const struct pg_client *cl, const struct pg_device *dev,
	    const struct pg_kv *over, size_t n_over, const char *body, const char *out,
	    char *summary, size_t slen)
{
	struct pg_fax_devopts o;
	struct pg_fax_opts fo;
	struct pg_fax_doc *doc;
	const char *bad;
	char err[256];
	pg_err e;

	(void)cl;
	if ((bad = pg_fax_device_opts(dev, &o)) != NULL) {
		snprintf(summary, slen, "the fax device has a bad %s", bad);
		return PG_ERR_CONFIG;
	}
	for (size_t i = 0; i < n_over; i++) {
		const char *k = over[i].key, *v = over[i].value;

		if (strcmp(k, "resolution") == 0 ? pg_fax_res_parse(v, &o.res) != 0 :
		    strcmp(k, "paper") == 0 ? pg_fax_paper_parse(v, &o.paper) != 0 :
		    strcmp(k, "coding") == 0 ? pg_fax_coding_parse(v, &o.coding) != 0 : true) {
			snprintf(summary, slen, "%s wants %s, not '%s'", k,
				 strcmp(k, "resolution") == 0 ? "fine or standard" :
				 strcmp(k, "paper") == 0 ? "letter or a4" :
				 strcmp(k, "coding") == 0 ? "mh, mr or mmr" : "nothing here", v);
			return PG_ERR_INVAL;
		}
	}
	memset(&fo, 0, sizeof fo);
	fo.res = o.res;
	fo.paper = o.paper;
	if ((e = pg_fax_layout(body, &fo, &doc, err, sizeof err)) != PG_OK) {
		snprintf(summary, slen, "cannot lay out the fax: %s", err);
		return e;
	}
	if ((e = pg_fax_tiff_write(doc, o.coding, out, err, sizeof err)) != PG_OK)
		snprintf(summary, slen, "%s", err);
	else if (pg_fax_doc_missing(doc) == 0)
		snprintf(summary, slen, "%d page(s), %s resolution, %s, %s",
			 pg_fax_doc_pages(doc), o.res == PG_FAX_FINE ? "fine" : "standard",
			 o.paper == PG_FAX_A4 ? "A4" : "letter", pg_fax_coding_name(o.coding));
	else
		snprintf(summary, slen, "%d page(s), %s resolution, %s, %s; %zu character(s) "
			 "with no glyph in any installed font, printed as the replacement mark",
			 pg_fax_doc_pages(doc), o.res == PG_FAX_FINE ? "fine" : "standard",
			 o.paper == PG_FAX_A4 ? "A4" : "letter", pg_fax_coding_name(o.coding),
			 pg_fax_doc_missing(doc));
	pg_fax_doc_free(doc);
	return e;
}

/* The private directory the fax files of this process go to, made on
 * first use (a daemon that never faxes leaves nothing behind). */
static bool
spool_dir(struct fax_state *st)
{
	const char *tmp = getenv("TMPDIR");
	bool ok = true;

	pthread_mutex_lock(&st->mu);
	if (!st->spool[0]) {
		snprintf(st->spool, sizeof st->spool, "%s/pagegate-fax.XXXXXX",
			 tmp && *tmp && strlen(tmp) < 200 ? tmp : "/tmp");
		if (!mkdtemp(st->spool)) {
			pg_error("fax: cannot create a spool directory %s: %s", st->spool,
				 strerror(errno));
			st->spool[0] = '\0';
			ok = false;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return ok;
}

static void
send_one(struct fax_state *st, const struct fax_cfg *fc, const char *gateway,
	 struct pg_job *j)
{
	const struct pg_sip_gw *trunk;
	const struct fax_gateway *gw;
	struct pg_fax_devopts o;
	struct pg_fax_result r;
	char path[512];
	int pages = 0;
	int64_t t0 = pg_mono_ms(), now;
	unsigned jobid = 0;

	j->reply[0] = '\0';
	if (!fax_gateway_find(fc, gateway, &trunk, &gw)) {
		pg_job_set(j, PG_OUT_PERM, "fax gateway \"%s\" is not configured",
			gateway ? gateway : "(default)");
		return;
	}
	if (!pg_sip_number_ok(j->address)) {
		pg_job_set(j, PG_OUT_PERM, "not a fax number, not sent");
		return;
	}
	if (pg_fax_device_opts(j->device, &o) != NULL)
		pg_fax_device_opts(NULL, &o);          /* checked at load: defaults */
	if (!spool_dir(st)) {
		pg_job_set(j, PG_OUT_TEMP, "not sent, no spool directory for the fax file");
		goto log;
	}
	snprintf(path, sizeof path, "%s/d%lld-%08x.tif", st->spool,
		 (long long)j->delivery_id, pg_random_u32());
	if (!make_tiff(st, j, &o, path, &pages)) {
		unlink(path);
		goto log;
	}
	if (trunk) {
		pg_fax_sip_send(trunk, j->address, path, &r);
		j->outcome = r.outcome;
		pg_fax_result_format(&r, j->reply, sizeof j->reply);
	} else {
		now = pg_now_ms();
		struct pg_fax_hylafax_job hj = {
			.number = j->address, .tiff = path, .res = o.res, .paper = o.paper,
			.give_up_s = j->expires_ms > now ? (j->expires_ms - now) / 1000 :
				DEFAULT_GIVE_UP,
		};
		j->outcome = pg_fax_hylafax_submit(&gw->hyla, &hj, &jobid, j->reply,
						   sizeof j->reply);
		/* HylaFAX keeps trying until the job's LASTTIME (the delivery's
		 * give-up time, at least a minute); its end is known a little
		 * later */
		if (j->outcome == PG_OUT_OK && jobid)
			watch_job(st, gw, j->delivery_id, jobid, now + 1000LL *
				  ((hj.give_up_s > PG_FAX_JOB_MIN_S ? hj.give_up_s : PG_FAX_JOB_MIN_S) +
				   WATCH_GRACE));
	}
	if (unlink(path) != 0)
		pg_warn("fax: cannot remove %s: %s", path, strerror(errno));
log:
	pg_info("fax attempt: message %lld delivery %lld to %s via %s: %s in %lld ms: %s",
		(long long)j->message_id, (long long)j->delivery_id, j->address,
		trunk ? trunk->name : gw->name, pg_outcome_name(j->outcome),
		(long long)(pg_mono_ms() - t0), j->reply);
}

static void
fax_send(void *state, const struct pg_config *cfg, const char *gateway,
	 struct pg_job *jobs, size_t n)
{
	struct fax_state *st = state;
	const struct fax_cfg *fc = cfg->chan_cfg[PG_CH_FAX];

	for (size_t i = 0; i < n; i++)
		send_one(st, fc, gateway, &jobs[i]);
}

static pg_err
fax_start(const struct pg_config *cfg, const struct pg_chan_host *host, void **state)
{
	struct fax_state *st = calloc(1, sizeof *st);

	(void)cfg;
	if (!st)
		return PG_ERR_NOMEM;
	st->host = host;
	if (pg_fax_fontdb_new(&st->fonts) != PG_OK) {
		free(st);
		return PG_ERR_NOMEM;
	}
	pthread_mutex_init(&st->mu, NULL);
	if (pg_cond_init_mono(&st->cv) != PG_OK) {
		pthread_mutex_destroy(&st->mu);
		pg_fax_fontdb_free(st->fonts);
		free(st);
		return PG_ERR_NOMEM;
	}
	pg_sip_init();
	if (pthread_create(&st->poller, NULL, poller, st) != 0) {
		pg_sip_deinit();
		pthread_mutex_destroy(&st->mu);
		pthread_cond_destroy(&st->cv);
		pg_fax_fontdb_free(st->fonts);
		free(st);
		return PG_ERR_NOMEM;
	}
	st->poller_on = true;
	*state = st;
	return PG_OK;
}

static void
fax_stop(void *state)
{
	struct fax_state *st = state;

	if (!st)
		return;
	pg_thread_stop(&st->mu, &st->cv, &st->stopping, st->poller, st->poller_on);
	for (size_t i = 0; i < st->n_pend; i++)
		pending_free(&st->pend[i]);
	free(st->pend);
	if (st->spool[0] && rmdir(st->spool) != 0)
		pg_warn("fax: cannot remove %s: %s", st->spool, strerror(errno));
	pg_sip_deinit();
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	pg_fax_fontdb_free(st->fonts);
	free(st);
}

const struct pg_channel pg_chan_fax = {
	.name = "fax",
	.kind = PG_CH_FAX,
	.max_batch = 1,                    /* one call per send() */
	.subject_template = NULL,
	.body_template = PG_FAX_TEMPLATE,
	.body_escape = PG_ESC_NONE,
	.config_keys = fax_config_keys,        /* fax = ( { name; kind; ... } ) */
	.config_parse = fax_config_parse,
	.config_free = fax_config_free,
	.config_tables = fax_config_tables,
	.device_keys = fax_device_keys,        /* resolution, paper, coding */
	.device_check = fax_device_check,      /* number, gateway */
	.start = fax_start,
	.stop = fax_stop,
	.send = fax_send,
	.preview = fax_preview,                /* pagegate render: the TIFF */
};
