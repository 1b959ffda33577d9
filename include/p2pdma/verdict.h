/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/verdict.h - the pure verdict: map type, distance and the reasons, as p2pdma.c decides them */
#ifndef P2PDMA_VERDICT_H
#define P2PDMA_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p2pdma/context.h>
#include <p2pdma/policy.h>
#include <p2pdma/topo.h>

#ifdef __cplusplus
extern "C" {
#endif

/* enum pci_p2pdma_map_type, same values as the kernel (doc/kernel-model.md §3.1). */
enum p2pdma_map_type {
	P2PDMA_MAP_UNKNOWN = 0,
	P2PDMA_MAP_NONE = 1,
	P2PDMA_MAP_NOT_SUPPORTED = 2,
	P2PDMA_MAP_BUS_ADDR = 3,
	P2PDMA_MAP_THRU_HOST_BRIDGE = 4,
};

/*
 * Why a verdict that came out BUS_ADDR over ports whose ACS Control could
 * not be read would change if one of them had redirect on
 * (p2pdma_verdict_if_acs_redirect()).
 */
enum p2pdma_unknown_acs_outcome {
	P2PDMA_UNKNOWN_ACS_NO_EFFECT = 0,	/* the verdict does not depend on it */
	P2PDMA_UNKNOWN_ACS_CPU_RULE,		/* redirected up; the CPU rule admits it */
	P2PDMA_UNKNOWN_ACS_ALLOW_LISTED,	/* redirected up; the host bridge is listed */
	P2PDMA_UNKNOWN_ACS_NOT_LISTED,		/* redirected up; the host bridge is not */
	P2PDMA_UNKNOWN_ACS_NO_HOSTDEV,		/* redirected up; no device to look up */
	P2PDMA_UNKNOWN_ACS_REFUSED,		/* before 5.4 redirect alone refused it */
};

struct p2pdma_router;
struct p2pdma_verdict;

/**
 * p2pdma_router_create() - the pure verdict calculation over a topology
 * @ctx: library context (errors only)
 * @topo: the topology. It is sealed by this call (p2pdma_topo_seal()): it
 *        can no longer change, so no answer of the router can go stale. It
 *        must outlive the router.
 * @pol: the policy; the router keeps its own copy, so later changes to
 *       @pol do not affect it
 * @out: the new router
 *
 * A router holds no kernel state: no map-type cache, no published flags,
 * no log. Every query is a pure function of (@topo, @pol, provider,
 * client). Kernel state lives in struct p2pdma_kernel (p2pdma/kernel.h).
 *
 * Context: after creation a router is immutable; any number of threads
 * may query one router concurrently without locking.
 *
 * Return: 0 or a negative errno (-EINVAL, -ENOMEM).
 */
int p2pdma_router_create(struct p2pdma_ctx *ctx, struct p2pdma_topo *topo,
			 const struct p2pdma_policy *pol,
			 struct p2pdma_router **out);

/**
 * p2pdma_router_destroy() - free a router
 * @r: the router or NULL
 */
void p2pdma_router_destroy(struct p2pdma_router *r);

/**
 * p2pdma_router_topo() - the topology a router answers for
 * @r: the router
 *
 * Return: the sealed topology.
 */
const struct p2pdma_topo *p2pdma_router_topo(const struct p2pdma_router *r);

/**
 * p2pdma_router_policy() - the router's own copy of the policy
 * @r: the router
 *
 * Return: the policy; valid as long as the router.
 */
const struct p2pdma_policy *p2pdma_router_policy(const struct p2pdma_router *r);

/**
 * p2pdma_router_calc() - calc_map_type_and_dist() with its full explanation
 * @r: the router
 * @provider: owner of the memory (a function of the router's topology or
 *            of another topology of the same lineage, see p2pdma_topo_clone())
 * @client: DMA initiator
 * @verbose: produce the verbose warnings (the non-verbose host-bridge
 *           warning is produced either way, as in the kernel)
 * @v: filled (made by p2pdma_verdict_create())
 *
 * The walk of doc/kernel-model.md §2.2 with the host-bridge stage of §2.4.
 * No side effect: the map-type cache is the kernel object's
 * (p2pdma_kernel_map_type()).
 *
 * Context: thread-safe on a shared router; @v must not be shared.
 *
 * Return: the map type (also in @v).
 */
enum p2pdma_map_type p2pdma_router_calc(const struct p2pdma_router *r,
					const struct p2pdma_dev *provider,
					const struct p2pdma_dev *client,
					bool verbose, struct p2pdma_verdict *v);

/**
 * p2pdma_router_map_type() - the verdict only, as fast as possible
 * @r: the router
 * @provider: owner of the memory
 * @client: DMA initiator
 * @distance: if non-NULL, receives the distance
 *
 * Same answer as p2pdma_router_calc(), from tables built at creation.
 *
 * Context: thread-safe on a shared router.
 *
 * Return: the map type.
 */
enum p2pdma_map_type p2pdma_router_map_type(const struct p2pdma_router *r,
					    const struct p2pdma_dev *provider,
					    const struct p2pdma_dev *client,
					    int *distance);

/**
 * p2pdma_router_map_type_row() - p2pdma_router_map_type() for one provider and many clients
 * @r: the router
 * @provider: owner of the memory
 * @clients: the clients
 * @n: number of clients
 * @types: receives @n map types (enum p2pdma_map_type values)
 * @distances: receives @n distances
 *
 * The same answers as @n calls of p2pdma_router_map_type(), with the
 * provider's tables loaded once (for matrices).
 *
 * Context: thread-safe on a shared router.
 */
void p2pdma_router_map_type_row(const struct p2pdma_router *r,
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
 * p2pdma_cache_key() - the map-type cache key of a client (doc/kernel-model.md §2.5)
 * @client: the client function (a VF's own address, not its PF's)
 *
 * Return: domain << 16 | bus << 8 | devfn.
 */
uint32_t p2pdma_cache_key(const struct p2pdma_dev *client);

/* --- the explained result: opaque, read through accessors --- */

/**
 * p2pdma_verdict_create() - allocate an empty verdict
 * @out: the new verdict (map type UNKNOWN until filled)
 *
 * Verdicts are opaque so that they can grow without changing the ABI;
 * one can be refilled by any number of calculations.
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_verdict_create(struct p2pdma_verdict **out);

/**
 * p2pdma_verdict_destroy() - free a verdict
 * @v: the verdict or NULL
 */
void p2pdma_verdict_destroy(struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_map_type() - the kernel's answer
 * @v: the verdict
 *
 * Return: the map type.
 */
enum p2pdma_map_type p2pdma_verdict_map_type(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_distance() - the hop count the kernel reports
 * @v: the verdict
 *
 * Return: the distance (-1 where no calculation ran, e.g. a non-PCI client).
 */
int p2pdma_verdict_distance(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_provider() - the provider the verdict is for
 * @v: the verdict
 *
 * Return: the function, or NULL for an empty verdict.
 */
const struct p2pdma_dev *p2pdma_verdict_provider(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_client() - the client the verdict is for
 * @v: the verdict
 *
 * Return: the function, or NULL (empty verdict, or a non-PCI client).
 */
const struct p2pdma_dev *p2pdma_verdict_client(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_common() - the common upstream device
 * @v: the verdict
 *
 * Return: the device where the two upstream chains meet, or NULL when
 * they share none (a host-bridge path).
 */
const struct p2pdma_dev *p2pdma_verdict_common(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_num_acs() - devices on the examined path with ACS redirect
 * @v: the verdict
 *
 * Return: how many (RR, CR or EC set; doc/kernel-model.md §2.1).
 */
size_t p2pdma_verdict_num_acs(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_acs() - the i-th device with ACS redirect, in walk order
 * @v: the verdict
 * @i: index
 *
 * Return: the device, or NULL past the end.
 */
const struct p2pdma_dev *p2pdma_verdict_acs(const struct p2pdma_verdict *v,
					    size_t i);

/**
 * p2pdma_verdict_num_unknown() - examined devices whose ACS state is unknown
 * @v: the verdict
 *
 * Return: how many; the verdict computed them as redirect off.
 */
size_t p2pdma_verdict_num_unknown(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_unknown() - the i-th device with unknown ACS, in walk order
 * @v: the verdict
 * @i: index
 *
 * Return: the device, or NULL past the end.
 */
const struct p2pdma_dev *
p2pdma_verdict_unknown(const struct p2pdma_verdict *v, size_t i);

/**
 * p2pdma_verdict_if_acs_redirect() - the verdict if an unknown port redirected
 * @v: the verdict
 * @outcome: if non-NULL, receives why
 *
 * A BUS_ADDR verdict computed over ports whose ACS Control could not be
 * read (as non-root, or from a short dump) holds only if none of them has
 * RR, CR or EC set. If one has, the path goes to the host-bridge stage.
 *
 * Return: the map type the pair would then have; P2PDMA_MAP_BUS_ADDR when
 * the verdict does not depend on the unknown state.
 */
enum p2pdma_map_type
p2pdma_verdict_if_acs_redirect(const struct p2pdma_verdict *v,
			       enum p2pdma_unknown_acs_outcome *outcome);

/**
 * p2pdma_verdict_same_host_bridge() - provider and client below one host bridge
 * @v: the verdict
 *
 * Return: true if so.
 */
bool p2pdma_verdict_same_host_bridge(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_host_bridge_path() - the decision went to the host-bridge stage
 * @v: the verdict
 *
 * Return: true when no common upstream device exists or ACS redirect
 * forced the traffic up (doc/kernel-model.md §2.2).
 */
bool p2pdma_verdict_host_bridge_path(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_cpu_rule() - the AMD Zen CPU rule admitted the path
 * @v: the verdict
 *
 * Return: true if cpu_supports_p2pdma() decided (doc/kernel-model.md §1.2).
 */
bool p2pdma_verdict_cpu_rule(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_allow_listed() - the allow list admitted the path
 * @v: the verdict
 *
 * Return: true if host_bridge_whitelist() said yes (meaningful when
 * p2pdma_verdict_host_bridge_path() and not p2pdma_verdict_cpu_rule()).
 */
bool p2pdma_verdict_allow_listed(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_hostdev() - a host device the allow list examined
 * @v: the verdict
 * @side: 0 provider side, 1 client side
 *
 * Return: the device pci_host_bridge_dev() gave, or NULL (no candidate, or
 * the stage was not reached).
 */
const struct p2pdma_dev *p2pdma_verdict_hostdev(const struct p2pdma_verdict *v,
						unsigned int side);

/**
 * p2pdma_verdict_allow_entry() - the allow-list row matched for a side
 * @v: the verdict
 * @side: 0 provider side, 1 client side
 *
 * Return: the row, or NULL where none matched or it was not looked up.
 */
const struct p2pdma_allow_entry *
p2pdma_verdict_allow_entry(const struct p2pdma_verdict *v, unsigned int side);

/**
 * p2pdma_verdict_num_dmesg() - predicted kernel log lines
 * @v: the verdict
 *
 * Return: how many.
 */
size_t p2pdma_verdict_num_dmesg(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_dmesg() - one predicted line, "<driver or pci> <BDF>: <text>"
 * @v: the verdict
 * @i: index
 *
 * Return: the line, or NULL past the end.
 */
const char *p2pdma_verdict_dmesg(const struct p2pdma_verdict *v, size_t i);

/**
 * p2pdma_verdict_fix() - the disable_acs_redir parameter that makes it BUS_ADDR
 * @v: the verdict
 *
 * Return: "pci=disable_acs_redir=<list>" naming every redirecting device
 * (never truncated), or NULL when no such parameter helps.
 */
const char *p2pdma_verdict_fix(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_acs_list() - the ';' list exactly as the kernel prints it
 * @v: the verdict
 * @truncated: if non-NULL, set when the kernel's 128-byte buffer overflowed
 *
 * Return: the list of warning 2 (doc/kernel-model.md §2.8), "" if none.
 */
const char *p2pdma_verdict_acs_list(const struct p2pdma_verdict *v,
				    bool *truncated);

/**
 * p2pdma_verdict_host_bridge_warned() - "Host bridge not in P2PDMA whitelist" printed
 * @v: the verdict
 *
 * Return: true if the calculation produced warning 3.
 */
bool p2pdma_verdict_host_bridge_warned(const struct p2pdma_verdict *v);

/**
 * p2pdma_verdict_cached() - answered from the map-type cache
 * @v: the verdict
 *
 * Return: true when p2pdma_kernel_map_type() found the pair cached: no
 * calculation ran, so there is no explanation and no dmesg.
 */
bool p2pdma_verdict_cached(const struct p2pdma_verdict *v);

#ifdef __cplusplus
}
#endif
#endif
