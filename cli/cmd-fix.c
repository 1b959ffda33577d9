// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-fix.c - p2pdma fix: the smallest change that makes a pair BUS_ADDR, verified */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-verdict.h"

static const char fix_help[] =
"Usage: p2pdma [SOURCE] [POLICY] [WHAT-IF] fix [--json] PROVIDER CLIENT\n"
"\n"
"What it takes to make the pair BUS_ADDR (P2P turning around in the common\n"
"switch instead of going up to the root complex), and what it costs:\n"
"\n"
"  * already BUS_ADDR: nothing (exit 0).\n"
"  * ACS redirect (RR/CR/EC) on ports of the path, or on the provider or\n"
"    client itself (multi-function endpoints have ACS too): clear those bits\n"
"    on exactly those functions, with pci=disable_acs_redir=LIST (4.19+), or\n"
"    pci=config_acs=x0x00xx@...;... (6.11+, reliable with several devices\n"
"    from 6.15), or at runtime with setpci (until reboot or reset; then\n"
"    rebind the provider's driver, whose map-type cache keeps old verdicts).\n"
"    Cost: the IOMMU no longer sees traffic between devices below those\n"
"    ports; Linux puts every device below a port without redirect into that\n"
"    port's IOMMU group, so VFIO must assign them together.\n"
"  * no common upstream bridge (different root ports or host bridges): no\n"
"    command line helps; the path always crosses the root complex and is\n"
"    allowed (THRU_HOST_BRIDGE) only by the AMD Zen CPU rule or a host\n"
"    bridge on the kernel's allow list; it says which holds, or what would\n"
"    be needed; for BUS_ADDR move both devices below one switch.\n"
"  * ACS state unknown on the path: the verdict and the fix are computed as\n"
"    if redirect were off; it says which functions to check.\n"
"\n"
"Every command line shown is MERGED with the ACS parameters the machine\n"
"already boots with (only the last pci=disable_acs_redir= counts, so adding\n"
"one would drop the old list), and VERIFIED: a copy of the machine is booted\n"
"with it under the same kernel profile, CPU and IOMMU; the pair must come\n"
"out BUS_ADDR and no pair that is BUS_ADDR today may be lost. A variant\n"
"that fails is marked so, with the boot log that tells why.\n"
"\n"
"JSON: \"kernel_cmdline\" is the complete set of ACS parameters to boot with,\n"
"ready to paste (null when no command line is advised).\n"
"\n"
"Exit status: 0 already BUS_ADDR, already allowed through the host bridge,\n"
"or a verified fix exists; 1 refused and no verified command-line fix;\n"
"2 usage or input error.\n"
"\n"
"Examples:\n"
"  p2pdma --example xeon-8gpu fix 18:00.0 19:00.0\n"
"  p2pdma --example xeon-8gpu --kernel 6.15 fix --json 18:00.0 1b:00.0\n"
"  p2pdma --example arm-server fix 0001:01:00.0 0003:01:00.0\n";

/* ACS Control RR|CR|EC: cleared by disable_acs_redir (doc/kernel-model.md §2.7). */
#define REDIR_BITS 0x002c

static const char *status_name(enum p2pdma_advice_status st)
{
	switch (st) {
	case P2PDMA_ADVICE_ALREADY_BUS_ADDR: return "already_bus_addr";
	case P2PDMA_ADVICE_DEPENDS_ON_UNKNOWN_ACS: return "depends_on_unknown_acs";
	case P2PDMA_ADVICE_ALLOWED_NO_SWITCH: return "allowed_no_common_switch";
	case P2PDMA_ADVICE_FIX: return "fix";
	case P2PDMA_ADVICE_FIX_UNVERIFIED: return "fix_unverified";
	case P2PDMA_ADVICE_NO_CMDLINE_FIX: return "no_cmdline_fix";
	case P2PDMA_ADVICE_NOTHING_TO_DO: return "nothing_to_do";
	}
	return "unknown";
}

