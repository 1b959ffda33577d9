// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-fix.c - p2pdma fix: the smallest change that makes a pair BUS_ADDR, verified */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-verdict.h"

static const char fix_help[] =
"Usage: p2pdma [SOURCE] fix [--json] PROVIDER CLIENT\n"
"\n"
"Finds the smallest kernel command-line change that makes the pair\n"
"BUS_ADDR (P2P turning around in the common switch instead of going up to\n"
"the root complex):\n"
"\n"
"  * when ACS redirect (RR/CR/EC) on the examined path is the reason:\n"
"    pci=disable_acs_redir=<exactly those functions> (kernel 4.19+), the same\n"
"    as pci=config_acs=x0x00xx@<BDF>;... (6.11+: EC, CR, RR forced to 0,\n"
"    other bits as firmware left them), and the runtime equivalent with\n"
"    setpci (lost at reboot or device reset). It also says what isolation\n"
"    this costs: ports without redirect let devices below them talk without\n"
"    the IOMMU seeing it, so their IOMMU groups merge.\n"
"  * when there is no common upstream bridge: no command line can help;\n"
"    only the host-bridge allow list (a newer kernel) or the AMD Zen CPU\n"
"    rule admit the path, as THRU_HOST_BRIDGE. It names the host bridge\n"
"    devices the kernel checks.\n"
"\n"
"The fix is verified: applied through the policy layer to a copy of the\n"
"topology, the pair is recomputed and must come out BUS_ADDR.\n"
"\n"
"Exit status: 0 already BUS_ADDR or a verified fix exists, 1 no command-line\n"
"fix, 2 usage or input error.\n";

/* ACS Control RR|CR|EC: cleared by disable_acs_redir (spec 2.7). */
#define REDIR_BITS 0x002c

struct fix_check {
	bool ran;
	enum p2pdma_map_type map_type;
	int distance;
	char error[256];
};

/* Recompute the pair on a copy booted with @param (policy layer). */
static void verify(struct cli *cli, const struct p2pdma_dev *provider,
		   const struct p2pdma_dev *client, const char *param,
		   struct fix_check *fc, const char *kernel)
{
	struct p2pdma_topo *copy = NULL;
	struct p2pdma_policy *pol = NULL;
	struct p2pdma_router *r = NULL;
	struct p2pdma_verdict *v = NULL;
	const struct p2pdma_dev *p, *c;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	memset(fc, 0, sizeof(*fc));
	f = open_memstream(&text, &len);
	if (!f || p2pdma_topo_export_json(cli->topo, f)) {
		if (f)
			fclose(f);
		snprintf(fc->error, sizeof(fc->error), "cannot copy the topology");
		goto out;
	}
	fclose(f);
	v = malloc(sizeof(*v));
	if (!v || p2pdma_topo_load_json_string(cli->ctx, text, "copy", &copy) ||
	    p2pdma_policy_create(cli->ctx, &pol) ||
	    p2pdma_policy_set_kernel(pol, kernel ? kernel :
				     p2pdma_policy_kernel(cli->pol)) ||
	    p2pdma_policy_set_cmdline(pol, param) ||
	    p2pdma_policy_apply(pol, copy) ||
	    p2pdma_router_create(cli->ctx, copy, pol, &r)) {
		snprintf(fc->error, sizeof(fc->error), "%s",
			 p2pdma_ctx_error(cli->ctx));
		goto out;
	}
	p = p2pdma_topo_find(copy, p2pdma_dev_name(provider));
	c = p2pdma_topo_find(copy, p2pdma_dev_name(client));
	if (!p || !c) {
		snprintf(fc->error, sizeof(fc->error), "copy lost a function");
		goto out;
	}
	fc->map_type = p2pdma_calc(r, p, c, false, v);
	fc->distance = v->distance;
	fc->ran = true;
out:
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(copy);
	free(text);
	free(v);
}

