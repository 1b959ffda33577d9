/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/query.h - one call for runtimes: may these two devices do P2P DMA on this machine? */
#ifndef P2PDMA_QUERY_H
#define P2PDMA_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include <p2pdma/context.h>
#include <p2pdma/kernel.h>
#include <p2pdma/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct p2pdma_query - the answer a runtime (UCX, NCCL, SPDK, a VMM) needs
 * @size: set by the caller to sizeof(struct p2pdma_query) before the call;
 *        the library fills only the fields that fit (fields are only ever
 *        appended)
 * @map_type: what the running kernel decides for DMA from the client into
 *            the provider's memory: P2PDMA_MAP_BUS_ADDR (through a switch,
 *            bus addresses), P2PDMA_MAP_THRU_HOST_BRIDGE (allowed through
 *            the root complex), P2PDMA_MAP_NOT_SUPPORTED (refused)
 * @distance: the kernel's distance (pci_p2pdma_distance()); -1 if refused
 * @acs_unknown: the answer read ports whose ACS Control could not be read
 *               (not root): it assumed redirect off there
 * @map_type_if_acs_redirect: the answer if one of those ports redirects;
 *                            equal to @map_type when @acs_unknown is false
 *                            or the answer does not depend on it
 * @cpu_rule: the AMD Zen CPU rule admitted a host-bridge path
 * @allow_listed: the host-bridge allow list admitted a host-bridge path
 */
struct p2pdma_query {
	size_t size;
	enum p2pdma_map_type map_type;
	int distance;
	bool acs_unknown;
	enum p2pdma_map_type map_type_if_acs_redirect;
	bool cpu_rule;
	bool allow_listed;
};

/**
 * p2pdma_query_open() - the running kernel of a machine, ready for questions
 * @ctx: library context
 * @root: NULL for this machine, or a captured root (p2pdma_topo_load_root())
 * @out: the kernel, booted as captured under the policy the machine's own
 *       kernel has (release, CPU; p2pdma_policy_from_machine())
 *
 * Return: 0 or a negative errno (message in the context).
 */
int p2pdma_query_open(struct p2pdma_ctx *ctx, const char *root,
		      struct p2pdma_kernel **out);

/**
 * p2pdma_query_pair() - ask about one pair on an open kernel
 * @k: from p2pdma_query_open() (or any kernel)
 * @provider: BDF of the device whose memory is the target ("0000:01:00.0"
 *            or "01:00.0")
 * @client: BDF of the device doing the DMA
 * @q: the answer; set @q->size first
 *
 * A pure question: nothing is cached or logged in @k.
 *
 * Return: 0, -ENODEV if a BDF is not a function of the machine, -EINVAL
 * for a malformed BDF or @q->size too small for the first fields.
 */
int p2pdma_query_pair(const struct p2pdma_kernel *k, const char *provider,
		      const char *client, struct p2pdma_query *q);

/**
 * p2pdma_query() - the one call: load, ask, free
 * @root: NULL for this machine, or a captured root
 * @provider: BDF of the memory's device
 * @client: BDF of the DMA initiator
 * @q: the answer; set @q->size first
 *
 * Loads the machine every time: for many pairs, use p2pdma_query_open()
 * once and p2pdma_query_pair() per pair.
 *
 * Return: 0 or a negative errno (-ENOENT no such machine, -ENODEV no such
 * function, -ENOMEM...).
 */
int p2pdma_query(const char *root, const char *provider, const char *client,
		 struct p2pdma_query *q);

#ifdef __cplusplus
}
#endif
#endif
