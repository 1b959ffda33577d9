// SPDX-License-Identifier: GPL-2.0-or-later
/* graph.c - the PCI hierarchy as a Graphviz graph: islands, blocking ports, verdicts, collapsed copies */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <graphviz/gvc.h>

#include "cli-graph.h"
#include "cli-verdict.h"

/*
 * One drawable node: a host bridge (dev NULL) or a function. Children are
 * the functions whose pci_upstream_bridge() it is (for a host bridge: the
 * functions of its root bus), in enumeration order.
 */
struct gnode {
	const struct p2pdma_dev *dev;
	const struct p2pdma_host_bridge *hb;
	struct p2pdma_dev_info in;
	size_t *kids, nkids;
	bool keep;			/* survives --class/--vendor */
	uint64_t sig;			/* subtree signature: equal = drawn once */
	bool hidden;			/* drawn as part of an earlier sibling's "×N" */
	size_t copies;			/* drawn for this many identical siblings */
	size_t first_copy;		/* hidden: the sibling that represents it */
	int island;
	enum p2pdma_map_type t;		/* --provider: verdict as client */
	int dist;
};

struct graph {
	struct cli *cli;
	const struct cli_graph_opts *o;
	struct gnode *nodes;
	size_t n, nhb;
	struct p2pdma_islands *islands;
	Agraph_t *g;
};

/*
 * Under LeakSanitizer (the ASan build): Graphviz keeps caches of its own
 * until exit (libgvc's plugin and layout tables, fontconfig, pango, glib).
 * Our graph, made with libcgraph, is freed by agclose() and stays checked.
 */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libgvc.so\nleak:libfontconfig.so\nleak:libglib-2.0.so\n"
	       "leak:libpango\nleak:libcairo.so\nleak:libgd.so\n";
}

static const char *const island_colours[] = {
	"#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7",
	"#fccde5", "#bebada", "#80b1d3", "#d9d9d9", "#ccebc5", "#ffed6f",
};
#define NCOLOURS (sizeof(island_colours) / sizeof(island_colours[0]))

static const char *verdict_colour(enum p2pdma_map_type t)
{
	return t == P2PDMA_MAP_BUS_ADDR ? "#9fd99f" :
	       t == P2PDMA_MAP_THRU_HOST_BRIDGE ? "#ffd966" : "#f4a0a0";
}

void cli_xml_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		size_t len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
			     (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		size_t i;

		for (i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				len = 0;
		if (len > 1) {
			fwrite(p, 1, len, out);
			p += len;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', out); break;
		}
		p++;
	}
}

int cli_vendor_check(const char *spec)
{
	char buf[256], *tok, *save = NULL, *end;

	if (strlen(spec) >= sizeof(buf) || !*spec)
		return cli_error("--vendor: want hex vendor IDs such as 10de,15b3");
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncasecmp(tok, "0x", 2))
			tok += 2;
		if (strlen(tok) != 4 || (strtoul(tok, &end, 16), *end))
			return cli_error("--vendor '%s': want 4 hex digits, e.g. 10de (NVIDIA), 15b3 (Mellanox)",
					 tok);
	}
	return 0;
}

static bool vendor_match(uint16_t vendor, const char *spec)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strtoul(tok, NULL, 16) == vendor)
			return true;
	return false;
}

/* --- the model: nodes, parents, filters, signatures --- */

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct gnode *const *)a)[0]->dev;
	uintptr_t y = (uintptr_t)((const struct gnode *const *)b)[0]->dev;

	return x < y ? -1 : x > y;
}

/* The node of a function, by binary search over nodes sorted by address. */
static size_t node_of(struct gnode **sorted, size_t n, const struct p2pdma_dev *d,
		      struct gnode *base)
{
	struct gnode key = { .dev = d }, *kp = &key, **hit;

	hit = bsearch(&kp, sorted, n, sizeof(*sorted), cmp_ptr);
	return hit ? (size_t)(*hit - base) : SIZE_MAX;
}

static int add_kid(struct gnode *p, size_t k)
{
	size_t *kids = realloc(p->kids, (p->nkids + 1) * sizeof(*kids));

	if (!kids)
		return -ENOMEM;
	kids[p->nkids++] = k;
	p->kids = kids;
	return 0;
}