static const char *req_name(enum p2pdma_requirement r)
{
	switch (r) {
	case P2PDMA_REQ_CPU_RULE: return "amd_zen_cpu_rule";
	case P2PDMA_REQ_ALLOW_LIST: return "allow_list";
	case P2PDMA_REQ_NO_HOSTDEV: return "no_host_device";
	case P2PDMA_REQ_COMMON_SWITCH: return "common_switch";
	}
	return "unknown";
}

/* The exit status: 0 when the pair is fine or a fix verified. */
static int fix_exit(enum p2pdma_advice_status st)
{
	return st == P2PDMA_ADVICE_FIX_UNVERIFIED || st == P2PDMA_ADVICE_NO_CMDLINE_FIX;
}

static void setpci_line(const struct p2pdma_dev *d, uint16_t ctrl, char *buf, size_t len)
{
	snprintf(buf, len, "setpci -s %s ECAP_ACS+6.w=0000:%04x   # ACSCtl 0x%04x -> 0x%04x",
		 p2pdma_dev_name(d), REDIR_BITS, ctrl, ctrl & ~REDIR_BITS);
}

json_t *cli_advice_json(const struct p2pdma_advice *a, json_t *o)
{
	const char *kc = p2pdma_advice_kernel_cmdline(a);
	json_t *warn = json_array(), *merges = json_array();
	size_t i, best = 0;
	bool rec = p2pdma_advice_recommended(a, &best);

	for (i = 0; i < p2pdma_advice_num_warnings(a); i++)
		json_array_append_new(warn, json_string(p2pdma_advice_warning(a, i)));
	for (i = 0; i < p2pdma_advice_num_group_merges(a); i++) {
		size_t ng, nf;
		const struct p2pdma_dev *f = p2pdma_advice_group_merge(a, i, &ng, &nf);

		json_array_append_new(merges, json_pack("{s:s, s:I, s:I}", "first", p2pdma_dev_name(f),
			"groups", (json_int_t)ng, "functions", (json_int_t)nf));
	}
	json_object_set_new(o, "kernel_cmdline", kc ? json_string(kc) : json_null());
	json_object_set_new(o, "verified", json_boolean(rec));
	json_object_set_new(o, "bus_addr_pairs_lost",
			    json_integer(rec ? (json_int_t)p2pdma_advice_variant_lost(a, best) : 0));
	json_object_set_new(o, "warnings", warn);
	json_object_set_new(o, "iommu_group_merges", merges);
	return o;
}

static json_t *variants_json(const struct p2pdma_advice *a)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < p2pdma_advice_num_variants(a); i++) {
		enum p2pdma_advice_form form;
		const char *param = p2pdma_advice_variant(a, i, &form);
		int d = -1;
		enum p2pdma_map_type t = p2pdma_advice_variant_outcome(a, i, &d);

		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s, s:i, s:I, s:s}",
			"form", form == P2PDMA_FORM_CONFIG_ACS ? "config_acs" : "disable_acs_redir",
			"kernel_cmdline", param, "works", p2pdma_advice_variant_works(a, i),
			"map_type", p2pdma_map_type_name(t), "distance", d,
			"bus_addr_pairs_lost", (json_int_t)p2pdma_advice_variant_lost(a, i),
			"boot_log", p2pdma_advice_variant_log(a, i)));
	}
	return arr;
}

