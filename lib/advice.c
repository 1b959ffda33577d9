// SPDX-License-Identifier: LGPL-2.1-or-later
/* advice.c - the change that makes a pair or a machine do P2P directly, verified by booting it */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pdma/advice.h"
#include "p2pdma/iommu.h"
#include "kernel-private.h"

#define MAX_VARIANTS 2
#define MAX_WARNINGS 8
#define MAX_REQS 6

struct variant {
	enum p2pdma_advice_form form;
	char *param;			/* the ACS parameters, merged */
	bool ran;
	bool works;
	enum p2pdma_map_type outcome;
	int distance;
	char log[1024];
	size_t lost;
	size_t gained;
	struct p2pdma_topo *after;	/* the machine booted with it */
};

struct group_merge {
	const struct p2pdma_dev *first;
	size_t ngroups;
	size_t nfuncs;
};

struct requirement {
	enum p2pdma_requirement kind;
	const struct p2pdma_dev *hostdev;
	bool met;
};

struct p2pdma_advice {
	struct p2pdma_kernel *k;
	enum p2pdma_advice_status status;
	struct p2pdma_verdict v;	/* pair advice: the verdict today */
	bool pair;
	/* the functions whose ACS redirect goes (or, unknown ACS: to check) */
	const struct p2pdma_dev **clear;
	size_t nclear;
	/* the targets: pair advice one, machine advice every ACS-blocked pair */
	const struct p2pdma_dev **tp, **tc;
	size_t ntargets;
	struct variant var[MAX_VARIANTS];
	size_t nvar;
	size_t recommended;		/* index into var, valid with status FIX */
	char *unknown_param;		/* DEPENDS_ON_UNKNOWN_ACS */
	char newer[16];
	enum p2pdma_map_type newer_outcome;
	char *warnings[MAX_WARNINGS];
	size_t nwarn;
	struct group_merge *merges;
	size_t nmerges;
	struct requirement req[MAX_REQS];
	size_t nreq;
};

static void warn(struct p2pdma_advice *a, const char *fmt, ...) P2PDMA_PRINTF(2, 3);

