// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-vfio.c - VFIO dma-buf export: the uAPI, the checks in the kernel's order, the exporter ops, every revoke trigger, close, nvgrace, explain, real calls (doc/kernel-model.md §5) */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "vfio-private.h"
#include "model-test.h"

/* Bind vfio-pci (after the captured driver) and open. */
static struct p2pdma_vfio_dev *vfio(struct p2pdma_kernel *k, const char *bdf,
				    const struct p2pdma_vfio_bind_opts *opts)
{
	struct p2pdma_vfio_dev *v;

	if (p2pdma_kernel_driver(k, dev(k, bdf)))
		assert_int_equal(p2pdma_kernel_unbind(k, dev(k, bdf)), 0);
	assert_int_equal(p2pdma_vfio_bind(k, dev(k, bdf), opts, &v), 0);
	assert_int_equal(p2pdma_vfio_open(v), 0);
	return v;
}

/* A request as a VMM builds it. */
struct req {
	uint8_t b[24 + 16 * 8];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static struct req *req(struct req *r, uint32_t region, uint32_t nr, const uint64_t *offlen)
{
	uint32_t i;

	memset(r, 0, sizeof(*r));
	r->len = 24 + 16 * (size_t)nr;
	put32(r->b, (uint32_t)r->len);
	put32(r->b + 4, P2PDMA_VFIO_DEVICE_FEATURE_GET | P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF);
	put32(r->b + 8, region);
	put32(r->b + 12, P2PDMA_O_RDWR | P2PDMA_O_CLOEXEC);
	put32(r->b + 20, nr);
	for (i = 0; i < nr; i++) {
		put64(r->b + 24 + 16 * i, offlen[2 * i]);
		put64(r->b + 32 + 16 * i, offlen[2 * i + 1]);
	}
	return r;
}

/* The ioctl and explain agree, and the reason names the check. */
static int both(struct p2pdma_vfio_dev *v, const struct req *r, size_t len, const char *why)
{
	struct p2pdma_vfio_explain *ex;
	int e, ret;

	if (!len)
		len = r->len;
	assert_int_equal(p2pdma_vfio_explain_create(&ex), 0);
	e = p2pdma_vfio_explain(v, r->b, len, ex);
	ret = p2pdma_vfio_device_feature(v, r->b, len);
	if (ret > 0) {
		assert_int_equal(e, 0);
		assert_int_equal(p2pdma_dmabuf_close_fd(v->k, ret), 0);
	} else {
		assert_int_equal(e, ret);
	}
	if (why && !strstr(p2pdma_vfio_explain_reason(ex), why))
		fail_msg("reason '%s' lacks '%s'", p2pdma_vfio_explain_reason(ex), why);
	p2pdma_vfio_explain_destroy(ex);
	return ret;
}

/* The ioctl on a whole request. */
static int feat(struct p2pdma_vfio_dev *v, const struct req *r)
{
	return p2pdma_vfio_device_feature(v, r->b, r->len);
}

/* --- the uAPI and the device model --- */

static void test_uapi_structs_byte_for_byte(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct p2pdma_vfio_device_feature), 8);
	assert_int_equal(offsetof(struct p2pdma_vfio_device_feature, flags), 4);
	assert_int_equal(sizeof(struct p2pdma_vfio_device_feature_dma_buf), 16);
	assert_int_equal(offsetof(struct p2pdma_vfio_device_feature_dma_buf, nr_ranges), 12);
	assert_int_equal(offsetof(struct p2pdma_vfio_device_feature_dma_buf, dma_ranges), 16);
	assert_int_equal(sizeof(struct p2pdma_vfio_region_dma_range), 16);
	assert_int_equal(P2PDMA_VFIO_DEVICE_FEATURE, (';' << 8) | (100 + 17));
}

static void test_every_vfio_device_gets_p2pdma_state(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_dev *v;
	uint64_t size;

	(void)state;
	assert_int_equal(p2pdma_vfio_bind(k, dev(k, "18:00.0"), NULL, &v), -EBUSY);	/* nvidia */
	assert_int_equal(p2pdma_kernel_unbind(k, dev(k, "18:00.0")), 0);
	assert_false(p2pdma_kernel_has_p2pdma(k, dev(k, "18:00.0")));
	assert_int_equal(p2pdma_vfio_bind(k, dev(k, "18:00.0"), NULL, &v), 0);
	assert_true(p2pdma_kernel_has_p2pdma(k, dev(k, "18:00.0")));
	assert_false(p2pdma_kernel_has_p2pmem(k, dev(k, "18:00.0")));	/* no pool */
	assert_string_equal(p2pdma_kernel_driver(k, dev(k, "18:00.0")), "vfio-pci");
	assert_ptr_equal(p2pdma_vfio_lookup(k, dev(k, "18:00.0")), v);
	assert_int_equal(p2pdma_vfio_region_size(v, 1, &size), 0);
	assert_int_equal(size, 0x2000000000ULL);
	assert_int_equal(p2pdma_vfio_region_size(v, 8, &size), -EINVAL);
	/* Bridges are not for vfio-pci. */
	assert_int_equal(p2pdma_kernel_unbind(k, dev(k, "17:00.0")), 0);
	assert_int_equal(p2pdma_vfio_bind(k, dev(k, "17:00.0"), NULL, &v), -EINVAL);
	p2pdma_kernel_shutdown(k);
	/* No IOMMU: no group, unless noiommu mode. */
	k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_NONE);
	assert_int_equal(p2pdma_kernel_unbind(k, dev(k, "18:00.0")), 0);
	assert_int_equal(p2pdma_vfio_bind(k, dev(k, "18:00.0"), NULL, &v), -EINVAL);
	{
		struct p2pdma_vfio_bind_opts o = { .size = sizeof(o), .noiommu = true };

		assert_int_equal(p2pdma_vfio_bind(k, dev(k, "18:00.0"), &o, &v), 0);
	}
	p2pdma_kernel_shutdown(k);
}

