// SPDX-License-Identifier: LGPL-2.1-or-later
/* p2pcopy: O_DIRECT between NVMe namespaces and p2pmem mappings (conformance guest). */
/*
 * Built statically on the host (gcc -static -O2) and run as root inside the
 * conformance guest (spec §1.5 "O_DIRECT path"). Two modes:
 *
 *   p2pcopy pattern SERIAL SIZE
 *       write SIZE bytes of SERIAL's known pattern to stdout (the host fills
 *       each NVMe disk image with it before boot, so every drive has distinct,
 *       checkable contents).
 *   p2pcopy run
 *       for every ordered pair (provider with p2pmem, NVMe namespace whose
 *       controller is the client), including provider == client:
 *         mmap(MAP_SHARED) /sys/bus/pci/devices/P/p2pmem/allocate (offset 0),
 *         O_DIRECT pread() 4 KiB and 64 KiB from /dev/nvmeXn1 into the mapping
 *         and check the bytes with volatile loads against the pattern; O_DIRECT
 *         pwrite() 4 KiB from the mapping to the disk and read it back into
 *         ordinary memory to check it landed.
 *       Also the mmap error cases of the allocate file (MAP_PRIVATE, offset != 0).
 *       One line per operation on stdout:
 *         ODIRECT PROVIDER CLIENT NAMESPACE OP LEN RESULT DATA
 *       RESULT = bytes transferred or the errno name; DATA = ok|bad|-.
 *         MMAP PROVIDER CASE RESULT
 *       Markers "p2pcopy: begin P C" / "p2pcopy: end" go to /dev/kmsg so the
 *       kernel lines printed by the mapping path can be attributed.
 *
 * The CPU may read p2pmem through the user mapping in this guest (QEMU TCG,
 * x86): loads are volatile so each byte is really read from the BAR.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAP_LEN   (64 * 1024)
#define REC       32
#define WR_OFF    (512 * 1024) /* disk offset of the write test */

/* Byte `off` of SERIAL's pattern: 32-byte records "SERIAL@OFFSET....\n". */
static unsigned char pattern_byte(const char *serial, unsigned long off)
{
	char rec[REC + 16];
	unsigned long r = off / REC * REC;
	int n = snprintf(rec, sizeof(rec), "%.12s@%08lx", serial, r);

	for (; n < REC - 1; n++)
		rec[n] = '.';
	rec[REC - 1] = '\n';
	return (unsigned char)rec[off % REC];
}

/* LEN bytes of the pattern from disk offset OFF (OFF, LEN multiples of REC):
 * one snprintf per record, as per-byte formatting is slow under TCG */
static void fill_pattern(unsigned char *buf, const char *serial, unsigned long off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += REC) {
		char rec[REC + 16];
		int n = snprintf(rec, sizeof(rec), "%.12s@%08lx", serial, off + i);

		for (; n < REC - 1; n++)
			rec[n] = '.';
		rec[REC - 1] = '\n';
		memcpy(buf + i, rec, REC);
	}
}

static const char *errname(int e)
{
	switch (e) {
	case EREMOTEIO: return "EREMOTEIO";
	case EINVAL: return "EINVAL";
	case EIO: return "EIO";
	case ENOMEM: return "ENOMEM";
	case ENODEV: return "ENODEV";
	case EFAULT: return "EFAULT";
	case ENXIO: return "ENXIO";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: {
		static char buf[32];

		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
	}
}

/* bounded copy; names here are short sysfs/dev names, truncation is harmless */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

/* basename of a symlink's target, e.g. .../0000:03:00.0 */
static int link_base(const char *path, char *buf, size_t len)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof(t) - 1);
	const char *b;

	if (n < 0)
		return -1;
	t[n] = 0;
	b = strrchr(t, '/');
	copy_str(buf, len, b ? b + 1 : t);
	return 0;
}

static void kmsg(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, msg, strlen(msg)) < 0)
			perror("kmsg");
		close(fd);
	}
}

struct ns {
	char name[32];   /* nvme0n1 */
	char bdf[32];    /* PCI function of its controller (the DMA client) */
	char serial[32];
};

