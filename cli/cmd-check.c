// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-check.c - p2pdma check: the kernel's verdict for a provider and its clients */
#include <getopt.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli-verdict.h"

static const char check_help[] =
"Usage: p2pdma [SOURCE] [POLICY] [WHAT-IF] check [--json] PROVIDER CLIENT [CLIENT...]\n"
"\n"
"What the kernel decides when each CLIENT (the DMA initiator: NIC, GPU,\n"
"NVMe...) reads or writes memory owned by PROVIDER (e.g. an NVMe CMB or a\n"
"GPU BAR): pci_p2pdma_distance_many(provider, clients, verbose), i.e.\n"
"calc_map_type_and_dist() for every client (spec 2.2, 2.3).\n"
"\n"
"The kernel walks up from both devices to their common upstream bridge.\n"
"  BUS_ADDR          supported, direct: traffic turns around in that switch\n"
"                    or bridge and never reaches the CPU\n"
"  THRU_HOST_BRIDGE  supported, via the root complex: there is no common\n"
"                    bridge, or ACS redirect (RR/CR/EC) on a port of the path\n"
"                    forces traffic up, and the host bridge is allowed (AMD\n"
"                    Zen CPU rule, or the host-bridge allow list)\n"
"  NOT_SUPPORTED     refused: the same, but the host bridge is not allowed;\n"
"                    mapping the memory fails (-EREMOTEIO)\n"
"For each client it prints the verdict, the distance (hops from each side to\n"
"the common bridge, or both chain lengths added when there is none), the\n"
"path with [common], [ACS redirect] and [ACS ?] (state unknown) marks, why,\n"
"the dmesg lines the kernel would log (spec 2.8) and the kernel parameter\n"
"that would make it BUS_ADDR ('p2pdma fix' explains and verifies it). The\n"
"last line is the sum the kernel returns (-1 if any client is refused),\n"
"which nvmet and pci_p2pmem_find_many() rank providers by.\n"
"\n"
"With ACS state unknown (lspci -xxx dump, sysfs read without root) verdicts\n"
"are computed as if redirect were off and say what they would be otherwise.\n"
"\n"
"PROVIDER and CLIENT are DDDD:BB:DD.F or BB:DD.F (domain 0000).\n"
"Exit status: 0 every client supported, 1 some client NOT_SUPPORTED,\n"
"2 usage or input error.\n"
"\n"
"Examples:\n"
"  p2pdma --example xeon-8gpu check 18:00.0 19:00.0 1b:00.0\n"
"  p2pdma --example arm-server check 0001:01:00.0 0003:01:00.0\n"
"  p2pdma --example xeon-8gpu --cmdline 'pci=disable_acs_redir=0000:17:00.0;0000:17:01.0' \\\n"
"         check --json 18:00.0 19:00.0\n";

const char *cli_dev_label(const struct p2pdma_dev *dev, char *buf, size_t len)
{
	struct p2pdma_dev_info in;

	p2pdma_dev_get_info(dev, &in, sizeof(in));
	if (in.driver)
		snprintf(buf, len, "%s (%s)", in.bdf, in.driver);
	else
		snprintf(buf, len, "%s", in.bdf);
	return buf;
}

int cli_parse_devs(struct cli *cli, char **args, int n,
		   const struct p2pdma_dev **out)
{
	int i;

	for (i = 0; i < n; i++) {
		out[i] = cli_find_dev(cli, args[i]);
		if (!out[i])
			return 2;
	}
	return 0;
}

static bool in_acs(const struct p2pdma_verdict *v, const struct p2pdma_dev *d)
{
	size_t i;

	for (i = 0; i < p2pdma_verdict_num_acs(v); i++)
		if (p2pdma_verdict_acs(v, i) == d)
			return true;
	return false;
}

static bool in_unknown(const struct p2pdma_verdict *v,
		       const struct p2pdma_dev *d)
{
	size_t i;

	for (i = 0; i < p2pdma_verdict_num_unknown(v); i++)
		if (p2pdma_verdict_unknown(v, i) == d)
			return true;
	return false;
}

