// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-vfio.c - p2pdma vfio: explain a VFIO_DEVICE_FEATURE_DMA_BUF request, or make the real call */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli-verdict.h"

static const char vfio_help[] =
"Usage: p2pdma [SOURCE] [POLICY] vfio explain [--json] DEVICE (--hex BYTES | --fields SPEC)\n"
"              [--nvgrace USEMEM_PHYS:LEN] [--memory-off] [--d3] [--noiommu]\n"
"              [--translated]\n"
"       p2pdma vfio probe DEVICE\n"
"       p2pdma vfio export DEVICE (--hex BYTES | --fields SPEC)\n"
"\n"
"VFIO dma-buf export of MMIO regions (VFIO_DEVICE_FEATURE_DMA_BUF, Linux\n"
"6.19; doc/vfio.md).\n"
"\n"
"explain: the request as a VMM sends it, on the loaded machine and kernel\n"
"  (--kernel; before 6.19 the kernel answers ENOTTY): DEVICE is modelled\n"
"  bound to vfio-pci and open, and every check the kernel applies is shown\n"
"  in its order, the first failing one with its errno and why. For a valid\n"
"  request, what an importer on every other function gets at map: bus\n"
"  addresses through a switch, an IOVA span through its IOMMU, physical\n"
"  addresses, or a refusal with the reason.\n"
"probe: on this machine, open DEVICE (bound to vfio-pci) and ask whether\n"
"  its kernel can export (PROBE); a failure is explained.\n"
"export: on this machine, make the real call; on failure the model of this\n"
"  machine says which check failed.\n"
"\n"
"The request:\n"
"  --hex BYTES     the ioctl argument as bytes: \"38 00 00 00 0b 00 01 00 ...\",\n"
"                  \"0x38,0x00,...\", \"\\x38\\x00...\" or one hex string\n"
"  --fields SPEC   the structure's fields, as strace prints them or as\n"
"                  key=value: argsz, flags (GET|DMA_BUF, numbers), region_index,\n"
"                  open_flags (O_RDWR|O_CLOEXEC), flags (the second one: the\n"
"                  dma-buf flags), nr_ranges, and dma_ranges=[{offset=,length=},...]\n"
"                  or ranges=OFF:LEN;OFF:LEN. argsz and nr_ranges default to\n"
"                  what the ranges given make; the buffer holds what is given.\n"
"The device's state (explain):\n"
"  --nvgrace P:L   bind nvgrace-gpu-vfio-pci, device memory (USEMEM, region 4)\n"
"                  of L bytes at physical address P\n"
"  --memory-off    the VMM cleared PCI_COMMAND memory decode\n"
"  --d3            the device is in D3hot\n"
"  --noiommu       vfio.enable_unsafe_noiommu_mode=1 (no IOMMU group needed)\n"
"  --translated    the importers' IOMMU groups are in translating DMA domains\n"
"                  (default: the machine's command line; iommu=pt is passthrough)\n"
"\n"
"Exit status: 0 the request succeeds, 1 the kernel refuses it, 2 bad input.\n"
"\n"
"Examples:\n"
"  p2pdma --example xeon-8gpu --kernel 6.19 vfio explain 18:00.0 \\\n"
"      --fields 'argsz=40, flags=GET|DMA_BUF, region_index=1, open_flags=O_RDWR, nr_ranges=1, dma_ranges=[{offset=0, length=0x200000}]'\n"
"  p2pdma vfio probe 0000:41:00.0\n";

/* --- the request --- */

struct request {
	uint8_t *b;
	size_t len;
};

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/*
 * The bytes of a request: "\x38\x00..." (strace), tokens of one or two hex
 * digits separated by anything else ("38 00 0b", "0x38,0x00"), or one run of
 * hex digit pairs ("38000000...").
 */
static int parse_hex(const char *s, struct request *r)
{
	size_t n = strlen(s);
	const char *p = s;
	bool tokens = strpbrk(s, " ,:;\t\n\\") || strstr(s, "0x") || strstr(s, "0X");

	r->b = malloc(n / 2 + 1);
	if (!r->b)
		return cli_error("out of memory");
	r->len = 0;
	while (*p) {
		int digits = 0, v = 0;

		if (tokens) {
			while (*p && !isxdigit((unsigned char)*p))
				p += *p == '\\' && (p[1] == 'x' || p[1] == 'X') ? 2 : 1;
			if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
				p += 2;
			while (isxdigit((unsigned char)*p) && digits < 2) {
				v = v * 16 + hexval((unsigned char)*p++);
				digits++;
			}
			if (!digits)
				break;
			if (isxdigit((unsigned char)*p) && !strstr(s, "\\x"))
				return cli_error("--hex: '%.6s' is more than one byte (separate the bytes)", p - 2);
		} else {
			if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
				return cli_error("--hex: an even number of hex digits, got '%s'", s);
			v = hexval((unsigned char)p[0]) * 16 + hexval((unsigned char)p[1]);
			p += 2;
		}
		r->b[r->len++] = (uint8_t)v;
	}
	if (!r->len)
		return cli_error("--hex: no bytes in '%s'", s);
	return 0;
}

