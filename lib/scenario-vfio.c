// SPDX-License-Identifier: LGPL-2.1-or-later
/* scenario-vfio.c - `p2pdma run` verbs of the VFIO layer: bind, open, the DMA_BUF feature with raw fields, the revoke triggers, close */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "context-private.h"
#include "p2pdma/vfio.h"
#include "scenario-private.h"

static const char *const power_names[] = { "D0", "D1", "D2", "D3hot", "D3cold" };

/* The kernel's answer; a refusal's message is the step's "reason". */
static void result(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, int ret)
{
	p2pdma_scn_errno(st, ret < 0 ? ret : 0);
	if (ret < 0)
		p2pdma_scn_set(st, "reason", "%s", p2pdma_ctx_error(p2pdma_scn_ctx(s)));
}

/*
 * The VFIO device of a function (BDF or $NAME of vfio-bind). A function
 * without one is the kernel's answer, not a script error: -ENODEV.
 */
static int arg_vfio(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
		    struct p2pdma_vfio_dev **out)
{
	const struct p2pdma_dev *d;
	int ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	*out = p2pdma_vfio_lookup(p2pdma_scn_kernel(s), d);
	if (!*out) {
		result(s, st, p2pdma_err(p2pdma_scn_ctx(s), -ENODEV,
					  "%s: no VFIO device (vfio-pci is not bound: vfio-bind)", d->name));
		return 1;
	}
	return 0;
}

/* The device's state as fields, and a line. */
static void vstate(struct p2pdma_scenario_step *st, struct p2pdma_vfio_dev *v)
{
	enum p2pdma_pci_power pw = p2pdma_vfio_power_state(v);

	p2pdma_scn_set(st, "open", "%s", p2pdma_vfio_is_open(v) ? "yes" : "no");
	p2pdma_scn_set(st, "command", "0x%04x", p2pdma_vfio_command(v));
	p2pdma_scn_set(st, "power", "%s", power_names[pw]);
	p2pdma_scn_set(st, "memory", "%s", p2pdma_vfio_memory_enabled(v) ? "on" : "off");
	p2pdma_scn_set(st, "dmabufs", "%zu", p2pdma_vfio_num_dmabufs(v));
	p2pdma_scn_set(st, "registrations", "%d", p2pdma_vfio_registrations(v));
	p2pdma_scn_say(st, "%s: %s, PCI_COMMAND 0x%04x, %s, memory %s; %zu dma-buf%s linked, %d registration%s",
		       p2pdma_vfio_pci_dev(v)->name, p2pdma_vfio_is_open(v) ? "open" : "closed",
		       p2pdma_vfio_command(v), power_names[pw],
		       p2pdma_vfio_memory_enabled(v) ? "enabled" : "disabled (its dma-bufs are revoked)",
		       p2pdma_vfio_num_dmabufs(v), p2pdma_vfio_num_dmabufs(v) == 1 ? "" : "s",
		       p2pdma_vfio_registrations(v), p2pdma_vfio_registrations(v) == 1 ? "" : "s");
}

/* "PHYS:LEN" */
static int parse_range(const char *a, uint64_t *x, uint64_t *y)
{
	const char *colon = strchr(a, ':');
	char first[64];

	if (!colon || (size_t)(colon - a) >= sizeof(first))
		return -EINVAL;
	memcpy(first, a, (size_t)(colon - a));
	first[colon - a] = '\0';
	return p2pdma_scn_parse_u64(first, x) || p2pdma_scn_parse_u64(colon + 1, y) ? -EINVAL : 0;
}

