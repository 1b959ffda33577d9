/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* firstfit.h - the baseline allocator: genalloc's first-fit bitmap search */
#ifndef P2PDMA_BENCH_FIRSTFIT_H
#define P2PDMA_BENCH_FIRSTFIT_H

#include <stdint.h>

/*
 * lib/genalloc.c's strategy for a pool of order PAGE_SHIFT, one chunk:
 * a bitmap with a set bit per allocated page, and for every allocation
 * gen_pool_first_fit() = bitmap_find_next_zero_area() from bit 0 (find the
 * next clear bit, check the run with find_next_bit, restart after the
 * obstacle), word at a time as lib/find_bit.c scans. Free clears bits.
 */
struct firstfit {
	uint64_t npages;
	uint64_t *map;
};

int firstfit_init(struct firstfit *f, uint64_t npages);
void firstfit_fini(struct firstfit *f);
/* First page of @n free pages, or -1. */
int64_t firstfit_alloc(struct firstfit *f, uint64_t n);
void firstfit_free(struct firstfit *f, uint64_t start, uint64_t n);
/* The longest free run, in pages. */
uint64_t firstfit_largest(const struct firstfit *f);

#endif
