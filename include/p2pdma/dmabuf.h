/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/dmabuf.h - the dma-buf core of a modelled kernel: export, attach, map, revoke, importers */
#ifndef P2PDMA_DMABUF_H
#define P2PDMA_DMABUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p2pdma/context.h>
#include <p2pdma/dma.h>
#include <p2pdma/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The dma-buf core (drivers/dma-buf/dma-buf.c, doc/kernel-model.md §4):
 * an exporter wraps memory in a buffer with exporter ops; importers attach
 * their device, statically (no ops: the exporter never tells them
 * anything) or dynamically (importer ops with move_notify), and map the
 * attachment into a DMA-only or page-backed table.
 *
 * The reservation lock is a real mutex with the locking convention of
 * 6.2+ (§4.4) checked on every entry point: calling one that requires
 * the lock without holding it, or one that must not be called with it
 * held while holding it, fails with -EDEADLK and a WARNING line in the
 * kernel log, instead of corrupting the model.
 *
 * Buffers are reference counted; p2pdma_dmabuf_fd() gives them a number
 * in the kernel's file table, as dma_buf_fd() does, and the exporter's
 * release runs when the last reference goes.
 *
 * Context: thread-safe; callbacks (exporter ops, move_notify) run on the
 * calling thread, with the reservation lock held where the kernel holds it.
 */

struct p2pdma_dmabuf;
struct p2pdma_dmabuf_attach;
struct p2pdma_fence;

/* O_* bits a dma-buf file keeps (O_ACCMODE | O_NONBLOCK) and O_CLOEXEC. */
#define P2PDMA_O_RDONLY		00
#define P2PDMA_O_WRONLY		01
#define P2PDMA_O_RDWR		02
#define P2PDMA_O_NONBLOCK	04000
#define P2PDMA_O_CLOEXEC	02000000

/**
 * struct p2pdma_dmabuf_ops - struct dma_buf_ops (doc/kernel-model.md §4.3)
 * @attach: optional; may refuse the attachment (its errno is returned)
 * @detach: optional
 * @pin: optional, with @unpin (both or neither); resv held
 * @unpin: optional; resv held
 * @map: mandatory; resv held; fills @sgt or returns a negative errno
 * @unmap: mandatory; resv held
 * @release: mandatory; the last reference went
 * @mmap: optional; without it p2pdma_dmabuf_mmap() fails -EINVAL
 * @vmap: optional; without it p2pdma_dmabuf_vmap() fails -EINVAL
 * @vunmap: optional
 * @interconnect_phys: optional, the model's name for VFIO's "private
 *                     interconnect" with iommufd
 *                     (vfio_pci_dma_buf_iommufd_map()): the single physical
 *                     range of a buffer; resv held
 */
struct p2pdma_dmabuf_ops {
	int (*attach)(struct p2pdma_dmabuf *buf, struct p2pdma_dmabuf_attach *attach);
	void (*detach)(struct p2pdma_dmabuf *buf, struct p2pdma_dmabuf_attach *attach);
	int (*pin)(struct p2pdma_dmabuf_attach *attach);
	void (*unpin)(struct p2pdma_dmabuf_attach *attach);
	int (*map)(struct p2pdma_dmabuf_attach *attach, enum p2pdma_dma_dir dir,
		   struct p2pdma_sgt **sgt);
	void (*unmap)(struct p2pdma_dmabuf_attach *attach, struct p2pdma_sgt *sgt,
		      enum p2pdma_dma_dir dir);
	void (*release)(struct p2pdma_dmabuf *buf);
	int (*mmap)(struct p2pdma_dmabuf *buf, uint64_t offset, uint64_t len);
	int (*vmap)(struct p2pdma_dmabuf *buf, void **vaddr);
	void (*vunmap)(struct p2pdma_dmabuf *buf, void *vaddr);
	int (*interconnect_phys)(struct p2pdma_dmabuf_attach *attach,
				 uint64_t *paddr, uint64_t *len);
};

/**
 * struct p2pdma_dmabuf_export_info - struct dma_buf_export_info
 * @struct_size: sizeof(struct p2pdma_dmabuf_export_info), set by the caller
 * @exp_name: exporter name (KBUILD_MODNAME, "vfio_pci_core"...); copied
 * @ops: the exporter ops (kept by pointer: must outlive the buffer)
 * @size: bytes
 * @flags: O_* flags of the file; only O_ACCMODE and O_NONBLOCK are kept
 * @priv: exporter data, mandatory
 */
struct p2pdma_dmabuf_export_info {
	size_t struct_size;
	const char *exp_name;
	const struct p2pdma_dmabuf_ops *ops;
	uint64_t size;
	int flags;
	void *priv;
};

/**
 * struct p2pdma_dmabuf_importer_ops - struct dma_buf_attach_ops
 * @allow_peer2peer: the importer copes with memory without struct pages
 *                   (it uses DMA addresses only)
 * @move_notify: mandatory for a dynamic importer; runs with the
 *               reservation lock held; must drop its mappings
 */
