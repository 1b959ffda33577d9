// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-topo.c - the model core: hierarchy derivation and the invariant checker */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/*
 *  pci0000:00
 *   00:00.0 host bridge (hostdev)
 *   00:01.0 root port [01-03]
 *     01:00.0 switch upstream [02-03]
 *       02:00.0 downstream [03-03]
 *         03:00.0 endpoint PF (SR-IOV: 2 VFs at 03:00.2, 03:00.3)
 *         03:00.1 endpoint
 *   00:02.0 RCiEP
 *  pci0000:40 (second root bus, first function is a plain endpoint at 40:01.0)
 */
static struct p2pdma_topo *build(struct p2pdma_ctx *ctx)
{
	struct p2pdma_topo *t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_SYNTH, "t");
	struct p2pdma_dev *d;

	assert_non_null(t);
	d = fixture_endpoint(t, 0, 0, 0, 0, P2PDMA_PCIE_NONE);
	d->class_code = 0x060000;
	fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 1, 3);
	fixture_bridge(t, 0, 1, 0, 0, P2PDMA_PCIE_UPSTREAM, 2, 3);
	fixture_bridge(t, 0, 2, 0, 0, P2PDMA_PCIE_DOWNSTREAM, 3, 3);
	d = fixture_endpoint(t, 0, 3, 0, 0, P2PDMA_PCIE_ENDPOINT);
	d->multifunction = true;
	d->has_sriov = true;
	d->sriov_total = 4;
	d->sriov_num = 2;
	d->sriov_offset = 2;
	d->sriov_stride = 1;
	d->sriov_vf_device = 0x2331;
	fixture_endpoint(t, 0, 3, 0, 1, P2PDMA_PCIE_ENDPOINT);
	d = fixture_endpoint(t, 0, 3, 0, 2, P2PDMA_PCIE_ENDPOINT);
	d->vendor = d->device = 0xffff;	/* as a VF's config space reads */
	fixture_endpoint(t, 0, 3, 0, 3, P2PDMA_PCIE_ENDPOINT);
	fixture_endpoint(t, 0, 0, 2, 0, P2PDMA_PCIE_RC_ENDPOINT);
	fixture_endpoint(t, 0, 0x40, 1, 0, P2PDMA_PCIE_ENDPOINT);
	return t;
}

