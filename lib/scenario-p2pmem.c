// SPDX-License-Identifier: LGPL-2.1-or-later
/* scenario-p2pmem.c - `p2pdma run` verbs of the struct-page layer: pools, allocate mappings, GUP, O_DIRECT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context-private.h"
#include "p2pmem-private.h"
#include "scenario-private.h"

struct h_alloc {
	const struct p2pdma_dev *dev;
	uint64_t kva, size;
};

struct h_sgl {
	struct p2pdma_kernel *k;
	const struct p2pdma_dev *dev;
	struct p2pdma_sgl *sgl;
};

struct h_map {
	const struct p2pdma_dev *dev;	/* NULL: anonymous memory */
	uint64_t uaddr, len;
};

struct h_pin {
	uint64_t *pfns;
	unsigned long n;
};

static void h_pin_free(void *obj)
{
	struct h_pin *p = obj;

	free(p->pfns);
	free(p);
}

static void h_sgl_free(void *obj)
{
	struct h_sgl *h = obj;

	p2pdma_p2pmem_free_sgl(h->k, h->dev, h->sgl);
	free(h);
}

/* The pool's figures as fields, and a line for the transcript. */
static void pool_state(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
		       const struct p2pdma_dev *d)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	struct p2pdma_pool_info pi;
	char b1[32], b2[32];

	if (p2pdma_p2pmem_pool_get_info(k, d, &pi, sizeof(pi)))
		return;
	p2pdma_scn_set(st, "size", "%" PRIu64, pi.size);
	p2pdma_scn_set(st, "available", "%" PRIu64, pi.available);
	p2pdma_scn_say(st, "pool of %s: %s available of %s in %u range%s, %zu allocation%s, %" PRIu64
		       " user page%s%s", d->name, p2pdma_human_size(pi.available, b1, sizeof(b1)),
		       p2pdma_human_size(pi.size, b2, sizeof(b2)), pi.nranges, pi.nranges == 1 ? "" : "s",
		       pi.nallocs, pi.nallocs == 1 ? "" : "s", pi.user_pages,
		       pi.user_pages == 1 ? "" : "s",
		       pi.tearing_down ? " (teardown waiting)" : "");
}

static int do_add_resource(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	const struct p2pdma_dev *d;
	uint64_t bar, size = 0, off = 0;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret || (ret = p2pdma_scn_arg_u64(s, st, 1, &bar)) ||
	    (p2pdma_scn_argc(st) > 2 && (ret = p2pdma_scn_arg_u64(s, st, 2, &size))) ||
	    (p2pdma_scn_argc(st) > 3 && (ret = p2pdma_scn_arg_u64(s, st, 3, &off))))
		return ret;
	ret = p2pdma_kernel_add_resource(k, d, bar > 5 ? 6 : (int)bar, size, off);
	p2pdma_scn_errno(st, ret);
	pool_state(s, st, d);
	if (!ret) {
		struct p2pdma_range_info ri;
		struct p2pdma_pool_info pi;

		p2pdma_p2pmem_pool_get_info(k, d, &pi, sizeof(pi));
		p2pdma_p2pmem_range_get_info(k, d, pi.nranges - 1, &ri, sizeof(ri));
		p2pdma_scn_set(st, "addr", "%#" PRIx64, ri.cpu);
		p2pdma_scn_set(st, "bus", "%#" PRIx64, ri.bus);
		p2pdma_scn_say(st, "pgmap %u: BAR %d CPU %#" PRIx64 "-%#" PRIx64 ", bus %#" PRIx64
			       ", kernel address %#" PRIx64 "; struct pages made, p2pmem/ files present",
			       ri.id, ri.bar, ri.cpu, ri.cpu + ri.size - 1, ri.bus, ri.kva);
	}
	return 0;
}

static int do_publish(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const struct p2pdma_dev *d;
	const char *v = p2pdma_scn_argc(st) > 1 ? p2pdma_scn_arg(st, 1) : "on";
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	if (strcmp(v, "on") && strcmp(v, "off"))
		return p2pdma_scn_malformed(s, st, "publish BDF [on|off]");
	p2pdma_kernel_publish(p2pdma_scn_kernel(s), d, !strcmp(v, "on"));
	p2pdma_scn_set(st, "published", "%d", p2pdma_kernel_has_p2pmem(p2pdma_scn_kernel(s), d));
	p2pdma_scn_say(st, "pci_p2pmem_publish(%s, %s): has_p2pmem is %s", d->name,
		       !strcmp(v, "on") ? "true" : "false",
		       p2pdma_kernel_has_p2pmem(p2pdma_scn_kernel(s), d) ? "true" :
		       "false (no P2PDMA state, or not published)");
	return 0;
}

