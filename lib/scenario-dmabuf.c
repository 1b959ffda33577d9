// SPDX-License-Identifier: LGPL-2.1-or-later
/* scenario-dmabuf.c - `p2pdma run` verbs of the DMA and dma-buf layers: exporters, importers, the reservation lock, pin, map, move_notify, revoke, DMA */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context-private.h"
#include "p2pdma/dmabuf.h"
#include "p2pdma/p2pmem.h"
#include "scenario-private.h"

/*
 * The objects a script holds: importers (an importing driver on a
 * device), dma-bufs (a reference, a descriptor, or both) and the
 * reservation locks it took. The layer state lists them so that the step
 * hook can say which importers got move_notify and which buffers changed
 * their revoke state, whatever verb caused it (a VFIO trigger, a revoke).
 */
struct h_imp {
	struct dstate *ds;
	struct p2pdma_importer *imp;
	char *name;
	unsigned int seen;		/* notifications already reported */
	struct h_imp *next;
};

struct p2pdma_scn_dmabuf {
	struct dstate *ds;
	struct p2pdma_kernel *k;
	struct p2pdma_dmabuf *buf;	/* valid while @ref or @fd holds it */
	bool ref;			/* the script holds a reference */
	int fd;				/* its descriptor, or -1 */
	bool revoked;			/* last reported */
	char *name;
	struct p2pdma_scn_dmabuf *next;
};

struct held {
	struct p2pdma_dmabuf *buf;	/* a reference is taken with the lock */
	struct held *next;
};

struct dstate {
	struct h_imp *imps;
	struct p2pdma_scn_dmabuf *bufs;
	struct held *locks;
};

static struct dstate *dst(const struct p2pdma_scn *s)
{
	return p2pdma_scn_layer_state(s, &p2pdma_scn_layer_dmabuf);
}

/* Let go of every reservation lock the script holds (before any cleanup). */
static void unlock_all(struct dstate *ds)
{
	while (ds->locks) {
		struct held *h = ds->locks;

		ds->locks = h->next;
		p2pdma_dmabuf_resv_unlock(h->buf);
		p2pdma_dmabuf_put(h->buf);
		free(h);
	}
}

static int d_init(struct p2pdma_scn *s, void **state)
{
	(void)s;
	*state = calloc(1, sizeof(struct dstate));
	return *state ? 0 : -ENOMEM;
}

static void d_fini(struct p2pdma_scn *s, void *state)
{
	(void)s;
	if (state)
		unlock_all(state);
	free(state);
}

static void d_reboot(struct p2pdma_scn *s, void *state)
{
	(void)s;
	unlock_all(state);
}

