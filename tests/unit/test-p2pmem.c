// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-p2pmem.c - the struct-page layer: add_resource, the pool, sysfs, GUP, O_DIRECT, teardown (doc/kernel-model.md §1.5, §3.2) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "p2pmem-private.h"

static struct p2pdma_ctx *ctx;

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define KVA(phys) (P2PDMA_KVA_BASE + (phys))

/*
 * The bundled nvmeof-target machine: 1a:00.0 and 1b:00.0 have a 512 MiB
 * CMB at BAR 4 (0x200020000000, 0x200040000000) behind one switch with
 * the NIC 19:00.0 and the SSD 1c:00.0; 31:00.0 and 32:00.0 (CMB at
 * 0x201000000000) sit on another IIO stack.
 */
#define CMB0 0x200020000000ULL
#define CMB1 0x200040000000ULL
#define CMB4 0x201000000000ULL

static struct p2pdma_kernel *boot_example(const char *kernel, struct p2pdma_topo **tp)
{
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;

	assert_int_equal(p2pdma_topo_load_example(ctx, "nvmeof-target", tp), 0);
	assert_int_equal(p2pdma_policy_from_machine(ctx, *tp, &pol), 0);
	if (kernel)
		assert_int_equal(p2pdma_policy_set_kernel(pol, kernel), 0);
	assert_int_equal(p2pdma_kernel_boot(ctx, *tp, pol, &k), 0);
	p2pdma_policy_destroy(pol);
	return k;
}

static const struct p2pdma_dev *dev(const struct p2pdma_topo *t, const char *bdf)
{
	const struct p2pdma_dev *d = p2pdma_topo_find(t, bdf);

	if (!d)
		fail_msg("no %s", bdf);
	return d;
}

static size_t count_log(const struct p2pdma_kernel *k, size_t from, const char *text)
{
	size_t i, n = 0;

	for (i = from; i < p2pdma_kernel_log_count(k); i++)
		n += strstr(p2pdma_kernel_log_entry(k, i, NULL, NULL), text) != NULL;
	return n;
}

static uint64_t avail(const struct p2pdma_kernel *k, const struct p2pdma_dev *d)
{
	uint64_t a;

	p2pdma_kernel_p2pmem_size(k, d, &a);
	return a;
}

/* --- the allocator against a plain first-fit bitmap --- */

static int64_t naive_find(const uint8_t *used, uint64_t n, uint64_t want)
{
	uint64_t i, run = 0;

	for (i = 0; i < n; i++) {
		run = used[i] ? 0 : run + 1;
		if (run == want)
			return (int64_t)(i + 1 - want);
	}
	return -1;
}

static void test_ffmap_reference(void **state)
{
	static const uint64_t sizes[] = { 1, 63, 64, 65, 130, 1000, 4099 };
	size_t s;

	(void)state;
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t n = sizes[s], i, x = 12345 + s;
		struct p2pdma_ffmap m;
		uint8_t *used = calloc(n, 1);
		int step;

		assert_non_null(used);
		assert_int_equal(p2pdma_ffmap_init(&m, ctx, n), 0);
		for (step = 0; step < 4000; step++) {
			uint64_t want, largest = 0, run = 0, nfree = 0;
			int64_t got, ref;

			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			want = 1 + (x >> 33) % (n < 70 ? n : 70);
			if ((x >> 20) & 1) {
				got = p2pdma_ffmap_find(&m, want);
				ref = naive_find(used, n, want);
				assert_int_equal(got, ref);
				if (got >= 0) {
					p2pdma_ffmap_set(&m, (uint64_t)got, want, false);
					memset(used + got, 1, want);
				}
			} else {
				uint64_t start = (x >> 40) % n, len = want;

				if (start + len > n)
					len = n - start;
				p2pdma_ffmap_set(&m, start, len, true);
				memset(used + start, 0, len);
			}
			for (i = 0; i < n; i++) {
				run = used[i] ? 0 : run + 1;
				largest = run > largest ? run : largest;
				nfree += !used[i];
				assert_int_equal(p2pdma_ffmap_test(&m, i), !used[i]);
			}
			assert_int_equal(p2pdma_ffmap_largest(&m), largest);
			assert_int_equal(m.nfree, nfree);
			assert_int_equal(p2pdma_ffmap_count_free(&m, 0, n), nfree);
		}
		assert_int_equal(p2pdma_ffmap_find(&m, 0), -1);
		assert_int_equal(p2pdma_ffmap_find(&m, n + 1), -1);
		p2pdma_ffmap_fini(&m);
		free(used);
	}
}

/* --- pci_p2pdma_add_resource(), check by check --- */

static const char *small_json =
	"{ \"p2pdma_topology\": 1, \"machine\": { \"arch\": \"x86_64\" }, \"devices\": ["
	"{ \"bdf\": \"00:00.0\", \"vendor\": \"0x8086\", \"device\": \"0x2020\", \"class\": \"0x060000\" },"
	"{ \"bdf\": \"00:01.0\", \"vendor\": \"0x8086\", \"device\": \"0x2030\", \"class\": \"0x060400\","
	"  \"pcie_type\": \"root_port\", \"secondary_bus\": 1, \"subordinate_bus\": 1,"
	"  \"windows\": { \"mem\": { \"base\": \"0x80000000\", \"limit\": \"0x8fffffff\" },"
	"                \"io\": { \"base\": \"0x1000\", \"limit\": \"0x1fff\" } } },"
	"{ \"bdf\": \"01:00.0\", \"vendor\": \"0x1de5\", \"device\": \"0x1000\", \"class\": \"0x010802\","
	"  \"pcie_type\": \"endpoint\", \"driver\": \"nvme\", \"bars\": ["
	"   { \"index\": 0, \"bus\": \"0x80000000\", \"cpu\": \"0x4080000000\", \"size\": \"0x8000000\" },"
	"   { \"index\": 2, \"bus\": \"0x88000000\", \"cpu\": \"0x4088000000\", \"size\": \"0x80000\" },"
	"   { \"index\": 4, \"bus\": \"0x1000\", \"size\": \"0x100\", \"type\": \"io\" } ] } ] }";

static struct p2pdma_kernel *boot_small(struct p2pdma_topo **tp)
{
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;

	*tp = fixture_json(ctx, small_json);
	assert_int_equal(p2pdma_policy_create(ctx, &pol), 0);
	assert_int_equal(p2pdma_kernel_boot(ctx, *tp, pol, &k), 0);
	p2pdma_policy_destroy(pol);
	return k;
}

