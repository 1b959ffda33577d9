// SPDX-License-Identifier: LGPL-2.1-or-later
/* dma.c - the DMA layer: views, IOMMU domains, page tables, IOVAs, dma_map_phys, map_sg (doc/kernel-model.md §3) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma-private.h"

/* --- allocation and locking --- */

void *p2pdma_sys_alloc(struct p2pdma_dmasys *sys, size_t size)
{
	return p2pdma_alloc(sys->ctx, size);
}

void *p2pdma_sys_zalloc(struct p2pdma_dmasys *sys, size_t n, size_t size)
{
	return p2pdma_zalloc(sys->ctx, n, size);
}

int p2pdma_sys_grow(struct p2pdma_dmasys *sys, void **arr, size_t *cap,
		    size_t need, size_t size)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	n = p2pdma_alloc(sys->ctx, ncap * size);
	if (!n)
		return -ENOMEM;
	if (*arr)
		memcpy(n, *arr, *cap * size);
	memset((char *)n + *cap * size, 0, (ncap - *cap) * size);
	free(*arr);
	*arr = n;
	*cap = ncap;
	return 0;
}

char *p2pdma_sys_strdup(struct p2pdma_dmasys *sys, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = p2pdma_alloc(sys->ctx, n);

	if (d)
		memcpy(d, s, n);
	return d;
}

void p2pdma_sys_lock(struct p2pdma_dmasys *sys)
{
	pthread_mutex_lock(&sys->lock);
}

void p2pdma_sys_unlock(struct p2pdma_dmasys *sys)
{
	pthread_mutex_unlock(&sys->lock);
}

struct p2pdma_dmasys *p2pdma_dmasys(struct p2pdma_kernel *k)
{
	return k->dma;
}

int p2pdma_sys_devidx(struct p2pdma_dmasys *sys, const struct p2pdma_dev *d)
{
	const struct p2pdma_dev *kd;

	if (!d)
		return -1;
	kd = p2pdma_k_dev(sys->k, d);
	return kd ? (int)kd->index : -1;
}

void p2pdma_sys_lock_violation(struct p2pdma_dmasys *sys, const char *fn,
			       const char *rule)
{
	atomic_fetch_add(&sys->lock_violations, 1);
	p2pdma_sys_lock(sys);
	p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
		    "WARNING: %s() %s (dma-buf locking convention)", fn, rule);
	p2pdma_sys_unlock(sys);
}

/* --- quirks by release --- */

static const char *const quirk_names[P2PDMA_QUIRK_COUNT] = {
	"dma_buf_phys_vec_to_sgt() splits entries at UINT_MAX (6.19)",
	"32-bit chunk address arithmetic, wrong for ranges of 8 GiB and more (v9 as merged, 6.19-rc1)",
	"mapped_len summed in an unsigned int (v9 as merged, 6.19-rc1)",
	"dma_iova_link() given offset 0 for every range",
	"dma-direct map_sg leaves THRU_HOST_BRIDGE addresses unset (6.16, a25e7962db0d, until fixed)",
	"VFIO export: failing dma_buf_fd() frees twice (6.19, fixed by e98137f0a874)",
	"VFIO exporter without pin: pinned importers accepted (6.19-rc1..rc6, before 61ceaf236115)",
	"CONFIG_DMABUF_MOVE_NOTIFY=y",
};

P2PDMA_EXPORT const char *p2pdma_dma_quirk_name(unsigned int bit)
{
	unsigned int i;

	for (i = 0; i < P2PDMA_QUIRK_COUNT; i++)
		if (bit == 1u << i)
			return quirk_names[i];
	return NULL;
}

/* "6.19-rc3" -> major 6, minor 19, rc 3; "6.19.2" -> sub 2, rc 0. */
static bool parse_rel(const char *s, unsigned int *maj, unsigned int *min,
		      unsigned int *sub, unsigned int *rc)
{
	char *end;

	*sub = *rc = 0;
	if (!s)
		return false;
	if (*s == 'v')
		s++;
	*maj = (unsigned int)strtoul(s, &end, 10);
	if (end == s || *end != '.')
		return false;
	s = end + 1;
	*min = (unsigned int)strtoul(s, &end, 10);
	if (end == s)
		return false;
	s = end;
	if (*s == '.') {
		*sub = (unsigned int)strtoul(s + 1, &end, 10);
		s = end;
	}
	if (!strncmp(s, "-rc", 3))
		*rc = (unsigned int)strtoul(s + 3, NULL, 10);
	return true;
}

unsigned int p2pdma_quirks_for_release(const char *release)
{
	unsigned int maj, min, sub, rc, kv, q;

	q = P2PDMA_QUIRK_SGT_IOVA_OFFSET_ZERO | P2PDMA_QUIRK_MOVE_NOTIFY;
	if (!parse_rel(release, &maj, &min, &sub, &rc))
		return q;
	kv = maj * 1000 + min;
	if (kv < 7001)
		q |= P2PDMA_QUIRK_SGT_MAX_ENT_UINT;
	if (kv == 6019) {
		q |= P2PDMA_QUIRK_VFIO_FD_DOUBLE_FREE;
		if (rc && rc <= 6)
			q |= P2PDMA_QUIRK_VFIO_NO_PIN;
		if (rc == 1)
			q |= P2PDMA_QUIRK_SGT_ADDR_OVERFLOW |
			     P2PDMA_QUIRK_SGT_MAPPED_LEN_U32;
	}
	(void)sub;
	return q;
}

/* --- set-up --- */

int p2pdma_dma_init(struct p2pdma_kernel *k)
{
	struct p2pdma_dmasys *sys = calloc(1, sizeof(*sys));

	if (!sys)
		return -ENOMEM;
	sys->k = k;
	sys->ctx = k->ctx;
	sys->fd_limit = 1024;
	/* The behaviours of the release the kernel runs (needs k->pol). */
	sys->quirks = p2pdma_quirks_for_release(p2pdma_policy_kernel(k->pol));
	if (pthread_mutex_init(&sys->lock, NULL)) {
		free(sys);
		return -ENOMEM;
	}
	k->dma = sys;
	return 0;
}

static void pt_free(struct pt_node *n, int level);
static void domain_destroy(struct p2pdma_iommu_domain *d);

void p2pdma_dma_teardown(struct p2pdma_kernel *k)
{
	struct p2pdma_dmasys *sys = k->dma;
	struct p2pdma_iommu_domain *d, *dn;
	struct guard *g, *gn;
	uint32_t i;
	size_t j;

	if (!sys)
		return;
	p2pdma_vfio_teardown(sys);
	p2pdma_dmabuf_teardown(sys);
	for (d = sys->domains; d; d = dn) {
		dn = d->next;
		domain_destroy(d);
	}
	for (g = sys->guards; g; g = gn) {
		gn = g->next;
		free(g->ranges);
		free(g->maxend);
		free(g);
	}
	if (sys->view)
		for (i = 0; i < sys->ndevs; i++)
			free(sys->view[i].maps);
	free(sys->view);
	free(sys->grp);
	p2pdma_iommu_groups_destroy(sys->groups);
	free(sys->bars);
	free(sys->bars_cpu);
	free(sys->resv);
	for (j = 0; j < sys->mem.cap; j++)
		free(sys->mem.slots[j].data);
	free(sys->mem.slots);
	free(sys->bells);
	free(sys->swiotlb.r);
	free(sys->fds);
	pthread_mutex_destroy(&sys->lock);
	free(sys);
	k->dma = NULL;
}

int p2pdma_dma_unbind(struct p2pdma_kernel *k, const struct p2pdma_dev *d)
{
	struct p2pdma_dmasys *sys = k->dma;
	int di, ret;

	if (!sys)
		return 0;
	di = p2pdma_sys_devidx(sys, d);
	if (di < 0)
		return 0;
	ret = p2pdma_vfio_on_unbind(sys, di);
	if (ret)
		return ret;
	p2pdma_dmabuf_on_unbind(sys, di);
	return 0;
}

/* Does a command line ask for something (whole word, "key=value")? */
static bool cmdline_has(const char *cmdline, const char *word)
{
	size_t n = strlen(word);
	const char *p = cmdline;

	while (p && (p = strstr(p, word))) {
		bool start = p == cmdline || p[-1] == ' ';
		bool end = p[n] == '\0' || p[n] == ' ';

		if (start && end)
			return true;
		p += n;
	}
	return false;
}

/* The default domain type the machine boots with. */
static enum p2pdma_domain_type machine_default(struct p2pdma_dmasys *sys)
{
	const struct p2pdma_topo *t = p2pdma_k_topo(sys->k);
	const char *cmd = sys->k->boot_cmdline ? sys->k->boot_cmdline :
			  t->machine.cmdline;
	int iommu = t->machine.iommu;

	if (p2pdma_policy_iommu_acs(sys->k->pol))
		iommu = 1;
	if (cmd && (cmdline_has(cmd, "intel_iommu=off") ||
		    cmdline_has(cmd, "amd_iommu=off") || cmdline_has(cmd, "iommu=off")))
		iommu = 0;
	if (iommu <= 0) {
		if (iommu < 0)
			p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
				    "whether the machine has an IOMMU is unknown: the DMA layer assumes none (dma-direct)");
		return P2PDMA_DOMAIN_NONE;
	}
	if (cmd && (cmdline_has(cmd, "iommu=pt") || cmdline_has(cmd, "iommu.passthrough=1") ||
		    cmdline_has(cmd, "iommu.passthrough=y") ||
		    cmdline_has(cmd, "iommu.passthrough=on")))
		return P2PDMA_DOMAIN_IDENTITY;
	return P2PDMA_DOMAIN_DMA;
}

static int cmp_bar_bus(const void *a, const void *b)
{
	const struct bar_ent *x = a, *y = b;

	return x->bus < y->bus ? -1 : x->bus > y->bus;
}

static int cmp_bar_cpu(const void *a, const void *b)
{
	const struct bar_ent *x = a, *y = b;

	return x->cpu < y->cpu ? -1 : x->cpu > y->cpu;
}

static int domain_new(struct p2pdma_dmasys *sys, enum p2pdma_domain_type type,
		      struct p2pdma_iommu_domain **out);