static void h_imp_free(void *obj)
{
	struct h_imp *h = obj, **pp;

	unlock_all(h->ds);
	for (pp = &h->ds->imps; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	p2pdma_importer_destroy(h->imp);
	free(h->name);
	free(h);
}

static void unlink_buf(struct p2pdma_scn_dmabuf *b)
{
	struct p2pdma_scn_dmabuf **pp;

	for (pp = &b->ds->bufs; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
}

static void h_buf_free(void *obj)
{
	struct p2pdma_scn_dmabuf *b = obj;

	unlock_all(b->ds);
	unlink_buf(b);
	if (b->ref)
		p2pdma_dmabuf_put(b->buf);
	if (b->fd >= 0)
		p2pdma_dmabuf_close_fd(b->k, b->fd);
	free(b->name);
	free(b);
}

/* A new dma-buf handle (the step's "as NAME"); @ref: the script's reference. */
static int buf_add(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
		   struct p2pdma_dmabuf *buf, bool ref, int fd)
{
	struct p2pdma_scn_dmabuf *b = calloc(1, sizeof(*b));
	char name[64];

	if (b) {
		if (p2pdma_scn_as(st))
			snprintf(name, sizeof(name), "$%s", p2pdma_scn_as(st));
		else if (fd >= 0)
			snprintf(name, sizeof(name), "dma-buf fd %d", fd);
		else
			snprintf(name, sizeof(name), "a %s dma-buf", p2pdma_dmabuf_exp_name(buf));
		b->name = p2pdma_strdup(name);
	}
	if (!b || !b->name) {
		free(b);
		if (ref)
			p2pdma_dmabuf_put(buf);
		if (fd >= 0)
			p2pdma_dmabuf_close_fd(p2pdma_scn_kernel(s), fd);
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	}
	b->ds = dst(s);
	b->k = p2pdma_scn_kernel(s);
	b->buf = buf;
	b->ref = ref;
	b->fd = fd;
	b->revoked = p2pdma_dmabuf_revoked(buf);
	b->next = b->ds->bufs;
	b->ds->bufs = b;
	return p2pdma_scn_handle_add(s, st, "dmabuf", b, h_buf_free);
}

int p2pdma_scn_dmabuf_add_fd(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, int fd)
{
	struct p2pdma_dmabuf *buf;
	int ret = p2pdma_dmabuf_get(p2pdma_scn_kernel(s), fd, &buf);

	if (ret) {	/* cannot happen for a descriptor just returned */
		p2pdma_dmabuf_close_fd(p2pdma_scn_kernel(s), fd);
		return p2pdma_scn_malformed(s, st, "dma_buf_get(%d) of a new descriptor failed (%d)", fd, ret);
	}
	/* The descriptor keeps it alive: the handle borrows the pointer. */
	p2pdma_dmabuf_put(buf);
	return buf_add(s, st, buf, false, fd);
}

/* The handle stopped holding the buffer: forget it (its pointer may go). */
static void buf_drop(struct p2pdma_scn *s, struct p2pdma_scn_dmabuf *b)
{
	if (b->ref || b->fd >= 0)
		return;
	unlink_buf(b);
	p2pdma_scn_handle_forget(s, b);
	free(b->name);
	free(b);
}

static int arg_buf(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, int i,
		   struct p2pdma_scn_dmabuf **out)
{
	return p2pdma_scn_arg_handle(s, st, i, "dmabuf", (void **)out);
}

static int arg_imp(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, int i,
		   struct h_imp **out)
{
	return p2pdma_scn_arg_handle(s, st, i, "importer", (void **)out);
}

static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (v >= 1024 && !(v % 1024) && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", v, unit[u]);
	return buf;
}

/* --- the step hook: move_notify and revoke state, whoever caused them --- */

static void d_after(struct p2pdma_scn *s, void *state, struct p2pdma_scenario_step *st)
{
	struct dstate *ds = state;
	char names[512] = "", what[1024] = "";
	size_t on = 0, ow = 0;
	unsigned int calls = 0;
	struct p2pdma_scn_dmabuf *b;
	struct h_imp *h;

	(void)s;
	for (h = ds->imps; h; h = h->next) {
		unsigned int n = p2pdma_importer_notifications(h->imp);

		if (n == h->seen)
			continue;
		calls += n - h->seen;
		if (on < sizeof(names))
			on += (size_t)snprintf(names + on, sizeof(names) - on, "%s%s", on ? " " : "", h->name);
		if (ow < sizeof(what))
			ow += (size_t)snprintf(what + ow, sizeof(what) - ow, "%s%s%s (%s)", ow ? ", " : "",
					       h->name, n - h->seen > 1 ? " twice" : "",
					       p2pdma_importer_mapped(h->imp) ? "still mapped" : "no mapping now");
		h->seen = n;
	}
	if (calls) {
		p2pdma_scn_set(st, "notified", "%s", names);
		p2pdma_scn_set(st, "move_notify", "%u", calls);
		p2pdma_scn_say(st, "move_notify -> %s", what);
	}
	for (b = ds->bufs; b; b = b->next) {
		bool r = p2pdma_dmabuf_revoked(b->buf);

		if (r == b->revoked)
			continue;
		b->revoked = r;
		p2pdma_scn_say(st, "%s is %s", b->name, r ? "revoked: attach and map fail ENODEV" :
			       "live again: importers may map it");
	}
}

/* expect notified NAME... | none: exactly these importers got move_notify. */
static bool check_notified(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st,
			   char **argv, int argc, char *why, size_t len)
{
	const char *got = p2pdma_scn_get(st, "notified");
	char want[512] = "", copy[512], *tok, *save = NULL;
	size_t off = 0, nwant = 0, ngot = 0;
	int i;

	(void)s;
	if (argc == 1 && !strcmp(argv[0], "none")) {
		if (got)
			snprintf(why, len, "notified: %s", got);
		return !got;
	}
	for (i = 0; i < argc && off < sizeof(want); i++, nwant++)
		off += (size_t)snprintf(want + off, sizeof(want) - off, " %s ",
					argv[i][0] == '$' ? argv[i] + 1 : argv[i]);
	snprintf(copy, sizeof(copy), "%s", got ? got : "");
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char pat[80];

		snprintf(pat, sizeof(pat), " %s ", tok);
		ngot++;
		if (!strstr(want, pat))
			nwant = (size_t)-1;
	}
	if (ngot == nwant)
		return true;
	snprintf(why, len, "notified: %s", got ? got : "none");
	return false;
}

/* --- the DMA layer's switches --- */

static int do_dma_domain(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	static const char *const names[] = { "none", "blocked", "identity", "dma" };
	const char *a = p2pdma_scn_arg(st, 0);
	int t, ret;

	for (t = 0; t < 4 && strcmp(names[t], a); t++)
		;
	if (t == 4 || t == 1)
		return p2pdma_scn_malformed(s, st, "dma-domain none|identity|dma");
	ret = p2pdma_dma_set_default_domain(p2pdma_scn_kernel(s), (enum p2pdma_domain_type)t);
	p2pdma_scn_errno(st, ret);
	p2pdma_scn_set(st, "domain", "%s", names[p2pdma_dma_default_domain_type(p2pdma_scn_kernel(s))]);
	if (!ret)
		p2pdma_scn_say(st, "IOMMU groups start in %s", t == 0 ? "no domain: no IOMMU, dma-direct" :
			       t == 2 ? "identity domains (passthrough: DMA address = physical)" :
			       "translating DMA domains (IOVAs)");
	return 0;
}

static const struct {
	const char *name;
	unsigned int bit;
} quirks[] = {
	{ "sgt-max-ent-uint", P2PDMA_QUIRK_SGT_MAX_ENT_UINT },
	{ "sgt-addr-overflow", P2PDMA_QUIRK_SGT_ADDR_OVERFLOW },
	{ "sgt-mapped-len-u32", P2PDMA_QUIRK_SGT_MAPPED_LEN_U32 },
	{ "sgt-iova-offset-zero", P2PDMA_QUIRK_SGT_IOVA_OFFSET_ZERO },
	{ "direct-thb-unset", P2PDMA_QUIRK_DIRECT_THB_UNSET },
	{ "vfio-fd-double-free", P2PDMA_QUIRK_VFIO_FD_DOUBLE_FREE },
	{ "vfio-no-pin", P2PDMA_QUIRK_VFIO_NO_PIN },
	{ "move-notify", P2PDMA_QUIRK_MOVE_NOTIFY },
};

static int do_quirk(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	const char *name = p2pdma_scn_arg(st, 0), *v = p2pdma_scn_arg(st, 1);
	unsigned int q;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(quirks) / sizeof(quirks[0]) && strcmp(quirks[i].name, name); i++)
		;
	if (i == sizeof(quirks) / sizeof(quirks[0]) || (strcmp(v, "on") && strcmp(v, "off")))
		return p2pdma_scn_malformed(s, st, "quirk NAME on|off (NAME: sgt-max-ent-uint, sgt-addr-overflow, sgt-mapped-len-u32, sgt-iova-offset-zero, direct-thb-unset, vfio-fd-double-free, vfio-no-pin, move-notify)");
	q = p2pdma_dma_quirks(k);
	q = !strcmp(v, "on") ? q | quirks[i].bit : q & ~quirks[i].bit;
	ret = p2pdma_dma_set_quirks(k, q);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "%s %s: %s", name, !strcmp(v, "on") ? "now in force" : "no longer in force",
			       p2pdma_dma_quirk_name(quirks[i].bit));
	return 0;
}