static void warn(struct p2pdma_advice *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (a->nwarn == MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		a->warnings[a->nwarn++] = s;
	va_end(ap);
}

/* --- the command line the machine boots with today --- */

/*
 * What produced today's registers: the what-if line of a what-if boot
 * (or the machine's own line it re-applied), else the machine's own.
 */
static const char *base_cmdline(const struct p2pdma_kernel *k)
{
	if (k->whatif && p2pdma_policy_cmdline(k->pol))
		return p2pdma_policy_cmdline(k->pol);
	return p2pdma_k_topo(k)->machine.cmdline;
}

/* The last disable_acs_redir= and config_acs= values of @cmdline, copied. */
static int acs_values(const char *cmdline, char **redir, char **config)
{
	const char *r = NULL, *c = NULL;
	size_t n = cmdline ? strlen(cmdline) + 1 : 1;
	char *buf = malloc(n);

	*redir = *config = NULL;
	if (!buf)
		return -ENOMEM;
	if (cmdline && p2pdma_cmdline_pci_params(cmdline, buf, n, &r, &c))
		r = c = NULL;
	if ((r && !(*redir = p2pdma_strdup(r))) || (c && !(*config = p2pdma_strdup(c)))) {
		free(buf);
		return -ENOMEM;
	}
	free(buf);
	return 0;
}

/* Does the ';' list @list (of pci_dev_str_match() specs) select @d? */
static bool list_selects(const char *list, const struct p2pdma_dev *d, bool config)
{
	const char *p = list;

	while (p && *p) {
		const char *spec = p, *end, *next = strchr(p, ';');

		if (config) {
			const char *at = strchr(p, '@');

			if (!at || (next && at > next))
				goto advance;
			spec = at + 1;
		}
		if (p2pdma_dev_str_match(d, spec, &end) == 1)
			return true;
advance:
		p = next ? next + 1 : NULL;
	}
	return false;
}

/*
 * The two forms, each merged with the machine's ACS parameters:
 *  - disable_acs_redir: the machine's list plus the new functions (only
 *    the last pci=disable_acs_redir= counts, so adding a line would drop
 *    the old list);
 *  - config_acs: "x0x00xx@BDF" (RR, CR, EC off, the rest as firmware set
 *    it) for each new function, FIRST, since the first matching entry wins.
 * The other parameter of the machine is kept as it was.
 */
static int build_variants(struct p2pdma_advice *a)
{
	const char *base = base_cmdline(a->k);
	char *redir = NULL, *config = NULL, *s = NULL;
	size_t i, f;
	int ret;

	ret = acs_values(base, &redir, &config);
	if (ret)
		return ret;
	for (f = 0; f < MAX_VARIANTS; f++) {
		FILE *m;
		size_t len;
		bool first = true;

		m = open_memstream(&s, &len);
		if (!m) {
			ret = -ENOMEM;
			goto out;
		}
		if (f == P2PDMA_FORM_DISABLE_ACS_REDIR) {
			fprintf(m, "pci=disable_acs_redir=%s", redir ? redir : "");
			first = !redir || !*redir;
			for (i = 0; i < a->nclear; i++) {
				if (redir && list_selects(redir, a->clear[i], false))
					continue;
				fprintf(m, "%s%s", first ? "" : ";", a->clear[i]->name);
				first = false;
			}
			if (config)
				fprintf(m, " pci=config_acs=%s", config);
		} else {
			if (redir)
				fprintf(m, "pci=disable_acs_redir=%s ", redir);
			fprintf(m, "pci=config_acs=");
			for (i = 0; i < a->nclear; i++)
				fprintf(m, "%sx0x00xx@%s", i ? ";" : "", a->clear[i]->name);
			if (config && *config)
				fprintf(m, ";%s", config);
		}
		if (fclose(m)) {
			free(s);
			ret = -ENOMEM;
			goto out;
		}
		a->var[a->nvar].form = (enum p2pdma_advice_form)f;
		a->var[a->nvar++].param = s;
		s = NULL;
	}
	/* Say what the advised parameters replace. */
	if (redir)
		warn(a, "replaces the machine's pci=disable_acs_redir=%s: only the last one counts, so its entries are kept in the new list",
		     redir);
	if (config)
		warn(a, "keeps the machine's pci=config_acs=%s: it is applied after disable_acs_redir, and a function it selects ends with its setting",
		     config);
out:
	free(redir);
	free(config);
	return ret;
}

/* --- verification: boot the machine with a variant --- */

static int boot_with(struct p2pdma_kernel *k, const char *param,
		     const char *kernel, struct p2pdma_kernel **out)
{
	char *rest = p2pdma_cmdline_without_acs(base_cmdline(k)), *full = NULL;
	struct p2pdma_policy *pol = NULL;
	int ret = -ENOMEM;

	*out = NULL;
	if (!rest || asprintf(&full, "%s%s%s", rest, *rest ? " " : "", param) < 0)
		goto out;
	ret = p2pdma_policy_clone(k->pol, &pol);
	if (!ret && kernel)
		ret = p2pdma_policy_set_kernel(pol, kernel);
	if (!ret)
		ret = p2pdma_policy_set_cmdline(pol, full);
	if (!ret)
		ret = p2pdma_kernel_boot(k->ctx, p2pdma_k_topo(k), pol, out);
out:
	p2pdma_policy_destroy(pol);
	free(rest);
	free(full);
	return ret;
}

/* The kernel lines of a boot, "; "-joined: why a variant fails. */
static void boot_lines(const struct p2pdma_kernel *b, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < p2pdma_kernel_log_count(b) && off < len; i++) {
		enum p2pdma_klog_kind kind;
		const char *t = p2pdma_kernel_log_entry(b, i, &kind, NULL);

		if (kind == P2PDMA_KLOG_KERNEL)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "; " : "", t);
	}
}

/* Endpoints only: bridges are not P2P endpoints. */
static bool endpoint(const struct p2pdma_dev *d)
{
	return !p2pdma_dev_is_bridge(d);
}

