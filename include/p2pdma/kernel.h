/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/kernel.h - a modelled running kernel on a machine: P2PDMA state, providers, cache, log */
#ifndef P2PDMA_KERNEL_H
#define P2PDMA_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p2pdma/context.h>
#include <p2pdma/policy.h>
#include <p2pdma/topo.h>
#include <p2pdma/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * struct p2pdma_kernel is what a booted Linux keeps about P2PDMA on one
 * machine. It is booted from a topology and a policy and owns:
 *
 *  - its own copy of the hardware, with the ACS Control registers as the
 *    boot left them (pci_enable_acs() with the command line) and as later
 *    register writes change them;
 *  - per function: the bound driver and the P2PDMA state (pdev->p2pdma:
 *    one provider per memory BAR, the map-type cache, published flag);
 *  - the providers handed out, checked on every use (a provider used after
 *    its binding is gone is refused and logged);
 *  - find_many's random source (seedable);
 *  - an ordered log of what the kernel prints and the model's notes.
 *
 * Every later model layer (the p2pmem pool, IOMMU domains, dma-bufs, VFIO
 * devices) hangs off this object. Verdicts themselves come from the pure
 * router (p2pdma/verdict.h) over the kernel's hardware copy; the kernel
 * adds what the running kernel adds: the cache, the log, the state.
 *
 * Functions are accepted from the kernel's topology or from any topology
 * of the same lineage (the one it was booted from, or a clone of it).
 *
 * Context: a kernel object is single-threaded: serialise calls on one
 * object. Its router (p2pdma_kernel_router()) may be shared by threads.
 */
struct p2pdma_kernel;

/*
 * struct p2pdma_provider - the kernel's struct p2pdma_provider: one memory
 * BAR of a function with P2PDMA state (doc/kernel-model.md §1.4). Owned by
 * the kernel object; valid as a handle until p2pdma_kernel_shutdown(), but
 * usable only while its function's binding lasts.
 */
struct p2pdma_provider;

/* Kinds of log entries. */
enum p2pdma_klog_kind {
	P2PDMA_KLOG_KERNEL = 0,		/* a line the kernel prints (dmesg) */
	P2PDMA_KLOG_NOTE = 1,		/* a remark of the model */
};

/**
 * p2pdma_kernel_boot() - boot a modelled kernel on a machine
 * @ctx: library context (errors; the log lines also go to its log callback
 *       at P2PDMA_LOG_INFO)
 * @topo: the machine; not changed, not referenced after the call (the
 *        kernel keeps its own copy)
 * @pol: the kernel it runs: profile, CPU, and the what-ifs. The kernel
 *       keeps its own copy.
 * @out: the new kernel
 *
 * Two kinds of boot (doc/kernel-model.md §2.7):
 *  - as captured: @pol has no what-if command line and no IOMMU what-if.
 *    The registers stay as loaded: they already show what the machine's
 *    own command line did, which is never applied a second time. A note
 *    says which functions it configured.
 *  - what-if: @pol has a command line (p2pdma_policy_set_cmdline()) or
 *    the IOMMU what-if. pci_enable_acs() runs again on every function from
 *    the firmware values (inferred from the capture), with that command
 *    line; with the IOMMU what-if alone, the machine's own command line is
 *    re-applied (a note says so), so that no parameter is silently lost.
 *    Notes name parameters that are overridden (only the last of a kind
 *    counts), entries that match no function, and lists cut by a ','.
 *
 * Functions whose topology shows p2pmem get their P2PDMA state, with the
 * pool's published flag as captured.
 *
 * Return: 0 or a negative errno (message in the context).
 */
int p2pdma_kernel_boot(struct p2pdma_ctx *ctx, const struct p2pdma_topo *topo,
		       const struct p2pdma_policy *pol,
		       struct p2pdma_kernel **out);

/**
 * p2pdma_kernel_shutdown() - free a kernel and everything that hangs off it
 * @k: the kernel or NULL
 */
void p2pdma_kernel_shutdown(struct p2pdma_kernel *k);

/**
 * p2pdma_kernel_topo() - the hardware as the kernel sees it now
 * @k: the kernel
 *
 * Return: a sealed topology (ACS after boot and register writes); valid
 * until the next p2pdma_kernel_write_acs_ctrl() or the shutdown (older
 * generations stay allocated until the shutdown, so pointers stay valid).
 */
const struct p2pdma_topo *p2pdma_kernel_topo(const struct p2pdma_kernel *k);

/**
 * p2pdma_kernel_router() - the pure verdict over the kernel's hardware now
 * @k: the kernel
 *
 * Return: the router; lifetime as p2pdma_kernel_topo().
 */
const struct p2pdma_router *p2pdma_kernel_router(const struct p2pdma_kernel *k);

