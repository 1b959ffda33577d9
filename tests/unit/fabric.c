// SPDX-License-Identifier: LGPL-2.1-or-later
/* fabric.c - the routing test fabric shared by test-verdict and test-kernel */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fabric.h"

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
 * turns redirect on where it says.  doc/kernel-model.md §B9 and §B10 (VFIO
 * dma-buf, phys_vec_to_sgt) belong to later layers and are not tested here.
 */

struct p2pdma_topo *fabric_build(struct p2pdma_ctx *ctx, uint16_t hostdev_device,
				  uint16_t hb1_device)
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

struct p2pdma_dev *fabric_dev(const struct p2pdma_topo *t, const char *bdf)
{
	struct p2pdma_dev *d = p2pdma_topo_find(t, bdf);

	if (!d)
		fail_msg("no %s", bdf);
	return d;
}

struct p2pdma_policy *fabric_policy(struct p2pdma_ctx *ctx, const char *cpu)
{
	struct p2pdma_policy *pol;

	assert_int_equal(p2pdma_policy_create(ctx, &pol), 0);
	assert_int_equal(p2pdma_policy_set_kernel(pol, "6.19"), 0);
	if (cpu)
		assert_int_equal(p2pdma_policy_set_cpu(pol, cpu), 0);
	return pol;
}

