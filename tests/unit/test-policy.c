/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-policy.c - kernel profiles, allow list and CPU rule (spec 1.2, 2.4, 6) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy-private.h"

static struct p2pdma_ctx *ctx;

static int setup(void **state)
{
	(void)state;
	return p2pdma_ctx_create(&ctx);
}

static int teardown(void **state)
{
	(void)state;
	p2pdma_ctx_destroy(ctx);
	return 0;
}

static struct p2pdma_policy *policy(const char *kernel, const char *cpu)
{
	struct p2pdma_policy *pol;

	assert_int_equal(p2pdma_policy_create(ctx, &pol), 0);
	if (kernel)
		assert_int_equal(p2pdma_policy_set_kernel(pol, kernel), 0);
	if (cpu)
		assert_int_equal(p2pdma_policy_set_cpu(pol, cpu), 0);
	return pol;
}

/* --- release parsing and profile selection (spec 6) --- */

static const struct {
	const char *spec;
	const char *release;
	int ret;
	const char *profile;	/* profile chosen */
} kernel_cases[] = {
	{ "6 X.Y", "6.12", 0, "6.11" },
	{ "6 X.Y.Z-suffix", "5.10.0-23-amd64", 0, "5.9" },
	{ "6 -rc counts as the release", "6.19-rc1", 0, "6.15" },
	{ "6 distro", "6.8.0-84-generic", 0, "6.0" },
	{ "6 leading v", "v5.4", 0, "5.4" },
	{ "6 first release", "4.20", 0, "4.20" },
	{ "6 4.20 point release", "4.20.17", 0, "4.20" },
	{ "6 5.0/5.1 have no whitelist", "5.1", 0, "4.20" },
	{ "1.2 root complex era 5.2", "5.2.21", 0, "5.2" },
	{ "1.2 5.3 still root complex", "5.3", 0, "5.2" },
	{ "2.4 table era 5.4", "5.4.0", 0, "5.4" },
	{ "1.2 SkyLake-E 5.6", "5.6", 0, "5.6" },
	{ "1.2 SkyLake-E B-D 5.7", "5.7", 0, "5.7" },
	{ "1.2 Raven/Renoir 5.8", "5.8", 0, "5.8" },
	{ "1.2 CPU rule 5.9", "5.9", 0, "5.9" },
	{ "2.8 warning 3 from 5.14", "5.15.0", 0, "5.14" },
	{ "1.2 0x09a2 5.18", "5.18", 0, "5.18" },
	{ "2.1 root-port host device 5.19", "5.19", 0, "5.19" },
	{ "2.7 config_acs 6.11", "6.11", 0, "6.11" },
	{ "2.7 config_acs fix 6.15", "6.15", 0, "6.15" },
	{ "1.2 Google wildcard 7.1", "7.1", 0, "7.1" },
	{ "1.2 newer than modelled", "9.3", 0, "7.2" },
	{ "6 too old", "4.19.300", -ERANGE, NULL },
	{ "6 RHEL 4.18", "4.18.0-553.el8_10.x86_64", -ERANGE, NULL },
	{ "6 garbage", "linux", -EINVAL, NULL },
	{ "6 no minor", "6", -EINVAL, NULL },
	{ "6 empty", "", -EINVAL, NULL },
	{ "6 bad suffix", "6.12abc", -EINVAL, NULL },
	{ "6 trailing dot", "6.", -EINVAL, NULL },
};

static void test_kernel(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kernel_cases) / sizeof(kernel_cases[0]); i++) {
		struct p2pdma_policy *pol;
		int ret;

		printf("# %s: %s\n", kernel_cases[i].spec, kernel_cases[i].release);
		assert_int_equal(p2pdma_policy_create(ctx, &pol), 0);
		ret = p2pdma_policy_set_kernel(pol, kernel_cases[i].release);
		assert_int_equal(ret, kernel_cases[i].ret);
		if (!ret) {
			assert_string_equal(p2pdma_policy_profile(pol)->name,
					    kernel_cases[i].profile);
			assert_string_equal(p2pdma_policy_kernel(pol),
					    kernel_cases[i].release);
		} else if (ret == -ERANGE) {
			assert_non_null(strstr(p2pdma_ctx_error(ctx), "P2PDMA appeared in 4.20"));
		} else {
			assert_non_null(strstr(p2pdma_ctx_error(ctx), "not a kernel release"));
		}
		p2pdma_policy_destroy(pol);
	}
}

