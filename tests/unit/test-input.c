// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-input.c - every file source read once: pipes, "-", FIFOs, /dev/fd, limits, wrong kinds of file */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "input-private.h"

typedef int (*load_fn)(struct p2pdma_ctx *ctx, const char *path,
		       struct p2pdma_topo **out);

/* One file source and a fixture it reads. */
struct source {
	const char *name;
	load_fn load;
	const char *fixture;	/* under tests/fixtures */
	bool gz;		/* the fixture is gzip-compressed: feed it unpacked */
	bool dir_ok;		/* a directory is a valid input too */
};

static const struct source sources[] = {
	{ "dump", p2pdma_topo_load_dump, "dumps/host-virtio.lspci", false },
	{ "json", p2pdma_topo_load_json, "json/all-fields.json", false },
	{ "lspci -vvvnn", p2pdma_topo_load_lspci, "lspci-text/switch-epyc/lspci-vvvnn.txt.gz", true },
	{ "lspci -tv", p2pdma_topo_load_lspci, "lspci-text/mixed-epyc/lspci-tv.txt.gz", true },
	{ "hwloc v2", p2pdma_topo_load_hwloc, "hwloc/switch-epyc.v2.xml.gz", true },
	{ "hwloc v1", p2pdma_topo_load_hwloc, "hwloc/pxb-two-epyc.v1.xml.gz", true },
	{ "sysfs tarball", p2pdma_topo_load_sysfs, "kernel/switch-nested-epyc/sysfs.tar.gz", false, true },
};

#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

/* A child that writes @len bytes of @buf to @fd and exits. */
static pid_t writer(int fd, const char *buf, size_t len)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		while (len) {
			ssize_t w = write(fd, buf, len);

			if (w <= 0)
				_exit(1);
			buf += w;
			len -= (size_t)w;
		}
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* Load through the plain file: the reference. */
static struct p2pdma_topo *load_file(struct p2pdma_ctx *ctx, const struct source *s,
				     const char *tmp, const char *buf, size_t len)
{
	char path[4200];
	struct p2pdma_topo *t = NULL;
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%s.input", tmp, s->name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	ret = s->load(ctx, path, &t);
	if (ret)
		print_error("%s: %s\n", s->name, p2pdma_ctx_error(ctx));
	assert_int_equal(ret, 0);
	return t;
}

static void assert_same(const struct source *s, const char *how,
			const struct p2pdma_topo *a, const struct p2pdma_topo *b)
{
	char diff[512] = "";
	int ret = !p2pdma_topo_equal(a, b, P2PDMA_CMP_ALL & ~P2PDMA_CMP_NAMES,
				      diff, sizeof(diff));

	if (ret)
		print_error("%s through %s: %s\n", s->name, how, diff);
	assert_int_equal(ret, 0);
}

/*
 * Each file source reads "-", /dev/stdin, a pipe's /dev/fd/N (what a
 * shell's <(...) hands over) and a FIFO, and gets what the plain file gives.
 * Before, a dump was opened twice (sniffed, then by libpci), so pipes
 * came back empty, a FIFO hung and "-" was "No such file".
 */
