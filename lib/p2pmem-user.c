// SPDX-License-Identifier: LGPL-2.1-or-later
/* p2pmem-user.c - the process: p2pmem/allocate mappings, GUP pins, O_DIRECT on block queues (doc/kernel-model.md §1.5) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context-private.h"
#include "p2pmem-private.h"
#include "policy-private.h"

#define PAGE ((uint64_t)P2PDMA_PAGE_SIZE)

/* --- pins: pfn -> count --- */

static size_t pin_hash(size_t nbuckets, uint64_t pfn)
{
	return (size_t)((pfn * 0x9e3779b97f4a7c15ULL) >> 32) & (nbuckets - 1);
}

static struct p2pdma_pin *pin_find(const struct p2pdma_kp2pmem *m, uint64_t pfn)
{
	struct p2pdma_pin *p;

	if (!m || !m->npins_buckets)
		return NULL;
	for (p = m->pins[pin_hash(m->npins_buckets, pfn)]; p; p = p->next)
		if (p->pfn == pfn)
			return p;
	return NULL;
}

uint32_t p2pdma_pin_count(const struct p2pdma_kernel *k, uint64_t pfn)
{
	const struct p2pdma_pin *p = pin_find(k->p2pmem, pfn);

	return p ? p->count : 0;
}

static int pin_add(struct p2pdma_kernel *k, uint64_t pfn)
{
	struct p2pdma_kp2pmem *m = k->p2pmem;
	struct p2pdma_pin *p = pin_find(m, pfn);

	if (p) {
		p->count++;
		return 0;
	}
	if (m->npinned >= m->npins_buckets) {
		size_t n = m->npins_buckets ? m->npins_buckets * 2 : 64, i;
		struct p2pdma_pin **nb = p2pdma_zalloc(k->ctx, n, sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		for (i = 0; i < m->npins_buckets; i++) {
			struct p2pdma_pin *x, *next;

			for (x = m->pins[i]; x; x = next) {
				next = x->next;
				x->next = nb[pin_hash(n, x->pfn)];
				nb[pin_hash(n, x->pfn)] = x;
			}
		}
		free(m->pins);
		m->pins = nb;
		m->npins_buckets = n;
	}
	p = p2pdma_zalloc(k->ctx, 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pfn = pfn;
	p->count = 1;
	p->next = m->pins[pin_hash(m->npins_buckets, pfn)];
	m->pins[pin_hash(m->npins_buckets, pfn)] = p;
	m->npinned++;
	return 0;
}

/* Drop one pin. Return: the pins left, -1 if the page was not pinned. */
static int pin_sub(struct p2pdma_kp2pmem *m, uint64_t pfn)
{
	struct p2pdma_pin **pp, *p;

	if (!m || !m->npins_buckets)
		return -1;
	for (pp = &m->pins[pin_hash(m->npins_buckets, pfn)]; (p = *pp); pp = &p->next) {
		if (p->pfn != pfn)
			continue;
		if (--p->count)
			return (int)p->count;
		*pp = p->next;
		free(p);
		m->npinned--;
		return 0;
	}
	return -1;
}

/* --- VMAs --- */

static struct p2pdma_vma *vma_find(const struct p2pdma_kp2pmem *m, uint64_t va)
{
	struct p2pdma_vma *v;

	for (v = m ? m->vmas : NULL; v; v = v->next)
		if (va >= v->start && va - v->start < v->len)
			return v;
	return NULL;
}

static void vma_insert(struct p2pdma_kp2pmem *m, struct p2pdma_vma *nv)
{
	struct p2pdma_vma **pp = &m->vmas;

	while (*pp && (*pp)->start < nv->start)
		pp = &(*pp)->next;
	nv->next = *pp;
	*pp = nv;
}

/* A fresh user range (mmap's "anywhere"): right after the previous one. */
static uint64_t vma_place(struct p2pdma_kp2pmem *m, uint64_t len)
{
	uint64_t va = m->next_uaddr;

	m->next_uaddr += len;
	return va;
}

P2PDMA_EXPORT void p2pdma_user_set_comm(struct p2pdma_kernel *k, const char *comm, int pid)
{
	struct p2pdma_kp2pmem *m = p2pdma_kp2pmem_get(k);

	if (!m)
		return;
	snprintf(m->comm, sizeof(m->comm), "%s", comm ? comm : "");
	m->pid = pid;
}

P2PDMA_EXPORT int p2pdma_p2pmem_mmap(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				     uint64_t len, uint64_t offset, unsigned int flags,
				     uint64_t *uaddr)
{
	const struct p2pdma_dev *d;
	struct p2pdma_kp2pmem *m;
	struct p2pdma_kp2pdma *p;
	struct p2pdma_pgmap *pg;
	struct p2pdma_vma *v;
	uint64_t npages, idx;
	int ret = p2pdma_k_dev_of(k, dev, &d);

	*uaddr = 0;
	if (ret)
		return ret;
	m = p2pdma_kp2pmem_get(k);
	if (!m)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	/* mmap(2) itself, before the file's handler. */
	if (!len || len > (1ULL << 46) || (offset & (PAGE - 1)))
		return p2pdma_err(k->ctx, -EINVAL, "mmap(%s/p2pmem/allocate): length %#" PRIx64
				  " or offset %#" PRIx64 " refused by mmap(2)", d->name, len, offset);
	if (p2pdma_k_version(k) < P2PDMA_KV(6, 2))
		return p2pdma_err(k->ctx, -ENOENT,
				  "%s: no p2pmem/allocate before Linux 6.2 (kernel %s)", d->name,
				  p2pdma_policy_kernel(k->pol));
	p = k->devs[d->index].p2pdma;
	if (!p || !p->pool)
		return p2pdma_err(k->ctx, -ENOENT, "%s has no p2pmem/ directory", d->name);
	if (p->pool->allocate_removed)
		return p2pdma_err(k->ctx, -ENODEV,
				  "mmap(%s/p2pmem/allocate): the file was removed by the teardown",
				  d->name);
	/* p2pmem_alloc_mmap() */
	if (!(flags & P2PDMA_MMAP_SHARED)) {
		p2pdma_klog_dev(k, d, "%s: fail, attempted private mapping", m->comm);
		return p2pdma_err(k->ctx, -EINVAL, "mmap(%s/p2pmem/allocate): a private mapping",
				  d->name);
	}
	if (offset) {
		p2pdma_klog_dev(k, d, "%s: fail, attempted mapping with non-zero offset", m->comm);
		return p2pdma_err(k->ctx, -EINVAL, "mmap(%s/p2pmem/allocate): offset %#" PRIx64,
				  d->name, offset);
	}
	npages = (len + PAGE - 1) / PAGE;
	v = p2pdma_zalloc(k->ctx, 1, sizeof(*v));
	if (!v)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	ret = p2pdma_pool_take_user(k, d, npages, &pg, &idx);
	if (ret) {
		free(v);
		return p2pdma_err(k->ctx, ret, ret == -ENODEV ?
				  "mmap(%s/p2pmem/allocate): the range found is being torn down" :
				  "mmap(%s/p2pmem/allocate): no contiguous free block that large",
				  d->name);
	}
	v->kind = VMA_P2PMEM;
	v->len = npages * PAGE;
	v->start = vma_place(m, v->len);
	v->pgmap = pg;
	v->phys = pg->cpu + idx * PAGE;
	vma_insert(m, v);
	*uaddr = v->start;
	return 0;
}

P2PDMA_EXPORT int p2pdma_user_mmap_anon(struct p2pdma_kernel *k, uint64_t len, uint64_t *uaddr)
{
	struct p2pdma_kp2pmem *m = p2pdma_kp2pmem_get(k);
	struct p2pdma_vma *v;

	*uaddr = 0;
	if (!m)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	if (!len || len > (1ULL << 46))
		return p2pdma_err(k->ctx, -EINVAL, "mmap(MAP_ANONYMOUS): length %#" PRIx64, len);
	v = p2pdma_zalloc(k->ctx, 1, sizeof(*v));
	if (!v)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	v->kind = VMA_ANON;
	v->len = (len + PAGE - 1) & ~(PAGE - 1);
	v->start = vma_place(m, v->len);
	v->phys = (m->nram ? m->ram[0].start : P2PDMA_RAM_BASE) + m->next_ram;
	m->next_ram += v->len;
	vma_insert(m, v);
	*uaddr = v->start;
	return 0;
}

/* Unmap the P2P pages of [lo, hi) of @v: each drops its mapping's reference. */
static void unmap_pages(struct p2pdma_kernel *k, struct p2pdma_vma *v, uint64_t lo, uint64_t hi)
{
	uint64_t va;

	if (v->kind != VMA_P2PMEM || v->zapped || !v->pgmap)
		return;
	for (va = lo; va < hi; va += PAGE) {
		uint64_t phys = v->phys + (va - v->start);
		uint64_t idx = (phys - v->pgmap->cpu) / PAGE;

		if (p2pdma_pin_count(k, phys >> P2PDMA_PAGE_SHIFT))
			p2pdma_pstate_set(v->pgmap, idx, PSTATE_HELD);
		else
			p2pdma_pgmap_put_user_page(v->pgmap, idx);
	}
}

P2PDMA_EXPORT int p2pdma_user_munmap(struct p2pdma_kernel *k, uint64_t uaddr, uint64_t len)
{
	struct p2pdma_kp2pmem *m = k->p2pmem;
	struct p2pdma_vma **pp, *v, *spare;
	uint64_t end;

	if ((uaddr & (PAGE - 1)) || !len || len > (1ULL << 46))
		return p2pdma_err(k->ctx, -EINVAL, "munmap(%#" PRIx64 ", %#" PRIx64 "): bad range",
				  uaddr, len);
	if (!m)
		return 0;
	end = uaddr + ((len + PAGE - 1) & ~(PAGE - 1));
	/* At most one mapping is split in two: get its second half first. */
	spare = p2pdma_zalloc(k->ctx, 1, sizeof(*spare));
	if (!spare)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	for (pp = &m->vmas; (v = *pp);) {
		uint64_t vend = v->start + v->len;
		uint64_t lo = v->start > uaddr ? v->start : uaddr, hi = vend < end ? vend : end;

		if (lo >= hi) {
			pp = &v->next;
			continue;
		}
		unmap_pages(k, v, lo, hi);
		if (lo == v->start && hi == vend) {
			*pp = v->next;
			free(v);
			continue;
		}
		if (lo > v->start && hi < vend) {
			*spare = *v;
			spare->start = hi;
			spare->len = vend - hi;
			spare->phys = v->phys + (hi - v->start);
			spare->next = v->next;
			v->next = spare;
			spare = NULL;
			v->len = lo - v->start;
		} else if (lo == v->start) {
			v->phys += hi - v->start;
			v->len = vend - hi;
			v->start = hi;
		} else {
			v->len = lo - v->start;
		}
		pp = &v->next;
	}
	free(spare);
	p2pdma_p2pmem_progress(k);
	return 0;
}

/* --- GUP --- */

static void unpin_quiet(struct p2pdma_kernel *k, const uint64_t *pfns, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		uint64_t phys = pfns[i] << P2PDMA_PAGE_SHIFT;
		struct p2pdma_pgmap *pg;

		if (pin_sub(k->p2pmem, pfns[i]) != 0)
			continue;
		/* The last pin of an unmapped page: put_page() frees it. */
		pg = p2pdma_pgmap_of(k, phys);
		if (pg && p2pdma_pstate_get(pg, (phys - pg->cpu) / PAGE) == PSTATE_HELD)
			p2pdma_pgmap_put_user_page(pg, (phys - pg->cpu) / PAGE);
	}
}

/* One page for GUP: 0 and its pfn, or the errno the walk stops with. */
static int gup_one(struct p2pdma_kernel *k, uint64_t va, unsigned int flags, uint64_t *pfn)
{
	const struct p2pdma_vma *v = vma_find(k->p2pmem, va);
	uint64_t phys;

	if (!v)
		return -EFAULT;
	if (v->kind == VMA_P2PMEM && (v->zapped || !v->pgmap))
		return -EFAULT;		/* the fault handler raises SIGBUS */
	phys = v->phys + (va - v->start);
	/* try_grab_folio(): P2PDMA pages only for callers that can DMA them. */
	if (p2pdma_pgmap_of(k, phys) && !(flags & P2PDMA_FOLL_PCI_P2PDMA))
		return -EREMOTEIO;
	*pfn = phys >> P2PDMA_PAGE_SHIFT;
	return 0;
}

P2PDMA_EXPORT long p2pdma_user_pin(struct p2pdma_kernel *k, uint64_t uaddr, unsigned long npages,
				   unsigned int gup_flags, uint64_t *pfns)
{
	struct p2pdma_kp2pmem *m = p2pdma_kp2pmem_get(k);
	unsigned long i;

	if (!m)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	/* is_valid_gup_args(): keep every pgmap removable. */
	if ((gup_flags & P2PDMA_FOLL_LONGTERM) && (gup_flags & P2PDMA_FOLL_PCI_P2PDMA)) {
		if (!m->warned_longterm)
			p2pdma_klog(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
				    "WARNING: CPU: 0 PID: %d at mm/gup.c is_valid_gup_args", m->pid);
		m->warned_longterm = true;
		return p2pdma_err(k->ctx, -EINVAL,
				  "pin_user_pages(%#" PRIx64 "): FOLL_LONGTERM with FOLL_PCI_P2PDMA is refused (WARN_ON_ONCE)",
				  uaddr);
	}
	if (!pfns || (uaddr & (PAGE - 1)))
		return p2pdma_err(k->ctx, -EINVAL, "pin_user_pages(%#" PRIx64 "): bad arguments", uaddr);
	for (i = 0; i < npages; i++) {
		int ret = gup_one(k, uaddr + i * PAGE, gup_flags, &pfns[i]);

		if (!ret && pin_add(k, pfns[i])) {
			/* The model's own memory, not GUP's answer: undo all. */
			unpin_quiet(k, pfns, i);
			return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
		}
		if (!ret)
			continue;
		if (i)
			break;	/* GUP returns what it pinned before the failure */
		return p2pdma_err(k->ctx, ret, "pin_user_pages(%#" PRIx64 "): %s", uaddr + i * PAGE,
				  ret == -EREMOTEIO ?
				  "a P2PDMA page without FOLL_PCI_P2PDMA" :
				  ret == -EFAULT ? "no page mapped there" : "out of memory");
	}
	return (long)i;
}

P2PDMA_EXPORT int p2pdma_user_unpin(struct p2pdma_kernel *k, const uint64_t *pfns,
				    unsigned long npages)
{
	unsigned long i;
	int ret = 0;

	for (i = 0; i < npages; i++) {
		if (p2pdma_pin_count(k, pfns[i])) {
			unpin_quiet(k, &pfns[i], 1);
			continue;
		}
		ret = p2pdma_err(k->ctx, -EINVAL,
				 "unpin_user_pages(): page %#" PRIx64 " is not pinned (its refcount would underflow)",
				 pfns[i] << P2PDMA_PAGE_SHIFT);
	}
	p2pdma_p2pmem_progress(k);
	return ret;
}

/* --- block queues --- */

struct p2pdma_blkq {
	struct p2pdma_kernel *k;
	uint32_t dev;
	char name[32];
	unsigned int features;
	struct p2pdma_blkq *next;
};

struct blk_seg {
	uint64_t dma, len;
	bool bus;
};

struct blk_bio {
	enum p2pdma_map_type map;
	const struct p2pdma_provider *prov;
	uint64_t len;
	size_t seg0, nseg;
};

struct p2pdma_blk_result {
	int err;
	size_t nbios, capbios;
	struct blk_bio *bios;
	size_t nsegs, capsegs;
	struct blk_seg *segs;
};

P2PDMA_EXPORT int p2pdma_blkq_create(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				     const char *name, unsigned int features,
				     struct p2pdma_blkq **out)
{
	const struct p2pdma_dev *d;
	struct p2pdma_kp2pmem *m;
	struct p2pdma_blkq *q;
	int ret = p2pdma_k_dev_of(k, dev, &d);

	*out = NULL;
	if (ret)
		return ret;
	m = p2pdma_kp2pmem_get(k);
	q = m ? p2pdma_zalloc(k->ctx, 1, sizeof(*q)) : NULL;
	if (!q)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	q->k = k;
	q->dev = d->index;
	snprintf(q->name, sizeof(q->name), "%s", name ? name : "disk");
	q->features = features;
	q->next = m->queues;
	m->queues = q;
	*out = q;
	return 0;
}

P2PDMA_EXPORT const struct p2pdma_dev *p2pdma_blkq_dev(const struct p2pdma_blkq *q)
{
	return p2pdma_k_topo(q->k)->devs[q->dev];
}

P2PDMA_EXPORT void p2pdma_blkq_destroy(struct p2pdma_blkq *q)
{
	struct p2pdma_blkq **pp;

	if (!q)
		return;
	for (pp = &q->k->p2pmem->queues; *pp != q; pp = &(*pp)->next)
		;
	*pp = q->next;
	free(q);
}

P2PDMA_EXPORT int p2pdma_blk_result_create(struct p2pdma_blk_result **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

P2PDMA_EXPORT void p2pdma_blk_result_destroy(struct p2pdma_blk_result *res)
{
	if (!res)
		return;
	free(res->bios);
	free(res->segs);
	free(res);
}

/* Grow an array of @size-byte elements to hold one more. */
static int grow(struct p2pdma_ctx *ctx, void **arr, size_t *cap, size_t n, size_t size)
{
	void *na;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	na = p2pdma_alloc(ctx, ncap * size);
	if (!na)
		return -ENOMEM;
	if (n)
		memcpy(na, *arr, n * size);
	free(*arr);
	*arr = na;
	*cap = ncap;
	return 0;
}

static int add_seg(struct p2pdma_ctx *ctx, struct p2pdma_blk_result *r, struct blk_bio *b,
		   uint64_t dma, uint64_t len, bool bus)
{
	struct blk_seg *last = b->nseg ? &r->segs[b->seg0 + b->nseg - 1] : NULL;

	/* Physically (or bus-) contiguous pages merge into one segment. */
	if (last && last->bus == bus && last->dma + last->len == dma) {
		last->len += len;
		return 0;
	}
	if (grow(ctx, (void **)&r->segs, &r->capsegs, r->nsegs, sizeof(*r->segs)))
		return -ENOMEM;
	r->segs[r->nsegs].dma = dma;
	r->segs[r->nsegs].len = len;
	r->segs[r->nsegs].bus = bus;
	if (!b->nseg)
		b->seg0 = r->nsegs;
	r->nsegs++;
	b->nseg++;
	return 0;
}

/* The errno a NOT_SUPPORTED bio ends the request with (doc/kernel-model.md §1.5). */
static int not_supported_errno(const struct p2pdma_kernel *k)
{
	return p2pdma_k_version(k) >= P2PDMA_KV(6, 17) ? -EINVAL : -EREMOTEIO;
}

/* Map each bio for the queue's device; stop at the first that fails. */
static int map_bios(struct p2pdma_blkq *q, struct p2pdma_blk_result *r, const uint64_t *pfns,
		    uint64_t uaddr, uint64_t len)
{
	struct p2pdma_kernel *k = q->k;
	const struct p2pdma_dev *client = p2pdma_k_topo(k)->devs[q->dev];
	struct p2pdma_map_state state = { NULL, P2PDMA_MAP_UNKNOWN };
	uint64_t first = uaddr & ~(PAGE - 1), done = 0;
	size_t page = 0, b;
	int ret;

	/* bio_iov_iter_get_pages(): a new bio where the pgmap changes. */
	while (done < len) {
		uint64_t off = page ? 0 : uaddr - first;
		uint64_t chunk = PAGE - off < len - done ? PAGE - off : len - done;
		const struct p2pdma_pgmap *pg = p2pdma_pgmap_of(k, pfns[page] << P2PDMA_PAGE_SHIFT);
		const struct p2pdma_provider *prov = pg ? pg->mem : NULL;

		if (!r->nbios || r->bios[r->nbios - 1].prov != prov) {
			if (grow(k->ctx, (void **)&r->bios, &r->capbios, r->nbios, sizeof(*r->bios)))
				return -ENOMEM;
			memset(&r->bios[r->nbios], 0, sizeof(r->bios[0]));
			r->bios[r->nbios].prov = prov;
			r->bios[r->nbios].map = P2PDMA_MAP_NONE;
			r->nbios++;
		}
		r->bios[r->nbios - 1].len += chunk;
		done += chunk;
		page++;
	}
	/* The DMA mapping, bio by bio, page by page (pci_p2pdma_state()). */
	done = 0;
	page = 0;
	for (b = 0; b < r->nbios; b++) {
		struct blk_bio *bio = &r->bios[b];
		uint64_t left = bio->len;

		while (left) {
			uint64_t off = page ? 0 : uaddr - first;
			uint64_t chunk = PAGE - off < left ? PAGE - off : left;
			uint64_t phys = (pfns[page] << P2PDMA_PAGE_SHIFT) + off;
			enum p2pdma_map_type t = p2pdma_map_state_update(k, &state, client, phys);

			bio->map = t;
			switch (t) {
			case P2PDMA_MAP_BUS_ADDR:
				ret = add_seg(k->ctx, r, bio,
					      p2pdma_provider_bus_addr_map(state.mem, phys), chunk, true);
				break;
			case P2PDMA_MAP_THRU_HOST_BRIDGE:
			case P2PDMA_MAP_NONE:
				/* dma-direct: the CPU physical address (an IOMMU would give an IOVA) */
				ret = add_seg(k->ctx, r, bio, phys, chunk, false);
				break;
			default:
				return p2pdma_err(k->ctx, not_supported_errno(k),
						  "%s: O_DIRECT request refused: %s cannot reach the P2P memory of %s (%s)",
						  q->name, client->name,
						  p2pdma_provider_owner(state.mem)->name,
						  p2pdma_map_type_name(t));
			}
			if (ret)
				return -ENOMEM;
			left -= chunk;
			page++;
		}
	}
	return 0;
}

P2PDMA_EXPORT int p2pdma_blkq_direct_io(struct p2pdma_blkq *q, bool write, uint64_t uaddr,
					uint64_t len, struct p2pdma_blk_result *res)
{
	struct p2pdma_kernel *k = q->k;
	struct p2pdma_blk_result local = { 0 }, *r = res ? res : &local;
	unsigned int flags = write ? 0 : P2PDMA_FOLL_WRITE;
	uint64_t first, npages, *pfns;
	long pinned;
	int ret;

	r->err = 0;
	r->nbios = 0;
	r->nsegs = 0;
	if (!len || ((uaddr | len) & 511) || len > (1ULL << 31)) {
		ret = p2pdma_err(k->ctx, -EINVAL,
				 "%s: O_DIRECT needs a 512-byte aligned buffer and length (%#" PRIx64 ", %" PRIu64 ")",
				 q->name, uaddr, len);
		goto out;
	}
	first = uaddr & ~(PAGE - 1);
	npages = (uaddr + len - first + PAGE - 1) / PAGE;
	pfns = p2pdma_alloc(k->ctx, npages * sizeof(*pfns));
	if (!pfns) {
		ret = p2pdma_err(k->ctx, -ENOMEM, "out of memory");
		goto out;
	}
	/* iov_iter_extract_pages(): ITER_ALLOW_P2PDMA only on capable queues. */
	if (q->features & P2PDMA_BLK_FEAT_PCI_P2PDMA)
		flags |= P2PDMA_FOLL_PCI_P2PDMA;
	pinned = p2pdma_user_pin(k, first, npages, flags, pfns);
	if (pinned >= 0 && (uint64_t)pinned < npages) {
		uint64_t pfn;
		long again = p2pdma_user_pin(k, first + (uint64_t)pinned * PAGE, 1, flags, &pfn);

		/* The bio after the pinned ones gets the walk's error. */
		if (again == 1)
			unpin_quiet(k, &pfn, 1);
		ret = again < 0 ? (int)again : -EFAULT;
	} else {
		ret = pinned < 0 ? (int)pinned : 0;
	}
	if (!ret)
		ret = map_bios(q, r, pfns, uaddr, len);
	if (pinned > 0)
		unpin_quiet(k, pfns, (unsigned long)pinned);
	free(pfns);
	p2pdma_p2pmem_progress(k);
out:
	r->err = ret;
	if (r == &local) {
		free(local.bios);
		free(local.segs);
	}
	return ret;
}

P2PDMA_EXPORT int p2pdma_blk_result_errno(const struct p2pdma_blk_result *res)
{
	return res->err;
}

P2PDMA_EXPORT size_t p2pdma_blk_result_num_bios(const struct p2pdma_blk_result *res)
{
	return res->nbios;
}

P2PDMA_EXPORT int p2pdma_blk_result_bio(const struct p2pdma_blk_result *res, size_t i,
					enum p2pdma_map_type *map,
					const struct p2pdma_provider **provider, uint64_t *len)
{
	if (i >= res->nbios)
		return -1;
	if (map)
		*map = res->bios[i].map;
	if (provider)
		*provider = res->bios[i].prov;
	if (len)
		*len = res->bios[i].len;
	return (int)res->bios[i].nseg;
}

P2PDMA_EXPORT uint64_t p2pdma_blk_result_seg(const struct p2pdma_blk_result *res, size_t bio,
					     size_t seg, uint64_t *len, bool *bus)
{
	const struct blk_seg *s;

	if (bio >= res->nbios || seg >= res->bios[bio].nseg)
		return 0;
	s = &res->segs[res->bios[bio].seg0 + seg];
	if (len)
		*len = s->len;
	if (bus)
		*bus = s->bus;
	return s->dma;
}

/* --- the end of the kernel --- */

void p2pdma_kp2pmem_destroy(struct p2pdma_kernel *k)
{
	struct p2pdma_kp2pmem *m = k->p2pmem;
	struct p2pdma_vma *v, *vn;
	struct p2pdma_blkq *q, *qn;
	size_t i;

	if (!m)
		return;
	for (v = m->vmas; v; v = vn) {
		vn = v->next;
		free(v);
	}
	for (i = 0; i < m->npins_buckets; i++) {
		struct p2pdma_pin *p, *pn;

		for (p = m->pins[i]; p; p = pn) {
			pn = p->next;
			free(p);
		}
	}
	free(m->pins);
	for (q = m->queues; q; q = qn) {
		qn = q->next;
		free(q);
	}
	free(m->ram);
	free(m);
	k->p2pmem = NULL;
}
