// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-tree.c - p2pdma tree: the hierarchy as the kernel sees it, ACS per port */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char tree_help[] =
"Usage: p2pdma [SOURCE] tree [--json]\n"
"\n"
"Prints every host bridge (root bus) and the functions below it, nested by\n"
"the kernel's upstream-bridge relation (pci_upstream_bridge(): a VF hangs\n"
"where its PF does). Each line shows the address, vendor:device, PCIe port\n"
"type, names from pci.ids, the ACS Control state that p2pdma routing reads\n"
"(RR/CR/EC are the redirect bits that force P2P up to the host bridge),\n"
"driver, IOMMU group and link. The host bridge line names the device the\n"
"kernel's allow list looks at (first function on the root bus, if 00.0 or a\n"
"Root Port).\n"
"\n"
"ACS column:  '-' no ACS capability   '?' unreadable (run as root / use a\n"
"-xxxx dump)   'ctrl=0xNNNN RR CR'  the control register and its set bits.\n";

static void acs_text(const struct p2pdma_dev_info *in, char *buf, size_t len)
{
	static const char *const names[] = { "SV", "TB", "RR", "CR", "UF", "EC", "DT" };
	size_t off;
	int i;

	if (in->acs_state == P2PDMA_ACS_ABSENT) {
		snprintf(buf, len, "ACS -");
		return;
	}
	if (in->acs_state == P2PDMA_ACS_UNKNOWN) {
		snprintf(buf, len, "ACS ?");
		return;
	}
	off = (size_t)snprintf(buf, len, "ACS ctrl=0x%04x", in->acs_ctrl);
	for (i = 0; i < 7 && off < len; i++)
		if (in->acs_ctrl & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, " %s", names[i]);
	if (off < len && (in->acs_ctrl & P2PDMA_ACS_REDIR_MASK))
		snprintf(buf + off, len - off, " (redirect)");
}

static json_t *acs_json(const struct p2pdma_dev_info *in)
{
	if (in->acs_state == P2PDMA_ACS_ABSENT)
		return json_null();
	if (in->acs_state == P2PDMA_ACS_UNKNOWN)
		return json_string("unknown");
	return json_pack("{s:b}", "redirect",
			 (in->acs_ctrl & P2PDMA_ACS_REDIR_MASK) != 0);
}

static char *hex(char *buf, size_t len, const char *fmt, unsigned long long v)
{
	snprintf(buf, len, fmt, v);
	return buf;
}

static json_t *dev_json(const struct p2pdma_dev_info *in)
{
	char b1[16], b2[16], b3[16];
	json_t *o = json_object(), *acs;

	json_object_set_new(o, "bdf", json_string(in->bdf));
	json_object_set_new(o, "vendor", json_string(hex(b1, sizeof(b1), "0x%04llx", in->vendor)));
	json_object_set_new(o, "device", json_string(hex(b2, sizeof(b2), "0x%04llx", in->device)));
	json_object_set_new(o, "class", json_string(hex(b3, sizeof(b3), "0x%06llx", in->class_code)));
	json_object_set_new(o, "type", json_string(in->is_bridge && in->pcie_type == P2PDMA_PCIE_NONE ?
						   "pci_bridge" : p2pdma_pcie_type_name(in->pcie_type)));
	if (in->vendor_name)
		json_object_set_new(o, "vendor_name", json_string(in->vendor_name));
	if (in->device_name)
		json_object_set_new(o, "device_name", json_string(in->device_name));
	acs = acs_json(in);
	if (json_is_object(acs)) {
		json_object_set_new(acs, "cap", json_string(hex(b1, sizeof(b1), "0x%04llx", in->acs_cap)));
		json_object_set_new(acs, "ctrl", json_string(hex(b2, sizeof(b2), "0x%04llx", in->acs_ctrl)));
	}
	json_object_set_new(o, "acs", acs);
	json_object_set_new(o, "vf", json_boolean(in->is_vf));
	if (in->is_vf && in->physfn)
		json_object_set_new(o, "physfn", json_string(p2pdma_dev_name(in->physfn)));
	json_object_set_new(o, "driver", in->driver ? json_string(in->driver) : json_null());
	json_object_set_new(o, "iommu_group", in->iommu_group >= 0 ? json_integer(in->iommu_group) : json_null());
	json_object_set_new(o, "numa_node", in->numa_node >= 0 ? json_integer(in->numa_node) : json_null());
	if (in->link.width)
		json_object_set_new(o, "link", json_pack("{s:s, s:i}",
			"speed", p2pdma_link_speed_name(in->link.speed),
			"width", in->link.width));
	if (in->p2pmem.present)
		json_object_set_new(o, "p2pmem", json_pack("{s:I, s:I, s:b}",
			"size", (json_int_t)in->p2pmem.size,
			"available", (json_int_t)in->p2pmem.available,
			"published", in->p2pmem.published));
	return o;
}

