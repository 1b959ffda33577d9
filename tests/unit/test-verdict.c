// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-verdict.c - the pure verdict: calc_map_type_and_dist, host-bridge stage, fast path (doc/kernel-model.md §2, §B) */
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
#include "verdict-private.h"


#define build(h, hb1) fabric_build(test_ctx, (h), (hb1))
#define dev(t, bdf) fabric_dev((t), (bdf))
#define policy(cpu) fabric_policy(test_ctx, (cpu))

/* The fast path must give the calculation's answer for every pair. */
static void assert_fast_agrees(const struct p2pdma_router *r, const struct p2pdma_topo *t)
{
	struct p2pdma_verdict *v = malloc(sizeof(*v));
	size_t i, j, n = p2pdma_topo_num_devs(t);

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			const struct p2pdma_dev *a = p2pdma_topo_dev(t, i);
			const struct p2pdma_dev *b = p2pdma_topo_dev(t, j);
			int d = -7;
			enum p2pdma_map_type f = p2pdma_router_map_type(r, a, b, &d);

			p2pdma_router_calc(r, a, b, false, v);
			if (f != v->map_type || d != v->distance)
				fail_msg("%s -> %s: fast %s/%d, calc %s/%d",
					 a->name, b->name, p2pdma_map_type_name(f), d,
					 p2pdma_map_type_name(v->map_type), v->distance);
		}
	}
	free(v);
}

/* --- the table --- */

struct route_case {
	const char *name;
	const char *spec;		/* the rule it checks */
	uint16_t hostdev;		/* 0000:00:00.0 device ID */
	uint16_t hb1;			/* 0001:00:01.0 device ID */
	const char *cpu;
	const char *acs_on[8];		/* functions with RR|CR set */
	const char *unknown;		/* a function with unreadable ACS */
	const char *provider, *client;
	bool verbose;
	enum p2pdma_map_type type;
	int distance;
	const char *common;		/* NULL: no common upstream device */
	const char *acs_list;		/* message 2's list, "" none */
	bool cpu_rule;
	bool same_hb;
	unsigned int ndmesg;
	const char *dmesg[P2PDMA_MAX_DMESG];
};

#define UNLISTED 0x1237
#define SKX 0x2020		/* Skylake-E 00.0, no flags */
#define SNB 0x3c00		/* REQ_SAME_HOST_BRIDGE */
#define RPA 0x2030		/* Skylake-E root port A, no flags */

