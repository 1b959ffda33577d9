/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dma-private.h - the DMA, dma-buf and VFIO layers' shared state (one per kernel) */
#ifndef P2PDMA_DMA_PRIVATE_H
#define P2PDMA_DMA_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "p2pdma/dma.h"
#include "p2pdma/dmabuf.h"
#include "p2pdma/iommu.h"
#include "context-private.h"
#include "kernel-private.h"

#define PAGE_SZ		P2PDMA_PAGE_SIZE
#define PAGE_MASK_LO	(PAGE_SZ - 1)
#define PT_ENTRIES	512
#define PT_LEVELS	4		/* 4 KiB, 2 MiB, 1 GiB leaves; 48-bit IOVA */
#define IOVA_APERTURE	(1ULL << 48)

/* Page-table entry bits (the physical address is in bits 12..51). */
#define PTE_PRESENT	0x1ULL
#define PTE_READ	0x2ULL
#define PTE_WRITE	0x4ULL
#define PTE_MMIO	0x8ULL
#define PTE_PENDING	0x10ULL		/* linked, IOTLB not synced yet */
#define PTE_ADDR_MASK	0x000ffffffffff000ULL

/* One level of a 4-level radix page table. */
struct pt_node {
	uint64_t pte[PT_ENTRIES];
	struct pt_node *child[PT_ENTRIES];
	unsigned int used;		/* present leaves + tables below */
};

/* An allocated (or reserved) range of an address allocator: [start, end). */
struct arange {
	uint64_t start;
	uint64_t end;
	bool reserved;
};

/* Sorted, non-overlapping ranges: the IOVA allocator and the swiotlb. */
struct aspace {
	struct arange *r;
	size_t n;
	size_t cap;
	uint64_t hint;			/* last allocation: top-down search starts below */
};

struct p2pdma_iommu_domain {
	struct p2pdma_dmasys *sys;
	enum p2pdma_domain_type type;
	unsigned int id;
	struct pt_node *root;
	struct aspace iova;
	unsigned int attached;		/* groups attached now */
	int default_of;			/* the group it is the default domain of, or -1 */
	/* The last 4 KiB leaf table written (a 2 MiB region): links of
	 * consecutive pages skip the walk. Dropped on every unmap. */
	struct pt_node *leaf;
	uint64_t leaf_base;
	struct p2pdma_iommu_domain *next;
};

struct dma_group {
	struct p2pdma_iommu_domain *def;	/* the default domain (NULL: no IOMMU) */
	struct p2pdma_iommu_domain *cur;	/* attached now */
};

/* One dma_map_phys() mapping alive, for unmap checks and swiotlb. */
struct phys_map {
	uint64_t addr;
	uint64_t len;
	uint64_t phys;
	uint64_t iova;			/* allocation start in the domain, or bounce slot */
	bool bounce;
	bool iommu;
	enum p2pdma_dma_dir dir;
};

struct dma_view {
	uint64_t mask;
	bool decode_off;
	struct phys_map *maps;
	size_t nmaps, capmaps;
};

/* A memory BAR of the machine, for routing DMA. */
struct bar_ent {
	uint64_t bus;
	uint64_t cpu;
	uint64_t size;
	uint32_t dev;
	int bar;
};

/* Sparse physical memory: 4 KiB pages allocated on first write. */
struct mem_page {
	uint64_t pfn_plus1;		/* 0: empty slot */
	uint8_t *data;
};

struct mem_store {
	struct mem_page *slots;
	size_t cap;			/* power of two */
	size_t used;
};

struct doorbell {
	uint64_t start;
	uint64_t end;
	uint64_t rings;
};

/* What the DMA engine knows of a buffer's memory and revoke state. */
struct guard {
	struct p2pdma_dmabuf *buf;
	struct p2pdma_phys_vec *ranges;	/* sorted by paddr */
	uint64_t *maxend;		/* prefix maximum of ends */
	size_t n;
	uint64_t lo, hi;
	bool revoked;
	struct guard *next;
};

