// SPDX-License-Identifier: GPL-2.0-or-later
/* p2pdma.c - the command-line tool: global options, source, policy, dispatch */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
"Usage: p2pdma [SOURCE] [POLICY] [WHAT-IF] [--json] COMMAND [ARGS...]\n"
"\n"
"Tells which pairs of PCI functions Linux lets do peer-to-peer DMA, by which\n"
"path and at what distance, and exactly why not, as drivers/pci/p2pdma.c\n"
"decides it.\n"
"\n"
"Commands:\n"
"  tree                     the PCI hierarchy with ACS state per port\n"
"  check PROVIDER CLIENT..  the kernel's verdict for each client, and why\n"
"  matrix                   verdict grid for every ordered pair of functions\n"
"  providers [CLIENT..]     p2pmem providers ranked as pci_p2pmem_find_many()\n"
"  fix PROVIDER CLIENT      the smallest kernel command line change that helps\n"
"  report                   P2P groups, what blocks the other pairs, and fixes\n"
"                           (--html FILE: one self-contained page to share)\n"
"  topo                     GPUs, NICs, NVMe as 'nvidia-smi topo -m', with verdicts\n"
"  graph                    the hierarchy drawn by Graphviz (SVG, PNG or DOT)\n"
"  export --json|--dump     write the loaded topology as JSON or lspci -xxxx\n"
"  vfio explain|probe|export DEVICE  VFIO dma-buf export: what the kernel does\n"
"                           with a VMM's request and why; the real call\n"
"  examples                 list the bundled example machines\n"
"  p2pmem [CLIENT..]        the machine's p2pmem files beside the model's pools\n"
"  verify                   O_DIRECT into p2pmem for real, beside the prediction\n"
"  run SCRIPT...            drive the modelled kernel from a scenario script\n"
"  (COMMAND --help for its own options)\n"
"\n"
"Source (default: this machine, through libpci's sysfs method):\n"
"  --sysfs DIR              a captured sysfs tree (DIR holds bus/pci/devices)\n"
"  --dump FILE              an lspci -x, -xxx or -xxxx dump (- reads stdin)\n"
"  --lspci FILE             lspci's text: -vv/-vvv (verdicts as from a dump),\n"
"                           -v, plain, or a -t/-tv tree (shape only)\n"
"  --hwloc FILE             an hwloc XML topology (lstopo --of xml): shape only\n"
"  --topology FILE          a JSON topology description (doc/topology-json.md)\n"
"  --example NAME           a bundled example machine (see 'p2pdma examples')\n"
"  --synth SPEC             a synthetic fabric, e.g. hb=2,rp=4,sw=2,ep=8\n"
"\n"
"Policy (what the kernel brings):\n"
"  --kernel VER             kernel version profile (default: the running kernel\n"
"                           for the live machine, else the newest)\n"
"  --cpu VENDOR:FAMILY      boot CPU, e.g. AuthenticAMD:25, intel:6, arm:0\n"
"  --cmdline 'ARGS'         boot with this command line (what-if): applies\n"
"                           pci=disable_acs_redir= and pci=config_acs= to the\n"
"                           captured ACS registers; '' applies nothing\n"
"\n"
"What-if:\n"
"  --iommu                  an IOMMU driver requests ACS at boot (kernel\n"
"                           defaults SV|RR|CR|UF on every port advertising them)\n"
"  --acs BDF=VALUE          set a function's ACS Control register\n"
"  --acs-set BDF=BITS       set bits (SV,TB,RR,CR,UF,EC,DT or hex)\n"
"  --acs-clear BDF[=BITS]   clear bits (default: the redirect bits RR,CR,EC)\n"
"  --allow VENDOR:DEVICE[:same-host-bridge]\n"
"                           what if this host bridge device were on the\n"
"                           kernel's P2PDMA allow list (hex IDs, DEVICE 'any'\n"
"                           for 7.1+ wildcards; repeatable; after the built-in rows)\n"
"\n"
"Output:\n"
"  --json                   machine-readable output\n"
"  --no-names               do not look up vendor/device names (pci.ids)\n"
"  --seed N                 seed of find_many's random tie break\n"
"  -h, --help               this text;  -V, --version\n"
"\n"
"Exit status: 0 ok, 1 a verdict asked about is NOT_SUPPORTED, 2 bad input.\n"
"Examples:\n"
"  p2pdma --example xeon-8gpu matrix --class gpu,nic\n"
"  p2pdma check 0000:17:00.0 0000:18:00.0\n"
"  p2pdma --dump lspci.txt --cpu GenuineIntel:6 fix 01:00.0 02:00.0\n";