static void test_add_resource(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_small(&t);
	const struct p2pdma_dev *d = dev(t, "01:00.0");
	struct p2pdma_pool_info pi;
	struct p2pdma_range_info ri;
	char buf[64];
	size_t mark;

	(void)state;
	/* 1-4: the BAR checks, before any state exists. */
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 4, 0, 0), -EINVAL);	/* I/O */
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 1, 0, 0), -EINVAL);	/* none */
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 7, 0, 0), -EINVAL);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 0, 128 * MiB), -EINVAL);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 128 * MiB, 2 * MiB), -EINVAL);
	assert_int_equal(p2pdma_p2pmem_pool_get_info(k, d, &pi, sizeof(pi)), -ENOENT);
	/* 8: memremap_pages(): the sub-section rule, start then size. */
	mark = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 4 * MiB, 1 * MiB), -EINVAL);
	assert_int_equal(count_log(k, mark, "Misaligned __add_pages start: 0x4080100 end: 0x40804ff"), 1);
	assert_int_equal(count_log(k, mark, "WARNING: CPU: 0 PID: 1000 at mm/memory_hotplug.c __add_pages"), 1);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 3 * MiB, 0), -EINVAL);
	/* The pool and its sysfs group were made before the failure (step 5). */
	assert_int_equal(p2pdma_p2pmem_pool_get_info(k, d, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.size, 0);
	assert_int_equal(p2pdma_p2pmem_sysfs_read(k, d, "size", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "0\n");
	/* A 512 KiB BAR can never be p2pmem (the nvme-pci CMB case). */
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 2, 0, 0), -EINVAL);
	/* System RAM where the BAR is: refused, WARN_ONCE. */
	assert_int_equal(p2pdma_kernel_add_system_ram(k, 0x4080000000ULL + 64 * MiB, 64 * MiB), 0);
	mark = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 0, 0), -ENXIO);
	assert_int_equal(count_log(k, mark, "attempted on mixed region 0x4080000000-0x4087ffffff"), 1);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 2 * MiB, 64 * MiB), -ENXIO);
	assert_int_equal(count_log(k, mark, "attempted on"), 1);	/* once */
	/* Two good ranges in one pool; a third overlapping one is a conflict. */
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 4 * MiB, 0), 0);
	assert_int_equal(count_log(k, mark, "nvme 0000:01:00.0: added peer-to-peer DMA memory 0x4080000000-0x40803fffff"), 1);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 2 * MiB, 8 * MiB), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 2 * MiB, 2 * MiB), -ENOMEM);
	assert_int_equal(count_log(k, mark, "Conflicting mapping in same section"), 1);
	assert_int_equal(p2pdma_p2pmem_pool_get_info(k, d, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.nranges, 2);
	assert_int_equal(pi.size, 6 * MiB);
	assert_int_equal(pi.available, 6 * MiB);
	assert_int_equal(p2pdma_p2pmem_range_get_info(k, d, 1, &ri, sizeof(ri)), 0);
	assert_int_equal(ri.cpu, 0x4080800000ULL);
	assert_int_equal(ri.bus, 0x80800000ULL);
	assert_int_equal(p2pdma_p2pmem_range_get_info(k, d, 2, &ri, sizeof(ri)), -ENOENT);
	assert_int_equal(p2pdma_p2pmem_sysfs_read(k, d, "published", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "0\n");
	assert_int_equal(p2pdma_p2pmem_sysfs_read(k, d, "nope", buf, sizeof(buf)), -EINVAL);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* Above MAX_PHYSMEM_BITS: mhp_range_allowed() refuses. */
static void test_add_resource_high(void **state)
{
	const char *json =
		"{ \"p2pdma_topology\": 1, \"machine\": { \"arch\": \"x86_64\" }, \"devices\": ["
		"{ \"bdf\": \"00:00.0\", \"vendor\": \"0x8086\", \"device\": \"0x2020\", \"class\": \"0x060000\" },"
		"{ \"bdf\": \"00:01.0\", \"vendor\": \"0x10de\", \"device\": \"0x2330\", \"class\": \"0x030200\","
		"  \"pcie_type\": \"rc_endpoint\", \"driver\": \"nvidia\", \"bars\": ["
		"   { \"index\": 0, \"bus\": \"0x500000000000\", \"size\": \"0x40000000\", \"64bit\": true } ] } ] }";
	struct p2pdma_topo *t = fixture_json(ctx, json);
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;

	(void)state;
	assert_int_equal(p2pdma_policy_create(ctx, &pol), 0);
	assert_int_equal(p2pdma_kernel_boot(ctx, t, pol, &k), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, dev(t, "00:01.0"), 0, 0, 0), -EINVAL);
	assert_int_equal(count_log(k, 0, "exceeds maximum addressable range"), 1);
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
}

/* --- alloc / free / virt_to_bus / alloc_sgl --- */

static void test_alloc_free(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_small(&t);
	const struct p2pdma_dev *d = dev(t, "01:00.0");
	uint64_t a, b, c, e, bus;
	struct p2pdma_sgl *sg;
	unsigned int nents = 0;
	uint32_t len;

	(void)state;
	/* No P2PDMA state, then state without a pool. */
	assert_int_equal(p2pdma_p2pmem_alloc(k, d, 4096, NULL, &a), -ENODEV);
	assert_int_equal(p2pdma_kernel_p2pdma_init(k, d), 0);
	assert_int_equal(p2pdma_p2pmem_alloc(k, d, 4096, NULL, &a), -ENODEV);
	assert_int_equal(p2pdma_p2pmem_free(k, d, KVA(0x4080000000ULL), 4096), -ENODEV);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 2 * MiB, 0), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, d, 0, 2 * MiB, 4 * MiB), 0);
	/* Newest range first, first fit inside, page granular. */
	assert_int_equal(p2pdma_p2pmem_alloc(k, d, 0, NULL, &a), -EINVAL);
	assert_int_equal(p2pdma_p2pmem_alloc(k, d, 100, "nvmet", &a), 0);
	assert_int_equal(a, KVA(0x4080400000ULL));
	assert_int_equal(p2pdma_p2pmem_alloc(k, d, 8192, "nvmet", &b), 0);
	assert_int_equal(b, a + 4096);
	assert_int_equal(avail(k, d), 4 * MiB - 3 * 4096);
	/* The pool's "physical" address is the bus address (bus_offset applied). */
	bus = p2pdma_p2pmem_virt_to_bus(k, d, b);
	assert_int_equal(bus, 0x80401000ULL);
	assert_int_equal(p2pdma_p2pmem_virt_to_bus(k, d, 0), 0);
	assert_int_equal(p2pdma_p2pmem_virt_to_bus(k, d, KVA(0x1000)), ~0ULL);
	assert_int_equal(p2pdma_p2pmem_virt_to_phys(k, b), 0x4080401000ULL);
	/* When the newest range is full, the older one serves. */
	assert_int_equal(p2pdma_p2pmem_alloc(k, d, 2 * MiB - 3 * 4096, "nvmet", &c), 0);
	assert_int_equal(p2pdma_p2pmem_alloc(k, d, 4096, "nvmet", &e), 0);
	assert_int_equal(e, KVA(0x4080000000ULL));
	assert_int_equal(p2pdma_p2pmem_alloc(k, d, 2 * MiB, "nvmet", &bus), -ENOMEM);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "largest"));
	/* Bad frees are refused and change nothing. */
	assert_int_equal(p2pdma_p2pmem_free(k, d, b, 4096), -EINVAL);	/* size */
	assert_int_equal(p2pdma_p2pmem_free(k, d, b + 4096, 4096), -EINVAL);	/* inside */
	assert_int_equal(p2pdma_p2pmem_free(k, d, KVA(0x4080002000ULL), 4096), -EINVAL);	/* free page */
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "double free"));
	assert_int_equal(p2pdma_p2pmem_free(k, d, KVA(0x10000), 4096), -EINVAL);
	assert_int_equal(avail(k, d), 2 * MiB - 4096);
	assert_int_equal(p2pdma_p2pmem_free(k, d, b, 8192), 0);
	assert_int_equal(p2pdma_p2pmem_free(k, d, b, 8192), -EINVAL);		/* double free */
	assert_int_equal(p2pdma_p2pmem_free(k, d, a, 100), 0);
	assert_int_equal(p2pdma_p2pmem_free(k, d, c, 2 * MiB - 3 * 4096), 0);
	assert_int_equal(p2pdma_p2pmem_free(k, d, e, 4096), 0);
	assert_int_equal(avail(k, d), 4 * MiB);
	/* alloc_sgl: one entry over one contiguous allocation. */
	assert_int_equal(p2pdma_p2pmem_alloc_sgl(k, d, 3 * 4096, &sg, &nents), 0);
	assert_int_equal(nents, 1);
	assert_int_equal(p2pdma_sgl_nents(sg), 1);
	assert_int_equal(p2pdma_sgl_entry(sg, 0, &a, &len), 0x4080400000ULL);
	assert_int_equal(len, 3 * 4096);
	assert_int_equal(p2pdma_sgl_entry(sg, 1, NULL, NULL), 0);
	assert_int_equal(avail(k, d), 4 * MiB - 3 * 4096);
	assert_int_equal(p2pdma_p2pmem_free_sgl(k, d, sg), 0);
	assert_int_equal(avail(k, d), 4 * MiB);
	assert_int_equal(p2pdma_p2pmem_alloc_sgl(k, d, 8 * MiB, &sg, &nents), -ENOMEM);
	assert_null(sg);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* Freeing into the wrong pool, and find_many through real pools. */
