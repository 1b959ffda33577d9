// SPDX-License-Identifier: LGPL-2.1-or-later
/* verdict.c - the pure verdict: calc_map_type_and_dist() explained, and its fast twin */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "verdict-private.h"

/*
 * Two ways to the same answer:
 *
 *  - calc_core() is the kernel's nested upstream walk (doc/kernel-model.md
 *    §2.2), pointer
 *    by pointer, reading ACS Control live, and explains itself: common
 *    ancestor, ACS list in walk order, host devices, allow-list rows,
 *    predicted dmesg, fix.
 *
 *  - fast_verdict() answers the same question from tables built once per
 *    router: for every function its chain of ancestors root first, the
 *    number of ACS-redirect nodes from the root down to it, its host
 *    bridge, and the host-bridge-pair verdicts. The common upstream device
 *    of p and c is then the last equal entry of their root-first chains:
 *
 *        anc[p]:  RP  USP  DSP1  EPp           k = 3 equal entries
 *        anc[c]:  RP  USP  DSP1  DSP2  EPc     lca = DSP1
 *
 *    dist = (len[p] - k) + (len[c] - k), and the ACS nodes the kernel
 *    examines (provider side up to AND including the LCA, client side
 *    strictly below it) number cnt[p] + cnt[c] - 2 cnt[lca] + redir[lca].
 */

/* Chains deeper than this (never seen in hardware) take the slow walk. */
#define FAST_MAXD 13

struct fast_node {
	uint32_t anc[FAST_MAXD];	/* root first, self last */
	uint16_t hb;			/* host bridge index */
	uint8_t len;			/* chain length; 0 = too deep */
	uint8_t cnt;			/* ACS-redirect nodes root..self */
	uint8_t pad[8];
};

_Static_assert(sizeof(struct fast_node) == 64, "one cache line per node");

/* The host-bridge stage for one (provider hb, client hb), CPU rule folded in. */
struct hb_verdict {
	uint8_t type;			/* THRU_HOST_BRIDGE or NOT_SUPPORTED */
	int16_t penalty;		/* distance added when allowed */
};

/*
 * Built once from a sealed topology and a private copy of the policy, then
 * never written: that is what makes a router safe to share between threads.
 */
struct p2pdma_router {
	struct p2pdma_ctx *ctx;
	const struct p2pdma_topo *topo;
	struct p2pdma_policy *pol;	/* our own copy */
	uint32_t n;
	uint32_t nhb;
	bool cpu_rule;			/* snapshot for the fast path */
	bool acs_thru;			/* ACS paths go to the host-bridge stage */
	int penalty;			/* added to allowed host-bridge paths */
	struct fast_node *fast;
	uint8_t *cnt;			/* cnt per function */
	uint8_t *redir;			/* has_acs_redir per function */
	struct hb_verdict *hbv;		/* nhb * nhb host-bridge stage outcomes */
};

P2PDMA_EXPORT const char *p2pdma_map_type_name(enum p2pdma_map_type t)
{
	switch (t) {
	case P2PDMA_MAP_UNKNOWN: return "UNKNOWN";
	case P2PDMA_MAP_NONE: return "NONE";
	case P2PDMA_MAP_NOT_SUPPORTED: return "NOT_SUPPORTED";
	case P2PDMA_MAP_BUS_ADDR: return "BUS_ADDR";
	case P2PDMA_MAP_THRU_HOST_BRIDGE: return "THRU_HOST_BRIDGE";
	}
	return "INVALID";
}

/* --- the host-bridge stage (doc/kernel-model.md §2.4) --- */

/*
 * host_bridge_whitelist(a, b): same host bridge -> that bridge's device
 * alone decides; different -> both must match with no REQ_SAME_HOST_BRIDGE.
 * No candidate device -> false, silently (doc/kernel-model.md §2.1).
 */
