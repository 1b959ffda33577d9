/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-cmdline.c - pci=disable_acs_redir= / pci=config_acs= parsing and boot application (doc/kernel-model.md §2.7) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "../topo-build.h"
#include "policy-private.h"

/*
 * The test machine (domain 0):
 *
 *   00:00.0 host bridge 8086:2020
 *   00:01.0 root port  -> bus 01..03   ACS cap 0x1f, fw ctrl 0x0000
 *     01:00.0 switch upstream -> 02..03 (no ACS)
 *       02:00.0 switch downstream -> 03  ACS cap 0x7f, fw ctrl 0x0001
 *         03:00.0 endpoint 10de:2330 subsys 10de:16c1 (no ACS)
 *         03:00.1 endpoint 10de:2331 ACS cap 0x5f, fw ctrl 0x0000
 *   00:02.0 root port  -> bus 04       ACS cap 0x1f, fw ctrl 0x001d
 *     04:00.0 endpoint 15b3:1017 ACS unknown
 */
struct m {
	struct p2pdma_ctx *ctx;
	struct p2pdma_topo *topo;
	struct p2pdma_policy *pol;
};

static struct p2pdma_dev *add(struct p2pdma_topo *t, uint8_t bus, uint8_t dev,
			      uint8_t fn, uint16_t vendor, uint16_t device,
			      int pcie_type)
{
	struct p2pdma_dev *d = tb_add(t, bus, dev, fn, vendor, device, pcie_type);

	assert_non_null(d);
	return d;
}

static int setup(void **state)
{
	static struct m m;
	struct p2pdma_dev *d;

	assert_int_equal(p2pdma_ctx_create(&m.ctx), 0);
	m.topo = p2pdma_topo_alloc(m.ctx, P2PDMA_SRC_SYNTH, "test-cmdline");
	assert_non_null(m.topo);
	d = add(m.topo, 0, 0, 0, 0x8086, 0x2020, P2PDMA_PCIE_NONE);
	d->class_code = 0x060000;
	d = add(m.topo, 0, 1, 0, 0x8086, 0x2030, P2PDMA_PCIE_ROOT_PORT);
	tb_bridge(d, 1, 3);
	tb_acs(d, 0x1f, 0x0000);
	d = add(m.topo, 1, 0, 0, 0x10b5, 0x8747, P2PDMA_PCIE_UPSTREAM);
	tb_bridge(d, 2, 3);
	d = add(m.topo, 2, 0, 0, 0x10b5, 0x8747, P2PDMA_PCIE_DOWNSTREAM);
	tb_bridge(d, 3, 3);
	tb_acs(d, 0x7f, 0x0001);
	d = add(m.topo, 3, 0, 0, 0x10de, 0x2330, P2PDMA_PCIE_ENDPOINT);
	d->subvendor = 0x10de;
	d->subdevice = 0x16c1;
	d->multifunction = true;
	d = add(m.topo, 3, 0, 1, 0x10de, 0x2331, P2PDMA_PCIE_ENDPOINT);
	tb_acs(d, 0x5f, 0x0000);
	d = add(m.topo, 0, 2, 0, 0x8086, 0x2031, P2PDMA_PCIE_ROOT_PORT);
	tb_bridge(d, 4, 4);
	tb_acs(d, 0x1f, 0x001d);
	d = add(m.topo, 4, 0, 0, 0x15b3, 0x1017, P2PDMA_PCIE_ENDPOINT);
	d->acs_state = P2PDMA_ACS_UNKNOWN;
	assert_int_equal(p2pdma_topo_finalize(m.topo, "test-cmdline"), 0);
	/* Booted without an IOMMU: the registers are what firmware left. */
	m.topo->machine.iommu = 0;
	*state = &m;
	return 0;
}

static int teardown(void **state)
{
	struct m *m = *state;

	p2pdma_topo_destroy(m->topo);
	p2pdma_ctx_destroy(m->ctx);
	return 0;
}

