// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-cmdline.c - fuzz target: kernel command-line parsing and ACS application */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../topo-build.h"
#include "policy-private.h"
#include "p2pdma/kernel.h"

/*
 * Input layout: byte 0 picks the kernel profile (bits 0-1: 4.20, 6.12,
 * 6.15, 7.1 - one of each ACS command-line era and the newest), whether an
 * IOMMU requests ACS (bit 2) and whether the capture says it booted with
 * one (bit 3: machine.iommu 1, else 0 - the register-based guess for an
 * unknown machine is policy, not parsing, and would blur the property); byte 1 is the ACS Capability of one downstream port; the
 * rest is the command line.
 */
static const char *const profiles[] = { "4.20", "6.12", "6.15", "7.1" };

static struct p2pdma_dev *add(struct p2pdma_topo *t, uint8_t bus, uint8_t dev,
			      uint8_t fn, uint16_t vendor, uint16_t device,
			      int pcie_type)
{
	struct p2pdma_dev *d = tb_add(t, bus, dev, fn, vendor, device, pcie_type);

	FUZZ_CHECK(d != NULL, "out of memory");
	d->class_code = 0x020000;
	return d;
}

/*
 *   00:00.0 host bridge
 *   00:01.0 root port -> 01..04       ACS cap 0x1f, fw ctrl 0x0000
 *     01:00.0 switch upstream -> 02..04 (no ACS)
 *       02:00.0 downstream -> 03      ACS cap 0x7f, fw ctrl 0x0001
 *         03:00.0 endpoint, multifunction (no ACS)
 *         03:00.1 endpoint            ACS cap 0x5f, fw ctrl 0x0000
 *       02:01.0 downstream -> 04      ACS cap from the input, fw ctrl 0x0040
 *         04:00.0 endpoint            ACS unknown
 *   00:02.0 root port -> 05           ACS cap 0xff1f (egress vector bits), fw ctrl 0x001d
 *     05:00.0 endpoint                (no ACS)
 */
static struct p2pdma_topo *build(struct p2pdma_ctx *ctx, uint8_t cap, bool iommu)
{
	struct p2pdma_topo *t = p2pdma_topo_alloc(ctx, P2PDMA_SRC_SYNTH, "fuzz-cmdline");
	struct p2pdma_dev *d;
	int ret;

	FUZZ_CHECK(t != NULL, "out of memory");
	t->machine.iommu = iommu ? 1 : 0;
	d = add(t, 0, 0, 0, 0x8086, 0x2020, P2PDMA_PCIE_NONE);
	d->class_code = 0x060000;
	d = add(t, 0, 1, 0, 0x8086, 0x2030, P2PDMA_PCIE_ROOT_PORT);
	tb_bridge(d, 1, 4);
	tb_acs(d, 0x1f, 0x0000);
	d = add(t, 1, 0, 0, 0x10b5, 0x8747, P2PDMA_PCIE_UPSTREAM);
	tb_bridge(d, 2, 4);
	d = add(t, 2, 0, 0, 0x10b5, 0x8747, P2PDMA_PCIE_DOWNSTREAM);
	tb_bridge(d, 3, 3);
	tb_acs(d, 0x7f, 0x0001);
	d = add(t, 3, 0, 0, 0x10de, 0x2330, P2PDMA_PCIE_ENDPOINT);
	d->subvendor = 0x10de;
	d->subdevice = 0x16c1;
	d->multifunction = true;
	d = add(t, 3, 0, 1, 0x10de, 0x2331, P2PDMA_PCIE_ENDPOINT);
	tb_acs(d, 0x5f, 0x0000);
	d = add(t, 2, 1, 0, 0x10b5, 0x8747, P2PDMA_PCIE_DOWNSTREAM);
	tb_bridge(d, 4, 4);
	tb_acs(d, cap, 0x0040);
	d = add(t, 4, 0, 0, 0x15b3, 0x1017, P2PDMA_PCIE_ENDPOINT);
	d->acs_state = P2PDMA_ACS_UNKNOWN;
	d = add(t, 0, 2, 0, 0x8086, 0x2031, P2PDMA_PCIE_ROOT_PORT);
	tb_bridge(d, 5, 5);
	tb_acs(d, 0xff1f, 0x001d);
	d = add(t, 5, 0, 0, 0x144d, 0xa808, P2PDMA_PCIE_ENDPOINT);
	d->class_code = 0x010802;
	ret = p2pdma_topo_finalize(t, "fuzz-cmdline");
	FUZZ_CHECK(ret == 0, "fixed topology does not finalize: %s", p2pdma_ctx_error(ctx));
	return t;
}