static void test_two_pools(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_example(NULL, &t);
	const struct p2pdma_dev *p0 = dev(t, "0000:1a:00.0"), *p1 = dev(t, "0000:1b:00.0");
	const struct p2pdma_dev *p4 = dev(t, "0000:32:00.0");
	const struct p2pdma_dev *clients[2] = { dev(t, "0000:19:00.0"), dev(t, "0000:1c:00.0") };
	struct p2pdma_find_result *res;
	const struct p2pdma_dev *pick;
	uint64_t a;
	int seen = 0, i;

	(void)state;
	assert_int_equal(p2pdma_kernel_add_resource(k, p0, 4, 0, 0), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, p1, 4, 0, 0), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, p4, 4, 0, 0), 0);
	assert_int_equal(p2pdma_p2pmem_alloc(k, p0, 4096, NULL, &a), 0);
	assert_int_equal(a, KVA(CMB0));
	assert_int_equal(p2pdma_p2pmem_free(k, p1, a, 4096), -EINVAL);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "belongs to the pool of 0000:1a:00.0"));
	assert_int_equal(p2pdma_p2pmem_free(k, p0, a, 4096), 0);
	/* Unpublished memory is private: find_many sees none. */
	assert_int_equal(p2pdma_kernel_find_many(k, clients, 2, NULL, &pick), -ENODEV);
	p2pdma_kernel_publish(k, p0, true);
	p2pdma_kernel_publish(k, p1, true);
	p2pdma_kernel_publish(k, p4, true);
	assert_int_equal(p2pdma_find_result_create(&res), 0);
	/* 1a and 1b tie at distance 8 (both BUS_ADDR, 4 + 4); 32 is farther. */
	for (i = 0; i < 64; i++) {
		assert_int_equal(p2pdma_kernel_find_many(k, clients, 2, res, &pick), 0);
		assert_int_equal(p2pdma_find_result_num_candidates(res), 2);
		assert_int_equal(p2pdma_find_result_distance(res), 8);
		seen |= pick == p2pdma_topo_find(p2pdma_kernel_topo(k), "0000:1a:00.0") ? 1 : 2;
	}
	assert_int_equal(seen, 3);	/* random, never "the first" */
	p2pdma_find_result_destroy(res);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* --- sysfs and p2pmem/allocate --- */