static void test_default_profile(void **state)
{
	struct p2pdma_policy *pol = policy(NULL, NULL);
	const struct p2pdma_kernel_profile *last = NULL, *p;
	size_t i;

	(void)state;
	for (i = 0; (p = p2pdma_kernel_profile_at(i)); i++) {
		if (last)	/* sorted, so "newest not newer than" works */
			assert_true(last->kv < p->kv);
		last = p;
	}
	assert_ptr_equal(p2pdma_policy_profile(pol), last);
	p2pdma_policy_destroy(pol);
}

/* Per-era feature flags (spec 2.2, 2.5, 2.8, 6). */
static void test_profile_features(void **state)
{
	static const struct {
		const char *spec;
		const char *kernel;
		enum p2pdma_hb_era era;
		bool cache, warn, rootport, cpu, wildcard;
		int penalty;
		size_t list;
		const char *msg_not_supported_tail;
	} cases[] = {
		{ "2.2 4.20", "4.20", P2PDMA_HB_NONE, false, false, false, false, false, 0, 4096, "upstream bridge" },
		{ "2.2 5.2 0x1000 penalty", "5.2", P2PDMA_HB_ROOT_COMPLEX, false, false, false, false, false, 0x1000, 4096, "upstream bridge" },
		{ "2.5 5.4 cache", "5.4", P2PDMA_HB_TABLE, true, false, false, false, false, 0, 4096, "whitelisted host bridge" },
		{ "1.2 5.9 cpu", "5.9", P2PDMA_HB_TABLE, true, false, false, true, false, 0, 4096, "whitelisted host bridge" },
		{ "2.8 5.14 warn", "5.14", P2PDMA_HB_TABLE, true, true, false, true, false, 0, 128, "whitelisted host bridge" },
		{ "2.1 5.19 root port", "5.19", P2PDMA_HB_TABLE, true, true, true, true, false, 0, 128, "whitelisted host bridge" },
		{ "1.2 7.1 wildcard", "7.1", P2PDMA_HB_TABLE, true, true, true, true, true, 0, 128, "whitelisted host bridge" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct p2pdma_policy *pol = policy(cases[i].kernel, NULL);
		const struct p2pdma_kernel_profile *p = p2pdma_policy_profile(pol);
		size_t n = strlen(p->msg_not_supported), t = strlen(cases[i].msg_not_supported_tail);

		printf("# %s\n", cases[i].spec);
		assert_int_equal(p->hb_era, cases[i].era);
		assert_int_equal(p->map_cache, cases[i].cache);
		assert_int_equal(p->warn_host_bridge, cases[i].warn);
		assert_int_equal(p->msg_hb_not_listed != NULL, cases[i].warn);
		assert_int_equal(p->hostdev_root_port, cases[i].rootport);
		assert_int_equal(p->cpu_rule, cases[i].cpu);
		assert_int_equal(p->wildcard, cases[i].wildcard);
		assert_int_equal(p->hb_dist_penalty, cases[i].penalty);
		assert_int_equal(p->acs_list_size, cases[i].list);
		assert_true(p->examines_endpoint_acs);
		assert_true(n >= t);
		assert_string_equal(p->msg_not_supported + n - t, cases[i].msg_not_supported_tail);
		p2pdma_policy_destroy(pol);
	}
}

/* --- allow list (spec 1.2 table, 2.4) --- */

static const struct {
	const char *spec;
	const char *kernel;
	uint16_t vendor, device;
	bool listed;
	uint32_t flags;
} lookup_cases[] = {
	{ "1.2 AMD ZEN row 5.4", "5.4", 0x1022, 0x1450, true, 0 },
	{ "1.2 AMD rows gone with the CPU rule", "5.9", 0x1022, 0x1450, false, 0 },
	{ "1.2 Raven 5.8", "5.8", 0x1022, 0x15d0, true, 0 },
	{ "1.2 Raven not yet 5.7", "5.7", 0x1022, 0x15d0, false, 0 },
	{ "1.2 Intel 3c00 REQ_SAME", "6.18", 0x8086, 0x3c00, true, P2PDMA_REQ_SAME_HOST_BRIDGE },
	{ "1.2 Intel 2f01 REQ_SAME", "5.4", 0x8086, 0x2f01, true, P2PDMA_REQ_SAME_HOST_BRIDGE },
	{ "1.2 Intel 2030 not in 5.5", "5.5", 0x8086, 0x2030, false, 0 },
	{ "1.2 Intel 2030 5.6", "5.6", 0x8086, 0x2030, true, 0 },
	{ "1.2 Intel 2033 5.7", "5.7", 0x8086, 0x2033, true, 0 },
	{ "1.2 Intel 09a2 not in 5.17", "5.17", 0x8086, 0x09a2, false, 0 },
	{ "1.2 Intel 09a2 5.18", "5.18", 0x8086, 0x09a2, true, 0 },
	{ "1.2 root complex era: only AMD 0x1450", "5.2", 0x1022, 0x1450, true, 0 },
	{ "1.2 root complex era: no Intel", "5.3", 0x8086, 0x3c00, false, 0 },
	{ "1.2 4.20: no list", "4.20", 0x1022, 0x1450, false, 0 },
	{ "1.2 Google wildcard 7.1", "7.1", 0x1ae0, 0x0042, true, 0 },
	{ "1.2 no Google before 7.1", "6.19", 0x1ae0, 0x0042, false, 0 },
	{ "1.2 Intel DSA only after 7.1", "7.1", 0x8086, 0x0b25, false, 0 },
	{ "1.2 Intel DSA 7.2", "7.2", 0x8086, 0x0b25, true, 0 },
	{ "1.2 vendor must match", "7.2", 0x10de, 0x09a2, false, 0 },
};

static void test_lookup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lookup_cases) / sizeof(lookup_cases[0]); i++) {
		struct p2pdma_policy *pol = policy(lookup_cases[i].kernel, NULL);
		const struct p2pdma_allow_entry *e;

		printf("# %s\n", lookup_cases[i].spec);
		e = p2pdma_policy_allow_lookup(pol, lookup_cases[i].vendor,
					       lookup_cases[i].device);
		assert_int_equal(e != NULL, lookup_cases[i].listed);
		if (e) {
			assert_int_equal(e->flags, lookup_cases[i].flags);
			assert_non_null(e->since);
			assert_non_null(e->comment);
		}
		p2pdma_policy_destroy(pol);
	}
}