struct tree {
	struct cli *cli;
	size_t n;
	struct p2pdma_dev_info *info;	/* per function, enumeration order */
};

/* Deeper than this, lines stop moving right and say their depth. */
#define TREE_INDENT_MAX 32

static void print_line(struct tree *t, size_t i, const char *prefix, bool last,
		       unsigned int depth)
{
	const struct p2pdma_dev_info *in = &t->info[i];
	char acs[96], deep[32] = "";

	acs_text(in, acs, sizeof(acs));
	if (depth > TREE_INDENT_MAX)
		snprintf(deep, sizeof(deep), "[depth %u] ", depth);
	fprintf(t->cli->out, "%s%s %s%s  %04x:%04x  %-15s %s%s%s  %s",
		prefix, last ? "`--" : "|--", deep, in->bdf, in->vendor, in->device,
		in->is_bridge && in->pcie_type == P2PDMA_PCIE_NONE ? "pci_bridge" :
		p2pdma_pcie_type_name(in->pcie_type),
		in->vendor_name ? in->vendor_name : "",
		in->vendor_name && in->device_name ? " " : "",
		in->device_name ? in->device_name : "", acs);
	if (in->is_vf)
		fprintf(t->cli->out, "  VF of %s", p2pdma_dev_name(in->physfn));
	if (in->driver)
		fprintf(t->cli->out, "  driver=%s", in->driver);
	if (in->iommu_group >= 0)
		fprintf(t->cli->out, "  group=%d", in->iommu_group);
	if (in->link.width)
		fprintf(t->cli->out, "  %s x%u", p2pdma_link_speed_name(in->link.speed),
			in->link.width);
	if (in->p2pmem.present)
		fprintf(t->cli->out, "  p2pmem=%llu%s",
			(unsigned long long)in->p2pmem.size,
			in->p2pmem.published ? " published" : "");
	fputc('\n', t->cli->out);
}

/* Children of @parent (NULL: the root bus of @hb). */
static bool is_child(const struct tree *t, size_t i,
		     const struct p2pdma_dev *parent,
		     const struct p2pdma_host_bridge *hb)
{
	return t->info[i].upstream == parent &&
	       (parent || t->info[i].host_bridge == hb);
}

static void walk_text(struct tree *t, const struct p2pdma_dev *parent,
		      const struct p2pdma_host_bridge *hb, char *prefix,
		      size_t plen, unsigned int depth)
{
	size_t i, last = (size_t)-1;

	for (i = 0; i < t->n; i++)
		if (is_child(t, i, parent, hb))
			last = i;
	for (i = 0; i < t->n; i++) {
		if (!is_child(t, i, parent, hb))
			continue;
		print_line(t, i, prefix, i == last, depth);
		if (!t->info[i].is_bridge)
			continue;
		/* Every function is printed; past TREE_INDENT_MAX levels the
		 * indentation stops growing and the depth is written out. */
		if (depth < TREE_INDENT_MAX) {
			strcpy(prefix + plen, i == last ? "    " : "|   ");
			walk_text(t, p2pdma_topo_dev(t->cli->topo, i), hb, prefix,
				  plen + 4, depth + 1);
			prefix[plen] = '\0';
		} else {
			walk_text(t, p2pdma_topo_dev(t->cli->topo, i), hb, prefix,
				  plen, depth + 1);
		}
	}
}

