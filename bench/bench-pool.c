// SPDX-License-Identifier: LGPL-2.1-or-later
/* bench-pool.c - p2pmem pool alloc+free after churn vs genalloc's first-fit bitmap */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p2pdma/p2pdma.h>

#include "ffmap-private.h"
#include "firstfit.h"

/*
 * Usage: bench-pool [POOL_MIB [OPS]]
 *
 * One pool of POOL_MIB (default 1024) of 4 KiB pages, driven by the same
 * seeded sequence three ways: the baseline (firstfit.c, genalloc's
 * strategy), the pool's allocator core (lib/ffmap.c) and the library's
 * pci_alloc_p2pmem()/pci_free_p2pmem() model on a booted kernel. Sizes are
 * mixed: 70% 1-16 pages, 25% 16-256, 5% 256-1024. A churn phase fills the
 * pool to about 70% and mixes frees and allocations; then OPS (default
 * 200000) operations of the same kind are timed (best of 3). All three
 * must place every allocation at the same page (first fit is exact), and
 * the largest free block is compared at the end. The last three lines are
 * the figures quoted in the README.
 */
#define CHURN_OPS 100000
#define MIN_NS 200000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t pick_size(uint64_t r)
{
	uint64_t c = r % 100, v = r >> 8;

	if (c < 70)
		return 1 + v % 16;
	if (c < 95)
		return 16 + v % 241;
	return 256 + v % 769;
}

/* The three allocators behind one interface: pages in, first page out. */
enum which { BASELINE, CORE, API };

struct run {
	enum which w;
	uint64_t npages;
	struct firstfit ff;
	struct p2pdma_ffmap fm;
	struct p2pdma_kernel *k;
	const struct p2pdma_dev *dev;
	uint64_t base;			/* kva of page 0 (API) */
	uint64_t *live_start, *live_n;
	size_t nlive;
	uint64_t used;
	uint64_t placement_hash;
};

static int64_t do_alloc(struct run *r, uint64_t n)
{
	int64_t at;

	switch (r->w) {
	case BASELINE:
		return firstfit_alloc(&r->ff, n);
	case CORE:
		at = p2pdma_ffmap_find(&r->fm, n);
		if (at >= 0)
			p2pdma_ffmap_set(&r->fm, (uint64_t)at, n, false);
		return at;
	default: {
		uint64_t kva;

		if (p2pdma_p2pmem_alloc(r->k, r->dev, n * 4096, NULL, &kva))
			return -1;
		return (int64_t)((kva - r->base) / 4096);
	}
	}
}

static void do_free(struct run *r, uint64_t start, uint64_t n)
{
	switch (r->w) {
	case BASELINE:
		firstfit_free(&r->ff, start, n);
		break;
	case CORE:
		p2pdma_ffmap_set(&r->fm, start, n, true);
		break;
	default:
		if (p2pdma_p2pmem_free(r->k, r->dev, r->base + start * 4096, n * 4096))
			abort();
		break;
	}
}

/* One operation of the sequence: free a random live block, or allocate. */
static void step(struct run *r, uint64_t *seed, bool force_free)
{
	uint64_t a = rng(seed), b = rng(seed);
	bool do_f = r->nlive && (force_free || a % 100 < 45 || r->used * 10 > r->npages * 7);

	if (do_f) {
		size_t i = (size_t)(b % r->nlive);

		do_free(r, r->live_start[i], r->live_n[i]);
		r->used -= r->live_n[i];
		r->live_start[i] = r->live_start[r->nlive - 1];
		r->live_n[i] = r->live_n[r->nlive - 1];
		r->nlive--;
	} else {
		uint64_t n = pick_size(b);
		int64_t at = do_alloc(r, n);

		r->placement_hash = (r->placement_hash ^ (uint64_t)at) * 0x100000001b3ULL;
		if (at < 0)
			return;
		r->live_start[r->nlive] = (uint64_t)at;
		r->live_n[r->nlive++] = n;
		r->used += n;
	}
}

