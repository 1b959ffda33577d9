// SPDX-License-Identifier: LGPL-2.1-or-later
/* paths.c - nvidia-smi path classes, NCCL's default levels, P2P islands */
#include <errno.h>
#include <stdlib.h>

#include "p2pdma/paths.h"
#include "policy-private.h"
#include "topo-private.h"

/* Deeper than any PCI hierarchy can be (256 buses). */
#define MAX_CHAIN 256

/*
 * The device where the upstream chains of @a and @b meet, as
 * calc_map_type_and_dist() finds it: the first of a, up(a), up(up(a))...
 * that is also one of b, up(b)... (doc/kernel-model.md §2.2). NULL when
 * they share none (their paths meet in the root complex).
 */
static const struct p2pdma_dev *meet(const struct p2pdma_dev *a,
				     const struct p2pdma_dev *b)
{
	const struct p2pdma_dev *x, *y;
	unsigned int i, j;

	for (x = a, i = 0; x && i < MAX_CHAIN; x = x->upstream, i++)
		for (y = b, j = 0; y && j < MAX_CHAIN; y = y->upstream, j++)
			if (x == y)
				return x;
	return NULL;
}

/* The switch a port belongs to: a downstream port is part of the switch
 * of its upstream port; any other bridge is a switch of its own. */
static const struct p2pdma_dev *switch_of(const struct p2pdma_dev *d)
{
	if (d->pcie_type == P2PDMA_PCIE_DOWNSTREAM && d->upstream &&
	    d->upstream->pcie_type == P2PDMA_PCIE_UPSTREAM)
		return d->upstream;
	return d;
}

/* Add the switches between @d (excluded) and @top (included). */
static unsigned int add_switches(const struct p2pdma_dev *d,
				 const struct p2pdma_dev *top,
				 const struct p2pdma_dev **seen, unsigned int n)
{
	unsigned int i, hops = 0;

	if (d == top)
		return n;
	for (d = d->upstream; d && hops < MAX_CHAIN; d = d->upstream, hops++) {
		const struct p2pdma_dev *s = switch_of(d);

		for (i = 0; i < n && seen[i] != s; i++)
			;
		if (i == n && n < 2 * MAX_CHAIN)
			seen[n++] = s;
		if (d == top)
			break;
	}
	return n;
}

P2PDMA_EXPORT int p2pdma_path_classify(const struct p2pdma_topo *topo,
				       const struct p2pdma_dev *a,
				       const struct p2pdma_dev *b,
				       enum p2pdma_path_class *out)
{
	const struct p2pdma_dev *seen[2 * MAX_CHAIN], *common;
	unsigned int n;

	a = p2pdma_topo_map_dev(topo, a);
	b = p2pdma_topo_map_dev(topo, b);
	if (!a || !b)
		return -EINVAL;
	if (a == b) {
		*out = P2PDMA_PATH_X;
		return 0;
	}
	common = meet(a, b);
	/*
	 * A root port is part of the root complex: nvidia-smi and NCCL (which
	 * attaches a root port's children to the CPU node) count a turn
	 * there as crossing the host bridge.
	 */
	if (!common || common->pcie_type == P2PDMA_PCIE_ROOT_PORT) {
		if (a->hb == b->hb)
			*out = P2PDMA_PATH_PHB;
		else if (a->numa_node < 0 || b->numa_node < 0)
			*out = P2PDMA_PATH_NODE_OR_SYS;
		else
			*out = a->numa_node == b->numa_node ? P2PDMA_PATH_NODE :
			       P2PDMA_PATH_SYS;
		return 0;
	}
	n = add_switches(a, common, seen, 0);
	n = add_switches(b, common, seen, n);
	*out = n <= 1 ? P2PDMA_PATH_PIX : P2PDMA_PATH_PXB;
	return 0;
}

