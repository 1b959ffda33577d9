/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/vfio.h - VFIO dma-buf export of MMIO regions (Linux 6.19 uAPI): device model, explain, real calls */
#ifndef P2PDMA_VFIO_H
#define P2PDMA_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p2pdma/context.h>
#include <p2pdma/dmabuf.h>
#include <p2pdma/kernel.h>
#include <p2pdma/topo.h>
#include <p2pdma/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * VFIO_DEVICE_FEATURE with VFIO_DEVICE_FEATURE_DMA_BUF (include/uapi/linux/
 * vfio.h, 6.19; doc/kernel-model.md §5, doc/vfio.md). The structures below
 * are the uAPI's, byte for byte (little endian, as on every machine Linux
 * runs VFIO on): an ioctl argument is struct p2pdma_vfio_device_feature
 * followed by struct p2pdma_vfio_device_feature_dma_buf and its ranges.
 */

#define P2PDMA_VFIO_DEVICE_FEATURE		0x3B75	/* _IO(';', 100 + 17) */
#define P2PDMA_VFIO_DEVICE_FEATURE_MASK		0xffffu
#define P2PDMA_VFIO_DEVICE_FEATURE_GET		(1u << 16)
#define P2PDMA_VFIO_DEVICE_FEATURE_SET		(1u << 17)
#define P2PDMA_VFIO_DEVICE_FEATURE_PROBE	(1u << 18)
#define P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF	11
#define P2PDMA_VFIO_PCI_BAR0_REGION_INDEX	0
#define P2PDMA_VFIO_PCI_ROM_REGION_INDEX	6
#define P2PDMA_VFIO_PCI_CONFIG_REGION_INDEX	7

/**
 * struct p2pdma_vfio_device_feature - struct vfio_device_feature
 * @argsz: bytes of the whole argument (header and data)
 * @flags: feature index (low 16 bits) | GET / SET / PROBE
 * @data: the feature's payload
 */
struct p2pdma_vfio_device_feature {
	uint32_t argsz;
	uint32_t flags;
	uint8_t data[];
};

/**
 * struct p2pdma_vfio_region_dma_range - struct vfio_region_dma_range
 * @offset: into the region, page aligned
 * @length: bytes, page aligned, non zero
 */
struct p2pdma_vfio_region_dma_range {
	uint64_t offset;
	uint64_t length;
};

/**
 * struct p2pdma_vfio_device_feature_dma_buf - struct vfio_device_feature_dma_buf
 * @region_index: the BAR (0..5 for vfio-pci)
 * @open_flags: open(2) flags of the new descriptor (O_RDWR, O_CLOEXEC...)
 * @flags: must be 0
 * @nr_ranges: entries in @dma_ranges
 * @dma_ranges: the slices; the buffer is their concatenation in order
 */
struct p2pdma_vfio_device_feature_dma_buf {
	uint32_t region_index;
	uint32_t open_flags;
	uint32_t flags;
	uint32_t nr_ranges;
	struct p2pdma_vfio_region_dma_range dma_ranges[];
};

/* --- the device model --- */

struct p2pdma_vfio_dev;

/* Which vfio-pci driver is bound. */
enum p2pdma_vfio_variant {
	/* vfio-pci: pci_ops->get_dmabuf_phys = the core's */
	P2PDMA_VFIO_PCI = 0,
	/* nvgrace-gpu-vfio-pci: regions 2 (RESMEM) and 4 (USEMEM) are
	 * device memory behind synthetic BARs, exported with BAR 0's
	 * provider and bounded by the real memory size (§5.7) */
	P2PDMA_VFIO_NVGRACE,
	/* a variant driver with its own ioctl (mlx5, hisi_acc, pds, ...):
	 * the feature answers -EOPNOTSUPP */
	P2PDMA_VFIO_VARIANT_NO_DMABUF,
};

/* PCI power states (pci_power_t). */
enum p2pdma_pci_power {
	P2PDMA_PCI_D0 = 0,
	P2PDMA_PCI_D1 = 1,
	P2PDMA_PCI_D2 = 2,
	P2PDMA_PCI_D3HOT = 3,
	P2PDMA_PCI_D3COLD = 4,
};