static void test_open_claims_the_iommu_group(void **state)
{
	struct p2pdma_kernel *k = boot("epyc-2s", "6.19", -1);
	struct p2pdma_vfio_dev *v;

	(void)state;
	/* The two ConnectX functions share a group: mlx5 on 42:00.1 is a
	 * host DMA driver, the group is not viable. */
	assert_int_equal(p2pdma_kernel_unbind(k, dev(k, "42:00.0")), 0);
	assert_int_equal(p2pdma_vfio_bind(k, dev(k, "42:00.0"), NULL, &v), 0);
	assert_int_equal(p2pdma_vfio_open(v), -EBUSY);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "0000:42:00.1 is driven by mlx5_core"));
	assert_int_equal(p2pdma_kernel_unbind(k, dev(k, "42:00.1")), 0);
	assert_int_equal(p2pdma_vfio_open(v), 0);
	assert_true(p2pdma_vfio_is_open(v));
	assert_true(p2pdma_vfio_memory_enabled(v));
	assert_int_equal(p2pdma_vfio_command(v) & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
	p2pdma_kernel_shutdown(k);
}

/* --- VFIO_DEVICE_FEATURE: the checks in order (§5.3) --- */

static void test_generic_feature_checks_come_first(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_dev *v = vfio(k, "18:00.0", NULL);
	uint64_t ol[2] = { 0, 0x10000 };
	struct req r;

	(void)state;
	req(&r, 1, 1, ol);
	assert_int_equal(both(v, &r, 7, "only 7 of its 8 bytes"), -EFAULT);
	put32(r.b, 4);
	assert_int_equal(both(v, &r, r.len, "argsz 4 is smaller"), -EINVAL);
	req(&r, 1, 1, ol);
	put32(r.b + 4, P2PDMA_VFIO_DEVICE_FEATURE_GET | 11 | (1u << 20));
	assert_int_equal(both(v, &r, r.len, "unknown bits 0x100000"), -EINVAL);
	put32(r.b + 4, P2PDMA_VFIO_DEVICE_FEATURE_GET | P2PDMA_VFIO_DEVICE_FEATURE_SET | 11);
	assert_int_equal(both(v, &r, r.len, "GET and SET together"), -EINVAL);
	put32(r.b + 4, P2PDMA_VFIO_DEVICE_FEATURE_GET | 12);
	assert_int_equal(both(v, &r, r.len, "unknown to the kernel"), -ENOTTY);
	put32(r.b + 4, P2PDMA_VFIO_DEVICE_FEATURE_GET | 5);
	assert_int_equal(both(v, &r, r.len, "LOW_POWER_EXIT"), -ENOSYS);
	/* Closed: no descriptor at all. */
	req(&r, 1, 1, ol);
	assert_int_equal(p2pdma_vfio_close(v), 0);
	assert_int_equal(both(v, &r, r.len, "not open"), -EBADF);
	p2pdma_kernel_shutdown(k);
	/* Before 6.19 the feature is unknown: ENOTTY, after the generic checks. */
	k = boot("xeon-8gpu", "6.18", -1);
	v = vfio(k, "18:00.0", NULL);
	assert_int_equal(both(v, &r, r.len, "added in 6.19"), -ENOTTY);
	put32(r.b, 4);
	assert_int_equal(both(v, &r, r.len, "argsz 4"), -EINVAL);
	p2pdma_kernel_shutdown(k);
}

static void test_dma_buf_checks_in_the_kernels_order(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_dev *v = vfio(k, "18:00.0", NULL);
	uint64_t ol[6] = { 0, 0x10000, 0x20000, 0x1000, 0x40000, 0x2000 };
	struct req r;

	(void)state;
	req(&r, 1, 1, ol);
	put32(r.b + 4, P2PDMA_VFIO_DEVICE_FEATURE_SET | P2PDMA_VFIO_DEVICE_FEATURE_PROBE | 11);
	assert_int_equal(both(v, &r, r.len, "GET only"), -EINVAL);
	put32(r.b + 4, P2PDMA_VFIO_DEVICE_FEATURE_GET | P2PDMA_VFIO_DEVICE_FEATURE_PROBE | 11);
	assert_int_equal(both(v, &r, 8, NULL), 0);	/* PROBE: supported */
	put32(r.b + 4, 11);
	assert_int_equal(both(v, &r, r.len, "neither GET nor PROBE"), -EINVAL);
	req(&r, 1, 1, ol);
	put32(r.b, 8 + 15);
	assert_int_equal(both(v, &r, r.len, "less than struct vfio_device_feature_dma_buf"), -EINVAL);
	req(&r, 1, 1, ol);
	assert_int_equal(both(v, &r, 8 + 15, "only 15 of its 16 bytes"), -EFAULT);
	assert_int_equal(both(v, req(&r, 1, 0, ol), 24, "nr_ranges is 0"), -EINVAL);
	req(&r, 1, 1, ol);
	put32(r.b + 16, 1);
	assert_int_equal(both(v, &r, r.len, "must be 0"), -EINVAL);
	assert_int_equal(both(v, req(&r, 6, 1, ol), 0, "region_index 6"), -ENODEV);
	req(&r, 1, 1, ol);
	put32(r.b + 20, 0x40001);	/* over 4 MiB of ranges: more than kmalloc gives */
	assert_int_equal(both(v, &r, r.len, "more than kmalloc"), -ENOMEM);
	put32(r.b + 20, 2);		/* the second range is not there */
	assert_int_equal(both(v, &r, r.len, "only 16 bytes follow"), -EFAULT);
	ol[1] = 0;
	assert_int_equal(both(v, req(&r, 1, 1, ol), 0, "range 0: length 0"), -EINVAL);
	ol[0] = 0x1800;
	ol[1] = 0x1000;
	assert_int_equal(both(v, req(&r, 1, 3, ol), 0, "range 0: offset 0x1800 is not page aligned"), -EINVAL);
	ol[0] = 0;
	ol[5] = 0x2010;
	assert_int_equal(both(v, req(&r, 1, 3, ol), 0, "range 2: length 0x2010 is not page aligned"), -EINVAL);
	{
		uint64_t big[4] = { 0, 0x8000000000000000ULL, 0, 0x8000000000000000ULL };

		assert_int_equal(both(v, req(&r, 1, 2, big), 0, "total length overflows"), -EINVAL);
		big[1] = big[3] = 0x4000000000000000ULL;
		assert_int_equal(both(v, req(&r, 1, 2, big), 0, "bit 63"), -EINVAL);
		big[0] = 0xfffffffffffff000ULL;
		big[1] = 0x1000;
		assert_int_equal(both(v, req(&r, 1, 1, big), 0, "overflows a physical address"), -EOVERFLOW);
	}
	ol[1] = 0x10000;
	ol[5] = 0x2000;
	/* BAR 2 is the upper half of 64-bit BAR 1; BAR 4 not implemented. */
	assert_int_equal(both(v, req(&r, 2, 1, ol), 0, "BAR 2 of 0000:18:00.0 is not a memory BAR"), -EINVAL);
	ol[0] = 0x2000000;	/* BAR 3 is 32 MiB: the range ends beyond it */
	assert_int_equal(both(v, req(&r, 3, 1, ol), 0, "ends beyond the BAR 3"), -EINVAL);
	p2pdma_kernel_shutdown(k);
}

