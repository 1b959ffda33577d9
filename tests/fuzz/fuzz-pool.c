// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-pool.c - fuzz target: the p2pmem pool, mappings, pins and teardown against a shadow model */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "p2pmem-private.h"

/*
 * The input is a program of 4-byte operations (opcode, three arguments)
 * run on a booted kernel with one provider (01:00.0: BAR 0 16 MiB, BAR 2
 * 8 MiB) whose own queue DMAs to it (BUS_ADDR) and a client below
 * another host bridge that is not allow-listed (0001:00:01.0,
 * NOT_SUPPORTED). The shadow below is a naive re-statement of the rules
 * (byte per page, linear scans): genalloc first fit over the ranges
 * newest first, pgmap references, pins, the teardown waiting range by
 * range. After every operation the library must have returned what the
 * shadow predicts (errno, address) and show the same figures
 * (p2pmem/size, available, allocations, bound driver, page states).
 */
#define MiB (1ULL << 20)
#define PG 4096ULL
#define KVA P2PDMA_KVA_BASE
#define MAX_RANGES 8
#define MAX_ALLOCS 64
#define MAX_MAPS 32
#define MAX_PINS 32

static const char machine[] =
	"{ \"p2pdma_topology\": 1, \"machine\": { \"arch\": \"x86_64\", \"kernel\": \"6.12\" }, \"devices\": ["
	"{ \"bdf\": \"00:00.0\", \"vendor\": \"0x8086\", \"device\": \"0x4660\", \"class\": \"0x060000\" },"
	"{ \"bdf\": \"00:01.0\", \"vendor\": \"0x8086\", \"device\": \"0x460d\", \"class\": \"0x060400\","
	"  \"pcie_type\": \"root_port\", \"secondary_bus\": 1, \"subordinate_bus\": 1,"
	"  \"windows\": { \"mem\": { \"base\": \"0x80000000\", \"limit\": \"0x81ffffff\" } } },"
	"{ \"bdf\": \"01:00.0\", \"vendor\": \"0x1de5\", \"device\": \"0x1000\", \"class\": \"0x010802\","
	"  \"pcie_type\": \"endpoint\", \"driver\": \"nvme\", \"bars\": ["
	"   { \"index\": 0, \"bus\": \"0x80000000\", \"size\": \"0x1000000\" },"
	"   { \"index\": 2, \"bus\": \"0x81000000\", \"size\": \"0x800000\" } ] },"
	"{ \"bdf\": \"0001:00:00.0\", \"vendor\": \"0x8086\", \"device\": \"0x4660\", \"class\": \"0x060000\" },"
	"{ \"bdf\": \"0001:00:01.0\", \"vendor\": \"0x144d\", \"device\": \"0xa80a\", \"class\": \"0x010802\","
	"  \"pcie_type\": \"rc_endpoint\", \"driver\": \"nvme\" } ] }";

struct srange {
	uint64_t cpu, npages;
	uint8_t st[4096];		/* 0 free, 1 kernel, 2 user, 3 held by pins */
	uint16_t pins[4096];
	uint64_t refs;
	bool dying, dead;
};

struct salloc {
	uint64_t kva, npages;
	int range;
	bool drv;			/* owner "nvme": freed by remove() */
};

struct smap {
	uint64_t uaddr, npages;
	int range;
	uint64_t first;			/* first page index in the range */
	bool zapped, live;
};

struct spin {
	uint64_t pfn;
	int range;
	uint64_t page;
};

struct shadow {
	bool bound, has_state, has_pool, allocate_removed, tearing_down, published;
	int nranges;			/* [0] oldest */
	struct srange r[MAX_RANGES];
	int nallocs;
	struct salloc a[MAX_ALLOCS];
	int nmaps;
	struct smap m[MAX_MAPS];
	int npins;
	struct spin p[MAX_PINS];
};

static uint64_t free_pages(const struct shadow *s)
{
	uint64_t n = 0, i;
	int j;

	for (j = 0; j < s->nranges; j++)
		for (i = 0; i < s->r[j].npages; i++)
			n += s->r[j].st[i] == 0;
	return n;
}

static uint64_t total_pages(const struct shadow *s)
{
	uint64_t n = 0;
	int j;

	for (j = 0; j < s->nranges; j++)
		n += s->r[j].npages;
	return n;
}