/* --- exporters --- */

/* "OFF:LEN" (numbers with K/M/G suffixes). */
static int arg_range(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, int i,
		     uint64_t *off, uint64_t *len)
{
	const char *a = p2pdma_scn_arg(st, i), *colon = a ? strchr(a, ':') : NULL;
	char first[64];

	if (!colon || (size_t)(colon - a) >= sizeof(first))
		return p2pdma_scn_malformed(s, st, "'%s': a range is OFFSET:LENGTH", a ? a : "");
	memcpy(first, a, (size_t)(colon - a));
	first[colon - a] = '\0';
	if (p2pdma_scn_parse_u64(first, off) || p2pdma_scn_parse_u64(colon + 1, len))
		return p2pdma_scn_malformed(s, st, "'%s': a range is OFFSET:LENGTH (numbers)", a);
	return 0;
}

#define MAX_EXPORT_RANGES 32

static void say_export(struct p2pdma_scenario_step *st, struct p2pdma_dmabuf *buf,
		       const char *from)
{
	char b[32];

	p2pdma_scn_set(st, "size", "%" PRIu64, p2pdma_dmabuf_size(buf));
	p2pdma_scn_set(st, "exporter", "%s", p2pdma_dmabuf_exp_name(buf));
	p2pdma_scn_say(st, "dma_buf_export(): %s, %s of %s", p2pdma_dmabuf_exp_name(buf),
		       human(p2pdma_dmabuf_size(buf), b, sizeof(b)), from);
}

static int export_system(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_sg_page pages[MAX_EXPORT_RANGES];
	struct p2pdma_dmabuf *buf;
	int i, n = p2pdma_scn_argc(st) - 1, ret;

	if (n < 1 || n > MAX_EXPORT_RANGES)
		return p2pdma_scn_malformed(s, st, "export system ADDR:LEN... (1 to %d)", MAX_EXPORT_RANGES);
	for (i = 0; i < n; i++) {
		uint64_t a, l;

		if ((ret = arg_range(s, st, i + 1, &a, &l)))
			return ret;
		if (l > UINT32_MAX)
			return p2pdma_scn_malformed(s, st, "a page entry is at most 4 GiB - 1");
		pages[i].provider = NULL;
		pages[i].phys = a;
		pages[i].len = (uint32_t)l;
	}
	ret = p2pdma_dmabuf_export_pages(p2pdma_scn_kernel(s), pages, (size_t)n, P2PDMA_O_RDWR,
					 NULL, NULL, &buf);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	say_export(st, buf, "system memory");
	return buf_add(s, st, buf, true, -1);
}

static void pool_line(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
		      const struct p2pdma_dev *d)
{
	struct p2pdma_pool_info pi;
	char b1[32], b2[32];

	if (p2pdma_p2pmem_pool_get_info(p2pdma_scn_kernel(s), d, &pi, sizeof(pi)))
		return;
	p2pdma_scn_set(st, "available", "%" PRIu64, pi.available);
	p2pdma_scn_say(st, "pool of %s: %s available of %s, %zu allocation%s", d->name,
		       human(pi.available, b1, sizeof(b1)), human(pi.size, b2, sizeof(b2)),
		       pi.nallocs, pi.nallocs == 1 ? "" : "s");
}

static int export_p2pmem(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_dmabuf *buf;
	const struct p2pdma_dev *d;
	uint64_t size;
	char from[96];
	int ret;

	if (p2pdma_scn_argc(st) != 3)
		return p2pdma_scn_malformed(s, st, "export p2pmem BDF SIZE");
	if ((ret = p2pdma_scn_arg_dev(s, st, 1, &d)) || (ret = p2pdma_scn_arg_u64(s, st, 2, &size)))
		return ret;
	ret = p2pdma_dmabuf_export_p2pmem(p2pdma_scn_kernel(s), d, size, P2PDMA_O_RDWR, &buf);
	p2pdma_scn_errno(st, ret);
	pool_line(s, st, d);
	if (ret)
		return 0;
	snprintf(from, sizeof(from), "P2P pages of %s's pool (pci_alloc_p2pmem(), freed at release)",
		 d->name);
	say_export(st, buf, from);
	return buf_add(s, st, buf, true, -1);
}

static int export_mmio(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	struct p2pdma_phys_vec r[MAX_EXPORT_RANGES];
	struct p2pdma_provider *p;
	struct p2pdma_dmabuf *buf;
	const struct p2pdma_dev *d;
	int i, n = p2pdma_scn_argc(st) - 3, ret;
	uint64_t bar;
	char from[96];

	if (n < 1 || n > MAX_EXPORT_RANGES)
		return p2pdma_scn_malformed(s, st, "export mmio BDF BAR OFF:LEN... (1 to %d ranges)",
					    MAX_EXPORT_RANGES);
	if ((ret = p2pdma_scn_arg_dev(s, st, 1, &d)) || (ret = p2pdma_scn_arg_u64(s, st, 2, &bar)))
		return ret;
	if (bar > 5)
		return p2pdma_scn_malformed(s, st, "BAR 0 to 5");
	for (i = 0; i < n; i++) {
		uint64_t off, len;

		if ((ret = arg_range(s, st, i + 3, &off, &len)))
			return ret;
		r[i].paddr = d->bars[bar].cpu + off;
		r[i].len = len;
	}
	ret = p2pdma_kernel_provider(k, d, (int)bar, &p);
	if (!ret)
		ret = p2pdma_dmabuf_export_mmio(k, p, r, (size_t)n, P2PDMA_O_RDWR, &buf);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	snprintf(from, sizeof(from), "BAR %d of %s in %d range%s (MMIO, no struct pages)",
		 (int)bar, d->name, n, n == 1 ? "" : "s");
	say_export(st, buf, from);
	return buf_add(s, st, buf, true, -1);
}

