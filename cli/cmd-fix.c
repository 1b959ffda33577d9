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
"    bridge on the kernel's allow list; for BUS_ADDR move both devices\n"
"    below one switch.\n"
"  * ACS state unknown on the path: the verdict and the fix are computed as\n"
"    if redirect were off; it says which functions to check.\n"
"\n"
"Every command line shown is verified: booted through the policy layer on a\n"
"copy of the topology under the same kernel profile, the pair must come out\n"
"BUS_ADDR; a variant that does not work on this profile is marked so.\n"
"\n"
"Exit status: 0 already BUS_ADDR or a verified fix exists, 1 no verified\n"
"command-line fix, 2 usage or input error.\n"
"\n"
"Examples:\n"
"  p2pdma --example xeon-8gpu fix 18:00.0 19:00.0\n"
"  p2pdma --example xeon-8gpu --kernel 6.15 fix --json 18:00.0 1b:00.0\n"
"  p2pdma --example arm-server fix 0001:01:00.0 0003:01:00.0\n";

/* ACS Control RR|CR|EC: cleared by disable_acs_redir (spec 2.7). */
#define REDIR_BITS 0x002c

struct fix_check {
	bool ran;
	enum p2pdma_map_type map_type;
	int distance;
	char error[256];
	char log[512];		/* the what-if boot's kernel log, '; '-joined */
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
	    /* boot it the way the main program's what-if does (p2pdma.c) */
	    (p2pdma_policy_set_captured_iommu(pol,
			p2pdma_topo_infer_iommu_boot(copy) == 1), 0) ||
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
	{
		size_t i, off = 0;

		/* What the kernel would log while applying @param: tells why a
		 * variant fails (e.g. 6.11 - 6.14's "Can't parse"). */
		for (i = 0; i < p2pdma_policy_log_count(pol) && off < sizeof(fc->log); i++)
			off += (size_t)snprintf(fc->log + off, sizeof(fc->log) - off,
						"%s%s", i ? "; " : "",
						p2pdma_policy_log_line(pol, i));
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

/* Is @d @node or below it? */
static bool below(const struct p2pdma_dev *d, const struct p2pdma_dev *node)
{
	struct p2pdma_dev_info in;

	while (d) {
		if (d == node)
			return true;
		p2pdma_dev_get_info(d, &in, sizeof(in));
		d = in.upstream;
	}
	return false;
}

/*
 * The IOMMU groups that become one when @node loses RR/CR/EC. Linux's
 * pci_device_group() (drivers/iommu/iommu.c) puts a device whose path to
 * the root is not fully isolated (SV|RR|CR|UF) into the group of the
 * bridge above it, so a port without redirect absorbs every group below
 * it, the port's own included; sibling ports keep their own groups. For an
 * endpoint, the non-isolated functions of its slot share a group
 * (get_pci_function_alias_group()). Groups of @node's set go to @groups.
 */
static size_t merged_groups(struct cli *cli, const struct p2pdma_dev *node,
			    int *groups, size_t max, bool *unknown)
{
	struct p2pdma_dev_info nin;
	size_t n = 0, i, k;

	p2pdma_dev_get_info(node, &nin, sizeof(nin));
	for (i = 0; i < p2pdma_topo_num_devs(cli->topo); i++) {
		const struct p2pdma_dev *d = p2pdma_topo_dev(cli->topo, i);
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(d, &in, sizeof(in));
		if (!below(d, node) &&
		    (nin.is_bridge || in.is_vf || in.domain != nin.domain ||
		     in.bus != nin.bus || in.dev != nin.dev))
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

struct merge {
	int groups[64];
	size_t n;
	char who[256];
};

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static bool share_group(const struct merge *x, const struct merge *y)
{
	size_t a, b;

	for (a = 0; a < x->n; a++)
		for (b = 0; b < y->n; b++)
			if (x->groups[a] == y->groups[b])
				return true;
	return false;
}

/* Join sets that share a group (a changed port above another one). */
static size_t coalesce(struct merge *m, size_t nm)
{
	size_t i, j, a, b;

	for (i = 0; i < nm; i++) {
		for (j = i + 1; j < nm; j++) {
			size_t len;

			if (!share_group(&m[i], &m[j]))
				continue;
			for (b = 0; b < m[j].n; b++) {
				for (a = 0; a < m[i].n && m[i].groups[a] != m[j].groups[b]; a++)
					;
				if (a == m[i].n && m[i].n < 64)
					m[i].groups[m[i].n++] = m[j].groups[b];
			}
			/* "A, B" in m[i].who, cut short if it would overflow. */
			len = strlen(m[i].who);
			if (len + 2 + strlen(m[j].who) < sizeof(m[i].who)) {
				memcpy(m[i].who + len, ", ", 2);
				memcpy(m[i].who + len + 2, m[j].who, strlen(m[j].who) + 1);
			}
			m[j] = m[--nm];
			j = i;	/* rescan: the union may now touch others */
		}
	}
	return nm;
}

static void print_cmd(struct cli *cli, const char *title, const char *param,
		      const struct fix_check *fc, const char *kernel)
{
	fprintf(cli->out, "  %s", title);
	if (!fc->ran)
		fprintf(cli->out, "  [could not verify: %s]\n", fc->error);
	else if (fc->map_type == P2PDMA_MAP_BUS_ADDR)
		fprintf(cli->out, "  [verified on %s: BUS_ADDR, distance %d]\n",
			kernel, fc->distance);
	else
		fprintf(cli->out, "  [does NOT work on %s: the pair stays %s]\n",
			kernel, p2pdma_map_type_name(fc->map_type));
	cli_wrap(cli, "    ", "      ", param);
	if (fc->ran && fc->map_type != P2PDMA_MAP_BUS_ADDR && fc->log[0])
		cli_wrap(cli, "    boot log: ", "      ", fc->log);
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
	struct fix_check chk_redir, chk_config, chk_new;
	char config[1024] = "", setpci[P2PDMA_MAX_ACS][160], why[256];
	char unk_fix[1024] = "";
	struct merge *m = NULL;
	size_t nm = 0, k;
	bool groups_unknown = false;
	enum p2pdma_map_type alt = P2PDMA_MAP_BUS_ADDR;
	const char *kernel = p2pdma_policy_kernel(cli->pol);
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
		fputs("Usage: p2pdma [SOURCE] fix [--json] PROVIDER CLIENT   ('p2pdma fix --help' explains)\n",
		      stderr);
		return cli_error("fix: need exactly one PROVIDER and one CLIENT");
	}
	provider = cli_find_dev(cli, argv[optind]);
	if (!provider)
		return 2;
	client = cli_find_dev(cli, argv[optind + 1]);
	if (!client)
		return 2;
	v = calloc(1, sizeof(*v));
	m = calloc(P2PDMA_MAX_ACS, sizeof(*m));
	if (!v || !m) {
		ret = cli_error("out of memory");
		goto out;
	}
	r = cli_router(cli);
	if (!r)
		goto out;
	p2pdma_calc(r, provider, client, true, v);
	memset(&chk_redir, 0, sizeof(chk_redir));
	memset(&chk_config, 0, sizeof(chk_config));
	memset(&chk_new, 0, sizeof(chk_new));
	alt = cli_if_acs_redirect(cli, provider, v, why, sizeof(why));

	if (v->map_type == P2PDMA_MAP_BUS_ADDR && alt != P2PDMA_MAP_BUS_ADDR) {
		size_t off = 0;

		/* BUS_ADDR only as far as known: name what to clear if the
		 * unknown registers turn out to redirect. */
		status = "depends_on_unknown_acs";
		off += (size_t)snprintf(unk_fix, sizeof(unk_fix), "pci=disable_acs_redir=");
		for (i = 0; i < v->nunknown && off < sizeof(unk_fix); i++)
			off += (size_t)snprintf(unk_fix + off, sizeof(unk_fix) - off,
						"%s%s", i ? ";" : "",
						p2pdma_dev_name(v->unknown[i]));
	} else if (v->map_type == P2PDMA_MAP_BUS_ADDR) {
		status = "already_bus_addr";
	} else if (!v->common || !v->nacs || !v->fix[0]) {
		status = "no_cmdline_fix";
	} else {
		size_t off = 0;

		status = "fix";
		fixable = true;
		off += (size_t)snprintf(config, sizeof(config), "pci=config_acs=");
		for (i = 0; i < v->nacs; i++) {
			struct p2pdma_dev_info in;

			p2pdma_dev_get_info(v->acs[i], &in, sizeof(in));
			if (off < sizeof(config))
				off += (size_t)snprintf(config + off, sizeof(config) - off,
							"%sx0x00xx@%s", i ? ";" : "", in.bdf);
			snprintf(setpci[i], sizeof(setpci[i]),
				 "setpci -s %s ECAP_ACS+6.w=0000:%04x   # ACSCtl 0x%04x -> 0x%04x",
				 in.bdf, REDIR_BITS, in.acs_ctrl,
				 in.acs_ctrl & ~REDIR_BITS);
			m[nm].n = merged_groups(cli, v->acs[i], m[nm].groups, 64,
						&groups_unknown);
			snprintf(m[nm].who, sizeof(m[nm].who), "%s", in.bdf);
			nm++;
		}
		nm = coalesce(m, nm);
		for (k = 0; k < nm; k++)
			qsort(m[k].groups, m[k].n, sizeof(int), cmp_int);
		verify(cli, provider, client, v->fix, &chk_redir, NULL);
		verify(cli, provider, client, config, &chk_config, NULL);
		verified = (chk_redir.ran && chk_redir.map_type == P2PDMA_MAP_BUS_ADDR) ||
			   (chk_config.ran && chk_config.map_type == P2PDMA_MAP_BUS_ADDR);
		/* 6.11 - 6.14 mishandle the ACS masks (spec 2.7); show a
		 * kernel where the same parameter works. */
		if (!verified)
			verify(cli, provider, client, v->fix, &chk_new, "6.15");
	}

	if (cli->json) {
		json_t *root = json_object(), *sp = json_array(), *acs = json_array();
		json_t *hd = json_array(), *mg = json_array(), *unk = json_array();
		char iso[1024] = "";
		size_t ioff = 0, g;

		for (i = 0; fixable && i < v->nacs; i++) {
			json_array_append_new(sp, json_string(setpci[i]));
			json_array_append_new(acs, json_string(p2pdma_dev_name(v->acs[i])));
		}
		for (i = 0; i < v->nunknown; i++)
			json_array_append_new(unk, json_string(p2pdma_dev_name(v->unknown[i])));
		for (i = 0; i < 2; i++)
			json_array_append_new(hd, v->hostdev[i] ?
				json_string(p2pdma_dev_name(v->hostdev[i])) : json_null());
		for (k = 0; k < nm; k++) {
			json_t *a = json_array();

			for (g = 0; g < m[k].n; g++)
				json_array_append_new(a, json_integer(m[k].groups[g]));
			json_array_append_new(mg, a);
			if (ioff < sizeof(iso))
				ioff += (size_t)snprintf(iso + ioff, sizeof(iso) - ioff,
					"%s%s: %zu group%s", k ? "; " : "", m[k].who, m[k].n,
					m[k].n > 1 ? " become one" : " (no change)");
		}
		json_object_set_new(root, "provider", json_string(p2pdma_dev_name(provider)));
		json_object_set_new(root, "client", json_string(p2pdma_dev_name(client)));
		json_object_set_new(root, "map_type", json_string(p2pdma_map_type_name(v->map_type)));
		json_object_set_new(root, "distance", json_integer(v->distance));
		json_object_set_new(root, "status", json_string(status));
		json_object_set_new(root, "acs_redirect", acs);
		json_object_set_new(root, "disable_acs_redir", fixable ? json_string(v->fix) :
				    unk_fix[0] ? json_string(unk_fix) : json_null());
		json_object_set_new(root, "config_acs", fixable ? json_string(config) : json_null());
		json_object_set_new(root, "setpci", sp);
		json_object_set_new(root, "isolation", fixable ? json_string(iso) : json_null());
		json_object_set_new(root, "iommu_groups_merged", mg);
		json_object_set_new(root, "host_devices", hd);
		json_object_set_new(root, "acs_unknown", json_boolean(v->acs_unknown));
		json_object_set_new(root, "acs_unknown_devices", unk);
		json_object_set_new(root, "map_type_if_acs_redirect",
				    alt == P2PDMA_MAP_BUS_ADDR ? json_null() :
				    json_string(p2pdma_map_type_name(alt)));
		if (fixable) {
			json_object_set_new(root, "verified", json_boolean(verified));
			json_object_set_new(root, "verified_map_type",
					    json_string(chk_redir.ran ? p2pdma_map_type_name(chk_redir.map_type) : "error"));
			json_object_set_new(root, "config_acs_map_type",
					    json_string(chk_config.ran ? p2pdma_map_type_name(chk_config.map_type) : "error"));
			json_object_set_new(root, "config_acs_boot_log",
					    json_string(chk_config.log));
			if (!verified && chk_new.ran)
				json_object_set_new(root, "map_type_on_6_15",
						    json_string(p2pdma_map_type_name(chk_new.map_type)));
		}
		json_object_set_new(root, "notes", cli_notes_json(cli));
		ret = cli_print_json(cli, root);
		if (!ret)
			ret = (!strcmp(status, "fix") && !verified) ||
			      !strcmp(status, "no_cmdline_fix") ? 1 : 0;
		goto out;
	}

	cli_verdict_text(cli, provider, client, v, "", false);
	fputc('\n', cli->out);
	if (!strcmp(status, "already_bus_addr")) {
		fprintf(cli->out, "already BUS_ADDR: nothing to change.\n");
		ret = 0;
	} else if (!strcmp(status, "depends_on_unknown_acs")) {
		fprintf(cli->out,
			"BUS_ADDR only if ACS redirect is off on the functions whose ACS state is\n"
			"unknown; otherwise the pair is %s (%s).\n"
			"Check them as root: lspci -vvv -s BDF | grep ACSCtl (ReqRedir/CmpltRedir/EgressCtrl\n"
			"must be '-'). If some are set, clear them on those functions, e.g.:\n",
			p2pdma_map_type_name(alt), why);
		cli_wrap(cli, "  ", "    ", unk_fix);
		fprintf(cli->out,
			"(listing a function without ACS, or with redirect already off, is harmless)\n");
		ret = 0;
	} else if (!v->common) {
		bool zen_possible = !p2pdma_policy_cpu_rule(cli->pol);

		fprintf(cli->out,
			"no command-line fix: provider and client share no upstream bridge, so the\n"
			"path always crosses the root complex and ACS is not even examined.\n"
			"Only these can admit it (as THRU_HOST_BRIDGE, never BUS_ADDR):\n");
		if (zen_possible)
			fprintf(cli->out,
				"  - an AMD Zen (x86 family >= 0x17) CPU with kernel 5.9 or later (cpu_supports_p2pdma();\n"
				"    this machine's CPU or kernel does not qualify, see --cpu);\n");
		for (i = 0; i < (v->same_host_bridge ? 1u : 2u); i++) {
			if (v->hostdev[i]) {
				struct p2pdma_dev_info in;

				p2pdma_dev_get_info(v->hostdev[i], &in, sizeof(in));
				fprintf(cli->out,
					"  - a kernel whose host-bridge allow list has %04x:%04x (host bridge device %s)%s;\n",
					in.vendor, in.device, in.bdf,
					v->same_host_bridge ? "" :
					", without REQ_SAME_HOST_BRIDGE");
			} else {
				fprintf(cli->out,
					"  - nothing for the %s host bridge: it has no device the allow list could match;\n",
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
		fprintf(cli->out, "To make it BUS_ADDR, clear ACS redirect (RR, CR, EC) on exactly ");
		for (i = 0; i < v->nacs; i++)
			fprintf(cli->out, "%s%s", i ? ", " : "", p2pdma_dev_name(v->acs[i]));
		fprintf(cli->out, ":\n");
		print_cmd(cli, "kernel command line (4.19+):", v->fix, &chk_redir, kernel);
		print_cmd(cli, "or, kernel command line (6.11+; other ACS bits as firmware set them):",
			  config, &chk_config, kernel);
		if (!verified && chk_new.ran)
			fprintf(cli->out,
				"  on 6.15 or later, pci=disable_acs_redir= gives %s (the 6.11 - 6.14 ACS\n"
				"  parameter handling is broken, spec 2.7)\n",
				p2pdma_map_type_name(chk_new.map_type));
		fprintf(cli->out, "  (in a boot loader or shell, quote the value: ';' separates the devices)\n");
		fprintf(cli->out, "  or at runtime, as root, until the next reboot or device reset:\n");
		for (i = 0; i < v->nacs; i++)
			fprintf(cli->out, "    %s\n", setpci[i]);
		fprintf(cli->out,
			"    then unbind and rebind the provider's driver: its map-type cache keeps the\n"
			"    old verdict while it stays bound (spec 2.5)\n");
		fprintf(cli->out,
			"Cost: with redirect off, devices below those ports reach each other without the\n"
			"IOMMU seeing it. Linux puts every device below such a port into the port's IOMMU\n"
			"group, so VFIO can only assign them together:\n");
		for (k = 0; k < nm; k++) {
			size_t g;

			fprintf(cli->out, "  %s and below: ", m[k].who);
			if (m[k].n < 2) {
				fprintf(cli->out, "%s\n", m[k].n ? "already one group, no change" :
					"IOMMU groups unknown");
				continue;
			}
			fprintf(cli->out, "groups");
			for (g = 0; g < m[k].n; g++)
				fprintf(cli->out, "%s %d", g ? "," : "", m[k].groups[g]);
			fprintf(cli->out, " become one\n");
		}
		if (groups_unknown)
			fprintf(cli->out, "  (some IOMMU groups are unknown in this source)\n");
		if (v->acs_unknown)
			fprintf(cli->out,
				"warning: ACS state unknown on some functions of the path; they may need the same change\n");
		ret = verified ? 0 : 1;
	}
	cli_print_notes(cli);
out:
	p2pdma_router_destroy(r);
	free(v);
	free(m);
	return ret;
}
