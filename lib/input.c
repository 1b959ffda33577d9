// SPDX-License-Identifier: LGPL-2.1-or-later
/* input.c - read a source file or "-" exactly once, into memory, with limits */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input-private.h"
#include "topo-private.h"

#define CHUNK (64u << 10)

static const char *what_of(const struct p2pdma_input_limits *lim)
{
	return lim->what ? lim->what : "input";
}

/* "256 MiB", "4096 bytes": limits are round numbers, say them plainly. */
static void size_text(size_t n, char *buf, size_t len)
{
	if (n >= (1u << 20) && !(n % (1u << 20)))
		snprintf(buf, len, "%zu MiB", n >> 20);
	else
		snprintf(buf, len, "%zu bytes", n);
}

struct text_check {
	size_t line_len;	/* bytes of the current line so far */
	unsigned int lineno;	/* 1-based number of the current line */
	size_t offset;		/* bytes checked so far */
};

/* Check @n new bytes as they arrive, so that garbage fails early. */
static int check_text(struct p2pdma_ctx *ctx, const char *name,
		      const struct p2pdma_input_limits *lim,
		      struct text_check *tc, const char *p, size_t n)
{
	char lbuf[32];
	size_t i;

	for (i = 0; i < n; i++) {
		if (lim->text && p[i] == '\0')
			return p2pdma_err(ctx, -EINVAL,
					  "%s:%u: NUL byte at offset %zu: not a text file (expected %s)",
					  name, tc->lineno, tc->offset + i, what_of(lim));
		if (p[i] == '\n') {
			tc->lineno++;
			tc->line_len = 0;
			continue;
		}
		if (lim->max_line && ++tc->line_len > lim->max_line) {
			size_text(lim->max_line, lbuf, sizeof(lbuf));
			return p2pdma_err(ctx, -EINVAL,
					  "%s:%u: line longer than %s, the limit for %s (not %s?)",
					  name, tc->lineno, lbuf, what_of(lim), what_of(lim));
		}
	}
	tc->offset += n;
	return 0;
}

static int too_big(struct p2pdma_ctx *ctx, const char *name,
		   const struct p2pdma_input_limits *lim, size_t max)
{
	char sbuf[32];

	size_text(max, sbuf, sizeof(sbuf));
	return p2pdma_err(ctx, -EFBIG,
			  "%s: larger than %s, the limit for %s (the largest real machines need a few tens of MiB)",
			  name, sbuf, what_of(lim));
}

int p2pdma_input_read(struct p2pdma_ctx *ctx, const char *path,
		      const struct p2pdma_input_limits *lim,
		      struct p2pdma_input *in)
{
	size_t max = lim->max_size ? lim->max_size : P2PDMA_INPUT_MAX_SIZE;
	struct text_check tc = { .lineno = 1 };
	bool is_stdin = !strcmp(path, "-");
	const char *name = is_stdin ? "<stdin>" : path;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	const char *why;
	struct stat st;
	int fd, ret = 0;

	memset(in, 0, sizeof(*in));
	if (is_stdin) {
		fd = STDIN_FILENO;
	} else {
		/* A FIFO blocks here until its writer opens it: that is what a FIFO is. */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return p2pdma_err(ctx, -errno, "%s: %s", name, strerror(errno));
	}
	if (fstat(fd, &st)) {
		ret = p2pdma_err(ctx, -errno, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = p2pdma_err(ctx, -EISDIR, "%s: is a directory, not %s",
				 name, what_of(lim));
		goto out;
	}
	/* A regular file says its size up front: refuse before reading. */
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		ret = too_big(ctx, name, lim, max);
		goto out;
	}