static void verify(struct p2pdma_advice *a, struct variant *var)
{
	const struct p2pdma_topo *t = p2pdma_k_topo(a->k);
	const struct p2pdma_router *now = a->k->gen->router, *then;
	struct p2pdma_kernel *b = NULL;
	size_t i, j, reached = 0;

	if (boot_with(a->k, var->param, NULL, &b))
		return;
	then = b->gen->router;
	var->ran = true;
	boot_lines(b, var->log, sizeof(var->log));
	/* No pair that is BUS_ADDR today may be lost. */
	for (i = 0; i < t->ndevs; i++) {
		if (!endpoint(t->devs[i]))
			continue;
		for (j = 0; j < t->ndevs; j++) {
			if (!endpoint(t->devs[j]) ||
			    p2pdma_router_map_type(now, t->devs[i], t->devs[j], NULL) !=
			    P2PDMA_MAP_BUS_ADDR)
				continue;
			var->lost += p2pdma_router_map_type(then, t->devs[i], t->devs[j], NULL) !=
				     P2PDMA_MAP_BUS_ADDR;
		}
	}
	for (i = 0; i < a->ntargets; i++) {
		int d;
		enum p2pdma_map_type m = p2pdma_router_map_type(then, a->tp[i], a->tc[i], &d);

		reached += m == P2PDMA_MAP_BUS_ADDR;
		if (a->pair) {
			var->outcome = m;
			var->distance = d;
		}
	}
	var->gained = reached;
	if (!a->pair)
		var->outcome = reached == a->ntargets ? P2PDMA_MAP_BUS_ADDR :
			       P2PDMA_MAP_THRU_HOST_BRIDGE;
	var->works = reached == a->ntargets && !var->lost;
	/* Keep the booted hardware for the isolation cost. */
	if (p2pdma_topo_clone(p2pdma_k_topo(b), &var->after))
		var->after = NULL;
	p2pdma_kernel_shutdown(b);
}

/* IOMMU groups today vs after the recommended boot. */
static int group_cost(struct p2pdma_advice *a, const struct p2pdma_topo *after)
{
	const struct p2pdma_topo *t = p2pdma_k_topo(a->k);
	struct p2pdma_iommu_groups *g0 = NULL, *g1 = NULL;
	size_t n1, g, i, j;
	int ret;

	ret = p2pdma_iommu_groups_compute(a->k->ctx, t, &g0);
	if (!ret)
		ret = p2pdma_iommu_groups_compute(a->k->ctx, after, &g1);
	if (ret)
		goto out;
	n1 = p2pdma_iommu_groups_count(g1);
	a->merges = calloc(n1 + 1, sizeof(*a->merges));
	if (!a->merges) {
		ret = -ENOMEM;
		goto out;
	}
	for (g = 0; g < n1; g++) {
		struct group_merge m = { NULL, 0, 0 };

		for (i = 0; i < t->ndevs; i++) {
			bool seen = false;

			if (p2pdma_iommu_group_of(g1, t->devs[i]) != (int)g)
				continue;
			if (!m.first)
				m.first = t->devs[i];
			m.nfuncs++;
			/* Count today's distinct groups among the members. */
			for (j = 0; j < i && !seen; j++)
				seen = p2pdma_iommu_group_of(g1, t->devs[j]) == (int)g &&
				       p2pdma_iommu_group_of(g0, t->devs[j]) ==
				       p2pdma_iommu_group_of(g0, t->devs[i]);
			m.ngroups += !seen;
		}
		if (m.ngroups > 1)
			a->merges[a->nmerges++] = m;
	}
out:
	p2pdma_iommu_groups_destroy(g0);
	p2pdma_iommu_groups_destroy(g1);
	return ret;
}

