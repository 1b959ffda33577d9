// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-sources.c - libpci sources: captured dumps and sysfs trees, the live machine, bad input */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"

/* Names of fixture files under tests/fixtures/@sub ending in @suffix. */
static size_t list_fixtures(const char *sub, const char *suffix,
			    char names[][256], size_t max)
{
	size_t n = 0, sl = strlen(suffix);
	struct dirent *e;
	DIR *d = opendir(fixture_path(sub));

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		size_t l = strlen(e->d_name);

		if (l > sl && l < 256 && !strcmp(e->d_name + l - sl, suffix))
			snprintf(names[n++], 256, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

static struct p2pdma_topo *load_dump_ok(struct p2pdma_ctx *ctx, const char *path)
{
	struct p2pdma_topo *t = NULL;
	int ret = p2pdma_topo_load_dump(ctx, path, &t);

	if (ret)
		print_error("%s: %s\n", path, p2pdma_ctx_error(ctx));
	assert_int_equal(ret, 0);
	assert_non_null(t);
	assert_int_equal(p2pdma_topo_source(t), P2PDMA_SRC_DUMP);
	assert_true(p2pdma_topo_num_devs(t) > 0);
	fixture_assert_invariants(t);
	return t;
}

/* Untar a captured tree; returns the temp dir, *root gets DIR/sysfs. */
static char *untar(const char *tgz, char *root, size_t len)
{
	char *tmp = fixture_tmpdir();
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "tar -xzf '%s' -C '%s'", tgz, tmp);
	assert_int_equal(system(cmd), 0);
	snprintf(root, len, "%s/sysfs", tmp);
	return tmp;
}

/* Export @a as a dump, load it back, and demand equal config space. */
static void assert_dump_roundtrip(struct p2pdma_ctx *ctx, const struct p2pdma_topo *a)
{
	char *tmp = fixture_tmpdir();
	char path[4096], diff[512] = "";
	struct p2pdma_topo *b;
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/export.lspci", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(p2pdma_topo_export_dump(a, f), 0);
	assert_int_equal(fclose(f), 0);
	b = load_dump_ok(ctx, path);
	ret = !p2pdma_topo_equal(a, b, P2PDMA_CMP_CONFIG, diff, sizeof(diff));
	if (ret)
		print_error("%s: dump round trip: %s\n", p2pdma_topo_name(a), diff);
	assert_int_equal(ret, 0);
	p2pdma_topo_destroy(b);
	fixture_rmtree(tmp);
	free(tmp);
}

static void test_dump_fixtures(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	char names[64][256], rel[300];
	size_t i, n = list_fixtures("dumps", ".lspci", names, 64);

	(void)state;
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		struct p2pdma_topo *t;

		snprintf(rel, sizeof(rel), "dumps/%s", names[i]);
		t = load_dump_ok(ctx, fixture_path(rel));
		assert_dump_roundtrip(ctx, t);
		p2pdma_topo_destroy(t);
	}
	p2pdma_ctx_destroy(ctx);
}