static const struct route_case cases[] = {
	{ "same function", "2.2 table: same function, dist 0",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "03:00.0", "03:00.0", true,
	  P2PDMA_MAP_BUS_ADDR, 0, "0000:03:00.0", "", false, true, 0, { NULL } },
	{ "two functions, root port without ACS", "2.2: two functions of one device under a root port: dist 2",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "10:00.0", "10:00.1", true,
	  P2PDMA_MAP_BUS_ADDR, 2, "0000:00:02.0", "", false, true, 0, { NULL } },
	{ "two functions, root port with ACS, unlisted", "2.2: root port ACS examined as common ancestor; 2.8 messages 1-4",
	  UNLISTED, 0x1000, NULL, { "00:02.0" }, NULL, "10:00.0", "10:00.1", true,
	  P2PDMA_MAP_NOT_SUPPORTED, 2, "0000:00:02.0", "0000:00:02.0", false, true, 4,
	  { "pci 0000:10:00.1: ACS redirect is set between the client and provider (0000:10:00.0)",
	    "pci 0000:10:00.1: to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=0000:00:02.0",
	    "pci 0000:00:00.0: Host bridge not in P2PDMA whitelist: 8086:1237",
	    "pci 0000:10:00.1: cannot be used for peer-to-peer DMA as the client and provider (0000:10:00.0) do not share an upstream bridge or whitelisted host bridge" } },
	{ "two functions, root port with ACS, listed", "2.2 + 2.4: ACS path through an allow-listed host bridge",
	  SKX, 0x1000, NULL, { "00:02.0" }, NULL, "10:00.0", "10:00.1", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 2, "0000:00:02.0", "0000:00:02.0", false, true, 0, { NULL } },
	{ "PF and its VF", "2.1: VF upstream = PF upstream; 2.2 table dist 2 (§B8)",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "10:00.1", "10:00.2", true,
	  P2PDMA_MAP_BUS_ADDR, 2, "0000:00:02.0", "", false, true, 0, { NULL } },
	{ "two VFs of one PF", "2.2 table: two VFs, dist 2 (§B8)",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "10:00.2", "10:00.3", true,
	  P2PDMA_MAP_BUS_ADDR, 2, "0000:00:02.0", "", false, true, 0, { NULL } },
	{ "switch siblings", "2.2 table: two downstream ports of one switch, dist 4",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "03:00.0", "08:00.0", true,
	  P2PDMA_MAP_BUS_ADDR, 4, "0000:01:00.0", "", false, true, 0, { NULL } },
	{ "nested switches", "2.2 table: dist_a + dist_b = 2 + 4",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "03:00.0", "06:00.0", true,
	  P2PDMA_MAP_BUS_ADDR, 6, "0000:01:00.0", "", false, true, 0, { NULL } },
	{ "ACS on the provider endpoint", "2.1/2.2: ACS of the provider itself is examined (§B1)",
	  SKX, 0x1000, NULL, { "03:00.0" }, NULL, "03:00.0", "08:00.0", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 4, "0000:01:00.0", "0000:03:00.0", false, true, 0, { NULL } },
	{ "ACS on a function, self P2P", "2.2: provider == client examines only its own ACS",
	  SKX, 0x1000, NULL, { "03:00.0" }, NULL, "03:00.0", "03:00.0", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 0, "0000:03:00.0", "0000:03:00.0", false, true, 0, { NULL } },
	{ "ACS on the common ancestor", "2.2: the common ancestor is examined once, from the provider side (§B1)",
	  SKX, 0x1000, NULL, { "01:00.0", "00:01.0" }, NULL, "03:00.0", "08:00.0", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 4, "0000:01:00.0", "0000:01:00.0", false, true, 0, { NULL } },
	{ "ACS on the client side", "2.2: client side strictly below the common ancestor",
	  SKX, 0x1000, NULL, { "02:02.0" }, NULL, "03:00.0", "08:00.0", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 4, "0000:01:00.0", "0000:02:02.0", false, true, 0, { NULL } },
	{ "ACS above the common ancestor", "2.2: nodes above the common ancestor are not examined",
	  UNLISTED, 0x1000, NULL, { "00:01.0" }, NULL, "03:00.0", "08:00.0", true,
	  P2PDMA_MAP_BUS_ADDR, 4, "0000:01:00.0", "", false, true, 0, { NULL } },
	{ "ACS list walk order", "2.8 message 2: provider side bottom-up, then client side bottom-up",
	  SKX, 0x1000, NULL,
	  { "03:00.0", "02:00.0", "01:00.0", "06:00.0", "05:00.0", "02:01.0", "00:01.0" },
	  NULL, "03:00.0", "06:00.0", true,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 6, "0000:01:00.0",
	  "0000:03:00.0;0000:02:00.0;0000:01:00.0;0000:06:00.0;0000:05:00.0;0000:02:01.0",
	  false, true, 2,
	  { "pci 0000:06:00.0: ACS redirect is set between the client and provider (0000:03:00.0)",
	    "pci 0000:06:00.0: to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=0000:03:00.0;0000:02:00.0;0000:01:00.0;0000:06:00.0;0000:05:00.0;0000:02:01.0" } },
	{ "no common ancestor, ACS everywhere", "2.2: ACS ignored without a common upstream device (§B2); message 4 only",
	  UNLISTED, 0x1000, NULL,
	  { "03:00.0", "02:00.0", "01:00.0", "00:01.0", "00:02.0" }, NULL, "03:00.0", "10:00.0", true,
	  P2PDMA_MAP_NOT_SUPPORTED, 6, NULL, "", false, true, 1,
	  { "pci 0000:10:00.0: cannot be used for peer-to-peer DMA as the client and provider (0000:03:00.0) do not share an upstream bridge or whitelisted host bridge" } },
	{ "no common ancestor, listed", "2.2 + 2.4: root ports of one allow-listed host bridge",
	  SKX, 0x1000, NULL, { NULL }, NULL, "03:00.0", "10:00.0", true,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 6, NULL, "", false, true, 0, { NULL } },
	{ "RCiEP to RCiEP, REQ_SAME_HOST_BRIDGE", "2.2 RCiEPs: chain length 1; 2.4 same host bridge admits a REQ_SAME row (§B3)",
	  SNB, 0x1000, NULL, { NULL }, NULL, "00:03.0", "00:04.0", true,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 2, NULL, "", false, true, 0, { NULL } },
	{ "different host bridges, REQ_SAME_HOST_BRIDGE", "2.4: different host bridges refuse a REQ_SAME row (§B3)",
	  SNB, RPA, NULL, { NULL }, NULL, "03:00.0", "0001:01:00.0", false,
	  P2PDMA_MAP_NOT_SUPPORTED, 6, NULL, "", false, false, 0, { NULL } },
	{ "different host bridges, both listed", "2.4: both listed, no flags; 2.1 a Root Port first on the root bus is the host device (§B4)",
	  SKX, RPA, NULL, { NULL }, NULL, "03:00.0", "0001:01:00.0", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 6, NULL, "", false, false, 0, { NULL } },
	{ "different host bridges, one unlisted", "2.4: both host devices must match",
	  SKX, 0x1000, NULL, { NULL }, NULL, "03:00.0", "0001:01:00.0", false,
	  P2PDMA_MAP_NOT_SUPPORTED, 6, NULL, "", false, false, 0, { NULL } },
	{ "host device neither 00.0 nor a root port", "2.1: no candidate -> not allowed, silently (§B4)",
	  SKX, RPA, NULL, { NULL }, NULL, "0002:00:02.0", "0002:00:03.0", false,
	  P2PDMA_MAP_NOT_SUPPORTED, 2, NULL, "", false, true, 0, { NULL } },
	{ "CPU rule short-circuits", "1.2/2.4: AMD Zen admits every host-bridge path, no table, no warning (§B5)",
	  UNLISTED, 0x1000, "AuthenticAMD:25", { "02:00.0" }, NULL, "03:00.0", "08:00.0", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 4, "0000:01:00.0", "0000:02:00.0", true, true, 0, { NULL } },
	{ "CPU rule on a pre-Zen CPU", "1.2: family < 0x17 does not qualify",
	  UNLISTED, 0x1000, "AuthenticAMD:21", { "02:00.0" }, NULL, "03:00.0", "08:00.0", false,
	  P2PDMA_MAP_NOT_SUPPORTED, 4, "0000:01:00.0", "0000:02:00.0", false, true, 1,
	  { "pci 0000:00:00.0: Host bridge not in P2PDMA whitelist: 8086:1237" } },
	{ "host-bridge warning even when not verbose", "2.4/2.8 message 3: warn = acs_redirects, printed without verbose",
	  UNLISTED, 0x1000, NULL, { "02:00.0" }, NULL, "03:00.0", "08:00.0", false,
	  P2PDMA_MAP_NOT_SUPPORTED, 4, "0000:01:00.0", "0000:02:00.0", false, true, 1,
	  { "pci 0000:00:00.0: Host bridge not in P2PDMA whitelist: 8086:1237" } },
	{ "dmesg prefix is the driver", "2.8: '<driver> <BDF>: ' prefix, client side for 1, 2 and 4",
	  UNLISTED, 0x1000, NULL, { "02:02.0" }, NULL, "03:00.0", "08:00.0", true,
	  P2PDMA_MAP_NOT_SUPPORTED, 4, "0000:01:00.0", "0000:02:02.0", false, true, 4,
	  { "mlx5_core 0000:08:00.0: ACS redirect is set between the client and provider (0000:03:00.0)",
	    "mlx5_core 0000:08:00.0: to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=0000:02:02.0",
	    "pci 0000:00:00.0: Host bridge not in P2PDMA whitelist: 8086:1237",
	    "mlx5_core 0000:08:00.0: cannot be used for peer-to-peer DMA as the client and provider (0000:03:00.0) do not share an upstream bridge or whitelisted host bridge" } },
	{ "ACS unknown is flagged", "2.1 + topo.h: UNKNOWN is computed as off but flagged",
	  UNLISTED, 0x1000, NULL, { NULL }, "02:02.0", "03:00.0", "08:00.0", true,
	  P2PDMA_MAP_BUS_ADDR, 4, "0000:01:00.0", "", false, true, 0, { NULL } },
};