static int do_find_many(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	const struct p2pdma_dev *clients[32], *pick = NULL;
	struct p2pdma_find_result *res;
	int i, n = p2pdma_scn_argc(st), ret;
	char list[512] = "";
	size_t off = 0, c;

	if (n > 32)
		return p2pdma_scn_malformed(s, st, "at most 32 clients");
	for (i = 0; i < n; i++)
		if ((ret = p2pdma_scn_arg_dev(s, st, i, &clients[i])))
			return ret;
	if (p2pdma_find_result_create(&res))
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	ret = p2pdma_kernel_find_many(k, clients, (size_t)n, res, &pick);
	p2pdma_scn_errno(st, ret);
	for (c = 0; c < p2pdma_find_result_num_candidates(res) && off < sizeof(list); c++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", c ? " " : "",
					p2pdma_find_result_candidate(res, c)->name);
	p2pdma_scn_set(st, "pick", "%s", pick ? pick->name : "none");
	p2pdma_scn_set(st, "distance", "%d", p2pdma_find_result_distance(res));
	p2pdma_scn_set(st, "candidates", "%zu", p2pdma_find_result_num_candidates(res));
	if (pick)
		p2pdma_scn_say(st, "pci_p2pmem_find_many(): %zu provider%s at the smallest distance %d (%s); the random draw picks %s",
			       p2pdma_find_result_num_candidates(res),
			       p2pdma_find_result_num_candidates(res) == 1 ? "" : "s",
			       p2pdma_find_result_distance(res), list, pick->name);
	else
		p2pdma_scn_say(st, "pci_p2pmem_find_many(): no published p2pmem every client can reach (NULL)");
	p2pdma_find_result_destroy(res);
	if (ret)
		return 0;
	return p2pdma_scn_handle_add(s, st, "dev", (void *)pick, NULL);
}

static int do_alloc(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	const char *owner = p2pdma_scn_as(st) ? p2pdma_scn_as(st) : "script";
	const struct p2pdma_dev *d;
	struct h_alloc *h;
	uint64_t size, kva;
	char b[32];
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret || (ret = p2pdma_scn_arg_u64(s, st, 1, &size)))
		return ret;
	/* "by DRIVER": the providing driver's own memory, freed by its remove(). */
	if (p2pdma_scn_argc(st) == 4 && !strcmp(p2pdma_scn_arg(st, 2), "by"))
		owner = p2pdma_scn_arg(st, 3);
	else if (p2pdma_scn_argc(st) != 2)
		return p2pdma_scn_malformed(s, st, "alloc BDF|$DEV SIZE [by OWNER] [as NAME]");
	ret = p2pdma_p2pmem_alloc(k, d, size, owner, &kva);
	p2pdma_scn_errno(st, ret);
	pool_state(s, st, d);
	if (ret)
		return 0;
	p2pdma_scn_set(st, "addr", "%#" PRIx64, kva);
	p2pdma_scn_set(st, "phys", "%#" PRIx64, p2pdma_p2pmem_virt_to_phys(k, kva));
	p2pdma_scn_set(st, "bus", "%#" PRIx64, p2pdma_p2pmem_virt_to_bus(k, d, kva));
	p2pdma_scn_say(st, "pci_alloc_p2pmem(%s, %s) = %#" PRIx64 " (phys %#" PRIx64 ", bus %#" PRIx64 ")",
		       d->name, p2pdma_human_size(size, b, sizeof(b)), kva, p2pdma_p2pmem_virt_to_phys(k, kva),
		       p2pdma_p2pmem_virt_to_bus(k, d, kva));
	h = calloc(1, sizeof(*h));
	if (!h)
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	h->dev = d;
	h->kva = kva;
	h->size = size;
	return p2pdma_scn_handle_add(s, st, "alloc", h, free);
}

