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
"doc/kernel-model.md §1.5). Without CLIENTs it lists them. With CLIENTs it ranks them as\n"
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
"  p2pdma --example xeon-8gpu providers --bar 18:00.0:1 --bar 29:00.0:1 1a:00.0\n";

/* --bar BDF:N: as if the driver registered and published that BAR. */
static int add_bar(struct cli *cli, const char *arg)
{
	char bdf[64], *colon, *end;
	const struct p2pdma_dev *d;
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
	/* The resource belongs to a driver binding: give it one if none. */
	if (!p2pdma_kernel_driver(cli->k, d) && p2pdma_kernel_bind(cli->k, d, "whatif"))
		return cli_error("%s", p2pdma_ctx_error(cli->ctx));
	if (p2pdma_kernel_add_resource(cli->k, d, (int)bar, 0, 0))
		return cli_error("--bar %s: %s", arg, p2pdma_ctx_error(cli->ctx));
	p2pdma_kernel_publish(cli->k, d, true);
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

struct providers {
	struct cli *cli;
	const struct p2pdma_dev **clients;
	size_t n;			/* clients */
	struct ranked *rank;
	size_t nr;
	struct p2pdma_find_result *res;
	bool found;
	unsigned long long seed;
	bool seed_set;
	uint8_t *types;			/* nr * n: every client's verdict */
	int *dists;
};

static bool in_tie_set(const struct providers *p, const struct p2pdma_dev *d)
{
	size_t t;

	for (t = 0; p->found && t < p2pdma_find_result_num_candidates(p->res); t++)
		if (p2pdma_find_result_candidate(p->res, t) == d)
			return true;
	return false;
}

/* The candidates, their distance_many() and find_many()'s draw. */
static int rank_providers(struct providers *p)
{
	const struct p2pdma_topo *t = p->cli->topo;
	const struct p2pdma_dev *pick;
	size_t ndev = p2pdma_topo_num_devs(t), i, k;

	p->rank = calloc(ndev + 1, sizeof(*p->rank));
	if (!p->rank || p2pdma_find_result_create(&p->res))
		return cli_error("out of memory");
	for (i = 0; i < ndev; i++) {
		const struct p2pdma_dev *d = p2pdma_topo_dev(t, i);
		struct p2pdma_dev_info in;
		struct ranked *r = &p->rank[p->nr];

		if (!p2pdma_kernel_has_p2pmem(p->cli->k, d))
			continue;
		p2pdma_dev_get_info(d, &in, sizeof(in));
		r->dev = d;
		r->nominated = !(in.p2pmem.present && in.p2pmem.published);
		r->distance = 0;
		if (p->n && p2pdma_kernel_distance_many(p->cli->k, d, p->clients, p->n,
							false, NULL, &r->distance))
			r->distance = -1;
		p->nr++;
	}
	if (!p->n)
		return 0;
	p2pdma_kernel_set_seed(p->cli->k, p->seed);
	p->found = !p2pdma_kernel_find_many(p->cli->k, p->clients, p->n, p->res, &pick);
	qsort(p->rank, p->nr, sizeof(*p->rank), cmp_ranked);
	/* Every client's verdict for every provider (pure: the kernel's
	 * non-verbose walk stops at the first refusal, but the user wants all
	 * the clients that rule a provider out). */
	p->types = calloc(p->nr * p->n + 1, 1);
	p->dists = calloc(p->nr * p->n + 1, sizeof(*p->dists));
	if (!p->types || !p->dists)
		return cli_error("out of memory");
	for (i = 0; i < p->nr; i++)
		for (k = 0; k < p->n; k++)
			p->types[i * p->n + k] = (uint8_t)p2pdma_router_map_type(
				cli_router(p->cli), p->rank[i].dev, p->clients[k],
				&p->dists[i * p->n + k]);
	return 0;
}

static json_t *provider_json(const struct providers *p, size_t i)
{
	struct p2pdma_dev_info in;
	json_t *o, *mt, *rb;
	size_t k;

	p2pdma_dev_get_info(p->rank[i].dev, &in, sizeof(in));
	o = json_pack("{s:s, s:o, s:b}", "provider", in.bdf, "p2pmem", p2pmem_json(&in),
		      "nominated", p->rank[i].nominated);
	if (!o || !p->n)
		return o;
	mt = json_array();
	rb = json_array();
	json_object_set_new(o, "distance", json_integer(p->rank[i].distance));
	/* Per-client map types, every client evaluated. */
	for (k = 0; k < p->n; k++) {
		enum p2pdma_map_type t = p->types[i * p->n + k];

		json_array_append_new(mt, json_string(p2pdma_map_type_name(t)));
		if (t == P2PDMA_MAP_NOT_SUPPORTED)
			json_array_append_new(rb, json_string(p2pdma_dev_name(p->clients[k])));
	}
	json_object_set_new(o, "map_types", mt);
	json_object_set_new(o, "refused_by", rb);
	return o;
}

static int providers_json(struct providers *p)
{
	json_t *root = json_object(), *jc = json_array(), *jp = json_array();
	json_t *jt = json_array();
	const struct p2pdma_dev *pick = p->found ? p2pdma_find_result_pick(p->res) : NULL;
	size_t i;

	for (i = 0; i < p->n; i++)
		json_array_append_new(jc, json_string(p2pdma_dev_name(p->clients[i])));
	for (i = 0; i < p->nr; i++)
		json_array_append_new(jp, provider_json(p, i));
	for (i = 0; p->found && i < p2pdma_find_result_num_candidates(p->res); i++)
		json_array_append_new(jt, json_string(p2pdma_dev_name(
			p2pdma_find_result_candidate(p->res, i))));
	json_object_set_new(root, "clients", jc);
	json_object_set_new(root, "providers", jp);
	if (p->n) {
		json_object_set_new(root, "tie_set", jt);
		json_object_set_new(root, "pick", pick ? json_string(p2pdma_dev_name(pick)) : json_null());
		json_object_set_new(root, "distance",
				    json_integer(p->found ? p2pdma_find_result_distance(p->res) : -1));
		json_object_set_new(root, "seed", json_integer((json_int_t)p->seed));
	} else {
		json_decref(jt);
	}
	json_object_set_new(root, "notes", cli_notes_json(p->cli));
	return cli_print_json(p->cli, root);
}

static void list_text(struct providers *p)
{
	FILE *out = p->cli->out;
	size_t i;

	fprintf(out, "functions with published p2pmem (pci_p2pmem_find_many() candidates):\n");
	for (i = 0; i < p->nr; i++) {
		struct p2pdma_dev_info in;
		char lbl[64], h1[32], h2[32];

		p2pdma_dev_get_info(p->rank[i].dev, &in, sizeof(in));
		if (p->rank[i].nominated)
			fprintf(out, "  %-28s nominated with --bar\n",
				cli_dev_label(p->rank[i].dev, lbl, sizeof(lbl)));
		else
			fprintf(out, "  %-28s %s, %s free%s%s\n",
				cli_dev_label(p->rank[i].dev, lbl, sizeof(lbl)),
				p2pdma_human_size(in.p2pmem.size, h1, sizeof(h1)),
				p2pdma_human_size(in.p2pmem.available, h2, sizeof(h2)),
				in.device_name ? "  " : "", in.device_name ? in.device_name : "");
	}
	fprintf(out, "give CLIENTs to rank them: p2pdma providers CLIENT [CLIENT...]\n");
}

static void ranked_text(struct providers *p)
{
	FILE *out = p->cli->out;
	const struct p2pdma_dev *pick = p->found ? p2pdma_find_result_pick(p->res) : NULL;
	size_t i, k, nt = p->found ? p2pdma_find_result_num_candidates(p->res) : 0;
	int dist = p->found ? p2pdma_find_result_distance(p->res) : -1;

	fprintf(out, "clients:");
	for (i = 0; i < p->n; i++)
		fprintf(out, " %s", p2pdma_dev_name(p->clients[i]));
	fprintf(out, "\nproviders, ranked by pci_p2pdma_distance_many() (smaller is better, -1 unusable):\n");
	for (i = 0; i < p->nr; i++) {
		char lbl[64];

		fprintf(out, "  %-28s distance %3d%s%s\n",
			cli_dev_label(p->rank[i].dev, lbl, sizeof(lbl)), p->rank[i].distance,
			in_tie_set(p, p->rank[i].dev) ? "  [tie set]" : "",
			pick == p->rank[i].dev ? "  <= pick" : "");
		for (k = 0; k < p->n; k++) {
			enum p2pdma_map_type mt = p->types[i * p->n + k];

			fprintf(out, "      %s: %s, distance %d%s\n",
				p2pdma_dev_name(p->clients[k]), p2pdma_map_type_name(mt),
				p->dists[i * p->n + k],
				mt == P2PDMA_MAP_NOT_SUPPORTED ? "  <- rules this provider out" : "");
		}
	}
	if (!p->found) {
		fprintf(out,
			"no provider is usable by every client: pci_p2pmem_find_many() returns NULL\n"
			"('p2pdma check PROVIDER CLIENT' says why, 'p2pdma fix' what would help)\n");
		return;
	}
	if (nt == 1)
		fprintf(out, "one provider at the smallest distance %d: the kernel picks it\n", dist);
	else
		fprintf(out, "tie set: %zu providers at distance %d; the kernel picks one of them at random\n",
			nt, dist);
	fprintf(out, "seeded draw (seed %llu%s): %s (index %zu of the tie set)\n",
		p->seed, p->seed_set ? "" : ", random; pass --seed to repeat",
		p2pdma_dev_name(pick), p2pdma_find_result_draw(p->res));
}

static int providers_text(struct providers *p)
{
	if (!p->nr)
		fprintf(p->cli->out,
			"no function has published p2pmem: no driver registered and published a BAR\n"
			"(an NVMe CMB does; most GPUs and NICs do not). To ask 'what if', nominate a\n"
			"memory BAR: p2pdma providers --bar BDF:N [CLIENT...]\n");
	else if (!p->n)
		list_text(p);
	else
		ranked_text(p);
	cli_print_notes(p->cli);
	return p->n && !p->found ? 1 : 0;
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
	struct providers p = { .cli = cli, .seed = cli->seed, .seed_set = cli->seed_set };
	const char *bars[64];
	unsigned int nbars = 0, b;
	int opt, ret = 2;

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
			p.seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg)
				return cli_error("--seed wants a number, got '%s'", optarg);
			p.seed_set = true;
			break;
		}
		case 'h': fputs(providers_help, cli->out); return 0;
		default: return cli_bad_option(argv, providers_help);
		}
	}
	if (!p.seed_set)
		p.seed = (unsigned long long)time(NULL) ^ ((unsigned long long)clock() << 20);
	p.n = (size_t)(argc - optind);
	p.clients = calloc(p.n + 1, sizeof(*p.clients));
	if (!p.clients) {
		ret = cli_error("out of memory");
		goto out;
	}
	if (cli_parse_devs(cli, argv + optind, (int)p.n, p.clients))
		goto out;
	for (b = 0; b < nbars; b++)
		if (add_bar(cli, bars[b]))
			goto out;
	if (rank_providers(&p))
		goto out;
	if (cli->json) {
		ret = providers_json(&p);
		if (!ret && p.n && !p.found)
			ret = 1;
	} else {
		ret = providers_text(&p);
	}
out:
	free(p.types);
	free(p.dists);
	free(p.clients);
	free(p.rank);
	p2pdma_find_result_destroy(p.res);
	return ret;
}
