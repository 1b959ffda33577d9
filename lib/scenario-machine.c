// SPDX-License-Identifier: LGPL-2.1-or-later
/* scenario-machine.c - `p2pdma run` verbs: the machine, the kernel it boots, drivers, providers, map types */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context-private.h"
#include "p2pdma/p2pmem.h"
#include "scenario-private.h"

struct mstate {
	struct p2pdma_topo *topo;
	char *kernel, *cpu, *cmdline;
	int iommu;			/* -1 as the machine says */
	bool seed_set;
	uint64_t seed;
};

static struct mstate *ms(const struct p2pdma_scn *s)
{
	return p2pdma_scn_layer_state(s, &p2pdma_scn_layer_machine);
}

static int m_init(struct p2pdma_scn *s, void **state)
{
	struct mstate *m = calloc(1, sizeof(*m));

	(void)s;
	if (!m)
		return -ENOMEM;
	m->iommu = -1;
	*state = m;
	return 0;
}

static void m_fini(struct p2pdma_scn *s, void *state)
{
	struct mstate *m = state;

	(void)s;
	if (!m)
		return;
	p2pdma_topo_destroy(m->topo);
	free(m->kernel);
	free(m->cpu);
	free(m->cmdline);
	free(m);
}

/* "why" of a verdict, in a sentence (doc/kernel-model.md §2.2). */
void p2pdma_scn_explain(const struct p2pdma_verdict *v, char *buf, size_t len)
{
	const struct p2pdma_dev *common = p2pdma_verdict_common(v);
	const struct p2pdma_dev *acs = p2pdma_verdict_num_acs(v) ? p2pdma_verdict_acs(v, 0) : NULL;
	const struct p2pdma_dev *h0 = p2pdma_verdict_hostdev(v, 0), *h1 = p2pdma_verdict_hostdev(v, 1);
	char hb[160];

	if (p2pdma_verdict_cached(v)) {
		snprintf(buf, len, "from the map-type cache: the first evaluation is kept, nothing is recalculated or printed");
		return;
	}
	if (!p2pdma_verdict_client(v)) {
		snprintf(buf, len, "the client is not a PCI device (no walk to a PCI parent)");
		return;
	}
	if (p2pdma_verdict_cpu_rule(v))
		snprintf(hb, sizeof(hb), "the AMD Zen CPU rule allows any host-bridge path");
	else if (p2pdma_verdict_allow_listed(v))
		snprintf(hb, sizeof(hb), "host bridge %04x:%04x is on the allow list",
			 h0 ? h0->vendor : 0, h0 ? h0->device : 0);
	else
		snprintf(hb, sizeof(hb), "host bridge %s%s%s is not on the allow list",
			 h0 ? h0->name : "(none)", h1 && h1 != h0 ? " / " : "",
			 h1 && h1 != h0 ? h1->name : "");
	switch (p2pdma_verdict_map_type(v)) {
	case P2PDMA_MAP_BUS_ADDR:
		snprintf(buf, len, "common upstream bridge %s with no ACS redirect on the path: the TLPs turn around there",
			 common ? common->name : "?");
		break;
	case P2PDMA_MAP_THRU_HOST_BRIDGE:
	case P2PDMA_MAP_NOT_SUPPORTED:
		if (common && acs)
			snprintf(buf, len, "ACS redirect at %s sends the path through the host bridge: %s",
				 acs->name, hb);
		else
			snprintf(buf, len, "no common upstream bridge below the host bridge%s: %s",
				 p2pdma_verdict_same_host_bridge(v) ? "" : "s", hb);
		break;
	default:
		snprintf(buf, len, "not calculated");
		break;
	}
}

/* --- the machine and its policy --- */

static int resolve(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st, const char *arg,
		   char *out, size_t len)
{
	const char *dir = p2pdma_scn_base_dir(s);

	if (!dir)
		return p2pdma_scn_malformed(s, st, "this script may not read files");
	if ((size_t)snprintf(out, len, "%s%s%s", arg[0] == '/' ? "" : dir,
			     arg[0] == '/' ? "" : "/", arg) >= len)
		return p2pdma_scn_malformed(s, st, "%s: path too long", arg);
	return 0;
}

