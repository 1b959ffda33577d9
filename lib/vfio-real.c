// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfio-real.c - VFIO_DEVICE_FEATURE_DMA_BUF on a real kernel, and the model's explanation of its errors */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio-private.h"

/* include/uapi/linux/vfio.h (the system's headers may predate 6.19). */
#define VFIO_TYPE_CH		';'
#define VFIO_BASE		100
#define R_VFIO_SET_IOMMU	_IO(VFIO_TYPE_CH, VFIO_BASE + 2)
#define R_VFIO_GROUP_GET_STATUS	_IO(VFIO_TYPE_CH, VFIO_BASE + 3)
#define R_VFIO_GROUP_SET_CONTAINER _IO(VFIO_TYPE_CH, VFIO_BASE + 4)
#define R_VFIO_GROUP_GET_DEVICE_FD _IO(VFIO_TYPE_CH, VFIO_BASE + 6)
#define R_VFIO_DEVICE_FEATURE	_IO(VFIO_TYPE_CH, VFIO_BASE + 17)
#define R_VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE_CH, VFIO_BASE + 18)
#define R_VFIO_TYPE1v2_IOMMU	3
#define R_VFIO_GROUP_FLAGS_VIABLE 1

_Static_assert(R_VFIO_DEVICE_FEATURE == P2PDMA_VFIO_DEVICE_FEATURE, "VFIO_DEVICE_FEATURE");

struct r_group_status {
	uint32_t argsz;
	uint32_t flags;
};

struct r_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
};

struct p2pdma_vfio_real {
	struct p2pdma_ctx *ctx;
	int devfd;
	int iommufd;
	int group;
	int container;
	bool own;
	char bdf[32];
};