static void run_case(const struct route_case *c)
{
	struct p2pdma_topo *t = build(c->hostdev, c->hb1);
	struct p2pdma_policy *pol = policy(c->cpu);
	struct p2pdma_verdict *v = malloc(sizeof(*v));
	struct p2pdma_router *r;
	const struct p2pdma_dev *p, *cl;
	unsigned int i;

	assert_non_null(v);
	/* The fabric is built for each case: set its registers directly. */
	for (i = 0; i < 8 && c->acs_on[i]; i++)
		dev(t, c->acs_on[i])->acs_ctrl = RR_CR | P2PDMA_ACS_SV;
	if (c->unknown)
		dev(t, c->unknown)->acs_state = P2PDMA_ACS_UNKNOWN;
	assert_int_equal(p2pdma_router_create(test_ctx, t, pol, &r), 0);
	p = dev(t, c->provider);
	cl = dev(t, c->client);
	p2pdma_router_calc(r, p, cl, c->verbose, v);
	if (v->map_type != c->type || v->distance != c->distance)
		fail_msg("%s [%s]: got %s/%d, want %s/%d", c->name, c->spec,
			 p2pdma_map_type_name(v->map_type), v->distance,
			 p2pdma_map_type_name(c->type), c->distance);
	if (c->common)
		assert_ptr_equal(v->common, dev(t, c->common));
	else
		assert_null(v->common);
	assert_string_equal(v->acs_list, c->acs_list);
	if (c->acs_list[0]) {
		char fix[600];

		snprintf(fix, sizeof(fix), "pci=disable_acs_redir=%s", c->acs_list);
		assert_string_equal(v->fix, fix);
	} else {
		assert_string_equal(v->fix, "");
		assert_null(p2pdma_verdict_fix(v));
	}
	assert_int_equal(v->cpu_rule, c->cpu_rule);
	assert_int_equal(v->same_host_bridge, c->same_hb);
	assert_int_equal(v->host_bridge_path, !c->common || c->acs_list[0]);
	if (v->ndmesg != c->ndmesg) {
		for (i = 0; i < v->ndmesg; i++)
			print_message("  dmesg: %s\n", v->dmesg[i]);
		fail_msg("%s [%s]: %u dmesg lines, want %u", c->name, c->spec,
			 v->ndmesg, c->ndmesg);
	}
	for (i = 0; i < c->ndmesg; i++)
		assert_string_equal(v->dmesg[i], c->dmesg[i]);
	assert_int_equal(v->acs_unknown, c->unknown != NULL);
	if (c->unknown) {
		assert_int_equal(v->nunknown, 1);
		assert_ptr_equal(v->unknown[0], dev(t, c->unknown));
	}
	assert_fast_agrees(r, t);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
	free(v);
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("[ case     ] %s (doc/kernel-model.md §%s)\n", cases[i].name, cases[i].spec);
		run_case(&cases[i]);
	}
}

