/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/dma.h - the DMA mapping layer of a modelled kernel: domains, IOVAs, mappings, a DMA engine */
#ifndef P2PDMA_DMA_H
#define P2PDMA_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p2pdma/context.h>
#include <p2pdma/kernel.h>
#include <p2pdma/topo.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The DMA layer of a modelled kernel (doc/kernel-model.md §3, doc/dma.md).
 *
 * Every function of the machine has a DMA view: a DMA mask and the IOMMU
 * domain its IOMMU group is attached to. Without an IOMMU the view is
 * dma-direct (DMA address = CPU physical address, checked against the
 * mask, bounced through a modelled swiotlb when it does not fit). With an
 * IOMMU the group starts in its default domain: identity (passthrough:
 * iommu=pt, iommu.passthrough=1) or translating (a DMA domain with an
 * IOVA allocator and a page table). A caller (VFIO, iommufd) may attach a
 * group to a domain of its own (unmanaged, blocked, identity).
 *
 * The mapping calls are the kernel's: dma_map_phys() with DMA_ATTR_MMIO,
 * the IOVA two-step API, and dma_map_sg() over a list that mixes system
 * pages and P2P pages (a P2P page is (provider, CPU physical address)).
 *
 * A modelled DMA engine per function reads and writes through whatever
 * address it is given, the way the fabric would route the request: a bus
 * address inside a peer's BAR below a common switch without ACS redirect
 * goes straight to that BAR; anything else goes up to the root complex,
 * through the group's current domain (a fault when unmapped), and lands in
 * system memory or, when the host bridge forwards peer-to-peer, in a
 * peer's BAR. Memory (RAM and every BAR) is a sparse store.
 *
 * Context: the DMA, dma-buf and VFIO layers of one kernel serialise on
 * one lock of the kernel; they may be called from several threads. Other
 * calls on the kernel object (kernel.h) must not run concurrently.
 */

/* enum dma_data_direction. */
enum p2pdma_dma_dir {
	P2PDMA_DMA_BIDIRECTIONAL = 0,
	P2PDMA_DMA_TO_DEVICE = 1,
	P2PDMA_DMA_FROM_DEVICE = 2,
	P2PDMA_DMA_NONE = 3,
};

/* Kinds of IOMMU domain (IOMMU_DOMAIN_*), plus "no IOMMU at all". */
enum p2pdma_domain_type {
	P2PDMA_DOMAIN_NONE = 0,		/* no IOMMU: dma-direct */
	P2PDMA_DOMAIN_BLOCKED,		/* every DMA faults */
	P2PDMA_DOMAIN_IDENTITY,		/* passthrough: IOVA = physical */
	P2PDMA_DOMAIN_DMA,		/* translating, managed by the DMA API */
	P2PDMA_DOMAIN_UNMANAGED,	/* translating, managed by its owner (VFIO, iommufd) */
};

/* DMA_ATTR_MMIO: the address is MMIO (doc/kernel-model.md §3.4). */
#define P2PDMA_DMA_ATTR_MMIO		(1UL << 10)
/* DMA_ATTR_SKIP_CPU_SYNC. */
#define P2PDMA_DMA_ATTR_SKIP_CPU_SYNC	(1UL << 5)
/* DMA_MAPPING_ERROR. */
#define P2PDMA_DMA_MAPPING_ERROR	(~(uint64_t)0)
/* DMA_IOVA_USE_SWIOTLB: the bit of a size that dma_iova_try_alloc() refuses. */
#define P2PDMA_DMA_IOVA_USE_SWIOTLB	(1ULL << 63)

/* IOMMU page protections (IOMMU_READ, IOMMU_WRITE, IOMMU_MMIO). */
#define P2PDMA_IOMMU_READ	0x1
#define P2PDMA_IOMMU_WRITE	0x2
#define P2PDMA_IOMMU_MMIO	0x10

/* The page size of the model (PAGE_SIZE and the IOMMU granule). */
#define P2PDMA_PAGE_SIZE	4096ULL

struct p2pdma_iommu_domain;
struct p2pdma_sgt;

