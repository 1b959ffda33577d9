/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* acs-cmdline.c - pci=disable_acs_redir= and pci=config_acs= as the kernel parses them */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-private.h"

/*
 * Kernel command-line tokenising (kernel/params.c next_arg()): arguments
 * are separated by white space outside double quotes; a quote at the
 * start of the argument or of its value is dropped together with a
 * closing quote at the end. "--" ends the kernel's part of the line.
 * Then pci_setup() (drivers/pci/pci.c) splits each pci= value at ',' and
 * remembers the last disable_acs_redir= and config_acs= it saw.
 */
struct last_params {
	const char **redir;
	const char **config;
};

static void remember_last(void *data, const char *opt)
{
	struct last_params *lp = data;

	if (!strncmp(opt, "disable_acs_redir=", 18))
		*lp->redir = opt + 18;
	else if (!strncmp(opt, "config_acs=", 11))
		*lp->config = opt + 11;
}

int p2pdma_cmdline_pci_options(const char *cmdline, char *buf, size_t len,
			       void (*fn)(void *data, const char *opt),
			       void *data)
{
	size_t n;
	char *args;

	if (!cmdline)
		return 0;
	n = strlen(cmdline);
	if (n + 1 > len)
		return -EINVAL;
	memcpy(buf, cmdline, n + 1);
	args = buf;

	for (;;) {
		char *start, *val = NULL, *end;
		bool in_quote = false, quoted = false;
		size_t i, equals = 0;

		while (isspace((unsigned char)*args))
			args++;
		if (!*args)
			break;
		start = args;
		if (*start == '"') {
			start++;
			in_quote = quoted = true;
		}
		for (i = 0; start[i]; i++) {
			if (isspace((unsigned char)start[i]) && !in_quote)
				break;
			if (!equals && start[i] == '=')
				equals = i;
			if (start[i] == '"')
				in_quote = !in_quote;
		}
		/* The kernel takes the rest of the line; we call it an error. */
		if (in_quote)
			return -EINVAL;
		end = start + i;
		args = *end ? end + 1 : end;
		*end = '\0';
		if (quoted && i && start[i - 1] == '"')
			start[i - 1] = '\0';
		if (equals) {
			start[equals] = '\0';
			val = start + equals + 1;
			if (*val == '"') {
				size_t vl;

				val++;
				vl = strlen(val);
				if (vl && val[vl - 1] == '"')
					val[vl - 1] = '\0';
			}
		}
		if (!strcmp(start, "--"))
			break;
		if (val && !strcmp(start, "pci")) {
			/* pci_setup(): the value splits at every ','. */
			char *opt = val, *k;

			while (opt) {
				k = strchr(opt, ',');
				if (k)
					*k++ = '\0';
				if (*opt)
					fn(data, opt);
				opt = k;
			}
		}
	}
	return 0;
}

int p2pdma_cmdline_pci_params(const char *cmdline, char *buf, size_t len,
			      const char **redir, const char **config)
{
	struct last_params lp = { redir, config };

	*redir = NULL;
	*config = NULL;
	return p2pdma_cmdline_pci_options(cmdline, buf, len, remember_last, &lp);
}

/*
 * The kernel's sscanf("%x") as the spec formats use it: optional leading
 * white space and sign-less hex digits with an optional 0x; at least one
 * digit. Returns the number of characters used, 0 if none.
 */
static size_t scan_hex(const char *s, unsigned long long *v)
{
	const char *p = s;
	unsigned long long x = 0;
	const char *digits;

	while (isspace((unsigned char)*p))
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    isxdigit((unsigned char)p[2]))
		p += 2;
	digits = p;
	while (isxdigit((unsigned char)*p)) {
		int d = isdigit((unsigned char)*p) ? *p - '0' :
			tolower((unsigned char)*p) - 'a' + 10;

		x = x * 16 + (unsigned long long)d;
		p++;
	}
	if (p == digits)
		return 0;
	*v = x;
	return (size_t)(p - s);
}

/*
 * sscanf(s, "%x:%x:%x.%x%c") / "%x:%x.%x%c" style matcher: @fmt is a
 * string of 'x' (hex number) and literal characters; returns how many
 * numbers were converted before the first mismatch, plus one if a
 * character follows the last conversion (the "%c").
 */
static int scan_fmt(const char *s, const char *fmt, unsigned long long *out)
{
	int n = 0;

	for (; *fmt; fmt++) {
		if (*fmt == 'x') {
			size_t used = scan_hex(s, &out[n]);

			if (!used)
				return n;
			s += used;
			n++;
		} else {
			if (*s != *fmt)
				return n;
			s++;
		}
	}
	return *s ? n + 1 : n;
}

