/*
 * fuzz_tap.c - what a TAP paging terminal sends back (TAP 1.8): the input
 * is the byte stream, taken byte by byte by pager_tap_rx_byte as the TAP
 * client takes what it reads from the serial line (message lines kept,
 * ACK, NAK, RS, ESC EOT and the go-ahead ESC [ p ending each wait).  On an
 * RS (page rejected) the message lines are judged as the client judges
 * them (pager_tap_refused_too_long) and the page cut to the limit they
 * name (pager_recut_limit, pager_text_fit) as it is before being sent
 * once more.
 *
 * Checked besides the sanitizers: the kept message is printable ASCII and
 * bounded; a page cut to a limit fits it.
 */
#include "fuzz.h"

#include "../../src/chan/pager/pager_priv.h"

static const char page_text[] =
	"EMERGENCY Acme Heating - ACK 482913 / Maria Lopez +1 555 010 0199 / "
	"No heat since this morning, two children at home, the furnace makes a "
	"banging noise; tenant asks for a call back before 9 pm.";

static void
check_text(struct pager_tap_rx *rx)
{
	const char *m = pager_tap_rx_text(rx);
	size_t n = strlen(m);

	FUZZ_ASSERT(n < PAGER_TAP_MSG_MAX);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(m[i] >= 0x20 && m[i] < 0x7f);
}

static void
check_recut(struct pager_tap_rx *rx)
{
	struct pager_limits lim = { .ascii = true };
	const char *msg = pager_tap_rx_text(rx), *num;
	size_t sent = strlen(page_text);
	char *cut;

	if (!pager_tap_refused_too_long(msg, &num))
		return;
	FUZZ_ASSERT(num >= msg && num <= msg + strlen(msg));
	lim.max_cost = pager_recut_limit(sent, num);
	FUZZ_ASSERT(lim.max_cost < sent);
	cut = pager_text_fit(page_text, &lim, true);
	FUZZ_ASSERT(cut != NULL);
	if (lim.max_cost > 0)
		FUZZ_ASSERT(pager_cost_chars(cut, strlen(cut)) <= lim.max_cost);
	free(cut);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pager_tap_rx rx;

	memset(&rx, 0, sizeof rx);
	pager_tap_rx_reset(&rx);
	for (size_t i = 0; i < size; i++) {
		enum pager_tap_resp r = pager_tap_rx_byte(&rx, data[i]);
		FUZZ_ASSERT(r >= PAGER_TAP_MORE && r <= PAGER_TAP_GO);
		if (r == PAGER_TAP_MORE)
			continue;
		check_text(&rx);
		if (r == PAGER_TAP_RS)
			check_recut(&rx);
		/* the client starts afresh with each block (a NAK sends it again) */
		if (r == PAGER_TAP_ACK || r == PAGER_TAP_RS || r == PAGER_TAP_EOT)
			pager_tap_rx_reset(&rx);
	}
	check_text(&rx);
	return 0;
}
