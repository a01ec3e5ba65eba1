/*
 * test_intake_route.c - the route table of API v1 and its matcher
 * (intake_route.c), without a network: every row is found for each method
 * it serves and refused (405, with its Allow) for another; each endpoint
 * reaches its handler with its parameters parsed; the typed parameters at
 * and past their limits; 404 against 405 and the exact Allow values; HEAD
 * wherever GET is served.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../src/intake/intake_priv.h"

struct m {
	int status;
	const struct intake_route *route;
	struct intake_params p;
	char allow[INTAKE_ALLOW_LEN];
};

static struct m
match(const char *method, const char *url)
{
	struct m m;

	memset(&m, 0x5a, sizeof m);   /* whatever the matcher leaves is visible */
	m.status = intake__match(method, url, &m.route, &m.p, m.allow);
	return m;
}

/* Expects method url to reach handler h (200). */
static struct m
expect_ok(const char *method, const char *url, intake_handler *h)
{
	struct m m = match(method, url);

	if (m.status != 200 || m.route == NULL || m.route->handler != h)
		fail_msg("%s %s: status %d, %s handler", method, url, m.status,
			 m.route ? "another" : "no");
	assert_string_equal(m.allow, "");
	return m;
}

/* Expects method url to answer 405 with Allow: allow. */
static void
expect_405(const char *method, const char *url, const char *allow)
{
	struct m m = match(method, url);

	if (m.status != 405)
		fail_msg("%s %s: status %d, expected 405", method, url, m.status);
	assert_null(m.route);
	assert_string_equal(m.allow, allow);
}

/* Expects url to be unknown (404) whatever the method. */
static void
expect_404(const char *url)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE" };

	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		struct m m = match(methods[i], url);

		if (m.status != 404)
			fail_msg("%s %s: status %d, expected 404", methods[i], url, m.status);
		assert_null(m.route);
		assert_string_equal(m.allow, "");
		assert_int_equal(m.p.id, 0);
		assert_string_equal(m.p.client, "");
	}
}

/* A path for pattern pat: each {parameter} replaced by a valid value. */
static void
sample(const char *pat, char *out, size_t size)
{
	static const struct { const char *param, *value; } v[] = {
		{ "{id}", "42" }, { "{client}", "acme-hvac" }, { "{token}", "tok" },
		{ "{channel}", "sms/x" },
	};
	size_t o = 0;

	while (*pat) {
		size_t i, n = 1;
		const char *put = pat;

		for (i = 0; *pat == '{' && i < sizeof v / sizeof v[0]; i++)
			if (strncmp(pat, v[i].param, strlen(v[i].param)) == 0) {
				n = strlen(v[i].param);
				put = v[i].value;
				break;
			}
		if (put == pat) {
			assert_true(o + 1 < size);
			out[o++] = *pat;
		} else {
			assert_true(o + strlen(put) < size);
			memcpy(out + o, put, strlen(put));
			o += strlen(put);
		}
		pat += n;
	}
	out[o] = '\0';
}

/* Every row: found for each method it serves, HEAD wherever GET is, 405
 * for another method with Allow naming at least its methods; the row's
 * declaration keeps the dispatcher's assumptions. */
static void
test_every_row(void **st)
{
	(void)st;
	assert_true(intake__n_routes >= 14);
	for (size_t i = 0; i < intake__n_routes; i++) {
		const struct intake_route *rt = &intake__routes[i];
		char url[256];
		struct m m;

		assert_non_null(rt->handler);
		assert_true(rt->methods != 0 &&
			    (rt->methods & ~(unsigned)(R_GET | R_POST | R_DELETE)) == 0);
		/* A_OPEN holds no configuration, so it cannot size a body */
		if (rt->auth == A_OPEN)
			assert_int_equal(rt->body, B_NONE);
		/* {token} and {channel} take the rest of the path: last */
		if (strstr(rt->path, "{token}"))
			assert_string_equal(strstr(rt->path, "{token}"), "{token}");
		if (strstr(rt->path, "{channel}"))
			assert_string_equal(strstr(rt->path, "{channel}"), "{channel}");
		sample(rt->path, url, sizeof url);
		assert_null(strchr(url, '{'));   /* every parameter is a known type */
		if (rt->methods & R_GET) {
			expect_ok("GET", url, rt->handler);
			expect_ok("HEAD", url, rt->handler);
		}
		if (rt->methods & R_POST)
			expect_ok("POST", url, rt->handler);
		if (rt->methods & R_DELETE)
			expect_ok("DELETE", url, rt->handler);
		m = match("PUT", url);
		assert_int_equal(m.status, 405);
		if (rt->methods & R_GET)
			assert_non_null(strstr(m.allow, "GET"));
		if (rt->methods & R_POST)
			assert_non_null(strstr(m.allow, "POST"));
		if (rt->methods & R_DELETE)
			assert_non_null(strstr(m.allow, "DELETE"));
	}
}

