// SPDX-License-Identifier: LGPL-2.1-or-later
/* importer.c - importing drivers of the model: RDMA (dynamic, pinned), iommufd, hostile, static (doc/kernel-model.md §4.7) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf-private.h"

struct p2pdma_importer {
	struct p2pdma_kernel *k;
	struct p2pdma_dmasys *sys;
	enum p2pdma_importer_kind kind;
	const struct p2pdma_dev *dev;
	char *name;
	struct p2pdma_dmabuf *buf;
	struct p2pdma_dmabuf_attach *attach;
	struct p2pdma_sgt *sgt;		/* under the buffer's reservation lock */
	unsigned int pins;		/* dma_buf_pin() calls not undone */
	unsigned int flags;		/* P2PDMA_IMPORTER_NO_* */
	atomic_uint notifications;
	/* iommufd */
	struct p2pdma_iommu_domain *dom;
	uint64_t iova;
	uint64_t len;
	bool iova_mapped;		/* the IOVA is reserved (and was mapped) */
	bool revoked;			/* iommufd: revoked for good */
};

static const char *const kind_names[] = {
	[P2PDMA_IMPORTER_RDMA_DYNAMIC] = "rdma-dynamic",
	[P2PDMA_IMPORTER_RDMA_PINNED] = "rdma-pinned",
	[P2PDMA_IMPORTER_IOMMUFD] = "iommufd",
	[P2PDMA_IMPORTER_HOSTILE] = "hostile",
	[P2PDMA_IMPORTER_STATIC] = "static",
};

