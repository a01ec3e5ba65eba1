/*
 * net.c - TCP connect with a deadline (net.h): the one bounded connect of
 * every driver that opens its own sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pagegate/net.h"
#include "pagegate/util.h"

/* Waits until fd is writable (the connect finished) or deadline (mono
 * ms) passes; the socket's error, ETIMEDOUT, or 0. */
static int
await_connect(int fd, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int64_t left;
	int r, soerr = 0;
	socklen_t sl = sizeof soerr;

	do {
		left = deadline - pg_mono_ms();
		r = left > 0 ? poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) : 0;
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return ETIMEDOUT;
	if (r < 0)
		return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		return errno;
	return soerr;
}

/* One address until deadline; the socket, or -1 with *err set. */
static int
dial_until(const struct sockaddr *a, socklen_t al, int64_t deadline,
	   unsigned flags, int *err)
{
	int fd = socket(a->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int fl;

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, a, al) != 0) {
		*err = errno == EINPROGRESS ? await_connect(fd, deadline) : errno;
		if (*err) {
			close(fd);
			return -1;
		}
	}
	if (!(flags & PG_TCP_NONBLOCK) &&
	    ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) {
		*err = errno;
		close(fd);
		return -1;
	}
	return fd;
}

int
pg_tcp_dial(const struct sockaddr *a, socklen_t al, int timeout_ms,
	    unsigned flags, char *why, size_t wlen)
{
	char eb[128];
	int err = 0, fd = dial_until(a, al, pg_mono_ms() + timeout_ms, flags, &err);

	if (fd < 0)
		snprintf(why, wlen, "%s", strerror_r(err, eb, sizeof eb));
	return fd;
}

int
pg_tcp_open(const char *host, int port, int timeout_ms, unsigned flags,
	    const char *label, struct sockaddr_storage *peer, socklen_t *peer_len,
	    char *why, size_t wlen)
{
	struct addrinfo hints, *res, *ai;
	char ports[16], eb[128];
	int err, fd = -1, soerr = ETIMEDOUT;
	int64_t deadline = pg_mono_ms() + timeout_ms;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ports, sizeof ports, "%d", port);
	if ((err = getaddrinfo(host, ports, &hints, &res)) != 0) {
		snprintf(why, wlen, "cannot resolve %s: %s", host, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = dial_until(ai->ai_addr, ai->ai_addrlen, deadline, flags, &soerr);
		if (fd >= 0 && peer && peer_len && ai->ai_addrlen <= sizeof *peer) {
			memcpy(peer, ai->ai_addr, ai->ai_addrlen);
			*peer_len = ai->ai_addrlen;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(why, wlen, "connect to %s%s%s:%d: %s", label ? label : "",
			 label ? " " : "", host, port, strerror_r(soerr, eb, sizeof eb));
	return fd;
}

int
pg_tcp_connect(const char *host, int port, int timeout_ms, char *why, size_t wlen)
{
	return pg_tcp_open(host, port, timeout_ms, 0, NULL, NULL, NULL, why, wlen);
}

bool
pg_tcp_probe(const char *host, int port, int timeout_ms, char *why, size_t wlen)
{
	int fd = pg_tcp_connect(host, port, timeout_ms, why, wlen);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}
