/*
 * store_pg_conn.c - the PostgreSQL backend's sessions (store_pg_priv.h):
 * connecting and reconnecting, running prepared statements (with the
 * pending transaction control in one libpq pipeline), mapping SQLSTATEs
 * to pg_err, and the transaction slots.  What the backend is and how it
 * stores rows: store_pg.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_pg_priv.h"

#define MAX_PARAMS 24
#define LOCK_CLASS 0x70676774      /* 'pggt': the writer lock's first key */
#define LOCK_TIMEOUT "10s"         /* a writer waits that long for another */
/* A writer's transactions last milliseconds: one idle for this long
 * belongs to a stopped process (SIGSTOP, a hung host) and holds the
 * store's writer lock; the server ends its session. */
#define WRITER_IDLE "5s"

/* Transaction control waiting for the next statement (c->pending holds
 * their codes, one character each). */
static const char *const ctl[] = {
	['b'] = "BEGIN ISOLATION LEVEL READ COMMITTED",
	['r'] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	['l'] = NULL,                   /* the writer lock: text per session */
	['s'] = "SAVEPOINT op",
	['x'] = "RELEASE SAVEPOINT op",
	['u'] = "ROLLBACK TO SAVEPOINT op",
	['c'] = "COMMIT",
	['z'] = "ROLLBACK",
};

/* ---- errors ---- */

pg_err
pgsql__fail(struct pg_sb *c, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r)
		: PQerrorMessage(c->db);
	enum pg_log_level lvl = PG_LOG_WARN;
	pg_err e = PG_ERR_STORE;

	if (PQstatus(c->db) != CONNECTION_OK || (state && state[0] == '0' &&
						  state[1] == '8'))
		e = PG_ERR_IO;
	else if (state && strcmp(state, "23505") == 0)
		e = PG_ERR_EXISTS, lvl = PG_LOG_DEBUG;
	else if (state && strcmp(state, "23503") == 0)
		e = PG_ERR_NOTFOUND, lvl = PG_LOG_DEBUG;
	else if (state && (strcmp(state, "22021") == 0 ||
			   strcmp(state, "22P05") == 0))
		e = PG_ERR_INVAL, lvl = PG_LOG_DEBUG;
	else if (state && strcmp(state, "53100") == 0)
		e = PG_ERR_FULL;
	else if (state && strcmp(state, "53200") == 0)
		e = PG_ERR_NOMEM;
	else if (state && (strcmp(state, "25006") == 0 ||
			   strcmp(state, "25P02") == 0))
		lvl = PG_LOG_DEBUG;     /* a reader asked to write; aborted */
	pg_log(lvl, "store: postgresql %s: %s%s", what,
	       state ? state : "", msg ? msg : "");
	return e;
}

/* ---- statements ---- */

/* Sends the pending transaction control, preparing statement id when the
 * session lacks it, and the statement itself (id < 0: none) in one
 * pipeline; the statement's result into *res, the first error returned. */