static void test_variant_without_get_dmabuf_phys_is_eopnotsupp(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_bind_opts o = { .size = sizeof(o), .variant = P2PDMA_VFIO_VARIANT_NO_DMABUF };
	struct p2pdma_vfio_dev *v = vfio(k, "1a:00.0", &o);
	uint64_t ol[2] = { 0, 0x1000 };
	struct req r;

	(void)state;
	assert_int_equal(both(v, req(&r, 0, 1, ol), 0, "no get_dmabuf_phys"), -EOPNOTSUPP);
	p2pdma_kernel_shutdown(k);
}

static void test_export_gives_the_bar_slices_in_array_order(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_dev *v = vfio(k, "18:00.0", NULL);
	uint64_t base = dev(k, "18:00.0")->bars[1].cpu;
	uint64_t ol[6] = { 0x40000, 0x1000, 0, 0x2000, 0x1000, 0x2000 };	/* unordered, overlapping */
	struct p2pdma_vfio_explain *ex;
	struct p2pdma_dmabuf *buf;
	uint64_t pa, len;
	struct req r;
	int fd;

	(void)state;
	req(&r, 1, 3, ol);
	put32(r.b, 24);		/* argsz covers no range: read anyway */
	assert_int_equal(p2pdma_vfio_explain_create(&ex), 0);
	assert_int_equal(p2pdma_vfio_explain(v, r.b, r.len, ex), 0);
	assert_true(p2pdma_vfio_explain_num_notes(ex) >= 2);
	assert_non_null(strstr(p2pdma_vfio_explain_note(ex, 0), "argsz is not checked against nr_ranges"));
	assert_non_null(strstr(p2pdma_vfio_explain_note(ex, 1), "overlap"));
	p2pdma_vfio_explain_destroy(ex);
	fd = p2pdma_vfio_device_feature(v, r.b, r.len);
	assert_true(fd >= 3);
	assert_int_equal(p2pdma_dmabuf_get(k, fd, &buf), 0);
	assert_int_equal(p2pdma_dmabuf_size(buf), 0x5000);
	assert_string_equal(p2pdma_dmabuf_exp_name(buf), "vfio_pci_core");
	assert_int_equal(p2pdma_dmabuf_file_flags(buf), P2PDMA_O_RDWR);
	assert_int_equal(p2pdma_vfio_dmabuf_range(buf, 0, &pa, &len), 0);
	assert_int_equal(pa, base + 0x40000);
	assert_int_equal(p2pdma_vfio_dmabuf_range(buf, 2, &pa, &len), 0);
	assert_int_equal(pa, base + 0x1000);
	assert_int_equal(len, 0x2000);
	assert_int_equal(p2pdma_vfio_dmabuf_range(buf, 3, &pa, &len), -ENOENT);
	assert_int_equal(p2pdma_vfio_num_dmabufs(v), 1);
	assert_int_equal(p2pdma_vfio_registrations(v), 1);
	/* No mmap, no vmap. */
	assert_int_equal(p2pdma_dmabuf_mmap(buf, 0, 0x1000), -EINVAL);
	p2pdma_dmabuf_resv_lock(buf);
	{
		void *va;

		assert_int_equal(p2pdma_dmabuf_vmap(buf, &va), -EINVAL);
	}
	p2pdma_dmabuf_resv_unlock(buf);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	assert_int_equal(p2pdma_dmabuf_close_fd(k, fd), 0);	/* the last reference */
	assert_int_equal(p2pdma_vfio_num_dmabufs(v), 0);
	assert_int_equal(p2pdma_vfio_registrations(v), 0);
	p2pdma_kernel_shutdown(k);
}