static size_t put_node(char *buf, size_t len, size_t off,
		       const struct p2pdma_verdict *v,
		       const struct p2pdma_dev *d, const char *sep)
{
	struct p2pdma_dev_info in;

	if (off >= len)
		return off;
	p2pdma_dev_get_info(d, &in, sizeof(in));
	off += (size_t)snprintf(buf + off, len - off, "%s%s%s%s%s", sep, in.bdf,
				d == p2pdma_verdict_common(v) ? " [common]" : "",
				in_acs(v, d) ? " [ACS redirect]" : "",
				in_unknown(v, d) ? " [ACS ?]" : "");
	return off;
}

void cli_verdict_path(const struct p2pdma_verdict *v, char *buf, size_t len)
{
	const struct p2pdma_dev *provider = p2pdma_verdict_provider(v);
	const struct p2pdma_dev *client = p2pdma_verdict_client(v);
	const struct p2pdma_dev *common = p2pdma_verdict_common(v);
	const struct p2pdma_dev *chain[64], *d;
	struct p2pdma_dev_info in;
	size_t off = 0;
	unsigned int n = 0, i;

	buf[0] = 0;
	/* Provider side, bottom-up, up to the common device or the root. */
	for (d = provider; d; ) {
		off = put_node(buf, len, off, v, d, d == provider ? "" : " -> ");
		if (d == common)
			break;
		p2pdma_dev_get_info(d, &in, sizeof(in));
		d = in.upstream;
	}
	if (!common) {
		struct p2pdma_host_bridge_info hi, ci;

		p2pdma_dev_get_info(provider, &in, sizeof(in));
		p2pdma_host_bridge_get_info(in.host_bridge, &hi);
		p2pdma_dev_get_info(client, &in, sizeof(in));
		p2pdma_host_bridge_get_info(in.host_bridge, &ci);
		if (off < len) {
			if (!strcmp(hi.name, ci.name))
				off += (size_t)snprintf(buf + off, len - off,
							" -> {host bridge %s}", hi.name);
			else
				off += (size_t)snprintf(buf + off, len - off,
							" -> {host bridge %s} => {host bridge %s}",
							hi.name, ci.name);
		}
	}
	/* Client side, collected bottom-up, drawn top-down. */
	for (d = client; d && d != common && n < 64; ) {
		chain[n++] = d;
		p2pdma_dev_get_info(d, &in, sizeof(in));
		d = in.upstream;
	}
	for (i = n; i-- > 0; )
		off = put_node(buf, len, off, v, chain[i],
			       " <- ");
}

const char *cli_map_meaning(enum p2pdma_map_type t)
{
	switch (t) {
	case P2PDMA_MAP_BUS_ADDR: return "supported, direct";
	case P2PDMA_MAP_THRU_HOST_BRIDGE: return "supported, via the host bridge";
	case P2PDMA_MAP_NOT_SUPPORTED: return "refused";
	default: return "unknown";
	}
}

int cli_term_width(const struct cli *cli)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;

	if (env && atoi(env) >= 40)
		return atoi(env);
	if (isatty(fileno(cli->out)) &&
	    !ioctl(fileno(cli->out), TIOCGWINSZ, &ws) && ws.ws_col >= 40)
		return ws.ws_col;
	return 100;
}

/* Length of the next unbreakable piece of @s: up to the next arrow or
 * just after the next "; ". */
static size_t piece_len(const char *s)
{
	size_t i;

	for (i = 1; s[i]; i++) {
		if (s[i] == ' ' && (!strncmp(s + i, " -> ", 4) ||
				    !strncmp(s + i, " <- ", 4) ||
				    !strncmp(s + i, " => ", 4)))
			return i;
		if (s[i - 1] == ';' && s[i] == ' ')
			return i + 1;
	}
	return i;
}

