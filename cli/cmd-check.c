// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-check.c - p2pdma check: the kernel's verdict for a provider and its clients */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli-verdict.h"

static const char check_help[] =
"Usage: p2pdma [SOURCE] check [--json] PROVIDER CLIENT [CLIENT...]\n"
"\n"
"Asks what the kernel decides when CLIENT(s) DMA into memory owned by\n"
"PROVIDER: pci_p2pdma_distance_many(provider, clients, verbose=true), i.e.\n"
"calc_map_type_and_dist() for every client. For each client it prints\n"
"\n"
"  verdict   BUS_ADDR          P2P turns around in a common switch/bridge\n"
"            THRU_HOST_BRIDGE  P2P goes through the root complex, allowed by\n"
"                              the host-bridge allow list or the AMD Zen rule\n"
"            NOT_SUPPORTED     the kernel refuses (mapping fails -EREMOTEIO)\n"
"  distance  hops from each side to the common upstream device, or the sum\n"
"            of both chain lengths when there is none\n"
"  path      provider -> ... -> common <- ... <- client, with [ACS ...] on\n"
"            the ports whose RR/CR/EC redirect bits force traffic upward\n"
"  why       the rule that decided, the host bridge devices and allow-list rows\n"
"  dmesg     the lines the kernel would log (spec 2.8)\n"
"  fix       the kernel parameter that would make the pair BUS_ADDR\n"
"\n"
"and the distance sum (-1 when any client is NOT_SUPPORTED), as nvmet and\n"
"other orchestrators see it. PROVIDER and CLIENT are DDDD:BB:DD.F or BB:DD.F.\n"
"\n"
"Exit status: 0 all clients supported, 1 some client NOT_SUPPORTED,\n"
"2 usage or input error.\n"
"\n"
"Example: p2pdma --example xeon-8gpu check 0000:17:00.0 0000:18:00.0\n";

struct p2pdma_router *cli_router(struct cli *cli)
{
	struct p2pdma_router *r;

	if (p2pdma_router_create(cli->ctx, cli->topo, cli->pol, &r)) {
		cli_error("%s", p2pdma_ctx_error(cli->ctx));
		return NULL;
	}
	return r;
}

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
	unsigned int i;

	for (i = 0; i < v->nacs; i++)
		if (v->acs[i] == d)
			return true;
	return false;
}

static bool in_unknown(const struct p2pdma_verdict *v,
		       const struct p2pdma_dev *d)
{
	unsigned int i;

	for (i = 0; i < v->nunknown; i++)
		if (v->unknown[i] == d)
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
				d == v->common ? " [common]" : "",
				in_acs(v, d) ? " [ACS redirect]" : "",
				in_unknown(v, d) ? " [ACS ?]" : "");
	return off;
}