/* Export BAR 1 ranges of @bdf and return the buffer (a reference). */
static struct p2pdma_dmabuf *export_bar(struct p2pdma_vfio_dev *v, uint32_t bar, uint32_t nr,
				       int *fd)
{
	uint64_t ol[8] = { 0, 0x10000, 0x20000, 0x10000, 0x40000, 0x10000, 0x60000, 0x10000 };
	struct p2pdma_dmabuf *buf;
	struct req r;

	*fd = feat(v, req(&r, bar, nr, ol));
	assert_true(*fd >= 3);
	assert_int_equal(p2pdma_dmabuf_get(v->k, *fd, &buf), 0);
	return buf;
}

/* BAR 1 (the GPUs' big BAR). */
static struct p2pdma_dmabuf *export(struct p2pdma_vfio_dev *v, uint32_t nr, int *fd)
{
	return export_bar(v, 1, nr, fd);
}

static void test_attach_and_map_rules(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_dev *v = vfio(k, "aa:00.0", NULL);
	struct p2pdma_importer *st, *rdma, *far;
	struct p2pdma_dmabuf *buf;
	uint64_t a;
	int fd;

	(void)state;
	buf = export(v, 2, &fd);
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_STATIC, dev(k, "ac:00.0"), NULL, &st), 0);
	assert_int_equal(p2pdma_importer_import(st, buf), -EOPNOTSUPP);	/* no peer2peer */
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "ac:00.0"), NULL, &rdma), 0);
	assert_int_equal(p2pdma_importer_import(rdma, buf), 0);
	assert_int_equal(p2pdma_importer_map(rdma), 0);
	/* Same switch: bus addresses, one entry per range. */
	assert_int_equal(p2pdma_importer_dma_address(rdma, 0x10000, &a), 0);
	assert_int_equal(a, dev(k, "aa:00.0")->bars[1].bus + 0x20000);
	assert_int_equal(p2pdma_importer_write(rdma, 0x10008, "abc", 4), 0);
	/* The GPU on the other socket through the allow-listed host bridge:
	 * attach works, map works (identity: physical addresses). */
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "18:00.0"), NULL, &far), 0);
	assert_int_equal(p2pdma_importer_import(far, buf), 0);
	assert_int_equal(p2pdma_importer_map(far), 0);
	p2pdma_importer_destroy(st);
	p2pdma_importer_destroy(rdma);
	p2pdma_importer_destroy(far);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_unreachable_importer_fails_at_map(void **state)
{
	struct p2pdma_kernel *k = boot("workstation", "6.19", -1);
	struct p2pdma_vfio_dev *v;
	struct p2pdma_importer *imp;
	struct p2pdma_dmabuf *buf;
	int fd;

	/* The GPU's audio function shares its group: unbind it first. */
	assert_int_equal(p2pdma_kernel_unbind(k, dev(k, "01:00.1")), 0);
	v = vfio(k, "01:00.0", NULL);
	(void)state;
	buf = export(v, 1, &fd);
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "03:00.0"), NULL, &imp), 0);
	assert_int_equal(p2pdma_importer_import(imp, buf), 0);	/* attach: fine */
	assert_int_equal(p2pdma_importer_map(imp), -EINVAL);	/* map: NOT_SUPPORTED */
	p2pdma_importer_destroy(imp);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_pinned_importers_refused_from_619_final(void **state)
{
	static const char *const rel[2] = { "6.19-rc3", "6.19" };
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct p2pdma_kernel *k = boot("xeon-8gpu", rel[i], -1);
		struct p2pdma_vfio_dev *v = vfio(k, "aa:00.0", NULL);
		struct p2pdma_importer *imp;
		struct p2pdma_dmabuf *buf;
		int fd;

		buf = export(v, 1, &fd);
		assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_PINNED, dev(k, "ac:00.0"), NULL, &imp), 0);
		assert_int_equal(p2pdma_importer_import(imp, buf), i ? -EOPNOTSUPP : 0);
		assert_int_equal(p2pdma_dmabuf_is_dynamic(buf), i == 1);
		p2pdma_importer_destroy(imp);
		assert_int_equal(p2pdma_dmabuf_put(buf), 0);
		p2pdma_kernel_shutdown(k);
	}
}

/* --- the revoke triggers (§5.6) --- */

struct watch {
	struct p2pdma_kernel *k;
	struct p2pdma_vfio_dev *v;
	struct p2pdma_dmabuf *buf;
	struct p2pdma_importer *imp;
	int fd;
};

static void watch_start(struct watch *w, const char *example, const char *gpu, const char *nic,
			const struct p2pdma_vfio_bind_opts *o)
{
	w->k = boot(example, "6.19", -1);
	w->v = vfio(w->k, gpu, o);
	w->buf = export(w->v, 1, &w->fd);
	assert_int_equal(p2pdma_importer_create(w->k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(w->k, nic), NULL, &w->imp), 0);
	assert_int_equal(p2pdma_importer_import(w->imp, w->buf), 0);
	assert_int_equal(p2pdma_importer_map(w->imp), 0);
}

static void watch_end(struct watch *w)
{
	p2pdma_importer_destroy(w->imp);
	assert_int_equal(p2pdma_dmabuf_put(w->buf), 0);
	p2pdma_kernel_shutdown(w->k);
}