int p2pdma_sys_ready(struct p2pdma_dmasys *sys)
{
	const struct p2pdma_topo *t;
	size_t g, nb = 0;
	uint32_t i;
	int b, ret;

	if (sys->ready)
		return 0;
	t = p2pdma_k_topo(sys->k);
	if (!sys->def_set) {
		sys->def_type = machine_default(sys);
		sys->def_set = true;
	}
	sys->ndevs = (uint32_t)t->ndevs;
	sys->view = p2pdma_sys_zalloc(sys, sys->ndevs, sizeof(*sys->view));
	if (!sys->view)
		goto nomem;
	for (i = 0; i < sys->ndevs; i++)
		sys->view[i].mask = ~0ULL;
	/* Memory BARs, for routing, and the windows a DMA domain avoids. */
	for (i = 0; i < t->ndevs; i++)
		for (b = 0; b < P2PDMA_NUM_BARS; b++)
			nb += (t->devs[i]->bars[b].flags & P2PDMA_BAR_MEM) &&
			      t->devs[i]->bars[b].size;
	sys->bars = p2pdma_sys_zalloc(sys, nb, sizeof(*sys->bars));
	sys->bars_cpu = p2pdma_sys_zalloc(sys, nb, sizeof(*sys->bars_cpu));
	sys->resv = p2pdma_sys_zalloc(sys, nb + 1, sizeof(*sys->resv));
	if (!sys->bars || !sys->bars_cpu || !sys->resv)
		goto nomem;
	for (i = 0; i < t->ndevs; i++) {
		for (b = 0; b < P2PDMA_NUM_BARS; b++) {
			const struct p2pdma_bar *bar = &t->devs[i]->bars[b];

			if (!(bar->flags & P2PDMA_BAR_MEM) || !bar->size)
				continue;
			sys->bars[sys->nbars].bus = bar->bus;
			sys->bars[sys->nbars].cpu = bar->cpu;
			sys->bars[sys->nbars].size = bar->size;
			sys->bars[sys->nbars].dev = i;
			sys->bars[sys->nbars].bar = b;
			sys->resv[sys->nresv].start = bar->bus & ~PAGE_MASK_LO;
			sys->resv[sys->nresv].end = (bar->bus + bar->size + PAGE_MASK_LO) & ~PAGE_MASK_LO;
			sys->resv[sys->nresv].reserved = true;
			sys->nresv++;
			sys->nbars++;
		}
	}
	/* The x86 MSI window is never an IOVA. */
	sys->resv[sys->nresv].start = 0xfee00000ULL;
	sys->resv[sys->nresv].end = 0xfef00000ULL;
	sys->resv[sys->nresv].reserved = true;
	sys->nresv++;
	memcpy(sys->bars_cpu, sys->bars, sys->nbars * sizeof(*sys->bars));
	qsort(sys->bars, sys->nbars, sizeof(*sys->bars), cmp_bar_bus);
	qsort(sys->bars_cpu, sys->nbars, sizeof(*sys->bars), cmp_bar_cpu);
	/* IOMMU groups as the kernel formed them at probe, each in its
	 * default domain. */
	if (sys->def_type != P2PDMA_DOMAIN_NONE) {
		ret = p2pdma_iommu_groups_compute(sys->ctx, t, &sys->groups);
		if (ret)
			goto nomem;
		sys->ngroups = p2pdma_iommu_groups_count(sys->groups);
		sys->grp = p2pdma_sys_zalloc(sys, sys->ngroups, sizeof(*sys->grp));
		if (!sys->grp)
			goto nomem;
		for (g = 0; g < sys->ngroups; g++) {
			struct p2pdma_iommu_domain *d;

			ret = domain_new(sys, sys->def_type, &d);
			if (ret)
				goto nomem;
			d->default_of = (int)g;
			d->attached = 1;
			sys->grp[g].def = d;
			sys->grp[g].cur = d;
		}
	}
	sys->ready = true;
	return 0;
nomem:
	/* Leave a clean, not-ready layer: the next call tries again. */
	free(sys->view);
	sys->view = NULL;
	free(sys->bars);
	free(sys->bars_cpu);
	free(sys->resv);
	sys->bars = sys->bars_cpu = NULL;
	sys->resv = NULL;
	sys->nbars = sys->nresv = 0;
	if (sys->grp) {
		for (g = 0; g < sys->ngroups; g++)
			sys->grp[g].def = sys->grp[g].cur = NULL;
	}
	{
		struct p2pdma_iommu_domain *d, *dn;

		for (d = sys->domains; d; d = dn) {
			dn = d->next;
			domain_destroy(d);
		}
		sys->domains = NULL;
	}
	free(sys->grp);
	sys->grp = NULL;
	p2pdma_iommu_groups_destroy(sys->groups);
	sys->groups = NULL;
	sys->ngroups = 0;
	return p2pdma_err(sys->ctx, -ENOMEM, "DMA layer: out of memory");
}

/* Lock and make ready; on failure the lock is released. */
static int sys_enter(struct p2pdma_kernel *k, struct p2pdma_dmasys **out)
{
	struct p2pdma_dmasys *sys = k->dma;
	int ret;

	*out = sys;
	if (!sys)
		return -ENOMEM;
	p2pdma_sys_lock(sys);
	ret = p2pdma_sys_ready(sys);
	if (ret)
		p2pdma_sys_unlock(sys);
	return ret;
}

static int sys_enter_dev(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			 struct p2pdma_dmasys **out, int *di)
{
	int ret = sys_enter(k, out);

	if (ret)
		return ret;
	*di = p2pdma_sys_devidx(*out, dev);
	if (*di < 0) {
		p2pdma_sys_unlock(*out);
		return p2pdma_err(k->ctx, -EINVAL, "%s is not a function of the kernel's machine",
				  dev ? dev->name : "(null)");
	}
	return 0;
}

static const char *dname(struct p2pdma_dmasys *sys, int di)
{
	return p2pdma_k_topo(sys->k)->devs[di]->name;
}

P2PDMA_EXPORT unsigned int p2pdma_dma_quirks(struct p2pdma_kernel *k)
{
	struct p2pdma_dmasys *sys;
	unsigned int q;

	if (sys_enter(k, &sys))
		return k->dma ? k->dma->quirks : 0;
	q = sys->quirks;
	p2pdma_sys_unlock(sys);
	return q;
}

P2PDMA_EXPORT int p2pdma_dma_set_quirks(struct p2pdma_kernel *k, unsigned int quirks)
{
	struct p2pdma_dmasys *sys = k->dma;

	if (!sys)
		return -ENOMEM;
	p2pdma_sys_lock(sys);
	sys->quirks = quirks & ((1u << P2PDMA_QUIRK_COUNT) - 1);
	p2pdma_sys_unlock(sys);
	return 0;
}

P2PDMA_EXPORT int p2pdma_dma_set_default_domain(struct p2pdma_kernel *k,
						enum p2pdma_domain_type type)
{
	struct p2pdma_dmasys *sys = k->dma;
	int ret = 0;

	if (!sys)
		return -ENOMEM;
	if (type != P2PDMA_DOMAIN_NONE && type != P2PDMA_DOMAIN_IDENTITY &&
	    type != P2PDMA_DOMAIN_DMA)
		return p2pdma_err(k->ctx, -EINVAL, "a default domain is none, identity or DMA");
	p2pdma_sys_lock(sys);
	if (sys->ready) {
		ret = p2pdma_err(k->ctx, -EBUSY,
				 "the DMA layer is in use: its default domains are set");
	} else {
		sys->def_type = type;
		sys->def_set = true;
	}
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT enum p2pdma_domain_type p2pdma_dma_default_domain_type(struct p2pdma_kernel *k)
{
	struct p2pdma_dmasys *sys;
	enum p2pdma_domain_type t;

	if (sys_enter(k, &sys))
		return P2PDMA_DOMAIN_NONE;
	t = sys->def_type;
	p2pdma_sys_unlock(sys);
	return t;
}

P2PDMA_EXPORT int p2pdma_dma_set_mask(struct p2pdma_kernel *k,
				      const struct p2pdma_dev *dev, uint64_t mask)
{
	struct p2pdma_dmasys *sys;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	if (ret)
		return ret;
	if (mask < 0xffffffffULL) {
		p2pdma_sys_unlock(sys);
		return p2pdma_err(k->ctx, -EIO, "%s: DMA mask %#llx below 32 bits is not supported",
				  dev->name, (unsigned long long)mask);
	}
	sys->view[di].mask = mask;
	p2pdma_sys_unlock(sys);
	return 0;
}

P2PDMA_EXPORT int p2pdma_dma_set_decode(struct p2pdma_kernel *k,
					const struct p2pdma_dev *dev, bool decode)
{
	struct p2pdma_dmasys *sys;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	if (ret)
		return ret;
	sys->view[di].decode_off = !decode;
	p2pdma_sys_unlock(sys);
	return 0;
}

static int group_of(struct p2pdma_dmasys *sys, int di)
{
	if (!sys->groups)
		return -ENODEV;
	return p2pdma_iommu_group_of(sys->groups, p2pdma_k_topo(sys->k)->devs[di]);
}

struct p2pdma_iommu_domain *p2pdma_sys_cur_domain(struct p2pdma_dmasys *sys, int di)
{
	int g = group_of(sys, di);

	return g < 0 ? NULL : sys->grp[g].cur;
}

struct p2pdma_iommu_domain *p2pdma_sys_def_domain(struct p2pdma_dmasys *sys, int di)
{
	int g = group_of(sys, di);

