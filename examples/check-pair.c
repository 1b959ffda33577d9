// SPDX-License-Identifier: LGPL-2.1-or-later
/* check-pair.c - the smallest program using libp2pdma: one pair's verdict */
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
	struct p2pdma_router *r = NULL;
	struct p2pdma_verdict *v = malloc(sizeof(*v));
	const struct p2pdma_dev *p, *c;
	unsigned int i;
	int ret = 2;

	if (argc != 4 || !v) {
		fprintf(stderr, "usage: %s EXAMPLE|DUMP PROVIDER CLIENT\n", argv[0]);
		free(v);
		return 2;
	}
	if (p2pdma_ctx_create(&ctx))
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
	if (p2pdma_policy_create(ctx, &pol) ||
	    p2pdma_router_create(ctx, topo, pol, &r)) {
		fprintf(stderr, "%s\n", p2pdma_ctx_error(ctx));
		goto out;
	}
	p2pdma_calc(r, p, c, true, v);
	printf("%s -> %s: %s, distance %d\n", argv[3], argv[2],
	       p2pdma_map_type_name(v->map_type), v->distance);
	for (i = 0; i < v->ndmesg; i++)
		printf("  dmesg: %s\n", v->dmesg[i]);
	if (v->fix[0])
		printf("  fix: %s\n", v->fix);
	ret = v->map_type == P2PDMA_MAP_NOT_SUPPORTED;
out:
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	free(v);
	return ret;
}