/**
 * struct p2pdma_vfio_bind_opts - how the device is bound
 * @size: sizeof(struct p2pdma_vfio_bind_opts), set by the caller
 * @variant: the driver
 * @no_flr: the device has no FLR capability (VFIO_DEVICE_RESET then fails)
 * @noiommu: vfio.enable_unsafe_noiommu_mode=1 (needed without an IOMMU;
 *           the device gets a singleton noiommu group)
 * @resmem_phys: nvgrace: CPU physical address of the reserved memory
 * @resmem_len: nvgrace: its real size (region 2 is padded to a power of two)
 * @usemem_phys: nvgrace: CPU physical address of the usable memory
 * @usemem_len: nvgrace: its real size (region 4)
 */
struct p2pdma_vfio_bind_opts {
	size_t size;
	enum p2pdma_vfio_variant variant;
	bool no_flr;
	bool noiommu;
	uint64_t resmem_phys;
	uint64_t resmem_len;
	uint64_t usemem_phys;
	uint64_t usemem_len;
};

/**
 * p2pdma_vfio_bind() - bind a vfio-pci driver to a function
 * @k: the kernel
 * @dev: the function (no driver bound: unbind its driver first)
 * @opts: NULL for vfio-pci with the defaults
 * @out: the device model (owned by the kernel; freed by
 *       p2pdma_vfio_unbind() or the kernel's shutdown)
 *
 * vfio_pci_core_init_dev(): every VFIO device gets its P2PDMA state
 * (pcim_p2pdma_init(): a provider per memory BAR, no pool; §5.8). The
 * device is registered, closed, in D0.
 *
 * Return: 0; -EBUSY (a driver is bound); -EINVAL (a bridge, or no IOMMU
 * group: the machine has no IOMMU and @opts->noiommu is not set; nvgrace
 * memory that does not fit its region); -ENOMEM.
 */
int p2pdma_vfio_bind(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		     const struct p2pdma_vfio_bind_opts *opts,
		     struct p2pdma_vfio_dev **out);

/**
 * p2pdma_vfio_unbind() - unbind the driver
 * @vdev: the device
 *
 * The kernel's unbind waits until the device is closed and every dma-buf
 * registration is dropped (close drops them: it cleans every buffer up);
 * the model refuses instead, and logs who holds it. Meanwhile the device
 * stays usable, as in the kernel (the open descriptor keeps a
 * registration, so even exports succeed).
 *
 * Return: 0 (@vdev is freed); -EBUSY while open or registered buffers hold
 * it.
 */