static int do_machine(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_ctx *ctx = p2pdma_scn_ctx(s);
	const char *kind = p2pdma_scn_arg(st, 0), *arg = p2pdma_scn_arg(st, 1);
	struct mstate *m = ms(s);
	struct p2pdma_topo *t = NULL;
	char path[PATH_MAX];
	int ret;

	if (!strcmp(kind, "example")) {
		ret = p2pdma_topo_load_example(ctx, arg, &t);
	} else if (!strcmp(kind, "synth")) {
		ret = p2pdma_topo_synth(ctx, arg, &t);
	} else if (!strcmp(kind, "dump") || !strcmp(kind, "sysfs") || !strcmp(kind, "topology")) {
		ret = resolve(s, st, arg, path, sizeof(path));
		if (ret)
			return ret;
		ret = kind[0] == 'd' ? p2pdma_topo_load_dump(ctx, path, &t) :
		      kind[0] == 's' ? p2pdma_topo_load_sysfs(ctx, path, &t) :
		      p2pdma_topo_load_json(ctx, path, &t);
	} else {
		return p2pdma_scn_malformed(s, st, "'%s': the machine is example NAME, dump FILE, sysfs DIR, topology FILE or synth SPEC",
					    kind);
	}
	if (ret)
		return p2pdma_scn_malformed(s, st, "%s", p2pdma_ctx_error(ctx));
	p2pdma_scn_kernel_replace(s, NULL);
	p2pdma_topo_destroy(m->topo);
	m->topo = t;
	p2pdma_scn_set(st, "functions", "%zu", p2pdma_topo_num_devs(t));
	p2pdma_scn_set(st, "host_bridges", "%zu", p2pdma_topo_num_host_bridges(t));
	p2pdma_scn_say(st, "machine %s: %zu functions, %zu host bridges (not booted yet)",
		       p2pdma_topo_name(t), p2pdma_topo_num_devs(t), p2pdma_topo_num_host_bridges(t));
	return 0;
}

/* A policy switch: checked now on a scratch policy, applied at boot. */
static int set_switch(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, char **slot,
		      int (*check)(struct p2pdma_policy *, const char *))
{
	struct p2pdma_policy *pol;
	const char *v = p2pdma_scn_arg(st, 0);
	char *copy;
	int ret;

	if (p2pdma_scn_kernel(s))
		return p2pdma_scn_malformed(s, st, "policy switches go before boot");
	if (p2pdma_policy_create(p2pdma_scn_ctx(s), &pol))
		return -ENOMEM;
	ret = check(pol, v);
	p2pdma_policy_destroy(pol);
	if (ret)
		return p2pdma_scn_malformed(s, st, "'%s': %s", v, p2pdma_ctx_error(p2pdma_scn_ctx(s)));
	copy = p2pdma_strdup(v);
	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	p2pdma_scn_say(st, "the kernel will boot with %s %s", p2pdma_scenario_step_verb(st), v);
	return 0;
}

static int do_kernel(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return set_switch(s, st, &ms(s)->kernel, p2pdma_policy_set_kernel);
}

static int do_cpu(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return set_switch(s, st, &ms(s)->cpu, p2pdma_policy_set_cpu);
}

static int do_cmdline(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return set_switch(s, st, &ms(s)->cmdline, p2pdma_policy_set_cmdline);
}

static int do_iommu(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const char *v = p2pdma_scn_arg(st, 0);

	if (p2pdma_scn_kernel(s))
		return p2pdma_scn_malformed(s, st, "policy switches go before boot");
	if (strcmp(v, "on") && strcmp(v, "off"))
		return p2pdma_scn_malformed(s, st, "iommu on|off");
	ms(s)->iommu = !strcmp(v, "on");
	p2pdma_scn_say(st, "at boot an IOMMU driver %s ACS (kernel defaults on every port)",
		       ms(s)->iommu ? "requests" : "does not request");
	return 0;
}