static void test_sysfs_fixtures(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	char names[16][256], rel[300], root[4096], diff[512];
	size_t i, j, n = list_fixtures("sysfs", ".tar.gz", names, 16);

	(void)state;
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		struct p2pdma_topo *t = NULL, *d;
		bool sized = false;
		char *tmp;
		int ret;

		snprintf(rel, sizeof(rel), "sysfs/%s", names[i]);
		tmp = untar(fixture_path(rel), root, sizeof(root));
		ret = p2pdma_topo_load_sysfs(ctx, root, &t);
		if (ret)
			print_error("%s: %s\n", root, p2pdma_ctx_error(ctx));
		assert_int_equal(ret, 0);
		assert_int_equal(p2pdma_topo_source(t), P2PDMA_SRC_SYSFS);
		fixture_assert_invariants(t);
		/* sysfs knows what config space cannot: resource sizes. */
		for (j = 0; j < p2pdma_topo_num_devs(t); j++) {
			const struct p2pdma_dev *dev = p2pdma_topo_dev(t, j);
			int b;

			for (b = 0; b < P2PDMA_NUM_BARS; b++)
				if (dev->bars[b].size && dev->bars[b].cpu)
					sized = true;
		}
		assert_true(sized);

		/* The dump of the same machine sees the same config space. */
		names[i][strlen(names[i]) - strlen(".tar.gz")] = '\0';
		snprintf(rel, sizeof(rel), "dumps/%s.lspci", names[i]);
		if (!access(fixture_path(rel), R_OK)) {
			d = load_dump_ok(ctx, fixture_path(rel));
			diff[0] = '\0';
			ret = !p2pdma_topo_equal(t, d, P2PDMA_CMP_CONFIG, diff, sizeof(diff));
			if (ret)
				print_error("%s vs %s: %s\n", names[i], rel, diff);
			assert_int_equal(ret, 0);
			p2pdma_topo_destroy(d);
		}
		assert_dump_roundtrip(ctx, t);
		p2pdma_topo_destroy(t);
		fixture_rmtree(tmp);
		free(tmp);
	}
	p2pdma_ctx_destroy(ctx);
}