static int find_namespaces(struct ns *v, int max)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char p[PATH_MAX], ctrl[64];

		if (strncmp(e->d_name, "nvme", 4) != 0)
			continue;
		/* /sys/block/nvmeXn1/device -> ../../nvmeX (the controller) */
		snprintf(p, sizeof(p), "/sys/block/%s/device", e->d_name);
		if (link_base(p, ctrl, sizeof(ctrl)))
			continue;
		snprintf(p, sizeof(p), "/sys/class/nvme/%s/device", ctrl);
		if (link_base(p, v[n].bdf, sizeof(v[n].bdf)))
			continue;
		snprintf(p, sizeof(p), "/sys/class/nvme/%s/serial", ctrl);
		if (read_line(p, v[n].serial, sizeof(v[n].serial)))
			continue;
		copy_str(v[n].name, sizeof(v[n].name), e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static int find_providers(char v[][32], int max)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char p[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/p2pmem/allocate", e->d_name);
		if (access(p, F_OK) == 0)
			copy_str(v[n++], 32, e->d_name);
	}
	closedir(d);
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int cmp_ns(const void *a, const void *b)
{
	return strcmp(((const struct ns *)a)->bdf, ((const struct ns *)b)->bdf);
}

static unsigned char want[MAP_LEN] __attribute__((aligned(8)));

/* volatile 64-bit loads from the mapping (each really reads the BAR; fewer
 * MMIO exits than byte loads), compared with the pattern */
static const char *check(const volatile void *mv, size_t len, const char *serial,
			 unsigned long disk_off)
{
	const volatile uint64_t *m = mv;
	uint64_t w;
	size_t i;

	fill_pattern(want, serial, disk_off, len);
	for (i = 0; i < len / 8; i++) {
		memcpy(&w, want + 8 * i, 8);
		if (m[i] != w)
			return "bad";
	}
	return "ok";
}

/* volatile 64-bit stores of SRC (or zeroes) into the mapping */
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

static void mmap_cases(const char *prov)
{
	char p[PATH_MAX];
	int fd;
	void *m;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/p2pmem/allocate", prov);
	fd = open(p, O_RDWR);
	if (fd < 0) {
		printf("MMAP %s open %s\n", prov, errname(errno));
		return;
	}
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("MMAP %s private %s\n", prov, m == MAP_FAILED ? errname(errno) : "0");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
	printf("MMAP %s offset4096 %s\n", prov, m == MAP_FAILED ? errname(errno) : "0");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("MMAP %s shared %s\n", prov, m == MAP_FAILED ? errname(errno) : "0");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	close(fd);
}

static void one_pair(const char *prov, const struct ns *c, unsigned char *bounce)
{
	static const struct { const char *op; size_t len; unsigned long disk_off; } rd[] = {
		{ "read", 4096, 3 * 4096 },
		{ "read", MAP_LEN, 0 },
	};
	char p[PATH_MAX], msg[PATH_MAX];
	volatile unsigned char *m;
	void *mv;
	size_t i;
	int fd, bfd;

	snprintf(msg, sizeof(msg), "p2pcopy: begin %s %s\n", prov, c->bdf);
	kmsg(msg);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/p2pmem/allocate", prov);
	fd = open(p, O_RDWR);
	mv = fd < 0 ? MAP_FAILED : mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mv == MAP_FAILED) {
		printf("ODIRECT %s %s %s mmap %d %s -\n", prov, c->bdf, c->name, MAP_LEN, errname(errno));
		goto out;
	}
	m = mv;
	snprintf(p, sizeof(p), "/dev/%s", c->name);
	bfd = open(p, O_RDWR | O_DIRECT);
	if (bfd < 0) {
		printf("ODIRECT %s %s %s open 0 %s -\n", prov, c->bdf, c->name, errname(errno));
		goto unmap;
	}
	for (i = 0; i < sizeof(rd) / sizeof(rd[0]); i++) {
		ssize_t n;

		store(m, NULL, rd[i].len); /* clear so stale data cannot pass */
		n = pread(bfd, mv, rd[i].len, (off_t)rd[i].disk_off);
		if (n < 0)
			printf("ODIRECT %s %s %s %s %zu %s -\n", prov, c->bdf, c->name, rd[i].op,
			       rd[i].len, errname(errno));
		else
			printf("ODIRECT %s %s %s %s %zu %zd %s\n", prov, c->bdf, c->name, rd[i].op,
			       rd[i].len, n, (size_t)n == rd[i].len ?
			       check(m, rd[i].len, c->serial, rd[i].disk_off) : "-");
	}
	/* write direction: pattern bytes of disk offset WR_OFF+4096 put into p2pmem by
	 * the CPU, O_DIRECT-written to WR_OFF, read back into ordinary memory */
	{
		ssize_t n;
		const char *data = "-";

		fill_pattern(bounce, c->serial, WR_OFF + 4096, 4096);
		store(m, bounce, 4096);
		n = pwrite(bfd, mv, 4096, WR_OFF);
		if (n == 4096) {
			data = "bad";
			if (pread(bfd, bounce, 4096, WR_OFF) == 4096) {
				data = check(bounce, 4096, c->serial, WR_OFF + 4096);
			}
		}
		if (n < 0)
			printf("ODIRECT %s %s %s write 4096 %s -\n", prov, c->bdf, c->name, errname(errno));
		else
			printf("ODIRECT %s %s %s write 4096 %zd %s\n", prov, c->bdf, c->name, n, data);
		/* restore the original block so later pairs read the pattern */
		fill_pattern(bounce, c->serial, WR_OFF, 4096);
		if (pwrite(bfd, bounce, 4096, WR_OFF) != 4096)
			perror("restore");
	}
	close(bfd);
unmap:
	munmap(mv, MAP_LEN);
out:
	if (fd >= 0)
		close(fd);
	fflush(stdout);
	kmsg("p2pcopy: end\n");
}

