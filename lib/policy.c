/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy.c - kernel-version profiles, the host-bridge allow list, CPU rule, ACS boot what-ifs */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context-private.h"
#include "policy-private.h"

#define VENDOR_AMD	0x1022
#define VENDOR_INTEL	0x8086
#define VENDOR_GOOGLE	0x1ae0
#define REQ_SAME	P2PDMA_REQ_SAME_HOST_BRIDGE

/*
 * Warning texts (doc/kernel-model.md §2.8). 4.20-5.3 printed the ACS warning as one
 * "cannot be used..." sentence and message 4 without the host bridge;
 * 5.4 (map types, the whitelist for ACS paths) gave today's wording.
 */
#define MSG_ACS_OLD "cannot be used for peer-to-peer DMA as ACS redirect is set between the client and provider (%s)"
#define MSG_ACS "ACS redirect is set between the client and provider (%s)"
#define MSG_ACS_FIX "to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=%s"
#define MSG_NOT_SUPP_OLD "cannot be used for peer-to-peer DMA as the client and provider (%s) do not share an upstream bridge"
#define MSG_NOT_SUPP "cannot be used for peer-to-peer DMA as the client and provider (%s) do not share an upstream bridge or whitelisted host bridge"
#define MSG_HB "Host bridge not in P2PDMA whitelist: %04x:%04x"

#define PAGE_SIZE_LIST 4096

/*
 * One row per release that changed what we model. Each row repeats the
 * whole state so that a row reads on its own. Sources: doc/kernel-profiles.md.
 */
static const struct p2pdma_kernel_profile profiles[] = {
	{ "4.20", P2PDMA_KV(4, 20),
	  "P2PDMA merged (pci-v4.20): common upstream bridge only; -1/-2 = not supported",
	  true, P2PDMA_HB_NONE, false, 0, false, false, false, false,
	  false, false, true, PAGE_SIZE_LIST, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS_OLD, MSG_ACS_FIX, MSG_NOT_SUPP_OLD, NULL },
	{ "5.2", P2PDMA_KV(5, 2),
	  "0f97da831026 PCI/P2PDMA: Allow P2P DMA between any devices under AMD ZEN Root Complex; "
	  "PCI/P2PDMA: Root complex whitelist should not apply when an IOMMU is present (both v5.2)",
	  true, P2PDMA_HB_ROOT_COMPLEX, true, 0x1000, false, false, false, false,
	  false, false, true, PAGE_SIZE_LIST, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS_OLD, MSG_ACS_FIX, MSG_NOT_SUPP_OLD, NULL },
	{ "5.4", P2PDMA_KV(5, 4),
	  "pci-v5.4: map types, Apply host bridge whitelist for ACS, 494d63b0d5d0 Whitelist some Intel host bridges, "
	  "Store mapping method in an xarray, Allow IOMMU for host bridge whitelist",
	  true, P2PDMA_HB_TABLE, false, 0, false, false, false, false,
	  true, false, true, PAGE_SIZE_LIST, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, NULL },
	{ "5.6", P2PDMA_KV(5, 6),
	  "bc123a515cb7 PCI/P2PDMA: Add Intel SkyLake-E to the whitelist (pci-v5.6)",
	  true, P2PDMA_HB_TABLE, false, 0, false, false, false, false,
	  true, false, true, PAGE_SIZE_LIST, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, NULL },
	{ "5.7", P2PDMA_KV(5, 7),
	  "7b94b53db34f PCI/P2PDMA: Add Intel Sky Lake-E Root Ports B, C, D to the whitelist (release inferred)",
	  false, P2PDMA_HB_TABLE, false, 0, false, false, false, false,
	  true, false, true, PAGE_SIZE_LIST, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, NULL },
	{ "5.8", P2PDMA_KV(5, 8),
	  "7d5b10fcb81e PCI/P2PDMA: Add AMD Zen Raven and Renoir Root Ports to whitelist (pci-v5.8)",
	  true, P2PDMA_HB_TABLE, false, 0, false, false, false, false,
	  true, false, true, PAGE_SIZE_LIST, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, NULL },
	{ "5.9", P2PDMA_KV(5, 9),
	  "dea286bb71ba PCI/P2PDMA: Allow P2PDMA on AMD Zen and newer CPUs (AMD rows removed)",
	  true, P2PDMA_HB_TABLE, false, 0, false, true, false, false,
	  true, false, true, PAGE_SIZE_LIST, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, NULL },
	{ "5.14", P2PDMA_KV(5, 14),
	  "6389d4374522.. (pci/p2pdma for v5.14): calc_map_type_and_dist(), 128-byte ACS list, "
	  "Print a warning if the host bridge is not in the whitelist, Avoid pci_get_slot() which sleeps",
	  true, P2PDMA_HB_TABLE, false, 0, false, true, false, true,
	  true, false, true, 128, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, MSG_HB },
	{ "5.18", P2PDMA_KV(5, 18),
	  "feaea1fe8b36 PCI/P2PDMA: Add Intel 3rd Gen Intel Xeon Scalable Processors to whitelist (pci/p2pdma for v5.18)",
	  true, P2PDMA_HB_TABLE, false, 0, false, true, false, true,
	  true, false, true, 128, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, MSG_HB },
	{ "5.19", P2PDMA_KV(5, 19),
	  "1af7c26c59eb PCI/P2PDMA: Whitelist Intel Skylake-E Root Ports at any devfn (applied Apr 2022; release inferred)",
	  false, P2PDMA_HB_TABLE, false, 0, true, true, false, true,
	  true, false, true, 128, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, MSG_HB },
	{ "6.0", P2PDMA_KV(6, 0),
	  "719c98658058 PCI/P2PDMA: Attempt to set map_type if it has not been set (lookup computes on a "
	  "miss; dma-mapping pull for 6.0; before it a miss hit WARN_ON_ONCE and mapped nothing; "
	  "observed on real 6.1.192 boots)",
	  true, P2PDMA_HB_TABLE, false, 0, true, true, false, true,
	  true, true, true, 128, P2PDMA_ACS_CMDLINE_REDIR_ONLY,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, MSG_HB },
	{ "6.11", P2PDMA_KV(6, 11),
	  "47c8846a49ba PCI: Extend ACS configurability (pci=config_acs=; release from doc/kernel-model.md §6)",
	  false, P2PDMA_HB_TABLE, false, 0, true, true, false, true,
	  true, true, true, 128, P2PDMA_ACS_CMDLINE_CONFIG_6_11,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, MSG_HB },
	{ "6.15", P2PDMA_KV(6, 15),
	  "9cf8a952d57b PCI: Fix ACS ctrl for multiple config_acs entries / fw_ctrl semantics (pci/acs for v6.15)",
	  true, P2PDMA_HB_TABLE, false, 0, true, true, false, true,
	  true, true, true, 128, P2PDMA_ACS_CMDLINE_CONFIG_6_15,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, MSG_HB },
	{ "7.1", P2PDMA_KV(7, 1),
	  "70cf146a674c Add Google SoCs to the P2P DMA host bridge list; 1a1f96e3e2a8 Allow wildcard Device IDs "
	  "(7.1 merge window, seen in linux-next logs)",
	  false, P2PDMA_HB_TABLE, false, 0, true, true, true, true,
	  true, true, true, 128, P2PDMA_ACS_CMDLINE_CONFIG_6_15,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, MSG_HB },
	{ "7.2", P2PDMA_KV(7, 2),
	  "0ba76b19fd4c Intel Xeon DSA/IAA/QAT accelerators as first device on a root bus "
	  "(mainline after 7.1, Cc: stable, queued for 7.1.y; release inferred)",
	  false, P2PDMA_HB_TABLE, false, 0, true, true, true, true,
	  true, true, true, 128, P2PDMA_ACS_CMDLINE_CONFIG_6_15,
	  MSG_ACS, MSG_ACS_FIX, MSG_NOT_SUPP, MSG_HB },
};
#define NPROFILES (sizeof(profiles) / sizeof(profiles[0]))

