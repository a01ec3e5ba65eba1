/*
 * mime.h - building an Internet message (RFC 5322 + MIME) from rendered
 * text.  Pure functions, no I/O.  Header values are sanitised: CR, LF and
 * other control characters become spaces, so no input can add a header.
 */
#ifndef PAGEGATE_MIME_H
#define PAGEGATE_MIME_H

#include "pagegate/util.h"

/* Appends s as a header value: ASCII without controls as-is (folded at 78
 * columns); anything else as RFC 2047 UTF-8 "B" encoded-words, each at most
 * 75 characters, never splitting a UTF-8 sequence.  name_len is the length
 * of "Subject: " already on the line, for folding. */
pg_err pg_mime_header_value(struct pg_buf *out, const char *s, size_t name_len);

/* Appends s encoded as quoted-printable (RFC 2045), lines <= 76, with line
 * breaks normalised to CRLF. */
pg_err pg_mime_qp(struct pg_buf *out, const char *s);

struct pg_mail {
	const char *from_addr;       /* "gw@example.org" */
	const char *from_name;       /* may be NULL */
	const char *to_addr;
	const char *to_name;         /* may be NULL */
	const char *subject;
	const char *body;            /* UTF-8 text */
	const char *message_id;      /* without <>, e.g. "m12.d34.x@host" */
	int64_t date_ms;
	int64_t pg_message_id;       /* X-Pagegate-Message */
	int64_t pg_delivery_id;      /* X-Pagegate-Delivery */
};

/* Appends the whole message: Date, From, To, Subject, Message-ID,
 * MIME-Version, Content-Type text/plain; charset=UTF-8,
 * Content-Transfer-Encoding quoted-printable, X-Pagegate-* headers, blank
 * line, body.  Lines end in CRLF.  Returns PG_ERR_INVAL when an address
 * contains characters not allowed in an address (controls, space, <>,
 * quotes, comma). */
pg_err pg_mime_build(struct pg_buf *out, const struct pg_mail *m);

/* True when addr is a plausible mailbox "local@domain": printable ASCII,
 * one '@', no controls, spaces, <>, quotes, commas; at most 254 bytes. */
bool pg_mime_addr_ok(const char *addr);

#endif
