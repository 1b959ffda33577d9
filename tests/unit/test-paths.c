// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-paths.c - nvidia-smi path classes, NCCL's default levels, P2P islands */
#include <dirent.h>
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

static struct p2pdma_ctx *ctx;

static enum p2pdma_path_class cls(const struct p2pdma_topo *t, const char *a,
				  const char *b)
{
	enum p2pdma_path_class c, back;

	assert_int_equal(p2pdma_path_classify(t, fabric_dev(t, a), fabric_dev(t, b), &c), 0);
	/* A class is a property of the pair, not of a direction. */
	assert_int_equal(p2pdma_path_classify(t, fabric_dev(t, b), fabric_dev(t, a), &back), 0);
	assert_int_equal(c, back);
	return c;
}

/* The test fabric's pairs, one per rule (tests/unit/fabric.c has the picture). */
static void test_classes_fabric(void **state)
{
	struct p2pdma_topo *t = fabric_build(ctx, 0x1237, 0x2030), *other;
	enum p2pdma_path_class c;

	(void)state;
	assert_int_equal(cls(t, "03:00.0", "03:00.0"), P2PDMA_PATH_X);
	/* two functions below one downstream port: one switch */
	assert_int_equal(cls(t, "03:00.0", "03:00.1"), P2PDMA_PATH_PIX);
	/* two downstream ports of one switch: still one switch */
	assert_int_equal(cls(t, "03:00.0", "08:00.0"), P2PDMA_PATH_PIX);
	/* through a second switch below the first */
	assert_int_equal(cls(t, "03:00.0", "06:00.0"), P2PDMA_PATH_PXB);
	/* different root ports of one host bridge; RCiEPs; one root port */
	assert_int_equal(cls(t, "03:00.0", "10:00.0"), P2PDMA_PATH_PHB);
	assert_int_equal(cls(t, "00:03.0", "00:04.0"), P2PDMA_PATH_PHB);
	assert_int_equal(cls(t, "10:00.0", "10:00.1"), P2PDMA_PATH_PHB);
	/* a VF is where its PF is */
	assert_int_equal(cls(t, "10:00.2", "03:00.0"), P2PDMA_PATH_PHB);
	/* across host bridges: by NUMA node, unknown here */
	assert_int_equal(cls(t, "03:00.0", "0001:01:00.0"), P2PDMA_PATH_NODE_OR_SYS);
	fabric_dev(t, "03:00.0")->numa_node = 0;
	fabric_dev(t, "0001:01:00.0")->numa_node = 0;
	assert_int_equal(cls(t, "03:00.0", "0001:01:00.0"), P2PDMA_PATH_NODE);
	fabric_dev(t, "0001:01:00.0")->numa_node = 1;
	assert_int_equal(cls(t, "03:00.0", "0001:01:00.0"), P2PDMA_PATH_SYS);
	/* a function of another lineage is refused */
	other = fabric_build(ctx, 0x1237, 0x2030);
	assert_int_equal(p2pdma_path_classify(t, fabric_dev(other, "03:00.0"),
					      fabric_dev(t, "03:00.0"), &c), -EINVAL);
	p2pdma_topo_destroy(other);
	p2pdma_topo_destroy(t);
}

/* The bundled 8-GPU server: what nvidia-smi shows on such machines. */
static void test_classes_xeon(void **state)
{
	struct p2pdma_topo *t;

	(void)state;
	assert_int_equal(p2pdma_topo_load_example(ctx, "xeon-8gpu", &t), 0);
	assert_int_equal(cls(t, "18:00.0", "19:00.0"), P2PDMA_PATH_PIX);
	assert_int_equal(cls(t, "18:00.0", "1a:00.0"), P2PDMA_PATH_PIX);
	assert_int_equal(cls(t, "18:00.0", "29:00.0"), P2PDMA_PATH_NODE);
	assert_int_equal(cls(t, "18:00.0", "9a:00.0"), P2PDMA_PATH_SYS);
	assert_string_equal(p2pdma_path_class_name(P2PDMA_PATH_PXB), "PXB");
	assert_string_equal(p2pdma_path_class_name(P2PDMA_PATH_NODE_OR_SYS), "NODE?");
	assert_string_equal(p2pdma_path_class_name((enum p2pdma_path_class)99), "?");
	assert_non_null(strstr(p2pdma_path_class_meaning(P2PDMA_PATH_PIX), "single PCIe bridge"));
	p2pdma_topo_destroy(t);
}

static enum p2pdma_path_class level(const char *cpu, enum p2pdma_nccl_use use,
				    size_t ngpus, bool *uncertain)
{
	struct p2pdma_policy *pol;
	enum p2pdma_path_class l;

	assert_int_equal(p2pdma_policy_create(ctx, &pol), 0);
	if (cpu)
		assert_int_equal(p2pdma_policy_set_cpu(pol, cpu), 0);
	l = p2pdma_nccl_default_level(pol, use, ngpus, uncertain);
	p2pdma_policy_destroy(pol);
	return l;
}