/*
 * Known kernel behaviours the DMA and dma-buf layers reproduce, selected
 * from the kernel release (p2pdma_policy_set_kernel()) and switchable one
 * by one (p2pdma_dma_set_quirks()). doc/dma.md has the sources.
 */
/* 6.19: dma_buf_phys_vec_to_sgt() splits at UINT_MAX (entries after the
 * first of a >4 GiB range are not page aligned); later: page aligned. */
#define P2PDMA_QUIRK_SGT_MAX_ENT_UINT		(1u << 0)
/* v9 as merged (6.19-rc1): chunk addresses computed as a 32-bit
 * i * UINT_MAX, wrong from the third chunk (ranges of 8 GiB and more). */
#define P2PDMA_QUIRK_SGT_ADDR_OVERFLOW		(1u << 1)
/* v9 as merged: mapped_len summed in an unsigned int (wraps at 4 GiB). */
#define P2PDMA_QUIRK_SGT_MAPPED_LEN_U32		(1u << 2)
/* Every release read: dma_iova_link() is given offset 0 for every range,
 * so a second range is linked over the first (the link fails). */
#define P2PDMA_QUIRK_SGT_IOVA_OFFSET_ZERO	(1u << 3)
/* 6.16 (a25e7962db0d) until its fix: dma-direct map_sg leaves the DMA
 * address of THRU_HOST_BRIDGE entries unset. Off by default. */
#define P2PDMA_QUIRK_DIRECT_THB_UNSET		(1u << 4)
/* 6.19 before e98137f0a874: a failing dma_buf_fd() in the VFIO export
 * drops the registration twice and frees the private data twice. */
#define P2PDMA_QUIRK_VFIO_FD_DOUBLE_FREE	(1u << 5)
/* 6.19-rc1..rc6, before 61ceaf236115: the VFIO exporter has no pin, so a
 * pinned importer attaches and pins. Later: pin refuses (-EOPNOTSUPP). */
#define P2PDMA_QUIRK_VFIO_NO_PIN		(1u << 6)
/* The kernel is built with CONFIG_DMABUF_MOVE_NOTIFY=y (on by default in
 * the model; 7.0 removed the option and always has it). */
#define P2PDMA_QUIRK_MOVE_NOTIFY		(1u << 7)
#define P2PDMA_QUIRK_COUNT			8

/**
 * p2pdma_dma_quirks() - the kernel behaviours in force
 * @k: the kernel
 *
 * Return: P2PDMA_QUIRK_* bits; the defaults follow the kernel's release.
 */
unsigned int p2pdma_dma_quirks(struct p2pdma_kernel *k);

/**
 * p2pdma_dma_set_quirks() - select behaviours other than the release's
 * @k: the kernel
 * @quirks: P2PDMA_QUIRK_* bits
 *
 * Return: 0, or -ENOMEM when the DMA layer could not be set up.
 */
int p2pdma_dma_set_quirks(struct p2pdma_kernel *k, unsigned int quirks);

/**
 * p2pdma_dma_quirk_name() - what a quirk bit reproduces, in a few words
 * @bit: one P2PDMA_QUIRK_* bit
 *
 * Return: the text, or NULL for an unknown bit.
 */
const char *p2pdma_dma_quirk_name(unsigned int bit);

/* --- the DMA view of a function and its IOMMU domain --- */

/**
 * p2pdma_dma_set_default_domain() - how the IOMMU groups start
 * @k: the kernel
 * @type: P2PDMA_DOMAIN_NONE (no IOMMU), _IDENTITY or _DMA
 *
 * Without this call the machine decides: no IOMMU when its source says
 * none, identity when its command line asks for passthrough (iommu=pt,
 * iommu.passthrough=1), a DMA domain otherwise. Must be called before the
 * first use of the DMA layer on the kernel.
 *
 * Return: 0, -EINVAL for another type, -EBUSY once the layer is in use.
 */
int p2pdma_dma_set_default_domain(struct p2pdma_kernel *k,
				  enum p2pdma_domain_type type);

/**
 * p2pdma_dma_default_domain_type() - the type the groups start with
 * @k: the kernel
 *
 * Return: the type (sets the layer up with the machine's defaults).
 */
enum p2pdma_domain_type p2pdma_dma_default_domain_type(struct p2pdma_kernel *k);

