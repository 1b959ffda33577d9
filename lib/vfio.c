// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfio.c - the VFIO device model and VFIO_DEVICE_FEATURE_DMA_BUF (doc/kernel-model.md §5, doc/vfio.md) */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio-private.h"

/* The uAPI layout, byte for byte. */
_Static_assert(sizeof(struct p2pdma_vfio_device_feature) == 8, "vfio_device_feature");
_Static_assert(sizeof(struct p2pdma_vfio_region_dma_range) == 16, "vfio_region_dma_range");
_Static_assert(sizeof(struct p2pdma_vfio_device_feature_dma_buf) == 16,
	       "vfio_device_feature_dma_buf");

static const char *variant_driver(enum p2pdma_vfio_variant v)
{
	switch (v) {
	case P2PDMA_VFIO_NVGRACE: return "nvgrace-gpu-vfio-pci";
	case P2PDMA_VFIO_VARIANT_NO_DMABUF: return "mlx5-vfio-pci";
	default: return "vfio-pci";
	}
}

/* Drivers that leave the group's DMA to its owner (driver_managed_dma). */
static bool dma_managed_driver(const char *drv)
{
	static const char *const ok[] = {
		"vfio-pci", "nvgrace-gpu-vfio-pci", "mlx5-vfio-pci", "pcieport", "pci-stub",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(drv, ok[i]))
			return true;
	return false;
}

static uint64_t pow2_ceil(uint64_t x)
{
	uint64_t p = 1;

	while (p && p < x)
		p <<= 1;
	return p;
}

/* __vfio_pci_memory_enabled() */
static bool mem_enabled(const struct p2pdma_vfio_dev *v)
{
	return v->power < P2PDMA_PCI_D3HOT &&
	       (v->no_command_memory || (v->cmd & PCI_COMMAND_MEMORY));
}

/* Keep the DMA engine's view of the BARs in step (physical decode: the
 * virtual PCI_COMMAND is written through for memory; VFs decode as their
 * PF says). */
static void sync_decode(struct p2pdma_vfio_dev *v)
{
	bool decode = v->power < P2PDMA_PCI_D3HOT &&
		      (v->no_command_memory || (v->cmd & PCI_COMMAND_MEMORY));

	p2pdma_dma_set_decode(v->k, v->pdev, decode);
}

static void vlog(struct p2pdma_vfio_dev *v, const char *fmt, ...) P2PDMA_PRINTF(2, 3);
static void vlog(struct p2pdma_vfio_dev *v, const char *fmt, ...)
{
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	p2pdma_sys_lock(v->sys);
	p2pdma_klog(v->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE, "vfio-pci %s: %s", v->pdev->name, text);
	p2pdma_sys_unlock(v->sys);
}

/*
 * The triggers take memory_lock and then each buffer's reservation lock
 * (memory_lock -> resv). A caller that holds a reservation lock (an
 * importer's path) would wait on itself, or invert the order: refused
 * with the lock-rule WARNING instead of a deadlock of the model.
 */
static int resv_unheld(struct p2pdma_vfio_dev *v, const char *fn)
{
	if (!p2pdma_resv_held_any())
		return 0;
	p2pdma_sys_lock_violation(v->sys, fn, "called with a dma-buf reservation lock held (memory_lock is taken first)");
	return p2pdma_err(v->sys->ctx, -EDEADLK,
			  "%s %s: the caller holds a dma-buf reservation lock; VFIO takes memory_lock, then the reservation locks",
			  fn, v->pdev->name);
}

/* --- the exporter ops (§5.5) --- */

static int vbuf_attach(struct p2pdma_dmabuf *buf, struct p2pdma_dmabuf_attach *a)
{
	struct vfio_buf *priv = p2pdma_dmabuf_priv(buf);

	if (!p2pdma_dmabuf_attach_peer2peer(a))
		return p2pdma_err(buf->sys->ctx, -EOPNOTSUPP,
				  "attach %s to a VFIO dma-buf: the importer does not allow peer-to-peer",
				  p2pdma_dmabuf_attach_name(a));
	if (atomic_load(&priv->revoked))
		return p2pdma_err(buf->sys->ctx, -ENODEV, "attach %s: the VFIO dma-buf is revoked",
				  p2pdma_dmabuf_attach_name(a));
	return 0;
}

static int vbuf_pin(struct p2pdma_dmabuf_attach *a)
{
	struct p2pdma_dmabuf *buf = p2pdma_dmabuf_attach_buf(a);

	/* 61ceaf236115: pinned importers are refused */
	return p2pdma_err(buf->sys->ctx, -EOPNOTSUPP,
			  "pin %s: the VFIO exporter refuses to be pinned (revocable memory; 61ceaf236115)",
			  p2pdma_dmabuf_attach_name(a));
}

static void vbuf_unpin(struct p2pdma_dmabuf_attach *a)
{
	(void)a;
}

static int vbuf_map(struct p2pdma_dmabuf_attach *a, enum p2pdma_dma_dir dir,
		    struct p2pdma_sgt **sgt)
{
	struct p2pdma_dmabuf *buf = p2pdma_dmabuf_attach_buf(a);
	struct vfio_buf *priv = p2pdma_dmabuf_priv(buf);

	if (atomic_load(&priv->revoked))
		return p2pdma_err(buf->sys->ctx, -ENODEV, "map %s: the VFIO dma-buf is revoked",
				  p2pdma_dmabuf_attach_name(a));
	return p2pdma_dmabuf_phys_vec_to_sgt(a, priv->provider, priv->phys, priv->nr_ranges,
					     priv->size, dir, sgt);
}

static void vbuf_unmap(struct p2pdma_dmabuf_attach *a, struct p2pdma_sgt *sgt,
		       enum p2pdma_dma_dir dir)
{
	p2pdma_dmabuf_free_sgt(a, sgt, dir);
}

static void vbuf_release(struct p2pdma_dmabuf *buf)
{
	struct vfio_buf *priv = p2pdma_dmabuf_priv(buf);
	struct p2pdma_vfio_dev *v = __atomic_load_n(&priv->vdev, __ATOMIC_ACQUIRE);

	/* Either this or the cleanup at close unlinks it (re-checked under
	 * the lock: a close may be cleaning up right now). */
	if (v) {
		struct vfio_buf **pp;

		pthread_mutex_lock(&v->memory_lock);
		if (priv->vdev == v) {
			for (pp = &v->dmabufs; *pp; pp = &(*pp)->next)
				if (*pp == priv) {
					*pp = priv->next;
					break;
				}
			v->registrations--;	/* vfio_device_put_registration() */
		}
		pthread_mutex_unlock(&v->memory_lock);
	}
	free(priv->phys);
	free(priv);
}

/* vfio_pci_dma_buf_iommufd_map(): the private interconnect. */
static int vbuf_interconnect(struct p2pdma_dmabuf_attach *a, uint64_t *paddr, uint64_t *len)
{
	struct vfio_buf *priv = p2pdma_dmabuf_priv(p2pdma_dmabuf_attach_buf(a));

	if (atomic_load(&priv->revoked))
		return -ENODEV;
	if (priv->nr_ranges != 1)
		return -EOPNOTSUPP;	/* more than one range needs real dma-buf support */
	*paddr = priv->phys[0].paddr;
	*len = priv->phys[0].len;
	return 0;
}

static const struct p2pdma_dmabuf_ops vfio_ops = {
	.attach = vbuf_attach,
	.pin = vbuf_pin,
	.unpin = vbuf_unpin,
	.map = vbuf_map,
	.unmap = vbuf_unmap,
	.release = vbuf_release,
	.interconnect_phys = vbuf_interconnect,
};

/* 6.19-rc1..rc6: no pin. */
static const struct p2pdma_dmabuf_ops vfio_ops_nopin = {
	.attach = vbuf_attach,
	.map = vbuf_map,
	.unmap = vbuf_unmap,
	.release = vbuf_release,
	.interconnect_phys = vbuf_interconnect,
};

static bool is_vfio_buf(const struct p2pdma_dmabuf *buf)
{
	return buf->ops == &vfio_ops || buf->ops == &vfio_ops_nopin;
}

