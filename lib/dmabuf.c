// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmabuf.c - the dma-buf core: export, handles, attachments, locking, fences, phys_vec_to_sgt (doc/kernel-model.md §4) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmabuf-private.h"
#include "p2pdma/p2pmem.h"

/* --- the reservation lock and its convention (§4.4) --- */

#define MAX_HELD 16

/* Which reservation locks this thread holds (as lockdep's held_locks). */
static _Thread_local const struct p2pdma_dmabuf *held[MAX_HELD];
static _Thread_local int nheld;

bool p2pdma_resv_held(const struct p2pdma_dmabuf *buf)
{
	int i;

	for (i = 0; i < nheld; i++)
		if (held[i] == buf)
			return true;
	return false;
}

bool p2pdma_resv_held_any(void)
{
	return nheld > 0;
}

void p2pdma_resv_lock_raw(struct p2pdma_dmabuf *buf)
{
	pthread_mutex_lock(&buf->resv);
	if (nheld < MAX_HELD)
		held[nheld++] = buf;
}

void p2pdma_resv_unlock_raw(struct p2pdma_dmabuf *buf)
{
	int i;

	for (i = nheld - 1; i >= 0; i--) {
		if (held[i] == buf) {
			held[i] = held[--nheld];
			break;
		}
	}
	pthread_mutex_unlock(&buf->resv);
}

/* An entry point that needs the lock. */
static int need_held(struct p2pdma_dmabuf *buf, const char *fn)
{
	if (p2pdma_resv_held(buf))
		return 0;
	p2pdma_sys_lock_violation(buf->sys, fn, "called without the reservation lock held");
	return p2pdma_err(buf->sys->ctx, -EDEADLK,
			  "%s(): the caller must hold the buffer's reservation lock", fn);
}

/* An entry point that takes the lock itself. */
static int need_unheld(struct p2pdma_dmabuf *buf, const char *fn)
{
	if (!p2pdma_resv_held(buf))
		return 0;
	p2pdma_sys_lock_violation(buf->sys, fn, "called with the reservation lock held");
	return p2pdma_err(buf->sys->ctx, -EDEADLK,
			  "%s(): must not be called with the buffer's reservation lock held", fn);
}

P2PDMA_EXPORT int p2pdma_dmabuf_resv_lock(struct p2pdma_dmabuf *buf)
{
	if (p2pdma_resv_held(buf)) {
		p2pdma_sys_lock_violation(buf->sys, "dma_resv_lock",
					  "taken twice by one thread (deadlock)");
		return -EDEADLK;
	}
	p2pdma_resv_lock_raw(buf);
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_resv_unlock(struct p2pdma_dmabuf *buf)
{
	if (!p2pdma_resv_held(buf)) {
		p2pdma_sys_lock_violation(buf->sys, "dma_resv_unlock", "released by a thread that does not hold it");
		return -EPERM;
	}
	p2pdma_resv_unlock_raw(buf);
	return 0;
}

P2PDMA_EXPORT bool p2pdma_dmabuf_resv_held(struct p2pdma_dmabuf *buf)
{
	return p2pdma_resv_held(buf);
}

P2PDMA_EXPORT unsigned long p2pdma_dmabuf_lock_violations(struct p2pdma_kernel *k)
{
	return k->dma ? atomic_load(&k->dma->lock_violations) : 0;
}

/* --- export, references, descriptors (§4.1) --- */

static void klog_warn(struct p2pdma_dmasys *sys, const char *fmt, const char *a)
{
	p2pdma_sys_lock(sys);
	p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE, fmt, a);
	p2pdma_sys_unlock(sys);
}

P2PDMA_EXPORT int p2pdma_dmabuf_export(struct p2pdma_kernel *k,
				       const struct p2pdma_dmabuf_export_info *info,
				       struct p2pdma_dmabuf **out)
{
	struct p2pdma_dmasys *sys = k->dma;
	const struct p2pdma_dmabuf_ops *ops;
	struct p2pdma_dmabuf *buf;

	*out = NULL;
	if (!sys)
		return -ENOMEM;
	if (!info || info->struct_size < sizeof(*info)) {
		klog_warn(sys, "WARNING: dma_buf_export(): %s", "export info too small (struct_size)");
		return p2pdma_err(k->ctx, -EINVAL, "dma_buf_export(): struct_size must be sizeof(struct p2pdma_dmabuf_export_info)");
	}
	ops = info->ops;
	if (!info->priv || !ops || !ops->map || !ops->unmap || !ops->release) {
		klog_warn(sys, "WARNING: dma_buf_export(): %s",
			  !info->priv ? "no priv" : !ops ? "no ops" :
			  "ops without map_dma_buf, unmap_dma_buf or release");
		return p2pdma_err(k->ctx, -EINVAL,
				  "dma_buf_export(): priv, ops and the ops map, unmap and release are mandatory");
	}
	if (!ops->pin != !ops->unpin) {
		klog_warn(sys, "WARNING: dma_buf_export(): %s", "exactly one of pin and unpin");
		return p2pdma_err(k->ctx, -EINVAL, "dma_buf_export(): pin and unpin come together");
	}
	buf = p2pdma_sys_zalloc(sys, 1, sizeof(*buf));
	if (!buf)
		return p2pdma_err(k->ctx, -ENOMEM, "dma_buf_export(): out of memory");
	buf->exp_name = p2pdma_sys_strdup(sys, info->exp_name ? info->exp_name : "unknown");
	if (!buf->exp_name || pthread_mutex_init(&buf->resv, NULL)) {
		free(buf->exp_name);
		free(buf);
		return p2pdma_err(k->ctx, -ENOMEM, "dma_buf_export(): out of memory");
	}
	if (pthread_mutex_init(&buf->fence_lock, NULL)) {
		pthread_mutex_destroy(&buf->resv);
		free(buf->exp_name);
		free(buf);
		return p2pdma_err(k->ctx, -ENOMEM, "dma_buf_export(): out of memory");
	}
	buf->sys = sys;
	atomic_init(&buf->refs, 1);
	buf->ops = ops;
	buf->size = info->size;
	buf->flags = info->flags & (03 | P2PDMA_O_NONBLOCK);
	buf->priv = info->priv;
	buf->map_wait_ms = -1;
	p2pdma_sys_lock(sys);
	buf->next = sys->bufs;
	if (sys->bufs)
		sys->bufs->prev = buf;
	sys->bufs = buf;
	sys->nbufs++;
	p2pdma_sys_unlock(sys);
	*out = buf;
	return 0;
}

P2PDMA_EXPORT void p2pdma_dmabuf_ref(struct p2pdma_dmabuf *buf)
{
	atomic_fetch_add(&buf->refs, 1);
}

static void free_attach(struct p2pdma_dmabuf_attach *a)
{
	struct p2pdma_sgt *s, *sn;

	for (s = a->sgts; s; s = sn) {
		sn = s->next_owned;
		p2pdma_sgt_free_table(s);
	}
	free(a->name);
	free(a);
}

/* The last reference: dma_buf_release(). The exporter's release runs
 * first: an exporter that unlinks the buffer under its own lock (VFIO)
 * then never sees it again before the guard and the list let go of it. */
static void release(struct p2pdma_dmabuf *buf)
{
	struct p2pdma_dmasys *sys = buf->sys;
	struct p2pdma_dmabuf_attach *a, *an;
	size_t i;

	buf->ops->release(buf);
	p2pdma_sys_lock(sys);
	if (buf->attachments)
		p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "WARNING: dma_buf_release(): %zu attachment(s) of a %s buffer still attached",
			    buf->nattach, buf->exp_name);
	if (buf->prev)
		buf->prev->next = buf->next;
	else
		sys->bufs = buf->next;
	if (buf->next)
		buf->next->prev = buf->prev;
	sys->nbufs--;
	p2pdma_sys_guard_drop(sys, buf);
	p2pdma_sys_unlock(sys);
	for (a = buf->attachments; a; a = an) {
		an = a->next;
		free_attach(a);
	}
	for (i = 0; i < buf->nfences; i++)
		p2pdma_fence_put(buf->fences[i].f);
	free(buf->fences);
	pthread_mutex_destroy(&buf->fence_lock);
	pthread_mutex_destroy(&buf->resv);
	free(buf->exp_name);
	free(buf);
}