struct p2pdma_dmasys {
	struct p2pdma_kernel *k;
	struct p2pdma_ctx *ctx;
	pthread_mutex_t lock;		/* the layer's lock (innermost) */
	bool ready;			/* groups, views, tables set up */
	unsigned int quirks;
	bool def_set;
	enum p2pdma_domain_type def_type;
	struct p2pdma_iommu_groups *groups;
	size_t ngroups;
	struct dma_group *grp;
	struct dma_view *view;		/* per function */
	uint32_t ndevs;
	struct p2pdma_iommu_domain *domains;
	unsigned int next_domain_id;
	struct bar_ent *bars;		/* sorted by bus address */
	struct bar_ent *bars_cpu;	/* sorted by CPU address */
	size_t nbars;
	struct arange *resv;		/* PCI windows reserved in DMA domains */
	size_t nresv;
	struct mem_store mem;
	struct doorbell *bells;
	size_t nbells, capbells;
	struct aspace swiotlb;
	struct guard *guards;
	/* dma-buf core */
	struct p2pdma_dmabuf *bufs;	/* every buffer alive */
	size_t nbufs;
	struct p2pdma_dmabuf **fds;
	int fd_limit;
	int fd_cap;
	atomic_ulong lock_violations;
	/* VFIO */
	struct p2pdma_vfio_dev *vfio_devs;
};

/* Model constants: the swiotlb pool (64 MiB below 4 GiB, 2 KiB slots). */
#define SWIOTLB_BASE	0x7c000000ULL
#define SWIOTLB_SIZE	(64ULL << 20)
#define SWIOTLB_SLOT	2048ULL

/* The layer of @k, locked / unlocked. sys_get() also runs the set-up. */
struct p2pdma_dmasys *p2pdma_dmasys(struct p2pdma_kernel *k);
void p2pdma_sys_lock(struct p2pdma_dmasys *sys);
void p2pdma_sys_unlock(struct p2pdma_dmasys *sys);
/* Under the lock: groups, views, tables. 0 or -ENOMEM. */
int p2pdma_sys_ready(struct p2pdma_dmasys *sys);

/* Function index of @d in the kernel's machine, or -1. */
int p2pdma_sys_devidx(struct p2pdma_dmasys *sys, const struct p2pdma_dev *d);

/* Allocation helpers of the model layers (fault injectable). */
void *p2pdma_sys_alloc(struct p2pdma_dmasys *sys, size_t size);
void *p2pdma_sys_zalloc(struct p2pdma_dmasys *sys, size_t n, size_t size);
/* Grow @*arr (element @size) to hold at least @need; 0 or -ENOMEM. */
int p2pdma_sys_grow(struct p2pdma_dmasys *sys, void **arr, size_t *cap,
		    size_t need, size_t size);
char *p2pdma_sys_strdup(struct p2pdma_dmasys *sys, const char *s);

/* Locked map-type query (pci_p2pdma_map_type() on the kernel). */
enum p2pdma_map_type p2pdma_sys_map_type(struct p2pdma_dmasys *sys,
					 const struct p2pdma_provider *provider,
					 const struct p2pdma_dev *client);

/* Log a WARNING line for a locking rule broken; counts it. */
void p2pdma_sys_lock_violation(struct p2pdma_dmasys *sys, const char *fn,
			       const char *rule);

/* Unlocked (caller holds the lock) variants used across files. */
uint64_t p2pdma_sys_map_phys(struct p2pdma_dmasys *sys, int di, uint64_t phys,
			     uint64_t len, enum p2pdma_dma_dir dir,
			     unsigned long attrs);
int p2pdma_sys_unmap_phys(struct p2pdma_dmasys *sys, int di, uint64_t addr,
			  uint64_t len, enum p2pdma_dma_dir dir, unsigned long attrs);
bool p2pdma_sys_iova_try_alloc(struct p2pdma_dmasys *sys, int di,
			       struct p2pdma_iova_state *st, uint64_t phys,
			       uint64_t size);
int p2pdma_sys_iova_link(struct p2pdma_dmasys *sys, int di,
			 struct p2pdma_iova_state *st, uint64_t phys,
			 uint64_t offset, uint64_t size, enum p2pdma_dma_dir dir,
			 unsigned long attrs);
