/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ffmap-private.h - a page bitmap that answers genalloc's first-fit question in O(log n) */
#ifndef P2PDMA_FFMAP_PRIVATE_H
#define P2PDMA_FFMAP_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct p2pdma_ctx;

/*
 * One genalloc chunk's bitmap (lib/genalloc.c, order PAGE_SHIFT), with
 * the same answer as gen_pool_first_fit(): the lowest run of @n free pages.
 * genalloc scans the bitmap from bit 0 on every allocation; here a
 * segment tree over 64-page words keeps, per node, the free run at its
 * start (pre), at its end (suf) and the longest inside (max), so the
 * leftmost fitting run is found by one descent.
 *
 *              [pre suf max] over pages 0..N-1
 *             /                           \
 *      [left half]                    [right half]
 *   a run may lie in the left half (left.max >= n: go left), straddle
 *   the middle (left.suf + right.pre >= n: it starts at mid - left.suf),
 *   or lie in the right half (go right) - tested in that order, which
 *   is the leftmost order.
 *
 * Memory: 1 bit per page plus 12 bytes per 64-page leaf and inner node,
 * about 128 KiB per GiB of 4 KiB pages (the kernel's struct page array
 * alone costs 16 MiB per GiB).
 */
struct p2pdma_ffnode {
	uint32_t pre, suf, max;
};

struct p2pdma_ffmap {
	uint64_t npages;
	uint64_t nfree;
	uint64_t nwords;
	uint64_t *bits;			/* bit set = page free */
	uint64_t leaves;		/* power of two >= nwords */
	struct p2pdma_ffnode *tree;	/* [1, 2 * leaves): heap order */
};

/* Largest page count a map takes (32-bit counts: 8 TiB of 4 KiB pages). */
#define P2PDMA_FFMAP_MAX_PAGES (1ULL << 31)

/* A map of @npages free pages. Return: 0, -EINVAL (0 or too many), -ENOMEM. */
int p2pdma_ffmap_init(struct p2pdma_ffmap *m, struct p2pdma_ctx *ctx, uint64_t npages);
void p2pdma_ffmap_fini(struct p2pdma_ffmap *m);

/* Lowest start of @n free pages, or -1 (n == 0 or no run long enough). */
int64_t p2pdma_ffmap_find(const struct p2pdma_ffmap *m, uint64_t n);

/* Mark pages [@start, @start + @n) used (@free false) or free (true). */
void p2pdma_ffmap_set(struct p2pdma_ffmap *m, uint64_t start, uint64_t n, bool free);

/* Pages free in [@start, @start + @n). */
uint64_t p2pdma_ffmap_count_free(const struct p2pdma_ffmap *m, uint64_t start, uint64_t n);

/* Is page @i free? */
static inline bool p2pdma_ffmap_test(const struct p2pdma_ffmap *m, uint64_t i)
{
	return (m->bits[i >> 6] >> (i & 63)) & 1;
}

/* The longest free run, in pages. */
static inline uint64_t p2pdma_ffmap_largest(const struct p2pdma_ffmap *m)
{
	return m->tree ? m->tree[1].max : 0;
}

/* Bytes of memory the map holds. */
size_t p2pdma_ffmap_bytes(const struct p2pdma_ffmap *m);

#endif
