// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-dma.c - the DMA layer: domains and groups, page tables, IOVAs, dma_map_phys, the IOVA API, map_sg, the DMA engine (doc/kernel-model.md §3) */
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
#include "dma-private.h"
#include "model-test.h"

/* IOVAs reserved in a DMA domain besides the PCI windows. */
static size_t iovas_in_use(struct p2pdma_kernel *k, const char *bdf)
{
	struct p2pdma_iommu_domain *d = p2pdma_sys_def_domain(k->dma, (int)dev(k, bdf)->index);
	size_t i, n = 0;

	for (i = 0; i < d->iova.n; i++)
		n += !d->iova.r[i].reserved;
	return n;
}

/* --- domains and groups --- */

static void test_default_domain_follows_the_command_line(void **state)
{
	struct p2pdma_kernel *k;

	(void)state;
	/* xeon-8gpu boots with iommu=pt: identity (passthrough). */
	k = boot("xeon-8gpu", "6.19", -1);
	assert_int_equal(p2pdma_dma_default_domain_type(k), P2PDMA_DOMAIN_IDENTITY);
	p2pdma_kernel_shutdown(k);
	/* workstation: IOMMU on, no passthrough: translating DMA domains. */
	k = boot("workstation", "6.19", -1);
	assert_int_equal(p2pdma_dma_default_domain_type(k), P2PDMA_DOMAIN_DMA);
	/* Once in use, the default cannot change. */
	assert_int_equal(p2pdma_dma_set_default_domain(k, P2PDMA_DOMAIN_NONE), -EBUSY);
	p2pdma_kernel_shutdown(k);
	k = boot("workstation", "6.19", P2PDMA_DOMAIN_NONE);
	assert_int_equal(p2pdma_dma_default_domain_type(k), P2PDMA_DOMAIN_NONE);
	assert_int_equal(p2pdma_dma_group(k, dev(k, "00:02.0")), -ENODEV);
	p2pdma_kernel_shutdown(k);
}