static pg_err
pipeline(struct pg_sb *c, int id, int n, const char *const *vals,
	 const int *lens, const int *fmts, PGresult **res)
{
	char name[16], lock[96], sentctl[sizeof c->pending];
	int sent = 0, syncs = 0, ps;
	pg_err e = PG_OK;
	PGresult *r;

	snprintf(name, sizeof name, "s%d", id);
	snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d, %d)",
		 LOCK_CLASS, c->lock_key);
	if (!PQenterPipelineMode(c->db))
		return pgsql__fail(c, NULL, "pipeline");
	for (const char *p = c->pending; *p; p++, sent++)
		if (!PQsendQueryParams(c->db, *p == 'l' ? lock : ctl[(int)*p],
				       0, NULL, NULL, NULL, NULL, 0))
			e = PG_ERR_IO;
	ps = sent;
	memcpy(sentctl, c->pending, sizeof sentctl);
	if (id >= 0 && !c->prepared[id] && !e) {
		if (!PQsendPrepare(c->db, name, pgsql__sql[id], 0, NULL))
			e = PG_ERR_IO;
		sent++;
	}
	if (id >= 0 && !e) {
		if (!PQsendQueryPrepared(c->db, name, n, vals, lens, fmts, 0))
			e = PG_ERR_IO;
		sent++;
	}
	c->pending[0] = '\0';
	if (!e && !PQpipelineSync(c->db))
		e = PG_ERR_IO;
	if (e) {
		pgsql__fail(c, NULL, "pipeline send");
		PQexitPipelineMode(c->db);
		return e;
	}
	/* Each query's result(s) end with NULL; then the sync's. */
	for (int q = 0; q < sent; q++) {
		while ((r = PQgetResult(c->db)) != NULL) {
			ExecStatusType s = PQresultStatus(r);

			if (s == PGRES_FATAL_ERROR && !e)
				e = pgsql__fail(c, r, id >= 0 && q >= ps ? pgsql__sql[id] :
						"transaction control");
			else if (s == PGRES_PIPELINE_ABORTED && !e)
				e = PG_ERR_STORE;
			else if (q < ps && sentctl[q] == 'c' && !e &&
				 strcmp(PQcmdStatus(r), "COMMIT") != 0) {
				/* COMMIT of an aborted transaction rolls back */
				pg_warn("store: postgresql COMMIT: rolled back");
				e = PG_ERR_STORE;
			}
			if (q == ps && id >= 0 && !c->prepared[id] && !e)
				c->prepared[id] = true;
			if (q == sent - 1 && !e && res && !*res)
				*res = r;
			else
				PQclear(r);
		}
		if (PQstatus(c->db) != CONNECTION_OK) {
			e = e ? e : PG_ERR_IO;
			break;
		}
	}
	while (syncs == 0 && PQstatus(c->db) == CONNECTION_OK &&
	       (r = PQgetResult(c->db)) != NULL) {
		syncs += PQresultStatus(r) == PGRES_PIPELINE_SYNC;
		PQclear(r);
	}
	PQexitPipelineMode(c->db);
	if (e && res && *res) {
		PQclear(*res);
		*res = NULL;
	}
	return e;
}

static pg_err
vrun(struct pg_sb *c, enum pq_st id, PGresult **res, const char *types,
     va_list ap)
{
	char ibuf[MAX_PARAMS][24];
	const char *vals[MAX_PARAMS];
	int lens[MAX_PARAMS] = { 0 }, fmts[MAX_PARAMS] = { 0 }, n = 0;
	PGresult *r = NULL;
	pg_err e;

	*res = NULL;
	for (; types[n] && n < MAX_PARAMS; n++) {
		int64_t v;

		switch (types[n]) {
		case 't':
			vals[n] = va_arg(ap, const char *);
			break;
		case 'b':
			vals[n] = va_arg(ap, const void *);
			lens[n] = (int)va_arg(ap, size_t);
			fmts[n] = 1;
			break;
		default:
			v = va_arg(ap, int64_t);
			snprintf(ibuf[n], sizeof ibuf[n], "%lld", (long long)v);
			vals[n] = types[n] == 'n' && v == 0 ? NULL : ibuf[n];
		}
	}
	if (c->pending[0] || !c->prepared[id]) {
		e = pipeline(c, (int)id, n, vals, lens, fmts, &r);
	} else {
		char name[16];

		snprintf(name, sizeof name, "s%d", (int)id);
		r = PQexecPrepared(c->db, name, n, vals, lens, fmts, 0);
		e = PG_OK;
		if (PQresultStatus(r) != PGRES_COMMAND_OK &&
		    PQresultStatus(r) != PGRES_TUPLES_OK) {
			e = pgsql__fail(c, r, pgsql__sql[id]);
			PQclear(r);
			r = NULL;
		}
	}
	*res = r;
	return e;
}

pg_err
pgsql__run(struct pg_sb *c, enum pq_st id, PGresult **res, const char *types,
	   ...)
{
	va_list ap;
	pg_err e;

	va_start(ap, types);
	e = vrun(c, id, res, types, ap);
	va_end(ap);
	return e;
}

pg_err
pgsql__scalar(struct pg_sb *c, enum pq_st id, int64_t *v)
{
	PGresult *r;
	pg_err e;

	*v = 0;
	if ((e = pgsql__run(c, id, &r, "")))
		return e;
	*v = PQntuples(r) > 0 ? pgsql__int(r, 0, 0) : 0;
	PQclear(r);
	return PG_OK;
}