/* --- doc/kernel-model.md §2.2, §2.8: the 128-byte list buffer --- */

static void test_acs_list_truncation(void **state)
{
	struct p2pdma_topo *t = p2pdma_topo_alloc(test_ctx, P2PDMA_SRC_JSON, "deep");
	struct p2pdma_policy *pol = policy(NULL);
	struct p2pdma_verdict *v = malloc(sizeof(*v));
	struct p2pdma_router *r;
	struct p2pdma_dev *d;
	unsigned int lvl;
	uint8_t bus = 1;

	(void)state;
	assert_non_null(v);
	fixture_endpoint(t, 0, 0, 0, 0, P2PDMA_PCIE_NONE)->device = UNLISTED;
	/* RP -> (USP -> DSP) x 6 -> E1; a second DSP of the first switch -> E2 */
	fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 1, 30);
	fixture_bridge(t, 0, 1, 0, 0, P2PDMA_PCIE_UPSTREAM, 2, 30);
	fixture_acs(fixture_bridge(t, 0, 2, 1, 0, P2PDMA_PCIE_DOWNSTREAM, 29, 29), ACS_CAP, RR_CR);
	fixture_acs(fixture_endpoint(t, 0, 29, 0, 0, P2PDMA_PCIE_ENDPOINT), ACS_CAP, RR_CR);
	bus = 2;
	for (lvl = 0; lvl < 6; lvl++) {
		fixture_acs(fixture_bridge(t, 0, bus, 0, 0, P2PDMA_PCIE_DOWNSTREAM,
					   (uint8_t)(bus + 1), 28), ACS_CAP, RR_CR);
		if (lvl < 5)
			fixture_acs(fixture_bridge(t, 0, (uint8_t)(bus + 1), 0, 0,
						   P2PDMA_PCIE_UPSTREAM,
						   (uint8_t)(bus + 2), 28), ACS_CAP, RR_CR);
		bus = (uint8_t)(bus + 2);
	}
	d = fixture_endpoint(t, 0, (uint8_t)(bus - 1), 0, 0, P2PDMA_PCIE_ENDPOINT);
	fixture_acs(d, ACS_CAP, RR_CR);
	assert_int_equal(p2pdma_topo_finalize(t, "deep"), 0);
	assert_int_equal(p2pdma_router_create(test_ctx, t, pol, &r), 0);
	p2pdma_router_calc(r, d, dev(t, "1d:00.0"), true, v);
	/* 1 + 11 provider-side nodes + 2 client-side = 14 entries of 13 bytes */
	assert_int_equal(v->nacs, 14);
	assert_true(v->acs_truncated);
	/* seq_buf keeps what vsnprintf wrote of the entry that overflowed:
	 * the first 127 bytes, cut in the middle of the tenth name. */
	assert_int_equal(strlen(v->acs_list), 127);
	assert_memory_equal(v->acs_list, "0000:0d:00.0;", 13);
	assert_int_equal(v->acs_list[126], v->fix[22 + 126]);
	assert_int_equal(strlen(v->fix), strlen("pci=disable_acs_redir=") + 14 * 13 - 1);
	assert_fast_agrees(r, t);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
	free(v);
}

