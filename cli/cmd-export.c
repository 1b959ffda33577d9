// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-export.c - p2pdma export: the loaded topology as JSON or an lspci dump */
#include <getopt.h>

#include "cli.h"

static const char export_help[] =
"Usage: p2pdma [SOURCE] [WHAT-IF] export --json | --dump\n"
"\n"
"Writes the loaded topology (after any --cmdline/--iommu/--acs what-if) to\n"
"standard output:\n"
"  --json   as a topology description (doc/topology-json.md); loading it\n"
"           back with --topology gives the same model, losslessly\n"
"  --dump   as 'lspci -xxxx' output, config space synthesised from the model;\n"
"           real lspci reads it (lspci -F FILE -vvv); CPU addresses, IOMMU\n"
"           groups and drivers are not in config space and are lost\n"
"\n"
"Use it to turn a live machine or a dump into an editable file:\n"
"  sudo p2pdma export --json > mymachine.json\n";

int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dump", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, fmt = cli->json ? 'j' : 0, ret;

	while ((opt = getopt_long(argc, argv, "jdh", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(export_help, cli->out);
			return 0;
		case 'j': case 'd':
			if (fmt && fmt != opt)
				return cli_error("export: --json and --dump exclude each other: say one");
			fmt = opt;
			break;
		default:
			return cli_bad_option(argv, export_help);
		}
	}
	if (optind < argc)
		return cli_error("export: unexpected argument '%s'", argv[optind]);
	if (!fmt)
		return cli_error("export: say --json or --dump");
	ret = fmt == 'j' ? p2pdma_topo_export_json(cli->topo, cli->out)
			 : p2pdma_topo_export_dump(cli->topo, cli->out);
	if (ret)
		return cli_error("export: %s", p2pdma_ctx_error(cli->ctx));
	return 0;
}