static void test_allocate_mmap(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_example("6.12", &t);
	const struct p2pdma_dev *p = dev(t, "0000:1a:00.0");
	struct p2pdma_page_info pi;
	uint64_t u1, u2, u3;
	char buf[64];
	size_t mark;

	(void)state;
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 4096, 0, P2PDMA_MMAP_SHARED, &u1), -ENOENT);
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 0, 0), 0);
	p2pdma_kernel_publish(k, p, true);
	assert_int_equal(p2pdma_p2pmem_sysfs_read(k, p, "size", buf, sizeof(buf)), 10);
	assert_string_equal(buf, "536870912\n");
	assert_int_equal(p2pdma_p2pmem_sysfs_read(k, p, "published", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "1\n");
	assert_int_equal(p2pdma_p2pmem_sysfs_read(k, p, "allocate", buf, sizeof(buf)), -EINVAL);
	/* The rules in the kernel's order: private, offset, fit. */
	p2pdma_user_set_comm(k, "p2pmem-test", 4242);
	mark = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 4096, 4096, 0, &u1), -EINVAL);
	assert_int_equal(count_log(k, mark, "nvme 0000:1a:00.0: p2pmem-test: fail, attempted private mapping"), 1);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 4096, 4096, P2PDMA_MMAP_SHARED, &u1), -EINVAL);
	assert_int_equal(count_log(k, mark, "p2pmem-test: fail, attempted mapping with non-zero offset"), 1);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 4096, 100, P2PDMA_MMAP_SHARED, &u1), -EINVAL);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 0, 0, P2PDMA_MMAP_SHARED, &u1), -EINVAL);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 1 * GiB, 0, P2PDMA_MMAP_SHARED, &u1), -ENOMEM);
	/* Each mmap is its own contiguous allocation; a page is refcount 1. */
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 64 << 10, 0, P2PDMA_MMAP_SHARED, &u1), 0);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 5000, 0, P2PDMA_MMAP_SHARED, &u2), 0);
	assert_true(u2 >= u1 + (64 << 10));
	assert_int_equal(avail(k, p), 512 * MiB - (64 << 10) - 8192);
	assert_int_equal(p2pdma_page_get_info(k, CMB0 + (64 << 10), &pi, sizeof(pi)), 0);
	assert_int_equal(pi.kind, P2PDMA_PAGE_P2PDMA);
	assert_int_equal(pi.state, P2PDMA_PAGE_USER);
	assert_int_equal(pi.refcount, 1);
	assert_ptr_equal(pi.owner, p2pdma_topo_find(p2pdma_kernel_topo(k), "0000:1a:00.0"));
	assert_int_equal(p2pdma_page_get_info(k, CMB0 + 1 * MiB, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.state, P2PDMA_PAGE_FREE);
	/* Pages go back one by one on munmap, partial unmaps included. */
	assert_int_equal(p2pdma_user_munmap(k, u1 + 4096, 4096), 0);
	assert_int_equal(avail(k, p), 512 * MiB - (60 << 10) - 8192);
	assert_int_equal(p2pdma_user_munmap(k, u1, 64 << 10), 0);
	assert_int_equal(p2pdma_user_munmap(k, u1, 64 << 10), 0);	/* nothing left there */
	assert_int_equal(p2pdma_user_munmap(k, u1 + 1, 4096), -EINVAL);
	assert_int_equal(avail(k, p), 512 * MiB - 8192);
	/* The freed space is reused, first fit. */
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 4096, 0, P2PDMA_MMAP_SHARED, &u3), 0);
	assert_int_equal(p2pdma_page_get_info(k, CMB0, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.state, P2PDMA_PAGE_USER);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
	/* Before 6.2 there is no allocate file. */
	k = boot_example("6.1", &t);
	p = dev(t, "0000:1a:00.0");
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 0, 0), 0);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 4096, 0, P2PDMA_MMAP_SHARED, &u1), -ENOENT);
	assert_int_equal(p2pdma_p2pmem_sysfs_read(k, p, "allocate", buf, sizeof(buf)), -ENOENT);
	{
		struct p2pdma_pool_info in;

		assert_int_equal(p2pdma_p2pmem_pool_get_info(k, p, &in, sizeof(in)), 0);
		assert_false(in.allocate_present);
	}
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* --- GUP --- */

