// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-topo.c - p2pdma topo: GPUs, NICs and NVMe as `nvidia-smi topo -m` lays them out, with the kernel's verdicts */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli-verdict.h"

static const char topo_help[] =
"Usage: p2pdma [SOURCE] [POLICY] [WHAT-IF] topo [--json]\n"
"\n"
"The GPUs, NICs and NVMe controllers in the layout of `nvidia-smi topo -m`,\n"
"numbered GPU0.., NIC0.., NVMe0.. in PCI bus order (the order nvidia-smi and\n"
"NCCL use; virtual functions are left out). Each cell holds two answers:\n"
"  the path class of nvidia-smi's legend (X, PIX, PXB, PHB, NODE, SYS), read\n"
"  from the hierarchy alone: how far apart the two devices sit;\n"
"  the kernel's P2PDMA verdict with its distance (BUS:n, HB:n, NS): where the\n"
"  traffic really goes once ACS and the host-bridge rules have spoken\n"
"  (row = provider, the owner of the memory; column = client).\n"
"A '!' marks a pair that NCCL's defaults would run directly (P2P between\n"
"GPUs, GPUDirect RDMA between a GPU and a NIC) but the kernel does not:\n"
"HB means the traffic is forced up through the host bridge (ACS redirect),\n"
"NS that the kernel refuses P2PDMA for the pair. The legend under the\n"
"matrix says what each mark means; doc/pictures.md cites the sources.\n"
"CPU Affinity and NUMA Affinity come from the source (sysfs local_cpulist\n"
"and numa_node, hwloc's cpusets); 'unknown' where it does not record them\n"
"(lspci dumps and text, JSON topologies without them).\n"
"\n"
"  --json   machine-readable output\n"
"\n"
"Examples:\n"
"  p2pdma --example xeon-8gpu topo\n"
"  p2pdma --example xeon-8gpu --cmdline 'pci=disable_acs_redir=0000:17:00.0;0000:17:01.0' topo\n";

enum kind { K_GPU = 0, K_NIC, K_NVME, K_COUNT };

static const char *const kind_label[K_COUNT] = { "GPU", "NIC", "NVMe" };
static const char *const kind_json[K_COUNT] = { "gpu", "nic", "nvme" };

struct topo_view {
	struct cli *cli;
	const struct p2pdma_dev **devs;	/* GPUs, then NICs, then NVMe */
	enum kind *kind;
	char (*label)[16];
	size_t n, count[K_COUNT];
	enum p2pdma_path_class p2p_level, gdr_level;
	bool p2p_uncertain;
	struct p2pdma_verdict *v;
};

static int kind_of(const struct p2pdma_dev_info *in)
{
	if (in->is_bridge || in->is_vf)
		return -1;
	if (in->class_code >> 16 == 0x03)
		return K_GPU;
	if (in->class_code >> 16 == 0x02)
		return K_NIC;
	if (in->class_code >> 8 == 0x0108)
		return K_NVME;
	return -1;
}

/* The devices, kind by kind, each kind in enumeration (PCI bus) order. */
static int pick(struct topo_view *tv)
{
	const struct p2pdma_topo *t = tv->cli->topo;
	size_t ndev = p2pdma_topo_num_devs(t), i;
	int k;

	tv->devs = calloc(ndev + 1, sizeof(*tv->devs));
	tv->kind = calloc(ndev + 1, sizeof(*tv->kind));
	tv->label = calloc(ndev + 1, sizeof(*tv->label));
	if (!tv->devs || !tv->kind || !tv->label || p2pdma_verdict_create(&tv->v))
		return cli_error("out of memory");
	for (k = 0; k < K_COUNT; k++)
		for (i = 0; i < ndev; i++) {
			struct p2pdma_dev_info in;

			p2pdma_dev_get_info(p2pdma_topo_dev(t, i), &in, sizeof(in));
			if (kind_of(&in) != k)
				continue;
			tv->kind[tv->n] = (enum kind)k;
			snprintf(tv->label[tv->n], sizeof(tv->label[0]), "%s%zu",
				 kind_label[k], tv->count[k]++);
			tv->devs[tv->n++] = p2pdma_topo_dev(t, i);
		}
	tv->p2p_level = p2pdma_nccl_default_level(tv->cli->pol, P2PDMA_NCCL_P2P,
						  tv->count[K_GPU], &tv->p2p_uncertain);
	tv->gdr_level = p2pdma_nccl_default_level(tv->cli->pol, P2PDMA_NCCL_GDR,
						  tv->count[K_GPU], NULL);
	return 0;
}

