/*
 * fuzz_intake_head.c - libFuzzer harness for the head's own checks
 * (intake_head.c): any bytes as a request target, as a
 * Transfer-Encoding value (up to the first NUL), and as the first bytes
 * of a connection (intake__head_check, what the gate peeks).  The checks
 * must read no byte past the length given and classify every input; a
 * head found whole is found again in its own bytes, a refusal names a
 * status and a field, and "more" is only said under the size limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/intake/intake_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole head's check on an exact-size copy of data. */
static void
head(const uint8_t *data, size_t size)
{
	char *exact = malloc(size ? size : 1);
	struct intake_head_fault f, g;
	size_t len = 0, len2 = 0;
	enum intake_head_verdict v;

	if (exact == NULL)
		return;
	memcpy(exact, data, size);
	memset(&f, 0, sizeof f);
	v = intake__head_check(exact, size, INTAKE_HEAD_MAX, &len, &f);
	switch (v) {
	case INTAKE_HEAD_OK:
		/* the head alone is the same head, and ends with its LF */
		if (len == 0 || len > size || len > INTAKE_HEAD_MAX || exact[len - 1] != '\n' ||
		    intake__head_check(exact, len, INTAKE_HEAD_MAX, &len2, &g) !=
		    INTAKE_HEAD_OK || len2 != len)
			abort();
		/* no NUL anywhere in it */
		if (memchr(exact, '\0', len) != NULL)
			abort();
		break;
	case INTAKE_HEAD_BAD:
		if ((f.status != 400 && f.status != 431 && f.status != 505) ||
		    memchr(f.field, '\0', sizeof f.field) == NULL || f.field[0] == '\0' ||
		    memchr(f.code, '\0', sizeof f.code) == NULL || f.code[0] == '\0' ||
		    memchr(f.message, '\0', sizeof f.message) == NULL)
			abort();
		break;
	case INTAKE_HEAD_MORE:
		if (size >= INTAKE_HEAD_MAX)
			abort();
		break;
	default:
		abort();
	}
	free(exact);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *exact = malloc(size ? size : 1), *copy = malloc(size + 1);
	bool q;
	enum intake_target_fault f;

	if (exact == NULL || copy == NULL) {
		free(exact);
		free(copy);
		return 0;
	}
	/* an exact-size copy: ASan sees a read past the target's end */
	memcpy(exact, data, size);
	f = intake__target_check(exact, size, &q);
	free(exact);
	memcpy(copy, data, size);
	if (f != INTAKE_TARGET_OK && f != INTAKE_TARGET_CTL && f != INTAKE_TARGET_PCT_CTL)
		abort();
	/* no control byte at all: the check must agree */
	if (memchr(copy, '%', size) == NULL) {
		bool ctl = false;

		for (size_t i = 0; i < size; i++)
			ctl |= data[i] < 0x20 || data[i] == 0x7f;
		if (ctl != (f != INTAKE_TARGET_OK))
			abort();
	}
	copy[size] = '\0';
	if (intake__transfer_coding(copy) == INTAKE_TE_NONE)
		abort();
	free(copy);
	head(data, size);
	return 0;
}