/* NCCL's ncclTopoCheckP2p() and ncclTopoCheckGdr() defaults. */
static void test_nccl_levels(void **state)
{
	bool u;

	(void)state;
	assert_int_equal(level("AuthenticAMD:25", P2PDMA_NCCL_P2P, 2, &u), P2PDMA_PATH_SYS);
	assert_false(u);
	assert_int_equal(level("AuthenticAMD:25", P2PDMA_NCCL_P2P, 3, &u), P2PDMA_PATH_PXB);
	assert_int_equal(level("AuthenticAMD:25", P2PDMA_NCCL_GDR, 2, &u), P2PDMA_PATH_PXB);
	assert_int_equal(level("GenuineIntel:6", P2PDMA_NCCL_P2P, 2, &u), P2PDMA_PATH_PXB);
	assert_false(u);
	assert_int_equal(level("HygonGenuine:24", P2PDMA_NCCL_P2P, 2, &u), P2PDMA_PATH_PXB);
	assert_int_equal(level(NULL, P2PDMA_NCCL_P2P, 2, &u), P2PDMA_PATH_PXB);
	assert_true(u);
	assert_int_equal(level(NULL, P2PDMA_NCCL_P2P, 8, &u), P2PDMA_PATH_PXB);
	assert_false(u);
	/* switch-local paths the kernel sends up, or refuses */
	assert_true(p2pdma_nccl_mismatch(P2PDMA_PATH_PIX, P2PDMA_PATH_PXB, P2PDMA_MAP_THRU_HOST_BRIDGE));
	assert_true(p2pdma_nccl_mismatch(P2PDMA_PATH_PXB, P2PDMA_PATH_PXB, P2PDMA_MAP_NOT_SUPPORTED));
	assert_false(p2pdma_nccl_mismatch(P2PDMA_PATH_PIX, P2PDMA_PATH_PXB, P2PDMA_MAP_BUS_ADDR));
	/* beyond NCCL's level it does not go direct anyway */
	assert_false(p2pdma_nccl_mismatch(P2PDMA_PATH_PHB, P2PDMA_PATH_PXB, P2PDMA_MAP_NOT_SUPPORTED));
	/* AMD with two GPUs: across host bridges, only a refusal surprises */
	assert_false(p2pdma_nccl_mismatch(P2PDMA_PATH_SYS, P2PDMA_PATH_SYS, P2PDMA_MAP_THRU_HOST_BRIDGE));
	assert_true(p2pdma_nccl_mismatch(P2PDMA_PATH_SYS, P2PDMA_PATH_SYS, P2PDMA_MAP_NOT_SUPPORTED));
	assert_true(p2pdma_nccl_mismatch(P2PDMA_PATH_NODE_OR_SYS, P2PDMA_PATH_SYS, P2PDMA_MAP_NOT_SUPPORTED));
	assert_false(p2pdma_nccl_mismatch(P2PDMA_PATH_X, P2PDMA_PATH_PXB, P2PDMA_MAP_NOT_SUPPORTED));
}

/*
 * Islands against the verdicts: two functions share an island exactly
 * when their verdict is BUS_ADDR, in both directions (so every island is
 * a clique). Returns the number of islands.
 */
static size_t check_islands(const char *what, struct p2pdma_topo *t)
{
	struct p2pdma_policy *pol;
	struct p2pdma_router *r;
	struct p2pdma_islands *is;
	size_t i, j, n = p2pdma_topo_num_devs(t), k;

	assert_int_equal(p2pdma_policy_from_machine(ctx, t, &pol), 0);
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	assert_int_equal(p2pdma_islands_compute(r, NULL, 0, &is), 0);
	for (i = 0; i < n; i++) {
		const struct p2pdma_dev *a = p2pdma_topo_dev(t, i);
		struct p2pdma_dev_info ia;

		p2pdma_dev_get_info(a, &ia, sizeof(ia));
		if (ia.is_bridge) {
			assert_int_equal(p2pdma_island_of(is, a), -1);
			continue;
		}
		for (j = 0; j < n; j++) {
			const struct p2pdma_dev *b = p2pdma_topo_dev(t, j);
			bool same, bus;
			struct p2pdma_dev_info ib;

			p2pdma_dev_get_info(b, &ib, sizeof(ib));
			if (i == j || ib.is_bridge)
				continue;
			same = p2pdma_island_of(is, a) >= 0 &&
			       p2pdma_island_of(is, a) == p2pdma_island_of(is, b);
			bus = p2pdma_router_map_type(r, a, b, NULL) == P2PDMA_MAP_BUS_ADDR;
			if (same != bus)
				fail_msg("%s: %s -> %s: %s, islands %d and %d", what,
					 p2pdma_dev_name(a), p2pdma_dev_name(b),
					 bus ? "BUS_ADDR" : "not BUS_ADDR",
					 p2pdma_island_of(is, a), p2pdma_island_of(is, b));
		}
	}
	/* The listing agrees with island_of(), in enumeration order. */
	for (k = 0; k < p2pdma_islands_count(is); k++) {
		assert_true(p2pdma_island_size(is, k) >= 2);
		for (j = 0; j < p2pdma_island_size(is, k); j++) {
			const struct p2pdma_dev *m = p2pdma_island_member(is, k, j);

			assert_int_equal(p2pdma_island_of(is, m), (int)k);
			if (j)
				assert_true(strcmp(p2pdma_dev_name(p2pdma_island_member(is, k, j - 1)),
						   p2pdma_dev_name(m)) < 0);
		}
		assert_null(p2pdma_island_member(is, k, j));
	}
	assert_int_equal(p2pdma_island_size(is, k), 0);
	k = p2pdma_islands_count(is);
	p2pdma_islands_destroy(is);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	return k;
}

