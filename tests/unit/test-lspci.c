// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-lspci.c - lspci's text output read back, against the dump it came from */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

/*
 * tests/fixtures/lspci-text/MACHINE/lspci-FORM.txt.gz were printed by the
 * real lspci from MACHINE's dump (scripts/make-lspci-text.sh). The CLI test
 * lspci-text.sh compares the verdicts; here the model itself.
 */
static const char *const forms[] = {
	"vvv", "vvvnn", "vvvnnD", "vv", "v", "n", "tv", "tvnn", "t",
};
#define NFORMS (sizeof(forms) / sizeof(forms[0]))

static bool is_tree(const char *form) { return form[0] == 't'; }
static bool has_acs(const char *form) { return !strncmp(form, "vv", 2); }
static bool has_ids(const char *form) { return strstr(form, "nn") || !strcmp(form, "n"); }

static struct p2pdma_topo *load_text_ok(struct p2pdma_ctx *ctx, const char *text,
					const char *name)
{
	struct p2pdma_topo *t = NULL;
	int ret = p2pdma_topo_load_lspci_string(ctx, text, name, &t);

	if (ret)
		print_error("%s: %s\n", name, p2pdma_ctx_error(ctx));
	assert_int_equal(ret, 0);
	assert_int_equal(p2pdma_topo_source(t), P2PDMA_SRC_LSPCI);
	fixture_assert_invariants(t);
	return t;
}

/* The dump MACHINE's text was printed from. */
static struct p2pdma_topo *load_dump_of(struct p2pdma_ctx *ctx, const char *machine)
{
	char rel[512], tmp[] = "/tmp/p2pdma-lspci-XXXXXX";
	struct p2pdma_topo *t = NULL;
	char *text;
	FILE *f;
	int fd, ret;

	snprintf(rel, sizeof(rel), "kernel/%s/lspci-xxxx.txt.gz", machine);
	if (!access(fixture_path(rel), R_OK)) {
		text = fixture_read(fixture_path(rel), true, NULL);
		fd = mkstemp(tmp);
		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		fputs(text, f);
		fclose(f);
		free(text);
		ret = p2pdma_topo_load_dump(ctx, tmp, &t);
		unlink(tmp);
	} else {
		snprintf(rel, sizeof(rel), "dumps/%s.lspci", machine);
		ret = p2pdma_topo_load_dump(ctx, fixture_path(rel), &t);
	}
	if (ret)
		print_error("%s: %s\n", machine, p2pdma_ctx_error(ctx));
	assert_int_equal(ret, 0);
	return t;
}

struct tally {
	unsigned int machines, loads, ids_known, ids_unknown, ids_not_in_form, field_checks;
};

/* Same functions, each with the same upstream bridge and host bridge. */
static void assert_same_shape(const struct p2pdma_topo *d, const struct p2pdma_topo *t,
			      const char *what)
{
	size_t i;

	if (p2pdma_topo_num_devs(d) != p2pdma_topo_num_devs(t))
		print_error("%s: %zu functions, the dump has %zu\n", what,
			    p2pdma_topo_num_devs(t), p2pdma_topo_num_devs(d));
	assert_int_equal(p2pdma_topo_num_devs(d), p2pdma_topo_num_devs(t));
	assert_int_equal(p2pdma_topo_num_host_bridges(d), p2pdma_topo_num_host_bridges(t));
	for (i = 0; i < p2pdma_topo_num_devs(d); i++) {
		const struct p2pdma_dev *a = p2pdma_topo_dev(d, i), *b = p2pdma_topo_dev(t, i);
		const char *ua = a->upstream ? a->upstream->name : "-";
		const char *ub = b->upstream ? b->upstream->name : "-";

		assert_string_equal(a->name, b->name);
		if (strcmp(ua, ub))
			print_error("%s: %s: upstream %s, the dump says %s\n", what, a->name, ub, ua);
		assert_string_equal(ua, ub);
		assert_int_equal(a->hb->bus, b->hb->bus);
		assert_int_equal(a->hb->domain, b->hb->domain);
		assert_int_equal(p2pdma_dev_is_bridge(a), p2pdma_dev_is_bridge(b));
		if (p2pdma_dev_is_bridge(a)) {
			assert_int_equal(a->secondary, b->secondary);
			assert_int_equal(a->subordinate, b->subordinate);
		}
	}
}

