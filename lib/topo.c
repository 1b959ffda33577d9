// SPDX-License-Identifier: LGPL-2.1-or-later
/* topo.c - the fabric model: construction, the kernel's hierarchy, invariants */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo-private.h"

#define DEVFN(d, f) ((uint8_t)(((d) << 3) | (f)))

/* Each loaded topology starts a lineage; its clones share it. */
static atomic_uint_fast64_t next_lineage;

struct p2pdma_topo *p2pdma_topo_alloc(struct p2pdma_ctx *ctx,
				      enum p2pdma_source_kind src,
				      const char *name)
{
	struct p2pdma_topo *topo = calloc(1, sizeof(*topo));

	if (!topo)
		return NULL;
	topo->ctx = ctx;
	topo->source = src;
	topo->lineage = atomic_fetch_add(&next_lineage, 1) + 1;
	topo->machine.cpu_family = -1;
	topo->machine.iommu = -1;
	if (name) {
		topo->name = p2pdma_strdup(name);
		if (!topo->name) {
			free(topo);
			return NULL;
		}
	}
	return topo;
}

static void dev_set_name(struct p2pdma_dev *dev)
{
	snprintf(dev->name, sizeof(dev->name), "%04x:%02x:%02x.%d",
		 dev->domain, dev->bus, dev->devfn >> 3, dev->devfn & 7);
}

struct p2pdma_dev *p2pdma_topo_add_dev(struct p2pdma_topo *topo,
				       uint32_t domain, uint8_t bus,
				       uint8_t devfn)
{
	struct p2pdma_dev *dev;

	if (topo->ndevs == topo->cap_devs) {
		uint32_t cap = topo->cap_devs ? topo->cap_devs * 2 : 64;
		struct p2pdma_dev **devs;

		devs = realloc(topo->devs, cap * sizeof(*devs));
		if (!devs)
			return NULL;
		topo->devs = devs;
		topo->cap_devs = cap;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->topo = topo;
	dev->domain = domain;
	dev->bus = bus;
	dev->devfn = devfn;
	dev->pcie_type = P2PDMA_PCIE_NONE;
	dev->acs_state = P2PDMA_ACS_ABSENT;
	dev->iommu_group = -1;
	dev->numa_node = -1;
	dev->index = topo->ndevs;
	dev_set_name(dev);
	topo->devs[topo->ndevs++] = dev;
	topo->finalized = false;
	return dev;
}

static void machine_free(struct p2pdma_machine *m)
{
	free(m->cpu_vendor);
	free(m->cpu_model);
	free(m->kernel);
	free(m->cmdline);
	free(m->arch);
}

P2PDMA_EXPORT void p2pdma_topo_destroy(struct p2pdma_topo *topo)
{
	uint32_t i;

	if (!topo)
		return;
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *dev = topo->devs[i];

		free(dev->driver);
		free(dev->local_cpulist);
		free(dev->label);
		free(dev->vendor_name);
		free(dev->device_name);
		free(dev);
	}
	free(topo->devs);
	free(topo->hbs);
	machine_free(&topo->machine);
	free(topo->name);
	free(topo->description);
	free(topo);
}

/* --- addresses --- */

static uint64_t dev_key(uint32_t domain, uint8_t bus, uint8_t devfn)
{
	return ((uint64_t)domain << 16) | ((uint64_t)bus << 8) | devfn;
}

static uint64_t key_of(const struct p2pdma_dev *d)
{
	return dev_key(d->domain, d->bus, d->devfn);
}

static int cmp_devs(const void *a, const void *b)
{
	uint64_t ka = key_of(*(struct p2pdma_dev *const *)a);
	uint64_t kb = key_of(*(struct p2pdma_dev *const *)b);

	return ka < kb ? -1 : ka > kb;
}

struct p2pdma_dev *p2pdma_topo_lookup(const struct p2pdma_topo *topo,
				      uint32_t domain, uint8_t bus,
				      uint8_t devfn)
{
	uint64_t key = dev_key(domain, bus, devfn);
	uint32_t lo = 0, hi = topo->ndevs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint64_t k = key_of(topo->devs[mid]);

		if (k == key)
			return topo->devs[mid];
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int parse_hex(const char **p, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!**p || !((**p >= '0' && **p <= '9') ||
		      ((**p | 0x20) >= 'a' && (**p | 0x20) <= 'f')))
		return -EINVAL;
	/* strtoul() would also take a "0x" prefix: pci_name() never has one. */
	if (**p == '0' && ((*p)[1] | 0x20) == 'x')
		return -EINVAL;
	errno = 0;
	v = strtoul(*p, &end, 16);
	if (errno || v > max)
		return -EINVAL;
	*p = end;
	*out = v;
	return 0;
}