static void test_live(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_machine_info mi;
	struct p2pdma_topo *t = NULL, *d = NULL;
	char *tmp, path[4096], cmd[8300], diff[512] = "";
	bool vfs = false;
	size_t i;
	int ret;

	(void)state;
	if (access("/sys/bus/pci/devices", R_OK)) {
		p2pdma_ctx_destroy(ctx);
		skip();
	}
	ret = p2pdma_topo_load_live(ctx, &t);
	if (ret)
		print_error("live: %s\n", p2pdma_ctx_error(ctx));
	assert_int_equal(ret, 0);
	assert_int_equal(p2pdma_topo_source(t), P2PDMA_SRC_LIVE);
	fixture_assert_invariants(t);
	p2pdma_topo_machine(t, &mi);
	assert_non_null(mi.kernel);
	assert_non_null(mi.arch);
	assert_true(mi.iommu == 0 || mi.iommu == 1);

	/*
	 * Real lspci as the oracle: its dump of this machine, read back,
	 * has the same config space as our live read (both see 64 bytes
	 * as non-root, so ACS is unknown in both).
	 */
	/*
	 * Not with VFs: their registers read ffff and zero BARs in a dump,
	 * while sysfs shows the kernel's identity and resources for them.
	 */
	for (i = 0; i < p2pdma_topo_num_devs(t); i++)
		if (p2pdma_topo_dev(t, i)->is_vf)
			vfs = true;
	tmp = fixture_tmpdir();
	snprintf(path, sizeof(path), "%s/live.lspci", tmp);
	snprintf(cmd, sizeof(cmd), "lspci -xxxx > '%s' 2>/dev/null", path);
	if (!vfs && system(cmd) == 0) {
		d = load_dump_ok(ctx, path);
		ret = !p2pdma_topo_equal(t, d, P2PDMA_CMP_CONFIG, diff, sizeof(diff));
		if (ret)
			print_error("live vs lspci -xxxx: %s\n", diff);
		assert_int_equal(ret, 0);
		p2pdma_topo_destroy(d);
	}
	assert_dump_roundtrip(ctx, t);
	fixture_rmtree(tmp);
	free(tmp);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

/* One bad dump: its text, the errno, and a piece the message must hold. */
struct bad_case {
	const char *what;
	const char *text;
	int err;
	const char *needle;	/* "%s" is replaced by the file path */
};

#define ROW0 "00: 86 80 57 0d 06 00 00 00 00 00 00 06 00 00 00 00\n"
#define ROW(o) o ": 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
#define DEV64 ROW0 ROW("10") ROW("20") ROW("30")

static const struct bad_case bad_dumps[] = {
	{ "empty", "", -EINVAL, "%s:0: no devices" },
	{ "garbage", "hello world\nthis is not lspci\n", -EINVAL, "%s:2: no devices" },
	{ "bad byte", "00:00.0 Host bridge: x\n" ROW0
	  "10: 00 00 zz 00 00 00 00 00 00 00 00 00 00 00 00 00\n",
	  -EINVAL, "%s:3: malformed byte" },
	{ "truncated row", "00:00.0 Host bridge: x\n" ROW0 ROW("10") ROW("20")
	  "30: 00 00 00 00 00\n", -EINVAL, "%s:5: truncated row" },
	{ "out of order", "00:00.0 Host bridge: x\n" ROW0 ROW("20") ROW("10") ROW("30"),
	  -EINVAL, "%s:3: row at offset 20, expected 10" },
	{ "short device", "00:00.0 Host bridge: x\n" ROW0 ROW("10") "\n",
	  -EINVAL, "%s:1: 0000:00:00.0 has 32 bytes" },
	{ "row outside device", "00:00.0 Host bridge: x\n" DEV64 "\n" ROW("40"),
	  -EINVAL, "%s:7: config row outside a device" },
	{ "duplicate", "00:00.0 x\n" DEV64 "\n00:00.0 x\n" DEV64,
	  -EINVAL, "%s:7: 0000:00:00.0 appears twice" },
	{ "device out of range", "00:20.0 x\n" DEV64, -EINVAL, "%s:1: device address out of range" },
	{ "no final newline", "00:00.0 x\n" ROW0 ROW("10") ROW("20")
	  "30: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
	  -EINVAL, "%s:5: last line has no newline" },
	{ "past 4096", "00:00.0 x\n" DEV64 "1000: 00\n", -EINVAL, "%s:6: row at offset 1000" },
};

static void test_bad_dumps(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	char *tmp = fixture_tmpdir();
	char path[4096], want[8192];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_dumps) / sizeof(bad_dumps[0]); i++) {
		const struct bad_case *c = &bad_dumps[i];
		struct p2pdma_topo *t = (struct p2pdma_topo *)1;
		FILE *f;
		int ret;

		snprintf(path, sizeof(path), "%s/bad-%zu.lspci", tmp, i);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(c->text, f);
		fclose(f);
		ret = p2pdma_topo_load_dump(ctx, path, &t);
		snprintf(want, sizeof(want), c->needle, path);
		if (ret != c->err || !strstr(p2pdma_ctx_error(ctx), want))
			print_error("case '%s': ret %d, message '%s', want %d '%s'\n",
				    c->what, ret, p2pdma_ctx_error(ctx), c->err, want);
		assert_int_equal(ret, c->err);
		assert_non_null(strstr(p2pdma_ctx_error(ctx), want));
		assert_null(t);
	}

	/* A missing file is ENOENT, named. */
	snprintf(path, sizeof(path), "%s/missing.lspci", tmp);
	assert_int_equal(p2pdma_topo_load_dump(ctx, path, &(struct p2pdma_topo *){ NULL }),
			 -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(p2pdma_ctx_error(ctx), want);

	/* lspci -v text between rows is ignored, as libpci ignores it. */
	snprintf(path, sizeof(path), "%s/verbose.lspci", tmp);
	{
		FILE *f = fopen(path, "w");
		struct p2pdma_topo *t = NULL;

		assert_non_null(f);
		fputs("00:00.0 Host bridge: Intel Corporation Device 0d57\n"
		      "\tControl: I/O- Mem+ BusMaster+\n" DEV64 "\n", f);
		fclose(f);
		t = load_dump_ok(ctx, path);
		assert_int_equal(p2pdma_topo_num_devs(t), 1);
		p2pdma_topo_destroy(t);
	}
	fixture_rmtree(tmp);
	free(tmp);
	p2pdma_ctx_destroy(ctx);
}

