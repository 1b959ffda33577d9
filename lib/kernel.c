// SPDX-License-Identifier: LGPL-2.1-or-later
/* kernel.c - the modelled running kernel: boot, P2PDMA state, providers, map-type cache, find_many */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-private.h"
#include "p2pmem-private.h"

/* --- the log --- */

static void klog_add(struct p2pdma_kernel *k, enum p2pdma_klog_kind kind,
		     enum p2pdma_note code, const char *text)
{
	char *s;

	p2pdma_log(k->ctx, P2PDMA_LOG_INFO, "%s%s",
		   kind == P2PDMA_KLOG_NOTE ? "note: " : "", text);
	if (k->nlog == k->caplog) {
		size_t cap = k->caplog ? k->caplog * 2 : 32;
		struct p2pdma_klog_entry *n = realloc(k->log, cap * sizeof(*n));

		if (!n)
			return;	/* the log is best effort, never a failure */
		k->log = n;
		k->caplog = cap;
	}
	s = p2pdma_strdup(text);
	if (!s)
		return;
	k->log[k->nlog].kind = kind;
	k->log[k->nlog].code = code;
	k->log[k->nlog].text = s;
	k->nlog++;
}

void p2pdma_klog(struct p2pdma_kernel *k, enum p2pdma_klog_kind kind,
		 enum p2pdma_note code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	klog_add(k, kind, code, text);
}

void p2pdma_klog_dev(struct p2pdma_kernel *k, const struct p2pdma_dev *dev,
		     const char *fmt, ...)
{
	const char *drv = k->devs[dev->index].driver;
	char text[1024];
	int n;
	va_list ap;

	n = snprintf(text, sizeof(text), "%s %s: ", drv ? drv : "pci", dev->name);
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	klog_add(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE, text);
}

/* The predicted lines of a calculation the kernel really ran. */
static void log_verdict(struct p2pdma_kernel *k, const struct p2pdma_verdict *v)
{
	unsigned int i;

	for (i = 0; i < v->ndmesg; i++)
		klog_add(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE, v->dmesg[i]);
}

P2PDMA_EXPORT size_t p2pdma_kernel_log_count(const struct p2pdma_kernel *k)
{
	return k->nlog;
}

P2PDMA_EXPORT const char *p2pdma_kernel_log_entry(const struct p2pdma_kernel *k,
						  size_t i,
						  enum p2pdma_klog_kind *kind,
						  enum p2pdma_note *code)
{
	if (i >= k->nlog)
		return NULL;
	if (kind)
		*kind = k->log[i].kind;
	if (code)
		*code = k->log[i].code;
	return k->log[i].text;
}

/* --- functions of the machine --- */

const struct p2pdma_dev *p2pdma_k_dev(const struct p2pdma_kernel *k,
				      const struct p2pdma_dev *d)
{
	return p2pdma_topo_map_dev(p2pdma_k_topo(k), d);
}

int p2pdma_k_dev_of(const struct p2pdma_kernel *k, const struct p2pdma_dev *d,
		    const struct p2pdma_dev **out)
{
	*out = p2pdma_k_dev(k, d);
	if (!*out)
		return p2pdma_err(k->ctx, -EINVAL,
				  "%s is not a function of the kernel's machine",
				  d ? d->name : "(null)");
	return 0;
}

/* --- boot (doc/kernel-model.md §2.7) --- */

static void boot_line(void *data, enum p2pdma_note code, const char *text)
{
	struct p2pdma_kernel *k = data;

	klog_add(k, code == P2PDMA_NOTE_NONE ? P2PDMA_KLOG_KERNEL :
		 P2PDMA_KLOG_NOTE, code, text);
}

/* Say once why ACS is unknown on some functions. */
static void note_unknown_acs(struct p2pdma_kernel *k, const struct p2pdma_topo *t)
{
	uint32_t i, unknown = 0;

	for (i = 0; i < t->ndevs; i++)
		unknown += t->devs[i]->acs_state == P2PDMA_ACS_UNKNOWN;
	if (!unknown)
		return;
	p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_ACS_UNKNOWN,
		    "ACS unknown on %u of %u functions (%s): verdicts through them assume ACS redirect off",
		    unknown, t->ndevs,
		    t->source == P2PDMA_SRC_LIVE ?
		    "the extended config space is unreadable without root" :
		    "the source holds no extended config space");
}

/*
 * The registers carry what the machine's own command line did at its boot:
 * say which functions it configured; never apply it a second time.
 */
