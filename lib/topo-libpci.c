// SPDX-License-Identifier: LGPL-2.1-or-later
/* topo-libpci.c - topology sources through libpci: live sysfs, captured sysfs, lspci dumps */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <dirent.h>

/*
 * The only file that includes libpci's header: libpci owns the pci_*
 * namespace, the rest of the library never sees it (doc/architecture.md).
 */
#include <pci/pci.h>

#include "input-private.h"
#include "names-private.h"
#include "topo-private.h"

/* --- trapping libpci's fatal errors --- */

/*
 * libpci's default error handler prints and calls exit(). Ours jumps back
 * to the libpci call site in this file, which turns the message into a
 * negative errno on the context. The trap is per thread, and nests.
 */
struct lp_trap {
	jmp_buf jb;
	struct p2pdma_ctx *ctx;
	struct lp_trap *prev;
	char msg[256];
};

static _Thread_local struct lp_trap *lp_current;

static void lp_trap_enter(struct lp_trap *t, struct p2pdma_ctx *ctx)
{
	t->ctx = ctx;
	t->msg[0] = '\0';
	t->prev = lp_current;
	lp_current = t;
}

static void lp_trap_leave(struct lp_trap *t)
{
	lp_current = t->prev;
}

static void lp_error(char *msg, ...) PCI_PRINTF(1, 2) PCI_NONRET;
static void lp_error(char *msg, ...)
{
	struct lp_trap *t = lp_current;
	va_list ap;

	/*
	 * Every libpci call in this file runs under a trap; without one
	 * there is nowhere to return to and libpci forbids returning.
	 */
	if (!t)
		abort();
	va_start(ap, msg);
	vsnprintf(t->msg, sizeof(t->msg), msg, ap);
	va_end(ap);
	longjmp(t->jb, 1);
}

static void lp_vlog(enum p2pdma_log_level level, const char *msg, va_list ap)
	P2PDMA_PRINTF(2, 0);
static void lp_vlog(enum p2pdma_log_level level, const char *msg, va_list ap)
{
	char buf[256];

	vsnprintf(buf, sizeof(buf), msg, ap);
	if (lp_current)
		p2pdma_log(lp_current->ctx, level, "libpci: %s", buf);
}

static void lp_warning(char *msg, ...) PCI_PRINTF(1, 2);
static void lp_warning(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	lp_vlog(P2PDMA_LOG_WARNING, msg, ap);
	va_end(ap);
}

static void lp_debug(char *msg, ...) PCI_PRINTF(1, 2);
static void lp_debug(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	lp_vlog(P2PDMA_LOG_DEBUG, msg, ap);
	va_end(ap);
}

/* pci_set_param() takes non-const strings: hand it copies. */
static int lp_set_param(struct pci_access *a, const char *name, const char *value)
{
	char n[64], v[4096];

	if (snprintf(n, sizeof(n), "%s", name) >= (int)sizeof(n) ||
	    snprintf(v, sizeof(v), "%s", value) >= (int)sizeof(v))
		return -ENAMETOOLONG;
	return pci_set_param(a, n, v) ? -ENOENT : 0;
}

static struct pci_access *lp_alloc(void)
{
	struct pci_access *a = pci_alloc();

	if (!a)
		return NULL;
	a->error = lp_error;
	a->warning = lp_warning;
	a->debug = lp_debug;
	return a;
}

/* --- names --- */

/*
 * Names back to IDs. libpci can print a name for an ID but cannot list
 * its entries, so the candidates come from reading the ID file it uses
 * (once, on first need) and each one is then printed again through
 * pci_lookup_name(): a candidate counts only if libpci prints it exactly as
 * the text has it. Keys: vendors (0, 0), devices (vendor, 0), subsystems
 * (vendor, device), classes (0, 0) with base << 8 | sub.
 */
struct rid {
	uint16_t k0, k1;
	uint16_t id0, id1;
	const char *name;
};

struct rid_index {
	struct rid *v;
	size_t n, cap;
};

struct p2pdma_names {
	struct p2pdma_ctx *ctx;
	struct pci_access *a;
	bool broken;		/* the database failed to parse: stop asking */
	bool rev_built;		/* the reverse index was read (maybe empty) */
	char *ids_text;		/* the ID file, names point into it */
	struct rid_index vendors, devices, subsys, classes;
};

static int names_open(struct p2pdma_ctx *ctx, bool always, struct p2pdma_names **out)
{
	const char *off = p2pdma_ctx_get_param(ctx, "names");
	const char *ids = p2pdma_ctx_get_param(ctx, "pci.ids");
	struct p2pdma_names *n;

	*out = NULL;
	if (!always && off && !strcmp(off, "0"))
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->ctx = ctx;
	n->a = lp_alloc();
	if (!n->a) {
		free(n);
		return -ENOMEM;
	}
	if (ids) {
		char *copy = p2pdma_strdup(ids);

		if (!copy) {
			p2pdma_names_close(n);
			return -ENOMEM;
		}
		/* libpci frees it (to_be_freed = 1) with pci_cleanup(). */
		pci_set_name_list_path(n->a, copy, 1);
	}
	/*
	 * The ID file only, never udev's hwdb: names then depend on one
	 * file (reproducible goldens), and libpci 3.9 leaks the udev
	 * context it opens for hwdb, which sanitizer builds report.
	 */
	lp_set_param(n->a, "hwdb.disable", "1");
	/* Never ask DNS (PCI_LOOKUP_NETWORK stays off). */
	*out = n;
	return 0;
}

int p2pdma_names_open(struct p2pdma_ctx *ctx, struct p2pdma_names **out)
{
	return names_open(ctx, false, out);
}

int p2pdma_names_open_db(struct p2pdma_ctx *ctx, struct p2pdma_names **out)
{
	return names_open(ctx, true, out);
}

void p2pdma_names_close(struct p2pdma_names *n)
{
	struct lp_trap trap;

	if (!n)
		return;
	free(n->vendors.v);
	free(n->devices.v);
	free(n->subsys.v);
	free(n->classes.v);
	free(n->ids_text);
	lp_trap_enter(&trap, n->ctx);
	if (!setjmp(trap.jb))
		pci_cleanup(n->a);
	lp_trap_leave(&trap);
	free(n);
}

/*
 * pci_lookup_name() loads the database on first use and calls the error
 * handler when it is malformed: trap that, and remember the database as
 * broken rather than failing the load.
 */