P2PDMA_EXPORT int p2pdma_dmabuf_put(struct p2pdma_dmabuf *buf)
{
	int ret;

	if (!buf)
		return 0;
	ret = need_unheld(buf, "dma_buf_put");
	if (ret)
		return ret;
	if (atomic_fetch_sub(&buf->refs, 1) == 1)
		release(buf);
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_fd(struct p2pdma_dmabuf *buf, int flags)
{
	struct p2pdma_dmasys *sys;
	int fd, ret;

	(void)flags;	/* get_unused_fd_flags(): only O_CLOEXEC, kept by the fd */
	if (!buf)
		return -EINVAL;
	sys = buf->sys;
	p2pdma_sys_lock(sys);
	for (fd = 3; fd < sys->fd_limit; fd++)
		if (fd >= sys->fd_cap || !sys->fds[fd])
			break;
	if (fd >= sys->fd_limit) {
		p2pdma_sys_unlock(sys);
		return p2pdma_err(sys->ctx, -EMFILE, "dma_buf_fd(): no free descriptor below the limit %d",
				  sys->fd_limit);
	}
	if (fd >= sys->fd_cap) {
		size_t cap = (size_t)sys->fd_cap;

		ret = p2pdma_sys_grow(sys, (void **)&sys->fds, &cap, (size_t)fd + 1,
				      sizeof(*sys->fds));
		if (ret) {
			p2pdma_sys_unlock(sys);
			return p2pdma_err(sys->ctx, ret, "dma_buf_fd(): out of memory");
		}
		sys->fd_cap = (int)cap;
	}
	sys->fds[fd] = buf;
	p2pdma_sys_unlock(sys);
	return fd;
}

P2PDMA_EXPORT int p2pdma_dmabuf_get(struct p2pdma_kernel *k, int fd,
				    struct p2pdma_dmabuf **out)
{
	struct p2pdma_dmasys *sys = k->dma;
	int ret = 0;

	*out = NULL;
	if (!sys)
		return -EBADF;
	if (fd >= 0 && fd < 3)
		return p2pdma_err(k->ctx, -EINVAL, "dma_buf_get(%d): not a dma-buf", fd);
	p2pdma_sys_lock(sys);
	if (fd < 0 || fd >= sys->fd_cap || !sys->fds[fd]) {
		ret = p2pdma_err(k->ctx, -EBADF, "dma_buf_get(%d): bad file descriptor", fd);
	} else {
		*out = sys->fds[fd];
		atomic_fetch_add(&(*out)->refs, 1);
	}
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT int p2pdma_dmabuf_close_fd(struct p2pdma_kernel *k, int fd)
{
	struct p2pdma_dmasys *sys = k->dma;
	struct p2pdma_dmabuf *buf;

	if (!sys)
		return -EBADF;
	p2pdma_sys_lock(sys);
	if (fd < 3 || fd >= sys->fd_cap || !sys->fds[fd]) {
		p2pdma_sys_unlock(sys);
		return -EBADF;
	}
	buf = sys->fds[fd];
	sys->fds[fd] = NULL;
	p2pdma_sys_unlock(sys);
	if (atomic_fetch_sub(&buf->refs, 1) == 1)
		release(buf);
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_set_fd_limit(struct p2pdma_kernel *k, int limit)
{
	if (!k->dma || limit < 3)
		return -EINVAL;
	p2pdma_sys_lock(k->dma);
	k->dma->fd_limit = limit;
	p2pdma_sys_unlock(k->dma);
	return 0;
}

P2PDMA_EXPORT uint64_t p2pdma_dmabuf_size(const struct p2pdma_dmabuf *buf)
{
	return buf->size;
}

P2PDMA_EXPORT const char *p2pdma_dmabuf_exp_name(const struct p2pdma_dmabuf *buf)
{
	return buf->exp_name;
}

P2PDMA_EXPORT void *p2pdma_dmabuf_priv(const struct p2pdma_dmabuf *buf)
{
	return buf->priv;
}

P2PDMA_EXPORT int p2pdma_dmabuf_file_flags(const struct p2pdma_dmabuf *buf)
{
	return buf->flags;
}

P2PDMA_EXPORT bool p2pdma_dmabuf_is_dynamic(const struct p2pdma_dmabuf *buf)
{
	return buf->ops->pin != NULL;
}

P2PDMA_EXPORT size_t p2pdma_dmabuf_num_attachments(struct p2pdma_dmabuf *buf)
{
	size_t n;

	p2pdma_sys_lock(buf->sys);
	n = buf->nattach;
	p2pdma_sys_unlock(buf->sys);
	return n;
}

P2PDMA_EXPORT struct p2pdma_kernel *p2pdma_dmabuf_kernel(const struct p2pdma_dmabuf *buf)
{
	return buf->sys->k;
}

P2PDMA_EXPORT size_t p2pdma_kernel_num_dmabufs(struct p2pdma_kernel *k)
{
	size_t n;

	if (!k->dma)
		return 0;
	p2pdma_sys_lock(k->dma);
	n = k->dma->nbufs;
	p2pdma_sys_unlock(k->dma);
	return n;
}

/* --- attachments (§4.2) --- */

P2PDMA_EXPORT int p2pdma_dmabuf_dynamic_attach(struct p2pdma_dmabuf *buf,
					       const struct p2pdma_dev *dev,
					       const struct p2pdma_dmabuf_importer_ops *ops,
					       void *importer_priv,
					       struct p2pdma_dmabuf_attach **out)
{
	struct p2pdma_dmasys *sys = buf->sys;
	struct p2pdma_dmabuf_attach *a;
	int ret;

	*out = NULL;
	ret = need_unheld(buf, "dma_buf_dynamic_attach");
	if (ret)
		return ret;
	if (ops && !ops->move_notify) {
		klog_warn(sys, "WARNING: dma_buf_dynamic_attach(): %s", "importer ops without move_notify");
		return p2pdma_err(sys->ctx, -EINVAL, "dma_buf_dynamic_attach(): importer ops need move_notify");
	}
	a = p2pdma_sys_zalloc(sys, 1, sizeof(*a));
	if (!a)
		return p2pdma_err(sys->ctx, -ENOMEM, "dma_buf_attach(): out of memory");
	a->buf = buf;
	a->devidx = -1;
	if (dev) {
		p2pdma_sys_lock(sys);
		a->dev = p2pdma_k_dev(sys->k, dev);
		p2pdma_sys_unlock(sys);
		if (!a->dev) {
			free(a);
			return p2pdma_err(sys->ctx, -EINVAL, "dma_buf_attach(): %s is not a function of the kernel's machine",
					  dev->name);
		}
		a->devidx = (int)a->dev->index;
	}
	a->name = p2pdma_sys_strdup(sys, a->dev ? a->dev->name : "non-PCI device");
	if (!a->name) {
		free(a);
		return p2pdma_err(sys->ctx, -ENOMEM, "dma_buf_attach(): out of memory");
	}
	if (ops) {
		a->ops = *ops;
		a->dynamic = true;
		a->peer2peer = ops->allow_peer2peer;
	}
	a->importer_priv = importer_priv;
	/* The exporter's attach runs first, without the lock; it may refuse. */
	if (buf->ops->attach) {
		ret = buf->ops->attach(buf, a);
		if (ret) {
			free(a->name);
			free(a);
			return ret;
		}
	}
	p2pdma_resv_lock_raw(buf);
	p2pdma_sys_lock(sys);
	a->next = buf->attachments;
	buf->attachments = a;
	buf->nattach++;
	p2pdma_sys_unlock(sys);
	p2pdma_resv_unlock_raw(buf);
	*out = a;
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_attach(struct p2pdma_dmabuf *buf,
				       const struct p2pdma_dev *dev,
				       struct p2pdma_dmabuf_attach **out)
{
	return p2pdma_dmabuf_dynamic_attach(buf, dev, NULL, NULL, out);
}

static bool pin_on_map(const struct p2pdma_dmabuf_attach *a)
{
	return a->buf->ops->pin &&
	       (!a->dynamic || !(a->buf->sys->quirks & P2PDMA_QUIRK_MOVE_NOTIFY));
}

/* Unmap one table of an attachment (resv held). */
static void unmap_one(struct p2pdma_dmabuf_attach *a, struct p2pdma_sgt *s,
		      enum p2pdma_dma_dir dir)
{
	struct p2pdma_sgt **pp;

	p2pdma_sys_lock(a->buf->sys);
	for (pp = &a->sgts; *pp; pp = &(*pp)->next_owned)
		if (*pp == s) {
			*pp = s->next_owned;
			break;
		}
	atomic_fetch_sub(&a->nmapped, 1);
	p2pdma_sys_unlock(a->buf->sys);
	s->owner = NULL;
	s->next_owned = NULL;
	a->buf->ops->unmap(a, s, dir);
	if (pin_on_map(a) && a->buf->ops->unpin)
		a->buf->ops->unpin(a);
}

P2PDMA_EXPORT int p2pdma_dmabuf_detach(struct p2pdma_dmabuf *buf,
				       struct p2pdma_dmabuf_attach *attach)
{
	struct p2pdma_dmasys *sys = buf->sys;
	struct p2pdma_dmabuf_attach **pp;
	int ret = need_unheld(buf, "dma_buf_detach");

	if (ret)
		return ret;
	if (!attach || attach->buf != buf)
		return p2pdma_err(sys->ctx, -EINVAL, "dma_buf_detach(): not an attachment of this buffer");
	p2pdma_resv_lock_raw(buf);
	if (attach->sgts) {
		p2pdma_sys_lock(sys);
		p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "WARNING: dma_buf_detach(): %s detaches with %u mapping(s) of a %s buffer: unmapped now",
			    attach->name, atomic_load(&attach->nmapped), buf->exp_name);
		p2pdma_sys_unlock(sys);
		while (attach->sgts)
			unmap_one(attach, attach->sgts, P2PDMA_DMA_BIDIRECTIONAL);
	}
	while (attach->pins && buf->ops->unpin) {
		buf->ops->unpin(attach);
		attach->pins--;
	}
	p2pdma_sys_lock(sys);
	for (pp = &buf->attachments; *pp; pp = &(*pp)->next)
		if (*pp == attach) {
			*pp = attach->next;
			buf->nattach--;
			break;
		}
	p2pdma_sys_unlock(sys);
	p2pdma_resv_unlock_raw(buf);
	if (buf->ops->detach)
		buf->ops->detach(buf, attach);
	free_attach(attach);
	return 0;
}

P2PDMA_EXPORT struct p2pdma_dmabuf *
p2pdma_dmabuf_attach_buf(const struct p2pdma_dmabuf_attach *attach)
{
	return attach->buf;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_dmabuf_attach_dev(const struct p2pdma_dmabuf_attach *attach)
{
	return attach->dev;
}

P2PDMA_EXPORT void *p2pdma_dmabuf_attach_priv(const struct p2pdma_dmabuf_attach *attach)
{
	return attach->priv;
}

P2PDMA_EXPORT void p2pdma_dmabuf_attach_set_priv(struct p2pdma_dmabuf_attach *attach,
						 void *priv)
{
	attach->priv = priv;
}

P2PDMA_EXPORT void *
p2pdma_dmabuf_attach_importer_priv(const struct p2pdma_dmabuf_attach *attach)
{
	return attach->importer_priv;
}

P2PDMA_EXPORT bool p2pdma_dmabuf_attach_peer2peer(const struct p2pdma_dmabuf_attach *attach)
{
	return attach->peer2peer;
}

P2PDMA_EXPORT bool p2pdma_dmabuf_attach_is_dynamic(const struct p2pdma_dmabuf_attach *attach)
{
	return attach->dynamic;
}

P2PDMA_EXPORT int p2pdma_dmabuf_attach_set_name(struct p2pdma_dmabuf_attach *attach,
						const char *name)
{
	char *n = p2pdma_sys_strdup(attach->buf->sys, name);

	if (!n)
		return -ENOMEM;
	p2pdma_sys_lock(attach->buf->sys);
	free(attach->name);
	attach->name = n;
	p2pdma_sys_unlock(attach->buf->sys);
	return 0;
}

P2PDMA_EXPORT const char *p2pdma_dmabuf_attach_name(const struct p2pdma_dmabuf_attach *attach)
{
	return attach->name;
}

P2PDMA_EXPORT unsigned int p2pdma_dmabuf_attach_mappings(const struct p2pdma_dmabuf_attach *attach)
{
	return atomic_load(&attach->nmapped);
}

P2PDMA_EXPORT unsigned int
p2pdma_dmabuf_attach_kept_across_revoke(const struct p2pdma_dmabuf_attach *attach)
{
	return atomic_load(&attach->kept);
}

const char *p2pdma_dmabuf_importer_on(struct p2pdma_dmabuf *buf, int di)
{
	const struct p2pdma_dmabuf_attach *a;

	for (a = buf->attachments; a; a = a->next)
		if (a->devidx == di)
			return a->name;
	return NULL;
}

/* --- pin, map, move (§4.5 - §4.7) --- */

P2PDMA_EXPORT int p2pdma_dmabuf_pin(struct p2pdma_dmabuf_attach *attach)
{
	struct p2pdma_dmabuf *buf = attach->buf;
	int ret = need_held(buf, "dma_buf_pin");

	if (ret)
		return ret;
	if (!attach->dynamic) {
		klog_warn(buf->sys, "WARNING: dma_buf_pin(): %s", "a static attachment cannot pin");
		return -EINVAL;
	}
	if (buf->ops->pin) {
		ret = buf->ops->pin(attach);
		if (ret)
			return ret;
	}
	attach->pins++;
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_unpin(struct p2pdma_dmabuf_attach *attach)
{
	struct p2pdma_dmabuf *buf = attach->buf;
	int ret = need_held(buf, "dma_buf_unpin");

	if (ret)
		return ret;
	if (!attach->dynamic || !attach->pins)
		return -EINVAL;
	if (buf->ops->unpin)
		buf->ops->unpin(attach);
	attach->pins--;
	return 0;
}

static int wait_fences(struct p2pdma_dmabuf *buf, enum p2pdma_resv_usage usage,
		       long timeout_ms);

P2PDMA_EXPORT int p2pdma_dmabuf_map_attachment(struct p2pdma_dmabuf_attach *attach,
					       enum p2pdma_dma_dir dir,
					       struct p2pdma_sgt **out)
{
	struct p2pdma_dmabuf *buf = attach->buf;
	struct p2pdma_sgt *s = NULL;
	bool pinned = false;
	int ret = need_held(buf, "dma_buf_map_attachment");

	*out = NULL;
	if (ret)
		return ret;
	if (pin_on_map(attach)) {
		ret = buf->ops->pin(attach);
		if (ret)
			return ret;
		pinned = true;
	}
	ret = buf->ops->map(attach, dir, &s);
	if (!ret && !s)
		ret = -ENOMEM;
	if (ret) {
		if (pinned)
			buf->ops->unpin(attach);
		return ret;
	}
	/* Static importers cannot sync with fences: the core waits. */
	if (!attach->dynamic) {
		ret = wait_fences(buf, P2PDMA_RESV_USAGE_KERNEL, buf->map_wait_ms);
		if (ret) {
			buf->ops->unmap(attach, s, dir);
			if (pinned)
				buf->ops->unpin(attach);
			return ret == -ETIME ? -EINTR : ret;
		}
	}
	p2pdma_sys_lock(buf->sys);
	s->owner = attach;
	s->next_owned = attach->sgts;
	attach->sgts = s;
	atomic_fetch_add(&attach->nmapped, 1);
	p2pdma_sys_unlock(buf->sys);
	*out = s;
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_unmap_attachment(struct p2pdma_dmabuf_attach *attach,
						 struct p2pdma_sgt *sgt,
						 enum p2pdma_dma_dir dir)
{
	struct p2pdma_dmabuf *buf = attach->buf;
	int ret = need_held(buf, "dma_buf_unmap_attachment");

	if (ret)
		return ret;
	if (!sgt || sgt->owner != attach)
		return p2pdma_err(buf->sys->ctx, -EINVAL,
				  "dma_buf_unmap_attachment(): not a mapping of this attachment");
	unmap_one(attach, sgt, dir);
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_map_attachment_unlocked(struct p2pdma_dmabuf_attach *attach,
							enum p2pdma_dma_dir dir,
							struct p2pdma_sgt **out)
{
	int ret = need_unheld(attach->buf, "dma_buf_map_attachment_unlocked");

	*out = NULL;
	if (ret)
		return ret;
	p2pdma_resv_lock_raw(attach->buf);
	ret = p2pdma_dmabuf_map_attachment(attach, dir, out);
	p2pdma_resv_unlock_raw(attach->buf);
	return ret;
}

P2PDMA_EXPORT int p2pdma_dmabuf_unmap_attachment_unlocked(struct p2pdma_dmabuf_attach *attach,
							  struct p2pdma_sgt *sgt,
							  enum p2pdma_dma_dir dir)
{
	int ret = need_unheld(attach->buf, "dma_buf_unmap_attachment_unlocked");

	if (ret)
		return ret;
	p2pdma_resv_lock_raw(attach->buf);
	ret = p2pdma_dmabuf_unmap_attachment(attach, sgt, dir);
	p2pdma_resv_unlock_raw(attach->buf);
	return ret;
}

/* move_notify to the dynamic importers, then count what they kept. */
static void notify_and_audit(struct p2pdma_dmabuf *buf)
{
	struct p2pdma_dmasys *sys = buf->sys;
	struct p2pdma_dmabuf_attach *a;

	for (a = buf->attachments; a; a = a->next)
		if (a->dynamic)
			a->ops.move_notify(a);
	p2pdma_sys_lock(sys);
	for (a = buf->attachments; a; a = a->next) {
		unsigned int n = atomic_load(&a->nmapped);

		if (!n)
			continue;
		atomic_fetch_add(&a->kept, n);
		p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "dma-buf: %s importer %s kept %u mapping(s) of a %s buffer after move_notify%s",
			    a->dynamic ? "dynamic" : "static", a->name, n, buf->exp_name,
			    a->dynamic ? " (it ignored the notification)" :
			    " (static importers are never told)");
	}
	p2pdma_sys_unlock(sys);
}

P2PDMA_EXPORT int p2pdma_dmabuf_move_notify(struct p2pdma_dmabuf *buf)
{
	int ret = need_held(buf, "dma_buf_move_notify");

	if (ret)
		return ret;
	notify_and_audit(buf);
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_mmap(struct p2pdma_dmabuf *buf, uint64_t offset,
				     uint64_t len)
{
	int ret = need_unheld(buf, "dma_buf_mmap");

	if (ret)
		return ret;
	if (!buf->ops->mmap)
		return p2pdma_err(buf->sys->ctx, -EINVAL, "mmap of a %s dma-buf: the exporter has no mmap",
				  buf->exp_name);
	if (offset + len < offset || offset + len > buf->size)
		return p2pdma_err(buf->sys->ctx, -EINVAL, "mmap beyond the buffer");
	return buf->ops->mmap(buf, offset, len);
}

P2PDMA_EXPORT int p2pdma_dmabuf_vmap(struct p2pdma_dmabuf *buf, void **vaddr)
{
	int ret = need_held(buf, "dma_buf_vmap");

	*vaddr = NULL;
	if (ret)
		return ret;
	if (!buf->ops->vmap)
		return p2pdma_err(buf->sys->ctx, -EINVAL, "vmap of a %s dma-buf: the exporter has no vmap",
				  buf->exp_name);
	return buf->ops->vmap(buf, vaddr);
}

P2PDMA_EXPORT int p2pdma_dmabuf_vunmap(struct p2pdma_dmabuf *buf, void *vaddr)
{
	int ret = need_held(buf, "dma_buf_vunmap");

	if (ret)
		return ret;
	if (buf->ops->vunmap)
		buf->ops->vunmap(buf, vaddr);
	return 0;
}

int p2pdma_dmabuf_interconnect(struct p2pdma_dmabuf_attach *attach,
			       uint64_t *paddr, uint64_t *len)
{
	int ret = need_held(attach->buf, "vfio_pci_dma_buf_iommufd_map");

	if (ret)
		return ret;
	if (!attach->buf->ops->interconnect_phys)
		return -EOPNOTSUPP;
	return attach->buf->ops->interconnect_phys(attach, paddr, len);
}

/* --- fences --- */

struct p2pdma_fence {
	atomic_int refs;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool signaled;
	char name[32];
};

P2PDMA_EXPORT int p2pdma_fence_create(struct p2pdma_ctx *ctx, const char *name,
				      struct p2pdma_fence **out)
{
	struct p2pdma_fence *f = p2pdma_zalloc(ctx, 1, sizeof(*f));

	*out = NULL;
	if (!f)
		return -ENOMEM;
	if (pthread_mutex_init(&f->lock, NULL)) {
		free(f);
		return -ENOMEM;
	}
	if (pthread_cond_init(&f->cond, NULL)) {
		pthread_mutex_destroy(&f->lock);
		free(f);
		return -ENOMEM;
	}
	atomic_init(&f->refs, 1);
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "fence");
	*out = f;
	return 0;
}

P2PDMA_EXPORT void p2pdma_fence_signal(struct p2pdma_fence *f)
{
	pthread_mutex_lock(&f->lock);
	f->signaled = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

P2PDMA_EXPORT bool p2pdma_fence_is_signaled(struct p2pdma_fence *f)
{
	bool s;

	pthread_mutex_lock(&f->lock);
	s = f->signaled;
	pthread_mutex_unlock(&f->lock);
	return s;
}

P2PDMA_EXPORT void p2pdma_fence_put(struct p2pdma_fence *f)
{
	if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

P2PDMA_EXPORT int p2pdma_dmabuf_add_fence(struct p2pdma_dmabuf *buf,
					  struct p2pdma_fence *f,
					  enum p2pdma_resv_usage usage)
{
	size_t i, j;
	int ret = need_held(buf, "dma_resv_add_fence");

	if (ret)
		return ret;
	pthread_mutex_lock(&buf->fence_lock);
	/* Signaled fences are pruned as the kernel's dma_resv does. */
	for (i = j = 0; i < buf->nfences; i++) {
		if (p2pdma_fence_is_signaled(buf->fences[i].f))
			p2pdma_fence_put(buf->fences[i].f);
		else
			buf->fences[j++] = buf->fences[i];
	}
	buf->nfences = j;
	ret = p2pdma_sys_grow(buf->sys, (void **)&buf->fences, &buf->capfences,
			      buf->nfences + 1, sizeof(*buf->fences));
	if (!ret) {
		atomic_fetch_add(&f->refs, 1);
		buf->fences[buf->nfences].f = f;
		buf->fences[buf->nfences].usage = usage;
		buf->nfences++;
	}
	pthread_mutex_unlock(&buf->fence_lock);
	return ret;
}

static int wait_fences(struct p2pdma_dmabuf *buf, enum p2pdma_resv_usage usage,
		       long timeout_ms)
{
	struct p2pdma_fence **snap;
	struct timespec deadline;
	size_t i, n = 0;
	int ret = 0;

	pthread_mutex_lock(&buf->fence_lock);
	snap = p2pdma_sys_alloc(buf->sys, (buf->nfences ? buf->nfences : 1) * sizeof(*snap));
	if (!snap) {
		pthread_mutex_unlock(&buf->fence_lock);
		return -ENOMEM;
	}
	for (i = 0; i < buf->nfences; i++) {
		if (buf->fences[i].usage > usage)
			continue;
		atomic_fetch_add(&buf->fences[i].f->refs, 1);
		snap[n++] = buf->fences[i].f;
	}
	pthread_mutex_unlock(&buf->fence_lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	if (timeout_ms >= 0) {
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	for (i = 0; i < n; i++) {
		struct p2pdma_fence *f = snap[i];

		pthread_mutex_lock(&f->lock);
		while (!f->signaled && !ret) {
			if (timeout_ms < 0)
				pthread_cond_wait(&f->cond, &f->lock);
			else if (pthread_cond_timedwait(&f->cond, &f->lock, &deadline) == ETIMEDOUT)
				ret = f->signaled ? 0 : -ETIME;
		}
		pthread_mutex_unlock(&f->lock);
	}
	for (i = 0; i < n; i++)
		p2pdma_fence_put(snap[i]);
	free(snap);
	return ret;
}

P2PDMA_EXPORT int p2pdma_dmabuf_wait(struct p2pdma_dmabuf *buf,
				     enum p2pdma_resv_usage usage, long timeout_ms)
{
	return wait_fences(buf, usage, timeout_ms);
}

P2PDMA_EXPORT void p2pdma_dmabuf_set_map_wait_timeout(struct p2pdma_dmabuf *buf,
						      long timeout_ms)
{
	buf->map_wait_ms = timeout_ms;
}

/* --- dma_buf_phys_vec_to_sgt() (§4.8) --- */

#define UINT_MAX_32	0xffffffffULL
#define MAX_ENT_ALIGNED	(UINT_MAX_32 & ~PAGE_MASK_LO)

/*
 * fill_sg_entry(): cut @length at MAX_ENT. Returns the next free index,
 * or the capacity when the table overflows (the kernel would run off its
 * scatterlist; the model stops and says so).
 */
static size_t fill_entries(struct p2pdma_dmasys *sys, struct p2pdma_sgt *s,
			   size_t at, uint64_t length, uint64_t addr)
{
	unsigned int q = sys->quirks;
	uint64_t maxent = q & P2PDMA_QUIRK_SGT_MAX_ENT_UINT ? UINT_MAX_32 : MAX_ENT_ALIGNED;
	unsigned int i = 0;

	/* The common case: one entry (DMA-only tables: the DMA fields). */
	if (length <= maxent && at < s->cap) {
		s->e[at].dma = addr;
		s->e[at].dma_len = (uint32_t)length;
		return at + 1;
	}
	while (length) {
		uint64_t len = length < maxent ? length : maxent;
		struct sg_ent *e;

		if (at >= s->cap) {
			p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
				    "BUG: dma_buf_phys_vec_to_sgt(): more entries than the table holds (%zu)",
				    s->cap);
			return s->cap + 1;
		}
		e = &s->e[at];
		if (!(q & P2PDMA_QUIRK_SGT_MAX_ENT_UINT)) {
			e->dma = addr;
			addr += len;
		} else if (q & P2PDMA_QUIRK_SGT_ADDR_OVERFLOW) {
			/* v9: addr + i * UINT_MAX in unsigned int. */
			e->dma = addr + (uint32_t)(i * 0xffffffffu);
		} else {
			e->dma = addr + (uint64_t)i * UINT_MAX_32;
		}
		e->dma_len = (uint32_t)len;
		length -= len;
		at++;
		i++;
	}
	return at;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

P2PDMA_EXPORT int p2pdma_dmabuf_phys_vec_to_sgt(struct p2pdma_dmabuf_attach *attach,
						const struct p2pdma_provider *provider,
						const struct p2pdma_phys_vec *phys_vec,
						size_t nr_ranges, uint64_t size,
						enum p2pdma_dma_dir dir,
						struct p2pdma_sgt **out)
{
	struct p2pdma_dmasys *sys;
	struct p2pdma_sgt *s = NULL;
	struct p2pdma_iova_state *state = NULL;
	struct p2pdma_iommu_domain *dom;
	enum p2pdma_map_type t;
	uint64_t maxent, mapped = 0, addr = 0;
	uint32_t mapped32 = 0;
	bool iova;
	size_t i = 0, at = 0, nents = 0;
	int ret, di;

	*out = NULL;
	if (!attach || !attach->buf)
		return -EINVAL;
	sys = attach->buf->sys;
	ret = need_held(attach->buf, "dma_buf_phys_vec_to_sgt");
	if (ret)
		return ret;
	if (!provider) {
		klog_warn(sys, "WARNING: dma_buf_phys_vec_to_sgt(): %s", "no provider (MMIO only)");
		return -EINVAL;
	}
	p2pdma_sys_lock(sys);
	ret = p2pdma_sys_ready(sys);
	if (ret)
		goto out_unlock;
	di = attach->devidx;
	s = p2pdma_sgt_alloc(sys, 0);	/* struct dma_buf_dma */
	if (!s) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	free(s->e);
	s->e = NULL;
	s->kind = SGT_PHYS_VEC;
	s->devidx = di;
	t = p2pdma_kernel_map_type(sys->k, provider, attach->dev, NULL);
	switch (t) {
	case P2PDMA_MAP_BUS_ADDR:
		break;
	case P2PDMA_MAP_THRU_HOST_BRIDGE:
		state = p2pdma_sys_zalloc(sys, 1, sizeof(*state));
		if (!state) {
			ret = -ENOMEM;
			goto free_dma;
		}
		p2pdma_sys_iova_try_alloc(sys, di, state, 0, size);
		break;
	default:
		ret = p2pdma_err(sys->ctx, -EINVAL,
				 "dma_buf_phys_vec_to_sgt(): %s cannot reach BAR %d of %s (%s)",
				 attach->dev ? attach->dev->name : "a non-PCI device",
				 p2pdma_provider_bar(provider), p2pdma_provider_owner(provider)->name,
				 p2pdma_map_type_name(t));
		goto free_dma;
	}
	iova = state && p2pdma_dma_use_iova(state);
	maxent = sys->quirks & P2PDMA_QUIRK_SGT_MAX_ENT_UINT ? UINT_MAX_32 : MAX_ENT_ALIGNED;
	/* calc_sg_nents() */
	if (!iova) {
		uint32_t n32 = 0;
		bool overflow = false;

		for (i = 0; i < nr_ranges; i++) {
			uint64_t len = phys_vec[i].len;
			/* DIV_ROUND_UP(len, MAX_ENT): a constant divisor in the kernel. */
			uint64_t add = len <= maxent ? (len != 0) : div_up(len, maxent);

			if ((sys->quirks & P2PDMA_QUIRK_SGT_MAPPED_LEN_U32)) {
				n32 += (uint32_t)add;	/* v9: no overflow check */
			} else if (add > 0xffffffffULL || n32 + add > 0xffffffffULL) {
				overflow = true;
				break;
			} else {
				n32 += (uint32_t)add;
			}
		}
		nents = overflow ? 0 : n32;
	} else {
		nents = (size_t)(uint32_t)div_up(size, maxent);
	}
	/* sg_alloc_table(): zero entries is -EINVAL. */
	if (!nents) {
		ret = p2pdma_err(sys->ctx, -EINVAL, "dma_buf_phys_vec_to_sgt(): no entries (sg_alloc_table)");
		goto free_state;
	}
	/* sg_alloc_table(); every entry used is written whole by the fill. */
	s->e = p2pdma_sys_alloc(sys, nents * sizeof(*s->e));
	if (!s->e) {
		ret = -ENOMEM;
		goto free_state;
	}
	s->cap = nents;
	dom = iova ? p2pdma_sys_def_domain(sys, di) : NULL;
	if (!state) {
		/* BUS_ADDR: bus addresses, nothing mapped, nothing to undo. A
		 * DMA-only table: only the DMA fields are ever read. */
		uint64_t bus_off = p2pdma_provider_bus_offset(provider);
		uint64_t lim = sys->quirks & P2PDMA_QUIRK_SGT_MAX_ENT_UINT ? UINT_MAX_32 : MAX_ENT_ALIGNED;
		struct sg_ent *e = s->e;

		if (nents == nr_ranges) {
			/* One entry per range (every range fits in one). */
			for (i = 0; i < nr_ranges; i++) {
				e[i].dma = phys_vec[i].paddr + bus_off;
				e[i].dma_len = (uint32_t)phys_vec[i].len;
			}
			at = nr_ranges;
			i = nr_ranges;
		}
		for (i = at ? nr_ranges : 0; i < nr_ranges; i++) {
			uint64_t len = phys_vec[i].len;

			if (len <= lim && at < s->cap) {
				e[at].dma = phys_vec[i].paddr + bus_off;
				e[at].dma_len = (uint32_t)len;
				at++;
				continue;
			}
			at = fill_entries(sys, s, at, len, phys_vec[i].paddr + bus_off);
			if (at > s->cap) {
				ret = -EINVAL;
				goto unmap;
			}
		}
		s->nents = at;
		i = nr_ranges;
	}
	for (i = state ? 0 : nr_ranges; i < nr_ranges; i++) {
		if (iova) {
			uint64_t off = sys->quirks & P2PDMA_QUIRK_SGT_IOVA_OFFSET_ZERO ? 0 :
				       (sys->quirks & P2PDMA_QUIRK_SGT_MAPPED_LEN_U32 ? mapped32 : mapped);

			ret = p2pdma_sys_iova_link_dom(sys, dom, di, state, phys_vec[i].paddr, off,
						       phys_vec[i].len, dir, P2PDMA_DMA_ATTR_MMIO);
			if (ret)
				goto unmap;
			mapped += phys_vec[i].len;
			mapped32 += (uint32_t)phys_vec[i].len;
		} else {
			addr = p2pdma_sys_map_phys(sys, di, phys_vec[i].paddr, phys_vec[i].len,
						   dir, P2PDMA_DMA_ATTR_MMIO);
			if (addr == P2PDMA_DMA_MAPPING_ERROR) {
				ret = -ENOMEM;
				goto unmap;
			}
		}
		if (!iova) {
			at = fill_entries(sys, s, at, phys_vec[i].len, addr);
			if (at > s->cap) {
				ret = -EINVAL;
				i++;
				goto unmap;
			}
			s->nents = at;	/* what the unwind unmaps */
		}
	}
	if (iova) {
		uint64_t m = sys->quirks & P2PDMA_QUIRK_SGT_MAPPED_LEN_U32 ? mapped32 : mapped;

		if (m != size)
			p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
				    "WARNING: dma_buf_phys_vec_to_sgt(): mapped %#llx of %#llx bytes",
				    (unsigned long long)m, (unsigned long long)size);
		ret = p2pdma_sys_iova_sync(sys, di, state, 0, m);
		if (ret)
			goto unmap;
		at = fill_entries(sys, s, 0, m, state->addr);
		if (at > s->cap) {
			ret = -EINVAL;
			goto unmap;
		}
		s->nents = at;
	}
	if (at != s->cap)
		p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "WARNING: dma_buf_phys_vec_to_sgt(): %zu of %zu entries filled", at, s->cap);
	s->orig_nents = 0;	/* no CPU list */
	s->state = state;
	s->size = size;
	p2pdma_sys_unlock(sys);
	*out = s;
	return 0;

unmap:
	if (!i || !state) {
		/* The kernel undoes nothing here: with the IOVA API in use and
		 * the first link failing, the reserved IOVA is never freed. */
		if (iova)
			p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
				    "dma_buf_phys_vec_to_sgt(): the first dma_iova_link() failed (%d): IOVA %#llx+%#llx of %s stays reserved (the error path does not free it)",
				    ret, (unsigned long long)state->addr,
				    (unsigned long long)state->size, attach->dev->name);
	} else if (iova) {
		p2pdma_sys_iova_destroy(sys, di, state,
					sys->quirks & P2PDMA_QUIRK_SGT_MAPPED_LEN_U32 ? mapped32 : mapped);
	} else {
		size_t j;

		for (j = 0; j < s->nents; j++)
			p2pdma_sys_unmap_phys(sys, di, s->e[j].dma, s->e[j].dma_len, dir,
					      P2PDMA_DMA_ATTR_MMIO);
	}
free_state:
	free(state);
	state = NULL;
free_dma:
	p2pdma_sgt_free_table(s);
out_unlock:
	p2pdma_sys_unlock(sys);
	(void)state;
	return ret;
}

P2PDMA_EXPORT int p2pdma_dmabuf_free_sgt(struct p2pdma_dmabuf_attach *attach,
					 struct p2pdma_sgt *sgt, enum p2pdma_dma_dir dir)
{
	struct p2pdma_dmasys *sys = attach->buf->sys;
	int ret = need_held(attach->buf, "dma_buf_free_sgt");
	size_t j;

	if (ret)
		return ret;
	if (!sgt)
		return 0;
	p2pdma_sys_lock(sys);
	if (!sgt->state) {
		;	/* BUS_ADDR: nothing was mapped */
	} else if (p2pdma_dma_use_iova(sgt->state)) {
		p2pdma_sys_iova_destroy(sys, sgt->devidx, sgt->state, sgt->size);
	} else {
		for (j = 0; j < sgt->nents; j++)
			p2pdma_sys_unmap_phys(sys, sgt->devidx, sgt->e[j].dma, sgt->e[j].dma_len,
					      dir, P2PDMA_DMA_ATTR_MMIO);
	}
	p2pdma_sys_unlock(sys);
	p2pdma_sgt_free_table(sgt);
	return 0;
}

/* --- the model's exporters --- */

struct model_priv {
	struct p2pdma_dmabuf *buf;
	atomic_bool revoked;
	const struct p2pdma_provider *provider;
	struct p2pdma_phys_vec *ranges;
	size_t nr;
	struct p2pdma_sg_page *pages;
	size_t npages;
	bool any_p2p;
	void (*release)(void *);
	void *release_priv;
};

static int mmio_attach(struct p2pdma_dmabuf *buf, struct p2pdma_dmabuf_attach *a)
{
	struct model_priv *p = buf->priv;

	if (!a->peer2peer)
		return p2pdma_err(buf->sys->ctx, -EOPNOTSUPP,
				  "attach %s: the importer does not allow peer-to-peer (no struct pages here)",
				  a->name);
	if (atomic_load(&p->revoked))
		return p2pdma_err(buf->sys->ctx, -ENODEV, "attach %s: the buffer is revoked", a->name);
	return 0;
}

static int mmio_map(struct p2pdma_dmabuf_attach *a, enum p2pdma_dma_dir dir,
		    struct p2pdma_sgt **sgt)
{
	struct model_priv *p = a->buf->priv;

	if (atomic_load(&p->revoked))
		return p2pdma_err(a->buf->sys->ctx, -ENODEV, "map %s: the buffer is revoked", a->name);
	return p2pdma_dmabuf_phys_vec_to_sgt(a, p->provider, p->ranges, p->nr,
					     a->buf->size, dir, sgt);
}

static void mmio_unmap(struct p2pdma_dmabuf_attach *a, struct p2pdma_sgt *sgt,
		       enum p2pdma_dma_dir dir)
{
	p2pdma_dmabuf_free_sgt(a, sgt, dir);
}

static void model_release(struct p2pdma_dmabuf *buf)
{
	struct model_priv *p = buf->priv;

	if (p->release)
		p->release(p->release_priv);
	free(p->ranges);
	free(p->pages);
	free(p);
}

static int mmio_interconnect(struct p2pdma_dmabuf_attach *a, uint64_t *paddr,
			     uint64_t *len)
{
	struct model_priv *p = a->buf->priv;

	if (atomic_load(&p->revoked))
		return -ENODEV;
	if (p->nr != 1)
		return -EOPNOTSUPP;
	*paddr = p->ranges[0].paddr;
	*len = p->ranges[0].len;
	return 0;
}

static const struct p2pdma_dmabuf_ops mmio_ops = {
	.attach = mmio_attach,
	.map = mmio_map,
	.unmap = mmio_unmap,
	.release = model_release,
	.interconnect_phys = mmio_interconnect,
};

static int pages_attach(struct p2pdma_dmabuf *buf, struct p2pdma_dmabuf_attach *a)
{
	struct model_priv *p = buf->priv;

	if (p->any_p2p && !a->peer2peer)
		return p2pdma_err(buf->sys->ctx, -EOPNOTSUPP,
				  "attach %s: P2P pages need an importer that allows peer-to-peer",
				  a->name);
	if (atomic_load(&p->revoked))
		return p2pdma_err(buf->sys->ctx, -ENODEV, "attach %s: the buffer is revoked", a->name);
	return 0;
}

static int pages_map(struct p2pdma_dmabuf_attach *a, enum p2pdma_dma_dir dir,
		     struct p2pdma_sgt **sgt)
{
	struct model_priv *p = a->buf->priv;

	if (atomic_load(&p->revoked))
		return p2pdma_err(a->buf->sys->ctx, -ENODEV, "map %s: the buffer is revoked", a->name);
	if (!a->dev)
		return p2pdma_err(a->buf->sys->ctx, -EINVAL, "map: the model maps for PCI functions only");
	return p2pdma_dma_map_sg(a->buf->sys->k, a->dev, p->pages, p->npages, dir, 0, sgt);
}

static void pages_unmap(struct p2pdma_dmabuf_attach *a, struct p2pdma_sgt *sgt,
			enum p2pdma_dma_dir dir)
{
	p2pdma_dma_unmap_sg(a->buf->sys->k, a->dev, sgt, dir, 0);
}

static const struct p2pdma_dmabuf_ops pages_ops = {
	.attach = pages_attach,
	.map = pages_map,
	.unmap = pages_unmap,
	.release = model_release,
};

static bool model_buf(const struct p2pdma_dmabuf *buf)
{
	return buf->ops == &mmio_ops || buf->ops == &pages_ops;
}

/* Export a buffer of the model; *consumed: @p now belongs to it (freed with it). */
static int model_export(struct p2pdma_kernel *k, struct model_priv *p,
			const struct p2pdma_dmabuf_ops *ops, const char *name,
			uint64_t size, int flags, const struct p2pdma_phys_vec *guard,
			size_t nguard, struct p2pdma_dmabuf **out, bool *consumed)
{
	struct p2pdma_dmabuf_export_info info = {
		.struct_size = sizeof(info), .exp_name = name, .ops = ops,
		.size = size, .flags = flags, .priv = p,
	};
	int ret = p2pdma_dmabuf_export(k, &info, out);

	*consumed = false;
	if (ret)
		return ret;
	*consumed = true;
	p->buf = *out;
	(*out)->provider = p->provider;
	p2pdma_sys_lock(k->dma);
	ret = p2pdma_sys_guard_set(k->dma, *out, guard, nguard, false, false);
	p2pdma_sys_unlock(k->dma);
	if (ret) {
		p->release = NULL;	/* the caller keeps its pages on failure */
		p2pdma_dmabuf_put(*out);
		*out = NULL;
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	}
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_export_mmio(struct p2pdma_kernel *k,
					    const struct p2pdma_provider *provider,
					    const struct p2pdma_phys_vec *ranges, size_t nr,
					    int flags, struct p2pdma_dmabuf **out)
{
	const struct p2pdma_bar *b;
	struct model_priv *p;
	uint64_t size = 0;
	bool consumed;
	size_t i;
	int ret;

	*out = NULL;
	if (!k->dma)
		return -ENOMEM;
	if (!provider || !nr || !ranges)
		return p2pdma_err(k->ctx, -EINVAL, "export MMIO: a provider and at least one range");
	b = &p2pdma_provider_owner(provider)->bars[p2pdma_provider_bar(provider)];
	for (i = 0; i < nr; i++) {
		const struct p2pdma_phys_vec *r = &ranges[i];

		if (!r->len || (r->paddr | r->len) & PAGE_MASK_LO || r->paddr < b->cpu ||
		    r->paddr + r->len < r->paddr || r->paddr + r->len > b->cpu + b->size)
			return p2pdma_err(k->ctx, -EINVAL,
					  "export MMIO: range %zu (%#llx+%#llx) is not page aligned inside BAR %d of %s",
					  i, (unsigned long long)r->paddr, (unsigned long long)r->len,
					  p2pdma_provider_bar(provider), p2pdma_provider_owner(provider)->name);
		size += r->len;
	}
	p = p2pdma_sys_zalloc(k->dma, 1, sizeof(*p));
	if (!p)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	p->ranges = p2pdma_sys_alloc(k->dma, nr * sizeof(*p->ranges));
	if (!p->ranges) {
		free(p);
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	}
	memcpy(p->ranges, ranges, nr * sizeof(*ranges));
	p->nr = nr;
	p->provider = provider;
	ret = model_export(k, p, &mmio_ops, "p2pdma_mmio", size, flags, ranges, nr, out,
			   &consumed);
	if (ret && !consumed) {
		free(p->ranges);
		free(p);
	}
	return ret;
}

/*
 * A P2P page is a struct page of the pool (ZONE_DEVICE,
 * MEMORY_DEVICE_PCI_P2PDMA): is_pci_p2pdma_page() holds for every page
 * of the entry, its pgmap is the entry's provider's, and the pool handed
 * it out. Anything else has no struct page the kernel could put in a
 * scatterlist.
 */
static int pool_pages(struct p2pdma_kernel *k, const struct p2pdma_sg_page *pg, size_t i)
{
	const struct p2pdma_dev *owner = p2pdma_provider_owner(pg->provider);
	uint64_t a;

	for (a = pg->phys & ~PAGE_MASK_LO; a < pg->phys + pg->len; a += PAGE_SZ) {
		struct p2pdma_page_info pi;

		p2pdma_page_get_info(k, a, &pi, sizeof(pi));
		if (pi.kind != P2PDMA_PAGE_P2PDMA || pi.provider != pg->provider)
			return p2pdma_err(k->ctx, -EINVAL,
					  "export pages: P2P page %zu (%#llx) has no struct page of %s BAR %d (pci_p2pdma_add_resource() makes them; the pool hands them out)",
					  i, (unsigned long long)a, owner->name, p2pdma_provider_bar(pg->provider));
		if (pi.state == P2PDMA_PAGE_FREE)
			return p2pdma_err(k->ctx, -EINVAL,
					  "export pages: P2P page %zu (%#llx) is free in the pool of %s (not allocated)",
					  i, (unsigned long long)a, owner->name);
	}
	return 0;
}

P2PDMA_EXPORT int p2pdma_dmabuf_export_pages(struct p2pdma_kernel *k,
					     const struct p2pdma_sg_page *pages, size_t n,
					     int flags, void (*release_fn)(void *),
					     void *release_priv, struct p2pdma_dmabuf **out)
{
	struct p2pdma_phys_vec *guard;
	struct model_priv *p;
	uint64_t size = 0;
	bool consumed;
	size_t i;
	int ret;

	*out = NULL;
	if (!k->dma)
		return -ENOMEM;
	if (!n || !pages)
		return p2pdma_err(k->ctx, -EINVAL, "export pages: no pages");
	for (i = 0; i < n; i++) {
		if (!pages[i].len)
			return p2pdma_err(k->ctx, -EINVAL, "export pages: page %zu is empty", i);
		if (pages[i].provider) {
			const struct p2pdma_bar *b =
				&p2pdma_provider_owner(pages[i].provider)->bars[p2pdma_provider_bar(pages[i].provider)];

			if (pages[i].phys < b->cpu || pages[i].phys + pages[i].len > b->cpu + b->size)
				return p2pdma_err(k->ctx, -EINVAL,
						  "export pages: P2P page %zu (%#llx) is outside its provider's BAR",
						  i, (unsigned long long)pages[i].phys);
			ret = pool_pages(k, &pages[i], i);
			if (ret)
				return ret;
		}
		size += pages[i].len;
	}
	p = p2pdma_sys_zalloc(k->dma, 1, sizeof(*p));
	guard = p2pdma_sys_alloc(k->dma, n * sizeof(*guard));
	if (p)
		p->pages = p2pdma_sys_alloc(k->dma, n * sizeof(*p->pages));
	if (!p || !guard || !p->pages) {
		if (p)
			free(p->pages);
		free(p);
		free(guard);
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	}
	memcpy(p->pages, pages, n * sizeof(*pages));
	p->npages = n;
	for (i = 0; i < n; i++) {
		p->any_p2p |= pages[i].provider != NULL;
		if (!p->provider)
			p->provider = pages[i].provider;
		guard[i].paddr = pages[i].phys;
		guard[i].len = pages[i].len;
	}
	p->release = release_fn;
	p->release_priv = release_priv;
	ret = model_export(k, p, &pages_ops, p->any_p2p ? "p2pdma_p2p_pages" : "p2pdma_system_pages",
			   size, flags, guard, n, out, &consumed);
	if (ret && !consumed) {
		free(p->pages);
		free(p);
	}
	free(guard);
	return ret;
}

/* The pool allocation behind a p2pmem buffer; freed by its release. */
struct pool_alloc {
	struct p2pdma_kernel *k;
	const struct p2pdma_dev *dev;
	uint64_t kva, size;
};

static void pool_release(void *arg)
{
	struct pool_alloc *pa = arg;

	p2pdma_p2pmem_free(pa->k, pa->dev, pa->kva, pa->size);	/* pci_free_p2pmem() */
	free(pa);
}

P2PDMA_EXPORT int p2pdma_dmabuf_export_p2pmem(struct p2pdma_kernel *k,
					      const struct p2pdma_dev *dev, uint64_t size,
					      int flags, struct p2pdma_dmabuf **out)
{
	struct p2pdma_sg_page *pages = NULL;
	struct p2pdma_page_info pi;
	struct pool_alloc *pa;
	uint64_t phys, left;
	size_t n, i;
	int ret;

	*out = NULL;
	if (!k->dma)
		return -ENOMEM;
	pa = calloc(1, sizeof(*pa));
	if (!pa)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	ret = p2pdma_p2pmem_alloc(k, dev, size, "dma-buf", &pa->kva);
	if (ret) {
		free(pa);
		return ret;
	}
	pa->k = k;
	pa->dev = dev;
	pa->size = (size + PAGE_MASK_LO) & ~PAGE_MASK_LO;
	phys = p2pdma_p2pmem_virt_to_phys(k, pa->kva);
	p2pdma_page_get_info(k, phys, &pi, sizeof(pi));
	/* sg_alloc_table_from_pages(): contiguous pages merged up to the
	 * largest page-aligned segment an unsigned int length holds. */
	n = (size_t)((pa->size + MAX_ENT_ALIGNED - 1) / MAX_ENT_ALIGNED);
	pages = calloc(n, sizeof(*pages));
	if (!pages) {
		ret = p2pdma_err(k->ctx, -ENOMEM, "out of memory");
		goto free_alloc;
	}
	for (i = 0, left = pa->size; i < n; i++) {
		uint64_t len = left < MAX_ENT_ALIGNED ? left : MAX_ENT_ALIGNED;

		pages[i].provider = pi.provider;
		pages[i].phys = phys + (pa->size - left);
		pages[i].len = (uint32_t)len;
		left -= len;
	}
	/* The buffer owns the allocation from here: its release frees it. */
	ret = p2pdma_dmabuf_export_pages(k, pages, n, flags, pool_release, pa, out);
	free(pages);
	if (!ret)
		return 0;
free_alloc:
	p2pdma_p2pmem_free(k, dev, pa->kva, pa->size);
	free(pa);
	return ret;
}

P2PDMA_EXPORT const struct p2pdma_provider *p2pdma_dmabuf_provider(const struct p2pdma_dmabuf *buf)
{
	return buf->provider;
}

void p2pdma_dmabuf_revoke_locked(struct p2pdma_dmabuf *buf, bool revoked)
{
	p2pdma_sys_lock(buf->sys);
	p2pdma_sys_guard_set(buf->sys, buf, NULL, 0, true, revoked);
	p2pdma_sys_unlock(buf->sys);
	notify_and_audit(buf);
}

P2PDMA_EXPORT int p2pdma_dmabuf_revoke(struct p2pdma_dmabuf *buf, bool revoked)
{
	struct model_priv *p;
	int ret;

	if (!model_buf(buf))
		return p2pdma_err(buf->sys->ctx, -EINVAL,
				  "revoke: a %s buffer is not one of the model's exporters", buf->exp_name);
	ret = need_unheld(buf, "p2pdma_dmabuf_revoke");
	if (ret)
		return ret;
	p = buf->priv;
	p2pdma_resv_lock_raw(buf);
	if (atomic_load(&p->revoked) != revoked) {
		atomic_store(&p->revoked, revoked);
		p2pdma_dmabuf_revoke_locked(buf, revoked);
	}
	p2pdma_resv_unlock_raw(buf);
	return 0;
}

P2PDMA_EXPORT bool p2pdma_dmabuf_revoked(struct p2pdma_dmabuf *buf)
{
	const struct guard *g;
	bool r = false;

	if (model_buf(buf))
		return atomic_load(&((struct model_priv *)buf->priv)->revoked);
	p2pdma_sys_lock(buf->sys);
	for (g = buf->sys->guards; g; g = g->next)
		if (g->buf == buf)
			r = g->revoked;
	p2pdma_sys_unlock(buf->sys);
	return r;
}

P2PDMA_EXPORT int p2pdma_dmabuf_set_guard(struct p2pdma_dmabuf *buf,
					  const struct p2pdma_phys_vec *ranges,
					  size_t nr, bool revoked)
{
	int ret;

	p2pdma_sys_lock(buf->sys);
	ret = p2pdma_sys_guard_set(buf->sys, buf, ranges, nr, ranges == NULL, revoked);
	p2pdma_sys_unlock(buf->sys);
	return ret;
}

/* --- the kernel's side: unbind and shutdown --- */

void p2pdma_dmabuf_on_unbind(struct p2pdma_dmasys *sys, int di)
{
	struct p2pdma_dmabuf *buf;

	p2pdma_sys_lock(sys);
	for (buf = sys->bufs; buf; buf = buf->next) {
		const struct p2pdma_dmabuf_attach *a;

		if (!buf->provider || (int)p2pdma_provider_owner(buf->provider)->index != di)
			continue;
		for (a = buf->attachments; a; a = a->next)
			if (atomic_load(&a->nmapped))
				p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
					    "dma-buf: the provider of a %s buffer (BAR %d of %s) goes with its driver while %s still maps it: no importer may keep a mapping past the provider (doc/kernel-model.md §1.6)",
					    buf->exp_name, p2pdma_provider_bar(buf->provider),
					    p2pdma_provider_owner(buf->provider)->name, a->name);
	}
	p2pdma_sys_unlock(sys);
}

void p2pdma_dmabuf_teardown(struct p2pdma_dmasys *sys)
{
	struct p2pdma_dmabuf *buf, *bn;

	for (buf = sys->bufs; buf; buf = bn) {
		struct p2pdma_dmabuf_attach *a, *an;
		size_t i;

		bn = buf->next;
		buf->ops->release(buf);
		for (a = buf->attachments; a; a = an) {
			an = a->next;
			free_attach(a);
		}
		for (i = 0; i < buf->nfences; i++)
			p2pdma_fence_put(buf->fences[i].f);
		free(buf->fences);
		pthread_mutex_destroy(&buf->fence_lock);
		pthread_mutex_destroy(&buf->resv);
		free(buf->exp_name);
		free(buf);
	}
	sys->bufs = NULL;
	sys->nbufs = 0;
}