static void note_cmdline_shown(struct p2pdma_kernel *k, const struct p2pdma_topo *t,
			       const char *cmdline)
{
	const char *redir = NULL, *config = NULL;
	char devs[256] = "", param[1024] = "", *buf;
	unsigned int hits = 0;
	size_t off = 0, n = strlen(cmdline) + 1;
	uint32_t i;

	for (i = 0; i < t->ndevs; i++) {
		if (!p2pdma_policy_cmdline_match(k->pol, cmdline, t->devs[i], NULL))
			continue;
		if (++hits <= 4 && off < sizeof(devs))
			off += (size_t)snprintf(devs + off, sizeof(devs) - off, "%s%s",
						off ? ", " : "", t->devs[i]->name);
	}
	if (!hits)
		return;
	buf = malloc(n);
	if (buf && !p2pdma_cmdline_pci_params(cmdline, buf, n, &redir, &config))
		snprintf(param, sizeof(param), "%s%s%s%s%s",
			 redir ? "pci=disable_acs_redir=" : "", redir ? redir : "",
			 redir && config ? " " : "",
			 config ? "pci=config_acs=" : "", config ? config : "");
	free(buf);
	p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_CMDLINE_SHOWN,
		    "the ACS registers of %u function%s (%s%s) show the machine's own command line: %s (not applied again)",
		    hits, hits == 1 ? "" : "s", devs, hits > 4 ? ", ..." : "", param);
}

struct param_scan {
	struct p2pdma_kernel *k;
	const struct p2pdma_topo *t;
	unsigned int nredir, nconfig;
	bool after_acs;			/* the previous option was an ACS list */
};

/* Does @s read as a device spec (what pci_dev_str_match() would parse)? */
static bool looks_like_dev(const char *s)
{
	uint32_t domain;
	uint8_t bus, devfn;
	char buf[32];
	size_t n = strcspn(s, "/;");

	if (!strncmp(s, "pci:", 4))
		return true;
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return p2pdma_parse_bdf(buf, &domain, &bus, &devfn) == 0;
}

/* Entries of an ACS list that select no function of the machine. */
static void check_entries(struct param_scan *ps, const char *name, const char *list,
			  bool config)
{
	const char *p = list;

	while (*p) {
		const char *entry = p, *spec = p, *next;
		char text[128];
		bool any = false;
		uint32_t i;
		size_t len;

		next = strchr(p, ';');
		len = next ? (size_t)(next - p) : strlen(p);
		if (config) {
			const char *at = memchr(p, '@', len);

			if (!at)
				goto advance;	/* the kernel says "ACS Flags missing" */
			spec = at + 1;
		}
		for (i = 0; i < ps->t->ndevs && !any; i++) {
			const char *end;

			any = p2pdma_dev_str_match(ps->t->devs[i], spec, &end) == 1;
		}
		if (!any && looks_like_dev(spec)) {
			snprintf(text, sizeof(text), "%.*s", (int)len, entry);
			p2pdma_klog(ps->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_PARAM_NO_DEVICE,
				    "pci=%s entry '%s' matches no function of this machine",
				    name, text);
		}
advance:
		if (!next)
			break;
		p = next + 1;
	}
}

static void scan_option(void *data, const char *opt)
{
	struct param_scan *ps = data;
	bool redir = !strncmp(opt, "disable_acs_redir=", 18);
	bool config = !strncmp(opt, "config_acs=", 11);

	if (redir || config) {
		if ((redir ? ps->nredir : ps->nconfig) > 0)
			p2pdma_klog(ps->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_PARAM_OVERRIDDEN,
				    "pci=%s is given more than once: only the last one takes effect, the earlier ones are ignored",
				    redir ? "disable_acs_redir=" : "config_acs=");
		if (redir)
			ps->nredir++;
		else
			ps->nconfig++;
		check_entries(ps, redir ? "disable_acs_redir=" : "config_acs=",
			      opt + (redir ? 18 : 11), config);
		ps->after_acs = true;
		return;
	}
	if (ps->after_acs && looks_like_dev(opt)) {
		/* pci_setup() splits at ',': the rest of the list is lost. */
		p2pdma_klog(ps->k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "PCI: Unknown option `%s'", opt);
		p2pdma_klog(ps->k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_PARAM_COMMA,
			    "',' ends a pci= option: '%s' is not part of the ACS list before it (separate devices with ';')",
			    opt);
		return;
	}
	ps->after_acs = false;
}

/* Warn about what the kernel would silently ignore in a command line. */
static int check_cmdline(struct p2pdma_kernel *k, const struct p2pdma_topo *t,
			 const char *cmdline)
{
	struct param_scan ps = { k, t, 0, 0, false };
	size_t n = strlen(cmdline) + 1;
	char *buf = malloc(n);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = p2pdma_cmdline_pci_options(cmdline, buf, n, scan_option, &ps);
	free(buf);
	if (ret)
		return p2pdma_err(k->ctx, ret, "kernel command line: unbalanced '\"'");
	return 0;
}