static int do_bind(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_vfio_bind_opts o = { .size = sizeof(o) };
	struct p2pdma_vfio_dev *v;
	const struct p2pdma_dev *d;
	int i, ret = p2pdma_scn_arg_dev(s, st, 0, &d);

	if (ret)
		return ret;
	for (i = 1; i < p2pdma_scn_argc(st); i++) {
		const char *a = p2pdma_scn_arg(st, i);

		if (!strcmp(a, "nvgrace"))
			o.variant = P2PDMA_VFIO_NVGRACE;
		else if (!strcmp(a, "mlx5"))
			o.variant = P2PDMA_VFIO_VARIANT_NO_DMABUF;
		else if (!strcmp(a, "no-flr"))
			o.no_flr = true;
		else if (!strcmp(a, "noiommu"))
			o.noiommu = true;
		else if (!strncmp(a, "usemem=", 7) && !parse_range(a + 7, &o.usemem_phys, &o.usemem_len))
			;
		else if (!strncmp(a, "resmem=", 7) && !parse_range(a + 7, &o.resmem_phys, &o.resmem_len))
			;
		else
			return p2pdma_scn_malformed(s, st, "'%s': vfio-bind BDF [nvgrace usemem=PHYS:LEN [resmem=PHYS:LEN]] [mlx5] [no-flr] [noiommu]",
						    a);
	}
	ret = p2pdma_vfio_bind(p2pdma_scn_kernel(s), d, &o, &v);
	result(s, st, ret);
	if (ret)
		return 0;
	p2pdma_scn_set(st, "driver", "%s", p2pdma_kernel_driver(p2pdma_scn_kernel(s), d));
	p2pdma_scn_set(st, "group", "%d", p2pdma_dma_group(p2pdma_scn_kernel(s), d));
	p2pdma_scn_say(st, "%s bound to %s: P2PDMA state with a provider per memory BAR (no pool), IOMMU group %d%s",
		       p2pdma_kernel_driver(p2pdma_scn_kernel(s), d), d->name,
		       p2pdma_dma_group(p2pdma_scn_kernel(s), d), o.noiommu ? " (noiommu mode)" : "");
	vstate(st, v);
	return p2pdma_scn_handle_add(s, st, "dev", (void *)d, NULL);
}

static int do_unbind(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_vfio_dev *v;
	const struct p2pdma_dev *d;
	int ret = arg_vfio(s, st, &v);

	if (ret)
		return ret < 0 ? ret : 0;
	d = p2pdma_vfio_pci_dev(v);
	ret = p2pdma_vfio_unbind(v);
	result(s, st, ret);
	if (ret)
		vstate(st, v);
	else
		p2pdma_scn_say(st, "vfio-pci unbound from %s", d->name);
	return 0;
}

/* A verb that calls one function of the device and shows its state. */
static int vcall(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
		 int (*fn)(struct p2pdma_vfio_dev *), const char *what)
{
	struct p2pdma_vfio_dev *v;
	int ret = arg_vfio(s, st, &v);

	if (ret)
		return ret < 0 ? ret : 0;
	ret = fn(v);
	result(s, st, ret);
	if (!ret)
		p2pdma_scn_say(st, "%s", what);
	vstate(st, v);
	return 0;
}

static int do_open(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return vcall(s, st, p2pdma_vfio_open,
		     "open: DMA ownership of the IOMMU group claimed (first open), device enabled: memory decode on, D0");
}

static int do_close(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return vcall(s, st, p2pdma_vfio_close,
		     "close: the last close disables the device and revokes its dma-bufs for good (registrations dropped)");
}

static int do_reset(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return vcall(s, st, p2pdma_vfio_reset,
		     "VFIO_DEVICE_RESET: to D0, revoke, function reset, restore if memory is enabled");
}

static int do_hot_reset(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	return vcall(s, st, p2pdma_vfio_hot_reset,
		     "VFIO_DEVICE_PCI_HOT_RESET: every function of the bus revoked, the bus reset, open and enabled ones restored");
}

static int do_low_power_exit(struct p2pdma_vfio_dev *v)
{
	return p2pdma_vfio_low_power_exit(v);
}

static int lp_entry(struct p2pdma_vfio_dev *v)
{
	return p2pdma_vfio_low_power_entry(v, false);
}