/* First fit over the ranges, newest first. -1 none, else (range << 32 | page); *dying if it lands in a dying range. */
static int64_t shadow_fit(const struct shadow *s, uint64_t n, bool *dying)
{
	int j;

	*dying = false;
	for (j = s->nranges - 1; j >= 0; j--) {
		const struct srange *r = &s->r[j];
		uint64_t i, run = 0;

		if (r->dead)
			continue;
		for (i = 0; i < r->npages; i++) {
			run = r->st[i] ? 0 : run + 1;
			if (run == n) {
				*dying = r->dying;
				return (int64_t)(((uint64_t)j << 32) | (i + 1 - n));
			}
		}
	}
	return -1;
}

static void put_page(struct shadow *s, int j, uint64_t i)
{
	s->r[j].st[i] = 0;
	s->r[j].refs--;
}

/* memunmap_pages() range by range; true when all are done. */
static bool advance(struct shadow *s)
{
	int j;

	for (j = s->nranges - 1; j >= 0; j--) {
		if (s->r[j].dead)
			continue;
		s->r[j].dying = true;
		if (s->r[j].refs)
			return false;
		s->r[j].dead = true;
	}
	return true;
}

/* The end of an unbind: the binding's state goes, the (zapped) mappings stay. */
static void finish(struct shadow *s)
{
	struct smap m[MAX_MAPS];
	int nmaps = s->nmaps, i;

	for (i = 0; i < nmaps; i++)
		s->m[i].live = false;
	memcpy(m, s->m, sizeof(m));
	memset(s, 0, sizeof(*s));
	memcpy(s->m, m, sizeof(m));
	s->nmaps = nmaps;
}

static void progress(struct shadow *s)
{
	if (s->tearing_down && advance(s))
		finish(s);
}

struct env {
	struct p2pdma_ctx *ctx;
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k;
	const struct p2pdma_dev *prov, *far;
	struct p2pdma_blkq *qnear, *qfar, *qplain;
	struct shadow s;
};

static void check_figures(struct env *e)
{
	struct p2pdma_pool_info pi;
	uint64_t avail, size;
	int j;

	size = p2pdma_kernel_p2pmem_size(e->k, e->prov, &avail);
	FUZZ_CHECK(size == total_pages(&e->s) * PG, "size %llu, shadow %llu",
		   (unsigned long long)size, (unsigned long long)(total_pages(&e->s) * PG));
	FUZZ_CHECK(avail == free_pages(&e->s) * PG, "available %llu, shadow %llu",
		   (unsigned long long)avail, (unsigned long long)(free_pages(&e->s) * PG));
	FUZZ_CHECK(!!p2pdma_kernel_driver(e->k, e->prov) == e->s.bound, "bound %d, shadow %d",
		   !!p2pdma_kernel_driver(e->k, e->prov), e->s.bound);
	if (!p2pdma_p2pmem_pool_get_info(e->k, e->prov, &pi, sizeof(pi))) {
		FUZZ_CHECK(e->s.has_pool, "a pool the shadow does not have");
		FUZZ_CHECK(pi.nallocs == (size_t)e->s.nallocs, "allocations %zu, shadow %d",
			   pi.nallocs, e->s.nallocs);
		FUZZ_CHECK(pi.nranges == (unsigned int)e->s.nranges, "ranges");
		FUZZ_CHECK(pi.tearing_down == e->s.tearing_down, "tearing_down");
		FUZZ_CHECK(pi.allocate_present == !e->s.allocate_removed, "allocate file");
	} else {
		FUZZ_CHECK(!e->s.has_pool, "the shadow has a pool, the kernel not");
	}
	for (j = 0; j < e->s.nranges; j++) {
		const struct srange *r = &e->s.r[j];
		uint64_t i;

		for (i = 0; i < r->npages; i += 97) {
			struct p2pdma_page_info info;

			p2pdma_page_get_info(e->k, r->cpu + i * PG, &info, sizeof(info));
			FUZZ_CHECK(info.kind == P2PDMA_PAGE_P2PDMA, "page kind");
			FUZZ_CHECK((int)info.state == r->st[i], "page %llu of range %d: state %d, shadow %d",
				   (unsigned long long)i, j, info.state, r->st[i]);
			FUZZ_CHECK(info.pins == r->pins[i], "pins");
		}
	}
}