	return g < 0 ? NULL : sys->grp[g].def;
}

P2PDMA_EXPORT int p2pdma_dma_domain(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				    struct p2pdma_iommu_domain **out)
{
	struct p2pdma_dmasys *sys;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	*out = NULL;
	if (ret)
		return ret;
	*out = p2pdma_sys_cur_domain(sys, di);
	p2pdma_sys_unlock(sys);
	return 0;
}

P2PDMA_EXPORT int p2pdma_dma_group(struct p2pdma_kernel *k, const struct p2pdma_dev *dev)
{
	struct p2pdma_dmasys *sys;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	if (ret)
		return ret;
	ret = group_of(sys, di);
	p2pdma_sys_unlock(sys);
	return ret;
}

/* --- page tables --- */

static int level_shift(int level)
{
	return 12 + 9 * level;
}

static void pt_free(struct pt_node *n, int level)
{
	int i;

	if (!n)
		return;
	if (level > 0)
		for (i = 0; i < PT_ENTRIES; i++)
			pt_free(n->child[i], level - 1);
	free(n);
}

/* Nothing mapped below @n (tables are kept after unmap, as io-pgtable does). */
static bool pt_empty(const struct pt_node *n, int level)
{
	int i;

	if (!n->used)
		return true;
	for (i = 0; i < PT_ENTRIES; i++) {
		if (n->pte[i] & PTE_PRESENT)
			return false;
		if (level > 0 && n->child[i] && !pt_empty(n->child[i], level - 1))
			return false;
	}
	return true;
}

/*
 * Map [iova, iova + size) at @level. Leaves of 4 KiB, 2 MiB and 1 GiB are
 * used where alignment allows. *done counts bytes mapped by this call so
 * that the caller can undo them on failure.
 */
static int pt_map(struct p2pdma_dmasys *sys, struct pt_node *n, int level,
		  uint64_t iova, uint64_t phys, uint64_t size, uint64_t flags,
		  uint64_t *done, struct pt_node **leaf, uint64_t *leaf_base)
{
	uint64_t span = 1ULL << level_shift(level);

	if (!level) {
		*leaf = n;
		*leaf_base = iova & ~0x1fffffULL;
	}

	while (size) {
		unsigned int idx = (unsigned int)((iova >> level_shift(level)) & (PT_ENTRIES - 1));
		uint64_t off = iova & (span - 1);
		uint64_t chunk = span - off < size ? span - off : size;

		if (level <= 2 && !off && chunk == span && !(phys & (span - 1))) {
			if (n->pte[idx] & PTE_PRESENT)
				return -EEXIST;
			if (n->child[idx]) {
				if (!pt_empty(n->child[idx], level - 1))
					return -EEXIST;
				pt_free(n->child[idx], level - 1);
				n->child[idx] = NULL;
				n->used--;
			}
			n->pte[idx] = (phys & PTE_ADDR_MASK) | flags | PTE_PRESENT;
			n->used++;
			*done += chunk;
		} else {
			int ret;

			if (n->pte[idx] & PTE_PRESENT)
				return -EEXIST;
			if (!n->child[idx]) {
				n->child[idx] = p2pdma_sys_zalloc(sys, 1, sizeof(struct pt_node));
				if (!n->child[idx])
					return -ENOMEM;
				n->used++;
			}
			ret = pt_map(sys, n->child[idx], level - 1, iova, phys, chunk,
				     flags, done, leaf, leaf_base);
			if (ret)
				return ret;
		}
		iova += chunk;
		phys += chunk;
		size -= chunk;
	}
	return 0;
}

/* Unmap [iova, iova + size); splits large leaves partly covered. Tables
 * stay (freed with the domain). */
static uint64_t pt_unmap(struct p2pdma_dmasys *sys, struct pt_node *n, int level,
			 uint64_t iova, uint64_t size)
{
	uint64_t span = 1ULL << level_shift(level), total = 0;

	while (size) {
		unsigned int idx = (unsigned int)((iova >> level_shift(level)) & (PT_ENTRIES - 1));
		uint64_t off = iova & (span - 1);
		uint64_t chunk = span - off < size ? span - off : size;

		if (n->pte[idx] & PTE_PRESENT) {
			if (!off && chunk == span) {
				n->pte[idx] = 0;
				n->used--;
				total += chunk;
			} else {
				/* Split the large leaf into the next level. */
				struct pt_node *c = p2pdma_sys_zalloc(sys, 1, sizeof(*c));
				uint64_t sub = span / PT_ENTRIES;
				uint64_t base = n->pte[idx] & PTE_ADDR_MASK;
				uint64_t fl = n->pte[idx] & ~PTE_ADDR_MASK;
				int i;

				if (!c)
					return total;	/* nothing unmapped here */
				for (i = 0; i < PT_ENTRIES; i++)
					c->pte[i] = (base + (uint64_t)i * sub) | fl;
				c->used = PT_ENTRIES;
				n->pte[idx] = 0;
				n->child[idx] = c;	/* used count unchanged: leaf -> table */
				total += pt_unmap(sys, c, level - 1, iova, chunk);
			}
		} else if (n->child[idx] && n->child[idx]->used) {
			total += pt_unmap(sys, n->child[idx], level - 1, iova, chunk);
		}
		iova += chunk;
		size -= chunk;
	}
	return total;
}

/* Clear (or set) PTE bits over a range of leaves. */
static void pt_update(struct pt_node *n, int level, uint64_t iova, uint64_t size,
		      uint64_t clear)
{
	uint64_t span = 1ULL << level_shift(level);

	while (size) {
		unsigned int idx = (unsigned int)((iova >> level_shift(level)) & (PT_ENTRIES - 1));
		uint64_t off = iova & (span - 1);
		uint64_t chunk = span - off < size ? span - off : size;

		if (n->pte[idx] & PTE_PRESENT)
			n->pte[idx] &= ~clear;
		else if (n->child[idx])
			pt_update(n->child[idx], level - 1, iova, chunk, clear);
		iova += chunk;
		size -= chunk;
	}
}

/* The leaf for @iova: its entry and span; false when unmapped. */
static bool pt_lookup(const struct pt_node *n, uint64_t iova, uint64_t *pte,
		      uint64_t *span)
{
	int level = PT_LEVELS - 1;

	if (iova >= IOVA_APERTURE || !n)
		return false;
	for (;;) {
		unsigned int idx = (unsigned int)((iova >> level_shift(level)) & (PT_ENTRIES - 1));

		if (n->pte[idx] & PTE_PRESENT) {
			*pte = n->pte[idx];
			*span = 1ULL << level_shift(level);
			return true;
		}
		if (!level || !n->child[idx])
			return false;
		n = n->child[idx];
		level--;
	}
}

static int dom_map(struct p2pdma_iommu_domain *d, uint64_t iova, uint64_t phys,
		   uint64_t size, uint64_t flags)
{
	struct pt_node *leaf = NULL;
	uint64_t done = 0, leaf_base = 0;
	int ret;

	/* Pages of the last leaf table written: no walk (consecutive links). */
	if (d->leaf && (iova & ~0x1fffffULL) == d->leaf_base &&
	    ((iova + size - 1) & ~0x1fffffULL) == d->leaf_base) {
		unsigned int i = (unsigned int)((iova >> 12) & (PT_ENTRIES - 1));
		unsigned int n = (unsigned int)(size >> 12), j;

		for (j = 0; j < n; j++)
			if (d->leaf->pte[i + j] & PTE_PRESENT)
				return -EEXIST;
		for (j = 0; j < n; j++)
			d->leaf->pte[i + j] = ((phys + ((uint64_t)j << 12)) & PTE_ADDR_MASK) |
					      flags | PTE_PRESENT;
		d->leaf->used += n;
		return 0;
	}
	if (!d->root && !(d->root = p2pdma_sys_zalloc(d->sys, 1, sizeof(*d->root))))
		return -ENOMEM;
	ret = pt_map(d->sys, d->root, PT_LEVELS - 1, iova, phys, size, flags, &done, &leaf,
		     &leaf_base);
	if (ret && done)
		pt_unmap(d->sys, d->root, PT_LEVELS - 1, iova, done);
	if (ret || !leaf) {
		d->leaf = NULL;
	} else {
		d->leaf = leaf;
		d->leaf_base = leaf_base;
	}
	return ret;
}

static uint64_t dom_unmap(struct p2pdma_iommu_domain *d, uint64_t iova, uint64_t size)
{
	if (!d->root)
		return 0;
	return pt_unmap(d->sys, d->root, PT_LEVELS - 1, iova, size);
}

/* --- address allocators --- */

static size_t as_find(const struct aspace *s, uint64_t start)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->r[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int as_insert(struct p2pdma_dmasys *sys, struct aspace *s, uint64_t start,
		     uint64_t end, bool reserved)
{
	size_t i;
	int ret = p2pdma_sys_grow(sys, (void **)&s->r, &s->cap, s->n + 1, sizeof(*s->r));

	if (ret)
		return ret;
	i = as_find(s, start);
	memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
	s->r[i].start = start;
	s->r[i].end = end;
	s->r[i].reserved = reserved;
	s->n++;
	return 0;
}

/* Reserve a range, merged with what overlaps (reserved windows only). */
static int as_reserve(struct p2pdma_dmasys *sys, struct aspace *s, uint64_t start,
		      uint64_t end)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->r[i].start < end && start < s->r[i].end) {
			if (start < s->r[i].start)
				s->r[i].start = start;
			if (end > s->r[i].end)
				s->r[i].end = end;
			return 0;
		}
	}
	return as_insert(sys, s, start, end, true);
}

/*
 * Top down (the IOVA allocator): the highest @align-aligned hole of @size
 * ending at or below @limit (exclusive end), starting at or above @base.
 */
static int as_alloc_top(struct p2pdma_dmasys *sys, struct aspace *s, uint64_t size,
			uint64_t align, uint64_t base, uint64_t limit, uint64_t *out)
{
	size_t i = as_find(s, limit);	/* first range starting at or above @limit */
	uint64_t hi = limit;

	if (!size || size > limit)
		return -ENOSPC;
	for (;;) {
		uint64_t lo = i ? s->r[i - 1].end : base;

		if (lo < base)
			lo = base;
		if (hi > lo && hi - lo >= size) {
			uint64_t start = (hi - size) & ~(align - 1);

			if (start >= lo) {
				*out = start;
				return as_insert(sys, s, start, start + size, false);
			}
		}
		if (!i)
			return -ENOSPC;
		if (s->r[i - 1].start < hi)
			hi = s->r[i - 1].start;
		i--;
		if (hi <= base)
			return -ENOSPC;
	}
}

/* Bottom up (the swiotlb): the lowest aligned hole in [base, limit). */
static int as_alloc_bottom(struct p2pdma_dmasys *sys, struct aspace *s, uint64_t size,
			   uint64_t align, uint64_t base, uint64_t limit, uint64_t *out)
{
	uint64_t lo = base;
	size_t i;

	for (i = 0; i <= s->n; i++) {
		uint64_t hi = i < s->n ? s->r[i].start : limit;
		uint64_t start = (lo + align - 1) & ~(align - 1);

		if (hi > limit)
			hi = limit;
		if (start + size <= hi) {
			*out = start;
			return as_insert(sys, s, start, start + size, false);
		}
		if (i < s->n && s->r[i].end > lo)
			lo = s->r[i].end;
	}
	return -ENOSPC;
}

static int as_free(struct aspace *s, uint64_t start, uint64_t *len)
{
	size_t i = as_find(s, start);

	if (i >= s->n || s->r[i].start != start || s->r[i].reserved)
		return -ENOENT;
	if (len)
		*len = s->r[i].end - s->r[i].start;
	memmove(&s->r[i], &s->r[i + 1], (s->n - i - 1) * sizeof(*s->r));
	s->n--;
	return 0;
}