static struct p2pdma_dev *dev(struct m *m, const char *bdf)
{
	struct p2pdma_dev *d = p2pdma_topo_find(m->topo, bdf);

	assert_non_null(d);
	return d;
}

/* --- command line tokenising: kernel/params.c + pci_setup() --- */

static const struct {
	const char *spec;	/* spec section checked */
	const char *cmdline;
	int ret;
	const char *redir;	/* NULL: absent */
	const char *config;
} tok_cases[] = {
	{ "2.7 param", "ro quiet pci=disable_acs_redir=0000:00:01.0", 0, "0000:00:01.0", NULL },
	{ "2.7 ',' ends a pci= option", "pci=noats,config_acs=1x@pci:0:0,realloc", 0, NULL, "1x@pci:0:0" },
	{ "2.7 pci= params accumulate", "pci=disable_acs_redir=00:01.0 pci=config_acs=0@00:02.0", 0, "00:01.0", "0@00:02.0" },
	{ "2.7 later value wins", "pci=config_acs=1@00:01.0 pci=config_acs=0@00:02.0", 0, NULL, "0@00:02.0" },
	{ "2.7 quoted value", "pci=\"disable_acs_redir=00:01.0;00:02.0\" x", 0, "00:01.0;00:02.0", NULL },
	{ "2.7 quoted param", "\"pci=config_acs=1@00:01.0\"", 0, NULL, "1@00:01.0" },
	{ "2.7 '--' ends kernel args", "quiet -- pci=config_acs=1@00:01.0", 0, NULL, NULL },
	{ "2.7 other params ignored", "xpci=config_acs=1@00:01.0 pcie_acs_override=downstream", 0, NULL, NULL },
	{ "2.7 unbalanced quote", "pci=\"config_acs=1@00:01.0", -EINVAL, NULL, NULL },
	{ "2.7 empty", "", 0, NULL, NULL },
};

static void test_tokenise(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tok_cases) / sizeof(tok_cases[0]); i++) {
		char buf[256];
		const char *redir, *config;
		int ret = p2pdma_cmdline_pci_params(tok_cases[i].cmdline, buf,
						    sizeof(buf), &redir, &config);

		printf("# %s: %s\n", tok_cases[i].spec, tok_cases[i].cmdline);
		assert_int_equal(ret, tok_cases[i].ret);
		if (ret)
			continue;
		if (tok_cases[i].redir)
			assert_string_equal(redir, tok_cases[i].redir);
		else
			assert_null(redir);
		if (tok_cases[i].config)
			assert_string_equal(config, tok_cases[i].config);
		else
			assert_null(config);
	}
}

/* --- pci_dev_str_match() --- */

static const struct {
	const char *spec;
	const char *bdf;
	const char *str;
	int ret;
	const char *rest;	/* what *endptr points at */
} match_cases[] = {
	{ "2.7 bdf with domain", "0000:00:01.0", "0000:00:01.0", 1, "" },
	{ "2.7 bdf domain defaults to 0", "0000:00:01.0", "00:01.0", 1, "" },
	{ "2.7 bdf other device", "0000:00:02.0", "00:01.0;00:02.0", 0, ";00:02.0" },
	{ "2.7 bdf hex fields", "0000:00:02.0", "0:2.0", 1, "" },
	{ "2.7 bdf trailing garbage", "0000:00:01.0", "00:01.0x", -EINVAL, NULL },
	{ "2.7 path ends at ';' not ','", "0000:00:01.0", "00:01.0,00:02.0", -EINVAL, NULL },
	{ "2.7 path form", "0000:03:00.1", "0000:00:01.0/00.0/00.0/00.1", 1, "" },
	{ "2.7 path: last hop is the device", "0000:03:00.0", "0000:00:01.0/00.0/00.0/00.1", 0, "" },
	{ "2.7 path: wrong root", "0000:03:00.1", "0000:00:02.0/00.0/00.0/00.1", 0, "" },
	{ "2.7 path: too short", "0000:03:00.1", "0000:00:01.0/00.1", 0, "" },
	{ "2.7 path: bad hop", "0000:03:00.1", "0000:00:01.0/0", -EINVAL, NULL },
	{ "2.7 pci: wildcard", "0000:04:00.0", "pci:0:0", 1, "" },
	{ "2.7 pci: vendor only", "0000:03:00.0", "pci:10de:0;x", 1, ";x" },
	{ "2.7 pci: wrong device", "0000:03:00.0", "pci:10de:1234,pci:0:0", 0, ",pci:0:0" },
	{ "2.7 pci: subsystem", "0000:03:00.0", "pci:10de:2330:10de:16c1", 1, "" },
	{ "2.7 pci: subsystem mismatch", "0000:03:00.0", "pci:10de:2330:10de:16c2", 0, "" },
	{ "2.7 pci: 3 fields = 2-field form", "0000:03:00.0", "pci:10de:2330:10de", 1, ":10de" },
	{ "2.7 pci: no device field", "0000:03:00.0", "pci:10de", -EINVAL, NULL },
	{ "2.7 pci: %hx truncates", "0000:03:00.0", "pci:110de:0", 1, "" },
};

