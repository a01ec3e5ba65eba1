/*
 * net.h - TCP connections with a bounded connect, for drivers whose
 * protocol library connects without a timeout of its own (libesmtp,
 * libmosquitto) or that speak a line protocol themselves.
 */
#ifndef PAGEGATE_NET_H
#define PAGEGATE_NET_H

#include "pagegate/common.h"

/* Connects to host:port (every address it resolves to, in turn) within
 * timeout_ms in all.  Returns a connected, blocking, close-on-exec socket,
 * or -1 with the reason in why ("connect to HOST:PORT: Connection
 * refused", "cannot resolve HOST: ..."). */
int pg_tcp_connect(const char *host, int port, int timeout_ms, char *why, size_t wlen);

/* True when host:port accepts a TCP connection within timeout_ms (the
 * connection is closed again); otherwise false with the reason in why. */
bool pg_tcp_probe(const char *host, int port, int timeout_ms, char *why, size_t wlen);

#endif
