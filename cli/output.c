// SPDX-License-Identifier: GPL-2.0-or-later
/* output.c - errors, device lookup and JSON printing shared by the commands */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool cli_json_errors;

/*
 * Text from a topology file or a device can hold terminal escape
 * sequences (a driver name in a crafted JSON topology). Nothing reaches
 * the terminal raw: control characters other than newline and tab are
 * written as \xNN.
 */
static void put_escaped(FILE *f, const char *buf, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if ((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t')
			continue;
		fwrite(buf + start, 1, i - start, f);
		fprintf(f, "\\x%02x", c);
		start = i + 1;
	}
	fwrite(buf + start, 1, n - start, f);
}

static ssize_t safe_write(void *cookie, const char *buf, size_t n)
{
	put_escaped(cookie, buf, n);
	return ferror((FILE *)cookie) ? -1 : (ssize_t)n;
}

FILE *cli_safe_stream(FILE *under)
{
	static const cookie_io_functions_t io = { .write = safe_write };

	return fopencookie(under, "w", io);
}

int cli_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli_json_errors) {
		/* Under --json an error is JSON too, on stderr (jansson
		 * escapes the control characters). */
		json_t *e = json_pack("{s:s, s:i}", "error", msg, "exit_status", 2);

		if (e) {
			json_dumpf(e, stderr, JSON_COMPACT);
			fputc('\n', stderr);
			json_decref(e);
			return 2;
		}
	}
	fputs("p2pdma: ", stderr);
	put_escaped(stderr, msg, strlen(msg));
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

int cli_bad_option(char **argv, const char *help)
{
	/* getopt said nothing under --json (opterr 0): say it here. */
	if (cli_json_errors)
		return cli_error("%s: unknown option or missing argument '%s'",
				 argv[0], optind > 0 ? argv[optind - 1] : "");
	fputs(help, stderr);
	return 2;
}
