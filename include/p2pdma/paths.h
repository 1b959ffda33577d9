/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/paths.h - how pairs relate: nvidia-smi path classes, NCCL's defaults, P2P islands */
#ifndef P2PDMA_PATHS_H
#define P2PDMA_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include <p2pdma/policy.h>
#include <p2pdma/topo.h>
#include <p2pdma/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The PCI part of the legend of `nvidia-smi topo -m`, in the order NCCL
 * compares them (src/graph/topo.h PATH_PIX < PATH_PXB < PATH_PHB <
 * PATH_SYS): a smaller class is a shorter path. doc/pictures.md quotes the
 * legend and says how each class is read from the topology. NVLink (NV#)
 * is not PCI and not visible in a PCI topology.
 */
enum p2pdma_path_class {
	P2PDMA_PATH_X = 0,	/* the same function */
	P2PDMA_PATH_PIX,	/* at most one PCIe switch or bridge, no root port */
	P2PDMA_PATH_PXB,	/* several switches or bridges, no root port */
	P2PDMA_PATH_PHB,	/* through the root complex of one host bridge */
	P2PDMA_PATH_NODE,	/* across host bridges of one NUMA node */
	P2PDMA_PATH_SYS,	/* across NUMA nodes */
	/* Across host bridges, but a NUMA node is unknown: NODE or SYS. */
	P2PDMA_PATH_NODE_OR_SYS,
};

/* What NCCL would use a path for (its two level knobs). */
enum p2pdma_nccl_use {
	P2PDMA_NCCL_P2P = 0,	/* GPU to GPU: NCCL_P2P_LEVEL */
	P2PDMA_NCCL_GDR = 1,	/* GPU to NIC, GPUDirect RDMA: NCCL_NET_GDR_LEVEL */
};

/**
 * p2pdma_path_classify() - the nvidia-smi path class of a pair
 * @topo: the topology
 * @a: one function of @topo (or of its lineage)
 * @b: the other
 * @out: receives the class
 *
 * From the hierarchy alone (ACS plays no part; the kernel's verdict is
 * p2pdma_router_calc()): the lowest bridge above both is found; when it is
 * a root port, or there is none, the path goes through the root complex:
 * PHB on one host bridge, else NODE or SYS by the functions' NUMA nodes.
 * Otherwise the switches on the path are counted (a switch's upstream and
 * downstream ports are one switch, a conventional bridge is one): PIX for
 * one, PXB for more.
 *
 * Return: 0, or -EINVAL when a function is not of @topo's lineage.
 */
int p2pdma_path_classify(const struct p2pdma_topo *topo,
			 const struct p2pdma_dev *a, const struct p2pdma_dev *b,
			 enum p2pdma_path_class *out);

/**
 * p2pdma_path_class_name() - the legend's short name
 * @c: the class
 *
 * Return: "X", "PIX", "PXB", "PHB", "NODE", "SYS", or "NODE?" for
 * P2PDMA_PATH_NODE_OR_SYS; "?" for a value out of range.
 */
const char *p2pdma_path_class_name(enum p2pdma_path_class c);

/**
 * p2pdma_path_class_meaning() - the legend line of a class
 * @c: the class
 *
 * Return: nvidia-smi's definition ("Connection traversing at most a
 * single PCIe bridge"...), or this library's for P2PDMA_PATH_NODE_OR_SYS.
 */
const char *p2pdma_path_class_meaning(enum p2pdma_path_class c);

/**
 * p2pdma_nccl_default_level() - the farthest class NCCL uses directly by default
 * @pol: the policy (its CPU decides NCCL's AMD exception)
 * @use: GPU to GPU P2P, or GPU to NIC GPUDirect RDMA
 * @ngpus: GPUs on the machine
 * @uncertain: if non-NULL, set when the answer depends on a CPU vendor
 *             the policy does not know
 *
 * NCCL (src/graph/paths.cc): ncclTopoCheckP2p() uses P2P up to PATH_PXB,
 * and up to PATH_SYS between at most two GPUs on an x86 AMD CPU;
 * ncclTopoCheckGdr() uses GPUDirect RDMA up to PATH_PXB (C2C platforms are
 * not modelled). Environment overrides (NCCL_P2P_LEVEL,
 * NCCL_NET_GDR_LEVEL) are not considered.
 *
 * Return: P2PDMA_PATH_PXB or P2PDMA_PATH_SYS.
 */
enum p2pdma_path_class p2pdma_nccl_default_level(const struct p2pdma_policy *pol,
						 enum p2pdma_nccl_use use,
						 size_t ngpus, bool *uncertain);

/**
 * p2pdma_nccl_mismatch() - NCCL's default goes direct where the kernel does not
 * @c: the pair's path class (p2pdma_path_classify())
 * @level: NCCL's level for the pair (p2pdma_nccl_default_level())
 * @t: the kernel's verdict for the pair
 *
 * NCCL uses P2P or GPUDirect RDMA for a pair whose class is at most
 * @level. That surprises when the kernel's verdict disagrees with the
 * path NCCL believes in: NOT_SUPPORTED (the kernel refuses P2PDMA for the
 * pair), or THRU_HOST_BRIDGE on a PIX or PXB path (ACS redirect sends the
 * traffic up to the root complex instead of turning it in the switch).
 * THRU_HOST_BRIDGE across host bridges is the path NCCL expects.
 *
 * Return: true in those cases.
 */
bool p2pdma_nccl_mismatch(enum p2pdma_path_class c, enum p2pdma_path_class level,
			  enum p2pdma_map_type t);

/* --- P2P islands: functions that reach each other by BUS_ADDR --- */

struct p2pdma_islands;

/**
 * p2pdma_islands_compute() - group functions into P2P islands
 * @r: the router whose verdicts decide
 * @devs: the functions to group, or NULL for every function of the
 *        router's topology that is not a bridge
 * @n: how many (ignored when @devs is NULL)
 * @out: the islands
 *
 * An island is a set of at least two of @devs joined by BUS_ADDR verdicts
 * (traffic turns around in a switch, doc/kernel-model.md §2.2). The
 * kernel's rule makes BUS_ADDR transitive: the path between two members
 * lies on the paths that join them through a third, so it has a common
 * bridge and no ACS redirect either; every pair of an island is BUS_ADDR
 * (tests/unit/test-paths.c checks it on every bundled and captured machine).
 * Functions of different host bridges never share an island.
 *
 * Return: 0, -EINVAL (a function not of the router's lineage), -ENOMEM.
 */
int p2pdma_islands_compute(const struct p2pdma_router *r,
			   const struct p2pdma_dev *const *devs, size_t n,
			   struct p2pdma_islands **out);

/**
 * p2pdma_islands_destroy() - free islands
 * @is: the islands or NULL
 */
void p2pdma_islands_destroy(struct p2pdma_islands *is);

/**
 * p2pdma_islands_count() - how many islands
 * @is: the islands
 *
 * Return: the number of islands (each has two members or more).
 */
size_t p2pdma_islands_count(const struct p2pdma_islands *is);

/**
 * p2pdma_island_of() - the island a function belongs to
 * @is: the islands
 * @dev: a function
 *
 * Islands are numbered from 0 in the enumeration order of their first
 * member.
 *
 * Return: the island's number, or -1 when the function is in none (alone,
 * or not among the functions grouped).
 */
int p2pdma_island_of(const struct p2pdma_islands *is, const struct p2pdma_dev *dev);

/**
 * p2pdma_island_size() - members of an island
 * @is: the islands
 * @i: island number
 *
 * Return: how many, 0 past the last island.
 */
size_t p2pdma_island_size(const struct p2pdma_islands *is, size_t i);

/**
 * p2pdma_island_member() - one member, in enumeration order
 * @is: the islands
 * @i: island number
 * @j: index among its members
 *
 * Return: the function (of the router's topology), or NULL past the end.
 */
const struct p2pdma_dev *p2pdma_island_member(const struct p2pdma_islands *is,
					      size_t i, size_t j);

#ifdef __cplusplus
}
#endif
#endif