/*
 * vfio_pci_dma_buf_move(): memory_lock held. Buffers whose file is going
 * (refcount 0: get_file_active() fails) are skipped.
 */
static void dma_buf_move(struct p2pdma_vfio_dev *v, bool revoked)
{
	struct vfio_buf *b;

	for (b = v->dmabufs; b; b = b->next) {
		if (atomic_load(&b->dmabuf->refs) <= 0)
			continue;
		if (atomic_load(&b->revoked) == revoked)
			continue;
		p2pdma_resv_lock_raw(b->dmabuf);
		atomic_store(&b->revoked, revoked);
		p2pdma_dmabuf_revoke_locked(b->dmabuf, revoked);
		p2pdma_resv_unlock_raw(b->dmabuf);
	}
}

/* --- binding --- */

void p2pdma_vfio_teardown(struct p2pdma_dmasys *sys)
{
	struct p2pdma_vfio_dev *v, *vn;

	for (v = sys->vfio_devs; v; v = vn) {
		struct vfio_buf *b;

		vn = v->next;
		/* Buffers outlive the device model: cut their link. */
		for (b = v->dmabufs; b; b = b->next)
			__atomic_store_n(&b->vdev, NULL, __ATOMIC_RELEASE);
		pthread_mutex_destroy(&v->memory_lock);
		free(v);
	}
	sys->vfio_devs = NULL;
}

static struct p2pdma_vfio_dev *find_vdev(struct p2pdma_dmasys *sys, int di)
{
	struct p2pdma_vfio_dev *v;

	for (v = sys->vfio_devs; v; v = v->next)
		if (v->di == di)
			return v;
	return NULL;
}

static void unlink_vdev(struct p2pdma_dmasys *sys, struct p2pdma_vfio_dev *v)
{
	struct p2pdma_vfio_dev **pp;

	for (pp = &sys->vfio_devs; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			break;
		}
}

/* The kernel's unbind of a VFIO function: it waits for close and the
 * registrations; the model refuses while they are held. */
int p2pdma_vfio_on_unbind(struct p2pdma_dmasys *sys, int di)
{
	struct p2pdma_vfio_dev *v;
	unsigned int open;
	int regs;

	p2pdma_sys_lock(sys);
	v = find_vdev(sys, di);
	p2pdma_sys_unlock(sys);
	if (!v)
		return 0;
	pthread_mutex_lock(&v->memory_lock);
	open = v->open_count;
	regs = v->registrations;
	pthread_mutex_unlock(&v->memory_lock);
	if (open || regs > 0) {
		vlog(v, "unbind waits: %s%d dma-buf registration(s) held",
		     open ? "the device is open; " : "", regs);
		return p2pdma_err(sys->ctx, -EBUSY,
				  "unbind %s: VFIO holds it (%s%d dma-buf registration(s)); the kernel's unbind would wait",
				  v->pdev->name, open ? "open, " : "", regs);
	}
	p2pdma_sys_lock(sys);
	unlink_vdev(sys, v);
	p2pdma_sys_unlock(sys);
	pthread_mutex_destroy(&v->memory_lock);
	free(v);
	return 0;
}

P2PDMA_EXPORT int p2pdma_vfio_bind(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				   const struct p2pdma_vfio_bind_opts *opts,
				   struct p2pdma_vfio_dev **out)
{
	struct p2pdma_dmasys *sys = k->dma;
	struct p2pdma_vfio_bind_opts o = { sizeof(o), P2PDMA_VFIO_PCI, false, false, 0, 0, 0, 0 };
	const struct p2pdma_dev *d;
	struct p2pdma_vfio_dev *v;
	int ret;

	*out = NULL;
	if (!sys)
		return -ENOMEM;
	d = p2pdma_k_dev(k, dev);
	if (!d)
		return p2pdma_err(k->ctx, -EINVAL, "vfio bind: not a function of the kernel's machine");
	if (opts)
		memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
	o.size = sizeof(o);
	if ((d->header_type & 0x7f) != 0)
		return p2pdma_err(k->ctx, -EINVAL, "vfio bind %s: vfio-pci does not bind bridges", d->name);
	if (p2pdma_kernel_driver(k, d))
		return p2pdma_err(k->ctx, -EBUSY, "vfio bind %s: driver %s is bound (unbind it first)",
				  d->name, p2pdma_kernel_driver(k, d));
	if (p2pdma_dma_default_domain_type(k) == P2PDMA_DOMAIN_NONE && !o.noiommu)
		return p2pdma_err(k->ctx, -EINVAL,
				  "vfio bind %s: no IOMMU group (no IOMMU; vfio.enable_unsafe_noiommu_mode=1 would make a noiommu group)",
				  d->name);
	if (o.variant == P2PDMA_VFIO_NVGRACE && !o.usemem_len)
		return p2pdma_err(k->ctx, -EINVAL, "vfio bind %s: nvgrace-gpu needs its usable memory (usemem)",
				  d->name);
	v = p2pdma_sys_zalloc(sys, 1, sizeof(*v));
	if (!v)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	if (pthread_mutex_init(&v->memory_lock, NULL)) {
		free(v);
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	}
	ret = p2pdma_kernel_bind(k, d, variant_driver(o.variant));
	/* vfio_pci_core_init_dev(): P2P enabled by default (§5.8). */
	if (!ret)
		ret = p2pdma_kernel_p2pdma_init(k, d);
	if (ret) {
		if (p2pdma_kernel_driver(k, d))
			p2pdma_kernel_unbind(k, d);
		pthread_mutex_destroy(&v->memory_lock);
		free(v);
		return ret;
	}
	v->sys = sys;
	v->k = k;
	v->pdev = d;
	v->di = (int)d->index;
	v->opts = o;
	v->no_command_memory = d->is_vf;
	v->reset_works = !o.no_flr;
	v->power = P2PDMA_PCI_D0;
	p2pdma_sys_lock(sys);
	v->next = sys->vfio_devs;
	sys->vfio_devs = v;
	p2pdma_sys_unlock(sys);
	*out = v;
	return 0;
}

P2PDMA_EXPORT int p2pdma_vfio_unbind(struct p2pdma_vfio_dev *vdev)
{
	return p2pdma_kernel_unbind(vdev->k, vdev->pdev);
}

P2PDMA_EXPORT struct p2pdma_vfio_dev *p2pdma_vfio_lookup(struct p2pdma_kernel *k,
							 const struct p2pdma_dev *dev)
{
	struct p2pdma_vfio_dev *v;
	const struct p2pdma_dev *d;

	if (!k->dma || !(d = p2pdma_k_dev(k, dev)))
		return NULL;
	p2pdma_sys_lock(k->dma);
	v = find_vdev(k->dma, (int)d->index);
	p2pdma_sys_unlock(k->dma);
	return v;
}

P2PDMA_EXPORT const struct p2pdma_dev *p2pdma_vfio_pci_dev(const struct p2pdma_vfio_dev *vdev)
{
	return vdev->pdev;
}

/* --- open and close --- */

P2PDMA_EXPORT int p2pdma_vfio_open(struct p2pdma_vfio_dev *v)
{
	int ret = 0;

	pthread_mutex_lock(&v->memory_lock);
	if (!v->open_count && !v->opts.noiommu) {
		/* iommu_group_claim_dma_owner(): no host DMA driver in the group. */
		const struct p2pdma_topo *t = p2pdma_kernel_topo(v->k);
		int g = p2pdma_dma_group(v->k, v->pdev);
		size_t i;

		for (i = 0; g >= 0 && i < t->ndevs; i++) {
			const struct p2pdma_dev *o = t->devs[i];
			const char *drv;

			if ((int)i == v->di || p2pdma_dma_group(v->k, o) != g)
				continue;
			drv = p2pdma_kernel_driver(v->k, o);
			if (drv && !dma_managed_driver(drv)) {
				ret = p2pdma_err(v->sys->ctx, -EBUSY,
						 "open %s: IOMMU group %d is not viable: %s is driven by %s (a host DMA driver)",
						 v->pdev->name, g, o->name, drv);
				goto out;
			}
		}
	}
	if (!v->open_count) {
		/* vfio_pci_core_enable(): reset, then the virtual config from
		 * the enabled device: memory decode on (VFs: emulated). */
		v->power = P2PDMA_PCI_D0;
		v->cmd = PCI_COMMAND_MEMORY;
		v->pm_engaged = false;
		sync_decode(v);
	}
	v->open_count++;
out:
	pthread_mutex_unlock(&v->memory_lock);
	return ret;
}

