// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-matrix.c - p2pdma matrix: the verdict of every ordered pair, as a grid */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli-verdict.h"

static const char matrix_help[] =
"Usage: p2pdma [SOURCE] [POLICY] [WHAT-IF] matrix [--json] [--all]\n"
"              [--class CLASS[,CLASS...]] [--devices BDF,BDF...]\n"
"\n"
"The kernel's verdict for every ordered pair of functions, as a grid: rows\n"
"are the PROVIDER (owner of the memory), columns the CLIENT (the DMA\n"
"initiator). Each cell is calc_map_type_and_dist() for the pair, as its\n"
"first, uncached evaluation gives it (doc/kernel-model.md §2.2):\n"
"  BUS:n  BUS_ADDR, distance n: supported, direct (turns around in a switch)\n"
"  HB:n   THRU_HOST_BRIDGE, distance n: supported, via the root complex\n"
"  X      NOT_SUPPORTED: the kernel refuses the pair\n"
"  ?      suffix: the verdict assumes ACS redirect off on a port whose ACS\n"
"         state is unknown (with redirect on it would not be BUS_ADDR)\n"
"'p2pdma check PROVIDER CLIENT' explains a cell, 'p2pdma fix' repairs it.\n"
"\n"
"Which functions: bridges never (they are not P2P endpoints; --devices\n"
"refuses one). The text grid\n"
"shows by default only GPUs, NICs, storage and accelerators (classes 03,\n"
"02, 01, 12), when there are at least two; --all shows every function.\n"
"--json lists every function unless --class or --devices is given.\n"
"  --class   hex base class or base+subclass (03, 0302, 010802) or a name:\n"
"            gpu (03), nic (02), nvme (0108), storage (01), accel (12)\n"
"  --devices an explicit list (DDDD:BB:DD.F or BB:DD.F), in that order\n"
"Wide grids are split into blocks of columns to fit $COLUMNS or the\n"
"terminal (100 when not a terminal).\n"
"\n"
"JSON: {\"devices\": [BDF...], \"pairs\": [{\"provider\", \"client\",\n"
"\"map_type\", \"distance\"[, \"map_type_if_acs_redirect\"]}...], \"kernel\",\n"
"\"notes\"}. The distance is the hop count calc_map_type_and_dist() reports,\n"
"also for NOT_SUPPORTED pairs (pci_p2pdma_distance() returns -1 for those).\n"
"Exit status: 0 (the grid is the answer, whatever it holds), 2 bad input.\n"
"\n"
"Examples:\n"
"  p2pdma --example xeon-8gpu matrix\n"
"  p2pdma --example xeon-8gpu matrix --class gpu,nic\n"
"  p2pdma --example epyc-2s --cpu intel:6 matrix --devices 41:00.0,42:00.0,61:00.0\n";

static const struct { const char *name; const char *hex; } class_names[] = {
	{ "gpu", "03" }, { "display", "03" }, { "nic", "02" },
	{ "network", "02" }, { "nvme", "0108" }, { "storage", "01" },
	{ "accel", "12" }, { "accelerator", "12" },
};

/* The hex form of one --class token, or NULL if it is not one. */
static const char *class_hex(const char *tok)
{
	size_t i, len = strlen(tok);
	char *end;

	for (i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (!strcasecmp(tok, class_names[i].name))
			return class_names[i].hex;
	if (len != 2 && len != 4 && len != 6)
		return NULL;
	strtoul(tok, &end, 16);
	return *end ? NULL : tok;
}

static bool class_match(uint32_t class_code, const char *spec)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *hex = class_hex(tok);
		size_t len;

		if (!hex)
			continue;
		len = strlen(hex);
		if ((class_code >> (24 - 4 * len)) == strtoul(hex, NULL, 16))
			return true;
	}
	return false;
}

static int check_class(const char *spec)
{
	char buf[256], *tok, *save = NULL;
	bool any = false;

	if (strlen(spec) >= sizeof(buf))
		return cli_error("--class: list too long");
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!class_hex(tok))
			return cli_error("--class '%s': want hex 2, 4 or 6 digits or gpu, nic, nvme, storage, accel",
					 tok);
		any = true;
	}
	if (!any)
		return cli_error("--class: empty; want hex 2, 4 or 6 digits or gpu, nic, nvme, storage, accel");
	return 0;
}