/*
 * pci_p2pdma_whitelist[] over time, in the kernel's table order. A row is
 * in a release's table iff since <= release < until.
 */
#define ROW(v, d, f, s, skv, u, ukv, c) \
	{ { (v), (d), (f), (s), (c) }, (skv), (ukv), (u) }
static const struct p2pdma_allow_row rows[] = {
	ROW(VENDOR_AMD, 0x1450, 0, "5.2", P2PDMA_KV(5, 2), "5.9", P2PDMA_KV(5, 9),
	    "AMD ZEN: 0f97da831026 (5.2, hard-coded in root_complex_whitelist()); "
	    "a table row from 5.4; removed by dea286bb71ba (5.9, CPU rule)"),
	ROW(VENDOR_AMD, 0x15d0, 0, "5.8", P2PDMA_KV(5, 8), "5.9", P2PDMA_KV(5, 9),
	    "AMD Zen Raven root port: 7d5b10fcb81e (5.8); removed by dea286bb71ba (5.9)"),
	ROW(VENDOR_AMD, 0x1630, 0, "5.8", P2PDMA_KV(5, 8), "5.9", P2PDMA_KV(5, 9),
	    "AMD Zen Renoir root port: 7d5b10fcb81e (5.8); removed by dea286bb71ba (5.9)"),
	ROW(VENDOR_INTEL, 0x3c00, REQ_SAME, "5.4", P2PDMA_KV(5, 4), NULL, 0,
	    "Intel Xeon E5/Core i7: 494d63b0d5d0 Whitelist some Intel host bridges (5.4)"),
	ROW(VENDOR_INTEL, 0x3c01, REQ_SAME, "5.4", P2PDMA_KV(5, 4), NULL, 0,
	    "Intel Xeon E5/Core i7: 494d63b0d5d0 (5.4)"),
	ROW(VENDOR_INTEL, 0x2f00, REQ_SAME, "5.4", P2PDMA_KV(5, 4), NULL, 0,
	    "Intel Xeon E7 v3/Xeon E5 v3/Core i7: 494d63b0d5d0 (5.4)"),
	ROW(VENDOR_INTEL, 0x2f01, REQ_SAME, "5.4", P2PDMA_KV(5, 4), NULL, 0,
	    "Intel Xeon E7 v3/Xeon E5 v3/Core i7: 494d63b0d5d0 (5.4)"),
	ROW(VENDOR_INTEL, 0x2030, 0, "5.6", P2PDMA_KV(5, 6), NULL, 0,
	    "Intel SkyLake-E root port A: bc123a515cb7 (5.6)"),
	ROW(VENDOR_INTEL, 0x2031, 0, "5.7", P2PDMA_KV(5, 7), NULL, 0,
	    "Intel Sky Lake-E root port B: 7b94b53db34f (5.7, inferred)"),
	ROW(VENDOR_INTEL, 0x2032, 0, "5.7", P2PDMA_KV(5, 7), NULL, 0,
	    "Intel Sky Lake-E root port C: 7b94b53db34f (5.7, inferred)"),
	ROW(VENDOR_INTEL, 0x2033, 0, "5.7", P2PDMA_KV(5, 7), NULL, 0,
	    "Intel Sky Lake-E root port D: 7b94b53db34f (5.7, inferred)"),
	ROW(VENDOR_INTEL, 0x2020, 0, "5.6", P2PDMA_KV(5, 6), NULL, 0,
	    "Intel SkyLake-E 00.0: bc123a515cb7 (5.6)"),
	ROW(VENDOR_INTEL, 0x09a2, 0, "5.18", P2PDMA_KV(5, 18), NULL, 0,
	    "Intel 3rd Gen Xeon Scalable (Ice Lake and later 00.0): feaea1fe8b36 (5.18)"),
	ROW(VENDOR_INTEL, 0x0b25, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel DSA (SPR): 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_INTEL, 0x0cfe, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel IAX (SPR): 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_INTEL, 0x11fb, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel DSA (GNR-D): 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_INTEL, 0x1212, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel DSA (DMR): 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_INTEL, 0x1216, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel IAA (DMR): 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_INTEL, 0x4940, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel QAT 4xxx: 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_INTEL, 0x4942, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel QAT 401xx: 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_INTEL, 0x4944, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel QAT 402xx: 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_INTEL, 0x4946, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel QAT 420xx: 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_INTEL, 0x4948, 0, "7.2", P2PDMA_KV(7, 2), NULL, 0,
	    "Intel QAT 6xxx: 0ba76b19fd4c (after 7.1, inferred)"),
	ROW(VENDOR_GOOGLE, P2PDMA_ANY_ID, 0, "7.1", P2PDMA_KV(7, 1), NULL, 0,
	    "Google SoCs, any device: 70cf146a674c + 1a1f96e3e2a8 wildcard (7.1)"),
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

enum cpu_vendor {
	CPU_UNKNOWN = 0,
	CPU_NON_X86,
	CPU_AMD,
	CPU_INTEL,
	CPU_HYGON,
	CPU_CENTAUR,
	CPU_ZHAOXIN,
};

struct p2pdma_policy {
	struct p2pdma_ctx *ctx;
	size_t prof;
	char release[64];
	enum cpu_vendor vendor;
	long family;			/* -1 unknown */
	char *cmdline;			/* what-if command line, NULL: none */
	bool iommu_acs;
	int iommu;			/* 1, 0, -1 unknown */
	/* The profile in force: profiles[prof] with the stable backports of
	 * the exact release applied (stable_backports[]). */
	struct p2pdma_kernel_profile eff;
	/* Assumptions, as notes: [0] the kernel, [1] the CPU. */
	struct policy_note {
		enum p2pdma_note code;
		char text[384];
	} notes[2];
	struct p2pdma_allow_entry *extra;	/* p2pdma_policy_add_allow() */
	size_t nextra;
};

#define NOTE_KERNEL 0
#define NOTE_CPU 1

static void set_note(struct p2pdma_policy *pol, int slot, enum p2pdma_note code,
		     const char *fmt, ...) P2PDMA_PRINTF(4, 5);

static void set_note(struct p2pdma_policy *pol, int slot, enum p2pdma_note code,
		     const char *fmt, ...)
{
	va_list ap;

	pol->notes[slot].code = code;
	va_start(ap, fmt);
	vsnprintf(pol->notes[slot].text, sizeof(pol->notes[slot].text), fmt, ap);
	va_end(ap);
}

static void clear_note(struct p2pdma_policy *pol, int slot)
{
	pol->notes[slot].code = P2PDMA_NOTE_NONE;
	pol->notes[slot].text[0] = '\0';
}

static void update_cpu_note(struct p2pdma_policy *pol);

P2PDMA_EXPORT int p2pdma_policy_create(struct p2pdma_ctx *ctx,
				       struct p2pdma_policy **out)
{
	struct p2pdma_policy *pol = calloc(1, sizeof(*pol));

	if (!pol)
		return -ENOMEM;
	pol->ctx = ctx;
	pol->prof = NPROFILES - 1;
	pol->eff = profiles[pol->prof];
	snprintf(pol->release, sizeof(pol->release), "%s", profiles[pol->prof].name);
	pol->vendor = CPU_UNKNOWN;
	pol->family = -1;
	pol->iommu = -1;
	update_cpu_note(pol);
	*out = pol;
	return 0;
}

P2PDMA_EXPORT void p2pdma_policy_destroy(struct p2pdma_policy *pol)
{
	if (!pol)
		return;
	free(pol->cmdline);
	free(pol->extra);
	free(pol);
}

P2PDMA_EXPORT int p2pdma_policy_clone(const struct p2pdma_policy *pol,
				      struct p2pdma_policy **out)
{
	struct p2pdma_policy *c = malloc(sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	*c = *pol;
	c->cmdline = NULL;
	c->extra = NULL;
	if (pol->cmdline && !(c->cmdline = p2pdma_strdup(pol->cmdline)))
		goto nomem;
	if (pol->nextra) {
		c->extra = malloc(pol->nextra * sizeof(*c->extra));
		if (!c->extra)
			goto nomem;
		memcpy(c->extra, pol->extra, pol->nextra * sizeof(*c->extra));
	}
	*out = c;
	return 0;
nomem:
	free(c->cmdline);
	free(c);
	return -ENOMEM;
}

P2PDMA_EXPORT size_t p2pdma_policy_num_notes(const struct p2pdma_policy *pol)
{
	size_t i, n = 0;

	for (i = 0; i < 2; i++)
		n += pol->notes[i].code != P2PDMA_NOTE_NONE;
	return n;
}

P2PDMA_EXPORT const char *p2pdma_policy_note(const struct p2pdma_policy *pol,
					     size_t i, enum p2pdma_note *code)
{
	size_t k;

	for (k = 0; k < 2; k++) {
		if (pol->notes[k].code == P2PDMA_NOTE_NONE)
			continue;
		if (i-- == 0) {
			if (code)
				*code = pol->notes[k].code;
			return pol->notes[k].text;
		}
	}
	return NULL;
}

/* X.Y[.Z]: kv = P2PDMA_KV(X, Y), *sub = Z (0 when absent). */
static int parse_release3(const char *release, unsigned int *kv, unsigned long *sub);

int p2pdma_parse_release(const char *release, unsigned int *kv)
{
	unsigned long sub;

	return parse_release3(release, kv, &sub);
}

/*
 * Fixes a stable series carried back from a later release: a release
 * X.Y.Z with Z >= min_sub behaves like the later profile in that respect.
 * Sources: doc/kernel-profiles.md.
 */
static const struct stable_backport {
	unsigned int kv;
	unsigned long min_sub;
	enum p2pdma_acs_cmdline_era acs_cmdline;
	const char *what;
} stable_backports[] = {
	/* 9cf8a952d57b "PCI/ACS: Fix 'pci=config_acs=' parameter", in
	 * 6.12.23 (Debian linux 6.12.25-1 changelog, stable 6.12.23 list). */
	{ P2PDMA_KV(6, 12), 23, P2PDMA_ACS_CMDLINE_CONFIG_6_15,
	  "9cf8a952d57b (config_acs fix) backported in 6.12.23" },
};

static void apply_backports(struct p2pdma_policy *pol, unsigned int kv,
			    unsigned long sub)
{
	size_t i;

	pol->eff = profiles[pol->prof];
	for (i = 0; i < sizeof(stable_backports) / sizeof(stable_backports[0]); i++) {
		const struct stable_backport *b = &stable_backports[i];

		if (b->kv == kv && sub >= b->min_sub)
			pol->eff.acs_cmdline = b->acs_cmdline;
	}
}

static int parse_release3(const char *release, unsigned int *kv, unsigned long *sub)
{
	const char *p = release;
	unsigned long v[3] = { 0, 0, 0 };
	int n = 0;

	if (!p)
		return -EINVAL;
	if (*p == 'v')
		p++;
	for (;;) {
		char *end;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v[n] = strtoul(p, &end, 10);
		if (end - p > 6)
			return -EINVAL;
		p = end;
		n++;
		if (n == 3 || *p != '.')
			break;
		p++;
	}
	if (n < 2 || v[0] > 99 || v[1] > 255)
		return -EINVAL;
	/* "-rc1", "-23-amd64", "+", "_1", "~bpo": the rest is the suffix. */
	if (*p && *p != '-' && *p != '+' && *p != '_' && *p != '~')
		return -EINVAL;
	*kv = P2PDMA_KV(v[0], v[1]);
	*sub = v[2];
	return 0;
}

P2PDMA_EXPORT int p2pdma_policy_set_kernel(struct p2pdma_policy *pol,
					   const char *release)
{
	unsigned long sub;
	unsigned int kv;
	size_t i;

	if (parse_release3(release, &kv, &sub))
		return p2pdma_err(pol->ctx, -EINVAL,
				  "'%s' is not a kernel release (expected X.Y[.Z][-suffix], e.g. 6.12 or 6.19-rc1)",
				  release ? release : "(null)");
	if (kv < profiles[0].kv)
		return p2pdma_err(pol->ctx, -ERANGE,
				  "kernel %s has no P2PDMA: P2PDMA appeared in 4.20", release);
	/* The newest profile not newer than the release. */
	for (i = NPROFILES; i-- > 0;)
		if (profiles[i].kv <= kv)
			break;
	pol->prof = i;
	apply_backports(pol, kv, sub);
	snprintf(pol->release, sizeof(pol->release), "%s", release);
	clear_note(pol, NOTE_KERNEL);
	if (kv > profiles[NPROFILES - 1].kv)
		set_note(pol, NOTE_KERNEL, P2PDMA_NOTE_KERNEL_NEWER,
			 "kernel %s is newer than the newest modelled release (%s): its rules are assumed unchanged since",
			 release, profiles[NPROFILES - 1].name);
	update_cpu_note(pol);
	return 0;
}

P2PDMA_EXPORT const char *p2pdma_policy_kernel(const struct p2pdma_policy *pol)
{
	return pol->release;
}

const struct p2pdma_kernel_profile *
p2pdma_policy_profile(const struct p2pdma_policy *pol)
{
	return &pol->eff;
}

const struct p2pdma_kernel_profile *p2pdma_kernel_profile_at(size_t i)
{
	return i < NPROFILES ? &profiles[i] : NULL;
}

const struct p2pdma_allow_row *p2pdma_allow_row_at(size_t i)
{
	return i < NROWS ? &rows[i] : NULL;
}

/* --- CPU (doc/kernel-model.md §1.2: cpu_supports_p2pdma()) --- */

static const struct {
	const char *name;	/* /proc/cpuinfo vendor_id or alias */
	bool alias;
	enum cpu_vendor v;
} cpu_names[] = {
	/* vendor_id strings as the kernel's cpu_dev c_ident[] tables */
	{ "AuthenticAMD", false, CPU_AMD },
	{ "AMDisbetter!", false, CPU_AMD },
	{ "GenuineIntel", false, CPU_INTEL },
	{ "HygonGenuine", false, CPU_HYGON },
	{ "CentaurHauls", false, CPU_CENTAUR },
	{ "Shanghai", false, CPU_ZHAOXIN },	/* "  Shanghai  ", trimmed */
	{ "amd", true, CPU_AMD },
	{ "intel", true, CPU_INTEL },
	{ "hygon", true, CPU_HYGON },
	{ "centaur", true, CPU_CENTAUR },
	{ "zhaoxin", true, CPU_ZHAOXIN },
	{ "arm", true, CPU_NON_X86 },
	{ "arm64", true, CPU_NON_X86 },
	{ "aarch64", true, CPU_NON_X86 },
	{ "ppc64le", true, CPU_NON_X86 },
	{ "powerpc", true, CPU_NON_X86 },
	{ "riscv", true, CPU_NON_X86 },
	{ "riscv64", true, CPU_NON_X86 },
	{ "s390x", true, CPU_NON_X86 },
	{ "loongarch64", true, CPU_NON_X86 },
	{ "non-x86", true, CPU_NON_X86 },
};

#define CPU_ACCEPTED "accepted: VENDOR:FAMILY[:MODEL] with VENDOR a /proc/cpuinfo vendor_id " \
	"(AuthenticAMD, GenuineIntel, HygonGenuine, CentaurHauls, Shanghai) or " \
	"amd, intel, hygon, centaur, zhaoxin, or arm/aarch64/ppc64le/riscv64/s390x " \
	"(non-x86, FAMILY optional); FAMILY decimal (23) or hex (0x17)"

static int lookup_vendor(const char *s, size_t n, enum cpu_vendor *v)
{
	size_t i;

	/* vendor_id "  Shanghai  " carries spaces: compare trimmed. */
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (i = 0; i < sizeof(cpu_names) / sizeof(cpu_names[0]); i++) {
		const char *name = cpu_names[i].name;

		if (strlen(name) != n)
			continue;
		if (cpu_names[i].alias ? !strncasecmp(name, s, n) :
		    !strncmp(name, s, n)) {
			*v = cpu_names[i].v;
			return 0;
		}
	}
	return -EINVAL;
}

static void update_cpu_note(struct p2pdma_policy *pol)
{
	const struct p2pdma_kernel_profile *pr = &pol->eff;

	if (pol->notes[NOTE_CPU].code == P2PDMA_NOTE_CPU_FROM_HOST_BRIDGES ||
	    pol->notes[NOTE_CPU].code == P2PDMA_NOTE_CPU_NOT_UNDERSTOOD)
		return;	/* said once by p2pdma_policy_from_machine() */
	clear_note(pol, NOTE_CPU);
	if (pol->vendor == CPU_UNKNOWN)
		set_note(pol, NOTE_CPU, P2PDMA_NOTE_CPU_ASSUMED,
			 "CPU unknown: assumed not AMD Zen (the CPU rule is off)");
	else if (pol->vendor == CPU_AMD && pol->family >= 0x17 && !pr->cpu_rule)
		set_note(pol, NOTE_CPU, P2PDMA_NOTE_CPU_RULE_TOO_OLD,
			 "AMD family 0x%lx CPU, but kernel %s predates the AMD Zen CPU rule (5.9): rule off",
			 (unsigned long)pol->family, pol->release);
	else if (pol->vendor == CPU_HYGON && pol->family >= 0x17 && pr->cpu_rule)
		set_note(pol, NOTE_CPU, P2PDMA_NOTE_CPU_HYGON,
			 "Hygon CPU: cpu_supports_p2pdma() tests X86_VENDOR_AMD only (dea286bb71ba), so the rule is off");
}

P2PDMA_EXPORT int p2pdma_policy_set_cpu(struct p2pdma_policy *pol,
					const char *spec)
{
	const char *colon;
	enum cpu_vendor v;
	long family = -1;

	if (!spec)
		return p2pdma_err(pol->ctx, -EINVAL, "no CPU given; " CPU_ACCEPTED);
	/* VENDOR:FAMILY[:MODEL]: no vendor_id contains a ':'. */
	colon = strchr(spec, ':');
	if (lookup_vendor(spec, colon ? (size_t)(colon - spec) : strlen(spec), &v))
		return p2pdma_err(pol->ctx, -EINVAL, "unknown CPU vendor in '%s'; " CPU_ACCEPTED, spec);
	if (colon) {
		const char *f = colon + 1;
		char *end;
		int base = 10;

		if (f[0] == '0' && (f[1] == 'x' || f[1] == 'X'))
			base = 16;
		if (!isxdigit((unsigned char)f[base == 16 ? 2 : 0]))
			return p2pdma_err(pol->ctx, -EINVAL, "no CPU family in '%s'; " CPU_ACCEPTED, spec);
		errno = 0;
		family = strtol(f, &end, base);
		if (*end == ':') {
			/* The model: checked, never used by the rule. */
			const char *m = end + 1;
			long model;

			errno = 0;
			model = strtol(m, &end, m[0] == '0' && (m[1] == 'x' || m[1] == 'X') ? 16 : 10);
			if (end == m || *end || errno || model < 0 || model > 0xfff)
				return p2pdma_err(pol->ctx, -EINVAL, "bad CPU model in '%s'; " CPU_ACCEPTED, spec);
		}
		if (*end || errno || family < 0 || family > 0xfff)
			return p2pdma_err(pol->ctx, -EINVAL, "bad CPU family in '%s'; " CPU_ACCEPTED, spec);
	} else if (v != CPU_NON_X86) {
		return p2pdma_err(pol->ctx, -EINVAL, "no CPU family in '%s'; " CPU_ACCEPTED, spec);
	}
	pol->vendor = v;
	pol->family = family;
	clear_note(pol, NOTE_CPU);
	update_cpu_note(pol);
	return 0;
}

static bool arch_is_x86(const char *arch)
{
	return !strcmp(arch, "x86_64") || !strcmp(arch, "x86") ||
	       !strcmp(arch, "i386") || !strcmp(arch, "i486") ||
	       !strcmp(arch, "i586") || !strcmp(arch, "i686") ||
	       !strcmp(arch, "amd64");
}

static int cpu_from_machine(struct p2pdma_policy *pol,
			    const struct p2pdma_machine_info *m)
{
	enum cpu_vendor v;

	if (m->iommu >= 0)
		pol->iommu = m->iommu;
	if (m->arch && !arch_is_x86(m->arch)) {
		pol->vendor = CPU_NON_X86;
		pol->family = -1;
		update_cpu_note(pol);
		return 0;
	}
	if (!m->cpu_vendor || m->cpu_family < 0) {
		pol->vendor = CPU_UNKNOWN;
		pol->family = -1;
		update_cpu_note(pol);
		return 0;
	}
	if (lookup_vendor(m->cpu_vendor, strlen(m->cpu_vendor), &v) || v == CPU_NON_X86) {
		pol->vendor = CPU_UNKNOWN;
		pol->family = -1;
		set_note(pol, NOTE_CPU, P2PDMA_NOTE_CPU_NOT_UNDERSTOOD,
			 "CPU vendor_id '%s' of the source is not known: CPU rule off", m->cpu_vendor);
		return -EINVAL;
	}
	pol->vendor = v;
	pol->family = m->cpu_family;
	update_cpu_note(pol);
	return 0;
}

/*
 * A source without CPU facts (an lspci dump) still names the host bridge
 * vendor: say that the CPU decides the host-bridge pairs and which value
 * would apply, instead of silently assuming no CPU rule.
 */
static void cpu_hint_from_host_bridges(struct p2pdma_policy *pol,
				       const struct p2pdma_topo *topo)
{
	const struct p2pdma_kernel_profile *pr = &pol->eff;
	unsigned int amd = 0, hygon = 0, intel = 0, other = 0;
	uint32_t i;

	for (i = 0; i < topo->nhbs; i++) {
		const struct p2pdma_dev *h = topo->hbs[i].first;

		if (!h)
			continue;
		if (h->vendor == VENDOR_AMD)
			amd++;
		else if (h->vendor == 0x1d94)
			hygon++;
		else if (h->vendor == VENDOR_INTEL)
			intel++;
		else
			other++;
	}
	if (amd && !hygon && !intel && !other && pr->cpu_rule)
		set_note(pol, NOTE_CPU, P2PDMA_NOTE_CPU_FROM_HOST_BRIDGES,
			 "CPU unknown, but all %u host bridges are AMD: on an AMD Zen CPU (AuthenticAMD family 0x17 or later) the CPU rule admits every host-bridge path; assumed not AMD Zen until the CPU is given",
			 amd);
	else if (intel && !amd && !hygon && !other)
		set_note(pol, NOTE_CPU, P2PDMA_NOTE_CPU_FROM_HOST_BRIDGES,
			 "CPU unknown, host bridges are Intel: the CPU rule (AMD Zen only) does not apply; the allow list decides");
	else if (hygon && !amd && !intel && !other)
		set_note(pol, NOTE_CPU, P2PDMA_NOTE_CPU_FROM_HOST_BRIDGES,
			 "CPU unknown, host bridges are Hygon: cpu_supports_p2pdma() does not count Hygon as AMD, so the CPU rule is off either way");
}

P2PDMA_EXPORT int p2pdma_policy_from_machine(struct p2pdma_ctx *ctx,
					     const struct p2pdma_topo *topo,
					     struct p2pdma_policy **out)
{
	struct p2pdma_machine_info m;
	struct p2pdma_policy *pol;
	int ret;

	ret = p2pdma_policy_create(ctx, &pol);
	if (ret)
		return ret;
	p2pdma_topo_machine(topo, &m);
	if (!m.kernel) {
		set_note(pol, NOTE_KERNEL, P2PDMA_NOTE_KERNEL_ASSUMED,
			 "kernel unknown: the newest modelled release (%s) is assumed",
			 pol->release);
	} else if ((ret = p2pdma_policy_set_kernel(pol, m.kernel))) {
		/* The same words as when a caller sets that release. */
		set_note(pol, NOTE_KERNEL, P2PDMA_NOTE_KERNEL_NOT_UNDERSTOOD,
			 "%s: the newest modelled release (%s) is used instead",
			 p2pdma_ctx_error(ctx), pol->release);
		p2pdma_clear_err(ctx);
	}
	cpu_from_machine(pol, &m);
	if (pol->vendor == CPU_UNKNOWN && !m.cpu_vendor && !m.arch)
		cpu_hint_from_host_bridges(pol, topo);
	*out = pol;
	return 0;
}

P2PDMA_EXPORT bool p2pdma_policy_cpu_rule(const struct p2pdma_policy *pol)
{
	/*
	 * cpu_supports_p2pdma(): CONFIG_X86, boot CPU x86_vendor ==
	 * X86_VENDOR_AMD (Hygon is X86_VENDOR_HYGON: no) and x86 >= 0x17.
	 */
	return pol->eff.cpu_rule && pol->vendor == CPU_AMD &&
	       pol->family >= 0x17;
}

P2PDMA_EXPORT bool p2pdma_policy_cpu_rule_possible(const struct p2pdma_policy *pol)
{
	/* The rule exists, and the CPU is AMD or not known. */
	return pol->eff.cpu_rule &&
	       (pol->vendor == CPU_AMD || pol->vendor == CPU_UNKNOWN);
}

int p2pdma_policy_cpu_amd_x86(const struct p2pdma_policy *pol)
{
	return pol->vendor == CPU_UNKNOWN ? -1 : pol->vendor == CPU_AMD;
}

/* --- allow list (doc/kernel-model.md §2.4) --- */

static bool row_in(const struct p2pdma_allow_row *r, unsigned int kv)
{
	return r->since_kv <= kv && (!r->until_kv || kv < r->until_kv);
}

static const struct p2pdma_allow_entry *
extra_lookup(const struct p2pdma_policy *pol, uint16_t vendor, uint16_t device);

P2PDMA_EXPORT const struct p2pdma_allow_entry *
p2pdma_policy_allow_lookup(const struct p2pdma_policy *pol, uint16_t vendor,
			   uint16_t device)
{
	const struct p2pdma_kernel_profile *pr = &pol->eff;
	size_t i;

	if (pr->hb_era == P2PDMA_HB_NONE)
		return NULL;
	for (i = 0; i < NROWS; i++) {
		const struct p2pdma_allow_row *r = &rows[i];

		if (!row_in(r, pr->kv) || r->e.vendor != vendor)
			continue;
		/* Before 7.1 the device field was unsigned short: no wildcard. */
		if (r->e.device == device ||
		    (pr->wildcard && r->e.device == P2PDMA_ANY_ID))
			return &r->e;
	}
	return extra_lookup(pol, vendor, device);
}

const struct p2pdma_dev *
p2pdma_policy_hostdev(const struct p2pdma_policy *pol,
		      const struct p2pdma_host_bridge *hb)
{
	const struct p2pdma_dev *f = hb ? hb->first : NULL;

	if (!f)
		return NULL;
	if (f->devfn == 0)
		return f;
	if (pol->eff.hostdev_root_port &&
	    f->pcie_type == P2PDMA_PCIE_ROOT_PORT)
		return f;
	return NULL;
}

int p2pdma_policy_iommu_present(const struct p2pdma_policy *pol)
{
	if (pol->iommu_acs)
		return 1;
	return pol->iommu;
}

bool p2pdma_policy_host_bridge_allowed(const struct p2pdma_policy *pol,
				       const struct p2pdma_dev *hostdev_a,
				       const struct p2pdma_dev *hostdev_b,
				       bool same_host_bridge,
				       const struct p2pdma_allow_entry **entry_a,
				       const struct p2pdma_allow_entry **entry_b)
{
	const struct p2pdma_kernel_profile *pr = &pol->eff;
	const struct p2pdma_allow_entry *ea = NULL, *eb = NULL;
	bool ok = false;

	if (pr->hb_era == P2PDMA_HB_NONE)
		goto out;
	if (pr->hb_era == P2PDMA_HB_ROOT_COMPLEX) {
		/*
		 * root_complex_whitelist() ran for provider and client alike,
		 * same root or not; an IOMMU on the PCI bus disabled it.
		 */
		if (pr->hb_iommu_blocks && p2pdma_policy_iommu_present(pol) == 1)
			goto out;
		if (hostdev_a)
			ea = p2pdma_policy_allow_lookup(pol, hostdev_a->vendor, hostdev_a->device);
		if (hostdev_b)
			eb = p2pdma_policy_allow_lookup(pol, hostdev_b->vendor, hostdev_b->device);
		ok = ea && eb;
		goto out;
	}
	if (!hostdev_a)
		goto out;
	ea = p2pdma_policy_allow_lookup(pol, hostdev_a->vendor, hostdev_a->device);
	if (same_host_bridge) {
		/* A REQ_SAME_HOST_BRIDGE row is fine below one host bridge. */
		ok = ea != NULL;
		goto out;
	}
	if (!ea || (ea->flags & P2PDMA_REQ_SAME_HOST_BRIDGE))
		goto out;
	if (!hostdev_b)
		goto out;
	eb = p2pdma_policy_allow_lookup(pol, hostdev_b->vendor, hostdev_b->device);
	ok = eb && !(eb->flags & P2PDMA_REQ_SAME_HOST_BRIDGE);
out:
	if (entry_a)
		*entry_a = ea;
	if (entry_b)
		*entry_b = eb;
	return ok;
}

/* --- command line what-ifs (doc/kernel-model.md §2.7) --- */

P2PDMA_EXPORT int p2pdma_policy_set_cmdline(struct p2pdma_policy *pol,
					    const char *cmdline)
{
	const char *redir, *config;
	size_t n;
	char *buf, *copy;
	int ret;

	if (!cmdline) {
		free(pol->cmdline);
		pol->cmdline = NULL;
		return 0;
	}
	n = strlen(cmdline) + 1;
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	ret = p2pdma_cmdline_pci_params(cmdline, buf, n, &redir, &config);
	free(buf);
	if (ret)
		return p2pdma_err(pol->ctx, ret, "kernel command line: unbalanced '\"' in '%s'", cmdline);
	free(pol->cmdline);
	pol->cmdline = NULL;
	if (cmdline[strspn(cmdline, " \t\n")] == '\0')
		return 0;	/* only blanks: no what-if */
	copy = p2pdma_strdup(cmdline);
	if (!copy)
		return -ENOMEM;
	pol->cmdline = copy;
	return 0;
}

P2PDMA_EXPORT void p2pdma_policy_set_iommu_acs(struct p2pdma_policy *pol, bool on)
{
	pol->iommu_acs = on;
}

P2PDMA_EXPORT const char *p2pdma_policy_cmdline(const struct p2pdma_policy *pol)
{
	return pol->cmdline;
}

P2PDMA_EXPORT bool p2pdma_policy_iommu_acs(const struct p2pdma_policy *pol)
{
	return pol->iommu_acs;
}

/* The boot log sink of p2pdma_policy_boot_acs(). */
static void klog(const struct p2pdma_boot_log *log, enum p2pdma_note code,
		 const char *fmt, ...) P2PDMA_PRINTF(3, 4);

static void klog(const struct p2pdma_boot_log *log, enum p2pdma_note code,
		 const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (!log || !log->line)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log->line(log->data, code, text);
}

/* acs-cmdline.c speaks through a text-only sink: those are kernel lines. */
static void kernel_line(void *data, const char *text)
{
	klog(data, P2PDMA_NOTE_NONE, "%s", text);
}

/*
 * pci_disable_acs_redir() of 4.19-6.10: first matching entry, ';' or ','
 * between entries, RR|CR|EC cleared from the live value.
 */
static bool redir_match_old(const struct p2pdma_dev *dev, const char *param,
			    bool *once, const struct p2pdma_boot_log *log,
			    char *matched, size_t mlen)
{
	const char *p = param, *entry;
	int ret = 0;

	if (matched && mlen)
		matched[0] = '\0';
	while (*p) {
		entry = p;
		ret = p2pdma_dev_str_match(dev, p, &p);
		if (ret < 0) {
			if (log && !*once) {
				*once = true;
				klog(log, P2PDMA_NOTE_NONE,
				     "PCI: Can't parse disable_acs_redir parameter: %s", param);
			}
			break;
		} else if (ret == 1) {
			if (matched && mlen)
				snprintf(matched, mlen, "%.*s", (int)(p - entry), entry);
			break;
		}
		if (*p != ';' && *p != ',')
			break;
		p++;
	}
	return ret == 1;
}

static const char *bdf(const struct p2pdma_dev *d, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%d", (unsigned int)d->domain, d->bus,
		 d->devfn >> 3, d->devfn & 7);
	return buf;
}

/*
 * Did the capture boot with an IOMMU that requested ACS? The source may say
 * so (machine.iommu). Else the registers tell: firmware leaves ACS Control
 * clear, so a function showing exactly the kernel's default bits (all of
 * SV/RR/CR/UF that its capability advertises) was set by the kernel. A
 * command line may have cleared some ports, so one such function suffices;
 * with none, we cannot know.
 */
P2PDMA_EXPORT int p2pdma_topo_infer_iommu_boot(const struct p2pdma_topo *topo,
					       bool *booted)
{
	uint32_t i;

	if (topo->machine.iommu >= 0) {
		*booted = topo->machine.iommu == 1;
		return 0;
	}
	for (i = 0; i < topo->ndevs; i++) {
		const struct p2pdma_dev *d = topo->devs[i];
		uint16_t defaults = d->acs_cap & (P2PDMA_ACS_SV | P2PDMA_ACS_RR |
						  P2PDMA_ACS_CR | P2PDMA_ACS_UF);

		if (d->acs_state == P2PDMA_ACS_PRESENT && defaults &&
		    (d->acs_ctrl_boot & 0x7f) == defaults) {
			*booted = true;
			return 0;
		}
	}
	return -ENODATA;
}

int p2pdma_policy_boot_acs(const struct p2pdma_policy *pol, const char *cmdline,
			   bool captured_defaults, struct p2pdma_topo *topo,
			   const struct p2pdma_boot_log *log)
{
	const struct p2pdma_kernel_profile *pr = &pol->eff;
	const char *redir = NULL, *config = NULL;
	struct p2pdma_acs_log alog;
	bool once = false, once_old = false;
	char *buf = NULL, name[32];
	uint32_t i;
	int ret;

	if (cmdline) {
		size_t n = strlen(cmdline) + 1;

		buf = malloc(n);
		if (!buf)
			return -ENOMEM;
		ret = p2pdma_cmdline_pci_params(cmdline, buf, n, &redir, &config);
		if (ret) {
			free(buf);
			return p2pdma_err(pol->ctx, ret, "kernel command line: unbalanced '\"'");
		}
	}
	if (config && pr->acs_cmdline == P2PDMA_ACS_CMDLINE_REDIR_ONLY) {
		/* pci_setup() before 6.11 knows no config_acs= option. */
		klog(log, P2PDMA_NOTE_NONE, "PCI: Unknown option `config_acs=%s'", config);
		config = NULL;
	}
	alog.line = kernel_line;
	alog.data = (void *)log;
	alog.warned_once = &once;
	if (captured_defaults)
		klog(log, P2PDMA_NOTE_IOMMU_DEFAULTS_CAPTURED,
		     "the captured ACS registers carry the IOMMU's default bits (SV/RR/CR/UF): the what-if boot assumes firmware left them clear and an IOMMU requests ACS again");

	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *d = topo->devs[i];
		uint16_t fw, ctrl, implemented, defaults;

		if (d->acs_state == P2PDMA_ACS_ABSENT) {
			if (redir && pr->acs_cmdline == P2PDMA_ACS_CMDLINE_REDIR_ONLY &&
			    redir_match_old(d, redir, &once_old, log, NULL, 0))
				klog(log, P2PDMA_NOTE_NONE,
				     "pci %s: cannot disable ACS redirect for this hardware as it does not have ACS capabilities",
				     bdf(d, name, sizeof(name)));
			continue;
		}
		if (d->acs_state != P2PDMA_ACS_PRESENT) {
			if (redir || config || pol->iommu_acs)
				klog(log, P2PDMA_NOTE_ACS_UNPREDICTABLE,
				     "%s: ACS capability unknown (extended config space not read): its ACS Control cannot be predicted",
				     bdf(d, name, sizeof(name)));
			continue;
		}
		/*
		 * pci_enable_acs() step 3 reads what firmware left. A captured
		 * register is not that: when the capture booted with an IOMMU,
		 * it already holds the kernel's defaults. We take firmware to
		 * have left those default bits clear (as firmware does) and
		 * let the what-if boot set them again.
		 */
		defaults = d->acs_cap & (P2PDMA_ACS_SV | P2PDMA_ACS_RR |
					 P2PDMA_ACS_CR | P2PDMA_ACS_UF);
		fw = d->acs_ctrl_boot;
		if (captured_defaults)
			fw &= (uint16_t)~defaults;
		ctrl = fw;
		if (pol->iommu_acs || captured_defaults)
			ctrl |= defaults;
		if (pr->acs_cmdline == P2PDMA_ACS_CMDLINE_REDIR_ONLY) {
			if (redir && redir_match_old(d, redir, &once_old, log, NULL, 0)) {
				ctrl &= (uint16_t)~P2PDMA_ACS_REDIR_MASK;
				klog(log, P2PDMA_NOTE_NONE, "pci %s: disabled ACS redirect",
				     bdf(d, name, sizeof(name)));
			}
		} else {
			p2pdma_config_acs(pr->acs_cmdline, d, &ctrl, fw, redir,
					  P2PDMA_ACS_REDIR_MASK,
					  (uint16_t)~P2PDMA_ACS_REDIR_MASK, &alog, NULL, 0);
			p2pdma_config_acs(pr->acs_cmdline, d, &ctrl, fw, config,
					  0, 0, &alog, NULL, 0);
		}
		/*
		 * Control bits of features the ACS Capability register does not
		 * advertise are hardwired to 0 (PCIe ACS Control register), so
		 * the register reads back only implemented bits.
		 */
		implemented = d->acs_cap & 0x7f;
		if (ctrl & ~implemented)
			klog(log, P2PDMA_NOTE_ACS_NOT_IMPLEMENTED,
			     "%s: bits 0x%04x written but not implemented (ACS Cap 0x%04x): register reads 0x%04x",
			     bdf(d, name, sizeof(name)), ctrl & ~implemented,
			     d->acs_cap, ctrl & implemented);
		d->acs_ctrl = ctrl & implemented;
	}
	free(buf);
	return 0;
}