enum {
	OPT_SYSFS = 256, OPT_DUMP, OPT_TOPOLOGY, OPT_EXAMPLE, OPT_SYNTH,
	OPT_KERNEL, OPT_CPU, OPT_CMDLINE, OPT_IOMMU, OPT_ACS, OPT_ACS_SET,
	OPT_ACS_CLEAR, OPT_JSON, OPT_NO_NAMES, OPT_SEED, OPT_LSPCI, OPT_HWLOC,
	OPT_ALLOW,
};

static const struct option global_opts[] = {
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "dump", required_argument, NULL, OPT_DUMP },
	{ "lspci", required_argument, NULL, OPT_LSPCI },
	{ "hwloc", required_argument, NULL, OPT_HWLOC },
	{ "topology", required_argument, NULL, OPT_TOPOLOGY },
	{ "example", required_argument, NULL, OPT_EXAMPLE },
	{ "synth", required_argument, NULL, OPT_SYNTH },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "iommu", no_argument, NULL, OPT_IOMMU },
	{ "acs", required_argument, NULL, OPT_ACS },
	{ "acs-set", required_argument, NULL, OPT_ACS_SET },
	{ "acs-clear", required_argument, NULL, OPT_ACS_CLEAR },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-names", no_argument, NULL, OPT_NO_NAMES },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_ACS_EDITS 64

struct acs_edit {
	int op;			/* OPT_ACS, OPT_ACS_SET, OPT_ACS_CLEAR */
	const char *arg;
};

struct options {
	int source;		/* 0 = live, else OPT_SYSFS... */
	const char *source_arg;
	const char *kernel;
	const char *cpu;
	const char *cmdline;	/* NULL: not given */
	bool iommu;
	bool no_names;
	struct acs_edit edits[MAX_ACS_EDITS];
	unsigned int nedits;
	const char *allows[MAX_ACS_EDITS];	/* --allow, in order */
	unsigned int nallows;
};

static int add_allows(struct cli *cli, struct p2pdma_policy *pol,
		      const struct options *o);

static int set_source(struct options *o, int opt, const char *arg)
{
	if (o->source)
		return cli_error("give one source only (--sysfs, --dump, --lspci, --hwloc, --topology, --example or --synth)");
	o->source = opt;
	o->source_arg = arg;
	return 0;
}

static int load_source(struct cli *cli, const struct options *o)
{
	int ret;

	switch (o->source) {
	case OPT_SYSFS:
		ret = p2pdma_topo_load_sysfs(cli->ctx, o->source_arg, &cli->loaded);
		break;
	case OPT_DUMP:
		ret = p2pdma_topo_load_dump(cli->ctx, o->source_arg, &cli->loaded);
		break;
	case OPT_TOPOLOGY:
		ret = p2pdma_topo_load_json(cli->ctx, o->source_arg, &cli->loaded);
		break;
	case OPT_LSPCI:
		ret = p2pdma_topo_load_lspci(cli->ctx, o->source_arg, &cli->loaded);
		break;
	case OPT_HWLOC:
		ret = p2pdma_topo_load_hwloc(cli->ctx, o->source_arg, &cli->loaded);
		break;
	case OPT_EXAMPLE:
		ret = p2pdma_topo_load_example(cli->ctx, o->source_arg, &cli->loaded);
		if (ret == -ENOENT) {
			size_t i;

			fprintf(stderr, "p2pdma: no example machine '%s'; the bundled ones are:\n",
				o->source_arg);
			for (i = 0; p2pdma_example_name(i); i++)
				fprintf(stderr, "  %-14s %s\n", p2pdma_example_name(i),
					p2pdma_example_summary(i));
			return 2;
		}
		break;
	case OPT_SYNTH:
		ret = p2pdma_topo_synth(cli->ctx, o->source_arg, &cli->loaded);
		break;
	default:
		ret = p2pdma_topo_load_live(cli->ctx, &cli->loaded);
		break;
	}
	if (ret)
		return cli_error("%s", *p2pdma_ctx_error(cli->ctx) ?
				 p2pdma_ctx_error(cli->ctx) : strerror(-ret));
	return 0;
}