/**
 * p2pdma_dma_set_mask() - dma_set_mask_and_coherent()
 * @k: the kernel
 * @dev: the function
 * @mask: the highest DMA address it can emit (default all 64 bits)
 *
 * Return: 0, -EIO for a mask below 32 bits (as dma_supported() refuses
 * on x86 dma-direct), -EINVAL for a foreign function.
 */
int p2pdma_dma_set_mask(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			uint64_t mask);

/**
 * p2pdma_dma_domain() - the domain a function's DMA goes through now
 * @k: the kernel
 * @dev: the function
 * @out: the domain (NULL without an IOMMU)
 *
 * Return: 0 or -EINVAL (foreign function), -ENOMEM.
 */
int p2pdma_dma_domain(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		      struct p2pdma_iommu_domain **out);

/**
 * p2pdma_dma_group() - the function's IOMMU group as the DMA layer uses it
 * @k: the kernel
 * @dev: the function
 *
 * Groups are computed once, from the ACS state when the layer starts
 * (pci_device_group(), p2pdma/iommu.h), as the kernel forms them at probe.
 *
 * Return: the group number, or a negative errno.
 */
int p2pdma_dma_group(struct p2pdma_kernel *k, const struct p2pdma_dev *dev);

/**
 * p2pdma_iommu_domain_alloc() - iommu_paging_domain_alloc() and friends
 * @k: the kernel (it must have an IOMMU)
 * @type: P2PDMA_DOMAIN_UNMANAGED, _BLOCKED or _IDENTITY
 * @out: the new domain, attached to nothing
 *
 * Return: 0, -ENODEV without an IOMMU, -EINVAL for another type, -ENOMEM.
 */
int p2pdma_iommu_domain_alloc(struct p2pdma_kernel *k,
			      enum p2pdma_domain_type type,
			      struct p2pdma_iommu_domain **out);

/**
 * p2pdma_iommu_domain_free() - free a domain no group is attached to
 * @dom: the domain or NULL
 *
 * Return: 0, or -EBUSY while a group is attached (the domain is kept).
 */
int p2pdma_iommu_domain_free(struct p2pdma_iommu_domain *dom);

/**
 * p2pdma_iommu_domain_type() - the kind of a domain
 * @dom: the domain
 *
 * Return: the type.
 */
enum p2pdma_domain_type p2pdma_iommu_domain_type(const struct p2pdma_iommu_domain *dom);

/**
 * p2pdma_iommu_domain_id() - a number naming the domain in reports
 * @dom: the domain
 *
 * Return: the id (distinct per kernel).
 */
unsigned int p2pdma_iommu_domain_id(const struct p2pdma_iommu_domain *dom);

/**
 * p2pdma_iommu_attach_group() - iommu_attach_group(): the whole group moves
 * @k: the kernel
 * @dom: the domain, or NULL to return the group to its default domain
 * @dev: any function of the group
 *
 * Every function of @dev's IOMMU group translates through @dom from now
 * on. The DMA API keeps mapping into the default domain (as
 * iommu_get_dma_domain() does), so a driver using it while its group is
 * elsewhere sees its DMA fault.
 *
 * Return: 0, -ENODEV without an IOMMU, -EINVAL for a foreign function or
 * domain, -ENOMEM.
 */
int p2pdma_iommu_attach_group(struct p2pdma_kernel *k,
			      struct p2pdma_iommu_domain *dom,
			      const struct p2pdma_dev *dev);

/**
 * p2pdma_iommu_map() - iommu_map() into an unmanaged domain
 * @dom: the domain (P2PDMA_DOMAIN_UNMANAGED)
 * @iova: I/O virtual address, page aligned
 * @phys: CPU physical address, page aligned
 * @size: bytes, page aligned, non zero
 * @prot: P2PDMA_IOMMU_* bits
 *
 * Return: 0; -EINVAL (alignment, type, outside the 48-bit aperture),
 * -EEXIST when part of the range is mapped already (nothing changes),
 * -ENOMEM.
 */
int p2pdma_iommu_map(struct p2pdma_iommu_domain *dom, uint64_t iova,
		     uint64_t phys, uint64_t size, unsigned int prot);

