/*
 * intake_load.c - load generator for POST /v1/messages: C concurrent
 * clients (threads, each with its own libcurl easy handle, so each keeps
 * its connection alive) submit N messages in total as fast as the daemon
 * answers.  Any answer other than 201 is an error, and a run with errors
 * exits 1.  Prints "key value" lines on stdout for bench.sh:
 *   intake_messages N  intake_errors N  intake_seconds S
 *   intake_msgs_per_s R  intake_p50_ms L  intake_p99_ms L
 * With -g PATH it sends N GET requests for PATH instead (the HTTP part of
 * intake, e.g. /healthz), expects 200, and prints the same keys with the
 * prefix "get_" instead of "intake_".
 *
 * usage: intake_load -u URL [-c CONCURRENCY] [-n MESSAGES] [-C CLIENT]
 *                    [-U URGENCY] [-g PATH]
 * The operator token comes from $PAGEGATE_TOKEN (never the command line).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "pagegate/util.h"

#define ANSWER_MAX 65536
#define MAX_REPORTED_ERRORS 5

struct load {
	char url[1024];
	const char *client;
	const char *urgency;
	bool get;                     /* GET url, expect 200 (no body) */
	struct curl_slist *headers;   /* shared, read-only while threads run */
	long total;
	atomic_long next;             /* next message index to send */
	atomic_long errors;
	atomic_long reported;
	double *lat_ms;               /* one per message index */
	pthread_barrier_t start;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct pg_buf *b = arg;
	(void)pg_buf_add(b, p, size * n);    /* keep what fits; only for errors */
	return size * n;
}

/* Records one failed request; prints the first few. */
static void error(struct load *L, long i, long status, const char *what)
{
	atomic_fetch_add(&L->errors, 1);
	if (atomic_fetch_add(&L->reported, 1) < MAX_REPORTED_ERRORS)
		fprintf(stderr, "intake_load: message %ld: HTTP %ld: %.300s\n", i, status, what);
}

static void *client_thread(void *arg)
{
	struct load *L = arg;
	struct pg_buf answer;
	char body[512], errbuf[CURL_ERROR_SIZE];
	CURL *e = curl_easy_init();

	pg_buf_init(&answer, ANSWER_MAX);
	if (e) {
		curl_easy_setopt(e, CURLOPT_URL, L->url);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, L->headers);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &answer);
		if (!L->get)
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	}
	pthread_barrier_wait(&L->start);
	for (;;) {
		long i = atomic_fetch_add(&L->next, 1);
		if (i >= L->total)
			break;
		if (!e) {
			error(L, i, 0, "curl_easy_init failed");
			continue;
		}
		if (!L->get) {
			snprintf(body, sizeof body,
				 "{\"client\":\"%s\",\"urgency\":\"%s\","
				 "\"caller\":{\"name\":\"Bench Caller %ld\","
				 "\"phone\":\"+1555555%04ld\"},"
				 "\"text\":\"Bench message %ld: no heat in the building since "
				 "this morning, please call back.\"}",
				 L->client, L->urgency, i, i % 10000, i);
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		}
		pg_buf_reset(&answer);
		errbuf[0] = '\0';
		double t0 = now_ms();
		CURLcode cr = curl_easy_perform(e);
		L->lat_ms[i] = now_ms() - t0;
		long status = 0;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		if (cr != CURLE_OK)
			error(L, i, 0, *errbuf ? errbuf : curl_easy_strerror(cr));
		else if (status != (L->get ? 200 : 201))
			error(L, i, status, answer.data ? answer.data : "");
	}
	curl_easy_cleanup(e);
	pg_buf_free(&answer);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The p-th percentile (0 < p <= 100) of n sorted values, nearest rank. */
static double percentile(const double *v, long n, double p)
{
	long rank = (long)(p / 100.0 * n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

int main(int argc, char **argv)
{
	struct load L = { .client = "bench", .urgency = "routine", .total = 2000 };
	const char *url = NULL, *path = NULL;
	long conc = 64;
	int ch;

	while ((ch = getopt(argc, argv, "u:c:n:C:U:g:")) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'c': conc = atol(optarg); break;
		case 'n': L.total = atol(optarg); break;
		case 'C': L.client = optarg; break;
		case 'U': L.urgency = optarg; break;
		case 'g': path = optarg; break;
		default: url = NULL; optind = argc; break;
		}
	}
	const char *token = getenv("PAGEGATE_TOKEN");
	if (!url || conc < 1 || conc > 1024 || L.total < 1 || !token || !*token ||
	    strpbrk(L.client, "\"\\") || strpbrk(L.urgency, "\"\\") ||
	    (path && path[0] != '/')) {
		fputs("usage: PAGEGATE_TOKEN=... intake_load -u URL [-c CONCURRENCY] "
		      "[-n MESSAGES] [-C CLIENT] [-U URGENCY] [-g /PATH]\n", stderr);
		return 2;
	}
	L.get = path != NULL;
	snprintf(L.url, sizeof L.url, "%s%s", url, path ? path : "/v1/messages");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("intake_load: curl_global_init failed\n", stderr);
		return 1;
	}

	char auth[4200];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	struct curl_slist *h = curl_slist_append(NULL, auth);
	if (h)
		h = curl_slist_append(h, "Content-Type: application/json");
	pthread_t *th = calloc((size_t)conc, sizeof *th);
	L.lat_ms = calloc((size_t)L.total, sizeof *L.lat_ms);
	if (!h || !th || !L.lat_ms ||
	    pthread_barrier_init(&L.start, NULL, (unsigned)conc + 1) != 0) {
		fputs("intake_load: out of memory\n", stderr);
		return 1;
	}
	L.headers = h;

	long started = 0;
	for (; started < conc; started++) {
		if (pthread_create(&th[started], NULL, client_thread, &L) != 0) {
			fprintf(stderr, "intake_load: cannot start thread %ld\n", started);
			return 1;    /* the barrier can never open: nothing to clean up safely */
		}
	}
	pthread_barrier_wait(&L.start);
	double t0 = now_ms();
	for (long i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	double secs = (now_ms() - t0) / 1000.0;

	qsort(L.lat_ms, (size_t)L.total, sizeof *L.lat_ms, cmp_double);
	long errors = atomic_load(&L.errors);
	const char *k = L.get ? "get" : "intake";
	printf("%s_messages %ld\n%s_concurrency %ld\n%s_errors %ld\n"
	       "%s_seconds %.3f\n%s_msgs_per_s %.1f\n"
	       "%s_p50_ms %.2f\n%s_p99_ms %.2f\n",
	       k, L.total, k, conc, k, errors, k, secs, k, secs > 0 ? L.total / secs : 0.0,
	       k, percentile(L.lat_ms, L.total, 50), k, percentile(L.lat_ms, L.total, 99));

	pthread_barrier_destroy(&L.start);
	curl_slist_free_all(h);
	explicit_bzero(auth, sizeof auth);
	free(th);
	free(L.lat_ms);
	curl_global_cleanup();
	return errors ? 1 : 0;
}