/* A snapshot of what a boot decided: every ACS Control, and the log. */
struct after {
	uint16_t ctrl[16];
	size_t nlog;
	char **log;
};

static void snapshot(const struct p2pdma_kernel *k, struct after *s)
{
	const struct p2pdma_topo *t = p2pdma_kernel_topo(k);
	size_t i;

	for (i = 0; i < t->ndevs; i++)
		s->ctrl[i] = t->devs[i]->acs_ctrl;
	s->nlog = p2pdma_kernel_log_count(k);
	s->log = calloc(s->nlog + 1, sizeof(*s->log));
	FUZZ_CHECK(s->log != NULL, "out of memory");
	for (i = 0; i < s->nlog; i++) {
		s->log[i] = strdup(p2pdma_kernel_log_entry(k, i, NULL, NULL));
		FUZZ_CHECK(s->log[i] != NULL, "out of memory");
	}
}

static void snapshot_free(struct after *s)
{
	size_t i;

	for (i = 0; i < s->nlog; i++)
		free(s->log[i]);
	free(s->log);
}

static struct p2pdma_kernel *boot(struct p2pdma_ctx *ctx, const struct p2pdma_topo *t,
				  const struct p2pdma_policy *pol)
{
	struct p2pdma_kernel *k;
	int ret = p2pdma_kernel_boot(ctx, t, pol, &k);

	FUZZ_CHECK(ret == 0, "boot: %d: %s", ret, p2pdma_ctx_error(ctx));
	return k;
}