static void op_add(struct env *e, const uint8_t *a)
{
	int bar = a[0] & 1 ? 2 : 0;
	uint64_t barsz = bar ? 8 * MiB : 16 * MiB, cpu = bar ? 0x81000000ULL : 0x80000000ULL;
	uint64_t size = (uint64_t)(a[1] % 5) * 2 * MiB + ((a[2] & 0x80) ? 4096 : 0);
	uint64_t off = (uint64_t)(a[2] % 8) * 2 * MiB, eff = size ? size : barsz - off;
	int want, ret, j;

	if (off >= barsz || eff > barsz - off)
		want = -EINVAL;
	else if (!e->s.bound)
		want = -ENODEV;
	else if (e->s.tearing_down)
		want = -ENODEV;
	else
		want = 0;
	if (!want) {
		uint64_t a0 = cpu + off, a1 = cpu + off + eff - 1;

		for (j = 0; j < e->s.nranges; j++) {
			const struct srange *r = &e->s.r[j];
			uint64_t end = r->cpu + r->npages * PG;

			if ((a0 >= r->cpu && a0 < end) || (a1 >= r->cpu && a1 < end))
				want = -ENOMEM;
		}
		if (!want && (eff % (2 * MiB)))
			want = -EINVAL;
		for (j = 0; !want && j < e->s.nranges; j++)
			if (e->s.r[j].cpu <= a1 && a0 < e->s.r[j].cpu + e->s.r[j].npages * PG)
				want = -EEXIST;
		if (!want && e->s.nranges == MAX_RANGES)
			return;
	}
	ret = p2pdma_kernel_add_resource(e->k, e->prov, bar, size, off);
	FUZZ_CHECK(ret == want, "add_resource(bar %d, %#llx, %#llx) = %d, shadow %d", bar,
		   (unsigned long long)size, (unsigned long long)off, ret, want);
	/* pcim_p2pdma_init() and the pool come before memremap_pages(). */
	if (e->s.bound && !e->s.tearing_down && !(off >= barsz || eff > barsz - off)) {
		e->s.has_state = true;
		e->s.has_pool = true;
	}
	if (!ret) {
		struct srange *r = &e->s.r[e->s.nranges++];

		memset(r, 0, sizeof(*r));
		r->cpu = cpu + off;
		r->npages = eff / PG;
	}
}

static void op_alloc(struct env *e, const uint8_t *a)
{
	uint64_t size = (uint64_t)a[1] * 4096 + a[2] * 16, kva = 0, n = (size + PG - 1) / PG;
	bool drv = a[0] & 1, dying;
	int64_t fit;
	int want, ret;

	if (!e->s.has_state || !e->s.has_pool)
		want = -ENODEV;
	else if (!size)
		want = -EINVAL;
	else if ((fit = shadow_fit(&e->s, n, &dying)) < 0)
		want = -ENOMEM;
	else
		want = dying ? -ENODEV : 0;
	if (!want && e->s.nallocs == MAX_ALLOCS)
		return;
	ret = p2pdma_p2pmem_alloc(e->k, e->prov, size, drv ? "nvme" : "nvmet", &kva);
	FUZZ_CHECK(ret == want, "alloc(%llu) = %d, shadow %d", (unsigned long long)size, ret, want);
	if (!ret) {
		int j = (int)(fit >> 32);
		uint64_t i = (uint64_t)fit & 0xffffffffULL, x;
		struct salloc *al = &e->s.a[e->s.nallocs++];

		FUZZ_CHECK(kva == KVA + e->s.r[j].cpu + i * PG, "alloc placed at %#llx, first fit is %#llx",
			   (unsigned long long)kva, (unsigned long long)(KVA + e->s.r[j].cpu + i * PG));
		for (x = i; x < i + n; x++)
			e->s.r[j].st[x] = 1;
		e->s.r[j].refs++;
		al->kva = kva;
		al->npages = n;
		al->range = j;
		al->drv = drv;
	}
}