/* Every row carries its provenance; table order is the kernel's. */
static void test_rows(void **state)
{
	const struct p2pdma_allow_row *r;
	unsigned int kv;
	size_t i;

	(void)state;
	for (i = 0; (r = p2pdma_allow_row_at(i)); i++) {
		assert_non_null(r->e.comment);
		assert_int_equal(p2pdma_parse_release(r->e.since, &kv), 0);
		assert_int_equal(kv, r->since_kv);
		if (r->until)
			assert_true(r->until_kv > r->since_kv);
	}
	assert_true(i > 20);
}

static struct p2pdma_dev mkdev(uint16_t vendor, uint16_t device)
{
	struct p2pdma_dev d;

	memset(&d, 0, sizeof(d));
	d.vendor = vendor;
	d.device = device;
	return d;
}

static void test_host_bridge_allowed(void **state)
{
	struct p2pdma_dev skx = mkdev(0x8086, 0x2020), hsx = mkdev(0x8086, 0x2f00);
	struct p2pdma_dev icx = mkdev(0x8086, 0x09a2), other = mkdev(0x8086, 0x1234);
	struct p2pdma_dev zen = mkdev(0x1022, 0x1450), goog = mkdev(0x1ae0, 0x0001);
	static const struct {
		const char *spec;
		const char *kernel;
		int a, b;	/* index into devs[]; -1 = NULL */
		bool same;
		bool allowed;
		bool ea, eb;	/* matched rows reported */
	} cases[] = {
		{ "2.4 same HB, listed", "6.18", 0, 0, true, true, true, false },
		{ "2.4 same HB, REQ_SAME is fine", "6.18", 1, 1, true, true, true, false },
		{ "2.4 different HBs, both listed", "6.18", 0, 2, false, true, true, true },
		{ "2.4 different HBs, REQ_SAME on a", "6.18", 1, 0, false, false, true, false },
		{ "2.4 different HBs, REQ_SAME on b", "6.18", 0, 1, false, false, true, true },
		{ "2.4 different HBs, b not listed", "6.18", 0, 3, false, false, true, false },
		{ "2.4 same HB, not listed", "6.18", 3, 3, true, false, false, false },
		{ "2.4 no host device", "6.18", -1, 0, true, false, false, false },
		{ "2.4 no host device on b", "6.18", 0, -1, false, false, true, false },
		{ "2.4 wildcard only >= 7.1", "6.19", 5, 5, true, false, false, false },
		{ "2.4 wildcard 7.1", "7.1", 5, 5, true, true, true, false },
		{ "2.4 AMD ZEN row 5.4, different HBs", "5.4", 4, 4, false, true, true, true },
		{ "2.4 4.20 never", "4.20", 0, 0, true, false, false, false },
		{ "2.4 5.2 AMD both sides", "5.2", 4, 4, false, true, true, true },
		{ "2.4 5.2 needs both even on one root", "5.2", 4, 3, true, false, true, false },
	};
	struct p2pdma_dev *devs[] = { &skx, &hsx, &icx, &other, &zen, &goog };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct p2pdma_policy *pol = policy(cases[i].kernel, NULL);
		const struct p2pdma_allow_entry *ea = (void *)1, *eb = (void *)1;
		bool ok;

		printf("# %s\n", cases[i].spec);
		ok = p2pdma_policy_host_bridge_allowed(pol,
			cases[i].a < 0 ? NULL : devs[cases[i].a],
			cases[i].b < 0 ? NULL : devs[cases[i].b],
			cases[i].same, &ea, &eb);
		assert_int_equal(ok, cases[i].allowed);
		assert_int_equal(ea != NULL, cases[i].ea);
		assert_int_equal(eb != NULL, cases[i].eb);
		p2pdma_policy_destroy(pol);
	}
}

