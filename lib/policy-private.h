/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy-private.h - kernel-version profiles and policy queries for the route layer */
#ifndef P2PDMA_POLICY_PRIVATE_H
#define P2PDMA_POLICY_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2pdma/policy.h"
#include "topo-private.h"

/* A kernel release as (major, minor); sublevels never changed P2PDMA rules we model. */
#define P2PDMA_KV(a, b) (((unsigned int)(a) << 8) | (unsigned int)(b))

/*
 * How the kernel treats a path whose provider and client have no common
 * upstream device, or whose common-ancestor path has ACS redirect set.
 * See doc/kernel-profiles.md for the sources of each era.
 */
enum p2pdma_hb_era {
	/*
	 * 4.20 - 5.1: upstream_bridge_distance() returns -1 (no common
	 * upstream bridge) or -2 (ACS redirect): both mean "not supported".
	 * No host-bridge crossing at all.
	 */
	P2PDMA_HB_NONE = 0,
	/*
	 * 5.2 - 5.3: root_complex_whitelist() (0f97da831026, plus the
	 * iommu_present() fix, both in 5.2). Only the no-common-ancestor case
	 * may cross the host bridge, when BOTH devices' root bus has device
	 * 00.0 = AMD 0x1450 and no IOMMU is registered; the distance then is
	 * 0x1000 + dist_a + dist_b. ACS redirect is still -2 = not supported.
	 */
	P2PDMA_HB_ROOT_COMPLEX,
	/*
	 * 5.4 and later: map types; ACS-redirected paths become
	 * THRU_HOST_BRIDGE and, like paths without a common ancestor, go to
	 * host_bridge_whitelist() with pci_p2pdma_whitelist[] (doc/kernel-model.md §2.2, §2.4).
	 */
	P2PDMA_HB_TABLE,
};

/* Which pci=...acs... code the kernel has (doc/kernel-model.md §2.7). */
enum p2pdma_acs_cmdline_era {
	/*
	 * 4.19 - 6.10: only disable_acs_redir=, applied by
	 * pci_disable_acs_redir() after the IOMMU defaults: RR|CR|EC cleared
	 * from the live value, "disabled ACS redirect". config_acs= is an
	 * unknown pci= option.
	 */
	P2PDMA_ACS_CMDLINE_REDIR_ONLY = 0,
	/*
	 * 6.11 - 6.14: __pci_config_acs() of 47c8846a49ba ("PCI: Extend ACS
	 * configurability"): the mask is not reset between config_acs
	 * entries (only the first entry's flags are parsed) and the result
	 * is ctrl = (ctrl & ~mask) | (fw_ctrl & mask) | flags.
	 */
	P2PDMA_ACS_CMDLINE_CONFIG_6_11,
	/*
	 * 6.15 and later: 9cf8a952d57b (Tushar Dave's fix):
	 * ctrl = (fw_ctrl & ~mask) | (flags & mask), mask per entry.
	 * (The fix was also queued for 6.14.y stable; which point releases of
	 * older series carry it is not modelled.)
	 */
	P2PDMA_ACS_CMDLINE_CONFIG_6_15,
};

/**
 * struct p2pdma_kernel_profile - what one kernel release does, as data
 * @name: the first release with this behaviour, e.g. "5.14"
 * @kv: P2PDMA_KV() of @name
 * @source: commit(s) that made this release differ from the previous row
 * @verified: the release number of @source was confirmed from a pull
 *            request or an "Applied ... for vX.Y" message; false: inferred
 * @hb_era: host-bridge stage semantics
 * @hb_iommu_blocks: (ROOT_COMPLEX era) a registered IOMMU disables the list
 * @hb_dist_penalty: added to the distance of allowed host-bridge paths
 * @hostdev_root_port: pci_host_bridge_dev() also accepts a first function
 *                     that is a Root Port at any devfn (1af7c26c59eb);
 *                     before, only device 00.0 counts
 * @cpu_rule: cpu_supports_p2pdma() exists (AMD family >= 0x17)
 * @wildcard: PCI_ANY_ID rows match any device ID
 * @warn_host_bridge: "Host bridge not in P2PDMA whitelist" is printed
 * @map_cache: the per-provider map-type xarray exists
 * @map_cache_fill_on_miss: pci_p2pdma_map_type() computes (verbose) on a
 *                          cache miss; before, a miss read as UNKNOWN
 * @examines_endpoint_acs: pci_bridge_has_acs_redir() runs on the endpoints
 *                         too (true in every release: the walk starts at
 *                         the provider/client themselves)
 * @acs_list_size: the ACS list text buffer (PAGE_SIZE kmalloc before 5.14,
 *                 128 bytes on the stack since)
 * @acs_cmdline: which ACS command-line code the kernel has
 * @msg_acs: warning 1 (doc/kernel-model.md §2.8), "%s" = provider name
 * @msg_acs_fix: warning 2, "%s" = ';' list
 * @msg_not_supported: warning 4, "%s" = provider name
 * @msg_hb_not_listed: warning 3 "%04x:%04x", NULL where not printed
 */
