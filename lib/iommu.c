// SPDX-License-Identifier: LGPL-2.1-or-later
/* iommu.c - IOMMU groups: pci_device_group() over the topology's ACS state */
#include <errno.h>
#include <stdlib.h>

#include "p2pdma/iommu.h"
#include "topo-private.h"

/* REQ_ACS_FLAGS of drivers/iommu/iommu.c. */
#define REQ_ACS (P2PDMA_ACS_SV | P2PDMA_ACS_RR | P2PDMA_ACS_CR | P2PDMA_ACS_UF)

struct p2pdma_iommu_groups {
	const struct p2pdma_topo *topo;
	uint32_t n;
	uint32_t *parent;		/* union-find over function indexes */
	int *group;			/* final group number per function */
	bool *uncertain;
	size_t ngroups;
};

/* Result of an ACS test: isolated, not, or unreadable. */
enum acs_test { ACS_NO = 0, ACS_YES, ACS_UNREADABLE };

/* pci_acs_flags_enabled(): missing capabilities count as enabled, EC not. */
static enum acs_test flags_enabled(const struct p2pdma_dev *d, uint16_t flags)
{
	if (d->acs_state == P2PDMA_ACS_UNKNOWN)
		return ACS_UNREADABLE;
	if (d->acs_state != P2PDMA_ACS_PRESENT)
		return ACS_NO;
	flags &= (uint16_t)(d->acs_cap | P2PDMA_ACS_EC);
	return (d->acs_ctrl & flags) == flags ? ACS_YES : ACS_NO;
}

/*
 * pdev->multifunction: the header type bit, and pci_scan_slot() sets it on
 * every function after the first of a slot it scanned (VFs are not
 * scanned that way).
 */
static bool multifunction(const struct p2pdma_dev *d)
{
	return d->multifunction || (!d->is_vf && (d->devfn & 7));
}

/* pci_acs_enabled() without device-specific quirks. */
static enum acs_test acs_enabled(const struct p2pdma_dev *d, uint16_t flags)
{
	switch (d->pcie_type) {
	case P2PDMA_PCIE_NONE:			/* conventional PCI: never */
	case P2PDMA_PCIE_PCIE_TO_PCI:
	case P2PDMA_PCIE_PCI_TO_PCIE:
	case P2PDMA_PCIE_RC_EVENT_COLLECTOR:
		return ACS_NO;
	case P2PDMA_PCIE_DOWNSTREAM:
	case P2PDMA_PCIE_ROOT_PORT:
		return flags_enabled(d, flags);
	case P2PDMA_PCIE_ENDPOINT:
	case P2PDMA_PCIE_UPSTREAM:
	case P2PDMA_PCIE_LEGACY_ENDPOINT:
	case P2PDMA_PCIE_RC_ENDPOINT:
		/* Only multi-function devices need ACS between functions. */
		if (!multifunction(d))
			return ACS_YES;
		return flags_enabled(d, flags);
	}
	return ACS_YES;
}

/* pci_acs_path_enabled(start, NULL): every device up to the root bus. */
static enum acs_test path_enabled(const struct p2pdma_dev *start)
{
	const struct p2pdma_dev *d;
	bool unreadable = false;

	for (d = start; d; d = d->upstream) {
		enum acs_test t = acs_enabled(d, REQ_ACS);

		if (t == ACS_NO)
			return ACS_NO;
		unreadable |= t == ACS_UNREADABLE;
	}
	return unreadable ? ACS_UNREADABLE : ACS_YES;
}

static uint32_t find(struct p2pdma_iommu_groups *g, uint32_t i)
{
	while (g->parent[i] != i) {
		g->parent[i] = g->parent[g->parent[i]];
		i = g->parent[i];
	}
	return i;
}

static void join(struct p2pdma_iommu_groups *g, uint32_t a, uint32_t b)
{
	a = find(g, a);
	b = find(g, b);
	/* The earlier-enumerated root stays the root: group numbers follow
	 * enumeration order. */
	if (a < b)
		g->parent[b] = a;
	else if (b < a)
		g->parent[a] = b;
}

/*
 * pci_for_each_dma_alias(): the topmost PCIe-to-PCI, PCI-to-PCIe or
 * conventional bridge above @d takes its requests' requester ID.
 */
static const struct p2pdma_dev *dma_alias(const struct p2pdma_dev *d)
{
	const struct p2pdma_dev *alias = d, *b;

	for (b = d->upstream; b; b = b->upstream) {
		if (b->pcie_type == P2PDMA_PCIE_ROOT_PORT ||
		    b->pcie_type == P2PDMA_PCIE_UPSTREAM ||
		    b->pcie_type == P2PDMA_PCIE_DOWNSTREAM)
			continue;
		alias = b;
	}
	return alias;
}