/* snprintf() of a path; -ENAMETOOLONG when it does not fit. */
static int mkpath(char *buf, size_t n, const char *fmt, ...) P2PDMA_PRINTF(3, 4);
static int mkpath(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

static int norm_bdf(const char *in, char *out, size_t n)
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;

	if (sscanf(in, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) == 4 ||
	    (dom = 0, sscanf(in, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3)) {
		if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
			return -EINVAL;
		snprintf(out, n, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
		return 0;
	}
	return -EINVAL;
}

static void close_all(struct p2pdma_vfio_real *r)
{
	if (r->own && r->devfd >= 0)
		close(r->devfd);
	if (r->iommufd >= 0)
		close(r->iommufd);
	if (r->group >= 0)
		close(r->group);
	if (r->container >= 0)
		close(r->container);
}

static struct p2pdma_vfio_real *real_new(struct p2pdma_ctx *ctx)
{
	struct p2pdma_vfio_real *r = p2pdma_zalloc(ctx, 1, sizeof(*r));

	if (!r)
		return NULL;
	r->ctx = ctx;
	r->devfd = r->iommufd = r->group = r->container = -1;
	return r;
}

/* The cdev: /dev/vfio/devices/vfioN bound to a fresh iommufd. */
static int open_cdev(struct p2pdma_vfio_real *r, const char *root, const char *sys)
{
	char path[PATH_MAX], node[PATH_MAX];
	struct r_bind_iommufd bind = { sizeof(bind), 0, -1, 0 };
	struct dirent *e;
	DIR *d;
	int err;

	if (mkpath(path, sizeof(path), "%s/vfio-dev", sys))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -ENOENT;
	node[0] = '\0';
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4) &&
		    mkpath(node, sizeof(node), "%s/dev/vfio/devices/%s", root, e->d_name))
			node[0] = '\0';
	closedir(d);
	if (!node[0])
		return -ENOENT;
	r->devfd = open(node, O_RDWR | O_CLOEXEC);
	if (r->devfd < 0)
		return p2pdma_err(r->ctx, -errno, "%s: %s", node, strerror(errno));
	if (mkpath(path, sizeof(path), "%s/dev/iommu", root))
		return -ENAMETOOLONG;
	r->iommufd = open(path, O_RDWR | O_CLOEXEC);
	if (r->iommufd < 0)
		return p2pdma_err(r->ctx, -errno, "%s: %s (the cdev needs iommufd)", path, strerror(errno));
	bind.iommufd = r->iommufd;
	if (ioctl(r->devfd, R_VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		err = -errno;
		return p2pdma_err(r->ctx, err, "VFIO_DEVICE_BIND_IOMMUFD on %s: %s%s", node, strerror(-err),
				  err == -ENOTTY ? " (not a VFIO cdev: a kernel before 6.6, or not a VFIO device)" :
				  err == -EBUSY ? " (the IOMMU group has a device with a host driver, or it is open elsewhere)" : "");
	}
	return 0;
}

/* The group: /dev/vfio/GROUP in a type1 container. */
static int open_group(struct p2pdma_vfio_real *r, const char *root, const char *sys,
		      const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct r_group_status st = { sizeof(st), 0 };
	const char *g;
	ssize_t n;
	int err;

	if (mkpath(path, sizeof(path), "%s/iommu_group", sys))
		return -ENAMETOOLONG;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return p2pdma_err(r->ctx, -ENOENT, "%s has no IOMMU group (no IOMMU, and no noiommu VFIO)", bdf);
	link[n] = '\0';
	g = strrchr(link, '/');
	g = g ? g + 1 : link;
	if (mkpath(path, sizeof(path), "%s/dev/vfio/%s", root, g))
		return -ENAMETOOLONG;
	r->group = open(path, O_RDWR | O_CLOEXEC);
	if (r->group < 0) {
		err = -errno;
		if (mkpath(link, sizeof(link), "%s/dev/vfio/noiommu-%s", root, g))
			return -ENAMETOOLONG;
		r->group = open(link, O_RDWR | O_CLOEXEC);
		if (r->group < 0)
			return p2pdma_err(r->ctx, err, "%s: %s", path, strerror(-err));
	}
	if (ioctl(r->group, R_VFIO_GROUP_GET_STATUS, &st))
		return p2pdma_err(r->ctx, -errno, "VFIO_GROUP_GET_STATUS: %s", strerror(errno));
	if (!(st.flags & R_VFIO_GROUP_FLAGS_VIABLE))
		return p2pdma_err(r->ctx, -EBUSY,
				  "IOMMU group %s is not viable: another function in it has a host driver", g);
	if (mkpath(path, sizeof(path), "%s/dev/vfio/vfio", root))
		return -ENAMETOOLONG;
	r->container = open(path, O_RDWR | O_CLOEXEC);
	if (r->container < 0)
		return p2pdma_err(r->ctx, -errno, "%s: %s", path, strerror(errno));
	if (ioctl(r->group, R_VFIO_GROUP_SET_CONTAINER, &r->container))
		return p2pdma_err(r->ctx, -errno, "VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
	if (ioctl(r->container, R_VFIO_SET_IOMMU, R_VFIO_TYPE1v2_IOMMU)) {
		err = -errno;
		return p2pdma_err(r->ctx, err, "VFIO_SET_IOMMU(type1v2): %s%s", strerror(-err),
				  err == -EPERM ? " (the IOMMU cannot isolate the group's MSIs: no interrupt remapping;"
				  " vfio_iommu_type1.allow_unsafe_interrupts=1 accepts that)" : "");
	}
	r->devfd = ioctl(r->group, R_VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (r->devfd < 0)
		return p2pdma_err(r->ctx, -errno, "VFIO_GROUP_GET_DEVICE_FD(%s): %s", bdf, strerror(errno));
	return 0;
}

P2PDMA_EXPORT int p2pdma_vfio_real_open(struct p2pdma_ctx *ctx, const char *root,
					const char *bdf, struct p2pdma_vfio_real **out)
{
	char sys[PATH_MAX], path[PATH_MAX], link[PATH_MAX], name[32];
	struct p2pdma_vfio_real *r;
	const char *drv;
	ssize_t n;
	int ret;

	*out = NULL;
	if (!root || !*root)
		root = "";
	else if (!strcmp(root, "/"))
		root = "";
	if (norm_bdf(bdf, name, sizeof(name)))
		return p2pdma_err(ctx, -EINVAL, "'%s' is not a PCI address", bdf);
	if (mkpath(sys, sizeof(sys), "%s/sys/bus/pci/devices/%s", root, name))
		return -ENAMETOOLONG;
	if (access(sys, F_OK))
		return p2pdma_err(ctx, -ENOENT, "no PCI function %s on this machine", name);
	if (mkpath(path, sizeof(path), "%s/driver", sys))
		return -ENAMETOOLONG;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return p2pdma_err(ctx, -ENOENT, "%s has no driver: bind it to vfio-pci first (driverctl set-override %s vfio-pci)",
				  name, name);
	link[n] = '\0';
	drv = strrchr(link, '/');
	drv = drv ? drv + 1 : link;
	if (!strstr(drv, "vfio"))
		return p2pdma_err(ctx, -ENOENT, "%s is driven by %s, not vfio-pci: no VFIO device (driverctl set-override %s vfio-pci)",
				  name, drv, name);
	r = real_new(ctx);
	if (!r)
		return -ENOMEM;
	r->own = true;
	snprintf(r->bdf, sizeof(r->bdf), "%s", name);
	ret = open_cdev(r, root, sys);
	if (ret == -ENOENT) {
		close_all(r);
		r->devfd = r->iommufd = -1;
		ret = open_group(r, root, sys, name);
	}
	if (ret) {
		close_all(r);
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

P2PDMA_EXPORT int p2pdma_vfio_real_wrap(struct p2pdma_ctx *ctx, int devfd,
					struct p2pdma_vfio_real **out)
{
	*out = real_new(ctx);
	if (!*out)
		return -ENOMEM;
	(*out)->devfd = devfd;
	return 0;
}

P2PDMA_EXPORT void p2pdma_vfio_real_close(struct p2pdma_vfio_real *r)
{
	if (!r)
		return;
	close_all(r);
	free(r);
}

/* The usual meaning of an errno of the feature ioctl. */
static int explain_errno(struct p2pdma_vfio_real *r, int err)
{
	const char *what;

	switch (err) {
	case -ENOTTY:
		what = "this kernel has no VFIO dma-buf export (VFIO_DEVICE_FEATURE_DMA_BUF arrived in Linux 6.19 and needs CONFIG_VFIO_PCI_DMABUF, i.e. PCI_P2PDMA and DMA_SHARED_BUFFER), or the descriptor is no VFIO device";
		break;
	case -EOPNOTSUPP:
		what = "the bound driver cannot export (a vfio-pci variant driver without get_dmabuf_phys)";
		break;
	case -ENODEV:
		what = "the region is not a BAR (index 6 or more), or the device is being unbound";
		break;
	case -EFAULT:
		what = "the kernel could not read the request (argsz or nr_ranges beyond the buffer)";
		break;
	case -EINVAL:
		what = "a malformed request: see the model's explanation";
		break;
	case -EOVERFLOW:
		what = "a range overflows the physical address space";
		break;
	case -ENOMEM:
		what = "too many ranges (more than kmalloc gives) or out of memory";
		break;
	case -EMFILE:
		what = "no free file descriptor in this process";
		break;
	default:
		what = strerror(-err);
		break;
	}
	return p2pdma_err(r->ctx, err, "VFIO_DEVICE_FEATURE(DMA_BUF): %s (%s)", strerror(-err), what);
}

P2PDMA_EXPORT int p2pdma_vfio_real_feature(struct p2pdma_vfio_real *r, const void *arg,
					   size_t len)
{
	uint64_t *buf;
	int ret;

	if (len < 8)
		return p2pdma_err(r->ctx, -EINVAL, "a request starts with argsz and flags (8 bytes)");
	/* An aligned, writable copy (the kernel writes nothing back here). */
	buf = p2pdma_alloc(r->ctx, (len + 7) & ~(size_t)7);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, arg, len);
	ret = ioctl(r->devfd, R_VFIO_DEVICE_FEATURE, buf);
	free(buf);
	if (ret < 0)
		return explain_errno(r, -errno);
	return ret;
}

P2PDMA_EXPORT int p2pdma_vfio_real_probe(struct p2pdma_vfio_real *r)
{
	uint32_t req[2] = { 8, P2PDMA_VFIO_DEVICE_FEATURE_PROBE | P2PDMA_VFIO_DEVICE_FEATURE_GET |
			       P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF };

	return p2pdma_vfio_real_feature(r, req, sizeof(req));
}

P2PDMA_EXPORT int p2pdma_vfio_real_explain(struct p2pdma_ctx *ctx, const char *root,
					   const char *bdf, const void *arg, size_t len,
					   int err, struct p2pdma_vfio_explain *ex)
{
	struct p2pdma_topo *t = NULL;
	struct p2pdma_policy *pol = NULL;
	struct p2pdma_kernel *k = NULL;
	struct p2pdma_vfio_dev *v;
	const struct p2pdma_dev *d;
	char name[32];
	int ret;

	if (norm_bdf(bdf, name, sizeof(name)))
		return p2pdma_err(ctx, -EINVAL, "'%s' is not a PCI address", bdf);
	ret = p2pdma_topo_load_root(ctx, root, &t);
	if (!ret)
		ret = p2pdma_policy_from_machine(ctx, t, &pol);
	if (!ret)
		ret = p2pdma_kernel_boot(ctx, t, pol, &k);
	if (ret)
		goto out;
	d = p2pdma_topo_find(p2pdma_kernel_topo(k), name);
	if (!d) {
		ret = p2pdma_err(ctx, -ENOENT, "the model of this machine has no %s", name);
		goto out;
	}
	if (p2pdma_kernel_driver(k, d))
		p2pdma_kernel_unbind(k, d);
	ret = p2pdma_vfio_bind(k, d, NULL, &v);
	if (ret == -EINVAL) {
		struct p2pdma_vfio_bind_opts o = { sizeof(o), P2PDMA_VFIO_PCI, false, true, 0, 0, 0, 0 };

		ret = p2pdma_vfio_bind(k, d, &o, &v);	/* noiommu VFIO */
	}
	if (!ret) {
		/* The other functions of its group are the real machine's
		 * business: the call got a descriptor, so the group was viable. */
		v->opts.noiommu = true;
		ret = p2pdma_vfio_open(v);
	}
	if (ret)
		goto out;
	ret = p2pdma_vfio_explain(v, arg, len, ex);
	/* The model goes with this call: keep the words, not the pointers. */
	{
		size_t i;

		for (i = 0; i < ex->nimp; i++)
			ex->imp[i].dev = NULL;
	}
	if (ret == -ENOMEM && !p2pdma_vfio_explain_num_steps(ex))
		goto out;
	ret = ret == err ? 0 : -EDOM;
out:
	p2pdma_kernel_shutdown(k);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
	return ret;
}
