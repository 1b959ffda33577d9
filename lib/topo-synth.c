// SPDX-License-Identifier: LGPL-2.1-or-later
/* topo-synth.c - synthetic fabrics for scale: host bridges, root ports, switch trees */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topo-private.h"

/*
 * A regular fabric, hwloc-synthetic style:
 *
 *   pciDDDD:BB --- 00.0 host bridge device (allow-listed or not)
 *              +-- RP 01.0 --- USP --- DSP --- USP --- DSP --- EP 00.0..
 *              +-- RP 02.0      \_ DSP ...       (sw switch levels,
 *              ...                                ds DSPs per switch,
 *                                                 ep functions per leaf bus)
 *
 * Root ports and downstream ports carry an ACS capability (SV|TB|RR|CR|UF
 * advertised); a fraction "acs" of them has RR|CR enabled, as an IOMMU
 * would leave them (doc/kernel-model.md §2.7). Upstream ports and endpoints have no ACS.
 * No BARs are assigned: routing does not look at them.
 */

struct synth {
	unsigned int hb, rp, sw, ds, ep;
	double acs, listed, cmb;
	uint64_t seed;
	uint64_t state;
	struct p2pdma_topo *topo;
	unsigned int nep;
};

static double synth_rand(struct synth *s)
{
	uint64_t z = (s->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static int parse_spec(struct p2pdma_ctx *ctx, const char *spec, struct synth *s)
{
	char *copy, *tok, *save = NULL;
	int ret = 0;

	copy = p2pdma_strdup(spec);
	if (!copy)
		return p2pdma_err(ctx, -ENOMEM, "synth: out of memory");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end;
		unsigned long u;
		double f;

		if (!eq) {
			ret = p2pdma_err(ctx, -EINVAL,
					 "synth: '%s' is not KEY=VALUE", tok);
			break;
		}
		*eq++ = 0;
		if (!strcmp(tok, "acs") || !strcmp(tok, "listed") ||
		    !strcmp(tok, "cmb")) {
			f = strtod(eq, &end);
			if (end == eq || *end || !(f >= 0.0 && f <= 1.0)) {
				ret = p2pdma_err(ctx, -EINVAL,
						 "synth: %s=%s: want a fraction 0..1",
						 tok, eq);
				break;
			}
			if (tok[0] == 'a')
				s->acs = f;
			else if (tok[0] == 'l')
				s->listed = f;
			else
				s->cmb = f;
			continue;
		}
		errno = 0;
		u = strtoul(eq, &end, 0);
		if (end == eq || *end || errno) {
			ret = p2pdma_err(ctx, -EINVAL, "synth: %s=%s: want a number",
					 tok, eq);
			break;
		}
		if (!strcmp(tok, "seed")) {
			s->seed = u;
			continue;
		}
		{
			const struct { const char *key; unsigned int *field;
				       unsigned long lo, hi; } keys[] = {
				{ "hb", &s->hb, 1, 4096 },
				{ "rp", &s->rp, 1, 31 },
				{ "sw", &s->sw, 0, 8 },
				{ "ds", &s->ds, 1, 32 },
				{ "ep", &s->ep, 1, 256 },
			};
			size_t k;

			for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				if (!strcmp(tok, keys[k].key))
					break;
			if (k < sizeof(keys) / sizeof(keys[0])) {
				if (u < keys[k].lo || u > keys[k].hi) {
					ret = p2pdma_err(ctx, -EINVAL,
							 "synth: %s=%lu out of range %lu..%lu",
							 tok, u, keys[k].lo, keys[k].hi);
					break;
				}
				*keys[k].field = (unsigned int)u;
				continue;
			}
		}
		ret = p2pdma_err(ctx, -EINVAL,
				 "synth: unknown key '%s' (keys: hb rp sw ds ep acs listed cmb seed)",
				 tok);
		break;
	}
	free(copy);
	return ret;
}

/* Buses a port consumes for what hangs below it, its secondary included. */
static unsigned long buses_below(const struct synth *s, unsigned int level)
{
	if (!level)
		return 1;
	return 2 + s->ds * buses_below(s, level - 1);
}

static struct p2pdma_dev *add_bridge(struct synth *s, uint32_t domain,
				     uint8_t bus, uint8_t devfn, int type,
				     uint16_t vendor, uint16_t device)
{
	struct p2pdma_dev *d = p2pdma_topo_add_dev(s->topo, domain, bus, devfn);

	if (!d)
		return NULL;
	d->vendor = vendor;
	d->device = device;
	d->class_code = 0x060400;
	d->header_type = 1;
	d->pcie_type = (int8_t)type;
	d->primary = bus;
	d->link.speed = d->link.max_speed = 4;
	d->link.width = d->link.max_width = 16;
	if (type == P2PDMA_PCIE_ROOT_PORT || type == P2PDMA_PCIE_DOWNSTREAM) {
		d->acs_state = P2PDMA_ACS_PRESENT;
		d->acs_pos = 0x100;
		d->acs_cap = P2PDMA_ACS_SV | P2PDMA_ACS_TB | P2PDMA_ACS_RR |
			     P2PDMA_ACS_CR | P2PDMA_ACS_UF;
		if (synth_rand(s) < s->acs)
			d->acs_ctrl = P2PDMA_ACS_SV | P2PDMA_ACS_RR |
				      P2PDMA_ACS_CR | P2PDMA_ACS_UF;
	}
	return d;
}

static int add_endpoints(struct synth *s, uint32_t domain, uint8_t bus)
{
	/* A mix of NVMe drives, GPUs and NICs, round robin. */
	static const struct { uint16_t vendor, device; uint32_t class_code;
			      const char *driver; } kinds[] = {
		{ 0x144d, 0xa808, 0x010802, "nvme" },
		{ 0x10de, 0x20b0, 0x030200, "nvidia" },
		{ 0x15b3, 0x101b, 0x020000, "mlx5_core" },
	};
	unsigned int i;

	for (i = 0; i < s->ep; i++) {
		unsigned int k = s->nep++ % 3;
		struct p2pdma_dev *d = p2pdma_topo_add_dev(s->topo, domain, bus,
							   (uint8_t)i);

		if (!d)
			return -ENOMEM;
		d->vendor = kinds[k].vendor;
		d->device = kinds[k].device;
		d->class_code = kinds[k].class_code;
		d->pcie_type = P2PDMA_PCIE_ENDPOINT;
		/* More than one function on this device number. */
		d->multifunction = s->ep - (i & ~7u) > 1;
		d->driver = p2pdma_strdup(kinds[k].driver);
		if (!d->driver)
			return -ENOMEM;
		d->link.speed = d->link.max_speed = 4;
		d->link.width = d->link.max_width = 16;
		if (k == 0 && synth_rand(s) < s->cmb) {
			/* An NVMe CMB the driver registered and published. */
			d->p2pmem.present = true;
			d->p2pmem.published = true;
			d->p2pmem.size = d->p2pmem.available = 64ULL << 20;
		}
	}
	return 0;
}

/* The subtree below @port, whose secondary bus is the next free one. */
static int add_below(struct synth *s, uint32_t domain, unsigned int *next,
		     struct p2pdma_dev *port, unsigned int level)
{
	struct p2pdma_dev *usp;
	unsigned int i;
	int ret;

	port->secondary = (uint8_t)(*next)++;
	if (!level) {
		ret = add_endpoints(s, domain, port->secondary);
		port->subordinate = port->secondary;
		return ret;
	}
	usp = add_bridge(s, domain, port->secondary, 0, P2PDMA_PCIE_UPSTREAM,
			 0x10b5, 0x8747);
	if (!usp)
		return -ENOMEM;
	usp->secondary = (uint8_t)(*next)++;
	for (i = 0; i < s->ds; i++) {
		struct p2pdma_dev *dsp = add_bridge(s, domain, usp->secondary,
						    (uint8_t)(i << 3),
						    P2PDMA_PCIE_DOWNSTREAM,
						    0x10b5, 0x8747);

		if (!dsp)
			return -ENOMEM;
		ret = add_below(s, domain, next, dsp, level - 1);
		if (ret)
			return ret;
	}
	usp->subordinate = (uint8_t)(*next - 1);
	port->subordinate = (uint8_t)(*next - 1);
	return 0;
}

/**
 * p2pdma_topo_synth() - build a synthetic fabric
 * @ctx: library context
 * @spec: "KEY=VALUE,...": hb host bridges (1), rp root ports per host
 *        bridge (4), sw switch levels below each root port (2), ds
 *        downstream ports per switch (4), ep endpoint functions on each
 *        leaf bus (1), acs fraction of root/downstream ports with RR|CR
 *        enabled (0.5), listed fraction of host bridges whose 00.0 device
 *        is on the allow list (0.5), cmb fraction of NVMe functions with
 *        published p2pmem (0.25), seed (1)
 * @out: the new topology
 *
 * Return: 0, -EINVAL for a bad spec, -ERANGE when the buses do not fit,
 * -ENOMEM.
 */
P2PDMA_EXPORT int p2pdma_topo_synth(struct p2pdma_ctx *ctx, const char *spec,
				    struct p2pdma_topo **out)
{
	struct synth s = {
		.hb = 1, .rp = 4, .sw = 2, .ds = 4, .ep = 1,
		.acs = 0.5, .listed = 0.5, .cmb = 0.25, .seed = 1,
	};
	unsigned long per_hb;
	unsigned int h, i;
	bool one_domain;
	int ret;

	*out = NULL;
	ret = parse_spec(ctx, spec ? spec : "", &s);
	if (ret)
		return ret;
	s.state = s.seed;
	per_hb = 1 + s.rp * buses_below(&s, s.sw);
	if (per_hb > 256)
		return p2pdma_err(ctx, -ERANGE,
				  "synth: %lu buses per host bridge do not fit in 256",
				  per_hb);
	/* Several root buses share domain 0 when they fit, as on most
	 * multi-socket servers; otherwise one PCI segment each. */
	one_domain = per_hb * s.hb <= 256;
	s.topo = p2pdma_topo_alloc(ctx, P2PDMA_SRC_SYNTH, spec ? spec : "synth");
	if (!s.topo)
		return p2pdma_err(ctx, -ENOMEM, "synth: out of memory");
	for (h = 0; h < s.hb; h++) {
		uint32_t domain = one_domain ? 0 : h;
		unsigned int root = one_domain ? (unsigned int)(h * per_hb) : 0;
		unsigned int next = root + 1;
		struct p2pdma_dev *hd;
		bool listed = synth_rand(&s) < s.listed;

		hd = p2pdma_topo_add_dev(s.topo, domain, (uint8_t)root, 0);
		if (!hd)
			goto nomem;
		/* Skylake-E 00.0 (allow list, any host bridge) or a device
		 * no kernel lists. */
		hd->vendor = 0x8086;
		hd->device = listed ? 0x2020 : 0x1237;
		hd->class_code = 0x060000;
		for (i = 0; i < s.rp; i++) {
			struct p2pdma_dev *rp;

			rp = add_bridge(&s, domain, (uint8_t)root,
					(uint8_t)((i + 1) << 3),
					P2PDMA_PCIE_ROOT_PORT, 0x8086, 0x2030);
			if (!rp)
				goto nomem;
			ret = add_below(&s, domain, &next, rp, s.sw);
			if (ret)
				goto fail;
		}
	}
	ret = p2pdma_topo_finalize(s.topo, "synth");
	if (ret) {
		p2pdma_topo_destroy(s.topo);
		return ret;
	}
	*out = s.topo;
	return 0;

nomem:
	ret = -ENOMEM;
fail:
	p2pdma_topo_destroy(s.topo);
	return p2pdma_err(ctx, ret, "synth: %s", ret == -ENOMEM ?
			  "out of memory" : "cannot build the fabric");
}