static const char *lookup(struct p2pdma_names *n, char *buf, size_t len,
			  int flags, int a1, int a2)
{
	struct lp_trap trap;
	const char *volatile res = NULL;

	if (!n || n->broken || len == 0)
		return NULL;
	lp_trap_enter(&trap, n->ctx);
	if (!setjmp(trap.jb)) {
		res = pci_lookup_name(n->a, buf, (int)len,
				      flags | PCI_LOOKUP_NO_NUMBERS, a1, a2);
	} else {
		n->broken = true;
		p2pdma_log(n->ctx, P2PDMA_LOG_WARNING,
			   "PCI ID database unusable, names left out: %s",
			   trap.msg);
		res = NULL;
	}
	lp_trap_leave(&trap);
	return res;
}

const char *p2pdma_names_vendor(struct p2pdma_names *n, uint16_t vendor,
				char *buf, size_t len)
{
	return lookup(n, buf, len, PCI_LOOKUP_VENDOR, vendor, 0);
}

const char *p2pdma_names_device(struct p2pdma_names *n, uint16_t vendor,
				uint16_t device, char *buf, size_t len)
{
	return lookup(n, buf, len, PCI_LOOKUP_DEVICE, vendor, device);
}

const char *p2pdma_names_class(struct p2pdma_names *n, uint32_t class_code,
			       char *buf, size_t len)
{
	return lookup(n, buf, len, PCI_LOOKUP_CLASS, (int)(class_code >> 8), 0);
}

/* --- names back to IDs, for text that only carries names (lspci -v) --- */

/*
 * pci_lookup_name() with exactly @flags and a buffer of @size bytes, as
 * lspci called it: long names come back cut to size - 1 with "..." at the
 * end, and comparing at the same size compares the cut text too.
 */
static const char *format(struct p2pdma_names *n, char *buf, size_t size,
			  int flags, int a1, int a2, int a3, int a4)
{
	struct lp_trap trap;
	const char *volatile res = NULL;

	if (!n || n->broken)
		return NULL;
	lp_trap_enter(&trap, n->ctx);
	if (!setjmp(trap.jb)) {
		res = pci_lookup_name(n->a, buf, (int)size, flags, a1, a2, a3, a4);
	} else {
		n->broken = true;
		p2pdma_log(n->ctx, P2PDMA_LOG_WARNING,
			   "PCI ID database unusable, names left out: %s", trap.msg);
		res = NULL;
	}
	lp_trap_leave(&trap);
	return res;
}

/* Is there a database at all? libpci loads it on the first lookup. */
static bool db_usable(struct p2pdma_names *n)
{
	char buf[8];

	if (!n || n->broken)
		return false;
	format(n, buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, 0, 0, 0, 0);
	return !n->broken && !n->a->id_load_failed;
}

static int rid_add(struct rid_index *x, uint16_t k0, uint16_t k1, uint16_t id0,
		   uint16_t id1, const char *name)
{
	if (x->n == x->cap) {
		size_t ncap = x->cap ? x->cap * 2 : 1024;
		struct rid *nv = realloc(x->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		x->v = nv;
		x->cap = ncap;
	}
	x->v[x->n++] = (struct rid){ k0, k1, id0, id1, name };
	return 0;
}

static int rid_cmp(const void *a, const void *b)
{
	const struct rid *x = a, *y = b;

	if (x->k0 != y->k0)
		return x->k0 < y->k0 ? -1 : 1;
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* 4 hex digits at @s followed by white space; -1 if not. */
static int hex4(const char *s)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		int c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (c - 'A' + 10);
		else
			return -1;
	}
	return s[4] == ' ' || s[4] == '\t' ? v : -1;
}