/* What -vv and up carry, field by field; IDs where the text let them be known. */
static void assert_same_fields(const struct p2pdma_topo *d, const struct p2pdma_topo *t,
			       const char *form, const char *what, struct tally *tl)
{
	size_t i;

	for (i = 0; i < p2pdma_topo_num_devs(d); i++) {
		const struct p2pdma_dev *a = p2pdma_topo_dev(d, i), *b = p2pdma_topo_dev(t, i);

		if (b->vendor == 0xffff && a->vendor != 0xffff &&
		    (is_tree(form) && (p2pdma_dev_is_bridge(a) || !strcmp(form, "t")))) {
			/* A tree names no bridge, and plain -t nothing at all. */
			tl->ids_not_in_form++;
		} else if (b->vendor == 0xffff && a->vendor != 0xffff) {
			/* Only a name two IDs share may stay unknown, and never with numbers. */
			if (has_ids(form))
				print_error("%s: %s: IDs unknown, the dump has %04x:%04x\n", what,
					    a->name, a->vendor, a->device);
			assert_false(has_ids(form));
			tl->ids_unknown++;
		} else {
			if (a->vendor != b->vendor || a->device != b->device)
				print_error("%s: %s: %04x:%04x, the dump has %04x:%04x\n", what,
					    a->name, b->vendor, b->device, a->vendor, a->device);
			assert_int_equal(a->vendor, b->vendor);
			assert_int_equal(a->device, b->device);
			tl->ids_known++;
		}
		if (is_tree(form)) {
			assert_int_equal(b->acs_state, P2PDMA_ACS_UNKNOWN);
			continue;
		}
		if (!strcmp(form, "n"))
			continue;
		assert_int_equal(a->class_code >> 8, b->class_code >> 8);
		assert_int_equal(a->revision, b->revision);
		assert_int_equal(a->header_type, b->header_type);
		if (a->pcie_type != b->pcie_type)
			print_error("%s: %s: port type %d, the dump has %d\n", what, a->name,
				    b->pcie_type, a->pcie_type);
		assert_int_equal(a->pcie_type, b->pcie_type);
		tl->field_checks += 4;
		if (!has_acs(form)) {
			/* lspci -v names ACS but prints no bits: unknown, never "absent". */
			if (a->acs_state == P2PDMA_ACS_PRESENT)
				assert_int_equal(b->acs_state, P2PDMA_ACS_UNKNOWN);
			continue;
		}
		if (a->acs_state != b->acs_state && a->acs_state != P2PDMA_ACS_UNKNOWN)
			print_error("%s: %s: ACS state %d, the dump has %d\n", what, a->name,
				    b->acs_state, a->acs_state);
		if (a->acs_state == P2PDMA_ACS_UNKNOWN)
			assert_int_not_equal(b->acs_state, P2PDMA_ACS_PRESENT);
		else
			assert_int_equal(a->acs_state, b->acs_state);
		if (a->acs_state == P2PDMA_ACS_PRESENT) {
			assert_int_equal(a->acs_cap, b->acs_cap);
			assert_int_equal(a->acs_ctrl, b->acs_ctrl);
			assert_int_equal(a->acs_pos, b->acs_pos);
		}
		fixture_assert_sriov_equal(a, b);
		assert_int_equal(a->is_vf, b->is_vf);
		if (b->pcie_type != P2PDMA_PCIE_RC_ENDPOINT &&
		    b->pcie_type != P2PDMA_PCIE_RC_EVENT_COLLECTOR) {
			assert_int_equal(a->link.width, b->link.width);
			assert_int_equal(a->link.max_width, b->link.max_width);
		}
		for (int k = 0; k < P2PDMA_NUM_BARS; k++) {
			assert_int_equal(a->bars[k].flags, b->bars[k].flags);
			assert_true(a->bars[k].bus == b->bars[k].bus);
		}
		if (p2pdma_dev_is_bridge(a)) {
			for (int w = 0; w < P2PDMA_WIN_COUNT; w++) {
				assert_int_equal(a->win[w].valid, b->win[w].valid);
				if (a->win[w].valid) {
					assert_true(a->win[w].base == b->win[w].base);
					assert_true(a->win[w].limit == b->win[w].limit);
				}
			}
		}
		tl->field_checks += 12;
	}
}