/* Each endpoint by its real path, with its parameters as the handler
 * gets them; the Allow of each path for a method it does not serve. */
static void
test_endpoints(void **st)
{
	struct m m;

	(void)st;
	expect_ok("GET", "/healthz", intake__do_health);
	expect_ok("HEAD", "/healthz", intake__do_health);
	expect_405("POST", "/healthz", "GET, HEAD");
	expect_ok("GET", "/metrics", intake__do_metrics);
	expect_405("DELETE", "/metrics", "GET, HEAD");

	expect_ok("GET", "/v1/messages", intake__do_list);
	expect_ok("HEAD", "/v1/messages", intake__do_list);
	expect_ok("POST", "/v1/messages", intake__do_submit);
	assert_int_equal(match("POST", "/v1/messages").route->flags, F_REJECTS);
	assert_int_equal(match("GET", "/v1/messages").route->flags, 0);
	expect_405("DELETE", "/v1/messages", "GET, HEAD, POST");
	expect_405("PUT", "/v1/messages", "GET, HEAD, POST");

	expect_ok("POST", "/v1/route/preview", intake__do_preview);
	expect_405("GET", "/v1/route/preview", "POST");
	expect_405("HEAD", "/v1/route/preview", "POST");

	m = expect_ok("GET", "/v1/messages/42", intake__do_get);
	assert_int_equal(m.p.id, 42);
	expect_ok("HEAD", "/v1/messages/42", intake__do_get);
	expect_405("POST", "/v1/messages/42", "GET, HEAD");
	m = expect_ok("POST", "/v1/messages/7/ack", intake__do_ack);
	assert_int_equal(m.p.id, 7);
	assert_int_equal(m.route->body, B_JSON_OR_EMPTY);
	m = expect_ok("POST", "/v1/messages/8/cancel", intake__do_cancel);
	assert_int_equal(m.p.id, 8);
	m = expect_ok("POST", "/v1/messages/9/escalate", intake__do_escalate);
	assert_int_equal(m.p.id, 9);
	expect_405("GET", "/v1/messages/7/ack", "POST");
	expect_405("HEAD", "/v1/messages/7/cancel", "POST");
	expect_405("PUT", "/v1/messages/7/escalate", "POST");

	m = expect_ok("GET", "/v1/clients/acme-hvac/oncall", intake__do_oncall);
	assert_string_equal(m.p.client, "acme-hvac");
	assert_int_equal(m.route->auth, A_OPERATOR);
	m = expect_ok("GET", "/v1/clients/acme-hvac/oncall.ics", intake__do_oncall_ics);
	assert_string_equal(m.p.client, "acme-hvac");
	assert_int_equal(m.route->auth, A_CALENDAR);
	m = expect_ok("HEAD", "/v1/clients/acme-hvac/mailbox", intake__do_mailbox);
	assert_string_equal(m.p.client, "acme-hvac");
	expect_405("POST", "/v1/clients/acme-hvac/mailbox", "GET, HEAD");
	expect_405("POST", "/v1/clients/acme-hvac/oncall.ics", "GET, HEAD");

	m = expect_ok("GET", "/a/AbC-_9", intake__do_link);
	assert_string_equal(m.p.token, "AbC-_9");
	assert_int_equal(m.route->auth, A_LINK);
	assert_int_equal(m.route->body, B_FORM);
	expect_ok("HEAD", "/a/AbC-_9", intake__do_link);
	expect_ok("POST", "/a/AbC-_9", intake__do_link);
	expect_405("PUT", "/a/AbC-_9", "GET, HEAD, POST");

	m = expect_ok("POST", "/cb/sms/dlr/12/abc", intake__do_callback);
	assert_int_equal(m.p.ch, PG_CH_SMS);
	assert_string_equal(m.p.url, "/cb/sms/dlr/12/abc");
	assert_string_equal(m.p.rest, "/dlr/12/abc");
	assert_int_equal(m.route->auth, A_DRIVER);
	assert_int_equal(m.route->body, B_RAW);
	m = expect_ok("GET", "/cb/pager/wctp/1/x", intake__do_callback);
	assert_int_equal(m.p.ch, PG_CH_PAGER);
	assert_string_equal(m.p.rest, "/wctp/1/x");
	/* the driver answers HEAD itself, so Allow does not promise it */
	expect_ok("HEAD", "/cb/sms/x", intake__do_callback);
	expect_405("PUT", "/cb/sms/x", "GET, POST");
	expect_405("DELETE", "/cb/pager/wctp/1/x", "GET, POST");

	/* the operator console: its page, its files, its session, what it
	 * hears, the screen pop, the clients */
	m = expect_ok("GET", "/", intake__do_index);
	assert_int_equal(m.route->auth, A_OPEN);
	expect_405("POST", "/", "GET, HEAD");
	m = expect_ok("GET", "/console/app.js", intake__do_asset);
	assert_string_equal(m.p.token, "app.js");
	m = expect_ok("HEAD", "/console/img/logo.svg", intake__do_asset);
	assert_string_equal(m.p.token, "img/logo.svg");
	m = expect_ok("POST", "/v1/session", intake__do_signin);
	assert_int_equal(m.route->auth, A_SIGNIN);
	assert_int_equal(m.route->body, B_JSON);
	expect_ok("GET", "/v1/session", intake__do_session);
	m = expect_ok("DELETE", "/v1/session", intake__do_signout);
	assert_int_equal(m.route->auth, A_OPERATOR);
	expect_405("PUT", "/v1/session", "GET, HEAD, POST, DELETE");
	expect_ok("GET", "/v1/events", intake__do_events);
	expect_405("POST", "/v1/events", "GET, HEAD");
	m = expect_ok("POST", "/v1/calls", intake__do_calls);
	assert_int_equal(m.route->body, B_JSON);
	expect_405("GET", "/v1/calls", "POST");
	expect_ok("GET", "/v1/clients", intake__do_clients);
	m = expect_ok("GET", "/v1/clients/acme-hvac", intake__do_client);
	assert_string_equal(m.p.client, "acme-hvac");
	expect_405("DELETE", "/v1/clients/acme-hvac", "GET, HEAD");
}