/*
 * Properties, for any command line:
 *  - set_cmdline accepts it or says -EINVAL (unbalanced quote), and then
 *    the boot still succeeds;
 *  - after the boot, a function with ACS reads back only control bits its
 *    capability advertises; one without (absent/unknown) is untouched;
 *    the machine booted on is never changed;
 *  - in the 4.19-6.10 era (only disable_acs_redir=) the result lies
 *    between "redirect bits cleared" and "nothing cleared" of what the
 *    same boot gives without a command line: no other bit can move;
 *  - a boot is a pure function: booting again gives the same registers
 *    and the same log;
 *  - p2pdma_policy_cmdline_match() does not disagree with itself.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pdma_kernel *k0, *k1, *k2;
	struct p2pdma_policy *pol;
	struct p2pdma_topo *t;
	struct p2pdma_ctx *ctx;
	struct after one, two;
	uint16_t boot_ctrl[16], base[16];
	bool iommu_acs;
	char *line;
	size_t i;
	int ret;

	if (size < 2)
		return 0;
	line = malloc(size - 1);
	FUZZ_CHECK(line != NULL, "out of memory");
	memcpy(line, data + 2, size - 2);
	line[size - 2] = '\0';

	FUZZ_CHECK(p2pdma_ctx_create(&ctx) == 0, "context creation failed");
	FUZZ_CHECK(p2pdma_policy_create(ctx, &pol) == 0, "policy creation failed");
	ret = p2pdma_policy_set_kernel(pol, profiles[data[0] & 3]);
	FUZZ_CHECK(ret == 0, "profile %s: %d", profiles[data[0] & 3], ret);
	iommu_acs = data[0] & 4;
	p2pdma_policy_set_iommu_acs(pol, iommu_acs);
	t = build(ctx, data[1], data[0] & 8);
	/* The registers are what firmware left (no IOMMU at the capture). */
	t->machine.iommu = 0;
	FUZZ_CHECK(t->ndevs <= 16, "topology grew");
	for (i = 0; i < t->ndevs; i++)
		boot_ctrl[i] = t->devs[i]->acs_ctrl;

	/* What the same (what-if) boot does with no ACS parameter: the baseline. */
	FUZZ_CHECK(p2pdma_policy_set_cmdline(pol, "quiet") == 0, "plain command line refused");
	k0 = boot(ctx, t, pol);
	for (i = 0; i < t->ndevs; i++)
		base[i] = p2pdma_kernel_topo(k0)->devs[i]->acs_ctrl;

	ret = p2pdma_policy_set_cmdline(pol, line);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "set_cmdline: %d", ret);
	k1 = boot(ctx, t, pol);
	snapshot(k1, &one);

	for (i = 0; i < t->ndevs; i++) {
		const struct p2pdma_dev *d = p2pdma_kernel_topo(k1)->devs[i];
		uint16_t impl = d->acs_cap & 0x7f;

		if (d->acs_state != P2PDMA_ACS_PRESENT) {
			FUZZ_CHECK(d->acs_ctrl == d->acs_ctrl_boot,
				   "%s: ACS state %d but ctrl moved %#x -> %#x", d->name,
				   d->acs_state, d->acs_ctrl_boot, d->acs_ctrl);
			continue;
		}
		FUZZ_CHECK(!(d->acs_ctrl & ~impl), "%s: ctrl %#x has bits cap %#x lacks",
			   d->name, d->acs_ctrl, d->acs_cap);
		if (p2pdma_policy_profile(pol)->acs_cmdline != P2PDMA_ACS_CMDLINE_REDIR_ONLY)
			continue;
		FUZZ_CHECK((d->acs_ctrl & ~base[i]) == 0 &&
			   (base[i] & ~P2PDMA_ACS_REDIR_MASK & ~d->acs_ctrl) == 0,
			   "%s: 4.20 era: ctrl %#x, without the command line %#x",
			   d->name, d->acs_ctrl, base[i]);
	}
	for (i = 0; i < t->ndevs; i++)
		FUZZ_CHECK(t->devs[i]->acs_ctrl == boot_ctrl[i], "%s: the machine changed",
			   t->devs[i]->name);

	k2 = boot(ctx, t, pol);
	snapshot(k2, &two);
	for (i = 0; i < t->ndevs; i++)
		FUZZ_CHECK(one.ctrl[i] == two.ctrl[i], "%s: boot twice: %#x then %#x",
			   t->devs[i]->name, one.ctrl[i], two.ctrl[i]);
	FUZZ_CHECK(one.nlog == two.nlog, "boot twice: %zu then %zu log lines",
		   one.nlog, two.nlog);
	for (i = 0; i < one.nlog; i++)
		FUZZ_CHECK(strcmp(one.log[i], two.log[i]) == 0,
			   "boot twice: log line %zu differs", i);

	for (i = 0; i < t->ndevs; i++) {
		struct p2pdma_cmdline_match c1, c2;
		bool m1 = p2pdma_policy_cmdline_match(pol, NULL, t->devs[i], &c1);
		bool m2 = p2pdma_policy_cmdline_match(pol, ret ? NULL : line, t->devs[i], &c2);

		FUZZ_CHECK(m1 == m2 && (!m1 || (c1.param == c2.param &&
						 !strcmp(c1.entry, c2.entry))),
			   "%s: cmdline_match inconsistent", t->devs[i]->name);
	}

	snapshot_free(&one);
	snapshot_free(&two);
	p2pdma_kernel_shutdown(k0);
	p2pdma_kernel_shutdown(k1);
	p2pdma_kernel_shutdown(k2);
	p2pdma_topo_destroy(t);
	p2pdma_policy_destroy(pol);
	p2pdma_ctx_destroy(ctx);
	free(line);
	return 0;
}
