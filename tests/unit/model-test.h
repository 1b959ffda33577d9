/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model-test.h - what the tests of the model layers (DMA, dma-buf, VFIO)
 * share: a bundled machine booted as a modelled kernel, its functions and
 * BARs by address, a count of its log lines, a bound provider. Include it
 * after <cmocka.h>, "fixtures.h" and the layer's private header, and run the
 * tests with model_setup() and model_teardown() (they make and free @ctx).
 */
#ifndef P2PDMA_TEST_MODEL_TEST_H
#define P2PDMA_TEST_MODEL_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dma-private.h"

static struct p2pdma_ctx *ctx;

/* cmocka group setup and teardown: the context every test uses. */
static inline int model_setup(void **state)
{
	(void)state;
	ctx = fixture_ctx();
	return 0;
}

static inline int model_teardown(void **state)
{
	(void)state;
	p2pdma_ctx_destroy(ctx);
	return 0;
}

/* A bundled machine booted under @release, with @def as default domain
 * (-1: the machine's own). */
static inline struct p2pdma_kernel *boot(const char *example, const char *release, int def)
{
	struct p2pdma_topo *t;
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;

	assert_int_equal(p2pdma_topo_load_example(ctx, example, &t), 0);
	assert_int_equal(p2pdma_policy_from_machine(ctx, t, &pol), 0);
	assert_int_equal(p2pdma_policy_set_kernel(pol, release), 0);
	assert_int_equal(p2pdma_kernel_boot(ctx, t, pol, &k), 0);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
	if (def >= 0)
		assert_int_equal(p2pdma_dma_set_default_domain(k, (enum p2pdma_domain_type)def), 0);
	return k;
}

/* The function at @bdf of @k's machine; it must exist. */
static inline const struct p2pdma_dev *dev(struct p2pdma_kernel *k, const char *bdf)
{
	const struct p2pdma_dev *d = p2pdma_topo_find(p2pdma_kernel_topo(k), bdf);

	assert_non_null(d);
	return d;
}

/* The CPU address of BAR @b of @bdf. */
static inline uint64_t bar(struct p2pdma_kernel *k, const char *bdf, int b)
{
	return dev(k, bdf)->bars[b].cpu;
}

/* How many of @k's log lines contain @text. */
static inline size_t log_has(struct p2pdma_kernel *k, const char *text)
{
	size_t i, n = 0;

	for (i = 0; i < p2pdma_kernel_log_count(k); i++)
		n += strstr(p2pdma_kernel_log_entry(k, i, NULL, NULL), text) != NULL;
	return n;
}

/* BAR @b of @bdf as a P2PDMA provider (bound to a driver first if none). */
static inline struct p2pdma_provider *provider(struct p2pdma_kernel *k, const char *bdf, int b)
{
	struct p2pdma_provider *p;
	const struct p2pdma_dev *d = dev(k, bdf);

	if (!p2pdma_kernel_driver(k, d))
		assert_int_equal(p2pdma_kernel_bind(k, d, "test"), 0);
	assert_int_equal(p2pdma_kernel_p2pdma_init(k, d), 0);
	assert_int_equal(p2pdma_kernel_provider(k, d, b, &p), 0);
	return p;
}

/*
 * Fail each allocation site of @scenario in turn ("fault.alloc" = n), each
 * time on a fresh kernel from @fresh: the failure must be an error, never a
 * crash or a leak (ASan), and with injection off the scenario then succeeds
 * on the same kernel and @after (may be NULL) holds. Returns the number of
 * sites, which must be more than ten.
 */
static inline unsigned long alloc_fault_sweep(struct p2pdma_kernel *(*fresh)(void),
					      int (*scenario)(struct p2pdma_kernel *),
					      void (*after)(struct p2pdma_kernel *))
{
	struct p2pdma_kernel *k = fresh();
	unsigned long calls, n;
	char num[32];

	/* Count the sites on a fresh kernel, then fail each in turn. */
	p2pdma_ctx_set_param(ctx, "fault.alloc", "0");
	assert_int_equal(scenario(k), 0);
	calls = p2pdma_alloc_calls(ctx);
	p2pdma_kernel_shutdown(k);
	assert_true(calls > 10);
	for (n = 1; n <= calls; n++) {
		k = fresh();
		snprintf(num, sizeof(num), "%lu", n);
		p2pdma_ctx_set_param(ctx, "fault.alloc", num);
		(void)scenario(k);
		p2pdma_ctx_set_param(ctx, "fault.alloc", "0");
		/* After the failure the layer works again. */
		assert_int_equal(scenario(k), 0);
		if (after)
			after(k);
		p2pdma_kernel_shutdown(k);
	}
	print_message("# %lu allocation sites failed in turn\n", calls);
	return calls;
}

#endif
