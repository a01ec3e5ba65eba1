/*
 * store_pg_notify.c - LISTEN/NOTIFY and reachability for the PostgreSQL
 * backend (store_pg_priv.h).  A notification is sent inside the writer's
 * transaction (pg_notify), so it goes out when the transaction commits
 * and never for one rolled back; a listening session waits on its socket
 * and hands each notification to a callback.  Nothing depends on a
 * notification arriving: it only tells other nodes sooner what they find
 * anyway when they next read the store.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "pagegate/log.h"
#include "store_pg_priv.h"

pg_err
pgsql__notify(struct pg_sb *c, const char *channel, const char *payload)
{
	char name[96];
	PGresult *r;
	pg_err e;

	if (!channel || !payload || strlen(payload) >= 8000)
		return PG_ERR_INVAL;
	snprintf(name, sizeof name, "%s_%08x", channel, (unsigned)c->lock_key);
	if ((e = pgsql__run(c, PQ_NOTIFY, &r, "tt", name, payload)))
		return e;
	PQclear(r);
	return PG_OK;
}

/* LISTEN on each channel (a name of letters, digits and '_'), suffixed
 * with the schema's key as pgsql__notify does: stores in other schemas of
 * the database do not hear each other. */
static pg_err
listen_all(struct pg_sb *c, const char *const *channels)
{
	char text[128];
	PGresult *r;
	pg_err e = PG_OK;

	r = PQexec(c->db, "SELECT hashtext(current_schema())");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		c->lock_key = (int)pgsql__int(r, 0, 0);
	else
		e = pgsql__fail(c, r, "schema");
	PQclear(r);
	if (e)
		return e;

	for (size_t i = 0; channels[i]; i++) {
		if (strspn(channels[i], "abcdefghijklmnopqrstuvwxyz0123456789_") !=
		    strlen(channels[i]) || strlen(channels[i]) > 63)
			return PG_ERR_INVAL;
		snprintf(text, sizeof text, "LISTEN %s_%08x", channels[i],
			 (unsigned)c->lock_key);
		if ((e = pgsql__exec(c, text)))
			return e;
	}
	c->listening = true;
	return PG_OK;
}

pg_err
pgsql__listen(struct pg_sb *c, const char *const *channels, int64_t wait_ms,
	      void (*cb)(void *arg, const char *channel, const char *payload),
	      void *arg)
{
	struct pollfd pfd;
	PGnotify *n;
	int rc;
	pg_err e;

	if ((e = pgsql__reconnect(c)))
		return e;
	if (!c->listening && (e = listen_all(c, channels)))
		return e;
	pfd.fd = PQsocket(c->db);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return PG_ERR_IO;
	/* what arrived with an earlier answer first, then the socket */
	if (!(n = PQnotifies(c->db))) {
		rc = poll(&pfd, 1, wait_ms > 60000 ? 60000 : (int)wait_ms);
		if (rc < 0 && errno != EINTR)
			return PG_ERR_IO;
		if (rc > 0 && !PQconsumeInput(c->db)) {
			pg_warn("store: postgresql: the listening session was lost: %s",
				PQerrorMessage(c->db));
			return PG_ERR_IO;
		}
		n = PQnotifies(c->db);
	}
	for (; n; n = PQnotifies(c->db)) {
		char *us = strrchr(n->relname, '_');

		if (us)
			*us = '\0';          /* the channel's name without the key */
		cb(arg, n->relname, n->extra);
		PQfreemem(n);
	}
	return PQstatus(c->db) == CONNECTION_OK ? PG_OK : PG_ERR_IO;
}

pg_err
pgsql__ping(struct pg_sb *c)
{
	pg_err e;

	if ((e = pgsql__reconnect(c)))
		return e;
	if ((e = pgsql__exec(c, "SELECT 1")) && PQstatus(c->db) != CONNECTION_OK)
		return PG_ERR_IO;
	return e;
}
