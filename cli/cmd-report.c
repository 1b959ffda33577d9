// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-report.c - p2pdma report: the machine's P2P groups, what blocks the rest, fixes */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli-html.h"
#include "cli-verdict.h"

static const char report_help[] =
"Usage: p2pdma [SOURCE] [POLICY] [WHAT-IF] report [--json | --html FILE] [--require-interesting]\n"
"\n"
"A one-page summary for the devices that matter for peer-to-peer DMA: GPUs\n"
"and displays (class 03), NICs (02), storage (01), accelerators (12) and any\n"
"function with p2pmem. It shows\n"
"  - the P2P groups: sets of those devices where every pair is BUS_ADDR\n"
"    (the transaction turns around in a switch, no host bridge involved);\n"
"  - how many pairs go THRU_HOST_BRIDGE (allowed by the allow list or the\n"
"    AMD Zen CPU rule) and how many are NOT_SUPPORTED;\n"
"  - every distinct reason a pair is not BUS_ADDR, with the pairs it hits\n"
"    and the ports whose ACS redirect is to blame;\n"
"  - ONE kernel command line for the whole machine: every ACS change that\n"
"    makes a pair of those devices BUS_ADDR, merged with the parameters the\n"
"    machine already boots with, and verified by booting a copy with it (no\n"
"    pair that is BUS_ADDR today may be lost), with its isolation cost.\n"
"  JSON: \"kernel_cmdline\" is that line, ready to paste (null if none).\n"
"\n"
"  --require-interesting  exit with status 3 (and print nothing) when fewer\n"
"                         than two such devices sit in real slots (below a\n"
"                         bridge) or have p2pmem: scripts use it to fall\n"
"                         back to a bundled example.\n"
"  --json                 machine-readable output\n"
"  --html FILE            write it all as one self-contained HTML page instead:\n"
"                         the summary, the picture of the machine (as 'p2pdma\n"
"                         graph' draws it), the verdict of every ordered pair as\n"
"                         a heat map (click a cell for its explanation and the\n"
"                         command line to paste), every explanation as plain\n"
"                         text too, and this report. It loads nothing from the\n"
"                         network and reads without JavaScript.\n";

enum reason_kind {
	R_ACS = 0,			/* ACS redirect below a common device */
	R_CPU_RULE,			/* no common device; CPU rule admits */
	R_HOST_BRIDGE,			/* no common device; the allow list decides */
	R_NO_HOSTDEV,			/* no common device; nothing to look up */
};

struct reason {
	enum reason_kind kind;
	const struct p2pdma_dev *common;	/* R_ACS */
	const struct p2pdma_dev *hd[2];		/* host devices */
	bool allowed;
	bool same;
	unsigned int pairs;
	const struct p2pdma_dev *ex[2];		/* an example pair */
	unsigned int nacs;
	const struct p2pdma_dev *acs[64];	/* R_ACS: ports to blame */
};

#define MAX_REASONS 64

struct report {
	struct cli *cli;
	const struct p2pdma_dev **devs;
	unsigned int n;
	unsigned int *parent;		/* union-find: BUS_ADDR groups */
	unsigned int counts[5], unknown;
	struct reason *reasons;
	unsigned int nreasons;
	struct p2pdma_advice *advice;
};

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

/* The reason a non-BUS_ADDR verdict has, as a comparable record. */
static void classify(const struct p2pdma_verdict *v, struct reason *r)
{
	memset(r, 0, sizeof(*r));
	r->common = p2pdma_verdict_common(v);
	r->same = p2pdma_verdict_same_host_bridge(v);
	r->hd[0] = p2pdma_verdict_hostdev(v, 0);
	r->hd[1] = p2pdma_verdict_hostdev(v, 1);
	r->allowed = p2pdma_verdict_allow_listed(v);
	if (r->common && p2pdma_verdict_num_acs(v))
		r->kind = R_ACS;
	else if (p2pdma_verdict_cpu_rule(v))
		r->kind = R_CPU_RULE;
	else if (!r->hd[0] || !r->hd[1])
		r->kind = R_NO_HOSTDEV;
	else
		r->kind = R_HOST_BRIDGE;
}