static json_t *advice_lists_json(const struct p2pdma_advice *a, json_t *o)
{
	json_t *clear = json_array(), *sp = json_array(), *reqs = json_array();
	size_t i;

	for (i = 0; i < p2pdma_advice_num_clear(a); i++) {
		uint16_t ctrl;
		const struct p2pdma_dev *d = p2pdma_advice_clear(a, i, &ctrl);
		char line[160];

		json_array_append_new(clear, json_string(p2pdma_dev_name(d)));
		setpci_line(d, ctrl, line, sizeof(line));
		json_array_append_new(sp, json_string(line));
	}
	for (i = 0; i < p2pdma_advice_num_requirements(a); i++) {
		const struct p2pdma_dev *h;
		bool met;
		enum p2pdma_requirement r = p2pdma_advice_requirement(a, i, &h, &met);

		json_array_append_new(reqs, json_pack("{s:s, s:o, s:b}", "kind", req_name(r),
			"host_device", h ? json_string(p2pdma_dev_name(h)) : json_null(), "met", met));
	}
	json_object_set_new(o, "clear_acs_redirect", clear);
	json_object_set_new(o, "setpci", sp);
	json_object_set_new(o, "requirements", reqs);
	return o;
}

static int fix_json(struct cli *cli, const struct p2pdma_advice *a)
{
	const struct p2pdma_verdict *v = p2pdma_advice_verdict(a);
	const char *newer;
	enum p2pdma_map_type nt;
	json_t *root = json_object();
	int ret;

	json_object_set_new(root, "provider", json_string(p2pdma_dev_name(p2pdma_verdict_provider(v))));
	json_object_set_new(root, "client", json_string(p2pdma_dev_name(p2pdma_verdict_client(v))));
	json_object_set_new(root, "verdict", cli_verdict_json(v));
	json_object_set_new(root, "map_type", json_string(p2pdma_map_type_name(p2pdma_verdict_map_type(v))));
	json_object_set_new(root, "distance", json_integer(p2pdma_verdict_distance(v)));
	json_object_set_new(root, "status", json_string(status_name(p2pdma_advice_status(a))));
	cli_advice_json(a, root);
	json_object_set_new(root, "variants", variants_json(a));
	advice_lists_json(a, root);
	newer = p2pdma_advice_newer_kernel(a, &nt);
	json_object_set_new(root, "works_on_kernel", newer ?
			    json_pack("{s:s, s:s}", "kernel", newer, "map_type", p2pdma_map_type_name(nt)) :
			    json_null());
	json_object_set_new(root, "notes", cli_notes_json(cli));
	ret = cli_print_json(cli, root);
	return ret ? ret : fix_exit(p2pdma_advice_status(a));
}

static void variant_text(struct cli *cli, const struct p2pdma_advice *a, size_t i)
{
	enum p2pdma_advice_form form;
	const char *param = p2pdma_advice_variant(a, i, &form);
	const char *kernel = p2pdma_policy_kernel(cli->pol), *log;
	enum p2pdma_map_type t;
	int d = -1;

	t = p2pdma_advice_variant_outcome(a, i, &d);
	fprintf(cli->out, "  %s", form == P2PDMA_FORM_CONFIG_ACS ?
		"or, kernel command line (6.11+; other ACS bits as firmware set them):" :
		"kernel command line (4.19+):");
	if (t == P2PDMA_MAP_UNKNOWN)
		fprintf(cli->out, "  [could not verify]\n");
	else if (p2pdma_advice_variant_works(a, i))
		fprintf(cli->out, "  [verified on %s: BUS_ADDR, distance %d; no BUS_ADDR pair lost]\n",
			kernel, d);
	else if (t == P2PDMA_MAP_BUS_ADDR)
		fprintf(cli->out, "  [does NOT work on %s: BUS_ADDR, but %zu pair%s BUS_ADDR today would be lost]\n",
			kernel, p2pdma_advice_variant_lost(a, i),
			p2pdma_advice_variant_lost(a, i) == 1 ? "" : "s");
	else
		fprintf(cli->out, "  [does NOT work on %s: the pair stays %s]\n", kernel,
			p2pdma_map_type_name(t));
	cli_wrap(cli, "    ", "      ", param);
	log = p2pdma_advice_variant_log(a, i);
	if (!p2pdma_advice_variant_works(a, i) && log && *log)
		cli_para(cli, "    boot log: ", "      ", log);
}

