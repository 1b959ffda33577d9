// SPDX-License-Identifier: LGPL-2.1-or-later
/* baseline.c - the kernel's nested upstream walk, kept as the benchmark's reference */
#include "baseline.h"
#include "policy-private.h"

/* pci_bridge_has_acs_redir(): any function, live register read. */
static int has_acs_redir(const struct p2pdma_dev *d)
{
	return d->acs_state == P2PDMA_ACS_PRESENT &&
	       (d->acs_ctrl & (P2PDMA_ACS_RR | P2PDMA_ACS_CR | P2PDMA_ACS_EC));
}

/* host_bridge_whitelist(), cpu_supports_p2pdma() first. */
static int host_bridge_ok(const struct p2pdma_policy *pol,
			  const struct p2pdma_dev *a, const struct p2pdma_dev *b)
{
	const struct p2pdma_allow_entry *ea, *eb;
	const struct p2pdma_dev *ha, *hb;

	if (p2pdma_policy_cpu_rule(pol))
		return 1;
	ha = p2pdma_policy_hostdev(pol, a->hb);
	hb = p2pdma_policy_hostdev(pol, b->hb);
	if (a->hb == b->hb)
		return ha && p2pdma_policy_host_bridge_allowed(pol, ha, ha, 1,
							       &ea, &eb);
	return ha && hb &&
	       p2pdma_policy_host_bridge_allowed(pol, ha, hb, 0, &ea, &eb);
}

enum p2pdma_map_type baseline_calc(const struct p2pdma_policy *pol,
				   const struct p2pdma_dev *provider,
				   const struct p2pdma_dev *client, int *dist)
{
	const struct p2pdma_dev *a = provider, *bb;
	int dist_a = 0, dist_b = 0, acs_cnt = 0;

	while (a) {
		dist_b = 0;
		if (has_acs_redir(a))
			acs_cnt++;
		bb = client;
		while (bb) {
			if (a == bb)
				goto check_b_path_acs;
			bb = bb->upstream;
			dist_b++;
		}
		a = a->upstream;
		dist_a++;
	}
	*dist = dist_a + dist_b;
	goto map_through_host_bridge;

check_b_path_acs:
	bb = client;
	while (bb) {
		if (a == bb)
			break;
		if (has_acs_redir(bb))
			acs_cnt++;
		bb = bb->upstream;
	}
	*dist = dist_a + dist_b;
	if (!acs_cnt)
		return P2PDMA_MAP_BUS_ADDR;

map_through_host_bridge:
	if (!host_bridge_ok(pol, provider, client))
		return P2PDMA_MAP_NOT_SUPPORTED;
	return P2PDMA_MAP_THRU_HOST_BRIDGE;
}
