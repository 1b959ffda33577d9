// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-iommu.c - IOMMU groups: the model against real kernels' groups, and the rules (doc/kernel-model.md §2.9) */
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


/*
 * Every real-kernel capture that booted with an IOMMU recorded the groups
 * Linux formed (iommu_group links): the model must form the same
 * partition, pair by pair.
 */
static void test_real_kernels(void **state)
{
	const char *kdir = fixture_path("kernel");
	struct dirent *e;
	unsigned int scenarios = 0, pairs = 0;
	DIR *d = opendir(kdir);

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		char tgz[4096], cmd[8400], sys[4200];
		struct p2pdma_iommu_groups *g;
		struct p2pdma_topo *t;
		char *tmp;
		size_t i, j, n;

		if (!strstr(e->d_name, "-iommu"))
			continue;
		snprintf(tgz, sizeof(tgz), "%s/%s/sysfs.tar.gz", kdir, e->d_name);
		tmp = fixture_tmpdir();
		snprintf(cmd, sizeof(cmd), "tar -xzf '%s' -C '%s'", tgz, tmp);
		assert_int_equal(system(cmd), 0);
		snprintf(sys, sizeof(sys), "%s/sysfs", tmp);
		if (p2pdma_topo_load_sysfs(test_ctx, sys, &t))
			fail_msg("%s: %s", e->d_name, p2pdma_ctx_error(test_ctx));
		assert_int_equal(p2pdma_iommu_groups_compute(test_ctx, t, &g), 0);
		n = p2pdma_topo_num_devs(t);
		for (i = 0; i < n; i++) {
			struct p2pdma_dev_info a, b;
			const struct p2pdma_dev *da = p2pdma_topo_dev(t, i);

			p2pdma_dev_get_info(da, &a, sizeof(a));
			assert_true(a.iommu_group >= 0);	/* the capture has them */
			assert_false(p2pdma_iommu_group_uncertain(g, da));
			for (j = 0; j < n; j++) {
				const struct p2pdma_dev *db = p2pdma_topo_dev(t, j);
				bool real, model;

				p2pdma_dev_get_info(db, &b, sizeof(b));
				real = a.iommu_group == b.iommu_group;
				model = p2pdma_iommu_group_of(g, da) == p2pdma_iommu_group_of(g, db);
				if (real != model)
					fail_msg("%s: %s and %s: Linux %s, model %s", e->d_name,
						 a.bdf, b.bdf, real ? "same group" : "different groups",
						 model ? "same group" : "different groups");
				pairs++;
			}
		}
		p2pdma_iommu_groups_destroy(g);
		p2pdma_topo_destroy(t);
		fixture_rmtree(tmp);
		free(tmp);
		scenarios++;
	}
	closedir(d);
	print_message("# %u scenarios, %u ordered pairs agree with Linux\n", scenarios, pairs);
	/* No fixture, no test: the glob must have matched. */
	assert_true(scenarios >= 20);
}

/*
 * The bundled machines record IOMMU groups for display: they must be what
 * Linux would form from their topology and ACS registers.
 */
static void test_examples(void **state)
{
	size_t e, i, j, n, checked = 0;

	(void)state;
	for (e = 0; p2pdma_example_name(e); e++) {
		struct p2pdma_iommu_groups *g;
		struct p2pdma_topo *t;

		assert_int_equal(p2pdma_topo_load_example(test_ctx, p2pdma_example_name(e), &t), 0);
		assert_int_equal(p2pdma_iommu_groups_compute(test_ctx, t, &g), 0);
		n = p2pdma_topo_num_devs(t);
		{
			struct p2pdma_machine_info m;

			/* No IOMMU, no groups at all. */
			p2pdma_topo_machine(t, &m);
			for (i = 0; m.iommu == 0 && i < n; i++) {
				struct p2pdma_dev_info a;

				p2pdma_dev_get_info(p2pdma_topo_dev(t, i), &a, sizeof(a));
				if (a.iommu_group >= 0)
					fail_msg("%s: %s has IOMMU group %d on a machine without an IOMMU",
						 p2pdma_example_name(e), a.bdf, a.iommu_group);
			}
		}
		for (i = 0; i < n; i++) {
			struct p2pdma_dev_info a, b;

			p2pdma_dev_get_info(p2pdma_topo_dev(t, i), &a, sizeof(a));
			if (a.iommu_group < 0)
				continue;
			for (j = 0; j < n; j++) {
				p2pdma_dev_get_info(p2pdma_topo_dev(t, j), &b, sizeof(b));
				if (b.iommu_group < 0)
					continue;
				if ((a.iommu_group == b.iommu_group) !=
				    (p2pdma_iommu_group_of(g, p2pdma_topo_dev(t, i)) ==
				     p2pdma_iommu_group_of(g, p2pdma_topo_dev(t, j))))
					fail_msg("%s: %s and %s: recorded groups %d/%d disagree with the model",
						 p2pdma_example_name(e), a.bdf, b.bdf,
						 a.iommu_group, b.iommu_group);
				checked++;
			}
		}
		p2pdma_iommu_groups_destroy(g);
		p2pdma_topo_destroy(t);
	}
	assert_true(checked > 0);
}