static uint64_t roundup_pow2(uint64_t x)
{
	uint64_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/*
 * alloc_iova_fast() as iommu_dma_alloc_iova() calls it: pages rounded up
 * to a power of two below 32 pages (the rcache sizes), size-aligned,
 * below the device's limit, a 32-bit address tried first (SAC).
 */
static int iova_alloc_dma(struct p2pdma_iommu_domain *d, uint64_t size,
			  uint64_t mask, uint64_t *out)
{
	uint64_t pages = (size + PAGE_MASK_LO) / PAGE_SZ;
	uint64_t limit = mask >= IOVA_APERTURE - 1 ? IOVA_APERTURE : mask + 1;
	uint64_t len, align;

	if (!pages)
		return -EINVAL;
	if (pages < 32)
		pages = roundup_pow2(pages);
	len = pages * PAGE_SZ;
	align = roundup_pow2(pages) * PAGE_SZ;
	if (limit > (1ULL << 32) &&
	    !as_alloc_top(d->sys, &d->iova, len, align, PAGE_SZ, 1ULL << 32, out))
		return 0;
	return as_alloc_top(d->sys, &d->iova, len, align, PAGE_SZ, limit, out);
}

/* --- domains --- */

static int domain_new(struct p2pdma_dmasys *sys, enum p2pdma_domain_type type,
		      struct p2pdma_iommu_domain **out)
{
	struct p2pdma_iommu_domain *d = p2pdma_sys_zalloc(sys, 1, sizeof(*d));
	size_t i;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->sys = sys;
	d->type = type;
	d->id = ++sys->next_domain_id;
	d->default_of = -1;
	if (type == P2PDMA_DOMAIN_DMA || type == P2PDMA_DOMAIN_UNMANAGED) {
		for (i = 0; i < sys->nresv; i++) {
			/* Unmanaged domains keep only the MSI window out. */
			if (type == P2PDMA_DOMAIN_UNMANAGED && i + 1 < sys->nresv)
				continue;
			if (as_reserve(sys, &d->iova, sys->resv[i].start, sys->resv[i].end)) {
				free(d->iova.r);
				free(d);
				return -ENOMEM;
			}
		}
	}
	d->next = sys->domains;
	sys->domains = d;
	*out = d;
	return 0;
}

static void domain_destroy(struct p2pdma_iommu_domain *d)
{
	pt_free(d->root, PT_LEVELS - 1);
	free(d->iova.r);
	free(d);
}

P2PDMA_EXPORT int p2pdma_iommu_domain_alloc(struct p2pdma_kernel *k,
					    enum p2pdma_domain_type type,
					    struct p2pdma_iommu_domain **out)
{
	struct p2pdma_dmasys *sys;
	int ret = sys_enter(k, &sys);

	*out = NULL;
	if (ret)
		return ret;
	if (sys->def_type == P2PDMA_DOMAIN_NONE)
		ret = p2pdma_err(k->ctx, -ENODEV, "the machine has no IOMMU");
	else if (type != P2PDMA_DOMAIN_UNMANAGED && type != P2PDMA_DOMAIN_BLOCKED &&
		 type != P2PDMA_DOMAIN_IDENTITY)
		ret = p2pdma_err(k->ctx, -EINVAL, "only unmanaged, blocked and identity domains are allocated by hand");
	else if (domain_new(sys, type, out))
		ret = p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT int p2pdma_iommu_domain_free(struct p2pdma_iommu_domain *dom)
{
	struct p2pdma_dmasys *sys;
	struct p2pdma_iommu_domain **pp;

	if (!dom)
		return 0;
	sys = dom->sys;
	p2pdma_sys_lock(sys);
	if (dom->attached || dom->default_of >= 0) {
		p2pdma_sys_unlock(sys);
		return p2pdma_err(sys->ctx, -EBUSY, "domain %u is attached to a group", dom->id);
	}
	for (pp = &sys->domains; *pp; pp = &(*pp)->next)
		if (*pp == dom) {
			*pp = dom->next;
			break;
		}
	domain_destroy(dom);
	p2pdma_sys_unlock(sys);
	return 0;
}

P2PDMA_EXPORT enum p2pdma_domain_type
p2pdma_iommu_domain_type(const struct p2pdma_iommu_domain *dom)
{
	return dom->type;
}

P2PDMA_EXPORT unsigned int p2pdma_iommu_domain_id(const struct p2pdma_iommu_domain *dom)
{
	return dom->id;
}

P2PDMA_EXPORT int p2pdma_iommu_attach_group(struct p2pdma_kernel *k,
					    struct p2pdma_iommu_domain *dom,
					    const struct p2pdma_dev *dev)
{
	struct p2pdma_dmasys *sys;
	int di, g, ret = sys_enter_dev(k, dev, &sys, &di);

	if (ret)
		return ret;
	g = group_of(sys, di);
	if (g < 0) {
		p2pdma_sys_unlock(sys);
		return p2pdma_err(k->ctx, -ENODEV, "the machine has no IOMMU");
	}
	if (dom && dom->sys != sys) {
		p2pdma_sys_unlock(sys);
		return p2pdma_err(k->ctx, -EINVAL, "domain of another kernel");
	}
	if (!dom)
		dom = sys->grp[g].def;
	if (sys->grp[g].cur != dom) {
		sys->grp[g].cur->attached--;
		dom->attached++;
		sys->grp[g].cur = dom;
	}
	p2pdma_sys_unlock(sys);
	return 0;
}

static int check_unmanaged(struct p2pdma_iommu_domain *dom, uint64_t iova,
			   uint64_t size)
{
	if (dom->type != P2PDMA_DOMAIN_UNMANAGED)
		return p2pdma_err(dom->sys->ctx, -EINVAL, "domain %u is not an unmanaged domain", dom->id);
	if ((iova | size) & PAGE_MASK_LO || !size || iova + size > IOVA_APERTURE ||
	    iova + size < iova)
		return p2pdma_err(dom->sys->ctx, -EINVAL,
				  "IOVA range %#llx+%#llx: not page aligned or outside the aperture",
				  (unsigned long long)iova, (unsigned long long)size);
	return 0;
}

P2PDMA_EXPORT int p2pdma_iommu_map(struct p2pdma_iommu_domain *dom, uint64_t iova,
				   uint64_t phys, uint64_t size, unsigned int prot)
{
	struct p2pdma_dmasys *sys = dom->sys;
	uint64_t fl = 0;
	int ret;

	p2pdma_sys_lock(sys);
	ret = check_unmanaged(dom, iova, size);
	if (!ret && (phys & PAGE_MASK_LO))
		ret = p2pdma_err(sys->ctx, -EINVAL, "physical address not page aligned");
	if (!ret) {
		fl |= prot & P2PDMA_IOMMU_READ ? PTE_READ : 0;
		fl |= prot & P2PDMA_IOMMU_WRITE ? PTE_WRITE : 0;
		fl |= prot & P2PDMA_IOMMU_MMIO ? PTE_MMIO : 0;
		ret = dom_map(dom, iova, phys, size, fl);
		if (ret == -EEXIST)
			p2pdma_err(sys->ctx, ret, "IOVA %#llx+%#llx overlaps a mapping",
				   (unsigned long long)iova, (unsigned long long)size);
	}
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT uint64_t p2pdma_iommu_unmap(struct p2pdma_iommu_domain *dom,
					  uint64_t iova, uint64_t size)
{
	uint64_t n = 0;

	p2pdma_sys_lock(dom->sys);
	if (!((iova | size) & PAGE_MASK_LO))
		n = dom_unmap(dom, iova, size);
	p2pdma_sys_unlock(dom->sys);
	return n;
}

static unsigned int pte_prot(uint64_t pte)
{
	return (pte & PTE_READ ? P2PDMA_IOMMU_READ : 0) |
	       (pte & PTE_WRITE ? P2PDMA_IOMMU_WRITE : 0) |
	       (pte & PTE_MMIO ? P2PDMA_IOMMU_MMIO : 0);
}

P2PDMA_EXPORT int p2pdma_iommu_iova_to_phys(const struct p2pdma_iommu_domain *dom,
					    uint64_t iova, uint64_t *phys,
					    unsigned int *prot)
{
	uint64_t pte, span;
	int ret = 0;

	p2pdma_sys_lock(dom->sys);
	if (dom->type == P2PDMA_DOMAIN_IDENTITY) {
		*phys = iova;
		if (prot)
			*prot = P2PDMA_IOMMU_READ | P2PDMA_IOMMU_WRITE;
	} else if (dom->type == P2PDMA_DOMAIN_BLOCKED ||
		   !pt_lookup(dom->root, iova, &pte, &span)) {
		ret = -ENOENT;
	} else {
		*phys = (pte & PTE_ADDR_MASK) + (iova & (span - 1));
		if (prot)
			*prot = pte_prot(pte);
	}
	p2pdma_sys_unlock(dom->sys);
	return ret;
}

P2PDMA_EXPORT int p2pdma_iommu_alloc_iova(struct p2pdma_iommu_domain *dom,
					  uint64_t size, uint64_t limit,
					  uint64_t *out)
{
	int ret;

	p2pdma_sys_lock(dom->sys);
	if (dom->type != P2PDMA_DOMAIN_DMA && dom->type != P2PDMA_DOMAIN_UNMANAGED)
		ret = -EINVAL;
	else
		ret = iova_alloc_dma(dom, size, limit, out);
	p2pdma_sys_unlock(dom->sys);
	return ret;
}

P2PDMA_EXPORT int p2pdma_iommu_free_iova(struct p2pdma_iommu_domain *dom, uint64_t iova)
{
	int ret;

	p2pdma_sys_lock(dom->sys);
	ret = as_free(&dom->iova, iova, NULL);
	p2pdma_sys_unlock(dom->sys);
	return ret;
}

/* --- dma_map_phys() --- */

static uint64_t prot_of(enum p2pdma_dma_dir dir, unsigned long attrs)
{
	uint64_t fl = 0;

	if (dir == P2PDMA_DMA_TO_DEVICE || dir == P2PDMA_DMA_BIDIRECTIONAL)
		fl |= PTE_READ;
	if (dir == P2PDMA_DMA_FROM_DEVICE || dir == P2PDMA_DMA_BIDIRECTIONAL)
		fl |= PTE_WRITE;
	if (attrs & P2PDMA_DMA_ATTR_MMIO)
		fl |= PTE_MMIO;
	return fl;
}

/* The record table of a view: open addressing on the DMA address. */
static size_t map_hash(uint64_t addr, size_t cap)
{
	uint64_t x = addr >> 11;

	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(x >> 17) & (cap - 1);
}

static int view_add(struct p2pdma_dmasys *sys, struct dma_view *v,
		    const struct phys_map *m)
{
	size_t i;

	if ((v->nmaps + 1) * 4 > v->capmaps * 3) {
		size_t ncap = v->capmaps ? v->capmaps * 2 : 16, j;
		struct phys_map *n = p2pdma_sys_zalloc(sys, ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (j = 0; j < v->capmaps; j++) {
			if (!v->maps[j].addr)
				continue;
			for (i = map_hash(v->maps[j].addr, ncap); n[i].addr; i = (i + 1) & (ncap - 1))
				;
			n[i] = v->maps[j];
		}
		free(v->maps);
		v->maps = n;
		v->capmaps = ncap;
	}
	for (i = map_hash(m->addr, v->capmaps); v->maps[i].addr; i = (i + 1) & (v->capmaps - 1))
		;
	v->maps[i] = *m;
	v->nmaps++;
	return 0;
}

static struct phys_map *view_find(struct dma_view *v, uint64_t addr)
{
	size_t i;

	if (!v->capmaps || !addr)
		return NULL;
	for (i = map_hash(addr, v->capmaps); v->maps[i].addr; i = (i + 1) & (v->capmaps - 1))
		if (v->maps[i].addr == addr)
			return &v->maps[i];
	return NULL;
}

/* Backward-shift deletion (linear probing). */
static void view_del(struct dma_view *v, struct phys_map *m)
{
	size_t i = (size_t)(m - v->maps), j = i;

	v->maps[i].addr = 0;
	for (;;) {
		size_t h;

		j = (j + 1) & (v->capmaps - 1);
		if (!v->maps[j].addr)
			break;
		h = map_hash(v->maps[j].addr, v->capmaps);
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			v->maps[i] = v->maps[j];
			v->maps[j].addr = 0;
			i = j;
		}
	}
	v->nmaps--;
}

static int mem_copy(struct p2pdma_dmasys *sys, uint64_t dst, uint64_t src, uint64_t len);

uint64_t p2pdma_sys_map_phys(struct p2pdma_dmasys *sys, int di, uint64_t phys,
			     uint64_t len, enum p2pdma_dma_dir dir,
			     unsigned long attrs)
{
	struct dma_view *v = &sys->view[di];
	struct p2pdma_iommu_domain *d = p2pdma_sys_def_domain(sys, di);
	struct phys_map m = { 0 };

	if (!len) {
		p2pdma_err(sys->ctx, -EINVAL, "dma_map_phys(%s): zero length", dname(sys, di));
		return P2PDMA_DMA_MAPPING_ERROR;
	}
	m.len = len;
	m.phys = phys;
	m.dir = dir;
	if (!d || d->type == P2PDMA_DOMAIN_IDENTITY) {
		/* dma-direct: the physical address when the device can reach it. */
		if (phys + len - 1 >= phys && phys + len - 1 <= v->mask)
			return phys;
		if (attrs & P2PDMA_DMA_ATTR_MMIO) {
			p2pdma_err(sys->ctx, -EIO,
				   "dma_map_phys(%s): MMIO %#llx+%#llx is beyond the DMA mask %#llx and MMIO is never bounced",
				   dname(sys, di), (unsigned long long)phys,
				   (unsigned long long)len, (unsigned long long)v->mask);
			p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
				    "%s: dma_map_phys(DMA_ATTR_MMIO) of %#llx beyond the DMA mask: mapping error (no swiotlb for MMIO)",
				    dname(sys, di), (unsigned long long)phys);
			return P2PDMA_DMA_MAPPING_ERROR;
		}
		if (as_alloc_bottom(sys, &sys->swiotlb, (len + SWIOTLB_SLOT - 1) & ~(SWIOTLB_SLOT - 1),
				    SWIOTLB_SLOT, SWIOTLB_BASE, SWIOTLB_BASE + SWIOTLB_SIZE, &m.iova)) {
			p2pdma_err(sys->ctx, -ENOMEM, "dma_map_phys(%s): swiotlb full", dname(sys, di));
			return P2PDMA_DMA_MAPPING_ERROR;
		}
		m.bounce = true;
		m.addr = m.iova;
		if ((dir == P2PDMA_DMA_TO_DEVICE || dir == P2PDMA_DMA_BIDIRECTIONAL) &&
		    mem_copy(sys, m.iova, phys, len)) {
			as_free(&sys->swiotlb, m.iova, NULL);
			return P2PDMA_DMA_MAPPING_ERROR;
		}
		if (view_add(sys, v, &m)) {
			as_free(&sys->swiotlb, m.iova, NULL);
			return P2PDMA_DMA_MAPPING_ERROR;
		}
		return m.addr;
	}
	if (d->type != P2PDMA_DOMAIN_DMA) {
		p2pdma_err(sys->ctx, -EIO, "dma_map_phys(%s): its default domain cannot be used by the DMA API",
			   dname(sys, di));
		return P2PDMA_DMA_MAPPING_ERROR;
	}
	{
		uint64_t off = phys & PAGE_MASK_LO;
		uint64_t size = (off + len + PAGE_MASK_LO) & ~PAGE_MASK_LO;
		uint64_t iova;

		if (iova_alloc_dma(d, size, v->mask, &iova)) {
			p2pdma_err(sys->ctx, -ENOMEM, "dma_map_phys(%s): no IOVA space", dname(sys, di));
			return P2PDMA_DMA_MAPPING_ERROR;
		}
		if (dom_map(d, iova, phys - off, size, prot_of(dir, attrs))) {
			as_free(&d->iova, iova, NULL);
			p2pdma_err(sys->ctx, -ENOMEM, "dma_map_phys(%s): IOMMU map failed", dname(sys, di));
			return P2PDMA_DMA_MAPPING_ERROR;
		}
		m.iommu = true;
		m.iova = iova;
		m.addr = iova + off;
		if (view_add(sys, v, &m)) {
			dom_unmap(d, iova, size);
			as_free(&d->iova, iova, NULL);
			return P2PDMA_DMA_MAPPING_ERROR;
		}
		return m.addr;
	}
}

int p2pdma_sys_unmap_phys(struct p2pdma_dmasys *sys, int di, uint64_t addr,
			  uint64_t len, enum p2pdma_dma_dir dir, unsigned long attrs)
{
	struct dma_view *v = &sys->view[di];
	struct p2pdma_iommu_domain *d = p2pdma_sys_def_domain(sys, di);
	struct phys_map *m;

	(void)attrs;
	if ((!d || d->type == P2PDMA_DOMAIN_IDENTITY) && !view_find(v, addr))
		return 0;	/* dma-direct without bounce: nothing to undo */
	m = view_find(v, addr);
	if (!m || m->len != len) {
		p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "DMA-API: %s: device driver tries to free DMA memory it has not allocated [device address=%#llx] [size=%llu bytes]",
			    dname(sys, di), (unsigned long long)addr, (unsigned long long)len);
		return -ENOENT;
	}
	if (m->bounce) {
		if (dir == P2PDMA_DMA_FROM_DEVICE || dir == P2PDMA_DMA_BIDIRECTIONAL)
			mem_copy(sys, m->phys, m->iova, m->len);
		as_free(&sys->swiotlb, m->iova, NULL);
	} else if (m->iommu && d) {
		uint64_t alen = 0;

		if (!as_free(&d->iova, m->iova, &alen))
			dom_unmap(d, m->iova, alen);
	}
	view_del(v, m);
	return 0;
}

P2PDMA_EXPORT uint64_t p2pdma_dma_map_phys(struct p2pdma_kernel *k,
					   const struct p2pdma_dev *dev,
					   uint64_t phys, uint64_t len,
					   enum p2pdma_dma_dir dir, unsigned long attrs)
{
	struct p2pdma_dmasys *sys;
	uint64_t addr;
	int di;

	if (sys_enter_dev(k, dev, &sys, &di))
		return P2PDMA_DMA_MAPPING_ERROR;
	addr = p2pdma_sys_map_phys(sys, di, phys, len, dir, attrs);
	p2pdma_sys_unlock(sys);
	return addr;
}

P2PDMA_EXPORT int p2pdma_dma_mapping_error(uint64_t addr)
{
	return addr == P2PDMA_DMA_MAPPING_ERROR ? -ENOMEM : 0;
}

P2PDMA_EXPORT int p2pdma_dma_unmap_phys(struct p2pdma_kernel *k,
					const struct p2pdma_dev *dev, uint64_t addr,
					uint64_t len, enum p2pdma_dma_dir dir,
					unsigned long attrs)
{
	struct p2pdma_dmasys *sys;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	if (ret)
		return ret;
	ret = p2pdma_sys_unmap_phys(sys, di, addr, len, dir, attrs);
	p2pdma_sys_unlock(sys);
	return ret;
}

/* --- the IOVA API --- */

bool p2pdma_sys_iova_try_alloc(struct p2pdma_dmasys *sys, int di,
			       struct p2pdma_iova_state *st, uint64_t phys,
			       uint64_t size)
{
	struct p2pdma_iommu_domain *d = p2pdma_sys_def_domain(sys, di);
	uint64_t off = phys & PAGE_MASK_LO, iova;

	memset(st, 0, sizeof(*st));
	if (!d || d->type != P2PDMA_DOMAIN_DMA)
		return false;
	if (size & P2PDMA_DMA_IOVA_USE_SWIOTLB) {
		p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "WARNING: dma_iova_try_alloc(%s): size %#llx has DMA_IOVA_USE_SWIOTLB set",
			    dname(sys, di), (unsigned long long)size);
		return false;
	}
	if (!size || iova_alloc_dma(d, off + size, sys->view[di].mask, &iova))
		return false;
	st->addr = iova + off;
	st->size = size;
	return true;
}