P2PDMA_EXPORT int p2pdma_vfio_close(struct p2pdma_vfio_dev *v)
{
	if (resv_unheld(v, "vfio_pci_core_close_device"))
		return -EDEADLK;
	struct vfio_buf *b, *bn;
	unsigned int n = 0;

	pthread_mutex_lock(&v->memory_lock);
	if (!v->open_count) {
		pthread_mutex_unlock(&v->memory_lock);
		return -EBADF;
	}
	if (--v->open_count) {
		pthread_mutex_unlock(&v->memory_lock);
		return 0;
	}
	/* vfio_pci_core_disable() runs first: the device is reset and left in
	 * D3hot while its buffers are still live. */
	for (b = v->dmabufs; b; b = b->next)
		n += !atomic_load(&b->revoked);
	v->power = P2PDMA_PCI_D3HOT;
	v->pm_engaged = false;
	sync_decode(v);
	if (n)
		vlog(v, "close disables the device (reset, D3hot) before revoking its %u live dma-buf(s): an importer's DMA in between hits a BAR that does not decode",
		     n);
	/* vfio_pci_dma_buf_cleanup(): revoked for good, registrations dropped. */
	for (b = v->dmabufs; b; b = bn) {
		bn = b->next;
		if (atomic_load(&b->dmabuf->refs) <= 0)
			continue;	/* being released: release unlinks it */
		p2pdma_resv_lock_raw(b->dmabuf);
		__atomic_store_n(&b->vdev, NULL, __ATOMIC_RELEASE);
		atomic_store(&b->revoked, true);
		p2pdma_dmabuf_revoke_locked(b->dmabuf, true);
		p2pdma_resv_unlock_raw(b->dmabuf);
		v->registrations--;
		b->next = NULL;
	}
	v->dmabufs = NULL;
	pthread_mutex_unlock(&v->memory_lock);
	return 0;
}

P2PDMA_EXPORT bool p2pdma_vfio_is_open(const struct p2pdma_vfio_dev *vdev)
{
	return vdev->open_count > 0;
}

P2PDMA_EXPORT int p2pdma_vfio_region_size(const struct p2pdma_vfio_dev *v, unsigned int index,
					  uint64_t *size)
{
	if (index < 6) {
		if (v->opts.variant == P2PDMA_VFIO_NVGRACE && index == 2 && v->opts.resmem_len)
			*size = pow2_ceil(v->opts.resmem_len);
		else if (v->opts.variant == P2PDMA_VFIO_NVGRACE && index == 4)
			*size = pow2_ceil(v->opts.usemem_len);
		else
			*size = v->pdev->bars[index].size;
		return 0;
	}
	if (index == P2PDMA_VFIO_PCI_ROM_REGION_INDEX) {
		*size = 0;
		return 0;
	}
	if (index == P2PDMA_VFIO_PCI_CONFIG_REGION_INDEX) {
		*size = 4096;
		return 0;
	}
	return -EINVAL;
}

/* --- the revoke triggers (§5.6) --- */

/* With memory_lock held: 0 if the device is open, else -EBADF with the
 * lock dropped. */
static int need_open(struct p2pdma_vfio_dev *v)
{
	if (v->open_count)
		return 0;
	pthread_mutex_unlock(&v->memory_lock);
	return p2pdma_err(v->sys->ctx, -EBADF, "%s: the VFIO device is not open", v->pdev->name);
}

/*
 * The entry of a trigger called as @what: the caller must not hold the
 * reservation lock (-EDEADLK), then memory_lock is taken and the device
 * must be open. 0 with memory_lock held, or a negative errno without it.
 */
static int lock_open(struct p2pdma_vfio_dev *v, const char *what)
{
	if (resv_unheld(v, what))
		return -EDEADLK;
	pthread_mutex_lock(&v->memory_lock);
	return need_open(v);
}

P2PDMA_EXPORT int p2pdma_vfio_write_command(struct p2pdma_vfio_dev *v, uint16_t cmd)
{
	int rc = lock_open(v, "vfio_pci_write_config(PCI_COMMAND)");

	if (rc)
		return rc;
	if (!(cmd & PCI_COMMAND_MEMORY))
		dma_buf_move(v, true);	/* zap the BAR mmaps and revoke */
	v->cmd = cmd;
	sync_decode(v);
	if (mem_enabled(v))
		dma_buf_move(v, false);
	pthread_mutex_unlock(&v->memory_lock);
	return 0;
}

P2PDMA_EXPORT uint16_t p2pdma_vfio_command(const struct p2pdma_vfio_dev *vdev)
{
	return vdev->cmd;
}

P2PDMA_EXPORT int p2pdma_vfio_set_power_state(struct p2pdma_vfio_dev *v,
					      enum p2pdma_pci_power state)
{
	if (resv_unheld(v, "vfio_pm_config_write(PMCSR)"))
		return -EDEADLK;
	if (state < P2PDMA_PCI_D0 || state > P2PDMA_PCI_D3COLD)
		return -EINVAL;
	pthread_mutex_lock(&v->memory_lock);
	if (need_open(v))
		return -EBADF;
	if (state >= P2PDMA_PCI_D3HOT)
		dma_buf_move(v, true);
	/* A PF with VFs enabled refuses to leave D0 (vfio_pci_set_power_state). */
	if (state > P2PDMA_PCI_D0 && v->pdev->sriov_num)
		vlog(v, "power state unchanged: a PF with VFs enabled stays in D0");
	else
		v->power = state;
	sync_decode(v);
	if (mem_enabled(v))
		dma_buf_move(v, false);
	pthread_mutex_unlock(&v->memory_lock);
	return 0;
}

P2PDMA_EXPORT enum p2pdma_pci_power p2pdma_vfio_power_state(const struct p2pdma_vfio_dev *vdev)
{
	return vdev->power;
}

P2PDMA_EXPORT bool p2pdma_vfio_memory_enabled(const struct p2pdma_vfio_dev *vdev)
{
	return mem_enabled(vdev);
}

/* pci_try_reset_function() on the model: config restored, decode as before. */
static void function_reset(struct p2pdma_vfio_dev *v)
{
	if (v->power >= P2PDMA_PCI_D3HOT)
		v->power = P2PDMA_PCI_D0;
}

/* A function reset under memory_lock, as FLR and VFIO_DEVICE_RESET do it:
 * revoke, reset, then un-revoke if memory decode is still on. */
static void revoke_reset_restore(struct p2pdma_vfio_dev *v)
{
	dma_buf_move(v, true);
	function_reset(v);
	sync_decode(v);
	if (mem_enabled(v))
		dma_buf_move(v, false);
}

P2PDMA_EXPORT int p2pdma_vfio_initiate_flr(struct p2pdma_vfio_dev *v, bool af)
{
	int rc = lock_open(v, "vfio_exp_config_write(FLR)");

	if (rc)
		return rc;
	if (!v->reset_works) {
		pthread_mutex_unlock(&v->memory_lock);
		vlog(v, "%s initiate-FLR written: the device has no FLR capability, nothing happens",
		     af ? "AF" : "DevCtl");
		return 0;
	}
	revoke_reset_restore(v);
	pthread_mutex_unlock(&v->memory_lock);
	return 0;
}

P2PDMA_EXPORT int p2pdma_vfio_reset(struct p2pdma_vfio_dev *v)
{
	int rc = lock_open(v, "VFIO_DEVICE_RESET");

	if (rc)
		return rc;
	if (!v->reset_works) {
		pthread_mutex_unlock(&v->memory_lock);
		return p2pdma_err(v->sys->ctx, -EINVAL, "VFIO_DEVICE_RESET %s: no function reset",
				  v->pdev->name);
	}
	/* The ioctl brings the device to D0 first, then revokes. */
	v->power = P2PDMA_PCI_D0;
	revoke_reset_restore(v);
	pthread_mutex_unlock(&v->memory_lock);
	return 0;
}

