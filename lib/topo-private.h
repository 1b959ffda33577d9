/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* topo-private.h - the fabric model as the library's layers see it */
#ifndef P2PDMA_TOPO_PRIVATE_H
#define P2PDMA_TOPO_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "p2pdma/topo.h"
#include "context-private.h"

/*
 * One PCI function, as the kernel's struct pci_dev holds what p2pdma.c
 * looks at. Owned by its struct p2pdma_topo: never freed on its own.
 *
 * The hierarchy is not stored by the sources: they give bus numbers
 * (secondary/subordinate of bridges, bus of every function) and
 * p2pdma_topo_finalize() derives the kernel's notion of it from them:
 *
 *   bus_self   - dev->bus->self: the bridge whose secondary bus this
 *                function sits on; NULL on a root bus.
 *   upstream   - pci_upstream_bridge(dev): for a VF the PF's upstream,
 *                else bus_self.
 *   hb         - pci_find_host_bridge(dev->bus).
 */
struct p2pdma_dev {
	struct p2pdma_topo *topo;
	uint32_t index;			/* position in topo->devs: enumeration order */
	char name[16];			/* pci_name(): "DDDD:BB:DD.F" */

	/* identity */
	uint32_t domain;
	uint8_t bus;
	uint8_t devfn;
	uint16_t vendor;
	uint16_t device;
	uint16_t subvendor;
	uint16_t subdevice;
	uint32_t class_code;		/* base << 16 | sub << 8 | prog-if */
	uint8_t revision;
	uint8_t header_type;		/* low 7 bits: 0 normal, 1 bridge, 2 cardbus */
	bool multifunction;
	int8_t pcie_type;		/* enum p2pdma_pcie_type, or P2PDMA_PCIE_NONE */

	/* bridge (header type 1) */
	uint8_t primary;
	uint8_t secondary;
	uint8_t subordinate;
	struct p2pdma_window win[P2PDMA_WIN_COUNT];

	struct p2pdma_bar bars[P2PDMA_NUM_BARS];

	/* ACS: the register state the kernel reads (doc/kernel-model.md §2.1) */
	enum p2pdma_acs_state acs_state;
	uint16_t acs_pos;		/* extended capability offset, 0 if none/unknown */
	uint16_t acs_cap;
	uint16_t acs_ctrl;
	uint16_t acs_ctrl_boot;		/* ctrl as loaded, before any what-if */

	/* SR-IOV: PF side */
	bool has_sriov;
	uint16_t sriov_total;
	uint16_t sriov_num;
	uint16_t sriov_offset;
	uint16_t sriov_stride;
	uint16_t sriov_vf_device;
	/* SR-IOV: VF side */
	bool is_vf;
	uint32_t physfn_index;		/* index of the PF in topo->devs, valid iff is_vf */

	/* OS facts (sysfs / JSON only) */
	int32_t iommu_group;		/* -1: none or unknown */
	int32_t numa_node;		/* -1: none or unknown */
	char *driver;			/* NULL: unbound or unknown */
	char *local_cpulist;		/* sysfs local_cpulist ("0-3,8"); NULL: unknown */
	char *label;			/* free-form annotation (JSON "comment") */
	struct p2pdma_link link;
	struct p2pdma_p2pmem p2pmem;

	/* names from libpci's ID database (may stay NULL) */
	char *vendor_name;
	char *device_name;

	/* derived by p2pdma_topo_finalize() */
	struct p2pdma_dev *bus_self;
	struct p2pdma_dev *upstream;
	struct p2pdma_dev *physfn;
	struct p2pdma_host_bridge *hb;
	uint16_t depth;			/* number of upstream hops to the root bus */
};

/* One root bus and its pci_host_bridge. */
struct p2pdma_host_bridge {
	uint32_t index;
	uint32_t domain;
	uint8_t bus;			/* root bus number */
	uint8_t bus_end;		/* highest bus number below it */
	struct p2pdma_dev *hostdev;	/* pci_host_bridge_dev() candidate, or NULL */
	struct p2pdma_dev *first;	/* first function on the root bus (list order) */
};

/* Facts about the machine a source may carry (live, JSON); all optional. */
struct p2pdma_machine {
	char *cpu_vendor;		/* /proc/cpuinfo vendor_id, NULL unknown */
	int cpu_family;			/* -1 unknown */
	char *cpu_model;
	char *kernel;			/* release string, NULL unknown */
	char *cmdline;			/* the cmdline the registers were set under */
	int iommu;			/* 1 on, 0 off, -1 unknown */
	char *arch;			/* "x86_64", "aarch64"... NULL unknown */
};

