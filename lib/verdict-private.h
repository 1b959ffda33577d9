/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verdict-private.h - the verdict's insides, shared with the kernel object, tests and the benchmark */
#ifndef P2PDMA_VERDICT_PRIVATE_H
#define P2PDMA_VERDICT_PRIVATE_H

#include <stdbool.h>

#include "p2pdma/policy.h"
#include "p2pdma/verdict.h"
#include "policy-private.h"
#include "topo-private.h"

/* Longest ACS list we keep (the kernel's text buffer truncates at 128 bytes). */
#define P2PDMA_MAX_ACS 64
/* Predicted dmesg lines per verdict. */
#define P2PDMA_MAX_DMESG 4

/*
 * One calc_map_type_and_dist() result, explained. Private: the public API
 * reads it through p2pdma_verdict_*() accessors, so it may grow freely.
 *
 * @map_type, @distance: the kernel's answer
 * @provider, @client: the pair (functions of the router's topology)
 * @common: the common upstream device, NULL if none (host-bridge path)
 * @acs: devices on the examined path with RR|CR|EC, in walk order
 * @unknown: examined devices whose ACS state is UNKNOWN, in walk order
 * @same_host_bridge, @host_bridge_path, @cpu_rule, @hb_allowed: the stages
 * @hostdev, @hb_entry: host devices examined and the rows they matched
 * @dmesg: predicted lines "<driver or pci> <BDF>: <text>"
 * @fix: the complete pci=disable_acs_redir= list ("" if none helps)
 * @acs_list: the list exactly as the kernel prints it (doc/kernel-model.md §2.8)
 * @if_acs, @if_acs_outcome: the answer if an unknown port had redirect on
 * @cached: answered from a map-type cache (no calculation, no dmesg)
 */
struct p2pdma_verdict {
	enum p2pdma_map_type map_type;
	int distance;
	const struct p2pdma_dev *provider;
	const struct p2pdma_dev *client;
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
	const struct p2pdma_allow_entry *hb_entry[2];
	bool hb_warned;
	bool acs_truncated;
	char acs_list[512];
	unsigned int nunknown;
	const struct p2pdma_dev *unknown[P2PDMA_MAX_ACS];
	enum p2pdma_map_type if_acs;
	enum p2pdma_unknown_acs_outcome if_acs_outcome;
	bool cached;
};

/* pci_bridge_has_acs_redir() on any function (doc/kernel-model.md §2.1). */
static inline bool p2pdma_dev_acs_redir(const struct p2pdma_dev *d)
{
	return d->acs_state == P2PDMA_ACS_PRESENT &&
	       (d->acs_ctrl & P2PDMA_ACS_REDIR_MASK);
}

/* Reset @v to an empty verdict for @provider/@client. */
void p2pdma_verdict_reset(struct p2pdma_verdict *v,
			  const struct p2pdma_dev *provider,
			  const struct p2pdma_dev *client);

#endif