static int do_boot(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_ctx *ctx = p2pdma_scn_ctx(s);
	struct mstate *m = ms(s);
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;
	int ret;

	if (!m->topo)
		return p2pdma_scn_malformed(s, st, "no machine (add 'machine example NAME' before it)");
	if (p2pdma_policy_from_machine(ctx, m->topo, &pol))
		return p2pdma_err(ctx, -ENOMEM, "out of memory");
	ret = (m->kernel && p2pdma_policy_set_kernel(pol, m->kernel)) ||
	      (m->cpu && p2pdma_policy_set_cpu(pol, m->cpu)) ||
	      (m->cmdline && p2pdma_policy_set_cmdline(pol, m->cmdline));
	if (!ret) {
		if (m->iommu >= 0)
			p2pdma_policy_set_iommu_acs(pol, m->iommu);
		ret = p2pdma_kernel_boot(ctx, m->topo, pol, &k);
	}
	if (ret) {
		p2pdma_policy_destroy(pol);
		return p2pdma_scn_malformed(s, st, "%s", p2pdma_ctx_error(ctx));
	}
	p2pdma_scn_kernel_replace(s, k);
	if (m->seed_set)
		p2pdma_kernel_set_seed(k, m->seed);
	p2pdma_scn_set(st, "kernel", "%s", p2pdma_policy_kernel(pol));
	p2pdma_scn_set(st, "cpu_rule", "%s", p2pdma_policy_cpu_rule(p2pdma_kernel_policy(k)) ? "on" : "off");
	p2pdma_scn_say(st, "booted %s: kernel %s, AMD Zen CPU rule %s, %s boot",
		       p2pdma_topo_name(m->topo), p2pdma_policy_kernel(pol),
		       p2pdma_policy_cpu_rule(p2pdma_kernel_policy(k)) ? "on" : "off",
		       p2pdma_kernel_whatif(k) ? "what-if (ACS set up again)" : "as captured");
	p2pdma_policy_destroy(pol);
	return 0;
}

static int do_seed(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct mstate *m = ms(s);
	int ret = p2pdma_scn_arg_u64(s, st, 0, &m->seed);

	if (ret)
		return ret;
	m->seed_set = true;
	if (p2pdma_scn_kernel(s))
		p2pdma_kernel_set_seed(p2pdma_scn_kernel(s), m->seed);
	p2pdma_scn_say(st, "find_many's random draw is seeded with %" PRIu64, m->seed);
	return 0;
}

/* --- drivers and providers --- */

static int do_bind(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const struct p2pdma_dev *d;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	ret = p2pdma_kernel_bind(p2pdma_scn_kernel(s), d, p2pdma_scn_arg(st, 1));
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "%s bound to %s", p2pdma_scn_arg(st, 1), d->name);
	return 0;
}

static int do_unbind(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	const struct p2pdma_dev *d;
	char drv[64];
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	snprintf(drv, sizeof(drv), "%s", p2pdma_kernel_driver(k, d) ? p2pdma_kernel_driver(k, d) : "");
	ret = p2pdma_kernel_unbind(k, d);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "%s unbound from %s: its P2PDMA state, providers, map-type cache and pool are gone",
			       drv, d->name);
	else if (ret == -EINPROGRESS)
		p2pdma_scn_say(st, "%s's remove() is blocked: the binding stays until the last page comes back", drv);
	p2pdma_scn_set(st, "driver", "%s", p2pdma_kernel_driver(k, d) ? p2pdma_kernel_driver(k, d) : "none");
	return 0;
}

static int do_p2pdma_init(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const struct p2pdma_dev *d;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	ret = p2pdma_kernel_p2pdma_init(p2pdma_scn_kernel(s), d);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "pcim_p2pdma_init(%s): P2PDMA state with one provider per memory BAR", d->name);
	return 0;
}

static int do_provider(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_provider *p;
	const struct p2pdma_dev *d;
	uint64_t bar;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret || (ret = p2pdma_scn_arg_u64(s, st, 1, &bar)))
		return ret;
	ret = p2pdma_kernel_provider(p2pdma_scn_kernel(s), d, bar > 5 ? 6 : (int)bar, &p);
	p2pdma_scn_errno(st, ret);
	if (ret)
		return 0;
	p2pdma_scn_set(st, "bus_offset", "%#" PRIx64, p2pdma_provider_bus_offset(p));
	p2pdma_scn_say(st, "provider %s BAR %d: bus_offset %#" PRIx64 " (bus address - CPU address)",
		       d->name, p->bar, p2pdma_provider_bus_offset(p));
	return p2pdma_scn_handle_add(s, st, "provider", p, NULL);
}

