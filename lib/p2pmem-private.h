/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pmem-private.h - the struct-page layer's state: pgmaps, pools, the process, pins, queues */
#ifndef P2PDMA_P2PMEM_PRIVATE_H
#define P2PDMA_P2PMEM_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "p2pdma/p2pmem.h"
#include "ffmap-private.h"
#include "kernel-private.h"

/*
 * Addresses. A P2PDMA page is named by its CPU physical address (its pfn
 * is phys >> 12). The kernel maps a pgmap into its linear map uncached;
 * the model's linear map is phys + P2PDMA_KVA_BASE (x86-64's
 * page_offset_base without KASLR), so a pci_alloc_p2pmem() "pointer" is
 * a kernel virtual address in that window. User mappings start at
 * P2PDMA_UVA_BASE; anonymous (system RAM) pages get physical addresses
 * from the first System RAM range declared, or from 4 GiB up.
 */
#define P2PDMA_PAGE_SHIFT 12
#define P2PDMA_KVA_BASE 0xffff888000000000ULL
#define P2PDMA_UVA_BASE 0x00007f0000000000ULL
#define P2PDMA_RAM_BASE 0x0000000100000000ULL
/* FOLL_PIN adds this to a small folio's refcount per pin (mm/gup.c). */
#define P2PDMA_GUP_PIN_BIAS 1024
/* hung_task_timeout_secs' default. */
#define P2PDMA_HUNG_TASK_S 120

/* What holds a page of a pgmap (2 bits per page). */
enum p2pdma_pstate {
	PSTATE_FREE = 0,	/* in the pool */
	PSTATE_KERNEL = 1,	/* pci_alloc_p2pmem(): the allocation holds it */
	PSTATE_USER = 2,	/* inserted in a user mapping (refcount 1) */
	PSTATE_HELD = 3,	/* unmapped or zapped, still pinned */
};

/*
 * One pci_p2pdma_add_resource() range: the dev_pagemap (its percpu_ref),
 * the struct-page metadata of its pages, and the genalloc chunk over it
 * (gen_pool_add_owner(..., owner = &pgmap->ref)).
 */
struct p2pdma_pgmap {
	struct p2pdma_kernel *k;
	uint32_t dev;			/* owner function's index */
	struct p2pdma_provider *mem;	/* p2p_pgmap->mem */
	uint32_t id;			/* 1, 2, ... kernel-wide */
	uint64_t cpu, bus, size, npages;
	struct p2pdma_ffmap map;	/* the chunk's bitmap */
	uint8_t *state;			/* enum p2pdma_pstate, 4 pages a byte */
	uint64_t refs;			/* percpu_ref: allocations + user-held pages */
	uint64_t user_pages;		/* pages in PSTATE_USER or PSTATE_HELD */
	bool dying;			/* percpu_ref_kill() ran */
	bool dead;			/* memunmap_pages() finished */
	bool captured;			/* adopted from a capture's p2pmem/ */
	struct p2pdma_pgmap *next_chunk;	/* pool order: newest first */
	struct p2pdma_pgmap *next_global;	/* every pgmap of the kernel */
};

/* A live pci_alloc_p2pmem() allocation. */
struct p2pdma_kalloc {
	uint64_t kva;
	uint64_t npages;
	struct p2pdma_pgmap *pgmap;
	unsigned long id;		/* 1, 2, ... kernel-wide, for messages */
	char owner[32];			/* who allocated (a driver, a script handle) */
	struct p2pdma_kalloc *next;	/* hash chain */
};

/* pdev->p2pdma->pool and the p2pmem sysfs group of one function. */
struct p2pdma_kpool {
	struct p2pdma_pgmap *chunks;	/* newest first, as genalloc walks them */
	unsigned int nchunks;
	uint64_t size;			/* gen_pool_size() */
	uint64_t allocated;		/* size - gen_pool_avail() */
	bool allocate_removed;		/* teardown removed p2pmem/allocate */
	bool tearing_down;		/* remove() is blocked in memunmap_pages() */
	uint64_t teardown_start;	/* model clock, seconds */
	bool hung_reported;
	uint64_t unplaced;		/* captured bytes no BAR could hold */
	struct p2pdma_kalloc **buckets;	/* live allocations by kva */
	size_t nbuckets, nallocs;
};

/* A user VMA of the model's one process. */
enum p2pdma_vma_kind { VMA_ANON = 0, VMA_P2PMEM = 1 };