void cli_wrap(struct cli *cli, const char *first, const char *cont,
	      const char *text)
{
	int width = cli_term_width(cli);
	size_t col = strlen(first);
	const char *s = text;
	bool fresh = true;

	fputs(first, cli->out);
	while (*s) {
		size_t n = piece_len(s);

		if (!fresh && col + n > (size_t)width) {
			fprintf(cli->out, "\n%s", cont);
			col = strlen(cont);
			while (*s == ' ') {
				s++;
				n--;
			}
		}
		fwrite(s, 1, n, cli->out);
		col += n;
		s += n;
		fresh = false;
	}
	fputc('\n', cli->out);
}

const char *cli_if_acs_why(const struct p2pdma_verdict *v, char *buf, size_t len)
{
	enum p2pdma_unknown_acs_outcome why;
	const struct p2pdma_dev *hd;
	struct p2pdma_dev_info in;

	p2pdma_verdict_if_acs_redirect(v, &why);
	buf[0] = '\0';
	switch (why) {
	case P2PDMA_UNKNOWN_ACS_NO_EFFECT:
		break;
	case P2PDMA_UNKNOWN_ACS_CPU_RULE:
		snprintf(buf, len, "the AMD Zen CPU rule admits the host bridge");
		break;
	case P2PDMA_UNKNOWN_ACS_REFUSED:
		snprintf(buf, len, "this kernel refuses any path with ACS redirect");
		break;
	case P2PDMA_UNKNOWN_ACS_NO_HOSTDEV:
		snprintf(buf, len, "the host bridge has no device the allow list could match");
		break;
	case P2PDMA_UNKNOWN_ACS_ALLOW_LISTED:
	case P2PDMA_UNKNOWN_ACS_NOT_LISTED:
		/* A common bridge means one host bridge: the provider's. */
		p2pdma_dev_get_info(p2pdma_verdict_provider(v), &in, sizeof(in));
		{
			struct p2pdma_host_bridge_info hi;

			p2pdma_host_bridge_get_info(in.host_bridge, &hi);
			hd = hi.hostdev;
		}
		p2pdma_dev_get_info(hd, &in, sizeof(in));
		snprintf(buf, len, "host bridge device %s %04x:%04x is %s the allow list",
			 in.bdf, in.vendor, in.device,
			 why == P2PDMA_UNKNOWN_ACS_ALLOW_LISTED ? "on" : "NOT on");
		break;
	}
	return buf;
}

