/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli-html.h - the self-contained HTML report (report --html) */
#ifndef P2PDMA_CLI_HTML_H
#define P2PDMA_CLI_HTML_H

#include "cli.h"

/* What the report command computed, for the page. */
struct cli_html_input {
	const struct p2pdma_dev *const *devs;	/* the P2P-relevant devices */
	size_t n;
	const struct p2pdma_advice *advice;	/* the machine advice */
	/* Print the text report on cli->out (embedded as is). */
	int (*text)(void *data);
	void *data;
};

/* Write the page to @path. Returns 0, or 2 after cli_error(). */
int cli_html_report(struct cli *cli, const char *path, const struct cli_html_input *in);

/* Fail early (2 after cli_error()) when @path cannot be created. */
int cli_check_writable(const char *opt, const char *path);

#endif