static const char machine[] =
	"{ \"p2pdma_topology\": 1, \"machine\": { \"arch\": \"x86_64\" }, \"devices\": ["
	"{ \"bdf\": \"00:00.0\", \"vendor\": \"0x8086\", \"device\": \"0x09a2\", \"class\": \"0x060000\" },"
	"{ \"bdf\": \"00:01.0\", \"vendor\": \"0x10de\", \"device\": \"0x2330\", \"class\": \"0x030200\","
	"  \"pcie_type\": \"rc_endpoint\", \"driver\": \"nvidia\", \"bars\": ["
	"   { \"index\": 0, \"bus\": \"0x200000000000\", \"size\": \"0x%llx\", \"64bit\": true },"
	"   { \"index\": 2, \"bus\": \"0x300000000000\", \"size\": \"0x2000000000\", \"64bit\": true } ] } ] }";

static struct p2pdma_kernel *boot(struct p2pdma_ctx *ctx, uint64_t bar0, struct p2pdma_topo **t)
{
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;
	char json[sizeof(machine) + 32];

	snprintf(json, sizeof(json), machine, (unsigned long long)bar0);
	if (p2pdma_topo_load_json_string(ctx, json, "bench-pool", t) ||
	    p2pdma_policy_create(ctx, &pol))
		return NULL;
	if (p2pdma_kernel_boot(ctx, *t, pol, &k))
		k = NULL;
	p2pdma_policy_destroy(pol);
	return k;
}

static int setup(struct run *r, enum which w, struct p2pdma_ctx *ctx, uint64_t npages,
		 struct p2pdma_topo **t)
{
	memset(r, 0, sizeof(*r));
	r->w = w;
	r->npages = npages;
	r->live_start = calloc(npages, sizeof(*r->live_start));
	r->live_n = calloc(npages, sizeof(*r->live_n));
	if (!r->live_start || !r->live_n)
		return -ENOMEM;
	if (w == BASELINE)
		return firstfit_init(&r->ff, npages) ? -ENOMEM : 0;
	if (w == CORE)
		return p2pdma_ffmap_init(&r->fm, ctx, npages);
	r->k = boot(ctx, npages * 4096, t);
	if (!r->k)
		return -EINVAL;
	r->dev = p2pdma_topo_find(*t, "00:01.0");
	r->base = 0xffff888000000000ULL + 0x200000000000ULL;
	return p2pdma_kernel_add_resource(r->k, r->dev, 0, 0, 0);
}

static uint64_t largest(const struct run *r)
{
	struct p2pdma_pool_info pi;

	if (r->w == BASELINE)
		return firstfit_largest(&r->ff);
	if (r->w == CORE)
		return p2pdma_ffmap_largest(&r->fm);
	p2pdma_p2pmem_pool_get_info(r->k, r->dev, &pi, sizeof(pi));
	return pi.largest_free / 4096;
}

static void teardown(struct run *r, struct p2pdma_topo *t)
{
	if (r->w == BASELINE)
		firstfit_fini(&r->ff);
	else if (r->w == CORE)
		p2pdma_ffmap_fini(&r->fm);
	else
		p2pdma_kernel_shutdown(r->k);
	p2pdma_topo_destroy(t);
	free(r->live_start);
	free(r->live_n);
}

struct result {
	double ns_per_op;
	uint64_t hash;
	uint64_t largest;
	uint64_t used;
};

/* Churn, then time @ops operations; best of 3 (each from a fresh pool). */
static int measure(enum which w, struct p2pdma_ctx *ctx, uint64_t npages, size_t ops,
		   struct result *res)
{
	int rep;