struct p2pdma_vma {
	uint64_t start, len;
	enum p2pdma_vma_kind kind;
	uint64_t phys;			/* physical address of the first page */
	struct p2pdma_pgmap *pgmap;	/* VMA_P2PMEM */
	bool zapped;			/* PTEs removed with p2pmem/allocate */
	struct p2pdma_vma *next;	/* by address */
};

struct p2pdma_pin {
	uint64_t pfn;
	uint32_t count;
	struct p2pdma_pin *next;
};

struct p2pdma_ram {
	uint64_t start, size;
};

/* What the struct-page layer keeps per kernel. */
struct p2pdma_kp2pmem {
	struct p2pdma_pgmap *pgmaps;	/* every pgmap, live or tearing down */
	uint32_t next_pgmap;
	unsigned long next_alloc;
	struct p2pdma_ram *ram;
	unsigned int nram;
	char comm[16];			/* current->comm of the process */
	int pid;
	uint64_t next_uaddr;
	uint64_t next_ram;		/* anonymous pages' physical addresses */
	struct p2pdma_vma *vmas;
	struct p2pdma_pin **pins;	/* hash by pfn */
	size_t npins_buckets, npinned;
	struct p2pdma_blkq *queues;
	uint64_t clock;			/* model time, seconds */
	bool warned_longterm;		/* WARN_ON_ONCE in is_valid_gup_args() */
	bool warned_ram;		/* WARN_ONCE in pagemap_range() */
};

/* The layer's state, made on first use; NULL on allocation failure. */
struct p2pdma_kp2pmem *p2pdma_kp2pmem_get(struct p2pdma_kernel *k);

/* The pgmap holding @phys, or NULL. */
struct p2pdma_pgmap *p2pdma_pgmap_of(const struct p2pdma_kernel *k, uint64_t phys);

/* Page state of page @i of @pg. */
static inline enum p2pdma_pstate p2pdma_pstate_get(const struct p2pdma_pgmap *pg, uint64_t i)
{
	return (enum p2pdma_pstate)((pg->state[i >> 2] >> ((i & 3) * 2)) & 3);
}

/* A user-held page lost its last reference: back to the pool (p2pdma_folio_free()). */
void p2pdma_pgmap_put_user_page(struct p2pdma_pgmap *pg, uint64_t idx);

/* Take @npages contiguous pages for a user mapping (pstate USER, one ref each). */
int p2pdma_pool_take_user(struct p2pdma_kernel *k, const struct p2pdma_dev *d,
			  uint64_t npages, struct p2pdma_pgmap **pg, uint64_t *idx);

/* Let every blocked teardown see the pages that came back; may finish unbinds. */
void p2pdma_p2pmem_progress(struct p2pdma_kernel *k);

static inline void p2pdma_pstate_set(struct p2pdma_pgmap *pg, uint64_t i,
				     enum p2pdma_pstate st)
{
	uint8_t *b = &pg->state[i >> 2];
	unsigned int sh = (unsigned int)(i & 3) * 2;

	*b = (uint8_t)((*b & ~(3u << sh)) | ((unsigned int)st << sh));
}

/* Pins of page @pfn (0 if none). */
uint32_t p2pdma_pin_count(const struct p2pdma_kernel *k, uint64_t pfn);

/* Hooks of the kernel object (lib/kernel.c). */
int p2pdma_p2pmem_adopt_captured(struct p2pdma_kernel *k);
/* pci_p2pdma_release()'s pool part: free a pool at the end of a binding. */
void p2pdma_kpool_destroy(struct p2pdma_kernel *k, struct p2pdma_kpool *pool);
/* Kernel shutdown: the process, pins, queues, leftover pgmaps. */
void p2pdma_kp2pmem_destroy(struct p2pdma_kernel *k);
/*
 * The devm teardown of the p2pmem parts of a binding, run by
 * p2pdma_kernel_unbind(): remove `allocate` (zap user PTEs), then per
 * range, newest first, kill the pgmap's ref and wait for every page.
 * Return: 0 when every page is back (the caller finishes the unbind),
 * -EINPROGRESS when remove() is blocked (the last put finishes it).
 */
int p2pdma_p2pmem_unbind(struct p2pdma_kernel *k, const struct p2pdma_dev *d);

/* Kernel version of the policy as P2PDMA_KV(major, minor). */
unsigned int p2pdma_k_version(const struct p2pdma_kernel *k);

#endif