P2PDMA_EXPORT bool p2pdma_policy_cmdline_match(const struct p2pdma_policy *pol,
					       const char *cmdline,
					       const struct p2pdma_dev *dev,
					       struct p2pdma_cmdline_match *m)
{
	const struct p2pdma_kernel_profile *pr = &pol->eff;
	const char *redir, *config, *line = cmdline ? cmdline : pol->cmdline;
	char matched[256];
	bool once = false, hit = false;
	struct p2pdma_acs_log quiet = { NULL, NULL, &once };
	uint16_t ctrl = dev->acs_ctrl_boot;
	size_t n;
	char *buf;

	if (!line)
		return false;
	n = strlen(line) + 1;
	buf = malloc(n);
	if (!buf || p2pdma_cmdline_pci_params(line, buf, n, &redir, &config)) {
		free(buf);
		return false;
	}
	if (pr->acs_cmdline == P2PDMA_ACS_CMDLINE_REDIR_ONLY) {
		if (redir && redir_match_old(dev, redir, &once, NULL, matched, sizeof(matched))) {
			hit = true;
			if (m) {
				m->param = P2PDMA_PARAM_DISABLE_ACS_REDIR;
				snprintf(m->entry, sizeof(m->entry), "%.127s", matched);
			}
		}
	} else {
		if (redir && p2pdma_config_acs(pr->acs_cmdline, dev, &ctrl, ctrl, redir,
					       P2PDMA_ACS_REDIR_MASK,
					       (uint16_t)~P2PDMA_ACS_REDIR_MASK,
					       &quiet, matched, sizeof(matched))) {
			hit = true;
			if (m) {
				m->param = P2PDMA_PARAM_DISABLE_ACS_REDIR;
				snprintf(m->entry, sizeof(m->entry), "%.127s", matched);
			}
		}
		if (config && p2pdma_config_acs(pr->acs_cmdline, dev, &ctrl, ctrl, config,
						0, 0, &quiet, matched, sizeof(matched))) {
			/* config_acs is applied last: it is what the register shows. */
			hit = true;
			if (m) {
				m->param = P2PDMA_PARAM_CONFIG_ACS;
				snprintf(m->entry, sizeof(m->entry), "%.127s", matched);
			}
		}
	}
	free(buf);
	return hit;
}