static void test_str_match(void **state)
{
	struct m *m = *state;
	size_t i;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const char *end = NULL;
		int ret;

		printf("# %s: %s vs %s\n", match_cases[i].spec, match_cases[i].bdf,
		       match_cases[i].str);
		ret = p2pdma_dev_str_match(dev(m, match_cases[i].bdf),
					   match_cases[i].str, &end);
		assert_int_equal(ret, match_cases[i].ret);
		if (match_cases[i].rest)
			assert_string_equal(end, match_cases[i].rest);
	}
}

/* --- __pci_config_acs() on one device --- */

static char last_lines[8][256];
static int nlines;

static void collect(void *data, const char *text)
{
	(void)data;
	if (nlines < 8)
		snprintf(last_lines[nlines++], sizeof(last_lines[0]), "%s", text);
}

static const struct {
	const char *spec;
	enum p2pdma_acs_cmdline_era era;
	const char *bdf;
	uint16_t ctrl, fw;	/* ctrl before (fw + IOMMU defaults), firmware */
	const char *param;
	bool redir;		/* disable_acs_redir (fixed mask) or config_acs */
	bool applied;
	uint16_t result;
	const char *log0;	/* first log line, NULL: none */
} acs_cases[] = {
	/* config_acs flags: right to left, '1' set, '0' clear, 'x' keep */
	{ "2.7 flags right to left", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:01.0",
	  0x0000, 0x0000, "100@0000:00:01.0", false, true, 0x0004,
	  "pci 0000:00:01.0: Configured ACS to 0x0004" },
	{ "2.7 '0' forces off, outside mask = fw (6.15)", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:01.0",
	  0x001d, 0x0001, "00x@0000:00:01.0", false, true, 0x0001, NULL },
	{ "2.7 x bits keep fw not defaults (6.15)", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:01.0",
	  0x001d, 0x0000, "1xx@pci:0:0", false, true, 0x0004, NULL },
	{ "2.7 doc example 10x@pci:0:0", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:02:00.0",
	  0x001f, 0x0003, "10x@pci:0:0", false, true, 0x0005, NULL },
	{ "2.7 bits beyond 7", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:01.0",
	  0x0000, 0x0000, "10000000@pci:0:0", false, false, 0x0000,
	  "pci 0000:00:01.0: Invalid ACS flags specified" },
	{ "2.7 invalid flag char", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:01.0",
	  0x0000, 0x0000, "1y0@pci:0:0", false, false, 0x0000,
	  "pci 0000:00:01.0: Invalid ACS flags... Ignoring" },
	{ "2.7 missing '@'", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:01.0",
	  0x0000, 0x0000, "0000:00:01.0", false, false, 0x0000,
	  "pci 0000:00:01.0: ACS Flags missing" },
	{ "2.7 first matching entry wins", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:02.0",
	  0x0000, 0x0000, "1@00:01.0;100@00:02.0;1000@pci:0:0", false, true, 0x0004, NULL },
	{ "2.7 no entry matches", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:02.0",
	  0x001d, 0x001d, "1@00:01.0", false, false, 0x001d, NULL },
	{ "2.7 unparsable entry stops", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:02.0",
	  0x0000, 0x0000, "1@zz;1@00:02.0", false, false, 0x0000,
	  "PCI: Can't parse ACS command line parameter" },
	{ "2.7 second entry (6.15 resets mask)", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:02.0",
	  0x0000, 0x0000, "1@00:01.0;100@00:02.0", false, true, 0x0004, NULL },
	{ "2.7 second entry (6.11 bug: mask kept)", P2PDMA_ACS_CMDLINE_CONFIG_6_11, "0000:00:02.0",
	  0x0000, 0x0000, "1@00:01.0;100@00:02.0", false, false, 0x0000,
	  "PCI: Can't parse ACS command line parameter" },
	{ "2.7 6.11: '0' takes fw, flags ORed", P2PDMA_ACS_CMDLINE_CONFIG_6_11, "0000:00:01.0",
	  0x001d, 0x0004, "011@00:01.0", false, true, 0x001f, NULL },
	/* disable_acs_redir: mask RR|CR|EC, flags 0 */
	{ "2.7 disable_acs_redir (6.15)", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:02.0",
	  0x001d, 0x001d, "0000:00:02.0", true, true, 0x0011,
	  "pci 0000:00:02.0: Configured ACS to 0x0011" },
	{ "2.7 disable_acs_redir (6.11 bug)", P2PDMA_ACS_CMDLINE_CONFIG_6_11, "0000:00:02.0",
	  0x007f, 0x007b, "0000:00:02.0", true, true, 0xfffb, NULL },
	{ "2.7 disable_acs_redir list", P2PDMA_ACS_CMDLINE_CONFIG_6_15, "0000:00:02.0",
	  0x001d, 0x001d, "00:01.0;0000:00:02.0", true, true, 0x0011, NULL },
};

