// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-route.c - calc_map_type_and_dist, cache, distance_many, find_many (spec 2, App. B) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "route-private.h"

/*
 * The test fabric (domain 0 unless noted):
 *
 *  pci0000:00  00:00.0 host device (8086:1237 unless a case lists it)
 *   |          00:03.0, 00:04.0 RCiEPs (R1, R2)
 *   +- 00:01.0 RP1 [01-08]
 *   |   `- 01:00.0 USP [02-08]
 *   |       +- 02:00.0 DSP0 [03] -- 03:00.0 P (nvme, p2pmem), 03:00.1 P2
 *   |       +- 02:01.0 DSP1 [04-06]
 *   |       |   `- 04:00.0 USP2 [05-06] -- 05:00.0 DSP2 [06] -- 06:00.0 C
 *   |       `- 02:02.0 DSP3 [08] -- 08:00.0 S (mlx5_core)
 *   `- 00:02.0 RP2 [10] -- 10:00.0 X, 10:00.1 PF (SR-IOV) -> VFs 10:00.2, 10:00.3
 *  pci0001:00  (no 00.0: the first function is the Root Port 0001:00:01.0)
 *   `- 0001:00:01.0 RP [01] -- 0001:01:00.0 Y
 *  pci0002:00  0002:00:02.0, 0002:00:03.0 RCiEPs (no host device candidate)
 *
 * Every port and P, C, S have an ACS capability with Control 0; a case
 * turns redirect on where it says. Appendix B items 9 and 10 (VFIO
 * dma-buf, phys_vec_to_sgt) belong to later layers and are not tested here.
 */

#define RR_CR (P2PDMA_ACS_RR | P2PDMA_ACS_CR)
#define ACS_CAP 0x005f

static struct p2pdma_ctx *ctx;

