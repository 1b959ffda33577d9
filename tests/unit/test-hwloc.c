// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-hwloc.c - hwloc XML read back, against the sysfs tree lstopo read */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

static struct p2pdma_topo *load_xml_ok(struct p2pdma_ctx *ctx, const char *rel)
{
	char *xml = fixture_read(fixture_path(rel), true, NULL);
	struct p2pdma_topo *t = NULL;
	int ret = p2pdma_topo_load_hwloc_string(ctx, xml, rel, &t);

	if (ret)
		print_error("%s: %s\n", rel, p2pdma_ctx_error(ctx));
	assert_int_equal(ret, 0);
	assert_int_equal(p2pdma_topo_source(t), P2PDMA_SRC_HWLOC);
	fixture_assert_invariants(t);
	free(xml);
	return t;
}

/*
 * Every capture's XML (formats 1 and 2) against the capture itself: the
 * same functions, each with the same upstream bridge, host bridge, bus
 * range, IDs, class and revision; ACS unknown throughout.
 */
static void test_captures(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	unsigned int files = 0, funcs = 0;
	struct dirent *e;
	DIR *dir = opendir(fixture_path("hwloc"));

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir))) {
		char rel[600], name[300], sysfs[700];
		struct p2pdma_topo *t, *s = NULL;
		size_t l = strlen(e->d_name), i;
		int ret;

		if (l < 11 || (strcmp(e->d_name + l - 10, ".v1.xml.gz") &&
			       strcmp(e->d_name + l - 10, ".v2.xml.gz")))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(l - 10), e->d_name);
		snprintf(sysfs, sizeof(sysfs), "kernel/%s/sysfs.tar.gz", name);
		if (access(fixture_path(sysfs), R_OK))
			snprintf(sysfs, sizeof(sysfs), "sysfs/%s.tar.gz", name);
		if (access(fixture_path(sysfs), R_OK))
			continue;	/* not made from a capture (live-virtio-vm) */
		snprintf(rel, sizeof(rel), "hwloc/%s", e->d_name);
		t = load_xml_ok(ctx, rel);
		ret = p2pdma_topo_load_sysfs(ctx, fixture_path(sysfs), &s);
		if (ret)
			print_error("%s: %s\n", sysfs, p2pdma_ctx_error(ctx));
		assert_int_equal(ret, 0);
		files++;
		if (p2pdma_topo_num_devs(s) != p2pdma_topo_num_devs(t))
			print_error("%s: %zu functions, the capture has %zu\n", rel,
				    p2pdma_topo_num_devs(t), p2pdma_topo_num_devs(s));
		assert_int_equal(p2pdma_topo_num_devs(s), p2pdma_topo_num_devs(t));
		assert_int_equal(p2pdma_topo_num_host_bridges(s), p2pdma_topo_num_host_bridges(t));
		for (i = 0; i < p2pdma_topo_num_devs(s); i++) {
			const struct p2pdma_dev *a = p2pdma_topo_dev(s, i), *b = p2pdma_topo_dev(t, i);

			assert_string_equal(a->name, b->name);
			assert_string_equal(a->upstream ? a->upstream->name : "-",
					    b->upstream ? b->upstream->name : "-");
			assert_int_equal(a->hb->bus, b->hb->bus);
			assert_int_equal(p2pdma_dev_is_bridge(a), p2pdma_dev_is_bridge(b));
			assert_int_equal(a->secondary, b->secondary);
			assert_int_equal(a->subordinate, b->subordinate);
			assert_int_equal(a->vendor, b->vendor);
			assert_int_equal(a->device, b->device);
			assert_int_equal(a->class_code >> 8, b->class_code >> 8);
			assert_int_equal(a->revision, b->revision);
			assert_int_equal(b->acs_state, P2PDMA_ACS_UNKNOWN);
			funcs++;
		}
		p2pdma_topo_destroy(s);
		p2pdma_topo_destroy(t);
	}
	closedir(dir);
	print_message("hwloc: %u XML files (formats 1 and 2) agree with their captures on %u functions\n",
		      files, funcs);
	assert_true(files >= 102);
	p2pdma_ctx_destroy(ctx);
}

static const struct p2pdma_dev *find(const struct p2pdma_topo *t, const char *bdf)
{
	const struct p2pdma_dev *d = p2pdma_topo_find(t, bdf);

	if (!d)
		print_error("%s not found\n", bdf);
	assert_non_null(d);
	return d;
}