static bool same_hostdev_ids(const struct p2pdma_dev *a, const struct p2pdma_dev *b)
{
	struct p2pdma_dev_info x, y;

	if (!a || !b)
		return a == b;
	p2pdma_dev_get_info(a, &x, sizeof(x));
	p2pdma_dev_get_info(b, &y, sizeof(y));
	return x.vendor == y.vendor && x.device == y.device;
}

static bool same_reason(const struct reason *a, const struct reason *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case R_ACS:
		return a->common == b->common;
	case R_HOST_BRIDGE:
		return a->same == b->same && a->allowed == b->allowed &&
		       same_hostdev_ids(a->hd[0], b->hd[0]) &&
		       same_hostdev_ids(a->hd[1], b->hd[1]);
	default:
		return true;
	}
}

static void add_acs(struct reason *r, const struct p2pdma_verdict *v)
{
	size_t i;
	unsigned int j;

	for (i = 0; r->kind == R_ACS && i < p2pdma_verdict_num_acs(v); i++) {
		const struct p2pdma_dev *d = p2pdma_verdict_acs(v, i);

		for (j = 0; j < r->nacs && r->acs[j] != d; j++)
			;
		if (j == r->nacs && r->nacs < 64)
			r->acs[r->nacs++] = d;
	}
}

static void tally(struct report *rp, unsigned int i, unsigned int j,
		  const struct p2pdma_verdict *v)
{
	struct reason r;
	unsigned int x;

	rp->counts[p2pdma_verdict_map_type(v)]++;
	rp->unknown += p2pdma_verdict_num_unknown(v) > 0;
	if (p2pdma_verdict_map_type(v) == P2PDMA_MAP_BUS_ADDR) {
		rp->parent[find_root(rp->parent, i)] = find_root(rp->parent, j);
		return;
	}
	classify(v, &r);
	for (x = 0; x < rp->nreasons && !same_reason(&rp->reasons[x], &r); x++)
		;
	if (x == rp->nreasons) {
		if (x == MAX_REASONS)
			return;
		rp->reasons[x] = r;
		rp->reasons[x].ex[0] = rp->devs[i];
		rp->reasons[x].ex[1] = rp->devs[j];
		rp->nreasons++;
	}
	rp->reasons[x].pairs++;
	add_acs(&rp->reasons[x], v);
}

/* Unordered pairs: the kernel's walk is symmetric in what it finds. */
static int evaluate(struct report *rp)
{
	const struct p2pdma_router *r = cli_router(rp->cli);
	struct p2pdma_verdict *v;
	unsigned int i, j;

	if (p2pdma_verdict_create(&v))
		return cli_error("out of memory");
	for (i = 0; i < rp->n; i++)
		for (j = i + 1; j < rp->n; j++) {
			p2pdma_router_calc(r, rp->devs[i], rp->devs[j], true, v);
			tally(rp, i, j, v);
		}
	p2pdma_verdict_destroy(v);
	if (p2pdma_advise_machine(rp->cli->k, rp->devs, rp->n, &rp->advice))
		return cli_error("%s", p2pdma_ctx_error(rp->cli->ctx));
	return 0;
}

/* "host bridge 8086:09a2", "two host bridges 8086:09a2"... */
static void hostdev_ids(const struct reason *r, char *buf, size_t len)
{
	struct p2pdma_dev_info a, b;

	p2pdma_dev_get_info(r->hd[0], &a, sizeof(a));
	p2pdma_dev_get_info(r->hd[1], &b, sizeof(b));
	if (r->same)
		snprintf(buf, len, "host bridge %04x:%04x", a.vendor, a.device);
	else if (a.vendor == b.vendor && a.device == b.device)
		snprintf(buf, len, "two host bridges %04x:%04x", a.vendor, a.device);
	else
		snprintf(buf, len, "host bridges %04x:%04x and %04x:%04x",
			 a.vendor, a.device, b.vendor, b.device);
}