/* Bad sysfs trees: named errors, and libpci's fatal errors come back as -EIO. */
static void test_bad_sysfs(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	char root[4096], path[4300], want[4400], *tmp, *empty;
	struct p2pdma_topo *t = NULL;
	char names[16][256], rel[300];

	(void)state;
	empty = fixture_tmpdir();
	snprintf(path, sizeof(path), "%s/nope", empty);
	assert_int_equal(p2pdma_topo_load_sysfs(ctx, path, &t), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(p2pdma_ctx_error(ctx), want);
	assert_int_equal(p2pdma_topo_load_sysfs(ctx, empty, &t), -ENOENT);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "bus/pci/devices"));
	fixture_rmtree(empty);
	free(empty);

	if (!list_fixtures("sysfs", ".tar.gz", names, 16)) {
		p2pdma_ctx_destroy(ctx);
		skip();
	}
	snprintf(rel, sizeof(rel), "sysfs/%s", names[0]);

	/* A function without `resource`: libpci would have exited. */
	tmp = untar(fixture_path(rel), root, sizeof(root));
	snprintf(path, sizeof(path), "cd '%s/bus/pci/devices' && "
		 "for d in *; do rm \"$(readlink -f \"$d\")/resource\"; break; done", root);
	assert_int_equal(system(path), 0);
	assert_int_equal(p2pdma_topo_load_sysfs(ctx, root, &t), -EIO);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "/resource"));
	assert_null(t);
	fixture_rmtree(tmp);
	free(tmp);

	/* An entry libpci cannot parse: caught before libpci sees it. */
	tmp = untar(fixture_path(rel), root, sizeof(root));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/junk", root);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(p2pdma_topo_load_sysfs(ctx, root, &t), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a PCI function address", path);
	assert_string_equal(p2pdma_ctx_error(ctx), want);
	fixture_rmtree(tmp);
	free(tmp);
	p2pdma_ctx_destroy(ctx);
}

/*
 * lspci -x (64 bytes) and -xxx (256 bytes) dumps: a function that has ACS
 * (or is PCIe) in the full dump is "unknown" in the short one, never
 * "absent"; nothing is known to have ACS or SR-IOV.
 */
static void test_short_dumps(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	char names[64][256], rel[300], full[300];
	size_t i, j, n = list_fixtures("dumps", ".lspci", names, 64), seen = 0;

	(void)state;
	for (i = 0; i < n; i++) {
		char *dash = strrchr(names[i], '-');
		struct p2pdma_topo *t, *f;

		if (!dash || (strcmp(dash, "-x.lspci") && strcmp(dash, "-xxx.lspci")))
			continue;
		seen++;
		snprintf(rel, sizeof(rel), "dumps/%s", names[i]);
		snprintf(full, sizeof(full), "dumps/%.*s.lspci",
			 (int)(dash - names[i]), names[i]);
		t = load_dump_ok(ctx, fixture_path(rel));
		f = load_dump_ok(ctx, fixture_path(full));
		assert_int_equal(p2pdma_topo_num_devs(t), p2pdma_topo_num_devs(f));
		for (j = 0; j < p2pdma_topo_num_devs(t); j++) {
			const struct p2pdma_dev *d = p2pdma_topo_dev(t, j);
			const struct p2pdma_dev *fd = p2pdma_topo_dev(f, j);

			assert_string_equal(p2pdma_dev_name(d), p2pdma_dev_name(fd));
			if (fd->acs_state == P2PDMA_ACS_PRESENT ||
			    fd->pcie_type != P2PDMA_PCIE_NONE)
				assert_int_equal(d->acs_state, P2PDMA_ACS_UNKNOWN);
			assert_int_not_equal(d->acs_state, P2PDMA_ACS_PRESENT);
			assert_false(d->has_sriov);
			/* The header is all there: identity and bus numbers agree. */
			assert_int_equal(d->vendor, fd->vendor);
			assert_int_equal(d->secondary, fd->secondary);
		}
		p2pdma_topo_destroy(f);
		p2pdma_topo_destroy(t);
	}
	assert_true(seen >= 2);
	p2pdma_ctx_destroy(ctx);
}