	for (;;) {
		ssize_t n;

		if (cap - len < CHUNK + 1) {
			size_t ncap = cap ? cap * 2 : CHUNK * 2;
			char *nb;

			if (ncap > max + CHUNK + 1)
				ncap = max + CHUNK + 1;
			nb = realloc(buf, ncap);
			if (!nb) {
				ret = p2pdma_err(ctx, -ENOMEM, "%s: out of memory", name);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = p2pdma_err(ctx, errno == EISDIR ? -EISDIR : -EIO,
					 "%s: read error: %s", name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		ret = check_text(ctx, name, lim, &tc, buf + len, (size_t)n);
		if (ret)
			goto out;
		if (lim->head_check && len < lim->head && len + (size_t)n >= lim->head &&
		    (why = lim->head_check(buf, len + (size_t)n))) {
			ret = p2pdma_err(ctx, -EINVAL, "%s: %s", name, why);
			goto out;
		}
		len += (size_t)n;
		if (len > max) {
			ret = too_big(ctx, name, lim, max);
			goto out;
		}
	}
	if (lim->head_check && len < lim->head && (why = lim->head_check(buf ? buf : "", len))) {
		ret = p2pdma_err(ctx, -EINVAL, "%s: %s", name, why);
		goto out;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf) {
			ret = p2pdma_err(ctx, -ENOMEM, "%s: out of memory", name);
			goto out;
		}
	}
	buf[len] = '\0';
	in->data = buf;
	in->len = len;
	in->name = name;
	buf = NULL;
out:
	free(buf);
	if (!is_stdin)
		close(fd);
	return ret;
}

void p2pdma_input_free(struct p2pdma_input *in)
{
	if (!in)
		return;
	free(in->data);
	memset(in, 0, sizeof(*in));
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A private temporary file, for systems without memfd or /proc. */
static int temp_file(struct p2pdma_input_file *f)
{
	const char *dir = getenv("TMPDIR");

	if (!dir || !*dir)
		dir = "/tmp";
	if (snprintf(f->path, sizeof(f->path), "%s/p2pdma-input-XXXXXX", dir) >=
	    (int)sizeof(f->path))
		return -ENAMETOOLONG;
	f->fd = mkostemp(f->path, O_CLOEXEC);
	if (f->fd < 0)
		return -errno;
	f->unlink = true;
	return 0;
}

int p2pdma_input_file_open(struct p2pdma_ctx *ctx, const struct p2pdma_input *in,
			   struct p2pdma_input_file *f)
{
	int ret;

	memset(f, 0, sizeof(*f));
	f->fd = memfd_create("p2pdma-input", MFD_CLOEXEC);
	if (f->fd >= 0) {
		snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
		/* Without /proc the name leads nowhere: use a real file. */
		if (access(f->path, R_OK)) {
			close(f->fd);
			f->fd = -1;
		}
	}
	if (f->fd < 0) {
		ret = temp_file(f);
		if (ret)
			return p2pdma_err(ctx, ret, "%s: cannot make a temporary copy: %s",
					  in->name, strerror(-ret));
	}
	ret = write_all(f->fd, in->data, in->len);
	if (ret) {
		p2pdma_input_file_close(f);
		return p2pdma_err(ctx, ret, "%s: cannot make a temporary copy: %s",
				  in->name, strerror(-ret));
	}
	return 0;
}

void p2pdma_input_file_close(struct p2pdma_input_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->unlink)
		unlink(f->path);
	f->fd = -1;
	f->unlink = false;
}

int p2pdma_input_parse_path(struct p2pdma_ctx *ctx, const char *path,
			    const struct p2pdma_input_limits *lim,
			    p2pdma_text_parser parse, struct p2pdma_topo **out)
{
	struct p2pdma_input in;
	int ret;

	if (!ctx || !path || !out)
		return -EINVAL;
	p2pdma_clear_err(ctx);
	*out = NULL;
	ret = p2pdma_input_read(ctx, path, lim, &in);
	if (ret)
		return ret;
	ret = parse(ctx, in.data, in.len, in.name, out);
	p2pdma_input_free(&in);
	return ret;
}

int p2pdma_input_parse_string(struct p2pdma_ctx *ctx, const char *text,
			      const char *name, p2pdma_text_parser parse,
			      struct p2pdma_topo **out)
{
	if (!ctx || !text || !out)
		return -EINVAL;
	p2pdma_clear_err(ctx);
	*out = NULL;
	return parse(ctx, text, strlen(text), name ? name : "(string)", out);
}