static void reason_text(const struct reason *r, char *buf, size_t len)
{
	char ids[96];

	switch (r->kind) {
	case R_ACS:
		snprintf(buf, len, "ACS redirect (RR/CR/EC) on the path below %s forces the traffic up to the host bridge",
			 p2pdma_dev_name(r->common));
		break;
	case R_CPU_RULE:
		snprintf(buf, len, "no common upstream bridge: crosses the host bridge, allowed by the AMD Zen CPU rule");
		break;
	case R_NO_HOSTDEV:
		snprintf(buf, len, "no common upstream bridge, and a host bridge has no device the allow list can check (first function on the root bus is neither 00.0 nor a Root Port)");
		break;
	case R_HOST_BRIDGE:
		hostdev_ids(r, ids, sizeof(ids));
		snprintf(buf, len, "no common upstream bridge: crosses %s, %s", ids,
			 r->allowed ? "admitted by the allow list" :
			 r->same ? "not on the P2PDMA allow list" :
			 "not both on the allow list without REQ_SAME_HOST_BRIDGE");
		break;
	}
}

static const char *kind_name(enum reason_kind k)
{
	static const char *const names[] = {
		"acs_redirect", "cpu_rule", "host_bridge", "no_host_device",
	};

	return names[k];
}

static json_t *reason_json(const struct reason *r)
{
	json_t *o, *acs = json_array(), *hd = json_array();
	char text[640];
	unsigned int i;

	reason_text(r, text, sizeof(text));
	for (i = 0; i < r->nacs; i++)
		json_array_append_new(acs, json_string(p2pdma_dev_name(r->acs[i])));
	for (i = 0; i < 2; i++)
		json_array_append_new(hd, r->hd[i] ? json_string(p2pdma_dev_name(r->hd[i])) : json_null());
	o = json_pack("{s:s, s:s, s:i, s:{s:s, s:s}, s:o, s:o, s:o}",
		      "reason", text, "kind", kind_name(r->kind), "pairs", r->pairs,
		      "example_pair", "provider", p2pdma_dev_name(r->ex[0]),
		      "client", p2pdma_dev_name(r->ex[1]),
		      "common_upstream", r->common ? json_string(p2pdma_dev_name(r->common)) : json_null(),
		      "acs_redirect", acs, "host_devices", hd);
	if (o && r->kind == R_HOST_BRIDGE && r->hd[0])
		json_object_set_new(o, "host_bridge_status",
				    json_string(p2pdma_host_bridge_status(r->hd[0])));
	return o;
}

static json_t *machine_fix_json(const struct report *rp)
{
	const struct p2pdma_advice *a = rp->advice;
	size_t best = 0;
	bool rec = p2pdma_advice_recommended(a, &best);
	json_t *o = json_pack("{s:I, s:I}",
			      "pairs_blocked_by_acs", (json_int_t)p2pdma_advice_num_pairs(a),
			      "pairs_gained", (json_int_t)(rec ? p2pdma_advice_variant_gained(a, best) : 0));

	return o ? cli_advice_json(a, o) : NULL;
}

static json_t *groups_json(struct report *rp)
{
	json_t *groups = json_array();
	unsigned int i, j;

	for (i = 0; i < rp->n; i++) {
		json_t *g;

		if (find_root(rp->parent, i) != i)
			continue;
		g = json_array();
		for (j = 0; j < rp->n; j++)
			if (find_root(rp->parent, j) == i)
				json_array_append_new(g, json_string(p2pdma_dev_name(rp->devs[j])));
		if (json_array_size(g) > 1)
			json_array_append_new(groups, g);
		else
			json_decref(g);
	}
	return groups;
}