static void test_hierarchy(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = build(ctx);
	struct p2pdma_dev *rp, *up, *dn, *pf, *vf, *vf2, *rciep, *other;
	struct p2pdma_host_bridge_info hi;

	(void)state;
	assert_int_equal(p2pdma_topo_finalize(t, "t"), 0);
	rp = p2pdma_topo_find(t, "0000:00:01.0");
	up = p2pdma_topo_find(t, "01:00.0");
	dn = p2pdma_topo_find(t, "0000:02:00.0");
	pf = p2pdma_topo_find(t, "0000:03:00.0");
	vf = p2pdma_topo_find(t, "0000:03:00.2");
	vf2 = p2pdma_topo_find(t, "0000:03:00.3");
	rciep = p2pdma_topo_find(t, "0000:00:02.0");
	other = p2pdma_topo_find(t, "0000:40:01.0");
	assert_non_null(rp);
	assert_non_null(vf2);
	assert_null(p2pdma_topo_find(t, "0000:03:00.4"));
	assert_null(p2pdma_topo_find(t, "garbage"));

	/* doc/kernel-model.md §2.1: root ports and RCiEPs have no upstream bridge */
	assert_null(rp->upstream);
	assert_null(rciep->upstream);
	assert_ptr_equal(up->upstream, rp);
	assert_ptr_equal(dn->upstream, up);
	assert_ptr_equal(pf->upstream, dn);
	/* doc/kernel-model.md §2.1 / §B8: VF upstream = PF upstream */
	assert_true(vf->is_vf);
	assert_ptr_equal(vf->physfn, pf);
	assert_ptr_equal(vf->upstream, dn);
	assert_int_equal(vf->vendor, pf->vendor);
	assert_int_equal(vf->device, 0x2331);
	assert_false(p2pdma_topo_find(t, "0000:03:00.1")->is_vf);
	assert_int_equal(pf->depth, 3);

	/* two root buses, two host bridges */
	assert_int_equal(p2pdma_topo_num_host_bridges(t), 2);
	assert_ptr_equal(pf->hb, rp->hb);
	assert_ptr_not_equal(other->hb, rp->hb);
	p2pdma_host_bridge_get_info(rp->hb, &hi);
	assert_string_equal(hi.name, "pci0000:00");
	assert_int_equal(hi.bus_end, 3);
	/* doc/kernel-model.md §2.1: host device = first function if 00.0 or a Root Port */
	assert_ptr_equal(hi.hostdev, p2pdma_topo_find(t, "0000:00:00.0"));
	p2pdma_host_bridge_get_info(other->hb, &hi);
	assert_null(hi.hostdev);

	fixture_assert_invariants(t);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

/* A root bus whose first function is a Root Port at 00:1c.0 qualifies. */
static void test_hostdev_root_port(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_SYNTH, "t");
	struct p2pdma_host_bridge_info hi;

	(void)state;
	fixture_bridge(t, 0, 0, 0x1c, 0, P2PDMA_PCIE_ROOT_PORT, 1, 1);
	fixture_endpoint(t, 0, 0, 0x1f, 0, P2PDMA_PCIE_NONE);
	fixture_endpoint(t, 0, 1, 0, 0, P2PDMA_PCIE_ENDPOINT);
	assert_int_equal(p2pdma_topo_finalize(t, "t"), 0);
	p2pdma_host_bridge_get_info(p2pdma_topo_host_bridge(t, 0), &hi);
	assert_non_null(hi.hostdev);
	assert_string_equal(p2pdma_dev_name(hi.hostdev), "0000:00:1c.0");
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

static void expect_invalid(struct p2pdma_ctx *ctx, struct p2pdma_topo *t,
			   const char *substring)
{
	assert_int_equal(p2pdma_topo_finalize(t, "bad.json"), -EINVAL);
	if (!strstr(p2pdma_ctx_error(ctx), substring))
		print_error("message '%s' lacks '%s'\n", p2pdma_ctx_error(ctx),
			    substring);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), substring));
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "bad.json"));
	p2pdma_topo_destroy(t);
}