static void test_config_acs(void **state)
{
	struct m *m = *state;
	size_t i;

	for (i = 0; i < sizeof(acs_cases) / sizeof(acs_cases[0]); i++) {
		bool once = false, applied;
		struct p2pdma_acs_log log = { collect, NULL, &once };
		uint16_t ctrl = acs_cases[i].ctrl;

		printf("# %s: %s\n", acs_cases[i].spec, acs_cases[i].param);
		nlines = 0;
		if (acs_cases[i].redir)
			applied = p2pdma_config_acs(acs_cases[i].era, dev(m, acs_cases[i].bdf),
						    &ctrl, acs_cases[i].fw, acs_cases[i].param,
						    P2PDMA_ACS_REDIR_MASK,
						    (uint16_t)~P2PDMA_ACS_REDIR_MASK,
						    &log, NULL, 0);
		else
			applied = p2pdma_config_acs(acs_cases[i].era, dev(m, acs_cases[i].bdf),
						    &ctrl, acs_cases[i].fw, acs_cases[i].param,
						    0, 0, &log, NULL, 0);
		assert_int_equal(applied, acs_cases[i].applied);
		assert_int_equal(ctrl, acs_cases[i].result);
		if (acs_cases[i].log0) {
			assert_true(nlines > 0);
			assert_string_equal(last_lines[0], acs_cases[i].log0);
		}
	}
}

/* --- the kernel's boot: IOMMU defaults -> disable_acs_redir -> config_acs --- */

static bool log_has(const struct p2pdma_kernel *k, const char *text)
{
	size_t i;

	for (i = 0; i < p2pdma_kernel_log_count(k); i++)
		if (strstr(p2pdma_kernel_log_entry(k, i, NULL, NULL), text))
			return true;
	return false;
}