/**
 * p2pdma_iommu_unmap() - iommu_unmap()
 * @dom: the domain
 * @iova: start, page aligned
 * @size: bytes, page aligned
 *
 * Large pages partly covered are split first.
 *
 * Return: the number of bytes that were mapped and are now unmapped.
 */
uint64_t p2pdma_iommu_unmap(struct p2pdma_iommu_domain *dom, uint64_t iova,
			    uint64_t size);

/**
 * p2pdma_iommu_iova_to_phys() - iommu_iova_to_phys(): walk the page table
 * @dom: the domain
 * @iova: the address
 * @phys: receives the physical address
 * @prot: if non-NULL, receives the P2PDMA_IOMMU_* bits of the mapping
 *
 * Identity domains translate to themselves; blocked domains never.
 *
 * Return: 0, or -ENOENT when nothing is mapped there.
 */
int p2pdma_iommu_iova_to_phys(const struct p2pdma_iommu_domain *dom,
			      uint64_t iova, uint64_t *phys, unsigned int *prot);

/**
 * p2pdma_iommu_alloc_iova() - reserve an IOVA range in a translating domain
 * @dom: the domain (DMA or UNMANAGED)
 * @size: bytes (rounded up to pages)
 * @limit: the highest address the range may end at
 * @out: the start
 *
 * The allocator of the DMA API (top down, size aligned, reserved PCI
 * windows skipped); owners of an unmanaged domain use it to place their
 * mappings.
 *
 * Return: 0, -EINVAL, -ENOSPC when no hole fits, -ENOMEM.
 */
int p2pdma_iommu_alloc_iova(struct p2pdma_iommu_domain *dom, uint64_t size,
			    uint64_t limit, uint64_t *out);

/**
 * p2pdma_iommu_free_iova() - release a range from p2pdma_iommu_alloc_iova()
 * @dom: the domain
 * @iova: its start
 *
 * Return: 0, or -ENOENT when no range starts there.
 */
int p2pdma_iommu_free_iova(struct p2pdma_iommu_domain *dom, uint64_t iova);

/* --- dma_map_phys() (doc/kernel-model.md §3.4) --- */

/**
 * p2pdma_dma_map_phys() - dma_map_phys()
 * @k: the kernel
 * @dev: the mapping device
 * @phys: CPU physical address
 * @len: bytes
 * @dir: direction
 * @attrs: P2PDMA_DMA_ATTR_* (P2PDMA_DMA_ATTR_MMIO for MMIO)
 *
 * dma-direct and identity domains: the physical address itself when the
 * mask covers it; otherwise a swiotlb bounce slot, never for MMIO (a
 * needed bounce of MMIO is a mapping error). DMA domains: a fresh IOVA
 * mapped with the direction's protection (and IOMMU_MMIO for MMIO).
 * Blocked or unmanaged default domains cannot be used.
 *
 * Return: the DMA address, or P2PDMA_DMA_MAPPING_ERROR (the reason is in
 * the context and the kernel log).
 */
uint64_t p2pdma_dma_map_phys(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			     uint64_t phys, uint64_t len, enum p2pdma_dma_dir dir,
			     unsigned long attrs);

/**
 * p2pdma_dma_mapping_error() - dma_mapping_error()
 * @addr: a result of p2pdma_dma_map_phys()
 *
 * Return: -ENOMEM for P2PDMA_DMA_MAPPING_ERROR, else 0.
 */
int p2pdma_dma_mapping_error(uint64_t addr);

/**
 * p2pdma_dma_unmap_phys() - dma_unmap_phys()
 * @k: the kernel
 * @dev: the device that mapped it
 * @addr: the DMA address
 * @len: bytes, as mapped
 * @dir: direction, as mapped
 * @attrs: as mapped
 *
 * Return: 0, or -ENOENT when @addr is no mapping of @dev (the kernel
 * would WARN; the model logs it).
 */
int p2pdma_dma_unmap_phys(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			  uint64_t addr, uint64_t len, enum p2pdma_dma_dir dir,
			  unsigned long attrs);

/* --- the IOVA two-step API (doc/kernel-model.md §3.4) --- */

