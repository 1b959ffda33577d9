// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-providers.c - p2pdma providers: which p2pmem pci_p2pmem_find_many() would pick */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli-verdict.h"

static const char providers_help[] =
"Usage: p2pdma [SOURCE] providers [--json] [--bar BDF:N ...] [--seed N]\n"
"                                 [CLIENT...]\n"
"\n"
"Lists the functions with published p2pmem (sysfs p2pmem/published = 1: a\n"
"driver registered a BAR with pci_p2pdma_add_resource() and published it,\n"
"e.g. an NVMe CMB) and, given CLIENTs, ranks them as pci_p2pmem_find_many()\n"
"does: pci_p2pdma_distance_many(provider, clients) without warnings,\n"
"negative results dropped, the smallest distance wins; the kernel then picks\n"
"one of the tied providers at RANDOM (get_random_u32_below), not the first.\n"
"This command shows the tie set and the pick a seeded draw makes.\n"
"\n"
"--bar BDF:N   what-if: treat BAR N of BDF as registered and published\n"
"              p2pmem (repeatable); the BAR must be a memory BAR\n"
"--seed N      seed of the tie-break draw (default: random, printed)\n"
"\n"
"Exit status: 0 a provider was found (or no CLIENT given), 1 none is usable\n"
"by all the clients, 2 usage or input error.\n";

static int add_bar(struct cli *cli, struct p2pdma_router *r, const char *arg)
{
	char bdf[64], *colon, *end;
	struct p2pdma_dev_info in;
	struct p2pdma_dev *d;
	unsigned long bar;

	snprintf(bdf, sizeof(bdf), "%s", arg);
	colon = strrchr(bdf, ':');
	if (!colon || strchr(colon, '.'))
		return cli_error("--bar '%s': want BDF:N, e.g. 0000:01:00.0:2", arg);
	*colon = 0;
	errno = 0;
	bar = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || bar >= P2PDMA_NUM_BARS)
		return cli_error("--bar '%s': BAR number must be 0..5", arg);
	d = cli_find_dev(cli, bdf);
	if (!d)
		return 2;
	p2pdma_dev_get_info(d, &in, sizeof(in));
	/* pci_p2pdma_add_resource(): -EINVAL unless IORESOURCE_MEM. */
	if (!(in.bars[bar].flags & P2PDMA_BAR_MEM) || !in.bars[bar].size)
		return cli_error("--bar %s: BAR %lu of %s is not an assigned memory BAR (pci_p2pdma_add_resource would fail -EINVAL)",
				 arg, bar, in.bdf);
	p2pdma_router_set_published(r, d, true);
	return 0;
}

static json_t *p2pmem_json(const struct p2pdma_dev_info *in)
{
	if (!in->p2pmem.present)
		return json_null();
	return json_pack("{s:b, s:I, s:I}", "published", in->p2pmem.published,
			 "size", (json_int_t)in->p2pmem.size,
			 "available", (json_int_t)in->p2pmem.available);
}

struct ranked {
	const struct p2pdma_dev *dev;
	int distance;
	bool nominated;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	unsigned int dx = (unsigned int)x->distance, dy = (unsigned int)y->distance;

	/* -1 (unusable) sorts last; ties keep enumeration order. */
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return x->dev < y->dev ? -1 : x->dev > y->dev;
}

