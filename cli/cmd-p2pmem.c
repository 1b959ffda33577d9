// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-p2pmem.c - p2pdma p2pmem: a machine's real p2pmem files beside what the model makes of them */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char p2pmem_help[] =
"Usage: p2pdma [--sysfs DIR] [POLICY] p2pmem [--json] [--seed N] [CLIENT...]\n"
"\n"
"Lists the functions whose driver registered P2P memory, from their sysfs\n"
"files read now (/sys/bus/pci/devices/BDF/p2pmem/: size, available,\n"
"published, allocate), beside the model's view: the pool the kernel object\n"
"adopted at boot, the BAR it lies in (inferred: sysfs does not say), and\n"
"whether memremap_pages() alignment allows it (doc/kernel-model.md §1.5).\n"
"With CLIENTs, also the provider pci_p2pmem_find_many() would pick for\n"
"them (random among equals; --seed makes the draw repeatable).\n"
"Works on this machine (default) or a captured tree (--sysfs DIR).\n"
"\n"
"Exit status: 0 listed (and a provider found for the CLIENTs), 1 no\n"
"provider is usable by every CLIENT, 2 usage or input error (including a\n"
"source without p2pmem files: --dump, --topology, --example).\n";

/* The sysfs root this source reads, or NULL for sources without one. */
const char *cli_sysfs_root(const struct cli *cli)
{
	switch (p2pdma_topo_source(cli->loaded)) {
	case P2PDMA_SRC_LIVE:
		return "/sys";
	case P2PDMA_SRC_SYSFS:
		return cli->sysfs_root;
	default:
		return NULL;
	}
}

