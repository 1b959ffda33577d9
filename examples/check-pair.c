// SPDX-License-Identifier: LGPL-2.1-or-later
/* check-pair.c - the smallest program using libp2pdma: one pair's verdict, explained */
#include <stdio.h>
#include <stdlib.h>

#include <p2pdma/p2pdma.h>

/*
 * Usage: check-pair EXAMPLE|DUMP PROVIDER CLIENT
 * A name of a bundled example (xeon-8gpu...) or an lspci -xxxx dump file.
 */
int main(int argc, char **argv)
{
	struct p2pdma_ctx *ctx = NULL;
	struct p2pdma_topo *topo = NULL;
	struct p2pdma_policy *pol = NULL;
	struct p2pdma_kernel *k = NULL;
	struct p2pdma_verdict *v = NULL;
	const struct p2pdma_dev *p, *c;
	const char *fix;
	size_t i;
	int ret = 2;

	if (argc != 4) {
		fprintf(stderr, "usage: %s EXAMPLE|DUMP PROVIDER CLIENT\n", argv[0]);
		return 2;
	}
	if (p2pdma_ctx_create(&ctx) || p2pdma_verdict_create(&v))
		goto out;
	if (p2pdma_topo_load_example(ctx, argv[1], &topo) &&
	    p2pdma_topo_load_dump(ctx, argv[1], &topo)) {
		fprintf(stderr, "%s\n", p2pdma_ctx_error(ctx));
		goto out;
	}
	p = p2pdma_topo_find(topo, argv[2]);
	c = p2pdma_topo_find(topo, argv[3]);
	if (!p || !c) {
		fprintf(stderr, "no such function: %s\n", p ? argv[3] : argv[2]);
		goto out;
	}
	/* The kernel the machine runs (or the newest, if it does not say). */
	if (p2pdma_policy_from_machine(ctx, topo, &pol) ||
	    p2pdma_kernel_boot(ctx, topo, pol, &k)) {
		fprintf(stderr, "%s\n", p2pdma_ctx_error(ctx));
		goto out;
	}
	p2pdma_router_calc(p2pdma_kernel_router(k), p, c, true, v);
	printf("%s -> %s: %s, distance %d\n", argv[3], argv[2],
	       p2pdma_map_type_name(p2pdma_verdict_map_type(v)),
	       p2pdma_verdict_distance(v));
	for (i = 0; i < p2pdma_verdict_num_dmesg(v); i++)
		printf("  dmesg: %s\n", p2pdma_verdict_dmesg(v, i));
	fix = p2pdma_verdict_fix(v);
	if (fix)
		printf("  fix: %s\n", fix);
	ret = p2pdma_verdict_map_type(v) == P2PDMA_MAP_NOT_SUPPORTED;
out:
	p2pdma_verdict_destroy(v);
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	return ret;
}