static struct p2pdma_topo *build(uint16_t hostdev_device, uint16_t hb1_device)
{
	struct p2pdma_topo *t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "route");
	struct p2pdma_dev *d;

	assert_non_null(t);
	d = fixture_endpoint(t, 0, 0, 0, 0, P2PDMA_PCIE_NONE);
	d->vendor = 0x8086;
	d->device = hostdev_device;
	d->class_code = 0x060000;
	fixture_endpoint(t, 0, 0, 3, 0, P2PDMA_PCIE_RC_ENDPOINT);
	fixture_endpoint(t, 0, 0, 4, 0, P2PDMA_PCIE_RC_ENDPOINT);
	fixture_acs(fixture_bridge(t, 0, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 0x01, 0x08), ACS_CAP, 0);
	fixture_acs(fixture_bridge(t, 0, 0, 2, 0, P2PDMA_PCIE_ROOT_PORT, 0x10, 0x10), ACS_CAP, 0);
	fixture_acs(fixture_bridge(t, 0, 1, 0, 0, P2PDMA_PCIE_UPSTREAM, 0x02, 0x08), ACS_CAP, 0);
	fixture_acs(fixture_bridge(t, 0, 2, 0, 0, P2PDMA_PCIE_DOWNSTREAM, 0x03, 0x03), ACS_CAP, 0);
	fixture_acs(fixture_bridge(t, 0, 2, 1, 0, P2PDMA_PCIE_DOWNSTREAM, 0x04, 0x06), ACS_CAP, 0);
	fixture_acs(fixture_bridge(t, 0, 2, 2, 0, P2PDMA_PCIE_DOWNSTREAM, 0x08, 0x08), ACS_CAP, 0);
	fixture_acs(fixture_bridge(t, 0, 4, 0, 0, P2PDMA_PCIE_UPSTREAM, 0x05, 0x06), ACS_CAP, 0);
	fixture_acs(fixture_bridge(t, 0, 5, 0, 0, P2PDMA_PCIE_DOWNSTREAM, 0x06, 0x06), ACS_CAP, 0);
	d = fixture_endpoint(t, 0, 3, 0, 0, P2PDMA_PCIE_ENDPOINT);
	fixture_acs(d, ACS_CAP, 0);
	d->multifunction = true;
	d->driver = p2pdma_strdup("nvme");
	d->p2pmem.present = d->p2pmem.published = true;
	d->p2pmem.size = d->p2pmem.available = 1 << 20;
	d = fixture_endpoint(t, 0, 3, 0, 1, P2PDMA_PCIE_ENDPOINT);
	d->multifunction = true;
	d->p2pmem.present = d->p2pmem.published = true;
	fixture_acs(fixture_endpoint(t, 0, 6, 0, 0, P2PDMA_PCIE_ENDPOINT), ACS_CAP, 0);
	d = fixture_endpoint(t, 0, 8, 0, 0, P2PDMA_PCIE_ENDPOINT);
	fixture_acs(d, ACS_CAP, 0);
	d->driver = p2pdma_strdup("mlx5_core");
	d->p2pmem.present = d->p2pmem.published = true;
	d = fixture_endpoint(t, 0, 0x10, 0, 0, P2PDMA_PCIE_ENDPOINT);
	d->multifunction = true;
	d = fixture_endpoint(t, 0, 0x10, 0, 1, P2PDMA_PCIE_ENDPOINT);
	d->multifunction = true;
	d->has_sriov = true;
	d->sriov_total = d->sriov_num = 2;
	d->sriov_offset = 1;
	d->sriov_stride = 1;
	d->sriov_vf_device = 0x2331;
	fixture_endpoint(t, 0, 0x10, 0, 2, P2PDMA_PCIE_ENDPOINT)->vendor = 0xffff;
	fixture_endpoint(t, 0, 0x10, 0, 3, P2PDMA_PCIE_ENDPOINT)->vendor = 0xffff;
	/* Domain 1: the Root Port is the first function, at 01.0. */
	d = fixture_bridge(t, 1, 0, 1, 0, P2PDMA_PCIE_ROOT_PORT, 0x01, 0x01);
	d->device = hb1_device;
	fixture_endpoint(t, 1, 1, 0, 0, P2PDMA_PCIE_ENDPOINT);
	/* Domain 2: only RCiEPs, none at 00.0. */
	fixture_endpoint(t, 2, 0, 2, 0, P2PDMA_PCIE_RC_ENDPOINT);
	fixture_endpoint(t, 2, 0, 3, 0, P2PDMA_PCIE_RC_ENDPOINT);
	assert_int_equal(p2pdma_topo_finalize(t, "route"), 0);
	fixture_assert_invariants(t);
	return t;
}

static struct p2pdma_dev *dev(struct p2pdma_topo *t, const char *bdf)
{
	struct p2pdma_dev *d = p2pdma_topo_find(t, bdf);

	if (!d)
		fail_msg("no %s", bdf);
	return d;
}

static struct p2pdma_policy *policy(const char *cpu)
{
	struct p2pdma_policy *pol;

	assert_int_equal(p2pdma_policy_create(ctx, &pol), 0);
	assert_int_equal(p2pdma_policy_set_kernel(pol, "6.19"), 0);
	if (cpu)
		assert_int_equal(p2pdma_policy_set_cpu(pol, cpu), 0);
	return pol;
}