static int do_export(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const char *kind = p2pdma_scn_arg(st, 0);

	if (!strcmp(kind, "system"))
		return export_system(s, st);
	if (!strcmp(kind, "p2pmem"))
		return export_p2pmem(s, st);
	if (!strcmp(kind, "mmio"))
		return export_mmio(s, st);
	return p2pdma_scn_malformed(s, st, "'%s': export system|p2pmem|mmio ...", kind);
}

/* --- buffers: descriptors, references, the lock, move_notify, revoke --- */

static int do_fd(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_scn_dmabuf *b;
	int fd, flags = 0, ret = arg_buf(s, st, 0, &b);

	if (ret)
		return ret;
	if (p2pdma_scn_argc(st) == 2) {
		if (strcmp(p2pdma_scn_arg(st, 1), "cloexec"))
			return p2pdma_scn_malformed(s, st, "dmabuf-fd $BUF [cloexec]");
		flags = P2PDMA_O_CLOEXEC;
	}
	if (!b->ref || b->fd >= 0)
		return p2pdma_scn_malformed(s, st, "%s: only a buffer held by reference and without a descriptor gets one",
					    b->name);
	fd = p2pdma_dmabuf_fd(b->buf, flags);
	p2pdma_scn_errno(st, fd < 0 ? fd : 0);
	if (fd < 0)
		return 0;
	b->ref = false;		/* the descriptor took the reference */
	b->fd = fd;
	p2pdma_scn_set(st, "fd", "%d", fd);
	p2pdma_scn_say(st, "dma_buf_fd() = %d: the descriptor holds the creation reference", fd);
	return 0;
}

static int do_get(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_dmabuf *buf;
	uint64_t fd;
	int ret = p2pdma_scn_arg_u64(s, st, 0, &fd);

	if (ret)
		return ret;
	ret = p2pdma_dmabuf_get(p2pdma_scn_kernel(s), fd > 0x7fffffff ? -1 : (int)fd, &buf);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	p2pdma_scn_set(st, "size", "%" PRIu64, p2pdma_dmabuf_size(buf));
	p2pdma_scn_set(st, "exporter", "%s", p2pdma_dmabuf_exp_name(buf));
	p2pdma_scn_say(st, "dma_buf_get(%" PRIu64 "): a new reference to a %s buffer", fd,
		       p2pdma_dmabuf_exp_name(buf));
	return buf_add(s, st, buf, true, -1);
}

static int do_close(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_scn_dmabuf *b;
	int ret = arg_buf(s, st, 0, &b);

	if (ret)
		return ret;
	if (b->fd < 0)
		return p2pdma_scn_malformed(s, st, "%s has no descriptor", b->name);
	ret = p2pdma_dmabuf_close_fd(b->k, b->fd);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	p2pdma_scn_say(st, "close(%d): the descriptor's reference is dropped", b->fd);
	b->fd = -1;
	buf_drop(s, b);
	return 0;
}

static int do_put(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_scn_dmabuf *b;
	int ret = arg_buf(s, st, 0, &b);

	if (ret)
		return ret;
	if (!b->ref)
		return p2pdma_scn_malformed(s, st, "%s: the script holds no reference to put", b->name);
	ret = p2pdma_dmabuf_put(b->buf);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	p2pdma_scn_say(st, "dma_buf_put(): the script's reference is gone (the exporter's release runs at the last one)");
	b->ref = false;
	buf_drop(s, b);
	return 0;
}

static int do_fd_limit(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	uint64_t n;
	int ret = p2pdma_scn_arg_u64(s, st, 0, &n);

	if (ret)
		return ret;
	ret = p2pdma_dmabuf_set_fd_limit(p2pdma_scn_kernel(s), n > 1 << 20 ? 1 << 20 : (int)n);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "RLIMIT_NOFILE %" PRIu64 ": descriptors 0 to %" PRIu64, n, n - 1);
	return 0;
}

static int do_resv_lock(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_scn_dmabuf *b;
	struct held *h;
	int ret = arg_buf(s, st, 0, &b);

	if (ret)
		return ret;
	h = calloc(1, sizeof(*h));
	if (!h)
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	ret = p2pdma_dmabuf_resv_lock(b->buf);
	p2pdma_scn_errno(st, ret);
	if (ret) {
		free(h);
		return 0;
	}
	p2pdma_dmabuf_ref(b->buf);	/* the lock outlives any handle's reference */
	h->buf = b->buf;
	h->next = dst(s)->locks;
	dst(s)->locks = h;
	p2pdma_scn_say(st, "dma_resv_lock(%s): held by the script until resv-unlock", b->name);
	return 0;
}

static int do_resv_unlock(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_scn_dmabuf *b;
	struct held **pp, *h;
	int ret = arg_buf(s, st, 0, &b);

	if (ret)
		return ret;
	ret = p2pdma_dmabuf_resv_unlock(b->buf);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	for (pp = &dst(s)->locks; *pp && (*pp)->buf != b->buf; pp = &(*pp)->next)
		;
	if (*pp) {
		h = *pp;
		*pp = h->next;
		p2pdma_dmabuf_put(h->buf);
		free(h);
	}
	p2pdma_scn_say(st, "dma_resv_unlock(%s)", b->name);
	return 0;
}

static int do_move_notify(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_scn_dmabuf *b;
	int ret = arg_buf(s, st, 0, &b);

	if (ret)
		return ret;
	ret = p2pdma_dmabuf_move_notify(b->buf);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "dma_buf_move_notify(%s): every dynamic importer is told; static ones are not",
			       b->name);
	return 0;
}