static bool word(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !strncasecmp(s, w, n);
}

/* "GET|DMA_BUF", "0x1000b", "O_RDWR|O_CLOEXEC": numbers and known names. */
static int parse_flags(const char *s, size_t n, uint64_t *out)
{
	static const struct { const char *name; uint64_t v; } names[] = {
		{ "VFIO_DEVICE_FEATURE_GET", P2PDMA_VFIO_DEVICE_FEATURE_GET },
		{ "VFIO_DEVICE_FEATURE_SET", P2PDMA_VFIO_DEVICE_FEATURE_SET },
		{ "VFIO_DEVICE_FEATURE_PROBE", P2PDMA_VFIO_DEVICE_FEATURE_PROBE },
		{ "VFIO_DEVICE_FEATURE_DMA_BUF", P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF },
		{ "GET", P2PDMA_VFIO_DEVICE_FEATURE_GET },
		{ "SET", P2PDMA_VFIO_DEVICE_FEATURE_SET },
		{ "PROBE", P2PDMA_VFIO_DEVICE_FEATURE_PROBE },
		{ "DMA_BUF", P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF },
		{ "O_RDONLY", P2PDMA_O_RDONLY }, { "O_WRONLY", P2PDMA_O_WRONLY },
		{ "O_RDWR", P2PDMA_O_RDWR }, { "O_CLOEXEC", P2PDMA_O_CLOEXEC },
		{ "O_NONBLOCK", P2PDMA_O_NONBLOCK },
	};
	uint64_t v = 0;

	while (n) {
		size_t t = 0, i;

		while (t < n && s[t] != '|')
			t++;
		while (t && isspace((unsigned char)s[t - 1]))
			t--;
		if (t && (isdigit((unsigned char)s[0]))) {
			char num[32], *end;

			if (t >= sizeof(num))
				return -EINVAL;
			memcpy(num, s, t);
			num[t] = 0;
			errno = 0;
			v |= strtoull(num, &end, 0);
			if (errno || *end)
				return -EINVAL;
		} else {
			for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				if (word(s, t, names[i].name))
					break;
			if (i == sizeof(names) / sizeof(names[0]))
				return -EINVAL;
			v |= names[i].v;
		}
		while (t < n && s[t] != '|')
			t++;
		if (t < n)
			t++;
		while (t < n && isspace((unsigned char)s[t]))
			t++;
		s += t;
		n -= t;
	}
	*out = v;
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

#define MAX_RANGES 4096

/* key=value pairs, strace's {argsz=..., flags=..., dma_ranges=[{...}]} too. */
static int parse_fields(const char *s, struct request *r)
{
	uint64_t argsz = 0, flags = P2PDMA_VFIO_DEVICE_FEATURE_GET | P2PDMA_VFIO_DEVICE_FEATURE_DMA_BUF;
	uint64_t region = 0, open_flags = P2PDMA_O_RDWR, dflags = 0, nr = 0, v;
	bool have_argsz = false, have_nr = false, seen_region = false;
	uint64_t (*rg)[2] = calloc(MAX_RANGES, sizeof(*rg));
	size_t nrg = 0, i;
	const char *p = s;

	if (!rg)
		return cli_error("out of memory");
	while (*p) {
		const char *k, *val, *e;
		size_t kn, vn;

		while (*p && !isalpha((unsigned char)*p) && *p != '_')
			p++;
		if (!*p)
			break;
		k = p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		kn = (size_t)(p - k);
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=' && *p != ':')
			continue;	/* strace's "ioctl(7, VFIO_DEVICE_FEATURE, {": not a field */
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (word(k, kn, "dma_ranges") || word(k, kn, "ranges")) {
			/* [{offset=A, length=B}, ...] or A:B;A:B */
			while (*p && *p != '}' ) {
				uint64_t off, len;
				char *end;

				while (*p && !isdigit((unsigned char)*p) && *p != ']' && *p != '}')
					p++;
				if (!*p || *p == ']' || *p == '}')
					break;
				off = strtoull(p, &end, 0);
				p = end;
				while (*p && !isdigit((unsigned char)*p))
					p++;
				if (!*p) {
					free(rg);
					return cli_error("--fields: a range without its length");
				}
				len = strtoull(p, &end, 0);
				p = end;
				if (nrg == MAX_RANGES) {
					free(rg);
					return cli_error("--fields: more than %d ranges", MAX_RANGES);
				}
				rg[nrg][0] = off;
				rg[nrg++][1] = len;
				while (*p == '}' || isspace((unsigned char)*p))
					p++;
				if (*p == ']') {
					p++;
					break;
				}
				if (*p == ',' || *p == ';')
					p++;
				while (isspace((unsigned char)*p))
					p++;
				if (*p && *p != '{' && !isdigit((unsigned char)*p))
					break;
			}
			continue;
		}
		val = p;
		while (*p && *p != ',' && *p != '}' && *p != ' ')
			p++;
		/* "GET | DMA_BUF" with spaces around the bars. */
		while (*p == ' ' && p[1] == '|') {
			p += 2;
			while (*p == ' ')
				p++;
			while (*p && *p != ',' && *p != '}' && *p != ' ')
				p++;
		}
		vn = (size_t)(p - val);
		e = val;
		if (parse_flags(e, vn, &v)) {
			free(rg);
			return cli_error("--fields: %.*s=%.*s is not a number or known flag",
					 (int)kn, k, (int)vn, val);
		}
		if (word(k, kn, "argsz")) {
			argsz = v;
			have_argsz = true;
		} else if (word(k, kn, "flags")) {
			if (seen_region)
				dflags = v;
			else
				flags = v;
		} else if (word(k, kn, "region_index") || word(k, kn, "region")) {
			region = v;
			seen_region = true;
		} else if (word(k, kn, "open_flags")) {
			open_flags = v;
		} else if (word(k, kn, "dmabuf_flags") || word(k, kn, "dma_buf_flags")) {
			dflags = v;
		} else if (word(k, kn, "nr_ranges")) {
			nr = v;
			have_nr = true;
		} else if (!word(k, kn, "ioctl") && !word(k, kn, "data")) {
			free(rg);
			return cli_error("--fields: unknown field '%.*s'", (int)kn, k);
		}
	}
	r->len = 24 + 16 * nrg;
	r->b = calloc(1, r->len);
	if (!r->b) {
		free(rg);
		return cli_error("out of memory");
	}
	put32(r->b, (uint32_t)(have_argsz ? argsz : r->len));
	put32(r->b + 4, (uint32_t)flags);
	put32(r->b + 8, (uint32_t)region);
	put32(r->b + 12, (uint32_t)open_flags);
	put32(r->b + 16, (uint32_t)dflags);
	put32(r->b + 20, (uint32_t)(have_nr ? nr : nrg));
	for (i = 0; i < nrg; i++) {
		put32(r->b + 24 + 16 * i, (uint32_t)rg[i][0]);
		put32(r->b + 28 + 16 * i, (uint32_t)(rg[i][0] >> 32));
		put32(r->b + 32 + 16 * i, (uint32_t)rg[i][1]);
		put32(r->b + 36 + 16 * i, (uint32_t)(rg[i][1] >> 32));
	}
	free(rg);
	return 0;
}

static const char *errno_name(int err)
{
	static const struct { int e; const char *n; } t[] = {
		{ EINVAL, "EINVAL" }, { EFAULT, "EFAULT" }, { ENODEV, "ENODEV" },
		{ ENOMEM, "ENOMEM" }, { EOVERFLOW, "EOVERFLOW" }, { ENOTTY, "ENOTTY" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { EMFILE, "EMFILE" }, { EBADF, "EBADF" },
		{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { ENOSYS, "ENOSYS" }, { EACCES, "EACCES" },
		{ ENOENT, "ENOENT" }, { EPERM, "EPERM" },
	};
	size_t i;

	err = err < 0 ? -err : err;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == err)
			return t[i].n;
	return "E?";
}

/* The request as the kernel reads it (as far as the bytes go). */
static void print_request(struct cli *cli, const struct request *r)
{
	uint32_t nr, i;

	fprintf(cli->out, "request (%zu bytes):", r->len);
	if (r->len >= 8)
		fprintf(cli->out, " argsz %u, flags %#x (feature %u%s%s%s)", get32(r->b), get32(r->b + 4),
			get32(r->b + 4) & 0xffff,
			get32(r->b + 4) & P2PDMA_VFIO_DEVICE_FEATURE_GET ? ", GET" : "",
			get32(r->b + 4) & P2PDMA_VFIO_DEVICE_FEATURE_SET ? ", SET" : "",
			get32(r->b + 4) & P2PDMA_VFIO_DEVICE_FEATURE_PROBE ? ", PROBE" : "");
	if (r->len >= 24)
		fprintf(cli->out, ", region_index %u, open_flags %#x, flags %#x, nr_ranges %u",
			get32(r->b + 8), get32(r->b + 12), get32(r->b + 16), get32(r->b + 20));
	fputc('\n', cli->out);
	nr = r->len >= 24 ? get32(r->b + 20) : 0;
	for (i = 0; i < nr && 24 + 16 * (size_t)i + 16 <= r->len && i < 16; i++)
		fprintf(cli->out, "  range %u: offset %#" PRIx64 " length %#" PRIx64 "\n", i,
			get64(r->b + 24 + 16 * (size_t)i), get64(r->b + 32 + 16 * (size_t)i));
	if (nr > 16 && r->len >= 24 + 16 * 17)
		fprintf(cli->out, "  ... (%u ranges)\n", nr);
}

static int explain_json(struct cli *cli, const struct p2pdma_dev *d,
			const struct p2pdma_vfio_explain *ex, int ret)
{
	json_t *steps = json_array(), *notes = json_array(), *imps = json_array();
	size_t i;

	for (i = 0; i < p2pdma_vfio_explain_num_steps(ex); i++) {
		int err;
		const char *t = p2pdma_vfio_explain_step(ex, i, &err);

		json_array_append_new(steps, json_pack("{s:s, s:s}", "check", t,
						       "result", err ? errno_name(err) : "ok"));
	}
	for (i = 0; i < p2pdma_vfio_explain_num_notes(ex); i++)
		json_array_append_new(notes, json_string(p2pdma_vfio_explain_note(ex, i)));
	for (i = 0; i < p2pdma_vfio_explain_num_importers(ex); i++) {
		const struct p2pdma_dev *id;
		enum p2pdma_map_type t;
		int err;
		const char *text = p2pdma_vfio_explain_importer(ex, i, &id, &t, &err);

		json_array_append_new(imps, json_pack("{s:s, s:s, s:s, s:s}", "device",
						      id ? p2pdma_dev_name(id) : "",
						      "map_type", p2pdma_map_type_name(t),
						      "map", err ? errno_name(err) : "ok", "text", text));
	}
	return cli_print_json(cli, json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o}",
					     "device", p2pdma_dev_name(d),
					     "kernel", p2pdma_policy_kernel(cli->pol),
					     "result", ret ? errno_name(ret) : "ok",
					     "errno", -ret,
					     "reason", p2pdma_vfio_explain_reason(ex),
					     "checks", steps, "notes", notes, "importers", imps));
}