/* A provider: $handle, or BDF BAR. Consumes 1 or 2 arguments. */
static int arg_provider(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
			struct p2pdma_provider **p, int *used)
{
	const struct p2pdma_dev *d;
	uint64_t bar;
	int ret;

	if (p2pdma_scn_arg_is_handle(st, 0)) {
		*used = 1;
		return p2pdma_scn_arg_handle(s, st, 0, "provider", (void **)p);
	}
	*used = 2;
	if ((ret = p2pdma_scn_arg_dev(s, st, 0, &d)) || (ret = p2pdma_scn_arg_u64(s, st, 1, &bar)))
		return ret;
	if (p2pdma_kernel_provider(p2pdma_scn_kernel(s), d, bar > 5 ? 6 : (int)bar, p))
		return p2pdma_scn_malformed(s, st, "%s", p2pdma_ctx_error(p2pdma_scn_ctx(s)));
	return 0;
}

static int do_map_type(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_kernel *k = p2pdma_scn_kernel(s);
	const struct p2pdma_dev *c = NULL;
	struct p2pdma_provider *p;
	struct p2pdma_verdict *v;
	enum p2pdma_map_type t;
	char why[512];
	int used, ret = arg_provider(s, st, &p, &used);

	if (ret)
		return ret;
	if (used >= p2pdma_scn_argc(st) + 1 || !p2pdma_scn_arg(st, used))
		return p2pdma_scn_malformed(s, st, "usage: map-type $PROVIDER|BDF BAR CLIENT|none");
	if (strcmp(p2pdma_scn_arg(st, used), "none") && (ret = p2pdma_scn_arg_dev(s, st, used, &c)))
		return ret;
	if (p2pdma_verdict_create(&v))
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	t = p2pdma_kernel_map_type(k, p, c, v);
	p2pdma_scn_explain(v, why, sizeof(why));
	if (p2pdma_verdict_cached(v) && c) {
		/* Say why the cached answer was what it was, if it still is. */
		struct p2pdma_verdict *now;
		char first[300];

		if (!p2pdma_verdict_create(&now)) {
			if (p2pdma_router_calc(p2pdma_kernel_router(k), p2pdma_provider_owner(p), c,
					       false, now) == t) {
				p2pdma_scn_explain(now, first, sizeof(first));
				snprintf(why, sizeof(why), "from the map-type cache (first evaluation kept, nothing printed): %s",
					 first);
			} else {
				snprintf(why, sizeof(why), "from the map-type cache: the hardware now gives %s, but the first evaluation is kept",
					 p2pdma_map_type_name(p2pdma_verdict_map_type(now)));
			}
			p2pdma_verdict_destroy(now);
		}
	}
	p2pdma_scn_set(st, "map", "%s", p2pdma_map_type_name(t));
	p2pdma_scn_set(st, "distance", "%d", p2pdma_verdict_distance(v));
	p2pdma_scn_set(st, "cached", "%s", p2pdma_verdict_cached(v) ? "yes" : "no");
	p2pdma_scn_say(st, "pci_p2pdma_map_type(%s BAR %d, %s) = %s: %s",
		       p2pdma_provider_owner(p)->name, p2pdma_provider_bar(p), c ? c->name : "a non-PCI device",
		       p2pdma_map_type_name(t), why);
	p2pdma_verdict_destroy(v);
	return 0;
}

static int do_distance(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const struct p2pdma_dev *p, *clients[32];
	int i, n = p2pdma_scn_argc(st) - 1, dist = -1, ret = p2pdma_scn_arg_dev(s, st, 0, &p);

	if (ret)
		return ret;
	if (n > 32)
		return p2pdma_scn_malformed(s, st, "at most 32 clients");
	for (i = 0; i < n; i++)
		if ((ret = p2pdma_scn_arg_dev(s, st, i + 1, &clients[i])))
			return ret;
	ret = p2pdma_kernel_distance_many(p2pdma_scn_kernel(s), p, clients, (size_t)n, true, NULL, &dist);
	p2pdma_scn_errno(st, ret);
	p2pdma_scn_set(st, "distance", "%d", ret ? -1 : dist);
	p2pdma_scn_say(st, "pci_p2pdma_distance_many(%s, %d client%s) = %d", p->name, n,
		       n == 1 ? "" : "s", ret ? -1 : dist);
	return 0;
}