/* Methods are case-sensitive; only GET, HEAD and POST are served. */
static void
test_methods(void **st)
{
	(void)st;
	expect_405("get", "/healthz", "GET, HEAD");
	expect_405("post", "/v1/messages", "GET, HEAD, POST");
	expect_405("OPTIONS", "/v1/messages", "GET, HEAD, POST");
	expect_405("", "/v1/route/preview", "POST");
	expect_405("PATCH", "/v1/messages/1", "GET, HEAD");
}

/* Paths no row has: 404 for every method, never 405. */
static void
test_unknown(void **st)
{
	(void)st;
	expect_404("");
	expect_404("//");
	expect_404("/console");
	expect_404("/HEALTHZ");
	expect_404("/healthz/");
	expect_404("/healthzx");
	expect_404("/v1");
	expect_404("/v1/nothing");
	expect_404("/v1/messages/");
	expect_404("/v1/route");
	expect_404("/v1/route/preview/");
	expect_404("/v1/messages/1/");
	expect_404("/v1/messages/1/ack/");
	expect_404("/v1/messages/1/acks");
	expect_404("/v1/messages/1/ac");
	expect_404("/v1/clients/");
	expect_404("/v1/clients/acme-hvac/");
	expect_404("/v1/sessions");
	expect_404("/v1/event");
	expect_404("/v1/clients/acme-hvac/other");
	expect_404("/v1/clients/acme-hvac/oncall.icsx");
	expect_404("/a");
	expect_404("/cb");
	expect_404("/cb/");
	expect_404("/cbx/sms");
}

/* {id}: 1 to 18 digits, not 0; a bad id is 404 whatever the method and
 * whatever follows. */
static void
test_param_id(void **st)
{
	struct m m;

	(void)st;
	m = expect_ok("GET", "/v1/messages/1", intake__do_get);
	assert_int_equal(m.p.id, 1);
	m = expect_ok("GET", "/v1/messages/007", intake__do_get);
	assert_int_equal(m.p.id, 7);
	m = expect_ok("GET", "/v1/messages/999999999999999999", intake__do_get);
	assert_int_equal(m.p.id, 999999999999999999LL);
	m = expect_ok("POST", "/v1/messages/100000000000000000/ack", intake__do_ack);
	assert_int_equal(m.p.id, 100000000000000000LL);
	expect_404("/v1/messages/1000000000000000000");        /* 19 digits */
	expect_404("/v1/messages/0000000000000000001");        /* 19, though 1 */
	expect_404("/v1/messages/1000000000000000000/ack");
	expect_404("/v1/messages/0");
	expect_404("/v1/messages/000");
	expect_404("/v1/messages/0/ack");
	expect_404("/v1/messages/-1");
	expect_404("/v1/messages/+1");
	expect_404("/v1/messages/ 1");
	expect_404("/v1/messages/1x");
	expect_404("/v1/messages/abc");
	expect_404("/v1/messages/abc/cancel");
	expect_404("/v1/messages//ack");
}