static int revoke(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, bool on)
{
	struct p2pdma_scn_dmabuf *b;
	int ret = arg_buf(s, st, 0, &b);

	if (ret)
		return ret;
	ret = p2pdma_dmabuf_revoke(b->buf, on);
	p2pdma_scn_errno(st, ret);
	p2pdma_scn_set(st, "revoked", "%s", p2pdma_dmabuf_revoked(b->buf) ? "yes" : "no");
	if (!ret)
		p2pdma_scn_say(st, "%s %s under the reservation lock, move_notify on a change", b->name,
			       on ? "revoked" : "restored");
	return 0;
}

static int do_revoke(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return revoke(s, st, true);
}

static int do_unrevoke(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return revoke(s, st, false);
}

static int do_buf_state(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_scn_dmabuf *b;
	const struct p2pdma_provider *p;
	int ret = arg_buf(s, st, 0, &b);

	if (ret)
		return ret;
	p = p2pdma_dmabuf_provider(b->buf);
	p2pdma_scn_set(st, "size", "%" PRIu64, p2pdma_dmabuf_size(b->buf));
	p2pdma_scn_set(st, "exporter", "%s", p2pdma_dmabuf_exp_name(b->buf));
	p2pdma_scn_set(st, "attachments", "%zu", p2pdma_dmabuf_num_attachments(b->buf));
	p2pdma_scn_set(st, "revoked", "%s", p2pdma_dmabuf_revoked(b->buf) ? "yes" : "no");
	p2pdma_scn_set(st, "dynamic", "%s", p2pdma_dmabuf_is_dynamic(b->buf) ? "yes" : "no");
	p2pdma_scn_set(st, "file_flags", "%#o", (unsigned int)p2pdma_dmabuf_file_flags(b->buf));
	p2pdma_scn_say(st, "%s: %s exporter%s, %zu attachment%s, %s%s%s%s", b->name,
		       p2pdma_dmabuf_exp_name(b->buf),
		       p2pdma_dmabuf_is_dynamic(b->buf) ? " (dynamic: it has pin)" : "",
		       p2pdma_dmabuf_num_attachments(b->buf),
		       p2pdma_dmabuf_num_attachments(b->buf) == 1 ? "" : "s",
		       p2pdma_dmabuf_revoked(b->buf) ? "revoked" : "live",
		       p ? ", memory of " : "", p ? p2pdma_provider_owner(p)->name : "",
		       p2pdma_dmabuf_resv_held(b->buf) ? ", reservation lock held by the script" : "");
	return 0;
}

/* --- importers --- */

static const struct {
	const char *name;
	enum p2pdma_importer_kind kind;
	const char *what;
} kinds[] = {
	{ "rdma", P2PDMA_IMPORTER_RDMA_DYNAMIC,
	  "dynamic, peer2peer, remaps on demand (an RDMA NIC with ODP): move_notify drops its mapping, its next DMA maps again" },
	{ "rdma-pinned", P2PDMA_IMPORTER_RDMA_PINNED,
	  "dynamic, peer2peer, pinned (ib_umem_dmabuf_get_pinned()): pins and maps at import, move_notify only warns" },
	{ "iommufd", P2PDMA_IMPORTER_IOMMUFD,
	  "iommufd: maps the single range into its own IOMMU domain; move_notify revokes it for good" },
	{ "hostile", P2PDMA_IMPORTER_HOSTILE,
	  "dynamic, peer2peer, hostile: ignores move_notify and keeps its mapping" },
	{ "static", P2PDMA_IMPORTER_STATIC,
	  "a static importer (dma_buf_attach(): no ops, no peer2peer, never told)" },
};

static int do_importer(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const char *kind = p2pdma_scn_arg(st, 0);
	const struct p2pdma_dev *d;
	struct p2pdma_importer *imp;
	unsigned int flags = 0;
	struct h_imp *h, **pp;
	size_t i;
	int a, ret;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[i].name, kind); i++)
		;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return p2pdma_scn_malformed(s, st, "'%s': importer rdma|rdma-pinned|iommufd|hostile|static BDF [no-p2p] [no-move-notify]",
					    kind);
	if ((ret = p2pdma_scn_arg_dev(s, st, 1, &d)))
		return ret;
	for (a = 2; a < p2pdma_scn_argc(st); a++) {
		if (!strcmp(p2pdma_scn_arg(st, a), "no-p2p"))
			flags |= P2PDMA_IMPORTER_NO_PEER2PEER;
		else if (!strcmp(p2pdma_scn_arg(st, a), "no-move-notify"))
			flags |= P2PDMA_IMPORTER_NO_MOVE_NOTIFY;
		else
			return p2pdma_scn_malformed(s, st, "'%s': no-p2p or no-move-notify", p2pdma_scn_arg(st, a));
	}
	ret = p2pdma_importer_create(p2pdma_scn_kernel(s), kinds[i].kind, d, p2pdma_scn_as(st), &imp);
	if (!ret && flags && (ret = p2pdma_importer_set_flags(imp, flags)))
		p2pdma_importer_destroy(imp);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	h = calloc(1, sizeof(*h));
	if (h)
		h->name = p2pdma_strdup(p2pdma_importer_name(imp));
	if (!h || !h->name) {
		free(h);
		p2pdma_importer_destroy(imp);
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	}
	h->ds = dst(s);
	h->imp = imp;
	for (pp = &h->ds->imps; *pp; pp = &(*pp)->next)
		;	/* in creation order, as transcripts list them */
	*pp = h;
	p2pdma_scn_say(st, "%s on %s: %s%s%s", h->name, d->name, kinds[i].what,
		       flags & P2PDMA_IMPORTER_NO_PEER2PEER ? "; here WITHOUT allow_peer2peer" : "",
		       flags & P2PDMA_IMPORTER_NO_MOVE_NOTIFY ? "; here with ops lacking move_notify" : "");
	return p2pdma_scn_handle_add(s, st, "importer", h, h_imp_free);
}