static bool log_has_code(const struct p2pdma_kernel *k, enum p2pdma_note code)
{
	enum p2pdma_note c;
	size_t i;

	for (i = 0; i < p2pdma_kernel_log_count(k); i++) {
		p2pdma_kernel_log_entry(k, i, NULL, &c);
		if (c == code)
			return true;
	}
	return false;
}

/* The ACS Control of @bdf in the kernel's hardware after boot. */
static uint16_t kctrl(const struct p2pdma_kernel *k, const char *bdf)
{
	struct p2pdma_dev_info in;
	const struct p2pdma_dev *d = p2pdma_topo_find(p2pdma_kernel_topo(k), bdf);

	assert_non_null(d);
	p2pdma_dev_get_info(d, &in, sizeof(in));
	return in.acs_ctrl;
}

static struct p2pdma_kernel *boot(struct m *m, const char *kernel, bool iommu,
				  const char *cmdline)
{
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;

	assert_int_equal(p2pdma_policy_create(m->ctx, &pol), 0);
	assert_int_equal(p2pdma_policy_set_kernel(pol, kernel), 0);
	assert_int_equal(p2pdma_policy_set_cmdline(pol, cmdline), 0);
	p2pdma_policy_set_iommu_acs(pol, iommu);
	assert_int_equal(p2pdma_kernel_boot(m->ctx, m->topo, pol, &k), 0);
	p2pdma_policy_destroy(pol);
	return k;
}

static const struct {
	const char *spec;
	const char *kernel;
	bool iommu;
	const char *cmdline;
	uint16_t rp1, dsp, ep1, rp2;	/* resulting ACS Control */
	const char *log;		/* a line expected in the log, or NULL */
} apply_cases[] = {
	{ "2.7 nothing to do", "6.18", false, "", 0x0000, 0x0001, 0x0000, 0x001d, NULL },
	{ "2.7 step 4 IOMMU defaults (SV|RR|CR|UF advertised)", "6.18", true, "",
	  0x001d, 0x001d, 0x001d, 0x001d, NULL },
	{ "2.7 step 5 disable_acs_redir after defaults", "6.18", true,
	  /* 6.15: bits outside the mask revert to firmware (defaults dropped) */
	  "pci=disable_acs_redir=0000:00:01.0;0000:02:00.0", 0x0000, 0x0001, 0x001d, 0x001d,
	  "pci 0000:00:01.0: Configured ACS to 0x0000" },
	{ "2.7 step 6 config_acs after disable_acs_redir (fw_ctrl base)", "6.18", true,
	  "pci=disable_acs_redir=0000:00:01.0 pci=config_acs=1xx@0000:00:01.0", 0x0004, 0x001d, 0x001d, 0x001d,
	  "pci 0000:00:01.0: Configured ACS to 0x0004" },
	{ "2.7 config_acs everywhere pci:0:0", "6.18", false, "pci=config_acs=0000000@pci:0:0",
	  0x0000, 0x0000, 0x0000, 0x0000, NULL },
	{ "2.7 unknown ACS is logged, not changed", "6.18", true, "", 0x001d, 0x001d, 0x001d, 0x001d,
	  "0000:04:00.0: ACS capability unknown" },
	{ "2.7 before 6.11: only disable_acs_redir, from live value", "6.8", true,
	  "pci=disable_acs_redir=00:02.0 pci=config_acs=1@pci:0:0", 0x001d, 0x001d, 0x001d, 0x0011,
	  "PCI: Unknown option `config_acs=1@pci:0:0'" },
	{ "2.7 before 6.11: kernel message", "5.10", false, "pci=disable_acs_redir=00:02.0",
	  0x0000, 0x0001, 0x0000, 0x0011, "pci 0000:00:02.0: disabled ACS redirect" },
	{ "2.7 before 6.11: no ACS capability", "5.10", false, "pci=disable_acs_redir=03:00.0",
	  0x0000, 0x0001, 0x0000, 0x001d,
	  "pci 0000:03:00.0: cannot disable ACS redirect for this hardware as it does not have ACS capabilities" },
	{ "2.7 unimplemented bits read back 0", "6.18", false, "pci=config_acs=1111111@00:01.0",
	  0x001f, 0x0001, 0x0000, 0x001d, "0000:00:01.0: bits 0x0060 written but not implemented" },
};

