// SPDX-License-Identifier: LGPL-2.1-or-later
/* topo-lspci.c - topology source: lspci's text output (-v/-vv/-vvv, -n/-nn/-D, -t/-tv, plain) */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "input-private.h"
#include "names-private.h"
#include "topo-private.h"

/*
 * What people paste when asked "what does your PCI bus look like": lspci's
 * text, not a hex dump. Three shapes, told apart by their first line:
 *
 *   device listing  "00:02.0 PCI bridge: Red Hat, Inc. QEMU PCIe Root port"
 *                   followed (-v and up) by indented detail lines; -vv and
 *                   up print ACSCap/ACSCtl, the SR-IOV numbers, region
 *                   numbers and the link; plain lspci prints one line each
 *   tree            "-[0000:00]-+-00.0-[01]----00.0" (lspci -t, -tv, -tvnn)
 *
 * The text is read as lspci 3.x prints it (pciutils lspci.c, ls-caps.c,
 * ls-ecaps.c, ls-tree.c), and as it looks once pasted: indented, with CRLF
 * line ends, tabs turned to spaces, a shell prompt above it. What cannot be
 * read is reported with its line number: at WARNING when the rest still
 * stands (the fact becomes unknown), as the error when the hierarchy itself
 * is in doubt. Nothing is filled in silently.
 */

#define MAX_WARNINGS	20

/* lspci's buffers: device names in the device line are cut at 127
 * characters, in the tree and the Subsystem line at 255. */
#define LSPCI_DEVBUF	128
#define LSPCI_NAMEBUF	256

#define CLASS_HOST	0x0600
#define CLASS_P2P	0x0604
#define CLASS_CARDBUS	0x0607
#define CLASS_SEMI_P2P	0x0609

#define ID_UNKNOWN	0xffff

struct lx_line {
	char *s;		/* the text, indentation and line end removed */
	unsigned int no;	/* 1-based line number in the input */
	unsigned int indent;	/* columns of leading white space (tab = 8) */
	unsigned int col0;	/* byte offset of s in the original line */
	char *raw;		/* the line with its indentation (tree) */
};

/* One function of a device listing while its block is read. */
struct lx_dev {
	struct p2pdma_dev *dev;
	unsigned int line;
	bool bridge;		/* "Bus:" line */
	bool caps_denied;	/* "Capabilities: <access denied>" */
	bool caps_seen;
	bool acs_seen, acs_cap_ok, acs_ctl_ok;
	unsigned int acs_line;
	bool sriov_seen, sriov_counts, sriov_ids;
	enum { CAP_NONE, CAP_EXP, CAP_ACS, CAP_SRIOV, CAP_OTHER } cap;
};

struct lx {
	struct p2pdma_ctx *ctx;
	const char *name;
	struct p2pdma_topo *topo;
	struct p2pdma_names *names;	/* reverse lookups (NULL: none) */
	bool names_on;			/* fill vendor/device names from the text */
	bool names_tried;
	struct lx_line *lines;
	size_t nlines;
	unsigned int nwarn;
	char *warned[MAX_WARNINGS];	/* what was said, to say it once */
	bool any_ext_caps;		/* some function shows an extended capability */
	bool any_denied;		/* some function's capabilities were unreadable */
	bool warned_v_regions, warned_v_acs, warned_v_sriov, warned_no_ext;
	unsigned int *dev_lines;	/* line of each topo->devs[i], for duplicates */
};

static void warn(struct lx *lx, unsigned int line, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);

static void warn(struct lx *lx, unsigned int line, const char *fmt, ...)
{
	char msg[384];
	unsigned int i;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The same name on twenty lines is one problem: say it once. */
	for (i = 0; i < lx->nwarn && i < MAX_WARNINGS; i++)
		if (lx->warned[i] && !strcmp(lx->warned[i], msg))
			return;
	if (lx->nwarn < MAX_WARNINGS)
		lx->warned[lx->nwarn] = p2pdma_strdup(msg);
	if (++lx->nwarn > MAX_WARNINGS)
		return;
	if (lx->nwarn == MAX_WARNINGS)
		p2pdma_log(lx->ctx, P2PDMA_LOG_WARNING, "%s:%u: %s (further warnings left out)",
			   lx->name, line, msg);
	else
		p2pdma_log(lx->ctx, P2PDMA_LOG_WARNING, "%s:%u: %s", lx->name, line, msg);
}

/* --- small text helpers --- */

static bool is_hex_n(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static unsigned long hex_n(const char *s, size_t n)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int c = tolower((unsigned char)s[i]);

		v = v << 4 | (unsigned long)(isdigit(c) ? c - '0' : c - 'a' + 10);
	}
	return v;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* "rest" after "Key:" and its white space, or NULL if @s is not that key. */
static const char *after_key(const char *s, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(s, key, n))
		return NULL;
	return skip_ws(s + n);
}

/*
 * A device address at the start of @s: "BB:DD.F" or "DDDD:BB:DD.F"
 * followed by a space or the end. Returns the length, 0 if not one.
 */
static size_t parse_bdf(const char *s, uint32_t *dom, uint8_t *bus, uint8_t *devfn)
{
	const char *p = s;
	unsigned long d = 0, b, dv, f;
	size_t n;

	for (n = 0; isxdigit((unsigned char)p[n]); n++)
		;
	if (n == 0 || p[n] != ':')
		return 0;
	if (n > 2) {
		/* domain: lspci prints 4 digits, VMD domains take 5 */
		if (n > 7)
			return 0;
		d = hex_n(p, n);
		p += n + 1;
		for (n = 0; isxdigit((unsigned char)p[n]); n++)
			;
		if (n != 2 || p[n] != ':')
			return 0;
	}
	if (n != 2)
		return 0;
	b = hex_n(p, 2);
	p += 3;
	if (!is_hex_n(p, 2) || p[2] != '.' || !isdigit((unsigned char)p[3]))
		return 0;
	dv = hex_n(p, 2);
	f = (unsigned long)(p[3] - '0');
	p += 4;
	if (*p && *p != ' ')
		return 0;
	if (dv > 0x1f || f > 7)
		return 0;
	*dom = (uint32_t)d;
	*bus = (uint8_t)b;
	*devfn = (uint8_t)(dv << 3 | f);
	return (size_t)(p - s);
}

/* --- splitting the text into lines --- */

static int split_lines(struct lx *lx, char *text, size_t len)
{
	size_t cap = 0, i = 0;
	unsigned int no = 0;

	while (i < len) {
		char *line = text + i, *nl = memchr(line, '\n', len - i);
		size_t n = nl ? (size_t)(nl - line) : len - i;
		struct lx_line *l;
		unsigned int ind = 0;
		size_t k = 0;

		i += n + (nl ? 1 : 0);
		no++;
		line[n] = '\0';
		if (memchr(line, '\0', n))
			return p2pdma_err(lx->ctx, -EINVAL, "%s:%u: NUL byte: not lspci text",
					  lx->name, no);
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		while (line[k] == ' ' || line[k] == '\t') {
			ind = line[k] == '\t' ? (ind / 8 + 1) * 8 : ind + 1;
			k++;
		}
		if (lx->nlines == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct lx_line *nv = realloc(lx->lines, ncap * sizeof(*nv));

			if (!nv)
				return p2pdma_err(lx->ctx, -ENOMEM, "%s: out of memory", lx->name);
			lx->lines = nv;
			cap = ncap;
		}
		l = &lx->lines[lx->nlines++];
		l->raw = line;
		l->s = line + k;
		l->no = no;
		l->indent = ind;
		l->col0 = (unsigned int)k;
	}
	return 0;
}

