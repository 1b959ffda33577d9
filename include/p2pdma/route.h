/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/route.h - map type, distance and the reasons, as p2pdma.c decides them */
#ifndef P2PDMA_ROUTE_H
#define P2PDMA_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
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
 *       (the complete pci=disable_acs_redir= list, never truncated)
 * @hb_entry: the allow-list rows matched for @hostdev, NULL where none
 *            matched or the stage was not reached (CPU rule, no hostdev)
 * @hb_warned: the host-bridge warning (spec 2.8 message 3) was produced
 * @acs_truncated: the kernel's 128-byte list buffer overflowed, so the
 *                 list it prints (@acs_list) is cut short
 * @acs_list: the ';'-separated list exactly as the kernel prints it in
 *            message 2 (final ';' dropped, truncated like seq_buf)
 * @nunknown: number of examined devices whose ACS state is UNKNOWN
 * @unknown: those devices, in walk order
 * @cached: p2pdma_provider_map_type() answered from the map-type cache
 *          (no calculation ran, so no dmesg lines; spec 2.5)
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
	/* Appended fields (the layout above is kept as it was). */
	const struct p2pdma_allow_entry *hb_entry[2];
	bool hb_warned;
	bool acs_truncated;
	char acs_list[512];
	unsigned int nunknown;
	const struct p2pdma_dev *unknown[P2PDMA_MAX_ACS];
	bool cached;
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
 * p2pdma_map_type_row() - p2pdma_map_type_of() for one provider and many clients
 * @r: the router
 * @provider: owner of the memory
 * @clients: the clients
 * @n: number of clients
 * @types: receives @n map types (enum p2pdma_map_type values)
 * @distances: receives @n distances
 *
 * The same answers as @n calls of p2pdma_map_type_of(), with the
 * provider's tables loaded once (for matrices).
 */
void p2pdma_map_type_row(const struct p2pdma_router *r,
			 const struct p2pdma_dev *provider,
			 const struct p2pdma_dev *const *clients, size_t n,
			 uint8_t *types, int *distances);

/**
 * p2pdma_map_type_name() - "BUS_ADDR", "THRU_HOST_BRIDGE"...
 * @t: the map type
 *
 * Return: the name.
 */
const char *p2pdma_map_type_name(enum p2pdma_map_type t);

/**
 * p2pdma_router_refresh() - rebuild the fast tables from the registers
 * @r: the router
 *
 * p2pdma_map_type_of() answers from tables built at creation (ACS state,
 * host-bridge verdicts). After a what-if changed ACS Control registers
 * (p2pdma_topo_set_acs_ctrl(), p2pdma_policy_apply()), call this so the
 * fast path sees them; p2pdma_calc() always reads the registers live, as
 * the kernel does.
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_router_refresh(struct p2pdma_router *r);

/**
 * p2pdma_router_reset_cache() - forget every cached map type (what-if)
 * @r: the router
 *
 * The kernel never invalidates the cache while the provider stays bound
 * (spec 2.5); this models unbinding and rebinding every provider.
 */
void p2pdma_router_reset_cache(struct p2pdma_router *r);

/**
 * p2pdma_router_set_published() - what-if: give a function published p2pmem
 * @r: the router
 * @dev: the function
 * @on: true as if its driver ran pci_p2pdma_add_resource() and
 *      pci_p2pmem_publish(dev, true); false withdraws a nomination (memory
 *      the topology itself reports stays published)
 *
 * A nominated function also gets a map-type cache (it "has p2pdma").
 */
void p2pdma_router_set_published(struct p2pdma_router *r,
				 const struct p2pdma_dev *dev, bool on);

/**
 * p2pdma_router_has_published() - pci_has_p2pmem() under the router
 * @r: the router
 * @dev: the function
 *
 * Return: true if @dev has published p2pmem (topology or nomination).
 */
bool p2pdma_router_has_published(const struct p2pdma_router *r,
				 const struct p2pdma_dev *dev);

/**
 * p2pdma_cache_key() - the map-type cache key of a client (spec 2.5)
 * @client: the client function (a VF's own address, not its PF's)
 *
 * Return: domain << 16 | bus << 8 | devfn.
 */
uint32_t p2pdma_cache_key(const struct p2pdma_dev *client);

