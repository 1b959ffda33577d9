// SPDX-License-Identifier: LGPL-2.1-or-later
/* sysfs-archive.c - unpack a captured sysfs tarball (conformance/capture-sysfs.sh) into a private directory */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "input-private.h"
#include "topo-private.h"

/*
 * libarchive reads the archive (every tar dialect GNU tar, busybox and
 * bsdtar write, including the long names deep sysfs paths need, and gzip);
 * where each entry lands is decided here, and only inside a fresh mkdtemp()
 * directory:
 *
 *   - names: relative, no "..", no empty or overlong component;
 *   - kinds: directories, regular files and symlinks only (no device
 *     nodes, FIFOs, sockets or hard links: a capture has none);
 *   - symlinks: relative, and resolved by their text they stay inside;
 *   - every directory on the way is opened with O_NOFOLLOW, so no entry
 *     is written through a symlink an earlier entry made;
 *   - limits: SYSFS_MAX_ENTRIES entries, SYSFS_MAX_FILE per file and
 *     SYSFS_MAX_TOTAL bytes in all.
 *
 * A capture holds ~30 entries and ~6 KB per PCI function (config is 4096
 * bytes, the other attributes a few bytes each); the limits leave room
 * for 50,000 functions.
 */
#define SYSFS_MAX_ENTRIES	2000000u
#define SYSFS_MAX_FILE		(1u << 20)	/* sysfs attributes are one page at most */
#define SYSFS_MAX_TOTAL		(256u << 20)

struct unpack {
	struct p2pdma_ctx *ctx;
	const char *name;
	int rootfd;
	size_t total;
};

/* Split @path into components; reject what could leave the root. */
static int check_name(struct unpack *u, const char *path, char *buf, size_t len,
		      const char *what)
{
	char *p, *save = NULL, *c;

	if (!*path)
		return p2pdma_err(u->ctx, -EINVAL, "%s: %s with an empty name", u->name, what);
	if (path[0] == '/')
		return p2pdma_err(u->ctx, -EINVAL, "%s: %s \"%s\" is absolute", u->name, what, path);
	if (strlen(path) >= len)
		return p2pdma_err(u->ctx, -ENAMETOOLONG, "%s: %s name too long", u->name, what);
	strcpy(buf, path);
	for (p = buf; (c = strtok_r(p, "/", &save)); p = NULL) {
		if (!strcmp(c, ".."))
			return p2pdma_err(u->ctx, -EINVAL, "%s: %s \"%s\" climbs out with \"..\"",
					  u->name, what, path);
		if (strlen(c) > 255)
			return p2pdma_err(u->ctx, -ENAMETOOLONG, "%s: %s \"%.60s...\": component too long",
					  u->name, what, path);
	}
	return 0;
}

/*
 * Does symlink @target, placed at entry @path, stay inside the root when
 * resolved by its text? (Symlinks already inside are not followed by us.)
 */
static bool link_stays_inside(const char *path, const char *target)
{
	int depth = 0;
	const char *p;

	if (target[0] == '/')
		return false;
	/* The link's directory: components of @path but the last. */
	for (p = path; *p; ) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (!slash)
			break;
		if (n && !(n == 1 && p[0] == '.'))
			depth++;
		p = slash + 1;
	}
	for (p = target; *p; ) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p = slash ? slash + 1 : p + n;
	}
	return true;
}

/*
 * Open (creating as needed) the directory holding @path's last component;
 * *@leaf points at that component in @buf. Never follows a symlink.
 */
static int open_parent(struct unpack *u, char *buf, const char **leaf)
{
	char *p = buf, *slash;
	int fd = dup(u->rootfd);

	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/'))) {
		int nfd;

		*slash = '\0';
		if (*p && strcmp(p, ".")) {
			if (mkdirat(fd, p, 0700) && errno != EEXIST) {
				int e = -errno;

				close(fd);
				return e;
			}
			nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0) {
				int e = errno == ELOOP || errno == ENOTDIR ? -ENOTDIR : -errno;

				close(fd);
				return e;
			}
			close(fd);
			fd = nfd;
		}
		*slash = '/';
		p = slash + 1;
		while (*p == '/')
			p++;
	}
	*leaf = p;
	return fd;
}