struct p2pdma_kernel_profile {
	const char *name;
	unsigned int kv;
	const char *source;
	bool verified;
	enum p2pdma_hb_era hb_era;
	bool hb_iommu_blocks;
	int hb_dist_penalty;
	bool hostdev_root_port;
	bool cpu_rule;
	bool wildcard;
	bool warn_host_bridge;
	bool map_cache;
	bool map_cache_fill_on_miss;
	bool examines_endpoint_acs;
	size_t acs_list_size;
	enum p2pdma_acs_cmdline_era acs_cmdline;
	const char *msg_acs;
	const char *msg_acs_fix;
	const char *msg_not_supported;
	const char *msg_hb_not_listed;
};

/* The profile in force (never NULL). */
const struct p2pdma_kernel_profile *
p2pdma_policy_profile(const struct p2pdma_policy *pol);

/* Every profile, oldest first; NULL past the end. */
const struct p2pdma_kernel_profile *p2pdma_kernel_profile_at(size_t i);

/*
 * Every allow-list row the model knows, in kernel table order, with the
 * release it appeared in and (NULL: still there) the one it left in.
 */
struct p2pdma_allow_row {
	struct p2pdma_allow_entry e;
	unsigned int since_kv;
	unsigned int until_kv;		/* 0: not removed */
	const char *until;
};
const struct p2pdma_allow_row *p2pdma_allow_row_at(size_t i);

/*
 * pci_host_bridge_dev() as the profile's kernel does it: the first
 * function on the root bus if it is 00.0 (or, 5.19+, a Root Port).
 * Before 5.19 (and in the 5.2 root-complex era, pci_get_slot(00.0)) a
 * Root Port at another devfn is no candidate.
 */
const struct p2pdma_dev *
p2pdma_policy_hostdev(const struct p2pdma_policy *pol,
		      const struct p2pdma_host_bridge *hb);

/*
 * host_bridge_whitelist() (doc/kernel-model.md §2.4) under the profile:
 *  - same host bridge: allowed iff @hostdev_a matches a row (a
 *    REQ_SAME_HOST_BRIDGE row is fine);
 *  - different: both match and neither matched row has
 *    REQ_SAME_HOST_BRIDGE;
 *  - a NULL host device: false;
 *  - the first matching row decides; PCI_ANY_ID rows only from 7.1;
 *  - 4.20-5.1: always false; 5.2-5.3: both host devices must be AMD
 *    0x1450 and no IOMMU present (p2pdma_policy_iommu_present() == 1
 *    blocks; unknown is taken as absent).
 * Does not consult the CPU rule: the caller short-circuits on it.
 * @entry_a/@entry_b receive the matched rows (NULL if none or not
 * examined; same host bridge fills only @entry_a). Either may be NULL.
 */
bool p2pdma_policy_host_bridge_allowed(const struct p2pdma_policy *pol,
				       const struct p2pdma_dev *hostdev_a,
				       const struct p2pdma_dev *hostdev_b,
				       bool same_host_bridge,
				       const struct p2pdma_allow_entry **entry_a,
				       const struct p2pdma_allow_entry **entry_b);

