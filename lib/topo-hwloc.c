// SPDX-License-Identifier: LGPL-2.1-or-later
/* topo-hwloc.c - topology source: an hwloc XML topology (lstopo --of xml), formats v1, v2, v3 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "input-private.h"
#include "names-private.h"
#include "topo-private.h"

/*
 * hwloc describes the PCI fabric as nested objects inside the CPU side of
 * the machine (hwloc's doc/hwloc.doxy "I/O devices", XML from hwloc's
 * topology-xml.c):
 *
 *   <object type="Bridge" bridge_type="0-1" bridge_pci="0000:[00-05]">   host bridge
 *     <object type="PCIDev" pci_busid="0000:00:00.0" pci_type="0600 [8086:29c0] [1af4:1100] 00"/>
 *     <object type="Bridge" bridge_type="1-1" bridge_pci="0000:[01-05]"
 *             pci_busid="0000:00:02.0" pci_type="0604 [1b36:000c] [1b36:0000] 00">  PCI bridge
 *       <object type="PCIDev" ...>
 *         <object type="OSDev" name="nvme0n1" osdev_type="0"/>            what the OS calls it
 *
 * pci_type is "CCCC [VVVV:DDDD] [SSSS:SSSS] RR", and from format 3.0 on
 * " PP" (prog-if) after it. OSDev types are an enum in formats 1 and 2
 * (0 block, 1 GPU, 2 network, 3 OpenFabrics, 4 DMA, 5 co-processor) and a
 * bit mask from 3.0 on (1 storage, 2 memory, 4 GPU, 8 co-processor,
 * 16 network, 32 OpenFabrics, 64 DMA).
 *
 * As for every source the hierarchy is taken from bus numbers (bridges'
 * bridge_pci), not from the nesting; the nesting is checked against them.
 * hwloc reads no ACS, port type or BAR: ACS is P2PDMA_ACS_UNKNOWN, the
 * rest unknown. The OS devices' names go into the function's label.
 *
 * The text is parsed by libxml2 with the network off, no DTD loaded and
 * no entity expanded (an entity reference in an attribute is refused).
 */

#define LABEL_MAX	256
#define MAX_WARNINGS	20

struct hx {
	struct p2pdma_ctx *ctx;
	const char *name;
	struct p2pdma_topo *topo;
	int version;		/* 1, 2 or 3 */
	bool names_on;
	unsigned int nwarn;
	unsigned int npci;	/* Bridge and PCIDev objects seen */
	/* The cpuset of the nearest CPU-side ancestor (Machine, Package,
	 * Group...) of the objects being walked: their local CPUs. */
	const char *cpuset;
};

static void warn(struct hx *hx, const xmlNode *n, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);

static void warn(struct hx *hx, const xmlNode *n, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	if (++hx->nwarn > MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p2pdma_log(hx->ctx, P2PDMA_LOG_WARNING, "%s:%ld: %s%s", hx->name, xmlGetLineNo(n), msg,
		   hx->nwarn == MAX_WARNINGS ? " (further warnings left out)" : "");
}

/*
 * An attribute's text, only if it is plain text: an entity reference
 * (which xmlGetProp() would expand) is an error, *@bad set.
 */
static const char *attr(const xmlNode *n, const char *name, bool *bad)
{
	const xmlAttr *a;

	for (a = n->properties; a; a = a->next) {
		if (strcmp((const char *)a->name, name))
			continue;
		if (!a->children)
			return "";
		if (a->children->type != XML_TEXT_NODE || a->children->next) {
			*bad = true;
			return NULL;
		}
		return (const char *)a->children->content;
	}
	return NULL;
}

static bool is_object(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, "object");
}

static int set_str(char **slot, const char *s)
{
	char *c = p2pdma_strdup(s);

	if (!c)
		return -ENOMEM;
	free(*slot);
	*slot = c;
	return 0;
}

/* "DDDD:BB:DD.F", exactly as hwloc writes it. */
static bool parse_busid(const char *s, uint32_t *dom, uint8_t *bus, uint8_t *devfn)
{
	unsigned int d, b, dv, f;
	int end = 0;

	if (!s || sscanf(s, "%x:%x:%x.%x%n", &d, &b, &dv, &f, &end) != 4 || s[end] ||
	    d > 0xfffffff || b > 0xff || dv > 0x1f || f > 7)
		return false;
	*dom = d;
	*bus = (uint8_t)b;
	*devfn = (uint8_t)(dv << 3 | f);
	return true;
}

