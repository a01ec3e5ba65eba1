/*
 * net.c - TCP connect with a deadline (net.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pagegate/net.h"
#include "pagegate/util.h"

int
pg_tcp_connect(const char *host, int port, int timeout_ms, char *why, size_t wlen)
{
	struct addrinfo hints, *res, *ai;
	char ports[16], eb[128];
	int err, fd = -1, soerr = ETIMEDOUT, r, fl;
	socklen_t sl;
	int64_t deadline = pg_mono_ms() + timeout_ms, left;
	struct pollfd pfd;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ports, sizeof ports, "%d", port);
	if ((err = getaddrinfo(host, ports, &hints, &res)) != 0) {
		snprintf(why, wlen, "cannot resolve %s: %s", host, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			soerr = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			goto ok;
		if (errno != EINPROGRESS) {
			soerr = errno;
			close(fd);
			continue;
		}
		do {
			left = deadline - pg_mono_ms();
			pfd.fd = fd;
			pfd.events = POLLOUT;
			r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		} while (r < 0 && errno == EINTR);
		if (r <= 0) {
			soerr = r == 0 ? ETIMEDOUT : errno;
			close(fd);
			continue;
		}
		sl = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
			goto ok;
		close(fd);
	}
	freeaddrinfo(res);
	snprintf(why, wlen, "connect to %s:%d: %s", host, port,
		 strerror_r(soerr, eb, sizeof eb));
	return -1;
ok:
	freeaddrinfo(res);
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		snprintf(why, wlen, "connect to %s:%d: %s", host, port,
			 strerror_r(errno, eb, sizeof eb));
		close(fd);
		return -1;
	}
	return fd;
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