/* Distinct IOMMU groups below (and of) the changed functions. */
static size_t groups_below(struct cli *cli, const struct p2pdma_dev *node,
			   int *groups, size_t max, bool *unknown)
{
	size_t n = 0, i, k;

	for (i = 0; i < p2pdma_topo_num_devs(cli->topo); i++) {
		const struct p2pdma_dev *d = p2pdma_topo_dev(cli->topo, i), *u;
		struct p2pdma_dev_info in;
		bool below = false;

		for (u = d; u; ) {
			if (u == node) {
				below = true;
				break;
			}
			p2pdma_dev_get_info(u, &in, sizeof(in));
			u = in.upstream;
		}
		if (!below)
			continue;
		p2pdma_dev_get_info(d, &in, sizeof(in));
		if (in.is_bridge)
			continue;
		if (in.iommu_group < 0) {
			*unknown = true;
			continue;
		}
		for (k = 0; k < n && groups[k] != in.iommu_group; k++)
			;
		if (k == n && n < max)
			groups[n++] = in.iommu_group;
	}
	return n;
}

int cmd_fix(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct p2pdma_dev *provider, *client;
	struct p2pdma_verdict *v = NULL;
	struct p2pdma_router *r = NULL;
	struct fix_check chk_redir, chk_config;
	char config[1024] = "", setpci[P2PDMA_MAX_ACS][160], isolation[1024] = "";
	int all_groups[256];
	size_t nall = 0;
	bool all_unknown = false;
	struct fix_check chk_new;
	json_t *root = NULL;
	unsigned int i;
	int opt, ret = 2;
	bool fixable = false, verified = false;
	const char *status;

	/* glibc re-initialises (and permutes options after operands again,
	 * which the dispatcher's "+" scan turned off) only when optind is 0. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'h': fputs(fix_help, cli->out); return 0;
		default: fputs(fix_help, stderr); return 2;
		}
	}
	if (argc - optind != 2) {
		fputs(fix_help, stderr);
		return cli_error("fix: need PROVIDER and CLIENT");
	}
	provider = cli_find_dev(cli, argv[optind]);
	if (!provider)
		return 2;
	client = cli_find_dev(cli, argv[optind + 1]);
	if (!client)
		return 2;
	v = calloc(1, sizeof(*v));
	if (!v)
		return cli_error("out of memory");
	r = cli_router(cli);
	if (!r)
		goto out;
	p2pdma_calc(r, provider, client, true, v);
	memset(&chk_redir, 0, sizeof(chk_redir));
	memset(&chk_config, 0, sizeof(chk_config));

	if (v->map_type == P2PDMA_MAP_BUS_ADDR) {
		status = "already_bus_addr";
	} else if (!v->common) {
		status = "no_cmdline_fix";
	} else if (!v->nacs || !v->fix[0]) {
		/* ACS unknown only, or a list too long for us: nothing known to change. */
		status = "no_cmdline_fix";
	} else {
		size_t off = 0, ioff = 0;

		status = "fix";
		fixable = true;
		off += (size_t)snprintf(config, sizeof(config), "pci=config_acs=");
		for (i = 0; i < v->nacs; i++) {
			struct p2pdma_dev_info in;
			int groups[64];
			bool unk = false;
			size_t ng, g;

			p2pdma_dev_get_info(v->acs[i], &in, sizeof(in));
			if (off < sizeof(config))
				off += (size_t)snprintf(config + off, sizeof(config) - off,
							"%sx0x00xx@%s", i ? ";" : "", in.bdf);
			snprintf(setpci[i], sizeof(setpci[i]),
				 "setpci -s %s ECAP_ACS+6.w=0000:%04x   # ACSCtl 0x%04x -> 0x%04x",
				 in.bdf, REDIR_BITS, in.acs_ctrl,
				 in.acs_ctrl & ~REDIR_BITS);
			ng = groups_below(cli, v->acs[i], groups, 64, &unk);
			all_unknown |= unk;
			for (g = 0; g < ng; g++) {
				size_t k;

				for (k = 0; k < nall && all_groups[k] != groups[g]; k++)
					;
				if (k == nall && nall < 256)
					all_groups[nall++] = groups[g];
			}
			if (ioff < sizeof(isolation)) {
				ioff += (size_t)snprintf(isolation + ioff,
							 sizeof(isolation) - ioff,
							 "%s%s: ", ioff ? "; " : "", in.bdf);
				for (g = 0; g < ng && ioff < sizeof(isolation); g++)
					ioff += (size_t)snprintf(isolation + ioff,
								 sizeof(isolation) - ioff,
								 "%s%d", g ? "," : "groups ",
								 groups[g]);
				if (ioff < sizeof(isolation))
					ioff += (size_t)snprintf(isolation + ioff,
								 sizeof(isolation) - ioff, "%s%s",
								 ng > 1 ? " would merge" :
								 ng == 1 ? " (one group: no merge below it)" :
								 "no groups known",
								 unk ? " (some groups unknown)" : "");
			}
		}
		verify(cli, provider, client, v->fix, &chk_redir, NULL);
		verify(cli, provider, client, config, &chk_config, NULL);
		verified = (chk_redir.ran && chk_redir.map_type == P2PDMA_MAP_BUS_ADDR) ||
			   (chk_config.ran && chk_config.map_type == P2PDMA_MAP_BUS_ADDR);
		/* 6.11 - 6.14 mishandle the ACS masks; show a kernel that works. */
		memset(&chk_new, 0, sizeof(chk_new));
		if (!verified)
			verify(cli, provider, client, v->fix, &chk_new, "6.15");
	}

	if (cli->json) {
		json_t *sp = json_array(), *acs = json_array(), *hd = json_array();

		root = json_object();
		for (i = 0; fixable && i < v->nacs; i++) {
			json_array_append_new(sp, json_string(setpci[i]));
			json_array_append_new(acs, json_string(p2pdma_dev_name(v->acs[i])));
		}
		for (i = 0; i < 2; i++)
			json_array_append_new(hd, v->hostdev[i] ?
				json_string(p2pdma_dev_name(v->hostdev[i])) : json_null());
		json_object_set_new(root, "provider", json_string(p2pdma_dev_name(provider)));
		json_object_set_new(root, "client", json_string(p2pdma_dev_name(client)));
		json_object_set_new(root, "map_type", json_string(p2pdma_map_type_name(v->map_type)));
		json_object_set_new(root, "distance", json_integer(v->distance));
		json_object_set_new(root, "status", json_string(status));
		json_object_set_new(root, "acs_redirect", acs);
		json_object_set_new(root, "disable_acs_redir", fixable ? json_string(v->fix) : json_null());
		json_object_set_new(root, "config_acs", fixable ? json_string(config) : json_null());
		json_object_set_new(root, "setpci", sp);
		json_object_set_new(root, "isolation", fixable ? json_string(isolation) : json_null());
		json_object_set_new(root, "host_devices", hd);
		json_object_set_new(root, "acs_unknown", json_boolean(v->acs_unknown));
		if (fixable) {
			json_object_set_new(root, "verified", json_boolean(verified));
			json_object_set_new(root, "verified_map_type",
					    json_string(chk_redir.ran ? p2pdma_map_type_name(chk_redir.map_type) : "error"));
			json_object_set_new(root, "config_acs_map_type",
					    json_string(chk_config.ran ? p2pdma_map_type_name(chk_config.map_type) : "error"));
		}
		json_object_set_new(root, "notes", cli_notes_json(cli));
		ret = cli_print_json(cli, root);
		if (!ret)
			ret = (!strcmp(status, "already_bus_addr") || verified) ? 0 : 1;
		goto out;
	}

	cli_verdict_text(cli, provider, client, v, "");
	fputc('\n', cli->out);
	if (!strcmp(status, "already_bus_addr")) {
		fprintf(cli->out, "already BUS_ADDR: nothing to change.\n");
		ret = 0;
	} else if (!v->common) {
		fprintf(cli->out,
			"no command-line fix: provider and client share no upstream bridge, so the\n"
			"path always crosses the host bridge and ACS is not even examined.\n"
			"Only these can admit it (as THRU_HOST_BRIDGE, never BUS_ADDR):\n"
			"  - an AMD Zen (family >= 0x17) CPU: cpu_supports_p2pdma();\n");
		for (i = 0; i < (v->same_host_bridge ? 1u : 2u); i++) {
			if (v->hostdev[i]) {
				struct p2pdma_dev_info in;

				p2pdma_dev_get_info(v->hostdev[i], &in, sizeof(in));
				fprintf(cli->out,
					"  - a kernel whose host-bridge allow list has %04x:%04x (device %s)%s;\n",
					in.vendor, in.device, in.bdf,
					v->same_host_bridge ? "" :
					" without REQ_SAME_HOST_BRIDGE");
			} else {
				fprintf(cli->out,
					"  - nothing for the %s host bridge: it has no device the allow list could match\n",
					i ? "client's" : "provider's");
			}
		}
		fprintf(cli->out,
			"For BUS_ADDR, put both devices below one PCIe switch.\n");
		ret = 1;
	} else if (!fixable) {
		fprintf(cli->out,
			"no ACS redirect is known on the path; the ACS state of some ports is unknown:\n"
			"read config space as root (or use an lspci -xxxx dump) and run again.\n");
		ret = 1;
	} else {
		fprintf(cli->out, "kernel command line (4.19+):\n  %s\n", v->fix);
		fprintf(cli->out, "or, with config_acs (6.11+; EC, CR and RR off, other bits as firmware set them):\n  %s\n",
			config);
		fprintf(cli->out, "(in a boot loader, quote the value: ';' separates the devices)\n");
		fprintf(cli->out, "at runtime, as root, until the next reboot or device reset:\n");
		for (i = 0; i < v->nacs; i++)
			fprintf(cli->out, "  %s\n", setpci[i]);
		fprintf(cli->out,
			"then make the kernel re-evaluate: unbind and rebind the provider's driver\n"
			"(the map-type cache keeps old verdicts while it stays bound).\n");
		fprintf(cli->out,
			"isolation cost: with redirect off, devices below those ports reach each other\n"
			"without the IOMMU; IOMMU groups below each changed port: %s\n", isolation);
		if (nall > 1) {
			size_t g;

			fprintf(cli->out, "  expect IOMMU groups");
			for (g = 0; g < nall; g++)
				fprintf(cli->out, "%s %d", g ? "," : "", all_groups[g]);
			fprintf(cli->out, " to merge into one (VFIO must then assign them together)%s\n",
				all_unknown ? "; some groups are unknown" : "");
		}
		if (v->acs_unknown)
			fprintf(cli->out,
				"warning: ACS state unknown on some ports of the path; they may need the same change\n");
		if (chk_redir.ran)
			fprintf(cli->out, "check: with %s the pair is %s, distance %d%s\n",
				v->fix, p2pdma_map_type_name(chk_redir.map_type),
				chk_redir.distance,
				verified ? "" : "  (not BUS_ADDR on this kernel)");
		else
			fprintf(cli->out, "verification could not run: %s\n", chk_redir.error);
		if (chk_config.ran)
			fprintf(cli->out, "check: with %s the pair is %s%s\n", config,
				p2pdma_map_type_name(chk_config.map_type),
				chk_config.map_type == P2PDMA_MAP_BUS_ADDR ? "" :
				"  (this kernel profile has no config_acs= or ignores it)");
		if (!verified && chk_new.ran)
			fprintf(cli->out,
				"this kernel profile (%s) does not clear the bits from the command line\n"
				"(the 6.11 - 6.14 ACS parameter handling); use the setpci lines, or boot\n"
				"6.15 or later: there the same parameter gives %s\n",
				p2pdma_policy_kernel(cli->pol),
				p2pdma_map_type_name(chk_new.map_type));
		ret = verified ? 0 : 1;
	}
	cli_print_notes(cli);
out:
	p2pdma_router_destroy(r);
	free(v);
	return ret;
}