static void test_export_examples(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	size_t i;

	(void)state;
	for (i = 0; p2pdma_example_name(i); i++) {
		struct p2pdma_topo *t = NULL;

		assert_int_equal(p2pdma_topo_load_example(ctx, p2pdma_example_name(i), &t), 0);
		assert_dump_roundtrip(ctx, t);
		p2pdma_topo_destroy(t);
	}
	p2pdma_ctx_destroy(ctx);
	if (!i)
		skip();
}

/* Names: from the named database, none when it is absent or broken, never fatal. */
static void test_names(void **state)
{
	static const char ids[] = "/usr/share/misc/pci.ids";
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t;
	char *tmp = fixture_tmpdir(), bad[4200];
	const char *dump = fixture_path("dumps/host-virtio.lspci");
	FILE *f;

	(void)state;
	p2pdma_ctx_set_param(ctx, "names", "1");

	snprintf(bad, sizeof(bad), "%s/none.ids", tmp);
	assert_int_equal(p2pdma_ctx_set_param(ctx, "pci.ids", bad), 0);
	t = load_dump_ok(ctx, dump);
	assert_null(p2pdma_topo_dev(t, 0)->vendor_name);
	p2pdma_topo_destroy(t);

	/* A malformed database: libpci's parser calls its error handler. */
	snprintf(bad, sizeof(bad), "%s/bad.ids", tmp);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("8086  Intel\n\t\t\tbroken indentation line\nzzzz\n", f);
	fclose(f);
	assert_int_equal(p2pdma_ctx_set_param(ctx, "pci.ids", bad), 0);
	t = load_dump_ok(ctx, dump);
	p2pdma_topo_destroy(t);

	if (!access(ids, R_OK)) {
		assert_int_equal(p2pdma_ctx_set_param(ctx, "pci.ids", ids), 0);
		t = load_dump_ok(ctx, dump);
		assert_non_null(p2pdma_topo_dev(t, 1)->vendor_name);
		assert_string_equal(p2pdma_topo_dev(t, 1)->vendor_name, "Red Hat, Inc.");
		p2pdma_topo_destroy(t);

		p2pdma_ctx_set_param(ctx, "names", "0");
		t = load_dump_ok(ctx, dump);
		assert_null(p2pdma_topo_dev(t, 1)->vendor_name);
		p2pdma_topo_destroy(t);
	}
	fixture_rmtree(tmp);
	free(tmp);
	p2pdma_ctx_destroy(ctx);
}

/*
 * A capture's tarball, as conformance/capture-sysfs.sh writes it, reads the
 * same as its unpacked tree; "-" reads it from standard input; nothing is
 * left in TMPDIR afterwards.
 */