static void test_apply(void **state)
{
	struct m *m = *state;
	size_t i;

	for (i = 0; i < sizeof(apply_cases) / sizeof(apply_cases[0]); i++) {
		struct p2pdma_kernel *k;

		printf("# %s: %s\n", apply_cases[i].spec, apply_cases[i].cmdline);
		k = boot(m, apply_cases[i].kernel, apply_cases[i].iommu, apply_cases[i].cmdline);
		assert_int_equal(kctrl(k, "00:01.0"), apply_cases[i].rp1);
		assert_int_equal(kctrl(k, "02:00.0"), apply_cases[i].dsp);
		assert_int_equal(kctrl(k, "03:00.1"), apply_cases[i].ep1 & 0x5f);
		assert_int_equal(kctrl(k, "00:02.0"), apply_cases[i].rp2);
		if (apply_cases[i].log)
			assert_true(log_has(k, apply_cases[i].log));
		/* The machine it booted on is not changed. */
		assert_int_equal(dev(m, "00:01.0")->acs_ctrl, 0x0000);
		assert_int_equal(dev(m, "00:02.0")->acs_ctrl, 0x001d);
		p2pdma_kernel_shutdown(k);
	}
}

static void test_apply_idempotent(void **state)
{
	struct m *m = *state;
	struct p2pdma_kernel *k1, *k2;
	struct p2pdma_policy *pol;

	/* A boot starts from the loaded (firmware) values, also when the
	 * machine is itself a booted kernel's copy: twice = once. */
	k1 = boot(m, "6.18", false, "pci=config_acs=1x@pci:0:0");
	assert_int_equal(kctrl(k1, "00:02.0"), 0x001f);
	assert_int_equal(p2pdma_policy_create(m->ctx, &pol), 0);
	assert_int_equal(p2pdma_policy_set_kernel(pol, "6.18"), 0);
	assert_int_equal(p2pdma_policy_set_cmdline(pol, "pci=config_acs=1x@pci:0:0"), 0);
	assert_int_equal(p2pdma_kernel_boot(m->ctx, p2pdma_kernel_topo(k1), pol, &k2), 0);
	assert_int_equal(kctrl(k2, "00:02.0"), 0x001f);
	assert_int_equal(kctrl(k2, "00:01.0"), 0x0002);
	p2pdma_policy_destroy(pol);
	p2pdma_kernel_shutdown(k1);
	p2pdma_kernel_shutdown(k2);
}

static void test_explain(void **state)
{
	struct m *m = *state;
	struct p2pdma_policy *pol;
	struct p2pdma_cmdline_match cm;

	assert_int_equal(p2pdma_policy_create(m->ctx, &pol), 0);
	/* §2.7 + §6: explain a live /proc/cmdline, structurally */
	assert_true(p2pdma_policy_cmdline_match(pol,
		"BOOT_IMAGE=/vmlinuz pci=config_acs=xx0xx@0000:00:01.0/00.0/00.0",
		dev(m, "02:00.0"), &cm));
	assert_int_equal(cm.param, P2PDMA_PARAM_CONFIG_ACS);
	assert_string_equal(cm.entry, "xx0xx@0000:00:01.0/00.0/00.0");
	assert_false(p2pdma_policy_cmdline_match(pol,
		"pci=config_acs=xx0xx@0000:00:01.0/00.0/00.0", dev(m, "00:01.0"), &cm));
	assert_true(p2pdma_policy_cmdline_match(pol, "pci=disable_acs_redir=pci:8086:2031",
						dev(m, "00:02.0"), &cm));
	assert_int_equal(cm.param, P2PDMA_PARAM_DISABLE_ACS_REDIR);
	assert_string_equal(cm.entry, "pci:8086:2031");
	/* an entry the kernel rejects matches nothing */
	assert_false(p2pdma_policy_cmdline_match(pol, "pci=config_acs=00:02.0",
						 dev(m, "00:02.0"), NULL));
	/* NULL = the policy's own line */
	assert_int_equal(p2pdma_policy_set_cmdline(pol, "pci=disable_acs_redir=00:02.0"), 0);
	assert_true(p2pdma_policy_cmdline_match(pol, NULL, dev(m, "00:02.0"), NULL));
	p2pdma_policy_destroy(pol);
}