static int parse_acs_bits(const char *s, uint16_t *out)
{
	static const struct { const char *name; uint16_t bit; } bits[] = {
		{ "SV", P2PDMA_ACS_SV }, { "TB", P2PDMA_ACS_TB },
		{ "RR", P2PDMA_ACS_RR }, { "CR", P2PDMA_ACS_CR },
		{ "UF", P2PDMA_ACS_UF }, { "EC", P2PDMA_ACS_EC },
		{ "DT", P2PDMA_ACS_DT },
	};
	char buf[128], *tok, *save = NULL;
	uint16_t v = 0;

	if (!*s)
		return -EINVAL;
	if (s[0] >= '0' && s[0] <= '9') {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(s, &end, 0);
		/* ACS Control defines bits 0-6 (SV..DT); the rest is reserved. */
		if (errno || *end || n > 0x7f)
			return -EINVAL;
		*out = (uint16_t)n;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",|+", &save); tok;
	     tok = strtok_r(NULL, ",|+", &save)) {
		size_t i;

		for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
			if (!strcasecmp(tok, bits[i].name))
				break;
		if (i == sizeof(bits) / sizeof(bits[0]))
			return -EINVAL;
		v |= bits[i].bit;
	}
	*out = v;
	return 0;
}

static int apply_acs_edit(struct cli *cli, const struct acs_edit *e)
{
	char bdf[64];
	const char *eq = strchr(e->arg, '=');
	const struct p2pdma_dev *dev;
	struct p2pdma_dev_info info;
	uint16_t bits = P2PDMA_ACS_REDIR_MASK, ctrl;
	size_t n = eq ? (size_t)(eq - e->arg) : strlen(e->arg);

	if (n >= sizeof(bdf) || (!eq && e->op != OPT_ACS_CLEAR))
		return cli_error("--acs%s wants BDF=BITS, got '%s'",
				 e->op == OPT_ACS ? "" : e->op == OPT_ACS_SET ?
				 "-set" : "-clear", e->arg);
	memcpy(bdf, e->arg, n);
	bdf[n] = '\0';
	dev = cli_find_dev(cli, bdf);
	if (!dev)
		return 2;
	if (eq && parse_acs_bits(eq + 1, &bits))
		return cli_error("'%s': ACS bits are SV,TB,RR,CR,UF,EC,DT (comma separated) or a number up to 0x7f (bits 7-15 are reserved)",
				 eq + 1);
	p2pdma_dev_get_info(dev, &info, sizeof(info));
	ctrl = info.acs_ctrl;
	if (e->op == OPT_ACS)
		ctrl = bits;
	else if (e->op == OPT_ACS_SET)
		ctrl |= bits;
	else
		ctrl &= (uint16_t)~bits;
	/* A run-time register write on the booted kernel (setpci). */
	if (p2pdma_kernel_write_acs_ctrl(cli->k, dev, ctrl))
		return cli_error("%s", p2pdma_ctx_error(cli->ctx));
	cli->topo = p2pdma_kernel_topo(cli->k);
	return 0;
}