int p2pdma_parse_bdf(const char *s, uint32_t *domain, uint8_t *bus,
		     uint8_t *devfn)
{
	unsigned long a, b, d, f;
	const char *p = s;

	/*
	 * Domains stop at 0xfffffff: pci_name() of an eight-digit domain
	 * ("DDDDDDDD:BB:DD.F") does not fit the 16-byte names (struct
	 * p2pdma_dev, p2pdma_dev_info.bdf) and would come back truncated.
	 * Real domains are 16-bit ACPI segments or VMD's 0x10000 and up.
	 */
	if (!s || parse_hex(&p, 0xfffffffUL, &a) || *p++ != ':' ||
	    parse_hex(&p, 0xffffffffUL, &b))
		return -EINVAL;
	if (*p == ':') {
		/* DDDD:BB:DD.F */
		p++;
		if (b > 0xff || parse_hex(&p, 0x1f, &d) || *p++ != '.' ||
		    parse_hex(&p, 7, &f) || *p)
			return -EINVAL;
		*domain = (uint32_t)a;
		*bus = (uint8_t)b;
	} else {
		/* BB:DD.F */
		if (a > 0xff || b > 0x1f || *p++ != '.' ||
		    parse_hex(&p, 7, &f) || *p)
			return -EINVAL;
		d = b;
		*domain = 0;
		*bus = (uint8_t)a;
	}
	*devfn = DEVFN(d, f);
	return 0;
}

/* --- finalize: derive what the kernel derives at enumeration --- */

/* The bridge whose secondary bus is @bus, i.e. bus->self. */
static struct p2pdma_dev *bridge_for_bus(struct p2pdma_dev **by_bus,
					 const struct p2pdma_topo *topo,
					 uint32_t domain, uint8_t bus)
{
	uint32_t i;

	/* by_bus is per domain only for domain 0..: fall back to a scan for
	 * other domains, which are rare and small. */
	if (domain == 0)
		return by_bus[bus];
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *b = topo->devs[i];

		if (b->domain == domain && p2pdma_dev_is_bridge(b) &&
		    !b->is_vf && b->secondary == bus && b->secondary)
			return b;
	}
	return NULL;
}

/*
 * SR-IOV: VF n of a PF has routing ID PF + First VF Offset + n * VF Stride
 * (PCIe SR-IOV 3.3.10/3.3.11). A VF's config space reads Vendor/Device as
 * 0xffff; its identity comes from the PF (vendor) and VF Device ID.
 */
static void link_vfs(struct p2pdma_topo *topo)
{
	uint32_t i, n;

	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *pf = topo->devs[i];

		if (!pf->has_sriov || pf->is_vf)
			continue;
		for (n = 0; n < pf->sriov_num; n++) {
			uint32_t rid = ((uint32_t)pf->bus << 8 | pf->devfn) +
				       pf->sriov_offset + n * pf->sriov_stride;
			struct p2pdma_dev *vf;

			if (rid > 0xffff || (n && !pf->sriov_stride))
				break;
			vf = p2pdma_topo_lookup(topo, pf->domain,
						(uint8_t)(rid >> 8),
						(uint8_t)rid);
			if (!vf || vf == pf || p2pdma_dev_is_bridge(vf))
				continue;
			vf->is_vf = true;
			vf->physfn = pf;
			vf->physfn_index = pf->index;
			if (vf->vendor == 0xffff) {
				vf->vendor = pf->vendor;
				vf->device = pf->sriov_vf_device;
			}
		}
	}
}

/* Index of the host bridge of root bus @domain:@bus, added if new. */
static int add_host_bridge(struct p2pdma_topo *topo, uint32_t domain,
			   uint8_t bus, uint32_t *index)
{
	struct p2pdma_host_bridge *hbs;
	uint32_t i;

	for (i = 0; i < topo->nhbs; i++) {
		if (topo->hbs[i].domain == domain && topo->hbs[i].bus == bus) {
			*index = i;
			return 0;
		}
	}
	hbs = realloc(topo->hbs, (topo->nhbs + 1) * sizeof(*hbs));
	if (!hbs)
		return -ENOMEM;
	topo->hbs = hbs;
	memset(&hbs[topo->nhbs], 0, sizeof(*hbs));
	hbs[topo->nhbs].index = topo->nhbs;
	hbs[topo->nhbs].domain = domain;
	hbs[topo->nhbs].bus = bus;
	hbs[topo->nhbs].bus_end = bus;
	*index = topo->nhbs++;
	return 0;
}