/* The fast path must give the calculation's answer for every pair. */
static void assert_fast_agrees(struct p2pdma_router *r, struct p2pdma_topo *t)
{
	struct p2pdma_verdict *v = malloc(sizeof(*v));
	size_t i, j, n = p2pdma_topo_num_devs(t);

	assert_non_null(v);
	p2pdma_router_refresh(r);
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			const struct p2pdma_dev *a = p2pdma_topo_dev(t, i);
			const struct p2pdma_dev *b = p2pdma_topo_dev(t, j);
			int d = -7;
			enum p2pdma_map_type f = p2pdma_map_type_of(r, a, b, &d);

			p2pdma_calc(r, a, b, false, v);
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
	{ "PF and its VF", "2.1: VF upstream = PF upstream; 2.2 table dist 2 (App. B 8)",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "10:00.1", "10:00.2", true,
	  P2PDMA_MAP_BUS_ADDR, 2, "0000:00:02.0", "", false, true, 0, { NULL } },
	{ "two VFs of one PF", "2.2 table: two VFs, dist 2 (App. B 8)",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "10:00.2", "10:00.3", true,
	  P2PDMA_MAP_BUS_ADDR, 2, "0000:00:02.0", "", false, true, 0, { NULL } },
	{ "switch siblings", "2.2 table: two downstream ports of one switch, dist 4",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "03:00.0", "08:00.0", true,
	  P2PDMA_MAP_BUS_ADDR, 4, "0000:01:00.0", "", false, true, 0, { NULL } },
	{ "nested switches", "2.2 table: dist_a + dist_b = 2 + 4",
	  UNLISTED, 0x1000, NULL, { NULL }, NULL, "03:00.0", "06:00.0", true,
	  P2PDMA_MAP_BUS_ADDR, 6, "0000:01:00.0", "", false, true, 0, { NULL } },
	{ "ACS on the provider endpoint", "2.1/2.2: ACS of the provider itself is examined (App. B 1)",
	  SKX, 0x1000, NULL, { "03:00.0" }, NULL, "03:00.0", "08:00.0", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 4, "0000:01:00.0", "0000:03:00.0", false, true, 0, { NULL } },
	{ "ACS on a function, self P2P", "2.2: provider == client examines only its own ACS",
	  SKX, 0x1000, NULL, { "03:00.0" }, NULL, "03:00.0", "03:00.0", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 0, "0000:03:00.0", "0000:03:00.0", false, true, 0, { NULL } },
	{ "ACS on the common ancestor", "2.2: the common ancestor is examined once, from the provider side (App. B 1)",
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
	{ "no common ancestor, ACS everywhere", "2.2: ACS ignored without a common upstream device (App. B 2); message 4 only",
	  UNLISTED, 0x1000, NULL,
	  { "03:00.0", "02:00.0", "01:00.0", "00:01.0", "00:02.0" }, NULL, "03:00.0", "10:00.0", true,
	  P2PDMA_MAP_NOT_SUPPORTED, 6, NULL, "", false, true, 1,
	  { "pci 0000:10:00.0: cannot be used for peer-to-peer DMA as the client and provider (0000:03:00.0) do not share an upstream bridge or whitelisted host bridge" } },
	{ "no common ancestor, listed", "2.2 + 2.4: root ports of one allow-listed host bridge",
	  SKX, 0x1000, NULL, { NULL }, NULL, "03:00.0", "10:00.0", true,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 6, NULL, "", false, true, 0, { NULL } },
	{ "RCiEP to RCiEP, REQ_SAME_HOST_BRIDGE", "2.2 RCiEPs: chain length 1; 2.4 same host bridge admits a REQ_SAME row (App. B 3)",
	  SNB, 0x1000, NULL, { NULL }, NULL, "00:03.0", "00:04.0", true,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 2, NULL, "", false, true, 0, { NULL } },
	{ "different host bridges, REQ_SAME_HOST_BRIDGE", "2.4: different host bridges refuse a REQ_SAME row (App. B 3)",
	  SNB, RPA, NULL, { NULL }, NULL, "03:00.0", "0001:01:00.0", false,
	  P2PDMA_MAP_NOT_SUPPORTED, 6, NULL, "", false, false, 0, { NULL } },
	{ "different host bridges, both listed", "2.4: both listed, no flags; 2.1 a Root Port first on the root bus is the host device (App. B 4)",
	  SKX, RPA, NULL, { NULL }, NULL, "03:00.0", "0001:01:00.0", false,
	  P2PDMA_MAP_THRU_HOST_BRIDGE, 6, NULL, "", false, false, 0, { NULL } },
	{ "different host bridges, one unlisted", "2.4: both host devices must match",
	  SKX, 0x1000, NULL, { NULL }, NULL, "03:00.0", "0001:01:00.0", false,
	  P2PDMA_MAP_NOT_SUPPORTED, 6, NULL, "", false, false, 0, { NULL } },
	{ "host device neither 00.0 nor a root port", "2.1: no candidate -> not allowed, silently (App. B 4)",
	  SKX, RPA, NULL, { NULL }, NULL, "0002:00:02.0", "0002:00:03.0", false,
	  P2PDMA_MAP_NOT_SUPPORTED, 2, NULL, "", false, true, 0, { NULL } },
	{ "CPU rule short-circuits", "1.2/2.4: AMD Zen admits every host-bridge path, no table, no warning (App. B 5)",
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
	for (i = 0; i < 8 && c->acs_on[i]; i++)
		assert_int_equal(p2pdma_topo_set_acs_ctrl(dev(t, c->acs_on[i]),
							  RR_CR | P2PDMA_ACS_SV), 0);
	if (c->unknown)
		dev(t, c->unknown)->acs_state = P2PDMA_ACS_UNKNOWN;
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	p = dev(t, c->provider);
	cl = dev(t, c->client);
	p2pdma_calc(r, p, cl, c->verbose, v);
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
		print_message("[ case     ] %s (spec %s)\n", cases[i].name, cases[i].spec);
		run_case(&cases[i]);
	}
}

/* --- spec 2.2 / 2.8: the 128-byte list buffer --- */

static void test_acs_list_truncation(void **state)
{
	struct p2pdma_topo *t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_JSON, "deep");
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
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	p2pdma_calc(r, d, dev(t, "1d:00.0"), true, v);
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

/* --- spec 2.5 / 2.6, App. B 6, 7, 8: the map-type cache --- */

static void test_cache(void **state)
{
	struct p2pdma_topo *t = build(UNLISTED, 0x1000);
	struct p2pdma_policy *pol = policy(NULL);
	struct p2pdma_verdict v;
	struct p2pdma_router *r;
	struct p2pdma_dev *p, *s, *x, *pf, *vf;

	(void)state;
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	p = dev(t, "03:00.0");
	s = dev(t, "08:00.0");
	x = dev(t, "10:00.0");
	pf = dev(t, "10:00.1");
	vf = dev(t, "10:00.2");

	/* 2.5: a missing entry reads UNKNOWN. */
	assert_int_equal(p2pdma_cache_lookup(r, p, s), P2PDMA_MAP_UNKNOWN);
	/* 2.6: miss -> verbose calculation, stored. */
	assert_int_equal(p2pdma_provider_map_type(r, p, s, &v), P2PDMA_MAP_BUS_ADDR);
	assert_false(v.cached);
	assert_int_equal(p2pdma_cache_lookup(r, p, s), P2PDMA_MAP_BUS_ADDR);
	/* App. B 6: an ACS change afterwards is not seen by map_type. */
	assert_int_equal(p2pdma_topo_set_acs_ctrl(dev(t, "02:00.0"), RR_CR), 0);
	assert_int_equal(p2pdma_provider_map_type(r, p, s, &v), P2PDMA_MAP_BUS_ADDR);
	assert_true(v.cached);
	assert_int_equal(v.ndmesg, 0);
	/* ... but a distance query recalculates and overwrites (xa_store). */
	assert_int_equal(p2pdma_calc(r, p, s, false, &v), P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(p2pdma_cache_lookup(r, p, s), P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(p2pdma_provider_map_type(r, p, s, &v), P2PDMA_MAP_NOT_SUPPORTED);
	assert_true(v.cached);
	/* A pair first evaluated silently never prints its warnings later. */
	p2pdma_router_reset_cache(r);
	assert_int_equal(p2pdma_cache_lookup(r, p, s), P2PDMA_MAP_UNKNOWN);
	p2pdma_calc(r, p, s, false, &v);
	assert_int_equal(v.ndmesg, 1);	/* only the host-bridge line */
	p2pdma_provider_map_type(r, p, s, &v);
	assert_int_equal(v.ndmesg, 0);

	/* App. B 8: the key is the VF's own BDF, not its PF's. */
	assert_int_equal(p2pdma_cache_key(vf), 0x1002);
	assert_int_equal(p2pdma_cache_key(pf), 0x1001);
	assert_int_equal(p2pdma_cache_key(dev(t, "0001:01:00.0")), 0x10100);
	p2pdma_calc(r, p, vf, false, &v);
	assert_int_equal(p2pdma_cache_lookup(r, p, pf), P2PDMA_MAP_UNKNOWN);
	assert_int_equal(p2pdma_cache_lookup(r, p, vf), P2PDMA_MAP_NOT_SUPPORTED);

	/* 2.2 "if provider->p2pdma": no p2pdma state, no cache. */
	p2pdma_calc(r, x, pf, false, &v);
	assert_int_equal(p2pdma_cache_lookup(r, x, pf), P2PDMA_MAP_UNKNOWN);
	/* Holding a provider means pcim_p2pdma_init() ran: it caches now. */
	p2pdma_provider_map_type(r, x, pf, &v);
	assert_int_equal(p2pdma_cache_lookup(r, x, pf), P2PDMA_MAP_BUS_ADDR);

	/* App. B 7: map_type does not walk to a PCI parent. */
	assert_int_equal(p2pdma_provider_map_type(r, p, NULL, &v),
			 P2PDMA_MAP_NOT_SUPPORTED);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
}

/* --- spec 2.3: distance_many --- */

static void test_distance_many(void **state)
{
	struct p2pdma_topo *t = build(UNLISTED, 0x1000);
	struct p2pdma_policy *pol = policy(NULL);
	struct p2pdma_verdict v[3];
	struct p2pdma_router *r;
	const struct p2pdma_dev *p, *cl[3];

	(void)state;
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	p = dev(t, "03:00.0");
	cl[0] = dev(t, "08:00.0");	/* BUS_ADDR, 4 */
	cl[1] = dev(t, "10:00.0");	/* NOT_SUPPORTED (other root port) */
	cl[2] = dev(t, "06:00.0");	/* BUS_ADDR, 6 */

	assert_int_equal(p2pdma_distance_many(r, p, cl, 0, true, NULL), -1);
	/* the sum */
	{
		const struct p2pdma_dev *ok[2] = { cl[0], cl[2] };

		assert_int_equal(p2pdma_distance_many(r, p, ok, 2, false, v), 10);
	}
	/* non-verbose stops at the first failure */
	assert_int_equal(p2pdma_distance_many(r, p, cl, 3, false, v), -1);
	assert_int_equal(v[1].map_type, P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(v[2].map_type, P2PDMA_MAP_UNKNOWN);
	/* verbose evaluates every client and prints every warning */
	assert_int_equal(p2pdma_distance_many(r, p, cl, 3, true, v), -1);
	assert_int_equal(v[1].ndmesg, 1);
	assert_int_equal(v[2].map_type, P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(v[2].distance, 6);
	/* a client without a PCI parent fails the whole query (2.3) */
	{
		const struct p2pdma_dev *np[2] = { cl[0], NULL };

		assert_int_equal(p2pdma_distance_many(r, p, np, 2, true, v), -1);
	}
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
}

/* --- spec 1.5: find_many --- */

static void test_find_many(void **state)
{
	struct p2pdma_topo *t = build(UNLISTED, 0x1000);
	struct p2pdma_policy *pol = policy(NULL);
	struct p2pdma_find_result *res = malloc(sizeof(*res));
	struct p2pdma_router *r;
	const struct p2pdma_dev *c, *s, *x;
	unsigned int counts[3] = { 0 };
	uint64_t seed;

	(void)state;
	assert_non_null(res);
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	c = dev(t, "06:00.0");
	s = dev(t, "08:00.0");
	x = dev(t, "10:00.0");

	/* The PRNG: exact values of splitmix64 + Lemire reduction. */
	assert_int_equal(p2pdma_random_below(1, 3), 1);
	assert_int_equal(p2pdma_random_below(2, 3), 1);
	assert_int_equal(p2pdma_random_below(42, 3), 2);
	assert_int_equal(p2pdma_random_below(7, 512), 199);
	for (seed = 0; seed < 3000; seed++)
		counts[p2pdma_random_below(seed, 3)]++;
	assert_int_equal(counts[0], 1004);
	assert_int_equal(counts[1], 971);
	assert_int_equal(counts[2], 1025);

	/* Published: 03:00.0, 03:00.1, 08:00.0, all at distance 6 from C. */
	assert_int_equal(p2pdma_find_many(r, &c, 1, 42, res), 0);
	assert_int_equal(res->distance, 6);
	assert_int_equal(res->ncandidates, 3);
	assert_ptr_equal(res->candidates[0], dev(t, "03:00.0"));
	assert_ptr_equal(res->candidates[1], dev(t, "03:00.1"));
	assert_ptr_equal(res->candidates[2], s);
	assert_int_equal(res->draw, 2);
	assert_ptr_equal(res->pick, s);
	assert_int_equal(p2pdma_find_many(r, &c, 1, 1, res), 0);
	assert_ptr_equal(res->pick, dev(t, "03:00.1"));
	/* the minimal set only: S itself is at distance 0 from S */
	assert_int_equal(p2pdma_find_many(r, &s, 1, 1, res), 0);
	assert_int_equal(res->ncandidates, 1);
	assert_ptr_equal(res->pick, s);
	assert_int_equal(res->distance, 0);
	/* none reachable (X's host bridge path is refused): NULL */
	assert_int_equal(p2pdma_find_many(r, &x, 1, 1, res), -ENODEV);
	assert_null(res->pick);
	/* n == 0: distance_many is -1 for everyone */
	assert_int_equal(p2pdma_find_many(r, &x, 0, 1, res), -ENODEV);
	/* a nominated provider (what-if) joins; its distance to X is 2 */
	p2pdma_router_set_published(r, dev(t, "10:00.1"), true);
	assert_int_equal(p2pdma_find_many(r, &x, 1, 1, res), 0);
	assert_ptr_equal(res->pick, dev(t, "10:00.1"));
	assert_int_equal(res->distance, 2);
	/* find_many filled the caches silently (App. B 6) */
	assert_int_equal(p2pdma_cache_lookup(r, dev(t, "03:00.0"), x),
			 P2PDMA_MAP_NOT_SUPPORTED);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
	free(res);
}

/* --- the synthetic generator, and the fast path at scale --- */

static void test_synth(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_policy *pol;
	struct p2pdma_router *r;
	size_t i, eps = 0;

	(void)state;
	assert_int_equal(p2pdma_topo_synth(ctx, "hb=2,rp=2,sw=2,ds=2,ep=4,acs=0.5,seed=3", &t), 0);
	fixture_assert_invariants(t);
	for (i = 0; i < p2pdma_topo_num_devs(t); i++)
		if (p2pdma_topo_dev(t, i)->pcie_type == P2PDMA_PCIE_ENDPOINT)
			eps++;
	assert_int_equal(eps, 2 * 2 * 2 * 2 * 4);
	assert_int_equal(p2pdma_topo_num_host_bridges(t), 2);
	pol = policy(NULL);
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	assert_fast_agrees(r, t);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	pol = policy("AuthenticAMD:25");
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	assert_fast_agrees(r, t);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	/* Older kernel eras (2.2 before map types: ACS means refused). */
	{
		static const char *const kernels[] = { "4.20", "5.3", "5.8", "6.12" };
		size_t k;

		for (k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
			assert_int_equal(p2pdma_policy_create(ctx, &pol), 0);
			assert_int_equal(p2pdma_policy_set_kernel(pol, kernels[k]), 0);
			assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
			assert_fast_agrees(r, t);
			p2pdma_router_destroy(r);
			p2pdma_policy_destroy(pol);
		}
	}
	p2pdma_topo_destroy(t);

	assert_int_equal(p2pdma_topo_synth(ctx, "hb=1,rp=31,sw=4,ds=8", &t), -ERANGE);
	assert_int_equal(p2pdma_topo_synth(ctx, "bogus=1", &t), -EINVAL);
	assert_int_equal(p2pdma_topo_synth(ctx, "acs=2", &t), -EINVAL);
}

static int setup(void **state)
{
	(void)state;
	ctx = fixture_ctx();
	return ctx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	p2pdma_ctx_destroy(ctx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_acs_list_truncation),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_distance_many),
		cmocka_unit_test(test_find_many),
		cmocka_unit_test(test_synth),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