static bool hb_allowed(const struct p2pdma_policy *pol,
		       const struct p2pdma_dev *ha, const struct p2pdma_dev *hb,
		       bool same, const struct p2pdma_allow_entry **ea,
		       const struct p2pdma_allow_entry **eb)
{
	*ea = *eb = NULL;
	if (same)
		return ha && p2pdma_policy_host_bridge_allowed(pol, ha, ha, true,
							       ea, eb);
	if (!ha || !hb) {
		/* Only for the explanation: the kernel stops at the NULL. */
		if (ha)
			*ea = p2pdma_policy_allow_lookup(pol, ha->vendor,
							 ha->device);
		return false;
	}
	return p2pdma_policy_host_bridge_allowed(pol, ha, hb, false, ea, eb);
}

/* --- fast tables --- */

static int build_fast(struct p2pdma_router *r)
{
	const struct p2pdma_topo *t = r->topo;
	uint32_t i, a, b;

	const struct p2pdma_kernel_profile *prof = p2pdma_policy_profile(r->pol);

	r->cpu_rule = p2pdma_policy_cpu_rule(r->pol);
	/* Before 5.4 an ACS-redirected path is simply refused (-2). */
	r->acs_thru = prof->hb_era == P2PDMA_HB_TABLE;
	r->penalty = prof->hb_dist_penalty;
	for (i = 0; i < r->n; i++)
		r->redir[i] = p2pdma_dev_acs_redir(t->devs[i]);
	for (i = 0; i < r->n; i++) {
		const struct p2pdma_dev *d = t->devs[i], *u;
		struct fast_node *f = &r->fast[i];
		uint32_t len = 0, cnt = 0, k;

		for (u = d; u; u = u->upstream) {
			len++;
			cnt += r->redir[u->index];
		}
		memset(f, 0, sizeof(*f));
		f->hb = (uint16_t)d->hb->index;
		r->cnt[i] = (uint8_t)(cnt > 255 ? 255 : cnt);
		f->cnt = r->cnt[i];
		if (len > FAST_MAXD || cnt > 255)
			continue;	/* len 0: slow walk */
		f->len = (uint8_t)len;
		k = len;
		for (u = d; u; u = u->upstream)
			f->anc[--k] = u->index;
	}
	for (a = 0; a < r->nhb; a++) {
		for (b = 0; b < r->nhb; b++) {
			const struct p2pdma_allow_entry *ea, *eb;

			struct hb_verdict *hv = &r->hbv[a * r->nhb + b];
			bool ok = r->cpu_rule ||
				  hb_allowed(r->pol,
					     p2pdma_policy_hostdev(r->pol, &t->hbs[a]),
					     p2pdma_policy_hostdev(r->pol, &t->hbs[b]),
					     a == b, &ea, &eb);

			hv->type = ok ? P2PDMA_MAP_THRU_HOST_BRIDGE :
					P2PDMA_MAP_NOT_SUPPORTED;
			hv->penalty = (int16_t)(ok ? r->penalty : 0);
		}
	}
	return 0;
}

P2PDMA_EXPORT int p2pdma_router_create(struct p2pdma_ctx *ctx,
				       struct p2pdma_topo *topo,
				       const struct p2pdma_policy *pol,
				       struct p2pdma_router **out)
{
	struct p2pdma_router *r;
	int ret;

	*out = NULL;
	if (!topo || !pol)
		return p2pdma_err(ctx, -EINVAL, "router: no topology or policy");
	if (!topo->finalized)
		return p2pdma_err(ctx, -EINVAL, "router: topology not finalized");
	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	/* From here on the topology cannot change under the router. */
	p2pdma_topo_seal(topo);
	r->ctx = ctx;
	r->topo = topo;
	r->n = topo->ndevs;
	r->nhb = topo->nhbs;
	ret = p2pdma_policy_clone(pol, &r->pol);
	if (ret) {
		free(r);
		goto nomem;
	}
	r->fast = aligned_alloc(64, (r->n ? r->n : 1) * sizeof(*r->fast));
	r->cnt = calloc(r->n + 1, 1);
	r->redir = calloc(r->n + 1, 1);
	r->hbv = calloc((size_t)r->nhb * r->nhb + 1, sizeof(*r->hbv));
	if (!r->fast || !r->cnt || !r->redir || !r->hbv)
		goto free_router;
	build_fast(r);
	*out = r;
	return 0;

free_router:
	p2pdma_router_destroy(r);
nomem:
	return p2pdma_err(ctx, -ENOMEM, "router: out of memory");
}