int cmd_p2pmem(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct p2pdma_dev *clients[64], *pick = NULL;
	struct p2pdma_find_result *res = NULL;
	json_t *jprov = NULL, *root = NULL;
	char bdf[64], prev[64], b1[32], b2[32];
	const char *sysfs, *after = NULL;
	bool json = cli->json;
	unsigned long long seed = cli->seed;
	bool seeded = cli->seed_set;
	size_t nclients = 0, nprov = 0, i;
	int opt, ret = 0;

	while ((opt = getopt_long(argc, argv, "hjs:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 's': {
			char *end;

			seed = strtoull(optarg, &end, 0);
			if (*end || !*optarg)
				return cli_error("--seed wants a number, got '%s'", optarg);
			seeded = true;
			break;
		}
		case 'h': fputs(p2pmem_help, stdout); return 0;
		default: fputs(p2pmem_help, stderr); return 2;
		}
	}
	sysfs = cli_sysfs_root(cli);
	if (!sysfs)
		return cli_error("p2pmem reads the p2pmem files of this machine or of a captured sysfs tree (--sysfs DIR); %s has none",
				 p2pdma_topo_name(cli->topo));
	for (; optind < argc; optind++) {
		if (nclients == 64)
			return cli_error("at most 64 clients");
		if (!(clients[nclients++] = cli_find_dev(cli, argv[optind])))
			return 2;
	}
	if (!seeded)
		seed = (unsigned long long)time(NULL);
	p2pdma_kernel_set_seed(cli->k, seed);
	if (json)
		jprov = json_array();
	else
		fprintf(cli->out, "p2pmem in %s (read now), beside the model's pool:\n", sysfs);
	while (p2pdma_live_provider_next(sysfs, after, bdf, sizeof(bdf)) == 0) {
		const struct p2pdma_dev *d = p2pdma_topo_find(cli->topo, bdf);
		const char *drv = d ? p2pdma_kernel_driver(cli->k, d) : NULL;
		struct p2pdma_live_p2pmem live;
		struct p2pdma_pool_info pi;
		struct p2pdma_range_info ri;
		bool have_pool, have_range, aligned, agree;
		char model[256];

		snprintf(prev, sizeof(prev), "%s", bdf);
		after = prev;
		nprov++;
		if (p2pdma_live_p2pmem_read(sysfs, bdf, &live, sizeof(live)))
			fprintf(stderr, "p2pdma: %s: p2pmem files do not read as numbers\n", bdf);
		have_pool = d && !p2pdma_p2pmem_pool_get_info(cli->k, d, &pi, sizeof(pi));
		have_range = have_pool && !p2pdma_p2pmem_range_get_info(cli->k, d, 0, &ri, sizeof(ri));
		aligned = have_range && !((ri.cpu | ri.size) & (P2PDMA_SUBSECTION_SIZE - 1));
		agree = have_pool && pi.size == live.size && pi.available == live.available &&
			pi.published == live.published;
		if (!d)
			snprintf(model, sizeof(model), "not a function of the loaded topology");
		else if (!have_pool)
			snprintf(model, sizeof(model), "no pool (the topology was read before the driver registered it?)");
		else if (!have_range)
			snprintf(model, sizeof(model), "pool of %s in no memory BAR that fits",
				 p2pdma_human_size(pi.size, b1, sizeof(b1)));
		else
			snprintf(model, sizeof(model), "pool at BAR %d %#" PRIx64 "-%#" PRIx64 " (BAR inferred), %saligned to 2 MiB",
				 ri.bar, ri.cpu, ri.cpu + ri.size - 1, aligned ? "" : "NOT ");
		if (json) {
			json_array_append_new(jprov, json_pack("{s:s, s:s?, s:{s:I, s:I, s:b, s:b}, s:{s:b, s:I, s:I, s:b, s:i, s:b}, s:b}",
				"bdf", bdf, "driver", drv,
				"sysfs", "size", (json_int_t)live.size, "available", (json_int_t)live.available,
				"published", live.published, "allocate", live.allocate,
				"model", "pool", have_pool, "size", (json_int_t)(have_pool ? pi.size : 0),
				"available", (json_int_t)(have_pool ? pi.available : 0),
				"published", have_pool && pi.published, "bar", have_range ? ri.bar : -1,
				"aligned", aligned,
				"agree", agree));
		} else {
			fprintf(cli->out, "  %s (%s)  size %s  available %s  published %d  allocate %s\n",
				bdf, drv ? drv : "no driver", p2pdma_human_size(live.size, b1, sizeof(b1)),
				p2pdma_human_size(live.available, b2, sizeof(b2)), live.published,
				live.allocate ? "yes" : "no");
			fprintf(cli->out, "      model: %s; figures %s\n", model,
				agree ? "agree" : "DIFFER (memory allocated or freed since the topology was read?)");
		}
	}
	if (!json && !nprov)
		fprintf(cli->out, "  none: no driver registered P2P memory (e.g. an NVMe CMB, pci_p2pdma_add_resource())\n");
	if (nclients) {
		if (p2pdma_find_result_create(&res))
			return cli_error("out of memory");
		ret = p2pdma_kernel_find_many(cli->k, clients, nclients, res, &pick) ? 1 : 0;
		if (!json) {
			fprintf(cli->out, "find_many for");
			for (i = 0; i < nclients; i++)
				fprintf(cli->out, " %s", p2pdma_dev_name(clients[i]));
			if (pick) {
				fprintf(cli->out, ": %s (distance %d; %zu at that distance:",
					p2pdma_dev_name(pick), p2pdma_find_result_distance(res),
					p2pdma_find_result_num_candidates(res));
				for (i = 0; i < p2pdma_find_result_num_candidates(res); i++)
					fprintf(cli->out, " %s", p2pdma_dev_name(p2pdma_find_result_candidate(res, i)));
				fprintf(cli->out, "; draw with seed %llu)\n", seed);
			} else {
				fprintf(cli->out, ": none (no published p2pmem every client can reach)\n");
			}
		}
	}
	if (json) {
		json_t *cands = json_array();

		for (i = 0; res && i < p2pdma_find_result_num_candidates(res); i++)
			json_array_append_new(cands, json_string(p2pdma_dev_name(p2pdma_find_result_candidate(res, i))));
		root = json_pack("{s:s, s:o, s:o?, s:I}", "sysfs", sysfs, "providers", jprov,
				 "find_many", nclients ? json_pack("{s:s?, s:i, s:o}", "pick",
				 pick ? p2pdma_dev_name(pick) : NULL, "distance",
				 res ? p2pdma_find_result_distance(res) : -1, "candidates", cands) : NULL,
				 "seed", (json_int_t)seed);
		if (!nclients)
			json_decref(cands);
		p2pdma_find_result_destroy(res);
		return cli_print_json(cli, root) ? 2 : ret;
	}
	p2pdma_find_result_destroy(res);
	return ret;
}