static void op_free(struct env *e, const uint8_t *a)
{
	int ret, want;

	if (a[0] & 1 || !e->s.nallocs) {
		/* A bad free: a page-aligned address in or near the BARs. */
		uint64_t kva = KVA + 0x80000000ULL + (uint64_t)((a[1] << 8) | a[2]) * PG;
		int i;

		want = e->s.has_pool ? -EINVAL : -ENODEV;
		for (i = 0; i < e->s.nallocs; i++)
			if (e->s.a[i].kva == kva && e->s.a[i].npages == 1)
				return;		/* that would be a good free */
		ret = p2pdma_p2pmem_free(e->k, e->prov, kva, 4096);
		FUZZ_CHECK(ret == want, "bad free = %d, shadow %d", ret, want);
	} else {
		int i = a[1] % e->s.nallocs, j = e->s.a[i].range;
		uint64_t x, first = (e->s.a[i].kva - KVA - e->s.r[j].cpu) / PG;

		ret = p2pdma_p2pmem_free(e->k, e->prov, e->s.a[i].kva, e->s.a[i].npages * PG);
		FUZZ_CHECK(ret == 0, "free of a live allocation = %d", ret);
		for (x = first; x < first + e->s.a[i].npages; x++)
			e->s.r[j].st[x] = 0;
		e->s.r[j].refs--;
		e->s.a[i] = e->s.a[--e->s.nallocs];
		progress(&e->s);
	}
}

static void op_mmap(struct env *e, const uint8_t *a)
{
	uint64_t len = (uint64_t)(a[1] % 16 + 1) * PG, u = 0;
	unsigned int flags = a[0] & 1 ? 0 : P2PDMA_MMAP_SHARED;
	uint64_t off = a[0] & 2 ? PG : 0;
	int64_t fit = -1;
	bool dying;
	int want, ret;

	if (!e->s.has_pool)
		want = -ENOENT;
	else if (e->s.allocate_removed)
		want = -ENODEV;
	else if (!flags || off)
		want = -EINVAL;
	else if ((fit = shadow_fit(&e->s, len / PG, &dying)) < 0)
		want = -ENOMEM;
	else
		want = dying ? -ENODEV : 0;
	if (!want && e->s.nmaps == MAX_MAPS)
		return;
	ret = p2pdma_p2pmem_mmap(e->k, e->prov, len, off, flags, &u);
	FUZZ_CHECK(ret == want, "mmap = %d, shadow %d", ret, want);
	if (!ret) {
		struct smap *m = &e->s.m[e->s.nmaps++];
		int j = (int)(fit >> 32);
		uint64_t x;

		memset(m, 0, sizeof(*m));
		m->uaddr = u;
		m->npages = len / PG;
		m->range = j;
		m->first = (uint64_t)fit & 0xffffffffULL;
		m->live = true;
		for (x = m->first; x < m->first + m->npages; x++)
			e->s.r[j].st[x] = 2;
		e->s.r[j].refs += m->npages;
	}
}

static void op_munmap(struct env *e, const uint8_t *a)
{
	struct smap *m;
	uint64_t from, n, x;
	int i;

	if (!e->s.nmaps)
		return;
	i = a[1] % e->s.nmaps;
	m = &e->s.m[i];
	from = m->npages ? a[2] % m->npages : 0;
	n = m->npages - from;
	FUZZ_CHECK(p2pdma_user_munmap(e->k, m->uaddr + from * PG, n * PG) == 0, "munmap");
	if (m->live && !m->zapped) {
		for (x = m->first + from; x < m->first + m->npages; x++) {
			if (e->s.r[m->range].pins[x])
				e->s.r[m->range].st[x] = 3;
			else
				put_page(&e->s, m->range, x);
		}
	}
	m->npages = from;
	if (!from)
		*m = e->s.m[--e->s.nmaps];
	progress(&e->s);
}