P2PDMA_EXPORT bool p2pdma_dma_use_iova(const struct p2pdma_iova_state *state)
{
	return state->size != 0;
}

int p2pdma_sys_iova_link_dom(struct p2pdma_dmasys *sys, struct p2pdma_iommu_domain *d,
			     int di, struct p2pdma_iova_state *st, uint64_t phys,
			     uint64_t offset, uint64_t size, enum p2pdma_dma_dir dir,
			     unsigned long attrs)
{
	uint64_t pad = phys & PAGE_MASK_LO;
	uint64_t start, len;
	int ret;

	if (!st->size || !d || d->type != P2PDMA_DOMAIN_DMA)
		return p2pdma_err(sys->ctx, -EINVAL, "dma_iova_link(%s): the IOVA API is not in use",
				  dname(sys, di));
	if (pad && offset > 0) {
		p2pdma_klog(sys->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "WARNING: dma_iova_link(%s): unaligned chunk %#llx at offset %#llx",
			    dname(sys, di), (unsigned long long)phys, (unsigned long long)offset);
		return -EIO;
	}
	if (!size || offset + size > st->size + (st->addr & PAGE_MASK_LO) || offset + size < offset)
		return p2pdma_err(sys->ctx, -EINVAL, "dma_iova_link(%s): %#llx+%#llx outside the reserved range",
				  dname(sys, di), (unsigned long long)offset, (unsigned long long)size);
	start = st->addr + offset - pad;
	len = (size + pad + PAGE_MASK_LO) & ~PAGE_MASK_LO;
	ret = dom_map(d, start & ~PAGE_MASK_LO, phys - pad, len,
		      prot_of(dir, attrs) | PTE_PENDING);
	if (ret == -EEXIST)
		p2pdma_err(sys->ctx, ret, "dma_iova_link(%s): IOVA %#llx+%#llx is linked already",
			   dname(sys, di), (unsigned long long)start, (unsigned long long)len);
	return ret;
}

