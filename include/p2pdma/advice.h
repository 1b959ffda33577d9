/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/advice.h - what to change so that a pair (or a machine) does P2P directly, verified */
#ifndef P2PDMA_ADVICE_H
#define P2PDMA_ADVICE_H

#include <stdbool.h>
#include <stddef.h>

#include <p2pdma/kernel.h>
#include <p2pdma/policy.h>
#include <p2pdma/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the advice is. */
enum p2pdma_advice_status {
	/* The pair is BUS_ADDR: nothing to change. */
	P2PDMA_ADVICE_ALREADY_BUS_ADDR = 0,
	/* BUS_ADDR as far as known; ports with unreadable ACS could redirect. */
	P2PDMA_ADVICE_DEPENDS_ON_UNKNOWN_ACS,
	/* Allowed through the host bridge; BUS_ADDR needs a common switch. */
	P2PDMA_ADVICE_ALLOWED_NO_SWITCH,
	/* A kernel command line makes it BUS_ADDR, verified. */
	P2PDMA_ADVICE_FIX,
	/* A command line would clear the ACS bits, but no variant verified
	 * on this kernel (e.g. 6.11 - 6.14's config_acs handling). */
	P2PDMA_ADVICE_FIX_UNVERIFIED,
	/* Refused and no command line helps: no common upstream bridge and
	 * the host bridge is not allowed (p2pdma_advice_num_requirements()). */
	P2PDMA_ADVICE_NO_CMDLINE_FIX,
	/* Machine advice: every relevant pair is BUS_ADDR or no ACS change helps. */
	P2PDMA_ADVICE_NOTHING_TO_DO,
};

/* Which command-line form a variant uses. */
enum p2pdma_advice_form {
	P2PDMA_FORM_DISABLE_ACS_REDIR = 0,	/* pci=disable_acs_redir= (4.19+) */
	P2PDMA_FORM_CONFIG_ACS = 1,		/* pci=config_acs= (6.11+) */
};

/* One way a pair refused at the host bridge could be admitted. */
enum p2pdma_requirement {
	P2PDMA_REQ_CPU_RULE = 0,	/* an AMD Zen CPU (x86 family >= 0x17), kernel 5.9+ */
	P2PDMA_REQ_ALLOW_LIST,		/* the host device on the allow list */
	P2PDMA_REQ_NO_HOSTDEV,		/* nothing: that host bridge has no device to list */
	P2PDMA_REQ_COMMON_SWITCH,	/* both devices below one switch (for BUS_ADDR) */
};

struct p2pdma_advice;

/**
 * p2pdma_advise_pair() - the smallest change that makes a pair BUS_ADDR
 * @k: the booted kernel (its policy, its hardware, the machine's own
 *     command line)
 * @provider: owner of the memory
 * @client: DMA initiator
 * @out: the advice
 *
 * For ACS redirect on the path (doc/kernel-model.md §2.2, §2.7), builds
 * the command-line variants (pci=disable_acs_redir=, pci=config_acs=),
 * each MERGED with the ACS parameters the machine already boots with, and
 * verifies each by booting a copy of the machine with it under the same
 * policy (profile, CPU rule, IOMMU what-if): the variant works when the
 * pair becomes BUS_ADDR and no pair that is BUS_ADDR today is lost. The
 * isolation cost is the IOMMU groups that merge (p2pdma/iommu.h).
 *
 * Return: 0 or a negative errno (-EINVAL foreign function, -ENOMEM).
 */
int p2pdma_advise_pair(struct p2pdma_kernel *k, const struct p2pdma_dev *provider,
		       const struct p2pdma_dev *client,
		       struct p2pdma_advice **out);

/**
 * p2pdma_advise_machine() - one command line for the whole machine
 * @k: the booted kernel
 * @devs: the functions that matter (e.g. GPUs, NICs, storage)
 * @n: how many
 * @out: the advice: every ACS change that would make a pair of @devs
 *       BUS_ADDR, in one command line merged with the machine's own,
 *       verified like p2pdma_advise_pair() over every pair of the machine
 *
 * Return: 0 or a negative errno.
 */
