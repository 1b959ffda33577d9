/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * topo-build.h - the few field settings that hand-built test machines
 * share (unit tests and fuzz targets alike): a function, a bridge's bus
 * window, an ACS capability. The caller checks tb_add()'s NULL its own
 * way (cmocka assert or FUZZ_CHECK) and finalizes the topology.
 */
#ifndef P2PDMA_TEST_TOPO_BUILD_H
#define P2PDMA_TEST_TOPO_BUILD_H

#include <stdint.h>

#include "topo-private.h"

/* Function dev.fn on bus @bus of domain 0; NULL when out of memory. */
static inline struct p2pdma_dev *tb_add(struct p2pdma_topo *t, uint8_t bus,
					uint8_t dev, uint8_t fn, uint16_t vendor,
					uint16_t device, int pcie_type)
{
	struct p2pdma_dev *d = p2pdma_topo_add_dev(t, 0, bus, (uint8_t)(dev << 3 | fn));

	if (d) {
		d->vendor = vendor;
		d->device = device;
		d->pcie_type = (int8_t)pcie_type;
	}
	return d;
}

/* A PCI-to-PCI bridge forwarding buses @sec..@sub. */
static inline void tb_bridge(struct p2pdma_dev *d, uint8_t sec, uint8_t sub)
{
	d->header_type = 1;
	d->class_code = 0x060400;
	d->primary = d->bus;
	d->secondary = sec;
	d->subordinate = sub;
}

/* An ACS capability at 0x100 whose control firmware left at @ctrl. */
static inline void tb_acs(struct p2pdma_dev *d, uint16_t cap, uint16_t ctrl)
{
	d->acs_state = P2PDMA_ACS_PRESENT;
	d->acs_pos = 0x100;
	d->acs_cap = cap;
	d->acs_ctrl = ctrl;
	d->acs_ctrl_boot = ctrl;
}

#endif
