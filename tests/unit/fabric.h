/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fabric.h - the routing test fabric (see fabric.c for its picture) */
#ifndef P2PDMA_TEST_FABRIC_H
#define P2PDMA_TEST_FABRIC_H

#include "fixtures.h"

#define RR_CR (P2PDMA_ACS_RR | P2PDMA_ACS_CR)
#define ACS_CAP 0x005f

/* The fabric with 0000:00:00.0 = 8086:@hostdev_device and the domain 1
 * Root Port = 8086:@hb1_device; finalized (sealed). */
struct p2pdma_topo *fabric_build(struct p2pdma_ctx *ctx, uint16_t hostdev_device,
				  uint16_t hb1_device);
/* A function by BDF, or the test fails. */
struct p2pdma_dev *fabric_dev(const struct p2pdma_topo *t, const char *bdf);
/* A 6.19 policy, with @cpu if non-NULL. */
struct p2pdma_policy *fabric_policy(struct p2pdma_ctx *ctx, const char *cpu);

#endif