P2PDMA_EXPORT void p2pdma_router_destroy(struct p2pdma_router *r)
{
	if (!r)
		return;
	p2pdma_policy_destroy(r->pol);
	free(r->fast);
	free(r->cnt);
	free(r->redir);
	free(r->hbv);
	free(r);
}

P2PDMA_EXPORT const struct p2pdma_topo *
p2pdma_router_topo(const struct p2pdma_router *r)
{
	return r->topo;
}

P2PDMA_EXPORT const struct p2pdma_policy *
p2pdma_router_policy(const struct p2pdma_router *r)
{
	return r->pol;
}

P2PDMA_EXPORT uint32_t p2pdma_cache_key(const struct p2pdma_dev *client)
{
	return (client->domain << 16) | ((uint32_t)client->bus << 8) |
	       client->devfn;
}

/* --- the explained calculation (doc/kernel-model.md §2.2) --- */

/* dev_warn()'s prefix: driver name, or the bus name when unbound. */
static void add_dmesg(struct p2pdma_verdict *v, const struct p2pdma_dev *dev,
		      const char *fmt, ...) P2PDMA_PRINTF(3, 4);

static void add_dmesg(struct p2pdma_verdict *v, const struct p2pdma_dev *dev,
		      const char *fmt, ...)
{
	char *line;
	size_t len;
	va_list ap;

	if (v->ndmesg >= P2PDMA_MAX_DMESG)
		return;
	line = v->dmesg[v->ndmesg++];
	len = (size_t)snprintf(line, sizeof(v->dmesg[0]), "%s %s: ",
			       dev->driver ? dev->driver : "pci", dev->name);
	if (len >= sizeof(v->dmesg[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(line + len, sizeof(v->dmesg[0]) - len, fmt, ap);
	va_end(ap);
}

/*
 * The kernel's struct seq_buf over char buf[128]: an entry that does not
 * fit entirely marks the buffer overflowed (len = size + 1) after
 * vsnprintf already wrote what fitted, and nothing is added afterwards.
 */
struct acs_seqbuf {
	char buf[4096];			/* PAGE_SIZE before 5.14, then 128 */
	size_t size;
	size_t len;
};

static void seqbuf_add(struct acs_seqbuf *s, const char *name)
{
	if (s->len < s->size) {
		int n = snprintf(s->buf + s->len, s->size - s->len, "%s;", name);

		if (n >= 0 && s->len + (size_t)n < s->size) {
			s->len += (size_t)n;
			return;
		}
	}
	s->len = s->size + 1;
}

struct walk {
	struct acs_seqbuf sb;
	size_t fixlen;
	unsigned int acs_cnt;
	bool fix_overflow;
};

/* pci_bridge_has_acs_redir() on one examined node, with the bookkeeping. */
static void examine(struct p2pdma_verdict *v, struct walk *w,
		    const struct p2pdma_dev *d)
{
	if (d->acs_state == P2PDMA_ACS_UNKNOWN) {
		/* Never "off" for sure: computed as off, but flagged. */
		v->acs_unknown = true;
		if (v->nunknown < P2PDMA_MAX_ACS)
			v->unknown[v->nunknown++] = d;
		return;
	}
	if (!p2pdma_dev_acs_redir(d))
		return;
	w->acs_cnt++;
	if (v->nacs < P2PDMA_MAX_ACS)
		v->acs[v->nacs++] = d;
	seqbuf_add(&w->sb, d->name);
	if (!w->fix_overflow) {
		int n = snprintf(v->fix + w->fixlen, sizeof(v->fix) - w->fixlen,
				 "%s%s", w->acs_cnt == 1 ? "pci=disable_acs_redir=" : ";",
				 d->name);

		if (n < 0 || w->fixlen + (size_t)n >= sizeof(v->fix))
			w->fix_overflow = true;
		else
			w->fixlen += (size_t)n;
	}
}

static void forget_acs(struct p2pdma_verdict *v, struct walk *w)
{
	v->nacs = 0;
	v->nunknown = 0;
	v->acs_unknown = false;
	v->fix[0] = 0;
	memset(w, 0, sizeof(*w));
}

/*
 * A BUS_ADDR verdict over ports whose ACS Control is unknown holds only if
 * none of them redirects. If one does, the pair goes to the host-bridge
 * stage of its one host bridge (a common ancestor means one host bridge),
 * or, before 5.4, is refused outright (doc/kernel-model.md §2.2, §2.4).
 */
static void if_acs_redirect(const struct p2pdma_router *r,
			    struct p2pdma_verdict *v)
{
	const struct p2pdma_kernel_profile *prof = p2pdma_policy_profile(r->pol);
	const struct p2pdma_allow_entry *ea, *eb;
	const struct p2pdma_dev *ha;

	v->if_acs = v->map_type;
	v->if_acs_outcome = P2PDMA_UNKNOWN_ACS_NO_EFFECT;
	if (!v->acs_unknown || !v->common || v->map_type != P2PDMA_MAP_BUS_ADDR)
		return;
	if (prof->hb_era != P2PDMA_HB_TABLE) {
		v->if_acs = P2PDMA_MAP_NOT_SUPPORTED;
		v->if_acs_outcome = P2PDMA_UNKNOWN_ACS_REFUSED;
		return;
	}
	if (p2pdma_policy_cpu_rule(r->pol)) {
		v->if_acs = P2PDMA_MAP_THRU_HOST_BRIDGE;
		v->if_acs_outcome = P2PDMA_UNKNOWN_ACS_CPU_RULE;
		return;
	}
	ha = p2pdma_policy_hostdev(r->pol, v->provider->hb);
	if (!ha) {
		v->if_acs = P2PDMA_MAP_NOT_SUPPORTED;
		v->if_acs_outcome = P2PDMA_UNKNOWN_ACS_NO_HOSTDEV;
		return;
	}
	if (hb_allowed(r->pol, ha, ha, true, &ea, &eb)) {
		v->if_acs = P2PDMA_MAP_THRU_HOST_BRIDGE;
		v->if_acs_outcome = P2PDMA_UNKNOWN_ACS_ALLOW_LISTED;
	} else {
		v->if_acs = P2PDMA_MAP_NOT_SUPPORTED;
		v->if_acs_outcome = P2PDMA_UNKNOWN_ACS_NOT_LISTED;
	}
}

static enum p2pdma_map_type calc_core(const struct p2pdma_router *r,
				      const struct p2pdma_dev *provider,
				      const struct p2pdma_dev *client,
				      bool verbose, struct p2pdma_verdict *v)
{
	const struct p2pdma_kernel_profile *prof = p2pdma_policy_profile(r->pol);
	const struct p2pdma_dev *a = provider, *bb, *ha, *hc;
	const struct p2pdma_allow_entry *ea, *eb;
	int dist_a = 0, dist_b = 0;
	bool acs_redirects = false;
	struct walk w;

	p2pdma_verdict_reset(v, provider, client);
	memset(&w, 0, sizeof(w));
	w.sb.size = prof->acs_list_size < sizeof(w.sb.buf) ?
		    prof->acs_list_size : sizeof(w.sb.buf);
	v->map_type = P2PDMA_MAP_THRU_HOST_BRIDGE;
	v->same_host_bridge = provider->hb == client->hb;

	/* Provider side: each node's ACS is read BEFORE it is compared with
	 * the client chain, so the common ancestor is examined here. */
	while (a) {
		dist_b = 0;
		examine(v, &w, a);
		for (bb = client; bb; bb = bb->upstream, dist_b++)
			if (a == bb)
				goto common;
		a = a->upstream;
		dist_a++;
	}
	/*
	 * No common upstream device: the path crosses the host bridge and
	 * ACS is irrelevant (doc/kernel-model.md §B2). dist_b is the full client chain.
	 */
	v->distance = dist_a + dist_b;
	forget_acs(v, &w);
	goto host_bridge;

common:
	v->common = a;
	/* Client side: strictly below the common ancestor. */
	for (bb = client; bb && bb != a; bb = bb->upstream)
		examine(v, &w, bb);
	v->distance = dist_a + dist_b;
	if (w.acs_cnt == 0) {
		v->map_type = P2PDMA_MAP_BUS_ADDR;
		goto done;
	}
	/* Message 2's list: final ';' dropped, or cut by the overflow. */
	if (w.sb.len > w.sb.size) {
		v->acs_truncated = true;
	} else if (w.sb.len) {
		w.sb.buf[w.sb.len - 1] = 0;
	}
	{
		size_t l = strnlen(w.sb.buf, sizeof(v->acs_list) - 1);

		memcpy(v->acs_list, w.sb.buf, l);
		v->acs_list[l] = 0;
	}
	if (w.fix_overflow)
		v->fix[0] = 0;
	if (verbose) {
		add_dmesg(v, client, prof->msg_acs, provider->name);
		add_dmesg(v, client, prof->msg_acs_fix, v->acs_list);
	}
	acs_redirects = true;
	/* 4.20 - 5.3: ACS redirect means -2, "not supported", full stop. */
	if (prof->hb_era != P2PDMA_HB_TABLE) {
		v->map_type = P2PDMA_MAP_NOT_SUPPORTED;
		goto done;
	}

host_bridge:
	v->host_bridge_path = true;
	ha = p2pdma_policy_hostdev(r->pol, provider->hb);
	hc = p2pdma_policy_hostdev(r->pol, client->hb);
	v->hostdev[0] = ha;
	v->hostdev[1] = hc;
	/* cpu_supports_p2pdma() short-circuits the table and its warning. */
	if (p2pdma_policy_cpu_rule(r->pol)) {
		v->cpu_rule = true;
		goto done;
	}
	v->hb_allowed = hb_allowed(r->pol, ha, hc, v->same_host_bridge, &ea,
				   &eb);
	v->hb_entry[0] = ea;
	v->hb_entry[1] = v->same_host_bridge ? ea : eb;
	/*
	 * "Host bridge not in P2PDMA whitelist" goes out with warn =
	 * acs_redirects even when not verbose. acs_redirects implies a common
	 * ancestor, hence one host bridge: only its device can miss.
	 */
	if (!v->hb_allowed && acs_redirects && ha && !ea &&
	    prof->warn_host_bridge && prof->msg_hb_not_listed) {
		add_dmesg(v, ha, prof->msg_hb_not_listed, ha->vendor,
			  ha->device);
		v->hb_warned = true;
	}
	if (!v->hb_allowed) {
		if (verbose)
			add_dmesg(v, client, prof->msg_not_supported,
				  provider->name);
		v->map_type = P2PDMA_MAP_NOT_SUPPORTED;
	} else {
		/* 5.2 - 5.3 root-complex era: 0x1000 + hops. */
		v->distance += prof->hb_dist_penalty;
	}
done:
	if_acs_redirect(r, v);
	return v->map_type;
}

P2PDMA_EXPORT enum p2pdma_map_type
p2pdma_router_calc(const struct p2pdma_router *r,
		   const struct p2pdma_dev *provider,
		   const struct p2pdma_dev *client, bool verbose,
		   struct p2pdma_verdict *v)
{
	const struct p2pdma_dev *p = p2pdma_topo_map_dev(r->topo, provider);
	const struct p2pdma_dev *c = p2pdma_topo_map_dev(r->topo, client);

	if (!p || !c) {
		/* A function of an unrelated topology: no answer to give. */
		p2pdma_verdict_reset(v, NULL, NULL);
		return P2PDMA_MAP_UNKNOWN;
	}
	return calc_core(r, p, c, verbose, v);
}

/* --- the fast path --- */

/* The slow walk for functions whose chain is deeper than FAST_MAXD. */
static enum p2pdma_map_type __attribute__((noinline))
slow_pair(const struct p2pdma_router *r, const struct p2pdma_dev *provider,
	  const struct p2pdma_dev *client, int *distance)
{
	struct p2pdma_verdict *v = malloc(sizeof(*v));
	enum p2pdma_map_type t = P2PDMA_MAP_NOT_SUPPORTED;
	int d = -1;

	if (v) {
		t = calc_core(r, provider, client, false, v);
		d = v->distance;
		free(v);
	}
	*distance = d;
	return t;
}

static inline enum p2pdma_map_type
fast_pair(const struct p2pdma_router *r, const struct fast_node *a,
	  const struct fast_node *b, int *distance)
{
	unsigned int la = a->len, lb = b->len, m, k;
	const struct hb_verdict *hv;
	uint32_t lca;
	int d;

	/* Different root-bus devices at the top: no common upstream device
	 * (the common case in a big fabric), the host-bridge pair decides. */
	if (a->anc[0] != b->anc[0]) {
		hv = &r->hbv[a->hb * r->nhb + b->hb];
		*distance = (int)(la + lb) + hv->penalty;
		return (enum p2pdma_map_type)hv->type;
	}
	m = la < lb ? la : lb;
	for (k = 1; k < m && a->anc[k] == b->anc[k]; k++)
		;
	lca = a->anc[k - 1];
	d = (int)(la - k + lb - k);
	if ((unsigned int)a->cnt + b->cnt + r->redir[lca] == 2u * r->cnt[lca]) {
		*distance = d;
		return P2PDMA_MAP_BUS_ADDR;
	}
	if (__builtin_expect(!r->acs_thru, 0)) {
		*distance = d;
		return P2PDMA_MAP_NOT_SUPPORTED;
	}
	hv = &r->hbv[a->hb * r->nhb + b->hb];
	*distance = d + hv->penalty;
	return (enum p2pdma_map_type)hv->type;
}

P2PDMA_EXPORT enum p2pdma_map_type
p2pdma_router_map_type(const struct p2pdma_router *r,
		       const struct p2pdma_dev *provider,
		       const struct p2pdma_dev *client, int *distance)
{
	const struct fast_node *a, *b;
	int d;

	if (__builtin_expect(provider->topo != r->topo || client->topo != r->topo, 0)) {
		provider = p2pdma_topo_map_dev(r->topo, provider);
		client = p2pdma_topo_map_dev(r->topo, client);
		if (!provider || !client)
			return P2PDMA_MAP_UNKNOWN;
	}
	a = &r->fast[provider->index];
	b = &r->fast[client->index];

	if (__builtin_expect(!a->len || !b->len, 0))
		return slow_pair(r, provider, client, distance ? distance : &d);
	return fast_pair(r, a, b, distance ? distance : &d);
}

P2PDMA_EXPORT void p2pdma_router_map_type_row(const struct p2pdma_router *r,
					       const struct p2pdma_dev *provider,
					       const struct p2pdma_dev *const *clients,
					       size_t n, uint8_t *types,
					       int *distances)
{
	const struct fast_node *a;
	size_t j;

	provider = p2pdma_topo_map_dev(r->topo, provider);
	if (!provider) {
		memset(types, P2PDMA_MAP_UNKNOWN, n);
		for (j = 0; j < n; j++)
			distances[j] = -1;
		return;
	}
	a = &r->fast[provider->index];
	for (j = 0; j < n; j++) {
		const struct fast_node *b;

		if (__builtin_expect(clients[j]->topo != r->topo, 0)) {
			const struct p2pdma_dev *c = p2pdma_topo_map_dev(r->topo, clients[j]);

			if (!c) {
				types[j] = P2PDMA_MAP_UNKNOWN;
				distances[j] = -1;
				continue;
			}
			types[j] = (uint8_t)p2pdma_router_map_type(r, provider, c,
								   &distances[j]);
			continue;
		}
		b = &r->fast[clients[j]->index];

		if (__builtin_expect(!a->len || !b->len, 0))
			types[j] = (uint8_t)slow_pair(r, provider, clients[j],
						      &distances[j]);
		else
			types[j] = (uint8_t)fast_pair(r, a, b, &distances[j]);
	}
}

/* --- the verdict object --- */

void p2pdma_verdict_reset(struct p2pdma_verdict *v,
			  const struct p2pdma_dev *provider,
			  const struct p2pdma_dev *client)
{
	memset(v, 0, sizeof(*v));
	v->provider = provider;
	v->client = client;
	v->distance = -1;
}

P2PDMA_EXPORT int p2pdma_verdict_create(struct p2pdma_verdict **out)
{
	*out = malloc(sizeof(**out));
	if (!*out)
		return -ENOMEM;
	p2pdma_verdict_reset(*out, NULL, NULL);
	return 0;
}

P2PDMA_EXPORT void p2pdma_verdict_destroy(struct p2pdma_verdict *v)
{
	free(v);
}

P2PDMA_EXPORT enum p2pdma_map_type
p2pdma_verdict_map_type(const struct p2pdma_verdict *v)
{
	return v->map_type;
}

P2PDMA_EXPORT int p2pdma_verdict_distance(const struct p2pdma_verdict *v)
{
	return v->distance;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_verdict_provider(const struct p2pdma_verdict *v)
{
	return v->provider;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_verdict_client(const struct p2pdma_verdict *v)
{
	return v->client;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_verdict_common(const struct p2pdma_verdict *v)
{
	return v->common;
}

P2PDMA_EXPORT size_t p2pdma_verdict_num_acs(const struct p2pdma_verdict *v)
{
	return v->nacs;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_verdict_acs(const struct p2pdma_verdict *v, size_t i)
{
	return i < v->nacs ? v->acs[i] : NULL;
}

P2PDMA_EXPORT size_t p2pdma_verdict_num_unknown(const struct p2pdma_verdict *v)
{
	return v->nunknown;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_verdict_unknown(const struct p2pdma_verdict *v, size_t i)
{
	return i < v->nunknown ? v->unknown[i] : NULL;
}

P2PDMA_EXPORT enum p2pdma_map_type
p2pdma_verdict_if_acs_redirect(const struct p2pdma_verdict *v,
			       enum p2pdma_unknown_acs_outcome *outcome)
{
	if (outcome)
		*outcome = v->if_acs_outcome;
	return v->if_acs_outcome == P2PDMA_UNKNOWN_ACS_NO_EFFECT ?
	       P2PDMA_MAP_BUS_ADDR : v->if_acs;
}

P2PDMA_EXPORT bool p2pdma_verdict_same_host_bridge(const struct p2pdma_verdict *v)
{
	return v->same_host_bridge;
}

P2PDMA_EXPORT bool p2pdma_verdict_host_bridge_path(const struct p2pdma_verdict *v)
{
	return v->host_bridge_path;
}

P2PDMA_EXPORT bool p2pdma_verdict_cpu_rule(const struct p2pdma_verdict *v)
{
	return v->cpu_rule;
}

P2PDMA_EXPORT bool p2pdma_verdict_allow_listed(const struct p2pdma_verdict *v)
{
	return v->hb_allowed;
}

P2PDMA_EXPORT const struct p2pdma_dev *
p2pdma_verdict_hostdev(const struct p2pdma_verdict *v, unsigned int side)
{
	return side < 2 ? v->hostdev[side] : NULL;
}

P2PDMA_EXPORT const struct p2pdma_allow_entry *
p2pdma_verdict_allow_entry(const struct p2pdma_verdict *v, unsigned int side)
{
	return side < 2 ? v->hb_entry[side] : NULL;
}

P2PDMA_EXPORT size_t p2pdma_verdict_num_dmesg(const struct p2pdma_verdict *v)
{
	return v->ndmesg;
}

P2PDMA_EXPORT const char *p2pdma_verdict_dmesg(const struct p2pdma_verdict *v,
					       size_t i)
{
	return i < v->ndmesg ? v->dmesg[i] : NULL;
}

P2PDMA_EXPORT const char *p2pdma_verdict_fix(const struct p2pdma_verdict *v)
{
	return v->fix[0] ? v->fix : NULL;
}

P2PDMA_EXPORT const char *p2pdma_verdict_acs_list(const struct p2pdma_verdict *v,
						  bool *truncated)
{
	if (truncated)
		*truncated = v->acs_truncated;
	return v->acs_list;
}

P2PDMA_EXPORT bool p2pdma_verdict_host_bridge_warned(const struct p2pdma_verdict *v)
{
	return v->hb_warned;
}

P2PDMA_EXPORT bool p2pdma_verdict_cached(const struct p2pdma_verdict *v)
{
	return v->cached;
}