static int do_free(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct h_alloc *h = NULL;
	const struct p2pdma_dev *d;
	uint64_t kva, size;
	int ret;

	if (p2pdma_scn_arg_is_handle(st, 0)) {
		if (p2pdma_scn_argc(st) != 1)
			return p2pdma_scn_malformed(s, st, "free $ALLOC | free BDF ADDR SIZE");
		if ((ret = p2pdma_scn_arg_handle(s, st, 0, "alloc", (void **)&h)))
			return ret;
		d = h->dev;
		kva = h->kva;
		size = h->size;
	} else {
		if (p2pdma_scn_argc(st) != 3)
			return p2pdma_scn_malformed(s, st, "free $ALLOC | free BDF ADDR SIZE");
		if ((ret = p2pdma_scn_arg_dev(s, st, 0, &d)) ||
		    (ret = p2pdma_scn_arg_u64(s, st, 1, &kva)) ||
		    (ret = p2pdma_scn_arg_u64(s, st, 2, &size)))
			return ret;
	}
	ret = p2pdma_p2pmem_free(p2pdma_scn_kernel(s), d, kva, size);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "pci_free_p2pmem(%s, %#" PRIx64 "): the pages are back, one pgmap reference dropped",
			       d->name, kva);
	pool_state(s, st, d);
	if (!ret && h) {
		p2pdma_scn_handle_forget(s, h);
		free(h);
	}
	if (!ret && !p2pdma_kernel_driver(p2pdma_scn_kernel(s), d))
		p2pdma_scn_set(st, "driver", "none");
	return 0;
}

static int do_alloc_sgl(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	const struct p2pdma_dev *d;
	struct h_sgl *h;
	struct p2pdma_sgl *sgl;
	unsigned int nents = 0;
	uint64_t len, kva;
	uint32_t l32;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret || (ret = p2pdma_scn_arg_u64(s, st, 1, &len)))
		return ret;
	if (len > UINT32_MAX)
		return p2pdma_scn_malformed(s, st, "the length is a u32");
	ret = p2pdma_p2pmem_alloc_sgl(k, d, (uint32_t)len, &sgl, &nents);
	p2pdma_scn_errno(st, ret);
	pool_state(s, st, d);
	if (ret)
		return 0;
	p2pdma_sgl_entry(sgl, 0, &kva, &l32);
	p2pdma_scn_set(st, "entries", "%u", nents);
	p2pdma_scn_set(st, "addr", "%#" PRIx64, kva);
	p2pdma_scn_set(st, "bus", "%#" PRIx64, p2pdma_p2pmem_virt_to_bus(k, d, kva));
	p2pdma_scn_say(st, "pci_p2pmem_alloc_sgl(%s, %u): %u entry at %#" PRIx64 " (bus %#" PRIx64 "), length %u",
		       d->name, l32, nents, kva, p2pdma_p2pmem_virt_to_bus(k, d, kva), l32);
	h = calloc(1, sizeof(*h));
	if (!h) {
		p2pdma_p2pmem_free_sgl(k, d, sgl);
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	}
	h->k = k;
	h->dev = d;
	h->sgl = sgl;
	return p2pdma_scn_handle_add(s, st, "sgl", h, h_sgl_free);
}

static int do_free_sgl(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct h_sgl *h;
	int ret = p2pdma_scn_arg_handle(s, st, 0, "sgl", (void **)&h);

	if (ret)
		return ret;
	ret = p2pdma_p2pmem_free_sgl(h->k, h->dev, h->sgl);
	p2pdma_scn_errno(st, ret);
	pool_state(s, st, h->dev);
	p2pdma_scn_handle_forget(s, h);
	free(h);
	return 0;
}

static int do_virt_to_bus(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const struct p2pdma_dev *d;
	uint64_t kva, bus;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	if (p2pdma_scn_arg_is_handle(st, 1)) {
		struct h_alloc *h;

		if ((ret = p2pdma_scn_arg_handle(s, st, 1, "alloc", (void **)&h)))
			return ret;
		kva = h->kva;
	} else if ((ret = p2pdma_scn_arg_u64(s, st, 1, &kva))) {
		return ret;
	}
	bus = p2pdma_p2pmem_virt_to_bus(p2pdma_scn_kernel(s), d, kva);
	p2pdma_scn_set(st, "bus", "%#" PRIx64, bus);
	p2pdma_scn_say(st, "pci_p2pmem_virt_to_bus(%s, %#" PRIx64 ") = %#" PRIx64 "%s", d->name, kva, bus,
		       bus == ~0ULL ? " (not in the pool: gen_pool_virt_to_phys() gives -1)" :
		       !bus ? " (no P2PDMA state)" : "");
	return 0;
}