/* Real machines from hwloc's own tests: format 3.0, GPUs and NICs named, VFs. */
static void test_upstream(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *t, *u;
	char diff[512];
	size_t i, gpus = 0;

	(void)state;
	t = load_xml_ok(ctx, "hwloc/upstream/nvidiaDGX2.v3.xml.gz");
	for (i = 0; i < p2pdma_topo_num_devs(t); i++) {
		const struct p2pdma_dev *d = p2pdma_topo_dev(t, i);

		if ((d->class_code >> 16) == 0x03 && d->label && strstr(d->label, "nvml"))
			gpus++;
	}
	assert_int_equal(gpus, 16);
	/* Its PCIe switches: each GPU two bridges below a root port. */
	assert_true(p2pdma_topo_num_devs(t) >= 80);
	p2pdma_topo_destroy(t);

	/* The same machine in formats 2.0 and 3.0: the same model. */
	t = load_xml_ok(ctx, "hwloc/upstream/cxlmem+dax.v2.xml.gz");
	u = load_xml_ok(ctx, "hwloc/upstream/cxlmem+dax.v3.xml.gz");
	assert_int_equal(!p2pdma_topo_equal(t, u, P2PDMA_CMP_ALL & ~P2PDMA_CMP_CONFIG,
					     diff, sizeof(diff)), 0);
	/* 3.0 carries the prog-if after the revision (AHCI 1.0). */
	assert_int_equal(find(u, "0000:00:1f.2")->class_code, 0x010601);
	assert_string_equal(find(u, "0000:00:1f.2")->label, "sr0, sda");
	assert_string_equal(find(u, "0000:00:02.0")->label, "enp0s2");
	p2pdma_topo_destroy(u);
	p2pdma_topo_destroy(t);

	t = load_xml_ok(ctx, "hwloc/upstream/16intel64-manyVFs.v2.xml.gz");
	u = load_xml_ok(ctx, "hwloc/upstream/16intel64-manyVFs.v3.xml.gz");
	assert_int_equal(p2pdma_topo_num_devs(t), p2pdma_topo_num_devs(u));
	assert_true(p2pdma_topo_num_devs(t) > 20);
	p2pdma_topo_destroy(u);
	p2pdma_topo_destroy(t);

	/* A live machine's OS devices. */
	t = load_xml_ok(ctx, "hwloc/live-virtio-vm.v2.xml.gz");
	assert_string_equal(find(t, "0000:00:02.0")->label, "vda");
	assert_string_equal(find(t, "0000:00:03.0")->label, "eth0");
	p2pdma_topo_destroy(t);
	p2pdma_ctx_destroy(ctx);
}

/*
 * The real lstopo as the oracle on this machine: its XML of the live
 * machine has the functions and hierarchy our live read has.
 */
static void test_live(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_topo *live = NULL, *t = NULL;
	char *tmp, path[4200], cmd[8600];
	size_t i;
	int ret;

	(void)state;
	if (access("/sys/bus/pci/devices", R_OK) || system("lstopo --version >/dev/null 2>&1")) {
		p2pdma_ctx_destroy(ctx);
		skip();
	}
	tmp = fixture_tmpdir();
	snprintf(path, sizeof(path), "%s/live.xml", tmp);
	snprintf(cmd, sizeof(cmd), "lstopo --filter io:all --of xml '%s' 2>/dev/null", path);
	if (system(cmd) || p2pdma_topo_load_live(ctx, &live)) {
		fixture_rmtree(tmp);
		free(tmp);
		p2pdma_ctx_destroy(ctx);
		skip();
	}
	ret = p2pdma_topo_load_hwloc(ctx, path, &t);
	if (ret)
		print_error("%s: %s\n", path, p2pdma_ctx_error(ctx));
	assert_int_equal(ret, 0);
	assert_int_equal(p2pdma_topo_num_devs(live), p2pdma_topo_num_devs(t));
	for (i = 0; i < p2pdma_topo_num_devs(live); i++) {
		const struct p2pdma_dev *a = p2pdma_topo_dev(live, i), *b = p2pdma_topo_dev(t, i);

		assert_string_equal(a->name, b->name);
		assert_string_equal(a->upstream ? a->upstream->name : "-",
				    b->upstream ? b->upstream->name : "-");
		assert_int_equal(a->vendor, b->vendor);
		assert_int_equal(a->device, b->device);
	}
	p2pdma_topo_destroy(t);
	p2pdma_topo_destroy(live);
	fixture_rmtree(tmp);
	free(tmp);
	p2pdma_ctx_destroy(ctx);
}