/*
 * pci_dev_str_match_path(): "[<domain>:]<bus>:<dev>.<fn>[/<dev>.<fn>]*".
 * The spec runs to the next ';' (a ',' does not end it). Hops are checked
 * from the last one up: the last must be @dev's devfn, each earlier one
 * the devfn of the next pci_upstream_bridge(); the leading address must
 * then name the device reached.
 */
static int str_match_path(const struct p2pdma_dev *dev, const char *path,
			  const char **endptr)
{
	const char *stop = strchr(path, ';');
	size_t n = stop ? (size_t)(stop - path) : strlen(path);
	char *w, *slash;
	unsigned long long v[5];
	int ret;

	*endptr = path + n;
	w = malloc(n + 1);
	if (!w)
		return -ENOMEM;
	memcpy(w, path, n);
	w[n] = '\0';

	while ((slash = strrchr(w, '/'))) {
		if (scan_fmt(slash, "/x.x", v) != 2) {
			ret = -EINVAL;
			goto out;
		}
		if (v[0] > 0x1f || v[1] > 7 ||
		    dev->devfn != (uint8_t)((v[0] << 3) | v[1])) {
			ret = 0;
			goto out;
		}
		dev = dev->upstream;
		if (!dev) {
			ret = 0;
			goto out;
		}
		*slash = '\0';
	}

	if (scan_fmt(w, "x:x:x.x", v) != 4) {
		unsigned long long b[4];

		if (scan_fmt(w, "x:x.x", b) != 3) {
			ret = -EINVAL;
			goto out;
		}
		v[0] = 0;
		v[1] = b[0];
		v[2] = b[1];
		v[3] = b[2];
	}
	/* PCI_DEVFN(slot, func) keeps slot & 0x1f and func & 7. */
	ret = v[0] == dev->domain && v[1] == dev->bus &&
	      dev->devfn == (uint8_t)(((v[2] & 0x1f) << 3) | (v[3] & 7));
out:
	free(w);
	return ret;
}

int p2pdma_dev_str_match(const struct p2pdma_dev *dev, const char *p,
			 const char **endptr)
{
	int ret;

	if (!strncmp(p, "pci:", 4)) {
		/*
		 * "pci:<vendor>:<device>[:<subvendor>:<subdevice>]", %hx: values
		 * are cut to 16 bits; 0 is a wildcard. "%n" leaves p right
		 * after the IDs, so a ',' or ';' may follow.
		 */
		unsigned long long v[4];
		const char *s = p + 4;
		const char *q = s;
		int i, got = 0;

		for (i = 0; i < 4; i++) {
			size_t used;

			if (i) {
				if (*q != ':')
					break;
				q++;
			}
			used = scan_hex(q, &v[i]);
			if (!used)
				break;
			q += used;
			got++;
			if (i == 1)
				s = q;	/* end of the two-field form */
		}
		if (got == 4) {
			s = q;
		} else if (got >= 2) {
			v[2] = 0;
			v[3] = 0;
		} else {
			return -EINVAL;
		}
		for (i = 0; i < 4; i++)
			v[i] &= 0xffff;
		*endptr = s;
		return (!v[0] || v[0] == dev->vendor) &&
		       (!v[1] || v[1] == dev->device) &&
		       (!v[2] || v[2] == dev->subvendor) &&
		       (!v[3] || v[3] == dev->subdevice);
	}
	ret = str_match_path(dev, p, endptr);
	return ret;
}

static void acs_log(const struct p2pdma_acs_log *log,
		    const struct p2pdma_dev *dev, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);

static void acs_log(const struct p2pdma_acs_log *log,
		    const struct p2pdma_dev *dev, const char *fmt, ...)
{
	char text[512];
	size_t off = 0;
	va_list ap;

	if (!log || !log->line)
		return;
	/* pci_info()/pci_err() at enumeration: no driver bound, so "pci". */
	if (dev)
		off = (size_t)snprintf(text, sizeof(text), "pci %04x:%02x:%02x.%d: ",
				       (unsigned int)dev->domain, dev->bus,
				       dev->devfn >> 3, dev->devfn & 7);
	va_start(ap, fmt);
	vsnprintf(text + off, sizeof(text) - off, fmt, ap);
	va_end(ap);
	log->line(log->data, text);
}

static bool warn_once(const struct p2pdma_acs_log *log)
{
	if (!log || !log->warned_once)
		return true;
	if (*log->warned_once)
		return false;
	*log->warned_once = true;
	return true;
}

/* Bits __pci_config_acs() accepts (doc/kernel-model.md §2.7, §A). */
#define ACS_DEFINED (P2PDMA_ACS_SV | P2PDMA_ACS_TB | P2PDMA_ACS_RR | \
		     P2PDMA_ACS_CR | P2PDMA_ACS_UF | P2PDMA_ACS_EC | \
		     P2PDMA_ACS_DT)