static void fix_cost_text(struct cli *cli, const struct p2pdma_advice *a)
{
	size_t i, n = p2pdma_advice_num_group_merges(a);

	fprintf(cli->out,
		"Cost: with redirect off, devices below those ports reach each other without the\n"
		"IOMMU seeing it, and Linux groups them for VFIO (pci_device_group(), modelled):\n");
	if (!n)
		fprintf(cli->out, "  no IOMMU group changes\n");
	for (i = 0; i < n; i++) {
		size_t ng, nf;
		const struct p2pdma_dev *f = p2pdma_advice_group_merge(a, i, &ng, &nf);

		fprintf(cli->out, "  %zu groups become one: the group of %s, %zu functions\n",
			ng, p2pdma_dev_name(f), nf);
	}
}

static void fix_cmdline_text(struct cli *cli, const struct p2pdma_advice *a)
{
	size_t i;
	enum p2pdma_map_type nt;
	const char *newer = p2pdma_advice_newer_kernel(a, &nt);

	fprintf(cli->out, "To make it BUS_ADDR, clear ACS redirect (RR, CR, EC) on exactly ");
	for (i = 0; i < p2pdma_advice_num_clear(a); i++)
		fprintf(cli->out, "%s%s", i ? ", " : "", p2pdma_dev_name(p2pdma_advice_clear(a, i, NULL)));
	fprintf(cli->out, ":\n");
	for (i = 0; i < p2pdma_advice_num_variants(a); i++)
		variant_text(cli, a, i);
	if (newer)
		fprintf(cli->out,
			"  on %s or later, the first form gives %s (6.11 - 6.14 mishandle the ACS\n"
			"  parameters, doc/kernel-model.md §2.7)\n", newer, p2pdma_map_type_name(nt));
	for (i = 0; i < p2pdma_advice_num_warnings(a); i++)
		cli_para(cli, "  warning: ", "    ", p2pdma_advice_warning(a, i));
	fprintf(cli->out, "  (in a boot loader or shell, quote the value: ';' separates the devices)\n");
	fprintf(cli->out, "  or at runtime, as root, until the next reboot or device reset:\n");
	for (i = 0; i < p2pdma_advice_num_clear(a); i++) {
		uint16_t ctrl;
		const struct p2pdma_dev *d = p2pdma_advice_clear(a, i, &ctrl);
		char line[160];

		setpci_line(d, ctrl, line, sizeof(line));
		fprintf(cli->out, "    %s\n", line);
	}
	fprintf(cli->out,
		"    then unbind and rebind the provider's driver: its map-type cache keeps the\n"
		"    old verdict while it stays bound (doc/kernel-model.md §2.5)\n");
	fix_cost_text(cli, a);
	if (p2pdma_verdict_num_unknown(p2pdma_advice_verdict(a)))
		fprintf(cli->out,
			"warning: ACS state unknown on some functions of the path; they may need the same change\n");
}

/* What could admit the pair, or what admits it already. */
static void requirements_text(struct cli *cli, const struct p2pdma_advice *a)
{
	size_t i;

	for (i = 0; i < p2pdma_advice_num_requirements(a); i++) {
		const struct p2pdma_dev *h;
		bool met;
		enum p2pdma_requirement r = p2pdma_advice_requirement(a, i, &h, &met);
		struct p2pdma_dev_info in;

		if (h)
			p2pdma_dev_get_info(h, &in, sizeof(in));
		switch (r) {
		case P2PDMA_REQ_CPU_RULE:
			fprintf(cli->out, "  - an AMD Zen CPU (x86 family >= 0x17) with kernel 5.9 or later: %s\n",
				met ? "HOLDS here: the CPU rule admits every host-bridge path" :
				"not known to hold (see --cpu)");
			break;
		case P2PDMA_REQ_ALLOW_LIST:
			fprintf(cli->out, "  - host bridge device %s %04x:%04x on the allow list%s: %s\n",
				in.bdf, in.vendor, in.device,
				p2pdma_verdict_same_host_bridge(p2pdma_advice_verdict(a)) ? "" :
				" without REQ_SAME_HOST_BRIDGE",
				met ? "HOLDS here" : "not on this kernel's list");
			break;
		case P2PDMA_REQ_NO_HOSTDEV:
			fprintf(cli->out, "  - nothing for a host bridge with no device the allow list could match\n");
			break;
		case P2PDMA_REQ_COMMON_SWITCH:
			fprintf(cli->out, "  - for BUS_ADDR: both devices below one PCIe switch\n");
			break;
		}
	}
}