static void op_pin(struct env *e, const uint8_t *a)
{
	unsigned int flags = a[0] & 1 ? P2PDMA_FOLL_PCI_P2PDMA : 0;
	struct smap *m;
	uint64_t pfn = 0, page;
	long want, ret;

	if (a[0] & 2)
		flags |= P2PDMA_FOLL_LONGTERM;
	if (!e->s.nmaps || e->s.npins == MAX_PINS)
		return;
	m = &e->s.m[a[1] % e->s.nmaps];
	if (!m->npages)
		return;
	page = a[2] % m->npages;
	if ((flags & P2PDMA_FOLL_LONGTERM) && (flags & P2PDMA_FOLL_PCI_P2PDMA))
		want = -EINVAL;
	else if (m->zapped || !m->live)
		want = -EFAULT;
	else if (!(flags & P2PDMA_FOLL_PCI_P2PDMA))
		want = -EREMOTEIO;
	else
		want = 1;
	ret = p2pdma_user_pin(e->k, m->uaddr + page * PG, 1, flags, &pfn);
	FUZZ_CHECK(ret == want, "pin = %ld, shadow %ld", ret, want);
	if (ret == 1) {
		struct spin *p = &e->s.p[e->s.npins++];

		p->pfn = pfn;
		p->range = m->range;
		p->page = m->first + page;
		FUZZ_CHECK(pfn == (e->s.r[m->range].cpu >> 12) + p->page, "pinned the wrong page");
		e->s.r[m->range].pins[p->page]++;
	}
}

static void op_unpin(struct env *e, const uint8_t *a)
{
	struct spin p;
	int i;

	if (!e->s.npins)
		return;
	i = a[1] % e->s.npins;
	p = e->s.p[i];
	FUZZ_CHECK(p2pdma_user_unpin(e->k, &p.pfn, 1) == 0, "unpin");
	e->s.p[i] = e->s.p[--e->s.npins];
	/* The range may be gone (teardown done): then only the count. */
	if (p.range < e->s.nranges && e->s.r[p.range].cpu >> 12 == p.pfn - p.page) {
		if (!--e->s.r[p.range].pins[p.page] && e->s.r[p.range].st[p.page] == 3)
			put_page(&e->s, p.range, p.page);
	}
	progress(&e->s);
}

static void op_unbind(struct env *e)
{
	int want, ret, i, j;

	if (!e->s.bound) {
		FUZZ_CHECK(p2pdma_kernel_unbind(e->k, e->prov) == -ENODEV, "unbind unbound");
		return;
	}
	if (e->s.tearing_down) {
		FUZZ_CHECK(p2pdma_kernel_unbind(e->k, e->prov) == -EINPROGRESS, "second unbind");
		return;
	}
	ret = p2pdma_kernel_unbind(e->k, e->prov);
	if (e->s.nranges) {
		for (i = 0; i < e->s.nallocs;) {
			struct salloc *al = &e->s.a[i];

			if (!al->drv) {
				i++;
				continue;
			}
			for (j = 0; j < (int)al->npages; j++)
				e->s.r[al->range].st[(al->kva - KVA - e->s.r[al->range].cpu) / PG + (uint64_t)j] = 0;
			e->s.r[al->range].refs--;
			*al = e->s.a[--e->s.nallocs];
		}
		e->s.allocate_removed = true;
		for (i = 0; i < e->s.nmaps; i++) {
			struct smap *m = &e->s.m[i];
			uint64_t x;

			if (m->zapped)
				continue;
			for (x = m->first; x < m->first + m->npages; x++) {
				if (e->s.r[m->range].pins[x])
					e->s.r[m->range].st[x] = 3;
				else
					put_page(&e->s, m->range, x);
			}
			m->zapped = true;
		}
	}
	if (!e->s.nranges || advance(&e->s)) {
		want = 0;
		finish(&e->s);
	} else {
		want = -EINPROGRESS;
		e->s.tearing_down = true;
	}
	FUZZ_CHECK(ret == want, "unbind = %d, shadow %d", ret, want);
}

static void op_bind(struct env *e)
{
	int ret = p2pdma_kernel_bind(e->k, e->prov, "nvme");

	FUZZ_CHECK(ret == (e->s.bound ? -EBUSY : 0), "bind = %d", ret);
	if (!ret) {
		int i;

		/* Mappings of the old binding are zapped (their range is gone). */
		for (i = 0; i < e->s.nmaps; i++)
			e->s.m[i].live = false;
		e->s.bound = true;
	}
}