static void test_gup(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_example(NULL, &t);
	const struct p2pdma_dev *p = dev(t, "0000:1a:00.0");
	struct p2pdma_page_info pi;
	uint64_t u, anon, pfns[4], more[2];
	size_t mark;

	(void)state;
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 0, 0), 0);
	/* Ordinary memory right before the P2P mapping. */
	assert_int_equal(p2pdma_user_mmap_anon(k, 8192, &anon), 0);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 4 * 4096, 0, P2PDMA_MMAP_SHARED, &u), 0);
	assert_int_equal(u, anon + 8192);
	/* Without FOLL_PCI_P2PDMA: -EREMOTEIO. */
	assert_int_equal(p2pdma_user_pin(k, u, 4, P2PDMA_FOLL_WRITE, pfns), -EREMOTEIO);
	assert_int_equal(p2pdma_user_pin(k, u, 4, P2PDMA_FOLL_PCI_P2PDMA, pfns), 4);
	assert_int_equal(pfns[0], CMB0 >> 12);
	assert_int_equal(p2pdma_page_get_info(k, CMB0, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.refcount, 1 + 1024);
	assert_int_equal(pi.pins, 1);
	/* FOLL_LONGTERM with FOLL_PCI_P2PDMA: WARN once, -EINVAL every time. */
	mark = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_user_pin(k, u, 1, P2PDMA_FOLL_LONGTERM | P2PDMA_FOLL_PCI_P2PDMA, more), -EINVAL);
	assert_int_equal(p2pdma_user_pin(k, anon, 1, P2PDMA_FOLL_LONGTERM | P2PDMA_FOLL_PCI_P2PDMA, more), -EINVAL);
	assert_int_equal(count_log(k, mark, "at mm/gup.c is_valid_gup_args"), 1);
	/* FOLL_LONGTERM alone on a P2P page: the page check refuses it. */
	assert_int_equal(p2pdma_user_pin(k, u, 1, P2PDMA_FOLL_LONGTERM, more), -EREMOTEIO);
	/* Ordinary memory pins either way; a walk into a P2P page stops short. */
	assert_int_equal(p2pdma_user_pin(k, anon, 2, P2PDMA_FOLL_LONGTERM, more), 2);
	assert_int_equal(p2pdma_page_get_info(k, more[0] << 12, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.kind, P2PDMA_PAGE_RAM);
	assert_int_equal(p2pdma_user_unpin(k, more, 2), 0);
	assert_int_equal(p2pdma_user_pin(k, anon + 4096, 2, 0, more), 1);
	assert_int_equal(p2pdma_user_unpin(k, more, 1), 0);
	assert_int_equal(p2pdma_user_pin(k, anon - 4096, 2, 0, more), -EFAULT);
	assert_int_equal(p2pdma_user_pin(k, u + 3 * 4096, 2, P2PDMA_FOLL_PCI_P2PDMA, more), 1);
	assert_int_equal(p2pdma_user_unpin(k, more, 1), 0);
	/* An unmapped page stays out of the pool while pinned. */
	assert_int_equal(p2pdma_user_munmap(k, u, 4 * 4096), 0);
	assert_int_equal(avail(k, p), 512 * MiB - 4 * 4096);
	assert_int_equal(p2pdma_page_get_info(k, CMB0, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.state, P2PDMA_PAGE_PINNED);
	assert_int_equal(pi.refcount, 1024);
	assert_int_equal(p2pdma_user_unpin(k, pfns, 4), 0);
	assert_int_equal(avail(k, p), 512 * MiB);
	assert_int_equal(p2pdma_user_unpin(k, pfns, 1), -EINVAL);	/* not pinned */
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* --- map state and O_DIRECT --- */

static void test_map_state(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_example(NULL, &t);
	const struct p2pdma_dev *p0 = dev(t, "0000:1a:00.0"), *p1 = dev(t, "0000:1b:00.0");
	const struct p2pdma_dev *nic = dev(t, "0000:19:00.0");
	struct p2pdma_provider *prov;
	struct p2pdma_map_state st = { NULL, P2PDMA_MAP_UNKNOWN };
	size_t before;

	(void)state;
	assert_int_equal(p2pdma_kernel_add_resource(k, p0, 4, 0, 0), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, p1, 4, 0, 0), 0);
	assert_int_equal(p2pdma_map_state_update(k, &st, nic, 0x1000), P2PDMA_MAP_NONE);
	assert_int_equal(p2pdma_map_state_update(k, &st, nic, CMB0), P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(p2pdma_kernel_provider(k, p0, 4, &prov), 0);
	assert_ptr_equal(st.mem, prov);
	/* Same provider: no lookup at all; another provider: recomputed. */
	st.map = P2PDMA_MAP_THRU_HOST_BRIDGE;
	assert_int_equal(p2pdma_map_state_update(k, &st, nic, CMB0 + 4096), P2PDMA_MAP_THRU_HOST_BRIDGE);
	before = p2pdma_kernel_cache_lookup(k, p1, nic);
	assert_int_equal(before, P2PDMA_MAP_UNKNOWN);
	assert_int_equal(p2pdma_map_state_update(k, &st, nic, CMB1), P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(p2pdma_kernel_cache_lookup(k, p1, nic), P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(p2pdma_provider_bus_addr_map(prov, CMB0 + 8), CMB0 + 8);
	/* A stale provider is refused. */
	assert_int_equal(p2pdma_kernel_unbind(k, p0), 0);
	assert_false(p2pdma_provider_live(prov));
	assert_int_equal(p2pdma_provider_bus_addr_map(prov, CMB0), ~0ULL);
	assert_int_equal(count_log(k, 0, "stale provider"), 1);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

static void test_odirect(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_example("6.12", &t);
	const struct p2pdma_dev *p0 = dev(t, "0000:1a:00.0"), *p1 = dev(t, "0000:1b:00.0");
	struct p2pdma_blkq *near, *far, *plain;
	struct p2pdma_blk_result *res;
	enum p2pdma_map_type mt;
	const struct p2pdma_provider *prov;
	uint64_t u, v, anon, len, dma;
	bool bus;

	(void)state;
	assert_int_equal(p2pdma_blk_result_create(&res), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, p0, 4, 0, 0), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, p1, 4, 0, 0), 0);
	assert_int_equal(p2pdma_blkq_create(k, dev(t, "0000:1c:00.0"), "nvme2n1",
					    P2PDMA_BLK_FEAT_PCI_P2PDMA, &near), 0);
	assert_int_equal(p2pdma_blkq_create(k, dev(t, "0000:31:00.0"), "nvme3n1",
					    P2PDMA_BLK_FEAT_PCI_P2PDMA, &far), 0);
	assert_int_equal(p2pdma_blkq_create(k, dev(t, "0000:31:00.0"), "virtio", 0, &plain), 0);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p0, 16384, 0, P2PDMA_MMAP_SHARED, &u), 0);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p1, 8192, 0, P2PDMA_MMAP_SHARED, &v), 0);
	assert_int_equal(p2pdma_user_mmap_anon(k, 8192, &anon), 0);
	/* BUS_ADDR below the switch: bus addresses, one merged segment. */
	assert_int_equal(p2pdma_blkq_direct_io(near, false, u, 16384, res), 0);
	assert_int_equal(p2pdma_blk_result_num_bios(res), 1);
	assert_int_equal(p2pdma_blk_result_bio(res, 0, &mt, &prov, &len), 1);
	assert_int_equal(mt, P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(len, 16384);
	dma = p2pdma_blk_result_seg(res, 0, 0, &len, &bus);
	assert_int_equal(dma, CMB0);
	assert_true(bus);
	/* Across the IIO stacks: THRU_HOST_BRIDGE, the CPU physical address. */
	assert_int_equal(p2pdma_blkq_direct_io(far, true, u + 512, 1024, res), 0);
	assert_int_equal(p2pdma_blk_result_bio(res, 0, &mt, NULL, NULL), 1);
	assert_int_equal(mt, P2PDMA_MAP_THRU_HOST_BRIDGE);
	assert_int_equal(p2pdma_blk_result_seg(res, 0, 0, &len, &bus), CMB0 + 512);
	assert_int_equal(len, 1024);
	assert_false(bus);
	/* A queue without BLK_FEAT_PCI_P2PDMA: the pin fails. */
	assert_int_equal(p2pdma_blkq_direct_io(plain, false, u, 4096, res), -EREMOTEIO);
	assert_int_equal(p2pdma_blkq_direct_io(plain, false, anon, 4096, res), 0);
	/* Alignment. */
	assert_int_equal(p2pdma_blkq_direct_io(near, false, u + 1, 4096, res), -EINVAL);
	/* Nothing stays pinned. */
	assert_int_equal(p2pdma_pin_count(k, CMB0 >> 12), 0);
	p2pdma_blk_result_destroy(res);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* Bios never mix pgmaps; NOT_SUPPORTED fails the whole request. */
static void test_odirect_mixed(void **state)
{
	static const struct {
		const char *machine, *provider, *client;
		int bar, err;
		enum p2pdma_map_type map;
	} cases[] = {
		/* across IIO stacks, allow-listed host bridges */
		{ "nvmeof-target", "0000:1a:00.0", "0000:31:00.0", 4, 0, P2PDMA_MAP_THRU_HOST_BRIDGE },
		/* Alder Lake host bridge, not on the list */
		{ "workstation", "0000:01:00.0", "0000:02:00.0", 1, -EREMOTEIO, P2PDMA_MAP_NOT_SUPPORTED },
	};
	size_t e;

	(void)state;
	for (e = 0; e < sizeof(cases) / sizeof(cases[0]); e++) {
		struct p2pdma_topo *t;
		struct p2pdma_policy *pol;
		struct p2pdma_kernel *k;
		struct p2pdma_blk_result *res;
		struct p2pdma_blkq *q;
		enum p2pdma_map_type mt;
		uint64_t buf, idx, len;
		struct p2pdma_vma *v;

		assert_int_equal(p2pdma_topo_load_example(ctx, cases[e].machine, &t), 0);
		assert_int_equal(p2pdma_policy_from_machine(ctx, t, &pol), 0);
		assert_int_equal(p2pdma_policy_set_kernel(pol, "6.12"), 0);
		assert_int_equal(p2pdma_kernel_boot(ctx, t, pol, &k), 0);
		assert_int_equal(p2pdma_blk_result_create(&res), 0);
		assert_int_equal(p2pdma_kernel_add_resource(k, dev(t, cases[e].provider), cases[e].bar, 0, 0), 0);
		assert_int_equal(p2pdma_blkq_create(k, dev(t, cases[e].client), "nvme0n1",
						    P2PDMA_BLK_FEAT_PCI_P2PDMA, &q), 0);
		/* One user range: 2 pages of RAM right before 2 P2P pages (a
		 * hand-built VMA: mmap() never places them adjacent). */
		assert_int_equal(p2pdma_user_mmap_anon(k, 8192, &buf), 0);
		v = calloc(1, sizeof(*v));
		assert_non_null(v);
		v->kind = VMA_P2PMEM;
		v->start = buf + 8192;
		v->len = 8192;
		assert_int_equal(p2pdma_pool_take_user(k, p2pdma_topo_find(p2pdma_kernel_topo(k), cases[e].provider),
						       2, &v->pgmap, &idx), 0);
		v->phys = v->pgmap->cpu + idx * 4096;
		v->next = k->p2pmem->vmas->next;
		k->p2pmem->vmas->next = v;
		if (p2pdma_blkq_direct_io(q, false, buf + 4096, 2 * 4096, res) != cases[e].err)
			fail_msg("%s: %s", cases[e].machine, p2pdma_ctx_error(ctx));
		assert_int_equal(p2pdma_blk_result_errno(res), cases[e].err);
		assert_int_equal(p2pdma_blk_result_num_bios(res), 2);
		assert_int_equal(p2pdma_blk_result_bio(res, 0, &mt, NULL, &len), 1);
		assert_int_equal(mt, P2PDMA_MAP_NONE);
		assert_int_equal(len, 4096);
		p2pdma_blk_result_bio(res, 1, &mt, NULL, &len);
		assert_int_equal(mt, cases[e].map);
		assert_int_equal(len, 4096);
		assert_int_equal(p2pdma_pin_count(k, v->phys >> 12), 0);
		p2pdma_blk_result_destroy(res);
		p2pdma_kernel_shutdown(k);
		p2pdma_policy_destroy(pol);
		p2pdma_topo_destroy(t);
	}
}

static void test_odirect_617(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;
	struct p2pdma_blkq *q;
	uint64_t u;

	(void)state;
	/* 6.17+: blk-mq-dma ends a NOT_SUPPORTED request with BLK_STS_INVAL. */
	assert_int_equal(p2pdma_topo_load_example(ctx, "workstation", &t), 0);
	assert_int_equal(p2pdma_policy_from_machine(ctx, t, &pol), 0);
	assert_int_equal(p2pdma_policy_set_kernel(pol, "6.17"), 0);
	assert_int_equal(p2pdma_kernel_boot(ctx, t, pol, &k), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, dev(t, "0000:01:00.0"), 1, 0, 0), 0);
	assert_int_equal(p2pdma_blkq_create(k, dev(t, "0000:02:00.0"), "nvme0n1",
					    P2PDMA_BLK_FEAT_PCI_P2PDMA, &q), 0);
	assert_int_equal(p2pdma_p2pmem_mmap(k, dev(t, "0000:01:00.0"), 4096, 0, P2PDMA_MMAP_SHARED, &u), 0);
	assert_int_equal(p2pdma_blkq_direct_io(q, false, u, 4096, NULL), -EINVAL);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "NOT_SUPPORTED"));
	/* The first evaluation printed the kernel's warning. */
	assert_int_equal(count_log(k, 0, "cannot be used for peer-to-peer DMA"), 1);
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
}