int cmd_providers(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "bar", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bars[64];
	unsigned int nbars = 0, b;
	const struct p2pdma_dev **clients = NULL;
	struct p2pdma_find_result *res = NULL;
	struct p2pdma_verdict *vs = NULL;
	struct p2pdma_router *r = NULL;
	struct ranked *rank = NULL;
	size_t ndev, nr = 0, i;
	int opt, n, ret = 2, found = 0;
	unsigned long long seed = cli->seed;
	bool seed_set = cli->seed_set;

	/* glibc re-initialises (and permutes options after operands again,
	 * which the dispatcher's "+" scan turned off) only when optind is 0. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "jb:s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'b':
			if (nbars == 64)
				return cli_error("too many --bar");
			bars[nbars++] = optarg;
			break;
		case 's': {
			char *end;

			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg)
				return cli_error("--seed wants a number, got '%s'", optarg);
			seed_set = true;
			break;
		}
		case 'h': fputs(providers_help, cli->out); return 0;
		default: fputs(providers_help, stderr); return 2;
		}
	}
	if (!seed_set)
		seed = (unsigned long long)time(NULL) ^ ((unsigned long long)clock() << 20);
	n = argc - optind;
	ndev = p2pdma_topo_num_devs(cli->topo);
	clients = calloc((size_t)n + 1, sizeof(*clients));
	vs = calloc((size_t)n + 1, sizeof(*vs));
	rank = calloc(ndev + 1, sizeof(*rank));
	res = calloc(1, sizeof(*res));
	if (!clients || !vs || !rank || !res) {
		ret = cli_error("out of memory");
		goto out;
	}
	if (cli_parse_devs(cli, argv + optind, n, clients))
		goto out;
	r = cli_router(cli);
	if (!r)
		goto out;
	for (b = 0; b < nbars; b++)
		if (add_bar(cli, r, bars[b]))
			goto out;

	for (i = 0; i < ndev; i++) {
		const struct p2pdma_dev *d = p2pdma_topo_dev(cli->topo, i);
		struct p2pdma_dev_info in;

		if (!p2pdma_router_has_published(r, d))
			continue;
		p2pdma_dev_get_info(d, &in, sizeof(in));
		rank[nr].dev = d;
		rank[nr].nominated = !(in.p2pmem.present && in.p2pmem.published);
		rank[nr].distance = n ? p2pdma_distance_many(r, d, clients,
							     (unsigned int)n,
							     false, NULL) : 0;
		nr++;
	}
	if (n) {
		found = p2pdma_find_many(r, clients, (unsigned int)n, seed, res) == 0;
		qsort(rank, nr, sizeof(*rank), cmp_ranked);
	}

	if (cli->json) {
		json_t *root = json_object(), *jc = json_array(), *jp = json_array();
		json_t *jt = json_array();

		for (i = 0; i < (size_t)n; i++)
			json_array_append_new(jc, json_string(p2pdma_dev_name(clients[i])));
		for (i = 0; i < nr; i++) {
			struct p2pdma_dev_info in;
			json_t *o;
			int k;

			p2pdma_dev_get_info(rank[i].dev, &in, sizeof(in));
			o = json_pack("{s:s, s:o, s:b}", "provider", in.bdf,
				      "p2pmem", p2pmem_json(&in),
				      "nominated", rank[i].nominated);
			if (n) {
				json_t *mt = json_array();

				json_object_set_new(o, "distance",
						    json_integer(rank[i].distance));
				/* Per-client types, from the cache the ranking filled
				 * (UNKNOWN after a non-verbose early stop). */
				for (k = 0; k < n; k++)
					json_array_append_new(mt, json_string(
						p2pdma_map_type_name(p2pdma_map_type_of(
							r, rank[i].dev, clients[k], NULL))));
				json_object_set_new(o, "map_types", mt);
			}
			json_array_append_new(jp, o);
		}
		for (i = 0; found && i < res->ncandidates; i++)
			json_array_append_new(jt, json_string(
				p2pdma_dev_name(res->candidates[i])));
		json_object_set_new(root, "clients", jc);
		json_object_set_new(root, "providers", jp);
		if (n) {
			json_object_set_new(root, "tie_set", jt);
			json_object_set_new(root, "pick", found ?
				json_string(p2pdma_dev_name(res->pick)) : json_null());
			json_object_set_new(root, "distance",
					    json_integer(found ? res->distance : -1));
			json_object_set_new(root, "seed", json_integer((json_int_t)seed));
		} else {
			json_decref(jt);
		}
		json_object_set_new(root, "notes", cli_notes_json(cli));
		ret = cli_print_json(cli, root);
		if (!ret && n && !found)
			ret = 1;
		goto out;
	}

	if (!nr) {
		fprintf(cli->out,
			"no function has published p2pmem (use --bar BDF:N to nominate one)\n");
	} else if (!n) {
		fprintf(cli->out, "functions with published p2pmem:\n");
		for (i = 0; i < nr; i++) {
			struct p2pdma_dev_info in;
			char lbl[64];

			p2pdma_dev_get_info(rank[i].dev, &in, sizeof(in));
			if (rank[i].nominated)
				fprintf(cli->out, "  %s  (nominated with --bar)\n",
					cli_dev_label(rank[i].dev, lbl, sizeof(lbl)));
			else
				fprintf(cli->out, "  %s  size %" PRIu64 " available %" PRIu64 "\n",
					cli_dev_label(rank[i].dev, lbl, sizeof(lbl)),
					in.p2pmem.size, in.p2pmem.available);
		}
	} else {
		fprintf(cli->out, "clients:");
		for (i = 0; i < (size_t)n; i++)
			fprintf(cli->out, " %s", p2pdma_dev_name(clients[i]));
		fprintf(cli->out, "\nproviders ranked by pci_p2pdma_distance_many():\n");
		for (i = 0; i < nr; i++) {
			char lbl[64];
			bool tie = false;
			unsigned int k;

			for (k = 0; found && k < res->ncandidates; k++)
				if (res->candidates[k] == rank[i].dev)
					tie = true;
			fprintf(cli->out, "  %-28s distance %3d%s%s%s\n",
				cli_dev_label(rank[i].dev, lbl, sizeof(lbl)),
				rank[i].distance,
				rank[i].distance < 0 ? "  (not usable by every client)" : "",
				tie ? "  [tie set]" : "",
				found && res->pick == rank[i].dev ? "  <= pick" : "");
		}
		if (found) {
			fprintf(cli->out,
				"tie set: %u provider%s at distance %d; the kernel picks one at random\n",
				res->ncandidates, res->ncandidates == 1 ? "" : "s",
				res->distance);
			fprintf(cli->out, "seeded draw (seed %llu%s): %s (index %u)\n",
				seed, seed_set ? "" : ", random; pass --seed to repeat",
				p2pdma_dev_name(res->pick), res->draw);
		} else {
			fprintf(cli->out,
				"no provider is usable by every client: pci_p2pmem_find_many() returns NULL\n");
		}
	}
	cli_print_notes(cli);
	ret = n && !found ? 1 : 0;
out:
	p2pdma_router_destroy(r);
	free(clients);
	free(vs);
	free(rank);
	free(res);
	return ret;
}