/* Host bridges first, then functions; each function under its parent. */
static int build(struct graph *gr)
{
	const struct p2pdma_topo *t = gr->cli->topo;
	size_t nd = p2pdma_topo_num_devs(t), i, h, p;
	struct gnode **sorted;

	gr->nhb = p2pdma_topo_num_host_bridges(t);
	gr->n = gr->nhb + nd;
	gr->nodes = calloc(gr->n + 1, sizeof(*gr->nodes));
	sorted = calloc(nd + 1, sizeof(*sorted));
	if (!gr->nodes || !sorted) {
		free(sorted);
		return -ENOMEM;
	}
	for (h = 0; h < gr->nhb; h++)
		gr->nodes[h].hb = p2pdma_topo_host_bridge(t, h);
	for (i = 0; i < nd; i++) {
		struct gnode *gn = &gr->nodes[gr->nhb + i];

		gn->dev = p2pdma_topo_dev(t, i);
		p2pdma_dev_get_info(gn->dev, &gn->in, sizeof(gn->in));
		gn->hb = gn->in.host_bridge;
		sorted[i] = gn;
	}
	qsort(sorted, nd, sizeof(*sorted), cmp_ptr);
	for (i = gr->nhb; i < gr->n; i++) {
		struct gnode *gn = &gr->nodes[i];

		p = gn->in.upstream ? node_of(sorted, nd, gn->in.upstream, gr->nodes) : SIZE_MAX;
		for (h = 0; p == SIZE_MAX && h < gr->nhb; h++)
			if (gr->nodes[h].hb == gn->hb)
				p = h;
		if (p != SIZE_MAX && add_kid(&gr->nodes[p], i)) {
			free(sorted);
			return -ENOMEM;
		}
	}
	free(sorted);
	return 0;
}

