// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-run.c - p2pdma run: drive the modelled kernel from a script, with a transcript */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char run_help[] =
"Usage: p2pdma run [--json] [--quiet] SCRIPT...\n"
"\n"
"Runs a scenario script (doc/scenarios.md) on the modelled kernel: one\n"
"operation per line (machine, boot, bind, add-resource, publish, find-many,\n"
"alloc, mmap, pin, read/write through a block queue, unbind; dma-buf export,\n"
"importer, attach, resv-lock, map, move-notify, revoke, dma-write; VFIO\n"
"vfio-bind, vfio-open, vfio-feature, vfio-command, vfio-reset, vfio-close...),\n"
"`expect` lines that assert the step before them, comments (#) and\n"
"`include`. Each step is printed in the kernel's terms: the errno it\n"
"returned, the map type and why, DMA and bus addresses or IOVAs and the\n"
"scatterlist entries, which importers got move_notify, the lines the kernel\n"
"printed, and the state that changed. The machine and the kernel are the\n"
"script's own: the global source and policy options do not apply.\n"
"\n"
"  --json   one JSON object per step and line of output\n"
"  --quiet  print only the expectations that failed and the summary\n"
"\n"
"Exit status: 0 every expectation held, 1 one did not (the message names the\n"
"line), 2 a malformed script (the message names the line) or bad usage.\n"
"\n"
"Examples:\n"
"  p2pdma run examples/scenarios/nvmeof-offload.p2ps\n"
"  p2pdma run --json examples/scenarios/add-resource.p2ps | jq .errno_name\n"
"  p2pdma run examples/scenarios/vfio-rdma-reset.p2ps\n";

struct run_out {
	struct cli *cli;
	bool json, quiet;
	size_t steps, expects;
	unsigned int failed;
};

static const char *kind_name(enum p2pdma_scenario_line_kind k)
{
	return k == P2PDMA_SCENARIO_KERNEL ? "dmesg" : k == P2PDMA_SCENARIO_NOTE ? "note" : "say";
}

static void describe(int err, char *buf, size_t len)
{
	const char *name = p2pdma_errno_name(err);

	if (!err)
		snprintf(buf, len, "0");
	else if (name)
		snprintf(buf, len, "-%s (%d)", name, err);
	else
		snprintf(buf, len, "%d", err);
}