json_t *cli_verdict_json(struct cli *cli, const struct p2pdma_dev *provider,
			 const struct p2pdma_dev *client,
			 const struct p2pdma_verdict *v)
{
	json_t *o = json_object(), *acs = json_array(), *dmesg = json_array();
	json_t *unk = json_array(), *hd = json_array();
	enum p2pdma_map_type alt;
	char path[2048], why[256];
	unsigned int i;

	if (!o || !acs || !dmesg || !unk || !hd) {
		json_decref(o); json_decref(acs); json_decref(dmesg);
		json_decref(unk); json_decref(hd);
		return NULL;
	}
	for (i = 0; i < v->nacs; i++)
		json_array_append_new(acs, json_string(p2pdma_dev_name(v->acs[i])));
	for (i = 0; i < v->ndmesg; i++)
		json_array_append_new(dmesg, json_string(v->dmesg[i]));
	for (i = 0; i < v->nunknown; i++)
		json_array_append_new(unk, json_string(p2pdma_dev_name(v->unknown[i])));
	for (i = 0; i < 2; i++)
		json_array_append_new(hd, v->hostdev[i] ?
				      json_string(p2pdma_dev_name(v->hostdev[i])) :
				      json_null());
	cli_verdict_path(provider, client, v, path, sizeof(path));
	alt = cli_if_acs_redirect(cli, provider, v, why, sizeof(why));
	json_object_set_new(o, "client", json_string(p2pdma_dev_name(client)));
	json_object_set_new(o, "map_type", json_string(p2pdma_map_type_name(v->map_type)));
	json_object_set_new(o, "distance", json_integer(v->distance));
	json_object_set_new(o, "acs_redirect", acs);
	json_object_set_new(o, "host_bridge_allowed",
			    !v->host_bridge_path ? json_null() :
			    json_boolean(v->cpu_rule || v->hb_allowed));
	json_object_set_new(o, "fix", v->fix[0] ? json_string(v->fix) : json_null());
	json_object_set_new(o, "dmesg", dmesg);
	json_object_set_new(o, "common_upstream", v->common ?
			    json_string(p2pdma_dev_name(v->common)) : json_null());
	json_object_set_new(o, "path", json_string(path));
	json_object_set_new(o, "same_host_bridge", json_boolean(v->same_host_bridge));
	json_object_set_new(o, "host_bridge_path", json_boolean(v->host_bridge_path));
	json_object_set_new(o, "cpu_rule", json_boolean(v->cpu_rule));
	json_object_set_new(o, "host_devices", hd);
	json_object_set_new(o, "acs_unknown", json_boolean(v->acs_unknown));
	json_object_set_new(o, "acs_unknown_devices", unk);
	/* What the pair would be if a port marked unknown had redirect on:
	 * null when the verdict does not depend on the unknown state. */
	json_object_set_new(o, "map_type_if_acs_redirect",
			    alt == P2PDMA_MAP_BUS_ADDR ? json_null() :
			    json_string(p2pdma_map_type_name(alt)));
	json_object_set_new(o, "acs_list_truncated", json_boolean(v->acs_truncated));
	return o;
}

static void hostdev_text(struct cli *cli, const char *indent,
			 const struct p2pdma_dev *hd,
			 const struct p2pdma_allow_entry *e, const char *side)
{
	struct p2pdma_dev_info in;
	char line[512];

	if (!hd) {
		fprintf(cli->out,
			"%s    %s host bridge has no device the allow list could match\n"
			"%s    (the first function on its root bus is neither 00.0 nor a Root Port): not allowed\n",
			indent, side, indent);
		return;
	}
	p2pdma_dev_get_info(hd, &in, sizeof(in));
	if (e)
		snprintf(line, sizeof(line),
			 "%s host bridge device %s %04x:%04x is on the allow list%s%s%s",
			 side, in.bdf, in.vendor, in.device,
			 e->flags & P2PDMA_REQ_SAME_HOST_BRIDGE ?
			 " with REQ_SAME_HOST_BRIDGE (only P2P below that one host bridge)" : "",
			 e->comment ? " (" : "", e->comment ? e->comment : "");
	else
		snprintf(line, sizeof(line),
			 "%s host bridge device %s %04x:%04x is NOT on the allow list",
			 side, in.bdf, in.vendor, in.device);
	if (e && e->comment)
		strncat(line, ")", sizeof(line) - strlen(line) - 1);
	fprintf(cli->out, "%s    %s\n", indent, line);
}

static void dev_list(struct cli *cli, const struct p2pdma_dev *const *d,
		     unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		fprintf(cli->out, "%s%s", i ? ", " : "", p2pdma_dev_name(d[i]));
}

