// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-nvmet.c - pci_p2pdma_enable_store()/_show() and nvmet_p2pmem_ns_enable() on the modelled kernel (doc/kernel-model.md §1.5, §6) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fabric.h"
#include "kernel-private.h"

#define dev(t, bdf) fabric_dev((t), (bdf))

static struct p2pdma_kernel *boot(const struct p2pdma_topo *t)
{
	struct p2pdma_policy *pol = fabric_policy(test_ctx, NULL);
	struct p2pdma_kernel *k;

	assert_int_equal(p2pdma_kernel_boot(test_ctx, t, pol, &k), 0);
	p2pdma_policy_destroy(pol);
	return k;
}

/* The kernel lines logged since entry @from, joined with '|'. */
static const char *lines_since(const struct p2pdma_kernel *k, size_t from)
{
	static char buf[4096];
	enum p2pdma_klog_kind kind;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = from; i < p2pdma_kernel_log_count(k); i++) {
		const char *s = p2pdma_kernel_log_entry(k, i, &kind, NULL);

		if (kind != P2PDMA_KLOG_KERNEL)
			continue;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "|" : "", s);
		assert_true(n < sizeof(buf));
	}
	return buf;
}

static void test_enable_store(void **state)
{
	struct p2pdma_topo *t = fabric_build(test_ctx, 0x1237, 0x1000);
	struct p2pdma_kernel *k = boot(t);
	const struct p2pdma_dev *p = (const void *)1;
	bool use = false;
	size_t m;

	(void)state;
	/* A function name selects it (one trailing newline ignored). */
	m = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_kernel_enable_store(k, "0000:08:00.0\n", &p, &use), 0);
	assert_true(use);
	assert_string_equal(p2pdma_dev_name(p), "0000:08:00.0");
	use = false;
	assert_int_equal(p2pdma_kernel_enable_store(k, "0000:03:00.1", &p, &use), 0);
	assert_true(use);
	assert_string_equal(p2pdma_dev_name(p), "0000:03:00.1");
	assert_string_equal(lines_since(k, m), "");
	/* ... but it must have published p2pmem; the text is printed as written. */
	assert_int_equal(p2pdma_kernel_enable_store(k, "0000:06:00.0\n", &p, &use), -ENODEV);
	assert_null(p);
	assert_string_equal(lines_since(k, m),
			    "pci 0000:06:00.0: PCI device has no peer-to-peer memory: 0000:06:00.0\n");
	p2pdma_kernel_publish(k, dev(t, "03:00.0"), false);
	m = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_kernel_enable_store(k, "0000:03:00.0", &p, &use), -ENODEV);
	assert_string_equal(lines_since(k, m),
			    "nvme 0000:03:00.0: PCI device has no peer-to-peer memory: 0000:03:00.0");
	p2pdma_kernel_publish(k, dev(t, "03:00.0"), true);
	/* Yes and no: one-character 0/1 and kstrtobool()'s first letters. */
	m = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_kernel_enable_store(k, "1\n", &p, &use), 0);
	assert_true(use);
	assert_null(p);
	assert_int_equal(p2pdma_kernel_enable_store(k, "0", &p, &use), 0);
	assert_false(use);
	assert_int_equal(p2pdma_kernel_enable_store(k, "yes\n", &p, &use), 0);
	assert_true(use);
	assert_int_equal(p2pdma_kernel_enable_store(k, "off\n", &p, &use), 0);
	assert_false(use);
	assert_int_equal(p2pdma_kernel_enable_store(k, "On", &p, &use), 0);
	assert_true(use);
	assert_int_equal(p2pdma_kernel_enable_store(k, "F\n", &p, &use), 0);
	assert_false(use);
	assert_string_equal(lines_since(k, m), "");
	/* Anything else: no such device, the text up to its newline. A
	 * short BDF starts with '0' and a printable character: not "false". */
	use = true;
	assert_int_equal(p2pdma_kernel_enable_store(k, "08:00.0\n", &p, &use), -ENODEV);
	assert_true(use);	/* unchanged */
	assert_int_equal(p2pdma_kernel_enable_store(k, "10\n", &p, &use), -ENODEV);
	assert_int_equal(p2pdma_kernel_enable_store(k, "maybe\n", &p, &use), -ENODEV);
	assert_int_equal(p2pdma_kernel_enable_store(k, "o\n", &p, &use), -ENODEV);
	assert_int_equal(p2pdma_kernel_enable_store(k, "0000:7f:00.0\n", &p, &use), -ENODEV);
	assert_string_equal(lines_since(k, m),
			    "pci-p2pdma: No such PCI device: 08:00.0|pci-p2pdma: No such PCI device: 10|"
			    "pci-p2pdma: No such PCI device: maybe|pci-p2pdma: No such PCI device: o|"
			    "pci-p2pdma: No such PCI device: 0000:7f:00.0");
	assert_int_equal(p2pdma_kernel_enable_store(k, NULL, &p, &use), -EINVAL);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