static int lp_entry_wakeup(struct p2pdma_vfio_dev *v)
{
	return p2pdma_vfio_low_power_entry(v, true);
}

static int do_low_power(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const char *a = p2pdma_scn_arg(st, 1);

	if (!strcmp(a, "enter"))
		return vcall(s, st, lp_entry, "LOW_POWER_ENTRY: revoked, then runtime suspend (D3hot)");
	if (!strcmp(a, "enter-wakeup"))
		return vcall(s, st, lp_entry_wakeup,
			     "LOW_POWER_ENTRY_WITH_WAKEUP: revoked, then runtime suspend (D3hot), a wake-up eventfd armed");
	if (!strcmp(a, "exit"))
		return vcall(s, st, do_low_power_exit, "LOW_POWER_EXIT: resumed, restored if memory is enabled");
	return p2pdma_scn_malformed(s, st, "vfio-low-power DEV enter|enter-wakeup|exit");
}

static int do_wake(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_vfio_dev *v;
	int ret = arg_vfio(s, st, &v);
	bool left;

	if (ret)
		return ret < 0 ? ret : 0;
	left = p2pdma_vfio_wake(v);
	p2pdma_scn_set(st, "woken", "%s", left ? "yes" : "no");
	p2pdma_scn_say(st, "%s", left ? "runtime resume by the wake-up eventfd: low power left, no restore" :
		       "nothing to wake (not in low power with a wake-up eventfd)");
	vstate(st, v);
	return 0;
}

static int do_command(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_vfio_dev *v;
	uint64_t cmd;
	int ret = arg_vfio(s, st, &v);

	if (ret)
		return ret < 0 ? ret : 0;
	if ((ret = p2pdma_scn_arg_u64(s, st, 1, &cmd)))
		return ret;
	if (cmd > 0xffff)
		return p2pdma_scn_malformed(s, st, "PCI_COMMAND is 16 bits");
	ret = p2pdma_vfio_write_command(v, (uint16_t)cmd);
	result(s, st, ret);
	if (!ret)
		p2pdma_scn_say(st, "config write PCI_COMMAND = 0x%04" PRIx64 ": memory decode %s%s", cmd,
			       cmd & 2 ? "set" : "clear (user BAR mmaps zapped, dma-bufs revoked)",
			       !(cmd & 2) && p2pdma_vfio_pci_dev(v)->is_vf ?
			       "; a VF decodes as its PF says (no_command_memory): memory stays enabled, restored at once" : "");
	vstate(st, v);
	return 0;
}

static int do_power(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	const char *a = p2pdma_scn_arg(st, 1);
	struct p2pdma_vfio_dev *v;
	int p, ret = arg_vfio(s, st, &v);

	if (ret)
		return ret < 0 ? ret : 0;
	for (p = 0; p < 5 && strcasecmp(power_names[p], a); p++)
		;
	if (p == 5)
		return p2pdma_scn_malformed(s, st, "'%s': D0, D1, D2, D3hot or D3cold", a);
	ret = p2pdma_vfio_set_power_state(v, (enum p2pdma_pci_power)p);
	result(s, st, ret);
	if (!ret)
		p2pdma_scn_say(st, "PMCSR write: %s", power_names[p]);
	vstate(st, v);
	return 0;
}

static int do_flr(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_vfio_dev *v;
	bool af = p2pdma_scn_argc(st) == 2;
	int ret = arg_vfio(s, st, &v);

	if (ret)
		return ret < 0 ? ret : 0;
	if (af && strcmp(p2pdma_scn_arg(st, 1), "af"))
		return p2pdma_scn_malformed(s, st, "vfio-flr DEV [af]");
	ret = p2pdma_vfio_initiate_flr(v, af);
	result(s, st, ret);
	if (!ret)
		p2pdma_scn_say(st, "config write: %s initiate FLR", af ? "Advanced Features" : "PCIe Device Control");
	vstate(st, v);
	return 0;
}