/* A line that is the command that made the output, or a bare prompt. */
static bool is_prompt(const char *s)
{
	size_t n = strlen(s);

	return starts(s, "lspci") || starts(s, "sudo ") || s[0] == '$' || s[0] == '#' ||
	       strstr(s, "$ ") || strstr(s, "# ") ||
	       (n && (s[n - 1] == '$' || s[n - 1] == '#' || s[n - 1] == '>'));
}

static bool is_tree_start(const char *s)
{
	return starts(s, "-[") || starts(s, "-+-[") || starts(s, "-\\-[");
}

/* --- functions --- */

static struct p2pdma_dev *new_dev(struct lx *lx, uint32_t dom, uint8_t bus,
				  uint8_t devfn, unsigned int line, int *err)
{
	struct p2pdma_dev *d;
	uint32_t i;

	*err = 0;
	if (dom > 0xfffffff) {
		*err = p2pdma_err(lx->ctx, -EINVAL, "%s:%u: domain %x out of range",
				  lx->name, line, dom);
		return NULL;
	}
	for (i = 0; i < lx->topo->ndevs; i++) {
		d = lx->topo->devs[i];
		if (d->domain == dom && d->bus == bus && d->devfn == devfn) {
			*err = p2pdma_err(lx->ctx, -EINVAL,
					  "%s:%u: %s listed twice (also line %u)",
					  lx->name, line, d->name, lx->dev_lines[i]);
			return NULL;
		}
	}
	if (!(lx->topo->ndevs & 63)) {
		unsigned int *nl = realloc(lx->dev_lines,
					   (lx->topo->ndevs + 64) * sizeof(*nl));

		if (!nl) {
			*err = p2pdma_err(lx->ctx, -ENOMEM, "%s: out of memory", lx->name);
			return NULL;
		}
		lx->dev_lines = nl;
	}
	d = p2pdma_topo_add_dev(lx->topo, dom, bus, devfn);
	if (!d) {
		*err = p2pdma_err(lx->ctx, -ENOMEM, "%s: out of memory", lx->name);
		return NULL;
	}
	lx->dev_lines[d->index] = line;
	d->vendor = d->device = ID_UNKNOWN;
	return d;
}

/* Length of the valid UTF-8 sequence at @s (of at most @n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * Keep a name from the text. lspci prints UTF-8 (pci.ids is UTF-8); bytes
 * that are not, and control characters, become '?' so that every string
 * the model holds can be written out again (JSON is UTF-8).
 */
