/*
 * tap_terminal.c - a TAP paging terminal on a pseudo-terminal, for the
 * pager integration test (no TAP terminal is packaged): the emulation of
 * tap_term.h, one logon session after another, until SIGTERM.
 *
 *   tap_terminal OUTDIR PASSWORD [REJECT_PIN [MAX_CHARS]]
 *
 * Writes the slave's path to OUTDIR/device (pagegate opens it as its
 * serial line), appends every accepted page to OUTDIR/pages as
 * "PIN<TAB>TEXT" and every protocol violation (bad logon, bad checksum,
 * oversized block) to OUTDIR/errors.  Transactions for REJECT_PIN are
 * answered with "501 Invalid pager ID" and RS; messages longer than
 * MAX_CHARS with "517 MAX_CHARS Character Maximum, Message Rejected" and
 * RS (each one logged to OUTDIR/too_long).
 */
#include <errno.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>

#include "tap_term.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
append(const char *dir, const char *name, const char *line)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "a"))) {
		fputs(line, f);
		fclose(f);
	}
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct termios tio;
	struct term t;
	char path[64], file[1024], tmp[1100], line[1400];
	int master, slave, i;
	FILE *f;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: %s OUTDIR PASSWORD [REJECT_PIN [MAX_CHARS]]\n", argv[0]);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;                 /* no SA_RESTART: poll returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (openpty(&master, &slave, path, NULL, NULL) != 0 || tcgetattr(slave, &tio) != 0) {
		perror("tap_terminal: openpty");
		return 1;
	}
	cfmakeraw(&tio);
	tcsetattr(slave, TCSANOW, &tio);
	snprintf(file, sizeof file, "%s/device", argv[1]);
	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	if (!(f = fopen(tmp, "w")) || fprintf(f, "%s\n", path) < 0 || fclose(f) != 0 ||
	    rename(tmp, file) != 0) {
		perror("tap_terminal: device file");
		return 1;
	}
	while (!stop) {
		memset(&t, 0, sizeof t);
		t.fd = master;
		t.password = argv[2];
		t.reject_pin = argc >= 4 && argv[3][0] ? argv[3] : NULL;
		t.max_chars = argc == 5 ? atoi(argv[4]) : 0;
		t.script = "";
		terminal(&t);
		for (i = 0; i < t.pages; i++) {
			snprintf(line, sizeof line, "%s\t%s\n", t.pin[i], t.text[i]);
			append(argv[1], "pages", line);
		}
		for (i = 0; i < t.too_long; i++)
			append(argv[1], "too_long", "517\n");
		if (t.error[0] || t.bad_sums) {
			snprintf(line, sizeof line, "%s (bad checksums: %d)\n", t.error, t.bad_sums);
			append(argv[1], "errors", line);
		}
	}
	close(slave);
	close(master);
	return 0;
}
