// SPDX-License-Identifier: LGPL-2.1-or-later
/* p2pmem.c - ZONE_DEVICE P2P memory: add_resource, pgmaps, the pool, sysfs, teardown (doc/kernel-model.md §1.5) */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context-private.h"
#include "p2pmem-private.h"
#include "policy-private.h"

#define PAGE ((uint64_t)P2PDMA_PAGE_SIZE)

/* --- the layer's state --- */

struct p2pdma_kp2pmem *p2pdma_kp2pmem_get(struct p2pdma_kernel *k)
{
	struct p2pdma_kp2pmem *m = k->p2pmem;

	if (m)
		return m;
	m = p2pdma_zalloc(k->ctx, 1, sizeof(*m));
	if (!m)
		return NULL;
	snprintf(m->comm, sizeof(m->comm), "p2pdma");
	m->pid = 1000;
	m->next_pgmap = 1;
	m->next_alloc = 1;
	m->next_uaddr = P2PDMA_UVA_BASE;
	k->p2pmem = m;
	return m;
}

unsigned int p2pdma_k_version(const struct p2pdma_kernel *k)
{
	const char *s = p2pdma_policy_kernel(k->pol);
	unsigned int a = 0, b = 0;

	if (!s || sscanf(s, "%u.%u", &a, &b) != 2)
		return P2PDMA_KV(99, 0);	/* unknown: the newest behaviour */
	return P2PDMA_KV(a, b);
}

/* Set pages [start, start + n) to @st: whole bytes (4 pages) at once. */
static void pstate_fill(struct p2pdma_pgmap *pg, uint64_t start, uint64_t n,
			enum p2pdma_pstate st)
{
	uint64_t i = start, end = start + n;

	for (; i < end && (i & 3); i++)
		p2pdma_pstate_set(pg, i, st);
	if (end - i >= 4) {
		memset(&pg->state[i >> 2], (int)(0x55u * (unsigned int)st), (size_t)((end - i) >> 2));
		i += (end - i) & ~3ULL;
	}
	for (; i < end; i++)
		p2pdma_pstate_set(pg, i, st);
}

static struct p2pdma_kp2pdma *kstate(const struct p2pdma_kernel *k,
				     const struct p2pdma_dev *d)
{
	return d ? k->devs[d->index].p2pdma : NULL;
}

static struct p2pdma_kpool *kpool(const struct p2pdma_kernel *k, const struct p2pdma_dev *d)
{
	struct p2pdma_kp2pdma *p = kstate(k, d);

	return p ? p->pool : NULL;
}

static struct p2pdma_kpool *pool_of_pgmap(const struct p2pdma_pgmap *pg)
{
	return pg->k->devs[pg->dev].p2pdma->pool;
}

static const struct p2pdma_dev *pgmap_owner(const struct p2pdma_pgmap *pg)
{
	return p2pdma_k_topo(pg->k)->devs[pg->dev];
}

struct p2pdma_pgmap *p2pdma_pgmap_of(const struct p2pdma_kernel *k, uint64_t phys)
{
	struct p2pdma_pgmap *pg;

	if (!k->p2pmem)
		return NULL;
	for (pg = k->p2pmem->pgmaps; pg; pg = pg->next_global)
		if (phys >= pg->cpu && phys - pg->cpu < pg->size)
			return pg;
	return NULL;
}

/* The chunk of @pool holding kernel address @kva. */
static struct p2pdma_pgmap *chunk_of(const struct p2pdma_kpool *pool, uint64_t kva)
{
	struct p2pdma_pgmap *pg;

	for (pg = pool->chunks; pg; pg = pg->next_chunk)
		if (kva >= P2PDMA_KVA_BASE + pg->cpu && kva - P2PDMA_KVA_BASE - pg->cpu < pg->size)
			return pg;
	return NULL;
}

/* A WARN: the message, then where (line numbers differ between releases). */
static void kwarn(struct p2pdma_kernel *k, const char *where, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);

static void kwarn(struct p2pdma_kernel *k, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p2pdma_klog(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE, "%s", msg);
	p2pdma_klog(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE, "WARNING: CPU: 0 PID: %d at %s",
		    k->p2pmem ? k->p2pmem->pid : 1, where);
}

/* --- live allocations, hashed by address --- */

static size_t kalloc_hash(const struct p2pdma_kpool *pool, uint64_t kva)
{
	uint64_t x = (kva >> P2PDMA_PAGE_SHIFT) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(x >> 32) & (pool->nbuckets - 1);
}

static struct p2pdma_kalloc *kalloc_find(const struct p2pdma_kpool *pool, uint64_t kva)
{
	struct p2pdma_kalloc *a;

	if (!pool->nbuckets)
		return NULL;
	for (a = pool->buckets[kalloc_hash(pool, kva)]; a; a = a->next)
		if (a->kva == kva)
			return a;
	return NULL;
}

static int kalloc_insert(struct p2pdma_kernel *k, struct p2pdma_kpool *pool,
			 struct p2pdma_kalloc *a)
{
	if (pool->nallocs >= pool->nbuckets) {
		size_t n = pool->nbuckets ? pool->nbuckets * 2 : 64, i;
		struct p2pdma_kalloc **nb = p2pdma_zalloc(k->ctx, n, sizeof(*nb));
		struct p2pdma_kpool tmp = { .nbuckets = n };

		if (!nb)
			return -ENOMEM;
		tmp.buckets = nb;
		for (i = 0; i < pool->nbuckets; i++) {
			struct p2pdma_kalloc *x, *next;

			for (x = pool->buckets[i]; x; x = next) {
				size_t h = kalloc_hash(&tmp, x->kva);

				next = x->next;
				x->next = nb[h];
				nb[h] = x;
			}
		}
		free(pool->buckets);
		pool->buckets = nb;
		pool->nbuckets = n;
	}
	a->next = pool->buckets[kalloc_hash(pool, a->kva)];
	pool->buckets[kalloc_hash(pool, a->kva)] = a;
	pool->nallocs++;
	return 0;
}

static void kalloc_remove(struct p2pdma_kpool *pool, struct p2pdma_kalloc *a)
{
	struct p2pdma_kalloc **pp = &pool->buckets[kalloc_hash(pool, a->kva)];

	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	pool->nallocs--;
}

/* The live allocation of @pool whose pages contain @kva (slow: messages only). */
static struct p2pdma_kalloc *kalloc_containing(const struct p2pdma_kpool *pool, uint64_t kva)
{
	size_t i;