static json_t *walk_json(struct tree *t, const struct p2pdma_dev *parent,
			 const struct p2pdma_host_bridge *hb)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < t->n; i++) {
		json_t *o;

		if (!is_child(t, i, parent, hb))
			continue;
		o = dev_json(&t->info[i]);
		if (t->info[i].is_bridge)
			json_object_set_new(o, "children",
				walk_json(t, p2pdma_topo_dev(t->cli->topo, i), hb));
		json_array_append_new(arr, o);
	}
	return arr;
}

int cmd_tree(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tree t = { .cli = cli };
	json_t *hbs = NULL;
	size_t h, i;
	int opt;

	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(tree_help, cli->out);
			return 0;
		}
		if (opt != 'j')
			return cli_error("tree: try 'p2pdma tree --help'");
		cli->json = true;
	}
	if (optind < argc)
		return cli_error("tree: unexpected argument '%s'", argv[optind]);

	t.n = p2pdma_topo_num_devs(cli->topo);
	t.info = calloc(t.n ? t.n : 1, sizeof(*t.info));
	if (!t.info)
		return cli_error("out of memory");
	for (i = 0; i < t.n; i++)
		p2pdma_dev_get_info(p2pdma_topo_dev(cli->topo, i), &t.info[i],
				    sizeof(t.info[i]));

	if (cli->json)
		hbs = json_array();
	else
		fprintf(cli->out, "%s: %zu function%s, %zu host bridge%s\n",
			p2pdma_topo_name(cli->topo), t.n, cli_plural(t.n),
			p2pdma_topo_num_host_bridges(cli->topo),
			cli_plural(p2pdma_topo_num_host_bridges(cli->topo)));
	for (h = 0; h < p2pdma_topo_num_host_bridges(cli->topo); h++) {
		const struct p2pdma_host_bridge *hb = p2pdma_topo_host_bridge(cli->topo, h);
		struct p2pdma_host_bridge_info hi;
		char prefix[256] = "";

		p2pdma_host_bridge_get_info(hb, &hi);
		if (cli->json) {
			json_t *o = json_pack("{s:s, s:i, s:i, s:i}", "name", hi.name,
				"domain", (int)hi.domain, "bus", hi.bus,
				"bus_end", hi.bus_end);

			json_object_set_new(o, "hostdev", hi.hostdev ?
				json_string(p2pdma_dev_name(hi.hostdev)) : json_null());
			json_object_set_new(o, "devices", walk_json(&t, NULL, hb));
			json_array_append_new(hbs, o);
			continue;
		}
		if (hi.hostdev) {
			struct p2pdma_dev_info hd;
			const struct p2pdma_allow_entry *e;

			p2pdma_dev_get_info(hi.hostdev, &hd, sizeof(hd));
			e = p2pdma_policy_allow_lookup(cli->pol, hd.vendor, hd.device);
			fprintf(cli->out, "%s  host bridge device %s [%04x:%04x]: %s\n",
				hi.name, hd.bdf, hd.vendor, hd.device,
				p2pdma_policy_cpu_rule(cli->pol) ? "any (AMD Zen CPU rule)" :
				!e ? "not on the P2PDMA allow list" :
				(e->flags & P2PDMA_REQ_SAME_HOST_BRIDGE) ?
				"allow list, same host bridge only" : "on the allow list");
		} else {
			fprintf(cli->out, "%s  no host bridge device (first function is neither 00.0 nor a Root Port)\n",
				hi.name);
		}
		walk_text(&t, NULL, hb, prefix, 0, 1);
	}
	free(t.info);
	if (cli->json) {
		json_t *root = json_pack("{s:s, s:o, s:o}", "source",
			p2pdma_topo_name(cli->topo), "host_bridges", hbs,
			"notes", cli_notes_json(cli));

		return cli_print_json(cli, root);
	}
	cli_print_notes(cli);
	return 0;
}
