/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli-verdict.h - verdict rendering shared by check, matrix, providers and fix */
#ifndef P2PDMA_CLI_VERDICT_H
#define P2PDMA_CLI_VERDICT_H

#include "cli.h"

/* "BDF (driver)" or "BDF". */
const char *cli_dev_label(const struct p2pdma_dev *dev, char *buf, size_t len);
/* The examined path: provider -> ... -> common <- ... <- client. */
void cli_verdict_path(const struct p2pdma_verdict *v, char *buf, size_t len);
/* One client's JSON object (the check command's "clients" entries). */
json_t *cli_verdict_json(const struct p2pdma_verdict *v);
/* The explanation in text: path, why, dmesg, fix. @indent prefixes lines;
 * @see_fix adds the pointer to 'p2pdma fix' (not from fix itself). */
void cli_verdict_text(struct cli *cli, const struct p2pdma_verdict *v,
		      const char *indent, bool see_fix);
/* Why a host-bridge crossing is refused or allowed, as the vendors stand
 * (doc/kernel-model.md §1.1): a sentence or two after the allow-list lines. */
void cli_host_bridge_why(struct cli *cli, const struct p2pdma_verdict *v,
			 const char *indent);
/* The fields fix and report share about an advice: kernel_cmdline,
 * verified, bus_addr_pairs_lost, warnings, iommu_group_merges; added to
 * @o, which is returned. */
json_t *cli_advice_json(const struct p2pdma_advice *a, json_t *o);
/* The verified command line that fixes @v, merged with the machine's own
 * ACS parameters (malloc'd), or NULL when none verifies. */
char *cli_merged_fix(struct cli *cli, const struct p2pdma_verdict *v);
/* @n empty verdicts (NULL on failure), and their release. */
struct p2pdma_verdict **cli_verdicts_new(size_t n);
void cli_verdicts_free(struct p2pdma_verdict **v, size_t n);
/* Columns to wrap text output at: $COLUMNS, the terminal's width, else 100. */
int cli_term_width(const struct cli *cli);
/* Print @text after @first, breaking lines before " -> ", " <- ", " => "
 * and after "; " so no line exceeds @width; continuation lines start with
 * @cont. Ends with a newline. */
void cli_wrap(struct cli *cli, const char *first, const char *cont,
	      const char *text);
/* Prose: @text after @first, words wrapped at the width, continuation
 * lines starting with @cont. */
void cli_para(struct cli *cli, const char *first, const char *cont,
	      const char *text);
/* Why the verdict would change if an unknown port redirected, in words
 * (p2pdma_verdict_if_acs_redirect()); "" when it would not. */
const char *cli_if_acs_why(const struct p2pdma_verdict *v, char *buf, size_t len);
/* "BUS_ADDR (supported, direct)" and so on: the verdict in a few words. */
const char *cli_map_meaning(enum p2pdma_map_type t);
/* "0000:01:00.0" from a function, or "BB:DD.F"-normalised input. */
int cli_parse_devs(struct cli *cli, char **args, int n,
		   const struct p2pdma_dev **out);

/* --class LIST as the matrix command takes it: 0, or 2 after an error. */
int cli_class_check(const char *spec);
/* Does @class_code match one entry of a checked --class list? */
bool cli_class_match(uint32_t class_code, const char *spec);

#endif
