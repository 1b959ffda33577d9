// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-report.c - p2pdma report: the machine's P2P groups, what blocks the rest, fixes */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char report_help[] =
"Usage: p2pdma [SOURCE] [POLICY] [WHAT-IF] report [--json] [--require-interesting]\n"
"\n"
"A one-page summary for the devices that matter for peer-to-peer DMA: GPUs\n"
"and displays (class 03), NICs (02), storage (01), accelerators (12) and any\n"
"function with p2pmem. It shows\n"
"  - the P2P groups: sets of those devices where every pair is BUS_ADDR\n"
"    (the transaction turns around in a switch, no host bridge involved);\n"
"  - how many pairs go THRU_HOST_BRIDGE (allowed by the allow list or the\n"
"    AMD Zen CPU rule) and how many are NOT_SUPPORTED;\n"
"  - every distinct reason a pair is not BUS_ADDR, with the pairs it hits\n"
"    and the kernel parameter that removes it, when one can.\n"
"\n"
"  --require-interesting  exit with status 3 (and print nothing) when fewer\n"
"                         than two such devices sit in real slots (below a\n"
"                         bridge) or have p2pmem: scripts use it to fall\n"
"                         back to a bundled example.\n"
"  --json                 machine-readable output\n";

struct reason {
	char text[640];
	char fix[512];
	unsigned int pairs;
	char example[64];
	/* ACS reasons gather every redirecting port below one common device */
	const struct p2pdma_dev *common;
	unsigned int nacs;
	const struct p2pdma_dev *acs[P2PDMA_MAX_ACS];
};

#define MAX_REASONS 64

static bool relevant(const struct p2pdma_dev_info *in)
{
	unsigned int base = in->class_code >> 16;

	if (in->is_bridge)
		return false;
	if (in->p2pmem.present)
		return true;
	return base == 0x01 || base == 0x02 || base == 0x03 || base == 0x12;
}