	for (i = 0; i < pool->nbuckets; i++) {
		struct p2pdma_kalloc *a;

		for (a = pool->buckets[i]; a; a = a->next)
			if (kva >= a->kva && kva - a->kva < a->npages * PAGE)
				return a;
	}
	return NULL;
}

/* --- pages in and out of a range --- */

/*
 * gen_pool_alloc_owner(): chunks newest first, a chunk skipped when its
 * free count is too small, first fit inside. Then percpu_ref_tryget_live
 * on the chunk's owner: a dying pgmap fails the allocation (genalloc does
 * not try the next chunk then).
 */
static int pool_take(struct p2pdma_kpool *pool, uint64_t npages, enum p2pdma_pstate st,
		     struct p2pdma_pgmap **out, uint64_t *idx)
{
	struct p2pdma_pgmap *pg;

	for (pg = pool->chunks; pg; pg = pg->next_chunk) {
		int64_t start;

		if (pg->dead || pg->map.nfree < npages)
			continue;
		start = p2pdma_ffmap_find(&pg->map, npages);
		if (start < 0)
			continue;
		if (pg->dying)
			return -ENODEV;
		p2pdma_ffmap_set(&pg->map, (uint64_t)start, npages, false);
		pstate_fill(pg, (uint64_t)start, npages, st);
		pool->allocated += npages * PAGE;
		*out = pg;
		*idx = (uint64_t)start;
		return 0;
	}
	return -ENOMEM;
}

static void pool_give(struct p2pdma_pgmap *pg, uint64_t idx, uint64_t npages)
{
	p2pdma_ffmap_set(&pg->map, idx, npages, true);
	pstate_fill(pg, idx, npages, PSTATE_FREE);
	pool_of_pgmap(pg)->allocated -= npages * PAGE;
}

/* The largest free run of any range of @pool, in pages. */
static uint64_t pool_largest(const struct p2pdma_kpool *pool)
{
	const struct p2pdma_pgmap *pg;
	uint64_t best = 0;

	for (pg = pool->chunks; pg; pg = pg->next_chunk)
		if (!pg->dead && p2pdma_ffmap_largest(&pg->map) > best)
			best = p2pdma_ffmap_largest(&pg->map);
	return best;
}

/* A user-held page lost its last reference: p2pdma_folio_free(). */
void p2pdma_pgmap_put_user_page(struct p2pdma_pgmap *pg, uint64_t idx)
{
	pool_give(pg, idx, 1);
	pg->refs--;
	pg->user_pages--;
}

int p2pdma_pool_take_user(struct p2pdma_kernel *k, const struct p2pdma_dev *d,
			  uint64_t npages, struct p2pdma_pgmap **pg, uint64_t *idx)
{
	int ret = pool_take(kpool(k, d), npages, PSTATE_USER, pg, idx);

	if (!ret) {
		(*pg)->refs += npages;	/* percpu_ref_get() per inserted page */
		(*pg)->user_pages += npages;
	}
	return ret;
}

/* --- the pool setup and the ranges --- */

static int pool_setup(struct p2pdma_kernel *k, struct p2pdma_kp2pdma *p)
{
	if (p->pool)
		return 0;
	/* gen_pool_create(PAGE_SHIFT, node) and the p2pmem sysfs group. */
	p->pool = p2pdma_zalloc(k->ctx, 1, sizeof(*p->pool));
	return p->pool ? 0 : -ENOMEM;
}

static struct p2pdma_pgmap *pgmap_new(struct p2pdma_kernel *k, const struct p2pdma_dev *d,
				      int bar, uint64_t offset, uint64_t size)
{
	const struct p2pdma_bar *b = &d->bars[bar];
	struct p2pdma_pgmap *pg = p2pdma_zalloc(k->ctx, 1, sizeof(*pg));

	if (!pg)
		return NULL;
	pg->k = k;
	pg->dev = d->index;
	pg->mem = k->devs[d->index].p2pdma->mem[bar];
	pg->cpu = b->cpu + offset;
	pg->bus = b->bus + offset;
	pg->size = size;
	pg->npages = size / PAGE;
	return pg;
}

/* memmap_init_zone_device(): the page metadata, every page free. */
static int pgmap_populate(struct p2pdma_kernel *k, struct p2pdma_pgmap *pg)
{
	int ret = p2pdma_ffmap_init(&pg->map, k->ctx, pg->npages);

	if (ret)
		return ret;
	pg->state = p2pdma_zalloc(k->ctx, (size_t)((pg->npages + 3) / 4), 1);
	if (!pg->state) {
		p2pdma_ffmap_fini(&pg->map);
		return -ENOMEM;
	}
	return 0;
}

static void pgmap_free(struct p2pdma_pgmap *pg)
{
	if (!pg)
		return;
	p2pdma_ffmap_fini(&pg->map);
	free(pg->state);
	free(pg);
}

/* gen_pool_add_owner(): the newest range is walked first. */
static void pool_add_chunk(struct p2pdma_kernel *k, struct p2pdma_kpool *pool,
			   struct p2pdma_pgmap *pg)
{
	pg->id = k->p2pmem->next_pgmap++;
	pg->next_chunk = pool->chunks;
	pool->chunks = pg;
	pool->nchunks++;
	pool->size += pg->size;
	pg->next_global = k->p2pmem->pgmaps;
	k->p2pmem->pgmaps = pg;
}

/* Is [start, start + size) in System RAM? 0 no, 1 entirely, 2 partly. */
static int ram_intersects(const struct p2pdma_kp2pmem *m, uint64_t start, uint64_t size)
{
	uint64_t covered = 0;
	unsigned int i;

	for (i = 0; i < m->nram; i++) {
		uint64_t a = m->ram[i].start, b = a + m->ram[i].size;
		uint64_t lo = a > start ? a : start, hi = b < start + size ? b : start + size;

		if (lo < hi)
			covered += hi - lo;
	}
	return !covered ? 0 : covered >= size ? 1 : 2;
}

/* MAX_PHYSMEM_BITS: x86-64 with 4-level paging 46, arm64 48. */
static unsigned int physmem_bits(const struct p2pdma_kernel *k)
{
	const char *arch = p2pdma_k_topo(k)->machine.arch;

	return arch && !strcmp(arch, "aarch64") ? 48 : 46;
}

