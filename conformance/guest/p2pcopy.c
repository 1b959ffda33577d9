// SPDX-License-Identifier: LGPL-2.1-or-later
/* p2pcopy: O_DIRECT between NVMe namespaces and p2pmem mappings (conformance guest). */
/*
 * Built statically on the host (gcc -static -O2) and run as root inside the
 * conformance guest (doc/kernel-model.md §1.5 "O_DIRECT path"). Two modes:
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
 *   p2pcopy nvmet
 *       the NVMe target's p2pmem attribute (configfs must be mounted at
 *       /sys/kernel/config): for every NVMe namespace, one NVMe target
 *       namespace backed by it per value written to its `p2pmem`
 *       attribute (each function with a p2pmem/ directory by name, then
 *       "1"), and on the first namespace also "0", "y", a function without
 *       p2pmem, a name no function has, a provider's short name, "maybe",
 *       and "1" with buffered_io (nvmet then opens the disk as a file).
 *       Each value is written as echo writes it (a trailing newline); then
 *       the namespace is enabled, read back, disabled and removed. One line
 *       per case:
 *         NVMET ID DEVICE_PATH CLIENT BACKING VALUE STORE SHOW ENABLE ENABLED
 *       CLIENT = the namespace's controller function, BACKING = bdev|buffered,
 *       STORE / ENABLE = ok or the errno name of the write, SHOW / ENABLED =
 *       the attributes read back. Markers "p2pdma-conformance: nvmet ID
 *       store|enable|end" go to /dev/kmsg around the two writes.
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
#include <sys/stat.h>
#include <unistd.h>

/* The product's p2pmem code (libc only): sysfs walks, mmap rules, transfers. */
#include "../../lib/p2pmem-live.c"

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
	case EBUSY: return "EBUSY";
	case ENOTBLK: return "ENOTBLK";
	case EEXIST: return "EEXIST";
	case ENOTTY: return "ENOTTY";
	default: {
		static char buf[32];

		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
	}
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
	char serial[64];
};

/* NVMe namespaces (the product's block-device walk, nvme ones with a serial) */
static int find_namespaces(struct ns *v, int max)
{
	struct p2pdma_live_blockdev bd;
	char after[32] = "";
	int n = 0;

	while (n < max && p2pdma_live_blockdev_next("/sys", after[0] ? after : NULL, &bd, sizeof(bd)) == 0) {
		snprintf(after, sizeof(after), "%s", bd.name);
		if (strncmp(bd.name, "nvme", 4) || !bd.serial[0])
			continue;
		snprintf(v[n].name, sizeof(v[n].name), "%s", bd.name);
		snprintf(v[n].bdf, sizeof(v[n].bdf), "%s", bd.bdf);
		snprintf(v[n].serial, sizeof(v[n].serial), "%s", bd.serial);
		n++;
	}
	return n;
}

/* providers with p2pmem/allocate, in BDF order (the product's walk) */
static int find_providers(char v[][32], int max)
{
	char bdf[32], after[32] = "";
	int n = 0;

	while (n < max && p2pdma_live_provider_next("/sys", after[0] ? after : NULL, bdf, sizeof(bdf)) == 0) {
		struct p2pdma_live_p2pmem pm;

		snprintf(after, sizeof(after), "%s", bdf);
		if (!p2pdma_live_p2pmem_read("/sys", bdf, &pm, sizeof(pm)) && pm.allocate)
			snprintf(v[n++], 32, "%s", bdf);
	}
	return n;
}

static int cmp_ns(const void *a, const void *b)
{
	return strcmp(((const struct ns *)a)->bdf, ((const struct ns *)b)->bdf);
}

static unsigned char want[MAP_LEN] __attribute__((aligned(8)));

/* bytes of ordinary memory compared with SERIAL's pattern at DISK_OFF */
static const char *check(const unsigned char *m, size_t len, const char *serial,
			 unsigned long disk_off)
{
	fill_pattern(want, serial, disk_off, len);
	return memcmp(m, want, len) ? "bad" : "ok";
}

static void mmap_cases(const char *prov)
{
	struct p2pdma_live_mmap_rules r;

	p2pdma_live_mmap_rules("/sys", prov, &r, sizeof(r));
	if (r.open_err) {
		printf("MMAP %s open %s\n", prov, errname(-r.open_err));
		return;
	}
	printf("MMAP %s private %s\n", prov, r.private_err ? errname(-r.private_err) : "0");
	printf("MMAP %s offset4096 %s\n", prov, r.offset_err ? errname(-r.offset_err) : "0");
	printf("MMAP %s shared %s\n", prov, r.shared_err ? errname(-r.shared_err) : "0");
}