/* One pair: class, verdict (in tv->v), whether NCCL would go direct. */
struct pair {
	enum p2pdma_path_class cls;
	enum p2pdma_map_type t;
	int distance;
	bool assumed;		/* BUS_ADDR over ports of unknown ACS */
	bool nccl;		/* NCCL's default uses the path directly */
	bool mismatch;
};

static void eval(struct topo_view *tv, size_t i, size_t j, struct pair *p)
{
	enum kind a = tv->kind[i], b = tv->kind[j];
	enum p2pdma_path_class level = P2PDMA_PATH_X;

	memset(p, 0, sizeof(*p));
	p2pdma_path_classify(tv->cli->topo, tv->devs[i], tv->devs[j], &p->cls);
	if (i == j)
		return;
	p->t = p2pdma_router_calc(cli_router(tv->cli), tv->devs[i], tv->devs[j], false, tv->v);
	p->distance = p2pdma_verdict_distance(tv->v);
	p->assumed = p2pdma_verdict_if_acs_redirect(tv->v, NULL) != P2PDMA_MAP_BUS_ADDR;
	if (a == K_GPU && b == K_GPU)
		level = tv->p2p_level;
	else if ((a == K_GPU && b == K_NIC) || (a == K_NIC && b == K_GPU))
		level = tv->gdr_level;
	if (level == P2PDMA_PATH_X)
		return;
	p->nccl = p->cls != P2PDMA_PATH_NODE_OR_SYS ? p->cls <= level : level == P2PDMA_PATH_SYS;
	p->mismatch = p2pdma_nccl_mismatch(p->cls, level, p->t);
}

static void cell_text(const struct pair *p, char *buf, size_t len)
{
	if (p->cls == P2PDMA_PATH_X) {
		snprintf(buf, len, "X");
		return;
	}
	if (p->t == P2PDMA_MAP_NOT_SUPPORTED)
		snprintf(buf, len, "%s NS%s", p2pdma_path_class_name(p->cls),
			 p->mismatch ? "!" : "");
	else
		snprintf(buf, len, "%s %s:%d%s%s", p2pdma_path_class_name(p->cls),
			 p->t == P2PDMA_MAP_BUS_ADDR ? "BUS" : "HB", p->distance,
			 p->assumed ? "?" : "", p->mismatch ? "!" : "");
}

static const char *numa_text(const struct p2pdma_dev *d, char *buf, size_t len)
{
	struct p2pdma_dev_info in;

	p2pdma_dev_get_info(d, &in, sizeof(in));
	if (in.numa_node < 0)
		return "unknown";
	snprintf(buf, len, "%d", in.numa_node);
	return buf;
}

static const char *cpus_text(const struct p2pdma_dev *d)
{
	struct p2pdma_dev_info in;

	p2pdma_dev_get_info(d, &in, sizeof(in));
	return in.local_cpulist ? in.local_cpulist : "unknown";
}

/* Columns [start, end); the affinity columns after the last block. */
static void block(struct topo_view *tv, size_t start, size_t end, int cw, bool last)
{
	FILE *out = tv->cli->out;
	struct pair p;
	size_t i, j;
	char c[32], nb[16];

	fprintf(out, "%-7s", "");
	for (j = start; j < end; j++)
		fprintf(out, "%-*s", j + 1 < end || last ? cw : 0, tv->label[j]);
	if (last)
		fprintf(out, "%-14s%s", "CPU Affinity", "NUMA Affinity");
	fputc('\n', out);
	for (i = 0; i < tv->n; i++) {
		fprintf(out, "%-7s", tv->label[i]);
		for (j = start; j < end; j++) {
			eval(tv, i, j, &p);
			cell_text(&p, c, sizeof(c));
			fprintf(out, "%-*s", j + 1 < end || last ? cw : 0, c);
		}
		if (last)
			fprintf(out, "%-13s %s", cpus_text(tv->devs[i]),
				numa_text(tv->devs[i], nb, sizeof(nb)));
		fputc('\n', out);
	}
}

