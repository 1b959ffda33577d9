// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-examples.c - the bundled example machines load, pass the checker and say what they claim */
#include <errno.h>
#include <string.h>

#include "fixtures.h"

/* What each machine's description promises (examples/machines/NAME.json). */
static const struct {
	const char *name;
	size_t functions;
	size_t host_bridges;
	size_t vfs;
	const char *arch;
	int iommu;
} expect[] = {
	{ "xeon-8gpu", 46, 6, 0, "x86_64", 1 },
	{ "epyc-2s", 35, 5, 4, "x86_64", 1 },
	{ "workstation", 15, 1, 0, "x86_64", 1 },
	{ "arm-server", 12, 4, 0, "aarch64", 1 },
	{ "nvmeof-target", 17, 3, 0, "x86_64", 0 },
};
#define NEXPECT (sizeof(expect) / sizeof(expect[0]))

static struct p2pdma_topo *load(struct p2pdma_ctx *ctx, const char *name)
{
	struct p2pdma_topo *t = NULL;

	if (p2pdma_topo_load_example(ctx, name, &t))
		fail_msg("%s: %s", name, p2pdma_ctx_error(ctx));
	return t;
}

static struct p2pdma_dev *dev(const struct p2pdma_topo *t, const char *bdf)
{
	struct p2pdma_dev *d = p2pdma_topo_find(t, bdf);

	if (!d)
		fail_msg("%s: no %s", p2pdma_topo_name(t), bdf);
	return d;
}

static bool redirects(const struct p2pdma_dev *d)
{
	return d->acs_state == P2PDMA_ACS_PRESENT && (d->acs_ctrl & P2PDMA_ACS_REDIR_MASK);
}

static void test_list(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; p2pdma_example_name(i); i++) {
		size_t j;

		assert_non_null(p2pdma_example_summary(i));
		assert_true(strlen(p2pdma_example_summary(i)) > 20);
		assert_null(strchr(p2pdma_example_summary(i), '\n'));
		for (j = 0; j < NEXPECT; j++)
			if (!strcmp(expect[j].name, p2pdma_example_name(i)))
				break;
		if (j == NEXPECT)
			fail_msg("example %s has no expectations here", p2pdma_example_name(i));
	}
	assert_int_equal(i, NEXPECT);
	assert_null(p2pdma_example_summary(i));
}

static void test_unknown(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = NULL;

	(void)state;
	assert_int_equal(p2pdma_topo_load_example(ctx, "no-such-machine", &t), -ENOENT);
	assert_null(t);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "no-such-machine"));
	p2pdma_ctx_destroy(ctx);
}

static void test_load_all(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	size_t i;

	(void)state;
	for (i = 0; i < NEXPECT; i++) {
		struct p2pdma_topo *t = load(ctx, expect[i].name);
		struct p2pdma_machine_info mi;
		size_t k, vfs = 0;

		assert_string_equal(p2pdma_topo_name(t), expect[i].name);
		assert_int_equal(p2pdma_topo_source(t), P2PDMA_SRC_EXAMPLE);
		fixture_assert_invariants(t);
		assert_int_equal(p2pdma_topo_num_devs(t), expect[i].functions);
		assert_int_equal(p2pdma_topo_num_host_bridges(t), expect[i].host_bridges);
		for (k = 0; k < p2pdma_topo_num_devs(t); k++) {
			const struct p2pdma_dev *d = p2pdma_topo_dev(t, k);

			vfs += d->is_vf;
			assert_true(d->vendor != 0xffff);
		}
		assert_int_equal(vfs, expect[i].vfs);
		p2pdma_topo_machine(t, &mi);
		assert_string_equal(mi.arch, expect[i].arch);
		assert_int_equal(mi.iommu, expect[i].iommu);
		assert_non_null(mi.kernel);
		p2pdma_topo_destroy(t);
	}
	p2pdma_ctx_destroy(ctx);
}