static int do_p2pmem(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	static const char *const attrs[] = { "size", "available", "published" };
	const struct p2pdma_dev *d;
	char buf[64], all[256] = "";
	size_t i, off = 0;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	for (i = 0; i < 3; i++) {
		ret = p2pdma_p2pmem_sysfs_read(k, d, attrs[i], buf, sizeof(buf));
		if (ret < 0) {
			p2pdma_scn_errno(st, ret);
			p2pdma_scn_say(st, "/sys/bus/pci/devices/%s/p2pmem/ does not exist", d->name);
			return 0;
		}
		buf[strcspn(buf, "\n")] = '\0';
		p2pdma_scn_set(st, attrs[i], "%s", buf);
		off += (size_t)snprintf(all + off, sizeof(all) - off, "%s%s=%s", i ? " " : "", attrs[i], buf);
	}
	ret = p2pdma_p2pmem_sysfs_read(k, d, "allocate", buf, sizeof(buf));
	p2pdma_scn_set(st, "allocate", "%s", ret == -ENOENT ? "absent" : "present");
	p2pdma_scn_say(st, "p2pmem/ of %s: %s, allocate %s", d->name, all,
		       ret == -ENOENT ? "removed" : "present");
	return 0;
}

static int do_pool(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const struct p2pdma_dev *d;
	struct p2pdma_pool_info pi;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	ret = p2pdma_p2pmem_pool_get_info(p2pdma_scn_kernel(s), d, &pi, sizeof(pi));
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	p2pdma_scn_set(st, "ranges", "%u", pi.nranges);
	p2pdma_scn_set(st, "allocations", "%zu", pi.nallocs);
	p2pdma_scn_set(st, "user_pages", "%" PRIu64, pi.user_pages);
	p2pdma_scn_set(st, "largest_free", "%" PRIu64, pi.largest_free);
	p2pdma_scn_set(st, "teardown", "%s", pi.tearing_down ? "waiting" : "no");
	pool_state(s, st, d);
	return 0;
}

static int do_mmap(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	unsigned int flags = P2PDMA_MMAP_SHARED;
	const struct p2pdma_dev *d;
	uint64_t len, off = 0, u;
	struct h_map *h;
	int i, ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret || (ret = p2pdma_scn_arg_u64(s, st, 1, &len)))
		return ret;
	for (i = 2; i < p2pdma_scn_argc(st); i++) {
		if (!strcmp(p2pdma_scn_arg(st, i), "private")) {
			flags = 0;
		} else if (!strcmp(p2pdma_scn_arg(st, i), "offset") && i + 1 < p2pdma_scn_argc(st)) {
			if ((ret = p2pdma_scn_arg_u64(s, st, ++i, &off)))
				return ret;
		} else {
			return p2pdma_scn_malformed(s, st, "'%s': mmap BDF LEN [private] [offset N]",
						    p2pdma_scn_arg(st, i));
		}
	}
	ret = p2pdma_p2pmem_mmap(k, d, len, off, flags, &u);
	p2pdma_scn_errno(st, ret);
	pool_state(s, st, d);
	if (ret)
		return 0;
	{
		struct p2pdma_page_info pi;
		const struct p2pdma_vma *v;

		for (v = k->p2pmem->vmas; v && v->start != u; v = v->next)
			;
		p2pdma_page_get_info(k, v ? v->phys : 0, &pi, sizeof(pi));
		p2pdma_scn_set(st, "addr", "%#" PRIx64, u);
		p2pdma_scn_set(st, "phys", "%#" PRIx64, v ? v->phys : 0);
		p2pdma_scn_set(st, "refcount", "%u", pi.refcount);
		p2pdma_scn_say(st, "mmap(%s/p2pmem/allocate, %" PRIu64 ", MAP_SHARED) = %#" PRIx64
			       ": %" PRIu64 " pages from phys %#" PRIx64 ", each inserted with refcount 1",
			       d->name, len, u, (len + 4095) / 4096, v ? v->phys : 0);
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	h->dev = d;
	h->uaddr = u;
	h->len = (len + 4095) & ~4095ULL;
	return p2pdma_scn_handle_add(s, st, "map", h, free);
}