/* Broken or hostile XML: one error with the line, nothing loaded. */
static void test_bad_xml(void **state)
{
	static const struct {
		const char *what, *text, *needle;
		int err;
	} cases[] = {
		{ "not XML", "hello", "x:1: Start tag expected", -EINVAL },
		{ "cut short", "<topology version=\"2.0\">\n<object type=\"Machine\">\n",
		  "x:3:", -EINVAL },
		{ "not hwloc", "<?xml version=\"1.0\"?>\n<html/>\n",
		  "x:2: root element <html>, not <topology>", -EINVAL },
		{ "unknown version", "<topology version=\"9.1\"/>\n",
		  "x:1: hwloc XML format \"9.1\" not known", -EINVAL },
		{ "no PCI", "<topology version=\"2.0\"><object type=\"Machine\"/></topology>\n",
		  "no PCI objects: export the topology with its I/O", -EINVAL },
		{ "bad busid",
		  "<topology version=\"2.0\">\n<object type=\"Bridge\" bridge_type=\"0-1\" depth=\"0\" bridge_pci=\"0000:[00-01]\">\n"
		  "<object type=\"PCIDev\" pci_busid=\"0000:00:20.0\" pci_type=\"0200 [8086:10d3] [0000:0000] 00\"/>\n"
		  "</object></topology>\n", "x:3: malformed or missing pci_busid: 0000:00:20.0", -EINVAL },
		{ "bridge without range",
		  "<topology version=\"2.0\">\n<object type=\"Bridge\" bridge_type=\"1-1\" depth=\"0\" "
		  "pci_busid=\"0000:00:01.0\" pci_type=\"0604 [8086:1234] [0000:0000] 00\"/>\n</topology>\n",
		  "x:2: PCI bridge without bridge_pci", -EINVAL },
		{ "duplicate",
		  "<topology version=\"2.0\">\n"
		  "<object type=\"PCIDev\" pci_busid=\"0000:00:01.0\" pci_type=\"0200 [8086:10d3] [0000:0000] 00\"/>\n"
		  "<object type=\"PCIDev\" pci_busid=\"0000:00:01.0\" pci_type=\"0200 [8086:10d3] [0000:0000] 00\"/>\n"
		  "</topology>\n", "x:3: PCI function listed twice: 0000:00:01.0", -EINVAL },
		{ "entities",
		  "<?xml version=\"1.0\"?>\n<!DOCTYPE topology [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>\n"
		  "<topology version=\"2.0\"><object type=\"PCIDev\" pci_busid=\"&b;\"/></topology>\n",
		  "an internal DTD subset", -EINVAL },
		{ "external entity",
		  "<?xml version=\"1.0\"?>\n<!DOCTYPE topology [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
		  "<topology version=\"2.0\"><object type=\"Machine\" name=\"&x;\"/></topology>\n",
		  "x:3: Attribute references external entity", -EINVAL },
		{ "a bridge claiming its own bus",
		  "<topology version=\"2.0\">\n<object type=\"Bridge\" bridge_type=\"1-1\" depth=\"0\" "
		  "bridge_pci=\"0000:[00-02]\" pci_busid=\"0000:00:01.0\" pci_type=\"0604 [8086:1234] [0000:0000] 00\"/>\n"
		  "</topology>\n", "secondary bus 00 (not below it) with subordinate 02", -EINVAL },
	};
	struct p2pdma_ctx *ctx = fixture_ctx();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct p2pdma_topo *t = (struct p2pdma_topo *)1;
		int ret = p2pdma_topo_load_hwloc_string(ctx, cases[i].text, "x", &t);

		if (ret != cases[i].err || !strstr(p2pdma_ctx_error(ctx), cases[i].needle))
			print_error("case '%s': ret %d '%s', want '%s'\n", cases[i].what, ret,
				    p2pdma_ctx_error(ctx), cases[i].needle);
		assert_int_equal(ret, cases[i].err);
		assert_non_null(strstr(p2pdma_ctx_error(ctx), cases[i].needle));
		assert_null(t);
	}
	p2pdma_ctx_destroy(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_upstream),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_bad_xml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