static int report_json(struct report *rp)
{
	struct cli *cli = rp->cli;
	json_t *rs = json_array(), *fix = machine_fix_json(rp);
	unsigned int i;

	for (i = 0; i < rp->nreasons; i++)
		json_array_append_new(rs, reason_json(&rp->reasons[i]));
	return cli_print_json(cli, json_pack("{s:s, s:s, s:i, s:o, s:{s:i, s:i, s:i}, s:i, s:o, s:o?, s:o?, s:o}",
		"source", p2pdma_topo_name(cli->topo),
		"kernel", p2pdma_policy_kernel(cli->pol),
		"relevant_devices", rp->n,
		"bus_addr_groups", groups_json(rp),
		"pairs", "BUS_ADDR", rp->counts[P2PDMA_MAP_BUS_ADDR],
		"THRU_HOST_BRIDGE", rp->counts[P2PDMA_MAP_THRU_HOST_BRIDGE],
		"NOT_SUPPORTED", rp->counts[P2PDMA_MAP_NOT_SUPPORTED],
		"pairs_depending_on_unknown_acs", rp->unknown,
		"reasons", rs,
		"kernel_cmdline", json_object_get(fix, "kernel_cmdline") ?
			json_incref(json_object_get(fix, "kernel_cmdline")) : NULL,
		"machine_fix", fix,
		"notes", cli_notes_json(cli)));
}

static void groups_text(struct report *rp)
{
	FILE *out = rp->cli->out;
	unsigned int i, j, k = 0;

	fprintf(out, "P2P groups (every pair BUS_ADDR: turns around in a switch):\n");
	for (i = 0; i < rp->n; i++) {
		unsigned int members = 0;

		if (find_root(rp->parent, i) != i)
			continue;
		for (j = 0; j < rp->n; j++)
			members += find_root(rp->parent, j) == i;
		if (members < 2)
			continue;
		fprintf(out, "  group %u:\n", ++k);
		for (j = 0; j < rp->n; j++) {
			struct p2pdma_dev_info in;

			if (find_root(rp->parent, j) != i)
				continue;
			p2pdma_dev_get_info(rp->devs[j], &in, sizeof(in));
			fprintf(out, "    %s  %04x:%04x %s%s%s\n", in.bdf, in.vendor, in.device,
				in.vendor_name ? in.vendor_name : "", in.vendor_name ? " " : "",
				in.device_name ? in.device_name : "");
		}
	}
	if (!k)
		fprintf(out, "  none\n");
}

/* Why host bridges decide, once per vendor status that applies here. */
static void host_bridges_text(struct report *rp)
{
	const char *said[8];
	unsigned int nsaid = 0, i, j, k;

	for (i = 0; i < rp->nreasons; i++) {
		const struct reason *r = &rp->reasons[i];

		if (r->kind != R_HOST_BRIDGE && r->kind != R_CPU_RULE)
			continue;
		for (k = 0; k < 2; k++) {
			const char *st = p2pdma_host_bridge_status(r->hd[k]);

			for (j = 0; j < nsaid && said[j] != st; j++)
				;
			if (!st || j < nsaid || nsaid == 8)
				continue;
			if (!nsaid)
				fprintf(rp->cli->out, "\nWhy the host bridge decides (doc/kernel-model.md §1.1):\n");
			said[nsaid++] = st;
			cli_para(rp->cli, "  - ", "    ", st);
		}
	}
}

