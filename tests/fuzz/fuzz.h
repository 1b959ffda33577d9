/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz.h - what every fuzz target shares: the entry point and property checks */
#ifndef P2PDMA_FUZZ_H
#define P2PDMA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * libFuzzer's entry point. Declared here because the targets are also
 * linked with replay.c (a plain main()) in non-fuzzer builds, and
 * -Wmissing-prototypes wants a prototype either way.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A property that does not hold is a bug: abort() so that libFuzzer keeps
 * the input as a crash and the replay test fails (a plain return would
 * only count as "no crash").
 */
#define FUZZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: property failed: %s: ",	\
				__FILE__, __LINE__, #cond);		\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			abort();					\
		}							\
	} while (0)

#endif