int p2pdma_advise_machine(struct p2pdma_kernel *k,
			  const struct p2pdma_dev *const *devs, size_t n,
			  struct p2pdma_advice **out);

/**
 * p2pdma_advice_destroy() - free advice
 * @a: the advice or NULL
 */
void p2pdma_advice_destroy(struct p2pdma_advice *a);

/**
 * p2pdma_advice_status() - what the advice is
 * @a: the advice
 *
 * Return: the status.
 */
enum p2pdma_advice_status p2pdma_advice_status(const struct p2pdma_advice *a);

/**
 * p2pdma_advice_verdict() - the pair's verdict today (pair advice)
 * @a: the advice
 *
 * Return: the verbose verdict, or NULL for machine advice.
 */
const struct p2pdma_verdict *p2pdma_advice_verdict(const struct p2pdma_advice *a);

/**
 * p2pdma_advice_kernel_cmdline() - the ACS parameters to boot with, ready to paste
 * @a: the advice
 *
 * The complete set: the recommended variant merged with the ACS parameters
 * the machine already has, which it replaces (see p2pdma_advice_warning()).
 * Quote it in a boot loader or a shell: ';' separates devices.
 *
 * Return: e.g. "pci=disable_acs_redir=0000:a9:00.0;0000:17:00.0", or NULL
 * when no command line is advised.
 */
const char *p2pdma_advice_kernel_cmdline(const struct p2pdma_advice *a);

/**
 * p2pdma_advice_recommended() - which variant p2pdma_advice_kernel_cmdline() is
 * @a: the advice
 * @index: receives the variant's index when there is one
 *
 * Return: true if a variant is recommended (status FIX).
 */
bool p2pdma_advice_recommended(const struct p2pdma_advice *a, size_t *index);

/**
 * p2pdma_advice_num_clear() - functions whose ACS redirect bits must go
 * @a: the advice
 *
 * Return: how many (for DEPENDS_ON_UNKNOWN_ACS: the unknown ones to check).
 */
size_t p2pdma_advice_num_clear(const struct p2pdma_advice *a);

/**
 * p2pdma_advice_clear() - one of them
 * @a: the advice
 * @i: index
 * @ctrl: if non-NULL, receives its ACS Control now
 *
 * Return: the function, or NULL past the end.
 */
const struct p2pdma_dev *p2pdma_advice_clear(const struct p2pdma_advice *a,
					     size_t i, uint16_t *ctrl);

/**
 * p2pdma_advice_num_variants() - command-line forms tried
 * @a: the advice
 *
 * Return: how many (0 when no command line applies).
 */
size_t p2pdma_advice_num_variants(const struct p2pdma_advice *a);

/**
 * p2pdma_advice_variant() - one form, merged with the machine's parameters
 * @a: the advice
 * @i: index
 * @form: if non-NULL, receives which parameter it uses
 *
 * Return: the parameters (as p2pdma_advice_kernel_cmdline()), or NULL.
 */
const char *p2pdma_advice_variant(const struct p2pdma_advice *a, size_t i,
				  enum p2pdma_advice_form *form);

/**
 * p2pdma_advice_variant_works() - did booting with the variant verify?
 * @a: the advice
 * @i: index
 *
 * Return: true if the target became BUS_ADDR (every target pair, for
 * machine advice) and no pair that is BUS_ADDR today was lost.
 */
bool p2pdma_advice_variant_works(const struct p2pdma_advice *a, size_t i);

/**
 * p2pdma_advice_variant_outcome() - what the verification boot gave
 * @a: the advice
 * @i: index
 * @distance: if non-NULL, receives the target pair's distance
 *
 * Return: the target pair's map type after the boot (pair advice), or
 * P2PDMA_MAP_BUS_ADDR when every target pair became BUS_ADDR (machine).
 */
enum p2pdma_map_type p2pdma_advice_variant_outcome(const struct p2pdma_advice *a,
						   size_t i, int *distance);

/**
 * p2pdma_advice_variant_log() - the kernel's boot lines for the variant
 * @a: the advice
 * @i: index
 *
 * Return: the lines joined with "; " (why a variant fails, e.g. "Can't
 * parse ACS command line parameter"), "" if none.
 */
