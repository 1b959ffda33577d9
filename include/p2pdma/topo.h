/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/topo.h - the PCI fabric as data: host bridges, bridges, functions */
#ifndef P2PDMA_TOPO_H
#define P2PDMA_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <p2pdma/context.h>

#ifdef __cplusplus
extern "C" {
#endif

struct p2pdma_topo;
struct p2pdma_dev;
struct p2pdma_host_bridge;

#define P2PDMA_NUM_BARS 6	/* PCI_STD_NUM_BARS */

/* Where a topology came from (hwloc-style: the source is chosen before load). */
enum p2pdma_source_kind {
	P2PDMA_SRC_LIVE = 0,	/* this machine, libpci linux-sysfs */
	P2PDMA_SRC_SYSFS,	/* a captured sysfs tree */
	P2PDMA_SRC_DUMP,	/* an lspci -x/-xxx/-xxxx dump */
	P2PDMA_SRC_JSON,	/* a topology description file */
	P2PDMA_SRC_EXAMPLE,	/* a bundled example machine */
	P2PDMA_SRC_SYNTH,	/* a synthetic generator */
	P2PDMA_SRC_LSPCI,	/* lspci's text output (-vv, -t ...) */
	P2PDMA_SRC_HWLOC,	/* an hwloc XML topology */
};

/* PCI Express Capabilities register, Device/Port Type field. */
enum p2pdma_pcie_type {
	P2PDMA_PCIE_NONE = -1,			/* conventional PCI: no PCIe cap */
	P2PDMA_PCIE_ENDPOINT = 0x0,
	P2PDMA_PCIE_LEGACY_ENDPOINT = 0x1,
	P2PDMA_PCIE_ROOT_PORT = 0x4,
	P2PDMA_PCIE_UPSTREAM = 0x5,
	P2PDMA_PCIE_DOWNSTREAM = 0x6,
	P2PDMA_PCIE_PCIE_TO_PCI = 0x7,
	P2PDMA_PCIE_PCI_TO_PCIE = 0x8,
	P2PDMA_PCIE_RC_ENDPOINT = 0x9,
	P2PDMA_PCIE_RC_EVENT_COLLECTOR = 0xa,
};

/*
 * What is known of a function's ACS capability. UNKNOWN is never "off":
 * it means the extended config space could not be read (non-root on a live
 * machine, a 64- or 256-byte dump).
 */
enum p2pdma_acs_state {
	P2PDMA_ACS_ABSENT = 0,
	P2PDMA_ACS_PRESENT,
	P2PDMA_ACS_UNKNOWN,
};

/* ACS capability/control bits (PCI_ACS_*). */
#define P2PDMA_ACS_SV 0x0001
#define P2PDMA_ACS_TB 0x0002
#define P2PDMA_ACS_RR 0x0004
#define P2PDMA_ACS_CR 0x0008
#define P2PDMA_ACS_UF 0x0010
#define P2PDMA_ACS_EC 0x0020
#define P2PDMA_ACS_DT 0x0040
/* The bits pci_bridge_has_acs_redir() tests. */
#define P2PDMA_ACS_REDIR_MASK (P2PDMA_ACS_RR | P2PDMA_ACS_CR | P2PDMA_ACS_EC)

/* BAR flags. */
#define P2PDMA_BAR_MEM		0x1
#define P2PDMA_BAR_IO		0x2
#define P2PDMA_BAR_64		0x4
#define P2PDMA_BAR_PREFETCH	0x8

/**
 * struct p2pdma_bar - one base address register's resource
 * @cpu: CPU physical address of the resource (0 with @size 0: unassigned)
 * @bus: PCI bus address (differs from @cpu behind translating host bridges)
 * @size: length in bytes; 0 = BAR not implemented or not assigned
 * @flags: P2PDMA_BAR_* bits
 */
struct p2pdma_bar {
	uint64_t cpu;
	uint64_t bus;
	uint64_t size;
	uint32_t flags;
};

enum p2pdma_window_kind {
	P2PDMA_WIN_IO = 0,
	P2PDMA_WIN_MEM,
	P2PDMA_WIN_PREFETCH,
	P2PDMA_WIN_COUNT,
};

/**
 * struct p2pdma_window - a bridge forwarding window (bus addresses)
 * @base: first address forwarded
 * @limit: last address forwarded (inclusive)
 * @valid: false when the window is closed (base > limit)
 */
struct p2pdma_window {
	uint64_t base;
	uint64_t limit;
	bool valid;
};

/**
 * struct p2pdma_link - PCIe link state
 * @speed: current speed code (1 = 2.5 GT/s ... 6 = 64 GT/s), 0 unknown
 * @width: current negotiated width (lanes), 0 unknown
 * @max_speed: Link Capabilities max speed code, 0 unknown
 * @max_width: Link Capabilities max width, 0 unknown
 */
struct p2pdma_link {
	uint8_t speed;
	uint8_t width;
	uint8_t max_speed;
	uint8_t max_width;
};

/**
 * struct p2pdma_p2pmem - a function's published p2pmem pool, as sysfs shows it
 * @present: the p2pmem/ directory exists (pci_p2pdma_add_resource() ran)
 * @published: p2pmem/published reads 1
 * @size: p2pmem/size in bytes
 * @available: p2pmem/available in bytes
 */
struct p2pdma_p2pmem {
	bool present;
	bool published;
	uint64_t size;
	uint64_t available;
};

/**
 * struct p2pdma_dev_info - read-only view of one PCI function
 *
 * Filled by p2pdma_dev_get_info(). Strings point into the topology and live
 * as long as it does. New fields are only ever appended; callers pass
 * sizeof(their struct) so old binaries keep working.
 */
struct p2pdma_dev_info {
	uint32_t domain;
	uint8_t bus, dev, fn;
	char bdf[16];			/* "DDDD:BB:DD.F", as the kernel's pci_name() */
	uint16_t vendor, device, subvendor, subdevice;
	uint32_t class_code;
	uint8_t revision;
	uint8_t header_type;
	bool multifunction;
	bool is_bridge;			/* header type 1 or 2 */
	int pcie_type;			/* enum p2pdma_pcie_type */
	uint8_t secondary, subordinate;
	enum p2pdma_acs_state acs_state;
	uint16_t acs_cap, acs_ctrl;
	bool is_vf;
	const struct p2pdma_dev *physfn;
	uint16_t sriov_total, sriov_num;
	int iommu_group;
	int numa_node;
	const char *driver;
	const char *vendor_name;
	const char *device_name;
	const char *label;
	struct p2pdma_link link;
	struct p2pdma_p2pmem p2pmem;
	struct p2pdma_bar bars[P2PDMA_NUM_BARS];
	const struct p2pdma_dev *upstream;	/* pci_upstream_bridge() */
	const struct p2pdma_host_bridge *host_bridge;
	const char *local_cpulist;	/* CPUs near the function ("0-15,32-47"), NULL: unknown */
};

/**
 * struct p2pdma_host_bridge_info - read-only view of one host bridge
 * @domain: PCI domain (segment)
 * @bus: root bus number
 * @bus_end: highest bus number in use below it
 * @hostdev: the device the kernel's allow list looks at (first function
 *           on the root bus if it is 00.0 or a Root Port), or NULL
 * @name: "pciDDDD:BB", as the sysfs directory
 */
struct p2pdma_host_bridge_info {
	uint32_t domain;
	uint8_t bus;
	uint8_t bus_end;
	const struct p2pdma_dev *hostdev;
	char name[16];
};

/**
 * struct p2pdma_machine_info - facts about the machine a source carried
 * @cpu_vendor: /proc/cpuinfo vendor_id ("AuthenticAMD"...), NULL unknown
 * @cpu_family: decimal CPU family, -1 unknown
 * @cpu_model: model name, NULL unknown
 * @kernel: kernel release the state was captured under, NULL unknown
 * @cmdline: kernel command line the registers were set under, NULL unknown
 * @iommu: 1 an IOMMU driver was active, 0 not, -1 unknown
 * @arch: "x86_64", "aarch64"..., NULL unknown
 */
struct p2pdma_machine_info {
	const char *cpu_vendor;
	int cpu_family;
	const char *cpu_model;
	const char *kernel;
	const char *cmdline;
	int iommu;
	const char *arch;
};

/**
 * p2pdma_topo_machine() - the machine facts a source carried
 * @topo: the topology
 * @info: filled; unknown fields are NULL or -1
 */
void p2pdma_topo_machine(const struct p2pdma_topo *topo,
			 struct p2pdma_machine_info *info);

/* --- loading: one call per source; each returns 0 or -errno --- */

/**
 * p2pdma_topo_load_live() - read this machine through libpci's sysfs method
 * @ctx: library context (errors and log)
 * @out: the new topology, owned by the caller
 *
 * As non-root the extended config space is unreadable: ACS is recorded as
 * P2PDMA_ACS_UNKNOWN, never as absent.
 *
 * Return: 0 or a negative errno; the reason is in p2pdma_ctx_error().
 */
int p2pdma_topo_load_live(struct p2pdma_ctx *ctx, struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_sysfs() - read a captured sysfs tree
 * @ctx: library context
 * @dir: the root of the tree: the directory holding bus/pci/devices; or
 *       the tarball conformance/capture-sysfs.sh writes (.tar.gz or .tar,
 *       "-" reads it from standard input), unpacked into a private
 *       temporary directory that is removed before this returns
 * @out: the new topology
 *
 * Return: 0 or a negative errno (-ENOENT missing, -EIO unreadable, -EINVAL
 * a tarball with entries outside the tree, device nodes or links out).
 */
int p2pdma_topo_load_sysfs(struct p2pdma_ctx *ctx, const char *dir,
			   struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_root() - read a machine below a root directory
 * @ctx: library context
 * @root: NULL, "" or "/" for this machine (as p2pdma_topo_load_live());
 *        else a directory laid out like a machine's root: ROOT/sys is a
 *        sysfs tree (holding bus/pci/devices), and the machine facts come
 *        from ROOT/proc/cpuinfo, ROOT/proc/cmdline,
 *        ROOT/proc/sys/kernel/osrelease and ROOT/sys/class/iommu where
 *        present
 * @out: the new topology
 *
 * What a runtime needs to ask about the running kernel (p2pdma/query.h).
 *
 * Return: 0 or a negative errno (-ENOENT without ROOT/sys/bus/pci/devices).
 */
int p2pdma_topo_load_root(struct p2pdma_ctx *ctx, const char *root,
			  struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_dump() - read an lspci -x, -xxx or -xxxx dump
 * @ctx: library context
 * @path: the dump file
 * @out: the new topology
 *
 * The hierarchy is rebuilt from bridge bus numbers; a dump of 64 or 256
 * bytes per function has no extended space, so ACS is UNKNOWN.
 *
 * Return: 0 or a negative errno (-EINVAL malformed, -ENOENT missing).
 */
int p2pdma_topo_load_dump(struct p2pdma_ctx *ctx, const char *path,
			  struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_lspci() - read lspci's text output
 * @ctx: library context
 * @path: the file; "-" reads standard input
 * @out: the new topology (source P2PDMA_SRC_LSPCI)
 *
 * Reads what people paste: lspci -v, -vv or -vvv (with or without -n,
 * -nn, -D), plain lspci, and the trees of lspci -t, -tv and -tvnn, also
 * indented, with CRLF line ends or a shell prompt above them. From -vv on
 * the text carries the bus numbers, port types, ACS Capability and Control,
 * BARs, SR-IOV and the link, and the verdicts equal those of the same
 * machine's dump. Names without numbers are read back to IDs through the
 * PCI ID database ("unknown" when a name is ambiguous). A tree gives the
 * shape only: ACS is P2PDMA_ACS_UNKNOWN. Plain lspci has no bridge bus
 * numbers: the hierarchy is numbered depth-first, with a warning. What
 * cannot be read is logged at P2PDMA_LOG_WARNING with its line number.
 *
 * Return: 0 or a negative errno (-EINVAL with the line of the error, as
 * for a tree with inconsistent indentation or a cut line).
 */
int p2pdma_topo_load_lspci(struct p2pdma_ctx *ctx, const char *path,
			   struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_lspci_string() - read lspci's text output from memory
 * @ctx: library context
 * @text: NUL-terminated text
 * @name: what messages call it
 * @out: the new topology
 *
 * Return: 0 or a negative errno, as p2pdma_topo_load_lspci().
 */
int p2pdma_topo_load_lspci_string(struct p2pdma_ctx *ctx, const char *text,
				  const char *name, struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_hwloc() - read an hwloc XML topology (lstopo --of xml)
 * @ctx: library context
 * @path: the file; "-" reads standard input
 * @out: the new topology (source P2PDMA_SRC_HWLOC)
 *
 * Reads hwloc's XML formats 1 (hwloc 1.x, and 2.x with --export-xml-flags
 * v1), 2.0 and 3.0 with libxml2 (no network, no DTD, no entities). The PCI
 * functions come from its Bridge and PCIDev objects, the hierarchy from the
 * bridges' bus ranges (bridge_pci), and the names of the OS devices below
 * a function (nvme0n1, eth0, card0...) go into its label. hwloc records no
 * ACS, port type or BAR: ACS is P2PDMA_ACS_UNKNOWN. lstopo keeps only the
 * "important" I/O objects by default; export with --whole-io for all.
 *
 * Return: 0 or a negative errno (-EINVAL with the line of the error).
 */
int p2pdma_topo_load_hwloc(struct p2pdma_ctx *ctx, const char *path,
			   struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_hwloc_string() - read an hwloc XML topology from memory
 * @ctx: library context
 * @text: NUL-terminated XML
 * @name: what messages call it
 * @out: the new topology
 *
 * Return: 0 or a negative errno, as p2pdma_topo_load_hwloc().
 */
int p2pdma_topo_load_hwloc_string(struct p2pdma_ctx *ctx, const char *text,
				  const char *name, struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_json() - read a topology description file (doc/topology-json.md)
 * @ctx: library context
 * @path: the file; "-" reads standard input
 * @out: the new topology
 *
 * Return: 0 or a negative errno (-EINVAL with the place of the error).
 */
int p2pdma_topo_load_json(struct p2pdma_ctx *ctx, const char *path,
			  struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_json_string() - read a topology description from memory
 * @ctx: library context
 * @text: NUL-terminated JSON text
 * @name: what error messages call it
 * @out: the new topology
 *
 * Return: 0 or a negative errno.
 */
int p2pdma_topo_load_json_string(struct p2pdma_ctx *ctx, const char *text,
				 const char *name, struct p2pdma_topo **out);

/**
 * p2pdma_topo_load_example() - load a bundled example machine by name
 * @ctx: library context
 * @name: one of p2pdma_example_name()
 * @out: the new topology
 *
 * Return: 0, -ENOENT for an unknown name, or another negative errno.
 */
int p2pdma_topo_load_example(struct p2pdma_ctx *ctx, const char *name,
			     struct p2pdma_topo **out);

/**
 * p2pdma_topo_synth() - build a synthetic fabric (for scale and benchmarks)
 * @ctx: library context
 * @spec: "KEY=VALUE,...", e.g. "hb=4,rp=4,sw=2,ds=4,ep=16,acs=0.3,seed=1":
 *        hb host bridges (default 1), rp root ports per host bridge (4),
 *        sw switch levels below each root port (2), ds downstream ports per
 *        switch (4), ep endpoint functions on each leaf bus (1), acs
 *        fraction of root/downstream ports with ACS RR|CR on (0.5), listed
 *        fraction of host bridges whose 00.0 device is allow-listed (0.5),
 *        cmb fraction of NVMe functions with published p2pmem (0.25),
 *        seed (1). "" takes every default.
 * @out: the new topology (source P2PDMA_SRC_SYNTH)
 *
 * Return: 0, -EINVAL for a bad spec (message in the context), -ERANGE
 * when the buses do not fit in a domain, -ENOMEM.
 */
int p2pdma_topo_synth(struct p2pdma_ctx *ctx, const char *spec,
		      struct p2pdma_topo **out);

/**
 * p2pdma_example_name() - the name of the i-th bundled example
 * @i: index from 0
 *
 * Return: the name, or NULL past the last one.
 */
const char *p2pdma_example_name(size_t i);

/**
 * p2pdma_example_summary() - one line describing the i-th bundled example
 * @i: index from 0
 *
 * Return: the summary, or NULL past the last one.
 */
const char *p2pdma_example_summary(size_t i);

/**
 * p2pdma_topo_destroy() - free a topology and everything it owns
 * @topo: the topology, or NULL
 */
void p2pdma_topo_destroy(struct p2pdma_topo *topo);

/* --- export --- */

/**
 * p2pdma_topo_export_json() - write the topology as a description file
 * @topo: the topology
 * @f: where to write
 *
 * Loading the result gives a topology that p2pdma_topo_equal() finds
 * equal: the round trip is lossless.
 *
 * Return: 0 or a negative errno.
 */
int p2pdma_topo_export_json(const struct p2pdma_topo *topo, FILE *f);

/**
 * p2pdma_topo_export_dump() - write the topology as an lspci -xxxx dump
 * @topo: the topology
 * @f: where to write
 *
 * Config space is synthesised from the model; what config space cannot
 * hold (CPU addresses, IOMMU groups, drivers...) is lost.
 *
 * Return: 0 or a negative errno.
 */
int p2pdma_topo_export_dump(const struct p2pdma_topo *topo, FILE *f);

/* What p2pdma_topo_equal() looks at. */
#define P2PDMA_CMP_CONFIG	0x1	/* everything config space holds */
#define P2PDMA_CMP_RESOURCES	0x2	/* BAR sizes and CPU addresses */
#define P2PDMA_CMP_OS		0x4	/* IOMMU group, NUMA, driver, p2pmem */
#define P2PDMA_CMP_NAMES	0x8	/* labels and description */
#define P2PDMA_CMP_ALL		0xf

/**
 * p2pdma_topo_equal() - compare two topologies
 * @a: first
 * @b: second
 * @what: P2PDMA_CMP_* mask
 * @diff: NULL, or a buffer for a one-line description of the first
 *        difference ("" when equal)
 * @len: size of @diff
 *
 * Return: true if equal in everything @what selects.
 */
bool p2pdma_topo_equal(const struct p2pdma_topo *a,
		       const struct p2pdma_topo *b, unsigned int what,
		       char *diff, size_t len);

/**
 * p2pdma_topo_check() - run the invariant checker
 * @topo: the topology
 * @err: buffer for a one-line description of the first violation
 * @len: size of @err
 *
 * Checks parents, bus ranges (each bridge's range nests in its parent's,
 * siblings do not overlap, no cycles), BAR containment in the upstream
 * bridge windows, VF/PF links, and the host-bridge device rule.
 *
 * Return: 0 if all hold, -EINVAL otherwise.
 */
int p2pdma_topo_check(const struct p2pdma_topo *topo, char *err, size_t len);

/* --- walking --- */

/**
 * p2pdma_topo_num_devs() - number of PCI functions
 * @topo: the topology
 *
 * Return: the count.
 */
size_t p2pdma_topo_num_devs(const struct p2pdma_topo *topo);

/**
 * p2pdma_topo_dev() - the i-th function in enumeration order
 * @topo: the topology
 * @i: index
 *
 * Return: the function, or NULL if @i is out of range.
 */
struct p2pdma_dev *p2pdma_topo_dev(const struct p2pdma_topo *topo, size_t i);

/**
 * p2pdma_topo_find() - look up a function by address
 * @topo: the topology
 * @bdf: "DDDD:BB:DD.F" or "BB:DD.F" (domain 0)
 *
 * Return: the function, or NULL if not present or @bdf is malformed.
 */
struct p2pdma_dev *p2pdma_topo_find(const struct p2pdma_topo *topo,
				    const char *bdf);

/**
 * p2pdma_topo_num_host_bridges() - number of host bridges (root buses)
 * @topo: the topology
 *
 * Return: the count.
 */
size_t p2pdma_topo_num_host_bridges(const struct p2pdma_topo *topo);

/**
 * p2pdma_topo_host_bridge() - the i-th host bridge
 * @topo: the topology
 * @i: index
 *
 * Return: the host bridge or NULL.
 */
const struct p2pdma_host_bridge *
p2pdma_topo_host_bridge(const struct p2pdma_topo *topo, size_t i);

/**
 * p2pdma_host_bridge_get_info() - fill a view of a host bridge
 * @hb: the host bridge
 * @info: filled
 */
void p2pdma_host_bridge_get_info(const struct p2pdma_host_bridge *hb,
				 struct p2pdma_host_bridge_info *info);

/**
 * p2pdma_dev_get_info() - fill a view of a function
 * @dev: the function
 * @info: filled
 * @size: sizeof(*info) as the caller was compiled with
 */
void p2pdma_dev_get_info(const struct p2pdma_dev *dev,
			 struct p2pdma_dev_info *info, size_t size);

/**
 * p2pdma_dev_name() - the kernel's pci_name() of a function
 * @dev: the function
 *
 * Return: "DDDD:BB:DD.F", valid as long as the topology.
 */
const char *p2pdma_dev_name(const struct p2pdma_dev *dev);

/**
 * p2pdma_topo_name() - what the topology was loaded from
 * @topo: the topology
 *
 * Return: example name, file path, or "live".
 */
const char *p2pdma_topo_name(const struct p2pdma_topo *topo);

/**
 * p2pdma_topo_source() - the kind of source it was loaded from
 * @topo: the topology
 *
 * Return: the kind.
 */
enum p2pdma_source_kind p2pdma_topo_source(const struct p2pdma_topo *topo);

/* --- immutability and what-ifs --- */

/**
 * p2pdma_topo_clone() - a changeable copy of a topology, for what-ifs
 * @topo: the topology (sealed or not)
 * @out: the copy, not sealed: p2pdma_topo_set_acs_ctrl() may change it
 *       until it is sealed. It shares @topo's lineage: a function of either
 *       is accepted where the other's is expected (same index, same BDF).
 *
 * A deep copy in memory (no round trip through a file format).
 *
 * Return: 0 or a negative errno (-EINVAL not finalized, -ENOMEM).
 */
int p2pdma_topo_clone(const struct p2pdma_topo *topo,
		      struct p2pdma_topo **out);

/**
 * p2pdma_topo_seal() - make a topology immutable
 * @topo: the topology
 *
 * Every loaded topology is sealed; a clone is sealed by this call or when
 * a router or a kernel is made over it. Nothing unseals.
 */
void p2pdma_topo_seal(struct p2pdma_topo *topo);

/**
 * p2pdma_topo_sealed() - can the topology still change?
 * @topo: the topology
 *
 * Return: true if sealed.
 */
bool p2pdma_topo_sealed(const struct p2pdma_topo *topo);

/**
 * p2pdma_topo_set_acs_ctrl() - what-if: change a function's ACS Control
 * @dev: a function of an unsealed clone (p2pdma_topo_clone())
 * @ctrl: the new register value
 *
 * Return: 0, -EPERM if the topology is sealed, -ENODEV if the function
 * has no (known) ACS capability.
 */
int p2pdma_topo_set_acs_ctrl(struct p2pdma_dev *dev, uint16_t ctrl);

/**
 * p2pdma_pcie_type_name() - short name of a PCIe port type
 * @type: enum p2pdma_pcie_type
 *
 * Return: e.g. "root_port"; "pci" for P2PDMA_PCIE_NONE.
 */
const char *p2pdma_pcie_type_name(int type);

/**
 * p2pdma_link_speed_name() - text of a link speed code
 * @code: 1..6
 *
 * Return: e.g. "16GT/s", or "unknown".
 */
const char *p2pdma_link_speed_name(unsigned int code);

#ifdef __cplusplus
}
#endif
#endif
