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
"first, uncached evaluation gives it (spec 2.2):\n"
"  BUS:n  BUS_ADDR, distance n: supported, direct (turns around in a switch)\n"
"  HB:n   THRU_HOST_BRIDGE, distance n: supported, via the root complex\n"
"  X      NOT_SUPPORTED: the kernel refuses the pair\n"
"  ?      suffix: the verdict assumes ACS redirect off on a port whose ACS\n"
"         state is unknown (with redirect on it would not be BUS_ADDR)\n"
"'p2pdma check PROVIDER CLIENT' explains a cell, 'p2pdma fix' repairs it.\n"
"\n"
"Which functions: bridges never (they are not P2P endpoints). The text grid\n"
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

static bool class_match(uint32_t class_code, const char *spec)
{
	static const struct { const char *name; const char *hex; } names[] = {
		{ "gpu", "03" }, { "display", "03" }, { "nic", "02" },
		{ "network", "02" }, { "nvme", "0108" }, { "storage", "01" },
		{ "accel", "12" }, { "accelerator", "12" },
	};
	char buf[256], *tok, *save = NULL;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *hex = tok;
		size_t len;
		unsigned long want;
		char *end;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcasecmp(tok, names[i].name))
				hex = names[i].hex;
		len = strlen(hex);
		want = strtoul(hex, &end, 16);
		if (*end || (len != 2 && len != 4 && len != 6))
			continue;
		if ((class_code >> (24 - 4 * len)) == want)
			return true;
	}
	return false;
}