static const char *name_at(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * Read the ID file libpci uses (pci.ids syntax: "vvvv  name", "\tdddd  name",
 * "\t\tssss ssss  name", "C cc  name", "\tss  name"). Only candidates come
 * from here; anything it gets wrong fails the forward check.
 */
static int rev_build(struct p2pdma_names *n)
{
	const char *path = n->a->id_file_name;
	size_t len = 0, cap = 0;
	int vendor = -1, device = -1, cls = -1, ret = 0;
	char *p, *line;
	FILE *f;

	n->rev_built = true;
	if (!path || !(f = fopen(path, "r")))
		return 0;
	for (;;) {
		size_t r;

		if (cap - len < 65536) {
			char *nb = realloc(n->ids_text, cap + 1048576);

			if (!nb) {
				fclose(f);
				return -ENOMEM;
			}
			n->ids_text = nb;
			cap += 1048576;
		}
		r = fread(n->ids_text + len, 1, cap - len - 1, f);
		if (!r)
			break;
		len += r;
		/* The real file is ~1.3 MB: far above that, it is not one. */
		if (len > (64u << 20))
			break;
	}
	fclose(f);
	if (!n->ids_text)
		return 0;
	n->ids_text[len] = '\0';
	for (p = n->ids_text; *p && !ret; ) {
		char *nl = strchr(p, '\n');
		int a, b;

		line = p;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : p + strlen(p);
		if (!*line || *line == '#')
			continue;
		if (line[0] == 'C' && line[1] == ' ') {
			vendor = -1;
			cls = (isxdigit((unsigned char)line[2]) && isxdigit((unsigned char)line[3])) ?
			      (int)strtol(line + 2, NULL, 16) : -1;
			continue;
		}
		if (line[0] != '\t') {
			cls = -1;
			device = -1;
			vendor = hex4(line);
			if (vendor >= 0)
				ret = rid_add(&n->vendors, 0, 0, (uint16_t)vendor, 0, name_at(line + 4));
			continue;
		}
		if (line[1] != '\t') {
			if (cls >= 0) {
				if (isxdigit((unsigned char)line[1]) && isxdigit((unsigned char)line[2]) &&
				    (line[3] == ' ' || line[3] == '\t'))
					ret = rid_add(&n->classes, 0, 0,
						      (uint16_t)(cls << 8 | (int)strtol(line + 1, NULL, 16)),
						      0, name_at(line + 3));
				continue;
			}
			device = vendor >= 0 ? hex4(line + 1) : -1;
			if (device >= 0)
				ret = rid_add(&n->devices, (uint16_t)vendor, 0, (uint16_t)device, 0,
					      name_at(line + 5));
			continue;
		}
		if (vendor < 0 || device < 0 || (a = hex4(line + 2)) < 0 || (b = hex4(line + 7)) < 0)
			continue;
		ret = rid_add(&n->subsys, (uint16_t)vendor, (uint16_t)device, (uint16_t)a,
			      (uint16_t)b, name_at(line + 11));
	}
	if (ret)
		return ret;
	qsort(n->vendors.v, n->vendors.n, sizeof(struct rid), rid_cmp);
	qsort(n->devices.v, n->devices.n, sizeof(struct rid), rid_cmp);
	qsort(n->subsys.v, n->subsys.n, sizeof(struct rid), rid_cmp);
	qsort(n->classes.v, n->classes.n, sizeof(struct rid), rid_cmp);
	return 0;
}

/* Order of an entry against (k0, k1, s[0..len)): exact name, or as a prefix. */
static int key_cmp(const struct rid *r, uint16_t k0, uint16_t k1, const char *s,
		   size_t len, bool prefix)
{
	int c;

	if (r->k0 != k0)
		return r->k0 < k0 ? -1 : 1;
	if (r->k1 != k1)
		return r->k1 < k1 ? -1 : 1;
	c = strncmp(r->name, s, len);
	if (c || prefix)
		return c;
	return r->name[len] != '\0';	/* longer names sort after the key */
}

/* The entries under (k0, k1) named s[0..len) (or starting with it): [*first, *first + return). */
static size_t rid_find(const struct rid_index *x, uint16_t k0, uint16_t k1,
		       const char *s, size_t len, bool prefix, size_t *first)
{
	size_t lo = 0, hi = x->n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(&x->v[mid], k0, k1, s, len, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < x->n && !key_cmp(&x->v[end], k0, k1, s, len, prefix); end++)
		;
	*first = lo;
	return end - lo;
}

static int rev_ready(struct p2pdma_names *n)
{
	if (!db_usable(n))
		return -ENOENT;
	if (!n->rev_built) {
		int ret = rev_build(n);

		if (ret)
			return ret;
	}
	return n->vendors.n ? 0 : -ENOENT;
}

/* A cut name: as long as the buffer allowed, ending in "...". */
static bool is_cut(const char *text, size_t bufsize)
{
	size_t l = strlen(text);

	return l == bufsize - 1 && l >= 3 && !strcmp(text + l - 3, "...");
}

static int add_candidate(uint32_t *cand, size_t *ncand, uint32_t v)
{
	size_t i;

	for (i = 0; i < *ncand; i++)
		if (cand[i] == v)
			return 0;
	if (*ncand < P2PDMA_NAMES_MAX_CANDIDATES)
		cand[*ncand] = v;
	(*ncand)++;
	return 0;
}

/*
 * Does (@v, @d) print as @text? Plainly, or, for a cut text, also with
 * lspci -nn's " [vvvv:dddd]" that the cut removed.
 */
static bool prints_as(struct p2pdma_names *n, const char *text, size_t bufsize,
		      bool cut, int pflags, const uint16_t *sub, uint16_t v, uint16_t d)
{
	char buf[256];
	int mode;

	for (mode = 0; mode < (cut ? 2 : 1); mode++) {
		int fl = pflags | (mode ? PCI_LOOKUP_MIXED : 0);
		const char *f = sub ? format(n, buf, bufsize, fl, sub[0], sub[1], v, d) :
				      format(n, buf, bufsize, fl, v, d, 0, 0);

		if (f && !strcmp(f, text))
			return true;
	}
	return false;
}

int p2pdma_names_find_class(struct p2pdma_names *n, const char *text,
			    uint32_t *cand, size_t *ncand)
{
	char buf[128];
	size_t first, count, i;
	int ret;

	*ncand = 0;
	ret = rev_ready(n);
	if (ret)
		return ret;
	count = rid_find(&n->classes, 0, 0, text, strlen(text), false, &first);
	for (i = first; i < first + count; i++) {
		const char *f = format(n, buf, sizeof(buf), PCI_LOOKUP_CLASS,
				       n->classes.v[i].id0, 0, 0, 0);

		if (f && !strcmp(f, text))
			add_candidate(cand, ncand, n->classes.v[i].id0);
	}
	return 0;
}

/*
 * "Vendor Device" as pci_lookup_name(VENDOR | DEVICE) prints it into a
 * @bufsize buffer, or with @sub the "Subvendor Subsystem" of that device.
 * Candidates are (id1 << 16 | id2), each checked by printing it again.
 */
int p2pdma_names_find_pair(struct p2pdma_names *n, const char *text, size_t bufsize,
			   const uint16_t *sub, uint32_t *cand, size_t *ncand)
{
	int pflags = sub ? PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | PCI_LOOKUP_SUBSYSTEM :
			   PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE;
	bool cut = is_cut(text, bufsize);
	size_t tl = strlen(text), k;
	int ret;

	*ncand = 0;
	if (bufsize > 256)
		return -EINVAL;
	ret = rev_ready(n);
	if (ret)
		return ret;
	/* Every split "VENDOR REST" whose VENDOR is a vendor's whole name. */
	for (k = 1; k < tl; k++) {
		const char *rest = text + k + 1;
		size_t first, count, i, rl = strlen(rest);

		if (text[k] != ' ')
			continue;
		count = rid_find(&n->vendors, 0, 0, text, k, false, &first);
		for (i = first; i < first + count; i++) {
			uint16_t v = n->vendors.v[i].id0;
			size_t f2, c2, j;
			unsigned int num;
			char tail;

			/* "Vendor Device 1234": the device is not in the database. */
			if (rl == 11 && sscanf(rest, "Device %4x%c", &num, &tail) == 1) {
				if (prints_as(n, text, bufsize, cut, pflags, sub, v, (uint16_t)num))
					add_candidate(cand, ncand, (uint32_t)v << 16 | num);
				continue;
			}
			if (!sub) {
				c2 = rid_find(&n->devices, v, 0, rest, cut ? rl - 3 : rl, cut, &f2);
				for (j = f2; j < f2 + c2; j++) {
					uint16_t d = n->devices.v[j].id0;

					if (prints_as(n, text, bufsize, cut, pflags, NULL, v, d))
						add_candidate(cand, ncand, (uint32_t)v << 16 | d);
				}
				continue;
			}
			/* A subsystem: its entry under the device, or the device itself. */
			c2 = rid_find(&n->subsys, sub[0], sub[1], rest, cut ? rl - 3 : rl, cut, &f2);
			for (j = f2; j < f2 + c2; j++) {
				const struct rid *r = &n->subsys.v[j];

				if (r->id0 == v && prints_as(n, text, bufsize, cut, pflags, sub, v, r->id1))
					add_candidate(cand, ncand, (uint32_t)v << 16 | r->id1);
			}
			if (v == sub[0] && prints_as(n, text, bufsize, cut, pflags, sub, v, sub[1]))
				add_candidate(cand, ncand, (uint32_t)v << 16 | sub[1]);
		}
	}
	return 0;
}

int p2pdma_names_fill(struct p2pdma_topo *topo)
{
	struct p2pdma_names *n;
	char buf[256];
	uint32_t i;
	int ret;

	ret = p2pdma_names_open(topo->ctx, &n);
	if (ret || !n)
		return ret;
	for (i = 0; i < topo->ndevs; i++) {
		struct p2pdma_dev *d = topo->devs[i];

		if (!d->vendor_name &&
		    p2pdma_names_vendor(n, d->vendor, buf, sizeof(buf))) {
			d->vendor_name = p2pdma_strdup(buf);
			if (!d->vendor_name) {
				ret = -ENOMEM;
				break;
			}
		}
		if (!d->device_name &&
		    p2pdma_names_device(n, d->vendor, d->device, buf, sizeof(buf))) {
			d->device_name = p2pdma_strdup(buf);
			if (!d->device_name) {
				ret = -ENOMEM;
				break;
			}
		}
	}
	p2pdma_names_close(n);
	return ret;
}

/* --- small file helpers for what libpci does not read --- */

/* Read the first line of @path into @buf without its newline. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *nl;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

static int read_u64(const char *path, uint64_t *out)
{
	char buf[64], *end;
	int ret = read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*out = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

/* "8.0 GT/s PCIe" -> 3 (PCI_EXP_LNKSTA_CLS_8_0GB), 0 if unknown. */
static uint8_t link_speed_code(const char *s)
{
	static const char *const speeds[] = {
		"2.5 ", "5.0 ", "8.0 ", "16.0 ", "32.0 ", "64.0 ",
	};
	size_t i;

	for (i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (!strncmp(s, speeds[i], strlen(speeds[i])))
			return (uint8_t)(i + 1);
	return 0;
}

/*
 * As non-root the config file yields 64 bytes, so the PCIe capability
 * (and its link registers) is out of sight; the kernel also publishes the
 * link in sysfs attributes, which everyone may read.
 */
static void sysfs_link(struct p2pdma_dev *dev, const char *devdir)
{
	char path[4096], buf[64];
	uint64_t v;

	if (dev->link.speed || dev->link.width || dev->link.max_speed ||
	    dev->link.max_width)
		return;
	snprintf(path, sizeof(path), "%s/current_link_speed", devdir);
	if (!read_line(path, buf, sizeof(buf)))
		dev->link.speed = link_speed_code(buf);
	snprintf(path, sizeof(path), "%s/max_link_speed", devdir);
	if (!read_line(path, buf, sizeof(buf)))
		dev->link.max_speed = link_speed_code(buf);
	snprintf(path, sizeof(path), "%s/current_link_width", devdir);
	if (!read_u64(path, &v) && v < 64)
		dev->link.width = (uint8_t)v;
	snprintf(path, sizeof(path), "%s/max_link_width", devdir);
	if (!read_u64(path, &v) && v < 64)
		dev->link.max_width = (uint8_t)v;
}

/* local_cpulist: the CPUs of the function's NUMA node (or all of them). */
static void sysfs_cpulist(struct p2pdma_dev *dev, const char *devdir)
{
	char path[4096], buf[P2PDMA_CPULIST_MAX + 2];

	snprintf(path, sizeof(path), "%s/local_cpulist", devdir);
	if (dev->local_cpulist || read_line(path, buf, sizeof(buf)) ||
	    !p2pdma_cpulist_valid(buf))
		return;
	dev->local_cpulist = p2pdma_strdup(buf);
}

/* p2pmem/{size,available,published}: pci_p2pdma_add_resource() made them. */
static void sysfs_p2pmem(struct p2pdma_dev *dev, const char *devdir)
{
	char path[4096];
	struct stat st;
	uint64_t v;

	snprintf(path, sizeof(path), "%s/p2pmem", devdir);
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return;
	dev->p2pmem.present = true;
	snprintf(path, sizeof(path), "%s/p2pmem/size", devdir);
	if (!read_u64(path, &v))
		dev->p2pmem.size = v;
	snprintf(path, sizeof(path), "%s/p2pmem/available", devdir);
	if (!read_u64(path, &v))
		dev->p2pmem.available = v;
	snprintf(path, sizeof(path), "%s/p2pmem/published", devdir);
	if (!read_u64(path, &v))
		dev->p2pmem.published = v != 0;
}

static char *dup_value(const char *s)
{
	const char *e;
	char *r;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	r = malloc((size_t)(e - s) + 1);
	if (r) {
		memcpy(r, s, (size_t)(e - s));
		r[e - s] = '\0';
	}
	return r;
}

/*
 * /proc/cpuinfo, the kernel release, /proc/cmdline, /sys/class/iommu: the
 * inputs of doc/kernel-model.md §1.2 and §2.7, under @root ("" for this
 * machine, where uname() also gives the release and architecture).
 */
static int machine_facts(struct p2pdma_machine *m, const char *root)
{
	char line[1024], path[4200];
	struct utsname u;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/cpuinfo", root);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *colon = strchr(line, ':');

			if (!colon)
				continue;
			if (!m->cpu_vendor && !strncmp(line, "vendor_id", 9))
				m->cpu_vendor = dup_value(colon + 1);
			else if (m->cpu_family < 0 && !strncmp(line, "cpu family", 10))
				m->cpu_family = atoi(colon + 1);
			else if (!m->cpu_model && !strncmp(line, "model name", 10))
				m->cpu_model = dup_value(colon + 1);
		}
		fclose(f);
	}
	if (!*root && !uname(&u)) {
		m->kernel = p2pdma_strdup(u.release);
		m->arch = p2pdma_strdup(u.machine);
		if (!m->kernel || !m->arch)
			return -ENOMEM;
	} else if (*root) {
		snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease", root);
		if (!read_line(path, line, sizeof(line)) &&
		    !(m->kernel = p2pdma_strdup(line)))
			return -ENOMEM;
		snprintf(path, sizeof(path), "%s/proc/sys/kernel/arch", root);
		if (!read_line(path, line, sizeof(line)) &&
		    !(m->arch = p2pdma_strdup(line)))
			return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/proc/cmdline", root);
	if (!read_line(path, line, sizeof(line))) {
		m->cmdline = p2pdma_strdup(line);
		if (!m->cmdline)
			return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/sys/class/iommu", root);
	dir = opendir(path);
	if (dir) {
		struct dirent *e;

		m->iommu = 0;
		while ((e = readdir(dir)))
			if (e->d_name[0] != '.')
				m->iommu = 1;
		closedir(dir);
	}
	return 0;
}

/* --- lspci dump validation --- */

/* libpci's dump_validate(): '#' is a hex digit, anything else literal. */
static bool dump_match(const char *s, const char *fmt)
{
	for (; *fmt; fmt++, s++) {
		if (*fmt == '#' ? !isxdigit((unsigned char)*s) : *fmt != *s)
			return false;
	}
	return true;
}

static bool dump_is_header(const char *s)
{
	return dump_match(s, "##:##.# ") || dump_match(s, "####:##:##.# ") ||
	       dump_match(s, "#####:##:##.# ");
}

static bool dump_is_row(const char *s)
{
	static const char *const pats[] = {
		"##: ", "###: ", "####: ", "#####: ", "######: ",
		"#######: ", "########: ",
	};
	size_t i;

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (dump_match(s, pats[i]))
			return true;
	return false;
}

/* Config sizes that lspci prints: -x, -x of a CardBus bridge, -xxx, -xxxx. */
static bool dump_size_ok(unsigned int n)
{
	return n == 64 || n == 128 || n == 256 || n == P2PDMA_CFG_SIZE;
}

struct dump_check {
	struct p2pdma_ctx *ctx;
	const char *path;
	unsigned int ndevs;
	unsigned int next;		/* next row offset expected, current device */
	unsigned int dev_line;		/* line of the current device's header */
	char dev_bdf[32];
	bool in_dev;
	uint32_t *seen;			/* domain/bus/devfn keys, for duplicates */
	size_t nseen, capseen;
};

/*
 * A header line with no rows under it: lspci's text output (-v, -vv, -n or
 * plain), not a dump. Say what it is and what to do, not "0 bytes".
 */
static int dump_is_text(struct dump_check *c)
{
	return p2pdma_err(c->ctx, -EINVAL,
			  "%s:%u: %s has no hex rows: this is lspci's text output "
			  "(lspci -v/-vv/-n), not a dump; capture one with 'sudo lspci -xxxx', "
			  "or read this text as an lspci listing (--lspci)",
			  c->path, c->dev_line, c->dev_bdf);
}

static int dump_end_dev(struct dump_check *c)
{
	if (!c->in_dev)
		return 0;
	c->in_dev = false;
	if (c->next == 0)
		return dump_is_text(c);
	if (!dump_size_ok(c->next))
		return p2pdma_err(c->ctx, -EINVAL,
				  "%s:%u: %s has %u bytes of config space "
				  "(a truncated dump? lspci gives 64, 256 or 4096)",
				  c->path, c->dev_line, c->dev_bdf, c->next);
	return 0;
}

static int dump_header(struct dump_check *c, const char *line, unsigned int lineno)
{
	unsigned int dom = 0, bus, dev, fn;
	size_t i;
	int ret;

	ret = dump_end_dev(c);
	if (ret)
		return ret;
	if (!(dump_match(line, "##:##.# ") &&
	      sscanf(line, "%x:%x.%u", &bus, &dev, &fn) == 3) &&
	    sscanf(line, "%x:%x:%x.%u", &dom, &bus, &dev, &fn) != 4)
		return p2pdma_err(c->ctx, -EINVAL, "%s:%u: malformed device address",
				  c->path, lineno);
	if (bus > 0xff || dev > 0x1f || fn > 7)
		return p2pdma_err(c->ctx, -EINVAL,
				  "%s:%u: device address out of range", c->path, lineno);
	for (i = 0; i < c->nseen; i += 2) {
		if (c->seen[i] == dom && c->seen[i + 1] == (bus << 8 | dev << 3 | fn))
			return p2pdma_err(c->ctx, -EINVAL,
					  "%s:%u: %04x:%02x:%02x.%u appears twice",
					  c->path, lineno, dom, bus, dev, fn);
	}
	if (c->nseen + 2 > c->capseen) {
		size_t cap = c->capseen ? c->capseen * 2 : 64;
		uint32_t *s = realloc(c->seen, cap * sizeof(*s));

		if (!s)
			return p2pdma_err(c->ctx, -ENOMEM, "%s: out of memory", c->path);
		c->seen = s;
		c->capseen = cap;
	}
	c->seen[c->nseen++] = dom;
	c->seen[c->nseen++] = bus << 8 | dev << 3 | fn;
	snprintf(c->dev_bdf, sizeof(c->dev_bdf), "%04x:%02x:%02x.%u", dom, bus, dev, fn);
	c->in_dev = true;
	c->next = 0;
	c->dev_line = lineno;
	c->ndevs++;
	return 0;
}

static int dump_row(struct dump_check *c, const char *line, unsigned int lineno)
{
	unsigned int off, n = 0;
	const char *z;

	if (!c->in_dev)
		return p2pdma_err(c->ctx, -EINVAL,
				  "%s:%u: config row outside a device "
				  "(no \"BB:DD.F ...\" line above it)", c->path, lineno);
	if (sscanf(line, "%x:", &off) != 1)
		return p2pdma_err(c->ctx, -EINVAL, "%s:%u: malformed row", c->path, lineno);
	if (off != c->next)
		return p2pdma_err(c->ctx, -EINVAL,
				  "%s:%u: row at offset %x, expected %x",
				  c->path, lineno, off, c->next);
	if (off >= P2PDMA_CFG_SIZE)
		return p2pdma_err(c->ctx, -EINVAL,
				  "%s:%u: offset %x is past the 4096 bytes of config space",
				  c->path, lineno, off);
	z = strchr(line, ' ') + 1;
	/* The byte syntax libpci's dump_init() accepts; anything else is fatal there. */
	while (*z) {
		if (!isxdigit((unsigned char)z[0]) || !isxdigit((unsigned char)z[1]) ||
		    (z[2] && z[2] != ' '))
			return p2pdma_err(c->ctx, -EINVAL,
					  "%s:%u: malformed byte \"%.3s\"", c->path, lineno, z);
		n++;
		z += 2;
		if (*z)
			z++;
	}
	if (n != 16)
		return p2pdma_err(c->ctx, -EINVAL,
				  "%s:%u: truncated row: %u bytes, expected 16",
				  c->path, lineno, n);
	c->next += 16;
	return 0;
}

/* lspci -t draws its tree from "-[DDDD:BB]-" or "-+-[DDDD:BB]-" on. */
static bool looks_like_tree(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	return !strncmp(line, "-[", 2) || !strncmp(line, "-+-[", 4);
}

/*
 * Check the whole text before libpci sees it: libpci's dump reader stops
 * the process on malformed lines without saying where, and silently takes
 * partial rows. We name the file and line instead.
 */
static int dump_validate(struct p2pdma_ctx *ctx, const struct p2pdma_input *in)
{
	struct dump_check c = { .ctx = ctx, .path = in->name };
	const char *p = in->data, *end = in->data + in->len;
	unsigned int lineno = 0;
	bool tree = false;
	char line[256];
	int ret = 0;

	while (p < end && !ret) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;

		lineno++;
		if (!nl) {
			ret = p2pdma_err(ctx, -EINVAL, "%s:%u: last line has no newline",
					 in->name, lineno);
			break;
		}
		n = (size_t)(nl - p);
		if (n && p[n - 1] == '\r')
			n--;
		/* dump_init() reads lines into a 255-byte buffer. */
		if (n > 253) {
			ret = p2pdma_err(ctx, -EINVAL, "%s:%u: line too long", in->name, lineno);
			break;
		}
		if (memchr(p, '\0', n)) {
			ret = p2pdma_err(ctx, -EINVAL, "%s:%u: NUL byte in a text file",
					 in->name, lineno);
			break;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (lineno == 1 || !c.ndevs)
			tree = tree || looks_like_tree(line);
		if (dump_is_header(line))
			ret = dump_header(&c, line, lineno);
		else if (n == 0)
			ret = dump_end_dev(&c);
		else if (dump_is_row(line))
			ret = dump_row(&c, line, lineno);
		/* Other lines (lspci -v text) are ignored, as libpci does. */
	}
	if (!ret)
		ret = dump_end_dev(&c);
	if (!ret && !c.ndevs && tree)
		ret = p2pdma_err(ctx, -EINVAL,
				 "%s: this is lspci's tree (lspci -t), not a dump: it holds no config space; "
				 "capture one with 'sudo lspci -xxxx', or read the tree's shape as an lspci listing (--lspci)",
				 in->name);
	if (!ret && !c.ndevs)
		ret = p2pdma_err(ctx, -EINVAL,
				 "%s:%u: no devices (expected lspci -x, -xxx or -xxxx output)",
				 in->name, lineno);
	free(c.seen);
	return ret;
}

/* --- the libpci walk shared by all three sources --- */

struct lp_source {
	enum p2pdma_source_kind kind;
	const char *where;		/* file or directory, for messages */
	const char *sysroot;		/* sysfs sources: the directory holding bus/pci */
	const char *root;		/* where proc/ is: "" this machine, NULL none */
	const char *dump_file;		/* dumps: what libpci opens (a memory file) */
};

/* IORESOURCE flags from sysfs `resource` -> our BAR flags. */
static uint32_t bar_flags_from_io(unsigned long long io)
{
	uint32_t f = 0;

	if (io & PCI_IORESOURCE_IO)
		f |= P2PDMA_BAR_IO;
	if (io & PCI_IORESOURCE_MEM)
		f |= P2PDMA_BAR_MEM;
	if (io & PCI_IORESOURCE_PREFETCH)
		f |= P2PDMA_BAR_PREFETCH;
	if (io & PCI_IORESOURCE_MEM_64)
		f |= P2PDMA_BAR_64;
	return f;
}

/*
 * Overlay what sysfs knows better than config space: the kernel's view
 * of identity and class (quirks may fix them up), resources with CPU
 * addresses and sizes, and the OS facts.
 */
static int overlay_sysfs(struct p2pdma_dev *dev, struct pci_dev *pd,
			 const struct lp_source *src, size_t cfg_len)
{
	char devdir[3800], path[4096];
	unsigned int known;
	const char *s;
	struct stat st;
	int i;

	known = (unsigned int)pci_fill_info(pd, PCI_FILL_IDENT | PCI_FILL_CLASS |
					    PCI_FILL_CLASS_EXT | PCI_FILL_SUBSYS |
					    PCI_FILL_BASES | PCI_FILL_SIZES |
					    PCI_FILL_IO_FLAGS | PCI_FILL_NUMA_NODE |
					    PCI_FILL_IOMMU_GROUP | PCI_FILL_DRIVER);
	if (known & PCI_FILL_IDENT) {
		dev->vendor = pd->vendor_id;
		dev->device = pd->device_id;
	}
	if (known & PCI_FILL_CLASS)
		dev->class_code = (dev->class_code & 0xff) | (uint32_t)pd->device_class << 8;
	if (known & PCI_FILL_CLASS_EXT) {
		dev->class_code = (dev->class_code & ~0xffu) | pd->prog_if;
		dev->revision = pd->rev_id;
	}
	if ((known & PCI_FILL_SUBSYS) && (pd->subsys_vendor_id || pd->subsys_id)) {
		dev->subvendor = pd->subsys_vendor_id;
		dev->subdevice = pd->subsys_id;
	}

	for (i = 0; i < P2PDMA_NUM_BARS && (known & PCI_FILL_BASES); i++) {
		struct p2pdma_bar *bar = &dev->bars[i];
		unsigned long long io = (known & PCI_FILL_IO_FLAGS) ? pd->flags[i] : 0;
		uint64_t size = (known & PCI_FILL_SIZES) ? pd->size[i] : 0;
		uint64_t cpu = pd->base_addr[i] &
			       ((io & PCI_IORESOURCE_IO) ? PCI_ADDR_IO_MASK : PCI_ADDR_MEM_MASK);

		if (!size)
			continue;
		bar->cpu = cpu;
		bar->size = size;
		/*
		 * A VF's BAR registers read zero (its resources come from
		 * the PF's SR-IOV BARs), and with no config at all there is
		 * no register: take the kernel's flags, and the CPU address
		 * as the bus address (no translation known).
		 */
		if (!bar->flags || cfg_len < 64) {
			bar->flags = bar_flags_from_io(io);
			bar->bus = cpu;
		}
	}

	if (known & PCI_FILL_NUMA_NODE)
		dev->numa_node = pd->numa_node >= 0 ? pd->numa_node : -1;
	if ((known & PCI_FILL_IOMMU_GROUP) &&
	    (s = pci_get_string_property(pd, PCI_FILL_IOMMU_GROUP)))
		dev->iommu_group = atoi(s);
	if ((known & PCI_FILL_DRIVER) &&
	    (s = pci_get_string_property(pd, PCI_FILL_DRIVER))) {
		dev->driver = p2pdma_strdup(s);
		if (!dev->driver)
			return -ENOMEM;
	}

	snprintf(devdir, sizeof(devdir), "%s/bus/pci/devices/%s", src->sysroot,
		 p2pdma_dev_name(dev));
	sysfs_link(dev, devdir);
	sysfs_p2pmem(dev, devdir);
	sysfs_cpulist(dev, devdir);

	/*
	 * The config file is as long as the kernel's cfg_size. When we read
	 * all of it and it is 256 bytes, the kernel itself has no extended
	 * space for the function, so pci_find_ext_capability() finds no ACS:
	 * that is "absent", not "unknown". (Non-root reads stop at 64 bytes
	 * whatever the size, so that case stays unknown.)
	 */
	snprintf(path, sizeof(path), "%s/config", devdir);
	if (dev->acs_state == P2PDMA_ACS_UNKNOWN && cfg_len == 256 &&
	    !stat(path, &st) && st.st_size == 256)
		dev->acs_state = P2PDMA_ACS_ABSENT;
	return 0;
}

/* Read as much config space as the source gives: 4096, 256, 128 or 64 bytes. */
static size_t read_config(struct pci_dev *pd, uint8_t *cfg)
{
	static const int sizes[] = { P2PDMA_CFG_SIZE, 256, 128, 64 };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(cfg, 0xff, P2PDMA_CFG_SIZE);
		if (pci_read_block(pd, 0, cfg, sizes[i]))
			return (size_t)sizes[i];
	}
	return 0;
}

static int add_function(struct p2pdma_topo *topo, struct pci_dev *pd,
			const struct lp_source *src, uint8_t *cfg,
			bool full_dump)
{
	struct p2pdma_dev *dev;
	size_t len;
	int ret;

	if (pd->domain < 0 || pd->dev > 31 || pd->func > 7)
		return p2pdma_err(topo->ctx, -EINVAL, "%s: bad device address %x:%02x:%02x.%d",
				  src->where, pd->domain, pd->bus, pd->dev, pd->func);
	dev = p2pdma_topo_add_dev(topo, (uint32_t)pd->domain, pd->bus,
				  (uint8_t)(pd->dev << 3 | pd->func));
	if (!dev)
		return p2pdma_err(topo->ctx, -ENOMEM, "%s: out of memory", src->where);

	len = read_config(pd, cfg);
	if (len < 64)
		return p2pdma_err(topo->ctx, -EIO,
				  "%s: %s: configuration space unreadable",
				  src->where, p2pdma_dev_name(dev));
	ret = p2pdma_config_decode(dev, cfg, len);
	if (ret)
		return p2pdma_err(topo->ctx, ret, "%s: %s: cannot decode config space",
				  src->where, p2pdma_dev_name(dev));
	/*
	 * lspci -xxxx prints as many bytes as the kernel's cfg_size. In a
	 * dump where some function has 4096, one with only 256 had no
	 * extended space for the kernel either (pci_cfg_space_size()), so
	 * pci_find_ext_capability() finds no ACS: absent, not unknown.
	 */
	if (src->kind == P2PDMA_SRC_DUMP) {
		if (full_dump && len == 256 && dev->acs_state == P2PDMA_ACS_UNKNOWN)
			dev->acs_state = P2PDMA_ACS_ABSENT;
		return 0;
	}
	ret = overlay_sysfs(dev, pd, src, len);
	if (ret)
		return p2pdma_err(topo->ctx, ret, "%s: out of memory", src->where);
	return 0;
}

/*
 * One libpci session. Everything libpci may call its error handler from
 * runs below the setjmp; what changes after it and is used after a
 * longjmp is volatile.
 */
static int lp_load(struct p2pdma_ctx *ctx, const struct lp_source *src,
		   const char *topo_name, struct p2pdma_topo **out)
{
	struct pci_access *volatile a = NULL;
	struct p2pdma_topo *volatile topo = NULL;
	volatile int ret = 0;
	volatile bool in_cleanup = false, full_dump = false;
	uint8_t *volatile cfg = NULL;
	struct lp_trap trap;
	char param[4200];

	*out = NULL;
	lp_trap_enter(&trap, ctx);
	if (setjmp(trap.jb)) {
		if (!in_cleanup)
			ret = p2pdma_err(ctx, src->kind == P2PDMA_SRC_DUMP ? -EINVAL : -EIO,
					 "%s: %s", src->where, trap.msg);
		/* A failing cleanup is not retried: leaking beats looping. */
		if (in_cleanup)
			a = NULL;
		goto out;
	}

	cfg = malloc(P2PDMA_CFG_SIZE);
	topo = p2pdma_topo_alloc(ctx, src->kind, topo_name);
	a = lp_alloc();
	if (!cfg || !topo || !a) {
		ret = p2pdma_err(ctx, -ENOMEM, "%s: out of memory", src->where);
		goto out;
	}
	if (src->kind == P2PDMA_SRC_DUMP) {
		a->method = PCI_ACCESS_DUMP;
		if (lp_set_param(a, "dump.name", src->dump_file)) {
			ret = p2pdma_err(ctx, -EIO, "%s: libpci has no dump method", src->where);
			goto out;
		}
	} else {
		/* linux-sysfs: "sysfs.path" is the bus/pci directory (default /sys/bus/pci). */
		a->method = PCI_ACCESS_SYS_BUS_PCI;
		snprintf(param, sizeof(param), "%s/bus/pci", src->sysroot);
		if (lp_set_param(a, "sysfs.path", param)) {
			ret = p2pdma_err(ctx, -EIO, "%s: libpci has no sysfs method", src->where);
			goto out;
		}
	}
	pci_init(a);
	pci_scan_bus(a);

	for (struct pci_dev *pd = a->devices; pd; pd = pd->next)
		if (read_config(pd, cfg) == P2PDMA_CFG_SIZE)
			full_dump = true;
	for (struct pci_dev *pd = a->devices; pd; pd = pd->next) {
		ret = add_function(topo, pd, src, cfg, full_dump);
		if (ret)
			goto out;
	}
	if (!topo->ndevs) {
		ret = p2pdma_err(ctx, -ENODEV, "%s: no PCI functions", src->where);
		goto out;
	}

out:
	if (a) {
		in_cleanup = true;
		pci_cleanup(a);
	}
	lp_trap_leave(&trap);
	free(cfg);
	if (!ret)
		ret = p2pdma_topo_finalize(topo, src->where);
	if (!ret && src->root)
		ret = machine_facts(&topo->machine, src->root);
	/* Names after finalize: a VF's identity is known only then. */
	if (!ret)
		ret = p2pdma_names_fill(topo);
	if (ret == -ENOMEM && !p2pdma_ctx_error(ctx)[0])
		p2pdma_err(ctx, ret, "%s: out of memory", src->where);
	if (ret) {
		p2pdma_topo_destroy(topo);
		return ret;
	}
	*out = topo;
	return 0;
}

static int sysfs_check_dir(struct p2pdma_ctx *ctx, const char *dir)
{
	char path[4200];
	struct dirent *e;
	struct stat st;
	int ret = 0;
	DIR *d;

	if (stat(dir, &st))
		return p2pdma_err(ctx, -errno, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return p2pdma_err(ctx, -ENOTDIR, "%s: %s", dir, strerror(ENOTDIR));
	snprintf(path, sizeof(path), "%s/bus/pci/devices", dir);
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return p2pdma_err(ctx, -ENOENT,
				  "%s: not a sysfs tree (no bus/pci/devices inside)", dir);
	/*
	 * libpci's scan stops the process on an entry it cannot parse (and
	 * leaks its directory handle when that is trapped): check first.
	 */
	d = opendir(path);
	if (!d)
		return p2pdma_err(ctx, -errno, "%s: %s", path, strerror(errno));
	while (!ret && (e = readdir(d))) {
		unsigned int dom, bus, dev, fn;
		char tail;

		if (e->d_name[0] == '.')
			continue;
		if (sscanf(e->d_name, "%x:%x:%x.%u%c", &dom, &bus, &dev, &fn, &tail) != 4 ||
		    bus > 0xff || dev > 0x1f || fn > 7)
			ret = p2pdma_err(ctx, -EINVAL, "%s/%s: not a PCI function address",
					 path, e->d_name);
	}
	closedir(d);
	return ret;
}

/* Every sysfs source: check the tree, then let libpci read it. */
static int load_sysfs_tree(struct p2pdma_ctx *ctx, const struct lp_source *src,
			   const char *name, struct p2pdma_topo **out)
{
	int ret;

	p2pdma_clear_err(ctx);
	*out = NULL;
	ret = sysfs_check_dir(ctx, src->sysroot);
	if (ret)
		return ret;
	return lp_load(ctx, src, name, out);
}

P2PDMA_EXPORT int p2pdma_topo_load_live(struct p2pdma_ctx *ctx,
					struct p2pdma_topo **out)
{
	struct lp_source src = {
		.kind = P2PDMA_SRC_LIVE, .where = "/sys", .sysroot = "/sys",
		.root = "",
	};

	return load_sysfs_tree(ctx, &src, "live", out);
}

/* gzip's magic, or a tar header's "ustar" at 257: anything else fails at once. */
static const char *tar_head(const char *p, size_t n)
{
	if (n >= 2 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b)
		return NULL;
	if (n >= 262 && !memcmp(p + 257, "ustar", 5))
		return NULL;
	return "not a tar or tar.gz archive (nor a directory holding bus/pci/devices)";
}

/* A captured tree packed as a tarball (or "-"): unpack privately, read, remove. */
static int load_sysfs_archive(struct p2pdma_ctx *ctx, const char *path,
			      struct p2pdma_topo **out)
{
	static const struct p2pdma_input_limits lim = {
		.what = "a sysfs capture (directory or .tar.gz)",
		.head_check = tar_head, .head = 512,
	};
	struct lp_source src = { .kind = P2PDMA_SRC_SYSFS };
	struct p2pdma_input in;
	char *tmpdir = NULL, *root = NULL;
	int ret;

	ret = p2pdma_input_read(ctx, path, &lim, &in);
	if (ret)
		return ret;
	ret = p2pdma_sysfs_unpack(ctx, &in, &tmpdir, &root);
	if (!ret)
		ret = sysfs_check_dir(ctx, root);
	if (!ret) {
		src.where = in.name;
		src.sysroot = root;
		ret = lp_load(ctx, &src, in.name, out);
	}
	free(root);
	p2pdma_sysfs_cleanup(tmpdir);
	p2pdma_input_free(&in);
	return ret;
}

P2PDMA_EXPORT int p2pdma_topo_load_sysfs(struct p2pdma_ctx *ctx, const char *dir,
					 struct p2pdma_topo **out)
{
	struct lp_source src = {
		.kind = P2PDMA_SRC_SYSFS, .where = dir, .sysroot = dir,
	};
	struct stat st;

	*out = NULL;
	if (!dir || !*dir)
		return p2pdma_err(ctx, -EINVAL, "sysfs: no directory given");
	/* Anything but a directory is taken as a capture's tarball. */
	if (!strcmp(dir, "-") || (!stat(dir, &st) && !S_ISDIR(st.st_mode)))
		return load_sysfs_archive(ctx, dir, out);
	return load_sysfs_tree(ctx, &src, dir, out);
}

P2PDMA_EXPORT int p2pdma_topo_load_root(struct p2pdma_ctx *ctx, const char *root,
					struct p2pdma_topo **out)
{
	struct lp_source src = {
		.kind = P2PDMA_SRC_SYSFS, .where = root, .root = root,
	};
	char sys[4200];

	*out = NULL;
	if (!root || !*root || !strcmp(root, "/"))
		return p2pdma_topo_load_live(ctx, out);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	src.sysroot = sys;
	return load_sysfs_tree(ctx, &src, root, out);
}

P2PDMA_EXPORT int p2pdma_topo_load_dump(struct p2pdma_ctx *ctx, const char *path,
					struct p2pdma_topo **out)
{
	static const struct p2pdma_input_limits lim = {
		.max_line = P2PDMA_INPUT_MAX_LINE, .text = true, .what = "an lspci dump",
	};
	struct p2pdma_input in;
	struct p2pdma_input_file file;
	struct lp_source src = { .kind = P2PDMA_SRC_DUMP };
	int ret;

	p2pdma_clear_err(ctx);
	*out = NULL;
	if (!path || !*path)
		return p2pdma_err(ctx, -EINVAL, "dump: no file given");
	/*
	 * Read once: the text is checked here and handed to libpci's dump
	 * method as a memory file, so pipes, "-" and FIFOs work (libpci
	 * opens dump.name itself, which would read a pipe a second time).
	 */
	ret = p2pdma_input_read(ctx, path, &lim, &in);
	if (ret)
		return ret;
	ret = dump_validate(ctx, &in);
	if (!ret)
		ret = p2pdma_input_file_open(ctx, &in, &file);
	if (!ret) {
		src.where = in.name;
		src.dump_file = file.path;
		ret = lp_load(ctx, &src, in.name, out);
		p2pdma_input_file_close(&file);
	}
	p2pdma_input_free(&in);
	return ret;
}
