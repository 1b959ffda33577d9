// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-threads.c - one router, many threads: the pure verdict needs no lock (run under TSan too) */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

#define NTHREADS 4
#define ROUNDS 20

struct job {
	const struct p2pdma_router *r;
	const struct p2pdma_topo *t;
	const uint8_t *want;		/* n*n map types */
	const int *want_dist;
	size_t n;
	unsigned int seed;
	size_t mismatches;
};

/* Every pair, in a different order per thread, explained and fast. */
static void *worker(void *arg)
{
	struct job *j = arg;
	struct p2pdma_verdict *v;
	size_t round, k;

	if (p2pdma_verdict_create(&v))
		return NULL;
	for (round = 0; round < ROUNDS; round++) {
		for (k = 0; k < j->n * j->n; k++) {
			size_t idx = (k * 7919 + j->seed * 104729 + round) % (j->n * j->n);
			const struct p2pdma_dev *p = p2pdma_topo_dev(j->t, idx / j->n);
			const struct p2pdma_dev *c = p2pdma_topo_dev(j->t, idx % j->n);
			int d;

			if (p2pdma_router_calc(j->r, p, c, true, v) != j->want[idx] ||
			    p2pdma_verdict_distance(v) != j->want_dist[idx])
				j->mismatches++;
			if (p2pdma_router_map_type(j->r, p, c, &d) != j->want[idx] ||
			    d != j->want_dist[idx])
				j->mismatches++;
		}
	}
	p2pdma_verdict_destroy(v);
	return NULL;
}

static void run(const char *example)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t;
	struct p2pdma_policy *pol;
	struct p2pdma_router *r;
	struct job jobs[NTHREADS];
	pthread_t th[NTHREADS];
	uint8_t *want;
	int *dist;
	size_t n, i;

	assert_int_equal(p2pdma_topo_load_example(ctx, example, &t), 0);
	assert_int_equal(p2pdma_policy_from_machine(ctx, t, &pol), 0);
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	/* The policy can go: the router keeps its own copy. */
	p2pdma_policy_destroy(pol);
	n = p2pdma_topo_num_devs(t);
	want = malloc(n * n);
	dist = malloc(n * n * sizeof(*dist));
	assert_non_null(want);
	assert_non_null(dist);
	for (i = 0; i < n * n; i++)
		want[i] = (uint8_t)p2pdma_router_map_type(r, p2pdma_topo_dev(t, i / n),
							  p2pdma_topo_dev(t, i % n), &dist[i]);
	for (i = 0; i < NTHREADS; i++) {
		jobs[i] = (struct job){ r, t, want, dist, n, (unsigned int)i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(jobs[i].mismatches, 0);
	}
	print_message("# %s: %d threads x %d rounds x %zu pairs agree\n", example,
		      NTHREADS, ROUNDS, n * n);
	free(want);
	free(dist);
	p2pdma_router_destroy(r);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

static void test_shared_router(void **state)
{
	(void)state;
	run("xeon-8gpu");
	run("epyc-2s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_router),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