/* Does a command line carry an ACS parameter at all? */
static bool has_acs_param(const char *cmdline)
{
	const char *redir, *config;
	size_t n;
	char *buf;
	bool any;

	if (!cmdline)
		return false;
	n = strlen(cmdline) + 1;
	buf = malloc(n);
	if (!buf || p2pdma_cmdline_pci_params(cmdline, buf, n, &redir, &config)) {
		free(buf);
		return false;
	}
	any = redir || config;
	free(buf);
	return any;
}

/*
 * The what-if boot: pci_enable_acs() again on a copy, from the firmware
 * values, with the what-if command line (or, under the IOMMU what-if
 * alone, the machine's own line, so that nothing is silently dropped).
 */
static int boot_whatif(struct p2pdma_kernel *k, struct p2pdma_topo *hw)
{
	const char *cmdline = p2pdma_policy_cmdline(k->pol);
	const char *own = hw->machine.cmdline;
	struct p2pdma_boot_log log = { boot_line, k };
	bool booted = false;
	int ret;

	if (!cmdline && has_acs_param(own)) {
		cmdline = own;
		p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_CMDLINE_REAPPLIED,
			    "the machine's own command line is applied again in this boot: %s", own);
	} else if (cmdline && has_acs_param(own)) {
		p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_CMDLINE_REPLACED,
			    "this boot replaces the machine's own command line, whose ACS parameters are not applied: %s",
			    own);
	}
	if (cmdline) {
		k->boot_cmdline = p2pdma_strdup(cmdline);
		if (!k->boot_cmdline)
			return -ENOMEM;
		ret = check_cmdline(k, hw, cmdline);
		if (ret)
			return ret;
	}
	if (p2pdma_topo_infer_iommu_boot(hw, &booted) == -ENODATA &&
	    !p2pdma_policy_iommu_acs(k->pol))
		p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_IOMMU_ASSUMED,
			    "whether the captured machine booted with an IOMMU is unknown and no register shows the kernel's default ACS bits: the what-if boot assumes no IOMMU");
	return p2pdma_policy_boot_acs(k->pol, cmdline, booted, hw, &log);
}

static int new_generation(struct p2pdma_kernel *k, struct p2pdma_topo *hw)
{
	struct p2pdma_kgen *g = calloc(1, sizeof(*g));
	int ret;

	if (!g) {
		p2pdma_topo_destroy(hw);
		return p2pdma_err(k->ctx, -ENOMEM, "kernel: out of memory");
	}
	g->topo = hw;
	ret = p2pdma_router_create(k->ctx, hw, k->pol, &g->router);
	if (ret) {
		p2pdma_topo_destroy(hw);
		free(g);
		return ret;
	}
	g->older = k->gen;
	k->gen = g;
	return 0;
}

static void free_p2pdma(struct p2pdma_kernel *k, struct p2pdma_kp2pdma *p);

P2PDMA_EXPORT int p2pdma_kernel_boot(struct p2pdma_ctx *ctx,
				     const struct p2pdma_topo *topo,
				     const struct p2pdma_policy *pol,
				     struct p2pdma_kernel **out)
{
	struct p2pdma_kernel *k;
	struct p2pdma_topo *hw = NULL;
	uint32_t i;
	size_t n;
	int ret;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return p2pdma_err(ctx, -ENOMEM, "kernel: out of memory");
	k->ctx = ctx;
	ret = p2pdma_policy_clone(pol, &k->pol);
	if (ret)
		goto fail;
	ret = p2pdma_dma_init(k);
	if (ret)
		goto fail;
	ret = p2pdma_topo_clone(topo, &hw);
	if (ret)
		goto fail;
	k->ndevs = hw->ndevs;
	k->devs = calloc(k->ndevs ? k->ndevs : 1, sizeof(*k->devs));
	if (!k->devs) {
		p2pdma_topo_destroy(hw);
		ret = -ENOMEM;
		goto fail;
	}
	for (n = 0; n < p2pdma_policy_num_notes(pol); n++) {
		enum p2pdma_note code;
		const char *text = p2pdma_policy_note(pol, n, &code);

		p2pdma_klog(k, P2PDMA_KLOG_NOTE, code, "%s", text);
	}
	note_unknown_acs(k, hw);
	k->whatif = p2pdma_policy_cmdline(pol) || p2pdma_policy_iommu_acs(pol);
	if (k->whatif) {
		ret = boot_whatif(k, hw);
		if (ret) {
			p2pdma_topo_destroy(hw);
			goto fail;
		}
	} else if (hw->machine.cmdline) {
		note_cmdline_shown(k, hw, hw->machine.cmdline);
	}
	/* Drivers as captured: their names prefix what the kernel prints. */
	for (i = 0; i < k->ndevs; i++) {
		if (hw->devs[i]->driver &&
		    !(k->devs[i].driver = p2pdma_strdup(hw->devs[i]->driver))) {
			p2pdma_topo_destroy(hw);
			ret = -ENOMEM;
			goto fail;
		}
	}
	ret = new_generation(k, hw);	/* seals hw */
	if (ret)
		goto fail;
	ret = p2pdma_p2pmem_adopt_captured(k);
	if (ret)
		goto fail;
	*out = k;
	return 0;

fail:
	p2pdma_kernel_shutdown(k);
	if (ret == -ENOMEM)
		return p2pdma_err(ctx, -ENOMEM, "kernel: out of memory");
	return ret;
}

