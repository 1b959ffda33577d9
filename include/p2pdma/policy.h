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
 *       no command line
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
 * @spec: "VENDOR:FAMILY": VENDOR as /proc/cpuinfo's vendor_id
 *        (AuthenticAMD, GenuineIntel, HygonGenuine...) or an alias
 *        (amd, intel, hygon, centaur, zhaoxin, arm, aarch64...); FAMILY
 *        decimal (23) or hex (0x17), optional for non-x86 names. "arm" or
 *        any non-x86 architecture turns the rule off. Hygon counts as
 *        x86 but not AMD (the kernel tests X86_VENDOR_AMD only).
 *
 * Return: 0 or -EINVAL with the reason, and what is accepted, in the
 * context error.
 */
int p2pdma_policy_set_cpu(struct p2pdma_policy *pol, const char *spec);

/**
 * p2pdma_policy_set_cmdline() - a kernel command line to apply (what-if)
 * @pol: the policy
 * @cmdline: the whole command line; only pci=disable_acs_redir= and
 *           pci=config_acs= matter. "" applies nothing.
 *
 * Return: 0, or -EINVAL if the line cannot be tokenised (unbalanced quote).
 * Entries the kernel would ignore are ignored, with the kernel's message
 * kept for p2pdma_policy_apply()'s log.
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
 * p2pdma_policy_set_captured_iommu() - the loaded registers come from a boot
 * with an IOMMU that requested ACS
 * @pol: the policy
 * @on: true: the captured ACS Control values include the kernel's default
 *      bits (SV|RR|CR|UF where advertised); p2pdma_policy_apply() then
 *      takes firmware to have left those bits clear and an IOMMU to request
 *      them again. false (the default): the loaded values are what firmware
 *      left, as pci_enable_acs() reads them.
 *
 * A what-if boot over a live capture needs this, or a command line that
 * clears redirect bits looks ineffective on 6.11+ kernels, whose
 * config_acs arithmetic restores masked bits from the firmware value.
 */
void p2pdma_policy_set_captured_iommu(struct p2pdma_policy *pol, bool on);

/**
 * p2pdma_topo_infer_iommu_boot() - did the capture boot with ACS requested?
 * @topo: the topology
 *
 * Return: 1 or 0 when the source says (machine facts); else 1 if some
 * function shows exactly the kernel's default ACS bits (firmware leaves
 * them clear), -1 when nothing tells.
 */
int p2pdma_topo_infer_iommu_boot(const struct p2pdma_topo *topo);

/**
 * p2pdma_policy_apply() - boot the policy's command line on a topology
 * @pol: the policy
 * @topo: the topology; its ACS Control registers are rewritten as
 *        pci_enable_acs() would at enumeration (spec 2.7), starting from
 *        the loaded (firmware) values.
 *
 * Return: 0 or a negative errno.
 */
int p2pdma_policy_apply(struct p2pdma_policy *pol, struct p2pdma_topo *topo);

/**
 * p2pdma_policy_cpu_rule() - cpu_supports_p2pdma() under this policy
 * @pol: the policy
 *
 * Return: true if every host-bridge path is allowed by the CPU rule.
 */
bool p2pdma_policy_cpu_rule(const struct p2pdma_policy *pol);

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
 * (since "what-if"). Add rows before creating a router: its host-bridge
 * tables are built at creation (or p2pdma_router_refresh()).
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
 * p2pdma_policy_set_cpu_from_machine() - take the boot CPU from a source
 * @pol: the policy
 * @m: machine facts a source carried (p2pdma_topo_machine()); a non-x86
 *     @m->arch turns the rule off, an unknown vendor leaves the CPU unknown
 *     (rule off, with a note from p2pdma_policy_cpu_note())
 *
 * Return: 0, or -EINVAL if the source carried a vendor string that is not
 * a known /proc/cpuinfo vendor_id (the CPU is then left unknown).
 */
int p2pdma_policy_set_cpu_from_machine(struct p2pdma_policy *pol,
				       const struct p2pdma_machine_info *m);

/**
 * p2pdma_policy_cpu_note() - the assumption made about the CPU, if any
 * @pol: the policy
 *
 * Return: a one-line note when the CPU rule was decided by an assumption
 * (CPU unknown) or is switched off by the kernel version (AMD Zen under a
 * kernel older than 5.9); NULL when nothing was assumed.
 */
const char *p2pdma_policy_cpu_note(const struct p2pdma_policy *pol);

/**
 * p2pdma_policy_log_count() - lines the last p2pdma_policy_apply() produced
 * @pol: the policy
 *
 * p2pdma_policy_apply() keeps the kernel's boot log lines it predicts
 * ("pci 0000:00:01.0: Configured ACS to 0x0053", "PCI: Can't parse ACS
 * command line parameter"...) plus notes of ours prefixed "note:"; each
 * line is also sent to the context log at P2PDMA_LOG_INFO.
 *
 * Return: the number of lines.
 */
size_t p2pdma_policy_log_count(const struct p2pdma_policy *pol);

/**
 * p2pdma_policy_log_line() - one line of the last apply's log
 * @pol: the policy
 * @i: index from 0
 *
 * Return: the line, or NULL past the end.
 */
const char *p2pdma_policy_log_line(const struct p2pdma_policy *pol, size_t i);

/**
 * p2pdma_policy_cmdline_matches() - did a command line configure this ACS?
 * @pol: the policy (its kernel profile decides the parameter semantics)
 * @cmdline: a whole kernel command line (e.g. the live /proc/cmdline), or
 *           NULL for the policy's own p2pdma_policy_set_cmdline() line
 * @dev: the function
 * @why: buffer for a one-line explanation, e.g. "ACS on 0000:00:01.0 was
 *       set by your command line: pci=config_acs=1x@0000:00:01.0"; "" when
 *       not matched
 * @len: size of @why
 *
 * Runs the kernel's device matching (pci_dev_str_match()) of
 * pci=disable_acs_redir= and pci=config_acs= against @dev; entries the
 * kernel would reject make the answer false.
 *
 * Return: true if an entry of either parameter selects @dev.
 */
bool p2pdma_policy_cmdline_matches(const struct p2pdma_policy *pol,
				   const char *cmdline,
				   const struct p2pdma_dev *dev,
				   char *why, size_t len);

#ifdef __cplusplus
}
#endif
#endif