static int set_name(char **slot, const char *s, size_t n)
{
	char *c = malloc(n + 1);
	size_t i = 0;

	if (!c)
		return -ENOMEM;
	while (i < n) {
		size_t k = utf8_len((const unsigned char *)s + i, n - i);

		if (!k || (unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			c[i++] = '?';
			continue;
		}
		memcpy(c + i, s + i, k);
		i += k;
	}
	c[n] = '\0';
	free(*slot);
	*slot = c;
	return 0;
}

static struct p2pdma_names *names(struct lx *lx)
{
	if (!lx->names_tried) {
		lx->names_tried = true;
		if (p2pdma_names_open_db(lx->ctx, &lx->names))
			lx->names = NULL;
	}
	return lx->names;
}

/* "[xxxx]" or "[xxxx:xxxx]" closing @s (after a space): its offset, or -1. */
static long bracket_ids(const char *s, size_t len, bool pair)
{
	size_t w = pair ? 11 : 6;	/* "[1234:5678]" / "[1234]" */

	if (len < w || s[len - 1] != ']' || s[len - w] != '[')
		return -1;
	if (pair ? !(is_hex_n(s + len - 10, 4) && s[len - 6] == ':' && is_hex_n(s + len - 5, 4)) :
		   !is_hex_n(s + len - 5, 4))
		return -1;
	if (len > w && s[len - w - 1] != ' ')
		return -1;
	return (long)(len - w);
}

/*
 * "Vendor Device" in one of lspci's forms: "8086:29c0" (-n), "... [8086:29c0]"
 * (-nn), "Device 1af4:1041" (vendor unknown to the database), or names only,
 * read back through the ID database. @sub: the device's IDs when @s is its
 * Subsystem. Sets *@a, *@b, or leaves them unknown with a warning.
 */
static int read_pair(struct lx *lx, unsigned int line, const char *s, size_t len,
		     size_t bufsize, const uint16_t *sub, uint16_t *a, uint16_t *b,
		     bool *from_names)
{
	const char *ids = sub ? "subsystem IDs" : "IDs";
	uint32_t cand[P2PDMA_NAMES_MAX_CANDIDATES];
	size_t ncand = 0;
	char text[LSPCI_NAMEBUF + 8];
	long off;
	int ret;

	*from_names = false;
	if (len == 9 && is_hex_n(s, 4) && s[4] == ':' && is_hex_n(s + 5, 4)) {
		*a = (uint16_t)hex_n(s, 4);
		*b = (uint16_t)hex_n(s + 5, 4);
		return 0;
	}
	off = bracket_ids(s, len, true);
	if (off >= 0) {
		*a = (uint16_t)hex_n(s + off + 1, 4);
		*b = (uint16_t)hex_n(s + off + 6, 4);
		return 0;
	}
	if (len == 16 && starts(s, "Device ") && is_hex_n(s + 7, 4) && s[11] == ':' &&
	    is_hex_n(s + 12, 4)) {
		*a = (uint16_t)hex_n(s + 7, 4);
		*b = (uint16_t)hex_n(s + 12, 4);
		return 0;
	}
	if (len >= sizeof(text) || len == 0) {
		warn(lx, line, "'%.*s' is not an ID pair lspci prints: %s unknown",
		     (int)(len > 60 ? 60 : len), s, ids);
		return 0;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	if (!names(lx)) {
		warn(lx, line, "'%s': names without IDs, and no PCI ID database to read them back: "
		     "%s unknown (lspci -nn prints them)", text, ids);
		return 0;
	}
	ret = p2pdma_names_find_pair(lx->names, text, bufsize, sub, cand, &ncand);
	if (ret == -ENOMEM)
		return p2pdma_err(lx->ctx, ret, "%s: out of memory", lx->name);
	if (ret == -ENOENT) {
		warn(lx, line, "'%s': names without IDs, and no usable PCI ID database to read "
		     "them back: %s unknown (lspci -nn prints them)", text, ids);
		return 0;
	}
	if (ncand == 1) {
		*a = (uint16_t)(cand[0] >> 16);
		*b = (uint16_t)cand[0];
		*from_names = true;
		return 0;
	}
	if (ncand == 0)
		warn(lx, line, "'%s' is not in this PCI ID database (lspci may have used a "
		     "different pci.ids or udev's hwdb): %s unknown (lspci -nn prints them)", text, ids);
	else
		warn(lx, line, "'%s' names %zu ID pairs (%04x:%04x, %04x:%04x%s): %s unknown "
		     "(lspci -nn prints them)", text, ncand, cand[0] >> 16, cand[0] & 0xffff,
		     cand[1] >> 16, cand[1] & 0xffff, ncand > 2 ? ", ..." : "", ids);
	return 0;
}

/* The class part of a device line: "0600", "Host bridge [0600]", "Class 0600", or a name. */
static int read_class(struct lx *lx, unsigned int line, const char *s, size_t len,
		      bool *known, uint16_t *cls)
{
	uint32_t cand[P2PDMA_NAMES_MAX_CANDIDATES];
	size_t ncand = 0;
	char text[LSPCI_DEVBUF + 8];
	long off;
	int ret;

	*known = false;
	if (len == 4 && is_hex_n(s, 4)) {
		*cls = (uint16_t)hex_n(s, 4);
		*known = true;
		return 0;
	}
	off = bracket_ids(s, len, false);
	if (off >= 0) {
		*cls = (uint16_t)hex_n(s + off + 1, 4);
		*known = true;
		return 0;
	}
	if (len == 10 && starts(s, "Class ") && is_hex_n(s + 6, 4)) {
		*cls = (uint16_t)hex_n(s + 6, 4);
		*known = true;
		return 0;
	}
	if (len >= sizeof(text)) {
		warn(lx, line, "class '%.40s...' too long: class unknown", s);
		return 0;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	if (!names(lx)) {
		warn(lx, line, "class '%s' without its number, and no PCI ID database: class unknown", text);
		return 0;
	}
	ret = p2pdma_names_find_class(lx->names, text, cand, &ncand);
	if (ret == -ENOMEM)
		return p2pdma_err(lx->ctx, ret, "%s: out of memory", lx->name);
	if (ncand == 1) {
		*cls = (uint16_t)cand[0];
		*known = true;
	} else if (ncand == 0) {
		warn(lx, line, "class '%s' is not in this PCI ID database: class unknown", text);
	} else {
		warn(lx, line, "class '%s' names %zu classes (%04x, %04x...): class unknown",
		     text, ncand, cand[0], cand[1]);
	}
	return 0;
}

/*
 * After the address: "CLASS: VENDOR DEVICE (rev RR) (prog-if PP [name])".
 * @s points past the address and its space.
 */
static int read_ident(struct lx *lx, struct p2pdma_dev *d, unsigned int line,
		      const char *s)
{
	const char *colon = strstr(s, ": "), *pair, *p;
	size_t plen;
	uint16_t cls = 0;
	unsigned int progif = 0, rev = 0;
	bool known, from_names;
	int ret;

	if (!colon)
		return p2pdma_err(lx->ctx, -EINVAL,
				  "%s:%u: %s: no \"CLASS: VENDOR DEVICE\" after the address (line cut short?)",
				  lx->name, line, d->name);
	ret = read_class(lx, line, s, (size_t)(colon - s), &known, &cls);
	if (ret)
		return ret;
	pair = colon + 2;
	plen = strlen(pair);
	/* " (prog-if 02 [NVM Express])", then " (rev 01)", from the end. */
	p = strstr(pair, " (prog-if ");
	if (p) {
		if (!is_hex_n(p + 10, 2))
			warn(lx, line, "unreadable prog-if: taken as 00");
		else
			progif = (unsigned int)hex_n(p + 10, 2);
		plen = (size_t)(p - pair);
	}
	if (plen >= 9 && !strncmp(pair + plen - 9, " (rev ", 6) && is_hex_n(pair + plen - 3, 2) &&
	    pair[plen - 1] == ')') {
		rev = (unsigned int)hex_n(pair + plen - 3, 2);
		plen -= 9;
	}
	d->class_code = (uint32_t)cls << 8 | progif;
	d->revision = (uint8_t)rev;
	ret = read_pair(lx, line, pair, plen, LSPCI_DEVBUF, NULL, &d->vendor, &d->device,
			&from_names);
	if (ret)
		return ret;
	/* What the text called it, when that is all there is to go on. */
	if (lx->names_on && d->vendor == ID_UNKNOWN && plen)
		ret = set_name(&d->device_name, pair, plen);
	return ret;
}

/* --- device listings (lspci, -n, -v, -vv, -vvv, with -nn, -D) --- */

/* "Speed 16GT/s" -> 4; 0 unknown. */
static uint8_t speed_code(const char *s)
{
	static const char *const speeds[] = { "2.5GT/s", "5GT/s", "8GT/s", "16GT/s",
					      "32GT/s", "64GT/s" };
	size_t i;

	for (i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
		size_t n = strlen(speeds[i]);

		if (!strncmp(s, speeds[i], n) && (s[n] == ',' || s[n] == ' ' || !s[n]))
			return (uint8_t)(i + 1);
	}
	return 0;
}

static void read_link(struct lx *lx, struct p2pdma_dev *d, const struct lx_line *l,
		      const char *v, bool cap)
{
	const char *sp = strstr(v, "Speed "), *w = strstr(v, "Width x");
	unsigned int width;

	/* Links are at most 32 lanes wide. */
	if (!sp || !w || sscanf(w + 7, "%u", &width) != 1 || width > 32) {
		warn(lx, l->no, "unreadable link %s: link unknown", cap ? "capability" : "status");
		return;
	}
	if (cap) {
		d->link.max_speed = speed_code(sp + 6);
		d->link.max_width = (uint8_t)width;
	} else {
		d->link.speed = speed_code(sp + 6);
		d->link.width = (uint8_t)width;
	}
}

/* "SrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-" */
static bool read_acs_bits(const char *v, uint16_t *out)
{
	static const char *const names[] = { "SrcValid", "TransBlk", "ReqRedir", "CmpltRedir",
					      "UpstreamFwd", "EgressCtrl", "DirectTrans" };
	uint16_t bits = 0;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		v = skip_ws(v);
		if (strncmp(v, names[i], n) || (v[n] != '+' && v[n] != '-'))
			return false;
		if (v[n] == '+')
			bits |= (uint16_t)(1u << i);
		v += n + 1;
	}
	*out = bits;
	return true;
}

/* "Region 2: Memory at fe000000 (64-bit, prefetchable) [size=16K]" */
static void read_region(struct lx *lx, struct p2pdma_dev *d, const struct lx_line *l,
			const char *v)
{
	unsigned int idx;
	const char *p, *sz;
	unsigned long long addr = 0, size = 0;
	struct p2pdma_bar *bar;
	bool have_addr = false;
	char unit = 0;

	p = strchr(v, ':');
	if (sscanf(v, "Region %u", &idx) != 1 || idx >= P2PDMA_NUM_BARS || !p) {
		warn(lx, l->no, "unreadable region number: region left out");
		return;
	}
	p = skip_ws(p + 1);
	bar = &d->bars[idx];
	memset(bar, 0, sizeof(*bar));
	if (starts(p, "Memory at ")) {
		p += 10;
		bar->flags = P2PDMA_BAR_MEM;
		if (strstr(p, "(64-bit"))
			bar->flags |= P2PDMA_BAR_64;
		if (strstr(p, ", prefetchable)"))
			bar->flags |= P2PDMA_BAR_PREFETCH;
	} else if (starts(p, "I/O ports at ")) {
		p += 13;
		bar->flags = P2PDMA_BAR_IO;
	} else {
		warn(lx, l->no, "unreadable region: region left out");
		return;
	}
	if (isxdigit((unsigned char)*p)) {
		char *end;

		addr = strtoull(p, &end, 16);
		have_addr = end != p;
	} else if (!starts(p, "<unassigned>") && !starts(p, "<ignored>")) {
		warn(lx, l->no, "unreadable region address: region left out");
		memset(bar, 0, sizeof(*bar));
		return;
	}
	sz = strstr(p, "[size=");
	if (sz && sscanf(sz + 6, "%llu%c", &size, &unit) >= 1) {
		int shift = unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 :
			    unit == 'T' ? 40 : 0;

		size <<= shift;
	}
	bar->bus = have_addr ? addr : 0;
	/*
	 * lspci prints the address libpci has: the CPU address from sysfs
	 * on a live machine (sizes known), the register from a dump (no
	 * sizes). The bus address is taken equal to it, as for every
	 * source without a register to read.
	 */
	/* A BAR's size is a power of two; anything else is not one lspci printed. */
	if (size & (size - 1)) {
		warn(lx, l->no, "region %u: size %llu is not a power of two: size left unknown",
		     idx, size);
		size = 0;
	}
	/* An unassigned or ignored region has no range: its size says nothing here. */
	if (!have_addr)
		size = 0;
	bar->size = size;
	bar->cpu = size ? bar->bus : 0;
	/* As config decoding: a plain 32-bit memory BAR at 0 says no more than an empty register. */
	if (bar->flags == P2PDMA_BAR_MEM && !bar->bus)
		memset(bar, 0, sizeof(*bar));
	/* A 64-bit BAR takes the next register: regions that collide are not both real. */
	if ((bar->flags & P2PDMA_BAR_64) &&
	    (idx + 1 >= P2PDMA_NUM_BARS || d->bars[idx + 1].flags)) {
		warn(lx, l->no, "64-bit region %u %s: region left out", idx,
		     idx + 1 >= P2PDMA_NUM_BARS ? "in the last register" : "overlaps the next one");
		memset(bar, 0, sizeof(*bar));
	} else if (idx && (d->bars[idx - 1].flags & P2PDMA_BAR_64)) {
		warn(lx, l->no, "region %u is the upper half of 64-bit region %u: region left out",
		     idx, idx - 1);
		memset(bar, 0, sizeof(*bar));
	}
}

/* "Memory behind bridge: fe400000-fe9fffff [size=6M] [32-bit]", or "[disabled]". */
static void read_window(struct lx *lx, struct p2pdma_dev *d, const struct lx_line *l,
			const char *v, int which)
{
	struct p2pdma_window *w = &d->win[which];
	unsigned long long base, limit;
	char *end;

	memset(w, 0, sizeof(*w));
	if (strstr(v, "[disabled]") || strstr(v, "[empty]"))
		return;
	base = strtoull(v, &end, 16);
	if (end == v || *end != '-') {
		warn(lx, l->no, "unreadable bridge window: window taken as closed");
		return;
	}
	v = end + 1;
	limit = strtoull(v, &end, 16);
	if (end == v || base > limit) {
		warn(lx, l->no, "unreadable bridge window: window taken as closed");
		return;
	}
	/* I/O and non-prefetchable windows are 32-bit registers. */
	if (which != P2PDMA_WIN_PREFETCH && limit > 0xffffffffULL) {
		warn(lx, l->no, "bridge window above 4 GiB in a 32-bit window: taken as closed");
		return;
	}
	w->base = base;
	w->limit = limit;
	w->valid = true;
}

/* "Capabilities: [148 v1] Access Control Services" */
static void read_cap(struct lx *lx, struct lx_dev *ld, const struct lx_line *l, const char *v)
{
	struct p2pdma_dev *d = ld->dev;
	unsigned int off;
	const char *name;

	ld->caps_seen = true;
	ld->cap = CAP_OTHER;
	if (starts(v, "<access denied>")) {
		ld->caps_denied = true;
		lx->any_denied = true;
		return;
	}
	if (*v != '[' || sscanf(v + 1, "%x", &off) != 1 || !(name = strstr(v, "] "))) {
		warn(lx, l->no, "unreadable capability line");
		return;
	}
	name += 2;
	if (off >= 0x100)
		lx->any_ext_caps = true;
	if (starts(name, "Express ")) {
		const char *t = name + 8;
		static const struct { const char *text; int type; } types[] = {
			{ "Endpoint", P2PDMA_PCIE_ENDPOINT },
			{ "Legacy Endpoint", P2PDMA_PCIE_LEGACY_ENDPOINT },
			{ "Root Port", P2PDMA_PCIE_ROOT_PORT },
			{ "Upstream Port", P2PDMA_PCIE_UPSTREAM },
			{ "Downstream Port", P2PDMA_PCIE_DOWNSTREAM },
			{ "PCI-Express to PCI/PCI-X Bridge", P2PDMA_PCIE_PCIE_TO_PCI },
			{ "PCI/PCI-X to PCI-Express Bridge", P2PDMA_PCIE_PCI_TO_PCIE },
			{ "Root Complex Integrated Endpoint", P2PDMA_PCIE_RC_ENDPOINT },
			{ "Root Complex Event Collector", P2PDMA_PCIE_RC_EVENT_COLLECTOR },
		};
		unsigned int ut;
		size_t i;

		ld->cap = CAP_EXP;
		if (*t == '(') {	/* "(v2) " from -vv on */
			t = strchr(t, ')');
			t = t ? skip_ws(t + 1) : name + 8;
		}
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			size_t n = strlen(types[i].text);

			if (!strncmp(t, types[i].text, n) &&
			    (t[n] == ',' || t[n] == ' ' || !t[n])) {
				d->pcie_type = (int8_t)types[i].type;
				return;
			}
		}
		if (sscanf(t, "Unknown type %u", &ut) == 1)
			warn(lx, l->no, "PCIe port type %u is none the spec defines: taken as "
			     "conventional PCI", ut);
		else
			warn(lx, l->no, "unreadable PCIe port type: taken as conventional PCI");
		return;
	}
	if (starts(name, "Access Control Services")) {
		ld->cap = CAP_ACS;
		ld->acs_seen = true;
		ld->acs_line = l->no;
		/* An extended capability: 0x100..0xffc, dword aligned. */
		if (off >= 0x100 && off <= 0xffc && !(off & 3))
			d->acs_pos = (uint16_t)off;
		else
			warn(lx, l->no, "ACS capability at offset %x, outside the extended space: "
			     "offset left out", off);
		return;
	}
	if (starts(name, "Single Root I/O Virtualization")) {
		ld->cap = CAP_SRIOV;
		ld->sriov_seen = true;
		return;
	}
	/* A bridge's subsystem IDs come from this capability (header type 1). */
	if (starts(name, "Subsystem: ") && !d->subvendor && !d->subdevice) {
		bool fn;
		uint16_t ids[2] = { d->vendor, d->device };

		if (d->vendor != ID_UNKNOWN)
			read_pair(lx, l->no, name + 11, strlen(name + 11), LSPCI_NAMEBUF, ids,
				  &d->subvendor, &d->subdevice, &fn);
	}
}

static int read_detail(struct lx *lx, struct lx_dev *ld, const struct lx_line *l)
{
	struct p2pdma_dev *d = ld->dev;
	const char *s = l->s, *v;
	unsigned int a, b, c;
	int ret = 0;

	if ((v = after_key(s, "Capabilities:"))) {
		read_cap(lx, ld, l, v);
		return 0;
	}
	if (!ld->caps_seen) {
		/* Before the capabilities: the header's own lines. */
		if ((v = after_key(s, "DeviceName:"))) {
			/* lspci 3.9 prints no newline after it: a Subsystem may follow on the line. */
			const char *sub = strstr(v, "Subsystem: ");
			size_t n = sub ? (size_t)(sub - v) : strlen(v);

			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n && !d->label && (ret = set_name(&d->label, v, n)))
				return ret;
			if (!sub)
				return 0;
			s = sub;
		}
		if ((v = after_key(s, "Subsystem:"))) {
			uint16_t ids[2] = { d->vendor, d->device };
			bool fn;

			if (d->vendor == ID_UNKNOWN) {
				warn(lx, l->no, "subsystem of a function whose IDs are unknown: left out");
				return 0;
			}
			return read_pair(lx, l->no, v, strlen(v), LSPCI_NAMEBUF, ids,
					 &d->subvendor, &d->subdevice, &fn);
		}
		if ((v = after_key(s, "Bus:"))) {
			unsigned int lat;

			if (sscanf(v, "primary=%x, secondary=%x, subordinate=%x, sec-latency=%u",
				   &a, &b, &c, &lat) < 3 || a > 0xff || b > 0xff || c > 0xff)
				return p2pdma_err(lx->ctx, -EINVAL,
						  "%s:%u: %s: unreadable bus numbers (the hierarchy depends on them)",
						  lx->name, l->no, d->name);
			ld->bridge = true;
			d->primary = (uint8_t)a;
			d->secondary = (uint8_t)b;
			d->subordinate = (uint8_t)c;
			return 0;
		}
		if ((v = after_key(s, "I/O behind bridge:"))) {
			read_window(lx, d, l, v, P2PDMA_WIN_IO);
			return 0;
		}
		if ((v = after_key(s, "Memory behind bridge:"))) {
			read_window(lx, d, l, v, P2PDMA_WIN_MEM);
			return 0;
		}
		if ((v = after_key(s, "Prefetchable memory behind bridge:"))) {
			read_window(lx, d, l, v, P2PDMA_WIN_PREFETCH);
			return 0;
		}
		if (starts(s, "Region ")) {
			read_region(lx, d, l, s);
			return 0;
		}
		if (starts(s, "Memory at ") || starts(s, "I/O ports at ")) {
			if (!lx->warned_v_regions)
				warn(lx, l->no, "lspci -v prints regions without their numbers: "
				     "BARs left out (lspci -vv numbers them)");
			lx->warned_v_regions = true;
			return 0;
		}
		if ((v = after_key(s, "Flags:"))) {
			const char *x;
			int n;

			if ((x = strstr(v, "NUMA node ")) && sscanf(x + 10, "%d", &n) == 1)
				d->numa_node = n;
			if ((x = strstr(v, "IOMMU group ")) && sscanf(x + 12, "%d", &n) == 1)
				d->iommu_group = n;
			return 0;
		}
	}
	if ((v = after_key(s, "NUMA node:"))) {
		int n;

		if (sscanf(v, "%d", &n) == 1)
			d->numa_node = n;
		return 0;
	}
	if ((v = after_key(s, "IOMMU group:"))) {
		int n;

		if (sscanf(v, "%d", &n) == 1)
			d->iommu_group = n;
		return 0;
	}
	if ((v = after_key(s, "Kernel driver in use:"))) {
		if (*v && (ret = set_name(&d->driver, v, strlen(v))))
			return ret;
		return 0;
	}
	switch (ld->cap) {
	case CAP_EXP:
		if ((v = after_key(s, "LnkCap:")))
			read_link(lx, d, l, v, true);
		else if ((v = after_key(s, "LnkSta:")))
			read_link(lx, d, l, v, false);
		break;
	case CAP_ACS:
		if ((v = after_key(s, "ACSCap:"))) {
			ld->acs_cap_ok = read_acs_bits(v, &d->acs_cap);
			if (!ld->acs_cap_ok)
				warn(lx, l->no, "unreadable ACSCap: ACS unknown");
		} else if ((v = after_key(s, "ACSCtl:"))) {
			ld->acs_ctl_ok = read_acs_bits(v, &d->acs_ctrl);
			if (!ld->acs_ctl_ok)
				warn(lx, l->no, "unreadable ACSCtl: ACS unknown");
		}
		break;
	case CAP_SRIOV: {
		unsigned int init, total, num, off, stride, did;

		if (starts(s, "Initial VFs:")) {
			if (sscanf(s, "Initial VFs: %u, Total VFs: %u, Number of VFs: %u",
				   &init, &total, &num) == 3 && total <= 0xffff && num <= 0xffff) {
				d->sriov_total = (uint16_t)total;
				d->sriov_num = (uint16_t)num;
				ld->sriov_counts = true;
			} else {
				warn(lx, l->no, "unreadable SR-IOV VF counts: VFs not linked to their PF");
			}
		} else if (starts(s, "VF offset:")) {
			if (sscanf(s, "VF offset: %u, stride: %u, Device ID: %x", &off, &stride,
				   &did) == 3 && off <= 0xffff && stride <= 0xffff && did <= 0xffff) {
				d->sriov_offset = (uint16_t)off;
				d->sriov_stride = (uint16_t)stride;
				d->sriov_vf_device = (uint16_t)did;
				ld->sriov_ids = true;
			} else {
				warn(lx, l->no, "unreadable SR-IOV VF offset/stride: VFs not linked to their PF");
			}
		}
		break;
	}
	default:
		break;
	}
	return 0;
}