/* What the kernel silently ignores in a command line gets a note. */
static void test_cmdline_warnings(void **state)
{
	static const struct {
		const char *cmdline;
		enum p2pdma_note code;
		const char *text;
	} cases[] = {
		/* the last pci=disable_acs_redir= wins: the first is lost */
		{ "pci=disable_acs_redir=00:01.0 pci=disable_acs_redir=00:02.0",
		  P2PDMA_NOTE_PARAM_OVERRIDDEN, "only the last one takes effect" },
		{ "pci=config_acs=1@00:01.0,config_acs=0@00:02.0",
		  P2PDMA_NOTE_PARAM_OVERRIDDEN, "pci=config_acs=" },
		/* a device this machine does not have */
		{ "pci=disable_acs_redir=0000:16:01.0", P2PDMA_NOTE_PARAM_NO_DEVICE,
		  "'0000:16:01.0' matches no function" },
		{ "pci=config_acs=x0x00xx@0000:16:01.0", P2PDMA_NOTE_PARAM_NO_DEVICE,
		  "'x0x00xx@0000:16:01.0' matches no function" },
		/* a ',' cuts the list after its first device */
		{ "pci=disable_acs_redir=00:01.0,00:02.0", P2PDMA_NOTE_PARAM_COMMA,
		  "'00:02.0' is not part of the ACS list" },
		{ "pci=disable_acs_redir=00:01.0,00:02.0", P2PDMA_NOTE_NONE,
		  "PCI: Unknown option `00:02.0'" },
	};
	struct m *m = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct p2pdma_kernel *k = boot(m, "6.18", false, cases[i].cmdline);

		printf("# %s\n", cases[i].cmdline);
		assert_true(log_has(k, cases[i].text));
		if (cases[i].code != P2PDMA_NOTE_NONE)
			assert_true(log_has_code(k, cases[i].code));
		p2pdma_kernel_shutdown(k);
	}
	/* A clean line says nothing of the kind. */
	{
		struct p2pdma_kernel *k = boot(m, "6.18", false,
					       "pci=disable_acs_redir=00:01.0;00:02.0");

		assert_false(log_has_code(k, P2PDMA_NOTE_PARAM_OVERRIDDEN));
		assert_false(log_has_code(k, P2PDMA_NOTE_PARAM_NO_DEVICE));
		assert_false(log_has_code(k, P2PDMA_NOTE_PARAM_COMMA));
		p2pdma_kernel_shutdown(k);
	}
}

static void test_set_cmdline_errors(void **state)
{
	struct m *m = *state;
	struct p2pdma_policy *pol;

	assert_int_equal(p2pdma_policy_create(m->ctx, &pol), 0);
	assert_int_equal(p2pdma_policy_set_cmdline(pol, "pci=\"config_acs=1@00:01.0"), -EINVAL);
	assert_non_null(strstr(p2pdma_ctx_error(m->ctx), "unbalanced"));
	p2pdma_policy_destroy(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokenise),
		cmocka_unit_test(test_str_match),
		cmocka_unit_test(test_config_acs),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_apply_idempotent),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_cmdline_warnings),
		cmocka_unit_test(test_set_cmdline_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