P2PDMA_EXPORT int p2pdma_vfio_hot_reset(struct p2pdma_vfio_dev *v)
{
	if (resv_unheld(v, "VFIO_DEVICE_PCI_HOT_RESET"))
		return -EDEADLK;
	const struct p2pdma_topo *t = p2pdma_kernel_topo(v->k);
	struct p2pdma_vfio_dev **set;
	size_t i, n = 0;

	if (!v->open_count)
		return p2pdma_err(v->sys->ctx, -EBADF, "%s: the VFIO device is not open", v->pdev->name);
	set = p2pdma_sys_zalloc(v->sys, t->ndevs, sizeof(*set));
	if (!set)
		return p2pdma_err(v->sys->ctx, -ENOMEM, "out of memory");
	/* The device set: every function the bus reset touches. */
	for (i = 0; i < t->ndevs; i++) {
		const struct p2pdma_dev *o = t->devs[i];
		struct p2pdma_vfio_dev *ov;

		if (o->domain != v->pdev->domain || o->bus != v->pdev->bus)
			continue;
		ov = p2pdma_vfio_lookup(v->k, o);
		if (!ov) {
			free(set);
			return p2pdma_err(v->sys->ctx, -EINVAL,
					  "VFIO_DEVICE_PCI_HOT_RESET %s: %s on the same bus is not a VFIO device",
					  v->pdev->name, o->name);
		}
		set[n++] = ov;
	}
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&set[i]->memory_lock);
		dma_buf_move(set[i], true);
	}
	/* pci_reset_bus(); then, in reverse, un-revoke only open devices. */
	for (i = n; i-- > 0;) {
		function_reset(set[i]);
		sync_decode(set[i]);
		if (set[i]->open_count && mem_enabled(set[i]))
			dma_buf_move(set[i], false);
		else if (!set[i]->open_count)
			vlog(set[i], "reset with the bus but not open: nothing is restored (its dma-bufs, if it had any, were revoked for good at close; v9 checks open_count here after v8 dereferenced the NULL vdev of an unopened device)");
		pthread_mutex_unlock(&set[i]->memory_lock);
	}
	free(set);
	return 0;
}

P2PDMA_EXPORT int p2pdma_vfio_low_power_entry(struct p2pdma_vfio_dev *v, bool wakeup)
{
	int rc = lock_open(v, "VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY");

	if (rc)
		return rc;
	dma_buf_move(v, true);	/* before the engaged check, as the kernel */
	if (v->pm_engaged) {
		pthread_mutex_unlock(&v->memory_lock);
		return p2pdma_err(v->sys->ctx, -EINVAL, "LOW_POWER_ENTRY %s: already in low power",
				  v->pdev->name);
	}
	v->pm_engaged = true;
	v->pm_wakeup = wakeup;
	v->power = P2PDMA_PCI_D3HOT;	/* runtime suspend after the ioctl */
	sync_decode(v);
	pthread_mutex_unlock(&v->memory_lock);
	return 0;
}

P2PDMA_EXPORT int p2pdma_vfio_low_power_exit(struct p2pdma_vfio_dev *v)
{
	int rc = lock_open(v, "VFIO_DEVICE_FEATURE_LOW_POWER_EXIT");

	if (rc)
		return rc;
	v->pm_engaged = false;
	v->power = P2PDMA_PCI_D0;
	sync_decode(v);
	if (mem_enabled(v))
		dma_buf_move(v, false);
	pthread_mutex_unlock(&v->memory_lock);
	return 0;
}

P2PDMA_EXPORT bool p2pdma_vfio_wake(struct p2pdma_vfio_dev *v)
{
	bool left = false;

	pthread_mutex_lock(&v->memory_lock);
	if (v->pm_engaged && v->pm_wakeup) {
		/* vfio_pci_core_runtime_resume(): signal, leave low power, no
		 * un-revoke. */
		v->pm_engaged = false;
		v->power = P2PDMA_PCI_D0;
		sync_decode(v);
		left = true;
	}
	pthread_mutex_unlock(&v->memory_lock);
	if (left)
		vlog(v, "woken with its wake-up eventfd: low power left, its dma-bufs stay revoked until LOW_POWER_EXIT or another trigger");
	return left;
}

P2PDMA_EXPORT size_t p2pdma_vfio_num_dmabufs(struct p2pdma_vfio_dev *v)
{
	struct vfio_buf *b;
	size_t n = 0;

	pthread_mutex_lock(&v->memory_lock);
	for (b = v->dmabufs; b; b = b->next)
		n++;
	pthread_mutex_unlock(&v->memory_lock);
	return n;
}

P2PDMA_EXPORT int p2pdma_vfio_registrations(struct p2pdma_vfio_dev *v)
{
	int n;

	pthread_mutex_lock(&v->memory_lock);
	n = v->registrations;
	pthread_mutex_unlock(&v->memory_lock);
	return n;
}

P2PDMA_EXPORT int p2pdma_vfio_dmabuf_range(struct p2pdma_dmabuf *buf, size_t i,
					   uint64_t *paddr, uint64_t *len)
{
	struct vfio_buf *priv;

	if (!is_vfio_buf(buf))
		return -EINVAL;
	priv = p2pdma_dmabuf_priv(buf);
	if (i >= priv->nr_ranges)
		return -ENOENT;
	*paddr = priv->phys[i].paddr;
	*len = priv->phys[i].len;
	return 0;
}

/* --- VFIO_DEVICE_FEATURE (§5.2, §5.3) --- */

/* A trace of the checks: explain fills it, the ioctl passes NULL. */
struct trace {
	struct p2pdma_vfio_explain *ex;
};

static void ex_step(struct trace *tr, int err, const char *fmt, ...) P2PDMA_PRINTF(3, 4);
static void ex_step(struct trace *tr, int err, const char *fmt, ...)
{
	struct p2pdma_vfio_explain *ex;
	char text[512];
	va_list ap;

	if (!tr || !(ex = tr->ex))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (ex->nsteps == ex->capsteps) {
		size_t cap = ex->capsteps ? ex->capsteps * 2 : 16;
		struct vfio_step *n = realloc(ex->steps, cap * sizeof(*n));

		if (!n) {
			ex->oom = true;
			return;
		}
		ex->steps = n;
		ex->capsteps = cap;
	}
	ex->steps[ex->nsteps].text = strdup(text);
	if (!ex->steps[ex->nsteps].text) {
		ex->oom = true;
		return;
	}
	ex->steps[ex->nsteps++].err = err;
	if (err)
		snprintf(ex->reason, sizeof(ex->reason), "%s", text);
}

static void ex_note(struct trace *tr, const char *fmt, ...) P2PDMA_PRINTF(2, 3);
static void ex_note(struct trace *tr, const char *fmt, ...)
{
	struct p2pdma_vfio_explain *ex;
	char text[512], *s;
	va_list ap;

	if (!tr || !(ex = tr->ex))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (ex->nnotes == ex->capnotes) {
		size_t cap = ex->capnotes ? ex->capnotes * 2 : 8;
		char **n = realloc(ex->notes, cap * sizeof(*n));

		if (!n) {
			ex->oom = true;
			return;
		}
		ex->notes = n;
		ex->capnotes = cap;
	}
	s = strdup(text);
	if (!s) {
		ex->oom = true;
		return;
	}
	ex->notes[ex->nnotes++] = s;
}

/* A failing check: the errno, with its reason in the context and trace. */
#define FAIL(tr, v, err, ...)						\
	do {								\
		ex_step((tr), (err), __VA_ARGS__);			\
		return p2pdma_err((v)->sys->ctx, (err), __VA_ARGS__);	\
	} while (0)

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static const char *const feature_names[] = {
	"PCI_VF_TOKEN", "MIGRATION", "MIG_DEVICE_STATE", "LOW_POWER_ENTRY",
	"LOW_POWER_ENTRY_WITH_WAKEUP", "LOW_POWER_EXIT", "DMA_LOGGING_START",
	"DMA_LOGGING_STOP", "DMA_LOGGING_REPORT", "MIG_DATA_SIZE", "BUS_MASTER", "DMA_BUF",
};