static int write_file(struct unpack *u, struct archive *a, int dirfd, const char *leaf,
		      const char *path)
{
	char buf[65536];
	size_t size = 0;
	int fd = openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return p2pdma_err(u->ctx, -errno, "%s: %s: %s", u->name, path,
				  errno == EEXIST ? "listed twice" : strerror(errno));
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		ssize_t w;

		if (n < 0) {
			close(fd);
			return p2pdma_err(u->ctx, -EINVAL, "%s: %s: %s (archive cut short or damaged)",
					  u->name, path, archive_error_string(a));
		}
		if (n == 0)
			break;
		size += (size_t)n;
		u->total += (size_t)n;
		if (size > SYSFS_MAX_FILE) {
			close(fd);
			return p2pdma_err(u->ctx, -EFBIG,
					  "%s: %s is over %u KiB: no sysfs attribute is that large",
					  u->name, path, SYSFS_MAX_FILE >> 10);
		}
		if (u->total > SYSFS_MAX_TOTAL) {
			close(fd);
			return p2pdma_err(u->ctx, -EFBIG,
					  "%s: more than %u MiB unpacked, the limit for a sysfs capture",
					  u->name, SYSFS_MAX_TOTAL >> 20);
		}
		w = write(fd, buf, (size_t)n);
		if (w != n) {
			int e = w < 0 ? errno : ENOSPC;

			close(fd);
			return p2pdma_err(u->ctx, -e, "%s: unpacking %s: %s", u->name, path, strerror(e));
		}
	}
	if (close(fd))
		return p2pdma_err(u->ctx, -errno, "%s: unpacking %s: %s", u->name, path, strerror(errno));
	return 0;
}

static int unpack_entry(struct unpack *u, struct archive *a, struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e), *leaf = NULL;
	char buf[4096];
	mode_t type = archive_entry_filetype(e);
	int dirfd, ret = 0;

	if (!path)
		return p2pdma_err(u->ctx, -EINVAL, "%s: an entry without a name", u->name);
	ret = check_name(u, path, buf, sizeof(buf), "entry");
	if (ret)
		return ret;
	if (archive_entry_hardlink(e))
		return p2pdma_err(u->ctx, -EINVAL, "%s: %s is a hard link: not part of a sysfs capture",
				  u->name, path);
	if (type != AE_IFDIR && type != AE_IFREG && type != AE_IFLNK)
		return p2pdma_err(u->ctx, -EINVAL,
				  "%s: %s is a %s: a sysfs capture holds only directories, files and symlinks",
				  u->name, path, type == AE_IFCHR || type == AE_IFBLK ? "device node" :
				  type == AE_IFIFO ? "FIFO" : type == AE_IFSOCK ? "socket" :
				  "special file");
	if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);

		if (!target || !*target)
			return p2pdma_err(u->ctx, -EINVAL, "%s: symlink %s has no target", u->name, path);
		if (strlen(target) >= 4096)
			return p2pdma_err(u->ctx, -ENAMETOOLONG, "%s: symlink %s: target too long",
					  u->name, path);
		/* sysfs links climb with ".." (../../../devices/...): allowed while inside. */
		if (!link_stays_inside(path, target))
			return p2pdma_err(u->ctx, -EINVAL, "%s: symlink %s -> %s points outside the capture",
					  u->name, path, target);
	}
	/* check_name() cut @buf into components: start again from the name. */
	strcpy(buf, path);
	dirfd = open_parent(u, buf, &leaf);
	if (dirfd < 0)
		return p2pdma_err(u->ctx, dirfd, "%s: %s: %s", u->name, path,
				  dirfd == -ENOTDIR ? "a path through a symlink or file" : strerror(-dirfd));
	if (!*leaf || !strcmp(leaf, ".")) {
		close(dirfd);
		return type == AE_IFDIR ? 0 :
		       p2pdma_err(u->ctx, -EINVAL, "%s: %s: not a file name", u->name, path);
	}
	switch (type) {
	case AE_IFDIR:
		if (mkdirat(dirfd, leaf, 0700) && errno != EEXIST)
			ret = p2pdma_err(u->ctx, -errno, "%s: %s: %s", u->name, path, strerror(errno));
		break;
	case AE_IFREG:
		ret = write_file(u, a, dirfd, leaf, path);
		break;
	default:
		if (symlinkat(archive_entry_symlink(e), dirfd, leaf))
			ret = p2pdma_err(u->ctx, -errno, "%s: %s: %s", u->name, path,
					 errno == EEXIST ? "listed twice" : strerror(errno));
		break;
	}
	close(dirfd);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void p2pdma_sysfs_cleanup(char *dir)
{
	if (!dir)
		return;
	/* Depth first, never following a symlink (FTW_PHYS). */
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static bool has_devices(int dirfd, const char *sub)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%sbus/pci/devices", sub, *sub ? "/" : "");
	return !fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode);
}