/*
 * memremap_pages() -> pagemap_range() for one range, in the kernel's
 * order: a pgmap already at the first or last pfn, System RAM, the
 * hotpluggable physical range, then __add_pages()' sub-section alignment.
 */
static int memremap_checks(struct p2pdma_kernel *k, const struct p2pdma_dev *d,
			   uint64_t start, uint64_t size)
{
	struct p2pdma_kp2pmem *m = k->p2pmem;
	uint64_t end = start + size - 1, max = (1ULL << physmem_bits(k)) - 1;
	const struct p2pdma_pgmap *pg;
	int ram;

	if (p2pdma_pgmap_of(k, start) || p2pdma_pgmap_of(k, end)) {
		kwarn(k, "mm/memremap.c pagemap_range", "Conflicting mapping in same section");
		return p2pdma_err(k->ctx, -ENOMEM,
				  "pci_p2pdma_add_resource(%s): %#" PRIx64 "-%#" PRIx64
				  " overlaps a range that already has struct pages (WARN, -ENOMEM)",
				  d->name, start, end);
	}
	ram = ram_intersects(m, start, size);
	if (ram) {
		if (!m->warned_ram)
			kwarn(k, "mm/memremap.c pagemap_range",
			      "attempted on %s region %#" PRIx64 "-%#" PRIx64,
			      ram == 2 ? "mixed" : "ram", start, end);
		m->warned_ram = true;
		return p2pdma_err(k->ctx, -ENXIO,
				  "pci_p2pdma_add_resource(%s): %#" PRIx64 "-%#" PRIx64
				  " intersects System RAM", d->name, start, end);
	}
	if (end > max || end < start) {
		p2pdma_klog(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "Hotplug memory [%#" PRIx64 "-%#" PRIx64 "] exceeds maximum addressable range [%#x-%#" PRIx64 "]",
			    start, start + size, 0, max);
		return p2pdma_err(k->ctx, -EINVAL,
				  "pci_p2pdma_add_resource(%s): %#" PRIx64 "-%#" PRIx64
				  " is above the %u-bit physical address space memory hotplug covers",
				  d->name, start, end, physmem_bits(k));
	}
	if ((start | size) & (P2PDMA_SUBSECTION_SIZE - 1)) {
		kwarn(k, "mm/memory_hotplug.c __add_pages",
		      "Misaligned __add_pages start: %#" PRIx64 " end: %#" PRIx64,
		      start >> P2PDMA_PAGE_SHIFT, (start + size) / PAGE - 1);
		return p2pdma_err(k->ctx, -EINVAL,
				  "pci_p2pdma_add_resource(%s): %#" PRIx64 "-%#" PRIx64
				  ": start and size must be multiples of the 2 MiB sub-section (memremap_compat_align())",
				  d->name, start, end);
	}
	/*
	 * Only the first and last pfn were looked up above: a range that
	 * swallows another pgmap passes them and fails in sparse_add_section()
	 * on the sub-sections that already have a memmap.
	 */
	for (pg = m->pgmaps; pg; pg = pg->next_global)
		if (pg->cpu <= end && start <= pg->cpu + pg->size - 1)
			return p2pdma_err(k->ctx, -EEXIST,
					  "pci_p2pdma_add_resource(%s): %#" PRIx64 "-%#" PRIx64
					  " contains the struct pages of %#" PRIx64 "-%#" PRIx64 " (sparse_add_section(): -EEXIST)",
					  d->name, start, end, pg->cpu, pg->cpu + pg->size - 1);
	return 0;
}

P2PDMA_EXPORT int p2pdma_kernel_add_resource(struct p2pdma_kernel *k,
					     const struct p2pdma_dev *dev, int bar,
					     uint64_t size, uint64_t offset)
{
	const struct p2pdma_dev *d;
	const struct p2pdma_bar *b;
	struct p2pdma_kp2pdma *p;
	struct p2pdma_pgmap *pg;
	int ret = p2pdma_k_dev_of(k, dev, &d);

	if (ret)
		return ret;
	if (bar < 0 || bar >= P2PDMA_NUM_BARS)
		return p2pdma_err(k->ctx, -EINVAL, "%s: BAR %d does not exist", d->name, bar);
	b = &d->bars[bar];
	/* 1. IORESOURCE_MEM. */
	if (!(b->flags & P2PDMA_BAR_MEM) || !b->size)
		return p2pdma_err(k->ctx, -EINVAL,
				  "pci_p2pdma_add_resource(%s, BAR %d): not a memory BAR",
				  d->name, bar);
	/* 2. offset inside the BAR. */
	if (offset >= b->size)
		return p2pdma_err(k->ctx, -EINVAL,
				  "pci_p2pdma_add_resource(%s, BAR %d): offset %#" PRIx64
				  " beyond the BAR (%#" PRIx64 " bytes)", d->name, bar, offset, b->size);
	/* 3. size 0: the rest of the BAR. */
	if (!size)
		size = b->size - offset;
	/* 4. the range fits. */
	if (size > b->size - offset)
		return p2pdma_err(k->ctx, -EINVAL,
				  "pci_p2pdma_add_resource(%s, BAR %d): %#" PRIx64 " bytes at %#" PRIx64
				  " exceed the BAR (%#" PRIx64 " bytes)", d->name, bar, size, offset,
				  b->size);
	if (!k->devs[d->index].driver)
		return p2pdma_err(k->ctx, -ENODEV,
				  "pci_p2pdma_add_resource(%s): no driver bound (the state is devm-managed)",
				  d->name);
	if (!p2pdma_kp2pmem_get(k))
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	/* 5. pcim_p2pdma_init(), then the pool and its sysfs group, once. */
	ret = p2pdma_k_p2pdma_init(k, d);
	if (ret)
		return p2pdma_err(k->ctx, ret, "out of memory");
	p = k->devs[d->index].p2pdma;
	if (p->pool && p->pool->tearing_down)
		return p2pdma_err(k->ctx, -ENODEV,
				  "pci_p2pdma_add_resource(%s): the driver is being removed",
				  d->name);
	if (pool_setup(k, p))
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	/* 6. the provider of the BAR (cannot be missing for a memory BAR). */
	if (!p->mem[bar]) {
		kwarn(k, "drivers/pci/p2pdma.c pci_p2pdma_add_resource", "no provider for BAR %d", bar);
		return p2pdma_err(k->ctx, -EINVAL, "%s: no provider for BAR %d", d->name, bar);
	}
	/* 7-8. the pgmap and devm_memremap_pages(). */
	pg = pgmap_new(k, d, bar, offset, size);
	if (!pg)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	ret = memremap_checks(k, d, pg->cpu, size);
	if (!ret && (ret = pgmap_populate(k, pg)))
		p2pdma_err(k->ctx, ret, "pci_p2pdma_add_resource(%s): %s", d->name,
			   ret == -ENOMEM ? "out of memory for the page metadata" :
			   "range too large for the model (8 TiB at most)");
	if (ret) {
		free(pg);
		return ret;
	}
	/* 9-10. the allocate file's devm action; gen_pool_add_owner() at the bus address. */
	pool_add_chunk(k, p->pool, pg);
	/* 11. */
	p2pdma_klog_dev(k, d, "added peer-to-peer DMA memory %#" PRIx64 "-%#" PRIx64,
			pg->cpu, pg->cpu + size - 1);
	return 0;
}