static int add_label(struct p2pdma_dev *d, const char *osname)
{
	size_t have = d->label ? strlen(d->label) : 0, add = strlen(osname);
	char *l;

	if (!*osname || have + add + 3 > LABEL_MAX)
		return 0;
	l = realloc(d->label, have + add + 3);
	if (!l)
		return -ENOMEM;
	if (have) {
		memcpy(l + have, ", ", 2);
		have += 2;
	}
	memcpy(l + have, osname, add + 1);
	d->label = l;
	return 0;
}

/* An attribute's text fit for a one-line message: cut, control characters as '?'. */
static const char *clean(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static int err_at(struct hx *hx, const xmlNode *n, int err, const char *what, const char *detail)
{
	char buf[64];

	return p2pdma_err(hx->ctx, err, "%s:%ld: %s%s%s", hx->name, xmlGetLineNo(n), what,
			  detail ? ": " : "", detail ? clean(detail, buf, sizeof(buf)) : "");
}

/* A PCI function: a PCIDev, or the device side of a PCI-to-PCI bridge. */
static int add_function(struct hx *hx, const xmlNode *n, bool bridge,
			struct p2pdma_dev *parent_bridge, uint32_t parent_dom,
			int parent_bus, struct p2pdma_dev **out)
{
	bool bad = false;
	const char *busid = attr(n, "pci_busid", &bad);
	const char *type = attr(n, "pci_type", &bad);
	const xmlNode *c;
	struct p2pdma_dev *d;
	uint32_t dom, i;
	uint8_t bus, devfn;

	*out = NULL;
	if (bad)
		return err_at(hx, n, -EINVAL, "entity reference in an attribute", "not supported");
	if (!parse_busid(busid, &dom, &bus, &devfn))
		return err_at(hx, n, -EINVAL, "malformed or missing pci_busid",
			      busid ? busid : "(none)");
	for (i = 0; i < hx->topo->ndevs; i++) {
		d = hx->topo->devs[i];
		if (d->domain == dom && d->bus == bus && d->devfn == devfn)
			return err_at(hx, n, -EINVAL, "PCI function listed twice", busid);
	}
	d = p2pdma_topo_add_dev(hx->topo, dom, bus, devfn);
	if (!d)
		return p2pdma_err(hx->ctx, -ENOMEM, "%s: out of memory", hx->name);
	d->acs_state = P2PDMA_ACS_UNKNOWN;
	d->vendor = d->device = 0xffff;
	if (type) {
		unsigned int cls, v, dv, sv, sd, rev, pif = 0;
		int nf = sscanf(type, "%x [%x:%x] [%x:%x] %x %x", &cls, &v, &dv, &sv, &sd, &rev, &pif);

		if ((nf == 6 || nf == 7) && cls <= 0xffff && v <= 0xffff && dv <= 0xffff &&
		    sv <= 0xffff && sd <= 0xffff && rev <= 0xff && pif <= 0xff) {
			d->class_code = cls << 8 | pif;
			d->vendor = (uint16_t)v;
			d->device = (uint16_t)dv;
			d->subvendor = (uint16_t)sv;
			d->subdevice = (uint16_t)sd;
			d->revision = (uint8_t)rev;
		} else {
			char buf[64];

			warn(hx, n, "%s: unreadable pci_type \"%s\": IDs and class unknown", d->name,
			     clean(type, buf, sizeof(buf)));
		}
	} else {
		warn(hx, n, "%s: no pci_type: IDs and class unknown", d->name);
	}
	if (bridge)
		d->header_type = (d->class_code >> 8) == 0x0607 ? 2 : 1;

	/*
	 * The nesting must agree with the bus numbers: under a PCI bridge a
	 * function sits on its secondary bus (or, for a VF on a virtual bus,
	 * within its range); under a host bridge, within the host's range.
	 */
	if (parent_bridge && parent_bridge->secondary &&
	    (dom != parent_bridge->domain || bus < parent_bridge->secondary ||
	     bus > parent_bridge->subordinate))
		warn(hx, n, "%s sits under bridge %s, whose buses are %02x-%02x: the bus numbers win",
		     d->name, parent_bridge->name, parent_bridge->secondary,
		     parent_bridge->subordinate);
	else if (!parent_bridge && parent_bus >= 0 && dom != parent_dom)
		warn(hx, n, "%s sits under a host bridge of domain %04x", d->name, parent_dom);

	/* Names hwloc recorded (PCIVendor/PCIDevice), and the OS devices'. */
	for (c = n->children; c; c = c->next) {
		const char *nm, *val;
		int ret = 0;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)c->name, "info") && hx->names_on) {
			nm = attr(c, "name", &bad);
			val = attr(c, "value", &bad);
			if (bad)
				return err_at(hx, c, -EINVAL, "entity reference in an attribute",
					      "not supported");
			if (nm && val && !strcmp(nm, "PCIVendor"))
				ret = set_str(&d->vendor_name, val);
			else if (nm && val && !strcmp(nm, "PCIDevice"))
				ret = set_str(&d->device_name, val);
		} else if (is_object(c)) {
			const char *t = attr(c, "type", &bad);

			nm = attr(c, "name", &bad);
			if (bad)
				return err_at(hx, c, -EINVAL, "entity reference in an attribute",
					      "not supported");
			if (t && !strcmp(t, "OSDev") && nm)
				ret = add_label(d, nm);
		}
		if (ret)
			return p2pdma_err(hx->ctx, ret, "%s: out of memory", hx->name);
	}
	if (hx->cpuset) {
		/* Empty, infinite or malformed sets leave it unknown. */
		d->local_cpulist = p2pdma_cpulist_from_bitmap(hx->cpuset);
	}
	*out = d;
	return 0;
}

