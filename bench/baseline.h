/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* baseline.h - the kernel's calc_map_type_and_dist(), transcribed literally */
#ifndef P2PDMA_BENCH_BASELINE_H
#define P2PDMA_BENCH_BASELINE_H

#include <p2pdma/verdict.h>

#include "topo-private.h"

/*
 * doc/kernel-model.md §2.2 walk, pointer by pointer: nested upstream walk, ACS read
 * per node, host-bridge stage through the policy. No cache, no messages.
 */
enum p2pdma_map_type baseline_calc(const struct p2pdma_policy *pol,
				   const struct p2pdma_dev *provider,
				   const struct p2pdma_dev *client, int *dist);

#endif