int p2pdma_sys_iova_link(struct p2pdma_dmasys *sys, int di,
			 struct p2pdma_iova_state *st, uint64_t phys,
			 uint64_t offset, uint64_t size, enum p2pdma_dma_dir dir,
			 unsigned long attrs)
{
	return p2pdma_sys_iova_link_dom(sys, p2pdma_sys_def_domain(sys, di), di, st, phys,
					offset, size, dir, attrs);
}

int p2pdma_sys_iova_sync(struct p2pdma_dmasys *sys, int di,
			 struct p2pdma_iova_state *st, uint64_t offset,
			 uint64_t size)
{
	struct p2pdma_iommu_domain *d = p2pdma_sys_def_domain(sys, di);
	uint64_t start, end;

	if (!st->size || !d || !d->root)
		return st->size ? 0 : -EINVAL;
	start = (st->addr + offset) & ~PAGE_MASK_LO;
	end = (st->addr + offset + size + PAGE_MASK_LO) & ~PAGE_MASK_LO;
	pt_update(d->root, PT_LEVELS - 1, start, end - start, PTE_PENDING);
	return 0;
}

void p2pdma_sys_iova_destroy(struct p2pdma_dmasys *sys, int di,
			     struct p2pdma_iova_state *st, uint64_t mapped)
{
	struct p2pdma_iommu_domain *d = p2pdma_sys_def_domain(sys, di);
	uint64_t base = st->addr & ~PAGE_MASK_LO;

	if (!st->size || !d)
		return;
	if (mapped)
		dom_unmap(d, base, ((st->addr & PAGE_MASK_LO) + mapped + PAGE_MASK_LO) & ~PAGE_MASK_LO);
	as_free(&d->iova, base, NULL);
	memset(st, 0, sizeof(*st));
}

P2PDMA_EXPORT bool p2pdma_dma_iova_try_alloc(struct p2pdma_kernel *k,
					     const struct p2pdma_dev *dev,
					     struct p2pdma_iova_state *state,
					     uint64_t phys, uint64_t size)
{
	struct p2pdma_dmasys *sys;
	bool ok;
	int di;

	if (sys_enter_dev(k, dev, &sys, &di)) {
		memset(state, 0, sizeof(*state));
		return false;
	}
	ok = p2pdma_sys_iova_try_alloc(sys, di, state, phys, size);
	p2pdma_sys_unlock(sys);
	return ok;
}

P2PDMA_EXPORT int p2pdma_dma_iova_link(struct p2pdma_kernel *k,
				       const struct p2pdma_dev *dev,
				       struct p2pdma_iova_state *state, uint64_t phys,
				       uint64_t offset, uint64_t size,
				       enum p2pdma_dma_dir dir, unsigned long attrs)
{
	struct p2pdma_dmasys *sys;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	if (ret)
		return ret;
	ret = p2pdma_sys_iova_link(sys, di, state, phys, offset, size, dir, attrs);
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT int p2pdma_dma_iova_sync(struct p2pdma_kernel *k,
				       const struct p2pdma_dev *dev,
				       struct p2pdma_iova_state *state,
				       uint64_t offset, uint64_t size)
{
	struct p2pdma_dmasys *sys;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	if (ret)
		return ret;
	ret = p2pdma_sys_iova_sync(sys, di, state, offset, size);
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT void p2pdma_dma_iova_unlink(struct p2pdma_kernel *k,
					  const struct p2pdma_dev *dev,
					  struct p2pdma_iova_state *state,
					  uint64_t offset, uint64_t size,
					  enum p2pdma_dma_dir dir, unsigned long attrs)
{
	struct p2pdma_dmasys *sys;
	struct p2pdma_iommu_domain *d;
	int di;

	(void)dir;
	(void)attrs;
	if (sys_enter_dev(k, dev, &sys, &di))
		return;
	d = p2pdma_sys_def_domain(sys, di);
	if (state->size && d) {
		uint64_t start = (state->addr + offset) & ~PAGE_MASK_LO;
		uint64_t end = (state->addr + offset + size + PAGE_MASK_LO) & ~PAGE_MASK_LO;

		dom_unmap(d, start, end - start);
	}
	p2pdma_sys_unlock(sys);
}

P2PDMA_EXPORT void p2pdma_dma_iova_destroy(struct p2pdma_kernel *k,
					   const struct p2pdma_dev *dev,
					   struct p2pdma_iova_state *state,
					   uint64_t mapped_len, enum p2pdma_dma_dir dir,
					   unsigned long attrs)
{
	struct p2pdma_dmasys *sys;
	int di;

	(void)dir;
	(void)attrs;
	if (sys_enter_dev(k, dev, &sys, &di))
		return;
	p2pdma_sys_iova_destroy(sys, di, state, mapped_len);
	p2pdma_sys_unlock(sys);
}

P2PDMA_EXPORT void p2pdma_dma_iova_free(struct p2pdma_kernel *k,
					const struct p2pdma_dev *dev,
					struct p2pdma_iova_state *state)
{
	p2pdma_dma_iova_destroy(k, dev, state, 0, P2PDMA_DMA_NONE, 0);
}

/* --- scatter-gather tables --- */

struct p2pdma_sgt *p2pdma_sgt_alloc(struct p2pdma_dmasys *sys, size_t n)
{
	struct p2pdma_sgt *s = p2pdma_sys_zalloc(sys, 1, sizeof(*s));

	if (!s)
		return NULL;
	s->e = p2pdma_sys_zalloc(sys, n ? n : 1, sizeof(*s->e));
	if (!s->e) {
		free(s);
		return NULL;
	}
	s->cap = n;
	s->devidx = -1;
	return s;
}

void p2pdma_sgt_free_table(struct p2pdma_sgt *sgt)
{
	if (!sgt)
		return;
	free(sgt->e);
	free(sgt->state);
	free(sgt);
}

P2PDMA_EXPORT size_t p2pdma_sgt_nents(const struct p2pdma_sgt *sgt)
{
	return sgt->nents;
}

P2PDMA_EXPORT size_t p2pdma_sgt_orig_nents(const struct p2pdma_sgt *sgt)
{
	return sgt->orig_nents;
}

P2PDMA_EXPORT uint64_t p2pdma_sgt_dma_address(const struct p2pdma_sgt *sgt, size_t i)
{
	return i < sgt->nents ? sgt->e[i].dma : P2PDMA_DMA_MAPPING_ERROR;
}

P2PDMA_EXPORT uint32_t p2pdma_sgt_dma_len(const struct p2pdma_sgt *sgt, size_t i)
{
	return i < sgt->nents ? sgt->e[i].dma_len : 0;
}

P2PDMA_EXPORT bool p2pdma_sgt_is_bus_address(const struct p2pdma_sgt *sgt, size_t i)
{
	/* dma_buf_phys_vec_to_sgt() marks nothing (its tables hold only DMA fields). */
	return sgt->kind == SGT_PAGES && i < sgt->nents && (sgt->e[i].flags & SGE_BUS_ADDR);
}

P2PDMA_EXPORT int p2pdma_sgt_page(const struct p2pdma_sgt *sgt, size_t i,
				  const struct p2pdma_provider **provider,
				  uint64_t *phys)
{
	if (i >= sgt->orig_nents)
		return -ENOENT;
	if (provider)
		*provider = sgt->e[i].prov;
	if (phys)
		*phys = sgt->e[i].phys;
	return 0;
}

P2PDMA_EXPORT enum p2pdma_sgt_kind p2pdma_sgt_kind(const struct p2pdma_sgt *sgt)
{
	if (sgt->kind == SGT_PAGES)
		return P2PDMA_SGT_MAP_SG;
	if (!sgt->state)
		return P2PDMA_SGT_BUS_ADDR;
	return p2pdma_dma_use_iova(sgt->state) ? P2PDMA_SGT_IOVA : P2PDMA_SGT_MAP_PHYS;
}

P2PDMA_EXPORT uint64_t p2pdma_sgt_dma_bytes(const struct p2pdma_sgt *sgt)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < sgt->nents; i++)
		n += sgt->e[i].dma_len;
	return n;
}

/* Does a P2P page lie inside its provider's BAR? */
static bool page_in_bar(struct p2pdma_dmasys *sys, const struct p2pdma_sg_page *p)
{
	const struct p2pdma_dev *owner = p2pdma_provider_owner(p->provider);
	const struct p2pdma_bar *b = &owner->bars[p2pdma_provider_bar(p->provider)];

	(void)sys;
	return p->phys >= b->cpu && p->len && p->phys + p->len <= b->cpu + b->size &&
	       p->phys + p->len > p->phys;
}

static void unmap_sg_locked(struct p2pdma_dmasys *sys, int di, struct p2pdma_sgt *s,
			    size_t upto, enum p2pdma_dma_dir dir)
{
	struct p2pdma_iommu_domain *d = p2pdma_sys_def_domain(sys, di);
	size_t i;

	if (s->iova_len && d) {
		dom_unmap(d, s->iova_base, s->iova_len);
		as_free(&d->iova, s->iova_base, NULL);
		s->iova_len = 0;
	}
	for (i = 0; i < upto; i++) {
		if (s->e[i].flags & SGE_BUS_ADDR)
			continue;	/* sg_dma_is_bus_address(): nothing mapped */
		if (s->e[i].flags & SGE_BOUNCE)
			p2pdma_sys_unmap_phys(sys, di, s->e[i].dma, s->e[i].dma_len, dir, 0);
	}
}