/* {client}: 1 to 71 of a-z 0-9 -. */
static void
test_param_client(void **st)
{
	char url[160], id[80];
	struct m m;

	(void)st;
	m = expect_ok("GET", "/v1/clients/a/oncall", intake__do_oncall);
	assert_string_equal(m.p.client, "a");
	m = expect_ok("GET", "/v1/clients/0-9-z-/mailbox", intake__do_mailbox);
	assert_string_equal(m.p.client, "0-9-z-");
	memset(id, 'c', 71);
	id[71] = '\0';
	snprintf(url, sizeof url, "/v1/clients/%s/oncall", id);
	m = expect_ok("GET", url, intake__do_oncall);
	assert_string_equal(m.p.client, id);
	snprintf(url, sizeof url, "/v1/clients/%sc/oncall", id);   /* 72 */
	expect_404(url);
	expect_404("/v1/clients//oncall");
	expect_404("/v1/clients/Acme/oncall");
	expect_404("/v1/clients/a.b/oncall");
	expect_404("/v1/clients/a_b/oncall");
	expect_404("/v1/clients/a b/oncall");
	expect_404("/v1/clients/a/b/oncall");
}

/* {token}: the rest of the path, whatever it holds; "" past 511 bytes,
 * still routed (the link page answers 404 for it). */
static void
test_param_token(void **st)
{
	char url[600];
	struct m m;

	(void)st;
	m = expect_ok("GET", "/a/", intake__do_link);
	assert_string_equal(m.p.token, "");
	m = expect_ok("POST", "/a/x/y?z", intake__do_link);
	assert_string_equal(m.p.token, "x/y?z");
	memcpy(url, "/a/", 3);
	memset(url + 3, 't', 511);
	url[3 + 511] = '\0';
	m = expect_ok("GET", url, intake__do_link);
	assert_int_equal(strlen(m.p.token), 511);
	assert_string_equal(m.p.token, url + 3);
	memset(url + 3, 't', 512);
	url[3 + 512] = '\0';
	m = expect_ok("POST", url, intake__do_link);
	assert_string_equal(m.p.token, "");
}

/* {channel}: a channel whose driver serves callbacks, then the rest; the
 * whole path under 512 bytes. */
static void
test_param_channel(void **st)
{
	char url[600];
	struct m m;

	(void)st;
	m = expect_ok("GET", "/cb/sms", intake__do_callback);
	assert_string_equal(m.p.url, "/cb/sms");
	assert_string_equal(m.p.rest, "");
	m = expect_ok("POST", "/cb/sms/", intake__do_callback);
	assert_string_equal(m.p.rest, "/");
	expect_404("/cb/email/x");        /* no callbacks */
	expect_404("/cb/mailbox/x");      /* no driver */
	expect_404("/cb/nosuch/x");
	expect_404("/cb/SMS/x");
	expect_404("/cb//sms");
	expect_404("/cb/smsx/y");
	expect_404("/cb/ssssssssssssssss/x");   /* 16 characters */
	memcpy(url, "/cb/sms/", 8);
	memset(url + 8, 'y', 511 - 8);
	url[511] = '\0';
	m = expect_ok("POST", url, intake__do_callback);
	assert_string_equal(m.p.url, url);
	assert_int_equal(strlen(m.p.rest), 511 - 7);
	memset(url + 8, 'y', 512 - 8);
	url[512] = '\0';
	expect_404(url);
}

/* The parameters are those of the matched row alone. */
static void
test_params_of_the_row(void **st)
{
	struct m m;

	(void)st;
	m = expect_ok("POST", "/v1/messages/5/ack", intake__do_ack);
	assert_int_equal(m.p.id, 5);
	assert_string_equal(m.p.client, "");
	assert_string_equal(m.p.token, "");
	assert_string_equal(m.p.url, "");
	m = expect_ok("GET", "/v1/clients/acme/mailbox", intake__do_mailbox);
	assert_int_equal(m.p.id, 0);
	assert_string_equal(m.p.client, "acme");
	m = match("POST", "/v1/clients/acme/oncall");
	assert_int_equal(m.status, 405);
	assert_string_equal(m.p.client, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_row),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_param_id),
		cmocka_unit_test(test_param_client),
		cmocka_unit_test(test_param_token),
		cmocka_unit_test(test_param_channel),
		cmocka_unit_test(test_params_of_the_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
