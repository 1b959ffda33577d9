/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/route.h - map type, distance and the reasons, as p2pdma.c decides them */
#ifndef P2PDMA_ROUTE_H
#define P2PDMA_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include <p2pdma/context.h>
#include <p2pdma/policy.h>
#include <p2pdma/topo.h>

#ifdef __cplusplus
extern "C" {
#endif

/* enum pci_p2pdma_map_type, same values as the kernel. */
enum p2pdma_map_type {
	P2PDMA_MAP_UNKNOWN = 0,
	P2PDMA_MAP_NONE = 1,
	P2PDMA_MAP_NOT_SUPPORTED = 2,
	P2PDMA_MAP_BUS_ADDR = 3,
	P2PDMA_MAP_THRU_HOST_BRIDGE = 4,
};

struct p2pdma_router;

/* Longest ACS list we keep (the kernel's text buffer truncates at 128 bytes). */
#define P2PDMA_MAX_ACS 64
/* Predicted dmesg lines per verdict. */
#define P2PDMA_MAX_DMESG 4

/**
 * struct p2pdma_verdict - one calc_map_type_and_dist() result, explained
 * @map_type: the kernel's answer
 * @distance: the hop count it reports
 * @common: the common upstream device, NULL if none (host-bridge path)
 * @nacs: number of devices on the path with ACS redirect (RR|CR|EC) set
 * @acs: those devices, in the kernel's walk order
 * @acs_unknown: some device on the examined path has unreadable ACS; the
 *               verdict assumed it off and may be wrong
 * @same_host_bridge: provider and client are below one host bridge
 * @host_bridge_path: the decision went to the host-bridge stage
 * @cpu_rule: the AMD Zen CPU rule admitted the path
 * @hb_allowed: the allow list admitted it (meaningful when
 *              @host_bridge_path and not @cpu_rule)
 * @hostdev: host devices examined [provider side, client side] or NULL
 * @ndmesg: number of predicted kernel log lines
 * @dmesg: the lines, each "<driver or pci> <BDF>: <text>"
 * @fix: a kernel parameter that would make the pair BUS_ADDR, "" if none
 */
struct p2pdma_verdict {
	enum p2pdma_map_type map_type;
	int distance;
	const struct p2pdma_dev *common;
	unsigned int nacs;
	const struct p2pdma_dev *acs[P2PDMA_MAX_ACS];
	bool acs_unknown;
	bool same_host_bridge;
	bool host_bridge_path;
	bool cpu_rule;
	bool hb_allowed;
	const struct p2pdma_dev *hostdev[2];
	unsigned int ndmesg;
	char dmesg[P2PDMA_MAX_DMESG][256];
	char fix[512];
};

/**
 * p2pdma_router_create() - prepare routing over a topology under a policy
 * @ctx: library context
 * @topo: the topology (must outlive the router; not modified)
 * @pol: the policy (must outlive the router)
 * @out: the new router, with an empty map-type cache
 *
 * Return: 0 or a negative errno.
 */
int p2pdma_router_create(struct p2pdma_ctx *ctx, const struct p2pdma_topo *topo,
			 const struct p2pdma_policy *pol,
			 struct p2pdma_router **out);

/**
 * p2pdma_router_destroy() - free a router
 * @r: the router or NULL
 */
void p2pdma_router_destroy(struct p2pdma_router *r);

/**
 * p2pdma_calc() - calc_map_type_and_dist() with its full explanation
 * @r: the router
 * @provider: owner of the memory
 * @client: DMA initiator
 * @verbose: produce the verbose warnings (the non-verbose host-bridge
 *           warning is produced either way, as in the kernel)
 * @v: filled
 *
 * Like the kernel, stores the map type in the provider's cache.
 *
 * Return: @v->map_type.
 */
enum p2pdma_map_type p2pdma_calc(struct p2pdma_router *r,
				 const struct p2pdma_dev *provider,
				 const struct p2pdma_dev *client, bool verbose,
				 struct p2pdma_verdict *v);

/**
 * p2pdma_map_type_of() - the verdict only, as fast as possible
 * @r: the router
 * @provider: owner of the memory
 * @client: DMA initiator
 * @distance: if non-NULL, receives the distance
 *
 * Same answer as p2pdma_calc(); no cache side effect.
 *
 * Return: the map type.
 */
enum p2pdma_map_type p2pdma_map_type_of(const struct p2pdma_router *r,
					const struct p2pdma_dev *provider,
					const struct p2pdma_dev *client,
					int *distance);

/**
 * p2pdma_map_type_name() - "BUS_ADDR", "THRU_HOST_BRIDGE"...
 * @t: the map type
 *
 * Return: the name.
 */
const char *p2pdma_map_type_name(enum p2pdma_map_type t);

#ifdef __cplusplus
}
#endif
#endif