static void test_fixtures(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct tally tl = { 0 };
	struct dirent *e;
	DIR *dir = opendir(fixture_path("lspci-text"));

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir))) {
		struct p2pdma_topo *d;
		char rel[600], what[700];
		size_t f;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "VERSIONS"))
			continue;
		d = load_dump_of(ctx, e->d_name);
		tl.machines++;
		for (f = 0; f < NFORMS; f++) {
			struct p2pdma_topo *t;
			char *text;

			snprintf(rel, sizeof(rel), "lspci-text/%s/lspci-%s.txt.gz", e->d_name, forms[f]);
			snprintf(what, sizeof(what), "%s -%s", e->d_name, forms[f]);
			text = fixture_read(fixture_path(rel), true, NULL);
			t = load_text_ok(ctx, text, what);
			tl.loads++;
			assert_same_shape(d, t, what);
			assert_same_fields(d, t, forms[f], what, &tl);
			p2pdma_topo_destroy(t);
			free(text);
		}
		p2pdma_topo_destroy(d);
	}
	closedir(dir);
	print_message("lspci text: %u machines, %u forms loaded with the dump's shape; IDs: "
		      "%u equal to the dump's, %u unknown (a name two IDs share), %u not in the "
		      "form (tree bridges, -t); %u more fields equal\n",
		      tl.machines, tl.loads, tl.ids_known, tl.ids_unknown, tl.ids_not_in_form,
		      tl.field_checks);
	assert_true(tl.machines >= 55);
	assert_int_equal(tl.loads, tl.machines * NFORMS);
	p2pdma_ctx_destroy(ctx);
}

/* Indent every line by @indent, end lines with CRLF, add a prompt above and below. */
static char *paste(const char *text, const char *indent, bool crlf, bool tabs_to_spaces)
{
	size_t cap = strlen(text) * 3 + 256, n = 0;
	char *out = malloc(cap);
	const char *p = text;

	assert_non_null(out);
	n += (size_t)sprintf(out + n, "me@box:~$ sudo lspci -vvv%s\n", crlf ? "\r" : "");
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p), i;

		n += (size_t)sprintf(out + n, "%s", indent);
		for (i = 0; i < len; i++) {
			if (tabs_to_spaces && p[i] == '\t')
				n += (size_t)sprintf(out + n, "    ");
			else
				out[n++] = p[i];
		}
		n += (size_t)sprintf(out + n, "%s\n", crlf ? "\r" : "");
		p += len + (nl ? 1 : 0);
	}
	sprintf(out + n, "me@box:~$ \n");
	return out;
}

/* As people paste it: indented, CRLF, tabs gone to spaces, prompts around it. */
static void test_pasted(void **state)
{
	static const char *const machines[] = { "switch-nested-epyc", "pxb-two-qemu64",
						"example-epyc-2s", "mixed-epyc-iommu" };
	static const char *const pforms[] = { "vvvnn", "vv", "tvnn", "t", "n" };
	struct p2pdma_ctx *ctx = fixture_ctx();
	size_t m, f;

	(void)state;
	for (m = 0; m < sizeof(machines) / sizeof(machines[0]); m++) {
		struct p2pdma_topo *d = load_dump_of(ctx, machines[m]);

		for (f = 0; f < sizeof(pforms) / sizeof(pforms[0]); f++) {
			char rel[300], what[300];
			char *text, *pasted;
			struct p2pdma_topo *t;
			int v;

			snprintf(rel, sizeof(rel), "lspci-text/%s/lspci-%s.txt.gz", machines[m], pforms[f]);
			text = fixture_read(fixture_path(rel), true, NULL);
			for (v = 0; v < 3; v++) {
				pasted = paste(text, v == 0 ? "    " : v == 1 ? "\t" : "",
					       v != 1, v == 2);
				snprintf(what, sizeof(what), "%s -%s pasted (%d)", machines[m], pforms[f], v);
				t = load_text_ok(ctx, pasted, what);
				assert_same_shape(d, t, what);
				assert_same_fields(d, t, pforms[f], what, &(struct tally){ 0 });
				p2pdma_topo_destroy(t);
				free(pasted);
			}
			free(text);
		}
		p2pdma_topo_destroy(d);
	}
	p2pdma_ctx_destroy(ctx);
}