static int do_anon(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	uint64_t len, u;
	struct h_map *h;
	int ret = p2pdma_scn_arg_u64(s, st, 0, &len);

	if (ret)
		return ret;
	ret = p2pdma_user_mmap_anon(k, len, &u);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	p2pdma_scn_set(st, "addr", "%#" PRIx64, u);
	p2pdma_scn_say(st, "mmap(MAP_ANONYMOUS, %" PRIu64 ") = %#" PRIx64 ": ordinary memory", len, u);
	h = calloc(1, sizeof(*h));
	if (!h)
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	h->uaddr = u;
	h->len = (len + 4095) & ~4095ULL;
	return p2pdma_scn_handle_add(s, st, "map", h, free);
}

/* Optional OFFSET LEN after a mapping argument. */
static int range_args(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st, int first,
		      const struct h_map *m, uint64_t *off, uint64_t *len)
{
	int ret;

	*off = 0;
	*len = m->len;
	if (p2pdma_scn_argc(st) > first && (ret = p2pdma_scn_arg_u64(s, st, first, off)))
		return ret;
	if (p2pdma_scn_argc(st) > first + 1 && (ret = p2pdma_scn_arg_u64(s, st, first + 1, len)))
		return ret;
	if (p2pdma_scn_argc(st) == first + 1)
		*len = *off < m->len ? m->len - *off : 0;
	return 0;
}

static int do_munmap(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct h_map *m;
	uint64_t off, len;
	int ret = p2pdma_scn_arg_handle(s, st, 0, "map", (void **)&m);

	if (ret || (ret = range_args(s, st, 1, m, &off, &len)))
		return ret;
	ret = p2pdma_user_munmap(p2pdma_scn_kernel(s), m->uaddr + off, len);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "munmap(%#" PRIx64 ", %" PRIu64 "): pages not pinned go back to their pool",
			       m->uaddr + off, len);
	if (m->dev)
		pool_state(s, st, m->dev);
	if (!ret && !off && len >= m->len) {
		p2pdma_scn_handle_forget(s, m);
		free(m);
	}
	return 0;
}

static int do_pin(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	unsigned int flags = 0;
	uint64_t nums[2] = { 0, 0 };
	int nnum = 0, i, ret;
	struct h_map *m;
	struct h_pin *p;
	unsigned long npages;
	long got;

	if ((ret = p2pdma_scn_arg_handle(s, st, 0, "map", (void **)&m)))
		return ret;
	for (i = 1; i < p2pdma_scn_argc(st); i++) {
		const char *a = p2pdma_scn_arg(st, i);

		if (!strcmp(a, "p2pdma"))
			flags |= P2PDMA_FOLL_PCI_P2PDMA;
		else if (!strcmp(a, "longterm"))
			flags |= P2PDMA_FOLL_LONGTERM;
		else if (!strcmp(a, "write"))
			flags |= P2PDMA_FOLL_WRITE;
		else if (nnum < 2 && !p2pdma_scn_parse_u64(a, &nums[nnum]))
			nnum++;
		else
			return p2pdma_scn_malformed(s, st, "'%s': pin $MAP [OFFSET [NPAGES]] [p2pdma] [longterm] [write]", a);
	}
	npages = nnum > 1 ? (unsigned long)nums[1] : nums[0] < m->len ? (unsigned long)((m->len - nums[0]) / 4096) : 1;
	if (!npages || npages > 65536)
		return p2pdma_scn_malformed(s, st, "pin 1 to 65536 pages");
	p = calloc(1, sizeof(*p));
	if (p)
		p->pfns = calloc(npages, sizeof(*p->pfns));
	if (!p || !p->pfns) {
		if (p)
			free(p);
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	}
	got = p2pdma_user_pin(k, m->uaddr + nums[0], npages, flags, p->pfns);
	p2pdma_scn_errno(st, got < 0 ? (int)got : 0);
	p2pdma_scn_set(st, "count", "%ld", got < 0 ? 0 : got);
	if (got <= 0) {
		h_pin_free(p);
		return 0;
	}
	p->n = (unsigned long)got;
	{
		struct p2pdma_page_info pi;

		p2pdma_page_get_info(k, p->pfns[0] << 12, &pi, sizeof(pi));
		p2pdma_scn_set(st, "refcount", "%u", pi.refcount);
		p2pdma_scn_set(st, "pins", "%u", pi.pins);
		p2pdma_scn_say(st, "pin_user_pages(%#" PRIx64 ", %lu%s%s%s) = %ld: first page phys %#" PRIx64
			       ", refcount %u (+1024 per pin)", m->uaddr + nums[0], npages,
			       flags & P2PDMA_FOLL_PCI_P2PDMA ? ", FOLL_PCI_P2PDMA" : "",
			       flags & P2PDMA_FOLL_LONGTERM ? ", FOLL_LONGTERM" : "",
			       flags & P2PDMA_FOLL_WRITE ? ", FOLL_WRITE" : "", got,
			       p->pfns[0] << 12, pi.refcount);
	}
	return p2pdma_scn_handle_add(s, st, "pin", p, h_pin_free);
}

