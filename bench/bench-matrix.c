// SPDX-License-Identifier: LGPL-2.1-or-later
/* bench-matrix.c - full verdict matrix: fast router path vs the kernel's nested walk */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p2pdma/p2pdma.h>

#include "baseline.h"
#include "policy-private.h"
#include "topo-private.h"

/*
 * Usage: bench-matrix [SYNTH-SPEC]
 * Builds the synthetic fabric (default: 4 host bridges x 4 root ports x
 * 2 switch levels x 4 downstream ports x 16 functions = 4096 endpoints),
 * checks that both implementations agree on every ordered pair (map type
 * and distance), then times each over the full matrix, best of 3, each
 * run at least MIN_NS long. Prints figures; exits 1 on disagreement.
 */
#define DEFAULT_SPEC "hb=4,rp=4,sw=2,ds=4,ep=16,acs=0.3,listed=0.5,seed=1"
#define MIN_NS 300000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct bench {
	const struct p2pdma_router *r;
	const struct p2pdma_policy *pol;
	const struct p2pdma_dev **eps;
	size_t n;
	uint8_t *types;			/* one row, for the row API */
	int *dists;
};

/* The checksum keeps the compiler from dropping the work. */
static uint64_t pass_fast(const struct bench *b)
{
	uint64_t sum = 0;
	size_t i, j;

	for (i = 0; i < b->n; i++) {
		for (j = 0; j < b->n; j++) {
			int d;
			enum p2pdma_map_type t =
				p2pdma_router_map_type(b->r, b->eps[i], b->eps[j], &d);

			sum += (uint64_t)t * 31u + (uint64_t)d;
		}
	}
	return sum;
}

static uint64_t pass_row(const struct bench *b)
{
	uint64_t sum = 0;
	size_t i, j;

	for (i = 0; i < b->n; i++) {
		p2pdma_router_map_type_row(b->r, b->eps[i], b->eps, b->n, b->types,
				    b->dists);
		for (j = 0; j < b->n; j++)
			sum += (uint64_t)b->types[j] * 31u + (uint64_t)b->dists[j];
	}
	return sum;
}

static uint64_t pass_baseline(const struct bench *b)
{
	uint64_t sum = 0;
	size_t i, j;

	for (i = 0; i < b->n; i++) {
		for (j = 0; j < b->n; j++) {
			int d;
			enum p2pdma_map_type t =
				baseline_calc(b->pol, b->eps[i], b->eps[j], &d);

			sum += (uint64_t)t * 31u + (uint64_t)d;
		}
	}
	return sum;
}

/* Best of 3 runs; each run repeats full passes until MIN_NS elapsed. */
static double measure(const struct bench *b,
		      uint64_t (*pass)(const struct bench *), uint64_t *sum)
{
	double best = 0;
	int run;

	for (run = 0; run < 3; run++) {
		uint64_t t0 = now_ns(), t1, passes = 0;
		double rate;

		do {
			*sum += pass(b);
			passes++;
			t1 = now_ns();
		} while (t1 - t0 < MIN_NS);
		rate = (double)passes * (double)b->n * (double)b->n /
		       ((double)(t1 - t0) / 1e9);
		if (rate > best)
			best = rate;
	}
	return best;
}

