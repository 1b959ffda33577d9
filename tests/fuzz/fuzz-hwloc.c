// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-hwloc.c - fuzz target: the hwloc XML reader (formats 1, 2, 3) */
#include <stdlib.h>
#include <string.h>

#include "source-props.h"

/*
 * The input is the XML. Properties: check_source_load(), and hwloc never
 * yields a known ACS state.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pdma_topo *topo = NULL;
	struct p2pdma_ctx *ctx;
	char *text;
	int ret;

	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	FUZZ_CHECK(p2pdma_ctx_create(&ctx) == 0, "context creation failed");
	p2pdma_ctx_set_param(ctx, "pci.ids", "/nonexistent/pci.ids");
	ret = p2pdma_topo_load_hwloc_string(ctx, text, "fuzz.xml", &topo);
	check_source_load(ctx, ret, topo, true);
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	free(text);
	return 0;
}