static void test_invariants(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t;
	struct p2pdma_dev *d;

	(void)state;
	/* duplicate */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	fixture_endpoint(t, 0, 0, 1, 0, P2PDMA_PCIE_ENDPOINT);
	fixture_endpoint(t, 0, 0, 1, 0, P2PDMA_PCIE_ENDPOINT);
	expect_invalid(ctx, t, "duplicate function 0000:00:01.0");

	/* cycle: 01:00.0 -> bus 2, 02:00.0 -> bus 1 */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	fixture_bridge(t, 0, 1, 0, 0, P2PDMA_PCIE_DOWNSTREAM, 2, 2);
	fixture_bridge(t, 0, 2, 0, 0, P2PDMA_PCIE_DOWNSTREAM, 1, 1);
	expect_invalid(ctx, t, "cycle");

	/* two bridges claim bus 1 */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 1, 1);
	fixture_bridge(t, 0, 0, 2, 0, P2PDMA_PCIE_ROOT_PORT, 1, 2);
	expect_invalid(ctx, t, "both claim secondary bus 01");

	/* overlapping sibling ranges */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 1, 4);
	fixture_bridge(t, 0, 0, 2, 0, P2PDMA_PCIE_ROOT_PORT, 3, 5);
	expect_invalid(ctx, t, "overlapping bus ranges");

	/* child range outside parent */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 1, 2);
	fixture_bridge(t, 0, 1, 0, 0, P2PDMA_PCIE_UPSTREAM, 2, 7);
	expect_invalid(ctx, t, "is not inside");

	/* device on a bus inside a range with no bridge for it */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 1, 4);
	fixture_endpoint(t, 0, 3, 0, 0, P2PDMA_PCIE_ENDPOINT);
	expect_invalid(ctx, t, "no bridge below it");

	/* BAR outside the bridge windows: fatal for a description file */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	d = fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 1, 1);
	d->win[P2PDMA_WIN_MEM] = (struct p2pdma_window){ 0xf0000000, 0xf0ffffff, true };
	d = fixture_endpoint(t, 0, 1, 0, 0, P2PDMA_PCIE_ENDPOINT);
	d->bars[0] = (struct p2pdma_bar){ 0xf1000000, 0xf1000000, 0x1000, P2PDMA_BAR_MEM };
	expect_invalid(ctx, t, "BAR 0");

	/* ... but only logged for hardware, which is the truth */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_DUMP, "t");
	d = fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 1, 1);
	d->win[P2PDMA_WIN_MEM] = (struct p2pdma_window){ 0xf0000000, 0xf0ffffff, true };
	d = fixture_endpoint(t, 0, 1, 0, 0, P2PDMA_PCIE_ENDPOINT);
	d->bars[0] = (struct p2pdma_bar){ 0xf1000000, 0xf1000000, 0x1000, P2PDMA_BAR_MEM };
	assert_int_equal(p2pdma_topo_finalize(t, "t"), 0);
	p2pdma_topo_destroy(t);

	/* a BAR running past 2^64, by bus or by CPU address, on every source */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_DUMP, "t");
	d = fixture_endpoint(t, 0, 0, 1, 0, P2PDMA_PCIE_ENDPOINT);
	d->bars[0] = (struct p2pdma_bar){ 0xfffffffffffff000ull, 0xfffffffffffff000ull,
		0x10000, P2PDMA_BAR_MEM | P2PDMA_BAR_64 };
	expect_invalid(ctx, t, "BAR 0 at bus address 0xfffffffffffff000 with size 0x10000 runs past 2^64");
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_SYSFS, "t");
	d = fixture_endpoint(t, 0, 0, 1, 0, P2PDMA_PCIE_ENDPOINT);
	d->bars[2] = (struct p2pdma_bar){ 0xffffffffff000000ull, 0x80000000, 0x2000000,
		P2PDMA_BAR_MEM | P2PDMA_BAR_64 };
	expect_invalid(ctx, t, "BAR 2 at CPU address 0xffffffffff000000");
	/* ... while one ending exactly at 2^64 - 1 is fine */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	d = fixture_endpoint(t, 0, 0, 1, 0, P2PDMA_PCIE_ENDPOINT);
	d->bars[0] = (struct p2pdma_bar){ 0xffffffffffff0000ull, 0xffffffffffff0000ull,
		0x10000, P2PDMA_BAR_MEM | P2PDMA_BAR_64 };
	assert_int_equal(p2pdma_topo_finalize(t, "t"), 0);
	p2pdma_topo_destroy(t);

	/* a 32-bit BAR (memory or I/O) cannot decode above 4 GiB */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	d = fixture_endpoint(t, 0, 0, 1, 0, P2PDMA_PCIE_ENDPOINT);
	d->bars[1] = (struct p2pdma_bar){ 0xfffff000, 0xfffff000, 0x2000, P2PDMA_BAR_MEM };
	expect_invalid(ctx, t, "BAR 1 is a 32-bit memory BAR but reaches bus address 0x100000fff");
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	d = fixture_endpoint(t, 0, 0, 1, 0, P2PDMA_PCIE_ENDPOINT);
	d->bars[4] = (struct p2pdma_bar){ 0x100000000ull, 0x100000000ull, 0x20, P2PDMA_BAR_IO };
	expect_invalid(ctx, t, "BAR 4 is a 32-bit I/O BAR");

	/* secondary bus 0 with a range: not "unconfigured", a bus above its own */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_DUMP, "t");
	fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 0, 5);
	expect_invalid(ctx, t, "bridge 0000:00:01.0 on bus 00 has secondary bus 00 (not below it) with subordinate 05");
	/* ... all zeros is an unconfigured bridge, which is fine */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_DUMP, "t");
	fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 0, 0);
	assert_int_equal(p2pdma_topo_finalize(t, "t"), 0);
	p2pdma_topo_destroy(t);
	/* own bus as secondary, and a secondary below the bridge's bus */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_DUMP, "t");
	fixture_bridge(t, 0, 4, 0, 0, P2PDMA_PCIE_ROOT_PORT, 4, 4);
	expect_invalid(ctx, t, "has its own bus 04 as secondary");
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_DUMP, "t");
	fixture_bridge(t, 0, 4, 0, 0, P2PDMA_PCIE_ROOT_PORT, 3, 3);
	expect_invalid(ctx, t, "on bus 04 has secondary bus 03 (not below it)");

	/* a prefetchable BAR may sit in the non-prefetchable window */
	t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "t");
	d = fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 1, 1);
	d->win[P2PDMA_WIN_MEM] = (struct p2pdma_window){ 0xf0000000, 0xf0ffffff, true };
	d = fixture_endpoint(t, 0, 1, 0, 0, P2PDMA_PCIE_ENDPOINT);
	d->bars[2] = (struct p2pdma_bar){ 0xf0100000, 0xf0100000, 0x100000,
		P2PDMA_BAR_MEM | P2PDMA_BAR_PREFETCH };
	assert_int_equal(p2pdma_topo_finalize(t, "t"), 0);
	p2pdma_topo_destroy(t);

	p2pdma_ctx_destroy(ctx);
}