P2PDMA_EXPORT void p2pdma_kernel_shutdown(struct p2pdma_kernel *k)
{
	struct p2pdma_provider *p, *pn;
	struct p2pdma_kgen *g, *gn;
	uint32_t i;
	size_t j;

	if (!k)
		return;
	p2pdma_dma_teardown(k);
	p2pdma_kp2pmem_destroy(k);
	if (k->devs) {
		for (i = 0; i < k->ndevs; i++) {
			free_p2pdma(k, k->devs[i].p2pdma);
			free(k->devs[i].driver);
		}
	}
	free(k->devs);
	for (p = k->providers; p; p = pn) {
		pn = p->next;
		free(p);
	}
	for (g = k->gen; g; g = gn) {
		gn = g->older;
		p2pdma_router_destroy(g->router);
		p2pdma_topo_destroy(g->topo);
		free(g);
	}
	for (j = 0; j < k->nlog; j++)
		free(k->log[j].text);
	free(k->log);
	free(k->boot_cmdline);
	p2pdma_policy_destroy(k->pol);
	free(k);
}

P2PDMA_EXPORT const struct p2pdma_topo *p2pdma_kernel_topo(const struct p2pdma_kernel *k)
{
	return k->gen->topo;
}

P2PDMA_EXPORT const struct p2pdma_router *
p2pdma_kernel_router(const struct p2pdma_kernel *k)
{
	return k->gen->router;
}

P2PDMA_EXPORT const struct p2pdma_policy *
p2pdma_kernel_policy(const struct p2pdma_kernel *k)
{
	return k->pol;
}

P2PDMA_EXPORT bool p2pdma_kernel_whatif(const struct p2pdma_kernel *k)
{
	return k->whatif;
}

P2PDMA_EXPORT const char *p2pdma_kernel_boot_cmdline(const struct p2pdma_kernel *k)
{
	return k->boot_cmdline;
}

/* --- run-time register writes --- */

P2PDMA_EXPORT int p2pdma_kernel_write_acs_ctrl(struct p2pdma_kernel *k,
					       const struct p2pdma_dev *dev,
					       uint16_t ctrl)
{
	const struct p2pdma_dev *d;
	struct p2pdma_topo *next;
	uint16_t implemented;
	int ret;

	ret = p2pdma_k_dev_of(k, dev, &d);
	if (ret)
		return ret;
	if (d->acs_state != P2PDMA_ACS_PRESENT)
		return p2pdma_err(k->ctx, -ENODEV,
				  "%s has %s ACS capability: its control register cannot be written",
				  d->name, d->acs_state == P2PDMA_ACS_UNKNOWN ?
				  "an unreadable (unknown)" : "no");
	ret = p2pdma_topo_clone(p2pdma_k_topo(k), &next);
	if (ret)
		return ret;
	/* Unimplemented control bits are hardwired to 0. */
	implemented = d->acs_cap & 0x7f;
	next->devs[d->index]->acs_ctrl = ctrl & implemented;
	p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_SETPCI,
		    "%s: ACS Control written 0x%04x -> 0x%04x at run time; map types already cached keep their old value",
		    d->name, d->acs_ctrl, ctrl & implemented);
	return new_generation(k, next);
}

/* --- drivers and pdev->p2pdma (doc/kernel-model.md §1.4) --- */

static void cache_free(struct p2pdma_map_cache *c)
{
	free(c->keys);
	free(c->types);
	memset(c, 0, sizeof(*c));
}