/* Past the size cap (c->max_mb), the write just made is refused. */
static pg_err
over_cap(struct pg_sb *c)
{
	int64_t used;
	pg_err e;

	if (c->max_mb <= 0)
		return PG_OK;
	if ((e = pgsql__scalar(c, PQ_SIZE, &used)))
		return e;
	e = used > c->max_mb * 1048576 ? PG_ERR_FULL : PG_OK;
	if (e)                 /* store_room.c logs the spell, once */
		pg_debug("store: the store is at its limit of %lld MB",
			 (long long)c->max_mb);
	return e;
}

/* The bytes the schema's relations take (tables, indexes, TOAST): one
 * catalog query (the front end asks it before each new message only when
 * the store is capped).  Space a rolled-back write took stays counted
 * until vacuum reuses it, as PostgreSQL keeps it. */
pg_err
pgsql__used(struct pg_sb *c, int64_t *bytes)
{
	return pgsql__scalar(c, PQ_SIZE, bytes);
}

/* No room is set aside: the disk is the database server's. */
pg_err
pgsql__spare(struct pg_sb *c, int64_t bytes)
{
	(void)c;
	(void)bytes;
	return PG_ERR_NOTFOUND;
}

pg_err
pgsql__write(struct pg_sb *c, enum pq_st id, bool one, int64_t *rowid,
	     size_t *n, const char *types, ...)
{
	va_list ap;
	PGresult *r;
	long changed;
	pg_err e;

	va_start(ap, types);
	e = vrun(c, id, &r, types, ap);
	va_end(ap);
	if (e)
		return e;
	changed = atol(PQcmdTuples(r));
	if (one && changed != 1)
		e = PG_ERR_NOTFOUND;
	if (!e && rowid)
		*rowid = PQntuples(r) > 0 ? pgsql__int(r, 0, 0) : 0;
	if (!e && n)
		*n = (size_t)changed;
	PQclear(r);
	return e ? e : over_cap(c);
}

pg_err
pgsql__exec(struct pg_sb *c, const char *text)
{
	PGresult *r = PQexec(c->db, text);
	pg_err e = PG_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		e = pgsql__fail(c, r, text);
	PQclear(r);
	return e;
}

int64_t
pgsql__int(const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j) ? 0 : strtoll(PQgetvalue(r, i, j), NULL, 10);
}

char *
pgsql__str(const PGresult *r, int i, int j, pg_err *err)
{
	char *p;

	if (PQgetisnull(r, i, j))
		return NULL;
	if ((p = strdup(PQgetvalue(r, i, j))) == NULL)
		*err = PG_ERR_NOMEM;
	return p;
}

/* ---- sessions ---- */

/* The server's notices ("relation ... already exists, skipping") go to
 * the debug log rather than stderr. */
static void
notice(void *arg, const char *msg)
{
	(void)arg;
	pg_debug("store: postgresql: %s", msg);
}

/* What every session sets: durable commits, bounded waits. */
static pg_err
session_setup(struct pg_sb *c)
{
	PQsetNoticeProcessor(c->db, notice, NULL);
	memset(c->prepared, 0, sizeof c->prepared);
	c->pending[0] = '\0';
	if (PQsetClientEncoding(c->db, "UTF8") != 0)
		return pgsql__fail(c, NULL, "client_encoding");
	return pgsql__exec(c, c->readonly ?
	    "SET synchronous_commit = on; SET lock_timeout = '" LOCK_TIMEOUT "';"
	    " SET idle_in_transaction_session_timeout = '60s';"
	    " SET default_transaction_read_only = on" :
	    "SET synchronous_commit = on; SET lock_timeout = '" LOCK_TIMEOUT "';"
	    " SET idle_in_transaction_session_timeout = '" WRITER_IDLE "'");
}

/* One writer per store (until nodes claim their work from the store, a
 * second process writing to it would send what the first sends): the
 * writer's session holds a session-level advisory lock for as long as it
 * lives.  PG_ERR_STORE when another session holds it. */
