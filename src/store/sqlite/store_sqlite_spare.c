/*
 * store_sqlite_spare.c - the SQLite backend's room set aside on its disk
 * (store_backend.h's spare slot): a file beside the database, PATH-spare,
 * of the size the front end asks, allocated for real (posix_fallocate,
 * then fsync) so that the blocks are taken from the file system.  When
 * the disk fills, deleting it gives those blocks back at once to the
 * database and its WAL, so that the writes about messages already taken
 * go on while new messages are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "pagegate/log.h"
#include "store_sqlite_priv.h"

/* The free bytes an unprivileged writer may use on the file system of
 * path's directory, or -1. */
static int64_t
disk_free(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct statvfs v;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path),
			 path);
	if (statvfs(dir, &v) != 0)
		return -1;
	return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}

/* Allocates bytes for the file at path (created if needed); on failure
 * the file is gone. */
static pg_err
spare_make(const char *path, int64_t bytes)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600), rc;

	if (fd < 0) {
		pg_warn("store: cannot create %s: %s", path, strerror(errno));
		return PG_ERR_IO;
	}
	rc = posix_fallocate(fd, 0, (off_t)bytes);
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc == 0)
		return PG_OK;
	unlink(path);
	if (rc == ENOSPC || rc == EDQUOT)
		return PG_ERR_FULL;
	pg_warn("store: cannot allocate %s: %s", path, strerror(rc));
	return PG_ERR_IO;
}

pg_err
sqlite__spare(struct pg_sb *c, int64_t bytes)
{
	struct stat sb;
	int64_t avail;

	if (c->readonly)
		return PG_ERR_STORE;
	if (c->spare_path == NULL)
		return PG_ERR_NOTFOUND;                  /* ":memory:" */
	if (bytes == 0) {                                /* give it back */
		if (unlink(c->spare_path) == 0)
			return PG_OK;
		if (errno == ENOENT)
			return PG_ERR_NOTFOUND;
		pg_warn("store: cannot remove %s: %s", c->spare_path,
			strerror(errno));
		return PG_ERR_IO;
	}
	if (bytes < 0)
		return PG_ERR_INVAL;
	if (stat(c->spare_path, &sb) == 0 && (int64_t)sb.st_blocks * 512 >= bytes)
		return PG_OK;                            /* already there */
	/* Only with as much again free besides: a disk that has just room
	 * for the spare would be full again at once. */
	avail = disk_free(c->spare_path);
	if (avail >= 0 && avail < 2 * bytes)
		return PG_ERR_FULL;
	return spare_make(c->spare_path, bytes);
}