static void step_json(struct run_out *o, const struct p2pdma_scenario_step *st)
{
	json_t *fields = json_object(), *lines = json_array(), *exps = json_array(), *obj;
	unsigned int line;
	const char *file = p2pdma_scenario_step_source(st, &line);
	int err = p2pdma_scenario_step_errno(st);
	size_t i;

	for (i = 0; i < p2pdma_scenario_step_num_fields(st); i++) {
		const char *v, *key = p2pdma_scenario_step_field(st, i, &v);

		json_object_set_new(fields, key, json_string(v));
	}
	for (i = 0; i < p2pdma_scenario_step_num_lines(st); i++) {
		enum p2pdma_scenario_line_kind k;
		const char *t = p2pdma_scenario_step_line(st, i, &k);

		json_array_append_new(lines, json_pack("{s:s, s:s}", "kind", kind_name(k), "text", t));
	}
	for (i = 0; i < p2pdma_scenario_step_num_expects(st); i++) {
		unsigned int el;
		bool held;
		const char *why, *t = p2pdma_scenario_step_expect(st, i, &el, &held, &why);

		json_array_append_new(exps, json_pack("{s:I, s:s, s:b, s:s}", "line", (json_int_t)el,
						      "text", t, "held", held, "why", why));
	}
	obj = json_pack("{s:s, s:I, s:s, s:s, s:i, s:s?, s:o, s:o, s:o}",
			"file", file, "line", (json_int_t)line,
			"step", p2pdma_scenario_step_text(st), "verb", p2pdma_scenario_step_verb(st),
			"errno", err, "errno_name", err ? p2pdma_errno_name(err) : "",
			"fields", fields, "lines", lines, "expects", exps);
	if (!obj)
		return;
	json_dumpf(obj, o->cli->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', o->cli->out);
	json_decref(obj);
}

static void step_text(struct run_out *o, const struct p2pdma_scenario_step *st)
{
	FILE *out = o->cli->out;
	unsigned int line;
	const char *file = p2pdma_scenario_step_source(st, &line);
	char err[64];
	size_t i, nf = p2pdma_scenario_step_num_fields(st);

	describe(p2pdma_scenario_step_errno(st), err, sizeof(err));
	if (!o->quiet) {
		fprintf(out, "%s:%u  %s\n", file, line, p2pdma_scenario_step_text(st));
		if (p2pdma_scenario_step_errno(st))
			fprintf(out, "    returns %s\n", err);
		for (i = 0; i < p2pdma_scenario_step_num_lines(st); i++) {
			enum p2pdma_scenario_line_kind k;
			const char *t = p2pdma_scenario_step_line(st, i, &k);

			fprintf(out, "    %s%s\n", k == P2PDMA_SCENARIO_KERNEL ? "dmesg: " :
				k == P2PDMA_SCENARIO_NOTE ? "note: " : "", t);
		}
		if (nf) {
			fputs("    =", out);
			for (i = 0; i < nf; i++) {
				const char *v, *key = p2pdma_scenario_step_field(st, i, &v);

				fprintf(out, " %s=%s", key, v);
			}
			fputc('\n', out);
		}
	}
	for (i = 0; i < p2pdma_scenario_step_num_expects(st); i++) {
		unsigned int el;
		bool held;
		const char *why, *t = p2pdma_scenario_step_expect(st, i, &el, &held, &why);

		if (held && !o->quiet)
			fprintf(out, "    ok: %s\n", t);
		else if (!held)
			fprintf(out, "    FAILED %s:%u: %s: %s\n", file, el, t, why);
	}
}

static void on_step(void *data, const struct p2pdma_scenario_step *st)
{
	struct run_out *o = data;
	unsigned int line;
	const char *file = p2pdma_scenario_step_source(st, &line);
	size_t i;

	o->steps++;
	o->expects += p2pdma_scenario_step_num_expects(st);
	if (o->json)
		step_json(o, st);
	else
		step_text(o, st);
	/* Failures also on stderr, so that they show under --json too. */
	for (i = 0; i < p2pdma_scenario_step_num_expects(st); i++) {
		unsigned int el;
		bool held;
		const char *why, *t = p2pdma_scenario_step_expect(st, i, &el, &held, &why);

		if (!held)
			fprintf(stderr, "p2pdma: %s:%u: %s: %s\n", file, el, t, why);
	}
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_out o = { .cli = cli, .json = cli->json };
	int opt, i, worst = 0;

	while ((opt = getopt_long(argc, argv, "hjq", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': o.json = true; break;
		case 'q': o.quiet = true; break;
		case 'h': fputs(run_help, stdout); return 0;
		default: fputs(run_help, stderr); return 2;
		}
	}
	if (optind >= argc) {
		fputs(run_help, stderr);
		return 2;
	}
	for (i = optind; i < argc; i++) {
		struct p2pdma_scenario *sc;
		unsigned int failed = 0;
		int ret;

		if (p2pdma_scenario_load(cli->ctx, argv[i], &sc)) {
			cli_error("%s", p2pdma_ctx_error(cli->ctx));
			worst = 2;
			continue;
		}
		o.steps = o.expects = 0;
		ret = p2pdma_scenario_run(sc, on_step, &o, &failed);
		p2pdma_scenario_destroy(sc);
		if (ret) {
			cli_error("%s", p2pdma_ctx_error(cli->ctx));
			worst = 2;
			continue;
		}
		if (!o.json)
			fprintf(cli->out, "%s: %zu steps, %zu expectations, %u failed\n", argv[i],
				o.steps, o.expects, failed);
		if (failed && worst < 1)
			worst = 1;
	}
	return worst;
}
