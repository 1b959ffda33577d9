// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-graph.c - p2pdma graph: the hierarchy drawn by Graphviz */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-graph.h"
#include "cli-verdict.h"

static const char graph_help[] =
"Usage: p2pdma [SOURCE] [POLICY] [WHAT-IF] graph [--format dot|svg|png] [-o FILE]\n"
"              [--provider BDF] [--class LIST] [--vendor LIST] [--expand]\n"
"\n"
"Draws the PCI hierarchy as a tree laid out by Graphviz (dot): host bridges\n"
"with their allow-list state (green border: P2P through it is allowed, red:\n"
"not), root ports, switches and bridges, and every device with its name,\n"
"link speed and width and driver. A port whose ACS redirect bits (RR, CR,\n"
"EC) are set has a thick red border: P2P between devices below it is forced\n"
"up to the host bridge. Devices of one P2P island (every pair BUS_ADDR: the\n"
"traffic turns around in a switch) share a colour. A legend explains it.\n"
"\n"
"  --format F      svg (default), png, or dot (the graph before layout, to\n"
"                  edit or lay out yourself)\n"
"  -o FILE         write there instead of standard output (PNG is never\n"
"                  written to a terminal)\n"
"  --provider BDF  colour every other function by the kernel's verdict when\n"
"                  it is the client of that provider: green BUS_ADDR, amber\n"
"                  THRU_HOST_BRIDGE, red NOT_SUPPORTED, with the distance\n"
"  --class LIST    only functions of these classes, and the bridges above\n"
"                  them: gpu, nic, nvme, storage, accel or hex (03, 0108)\n"
"  --vendor LIST   only functions of these vendors (hex: 10de,15b3), and\n"
"                  the bridges above them\n"
"  --expand        draw identical subtrees one by one; by default siblings\n"
"                  with identical subtrees (8 GPU slots below 4 identical\n"
"                  switches) are drawn once, marked xN, with the other\n"
"                  addresses listed under them\n"
"\n"
"Examples:\n"
"  p2pdma --example xeon-8gpu graph -o xeon.svg\n"
"  p2pdma --example xeon-8gpu graph --provider 18:00.0 --format png -o v.png\n"
"  p2pdma --dump lspci.txt graph --class gpu,nic --format dot | dot -Tpdf >t.pdf\n";

static int write_out(const char *path, const char *buf, size_t len)
{
	FILE *f = path ? fopen(path, "wb") : stdout;

	if (!f)
		return cli_error("-o %s: %s", path, strerror(errno));
	if (fwrite(buf, 1, len, f) != len || (path ? fclose(f) : fflush(f))) {
		int e = errno;

		if (path)
			unlink(path);
		return cli_error("%s: %s", path ? path : "standard output", strerror(e));
	}
	return 0;
}

int cmd_graph(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "provider", required_argument, NULL, 'p' },
		{ "class", required_argument, NULL, 'c' },
		{ "vendor", required_argument, NULL, 'v' },
		{ "expand", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_graph_opts o = { 0 };
	const char *format = "svg", *path = NULL, *provider = NULL;
	char *buf = NULL;
	size_t len = 0;
	int opt, ret;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "f:o:p:c:v:eh", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': format = optarg; break;
		case 'o': path = optarg; break;
		case 'p': provider = optarg; break;
		case 'c': o.cls = optarg; break;
		case 'v': o.vendor = optarg; break;
		case 'e': o.expand = true; break;
		case 'h': fputs(graph_help, cli->out); return 0;
		default: return cli_bad_option(argv, graph_help);
		}
	}
	if (optind < argc)
		return cli_error("graph: unexpected argument '%s'", argv[optind]);
	if (strcmp(format, "svg") && strcmp(format, "png") && strcmp(format, "dot"))
		return cli_error("graph: --format '%s': want dot, svg or png", format);
	if (cli->json)
		return cli_error("graph draws pictures (--format dot|svg|png); the hierarchy as JSON is 'p2pdma tree --json'");
	if (!path && !strcmp(format, "png") && isatty(fileno(stdout)))
		return cli_error("graph: not writing PNG to a terminal; give -o FILE");
	if (!p2pdma_topo_num_devs(cli->topo))
		return cli_error("%s: the topology has no PCI function", p2pdma_topo_name(cli->topo));
	if ((o.cls && cli_class_check(o.cls)) || (o.vendor && cli_vendor_check(o.vendor)))
		return 2;
	if (provider && !(o.provider = cli_find_dev(cli, provider)))
		return 2;
	/* An output that cannot be written fails before any drawing. */
	if (path && access(path, F_OK) && errno == ENOENT) {
		FILE *f = fopen(path, "wb");

		if (!f)
			return cli_error("-o %s: %s", path, strerror(errno));
		fclose(f);
		unlink(path);
	}
	ret = cli_graph_render(cli, &o, format, &buf, &len);
	if (!ret)
		ret = write_out(path, buf, len);
	free(buf);
	return ret;
}