static int do_acs(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const struct p2pdma_dev *d;
	uint64_t v;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret || (ret = p2pdma_scn_arg_u64(s, st, 1, &v)))
		return ret;
	if (v > 0xffff)
		return p2pdma_scn_malformed(s, st, "ACS Control is 16 bits");
	ret = p2pdma_kernel_write_acs_ctrl(p2pdma_scn_kernel(s), d, (uint16_t)v);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "setpci -s %s ECAP_ACS+6.w=%04" PRIx64 ": cached map types keep their old value",
			       d->name, v);
	return 0;
}

static int do_ram(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	uint64_t start, size;
	int ret;

	if ((ret = p2pdma_scn_arg_u64(s, st, 0, &start)) || (ret = p2pdma_scn_arg_u64(s, st, 1, &size)))
		return ret;
	ret = p2pdma_kernel_add_system_ram(p2pdma_scn_kernel(s), start, size);
	p2pdma_scn_errno(st, ret);
	if (!ret)
		p2pdma_scn_say(st, "System RAM %#" PRIx64 "-%#" PRIx64 " (as /proc/iomem shows it)",
			       start, start + size - 1);
	return 0;
}

static int do_comm(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	uint64_t pid = 1000;
	int ret = p2pdma_scn_argc(st) > 1 ? p2pdma_scn_arg_u64(s, st, 1, &pid) : 0;

	if (ret)
		return ret;
	p2pdma_user_set_comm(p2pdma_scn_kernel(s), p2pdma_scn_arg(st, 0), (int)(pid & 0x3fffffff));
	p2pdma_scn_say(st, "the process is now %s (pid %" PRIu64 ")", p2pdma_scn_arg(st, 0), pid);
	return 0;
}

static const struct p2pdma_scn_verb verbs[] = {
	{ "machine", "machine example NAME | dump FILE | sysfs DIR | topology FILE | synth SPEC",
	  2, 2, 0, do_machine },
	{ "kernel", "kernel RELEASE", 1, 1, 0, do_kernel },
	{ "cpu", "cpu VENDOR:FAMILY", 1, 1, 0, do_cpu },
	{ "cmdline", "cmdline \"KERNEL COMMAND LINE\"", 1, 1, 0, do_cmdline },
	{ "iommu", "iommu on|off", 1, 1, 0, do_iommu },
	{ "boot", "boot", 0, 0, 0, do_boot },
	{ "seed", "seed N", 1, 1, 0, do_seed },
	{ "bind", "bind BDF DRIVER", 2, 2, P2PDMA_SCN_KERNEL, do_bind },
	{ "unbind", "unbind BDF", 1, 1, P2PDMA_SCN_KERNEL, do_unbind },
	{ "p2pdma-init", "p2pdma-init BDF", 1, 1, P2PDMA_SCN_KERNEL, do_p2pdma_init },
	{ "provider", "provider BDF BAR [as NAME]", 2, 2, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_provider },
	{ "map-type", "map-type $PROVIDER|BDF BAR CLIENT|none", 2, 3, P2PDMA_SCN_KERNEL, do_map_type },
	{ "distance", "distance PROVIDER CLIENT...", 2, 33, P2PDMA_SCN_KERNEL, do_distance },
	{ "acs", "acs BDF VALUE", 2, 2, P2PDMA_SCN_KERNEL, do_acs },
	{ "ram", "ram START SIZE", 2, 2, P2PDMA_SCN_KERNEL, do_ram },
	{ "comm", "comm NAME [PID]", 1, 2, P2PDMA_SCN_KERNEL, do_comm },
};

const struct p2pdma_scn_layer p2pdma_scn_layer_machine = {
	"machine", verbs, sizeof(verbs) / sizeof(verbs[0]), NULL, 0, m_init, m_fini, NULL, NULL,
};