/* The option that answers a note, for people at this command line. */
static const char *note_hint(const struct cli *cli, enum p2pdma_note code)
{
	switch (code) {
	case P2PDMA_NOTE_KERNEL_ASSUMED:
	case P2PDMA_NOTE_KERNEL_NOT_UNDERSTOOD:
		return "; use --kernel";
	case P2PDMA_NOTE_CPU_ASSUMED:
	case P2PDMA_NOTE_CPU_NOT_UNDERSTOOD:
		return "; use --cpu";
	case P2PDMA_NOTE_CPU_FROM_HOST_BRIDGES:
		return "; give it with --cpu (e.g. --cpu AuthenticAMD:25)";
	case P2PDMA_NOTE_ACS_UNKNOWN:
		switch (p2pdma_topo_source(cli->loaded)) {
		case P2PDMA_SRC_LIVE:
			return geteuid() ? "; run with sudo" : "";
		case P2PDMA_SRC_LSPCI:
			return "; lspci prints ACSCtl only with -vv or -vvv run as root";
		case P2PDMA_SRC_HWLOC:
			return "; hwloc does not record ACS: use sudo lspci -xxxx or -vvv";
		default:
			return "; capture with sudo lspci -xxxx";
		}
	case P2PDMA_NOTE_IOMMU_ASSUMED:
		return " (add --iommu if it has one)";
	default:
		return "";
	}
}

/* The boot log: the kernel's lines and the model's notes, with hints. */
static void collect_notes(struct cli *cli)
{
	size_t i, n = p2pdma_kernel_log_count(cli->k);

	for (i = 0; i < n && cli->nnotes < CLI_MAX_NOTES; i++) {
		enum p2pdma_note code;
		const char *text = p2pdma_kernel_log_entry(cli->k, i, NULL, &code);
		char *s = NULL;

		if (asprintf(&s, "%s%s", text, note_hint(cli, code)) < 0)
			continue;
		cli->note_code[cli->nnotes] = code;
		cli->notes[cli->nnotes++] = s;
	}
}

/* Build the policy (explicit options over the machine's facts) and boot. */
static int boot_kernel(struct cli *cli, const struct options *o)
{
	struct p2pdma_policy *pol = NULL;
	unsigned int i;
	int ret;

	if (p2pdma_policy_from_machine(cli->ctx, cli->loaded, &pol))
		return cli_error("out of memory");
	ret = 2;
	if (o->kernel && p2pdma_policy_set_kernel(pol, o->kernel)) {
		cli_error("--kernel '%s': %s", o->kernel, p2pdma_ctx_error(cli->ctx));
		goto out;
	}
	if (o->cpu && p2pdma_policy_set_cpu(pol, o->cpu)) {
		cli_error("--cpu '%s': %s", o->cpu, p2pdma_ctx_error(cli->ctx));
		goto out;
	}
	if (o->cmdline && p2pdma_policy_set_cmdline(pol, o->cmdline)) {
		cli_error("--cmdline: %s", p2pdma_ctx_error(cli->ctx));
		goto out;
	}
	ret = add_allows(cli, pol, o);
	if (ret)
		goto out;
	p2pdma_policy_set_iommu_acs(pol, o->iommu);
	ret = 2;
	if (p2pdma_kernel_boot(cli->ctx, cli->loaded, pol, &cli->k)) {
		cli_error("%s", p2pdma_ctx_error(cli->ctx));
		goto out;
	}
	cli->topo = p2pdma_kernel_topo(cli->k);
	cli->pol = p2pdma_kernel_policy(cli->k);
	for (i = 0; i < o->nedits; i++) {
		ret = apply_acs_edit(cli, &o->edits[i]);
		if (ret)
			goto out;
	}
	if (cli->seed_set)
		p2pdma_kernel_set_seed(cli->k, cli->seed);
	collect_notes(cli);
	ret = 0;
out:
	p2pdma_policy_destroy(pol);
	return ret;
}

static const char examples_help[] =
"Usage: p2pdma examples [--json]\n"
"\n"
"The bundled example machines, by name, with a line on each. Use one as the\n"
"source of any command: p2pdma --example NAME report.\n";

