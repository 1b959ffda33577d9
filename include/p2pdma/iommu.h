/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/iommu.h - IOMMU groups as Linux forms them from the topology and ACS */
#ifndef P2PDMA_IOMMU_H
#define P2PDMA_IOMMU_H

#include <stdbool.h>
#include <stddef.h>

#include <p2pdma/context.h>
#include <p2pdma/topo.h>

#ifdef __cplusplus
extern "C" {
#endif

struct p2pdma_iommu_groups;

/**
 * p2pdma_iommu_groups_compute() - pci_device_group() for every function
 * @ctx: library context
 * @topo: the machine, with the ACS Control registers to judge isolation by
 *        (a kernel's p2pdma_kernel_topo() for the state after boot)
 * @out: the grouping
 *
 * The model of drivers/iommu/iommu.c pci_device_group()
 * (doc/kernel-model.md §2.9): a function shares the group of the highest
 * upstream bridge whose path to the root is not isolated by ACS
 * (SV, RR, CR and UF, where the capability advertises them; EC is not
 * required), of the topmost PCIe-to-PCI or conventional bridge above it
 * (DMA aliases), and of the non-isolated functions of its own slot.
 * Device-specific ACS quirks and DMA-alias quirks are not modelled.
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_iommu_groups_compute(struct p2pdma_ctx *ctx,
				const struct p2pdma_topo *topo,
				struct p2pdma_iommu_groups **out);

/**
 * p2pdma_iommu_groups_destroy() - free a grouping
 * @g: the grouping or NULL
 */
void p2pdma_iommu_groups_destroy(struct p2pdma_iommu_groups *g);

/**
 * p2pdma_iommu_groups_count() - how many groups
 * @g: the grouping
 *
 * Return: the number of groups.
 */
size_t p2pdma_iommu_groups_count(const struct p2pdma_iommu_groups *g);

/**
 * p2pdma_iommu_group_of() - a function's group
 * @g: the grouping
 * @dev: a function of the topology (or of its lineage)
 *
 * Groups are numbered from 0 in the order their first function is
 * enumerated.
 *
 * Return: the group number, or -EINVAL for a foreign function.
 */
int p2pdma_iommu_group_of(const struct p2pdma_iommu_groups *g,
			  const struct p2pdma_dev *dev);

/**
 * p2pdma_iommu_group_uncertain() - did the grouping read unknown ACS state?
 * @g: the grouping
 * @dev: the function
 *
 * Return: true if the function's group depended on a function whose ACS
 * capability could not be read (computed as "not isolated").
 */
bool p2pdma_iommu_group_uncertain(const struct p2pdma_iommu_groups *g,
				  const struct p2pdma_dev *dev);

#ifdef __cplusplus
}
#endif
#endif