/* Verify every variant; recommend the first that works. */
static int decide(struct p2pdma_advice *a)
{
	size_t i;
	int ret;

	ret = build_variants(a);
	if (ret)
		return ret;
	a->status = P2PDMA_ADVICE_FIX_UNVERIFIED;
	for (i = 0; i < a->nvar; i++) {
		verify(a, &a->var[i]);
		if (a->var[i].works && a->status != P2PDMA_ADVICE_FIX) {
			a->status = P2PDMA_ADVICE_FIX;
			a->recommended = i;
		}
	}
	if (a->status == P2PDMA_ADVICE_FIX) {
		if (a->var[a->recommended].after)
			return group_cost(a, a->var[a->recommended].after);
		return 0;
	}
	/* 6.11 - 6.14 mishandle the ACS masks (§2.7): where would it work? */
	{
		struct p2pdma_kernel *b = NULL;
		const char *kv = "6.15";

		if (!boot_with(a->k, a->var[0].param, kv, &b)) {
			snprintf(a->newer, sizeof(a->newer), "%s", kv);
			a->newer_outcome = a->pair ?
				p2pdma_router_map_type(b->gen->router, a->tp[0], a->tc[0], NULL) :
				P2PDMA_MAP_UNKNOWN;
			p2pdma_kernel_shutdown(b);
		}
	}
	return 0;
}

/* --- what could admit a pair at the host bridge --- */

static void add_req(struct p2pdma_advice *a, enum p2pdma_requirement kind,
		    const struct p2pdma_dev *hostdev, bool met)
{
	size_t i;

	/* One line per condition: two host bridges of one model are one row. */
	for (i = 0; i < a->nreq; i++)
		if (a->req[i].kind == kind &&
		    (!hostdev || !a->req[i].hostdev ||
		     (a->req[i].hostdev->vendor == hostdev->vendor &&
		      a->req[i].hostdev->device == hostdev->device)) &&
		    (hostdev != NULL) == (a->req[i].hostdev != NULL))
			return;
	if (a->nreq < MAX_REQS) {
		a->req[a->nreq].kind = kind;
		a->req[a->nreq].hostdev = hostdev;
		a->req[a->nreq++].met = met;
	}
}

static void requirements(struct p2pdma_advice *a)
{
	const struct p2pdma_verdict *v = &a->v;
	const struct p2pdma_policy *pol = a->k->pol;
	unsigned int side;

	if (p2pdma_policy_cpu_rule_possible(pol))
		add_req(a, P2PDMA_REQ_CPU_RULE, NULL, v->cpu_rule);
	for (side = 0; side < (v->same_host_bridge ? 1u : 2u); side++) {
		const struct p2pdma_dev *h = v->hostdev[side];
		const struct p2pdma_allow_entry *e;

		if (!h) {
			add_req(a, P2PDMA_REQ_NO_HOSTDEV, NULL, false);
			continue;
		}
		e = p2pdma_policy_allow_lookup(pol, h->vendor, h->device);
		add_req(a, P2PDMA_REQ_ALLOW_LIST, h,
			e && (v->same_host_bridge || !(e->flags & P2PDMA_REQ_SAME_HOST_BRIDGE)));
	}
	add_req(a, P2PDMA_REQ_COMMON_SWITCH, NULL, false);
}

/* --- entry points --- */

static struct p2pdma_advice *advice_new(struct p2pdma_kernel *k, size_t ndevs)
{
	struct p2pdma_advice *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->k = k;
	a->clear = calloc(ndevs + 1, sizeof(*a->clear));
	if (!a->clear) {
		free(a);
		return NULL;
	}
	return a;
}

static void add_clear(struct p2pdma_advice *a, const struct p2pdma_dev *d)
{
	size_t i;

	for (i = 0; i < a->nclear; i++)
		if (a->clear[i] == d)
			return;
	a->clear[a->nclear++] = d;
}

static int cmp_dev(const void *x, const void *y)
{
	const struct p2pdma_dev *a = *(const struct p2pdma_dev *const *)x;
	const struct p2pdma_dev *b = *(const struct p2pdma_dev *const *)y;

	return a->index < b->index ? -1 : a->index > b->index;
}

P2PDMA_EXPORT int p2pdma_advise_pair(struct p2pdma_kernel *k,
				     const struct p2pdma_dev *provider,
				     const struct p2pdma_dev *client,
				     struct p2pdma_advice **out)
{
	const struct p2pdma_dev *p = p2pdma_k_dev(k, provider);
	const struct p2pdma_dev *c = p2pdma_k_dev(k, client);
	struct p2pdma_advice *a;
	unsigned int i;
	int ret = 0;