static int do_state(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_vfio_dev *v;
	int ret = arg_vfio(s, st, &v);

	if (ret)
		return ret < 0 ? ret : 0;
	vstate(st, v);
	return 0;
}

/* --- VFIO_DEVICE_FEATURE with raw fields --- */

#define MAX_RANGES 64
#define MAX_REQUEST (1 << 20)

struct request {
	uint64_t argsz, flags, region, open_flags, dflags, nr, readable;
	bool have_argsz, have_nr, have_readable;
	uint64_t r[MAX_RANGES][2];
	size_t nranges;
};

/* "GET|DMA_BUF", "O_RDWR|O_CLOEXEC", numbers. */
static int parse_flags(const char *v, uint64_t *out)
{
	static const struct { const char *name; uint64_t v; } names[] = {
		{ "GET", P2PDMA_VFIO_DEVICE_FEATURE_GET }, { "SET", P2PDMA_VFIO_DEVICE_FEATURE_SET },
		{ "PROBE", P2PDMA_VFIO_DEVICE_FEATURE_PROBE },
		{ "DMA_BUF", P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF },
		{ "O_RDONLY", P2PDMA_O_RDONLY }, { "O_WRONLY", P2PDMA_O_WRONLY },
		{ "O_RDWR", P2PDMA_O_RDWR }, { "O_CLOEXEC", P2PDMA_O_CLOEXEC },
		{ "O_NONBLOCK", P2PDMA_O_NONBLOCK },
	};
	char tok[64];

	*out = 0;
	while (*v) {
		size_t n = strcspn(v, "|"), i;
		uint64_t x;

		if (!n || n >= sizeof(tok))
			return -EINVAL;
		memcpy(tok, v, n);
		tok[n] = '\0';
		for (i = 0; i < sizeof(names) / sizeof(names[0]) && strcmp(names[i].name, tok); i++)
			;
		if (i < sizeof(names) / sizeof(names[0]))
			*out |= names[i].v;
		else if (!p2pdma_scn_parse_u64(tok, &x))
			*out |= x;
		else
			return -EINVAL;
		v += n + (v[n] == '|');
	}
	return 0;
}

static int parse_ranges(const char *v, struct request *r)
{
	char tok[96];

	while (*v) {
		size_t n = strcspn(v, ",");

		if (!n || n >= sizeof(tok) || r->nranges == MAX_RANGES)
			return -EINVAL;
		memcpy(tok, v, n);
		tok[n] = '\0';
		if (parse_range(tok, &r->r[r->nranges][0], &r->r[r->nranges][1]))
			return -EINVAL;
		r->nranges++;
		v += n + (v[n] == ',');
	}
	return 0;
}

static int parse_request(struct p2pdma_scn *s, struct p2pdma_scenario_step *st, struct request *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->flags = P2PDMA_VFIO_DEVICE_FEATURE_GET | P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF;
	r->open_flags = P2PDMA_O_RDWR | P2PDMA_O_CLOEXEC;
	for (i = 1; i < p2pdma_scn_argc(st); i++) {
		const char *a = p2pdma_scn_arg(st, i), *eq = strchr(a, '=');
		size_t kn = eq ? (size_t)(eq - a) : 0;
		int bad;

#define KEY(k) (kn == strlen(k) && !strncmp(a, k, kn))
		if (!eq)
			bad = -1;
		else if (KEY("argsz"))
			bad = p2pdma_scn_parse_u64(eq + 1, &r->argsz), r->have_argsz = true;
		else if (KEY("flags"))
			bad = parse_flags(eq + 1, &r->flags);
		else if (KEY("region"))
			bad = p2pdma_scn_parse_u64(eq + 1, &r->region);
		else if (KEY("open_flags"))
			bad = parse_flags(eq + 1, &r->open_flags);
		else if (KEY("dmabuf_flags"))
			bad = p2pdma_scn_parse_u64(eq + 1, &r->dflags);
		else if (KEY("nr_ranges"))
			bad = p2pdma_scn_parse_u64(eq + 1, &r->nr), r->have_nr = true;
		else if (KEY("ranges"))
			bad = parse_ranges(eq + 1, r);
		else if (KEY("readable"))
			bad = p2pdma_scn_parse_u64(eq + 1, &r->readable), r->have_readable = true;
		else
			bad = -1;
#undef KEY
		if (bad)
			return p2pdma_scn_malformed(s, st, "'%s': argsz= flags= region= open_flags= dmabuf_flags= nr_ranges= ranges=OFF:LEN,... readable=",
						    a);
	}
	if (r->argsz > UINT32_MAX || r->flags > UINT32_MAX || r->region > UINT32_MAX ||
	    r->open_flags > UINT32_MAX || r->dflags > UINT32_MAX || r->nr > UINT32_MAX)
		return p2pdma_scn_malformed(s, st, "the fields are 32 bits");
	if (r->have_readable && r->readable > MAX_REQUEST)
		return p2pdma_scn_malformed(s, st, "at most %d readable bytes", MAX_REQUEST);
	return 0;
}

