// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * p2p-query.c - what a runtime (UCX, NCCL, SPDK, a VMM) writes to ask whether
 * the running kernel lets one device DMA into another's BAR.
 *
 *   cc p2p-query.c $(pkg-config --cflags --libs libp2pdma)
 *   ./a.out [-r ROOT] PROVIDER CLIENT [CLIENT...]
 *
 * PROVIDER owns the memory (a GPU or NVMe CMB BAR), each CLIENT does the
 * DMA (a NIC, another GPU). Without -r it asks about this machine; ROOT is
 * a captured machine (ROOT/sys a sysfs tree, ROOT/proc its cpuinfo and
 * cmdline). No ACS bit is read by hand: the library applies the running
 * kernel's rules (release, CPU, allow list, command line).
 */
#include <stdio.h>
#include <string.h>

#include <p2pdma/p2pdma.h>

int main(int argc, char **argv)
{
	const char *root = NULL;
	struct p2pdma_ctx *ctx;
	struct p2pdma_kernel *k;
	int i, first = 1, ret = 0;

	if (argc > 2 && !strcmp(argv[1], "-r")) {
		root = argv[2];
		first = 3;
	}
	if (argc - first < 2) {
		fprintf(stderr, "usage: %s [-r ROOT] PROVIDER CLIENT [CLIENT...]\n", argv[0]);
		return 2;
	}
	if (p2pdma_ctx_create(&ctx))
		return 2;
	/* Load the machine once; ask about as many pairs as needed. */
	if (p2pdma_query_open(ctx, root, &k)) {
		fprintf(stderr, "%s\n", p2pdma_ctx_error(ctx));
		p2pdma_ctx_destroy(ctx);
		return 2;
	}
	for (i = first + 1; i < argc; i++) {
		struct p2pdma_query q = { .size = sizeof(q) };

		if (p2pdma_query_pair(k, argv[first], argv[i], &q)) {
			fprintf(stderr, "%s\n", p2pdma_ctx_error(ctx));
			ret = 2;
			continue;
		}
		/* BUS_ADDR: program bus addresses, the switch turns the TLPs
		 * around. THRU_HOST_BRIDGE: allowed, through the root complex
		 * (and the IOMMU). NOT_SUPPORTED: stage through host memory. */
		printf("%s -> %s %s %d", argv[i], argv[first],
		       p2pdma_map_type_name(q.map_type), q.distance);
		if (q.acs_unknown && q.map_type_if_acs_redirect != q.map_type)
			printf(" (ACS unreadable: %s if a port redirects; run as root)",
			       p2pdma_map_type_name(q.map_type_if_acs_redirect));
		printf("\n");
	}
	p2pdma_kernel_shutdown(k);
	p2pdma_ctx_destroy(ctx);
	return ret;
}