P2PDMA_EXPORT uint64_t p2pdma_kernel_p2pmem_size(const struct p2pdma_kernel *k,
						 const struct p2pdma_dev *dev,
						 uint64_t *available)
{
	const struct p2pdma_kpool *pool = kpool(k, p2pdma_k_dev(k, dev));

	if (available)
		*available = pool ? pool->size - pool->allocated : 0;
	return pool ? pool->size : 0;
}

/* --- the allocation API --- */

static int new_alloc(struct p2pdma_kernel *k, const struct p2pdma_dev *d,
		     struct p2pdma_kpool *pool, uint64_t npages, const char *owner,
		     struct p2pdma_kalloc **out)
{
	struct p2pdma_kalloc *a = p2pdma_zalloc(k->ctx, 1, sizeof(*a));
	struct p2pdma_pgmap *pg;
	uint64_t idx;
	int ret;

	if (!a)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	ret = pool_take(pool, npages, PSTATE_KERNEL, &pg, &idx);
	if (ret) {
		char b1[32], b2[32];

		free(a);
		if (ret == -ENODEV)
			return p2pdma_err(k->ctx, ret,
					  "pci_alloc_p2pmem(%s): the range found is being torn down (percpu_ref_tryget_live() fails)",
					  d->name);
		return p2pdma_err(k->ctx, ret,
				  "pci_alloc_p2pmem(%s, %s): no contiguous free block that large (largest %s)",
				  d->name, p2pdma_human_size(npages * PAGE, b1, sizeof(b1)),
				  p2pdma_human_size(pool_largest(pool) * PAGE, b2, sizeof(b2)));
	}
	a->kva = P2PDMA_KVA_BASE + pg->cpu + idx * PAGE;
	a->npages = npages;
	a->pgmap = pg;
	a->id = k->p2pmem->next_alloc++;
	snprintf(a->owner, sizeof(a->owner), "%s", owner ? owner : "");
	if (kalloc_insert(k, pool, a)) {
		pool_give(pg, idx, npages);
		free(a);
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	}
	pg->refs++;
	*out = a;
	return 0;
}

P2PDMA_EXPORT int p2pdma_p2pmem_alloc(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				      uint64_t size, const char *owner, uint64_t *kva)
{
	const struct p2pdma_dev *d;
	struct p2pdma_kp2pdma *p;
	struct p2pdma_kalloc *a;
	int ret = p2pdma_k_dev_of(k, dev, &d);

	*kva = 0;
	if (ret)
		return ret;
	p = kstate(k, d);
	if (!p)
		return p2pdma_err(k->ctx, -ENODEV, "pci_alloc_p2pmem(%s): no P2PDMA state", d->name);
	if (!p->pool)
		return p2pdma_err(k->ctx, -ENODEV,
				  "pci_alloc_p2pmem(%s): no pool (pci_p2pdma_add_resource() never ran)",
				  d->name);
	if (!size)
		return p2pdma_err(k->ctx, -EINVAL, "pci_alloc_p2pmem(%s): size 0", d->name);
	if (size > UINT64_MAX - PAGE)
		return p2pdma_err(k->ctx, -ENOMEM, "pci_alloc_p2pmem(%s): size too large", d->name);
	ret = new_alloc(k, d, p->pool, (size + PAGE - 1) / PAGE, owner, &a);
	if (!ret)
		*kva = a->kva;
	return ret;
}

/* Hand every pending teardown the pages that came back. */
static void progress(struct p2pdma_kernel *k);

P2PDMA_EXPORT int p2pdma_p2pmem_free(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				     uint64_t kva, uint64_t size)
{
	const struct p2pdma_dev *d;
	struct p2pdma_kpool *pool;
	struct p2pdma_pgmap *pg;
	struct p2pdma_kalloc *a;
	uint64_t npages;
	int ret = p2pdma_k_dev_of(k, dev, &d);

	if (ret)
		return ret;
	pool = kpool(k, d);
	if (!pool)
		return p2pdma_err(k->ctx, -ENODEV,
				  "pci_free_p2pmem(%s, %#" PRIx64 "): %s has no pool (the kernel would dereference a NULL pdev->p2pdma)",
				  d->name, kva, d->name);
	pg = chunk_of(pool, kva);
	if (!pg) {
		struct p2pdma_pgmap *other = kva >= P2PDMA_KVA_BASE ?
			p2pdma_pgmap_of(k, kva - P2PDMA_KVA_BASE) : NULL;

		if (other)
			return p2pdma_err(k->ctx, -EINVAL,
					  "pci_free_p2pmem(%s, %#" PRIx64 "): the address belongs to the pool of %s, not this one (gen_pool_free() would BUG())",
					  d->name, kva, pgmap_owner(other)->name);
		return p2pdma_err(k->ctx, -EINVAL,
				  "pci_free_p2pmem(%s, %#" PRIx64 "): not an address of its pool (gen_pool_free() would BUG())",
				  d->name, kva);
	}
	npages = (size + PAGE - 1) / PAGE;
	a = kalloc_find(pool, kva);
	if (!a) {
		uint64_t idx = (kva - P2PDMA_KVA_BASE - pg->cpu) / PAGE;
		struct p2pdma_kalloc *in = kalloc_containing(pool, kva);

		if (p2pdma_ffmap_test(&pg->map, idx))
			return p2pdma_err(k->ctx, -EINVAL,
					  "pci_free_p2pmem(%s, %#" PRIx64 "): double free: the page is already free (gen_pool_free() would BUG())",
					  d->name, kva);
		if (in)
			return p2pdma_err(k->ctx, -EINVAL,
					  "pci_free_p2pmem(%s, %#" PRIx64 "): inside allocation #%lu at %#" PRIx64 ", not its start (the pgmap reference would be dropped twice)",
					  d->name, kva, in->id, in->kva);
		return p2pdma_err(k->ctx, -EINVAL,
				  "pci_free_p2pmem(%s, %#" PRIx64 "): the page belongs to a user mapping, not to a pci_alloc_p2pmem() allocation",
				  d->name, kva);
	}
	if (!size || npages != a->npages)
		return p2pdma_err(k->ctx, -EINVAL,
				  "pci_free_p2pmem(%s, %#" PRIx64 ", %" PRIu64 "): allocation #%lu is %" PRIu64 " pages, not %" PRIu64 " (a partial free would unbalance the pgmap reference)",
				  d->name, kva, size, a->id, a->npages, npages);
	kalloc_remove(pool, a);
	pool_give(pg, (kva - P2PDMA_KVA_BASE - pg->cpu) / PAGE, npages);
	pg->refs--;
	free(a);
	progress(k);
	return 0;
}

