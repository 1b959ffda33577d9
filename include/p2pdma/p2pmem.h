/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/p2pmem.h - struct-page P2P memory: pools, user mappings, GUP, the O_DIRECT block path */
#ifndef P2PDMA_P2PMEM_H
#define P2PDMA_P2PMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p2pdma/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Layer B of doc/kernel-model.md §1.5 on a booted kernel object: the
 * ranges pci_p2pdma_add_resource() wraps in ZONE_DEVICE pages
 * (p2pdma_kernel_add_resource(), p2pdma/kernel.h), the per-function pool
 * over them, the p2pmem sysfs files, the one process whose mappings and
 * pins the model keeps, and block queues doing O_DIRECT into them.
 *
 * Addresses: a page is named by its CPU physical address. What
 * pci_alloc_p2pmem() returns is a kernel virtual address (the model's
 * linear map: physical + 0xffff888000000000). User addresses are the
 * process's.
 *
 * Every function here models one kernel function, named in its
 * kernel-doc, and logs what that function prints (p2pdma_kernel_log_entry()).
 * Where the kernel returns NULL or 0 for several failures, the model
 * returns distinct errnos and says which.
 *
 * Context: single-threaded, like the kernel object it hangs off.
 */

#define P2PDMA_PAGE_SIZE 4096ULL
/* memremap_compat_align() on x86-64 and arm64: the sub-section, 2 MiB. */
#define P2PDMA_SUBSECTION_SIZE (2ULL << 20)

/* --- the pool (pci_alloc_p2pmem() and friends) --- */

/**
 * p2pdma_p2pmem_alloc() - pci_alloc_p2pmem()
 * @k: the kernel
 * @dev: the providing function
 * @size: bytes, rounded up to pages
 * @owner: who allocates (shown when a teardown waits for it), or NULL
 * @kva: receives the kernel virtual address
 *
 * First fit over the pool's ranges, newest range first (genalloc's chunk
 * order), then a live reference on the range's pgmap.
 *
 * Return: 0; -EINVAL for @size 0; -ENODEV if @dev has no P2PDMA state or
 * no pool, or if the range found is being torn down (its reference is
 * dying); -ENOMEM if no range has @size contiguous free bytes or the
 * model runs out of memory. (The kernel returns NULL in every case.)
 */
int p2pdma_p2pmem_alloc(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			uint64_t size, const char *owner, uint64_t *kva);

/**
 * p2pdma_p2pmem_free() - pci_free_p2pmem()
 * @k: the kernel
 * @dev: the providing function
 * @kva: what p2pdma_p2pmem_alloc() returned
 * @size: the size allocated (compared in pages)
 *
 * Where the kernel would BUG() (an address outside the pool, a double
 * free) or silently unbalance the pgmap reference (a size or start that
 * is not an allocation), the model refuses, says so in the context and
 * leaves the pool as it was.
 *
 * Return: 0; -ENODEV if @dev has no pool (the kernel dereferences NULL);
 * -EINVAL for anything that is not exactly one live allocation of this
 * pool (another function's pool, a free page, a size mismatch).
 */
int p2pdma_p2pmem_free(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		       uint64_t kva, uint64_t size);

/**
 * p2pdma_p2pmem_virt_to_bus() - pci_p2pmem_virt_to_bus()
 * @k: the kernel
 * @dev: the providing function
 * @kva: an address in its pool
 *
 * The pool's "physical" address is the PCI bus address (the range was
 * added with pci_bus_address(bar) + offset).
 *
 * Return: the bus address; 0 for @kva 0 or a function without P2PDMA
 * state; ~0 (gen_pool_virt_to_phys()'s -1) for an address in no range.
 */
uint64_t p2pdma_p2pmem_virt_to_bus(struct p2pdma_kernel *k,
				   const struct p2pdma_dev *dev, uint64_t kva);

/**
 * p2pdma_p2pmem_virt_to_phys() - the CPU physical address behind a pool address
 * @k: the kernel
 * @kva: a kernel virtual address of the model's linear map
 *
 * Return: the physical address (virt_to_phys()), 0 if @kva is not in the
 * linear map.
 */