static void reasons_text(struct report *rp)
{
	FILE *out = rp->cli->out;
	unsigned int i, j;
	char text[640];

	if (rp->nreasons)
		fprintf(out, "\nWhy the other pairs are not BUS_ADDR:\n");
	for (i = 0; i < rp->nreasons; i++) {
		const struct reason *r = &rp->reasons[i];

		reason_text(r, text, sizeof(text));
		fprintf(out, "  - %s\n    %u pair%s, e.g. %s %s\n", text, r->pairs,
			r->pairs == 1 ? "" : "s", p2pdma_dev_name(r->ex[0]),
			p2pdma_dev_name(r->ex[1]));
		if (r->kind == R_ACS) {
			fprintf(out, "    redirecting:");
			for (j = 0; j < r->nacs; j++)
				fprintf(out, " %s", p2pdma_dev_name(r->acs[j]));
			fputc('\n', out);
		} else if (r->kind == R_HOST_BRIDGE && !r->allowed) {
			fprintf(out, "    fix: none on the kernel command line (a kernel whose allow list has it,%s\n"
				"         or both devices below one switch)\n",
				p2pdma_policy_cpu_rule_possible(rp->cli->pol) ? " an AMD Zen CPU," : "");
		}
	}
	host_bridges_text(rp);
}

static void machine_fix_text(struct report *rp)
{
	const struct p2pdma_advice *a = rp->advice;
	const char *kc = p2pdma_advice_kernel_cmdline(a);
	size_t i, best = 0, n;

	if (p2pdma_advice_status(a) == P2PDMA_ADVICE_NOTHING_TO_DO)
		return;
	p2pdma_advice_recommended(a, &best);
	fprintf(rp->cli->out, "\nOne kernel command line for the whole machine (%zu pair%s blocked by ACS redirect):\n",
		p2pdma_advice_num_pairs(a), p2pdma_advice_num_pairs(a) == 1 ? "" : "s");
	if (!kc) {
		fprintf(rp->cli->out, "  none verifies on kernel %s ('p2pdma fix' shows each pair's variants and boot log)\n",
			p2pdma_policy_kernel(rp->cli->pol));
		return;
	}
	cli_wrap(rp->cli, "  ", "    ", kc);
	fprintf(rp->cli->out, "  [verified: %zu of those pairs become BUS_ADDR, no BUS_ADDR pair lost; quote it: ';' separates devices]\n",
		p2pdma_advice_variant_gained(a, best));
	for (i = 0; i < p2pdma_advice_num_warnings(a); i++)
		cli_para(rp->cli, "  warning: ", "    ", p2pdma_advice_warning(a, i));
	n = p2pdma_advice_num_group_merges(a);
	{
		char cost[4096];
		size_t off;

		off = (size_t)snprintf(cost, sizeof(cost),
				       "P2P below those ports then bypasses the IOMMU, and %zu IOMMU group%s merge (each changed port with what is below it)%s",
				       n, n == 1 ? "" : "s", n ? ":" : "");
		for (i = 0; i < n && off < sizeof(cost); i++) {
			size_t ng, nf;
			const struct p2pdma_dev *f = p2pdma_advice_group_merge(a, i, &ng, &nf);

			off += (size_t)snprintf(cost + off, sizeof(cost) - off, "%s %s (%zu groups, %zu functions)",
						i ? "," : "", p2pdma_dev_name(f), ng, nf);
		}
		cli_para(rp->cli, "  cost: ", "    ", cost);
	}
}

