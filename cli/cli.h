/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli.h - what every p2pdma subcommand gets from the dispatcher */
#ifndef P2PDMA_CLI_H
#define P2PDMA_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <p2pdma/p2pdma.h>

#define CLI_MAX_NOTES 64

/*
 * The dispatcher (p2pdma.c) parses the global options, loads the topology,
 * builds the policy, boots a modelled kernel with the what-ifs (library),
 * then calls one cmd_*(). Commands parse, ask the library, render.
 * A command parses its own options (getopt_long, optind already reset to
 * 1 on its own argv whose argv[0] is the command name) and returns the
 * process exit status: 0 success, 1 a verdict the user asked about is
 * negative where that matters (documented per command), 2 usage or input
 * error (after cli_error()).
 */
struct cli {
	const char *prog;
	struct p2pdma_ctx *ctx;
	struct p2pdma_topo *loaded;	/* as the source gave it */
	struct p2pdma_kernel *k;	/* booted on it: the state commands read */
	const struct p2pdma_topo *topo;	/* the kernel's hardware (after boot) */
	const struct p2pdma_policy *pol; /* the kernel's policy */
	bool json;			/* --json given globally or to the command */
	unsigned long long seed;	/* --seed: find_many tie break */
	const char *sysfs_root;		/* --sysfs DIR, else NULL */
	bool seed_set;
	FILE *out;
	/* Assumptions made while building the policy, shown with results:
	 * "CPU unknown: assumed no AMD Zen rule", "ACS unknown on ...". */
	char *notes[CLI_MAX_NOTES];
	enum p2pdma_note note_code[CLI_MAX_NOTES];
	unsigned int nnotes;
};

/* Errors as JSON on stderr ({"error": ..., "exit_status": 2}) when --json
 * appears anywhere on the command line. */
extern bool cli_json_errors;
/* A stream over @under that writes control characters (but newline and
 * tab) as \xNN: everything the CLI prints goes through one. */
FILE *cli_safe_stream(FILE *under);
/* "p2pdma: <message>" on stderr (escaped), or JSON under --json. Returns
 * 2, the usage/input exit status. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "s" unless @n is 1: "1 pair", "2 pairs". */
static inline const char *cli_plural(unsigned long long n)
{
	return n == 1 ? "" : "s";
}

/* A command's getopt found an unknown option: its help on stderr, or a
 * JSON error under --json. Returns 2. */
int cli_bad_option(char **argv, const char *help);
/* Look up a BDF argument or fail with a clear message (NULL). */
const struct p2pdma_dev *cli_find_dev(struct cli *cli, const char *bdf);
/* The kernel's pure router. */
const struct p2pdma_router *cli_router(struct cli *cli);
/* Print @root as indented JSON on cli->out and drop the reference. */
int cli_print_json(struct cli *cli, json_t *root);
/* The notes as a JSON array (new reference). */
json_t *cli_notes_json(const struct cli *cli);
/* Print the notes as "note: ..." lines (text mode), except those printed
 * up front. */
void cli_print_notes(const struct cli *cli);
/* Print, before a command's results, the notes that decide how to read
 * them (a CPU the source does not record but its host bridges suggest). */
void cli_print_upfront(const struct cli *cli);

int cmd_tree(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_matrix(struct cli *cli, int argc, char **argv);
int cmd_providers(struct cli *cli, int argc, char **argv);
int cmd_fix(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);
int cmd_topo(struct cli *cli, int argc, char **argv);
int cmd_graph(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_p2pmem(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
/* The sysfs root of the source (/sys live, --sysfs DIR), or NULL. */
const char *cli_sysfs_root(const struct cli *cli);
int cmd_vfio(struct cli *cli, int argc, char **argv);

#endif