static void op_io(struct env *e, const uint8_t *a)
{
	struct p2pdma_blkq *q = a[0] % 3 == 0 ? e->qnear : a[0] % 3 == 1 ? e->qfar : e->qplain;
	struct smap *m;
	int want, ret;

	if (!e->s.nmaps)
		return;
	m = &e->s.m[a[1] % e->s.nmaps];
	if (!m->npages)
		return;
	if (!m->live || m->zapped)
		want = -EFAULT;
	else if (q == e->qplain)
		want = -EREMOTEIO;
	else if (q == e->qfar)
		want = -EREMOTEIO;	/* NOT_SUPPORTED before 6.17 */
	else
		want = 0;
	ret = p2pdma_blkq_direct_io(q, a[2] & 1, m->uaddr, m->npages * PG, NULL);
	FUZZ_CHECK(ret == want, "O_DIRECT = %d, shadow %d", ret, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct env e;
	size_t pc;
	bool trace;

	static struct p2pdma_ctx *ctx;
	static struct p2pdma_topo *topo;
	static struct p2pdma_policy *pol;

	/* The machine is parsed once; every input boots a fresh kernel on it. */
	if (!ctx) {
		FUZZ_CHECK(p2pdma_ctx_create(&ctx) == 0, "context");
		FUZZ_CHECK(p2pdma_topo_load_json_string(ctx, machine, "fuzz-pool", &topo) == 0,
			   "machine: %s", p2pdma_ctx_error(ctx));
		FUZZ_CHECK(p2pdma_policy_from_machine(ctx, topo, &pol) == 0, "policy");
	}
	memset(&e, 0, sizeof(e));
	e.ctx = ctx;
	e.t = topo;
	FUZZ_CHECK(p2pdma_kernel_boot(e.ctx, e.t, pol, &e.k) == 0, "boot");
	e.prov = p2pdma_topo_find(e.t, "01:00.0");
	e.far = p2pdma_topo_find(e.t, "0001:00:01.0");
	/* The provider's own queue (its CMB, BUS_ADDR at distance 0), one
	 * across a host bridge that is not allow-listed, one without P2PDMA. */
	FUZZ_CHECK(p2pdma_blkq_create(e.k, e.prov, "self", P2PDMA_BLK_FEAT_PCI_P2PDMA, &e.qnear) == 0, "q");
	FUZZ_CHECK(p2pdma_blkq_create(e.k, e.far, "far", P2PDMA_BLK_FEAT_PCI_P2PDMA, &e.qfar) == 0, "q");
	FUZZ_CHECK(p2pdma_blkq_create(e.k, e.prov, "plain", 0, &e.qplain) == 0, "q");
	e.s.bound = true;
	trace = getenv("P2PDMA_FUZZ_TRACE") != NULL;
	for (pc = 0; pc + 4 <= size && pc < 4 * 256; pc += 4) {
		const uint8_t *a = &data[pc + 1];

		if (trace)
			fprintf(stderr, "op %zu: %u (%u %u %u)\n", pc / 4, data[pc] % 13, a[0], a[1], a[2]);

		switch (data[pc] % 13) {
		case 0: op_add(&e, a); break;
		case 1: case 2: op_alloc(&e, a); break;
		case 3: case 4: op_free(&e, a); break;
		case 5: op_mmap(&e, a); break;
		case 6: op_munmap(&e, a); break;
		case 7: op_pin(&e, a); break;
		case 8: op_unpin(&e, a); break;
		case 9: op_unbind(&e); break;
		case 10: op_bind(&e); break;
		case 11: op_io(&e, a); break;
		default:
			FUZZ_CHECK(p2pdma_p2pmem_teardown_wait(e.k, e.prov, a[0]) ==
				   (e.s.tearing_down ? -ETIMEDOUT : 0), "teardown_wait");
			break;
		}
		check_figures(&e);
		if (trace) {
			int j;

			for (j = 0; j < e.s.nranges; j++) {
				struct p2pdma_range_info ri = { 0 };

				p2pdma_p2pmem_range_get_info(e.k, e.prov, (unsigned int)j, &ri, sizeof(ri));
				fprintf(stderr, "  range %d: refs %llu (kernel %llu)%s\n", j,
					(unsigned long long)e.s.r[j].refs, (unsigned long long)ri.refs,
					e.s.r[j].dying ? " dying" : "");
			}
		}
	}
	p2pdma_kernel_shutdown(e.k);
	return 0;
}