static void explain_text(struct cli *cli, const struct p2pdma_vfio_explain *ex, int ret)
{
	size_t i;

	fprintf(cli->out, "the kernel's checks, in order:\n");
	for (i = 0; i < p2pdma_vfio_explain_num_steps(ex); i++) {
		int err;
		const char *t = p2pdma_vfio_explain_step(ex, i, &err);

		if (err)
			fprintf(cli->out, "  FAIL  %s -> %s\n", t, errno_name(err));
		else
			fprintf(cli->out, "  ok    %s\n", t);
	}
	if (ret)
		fprintf(cli->out, "result: %s (%d): %s\n", errno_name(ret), ret,
			p2pdma_vfio_explain_reason(ex));
	else
		fprintf(cli->out, "result: success%s\n",
			p2pdma_vfio_explain_num_importers(ex) ? ": a dma-buf descriptor" : "");
	for (i = 0; i < p2pdma_vfio_explain_num_notes(ex); i++)
		fprintf(cli->out, "note: %s\n", p2pdma_vfio_explain_note(ex, i));
	if (p2pdma_vfio_explain_num_importers(ex))
		fprintf(cli->out, "an importer (dynamic, peer-to-peer) on each other function, at map:\n");
	/* Functions with the same outcome on one line. */
	for (i = 0; i < p2pdma_vfio_explain_num_importers(ex); i++) {
		const char *t = p2pdma_vfio_explain_importer(ex, i, NULL, NULL, NULL);
		const char *rest = strstr(t, ": ");
		char line[4096];
		size_t j, off, n = 0;

		for (j = 0; j < i; j++) {
			const char *u = strstr(p2pdma_vfio_explain_importer(ex, j, NULL, NULL, NULL), ": ");

			if (rest && u && !strcmp(u, rest))
				break;
		}
		if (j < i)
			continue;	/* printed with an earlier one */
		off = (size_t)snprintf(line, sizeof(line), "%.*s", (int)(rest ? rest - t : 0), t);
		for (j = i + 1; j < p2pdma_vfio_explain_num_importers(ex); j++) {
			const char *u = p2pdma_vfio_explain_importer(ex, j, NULL, NULL, NULL);
			const char *ur = strstr(u, ": ");

			if (!rest || !ur || strcmp(ur, rest))
				continue;
			if (++n <= 6 && off < sizeof(line))
				off += (size_t)snprintf(line + off, sizeof(line) - off, ", %.*s",
							(int)(ur - u), u);
		}
		if (n > 6 && off < sizeof(line))
			off += (size_t)snprintf(line + off, sizeof(line) - off, " and %zu more", n - 6);
		if (off < sizeof(line))
			snprintf(line + off, sizeof(line) - off, "%s", rest ? rest : t);
		cli_para(cli, "  ", "      ", line);
	}
}