/* --- teardown --- */

static void test_teardown_allocation(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_example(NULL, &t);
	const struct p2pdma_dev *p = dev(t, "0000:1a:00.0");
	struct p2pdma_pool_info pi;
	uint64_t a, own, u, x;
	char buf[32];
	size_t mark;

	(void)state;
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 256 * MiB, 0), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 256 * MiB, 256 * MiB), 0);
	/* The driver's own allocation goes in its remove(); nvmet's does not. */
	assert_int_equal(p2pdma_p2pmem_alloc(k, p, 64 << 10, "nvme", &own), 0);
	assert_int_equal(p2pdma_p2pmem_alloc(k, p, 1 * MiB, "nvmet", &a), 0);
	assert_int_equal(a, KVA(CMB0 + 256 * MiB + (64 << 10)));
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 4096, 0, P2PDMA_MMAP_SHARED, &u), 0);
	mark = p2pdma_kernel_log_count(k);
	assert_int_equal(p2pdma_kernel_unbind(k, p), -EINPROGRESS);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "allocation #2"));
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "'nvmet'"));
	assert_int_equal(count_log(k, mark, "remove() blocks in memunmap_pages()"), 1);
	assert_int_equal(p2pdma_kernel_unbind(k, p), -EINPROGRESS);
	/* Still bound; allocate is gone; its mapping was zapped (page back). */
	assert_string_equal(p2pdma_kernel_driver(k, p), "nvme");
	assert_int_equal(p2pdma_p2pmem_pool_get_info(k, p, &pi, sizeof(pi)), 0);
	assert_false(pi.allocate_present);
	assert_true(pi.tearing_down);
	assert_int_equal(pi.user_pages, 0);
	assert_int_equal(p2pdma_p2pmem_sysfs_read(k, p, "allocate", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 4096, 0, P2PDMA_MMAP_SHARED, &x), -ENODEV);
	assert_int_equal(p2pdma_user_pin(k, u, 1, P2PDMA_FOLL_PCI_P2PDMA, &x), -EFAULT);
	/* The newest range is dying: allocations that land there fail... */
	assert_int_equal(p2pdma_p2pmem_alloc(k, p, 4096, "late", &x), -ENODEV);
	/* ... the older range is still live until its turn. */
	assert_int_equal(p2pdma_p2pmem_alloc(k, p, 255 * MiB, "late", &x), 0);
	assert_int_equal(x, KVA(CMB0));
	/* The timed wait names what is held; the hung-task line after 120 s. */
	assert_int_equal(p2pdma_p2pmem_teardown_wait(k, p, 60), -ETIMEDOUT);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "allocation #2"));
	assert_int_equal(count_log(k, mark, "blocked for more than"), 0);
	assert_int_equal(p2pdma_p2pmem_teardown_wait(k, p, 60), -ETIMEDOUT);
	assert_int_equal(count_log(k, mark, "INFO: task p2pdma:1000 blocked for more than 120 seconds."), 1);
	/* The newest range is done; the older one now waits for "late". */
	assert_int_equal(p2pdma_p2pmem_free(k, p, a, 1 * MiB), 0);
	assert_string_equal(p2pdma_kernel_driver(k, p), "nvme");
	/* The last reference: the unbind finishes by itself. */
	assert_int_equal(p2pdma_p2pmem_free(k, p, x, 255 * MiB), 0);
	assert_null(p2pdma_kernel_driver(k, p));
	assert_false(p2pdma_kernel_has_p2pdma(k, p));
	assert_int_equal(p2pdma_p2pmem_teardown_wait(k, p, 1), 0);
	assert_int_equal(p2pdma_p2pmem_pool_get_info(k, p, &pi, sizeof(pi)), -ENOENT);
	/* A free after the teardown: the pool is gone. */
	assert_int_equal(p2pdma_p2pmem_free(k, p, own, 64 << 10), -ENODEV);
	assert_int_equal(p2pdma_user_munmap(k, u, 4096), 0);
	/* A new binding starts from scratch. */
	assert_int_equal(p2pdma_kernel_bind(k, p, "nvme"), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 0, 0), 0);
	assert_int_equal(avail(k, p), 512 * MiB);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* Allocations from an older range while a newer one waits. */