static void test_command_memory_bit_revokes_and_restores(void **state)
{
	struct watch w;

	(void)state;
	watch_start(&w, "xeon-8gpu", "aa:00.0", "ac:00.0", NULL);
	assert_int_equal(p2pdma_vfio_write_command(w.v, 0x6), 0);	/* memory stays on */
	assert_int_equal(p2pdma_importer_notifications(w.imp), 0);
	assert_int_equal(p2pdma_vfio_write_command(w.v, 0x4), 0);	/* memory off */
	assert_int_equal(p2pdma_importer_notifications(w.imp), 1);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	assert_int_equal(p2pdma_importer_map(w.imp), -ENODEV);
	/* A non-decoding BAR: DMA straight at it would be an Unsupported Request. */
	assert_int_equal(p2pdma_dma_write(w.k, dev(w.k, "ac:00.0"), dev(w.k, "aa:00.0")->bars[0].bus, "x", 1), -EIO);
	assert_int_equal(p2pdma_vfio_write_command(w.v, 0x4), 0);	/* clear again: no change */
	assert_int_equal(p2pdma_importer_notifications(w.imp), 1);
	assert_int_equal(p2pdma_vfio_write_command(w.v, 0x6), 0);
	assert_int_equal(p2pdma_importer_notifications(w.imp), 2);
	assert_int_equal(p2pdma_importer_write(w.imp, 0, "back", 5), 0);
	watch_end(&w);
}

static void test_vf_clearing_memory_notifies_twice(void **state)
{
	struct p2pdma_kernel *k = boot("epyc-2s", "6.19", -1);
	struct p2pdma_vfio_dev *v;
	struct p2pdma_importer *imp;
	struct p2pdma_dmabuf *buf;
	uint64_t ol[2] = { 0, 0x10000 };
	struct req r;
	int fd;

	(void)state;
	v = vfio(k, "42:00.2", NULL);	/* a VF: no_command_memory */
	fd = feat(v, req(&r, 0, 1, ol));
	assert_true(fd >= 3);
	assert_int_equal(p2pdma_dmabuf_get(k, fd, &buf), 0);
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "41:00.0"), NULL, &imp), 0);
	assert_int_equal(p2pdma_importer_import(imp, buf), 0);
	assert_int_equal(p2pdma_importer_map(imp), 0);
	assert_int_equal(p2pdma_vfio_write_command(v, 0), 0);
	assert_int_equal(p2pdma_importer_notifications(imp), 2);	/* revoke, then un-revoke */
	assert_false(p2pdma_dmabuf_revoked(buf));
	assert_int_equal(p2pdma_importer_map(imp), 0);
	p2pdma_importer_destroy(imp);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_d3_revokes_d0_restores(void **state)
{
	struct watch w;

	(void)state;
	watch_start(&w, "xeon-8gpu", "aa:00.0", "ac:00.0", NULL);
	assert_int_equal(p2pdma_vfio_set_power_state(w.v, P2PDMA_PCI_D3HOT), 0);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	assert_false(p2pdma_vfio_memory_enabled(w.v));
	assert_int_equal(p2pdma_vfio_set_power_state(w.v, P2PDMA_PCI_D2), 0);
	assert_false(p2pdma_dmabuf_revoked(w.buf));
	assert_int_equal(p2pdma_vfio_set_power_state(w.v, P2PDMA_PCI_D3COLD), 0);
	assert_int_equal(p2pdma_vfio_set_power_state(w.v, P2PDMA_PCI_D0), 0);
	assert_int_equal(p2pdma_importer_notifications(w.imp), 4);
	watch_end(&w);
}

static void test_flr_and_device_reset(void **state)
{
	struct p2pdma_vfio_bind_opts noflr = { .size = sizeof(noflr), .no_flr = true };
	struct watch w;

	(void)state;
	watch_start(&w, "xeon-8gpu", "aa:00.0", "ac:00.0", NULL);
	assert_int_equal(p2pdma_vfio_initiate_flr(w.v, false), 0);
	assert_int_equal(p2pdma_importer_notifications(w.imp), 2);	/* revoke, reset, restore */
	assert_int_equal(p2pdma_vfio_initiate_flr(w.v, true), 0);	/* AF FLR alike */
	assert_int_equal(p2pdma_vfio_reset(w.v), 0);
	assert_int_equal(p2pdma_importer_notifications(w.imp), 6);
	/* Reset with memory off: revoked, and stays so. */
	assert_int_equal(p2pdma_vfio_write_command(w.v, 0), 0);
	assert_int_equal(p2pdma_vfio_reset(w.v), 0);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	watch_end(&w);
	watch_start(&w, "xeon-8gpu", "aa:00.0", "ac:00.0", &noflr);
	assert_int_equal(p2pdma_vfio_initiate_flr(w.v, false), 0);	/* no FLR cap: nothing */
	assert_int_equal(p2pdma_importer_notifications(w.imp), 0);
	assert_int_equal(p2pdma_vfio_reset(w.v), -EINVAL);
	watch_end(&w);
}

static void test_hot_reset_restores_only_open_devices(void **state)
{
	struct watch w;
	struct p2pdma_vfio_dev *other;
	int i;

	(void)state;
	/* epyc: the ConnectX PF and its VFs share bus 42. */
	w.k = boot("epyc-2s", "6.19", -1);
	for (i = 1; i < 6; i++) {
		char bdf[16];

		snprintf(bdf, sizeof(bdf), "42:00.%d", i);
		if (p2pdma_kernel_driver(w.k, dev(w.k, bdf)))
			assert_int_equal(p2pdma_kernel_unbind(w.k, dev(w.k, bdf)), 0);
	}
	w.v = vfio(w.k, "42:00.0", NULL);
	/* 42:00.1 .. .5 are not VFIO devices yet: the set is not owned. */
	assert_int_equal(p2pdma_vfio_hot_reset(w.v), -EINVAL);
	for (i = 1; i < 6; i++) {
		char bdf[16];

		snprintf(bdf, sizeof(bdf), "42:00.%d", i);
		assert_int_equal(p2pdma_vfio_bind(w.k, dev(w.k, bdf), NULL, &other), 0);
	}
	w.buf = export_bar(w.v, 0, 1, &w.fd);
	assert_int_equal(p2pdma_importer_create(w.k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(w.k, "41:00.0"), NULL, &w.imp), 0);
	assert_int_equal(p2pdma_importer_import(w.imp, w.buf), 0);
	assert_int_equal(p2pdma_vfio_hot_reset(w.v), 0);
	assert_int_equal(p2pdma_importer_notifications(w.imp), 2);
	assert_false(p2pdma_dmabuf_revoked(w.buf));
	/* Closed: its buffer is revoked for good, the reset does not revive it. */
	assert_int_equal(p2pdma_vfio_open(other), 0);
	assert_int_equal(p2pdma_vfio_close(w.v), 0);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	assert_int_equal(p2pdma_vfio_hot_reset(other), 0);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	assert_int_equal(log_has(w.k, "vfio-pci 0000:42:00.0: reset with the bus but not open"), 1);
	watch_end(&w);
}

