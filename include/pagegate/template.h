/*
 * template.h - the template language: plain text with {{variable}}
 * substitutions ("{{caller.name}}", "{{fields.address}}").  Whitespace
 * inside the braces is allowed.  "{{{{" is not special; there is no logic.
 *
 * Known variables (a check error names any other):
 *   client.id client.name client.instructions
 *   message.id message.kind message.urgency message.received
 *   message.received_utc message.ack_ref (6 digits that acknowledge
 *   the message in a reply: "ack 482913")  caller.name caller.phone caller.company text
 *   contact.id contact.name  delivery.id  fields.<id> (declared by client)
 *   fields  (every declared field with a value, one "Label: value" line
 *            each, in declaration order, joined by newlines; empty ones
 *            skipped: lets a default template show any client's fields)
 *   ack_url (the signed link that acknowledges the message, ack_link.h:
 *            set by the scheduler for each delivery; "" elsewhere)
 *   callback  (the number staff call to hear a message: content.h)
 * A substitution lies on one line; a lone "}}" is literal text.
 * An optional value that is absent renders as the empty string; an unknown
 * name can never reach rendering because the configuration fails to load.
 *
 * Digest templates ("digest.subject", "digest.txt": several held messages
 * for one recipient in one send) have one more construct, a section
 * repeated once per message with that message's variables:
 *   {{messages.count}} messages for {{client.name}}
 *   {{#messages}}
 *   - {{caller.name}}: {{text}}
 *   {{/messages}}
 * Outside the section only client.*, contact.*, callback and
 * messages.count are known; sections do not nest; a tag directly followed
 * by a newline takes that newline with it.  digest.txt must have a
 * section.  Rendering costs at most (messages x template length).
 */
#ifndef PAGEGATE_TEMPLATE_H
#define PAGEGATE_TEMPLATE_H

#include "pagegate/config.h"
#include "pagegate/util.h"

struct pg_message;

/* Checks text: balanced braces and known variables.  fields.<id> is known
 * when cl declares the field (with cl == NULL any fields.<id> passes, as
 * for defaults that are checked per client separately).  On error returns
 * PG_ERR_INVAL, sets *line (1-based, within text) and err. */
pg_err pg_template_check(const char *text, const struct pg_client *cl,
			 int *line, char *err, size_t errlen);

/* What a template may contain, by its name. */
enum pg_tpl_kind {
	PG_TPL_MESSAGE = 0,      /* one message: variables only */
	PG_TPL_DIGEST_SUBJECT,   /* "digest.subject", "summary.subject": sections allowed */
	PG_TPL_DIGEST_BODY,      /* "digest.txt", "summary.txt": a section required;
				    summary.from and summary.to outside it */
};
enum pg_tpl_kind pg_template_kind(const char *name);
/* pg_template_check for a template of that kind. */
pg_err pg_template_check_kind(const char *text, enum pg_tpl_kind kind,
			      const struct pg_client *cl, int *line, char *err,
			      size_t errlen);

struct pg_tvar { const char *name; const char *value; };

/* A set of variables with storage it owns. */
struct pg_tvars {
	struct pg_tvar *v;
	size_t n, cap;
	char **owned;
	size_t n_owned, cap_owned;
	/* The rows of {{#messages}} (not owned, may be NULL): each section
	 * renders once per row, a name looked up in the row first, then here. */
	const struct pg_tvars *items;
	size_t n_items;
};
void pg_tvars_init(struct pg_tvars *tv);
void pg_tvars_free(struct pg_tvars *tv);
/* Adds name=value, copying both. */
pg_err pg_tvars_set(struct pg_tvars *tv, const char *name, const char *value);
/* Fills every known variable for a message delivered to contact (may be
 * NULL) with delivery id did (0 = none), times in the client's zone. */
pg_err pg_tvars_for_message(struct pg_tvars *tv, const struct pg_client *cl,
	const struct pg_message *m, const struct pg_contact *contact, int64_t did);

enum pg_escape { PG_ESC_NONE = 0, PG_ESC_JSON };

/* Renders text with tv into out (appended).  Unknown variables render as
 * "" (they cannot pass check).  PG_ESC_JSON escapes values (never the
 * template's own text) as JSON string content: \" \\ and control
 * characters as \u00XX.  On error out is left as it was.
 * Returns PG_OK, PG_ERR_TOOBIG (out's bound) or PG_ERR_INVAL for
 * malformed text. */
pg_err pg_template_render(const char *text, const struct pg_tvars *tv,
			  enum pg_escape esc, struct pg_buf *out);

#endif
