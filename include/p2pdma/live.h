/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/live.h - a real machine's p2pmem: the sysfs files, block devices, O_DIRECT transfers */
#ifndef P2PDMA_LIVE_H
#define P2PDMA_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What p2pmem-test does, as functions: read the p2pmem files a kernel
 * made (/sys/bus/pci/devices/BDF/p2pmem/), find block devices and the PCI
 * function behind each, and move data with O_DIRECT between a block device
 * and an mmap() of a provider's p2pmem/allocate, checking what arrived.
 * Every path is taken under a sysfs root and a device directory, so a
 * captured or hand-built tree works as well as /sys and /dev.
 *
 * This file depends on nothing but the C library: the conformance guest
 * compiles lib/p2pmem-live.c statically on its own.
 *
 * Safety: transfers only read from a block device unless the caller sets
 * @write of struct p2pdma_live_xfer (a scratch device); a write puts the
 * original block back afterwards.
 */

/**
 * struct p2pdma_live_p2pmem - the p2pmem/ files of one function
 * @present: the p2pmem/ directory exists
 * @allocate: p2pmem/allocate exists (Linux 6.2+, not being torn down)
 * @published: p2pmem/published reads 1
 * @size: p2pmem/size
 * @available: p2pmem/available
 *
 * Filled by p2pdma_live_p2pmem_read(); fields are only appended.
 */
struct p2pdma_live_p2pmem {
	bool present;
	bool allocate;
	bool published;
	uint64_t size;
	uint64_t available;
};

/**
 * p2pdma_live_p2pmem_read() - read a function's p2pmem files now
 * @sysfs: the sysfs root ("/sys")
 * @bdf: "DDDD:BB:DD.F"
 * @out: filled
 * @size: sizeof(*out) as the caller knows it
 *
 * Return: 0 (@out->present false without the directory); -EIO if a file
 * exists but does not read as a number.
 */
int p2pdma_live_p2pmem_read(const char *sysfs, const char *bdf,
			    struct p2pdma_live_p2pmem *out, size_t size);

/**
 * p2pdma_live_provider_next() - functions with a p2pmem/ directory, in BDF order
 * @sysfs: the sysfs root
 * @after: NULL for the first, else the previous answer
 * @bdf: receives the next one
 * @len: size of @bdf (at least 16)
 *
 * Return: 0, -ENOENT when there is no further one, -errno if
 * bus/pci/devices cannot be read.
 */
int p2pdma_live_provider_next(const char *sysfs, const char *after, char *bdf, size_t len);

/**
 * struct p2pdma_live_blockdev - a block device and the function that DMAs for it
 * @name: "nvme0n1"
 * @bdf: the PCI function above it in the device tree ("" if none)
 * @driver: that function's driver ("" if unknown)
 * @serial: the NVMe controller's serial ("" if none)
 *
 * Filled by p2pdma_live_blockdev_next(); fields are only appended.
 */
struct p2pdma_live_blockdev {
	char name[32];
	char bdf[32];
	char driver[32];
	char serial[64];
};

/**
 * p2pdma_live_blockdev_next() - block devices behind a PCI function, in name order
 * @sysfs: the sysfs root
 * @after: NULL for the first, else the previous name
 * @out: filled
 * @size: sizeof(*out) as the caller knows it
 *
 * /sys/block/NAME links into the device tree; the PCI function is the last
 * path component that reads as a BDF (nvme0n1 -> nvme0 -> 0000:04:00.0,
 * vda -> virtio1 -> 0000:00:02.0). Partitions and virtual devices (loop,
 * zram: no PCI function) are skipped.
 *
 * Return: 0, -ENOENT when there is no further one, -errno if block/
 * cannot be read.
 */
int p2pdma_live_blockdev_next(const char *sysfs, const char *after,
			      struct p2pdma_live_blockdev *out, size_t size);

/**
 * struct p2pdma_live_xfer - one O_DIRECT check between a disk and p2pmem
 * @size: sizeof(struct p2pdma_live_xfer)
 * @sysfs: the sysfs root
 * @dev_dir: where the block device nodes are ("/dev")
 * @provider: BDF whose p2pmem/allocate is mapped
 * @blockdev: the block device's name
 * @offset: disk offset (a multiple of 4096)
 * @len: bytes (a multiple of 4096)
 * @write: also write: the data goes from the mapping to the disk at
 *         @offset and is read back into ordinary memory; the original
 *         block is restored. Only for a scratch device.
 */