int p2pdma_sysfs_unpack(struct p2pdma_ctx *ctx, const struct p2pdma_input *in,
			char **tmpdir, char **root)
{
	struct unpack u = { .ctx = ctx, .name = in->name, .rootfd = -1 };
	const char *tdir = getenv("TMPDIR");
	struct archive *a = NULL;
	struct archive_entry *e;
	unsigned int n = 0;
	char *dir;
	int ret = 0, r;

	*tmpdir = *root = NULL;
	if (!tdir || !*tdir)
		tdir = "/tmp";
	if (asprintf(&dir, "%s/p2pdma-sysfs-XXXXXX", tdir) < 0)
		return p2pdma_err(ctx, -ENOMEM, "%s: out of memory", in->name);
	if (!mkdtemp(dir)) {
		ret = p2pdma_err(ctx, -errno, "%s: cannot make a directory to unpack into: %s",
				 in->name, strerror(errno));
		free(dir);
		return ret;
	}
	u.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	a = archive_read_new();
	if (u.rootfd < 0 || !a) {
		ret = p2pdma_err(ctx, -ENOMEM, "%s: out of memory", in->name);
		goto out;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, in->data, in->len) != ARCHIVE_OK) {
		ret = p2pdma_err(ctx, -EINVAL, "%s: not a tar or tar.gz archive: %s", in->name,
				 archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		if (++n > SYSFS_MAX_ENTRIES) {
			ret = p2pdma_err(ctx, -EFBIG, "%s: more than %u entries, the limit for a sysfs capture",
					 in->name, SYSFS_MAX_ENTRIES);
			goto out;
		}
		ret = unpack_entry(&u, a, e);
		if (ret)
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		ret = p2pdma_err(ctx, -EINVAL, "%s: %s (entry %u): not a tar.gz capture, or cut short or damaged",
				 in->name, archive_error_string(a) ? archive_error_string(a) : "unreadable",
				 n + 1);
		goto out;
	}
	/* capture-sysfs.sh puts everything under sysfs/; a bare tree works too. */
	if (has_devices(u.rootfd, "")) {
		*root = strdup(dir);
	} else {
		DIR *d = fdopendir(dup(u.rootfd));
		struct dirent *de;
		char *only = NULL;
		unsigned int ntop = 0;

		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
				continue;
			ntop++;
			if (has_devices(u.rootfd, de->d_name) && !only)
				only = strdup(de->d_name);
		}
		if (d)
			closedir(d);
		if (only && ntop == 1 && asprintf(root, "%s/%s", dir, only) < 0)
			*root = NULL;
		free(only);
		if (!*root) {
			ret = p2pdma_err(ctx, -ENOENT,
					 "%s: not a sysfs capture (no bus/pci/devices at its top or in its one top directory)",
					 in->name);
			goto out;
		}
	}
	if (!*root)
		ret = p2pdma_err(ctx, -ENOMEM, "%s: out of memory", in->name);
out:
	if (a)
		archive_read_free(a);
	if (u.rootfd >= 0)
		close(u.rootfd);
	if (ret) {
		free(*root);
		*root = NULL;
		p2pdma_sysfs_cleanup(dir);
		return ret;
	}
	*tmpdir = dir;
	return 0;
}