int main(int argc, char **argv)
{
	const char *spec = argc > 1 ? argv[1] : DEFAULT_SPEC;
	uint64_t counts[5] = { 0 }, sum_fast = 0, sum_row = 0, sum_base = 0;
	uint64_t bad = 0;
	struct p2pdma_policy *pol = NULL;
	struct p2pdma_router *r = NULL;
	struct p2pdma_topo *topo = NULL;
	struct p2pdma_ctx *ctx = NULL;
	const struct p2pdma_kernel_profile *prof;
	struct bench b = { 0 };
	double fast, row, base;
	size_t i, j, ndev;
	int ret = 1;

	if (p2pdma_ctx_create(&ctx))
		return 1;
	if (p2pdma_topo_synth(ctx, spec, &topo) ||
	    p2pdma_policy_create(ctx, &pol) ||
	    p2pdma_router_create(ctx, topo, pol, &r)) {
		fprintf(stderr, "bench-matrix: %s\n", p2pdma_ctx_error(ctx));
		goto out;
	}
	prof = p2pdma_policy_profile(pol);
	if (prof->hb_era != P2PDMA_HB_TABLE || prof->hb_dist_penalty) {
		fprintf(stderr, "bench-matrix: the baseline models the map-type era only\n");
		goto out;
	}
	ndev = p2pdma_topo_num_devs(topo);
	b.eps = calloc(ndev, sizeof(*b.eps));
	b.types = calloc(ndev, 1);
	b.dists = calloc(ndev, sizeof(*b.dists));
	if (!b.eps || !b.types || !b.dists)
		goto out;
	for (i = 0; i < ndev; i++) {
		const struct p2pdma_dev *d = p2pdma_topo_dev(topo, i);

		if (!p2pdma_dev_is_bridge(d))
			b.eps[b.n++] = d;
	}
	b.r = r;
	b.pol = pol;

	/* Agreement on every ordered pair, map type and distance, for the
	 * single-pair call, the row call and the baseline. */
	for (i = 0; i < b.n; i++) {
		p2pdma_router_map_type_row(r, b.eps[i], b.eps, b.n, b.types, b.dists);
		for (j = 0; j < b.n; j++) {
			int df, db;
			enum p2pdma_map_type tf, tb;

			tf = p2pdma_router_map_type(r, b.eps[i], b.eps[j], &df);
			tb = baseline_calc(pol, b.eps[i], b.eps[j], &db);
			counts[tf < 5 ? tf : 0]++;
			if (tf != tb || df != db || b.types[j] != tf ||
			    b.dists[j] != df) {
				if (bad++ < 5)
					fprintf(stderr,
						"MISMATCH %s -> %s: fast %s/%d row %s/%d baseline %s/%d\n",
						p2pdma_dev_name(b.eps[i]),
						p2pdma_dev_name(b.eps[j]),
						p2pdma_map_type_name(tf), df,
						p2pdma_map_type_name(b.types[j]),
						b.dists[j],
						p2pdma_map_type_name(tb), db);
			}
		}
	}
	printf("fabric: %s\n", spec);
	printf("functions: %zu, non-bridge: %zu, host bridges: %zu, pairs: %zu\n",
	       ndev, b.n, p2pdma_topo_num_host_bridges(topo), b.n * b.n);
	printf("verdicts: BUS_ADDR %llu, THRU_HOST_BRIDGE %llu, NOT_SUPPORTED %llu\n",
	       (unsigned long long)counts[P2PDMA_MAP_BUS_ADDR],
	       (unsigned long long)counts[P2PDMA_MAP_THRU_HOST_BRIDGE],
	       (unsigned long long)counts[P2PDMA_MAP_NOT_SUPPORTED]);
	if (bad) {
		printf("FAIL: %llu pairs disagree\n", (unsigned long long)bad);
		goto out;
	}
	printf("agreement: all %zu pairs identical (map type and distance)\n",
	       b.n * b.n);

	fast = measure(&b, pass_fast, &sum_fast);
	row = measure(&b, pass_row, &sum_row);
	base = measure(&b, pass_baseline, &sum_base);
	printf("fast path, per pair (p2pdma_map_type_of): %.1f M verdicts/s\n",
	       fast / 1e6);
	printf("fast path, per row (p2pdma_map_type_row): %.1f M verdicts/s\n",
	       row / 1e6);
	printf("baseline (nested upstream walk): %.1f M verdicts/s\n", base / 1e6);
	printf("speedup: per pair %.1fx, per row %.1fx\n", fast / base,
	       row / base);
	printf("checksums: %llx %llx %llx\n", (unsigned long long)sum_fast,
	       (unsigned long long)sum_row, (unsigned long long)sum_base);
	ret = 0;
out:
	free(b.eps);
	free(b.types);
	free(b.dists);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	return ret;
}
