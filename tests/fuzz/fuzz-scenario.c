// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-scenario.c - fuzz target: the scenario parser and runner on arbitrary scripts */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "p2pdma/p2pdma.h"

/*
 * The input is a script (NUL bytes end it), loaded in the sandbox (no
 * base directory: include and file machines are refused) and run.
 * Properties:
 *  - load returns 0, or -EINVAL with a message "NAME:LINE: ..." whose
 *    line exists in the input (or -ENOMEM);
 *  - a loaded script runs to its end (0) or stops on a malformed step
 *    (-EINVAL, message "NAME:LINE: ..."); no crash, no leak either way;
 *  - the callback sees at most one call per step, in source order, each
 *    expectation's verdict is a bool and `failed` counts the false ones;
 *  - running it again gives the same step count and failures (the model
 *    is deterministic: find_many's draw is seeded).
 * Synthetic machines are skipped: a large spec is slow, not wrong.
 */
struct count {
	size_t steps;
	unsigned int failed;
	unsigned int last_line;
};

static void on_step(void *data, const struct p2pdma_scenario_step *st)
{
	struct count *c = data;
	unsigned int line;
	size_t i;

	p2pdma_scenario_step_source(st, &line);
	c->steps++;
	c->last_line = line;
	for (i = 0; i < p2pdma_scenario_step_num_expects(st); i++) {
		bool held;

		FUZZ_CHECK(p2pdma_scenario_step_expect(st, i, NULL, &held, NULL) != NULL, "expect text");
		c->failed += !held;
	}
	for (i = 0; i < p2pdma_scenario_step_num_lines(st); i++)
		FUZZ_CHECK(p2pdma_scenario_step_line(st, i, NULL) != NULL, "line text");
}

static void check_message(const char *msg, unsigned int nlines)
{
	const char *colon = strstr(msg, "fuzz.p2ps:");
	unsigned long line;

	FUZZ_CHECK(colon == msg, "message without FILE:LINE: %s", msg);
	line = strtoul(msg + strlen("fuzz.p2ps:"), NULL, 10);
	FUZZ_CHECK(line >= 1 && line <= nlines, "line %lu of %u: %s", line, nlines, msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pdma_scenario *sc;
	struct p2pdma_ctx *ctx;
	struct count c1 = { 0 }, c2 = { 0 };
	unsigned int failed, nlines = 1;
	char *text;
	size_t i;
	int ret;

	if (size > 8192)
		return 0;
	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	if (strstr(text, "synth")) {
		free(text);
		return 0;
	}
	for (i = 0; i < strlen(text); i++)
		nlines += text[i] == '\n';
	FUZZ_CHECK(p2pdma_ctx_create(&ctx) == 0, "context");
	ret = p2pdma_scenario_load_string(ctx, text, "fuzz.p2ps", NULL, &sc);
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOMEM, "load: %d", ret);
		if (ret == -EINVAL)
			check_message(p2pdma_ctx_error(ctx), nlines);
		goto out;
	}
	ret = p2pdma_scenario_run(sc, on_step, &c1, &failed);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM, "run: %d", ret);
	if (ret == -EINVAL)
		check_message(p2pdma_ctx_error(ctx), nlines);
	FUZZ_CHECK(c1.steps <= p2pdma_scenario_num_steps(sc), "%zu callbacks, %zu steps",
		   c1.steps, p2pdma_scenario_num_steps(sc));
	FUZZ_CHECK(ret || c1.steps == p2pdma_scenario_num_steps(sc), "a complete run skipped steps");
	FUZZ_CHECK(failed == c1.failed, "failed %u, counted %u", failed, c1.failed);
	if (!ret) {
		FUZZ_CHECK(p2pdma_scenario_run(sc, on_step, &c2, &failed) == 0, "second run failed");
		FUZZ_CHECK(c2.steps == c1.steps && c2.failed == c1.failed,
			   "second run differs: %zu/%u vs %zu/%u", c2.steps, c2.failed, c1.steps, c1.failed);
	}
	p2pdma_scenario_destroy(sc);
out:
	p2pdma_ctx_destroy(ctx);
	free(text);
	return 0;
}