/* spec 2.4: the first matching row decides (tables are in kernel order). */
static void test_first_match(void **state)
{
	struct p2pdma_policy *pol = policy("7.2", NULL);
	const struct p2pdma_allow_row *r;
	const struct p2pdma_allow_entry *e;
	size_t i;

	(void)state;
	for (i = 0; (r = p2pdma_allow_row_at(i)); i++) {
		if (r->until || r->e.device == P2PDMA_ANY_ID)
			continue;
		e = p2pdma_policy_allow_lookup(pol, r->e.vendor, (uint16_t)r->e.device);
		assert_ptr_equal(e, &r->e);
	}
	p2pdma_policy_destroy(pol);
}

/* 5.2-5.3: an IOMMU disabled root_complex_whitelist() (spec 2.2 history). */
static void test_root_complex_iommu(void **state)
{
	struct p2pdma_dev zen = mkdev(0x1022, 0x1450);
	struct p2pdma_policy *pol = policy("5.3", NULL);

	(void)state;
	assert_true(p2pdma_policy_host_bridge_allowed(pol, &zen, &zen, false, NULL, NULL));
	p2pdma_policy_set_iommu_acs(pol, true);
	assert_false(p2pdma_policy_host_bridge_allowed(pol, &zen, &zen, false, NULL, NULL));
	p2pdma_policy_destroy(pol);
	/* 5.4 "Allow IOMMU for host bridge whitelist" */
	pol = policy("5.4", NULL);
	p2pdma_policy_set_iommu_acs(pol, true);
	assert_true(p2pdma_policy_host_bridge_allowed(pol, &zen, &zen, false, NULL, NULL));
	p2pdma_policy_destroy(pol);
}

