/*
 * intake_guard.c - total deadlines for a request's head and body.
 *
 * libmicrohttpd's connection timeout is an idle timeout: it starts again
 * with every byte, so a client that sends its head one byte at a time
 * holds a connection (and, one thread per connection, a thread) for as
 * long as it likes.  The guard watches every connection from its start
 * (MHD_OPTION_NOTIFY_CONNECTION) to its close, with the phase its
 * request is in:
 *
 *   head   from the connection's start, or the end of its previous
 *          request (keep-alive), until the handler sees the headers:
 *          head_timeout in all, however the bytes trickle in (a TLS
 *          handshake counts as part of the head);
 *   body   from the headers to the body's last byte: body_timeout;
 *   reply  the handler has the request: no deadline here (a handler may
 *          wait for the store's group commit; an event stream lasts as
 *          long as its console), libmicrohttpd's idle timeout applies.
 *
 * The deadlines are read when the server starts.  One thread looks
 * twice a second; a connection past its deadline is
 * shut down (shutdown(2), not closed: libmicrohttpd still owns the
 * descriptor, and its connection thread wakes to an end of file and
 * cleans up as for any vanished client).  The descriptor stays valid
 * while it is watched: libmicrohttpd reports the close before it closes
 * the socket, and the report waits for the guard's lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "intake_priv.h"
#include "pagegate/log.h"
#include "pagegate/util.h"

#define TICK_MS 500

/* One watched connection. */
struct watch {
	struct watch *prev, *next;
	int fd;
	enum intake_phase ph;
	int64_t since_ms;        /* pg_mono_ms() when ph began */
	bool cut;
};

struct intake_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;       /* CLOCK_MONOTONIC: wakes the thread to stop */
	pthread_t thr;
	struct watch *list;
	int head_ms, body_ms;
	bool stop;
	unsigned long cut_heads, cut_bodies;
};

/* Shuts down every connection past its deadline (lock held). */
static void
sweep(struct intake_guard *g, int64_t now)
{
	for (struct watch *w = g->list; w; w = w->next) {
		int64_t limit = w->ph == INTAKE_PH_HEAD ? g->head_ms :
				w->ph == INTAKE_PH_BODY ? g->body_ms : -1;

		if (w->cut || limit < 0 || now - w->since_ms <= limit)
			continue;
		w->cut = true;
		if (w->ph == INTAKE_PH_HEAD)
			g->cut_heads++;
		else
			g->cut_bodies++;
		/* at most a line per connection, and one address holds few */
		pg_info("http: cut a connection whose %s was not in after %d s",
			w->ph == INTAKE_PH_HEAD ? "request head" : "body", (int)(limit / 1000));
		shutdown(w->fd, SHUT_RDWR);
	}
}

static void *
run(void *arg)
{
	struct intake_guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		if (!g->stop)
			sweep(g, pg_mono_ms());
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

pg_err
intake__guard_new(int head_ms, int body_ms, struct intake_guard **out)
{
	struct intake_guard *g = calloc(1, sizeof *g);
	pthread_condattr_t ca;

	*out = NULL;
	if (g == NULL)
		return PG_ERR_NOMEM;
	g->head_ms = head_ms;
	g->body_ms = body_ms;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->thr, NULL, run, g) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return PG_ERR_IO;
	}
	*out = g;
	return PG_OK;
}

/* After the daemon stopped: nothing is watched any more. */
void
intake__guard_free(struct intake_guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thr, NULL);
	while (g->list) {
		struct watch *w = g->list;

		g->list = w->next;
		free(w);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

void
intake__guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		     enum MHD_ConnectionNotificationCode toe)
{
	struct intake_guard *g = cls;
	struct watch *w;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		*socket_context = NULL;
		if (fd == NULL || (w = calloc(1, sizeof *w)) == NULL)
			return;          /* unwatched: the idle timeout still holds */
		w->fd = fd->connect_fd;
		w->ph = INTAKE_PH_HEAD;
		w->since_ms = pg_mono_ms();
		pthread_mutex_lock(&g->mu);
		w->next = g->list;
		if (g->list)
			g->list->prev = w;
		g->list = w;
		pthread_mutex_unlock(&g->mu);
		*socket_context = w;
		return;
	}
	if ((w = *socket_context) == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (w->prev)
		w->prev->next = w->next;
	else
		g->list = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&g->mu);
	free(w);
	*socket_context = NULL;
}

void
intake__guard_phase(struct intake_guard *g, struct MHD_Connection *conn,
		    enum intake_phase ph)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct watch *w = i ? i->socket_context : NULL;

	if (g == NULL || w == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (w->ph != ph) {
		w->ph = ph;
		w->since_ms = pg_mono_ms();
	}
	pthread_mutex_unlock(&g->mu);
}

void
intake__guard_counts(struct intake_guard *g, unsigned long *heads, unsigned long *bodies)
{
	pthread_mutex_lock(&g->mu);
	*heads = g->cut_heads;
	*bodies = g->cut_bodies;
	pthread_mutex_unlock(&g->mu);
}
