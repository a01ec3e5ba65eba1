/*
 * pagegated.c - the daemon: load the configuration, open the store, rebuild
 * the scheduler from it, serve the API.  Runs in the foreground, logs on
 * stderr.  Signals are taken synchronously with sigwait() in the main
 * thread: SIGHUP reloads the configuration (a bad one is rejected and the
 * old one kept), SIGTERM/SIGINT stop cleanly.
 *
 * Under systemd (etc/pagegated.service, Type=notify) it tells the service
 * manager READY=1 once the store is open and the API listens, RELOADING=1
 * / READY=1 around a reload, STOPPING=1, and, when the unit sets
 * WatchdogSec=, WATCHDOG=1 from this loop every third of the period while
 * the store answers a read.  Without NOTIFY_SOCKET sd_notify does nothing.
 *
 *   pagegated -c FILE      run
 *   pagegated -c FILE -n   check the configuration and exit (0 valid)
 *   pagegated --version
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "pagegate/ack.h"
#include "pagegate/config.h"
#include "pagegate/daemon.h"
#include "pagegate/intake.h"
#include "pagegate/log.h"
#include "pagegate/summary.h"
#include "pagegate/util.h"

#include "version.h"          /* PG_VERSION, made by the Makefile */

static void
usage(FILE *f)
{
	fprintf(f, "usage: pagegated [-n] [-c FILE]\n"
	    "  -c, --config FILE  configuration (default etc/pagegate.conf)\n"
	    "  -n, --check        check the configuration and exit\n"
	    "  -V, --version      print the version\n");
}

/* The watchdog period the service manager asked for (WATCHDOG_USEC), as
 * the interval between pings in ms: a third of it, so that one late ping
 * is not a restart; 0 when there is no watchdog. */
static int64_t
watchdog_interval_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	return usec / 3000 > 0 ? (int64_t)(usec / 3000) : 1;
}

/* One watchdog ping, when the store still answers a read (a stuck store
 * is what a restart can cure; a full one still reads). */
static void
watchdog_ping(struct pg_store *st)
{
	int64_t ms;
	pg_err e = pg_store_mark_get(st, "watchdog", &ms);

	if (e == PG_OK || e == PG_ERR_NOTFOUND)
		sd_notify(0, "WATCHDOG=1");
	else
		pg_warn("watchdog: the store does not answer (%s); no ping",
			pg_strerror(e));
}

/* Waits up to ms (< 0: for ever) for one of set; the signal, or 0. */
static int
wait_signal(const sigset_t *set, int64_t ms)
{
	struct timespec ts;
	int sig;

	if (ms < 0)
		return sigwait(set, &sig) == 0 ? sig : 0;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	sig = sigtimedwait(set, NULL, &ts);
	return sig > 0 ? sig : 0;
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
	for (size_t i = 0; i < d.n; i++)        /* every one has a line */
		fprintf(stderr, "%s:%d: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
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
	sd_notify(0, "RELOADING=1");
	if ((cfg = load(path)) == NULL) {
		pg_error("reload rejected: %s has errors (above); keeping the running configuration", path);
		sd_notify(0, "READY=1\nSTATUS=reload rejected; running the previous configuration");
		return;
	}
	pg_live_swap(live, cfg);
	pg_info("configuration reloaded: %zu clients", cfg->n_clients);
	sd_notifyf(0, "READY=1\nSTATUS=serving %zu clients", cfg->n_clients);
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

	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int64_t wd_ms, next_ping = 0;

	while ((c = getopt_long(argc, argv, "c:nVh", opts, NULL)) != -1) {
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
	if (cfg->n_node_channels) {        /* checked by the configuration */
		enum pg_channel_kind kinds[PG_CH__COUNT];
		size_t nk = 0;

		for (size_t i = 0; i < cfg->n_node_channels && nk < PG_CH__COUNT; i++)
			if (pg_channel_parse(cfg->node_channels[i], &kinds[nk]) == 0)
				nk++;
		pg_store_node_channels(ctx.store, kinds, nk);
	}
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
	/* other nodes' changes and work, heard sooner than the next poll
	 * (PAGEGATE_NO_LISTEN=1: polling only, to measure what it saves) */
	if (!getenv("PAGEGATE_NO_LISTEN") &&
	    (e = pg_store_listen(ctx.store, pg_sched_poke, ctx.sched)) != PG_OK)
		pg_warn("cannot listen for the other nodes (%s): polling only",
			pg_strerror(e));
	edeps = (struct pg_esc_deps){ .store = ctx.store, .live = &live,
		.sched = ctx.sched, .metrics = &metrics };
	if ((e = pg_esc_start(&edeps, &ctx.esc)) != PG_OK) {
		pg_error("cannot start the escalation timers: %s", pg_strerror(e));
		rc = 1;
		goto out;
	}
	ack.esc = ctx.esc;            /* "pass it on" keys wake the timers */
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
	pg_info("pagegated %s ready: %s://%s:%d/ (store %s, %zu clients)",
	    PG_VERSION, cfg->tls_cert ? "https" : "http", cfg->listen, cfg->port,
	    cfg->store_dsn, cfg->n_clients);
	sd_notifyf(0, "READY=1\nSTATUS=serving %zu clients on %s port %d",
		   cfg->n_clients, cfg->listen, cfg->port);
	if ((wd_ms = watchdog_interval_ms()) > 0)
		pg_info("watchdog: a ping every %lld ms", (long long)wd_ms);

	for (;;) {
		if (wd_ms > 0 && pg_mono_ms() >= next_ping) {
			watchdog_ping(ctx.store);
			next_ping = pg_mono_ms() + wd_ms;
		}
		if ((sig = wait_signal(&set, wd_ms > 0 ? next_ping - pg_mono_ms() : -1)) == 0)
			continue;
		if (sig == SIGHUP) {
			reload(&live, path);
			continue;
		}
		pg_info("signal %d: stopping", sig);
		sd_notify(0, "STOPPING=1");
		break;
	}
out:
	/* Stop intake first so nothing new arrives, then let attempts under
	 * way finish; whatever is left is in the store for the next start. */
	if (http)
		pg_http_stop(http);
	pg_summary_stop(summaries);
	pg_store_unlisten(ctx.store);   /* it wakes the scheduler */
	ack.esc = NULL;                 /* a call still under way escalates no more */
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