static void test_teardown_order(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_example(NULL, &t);
	const struct p2pdma_dev *p = dev(t, "0000:1a:00.0");
	uint64_t a, b, x;

	(void)state;
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 2 * MiB, 0), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 2 * MiB, 2 * MiB), 0);
	assert_int_equal(p2pdma_p2pmem_alloc(k, p, 2 * MiB, "held", &a), 0);	/* fills the newest */
	assert_int_equal(a, KVA(CMB0 + 2 * MiB));
	assert_int_equal(p2pdma_kernel_unbind(k, p), -EINPROGRESS);
	/* genalloc skips the full, dying range; the older one is still live. */
	assert_int_equal(p2pdma_p2pmem_alloc(k, p, 4096, "late", &b), 0);
	assert_int_equal(b, KVA(CMB0));
	assert_int_equal(p2pdma_p2pmem_free(k, p, a, 2 * MiB), 0);
	/* Now the older range waits for "late". */
	assert_string_equal(p2pdma_kernel_driver(k, p), "nvme");
	assert_int_equal(p2pdma_p2pmem_alloc(k, p, 4096, "later", &x), -ENODEV);
	assert_int_equal(p2pdma_p2pmem_teardown_wait(k, p, 5), -ETIMEDOUT);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "'late'"));
	assert_int_equal(p2pdma_p2pmem_free(k, p, b, 4096), 0);
	assert_null(p2pdma_kernel_driver(k, p));
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* A pinned user mapping keeps the teardown waiting until it is gone. */
static void test_teardown_pinned(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_example(NULL, &t);
	const struct p2pdma_dev *p = dev(t, "0000:1a:00.0");
	uint64_t u, pfns[2];

	(void)state;
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 0, 0), 0);
	assert_int_equal(p2pdma_p2pmem_mmap(k, p, 8192, 0, P2PDMA_MMAP_SHARED, &u), 0);
	assert_int_equal(p2pdma_user_pin(k, u, 2, P2PDMA_FOLL_PCI_P2PDMA, pfns), 2);
	assert_int_equal(p2pdma_kernel_unbind(k, p), -EINPROGRESS);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "2 user pages still pinned"));
	assert_int_equal(p2pdma_p2pmem_teardown_wait(k, p, 10), -ETIMEDOUT);
	/* The zapped mapping is unmapped: still pinned, still waiting. */
	assert_int_equal(p2pdma_user_munmap(k, u, 8192), 0);
	assert_string_equal(p2pdma_kernel_driver(k, p), "nvme");
	assert_int_equal(p2pdma_user_unpin(k, pfns, 1), 0);
	assert_string_equal(p2pdma_kernel_driver(k, p), "nvme");
	assert_int_equal(p2pdma_user_unpin(k, &pfns[1], 1), 0);
	assert_null(p2pdma_kernel_driver(k, p));
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* A reference never given back: the pool is freed at shutdown, said so. */
static void test_teardown_leak(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k = boot_example(NULL, &t);
	const struct p2pdma_dev *p = dev(t, "0000:1a:00.0");
	uint64_t a;

	(void)state;
	assert_int_equal(p2pdma_kernel_add_resource(k, p, 4, 0, 0), 0);
	assert_int_equal(p2pdma_p2pmem_alloc(k, p, 4096, "leaky", &a), 0);
	assert_int_equal(p2pdma_kernel_unbind(k, p), -EINPROGRESS);
	assert_int_equal(p2pdma_p2pmem_teardown_wait(k, p, 600), -ETIMEDOUT);
	p2pdma_kernel_shutdown(k);	/* LSan: nothing may leak */
	p2pdma_topo_destroy(t);
}

/* --- huge BARs: the metadata budget --- */