/* one ODIRECT line from the product's transfer result */
static void report(const char *prov, const struct ns *c, const char *op, size_t len,
		   const struct p2pdma_live_result *r, int write)
{
	enum p2pdma_live_outcome o = write ? r->write : r->read;
	int err = write ? r->write_err : r->read_err;
	long long n = write ? r->write_bytes : r->read_bytes;

	if (r->ref_err)
		printf("ODIRECT %s %s %s open 0 %s -\n", prov, c->bdf, c->name, errname(-r->ref_err));
	else if (r->mmap_err)
		printf("ODIRECT %s %s %s mmap %d %s -\n", prov, c->bdf, c->name, MAP_LEN,
		       errname(-r->mmap_err));
	else if (o == P2PDMA_LIVE_FAILED)
		printf("ODIRECT %s %s %s %s %zu %s -\n", prov, c->bdf, c->name, op, len, errname(-err));
	else
		printf("ODIRECT %s %s %s %s %zu %lld %s\n", prov, c->bdf, c->name, op, len, n,
		       o == P2PDMA_LIVE_MOVED ? "ok" : o == P2PDMA_LIVE_BAD_DATA ? "bad" : "-");
}

/*
 * The transfers are the product's p2pdma_live_transfer(): the bytes that
 * arrive in the mapping are compared with the same read into ordinary
 * memory (the CONTROL line shows that read gives the drive's pattern); the
 * write puts a pattern the disk does not hold through the mapping, reads
 * it back and restores the block.
 */
static void one_pair(const char *prov, const struct ns *c)
{
	static const struct { size_t len; unsigned long disk_off; } rd[] = {
		{ 4096, 3 * 4096 },
		{ MAP_LEN, 0 },
	};
	struct p2pdma_live_xfer x = { sizeof(x), "/sys", "/dev", prov, c->name, 0, 0, 0 };
	struct p2pdma_live_result r;
	char msg[PATH_MAX];
	size_t i;

	snprintf(msg, sizeof(msg), "p2pcopy: begin %s %s\n", prov, c->bdf);
	kmsg(msg);
	for (i = 0; i < sizeof(rd) / sizeof(rd[0]); i++) {
		x.offset = rd[i].disk_off;
		x.len = rd[i].len;
		x.write = 0;
		p2pdma_live_transfer(&x, &r, sizeof(r));
		report(prov, c, "read", rd[i].len, &r, 0);
		if (r.ref_err || r.mmap_err)
			goto out;
	}
	x.offset = WR_OFF;
	x.len = 4096;
	x.write = 1;
	p2pdma_live_transfer(&x, &r, sizeof(r));
	report(prov, c, "write", 4096, &r, 1);
	if (r.restore_err)
		perror("restore");
out:
	fflush(stdout);
	kmsg("p2pcopy: end\n");
}

/* --- nvmet --- */

#define NVMET_ROOT "/sys/kernel/config/nvmet/subsystems"

/* write TEXT to PATH in one write(): 0 or -errno */
static int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), err = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

/* the first line of PATH, or "-" */
static void get(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "-");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static const char *res(int err)
{
	return err ? errname(-err) : "ok";
}

