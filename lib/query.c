// SPDX-License-Identifier: LGPL-2.1-or-later
/* query.c - one call for runtimes: the running kernel's P2P verdict for a pair */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "p2pdma/query.h"
#include "kernel-private.h"

P2PDMA_EXPORT int p2pdma_query_open(struct p2pdma_ctx *ctx, const char *root,
				    struct p2pdma_kernel **out)
{
	struct p2pdma_topo *topo = NULL;
	struct p2pdma_policy *pol = NULL;
	int ret;

	*out = NULL;
	ret = p2pdma_topo_load_root(ctx, root, &topo);
	if (!ret)
		ret = p2pdma_policy_from_machine(ctx, topo, &pol);
	if (!ret)
		ret = p2pdma_kernel_boot(ctx, topo, pol, out);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(topo);
	return ret;
}

/* Fill @q's field @f only if the caller's struct has it. */
#define SET(q, f, v) do { \
	if ((q)->size >= offsetof(struct p2pdma_query, f) + sizeof((q)->f)) \
		(q)->f = (v); \
} while (0)

P2PDMA_EXPORT int p2pdma_query_pair(const struct p2pdma_kernel *k,
				    const char *provider, const char *client,
				    struct p2pdma_query *q)
{
	const struct p2pdma_topo *t = p2pdma_kernel_topo(k);
	const struct p2pdma_dev *p, *c;
	struct p2pdma_verdict v;
	uint32_t dom;
	uint8_t bus, devfn;

	if (!q || q->size < offsetof(struct p2pdma_query, distance) + sizeof(q->distance))
		return p2pdma_err(k->ctx, -EINVAL, "query: struct p2pdma_query.size not set");
	if (!provider || !client || p2pdma_parse_bdf(provider, &dom, &bus, &devfn) ||
	    p2pdma_parse_bdf(client, &dom, &bus, &devfn))
		return p2pdma_err(k->ctx, -EINVAL, "query: '%s' is not a PCI address",
				  provider && client ? (p2pdma_parse_bdf(provider, &dom, &bus, &devfn) ?
							provider : client) : "(null)");
	p = p2pdma_topo_find(t, provider);
	c = p2pdma_topo_find(t, client);
	if (!p || !c)
		return p2pdma_err(k->ctx, -ENODEV, "query: no function %s on this machine",
				  p ? client : provider);
	p2pdma_router_calc(p2pdma_kernel_router(k), p, c, false, &v);
	SET(q, map_type, v.map_type);
	SET(q, distance, v.map_type == P2PDMA_MAP_NOT_SUPPORTED ? -1 : v.distance);
	SET(q, acs_unknown, v.acs_unknown);
	SET(q, map_type_if_acs_redirect,
	    v.if_acs_outcome == P2PDMA_UNKNOWN_ACS_NO_EFFECT ? v.map_type : v.if_acs);
	SET(q, cpu_rule, v.cpu_rule);
	SET(q, allow_listed, v.hb_allowed);
	return 0;
}

P2PDMA_EXPORT int p2pdma_query(const char *root, const char *provider,
			       const char *client, struct p2pdma_query *q)
{
	struct p2pdma_ctx *ctx;
	struct p2pdma_kernel *k = NULL;
	int ret;

	ret = p2pdma_ctx_create(&ctx);
	if (ret)
		return ret;
	ret = p2pdma_query_open(ctx, root, &k);
	if (!ret)
		ret = p2pdma_query_pair(k, provider, client, q);
	p2pdma_kernel_shutdown(k);
	p2pdma_ctx_destroy(ctx);
	return ret;
}
