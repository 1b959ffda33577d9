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
"  export --json|--dump     write the loaded topology as JSON or lspci -xxxx\n"
"  examples                 list the bundled example machines\n"
"  (COMMAND --help for its own options)\n"
"\n"
"Source (default: this machine, through libpci's sysfs method):\n"
"  --sysfs DIR              a captured sysfs tree (DIR holds bus/pci/devices)\n"
"  --dump FILE              an lspci -x, -xxx or -xxxx dump\n"
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
	OPT_ACS_CLEAR, OPT_JSON, OPT_NO_NAMES, OPT_SEED, OPT_ALLOW,
};

static const struct option global_opts[] = {
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "dump", required_argument, NULL, OPT_DUMP },
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
	struct acs_edit edits[MAX_ACS_EDITS];
	unsigned int nedits;
	const char *allows[MAX_ACS_EDITS];	/* --allow, in order */
	unsigned int nallows;
};

static int add_allows(struct cli *cli, const struct options *o);

static int set_source(struct options *o, int opt, const char *arg)
{
	if (o->source)
		return cli_error("give one source only (--sysfs, --dump, --topology, --example or --synth)");
	o->source = opt;
	o->source_arg = arg;
	return 0;
}

/* Say once why ACS is unknown, and what to do about it. */
static void note_unknown_acs(struct cli *cli)
{
	size_t n = p2pdma_topo_num_devs(cli->topo), i, unknown = 0;
	static char note[256];

	for (i = 0; i < n; i++) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(p2pdma_topo_dev(cli->topo, i), &in, sizeof(in));
		unknown += in.acs_state == P2PDMA_ACS_UNKNOWN;
	}
	if (!unknown || cli->nnotes >= CLI_MAX_NOTES)
		return;
	snprintf(note, sizeof(note),
		 "ACS unknown on %zu of %zu functions (%s): verdicts through them assume ACS off",
		 unknown, n,
		 p2pdma_topo_source(cli->topo) == P2PDMA_SRC_LIVE && geteuid() ?
		 "not root: the extended config space is unreadable; run with sudo" :
		 "the source holds no extended config space; capture with sudo lspci -xxxx");
	cli->notes[cli->nnotes++] = note;
}

static int load_source(struct cli *cli, const struct options *o)
{
	int ret;

	switch (o->source) {
	case OPT_SYSFS:
		ret = p2pdma_topo_load_sysfs(cli->ctx, o->source_arg, &cli->topo);
		break;
	case OPT_DUMP:
		ret = p2pdma_topo_load_dump(cli->ctx, o->source_arg, &cli->topo);
		break;
	case OPT_TOPOLOGY:
		ret = p2pdma_topo_load_json(cli->ctx, o->source_arg, &cli->topo);
		break;
	case OPT_EXAMPLE:
		ret = p2pdma_topo_load_example(cli->ctx, o->source_arg, &cli->topo);
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
		ret = p2pdma_topo_synth(cli->ctx, o->source_arg, &cli->topo);
		break;
	default:
		ret = p2pdma_topo_load_live(cli->ctx, &cli->topo);
		break;
	}
	if (ret)
		return cli_error("%s", *p2pdma_ctx_error(cli->ctx) ?
				 p2pdma_ctx_error(cli->ctx) : strerror(-ret));
	note_unknown_acs(cli);
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
		if (errno || *end || n > 0xffff)
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
	struct p2pdma_dev *dev;
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
		return cli_error("'%s': ACS bits are SV,TB,RR,CR,UF,EC,DT (comma separated) or a number",
				 eq + 1);
	p2pdma_dev_get_info(dev, &info, sizeof(info));
	if (info.acs_state != P2PDMA_ACS_PRESENT)
		return cli_error("%s has %s ACS capability: its control register cannot be changed",
				 info.bdf, info.acs_state == P2PDMA_ACS_UNKNOWN ?
				 "an unreadable (unknown)" : "no");
	ctrl = info.acs_ctrl;
	if (e->op == OPT_ACS)
		ctrl = bits;
	else if (e->op == OPT_ACS_SET)
		ctrl |= bits;
	else
		ctrl &= (uint16_t)~bits;
	p2pdma_topo_set_acs_ctrl(dev, ctrl);
	return 0;
}

/*
 * The registers already carry what the kernel applied at boot: say which
 * functions the machine's own command line configured, never apply it again.
 */