static void test_sysfs_tarballs(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	char *tmp = fixture_tmpdir(), *unpack;
	char root[4096], diff[512], cmd[8400], path[4300];
	const char *old_tmpdir = getenv("TMPDIR");
	unsigned int n = 0;
	DIR *d;
	struct dirent *e;

	(void)state;
	/* Unpacking happens under TMPDIR: watch it stay empty. */
	setenv("TMPDIR", tmp, 1);
	d = opendir(fixture_path("kernel"));
	assert_non_null(d);
	while ((e = readdir(d))) {
		struct p2pdma_topo *a = NULL, *b = NULL;
		char rel[600];
		int ret;

		if (e->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "kernel/%s/sysfs.tar.gz", e->d_name);
		if (access(fixture_path(rel), R_OK))
			continue;
		ret = p2pdma_topo_load_sysfs(ctx, fixture_path(rel), &a);
		if (ret)
			print_error("%s: %s\n", rel, p2pdma_ctx_error(ctx));
		assert_int_equal(ret, 0);
		unpack = untar(fixture_path(rel), root, sizeof(root));
		assert_int_equal(p2pdma_topo_load_sysfs(ctx, root, &b), 0);
		ret = !p2pdma_topo_equal(a, b, P2PDMA_CMP_ALL, diff, sizeof(diff));
		if (ret)
			print_error("%s: tarball vs tree: %s\n", rel, diff);
		assert_int_equal(ret, 0);
		p2pdma_topo_destroy(a);
		p2pdma_topo_destroy(b);
		fixture_rmtree(unpack);
		free(unpack);
		n++;
	}
	closedir(d);
	assert_true(n >= 50);

	/* From standard input. */
	{
		struct p2pdma_topo *t = NULL;
		int saved = dup(STDIN_FILENO);
		int fd = open(fixture_path("sysfs/host-virtio.tar.gz"), O_RDONLY);

		assert_true(fd >= 0);
		dup2(fd, STDIN_FILENO);
		close(fd);
		assert_int_equal(p2pdma_topo_load_sysfs(ctx, "-", &t), 0);
		dup2(saved, STDIN_FILENO);
		close(saved);
		assert_string_equal(p2pdma_topo_name(t), "<stdin>");
		assert_int_equal(p2pdma_topo_num_devs(t), 6);
		p2pdma_topo_destroy(t);
	}

	/* Nothing left behind. */
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", tmp);
	assert_int_equal(system(cmd), 0);
	(void)path;
	if (old_tmpdir)
		setenv("TMPDIR", old_tmpdir, 1);
	else
		unsetenv("TMPDIR");
	fixture_rmtree(tmp);
	free(tmp);
	p2pdma_ctx_destroy(ctx);
}

/*
 * Hostile or broken tarballs, made with Python's tarfile: refused with the
 * entry named, nothing written outside the private directory, nothing left.
 */
static const char bad_tars_py[] =
"import io, sys, tarfile\n"
"out = sys.argv[1]\n"
"def add(tf, name, kind=tarfile.REGTYPE, data=b'', link=''):\n"
"    ti = tarfile.TarInfo(name); ti.type = kind; ti.linkname = link; ti.size = len(data)\n"
"    tf.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)\n"
"def make(name, entries, mode='w:gz'):\n"
"    with tarfile.open(out + '/' + name, mode) as tf:\n"
"        add(tf, 'sysfs/bus/pci/devices', tarfile.DIRTYPE)\n"
"        for e in entries: add(tf, *e)\n"
"make('absolute.tgz', [('/tmp/p2pdma-evil',)])\n"
"make('dotdot.tgz', [('sysfs/../../p2pdma-evil',)])\n"
"make('link-out.tgz', [('sysfs/x', tarfile.SYMTYPE, b'', '../../../../etc')])\n"
"make('link-abs.tgz', [('sysfs/x', tarfile.SYMTYPE, b'', '/etc')])\n"
"make('through-link.tgz', [('sysfs/l', tarfile.SYMTYPE, b'', 'bus'), ('sysfs/l/evil', tarfile.REGTYPE, b'x')])\n"
"make('device.tgz', [('sysfs/null', tarfile.CHRTYPE)])\n"
"make('fifo.tgz', [('sysfs/fifo', tarfile.FIFOTYPE)])\n"
"make('hardlink.tgz', [('sysfs/a', tarfile.REGTYPE, b'x'), ('sysfs/b', tarfile.LNKTYPE, b'', 'sysfs/a')])\n"
"make('big.tgz', [('sysfs/big', tarfile.REGTYPE, b'0' * (2 << 20))])\n"
"make('twice.tgz', [('sysfs/a', tarfile.REGTYPE, b'x'), ('sysfs/a', tarfile.REGTYPE, b'y')])\n"
"make('nodevices.tgz', [])\n"
"with tarfile.open(out + '/nodevices.tgz', 'w:gz') as tf: add(tf, 'sysfs/bus', tarfile.DIRTYPE)\n"
"open(out + '/garbage.tgz', 'wb').write(b'this is not a tarball\\n' * 40)\n"
"whole = open(out + '/big.tgz', 'rb').read()\n"
"open(out + '/cut.tgz', 'wb').write(whole[:len(whole) // 2])\n";