static void test_huge_bar(void **state)
{
	const char *json =
		"{ \"p2pdma_topology\": 1, \"machine\": { \"arch\": \"x86_64\" }, \"devices\": ["
		"{ \"bdf\": \"00:00.0\", \"vendor\": \"0x8086\", \"device\": \"0x2020\", \"class\": \"0x060000\" },"
		"{ \"bdf\": \"00:01.0\", \"vendor\": \"0x10de\", \"device\": \"0x2330\", \"class\": \"0x030200\","
		"  \"pcie_type\": \"rc_endpoint\", \"driver\": \"nvidia\", \"bars\": ["
		"   { \"index\": 0, \"bus\": \"0x200000000000\", \"size\": \"0x2000000000\", \"64bit\": true } ] } ] }";
	struct p2pdma_topo *t = fixture_json(ctx, json);
	const struct p2pdma_dev *g = dev(t, "00:01.0");
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;
	struct p2pdma_pool_info pi;
	uint64_t a, b;

	(void)state;
	assert_int_equal(p2pdma_policy_create(ctx, &pol), 0);
	assert_int_equal(p2pdma_kernel_boot(ctx, t, pol, &k), 0);
	assert_int_equal(p2pdma_kernel_add_resource(k, g, 0, 0, 0), 0);
	assert_int_equal(p2pdma_p2pmem_pool_get_info(k, g, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.size, 128 * GiB);
	/* Less than 1 MiB per GiB (the kernel spends 16 MiB per GiB). */
	assert_true(pi.metadata_bytes < 128 * MiB);
	assert_true(pi.metadata_bytes / 128 < 256 * 1024);
	assert_int_equal(p2pdma_p2pmem_alloc(k, g, 100 * GiB, NULL, &a), 0);
	assert_int_equal(p2pdma_p2pmem_alloc(k, g, 28 * GiB, NULL, &b), 0);
	assert_int_equal(avail(k, g), 0);
	assert_int_equal(p2pdma_p2pmem_free(k, g, a, 100 * GiB), 0);
	assert_int_equal(p2pdma_p2pmem_pool_get_info(k, g, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.largest_free, 100 * GiB);
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
}

/* --- captures: conformance sysfs trees with real p2pmem files --- */

static void test_captured(void **state)
{
	char cmd[2048], root[1024];
	char *tmp = fixture_tmpdir();
	struct p2pdma_topo *t;
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;
	struct p2pdma_pool_info pi;
	struct p2pdma_range_info ri;
	const struct p2pdma_dev *d;
	uint64_t a;

	(void)state;
	snprintf(cmd, sizeof(cmd), "tar -xzf '%s' -C '%s'",
		 fixture_path("kernel/switch-epyc/sysfs.tar.gz"), tmp);
	assert_int_equal(system(cmd), 0);
	snprintf(root, sizeof(root), "%s/sysfs", tmp);
	assert_int_equal(p2pdma_topo_load_sysfs(ctx, root, &t), 0);
	assert_int_equal(p2pdma_policy_from_machine(ctx, t, &pol), 0);
	assert_int_equal(p2pdma_kernel_boot(ctx, t, pol, &k), 0);
	d = dev(t, "0000:03:00.0");
	/* p2pmem.txt of that capture: size=16777216 available=16711680. */
	assert_int_equal(p2pdma_p2pmem_pool_get_info(k, d, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.size, 16777216);
	assert_int_equal(pi.available, 16711680);
	assert_true(pi.published);
	assert_true(pi.captured);
	assert_int_equal(pi.nallocs, 1);
	assert_int_equal(p2pdma_p2pmem_range_get_info(k, d, 0, &ri, sizeof(ri)), 0);
	assert_int_equal(ri.size, 16777216);
	assert_int_equal(ri.cpu, d->bars[ri.bar].cpu);
	/* The captured pool allocates after what the driver holds. */
	assert_int_equal(p2pdma_p2pmem_alloc(k, d, 4096, NULL, &a), 0);
	assert_int_equal(a, KVA(ri.cpu + (64 << 10)));
	assert_int_equal(count_log(k, 0, "p2pmem adopted from the capture"), 2);
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
	fixture_rmtree(tmp);
	free(tmp);
}

/* --- allocation failure at every site --- */

/* A walk through most of the layer; returns 0 or the first errno. */
static int walk(struct p2pdma_kernel *k, const struct p2pdma_topo *t)
{
	const struct p2pdma_dev *p = p2pdma_topo_find(t, "0000:1a:00.0");
	struct p2pdma_blk_result *res = NULL;
	struct p2pdma_blkq *q;
	struct p2pdma_sgl *sg = NULL;
	unsigned int n;
	uint64_t a, u, anon, pfns[2];
	int ret;

	if ((ret = p2pdma_kernel_add_resource(k, p, 4, 0, 0)) ||
	    (ret = p2pdma_kernel_add_system_ram(k, 0x100000000ULL, GiB)) ||
	    (ret = p2pdma_p2pmem_alloc(k, p, 8192, "x", &a)) ||
	    (ret = p2pdma_p2pmem_alloc_sgl(k, p, 4096, &sg, &n)) ||
	    (ret = p2pdma_p2pmem_mmap(k, p, 16384, 0, P2PDMA_MMAP_SHARED, &u)) ||
	    (ret = p2pdma_user_mmap_anon(k, 4096, &anon)) ||
	    (ret = p2pdma_user_munmap(k, u + 4096, 4096)) ||
	    (ret = (int)p2pdma_user_pin(k, u, 1, P2PDMA_FOLL_PCI_P2PDMA, pfns)) < 0 ||
	    (ret = p2pdma_blkq_create(k, p2pdma_topo_find(t, "0000:1c:00.0"), "q",
				      P2PDMA_BLK_FEAT_PCI_P2PDMA, &q)) ||
	    (ret = p2pdma_blk_result_create(&res)) ||
	    (ret = p2pdma_blkq_direct_io(q, false, u + 8192, 8192, res)) ||
	    (ret = p2pdma_kernel_unbind(k, p)) != -EINPROGRESS)
		goto out;
	ret = p2pdma_p2pmem_free(k, p, a, 8192);
	if (!ret)
		ret = p2pdma_user_unpin(k, pfns, 1);
	if (!ret)
		ret = p2pdma_p2pmem_free_sgl(k, p, sg);
	sg = NULL;
	if (!ret && p2pdma_kernel_driver(k, p))
		ret = -EBUSY;
out:
	if (sg)
		p2pdma_p2pmem_free_sgl(k, p, sg);
	p2pdma_blk_result_destroy(res);
	return ret;
}

static void test_fault_injection(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_kernel *k;
	unsigned long n, calls;
	char nth[32];

	(void)state;
	/* How many allocations the walk makes. */
	k = boot_example(NULL, &t);
	assert_int_equal(p2pdma_ctx_set_param(ctx, "fault.alloc", "0"), 0);
	assert_int_equal(walk(k, t), 0);
	calls = p2pdma_alloc_calls(ctx);
	assert_true(calls > 10);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
	for (n = 1; n <= calls; n++) {
		struct p2pdma_pool_info pi;
		int ret;

		k = boot_example(NULL, &t);
		snprintf(nth, sizeof(nth), "%lu", n);
		assert_int_equal(p2pdma_ctx_set_param(ctx, "fault.alloc", nth), 0);
		ret = walk(k, t);
		assert_int_equal(p2pdma_ctx_set_param(ctx, "fault.alloc", "0"), 0);
		if (ret != -ENOMEM)
			fail_msg("allocation %lu failed: walk returned %d, not -ENOMEM", n, ret);
		/* Whatever failed, the pool's figures still add up. */
		if (!p2pdma_p2pmem_pool_get_info(k, p2pdma_topo_find(t, "0000:1a:00.0"), &pi, sizeof(pi)))
			assert_true(pi.available <= pi.size);
		p2pdma_kernel_shutdown(k);
		p2pdma_topo_destroy(t);
	}
}

static int setup(void **state)
{
	(void)state;
	ctx = fixture_ctx();
	return ctx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	p2pdma_ctx_destroy(ctx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ffmap_reference),
		cmocka_unit_test(test_add_resource),
		cmocka_unit_test(test_add_resource_high),
		cmocka_unit_test(test_alloc_free),
		cmocka_unit_test(test_two_pools),
		cmocka_unit_test(test_allocate_mmap),
		cmocka_unit_test(test_gup),
		cmocka_unit_test(test_map_state),
		cmocka_unit_test(test_odirect),
		cmocka_unit_test(test_odirect_mixed),
		cmocka_unit_test(test_odirect_617),
		cmocka_unit_test(test_teardown_allocation),
		cmocka_unit_test(test_teardown_order),
		cmocka_unit_test(test_teardown_pinned),
		cmocka_unit_test(test_teardown_leak),
		cmocka_unit_test(test_huge_bar),
		cmocka_unit_test(test_captured),
		cmocka_unit_test(test_fault_injection),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