static void free_p2pdma(struct p2pdma_kernel *k, struct p2pdma_kp2pdma *p)
{
	int bar;

	if (!p)
		return;
	for (bar = 0; bar < P2PDMA_NUM_BARS; bar++)
		if (p->mem[bar])
			p->mem[bar]->live = false;	/* the handle stays, stale */
	cache_free(&p->cache);
	p2pdma_kpool_destroy(k, p->pool);
	free(p);
}

P2PDMA_EXPORT const char *p2pdma_kernel_driver(const struct p2pdma_kernel *k,
					       const struct p2pdma_dev *dev)
{
	const struct p2pdma_dev *d = p2pdma_k_dev(k, dev);

	return d ? k->devs[d->index].driver : NULL;
}

P2PDMA_EXPORT int p2pdma_kernel_bind(struct p2pdma_kernel *k,
				     const struct p2pdma_dev *dev,
				     const char *driver)
{
	const struct p2pdma_dev *d;
	int ret = p2pdma_k_dev_of(k, dev, &d);

	if (ret)
		return ret;
	if (!driver || !*driver)
		return p2pdma_err(k->ctx, -EINVAL, "bind %s: no driver name", d->name);
	if (k->devs[d->index].driver)
		return p2pdma_err(k->ctx, -EBUSY, "bind %s: driver %s is bound already",
				  d->name, k->devs[d->index].driver);
	k->devs[d->index].driver = p2pdma_strdup(driver);
	return k->devs[d->index].driver ? 0 : -ENOMEM;
}

P2PDMA_EXPORT int p2pdma_kernel_unbind(struct p2pdma_kernel *k,
				       const struct p2pdma_dev *dev)
{
	const struct p2pdma_dev *d;
	struct p2pdma_kdev *kd;
	int ret = p2pdma_k_dev_of(k, dev, &d);

	if (ret)
		return ret;
	kd = &k->devs[d->index];
	if (!kd->driver)
		return p2pdma_err(k->ctx, -ENODEV, "unbind %s: no driver bound", d->name);
	/* The VFIO registration holds unbind while dma-bufs live (-EBUSY). */
	ret = p2pdma_dma_unbind(k, d);
	if (ret)
		return ret;
	/* devm actions in reverse: the p2pmem ranges first (they may wait). */
	ret = p2pdma_p2pmem_unbind(k, d);
	if (ret)
		return ret;
	p2pdma_k_unbind_finish(k, d->index);
	return 0;
}

void p2pdma_k_unbind_finish(struct p2pdma_kernel *k, uint32_t dev)
{
	struct p2pdma_kdev *kd = &k->devs[dev];

	/* devm release: pci_p2pdma_release() drops state, cache and pool. */
	free_p2pdma(k, kd->p2pdma);
	kd->p2pdma = NULL;
	free(kd->driver);
	kd->driver = NULL;
}

int p2pdma_k_p2pdma_init(struct p2pdma_kernel *k, const struct p2pdma_dev *d)
{
	struct p2pdma_kdev *kd = &k->devs[d->index];
	struct p2pdma_kp2pdma *p;
	int bar;

	if (kd->p2pdma)
		return 0;	/* idempotent */
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (bar = 0; bar < P2PDMA_NUM_BARS; bar++) {
		const struct p2pdma_bar *b = &d->bars[bar];
		struct p2pdma_provider *pr;

		/* Only BARs with IORESOURCE_MEM get an owner (§1.4). */
		if (!(b->flags & P2PDMA_BAR_MEM) || !b->size)
			continue;
		pr = calloc(1, sizeof(*pr));
		if (!pr) {
			free_p2pdma(k, p);
			return -ENOMEM;
		}
		pr->k = k;
		pr->dev = d->index;
		pr->bar = bar;
		pr->bus_offset = b->bus - b->cpu;
		pr->live = true;
		pr->next = k->providers;
		k->providers = pr;
		p->mem[bar] = pr;
	}
	kd->p2pdma = p;
	return 0;
}

P2PDMA_EXPORT int p2pdma_kernel_p2pdma_init(struct p2pdma_kernel *k,
					    const struct p2pdma_dev *dev)
{
	const struct p2pdma_dev *d;
	int ret = p2pdma_k_dev_of(k, dev, &d);

	if (ret)
		return ret;
	if (!k->devs[d->index].driver)
		return p2pdma_err(k->ctx, -ENODEV,
				  "pcim_p2pdma_init(%s): no driver bound (the state is devm-managed)",
				  d->name);
	ret = p2pdma_k_p2pdma_init(k, d);
	return ret == -ENOMEM ? p2pdma_err(k->ctx, ret, "out of memory") : ret;
}