static int check_class(const char *spec)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok);
		char *end;

		if (!strcasecmp(tok, "gpu") || !strcasecmp(tok, "display") ||
		    !strcasecmp(tok, "nic") || !strcasecmp(tok, "network") ||
		    !strcasecmp(tok, "nvme") || !strcasecmp(tok, "storage") ||
		    !strcasecmp(tok, "accel") || !strcasecmp(tok, "accelerator"))
			continue;
		strtoul(tok, &end, 16);
		if (*end || (len != 2 && len != 4 && len != 6))
			return cli_error("--class '%s': want hex 2, 4 or 6 digits or gpu, nic, nvme, storage, accel",
					 tok);
	}
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
	const char *cls = NULL, *list = NULL;
	const struct p2pdma_dev **devs = NULL;
	struct p2pdma_router *r = NULL, *rx = NULL;
	struct p2pdma_verdict *v = NULL;
	uint8_t *types = NULL, *alt = NULL;
	int *dists = NULL;
	size_t ndev, n = 0, nall = 0, i, j, count[3] = { 0, 0, 0 }, ndep = 0;
	bool unknown = false, all = false, defaulted = false, one_domain = true;
	int opt, ret = 2, width, lw = 0, cw = 1;

	/* glibc re-initialises (and permutes options after operands again,
	 * which the dispatcher's "+" scan turned off) only when optind is 0. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "jac:d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'a': all = true; break;
		case 'c': cls = optarg; break;
		case 'd': list = optarg; break;
		case 'h': fputs(matrix_help, cli->out); return 0;
		default: fputs(matrix_help, stderr); return 2;
		}
	}
	if (optind < argc)
		return cli_error("matrix: unexpected argument '%s' (options: --all, --class, --devices, --json)",
				 argv[optind]);
	if (list && (cls || all))
		return cli_error("matrix: --devices names the functions itself; it does not go with --class or --all");
	if (cls && all)
		return cli_error("matrix: --all and --class contradict each other");
	if (cls && check_class(cls))
		return 2;
	ndev = p2pdma_topo_num_devs(cli->topo);
	devs = calloc(ndev + 1, sizeof(*devs));
	if (!devs)
		return cli_error("out of memory");
	for (i = 0; i < ndev; i++) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(p2pdma_topo_dev(cli->topo, i), &in, sizeof(in));
		if (!in.is_bridge)
			nall++;
		if (in.acs_state == P2PDMA_ACS_UNKNOWN)
			unknown = true;
	}
	if (list) {
		char *copy = strdup(list), *tok, *save = NULL;

		if (!copy)
			goto nomem;
		for (tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			const struct p2pdma_dev *d = cli_find_dev(cli, tok);

			if (!d) {
				free(copy);
				goto out;
			}
			for (j = 0; j < n && devs[j] != d; j++)
				;
			if (j == n && n < ndev)
				devs[n++] = d;
		}
		free(copy);
	} else {
		const char *want = cls;
		size_t pass;

		/* Text without a choice: the usual P2P players, if at least two. */
		if (!want && !all && !cli->json) {
			want = default_classes;
			defaulted = true;
		}
		for (pass = 0; pass < 2; pass++) {
			n = 0;
			for (i = 0; i < ndev; i++) {
				const struct p2pdma_dev *d = p2pdma_topo_dev(cli->topo, i);
				struct p2pdma_dev_info in;

				p2pdma_dev_get_info(d, &in, sizeof(in));
				if (in.is_bridge)
					continue;
				if (want && !class_match(in.class_code, want))
					continue;
				devs[n++] = d;
			}
			if (!defaulted || n >= 2)
				break;
			want = NULL;
			defaulted = false;
		}
	}
	r = cli_router(cli);
	if (!r)
		goto out;
	types = calloc(n + 1, 1);
	alt = calloc(n * n + 1, 1);
	dists = calloc(n + 1, sizeof(*dists));
	v = calloc(1, sizeof(*v));
	if (!types || !alt || !dists || !v)
		goto nomem;
	/* Which verdicts hinge on unknown ACS: only those need the full
	 * explanation, on a router of their own (its cache must not leak
	 * into the grid's first-evaluation answers). */
	if (unknown) {
		rx = cli_router(cli);
		if (!rx)
			goto out;
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++) {
				char why[256];

				p2pdma_calc(rx, devs[i], devs[j], false, v);
				alt[i * n + j] = (uint8_t)cli_if_acs_redirect(cli, devs[i], v,
									       why, sizeof(why));
				if (alt[i * n + j] != P2PDMA_MAP_BUS_ADDR)
					ndep++;
			}
	}

	if (cli->json) {
		json_t *root = json_object(), *jd = json_array(), *jp = json_array();
		json_t *notes = cli_notes_json(cli);

		for (i = 0; i < n; i++)
			json_array_append_new(jd, json_string(p2pdma_dev_name(devs[i])));
		for (i = 0; i < n; i++) {
			p2pdma_map_type_row(r, devs[i], devs, n, types, dists);
			for (j = 0; j < n; j++) {
				json_t *o = json_pack("{s:s, s:s, s:s, s:i}",
					"provider", p2pdma_dev_name(devs[i]),
					"client", p2pdma_dev_name(devs[j]),
					"map_type", p2pdma_map_type_name(types[j]),
					"distance", dists[j]);

				if (o && unknown && alt[i * n + j] != P2PDMA_MAP_BUS_ADDR)
					json_object_set_new(o, "map_type_if_acs_redirect",
						json_string(p2pdma_map_type_name(alt[i * n + j])));
				json_array_append_new(jp, o);
			}
		}
		if (unknown)
			json_array_append_new(notes, json_string(
				"some functions have unknown ACS state: verdicts assume redirect off; pairs with map_type_if_acs_redirect depend on it"));
		json_object_set_new(root, "devices", jd);
		json_object_set_new(root, "pairs", jp);
		json_object_set_new(root, "kernel",
				    json_string(p2pdma_policy_kernel(cli->pol)));
		json_object_set_new(root, "notes", notes);
		ret = cli_print_json(cli, root);
		goto out;
	}

	if (!n) {
		fprintf(cli->out, "no functions match%s\n", cls ? " --class" : "");
		cli_print_notes(cli);
		ret = 0;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct p2pdma_dev_info a, b;

		p2pdma_dev_get_info(devs[i], &a, sizeof(a));
		p2pdma_dev_get_info(devs[0], &b, sizeof(b));
		if (a.domain != b.domain)
			one_domain = false;
	}
	/* Widths: the row label "[i] BDF" and the widest cell. */
	for (i = 0; i < n; i++) {
		char h[48], c[16];

		snprintf(h, sizeof(h), "[%zu] %s", i,
			 p2pdma_dev_name(devs[i]) + (one_domain ? 5 : 0));
		if ((int)strlen(h) > lw)
			lw = (int)strlen(h);
		p2pdma_map_type_row(r, devs[i], devs, n, types, dists);
		for (j = 0; j < n; j++) {
			cell(c, sizeof(c), types[j], dists[j],
			     unknown && alt[i * n + j] != P2PDMA_MAP_BUS_ADDR);
			if ((int)strlen(c) > cw)
				cw = (int)strlen(c);
			if (types[j] == P2PDMA_MAP_BUS_ADDR)
				count[0]++;
			else if (types[j] == P2PDMA_MAP_THRU_HOST_BRIDGE)
				count[1]++;
			else
				count[2]++;
		}
	}
	if (cw < (int)snprintf(NULL, 0, "[%zu]", n - 1))
		cw = (int)snprintf(NULL, 0, "[%zu]", n - 1);
	if (lw < 15)
		lw = 15;
	fprintf(cli->out, "%s: %zu of %zu functions", p2pdma_topo_name(cli->topo),
		n, nall);
	if (defaulted)
		fprintf(cli->out, " (GPUs, NICs, storage, accelerators; --all for every function)");
	else if (cls)
		fprintf(cli->out, " (--class %s)", cls);
	fprintf(cli->out, ", kernel %s, AMD Zen CPU rule %s\n",
		p2pdma_policy_kernel(cli->pol),
		p2pdma_policy_cpu_rule(cli->pol) ? "on" : "off");
	fprintf(cli->out, "rows: provider (memory owner), columns: client (DMA initiator)");
	if (one_domain) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(devs[0], &in, sizeof(in));
		fprintf(cli->out, "; domain %04x", in.domain);
	}
	fprintf(cli->out, "\n\n");
	width = cli_term_width(cli);
	{
		size_t per = (size_t)((width - lw) / (cw + 1)), start;

		if (per < 1)
			per = 1;
		/* Blocks of equal size read better than a full one and a stub. */
		per = (n + (n + per - 1) / per - 1) / ((n + per - 1) / per);
		for (start = 0; start < n; start += per) {
			size_t end = start + per < n ? start + per : n;

			if (start)
				fputc('\n', cli->out);
			fprintf(cli->out, "%-*s", lw, "provider\\client");
			for (j = start; j < end; j++) {
				char h[32];

				snprintf(h, sizeof(h), "[%zu]", j);
				fprintf(cli->out, " %*s", cw, h);
			}
			fputc('\n', cli->out);
			for (i = 0; i < n; i++) {
				char h[48];

				snprintf(h, sizeof(h), "[%zu] %s", i,
					 p2pdma_dev_name(devs[i]) + (one_domain ? 5 : 0));
				fprintf(cli->out, "%-*s", lw, h);
				p2pdma_map_type_row(r, devs[i], devs, n, types, dists);
				for (j = start; j < end; j++) {
					char c[16];

					cell(c, sizeof(c), types[j], dists[j],
					     unknown && alt[i * n + j] != P2PDMA_MAP_BUS_ADDR);
					fprintf(cli->out, " %*s", cw, c);
				}
				fputc('\n', cli->out);
			}
		}
	}
	fprintf(cli->out, "\n%zu pairs: %zu BUS_ADDR, %zu THRU_HOST_BRIDGE, %zu NOT_SUPPORTED"
		" (the diagonal is each function with itself)\n",
		n * n, count[0], count[1], count[2]);
	fprintf(cli->out, "\nKey:\n");
	for (i = 0; i < n; i++) {
		struct p2pdma_dev_info in;
		char lbl[64];

		p2pdma_dev_get_info(devs[i], &in, sizeof(in));
		fprintf(cli->out, "  [%zu] %s  %04x:%04x class %06x%s%s%s\n", i,
			cli_dev_label(devs[i], lbl, sizeof(lbl)), in.vendor,
			in.device, in.class_code, in.device_name ? "  " : "",
			in.device_name ? in.device_name : "",
			in.is_vf ? "  (VF)" : "");
	}
	fprintf(cli->out,
		"\nBUS:n = BUS_ADDR, supported, direct (turns around in a common switch/bridge), distance n\n"
		"HB:n  = THRU_HOST_BRIDGE, supported, via the root complex, distance n\n"
		"X     = NOT_SUPPORTED, refused\n");
	if (ndep)
		fprintf(cli->out,
			"?     = %zu BUS_ADDR verdicts assume ACS redirect off on ports whose ACS state is\n"
			"        unknown; with redirect on they go through the host bridge ('p2pdma check' tells)\n",
			ndep);
	else if (unknown)
		fprintf(cli->out,
			"note: some functions have unknown ACS state; no verdict shown depends on it\n");
	fprintf(cli->out, "Why a cell is what it is: p2pdma check PROVIDER CLIENT\n");
	cli_print_notes(cli);
	ret = 0;
	goto out;
nomem:
	ret = cli_error("out of memory");
out:
	p2pdma_router_destroy(r);
	p2pdma_router_destroy(rx);
	free(devs);
	free(types);
	free(alt);
	free(dists);
	free(v);
	return ret;
}