static void matrix_text(struct topo_view *tv)
{
	size_t i, j, per, blocks, start;
	int cw = 6, width = cli_term_width(tv->cli);
	struct pair p;
	char c[32];

	for (i = 0; i < tv->n; i++)
		for (j = 0; j < tv->n; j++) {
			eval(tv, i, j, &p);
			cell_text(&p, c, sizeof(c));
			if ((int)strlen(c) + 2 > cw)
				cw = (int)strlen(c) + 2;
		}
	per = width > 7 + 28 + cw ? (size_t)((width - 7 - 28) / cw) : 1;
	blocks = (tv->n + per - 1) / per;
	per = (tv->n + blocks - 1) / blocks;
	for (start = 0; start < tv->n; start += per) {
		if (start)
			fputc('\n', tv->cli->out);
		block(tv, start, start + per < tv->n ? start + per : tv->n, cw,
		      start + per >= tv->n);
	}
}

static void legend_text(struct topo_view *tv, bool node_or_sys)
{
	static const enum p2pdma_path_class order[] = {
		P2PDMA_PATH_X, P2PDMA_PATH_SYS, P2PDMA_PATH_NODE, P2PDMA_PATH_PHB,
		P2PDMA_PATH_PXB, P2PDMA_PATH_PIX, P2PDMA_PATH_NODE_OR_SYS,
	};
	struct cli *cli = tv->cli;
	char first[32];
	size_t i;

	fprintf(cli->out, "\nLegend (nvidia-smi's path classes, from the PCI hierarchy):\n\n");
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] == P2PDMA_PATH_NODE_OR_SYS && !node_or_sys)
			continue;
		snprintf(first, sizeof(first), "  %-5s= ", p2pdma_path_class_name(order[i]));
		cli_para(cli, first, "         ", p2pdma_path_class_meaning(order[i]));
	}
	cli_para(cli, "  ", "  ", "NV# (NVLink) is not PCI: a PCI topology cannot show it.");
	fprintf(cli->out, "\nKernel P2PDMA verdict (row = provider, column = client; doc/kernel-model.md §2.2):\n\n");
	cli_para(cli, "  BUS:n = ", "          ", "BUS_ADDR at distance n: the traffic turns around in the common switch or bridge");
	cli_para(cli, "  HB:n  = ", "          ", "THRU_HOST_BRIDGE: allowed, but the traffic goes up through the root complex (no common switch, or ACS redirect on the path) because the CPU rule or the host-bridge allow list admits it");
	cli_para(cli, "  NS    = ", "          ", "NOT_SUPPORTED: the kernel refuses P2PDMA for the pair; mapping peer memory fails with -EREMOTEIO");
	cli_para(cli, "  ?     = ", "          ", "assumes ACS redirect off on a port whose ACS state is unknown");
	cli_para(cli, "  !     = ", "          ", "NCCL's default would use this path directly but the kernel does not. With HB the traffic is forced through the host bridge: it crosses the root complex instead of turning in the switch (lower bandwidth, and the IOMMU sees it). With NS it is refused: kernel P2PDMA users (dma-buf importers, NVMe-oF, GPUDirect Storage over P2PDMA) get an error.");
}

static void key_text(struct topo_view *tv)
{
	FILE *out = tv->cli->out;
	char lbl[64], first[64];
	size_t i;

	fprintf(out, "\nNCCL defaults (src/graph/paths.cc): P2P between GPUs up to %s%s, GPUDirect RDMA up to %s\n",
		p2pdma_path_class_name(tv->p2p_level),
		tv->p2p_uncertain ? " (SYS on an AMD CPU: give --cpu)" : "",
		p2pdma_path_class_name(tv->gdr_level));
	fprintf(out, "\nDevices:\n");
	for (i = 0; i < tv->n; i++) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(tv->devs[i], &in, sizeof(in));
		snprintf(first, sizeof(first), "  %-6s ", tv->label[i]);
		fprintf(out, "%s%-26s  %04x:%04x%s%s\n", first, cli_dev_label(tv->devs[i], lbl, sizeof(lbl)),
			in.vendor, in.device, in.device_name ? "  " : "",
			in.device_name ? in.device_name : "");
	}
}