static int do_unpin(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	struct h_pin *p;
	int ret = p2pdma_scn_arg_handle(s, st, 0, "pin", (void **)&p);

	if (ret)
		return ret;
	ret = p2pdma_user_unpin(k, p->pfns, p->n);
	p2pdma_scn_errno(st, ret);
	p2pdma_scn_say(st, "unpin_user_pages(%lu pages): a page that is no longer mapped goes back to its pool", p->n);
	p2pdma_scn_handle_forget(s, p);
	h_pin_free(p);
	return 0;
}

static int do_queue(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const char *feat = p2pdma_scn_arg(st, 1);
	const struct p2pdma_dev *d;
	struct p2pdma_blkq *q;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	if (strcmp(feat, "p2pdma") && strcmp(feat, "plain"))
		return p2pdma_scn_malformed(s, st, "queue BDF p2pdma|plain");
	ret = p2pdma_blkq_create(p2pdma_scn_kernel(s), d, p2pdma_scn_as(st) ? p2pdma_scn_as(st) : "disk",
				 !strcmp(feat, "p2pdma") ? P2PDMA_BLK_FEAT_PCI_P2PDMA : 0, &q);
	if (ret)
		return ret;
	p2pdma_scn_say(st, "a request queue of %s %s BLK_FEAT_PCI_P2PDMA", d->name,
		       !strcmp(feat, "p2pdma") ? "with" : "without");
	return p2pdma_scn_handle_add(s, st, "queue", q, NULL);
}

/* Why a bio got its map type: the router's explanation, or the cache. */
static void bio_why(struct p2pdma_kernel *k, const struct p2pdma_provider *prov,
		    const struct p2pdma_dev *client, enum p2pdma_map_type t, char *buf, size_t len)
{
	struct p2pdma_verdict *v;

	buf[0] = '\0';
	if (!prov || p2pdma_verdict_create(&v))
		return;
	if (p2pdma_router_calc(p2pdma_kernel_router(k), p2pdma_provider_owner(prov), client, false, v) == t)
		p2pdma_scn_explain(v, buf, len);
	else
		snprintf(buf, len, "from the map-type cache (the hardware changed since the first evaluation)");
	p2pdma_verdict_destroy(v);
}