static void test_compare_and_info(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *a = build(ctx), *b = build(ctx), *ca, *cb;
	struct p2pdma_dev_info info;
	char diff[256];

	(void)state;
	assert_int_equal(p2pdma_topo_finalize(a, "a"), 0);
	assert_int_equal(p2pdma_topo_finalize(b, "b"), 0);
	assert_int_equal(!p2pdma_topo_equal(a, b, P2PDMA_CMP_ALL, diff, sizeof(diff)), 0);
	fixture_acs(p2pdma_topo_find(b, "0000:02:00.0"), 0x1f, 0x1d);
	assert_int_equal(!p2pdma_topo_equal(a, b, P2PDMA_CMP_CONFIG, diff, sizeof(diff)), 1);
	assert_non_null(strstr(diff, "0000:02:00.0: acs_state"));
	/* OS facts are not config */
	assert_int_equal(!p2pdma_topo_equal(a, a, P2PDMA_CMP_CONFIG, diff, sizeof(diff)), 0);

	p2pdma_dev_get_info(p2pdma_topo_find(a, "0000:03:00.2"), &info, sizeof(info));
	assert_string_equal(info.bdf, "0000:03:00.2");
	assert_true(info.is_vf);
	assert_string_equal(p2pdma_dev_name(info.physfn), "0000:03:00.0");
	assert_string_equal(p2pdma_dev_name(info.upstream), "0000:02:00.0");
	/* Loaded topologies are sealed: a what-if changes a clone. */
	assert_true(p2pdma_topo_sealed(b));
	assert_int_equal(p2pdma_topo_set_acs_ctrl(p2pdma_topo_find(b, "0000:02:00.0"), 0), -EPERM);
	assert_int_equal(p2pdma_topo_clone(a, &ca), 0);
	assert_int_equal(p2pdma_topo_clone(b, &cb), 0);
	assert_false(p2pdma_topo_sealed(cb));
	assert_true(p2pdma_topo_equal(b, cb, P2PDMA_CMP_ALL, diff, sizeof(diff)));
	/* what-if ACS edit needs a known capability */
	assert_int_equal(p2pdma_topo_set_acs_ctrl(p2pdma_topo_find(ca, "0000:02:00.0"), 0), -ENODEV);
	assert_int_equal(p2pdma_topo_set_acs_ctrl(p2pdma_topo_find(cb, "0000:02:00.0"), 0), 0);
	assert_false(p2pdma_topo_equal(b, cb, P2PDMA_CMP_CONFIG, diff, sizeof(diff)));
	/* The clone's pointers are its own, and its functions map back by index. */
	assert_ptr_equal(p2pdma_topo_find(cb, "0000:03:00.2")->topo, cb);
	p2pdma_dev_get_info(p2pdma_topo_find(cb, "0000:03:00.2"), &info, sizeof(info));
	assert_ptr_equal(info.physfn, p2pdma_topo_find(cb, "0000:03:00.0"));
	assert_ptr_equal(p2pdma_topo_map_dev(b, p2pdma_topo_find(cb, "0000:03:00.2")),
			 p2pdma_topo_find(b, "0000:03:00.2"));
	/* A clone of another lineage does not map. */
	assert_null(p2pdma_topo_map_dev(b, p2pdma_topo_find(ca, "0000:03:00.2")));
	p2pdma_topo_seal(cb);
	assert_int_equal(p2pdma_topo_set_acs_ctrl(p2pdma_topo_find(cb, "0000:02:00.0"), 0), -EPERM);
	p2pdma_topo_destroy(ca);
	p2pdma_topo_destroy(cb);
	p2pdma_topo_destroy(a);
	p2pdma_topo_destroy(b);
	p2pdma_ctx_destroy(ctx);
}

