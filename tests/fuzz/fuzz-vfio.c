// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-vfio.c - fuzz target: VFIO_DEVICE_FEATURE requests against an independent shadow of the rules */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "p2pdma/p2pdma.h"

/*
 * The security boundary of the dma-buf export is one ioctl that takes a
 * user buffer. Every input is such a buffer, preceded by one control byte:
 *   bits 0-1  the device: 0 a GPU under vfio-pci (memory BARs 0, 1, 3; 2
 *             is the upper half of 64-bit BAR 1; 4, 5 absent), 1 a NIC with
 *             an I/O BAR 0 and small memory BARs 2 and 4 (vfio-pci), 2 the
 *             GPU under nvgrace-gpu (region 4 is 384 MiB of device memory
 *             padded to 512 MiB), 3 a variant driver without the export
 *   bit 2     memory decode cleared before the call
 *   bit 3     kernel 6.18 (no such feature) instead of 6.19
 * The rest is the ioctl's argument: the bytes the kernel can read.
 *
 * The shadow below is written from the uAPI documentation and the errno
 * table of doc/kernel-model.md §5.3, not from lib/vfio.c. Properties: the
 * library's answer is the shadow's; a failure sets a message; an accepted
 * request gives a buffer of the total length whose every range is the
 * requested slice, inside its region, in array order, revoked exactly when
 * memory decode was off; explain gives the same answer as the ioctl.
 */

#define NVG_PHYS 0x400000000000ULL
#define NVG_LEN 0x18000000ULL

struct setup {
	struct p2pdma_kernel *k;
	struct p2pdma_vfio_dev *v;
	const struct p2pdma_dev *d;
	int kind;
	bool old;
};

static struct p2pdma_ctx *ctx;
static struct setup setups[8];