/*
 * @cmdline with every pci=disable_acs_redir= and pci=config_acs= option
 * taken out (other pci= options and arguments kept), newly allocated;
 * NULL @cmdline gives "". NULL on allocation failure.
 */
char *p2pdma_cmdline_without_acs(const char *cmdline);

/* 1 an IOMMU driver is registered, 0 not, -1 unknown. */
int p2pdma_policy_iommu_present(const struct p2pdma_policy *pol);

/*
 * Parse a release "X.Y[.Z][-suffix]" / "X.Y-rcN". Returns 0 with *kv set,
 * or -EINVAL.
 */
int p2pdma_parse_release(const char *release, unsigned int *kv);

/*
 * Where the boot-time ACS set-up tells what it did: @code is
 * P2PDMA_NOTE_NONE for a line the kernel itself prints, else the note
 * the model adds.
 */
struct p2pdma_boot_log {
	void (*line)(void *data, enum p2pdma_note code, const char *text);
	void *data;
};

/*
 * pci_enable_acs() at enumeration for every function of @topo (a draft the
 * kernel object owns), under @pol's profile and IOMMU what-if, with
 * @cmdline's pci=disable_acs_redir= and pci=config_acs= (NULL: none).
 * @captured_defaults: the loaded registers hold the IOMMU's default bits
 * (see p2pdma_topo_infer_iommu_boot()). Rewrites acs_ctrl from
 * acs_ctrl_boot. Returns 0 or a negative errno.
 */
int p2pdma_policy_boot_acs(const struct p2pdma_policy *pol, const char *cmdline,
			   bool captured_defaults, struct p2pdma_topo *topo,
			   const struct p2pdma_boot_log *log);

/* --- command line (acs-cmdline.c) --- */

/*
 * The values of pci=disable_acs_redir= and pci=config_acs= that the
 * kernel's pci_setup() would keep from a whole command line (later ones
 * override earlier ones; ',' ends a pci= option). Returns 0 or -EINVAL
 * (unbalanced quote). @redir/@config point into @buf (size @len), NULL
 * when absent.
 */
int p2pdma_cmdline_pci_params(const char *cmdline, char *buf, size_t len,
			      const char **redir, const char **config);

/*
 * Every ','-separated option of every pci= argument, in order, as
 * pci_setup() sees them (tokenised as p2pdma_cmdline_pci_params() does,
 * in @buf of @len bytes). Returns 0 or -EINVAL (unbalanced quote).
 */
int p2pdma_cmdline_pci_options(const char *cmdline, char *buf, size_t len,
			       void (*fn)(void *data, const char *opt),
			       void *data);

/*
 * pci_dev_str_match() (drivers/pci/pci.c): 1 matched, 0 not, -EINVAL
 * unparsable; *endptr is left after the consumed spec.
 */
int p2pdma_dev_str_match(const struct p2pdma_dev *dev, const char *p,
			 const char **endptr);

/* A log sink for __pci_config_acs() and friends; lines come without '\n'. */
struct p2pdma_acs_log {
	void (*line)(void *data, const char *text);
	void *data;
	bool *warned_once;		/* pr_warn_once()/pr_info_once() state */
};

/*
 * __pci_config_acs() of the era on one device: @p is the parameter value
 * (NULL: absent), @acs_mask/@acs_flags as the kernel passes them (0/0 for
 * config_acs). Updates *ctrl from *ctrl and @fw_ctrl. Returns true if an
 * entry matched and the register was reconfigured; @matched (may be NULL,
 * size @mlen) receives the text of the matching entry.
 */
bool p2pdma_config_acs(enum p2pdma_acs_cmdline_era era,
		       const struct p2pdma_dev *dev, uint16_t *ctrl,
		       uint16_t fw_ctrl, const char *p, uint16_t acs_mask,
		       uint16_t acs_flags, const struct p2pdma_acs_log *log,
		       char *matched, size_t mlen);

/* The policy's CPU: 1 an x86 AMD CPU (AuthenticAMD), 0 another, -1 unknown. */
int p2pdma_policy_cpu_amd_x86(const struct p2pdma_policy *pol);

#endif