static int cmd_examples(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'h': fputs(examples_help, cli->out); return 0;
		default: return cli_bad_option(argv, examples_help);
		}
	}
	if (optind < argc)
		return cli_error("examples: unexpected argument '%s'", argv[optind]);
	if (cli->json) {
		json_t *arr = json_array();

		for (i = 0; p2pdma_example_name(i); i++)
			json_array_append_new(arr, json_pack("{s:s, s:s}",
				"name", p2pdma_example_name(i),
				"summary", p2pdma_example_summary(i)));
		return cli_print_json(cli, json_pack("{s:o}", "examples", arr));
	}
	for (i = 0; p2pdma_example_name(i); i++)
		fprintf(cli->out, "%-14s %s\n", p2pdma_example_name(i),
			p2pdma_example_summary(i));
	return 0;
}

static const struct command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	bool needs_topo;
} commands[] = {
	{ "tree", cmd_tree, true },
	{ "check", cmd_check, true },
	{ "matrix", cmd_matrix, true },
	{ "providers", cmd_providers, true },
	{ "fix", cmd_fix, true },
	{ "report", cmd_report, true },
	{ "topo", cmd_topo, true },
	{ "graph", cmd_graph, true },
	{ "export", cmd_export, true },
	{ "vfio", cmd_vfio, true },
	{ "examples", cmd_examples, false },
	{ "run", cmd_run, false },
	{ "p2pmem", cmd_p2pmem, true },
	{ "verify", cmd_verify, true },
};

static void log_to_stderr(void *data, int level, const char *msg)
{
	(void)data;
	fprintf(stderr, "p2pdma: %s%s\n",
		level <= P2PDMA_LOG_WARNING ? "warning: " : "", msg);
}