uint64_t p2pdma_p2pmem_virt_to_phys(const struct p2pdma_kernel *k, uint64_t kva);

struct p2pdma_sgl;

/**
 * p2pdma_p2pmem_alloc_sgl() - pci_p2pmem_alloc_sgl()
 * @k: the kernel
 * @dev: the providing function
 * @length: bytes
 * @out: receives a one-entry scatterlist over one contiguous allocation
 * @nents: receives 1
 *
 * Return: 0 or the errno of p2pdma_p2pmem_alloc() (the kernel: NULL).
 */
int p2pdma_p2pmem_alloc_sgl(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			    uint32_t length, struct p2pdma_sgl **out,
			    unsigned int *nents);

/**
 * p2pdma_p2pmem_free_sgl() - pci_p2pmem_free_sgl()
 * @k: the kernel
 * @dev: the providing function
 * @sgl: the list or NULL; freed in every case
 *
 * Return: 0, or the first errno of p2pdma_p2pmem_free() on an entry.
 */
int p2pdma_p2pmem_free_sgl(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			   struct p2pdma_sgl *sgl);

/**
 * p2pdma_sgl_nents() - entries of a scatterlist
 * @sgl: the list
 *
 * Return: the number of entries.
 */
unsigned int p2pdma_sgl_nents(const struct p2pdma_sgl *sgl);

/**
 * p2pdma_sgl_entry() - one entry: sg_virt(), sg->length, sg_phys()
 * @sgl: the list
 * @i: index
 * @kva: if non-NULL, receives the kernel virtual address
 * @length: if non-NULL, receives the length
 *
 * Return: the entry's CPU physical address, 0 past the end.
 */
uint64_t p2pdma_sgl_entry(const struct p2pdma_sgl *sgl, unsigned int i,
			  uint64_t *kva, uint32_t *length);

/**
 * struct p2pdma_pool_info - a function's pool as the kernel keeps it
 * @size: gen_pool_size(): bytes in all ranges (p2pmem/size)
 * @available: gen_pool_avail() (p2pmem/available)
 * @published: pci_p2pmem_publish() state (p2pmem/published)
 * @nranges: ranges added (one pgmap each)
 * @nallocs: live pci_alloc_p2pmem() allocations
 * @user_pages: pages held by user mappings or pins
 * @largest_free: longest contiguous free run of one range, bytes
 * @metadata_bytes: memory the model spends on its page metadata
 * @allocate_present: p2pmem/allocate exists (Linux 6.2 or later, and not yet
 *                    removed by a teardown)
 * @tearing_down: an unbind waits for pages to come back
 * @captured: adopted from a capture's p2pmem/ files at boot
 *
 * Filled by p2pdma_p2pmem_pool_get_info(); fields are only appended.
 */
struct p2pdma_pool_info {
	uint64_t size;
	uint64_t available;
	bool published;
	unsigned int nranges;
	size_t nallocs;
	uint64_t user_pages;
	uint64_t largest_free;
	uint64_t metadata_bytes;
	bool allocate_present;
	bool tearing_down;
	bool captured;
};

/**
 * p2pdma_p2pmem_pool_get_info() - read a function's pool
 * @k: the kernel
 * @dev: the function
 * @info: filled
 * @size: sizeof(*info) as the caller knows it
 *
 * Return: 0, -ENOENT if the function has no pool (no p2pmem/ directory).
 */
int p2pdma_p2pmem_pool_get_info(const struct p2pdma_kernel *k,
				const struct p2pdma_dev *dev,
				struct p2pdma_pool_info *info, size_t size);

/**
 * struct p2pdma_range_info - one range of a pool (one dev_pagemap)
 * @id: the pgmap's number in this kernel (1, 2, ...)
 * @bar: the BAR it lies in
 * @cpu: CPU physical start
 * @bus: PCI bus address of the start
 * @size: bytes
 * @kva: start in the kernel's linear map
 * @refs: the pgmap's reference count: live allocations plus user-held pages
 * @dying: its reference was killed (teardown started on it)
 *
 * Filled by p2pdma_p2pmem_range_get_info(); fields are only appended.
 */
