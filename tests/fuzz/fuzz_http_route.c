/*
 * fuzz_http_route.c - the HTTP front end's own parsing (libmicrohttpd
 * parses the protocol): the request target matched against the route
 * table with its typed parameters (intake__match: {id}, {client},
 * {token}, {channel}), a time given in a query (intake__query_time) and
 * an application/x-www-form-urlencoded body (pg_form_decode, as the link
 * page's form and the callbacks read it).  The first byte of the input
 * picks the method, the rest is the target, the time and the body.
 *
 * Checked besides the sanitizers: the match answers 200 with a row, 404,
 * or 405 with an Allow header; a matched {client} is a client id and
 * {id} a positive number; the parameters are terminated within their
 * buffers; decoded form fields are terminated and never more than asked.
 */
#include "fuzz.h"

#include "pagegate/util.h"
#include "../../src/intake/intake_priv.h"

static void
check_params(const struct intake_route *rt, const struct intake_params *p)
{
	FUZZ_ASSERT(memchr(p->client, '\0', sizeof p->client));
	FUZZ_ASSERT(memchr(p->token, '\0', sizeof p->token));
	FUZZ_ASSERT(memchr(p->url, '\0', sizeof p->url));
	FUZZ_ASSERT(memchr(p->rest, '\0', sizeof p->rest));
	if (strstr(rt->path, "{id}"))
		FUZZ_ASSERT(p->id > 0);
	if (strstr(rt->path, "{client}")) {
		FUZZ_ASSERT(p->client[0] != '\0');
		FUZZ_ASSERT(strspn(p->client, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
			    strlen(p->client));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "DELETE", "PUT",
					       "OPTIONS" };
	const struct intake_route *rt;
	struct intake_params p;
	char allow[INTAKE_ALLOW_LEN], *s;
	struct pg_kv *kv = NULL;
	size_t n = 0;
	int64_t ms;
	int st;
	pg_err e;

	if (size == 0)
		return 0;
	s = fuzz_cstr(data + 1, size - 1);
	st = intake__match(methods[data[0] % 6], s, &rt, &p, allow);
	FUZZ_ASSERT(st == 200 || st == 404 || st == 405);
	if (st == 200) {
		FUZZ_ASSERT(rt != NULL);
		check_params(rt, &p);
	} else {
		FUZZ_ASSERT(rt == NULL);
		FUZZ_ASSERT(st == 404 ? allow[0] == '\0' : allow[0] != '\0');
	}
	(void)intake__query_time(s, &ms);
	e = pg_form_decode((const char *)data + 1, size - 1, 16, &kv, &n);
	FUZZ_ASSERT(e == PG_OK || e == PG_ERR_TOOBIG || e == PG_ERR_NOMEM);
	FUZZ_ASSERT(n <= 16);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(kv[i].key && kv[i].value);
	pg_kv_free(kv, n);
	free(s);
	return 0;
}