	*out = NULL;
	if (!p || !c)
		return p2pdma_err(k->ctx, -EINVAL, "advice: not functions of the kernel's machine");
	a = advice_new(k, p2pdma_k_topo(k)->ndevs);
	if (!a)
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	a->pair = true;
	a->tp = malloc(sizeof(*a->tp));
	a->tc = malloc(sizeof(*a->tc));
	if (!a->tp || !a->tc) {
		ret = -ENOMEM;
		goto out;
	}
	a->tp[0] = p;
	a->tc[0] = c;
	a->ntargets = 1;
	p2pdma_router_calc(k->gen->router, p, c, true, &a->v);
	if (a->v.map_type == P2PDMA_MAP_BUS_ADDR &&
	    a->v.if_acs_outcome != P2PDMA_UNKNOWN_ACS_NO_EFFECT) {
		/* BUS_ADDR only if the unreadable ports do not redirect. */
		a->status = P2PDMA_ADVICE_DEPENDS_ON_UNKNOWN_ACS;
		for (i = 0; i < a->v.nunknown; i++)
			add_clear(a, a->v.unknown[i]);
		ret = build_variants(a);
	} else if (a->v.map_type == P2PDMA_MAP_BUS_ADDR) {
		a->status = P2PDMA_ADVICE_ALREADY_BUS_ADDR;
	} else if (!a->v.common) {
		a->status = a->v.map_type == P2PDMA_MAP_THRU_HOST_BRIDGE ?
			    P2PDMA_ADVICE_ALLOWED_NO_SWITCH : P2PDMA_ADVICE_NO_CMDLINE_FIX;
		requirements(a);
	} else {
		for (i = 0; i < a->v.nacs; i++)
			add_clear(a, a->v.acs[i]);
		ret = decide(a);
	}
out:
	if (ret) {
		p2pdma_advice_destroy(a);
		return p2pdma_err(k->ctx, ret, "advice: %s", ret == -ENOMEM ?
				  "out of memory" : p2pdma_ctx_error(k->ctx));
	}
	*out = a;
	return 0;
}

P2PDMA_EXPORT int p2pdma_advise_machine(struct p2pdma_kernel *k,
					const struct p2pdma_dev *const *devs,
					size_t n, struct p2pdma_advice **out)
{
	const struct p2pdma_router *r = k->gen->router;
	struct p2pdma_advice *a;
	struct p2pdma_verdict *v = malloc(sizeof(*v));
	size_t i, j, u;
	int ret = 0;

	*out = NULL;
	a = advice_new(k, p2pdma_k_topo(k)->ndevs);
	if (!a || !v) {
		free(v);
		p2pdma_advice_destroy(a);
		return p2pdma_err(k->ctx, -ENOMEM, "out of memory");
	}
	a->tp = calloc(n * n + 1, sizeof(*a->tp));
	a->tc = calloc(n * n + 1, sizeof(*a->tc));
	if (!a->tp || !a->tc) {
		ret = -ENOMEM;
		goto out;
	}
	/* Every pair that ACS redirect keeps from BUS_ADDR (the walk finds
	 * the same redirecting nodes both ways, so unordered pairs suffice). */
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			const struct p2pdma_dev *p = p2pdma_k_dev(k, devs[i]);
			const struct p2pdma_dev *c = p2pdma_k_dev(k, devs[j]);

			if (!p || !c)
				continue;
			p2pdma_router_calc(r, p, c, false, v);
			if (v->map_type == P2PDMA_MAP_BUS_ADDR || !v->common || !v->nacs)
				continue;
			a->tp[a->ntargets] = p;
			a->tc[a->ntargets++] = c;
			for (u = 0; u < v->nacs; u++)
				add_clear(a, v->acs[u]);
		}
	}
	if (!a->ntargets) {
		a->status = P2PDMA_ADVICE_NOTHING_TO_DO;
		goto out;
	}
	qsort(a->clear, a->nclear, sizeof(*a->clear), cmp_dev);
	ret = decide(a);