struct p2pdma_range_info {
	uint32_t id;
	int bar;
	uint64_t cpu;
	uint64_t bus;
	uint64_t size;
	uint64_t kva;
	uint64_t refs;
	bool dying;
};

/**
 * p2pdma_p2pmem_range_get_info() - one range of a pool, in the order added
 * @k: the kernel
 * @dev: the function
 * @i: index (0 = the first added)
 * @info: filled
 * @size: sizeof(*info) as the caller knows it
 *
 * Return: 0, -ENOENT past the end or without a pool.
 */
int p2pdma_p2pmem_range_get_info(const struct p2pdma_kernel *k,
				 const struct p2pdma_dev *dev, unsigned int i,
				 struct p2pdma_range_info *info, size_t size);

/**
 * p2pdma_kernel_add_system_ram() - declare a System RAM range (/proc/iomem)
 * @k: the kernel
 * @start: first byte
 * @size: bytes
 *
 * memremap_pages() refuses ranges intersecting System RAM; topologies do
 * not carry the memory map, so the ranges are declared here. Anonymous
 * user memory is placed in the first one.
 *
 * Return: 0, -EINVAL for @size 0 or a wrapping range, -ENOMEM.
 */
int p2pdma_kernel_add_system_ram(struct p2pdma_kernel *k, uint64_t start,
				 uint64_t size);

/* --- the p2pmem sysfs files --- */

/**
 * p2pdma_p2pmem_sysfs_read() - read /sys/bus/pci/devices/BDF/p2pmem/ATTR
 * @k: the kernel
 * @dev: the function
 * @attr: "size", "available" or "published"
 * @buf: receives the text the kernel prints ("16777216\n")
 * @len: size of @buf
 *
 * Return: the length of the text; -ENOENT if the directory (or
 * `allocate`, once a teardown removed it) does not exist; -EINVAL for an
 * unknown attribute or "allocate" (mmap only).
 */
int p2pdma_p2pmem_sysfs_read(const struct p2pdma_kernel *k,
			     const struct p2pdma_dev *dev, const char *attr,
			     char *buf, size_t len);

/* mmap() flags of p2pdma_p2pmem_mmap(). */
#define P2PDMA_MMAP_SHARED 0x1	/* MAP_SHARED (VM_MAYSHARE); else private */

/**
 * p2pdma_p2pmem_mmap() - mmap() of p2pmem/allocate (p2pmem_alloc_mmap(), 6.2+)
 * @k: the kernel
 * @dev: the providing function
 * @len: bytes, rounded up to pages
 * @offset: the file offset
 * @flags: P2PDMA_MMAP_SHARED or 0
 * @uaddr: receives the user address
 *
 * Each call is an independent contiguous allocation; every page is
 * inserted with a reference of its own and returns to the pool when it
 * is unmapped (and unpinned).
 *
 * Return: 0; -ENOENT without the file (no pool, or a kernel before 6.2);
 * -EINVAL for @len 0, a private mapping or a non-zero offset (the last
 * two logged as the kernel does); -ENODEV once a teardown removed the
 * file or if P2PDMA state is gone or the range is dying; -ENOMEM if it
 * does not fit.
 */
int p2pdma_p2pmem_mmap(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		       uint64_t len, uint64_t offset, unsigned int flags,
		       uint64_t *uaddr);

/**
 * p2pdma_user_mmap_anon() - mmap(MAP_ANONYMOUS) of ordinary memory
 * @k: the kernel
 * @len: bytes, rounded up to pages
 * @uaddr: receives the user address
 *
 * Return: 0, -EINVAL for @len 0, -ENOMEM.
 */
int p2pdma_user_mmap_anon(struct p2pdma_kernel *k, uint64_t len, uint64_t *uaddr);

/**
 * p2pdma_user_munmap() - munmap()
 * @k: the kernel
 * @uaddr: page-aligned start
 * @len: bytes (rounded up to pages); parts of mappings may be unmapped
 *
 * P2P pages that are not pinned go back to their pool at once; pinned
 * ones when their last pin goes.
 *
 * Return: 0 (also for a range with nothing mapped), -EINVAL for an
 * unaligned address or @len 0, -ENOMEM (splitting a mapping).
 */