/* Truncated or garbled text: one error, with the line. */
static void test_bad_text(void **state)
{
	static const struct {
		const char *what, *text, *needle;
	} cases[] = {
		{ "nothing", "hello\nworld\n", "t:2: no lspci output found" },
		{ "empty", "", "no lspci output found" },
		{ "tree: branch with no list",
		  "-[0000:00]-+-00.0\n           +-01.0\n              \\-02.0\n",
		  "t:3: column 15: this branch continues no open list above it" },
		{ "tree: list never ended",
		  "-[0000:00]-+-00.0\n           +-01.0\n",
		  "t:2: the tree ends inside a list" },
		{ "tree: bar where none is open",
		  "-[0000:00]-+-00.0\n           +-02.0-[01]--+-00.0\n           |    |       \\-00.1\n           \\-03.0\n",
		  "t:3: column 17: \"|\" where no list is open" },
		{ "tree: deeper list not ended",
		  "-[0000:00]-+-02.0-[01]--+-00.0\n           \\-03.0\n",
		  "t:2: column 12: a branch above it at a deeper column never ended" },
		{ "tree: cut inside a range",
		  "-[0000:00]-+-00.0\n           \\-02.0-[0\n",
		  "t:2: column 20: expected a bus range" },
		{ "tree: garbled function",
		  "-[0000:00]-+-00.0\n           \\-zz.0\n",
		  "t:2: column 14: expected a function" },
		{ "tree: two trees",
		  "-[0000:00]---00.0\n-[0000:00]---00.0\n", "t:2: a second tree starts here" },
		{ "tree: duplicate", "-[0000:00]-+-00.0\n           \\-00.0\n",
		  "t:2: 0000:00:00.0 listed twice (also line 1)" },
		{ "listing: cut line", "00:00.0 Host bridge: Intel Corporation Device 1234\n00:01.0\n",
		  "t:2: 0000:00:01.0: nothing after the address" },
		{ "listing: cut class", "00:00.0 Host brid\n", "t:1: 0000:00:00.0: no \"CLASS: VENDOR DEVICE\"" },
		{ "listing: duplicate", "00:00.0 0600: 8086:1234\n00:00.0 0600: 8086:1234\n",
		  "t:2: 0000:00:00.0 listed twice (also line 1)" },
		{ "listing: bus numbers garbled",
		  "00:01.0 PCI bridge [0604]: Intel Corporation Device [8086:1234]\n"
		  "\tBus: primary=00, secondary=zz, subordinate=01, sec-latency=0\n",
		  "t:2: 0000:00:01.0: unreadable bus numbers" },
		{ "listing: a bridge claiming its own bus",
		  "00:01.0 PCI bridge [0604]: Intel Corporation Device [8086:1234]\n"
		  "\tBus: primary=00, secondary=00, subordinate=01, sec-latency=0\n",
		  "secondary bus 00 (not below it) with subordinate 01" },
	};
	struct p2pdma_ctx *ctx = fixture_ctx();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct p2pdma_topo *t = (struct p2pdma_topo *)1;
		int ret = p2pdma_topo_load_lspci_string(ctx, cases[i].text, "t", &t);

		if (ret != -EINVAL || !strstr(p2pdma_ctx_error(ctx), cases[i].needle))
			print_error("case '%s': ret %d '%s', want '%s'\n", cases[i].what, ret,
				    p2pdma_ctx_error(ctx), cases[i].needle);
		assert_int_equal(ret, -EINVAL);
		assert_non_null(strstr(p2pdma_ctx_error(ctx), cases[i].needle));
		assert_null(t);
		/* One line. */
		assert_null(strchr(p2pdma_ctx_error(ctx), '\n'));
	}
	p2pdma_ctx_destroy(ctx);
}