/* What one function's block said, made into the model's state. */
static void end_dev(struct lx *lx, struct lx_dev *ld, bool terse)
{
	struct p2pdma_dev *d = ld->dev;
	uint16_t cls;

	if (!d)
		return;
	cls = (uint16_t)(d->class_code >> 8);
	if (terse) {
		/* Plain lspci: one line, the class says what a bridge is. */
		if (cls == CLASS_P2P || cls == CLASS_SEMI_P2P)
			d->header_type = 1;
		else if (cls == CLASS_CARDBUS)
			d->header_type = 2;
		d->acs_state = P2PDMA_ACS_UNKNOWN;
		return;
	}
	if (ld->bridge)
		d->header_type = cls == CLASS_CARDBUS ? 2 : 1;
	if (ld->caps_denied) {
		/* As a 64-byte config read: not even PCIe is known. */
		d->pcie_type = P2PDMA_PCIE_NONE;
		d->acs_state = P2PDMA_ACS_UNKNOWN;
		d->acs_pos = 0;
	} else if (ld->acs_seen) {
		if (ld->acs_cap_ok && ld->acs_ctl_ok) {
			d->acs_state = P2PDMA_ACS_PRESENT;
		} else {
			d->acs_state = P2PDMA_ACS_UNKNOWN;
			d->acs_cap = d->acs_ctrl = 0;
			if (!lx->warned_v_acs)
				warn(lx, ld->acs_line, "%s: ACS capability without ACSCap/ACSCtl "
				     "(lspci -v prints only its name): ACS unknown (lspci -vv prints the bits)",
				     d->name);
			lx->warned_v_acs = true;
		}
	} else if (d->pcie_type != P2PDMA_PCIE_NONE || cls == CLASS_HOST) {
		/* Decided at the end: was extended space in sight at all? */
		d->acs_state = P2PDMA_ACS_UNKNOWN;
	} else {
		d->acs_state = P2PDMA_ACS_ABSENT;
	}
	d->acs_ctrl_boot = d->acs_ctrl;
	if (ld->sriov_seen) {
		if (ld->sriov_counts && ld->sriov_ids && d->sriov_num > d->sriov_total) {
			warn(lx, ld->line, "%s: %u VFs enabled of %u: VFs not linked to their PF",
			     d->name, d->sriov_num, d->sriov_total);
			d->sriov_total = d->sriov_num = 0;
		} else if (ld->sriov_counts && ld->sriov_ids) {
			d->has_sriov = true;
		} else {
			d->sriov_total = d->sriov_num = 0;
			if (!lx->warned_v_sriov)
				warn(lx, ld->line, "%s: SR-IOV capability without its numbers "
				     "(lspci -v): VFs not linked to their PF (lspci -vv prints them)",
				     d->name);
			lx->warned_v_sriov = true;
		}
	}
}