	res->ns_per_op = 0;
	for (rep = 0; rep < 3; rep++) {
		struct p2pdma_topo *t = NULL;
		struct run r;
		uint64_t seed = 42, t0, t1;
		size_t i;
		int ret = setup(&r, w, ctx, npages, &t);

		if (ret)
			return ret;
		while (r.used * 10 < npages * 7)
			step(&r, &seed, false);
		for (i = 0; i < CHURN_OPS; i++)
			step(&r, &seed, false);
		t0 = now_ns();
		for (i = 0; i < ops; i++)
			step(&r, &seed, false);
		t1 = now_ns();
		if (!rep || (double)(t1 - t0) / (double)ops < res->ns_per_op)
			res->ns_per_op = (double)(t1 - t0) / (double)ops;
		res->hash = r.placement_hash;
		res->largest = largest(&r);
		res->used = r.used;
		teardown(&r, t);
	}
	return 0;
}

/* The model's page metadata for a 128 GiB BAR, in KiB per GiB. */
static double metadata_kib_per_gib(struct p2pdma_ctx *ctx)
{
	struct p2pdma_topo *t = NULL;
	struct p2pdma_kernel *k = boot(ctx, 4096, &t);
	struct p2pdma_pool_info pi;
	double v = -1;

	if (k && !p2pdma_kernel_add_resource(k, p2pdma_topo_find(t, "00:01.0"), 2, 0, 0) &&
	    !p2pdma_p2pmem_pool_get_info(k, p2pdma_topo_find(t, "00:01.0"), &pi, sizeof(pi)))
		v = (double)pi.metadata_bytes / 1024.0 / (double)(pi.size >> 30);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
	return v;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 0) : 1024;
	size_t ops = argc > 2 ? (size_t)strtoull(argv[2], NULL, 0) : 200000;
	uint64_t npages = mib * 256;
	struct result base, core, api;
	struct p2pdma_ctx *ctx;
	double meta;

	if (!mib || (mib & 1) || !ops) {
		fprintf(stderr, "usage: bench-pool [POOL_MIB (even) [OPS]]\n");
		return 2;
	}
	if (p2pdma_ctx_create(&ctx))
		return 1;
	if (measure(BASELINE, ctx, npages, ops, &base) || measure(CORE, ctx, npages, ops, &core) ||
	    measure(API, ctx, npages, ops, &api)) {
		fprintf(stderr, "bench-pool: setup failed: %s\n", p2pdma_ctx_error(ctx));
		return 1;
	}
	meta = metadata_kib_per_gib(ctx);
	printf("pool: %" PRIu64 " MiB (%" PRIu64 " pages of 4 KiB), mixed sizes 1-1024 pages, churned to ~70%% full\n",
	       mib, npages);
	printf("timed: %zu alloc/free operations after %d churn operations, best of 3\n", ops, CHURN_OPS);
	printf("first-fit bitmap (genalloc's search, bench/firstfit.c): %8.1f ns/op\n", base.ns_per_op);
	printf("pool allocator core (lib/ffmap.c):                      %8.1f ns/op  (%.1f x)\n",
	       core.ns_per_op, base.ns_per_op / core.ns_per_op);
	printf("pool API (p2pdma_p2pmem_alloc/free, with bookkeeping):  %8.1f ns/op  (%.1f x)\n",
	       api.ns_per_op, base.ns_per_op / api.ns_per_op);
	if (core.hash != base.hash || api.hash != base.hash || core.used != base.used ||
	    api.used != base.used) {
		printf("FAIL: the allocators placed allocations differently\n");
		return 1;
	}
	printf("placements: identical in all three (first fit is exact); %.1f%% of the pool in use at the end\n",
	       100.0 * (double)base.used / (double)npages);
	printf("largest free block: baseline %" PRIu64 " pages, pool %" PRIu64 " pages\n",
	       base.largest, api.largest);
	printf("pool alloc+free vs first-fit bitmap: %.1f x\n", base.ns_per_op / api.ns_per_op);
	printf("largest free block vs first-fit bitmap: %.2f x\n",
	       (double)api.largest / (double)(base.largest ? base.largest : 1));
	printf("page metadata: %.0f KiB per GiB of BAR\n", meta);
	p2pdma_ctx_destroy(ctx);
	return 0;
}