static int do_io(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, bool write)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	struct p2pdma_blk_result *res;
	struct p2pdma_blkq *q;
	struct h_map *m;
	uint64_t off, len;
	size_t b, nseg = 0;
	bool first = true;
	int ret;

	if ((ret = p2pdma_scn_arg_handle(s, st, 0, "queue", (void **)&q)) ||
	    (ret = p2pdma_scn_arg_handle(s, st, 1, "map", (void **)&m)) ||
	    (ret = range_args(s, st, 2, m, &off, &len)))
		return ret;
	if (p2pdma_blk_result_create(&res))
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	ret = p2pdma_blkq_direct_io(q, write, m->uaddr + off, len, res);
	p2pdma_scn_errno(st, ret);
	p2pdma_scn_set(st, "bios", "%zu", p2pdma_blk_result_num_bios(res));
	p2pdma_scn_set(st, "map", "NONE");
	for (b = 0; b < p2pdma_blk_result_num_bios(res); b++) {
		const struct p2pdma_provider *prov;
		enum p2pdma_map_type t;
		uint64_t blen, dma, slen;
		bool bus = false;
		char why[400];
		int n = p2pdma_blk_result_bio(res, b, &t, &prov, &blen);

		if (prov) {
			bio_why(k, prov, p2pdma_blkq_dev(q), t, why, sizeof(why));
			p2pdma_scn_set(st, "map", "%s", p2pdma_map_type_name(t));
		}
		dma = p2pdma_blk_result_seg(res, b, 0, &slen, &bus);
		if (first && n > 0) {
			p2pdma_scn_set(st, "addr", "%#" PRIx64, dma);
			p2pdma_scn_set(st, "bus", "%s", bus ? "yes" : "no");
			first = false;
		}
		nseg += n > 0 ? (size_t)n : 0;
		if (!prov)
			p2pdma_scn_say(st, "bio %zu: %" PRIu64 " bytes of ordinary memory: %d DMA segment%s from %#" PRIx64,
				       b + 1, blen, n, n == 1 ? "" : "s", dma);
		else if (n > 0)
			p2pdma_scn_say(st, "bio %zu: %" PRIu64 " bytes of %s's p2pmem, %s (%s): %d segment%s, %s %#" PRIx64 "+%" PRIu64,
				       b + 1, blen, p2pdma_provider_owner(prov)->name, p2pdma_map_type_name(t),
				       why, n, n == 1 ? "" : "s",
				       bus ? "PCI bus address (bypasses the IOMMU, skipped at unmap)" :
				       "CPU physical address (dma-direct; an IOMMU would give an IOVA)",
				       dma, slen);
		else
			p2pdma_scn_say(st, "bio %zu: %" PRIu64 " bytes of %s's p2pmem, %s (%s): not mapped, the request fails",
				       b + 1, blen, p2pdma_provider_owner(prov)->name,
				       p2pdma_map_type_name(t), why);
	}
	p2pdma_scn_set(st, "entries", "%zu", nseg);
	if (!ret)
		p2pdma_scn_say(st, "O_DIRECT %s of %" PRIu64 " bytes completed; pages unpinned",
			       write ? "write" : "read", len);
	p2pdma_blk_result_destroy(res);
	return 0;
}

static int do_read(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return do_io(s, st, false);
}

static int do_write(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return do_io(s, st, true);
}

static int do_page(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	static const char *const kinds[] = { "unknown", "ram", "p2pdma" };
	static const char *const states[] = { "free", "kernel", "user", "pinned" };
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	struct p2pdma_page_info pi;
	uint64_t phys, off = 0;
	int ret;

	if (p2pdma_scn_arg_is_handle(st, 0)) {
		void *obj;
		struct h_alloc *a;
		struct h_map *m;

		if ((ret = p2pdma_scn_arg_handle(s, st, 0, NULL, &obj)))
			return ret;
		if (!p2pdma_scn_arg_handle(s, st, 0, "alloc", (void **)&a)) {
			phys = p2pdma_p2pmem_virt_to_phys(k, a->kva);
		} else if (!p2pdma_scn_arg_handle(s, st, 0, "map", (void **)&m)) {
			const struct p2pdma_vma *v = NULL;

			for (v = k->p2pmem ? k->p2pmem->vmas : NULL; v; v = v->next)
				if (m->uaddr >= v->start && m->uaddr < v->start + v->len)
					break;
			phys = v ? v->phys + (m->uaddr - v->start) : 0;
		} else {
			return p2pdma_scn_malformed(s, st, "page $ALLOC|$MAP|PHYS [OFFSET]");
		}
		p2pdma_clear_err(p2pdma_scn_ctx(s));
	} else if ((ret = p2pdma_scn_arg_u64(s, st, 0, &phys))) {
		return ret;
	}
	if (p2pdma_scn_argc(st) > 1 && (ret = p2pdma_scn_arg_u64(s, st, 1, &off)))
		return ret;
	p2pdma_page_get_info(k, phys + off, &pi, sizeof(pi));
	p2pdma_scn_set(st, "kind", "%s", kinds[pi.kind]);
	p2pdma_scn_set(st, "state", "%s", pi.kind == P2PDMA_PAGE_P2PDMA ? states[pi.state] : "-");
	p2pdma_scn_set(st, "refcount", "%u", pi.refcount);
	p2pdma_scn_set(st, "pins", "%u", pi.pins);
	p2pdma_scn_set(st, "pgmap", "%u", pi.pgmap);
	p2pdma_scn_say(st, "page %#" PRIx64 ": %s%s%s, refcount %u, %u pin%s%s%s", pi.phys, kinds[pi.kind],
		       pi.kind == P2PDMA_PAGE_P2PDMA ? ", " : "",
		       pi.kind == P2PDMA_PAGE_P2PDMA ? states[pi.state] : "", pi.refcount, pi.pins,
		       pi.pins == 1 ? "" : "s", pi.owner ? ", pgmap of " : "",
		       pi.owner ? pi.owner->name : "");
	return 0;
}