P2PDMA_EXPORT bool p2pdma_kernel_has_p2pdma(const struct p2pdma_kernel *k,
					    const struct p2pdma_dev *dev)
{
	const struct p2pdma_dev *d = p2pdma_k_dev(k, dev);

	return d && k->devs[d->index].p2pdma;
}

P2PDMA_EXPORT int p2pdma_kernel_provider(struct p2pdma_kernel *k,
					 const struct p2pdma_dev *dev, int bar,
					 struct p2pdma_provider **out)
{
	const struct p2pdma_dev *d;
	struct p2pdma_kp2pdma *p;
	int ret = p2pdma_k_dev_of(k, dev, &d);

	*out = NULL;
	if (ret)
		return ret;
	if (bar < 0 || bar >= P2PDMA_NUM_BARS)
		return p2pdma_err(k->ctx, -EINVAL, "%s: BAR %d does not exist", d->name, bar);
	p = k->devs[d->index].p2pdma;
	if (!p) {
		/* The kernel WARNs: a provider without pcim_p2pdma_init(). */
		p2pdma_klog_dev(k, d, "WARNING: pcim_p2pdma_provider() without pcim_p2pdma_init()");
		return p2pdma_err(k->ctx, -ENODEV,
				  "%s: no P2PDMA state (pcim_p2pdma_init() never ran)", d->name);
	}
	if (!p->mem[bar])
		return p2pdma_err(k->ctx, -EINVAL, "%s: BAR %d is not a memory BAR",
				  d->name, bar);
	*out = p->mem[bar];
	return 0;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_provider_owner(const struct p2pdma_provider *p)
{
	return p2pdma_k_topo(p->k)->devs[p->dev];
}

P2PDMA_EXPORT int p2pdma_provider_bar(const struct p2pdma_provider *p)
{
	return p->bar;
}

P2PDMA_EXPORT uint64_t p2pdma_provider_bus_offset(const struct p2pdma_provider *p)
{
	return p->bus_offset;
}

P2PDMA_EXPORT bool p2pdma_provider_live(const struct p2pdma_provider *p)
{
	return p->live;
}

/* --- the map-type cache (doc/kernel-model.md §2.5) --- */

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	return x ^ (x >> 16);
}

static uint8_t *cache_slot(const struct p2pdma_map_cache *c, uint32_t key)
{
	uint32_t i;

	if (!c->cap)
		return NULL;
	for (i = hash32(key) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
		if (c->keys[i] == key + 1)
			return &c->types[i];
		if (!c->keys[i])
			return NULL;
	}
}

static int cache_grow(struct p2pdma_map_cache *c)
{
	struct p2pdma_map_cache n;
	uint32_t i;

	n.cap = c->cap ? c->cap * 2 : 16;
	n.used = 0;
	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.types = calloc(n.cap, 1);
	if (!n.keys || !n.types) {
		free(n.keys);
		free(n.types);
		return -ENOMEM;
	}
	for (i = 0; i < c->cap; i++) {
		uint32_t j;

		if (!c->keys[i])
			continue;
		for (j = hash32(c->keys[i] - 1) & (n.cap - 1); n.keys[j];
		     j = (j + 1) & (n.cap - 1))
			;
		n.keys[j] = c->keys[i];
		n.types[j] = c->types[i];
		n.used++;
	}
	free(c->keys);
	free(c->types);
	*c = n;
	return 0;
}

/* xa_store(): overwrite or add; a failed store leaves nothing cached. */
static void cache_store(struct p2pdma_map_cache *c, uint32_t key, uint8_t type)
{
	uint8_t *slot = cache_slot(c, key);
	uint32_t i;

	if (slot) {
		*slot = type;
		return;
	}
	if ((c->used + 1) * 4 > c->cap * 3 && cache_grow(c))
		return;
	for (i = hash32(key) & (c->cap - 1); c->keys[i]; i = (i + 1) & (c->cap - 1))
		;
	c->keys[i] = key + 1;
	c->types[i] = type;
	c->used++;
}

/* Every calculation whose provider has p2pdma stores its result. */
static void remember(struct p2pdma_kernel *k, const struct p2pdma_dev *provider,
		     const struct p2pdma_dev *client, enum p2pdma_map_type t)
{
	struct p2pdma_kp2pdma *p = k->devs[provider->index].p2pdma;

	if (!p || !p2pdma_policy_profile(k->pol)->map_cache)
		return;
	cache_store(&p->cache, p2pdma_cache_key(client), (uint8_t)t);
}