/**
 * p2pdma_kernel_policy() - the kernel's own copy of its policy
 * @k: the kernel
 *
 * Return: the policy.
 */
const struct p2pdma_policy *p2pdma_kernel_policy(const struct p2pdma_kernel *k);

/**
 * p2pdma_kernel_whatif() - did the boot re-run the ACS set-up?
 * @k: the kernel
 *
 * Return: true for a what-if boot, false when booted as captured.
 */
bool p2pdma_kernel_whatif(const struct p2pdma_kernel *k);

/**
 * p2pdma_kernel_boot_cmdline() - the command line the ACS set-up ran with
 * @k: the kernel
 *
 * Return: the what-if command line, the machine's own when a what-if boot
 * re-applied it, or NULL (booted as captured, or none).
 */
const char *p2pdma_kernel_boot_cmdline(const struct p2pdma_kernel *k);

/**
 * p2pdma_kernel_log_count() - entries in the kernel's log
 * @k: the kernel
 *
 * Return: the number of entries so far (boot, calculations, operations).
 */
size_t p2pdma_kernel_log_count(const struct p2pdma_kernel *k);

/**
 * p2pdma_kernel_log_entry() - one entry of the log, in order
 * @k: the kernel
 * @i: index
 * @kind: if non-NULL, receives whether the kernel prints it or the model notes it
 * @code: if non-NULL, receives the note's code (P2PDMA_NOTE_NONE for kernel lines)
 *
 * Kernel lines read "<driver or pci> <BDF>: <text>" or "PCI: <text>" as
 * dmesg shows them; notes are English and name no program's options.
 *
 * Return: the text, or NULL past the end.
 */
const char *p2pdma_kernel_log_entry(const struct p2pdma_kernel *k, size_t i,
				    enum p2pdma_klog_kind *kind,
				    enum p2pdma_note *code);

/**
 * p2pdma_kernel_write_acs_ctrl() - write a function's ACS Control at run time
 * @k: the kernel
 * @dev: the function
 * @ctrl: the value written (as `setpci ECAP_ACS+6.w=...`)
 *
 * The hardware copy changes; the router is rebuilt over it; the map-type
 * caches are NOT invalidated (doc/kernel-model.md §2.5): pairs already
 * evaluated keep their old answer until the provider is unbound. Bits the
 * ACS capability does not advertise read back as 0.
 *
 * Return: 0, -ENODEV if @dev has no (known) ACS capability, -EINVAL if
 * @dev is not a function of this machine, -ENOMEM.
 */
int p2pdma_kernel_write_acs_ctrl(struct p2pdma_kernel *k,
				 const struct p2pdma_dev *dev, uint16_t ctrl);

/* --- drivers and the per-function P2PDMA state (doc/kernel-model.md §1.4) --- */

/**
 * p2pdma_kernel_driver() - the driver bound to a function
 * @k: the kernel
 * @dev: the function
 *
 * Return: the driver name, or NULL when unbound.
 */
const char *p2pdma_kernel_driver(const struct p2pdma_kernel *k,
				 const struct p2pdma_dev *dev);

/**
 * p2pdma_kernel_bind() - bind a driver to a function
 * @k: the kernel
 * @dev: the function
 * @driver: the driver's name
 *
 * Return: 0, -EBUSY if a driver is bound already, -EINVAL, -ENOMEM.
 */
int p2pdma_kernel_bind(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		       const char *driver);

/**
 * p2pdma_kernel_unbind() - unbind the driver: its devm resources go
 * @k: the kernel
 * @dev: the function
 *
 * pci_p2pdma_release(): the P2PDMA state, its providers (they become
 * stale: later use is refused), its map-type cache and its published
 * flag go with the binding.
 *
 * Return: 0, -ENODEV if no driver is bound, -EINVAL, -EBUSY while VFIO
 * holds the device (open, or dma-bufs still registered: the kernel's
 * unbind waits for them; p2pdma/vfio.h).
 */
int p2pdma_kernel_unbind(struct p2pdma_kernel *k, const struct p2pdma_dev *dev);

/**
 * p2pdma_kernel_p2pdma_init() - pcim_p2pdma_init()
 * @k: the kernel
 * @dev: the function (its driver must be bound: the state is devm)
 *
 * Creates pdev->p2pdma with one provider per memory BAR (owner and
 * bus_offset = bus address - CPU address) and an empty map-type cache.
 * Idempotent.
 *
 * Return: 0, -ENODEV if no driver is bound, -EINVAL, -ENOMEM.
 */
int p2pdma_kernel_p2pdma_init(struct p2pdma_kernel *k,
			      const struct p2pdma_dev *dev);

/**
 * p2pdma_kernel_has_p2pdma() - is pdev->p2pdma set?
 * @k: the kernel
 * @dev: the function
 *
 * Return: true if the function has P2PDMA state.
 */