static void test_pipes(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	char *tmp = fixture_tmpdir();
	size_t i;

	(void)state;
	for (i = 0; i < NSOURCES; i++) {
		const struct source *s = &sources[i];
		struct p2pdma_topo *ref, *t;
		char path[4200];
		size_t len;
		char *buf = fixture_read(fixture_path(s->fixture), s->gz, &len);
		int p[2], saved, ret, how;
		pid_t pid;

		ref = load_file(ctx, s, tmp, buf, len);
		for (how = 0; how < 3; how++) {
			static const char *const names[] = { "-", "/dev/stdin", "/dev/fd" };

			assert_int_equal(pipe(p), 0);
			pid = writer(p[1], buf, len);
			close(p[1]);
			saved = dup(STDIN_FILENO);
			if (how < 2) {
				assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
				snprintf(path, sizeof(path), "%s", names[how]);
			} else {
				snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
			}
			t = NULL;
			ret = s->load(ctx, path, &t);
			dup2(saved, STDIN_FILENO);
			close(saved);
			close(p[0]);
			reap(pid);
			if (ret)
				print_error("%s via %s: %s\n", s->name, names[how],
					    p2pdma_ctx_error(ctx));
			assert_int_equal(ret, 0);
			assert_same(s, names[how], ref, t);
			if (how == 0)
				assert_string_equal(p2pdma_topo_name(t), "<stdin>");
			p2pdma_topo_destroy(t);
		}

		/* A FIFO: opening it waits for the writer, then one read. */
		snprintf(path, sizeof(path), "%s/%s.fifo", tmp, s->name);
		assert_int_equal(mkfifo(path, 0600), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int fd = open(path, O_WRONLY);

			if (fd < 0)
				_exit(1);
			reap(writer(fd, buf, len));
			_exit(0);
		}
		t = NULL;
		ret = s->load(ctx, path, &t);
		reap(pid);
		if (ret)
			print_error("%s via a FIFO: %s\n", s->name, p2pdma_ctx_error(ctx));
		assert_int_equal(ret, 0);
		assert_same(s, "a FIFO", ref, t);
		p2pdma_topo_destroy(t);
		unlink(path);
		p2pdma_topo_destroy(ref);
		free(buf);
	}
	fixture_rmtree(tmp);
	free(tmp);
	p2pdma_ctx_destroy(ctx);
}

static void expect_error(struct p2pdma_ctx *ctx, const struct source *s,
			 const char *path, int err, const char *needle)
{
	struct p2pdma_topo *t = (struct p2pdma_topo *)1;
	int ret = s->load(ctx, path, &t);

	if (ret != err || !strstr(p2pdma_ctx_error(ctx), needle))
		print_error("%s %s: ret %d '%s', want %d '%s'\n", s->name, path, ret,
			    p2pdma_ctx_error(ctx), err, needle);
	assert_int_equal(ret, err);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), needle));
	assert_null(t);
}

/*
 * Wrong kinds of file: a directory is "is a directory" (was "read error"),
 * /dev/zero and /dev/urandom fail at once on their NUL bytes instead of
 * growing to gigabytes, a file above the size limit fails before it is read.
 */
static void test_wrong_files(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	char *tmp = fixture_tmpdir();
	char path[4200], want[4300];
	size_t i;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/big", tmp);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	/* Sparse: costs no disk, and must be refused by its size alone. */
	assert_int_equal(ftruncate(fd, (off_t)P2PDMA_INPUT_MAX_SIZE + 1), 0);
	close(fd);

	for (i = 0; i < NSOURCES; i++) {
		const struct source *s = &sources[i];

		if (!s->dir_ok) {
			snprintf(want, sizeof(want), "%s: is a directory", tmp);
			expect_error(ctx, s, tmp, -EISDIR, want);
			expect_error(ctx, s, "/dev/zero", -EINVAL, "/dev/zero:1: NUL byte at offset 0");
			expect_error(ctx, s, "/dev/urandom", -EINVAL, "NUL byte");
		} else {
			/* Binary: not a text check, but not a tarball either. */
			expect_error(ctx, s, "/dev/zero", -EINVAL, "not a tar or tar.gz archive");
		}
		snprintf(want, sizeof(want), "%s: larger than 256 MiB, the limit", path);
		expect_error(ctx, s, path, -EFBIG, want);
		snprintf(want, sizeof(want), "%s/none: No such file or directory", tmp);
		snprintf(path, sizeof(path), "%s/none", tmp);
		if (!s->dir_ok)
			expect_error(ctx, s, path, -ENOENT, want);
		snprintf(path, sizeof(path), "%s/big", tmp);
	}
	fixture_rmtree(tmp);
	free(tmp);
	p2pdma_ctx_destroy(ctx);
}