/* spec 2.1 / 2.4: which first function is the host device, per era. */
static void test_hostdev(void **state)
{
	struct p2pdma_dev rp = mkdev(0x8086, 0x2032), hb00 = mkdev(0x8086, 0x2020);
	struct p2pdma_host_bridge hb;
	struct p2pdma_policy *pol;

	(void)state;
	rp.devfn = 2 << 3;
	rp.pcie_type = P2PDMA_PCIE_ROOT_PORT;
	hb00.devfn = 0;
	memset(&hb, 0, sizeof(hb));

	hb.first = &rp;
	pol = policy("5.18", NULL);
	assert_null(p2pdma_policy_hostdev(pol, &hb));
	p2pdma_policy_destroy(pol);
	pol = policy("5.19", NULL);
	assert_ptr_equal(p2pdma_policy_hostdev(pol, &hb), &rp);
	rp.pcie_type = P2PDMA_PCIE_ENDPOINT;	/* RCiEP-like first function */
	assert_null(p2pdma_policy_hostdev(pol, &hb));
	hb.first = &hb00;
	assert_ptr_equal(p2pdma_policy_hostdev(pol, &hb), &hb00);
	hb.first = NULL;
	assert_null(p2pdma_policy_hostdev(pol, &hb));
	p2pdma_policy_destroy(pol);
}

/* --- CPU rule (spec 1.2, 6) --- */

static const struct {
	const char *spec;
	const char *kernel;
	const char *cpu;	/* NULL: not set */
	int ret;
	bool rule;
	const char *note;	/* substring of the note, NULL: no note */
} cpu_cases[] = {
	{ "1.2 AMD Zen 0x17", "6.12", "AuthenticAMD:23", 0, true, NULL },
	{ "1.2 AMD hex family", "6.12", "amd:0x19", 0, true, NULL },
	{ "1.2 AMD 0x16 is pre-Zen", "6.12", "AuthenticAMD:22", 0, false, NULL },
	{ "1.2 AMD before 5.9", "5.8", "AuthenticAMD:25", 0, false, "predates the AMD Zen CPU rule" },
	{ "1.2 AMD 5.9", "5.9", "amd:25", 0, true, NULL },
	{ "1.2 Intel", "6.12", "GenuineIntel:6", 0, false, NULL },
	{ "1.2 Hygon is not X86_VENDOR_AMD", "6.12", "HygonGenuine:24", 0, false, "X86_VENDOR_AMD only" },
	{ "1.2 Zhaoxin vendor_id with spaces", "6.12", "  Shanghai  :7", 0, false, NULL },
	{ "1.2 Centaur", "6.12", "CentaurHauls:6", 0, false, NULL },
	{ "1.2 non-x86", "6.12", "arm", 0, false, NULL },
	{ "1.2 non-x86 with family", "6.12", "aarch64:8", 0, false, NULL },
	{ "1.2 unknown CPU", "6.12", NULL, 0, false, "CPU unknown" },
	{ "1.2 vendor_id is case-sensitive", "6.12", "authenticamd:23", -EINVAL, false, NULL },
	{ "1.2 empty family", "6.12", "amd:", -EINVAL, false, NULL },
	{ "1.2 no vendor", "6.12", ":23", -EINVAL, false, NULL },
	{ "1.2 bad family", "6.12", "amd:abc", -EINVAL, false, NULL },
	{ "1.2 unknown vendor", "6.12", "foo:23", -EINVAL, false, NULL },
	{ "1.2 x86 needs a family", "6.12", "amd", -EINVAL, false, NULL },
	{ "1.2 trailing junk", "6.12", "amd:23x", -EINVAL, false, NULL },
};