/*
 * Plain lspci has no bridge bus numbers. Number the buses as Linux does
 * when it assigns them itself (pci_scan_child_bus_extend(): bridges of a
 * bus in devfn order, each secondary = highest so far + 1, subordinate =
 * highest below it), starting from every bus no bridge reaches. Firmware
 * that leaves gaps gives other numbers: the caller warns.
 */
static void number_bus(struct p2pdma_topo *t, uint32_t dom, unsigned int bus,
		       unsigned int *max, unsigned int depth)
{
	uint32_t i;

	if (depth > 256)
		return;
	for (i = 0; i < t->ndevs; i++) {
		struct p2pdma_dev *b = t->devs[i];

		if (b->domain != dom || b->bus != bus || !p2pdma_dev_is_bridge(b) || b->secondary)
			continue;
		if (*max >= 0xff)
			return;
		b->primary = (uint8_t)bus;
		b->secondary = (uint8_t)++*max;
		number_bus(t, dom, b->secondary, max, depth + 1);
		b->subordinate = (uint8_t)*max;
	}
}

static int cmp_dev_addr(const void *a, const void *b)
{
	const struct p2pdma_dev *x = *(struct p2pdma_dev *const *)a;
	const struct p2pdma_dev *y = *(struct p2pdma_dev *const *)b;
	uint64_t kx = (uint64_t)x->domain << 16 | (uint64_t)x->bus << 8 | x->devfn;
	uint64_t ky = (uint64_t)y->domain << 16 | (uint64_t)y->bus << 8 | y->devfn;

	return kx < ky ? -1 : kx > ky;
}