int p2pdma_user_munmap(struct p2pdma_kernel *k, uint64_t uaddr, uint64_t len);

/**
 * p2pdma_user_set_comm() - name the process (current->comm in messages)
 * @k: the kernel
 * @comm: up to 15 characters
 * @pid: its pid
 */
void p2pdma_user_set_comm(struct p2pdma_kernel *k, const char *comm, int pid);

/* --- GUP (mm/gup.c) --- */

#define P2PDMA_FOLL_WRITE	0x1	/* FOLL_WRITE */
#define P2PDMA_FOLL_LONGTERM	0x2	/* FOLL_LONGTERM */
#define P2PDMA_FOLL_PCI_P2PDMA	0x4	/* FOLL_PCI_P2PDMA */

/**
 * p2pdma_user_pin() - pin_user_pages()
 * @k: the kernel
 * @uaddr: page-aligned user address
 * @npages: pages wanted
 * @gup_flags: P2PDMA_FOLL_* bits
 * @pfns: receives the pinned pages (physical address >> 12)
 *
 * is_valid_gup_args() first: FOLL_LONGTERM with FOLL_PCI_P2PDMA is
 * refused with a WARN (once per boot) so that a pgmap can always be
 * removed. Then page by page: a P2PDMA page without FOLL_PCI_P2PDMA
 * fails with -EREMOTEIO, an address without a mapping (or whose PTEs a
 * teardown zapped) with -EFAULT. As GUP does, an error after the first
 * page ends the walk and the pages pinned so far are returned.
 * Each pin adds GUP_PIN_COUNTING_BIAS (1024) to the page's refcount.
 *
 * Return: the number of pages pinned (> 0), 0 for @npages 0, or a
 * negative errno if the first page failed (-EINVAL for unaligned
 * addresses, a NULL @pfns or the flag combination).
 */
long p2pdma_user_pin(struct p2pdma_kernel *k, uint64_t uaddr, unsigned long npages,
		     unsigned int gup_flags, uint64_t *pfns);

/**
 * p2pdma_user_unpin() - unpin_user_pages()
 * @k: the kernel
 * @pfns: pages p2pdma_user_pin() returned
 * @npages: how many
 *
 * A P2PDMA page whose mapping is gone returns to its pool with its last pin.
 *
 * Return: 0, -EINVAL if a page was not pinned (the kernel's refcount
 * would underflow; the others are still unpinned).
 */
int p2pdma_user_unpin(struct p2pdma_kernel *k, const uint64_t *pfns,
		      unsigned long npages);

/* --- pages, the map state helper, bus addresses (doc/kernel-model.md §3.2) --- */

/* What a page is. */
enum p2pdma_page_kind {
	P2PDMA_PAGE_UNKNOWN = 0,	/* no struct page the model knows */
	P2PDMA_PAGE_RAM = 1,		/* ordinary memory of the process */
	P2PDMA_PAGE_P2PDMA = 2,		/* ZONE_DEVICE, MEMORY_DEVICE_PCI_P2PDMA */
};

/* Who holds a P2PDMA page. */
enum p2pdma_page_state {
	P2PDMA_PAGE_FREE = 0,		/* in its pool */
	P2PDMA_PAGE_KERNEL = 1,		/* a pci_alloc_p2pmem() allocation */
	P2PDMA_PAGE_USER = 2,		/* mapped by a user mapping */
	P2PDMA_PAGE_PINNED = 3,		/* unmapped, held only by pins */
};

/**
 * struct p2pdma_page_info - the struct page of one address
 * @phys: the page's physical address
 * @kind: what the page is
 * @state: who holds it (P2PDMA pages)
 * @owner: the providing function (P2PDMA pages), else NULL
 * @provider: its provider (page->pgmap's p2p_pgmap->mem), else NULL
 * @pgmap: its dev_pagemap's number, 0 if none
 * @refcount: page_ref_count(): 1 per user mapping, 1024 per pin; pages
 *            of pci_alloc_p2pmem() allocations keep 0 (the allocation
 *            holds a pgmap reference instead)
 * @pins: FOLL_PIN pins
 *
 * Filled by p2pdma_page_get_info(); fields are only appended.
 */