P2PDMA_EXPORT uint64_t p2pdma_p2pmem_virt_to_bus(struct p2pdma_kernel *k,
						 const struct p2pdma_dev *dev, uint64_t kva)
{
	const struct p2pdma_dev *d = p2pdma_k_dev(k, dev);
	const struct p2pdma_kpool *pool;
	const struct p2pdma_pgmap *pg;

	if (!kva || !kstate(k, d))
		return 0;
	pool = kpool(k, d);
	pg = pool ? chunk_of(pool, kva) : NULL;
	if (!pg)
		return ~0ULL;
	return pg->bus + (kva - P2PDMA_KVA_BASE - pg->cpu);
}

P2PDMA_EXPORT uint64_t p2pdma_p2pmem_virt_to_phys(const struct p2pdma_kernel *k, uint64_t kva)
{
	(void)k;
	if (kva < P2PDMA_KVA_BASE || kva - P2PDMA_KVA_BASE >= (1ULL << 52))
		return 0;
	return kva - P2PDMA_KVA_BASE;
}

struct p2pdma_sgl {
	unsigned int nents;
	uint64_t kva;
	uint32_t length;
};

P2PDMA_EXPORT int p2pdma_p2pmem_alloc_sgl(struct p2pdma_kernel *k,
					  const struct p2pdma_dev *dev, uint32_t length,
					  struct p2pdma_sgl **out, unsigned int *nents)
{
	struct p2pdma_sgl *sg;
	int ret;

	*out = NULL;
	sg = p2pdma_zalloc(k->ctx, 1, sizeof(*sg));	/* kmalloc(sizeof(*sg)) */
	if (!sg)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	ret = p2pdma_p2pmem_alloc(k, dev, length, "alloc_sgl", &sg->kva);
	if (ret) {
		free(sg);
		return ret;
	}
	sg->nents = 1;
	sg->length = length;
	*nents = 1;
	*out = sg;
	return 0;
}

P2PDMA_EXPORT int p2pdma_p2pmem_free_sgl(struct p2pdma_kernel *k,
					 const struct p2pdma_dev *dev,
					 struct p2pdma_sgl *sgl)
{
	int ret = 0;

	if (!sgl)
		return 0;
	if (sgl->nents)
		ret = p2pdma_p2pmem_free(k, dev, sgl->kva, sgl->length);
	free(sgl);
	return ret;
}

P2PDMA_EXPORT unsigned int p2pdma_sgl_nents(const struct p2pdma_sgl *sgl)
{
	return sgl->nents;
}

P2PDMA_EXPORT uint64_t p2pdma_sgl_entry(const struct p2pdma_sgl *sgl, unsigned int i,
					uint64_t *kva, uint32_t *length)
{
	if (i >= sgl->nents)
		return 0;
	if (kva)
		*kva = sgl->kva;
	if (length)
		*length = sgl->length;
	return sgl->kva - P2PDMA_KVA_BASE;
}

/* --- what a pool looks like --- */

static size_t pgmap_bytes(const struct p2pdma_pgmap *pg)
{
	return sizeof(*pg) + p2pdma_ffmap_bytes(&pg->map) + (size_t)((pg->npages + 3) / 4);
}

P2PDMA_EXPORT int p2pdma_p2pmem_pool_get_info(const struct p2pdma_kernel *k,
					      const struct p2pdma_dev *dev,
					      struct p2pdma_pool_info *info, size_t size)
{
	const struct p2pdma_dev *d = p2pdma_k_dev(k, dev);
	const struct p2pdma_kpool *pool = kpool(k, d);
	struct p2pdma_pool_info in = { 0 };
	const struct p2pdma_pgmap *pg;

	if (pool) {
		in.size = pool->size;
		in.available = pool->size - pool->allocated;
		in.published = k->devs[d->index].p2pdma->published;
		in.nranges = pool->nchunks;
		in.nallocs = pool->nallocs;
		in.largest_free = pool_largest(pool) * PAGE;
		/* The file arrived in 6.2 (userspace VMA allocations). */
		in.allocate_present = !pool->allocate_removed &&
				      p2pdma_k_version(k) >= P2PDMA_KV(6, 2);
		in.tearing_down = pool->tearing_down;
		in.captured = pool->unplaced > 0;
		in.metadata_bytes = sizeof(*pool) + pool->nbuckets * sizeof(*pool->buckets);
		for (pg = pool->chunks; pg; pg = pg->next_chunk) {
			in.metadata_bytes += pgmap_bytes(pg);
			in.captured |= pg->captured;
			in.user_pages += pg->user_pages;
		}
	}
	memcpy(info, &in, size < sizeof(in) ? size : sizeof(in));
	return pool ? 0 : -ENOENT;
}

P2PDMA_EXPORT int p2pdma_p2pmem_range_get_info(const struct p2pdma_kernel *k,
					       const struct p2pdma_dev *dev, unsigned int i,
					       struct p2pdma_range_info *info, size_t size)
{
	const struct p2pdma_kpool *pool = kpool(k, p2pdma_k_dev(k, dev));
	const struct p2pdma_pgmap *pg;
	struct p2pdma_range_info in = { 0 };
	unsigned int n;

