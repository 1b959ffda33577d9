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
"calc_map_type_and_dist() for every client (doc/kernel-model.md §2.2, §2.3).\n"
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
"the dmesg lines the kernel would log (doc/kernel-model.md §2.8) and the kernel parameter\n"
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

void cli_para(struct cli *cli, const char *first, const char *cont,
	      const char *text)
{
	size_t width = (size_t)cli_term_width(cli), col = strlen(first);
	const char *s = text;

	fputs(first, cli->out);
	while (*s) {
		size_t n = strcspn(s, " ");

		if (col > strlen(first) && col + 1 + n > width && col > strlen(cont)) {
			fprintf(cli->out, "\n%s", cont);
			col = strlen(cont);
		} else if (s != text) {
			fputc(' ', cli->out);
			col++;
		}
		fwrite(s, 1, n, cli->out);
		col += n;
		s += n;
		while (*s == ' ')
			s++;
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

/* The unknown-ACS devices as a JSON array of names. */
static json_t *dev_array(size_t n, const struct p2pdma_dev *(*at)(const struct p2pdma_verdict *, size_t),
			 const struct p2pdma_verdict *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(p2pdma_dev_name(at(v, i))));
	return a;
}

json_t *cli_verdict_json(const struct p2pdma_verdict *v)
{
	json_t *o = json_object(), *dmesg = json_array(), *hd = json_array();
	enum p2pdma_map_type t = p2pdma_verdict_map_type(v), alt;
	const struct p2pdma_dev *common = p2pdma_verdict_common(v);
	const char *fix = p2pdma_verdict_fix(v);
	bool truncated;
	char path[2048];
	size_t i;

	if (!o || !dmesg || !hd) {
		json_decref(o);
		json_decref(dmesg);
		json_decref(hd);
		return NULL;
	}
	for (i = 0; i < p2pdma_verdict_num_dmesg(v); i++)
		json_array_append_new(dmesg, json_string(p2pdma_verdict_dmesg(v, i)));
	for (i = 0; i < 2; i++) {
		const struct p2pdma_dev *h = p2pdma_verdict_hostdev(v, (unsigned int)i);

		json_array_append_new(hd, h ? json_string(p2pdma_dev_name(h)) : json_null());
	}
	cli_verdict_path(v, path, sizeof(path));
	alt = p2pdma_verdict_if_acs_redirect(v, NULL);
	p2pdma_verdict_acs_list(v, &truncated);
	json_object_set_new(o, "client", json_string(p2pdma_dev_name(p2pdma_verdict_client(v))));
	json_object_set_new(o, "map_type", json_string(p2pdma_map_type_name(t)));
	json_object_set_new(o, "distance", json_integer(p2pdma_verdict_distance(v)));
	json_object_set_new(o, "acs_redirect",
			    dev_array(p2pdma_verdict_num_acs(v), p2pdma_verdict_acs, v));
	json_object_set_new(o, "host_bridge_allowed",
			    !p2pdma_verdict_host_bridge_path(v) ? json_null() :
			    json_boolean(p2pdma_verdict_cpu_rule(v) ||
					 p2pdma_verdict_allow_listed(v)));
	json_object_set_new(o, "fix", fix ? json_string(fix) : json_null());
	json_object_set_new(o, "dmesg", dmesg);
	json_object_set_new(o, "common_upstream", common ?
			    json_string(p2pdma_dev_name(common)) : json_null());
	json_object_set_new(o, "path", json_string(path));
	json_object_set_new(o, "same_host_bridge", json_boolean(p2pdma_verdict_same_host_bridge(v)));
	json_object_set_new(o, "host_bridge_path", json_boolean(p2pdma_verdict_host_bridge_path(v)));
	json_object_set_new(o, "cpu_rule", json_boolean(p2pdma_verdict_cpu_rule(v)));
	json_object_set_new(o, "host_devices", hd);
	json_object_set_new(o, "acs_unknown", json_boolean(p2pdma_verdict_num_unknown(v) > 0));
	json_object_set_new(o, "acs_unknown_devices",
			    dev_array(p2pdma_verdict_num_unknown(v), p2pdma_verdict_unknown, v));
	/* What the pair would be if a port marked unknown had redirect on:
	 * null when the verdict does not depend on the unknown state. */
	json_object_set_new(o, "map_type_if_acs_redirect",
			    alt == P2PDMA_MAP_BUS_ADDR ? json_null() :
			    json_string(p2pdma_map_type_name(alt)));
	json_object_set_new(o, "acs_list_truncated", json_boolean(truncated));
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

static void dev_list(struct cli *cli, size_t n,
		     const struct p2pdma_dev *(*at)(const struct p2pdma_verdict *, size_t),
		     const struct p2pdma_verdict *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(cli->out, "%s%s", i ? ", " : "", p2pdma_dev_name(at(v, i)));
}

/* "why:" when a common bridge exists, or when none does. */
static void why_path(struct cli *cli, const struct p2pdma_verdict *v,
		     const char *indent)
{
	const struct p2pdma_dev *common = p2pdma_verdict_common(v);
	size_t nacs = p2pdma_verdict_num_acs(v);

	if (common && !nacs)
		fprintf(cli->out,
			"%s    common upstream bridge %s and no ACS redirect on the path%s:\n"
			"%s    the transaction turns around there\n",
			indent, p2pdma_dev_name(common),
			p2pdma_verdict_num_unknown(v) ? " as far as known" : "", indent);
	else if (common) {
		fprintf(cli->out, "%s    common upstream bridge %s, but ACS redirect (RR/CR/EC) is set on ",
			indent, p2pdma_dev_name(common));
		dev_list(cli, nacs, p2pdma_verdict_acs, v);
		fprintf(cli->out, ":\n%s    requests are forced up to the host bridge\n", indent);
	} else {
		fprintf(cli->out,
			"%s    no common upstream bridge: the path crosses %s (ACS is not examined)\n",
			indent, p2pdma_verdict_same_host_bridge(v) ? "the host bridge" :
			"two host bridges");
	}
}

static void why_unknown(struct cli *cli, const struct p2pdma_verdict *v,
			const char *indent)
{
	enum p2pdma_map_type alt = p2pdma_verdict_if_acs_redirect(v, NULL);
	char why[256];

	if (!p2pdma_verdict_num_unknown(v))
		return;
	fprintf(cli->out, "%s    ACS state unknown on ", indent);
	dev_list(cli, p2pdma_verdict_num_unknown(v), p2pdma_verdict_unknown, v);
	fprintf(cli->out, "\n");
	if (alt != P2PDMA_MAP_BUS_ADDR)
		fprintf(cli->out,
			"%s    computed as if redirect were off; if any of them has RR/CR/EC set (usual on\n"
			"%s    root and downstream ports when an IOMMU is on) the pair is %s instead:\n"
			"%s    %s\n",
			indent, indent, p2pdma_map_type_name(alt), indent,
			cli_if_acs_why(v, why, sizeof(why)));
	else if (p2pdma_verdict_common(v))
		fprintf(cli->out,
			"%s    the verdict does not depend on them, but the fix may need them too\n",
			indent);
	fprintf(cli->out,
		"%s    to know: run as root on the machine, or use an 'lspci -xxxx' dump taken as root\n",
		indent);
}

void cli_host_bridge_why(struct cli *cli, const struct p2pdma_verdict *v,
			 const char *indent)
{
	const struct p2pdma_dev *h0 = p2pdma_verdict_hostdev(v, 0);
	const struct p2pdma_dev *h1 = p2pdma_verdict_hostdev(v, 1);
	const char *s0 = p2pdma_host_bridge_status(h0);
	const char *s1 = p2pdma_host_bridge_status(h1);
	char first[64], cont[64];

	snprintf(first, sizeof(first), "%s    why the host bridge matters: ", indent);
	snprintf(cont, sizeof(cont), "%s      ", indent);
	if (s0)
		cli_para(cli, first, cont, s0);
	if (s1 && s1 != s0)
		cli_para(cli, first, cont, s1);
}

static void why_host_bridge(struct cli *cli, const struct p2pdma_verdict *v,
			    const char *indent)
{
	if (!p2pdma_verdict_host_bridge_path(v) ||
	    p2pdma_verdict_map_type(v) == P2PDMA_MAP_BUS_ADDR)
		return;
	if (p2pdma_verdict_cpu_rule(v)) {
		fprintf(cli->out,
			"%s    the AMD Zen CPU rule (cpu_supports_p2pdma) admits every host-bridge path;\n"
			"%s    the allow list is not consulted\n", indent, indent);
	} else if (p2pdma_verdict_same_host_bridge(v)) {
		hostdev_text(cli, indent, p2pdma_verdict_hostdev(v, 0),
			     p2pdma_verdict_allow_entry(v, 0), "the");
	} else {
		hostdev_text(cli, indent, p2pdma_verdict_hostdev(v, 0),
			     p2pdma_verdict_allow_entry(v, 0), "provider's");
		hostdev_text(cli, indent, p2pdma_verdict_hostdev(v, 1),
			     p2pdma_verdict_allow_entry(v, 1), "client's");
		fprintf(cli->out,
			"%s    (across host bridges both must be listed, neither with REQ_SAME_HOST_BRIDGE)\n",
			indent);
	}
	cli_host_bridge_why(cli, v, indent);
}

char *cli_merged_fix(struct cli *cli, const struct p2pdma_verdict *v)
{
	struct p2pdma_advice *a;
	char *line = NULL;

	if (!p2pdma_verdict_fix(v) ||
	    p2pdma_advise_pair(cli->k, p2pdma_verdict_provider(v),
			       p2pdma_verdict_client(v), &a))
		return NULL;
	if (p2pdma_advice_kernel_cmdline(a) && p2pdma_advice_status(a) == P2PDMA_ADVICE_FIX)
		line = strdup(p2pdma_advice_kernel_cmdline(a));
	p2pdma_advice_destroy(a);
	return line;
}

static void fix_text(struct cli *cli, const struct p2pdma_verdict *v,
		     const char *indent, bool see_fix)
{
	const char *provider = p2pdma_dev_name(p2pdma_verdict_provider(v));
	const char *client = p2pdma_dev_name(p2pdma_verdict_client(v));
	const char *fix = p2pdma_verdict_fix(v);
	char first[64], cont[64], see[128] = "";
	char *merged = see_fix ? cli_merged_fix(cli, v) : NULL;

	if (fix) {
		/* What to paste: merged with the machine's own ACS parameters
		 * (only the last pci=disable_acs_redir= counts) and verified. */
		snprintf(first, sizeof(first), "%s  fix: ", indent);
		snprintf(cont, sizeof(cont), "%s       ", indent);
		cli_wrap(cli, first, cont, merged ? merged : fix);
		if (see_fix)
			fprintf(cli->out,
				"%s       (%s; 'p2pdma fix %s %s'\n"
				"%s       shows the variants, the setpci equivalent and the isolation cost)\n",
				indent, merged ? "merged with the machine's ACS parameters and verified" :
				"the ports to clear, NOT verified on this kernel", provider, client, indent);
		free(merged);
	} else if (!p2pdma_verdict_common(v) &&
		   p2pdma_verdict_map_type(v) == P2PDMA_MAP_NOT_SUPPORTED) {
		if (see_fix)
			snprintf(see, sizeof(see), "; see 'p2pdma fix %s %s'", provider, client);
		fprintf(cli->out,
			"%s  fix: none on the kernel command line: only an allow-listed host bridge%s\n"
			"%s       admits this path (as THRU_HOST_BRIDGE)%s\n",
			indent, p2pdma_policy_cpu_rule(cli->pol) ? "" :
			" or an AMD Zen CPU", indent, see);
	}
}

void cli_verdict_text(struct cli *cli, const struct p2pdma_verdict *v,
		      const char *indent, bool see_fix)
{
	char path[2048], l1[64], l2[64], first[64], cont[64];
	enum p2pdma_map_type t = p2pdma_verdict_map_type(v);
	size_t i;

	fprintf(cli->out, "%sclient %s -> provider %s: %s (%s), distance %d%s\n",
		indent, cli_dev_label(p2pdma_verdict_client(v), l1, sizeof(l1)),
		cli_dev_label(p2pdma_verdict_provider(v), l2, sizeof(l2)),
		p2pdma_map_type_name(t), cli_map_meaning(t),
		p2pdma_verdict_distance(v),
		p2pdma_verdict_if_acs_redirect(v, NULL) != P2PDMA_MAP_BUS_ADDR ?
		"  [assumes ACS redirect off: state unknown]" : "");
	cli_verdict_path(v, path, sizeof(path));
	snprintf(first, sizeof(first), "%s  path: ", indent);
	snprintf(cont, sizeof(cont), "%s        ", indent);
	cli_wrap(cli, first, cont, path);
	fprintf(cli->out, "%s  why:\n", indent);
	why_path(cli, v, indent);
	why_unknown(cli, v, indent);
	why_host_bridge(cli, v, indent);
	if (p2pdma_verdict_num_dmesg(v)) {
		fprintf(cli->out, "%s  dmesg:\n", indent);
		for (i = 0; i < p2pdma_verdict_num_dmesg(v); i++)
			fprintf(cli->out, "%s    %s\n", indent, p2pdma_verdict_dmesg(v, i));
	}
	fix_text(cli, v, indent, see_fix);
}

/* Verdicts for @n clients, freed by verdicts_free(). */
struct p2pdma_verdict **cli_verdicts_new(size_t n)
{
	struct p2pdma_verdict **v = calloc(n + 1, sizeof(*v));
	size_t i;

	for (i = 0; v && i < n; i++) {
		if (p2pdma_verdict_create(&v[i])) {
			cli_verdicts_free(v, i);
			return NULL;
		}
	}
	return v;
}

void cli_verdicts_free(struct p2pdma_verdict **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		p2pdma_verdict_destroy(v[i]);
	free(v);
}

static int check_json(struct cli *cli, const struct p2pdma_dev *provider,
		      struct p2pdma_verdict **v, size_t n, int total)
{
	json_t *root = json_object(), *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *o = cli_verdict_json(v[i]);
		char *merged = cli_merged_fix(cli, v[i]);

		/* "fix" is the kernel's own list; this is what to paste. */
		json_object_set_new(o, "kernel_cmdline", merged ? json_string(merged) : json_null());
		free(merged);
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "provider", json_string(p2pdma_dev_name(provider)));
	json_object_set_new(root, "distance", json_integer(total));
	json_object_set_new(root, "clients", arr);
	json_object_set_new(root, "kernel", json_string(p2pdma_policy_kernel(cli->pol)));
	json_object_set_new(root, "notes", cli_notes_json(cli));
	return cli_print_json(cli, root);
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct p2pdma_dev *provider, **clients = NULL;
	struct p2pdma_verdict **v = NULL;
	struct p2pdma_dev_info in;
	int opt, total = -1, ret = 2;
	size_t n = 0, i;
	bool failed = false;
	char lbl[64];

	optind = 0;
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': cli->json = true; break;
		case 'h': fputs(check_help, cli->out); return 0;
		default: return cli_bad_option(argv, check_help);
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
	n = (size_t)(argc - optind - 1);
	clients = calloc(n, sizeof(*clients));
	v = cli_verdicts_new(n);
	if (!clients || !v) {
		ret = cli_error("out of memory");
		goto out;
	}
	if (cli_parse_devs(cli, argv + optind + 1, (int)n, clients))
		goto out;
	/* The orchestrator's question, verbose: every client is evaluated. */
	if (p2pdma_kernel_distance_many(cli->k, provider, clients, n, true, v, &total))
		total = -1;
	for (i = 0; i < n; i++)
		failed |= p2pdma_verdict_map_type(v[i]) == P2PDMA_MAP_NOT_SUPPORTED;
	if (cli->json) {
		ret = check_json(cli, provider, v, n, total);
		if (!ret)
			ret = failed;
		goto out;
	}
	cli_print_upfront(cli);
	p2pdma_dev_get_info(provider, &in, sizeof(in));
	fprintf(cli->out, "provider %s%s%s, kernel %s, AMD Zen CPU rule %s\n",
		cli_dev_label(provider, lbl, sizeof(lbl)),
		in.device_name ? " " : "", in.device_name ? in.device_name : "",
		p2pdma_policy_kernel(cli->pol),
		p2pdma_policy_cpu_rule(cli->pol) ? "on" : "off");
	for (i = 0; i < n; i++)
		cli_verdict_text(cli, v[i], "", true);
	fprintf(cli->out, "pci_p2pdma_distance_many() = %d%s\n", total,
		total < 0 ? " (some client is refused: no p2pmem user would pick this provider)" :
		n > 1 ? " (sum over the clients; smaller is better)" : "");
	cli_print_notes(cli);
	ret = failed;
out:
	free(clients);
	cli_verdicts_free(v, n);
	return ret;
}
