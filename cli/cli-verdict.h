/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli-verdict.h - verdict rendering shared by check, matrix, providers and fix */
#ifndef P2PDMA_CLI_VERDICT_H
#define P2PDMA_CLI_VERDICT_H

#include "cli.h"

/* A router over cli->topo and cli->pol, or NULL after cli_error(). */
struct p2pdma_router *cli_router(struct cli *cli);
/* "BDF (driver)" or "BDF". */
const char *cli_dev_label(const struct p2pdma_dev *dev, char *buf, size_t len);
/* The examined path: provider -> ... -> common <- ... <- client. */
void cli_verdict_path(const struct p2pdma_dev *provider,
		      const struct p2pdma_dev *client,
		      const struct p2pdma_verdict *v, char *buf, size_t len);
/* One client's JSON object (the check command's "clients" entries). */
json_t *cli_verdict_json(struct cli *cli, const struct p2pdma_dev *provider,
			 const struct p2pdma_dev *client,
			 const struct p2pdma_verdict *v);
/* The explanation in text: path, why, dmesg, fix. @indent prefixes lines;
 * @see_fix adds the pointer to 'p2pdma fix' (not from fix itself). */
void cli_verdict_text(struct cli *cli, const struct p2pdma_dev *provider,
		      const struct p2pdma_dev *client,
		      const struct p2pdma_verdict *v, const char *indent,
		      bool see_fix);
/* Columns to wrap text output at: $COLUMNS, the terminal's width, else 100. */
int cli_term_width(const struct cli *cli);
/* Print @text after @first, breaking lines before " -> ", " <- ", " => "
 * and after "; " so no line exceeds @width; continuation lines start with
 * @cont. Ends with a newline. */
void cli_wrap(struct cli *cli, const char *first, const char *cont,
	      const char *text);
/* What a pair computed as BUS_ADDR with unknown ACS would be if a port on
 * the path had redirect set: the host-bridge stage for its host bridge
 * (spec 2.2, 2.4). @why gets the reason. P2PDMA_MAP_BUS_ADDR when the
 * verdict does not depend on the unknown state. */
enum p2pdma_map_type cli_if_acs_redirect(struct cli *cli,
					 const struct p2pdma_dev *provider,
					 const struct p2pdma_verdict *v,
					 char *why, size_t len);
/* "BUS_ADDR (supported, direct)" and so on: the verdict in a few words. */
const char *cli_map_meaning(enum p2pdma_map_type t);
/* "0000:01:00.0" from a function, or "BB:DD.F"-normalised input. */
int cli_parse_devs(struct cli *cli, char **args, int n,
		   const struct p2pdma_dev **out);

#endif