	if (!pool || i >= pool->nchunks)
		return -ENOENT;
	/* The list is newest first; index 0 is the first added. */
	for (pg = pool->chunks, n = pool->nchunks - 1; n > i; n--)
		pg = pg->next_chunk;
	in.id = pg->id;
	in.bar = pg->mem->bar;
	in.cpu = pg->cpu;
	in.bus = pg->bus;
	in.size = pg->size;
	in.kva = P2PDMA_KVA_BASE + pg->cpu;
	in.refs = pg->refs;
	in.dying = pg->dying;
	memcpy(info, &in, size < sizeof(in) ? size : sizeof(in));
	return 0;
}

P2PDMA_EXPORT int p2pdma_kernel_add_system_ram(struct p2pdma_kernel *k, uint64_t start,
					       uint64_t size)
{
	struct p2pdma_kp2pmem *m = p2pdma_kp2pmem_get(k);
	struct p2pdma_ram *r;

	if (!m)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	if (!size || start + size < start)
		return p2pdma_err(k->ctx, -EINVAL, "System RAM range %#" PRIx64 "+%#" PRIx64 ": empty or wrapping",
				  start, size);
	r = p2pdma_zalloc(k->ctx, m->nram + 1, sizeof(*r));
	if (!r)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	if (m->nram)
		memcpy(r, m->ram, m->nram * sizeof(*r));
	r[m->nram].start = start;
	r[m->nram].size = size;
	free(m->ram);
	m->ram = r;
	m->nram++;
	return 0;
}

/* --- sysfs --- */

P2PDMA_EXPORT int p2pdma_p2pmem_sysfs_read(const struct p2pdma_kernel *k,
					   const struct p2pdma_dev *dev, const char *attr,
					   char *buf, size_t len)
{
	const struct p2pdma_dev *d = p2pdma_k_dev(k, dev);
	const struct p2pdma_kpool *pool = kpool(k, d);
	int n;

	if (!pool)
		return p2pdma_err(k->ctx, -ENOENT, "%s has no p2pmem/ directory",
				  d ? d->name : "(foreign function)");
	if (!strcmp(attr, "size"))
		n = snprintf(buf, len, "%" PRIu64 "\n", pool->size);
	else if (!strcmp(attr, "available"))
		n = snprintf(buf, len, "%" PRIu64 "\n", pool->size - pool->allocated);
	else if (!strcmp(attr, "published"))
		n = snprintf(buf, len, "%d\n", k->devs[d->index].p2pdma->published);
	else if (!strcmp(attr, "allocate") && p2pdma_k_version(k) < P2PDMA_KV(6, 2))
		return p2pdma_err(k->ctx, -ENOENT, "%s: no p2pmem/allocate before Linux 6.2",
				  d->name);
	else if (!strcmp(attr, "allocate"))
		return pool->allocate_removed ?
		       p2pdma_err(k->ctx, -ENOENT, "%s: p2pmem/allocate was removed", d->name) :
		       p2pdma_err(k->ctx, -EINVAL, "%s: p2pmem/allocate is mmap only", d->name);
	else
		return p2pdma_err(k->ctx, -EINVAL, "p2pmem/%s: no such attribute", attr);
	return n;
}

/* --- pages and map states --- */

P2PDMA_EXPORT int p2pdma_page_get_info(const struct p2pdma_kernel *k, uint64_t phys,
				       struct p2pdma_page_info *info, size_t size)
{
	struct p2pdma_page_info in = { 0 };
	const struct p2pdma_pgmap *pg = p2pdma_pgmap_of(k, phys);
	const struct p2pdma_vma *v;

	in.phys = phys & ~(PAGE - 1);
	in.pins = p2pdma_pin_count(k, phys >> P2PDMA_PAGE_SHIFT);
	if (pg) {
		uint64_t i = (phys - pg->cpu) / PAGE;
		enum p2pdma_pstate st = p2pdma_pstate_get(pg, i);

		in.kind = P2PDMA_PAGE_P2PDMA;
		in.state = st == PSTATE_FREE ? P2PDMA_PAGE_FREE : st == PSTATE_KERNEL ?
			   P2PDMA_PAGE_KERNEL : st == PSTATE_USER ? P2PDMA_PAGE_USER :
			   P2PDMA_PAGE_PINNED;
		in.owner = pgmap_owner(pg);
		in.provider = pg->mem;
		in.pgmap = pg->id;
		in.refcount = (st == PSTATE_USER ? 1 : 0) + in.pins * P2PDMA_GUP_PIN_BIAS;
	} else if (k->p2pmem) {
		for (v = k->p2pmem->vmas; v; v = v->next) {
			if (v->kind == VMA_ANON && phys >= v->phys && phys - v->phys < v->len) {
				in.kind = P2PDMA_PAGE_RAM;
				in.refcount = 1 + in.pins * P2PDMA_GUP_PIN_BIAS;
				break;
			}
		}
	}
	memcpy(info, &in, size < sizeof(in) ? size : sizeof(in));
	return 0;
}

P2PDMA_EXPORT enum p2pdma_map_type p2pdma_map_state_update(struct p2pdma_kernel *k,
							   struct p2pdma_map_state *state,
							   const struct p2pdma_dev *client,
							   uint64_t phys)
{
	const struct p2pdma_pgmap *pg = p2pdma_pgmap_of(k, phys);

	if (!pg)
		return P2PDMA_MAP_NONE;
	/* __pci_p2pdma_update_state(): only when the provider changes. */
	if (state->mem != pg->mem) {
		state->mem = pg->mem;
		state->map = p2pdma_kernel_map_type(k, pg->mem, client, NULL);
	}
	return state->map;
}

P2PDMA_EXPORT uint64_t p2pdma_provider_bus_addr_map(const struct p2pdma_provider *p,
						    uint64_t phys)
{
	if (!p->live) {
		p2pdma_klog(p->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "pci_p2pdma_bus_addr_map() called with a stale provider (%s BAR %d was unbound): refused",
			    p2pdma_k_topo(p->k)->devs[p->dev]->name, p->bar);
		return ~0ULL;
	}
	return phys + p->bus_offset;
}

/* --- teardown (devm, reverse order; doc/kernel-model.md §1.5 "Lifetime") --- */