/* The global options, up to the command name. -1: go on; else exit status. */
static int parse_globals(struct cli *cli, struct options *o, int argc, char **argv)
{
	int opt;

	/* '+': stop at the command name; the command parses the rest. */
	while ((opt = getopt_long(argc, argv, "+hV", global_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SYSFS: case OPT_DUMP: case OPT_TOPOLOGY:
		case OPT_EXAMPLE: case OPT_SYNTH: case OPT_LSPCI: case OPT_HWLOC:
			if (opt == OPT_SYSFS)
				cli->sysfs_root = optarg;
			if (set_source(o, opt, optarg))
				return 2;
			break;
		case OPT_KERNEL: o->kernel = optarg; break;
		case OPT_CPU: o->cpu = optarg; break;
		case OPT_CMDLINE: o->cmdline = optarg; break;
		case OPT_IOMMU: o->iommu = true; break;
		case OPT_ACS: case OPT_ACS_SET: case OPT_ACS_CLEAR:
			if (o->nedits == MAX_ACS_EDITS)
				return cli_error("too many ACS edits");
			o->edits[o->nedits].op = opt;
			o->edits[o->nedits++].arg = optarg;
			break;
		case OPT_ALLOW:
			if (o->nallows == MAX_ACS_EDITS)
				return cli_error("too many --allow rows");
			o->allows[o->nallows++] = optarg;
			break;
		case OPT_JSON: cli->json = true; break;
		case OPT_NO_NAMES: o->no_names = true; break;
		case OPT_SEED: {
			char *end;

			errno = 0;
			cli->seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg)
				return cli_error("--seed wants a number, got '%s'", optarg);
			cli->seed_set = true;
			break;
		}
		case 'h':
			fputs(usage_text, cli->out);
			return 0;
		case 'V':
			fprintf(cli->out, "p2pdma %s\n", p2pdma_version());
			return 0;
		default:
			fputs("Try 'p2pdma --help'.\n", stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	return -1;
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* "COMMAND ... --help": a command's help needs no topology. */
static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

/* Load, boot and run the command; the exit status. */
static int run_command(struct cli *cli, const struct options *o,
		       const struct command *cmd, int argc, char **argv)
{
	int ret = 0;

	if (p2pdma_ctx_create(&cli->ctx))
		return cli_error("out of memory");
	p2pdma_ctx_set_log(cli->ctx, log_to_stderr, NULL, P2PDMA_LOG_WARNING);
	if (o->no_names)
		p2pdma_ctx_set_param(cli->ctx, "names", "0");
	if (cmd->needs_topo) {
		ret = load_source(cli, o);
		if (!ret)
			ret = boot_kernel(cli, o);
	}
	/* optind 0, not 1: glibc then forgets the '+' of the global parse
	 * and commands take options after their operands too. */
	optind = 0;
	if (!ret)
		ret = cmd->fn(cli, argc, argv);
	return ret;
}

int main(int argc, char **argv)
{
	struct cli cli = { .prog = "p2pdma" };
	struct options o = { 0 };
	const struct command *cmd;
	unsigned int i;
	int ret;

	cli.out = cli_safe_stream(stdout);
	if (!cli.out)
		cli.out = stdout;
	for (i = 1; i < (unsigned int)argc && strcmp(argv[i], "--"); i++)
		cli_json_errors |= !strcmp(argv[i], "--json");
	/* Under --json, getopt's own messages would not be JSON. */
	if (cli_json_errors)
		opterr = 0;
	ret = parse_globals(&cli, &o, argc, argv);
	if (ret < 0) {
		int cargc = argc - optind;
		char **cargv = argv + optind;

		cmd = find_command(cargv[0]);
		if (!cmd) {
			ret = cli_error("unknown command '%s' (try 'p2pdma --help')", cargv[0]);
		} else if (wants_help(cargc, cargv)) {
			optind = 0;
			ret = cmd->fn(&cli, cargc, cargv);
		} else {
			ret = run_command(&cli, &o, cmd, cargc, cargv);
		}
	}
	for (i = 0; i < cli.nnotes; i++)
		free(cli.notes[i]);
	p2pdma_kernel_shutdown(cli.k);
	p2pdma_topo_destroy(cli.loaded);
	p2pdma_ctx_destroy(cli.ctx);
	if (fflush(cli.out) == EOF || ferror(cli.out) || (cli.out != stdout && fclose(cli.out)) ||
	    fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "p2pdma: error writing output\n");
		return 2;
	}
	return ret;
}

/*
 * --allow VENDOR:DEVICE[:same-host-bridge]: one more allow-list row each,
 * after the kernel's own (p2pdma_policy_add_allow()).
 */
static int add_allows(struct cli *cli, struct p2pdma_policy *pol,
		      const struct options *o)
{
	unsigned int i;

	for (i = 0; i < o->nallows; i++) {
		const char *arg = o->allows[i], *p = arg;
		unsigned long vendor, device;
		uint32_t flags = 0;
		char *end;

		errno = 0;
		vendor = strtoul(p, &end, 16);
		if (errno || end == p || *end != ':' || vendor > 0xffff)
			goto bad;
		p = end + 1;
		if (!strncasecmp(p, "any", 3) && (p[3] == '\0' || p[3] == ':')) {
			device = P2PDMA_ANY_ID;
			end = (char *)p + 3;
		} else {
			device = strtoul(p, &end, 16);
			if (errno || end == p || device > 0xffff)
				goto bad;
		}
		if (*end == ':' && !strcmp(end + 1, "same-host-bridge"))
			flags = P2PDMA_REQ_SAME_HOST_BRIDGE;
		else if (*end)
			goto bad;
		if (p2pdma_policy_add_allow(pol, (uint16_t)vendor,
					    (uint32_t)device, flags))
			return cli_error("--allow '%s': %s", arg,
					 p2pdma_ctx_error(cli->ctx));
		continue;
bad:
		return cli_error("--allow wants VENDOR:DEVICE[:same-host-bridge] in hex (DEVICE may be 'any'), got '%s'",
				 arg);
	}
	return 0;
}
