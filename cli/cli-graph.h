/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli-graph.h - the hierarchy drawn by Graphviz, shared by graph and report --html */
#ifndef P2PDMA_CLI_GRAPH_H
#define P2PDMA_CLI_GRAPH_H

#include "cli.h"

struct cli_graph_opts {
	const struct p2pdma_dev *provider;	/* colour the rest by verdict */
	const char *cls;			/* checked --class list, or NULL */
	const char *vendor;			/* checked --vendor list, or NULL */
	bool expand;				/* draw identical subtrees one by one */
};

/* "10de,15b3": 0, or 2 after an error naming the bad entry. */
int cli_vendor_check(const char *spec);

/*
 * Build the picture of cli->topo, lay it out with Graphviz's dot and
 * render it as @format ("svg", "png" or "dot": the graph before layout).
 * *@buf is malloc()ed. Returns 0, or 2 after cli_error().
 */
int cli_graph_render(struct cli *cli, const struct cli_graph_opts *o,
		     const char *format, char **buf, size_t *len);

/* Write @s into @out with the XML/HTML special characters as entities,
 * control characters and invalid UTF-8 as '?'. */
void cli_xml_escape(FILE *out, const char *s);

#endif