bool p2pdma_config_acs(enum p2pdma_acs_cmdline_era era,
		       const struct p2pdma_dev *dev, uint16_t *ctrl,
		       uint16_t fw_ctrl, const char *p, uint16_t acs_mask,
		       uint16_t acs_flags, const struct p2pdma_acs_log *log,
		       char *matched, size_t mlen)
{
	uint16_t mask = acs_mask, flags = acs_flags;
	const char *entry;
	int ret = 0;

	if (matched && mlen)
		matched[0] = '\0';
	if (!p)
		return false;

	while (*p) {
		entry = p;
		/*
		 * config_acs: each entry starts "<flags>@". 6.11-6.14 test the
		 * running mask here, so once the first entry set it, later
		 * entries are taken as device specs, flags and all (the bug
		 * 9cf8a952d57b fixed).
		 */
		if (era == P2PDMA_ACS_CMDLINE_CONFIG_6_15 ? !acs_mask : !mask) {
			const char *delimit = strchr(p, '@');
			long end;
			unsigned int shift = 0;

			if (!delimit) {
				acs_log(log, dev, "ACS Flags missing");
				return false;
			}
			end = (long)(delimit - p) - 1;
			if (era == P2PDMA_ACS_CMDLINE_CONFIG_6_15) {
				mask = 0;
				flags = 0;
			}
			/* Read right to left: the last character is bit 0. */
			while (end > -1) {
				uint16_t bit = shift < 16 ? (uint16_t)(1u << shift) : 0;
				char c = p[end];

				if (c == '0') {
					mask |= bit;
				} else if (c == '1') {
					mask |= bit;
					flags |= bit;
				} else if (c != 'x' && c != 'X') {
					acs_log(log, dev, "Invalid ACS flags... Ignoring");
					return false;
				}
				shift++;
				end--;
			}
			p = delimit + 1;
		}

		if (mask & ~ACS_DEFINED) {
			acs_log(log, dev, "Invalid ACS flags specified");
			return false;
		}

		ret = p2pdma_dev_str_match(dev, p, &p);
		if (ret < 0) {
			if (warn_once(log))
				acs_log(log, NULL, "PCI: Can't parse ACS command line parameter");
			break;
		} else if (ret == 1) {
			if (matched && mlen)
				snprintf(matched, mlen, "%.*s", (int)(p - entry), entry);
			break;
		}
		if (*p != ';' && *p != ',')
			break;
		p++;
	}
	if (ret != 1)
		return false;

	/* pci_dev_specific_disable_acs_redir() quirks are not modelled. */
	if (era == P2PDMA_ACS_CMDLINE_CONFIG_6_15) {
		*ctrl = (uint16_t)((fw_ctrl & ~mask) | (flags & mask));
	} else {
		*ctrl = (uint16_t)((*ctrl & ~mask) | (fw_ctrl & mask));
		*ctrl |= flags;
	}
	/* The kernel's "%#06x" prints 0 as "0x0000", unlike C's printf. */
	acs_log(log, dev, "Configured ACS to 0x%04x", *ctrl);
	return true;
}

/*
 * Rebuild a command line without its ACS options. Arguments are kept as
 * written; a pci= argument loses only its disable_acs_redir= and
 * config_acs= options (and goes when nothing else is left).
 */
char *p2pdma_cmdline_without_acs(const char *cmdline)
{
	size_t n = cmdline ? strlen(cmdline) : 0, o = 0;
	char *out = malloc(n + 1);
	const char *p = cmdline;

	if (!out)
		return NULL;
	out[0] = '\0';
	while (p && *p) {
		const char *start, *end;
		bool in_quote = false;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		start = p;
		for (end = p; *end && (in_quote || !isspace((unsigned char)*end)); end++)
			if (*end == '"')
				in_quote = !in_quote;
		p = end;
		if (end - start > 4 && !strncmp(start, "pci=", 4) && !memchr(start, '"', (size_t)(end - start))) {
			/* Keep the other options of this pci= argument. */
			const char *opt = start + 4;
			size_t mark = o;
			bool any = false;

			if (o)
				out[o++] = ' ';
			memcpy(out + o, "pci=", 4);
			o += 4;
			while (opt < end) {
				const char *k = memchr(opt, ',', (size_t)(end - opt));
				size_t len = (size_t)((k ? k : end) - opt);

				if (len && strncmp(opt, "disable_acs_redir=", 18) &&
				    strncmp(opt, "config_acs=", 11)) {
					if (any)
						out[o++] = ',';
					memcpy(out + o, opt, len);
					o += len;
					any = true;
				}
				opt = k ? k + 1 : end;
			}
			if (!any)
				o = mark;
			out[o] = '\0';
			continue;
		}
		if (o)
			out[o++] = ' ';
		memcpy(out + o, start, (size_t)(end - start));
		o += (size_t)(end - start);
		out[o] = '\0';
	}
	return out;
}
