/*
 * voice_match.c - where pieces of speech occur in a recording, for the
 * voice tests: speech synthesis is deterministic and G.711 is a fixed
 * quantiser, so what a called party recorded contains the samples
 * `pagegate render --channel voice` wrote, exactly, wherever they were
 * played (only their position depends on packet timing).
 *
 *   voice_match [--ulaw] [--tol N] RECORDING PIECE...
 *
 * Files are 16-bit mono WAV (or raw 16-bit little-endian with a .raw
 * name).  Each piece is trimmed of its silent ends (|sample| < 64) and
 * then found in the recording, left to right, without overlaps: every
 * sample equal within N (default 0).  --ulaw passes the pieces through
 * G.711 mu-law first (what a PCMU call does to them).  Prints one line
 * per piece, "PIECE count=C at=OFFSET,...", then "uncovered=U of=S": U
 * of the recording's S loud samples (|sample| >= 64) lie in no
 * occurrence - 0 when nothing but the pieces was heard.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#define LOUD 64
#define MAX_PIECES 16

struct pcm {
	int16_t *s;
	size_t n;
};

static int
load(const char *path, struct pcm *p)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long len;
	size_t off = 0, n = 0;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	if (!(b = malloc((size_t)len + 1)) || fread(b, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "voice_match: cannot read %s\n", path);
		fclose(f);
		free(b);
		return -1;
	}
	fclose(f);
	n = (size_t)len;
	if (len >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WAVE", 4) == 0) {
		off = 12;
		for (;;) {
			if (off + 8 > (size_t)len) {
				fprintf(stderr, "voice_match: %s: no data chunk\n", path);
				free(b);
				return -1;
			}
			uint32_t cl = b[off + 4] | b[off + 5] << 8 | b[off + 6] << 16 |
				(uint32_t)b[off + 7] << 24;
			if (memcmp(b + off, "data", 4) == 0) {
				off += 8;
				n = cl <= (size_t)len - off ? cl : (size_t)len - off;
				break;
			}
			off += 8 + cl + (cl & 1);
		}
	}
	p->n = n / 2;
	if (!(p->s = malloc((p->n + 1) * sizeof *p->s))) {
		free(b);
		return -1;
	}
	for (size_t i = 0; i < p->n; i++)
		p->s[i] = (int16_t)(b[off + 2 * i] | b[off + 2 * i + 1] << 8);
	free(b);
	return 0;
}

static bool
near(int a, int b, int tol)
{
	return abs(a - b) <= tol;
}

int
main(int argc, char **argv)
{
	struct pcm rec, pc[MAX_PIECES];
	bool ulaw = false, *covered;
	int tol = 0, i = 1, np = 0;
	size_t loud = 0, unc = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--ulaw") == 0)
			ulaw = true;
		else if (strcmp(argv[i], "--tol") == 0 && i + 1 < argc)
			tol = atoi(argv[++i]);
		else
			break;
	}
	if (argc - i < 2 || argc - i - 1 > MAX_PIECES) {
		fprintf(stderr, "usage: voice_match [--ulaw] [--tol N] RECORDING PIECE...\n");
		return 2;
	}
	if (load(argv[i], &rec) != 0 || !(covered = calloc(rec.n + 1, sizeof *covered)))
		return 2;
	for (int k = i + 1; k < argc; k++, np++) {
		struct pcm *p = &pc[np];
		size_t b = 0, e;
		if (load(argv[k], p) != 0)
			return 2;
		if (ulaw)
			for (size_t j = 0; j < p->n; j++)
				p->s[j] = ulaw_to_linear(linear_to_ulaw(p->s[j]));
		e = p->n;
		while (b < e && abs(p->s[b]) < LOUD)
			b++;
		while (e > b && abs(p->s[e - 1]) < LOUD)
			e--;
		memmove(p->s, p->s + b, (e - b) * sizeof *p->s);
		p->n = e - b;
		printf("%s count=", argv[k]);
		char at[4096] = "";
		int count = 0;
		for (size_t o = 0; p->n > 0 && o + p->n <= rec.n; o++) {
			size_t j = 0;
			if (covered[o] || !near(rec.s[o], p->s[0], tol))
				continue;
			while (j < p->n && near(rec.s[o + j], p->s[j], tol))
				j++;
			if (j < p->n)
				continue;
			for (j = 0; j < p->n; j++)
				covered[o + j] = true;
			if (strlen(at) < sizeof at - 24)
				snprintf(at + strlen(at), sizeof at - strlen(at), "%s%zu",
					 count ? "," : "", o);
			count++;
			o += p->n - 1;
		}
		printf("%d at=%s samples=%zu\n", count, at[0] ? at : "-", p->n);
	}
	for (size_t j = 0; j < rec.n; j++)
		if (abs(rec.s[j]) >= LOUD) {
			loud++;
			unc += !covered[j];
		}
	printf("uncovered=%zu of=%zu\n", unc, loud);
	for (int k = 0; k < np; k++)
		free(pc[k].s);
	free(rec.s);
	free(covered);
	return fflush(stdout) == 0 ? 0 : 2;
}