/* memory_lock before the reservation locks: a trigger called with one held is refused. */
static void test_triggers_refuse_a_caller_holding_a_reservation_lock(void **state)
{
	struct watch w;

	(void)state;
	watch_start(&w, "xeon-8gpu", "aa:00.0", "ac:00.0", NULL);
	assert_int_equal(p2pdma_dmabuf_resv_lock(w.buf), 0);
	assert_int_equal(p2pdma_vfio_write_command(w.v, 0), -EDEADLK);
	assert_int_equal(p2pdma_vfio_reset(w.v), -EDEADLK);
	assert_int_equal(p2pdma_vfio_close(w.v), -EDEADLK);
	assert_true(log_has(w.k, "memory_lock is taken first") >= 3);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(w.buf), 0);
	assert_false(p2pdma_dmabuf_revoked(w.buf));
	assert_true(p2pdma_vfio_is_open(w.v));
	assert_int_equal(p2pdma_vfio_write_command(w.v, 0), 0);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	watch_end(&w);
}

static void test_low_power_entry_exit_and_wakeup(void **state)
{
	struct watch w;

	(void)state;
	watch_start(&w, "xeon-8gpu", "aa:00.0", "ac:00.0", NULL);
	assert_int_equal(p2pdma_vfio_low_power_entry(w.v, false), 0);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	assert_int_equal(p2pdma_vfio_power_state(w.v), P2PDMA_PCI_D3HOT);
	assert_int_equal(p2pdma_vfio_low_power_entry(w.v, false), -EINVAL);
	assert_false(p2pdma_vfio_wake(w.v));	/* no eventfd: resumes only for an access */
	assert_int_equal(p2pdma_vfio_low_power_exit(w.v), 0);
	assert_false(p2pdma_dmabuf_revoked(w.buf));
	/* With a wake-up eventfd the automatic exit leaves them revoked. */
	assert_int_equal(p2pdma_vfio_low_power_entry(w.v, true), 0);
	assert_true(p2pdma_vfio_wake(w.v));
	assert_int_equal(p2pdma_vfio_power_state(w.v), P2PDMA_PCI_D0);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	assert_int_equal(log_has(w.k, "stay revoked until LOW_POWER_EXIT"), 1);
	assert_int_equal(p2pdma_vfio_low_power_exit(w.v), 0);
	assert_false(p2pdma_dmabuf_revoked(w.buf));
	watch_end(&w);
}

static void test_export_in_low_power_starts_live(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_dev *v = vfio(k, "aa:00.0", NULL);
	struct p2pdma_dmabuf *buf;
	int fd;

	(void)state;
	assert_int_equal(p2pdma_vfio_low_power_entry(v, false), 0);
	buf = export(v, 1, &fd);
	assert_false(p2pdma_dmabuf_revoked(buf));
	assert_int_equal(log_has(k, "exported in low power"), 1);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_export_with_memory_off_succeeds_revoked(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_dev *v = vfio(k, "aa:00.0", NULL);
	struct p2pdma_importer *imp;
	struct p2pdma_dmabuf *buf;
	int fd;

	(void)state;
	assert_int_equal(p2pdma_vfio_write_command(v, 0), 0);
	buf = export(v, 1, &fd);
	assert_true(p2pdma_dmabuf_revoked(buf));
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "ac:00.0"), NULL, &imp), 0);
	assert_int_equal(p2pdma_importer_import(imp, buf), -ENODEV);
	assert_int_equal(p2pdma_vfio_write_command(v, PCI_COMMAND_MEMORY), 0);
	assert_int_equal(p2pdma_importer_import(imp, buf), 0);
	p2pdma_importer_destroy(imp);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_close_is_final_and_registration_holds_unbind(void **state)
{
	struct watch w;
	struct p2pdma_dmabuf *again;
	struct p2pdma_importer *late;

	(void)state;
	watch_start(&w, "xeon-8gpu", "aa:00.0", "ac:00.0", NULL);
	assert_int_equal(p2pdma_vfio_registrations(w.v), 1);
	assert_int_equal(p2pdma_vfio_unbind(w.v), -EBUSY);	/* open, registered */
	assert_int_equal(p2pdma_vfio_close(w.v), 0);
	assert_int_equal(log_has(w.k, "before revoking its 1 live dma-buf"), 1);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	assert_int_equal(p2pdma_importer_notifications(w.imp), 1);
	assert_int_equal(p2pdma_vfio_registrations(w.v), 0);
	/* Re-opening does not revive it; the descriptor stays valid. */
	assert_int_equal(p2pdma_vfio_open(w.v), 0);
	assert_true(p2pdma_dmabuf_revoked(w.buf));
	assert_int_equal(p2pdma_dmabuf_get(w.k, w.fd, &again), 0);
	assert_int_equal(p2pdma_dmabuf_put(again), 0);
	assert_int_equal(p2pdma_importer_create(w.k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(w.k, "ab:00.0"), NULL, &late), 0);
	assert_int_equal(p2pdma_importer_import(late, w.buf), -ENODEV);
	p2pdma_importer_destroy(late);
	assert_int_equal(p2pdma_vfio_close(w.v), 0);
	/* Unbind completes: the buffer outlives the driver, dead. */
	assert_int_equal(p2pdma_vfio_unbind(w.v), 0);
	assert_null(p2pdma_vfio_lookup(w.k, dev(w.k, "aa:00.0")));
	assert_int_equal(p2pdma_importer_map(w.imp), -ENODEV);
	watch_end(&w);
}