struct logbuf {
	char text[16384];
	size_t n;
};

static void log_fn(void *data, int level, const char *msg)
{
	struct logbuf *b = data;

	if (level > P2PDMA_LOG_WARNING)
		return;
	b->n += (size_t)snprintf(b->text + b->n, sizeof(b->text) - b->n, "%s\n", msg);
	if (b->n >= sizeof(b->text))
		b->n = sizeof(b->text) - 1;
}

/* What cannot be read is said, with its line; nothing is guessed silently. */
static void test_warnings(void **state)
{
	static const struct {
		const char *what, *text, *needle;
	} cases[] = {
		{ "-v: no bits",
		  "00:02.0 PCI bridge [0604]: Red Hat, Inc. QEMU PCIe Root port [1b36:000c] (prog-if 00 [Normal decode])\n"
		  "\tFlags: bus master, fast devsel, latency 0, IRQ 11\n"
		  "\tMemory at fea00000 (32-bit, non-prefetchable) [size=4K]\n"
		  "\tBus: primary=00, secondary=01, subordinate=01, sec-latency=0\n"
		  "\tCapabilities: [54] Express Root Port (Slot+), MSI 00\n"
		  "\tCapabilities: [148] Access Control Services\n",
		  "w:6: 0000:00:02.0: ACS capability without ACSCap/ACSCtl" },
		{ "-v: regions", "00:03.0 Ethernet controller [0200]: Intel Corporation Device [8086:10d3]\n"
		  "\tMemory at fea00000 (32-bit, non-prefetchable) [size=4K]\n",
		  "w:2: lspci -v prints regions without their numbers: BARs left out" },
		{ "unknown name", "00:03.0 Ethernet controller: Nobody Inc. Frobnicator 3000\n",
		  "w:1: 'Nobody Inc. Frobnicator 3000' is not in this PCI ID database" },
		{ "a note above", "Here is my lspci:\n00:00.0 0600: 8086:1234\n",
		  "w:1: not lspci output: skipped" },
		{ "garbled ACSCtl",
		  "00:02.0 PCI bridge [0604]: Red Hat, Inc. QEMU PCIe Root port [1b36:000c]\n"
		  "\tBus: primary=00, secondary=01, subordinate=01, sec-latency=0\n"
		  "\tCapabilities: [54] Express (v2) Root Port (Slot+), MSI 00\n"
		  "\tCapabilities: [148 v1] Access Control Services\n"
		  "\t\tACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans+\n"
		  "\t\tACSCtl:\tSrcValid+ TransBlk- ReqRe\n",
		  "w:6: unreadable ACSCtl: ACS unknown" },
		{ "plain lspci with bridges",
		  "00:00.0 0600: 8086:29c0\n00:02.0 0604: 1b36:000c\n01:00.0 0108: 1b36:0010 (rev 02)\n",
		  "w:1: plain lspci lists no bridge bus numbers" },
	};
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct logbuf lb;
	size_t i;

	(void)state;
	p2pdma_ctx_set_log(ctx, log_fn, &lb, P2PDMA_LOG_WARNING);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct p2pdma_topo *t = NULL;
		int ret;

		lb.n = 0;
		lb.text[0] = '\0';
		ret = p2pdma_topo_load_lspci_string(ctx, cases[i].text, "w", &t);
		if (ret || !strstr(lb.text, cases[i].needle))
			print_error("case '%s': ret %d '%s', log:\n%s", cases[i].what, ret,
				    p2pdma_ctx_error(ctx), lb.text);
		assert_int_equal(ret, 0);
		assert_non_null(strstr(lb.text, cases[i].needle));
		if (i == 0) {
			/* ... and ACS is unknown, not "absent", and no BAR was made up. */
			const struct p2pdma_dev *d = p2pdma_topo_dev(t, 0);

			assert_int_equal(d->acs_state, P2PDMA_ACS_UNKNOWN);
			assert_int_equal(d->bars[0].flags, 0);
			assert_int_equal(d->pcie_type, P2PDMA_PCIE_ROOT_PORT);
		}
		if (i == 4)
			assert_int_equal(p2pdma_topo_dev(t, 0)->acs_state, P2PDMA_ACS_UNKNOWN);
		if (i == 5) {
			const struct p2pdma_dev *nvme = p2pdma_topo_find(t, "01:00.0");

			assert_non_null(nvme);
			assert_string_equal(nvme->upstream->name, "0000:00:02.0");
		}
		p2pdma_topo_destroy(t);
	}
	p2pdma_ctx_destroy(ctx);
}