const char *p2pdma_advice_variant_log(const struct p2pdma_advice *a, size_t i);

/**
 * p2pdma_advice_variant_lost() - BUS_ADDR pairs the variant would break
 * @a: the advice
 * @i: index
 *
 * Return: how many ordered pairs that are BUS_ADDR today are not after
 * booting with it (0 for a working variant).
 */
size_t p2pdma_advice_variant_lost(const struct p2pdma_advice *a, size_t i);

/**
 * p2pdma_advice_variant_gained() - pairs the variant makes BUS_ADDR
 * @a: the advice
 * @i: index
 *
 * Return: how many of the target pairs become BUS_ADDR.
 */
size_t p2pdma_advice_variant_gained(const struct p2pdma_advice *a, size_t i);

/**
 * p2pdma_advice_newer_kernel() - where the first form works when none does here
 * @a: the advice
 * @outcome: if non-NULL, receives the target's map type on that kernel
 *
 * Return: a kernel release on which pci=disable_acs_redir= does what it
 * should (6.11 - 6.14 mishandle ACS masks), or NULL when not needed.
 */
const char *p2pdma_advice_newer_kernel(const struct p2pdma_advice *a,
				       enum p2pdma_map_type *outcome);

/**
 * p2pdma_advice_num_warnings() - cautions about the advised command line
 * @a: the advice
 *
 * Return: how many (each parameter of the machine it overrides, ...).
 */
size_t p2pdma_advice_num_warnings(const struct p2pdma_advice *a);

/**
 * p2pdma_advice_warning() - one caution
 * @a: the advice
 * @i: index
 *
 * Return: the text, or NULL past the end.
 */
const char *p2pdma_advice_warning(const struct p2pdma_advice *a, size_t i);

/**
 * p2pdma_advice_num_group_merges() - IOMMU groups that become one
 * @a: the advice
 *
 * Return: how many groups after the advised boot hold functions of more
 * than one group today (the isolation the change costs).
 */
size_t p2pdma_advice_num_group_merges(const struct p2pdma_advice *a);

/**
 * p2pdma_advice_group_merge() - one merge
 * @a: the advice
 * @i: index
 * @ngroups: receives how many of today's groups become one
 * @nfuncs: receives how many functions the merged group holds
 *
 * Return: the first function of the merged group (a name to show).
 */
const struct p2pdma_dev *p2pdma_advice_group_merge(const struct p2pdma_advice *a,
						   size_t i, size_t *ngroups,
						   size_t *nfuncs);

/**
 * p2pdma_advice_num_requirements() - what could admit a refused pair
 * @a: the advice
 *
 * Return: how many conditions (NO_CMDLINE_FIX and ALLOWED_NO_SWITCH).
 */
size_t p2pdma_advice_num_requirements(const struct p2pdma_advice *a);

/**
 * p2pdma_advice_requirement() - one condition
 * @a: the advice
 * @i: index
 * @hostdev: if non-NULL, receives the host device concerned (or NULL)
 * @met: if non-NULL, receives whether it already holds on this machine
 *
 * Return: the kind of condition.
 */
enum p2pdma_requirement p2pdma_advice_requirement(const struct p2pdma_advice *a,
						  size_t i,
						  const struct p2pdma_dev **hostdev,
						  bool *met);

/**
 * p2pdma_advice_num_pairs() - pairs the machine advice targets
 * @a: the advice
 *
 * Return: how many unordered pairs of the functions asked about are not
 * BUS_ADDR today because of ACS redirect (machine advice); 0 for pair
 * advice.
 */
size_t p2pdma_advice_num_pairs(const struct p2pdma_advice *a);

/**
 * p2pdma_host_bridge_status() - why a host bridge may or may not forward P2P
 * @hostdev: the host bridge device (first function on its root bus)
 *
 * The PCIe specification leaves forwarding between hierarchy domains to
 * the implementation; this is what is known of the vendor's
 * (doc/kernel-model.md §1.1, with sources).
 *
 * Return: one or two sentences, or NULL when nothing is known.
 */
const char *p2pdma_host_bridge_status(const struct p2pdma_dev *hostdev);

#ifdef __cplusplus
}
#endif
#endif
