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
"Usage: p2pdma [SOURCE] [POLICY] [WHAT-IF] providers [--json] [--bar BDF:N ...]\n"
"              [--seed N] [CLIENT...]\n"
"\n"
"Which p2pmem a kernel user such as nvmet-rdma would pick for a set of\n"
"clients. A provider is a function whose driver registered a BAR as P2P\n"
"memory and published it (sysfs p2pmem/published = 1; e.g. an NVMe CMB,\n"
"spec 1.5). Without CLIENTs it lists them. With CLIENTs it ranks them as\n"
"pci_p2pmem_find_many() does: pci_p2pdma_distance_many(provider, clients)\n"
"without warnings, providers some client cannot reach (-1) dropped, the\n"
"smallest distance wins, and among the tied ones the kernel picks one at\n"
"RANDOM (get_random_u32_below), not the first. Each provider's line shows\n"
"every client's verdict (BUS_ADDR, THRU_HOST_BRIDGE, NOT_SUPPORTED as in\n"
"'p2pdma check') and names the clients that rule it out.\n"
"\n"
"  --bar BDF:N  what-if: treat memory BAR N of BDF as registered and\n"
"               published p2pmem (repeatable), e.g. a GPU or CMB whose\n"
"               driver does not publish it\n"
"  --seed N     seed of the tie-break draw (default: random, printed)\n"
"\n"
"Exit status: 0 a provider was found (or no CLIENT given), 1 no provider is\n"
"usable by every client, 2 usage or input error.\n"
"\n"
"Examples:\n"
"  p2pdma --sysfs DIR/sysfs providers\n"
"  p2pdma --sysfs DIR/sysfs providers --seed 1 0000:05:00.0\n"
"  p2pdma --example xeon-8gpu providers --bar 1b:00.0:0 --bar 2c:00.0:0 1a:00.0\n";

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