/* Why the importer's device gets its map type for the buffer's provider. */
static void map_why(struct p2pdma_kernel *k, const struct p2pdma_provider *p,
		    const struct p2pdma_dev *client, enum p2pdma_map_type t, char *buf, size_t len)
{
	struct p2pdma_verdict *v;

	buf[0] = '\0';
	if (p2pdma_verdict_create(&v))
		return;
	if (p2pdma_router_calc(p2pdma_kernel_router(k), p2pdma_provider_owner(p), client, false, v) == t)
		p2pdma_scn_explain(v, buf, len);
	else
		snprintf(buf, len, "from the map-type cache (the hardware changed since the first evaluation)");
	p2pdma_verdict_destroy(v);
}

static const char *const sgt_kinds[] = {
	[P2PDMA_SGT_MAP_SG] = "map_sg",
	[P2PDMA_SGT_BUS_ADDR] = "bus_addr",
	[P2PDMA_SGT_IOVA] = "iova",
	[P2PDMA_SGT_MAP_PHYS] = "dma_map_phys",
};

static const char *const sgt_how[] = {
	[P2PDMA_SGT_MAP_SG] = "dma_map_sgtable() over the pages",
	[P2PDMA_SGT_BUS_ADDR] = "dma_buf_phys_vec_to_sgt(): PCI bus addresses (paddr + bus_offset), nothing mapped, the IOMMU bypassed",
	[P2PDMA_SGT_IOVA] = "dma_buf_phys_vec_to_sgt(): one contiguous IOVA span (dma_iova_try_alloc/link/sync), the ranges merged",
	[P2PDMA_SGT_MAP_PHYS] = "dma_buf_phys_vec_to_sgt(): dma_map_phys(DMA_ATTR_MMIO) per range, no IOVA in use",
};

/* pci_p2pdma_map_type() of the buffer's provider for the importer, and why. */
static void say_map_type(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
			 const struct p2pdma_provider *p, const struct p2pdma_dev *dev)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	enum p2pdma_map_type t;
	char why[400];

	if (!p) {
		p2pdma_scn_set(st, "map", "NONE");	/* system pages */
		return;
	}
	/* The cache, read without evaluating: a map that never got as far as
	 * pci_p2pdma_map_type() leaves it empty. */
	t = dev ? p2pdma_kernel_cache_lookup(k, p2pdma_provider_owner(p), dev) : P2PDMA_MAP_UNKNOWN;
	if (t == P2PDMA_MAP_UNKNOWN)
		return;
	map_why(k, p, dev, t, why, sizeof(why));
	p2pdma_scn_set(st, "map", "%s", p2pdma_map_type_name(t));
	p2pdma_scn_say(st, "pci_p2pdma_map_type(%s BAR %d, %s) = %s: %s", p2pdma_provider_owner(p)->name,
		       p2pdma_provider_bar(p), dev->name, p2pdma_map_type_name(t), why);
}

/* The DMA entries of a table: fields addrN/lenN and one line each. */
static void say_entries(struct p2pdma_scenario_step *st, const struct p2pdma_sgt *sgt)
{
	enum p2pdma_sgt_kind kind = p2pdma_sgt_kind(sgt);
	size_t i, n = p2pdma_sgt_nents(sgt);

	for (i = 0; i < n && i < 8; i++) {
		bool bus = kind == P2PDMA_SGT_BUS_ADDR || p2pdma_sgt_is_bus_address(sgt, i);
		char key[16];

		snprintf(key, sizeof(key), "addr%zu", i);
		p2pdma_scn_set(st, key, "%#" PRIx64, p2pdma_sgt_dma_address(sgt, i));
		snprintf(key, sizeof(key), "len%zu", i);
		p2pdma_scn_set(st, key, "%#" PRIx32, p2pdma_sgt_dma_len(sgt, i));
		p2pdma_scn_say(st, "  [%zu] %#" PRIx64 " + %#" PRIx32 "%s%s", i, p2pdma_sgt_dma_address(sgt, i),
			       p2pdma_sgt_dma_len(sgt, i), bus ? " (PCI bus address)" : "",
			       p2pdma_sgt_dma_address(sgt, i) & (P2PDMA_PAGE_SIZE - 1) ?
			       " (not page aligned)" : "");
	}
	if (n > 8)
		p2pdma_scn_say(st, "  ... %zu more", n - 8);
}

/* The map type, how the table was made, and its entries: fields and lines. */
static void say_table(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, struct h_imp *h)
{
	struct p2pdma_dmabuf_attach *a = p2pdma_importer_attachment(h->imp);
	const struct p2pdma_sgt *sgt = p2pdma_importer_sgt(h->imp);
	enum p2pdma_sgt_kind kind;
	uint64_t addr;
	size_t n;

	if (!a)
		return;
	say_map_type(s, st, p2pdma_dmabuf_provider(p2pdma_dmabuf_attach_buf(a)),
		     p2pdma_dmabuf_attach_dev(a));
	if (!sgt) {
		if (!p2pdma_importer_dma_address(h->imp, 0, &addr)) {	/* iommufd: its own domain */
			p2pdma_scn_set(st, "mode", "iommufd");
			p2pdma_scn_set(st, "addr", "%#" PRIx64, addr);
			p2pdma_scn_say(st, "%s maps the range into its own IOMMU domain at IOVA %#" PRIx64,
				       h->name, addr);
		}
		return;
	}
	kind = p2pdma_sgt_kind(sgt);
	n = p2pdma_sgt_nents(sgt);
	p2pdma_scn_set(st, "mode", "%s", sgt_kinds[kind]);
	p2pdma_scn_set(st, "entries", "%zu", n);
	p2pdma_scn_set(st, "cpu_entries", "%zu", p2pdma_sgt_orig_nents(sgt));
	p2pdma_scn_set(st, "addr", "%#" PRIx64, n ? p2pdma_sgt_dma_address(sgt, 0) : 0);
	p2pdma_scn_set(st, "bus", "%s", n && (kind == P2PDMA_SGT_BUS_ADDR ||
					     p2pdma_sgt_is_bus_address(sgt, 0)) ? "yes" : "no");
	p2pdma_scn_say(st, "%s: %zu DMA entr%s, %zu CPU entr%s%s", sgt_how[kind], n, n == 1 ? "y" : "ies",
		       p2pdma_sgt_orig_nents(sgt), p2pdma_sgt_orig_nents(sgt) == 1 ? "y" : "ies",
		       p2pdma_sgt_orig_nents(sgt) ? "" : " (no CPU list: importers use the DMA addresses only)");
	say_entries(st, sgt);
}