struct p2pdma_dmabuf_importer_ops {
	bool allow_peer2peer;
	void (*move_notify)(struct p2pdma_dmabuf_attach *attach);
};

/**
 * p2pdma_dmabuf_export() - dma_buf_export()
 * @k: the kernel
 * @info: what to export
 * @out: the buffer, holding one (creation) reference
 *
 * Return: 0; -EINVAL (with a WARNING line) without priv or ops, ops
 * without map, unmap or release, or with exactly one of pin and unpin;
 * -EDEADLK when called with a reservation lock held; -ENOMEM.
 */
int p2pdma_dmabuf_export(struct p2pdma_kernel *k,
			 const struct p2pdma_dmabuf_export_info *info,
			 struct p2pdma_dmabuf **out);

/**
 * p2pdma_dmabuf_fd() - dma_buf_fd(): a file descriptor for the buffer
 * @buf: the buffer; the descriptor takes over the caller's reference
 * @flags: O_CLOEXEC is honoured, other bits ignored
 *
 * Return: the descriptor (>= 3), or -EMFILE when the kernel's table is
 * full (the caller keeps its reference), -EINVAL.
 */
int p2pdma_dmabuf_fd(struct p2pdma_dmabuf *buf, int flags);

/**
 * p2pdma_dmabuf_get() - dma_buf_get(): a new reference from a descriptor
 * @k: the kernel
 * @fd: the descriptor
 * @out: the buffer
 *
 * Return: 0, -EBADF for a closed descriptor, -EINVAL for a descriptor
 * that is not a dma-buf (0, 1 and 2 are the process's standard files).
 */
int p2pdma_dmabuf_get(struct p2pdma_kernel *k, int fd, struct p2pdma_dmabuf **out);

/**
 * p2pdma_dmabuf_close_fd() - close(): drop the descriptor's reference
 * @k: the kernel
 * @fd: the descriptor
 *
 * Return: 0 or -EBADF.
 */
int p2pdma_dmabuf_close_fd(struct p2pdma_kernel *k, int fd);

/**
 * p2pdma_dmabuf_set_fd_limit() - RLIMIT_NOFILE of the modelled process
 * @k: the kernel
 * @limit: the highest descriptor number plus one (default 1024)
 *
 * Return: 0 or -EINVAL (below 3).
 */
int p2pdma_dmabuf_set_fd_limit(struct p2pdma_kernel *k, int limit);

/**
 * p2pdma_dmabuf_put() - dma_buf_put(): drop a reference
 * @buf: the buffer or NULL
 *
 * The exporter's release runs on the last one.
 *
 * Return: 0, or -EDEADLK when called with a reservation lock held (the
 * reference is kept).
 */