int p2pdma_vfio_unbind(struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_lookup() - the VFIO device bound to a function
 * @k: the kernel
 * @dev: the function
 *
 * Return: the device, or NULL.
 */
struct p2pdma_vfio_dev *p2pdma_vfio_lookup(struct p2pdma_kernel *k,
					   const struct p2pdma_dev *dev);

/**
 * p2pdma_vfio_pci_dev() - the PCI function of a VFIO device
 * @vdev: the device
 *
 * Return: the function (of the kernel's machine).
 */
const struct p2pdma_dev *p2pdma_vfio_pci_dev(const struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_open() - open the device (VFIO_GROUP_GET_DEVICE_FD or cdev bind)
 * @vdev: the device
 *
 * The first open claims DMA ownership of the IOMMU group (every other
 * function in it must be unbound or VFIO-bound: a host driver there makes
 * it -EBUSY) and enables the device: function reset when possible,
 * virtual PCI_COMMAND with memory decode on, D0.
 *
 * Return: 0 or -EBUSY (the group is not viable; the message names the
 * driver).
 */
int p2pdma_vfio_open(struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_close() - close it; the last close revokes every buffer for good
 * @vdev: the device
 *
 * vfio_pci_dma_buf_cleanup(): each live buffer is unlinked, revoked, its
 * importers told, and its registration reference dropped: the descriptor
 * stays valid, attach and map fail -ENODEV forever (§5.6).
 *
 * Return: 0 or -EBADF (not open).
 */
int p2pdma_vfio_close(struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_is_open() - open count > 0
 * @vdev: the device
 *
 * Return: true if open.
 */
bool p2pdma_vfio_is_open(const struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_region_size() - VFIO_DEVICE_GET_REGION_INFO size of a region
 * @vdev: the device
 * @index: region index (0..5 BARs, 6 ROM, 7 config)
 * @size: receives the size (0 for an unimplemented BAR)
 *
 * Return: 0 or -EINVAL.
 */
int p2pdma_vfio_region_size(const struct p2pdma_vfio_dev *vdev, unsigned int index,
			    uint64_t *size);

/**
 * p2pdma_vfio_write_command() - a config write to PCI_COMMAND
 * @vdev: the device (open)
 * @cmd: the value; bit 1 (PCI_COMMAND_MEMORY) decides
 *
 * Memory clear: revoke; then un-revoke if memory is still "enabled"
 * (devices with no_command_memory, i.e. VFs: a revoke and an un-revoke,
 * two notifications). Memory set: un-revoke if enabled (§5.6).
 *
 * Return: 0 or -EBADF.
 */
int p2pdma_vfio_write_command(struct p2pdma_vfio_dev *vdev, uint16_t cmd);

/**
 * p2pdma_vfio_command() - the virtual PCI_COMMAND
 * @vdev: the device
 *
 * Return: the register as the user last wrote it.
 */
uint16_t p2pdma_vfio_command(const struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_set_power_state() - a PMCSR write
 * @vdev: the device (open)
 * @state: D0..D3hot (D3cold: power removed, handled alike)
 *
 * To D3hot/D3cold: revoke; afterwards un-revoke if memory is enabled.
 *
 * Return: 0, -EBADF, -EINVAL.
 */
int p2pdma_vfio_set_power_state(struct p2pdma_vfio_dev *vdev,
				enum p2pdma_pci_power state);

/**
 * p2pdma_vfio_power_state() - the device's power state
 * @vdev: the device
 *
 * Return: the state.
 */
enum p2pdma_pci_power p2pdma_vfio_power_state(const struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_memory_enabled() - __vfio_pci_memory_enabled()
 * @vdev: the device
 *
 * Return: power state below D3hot and (no_command_memory or the virtual
 * PCI_COMMAND has memory decode).
 */
bool p2pdma_vfio_memory_enabled(const struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_initiate_flr() - a config write that initiates FLR
 * @vdev: the device (open)
 * @af: through the Advanced Features capability instead of PCIe DevCtl
 *
 * With the FLR capability: revoke, reset, un-revoke if enabled. Without
 * it the write does nothing.
 *
 * Return: 0 or -EBADF.
 */
int p2pdma_vfio_initiate_flr(struct p2pdma_vfio_dev *vdev, bool af);

/**
 * p2pdma_vfio_reset() - VFIO_DEVICE_RESET
 * @vdev: the device (open)
 *
 * Return: 0; -EINVAL (no function reset); -EBADF.
 */
int p2pdma_vfio_reset(struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_hot_reset() - VFIO_DEVICE_PCI_HOT_RESET of the device set
 * @vdev: the device (open)
 *
 * The set is every function on @vdev's bus; all must be VFIO-bound. All
 * are revoked; after the bus reset only the open, memory-enabled ones
 * are un-revoked (the v9 fix for unopened devices).
 *
 * Return: 0; -EINVAL (a function of the bus is not VFIO's); -EBADF.
 */
int p2pdma_vfio_hot_reset(struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_low_power_entry() - VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY[_WITH_WAKEUP]
 * @vdev: the device (open)
 * @wakeup: with a wake-up eventfd
 *
 * Revokes (before checking whether low power is engaged already).
 *
 * Return: 0; -EINVAL when engaged already (the buffers are revoked
 * anyway); -EBADF.
 */
int p2pdma_vfio_low_power_entry(struct p2pdma_vfio_dev *vdev, bool wakeup);

/**
 * p2pdma_vfio_low_power_exit() - VFIO_DEVICE_FEATURE_LOW_POWER_EXIT
 * @vdev: the device (open)
 *
 * Un-revokes if memory is enabled.
 *
 * Return: 0 or -EBADF.
 */
int p2pdma_vfio_low_power_exit(struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_wake() - the device is woken (runtime resume)
 * @vdev: the device
 *
 * With a wake-up eventfd the kernel signals it and leaves low power, but
 * does not un-revoke: buffers stay revoked until LOW_POWER_EXIT or
 * another trigger restores them.
 *
 * Return: true if low power was left.
 */
bool p2pdma_vfio_wake(struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_device_feature() - the VFIO_DEVICE_FEATURE ioctl
 * @vdev: the device
 * @arg: the user's buffer: struct p2pdma_vfio_device_feature and its data
 * @len: how many bytes of it are readable (reads beyond fault: -EFAULT)
 *
 * The generic checks, the dispatch, and for VFIO_DEVICE_FEATURE_DMA_BUF
 * every check of vfio_pci_core_feature_dma_buf() in the kernel's order
 * with its errno (§5.3). Only DMA_BUF is modelled; other features answer
 * as an unknown one (-ENOTTY). Kernels before 6.19 answer -ENOTTY.
 *
 * Return: the new dma-buf's descriptor (p2pdma_dmabuf_get()), 0 for a
 * PROBE, or a negative errno (the reason in the context).
 */
int p2pdma_vfio_device_feature(struct p2pdma_vfio_dev *vdev, const void *arg,
			       size_t len);

/**
 * p2pdma_vfio_num_dmabufs() - buffers linked to the device (vdev->dmabufs)
 * @vdev: the device
 *
 * Return: the count.
 */
size_t p2pdma_vfio_num_dmabufs(struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_registrations() - registration references held by buffers
 * @vdev: the device
 *
 * Return: the count; unbind waits for it to reach zero. Negative only
 * after the double put of P2PDMA_QUIRK_VFIO_FD_DOUBLE_FREE.
 */
int p2pdma_vfio_registrations(struct p2pdma_vfio_dev *vdev);

/**
 * p2pdma_vfio_dmabuf_range() - one physical range of a VFIO dma-buf
 * @buf: a buffer exported by p2pdma_vfio_device_feature()
 * @i: range index
 * @paddr: receives the CPU physical address
 * @len: receives the length
 *
 * Return: 0, -ENOENT past the end, -EINVAL for another exporter's buffer.
 */
int p2pdma_vfio_dmabuf_range(struct p2pdma_dmabuf *buf, size_t i, uint64_t *paddr,
			     uint64_t *len);

/* --- explain (p2pdma vfio explain) --- */

struct p2pdma_vfio_explain;

/**
 * p2pdma_vfio_explain_create() - an empty explanation
 * @out: the explanation
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_vfio_explain_create(struct p2pdma_vfio_explain **out);

/**
 * p2pdma_vfio_explain_destroy() - free it
 * @ex: the explanation or NULL
 */
void p2pdma_vfio_explain_destroy(struct p2pdma_vfio_explain *ex);

/**
 * p2pdma_vfio_explain() - what the kernel does with a feature request, and why
 * @vdev: the device the request is sent to
 * @arg: the request as the VMM sends it
 * @len: readable bytes
 * @ex: filled
 *
 * Runs the checks of p2pdma_vfio_device_feature() in the same order,
 * without exporting anything: every check passed or failed becomes a
 * step, the first failure the reason. For a request that would succeed,
 * the outcome at map for an importer on every other endpoint function:
 * a bus address through a switch, an IOVA span through its IOMMU, a
 * physical address, or refused (with why).
 *
 * Return: the value the ioctl would return (0 for a new descriptor or a
 * PROBE, else a negative errno); -ENOMEM for the explanation itself.
 */
int p2pdma_vfio_explain(struct p2pdma_vfio_dev *vdev, const void *arg, size_t len,
			struct p2pdma_vfio_explain *ex);

/**
 * p2pdma_vfio_explain_result() - the ioctl's answer
 * @ex: the explanation
 *
 * Return: 0 or a negative errno.
 */
int p2pdma_vfio_explain_result(const struct p2pdma_vfio_explain *ex);

/**
 * p2pdma_vfio_explain_num_steps() - the checks applied, in order
 * @ex: the explanation
 *
 * Return: the count (the last one failed when the result is an error).
 */
size_t p2pdma_vfio_explain_num_steps(const struct p2pdma_vfio_explain *ex);

/**
 * p2pdma_vfio_explain_step() - one check, in words
 * @ex: the explanation
 * @i: index
 * @err: if non-NULL, receives 0 (passed) or the errno it returns
 *
 * Return: the text, or NULL past the end.
 */
const char *p2pdma_vfio_explain_step(const struct p2pdma_vfio_explain *ex, size_t i,
				     int *err);

/**
 * p2pdma_vfio_explain_reason() - the failing check ("range 2: offset 0x1800 is not page aligned")
 * @ex: the explanation
 *
 * Return: the text, or "" when the request succeeds.
 */
const char *p2pdma_vfio_explain_reason(const struct p2pdma_vfio_explain *ex);

/**
 * p2pdma_vfio_explain_num_notes() - remarks (quirks the request relies on...)
 * @ex: the explanation
 *
 * Return: the count.
 */
size_t p2pdma_vfio_explain_num_notes(const struct p2pdma_vfio_explain *ex);

/**
 * p2pdma_vfio_explain_note() - one remark
 * @ex: the explanation
 * @i: index
 *
 * Return: the text, or NULL past the end.
 */
const char *p2pdma_vfio_explain_note(const struct p2pdma_vfio_explain *ex, size_t i);

/**
 * p2pdma_vfio_explain_num_importers() - importers considered (valid requests)
 * @ex: the explanation
 *
 * Return: the count.
 */
size_t p2pdma_vfio_explain_num_importers(const struct p2pdma_vfio_explain *ex);

/**
 * p2pdma_vfio_explain_importer() - what an importer on one device gets at map
 * @ex: the explanation
 * @i: index
 * @dev: if non-NULL, receives the importer's function
 * @type: if non-NULL, receives the map type
 * @err: if non-NULL, receives 0 (mapped) or the errno of the map
 *
 * Return: a sentence ("BUS_ADDR through switch 0000:a8:00.0: bus addresses
 * 0x...; 3 entries"), or NULL past the end.
 */
const char *p2pdma_vfio_explain_importer(const struct p2pdma_vfio_explain *ex,
					 size_t i, const struct p2pdma_dev **dev,
					 enum p2pdma_map_type *type, int *err);

/* --- real calls on a real kernel --- */

struct p2pdma_vfio_real;

/**
 * p2pdma_vfio_real_open() - open a VFIO device of this machine
 * @ctx: library context (the reason of a failure goes there)
 * @root: "/" (or NULL) for this machine, or a root laid out like one (tests)
 * @bdf: the function, bound to vfio-pci
 * @out: the open device
 *
 * The cdev first (/dev/vfio/devices/vfioN, bound to a fresh iommufd),
 * else the group (/dev/vfio/GROUP in a type1 container).
 *
 * Return: 0 or a negative errno: -ENOENT (no VFIO device: not bound to
 * vfio-pci, or no VFIO in this kernel), -EBUSY (group not viable or in
 * use), -EACCES...
 */
int p2pdma_vfio_real_open(struct p2pdma_ctx *ctx, const char *root, const char *bdf,
			  struct p2pdma_vfio_real **out);

/**
 * p2pdma_vfio_real_wrap() - use a device descriptor opened elsewhere
 * @ctx: library context
 * @devfd: a VFIO device descriptor (not closed by the library)
 * @out: the handle
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_vfio_real_wrap(struct p2pdma_ctx *ctx, int devfd,
			  struct p2pdma_vfio_real **out);

/**
 * p2pdma_vfio_real_close() - close what p2pdma_vfio_real_open() opened
 * @r: the handle or NULL
 */
void p2pdma_vfio_real_close(struct p2pdma_vfio_real *r);

/**
 * p2pdma_vfio_real_probe() - VFIO_DEVICE_FEATURE PROBE|GET for DMA_BUF
 * @r: the device
 *
 * Return: 0 (supported); -ENOTTY with the message that this kernel has no
 * VFIO dma-buf export (before 6.19, or CONFIG_VFIO_PCI_DMABUF=n);
 * -EOPNOTSUPP (a variant driver without it); another errno.
 */
int p2pdma_vfio_real_probe(struct p2pdma_vfio_real *r);

/**
 * p2pdma_vfio_real_feature() - issue a VFIO_DEVICE_FEATURE request
 * @r: the device
 * @arg: the request (argsz and flags first)
 * @len: its size in bytes (the buffer is copied to an aligned one)
 *
 * Return: the ioctl's value (a dma-buf descriptor for GET) or a negative
 * errno, with its usual meaning in the context; ENOTTY is reported as
 * "this kernel has no VFIO dma-buf export".
 */
int p2pdma_vfio_real_feature(struct p2pdma_vfio_real *r, const void *arg, size_t len);

/**
 * p2pdma_vfio_real_explain() - why a real call failed, from the model of this machine
 * @ctx: library context
 * @root: as p2pdma_vfio_real_open()
 * @bdf: the function
 * @arg: the request
 * @len: its size
 * @err: the errno the real kernel returned (negative)
 * @ex: filled by p2pdma_vfio_explain() on a model of the machine booted
 *      as captured, with the function bound to vfio-pci and open
 *
 * Return: 0 when the model predicts @err; -EDOM when it predicts
 * something else (the explanation then says what); another negative
 * errno when the model could not be built.
 */
int p2pdma_vfio_real_explain(struct p2pdma_ctx *ctx, const char *root, const char *bdf,
			     const void *arg, size_t len, int err,
			     struct p2pdma_vfio_explain *ex);

#ifdef __cplusplus
}
#endif
#endif