out:
	free(v);
	if (ret) {
		p2pdma_advice_destroy(a);
		return p2pdma_err(k->ctx, ret, "advice: %s", ret == -ENOMEM ?
				  "out of memory" : p2pdma_ctx_error(k->ctx));
	}
	*out = a;
	return 0;
}

P2PDMA_EXPORT void p2pdma_advice_destroy(struct p2pdma_advice *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nvar; i++) {
		free(a->var[i].param);
		p2pdma_topo_destroy(a->var[i].after);
	}
	for (i = 0; i < a->nwarn; i++)
		free(a->warnings[i]);
	free(a->merges);
	free(a->clear);
	free(a->tp);
	free(a->tc);
	free(a->unknown_param);
	free(a);
}

/* --- accessors --- */

P2PDMA_EXPORT enum p2pdma_advice_status
p2pdma_advice_status(const struct p2pdma_advice *a)
{
	return a->status;
}

P2PDMA_EXPORT const struct p2pdma_verdict *
p2pdma_advice_verdict(const struct p2pdma_advice *a)
{
	return a->pair ? &a->v : NULL;
}

P2PDMA_EXPORT const char *p2pdma_advice_kernel_cmdline(const struct p2pdma_advice *a)
{
	switch (a->status) {
	case P2PDMA_ADVICE_FIX:
		return a->var[a->recommended].param;
	case P2PDMA_ADVICE_DEPENDS_ON_UNKNOWN_ACS:
		/* What to boot with if the unknown ports turn out to redirect. */
		return a->nvar ? a->var[0].param : NULL;
	default:
		return NULL;
	}
}

P2PDMA_EXPORT bool p2pdma_advice_recommended(const struct p2pdma_advice *a,
					     size_t *index)
{
	if (a->status != P2PDMA_ADVICE_FIX)
		return false;
	*index = a->recommended;
	return true;
}