/* Names resolve through the database when one is there (pciutils' own pci.ids). */
static void test_names(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t;
	const struct p2pdma_dev *d;
	FILE *f = fopen("/usr/share/misc/pci.ids", "r");

	(void)state;
	if (!f) {
		print_message("skipping: no /usr/share/misc/pci.ids\n");
		p2pdma_ctx_destroy(ctx);
		return;
	}
	fclose(f);
	/* fixture_ctx() turns names off for speed; this test wants them. */
	assert_int_equal(p2pdma_ctx_set_param(ctx, "names", "1"), 0);
	assert_int_equal(p2pdma_ctx_set_param(ctx, "pci.ids", "/usr/share/misc/pci.ids"), 0);
	t = load(ctx, "xeon-8gpu");
	d = dev(t, "0000:18:00.0");
	assert_non_null(d->vendor_name);
	assert_non_null(strstr(d->vendor_name, "NVIDIA"));
	assert_non_null(d->device_name);
	assert_non_null(strstr(d->device_name, "H100"));
	d = dev(t, "0000:16:00.0");
	assert_non_null(d->device_name);
	assert_non_null(strstr(d->device_name, "PEX890xx"));
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

static void test_xeon_8gpu(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = load(ctx, "xeon-8gpu");
	static const char *const redir_dsp[] = {
		"0000:17:00.0", "0000:17:01.0", "0000:17:02.0", "0000:17:03.0",	/* switch A */
		"0000:28:00.0", "0000:28:02.0",					/* switch B */
		"0000:99:01.0", "0000:99:03.0",					/* switch C */
	};
	struct p2pdma_host_bridge_info hi;
	struct p2pdma_machine_info mi;
	size_t i, gpus = 0;

	(void)state;
	/* Switches A-C: RR|CR on, as the kernel sets them with an IOMMU (doc/kernel-model.md §2.7). */
	for (i = 0; i < sizeof(redir_dsp) / sizeof(redir_dsp[0]); i++) {
		const struct p2pdma_dev *d = dev(t, redir_dsp[i]);

		assert_int_equal(d->pcie_type, P2PDMA_PCIE_DOWNSTREAM);
		assert_true(redirects(d));
		assert_int_equal(d->acs_ctrl, 0x001d);
	}
	/* Switch D: redirect disabled on the command line that the machine records. */
	p2pdma_topo_machine(t, &mi);
	for (i = 0; i < 4; i++) {
		char bdf[16];
		const struct p2pdma_dev *d;

		snprintf(bdf, sizeof(bdf), "0000:a9:%02zx.0", i);
		d = dev(t, bdf);
		assert_int_equal(d->acs_state, P2PDMA_ACS_PRESENT);
		assert_false(redirects(d));
		assert_non_null(strstr(mi.cmdline, bdf));
	}
	/* Upstream ports have no ACS; root ports redirect. */
	assert_int_equal(dev(t, "0000:a8:00.0")->acs_state, P2PDMA_ACS_ABSENT);
	assert_true(redirects(dev(t, "0000:a7:01.0")));
	/* Each stack is its own host bridge whose hostdev is the 00.0 device. */
	for (i = 0; i < p2pdma_topo_num_host_bridges(t); i++) {
		p2pdma_host_bridge_get_info(p2pdma_topo_host_bridge(t, i), &hi);
		assert_non_null(hi.hostdev);
		assert_int_equal(hi.hostdev->vendor, 0x8086);
		assert_int_equal(hi.hostdev->device, 0x09a2);
		assert_int_equal(hi.hostdev->devfn, 0);
	}
	/* Two GPUs per switch, each below its own downstream port of that switch. */
	for (i = 0; i < p2pdma_topo_num_devs(t); i++) {
		const struct p2pdma_dev *d = p2pdma_topo_dev(t, i);

		if (d->vendor != 0x10de)
			continue;
		gpus++;
		assert_int_equal(d->device, 0x2330);
		assert_int_equal(d->depth, 3);
		assert_int_equal(d->upstream->pcie_type, P2PDMA_PCIE_DOWNSTREAM);
		assert_int_equal(d->upstream->upstream->vendor, 0x1000);
	}
	assert_int_equal(gpus, 8);
	assert_string_equal(mi.cpu_vendor, "GenuineIntel");
	assert_int_equal(mi.cpu_family, 6);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

static void test_epyc_2s(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = load(ctx, "epyc-2s");
	const struct p2pdma_dev *pf = dev(t, "0000:42:00.0");
	struct p2pdma_machine_info mi;
	size_t i;

	(void)state;
	p2pdma_topo_machine(t, &mi);
	assert_string_equal(mi.cpu_vendor, "AuthenticAMD");
	assert_true(mi.cpu_family >= 0x17);	/* the Zen CPU rule applies (doc/kernel-model.md §1.2) */
	assert_true(pf->multifunction);
	assert_true(dev(t, "0000:42:00.1")->multifunction);
	assert_true(pf->has_sriov);
	assert_int_equal(pf->sriov_num, 4);
	for (i = 2; i <= 5; i++) {
		char bdf[16];
		const struct p2pdma_dev *vf;

		snprintf(bdf, sizeof(bdf), "0000:42:00.%zu", i);
		vf = dev(t, bdf);
		assert_true(vf->is_vf);
		assert_ptr_equal(vf->physfn, pf);
		assert_int_equal(vf->device, 0x101e);
		/* A VF's upstream bridge is its PF's (doc/kernel-model.md §2.1). */
		assert_ptr_equal(vf->upstream, pf->upstream);
	}
	assert_false(dev(t, "0000:42:00.1")->is_vf);
	/* Every endpoint is alone below a redirecting root port. */
	assert_true(redirects(pf->upstream));
	assert_int_equal(pf->upstream->pcie_type, P2PDMA_PCIE_ROOT_PORT);
	assert_true(redirects(dev(t, "0000:c0:01.1")));
	assert_int_equal(dev(t, "0000:c1:00.0")->numa_node, 1);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

static void test_workstation(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = load(ctx, "workstation");
	struct p2pdma_host_bridge_info hi;
	const struct p2pdma_dev *igpu = dev(t, "0000:00:02.0");

	(void)state;
	p2pdma_host_bridge_get_info(p2pdma_topo_host_bridge(t, 0), &hi);
	assert_int_equal(hi.hostdev->device, 0x4660);
	assert_int_equal(igpu->pcie_type, P2PDMA_PCIE_RC_ENDPOINT);
	assert_null(igpu->upstream);
	/* GPUs and NVMe each directly below a root port on bus 0. */
	assert_int_equal(dev(t, "0000:01:00.0")->upstream->pcie_type, P2PDMA_PCIE_ROOT_PORT);
	assert_int_equal(dev(t, "0000:02:00.0")->upstream->bus, 0);
	assert_int_equal(dev(t, "0000:03:00.0")->upstream->device, 0x7ab8);	/* PCH */
	assert_true(redirects(dev(t, "0000:00:1c.0")));
	assert_true(dev(t, "0000:01:00.1")->multifunction);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

static void test_arm_server(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = load(ctx, "arm-server");
	struct p2pdma_host_bridge_info hi;
	struct p2pdma_machine_info mi;
	const struct p2pdma_dev *nvme = dev(t, "0000:01:00.0");
	size_t i;

	(void)state;
	for (i = 0; i < p2pdma_topo_num_host_bridges(t); i++) {
		p2pdma_host_bridge_get_info(p2pdma_topo_host_bridge(t, i), &hi);
		assert_int_equal(hi.domain, i);
		assert_int_equal(hi.bus, 0);
		assert_int_equal(hi.hostdev->vendor, 0x1def);
	}
	p2pdma_topo_machine(t, &mi);
	assert_int_equal(mi.cpu_family, -1);
	/* Behind a translating host bridge the CPU and bus addresses differ. */
	assert_true(nvme->bars[0].cpu != nvme->bars[0].bus);
	assert_true(redirects(dev(t, "0002:00:01.0")));
	assert_true(dev(t, "0002:01:00.0")->has_sriov);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_load_all),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_xeon_8gpu),
		cmocka_unit_test(test_epyc_2s),
		cmocka_unit_test(test_workstation),
		cmocka_unit_test(test_arm_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