/* The rules on the test fabric. */
static void test_rules(void **state)
{
	struct p2pdma_topo *t = fabric_build(test_ctx, 0x1237, 0x1000);
	struct p2pdma_iommu_groups *g;

	(void)state;
	/* Ports without SV|RR|CR|UF: nothing below them is isolated. */
	assert_int_equal(p2pdma_iommu_groups_compute(test_ctx, t, &g), 0);
	assert_int_equal(p2pdma_iommu_group_of(g, fabric_dev(t, "03:00.0")),
			 p2pdma_iommu_group_of(g, fabric_dev(t, "08:00.0")));
	p2pdma_iommu_groups_destroy(g);

	/* Every port isolating: a group per slot; the multi-function device
	 * 03:00 with ACS on its functions splits, 10:00 without ACS stays one. */
	{
		static const char *const ports[] = {
			"00:01.0", "00:02.0", "01:00.0", "02:00.0", "02:01.0",
			"02:02.0", "04:00.0", "05:00.0", "03:00.0", "03:00.1",
		};
		size_t i;

		for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
			struct p2pdma_dev *d = fabric_dev(t, ports[i]);

			fixture_acs(d, ACS_CAP, ACS_CAP);
		}
	}
	assert_int_equal(p2pdma_iommu_groups_compute(test_ctx, t, &g), 0);
	assert_int_not_equal(p2pdma_iommu_group_of(g, fabric_dev(t, "03:00.0")),
			     p2pdma_iommu_group_of(g, fabric_dev(t, "08:00.0")));
	assert_int_not_equal(p2pdma_iommu_group_of(g, fabric_dev(t, "03:00.0")),
			     p2pdma_iommu_group_of(g, fabric_dev(t, "03:00.1")));
	assert_int_equal(p2pdma_iommu_group_of(g, fabric_dev(t, "10:00.0")),
			 p2pdma_iommu_group_of(g, fabric_dev(t, "10:00.1")));
	/* A VF is a single-function endpoint behind an isolated port: its
	 * own group, even where its PF shares one (the point of SR-IOV). */
	assert_int_not_equal(p2pdma_iommu_group_of(g, fabric_dev(t, "10:00.2")),
			     p2pdma_iommu_group_of(g, fabric_dev(t, "10:00.1")));
	assert_int_not_equal(p2pdma_iommu_group_of(g, fabric_dev(t, "10:00.2")),
			     p2pdma_iommu_group_of(g, fabric_dev(t, "10:00.3")));
	p2pdma_iommu_groups_destroy(g);

	/* Unknown ACS makes the answer uncertain, never silently certain. */
	fabric_dev(t, "02:02.0")->acs_state = P2PDMA_ACS_UNKNOWN;
	assert_int_equal(p2pdma_iommu_groups_compute(test_ctx, t, &g), 0);
	assert_true(p2pdma_iommu_group_uncertain(g, fabric_dev(t, "08:00.0")));
	assert_false(p2pdma_iommu_group_uncertain(g, fabric_dev(t, "06:00.0")));
	p2pdma_iommu_groups_destroy(g);
	p2pdma_topo_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_kernels),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests(tests, fixture_ctx_setup, fixture_ctx_teardown);
}