/* What still holds range @pg, for messages. */
static void holders(const struct p2pdma_kernel *k, const struct p2pdma_pgmap *pg,
		    char *buf, size_t len)
{
	const struct p2pdma_kpool *pool = pool_of_pgmap(pg);
	size_t off = 0, i, shown = 0;
	uint64_t held = 0;

	buf[0] = '\0';
	for (i = 0; i < pool->nbuckets; i++) {
		const struct p2pdma_kalloc *a;

		for (a = pool->buckets[i]; a; a = a->next) {
			char b[32];

			if (a->pgmap != pg)
				continue;
			if (shown++ < 8 && off < len)
				off += (size_t)snprintf(buf + off, len - off,
							"%sallocation #%lu at %#" PRIx64 " (%s%s%s%s)",
							off ? ", " : "", a->id, a->kva,
							p2pdma_human_size(a->npages * PAGE, b, sizeof(b)),
							a->owner[0] ? ", by '" : "", a->owner,
							a->owner[0] ? "'" : "");
		}
	}
	for (i = 0; i < pg->npages; i++)
		held += p2pdma_pstate_get(pg, i) == PSTATE_HELD ||
			p2pdma_pstate_get(pg, i) == PSTATE_USER;
	if (held && off < len) {
		uint64_t first = 0;

		for (i = 0; i < pg->npages; i++)
			if (p2pdma_pstate_get(pg, i) >= PSTATE_USER) {
				first = pg->cpu + i * PAGE;
				break;
			}
		off += (size_t)snprintf(buf + off, len - off,
					"%s%" PRIu64 " user page%s still pinned (first at phys %#" PRIx64 ", %u pin%s)",
					off ? ", " : "", held, held == 1 ? "" : "s", first,
					p2pdma_pin_count(k, first >> P2PDMA_PAGE_SHIFT),
					p2pdma_pin_count(k, first >> P2PDMA_PAGE_SHIFT) == 1 ? "" : "s");
	}
	if (shown > 8 && off < len)
		snprintf(buf + off, len - off, " and %zu more allocations", shown - 8);
}

/*
 * memunmap_pages() per range, newest first: kill the reference, wait
 * for it to drop to zero. Return: true when every range is done.
 */
static bool teardown_advance(struct p2pdma_kpool *pool)
{
	struct p2pdma_pgmap *pg;

	for (pg = pool->chunks; pg; pg = pg->next_chunk) {
		if (pg->dead)
			continue;
		pg->dying = true;		/* percpu_ref_kill() */
		if (pg->refs)
			return false;		/* wait_for_completion() */
		pg->dead = true;
	}
	return true;
}

/* The first range a teardown waits on. */
static const struct p2pdma_pgmap *blocking(const struct p2pdma_kpool *pool)
{
	const struct p2pdma_pgmap *pg;

	for (pg = pool->chunks; pg; pg = pg->next_chunk)
		if (!pg->dead)
			return pg;
	return NULL;
}

static void progress(struct p2pdma_kernel *k)
{
	uint32_t i;

	for (i = 0; i < k->ndevs; i++) {
		struct p2pdma_kpool *pool = k->devs[i].p2pdma ? k->devs[i].p2pdma->pool : NULL;

		if (!pool || !pool->tearing_down || !teardown_advance(pool))
			continue;
		p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "%s: the last page came back: memunmap_pages() returns, the unbind completes",
			    p2pdma_k_topo(k)->devs[i]->name);
		p2pdma_k_unbind_finish(k, i);
	}
}

void p2pdma_p2pmem_progress(struct p2pdma_kernel *k)
{
	progress(k);
}

/* The removal of p2pmem/allocate zaps every user mapping of it. */
static void zap_mappings(struct p2pdma_kernel *k, struct p2pdma_kpool *pool)
{
	struct p2pdma_vma *v;

	if (!k->p2pmem)
		return;
	for (v = k->p2pmem->vmas; v; v = v->next) {
		uint64_t i;

		if (v->kind != VMA_P2PMEM || v->zapped || pool_of_pgmap(v->pgmap) != pool)
			continue;
		for (i = 0; i < v->len / PAGE; i++) {
			uint64_t phys = v->phys + i * PAGE, idx = (phys - v->pgmap->cpu) / PAGE;

			if (p2pdma_pin_count(k, phys >> P2PDMA_PAGE_SHIFT))
				p2pdma_pstate_set(v->pgmap, idx, PSTATE_HELD);
			else
				p2pdma_pgmap_put_user_page(v->pgmap, idx);
		}
		v->zapped = true;
	}
}

int p2pdma_p2pmem_unbind(struct p2pdma_kernel *k, const struct p2pdma_dev *d)
{
	struct p2pdma_kpool *pool = kpool(k, d);
	const char *drv = k->devs[d->index].driver;
	const struct p2pdma_pgmap *pg;
	char buf[1024];
	size_t i;

	if (!pool || !pool->nchunks)
		return 0;
	if (pool->tearing_down)
		return p2pdma_err(k->ctx, -EINPROGRESS,
				  "unbind %s: the teardown already waits for pages", d->name);
	/* remove(): the providing driver frees its own allocations first. */
	for (i = 0; i < pool->nbuckets; i++) {
		struct p2pdma_kalloc *a, *next;

		for (a = pool->buckets[i]; a; a = next) {
			next = a->next;
			if (!drv || strcmp(a->owner, drv))
				continue;
			kalloc_remove(pool, a);
			pool_give(a->pgmap, (a->kva - P2PDMA_KVA_BASE - a->pgmap->cpu) / PAGE,
				  a->npages);
			a->pgmap->refs--;
			free(a);
		}
	}
	/* pci_p2pdma_unmap_mappings(): remove the file, zap its mappings. */
	pool->allocate_removed = true;
	zap_mappings(k, pool);
	if (teardown_advance(pool))
		return 0;
	pool->tearing_down = true;
	pool->teardown_start = k->p2pmem->clock;
	pg = blocking(pool);
	holders(k, pg, buf, sizeof(buf));
	p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
		    "%s: remove() blocks in memunmap_pages() of range %#" PRIx64 "-%#" PRIx64
		    " until %" PRIu64 " reference%s drop: %s",
		    d->name, pg->cpu, pg->cpu + pg->size - 1, pg->refs, pg->refs == 1 ? "" : "s",
		    buf);
	return p2pdma_err(k->ctx, -EINPROGRESS,
			  "unbind %s waits for %" PRIu64 " reference%s: %s", d->name, pg->refs,
			  pg->refs == 1 ? "" : "s", buf);
}