static void test_unbind_waits_for_close(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_dev *v = vfio(k, "aa:00.0", NULL);
	uint64_t ol[2] = { 0, 0x1000 };
	struct req r;

	(void)state;
	assert_int_equal(p2pdma_vfio_unbind(v), -EBUSY);	/* open: the unbind waits */
	assert_int_equal(p2pdma_kernel_unbind(k, dev(k, "aa:00.0")), -EBUSY);
	assert_int_equal(log_has(k, "unbind waits: the device is open"), 2);
	/* Meanwhile the descriptor's registration keeps exports working. */
	assert_true(both(v, req(&r, 1, 1, ol), 0, NULL) >= 3);
	assert_int_equal(p2pdma_vfio_close(v), 0);
	assert_int_equal(p2pdma_vfio_unbind(v), 0);
	assert_null(p2pdma_kernel_driver(k, dev(k, "aa:00.0")));
	p2pdma_kernel_shutdown(k);
}

static void test_fd_failure_error_path_by_release(void **state)
{
	static const char *const rel[2] = { "6.19", "7.0" };
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct p2pdma_kernel *k = boot("xeon-8gpu", rel[i], -1);
		struct p2pdma_vfio_dev *v = vfio(k, "aa:00.0", NULL);
		uint64_t ol[2] = { 0, 0x1000 };
		struct req r;

		assert_int_equal(p2pdma_dmabuf_set_fd_limit(k, 3), 0);
		assert_int_equal(feat(v, req(&r, 1, 1, ol)), -EMFILE);
		assert_int_equal(p2pdma_kernel_num_dmabufs(k), 0);
		/* 6.19 drops the registration twice (e98137f0a874 fixes it). */
		assert_int_equal(p2pdma_vfio_registrations(v), i ? 0 : -1);
		assert_int_equal(log_has(k, "double free"), i ? 0 : 1);
		p2pdma_kernel_shutdown(k);
	}
}

static void test_nvgrace_exports_device_memory_bounded_by_its_real_size(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_vfio_bind_opts o = {
		.size = sizeof(o), .variant = P2PDMA_VFIO_NVGRACE,
		.usemem_phys = 0x400000000000ULL, .usemem_len = 0x18000000ULL,	/* 384 MiB */
	};
	struct p2pdma_vfio_dev *v = vfio(k, "18:00.0", &o);
	struct p2pdma_importer *imp;
	struct p2pdma_dmabuf *buf;
	uint64_t ol[2] = { 0x17fff000, 0x1000 }, size, pa, len;
	struct req r;
	int fd;

	(void)state;
	assert_int_equal(p2pdma_vfio_region_size(v, 4, &size), 0);
	assert_int_equal(size, 0x20000000ULL);		/* padded to 512 MiB */
	fd = feat(v, req(&r, 4, 1, ol));
	assert_true(fd >= 3);
	ol[0] = 0x18000000;	/* the padding: refused */
	assert_int_equal(both(v, req(&r, 4, 1, ol), 0, "ends beyond the device memory of region 4"), -EINVAL);
	assert_int_equal(p2pdma_dmabuf_get(k, fd, &buf), 0);
	assert_int_equal(p2pdma_vfio_dmabuf_range(buf, 0, &pa, &len), 0);
	assert_int_equal(pa, 0x400000000000ULL + 0x17fff000);
	/* The provider is BAR 0's: the importer's verdict is BAR 0's (here
	 * through the allow-listed host bridge: physical addresses). */
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "1a:00.0"), NULL, &imp), 0);
	assert_int_equal(p2pdma_importer_import(imp, buf), 0);
	assert_int_equal(p2pdma_importer_map(imp), 0);
	p2pdma_importer_destroy(imp);
	/* BAR 1 is still the core's. */
	ol[0] = 0;
	assert_true(both(v, req(&r, 1, 1, ol), 0, NULL) >= 3);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_iommufd_takes_single_range_vfio_buffers(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	struct p2pdma_vfio_dev *v = vfio(k, "18:00.0", NULL);
	struct p2pdma_importer *imp;
	struct p2pdma_dmabuf *one, *two;
	char out[3] = "";
	int fd1, fd2;

	(void)state;
	one = export(v, 1, &fd1);
	two = export(v, 2, &fd2);
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_IOMMUFD, dev(k, "1a:00.0"), NULL, &imp), 0);
	assert_int_equal(p2pdma_importer_import(imp, two), -EOPNOTSUPP);
	assert_int_equal(p2pdma_importer_import(imp, one), 0);
	assert_int_equal(p2pdma_phys_write(k, dev(k, "18:00.0")->bars[1].cpu + 8, "ok", 3), 0);
	assert_int_equal(p2pdma_importer_read(imp, 8, out, 3), 0);
	assert_string_equal(out, "ok");
	assert_int_equal(p2pdma_vfio_reset(v), 0);	/* revoke then restore */
	assert_false(p2pdma_importer_mapped(imp));	/* iommufd: revoked for good */
	assert_int_equal(p2pdma_importer_map(imp), -ENODEV);
	p2pdma_importer_destroy(imp);
	assert_int_equal(p2pdma_dmabuf_put(one), 0);
	assert_int_equal(p2pdma_dmabuf_put(two), 0);
	p2pdma_kernel_shutdown(k);
}