static void explain_boot_cmdline(struct cli *cli, const char *cmdline)
{
	static char note[1024];
	size_t n = p2pdma_topo_num_devs(cli->topo), i, off = 0;
	unsigned int hits = 0;
	char why[512], param[512] = "";
	const char *p, *e;

	for (i = 0; i < n; i++) {
		struct p2pdma_dev *d = p2pdma_topo_dev(cli->topo, i);

		if (!p2pdma_policy_cmdline_matches(cli->pol, cmdline, d, why, sizeof(why)))
			continue;
		/* "... your command line: pci=X=Y (entry 'Z')" -> "pci=X=Y" */
		p = strstr(why, "command line: ");
		e = p ? strstr(p, " (entry") : NULL;
		if (!hits++ && p && e)
			snprintf(param, sizeof(param), "%.*s", (int)(e - p - 14), p + 14);
		if (hits <= 4)
			off += (size_t)snprintf(note + off, sizeof(note) - off, "%s%s",
						off ? ", " : "", p2pdma_dev_name(d));
	}
	if (!hits || cli->nnotes >= CLI_MAX_NOTES)
		return;
	{
		char devs[1100];
		int w;

		w = snprintf(devs, sizeof(devs), "%s%s", note, hits > 4 ? ", ..." : "");
		if (w < 0)
			devs[0] = '\0';
		w = snprintf(note, sizeof(note),
			     "the ACS registers of %u function%s (%s) show the machine's own command line%s%s (not applied again)",
			     hits, hits == 1 ? "" : "s", devs, param[0] ? ": " : "", param);
		if (w >= (int)sizeof(note))
			memcpy(note + sizeof(note) - 4, "...", 4);
	}
	cli->notes[cli->nnotes++] = note;
}

/*
 * --cmdline '' (or only blanks) applies nothing: the registers stay as the
 * source recorded them. Any other value is a what-if boot with that whole
 * command line, which replaces the one the capture booted with.
 */
static bool cmdline_given(const struct options *o)
{
	const char *p = o->cmdline;

	if (!p)
		return false;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return *p != '\0';
}

/* Build the policy: explicit options first, then what the source carried. */
static int setup_policy(struct cli *cli, const struct options *o)
{
	struct p2pdma_machine_info m;
	static char note_cpu[256], note_kernel[256];
	unsigned int i;
	int ret;

	ret = p2pdma_policy_create(cli->ctx, &cli->pol);
	if (ret)
		return cli_error("%s", strerror(-ret));
	p2pdma_topo_machine(cli->topo, &m);

	if (o->kernel) {
		if (p2pdma_policy_set_kernel(cli->pol, o->kernel))
			return cli_error("--kernel '%s': %s", o->kernel,
					 p2pdma_ctx_error(cli->ctx));
	} else if (m.kernel) {
		if (p2pdma_policy_set_kernel(cli->pol, m.kernel)) {
			snprintf(note_kernel, sizeof(note_kernel),
				 "kernel '%s' of the source not understood: newest profile %s used",
				 m.kernel, p2pdma_policy_kernel(cli->pol));
			cli->notes[cli->nnotes++] = note_kernel;
		}
	} else {
		snprintf(note_kernel, sizeof(note_kernel),
			 "kernel unknown: newest profile (%s) assumed; use --kernel",
			 p2pdma_policy_kernel(cli->pol));
		cli->notes[cli->nnotes++] = note_kernel;
	}

	if (o->cpu) {
		if (p2pdma_policy_set_cpu(cli->pol, o->cpu))
			return cli_error("--cpu '%s': %s", o->cpu,
					 p2pdma_ctx_error(cli->ctx));
	} else {
		p2pdma_policy_set_cpu_from_machine(cli->pol, &m);
	}
	if (p2pdma_policy_cpu_note(cli->pol)) {
		snprintf(note_cpu, sizeof(note_cpu), "%s",
			 p2pdma_policy_cpu_note(cli->pol));
		cli->notes[cli->nnotes++] = note_cpu;
	}
	ret = add_allows(cli, o);
	if (ret)
		return ret;

	/*
	 * Registers from a machine, dump or tree already carry what the
	 * kernel applied at boot: a command line is applied only as an
	 * explicit what-if, never a second time.
	 */
	if (cmdline_given(o) || o->iommu) {
		if (o->cmdline && p2pdma_policy_set_cmdline(cli->pol, o->cmdline))
			return cli_error("--cmdline: %s", p2pdma_ctx_error(cli->ctx));
		int booted = p2pdma_topo_infer_iommu_boot(cli->topo);
		static const char note_unknown[] =
			"whether the captured machine booted with an IOMMU is unknown and no register shows the kernel's default ACS bits: the what-if boot assumes no IOMMU (add --iommu if it has one)";

		p2pdma_policy_set_iommu_acs(cli->pol, o->iommu);
		p2pdma_policy_set_captured_iommu(cli->pol, booted == 1);
		if (booted < 0 && !o->iommu && cli->nnotes < CLI_MAX_NOTES)
			cli->notes[cli->nnotes++] = note_unknown;
		if (p2pdma_policy_apply(cli->pol, cli->topo))
			return cli_error("%s", p2pdma_ctx_error(cli->ctx));
		/* What the what-if boot logged: the kernel's own lines and ours. */
		for (i = 0; i < p2pdma_policy_log_count(cli->pol) &&
			    cli->nnotes < CLI_MAX_NOTES; i++) {
			const char *line = p2pdma_policy_log_line(cli->pol, i);

			cli->notes[cli->nnotes++] = strncmp(line, "note: ", 6) ?
						    line : line + 6;
		}
	}
	for (i = 0; i < o->nedits; i++) {
		ret = apply_acs_edit(cli, &o->edits[i]);
		if (ret)
			return ret;
	}
	if (!cmdline_given(o) && !o->iommu && m.cmdline)
		explain_boot_cmdline(cli, m.cmdline);
	return 0;
}

