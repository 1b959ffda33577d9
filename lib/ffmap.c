// SPDX-License-Identifier: LGPL-2.1-or-later
/* ffmap.c - genalloc's first-fit page bitmap with a segment tree over its words */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "context-private.h"
#include "ffmap-private.h"

/* Longest run of set bits in @w. */
static uint32_t word_max_run(uint64_t w)
{
	uint32_t r = 0;

	if (w == ~0ULL)
		return 64;
	while (w) {
		w &= w << 1;
		r++;
	}
	return r;
}

static void leaf_update(struct p2pdma_ffmap *m, uint64_t word)
{
	struct p2pdma_ffnode *n = &m->tree[m->leaves + word];
	uint64_t w = m->bits[word];

	n->pre = w == ~0ULL ? 64 : (uint32_t)__builtin_ctzll(~w);
	n->suf = w == ~0ULL ? 64 : (uint32_t)__builtin_clzll(~w);
	n->max = word_max_run(w);
}

/* Node @i from its children, each covering @half pages. */
static void pull(struct p2pdma_ffnode *t, uint64_t i, uint64_t half)
{
	const struct p2pdma_ffnode *l = &t[2 * i], *r = &t[2 * i + 1];
	uint32_t mid = l->suf + r->pre;

	t[i].pre = l->pre == half ? (uint32_t)half + r->pre : l->pre;
	t[i].suf = r->suf == half ? (uint32_t)half + l->suf : r->suf;
	t[i].max = l->max > r->max ? l->max : r->max;
	if (mid > t[i].max)
		t[i].max = mid;
}

int p2pdma_ffmap_init(struct p2pdma_ffmap *m, struct p2pdma_ctx *ctx, uint64_t npages)
{
	uint64_t i, half;

	memset(m, 0, sizeof(*m));
	if (!npages || npages > P2PDMA_FFMAP_MAX_PAGES)
		return -EINVAL;
	m->npages = npages;
	m->nwords = (npages + 63) / 64;
	for (m->leaves = 1; m->leaves < m->nwords; m->leaves *= 2)
		;
	m->bits = p2pdma_zalloc(ctx, m->nwords, sizeof(*m->bits));
	m->tree = p2pdma_zalloc(ctx, 2 * m->leaves, sizeof(*m->tree));
	if (!m->bits || !m->tree) {
		p2pdma_ffmap_fini(m);
		return -ENOMEM;
	}
	for (i = 0; i < m->nwords; i++) {
		uint64_t left = npages - i * 64;

		m->bits[i] = left >= 64 ? ~0ULL : (1ULL << left) - 1;
		leaf_update(m, i);
	}
	m->nfree = npages;
	/* Inner nodes, bottom up: level by level, children of @half pages. */
	for (half = 64, i = m->leaves / 2; i >= 1; i /= 2, half *= 2) {
		uint64_t j;

		for (j = i; j < 2 * i; j++)
			pull(m->tree, j, half);
	}
	return 0;
}

void p2pdma_ffmap_fini(struct p2pdma_ffmap *m)
{
	free(m->bits);
	free(m->tree);
	memset(m, 0, sizeof(*m));
}

size_t p2pdma_ffmap_bytes(const struct p2pdma_ffmap *m)
{
	return (size_t)(m->nwords * sizeof(*m->bits) + 2 * m->leaves * sizeof(*m->tree));
}

int64_t p2pdma_ffmap_find(const struct p2pdma_ffmap *m, uint64_t n)
{
	uint64_t i = 1, base = 0, len, w, have;

	if (!n || !m->tree || n > m->tree[1].max)
		return -1;
	for (len = 64 * m->leaves; i < m->leaves; len /= 2) {
		const struct p2pdma_ffnode *l = &m->tree[2 * i], *r = &m->tree[2 * i + 1];
		uint64_t half = len / 2;

		if (l->max >= n) {
			i = 2 * i;
		} else if ((uint64_t)l->suf + r->pre >= n) {
			return (int64_t)(base + half - l->suf);
		} else {
			i = 2 * i + 1;
			base += half;
		}
	}
	/* A leaf whose longest inner run fits: @n <= 64. Bit j of w stays
	 * set while pages j .. j + have - 1 are all free. */
	w = m->bits[i - m->leaves];
	for (have = 1; have < n;) {
		uint64_t s = have < n - have ? have : n - have;

		w &= w >> s;
		have += s;
	}
	return (int64_t)(base + (uint64_t)__builtin_ctzll(w));
}

static uint64_t range_mask(uint64_t word, uint64_t start, uint64_t end)
{
	uint64_t lo = word == start >> 6 ? start & 63 : 0;
	uint64_t hi = word == (end - 1) >> 6 ? ((end - 1) & 63) + 1 : 64;

	return hi - lo == 64 ? ~0ULL : ((1ULL << (hi - lo)) - 1) << lo;
}

void p2pdma_ffmap_set(struct p2pdma_ffmap *m, uint64_t start, uint64_t n, bool free)
{
	uint64_t end = start + n, w, w0, w1, a, b, half;

	if (!n)
		return;
	w0 = start >> 6;
	w1 = (end - 1) >> 6;
	for (w = w0; w <= w1; w++) {
		uint64_t mask = range_mask(w, start, end);
		uint64_t old = m->bits[w], nw = free ? old | mask : old & ~mask;

		m->nfree += (uint64_t)__builtin_popcountll(nw);
		m->nfree -= (uint64_t)__builtin_popcountll(old);
		m->bits[w] = nw;
		leaf_update(m, w);
	}
	a = (m->leaves + w0) / 2;
	b = (m->leaves + w1) / 2;
	for (half = 64; a >= 1; a /= 2, b /= 2, half *= 2) {
		uint64_t i;

		for (i = a; i <= b; i++)
			pull(m->tree, i, half);
	}
}

uint64_t p2pdma_ffmap_count_free(const struct p2pdma_ffmap *m, uint64_t start, uint64_t n)
{
	uint64_t end = start + n, w, count = 0;

	if (!n)
		return 0;
	for (w = start >> 6; w <= (end - 1) >> 6; w++)
		count += (uint64_t)__builtin_popcountll(m->bits[w] & range_mask(w, start, end));
	return count;
}