static int fix_text(struct cli *cli, const struct p2pdma_advice *a)
{
	const struct p2pdma_verdict *v = p2pdma_advice_verdict(a);
	enum p2pdma_advice_status st = p2pdma_advice_status(a);
	char why[256];

	cli_verdict_text(cli, v, "", false);
	fputc('\n', cli->out);
	switch (st) {
	case P2PDMA_ADVICE_ALREADY_BUS_ADDR:
	case P2PDMA_ADVICE_NOTHING_TO_DO:
		fprintf(cli->out, "already BUS_ADDR: nothing to change.\n");
		break;
	case P2PDMA_ADVICE_DEPENDS_ON_UNKNOWN_ACS:
		fprintf(cli->out,
			"BUS_ADDR only if ACS redirect is off on the functions whose ACS state is\n"
			"unknown; otherwise the pair is %s (%s).\n"
			"Check them as root: lspci -vvv -s BDF | grep ACSCtl (ReqRedir/CmpltRedir/EgressCtrl\n"
			"must be '-'). If some are set, boot with (merged with the machine's parameters):\n",
			p2pdma_map_type_name(p2pdma_verdict_if_acs_redirect(v, NULL)),
			cli_if_acs_why(v, why, sizeof(why)));
		cli_wrap(cli, "  ", "    ", p2pdma_advice_kernel_cmdline(a));
		fprintf(cli->out, "(listing a function without ACS, or with redirect already off, is harmless)\n");
		break;
	case P2PDMA_ADVICE_ALLOWED_NO_SWITCH:
		fprintf(cli->out,
			"allowed through the host bridge (THRU_HOST_BRIDGE); BUS_ADDR needs a common switch:\n"
			"provider and client share no upstream bridge, so no command line changes the path.\n"
			"What holds, and what would change it:\n");
		requirements_text(cli, a);
		break;
	case P2PDMA_ADVICE_NO_CMDLINE_FIX:
		fprintf(cli->out,
			"no command-line fix: provider and client share no upstream bridge, so the\n"
			"path always crosses the root complex and ACS is not even examined.\n"
			"Only these can admit it (as THRU_HOST_BRIDGE, never BUS_ADDR):\n");
		requirements_text(cli, a);
		break;
	case P2PDMA_ADVICE_FIX:
	case P2PDMA_ADVICE_FIX_UNVERIFIED:
		fix_cmdline_text(cli, a);
		break;
	}
	cli_print_notes(cli);
	return fix_exit(st);
}

int cmd_fix(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct p2pdma_dev *provider, *client;
	struct p2pdma_advice *a = NULL;
	int opt, ret;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'h': fputs(fix_help, cli->out); return 0;
		default: return cli_bad_option(argv, fix_help);
		}
	}
	if (argc - optind != 2) {
		fputs("Usage: p2pdma [SOURCE] fix [--json] PROVIDER CLIENT   ('p2pdma fix --help' explains)\n",
		      stderr);
		return cli_error("fix: need exactly one PROVIDER and one CLIENT");
	}
	provider = cli_find_dev(cli, argv[optind]);
	client = provider ? cli_find_dev(cli, argv[optind + 1]) : NULL;
	if (!provider || !client)
		return 2;
	if (p2pdma_advise_pair(cli->k, provider, client, &a))
		return cli_error("%s", p2pdma_ctx_error(cli->ctx));
	ret = cli->json ? fix_json(cli, a) : fix_text(cli, a);
	p2pdma_advice_destroy(a);
	return ret;
}