/* --- the synthetic generator, and the fast path at scale --- */

static void test_synth(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_policy *pol;
	struct p2pdma_router *r;
	size_t i, eps = 0;

	(void)state;
	assert_int_equal(p2pdma_topo_synth(test_ctx, "hb=2,rp=2,sw=2,ds=2,ep=4,acs=0.5,seed=3", &t), 0);
	fixture_assert_invariants(t);
	for (i = 0; i < p2pdma_topo_num_devs(t); i++)
		if (p2pdma_topo_dev(t, i)->pcie_type == P2PDMA_PCIE_ENDPOINT)
			eps++;
	assert_int_equal(eps, 2 * 2 * 2 * 2 * 4);
	assert_int_equal(p2pdma_topo_num_host_bridges(t), 2);
	pol = policy(NULL);
	assert_int_equal(p2pdma_router_create(test_ctx, t, pol, &r), 0);
	assert_fast_agrees(r, t);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	pol = policy("AuthenticAMD:25");
	assert_int_equal(p2pdma_router_create(test_ctx, t, pol, &r), 0);
	assert_fast_agrees(r, t);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	/* Older kernel eras (2.2 before map types: ACS means refused). */
	{
		static const char *const kernels[] = { "4.20", "5.3", "5.8", "6.12" };
		size_t k;

		for (k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
			assert_int_equal(p2pdma_policy_create(test_ctx, &pol), 0);
			assert_int_equal(p2pdma_policy_set_kernel(pol, kernels[k]), 0);
			assert_int_equal(p2pdma_router_create(test_ctx, t, pol, &r), 0);
			assert_fast_agrees(r, t);
			p2pdma_router_destroy(r);
			p2pdma_policy_destroy(pol);
		}
	}
	p2pdma_topo_destroy(t);

	assert_int_equal(p2pdma_topo_synth(test_ctx, "hb=1,rp=31,sw=4,ds=8", &t), -ERANGE);
	assert_int_equal(p2pdma_topo_synth(test_ctx, "bogus=1", &t), -EINVAL);
	assert_int_equal(p2pdma_topo_synth(test_ctx, "acs=2", &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_acs_list_truncation),
		cmocka_unit_test(test_synth),
	};

	return cmocka_run_group_tests(tests, fixture_ctx_setup, fixture_ctx_teardown);
}