static void cell(char *buf, size_t len, uint8_t t, int d, bool depends)
{
	switch (t) {
	case P2PDMA_MAP_BUS_ADDR: snprintf(buf, len, "BUS:%d%s", d, depends ? "?" : ""); break;
	case P2PDMA_MAP_THRU_HOST_BRIDGE: snprintf(buf, len, "HB:%d", d); break;
	case P2PDMA_MAP_NOT_SUPPORTED: snprintf(buf, len, "X"); break;
	default: snprintf(buf, len, "?"); break;
	}
}

/* The classes a P2P user looks for first (text grid default). */
static const char default_classes[] = "gpu,nic,storage,accel";

struct matrix {
	struct cli *cli;
	const struct p2pdma_router *r;
	const char *cls;
	const struct p2pdma_dev **devs;
	size_t n, nall;
	bool defaulted, unknown, one_domain;
	uint8_t *alt;			/* n*n: the verdict if unknown ACS redirects */
	size_t ndep;			/* how many cells depend on unknown ACS */
	uint8_t *types;			/* one row */
	int *dists;
};

/* --devices: an explicit list, in that order, bridges refused. */
static int pick_listed(struct matrix *m, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	size_t j;

	if (!copy)
		return cli_error("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct p2pdma_dev *d = cli_find_dev(m->cli, tok);
		struct p2pdma_dev_info in;

		if (!d) {
			free(copy);
			return 2;
		}
		p2pdma_dev_get_info(d, &in, sizeof(in));
		if (in.is_bridge) {
			free(copy);
			return cli_error("--devices: %s is a bridge; bridges are not P2P endpoints", in.bdf);
		}
		for (j = 0; j < m->n && m->devs[j] != d; j++)
			;
		if (j == m->n)
			m->devs[m->n++] = d;
	}
	free(copy);
	if (!m->n)
		return cli_error("--devices: empty list");
	return 0;
}

/* --class, --all, or the default classes (if at least two match). */
static void pick_by_class(struct matrix *m, bool all)
{
	const struct p2pdma_topo *t = m->cli->topo;
	const char *want = m->cls;
	size_t i, ndev = p2pdma_topo_num_devs(t);

	if (!want && !all && !m->cli->json) {
		want = default_classes;
		m->defaulted = true;
	}
	for (;;) {
		m->n = 0;
		for (i = 0; i < ndev; i++) {
			const struct p2pdma_dev *d = p2pdma_topo_dev(t, i);
			struct p2pdma_dev_info in;

			p2pdma_dev_get_info(d, &in, sizeof(in));
			if (!in.is_bridge && (!want || class_match(in.class_code, want)))
				m->devs[m->n++] = d;
		}
		if (!m->defaulted || m->n >= 2)
			return;
		want = NULL;
		m->defaulted = false;
	}
}

/* Which cells hinge on unknown ACS: only those need the full calculation. */
static int mark_dependent(struct matrix *m)
{
	struct p2pdma_verdict *v;
	size_t i, j, n = m->n;

	m->alt = calloc(n * n + 1, 1);
	if (!m->alt || p2pdma_verdict_create(&v))
		return cli_error("out of memory");
	for (i = 0; m->unknown && i < n; i++)
		for (j = 0; j < n; j++) {
			p2pdma_router_calc(m->r, m->devs[i], m->devs[j], false, v);
			m->alt[i * n + j] = (uint8_t)p2pdma_verdict_if_acs_redirect(v, NULL);
			m->ndep += m->alt[i * n + j] != P2PDMA_MAP_BUS_ADDR;
		}
	p2pdma_verdict_destroy(v);
	return 0;
}

static bool depends(const struct matrix *m, size_t i, size_t j)
{
	return m->alt[i * m->n + j] != P2PDMA_MAP_BUS_ADDR &&
	       m->alt[i * m->n + j] != P2PDMA_MAP_UNKNOWN;
}

static int matrix_json(struct matrix *m)
{
	json_t *root = json_object(), *jd = json_array(), *jp = json_array();
	json_t *notes = cli_notes_json(m->cli);
	size_t i, j, n = m->n;

	for (i = 0; i < n; i++)
		json_array_append_new(jd, json_string(p2pdma_dev_name(m->devs[i])));
	for (i = 0; i < n; i++) {
		p2pdma_router_map_type_row(m->r, m->devs[i], m->devs, n, m->types, m->dists);
		for (j = 0; j < n; j++) {
			json_t *o = json_pack("{s:s, s:s, s:s, s:i}",
				"provider", p2pdma_dev_name(m->devs[i]),
				"client", p2pdma_dev_name(m->devs[j]),
				"map_type", p2pdma_map_type_name(m->types[j]),
				"distance", m->dists[j]);

			if (o && depends(m, i, j))
				json_object_set_new(o, "map_type_if_acs_redirect",
					json_string(p2pdma_map_type_name(m->alt[i * n + j])));
			json_array_append_new(jp, o);
		}
	}
	if (m->unknown)
		json_array_append_new(notes, json_string(
			"some functions have unknown ACS state: verdicts assume redirect off; pairs with map_type_if_acs_redirect depend on it"));
	json_object_set_new(root, "devices", jd);
	json_object_set_new(root, "pairs", jp);
	json_object_set_new(root, "kernel", json_string(p2pdma_policy_kernel(m->cli->pol)));
	json_object_set_new(root, "notes", notes);
	return cli_print_json(m->cli, root);
}