static void test_group_moves_as_a_whole(void **state)
{
	struct p2pdma_kernel *k = boot("epyc-2s", "6.19", P2PDMA_DOMAIN_DMA);
	struct p2pdma_iommu_domain *dom, *a, *b, *c;

	(void)state;
	/* The two ConnectX-6 functions without ACS between them share a
	 * group; the GPU on its own root port is alone. */
	assert_int_equal(p2pdma_dma_group(k, dev(k, "42:00.0")), p2pdma_dma_group(k, dev(k, "42:00.1")));
	assert_int_not_equal(p2pdma_dma_group(k, dev(k, "41:00.0")), p2pdma_dma_group(k, dev(k, "42:00.0")));
	assert_int_equal(p2pdma_dma_domain(k, dev(k, "42:00.0"), &a), 0);
	assert_int_equal(p2pdma_dma_domain(k, dev(k, "42:00.1"), &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(p2pdma_iommu_domain_type(a), P2PDMA_DOMAIN_DMA);
	assert_int_equal(p2pdma_iommu_domain_alloc(k, P2PDMA_DOMAIN_UNMANAGED, &dom), 0);
	assert_int_equal(p2pdma_iommu_attach_group(k, dom, dev(k, "42:00.0")), 0);
	assert_int_equal(p2pdma_dma_domain(k, dev(k, "42:00.1"), &c), 0);
	assert_ptr_equal(c, dom);
	assert_int_equal(p2pdma_dma_domain(k, dev(k, "41:00.0"), &c), 0);
	assert_ptr_not_equal(c, dom);
	assert_int_equal(p2pdma_iommu_domain_free(dom), -EBUSY);
	assert_int_equal(p2pdma_iommu_attach_group(k, NULL, dev(k, "42:00.1")), 0);
	assert_int_equal(p2pdma_dma_domain(k, dev(k, "42:00.0"), &c), 0);
	assert_ptr_equal(c, a);
	assert_int_equal(p2pdma_iommu_domain_free(dom), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_page_table_maps_looks_up_and_splits(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	struct p2pdma_iommu_domain *dom;
	uint64_t phys;
	unsigned int prot;

	(void)state;
	assert_int_equal(p2pdma_iommu_domain_alloc(k, P2PDMA_DOMAIN_UNMANAGED, &dom), 0);
	/* 2 MiB aligned both sides: one large leaf. */
	assert_int_equal(p2pdma_iommu_map(dom, 0x40000000, 0x200000000, 0x200000,
					  P2PDMA_IOMMU_READ), 0);
	assert_int_equal(p2pdma_iommu_iova_to_phys(dom, 0x40123456, &phys, &prot), 0);
	assert_int_equal(phys, 0x200123456ULL);
	assert_int_equal(prot, P2PDMA_IOMMU_READ);
	/* Overlap: refused, nothing changes. */
	assert_int_equal(p2pdma_iommu_map(dom, 0x401ff000, 0x1000, 0x2000, P2PDMA_IOMMU_READ), -EEXIST);
	assert_int_equal(p2pdma_iommu_iova_to_phys(dom, 0x40200000, &phys, NULL), -ENOENT);
	/* Unaligned and outside the aperture. */
	assert_int_equal(p2pdma_iommu_map(dom, 0x1001, 0, 0x1000, 0), -EINVAL);
	assert_int_equal(p2pdma_iommu_map(dom, 1ULL << 48, 0, 0x1000, 0), -EINVAL);
	/* Unmapping one page of the large leaf splits it. */
	assert_int_equal(p2pdma_iommu_unmap(dom, 0x40001000, 0x1000), 0x1000);
	assert_int_equal(p2pdma_iommu_iova_to_phys(dom, 0x40001000, &phys, NULL), -ENOENT);
	assert_int_equal(p2pdma_iommu_iova_to_phys(dom, 0x40002010, &phys, NULL), 0);
	assert_int_equal(phys, 0x200002010ULL);
	assert_int_equal(p2pdma_iommu_unmap(dom, 0x40000000, 0x200000), 0x1ff000);
	assert_int_equal(p2pdma_iommu_iova_to_phys(dom, 0x40000000, &phys, NULL), -ENOENT);
	/* A 1 GiB leaf and 4 KiB pages around it. */
	assert_int_equal(p2pdma_iommu_map(dom, 0x40000000 - 0x1000, 0x100000000 - 0x1000,
					  0x40002000, P2PDMA_IOMMU_READ | P2PDMA_IOMMU_WRITE), 0);
	assert_int_equal(p2pdma_iommu_iova_to_phys(dom, 0x7fffffff, &phys, NULL), 0);
	assert_int_equal(phys, 0x13fffffffULL);
	assert_int_equal(p2pdma_iommu_unmap(dom, 0x40000000 - 0x1000, 0x40002000), 0x40002000);
	assert_int_equal(p2pdma_iommu_domain_free(dom), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_engine_faults_on_unmapped_iova_and_permission(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	struct p2pdma_iommu_domain *dom;
	const struct p2pdma_dev *nic = dev(k, "1a:00.0");
	char out[8] = "", in[8] = "payload";

	(void)state;
	assert_int_equal(p2pdma_iommu_domain_alloc(k, P2PDMA_DOMAIN_UNMANAGED, &dom), 0);
	assert_int_equal(p2pdma_iommu_attach_group(k, dom, nic), 0);
	assert_int_equal(p2pdma_dma_write(k, nic, 0x10000, in, 8), -EFAULT);
	assert_int_equal(log_has(k, "not mapped"), 1);
	assert_int_equal(p2pdma_iommu_map(dom, 0x10000, 0x5000000, 0x1000, P2PDMA_IOMMU_READ), 0);
	assert_int_equal(p2pdma_dma_write(k, nic, 0x10008, in, 8), -EFAULT);
	assert_int_equal(log_has(k, "no write permission"), 1);
	assert_int_equal(p2pdma_phys_write(k, 0x5000008, in, 8), 0);
	assert_int_equal(p2pdma_dma_read(k, nic, 0x10008, out, 8), 0);
	assert_string_equal(out, "payload");
	/* A blocked domain faults everything. */
	{
		struct p2pdma_iommu_domain *blk;

		assert_int_equal(p2pdma_iommu_domain_alloc(k, P2PDMA_DOMAIN_BLOCKED, &blk), 0);
		assert_int_equal(p2pdma_iommu_attach_group(k, blk, nic), 0);
		assert_int_equal(p2pdma_dma_read(k, nic, 0x10008, out, 8), -EFAULT);
		assert_int_equal(p2pdma_iommu_attach_group(k, NULL, nic), 0);
		assert_int_equal(p2pdma_iommu_domain_free(blk), 0);
	}
	assert_int_equal(p2pdma_iommu_domain_free(dom), 0);
	p2pdma_kernel_shutdown(k);
}

/* --- dma_map_phys() --- */

static void test_map_phys_direct_mask_and_mmio_never_bounced(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_NONE);
	const struct p2pdma_dev *nic = dev(k, "1a:00.0");
	uint64_t a, phys = 0x180000000ULL;
	char buf[16] = "bounce me", out[16] = "";

	(void)state;
	a = p2pdma_dma_map_phys(k, nic, phys, 16, P2PDMA_DMA_BIDIRECTIONAL, 0);
	assert_int_equal(a, phys);
	assert_int_equal(p2pdma_dma_unmap_phys(k, nic, a, 16, P2PDMA_DMA_BIDIRECTIONAL, 0), 0);
	/* A 32-bit device: memory above 4 GiB is bounced through swiotlb... */
	assert_int_equal(p2pdma_dma_set_mask(k, nic, 0xffffffffULL), 0);
	assert_int_equal(p2pdma_dma_set_mask(k, nic, 0xffffffULL), -EIO);
	assert_int_equal(p2pdma_phys_write(k, phys, buf, 16), 0);
	a = p2pdma_dma_map_phys(k, nic, phys, 16, P2PDMA_DMA_BIDIRECTIONAL, 0);
	assert_int_not_equal(a, P2PDMA_DMA_MAPPING_ERROR);
	assert_true(a >= SWIOTLB_BASE && a < SWIOTLB_BASE + SWIOTLB_SIZE);
	assert_int_equal(p2pdma_dma_read(k, nic, a, out, 16), 0);
	assert_string_equal(out, "bounce me");
	assert_int_equal(p2pdma_dma_write(k, nic, a, "device wrote", 13), 0);
	assert_int_equal(p2pdma_dma_unmap_phys(k, nic, a, 16, P2PDMA_DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(p2pdma_phys_read(k, phys, out, 16), 0);
	assert_string_equal(out, "device wrote");
	/* ...but MMIO never is: a mapping error. */
	a = p2pdma_dma_map_phys(k, nic, bar(k, "18:00.0", 1), 4096, P2PDMA_DMA_TO_DEVICE,
				P2PDMA_DMA_ATTR_MMIO);
	assert_int_equal(a, P2PDMA_DMA_MAPPING_ERROR);
	assert_int_equal(p2pdma_dma_mapping_error(a), -ENOMEM);
	assert_int_equal(log_has(k, "no swiotlb for MMIO"), 1);
	p2pdma_kernel_shutdown(k);
}

static void test_map_phys_dma_domain_gives_iova(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	const struct p2pdma_dev *nic = dev(k, "1a:00.0");
	struct p2pdma_iommu_domain *d;
	uint64_t a, phys, mmio = bar(k, "18:00.0", 1) + 0x3000;
	unsigned int prot;

	(void)state;
	a = p2pdma_dma_map_phys(k, nic, mmio + 0x10, 0x100, P2PDMA_DMA_TO_DEVICE,
				P2PDMA_DMA_ATTR_MMIO);
	assert_int_not_equal(a, P2PDMA_DMA_MAPPING_ERROR);
	assert_int_not_equal(a, mmio + 0x10);
	assert_true(a < (1ULL << 32));		/* SAC first */
	assert_int_equal(a & 0xfff, 0x10);
	assert_int_equal(p2pdma_dma_domain(k, nic, &d), 0);
	assert_int_equal(p2pdma_iommu_iova_to_phys(d, a, &phys, &prot), 0);
	assert_int_equal(phys, mmio + 0x10);
	assert_int_equal(prot, P2PDMA_IOMMU_READ | P2PDMA_IOMMU_MMIO);
	assert_int_equal(iovas_in_use(k, "1a:00.0"), 1);
	assert_int_equal(p2pdma_dma_unmap_phys(k, nic, a, 0x100, P2PDMA_DMA_TO_DEVICE,
					       P2PDMA_DMA_ATTR_MMIO), 0);
	assert_int_equal(iovas_in_use(k, "1a:00.0"), 0);
	assert_int_equal(p2pdma_iommu_iova_to_phys(d, a, &phys, NULL), -ENOENT);
	/* Unmapping twice is a driver bug the DMA-API debug code reports. */
	assert_int_equal(p2pdma_dma_unmap_phys(k, nic, a, 0x100, P2PDMA_DMA_TO_DEVICE, 0), -ENOENT);
	assert_int_equal(log_has(k, "has not allocated"), 1);
	p2pdma_kernel_shutdown(k);
}

/* --- the IOVA API --- */

static void test_iova_api_not_in_use_without_dma_domain(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);	/* identity */
	struct p2pdma_iova_state st = { 0 };

	(void)state;
	assert_false(p2pdma_dma_iova_try_alloc(k, dev(k, "1a:00.0"), &st, 0, 0x10000));
	assert_false(p2pdma_dma_use_iova(&st));
	assert_int_equal(p2pdma_dma_iova_link(k, dev(k, "1a:00.0"), &st, 0x1000, 0, 0x1000,
					      P2PDMA_DMA_TO_DEVICE, 0), -EINVAL);
	p2pdma_kernel_shutdown(k);
}

static void test_iova_api_link_sync_destroy(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	const struct p2pdma_dev *nic = dev(k, "1a:00.0");
	struct p2pdma_iova_state st = { 0 };
	uint64_t p0 = bar(k, "18:00.0", 1), p1 = bar(k, "18:00.0", 1) + 0x100000;
	char in[4] = "abc", out[4] = "";

	(void)state;
	/* Bit 63 of the size: refused with a WARN. */
	assert_false(p2pdma_dma_iova_try_alloc(k, nic, &st, 0, 1ULL << 63));
	assert_int_equal(log_has(k, "DMA_IOVA_USE_SWIOTLB"), 1);
	assert_true(p2pdma_dma_iova_try_alloc(k, nic, &st, 0, 0x3000));
	assert_true(p2pdma_dma_use_iova(&st));
	assert_int_equal(p2pdma_dma_iova_link(k, nic, &st, p0, 0, 0x1000, P2PDMA_DMA_BIDIRECTIONAL,
					      P2PDMA_DMA_ATTR_MMIO), 0);
	assert_int_equal(p2pdma_dma_iova_link(k, nic, &st, p1, 0x1000, 0x2000,
					      P2PDMA_DMA_BIDIRECTIONAL, P2PDMA_DMA_ATTR_MMIO), 0);
	/* Linked over itself: the page table refuses. */
	assert_int_equal(p2pdma_dma_iova_link(k, nic, &st, p1, 0, 0x1000,
					      P2PDMA_DMA_BIDIRECTIONAL, 0), -EEXIST);
	/* An unaligned chunk past the start: WARN, -EIO. */
	assert_int_equal(p2pdma_dma_iova_link(k, nic, &st, p1 + 8, 0x1000, 0x100,
					      P2PDMA_DMA_BIDIRECTIONAL, 0), -EIO);
	/* Not synced yet: the device may not see it. */
	assert_int_equal(p2pdma_dma_write(k, nic, st.addr + 0x1000, in, 4), -EFAULT);
	assert_int_equal(log_has(k, "never synced"), 1);
	assert_int_equal(p2pdma_dma_iova_sync(k, nic, &st, 0, 0x3000), 0);
	assert_int_equal(p2pdma_dma_write(k, nic, st.addr + 0x1000, in, 4), 0);
	assert_int_equal(p2pdma_phys_read(k, p1, out, 4), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(iovas_in_use(k, "1a:00.0"), 1);
	p2pdma_dma_iova_destroy(k, nic, &st, 0x3000, P2PDMA_DMA_BIDIRECTIONAL, P2PDMA_DMA_ATTR_MMIO);
	assert_false(p2pdma_dma_use_iova(&st));
	assert_int_equal(iovas_in_use(k, "1a:00.0"), 0);
	p2pdma_kernel_shutdown(k);
}

/* --- map_sg over system and P2P pages (§3.3) --- */

static void test_map_sg_marks_bus_addr_and_maps_the_rest(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);	/* identity */
	const struct p2pdma_dev *nic = dev(k, "ac:00.0");
	struct p2pdma_provider *same_switch = provider(k, "aa:00.0", 1);
	struct p2pdma_provider *other_hb = provider(k, "18:00.0", 1);
	struct p2pdma_sg_page pages[3] = {
		{ NULL, 0x100000000ULL, 4096 },
		{ same_switch, bar(k, "aa:00.0", 1) + 0x2000, 4096 },
		{ other_hb, bar(k, "18:00.0", 1) + 0x4000, 8192 },
	};
	struct p2pdma_sgt *s;
	const struct p2pdma_provider *pp;
	uint64_t phys;

	(void)state;
	assert_int_equal(p2pdma_dma_map_sg(k, nic, pages, 3, P2PDMA_DMA_BIDIRECTIONAL, 0, &s), 0);
	assert_int_equal(p2pdma_sgt_nents(s), 3);
	assert_int_equal(p2pdma_sgt_orig_nents(s), 3);
	assert_false(p2pdma_sgt_is_bus_address(s, 0));
	assert_int_equal(p2pdma_sgt_dma_address(s, 0), 0x100000000ULL);
	assert_true(p2pdma_sgt_is_bus_address(s, 1));
	assert_int_equal(p2pdma_sgt_dma_address(s, 1), bar(k, "aa:00.0", 1) + 0x2000);
	assert_false(p2pdma_sgt_is_bus_address(s, 2));	/* THRU_HOST_BRIDGE: like memory */
	assert_int_equal(p2pdma_sgt_dma_address(s, 2), bar(k, "18:00.0", 1) + 0x4000);
	assert_int_equal(p2pdma_sgt_page(s, 1, &pp, &phys), 0);
	assert_ptr_equal(pp, same_switch);
	assert_int_equal(p2pdma_sgt_dma_bytes(s), 16384);
	p2pdma_dma_unmap_sg(k, nic, s, P2PDMA_DMA_BIDIRECTIONAL, 0);
	p2pdma_kernel_shutdown(k);
}

static void test_map_sg_dma_domain_bus_entries_bypass_iommu(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	const struct p2pdma_dev *nic = dev(k, "ac:00.0");
	struct p2pdma_provider *same_switch = provider(k, "aa:00.0", 1);
	struct p2pdma_provider *other_hb = provider(k, "18:00.0", 1);
	struct p2pdma_sg_page pages[3] = {
		{ NULL, 0x100000000ULL, 4096 },
		{ same_switch, bar(k, "aa:00.0", 1), 4096 },
		{ other_hb, bar(k, "18:00.0", 1), 4096 },
	};
	struct p2pdma_iommu_domain *d;
	struct p2pdma_sgt *s;
	uint64_t phys;

	(void)state;
	assert_int_equal(p2pdma_dma_map_sg(k, nic, pages, 3, P2PDMA_DMA_TO_DEVICE, 0, &s), 0);
	assert_int_equal(p2pdma_dma_domain(k, nic, &d), 0);
	assert_true(p2pdma_sgt_is_bus_address(s, 1));
	assert_int_equal(p2pdma_iommu_iova_to_phys(d, p2pdma_sgt_dma_address(s, 1), &phys, NULL), -ENOENT);
	assert_int_equal(p2pdma_iommu_iova_to_phys(d, p2pdma_sgt_dma_address(s, 2), &phys, NULL), 0);
	assert_int_equal(phys, bar(k, "18:00.0", 1));
	assert_int_equal(iovas_in_use(k, "ac:00.0"), 1);	/* one allocation for both */
	p2pdma_dma_unmap_sg(k, nic, s, P2PDMA_DMA_TO_DEVICE, 0);
	assert_int_equal(iovas_in_use(k, "ac:00.0"), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_map_sg_not_supported_fails_the_whole_call(void **state)
{
	struct p2pdma_kernel *k = boot("workstation", "6.19", -1);	/* DMA domains */
	const struct p2pdma_dev *gpu2 = dev(k, "03:00.0");
	struct p2pdma_provider *gpu1 = provider(k, "01:00.0", 1);
	struct p2pdma_sg_page pages[2] = {
		{ NULL, 0x100000000ULL, 4096 },
		{ gpu1, bar(k, "01:00.0", 1), 4096 },
	};
	struct p2pdma_sgt *s = (void *)1;

	(void)state;
	assert_int_equal(p2pdma_dma_map_sg(k, gpu2, pages, 2, P2PDMA_DMA_TO_DEVICE, 0, &s), -EREMOTEIO);
	assert_null(s);
	assert_int_equal(iovas_in_use(k, "03:00.0"), 0);
	/* A P2P page outside its provider's BAR is refused outright. */
	pages[1].phys = 0x1000;
	assert_int_equal(p2pdma_dma_map_sg(k, gpu2, pages, 2, P2PDMA_DMA_TO_DEVICE, 0, &s), -EINVAL);
	assert_int_equal(p2pdma_dma_map_sg(k, gpu2, pages, 0, P2PDMA_DMA_TO_DEVICE, 0, &s), -EINVAL);
	p2pdma_kernel_shutdown(k);
}

static void test_map_sg_thru_host_bridge_unset_in_616_bug(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	const struct p2pdma_dev *nic = dev(k, "ac:00.0");
	struct p2pdma_sg_page page = { provider(k, "18:00.0", 1), bar(k, "18:00.0", 1), 4096 };
	struct p2pdma_sgt *s;

	(void)state;
	assert_int_equal(p2pdma_dma_set_quirks(k, p2pdma_dma_quirks(k) | P2PDMA_QUIRK_DIRECT_THB_UNSET), 0);
	assert_int_equal(p2pdma_dma_map_sg(k, nic, &page, 1, P2PDMA_DMA_TO_DEVICE, 0, &s), 0);
	assert_int_equal(p2pdma_sgt_dma_address(s, 0), 0);	/* left unset */
	p2pdma_dma_unmap_sg(k, nic, s, P2PDMA_DMA_TO_DEVICE, 0);
	p2pdma_kernel_shutdown(k);
}

/* --- the DMA engine routes like the fabric --- */

static void test_engine_switch_routes_bus_addresses_before_translation(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	const struct p2pdma_dev *nic = dev(k, "ac:00.0");
	struct p2pdma_iommu_domain *dom;
	uint64_t gpu0 = bar(k, "aa:00.0", 0);
	char out[6] = "";

	(void)state;
	/* BUS_ADDR: the switch sends it to the peer's BAR. */
	assert_int_equal(p2pdma_dma_write(k, nic, gpu0 + 0x40, "hello", 6), 0);
	assert_int_equal(p2pdma_phys_read(k, gpu0 + 0x40, out, 6), 0);
	assert_string_equal(out, "hello");
	/* An IOVA that happens to equal a peer's bus address never reaches
	 * the IOMMU: the switch routes it first. */
	assert_int_equal(p2pdma_iommu_domain_alloc(k, P2PDMA_DOMAIN_UNMANAGED, &dom), 0);
	assert_int_equal(p2pdma_iommu_attach_group(k, dom, nic), 0);
	assert_int_equal(p2pdma_iommu_map(dom, gpu0, 0x300000000ULL, 0x1000,
					  P2PDMA_IOMMU_READ | P2PDMA_IOMMU_WRITE), 0);
	assert_int_equal(p2pdma_dma_write(k, nic, gpu0 + 0x80, "peer!", 6), 0);
	assert_int_equal(p2pdma_phys_read(k, gpu0 + 0x80, out, 6), 0);
	assert_string_equal(out, "peer!");
	assert_int_equal(p2pdma_phys_read(k, 0x300000080ULL, out, 6), 0);
	assert_int_equal(out[0], 0);
	assert_int_equal(p2pdma_iommu_attach_group(k, NULL, nic), 0);
	assert_int_equal(p2pdma_iommu_domain_free(dom), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_engine_host_bridge_not_forwarding_loses_the_request(void **state)
{
	struct p2pdma_kernel *k = boot("workstation", "6.19", P2PDMA_DOMAIN_IDENTITY);
	uint64_t gpu1 = bar(k, "01:00.0", 1);

	(void)state;
	assert_int_equal(p2pdma_dma_write(k, dev(k, "03:00.0"), gpu1, "x", 1), -EREMOTEIO);
	assert_int_equal(log_has(k, "not known to do: lost"), 1);
	/* Memory is fine. */
	assert_int_equal(p2pdma_dma_write(k, dev(k, "03:00.0"), 0x100000, "x", 1), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_engine_bar_not_decoding_is_unsupported_request(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	uint64_t gpu0 = bar(k, "aa:00.0", 0);

	(void)state;
	assert_int_equal(p2pdma_dma_set_decode(k, dev(k, "aa:00.0"), false), 0);
	assert_int_equal(p2pdma_dma_write(k, dev(k, "ac:00.0"), gpu0, "x", 1), -EIO);
	assert_int_equal(log_has(k, "does not decode"), 1);
	assert_int_equal(p2pdma_dma_set_decode(k, dev(k, "aa:00.0"), true), 0);
	assert_int_equal(p2pdma_dma_write(k, dev(k, "ac:00.0"), gpu0, "x", 1), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_doorbell_counts_writes(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	uint64_t db = bar(k, "aa:00.0", 0) + 0x800;

	(void)state;
	assert_int_equal(p2pdma_phys_add_doorbell(k, db, 8), 0);
	assert_int_equal(p2pdma_dma_write(k, dev(k, "ac:00.0"), db, "12345678", 8), 0);
	assert_int_equal(p2pdma_dma_write(k, dev(k, "ac:00.0"), db + 4, "1234", 4), 0);
	assert_int_equal(p2pdma_phys_doorbell_rings(k, db), 2);
	assert_int_equal(p2pdma_phys_doorbell_rings(k, db + 0x1000), 0);
	assert_int_equal(p2pdma_phys_add_doorbell(k, db, 0), -EINVAL);
	p2pdma_kernel_shutdown(k);
}

static void test_quirks_follow_the_release(void **state)
{
	(void)state;
	assert_true(p2pdma_quirks_for_release("6.19-rc1") & P2PDMA_QUIRK_SGT_ADDR_OVERFLOW);
	assert_true(p2pdma_quirks_for_release("6.19-rc1") & P2PDMA_QUIRK_VFIO_NO_PIN);
	assert_true(p2pdma_quirks_for_release("6.19-rc6") & P2PDMA_QUIRK_VFIO_NO_PIN);
	assert_false(p2pdma_quirks_for_release("6.19-rc6") & P2PDMA_QUIRK_SGT_ADDR_OVERFLOW);
	assert_false(p2pdma_quirks_for_release("6.19") & P2PDMA_QUIRK_VFIO_NO_PIN);
	assert_true(p2pdma_quirks_for_release("6.19") & P2PDMA_QUIRK_SGT_MAX_ENT_UINT);
	assert_true(p2pdma_quirks_for_release("6.19.3") & P2PDMA_QUIRK_VFIO_FD_DOUBLE_FREE);
	assert_false(p2pdma_quirks_for_release("7.2") & P2PDMA_QUIRK_SGT_MAX_ENT_UINT);
	assert_true(p2pdma_quirks_for_release("7.2") & P2PDMA_QUIRK_SGT_IOVA_OFFSET_ZERO);
	assert_non_null(p2pdma_dma_quirk_name(P2PDMA_QUIRK_MOVE_NOTIFY));
	assert_null(p2pdma_dma_quirk_name(3));
}

/* One run of everything above that allocates; 0 when it all worked. */
static int alloc_scenario(struct p2pdma_kernel *k)
{
	const struct p2pdma_dev *nic = dev(k, "ac:00.0");
	struct p2pdma_provider *same_switch, *other_hb;
	struct p2pdma_iommu_domain *dom = NULL;
	struct p2pdma_iova_state st = { 0 };
	struct p2pdma_sgt *s = NULL;
	uint64_t a;
	int ret, first = 0;

	if (p2pdma_kernel_provider(k, dev(k, "aa:00.0"), 1, &same_switch) ||
	    p2pdma_kernel_provider(k, dev(k, "18:00.0"), 1, &other_hb))
		return -EINVAL;
	{
		struct p2pdma_sg_page pages[3] = {
			{ NULL, 0x100000000ULL, 4096 },
			{ same_switch, same_switch ? bar(k, "aa:00.0", 1) : 0, 4096 },
			{ other_hb, bar(k, "18:00.0", 1), 4096 },
		};

		ret = p2pdma_dma_map_sg(k, nic, pages, 3, P2PDMA_DMA_BIDIRECTIONAL, 0, &s);
		if (ret && !first)
			first = ret;
		p2pdma_dma_unmap_sg(k, nic, s, P2PDMA_DMA_BIDIRECTIONAL, 0);
	}
	a = p2pdma_dma_map_phys(k, nic, bar(k, "18:00.0", 1), 0x3000, P2PDMA_DMA_TO_DEVICE,
				P2PDMA_DMA_ATTR_MMIO);
	if (a == P2PDMA_DMA_MAPPING_ERROR)
		first = first ? first : -ENOMEM;
	else
		p2pdma_dma_unmap_phys(k, nic, a, 0x3000, P2PDMA_DMA_TO_DEVICE, P2PDMA_DMA_ATTR_MMIO);
	if (p2pdma_dma_iova_try_alloc(k, nic, &st, 0, 0x2000)) {
		ret = p2pdma_dma_iova_link(k, nic, &st, bar(k, "18:00.0", 1), 0, 0x2000,
					   P2PDMA_DMA_TO_DEVICE, 0);
		if (ret && !first)
			first = ret;
		p2pdma_dma_iova_destroy(k, nic, &st, ret ? 0 : 0x2000, P2PDMA_DMA_TO_DEVICE, 0);
	} else {
		first = first ? first : -ENOMEM;
	}
	ret = p2pdma_iommu_domain_alloc(k, P2PDMA_DOMAIN_UNMANAGED, &dom);
	if (!ret) {
		ret = p2pdma_iommu_map(dom, 0x1000000, 0x2000000, 0x400000, P2PDMA_IOMMU_READ);
		p2pdma_iommu_domain_free(dom);
	}
	if (ret && !first)
		first = ret;
	/* Through the switch into the peer's BAR: a page of the store. */
	ret = p2pdma_dma_write(k, nic, bar(k, "aa:00.0", 0) + 0x5000, "x", 1);
	if (ret && !first)
		first = ret;
	return first;
}

/* The machine of alloc_scenario(), its providers bound outside the run. */
static struct p2pdma_kernel *alloc_machine(void)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);

	provider(k, "aa:00.0", 1);
	provider(k, "18:00.0", 1);
	return k;
}

static void test_allocation_failure_at_every_site_is_clean(void **state)
{
	(void)state;
	alloc_fault_sweep(alloc_machine, alloc_scenario, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_domain_follows_the_command_line),
		cmocka_unit_test(test_group_moves_as_a_whole),
		cmocka_unit_test(test_page_table_maps_looks_up_and_splits),
		cmocka_unit_test(test_engine_faults_on_unmapped_iova_and_permission),
		cmocka_unit_test(test_map_phys_direct_mask_and_mmio_never_bounced),
		cmocka_unit_test(test_map_phys_dma_domain_gives_iova),
		cmocka_unit_test(test_iova_api_not_in_use_without_dma_domain),
		cmocka_unit_test(test_iova_api_link_sync_destroy),
		cmocka_unit_test(test_map_sg_marks_bus_addr_and_maps_the_rest),
		cmocka_unit_test(test_map_sg_dma_domain_bus_entries_bypass_iommu),
		cmocka_unit_test(test_map_sg_not_supported_fails_the_whole_call),
		cmocka_unit_test(test_map_sg_thru_host_bridge_unset_in_616_bug),
		cmocka_unit_test(test_engine_switch_routes_bus_addresses_before_translation),
		cmocka_unit_test(test_engine_host_bridge_not_forwarding_loses_the_request),
		cmocka_unit_test(test_engine_bar_not_decoding_is_unsupported_request),
		cmocka_unit_test(test_doorbell_counts_writes),
		cmocka_unit_test(test_quirks_follow_the_release),
		cmocka_unit_test(test_allocation_failure_at_every_site_is_clean),
	};

	return cmocka_run_group_tests(tests, model_setup, model_teardown);
}