/* --- allow-list what-if (p2pdma_policy_add_allow) --- */

/*
 * Rows added by p2pdma_policy_add_allow() sit right after the built-in
 * table, as the conformance kernels' test-only p2pdma_test_allow= rows do
 * (conformance/p2pdma-verdict-*.patch): __host_bridge_whitelist() scans
 * pci_p2pdma_whitelist[] first, so a built-in row that matches decides.
 * Only kernels with the table (5.4+) consult them.
 */
static const struct p2pdma_allow_entry *
extra_lookup(const struct p2pdma_policy *pol, uint16_t vendor, uint16_t device)
{
	const struct p2pdma_kernel_profile *pr = &pol->eff;
	size_t i;

	if (pr->hb_era != P2PDMA_HB_TABLE)
		return NULL;
	for (i = 0; i < pol->nextra; i++) {
		const struct p2pdma_allow_entry *e = &pol->extra[i];

		if (e->vendor != vendor)
			continue;
		if (e->device == device ||
		    (pr->wildcard && e->device == P2PDMA_ANY_ID))
			return e;
	}
	return NULL;
}

P2PDMA_EXPORT int p2pdma_policy_add_allow(struct p2pdma_policy *pol,
					  uint16_t vendor, uint32_t device,
					  uint32_t flags)
{
	struct p2pdma_allow_entry *n;

	if (!vendor)
		return p2pdma_err(pol->ctx, -EINVAL,
				  "allow-list row: vendor 0000 ends the kernel's table and matches nothing");
	if (device > 0xffff && device != P2PDMA_ANY_ID)
		return p2pdma_err(pol->ctx, -EINVAL,
				  "allow-list row: device 0x%x is not a 16-bit ID", (unsigned int)device);
	if (flags & ~(uint32_t)P2PDMA_REQ_SAME_HOST_BRIDGE)
		return p2pdma_err(pol->ctx, -EINVAL,
				  "allow-list row: unknown flags 0x%x", (unsigned int)flags);
	n = realloc(pol->extra, (pol->nextra + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	pol->extra = n;
	n[pol->nextra].vendor = vendor;
	n[pol->nextra].device = device;
	n[pol->nextra].flags = flags;
	n[pol->nextra].since = "what-if";
	n[pol->nextra].comment = "added by --allow / p2pdma_policy_add_allow(), after the kernel's own rows";
	pol->nextra++;
	return 0;
}