P2PDMA_EXPORT int p2pdma_dma_map_sg(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				    const struct p2pdma_sg_page *pages, size_t n,
				    enum p2pdma_dma_dir dir, unsigned long attrs,
				    struct p2pdma_sgt **out)
{
	struct p2pdma_dmasys *sys;
	struct p2pdma_iommu_domain *d;
	const struct p2pdma_provider *state_mem = NULL;
	enum p2pdma_map_type state_map = P2PDMA_MAP_UNKNOWN;
	struct p2pdma_sgt *s;
	uint64_t iova_need = 0, cursor = 0;
	size_t i;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	*out = NULL;
	if (ret)
		return ret;
	if (!n) {
		p2pdma_sys_unlock(sys);
		return p2pdma_err(k->ctx, -EINVAL, "dma_map_sgtable(%s): empty list", dev->name);
	}
	s = p2pdma_sgt_alloc(sys, n);
	if (!s) {
		p2pdma_sys_unlock(sys);
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	}
	s->kind = SGT_PAGES;
	s->orig_nents = s->nents = n;
	s->devidx = di;
	d = p2pdma_sys_def_domain(sys, di);
	/* Pass 1: the P2P state of every entry (pci_p2pdma_state()). */
	for (i = 0; i < n; i++) {
		const struct p2pdma_sg_page *p = &pages[i];
		enum p2pdma_map_type t = P2PDMA_MAP_NONE;

		s->e[i].phys = p->phys;
		s->e[i].prov = p->provider;
		s->e[i].dma_len = p->len;
		if (!p->len) {
			ret = p2pdma_err(k->ctx, -EINVAL, "dma_map_sgtable(%s): entry %zu has no length",
					 dev->name, i);
			goto fail;
		}
		if (p->provider) {
			if (p2pdma_provider_live(p->provider) && !page_in_bar(sys, p)) {
				ret = p2pdma_err(k->ctx, -EINVAL,
						 "dma_map_sgtable(%s): entry %zu (%#llx) is not a page of its provider's BAR",
						 dev->name, i, (unsigned long long)p->phys);
				goto fail;
			}
			if (p->provider != state_mem) {
				state_mem = p->provider;
				state_map = p2pdma_kernel_map_type(k, p->provider, dev, NULL);
			}
			t = state_map;
		}
		switch (t) {
		case P2PDMA_MAP_BUS_ADDR:
			s->e[i].dma = p->phys + p2pdma_provider_bus_offset(p->provider);
			s->e[i].flags |= SGE_BUS_ADDR;
			break;
		case P2PDMA_MAP_NONE:
		case P2PDMA_MAP_THRU_HOST_BRIDGE:
			if (t == P2PDMA_MAP_THRU_HOST_BRIDGE &&
			    (sys->quirks & P2PDMA_QUIRK_DIRECT_THB_UNSET) &&
			    (!d || d->type == P2PDMA_DOMAIN_IDENTITY)) {
				s->e[i].dma = 0;	/* left unset: the 6.16 bug */
				s->e[i].flags |= SGE_BUS_ADDR;	/* nothing to unmap */
				break;
			}
			if (d && d->type == P2PDMA_DOMAIN_DMA) {
				iova_need += ((p->phys & PAGE_MASK_LO) + p->len + PAGE_MASK_LO) & ~PAGE_MASK_LO;
			} else {
				uint64_t a = p2pdma_sys_map_phys(sys, di, p->phys, p->len, dir, attrs);

				if (a == P2PDMA_DMA_MAPPING_ERROR) {
					ret = -EIO;
					goto fail_partial;
				}
				s->e[i].dma = a;
				if (a != p->phys)
					s->e[i].flags |= SGE_BOUNCE;
			}
			break;
		default:
			ret = p2pdma_err(k->ctx, -EREMOTEIO,
					 "dma_map_sgtable(%s): entry %zu is a P2P page of %s the device cannot reach (%s)",
					 dev->name, i, p2pdma_provider_owner(p->provider)->name,
					 p2pdma_map_type_name(t));
			goto fail_partial;
		}
	}
	/* Pass 2 (dma-iommu): one IOVA allocation for the memory-like entries. */
	if (iova_need) {
		uint64_t base;

		if (iova_alloc_dma(d, iova_need, sys->view[di].mask, &base)) {
			ret = p2pdma_err(k->ctx, -ENOMEM, "dma_map_sgtable(%s): no IOVA space", dev->name);
			goto fail_partial;
		}
		s->iova_base = base;
		s->iova_len = (iova_need + PAGE_MASK_LO) & ~PAGE_MASK_LO;
		if (iova_need < 32 * PAGE_SZ)
			s->iova_len = roundup_pow2(iova_need / PAGE_SZ) * PAGE_SZ;
		for (i = 0; i < n; i++) {
			uint64_t off = pages[i].phys & PAGE_MASK_LO, len;

			if (s->e[i].flags & SGE_BUS_ADDR)
				continue;
			len = (off + pages[i].len + PAGE_MASK_LO) & ~PAGE_MASK_LO;
			if (dom_map(d, base + cursor, pages[i].phys - off, len, prot_of(dir, attrs))) {
				dom_unmap(d, base, cursor);
				ret = -ENOMEM;
				goto fail_partial;
			}
			s->e[i].dma = base + cursor + off;
			cursor += len;
		}
	}
	p2pdma_sys_unlock(sys);
	*out = s;
	return 0;

fail_partial:
	unmap_sg_locked(sys, di, s, i, dir);
fail:
	p2pdma_sys_unlock(sys);
	p2pdma_sgt_free_table(s);
	return ret;
}

P2PDMA_EXPORT void p2pdma_dma_unmap_sg(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				       struct p2pdma_sgt *sgt, enum p2pdma_dma_dir dir,
				       unsigned long attrs)
{
	struct p2pdma_dmasys *sys;
	int di;

	(void)attrs;
	if (!sgt)
		return;
	if (sys_enter_dev(k, dev, &sys, &di)) {
		p2pdma_sgt_free_table(sgt);
		return;
	}
	unmap_sg_locked(sys, sgt->devidx >= 0 ? sgt->devidx : di, sgt, sgt->nents, dir);
	p2pdma_sys_unlock(sys);
	p2pdma_sgt_free_table(sgt);
}

/* --- physical memory --- */

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static uint8_t *mem_page(struct p2pdma_dmasys *sys, uint64_t pfn, bool create, int *err)
{
	struct mem_store *m = &sys->mem;
	size_t i;

	*err = 0;
	if (m->cap) {
		for (i = hash64(pfn) & (m->cap - 1); m->slots[i].pfn_plus1; i = (i + 1) & (m->cap - 1))
			if (m->slots[i].pfn_plus1 == pfn + 1)
				return m->slots[i].data;
	}
	if (!create)
		return NULL;
	if ((m->used + 1) * 4 > m->cap * 3) {
		size_t ncap = m->cap ? m->cap * 2 : 64, j;
		struct mem_page *n = p2pdma_sys_zalloc(sys, ncap, sizeof(*n));

		if (!n) {
			*err = -ENOMEM;
			return NULL;
		}
		for (j = 0; j < m->cap; j++) {
			if (!m->slots[j].pfn_plus1)
				continue;
			for (i = hash64(m->slots[j].pfn_plus1 - 1) & (ncap - 1); n[i].pfn_plus1;
			     i = (i + 1) & (ncap - 1))
				;
			n[i] = m->slots[j];
		}
		free(m->slots);
		m->slots = n;
		m->cap = ncap;
	}
	for (i = hash64(pfn) & (m->cap - 1); m->slots[i].pfn_plus1; i = (i + 1) & (m->cap - 1))
		;
	m->slots[i].data = p2pdma_sys_zalloc(sys, 1, PAGE_SZ);
	if (!m->slots[i].data) {
		*err = -ENOMEM;
		return NULL;
	}
	m->slots[i].pfn_plus1 = pfn + 1;
	m->used++;
	return m->slots[i].data;
}

static void ring_bells(struct p2pdma_dmasys *sys, uint64_t phys, uint64_t len)
{
	size_t i;

	for (i = 0; i < sys->nbells; i++)
		if (phys < sys->bells[i].end && sys->bells[i].start < phys + len)
			sys->bells[i].rings++;
}

static int mem_rw(struct p2pdma_dmasys *sys, uint64_t phys, void *buf, size_t len,
		  bool write)
{
	uint8_t *p = buf;

	if (write)
		ring_bells(sys, phys, len);
	while (len) {
		uint64_t off = phys & PAGE_MASK_LO;
		size_t chunk = PAGE_SZ - off < len ? (size_t)(PAGE_SZ - off) : len;
		int err;
		uint8_t *pg = mem_page(sys, phys / PAGE_SZ, write, &err);

		if (err)
			return err;
		if (write)
			memcpy(pg + off, p, chunk);
		else if (pg)
			memcpy(p, pg + off, chunk);
		else
			memset(p, 0, chunk);
		p += chunk;
		phys += chunk;
		len -= chunk;
	}
	return 0;
}

static int mem_copy(struct p2pdma_dmasys *sys, uint64_t dst, uint64_t src, uint64_t len)
{
	uint8_t tmp[512];

	while (len) {
		size_t c = len < sizeof(tmp) ? (size_t)len : sizeof(tmp);
		int ret = mem_rw(sys, src, tmp, c, false);

		if (!ret)
			ret = mem_rw(sys, dst, tmp, c, true);
		if (ret)
			return ret;
		src += c;
		dst += c;
		len -= c;
	}
	return 0;
}