void cli_verdict_text(struct cli *cli, const struct p2pdma_dev *provider,
		      const struct p2pdma_dev *client,
		      const struct p2pdma_verdict *v, const char *indent,
		      bool see_fix)
{
	char path[2048], l1[64], l2[64], first[64], cont[64], why[256];
	enum p2pdma_map_type alt;

	alt = cli_if_acs_redirect(cli, provider, v, why, sizeof(why));
	fprintf(cli->out, "%sclient %s -> provider %s: %s (%s), distance %d%s\n",
		indent, cli_dev_label(client, l1, sizeof(l1)),
		cli_dev_label(provider, l2, sizeof(l2)),
		p2pdma_map_type_name(v->map_type), cli_map_meaning(v->map_type),
		v->distance,
		alt != P2PDMA_MAP_BUS_ADDR ? "  [assumes ACS redirect off: state unknown]" : "");
	cli_verdict_path(provider, client, v, path, sizeof(path));
	snprintf(first, sizeof(first), "%s  path: ", indent);
	snprintf(cont, sizeof(cont), "%s        ", indent);
	cli_wrap(cli, first, cont, path);
	fprintf(cli->out, "%s  why:\n", indent);
	if (v->common && !v->nacs)
		fprintf(cli->out,
			"%s    common upstream bridge %s and no ACS redirect on the path%s:\n"
			"%s    the transaction turns around there\n",
			indent, p2pdma_dev_name(v->common),
			v->acs_unknown ? " as far as known" : "", indent);
	else if (v->common) {
		fprintf(cli->out, "%s    common upstream bridge %s, but ACS redirect (RR/CR/EC) is set on ",
			indent, p2pdma_dev_name(v->common));
		dev_list(cli, v->acs, v->nacs);
		fprintf(cli->out, ":\n%s    requests are forced up to the host bridge\n", indent);
	} else {
		fprintf(cli->out,
			"%s    no common upstream bridge: the path crosses %s (ACS is not examined)\n",
			indent, v->same_host_bridge ? "the host bridge" :
			"two host bridges");
	}
	if (v->acs_unknown) {
		fprintf(cli->out, "%s    ACS state unknown on ", indent);
		dev_list(cli, v->unknown, v->nunknown);
		fprintf(cli->out, "\n");
		if (alt != P2PDMA_MAP_BUS_ADDR)
			fprintf(cli->out,
				"%s    computed as if redirect were off; if any of them has RR/CR/EC set (usual on\n"
				"%s    root and downstream ports when an IOMMU is on) the pair is %s instead:\n"
				"%s    %s\n",
				indent, indent, p2pdma_map_type_name(alt), indent, why);
		else if (v->common)
			fprintf(cli->out,
				"%s    the verdict does not depend on them, but the fix may need them too\n",
				indent);
		fprintf(cli->out,
			"%s    to know: run as root on the machine, or use an 'lspci -xxxx' dump taken as root\n",
			indent);
	}
	if (v->host_bridge_path && v->map_type != P2PDMA_MAP_BUS_ADDR) {
		if (v->cpu_rule) {
			fprintf(cli->out,
				"%s    the AMD Zen CPU rule (cpu_supports_p2pdma) admits every host-bridge path;\n"
				"%s    the allow list is not consulted\n", indent, indent);
		} else if (v->same_host_bridge) {
			hostdev_text(cli, indent, v->hostdev[0], v->hb_entry[0], "the");
		} else {
			hostdev_text(cli, indent, v->hostdev[0], v->hb_entry[0], "provider's");
			hostdev_text(cli, indent, v->hostdev[1], v->hb_entry[1], "client's");
			fprintf(cli->out,
				"%s    (across host bridges both must be listed, neither with REQ_SAME_HOST_BRIDGE)\n",
				indent);
		}
	}
	if (v->ndmesg) {
		unsigned int i;

		fprintf(cli->out, "%s  dmesg:\n", indent);
		for (i = 0; i < v->ndmesg; i++)
			fprintf(cli->out, "%s    %s\n", indent, v->dmesg[i]);
	}
	if (v->fix[0]) {
		char see[128];

		snprintf(first, sizeof(first), "%s  fix: ", indent);
		snprintf(cont, sizeof(cont), "%s       ", indent);
		cli_wrap(cli, first, cont, v->fix);
		if (!see_fix)
			return;
		snprintf(see, sizeof(see), "'p2pdma fix %s %s'", p2pdma_dev_name(provider),
			 p2pdma_dev_name(client));
		fprintf(cli->out, "%s       (%s verifies it and tells the isolation cost)\n",
			indent, see);
	} else if (!v->common && v->map_type == P2PDMA_MAP_NOT_SUPPORTED) {
		char see[128] = "";

		if (see_fix)
			snprintf(see, sizeof(see), "; see 'p2pdma fix %s %s'",
				 p2pdma_dev_name(provider), p2pdma_dev_name(client));
		fprintf(cli->out,
			"%s  fix: none on the kernel command line: only an allow-listed host bridge%s\n"
			"%s       admits this path (as THRU_HOST_BRIDGE)%s\n",
			indent, p2pdma_policy_cpu_rule(cli->pol) ? "" :
			" or an AMD Zen CPU", indent, see);
	}
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct p2pdma_dev *provider, **clients = NULL;
	struct p2pdma_verdict *v = NULL;
	struct p2pdma_router *r = NULL;
	int opt, n, i, total, ret = 2;
	bool failed = false;

	/* glibc re-initialises (and permutes options after operands again,
	 * which the dispatcher's "+" scan turned off) only when optind is 0. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'h': fputs(check_help, cli->out); return 0;
		default: fputs(check_help, stderr); return 2;
		}
	}
	if (argc - optind < 2) {
		fputs("Usage: p2pdma [SOURCE] check [--json] PROVIDER CLIENT [CLIENT...]   ('p2pdma check --help' explains)\n",
		      stderr);
		return cli_error("check: need a PROVIDER and at least one CLIENT");
	}
	provider = cli_find_dev(cli, argv[optind]);
	if (!provider)
		return 2;
	n = argc - optind - 1;
	clients = calloc((size_t)n, sizeof(*clients));
	v = calloc((size_t)n, sizeof(*v));
	if (!clients || !v) {
		ret = cli_error("out of memory");
		goto out;
	}
	if (cli_parse_devs(cli, argv + optind + 1, n, clients))
		goto out;
	r = cli_router(cli);
	if (!r)
		goto out;
	/* The orchestrator's question, verbose: every client is evaluated. */
	total = p2pdma_distance_many(r, provider, clients, (unsigned int)n,
				     true, v);
	for (i = 0; i < n; i++)
		if (v[i].map_type == P2PDMA_MAP_NOT_SUPPORTED)
			failed = true;

	if (cli->json) {
		json_t *root = json_object(), *arr = json_array();

		for (i = 0; i < n; i++)
			json_array_append_new(arr, cli_verdict_json(cli, provider,
								    clients[i], &v[i]));
		json_object_set_new(root, "provider",
				    json_string(p2pdma_dev_name(provider)));
		json_object_set_new(root, "distance", json_integer(total));
		json_object_set_new(root, "clients", arr);
		json_object_set_new(root, "kernel",
				    json_string(p2pdma_policy_kernel(cli->pol)));
		json_object_set_new(root, "notes", cli_notes_json(cli));
		ret = cli_print_json(cli, root);
		if (!ret)
			ret = failed;
		goto out;
	}
	{
		struct p2pdma_dev_info in;
		char lbl[64];

		p2pdma_dev_get_info(provider, &in, sizeof(in));
		fprintf(cli->out, "provider %s%s%s, kernel %s, AMD Zen CPU rule %s\n",
			cli_dev_label(provider, lbl, sizeof(lbl)),
			in.device_name ? " " : "", in.device_name ? in.device_name : "",
			p2pdma_policy_kernel(cli->pol),
			p2pdma_policy_cpu_rule(cli->pol) ? "on" : "off");
	}
	for (i = 0; i < n; i++)
		cli_verdict_text(cli, provider, clients[i], &v[i], "", true);
	fprintf(cli->out, "pci_p2pdma_distance_many() = %d%s\n", total,
		total < 0 ? " (some client is refused: no p2pmem user would pick this provider)" :
		n > 1 ? " (sum over the clients; smaller is better)" : "");
	cli_print_notes(cli);
	ret = failed;
out:
	p2pdma_router_destroy(r);
	free(clients);
	free(v);
	return ret;
}
