// SPDX-License-Identifier: LGPL-2.1-or-later
/* p2pmem-live.c - a real machine's p2pmem files, block devices and O_DIRECT transfers */
/*
 * Only the C library: conformance/guest/p2pcopy.c includes this file and
 * is compiled on its own (gcc -static), so no project header but the
 * public one, reached by a path relative to this file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../include/p2pdma/live.h"

#ifndef P2PDMA_EXPORT
#define P2PDMA_EXPORT __attribute__((visibility("default")))
#endif

#define LIVE_PAGE 4096

static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The first line of a small file, without the newline. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int read_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;
	int ret = read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	return errno || end == buf || *end ? -EIO : 0;
}

/* "DDDD:BB:DD.F"? */
static int is_bdf(const char *s)
{
	unsigned int d, b, dev, fn;
	char tail;

	return strlen(s) >= 12 && sscanf(s, "%x:%x:%x.%x%c", &d, &b, &dev, &fn, &tail) == 4;
}

P2PDMA_EXPORT int p2pdma_live_p2pmem_read(const char *sysfs, const char *bdf,
					  struct p2pdma_live_p2pmem *out, size_t size)
{
	struct p2pdma_live_p2pmem in;
	char dir[PATH_MAX], path[PATH_MAX + 16];
	uint64_t pub = 0;
	struct stat st;
	int ret = 0;

	memset(&in, 0, sizeof(in));
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s/p2pmem", sysfs, bdf);
	if (!stat(dir, &st) && S_ISDIR(st.st_mode)) {
		in.present = 1;
		snprintf(path, sizeof(path), "%s/size", dir);
		ret = read_u64(path, &in.size);
		snprintf(path, sizeof(path), "%s/available", dir);
		if (!ret)
			ret = read_u64(path, &in.available);
		snprintf(path, sizeof(path), "%s/published", dir);
		if (!ret)
			ret = read_u64(path, &pub);
		in.published = pub != 0;
		snprintf(path, sizeof(path), "%s/allocate", dir);
		in.allocate = !access(path, F_OK);
		if (ret)
			ret = -EIO;
	}
	memcpy(out, &in, size < sizeof(in) ? size : sizeof(in));
	return ret;
}

/* The smallest entry of @dir greater than @after that @pick accepts. */
static int next_entry(const char *dir, const char *after, char *out, size_t len,
		      int (*pick)(const char *dir, const char *name, void *data), void *data)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char best[256] = "";

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (after && strcmp(e->d_name, after) <= 0))
			continue;
		if (best[0] && strcmp(e->d_name, best) >= 0)
			continue;
		if (pick(dir, e->d_name, data))
			copy_str(best, sizeof(best), e->d_name);
	}
	closedir(d);
	if (!best[0])
		return -ENOENT;
	copy_str(out, len, best);
	return 0;
}

static int has_p2pmem(const char *dir, const char *name, void *data)
{
	char path[PATH_MAX];
	struct stat st;

	(void)data;
	snprintf(path, sizeof(path), "%s/%s/p2pmem", dir, name);
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

P2PDMA_EXPORT int p2pdma_live_provider_next(const char *sysfs, const char *after,
					    char *bdf, size_t len)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", sysfs);
	return next_entry(dir, after, bdf, len, has_p2pmem, NULL);
}

/* The last path component of a link's target that reads as a BDF. */
static int pci_of_link(const char *link, char *bdf, size_t len)
{
	char t[PATH_MAX], *p, *save = NULL;
	ssize_t n = readlink(link, t, sizeof(t) - 1);

	bdf[0] = '\0';
	if (n < 0)
		return -errno;
	t[n] = '\0';
	for (p = strtok_r(t, "/", &save); p; p = strtok_r(NULL, "/", &save))
		if (is_bdf(p))
			copy_str(bdf, len, p);
	return bdf[0] ? 0 : -ENODEV;
}

static int is_pci_disk(const char *dir, const char *name, void *data)
{
	char path[PATH_MAX], bdf[64];

	(void)data;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !pci_of_link(path, bdf, sizeof(bdf));
}

static void link_base(const char *path, char *out, size_t len)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof(t) - 1);
	const char *b;

	out[0] = '\0';
	if (n < 0)
		return;
	t[n] = '\0';
	b = strrchr(t, '/');
	copy_str(out, len, b ? b + 1 : t);
}

P2PDMA_EXPORT int p2pdma_live_blockdev_next(const char *sysfs, const char *after,
					    struct p2pdma_live_blockdev *out, size_t size)
{
	struct p2pdma_live_blockdev in;
	char dir[PATH_MAX], path[PATH_MAX + 300], ctrl[64];
	int ret;

	memset(&in, 0, sizeof(in));
	snprintf(dir, sizeof(dir), "%s/block", sysfs);
	ret = next_entry(dir, after, in.name, sizeof(in.name), is_pci_disk, NULL);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, in.name);
	pci_of_link(path, in.bdf, sizeof(in.bdf));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysfs, in.bdf);
	link_base(path, in.driver, sizeof(in.driver));
	/* NVMe: /sys/block/nvmeXnY/device -> the controller nvmeX, its serial. */
	snprintf(path, sizeof(path), "%s/%s/device", dir, in.name);
	link_base(path, ctrl, sizeof(ctrl));
	if (!strncmp(ctrl, "nvme", 4)) {
		snprintf(path, sizeof(path), "%s/class/nvme/%s/serial", sysfs, ctrl);
		if (read_line(path, in.serial, sizeof(in.serial)))
			in.serial[0] = '\0';
	}
	memcpy(out, &in, size < sizeof(in) ? size : sizeof(in));
	return 0;
}