P2PDMA_EXPORT int p2pdma_iommu_groups_compute(struct p2pdma_ctx *ctx,
					      const struct p2pdma_topo *topo,
					      struct p2pdma_iommu_groups **out)
{
	struct p2pdma_iommu_groups *g;
	uint32_t i, j;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return p2pdma_err(ctx, -ENOMEM, "iommu groups: out of memory");
	g->topo = topo;
	g->n = topo->ndevs;
	g->parent = calloc(g->n + 1, sizeof(*g->parent));
	g->group = calloc(g->n + 1, sizeof(*g->group));
	g->uncertain = calloc(g->n + 1, sizeof(*g->uncertain));
	if (!g->parent || !g->group || !g->uncertain) {
		p2pdma_iommu_groups_destroy(g);
		return p2pdma_err(ctx, -ENOMEM, "iommu groups: out of memory");
	}
	for (i = 0; i < g->n; i++)
		g->parent[i] = i;

	for (i = 0; i < g->n; i++) {
		const struct p2pdma_dev *d = topo->devs[i];
		const struct p2pdma_dev *pdev = dma_alias(d), *b;

		join(g, i, pdev->index);
		/*
		 * Up from the alias to where ACS isolates the path: the first
		 * bridge whose path to the root is isolated stops the walk;
		 * below it, every non-isolated bridge's group is shared.
		 */
		for (b = pdev->upstream; b; b = b->upstream) {
			enum acs_test t = path_enabled(b);

			if (t == ACS_UNREADABLE)
				g->uncertain[i] = true;
			if (t == ACS_YES)
				break;
			/* Unreadable counts as not isolated, like a kernel
			 * that cannot find the capability. */
			pdev = b;
			join(g, i, b->index);
		}
		/* get_pci_function_alias_group(): non-isolated functions of
		 * one slot share a group. */
		if (multifunction(pdev)) {
			enum acs_test t = acs_enabled(pdev, REQ_ACS);

			if (t == ACS_UNREADABLE)
				g->uncertain[i] = true;
			if (t == ACS_YES)
				continue;
			for (j = 0; j < g->n; j++) {
				const struct p2pdma_dev *f = topo->devs[j];
				enum acs_test tf;

				if (f == pdev || f->is_vf || f->domain != pdev->domain ||
				    f->bus != pdev->bus ||
				    (f->devfn >> 3) != (pdev->devfn >> 3))
					continue;
				tf = acs_enabled(f, REQ_ACS);
				if (tf == ACS_UNREADABLE)
					g->uncertain[i] = true;
				if (tf != ACS_YES)
					join(g, i, j);
			}
		}
	}
	/* Number the groups in the enumeration order of their first function. */
	for (i = 0; i < g->n; i++)
		g->group[i] = -1;
	for (i = 0; i < g->n; i++) {
		uint32_t r = find(g, i);

		if (g->group[r] < 0)
			g->group[r] = (int)g->ngroups++;
		g->group[i] = g->group[r];
	}
	/* An uncertain function makes its whole group uncertain. */
	for (i = 0; i < g->n; i++)
		if (g->uncertain[i])
			for (j = 0; j < g->n; j++)
				if (g->group[j] == g->group[i])
					g->uncertain[j] = true;
	*out = g;
	return 0;
}

P2PDMA_EXPORT void p2pdma_iommu_groups_destroy(struct p2pdma_iommu_groups *g)
{
	if (!g)
		return;
	free(g->parent);
	free(g->group);
	free(g->uncertain);
	free(g);
}

P2PDMA_EXPORT size_t p2pdma_iommu_groups_count(const struct p2pdma_iommu_groups *g)
{
	return g->ngroups;
}

P2PDMA_EXPORT int p2pdma_iommu_group_of(const struct p2pdma_iommu_groups *g,
					const struct p2pdma_dev *dev)
{
	const struct p2pdma_dev *d = p2pdma_topo_map_dev(g->topo, dev);

	return d ? g->group[d->index] : -EINVAL;
}

P2PDMA_EXPORT bool p2pdma_iommu_group_uncertain(const struct p2pdma_iommu_groups *g,
						const struct p2pdma_dev *dev)
{
	const struct p2pdma_dev *d = p2pdma_topo_map_dev(g->topo, dev);

	return d && g->uncertain[d->index];
}