P2PDMA_EXPORT const char *p2pdma_path_class_name(enum p2pdma_path_class c)
{
	static const char *const names[] = {
		"X", "PIX", "PXB", "PHB", "NODE", "SYS", "NODE?",
	};

	return (unsigned int)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

P2PDMA_EXPORT const char *p2pdma_path_class_meaning(enum p2pdma_path_class c)
{
	/* The legend `nvidia-smi topo -m` prints (doc/pictures.md). */
	static const char *const meanings[] = {
		"Self",
		"Connection traversing at most a single PCIe bridge",
		"Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)",
		"Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)",
		"Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node",
		"Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)",
		"Connection between PCIe Host Bridges whose NUMA nodes are not known: NODE if they share one, SYS if not",
	};

	return (unsigned int)c < sizeof(meanings) / sizeof(meanings[0]) ? meanings[c] : "?";
}

P2PDMA_EXPORT enum p2pdma_path_class
p2pdma_nccl_default_level(const struct p2pdma_policy *pol, enum p2pdma_nccl_use use,
			  size_t ngpus, bool *uncertain)
{
	int amd;

	if (uncertain)
		*uncertain = false;
	/* ncclTopoCheckGdr(): PATH_PXB unless the platform has C2C. */
	if (use != P2PDMA_NCCL_P2P || ngpus > 2)
		return P2PDMA_PATH_PXB;
	/* ncclTopoCheckP2p(): "Allow P2P between pairs of GPU devices on AMD
	 * systems": PATH_SYS on x86 AMD with at most two GPUs. */
	amd = p2pdma_policy_cpu_amd_x86(pol);
	if (amd < 0 && uncertain)
		*uncertain = true;
	return amd == 1 ? P2PDMA_PATH_SYS : P2PDMA_PATH_PXB;
}

P2PDMA_EXPORT bool p2pdma_nccl_mismatch(enum p2pdma_path_class c,
				       enum p2pdma_path_class level,
				       enum p2pdma_map_type t)
{
	/* NODE or SYS: at most SYS either way. */
	if (c == P2PDMA_PATH_NODE_OR_SYS)
		c = P2PDMA_PATH_SYS;
	if (c == P2PDMA_PATH_X || c > level)
		return false;
	return t == P2PDMA_MAP_NOT_SUPPORTED ||
	       (t == P2PDMA_MAP_THRU_HOST_BRIDGE && c <= P2PDMA_PATH_PXB);
}

/* --- islands --- */

struct p2pdma_islands {
	const struct p2pdma_topo *topo;
	int *island;			/* per function index: island or -1 */
	size_t count;
	size_t *start;			/* members[start[i]] .. members[start[i + 1] - 1] */
	const struct p2pdma_dev **members;
};

static uint32_t find_root(uint32_t *parent, uint32_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

/* The functions to group, as functions of @t, in enumeration order. */
static int pick(const struct p2pdma_topo *t, const struct p2pdma_dev *const *devs,
		size_t n, bool *chosen)
{
	size_t i;

	for (i = 0; !devs && i < t->ndevs; i++)
		chosen[i] = !p2pdma_dev_is_bridge(t->devs[i]);
	for (i = 0; devs && i < n; i++) {
		const struct p2pdma_dev *d = p2pdma_topo_map_dev(t, devs[i]);

		if (!d)
			return -EINVAL;
		chosen[d->index] = true;
	}
	return 0;
}

/* Union every BUS_ADDR pair of chosen functions below one host bridge. */
static void join(const struct p2pdma_router *r, const struct p2pdma_topo *t,
		 const bool *chosen, uint32_t *parent)
{
	uint32_t i, j;

	for (i = 0; i < t->ndevs; i++) {
		if (!chosen[i])
			continue;
		for (j = i + 1; j < t->ndevs; j++) {
			if (!chosen[j] || t->devs[i]->hb != t->devs[j]->hb ||
			    find_root(parent, i) == find_root(parent, j))
				continue;
			if (p2pdma_router_map_type(r, t->devs[i], t->devs[j], NULL) ==
			    P2PDMA_MAP_BUS_ADDR)
				parent[find_root(parent, j)] = find_root(parent, i);
		}
	}
}

/* Number the components of two or more members and list them. */
static int number(struct p2pdma_islands *is, const bool *chosen, uint32_t *parent)
{
	const struct p2pdma_topo *t = is->topo;
	size_t *size = calloc(t->ndevs + 1, sizeof(*size));
	int *root_island = malloc((t->ndevs + 1) * sizeof(*root_island));
	size_t i;

	if (!size || !root_island) {
		free(size);
		free(root_island);
		return -ENOMEM;
	}
	for (i = 0; i < t->ndevs; i++) {
		root_island[i] = -1;
		if (chosen[i])
			size[find_root(parent, (uint32_t)i)]++;
	}
	for (i = 0; i < t->ndevs; i++) {
		uint32_t root = find_root(parent, (uint32_t)i);

		if (!chosen[i] || size[root] < 2)
			continue;
		if (root_island[root] < 0) {
			root_island[root] = (int)is->count++;
			is->start[is->count] = is->start[is->count - 1] + size[root];
		}
		is->island[i] = root_island[root];
	}
	/* Fill in enumeration order: each island's members stay sorted. */
	for (i = 0; i < t->ndevs; i++)
		size[i] = 0;
	for (i = 0; i < t->ndevs; i++) {
		int k = is->island[i];

		if (k >= 0)
			is->members[is->start[k] + size[k]++] = t->devs[i];
	}
	free(size);
	free(root_island);
	return 0;
}

P2PDMA_EXPORT int p2pdma_islands_compute(const struct p2pdma_router *r,
					 const struct p2pdma_dev *const *devs,
					 size_t n, struct p2pdma_islands **out)
{
	const struct p2pdma_topo *t = p2pdma_router_topo(r);
	struct p2pdma_islands *is;
	uint32_t *parent = NULL;
	bool *chosen = NULL;
	size_t i;
	int ret = -ENOMEM;

	*out = NULL;
	is = calloc(1, sizeof(*is));
	if (!is)
		return -ENOMEM;
	is->topo = t;
	is->island = malloc((t->ndevs + 1) * sizeof(*is->island));
	is->start = calloc(t->ndevs + 2, sizeof(*is->start));
	is->members = calloc(t->ndevs + 1, sizeof(*is->members));
	parent = malloc((t->ndevs + 1) * sizeof(*parent));
	chosen = calloc(t->ndevs + 1, sizeof(*chosen));
	if (!is->island || !is->start || !is->members || !parent || !chosen)
		goto out;
	for (i = 0; i < t->ndevs; i++) {
		parent[i] = (uint32_t)i;
		is->island[i] = -1;
	}
	ret = pick(t, devs, n, chosen);
	if (ret)
		goto out;
	join(r, t, chosen, parent);
	ret = number(is, chosen, parent);
out:
	free(parent);
	free(chosen);
	if (ret) {
		p2pdma_islands_destroy(is);
		return ret;
	}
	*out = is;
	return 0;
}

P2PDMA_EXPORT void p2pdma_islands_destroy(struct p2pdma_islands *is)
{
	if (!is)
		return;
	free(is->island);
	free(is->start);
	free(is->members);
	free(is);
}

P2PDMA_EXPORT size_t p2pdma_islands_count(const struct p2pdma_islands *is)
{
	return is->count;
}

P2PDMA_EXPORT int p2pdma_island_of(const struct p2pdma_islands *is,
				   const struct p2pdma_dev *dev)
{
	const struct p2pdma_dev *d = p2pdma_topo_map_dev(is->topo, dev);

	return d ? is->island[d->index] : -1;
}

P2PDMA_EXPORT size_t p2pdma_island_size(const struct p2pdma_islands *is, size_t i)
{
	return i < is->count ? is->start[i + 1] - is->start[i] : 0;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_island_member(const struct p2pdma_islands *is, size_t i, size_t j)
{
	return j < p2pdma_island_size(is, i) ? is->members[is->start[i] + j] : NULL;
}