static void row_label(const struct matrix *m, size_t i, char *h, size_t len)
{
	snprintf(h, len, "[%zu] %s", i, p2pdma_dev_name(m->devs[i]) + (m->one_domain ? 5 : 0));
}

/* One block of columns [start, end) of the text grid. */
static void grid_block(struct matrix *m, size_t start, size_t end, int lw, int cw)
{
	FILE *out = m->cli->out;
	size_t i, j;
	char h[48], c[16];

	fprintf(out, "%-*s", lw, "provider\\client");
	for (j = start; j < end; j++) {
		snprintf(h, sizeof(h), "[%zu]", j);
		fprintf(out, " %*s", cw, h);
	}
	fputc('\n', out);
	for (i = 0; i < m->n; i++) {
		row_label(m, i, h, sizeof(h));
		fprintf(out, "%-*s", lw, h);
		p2pdma_router_map_type_row(m->r, m->devs[i], m->devs, m->n, m->types, m->dists);
		for (j = start; j < end; j++) {
			cell(c, sizeof(c), m->types[j], m->dists[j], depends(m, i, j));
			fprintf(out, " %*s", cw, c);
		}
		fputc('\n', out);
	}
}

/* Widths, counts, then the grid in blocks of columns that fit. */
static void matrix_grid(struct matrix *m, size_t count[3])
{
	int lw = 15, cw = 1, width = cli_term_width(m->cli);
	size_t i, j, n = m->n, per, start, blocks;
	char h[48], c[16];

	for (i = 0; i < n; i++) {
		row_label(m, i, h, sizeof(h));
		if ((int)strlen(h) > lw)
			lw = (int)strlen(h);
		p2pdma_router_map_type_row(m->r, m->devs[i], m->devs, n, m->types, m->dists);
		for (j = 0; j < n; j++) {
			cell(c, sizeof(c), m->types[j], m->dists[j], depends(m, i, j));
			if ((int)strlen(c) > cw)
				cw = (int)strlen(c);
			count[m->types[j] == P2PDMA_MAP_BUS_ADDR ? 0 :
			      m->types[j] == P2PDMA_MAP_THRU_HOST_BRIDGE ? 1 : 2]++;
		}
	}
	if (cw < snprintf(NULL, 0, "[%zu]", n - 1))
		cw = snprintf(NULL, 0, "[%zu]", n - 1);
	per = width > lw ? (size_t)((width - lw) / (cw + 1)) : 1;
	if (per < 1)
		per = 1;
	/* Blocks of equal size read better than a full one and a stub. */
	blocks = (n + per - 1) / per;
	per = (n + blocks - 1) / blocks;
	for (start = 0; start < n; start += per) {
		if (start)
			fputc('\n', m->cli->out);
		grid_block(m, start, start + per < n ? start + per : n, lw, cw);
	}
}

static void matrix_key(struct matrix *m, const size_t count[3])
{
	FILE *out = m->cli->out;
	size_t i, n = m->n;

	fprintf(out, "\n%zu pair%s: %zu BUS_ADDR, %zu THRU_HOST_BRIDGE, %zu NOT_SUPPORTED"
		" (the diagonal is each function with itself)\n",
		n * n, cli_plural(n * n), count[0], count[1], count[2]);
	fprintf(out, "\nKey:\n");
	for (i = 0; i < n; i++) {
		struct p2pdma_dev_info in;
		char lbl[64];

		p2pdma_dev_get_info(m->devs[i], &in, sizeof(in));
		fprintf(out, "  [%zu] %s  %04x:%04x class %06x%s%s%s\n", i,
			cli_dev_label(m->devs[i], lbl, sizeof(lbl)), in.vendor,
			in.device, in.class_code, in.device_name ? "  " : "",
			in.device_name ? in.device_name : "",
			in.is_vf ? "  (VF)" : "");
	}
	fprintf(out,
		"\nBUS:n = BUS_ADDR, supported, direct (turns around in a common switch/bridge), distance n\n"
		"HB:n  = THRU_HOST_BRIDGE, supported, via the root complex, distance n\n"
		"X     = NOT_SUPPORTED, refused\n");
	if (m->ndep)
		fprintf(out,
			"?     = %zu BUS_ADDR verdicts assume ACS redirect off on ports whose ACS state is\n"
			"        unknown; with redirect on they go through the host bridge ('p2pdma check' tells)\n",
			m->ndep);
	else if (m->unknown)
		fprintf(out, "note: some functions have unknown ACS state; no verdict shown depends on it\n");
	fprintf(out, "Why a cell is what it is: p2pdma check PROVIDER CLIENT\n");
	cli_print_notes(m->cli);
}