int main(int argc, char **argv)
{
	static struct ns ns[16];
	static char prov[16][32];
	unsigned char *bounce;
	int nn, np, i, j;

	if (argc == 4 && strcmp(argv[1], "pattern") == 0) {
		unsigned long size = strtoul(argv[3], NULL, 0), o;

		for (o = 0; o < size; o++)
			putchar(pattern_byte(argv[2], o));
		return ferror(stdout) ? 1 : 0;
	}
	if (argc != 2 || strcmp(argv[1], "run") != 0) {
		fprintf(stderr, "usage: p2pcopy pattern SERIAL SIZE | p2pcopy run\n");
		return 2;
	}
	if (posix_memalign((void **)&bounce, 4096, 4096))
		return 1;
	nn = find_namespaces(ns, 16);
	np = find_providers(prov, 16);
	qsort(ns, (size_t)nn, sizeof(ns[0]), cmp_ns);
	qsort(prov, (size_t)np, sizeof(prov[0]), cmp_str);
	for (i = 0; i < nn; i++)
		printf("NS %s %s %s\n", ns[i].name, ns[i].bdf, ns[i].serial);
	/* control: O_DIRECT into ordinary memory must see each drive's pattern */
	for (i = 0; i < nn; i++) {
		char p[PATH_MAX];
		int fd;
		ssize_t n;

		snprintf(p, sizeof(p), "/dev/%s", ns[i].name);
		fd = open(p, O_RDONLY | O_DIRECT);
		n = fd < 0 ? -1 : pread(fd, bounce, 4096, 4096);
		printf("CONTROL %s %s %s\n", ns[i].name, n < 0 ? errname(errno) : "4096",
		       n == 4096 ? check(bounce, 4096, ns[i].serial, 4096) : "-");
		if (fd >= 0)
			close(fd);
	}
	fflush(stdout);
	for (i = 0; i < np; i++)
		mmap_cases(prov[i]);
	for (i = 0; i < np; i++)
		for (j = 0; j < nn; j++)
			one_pair(prov[i], &ns[j], bounce);
	printf("END\n");
	free(bounce);
	return 0;
}