/**
 * struct p2pdma_iova_state - struct dma_iova_state
 * @addr: the IOVA the range starts at (valid when in use)
 * @size: the size reserved; 0 when the IOVA API is not in use
 *
 * Zero it before p2pdma_dma_iova_try_alloc(), as the kernel's callers do.
 */
struct p2pdma_iova_state {
	uint64_t addr;
	uint64_t size;
};

/**
 * p2pdma_dma_iova_try_alloc() - dma_iova_try_alloc()
 * @k: the kernel
 * @dev: the device
 * @state: zeroed by the caller; filled when the API can be used
 * @phys: physical address of the first byte (its offset in the page is kept)
 * @size: bytes
 *
 * Only a device whose default domain is a DMA domain gets an IOVA; for
 * dma-direct and identity the state stays unused. A size with bit 63
 * (P2PDMA_DMA_IOVA_USE_SWIOTLB) set is refused with a WARN line.
 *
 * Return: true if the IOVA API is in use for @state.
 */
bool p2pdma_dma_iova_try_alloc(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			       struct p2pdma_iova_state *state, uint64_t phys,
			       uint64_t size);

/**
 * p2pdma_dma_use_iova() - dma_use_iova()
 * @state: the state
 *
 * Return: true if an IOVA range was reserved ("the IOVA API is in use").
 */
bool p2pdma_dma_use_iova(const struct p2pdma_iova_state *state);

/**
 * p2pdma_dma_iova_link() - dma_iova_link(): map a chunk into the range
 * @k: the kernel
 * @dev: the device
 * @state: a state in use
 * @phys: physical address of the chunk
 * @offset: where in the range (bytes from its start)
 * @size: bytes
 * @dir: direction
 * @attrs: P2PDMA_DMA_ATTR_MMIO and others
 *
 * The mapping is not visible to the device until p2pdma_dma_iova_sync()
 * (a DMA through it before is reported as unsynced).
 *
 * Return: 0; -EIO (a chunk not page aligned at a non-zero offset, WARN);
 * -EINVAL (state not in use, outside the range); -EEXIST when part of it
 * is linked already; -ENOMEM.
 */
int p2pdma_dma_iova_link(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			 struct p2pdma_iova_state *state, uint64_t phys,
			 uint64_t offset, uint64_t size, enum p2pdma_dma_dir dir,
			 unsigned long attrs);

/**
 * p2pdma_dma_iova_sync() - dma_iova_sync(): flush the IOTLB for a part
 * @k: the kernel
 * @dev: the device
 * @state: the state
 * @offset: from
 * @size: bytes
 *
 * Return: 0 or -EINVAL (state not in use).
 */
int p2pdma_dma_iova_sync(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			 struct p2pdma_iova_state *state, uint64_t offset,
			 uint64_t size);

/**
 * p2pdma_dma_iova_unlink() - dma_iova_unlink(): unmap part of the range
 * @k: the kernel
 * @dev: the device
 * @state: the state
 * @offset: from
 * @size: bytes
 * @dir: direction
 * @attrs: attributes
 */
void p2pdma_dma_iova_unlink(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			    struct p2pdma_iova_state *state, uint64_t offset,
			    uint64_t size, enum p2pdma_dma_dir dir,
			    unsigned long attrs);

/**
 * p2pdma_dma_iova_destroy() - dma_iova_destroy(): unmap and free the range
 * @k: the kernel
 * @dev: the device
 * @state: the state (unused afterwards)
 * @mapped_len: bytes linked from the start (0: only free)
 * @dir: direction
 * @attrs: attributes
 */
void p2pdma_dma_iova_destroy(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			     struct p2pdma_iova_state *state, uint64_t mapped_len,
			     enum p2pdma_dma_dir dir, unsigned long attrs);

/**
 * p2pdma_dma_iova_free() - dma_iova_free(): free a range with nothing linked
 * @k: the kernel
 * @dev: the device
 * @state: the state (unused afterwards)
 */
void p2pdma_dma_iova_free(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			  struct p2pdma_iova_state *state);

/* --- scatterlists of pages (doc/kernel-model.md §3.3) --- */

/**
 * struct p2pdma_sg_page - one entry of a page list to map
 * @provider: NULL for a system-memory page; else the P2P provider (a
 *            memory BAR) whose struct page this is
 * @phys: CPU physical address of the first byte
 * @len: bytes (within one page or a run of contiguous pages)
 */
