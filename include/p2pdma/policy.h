/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/policy.h - what the kernel brings to the decision: version, CPU, command line */
#ifndef P2PDMA_POLICY_H
#define P2PDMA_POLICY_H

#include <stdbool.h>
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
 *        (amd, intel, hygon, zhaoxin, arm); FAMILY decimal. "arm" or any
 *        non-x86 architecture turns the rule off.
 *
 * Return: 0 or -EINVAL with the reason in the context error.
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
 * p2pdma_policy_kernel() - the kernel profile in force
 * @pol: the policy
 *
 * Return: the release string as given, or the newest profile's name.
 */
const char *p2pdma_policy_kernel(const struct p2pdma_policy *pol);

#ifdef __cplusplus
}
#endif
#endif