static void test_cpu(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cpu_cases) / sizeof(cpu_cases[0]); i++) {
		struct p2pdma_policy *pol = policy(cpu_cases[i].kernel, NULL);
		const char *note;

		printf("# %s: %s\n", cpu_cases[i].spec, cpu_cases[i].cpu ? cpu_cases[i].cpu : "(none)");
		if (cpu_cases[i].cpu) {
			int ret = p2pdma_policy_set_cpu(pol, cpu_cases[i].cpu);

			assert_int_equal(ret, cpu_cases[i].ret);
			if (ret) {
				assert_non_null(strstr(p2pdma_ctx_error(ctx), "accepted"));
				p2pdma_policy_destroy(pol);
				continue;
			}
		}
		assert_int_equal(p2pdma_policy_cpu_rule(pol), cpu_cases[i].rule);
		note = p2pdma_policy_cpu_note(pol);
		if (cpu_cases[i].note) {
			assert_non_null(note);
			assert_non_null(strstr(note, cpu_cases[i].note));
		} else {
			assert_null(note);
		}
		p2pdma_policy_destroy(pol);
	}
}

/* The kernel may be chosen after the CPU: the rule follows. */
static void test_cpu_then_kernel(void **state)
{
	struct p2pdma_policy *pol = policy(NULL, "AuthenticAMD:25");

	(void)state;
	assert_true(p2pdma_policy_cpu_rule(pol));
	assert_int_equal(p2pdma_policy_set_kernel(pol, "5.4"), 0);
	assert_false(p2pdma_policy_cpu_rule(pol));
	assert_non_null(p2pdma_policy_cpu_note(pol));
	assert_int_equal(p2pdma_policy_set_kernel(pol, "6.1"), 0);
	assert_true(p2pdma_policy_cpu_rule(pol));
	assert_null(p2pdma_policy_cpu_note(pol));
	p2pdma_policy_destroy(pol);
}

static void test_cpu_from_machine(void **state)
{
	static const struct {
		const char *spec;
		const char *vendor;
		int family;
		const char *arch;
		int ret;
		bool rule;
		bool note;
	} cases[] = {
		{ "6 /proc/cpuinfo AMD", "AuthenticAMD", 25, "x86_64", 0, true, false },
		{ "6 arch decides non-x86", "AuthenticAMD", 25, "aarch64", 0, false, false },
		{ "6 unknown vendor_id", "WeirdCPU", 6, "x86_64", -EINVAL, false, true },
		{ "6 nothing carried", NULL, -1, NULL, 0, false, true },
		{ "6 Intel", "GenuineIntel", 6, NULL, 0, false, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct p2pdma_policy *pol = policy("6.12", NULL);
		struct p2pdma_machine_info m = { cases[i].vendor, cases[i].family,
						 NULL, NULL, NULL, -1, cases[i].arch };

		printf("# %s\n", cases[i].spec);
		assert_int_equal(p2pdma_policy_set_cpu_from_machine(pol, &m), cases[i].ret);
		assert_int_equal(p2pdma_policy_cpu_rule(pol), cases[i].rule);
		assert_int_equal(p2pdma_policy_cpu_note(pol) != NULL, cases[i].note);
		p2pdma_policy_destroy(pol);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_default_profile),
		cmocka_unit_test(test_profile_features),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_host_bridge_allowed),
		cmocka_unit_test(test_first_match),
		cmocka_unit_test(test_root_complex_iommu),
		cmocka_unit_test(test_hostdev),
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_cpu_then_kernel),
		cmocka_unit_test(test_cpu_from_machine),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