int p2pdma_dmabuf_put(struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_ref() - take one more reference (get_dma_buf())
 * @buf: the buffer
 */
void p2pdma_dmabuf_ref(struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_size() - the buffer's size
 * @buf: the buffer
 *
 * Return: bytes.
 */
uint64_t p2pdma_dmabuf_size(const struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_exp_name() - the exporter's name
 * @buf: the buffer
 *
 * Return: the name (as debugfs bufinfo shows it).
 */
const char *p2pdma_dmabuf_exp_name(const struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_priv() - the exporter's data
 * @buf: the buffer
 *
 * Return: the priv given at export.
 */
void *p2pdma_dmabuf_priv(const struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_file_flags() - the flags the file kept
 * @buf: the buffer
 *
 * Return: O_ACCMODE | O_NONBLOCK bits of the export flags.
 */
int p2pdma_dmabuf_file_flags(const struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_is_dynamic() - dma_buf_is_dynamic(): the exporter has pin
 * @buf: the buffer
 *
 * Return: true when the exporter provides pin/unpin.
 */
bool p2pdma_dmabuf_is_dynamic(const struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_num_attachments() - how many attachments it has
 * @buf: the buffer
 *
 * Return: the count.
 */
size_t p2pdma_dmabuf_num_attachments(struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_kernel() - the kernel a buffer belongs to
 * @buf: the buffer
 *
 * Return: the kernel.
 */
struct p2pdma_kernel *p2pdma_dmabuf_kernel(const struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_provider() - the provider behind a buffer's device memory
 * @buf: the buffer
 *
 * Return: the MMIO provider of a VFIO or MMIO buffer, the provider of the
 * first P2P page of a pages buffer, or NULL (system pages, other
 * exporters).
 */
const struct p2pdma_provider *p2pdma_dmabuf_provider(const struct p2pdma_dmabuf *buf);

/**
 * p2pdma_kernel_num_dmabufs() - buffers alive (debugfs dma_buf/bufinfo)
 * @k: the kernel
 *
 * Return: the count.
 */
size_t p2pdma_kernel_num_dmabufs(struct p2pdma_kernel *k);

/* --- the reservation lock (doc/kernel-model.md §4.4) --- */

/**
 * p2pdma_dmabuf_resv_lock() - dma_resv_lock()
 * @buf: the buffer
 *
 * Return: 0, or -EDEADLK when this thread holds it already.
 */
int p2pdma_dmabuf_resv_lock(struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_resv_unlock() - dma_resv_unlock()
 * @buf: the buffer
 *
 * Return: 0, or -EPERM when this thread does not hold it.
 */
int p2pdma_dmabuf_resv_unlock(struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_resv_held() - dma_resv_held() by this thread
 * @buf: the buffer
 *
 * Return: true if the calling thread holds the lock.
 */
bool p2pdma_dmabuf_resv_held(struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_lock_violations() - locking-rule violations caught so far
 * @k: the kernel
 *
 * Return: the count (each also a WARNING line in the kernel log).
 */
unsigned long p2pdma_dmabuf_lock_violations(struct p2pdma_kernel *k);

/* --- attachments (doc/kernel-model.md §4.2) --- */

/**
 * p2pdma_dmabuf_attach() - dma_buf_attach(): a static attachment
 * @buf: the buffer
 * @dev: the importing device (NULL: a device that is not PCI)
 * @out: the attachment
 *
 * No importer ops, no peer2peer: the exporter is never told about moves.
 *
 * Return: 0, the exporter's attach error, -EDEADLK (resv held), -ENOMEM.
 */
int p2pdma_dmabuf_attach(struct p2pdma_dmabuf *buf, const struct p2pdma_dev *dev,
			 struct p2pdma_dmabuf_attach **out);

/**
 * p2pdma_dmabuf_dynamic_attach() - dma_buf_dynamic_attach()
 * @buf: the buffer
 * @dev: the importing device (NULL: not PCI)
 * @ops: importer ops (copied), or NULL for a static attachment
 * @importer_priv: the importer's data
 * @out: the attachment
 *
 * Return: 0; -EINVAL (WARNING) for ops without move_notify; the
 * exporter's attach error; -EDEADLK (resv held); -ENOMEM.
 */
int p2pdma_dmabuf_dynamic_attach(struct p2pdma_dmabuf *buf,
				 const struct p2pdma_dev *dev,
				 const struct p2pdma_dmabuf_importer_ops *ops,
				 void *importer_priv,
				 struct p2pdma_dmabuf_attach **out);

/**
 * p2pdma_dmabuf_detach() - dma_buf_detach()
 * @buf: the buffer
 * @attach: the attachment (freed)
 *
 * Mappings still held are unmapped first, with a WARNING line (the
 * kernel expects the importer to have done so).
 *
 * Return: 0, -EDEADLK (resv held: nothing is done), -EINVAL.
 */
int p2pdma_dmabuf_detach(struct p2pdma_dmabuf *buf,
			 struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_attach_buf() - the buffer of an attachment
 * @attach: the attachment
 *
 * Return: the buffer.
 */
struct p2pdma_dmabuf *p2pdma_dmabuf_attach_buf(const struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_attach_dev() - the importing device
 * @attach: the attachment
 *
 * Return: the function (of the kernel's machine), or NULL (not PCI).
 */
const struct p2pdma_dev *p2pdma_dmabuf_attach_dev(const struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_attach_priv() - the exporter's per-attachment data
 * @attach: the attachment
 *
 * Return: what the exporter stored with p2pdma_dmabuf_attach_set_priv().
 */
void *p2pdma_dmabuf_attach_priv(const struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_attach_set_priv() - attachment->priv, for the exporter
 * @attach: the attachment
 * @priv: the exporter's data
 */
void p2pdma_dmabuf_attach_set_priv(struct p2pdma_dmabuf_attach *attach, void *priv);

/**
 * p2pdma_dmabuf_attach_importer_priv() - the importer's data
 * @attach: the attachment
 *
 * Return: importer_priv as given at attach.
 */
void *p2pdma_dmabuf_attach_importer_priv(const struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_attach_peer2peer() - attach->peer2peer
 * @attach: the attachment
 *
 * Return: true if the importer allows memory without struct pages.
 */
bool p2pdma_dmabuf_attach_peer2peer(const struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_attach_is_dynamic() - dma_buf_attachment_is_dynamic()
 * @attach: the attachment
 *
 * Return: true if it has importer ops.
 */
bool p2pdma_dmabuf_attach_is_dynamic(const struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_attach_set_name() - how reports name the importer
 * @attach: the attachment
 * @name: copied (default: the device's BDF)
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_dmabuf_attach_set_name(struct p2pdma_dmabuf_attach *attach,
				  const char *name);

/**
 * p2pdma_dmabuf_attach_name() - the importer's name in reports
 * @attach: the attachment
 *
 * Return: the name.
 */
const char *p2pdma_dmabuf_attach_name(const struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_attach_mappings() - mappings the attachment holds now
 * @attach: the attachment
 *
 * Return: the count.
 */
unsigned int p2pdma_dmabuf_attach_mappings(const struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_attach_kept_across_revoke() - mappings kept after a notification
 * @attach: the attachment
 *
 * After every move_notify/revoke the core counts the mappings importers
 * did not drop: a hostile or pinned importer shows here (and in the log).
 *
 * Return: the total so far.
 */
unsigned int p2pdma_dmabuf_attach_kept_across_revoke(const struct p2pdma_dmabuf_attach *attach);

/* --- pin, map, move (doc/kernel-model.md §4.5 - §4.7) --- */

/**
 * p2pdma_dmabuf_pin() - dma_buf_pin() (resv held, dynamic importers only)
 * @attach: the attachment
 *
 * Return: 0 (also when the exporter has no pin), the exporter's error,
 * -EINVAL (WARNING) for a static attachment, -EDEADLK (resv not held).
 */
int p2pdma_dmabuf_pin(struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_unpin() - dma_buf_unpin() (resv held)
 * @attach: the attachment
 *
 * Return: 0, -EINVAL, -EDEADLK.
 */
int p2pdma_dmabuf_unpin(struct p2pdma_dmabuf_attach *attach);

/**
 * p2pdma_dmabuf_map_attachment() - dma_buf_map_attachment() (resv held)
 * @attach: the attachment
 * @dir: direction
 * @out: the table
 *
 * Pins first when dma_buf_pin_on_map() (exporter with pin, and a static
 * importer or CONFIG_DMABUF_MOVE_NOTIFY=n); for a static importer waits
 * for the buffer's KERNEL fences before returning.
 *
 * Return: 0; the exporter's error (NULL table: -ENOMEM); -EINTR when the
 * fence wait is interrupted (its timeout ran out); -EDEADLK (resv not
 * held).
 */
int p2pdma_dmabuf_map_attachment(struct p2pdma_dmabuf_attach *attach,
				 enum p2pdma_dma_dir dir, struct p2pdma_sgt **out);

/**
 * p2pdma_dmabuf_unmap_attachment() - dma_buf_unmap_attachment() (resv held)
 * @attach: the attachment
 * @sgt: a table it mapped
 * @dir: direction
 *
 * Return: 0, -EINVAL (not a table of this attachment), -EDEADLK.
 */
int p2pdma_dmabuf_unmap_attachment(struct p2pdma_dmabuf_attach *attach,
				   struct p2pdma_sgt *sgt, enum p2pdma_dma_dir dir);

/**
 * p2pdma_dmabuf_map_attachment_unlocked() - the variant that locks itself
 * @attach: the attachment
 * @dir: direction
 * @out: the table
 *
 * Return: as p2pdma_dmabuf_map_attachment(); -EDEADLK with resv held.
 */
int p2pdma_dmabuf_map_attachment_unlocked(struct p2pdma_dmabuf_attach *attach,
					  enum p2pdma_dma_dir dir,
					  struct p2pdma_sgt **out);

/**
 * p2pdma_dmabuf_unmap_attachment_unlocked() - the variant that locks itself
 * @attach: the attachment
 * @sgt: the table
 * @dir: direction
 *
 * Return: as p2pdma_dmabuf_unmap_attachment().
 */
int p2pdma_dmabuf_unmap_attachment_unlocked(struct p2pdma_dmabuf_attach *attach,
					    struct p2pdma_sgt *sgt,
					    enum p2pdma_dma_dir dir);

/**
 * p2pdma_dmabuf_move_notify() - dma_buf_move_notify() (resv held)
 * @buf: the buffer
 *
 * Calls move_notify of every dynamic attachment; static ones are not
 * told. Afterwards, every mapping an importer kept is counted and logged.
 *
 * Return: 0 or -EDEADLK (resv not held).
 */
int p2pdma_dmabuf_move_notify(struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_mmap() - dma_buf_mmap()
 * @buf: the buffer
 * @offset: into the buffer
 * @len: bytes
 *
 * Return: the exporter's answer; -EINVAL without an mmap op or outside
 * the buffer; -EDEADLK with resv held.
 */
int p2pdma_dmabuf_mmap(struct p2pdma_dmabuf *buf, uint64_t offset, uint64_t len);

/**
 * p2pdma_dmabuf_vmap() - dma_buf_vmap() (resv held)
 * @buf: the buffer
 * @vaddr: receives the mapping
 *
 * Return: the exporter's answer, -EINVAL without a vmap op, -EDEADLK.
 */
int p2pdma_dmabuf_vmap(struct p2pdma_dmabuf *buf, void **vaddr);

/**
 * p2pdma_dmabuf_vunmap() - dma_buf_vunmap() (resv held)
 * @buf: the buffer
 * @vaddr: from p2pdma_dmabuf_vmap()
 *
 * Return: 0, -EDEADLK.
 */
int p2pdma_dmabuf_vunmap(struct p2pdma_dmabuf *buf, void *vaddr);

/* --- fences on the reservation object --- */

/* enum dma_resv_usage. */
enum p2pdma_resv_usage {
	P2PDMA_RESV_USAGE_KERNEL = 0,
	P2PDMA_RESV_USAGE_WRITE = 1,
	P2PDMA_RESV_USAGE_READ = 2,
	P2PDMA_RESV_USAGE_BOOKKEEP = 3,
};

/**
 * p2pdma_fence_create() - a fence, unsignaled
 * @ctx: library context (allocation)
 * @name: for reports (copied)
 * @out: the fence with one reference
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_fence_create(struct p2pdma_ctx *ctx, const char *name,
			struct p2pdma_fence **out);

/**
 * p2pdma_fence_signal() - dma_fence_signal(): wakes every waiter
 * @f: the fence
 */
void p2pdma_fence_signal(struct p2pdma_fence *f);

/**
 * p2pdma_fence_is_signaled() - dma_fence_is_signaled()
 * @f: the fence
 *
 * Return: true once signaled.
 */
bool p2pdma_fence_is_signaled(struct p2pdma_fence *f);

/**
 * p2pdma_fence_put() - drop a reference
 * @f: the fence or NULL
 */
void p2pdma_fence_put(struct p2pdma_fence *f);

/**
 * p2pdma_dmabuf_add_fence() - dma_resv_add_fence() (resv held)
 * @buf: the buffer
 * @f: the fence (the buffer takes a reference)
 * @usage: how it uses the buffer
 *
 * Return: 0, -EDEADLK (resv not held), -ENOMEM.
 */
int p2pdma_dmabuf_add_fence(struct p2pdma_dmabuf *buf, struct p2pdma_fence *f,
			    enum p2pdma_resv_usage usage);

/**
 * p2pdma_dmabuf_wait() - dma_resv_wait_timeout() for fences up to @usage
 * @buf: the buffer
 * @usage: KERNEL waits for kernel fences only, ... BOOKKEEP for all
 * @timeout_ms: how long; negative waits forever
 *
 * Return: 0 when all signaled, -ETIME on timeout.
 */
int p2pdma_dmabuf_wait(struct p2pdma_dmabuf *buf, enum p2pdma_resv_usage usage,
		       long timeout_ms);

/**
 * p2pdma_dmabuf_set_map_wait_timeout() - bound the wait of static maps
 * @buf: the buffer
 * @timeout_ms: after this long the (interruptible) wait of a static
 *              importer's map gives up with -EINTR; negative: forever
 */
void p2pdma_dmabuf_set_map_wait_timeout(struct p2pdma_dmabuf *buf, long timeout_ms);

/* --- dma_buf_phys_vec_to_sgt() (doc/kernel-model.md §4.8) --- */

/**
 * struct p2pdma_phys_vec - struct phys_vec (dma_buf_phys_vec at 6.19)
 * @paddr: CPU physical address
 * @len: bytes
 */
struct p2pdma_phys_vec {
	uint64_t paddr;
	uint64_t len;
};

/**
 * p2pdma_dmabuf_phys_vec_to_sgt() - dma_buf_phys_vec_to_sgt() (resv held)
 * @attach: the attachment to map for
 * @provider: the provider owning the MMIO
 * @phys_vec: the ranges
 * @nr_ranges: count
 * @size: the sum of the lengths
 * @dir: direction
 * @out: the DMA-only table (orig_nents 0, no pages)
 *
 * pci_p2pdma_map_type(provider, importer): BUS_ADDR gives bus addresses;
 * THRU_HOST_BRIDGE gives one contiguous IOVA span when
 * dma_iova_try_alloc() succeeds, else one dma_map_phys(DMA_ATTR_MMIO)
 * per range; anything else is -EINVAL. Entries are cut at MAX_ENT
 * (UINT_MAX at 6.19, page aligned later) and the quirks of the release
 * apply (p2pdma_dma_quirks()). Every failure undoes what was mapped.
 *
 * Return: 0; -EINVAL (NULL provider, unreachable or non-PCI importer,
 * nents 0); -EEXIST or another dma_iova_link() error; -ENOMEM; -EDEADLK
 * (resv not held).
 */
int p2pdma_dmabuf_phys_vec_to_sgt(struct p2pdma_dmabuf_attach *attach,
				  const struct p2pdma_provider *provider,
				  const struct p2pdma_phys_vec *phys_vec,
				  size_t nr_ranges, uint64_t size,
				  enum p2pdma_dma_dir dir, struct p2pdma_sgt **out);

/**
 * p2pdma_dmabuf_free_sgt() - dma_buf_free_sgt() (resv held)
 * @attach: the attachment
 * @sgt: the table (freed)
 * @dir: direction
 *
 * Return: 0 or -EDEADLK (resv not held: nothing is freed).
 */
int p2pdma_dmabuf_free_sgt(struct p2pdma_dmabuf_attach *attach,
			   struct p2pdma_sgt *sgt, enum p2pdma_dma_dir dir);

/* --- exporters of the model --- */

/**
 * p2pdma_dmabuf_export_mmio() - export raw MMIO ranges of one BAR
 * @k: the kernel
 * @provider: the BAR's provider (p2pdma_kernel_provider())
 * @ranges: CPU physical ranges inside the BAR (registers and doorbells
 *          included), page aligned; concatenated in order
 * @nr: count (at least one)
 * @flags: file flags
 * @out: the buffer (one reference)
 *
 * The exporter VFIO's is built like: attach refuses importers without
 * peer2peer (-EOPNOTSUPP) and revoked buffers (-ENODEV); map refuses
 * while revoked (-ENODEV), else dma_buf_phys_vec_to_sgt(); no mmap, no
 * vmap; it offers the single-range interconnect iommufd uses.
 *
 * Return: 0, -EINVAL (a range outside the BAR or not page aligned), -ENOMEM.
 */
int p2pdma_dmabuf_export_mmio(struct p2pdma_kernel *k,
			      const struct p2pdma_provider *provider,
			      const struct p2pdma_phys_vec *ranges, size_t nr,
			      int flags, struct p2pdma_dmabuf **out);

/**
 * p2pdma_dmabuf_export_pages() - export pages: system memory or P2P pages
 * @k: the kernel
 * @pages: the pages (a P2P page names its provider; the p2pmem pool hands
 *         them out), concatenated in order
 * @n: count
 * @flags: file flags
 * @release: called with @release_priv once the buffer is freed (the pool
 *           takes its pages back), or NULL
 * @release_priv: for @release
 * @out: the buffer
 *
 * Map goes through p2pdma_dma_map_sg() (BUS_ADDR entries marked,
 * NOT_SUPPORTED fails -EREMOTEIO); a buffer with P2P pages refuses
 * importers without peer2peer (-EOPNOTSUPP); vmap is offered for system
 * pages only. A P2P page is a struct page of the p2pmem pool
 * (p2pdma/p2pmem.h): every page of a P2P entry must be a ZONE_DEVICE page
 * of that provider that the pool handed out (not free); exporting
 * anything else is refused.
 *
 * Return: 0; -EINVAL (an empty entry, a P2P page outside its provider's
 * BAR, without a struct page of that provider, or free in its pool);
 * -ENOMEM.
 */
int p2pdma_dmabuf_export_pages(struct p2pdma_kernel *k,
			       const struct p2pdma_sg_page *pages, size_t n,
			       int flags, void (*release)(void *release_priv),
			       void *release_priv, struct p2pdma_dmabuf **out);

/**
 * p2pdma_dmabuf_export_p2pmem() - export pages of a function's p2pmem pool
 * @k: the kernel
 * @dev: the providing function (it has a pool: pci_p2pdma_add_resource())
 * @size: bytes, rounded up to pages
 * @flags: file flags
 * @out: the buffer (one reference)
 *
 * An exporter of P2P pages as a driver writes one: pci_alloc_p2pmem() of
 * @size on @dev (one contiguous allocation, owner "dma-buf"), its pages
 * as the buffer's scatterlist (one entry per ALIGN_DOWN(UINT_MAX,
 * PAGE_SIZE) bytes, as sg_alloc_table_from_pages() cuts them), exported
 * with p2pdma_dmabuf_export_pages(); the release frees the allocation
 * (pci_free_p2pmem()), so the provider's unbind waits for the last
 * reference.
 *
 * Context: the release touches the pool, which is not thread-safe: drop
 * the last reference on the thread that drives the kernel.
 *
 * Return: 0; the errno of p2pdma_p2pmem_alloc() (-ENODEV: no pool or a
 * dying range, -ENOMEM: no room, -EINVAL: @size 0); -ENOMEM.
 */
int p2pdma_dmabuf_export_p2pmem(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
				uint64_t size, int flags, struct p2pdma_dmabuf **out);

/**
 * p2pdma_dmabuf_revoke() - revoke or restore a buffer of the model's exporters
 * @buf: a buffer from p2pdma_dmabuf_export_mmio() or _pages()
 * @revoked: true to revoke, false to restore
 *
 * Under the reservation lock: sets the state and, when it changed, calls
 * move_notify of every dynamic importer. While revoked, attach and map
 * fail -ENODEV and DMA into the buffer is reported as use after revoke.
 *
 * Return: 0, -EINVAL (another exporter's buffer), -EDEADLK (resv held).
 */
int p2pdma_dmabuf_revoke(struct p2pdma_dmabuf *buf, bool revoked);

/**
 * p2pdma_dmabuf_revoked() - the revoke state the DMA engine guards
 * @buf: the buffer
 *
 * Return: true while revoked.
 */
bool p2pdma_dmabuf_revoked(struct p2pdma_dmabuf *buf);

/**
 * p2pdma_dmabuf_set_guard() - tell the DMA engine a buffer's memory and state
 * @buf: the buffer
 * @ranges: CPU physical ranges of its memory (copied), or NULL to keep
 * @nr: count
 * @revoked: the state the engine checks DMA against
 *
 * For exporters outside the model's own (VFIO uses it): DMA that lands in
 * these ranges while @revoked is refused and reported as use after revoke.
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_dmabuf_set_guard(struct p2pdma_dmabuf *buf,
			    const struct p2pdma_phys_vec *ranges, size_t nr,
			    bool revoked);

/* --- importers of the model --- */

/* Kinds of importer device driver. */
enum p2pdma_importer_kind {
	/* An RDMA NIC with on-demand paging (mlx5 ODP): dynamic, peer2peer;
	 * move_notify drops the mapping, the next access maps again. */
	P2PDMA_IMPORTER_RDMA_DYNAMIC = 0,
	/* ib_umem_dmabuf_get_pinned(): dynamic attach, pin, map once;
	 * move_notify only warns: unsafe with revocable exporters. */
	P2PDMA_IMPORTER_RDMA_PINNED,
	/* iommufd: maps the buffer's single range into its own IOMMU
	 * domain; move_notify means revoke, for good. */
	P2PDMA_IMPORTER_IOMMUFD,
	/* A dynamic importer that ignores move_notify. */
	P2PDMA_IMPORTER_HOSTILE,
	/* dma_buf_attach(): no ops, no peer2peer. */
	P2PDMA_IMPORTER_STATIC,
};

struct p2pdma_importer;

/**
 * p2pdma_importer_create() - an importing driver on a device
 * @k: the kernel
 * @kind: what kind of driver
 * @dev: its device
 * @name: for reports (copied); NULL: "<kind>@<BDF>"
 * @out: the importer
 *
 * The iommufd importer allocates an unmanaged domain and attaches the
 * device's group to it (the kernel must have an IOMMU).
 *
 * Return: 0, -ENODEV (iommufd without IOMMU), -EINVAL, -ENOMEM.
 */
int p2pdma_importer_create(struct p2pdma_kernel *k, enum p2pdma_importer_kind kind,
			   const struct p2pdma_dev *dev, const char *name,
			   struct p2pdma_importer **out);

/* Importer ops variants (p2pdma_importer_set_flags()). */
#define P2PDMA_IMPORTER_NO_PEER2PEER	0x1	/* allow_peer2peer false */
#define P2PDMA_IMPORTER_NO_MOVE_NOTIFY	0x2	/* ops without move_notify */

/**
 * p2pdma_importer_set_flags() - attach with other importer ops
 * @imp: the importer (holding no buffer; not a static one: it has no ops)
 * @flags: P2PDMA_IMPORTER_NO_PEER2PEER (a dynamic importer that needs
 *         struct pages: P2P exporters refuse it), _NO_MOVE_NOTIFY (ops
 *         without move_notify: dma_buf_dynamic_attach() refuses them)
 *
 * Return: 0, -EBUSY (holds a buffer), -EINVAL (unknown bits, static).
 */
int p2pdma_importer_set_flags(struct p2pdma_importer *imp, unsigned int flags);

/**
 * p2pdma_importer_destroy() - release what it holds and free it
 * @imp: the importer or NULL
 */
void p2pdma_importer_destroy(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_import() - take a buffer (its own reference) and attach
 * @imp: the importer (holding no buffer)
 * @buf: the buffer
 *
 * The pinned importer also pins and maps; iommufd maps its range into
 * its domain; the dynamic RDMA importer maps on first access.
 *
 * Return: 0 or the first error (attach, pin, map), with nothing held.
 */
int p2pdma_importer_import(struct p2pdma_importer *imp, struct p2pdma_dmabuf *buf);

/**
 * p2pdma_importer_attach() - take a buffer (its own reference) and only attach
 * @imp: the importer (holding no buffer)
 * @buf: the buffer
 *
 * dma_buf_dynamic_attach() with the importer's ops (dma_buf_attach() for
 * a static importer), nothing else: pin and map are separate steps
 * (p2pdma_importer_pin(), p2pdma_importer_map_attachment()).
 *
 * Return: 0 or the attach error (-EOPNOTSUPP, -ENODEV, -EINVAL,
 * -EDEADLK...), with nothing held.
 */
int p2pdma_importer_attach(struct p2pdma_importer *imp, struct p2pdma_dmabuf *buf);

/**
 * p2pdma_importer_pin() - dma_buf_pin() of its attachment
 * @imp: the importer
 *
 * The caller holds the buffer's reservation lock, as the convention says
 * (the core checks it).
 *
 * Return: 0; the core's or exporter's error (-EINVAL static attachment,
 * -EOPNOTSUPP the exporter refuses, -EDEADLK lock not held); -ENOENT
 * without a buffer.
 */
int p2pdma_importer_pin(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_unpin() - dma_buf_unpin() of its attachment
 * @imp: the importer
 *
 * Return: 0; -EINVAL (not pinned); -EDEADLK (lock not held); -ENOENT.
 */
int p2pdma_importer_unpin(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_map_attachment() - dma_buf_map_attachment[_unlocked]()
 * @imp: the importer (holding no mapping)
 * @unlocked: the _unlocked variant (takes the lock; the caller must not
 *            hold it); else the caller holds the reservation lock
 *
 * The table becomes the importer's mapping (what its DMA uses and its
 * move_notify drops).
 *
 * Return: 0 or the map error (-ENODEV revoked, -EINVAL unreachable,
 * -EREMOTEIO, -EDEADLK the lock rule...); -EBUSY (it holds a mapping
 * already), -ENOENT (no buffer).
 */
int p2pdma_importer_map_attachment(struct p2pdma_importer *imp, bool unlocked);

/**
 * p2pdma_importer_unmap_attachment() - dma_buf_unmap_attachment[_unlocked]()
 * @imp: the importer
 * @unlocked: as p2pdma_importer_map_attachment()
 *
 * Return: 0, -ENOENT (no mapping), -EDEADLK (the lock rule).
 */
int p2pdma_importer_unmap_attachment(struct p2pdma_importer *imp, bool unlocked);

/**
 * p2pdma_importer_detach() - dma_buf_detach() as is, then drop the buffer
 * @imp: the importer
 *
 * Unlike p2pdma_importer_release() nothing is unmapped or unpinned first:
 * the core unmaps what is still mapped (with its WARNING) and drops the
 * pins.
 *
 * Return: 0, -ENOENT (no buffer), -EDEADLK (the reservation lock is held).
 */
int p2pdma_importer_detach(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_release() - unmap, unpin, detach and drop the buffer
 * @imp: the importer
 *
 * Return: 0, -ENOENT when it holds no buffer, -EDEADLK when the calling
 * thread holds the reservation lock (nothing is done).
 */
int p2pdma_importer_release(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_map() - map now (the RDMA importer's page-fault path)
 * @imp: the importer
 *
 * Return: 0 (also when mapped already) or the map error (-ENODEV while
 * revoked...); iommufd: -ENODEV once revoked.
 */
int p2pdma_importer_map(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_write() - DMA write by the device into the buffer
 * @imp: the importer
 * @offset: into the buffer
 * @data: bytes
 * @len: count
 *
 * Through the mapping it holds (the dynamic importer maps on demand
 * first): the address comes from its table or its IOMMU domain and goes
 * to p2pdma_dma_write().
 *
 * Return: 0 or the errno of the map or of the DMA engine.
 */
int p2pdma_importer_write(struct p2pdma_importer *imp, uint64_t offset,
			  const void *data, size_t len);

/**
 * p2pdma_importer_read() - DMA read by the device from the buffer
 * @imp: the importer
 * @offset: into the buffer
 * @data: receives the bytes
 * @len: count
 *
 * Return: as p2pdma_importer_write().
 */
int p2pdma_importer_read(struct p2pdma_importer *imp, uint64_t offset,
			 void *data, size_t len);

/**
 * p2pdma_importer_mapped() - does it hold a mapping now?
 * @imp: the importer
 *
 * Return: true if mapped.
 */
bool p2pdma_importer_mapped(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_notifications() - move_notify calls it received
 * @imp: the importer
 *
 * Return: the count.
 */
unsigned int p2pdma_importer_notifications(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_dma_address() - the DMA address it uses for an offset
 * @imp: the importer
 * @offset: into the buffer
 * @addr: receives it
 *
 * Return: 0, -ENOENT (not mapped), -EINVAL (beyond the buffer).
 */
int p2pdma_importer_dma_address(struct p2pdma_importer *imp, uint64_t offset,
				uint64_t *addr);

/**
 * p2pdma_importer_attachment() - its attachment
 * @imp: the importer
 *
 * Return: the attachment, or NULL when it holds no buffer.
 */
struct p2pdma_dmabuf_attach *p2pdma_importer_attachment(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_sgt() - the table it holds (RDMA kinds)
 * @imp: the importer
 *
 * Return: the table or NULL.
 */
const struct p2pdma_sgt *p2pdma_importer_sgt(struct p2pdma_importer *imp);

/**
 * p2pdma_importer_name() - its name in reports
 * @imp: the importer
 *
 * Return: the name.
 */
const char *p2pdma_importer_name(const struct p2pdma_importer *imp);

/**
 * p2pdma_importer_kind_name() - "rdma-dynamic", "rdma-pinned", "iommufd"...
 * @kind: the kind
 *
 * Return: the name.
 */
const char *p2pdma_importer_kind_name(enum p2pdma_importer_kind kind);

#ifdef __cplusplus
}
#endif
#endif
