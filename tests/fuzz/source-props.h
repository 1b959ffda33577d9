/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* source-props.h - the properties every text source's fuzz target checks */
#ifndef P2PDMA_FUZZ_SOURCE_PROPS_H
#define P2PDMA_FUZZ_SOURCE_PROPS_H

#include <string.h>

#include "fuzz.h"
#include "topo-private.h"

/*
 * After a load that returned @ret and @topo:
 *  - rejected: a negative errno, no topology, a message of one line;
 *  - accepted: the invariant checker passes, every name is its address,
 *    every ACS state is one of the three (and UNKNOWN where @acs_unknown),
 *    and the JSON export loads back equal on everything (P2PDMA_CMP_ALL),
 *    so nothing the source produced is outside what the model can hold.
 */
static inline void check_source_load(struct p2pdma_ctx *ctx, int ret,
				     struct p2pdma_topo *topo, bool acs_unknown)
{
	struct p2pdma_topo *again = NULL;
	char msg[512], *text = NULL;
	size_t len = 0, i;
	FILE *f;

	if (ret) {
		FUZZ_CHECK(ret < 0, "load returned %d", ret);
		FUZZ_CHECK(topo == NULL, "failed load returned a topology");
		FUZZ_CHECK(*p2pdma_ctx_error(ctx), "failed load (%d) left no message", ret);
		FUZZ_CHECK(!strchr(p2pdma_ctx_error(ctx), '\n'), "message of more than one line: %s",
			   p2pdma_ctx_error(ctx));
		return;
	}
	FUZZ_CHECK(topo != NULL, "load succeeded without a topology");
	FUZZ_CHECK(p2pdma_topo_check(topo, msg, sizeof(msg)) == 0,
		   "loaded topology fails the checker: %s", msg);
	for (i = 0; i < topo->ndevs; i++) {
		const struct p2pdma_dev *d = topo->devs[i];
		uint32_t dom;
		uint8_t bus, devfn;

		FUZZ_CHECK(p2pdma_parse_bdf(d->name, &dom, &bus, &devfn) == 0 &&
			   dom == d->domain && bus == d->bus && devfn == d->devfn,
			   "name \"%s\" is not the address", d->name);
		FUZZ_CHECK(d->acs_state == P2PDMA_ACS_ABSENT || d->acs_state == P2PDMA_ACS_PRESENT ||
			   d->acs_state == P2PDMA_ACS_UNKNOWN, "%s: ACS state %d", d->name, d->acs_state);
		FUZZ_CHECK(!acs_unknown || d->acs_state == P2PDMA_ACS_UNKNOWN,
			   "%s: ACS known from a source that has none", d->name);
	}
	/*
	 * A description file is stricter than hardware: a BAR outside its
	 * bridge's windows is only logged for a hardware source (the kernel
	 * may have left it so) but refused in JSON. The round trip is a
	 * property of the topologies a description can hold.
	 */
	{
		enum p2pdma_source_kind kind = topo->source;
		int strict;

		topo->source = P2PDMA_SRC_JSON;
		strict = p2pdma_topo_check(topo, msg, sizeof(msg));
		topo->source = kind;
		if (strict)
			return;
	}
	f = open_memstream(&text, &len);
	FUZZ_CHECK(f != NULL, "open_memstream failed");
	ret = p2pdma_topo_export_json(topo, f);
	FUZZ_CHECK(fclose(f) == 0, "memstream close failed");
	FUZZ_CHECK(ret == 0, "JSON export failed: %s", p2pdma_ctx_error(ctx));
	ret = p2pdma_topo_load_json_string(ctx, text, p2pdma_topo_name(topo), &again);
	FUZZ_CHECK(ret == 0, "exported JSON does not load: %s\n%s", p2pdma_ctx_error(ctx), text);
	ret = !p2pdma_topo_equal(topo, again, P2PDMA_CMP_ALL, msg, sizeof(msg));
	FUZZ_CHECK(ret == 0, "export -> load differs: %s", msg);
	p2pdma_topo_destroy(again);
	free(text);
}

#endif