P2PDMA_EXPORT enum p2pdma_map_type
p2pdma_kernel_cache_lookup(const struct p2pdma_kernel *k,
			   const struct p2pdma_dev *provider,
			   const struct p2pdma_dev *client)
{
	const struct p2pdma_dev *p = p2pdma_k_dev(k, provider);
	const struct p2pdma_dev *c = p2pdma_k_dev(k, client);
	const uint8_t *slot;

	if (!p || !c || !k->devs[p->index].p2pdma)
		return P2PDMA_MAP_UNKNOWN;
	slot = cache_slot(&k->devs[p->index].p2pdma->cache, p2pdma_cache_key(c));
	return slot ? (enum p2pdma_map_type)*slot : P2PDMA_MAP_UNKNOWN;
}

/* calc_map_type_and_dist() as the running kernel runs it: log and cache. */
static enum p2pdma_map_type kcalc(struct p2pdma_kernel *k,
				  const struct p2pdma_dev *provider,
				  const struct p2pdma_dev *client, bool verbose,
				  struct p2pdma_verdict *v)
{
	enum p2pdma_map_type t;

	t = p2pdma_router_calc(k->gen->router, provider, client, verbose, v);
	log_verdict(k, v);
	remember(k, provider, client, t);
	return t;
}

P2PDMA_EXPORT enum p2pdma_map_type
p2pdma_kernel_map_type(struct p2pdma_kernel *k,
		       const struct p2pdma_provider *provider,
		       const struct p2pdma_dev *client,
		       struct p2pdma_verdict *v)
{
	struct p2pdma_verdict local;
	const struct p2pdma_dev *owner, *c;
	enum p2pdma_map_type t;

	if (!v)
		v = &local;
	if (!provider || provider->k != k || !provider->live) {
		p2pdma_verdict_reset(v, NULL, NULL);
		v->map_type = P2PDMA_MAP_NOT_SUPPORTED;
		p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
			    "pci_p2pdma_map_type() called with a %s provider: refused",
			    provider && provider->k == k ? "stale (its function was unbound)" :
			    "foreign");
		return v->map_type;
	}
	owner = p2pdma_k_topo(k)->devs[provider->dev];
	c = client ? p2pdma_k_dev(k, client) : NULL;
	p2pdma_verdict_reset(v, owner, c);
	if (!c) {
		/* dev_is_pci() fails: no walk to a PCI parent (§B7). */
		v->map_type = P2PDMA_MAP_NOT_SUPPORTED;
		return v->map_type;
	}
	t = p2pdma_kernel_cache_lookup(k, owner, c);
	if (t == P2PDMA_MAP_UNKNOWN &&
	    !p2pdma_policy_profile(k->pol)->map_cache_fill_on_miss) {
		/* Older kernels only read the cache: a miss stays UNKNOWN. */
		v->map_type = t;
		return t;
	}
	if (t != P2PDMA_MAP_UNKNOWN) {
		/* Cached: no calculation, hence no warnings (§2.5). */
		v->map_type = t;
		v->cached = true;
		p2pdma_router_map_type(k->gen->router, owner, c, &v->distance);
		return t;
	}
	return kcalc(k, owner, c, true, v);
}

/* --- pci_p2pdma_distance_many() (doc/kernel-model.md §2.3) --- */

P2PDMA_EXPORT int p2pdma_kernel_distance_many(struct p2pdma_kernel *k,
					      const struct p2pdma_dev *provider,
					      const struct p2pdma_dev *const *clients,
					      size_t n, bool verbose,
					      struct p2pdma_verdict *const *verdicts,
					      int *distance)
{
	struct p2pdma_verdict *local = NULL;
	const struct p2pdma_dev *p;
	bool not_supported = false;
	int total = 0, ret;
	size_t i;

	ret = p2pdma_k_dev_of(k, provider, &p);
	if (ret)
		return ret;
	if (verdicts)
		for (i = 0; i < n; i++)
			p2pdma_verdict_reset(verdicts[i], p, NULL);
	if (n == 0)
		return -EINVAL;
	if (!verdicts && !(local = malloc(sizeof(*local))))
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		struct p2pdma_verdict *v = verdicts ? verdicts[i] : local;
		const struct p2pdma_dev *c = clients[i] ? p2pdma_k_dev(k, clients[i]) : NULL;

		if (!c) {
			/* find_parent_pci_dev() found nothing: "is not a PCI
			 * device", and the whole query fails at once. */
			v->map_type = P2PDMA_MAP_NOT_SUPPORTED;
			free(local);
			return -ENODEV;
		}
		if (kcalc(k, p, c, verbose, v) == P2PDMA_MAP_NOT_SUPPORTED) {
			not_supported = true;
			if (!verbose)
				break;
		}
		total += v->distance;
	}
	free(local);
	if (not_supported)
		return -EREMOTEIO;
	if (distance)
		*distance = total;
	return 0;
}

