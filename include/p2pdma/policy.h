/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/policy.h - what the kernel brings to the decision: version, CPU, command line */
#ifndef P2PDMA_POLICY_H
#define P2PDMA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p2pdma/context.h>
#include <p2pdma/topo.h>

#ifdef __cplusplus
extern "C" {
#endif

struct p2pdma_policy;

/*
 * What a note is about. Notes are the model's remarks next to its answers
 * (an assumption made, an input the kernel would ignore); the text is
 * English for people, the code is for programs. Policy notes come from
 * p2pdma_policy_note(); the kernel object adds its boot notes to its log
 * (p2pdma_kernel_log_entry()).
 */
enum p2pdma_note {
	P2PDMA_NOTE_NONE = 0,
	/* policy */
	P2PDMA_NOTE_KERNEL_ASSUMED,	/* no kernel release known: newest profile */
	P2PDMA_NOTE_KERNEL_NOT_UNDERSTOOD, /* the source's release was refused */
	P2PDMA_NOTE_KERNEL_NEWER,	/* newer than every profile: newest used */
	P2PDMA_NOTE_CPU_ASSUMED,	/* CPU unknown: CPU rule off */
	P2PDMA_NOTE_CPU_FROM_HOST_BRIDGES, /* CPU unknown, host bridges name a vendor */
	P2PDMA_NOTE_CPU_RULE_TOO_OLD,	/* AMD Zen CPU but kernel before 5.9 */
	P2PDMA_NOTE_CPU_HYGON,		/* Hygon: not X86_VENDOR_AMD */
	P2PDMA_NOTE_CPU_NOT_UNDERSTOOD,	/* the source's vendor_id is unknown */
	/* kernel boot (p2pdma/kernel.h) */
	P2PDMA_NOTE_ACS_UNKNOWN,	/* functions whose ACS could not be read */
	P2PDMA_NOTE_ACS_UNPREDICTABLE,	/* a what-if boot cannot set unknown ACS */
	P2PDMA_NOTE_ACS_NOT_IMPLEMENTED, /* bits written that the port lacks */
	P2PDMA_NOTE_IOMMU_ASSUMED,	/* capture's IOMMU state unknown: none assumed */
	P2PDMA_NOTE_IOMMU_DEFAULTS_CAPTURED, /* captured registers hold IOMMU defaults */
	P2PDMA_NOTE_CMDLINE_SHOWN,	/* registers show the machine's own command line */
	P2PDMA_NOTE_CMDLINE_REAPPLIED,	/* a what-if boot re-applied it */
	P2PDMA_NOTE_CMDLINE_REPLACED,	/* a what-if command line drops its parameters */
	P2PDMA_NOTE_PARAM_OVERRIDDEN,	/* a repeated pci= parameter: the last wins */
	P2PDMA_NOTE_PARAM_NO_DEVICE,	/* an entry names no function of the machine */
	P2PDMA_NOTE_PARAM_COMMA,	/* a ',' ended the pci= option inside a list */
	P2PDMA_NOTE_SETPCI,		/* an ACS register written at run time */
};

/* Which ACS kernel parameter (doc/kernel-model.md §2.7). */
enum p2pdma_acs_param {
	P2PDMA_PARAM_DISABLE_ACS_REDIR = 0,	/* pci=disable_acs_redir= */
	P2PDMA_PARAM_CONFIG_ACS = 1,		/* pci=config_acs= */
};

/**
 * struct p2pdma_cmdline_match - which command-line entry configured a function
 * @param: the parameter whose entry matched (config_acs wins when both do:
 *         the kernel applies it last)
 * @entry: the matching entry, e.g. "0000:00:01.0" or "1x@pci:0:0"
 *         (cut at 127 bytes)
 */
struct p2pdma_cmdline_match {
	enum p2pdma_acs_param param;
	char entry[128];
};

/* Allow-list entry flag: the host bridge only admits P2P below itself. */
#define P2PDMA_REQ_SAME_HOST_BRIDGE (1u << 0)
/* Device ID wildcard (PCI_ANY_ID), honoured from 7.1 on. */
#define P2PDMA_ANY_ID 0xffffffffu

/**
 * struct p2pdma_allow_entry - one row of pci_p2pdma_whitelist[]
 * @vendor: PCI vendor ID
 * @device: PCI device ID, or P2PDMA_ANY_ID
 * @flags: P2PDMA_REQ_SAME_HOST_BRIDGE or 0
 * @since: first kernel release with the row, e.g. "5.6"
 * @comment: where the row comes from
 */
struct p2pdma_allow_entry {
	uint16_t vendor;
	uint32_t device;
	uint32_t flags;
	const char *since;
	const char *comment;
};

/**
 * enum p2pdma_cpu_rule - how the CPU rule was decided
 * @P2PDMA_CPU_RULE_OFF: cpu_supports_p2pdma() false
 * @P2PDMA_CPU_RULE_ON: AMD family >= 0x17 on x86, kernel >= 5.9
 */
enum p2pdma_cpu_rule {
	P2PDMA_CPU_RULE_OFF = 0,
	P2PDMA_CPU_RULE_ON = 1,
};

/**
 * p2pdma_policy_create() - a policy for the newest modelled kernel
 * @ctx: library context
 * @out: the new policy: newest kernel profile, CPU unknown (rule off),
 *       no command line, no IOMMU what-if
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_policy_create(struct p2pdma_ctx *ctx, struct p2pdma_policy **out);

/**
 * p2pdma_policy_destroy() - free a policy
 * @pol: the policy or NULL
 */
void p2pdma_policy_destroy(struct p2pdma_policy *pol);

/**
 * p2pdma_policy_set_kernel() - choose the kernel-version profile
 * @pol: the policy
 * @release: "6.12", "5.10.0-23-amd64", "6.19-rc1"...
 *
 * Return: 0, -EINVAL if @release is not a version, -ERANGE if older than
 * the first kernel with P2PDMA (4.20).
 */
int p2pdma_policy_set_kernel(struct p2pdma_policy *pol, const char *release);

/**
 * p2pdma_policy_set_cpu() - set the boot CPU
 * @pol: the policy
 * @spec: "VENDOR:FAMILY[:MODEL]": VENDOR as /proc/cpuinfo's vendor_id
 *        (AuthenticAMD, GenuineIntel, HygonGenuine...) or an alias
 *        (amd, intel, hygon, centaur, zhaoxin, arm, aarch64...); FAMILY
 *        decimal (23) or hex (0x17), optional for non-x86 names; MODEL is
 *        accepted and not used (the rule looks at the family). "arm" or
 *        any non-x86 architecture turns the rule off. Hygon counts as
 *        x86 but not AMD (the kernel tests X86_VENDOR_AMD only).
 *
 * Return: 0 or -EINVAL with the reason, and what is accepted, in the
 * context error.
 */
int p2pdma_policy_set_cpu(struct p2pdma_policy *pol, const char *spec);

/**
 * p2pdma_policy_set_cmdline() - a kernel command line to boot with (what-if)
 * @pol: the policy
 * @cmdline: the whole command line; only pci=disable_acs_redir= and
 *           pci=config_acs= matter. NULL, "" or blanks: no what-if
 *           command line (the captured registers stay as they are).
 *
 * p2pdma_kernel_boot() then re-runs the kernel's ACS set-up with this
 * line instead of the one the machine booted with. Entries the kernel
 * would ignore are ignored, with the kernel's message in the boot log.
 *
 * Return: 0, or -EINVAL if the line cannot be tokenised (unbalanced quote).
 */
int p2pdma_policy_set_cmdline(struct p2pdma_policy *pol, const char *cmdline);

/**
 * p2pdma_policy_set_iommu_acs() - what-if: an IOMMU driver requests ACS
 * @pol: the policy
 * @on: true: pci_enable_acs() ORs in SV|RR|CR|UF (those advertised) on every
 *      function with ACS at "boot", as with intel_iommu=on
 */
void p2pdma_policy_set_iommu_acs(struct p2pdma_policy *pol, bool on);

/**
 * p2pdma_policy_cmdline() - the what-if command line
 * @pol: the policy
 *
 * Return: the line given to p2pdma_policy_set_cmdline(), or NULL when
 * none (or only blanks) was given.
 */
const char *p2pdma_policy_cmdline(const struct p2pdma_policy *pol);

/**
 * p2pdma_policy_iommu_acs() - is the IOMMU what-if on?
 * @pol: the policy
 *
 * Return: the value given to p2pdma_policy_set_iommu_acs().
 */
bool p2pdma_policy_iommu_acs(const struct p2pdma_policy *pol);

/**
 * p2pdma_topo_infer_iommu_boot() - did the capture boot with ACS requested?
 * @topo: the topology
 * @booted: receives true if an IOMMU driver requested ACS at that boot
 *
 * The source may say (machine facts); else the registers tell: firmware
 * leaves ACS Control clear, so a function showing exactly the kernel's
 * default bits (all of SV, RR, CR, UF its capability advertises) was set
 * by the kernel.
 *
 * Return: 0 with @booted set, or -ENODATA when nothing tells.
 */
int p2pdma_topo_infer_iommu_boot(const struct p2pdma_topo *topo, bool *booted);

/**
 * p2pdma_policy_from_machine() - the policy of the kernel a machine runs
 * @ctx: library context
 * @topo: the machine (its p2pdma_topo_machine() facts: kernel release,
 *        CPU vendor and family, architecture, IOMMU)
 * @out: the new policy: the machine's kernel profile (the newest when
 *       unknown or refused), its CPU (unknown when not recorded), no
 *       what-if. Each assumption made is a note (p2pdma_policy_note()).
 *
 * The machine's own command line is not a what-if: its effect is already
 * in the captured registers (p2pdma_kernel_boot() explains it).
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_policy_from_machine(struct p2pdma_ctx *ctx,
			       const struct p2pdma_topo *topo,
			       struct p2pdma_policy **out);

/**
 * p2pdma_policy_clone() - copy a policy
 * @pol: the policy
 * @out: the copy (same context, profile, CPU, command line, what-ifs, notes)
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_policy_clone(const struct p2pdma_policy *pol,
			struct p2pdma_policy **out);

/**
 * p2pdma_policy_num_notes() - how many notes the policy carries
 * @pol: the policy
 *
 * Return: the count (assumptions about the kernel and the CPU).
 */
size_t p2pdma_policy_num_notes(const struct p2pdma_policy *pol);

/**
 * p2pdma_policy_note() - one note
 * @pol: the policy
 * @i: index
 * @code: if non-NULL, receives what it is about
 *
 * Return: the text (no option names of any program), or NULL past the end.
 */
const char *p2pdma_policy_note(const struct p2pdma_policy *pol, size_t i,
			       enum p2pdma_note *code);

/**
 * p2pdma_policy_cpu_rule() - cpu_supports_p2pdma() under this policy
 * @pol: the policy
 *
 * Return: true if every host-bridge path is allowed by the CPU rule.
 */
bool p2pdma_policy_cpu_rule(const struct p2pdma_policy *pol);

/**
 * p2pdma_policy_cpu_rule_possible() - could the CPU rule hold on this machine?
 * @pol: the policy
 *
 * Return: true if the kernel profile has the AMD Zen CPU rule (5.9+) and
 * the CPU is AMD or not known; false when the CPU is known to be another
 * vendor or architecture (then no CPU could admit a host-bridge path).
 */
bool p2pdma_policy_cpu_rule_possible(const struct p2pdma_policy *pol);

/**
 * p2pdma_policy_allow_lookup() - the allow-list row for a host device
 * @pol: the policy
 * @vendor: host bridge device vendor
 * @device: host bridge device ID
 *
 * Scans the profile's table in order, as the kernel does (first match).
 *
 * Return: the row, or NULL if the device is not listed.
 */
const struct p2pdma_allow_entry *
p2pdma_policy_allow_lookup(const struct p2pdma_policy *pol, uint16_t vendor,
			   uint16_t device);

/**
 * p2pdma_policy_add_allow() - what-if: one more allow-list row
 * @pol: the policy
 * @vendor: host bridge device vendor (not 0: a 0 vendor ends the table)
 * @device: host bridge device ID, or P2PDMA_ANY_ID (matches any device
 *          only under 7.1+ profiles, like the kernel's own wildcard rows)
 * @flags: 0 or P2PDMA_REQ_SAME_HOST_BRIDGE
 *
 * "What if my host bridge were on the list": the row is consulted right
 * after the profile's built-in rows of pci_p2pdma_whitelist[], as if
 * appended to that table, so a built-in row that matches the same device
 * still decides first. Profiles without the table (before 5.4) ignore
 * added rows. p2pdma_policy_allow_lookup() returns them like built-in rows
 * (since "what-if"). Routers and kernels copy the policy when they are
 * created or booted, so add rows before p2pdma_router_create() or
 * p2pdma_kernel_boot().
 *
 * Return: 0, -EINVAL for a vendor 0, a device beyond 16 bits other than
 * P2PDMA_ANY_ID or unknown flags (message in the context), -ENOMEM.
 */
int p2pdma_policy_add_allow(struct p2pdma_policy *pol, uint16_t vendor,
			    uint32_t device, uint32_t flags);

/**
 * p2pdma_policy_kernel() - the kernel profile in force
 * @pol: the policy
 *
 * Return: the release string as given, or the newest profile's name.
 */
const char *p2pdma_policy_kernel(const struct p2pdma_policy *pol);

/**
 * p2pdma_policy_cmdline_match() - did a command line configure this ACS?
 * @pol: the policy (its kernel profile decides the parameter semantics)
 * @cmdline: a whole kernel command line (e.g. the machine's own), or NULL
 *           for the policy's what-if line
 * @dev: the function
 * @m: if non-NULL and the answer is true, receives which entry matched
 *
 * Runs the kernel's device matching (pci_dev_str_match(),
 * doc/kernel-model.md §2.7) of pci=disable_acs_redir= and pci=config_acs=
 * against @dev; entries the kernel would reject make the answer false.
 *
 * Return: true if an entry of either parameter selects @dev.
 */
bool p2pdma_policy_cmdline_match(const struct p2pdma_policy *pol,
				 const char *cmdline,
				 const struct p2pdma_dev *dev,
				 struct p2pdma_cmdline_match *m);

#ifdef __cplusplus
}
#endif
#endif