struct p2pdma_sg_page {
	const struct p2pdma_provider *provider;
	uint64_t phys;
	uint32_t len;
};

/**
 * p2pdma_dma_map_sg() - dma_map_sgtable() over system and P2P pages
 * @k: the kernel
 * @dev: the mapping device
 * @pages: the list
 * @n: entries (at least one)
 * @dir: direction
 * @attrs: attributes
 * @out: the table: orig_nents = @n CPU entries, nents DMA entries
 *
 * Per entry, pci_p2pdma_state() (memoised per provider) decides:
 * system pages and THRU_HOST_BRIDGE map like memory (dma-direct or the
 * IOMMU); BUS_ADDR entries get the bus address, are marked and bypass the
 * IOMMU (and are skipped at unmap); NOT_SUPPORTED fails the whole call,
 * undoing every entry mapped before.
 *
 * Return: 0; -EREMOTEIO (a P2P page the device cannot reach), -EINVAL
 * (n == 0, a P2P page outside its provider's BAR, stale provider), -EIO
 * (mapping failed), -ENOMEM.
 */
int p2pdma_dma_map_sg(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		      const struct p2pdma_sg_page *pages, size_t n,
		      enum p2pdma_dma_dir dir, unsigned long attrs,
		      struct p2pdma_sgt **out);

/**
 * p2pdma_dma_unmap_sg() - dma_unmap_sgtable(), and free the table
 * @k: the kernel
 * @dev: the device that mapped it
 * @sgt: the table from p2pdma_dma_map_sg(), or NULL
 * @dir: direction
 * @attrs: attributes
 */
void p2pdma_dma_unmap_sg(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			 struct p2pdma_sgt *sgt, enum p2pdma_dma_dir dir,
			 unsigned long attrs);

/**
 * p2pdma_sgt_nents() - DMA entries of a table (sgt->nents)
 * @sgt: the table
 *
 * Return: the count.
 */
size_t p2pdma_sgt_nents(const struct p2pdma_sgt *sgt);

/**
 * p2pdma_sgt_orig_nents() - CPU entries of a table (sgt->orig_nents)
 * @sgt: the table
 *
 * Return: the count; 0 for a DMA-only table (dma_buf_phys_vec_to_sgt()).
 */
size_t p2pdma_sgt_orig_nents(const struct p2pdma_sgt *sgt);

/**
 * p2pdma_sgt_dma_address() - sg_dma_address() of an entry
 * @sgt: the table
 * @i: DMA entry index
 *
 * Return: the address, P2PDMA_DMA_MAPPING_ERROR past the end.
 */
uint64_t p2pdma_sgt_dma_address(const struct p2pdma_sgt *sgt, size_t i);

/**
 * p2pdma_sgt_dma_len() - sg_dma_len() of an entry (an unsigned int)
 * @sgt: the table
 * @i: DMA entry index
 *
 * Return: the length, 0 past the end.
 */
uint32_t p2pdma_sgt_dma_len(const struct p2pdma_sgt *sgt, size_t i);

/**
 * p2pdma_sgt_is_bus_address() - sg_dma_is_bus_address()
 * @sgt: the table
 * @i: DMA entry index
 *
 * Return: true for an entry that carries a PCI bus address (BUS_ADDR).
 */
bool p2pdma_sgt_is_bus_address(const struct p2pdma_sgt *sgt, size_t i);

/**
 * p2pdma_sgt_page() - the CPU side of an entry: sg_page() and sg_phys()
 * @sgt: the table
 * @i: CPU entry index
 * @provider: if non-NULL, receives the P2P provider (NULL: system page)
 * @phys: if non-NULL, receives the physical address
 *
 * Return: 0, or -ENOENT: a DMA-only table has no CPU list (page NULL).
 */
int p2pdma_sgt_page(const struct p2pdma_sgt *sgt, size_t i,
		    const struct p2pdma_provider **provider, uint64_t *phys);