/* --- p2pmem pools, publish and find_many (doc/kernel-model.md §1.5) --- */

P2PDMA_EXPORT void p2pdma_kernel_publish(struct p2pdma_kernel *k,
					 const struct p2pdma_dev *dev,
					 bool publish)
{
	const struct p2pdma_dev *d = p2pdma_k_dev(k, dev);

	/* pci_p2pmem_publish(): only where pdev->p2pdma exists. */
	if (d && k->devs[d->index].p2pdma)
		k->devs[d->index].p2pdma->published = publish;
}

P2PDMA_EXPORT bool p2pdma_kernel_has_p2pmem(const struct p2pdma_kernel *k,
					    const struct p2pdma_dev *dev)
{
	const struct p2pdma_dev *d = p2pdma_k_dev(k, dev);

	return d && k->devs[d->index].p2pdma && k->devs[d->index].p2pdma->published;
}

struct p2pdma_find_result {
	const struct p2pdma_dev *pick;
	int distance;
	size_t ncandidates;
	const struct p2pdma_dev *candidates[P2PDMA_FIND_MAX];
	size_t draw;
};

P2PDMA_EXPORT int p2pdma_find_result_create(struct p2pdma_find_result **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->distance = -1;
	return 0;
}

P2PDMA_EXPORT void p2pdma_find_result_destroy(struct p2pdma_find_result *res)
{
	free(res);
}

P2PDMA_EXPORT void p2pdma_kernel_set_seed(struct p2pdma_kernel *k, uint64_t seed)
{
	k->rng = seed;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * get_random_u32_below(n): splitmix64 reduced to [0, n) by Lemire's
 * multiply-shift with rejection, so the draw is unbiased.
 */
static uint32_t random_below(uint64_t *state, uint32_t n)
{
	uint64_t m;
	uint32_t l, t;

	if (n <= 1)
		return 0;
	m = (splitmix64(state) >> 32) * (uint64_t)n;
	l = (uint32_t)m;
	if (l < n) {
		t = (uint32_t)(-n) % n;
		while (l < t) {
			m = (splitmix64(state) >> 32) * (uint64_t)n;
			l = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

P2PDMA_EXPORT int p2pdma_kernel_find_many(struct p2pdma_kernel *k,
					  const struct p2pdma_dev *const *clients,
					  size_t n, struct p2pdma_find_result *res,
					  const struct p2pdma_dev **pick)
{
	struct p2pdma_find_result *r = res;
	const struct p2pdma_topo *t = p2pdma_k_topo(k);
	int closest = 0x7fffffff;
	uint32_t i;

	*pick = NULL;
	if (!r && p2pdma_find_result_create(&r))
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	memset(r, 0, sizeof(*r));
	r->distance = -1;
	for (i = 0; i < t->ndevs; i++) {
		const struct p2pdma_dev *dev = t->devs[i];
		int d;

		if (!p2pdma_kernel_has_p2pmem(k, dev))
			continue;
		if (p2pdma_kernel_distance_many(k, dev, clients, n, false, NULL, &d))
			continue;
		if (d > closest)
			continue;
		if (d == closest && r->ncandidates >= P2PDMA_FIND_MAX)
			continue;
		if (d < closest) {
			r->ncandidates = 0;
			closest = d;
		}
		r->candidates[r->ncandidates++] = dev;
	}
	if (r->ncandidates) {
		/* Uniform over the tie set, never "the first" (§1.5). */
		r->draw = random_below(&k->rng, (uint32_t)r->ncandidates);
		r->pick = r->candidates[r->draw];
		r->distance = closest;
		*pick = r->pick;
	}
	if (r != res)
		p2pdma_find_result_destroy(r);
	return *pick ? 0 : -ENODEV;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_find_result_pick(const struct p2pdma_find_result *res)
{
	return res->pick;
}

P2PDMA_EXPORT int p2pdma_find_result_distance(const struct p2pdma_find_result *res)
{
	return res->distance;
}

P2PDMA_EXPORT size_t
p2pdma_find_result_num_candidates(const struct p2pdma_find_result *res)
{
	return res->ncandidates;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_find_result_candidate(const struct p2pdma_find_result *res, size_t i)
{
	return i < res->ncandidates ? res->candidates[i] : NULL;
}

P2PDMA_EXPORT size_t p2pdma_find_result_draw(const struct p2pdma_find_result *res)
{
	return res->draw;
}