P2PDMA_EXPORT size_t p2pdma_advice_num_clear(const struct p2pdma_advice *a)
{
	return a->nclear;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_advice_clear(const struct p2pdma_advice *a, size_t i, uint16_t *ctrl)
{
	if (i >= a->nclear)
		return NULL;
	if (ctrl)
		*ctrl = a->clear[i]->acs_ctrl;
	return a->clear[i];
}

P2PDMA_EXPORT size_t p2pdma_advice_num_variants(const struct p2pdma_advice *a)
{
	return a->status == P2PDMA_ADVICE_DEPENDS_ON_UNKNOWN_ACS ? 0 : a->nvar;
}

P2PDMA_EXPORT const char *p2pdma_advice_variant(const struct p2pdma_advice *a,
						size_t i,
						enum p2pdma_advice_form *form)
{
	if (i >= p2pdma_advice_num_variants(a))
		return NULL;
	if (form)
		*form = a->var[i].form;
	return a->var[i].param;
}

P2PDMA_EXPORT bool p2pdma_advice_variant_works(const struct p2pdma_advice *a,
					       size_t i)
{
	return i < a->nvar && a->var[i].works;
}

P2PDMA_EXPORT enum p2pdma_map_type
p2pdma_advice_variant_outcome(const struct p2pdma_advice *a, size_t i,
			      int *distance)
{
	if (i >= a->nvar || !a->var[i].ran)
		return P2PDMA_MAP_UNKNOWN;
	if (distance)
		*distance = a->var[i].distance;
	return a->var[i].outcome;
}

P2PDMA_EXPORT const char *p2pdma_advice_variant_log(const struct p2pdma_advice *a,
						    size_t i)
{
	return i < a->nvar ? a->var[i].log : NULL;
}

P2PDMA_EXPORT size_t p2pdma_advice_variant_lost(const struct p2pdma_advice *a,
						size_t i)
{
	return i < a->nvar ? a->var[i].lost : 0;
}

P2PDMA_EXPORT size_t p2pdma_advice_variant_gained(const struct p2pdma_advice *a,
						  size_t i)
{
	return i < a->nvar ? a->var[i].gained : 0;
}

P2PDMA_EXPORT const char *p2pdma_advice_newer_kernel(const struct p2pdma_advice *a,
						     enum p2pdma_map_type *outcome)
{
	if (!a->newer[0])
		return NULL;
	if (outcome)
		*outcome = a->newer_outcome;
	return a->newer;
}

P2PDMA_EXPORT size_t p2pdma_advice_num_warnings(const struct p2pdma_advice *a)
{
	return a->status == P2PDMA_ADVICE_FIX ||
	       a->status == P2PDMA_ADVICE_FIX_UNVERIFIED ||
	       a->status == P2PDMA_ADVICE_DEPENDS_ON_UNKNOWN_ACS ? a->nwarn : 0;
}

P2PDMA_EXPORT const char *p2pdma_advice_warning(const struct p2pdma_advice *a,
						size_t i)
{
	return i < p2pdma_advice_num_warnings(a) ? a->warnings[i] : NULL;
}

P2PDMA_EXPORT size_t p2pdma_advice_num_group_merges(const struct p2pdma_advice *a)
{
	return a->nmerges;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_advice_group_merge(const struct p2pdma_advice *a, size_t i,
			  size_t *ngroups, size_t *nfuncs)
{
	if (i >= a->nmerges)
		return NULL;
	*ngroups = a->merges[i].ngroups;
	*nfuncs = a->merges[i].nfuncs;
	return a->merges[i].first;
}

P2PDMA_EXPORT size_t p2pdma_advice_num_requirements(const struct p2pdma_advice *a)
{
	return a->nreq;
}

P2PDMA_EXPORT enum p2pdma_requirement
p2pdma_advice_requirement(const struct p2pdma_advice *a, size_t i,
			  const struct p2pdma_dev **hostdev, bool *met)
{
	if (i >= a->nreq)
		return P2PDMA_REQ_COMMON_SWITCH;
	if (hostdev)
		*hostdev = a->req[i].hostdev;
	if (met)
		*met = a->req[i].met;
	return a->req[i].kind;
}

P2PDMA_EXPORT size_t p2pdma_advice_num_pairs(const struct p2pdma_advice *a)
{
	return a->pair ? 0 : a->ntargets;
}

/* --- why host bridges differ (doc/kernel-model.md §1.1) --- */

P2PDMA_EXPORT const char *p2pdma_host_bridge_status(const struct p2pdma_dev *hostdev)
{
	if (!hostdev)
		return NULL;
	switch (hostdev->vendor) {
	case 0x1022:
		return "AMD root complexes forward peer-to-peer requests between root ports, so on AMD Zen CPUs (family 0x17 or later) the kernel admits every host-bridge path without the allow list (cpu_supports_p2pdma(), dea286bb71ba, 5.9).";
	case 0x8086:
		return "Intel root complexes forward peer-to-peer requests between root ports on some generations only, so the kernel admits Intel host bridges one device ID at a time (Xeon E5 v1-v3 only below one host bridge; Skylake-SP and 3rd Gen Xeon Scalable across host bridges).";
	case 0x1ae0:
		return "Google SoCs are on the allow list for any device ID from 7.1 (70cf146a674c).";
	case 0x1def:	/* Ampere */
	case 0x19e5:	/* Huawei */
	case 0x177d:	/* Cavium / Marvell */
	case 0x17cb:	/* Qualcomm */
	case 0x10de:	/* NVIDIA (Grace root ports) */
	case 0x13b5:	/* Arm */
		return "Arm server SoCs frequently do not forward peer-to-peer requests between root ports; Arm's BSA (rules PCI_PP_01 to PCI_PP_05) checks peer-to-peer only where a platform declares support, so SBSA or SystemReady compliance does not imply it. The kernel admits none of them today.";
	default:
		return "The PCIe specification leaves forwarding between root ports (hierarchy domains) to the implementation and gives no way to discover it, so the kernel admits it only for allow-listed host bridges and AMD Zen CPUs.";
	}
}