/**
 * p2pdma_cache_lookup() - read a provider's map-type cache
 * @r: the router
 * @provider: the provider
 * @client: the client
 *
 * Return: the cached type, or P2PDMA_MAP_UNKNOWN when nothing was stored
 * (also when @provider has no p2pdma state, so no cache).
 */
enum p2pdma_map_type p2pdma_cache_lookup(const struct p2pdma_router *r,
					 const struct p2pdma_dev *provider,
					 const struct p2pdma_dev *client);

/**
 * p2pdma_provider_map_type() - pci_p2pdma_map_type() (spec 2.6)
 * @r: the router
 * @provider: owner of the struct p2pdma_provider. Holding a provider means
 *            pcim_p2pdma_init() ran, so the function has p2pdma state from
 *            now on (its cache starts recording).
 * @client: the importing device; NULL models a non-PCI struct device, for
 *          which this API does NOT walk to a PCI parent (-> NOT_SUPPORTED)
 * @v: filled: from the cache (@v->cached, no explanation, no dmesg: the
 *     kernel prints nothing then) or by a verbose p2pdma_calc()
 *
 * Return: the map type.
 */
enum p2pdma_map_type p2pdma_provider_map_type(struct p2pdma_router *r,
					      const struct p2pdma_dev *provider,
					      const struct p2pdma_dev *client,
					      struct p2pdma_verdict *v);

/**
 * p2pdma_distance_many() - pci_p2pdma_distance_many() (spec 2.3)
 * @r: the router
 * @provider: the provider
 * @clients: the clients; a NULL entry is a device without a PCI parent
 * @n: number of clients
 * @verbose: produce the verbose warnings and keep going after a failure;
 *           when false, stop at the first NOT_SUPPORTED client
 * @verdicts: NULL, or @n verdicts filled for the clients evaluated (those
 *            after a non-verbose stop are left with map_type UNKNOWN)
 *
 * Every evaluation stores into the provider's cache, as in the kernel.
 *
 * Return: the sum of the distances, or -1 if @n is 0 or any client fails.
 */
int p2pdma_distance_many(struct p2pdma_router *r,
			 const struct p2pdma_dev *provider,
			 const struct p2pdma_dev *const *clients,
			 unsigned int n, bool verbose,
			 struct p2pdma_verdict *verdicts);

/* pci_p2pmem_find_many() keeps at most PAGE_SIZE / sizeof(void *) ties. */
#define P2PDMA_FIND_MAX 512

/**
 * struct p2pdma_find_result - what pci_p2pmem_find_many() saw and chose
 * @pick: the provider chosen, NULL if none qualifies
 * @distance: its distance_many() sum, -1 if none
 * @ncandidates: size of the minimal-distance tie set
 * @candidates: the tie set in enumeration order (first 512 only, as the
 *              kernel's page-sized array)
 * @draw: the index into @candidates the seeded draw produced
 */
struct p2pdma_find_result {
	const struct p2pdma_dev *pick;
	int distance;
	unsigned int ncandidates;
	const struct p2pdma_dev *candidates[P2PDMA_FIND_MAX];
	unsigned int draw;
};

/**
 * p2pdma_find_many() - pci_p2pmem_find_many() with a seedable draw
 * @r: the router
 * @clients: the clients
 * @n: number of clients
 * @seed: seeds the PRNG that replaces get_random_u32_below(): the same
 *        seed always picks the same member of the same tie set
 * @res: filled
 *
 * Scans functions in enumeration order, skipping those without published
 * p2pmem, computes p2pdma_distance_many(non-verbose) (filling caches, as
 * the kernel does) and keeps the minimal-distance set.
 *
 * Return: 0 if a provider was picked, -ENODEV if none qualifies.
 */
int p2pdma_find_many(struct p2pdma_router *r,
		     const struct p2pdma_dev *const *clients, unsigned int n,
		     uint64_t seed, struct p2pdma_find_result *res);

/**
 * p2pdma_random_below() - the draw p2pdma_find_many() makes
 * @seed: the seed
 * @n: bound (> 0)
 *
 * splitmix64(seed) reduced to [0, n) by Lemire's multiply-shift with
 * rejection (like get_random_u32_below(), unbiased).
 *
 * Return: a number in [0, @n).
 */
uint32_t p2pdma_random_below(uint64_t seed, uint32_t n);

#ifdef __cplusplus
}
#endif
#endif