static int do_explain(struct cli *cli, const struct p2pdma_dev *d, const struct request *r,
		      const struct p2pdma_vfio_bind_opts *o, bool memory_off, bool d3)
{
	struct p2pdma_vfio_bind_opts opts = *o;
	struct p2pdma_vfio_explain *ex = NULL;
	struct p2pdma_vfio_dev *v;
	char viable[512] = "";
	int ret;

	if (p2pdma_kernel_driver(cli->k, d) && p2pdma_kernel_unbind(cli->k, d))
		return cli_error("%s", p2pdma_ctx_error(cli->ctx));
	if (p2pdma_dma_default_domain_type(cli->k) == P2PDMA_DOMAIN_NONE && !opts.noiommu) {
		snprintf(viable, sizeof(viable),
			 "the machine has no IOMMU: vfio-pci binds only with vfio.enable_unsafe_noiommu_mode=1 (assumed)");
		opts.noiommu = true;
	}
	if (p2pdma_vfio_bind(cli->k, d, &opts, &v))
		return cli_error("%s", p2pdma_ctx_error(cli->ctx));
	if (p2pdma_vfio_open(v)) {
		/* Say why the VMM could not open it, then explain as if it had. */
		snprintf(viable, sizeof(viable), "%s; explained as if the group were viable",
			 p2pdma_ctx_error(cli->ctx));
		p2pdma_vfio_unbind(v);
		opts.noiommu = true;
		if (p2pdma_vfio_bind(cli->k, d, &opts, &v) || p2pdma_vfio_open(v))
			return cli_error("%s", p2pdma_ctx_error(cli->ctx));
	}
	if (memory_off)
		p2pdma_vfio_write_command(v, 0);
	if (d3)
		p2pdma_vfio_set_power_state(v, P2PDMA_PCI_D3HOT);
	if (p2pdma_vfio_explain_create(&ex))
		return cli_error("out of memory");
	ret = p2pdma_vfio_explain(v, r->b, r->len, ex);
	if (ret == -ENOMEM && !p2pdma_vfio_explain_num_steps(ex)) {
		p2pdma_vfio_explain_destroy(ex);
		return cli_error("out of memory");
	}
	if (cli->json) {
		explain_json(cli, d, ex, ret);
	} else {
		fprintf(cli->out, "VFIO_DEVICE_FEATURE on %s (%s), kernel %s%s%s\n", p2pdma_dev_name(d),
			p2pdma_kernel_driver(cli->k, d), p2pdma_policy_kernel(cli->pol),
			memory_off ? ", memory decode off" : "", d3 ? ", D3hot" : "");
		if (viable[0])
			fprintf(cli->out, "note: %s\n", viable);
		print_request(cli, r);
		explain_text(cli, ex, ret);
	}
	p2pdma_vfio_explain_destroy(ex);
	return ret ? 1 : 0;
}