static int cmd_examples(struct cli *cli, int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
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
	{ "export", cmd_export, true },
	{ "examples", cmd_examples, false },
};

static void log_to_stderr(void *data, int level, const char *msg)
{
	(void)data;
	fprintf(stderr, "p2pdma: %s%s\n",
		level <= P2PDMA_LOG_WARNING ? "warning: " : "", msg);
}

int main(int argc, char **argv)
{
	struct cli cli = { .prog = "p2pdma", .out = stdout };
	struct options o = { 0 };
	const struct command *cmd = NULL;
	bool names = true;
	size_t i;
	int opt, ret;

	/* '+': stop at the command name; the command parses the rest. */
	while ((opt = getopt_long(argc, argv, "+hV", global_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SYSFS: case OPT_DUMP: case OPT_TOPOLOGY:
		case OPT_EXAMPLE: case OPT_SYNTH:
			if (set_source(&o, opt, optarg))
				return 2;
			break;
		case OPT_KERNEL: o.kernel = optarg; break;
		case OPT_CPU: o.cpu = optarg; break;
		case OPT_CMDLINE: o.cmdline = optarg; break;
		case OPT_IOMMU: o.iommu = true; break;
		case OPT_ACS: case OPT_ACS_SET: case OPT_ACS_CLEAR:
			if (o.nedits == MAX_ACS_EDITS)
				return cli_error("too many ACS edits");
			o.edits[o.nedits].op = opt;
			o.edits[o.nedits++].arg = optarg;
			break;
		case OPT_ALLOW:
			if (o.nallows == MAX_ACS_EDITS)
				return cli_error("too many --allow rows");
			o.allows[o.nallows++] = optarg;
			break;
		case OPT_JSON: cli.json = true; break;
		case OPT_NO_NAMES: names = false; break;
		case OPT_SEED: {
			char *end;

			errno = 0;
			cli.seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg)
				return cli_error("--seed wants a number, got '%s'", optarg);
			cli.seed_set = true;
			break;
		}
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("p2pdma %s\n", p2pdma_version());
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
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			cmd = &commands[i];
	if (!cmd)
		return cli_error("unknown command '%s' (try 'p2pdma --help')",
				 argv[optind]);

	/* Help of a command needs no topology. */
	for (i = (size_t)optind + 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			int cargc = argc - optind;

			/* Commands print their help before touching cli->topo. */
			cli.out = stdout;
			argv += optind;
			optind = 0;
			return cmd->fn(&cli, cargc, argv);
		}
	}

	if (p2pdma_ctx_create(&cli.ctx))
		return cli_error("out of memory");
	p2pdma_ctx_set_log(cli.ctx, log_to_stderr, NULL, P2PDMA_LOG_WARNING);
	if (!names)
		p2pdma_ctx_set_param(cli.ctx, "names", "0");

	ret = 0;
	if (cmd->needs_topo) {
		ret = load_source(&cli, &o);
		if (!ret)
			ret = setup_policy(&cli, &o);
	}
	if (!ret) {
		int cargc = argc - optind;
		char **cargv = &argv[optind];

		/* 0, not 1: glibc then forgets the '+' of the global parse and
		 * commands take options after their operands too. */
		optind = 0;
		ret = cmd->fn(&cli, cargc, cargv);
	}
	p2pdma_policy_destroy(cli.pol);
	p2pdma_topo_destroy(cli.topo);
	p2pdma_ctx_destroy(cli.ctx);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "p2pdma: error writing output\n");
		return 2;
	}
	return ret;
}

/*
 * --allow VENDOR:DEVICE[:same-host-bridge]: one more allow-list row each,
 * after the kernel's own (p2pdma_policy_add_allow()).
 */
static int add_allows(struct cli *cli, const struct options *o)
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
		if (p2pdma_policy_add_allow(cli->pol, (uint16_t)vendor,
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