/* --- explain: importers --- */

static void test_explain_tells_each_importer_its_outcome(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	struct p2pdma_vfio_dev *v = vfio(k, "aa:00.0", NULL);
	uint64_t ol[4] = { 0, 0x10000, 0x20000, 0x10000 };
	struct p2pdma_vfio_explain *ex;
	bool bus = false, iova_fail = false;
	struct req r;
	size_t i;

	(void)state;
	assert_int_equal(p2pdma_vfio_explain_create(&ex), 0);
	assert_int_equal(p2pdma_vfio_explain(v, (req(&r, 1, 2, ol), r.b), r.len, ex), 0);
	assert_true(p2pdma_vfio_explain_num_importers(ex) > 10);
	for (i = 0; i < p2pdma_vfio_explain_num_importers(ex); i++) {
		const struct p2pdma_dev *d;
		enum p2pdma_map_type t;
		int err;
		const char *text = p2pdma_vfio_explain_importer(ex, i, &d, &t, &err);

		if (!strcmp(d->name, "0000:ac:00.0")) {
			assert_int_equal(t, P2PDMA_MAP_BUS_ADDR);
			assert_non_null(strstr(text, "0000:a8:00.0"));
			bus = true;
		}
		if (!strcmp(d->name, "0000:1a:00.0")) {
			assert_int_equal(t, P2PDMA_MAP_THRU_HOST_BRIDGE);
			assert_int_equal(err, -EEXIST);	/* two ranges, offset 0 */
			iova_fail = true;
		}
	}
	assert_true(bus && iova_fail);
	/* Nothing was exported. */
	assert_int_equal(p2pdma_kernel_num_dmabufs(k), 0);
	p2pdma_vfio_explain_destroy(ex);
	p2pdma_kernel_shutdown(k);
}

/* --- real calls --- */

static void test_real_call_on_a_kernel_without_the_feature(void **state)
{
	struct p2pdma_vfio_real *r;
	int fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(p2pdma_vfio_real_wrap(ctx, fd, &r), 0);
	assert_int_equal(p2pdma_vfio_real_probe(r), -ENOTTY);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "6.19"));
	p2pdma_vfio_real_close(r);
	close(fd);
}

static void test_real_open_says_why_there_is_no_device(void **state)
{
	struct p2pdma_vfio_real *r;
	char *root = fixture_tmpdir(), path[512];

	(void)state;
	assert_int_equal(p2pdma_vfio_real_open(ctx, root, "0000:01:00.0", &r), -ENOENT);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "no PCI function"));
	assert_int_equal(p2pdma_vfio_real_open(ctx, root, "zz", &r), -EINVAL);
	snprintf(path, sizeof(path), "mkdir -p %s/sys/bus/pci/devices/0000:01:00.0 %s/sys/bus/pci/drivers/nvme && ln -s ../../../bus/pci/drivers/nvme %s/sys/bus/pci/devices/0000:01:00.0/driver",
		 root, root, root);
	assert_int_equal(system(path), 0);
	assert_int_equal(p2pdma_vfio_real_open(ctx, root, "01:00.0", &r), -ENOENT);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "driven by nvme, not vfio-pci"));
	fixture_rmtree(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uapi_structs_byte_for_byte),
		cmocka_unit_test(test_every_vfio_device_gets_p2pdma_state),
		cmocka_unit_test(test_open_claims_the_iommu_group),
		cmocka_unit_test(test_generic_feature_checks_come_first),
		cmocka_unit_test(test_dma_buf_checks_in_the_kernels_order),
		cmocka_unit_test(test_variant_without_get_dmabuf_phys_is_eopnotsupp),
		cmocka_unit_test(test_export_gives_the_bar_slices_in_array_order),
		cmocka_unit_test(test_attach_and_map_rules),
		cmocka_unit_test(test_unreachable_importer_fails_at_map),
		cmocka_unit_test(test_pinned_importers_refused_from_619_final),
		cmocka_unit_test(test_command_memory_bit_revokes_and_restores),
		cmocka_unit_test(test_vf_clearing_memory_notifies_twice),
		cmocka_unit_test(test_d3_revokes_d0_restores),
		cmocka_unit_test(test_flr_and_device_reset),
		cmocka_unit_test(test_hot_reset_restores_only_open_devices),
		cmocka_unit_test(test_triggers_refuse_a_caller_holding_a_reservation_lock),
		cmocka_unit_test(test_low_power_entry_exit_and_wakeup),
		cmocka_unit_test(test_export_in_low_power_starts_live),
		cmocka_unit_test(test_export_with_memory_off_succeeds_revoked),
		cmocka_unit_test(test_close_is_final_and_registration_holds_unbind),
		cmocka_unit_test(test_unbind_waits_for_close),
		cmocka_unit_test(test_fd_failure_error_path_by_release),
		cmocka_unit_test(test_nvgrace_exports_device_memory_bounded_by_its_real_size),
		cmocka_unit_test(test_iommufd_takes_single_range_vfio_buffers),
		cmocka_unit_test(test_explain_tells_each_importer_its_outcome),
		cmocka_unit_test(test_real_call_on_a_kernel_without_the_feature),
		cmocka_unit_test(test_real_open_says_why_there_is_no_device),
	};

	return cmocka_run_group_tests(tests, model_setup, model_teardown);
}