static unsigned int release_kv(struct p2pdma_kernel *k, char *buf, size_t n)
{
	const char *rel = p2pdma_policy_kernel(p2pdma_kernel_policy(k));
	unsigned int maj = 0, min = 0;

	snprintf(buf, n, "%s", rel ? rel : "?");
	if (rel && sscanf(rel[0] == 'v' ? rel + 1 : rel, "%u.%u", &maj, &min) == 2)
		return maj * 1000 + min;
	return 0;
}

/* A fill_phys_vec() check over the ranges; 0 or the errno. */
static int fill_phys(struct p2pdma_vfio_dev *v, struct trace *tr,
		     const struct p2pdma_vfio_region_dma_range *r, uint32_t nr,
		     uint64_t start, uint64_t len, struct p2pdma_phys_vec *out,
		     const char *what)
{
	uint64_t max_addr = start + len;
	uint32_t i;

	for (i = 0; i < nr; i++) {
		uint64_t paddr, end;

		if (!r[i].length)
			FAIL(tr, v, -EINVAL, "range %u: length 0", i);
		if (__builtin_add_overflow(start, r[i].offset, &paddr) ||
		    __builtin_add_overflow(paddr, r[i].length, &end))
			FAIL(tr, v, -EOVERFLOW,
			     "range %u: %s start %#llx + offset %#llx + length %#llx overflows a physical address",
			     i, what, (unsigned long long)start, (unsigned long long)r[i].offset,
			     (unsigned long long)r[i].length);
		if (end > max_addr)
			FAIL(tr, v, -EINVAL,
			     "range %u: offset %#llx + length %#llx ends beyond the %s (%#llx bytes)",
			     i, (unsigned long long)r[i].offset, (unsigned long long)r[i].length,
			     what, (unsigned long long)len);
		if (out) {
			out[i].paddr = paddr;
			out[i].len = r[i].length;
		}
	}
	ex_step(tr, 0, "every range lies inside the %s (%#llx bytes at %#llx)", what,
		(unsigned long long)len, (unsigned long long)start);
	return 0;
}

/*
 * get_dmabuf_phys(): the provider and the physical ranges. nvgrace-gpu's
 * device-memory regions use BAR 0's provider, bounded by the real memory.
 */
static int get_dmabuf_phys(struct p2pdma_vfio_dev *v, struct trace *tr, uint32_t region,
			   const struct p2pdma_vfio_region_dma_range *r, uint32_t nr,
			   struct p2pdma_phys_vec *out, struct p2pdma_provider **prov)
{
	const struct p2pdma_bar *b;
	uint64_t memphys = 0, memlen = 0;
	char what[160];
	int bar = (int)region;

	if (v->opts.variant == P2PDMA_VFIO_NVGRACE &&
	    ((region == 2 && v->opts.resmem_len) || region == 4)) {
		memphys = region == 2 ? v->opts.resmem_phys : v->opts.usemem_phys;
		memlen = region == 2 ? v->opts.resmem_len : v->opts.usemem_len;
		bar = 0;
	}
	if (p2pdma_kernel_provider(v->k, v->pdev, bar, prov))
		FAIL(tr, v, -EINVAL,
		     "region %u: pcim_p2pdma_provider(BAR %d) is NULL: BAR %d of %s is not a memory BAR%s",
		     region, bar, bar, v->pdev->name,
		     v->pdev->bars[bar].size ? " (I/O port space)" :
		     " (not implemented, or the upper half of a 64-bit BAR)");
	if (memlen) {
		ex_step(tr, 0, "region %u is nvgrace-gpu %s: device memory, provider BAR 0's", region,
			region == 2 ? "RESMEM" : "USEMEM");
		snprintf(what, sizeof(what), "device memory of region %u (%#llx real of %#llx padded)",
			 region, (unsigned long long)memlen, (unsigned long long)pow2_ceil(memlen));
		return fill_phys(v, tr, r, nr, memphys, memlen, out, what);
	}
	b = &v->pdev->bars[bar];
	ex_step(tr, 0, "region %u is BAR %d, a memory BAR: provider found", region, bar);
	snprintf(what, sizeof(what), "BAR %d", bar);
	return fill_phys(v, tr, r, nr, b->cpu, b->size, out, what);
}

static void note_overlaps(struct trace *tr, const struct p2pdma_vfio_region_dma_range *r,
			  uint32_t nr)
{
	uint32_t i, j, shown = 0;

	if (!tr || nr > 4096)
		return;
	for (i = 0; i < nr && shown < 3; i++)
		for (j = i + 1; j < nr && shown < 3; j++)
			if (r[i].offset < r[j].offset + r[j].length &&
			    r[j].offset < r[i].offset + r[i].length) {
				ex_note(tr, "ranges %u and %u overlap: the kernel accepts it (only the BAR bounds are checked)",
					i, j);
				shown++;
			}
}

static int feature_dma_buf(struct p2pdma_vfio_dev *v, struct trace *tr, uint32_t flags,
			   const uint8_t *data, size_t argsz, size_t avail);

/* vfio_device_fops_unl_ioctl() -> vfio_ioctl_device_feature() -> dispatch. */
static int device_feature(struct p2pdma_vfio_dev *v, struct trace *tr, const uint8_t *arg,
			  size_t len)
{
	uint32_t argsz, flags, feature;
	char rel[64];
	unsigned int kv = release_kv(v->k, rel, sizeof(rel));

	if (!v->open_count)
		FAIL(tr, v, -EBADF, "the device is not open: there is no device file descriptor to issue the ioctl on");
	if (len < 8)
		FAIL(tr, v, -EFAULT, "copy_from_user(struct vfio_device_feature): only %zu of its 8 bytes are readable",
		     len);
	argsz = rd32(arg);
	flags = rd32(arg + 4);
	if (argsz < 8)
		FAIL(tr, v, -EINVAL, "argsz %u is smaller than struct vfio_device_feature (8)", argsz);
	ex_step(tr, 0, "argsz %u >= 8", argsz);
	if (flags & ~(P2PDMA_VFIO_DEVICE_FEATURE_MASK | P2PDMA_VFIO_DEVICE_FEATURE_GET |
		      P2PDMA_VFIO_DEVICE_FEATURE_SET | P2PDMA_VFIO_DEVICE_FEATURE_PROBE))
		FAIL(tr, v, -EINVAL, "flags %#x: unknown bits %#x (only the feature index, GET, SET and PROBE)",
		     flags, flags & ~(P2PDMA_VFIO_DEVICE_FEATURE_MASK | P2PDMA_VFIO_DEVICE_FEATURE_GET |
				      P2PDMA_VFIO_DEVICE_FEATURE_SET | P2PDMA_VFIO_DEVICE_FEATURE_PROBE));
	if (!(flags & P2PDMA_VFIO_DEVICE_FEATURE_PROBE) && (flags & P2PDMA_VFIO_DEVICE_FEATURE_SET) &&
	    (flags & P2PDMA_VFIO_DEVICE_FEATURE_GET))
		FAIL(tr, v, -EINVAL, "flags %#x: GET and SET together without PROBE", flags);
	ex_step(tr, 0, "flags %#x: known bits, not GET and SET together", flags);
	feature = flags & P2PDMA_VFIO_DEVICE_FEATURE_MASK;
	if (feature != P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF) {
		if (feature < P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF)
			FAIL(tr, v, -ENOSYS, "feature %u (%s) is not the dma-buf export: not modelled",
			     feature, feature_names[feature]);
		FAIL(tr, v, -ENOTTY, "feature %u is unknown to the kernel: ENOTTY", feature);
	}
	if (kv && kv < 6019)
		FAIL(tr, v, -ENOTTY,
		     "kernel %s has no VFIO_DEVICE_FEATURE_DMA_BUF (11, added in 6.19): an unknown feature, ENOTTY",
		     rel);
	ex_step(tr, 0, "feature 11 (DMA_BUF) is known to kernel %s", rel);
	return feature_dma_buf(v, tr, flags, arg + 8, argsz - 8, len - 8);
}

