// SPDX-License-Identifier: LGPL-2.1-or-later
/* nvmeof-offload.c - the NVMe-oF copy offload's three roles on the modelled kernel */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <p2pdma/p2pdma.h>

/*
 * Usage: nvmeof-offload [MACHINE [NIC DRIVE]]
 * (default: the bundled nvmeof-target, its RDMA NIC 19:00.0 and the data
 * drive 1c:00.0)
 *
 * The roles of doc/kernel-model.md §1.5, each done as its kernel code does
 * it, on the public API only:
 *  - provider: nvme-pci's probe turns each controller's CMB (a 64-bit
 *    prefetchable memory BAR of at least 2 MiB) into p2pmem and publishes it;
 *  - clients: the RDMA NIC that receives the data and the NVMe controller
 *    that writes it to the namespace;
 *  - orchestrator: nvmet, which asks find_many for p2pmem both clients
 *    reach, takes a command buffer from it, and has each client map it.
 * Exit status 0 when every client reaches the buffer with P2P DMA.
 */
static const struct p2pdma_dev *find(const struct p2pdma_topo *t, const char *bdf)
{
	const struct p2pdma_dev *d = p2pdma_topo_find(t, bdf);

	if (!d)
		fprintf(stderr, "no function %s\n", bdf);
	return d;
}

/* nvme-pci's probe: pci_p2pdma_add_resource() of the CMB, then publish. */
static unsigned int provider_probe(struct p2pdma_kernel *k, const struct p2pdma_topo *t)
{
	unsigned int n = 0;
	size_t i;
	int bar;

	for (i = 0; i < p2pdma_topo_num_devs(t); i++) {
		const struct p2pdma_dev *d = p2pdma_topo_dev(t, i);
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(d, &in, sizeof(in));
		if (in.class_code != 0x010802 || !in.driver)
			continue;
		for (bar = 0; bar < P2PDMA_NUM_BARS; bar++) {
			const struct p2pdma_bar *b = &in.bars[bar];

			if ((b->flags & (P2PDMA_BAR_MEM | P2PDMA_BAR_64 | P2PDMA_BAR_PREFETCH)) !=
			    (P2PDMA_BAR_MEM | P2PDMA_BAR_64 | P2PDMA_BAR_PREFETCH) ||
			    b->size < P2PDMA_SUBSECTION_SIZE)
				continue;
			if (p2pdma_kernel_add_resource(k, d, bar, 0, 0))
				continue;
			p2pdma_kernel_publish(k, d, true);
			printf("provider: %s registered BAR %d (%" PRIu64 " MiB CMB) and published it\n",
			       in.bdf, bar, b->size >> 20);
			n++;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *machine = argc > 1 ? argv[1] : "nvmeof-target";
	const char *nic_bdf = argc > 3 ? argv[2] : "0000:19:00.0";
	const char *drive_bdf = argc > 3 ? argv[3] : "0000:1c:00.0";
	struct p2pdma_ctx *ctx = NULL;
	struct p2pdma_topo *topo = NULL;
	struct p2pdma_policy *pol = NULL;
	struct p2pdma_kernel *k = NULL;
	struct p2pdma_find_result *res = NULL;
	struct p2pdma_sgl *sgl = NULL;
	const struct p2pdma_dev *clients[2], *pick;
	struct p2pdma_range_info ri;
	struct p2pdma_provider *prov;
	unsigned int nents, i, reached = 0;
	uint64_t kva, phys;
	uint32_t len;
	int ret = 1;

	if (argc != 1 && argc != 2 && argc != 4) {
		fprintf(stderr, "usage: %s [MACHINE [NIC DRIVE]]\n", argv[0]);
		return 2;
	}
	if (p2pdma_ctx_create(&ctx) || p2pdma_find_result_create(&res))
		goto out;
	if (p2pdma_topo_load_example(ctx, machine, &topo) ||
	    p2pdma_policy_from_machine(ctx, topo, &pol) ||
	    p2pdma_kernel_boot(ctx, topo, pol, &k)) {
		fprintf(stderr, "%s\n", p2pdma_ctx_error(ctx));
		goto out;
	}
	p2pdma_kernel_set_seed(k, 1);
	if (!provider_probe(k, topo)) {
		fprintf(stderr, "no NVMe controller with a CMB-like BAR on %s\n", machine);
		goto out;
	}
	/* The clients of one nvmet port: the NIC and the namespace's controller. */
	if (!(clients[0] = find(topo, nic_bdf)) || !(clients[1] = find(topo, drive_bdf)))
		goto out;
	/* The orchestrator: nvmet_req_find_p2p_dev() -> pci_p2pmem_find_many(). */
	if (p2pdma_kernel_find_many(k, clients, 2, res, &pick)) {
		printf("orchestrator: no published p2pmem both clients reach: data goes through host memory\n");
		goto out;
	}
	printf("orchestrator: find_many(%s, %s) picks %s: %zu provider(s) at distance %d, drawn at random\n",
	       nic_bdf, drive_bdf, p2pdma_dev_name(pick),
	       p2pdma_find_result_num_candidates(res), p2pdma_find_result_distance(res));
	/* nvmet_req_alloc_p2pmem_sgls(): a 128 KiB command buffer. */
	if (p2pdma_p2pmem_alloc_sgl(k, pick, 128 * 1024, &sgl, &nents)) {
		fprintf(stderr, "%s\n", p2pdma_ctx_error(ctx));
		goto out;
	}
	phys = p2pdma_sgl_entry(sgl, 0, &kva, &len);
	printf("orchestrator: %u-entry scatterlist, %" PRIu32 " bytes at %#" PRIx64 " (CPU %#" PRIx64 ", bus %#" PRIx64 ")\n",
	       nents, len, kva, phys, p2pdma_p2pmem_virt_to_bus(k, pick, kva));
	/* Each client maps the buffer for its own DMA (dma_map_sg()). */
	if (p2pdma_p2pmem_range_get_info(k, pick, 0, &ri, sizeof(ri)) ||
	    p2pdma_kernel_provider(k, pick, ri.bar, &prov))
		goto out;
	for (i = 0; i < 2; i++) {
		enum p2pdma_map_type t = p2pdma_kernel_map_type(k, prov, clients[i], NULL);

		printf("client %s: %s", p2pdma_dev_name(clients[i]), p2pdma_map_type_name(t));
		if (t == P2PDMA_MAP_BUS_ADDR)
			printf(", DMA to bus address %#" PRIx64 " (no IOMMU on the path)\n",
			       p2pdma_provider_bus_addr_map(prov, phys));
		else if (t == P2PDMA_MAP_THRU_HOST_BRIDGE)
			printf(", DMA to %#" PRIx64 " through the host bridge\n", phys);
		else
			printf(": this client cannot reach the buffer\n");
		reached += t == P2PDMA_MAP_BUS_ADDR || t == P2PDMA_MAP_THRU_HOST_BRIDGE;
	}
	printf("data path: %s -> p2pmem of %s -> %s, host memory untouched\n",
	       nic_bdf, p2pdma_dev_name(pick), drive_bdf);
	ret = reached == 2 ? 0 : 1;
out:
	if (sgl && p2pdma_p2pmem_free_sgl(k, pick, sgl))
		ret = 1;
	p2pdma_find_result_destroy(res);
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	return ret;
}
