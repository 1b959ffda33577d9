// SPDX-License-Identifier: GPL-2.0-or-later
/* output.c - errors, device lookup and JSON printing shared by the commands */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("p2pdma: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

const struct p2pdma_dev *cli_find_dev(struct cli *cli, const char *bdf)
{
	const struct p2pdma_dev *dev = p2pdma_topo_find(cli->topo, bdf);

	if (!dev)
		cli_error("%s: no such PCI function in %s (expected DDDD:BB:DD.F or BB:DD.F)",
			  bdf, p2pdma_topo_name(cli->topo));
	return dev;
}

int cli_print_json(struct cli *cli, json_t *root)
{
	int ret;

	if (!root)
		return cli_error("out of memory building JSON");
	ret = json_dumpf(root, cli->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', cli->out);
	json_decref(root);
	return ret ? cli_error("error writing JSON") : 0;
}

json_t *cli_notes_json(const struct cli *cli)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; arr && i < cli->nnotes; i++)
		json_array_append_new(arr, json_string(cli->notes[i]));
	return arr;
}

static bool upfront(enum p2pdma_note code)
{
	return code == P2PDMA_NOTE_CPU_FROM_HOST_BRIDGES;
}

void cli_print_notes(const struct cli *cli)
{
	unsigned int i;

	for (i = 0; i < cli->nnotes; i++)
		if (!upfront(cli->note_code[i]))
			fprintf(cli->out, "note: %s\n", cli->notes[i]);
}

void cli_print_upfront(const struct cli *cli)
{
	unsigned int i;

	for (i = 0; i < cli->nnotes; i++)
		if (upfront(cli->note_code[i]))
			fprintf(cli->out, "note: %s\n", cli->notes[i]);
}

const struct p2pdma_router *cli_router(struct cli *cli)
{
	return p2pdma_kernel_router(cli->k);
}
