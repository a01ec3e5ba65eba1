/*
 * fuzz_intake_head.c - libFuzzer harness for the head's own checks
 * (intake_head.c): any bytes as a request target, and as a
 * Transfer-Encoding value (up to the first NUL).  The checks must read no
 * byte past the length given and classify every input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/intake/intake_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	return 0;
}
