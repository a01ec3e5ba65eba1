/*
 * store_setting.c - the store's settings (store.h): the server secret that
 * signs callback tokens and links, created on first use, and named
 * instants (marks) such as when a summary last went out.  Each is read
 * first through a pooled reader; a write goes through the writer thread
 * (store.c), whose operations here look again inside the transaction.
 */
#include <stdio.h>
#include <string.h>

#include "pagegate/log.h"
#include "pagegate/util.h"
#include "store_priv.h"

/* ---- writer side (inside the group-commit transaction) ---- */

/* The server secret, created on first use. */
pg_err
store__op_secret(const struct wtx *tx, struct store_op *op)
{
	unsigned char *out = op->u.secret.out;
	size_t len = 0;
	pg_err e = tx->be->get_setting(tx->w, SECRET_KEY, out, SECRET_LEN, &len);

	if (e == PG_OK && len == SECRET_LEN)
		return PG_OK;
	if (e == PG_OK || e == PG_ERR_TOOBIG) {
		pg_error("store: the stored secret is not %d bytes", SECRET_LEN);
		return PG_ERR_STORE;
	}
	if (e != PG_ERR_NOTFOUND || (e = pg_random(out, SECRET_LEN)))
		return e;
	if (!(e = tx->be->put_setting(tx->w, SECRET_KEY, out, SECRET_LEN))) {
		op->writes++;
		pg_info("store: created the server secret for callback tokens");
	}
	return e;
}

/* A named instant (pg_store_mark_put), stored as 8 big-endian bytes. */
pg_err
store__op_mark(const struct wtx *tx, struct store_op *op)
{
	unsigned char b[8];
	uint64_t v = (uint64_t)op->u.mark.ms;
	pg_err e;

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	if (!(e = tx->be->put_setting(tx->w, op->u.mark.key, b, sizeof b)))
		op->writes++;
	return e;
}

/* ---- front end ---- */

/* Read first; only the first use of a store creates the secret (in the
 * writer, which looks again: two first uses make one secret). */
pg_err
pg_store_secret(struct pg_store *st, unsigned char out[32])
{
	struct store_op op = { .kind = OP_SECRET, .u.secret = { out } };
	size_t len = 0;
	struct store_rd rd = { RD_SETTING, .u.setting = { SECRET_KEY, out,
		SECRET_LEN, &len } };
	pg_err e = store__read(st, &rd);

	if (e == PG_OK && len == SECRET_LEN)
		return PG_OK;
	if (e != PG_OK && e != PG_ERR_NOTFOUND && e != PG_ERR_TOOBIG)
		return e;
	return store__write(st, &op);
}

/* Marks are settings named "mark:KEY", so that they never meet the
 * store's own settings. */
#define MARK_PREFIX "mark:"
#define MARK_KEY_MAX 128

pg_err
pg_store_mark_get(struct pg_store *st, const char *key, int64_t *ms)
{
	unsigned char b[8];
	char name[sizeof MARK_PREFIX + MARK_KEY_MAX];
	size_t len = 0;
	struct store_rd rd = { RD_SETTING, .u.setting = { name, b, sizeof b, &len } };
	uint64_t v = 0;
	pg_err e;

	if (!key || !*key || strlen(key) > MARK_KEY_MAX)
		return PG_ERR_INVAL;
	snprintf(name, sizeof name, MARK_PREFIX "%s", key);
	if ((e = store__read(st, &rd)))
		return e == PG_ERR_TOOBIG ? PG_ERR_STORE : e;
	if (len != sizeof b)
		return PG_ERR_STORE;
	for (size_t i = 0; i < sizeof b; i++)
		v = v << 8 | b[i];
	*ms = (int64_t)v;
	return PG_OK;
}

pg_err
pg_store_mark_put(struct pg_store *st, const char *key, int64_t ms)
{
	char name[sizeof MARK_PREFIX + MARK_KEY_MAX];
	struct store_op op = { .kind = OP_MARK, .u.mark = { name, ms } };

	if (!key || !*key || strlen(key) > MARK_KEY_MAX)
		return PG_ERR_INVAL;
	snprintf(name, sizeof name, MARK_PREFIX "%s", key);
	return store__write(st, &op);
}
