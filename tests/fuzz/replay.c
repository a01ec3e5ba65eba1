/*
 * replay.c - runs a fuzz harness without libFuzzer: every file named on
 * the command line, and every file (but hidden ones) of every directory
 * named, in name order, is read into a buffer of exactly its size and
 * handed to the harness's LLVMFuzzerTestOneInput once.  Linked with one
 * tests/fuzz/fuzz_NAME.c by the project's compiler, so that `make test`
 * replays the committed corpus and crash files in its plain and its
 * AddressSanitizer + UBSan pass (a crash or a sanitizer report fails the
 * test).  Exits 0 after "replayed N inputs"; 2 when a file cannot be read
 * or nothing was given.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replays the file path; false when it cannot be read. */
static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		return 0;
	}
	/* exactly n bytes (1 for an empty file, never read): an overread of
	 * the input is one the sanitizer sees */
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || (n && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return 0;
	}
	fclose(f);
	fprintf(stderr, "replay: %s (%ld bytes)\n", path, n);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 1;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the files of dir in name order; the count, or -1. */
static long
replay_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	long done = 0;

	if (!dp) {
		fprintf(stderr, "replay: cannot read directory %s\n", dir);
		return -1;
	}
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(names = realloc(names, cap * sizeof *names)))
				abort();
		}
		if (!(names[n++] = strdup(e->d_name)))
			abort();
	}
	closedir(dp);
	if (n)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *p = malloc(len);
		if (!p)
			abort();
		snprintf(p, len, "%s/%s", dir, names[i]);
		if (done >= 0)
			done = replay_file(p) ? done + 1 : -1;
		free(p);
		free(names[i]);
	}
	free(names);
	return done;
}

int
main(int argc, char **argv)
{
	long total = 0;
	struct stat st;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		long k;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			k = replay_dir(argv[i]);
		else
			k = replay_file(argv[i]) ? 1 : -1;
		if (k < 0)
			return 2;
		total += k;
	}
	printf("replayed %ld inputs\n", total);
	return 0;
}
