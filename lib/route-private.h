/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* route-private.h - helpers the routing engine shares with tests and the benchmark */
#ifndef P2PDMA_ROUTE_PRIVATE_H
#define P2PDMA_ROUTE_PRIVATE_H

#include <stdbool.h>

#include "p2pdma/policy.h"
#include "p2pdma/route.h"
#include "policy-private.h"
#include "topo-private.h"

/* pci_bridge_has_acs_redir() on any function (spec 2.1). */
static inline bool p2pdma_dev_acs_redir(const struct p2pdma_dev *d)
{
	return d->acs_state == P2PDMA_ACS_PRESENT &&
	       (d->acs_ctrl & P2PDMA_ACS_REDIR_MASK);
}

#endif
