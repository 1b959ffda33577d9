// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-kernel.c - the modelled running kernel: cache, distance_many, find_many, providers, state (doc/kernel-model.md §1.4, §1.5, §2.3, §2.5, §2.6) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fabric.h"
#include "kernel-private.h"


#define dev(t, bdf) fabric_dev((t), (bdf))

/* The fabric with memory BARs on P, S, X and the PF (for providers). */
static struct p2pdma_topo *build(void)
{
	struct p2pdma_topo *t = fabric_build(test_ctx, 0x1237, 0x1000);
	static const char *const mem[] = { "03:00.0", "08:00.0", "10:00.0", "10:00.1" };
	size_t i;

	for (i = 0; i < 4; i++) {
		struct p2pdma_dev *d = dev(t, mem[i]);

		d->bars[0].cpu = 0xf0000000ULL + (i << 24);
		d->bars[0].bus = d->bars[0].cpu + (i == 3 ? 0x100000000ULL : 0);
		d->bars[0].size = 1 << 22;
		d->bars[0].flags = P2PDMA_BAR_MEM | P2PDMA_BAR_64;
		/* BAR 2 is I/O space: never a provider. */
		d->bars[2].cpu = d->bars[2].bus = 0x1000 + i * 0x100;
		d->bars[2].size = 0x100;
		d->bars[2].flags = P2PDMA_BAR_IO;
	}
	return t;
}

static struct p2pdma_kernel *boot(const struct p2pdma_topo *t, const char *cpu)
{
	struct p2pdma_policy *pol = fabric_policy(test_ctx, cpu);
	struct p2pdma_kernel *k;

	assert_int_equal(p2pdma_kernel_boot(test_ctx, t, pol, &k), 0);
	p2pdma_policy_destroy(pol);
	return k;
}

static size_t count_log(const struct p2pdma_kernel *k, const char *text)
{
	size_t i, n = 0;

	for (i = 0; i < p2pdma_kernel_log_count(k); i++)
		n += strstr(p2pdma_kernel_log_entry(k, i, NULL, NULL), text) != NULL;
	return n;
}

/* --- §2.5 / §2.6, §B6, §B7, §B8: the map-type cache --- */