static int topo_text(struct topo_view *tv)
{
	bool node_or_sys = false;
	struct pair p;
	size_t i, j;

	cli_print_upfront(tv->cli);
	if (!tv->n) {
		fprintf(tv->cli->out, "%s: no GPU, NIC or NVMe function\n",
			p2pdma_topo_name(tv->cli->topo));
		cli_print_notes(tv->cli);
		return 0;
	}
	fprintf(tv->cli->out, "%s: %zu GPU%s, %zu NIC%s, %zu NVMe; kernel %s, AMD Zen CPU rule %s\n\n",
		p2pdma_topo_name(tv->cli->topo), tv->count[K_GPU], cli_plural(tv->count[K_GPU]),
		tv->count[K_NIC], cli_plural(tv->count[K_NIC]), tv->count[K_NVME],
		p2pdma_policy_kernel(tv->cli->pol),
		p2pdma_policy_cpu_rule(tv->cli->pol) ? "on" : "off");
	matrix_text(tv);
	for (i = 0; i < tv->n; i++)
		for (j = 0; j < tv->n; j++) {
			eval(tv, i, j, &p);
			node_or_sys |= p.cls == P2PDMA_PATH_NODE_OR_SYS;
		}
	legend_text(tv, node_or_sys);
	key_text(tv);
	cli_print_notes(tv->cli);
	return 0;
}

static json_t *devices_json(struct topo_view *tv)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < tv->n; i++) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(tv->devs[i], &in, sizeof(in));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:o, s:s?}",
			"label", tv->label[i], "bdf", in.bdf, "kind", kind_json[tv->kind[i]],
			"name", in.device_name, "driver", in.driver,
			"numa_node", in.numa_node < 0 ? json_null() : json_integer(in.numa_node),
			"cpu_affinity", in.local_cpulist));
	}
	return arr;
}

static int topo_json(struct topo_view *tv)
{
	json_t *cells = json_array(), *legend = json_object();
	struct pair p;
	size_t i, j;

	for (i = 0; i < tv->n; i++)
		for (j = 0; j < tv->n; j++) {
			eval(tv, i, j, &p);
			if (i == j)
				continue;
			json_array_append_new(cells, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:b}",
				"row", tv->label[i], "column", tv->label[j],
				"provider", p2pdma_dev_name(tv->devs[i]),
				"client", p2pdma_dev_name(tv->devs[j]),
				"path", p2pdma_path_class_name(p.cls),
				"map_type", p2pdma_map_type_name(p.t), "distance", p.distance,
				"assumes_acs_off", p.assumed, "nccl_direct", p.nccl,
				"nccl_mismatch", p.mismatch));
		}
	for (i = P2PDMA_PATH_X; i <= P2PDMA_PATH_NODE_OR_SYS; i++)
		json_object_set_new(legend, p2pdma_path_class_name((enum p2pdma_path_class)i),
				    json_string(p2pdma_path_class_meaning((enum p2pdma_path_class)i)));
	return cli_print_json(tv->cli, json_pack("{s:s, s:s, s:o, s:o, s:{s:s, s:b, s:s}, s:o, s:o}",
		"source", p2pdma_topo_name(tv->cli->topo),
		"kernel", p2pdma_policy_kernel(tv->cli->pol),
		"devices", devices_json(tv), "pairs", cells,
		"nccl", "p2p_level", p2pdma_path_class_name(tv->p2p_level),
		"p2p_level_depends_on_cpu", tv->p2p_uncertain,
		"gdr_level", p2pdma_path_class_name(tv->gdr_level),
		"legend", legend, "notes", cli_notes_json(tv->cli)));
}

int cmd_topo(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct topo_view tv = { .cli = cli };
	int opt, ret;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'h': fputs(topo_help, cli->out); return 0;
		default: return cli_bad_option(argv, topo_help);
		}
	}
	if (optind < argc)
		return cli_error("topo: unexpected argument '%s'", argv[optind]);
	if (!p2pdma_topo_num_devs(cli->topo))
		return cli_error("%s: the topology has no PCI function", p2pdma_topo_name(cli->topo));
	ret = pick(&tv);
	if (!ret)
		ret = cli->json ? topo_json(&tv) : topo_text(&tv);
	p2pdma_verdict_destroy(tv.v);
	free(tv.devs);
	free(tv.kind);
	free(tv.label);
	return ret;
}