int p2pdma_topo_finalize(struct p2pdma_topo *topo, const char *where)
{
	struct p2pdma_dev *by_bus[256];
	uint32_t *hb_index;
	char err[P2PDMA_ERRLEN];
	uint32_t i;
	int ret;

	if (!where)
		where = topo->name ? topo->name : "topology";
	if (topo->ndevs)
		qsort(topo->devs, topo->ndevs, sizeof(*topo->devs), cmp_devs);
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *d = topo->devs[i];

		d->index = i;
		d->is_vf = false;
		d->physfn = NULL;
		d->bus_self = d->upstream = NULL;
		d->hb = NULL;
		d->acs_ctrl_boot = d->acs_ctrl;
		dev_set_name(d);
		if (i && key_of(topo->devs[i - 1]) == key_of(d))
			return p2pdma_err(topo->ctx, -EINVAL,
					  "%s: duplicate function %s", where,
					  d->name);
	}
	free(topo->hbs);
	topo->hbs = NULL;
	topo->nhbs = 0;

	link_vfs(topo);

	/* Domain 0's bus->self table; a second claimant of a bus is an error. */
	memset(by_bus, 0, sizeof(by_bus));
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *b = topo->devs[i];
		struct p2pdma_dev *other;

		if (!p2pdma_dev_is_bridge(b) || b->is_vf || !b->secondary)
			continue;
		other = b->domain ? bridge_for_bus(by_bus, topo, b->domain,
						   b->secondary)
				  : by_bus[b->secondary];
		if (other && other != b)
			return p2pdma_err(topo->ctx, -EINVAL,
					  "%s: bridges %s and %s both claim secondary bus %02x",
					  where, other->name, b->name,
					  b->secondary);
		if (!b->domain)
			by_bus[b->secondary] = b;
	}

	/* bus->self, and pci_upstream_bridge() for every non-VF. */
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *d = topo->devs[i];

		d->bus_self = bridge_for_bus(by_bus, topo, d->domain, d->bus);
		if (d->bus_self == d)
			return p2pdma_err(topo->ctx, -EINVAL,
					  "%s: bridge %s has its own bus %02x as secondary",
					  where, d->name, d->bus);
		if (!d->is_vf)
			d->upstream = d->bus_self;
	}
	/*
	 * pci_upstream_bridge(VF) = upstream of pci_physfn(VF): VFs on a
	 * virtual bus have bus->self == NULL, hence the PF hop (doc/kernel-model.md §2.1).
	 */
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *d = topo->devs[i];

		if (d->is_vf)
			d->upstream = d->physfn->upstream;
	}

	/* Depth and the root of every chain; a chain longer than the number
	 * of functions is a cycle in the bus numbers. */
	hb_index = calloc(topo->ndevs ? topo->ndevs : 1, sizeof(*hb_index));
	if (!hb_index)
		return p2pdma_err(topo->ctx, -ENOMEM, "%s: out of memory", where);
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *d = topo->devs[i], *top = d;
		uint32_t hops = 0;

		if (d->is_vf)
			top = d->physfn;
		while (top->upstream) {
			top = top->upstream;
			if (++hops > topo->ndevs) {
				free(hb_index);
				return p2pdma_err(topo->ctx, -EINVAL,
						  "%s: cycle in the bus numbers above %s",
						  where, d->name);
			}
		}
		d->depth = (uint16_t)hops;
		ret = add_host_bridge(topo, top->domain, top->bus, &hb_index[i]);
		if (ret) {
			free(hb_index);
			return p2pdma_err(topo->ctx, ret, "%s: out of memory", where);
		}
	}
	/* Pointers only now: the array moved while it grew. */
	for (i = 0; i < topo->ndevs; i++)
		topo->devs[i]->hb = &topo->hbs[hb_index[i]];
	free(hb_index);

	/*
	 * pci_host_bridge_dev(): the first device on the root bus's list,
	 * used only if it is 00.0 or a Root Port. VFs are added to a bus after
	 * enumeration, so they never come first while a scanned function
	 * exists on that bus.
	 */
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *d = topo->devs[i];
		struct p2pdma_host_bridge *hb = d->hb;

		if (d->bus_self || d->bus != hb->bus || d->domain != hb->domain)
			continue;
		if (!hb->first || (hb->first->is_vf && !d->is_vf))
			hb->first = d;
		if (p2pdma_dev_is_bridge(d) && d->subordinate > hb->bus_end)
			hb->bus_end = d->subordinate;
	}
	for (i = 0; i < topo->nhbs; i++) {
		struct p2pdma_host_bridge *hb = &topo->hbs[i];
		struct p2pdma_dev *f = hb->first;

		if (f && (f->devfn == 0 || f->pcie_type == P2PDMA_PCIE_ROOT_PORT))
			hb->hostdev = f;
	}

	topo->finalized = true;
	if (p2pdma_topo_check(topo, err, sizeof(err)))
		return p2pdma_err(topo->ctx, -EINVAL, "%s: %s", where, err);
	/* Loaded topologies are immutable; what-ifs work on a clone. */
	topo->sealed = true;
	return 0;
}

/* --- the invariant checker --- */