struct p2pdma_topo {
	struct p2pdma_ctx *ctx;
	char *name;			/* example name or file path */
	char *description;
	enum p2pdma_source_kind source;
	struct p2pdma_machine machine;

	struct p2pdma_dev **devs;	/* sorted: domain, bus, devfn */
	uint32_t ndevs;
	uint32_t cap_devs;

	struct p2pdma_host_bridge *hbs;
	uint32_t nhbs;

	bool finalized;
	/*
	 * Sealed topologies never change again (every loaded one, and any
	 * draft a router or kernel was made over). Clones share the lineage
	 * of their original: the same functions at the same indexes, so a
	 * function of one maps to the other by index (p2pdma_topo_map_dev()).
	 */
	bool sealed;
	uint64_t lineage;
};

/* --- construction, used by every source (topo.c) --- */

struct p2pdma_topo *p2pdma_topo_alloc(struct p2pdma_ctx *ctx,
				      enum p2pdma_source_kind src,
				      const char *name);
/* New function with every field at its "unknown" default; owned by topo. */
struct p2pdma_dev *p2pdma_topo_add_dev(struct p2pdma_topo *topo,
				       uint32_t domain, uint8_t bus,
				       uint8_t devfn);
/*
 * Sort, derive the hierarchy, VFs and host bridges, and run the invariant
 * checker. Returns 0 or a negative errno with the error set on the context
 * (the message names @where, e.g. the file).
 */
int p2pdma_topo_finalize(struct p2pdma_topo *topo, const char *where);

/* Parse "DDDD:BB:DD.F" or "BB:DD.F"; 0 or -EINVAL. */
int p2pdma_parse_bdf(const char *s, uint32_t *domain, uint8_t *bus,
		     uint8_t *devfn);
/* Look up by address; NULL if absent. Needs a finalized (sorted) topo. */
struct p2pdma_dev *p2pdma_topo_lookup(const struct p2pdma_topo *topo,
				      uint32_t domain, uint8_t bus,
				      uint8_t devfn);
/* Is the function a bridge (header type 1 or 2)? */
static inline bool p2pdma_dev_is_bridge(const struct p2pdma_dev *dev)
{
	return dev->header_type == 1 || dev->header_type == 2;
}

char *p2pdma_strdup(const char *s);

/*
 * A CPU list as sysfs prints local_cpulist: "N" or "N-M" items, ascending
 * and not overlapping, joined by ','; at most P2PDMA_CPULIST_MAX bytes.
 */
#define P2PDMA_CPULIST_MAX 4096
bool p2pdma_cpulist_valid(const char *s);
/*
 * hwloc's bitmap text ("0x000000ff", "0x0000000f,0xffffffff": 32-bit hex
 * words, the most significant first) as a CPU list in a new string; NULL
 * for an empty, infinite ("0xf...f,") or malformed bitmap, or no memory.
 */
char *p2pdma_cpulist_from_bitmap(const char *bitmap);

/*
 * @d as a function of @t: @d itself if it belongs to @t, the function at
 * the same index if @d belongs to another topology of @t's lineage (a
 * clone), NULL otherwise.
 */
static inline const struct p2pdma_dev *
p2pdma_topo_map_dev(const struct p2pdma_topo *t, const struct p2pdma_dev *d)
{
	if (!d)
		return NULL;
	if (d->topo == t)
		return d;
	if (d->topo && d->topo->lineage == t->lineage && d->index < t->ndevs)
		return t->devs[d->index];
	return NULL;
}

/* config-space codec (config.c): pure byte decoding/encoding */
#define P2PDMA_CFG_SIZE 4096

/*
 * Decode the header, BAR registers (bus addresses and sizes are NOT in
 * config space: only what the registers hold), bridge fields, PCIe port
 * type and link, ACS and SR-IOV capabilities from @len bytes of @cfg.
 * @len 64 or 256 means no extended space: ACS becomes UNKNOWN.
 */
int p2pdma_config_decode(struct p2pdma_dev *dev, const uint8_t *cfg,
			 size_t len);
/* Encode @dev into a 4096-byte config image (for dump export). */
void p2pdma_config_encode(const struct p2pdma_dev *dev, uint8_t *cfg);
/*
 * How many bytes of the encoded image to publish so that decoding them
 * gives @dev back: 4096, or 256/64 when ACS is UNKNOWN (the image then
 * leaves out the space that could not be read).
 */
size_t p2pdma_config_image_len(const struct p2pdma_dev *dev);

#endif
