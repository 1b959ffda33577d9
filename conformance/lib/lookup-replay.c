// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lookup-replay: replay a real kernel's pci_p2pdma_map_type() lookups
 * (the conformance kernels' /sys/kernel/debug/p2pdma_lookup, lookup.txt in a
 * golden) on libp2pdma's model of the map-type cache.
 *
 *   lookup-replay SYSFS.tar.gz RELEASE CPU LOOKUP.txt [VVVV:DDDD[:same-host-bridge]]...
 *
 * (the guest's sysfs capture: unlike an lspci dump it has the BAR sizes,
 * hence the providers, and the drivers)
 *
 * In the guest, p2pcopy's O_DIRECT transfers evaluated some pairs before the
 * lookup file was read: those show a map type as "cached before". The replay
 * boots the modelled kernel on the capture, gives every looked-up provider its
 * P2PDMA state and cache (bound to nvme, p2pdma_kernel_p2pdma_init(), as
 * the driver's pci_p2pdma_add_resource() does), evaluates the pairs the
 * kernel had cached (p2pdma_kernel_map_type(), as the mapping path did),
 * then asks p2pdma_kernel_map_type() for every line in the kernel's order
 * and prints
 *
 *   LOOKUP PROVIDER CLIENT CACHED_BEFORE RETURNED NDMESG
 *
 * CACHED_BEFORE is the map type when the model answered from its cache,
 * UNKNOWN when it had to evaluate (or, in profiles that do not evaluate on a
 * miss, returned UNKNOWN); NDMESG the warnings that evaluation printed.
 * conformance.py compares these lines with the kernel's.
 * Exit status: 0, 2 usage, 3 an error (message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p2pdma/p2pdma.h>

struct line {
	char prov[32], client[32], cached[32], got[32];
};

static int parse_allow(struct p2pdma_policy *pol, const char *spec)
{
	unsigned int vendor, device;
	char flag[32] = "";
	int n = sscanf(spec, "%x:%x:%31s", &vendor, &device, flag);

	if (n < 2 || (n == 3 && strcmp(flag, "same-host-bridge")))
		return -1;
	return p2pdma_policy_add_allow(pol, (uint16_t)vendor, device,
				       n == 3 ? P2PDMA_REQ_SAME_HOST_BRIDGE : 0);
}

/* The function's first memory BAR as a provider (the cache is per function). */
static struct p2pdma_provider *provider_of(struct p2pdma_kernel *k, const struct p2pdma_dev *d)
{
	struct p2pdma_provider *p;
	int bar;

	for (bar = 0; bar < 6; bar++)
		if (!p2pdma_kernel_provider(k, d, bar, &p))
			return p;
	return NULL;
}

int main(int argc, char **argv)
{
	struct p2pdma_ctx *ctx = NULL;
	struct p2pdma_topo *topo = NULL;
	struct p2pdma_policy *pol = NULL;
	struct p2pdma_kernel *k = NULL;
	struct p2pdma_verdict *v = NULL;
	struct line *lines = NULL;
	size_t n = 0, cap = 0, i;
	char buf[512];
	FILE *f;
	int a, rc = 3;

	if (argc < 5) {
		fprintf(stderr, "usage: lookup-replay SYSFS.tar.gz RELEASE CPU LOOKUP.txt [VVVV:DDDD[:same-host-bridge]]...\n");
		return 2;
	}
	f = fopen(argv[4], "r");
	if (!f) {
		perror(argv[4]);
		return 3;
	}
	while (fgets(buf, sizeof(buf), f)) {
		struct line l;

		if (sscanf(buf, "LOOKUP %31s %31s %31s %31s", l.prov, l.client, l.cached, l.got) != 4)
			continue;
		if (n == cap) {
			struct line *nl = realloc(lines, (cap = cap ? 2 * cap : 64) * sizeof(*nl));

			if (!nl) {
				fclose(f);
				free(lines);
				return 3;
			}
			lines = nl;
		}
		lines[n++] = l;
	}
	fclose(f);

	if (p2pdma_ctx_create(&ctx) || p2pdma_verdict_create(&v) ||
	    p2pdma_topo_load_sysfs(ctx, argv[1], &topo) ||
	    p2pdma_policy_create(ctx, &pol) || p2pdma_policy_set_kernel(pol, argv[2]) ||
	    p2pdma_policy_set_cpu(pol, argv[3])) {
		fprintf(stderr, "lookup-replay: %s\n", ctx ? p2pdma_ctx_error(ctx) : "out of memory");
		goto out;
	}
	for (a = 5; a < argc; a++) {
		if (parse_allow(pol, argv[a])) {
			fprintf(stderr, "lookup-replay: bad allow row '%s'\n", argv[a]);
			goto out;
		}
	}
	if (p2pdma_kernel_boot(ctx, topo, pol, &k)) {
		fprintf(stderr, "lookup-replay: %s\n", p2pdma_ctx_error(ctx));
		goto out;
	}
	/* Providers with p2pmem have P2PDMA state, hence a map-type cache. */
	for (i = 0; i < n; i++) {
		const struct p2pdma_topo *kt = p2pdma_kernel_topo(k);
		const struct p2pdma_dev *p = p2pdma_topo_find(kt, lines[i].prov);

		if (!p || !p2pdma_topo_find(kt, lines[i].client)) {
			fprintf(stderr, "lookup-replay: %s or %s not in the capture\n",
				lines[i].prov, lines[i].client);
			goto out;
		}
		if (!p2pdma_kernel_driver(k, p) && p2pdma_kernel_bind(k, p, "nvme")) {
			fprintf(stderr, "lookup-replay: %s\n", p2pdma_ctx_error(ctx));
			goto out;
		}
		if (p2pdma_kernel_p2pdma_init(k, p) || !provider_of(k, p)) {
			fprintf(stderr, "lookup-replay: %s: no provider (%s)\n", lines[i].prov,
				p2pdma_ctx_error(ctx));
			goto out;
		}
	}
	/* What the mapping path evaluated before the lookups. */
	for (i = 0; i < n; i++) {
		const struct p2pdma_topo *kt = p2pdma_kernel_topo(k);

		if (strcmp(lines[i].cached, "UNKNOWN"))
			p2pdma_kernel_map_type(k, provider_of(k, p2pdma_topo_find(kt, lines[i].prov)),
					       p2pdma_topo_find(kt, lines[i].client), NULL);
	}
	for (i = 0; i < n; i++) {
		const struct p2pdma_topo *kt = p2pdma_kernel_topo(k);
		enum p2pdma_map_type t;

		t = p2pdma_kernel_map_type(k, provider_of(k, p2pdma_topo_find(kt, lines[i].prov)),
					   p2pdma_topo_find(kt, lines[i].client), v);
		printf("LOOKUP %s %s %s %s %zu\n", lines[i].prov, lines[i].client,
		       p2pdma_verdict_cached(v) ? p2pdma_map_type_name(t) : "UNKNOWN",
		       p2pdma_map_type_name(t), p2pdma_verdict_num_dmesg(v));
	}
	rc = 0;
out:
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	p2pdma_verdict_destroy(v);
	free(lines);
	return rc;
}