void cli_verdict_path(const struct p2pdma_dev *provider,
		      const struct p2pdma_dev *client,
		      const struct p2pdma_verdict *v, char *buf, size_t len)
{
	const struct p2pdma_dev *chain[64], *d;
	struct p2pdma_dev_info in;
	size_t off = 0;
	unsigned int n = 0, i;

	buf[0] = 0;
	/* Provider side, bottom-up, up to the common device or the root. */
	for (d = provider; d; ) {
		off = put_node(buf, len, off, v, d, d == provider ? "" : " -> ");
		if (d == v->common)
			break;
		p2pdma_dev_get_info(d, &in, sizeof(in));
		d = in.upstream;
	}
	if (!v->common) {
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
	for (d = client; d && d != v->common && n < 64; ) {
		chain[n++] = d;
		p2pdma_dev_get_info(d, &in, sizeof(in));
		d = in.upstream;
	}
	for (i = n; i-- > 0; )
		off = put_node(buf, len, off, v, chain[i],
			       v->common || i != n - 1 ? " <- " : " <- ");
}

static const char *map_short(enum p2pdma_map_type t)
{
	return p2pdma_map_type_name(t);
}

json_t *cli_verdict_json(const struct p2pdma_dev *provider,
			 const struct p2pdma_dev *client,
			 const struct p2pdma_verdict *v)
{
	json_t *o = json_object(), *acs = json_array(), *dmesg = json_array();
	json_t *unk = json_array(), *hd = json_array();
	char path[2048];
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
	json_object_set_new(o, "client", json_string(p2pdma_dev_name(client)));
	json_object_set_new(o, "map_type", json_string(map_short(v->map_type)));
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
	json_object_set_new(o, "acs_list_truncated", json_boolean(v->acs_truncated));
	return o;
}

static void hostdev_text(struct cli *cli, const char *indent,
			 const struct p2pdma_dev *hd,
			 const struct p2pdma_allow_entry *e, const char *side)
{
	struct p2pdma_dev_info in;

	if (!hd) {
		fprintf(cli->out,
			"%s  %s host bridge: no host bridge device (the first function on the root bus is neither 00.0 nor a Root Port): not allowed\n",
			indent, side);
		return;
	}
	p2pdma_dev_get_info(hd, &in, sizeof(in));
	if (e)
		fprintf(cli->out,
			"%s  %s host bridge device %s %04x:%04x is on the allow list%s%s%s\n",
			indent, side, in.bdf, in.vendor, in.device,
			e->flags & P2PDMA_REQ_SAME_HOST_BRIDGE ?
			" with REQ_SAME_HOST_BRIDGE (only P2P below that one host bridge)" : "",
			e->comment ? ": " : "", e->comment ? e->comment : "");
	else
		fprintf(cli->out,
			"%s  %s host bridge device %s %04x:%04x is NOT on the allow list\n",
			indent, side, in.bdf, in.vendor, in.device);
}

void cli_verdict_text(struct cli *cli, const struct p2pdma_dev *provider,
		      const struct p2pdma_dev *client,
		      const struct p2pdma_verdict *v, const char *indent)
{
	char path[2048], l1[64], l2[64];
	unsigned int i;

	fprintf(cli->out, "%s%s -> %s: %s, distance %d\n", indent,
		cli_dev_label(client, l1, sizeof(l1)),
		cli_dev_label(provider, l2, sizeof(l2)),
		p2pdma_map_type_name(v->map_type), v->distance);
	cli_verdict_path(provider, client, v, path, sizeof(path));
	fprintf(cli->out, "%s  path: %s\n", indent, path);
	fprintf(cli->out, "%s  why:\n", indent);
	if (v->common && !v->nacs)
		fprintf(cli->out,
			"%s  common upstream device %s, no ACS redirect on the path: the transaction turns around there\n",
			indent, p2pdma_dev_name(v->common));
	else if (v->common) {
		fprintf(cli->out,
			"%s  common upstream device %s, but ACS redirect (RR/CR/EC) is set on",
			indent, p2pdma_dev_name(v->common));
		for (i = 0; i < v->nacs; i++)
			fprintf(cli->out, "%s %s", i ? "," : "",
				p2pdma_dev_name(v->acs[i]));
		fprintf(cli->out, ": requests are forced up to the host bridge\n");
	} else {
		fprintf(cli->out,
			"%s  no common upstream bridge: the path crosses the host bridge%s (ACS is not examined)\n",
			indent, v->same_host_bridge ? "" : "s");
	}
	if (v->acs_unknown) {
		fprintf(cli->out, "%s  ACS state unknown on", indent);
		for (i = 0; i < v->nunknown; i++)
			fprintf(cli->out, "%s %s", i ? "," : "",
				p2pdma_dev_name(v->unknown[i]));
		fprintf(cli->out,
			": computed as if off; the verdict depends on it (read config space as root or use an lspci -xxxx dump)\n");
	}
	if (v->host_bridge_path && v->map_type != P2PDMA_MAP_BUS_ADDR) {
		if (v->cpu_rule) {
			fprintf(cli->out,
				"%s  the AMD Zen CPU rule (cpu_supports_p2pdma) admits every host-bridge path; the allow list is not consulted\n",
				indent);
		} else if (v->same_host_bridge) {
			hostdev_text(cli, indent, v->hostdev[0], v->hb_entry[0], "the");
		} else {
			hostdev_text(cli, indent, v->hostdev[0], v->hb_entry[0], "provider's");
			hostdev_text(cli, indent, v->hostdev[1], v->hb_entry[1], "client's");
			fprintf(cli->out,
				"%s  different host bridges need both devices listed and neither row with REQ_SAME_HOST_BRIDGE\n",
				indent);
		}
	}
	if (v->ndmesg) {
		fprintf(cli->out, "%s  dmesg:\n", indent);
		for (i = 0; i < v->ndmesg; i++)
			fprintf(cli->out, "%s    %s\n", indent, v->dmesg[i]);
	}
	if (v->fix[0])
		fprintf(cli->out, "%s  fix: %s   (see 'p2pdma fix %s %s')\n",
			indent, v->fix, p2pdma_dev_name(provider),
			p2pdma_dev_name(client));
	else if (!v->common && v->map_type == P2PDMA_MAP_NOT_SUPPORTED)
		fprintf(cli->out,
			"%s  fix: none on the command line: only an allow-listed host bridge or the AMD Zen rule admits this path\n",
			indent);
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
		fputs(check_help, stderr);
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
			json_array_append_new(arr, cli_verdict_json(provider,
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
	fprintf(cli->out, "provider %s, kernel profile %s\n",
		p2pdma_dev_name(provider), p2pdma_policy_kernel(cli->pol));
	for (i = 0; i < n; i++)
		cli_verdict_text(cli, provider, clients[i], &v[i], "");
	fprintf(cli->out, "distance (pci_p2pdma_distance_many): %d%s\n", total,
		total < 0 ? " (some client cannot reach the provider)" : "");
	cli_print_notes(cli);
	ret = failed;
out:
	p2pdma_router_destroy(r);
	free(clients);
	free(v);
	return ret;
}
