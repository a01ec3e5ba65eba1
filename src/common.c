/*
 * common.c - names of the shared vocabulary (common.h): each name is
 * written here and nowhere else.
 */
#include <string.h>

#include "pagegate/common.h"

static const char *const err_text[PG_ERR__COUNT] = {
	[PG_OK]           = "success",
	[PG_ERR_NOMEM]    = "out of memory",
	[PG_ERR_INVAL]    = "invalid input",
	[PG_ERR_NOTFOUND] = "not found",
	[PG_ERR_EXISTS]   = "already exists",
	[PG_ERR_TOOBIG]   = "too large",
	[PG_ERR_IO]       = "input/output error",
	[PG_ERR_FULL]     = "store full",
	[PG_ERR_STORE]    = "store error",
	[PG_ERR_CONFIG]   = "configuration error",
	[PG_ERR_TEMPFAIL] = "temporary failure",
	[PG_ERR_PERMFAIL] = "permanent failure",
	[PG_ERR_SHUTDOWN] = "shutting down",
	[PG_ERR_EXPIRED]  = "expired",
};

static const char *const kind_names[PG_KIND__COUNT] = { "message", "dispatch" };
static const char *const urg_names[PG_URG__COUNT] = { "routine", "urgent", "emergency" };
static const char *const dstate_names[PG_D__COUNT] = {
	"queued", "sending", "sent", "delivered", "failed", "held", "cancelled",
	"waiting"
};
static const char *const mstate_names[PG_M__COUNT] = {
	"any", "unrouted", "pending", "held", "waiting", "failed", "delivered",
	"cancelled", "sent"
};
static const char *const esc_state_names[PG_ES__COUNT] = {
	"none", "active", "acked", "exhausted", "cancelled"
};
static const char *const outcome_names[PG_OUT__COUNT] = { "ok", "temp", "perm" };

const char *
pg_strerror(pg_err e)
{
	if ((int)e < 0 || e >= PG_ERR__COUNT)
		return "unknown error";
	return err_text[e];
}

/* Returns the index of s in names[0..n), or -1. */
static int
lookup(const char *const *names, int n, const char *s)
{
	if (s == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

#define NAME_FN(fn, type, table, count)                                  \
	const char *fn(type v)                                           \
	{                                                                \
		return ((int)v >= 0 && (int)v < (count)) ? table[v] : "?"; \
	}
NAME_FN(pg_kind_name, enum pg_kind, kind_names, PG_KIND__COUNT)
NAME_FN(pg_urgency_name, enum pg_urgency, urg_names, PG_URG__COUNT)
NAME_FN(pg_dstate_name, enum pg_dstate, dstate_names, PG_D__COUNT)
NAME_FN(pg_mstate_name, enum pg_mstate, mstate_names, PG_M__COUNT)
NAME_FN(pg_esc_state_name, enum pg_esc_state, esc_state_names, PG_ES__COUNT)
NAME_FN(pg_outcome_name, enum pg_outcome, outcome_names, PG_OUT__COUNT)

/* first skips the names that are no value to parse (PG_M_ANY, PG_ES_NONE). */
#define PARSE_FN(fn, type, table, first, count)                          \
	int fn(const char *s, type *out)                                 \
	{                                                                \
		int i = lookup(table + (first), (count) - (first), s);   \
		if (i < 0)                                               \
			return -1;                                       \
		*out = (type)(i + (first));                              \
		return 0;                                                \
	}
PARSE_FN(pg_kind_parse, enum pg_kind, kind_names, 0, PG_KIND__COUNT)
PARSE_FN(pg_urgency_parse, enum pg_urgency, urg_names, 0, PG_URG__COUNT)
PARSE_FN(pg_dstate_parse, enum pg_dstate, dstate_names, 0, PG_D__COUNT)
PARSE_FN(pg_mstate_parse, enum pg_mstate, mstate_names, PG_M_ANY + 1, PG_M__COUNT)
PARSE_FN(pg_esc_state_parse, enum pg_esc_state, esc_state_names, PG_ES_NONE + 1,
	 PG_ES__COUNT)
PARSE_FN(pg_outcome_parse, enum pg_outcome, outcome_names, 0, PG_OUT__COUNT)

bool
pg_dstate_final(enum pg_dstate s)
{
	return s == PG_D_SENT || s == PG_D_DELIVERED || s == PG_D_FAILED ||
	    s == PG_D_CANCELLED;
}

int
pg_priority(enum pg_kind k, enum pg_urgency u)
{
	if (k == PG_KIND_DISPATCH || u == PG_URG_EMERGENCY)
		return 0;
	return u == PG_URG_URGENT ? 1 : 2;
}