/* A function is kept if it matches the filters or a kept one is below it. */
static bool filter(struct graph *gr, size_t i)
{
	struct gnode *gn = &gr->nodes[i];
	bool keep = false;
	size_t k;

	for (k = 0; k < gn->nkids; k++)
		keep |= filter(gr, gn->kids[k]);
	if (gn->dev && (!gr->o->cls || cli_class_match(gn->in.class_code, gr->o->cls)) &&
	    (!gr->o->vendor || vendor_match(gn->in.vendor, gr->o->vendor)))
		keep = true;
	gn->keep = keep;
	return keep;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;	/* FNV-1a 64 */
	}
	return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = mix(h, (unsigned char)*s);
	return mix(h, 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* What the drawing of a node shows, and its subtree's signatures. */
static uint64_t signature(struct graph *gr, size_t i)
{
	struct gnode *gn = &gr->nodes[i];
	const struct p2pdma_dev_info *in = &gn->in;
	uint64_t h = 0xcbf29ce484222325ULL, *ks = calloc(gn->nkids + 1, sizeof(*ks));
	size_t k, m = 0;

	if (gn->dev) {
		h = mix(h, (uint64_t)in->vendor << 48 | (uint64_t)in->device << 32 | in->class_code);
		h = mix(h, (uint64_t)(in->pcie_type + 1) << 32 | (uint64_t)in->link.speed << 16 | in->link.width);
		h = mix(h, (uint64_t)in->acs_state << 32 | (in->acs_ctrl & P2PDMA_ACS_REDIR_MASK));
		h = mix(h, (uint64_t)in->is_vf << 2 | (uint64_t)in->p2pmem.present << 1 | (gn->island >= 0));
		h = mix_str(mix_str(h, in->driver), in->device_name);
		h = mix(h, gr->o->provider ? (uint64_t)(gn->dev == gr->o->provider) << 40 |
			(uint64_t)gn->t << 32 | (uint32_t)gn->dist : 0);
	} else {
		struct p2pdma_host_bridge_info hi;
		struct p2pdma_dev_info hd = { 0 };

		p2pdma_host_bridge_get_info(gn->hb, &hi);
		if (hi.hostdev)
			p2pdma_dev_get_info(hi.hostdev, &hd, sizeof(hd));
		h = mix(h, 1ULL << 63 | (uint64_t)!!hi.hostdev << 32 |
			(uint64_t)hd.vendor << 16 | hd.device);
	}
	if (!ks)		/* out of memory: never equal to another */
		h = mix(h, i);
	for (k = 0; ks && k < gn->nkids; k++)
		if (gr->nodes[gn->kids[k]].keep)
			ks[m++] = signature(gr, gn->kids[k]);
	qsort(ks, m, sizeof(*ks), cmp_u64);
	for (k = 0; k < m; k++)
		h = mix(h, ks[k]);
	free(ks);
	gn->sig = h;
	return h;
}

/* Identical kept siblings are drawn once, as "×N" (not with --expand). */
static void collapse(struct graph *gr, size_t *sibs, size_t n)
{
	size_t a, b;

	for (a = 0; a < n; a++) {
		struct gnode *x = &gr->nodes[sibs[a]];

		if (!x->keep || x->hidden)
			continue;
		x->copies = 1;
		x->first_copy = sibs[a];
		for (b = a + 1; !gr->o->expand && b < n; b++) {
			struct gnode *y = &gr->nodes[sibs[b]];

			if (y->keep && !y->hidden && y->sig == x->sig) {
				y->hidden = true;
				y->first_copy = sibs[a];
				x->copies++;
			}
		}
		collapse(gr, x->kids, x->nkids);
	}
}

/* The other members of a representative's group, for its label. */
static void also_text(struct graph *gr, const size_t *sibs, size_t n, size_t rep, FILE *m)
{
	size_t i, shown = 0;

	for (i = 0; i < n; i++) {
		const struct gnode *y = &gr->nodes[sibs[i]];
		struct p2pdma_host_bridge_info hi;

		if (sibs[i] == rep || !y->hidden || y->first_copy != rep)
			continue;
		if (shown == 3) {
			fputs(", ...", m);
			return;
		}
		p2pdma_host_bridge_get_info(y->hb, &hi);
		fputs(shown++ ? ", " : "also ", m);
		cli_xml_escape(m, y->dev ? y->in.bdf : hi.name);
	}
}

static const char *type_name(const struct p2pdma_dev_info *in)
{
	if (in->is_vf)
		return "Virtual Function";
	switch (in->pcie_type) {
	case P2PDMA_PCIE_ROOT_PORT: return "Root Port";
	case P2PDMA_PCIE_UPSTREAM: return "Switch Upstream Port";
	case P2PDMA_PCIE_DOWNSTREAM: return "Switch Downstream Port";
	case P2PDMA_PCIE_PCIE_TO_PCI: return "PCIe-to-PCI bridge";
	case P2PDMA_PCIE_PCI_TO_PCIE: return "PCI-to-PCIe bridge";
	case P2PDMA_PCIE_RC_ENDPOINT: return "Root Complex Integrated Endpoint";
	case P2PDMA_PCIE_RC_EVENT_COLLECTOR: return "Root Complex Event Collector";
	case P2PDMA_PCIE_ENDPOINT: return "Endpoint";
	case P2PDMA_PCIE_LEGACY_ENDPOINT: return "Legacy Endpoint";
	default: return in->is_bridge ? "PCI bridge" : "PCI function";
	}
}

/* "NVIDIA Corporation GH100 [...]", cut to a drawable length. */
static void name_text(const struct p2pdma_dev_info *in, FILE *m)
{
	char name[256];
	size_t len;

	if (in->device_name || in->vendor_name)
		snprintf(name, sizeof(name), "%s%s%s", in->vendor_name ? in->vendor_name : "",
			 in->vendor_name && in->device_name ? " " : "",
			 in->device_name ? in->device_name : "");
	else
		snprintf(name, sizeof(name), "%04x:%04x", in->vendor, in->device);
	len = strlen(name);
	if (len > 46) {
		len = 43;
		while (len && ((unsigned char)name[len] & 0xc0) == 0x80)
			len--;
		strcpy(name + len, "...");
	}
	cli_xml_escape(m, name);
}

static void row(FILE *m, const char *open)
{
	fprintf(m, "<TR><TD>%s", open);
}

static void end_row(FILE *m, const char *close)
{
	fprintf(m, "%s</TD></TR>", close);
}

static bool blocks(const struct p2pdma_dev_info *in)
{
	return in->acs_state == P2PDMA_ACS_PRESENT && (in->acs_ctrl & P2PDMA_ACS_REDIR_MASK);
}

static void dev_label(struct graph *gr, size_t i, const size_t *sibs, size_t n, FILE *m)
{
	const struct gnode *gn = &gr->nodes[i];
	const struct p2pdma_dev_info *in = &gn->in;

	fputs("<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">", m);
	row(m, "<B>");
	cli_xml_escape(m, in->bdf);
	fputs("</B>", m);
	if (gn->copies > 1)
		fprintf(m, " <B>\xc3\x97%zu</B>", gn->copies);
	end_row(m, "");
	row(m, "<FONT POINT-SIZE=\"9\">");
	fputs(type_name(in), m);
	end_row(m, "</FONT>");
	row(m, "");
	name_text(in, m);
	end_row(m, "");
	if (in->link.width || in->driver) {
		row(m, "<FONT POINT-SIZE=\"9\">");
		if (in->link.width)
			fprintf(m, "%s x%u%s", p2pdma_link_speed_name(in->link.speed), in->link.width,
				in->driver ? "  " : "");
		cli_xml_escape(m, in->driver);
		end_row(m, "</FONT>");
	}
	if (blocks(in))
		fprintf(m, "<TR><TD><FONT COLOR=\"#b00000\"><B>ACS redirect%s%s%s</B></FONT></TD></TR>",
			in->acs_ctrl & P2PDMA_ACS_RR ? " RR" : "", in->acs_ctrl & P2PDMA_ACS_CR ? " CR" : "",
			in->acs_ctrl & P2PDMA_ACS_EC ? " EC" : "");
	else if (in->is_bridge && in->acs_state == P2PDMA_ACS_UNKNOWN)
		fputs("<TR><TD><FONT POINT-SIZE=\"9\">ACS unknown</FONT></TD></TR>", m);
	if (gr->o->provider && gn->dev == gr->o->provider)
		fputs("<TR><TD><B>provider</B></TD></TR>", m);
	else if (gr->o->provider)
		fprintf(m, "<TR><TD>%s, distance %d</TD></TR>", p2pdma_map_type_name(gn->t), gn->dist);
	else if (gn->island >= 0)
		fprintf(m, "<TR><TD><FONT POINT-SIZE=\"9\">P2P island %d</FONT></TD></TR>", gn->island + 1);
	if (gn->copies > 1) {
		row(m, "<FONT POINT-SIZE=\"8\">");
		also_text(gr, sibs, n, i, m);
		end_row(m, "</FONT>");
	}
	fputs("</TABLE>", m);
}

/* The allow-list state of a host bridge, as the tree command words it. */
static const char *hb_status(struct graph *gr, const struct p2pdma_host_bridge_info *hi,
			     bool *allowed)
{
	struct p2pdma_dev_info hd;
	const struct p2pdma_allow_entry *e;

	*allowed = false;
	if (p2pdma_policy_cpu_rule(gr->cli->pol)) {
		*allowed = true;
		return "any path allowed (AMD Zen CPU rule)";
	}
	if (!hi->hostdev)
		return "no device the allow list can check";
	p2pdma_dev_get_info(hi->hostdev, &hd, sizeof(hd));
	e = p2pdma_policy_allow_lookup(gr->cli->pol, hd.vendor, hd.device);
	*allowed = e != NULL;
	return !e ? "NOT on the P2PDMA allow list" :
	       (e->flags & P2PDMA_REQ_SAME_HOST_BRIDGE) ? "allow list: same host bridge only" :
	       "on the P2PDMA allow list";
}

static void hb_label(struct graph *gr, size_t i, const struct p2pdma_host_bridge_info *hi,
		     FILE *m)
{
	const struct gnode *gn = &gr->nodes[i];
	bool allowed;
	const char *st = hb_status(gr, hi, &allowed);

	fputs("<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">", m);
	row(m, "<B>");
	cli_xml_escape(m, hi->name);
	fputs(" host bridge</B>", m);
	if (gn->copies > 1)
		fprintf(m, " <B>\xc3\x97%zu</B>", gn->copies);
	end_row(m, "");
	if (hi->hostdev) {
		struct p2pdma_dev_info hd;

		p2pdma_dev_get_info(hi->hostdev, &hd, sizeof(hd));
		fprintf(m, "<TR><TD><FONT POINT-SIZE=\"9\">host device %04x:%04x</FONT></TD></TR>",
			hd.vendor, hd.device);
	}
	fprintf(m, "<TR><TD><FONT COLOR=\"%s\">%s</FONT></TD></TR>",
		allowed ? "#006000" : "#b00000", st);
	if (gn->copies > 1) {
		size_t *hbs = malloc(gr->nhb * sizeof(*hbs)), k;

		for (k = 0; hbs && k < gr->nhb; k++)
			hbs[k] = k;
		row(m, "<FONT POINT-SIZE=\"8\">");
		if (hbs)
			also_text(gr, hbs, gr->nhb, i, m);
		end_row(m, "</FONT>");
		free(hbs);
	}
	fputs("</TABLE>", m);
}

/* --- Graphviz --- */

static void set(void *obj, const char *name, const char *value)
{
	agsafeset(obj, (char *)name, (char *)value, (char *)"");
}

/* An HTML-like label (already escaped) on a node. */
static void set_html(Agraph_t *g, Agnode_t *n, const char *html)
{
	Agsym_t *sym = agattr(g, AGNODE, (char *)"label", (char *)"");
	char *s = agstrdup_html(g, (char *)html);

	agxset(n, sym, s);
	agstrfree(g, s);
}

/* Fill, border and SVG classes of a function's node. */
static void dev_style(struct graph *gr, const struct gnode *gn, Agnode_t *n)
{
	const struct p2pdma_dev_info *in = &gn->in;
	char cls[160], id[40], *p;
	const char *fill = in->is_bridge ? "#eeeeee" : "#ffffff";

	snprintf(cls, sizeof(cls), "function %s", in->is_bridge ? "bridge" : "endpoint");
	if (gr->o->provider && gn->dev == gr->o->provider) {
		strcat(cls, " provider");
		set(n, "peripheries", "2");
		set(n, "color", "#1f4e9c");
	} else if (gr->o->provider) {
		fill = verdict_colour(gn->t);
		strcat(cls, gn->t == P2PDMA_MAP_BUS_ADDR ? " verdict-bus_addr" :
		       gn->t == P2PDMA_MAP_THRU_HOST_BRIDGE ? " verdict-thru_host_bridge" :
		       " verdict-not_supported");
	} else if (gn->island >= 0) {
		fill = island_colours[(size_t)gn->island % NCOLOURS];
		snprintf(cls + strlen(cls), sizeof(cls) - strlen(cls), " island island-%d",
			 gn->island + 1);
	}
	if (blocks(in)) {
		strcat(cls, " acs-block");
		set(n, "color", "#b00000");
		set(n, "penwidth", "3");
	} else if (in->is_bridge && in->acs_state == P2PDMA_ACS_UNKNOWN) {
		strcat(cls, " acs-unknown");
		set(n, "style", "rounded,filled,dashed");
	}
	if (gn->copies > 1)
		strcat(cls, " collapsed");
	set(n, "fillcolor", fill);
	set(n, "class", cls);
	snprintf(id, sizeof(id), "dev_%s", in->bdf);
	for (p = id; *p; p++)
		if (*p == ':' || *p == '.')
			*p = '_';
	set(n, "id", id);
	set(n, "tooltip", in->bdf);
}

/* Draw node @i (a representative) and its subtree; returns its node. */
static Agnode_t *draw(struct graph *gr, size_t i, const size_t *sibs, size_t nsibs)
{
	struct gnode *gn = &gr->nodes[i];
	struct p2pdma_host_bridge_info hi;
	Agnode_t *n;
	char *html = NULL;
	size_t len = 0, k;
	FILE *m = open_memstream(&html, &len);

	if (!m)
		return NULL;
	p2pdma_host_bridge_get_info(gn->hb, &hi);
	n = agnode(gr->g, gn->dev ? (char *)gn->in.bdf : hi.name, 1);
	if (gn->dev) {
		dev_label(gr, i, sibs, nsibs, m);
		dev_style(gr, gn, n);
	} else {
		bool allowed;
		const char *why = hi.hostdev ? p2pdma_host_bridge_status(hi.hostdev) : NULL;

		hb_label(gr, i, &hi, m);
		hb_status(gr, &hi, &allowed);
		set(n, "class", allowed ? "host-bridge allowed" : "host-bridge not-allowed");
		set(n, "fillcolor", "#dddddd");
		set(n, "color", allowed ? "#006000" : "#b00000");
		set(n, "penwidth", "2");
		set(n, "tooltip", why ? why : hi.name);
	}
	fclose(m);
	if (html)
		set_html(gr->g, n, html);
	free(html);
	for (k = 0; k < gn->nkids; k++) {
		struct gnode *kid = &gr->nodes[gn->kids[k]];
		Agnode_t *c;

		if (!kid->keep || kid->hidden)
			continue;
		c = draw(gr, gn->kids[k], gn->kids, gn->nkids);
		if (c)
			agedge(gr->g, n, c, NULL, 1);
	}
	return n;
}

static void legend_row(FILE *m, const char *swatch, const char *text)
{
	fprintf(m, "<TR><TD %s WIDTH=\"24\"> </TD><TD BORDER=\"0\" ALIGN=\"LEFT\">%s</TD></TR>",
		swatch, text);
}

/* The key, as one node in a cluster of its own. */
static void legend(struct graph *gr)
{
	Agraph_t *c = agsubg(gr->g, (char *)"cluster_legend", 1);
	Agnode_t *n = agnode(c, (char *)"legend", 1);
	char *html = NULL;
	size_t len = 0, k, count = p2pdma_islands_count(gr->islands);
	FILE *m = open_memstream(&html, &len);

	if (!m)
		return;
	set(c, "label", "Legend");
	set(c, "style", "rounded");
	fputs("<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"3\" CELLPADDING=\"3\">", m);
	legend_row(m, "BGCOLOR=\"#dddddd\" COLOR=\"#006000\"", "host bridge (border: green allowed, red not, for P2P through it)");
	legend_row(m, "BGCOLOR=\"#eeeeee\"", "bridge or PCIe port");
	legend_row(m, "BGCOLOR=\"#eeeeee\" COLOR=\"#b00000\" BORDER=\"3\"",
		   "ACS redirect (RR/CR/EC) set: P2P below this port is forced up to the host bridge");
	if (gr->o->provider) {
		legend_row(m, "BGCOLOR=\"#ffffff\" COLOR=\"#1f4e9c\" BORDER=\"3\"", "the provider (owner of the memory)");
		legend_row(m, "BGCOLOR=\"#9fd99f\"", "BUS_ADDR: direct, turns around in a switch");
		legend_row(m, "BGCOLOR=\"#ffd966\"", "THRU_HOST_BRIDGE: allowed, through the root complex");
		legend_row(m, "BGCOLOR=\"#f4a0a0\"", "NOT_SUPPORTED: the kernel refuses the pair");
	} else {
		legend_row(m, "BGCOLOR=\"#ffffff\"", "device in no P2P island");
		for (k = 0; k < count && k < NCOLOURS; k++) {
			char sw[48], text[96];

			snprintf(sw, sizeof(sw), "BGCOLOR=\"%s\"", island_colours[k]);
			snprintf(text, sizeof(text), "P2P island %zu: %zu devices, every pair BUS_ADDR",
				 k + 1, p2pdma_island_size(gr->islands, k));
			legend_row(m, sw, text);
		}
	}
	legend_row(m, "BORDER=\"0\"", "\xc3\x97N: N identical subtrees, drawn once (counts multiply down the tree)");
	fputs("</TABLE>", m);
	fclose(m);
	if (html)
		set_html(gr->g, n, html);
	free(html);
	set(n, "shape", "plaintext");
	set(n, "style", "");
	set(n, "class", "legend");
	set(n, "id", "legend");
}

static char gv_message[512];

static int gv_error(char *msg)
{
	size_t len;

	snprintf(gv_message, sizeof(gv_message), "%s", msg);
	len = strlen(gv_message);
	while (len && gv_message[len - 1] == '\n')
		gv_message[--len] = '\0';
	return 0;
}

/* The graph: attributes, host bridges and what hangs below them, legend. */
static int compose(struct graph *gr)
{
	char title[512];
	size_t *hbs = calloc(gr->nhb + 1, sizeof(*hbs)), h, drawn = 0;

	if (!hbs)
		return -ENOMEM;
	gr->g = agopen((char *)"p2pdma", Agdirected, NULL);
	if (!gr->g) {
		free(hbs);
		return -ENOMEM;
	}
	snprintf(title, sizeof(title), "%s: PCI hierarchy, kernel %s%s%s",
		 p2pdma_topo_name(gr->cli->topo), p2pdma_policy_kernel(gr->cli->pol),
		 gr->o->provider ? ", verdicts for provider " : "",
		 gr->o->provider ? p2pdma_dev_name(gr->o->provider) : "");
	set(gr->g, "label", title);
	set(gr->g, "labelloc", "t");
	set(gr->g, "fontname", "DejaVu Sans");
	set(gr->g, "nodesep", "0.2");
	set(gr->g, "ranksep", "0.4");
	agattr(gr->g, AGNODE, (char *)"shape", (char *)"box");
	agattr(gr->g, AGNODE, (char *)"style", (char *)"rounded,filled");
	agattr(gr->g, AGNODE, (char *)"fontname", (char *)"DejaVu Sans");
	agattr(gr->g, AGNODE, (char *)"fontsize", (char *)"10");
	agattr(gr->g, AGNODE, (char *)"margin", (char *)"0.05,0.03");
	agattr(gr->g, AGEDGE, (char *)"arrowhead", (char *)"none");
	for (h = 0; h < gr->nhb; h++)
		hbs[h] = h;
	collapse(gr, hbs, gr->nhb);
	for (h = 0; h < gr->nhb; h++)
		if (gr->nodes[h].keep && !gr->nodes[h].hidden && ++drawn)
			draw(gr, h, hbs, gr->nhb);
	free(hbs);
	legend(gr);
	return drawn ? 0 : -ENOENT;
}

static int render(struct graph *gr, const char *format, char **buf, size_t *len)
{
	GVC_t *gvc;
	char *data = NULL;
	unsigned int ulen = 0;
	int ret = 0;

	if (!strcmp(format, "dot")) {
		FILE *m = open_memstream(buf, len);

		if (!m)
			return cli_error("out of memory");
		agwrite(gr->g, m);
		return fclose(m) ? cli_error("out of memory") : 0;
	}
	gvc = gvContext();
	if (!gvc)
		return cli_error("graphviz: no context");
	/* A bitmap stays within cairo's 32767 pixels a side (96 dpi): dot
	 * scales a larger drawing down itself instead of warning. */
	if (!strcmp(format, "png"))
		set(gr->g, "size", "340,340");
	if (gvLayout(gvc, gr->g, "dot"))
		ret = cli_error("graphviz layout failed: %s", gv_message);
	else if (gvRenderData(gvc, gr->g, format, &data, &ulen) || !data)
		ret = cli_error("graphviz cannot render %s: %s", format,
				*gv_message ? gv_message : "no renderer plugin for it");
	if (!ret) {
		*buf = malloc(ulen + 1);
		if (*buf) {
			memcpy(*buf, data, ulen);
			(*buf)[ulen] = '\0';
			*len = ulen;
		} else {
			ret = cli_error("out of memory");
		}
	}
	if (data)
		gvFreeRenderData(data);
	gvFreeLayout(gvc, gr->g);
	gvFreeContext(gvc);
	return ret;
}

int cli_graph_render(struct cli *cli, const struct cli_graph_opts *o,
		     const char *format, char **buf, size_t *len)
{
	struct graph gr = { .cli = cli, .o = o };
	const struct p2pdma_router *r = cli_router(cli);
	size_t i;
	int ret;

	*buf = NULL;
	*len = 0;
	agseterr(AGERR);
	agseterrf(gv_error);
	if (build(&gr) || p2pdma_islands_compute(r, NULL, 0, &gr.islands)) {
		ret = cli_error("out of memory");
		goto out;
	}
	for (i = gr.nhb; i < gr.n; i++) {
		struct gnode *gn = &gr.nodes[i];

		gn->island = p2pdma_island_of(gr.islands, gn->dev);
		if (o->provider)
			gn->t = p2pdma_router_map_type(r, o->provider, gn->dev, &gn->dist);
	}
	for (i = 0; i < gr.nhb; i++) {
		filter(&gr, i);
		signature(&gr, i);
	}
	ret = compose(&gr);
	if (ret == -ENOENT)
		ret = cli_error("graph: no function matches%s%s%s%s", o->cls ? " --class " : "",
				o->cls ? o->cls : "", o->vendor ? " --vendor " : "",
				o->vendor ? o->vendor : "");
	else if (ret)
		ret = cli_error("out of memory");
	else
		ret = render(&gr, format, buf, len);
out:
	if (gr.g)
		agclose(gr.g);
	for (i = 0; i < gr.n; i++)
		free(gr.nodes[i].kids);
	free(gr.nodes);
	p2pdma_islands_destroy(gr.islands);
	return ret;
}
