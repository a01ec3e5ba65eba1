/*
 * pagegated.c - the daemon: load the configuration, open the store, rebuild
 * the scheduler from it, serve the API.  Runs in the foreground, logs on
 * stderr.  Signals are taken synchronously with sigwait() in the main
 * thread: SIGHUP reloads the configuration (a bad one is rejected and the
 * old one kept), SIGTERM/SIGINT stop cleanly.
 *
 *   pagegated -c FILE      run
 *   pagegated -c FILE -n   check the configuration and exit (0 valid)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pagegate/ack.h"
#include "pagegate/config.h"
#include "pagegate/daemon.h"
#include "pagegate/intake.h"
#include "pagegate/log.h"
#include "pagegate/summary.h"
#include "pagegate/util.h"

#ifndef PG_VERSION
#define PG_VERSION "0.1.0"
#endif

static void
usage(FILE *f)
{
	fprintf(f, "usage: pagegated [-n] [-c FILE]\n"
	    "  -c FILE  configuration (default etc/pagegate.conf)\n"
	    "  -n       check the configuration and exit\n"
	    "  -V       print the version\n");
}

/* The store's observer: every committed change to a message goes to the
 * consoles' event streams. */
static void
on_change(void *arg, int64_t mid, const char *change)
{
	pg_events_message(arg, mid, change);
}

/* Loads path; prints every diagnostic as file:line: message. */
static struct pg_config *
load(const char *path)
{
	struct pg_diags d;
	struct pg_config *cfg = NULL;
	pg_err e;

	pg_diags_init(&d);
	e = pg_config_load(path, &cfg, &d);
	for (size_t i = 0; i < d.n; i++) {
		if (d.v[i].line > 0)
			fprintf(stderr, "%s:%d: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
		else
			fprintf(stderr, "%s: %s\n", d.v[i].file, d.v[i].msg);
	}
	pg_diags_free(&d);
	if (e != PG_OK) {
		if (cfg)
			pg_config_release(cfg);
		return NULL;
	}
	return cfg;
}

static void
reload(struct pg_live_config *live, const char *path)
{
	struct pg_config *cfg;

	pg_info("SIGHUP: reloading %s", path);
	if ((cfg = load(path)) == NULL) {
		pg_error("reload rejected: %s has errors (above); keeping the running configuration", path);
		return;
	}
	pg_live_swap(live, cfg);
	pg_info("configuration reloaded: %zu clients", cfg->n_clients);
}

int
main(int argc, char **argv)
{
	const char *path = "etc/pagegate.conf";
	bool check_only = false;
	struct pg_config *cfg;
	struct pg_live_config live;
	struct pg_metrics metrics;
	struct pg_ack_host ack;
	struct pg_ctx ctx;
	struct pg_sched_deps deps;
	struct pg_esc_deps edeps;
	struct pg_summary_deps sdeps;
	struct pg_summaries *summaries = NULL;
	struct pg_http *http = NULL;
	sigset_t set;
	pg_err e;
	int c, sig, rc = 0;

	while ((c = getopt(argc, argv, "c:nVh")) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'n': check_only = true; break;
		case 'V': printf("pagegated %s\n", PG_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	/* Block the signals we wait for before any thread exists, so every
	 * thread inherits the mask and only sigwait() below sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((cfg = load(path)) == NULL) {
		fprintf(stderr, "pagegated: %s: configuration invalid\n", path);
		return 1;
	}
	if (check_only) {
		printf("%s: ok (%zu clients, %zu operators)\n",
		    path, cfg->n_clients, cfg->n_operators);
		pg_config_release(cfg);
		return 0;
	}

	memset(&ctx, 0, sizeof ctx);
	ctx.started_ms = pg_now_ms();
	pg_metrics_init(&metrics);
	ctx.metrics = &metrics;
	if ((e = pg_store_open_node(cfg->store_dsn, cfg->store_max_mb, cfg->node,
				    &ctx.store)) != PG_OK) {
		pg_error("cannot open store %s: %s", cfg->store_dsn, pg_strerror(e));
		pg_config_release(cfg);
		return 1;
	}
	if ((e = pg_events_new(cfg->console_max_streams, &ctx.events)) != PG_OK) {
		pg_error("cannot make the event ring: %s", pg_strerror(e));
		pg_store_close(ctx.store);
		pg_config_release(cfg);
		return 1;
	}
	pg_store_observe(ctx.store, on_change, ctx.events);
	pg_live_init(&live, cfg);
	ctx.live = &live;
	if ((e = pg_ack_host_init(&ack, ctx.store, &metrics)) != PG_OK) {
		pg_error("cannot read the server secret from the store: %s", pg_strerror(e));
		pg_store_close(ctx.store);
		pg_events_free(ctx.events);
		pg_live_destroy(&live);
		return 1;
	}
	ctx.ack = &ack;

	memset(&deps, 0, sizeof deps);
	deps.store = ctx.store;
	deps.live = &live;
	deps.metrics = &metrics;
	deps.workers = cfg->workers;
	if ((e = pg_channels_start(cfg, &ack.host, NULL, &ctx.channels)) != PG_OK) {
		pg_error("cannot start the channel drivers: %s", pg_strerror(e));
		rc = 1;
		goto out;
	}
	deps.channels = ctx.channels;
	deps.lease_ms = (int64_t)cfg->node_lease_s * 1000;
	if ((e = pg_sched_start(&deps, &ctx.sched)) != PG_OK) {
		pg_error("cannot start the scheduler: %s", pg_strerror(e));
		rc = 1;
		goto out;
	}
	edeps = (struct pg_esc_deps){ .store = ctx.store, .live = &live,
		.sched = ctx.sched, .metrics = &metrics };
	if ((e = pg_esc_start(&edeps, &ctx.esc)) != PG_OK) {
		pg_error("cannot start the escalation timers: %s", pg_strerror(e));
		rc = 1;
		goto out;
	}
	sdeps = (struct pg_summary_deps){ .store = ctx.store, .live = &live,
		.channels = ctx.channels };
	if ((e = pg_summary_start(&sdeps, &summaries)) != PG_OK) {
		pg_error("cannot start the summaries: %s", pg_strerror(e));
		rc = 1;
		goto out;
	}
	if ((e = pg_http_start(&ctx, &http)) != PG_OK) {
		pg_error("cannot serve on %s:%d: %s", cfg->listen, cfg->port, pg_strerror(e));
		rc = 1;
		goto out;
	}
	pg_info("pagegated %s ready: http://%s:%d/ (store %s, %zu clients)",
	    PG_VERSION, cfg->listen, cfg->port, cfg->store_dsn, cfg->n_clients);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(&live, path);
			continue;
		}
		pg_info("signal %d: stopping", sig);
		break;
	}
out:
	/* Stop intake first so nothing new arrives, then let attempts under
	 * way finish; whatever is left is in the store for the next start. */
	if (http)
		pg_http_stop(http);
	pg_summary_stop(summaries);
	pg_esc_stop(ctx.esc);
	if (ctx.sched)
		pg_sched_stop(ctx.sched);
	pg_channels_stop(ctx.channels);
	pg_store_close(ctx.store);
	pg_events_free(ctx.events);     /* the store's writer published last */
	pg_live_destroy(&live);
	pg_info("stopped");
	return rc;
}
