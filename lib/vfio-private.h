/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-private.h - the VFIO device model's state (lib/vfio.c, lib/vfio-real.c) */
#ifndef P2PDMA_VFIO_PRIVATE_H
#define P2PDMA_VFIO_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>

#include "p2pdma/vfio.h"
#include "dmabuf-private.h"

#define PCI_COMMAND_MEMORY	0x2
/* memdup_user() cannot allocate more (KMALLOC_MAX_SIZE, 4 KiB pages,
 * MAX_PAGE_ORDER 10 on x86-64). */
#define KMALLOC_MAX		(4ULL << 20)

/* struct vfio_pci_dma_buf */
struct vfio_buf {
	struct p2pdma_dmabuf *dmabuf;
	struct p2pdma_vfio_dev *vdev;		/* NULL once cleaned up */
	uint64_t size;
	struct p2pdma_phys_vec *phys;
	uint32_t nr_ranges;
	const struct p2pdma_provider *provider;
	atomic_bool revoked;
	struct vfio_buf *next;			/* vdev->dmabufs, under memory_lock */
};

struct p2pdma_vfio_dev {
	struct p2pdma_dmasys *sys;
	struct p2pdma_kernel *k;
	const struct p2pdma_dev *pdev;
	int di;
	struct p2pdma_vfio_bind_opts opts;
	pthread_mutex_t memory_lock;		/* vdev->memory_lock (write side) */
	unsigned int open_count;
	uint16_t cmd;				/* the virtual PCI_COMMAND */
	enum p2pdma_pci_power power;
	bool no_command_memory;			/* VFs: decode is the PF's */
	bool reset_works;
	bool pm_engaged;
	bool pm_wakeup;
	int registrations;			/* negative only after the 6.19 double put */
	struct vfio_buf *dmabufs;
	struct p2pdma_vfio_dev *next;		/* the layer's list */
};

/* The outcome of one check, for explain. */
struct vfio_step {
	char *text;
	int err;
};

struct vfio_importer_outcome {
	const struct p2pdma_dev *dev;
	enum p2pdma_map_type type;
	int err;
	char *text;
};

struct p2pdma_vfio_explain {
	struct vfio_step *steps;
	size_t nsteps, capsteps;
	char **notes;
	size_t nnotes, capnotes;
	struct vfio_importer_outcome *imp;
	size_t nimp, capimp;
	char reason[512];
	int result;
	bool oom;
};

#endif