static int imp_buf_step(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, bool import)
{
	struct p2pdma_scn_dmabuf *b;
	struct h_imp *h;
	int ret;

	if ((ret = arg_imp(s, st, 0, &h)) || (ret = arg_buf(s, st, 1, &b)))
		return ret;
	ret = import ? p2pdma_importer_import(h->imp, b->buf) : p2pdma_importer_attach(h->imp, b->buf);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	p2pdma_scn_set(st, "attachments", "%zu", p2pdma_dmabuf_num_attachments(b->buf));
	p2pdma_scn_set(st, "mapped", "%s", p2pdma_importer_mapped(h->imp) ? "yes" : "no");
	p2pdma_scn_say(st, "%s %s %s: %s attachment%s", h->name, import ? "imports" : "attaches to",
		       b->name, p2pdma_dmabuf_attach_is_dynamic(p2pdma_importer_attachment(h->imp)) ?
		       "a dynamic" : "a static",
		       p2pdma_dmabuf_attach_peer2peer(p2pdma_importer_attachment(h->imp)) ?
		       " with peer2peer" : " without peer2peer");
	if (import)
		say_table(s, st, h);
	return 0;
}

static int do_attach(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_buf_step(s, st, false);
}

static int do_import(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_buf_step(s, st, true);
}

/* An importer step with no other argument; @say: what it did. */
static int imp_step(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
		    int (*fn)(struct p2pdma_importer *), const char *say, bool table)
{
	struct h_imp *h;
	int ret = arg_imp(s, st, 0, &h);

	if (ret)
		return ret;
	ret = fn(h->imp);
	p2pdma_scn_errno(st, ret);
	p2pdma_scn_set(st, "mapped", "%s", p2pdma_importer_mapped(h->imp) ? "yes" : "no");
	if (ret)
		return 0;
	p2pdma_scn_say(st, "%s: %s", h->name, say);
	if (table)
		say_table(s, st, h);
	return 0;
}

static int do_dmabuf_pin(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_step(s, st, p2pdma_importer_pin, "dma_buf_pin(): pinned (the exporter's pin, or nothing without one)", false);
}

static int do_dmabuf_unpin(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_step(s, st, p2pdma_importer_unpin, "dma_buf_unpin()", false);
}

static int map_locked(struct p2pdma_importer *imp)
{
	return p2pdma_importer_map_attachment(imp, false);
}

static int map_unlocked(struct p2pdma_importer *imp)
{
	return p2pdma_importer_map_attachment(imp, true);
}

static int unmap_locked(struct p2pdma_importer *imp)
{
	return p2pdma_importer_unmap_attachment(imp, false);
}

static int unmap_unlocked(struct p2pdma_importer *imp)
{
	return p2pdma_importer_unmap_attachment(imp, true);
}

static int do_map(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_step(s, st, map_locked, "dma_buf_map_attachment() (reservation lock held)", true);
}

static int do_map_unlocked(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_step(s, st, map_unlocked, "dma_buf_map_attachment_unlocked()", true);
}

static int do_unmap(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_step(s, st, unmap_locked, "dma_buf_unmap_attachment() (reservation lock held)", false);
}

static int do_unmap_unlocked(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_step(s, st, unmap_unlocked, "dma_buf_unmap_attachment_unlocked()", false);
}

static int do_fault(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_step(s, st, p2pdma_importer_map, "its fault path maps the buffer (takes the lock itself)", true);
}

static int do_detach(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_step(s, st, p2pdma_importer_detach,
			"dma_buf_detach() as is, then its reference dropped", false);
}

static int do_release(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return imp_step(s, st, p2pdma_importer_release,
			"unmapped, unpinned, detached, its reference dropped", false);
}

static int do_importer_state(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_dmabuf_attach *a;
	struct h_imp *h;
	int ret = arg_imp(s, st, 0, &h);

	if (ret)
		return ret;
	a = p2pdma_importer_attachment(h->imp);
	p2pdma_scn_set(st, "attached", "%s", a ? "yes" : "no");
	p2pdma_scn_set(st, "mapped", "%s", p2pdma_importer_mapped(h->imp) ? "yes" : "no");
	p2pdma_scn_set(st, "notifications", "%u", p2pdma_importer_notifications(h->imp));
	p2pdma_scn_set(st, "kept", "%u", a ? p2pdma_dmabuf_attach_kept_across_revoke(a) : 0);
	p2pdma_scn_say(st, "%s: %s, %s, %u move_notify call%s, %u mapping%s kept across a notification",
		       h->name, a ? "attached" : "not attached",
		       p2pdma_importer_mapped(h->imp) ? "mapped" : "not mapped",
		       p2pdma_importer_notifications(h->imp),
		       p2pdma_importer_notifications(h->imp) == 1 ? "" : "s",
		       a ? p2pdma_dmabuf_attach_kept_across_revoke(a) : 0,
		       a && p2pdma_dmabuf_attach_kept_across_revoke(a) == 1 ? "" : "s");
	return 0;
}

/* --- DMA by an importer's engine through its mapping --- */

#define MAX_DMA 256