static void infer_buses(struct lx *lx, unsigned int line)
{
	struct p2pdma_topo *t = lx->topo;
	struct p2pdma_dev **sorted;
	unsigned int max = 0;
	uint32_t dom = UINT32_MAX, i, nbridges = 0;

	for (i = 0; i < t->ndevs; i++)
		nbridges += p2pdma_dev_is_bridge(t->devs[i]);
	if (!nbridges)
		return;
	warn(lx, line, "plain lspci lists no bridge bus numbers: the hierarchy was rebuilt by "
	     "numbering buses depth-first as Linux does when it assigns them, which firmware "
	     "need not have done; give lspci -vv (or -t) output for the real hierarchy");
	sorted = malloc(t->ndevs * sizeof(*sorted));
	if (!sorted)
		return;
	memcpy(sorted, t->devs, t->ndevs * sizeof(*sorted));
	qsort(sorted, t->ndevs, sizeof(*sorted), cmp_dev_addr);
	memcpy(t->devs, sorted, t->ndevs * sizeof(*sorted));
	free(sorted);
	for (i = 0; i < t->ndevs; i++) {
		struct p2pdma_dev *d = t->devs[i];
		uint32_t j;
		bool reached = false;

		if (d->domain != dom) {
			dom = d->domain;
			max = 0;
		}
		/* A bus no numbered bridge reaches is a root bus: number from it. */
		for (j = 0; j < t->ndevs && !reached; j++) {
			struct p2pdma_dev *b = t->devs[j];

			reached = b->domain == dom && p2pdma_dev_is_bridge(b) && b->secondary &&
				  d->bus >= b->secondary && d->bus <= b->subordinate;
		}
		if (reached || (i && t->devs[i - 1]->domain == dom && t->devs[i - 1]->bus == d->bus))
			continue;
		if (d->bus > max)
			max = d->bus;
		number_bus(t, dom, d->bus, &max, 0);
	}
	for (i = 0; i < t->ndevs; i++)
		t->devs[i]->index = i;
}

