/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/nvmet.h - the p2pmem attribute of configfs users (pci_p2pdma_enable_store()) and the NVMe target's check at namespace enable */
#ifndef P2PDMA_NVMET_H
#define P2PDMA_NVMET_H

#include <stdbool.h>
#include <stddef.h>

#include <p2pdma/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The NVMe target (drivers/nvme/target) is the in-tree orchestrator that
 * lets an administrator choose P2P memory: each namespace has a configfs
 * attribute `p2pmem` (subsystems/NQN/namespaces/NSID/p2pmem), parsed by
 * pci_p2pdma_enable_store(), and enabling the namespace runs
 * nvmet_p2pmem_ns_enable() (doc/kernel-model.md §1.5 and §6). Both are
 * modelled here on a booted kernel object; the lines the kernel prints go
 * to its log (p2pdma_kernel_log_entry()), as dmesg shows them.
 *
 * Context: single-threaded, like the kernel object.
 */

/**
 * p2pdma_kernel_enable_store() - pci_p2pdma_enable_store(): a write to a p2pmem attribute
 * @k: the kernel
 * @text: the bytes written, e.g. "0000:01:00.0\n" or "1\n" (echo's newline
 *        included: the kernel prints them as written)
 * @provider: receives the function named, or NULL for a yes/no value
 * @use: receives whether P2P memory is to be used (unchanged on an error)
 *
 * In the kernel's order: a text that is a PCI function's name (as the
 * kernel names it, "0000:01:00.0"; one trailing newline ignored) selects
 * it, and it must have published p2pmem, else the kernel logs "PCI device
 * has no peer-to-peer memory: TEXT" on that function. Otherwise a text
 * starting with '0' or '1' followed by a printable character is refused
 * (so that a mistyped "0000:..." is not read as false); otherwise
 * kstrtobool() (1/y/t, 0/n/f, on/off by their first letters) sets @use.
 * Anything else logs "pci-p2pdma: No such PCI device: TEXT" (up to the
 * first newline).
 *
 * Return: 0, or -ENODEV (both refusals), -EINVAL for a NULL @text.
 */
int p2pdma_kernel_enable_store(struct p2pdma_kernel *k, const char *text,
			       const struct p2pdma_dev **provider, bool *use);

/**
 * p2pdma_kernel_enable_show() - pci_p2pdma_enable_show(): reading the attribute back
 * @k: the kernel
 * @provider: the function stored, or NULL
 * @use: the stored choice
 * @buf: receives "0\n", "1\n" or the function's name and a newline
 * @len: size of @buf
 *
 * Return: the length of the text, -EINVAL if @provider is not a function
 * of this kernel's machine, -ENOSPC if @buf is too small.
 */
int p2pdma_kernel_enable_show(const struct p2pdma_kernel *k,
			      const struct p2pdma_dev *provider, bool use,
			      char *buf, size_t len);

/* What backs an NVMe target namespace (its device_path). */
enum p2pdma_nvmet_backing {
	P2PDMA_NVMET_BLOCK_P2PDMA = 0,	/* a block device whose queue has BLK_FEAT_PCI_P2PDMA (nvme-pci) */
	P2PDMA_NVMET_BLOCK = 1,		/* a block device whose queue has not */
	P2PDMA_NVMET_FILE = 2,		/* a file: nvmet opens it as a file namespace */
};

/**
 * p2pdma_nvmet_ns_p2pmem_enable() - nvmet_p2pmem_ns_enable(): the P2P memory check of enabling a namespace
 * @k: the kernel
 * @use: what the namespace's p2pmem attribute holds (p2pdma_kernel_enable_store())
 * @provider: the function it names, or NULL for "any"
 * @backing: what backs the namespace
 * @client: the PCI function that DMAs for the namespace's block device
 *          (its disk's parent's PCI ancestor: the NVMe controller); NULL
 *          when the disk has no PCI ancestor
 * @device_path: the namespace's device_path, as the messages name it
 * @pick: NULL, or receives the provider pci_p2pmem_find() chose in the
 *        "any" case (the kernel only checks that there is one and lets it
 *        go; the choice that is kept is made per controller, when a
 *        transport with a PCI device connects); NULL otherwise
 *
 * Nothing to check without @use. Then, in the kernel's order: a file
 * namespace is refused ("nvmet: peer-to-peer DMA is not supported by
 * non-block device namespaces"), so is a queue without the P2PDMA feature
 * ("nvmet: peer-to-peer DMA is not supported by the driver of PATH"); a
 * named provider must reach @client: pci_p2pdma_distance(provider,
 * client, verbose), whose warnings are logged; for "any",
 * pci_p2pmem_find(client) must find a published provider (silently; the
 * map-type caches are filled as in the kernel), else "nvmet: no
 * peer-to-peer memory is available for PATH". For a NULL @client the
 * kernel's own warning names the disk's parent device, which the model
 * does not know: a note says so instead.
 *
 * Return: 0 (the namespace may be enabled), -EINVAL (enabling fails with
 * it), or -ENOMEM.
 */
int p2pdma_nvmet_ns_p2pmem_enable(struct p2pdma_kernel *k, bool use,
				  const struct p2pdma_dev *provider,
				  enum p2pdma_nvmet_backing backing,
				  const struct p2pdma_dev *client,
				  const char *device_path,
				  const struct p2pdma_dev **pick);

#ifdef __cplusplus
}
#endif
#endif
