/*
 * net.h - TCP connections with a bounded connect, for drivers whose
 * protocol library connects without a timeout of its own (libesmtp,
 * libmosquitto) or that speak a line protocol themselves.
 */
#ifndef PAGEGATE_NET_H
#define PAGEGATE_NET_H

#include <sys/socket.h>

#include "pagegate/common.h"

/* pg_tcp_dial and pg_tcp_open: leave the socket non-blocking (for a
 * caller that polls), instead of blocking. */
#define PG_TCP_NONBLOCK 1u

/* Connects to the address a within timeout_ms.  Returns a connected
 * close-on-exec socket, or -1 with the reason alone in why ("Connection
 * refused", "Connection timed out"). */
int pg_tcp_dial(const struct sockaddr *a, socklen_t al, int timeout_ms,
		unsigned flags, char *why, size_t wlen);

/* Connects to host:port (every address it resolves to, in turn) within
 * timeout_ms in all.  Returns a connected close-on-exec socket, or -1 with
 * the reason in why: "connect to [LABEL ]HOST:PORT: Connection refused"
 * (label, e.g. "SNPP gateway", may be NULL) or "cannot resolve HOST: ...".
 * peer, when not NULL, receives the address connected to and its length
 * (a protocol that opens a second connection to the same server). */
int pg_tcp_open(const char *host, int port, int timeout_ms, unsigned flags,
		const char *label, struct sockaddr_storage *peer,
		socklen_t *peer_len, char *why, size_t wlen);

/* pg_tcp_open for a blocking socket, without label or peer. */
int pg_tcp_connect(const char *host, int port, int timeout_ms, char *why, size_t wlen);

/* True when host:port accepts a TCP connection within timeout_ms (the
 * connection is closed again); otherwise false with the reason in why. */
bool pg_tcp_probe(const char *host, int port, int timeout_ms, char *why, size_t wlen);

#endif