P2PDMA_EXPORT int p2pdma_p2pmem_teardown_wait(struct p2pdma_kernel *k,
					      const struct p2pdma_dev *dev,
					      unsigned int seconds)
{
	const struct p2pdma_dev *d;
	struct p2pdma_kpool *pool;
	const struct p2pdma_pgmap *pg;
	char buf[1024];
	int ret = p2pdma_k_dev_of(k, dev, &d);

	if (ret)
		return ret;
	pool = kpool(k, d);
	if (!pool || !pool->tearing_down)
		return 0;
	k->p2pmem->clock += seconds;
	if (!pool->hung_reported &&
	    k->p2pmem->clock - pool->teardown_start >= P2PDMA_HUNG_TASK_S) {
		pool->hung_reported = true;
		p2pdma_klog(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "INFO: task %s:%d blocked for more than %d seconds.",
			    k->p2pmem->comm, k->p2pmem->pid, P2PDMA_HUNG_TASK_S);
	}
	pg = blocking(pool);
	holders(k, pg, buf, sizeof(buf));
	p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
		    "%s: teardown still waiting after %" PRIu64 " s: %s", d->name,
		    k->p2pmem->clock - pool->teardown_start, buf);
	return p2pdma_err(k->ctx, -ETIMEDOUT, "%s: teardown still waits after %" PRIu64 " s for %s",
			  d->name, k->p2pmem->clock - pool->teardown_start, buf);
}

void p2pdma_kpool_destroy(struct p2pdma_kernel *k, struct p2pdma_kpool *pool)
{
	struct p2pdma_pgmap *pg, *next;
	size_t i;

	if (!pool)
		return;
	for (pg = pool->chunks; pg; pg = pg->next_chunk)
		if (pg->refs)
			break;
	/* Only a kernel shutdown frees a pool whose pages are still held. */
	if (pg)
		p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "shutdown: a p2pmem pool is freed with %zu allocation%s and user pages still held (leaked: its teardown never completed)",
			    pool->nallocs, pool->nallocs == 1 ? "" : "s");
	for (i = 0; i < pool->nbuckets; i++) {
		struct p2pdma_kalloc *a, *an;

		for (a = pool->buckets[i]; a; a = an) {
			an = a->next;
			free(a);
		}
	}
	free(pool->buckets);
	for (pg = pool->chunks; pg; pg = next) {
		next = pg->next_chunk;
		if (k->p2pmem) {
			struct p2pdma_pgmap **pp = &k->p2pmem->pgmaps;
			struct p2pdma_vma *v;

			while (*pp && *pp != pg)
				pp = &(*pp)->next_global;
			if (*pp)
				*pp = pg->next_global;
			/* Zapped mappings outlive their pages: forget the range. */
			for (v = k->p2pmem->vmas; v; v = v->next)
				if (v->pgmap == pg)
					v->pgmap = NULL;
		}
		pgmap_free(pg);
	}
	free(pool);
}

/* --- captures --- */

/*
 * A capture's p2pmem/ says a driver made a pool, not where: the range is
 * inferred as the smallest memory BAR that holds it, from offset 0, and
 * what is in use is allocated at its start (first fit) in the name of
 * the driver (nvme-pci puts its submission queues there).
 */
static int adopt_one(struct p2pdma_kernel *k, const struct p2pdma_dev *d)
{
	uint64_t size = d->p2pmem.size & ~(PAGE - 1), used;
	struct p2pdma_kp2pdma *p;
	struct p2pdma_pgmap *pg;
	struct p2pdma_kalloc *a;
	int bar, best = -1, ret;
	char b1[32], b2[32];

	used = d->p2pmem.size > d->p2pmem.available ? d->p2pmem.size - d->p2pmem.available : 0;
	used = (used + PAGE - 1) & ~(PAGE - 1);
	ret = p2pdma_k_p2pdma_init(k, d);
	if (ret)
		return ret;
	p = k->devs[d->index].p2pdma;
	if (pool_setup(k, p))
		return -ENOMEM;
	p->published = d->p2pmem.published;
	for (bar = 0; bar < P2PDMA_NUM_BARS; bar++) {
		const struct p2pdma_bar *b = &d->bars[bar];

		if (p->mem[bar] && size && b->size >= size &&
		    !p2pdma_pgmap_of(k, b->cpu) && !p2pdma_pgmap_of(k, b->cpu + size - 1) &&
		    (best < 0 || b->size < d->bars[best].size))
			best = bar;
	}
	if (best < 0 || used > size) {
		p->pool->unplaced = d->p2pmem.size;
		p->pool->size = d->p2pmem.size;
		p->pool->allocated = d->p2pmem.size - d->p2pmem.available;
		p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "%s: the capture's p2pmem pool (%s) fits in no memory BAR: its figures are kept, but it has no pages to allocate",
			    d->name, p2pdma_human_size(d->p2pmem.size, b1, sizeof(b1)));
		return 0;
	}
	pg = pgmap_new(k, d, best, 0, size);
	if (!pg)
		return -ENOMEM;
	pg->captured = true;
	ret = pgmap_populate(k, pg);
	if (ret) {
		free(pg);
		return ret == -ENOMEM ? ret : 0;
	}
	pool_add_chunk(k, p->pool, pg);
	p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
		    "%s: p2pmem adopted from the capture: %s at BAR %d offset 0 (the BAR is inferred: the capture does not record it)%s",
		    d->name, p2pdma_human_size(size, b1, sizeof(b1)), best,
		    (pg->cpu | size) & (P2PDMA_SUBSECTION_SIZE - 1) ?
		    "; its start or size is not 2 MiB aligned, which this kernel's memremap_pages() would refuse" : "");
	if (!used)
		return 0;
	ret = new_alloc(k, d, p->pool, used / PAGE,
			k->devs[d->index].driver ? k->devs[d->index].driver : "captured", &a);
	if (ret)
		return ret;
	p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
		    "%s: %s of it in use at the capture, taken by its driver",
		    d->name, p2pdma_human_size(used, b2, sizeof(b2)));
	return 0;
}

int p2pdma_p2pmem_adopt_captured(struct p2pdma_kernel *k)
{
	const struct p2pdma_topo *t = p2pdma_k_topo(k);
	uint32_t i;

	for (i = 0; i < t->ndevs; i++) {
		int ret;

		if (!t->devs[i]->p2pmem.present)
			continue;
		if (!p2pdma_kp2pmem_get(k))
			return -ENOMEM;
		ret = adopt_one(k, t->devs[i]);
		if (ret)
			return ret;
	}
	return 0;
}
