/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/scenario.h - scripts that drive the modelled kernel, with expectations and a transcript */
#ifndef P2PDMA_SCENARIO_H
#define P2PDMA_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

#include <p2pdma/context.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A scenario is a line-oriented script (doc/scenarios.md): one operation
 * per line on a modelled machine and kernel ("machine example X", "boot",
 * "add-resource 1a:00.0 4", "alloc 1a:00.0 64K as buf", ...), `expect`
 * lines that assert the outcome of the step before them, comments (#) and
 * `include` of other scripts. Loading parses and checks the whole script
 * (every verb known, argument counts, expect syntax, includes resolved);
 * running executes it step by step and reports each step to a callback:
 * what the kernel returned, printed and changed.
 */
struct p2pdma_scenario;
struct p2pdma_scenario_step;

/**
 * p2pdma_scenario_load() - parse a script file and the scripts it includes
 * @ctx: library context
 * @path: the script; includes are relative to the including file
 * @out: the parsed scenario
 *
 * Return: 0; -EINVAL for a malformed script ("FILE:LINE: what is wrong"
 * in the context); -ENOENT/-EACCES/... when a file cannot be read;
 * -ENOMEM.
 */
int p2pdma_scenario_load(struct p2pdma_ctx *ctx, const char *path,
			 struct p2pdma_scenario **out);

/**
 * p2pdma_scenario_load_string() - parse a script from memory
 * @ctx: library context
 * @text: the script (NUL-terminated)
 * @name: its name in messages
 * @base_dir: directory that includes and machine files are relative to;
 *            NULL refuses every verb that reads a file (a sandbox for
 *            untrusted scripts)
 * @out: the parsed scenario
 *
 * Return: as p2pdma_scenario_load().
 */
int p2pdma_scenario_load_string(struct p2pdma_ctx *ctx, const char *text,
				const char *name, const char *base_dir,
				struct p2pdma_scenario **out);

/**
 * p2pdma_scenario_destroy() - free a scenario (and the kernel it booted)
 * @sc: the scenario or NULL
 */
void p2pdma_scenario_destroy(struct p2pdma_scenario *sc);

/**
 * p2pdma_scenario_num_steps() - steps in a parsed scenario (expect lines excluded)
 * @sc: the scenario
 *
 * Return: the count.
 */
size_t p2pdma_scenario_num_steps(const struct p2pdma_scenario *sc);

/**
 * typedef p2pdma_scenario_step_fn - called after each step has run
 * @data: the caller's pointer
 * @step: the step, valid during the call
 */
typedef void (*p2pdma_scenario_step_fn)(void *data, const struct p2pdma_scenario_step *step);

/**
 * p2pdma_scenario_run() - run a parsed scenario
 * @sc: the scenario (run once; a second run starts from scratch)
 * @fn: NULL, or called after every step
 * @data: passed to @fn
 * @failed: receives the number of expectations that did not hold
 *
 * Runs every step even after an expectation failed. A step the script
 * gets wrong at run time (a function the machine does not have, a handle
 * never defined, a step before `boot`) stops the run.
 *
 * Return: 0 when the script ran to its end; -EINVAL when it stopped on a
 * malformed step ("FILE:LINE: ..." in the context); -ENOMEM.
 */
int p2pdma_scenario_run(struct p2pdma_scenario *sc, p2pdma_scenario_step_fn fn,
			void *data, unsigned int *failed);

/* --- a step, as the callback sees it --- */

/* Kinds of transcript lines. */
enum p2pdma_scenario_line_kind {
	P2PDMA_SCENARIO_KERNEL = 0,	/* a line the kernel printed (dmesg) */
	P2PDMA_SCENARIO_NOTE = 1,	/* a remark of the model */
	P2PDMA_SCENARIO_SAY = 2,	/* what the step did, in the kernel's terms */
};

/**
 * p2pdma_scenario_step_source() - where a step comes from
 * @step: the step
 * @line: if non-NULL, receives the line number
 *
 * Return: the script's file name.
 */
const char *p2pdma_scenario_step_source(const struct p2pdma_scenario_step *step,
					unsigned int *line);

/**
 * p2pdma_scenario_step_text() - the step's line as written (without comment)
 * @step: the step
 *
 * Return: the text.
 */
const char *p2pdma_scenario_step_text(const struct p2pdma_scenario_step *step);

/**
 * p2pdma_scenario_step_verb() - the step's verb
 * @step: the step
 *
 * Return: the verb.
 */
const char *p2pdma_scenario_step_verb(const struct p2pdma_scenario_step *step);

/**
 * p2pdma_scenario_step_errno() - what the modelled kernel function returned
 * @step: the step
 *
 * Return: 0 or a negative errno.
 */
int p2pdma_scenario_step_errno(const struct p2pdma_scenario_step *step);

/**
 * p2pdma_scenario_step_num_fields() - named results of the step
 * @step: the step
 *
 * Return: the count (addr, bus, map, entries, available, pick...).
 */
size_t p2pdma_scenario_step_num_fields(const struct p2pdma_scenario_step *step);

/**
 * p2pdma_scenario_step_field() - one named result, in the order set
 * @step: the step
 * @i: index
 * @value: if non-NULL, receives the value as text
 *
 * Return: the name, or NULL past the end.
 */
const char *p2pdma_scenario_step_field(const struct p2pdma_scenario_step *step,
				       size_t i, const char **value);

/**
 * p2pdma_scenario_step_num_lines() - transcript lines of the step
 * @step: the step
 *
 * Return: the count.
 */
size_t p2pdma_scenario_step_num_lines(const struct p2pdma_scenario_step *step);

/**
 * p2pdma_scenario_step_line() - one transcript line, in order
 * @step: the step
 * @i: index
 * @kind: if non-NULL, receives its kind
 *
 * Return: the text, or NULL past the end.
 */
const char *p2pdma_scenario_step_line(const struct p2pdma_scenario_step *step,
				      size_t i, enum p2pdma_scenario_line_kind *kind);

/**
 * p2pdma_scenario_step_num_expects() - expectations checked after the step
 * @step: the step
 *
 * Return: the count.
 */
size_t p2pdma_scenario_step_num_expects(const struct p2pdma_scenario_step *step);

/**
 * p2pdma_scenario_step_expect() - one expectation and whether it held
 * @step: the step
 * @i: index
 * @line: if non-NULL, receives the expect line's number
 * @held: if non-NULL, receives whether it held
 * @why: if non-NULL, receives what was found instead (empty when it held)
 *
 * Return: the expect line's text, or NULL past the end.
 */
const char *p2pdma_scenario_step_expect(const struct p2pdma_scenario_step *step,
					size_t i, unsigned int *line, bool *held,
					const char **why);

/**
 * p2pdma_errno_name() - "EINVAL" for -22 or 22
 * @err: an errno, either sign
 *
 * Return: the name, "0" for 0, NULL if unknown.
 */
const char *p2pdma_errno_name(int err);

#ifdef __cplusplus
}
#endif
#endif
