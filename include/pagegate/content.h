/*
 * content.h - how much of a message a device may show: the content level.
 *
 *   full     everything (the default)
 *   summary  the text cut to about PG_SUMMARY_CHARS characters on a word
 *            boundary, ending in "…"; no fields
 *   notify   no text, no caller, no fields: "message waiting, call
 *            CALLBACK and give reference ACK_REF" (templates/notify.*)
 *
 * So that a client can keep patient details off pagers and SMS while the
 * full text goes to email or fax.  The level is applied to the template
 * VARIABLES, not to a template, so not even a client's own template can
 * show what its level hides.
 *
 * Where it is set (client file):
 *   device   { channel = "pager"; pin = "4412"; content = "notify"; }
 *   client   content = { pager = "notify"; sms = "summary"; };
 *   callback callback = "+18005550100";   (else pagegate.conf's callback)
 * A device's own level wins, then the client's level for its channel,
 * then full.
 */
#ifndef PAGEGATE_CONTENT_H
#define PAGEGATE_CONTENT_H

#include "pagegate/common.h"

struct pg_client;
struct pg_device;
struct pg_tvars;

/* PG_CONTENT_UNSET (0, so zeroed structures inherit) means "not set
 * here": a device inherits its client's channel level, that one full. */
enum pg_content {
	PG_CONTENT_UNSET = 0, PG_CONTENT_FULL, PG_CONTENT_SUMMARY, PG_CONTENT_NOTIFY,
	PG_CONTENT__COUNT
};

#define PG_SUMMARY_CHARS 80     /* most characters of a summary, "…" included */
#define PG_CALLBACK_MAX  32     /* longest callback number */

/* "full", "summary", "notify" (UNSET reads "full"). */
const char *pg_content_name(enum pg_content c);
/* 0 and *out for "full", "summary", "notify"; -1 otherwise. */
int pg_content_parse(const char *s, enum pg_content *out);

/* True for a callback number people can dial: 1..PG_CALLBACK_MAX
 * characters of digits, blanks and + - ( ) . with at least 3 digits. */
bool pg_callback_ok(const char *s);

/* The level of a delivery on channel ch to dev (NULL when a reload
 * removed the device): dev's own, else cl's for ch, else full.  Never
 * returns PG_CONTENT_UNSET.  Pure. */
enum pg_content pg_content_level(const struct pg_client *cl,
				 const struct pg_device *dev, enum pg_channel_kind ch);

/* The summary of text into out (size >= 4 * PG_SUMMARY_CHARS):
 * whitespace runs become one blank; a text longer than PG_SUMMARY_CHARS
 * characters is cut at the last blank that keeps at least half of them
 * (else at a character boundary) and ends in "…".  out is always valid
 * UTF-8 when text is. */
void pg_content_summary(const char *text, char *out, size_t outlen);

/* Applies level to a message's variables (pg_tvars_for_message):
 * summary: text = its summary, fields and every fields.<id> empty;
 * notify:  text, caller.name, caller.phone, caller.company, fields and
 *          every fields.<id> empty.
 * full/unset: nothing.  PG_ERR_NOMEM. */
pg_err pg_content_apply(struct pg_tvars *tv, enum pg_content level);

/* The templates a channel renders at level: at notify, a plain-text body
 * becomes "notify.txt" and a subject "notify.subject"; a JSON body
 * (plain == false, e.g. mqtt.json) keeps its own template, with the
 * variables blanked.  *subject_out may be NULL (no subject). */
void pg_content_templates(enum pg_content level, const char *subject,
			  const char *body, bool plain,
			  const char **subject_out, const char **body_out);

#endif