/* "16 MiB": p2pmem sizes are powers of two or close to them. */
static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	unsigned int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (d == (double)(uint64_t)d)
		snprintf(buf, len, "%.0f %s", d, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", d, unit[u]);
	return buf;
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
	struct p2pdma_router *r = NULL, *rx = NULL;
	enum p2pdma_map_type *types = NULL;
	int *dists = NULL, k;
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
		/* Every client's verdict for every provider, on a router of its
		 * own: the kernel's non-verbose walk stops at the first refusal,
		 * but the user wants to know all the clients that rule it out. */
		rx = cli_router(cli);
		types = calloc(nr * (size_t)n + 1, sizeof(*types));
		dists = calloc(nr * (size_t)n + 1, sizeof(*dists));
		if (!rx || !types || !dists) {
			ret = rx ? cli_error("out of memory") : 2;
			goto out;
		}
		for (b = 0; b < nbars; b++)
			add_bar(cli, rx, bars[b]);
		for (i = 0; i < nr; i++)
			for (k = 0; k < n; k++) {
				types[i * (size_t)n + (size_t)k] =
					p2pdma_calc(rx, rank[i].dev, clients[k], false, vs);
				dists[i * (size_t)n + (size_t)k] = vs->distance;
			}
	}

	if (cli->json) {
		json_t *root = json_object(), *jc = json_array(), *jp = json_array();
		json_t *jt = json_array();

		for (i = 0; i < (size_t)n; i++)
			json_array_append_new(jc, json_string(p2pdma_dev_name(clients[i])));
		for (i = 0; i < nr; i++) {
			struct p2pdma_dev_info in;
			json_t *o;

			p2pdma_dev_get_info(rank[i].dev, &in, sizeof(in));
			o = json_pack("{s:s, s:o, s:b}", "provider", in.bdf,
				      "p2pmem", p2pmem_json(&in),
				      "nominated", rank[i].nominated);
			if (n) {
				json_t *mt = json_array(), *rb = json_array();

				json_object_set_new(o, "distance",
						    json_integer(rank[i].distance));
				/* Per-client map types, every client evaluated. */
				for (k = 0; k < n; k++) {
					enum p2pdma_map_type t = types[i * (size_t)n + (size_t)k];

					json_array_append_new(mt, json_string(p2pdma_map_type_name(t)));
					if (t == P2PDMA_MAP_NOT_SUPPORTED)
						json_array_append_new(rb, json_string(
							p2pdma_dev_name(clients[k])));
				}
				json_object_set_new(o, "map_types", mt);
				json_object_set_new(o, "refused_by", rb);
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
			"no function has published p2pmem: no driver registered and published a BAR\n"
			"(an NVMe CMB does; most GPUs and NICs do not). To ask 'what if', nominate a\n"
			"memory BAR: p2pdma providers --bar BDF:N [CLIENT...]\n");
	} else if (!n) {
		fprintf(cli->out, "functions with published p2pmem (pci_p2pmem_find_many() candidates):\n");
		for (i = 0; i < nr; i++) {
			struct p2pdma_dev_info in;
			char lbl[64], h1[32], h2[32];

			p2pdma_dev_get_info(rank[i].dev, &in, sizeof(in));
			if (rank[i].nominated)
				fprintf(cli->out, "  %-28s nominated with --bar\n",
					cli_dev_label(rank[i].dev, lbl, sizeof(lbl)));
			else
				fprintf(cli->out, "  %-28s %s, %s free%s%s\n",
					cli_dev_label(rank[i].dev, lbl, sizeof(lbl)),
					human(in.p2pmem.size, h1, sizeof(h1)),
					human(in.p2pmem.available, h2, sizeof(h2)),
					in.device_name ? "  " : "",
					in.device_name ? in.device_name : "");
		}
		fprintf(cli->out, "give CLIENTs to rank them: p2pdma providers CLIENT [CLIENT...]\n");
	} else {
		fprintf(cli->out, "clients:");
		for (i = 0; i < (size_t)n; i++)
			fprintf(cli->out, " %s", p2pdma_dev_name(clients[i]));
		fprintf(cli->out, "\nproviders, ranked by pci_p2pdma_distance_many() (smaller is better, -1 unusable):\n");
		for (i = 0; i < nr; i++) {
			char lbl[64];
			bool tie = false;
			unsigned int t;

			for (t = 0; found && t < res->ncandidates; t++)
				if (res->candidates[t] == rank[i].dev)
					tie = true;
			fprintf(cli->out, "  %-28s distance %3d%s%s\n",
				cli_dev_label(rank[i].dev, lbl, sizeof(lbl)),
				rank[i].distance,
				tie ? "  [tie set]" : "",
				found && res->pick == rank[i].dev ? "  <= pick" : "");
			for (k = 0; k < n; k++) {
				enum p2pdma_map_type mt = types[i * (size_t)n + (size_t)k];

				fprintf(cli->out, "      %s: %s, distance %d%s\n",
					p2pdma_dev_name(clients[k]),
					p2pdma_map_type_name(mt),
					dists[i * (size_t)n + (size_t)k],
					mt == P2PDMA_MAP_NOT_SUPPORTED ? "  <- rules this provider out" : "");
			}
		}
		if (found) {
			if (res->ncandidates == 1)
				fprintf(cli->out,
					"one provider at the smallest distance %d: the kernel picks it\n",
					res->distance);
			else
				fprintf(cli->out,
					"tie set: %u providers at distance %d; the kernel picks one of them at random\n",
					res->ncandidates, res->distance);
			fprintf(cli->out, "seeded draw (seed %llu%s): %s (index %u of the tie set)\n",
				seed, seed_set ? "" : ", random; pass --seed to repeat",
				p2pdma_dev_name(res->pick), res->draw);
		} else {
			fprintf(cli->out,
				"no provider is usable by every client: pci_p2pmem_find_many() returns NULL\n"
				"('p2pdma check PROVIDER CLIENT' says why, 'p2pdma fix' what would help)\n");
		}
	}
	cli_print_notes(cli);
	ret = n && !found ? 1 : 0;
out:
	p2pdma_router_destroy(r);
	p2pdma_router_destroy(rx);
	free(types);
	free(dists);
	free(clients);
	free(vs);
	free(rank);
	free(res);
	return ret;
}