bool p2pdma_kernel_has_p2pdma(const struct p2pdma_kernel *k,
			      const struct p2pdma_dev *dev);

/**
 * p2pdma_kernel_provider() - pcim_p2pdma_provider()
 * @k: the kernel
 * @dev: the function
 * @bar: BAR number 0..5
 * @out: the provider
 *
 * Return: 0; -EINVAL if @bar is not a memory BAR; -ENODEV (and a WARN line
 * in the log) if pcim_p2pdma_init() never ran, as the kernel's WARN.
 */
int p2pdma_kernel_provider(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			   int bar, struct p2pdma_provider **out);

/**
 * p2pdma_provider_owner() - the function owning the BAR
 * @p: the provider
 *
 * Return: the function (of the kernel's topology).
 */
const struct p2pdma_dev *p2pdma_provider_owner(const struct p2pdma_provider *p);

/**
 * p2pdma_provider_bar() - which BAR
 * @p: the provider
 *
 * Return: 0..5.
 */
int p2pdma_provider_bar(const struct p2pdma_provider *p);

/**
 * p2pdma_provider_bus_offset() - bus address minus CPU address of the BAR
 * @p: the provider
 *
 * Return: the offset (0 on most x86 machines).
 */
uint64_t p2pdma_provider_bus_offset(const struct p2pdma_provider *p);

/**
 * p2pdma_provider_live() - is the provider's binding still there?
 * @p: the provider
 *
 * Return: false once its function was unbound (the handle is stale).
 */
bool p2pdma_provider_live(const struct p2pdma_provider *p);

/* --- the map-type cache and the calculations that fill it --- */

/**
 * p2pdma_kernel_map_type() - pci_p2pdma_map_type() (doc/kernel-model.md §2.6)
 * @k: the kernel
 * @provider: the provider
 * @client: the importing device; NULL models a non-PCI struct device, for
 *          which this API does NOT walk to a PCI parent (NOT_SUPPORTED)
 * @v: NULL, or filled: from the cache (p2pdma_verdict_cached(): no
 *     explanation, no dmesg, the kernel prints nothing then) or by a
 *     verbose calculation, whose dmesg lines also go to the log
 *
 * A stale provider (its function was unbound) is refused: the answer is
 * NOT_SUPPORTED and the log says why.
 *
 * Return: the map type.
 */
enum p2pdma_map_type p2pdma_kernel_map_type(struct p2pdma_kernel *k,
					    const struct p2pdma_provider *provider,
					    const struct p2pdma_dev *client,
					    struct p2pdma_verdict *v);

/**
 * p2pdma_kernel_cache_lookup() - read a provider function's map-type cache
 * @k: the kernel
 * @provider: the provider's function
 * @client: the client
 *
 * The cache is keyed as the kernel keys it (p2pdma_cache_key()) and never
 * invalidated while the provider stays bound.
 *
 * Return: the cached type, or P2PDMA_MAP_UNKNOWN when nothing is stored
 * (also when the function has no P2PDMA state, hence no cache).
 */
enum p2pdma_map_type p2pdma_kernel_cache_lookup(const struct p2pdma_kernel *k,
						const struct p2pdma_dev *provider,
						const struct p2pdma_dev *client);

/**
 * p2pdma_kernel_distance_many() - pci_p2pdma_distance_many() (doc/kernel-model.md §2.3)
 * @k: the kernel
 * @provider: the provider's function
 * @clients: the clients; a NULL entry is a device without a PCI parent
 * @n: number of clients
 * @verbose: produce the verbose warnings and keep going after a failure;
 *           when false, stop at the first NOT_SUPPORTED client
 * @verdicts: NULL, or @n verdicts (p2pdma_verdict_create()) filled for the
 *            clients evaluated; the others are left empty (UNKNOWN)
 * @distance: receives the sum of the distances on success
 *
 * Every evaluation stores into the provider's cache if it has P2PDMA
 * state, as in the kernel; predicted dmesg lines go to the log.
 *
 * Return: 0; -EINVAL if @n is 0; -ENODEV if a client is not a PCI device;
 * -EREMOTEIO if a client is NOT_SUPPORTED. (The kernel returns -1 in all
 * three cases.)
 */
int p2pdma_kernel_distance_many(struct p2pdma_kernel *k,
				const struct p2pdma_dev *provider,
				const struct p2pdma_dev *const *clients,
				size_t n, bool verbose,
				struct p2pdma_verdict *const *verdicts,
				int *distance);

/* --- published p2pmem and find_many (doc/kernel-model.md §1.5) --- */