P2PDMA_EXPORT const char *p2pdma_importer_kind_name(enum p2pdma_importer_kind kind)
{
	if ((unsigned int)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "unknown";
	return kind_names[kind];
}

/* mlx5_ib_dmabuf_invalidate_cb(): zap the mapping now, fault it back later. */
static void rdma_move_notify(struct p2pdma_dmabuf_attach *a)
{
	struct p2pdma_importer *imp = p2pdma_dmabuf_attach_importer_priv(a);

	atomic_fetch_add(&imp->notifications, 1);
	if (imp->sgt) {
		p2pdma_dmabuf_unmap_attachment(a, imp->sgt, P2PDMA_DMA_BIDIRECTIONAL);
		imp->sgt = NULL;
	}
}

/* ib_umem_dmabuf_unsupported_move_notify(): a warning, nothing else. */
static void pinned_move_notify(struct p2pdma_dmabuf_attach *a)
{
	struct p2pdma_importer *imp = p2pdma_dmabuf_attach_importer_priv(a);

	atomic_fetch_add(&imp->notifications, 1);
	p2pdma_sys_lock(imp->sys);
	p2pdma_klog(imp->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
		    "%s: Invalidate callback should not be called when memory is pinned", imp->name);
	p2pdma_sys_unlock(imp->sys);
}

/* iopt_revoke_notify(): unmap from the domain; revoked stays revoked. */
static void iommufd_move_notify(struct p2pdma_dmabuf_attach *a)
{
	struct p2pdma_importer *imp = p2pdma_dmabuf_attach_importer_priv(a);

	atomic_fetch_add(&imp->notifications, 1);
	if (imp->revoked)
		return;
	if (imp->iova_mapped)
		p2pdma_iommu_unmap(imp->dom, imp->iova, imp->len);
	imp->revoked = true;
}

static void hostile_move_notify(struct p2pdma_dmabuf_attach *a)
{
	struct p2pdma_importer *imp = p2pdma_dmabuf_attach_importer_priv(a);

	atomic_fetch_add(&imp->notifications, 1);
}

static const struct p2pdma_dmabuf_importer_ops rdma_ops = { true, rdma_move_notify };
static const struct p2pdma_dmabuf_importer_ops pinned_ops = { true, pinned_move_notify };
static const struct p2pdma_dmabuf_importer_ops iommufd_ops = { true, iommufd_move_notify };
static const struct p2pdma_dmabuf_importer_ops hostile_ops = { true, hostile_move_notify };

P2PDMA_EXPORT int p2pdma_importer_create(struct p2pdma_kernel *k,
					 enum p2pdma_importer_kind kind,
					 const struct p2pdma_dev *dev, const char *name,
					 struct p2pdma_importer **out)
{
	struct p2pdma_dmasys *sys = k->dma;
	struct p2pdma_importer *imp;
	char buf[64];
	int ret;

	*out = NULL;
	if (!sys)
		return -ENOMEM;
	if ((unsigned int)kind > P2PDMA_IMPORTER_STATIC)
		return p2pdma_err(k->ctx, -EINVAL, "unknown importer kind %d", (int)kind);
	if (!dev || !p2pdma_k_dev(k, dev))
		return p2pdma_err(k->ctx, -EINVAL, "an importer needs a function of the kernel's machine");
	imp = p2pdma_sys_zalloc(sys, 1, sizeof(*imp));
	if (!imp)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	imp->k = k;
	imp->sys = sys;
	imp->kind = kind;
	imp->dev = p2pdma_k_dev(k, dev);
	snprintf(buf, sizeof(buf), "%s@%s", kind_names[kind], imp->dev->name);
	imp->name = p2pdma_sys_strdup(sys, name ? name : buf);
	if (!imp->name) {
		free(imp);
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	}
	if (kind == P2PDMA_IMPORTER_IOMMUFD) {
		ret = p2pdma_iommu_domain_alloc(k, P2PDMA_DOMAIN_UNMANAGED, &imp->dom);
		if (!ret) {
			ret = p2pdma_iommu_attach_group(k, imp->dom, imp->dev);
			if (ret)
				p2pdma_iommu_domain_free(imp->dom);
		}
		if (ret) {
			free(imp->name);
			free(imp);
			return ret;
		}
	}
	*out = imp;
	return 0;
}

P2PDMA_EXPORT void p2pdma_importer_destroy(struct p2pdma_importer *imp)
{
	if (!imp)
		return;
	if (imp->buf)
		p2pdma_importer_release(imp);
	if (imp->dom) {
		p2pdma_iommu_attach_group(imp->k, NULL, imp->dev);
		p2pdma_iommu_domain_free(imp->dom);
	}
	free(imp->name);
	free(imp);
}

/* The mapping path under the lock: the RDMA page fault. */
static int map_locked(struct p2pdma_importer *imp)
{
	if (imp->sgt)
		return 0;
	return p2pdma_dmabuf_map_attachment(imp->attach, P2PDMA_DMA_BIDIRECTIONAL, &imp->sgt);
}

static int iommufd_map_locked(struct p2pdma_importer *imp)
{
	uint64_t paddr, len;
	int ret;

	if (imp->revoked)
		return p2pdma_err(imp->k->ctx, -ENODEV, "%s: the buffer was revoked (iommufd does not come back)",
				  imp->name);
	if (imp->iova_mapped)
		return 0;
	ret = p2pdma_dmabuf_interconnect(imp->attach, &paddr, &len);
	if (ret)
		return p2pdma_err(imp->k->ctx, ret, "%s: %s", imp->name,
				  ret == -EOPNOTSUPP ? "iommufd takes only single-range VFIO dma-bufs" :
				  ret == -ENODEV ? "the buffer is revoked" : "no physical range");
	ret = p2pdma_iommu_alloc_iova(imp->dom, len, ~0ULL, &imp->iova);
	if (ret)
		return p2pdma_err(imp->k->ctx, ret, "%s: no IOVA space", imp->name);
	ret = p2pdma_iommu_map(imp->dom, imp->iova, paddr, len,
			       P2PDMA_IOMMU_READ | P2PDMA_IOMMU_WRITE | P2PDMA_IOMMU_MMIO);
	if (ret) {
		p2pdma_iommu_free_iova(imp->dom, imp->iova);
		return ret;
	}
	imp->len = len;
	imp->iova_mapped = true;
	return 0;
}

P2PDMA_EXPORT int p2pdma_importer_set_flags(struct p2pdma_importer *imp, unsigned int flags)
{
	if (imp->buf)
		return p2pdma_err(imp->k->ctx, -EBUSY, "%s holds a buffer: its ops are set", imp->name);
	if (flags & ~(P2PDMA_IMPORTER_NO_PEER2PEER | P2PDMA_IMPORTER_NO_MOVE_NOTIFY))
		return p2pdma_err(imp->k->ctx, -EINVAL, "%s: unknown importer flags %#x", imp->name, flags);
	if (flags && imp->kind == P2PDMA_IMPORTER_STATIC)
		return p2pdma_err(imp->k->ctx, -EINVAL, "%s: a static importer has no ops to change",
				  imp->name);
	imp->flags = flags;
	return 0;
}

/* dma_buf_dynamic_attach() with the kind's ops (static: none). */
static int attach_only(struct p2pdma_importer *imp, struct p2pdma_dmabuf *buf)
{
	struct p2pdma_dmabuf_importer_ops ops;
	const struct p2pdma_dmabuf_importer_ops *base = NULL;
	int ret;

	if (imp->buf)
		return p2pdma_err(imp->k->ctx, -EBUSY, "%s holds a buffer already", imp->name);
	switch (imp->kind) {
	case P2PDMA_IMPORTER_RDMA_DYNAMIC: base = &rdma_ops; break;
	case P2PDMA_IMPORTER_RDMA_PINNED: base = &pinned_ops; break;
	case P2PDMA_IMPORTER_IOMMUFD: base = &iommufd_ops; break;
	case P2PDMA_IMPORTER_HOSTILE: base = &hostile_ops; break;
	case P2PDMA_IMPORTER_STATIC: base = NULL; break;
	}
	if (base) {
		ops = *base;
		if (imp->flags & P2PDMA_IMPORTER_NO_PEER2PEER)
			ops.allow_peer2peer = false;
		if (imp->flags & P2PDMA_IMPORTER_NO_MOVE_NOTIFY)
			ops.move_notify = NULL;
	}
	ret = p2pdma_dmabuf_dynamic_attach(buf, imp->dev, base ? &ops : NULL, imp, &imp->attach);
	if (ret)
		return ret;
	/* The importer's own reference (the caller's keeps @buf alive until
	 * here; a put on failure could itself break the lock rule). */
	p2pdma_dmabuf_ref(buf);
	imp->buf = buf;
	imp->revoked = false;
	p2pdma_dmabuf_attach_set_name(imp->attach, imp->name);
	return 0;
}

P2PDMA_EXPORT int p2pdma_importer_attach(struct p2pdma_importer *imp, struct p2pdma_dmabuf *buf)
{
	return attach_only(imp, buf);
}

P2PDMA_EXPORT int p2pdma_importer_import(struct p2pdma_importer *imp,
					 struct p2pdma_dmabuf *buf)
{
	int ret = attach_only(imp, buf);

	if (ret)
		return ret;
	switch (imp->kind) {
	case P2PDMA_IMPORTER_RDMA_DYNAMIC:
		return 0;	/* maps on first access */
	case P2PDMA_IMPORTER_RDMA_PINNED:
		ret = p2pdma_dmabuf_resv_lock(buf);
		if (ret)
			break;
		ret = p2pdma_dmabuf_pin(imp->attach);
		if (!ret) {
			imp->pins++;
			ret = map_locked(imp);
		}
		p2pdma_dmabuf_resv_unlock(buf);
		break;
	case P2PDMA_IMPORTER_IOMMUFD:
		ret = p2pdma_dmabuf_resv_lock(buf);
		if (ret)
			break;
		ret = iommufd_map_locked(imp);
		p2pdma_dmabuf_resv_unlock(buf);
		break;
	case P2PDMA_IMPORTER_HOSTILE:
		ret = p2pdma_dmabuf_resv_lock(buf);
		if (ret)
			break;
		ret = map_locked(imp);
		p2pdma_dmabuf_resv_unlock(buf);
		break;
	case P2PDMA_IMPORTER_STATIC:
		ret = p2pdma_dmabuf_map_attachment_unlocked(imp->attach, P2PDMA_DMA_BIDIRECTIONAL,
							    &imp->sgt);
		break;
	}
	if (ret)
		p2pdma_importer_release(imp);
	return ret;
}

/* The iommufd IOVA: unmapped unless revoked (then it is already), freed. */
static void iommufd_drop(struct p2pdma_importer *imp)
{
	if (!imp->iova_mapped)
		return;
	if (!imp->revoked)
		p2pdma_iommu_unmap(imp->dom, imp->iova, imp->len);
	p2pdma_iommu_free_iova(imp->dom, imp->iova);
	imp->iova_mapped = false;
}

P2PDMA_EXPORT int p2pdma_importer_release(struct p2pdma_importer *imp)
{
	struct p2pdma_dmabuf *buf = imp->buf;
	int ret;

	if (!buf)
		return -ENOENT;
	/* The unmap, unpin and detach take the lock: a caller holding it
	 * would deadlock (the lock rule's WARNING says so). */
	ret = p2pdma_dmabuf_resv_lock(buf);
	if (ret)
		return p2pdma_err(imp->k->ctx, ret, "%s: release with the reservation lock held",
				  imp->name);
	if (imp->sgt) {
		p2pdma_dmabuf_unmap_attachment(imp->attach, imp->sgt, P2PDMA_DMA_BIDIRECTIONAL);
		imp->sgt = NULL;
	}
	while (imp->pins && !p2pdma_dmabuf_unpin(imp->attach))
		imp->pins--;
	imp->pins = 0;
	p2pdma_dmabuf_resv_unlock(buf);
	iommufd_drop(imp);
	p2pdma_dmabuf_detach(buf, imp->attach);
	imp->attach = NULL;
	imp->buf = NULL;
	p2pdma_dmabuf_put(buf);
	return 0;
}

P2PDMA_EXPORT int p2pdma_importer_detach(struct p2pdma_importer *imp)
{
	struct p2pdma_dmabuf *buf = imp->buf;
	int ret;

	if (!buf)
		return -ENOENT;
	ret = p2pdma_dmabuf_detach(buf, imp->attach);
	if (ret)
		return ret;
	/* The core unmapped and unpinned what was left: the table is gone. */
	imp->sgt = NULL;
	imp->pins = 0;
	iommufd_drop(imp);
	imp->attach = NULL;
	imp->buf = NULL;
	p2pdma_dmabuf_put(buf);
	return 0;
}

P2PDMA_EXPORT int p2pdma_importer_pin(struct p2pdma_importer *imp)
{
	int ret;

	if (!imp->buf)
		return p2pdma_err(imp->k->ctx, -ENOENT, "%s holds no buffer", imp->name);
	ret = p2pdma_dmabuf_pin(imp->attach);
	if (!ret)
		imp->pins++;
	return ret;
}

P2PDMA_EXPORT int p2pdma_importer_unpin(struct p2pdma_importer *imp)
{
	int ret;

	if (!imp->buf)
		return p2pdma_err(imp->k->ctx, -ENOENT, "%s holds no buffer", imp->name);
	ret = p2pdma_dmabuf_unpin(imp->attach);
	if (!ret && imp->pins)
		imp->pins--;
	return ret;
}

P2PDMA_EXPORT int p2pdma_importer_map_attachment(struct p2pdma_importer *imp, bool unlocked)
{
	struct p2pdma_sgt *sgt = NULL;
	int ret;

	if (!imp->buf)
		return p2pdma_err(imp->k->ctx, -ENOENT, "%s holds no buffer", imp->name);
	if (imp->sgt)
		return p2pdma_err(imp->k->ctx, -EBUSY, "%s holds a mapping already (one per importer)",
				  imp->name);
	ret = unlocked ? p2pdma_dmabuf_map_attachment_unlocked(imp->attach, P2PDMA_DMA_BIDIRECTIONAL, &sgt) :
	      p2pdma_dmabuf_map_attachment(imp->attach, P2PDMA_DMA_BIDIRECTIONAL, &sgt);
	if (!ret)
		imp->sgt = sgt;
	return ret;
}

P2PDMA_EXPORT int p2pdma_importer_unmap_attachment(struct p2pdma_importer *imp, bool unlocked)
{
	int ret;

	if (!imp->buf || !imp->sgt)
		return p2pdma_err(imp->k->ctx, -ENOENT, "%s holds no mapping", imp->name);
	ret = unlocked ? p2pdma_dmabuf_unmap_attachment_unlocked(imp->attach, imp->sgt, P2PDMA_DMA_BIDIRECTIONAL) :
	      p2pdma_dmabuf_unmap_attachment(imp->attach, imp->sgt, P2PDMA_DMA_BIDIRECTIONAL);
	if (!ret)
		imp->sgt = NULL;
	return ret;
}

P2PDMA_EXPORT int p2pdma_importer_map(struct p2pdma_importer *imp)
{
	int ret;

	if (!imp->buf)
		return -ENOENT;
	ret = p2pdma_dmabuf_resv_lock(imp->buf);
	if (ret)
		return ret;
	if (imp->kind == P2PDMA_IMPORTER_IOMMUFD)
		ret = iommufd_map_locked(imp);
	else
		ret = map_locked(imp);
	p2pdma_dmabuf_resv_unlock(imp->buf);
	return ret;
}

/* The DMA address of @offset in the table: the entries in order. */
static int sgt_addr(const struct p2pdma_sgt *s, uint64_t offset, uint64_t *addr,
		    uint64_t *room)
{
	size_t i;

	for (i = 0; i < p2pdma_sgt_nents(s); i++) {
		uint64_t l = p2pdma_sgt_dma_len(s, i);

		if (offset < l) {
			*addr = p2pdma_sgt_dma_address(s, i) + offset;
			*room = l - offset;
			return 0;
		}
		offset -= l;
	}
	return -EINVAL;
}

static int imp_access(struct p2pdma_importer *imp, uint64_t offset, void *data,
		  size_t len, bool write)
{
	struct p2pdma_dmabuf *buf = imp->buf;
	uint8_t *p = data;
	int ret = 0;

	if (!buf)
		return p2pdma_err(imp->k->ctx, -ENOENT, "%s holds no buffer", imp->name);
	if (offset + len < offset || offset + len > p2pdma_dmabuf_size(buf))
		return p2pdma_err(imp->k->ctx, -EINVAL, "%s: access beyond the buffer", imp->name);
	if (imp->kind == P2PDMA_IMPORTER_IOMMUFD) {
		/* The device uses its IOVA whatever happened to the mapping. */
		if (!imp->iova_mapped)
			return p2pdma_err(imp->k->ctx, -ENOENT, "%s: not mapped", imp->name);
		return write ? p2pdma_dma_write(imp->k, imp->dev, imp->iova + offset, data, len) :
			       p2pdma_dma_read(imp->k, imp->dev, imp->iova + offset, data, len);
	}
	ret = p2pdma_dmabuf_resv_lock(buf);
	if (ret)	/* its fault path takes the lock: held here, a deadlock */
		return p2pdma_err(imp->k->ctx, ret, "%s: DMA with the reservation lock held by this thread",
				  imp->name);
	if (!imp->sgt) {
		if (imp->kind == P2PDMA_IMPORTER_RDMA_DYNAMIC)
			ret = map_locked(imp);	/* the page fault maps again */
		else
			ret = p2pdma_err(imp->k->ctx, -ENOENT, "%s: not mapped", imp->name);
	}
	while (!ret && len) {
		uint64_t addr, room;
		size_t chunk;

		ret = sgt_addr(imp->sgt, offset, &addr, &room);
		if (ret)
			break;
		chunk = room < len ? (size_t)room : len;
		ret = write ? p2pdma_dma_write(imp->k, imp->dev, addr, p, chunk) :
			      p2pdma_dma_read(imp->k, imp->dev, addr, p, chunk);
		p += chunk;
		offset += chunk;
		len -= chunk;
	}
	p2pdma_dmabuf_resv_unlock(buf);
	return ret;
}

P2PDMA_EXPORT int p2pdma_importer_write(struct p2pdma_importer *imp, uint64_t offset,
					const void *data, size_t len)
{
	return imp_access(imp, offset, (void *)(uintptr_t)data, len, true);
}

P2PDMA_EXPORT int p2pdma_importer_read(struct p2pdma_importer *imp, uint64_t offset,
				       void *data, size_t len)
{
	return imp_access(imp, offset, data, len, false);
}

P2PDMA_EXPORT bool p2pdma_importer_mapped(struct p2pdma_importer *imp)
{
	bool m;

	if (!imp->buf)
		return false;
	if (imp->kind == P2PDMA_IMPORTER_IOMMUFD)
		return imp->iova_mapped && !imp->revoked;
	if (p2pdma_dmabuf_resv_held(imp->buf))
		return imp->sgt != NULL;	/* a query, not a locking path */
	p2pdma_resv_lock_raw(imp->buf);
	m = imp->sgt != NULL;
	p2pdma_resv_unlock_raw(imp->buf);
	return m;
}

P2PDMA_EXPORT unsigned int p2pdma_importer_notifications(struct p2pdma_importer *imp)
{
	return atomic_load(&imp->notifications);
}

P2PDMA_EXPORT int p2pdma_importer_dma_address(struct p2pdma_importer *imp,
					      uint64_t offset, uint64_t *addr)
{
	uint64_t room;
	int ret;

	if (!imp->buf)
		return -ENOENT;
	if (offset >= p2pdma_dmabuf_size(imp->buf))
		return -EINVAL;
	if (imp->kind == P2PDMA_IMPORTER_IOMMUFD) {
		if (!imp->iova_mapped)
			return -ENOENT;
		*addr = imp->iova + offset;
		return 0;
	}
	if (p2pdma_dmabuf_resv_held(imp->buf))
		return imp->sgt ? sgt_addr(imp->sgt, offset, addr, &room) : -ENOENT;
	p2pdma_resv_lock_raw(imp->buf);
	ret = imp->sgt ? sgt_addr(imp->sgt, offset, addr, &room) : -ENOENT;
	p2pdma_resv_unlock_raw(imp->buf);
	return ret;
}

P2PDMA_EXPORT struct p2pdma_dmabuf_attach *
p2pdma_importer_attachment(struct p2pdma_importer *imp)
{
	return imp->attach;
}

P2PDMA_EXPORT const struct p2pdma_sgt *p2pdma_importer_sgt(struct p2pdma_importer *imp)
{
	return imp->sgt;
}

P2PDMA_EXPORT const char *p2pdma_importer_name(const struct p2pdma_importer *imp)
{
	return imp->name;
}