/* Detail lines that lost their indentation on the way (pasted from a web page). */
static bool is_detail_key(const char *s)
{
	static const char *const keys[] = {
		"Subsystem:", "DeviceName:", "Control:", "Status:", "Flags:", "Latency:",
		"Interrupt:", "Region ", "Memory at ", "I/O ports at ", "Expansion ROM",
		"Bus:", "I/O behind bridge:", "Memory behind bridge:",
		"Prefetchable memory behind bridge:", "Secondary status:", "BridgeCtl:",
		"Capabilities:", "Kernel driver in use:", "Kernel modules:", "NUMA node:",
		"IOMMU group:", "Physical Slot:",
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (starts(s, keys[i]))
			return true;
	return false;
}

static int read_listing(struct lx *lx, size_t first)
{
	struct lx_dev ld = { 0 };
	unsigned int base = lx->lines[first].indent, ndetail = 0;
	bool blank = false;
	size_t i;
	int ret = 0;

	for (i = first; i < lx->nlines && !ret; i++) {
		const struct lx_line *l = &lx->lines[i];
		uint32_t dom;
		uint8_t bus, devfn;
		size_t n;

		if (!*l->s) {
			blank = true;
			continue;
		}
		if (l->indent <= base && (n = parse_bdf(l->s, &dom, &bus, &devfn))) {
			blank = false;
			end_dev(lx, &ld, false);
			memset(&ld, 0, sizeof(ld));
			ld.line = l->no;
			ld.dev = new_dev(lx, dom, bus, devfn, l->no, &ret);
			if (!ld.dev)
				break;
			if (l->s[n] != ' ')
				ret = p2pdma_err(lx->ctx, -EINVAL,
						 "%s:%u: %s: nothing after the address (line cut short?)",
						 lx->name, l->no, ld.dev->name);
			else
				ret = read_ident(lx, ld.dev, l->no, l->s + n + 1);
			continue;
		}
		if (ld.dev && (l->indent > base || (!blank && !is_prompt(l->s)) ||
			       is_detail_key(l->s))) {
			ndetail++;
			ret = read_detail(lx, &ld, l);
			continue;
		}
		if (is_prompt(l->s) || starts(l->s, "lspci: ") || starts(l->s, "pcilib: "))
			p2pdma_log(lx->ctx, P2PDMA_LOG_INFO, "%s:%u: skipped: %s", lx->name, l->no, l->s);
		else
			warn(lx, l->no, "not lspci output: skipped");
	}
	if (ret)
		return ret;
	if (!ndetail) {
		/* Plain lspci (-n, -nn, -D): one line a function. */
		for (i = 0; i < lx->topo->ndevs; i++) {
			ld.dev = lx->topo->devs[i];
			end_dev(lx, &ld, true);
		}
		infer_buses(lx, lx->lines[first].no);
		return 0;
	}
	end_dev(lx, &ld, false);
	/*
	 * A function that may have extended space, whose capabilities were
	 * readable, and that lists no extended capability: lspci as root
	 * prints every one the kernel's config file holds, so there is none,
	 * and no ACS (pci_find_ext_capability() finds nothing). Only text
	 * that lspci -F printed from a 256-byte dump (lspci -xxx) looks the
	 * same while the space was never read; where no function shows any
	 * extended capability, say so.
	 */
	for (i = 0; i < lx->topo->ndevs; i++) {
		struct p2pdma_dev *d = lx->topo->devs[i];

		/* Not root (capabilities denied elsewhere): a silent host bridge tells nothing. */
		if (d->acs_state != P2PDMA_ACS_UNKNOWN || d->acs_pos || lx->any_denied ||
		    (d->pcie_type == P2PDMA_PCIE_NONE && (d->class_code >> 8) != CLASS_HOST))
			continue;
		d->acs_state = P2PDMA_ACS_ABSENT;
		if (!lx->any_ext_caps && !lx->warned_no_ext) {
			lx->warned_no_ext = true;
			p2pdma_log(lx->ctx, P2PDMA_LOG_INFO,
				   "%s: no function shows an extended capability: ACS taken as absent, "
				   "as a live lspci run as root shows it (text printed from a 256-byte "
				   "dump, lspci -xxx, would hide ACS)", lx->name);
		}
	}
	return 0;
}

/* --- trees (lspci -t, -tv, -tvnn) --- */

/*
 * lspci -t draws each bus's functions as a list: the first entry after
 * "+-" (more follow) or "--" (the only one), later ones on following lines
 * at the same column, "|" marking lists still open to their left and "\-"
 * the last entry. A bridge shows its range "-[SS-EE]-" and its secondary
 * bus's list after it; the host's root buses are lists of "[DDDD:BB]-".
 */
enum tl_kind { TL_DEVS, TL_BUSES };

struct tl_list {
	unsigned int col;
	enum tl_kind kind;
	uint32_t domain;
	uint8_t bus;		/* TL_DEVS: the bus the entries sit on */
	bool open;		/* more entries follow ("+-" seen, no "\-" yet) */
};

struct tree {
	struct lx *lx;
	const struct lx_line *l;
	const char *s;		/* the line, from the tree's own column 0 */
	size_t len;
	struct tl_list lists[128];
	unsigned int nlists;
};

static int tree_err(struct tree *t, size_t pos, const char *what)
{
	return p2pdma_err(t->lx->ctx, -EINVAL, "%s:%u: column %zu: %s (a cut or garbled lspci -t tree?)",
			  t->lx->name, t->l->no, pos + 1, what);
}

static int push_list(struct tree *t, size_t col, enum tl_kind kind, uint32_t dom,
		     uint8_t bus, bool open)
{
	struct tl_list *tl;

	if (t->nlists == sizeof(t->lists) / sizeof(t->lists[0]))
		return tree_err(t, col, "tree nested too deep");
	tl = &t->lists[t->nlists++];
	tl->col = (unsigned int)col;
	tl->kind = kind;
	tl->domain = dom;
	tl->bus = bus;
	tl->open = open;
	return 0;
}

static int tree_bus_children(struct tree *t, size_t pos, uint32_t dom, uint8_t bus);
static int tree_bus_entry(struct tree *t, size_t pos);

/* "DD.F" and what follows it: a name, or a bridge's range and its bus. */
static int tree_dev(struct tree *t, size_t pos, uint32_t dom, uint8_t bus)
{
	const char *s = t->s;
	struct p2pdma_dev *d;
	unsigned int dv, fn;
	int ret;

	if (pos + 4 > t->len || !is_hex_n(s + pos, 2) || s[pos + 2] != '.' ||
	    !isdigit((unsigned char)s[pos + 3]))
		return tree_err(t, pos, "expected a function \"DD.F\"");
	dv = (unsigned int)hex_n(s + pos, 2);
	fn = (unsigned int)(s[pos + 3] - '0');
	if (dv > 0x1f || fn > 7)
		return tree_err(t, pos, "function address out of range");
	d = new_dev(t->lx, dom, bus, (uint8_t)(dv << 3 | fn), t->l->no, &ret);
	if (!d)
		return ret;
	pos += 4;
	if (pos == t->len)
		return 0;
	if (starts(s + pos, "  ")) {
		const char *name = s + pos + 2;
		bool fnames;

		ret = read_pair(t->lx, t->l->no, name, t->len - pos - 2, LSPCI_NAMEBUF, NULL,
				&d->vendor, &d->device, &fnames);
		if (!ret && t->lx->names_on && d->vendor == ID_UNKNOWN)
			ret = set_name(&d->device_name, name, t->len - pos - 2);
		return ret;
	}
	if (starts(s + pos, "-[")) {
		unsigned int sec, sub;
		size_t p = pos + 2;

		if (p + 3 > t->len || !is_hex_n(s + p, 2))
			return tree_err(t, p, "expected a bus range \"[SS-EE]\"");
		sec = sub = (unsigned int)hex_n(s + p, 2);
		p += 2;
		if (s[p] == '-') {
			if (p + 4 > t->len || !is_hex_n(s + p + 1, 2))
				return tree_err(t, p, "expected a bus range \"[SS-EE]\"");
			sub = (unsigned int)hex_n(s + p + 1, 2);
			p += 3;
		}
		if (s[p] != ']' || !starts(s + p + 1, "--"))
			return tree_err(t, p, "expected \"]--\" after a bus range");
		d->header_type = 1;
		d->secondary = (uint8_t)sec;
		d->subordinate = (uint8_t)sub;
		d->primary = bus;
		p += 3;
		if (p == t->len)
			return 0;	/* nothing on its secondary bus */
		if ((s[p] == '+' || s[p] == '\\') && starts(s + p + 1, "-[")) {
			ret = push_list(t, p, TL_BUSES, dom, 0, s[p] == '+');
			return ret ? ret : tree_bus_entry(t, p + 2);
		}
		return tree_bus_children(t, p, dom, (uint8_t)sec);
	}
	if (!strcmp(s + pos, "--")) {
		/* An unconfigured bridge (secondary 0): nothing below it. */
		d->header_type = 1;
		return 0;
	}
	return tree_err(t, pos, "expected a name, a bus range or the end of the line");
}

/* After a bus: "--DD.F" (its only function), "+-DD.F" (the first of several), or nothing. */
static int tree_bus_children(struct tree *t, size_t pos, uint32_t dom, uint8_t bus)
{
	const char *s = t->s;
	int ret;

	if (pos == t->len)
		return 0;
	if (starts(s + pos, "--"))
		return tree_dev(t, pos + 2, dom, bus);
	if (s[pos] == '+' || s[pos] == '\\') {
		if (pos + 1 >= t->len || s[pos + 1] != '-')
			return tree_err(t, pos, "expected \"-\" after a branch");
		ret = push_list(t, pos, TL_DEVS, dom, bus, s[pos] == '+');
		return ret ? ret : tree_dev(t, pos + 2, dom, bus);
	}
	return tree_err(t, pos, "expected \"--\", \"+-\" or the end of the line after a bus");
}

/* "[DDDD:BB]-" and the bus's functions. */
static int tree_bus_entry(struct tree *t, size_t pos)
{
	const char *s = t->s, *close;
	unsigned long dom, bus;
	size_t n;

	if (s[pos] != '[' || !(close = strchr(s + pos, ']')))
		return tree_err(t, pos, "expected a bus \"[DDDD:BB]\"");
	for (n = 0; isxdigit((unsigned char)s[pos + 1 + n]); n++)
		;
	if (n < 4 || n > 7 || s[pos + 1 + n] != ':' || !is_hex_n(s + pos + 2 + n, 2) ||
	    s + pos + 4 + n != close)
		return tree_err(t, pos, "expected a bus \"[DDDD:BB]\"");
	dom = hex_n(s + pos + 1, n);
	bus = hex_n(s + pos + 2 + n, 2);
	pos = (size_t)(close - s) + 1;
	if (s[pos] != '-')
		return tree_err(t, pos, "expected \"-\" after a bus");
	return tree_bus_children(t, pos + 1, (uint32_t)dom, (uint8_t)bus);
}

static int read_tree(struct lx *lx, size_t first)
{
	struct tree t = { .lx = lx };
	unsigned int base = lx->lines[first].col0, ntree = 0;
	size_t i;
	int ret = 0;

	for (i = first; i < lx->nlines && !ret; i++) {
		const struct lx_line *l = &lx->lines[i];
		size_t c, k;

		if (!*l->s)
			continue;
		t.l = l;
		/* The tree's columns start where its first line did. */
		if (l->col0 < base || strspn(l->raw, " \t") < base) {
			if (is_prompt(l->s) || starts(l->s, "lspci: ")) {
				p2pdma_log(lx->ctx, P2PDMA_LOG_INFO, "%s:%u: skipped: %s",
					   lx->name, l->no, l->s);
				continue;
			}
			return p2pdma_err(lx->ctx, -EINVAL,
					  "%s:%u: not part of the tree (indented less than its first line)",
					  lx->name, l->no);
		}
		t.s = l->raw + base;
		t.len = strlen(t.s);
		if (ntree++ == 0) {
			if (t.s[0] != '-')
				return tree_err(&t, 0, "a tree starts with \"-[\" or \"-+-[\"");
			if (t.s[1] == '+' || t.s[1] == '\\') {
				ret = push_list(&t, 1, TL_BUSES, 0, 0, t.s[1] == '+');
				if (!ret)
					ret = tree_bus_entry(&t, 3);
			} else {
				ret = tree_bus_entry(&t, 1);
			}
			continue;
		}
		if (t.s[0] == '-' && is_tree_start(t.s))
			return p2pdma_err(lx->ctx, -EINVAL,
					  "%s:%u: a second tree starts here (two lspci -t outputs pasted together?)",
					  lx->name, l->no);
		/* Continuation: "|" under every open list left of the new entry. */
		for (c = 0; c < t.len && (t.s[c] == ' ' || t.s[c] == '|'); c++)
			;
		if (c == t.len || (t.s[c] != '+' && t.s[c] != '\\') || t.s[c + 1] != '-') {
			if (is_prompt(l->s) || starts(l->s, "lspci: ")) {
				p2pdma_log(lx->ctx, P2PDMA_LOG_INFO, "%s:%u: skipped: %s",
					   lx->name, l->no, l->s);
				continue;
			}
			return tree_err(&t, c, "expected a branch \"+-\" or \"\\-\"");
		}
		/* Lists right of the branch must have ended with "\-". */
		while (t.nlists && t.lists[t.nlists - 1].col > c) {
			if (t.lists[t.nlists - 1].open)
				return tree_err(&t, c, "a branch above it at a deeper column never ended "
						"(inconsistent indentation)");
			t.nlists--;
		}
		if (!t.nlists || t.lists[t.nlists - 1].col != c || !t.lists[t.nlists - 1].open)
			return tree_err(&t, c, "this branch continues no open list above it "
					"(inconsistent indentation)");
		for (k = 0; k < t.nlists - 1; k++) {
			const struct tl_list *o = &t.lists[k];
			char want = o->open ? '|' : ' ';

			if (o->col >= c || t.s[o->col] != want)
				return tree_err(&t, o->col, o->open ?
						"expected \"|\" of a list still open above" :
						"\"|\" under a list that already ended");
		}
		for (k = 0; k < c; k++) {
			bool at_list = false;
			size_t m;

			for (m = 0; m + 1 < t.nlists; m++)
				at_list = at_list || t.lists[m].col == k;
			if (t.s[k] == '|' && !at_list)
				return tree_err(&t, k, "\"|\" where no list is open (inconsistent indentation)");
		}
		{
			struct tl_list *cur = &t.lists[t.nlists - 1];
			uint32_t dom = cur->domain;
			uint8_t bus = cur->bus;
			enum tl_kind kind = cur->kind;

			if (t.s[c] == '\\')
				cur->open = false;
			ret = kind == TL_DEVS ? tree_dev(&t, c + 2, dom, bus) :
						tree_bus_entry(&t, c + 2);
		}
	}
	if (ret)
		return ret;
	for (i = 0; i < t.nlists; i++)
		if (t.lists[i].open)
			return p2pdma_err(lx->ctx, -EINVAL,
					  "%s:%u: the tree ends inside a list (no final \"\\-\": cut short?)",
					  lx->name, lx->lines[lx->nlines - 1].no);
	return 0;
}

/* --- the source --- */

static void set_multifunction(struct p2pdma_topo *t)
{
	uint32_t i, j;

	for (i = 0; i < t->ndevs; i++) {
		struct p2pdma_dev *d = t->devs[i];

		for (j = 0; j < t->ndevs && !d->multifunction && !d->is_vf; j++) {
			const struct p2pdma_dev *o = t->devs[j];

			d->multifunction = o != d && !o->is_vf && o->domain == d->domain &&
					   o->bus == d->bus && (o->devfn >> 3) == (d->devfn >> 3);
		}
	}
}

/*
 * A function whose IDs stayed unknown keeps what the text called it; the
 * database would only say what 0xffff is.
 */
static int name_unknowns(struct lx *lx)
{
	uint32_t i;

	if (!lx->names_on)
		return 0;
	for (i = 0; i < lx->topo->ndevs; i++) {
		struct p2pdma_dev *d = lx->topo->devs[i];
		int ret;

		if (d->vendor != ID_UNKNOWN || d->vendor_name)
			continue;
		ret = set_name(&d->vendor_name, d->device_name ? "" : "unknown",
			       d->device_name ? 0 : 7);
		if (!ret && !d->device_name)
			ret = set_name(&d->device_name, "", 0);
		if (ret)
			return ret;
	}
	return 0;
}

static int load_text(struct p2pdma_ctx *ctx, const char *text, size_t len,
		     const char *name, struct p2pdma_topo **out)
{
	const char *names_param = p2pdma_ctx_get_param(ctx, "names");
	struct lx lx = { .ctx = ctx, .name = name };
	char *copy = malloc(len + 1);
	size_t i;
	int ret = 0;
	bool tree = false, found = false;

	*out = NULL;
	if (!copy)
		return p2pdma_err(ctx, -ENOMEM, "%s: out of memory", name);
	memcpy(copy, text, len);
	copy[len] = '\0';
	lx.names_on = !(names_param && !strcmp(names_param, "0"));
	lx.topo = p2pdma_topo_alloc(ctx, P2PDMA_SRC_LSPCI, name);
	if (!lx.topo) {
		free(copy);
		return p2pdma_err(ctx, -ENOMEM, "%s: out of memory", name);
	}
	ret = split_lines(&lx, copy, len);
	/* Above the output: the command and its prompt, or a note. */
	for (i = 0; !ret && i < lx.nlines; i++) {
		const struct lx_line *l = &lx.lines[i];
		uint32_t dom;
		uint8_t bus, devfn;

		if (!*l->s)
			continue;
		if (is_tree_start(l->s)) {
			tree = found = true;
			break;
		}
		if (parse_bdf(l->s, &dom, &bus, &devfn)) {
			found = true;
			break;
		}
	}
	/* Only once the output is found is what stood above it worth a word. */
	if (!ret && found) {
		size_t j;

		for (j = 0; j < i; j++) {
			const struct lx_line *l = &lx.lines[j];

			if (!*l->s)
				continue;
			if (is_prompt(l->s) || starts(l->s, "lspci: "))
				p2pdma_log(ctx, P2PDMA_LOG_INFO, "%s:%u: skipped: %s", name, l->no, l->s);
			else
				warn(&lx, l->no, "not lspci output: skipped");
		}
	}
	if (!ret && !found)
		ret = p2pdma_err(ctx, -EINVAL,
				 "%s:%u: no lspci output found (expected lines like \"00:02.0 PCI bridge: ...\" "
				 "from lspci -vv, or a tree from lspci -t)",
				 name, lx.nlines ? lx.lines[lx.nlines - 1].no : 1);
	if (!ret)
		ret = tree ? read_tree(&lx, i) : read_listing(&lx, i);
	if (!ret && !lx.topo->ndevs)
		ret = p2pdma_err(ctx, -EINVAL, "%s: no PCI functions", name);
	if (!ret && tree) {
		for (i = 0; i < lx.topo->ndevs; i++)
			lx.topo->devs[i]->acs_state = P2PDMA_ACS_UNKNOWN;
	}
	if (!ret)
		ret = p2pdma_topo_finalize(lx.topo, name);
	if (!ret) {
		set_multifunction(lx.topo);
		ret = name_unknowns(&lx);
	}
	if (!ret) {
		/* IDs the text gave but no name for them yet: the database's. */
		ret = p2pdma_names_fill(lx.topo);
		if (ret)
			p2pdma_err(ctx, ret, "%s: out of memory", name);
	}
	p2pdma_names_close(lx.names);
	for (i = 0; i < MAX_WARNINGS; i++)
		free(lx.warned[i]);
	free(lx.lines);
	free(lx.dev_lines);
	free(copy);
	if (ret) {
		p2pdma_topo_destroy(lx.topo);
		return ret;
	}
	*out = lx.topo;
	return 0;
}

P2PDMA_EXPORT int p2pdma_topo_load_lspci_string(struct p2pdma_ctx *ctx, const char *text,
						const char *name, struct p2pdma_topo **out)
{
	return p2pdma_input_parse_string(ctx, text, name, load_text, out);
}

P2PDMA_EXPORT int p2pdma_topo_load_lspci(struct p2pdma_ctx *ctx, const char *path,
					 struct p2pdma_topo **out)
{
	static const struct p2pdma_input_limits lim = {
		.max_line = P2PDMA_INPUT_MAX_LINE, .text = true, .what = "lspci text output",
	};

	return p2pdma_input_parse_path(ctx, path, &lim, load_text, out);
}
