/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scenario-private.h - the verb table: how a model layer adds operations to `p2pdma run` */
#ifndef P2PDMA_SCENARIO_PRIVATE_H
#define P2PDMA_SCENARIO_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "p2pdma/scenario.h"
#include "kernel-private.h"

/*
 * HOW A LAYER ADDS VERBS
 *
 * Each model layer has its own file lib/scenario-<layer>.c that defines
 * one `const struct p2pdma_scn_layer p2pdma_scn_layer_<layer>` with a
 * table of verbs (and, if it needs them, expect keywords and per-run
 * state), declares it below, and adds one line to the list in
 * lib/scenario.c (P2PDMA_SCN_LAYERS). Nothing else in scenario.c changes.
 * Verb names are unique across layers (checked by the unit tests).
 *
 *	static int do_export(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
 *	{
 *		const struct p2pdma_dev *d;
 *		struct my_buf *b;
 *		int ret = p2pdma_scn_arg_dev(s, st, 0, &d);	// argv[0] is a BDF
 *
 *		if (ret)
 *			return ret;			// malformed: run stops, exit 2
 *		ret = my_export(p2pdma_scn_kernel(s), d, &b);
 *		p2pdma_scn_errno(st, ret);		// the kernel's answer: a result
 *		if (ret)
 *			return 0;
 *		p2pdma_scn_set(st, "fd", "%d", b->fd);	// `expect fd 3`
 *		p2pdma_scn_say(st, "exported %s as dma-buf %d", d->name, b->fd);
 *		return p2pdma_scn_handle_add(s, st, "dmabuf", b, my_buf_free);
 *	}
 *
 *	static const struct p2pdma_scn_verb verbs[] = {
 *		{ "my-export", "my-export BDF BAR [as NAME]", 2, 2,
 *		  P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_export },
 *	};
 *	const struct p2pdma_scn_layer p2pdma_scn_layer_mine = {
 *		"mine", verbs, 1, NULL, 0, NULL, NULL, NULL, NULL,
 *	};
 *
 * (lib/scenario-dmabuf.c is the real dma-buf layer: its handles, expect
 * keyword and step hook are a fuller example.)
 *
 * Rules for a verb:
 *  - argv holds the tokens after the verb ("as NAME" removed; quotes
 *    removed, so "a b" is one token). Arity is checked before the run.
 *  - A modelled kernel error is a RESULT: record it with p2pdma_scn_errno()
 *    and return 0; `expect EINVAL` checks it. Return a negative value only
 *    when the SCRIPT is wrong (p2pdma_scn_malformed(): bad number, unknown
 *    function or handle): the run stops and `p2pdma run` exits 2.
 *  - Set named results with p2pdma_scn_set(); `expect NAME VALUE`
 *    compares them (numerically when both read as numbers: 64K == 65536 ==
 *    0x10000; else as text). Lines for the transcript go through
 *    p2pdma_scn_say(). Kernel lines and model notes logged by the kernel
 *    object during the step are collected by the runner.
 *  - Objects a step creates become handles (p2pdma_scn_handle_add());
 *    later steps name them as `$NAME`. The run owns them and calls their
 *    destructor in reverse order at the end, or when `boot` or `machine`
 *    drops the kernel (before the kernel is shut down).
 *  - Per-run layer state: init() makes it, fini() frees it,
 *    p2pdma_scn_layer_state() finds it. reboot() runs before a kernel is
 *    shut down (handles are already gone then). after() runs after every
 *    step, whichever layer's verb it was (a trigger in one layer notifies
 *    objects of another).
 *
 * Expect keywords a layer adds (struct p2pdma_scn_expect_kind) take the
 * expect line's arguments and say whether the step satisfied them, e.g.
 * "expect notified nic rogue" in the dma-buf layer.
 */

struct p2pdma_scn;
struct p2pdma_scenario_step;

/* Verb flags. */
#define P2PDMA_SCN_KERNEL	0x1	/* needs a booted kernel */
#define P2PDMA_SCN_AS		0x2	/* may end with "as NAME" */
#define P2PDMA_SCN_FILES	0x4	/* reads files: refused in the sandbox */

/* Returned by verbs for a malformed step (after p2pdma_scn_malformed()). */
#define P2PDMA_SCN_MALFORMED (-EINVAL)

struct p2pdma_scn_verb {
	const char *name;
	const char *usage;		/* "alloc BDF SIZE [as NAME]" */
	int min_args, max_args;		/* max -1: unbounded */
	unsigned int flags;
	int (*run)(struct p2pdma_scn *s, struct p2pdma_scenario_step *st);
};

struct p2pdma_scn_expect_kind {
	const char *name;		/* the word after "expect" */
	int min_args, max_args;
	/* true if it held; else write what was found into @why */
	bool (*check)(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st,
		      char **argv, int argc, char *why, size_t len);
};