struct p2pdma_page_info {
	uint64_t phys;
	enum p2pdma_page_kind kind;
	enum p2pdma_page_state state;
	const struct p2pdma_dev *owner;
	const struct p2pdma_provider *provider;
	uint32_t pgmap;
	uint32_t refcount;
	uint32_t pins;
};

/**
 * p2pdma_page_get_info() - the page metadata of a physical address
 * @k: the kernel
 * @phys: any address in the page
 * @info: filled
 * @size: sizeof(*info) as the caller knows it
 *
 * Return: 0 (kind UNKNOWN for an address the model has no page for).
 */
int p2pdma_page_get_info(const struct p2pdma_kernel *k, uint64_t phys,
			 struct p2pdma_page_info *info, size_t size);

/**
 * struct p2pdma_map_state - struct pci_p2pdma_map_state (6.19)
 * @mem: the provider the type was computed for
 * @map: the type
 *
 * Zero it before the first page, as kernel callers do.
 */
struct p2pdma_map_state {
	const struct p2pdma_provider *mem;
	enum p2pdma_map_type map;
};

/**
 * p2pdma_map_state_update() - pci_p2pdma_state()
 * @k: the kernel
 * @state: the caller's state, zeroed before the first page
 * @client: the DMA device (NULL: not a PCI device)
 * @phys: the page
 *
 * For a P2PDMA page, recompute the map type only when its provider
 * differs from the state's (memoised per provider), through
 * p2pdma_kernel_map_type() and its cache; any other page is MAP_NONE.
 *
 * Return: the map type for this page.
 */
enum p2pdma_map_type p2pdma_map_state_update(struct p2pdma_kernel *k,
					     struct p2pdma_map_state *state,
					     const struct p2pdma_dev *client,
					     uint64_t phys);

/**
 * p2pdma_provider_bus_addr_map() - pci_p2pdma_bus_addr_map()
 * @p: the provider
 * @phys: a CPU physical address in its BAR
 *
 * Return: @phys + bus_offset, the address a peer is given for BUS_ADDR;
 * ~0 for a stale provider (its function was unbound), which is logged.
 */
uint64_t p2pdma_provider_bus_addr_map(const struct p2pdma_provider *p, uint64_t phys);

/* --- block queues and O_DIRECT (doc/kernel-model.md §1.5) --- */

struct p2pdma_blkq;
struct p2pdma_blk_result;

/* Queue features. */
#define P2PDMA_BLK_FEAT_PCI_P2PDMA 0x1	/* BLK_FEAT_PCI_P2PDMA (QUEUE_FLAG_PCI_P2PDMA before 6.11) */

/**
 * p2pdma_blkq_create() - a block device's request queue
 * @k: the kernel
 * @dev: the function that DMAs (an NVMe controller)
 * @name: the disk's name ("nvme0n1")
 * @features: P2PDMA_BLK_FEAT_* (nvme-pci sets PCI_P2PDMA when its DMA ops
 *            support it)
 * @out: the queue, owned by the kernel (freed at shutdown or by
 *       p2pdma_blkq_destroy())
 *
 * Return: 0, -EINVAL (foreign function), -ENOMEM.
 */
int p2pdma_blkq_create(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		       const char *name, unsigned int features,
		       struct p2pdma_blkq **out);

/**
 * p2pdma_blkq_dev() - the function a queue's requests are DMAed by
 * @q: the queue
 *
 * Return: the function (of the kernel's topology).
 */
const struct p2pdma_dev *p2pdma_blkq_dev(const struct p2pdma_blkq *q);

/**
 * p2pdma_blkq_destroy() - remove a queue
 * @q: the queue or NULL
 */
void p2pdma_blkq_destroy(struct p2pdma_blkq *q);

/**
 * p2pdma_blk_result_create() - allocate an O_DIRECT result
 * @out: the result
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_blk_result_create(struct p2pdma_blk_result **out);

/**
 * p2pdma_blk_result_destroy() - free an O_DIRECT result
 * @res: the result or NULL
 */
