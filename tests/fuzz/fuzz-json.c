// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-json.c - fuzz target: the JSON topology loader and its exporter */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "topo-private.h"

/*
 * Write @topo as JSON into a new string. The exporter is part of the
 * property: what it writes must load again.
 */
static char *export_json(const struct p2pdma_topo *topo)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ret;

	FUZZ_CHECK(f != NULL, "open_memstream failed");
	ret = p2pdma_topo_export_json(topo, f);
	FUZZ_CHECK(fclose(f) == 0, "memstream close failed");
	FUZZ_CHECK(ret == 0, "export of a loaded topology failed (%d): %s", ret,
		   p2pdma_ctx_error(topo->ctx));
	return text;
}

/*
 * Properties, for any text the loader accepts:
 *  - the invariant checker passes (the loader ran it; it must stay true);
 *  - every function's name is its address, whole (parses back to it);
 *  - export -> load succeeds and compares equal on everything
 *    (P2PDMA_CMP_ALL): the format is lossless;
 *  - exporting the reloaded topology gives the same text (the export is
 *    canonical, so a second round trip cannot drift).
 * For any text it rejects: an error message is set, nothing is returned.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pdma_topo *topo = NULL, *again = NULL;
	struct p2pdma_ctx *ctx;
	char *text, *out1, *out2, msg[512];
	uint32_t i;
	int ret;

	/* The loader takes C strings: an embedded NUL just ends the text. */
	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	FUZZ_CHECK(p2pdma_ctx_create(&ctx) == 0, "context creation failed");

	ret = p2pdma_topo_load_json_string(ctx, text, "fuzz.json", &topo);
	if (ret) {
		FUZZ_CHECK(ret < 0, "load returned %d", ret);
		FUZZ_CHECK(topo == NULL, "failed load returned a topology");
		FUZZ_CHECK(p2pdma_ctx_error(ctx) && *p2pdma_ctx_error(ctx),
			   "failed load (%d) left no message", ret);
		goto out;
	}
	FUZZ_CHECK(topo != NULL, "load succeeded without a topology");
	ret = p2pdma_topo_check(topo, msg, sizeof(msg));
	FUZZ_CHECK(ret == 0, "loaded topology fails the checker: %s", msg);

	for (i = 0; i < topo->ndevs; i++) {
		const struct p2pdma_dev *d = topo->devs[i];
		uint32_t dom;
		uint8_t bus, devfn;

		FUZZ_CHECK(p2pdma_parse_bdf(d->name, &dom, &bus, &devfn) == 0 &&
			   dom == d->domain && bus == d->bus && devfn == d->devfn,
			   "name \"%s\" is not the address %x:%x:%x", d->name,
			   d->domain, d->bus, d->devfn);
	}

	/*
	 * Same name for both loads: a description without "name" is called
	 * after its source, and that is not what the round trip tests.
	 */
	out1 = export_json(topo);
	ret = p2pdma_topo_load_json_string(ctx, out1, "fuzz.json", &again);
	FUZZ_CHECK(ret == 0, "exported JSON does not load: %s\n%s",
		   p2pdma_ctx_error(ctx), out1);
	ret = !p2pdma_topo_equal(topo, again, P2PDMA_CMP_ALL, msg, sizeof(msg));
	FUZZ_CHECK(ret == 0, "export -> load differs: %s", msg);
	ret = p2pdma_topo_check(again, msg, sizeof(msg));
	FUZZ_CHECK(ret == 0, "reloaded topology fails the checker: %s", msg);
	out2 = export_json(again);
	FUZZ_CHECK(strcmp(out1, out2) == 0, "second export differs:\n%s\n---\n%s", out1, out2);
	free(out1);
	free(out2);
out:
	p2pdma_topo_destroy(again);
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	free(text);
	return 0;
}
