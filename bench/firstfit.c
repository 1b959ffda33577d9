// SPDX-License-Identifier: LGPL-2.1-or-later
/* firstfit.c - the baseline allocator: genalloc's first-fit bitmap search */
#include <stdlib.h>

#include "firstfit.h"

int firstfit_init(struct firstfit *f, uint64_t npages)
{
	f->npages = npages;
	f->map = calloc((npages + 63) / 64, sizeof(*f->map));
	return f->map ? 0 : -1;
}

void firstfit_fini(struct firstfit *f)
{
	free(f->map);
	f->map = NULL;
}

/* find_next_bit() (@want 1) or find_next_zero_bit() (@want 0): word at a time. */
static uint64_t find_next(const uint64_t *map, uint64_t size, uint64_t start, int want)
{
	uint64_t w;

	if (start >= size)
		return size;
	w = map[start / 64] ^ (want ? 0 : ~0ULL);
	w &= ~0ULL << (start % 64);
	start &= ~63ULL;
	while (!w) {
		start += 64;
		if (start >= size)
			return size;
		w = map[start / 64] ^ (want ? 0 : ~0ULL);
	}
	start += (uint64_t)__builtin_ctzll(w);
	return start < size ? start : size;
}

int64_t firstfit_alloc(struct firstfit *f, uint64_t n)
{
	uint64_t start = 0, index, end, i;

	/* bitmap_find_next_zero_area(map, size, start, nr, 0) */
	for (;;) {
		index = find_next(f->map, f->npages, start, 0);
		end = index + n;
		if (end > f->npages)
			return -1;
		i = find_next(f->map, end, index, 1);
		if (i < end) {
			start = i + 1;
			continue;
		}
		break;
	}
	/* bitmap_set_ll() */
	for (i = index; i < end;) {
		if (!(i % 64) && end - i >= 64) {
			f->map[i / 64] = ~0ULL;
			i += 64;
		} else {
			f->map[i / 64] |= 1ULL << (i % 64);
			i++;
		}
	}
	return (int64_t)index;
}

void firstfit_free(struct firstfit *f, uint64_t start, uint64_t n)
{
	uint64_t i, end = start + n;

	for (i = start; i < end;) {
		if (!(i % 64) && end - i >= 64) {
			f->map[i / 64] = 0;
			i += 64;
		} else {
			f->map[i / 64] &= ~(1ULL << (i % 64));
			i++;
		}
	}
}

uint64_t firstfit_largest(const struct firstfit *f)
{
	uint64_t i, run = 0, best = 0;

	for (i = 0; i < f->npages; i++) {
		run = (f->map[i / 64] >> (i % 64)) & 1 ? 0 : run + 1;
		best = run > best ? run : best;
	}
	return best;
}