/* The real calls: this machine's kernel. */
static int do_real(struct cli *cli, const char *bdf, const struct request *r, bool probe)
{
	struct p2pdma_vfio_real *rv;
	struct p2pdma_vfio_explain *ex;
	int ret;

	ret = p2pdma_vfio_real_open(cli->ctx, "/", bdf, &rv);
	if (ret) {
		fprintf(cli->out, "%s: cannot open the VFIO device: %s\n", bdf, p2pdma_ctx_error(cli->ctx));
		return 1;
	}
	ret = probe ? p2pdma_vfio_real_probe(rv) : p2pdma_vfio_real_feature(rv, r->b, r->len);
	if (ret >= 0) {
		if (probe)
			fprintf(cli->out, "%s: this kernel exports dma-bufs of VFIO MMIO (PROBE answered 0)\n", bdf);
		else
			fprintf(cli->out, "%s: exported: dma-buf descriptor %d\n", bdf, ret);
		p2pdma_vfio_real_close(rv);
		return 0;
	}
	fprintf(cli->out, "%s: %s\n", bdf, p2pdma_ctx_error(cli->ctx));
	p2pdma_vfio_real_close(rv);
	if (probe || ret == -ENOTTY)
		return 1;
	/* What the model of this machine says. */
	if (p2pdma_vfio_explain_create(&ex))
		return 1;
	ret = p2pdma_vfio_real_explain(cli->ctx, "/", bdf, r->b, r->len, ret, ex);
	if (ret == 0 || ret == -EDOM) {
		fprintf(cli->out, "%s the model of this machine:\n",
			ret ? "the kernel's answer differs from" : "explained by");
		explain_text(cli, ex, p2pdma_vfio_explain_result(ex));
	} else {
		fprintf(cli->out, "no model of this machine: %s\n", p2pdma_ctx_error(cli->ctx));
	}
	p2pdma_vfio_explain_destroy(ex);
	return 1;
}