static unsigned int find_root(unsigned int *parent, unsigned int i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

static void describe(const struct p2pdma_verdict *v, struct reason *r)
{
	r->fix[0] = '\0';
	if (v->common && v->nacs) {
		snprintf(r->text, sizeof(r->text),
			 "ACS redirect (RR/CR/EC) on the path below %s forces the traffic up to the host bridge",
			 p2pdma_dev_name(v->common));
		r->common = v->common;
		r->nacs = 0;
		return;
	}
	if (v->cpu_rule) {
		snprintf(r->text, sizeof(r->text),
			 "no common upstream bridge: crosses the host bridge, allowed by the AMD Zen CPU rule");
		return;
	}
	if (!v->hostdev[0] || !v->hostdev[1]) {
		snprintf(r->text, sizeof(r->text),
			 "no common upstream bridge, and a host bridge has no device the allow list can check (first function on the root bus is neither 00.0 nor a Root Port)");
		return;
	}
	{
		struct p2pdma_dev_info a, b;
		char ids[64];

		p2pdma_dev_get_info(v->hostdev[0], &a, sizeof(a));
		p2pdma_dev_get_info(v->hostdev[1], &b, sizeof(b));
		if (v->same_host_bridge)
			snprintf(ids, sizeof(ids), "host bridge %04x:%04x",
				 a.vendor, a.device);
		else if (a.vendor == b.vendor && a.device == b.device)
			snprintf(ids, sizeof(ids), "two host bridges %04x:%04x",
				 a.vendor, a.device);
		else
			snprintf(ids, sizeof(ids), "host bridges %04x:%04x and %04x:%04x",
				 a.vendor, a.device, b.vendor, b.device);
		snprintf(r->text, sizeof(r->text),
			 "no common upstream bridge: crosses %s, %s", ids,
			 v->hb_allowed ? "admitted by the allow list" :
			 v->same_host_bridge ? "not on the P2PDMA allow list" :
			 "not both on the allow list without REQ_SAME_HOST_BRIDGE");
	}
	if (!v->hb_allowed)
		snprintf(r->fix, sizeof(r->fix),
			 "no kernel parameter fixes this: it needs a kernel whose allow list has the host bridge, or an AMD Zen CPU; or place both devices below one switch");
}

/* Union of the redirecting ports of every pair with this reason. */
static void add_acs(struct reason *r, const struct p2pdma_verdict *v)
{
	unsigned int i, j;

	if (!r->common)
		return;
	for (i = 0; i < v->nacs; i++) {
		for (j = 0; j < r->nacs; j++)
			if (r->acs[j] == v->acs[i])
				break;
		if (j == r->nacs && r->nacs < P2PDMA_MAX_ACS)
			r->acs[r->nacs++] = v->acs[i];
	}
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(p2pdma_dev_name(*(const struct p2pdma_dev *const *)a),
		      p2pdma_dev_name(*(const struct p2pdma_dev *const *)b));
}

static void acs_fix(struct reason *r)
{
	size_t off;
	unsigned int i;

	if (!r->common || !r->nacs)
		return;
	qsort(r->acs, r->nacs, sizeof(r->acs[0]), cmp_dev);
	off = (size_t)snprintf(r->fix, sizeof(r->fix), "pci=disable_acs_redir=");
	for (i = 0; i < r->nacs && off < sizeof(r->fix); i++)
		off += (size_t)snprintf(r->fix + off, sizeof(r->fix) - off, "%s%s",
					i ? ";" : "", p2pdma_dev_name(r->acs[i]));
	if (off < sizeof(r->fix))
		snprintf(r->fix + off, sizeof(r->fix) - off,
			 "  (costs isolation: P2P below %s then bypasses the IOMMU, and each changed port shares an IOMMU group with what is below it)",
			 p2pdma_dev_name(r->common));
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "require-interesting", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct p2pdma_router *router = NULL;
	struct p2pdma_dev_info *info = NULL;
	const struct p2pdma_dev **devs = NULL;
	unsigned int *parent = NULL, nrel = 0, i, j, nreasons = 0;
	unsigned int counts[5] = { 0 }, unknown = 0;
	struct reason *reasons = NULL;
	struct p2pdma_verdict *v = NULL;
	bool require = false;
	size_t n, k;
	int opt, ret = 2;

	while ((opt = getopt_long(argc, argv, "jrh", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(report_help, cli->out);
			return 0;
		case 'j':
			cli->json = true;
			break;
		case 'r':
			require = true;
			break;
		default:
			return cli_error("report: try 'p2pdma report --help'");
		}
	}
	if (optind < argc)
		return cli_error("report: unexpected argument '%s'", argv[optind]);

	n = p2pdma_topo_num_devs(cli->topo);
	info = calloc(n ? n : 1, sizeof(*info));
	devs = calloc(n ? n : 1, sizeof(*devs));
	parent = calloc(n ? n : 1, sizeof(*parent));
	reasons = calloc(MAX_REASONS, sizeof(*reasons));
	v = malloc(sizeof(*v));
	if (!info || !devs || !parent || !reasons || !v) {
		cli_error("out of memory");
		goto out;
	}
	for (k = 0; k < n; k++) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(p2pdma_topo_dev(cli->topo, k), &in, sizeof(in));
		if (!relevant(&in))
			continue;
		info[nrel] = in;
		devs[nrel] = p2pdma_topo_dev(cli->topo, k);
		parent[nrel] = nrel;
		nrel++;
	}
	/*
	 * "Interesting" for --require-interesting: two relevant devices in
	 * real slots (below a bridge) or with p2pmem; virtual functions on a
	 * VM's root bus are not what anyone asks about.
	 */
	for (i = 0, j = 0; i < nrel; i++)
		j += info[i].upstream || info[i].p2pmem.present;
	if (require && j < 2) {
		ret = 3;
		goto out;
	}
	if (p2pdma_router_create(cli->ctx, cli->topo, cli->pol, &router)) {
		cli_error("%s", p2pdma_ctx_error(cli->ctx));
		goto out;
	}

	/* Unordered pairs: the kernel's walk is symmetric in what it finds. */
	for (i = 0; i < nrel; i++) {
		for (j = i + 1; j < nrel; j++) {
			struct reason r;
			unsigned int x;

			p2pdma_calc(router, devs[i], devs[j], true, v);
			counts[v->map_type]++;
			unknown += v->acs_unknown;
			if (v->map_type == P2PDMA_MAP_BUS_ADDR) {
				parent[find_root(parent, i)] = find_root(parent, j);
				continue;
			}
			memset(&r, 0, sizeof(r));
			describe(v, &r);
			for (x = 0; x < nreasons; x++)
				if (!strcmp(reasons[x].text, r.text))
					break;
			if (x == nreasons) {
				if (nreasons == MAX_REASONS)
					continue;
				reasons[x] = r;
				snprintf(reasons[x].example, sizeof(reasons[x].example),
					 "%s %s", info[i].bdf, info[j].bdf);
				nreasons++;
			}
			reasons[x].pairs++;
			add_acs(&reasons[x], v);
		}
	}
	for (i = 0; i < nreasons; i++)
		acs_fix(&reasons[i]);

	if (cli->json) {
		json_t *groups = json_array(), *rs = json_array(), *root;

		for (i = 0; i < nrel; i++) {
			json_t *g;

			if (find_root(parent, i) != i)
				continue;
			g = json_array();
			for (j = 0; j < nrel; j++)
				if (find_root(parent, j) == i)
					json_array_append_new(g, json_string(info[j].bdf));
			if (json_array_size(g) > 1)
				json_array_append_new(groups, g);
			else
				json_decref(g);
		}
		for (i = 0; i < nreasons; i++)
			json_array_append_new(rs, json_pack("{s:s, s:i, s:s, s:s?}",
				"reason", reasons[i].text, "pairs", reasons[i].pairs,
				"example_pair", reasons[i].example,
				"fix", reasons[i].fix[0] ? reasons[i].fix : NULL));
		root = json_pack("{s:s, s:s, s:i, s:o, s:{s:i, s:i, s:i}, s:i, s:o, s:o}",
			"source", p2pdma_topo_name(cli->topo),
			"kernel", p2pdma_policy_kernel(cli->pol),
			"relevant_devices", nrel,
			"bus_addr_groups", groups,
			"pairs", "BUS_ADDR", counts[P2PDMA_MAP_BUS_ADDR],
			"THRU_HOST_BRIDGE", counts[P2PDMA_MAP_THRU_HOST_BRIDGE],
			"NOT_SUPPORTED", counts[P2PDMA_MAP_NOT_SUPPORTED],
			"pairs_depending_on_unknown_acs", unknown,
			"reasons", rs, "notes", cli_notes_json(cli));
		ret = cli_print_json(cli, root);
		goto out;
	}

	fprintf(cli->out, "P2P DMA report for %s (kernel profile %s, %s)\n",
		p2pdma_topo_name(cli->topo), p2pdma_policy_kernel(cli->pol),
		p2pdma_policy_cpu_rule(cli->pol) ? "AMD Zen CPU rule on" :
		"AMD Zen CPU rule off");
	fprintf(cli->out, "%zu functions, %zu host bridges, %u P2P-relevant devices (GPU, NIC, storage, accelerator, p2pmem)\n\n",
		n, p2pdma_topo_num_host_bridges(cli->topo), nrel);
	if (nrel < 2) {
		fprintf(cli->out, "Fewer than two P2P-relevant devices: nothing to pair.\n");
		cli_print_notes(cli);
		ret = 0;
		goto out;
	}
	fprintf(cli->out, "P2P groups (every pair BUS_ADDR: turns around in a switch):\n");
	k = 0;
	for (i = 0; i < nrel; i++) {
		unsigned int members = 0;

		if (find_root(parent, i) != i)
			continue;
		for (j = 0; j < nrel; j++)
			members += find_root(parent, j) == i;
		if (members < 2)
			continue;
		fprintf(cli->out, "  group %zu:\n", ++k);
		for (j = 0; j < nrel; j++)
			if (find_root(parent, j) == i)
				fprintf(cli->out, "    %s  %04x:%04x %s%s%s\n", info[j].bdf,
					info[j].vendor, info[j].device,
					info[j].vendor_name ? info[j].vendor_name : "",
					info[j].vendor_name ? " " : "",
					info[j].device_name ? info[j].device_name : "");
	}
	if (!k)
		fprintf(cli->out, "  none\n");
	fprintf(cli->out, "\nPairs (unordered) among them: %u BUS_ADDR, %u THRU_HOST_BRIDGE, %u NOT_SUPPORTED\n",
		counts[P2PDMA_MAP_BUS_ADDR], counts[P2PDMA_MAP_THRU_HOST_BRIDGE],
		counts[P2PDMA_MAP_NOT_SUPPORTED]);
	if (unknown)
		fprintf(cli->out, "%u of them pass ports whose ACS registers could not be read (not root, or a short dump):\n"
			"  those verdicts assume ACS off and may really be THRU_HOST_BRIDGE or NOT_SUPPORTED.\n",
			unknown);
	if (nreasons)
		fprintf(cli->out, "\nWhy the other pairs are not BUS_ADDR:\n");
	for (i = 0; i < nreasons; i++) {
		fprintf(cli->out, "  - %s\n    %u pair%s, e.g. %s\n", reasons[i].text,
			reasons[i].pairs, reasons[i].pairs == 1 ? "" : "s",
			reasons[i].example);
		if (reasons[i].fix[0])
			fprintf(cli->out, "    fix: %s\n", reasons[i].fix);
	}
	fprintf(cli->out, "\nDetails: p2pdma check PROVIDER CLIENT, p2pdma fix PROVIDER CLIENT, p2pdma matrix\n");
	cli_print_notes(cli);
	ret = 0;
out:
	p2pdma_router_destroy(router);
	free(v);
	free(reasons);
	free(parent);
	free(devs);
	free(info);
	return ret;
}
