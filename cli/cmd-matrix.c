// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-matrix.c - p2pdma matrix: the verdict of every ordered pair, as a grid */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli-verdict.h"

static const char matrix_help[] =
"Usage: p2pdma [SOURCE] matrix [--json] [--class CLASS[,CLASS...]]\n"
"                              [--devices BDF,BDF...]\n"
"\n"
"The kernel's verdict for every ordered pair of non-bridge functions (VFs\n"
"included, each function with itself too): rows are the PROVIDER (owner of\n"
"the memory), columns the CLIENT (DMA initiator). The answer for a pair is\n"
"calc_map_type_and_dist() as the first, uncached evaluation would give it.\n"
"\n"
"Cells:  BUS:n  BUS_ADDR at distance n (turns around in a switch/bridge)\n"
"        HB:n   THRU_HOST_BRIDGE at distance n (through the root complex)\n"
"        X      NOT_SUPPORTED (the kernel refuses)\n"
"Use 'p2pdma check P C' to see why a cell is what it is.\n"
"\n"
"--class filters by PCI class: hex base class or base+subclass (03, 0302,\n"
"  010802) or a name: gpu (03), nic (02), nvme (0108), storage (01),\n"
"  accel (12), bridge is never shown.\n"
"--devices restricts to a list (DDDD:BB:DD.F or BB:DD.F).\n"
"\n"
"JSON: {\"devices\": [BDF...], \"pairs\": [{\"provider\", \"client\",\n"
"\"map_type\", \"distance\"}...], \"notes\": [...]}. The distance is the hop\n"
"count calc_map_type_and_dist() reports, also for NOT_SUPPORTED pairs\n"
"(pci_p2pdma_distance() would return -1 for those).\n";

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

static void cell(char *buf, size_t len, uint8_t t, int d)
{
	switch (t) {
	case P2PDMA_MAP_BUS_ADDR: snprintf(buf, len, "BUS:%d", d); break;
	case P2PDMA_MAP_THRU_HOST_BRIDGE: snprintf(buf, len, "HB:%d", d); break;
	case P2PDMA_MAP_NOT_SUPPORTED: snprintf(buf, len, "X"); break;
	default: snprintf(buf, len, "?"); break;
	}
}

int cmd_matrix(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "class", required_argument, NULL, 'c' },
		{ "devices", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cls = NULL, *list = NULL;
	const struct p2pdma_dev **devs = NULL;
	struct p2pdma_router *r = NULL;
	uint8_t *types = NULL;
	int *dists = NULL;
	size_t ndev, n = 0, i, j;
	bool unknown = false;
	int opt, ret = 2;

	/* glibc re-initialises (and permutes options after operands again,
	 * which the dispatcher's "+" scan turned off) only when optind is 0. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "jc:d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'c': cls = optarg; break;
		case 'd': list = optarg; break;
		case 'h': fputs(matrix_help, cli->out); return 0;
		default: fputs(matrix_help, stderr); return 2;
		}
	}
	if (optind < argc)
		return cli_error("matrix: unexpected argument '%s'", argv[optind]);
	if (cls && check_class(cls))
		return 2;
	ndev = p2pdma_topo_num_devs(cli->topo);
	devs = calloc(ndev + 1, sizeof(*devs));
	if (!devs)
		return cli_error("out of memory");
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
			if (n < ndev)
				devs[n++] = d;
		}
		free(copy);
	} else {
		for (i = 0; i < ndev; i++) {
			const struct p2pdma_dev *d = p2pdma_topo_dev(cli->topo, i);
			struct p2pdma_dev_info in;

			p2pdma_dev_get_info(d, &in, sizeof(in));
			if (in.is_bridge)
				continue;
			if (cls && !class_match(in.class_code, cls))
				continue;
			devs[n++] = d;
		}
	}
	for (i = 0; i < n; i++) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(devs[i], &in, sizeof(in));
		if (in.acs_state == P2PDMA_ACS_UNKNOWN)
			unknown = true;
	}
	for (i = 0; i < ndev && !unknown; i++) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(p2pdma_topo_dev(cli->topo, i), &in, sizeof(in));
		if (in.acs_state == P2PDMA_ACS_UNKNOWN)
			unknown = true;
	}
	r = cli_router(cli);
	types = calloc(n + 1, 1);
	dists = calloc(n + 1, sizeof(*dists));
	if (!r || !types || !dists)
		goto nomem;

	if (cli->json) {
		json_t *root = json_object(), *jd = json_array(), *jp = json_array();
		json_t *notes = cli_notes_json(cli);

		for (i = 0; i < n; i++)
			json_array_append_new(jd, json_string(p2pdma_dev_name(devs[i])));
		for (i = 0; i < n; i++) {
			p2pdma_map_type_row(r, devs[i], devs, n, types, dists);
			for (j = 0; j < n; j++)
				json_array_append_new(jp, json_pack("{s:s, s:s, s:s, s:i}",
					"provider", p2pdma_dev_name(devs[i]),
					"client", p2pdma_dev_name(devs[j]),
					"map_type", p2pdma_map_type_name(types[j]),
					"distance", dists[j]));
		}
		if (unknown)
			json_array_append_new(notes, json_string(
				"some functions have unknown ACS state: verdicts assume it off"));
		json_object_set_new(root, "devices", jd);
		json_object_set_new(root, "pairs", jp);
		json_object_set_new(root, "kernel",
				    json_string(p2pdma_policy_kernel(cli->pol)));
		json_object_set_new(root, "notes", notes);
		ret = cli_print_json(cli, root);
		goto out;
	}

	if (!n) {
		fprintf(cli->out, "no functions match\n");
		ret = 0;
		goto out;
	}
	/* Columns are labelled by index; the key below names them. */
	fprintf(cli->out, "%-14s", "provider\\client");
	for (j = 0; j < n; j++) {
		char h[32];

		snprintf(h, sizeof(h), "[%zu]", j);
		fprintf(cli->out, " %7s", h);
	}
	fputc('\n', cli->out);
	for (i = 0; i < n; i++) {
		char h[48];

		snprintf(h, sizeof(h), "[%zu] %s", i, p2pdma_dev_name(devs[i]) + 5);
		fprintf(cli->out, "%-14s", h);
		p2pdma_map_type_row(r, devs[i], devs, n, types, dists);
		for (j = 0; j < n; j++) {
			char c[16];

			cell(c, sizeof(c), types[j], dists[j]);
			fprintf(cli->out, " %7s", c);
		}
		fputc('\n', cli->out);
	}
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
		"\nLegend: BUS:n = BUS_ADDR (P2P turns around in a common switch or bridge), distance n\n"
		"        HB:n  = THRU_HOST_BRIDGE (through the root complex, allowed), distance n\n"
		"        X     = NOT_SUPPORTED\n"
		"Rows are providers (memory owners), columns clients (DMA initiators).\n");
	if (unknown)
		fprintf(cli->out,
			"note: some functions have unknown ACS state: verdicts assume it off (see 'p2pdma check')\n");
	cli_print_notes(cli);
	ret = 0;
	goto out;
nomem:
	ret = cli_error("out of memory");
out:
	p2pdma_router_destroy(r);
	free(devs);
	free(types);
	free(dists);
	return ret;
}