static void test_enable_show(void **state)
{
	struct p2pdma_topo *t = fabric_build(test_ctx, 0x1237, 0x1000);
	struct p2pdma_topo *other = fabric_build(test_ctx, 0x1237, 0x1000);
	struct p2pdma_kernel *k = boot(t);
	char buf[32];

	(void)state;
	assert_int_equal(p2pdma_kernel_enable_show(k, NULL, false, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "0\n");
	assert_int_equal(p2pdma_kernel_enable_show(k, NULL, true, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "1\n");
	assert_int_equal(p2pdma_kernel_enable_show(k, dev(t, "08:00.0"), true, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "0000:08:00.0\n");
	assert_int_equal(p2pdma_kernel_enable_show(k, dev(t, "08:00.0"), true, buf, 13), -ENOSPC);
	assert_int_equal(p2pdma_kernel_enable_show(k, dev(other, "08:00.0"), true, buf, sizeof(buf)), -EINVAL);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
	p2pdma_topo_destroy(other);
}

static void test_ns_enable(void **state)
{
	struct p2pdma_topo *t = fabric_build(test_ctx, 0x1237, 0x1000);
	struct p2pdma_topo *other = fabric_build(test_ctx, 0x1237, 0x1000);
	struct p2pdma_kernel *k = boot(t);
	const struct p2pdma_dev *s = dev(t, "08:00.0"), *c = dev(t, "06:00.0"), *x = dev(t, "10:00.0");
	const struct p2pdma_dev *pick = (const void *)1;
	const char *path = "/dev/nvme1n1";
	size_t m;

	(void)state;
	m = p2pdma_kernel_log_count(k);
	/* p2pmem off: nothing is checked, whatever backs the namespace. */
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, false, NULL, P2PDMA_NVMET_FILE, NULL, path, &pick), 0);
	assert_null(pick);
	assert_string_equal(lines_since(k, m), "");
	/* The backing first. */
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, s, P2PDMA_NVMET_FILE, c, "/tmp/f", NULL), -EINVAL);
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, s, P2PDMA_NVMET_BLOCK, c, path, NULL), -EINVAL);
	assert_string_equal(lines_since(k, m),
			    "nvmet: peer-to-peer DMA is not supported by non-block device namespaces|"
			    "nvmet: peer-to-peer DMA is not supported by the driver of /dev/nvme1n1");
	/* A named provider: pci_p2pdma_distance(), verbose. */
	m = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, s, P2PDMA_NVMET_BLOCK_P2PDMA, c, path, &pick), 0);
	assert_null(pick);
	assert_string_equal(lines_since(k, m), "");
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, s, P2PDMA_NVMET_BLOCK_P2PDMA, x, path, NULL), -EINVAL);
	assert_non_null(strstr(lines_since(k, m),
			       "pci 0000:10:00.0: cannot be used for peer-to-peer DMA as the client and provider (0000:08:00.0) do not share an upstream bridge or whitelisted host bridge"));
	/* ... each evaluation prints again (the distance is computed, not looked up). */
	m = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, s, P2PDMA_NVMET_BLOCK_P2PDMA, x, path, NULL), -EINVAL);
	assert_non_null(strstr(lines_since(k, m), "cannot be used for peer-to-peer DMA"));
	/* Any provider: pci_p2pmem_find(), silent; the pick is one of the closest. */
	m = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, NULL, P2PDMA_NVMET_BLOCK_P2PDMA, c, path, &pick), 0);
	assert_non_null(pick);
	assert_true(!strcmp(p2pdma_dev_name(pick), "0000:03:00.0") || !strcmp(p2pdma_dev_name(pick), "0000:03:00.1") ||
		    !strcmp(p2pdma_dev_name(pick), "0000:08:00.0"));
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, NULL, P2PDMA_NVMET_BLOCK_P2PDMA, s, path, &pick), 0);
	assert_ptr_equal(pick, p2pdma_topo_find(p2pdma_kernel_topo(k), "0000:08:00.0"));
	assert_string_equal(lines_since(k, m), "");
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, NULL, P2PDMA_NVMET_BLOCK_P2PDMA, x, path, &pick), -EINVAL);
	assert_null(pick);
	assert_string_equal(lines_since(k, m), "nvmet: no peer-to-peer memory is available for /dev/nvme1n1");
	/* find filled the caches as the kernel's does */
	assert_int_equal(p2pdma_kernel_cache_lookup(k, s, x), P2PDMA_MAP_NOT_SUPPORTED);
	/* A disk without a PCI ancestor. */
	m = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, NULL, P2PDMA_NVMET_BLOCK_P2PDMA, NULL, path, NULL), -EINVAL);
	assert_string_equal(lines_since(k, m), "nvmet: no peer-to-peer memory is available for /dev/nvme1n1");
	m = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, s, P2PDMA_NVMET_BLOCK_P2PDMA, NULL, path, NULL), -EINVAL);
	assert_string_equal(lines_since(k, m), "");
	assert_int_not_equal(p2pdma_kernel_log_count(k), m);	/* a note instead */
	/* Functions of another machine. */
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, dev(other, "08:00.0"), P2PDMA_NVMET_BLOCK_P2PDMA, c, path, NULL), -EINVAL);
	assert_int_equal(p2pdma_nvmet_ns_p2pmem_enable(k, true, s, P2PDMA_NVMET_BLOCK_P2PDMA, dev(other, "06:00.0"), path, NULL), -EINVAL);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
	p2pdma_topo_destroy(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enable_store),
		cmocka_unit_test(test_enable_show),
		cmocka_unit_test(test_ns_enable),
	};

	return cmocka_run_group_tests(tests, fixture_ctx_setup, fixture_ctx_teardown);
}