static void boot(struct setup *s, int kind, bool old)
{
	static const char *const devs[4] = { "0000:18:00.0", "0000:04:00.0", "0000:18:00.0", "0000:1a:00.0" };
	const char *machine = kind == 1 ? "workstation" : "xeon-8gpu";
	struct p2pdma_vfio_bind_opts o = { .size = sizeof(o) };
	struct p2pdma_topo *t;
	struct p2pdma_policy *pol;

	FUZZ_CHECK(!p2pdma_topo_load_example(ctx, machine, &t), "load %s", machine);
	FUZZ_CHECK(!p2pdma_policy_from_machine(ctx, t, &pol), "policy");
	FUZZ_CHECK(!p2pdma_policy_set_kernel(pol, old ? "6.18" : "6.19"), "kernel");
	FUZZ_CHECK(!p2pdma_kernel_boot(ctx, t, pol, &s->k), "boot");
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
	s->d = p2pdma_topo_find(p2pdma_kernel_topo(s->k), devs[kind]);
	FUZZ_CHECK(s->d != NULL, "no %s", devs[kind]);
	if (p2pdma_kernel_driver(s->k, s->d))
		FUZZ_CHECK(!p2pdma_kernel_unbind(s->k, s->d), "unbind");
	if (kind == 2) {
		o.variant = P2PDMA_VFIO_NVGRACE;
		o.usemem_phys = NVG_PHYS;
		o.usemem_len = NVG_LEN;
	} else if (kind == 3) {
		o.variant = P2PDMA_VFIO_VARIANT_NO_DMABUF;
	}
	o.noiommu = true;	/* the group's other functions are not the point */
	FUZZ_CHECK(!p2pdma_vfio_bind(s->k, s->d, &o, &s->v), "bind: %s", p2pdma_ctx_error(ctx));
	FUZZ_CHECK(!p2pdma_vfio_open(s->v), "open: %s", p2pdma_ctx_error(ctx));
	s->kind = kind;
	s->old = old;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* The region a request exports from: base, size, or not exportable. */
static bool region_of(const struct setup *s, uint32_t region, uint64_t *base, uint64_t *size)
{
	struct p2pdma_dev_info info;

	p2pdma_dev_get_info(s->d, &info, sizeof(info));
	if (s->kind == 2 && region == 4) {
		/* nvgrace: BAR 0's provider, the real memory size. */
		if (!(info.bars[0].flags & P2PDMA_BAR_MEM) || !info.bars[0].size)
			return false;
		*base = NVG_PHYS;
		*size = NVG_LEN;
		return true;
	}
	if (!(info.bars[region].flags & P2PDMA_BAR_MEM) || !info.bars[region].size)
		return false;
	*base = info.bars[region].cpu;
	*size = info.bars[region].size;
	return true;
}

/* The answer the rules give: 1 for "a descriptor", else -errno (0: PROBE). */
static int shadow(const struct setup *s, const uint8_t *b, size_t len)
{
	uint32_t argsz, flags, region, dflags, nr, i;
	uint64_t total = 0, base, size;

	if (len < 8)
		return -EFAULT;
	argsz = rd32(b);
	flags = rd32(b + 4);
	if (argsz < 8)
		return -EINVAL;
	if (flags & ~0x7ffffu)
		return -EINVAL;
	if (!(flags & (1u << 18)) && (flags & (1u << 16)) && (flags & (1u << 17)))
		return -EINVAL;
	if ((flags & 0xffff) != 11)
		return (flags & 0xffff) < 11 ? -ENOSYS : -ENOTTY;
	if (s->old)
		return -ENOTTY;
	if (s->kind == 3)
		return -EOPNOTSUPP;
	if (flags & (1u << 17))
		return -EINVAL;
	if (flags & (1u << 18))
		return 0;
	if (!(flags & (1u << 16)))
		return -EINVAL;
	if (argsz - 8 < 16)
		return -EINVAL;
	if (len - 8 < 16)
		return -EFAULT;
	region = rd32(b + 8);
	dflags = rd32(b + 16);
	nr = rd32(b + 20);
	if (!nr || dflags)
		return -EINVAL;
	if (region >= 6)
		return -ENODEV;
	if ((uint64_t)nr * 16 > (4ULL << 20))
		return -ENOMEM;
	if ((uint64_t)(len - 24) < (uint64_t)nr * 16)
		return -EFAULT;
	for (i = 0; i < nr; i++) {
		uint64_t off = rd64(b + 24 + 16 * (size_t)i), l = rd64(b + 32 + 16 * (size_t)i);

		if (!l || (off & 0xfff) || (l & 0xfff))
			return -EINVAL;
		if (total + l < total)
			return -EINVAL;
		total += l;
	}
	if (total >> 63)
		return -EINVAL;
	if (!region_of(s, region, &base, &size))
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		uint64_t off = rd64(b + 24 + 16 * (size_t)i), l = rd64(b + 32 + 16 * (size_t)i);

		if (base + off < base || base + off + l < base + off)
			return -EOVERFLOW;
		if (base + off + l > base + size)
			return -EINVAL;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct setup *s;
	struct p2pdma_vfio_explain *ex;
	bool memoff;
	int want, got, e, ctl;

	if (!ctx) {
		int i;

		FUZZ_CHECK(!p2pdma_ctx_create(&ctx), "ctx");
		p2pdma_ctx_set_param(ctx, "names", "0");
		for (i = 0; i < 8; i++)
			boot(&setups[i], i & 3, i >= 4);
	}
	if (!size)
		return 0;
	ctl = data[0];
	s = &setups[(ctl & 3) | (ctl & 8 ? 4 : 0)];
	memoff = ctl & 4;
	data++;
	size--;
	if (memoff)
		p2pdma_vfio_write_command(s->v, 0);
	want = shadow(s, data, size);
	FUZZ_CHECK(!p2pdma_vfio_explain_create(&ex), "explain");
	e = p2pdma_vfio_explain(s->v, data, size, ex);
	got = p2pdma_vfio_device_feature(s->v, data, size);
	if (want == 1) {
		struct p2pdma_dmabuf *buf;
		uint32_t nr = rd32(data + 20), i;
		uint64_t base, rsize, total = 0;

		FUZZ_CHECK(got >= 3, "the rules accept it, the library says %d (%s)", got,
			   p2pdma_ctx_error(ctx));
		FUZZ_CHECK(e == 0, "explain says %d for an accepted request", e);
		FUZZ_CHECK(!p2pdma_dmabuf_get(s->k, got, &buf), "descriptor %d is no dma-buf", got);
		region_of(s, rd32(data + 8), &base, &rsize);
		for (i = 0; i < nr; i++) {
			uint64_t pa, len, off = rd64(data + 24 + 16 * (size_t)i);

			FUZZ_CHECK(!p2pdma_vfio_dmabuf_range(buf, i, &pa, &len), "range %u missing", i);
			FUZZ_CHECK(pa == base + off && len == rd64(data + 32 + 16 * (size_t)i),
				   "range %u is not the requested slice", i);
			FUZZ_CHECK(pa >= base && pa + len <= base + rsize && pa + len > pa,
				   "range %u [%#llx, +%#llx) outside its region", i,
				   (unsigned long long)pa, (unsigned long long)len);
			total += len;
		}
		FUZZ_CHECK(p2pdma_vfio_dmabuf_range(buf, nr, &base, &rsize) == -ENOENT, "extra range");
		FUZZ_CHECK(p2pdma_dmabuf_size(buf) == total, "size");
		FUZZ_CHECK(p2pdma_dmabuf_revoked(buf) == memoff, "revoked must follow memory decode");
		FUZZ_CHECK(!p2pdma_dmabuf_put(buf), "put");
		FUZZ_CHECK(!p2pdma_dmabuf_close_fd(s->k, got), "close");
		FUZZ_CHECK(p2pdma_vfio_num_dmabufs(s->v) == 0, "the last reference frees it");
	} else {
		FUZZ_CHECK(got == want, "the rules say %d, the library %d (%s)", want, got,
			   p2pdma_ctx_error(ctx));
		FUZZ_CHECK(e == want, "explain says %d, the rules %d", e, want);
		if (want)
			FUZZ_CHECK(*p2pdma_ctx_error(ctx) && *p2pdma_vfio_explain_reason(ex),
				   "a failure without its reason");
	}
	FUZZ_CHECK(p2pdma_vfio_registrations(s->v) == 0, "a registration leaked");
	p2pdma_vfio_explain_destroy(ex);
	if (memoff)
		p2pdma_vfio_write_command(s->v, 0x6);
	return 0;
}