static void test_parse_bdf(void **state)
{
	static const struct { const char *s; int ok; uint32_t dom; uint8_t bus, devfn; } cases[] = {
		{ "0000:00:1f.3", 1, 0, 0, 0xfb },
		{ "10000:e1:00.0", 1, 0x10000, 0xe1, 0 },
		{ "3a:00.1", 1, 0, 0x3a, 1 },
		{ "0000:00:20.0", 0, 0, 0, 0 },	/* device > 31 */
		{ "0000:00:1f.8", 0, 0, 0, 0 },	/* fn > 7 */
		{ "0000:100:00.0", 0, 0, 0, 0 },
		{ "00:00.0x", 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0 },
		{ "zz:00.0", 0, 0, 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t dom = 0;
		uint8_t bus = 0, devfn = 0;
		int ret = p2pdma_parse_bdf(cases[i].s, &dom, &bus, &devfn);

		assert_int_equal(ret == 0, cases[i].ok);
		if (cases[i].ok) {
			assert_int_equal(dom, cases[i].dom);
			assert_int_equal(bus, cases[i].bus);
			assert_int_equal(devfn, cases[i].devfn);
		}
	}
}

/* local_cpulist: what sysfs prints, and hwloc's bitmaps turned into it. */
static void test_cpulists(void **state)
{
	static const char *const good[] = { "0", "0-3", "0-3,8", "0,2,4-7,64-127", "4194304" };
	static const char *const bad[] = {
		"", "-", "3-1", "0,0", "0-3,2", "1,0", "0-", "a", "0;1", "0 ", " 0", "0,,1",
		"4194305",
	};
	static const struct { const char *bitmap, *list; } maps[] = {
		{ "0x00000001", "0" },
		{ "0x000000ff", "0-7" },
		{ "0x0000000f,0xffffffff", "0-35" },
		{ "0x00000003,0x00000000,0x80000001", "0,31,64-65" },
		{ "0x0000ff00", "8-15" },
		{ "0xffffffff", "0-31" },
		{ "0x00000000", NULL },			/* empty: unknown */
		{ "0xf...f,0x000000ff", NULL },		/* infinite */
		{ "0x1,", NULL }, { "1", NULL }, { "0x", NULL }, { "0x123456789", NULL },
		{ "", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(p2pdma_cpulist_valid(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (p2pdma_cpulist_valid(bad[i]))
			print_error("'%s' taken as a CPU list\n", bad[i]);
		assert_false(p2pdma_cpulist_valid(bad[i]));
	}
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		char *l = p2pdma_cpulist_from_bitmap(maps[i].bitmap);

		if (!maps[i].list) {
			assert_null(l);
			continue;
		}
		assert_non_null(l);
		assert_string_equal(l, maps[i].list);
		assert_true(p2pdma_cpulist_valid(l));
		free(l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hierarchy),
		cmocka_unit_test(test_hostdev_root_port),
		cmocka_unit_test(test_invariants),
		cmocka_unit_test(test_compare_and_info),
		cmocka_unit_test(test_parse_bdf),
		cmocka_unit_test(test_cpulists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