static void test_cache(void **state)
{
	struct p2pdma_topo *t = build();
	struct p2pdma_kernel *k = boot(t, NULL);
	struct p2pdma_provider *prov, *xprov;
	struct p2pdma_verdict v;
	const struct p2pdma_dev *p, *s, *x, *pf, *vf;
	size_t before;

	(void)state;
	p = dev(t, "03:00.0");
	s = dev(t, "08:00.0");
	x = dev(t, "10:00.0");
	pf = dev(t, "10:00.1");
	vf = dev(t, "10:00.2");
	assert_int_equal(p2pdma_kernel_provider(k, p, 0, &prov), 0);
	assert_ptr_equal(p2pdma_provider_owner(prov), p2pdma_topo_find(p2pdma_kernel_topo(k), "03:00.0"));

	/* §2.5: a missing entry reads UNKNOWN. */
	assert_int_equal(p2pdma_kernel_cache_lookup(k, p, s), P2PDMA_MAP_UNKNOWN);
	/* §2.6: miss -> verbose calculation, stored. */
	assert_int_equal(p2pdma_kernel_map_type(k, prov, s, &v), P2PDMA_MAP_BUS_ADDR);
	assert_false(v.cached);
	assert_int_equal(p2pdma_kernel_cache_lookup(k, p, s), P2PDMA_MAP_BUS_ADDR);
	/* §B6: an ACS change afterwards (setpci) is not seen by map_type... */
	assert_int_equal(p2pdma_kernel_write_acs_ctrl(k, dev(t, "02:00.0"), RR_CR), 0);
	assert_int_equal(p2pdma_kernel_map_type(k, prov, s, &v), P2PDMA_MAP_BUS_ADDR);
	assert_true(v.cached);
	assert_int_equal(v.ndmesg, 0);
	/* ... while the pure router sees the new register at once ... */
	assert_int_equal(p2pdma_router_map_type(p2pdma_kernel_router(k), p, s, NULL),
			 P2PDMA_MAP_NOT_SUPPORTED);
	/* ... and a distance query recalculates and overwrites (xa_store). */
	assert_int_equal(p2pdma_kernel_distance_many(k, p, &s, 1, false, NULL, NULL), -EREMOTEIO);
	assert_int_equal(p2pdma_kernel_cache_lookup(k, p, s), P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(p2pdma_kernel_map_type(k, prov, s, &v), P2PDMA_MAP_NOT_SUPPORTED);
	assert_true(v.cached);

	/* §B8: the key is the VF's own BDF, not its PF's. */
	assert_int_equal(p2pdma_cache_key(vf), 0x1002);
	assert_int_equal(p2pdma_cache_key(pf), 0x1001);
	assert_int_equal(p2pdma_cache_key(dev(t, "0001:01:00.0")), 0x10100);
	p2pdma_kernel_distance_many(k, p, &vf, 1, false, NULL, NULL);
	assert_int_equal(p2pdma_kernel_cache_lookup(k, p, pf), P2PDMA_MAP_UNKNOWN);
	assert_int_equal(p2pdma_kernel_cache_lookup(k, p, vf), P2PDMA_MAP_NOT_SUPPORTED);

	/* §2.2 "if provider->p2pdma": no P2PDMA state, no cache. */
	p2pdma_kernel_distance_many(k, x, &pf, 1, false, NULL, NULL);
	assert_int_equal(p2pdma_kernel_cache_lookup(k, x, pf), P2PDMA_MAP_UNKNOWN);
	/* A provider needs pcim_p2pdma_init(), which needs a bound driver. */
	assert_int_equal(p2pdma_kernel_provider(k, x, 0, &xprov), -ENODEV);
	assert_int_equal(count_log(k, "pcim_p2pdma_provider() without pcim_p2pdma_init()"), 1);
	assert_int_equal(p2pdma_kernel_p2pdma_init(k, x), -ENODEV);
	assert_int_equal(p2pdma_kernel_bind(k, x, "vfio-pci"), 0);
	assert_int_equal(p2pdma_kernel_bind(k, x, "other"), -EBUSY);
	assert_int_equal(p2pdma_kernel_p2pdma_init(k, x), 0);
	assert_int_equal(p2pdma_kernel_p2pdma_init(k, x), 0);	/* idempotent */
	assert_int_equal(p2pdma_kernel_provider(k, x, 2, &xprov), -EINVAL);	/* I/O BAR */
	assert_int_equal(p2pdma_kernel_provider(k, x, 1, &xprov), -EINVAL);	/* no BAR */
	assert_int_equal(p2pdma_kernel_provider(k, x, 0, &xprov), 0);
	assert_int_equal(p2pdma_provider_bus_offset(xprov), 0);
	p2pdma_kernel_map_type(k, xprov, pf, &v);
	assert_int_equal(p2pdma_kernel_cache_lookup(k, x, pf), P2PDMA_MAP_BUS_ADDR);
	/* A first evaluation prints; a cached one never does (§B6). */
	before = p2pdma_kernel_log_count(k);
	p2pdma_kernel_map_type(k, xprov, pf, &v);
	assert_int_equal(p2pdma_kernel_log_count(k), before);

	/* §B7: map_type does not walk to a PCI parent. */
	assert_int_equal(p2pdma_kernel_map_type(k, prov, NULL, &v), P2PDMA_MAP_NOT_SUPPORTED);

	/* Unbind: the state, its providers and its cache go with the binding. */
	assert_int_equal(p2pdma_kernel_unbind(k, x), 0);
	assert_false(p2pdma_kernel_has_p2pdma(k, x));
	assert_false(p2pdma_provider_live(xprov));
	assert_int_equal(p2pdma_kernel_cache_lookup(k, x, pf), P2PDMA_MAP_UNKNOWN);
	/* A stale provider is refused and reported, never silently used. */
	before = count_log(k, "stale");
	assert_int_equal(p2pdma_kernel_map_type(k, xprov, pf, &v), P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(count_log(k, "stale"), before + 1);
	assert_int_equal(p2pdma_kernel_unbind(k, x), -ENODEV);
	/* Rebinding starts a fresh cache. */
	assert_int_equal(p2pdma_kernel_bind(k, x, "vfio-pci"), 0);
	assert_int_equal(p2pdma_kernel_p2pdma_init(k, x), 0);
	assert_int_equal(p2pdma_kernel_provider(k, x, 0, &xprov), 0);
	assert_true(p2pdma_provider_live(xprov));
	assert_int_equal(p2pdma_kernel_cache_lookup(k, x, pf), P2PDMA_MAP_UNKNOWN);

	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* The kernel's hardware: a copy, never the caller's topology. */
static void test_generations(void **state)
{
	struct p2pdma_topo *t = build();
	struct p2pdma_kernel *k = boot(t, NULL);
	const struct p2pdma_topo *g0 = p2pdma_kernel_topo(k);
	const struct p2pdma_dev *p = dev(t, "03:00.0"), *s = dev(t, "08:00.0");
	struct p2pdma_dev_info in;

	(void)state;
	assert_ptr_not_equal(g0, t);
	assert_true(p2pdma_topo_sealed(g0));
	assert_int_equal(p2pdma_kernel_write_acs_ctrl(k, dev(t, "02:02.0"), 0xffff), 0);
	/* A new generation: the old one stays valid and unchanged. */
	assert_ptr_not_equal(p2pdma_kernel_topo(k), g0);
	p2pdma_dev_get_info(p2pdma_topo_find(g0, "02:02.0"), &in, sizeof(in));
	assert_int_equal(in.acs_ctrl, 0);
	p2pdma_dev_get_info(p2pdma_topo_find(p2pdma_kernel_topo(k), "02:02.0"), &in, sizeof(in));
	assert_int_equal(in.acs_ctrl, ACS_CAP);	/* unimplemented bits read 0 */
	assert_int_equal(dev(t, "02:02.0")->acs_ctrl, 0);	/* caller's untouched */
	assert_int_equal(p2pdma_router_map_type(p2pdma_kernel_router(k), p, s, NULL),
			 P2PDMA_MAP_NOT_SUPPORTED);
	/* No ACS capability: nothing to write. */
	assert_int_equal(p2pdma_kernel_write_acs_ctrl(k, dev(t, "10:00.0"), 0), -ENODEV);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* --- §2.3: distance_many --- */

static void test_distance_many(void **state)
{
	struct p2pdma_topo *t = build();
	struct p2pdma_kernel *k = boot(t, NULL);
	struct p2pdma_verdict *v[3];
	const struct p2pdma_dev *p, *cl[3];
	int d = -7, i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(p2pdma_verdict_create(&v[i]), 0);
	p = dev(t, "03:00.0");
	cl[0] = dev(t, "08:00.0");	/* BUS_ADDR, 4 */
	cl[1] = dev(t, "10:00.0");	/* NOT_SUPPORTED (other root port) */
	cl[2] = dev(t, "06:00.0");	/* BUS_ADDR, 6 */

	assert_int_equal(p2pdma_kernel_distance_many(k, p, cl, 0, true, NULL, &d), -EINVAL);
	/* the sum */
	{
		const struct p2pdma_dev *ok[2] = { cl[0], cl[2] };

		assert_int_equal(p2pdma_kernel_distance_many(k, p, ok, 2, false, v, &d), 0);
		assert_int_equal(d, 10);
	}
	/* non-verbose stops at the first failure */
	assert_int_equal(p2pdma_kernel_distance_many(k, p, cl, 3, false, v, &d), -EREMOTEIO);
	assert_int_equal(p2pdma_verdict_map_type(v[1]), P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(p2pdma_verdict_map_type(v[2]), P2PDMA_MAP_UNKNOWN);
	/* verbose evaluates every client and prints every warning */
	assert_int_equal(p2pdma_kernel_distance_many(k, p, cl, 3, true, v, &d), -EREMOTEIO);
	assert_int_equal(p2pdma_verdict_num_dmesg(v[1]), 1);
	assert_int_equal(p2pdma_verdict_map_type(v[2]), P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(p2pdma_verdict_distance(v[2]), 6);
	assert_int_equal(count_log(k, "do not share an upstream bridge or whitelisted host bridge"), 1);
	/* a client without a PCI parent fails the whole query (§2.3) */
	{
		const struct p2pdma_dev *np[2] = { cl[0], NULL };

		assert_int_equal(p2pdma_kernel_distance_many(k, p, np, 2, true, v, &d), -ENODEV);
	}
	for (i = 0; i < 3; i++)
		p2pdma_verdict_destroy(v[i]);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* --- §1.5: find_many --- */

static void test_find_many(void **state)
{
	struct p2pdma_topo *t = build();
	struct p2pdma_kernel *k = boot(t, NULL);
	struct p2pdma_find_result *res;
	const struct p2pdma_dev *c, *s, *x, *pick;
	unsigned int counts[3] = { 0 };
	uint64_t seed;

	(void)state;
	assert_int_equal(p2pdma_find_result_create(&res), 0);
	c = dev(t, "06:00.0");
	s = dev(t, "08:00.0");
	x = dev(t, "10:00.0");

	/* Published: 03:00.0, 03:00.1, 08:00.0, all at distance 6 from C. */
	p2pdma_kernel_set_seed(k, 42);
	assert_int_equal(p2pdma_kernel_find_many(k, &c, 1, res, &pick), 0);
	assert_int_equal(p2pdma_find_result_distance(res), 6);
	assert_int_equal(p2pdma_find_result_num_candidates(res), 3);
	assert_string_equal(p2pdma_dev_name(p2pdma_find_result_candidate(res, 0)), "0000:03:00.0");
	assert_string_equal(p2pdma_dev_name(p2pdma_find_result_candidate(res, 1)), "0000:03:00.1");
	assert_string_equal(p2pdma_dev_name(p2pdma_find_result_candidate(res, 2)), "0000:08:00.0");
	/* The draw: splitmix64 from the seed + Lemire reduction, exactly. */
	assert_int_equal(p2pdma_find_result_draw(res), 2);
	assert_string_equal(p2pdma_dev_name(pick), "0000:08:00.0");
	p2pdma_kernel_set_seed(k, 1);
	assert_int_equal(p2pdma_kernel_find_many(k, &c, 1, res, &pick), 0);
	assert_string_equal(p2pdma_dev_name(pick), "0000:03:00.1");
	/* Uniform over the tie set, and the random state advances. */
	for (seed = 0; seed < 3000; seed++) {
		p2pdma_kernel_find_many(k, &c, 1, res, &pick);
		counts[p2pdma_find_result_draw(res)]++;
	}
	assert_in_range(counts[0], 900, 1100);
	assert_in_range(counts[1], 900, 1100);
	assert_in_range(counts[2], 900, 1100);
	/* the minimal set only: S itself is at distance 0 from S */
	assert_int_equal(p2pdma_kernel_find_many(k, &s, 1, res, &pick), 0);
	assert_int_equal(p2pdma_find_result_num_candidates(res), 1);
	assert_string_equal(p2pdma_dev_name(pick), "0000:08:00.0");
	assert_int_equal(p2pdma_find_result_distance(res), 0);
	/* none reachable (X's host bridge path is refused): NULL */
	assert_int_equal(p2pdma_kernel_find_many(k, &x, 1, res, &pick), -ENODEV);
	assert_null(pick);
	/* n == 0: distance_many fails for everyone */
	assert_int_equal(p2pdma_kernel_find_many(k, &x, 0, NULL, &pick), -ENODEV);
	/* a provider registered and published at run time joins; distance 2 */
	assert_int_equal(p2pdma_kernel_bind(k, dev(t, "10:00.1"), "nvme"), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, dev(t, "10:00.1"), 0, 0, 0), 0);
	assert_false(p2pdma_kernel_has_p2pmem(k, dev(t, "10:00.1")));	/* not yet published */
	p2pdma_kernel_publish(k, dev(t, "10:00.1"), true);
	assert_int_equal(p2pdma_kernel_find_many(k, &x, 1, res, &pick), 0);
	assert_string_equal(p2pdma_dev_name(pick), "0000:10:00.1");
	assert_int_equal(p2pdma_find_result_distance(res), 2);
	/* find_many filled the caches silently (§B6) */
	assert_int_equal(p2pdma_kernel_cache_lookup(k, dev(t, "03:00.0"), x),
			 P2PDMA_MAP_NOT_SUPPORTED);
	p2pdma_find_result_destroy(res);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* --- §1.5: pci_p2pdma_add_resource() checks, in the kernel's order --- */

static void test_add_resource(void **state)
{
	struct p2pdma_topo *t = build();
	struct p2pdma_kernel *k = boot(t, NULL);
	const struct p2pdma_dev *x = dev(t, "10:00.0");
	uint64_t avail;

	(void)state;
	assert_int_equal(p2pdma_kernel_add_resource(k, x, 0, 0, 0), -ENODEV);	/* unbound */
	assert_int_equal(p2pdma_kernel_bind(k, x, "nvme"), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, x, 2, 0, 0), -EINVAL);	/* I/O */
	assert_int_equal(p2pdma_kernel_add_resource(k, x, 6, 0, 0), -EINVAL);
	assert_int_equal(p2pdma_kernel_add_resource(k, x, 0, 0, 1 << 22), -EINVAL);	/* offset */
	assert_int_equal(p2pdma_kernel_add_resource(k, x, 0, (1 << 22) + 1, 0), -EINVAL);
	assert_int_equal(p2pdma_kernel_add_resource(k, x, 0, 1 << 21, 1 << 21), 0);
	assert_int_equal(p2pdma_kernel_p2pmem_size(k, x, &avail), 1 << 21);
	assert_int_equal(avail, 1 << 21);
	assert_int_equal(count_log(k, "nvme 0000:10:00.0: added peer-to-peer DMA memory 0xf2200000-0xf23fffff"), 1);
	/* The capture's pools are adopted at boot with their figures. */
	assert_int_equal(p2pdma_kernel_p2pmem_size(k, dev(t, "03:00.0"), &avail), 1 << 20);
	assert_true(p2pdma_kernel_has_p2pmem(k, dev(t, "03:00.0")));
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* Functions of another lineage are refused with -EINVAL. */
static void test_foreign(void **state)
{
	struct p2pdma_topo *t = build(), *u = build();
	struct p2pdma_kernel *k = boot(t, NULL);

	(void)state;
	assert_int_equal(p2pdma_kernel_bind(k, dev(u, "10:00.0"), "x"), -EINVAL);
	assert_int_equal(p2pdma_router_map_type(p2pdma_kernel_router(k), dev(u, "03:00.0"),
						dev(t, "08:00.0"), NULL), P2PDMA_MAP_UNKNOWN);
	/* The kernel's own functions and the caller's map to each other. */
	assert_int_equal(p2pdma_kernel_bind(k, p2pdma_topo_find(p2pdma_kernel_topo(k), "10:00.0"), "x"), 0);
	assert_string_equal(p2pdma_kernel_driver(k, dev(t, "10:00.0")), "x");
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
	p2pdma_topo_destroy(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_generations),
		cmocka_unit_test(test_distance_many),
		cmocka_unit_test(test_find_many),
		cmocka_unit_test(test_add_resource),
		cmocka_unit_test(test_foreign),
	};

	return cmocka_run_group_tests(tests, fixture_ctx_setup, fixture_ctx_teardown);
}