static void nvmet_case(int id, const struct ns *n, const char *value, int buffered)
{
	char sub[128], nsd[192], f[256], text[128], show[128], en[16];
	char dev[64], msg[128];
	int store, enable, e;

	snprintf(sub, sizeof(sub), NVMET_ROOT "/p2pdma-conf-%d", id);
	snprintf(nsd, sizeof(nsd), "%s/namespaces/1", sub);
	snprintf(dev, sizeof(dev), "/dev/%s", n->name);
	if (mkdir(sub, 0755) || mkdir(nsd, 0755)) {
		printf("NVMET %d %s %s %s %s mkdir:%s - - -\n", id, dev, n->bdf,
		       buffered ? "buffered" : "bdev", value, errname(errno));
		rmdir(sub);
		return;
	}
	snprintf(f, sizeof(f), "%s/device_path", nsd);
	snprintf(text, sizeof(text), "%s\n", dev);
	e = put(f, text);
	if (!e && buffered) {
		snprintf(f, sizeof(f), "%s/buffered_io", nsd);
		e = put(f, "1\n");
	}
	if (e)
		fprintf(stderr, "nvmet %d: set-up: %s\n", id, errname(-e));
	snprintf(msg, sizeof(msg), "p2pdma-conformance: nvmet %d store\n", id);
	kmsg(msg);
	snprintf(f, sizeof(f), "%s/p2pmem", nsd);
	snprintf(text, sizeof(text), "%s\n", value);
	store = put(f, text);
	get(f, show, sizeof(show));
	snprintf(msg, sizeof(msg), "p2pdma-conformance: nvmet %d enable\n", id);
	kmsg(msg);
	snprintf(f, sizeof(f), "%s/enable", nsd);
	enable = put(f, "1\n");
	get(f, en, sizeof(en));
	snprintf(msg, sizeof(msg), "p2pdma-conformance: nvmet %d end\n", id);
	kmsg(msg);
	put(f, "0\n");
	if (rmdir(nsd) || rmdir(sub))
		fprintf(stderr, "nvmet %d: cleanup: %s\n", id, errname(errno));
	printf("NVMET %d %s %s %s %s %s %s %s %s\n", id, dev, n->bdf, buffered ? "buffered" : "bdev",
	       value, res(store), show, res(enable), en);
	fflush(stdout);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int nvmet_run(void)
{
	static struct ns ns[16];
	static char prov[16][32], fn[256][32];
	char after[32] = "", bdf[32];
	int nn, np = 0, nf = 0, id = 0, i, j;
	const char *plain = NULL;
	DIR *d;
	struct dirent *e;

	if (access(NVMET_ROOT, F_OK)) {
		printf("NVMET-SKIP %s: %s\n", NVMET_ROOT, strerror(errno));
		return 1;
	}
	nn = find_namespaces(ns, 16);
	qsort(ns, (size_t)nn, sizeof(ns[0]), cmp_ns);
	/* every function with a p2pmem/ directory (published or not, 6.1 too) */
	while (np < 16 && p2pdma_live_provider_next("/sys", after[0] ? after : NULL, bdf, sizeof(bdf)) == 0) {
		snprintf(after, sizeof(after), "%s", bdf);
		snprintf(prov[np++], 32, "%s", bdf);
	}
	/* the first function (in name order) without one */
	d = opendir("/sys/bus/pci/devices");
	while (d && (e = readdir(d)) && nf < 256)
		if (e->d_name[0] != '.')
			snprintf(fn[nf++], 32, "%.31s", e->d_name);
	if (d)
		closedir(d);
	qsort(fn, (size_t)nf, sizeof(fn[0]), cmp_str);
	for (i = 0; i < nf && !plain; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%.31s/p2pmem", fn[i]);
		if (access(p, F_OK))
			plain = fn[i];
	}
	for (j = 0; j < nn; j++) {
		for (i = 0; i < np; i++)
			nvmet_case(id++, &ns[j], prov[i], 0);
		nvmet_case(id++, &ns[j], "1", 0);
	}
	if (nn) {
		nvmet_case(id++, &ns[0], "0", 0);
		nvmet_case(id++, &ns[0], "y", 0);
		if (plain)
			nvmet_case(id++, &ns[0], plain, 0);
		nvmet_case(id++, &ns[0], "0000:ff:1f.7", 0);
		if (np)
			nvmet_case(id++, &ns[0], prov[0] + 5, 0);	/* "01:00.0" */
		nvmet_case(id++, &ns[0], "maybe", 0);
		nvmet_case(id++, &ns[0], "1", 1);
	}
	printf("END\n");
	return 0;
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
	if (argc == 2 && strcmp(argv[1], "nvmet") == 0)
		return nvmet_run();
	if (argc != 2 || strcmp(argv[1], "run") != 0) {
		fprintf(stderr, "usage: p2pcopy pattern SERIAL SIZE | p2pcopy run | p2pcopy nvmet\n");
		return 2;
	}
	if (posix_memalign((void **)&bounce, 4096, 4096))
		return 1;
	nn = find_namespaces(ns, 16);
	np = find_providers(prov, 16);
	qsort(ns, (size_t)nn, sizeof(ns[0]), cmp_ns);
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
			one_pair(prov[i], &ns[j]);
	printf("END\n");
	free(bounce);
	return 0;
}