static int do_wait(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const struct p2pdma_dev *d;
	uint64_t secs;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret || (ret = p2pdma_scn_arg_u64(s, st, 1, &secs)))
		return ret;
	ret = p2pdma_p2pmem_teardown_wait(p2pdma_scn_kernel(s), d, secs > 86400 ? 86400 : (unsigned int)secs);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "no teardown of %s is waiting", d->name);
	return 0;
}

static const struct p2pdma_scn_verb verbs[] = {
	{ "add-resource", "add-resource BDF BAR [SIZE [OFFSET]]", 2, 4, P2PDMA_SCN_KERNEL, do_add_resource },
	{ "publish", "publish BDF [on|off]", 1, 2, P2PDMA_SCN_KERNEL, do_publish },
	{ "find-many", "find-many CLIENT... [as NAME]", 1, 32, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_find_many },
	{ "alloc", "alloc BDF|$DEV SIZE [by OWNER] [as NAME]", 2, 4, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_alloc },
	{ "free", "free $ALLOC | free BDF ADDR SIZE", 1, 3, P2PDMA_SCN_KERNEL, do_free },
	{ "alloc-sgl", "alloc-sgl BDF LENGTH [as NAME]", 2, 2, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_alloc_sgl },
	{ "free-sgl", "free-sgl $SGL", 1, 1, P2PDMA_SCN_KERNEL, do_free_sgl },
	{ "virt-to-bus", "virt-to-bus BDF $ALLOC|ADDR", 2, 2, P2PDMA_SCN_KERNEL, do_virt_to_bus },
	{ "p2pmem", "p2pmem BDF", 1, 1, P2PDMA_SCN_KERNEL, do_p2pmem },
	{ "pool", "pool BDF", 1, 1, P2PDMA_SCN_KERNEL, do_pool },
	{ "mmap", "mmap BDF LEN [private] [offset N] [as NAME]", 2, 5, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_mmap },
	{ "anon", "anon LEN [as NAME]", 1, 1, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_anon },
	{ "munmap", "munmap $MAP [OFFSET [LEN]]", 1, 3, P2PDMA_SCN_KERNEL, do_munmap },
	{ "pin", "pin $MAP [OFFSET [NPAGES]] [p2pdma] [longterm] [write] [as NAME]", 1, 6,
	  P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_pin },
	{ "unpin", "unpin $PIN", 1, 1, P2PDMA_SCN_KERNEL, do_unpin },
	{ "queue", "queue BDF p2pdma|plain [as NAME]", 2, 2, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_queue },
	{ "read", "read $QUEUE $MAP [OFFSET [LEN]]", 2, 4, P2PDMA_SCN_KERNEL, do_read },
	{ "write", "write $QUEUE $MAP [OFFSET [LEN]]", 2, 4, P2PDMA_SCN_KERNEL, do_write },
	{ "page", "page $ALLOC|$MAP|PHYS [OFFSET]", 1, 2, P2PDMA_SCN_KERNEL, do_page },
	{ "wait", "wait BDF SECONDS", 2, 2, P2PDMA_SCN_KERNEL, do_wait },
};

const struct p2pdma_scn_layer p2pdma_scn_layer_p2pmem = {
	"p2pmem", verbs, sizeof(verbs) / sizeof(verbs[0]), NULL, 0, NULL, NULL, NULL, NULL,
};