static int report_text(struct report *rp)
{
	struct cli *cli = rp->cli;
	FILE *out = cli->out;
	size_t nhb = p2pdma_topo_num_host_bridges(cli->topo);
	size_t nf = p2pdma_topo_num_devs(cli->topo);

	fprintf(out, "P2P DMA report for %s (kernel profile %s, %s)\n",
		p2pdma_topo_name(cli->topo), p2pdma_policy_kernel(cli->pol),
		p2pdma_policy_cpu_rule(cli->pol) ? "AMD Zen CPU rule on" : "AMD Zen CPU rule off");
	fprintf(out, "%zu function%s, %zu host bridge%s, %u P2P-relevant device%s (GPU, NIC, storage, accelerator, p2pmem)\n\n",
		nf, nf == 1 ? "" : "s", nhb, nhb == 1 ? "" : "s", rp->n, rp->n == 1 ? "" : "s");
	cli_print_upfront(cli);
	if (rp->n < 2) {
		fprintf(out, "Fewer than two P2P-relevant devices: nothing to pair.\n");
		cli_print_notes(cli);
		return 0;
	}
	groups_text(rp);
	fprintf(out, "\nPairs (unordered) among them: %u BUS_ADDR, %u THRU_HOST_BRIDGE, %u NOT_SUPPORTED\n",
		rp->counts[P2PDMA_MAP_BUS_ADDR], rp->counts[P2PDMA_MAP_THRU_HOST_BRIDGE],
		rp->counts[P2PDMA_MAP_NOT_SUPPORTED]);
	if (rp->unknown)
		fprintf(out, "%u of them pass ports whose ACS registers could not be read (not root, or a short dump):\n"
			"  those verdicts assume ACS off and may really be THRU_HOST_BRIDGE or NOT_SUPPORTED.\n",
			rp->unknown);
	reasons_text(rp);
	machine_fix_text(rp);
	fprintf(out, "\nDetails: p2pdma check PROVIDER CLIENT, p2pdma fix PROVIDER CLIENT, p2pdma matrix\n");
	cli_print_notes(cli);
	return 0;
}

static int report_text_cb(void *rp)
{
	return report_text(rp);
}

/* --html: the page gets the devices, the machine advice and this text. */
static int report_html(struct report *rp, const char *path)
{
	struct cli_html_input in = {
		.devs = rp->devs, .n = rp->n, .advice = rp->advice,
		.text = report_text_cb, .data = rp,
	};

	if (!p2pdma_topo_num_devs(rp->cli->topo))
		return cli_error("%s: the topology has no PCI function", p2pdma_topo_name(rp->cli->topo));
	return cli_html_report(rp->cli, path, &in);
}

/* The relevant devices; 3 for --require-interesting when fewer than two. */
static int pick_devices(struct report *rp, bool require)
{
	size_t ndev = p2pdma_topo_num_devs(rp->cli->topo), k;
	unsigned int slotted = 0;

	rp->devs = calloc(ndev + 1, sizeof(*rp->devs));
	rp->parent = calloc(ndev + 1, sizeof(*rp->parent));
	rp->reasons = calloc(MAX_REASONS, sizeof(*rp->reasons));
	if (!rp->devs || !rp->parent || !rp->reasons)
		return cli_error("out of memory");
	for (k = 0; k < ndev; k++) {
		const struct p2pdma_dev *d = p2pdma_topo_dev(rp->cli->topo, k);
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(d, &in, sizeof(in));
		if (!relevant(&in))
			continue;
		/* "Interesting": in a real slot (below a bridge) or with p2pmem;
		 * virtual functions on a VM's root bus are not what anyone asks about. */
		slotted += in.upstream || in.p2pmem.present;
		rp->parent[rp->n] = rp->n;
		rp->devs[rp->n++] = d;
	}
	return require && slotted < 2 ? 3 : 0;
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "require-interesting", no_argument, NULL, 'r' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report rp = { .cli = cli };
	const char *html = NULL;
	bool require = false;
	int opt, ret;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "jrH:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h': fputs(report_help, cli->out); return 0;
		case 'j': cli->json = true; break;
		case 'r': require = true; break;
		case 'H': html = optarg; break;
		default: return cli_bad_option(argv, report_help);
		}
	}
	if (optind < argc)
		return cli_error("report: unexpected argument '%s'", argv[optind]);
	if (html && cli->json)
		return cli_error("report: --html and --json each choose the output; give one");
	if (html && cli_check_writable("--html", html))
		return 2;
	ret = pick_devices(&rp, require);
	if (!ret)
		ret = evaluate(&rp);
	if (!ret && html)
		ret = report_html(&rp, html);
	else if (!ret)
		ret = cli->json ? report_json(&rp) : report_text(&rp);
	p2pdma_advice_destroy(rp.advice);
	free(rp.reasons);
	free(rp.parent);
	free(rp.devs);
	return ret;
}