struct p2pdma_scn_layer {
	const char *name;
	const struct p2pdma_scn_verb *verbs;
	size_t nverbs;
	const struct p2pdma_scn_expect_kind *expects;
	size_t nexpects;
	int (*init)(struct p2pdma_scn *s, void **state);
	void (*fini)(struct p2pdma_scn *s, void *state);
	void (*reboot)(struct p2pdma_scn *s, void *state);
	/* After every step of any layer (before its expectations): say or
	 * set what changed in this layer's objects (e.g. which importers got
	 * move_notify); NULL if none. */
	void (*after)(struct p2pdma_scn *s, void *state, struct p2pdma_scenario_step *st);
};

/* The layers, in the order their verbs are looked up. */
extern const struct p2pdma_scn_layer p2pdma_scn_layer_machine;	/* scenario-machine.c */
extern const struct p2pdma_scn_layer p2pdma_scn_layer_p2pmem;	/* scenario-p2pmem.c */
extern const struct p2pdma_scn_layer p2pdma_scn_layer_dmabuf;	/* scenario-dmabuf.c */
extern const struct p2pdma_scn_layer p2pdma_scn_layer_vfio;	/* scenario-vfio.c */

/* --- for verbs: the run --- */

struct p2pdma_ctx *p2pdma_scn_ctx(const struct p2pdma_scn *s);
/* The booted kernel (non-NULL in verbs flagged P2PDMA_SCN_KERNEL). */
struct p2pdma_kernel *p2pdma_scn_kernel(const struct p2pdma_scn *s);
void *p2pdma_scn_layer_state(const struct p2pdma_scn *s, const struct p2pdma_scn_layer *l);
/* Directory machine files are relative to; NULL in the sandbox. */
const char *p2pdma_scn_base_dir(const struct p2pdma_scn *s);

/* --- for verbs: the step --- */

int p2pdma_scn_argc(const struct p2pdma_scenario_step *st);
const char *p2pdma_scn_arg(const struct p2pdma_scenario_step *st, int i);
/* The "as NAME" of the step, or NULL. */
const char *p2pdma_scn_as(const struct p2pdma_scenario_step *st);

/* Message "FILE:LINE: ..." for p2pdma run's exit 2; returns P2PDMA_SCN_MALFORMED. */
int p2pdma_scn_malformed(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st,
			 const char *fmt, ...) P2PDMA_PRINTF(3, 4);

/* Argument parsers: 0, or malformed (message set). */
int p2pdma_scn_arg_dev(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st, int i,
		       const struct p2pdma_dev **out);
/* Numbers: decimal, 0x hex, K/M/G/T suffixes (powers of 1024). */
int p2pdma_scn_arg_u64(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st, int i,
		       uint64_t *out);
int p2pdma_scn_parse_u64(const char *text, uint64_t *out);
/* `$NAME` of a handle of @type ("alloc", "map", ...; NULL any). */
int p2pdma_scn_arg_handle(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st, int i,
			  const char *type, void **obj);
/* Is argument @i a handle reference ($...)? */
bool p2pdma_scn_arg_is_handle(const struct p2pdma_scenario_step *st, int i);

/* Results. */
void p2pdma_scn_errno(struct p2pdma_scenario_step *st, int err);
int p2pdma_scn_step_err(const struct p2pdma_scenario_step *st);
void p2pdma_scn_set(struct p2pdma_scenario_step *st, const char *key, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);
const char *p2pdma_scn_get(const struct p2pdma_scenario_step *st, const char *key);
void p2pdma_scn_say(struct p2pdma_scenario_step *st, const char *fmt, ...) P2PDMA_PRINTF(2, 3);

/*
 * Bind the step's object to its "as NAME" (anonymous without one). The run
 * owns @obj from here (also on failure, when it is destroyed at once).
 * Return: 0, or malformed for a name already in use, -ENOMEM.
 */
int p2pdma_scn_handle_add(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
			  const char *type, void *obj, void (*destroy)(void *obj));
/* Drop a handle's object without its destructor (the step consumed it). */
void p2pdma_scn_handle_forget(struct p2pdma_scn *s, void *obj);
/*
 * The machine layer's boot: @k (or NULL) becomes the run's kernel; every
 * handle is dropped and every layer's reboot() runs first, then the old
 * kernel is shut down.
 */
void p2pdma_scn_kernel_replace(struct p2pdma_scn *s, struct p2pdma_kernel *k);

/*
 * The dma-buf layer's handle for a descriptor another layer's step
 * returned (VFIO's export): a "dmabuf" handle named by the step's "as
 * NAME" that later dma-buf verbs take as $NAME. Return: as
 * p2pdma_scn_handle_add(); the descriptor is closed on failure.
 */
int p2pdma_scn_dmabuf_add_fd(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, int fd);

/* Why a verdict came out as it did, in one sentence. */
void p2pdma_scn_explain(const struct p2pdma_verdict *v, char *buf, size_t len);

/* "EINVAL" -> -22; 0 if not an errno name. */
int p2pdma_errno_value(const char *name);

#endif