/**
 * p2pdma_kernel_add_resource() - pci_p2pdma_add_resource()
 * @k: the kernel
 * @dev: the function (driver bound)
 * @bar: BAR number
 * @size: bytes, 0 = the rest of the BAR from @offset
 * @offset: offset into the BAR
 *
 * The checks and errnos of doc/kernel-model.md §1.5 in the kernel's order;
 * on success the range joins the function's p2pmem pool and the kernel
 * logs "added peer-to-peer DMA memory".
 *
 * Return: 0 or a negative errno.
 */
int p2pdma_kernel_add_resource(struct p2pdma_kernel *k,
			       const struct p2pdma_dev *dev, int bar,
			       uint64_t size, uint64_t offset);

/**
 * p2pdma_kernel_publish() - pci_p2pmem_publish()
 * @k: the kernel
 * @dev: the function
 * @publish: true to let other drivers find its memory
 *
 * Does nothing when the function has no P2PDMA state, as the kernel.
 */
void p2pdma_kernel_publish(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
			   bool publish);

/**
 * p2pdma_kernel_has_p2pmem() - pci_has_p2pmem()
 * @k: the kernel
 * @dev: the function
 *
 * Return: true if it has P2PDMA state and published memory.
 */
bool p2pdma_kernel_has_p2pmem(const struct p2pdma_kernel *k,
			      const struct p2pdma_dev *dev);

/**
 * p2pdma_kernel_p2pmem_size() - bytes in a function's p2pmem pool
 * @k: the kernel
 * @dev: the function
 * @available: if non-NULL, receives the bytes not allocated
 *
 * Return: the pool size (p2pmem/size), 0 without a pool.
 */
uint64_t p2pdma_kernel_p2pmem_size(const struct p2pdma_kernel *k,
				   const struct p2pdma_dev *dev,
				   uint64_t *available);

/**
 * p2pdma_kernel_set_seed() - seed the random tie break of find_many
 * @k: the kernel
 * @seed: the seed; each draw then advances the kernel's random state, so a
 *        run with the same seed and the same calls repeats exactly
 */
void p2pdma_kernel_set_seed(struct p2pdma_kernel *k, uint64_t seed);

/* find_many keeps at most PAGE_SIZE / sizeof(void *) ties (doc/kernel-model.md §1.5). */
#define P2PDMA_FIND_MAX 512

struct p2pdma_find_result;

/**
 * p2pdma_find_result_create() - allocate a find_many result
 * @out: the result
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_find_result_create(struct p2pdma_find_result **out);

/**
 * p2pdma_find_result_destroy() - free a find_many result
 * @res: the result or NULL
 */
void p2pdma_find_result_destroy(struct p2pdma_find_result *res);

/**
 * p2pdma_kernel_find_many() - pci_p2pmem_find_many()
 * @k: the kernel
 * @clients: the clients
 * @n: number of clients
 * @res: NULL, or filled with the tie set and the draw
 * @pick: receives the provider chosen (NULL if none)
 *
 * Scans functions in enumeration order, skipping those without published
 * p2pmem, computes distance_many (non-verbose, filling caches as the
 * kernel does), keeps the minimal-distance set (at most P2PDMA_FIND_MAX),
 * and draws one uniformly with the kernel's random state.
 *
 * Return: 0 if a provider was picked, -ENODEV if none qualifies.
 */
int p2pdma_kernel_find_many(struct p2pdma_kernel *k,
			    const struct p2pdma_dev *const *clients, size_t n,
			    struct p2pdma_find_result *res,
			    const struct p2pdma_dev **pick);

/**
 * p2pdma_find_result_pick() - the provider chosen
 * @res: the result
 *
 * Return: the function, or NULL if none qualified.
 */
const struct p2pdma_dev *p2pdma_find_result_pick(const struct p2pdma_find_result *res);

/**
 * p2pdma_find_result_distance() - the chosen provider's distance_many sum
 * @res: the result
 *
 * Return: the distance, -1 if none qualified.
 */
int p2pdma_find_result_distance(const struct p2pdma_find_result *res);

/**
 * p2pdma_find_result_num_candidates() - size of the minimal-distance tie set
 * @res: the result
 *
 * Return: the count (at most P2PDMA_FIND_MAX).
 */
size_t p2pdma_find_result_num_candidates(const struct p2pdma_find_result *res);

/**
 * p2pdma_find_result_candidate() - a member of the tie set, in enumeration order
 * @res: the result
 * @i: index
 *
 * Return: the function, or NULL past the end.
 */
const struct p2pdma_dev *
p2pdma_find_result_candidate(const struct p2pdma_find_result *res, size_t i);

/**
 * p2pdma_find_result_draw() - which member the random draw chose
 * @res: the result
 *
 * Return: the index into the tie set.
 */
size_t p2pdma_find_result_draw(const struct p2pdma_find_result *res);

#ifdef __cplusplus
}
#endif
#endif