/*
 * Walk every object: I/O objects hang below CPU-side ones (Machine,
 * Package, NUMANode, Group...). libxml2 bounds the nesting (256 levels).
 */
static int walk(struct hx *hx, const xmlNode *n, struct p2pdma_dev *parent_bridge,
		uint32_t parent_dom, int parent_bus)
{
	const xmlNode *c;
	int ret;

	for (c = n->children; c; c = c->next) {
		struct p2pdma_dev *d = NULL, *pb = parent_bridge;
		uint32_t pdom = parent_dom;
		int pbus = parent_bus;
		bool bad = false;
		const char *type;

		if (!is_object(c))
			continue;
		type = attr(c, "type", &bad);
		if (bad)
			return err_at(hx, c, -EINVAL, "entity reference in an attribute", "not supported");
		if (!type)
			return err_at(hx, c, -EINVAL, "object without a type", NULL);
		if (!strcmp(type, "Bridge")) {
			const char *bt = attr(c, "bridge_type", &bad);
			const char *bp = attr(c, "bridge_pci", &bad);
			unsigned int up = 0, down = 0, dom = 0, sec = 0, sub = 0;
			int end = 0;
			bool have_range;

			if (bad)
				return err_at(hx, c, -EINVAL, "entity reference in an attribute",
					      "not supported");
			hx->npci++;
			if (!bt || sscanf(bt, "%u-%u%n", &up, &down, &end) != 2 || bt[end] || up > 1 ||
			    down != 1)
				return err_at(hx, c, -EINVAL, "malformed or missing bridge_type",
					      bt ? bt : "(none)");
			end = 0;
			have_range = bp && sscanf(bp, "%x:[%x-%x]%n", &dom, &sec, &sub, &end) == 3 &&
				     !bp[end] && dom <= 0xfffffff && sec <= 0xff && sub <= 0xff;
			if (bp && !have_range)
				return err_at(hx, c, -EINVAL, "malformed bridge_pci", bp);
			if (up == 0) {
				/* Host bridge: no function of its own; its range holds the root bus. */
				pb = NULL;
				pdom = dom;
				pbus = have_range ? (int)sec : -1;
			} else {
				ret = add_function(hx, c, true, parent_bridge, parent_dom, parent_bus, &d);
				if (ret)
					return ret;
				if (!have_range)
					return err_at(hx, c, -EINVAL,
						      "PCI bridge without bridge_pci (its bus range): "
						      "the functions below it cannot be placed", d->name);
				if (dom != d->domain)
					return err_at(hx, c, -EINVAL, "bridge_pci in another domain", bp);
				d->secondary = (uint8_t)sec;
				d->subordinate = (uint8_t)sub;
				d->primary = d->bus;
				pb = d;
			}
		} else if (!strcmp(type, "PCIDev")) {
			hx->npci++;
			ret = add_function(hx, c, false, parent_bridge, parent_dom, parent_bus, &d);
			if (ret)
				return ret;
		}
		{
			const char *saved = hx->cpuset, *cs = NULL;

			if (strcmp(type, "Bridge") && strcmp(type, "PCIDev") && strcmp(type, "OSDev") &&
			    strcmp(type, "Misc"))
				cs = attr(c, "cpuset", &bad);
			if (cs && !bad)
				hx->cpuset = cs;
			ret = walk(hx, c, pb, pdom, pbus);
			hx->cpuset = saved;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int load_xml(struct p2pdma_ctx *ctx, const char *text, size_t len,
		    const char *name, struct p2pdma_topo **out)
{
	const char *names_param = p2pdma_ctx_get_param(ctx, "names");
	struct hx hx = { .ctx = ctx, .name = name };
	xmlParserCtxtPtr pc;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	int ret = 0;

	*out = NULL;
	if (len > INT32_MAX)
		return p2pdma_err(ctx, -EFBIG, "%s: too large", name);
	hx.names_on = !(names_param && !strcmp(names_param, "0"));
	xmlInitParser();
	pc = xmlNewParserCtxt();
	if (!pc)
		return p2pdma_err(ctx, -ENOMEM, "%s: out of memory", name);
	/* No network, no DTD, no entity substitution, and nothing printed. */
	doc = xmlCtxtReadMemory(pc, text, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(pc);
		char msg[256] = "not well-formed XML";
		size_t l;

		if (e && e->message) {
			/* libxml2 adds lines (the bytes it choked on): keep the first. */
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\r\n")] = '\0';
			l = strlen(msg);
			while (l && (msg[l - 1] == ' ' || msg[l - 1] == '!' || msg[l - 1] == ','))
				msg[--l] = '\0';
		}
		ret = p2pdma_err(ctx, -EINVAL, "%s:%d: %s (not an hwloc XML topology?)", name,
				 e ? e->line : 0, msg);
		xmlFreeParserCtxt(pc);
		return ret;
	}
	xmlFreeParserCtxt(pc);
	root = xmlDocGetRootElement(doc);
	if (doc->intSubset && doc->intSubset->children) {
		ret = p2pdma_err(ctx, -EINVAL, "%s: an internal DTD subset (entity declarations) "
				 "is not supported: hwloc writes none", name);
		goto out;
	}
	if (!root || strcmp((const char *)root->name, "topology")) {
		ret = p2pdma_err(ctx, -EINVAL, "%s:%ld: root element <%s>, not <topology>: not an hwloc XML topology",
				 name, root ? xmlGetLineNo(root) : 0L,
				 root ? (const char *)root->name : "(none)");
		goto out;
	}
	{
		bool bad = false;
		const char *v = attr(root, "version", &bad);

		/* hwloc 1.x wrote no version; 2.x "2.0"; 3.x "3.0". */
		hx.version = !v ? 1 : !strncmp(v, "2.", 2) ? 2 : !strncmp(v, "3.", 2) ? 3 : 0;
		if (bad || !hx.version) {
			ret = p2pdma_err(ctx, -EINVAL, "%s:%ld: hwloc XML format \"%s\" not known "
					 "(versions 1, 2.0 and 3.0 are)", name, xmlGetLineNo(root),
					 v ? v : "?");
			goto out;
		}
	}
	hx.topo = p2pdma_topo_alloc(ctx, P2PDMA_SRC_HWLOC, name);
	if (!hx.topo) {
		ret = p2pdma_err(ctx, -ENOMEM, "%s: out of memory", name);
		goto out;
	}
	ret = walk(&hx, root, NULL, 0, -1);
	if (!ret && !hx.npci)
		ret = p2pdma_err(ctx, -EINVAL,
				 "%s: no PCI objects: export the topology with its I/O "
				 "(lstopo --whole-io --of xml)", name);
	if (!ret)
		ret = p2pdma_topo_finalize(hx.topo, name);
	if (!ret)
		ret = p2pdma_names_fill(hx.topo);
	if (ret == -ENOMEM && !p2pdma_ctx_error(ctx)[0])
		p2pdma_err(ctx, ret, "%s: out of memory", name);
out:
	xmlFreeDoc(doc);
	if (ret) {
		p2pdma_topo_destroy(hx.topo);
		return ret;
	}
	*out = hx.topo;
	return 0;
}

P2PDMA_EXPORT int p2pdma_topo_load_hwloc_string(struct p2pdma_ctx *ctx, const char *text,
						const char *name, struct p2pdma_topo **out)
{
	return p2pdma_input_parse_string(ctx, text, name, load_xml, out);
}

P2PDMA_EXPORT int p2pdma_topo_load_hwloc(struct p2pdma_ctx *ctx, const char *path,
					 struct p2pdma_topo **out)
{
	/* XML may be one long line: no line limit, only size. */
	static const struct p2pdma_input_limits lim = {
		.text = true, .what = "an hwloc XML topology",
	};

	return p2pdma_input_parse_path(ctx, path, &lim, load_xml, out);
}