static void put32(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The user buffer: struct vfio_device_feature, the dma_buf header, the ranges. */
static uint8_t *build(const struct request *r, size_t *readable)
{
	size_t len = 24 + 16 * r->nranges, i;
	size_t n = r->have_readable ? (size_t)r->readable : len;
	uint8_t *b = calloc(1, n > len ? n : len);

	if (!b)
		return NULL;
	put32(b, r->have_argsz ? r->argsz : len);
	put32(b + 4, r->flags);
	put32(b + 8, r->region);
	put32(b + 12, r->open_flags);
	put32(b + 16, r->dflags);
	put32(b + 20, r->have_nr ? r->nr : r->nranges);
	for (i = 0; i < r->nranges; i++) {
		put32(b + 24 + 16 * i, r->r[i][0]);
		put32(b + 28 + 16 * i, r->r[i][0] >> 32);
		put32(b + 32 + 16 * i, r->r[i][1]);
		put32(b + 36 + 16 * i, r->r[i][1] >> 32);
	}
	*readable = n;
	return b;
}

static void say_exported(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
			 struct p2pdma_vfio_dev *v, int fd, const struct request *r)
{
	struct p2pdma_dmabuf *buf;
	uint64_t pa, len;
	size_t i;

	if (p2pdma_dmabuf_get(p2pdma_scn_kernel(s), fd, &buf))
		return;
	p2pdma_scn_set(st, "fd", "%d", fd);
	p2pdma_scn_set(st, "size", "%" PRIu64, p2pdma_dmabuf_size(buf));
	p2pdma_scn_set(st, "revoked", "%s", p2pdma_dmabuf_revoked(buf) ? "yes" : "no");
	p2pdma_scn_say(st, "VFIO_DEVICE_FEATURE(GET|DMA_BUF) on %s, region %" PRIu64 ": dma-buf fd %d, %" PRIu64 " bytes, exporter %s, %s",
		       p2pdma_vfio_pci_dev(v)->name, r->region, fd, p2pdma_dmabuf_size(buf),
		       p2pdma_dmabuf_exp_name(buf), p2pdma_dmabuf_revoked(buf) ?
		       "starts REVOKED (memory is not enabled)" : "live");
	for (i = 0; !p2pdma_vfio_dmabuf_range(buf, i, &pa, &len); i++)
		if (i < 8)
			p2pdma_scn_say(st, "  range %zu: phys %#" PRIx64 " + %#" PRIx64, i, pa, len);
	p2pdma_scn_set(st, "ranges", "%zu", i);
	p2pdma_dmabuf_put(buf);
}

static int do_feature(struct p2pdma_scn *s, struct p2pdma_scenario_step *st)
{
	struct p2pdma_vfio_dev *v;
	struct request r;
	size_t readable;
	uint8_t *b;
	int ret = parse_request(s, st, &r);

	if (ret || (ret = arg_vfio(s, st, &v)))
		return ret < 0 ? ret : 0;
	b = build(&r, &readable);
	if (!b)
		return p2pdma_err(p2pdma_scn_ctx(s), -ENOMEM, "out of memory");
	ret = p2pdma_vfio_device_feature(v, b, readable);
	free(b);
	result(s, st, ret);
	if (ret < 0)
		return 0;
	if (!(r.flags & P2PDMA_VFIO_DEVICE_FEATURE_GET) || (r.flags & P2PDMA_VFIO_DEVICE_FEATURE_PROBE)) {
		p2pdma_scn_say(st, "VFIO_DEVICE_FEATURE(PROBE|GET|DMA_BUF) = 0: the feature is supported, nothing exported");
		return 0;
	}
	say_exported(s, st, v, ret, &r);
	vstate(st, v);
	return p2pdma_scn_dmabuf_add_fd(s, st, ret);
}

/* expect reason TEXT: the failing check's message contains TEXT. */
static bool check_reason(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st,
			 char **argv, int argc, char *why, size_t len)
{
	const char *got = p2pdma_scn_get(st, "reason");

	(void)s;
	(void)argc;
	if (got && strstr(got, argv[0]))
		return true;
	snprintf(why, len, "reason: %s", got ? got : "(none: the request succeeded)");
	return false;
}

static const struct p2pdma_scn_verb verbs[] = {
	{ "vfio-bind", "vfio-bind BDF [nvgrace usemem=PHYS:LEN [resmem=PHYS:LEN]] [mlx5] [no-flr] [noiommu] [as NAME]",
	  1, 7, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_bind },
	{ "vfio-unbind", "vfio-unbind DEV", 1, 1, P2PDMA_SCN_KERNEL, do_unbind },
	{ "vfio-open", "vfio-open DEV", 1, 1, P2PDMA_SCN_KERNEL, do_open },
	{ "vfio-close", "vfio-close DEV", 1, 1, P2PDMA_SCN_KERNEL, do_close },
	{ "vfio-feature", "vfio-feature DEV [argsz=N] [flags=GET|DMA_BUF] [region=N] [open_flags=O_RDWR|O_CLOEXEC] [dmabuf_flags=N] [nr_ranges=N] [ranges=OFF:LEN,...] [readable=N] [as NAME]",
	  1, 9, P2PDMA_SCN_KERNEL | P2PDMA_SCN_AS, do_feature },
	{ "vfio-command", "vfio-command DEV VALUE", 2, 2, P2PDMA_SCN_KERNEL, do_command },
	{ "vfio-power", "vfio-power DEV D0|D1|D2|D3hot|D3cold", 2, 2, P2PDMA_SCN_KERNEL, do_power },
	{ "vfio-flr", "vfio-flr DEV [af]", 1, 2, P2PDMA_SCN_KERNEL, do_flr },
	{ "vfio-reset", "vfio-reset DEV", 1, 1, P2PDMA_SCN_KERNEL, do_reset },
	{ "vfio-hot-reset", "vfio-hot-reset DEV", 1, 1, P2PDMA_SCN_KERNEL, do_hot_reset },
	{ "vfio-low-power", "vfio-low-power DEV enter|enter-wakeup|exit", 2, 2, P2PDMA_SCN_KERNEL, do_low_power },
	{ "vfio-wake", "vfio-wake DEV", 1, 1, P2PDMA_SCN_KERNEL, do_wake },
	{ "vfio", "vfio DEV", 1, 1, P2PDMA_SCN_KERNEL, do_state },
};

static const struct p2pdma_scn_expect_kind expects[] = {
	{ "reason", 1, 1, check_reason },
};

const struct p2pdma_scn_layer p2pdma_scn_layer_vfio = {
	"vfio", verbs, sizeof(verbs) / sizeof(verbs[0]), expects,
	sizeof(expects) / sizeof(expects[0]), NULL, NULL, NULL, NULL,
};