static int fail(char *err, size_t len, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool hw_source(const struct p2pdma_topo *topo)
{
	return topo->source == P2PDMA_SRC_LIVE ||
	       topo->source == P2PDMA_SRC_SYSFS ||
	       topo->source == P2PDMA_SRC_DUMP ||
	       topo->source == P2PDMA_SRC_LSPCI ||
	       topo->source == P2PDMA_SRC_HWLOC;
}

static bool in_window(const struct p2pdma_window *w, uint64_t lo, uint64_t hi)
{
	return w->valid && lo >= w->base && hi <= w->limit && lo <= hi;
}

/* Which window of @bridge forwards BAR @b (bus addresses). */
static bool bar_forwarded(const struct p2pdma_dev *bridge,
			  const struct p2pdma_bar *b)
{
	uint64_t lo = b->bus, hi = b->bus + b->size - 1;

	if (b->flags & P2PDMA_BAR_IO)
		return in_window(&bridge->win[P2PDMA_WIN_IO], lo, hi);
	/* A prefetchable BAR may also sit in the non-prefetchable window. */
	if ((b->flags & P2PDMA_BAR_PREFETCH) &&
	    in_window(&bridge->win[P2PDMA_WIN_PREFETCH], lo, hi))
		return true;
	return in_window(&bridge->win[P2PDMA_WIN_MEM], lo, hi);
}

/*
 * A resource is [start, start + size - 1]: it must not run past 2^64
 * (the kernel's struct resource cannot hold that, and every range test
 * here and in the route code would wrap), and a 32-bit BAR or an I/O BAR
 * cannot decode an address above 4 GiB.
 */
static int check_bars(const struct p2pdma_dev *d, char *err, size_t len)
{
	int i;

	for (i = 0; i < P2PDMA_NUM_BARS; i++) {
		const struct p2pdma_bar *b = &d->bars[i];

		if (!b->size)
			continue;
		if (b->bus > UINT64_MAX - (b->size - 1))
			return fail(err, len,
				    "%s: BAR %d at bus address %#" PRIx64 " with size %#" PRIx64 " runs past 2^64",
				    d->name, i, b->bus, b->size);
		if (b->cpu > UINT64_MAX - (b->size - 1))
			return fail(err, len,
				    "%s: BAR %d at CPU address %#" PRIx64 " with size %#" PRIx64 " runs past 2^64",
				    d->name, i, b->cpu, b->size);
		if ((b->flags & (P2PDMA_BAR_IO | P2PDMA_BAR_MEM)) &&
		    !(b->flags & P2PDMA_BAR_64) &&
		    b->bus + (b->size - 1) > UINT32_MAX)
			return fail(err, len,
				    "%s: BAR %d is a 32-bit %s BAR but reaches bus address %#" PRIx64 " (above 4 GiB)",
				    d->name, i, (b->flags & P2PDMA_BAR_IO) ? "I/O" : "memory",
				    b->bus + (b->size - 1));
	}
	return 0;
}

static int check_dev(const struct p2pdma_topo *topo,
		     const struct p2pdma_dev *d, char *err, size_t len)
{
	const struct p2pdma_dev *p = d->bus_self;
	int i, ret;

	if (d->local_cpulist && !p2pdma_cpulist_valid(d->local_cpulist))
		return fail(err, len, "%s: local CPUs '%.40s' are not a CPU list", d->name,
			    d->local_cpulist);
	if (d->is_vf) {
		if (!d->physfn || !d->physfn->has_sriov)
			return fail(err, len, "VF %s has no PF", d->name);
		if (p2pdma_dev_is_bridge(d))
			return fail(err, len, "VF %s is a bridge", d->name);
	}
	/*
	 * Secondary 0 is an unconfigured bridge only when all its bus numbers
	 * are 0 (pci_scan_bridge_extend() then numbers it); with a range it
	 * is a secondary bus at or above its own, which the kernel calls
	 * broken and renumbers: never what a capture holds.
	 */
	if (p2pdma_dev_is_bridge(d) && !d->secondary && d->subordinate)
		return fail(err, len,
			    "bridge %s on bus %02x has secondary bus 00 (not below it) with subordinate %02x",
			    d->name, d->bus, d->subordinate);
	ret = check_bars(d, err, len);
	if (ret)
		return ret;
	if (p2pdma_dev_is_bridge(d) && d->secondary) {
		if (d->secondary > d->subordinate)
			return fail(err, len,
				    "bridge %s: secondary bus %02x above subordinate %02x",
				    d->name, d->secondary, d->subordinate);
		if (d->secondary <= d->bus)
			return fail(err, len,
				    "bridge %s on bus %02x has secondary bus %02x (not below it)",
				    d->name, d->bus, d->secondary);
	}
	if (!p)
		goto bars;
	if (!p2pdma_dev_is_bridge(p) || p->secondary != d->bus)
		return fail(err, len, "%s: parent %s is not the bridge of bus %02x",
			    d->name, p->name, d->bus);
	if (p2pdma_dev_is_bridge(d) && d->secondary &&
	    (d->secondary <= p->secondary || d->subordinate > p->subordinate))
		return fail(err, len,
			    "bridge %s: bus range %02x-%02x is not inside %02x-%02x of its parent %s",
			    d->name, d->secondary, d->subordinate,
			    p->secondary, p->subordinate, p->name);
bars:
	/*
	 * BAR containment. Hardware sources are the truth (the kernel may
	 * have left a resource unassigned): there it is logged, not fatal.
	 */
	if (!p || d->is_vf)
		return 0;
	for (i = 0; i < P2PDMA_NUM_BARS; i++) {
		const struct p2pdma_bar *b = &d->bars[i];

		if (!b->size || !(b->flags & (P2PDMA_BAR_MEM | P2PDMA_BAR_IO)))
			continue;
		if (!bar_forwarded(p, b)) {
			if (hw_source(topo)) {
				p2pdma_log(topo->ctx, P2PDMA_LOG_INFO,
					   "%s: BAR %d [%#" PRIx64 "-%#" PRIx64 "] outside the windows of %s",
					   d->name, i, b->bus,
					   b->bus + b->size - 1, p->name);
				continue;
			}
			return fail(err, len,
				    "%s: BAR %d [%#" PRIx64 "-%#" PRIx64 "] is outside the windows of bridge %s",
				    d->name, i, b->bus, b->bus + b->size - 1,
				    p->name);
		}
	}
	return 0;
}

/* Sibling bridges (same bus) must not claim overlapping bus ranges. */
static int check_siblings(const struct p2pdma_topo *topo, char *err,
			  size_t len)
{
	uint32_t i, j;

	for (i = 0; i < topo->ndevs; i++) {
		const struct p2pdma_dev *a = topo->devs[i];

		if (!p2pdma_dev_is_bridge(a) || a->is_vf || !a->secondary)
			continue;
		for (j = i + 1; j < topo->ndevs; j++) {
			const struct p2pdma_dev *b = topo->devs[j];

			if (b->domain != a->domain || b->bus != a->bus)
				break;
			if (!p2pdma_dev_is_bridge(b) || b->is_vf || !b->secondary)
				continue;
			if (a->secondary <= b->subordinate &&
			    b->secondary <= a->subordinate)
				return fail(err, len,
					    "bridges %s and %s have overlapping bus ranges %02x-%02x and %02x-%02x",
					    a->name, b->name, a->secondary,
					    a->subordinate, b->secondary,
					    b->subordinate);
		}
	}
	return 0;
}

/* A non-VF on a bus inside some bridge's range must hang below it. */
static int check_orphans(const struct p2pdma_topo *topo, char *err,
			 size_t len)
{
	uint32_t i, j;

	for (i = 0; i < topo->ndevs; i++) {
		const struct p2pdma_dev *d = topo->devs[i];

		if (d->is_vf || d->bus_self)
			continue;
		for (j = 0; j < topo->ndevs; j++) {
			const struct p2pdma_dev *b = topo->devs[j];

			if (b->domain == d->domain && p2pdma_dev_is_bridge(b) &&
			    !b->is_vf && b->secondary &&
			    d->bus > b->secondary && d->bus <= b->subordinate)
				return fail(err, len,
					    "%s: bus %02x lies in the range %02x-%02x of bridge %s but no bridge below it has it as secondary",
					    d->name, d->bus, b->secondary,
					    b->subordinate, b->name);
		}
	}
	/* Root buses of one domain must not fall inside each other's range. */
	for (i = 0; i < topo->nhbs; i++) {
		for (j = 0; j < topo->nhbs; j++) {
			const struct p2pdma_host_bridge *a = &topo->hbs[i];
			const struct p2pdma_host_bridge *b = &topo->hbs[j];

			if (i != j && a->domain == b->domain &&
			    b->bus > a->bus && b->bus <= a->bus_end)
				return fail(err, len,
					    "root bus %04x:%02x lies inside the bus range %02x-%02x of root bus %02x",
					    b->domain, b->bus, a->bus, a->bus_end,
					    a->bus);
		}
	}
	return 0;
}

P2PDMA_EXPORT int p2pdma_topo_check(const struct p2pdma_topo *topo, char *err,
				    size_t len)
{
	uint32_t i;
	int ret;

	if (!topo->finalized)
		return fail(err, len, "topology not finalized");
	for (i = 0; i < topo->ndevs; i++) {
		const struct p2pdma_dev *d = topo->devs[i];

		if (d->index != i || d->topo != topo || !d->hb)
			return fail(err, len, "%s: broken bookkeeping", d->name);
		if (i && key_of(topo->devs[i - 1]) >= key_of(d))
			return fail(err, len, "%s: not in enumeration order",
				    d->name);
		ret = check_dev(topo, d, err, len);
		if (ret)
			return ret;
	}
	ret = check_siblings(topo, err, len);
	if (ret)
		return ret;
	return check_orphans(topo, err, len);
}

/* --- compare --- */

static int differ(char *diff, size_t len, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);

static int differ(char *diff, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (diff && len) {
		va_start(ap, fmt);
		vsnprintf(diff, len, fmt, ap);
		va_end(ap);
	}
	return 1;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

#define CMP_FIELD(f)							\
	do {								\
		if (a->f != b->f)					\
			return differ(diff, len, "%s: " #f " %#llx != %#llx", \
				      a->name, (unsigned long long)a->f, \
				      (unsigned long long)b->f);	\
	} while (0)

static int compare_config(const struct p2pdma_dev *a,
			  const struct p2pdma_dev *b, char *diff, size_t len)
{
	int i;

	CMP_FIELD(vendor);
	CMP_FIELD(device);
	CMP_FIELD(subvendor);
	CMP_FIELD(subdevice);
	CMP_FIELD(class_code);
	CMP_FIELD(revision);
	CMP_FIELD(header_type);
	CMP_FIELD(multifunction);
	CMP_FIELD(pcie_type);
	CMP_FIELD(primary);
	CMP_FIELD(secondary);
	CMP_FIELD(subordinate);
	for (i = 0; i < P2PDMA_WIN_COUNT; i++) {
		CMP_FIELD(win[i].valid);
		if (a->win[i].valid) {
			CMP_FIELD(win[i].base);
			CMP_FIELD(win[i].limit);
		}
	}
	for (i = 0; i < P2PDMA_NUM_BARS; i++) {
		CMP_FIELD(bars[i].flags);
		CMP_FIELD(bars[i].bus);
	}
	CMP_FIELD(acs_state);
	if (a->acs_state == P2PDMA_ACS_PRESENT) {
		CMP_FIELD(acs_cap);
		CMP_FIELD(acs_ctrl);
	}
	CMP_FIELD(has_sriov);
	if (a->has_sriov) {
		CMP_FIELD(sriov_total);
		CMP_FIELD(sriov_num);
		CMP_FIELD(sriov_offset);
		CMP_FIELD(sriov_stride);
		CMP_FIELD(sriov_vf_device);
	}
	CMP_FIELD(is_vf);
	CMP_FIELD(link.speed);
	CMP_FIELD(link.width);
	CMP_FIELD(link.max_speed);
	CMP_FIELD(link.max_width);
	return 0;
}

static int compare_os(const struct p2pdma_dev *a, const struct p2pdma_dev *b,
		      char *diff, size_t len)
{
	CMP_FIELD(iommu_group);
	CMP_FIELD(numa_node);
	CMP_FIELD(p2pmem.present);
	CMP_FIELD(p2pmem.published);
	CMP_FIELD(p2pmem.size);
	CMP_FIELD(p2pmem.available);
	if (!str_eq(a->local_cpulist, b->local_cpulist))
		return differ(diff, len, "%s: local CPUs %s != %s", a->name,
			      a->local_cpulist ? a->local_cpulist : "(unknown)",
			      b->local_cpulist ? b->local_cpulist : "(unknown)");
	if (!str_eq(a->driver, b->driver))
		return differ(diff, len, "%s: driver %s != %s", a->name,
			      a->driver ? a->driver : "(none)",
			      b->driver ? b->driver : "(none)");
	return 0;
}

static int compare_machine(const struct p2pdma_machine *a,
			   const struct p2pdma_machine *b, char *diff,
			   size_t len)
{
	if (!str_eq(a->cpu_vendor, b->cpu_vendor) ||
	    a->cpu_family != b->cpu_family || !str_eq(a->cpu_model, b->cpu_model))
		return differ(diff, len, "machine: cpu differs");
	if (!str_eq(a->kernel, b->kernel))
		return differ(diff, len, "machine: kernel differs");
	if (!str_eq(a->cmdline, b->cmdline))
		return differ(diff, len, "machine: cmdline differs");
	if (a->iommu != b->iommu || !str_eq(a->arch, b->arch))
		return differ(diff, len, "machine: iommu/arch differs");
	return 0;
}

static int topo_differ(const struct p2pdma_topo *a,
		       const struct p2pdma_topo *b, unsigned int what,
		       char *diff, size_t len)
{
	uint32_t i;
	int i2;

	if (a->ndevs != b->ndevs)
		return differ(diff, len, "%u functions != %u functions",
			      a->ndevs, b->ndevs);
	for (i = 0; i < a->ndevs; i++) {
		const struct p2pdma_dev *da = a->devs[i], *db = b->devs[i];

		if (key_of(da) != key_of(db))
			return differ(diff, len, "function %s != %s", da->name,
				      db->name);
		if ((what & P2PDMA_CMP_CONFIG) && compare_config(da, db, diff, len))
			return 1;
		if (what & P2PDMA_CMP_RESOURCES) {
			for (i2 = 0; i2 < P2PDMA_NUM_BARS; i2++) {
				if (da->bars[i2].size != db->bars[i2].size ||
				    da->bars[i2].cpu != db->bars[i2].cpu)
					return differ(diff, len,
						      "%s: BAR %d resource differs",
						      da->name, i2);
			}
		}
		if ((what & P2PDMA_CMP_OS) && compare_os(da, db, diff, len))
			return 1;
		if ((what & P2PDMA_CMP_NAMES) && !str_eq(da->label, db->label))
			return differ(diff, len, "%s: comment differs", da->name);
	}
	if ((what & P2PDMA_CMP_OS) &&
	    compare_machine(&a->machine, &b->machine, diff, len))
		return 1;
	if ((what & P2PDMA_CMP_NAMES) && !str_eq(a->description, b->description))
		return differ(diff, len, "description differs");
	return 0;
}

P2PDMA_EXPORT bool p2pdma_topo_equal(const struct p2pdma_topo *a,
				     const struct p2pdma_topo *b,
				     unsigned int what, char *diff, size_t len)
{
	if (diff && len)
		diff[0] = '\0';
	return topo_differ(a, b, what, diff, len) == 0;
}

/* --- accessors --- */

P2PDMA_EXPORT size_t p2pdma_topo_num_devs(const struct p2pdma_topo *topo)
{
	return topo->ndevs;
}

P2PDMA_EXPORT struct p2pdma_dev *p2pdma_topo_dev(const struct p2pdma_topo *topo,
						 size_t i)
{
	return i < topo->ndevs ? topo->devs[i] : NULL;
}

P2PDMA_EXPORT struct p2pdma_dev *p2pdma_topo_find(const struct p2pdma_topo *topo,
						  const char *bdf)
{
	uint32_t domain;
	uint8_t bus, devfn;

	if (p2pdma_parse_bdf(bdf, &domain, &bus, &devfn))
		return NULL;
	return p2pdma_topo_lookup(topo, domain, bus, devfn);
}

P2PDMA_EXPORT size_t p2pdma_topo_num_host_bridges(const struct p2pdma_topo *topo)
{
	return topo->nhbs;
}

P2PDMA_EXPORT const struct p2pdma_host_bridge *
p2pdma_topo_host_bridge(const struct p2pdma_topo *topo, size_t i)
{
	return i < topo->nhbs ? &topo->hbs[i] : NULL;
}

P2PDMA_EXPORT void p2pdma_host_bridge_get_info(const struct p2pdma_host_bridge *hb,
					       struct p2pdma_host_bridge_info *info)
{
	memset(info, 0, sizeof(*info));
	info->domain = hb->domain;
	info->bus = hb->bus;
	info->bus_end = hb->bus_end;
	info->hostdev = hb->hostdev;
	snprintf(info->name, sizeof(info->name), "pci%04x:%02x", hb->domain,
		 hb->bus);
}

P2PDMA_EXPORT void p2pdma_dev_get_info(const struct p2pdma_dev *d,
				       struct p2pdma_dev_info *out, size_t size)
{
	struct p2pdma_dev_info info;

	memset(&info, 0, sizeof(info));
	info.domain = d->domain;
	info.bus = d->bus;
	info.dev = d->devfn >> 3;
	info.fn = d->devfn & 7;
	memcpy(info.bdf, d->name, sizeof(info.bdf));
	info.vendor = d->vendor;
	info.device = d->device;
	info.subvendor = d->subvendor;
	info.subdevice = d->subdevice;
	info.class_code = d->class_code;
	info.revision = d->revision;
	info.header_type = d->header_type;
	info.multifunction = d->multifunction;
	info.is_bridge = p2pdma_dev_is_bridge(d);
	info.pcie_type = d->pcie_type;
	info.secondary = d->secondary;
	info.subordinate = d->subordinate;
	info.acs_state = d->acs_state;
	info.acs_cap = d->acs_cap;
	info.acs_ctrl = d->acs_ctrl;
	info.is_vf = d->is_vf;
	info.physfn = d->physfn;
	info.sriov_total = d->sriov_total;
	info.sriov_num = d->sriov_num;
	info.iommu_group = d->iommu_group;
	info.numa_node = d->numa_node;
	info.driver = d->driver;
	info.vendor_name = d->vendor_name;
	info.device_name = d->device_name;
	info.label = d->label;
	info.link = d->link;
	info.p2pmem = d->p2pmem;
	memcpy(info.bars, d->bars, sizeof(info.bars));
	info.upstream = d->upstream;
	info.host_bridge = d->hb;
	info.local_cpulist = d->local_cpulist;
	memcpy(out, &info, size < sizeof(info) ? size : sizeof(info));
}

P2PDMA_EXPORT const char *p2pdma_dev_name(const struct p2pdma_dev *dev)
{
	return dev->name;
}

P2PDMA_EXPORT const char *p2pdma_topo_name(const struct p2pdma_topo *topo)
{
	return topo->name ? topo->name : "live";
}

P2PDMA_EXPORT enum p2pdma_source_kind
p2pdma_topo_source(const struct p2pdma_topo *topo)
{
	return topo->source;
}

P2PDMA_EXPORT void p2pdma_topo_machine(const struct p2pdma_topo *topo,
				       struct p2pdma_machine_info *info)
{
	info->cpu_vendor = topo->machine.cpu_vendor;
	info->cpu_family = topo->machine.cpu_family;
	info->cpu_model = topo->machine.cpu_model;
	info->kernel = topo->machine.kernel;
	info->cmdline = topo->machine.cmdline;
	info->iommu = topo->machine.iommu;
	info->arch = topo->machine.arch;
}

P2PDMA_EXPORT int p2pdma_topo_set_acs_ctrl(struct p2pdma_dev *dev, uint16_t ctrl)
{
	if (dev->topo && dev->topo->sealed)
		return p2pdma_err(dev->topo->ctx, -EPERM,
				  "%s: the topology is sealed; change a clone (p2pdma_topo_clone())",
				  dev->name);
	if (dev->acs_state != P2PDMA_ACS_PRESENT)
		return -ENODEV;
	dev->acs_ctrl = ctrl;
	return 0;
}

P2PDMA_EXPORT void p2pdma_topo_seal(struct p2pdma_topo *topo)
{
	topo->sealed = true;
}

P2PDMA_EXPORT bool p2pdma_topo_sealed(const struct p2pdma_topo *topo)
{
	return topo->sealed;
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = p2pdma_strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int machine_dup(struct p2pdma_machine *dst,
		       const struct p2pdma_machine *src)
{
	*dst = *src;
	dst->cpu_vendor = dst->cpu_model = dst->kernel = dst->cmdline =
		dst->arch = NULL;
	if (dup_str(&dst->cpu_vendor, src->cpu_vendor) ||
	    dup_str(&dst->cpu_model, src->cpu_model) ||
	    dup_str(&dst->kernel, src->kernel) ||
	    dup_str(&dst->cmdline, src->cmdline) ||
	    dup_str(&dst->arch, src->arch))
		return -ENOMEM;
	return 0;
}

/* @p, a pointer into @from's functions, as the same function of @to. */
static struct p2pdma_dev *remap(const struct p2pdma_topo *to,
				const struct p2pdma_dev *p)
{
	return p ? to->devs[p->index] : NULL;
}

P2PDMA_EXPORT int p2pdma_topo_clone(const struct p2pdma_topo *topo,
				    struct p2pdma_topo **out)
{
	struct p2pdma_topo *c;
	uint32_t i;

	*out = NULL;
	if (!topo->finalized)
		return p2pdma_err(topo->ctx, -EINVAL,
				  "clone: the topology is not finalized");
	c = p2pdma_topo_alloc(topo->ctx, topo->source, topo->name);
	if (!c)
		goto nomem;
	c->lineage = topo->lineage;
	if (dup_str(&c->description, topo->description) ||
	    machine_dup(&c->machine, &topo->machine))
		goto nomem;
	c->devs = calloc(topo->ndevs ? topo->ndevs : 1, sizeof(*c->devs));
	c->hbs = calloc(topo->nhbs ? topo->nhbs : 1, sizeof(*c->hbs));
	if (!c->devs || !c->hbs)
		goto nomem;
	c->cap_devs = topo->ndevs ? topo->ndevs : 1;
	/* Strings first with the struct copy, pointers once all exist. */
	for (i = 0; i < topo->ndevs; i++) {
		const struct p2pdma_dev *s = topo->devs[i];
		struct p2pdma_dev *d = malloc(sizeof(*d));

		if (!d)
			goto nomem;
		*d = *s;
		d->driver = d->label = d->vendor_name = d->device_name = NULL;
		d->local_cpulist = NULL;
		c->devs[c->ndevs++] = d;
		d->topo = c;
		if (dup_str(&d->driver, s->driver) ||
		    dup_str(&d->local_cpulist, s->local_cpulist) ||
		    dup_str(&d->label, s->label) ||
		    dup_str(&d->vendor_name, s->vendor_name) ||
		    dup_str(&d->device_name, s->device_name))
			goto nomem;
	}
	c->nhbs = topo->nhbs;
	for (i = 0; i < topo->nhbs; i++) {
		c->hbs[i] = topo->hbs[i];
		c->hbs[i].hostdev = remap(c, topo->hbs[i].hostdev);
		c->hbs[i].first = remap(c, topo->hbs[i].first);
	}
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *d = c->devs[i];

		d->bus_self = remap(c, d->bus_self);
		d->upstream = remap(c, d->upstream);
		d->physfn = remap(c, d->physfn);
		d->hb = &c->hbs[d->hb->index];
	}
	c->finalized = true;
	c->sealed = false;
	*out = c;
	return 0;

nomem:
	p2pdma_topo_destroy(c);
	return p2pdma_err(topo->ctx, -ENOMEM, "clone: out of memory");
}

P2PDMA_EXPORT const char *p2pdma_pcie_type_name(int type)
{
	switch (type) {
	case P2PDMA_PCIE_ENDPOINT: return "endpoint";
	case P2PDMA_PCIE_LEGACY_ENDPOINT: return "legacy_endpoint";
	case P2PDMA_PCIE_ROOT_PORT: return "root_port";
	case P2PDMA_PCIE_UPSTREAM: return "upstream_port";
	case P2PDMA_PCIE_DOWNSTREAM: return "downstream_port";
	case P2PDMA_PCIE_PCIE_TO_PCI: return "pcie_to_pci_bridge";
	case P2PDMA_PCIE_PCI_TO_PCIE: return "pci_to_pcie_bridge";
	case P2PDMA_PCIE_RC_ENDPOINT: return "rc_endpoint";
	case P2PDMA_PCIE_RC_EVENT_COLLECTOR: return "rc_event_collector";
	case P2PDMA_PCIE_NONE: return "pci";
	default: return "unknown";
	}
}

P2PDMA_EXPORT const char *p2pdma_link_speed_name(unsigned int code)
{
	static const char *const names[] = {
		"unknown", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s",
		"64GT/s",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown";
}

/* --- CPU lists (local_cpulist) --- */

bool p2pdma_cpulist_valid(const char *s)
{
	long prev = -1;
	const char *p = s;

	if (!s || !*s || strlen(s) > P2PDMA_CPULIST_MAX)
		return false;
	for (;;) {
		char *end;
		long a, b;

		if (*p < '0' || *p > '9')
			return false;
		a = strtol(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			if (p[1] < '0' || p[1] > '9')
				return false;
			b = strtol(p + 1, &end, 10);
			p = end;
		}
		if (a > b || a <= prev || b > 1 << 22)
			return false;
		prev = b;
		if (!*p)
			return true;
		if (*p++ != ',')
			return false;
	}
}

char *p2pdma_cpulist_from_bitmap(const char *bitmap)
{
	uint32_t words[P2PDMA_CPULIST_MAX / 8];
	size_t n = 0, at = 0;
	const char *p = bitmap;
	char *out;
	long run = -1;
	unsigned int bit, nbits;

	if (!p)
		return NULL;
	/* Words, most significant first; an infinite set ("0xf...f,0x...")
	 * stops at its '.'. */
	for (;;) {
		char *end;
		unsigned long w;

		if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X') || !isxdigit((unsigned char)p[2]))
			return NULL;
		w = strtoul(p + 2, &end, 16);
		if (end - (p + 2) > 8 || n == sizeof(words) / sizeof(words[0]))
			return NULL;
		words[n++] = (uint32_t)w;
		p = end;
		if (!*p)
			break;
		if (*p++ != ',')
			return NULL;
	}
	out = malloc(P2PDMA_CPULIST_MAX + 1);
	if (!out)
		return NULL;
	out[0] = '\0';
	nbits = (unsigned int)n * 32;
	for (bit = 0; bit <= nbits; bit++) {
		bool set = bit < nbits && (words[n - 1 - bit / 32] >> (bit % 32) & 1);

		if (set && run < 0)
			run = bit;
		if (!set && run >= 0) {
			int w = (unsigned int)run == bit - 1 ?
				snprintf(out + at, P2PDMA_CPULIST_MAX + 1 - at, "%s%ld", at ? "," : "", run) :
				snprintf(out + at, P2PDMA_CPULIST_MAX + 1 - at, "%s%ld-%u", at ? "," : "", run, bit - 1);

			if (w < 0 || (size_t)w >= P2PDMA_CPULIST_MAX + 1 - at) {
				free(out);
				return NULL;
			}
			at += (size_t)w;
			run = -1;
		}
	}
	if (!at) {
		free(out);
		return NULL;
	}
	return out;
}