int cmd_vfio(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hex", required_argument, NULL, 'x' },
		{ "fields", required_argument, NULL, 'f' },
		{ "nvgrace", required_argument, NULL, 'n' },
		{ "memory-off", no_argument, NULL, 'm' },
		{ "d3", no_argument, NULL, 'd' },
		{ "noiommu", no_argument, NULL, 'u' },
		{ "translated", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct p2pdma_vfio_bind_opts bo = { .size = sizeof(bo) };
	struct request r = { NULL, 0 };
	const char *hex = NULL, *fields = NULL, *sub;
	const struct p2pdma_dev *d;
	bool memory_off = false, d3 = false, translated = false;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'x': hex = optarg; break;
		case 'f': fields = optarg; break;
		case 'n': {
			char *end;

			bo.variant = P2PDMA_VFIO_NVGRACE;
			bo.usemem_phys = strtoull(optarg, &end, 0);
			if (*end != ':')
				return cli_error("--nvgrace wants PHYS:LEN, got '%s'", optarg);
			bo.usemem_len = strtoull(end + 1, &end, 0);
			if (*end || !bo.usemem_len)
				return cli_error("--nvgrace wants PHYS:LEN, got '%s'", optarg);
			break;
		}
		case 'm': memory_off = true; break;
		case 'd': d3 = true; break;
		case 'u': bo.noiommu = true; break;
		case 't': translated = true; break;
		case 'j': cli->json = true; break;
		case 'h':
			fputs(vfio_help, cli->out);
			return 0;
		default:
			fputs(vfio_help, stderr);
			return 2;
		}
	}
	if (optind + 2 != argc)
		return cli_error("vfio: want a subcommand (explain, probe, export) and a DEVICE (try 'p2pdma vfio --help')");
	sub = argv[optind];
	if (strcmp(sub, "explain") && strcmp(sub, "probe") && strcmp(sub, "export"))
		return cli_error("vfio: unknown subcommand '%s' (explain, probe, export)", sub);
	if (strcmp(sub, "probe")) {
		if (!hex == !fields)
			return cli_error("vfio %s: give the request with --hex or --fields", sub);
		ret = hex ? parse_hex(hex, &r) : parse_fields(fields, &r);
		if (ret) {
			free(r.b);
			return ret;
		}
	}
	if (!strcmp(sub, "explain")) {
		if (translated && p2pdma_dma_set_default_domain(cli->k, P2PDMA_DOMAIN_DMA)) {
			free(r.b);
			return cli_error("--translated: %s", p2pdma_ctx_error(cli->ctx));
		}
		d = cli_find_dev(cli, argv[optind + 1]);
		ret = d ? do_explain(cli, d, &r, &bo, memory_off, d3) : 2;
	} else {
		ret = do_real(cli, argv[optind + 1], &r, !strcmp(sub, "probe"));
	}
	free(r.b);
	return ret;
}