/* Names back to IDs through the ID database: unique, ambiguous, cut to lspci's buffer. */
static void test_names(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t;

	(void)state;
	if (access("/usr/share/misc/pci.ids", R_OK)) {
		p2pdma_ctx_destroy(ctx);
		skip();
	}
	p2pdma_ctx_set_param(ctx, "pci.ids", "/usr/share/misc/pci.ids");
	t = load_text_ok(ctx,
		"00:00.0 Host bridge: Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller\n"
		"\tSubsystem: Red Hat, Inc. QEMU Virtual Machine\n"
		"00:1f.2 SATA controller: Intel Corporation 82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode] (rev 02) (prog-if 01 [AHCI 1.0])\n"
		"00:03.0 Ethernet controller: Intel Corporation 82574L Gigabit Network Connection\n"
		"00:04.0 Non-Volatile memory controller: Red Hat, Inc. QEMU NVM Express Controller (rev 02) (prog-if 02 [NVM Express])\n"
		"00:05.0 Ethernet controller: Intel Corporation Device 0bad\n"
		"00:06.0 Unclassified device [00ff]: Device 1234:5678\n", "names");
	assert_int_equal(p2pdma_topo_find(t, "00:00.0")->vendor, 0x8086);
	assert_int_equal(p2pdma_topo_find(t, "00:00.0")->device, 0x29c0);
	assert_int_equal(p2pdma_topo_find(t, "00:00.0")->class_code, 0x060000);
	assert_int_equal(p2pdma_topo_find(t, "00:00.0")->subvendor, 0x1af4);
	assert_int_equal(p2pdma_topo_find(t, "00:00.0")->subdevice, 0x1100);
	assert_int_equal(p2pdma_topo_find(t, "00:1f.2")->device, 0x2922);
	assert_int_equal(p2pdma_topo_find(t, "00:1f.2")->class_code, 0x010601);
	assert_int_equal(p2pdma_topo_find(t, "00:1f.2")->revision, 2);
	/* 8086:10d3 and 8086:10f6 share the name: unknown, not a pick. */
	assert_int_equal(p2pdma_topo_find(t, "00:03.0")->vendor, 0xffff);
	assert_int_equal(p2pdma_topo_find(t, "00:04.0")->vendor, 0x1b36);
	assert_int_equal(p2pdma_topo_find(t, "00:04.0")->class_code, 0x010802);
	assert_int_equal(p2pdma_topo_find(t, "00:05.0")->device, 0x0bad);
	assert_int_equal(p2pdma_topo_find(t, "00:06.0")->vendor, 0x1234);
	assert_int_equal(p2pdma_topo_find(t, "00:06.0")->class_code, 0x00ff00);
	p2pdma_topo_destroy(t);

	/* No database: names stay names, IDs unknown, and the load still stands. */
	p2pdma_ctx_set_param(ctx, "pci.ids", "/nonexistent/pci.ids");
	t = load_text_ok(ctx, "00:00.0 Host bridge: Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller\n",
			 "no-db");
	assert_int_equal(p2pdma_topo_dev(t, 0)->vendor, 0xffff);
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_pasted),
		cmocka_unit_test(test_bad_text),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