/* 64-bit volatile loads from the mapping: each really reads the device. */
static int same(const volatile void *mv, const unsigned char *want, size_t len)
{
	const volatile uint64_t *m = mv;
	uint64_t w;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		memcpy(&w, want + 8 * i, 8);
		if (m[i] != w)
			return 0;
	}
	return 1;
}

/* 64-bit volatile stores of @src (or zeroes) into the mapping. */
static void store(volatile void *mv, const unsigned char *src, size_t len)
{
	volatile uint64_t *m = mv;
	uint64_t w = 0;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		if (src)
			memcpy(&w, src + 8 * i, 8);
		m[i] = w;
	}
}

static int open_allocate(const char *sysfs, const char *bdf)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/p2pmem/allocate", sysfs, bdf);
	fd = open(path, O_RDWR);
	return fd < 0 ? -errno : fd;
}

static enum p2pdma_live_outcome outcome(ssize_t n, size_t len, int checked_ok, int *err)
{
	if (n < 0) {
		*err = -errno;
		return P2PDMA_LIVE_FAILED;
	}
	if ((size_t)n != len)
		return P2PDMA_LIVE_SHORT;
	return checked_ok ? P2PDMA_LIVE_MOVED : P2PDMA_LIVE_BAD_DATA;
}

P2PDMA_EXPORT int p2pdma_live_transfer(const struct p2pdma_live_xfer *x,
				       struct p2pdma_live_result *rout, size_t rsize)
{
	struct p2pdma_live_result r;
	unsigned char *ref = NULL, *pat = NULL, *back = NULL;
	char path[PATH_MAX];
	void *map = MAP_FAILED;
	int afd, bfd = -1;
	size_t len, i;
	ssize_t n;

	memset(&r, 0, sizeof(r));
	r.read_bytes = r.write_bytes = -1;
	if (!x || x->size < sizeof(*x) || !x->sysfs || !x->dev_dir || !x->provider ||
	    !x->blockdev || !x->len || (x->len | x->offset) % LIVE_PAGE || x->len > (1u << 30))
		return -EINVAL;
	len = (size_t)x->len;
	if (posix_memalign((void **)&ref, LIVE_PAGE, len) ||
	    posix_memalign((void **)&pat, LIVE_PAGE, len) ||
	    posix_memalign((void **)&back, LIVE_PAGE, len)) {
		free(ref);
		free(pat);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/%s", x->dev_dir, x->blockdev);
	bfd = open(path, (x->write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (bfd < 0) {
		r.ref_err = -errno;
		goto out;
	}
	/* The reference: the same bytes through ordinary memory. */
	n = pread(bfd, ref, len, (off_t)x->offset);
	if (n != (ssize_t)len) {
		r.ref_err = n < 0 ? -errno : -EIO;
		goto out;
	}
	afd = open_allocate(x->sysfs, x->provider);
	if (afd >= 0) {
		map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, afd, 0);
		if (map == MAP_FAILED)
			r.mmap_err = -errno;
		close(afd);	/* the mapping keeps the allocation */
	} else {
		r.mmap_err = afd;
	}
	if (map == MAP_FAILED)
		goto out;
	/* Disk -> p2pmem. Cleared first so that stale data cannot pass. */
	store(map, NULL, len);
	n = pread(bfd, map, len, (off_t)x->offset);
	r.read_bytes = n;
	r.read = outcome(n, len, n == (ssize_t)len && same(map, ref, len), &r.read_err);
	if (!x->write)
		goto out;
	/* p2pmem -> disk: a pattern the disk does not hold, read back. */
	for (i = 0; i < len; i++)
		pat[i] = (unsigned char)(ref[i] ^ 0xa5 ^ (i * 7));
	store(map, pat, len);
	n = pwrite(bfd, map, len, (off_t)x->offset);
	r.write_bytes = n;
	if (n > 0) {
		ssize_t m = pread(bfd, back, len, (off_t)x->offset);

		ssize_t w;

		r.write = outcome(n, len, m == (ssize_t)len && !memcmp(back, pat, len), &r.write_err);
		w = pwrite(bfd, ref, len, (off_t)x->offset);
		if (w != (ssize_t)len)
			r.restore_err = w < 0 ? -errno : -EIO;
	} else {
		r.write = outcome(n, len, 0, &r.write_err);
	}
out:
	if (map != MAP_FAILED)
		munmap(map, len);
	if (bfd >= 0)
		close(bfd);
	free(ref);
	free(pat);
	free(back);
	memcpy(rout, &r, rsize < sizeof(r) ? rsize : sizeof(r));
	return 0;
}

static int try_map(int fd, int flags, off_t off)
{
	void *m = mmap(NULL, LIVE_PAGE, PROT_READ | PROT_WRITE, flags, fd, off);

	if (m == MAP_FAILED)
		return -errno;
	munmap(m, LIVE_PAGE);
	return 0;
}

P2PDMA_EXPORT int p2pdma_live_mmap_rules(const char *sysfs, const char *bdf,
					 struct p2pdma_live_mmap_rules *out, size_t size)
{
	struct p2pdma_live_mmap_rules in;
	int fd = open_allocate(sysfs, bdf);

	memset(&in, 0, sizeof(in));
	if (fd < 0) {
		in.open_err = fd;
	} else {
		in.private_err = try_map(fd, MAP_PRIVATE, 0);
		in.offset_err = try_map(fd, MAP_SHARED, LIVE_PAGE);
		in.shared_err = try_map(fd, MAP_SHARED, 0);
		close(fd);
	}
	memcpy(out, &in, size < sizeof(in) ? size : sizeof(in));
	return 0;
}