static pg_err
take_store(struct pg_sb *c)
{
	char text[96];
	PGresult *r;
	bool got;

	snprintf(text, sizeof text, "SELECT pg_try_advisory_lock(%d, %d)",
		 LOCK_CLASS + 1, c->lock_key);
	r = PQexec(c->db, text);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		pg_err e = pgsql__fail(c, r, "store lock");

		PQclear(r);
		return e;
	}
	got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!got) {
		pg_error("store: another pagegated is writing to this postgresql "
			 "store; one node per store");
		return PG_ERR_STORE;
	}
	return PG_OK;
}

/* A session the server dropped (restart, failover) established anew. */
pg_err
pgsql__reconnect(struct pg_sb *c)
{
	pg_err e;

	if (PQstatus(c->db) == CONNECTION_OK)
		return PG_OK;
	PQreset(c->db);
	if (PQstatus(c->db) != CONNECTION_OK) {
		pg_warn("store: postgresql: cannot reconnect: %s",
			PQerrorMessage(c->db));
		return PG_ERR_IO;
	}
	pg_info("store: postgresql: reconnected%s", c->readonly ? " (reader)" : "");
	c->coordinator = false;          /* the session that held it is gone */
	c->listening = false;
	if ((e = session_setup(c)) || !c->exclusive)
		return e;
	return take_store(c);
}

pg_err
pgsql__open(const char *target, bool readonly, int64_t max_mb,
	    struct pg_sb **out)
{
	struct pg_sb *c = calloc(1, sizeof *c);
	PGresult *r;
	pg_err e = PG_OK;

	*out = NULL;
	if (c == NULL)
		return PG_ERR_NOMEM;
	c->readonly = readonly;
	c->max_mb = max_mb;
	/* "//host/db?..." is libpq's URI after the scheme; anything else a
	 * key-value string */
	if (asprintf(&c->conninfo, "%s%s", strncmp(target, "//", 2) == 0 ?
		     "postgresql:" : "", target) < 0) {
		c->conninfo = NULL;
		free(c);
		return PG_ERR_NOMEM;
	}
	c->db = PQconnectdb(c->conninfo);
	if (c->db == NULL) {
		e = PG_ERR_NOMEM;
	} else if (PQstatus(c->db) != CONNECTION_OK) {
		/* libpq's message names host and database, never a password */
		pg_error("store: cannot connect to postgresql: %s",
			 PQerrorMessage(c->db));
		e = PG_ERR_IO;
	}
	if (!e)
		e = session_setup(c);
	if (!e && !readonly)
		e = pgsql__migrate(c);
	if (!e && !readonly) {
		r = PQexec(c->db, "SELECT hashtext(current_schema())");
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			c->lock_key = (int)pgsql__int(r, 0, 0);
		else
			e = pgsql__fail(c, r, "schema");
		PQclear(r);
	}
	if (e) {
		pgsql__close(c);
		return e;
	}
	*out = c;
	return PG_OK;
}

void
pgsql__close(struct pg_sb *c)
{
	if (c == NULL)
		return;
	/* the one-writer lock, given back now rather than when the server
	 * gets round to ending the session */
	if (c->exclusive && PQstatus(c->db) == CONNECTION_OK)
		PQclear(PQexec(c->db, "ROLLBACK; SELECT pg_advisory_unlock_all()"));
	PQfinish(c->db);         /* the server rolls back what was open */
	free(c->conninfo);
	free(c);
}

/* ---- transactions ---- */

static void
pend(struct pg_sb *c, const char *codes)
{
	size_t n = strlen(c->pending);

	if (n + strlen(codes) < sizeof c->pending)
		memcpy(c->pending + n, codes, strlen(codes) + 1);
}

/* The last pending code is `code`: taken back, true. */
static bool
unpend(struct pg_sb *c, char code)
{
	size_t n = strlen(c->pending);

	if (n == 0 || c->pending[n - 1] != code)
		return false;
	c->pending[n - 1] = '\0';
	return true;
}

/* Nothing of the transaction was sent yet. */
static bool
unsent(const struct pg_sb *c)
{
	return c->pending[0] == 'b' || c->pending[0] == 'r';
}

