// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * nvmet-replay: what libp2pdma predicts for the NVMe target cases a real
 * kernel ran (`p2pcopy nvmet` in the conformance guest, nvmet.txt in a
 * golden): the write to the namespace's p2pmem attribute
 * (p2pdma_kernel_enable_store()), the attribute read back
 * (p2pdma_kernel_enable_show()) and the check when the namespace is
 * enabled (p2pdma_nvmet_ns_p2pmem_enable()), on a kernel booted from the
 * guest's captured sysfs tree (where the p2pmem pools and the drivers are).
 *
 *   nvmet-replay SYSFS(.tar.gz) RELEASE CPU NVMET.txt [VVVV:DDDD[:same-host-bridge]]...
 *
 * prints, per NVMET line of the input, the same line with the model's
 * answers and the kernel lines the model logged:
 *
 *   NVMET ID DEVICE_PATH CLIENT BACKING VALUE STORE SHOW ENABLE ENABLED
 *   KMSG ID store|enable TEXT          (TEXT's embedded newlines as separate KMSG lines)
 *
 * The values were written with echo's trailing newline; a failed store
 * leaves the namespace as nvmet creates it (p2pmem off). A "bdev" namespace
 * is a block device whose queue has BLK_FEAT_PCI_P2PDMA when its controller
 * is driven by nvme; "buffered" (buffered_io=1) makes nvmet open it as a file.
 * Exit status: 0, 2 usage, 3 an error (message on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p2pdma/p2pdma.h>

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

/* The kernel lines logged in [@from, @to), one KMSG line per line of text. */
static void kmsg_range(const struct p2pdma_kernel *k, size_t from, size_t to, const char *id,
		       const char *phase)
{
	enum p2pdma_klog_kind kind;
	size_t i;

	for (i = from; i < to; i++) {
		const char *s = p2pdma_kernel_log_entry(k, i, &kind, NULL), *nl;

		if (kind != P2PDMA_KLOG_KERNEL)
			continue;
		for (;;) {
			nl = strchr(s, '\n');
			printf("KMSG %s %s %.*s\n", id, phase, (int)(nl ? nl - s : (long)strlen(s)), s);
			if (!nl)
				break;
			s = nl + 1;
		}
	}
}

int main(int argc, char **argv)
{
	struct p2pdma_ctx *ctx = NULL;
	struct p2pdma_topo *topo = NULL;
	struct p2pdma_policy *pol = NULL;
	struct p2pdma_kernel *k = NULL;
	char buf[512];
	FILE *f = NULL;
	int a, rc = 3;

	if (argc < 5) {
		fprintf(stderr, "usage: nvmet-replay SYSFS RELEASE CPU NVMET.txt [VVVV:DDDD[:same-host-bridge]]...\n");
		return 2;
	}
	if (p2pdma_ctx_create(&ctx) || p2pdma_topo_load_sysfs(ctx, argv[1], &topo) ||
	    p2pdma_policy_create(ctx, &pol) || p2pdma_policy_set_kernel(pol, argv[2]) ||
	    p2pdma_policy_set_cpu(pol, argv[3])) {
		fprintf(stderr, "nvmet-replay: %s\n", ctx ? p2pdma_ctx_error(ctx) : "out of memory");
		goto out;
	}
	for (a = 5; a < argc; a++) {
		if (parse_allow(pol, argv[a])) {
			fprintf(stderr, "nvmet-replay: bad allow row '%s'\n", argv[a]);
			goto out;
		}
	}
	if (p2pdma_kernel_boot(ctx, topo, pol, &k)) {
		fprintf(stderr, "nvmet-replay: %s\n", p2pdma_ctx_error(ctx));
		goto out;
	}
	f = fopen(argv[4], "r");
	if (!f) {
		perror(argv[4]);
		goto out;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char id[16], path[128], client[32], backing[16], value[128], text[160], show[64];
		const struct p2pdma_dev *c, *prov = NULL;
		enum p2pdma_nvmet_backing b;
		bool use = false;
		size_t m0, m1;
		int store, enable;

		if (sscanf(buf, "NVMET %15s %127s %31s %15s %127s", id, path, client, backing, value) != 5)
			continue;
		c = p2pdma_topo_find(p2pdma_kernel_topo(k), client);
		if (!c) {
			fprintf(stderr, "nvmet-replay: %s is not in the capture\n", client);
			goto out;
		}
		if (!strcmp(backing, "buffered"))
			b = P2PDMA_NVMET_FILE;
		else if (!strcmp(backing, "bdev"))
			b = p2pdma_kernel_driver(k, c) && !strcmp(p2pdma_kernel_driver(k, c), "nvme") ?
				P2PDMA_NVMET_BLOCK_P2PDMA : P2PDMA_NVMET_BLOCK;
		else {
			fprintf(stderr, "nvmet-replay: unknown backing '%s'\n", backing);
			goto out;
		}
		snprintf(text, sizeof(text), "%s\n", value);
		m0 = p2pdma_kernel_log_count(k);
		store = p2pdma_kernel_enable_store(k, text, &prov, &use);
		if (store) {
			use = false;
			prov = NULL;
		}
		if (p2pdma_kernel_enable_show(k, prov, use, show, sizeof(show)) < 0) {
			fprintf(stderr, "nvmet-replay: %s\n", p2pdma_ctx_error(ctx));
			goto out;
		}
		show[strcspn(show, "\n")] = '\0';
		m1 = p2pdma_kernel_log_count(k);
		enable = p2pdma_nvmet_ns_p2pmem_enable(k, use, prov, b, c, path, NULL);
		if (enable == -ENOMEM) {
			fprintf(stderr, "nvmet-replay: out of memory\n");
			goto out;
		}
		printf("NVMET %s %s %s %s %s %s %s %s %d\n", id, path, client, backing, value,
		       store ? p2pdma_errno_name(store) : "ok", show,
		       enable ? p2pdma_errno_name(enable) : "ok", !enable);
		kmsg_range(k, m0, m1, id, "store");
		kmsg_range(k, m1, p2pdma_kernel_log_count(k), id, "enable");
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	return rc;
}
