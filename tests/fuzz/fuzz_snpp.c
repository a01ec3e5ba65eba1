/*
 * fuzz_snpp.c - what an SNPP gateway (RFC 1861) answers: the input is
 * the byte stream the gateway sends, read reply by reply through
 * pager_snpp_read_reply from one end of a socket pair (the other end wrote
 * the input and shut down), as the SNPP client reads its connection;
 * each line also goes through pager_snpp_parse_line.  A refusal (4xx,
 * 5xx) is then taken as a refusal for length would be: the limit it names
 * (pager_recut_limit) cuts a page (pager_text_fit) as the client does
 * before sending it once more.
 *
 * Checked besides the sanitizers: a reply's code is three digits and its
 * text one terminated line; a page cut to a limit fits it.
 */
#include <sys/socket.h>

#include "fuzz.h"

#include "../../src/chan/pager/pager_priv.h"

#define SNPP_INPUT_MAX 65536       /* what a socket pair takes unread */

static const char page_text[] =
	"EMERGENCY Acme Heating - ACK 482913 / Maria Lopez +1 555 010 0199 / "
	"No heat since this morning, two children at home, the furnace makes a "
	"banging noise; tenant asks for a call back before 9 pm. Unit 4B, 12 Elm St";

static void
check_recut(int code, const char *text)
{
	struct pager_limits lim = { .cost = pager_snpp_cost, .ascii = true };
	size_t sent = pager_snpp_cost(page_text, strlen(page_text));
	char *cut;

	if (code / 100 != 4 && code / 100 != 5)
		return;
	lim.max_cost = pager_recut_limit(sent, text);
	FUZZ_ASSERT(lim.max_cost < sent);
	cut = pager_text_fit(page_text, &lim, true);
	FUZZ_ASSERT(cut != NULL);
	if (lim.max_cost > 0)
		FUZZ_ASSERT(pager_snpp_cost(cut, strlen(cut)) <= lim.max_cost);
	free(cut);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pager_snpp_rd rd;
	char text[PG_REPLY_MAX / 2], *lines, *l, *nl;
	int sv[2], code;
	bool more;

	if (size > SNPP_INPUT_MAX)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	memset(&rd, 0, sizeof rd);
	rd.fd = sv[0];
	for (int replies = 0; replies < 1000; replies++) {
		pg_err e = pager_snpp_read_reply(&rd, 1000, &code, text, sizeof text);
		FUZZ_ASSERT(memchr(text, '\0', sizeof text));
		if (e != PG_OK) {
			FUZZ_ASSERT(e == PG_ERR_TEMPFAIL);
			break;
		}
		FUZZ_ASSERT(code >= 100 && code <= 999);
		FUZZ_ASSERT(!strchr(text, '\n') && !strchr(text, '\r'));
		check_recut(code, text);
	}
	close(sv[0]);
	close(sv[1]);

	/* each line alone */
	lines = fuzz_cstr(data, size);
	for (l = lines; l; l = nl) {
		if ((nl = strchr(l, '\n')))
			*nl++ = '\0';
		code = pager_snpp_parse_line(l, &more);
		FUZZ_ASSERT(code == -1 || (code >= 100 && code <= 999));
	}
	free(lines);
	return 0;
}
