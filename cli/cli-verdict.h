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
json_t *cli_verdict_json(const struct p2pdma_dev *provider,
			 const struct p2pdma_dev *client,
			 const struct p2pdma_verdict *v);
/* The explanation in text: path, why, dmesg, fix. @indent prefixes lines. */
void cli_verdict_text(struct cli *cli, const struct p2pdma_dev *provider,
		      const struct p2pdma_dev *client,
		      const struct p2pdma_verdict *v, const char *indent);
/* "0000:01:00.0" from a function, or "BB:DD.F"-normalised input. */
int cli_parse_devs(struct cli *cli, char **args, int n,
		   const struct p2pdma_dev **out);

#endif