static void test_bad_tarballs(void **state)
{
	static const struct {
		const char *file, *needle;
		int err;
	} cases[] = {
		{ "absolute.tgz", "entry \"/tmp/p2pdma-evil\" is absolute", -EINVAL },
		{ "dotdot.tgz", "climbs out with \"..\"", -EINVAL },
		{ "link-out.tgz", "symlink sysfs/x -> ../../../../etc points outside the capture", -EINVAL },
		{ "link-abs.tgz", "symlink sysfs/x -> /etc points outside the capture", -EINVAL },
		{ "through-link.tgz", "sysfs/l/evil: a path through a symlink or file", -ENOTDIR },
		{ "device.tgz", "sysfs/null is a device node", -EINVAL },
		{ "fifo.tgz", "sysfs/fifo is a FIFO", -EINVAL },
		{ "hardlink.tgz", "sysfs/b is a hard link", -EINVAL },
		{ "big.tgz", "sysfs/big is over 1024 KiB", -EFBIG },
		{ "twice.tgz", "sysfs/a: listed twice", -EEXIST },
		{ "nodevices.tgz", "not a sysfs capture (no bus/pci/devices", -ENOENT },
		{ "garbage.tgz", "not a tar or tar.gz archive", -EINVAL },
		{ "cut.tgz", "cut short or damaged", -EINVAL },
	};
	struct p2pdma_ctx *ctx = fixture_ctx();
	char *tmp = fixture_tmpdir(), *work = fixture_tmpdir();
	char cmd[9000], path[4300];
	const char *old_tmpdir = getenv("TMPDIR");
	size_t i;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/make.py", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(bad_tars_py, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", path, tmp);
	if (system(cmd)) {
		fixture_rmtree(tmp);
		fixture_rmtree(work);
		p2pdma_ctx_destroy(ctx);
		skip();
	}
	setenv("TMPDIR", work, 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct p2pdma_topo *t = (struct p2pdma_topo *)1;
		int ret;

		snprintf(path, sizeof(path), "%s/%s", tmp, cases[i].file);
		ret = p2pdma_topo_load_sysfs(ctx, path, &t);
		if (ret != cases[i].err || !strstr(p2pdma_ctx_error(ctx), cases[i].needle))
			print_error("%s: ret %d '%s', want %d '%s'\n", cases[i].file, ret,
				    p2pdma_ctx_error(ctx), cases[i].err, cases[i].needle);
		assert_int_equal(ret, cases[i].err);
		assert_non_null(strstr(p2pdma_ctx_error(ctx), cases[i].needle));
		assert_null(t);
		/* Named after the tarball, and nothing left under TMPDIR. */
		assert_non_null(strstr(p2pdma_ctx_error(ctx), cases[i].file));
		snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", work);
		assert_int_equal(system(cmd), 0);
	}
	/* Nothing escaped either. */
	assert_int_not_equal(access("/tmp/p2pdma-evil", F_OK), 0);
	if (old_tmpdir)
		setenv("TMPDIR", old_tmpdir, 1);
	else
		unsetenv("TMPDIR");
	fixture_rmtree(tmp);
	fixture_rmtree(work);
	free(tmp);
	free(work);
	p2pdma_ctx_destroy(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_fixtures),
		cmocka_unit_test(test_sysfs_fixtures),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_bad_dumps),
		cmocka_unit_test(test_bad_sysfs),
		cmocka_unit_test(test_short_dumps),
		cmocka_unit_test(test_export_examples),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sysfs_tarballs),
		cmocka_unit_test(test_bad_tarballs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