/* The limits of the reader itself, checked while the bytes arrive. */
static void test_limits(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_input_limits lim = {
		.max_size = 1 << 20, .max_line = 100, .text = true, .what = "a test file",
	};
	struct p2pdma_input in;
	char *big = malloc((1 << 20) + 2);
	int p[2], saved;
	pid_t pid;
	size_t i;

	(void)state;
	assert_non_null(big);
	/* Short lines, but one byte over the size: refused. */
	for (i = 0; i < (1 << 20) + 1; i++)
		big[i] = (i % 50 == 49) ? '\n' : 'a';
	assert_int_equal(pipe(p), 0);
	pid = writer(p[1], big, (1 << 20) + 1);
	close(p[1]);
	saved = dup(STDIN_FILENO);
	dup2(p[0], STDIN_FILENO);
	assert_int_equal(p2pdma_input_read(ctx, "-", &lim, &in), -EFBIG);
	dup2(saved, STDIN_FILENO);
	close(saved);
	close(p[0]);
	reap(pid);
	assert_string_equal(p2pdma_ctx_error(ctx),
			    "<stdin>: larger than 1 MiB, the limit for a test file "
			    "(the largest real machines need a few tens of MiB)");

	/* Exactly the limit is fine, and NUL-terminated. */
	assert_int_equal(pipe(p), 0);
	pid = writer(p[1], big, 1 << 20);
	close(p[1]);
	{
		char path[64];

		snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
		assert_int_equal(p2pdma_input_read(ctx, path, &lim, &in), 0);
	}
	close(p[0]);
	reap(pid);
	assert_int_equal(in.len, 1 << 20);
	assert_int_equal(in.data[in.len], '\0');
	p2pdma_input_free(&in);

	/* A line over the limit, with its number. */
	memset(big, 'b', 300);
	big[0] = 'x';
	big[1] = '\n';
	big[2] = '\n';
	assert_int_equal(pipe(p), 0);
	pid = writer(p[1], big, 300);
	close(p[1]);
	{
		char path[64];

		snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
		assert_int_equal(p2pdma_input_read(ctx, path, &lim, &in), -EINVAL);
		assert_non_null(strstr(p2pdma_ctx_error(ctx),
				       ":3: line longer than 100 bytes, the limit for a test file"));
	}
	close(p[0]);
	reap(pid);

	/* No line limit: one long line is fine (JSON, XML). */
	lim.max_line = 0;
	assert_int_equal(pipe(p), 0);
	pid = writer(p[1], big, 300);
	close(p[1]);
	{
		char path[64];

		snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
		assert_int_equal(p2pdma_input_read(ctx, path, &lim, &in), 0);
	}
	close(p[0]);
	reap(pid);
	p2pdma_input_free(&in);

	/* The memory file hands the same bytes to a reader that wants a path. */
	{
		struct p2pdma_input mem = { .data = big, .len = 300, .name = "mem" };
		struct p2pdma_input_file f;
		char back[301];
		FILE *rf;

		assert_int_equal(p2pdma_input_file_open(ctx, &mem, &f), 0);
		rf = fopen(f.path, "rb");
		assert_non_null(rf);
		assert_int_equal(fread(back, 1, sizeof(back), rf), 300);
		fclose(rf);
		assert_memory_equal(back, big, 300);
		p2pdma_input_file_close(&f);
	}
	free(big);
	p2pdma_ctx_destroy(ctx);
}

/* What lspci prints, handed to --dump: say what it is and what to run. */
static void test_text_as_dump(void **state)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{ "00:00.0 Host bridge: Intel Corporation 440FX - 82441FX PMC [Natoma] (rev 02)\n"
		  "\tSubsystem: Red Hat, Inc. Qemu virtual machine\n"
		  "\tFlags: fast devsel\n\n",
		  "0000:00:00.0 has no hex rows: this is lspci's text output" },
		{ "00:00.0 0600: 8086:1237 (rev 02)\n00:01.0 0601: 8086:7000\n",
		  "sudo lspci -xxxx" },
		{ "-[0000:00]-+-00.0\n           \\-01.0\n", "this is lspci's tree (lspci -t)" },
	};
	struct p2pdma_ctx *ctx = fixture_ctx();
	char *tmp = fixture_tmpdir();
	char path[4200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/text-%zu", tmp, i);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(cases[i].text, f);
		fclose(f);
		expect_error(ctx, &sources[0], path, -EINVAL, cases[i].needle);
		assert_non_null(strstr(p2pdma_ctx_error(ctx), "--lspci"));
	}
	fixture_rmtree(tmp);
	free(tmp);
	p2pdma_ctx_destroy(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipes),
		cmocka_unit_test(test_wrong_files),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_text_as_dump),
	};

	/* A reader that dies must not take the test with it. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
