// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-dump.c - fuzz target: the lspci dump reader and the dump exporter */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "topo-private.h"

/*
 * p2pdma_topo_load_dump() reads a path: the input goes into an anonymous
 * memory file, named through /proc/self/fd, so no temporary file is left
 * behind by a crash and parallel fuzzers cannot collide.
 */
static int mem_file(const char *name, char *path, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

static void write_all(int fd, const uint8_t *data, size_t size)
{
	while (size) {
		ssize_t n = write(fd, data, size);

		FUZZ_CHECK(n > 0, "write: %s", strerror(errno));
		data += n;
		size -= (size_t)n;
	}
}

/* Export @topo as a dump into a new memory file; returns its fd. */
static int export_dump(const struct p2pdma_topo *topo, char *path, size_t len)
{
	int fd = mem_file("fuzz-export", path, len);
	FILE *f = fdopen(dup(fd), "w");
	int ret;

	FUZZ_CHECK(f != NULL, "fdopen: %s", strerror(errno));
	ret = p2pdma_topo_export_dump(topo, f);
	FUZZ_CHECK(fclose(f) == 0, "close of the exported dump failed");
	FUZZ_CHECK(ret == 0, "export of a loaded topology failed (%d): %s", ret,
		   p2pdma_ctx_error(topo->ctx));
	return fd;
}

/*
 * Properties, for any file the reader accepts:
 *  - the invariant checker passes;
 *  - export as a dump -> load succeeds and compares equal on what config
 *    space holds (P2PDMA_CMP_CONFIG), and the checker passes again.
 * For any file it rejects: an error message is set, nothing is returned
 * (and the process is still alive: libpci's fatal errors are trapped).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pdma_topo *topo = NULL, *again = NULL;
	struct p2pdma_ctx *ctx;
	char path[64], path2[64], msg[512];
	int fd, fd2 = -1, ret;

	fd = mem_file("fuzz-dump", path, sizeof(path));
	write_all(fd, data, size);
	FUZZ_CHECK(p2pdma_ctx_create(&ctx) == 0, "context creation failed");

	ret = p2pdma_topo_load_dump(ctx, path, &topo);
	if (ret) {
		FUZZ_CHECK(ret < 0, "load returned %d", ret);
		FUZZ_CHECK(topo == NULL, "failed load returned a topology");
		FUZZ_CHECK(p2pdma_ctx_error(ctx) && *p2pdma_ctx_error(ctx),
			   "failed load (%d) left no message", ret);
		goto out;
	}
	FUZZ_CHECK(topo != NULL, "load succeeded without a topology");
	ret = p2pdma_topo_check(topo, msg, sizeof(msg));
	FUZZ_CHECK(ret == 0, "loaded topology fails the checker: %s", msg);

	fd2 = export_dump(topo, path2, sizeof(path2));
	ret = p2pdma_topo_load_dump(ctx, path2, &again);
	FUZZ_CHECK(ret == 0, "exported dump does not load: %s", p2pdma_ctx_error(ctx));
	ret = !p2pdma_topo_equal(topo, again, P2PDMA_CMP_CONFIG, msg, sizeof(msg));
	FUZZ_CHECK(ret == 0, "export -> load differs: %s", msg);
	ret = p2pdma_topo_check(again, msg, sizeof(msg));
	FUZZ_CHECK(ret == 0, "reloaded topology fails the checker: %s", msg);
out:
	p2pdma_topo_destroy(again);
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	if (fd2 >= 0)
		close(fd2);
	close(fd);
	return 0;
}
