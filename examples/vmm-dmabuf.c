// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmm-dmabuf.c - a VMM-like program on the public API: it exports part of
 * a GPU's BAR as a VFIO dma-buf, an RDMA NIC imports it, the GPU is reset
 * and finally closed, and every step says what the kernel did.
 *
 *   vmm-dmabuf [--kernel REL] [--iommu pt|dma|none] MACHINE [GPU NIC]
 *
 * MACHINE is a bundled example (p2pdma --example NAME). Without GPU and
 * NIC the pair is chosen: the GPU and NIC whose path is best (BUS_ADDR,
 * then THRU_HOST_BRIDGE, then refused). --iommu overrides how the IOMMU
 * groups start (the machine's command line decides otherwise); "none"
 * makes VFIO run in noiommu mode.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p2pdma/p2pdma.h>

#define CHECK(call)							\
	do {								\
		int ret_ = (call);					\
		if (ret_) {						\
			fprintf(stderr, "vmm-dmabuf: %s: %s (%d)\n", #call, \
				p2pdma_ctx_error(ctx), ret_);		\
			exit(2);					\
		}							\
	} while (0)

static struct p2pdma_ctx *ctx;
static struct p2pdma_kernel *k;
static int step;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("[%d] ", ++step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const char *err_name(int err)
{
	switch (-err) {
	case 0: return "ok";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EEXIST: return "EEXIST";
	case ENOTTY: return "ENOTTY";
	case EBUSY: return "EBUSY";
	default: return strerror(-err);
	}
}

static int class_of(const struct p2pdma_dev *d)
{
	struct p2pdma_dev_info info;

	p2pdma_dev_get_info(d, &info, sizeof(info));
	return (int)(info.class_code >> 16);
}

/* The largest memory BAR. */
static int big_bar(const struct p2pdma_dev *d, uint64_t *size, uint64_t *cpu)
{
	struct p2pdma_dev_info info;
	int b, best = -1;

	p2pdma_dev_get_info(d, &info, sizeof(info));
	*size = 0;
	for (b = 0; b < P2PDMA_NUM_BARS; b++)
		if ((info.bars[b].flags & P2PDMA_BAR_MEM) && info.bars[b].size > *size) {
			*size = info.bars[b].size;
			*cpu = info.bars[b].cpu;
			best = b;
		}
	return best;
}

static int rank(enum p2pdma_map_type t)
{
	return t == P2PDMA_MAP_BUS_ADDR ? 3 : t == P2PDMA_MAP_THRU_HOST_BRIDGE ? 2 : 1;
}

/* The GPU and NIC with the best path (GPU memory is the target). */
static void choose(const struct p2pdma_topo *t, const struct p2pdma_dev **gpu,
		   const struct p2pdma_dev **nic)
{
	const struct p2pdma_router *r = p2pdma_kernel_router(k);
	size_t i, j, n = p2pdma_topo_num_devs(t);
	int best = 0;

	for (i = 0; i < n; i++) {
		const struct p2pdma_dev *g = p2pdma_topo_dev(t, i);
		uint64_t size, cpu;

		if (class_of(g) != 0x03 || big_bar(g, &size, &cpu) < 0 || size < (2 << 20))
			continue;
		for (j = 0; j < n; j++) {
			const struct p2pdma_dev *c = p2pdma_topo_dev(t, j);
			int rk;

			if (class_of(c) != 0x02)
				continue;
			rk = rank(p2pdma_router_map_type(r, g, c, NULL));
			if (rk > best) {
				best = rk;
				*gpu = g;
				*nic = c;
			}
		}
	}
}

/* The VMM takes the whole IOMMU group: host drivers of it go. */
static void take_group(const struct p2pdma_topo *t, const struct p2pdma_dev *gpu)
{
	size_t i, n = p2pdma_topo_num_devs(t);
	int g = p2pdma_dma_group(k, gpu);

	for (i = 0; i < n; i++) {
		const struct p2pdma_dev *o = p2pdma_topo_dev(t, i);
		const char *drv = p2pdma_kernel_driver(k, o);

		if (o == gpu || !drv || p2pdma_dma_group(k, o) != g || !strcmp(drv, "pcieport"))
			continue;
		say("%s shares IOMMU group %d with the GPU: the VMM unbinds %s from it too",
		    p2pdma_dev_name(o), g, drv);
		CHECK(p2pdma_kernel_unbind(k, o));
	}
}

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

/* The importer's DMA, and what it got. */
static int rdma_write(struct p2pdma_importer *imp, const char *what)
{
	char msg[32];
	uint64_t addr;
	int ret;

	snprintf(msg, sizeof(msg), "%s", what);
	ret = p2pdma_importer_write(imp, 0x1000, msg, sizeof(msg));
	if (!ret && !p2pdma_importer_dma_address(imp, 0x1000, &addr))
		printf("    RDMA write '%s' through DMA address %#llx: landed\n", what,
		       (unsigned long long)addr);
	else
		printf("    RDMA write '%s': %s (%s)\n", what, err_name(ret), p2pdma_ctx_error(ctx));
	return ret;
}

int main(int argc, char **argv)
{
	const char *release = "6.19", *iommu = NULL, *machine;
	const struct p2pdma_dev *gpu = NULL, *nic = NULL;
	struct p2pdma_topo *loaded;
	const struct p2pdma_topo *t;
	struct p2pdma_policy *pol;
	struct p2pdma_vfio_dev *v;
	struct p2pdma_importer *imp;
	struct p2pdma_dmabuf *buf;
	struct p2pdma_vfio_bind_opts bo = { .size = sizeof(bo) };
	uint8_t req[40] = { 0 };
	uint64_t size, cpu, addr;
	enum p2pdma_domain_type dt;
	char back[32] = "";
	int i = 1, bar, fd, ret, status = 0;

	while (i < argc && !strncmp(argv[i], "--", 2)) {
		if (!strcmp(argv[i], "--kernel") && i + 1 < argc)
			release = argv[i + 1];
		else if (!strcmp(argv[i], "--iommu") && i + 1 < argc)
			iommu = argv[i + 1];
		else
			break;
		i += 2;
	}
	if (i >= argc || (argc - i != 1 && argc - i != 3)) {
		fprintf(stderr, "usage: vmm-dmabuf [--kernel REL] [--iommu pt|dma|none] MACHINE [GPU NIC]\n");
		return 2;
	}
	machine = argv[i];
	CHECK(p2pdma_ctx_create(&ctx));
	p2pdma_ctx_set_param(ctx, "names", "0");
	CHECK(p2pdma_topo_load_example(ctx, machine, &loaded));
	CHECK(p2pdma_policy_from_machine(ctx, loaded, &pol));
	CHECK(p2pdma_policy_set_kernel(pol, release));
	CHECK(p2pdma_kernel_boot(ctx, loaded, pol, &k));
	if (iommu) {
		dt = !strcmp(iommu, "dma") ? P2PDMA_DOMAIN_DMA : !strcmp(iommu, "pt") ?
		     P2PDMA_DOMAIN_IDENTITY : P2PDMA_DOMAIN_NONE;
		CHECK(p2pdma_dma_set_default_domain(k, dt));
	}
	dt = p2pdma_dma_default_domain_type(k);
	bo.noiommu = dt == P2PDMA_DOMAIN_NONE;
	t = p2pdma_kernel_topo(k);
	if (argc - i == 3) {
		gpu = p2pdma_topo_find(t, argv[i + 1]);
		nic = p2pdma_topo_find(t, argv[i + 2]);
	} else {
		choose(t, &gpu, &nic);
	}
	if (!gpu || !nic) {
		fprintf(stderr, "vmm-dmabuf: no GPU/NIC pair on %s\n", machine);
		return 2;
	}
	bar = big_bar(gpu, &size, &cpu);
	printf("machine %s, kernel %s, IOMMU %s; GPU %s (BAR %d, %llu MiB), RDMA NIC %s\n", machine,
	       p2pdma_policy_kernel(p2pdma_kernel_policy(k)),
	       dt == P2PDMA_DOMAIN_NONE ? "none (VFIO noiommu mode)" :
	       dt == P2PDMA_DOMAIN_IDENTITY ? "passthrough" : "translating (DMA domains)",
	       p2pdma_dev_name(gpu), bar, (unsigned long long)(size >> 20), p2pdma_dev_name(nic));

	/* The VMM takes the GPU. */
	if (p2pdma_kernel_driver(k, gpu)) {
		say("unbind %s from %s, bind vfio-pci (every VFIO device gets P2PDMA state)",
		    p2pdma_dev_name(gpu), p2pdma_kernel_driver(k, gpu));
		CHECK(p2pdma_kernel_unbind(k, gpu));
	}
	CHECK(p2pdma_vfio_bind(k, gpu, &bo, &v));
	ret = p2pdma_vfio_open(v);
	if (ret == -EBUSY) {
		say("open: EBUSY: %s", p2pdma_ctx_error(ctx));
		take_group(t, gpu);
		ret = p2pdma_vfio_open(v);
	}
	CHECK(ret);
	say("VFIO device %s open, memory decode on, D0", p2pdma_dev_name(gpu));

	/* VFIO_DEVICE_FEATURE(GET | DMA_BUF): 2 MiB at the start of the BAR. */
	put32(req, sizeof(req));
	put32(req + 4, P2PDMA_VFIO_DEVICE_FEATURE_GET | P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF);
	put32(req + 8, (uint32_t)bar);
	put32(req + 12, P2PDMA_O_RDWR | P2PDMA_O_CLOEXEC);
	put32(req + 20, 1);
	put64(req + 24, 0);
	put64(req + 32, 2 << 20);
	fd = p2pdma_vfio_device_feature(v, req, sizeof(req));
	if (fd < 0) {
		say("VFIO_DEVICE_FEATURE(DMA_BUF): %s: %s", err_name(fd), p2pdma_ctx_error(ctx));
		status = 1;
		goto out;
	}
	CHECK(p2pdma_dmabuf_get(k, fd, &buf));
	say("VFIO_DEVICE_FEATURE(DMA_BUF) region %d, 1 range of 2 MiB: dma-buf fd %d (%s)", bar, fd,
	    p2pdma_dmabuf_exp_name(buf));

	/* The RDMA NIC registers the buffer (ibv_reg_dmabuf_mr, ODP). */
	CHECK(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, nic, "rdma-nic", &imp));
	CHECK(p2pdma_importer_import(imp, buf));
	say("%s attaches (dynamic importer, peer2peer): the first access maps it", p2pdma_dev_name(nic));
	ret = p2pdma_importer_map(imp);
	if (ret) {
		say("map: %s: %s", err_name(ret), p2pdma_ctx_error(ctx));
		printf("    the NIC cannot reach the GPU's BAR on this machine: nothing more to show\n");
		goto close;
	}
	p2pdma_importer_dma_address(imp, 0, &addr);
	{
		const struct p2pdma_sgt *s = p2pdma_importer_sgt(imp);
		struct p2pdma_provider *prov;
		enum p2pdma_map_type mt;

		CHECK(p2pdma_kernel_provider(k, gpu, bar, &prov));
		mt = p2pdma_kernel_map_type(k, prov, nic, NULL);
		say("map: %s, %zu entr%s, DMA address %#llx (%s)", p2pdma_map_type_name(mt),
		    p2pdma_sgt_nents(s), p2pdma_sgt_nents(s) == 1 ? "y" : "ies",
		    (unsigned long long)addr,
		    mt == P2PDMA_MAP_BUS_ADDR ? "a PCI bus address: the switch routes it, no IOMMU" :
		    addr != cpu ? "an IOVA: the NIC's IOMMU translates it to the BAR" :
		    "the BAR's CPU physical address: no translation");
	}
	rdma_write(imp, "hello from the NIC");
	CHECK(p2pdma_phys_read(k, cpu + 0x1000, back, sizeof(back)));
	printf("    the VMM reads the BAR through its own mapping: '%s'\n", back);

	/* The guest resets the GPU: decode off, VFIO_DEVICE_RESET, decode on. */
	CHECK(p2pdma_vfio_write_command(v, 0));
	say("guest clears PCI_COMMAND memory decode before its reset: the buffer is revoked, the NIC was told (%u notification%s) and %s its mapping",
	    p2pdma_importer_notifications(imp), p2pdma_importer_notifications(imp) == 1 ? "" : "s",
	    p2pdma_importer_mapped(imp) ? "KEPT" : "dropped");
	rdma_write(imp, "during reset");
	CHECK(p2pdma_vfio_reset(v));
	say("VFIO_DEVICE_RESET: revoke, reset; memory decode still off, so it stays revoked");
	rdma_write(imp, "after reset, decode off");
	CHECK(p2pdma_vfio_write_command(v, 0x6));
	say("guest enables memory decode again: restored (%u notifications in all)",
	    p2pdma_importer_notifications(imp));
	if (!rdma_write(imp, "after the reset"))
		printf("    the NIC mapped it again on demand\n");

close:
	/* The VMM closes the device: revoked for good. */
	CHECK(p2pdma_vfio_close(v));
	say("VMM closes the VFIO device: every buffer is revoked for good, registrations %d",
	    p2pdma_vfio_registrations(v));
	rdma_write(imp, "after close");
	CHECK(p2pdma_vfio_open(v));
	ret = p2pdma_importer_map(imp);
	say("the device is opened again: the old buffer stays dead (map: %s)", err_name(ret));
	CHECK(p2pdma_vfio_close(v));
	p2pdma_importer_destroy(imp);
	CHECK(p2pdma_dmabuf_put(buf));
	say("the fd (%d) is still open, the buffer dead; unbind of vfio-pci: %s", fd,
	    err_name(p2pdma_vfio_unbind(v)));
	CHECK(p2pdma_dmabuf_close_fd(k, fd));
out:
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(loaded);
	p2pdma_ctx_destroy(ctx);
	return status;
}