static int matrix_text(struct matrix *m)
{
	FILE *out = m->cli->out;
	size_t count[3] = { 0, 0, 0 }, i;
	struct p2pdma_dev_info a, b;

	if (!m->n) {
		fprintf(out, "no functions match%s\n", m->cls ? " --class" : "");
		cli_print_notes(m->cli);
		return 0;
	}
	m->one_domain = true;
	p2pdma_dev_get_info(m->devs[0], &b, sizeof(b));
	for (i = 0; i < m->n; i++) {
		p2pdma_dev_get_info(m->devs[i], &a, sizeof(a));
		m->one_domain &= a.domain == b.domain;
	}
	cli_print_upfront(m->cli);
	fprintf(out, "%s: %zu of %zu function%s", p2pdma_topo_name(m->cli->topo), m->n, m->nall,
		cli_plural(m->nall));
	if (m->defaulted)
		fprintf(out, " (GPUs, NICs, storage, accelerators; --all for every function)");
	else if (m->cls)
		fprintf(out, " (--class %s)", m->cls);
	fprintf(out, ", kernel %s, AMD Zen CPU rule %s\n", p2pdma_policy_kernel(m->cli->pol),
		p2pdma_policy_cpu_rule(m->cli->pol) ? "on" : "off");
	fprintf(out, "rows: provider (memory owner), columns: client (DMA initiator)");
	if (m->one_domain)
		fprintf(out, "; domain %04x", b.domain);
	fprintf(out, "\n\n");
	matrix_grid(m, count);
	matrix_key(m, count);
	return 0;
}

int cmd_matrix(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "class", required_argument, NULL, 'c' },
		{ "devices", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct matrix m = { .cli = cli };
	const char *list = NULL;
	bool all = false;
	size_t i, ndev;
	int opt, ret = 2;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "jac:d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'a': all = true; break;
		case 'c': m.cls = optarg; break;
		case 'd': list = optarg; break;
		case 'h': fputs(matrix_help, cli->out); return 0;
		default: return cli_bad_option(argv, matrix_help);
		}
	}
	if (optind < argc)
		return cli_error("matrix: unexpected argument '%s' (options: --all, --class, --devices, --json)",
				 argv[optind]);
	if (list && (m.cls || all))
		return cli_error("matrix: --devices names the functions itself; it does not go with --class or --all");
	if (m.cls && all)
		return cli_error("matrix: --all and --class contradict each other");
	if (m.cls && check_class(m.cls))
		return 2;
	m.r = cli_router(cli);
	ndev = p2pdma_topo_num_devs(cli->topo);
	m.devs = calloc(ndev + 1, sizeof(*m.devs));
	m.types = calloc(ndev + 1, 1);
	m.dists = calloc(ndev + 1, sizeof(*m.dists));
	if (!m.devs || !m.types || !m.dists) {
		ret = cli_error("out of memory");
		goto out;
	}
	for (i = 0; i < ndev; i++) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(p2pdma_topo_dev(cli->topo, i), &in, sizeof(in));
		m.nall += !in.is_bridge;
		m.unknown |= in.acs_state == P2PDMA_ACS_UNKNOWN;
	}
	if (list) {
		if (pick_listed(&m, list))
			goto out;
	} else {
		pick_by_class(&m, all);
	}
	if (mark_dependent(&m))
		goto out;
	ret = cli->json ? matrix_json(&m) : matrix_text(&m);
out:
	free(m.devs);
	free(m.types);
	free(m.dists);
	free(m.alt);
	return ret;
}

/* --class for other commands (graph): the same names and rules. */
int cli_class_check(const char *spec)
{
	return check_class(spec);
}

bool cli_class_match(uint32_t class_code, const char *spec)
{
	return class_match(class_code, spec);
}
