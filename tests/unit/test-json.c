// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-json.c - topology description files: round trips and every kind of bad input */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* Export @t into a malloc'd string. */
static char *export_str(const struct p2pdma_topo *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(p2pdma_topo_export_json(t, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/*
 * The lossless contract (topo.h): export -> load compares equal in
 * everything, and exporting the reloaded topology gives the same bytes.
 */
static void assert_round_trip(struct p2pdma_ctx *ctx, const struct p2pdma_topo *t)
{
	struct p2pdma_topo *t2 = NULL;
	char diff[256] = "";
	char *a, *b;

	a = export_str(t);
	if (p2pdma_topo_load_json_string(ctx, a, p2pdma_topo_name(t), &t2))
		fail_msg("reload of export failed: %s", p2pdma_ctx_error(ctx));
	if (!p2pdma_topo_equal(t, t2, P2PDMA_CMP_ALL, diff, sizeof(diff)))
		fail_msg("%s: round trip differs: %s", p2pdma_topo_name(t), diff);
	b = export_str(t2);
	assert_string_equal(a, b);
	fixture_assert_invariants(t2);
	free(a);
	free(b);
	p2pdma_topo_destroy(t2);
}

static void test_examples_round_trip(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	const char *name;
	size_t i;

	(void)state;
	for (i = 0; (name = p2pdma_example_name(i)); i++) {
		struct p2pdma_topo *t = NULL;

		if (p2pdma_topo_load_example(ctx, name, &t))
			fail_msg("%s: %s", name, p2pdma_ctx_error(ctx));
		assert_round_trip(ctx, t);
		p2pdma_topo_destroy(t);
	}
	assert_int_equal(i, 5);
	p2pdma_ctx_destroy(ctx);
}

static void test_fixtures_round_trip(void **state)
{
	static const char *const good[] = { "json/minimal.json", "json/all-fields.json" };
	struct p2pdma_ctx *ctx = fixture_ctx();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct p2pdma_topo *t = NULL;

		if (p2pdma_topo_load_json(ctx, fixture_path(good[i]), &t))
			fail_msg("%s", p2pdma_ctx_error(ctx));
		assert_int_equal(p2pdma_topo_source(t), P2PDMA_SRC_JSON);
		fixture_assert_invariants(t);
		assert_round_trip(ctx, t);
		p2pdma_topo_destroy(t);
	}
	p2pdma_ctx_destroy(ctx);
}

/* Spot checks that all-fields.json lands in the model field by field. */
static void test_all_fields_values(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = NULL;
	struct p2pdma_machine_info mi;
	struct p2pdma_dev *d;

	(void)state;
	if (p2pdma_topo_load_json(ctx, fixture_path("json/all-fields.json"), &t))
		fail_msg("%s", p2pdma_ctx_error(ctx));
	p2pdma_topo_machine(t, &mi);
	assert_string_equal(mi.cpu_vendor, "AuthenticAMD");
	assert_int_equal(mi.cpu_family, 25);
	assert_int_equal(mi.iommu, 1);
	assert_string_equal(mi.arch, "x86_64");
	assert_string_equal(mi.kernel, "6.18.0");

	d = p2pdma_topo_find(t, "0000:00:01.1");
	assert_non_null(d);
	assert_int_equal(d->header_type, 1);
	assert_int_equal(d->pcie_type, P2PDMA_PCIE_ROOT_PORT);
	assert_int_equal(d->secondary, 1);
	assert_int_equal(d->subordinate, 3);
	assert_true(d->win[P2PDMA_WIN_IO].valid);
	assert_int_equal(d->win[P2PDMA_WIN_IO].limit, 0x1fff);
	assert_int_equal(d->win[P2PDMA_WIN_PREFETCH].base, 0x10000000000ULL);
	assert_int_equal(d->acs_state, P2PDMA_ACS_PRESENT);
	assert_int_equal(d->acs_cap, 0x5f);
	assert_int_equal(d->acs_ctrl, 0x1d);
	assert_int_equal(d->acs_pos, 0x2a0);
	assert_int_equal(d->link.speed, 5);
	assert_int_equal(d->link.max_speed, 5);
	assert_string_equal(d->driver, "pcieport");

	d = p2pdma_topo_find(t, "0000:01:00.0");
	assert_int_equal(d->acs_state, P2PDMA_ACS_UNKNOWN);
	assert_int_equal(d->revision, 0xca);

	d = p2pdma_topo_find(t, "0000:03:00.0");
	assert_int_equal(d->subvendor, 0x1d82);
	assert_int_equal(d->class_code, 0x010802);
	assert_int_equal(d->header_type, 0);
	assert_int_equal(d->acs_state, P2PDMA_ACS_ABSENT);
	assert_int_equal(d->bars[0].flags, P2PDMA_BAR_MEM | P2PDMA_BAR_64);
	assert_int_equal(d->bars[2].bus, 0x10000000000ULL);
	assert_int_equal(d->bars[2].cpu, 0x20010000000000ULL);
	assert_int_equal(d->bars[2].flags,
			 P2PDMA_BAR_MEM | P2PDMA_BAR_64 | P2PDMA_BAR_PREFETCH);
	assert_int_equal(d->bars[4].flags, P2PDMA_BAR_IO);
	assert_int_equal(d->bars[4].cpu, 0x1000);	/* cpu defaults to bus */
	assert_true(d->has_sriov);
	assert_int_equal(d->sriov_num, 2);
	assert_int_equal(d->sriov_vf_device, 0x0102);
	assert_true(d->p2pmem.present);
	assert_true(d->p2pmem.published);
	assert_int_equal(d->p2pmem.available, 0x3ff00000);
	assert_string_equal(d->label, "NVMe with a CMB published as p2pmem");

	/* The VFs are marked from the PF's SR-IOV capability by finalize. */
	d = p2pdma_topo_find(t, "0000:03:00.3");
	assert_true(d->is_vf);
	assert_ptr_equal(d->physfn, p2pdma_topo_find(t, "0000:03:00.0"));

	d = p2pdma_topo_find(t, "0000:00:14.0");
	assert_int_equal(d->pcie_type, P2PDMA_PCIE_NONE);
	assert_int_equal(d->iommu_group, -1);
	assert_int_equal(d->numa_node, -1);

	d = p2pdma_topo_find(t, "0000:03:00.1");
	assert_null(d->driver);
	assert_int_equal(d->numa_node, -1);

	d = p2pdma_topo_find(t, "10000:00:00.0");
	assert_non_null(d);
	assert_int_equal(d->domain, 0x10000);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

/*
 * Every bad input fails with -EINVAL and a one-line message naming the
 * file and the place; the substrings are what a user needs to find it.
 */
static const struct {
	const char *file;
	const char *where;	/* the place: JSON path, or line:col */
	const char *what;	/* the complaint */
} bad_cases[] = {
	{ "garbage.json", "garbage.json:1:", "expected" },
	{ "truncated.json", "truncated.json:5:", "end of file" },
	{ "empty.json", "empty.json:1:", "end of file" },
	{ "duplicate-key.json", "duplicate-key.json:3:", "duplicate object key" },
	{ "top-array.json", "(top level)", "expected an object" },
	{ "no-version.json", ": p2pdma_topology:", "missing required field" },
	{ "bad-version.json", ": p2pdma_topology:", "unsupported format version" },
	{ "no-devices.json", ": devices:", "missing required field" },
	{ "unknown-top.json", ": devics:", "unknown field" },
	{ "wrong-type.json", "devices[0].vendor", "expected hex string or integer" },
	{ "unknown-field.json", "devices[1].subordiante_bus", "unknown field" },
	{ "duplicate-bdf.json", "devices[3]", "duplicate BDF 0000:01:00.0" },
	{ "missing-vendor.json", "devices[1].vendor", "missing required field" },
	{ "missing-bdf.json", "devices[0].bdf", "missing required field" },
	{ "bad-bdf.json", "devices[0].bdf", "bad BDF \"00:1f\"" },
	{ "bus-range.json", "devices[0].bdf", "bus 0x100 out of range" },
	{ "dev-range.json", "devices[0].bdf", "device 0x20 out of range" },
	{ "fn-range.json", "devices[0].bdf", "function 8 out of range" },
	{ "secondary-range.json", "devices[0].secondary_bus", "out of range" },
	{ "class-range.json", "devices[0].class", "0x1060400 out of range" },
	{ "vendor-range.json", "devices[0].vendor", "out of range" },
	{ "bar-index.json", "devices[0].bars[1].index", "out of range (max 0x5)" },
	{ "bad-hex.json", "devices[0].bars[0].size", "expected hex string or integer" },
	{ "bad-speed.json", "devices[0].link.speed", "unknown link speed" },
	{ "bad-pcie-type.json", "devices[0].pcie_type", "root-port" },
	{ "bad-acs.json", "devices[0].acs.ctrl", "missing required field" },
	{ "sriov-num.json", "devices[0].sriov", "exceeds total_vfs" },
	/* structural: found by the invariant checker in p2pdma_topo_finalize() */
	{ "bus-cycle.json", "0000:01:00.0", "secondary bus 01" },
	{ "bus-overlap.json", "0000:00:02.0", "overlapping bus ranges" },
	{ "bar-outside-window.json", "0000:01:00.0", "outside the windows" },
};

static void test_bad_inputs(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	/* A live pointer in *out: a failed load must overwrite it with NULL. */
	struct p2pdma_topo *dummy = fixture_json(ctx, "{\"p2pdma_topology\": 1, \"devices\": []}");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct p2pdma_topo *t = dummy;
		char rel[128];
		const char *msg;
		int ret;

		snprintf(rel, sizeof(rel), "json/bad/%s", bad_cases[i].file);
		ret = p2pdma_topo_load_json(ctx, fixture_path(rel), &t);
		msg = p2pdma_ctx_error(ctx);
		if (ret != -EINVAL)
			fail_msg("%s: expected -EINVAL, got %d (%s)", rel, ret, msg);
		assert_null(t);
		if (!strstr(msg, bad_cases[i].file) || !strstr(msg, bad_cases[i].where) ||
		    !strstr(msg, bad_cases[i].what))
			fail_msg("%s: message \"%s\" lacks \"%s\" / \"%s\"", rel, msg,
				 bad_cases[i].where, bad_cases[i].what);
		assert_null(strchr(msg, '\n'));
	}
	p2pdma_topo_destroy(dummy);
	p2pdma_ctx_destroy(ctx);
}

/* The table above covers every file in the bad/ directory. */
static void test_bad_inputs_all_listed(void **state)
{
	char cmd[512];
	FILE *p;
	char line[256];
	size_t n = 0;

	(void)state;
	snprintf(cmd, sizeof(cmd), "ls '%s'", fixture_path("json/bad"));
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		size_t i;

		line[strcspn(line, "\n")] = '\0';
		for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
			if (!strcmp(line, bad_cases[i].file))
				break;
		if (i == sizeof(bad_cases) / sizeof(bad_cases[0]))
			fail_msg("bad fixture %s has no expected message", line);
		n++;
	}
	pclose(p);
	assert_int_equal(n, sizeof(bad_cases) / sizeof(bad_cases[0]));
}

static void test_string_and_missing_file(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = NULL;

	(void)state;
	assert_int_equal(p2pdma_topo_load_json(ctx, "/nonexistent/topo.json", &t), -ENOENT);
	assert_null(t);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "/nonexistent/topo.json"));

	/* Errors in strings are named by the caller's name. */
	assert_int_equal(p2pdma_topo_load_json_string(ctx, "{\"p2pdma_topology\": 1, "
		"\"devices\": [{\"bdf\": \"0000:00:00.0\", \"vendor\": \"0x8086\", "
		"\"device\": \"0x2020\", \"bars\": [{\"index\": 0, \"bus\": \"0x1000\", "
		"\"size\": \"0x3000\"}]}]}", "inline", &t), -EINVAL);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "inline: devices[0].bars[0]"));
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "power of two"));

	/* A success clears the previous error. */
	assert_int_equal(p2pdma_topo_load_json_string(ctx, "{\"p2pdma_topology\": 1, "
		"\"devices\": []}", "empty", &t), 0);
	assert_string_equal(p2pdma_ctx_error(ctx), "");
	assert_int_equal(p2pdma_topo_num_devs(t), 0);
	assert_round_trip(ctx, t);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

/* A header type given explicitly overrides the class default, and survives export. */
static void test_header_type_default(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t = NULL;

	(void)state;
	t = fixture_json(ctx, "{\"p2pdma_topology\": 1, \"devices\": ["
		"{\"bdf\": \"0000:00:00.0\", \"vendor\": \"0x8086\", \"device\": \"0x2020\", "
		"\"class\": \"0x060400\", \"header_type\": 0},"
		"{\"bdf\": \"0000:00:01.0\", \"vendor\": \"0x8086\", \"device\": \"0x2030\", "
		"\"class\": \"0x060400\", \"secondary_bus\": 1, \"subordinate_bus\": 1}]}");
	assert_int_equal(p2pdma_topo_find(t, "00:00.0")->header_type, 0);
	assert_int_equal(p2pdma_topo_find(t, "00:01.0")->header_type, 1);
	assert_int_equal(p2pdma_topo_find(t, "00:01.0")->primary, 0);
	assert_round_trip(ctx, t);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_round_trip),
		cmocka_unit_test(test_fixtures_round_trip),
		cmocka_unit_test(test_all_fields_values),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_bad_inputs_all_listed),
		cmocka_unit_test(test_string_and_missing_file),
		cmocka_unit_test(test_header_type_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