static int dma(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, bool write)
{
	char data[MAX_DMA + 1] = "", shown[4 * MAX_DMA + 1];
	bool was_mapped;
	struct h_imp *h;
	uint64_t off, len, addr;
	size_t i, o = 0;
	int ret;

	if ((ret = arg_imp(s, st, 0, &h)) || (ret = p2pdma_scn_arg_u64(s, st, 1, &off)))
		return ret;
	if (write) {
		len = strlen(p2pdma_scn_arg(st, 2));
		memcpy(data, p2pdma_scn_arg(st, 2), len > MAX_DMA ? MAX_DMA : len);
	} else if ((ret = p2pdma_scn_arg_u64(s, st, 2, &len))) {
		return ret;
	}
	if (!len || len > MAX_DMA)
		return p2pdma_scn_malformed(s, st, "1 to %d bytes", MAX_DMA);
	was_mapped = p2pdma_importer_mapped(h->imp);
	ret = write ? p2pdma_importer_write(h->imp, off, data, (size_t)len) :
		      p2pdma_importer_read(h->imp, off, data, (size_t)len);
	p2pdma_scn_errno(st, ret);
	if (!was_mapped && p2pdma_importer_mapped(h->imp))
		say_table(s, st, h);	/* the fault path mapped it */
	if (!p2pdma_importer_dma_address(h->imp, off, &addr))
		p2pdma_scn_set(st, "addr", "%#" PRIx64, addr);
	if (ret) {
		p2pdma_scn_say(st, "%s: DMA %s of %" PRIu64 " bytes at offset %#" PRIx64 " did not complete",
			       h->name, write ? "write" : "read", len, off);
		return 0;
	}
	for (i = 0; i < len && data[i]; i++)
		o += (size_t)snprintf(shown + o, sizeof(shown) - o, data[i] >= 32 && data[i] < 127 ?
				      "%c" : "\\x%02x", (unsigned char)data[i]);
	p2pdma_scn_set(st, "data", "%s", shown);
	p2pdma_scn_say(st, "%s: DMA %s of %" PRIu64 " bytes at offset %#" PRIx64 " through DMA address %#" PRIx64 ": %s '%s'",
		       h->name, write ? "write" : "read", len, off, addr, write ? "landed" : "got", shown);
	return 0;
}

static int do_dma_write(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return dma(s, st, true);
}

static int do_dma_read(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return dma(s, st, false);
}

static const struct p2pdma_scn_verb verbs[] = {
	{ "dma-domain", "dma-domain none|identity|dma", 1, 1, P2PDMA_SCN_KERNEL, do_dma_domain },
	{ "quirk", "quirk NAME on|off", 2, 2, P2PDMA_SCN_KERNEL, do_quirk },
	{ "export", "export system ADDR:LEN... | p2pmem BDF SIZE | mmio BDF BAR OFF:LEN... [as NAME]",
	  2, 3 + MAX_EXPORT_RANGES, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_export },
	{ "dmabuf-fd", "dmabuf-fd $BUF [cloexec]", 1, 2, P2PDMA_SCN_KERNEL, do_fd },
	{ "dmabuf-get", "dmabuf-get FD [as NAME]", 1, 1, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_get },
	{ "close-fd", "close-fd $BUF", 1, 1, P2PDMA_SCN_KERNEL, do_close },
	{ "put", "put $BUF", 1, 1, P2PDMA_SCN_KERNEL, do_put },
	{ "fd-limit", "fd-limit N", 1, 1, P2PDMA_SCN_KERNEL, do_fd_limit },
	{ "resv-lock", "resv-lock $BUF", 1, 1, P2PDMA_SCN_KERNEL, do_resv_lock },
	{ "resv-unlock", "resv-unlock $BUF", 1, 1, P2PDMA_SCN_KERNEL, do_resv_unlock },
	{ "move-notify", "move-notify $BUF", 1, 1, P2PDMA_SCN_KERNEL, do_move_notify },
	{ "revoke", "revoke $BUF", 1, 1, P2PDMA_SCN_KERNEL, do_revoke },
	{ "unrevoke", "unrevoke $BUF", 1, 1, P2PDMA_SCN_KERNEL, do_unrevoke },
	{ "dmabuf", "dmabuf $BUF", 1, 1, P2PDMA_SCN_KERNEL, do_buf_state },
	{ "importer", "importer rdma|rdma-pinned|iommufd|hostile|static BDF [no-p2p] [no-move-notify] [as NAME]",
	  2, 4, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_importer },
	{ "attach", "attach $IMPORTER $BUF", 2, 2, P2PDMA_SCN_KERNEL, do_attach },
	{ "import", "import $IMPORTER $BUF", 2, 2, P2PDMA_SCN_KERNEL, do_import },
	{ "dmabuf-pin", "dmabuf-pin $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_dmabuf_pin },
	{ "dmabuf-unpin", "dmabuf-unpin $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_dmabuf_unpin },
	{ "map", "map $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_map },
	{ "map-unlocked", "map-unlocked $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_map_unlocked },
	{ "unmap", "unmap $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_unmap },
	{ "unmap-unlocked", "unmap-unlocked $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_unmap_unlocked },
	{ "fault", "fault $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_fault },
	{ "detach", "detach $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_detach },
	{ "release", "release $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_release },
	{ "importer-state", "importer-state $IMPORTER", 1, 1, P2PDMA_SCN_KERNEL, do_importer_state },
	{ "dma-write", "dma-write $IMPORTER OFFSET TEXT", 3, 3, P2PDMA_SCN_KERNEL, do_dma_write },
	{ "dma-read", "dma-read $IMPORTER OFFSET LEN", 3, 3, P2PDMA_SCN_KERNEL, do_dma_read },
};

static const struct p2pdma_scn_expect_kind expects[] = {
	{ "notified", 1, -1, check_notified },
};

const struct p2pdma_scn_layer p2pdma_scn_layer_dmabuf = {
	"dmabuf", verbs, sizeof(verbs) / sizeof(verbs[0]), expects,
	sizeof(expects) / sizeof(expects[0]), d_init, d_fini, d_reboot, d_after,
};
