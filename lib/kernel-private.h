/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-private.h - the modelled running kernel's state, for the layers that hang off it */
#ifndef P2PDMA_KERNEL_PRIVATE_H
#define P2PDMA_KERNEL_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "p2pdma/kernel.h"
#include "verdict-private.h"

/*
 * The map-type cache of one provider function: the kernel's xarray
 * pdev->p2pdma->map_types, keyed by p2pdma_cache_key() of the client and
 * never invalidated while the binding lasts (doc/kernel-model.md §2.5).
 * Open addressing over (key + 1), 0 = empty slot.
 */
struct p2pdma_map_cache {
	uint32_t *keys;
	uint8_t *types;
	uint32_t cap;			/* power of two, 0 = nothing stored yet */
	uint32_t used;
};

/* struct p2pdma_provider: one per memory BAR of a function with p2pdma. */
struct p2pdma_provider {
	struct p2pdma_kernel *k;
	uint32_t dev;			/* index of the owner */
	int bar;
	uint64_t bus_offset;
	bool live;			/* false once the binding is gone */
	struct p2pdma_provider *next;	/* the kernel's list of every handle */
};

/* The p2pmem pool of a function (lib/p2pmem-private.h). */
struct p2pdma_kpool;
struct p2pdma_kp2pmem;

/* pdev->p2pdma: struct pci_p2pdma. */
struct p2pdma_kp2pdma {
	struct p2pdma_provider *mem[P2PDMA_NUM_BARS];	/* NULL: not a memory BAR */
	struct p2pdma_map_cache cache;
	bool published;
	struct p2pdma_kpool *pool;	/* NULL until add_resource */
};

/* What the kernel keeps per function. */
struct p2pdma_kdev {
	char *driver;			/* bound driver, NULL: unbound */
	struct p2pdma_kp2pdma *p2pdma;	/* NULL: no P2PDMA state */
};

struct p2pdma_klog_entry {
	enum p2pdma_klog_kind kind;
	enum p2pdma_note code;
	char *text;
};

/* A generation of the hardware: a sealed topology and its router. */
struct p2pdma_kgen {
	struct p2pdma_topo *topo;
	struct p2pdma_router *router;
	struct p2pdma_kgen *older;
};

struct p2pdma_kernel {
	struct p2pdma_ctx *ctx;
	struct p2pdma_policy *pol;	/* own copy */
	struct p2pdma_kgen *gen;	/* the newest generation */
	uint32_t ndevs;
	struct p2pdma_kdev *devs;	/* per function, by index */
	struct p2pdma_provider *providers; /* every handle ever made */
	bool whatif;
	char *boot_cmdline;
	uint64_t rng;			/* find_many's random state */
	struct p2pdma_klog_entry *log;
	size_t nlog;
	size_t caplog;
	struct p2pdma_kp2pmem *p2pmem;	/* the struct-page layer (lib/p2pmem.c) */
	struct p2pdma_dmasys *dma;	/* DMA, dma-buf and VFIO layers (lib/dma.c) */
};

/*
 * The DMA, dma-buf and VFIO layers (lib/dma-private.h): set up at boot,
 * torn down first at shutdown, asked before a driver unbinds (-EBUSY
 * refuses: VFIO holds the device while dma-bufs are registered).
 */
struct p2pdma_dmasys;
int p2pdma_dma_init(struct p2pdma_kernel *k);
void p2pdma_dma_teardown(struct p2pdma_kernel *k);
int p2pdma_dma_unbind(struct p2pdma_kernel *k, const struct p2pdma_dev *d);

/* The kernel's current topology and router. */
static inline const struct p2pdma_topo *p2pdma_k_topo(const struct p2pdma_kernel *k)
{
	return k->gen->topo;
}

/* @d as a function of the kernel's machine, or NULL (foreign). */
const struct p2pdma_dev *p2pdma_k_dev(const struct p2pdma_kernel *k,
				      const struct p2pdma_dev *d);

/* Append a log entry (also sent to the context log). */
void p2pdma_klog(struct p2pdma_kernel *k, enum p2pdma_klog_kind kind,
		 enum p2pdma_note code, const char *fmt, ...) P2PDMA_PRINTF(4, 5);

/* A kernel line with dev_printk's prefix: "<driver or pci> <BDF>: ". */
void p2pdma_klog_dev(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		     const char *fmt, ...) P2PDMA_PRINTF(3, 4);

/* Map @d to the kernel's function or fail with -EINVAL and a message. */
int p2pdma_k_dev_of(const struct p2pdma_kernel *k, const struct p2pdma_dev *d,
		    const struct p2pdma_dev **out);

/* pcim_p2pdma_init() without the bound-driver check; idempotent. */
int p2pdma_k_p2pdma_init(struct p2pdma_kernel *k, const struct p2pdma_dev *d);

/* The end of an unbind: pci_p2pdma_release() and the driver goes. */
void p2pdma_k_unbind_finish(struct p2pdma_kernel *k, uint32_t dev);

#endif