pg_err
pgsql__begin(struct pg_sb *c)
{
	pg_err e;

	if (PQtransactionStatus(c->db) != PQTRANS_IDLE &&
	    PQstatus(c->db) == CONNECTION_OK)
		pgsql__exec(c, "ROLLBACK");       /* left over; never expected */
	if ((e = pgsql__reconnect(c)))
		return e;
	c->pending[0] = '\0';
	pend(c, c->readonly ? "r" : "bl");
	return PG_OK;
}

/* The writer learns its transaction's id before it sends COMMIT: when
 * the connection dies under the COMMIT, the server may have made it
 * durable all the same, and txid_status tells later (pgsql__outcome). */
pg_err
pgsql__commit(struct pg_sb *c)
{
	pg_err e;

	c->xid = 0;
	c->doubt = false;
	if (unsent(c)) {
		c->pending[0] = '\0';
		return PG_OK;
	}
	if (PQtransactionStatus(c->db) == PQTRANS_INERROR) {
		c->pending[0] = '\0';
		return PG_ERR_STORE;
	}
	if (!c->readonly) {
		/* (0: it wrote nothing) */
		if ((e = pgsql__scalar(c, PQ_XID, &c->xid)))
			return e;             /* no COMMIT went out */
	}
	pend(c, "c");
	e = pipeline(c, -1, 0, NULL, NULL, NULL, NULL);
	if (e && c->xid && PQstatus(c->db) != CONNECTION_OK) {
		c->doubt = true;
		pg_warn("store: postgresql: the connection was lost under COMMIT "
			"of transaction %lld; asking what became of it",
			(long long)c->xid);
	}
	return e;
}

pg_err
pgsql__outcome(struct pg_sb *c)
{
	PGresult *r = NULL;
	const char *s;
	pg_err e;

	if (!c->doubt)
		return PG_ERR_STORE;      /* the server answered: not stored */
	if (pgsql__reconnect(c))
		return PG_ERR_IO;
	e = pgsql__run(c, PQ_XID_STATUS, &r, "i", c->xid);
	if (e && PQstatus(c->db) != CONNECTION_OK)
		return PG_ERR_IO;
	/* an error here ("in the future": a server that never saw it, after
	 * a failover) means it is not stored there either */
	s = e || PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0);
	if (s && strcmp(s, "in progress") == 0) {
		PQclear(r);               /* its old session is still at it */
		return PG_ERR_IO;
	}
	e = s && strcmp(s, "committed") == 0 ? PG_OK : PG_ERR_STORE;
	pg_log(e ? PG_LOG_WARN : PG_LOG_INFO, "store: postgresql: transaction "
	       "%lld, whose COMMIT lost its answer, %s", (long long)c->xid,
	       e ? (s ? "was rolled back" : "cannot be told: taken as lost")
	       : "committed");
	PQclear(r);
	c->doubt = false;
	return e;
}

pg_err
pgsql__rollback(struct pg_sb *c)
{
	c->pending[0] = '\0';
	if (PQstatus(c->db) != CONNECTION_OK ||
	    PQtransactionStatus(c->db) == PQTRANS_IDLE)
		return PG_OK;             /* none open, or the server ended it */
	return pgsql__exec(c, "ROLLBACK");
}

pg_err
pgsql__savepoint(struct pg_sb *c)
{
	pend(c, "s");
	return PG_OK;
}

pg_err
pgsql__release(struct pg_sb *c)
{
	if (!unpend(c, 's'))
		pend(c, "x");
	return PG_OK;
}

pg_err
pgsql__rollback_savepoint(struct pg_sb *c)
{
	if (unpend(c, 's'))
		return PG_OK;             /* nothing ran since it */
	if (!unsent(c) && PQtransactionStatus(c->db) != PQTRANS_INTRANS &&
	    PQtransactionStatus(c->db) != PQTRANS_INERROR) {
		pg_warn("store: the transaction was ended by postgresql");
		c->pending[0] = '\0';
		return PG_ERR_STORE;
	}
	pend(c, "ux");
	return pipeline(c, -1, 0, NULL, NULL, NULL, NULL);
}

pg_err
pgsql__exclusive(struct pg_sb *c)
{
	c->exclusive = true;
	return take_store(c);
}

pg_err
pgsql__flush(struct pg_sb *c)
{
	return c->pending[0] ? pipeline(c, -1, 0, NULL, NULL, NULL, NULL) : PG_OK;
}