static void test_islands_xeon(void **state)
{
	struct p2pdma_topo *t;
	struct p2pdma_policy *pol;
	struct p2pdma_router *r;
	struct p2pdma_islands *is;
	const struct p2pdma_dev *devs[3];

	(void)state;
	assert_int_equal(p2pdma_topo_load_example(ctx, "xeon-8gpu", &t), 0);
	assert_int_equal(check_islands("xeon-8gpu", t), 1);
	assert_int_equal(p2pdma_policy_from_machine(ctx, t, &pol), 0);
	assert_int_equal(p2pdma_router_create(ctx, t, pol, &r), 0);
	assert_int_equal(p2pdma_islands_compute(r, NULL, 0, &is), 0);
	/* The switch whose ports boot with disable_acs_redir is the island. */
	assert_int_equal(p2pdma_island_size(is, 0), 4);
	assert_string_equal(p2pdma_dev_name(p2pdma_island_member(is, 0, 0)), "0000:aa:00.0");
	assert_string_equal(p2pdma_dev_name(p2pdma_island_member(is, 0, 3)), "0000:ad:00.0");
	assert_int_equal(p2pdma_island_of(is, fabric_dev(t, "18:00.0")), -1);
	p2pdma_islands_destroy(is);
	/* Only the functions asked about: ab and ac pair up, 18 is alone. */
	devs[0] = fabric_dev(t, "18:00.0");
	devs[1] = fabric_dev(t, "ab:00.0");
	devs[2] = fabric_dev(t, "ac:00.0");
	assert_int_equal(p2pdma_islands_compute(r, devs, 3, &is), 0);
	assert_int_equal(p2pdma_islands_count(is), 1);
	assert_int_equal(p2pdma_island_size(is, 0), 2);
	assert_int_equal(p2pdma_island_of(is, fabric_dev(t, "aa:00.0")), -1);
	p2pdma_islands_destroy(is);
	p2pdma_router_destroy(r);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
}

/* Every bundled example and every captured real-kernel machine. */
static void test_islands_everywhere(void **state)
{
	const char *kdir = fixture_path("kernel");
	size_t i, machines = 0, islands = 0;
	struct p2pdma_topo *t;
	struct dirent *e;
	DIR *d;

	(void)state;
	for (i = 0; p2pdma_example_name(i); i++) {
		assert_int_equal(p2pdma_topo_load_example(ctx, p2pdma_example_name(i), &t), 0);
		islands += check_islands(p2pdma_example_name(i), t);
		p2pdma_topo_destroy(t);
		machines++;
	}
	d = opendir(kdir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		char gz[4096], cmd[8400], dump[4200];
		char *tmp;

		if (e->d_name[0] == '.')
			continue;
		snprintf(gz, sizeof(gz), "%s/%s/lspci-xxxx.txt.gz", kdir, e->d_name);
		tmp = fixture_tmpdir();
		snprintf(dump, sizeof(dump), "%s/lspci.txt", tmp);
		snprintf(cmd, sizeof(cmd), "gzip -dc '%s' > '%s'", gz, dump);
		assert_int_equal(system(cmd), 0);
		if (p2pdma_topo_load_dump(ctx, dump, &t))
			fail_msg("%s: %s", e->d_name, p2pdma_ctx_error(ctx));
		islands += check_islands(e->d_name, t);
		p2pdma_topo_destroy(t);
		fixture_rmtree(tmp);
		free(tmp);
		machines++;
	}
	closedir(d);
	print_message("# %zu machines, %zu islands, each a set of BUS_ADDR pairs\n",
		      machines, islands);
	/* 4 examples and 50 captures: a glob that matched nothing fails. */
	assert_true(machines >= 54);
	assert_true(islands > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes_fabric),
		cmocka_unit_test(test_classes_xeon),
		cmocka_unit_test(test_nccl_levels),
		cmocka_unit_test(test_islands_xeon),
		cmocka_unit_test(test_islands_everywhere),
	};
	int ret;

	ctx = fixture_ctx();
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	p2pdma_ctx_destroy(ctx);
	return ret;
}
