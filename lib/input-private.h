/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* input-private.h - read a source file or "-" exactly once, into memory, with limits */
#ifndef P2PDMA_INPUT_PRIVATE_H
#define P2PDMA_INPUT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "context-private.h"

/*
 * Every file source (dump, JSON, lspci text, hwloc XML, sysfs tarball)
 * goes through here: a path, "-" for standard input, a pipe, a FIFO or
 * /dev/fd/N from a shell's <(...) is read once, front to back, so that
 * nothing needs to seek or open it a second time.
 *
 * The limits are far above what the largest real machine produces (see
 * doc/sources.md "Input limits" for the arithmetic), and are checked while
 * reading, so that /dev/zero, /dev/urandom or a runaway pipe fail after a
 * few kilobytes with a message naming the file and the limit instead of
 * filling memory.
 */

/* Whole input, any source: 256 MiB (a full 65,536-function domain's
 * -xxxx dump is ~900 MB; 256 MiB holds ~19,000 functions at -xxxx). */
#define P2PDMA_INPUT_MAX_SIZE	(256u << 20)
/* One line of a line-oriented text source (dump, lspci text). */
#define P2PDMA_INPUT_MAX_LINE	4096u

struct p2pdma_input_limits {
	size_t max_size;	/* 0: P2PDMA_INPUT_MAX_SIZE */
	size_t max_line;	/* 0: no line limit (JSON, XML) */
	bool text;		/* a NUL byte is an error */
	const char *what;	/* "lspci dump", ... for messages */
	/*
	 * Binary input: does it start as it must? Called once with the first
	 * @head bytes (or all, if shorter), so that a wrong stream fails at
	 * once; returns a reason to refuse it, or NULL.
	 */
	const char *(*head_check)(const char *p, size_t n);
	size_t head;
};

struct p2pdma_input {
	char *data;		/* @len bytes and a NUL after them */
	size_t len;
	const char *name;	/* the path, or "<stdin>" for "-" */
};

/*
 * Read @path ("-": standard input) under @lim into @in. On error the
 * message names the file (and the line or the limit) and nothing is
 * allocated. Directories fail with -EISDIR, oversized input with -EFBIG,
 * an overlong line or a NUL in text with -EINVAL.
 */
int p2pdma_input_read(struct p2pdma_ctx *ctx, const char *path,
		      const struct p2pdma_input_limits *lim,
		      struct p2pdma_input *in);
void p2pdma_input_free(struct p2pdma_input *in);

struct p2pdma_topo;

/* A text source's parser: @len bytes of @text (NUL-terminated) named @name. */
typedef int (*p2pdma_text_parser)(struct p2pdma_ctx *ctx, const char *text,
				  size_t len, const char *name,
				  struct p2pdma_topo **out);

/*
 * The two public entry points of every text source: from a path ("-":
 * standard input) read under @lim, or from a caller's string (@name NULL:
 * "(string)"). Both check their arguments (-EINVAL), clear the context's
 * error and leave *@out NULL on failure.
 */
int p2pdma_input_parse_path(struct p2pdma_ctx *ctx, const char *path,
			    const struct p2pdma_input_limits *lim,
			    p2pdma_text_parser parse, struct p2pdma_topo **out);
int p2pdma_input_parse_string(struct p2pdma_ctx *ctx, const char *text,
			      const char *name, p2pdma_text_parser parse,
			      struct p2pdma_topo **out);

/*
 * The bytes of @in as a file that a library wanting a path (libpci's
 * dump.name) can open: an anonymous memory file named /proc/self/fd/N,
 * or, where that cannot be had, a private temporary file. Close with
 * p2pdma_input_file_close(), which also removes a temporary file.
 */
struct p2pdma_input_file {
	int fd;
	char path[4096];
	bool unlink;
};

int p2pdma_input_file_open(struct p2pdma_ctx *ctx, const struct p2pdma_input *in,
			   struct p2pdma_input_file *f);
void p2pdma_input_file_close(struct p2pdma_input_file *f);

/*
 * Unpack a sysfs capture (a .tar.gz as conformance/capture-sysfs.sh writes
 * it, or a plain .tar) held in @in into a new private directory *@tmpdir;
 * *@root is the directory holding bus/pci/devices inside it. Entries that
 * could land outside (absolute names, "..", links pointing out), device
 * nodes and hard links are refused; sizes are capped. Remove with
 * p2pdma_sysfs_cleanup(*@tmpdir) whatever happens next.
 */
int p2pdma_sysfs_unpack(struct p2pdma_ctx *ctx, const struct p2pdma_input *in,
			char **tmpdir, char **root);
void p2pdma_sysfs_cleanup(char *tmpdir);

#endif
