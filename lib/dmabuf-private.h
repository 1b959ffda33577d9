/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dmabuf-private.h - the dma-buf objects, for the VFIO layer and the importers */
#ifndef P2PDMA_DMABUF_PRIVATE_H
#define P2PDMA_DMABUF_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>

#include "dma-private.h"

struct fence_ent {
	struct p2pdma_fence *f;
	enum p2pdma_resv_usage usage;
};

struct p2pdma_dmabuf {
	struct p2pdma_dmasys *sys;
	atomic_long refs;
	char *exp_name;
	const struct p2pdma_dmabuf_ops *ops;
	uint64_t size;
	int flags;
	void *priv;
	pthread_mutex_t resv;		/* the reservation lock (struct dma_resv) */
	/* Under resv, and under the layer's lock for list changes: */
	struct p2pdma_dmabuf_attach *attachments;
	size_t nattach;
	/* Fences: resv held to add; fence_lock guards the array. */
	pthread_mutex_t fence_lock;
	struct fence_ent *fences;
	size_t nfences, capfences;
	long map_wait_ms;
	/* The provider of its MMIO, if any (for the unbind check). */
	const struct p2pdma_provider *provider;
	/* The layer's list of buffers (under its lock). */
	struct p2pdma_dmabuf *next, *prev;
};

struct p2pdma_dmabuf_attach {
	struct p2pdma_dmabuf *buf;
	const struct p2pdma_dev *dev;	/* the kernel's function, NULL: not PCI */
	int devidx;
	struct p2pdma_dmabuf_importer_ops ops;
	bool dynamic;
	bool peer2peer;
	void *importer_priv;
	void *priv;
	char *name;
	unsigned int pins;
	struct p2pdma_sgt *sgts;	/* mapped through this attachment (resv) */
	atomic_uint nmapped;
	atomic_uint kept;
	struct p2pdma_dmabuf_attach *next;
};

/* The reservation lock held by this thread? */
bool p2pdma_resv_held(const struct p2pdma_dmabuf *buf);
/* Take/drop without the convention checks (the layers' own paths). */
void p2pdma_resv_lock_raw(struct p2pdma_dmabuf *buf);
void p2pdma_resv_unlock_raw(struct p2pdma_dmabuf *buf);

/* Exporter-side revoke under the lock (caller holds resv): set the
 * guard's state, then move_notify. */
void p2pdma_dmabuf_revoke_locked(struct p2pdma_dmabuf *buf, bool revoked);

/* The single-range interconnect (resv held). */
int p2pdma_dmabuf_interconnect(struct p2pdma_dmabuf_attach *attach,
			       uint64_t *paddr, uint64_t *len);

#endif