/*
 * vfio_pci_core_feature_dma_buf(). Without a trace it exports; with one
 * (explain) it stops before anything is created and says what would be.
 */
static int feature_dma_buf(struct p2pdma_vfio_dev *v, struct trace *tr, uint32_t flags,
			   const uint8_t *data, size_t argsz, size_t avail)
{
	struct p2pdma_vfio_region_dma_range *r = NULL;
	struct p2pdma_dmabuf_export_info info = { sizeof(info) };
	struct p2pdma_provider *prov = NULL;
	struct vfio_buf *priv = NULL;
	uint32_t region, open_flags, dflags, nr, i;
	uint64_t length = 0, bytes;
	bool doit = !tr;
	int ret, fd;

	/* 1. pci_ops->get_dmabuf_phys */
	if (v->opts.variant == P2PDMA_VFIO_VARIANT_NO_DMABUF)
		FAIL(tr, v, -EOPNOTSUPP, "driver %s has no get_dmabuf_phys (only vfio-pci and nvgrace-gpu export): EOPNOTSUPP",
		     variant_driver(v->opts.variant));
	ex_step(tr, 0, "driver %s has get_dmabuf_phys", variant_driver(v->opts.variant));
	/* 2. vfio_check_feature(flags, argsz, GET, 16) */
	if (flags & P2PDMA_VFIO_DEVICE_FEATURE_SET)
		FAIL(tr, v, -EINVAL, "SET requested: the dma-buf feature supports GET only");
	if (flags & P2PDMA_VFIO_DEVICE_FEATURE_PROBE) {
		ex_step(tr, 0, "PROBE: the feature is supported, nothing is exported (returns 0)");
		return 0;
	}
	if (!(flags & P2PDMA_VFIO_DEVICE_FEATURE_GET))
		FAIL(tr, v, -EINVAL, "neither GET nor PROBE requested");
	if (argsz < 16)
		FAIL(tr, v, -EINVAL, "argsz leaves %zu bytes for the payload, less than struct vfio_device_feature_dma_buf (16)",
		     argsz);
	ex_step(tr, 0, "GET with a payload of %zu >= 16 bytes", argsz);
	/* 3. copy the header */
	if (avail < 16)
		FAIL(tr, v, -EFAULT, "copy_from_user(struct vfio_device_feature_dma_buf): only %zu of its 16 bytes are readable",
		     avail);
	region = rd32(data);
	open_flags = rd32(data + 4);
	dflags = rd32(data + 8);
	nr = rd32(data + 12);
	ex_step(tr, 0, "header: region_index %u, open_flags %#x, flags %#x, nr_ranges %u", region,
		open_flags, dflags, nr);
	/* 4. */
	if (!nr)
		FAIL(tr, v, -EINVAL, "nr_ranges is 0");
	if (dflags)
		FAIL(tr, v, -EINVAL, "flags %#x: must be 0", dflags);
	/* 5. */
	if (region >= P2PDMA_VFIO_PCI_ROM_REGION_INDEX)
		FAIL(tr, v, -ENODEV, "region_index %u: only BARs 0-5 can be exported (6 is the ROM, 7 config, then VGA and device regions)",
		     region);
	ex_step(tr, 0, "nr_ranges %u > 0, flags 0, region %u is a BAR index", nr, region);
	/* 6. memdup_array_user(): argsz is not checked against nr_ranges. */
	bytes = (uint64_t)nr * 16;
	if (bytes > KMALLOC_MAX)
		FAIL(tr, v, -ENOMEM, "%u ranges are %llu bytes: more than kmalloc gives (%llu): ENOMEM",
		     nr, (unsigned long long)bytes, (unsigned long long)KMALLOC_MAX);
	if (avail - 16 < bytes)
		FAIL(tr, v, -EFAULT, "copy_from_user(%u ranges, %llu bytes): only %zu bytes follow the header",
		     nr, (unsigned long long)bytes, avail - 16);
	if (argsz - 16 < bytes)
		ex_note(tr, "argsz (%zu) does not cover the %u ranges (%llu bytes): the kernel reads them anyway (argsz is not checked against nr_ranges)",
			argsz + 8, nr, (unsigned long long)bytes);
	r = p2pdma_sys_alloc(v->sys, (size_t)bytes);
	if (!r)
		FAIL(tr, v, -ENOMEM, "memdup_array_user(): out of memory");
	for (i = 0; i < nr; i++) {
		r[i].offset = rd64(data + 16 + 16 * (size_t)i);
		r[i].length = rd64(data + 24 + 16 * (size_t)i);
	}
	ex_step(tr, 0, "%u range(s) copied (%llu bytes)", nr, (unsigned long long)bytes);
	/* 7. validate_dmabuf_input() */
	for (i = 0; i < nr; i++) {
		if (!r[i].length) {
			ex_step(tr, -EINVAL, "range %u: length 0", i);
			ret = p2pdma_err(v->sys->ctx, -EINVAL, "range %u: length 0", i);
			goto free_ranges;
		}
		if (r[i].offset & (P2PDMA_PAGE_SIZE - 1)) {
			ex_step(tr, -EINVAL, "range %u: offset %#llx is not page aligned", i,
				(unsigned long long)r[i].offset);
			ret = p2pdma_err(v->sys->ctx, -EINVAL, "range %u: offset %#llx is not page aligned",
					 i, (unsigned long long)r[i].offset);
			goto free_ranges;
		}
		if (r[i].length & (P2PDMA_PAGE_SIZE - 1)) {
			ex_step(tr, -EINVAL, "range %u: length %#llx is not page aligned", i,
				(unsigned long long)r[i].length);
			ret = p2pdma_err(v->sys->ctx, -EINVAL, "range %u: length %#llx is not page aligned",
					 i, (unsigned long long)r[i].length);
			goto free_ranges;
		}
		if (__builtin_add_overflow(length, r[i].length, &length)) {
			ex_step(tr, -EINVAL, "range %u: the total length overflows", i);
			ret = p2pdma_err(v->sys->ctx, -EINVAL, "range %u: the total length overflows", i);
			goto free_ranges;
		}
	}
	if (length & P2PDMA_DMA_IOVA_USE_SWIOTLB) {
		ex_step(tr, -EINVAL, "total length %#llx has bit 63 (DMA_IOVA_USE_SWIOTLB) set",
			(unsigned long long)length);
		ret = p2pdma_err(v->sys->ctx, -EINVAL, "total length %#llx has bit 63 set",
				 (unsigned long long)length);
		goto free_ranges;
	}
	ex_step(tr, 0, "every range page aligned and non-empty; total %#llx bytes", (unsigned long long)length);
	/* 8. */
	priv = p2pdma_sys_zalloc(v->sys, 1, sizeof(*priv));
	if (priv)
		priv->phys = p2pdma_sys_zalloc(v->sys, nr, sizeof(*priv->phys));
	if (!priv || !priv->phys) {
		ex_step(tr, -ENOMEM, "out of memory");
		ret = p2pdma_err(v->sys->ctx, -ENOMEM, "out of memory");
		goto free_priv;
	}
	priv->nr_ranges = nr;
	priv->size = length;
	/* 9. */
	ret = get_dmabuf_phys(v, tr, region, r, nr, priv->phys, &prov);
	if (ret)
		goto free_priv;
	note_overlaps(tr, r, nr);
	free(r);
	r = NULL;
	priv->provider = prov;
	/* 10. vfio_device_try_get_registration(): the open descriptor the
	 * ioctl came through holds one, so it cannot fail here. */
	pthread_mutex_lock(&v->memory_lock);
	if (doit)
		v->registrations++;
	pthread_mutex_unlock(&v->memory_lock);
	ex_step(tr, 0, "registration reference taken (held while the buffer is linked; the driver's unbind waits for it)");
	if (!doit) {
		bool revoked = !mem_enabled(v);

		ex_step(tr, 0, "dma_buf_export(): a %#llx-byte buffer, exporter vfio_pci_core, file flags %#x",
			(unsigned long long)length, open_flags & (03 | P2PDMA_O_NONBLOCK));
		ex_step(tr, 0, "the buffer starts %s (%s)", revoked ? "REVOKED" : "live",
			revoked ? (v->power >= P2PDMA_PCI_D3HOT ? "the device is in D3" :
				   "PCI_COMMAND has memory decode off") : "memory decode on, D0");
		if (revoked)
			ex_note(tr, "the export succeeds although the buffer starts revoked: attach and map fail ENODEV until memory is enabled");
		if (v->pm_engaged && !v->pm_wakeup)
			ex_note(tr, "the device is in low power: the ioctl resumes it, so the buffer starts live, and it suspends again afterwards");
		ex_step(tr, 0, "dma_buf_fd(open_flags %#x): a new descriptor (EMFILE if none is free)",
			open_flags);
		free(priv->phys);
		free(priv);
		return 0;
	}
	/* 11. */
	info.exp_name = "vfio_pci_core";
	info.ops = v->k->dma->quirks & P2PDMA_QUIRK_VFIO_NO_PIN ? &vfio_ops_nopin : &vfio_ops;
	info.size = length;
	info.flags = (int)open_flags;
	info.priv = priv;
	ret = p2pdma_dmabuf_export(v->k, &info, &priv->dmabuf);
	if (ret)
		goto put_registration;
	priv->dmabuf->provider = prov;
	/* 12. under memory_lock and the resv: revoked = !memory_enabled. */
	pthread_mutex_lock(&v->memory_lock);
	p2pdma_resv_lock_raw(priv->dmabuf);
	if (v->pm_engaged && !v->pm_wakeup)
		vlog(v, "dma-buf exported in low power: the ioctl resumed the device, the buffer starts live while the device suspends again");
	atomic_store(&priv->revoked, !mem_enabled(v) && !(v->pm_engaged && !v->pm_wakeup));
	__atomic_store_n(&priv->vdev, v, __ATOMIC_RELEASE);
	priv->next = v->dmabufs;
	v->dmabufs = priv;
	p2pdma_sys_lock(v->sys);
	ret = p2pdma_sys_guard_set(v->sys, priv->dmabuf, priv->phys, nr, false,
				   atomic_load(&priv->revoked));
	p2pdma_sys_unlock(v->sys);
	p2pdma_resv_unlock_raw(priv->dmabuf);
	pthread_mutex_unlock(&v->memory_lock);
	if (v->pm_engaged && v->pm_wakeup) {
		/* The ioctl's runtime resume used the wake-up eventfd: low power
		 * is left (the buffers it revoked stay revoked). */
		pthread_mutex_lock(&v->memory_lock);
		v->pm_engaged = false;
		v->power = P2PDMA_PCI_D0;
		sync_decode(v);
		pthread_mutex_unlock(&v->memory_lock);
	}
	if (ret) {
		p2pdma_dmabuf_put(priv->dmabuf);	/* release unlinks, drops the registration */
		return p2pdma_err(v->sys->ctx, ret, "out of memory");
	}
	/* 13. */
	fd = p2pdma_dmabuf_fd(priv->dmabuf, (int)open_flags);
	if (fd < 0) {
		struct p2pdma_dmabuf *buf = priv->dmabuf;

		p2pdma_dmabuf_put(buf);		/* release: unlink, put registration, free */
		if (v->k->dma->quirks & P2PDMA_QUIRK_VFIO_FD_DOUBLE_FREE) {
			/* 6.19 before e98137f0a874: the unwind goes on. */
			pthread_mutex_lock(&v->memory_lock);
			v->registrations--;
			pthread_mutex_unlock(&v->memory_lock);
			vlog(v, "dma_buf_fd() failed (%d): the error path put the dma-buf and then dropped the registration again and freed its private data a second time (double free; fixed by e98137f0a874)",
			     fd);
		}
		return fd;
	}
	return fd;

put_registration:
	pthread_mutex_lock(&v->memory_lock);
	v->registrations--;
	pthread_mutex_unlock(&v->memory_lock);
free_priv:
	if (priv)
		free(priv->phys);
	free(priv);
free_ranges:
	free(r);
	return ret;
}