P2PDMA_EXPORT int p2pdma_phys_write(struct p2pdma_kernel *k, uint64_t phys,
				    const void *buf, size_t len)
{
	struct p2pdma_dmasys *sys;
	int ret = sys_enter(k, &sys);

	if (ret)
		return ret;
	ret = mem_rw(sys, phys, (void *)(uintptr_t)buf, len, true);
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT int p2pdma_phys_read(struct p2pdma_kernel *k, uint64_t phys, void *buf,
				   size_t len)
{
	struct p2pdma_dmasys *sys;
	int ret = sys_enter(k, &sys);

	if (ret)
		return ret;
	ret = mem_rw(sys, phys, buf, len, false);
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT int p2pdma_phys_add_doorbell(struct p2pdma_kernel *k, uint64_t phys,
					   uint64_t len)
{
	struct p2pdma_dmasys *sys;
	int ret;

	if (!len || phys + len < phys)
		return p2pdma_err(k->ctx, -EINVAL, "doorbell: empty or wrapping range");
	ret = sys_enter(k, &sys);
	if (ret)
		return ret;
	ret = p2pdma_sys_grow(sys, (void **)&sys->bells, &sys->capbells, sys->nbells + 1,
			      sizeof(*sys->bells));
	if (!ret) {
		sys->bells[sys->nbells].start = phys;
		sys->bells[sys->nbells].end = phys + len;
		sys->bells[sys->nbells].rings = 0;
		sys->nbells++;
	}
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT uint64_t p2pdma_phys_doorbell_rings(struct p2pdma_kernel *k, uint64_t phys)
{
	struct p2pdma_dmasys *sys;
	uint64_t n = 0;
	size_t i;

	if (sys_enter(k, &sys))
		return 0;
	for (i = 0; i < sys->nbells; i++)
		if (phys >= sys->bells[i].start && phys < sys->bells[i].end)
			n = sys->bells[i].rings;
	p2pdma_sys_unlock(sys);
	return n;
}

/* --- the DMA engine --- */

static const struct bar_ent *bar_at(const struct bar_ent *t, size_t n, uint64_t addr,
				    bool cpu)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		uint64_t start = cpu ? t[mid].cpu : t[mid].bus;

		if (start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		const struct bar_ent *b = &t[lo - 1];
		uint64_t start = cpu ? b->cpu : b->bus;

		if (addr < start + b->size)
			return b;
		/* Ranges do not nest: the nearest below decides. */
		break;
	}
	return NULL;
}

static const struct guard *guard_hit(struct p2pdma_dmasys *sys, uint64_t phys)
{
	const struct guard *g;

	for (g = sys->guards; g; g = g->next) {
		size_t lo = 0, hi = g->n;

		if (!g->revoked || phys < g->lo || phys >= g->hi)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (g->ranges[mid].paddr <= phys)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo > 0 && g->maxend[lo - 1] > phys) {
			const struct p2pdma_phys_vec *r = &g->ranges[lo - 1];

			if (phys >= r->paddr && phys < r->paddr + r->len)
				return g;
			lo--;
		}
	}
	return NULL;
}

static const char *const dir_word[2] = { "read", "write" };

/* Where a request of device @di to @addr lands; 0 with *phys, or an errno. */
static int route(struct p2pdma_dmasys *sys, int di, uint64_t addr, bool write,
		 uint64_t *phys)
{
	const struct p2pdma_topo *t = p2pdma_k_topo(sys->k);
	const struct p2pdma_router *r = p2pdma_kernel_router(sys->k);
	const struct p2pdma_dev *me = t->devs[di];
	const struct bar_ent *b = bar_at(sys->bars, sys->nbars, addr, false);
	struct p2pdma_iommu_domain *d;
	uint64_t pte, span;

	/* 1. A peer's BAR below a switch that does not redirect: routed by
	 * address there, before any translation. */
	if (b && b->dev != (uint32_t)di &&
	    p2pdma_router_map_type(r, t->devs[b->dev], me, NULL) == P2PDMA_MAP_BUS_ADDR) {
		*phys = b->cpu + (addr - b->bus);
		return 0;
	}
	/* 2. Up to the root complex, through the group's domain now. */
	d = p2pdma_sys_cur_domain(sys, di);
	if (!d || d->type == P2PDMA_DOMAIN_IDENTITY) {
		*phys = addr;
	} else if (d->type == P2PDMA_DOMAIN_BLOCKED) {
		p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "iommu: DMA %s fault from %s at %#llx: blocked domain %u",
			    dir_word[write], me->name, (unsigned long long)addr, d->id);
		return -EFAULT;
	} else if (!pt_lookup(d->root, addr, &pte, &span)) {
		p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "iommu: DMA %s fault from %s at IOVA %#llx: not mapped (domain %u)",
			    dir_word[write], me->name, (unsigned long long)addr, d->id);
		return -EFAULT;
	} else if (pte & PTE_PENDING) {
		p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "iommu: DMA %s from %s at IOVA %#llx: linked but never synced (dma_iova_sync() missing): not guaranteed visible, refused",
			    dir_word[write], me->name, (unsigned long long)addr);
		return -EFAULT;
	} else if ((write && !(pte & PTE_WRITE)) || (!write && !(pte & PTE_READ))) {
		p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "iommu: DMA %s fault from %s at IOVA %#llx: no %s permission (domain %u)",
			    dir_word[write], me->name, (unsigned long long)addr,
			    write ? "write" : "read", d->id);
		return -EFAULT;
	} else {
		*phys = (pte & PTE_ADDR_MASK) + (addr & (span - 1));
	}
	/* 3. MMIO of a peer through the root complex: only where the host
	 * bridge forwards peer-to-peer. */
	b = bar_at(sys->bars_cpu, sys->nbars, *phys, true);
	if (b && b->dev != (uint32_t)di &&
	    p2pdma_router_map_type(r, t->devs[b->dev], me, NULL) == P2PDMA_MAP_NOT_SUPPORTED) {
		p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "DMA %s from %s to %#llx (BAR %d of %s) needs the host bridge to forward peer-to-peer, which it is not known to do: lost",
			    dir_word[write], me->name, (unsigned long long)*phys, b->bar,
			    t->devs[b->dev]->name);
		return -EREMOTEIO;
	}
	return 0;
}

int p2pdma_sys_dma_rw(struct p2pdma_dmasys *sys, int di, uint64_t addr,
		      void *buf, size_t len, bool write)
{
	const struct p2pdma_topo *t = p2pdma_k_topo(sys->k);
	uint8_t *p = buf;
	int ret;

	/* Translate every page first: nothing lands unless all of it can. */
	uint64_t a = addr;
	size_t left = len;

	while (left) {
		uint64_t off = a & PAGE_MASK_LO, phys;
		size_t chunk = PAGE_SZ - off < left ? (size_t)(PAGE_SZ - off) : left;
		const struct guard *g;
		const struct bar_ent *b;

		ret = route(sys, di, a, write, &phys);
		if (ret)
			return ret;
		g = guard_hit(sys, phys);
		if (g) {
			const char *who = p2pdma_dmabuf_importer_on(g->buf, di);

			p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
				    "dma-buf: use after revoke: %s (%s) %s %#zx bytes at %#llx (phys %#llx) of a revoked %s buffer: blocked",
				    who ? who : "a device with no attachment", t->devs[di]->name,
				    write ? "wrote" : "read", chunk, (unsigned long long)a,
				    (unsigned long long)phys, p2pdma_dmabuf_exp_name(g->buf));
			return -ESTALE;
		}
		b = bar_at(sys->bars_cpu, sys->nbars, phys, true);
		if (b && sys->view[b->dev].decode_off) {
			p2pdma_klog(sys->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
				    "DMA %s from %s to %#llx: BAR %d of %s does not decode (memory disabled, D3 or reset): Unsupported Request",
				    dir_word[write], t->devs[di]->name, (unsigned long long)phys,
				    b->bar, t->devs[b->dev]->name);
			return -EIO;
		}
		a += chunk;
		left -= chunk;
	}
	while (len) {
		uint64_t off = addr & PAGE_MASK_LO, phys;
		size_t chunk = PAGE_SZ - off < len ? (size_t)(PAGE_SZ - off) : len;

		route(sys, di, addr, write, &phys);
		ret = mem_rw(sys, phys, p, chunk, write);
		if (ret)
			return ret;
		p += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

P2PDMA_EXPORT int p2pdma_dma_write(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				   uint64_t addr, const void *buf, size_t len)
{
	struct p2pdma_dmasys *sys;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	if (ret)
		return ret;
	ret = p2pdma_sys_dma_rw(sys, di, addr, (void *)(uintptr_t)buf, len, true);
	p2pdma_sys_unlock(sys);
	return ret;
}

P2PDMA_EXPORT int p2pdma_dma_read(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				  uint64_t addr, void *buf, size_t len)
{
	struct p2pdma_dmasys *sys;
	uint8_t *tmp;
	int di, ret = sys_enter_dev(k, dev, &sys, &di);

	if (ret)
		return ret;
	tmp = p2pdma_sys_alloc(sys, len ? len : 1);
	if (!tmp) {
		p2pdma_sys_unlock(sys);
		return -ENOMEM;
	}
	ret = p2pdma_sys_dma_rw(sys, di, addr, tmp, len, false);
	if (!ret)
		memcpy(buf, tmp, len);
	free(tmp);
	p2pdma_sys_unlock(sys);
	return ret;
}

/* --- the guards of dma-bufs --- */

static int cmp_vec(const void *a, const void *b)
{
	const struct p2pdma_phys_vec *x = a, *y = b;

	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

int p2pdma_sys_guard_set(struct p2pdma_dmasys *sys, struct p2pdma_dmabuf *buf,
			 const struct p2pdma_phys_vec *ranges, size_t nr,
			 bool keep_ranges, bool revoked)
{
	struct guard *g;
	size_t i;

	for (g = sys->guards; g; g = g->next)
		if (g->buf == buf)
			break;
	if (!g) {
		g = p2pdma_sys_zalloc(sys, 1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		g->buf = buf;
		g->next = sys->guards;
		sys->guards = g;
	}
	if (!keep_ranges && ranges) {
		struct p2pdma_phys_vec *r = p2pdma_sys_alloc(sys, (nr ? nr : 1) * sizeof(*r));
		uint64_t *mx = p2pdma_sys_alloc(sys, (nr ? nr : 1) * sizeof(*mx));

		if (!r || !mx) {
			free(r);
			free(mx);
			return -ENOMEM;
		}
		memcpy(r, ranges, nr * sizeof(*r));
		qsort(r, nr, sizeof(*r), cmp_vec);
		g->lo = nr ? r[0].paddr : 0;
		g->hi = 0;
		for (i = 0; i < nr; i++) {
			uint64_t end = r[i].paddr + r[i].len;

			if (end > g->hi)
				g->hi = end;
			mx[i] = g->hi;
		}
		free(g->ranges);
		free(g->maxend);
		g->ranges = r;
		g->maxend = mx;
		g->n = nr;
	}
	g->revoked = revoked;
	return 0;
}

void p2pdma_sys_guard_drop(struct p2pdma_dmasys *sys, struct p2pdma_dmabuf *buf)
{
	struct guard **pp, *g;

	for (pp = &sys->guards; (g = *pp); pp = &g->next) {
		if (g->buf == buf) {
			*pp = g->next;
			free(g->ranges);
			free(g->maxend);
			free(g);
			return;
		}
	}
}

enum p2pdma_map_type p2pdma_sys_map_type(struct p2pdma_dmasys *sys,
					 const struct p2pdma_provider *provider,
					 const struct p2pdma_dev *client)
{
	return p2pdma_kernel_map_type(sys->k, provider, client, NULL);
}