struct p2pdma_live_xfer {
	size_t size;
	const char *sysfs;
	const char *dev_dir;
	const char *provider;
	const char *blockdev;
	uint64_t offset;
	uint64_t len;
	bool write;
};

/* How a transfer came out: P2PDMA_LIVE_* per direction. */
enum p2pdma_live_outcome {
	P2PDMA_LIVE_NOT_RUN = 0,	/* not attempted (an earlier step failed) */
	P2PDMA_LIVE_MOVED = 1,		/* the full length, and the data arrived */
	P2PDMA_LIVE_FAILED = 2,		/* the system call failed: see the errno */
	P2PDMA_LIVE_SHORT = 3,		/* fewer bytes than asked */
	P2PDMA_LIVE_BAD_DATA = 4,	/* moved, but the bytes are not what was sent */
};

/**
 * struct p2pdma_live_result - what one transfer did
 * @mmap_err: 0 or the -errno of opening or mmap()ing p2pmem/allocate
 * @ref_err: 0 or the -errno of the reference read into ordinary memory
 * @read: outcome of the read from the disk into the mapping
 * @read_err: its -errno when FAILED
 * @read_bytes: what the read returned (bytes, or -1)
 * @write: outcome of the write from the mapping to the disk (NOT_RUN
 *         unless asked)
 * @write_err: its -errno when FAILED
 * @write_bytes: what the write returned (bytes, or -1)
 * @restore_err: 0, or the -errno of putting the original block back
 *
 * Filled by p2pdma_live_transfer(); fields are only appended.
 */
struct p2pdma_live_result {
	int mmap_err;
	int ref_err;
	enum p2pdma_live_outcome read;
	int read_err;
	int64_t read_bytes;
	enum p2pdma_live_outcome write;
	int write_err;
	int64_t write_bytes;
	int restore_err;
};

/**
 * p2pdma_live_transfer() - O_DIRECT between a block device and a provider's p2pmem
 * @x: what to move
 * @r: filled
 * @rsize: sizeof(*r) as the caller knows it
 *
 * Reads @len bytes at @offset into ordinary memory (the reference), maps
 * @len bytes of p2pmem/allocate (MAP_SHARED, offset 0), clears them, reads
 * the same bytes with O_DIRECT into the mapping and compares them with the
 * reference through 64-bit volatile loads (each really reads the BAR).
 * With @write, a pattern that differs from the reference is put in the
 * mapping (64-bit volatile stores), written with O_DIRECT to @offset and
 * read back into ordinary memory to compare; then the reference goes
 * back in place.
 *
 * Return: 0 when the transfer was attempted (its outcome is in @r), -EINVAL
 * for a bad @x, -ENOMEM.
 */
int p2pdma_live_transfer(const struct p2pdma_live_xfer *x, struct p2pdma_live_result *r,
			 size_t rsize);

/**
 * struct p2pdma_live_mmap_rules - mmap() of p2pmem/allocate, the three cases
 * @open_err: 0 or the -errno of opening the file (the others are then 0)
 * @private_err: MAP_PRIVATE at offset 0 (the kernel: -EINVAL)
 * @offset_err: MAP_SHARED at offset 4096 (the kernel: -EINVAL)
 * @shared_err: MAP_SHARED at offset 0 (the kernel: 0, or -ENOMEM when full)
 *
 * Filled by p2pdma_live_mmap_rules(); fields are only appended.
 */
struct p2pdma_live_mmap_rules {
	int open_err;
	int private_err;
	int offset_err;
	int shared_err;
};

/**
 * p2pdma_live_mmap_rules() - try the three mmap() cases on p2pmem/allocate
 * @sysfs: the sysfs root
 * @bdf: the provider
 * @out: filled (each mapping of 4 KiB is unmapped at once)
 * @size: sizeof(*out) as the caller knows it
 *
 * Return: 0.
 */
int p2pdma_live_mmap_rules(const char *sysfs, const char *bdf,
			   struct p2pdma_live_mmap_rules *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