/* The same with the device's default domain looked up by the caller. */
int p2pdma_sys_iova_link_dom(struct p2pdma_dmasys *sys, struct p2pdma_iommu_domain *d,
			     int di, struct p2pdma_iova_state *st, uint64_t phys,
			     uint64_t offset, uint64_t size, enum p2pdma_dma_dir dir,
			     unsigned long attrs);
int p2pdma_sys_iova_sync(struct p2pdma_dmasys *sys, int di,
			 struct p2pdma_iova_state *st, uint64_t offset,
			 uint64_t size);
void p2pdma_sys_iova_destroy(struct p2pdma_dmasys *sys, int di,
			     struct p2pdma_iova_state *st, uint64_t mapped);
struct p2pdma_iommu_domain *p2pdma_sys_cur_domain(struct p2pdma_dmasys *sys, int di);
struct p2pdma_iommu_domain *p2pdma_sys_def_domain(struct p2pdma_dmasys *sys, int di);
int p2pdma_sys_dma_rw(struct p2pdma_dmasys *sys, int di, uint64_t addr,
		      void *buf, size_t len, bool write);

/* The scatter-gather table (struct sg_table) of the model. */
#define SGE_BUS_ADDR	0x1u		/* sg_dma_mark_bus_address() */
#define SGE_BOUNCE	0x2u

/* 32 bytes, as struct scatterlist; the CPU length of a page entry is its
 * DMA length. Tables of dma_buf_phys_vec_to_sgt() are DMA-only: only @dma
 * and @dma_len are written and read. */
struct sg_ent {
	uint64_t dma;
	uint64_t phys;			/* CPU side (page tables) */
	const struct p2pdma_provider *prov;
	uint32_t dma_len;
	uint32_t flags;
};

enum sgt_kind { SGT_PAGES = 1, SGT_PHYS_VEC = 2 };

struct p2pdma_sgt {
	enum sgt_kind kind;
	size_t nents;
	size_t orig_nents;
	size_t cap;
	struct sg_ent *e;
	/* dma_buf_phys_vec_to_sgt(): struct dma_buf_dma */
	struct p2pdma_iova_state *state;	/* NULL: BUS_ADDR, no state */
	uint64_t size;
	int devidx;
	/* map_sg in a DMA domain: the IOVA allocation */
	uint64_t iova_base;
	uint64_t iova_len;
	/* which attachment mapped it (dma-buf core) */
	struct p2pdma_dmabuf_attach *owner;
	struct p2pdma_sgt *next_owned;
};

/* Allocate a table of @n entries (zeroed); NULL on failure. */
struct p2pdma_sgt *p2pdma_sgt_alloc(struct p2pdma_dmasys *sys, size_t n);
void p2pdma_sgt_free_table(struct p2pdma_sgt *sgt);

/* The guard registry (dmabuf.c fills it, the engine reads it). */
int p2pdma_sys_guard_set(struct p2pdma_dmasys *sys, struct p2pdma_dmabuf *buf,
			 const struct p2pdma_phys_vec *ranges, size_t nr,
			 bool keep_ranges, bool revoked);
void p2pdma_sys_guard_drop(struct p2pdma_dmasys *sys, struct p2pdma_dmabuf *buf);
/* Who imports @buf on device @di: the attachment's name or NULL. */
const char *p2pdma_dmabuf_importer_on(struct p2pdma_dmabuf *buf, int di);

/* Teardown and unbind hooks of the dma-buf and VFIO layers. */
void p2pdma_dmabuf_teardown(struct p2pdma_dmasys *sys);
void p2pdma_dmabuf_on_unbind(struct p2pdma_dmasys *sys, int di);
void p2pdma_vfio_teardown(struct p2pdma_dmasys *sys);
int p2pdma_vfio_on_unbind(struct p2pdma_dmasys *sys, int di);

/* Release-derived defaults of the quirks. */
unsigned int p2pdma_quirks_for_release(const char *release);

/* The thread-local held-lock registry of the reservation locks. */
bool p2pdma_resv_held_any(void);

#endif