/* How the DMA addresses of a table were made. */
enum p2pdma_sgt_kind {
	P2PDMA_SGT_MAP_SG = 0,	/* dma_map_sgtable() over pages (entries may mix bus and mapped addresses) */
	P2PDMA_SGT_BUS_ADDR = 1,	/* dma_buf_phys_vec_to_sgt(): PCI bus addresses, nothing mapped */
	P2PDMA_SGT_IOVA = 2,	/* dma_buf_phys_vec_to_sgt(): one IOVA span (dma_iova_link()) */
	P2PDMA_SGT_MAP_PHYS = 3,	/* dma_buf_phys_vec_to_sgt(): dma_map_phys() per range */
};

/**
 * p2pdma_sgt_kind() - which path made a table
 * @sgt: the table
 *
 * Return: map_sg over pages, or the mode dma_buf_phys_vec_to_sgt() took
 * (BUS_ADDR, one IOVA span, or dma_map_phys() per range).
 */
enum p2pdma_sgt_kind p2pdma_sgt_kind(const struct p2pdma_sgt *sgt);

/**
 * p2pdma_sgt_dma_bytes() - the sum of the DMA lengths
 * @sgt: the table
 *
 * Return: bytes.
 */
uint64_t p2pdma_sgt_dma_bytes(const struct p2pdma_sgt *sgt);

/* --- memory and the DMA engine --- */

/**
 * p2pdma_phys_write() - a CPU store to physical memory (RAM or a BAR)
 * @k: the kernel
 * @phys: CPU physical address
 * @buf: bytes
 * @len: count
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_phys_write(struct p2pdma_kernel *k, uint64_t phys, const void *buf,
		      size_t len);

/**
 * p2pdma_phys_read() - a CPU load (unwritten memory reads as zero)
 * @k: the kernel
 * @phys: CPU physical address
 * @buf: receives the bytes
 * @len: count
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_phys_read(struct p2pdma_kernel *k, uint64_t phys, void *buf, size_t len);

/**
 * p2pdma_phys_add_doorbell() - mark a range as a doorbell
 * @k: the kernel
 * @phys: CPU physical address (usually inside a BAR)
 * @len: bytes
 *
 * Every DMA or CPU write that touches it counts as one ring.
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int p2pdma_phys_add_doorbell(struct p2pdma_kernel *k, uint64_t phys, uint64_t len);

/**
 * p2pdma_phys_doorbell_rings() - how often a doorbell was written
 * @k: the kernel
 * @phys: an address inside it
 *
 * Return: the count, 0 if @phys is no doorbell.
 */
uint64_t p2pdma_phys_doorbell_rings(struct p2pdma_kernel *k, uint64_t phys);

/**
 * p2pdma_dma_write() - a DMA write issued by a device's engine
 * @k: the kernel
 * @dev: the initiator
 * @addr: the DMA address it was given (bus address, IOVA or physical)
 * @buf: bytes
 * @len: count
 *
 * Routed as the fabric routes it (see the top of this header). Nothing
 * lands when the request faults or touches memory of a revoked dma-buf:
 * every such event is a line in the kernel log.
 *
 * Return: 0 landed; -EFAULT IOMMU fault (unmapped, blocked, no write
 * permission, not yet synced); -EREMOTEIO the root complex does not
 * forward this peer-to-peer request; -EIO the target BAR does not decode
 * (memory disabled, D3hot); -ESTALE use after revoke (the log names the
 * importer and the range); -ENOMEM.
 */
int p2pdma_dma_write(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		     uint64_t addr, const void *buf, size_t len);

/**
 * p2pdma_dma_read() - a DMA read issued by a device's engine
 * @k: the kernel
 * @dev: the initiator
 * @addr: the DMA address
 * @buf: receives the bytes (unchanged on failure)
 * @len: count
 *
 * Return: as p2pdma_dma_write().
 */
int p2pdma_dma_read(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		    uint64_t addr, void *buf, size_t len);

/**
 * p2pdma_dma_set_decode() - whether a function's BARs answer memory requests
 * @k: the kernel
 * @dev: the function
 * @decode: false while memory decode is off or it is in D3hot/D3cold or reset
 *
 * The VFIO layer keeps it in step with its device model.
 *
 * Return: 0 or -EINVAL.
 */
int p2pdma_dma_set_decode(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			  bool decode);

#ifdef __cplusplus
}
#endif
#endif