P2PDMA_EXPORT int p2pdma_vfio_device_feature(struct p2pdma_vfio_dev *vdev, const void *arg,
					     size_t len)
{
	if (!arg && len)
		return -EFAULT;
	return device_feature(vdev, NULL, arg, len);
}

/* --- explain --- */

P2PDMA_EXPORT int p2pdma_vfio_explain_create(struct p2pdma_vfio_explain **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void explain_clear(struct p2pdma_vfio_explain *ex)
{
	size_t i;

	for (i = 0; i < ex->nsteps; i++)
		free(ex->steps[i].text);
	for (i = 0; i < ex->nnotes; i++)
		free(ex->notes[i]);
	for (i = 0; i < ex->nimp; i++)
		free(ex->imp[i].text);
	ex->nsteps = ex->nnotes = ex->nimp = 0;
	ex->reason[0] = '\0';
	ex->result = 0;
	ex->oom = false;
}

P2PDMA_EXPORT void p2pdma_vfio_explain_destroy(struct p2pdma_vfio_explain *ex)
{
	if (!ex)
		return;
	explain_clear(ex);
	free(ex->steps);
	free(ex->notes);
	free(ex->imp);
	free(ex);
}

/* Why a pair has its map type, in a few words. */
static void verdict_why(struct p2pdma_kernel *k, const struct p2pdma_dev *owner,
			const struct p2pdma_dev *client, char *buf, size_t n)
{
	struct p2pdma_verdict *vd;
	const struct p2pdma_dev *c, *h, *h2;
	char two[96] = "";
	size_t i, off = 0;

	buf[0] = '\0';
	if (p2pdma_verdict_create(&vd))
		return;
	p2pdma_router_calc(p2pdma_kernel_router(k), owner, client, false, vd);
	c = p2pdma_verdict_common(vd);
	switch (p2pdma_verdict_map_type(vd)) {
	case P2PDMA_MAP_BUS_ADDR:
		snprintf(buf, n, "through %s, the common upstream bridge, no ACS redirect on the path",
			 c ? c->name : "?");
		break;
	default:
		if (p2pdma_verdict_num_acs(vd)) {
			off += (size_t)snprintf(buf + off, n - off, "ACS redirect on");
			for (i = 0; i < p2pdma_verdict_num_acs(vd) && i < 3 && off < n; i++)
				off += (size_t)snprintf(buf + off, n - off, " %s", p2pdma_verdict_acs(vd, i)->name);
			if (off < n)
				off += (size_t)snprintf(buf + off, n - off, " sends it to the host bridge; ");
		} else if (!c && off < n) {
			off += (size_t)snprintf(buf + off, n - off, "no common upstream bridge; ");
		}
		if (off >= n)
			break;
		h = p2pdma_verdict_hostdev(vd, 0);
		h2 = p2pdma_verdict_same_host_bridge(vd) ? NULL : p2pdma_verdict_hostdev(vd, 1);
		if (h2 && h && h2 != h)
			snprintf(two, sizeof(two), " and %s %04x:%04x", h2->name, h2->vendor, h2->device);
		if (p2pdma_verdict_cpu_rule(vd))
			snprintf(buf + off, n - off, "the AMD Zen CPU rule admits the host bridge");
		else if (p2pdma_verdict_allow_listed(vd))
			snprintf(buf + off, n - off, "host bridge%s %s %04x:%04x%s %s on the allow list",
				 two[0] ? "s" : "", h ? h->name : "?", h ? h->vendor : 0,
				 h ? h->device : 0, two, two[0] ? "are" : "is");
		else if (!h)
			snprintf(buf + off, n - off, "no host bridge device to check against the allow list");
		else
			snprintf(buf + off, n - off, "host bridge%s %s %04x:%04x%s not on the allow list for this path",
				 two[0] ? "s" : "", h->name, h->vendor, h->device, two);
		break;
	}
	p2pdma_verdict_destroy(vd);
}

static void add_importer(struct p2pdma_vfio_explain *ex, const struct p2pdma_dev *d,
			 enum p2pdma_map_type t, int err, const char *fmt, ...) P2PDMA_PRINTF(5, 6);
static void add_importer(struct p2pdma_vfio_explain *ex, const struct p2pdma_dev *d,
			 enum p2pdma_map_type t, int err, const char *fmt, ...)
{
	char text[768];
	va_list ap;
	int n0;

	if (ex->nimp == ex->capimp) {
		size_t cap = ex->capimp ? ex->capimp * 2 : 16;
		struct vfio_importer_outcome *n = realloc(ex->imp, cap * sizeof(*n));

		if (!n) {
			ex->oom = true;
			return;
		}
		ex->imp = n;
		ex->capimp = cap;
	}
	va_start(ap, fmt);
	n0 = snprintf(text, sizeof(text), "%s: ", d->name);
	vsnprintf(text + n0, sizeof(text) - (size_t)n0, fmt, ap);
	va_end(ap);
	ex->imp[ex->nimp].text = strdup(text);
	if (!ex->imp[ex->nimp].text) {
		ex->oom = true;
		return;
	}
	ex->imp[ex->nimp].dev = d;
	ex->imp[ex->nimp].type = t;
	ex->imp[ex->nimp].err = err;
	ex->nimp++;
}

/* What an importer on every other endpoint function gets at map. */
static void explain_importers(struct p2pdma_vfio_dev *v, struct p2pdma_vfio_explain *ex,
			      const uint8_t *payload, bool revoked)
{
	const struct p2pdma_topo *t = p2pdma_kernel_topo(v->k);
	uint32_t region = rd32(payload), nr = rd32(payload + 12);
	int bar = (v->opts.variant == P2PDMA_VFIO_NVGRACE &&
		   ((region == 2 && v->opts.resmem_len) || region == 4)) ? 0 : (int)region;
	uint64_t base = v->pdev->bars[bar].cpu, off0 = rd64(payload + 16), total = 0;
	uint64_t bus_off = v->pdev->bars[bar].bus - v->pdev->bars[bar].cpu;
	unsigned int q = p2pdma_dma_quirks(v->k);
	char why[384];
	uint32_t i;
	size_t d;

	if (bar == 0 && (int)region != bar)
		base = region == 2 ? v->opts.resmem_phys : v->opts.usemem_phys;
	for (i = 0; i < nr && i < 1u << 20; i++)
		total += rd64(payload + 24 + 16 * (size_t)i);
	for (d = 0; d < t->ndevs; d++) {
		const struct p2pdma_dev *imp = t->devs[d];
		struct p2pdma_iommu_domain *dom = NULL;
		enum p2pdma_map_type mt;
		bool cached;

		if ((int)d == v->di || (imp->header_type & 0x7f) != 0)
			continue;
		if (revoked) {
			add_importer(ex, imp, P2PDMA_MAP_UNKNOWN, -ENODEV,
				     "attach fails ENODEV: the buffer starts revoked");
			continue;
		}
		mt = p2pdma_kernel_cache_lookup(v->k, v->pdev, imp);
		cached = mt != P2PDMA_MAP_UNKNOWN;
		if (!cached)
			mt = p2pdma_router_map_type(p2pdma_kernel_router(v->k), v->pdev, imp, NULL);
		verdict_why(v->k, v->pdev, imp, why, sizeof(why));
		switch (mt) {
		case P2PDMA_MAP_BUS_ADDR:
			add_importer(ex, imp, mt, 0,
				     "BUS_ADDR %s: bus addresses from %#llx, %u entr%s, no IOMMU mapping%s",
				     why, (unsigned long long)(base + off0 + bus_off), nr,
				     nr == 1 ? "y" : "ies", cached ? " (cached verdict)" : "");
			break;
		case P2PDMA_MAP_THRU_HOST_BRIDGE:
			p2pdma_dma_domain(v->k, imp, &dom);
			if (dom && p2pdma_iommu_domain_type(dom) == P2PDMA_DOMAIN_DMA) {
				if (nr > 1 && (q & P2PDMA_QUIRK_SGT_IOVA_OFFSET_ZERO))
					add_importer(ex, imp, mt, -EEXIST,
						     "THRU_HOST_BRIDGE (%s), IOVA through its IOMMU (DMA domain %u): map fails EEXIST: every one of the %u ranges is linked at IOVA offset 0, the second collides with the first",
						     why, p2pdma_iommu_domain_id(dom), nr);
				else
					add_importer(ex, imp, mt, 0,
						     "THRU_HOST_BRIDGE (%s): one IOVA span of %#llx bytes through its IOMMU (DMA domain %u)",
						     why, (unsigned long long)total, p2pdma_iommu_domain_id(dom));
			} else {
				add_importer(ex, imp, mt, 0,
					     "THRU_HOST_BRIDGE (%s): CPU physical addresses from %#llx through dma_map_phys(DMA_ATTR_MMIO), one per range (%s)",
					     why, (unsigned long long)(base + off0),
					     dom ? "identity domain: IOMMU passthrough" : "no IOMMU: dma-direct");
			}
			break;
		default:
			add_importer(ex, imp, mt, -EINVAL,
				     "NOT_SUPPORTED: attach succeeds, map fails EINVAL: %s", why);
			break;
		}
	}
}

P2PDMA_EXPORT int p2pdma_vfio_explain(struct p2pdma_vfio_dev *vdev, const void *arg,
				      size_t len, struct p2pdma_vfio_explain *ex)
{
	struct trace tr = { ex };
	const uint8_t *a = arg;
	int ret;

	explain_clear(ex);
	if (!arg && len)
		len = 0;
	ret = device_feature(vdev, &tr, a, len);
	ex->result = ret;
	if (!ret && len >= 24 && (rd32(a + 4) & P2PDMA_VFIO_DEVICE_FEATURE_GET) &&
	    !(rd32(a + 4) & P2PDMA_VFIO_DEVICE_FEATURE_PROBE))
		explain_importers(vdev, ex, a + 8, !mem_enabled(vdev) &&
				  !(vdev->pm_engaged && !vdev->pm_wakeup));
	if (ex->oom)
		return -ENOMEM;
	return ret;
}

P2PDMA_EXPORT int p2pdma_vfio_explain_result(const struct p2pdma_vfio_explain *ex)
{
	return ex->result;
}

P2PDMA_EXPORT size_t p2pdma_vfio_explain_num_steps(const struct p2pdma_vfio_explain *ex)
{
	return ex->nsteps;
}

P2PDMA_EXPORT const char *p2pdma_vfio_explain_step(const struct p2pdma_vfio_explain *ex,
						   size_t i, int *err)
{
	if (i >= ex->nsteps)
		return NULL;
	if (err)
		*err = ex->steps[i].err;
	return ex->steps[i].text;
}

P2PDMA_EXPORT const char *p2pdma_vfio_explain_reason(const struct p2pdma_vfio_explain *ex)
{
	return ex->reason;
}

P2PDMA_EXPORT size_t p2pdma_vfio_explain_num_notes(const struct p2pdma_vfio_explain *ex)
{
	return ex->nnotes;
}

P2PDMA_EXPORT const char *p2pdma_vfio_explain_note(const struct p2pdma_vfio_explain *ex,
						   size_t i)
{
	return i < ex->nnotes ? ex->notes[i] : NULL;
}

P2PDMA_EXPORT size_t p2pdma_vfio_explain_num_importers(const struct p2pdma_vfio_explain *ex)
{
	return ex->nimp;
}

P2PDMA_EXPORT const char *p2pdma_vfio_explain_importer(const struct p2pdma_vfio_explain *ex,
						       size_t i, const struct p2pdma_dev **dev,
						       enum p2pdma_map_type *type, int *err)
{
	if (i >= ex->nimp)
		return NULL;
	if (dev)
		*dev = ex->imp[i].dev;
	if (type)
		*type = ex->imp[i].type;
	if (err)
		*err = ex->imp[i].err;
	return ex->imp[i].text;
}