void p2pdma_blk_result_destroy(struct p2pdma_blk_result *res);

/**
 * p2pdma_blkq_direct_io() - an O_DIRECT read or write on a queue
 * @q: the queue
 * @write: true for write(2) (data from the buffer to the disk)
 * @uaddr: the user buffer (512-byte aligned)
 * @len: bytes (a multiple of 512)
 * @res: NULL, or filled with the bios, their map types and DMA segments
 *
 * The pages are extracted with FOLL_PCI_P2PDMA only if the queue has
 * BLK_FEAT_PCI_P2PDMA (ITER_ALLOW_P2PDMA), else a P2PDMA page fails the
 * pin with -EREMOTEIO. Bios never mix P2PDMA pages of different pgmaps
 * with each other or with other pages. Each bio is mapped for the
 * queue's device with the map-state helper: BUS_ADDR gives bus addresses
 * (bypassing any IOMMU), THRU_HOST_BRIDGE and NONE the CPU physical
 * address (dma-direct); NOT_SUPPORTED fails the request: -EREMOTEIO
 * (dma_map_sgtable() -> BLK_STS_TARGET) before 6.17, -EINVAL
 * (blk-mq-dma's BLK_STS_INVAL) from 6.17. Pages are unpinned at
 * completion. The model reports the first failing bio's errno for the
 * whole request.
 *
 * Return: 0 (@len bytes moved) or a negative errno.
 */
int p2pdma_blkq_direct_io(struct p2pdma_blkq *q, bool write, uint64_t uaddr,
			  uint64_t len, struct p2pdma_blk_result *res);

/**
 * p2pdma_blk_result_errno() - how the request ended
 * @res: the result
 *
 * Return: 0 or the negative errno.
 */
int p2pdma_blk_result_errno(const struct p2pdma_blk_result *res);

/**
 * p2pdma_blk_result_num_bios() - bios the request was split into
 * @res: the result
 *
 * Return: the count (bios built before a failure included).
 */
size_t p2pdma_blk_result_num_bios(const struct p2pdma_blk_result *res);

/**
 * p2pdma_blk_result_bio() - one bio
 * @res: the result
 * @i: index
 * @map: if non-NULL, receives its map type (MAP_NONE: no P2PDMA page)
 * @provider: if non-NULL, receives its pages' provider (NULL for NONE)
 * @len: if non-NULL, receives its length
 *
 * Return: its number of DMA segments (0 if it was not mapped), -1 past the end.
 */
int p2pdma_blk_result_bio(const struct p2pdma_blk_result *res, size_t i,
			  enum p2pdma_map_type *map,
			  const struct p2pdma_provider **provider, uint64_t *len);

/**
 * p2pdma_blk_result_seg() - one DMA segment of a bio
 * @res: the result
 * @bio: bio index
 * @seg: segment index
 * @len: if non-NULL, receives its length
 * @bus: if non-NULL, receives whether it is a PCI bus address
 *       (sg_dma_mark_bus_address(): skipped at unmap)
 *
 * Return: the DMA address, 0 past the end.
 */
uint64_t p2pdma_blk_result_seg(const struct p2pdma_blk_result *res, size_t bio,
			       size_t seg, uint64_t *len, bool *bus);

/* --- teardown --- */

/**
 * p2pdma_p2pmem_teardown_wait() - wait for a blocked unbind
 * @k: the kernel
 * @dev: the function being unbound
 * @seconds: how long (model time)
 *
 * p2pdma_kernel_unbind() returns -EINPROGRESS while memunmap_pages()
 * waits for pages still held. This waits: model time advances, and once
 * a teardown has been blocked for hung_task_timeout_secs (120 s) the
 * kernel's hung-task line is logged. The context's message and a note
 * name every allocation and pinned page still held.
 *
 * Return: 0 if no teardown is pending, -ETIMEDOUT if it still waits.
 */
int p2pdma_p2pmem_teardown_wait(struct p2pdma_kernel *k,
				const struct p2pdma_dev *dev, unsigned int seconds);

#ifdef __cplusplus
}
#endif
#endif
