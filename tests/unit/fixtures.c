// SPDX-License-Identifier: LGPL-2.1-or-later
/* fixtures.c - helpers shared by the unit tests */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

const char *fixture_path(const char *rel)
{
	static char buf[4096];
	const char *src = getenv("P2PDMA_SRCDIR");

	if (!src)
		src = P2PDMA_SRCDIR;
	snprintf(buf, sizeof(buf), "%s/tests/fixtures/%s", src, rel);
	return buf;
}

struct p2pdma_ctx *fixture_ctx(void)
{
	struct p2pdma_ctx *ctx = NULL;

	assert_int_equal(p2pdma_ctx_create(&ctx), 0);
	p2pdma_ctx_set_param(ctx, "names", "0");
	return ctx;
}

struct p2pdma_topo *fixture_json(struct p2pdma_ctx *ctx, const char *json)
{
	struct p2pdma_topo *topo = NULL;
	int ret = p2pdma_topo_load_json_string(ctx, json, "test.json", &topo);

	if (ret)
		print_error("fixture_json: %s\n", p2pdma_ctx_error(ctx));
	assert_int_equal(ret, 0);
	return topo;
}

char *fixture_tmpdir(void)
{
	char tmpl[] = "/tmp/p2pdma-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fixture_rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fixture_assert_invariants(const struct p2pdma_topo *topo)
{
	char err[512] = "";
	int ret = p2pdma_topo_check(topo, err, sizeof(err));

	if (ret)
		print_error("invariant violated: %s\n", err);
	assert_int_equal(ret, 0);
}

struct p2pdma_dev *fixture_bridge(struct p2pdma_topo *t, uint32_t dom,
				  uint8_t bus, uint8_t dev, uint8_t fn,
				  int pcie_type, uint8_t sec, uint8_t sub)
{
	struct p2pdma_dev *d = p2pdma_topo_add_dev(t, dom, bus,
						   (uint8_t)(dev << 3 | fn));

	assert_non_null(d);
	d->vendor = 0x8086;
	d->device = 0x1000;
	d->class_code = 0x060400;
	d->header_type = 1;
	d->pcie_type = (int8_t)pcie_type;
	d->primary = bus;
	d->secondary = sec;
	d->subordinate = sub;
	return d;
}

struct p2pdma_dev *fixture_endpoint(struct p2pdma_topo *t, uint32_t dom,
				    uint8_t bus, uint8_t dev, uint8_t fn,
				    int pcie_type)
{
	struct p2pdma_dev *d = p2pdma_topo_add_dev(t, dom, bus,
						   (uint8_t)(dev << 3 | fn));

	assert_non_null(d);
	d->vendor = 0x10de;
	d->device = 0x2330;
	d->class_code = 0x030200;
	d->pcie_type = (int8_t)pcie_type;
	return d;
}

void fixture_acs(struct p2pdma_dev *d, uint16_t cap, uint16_t ctrl)
{
	d->acs_state = P2PDMA_ACS_PRESENT;
	d->acs_pos = 0x100;
	d->acs_cap = cap;
	d->acs_ctrl = ctrl;
}

struct p2pdma_ctx *test_ctx;

int fixture_ctx_setup(void **state)
{
	(void)state;
	test_ctx = fixture_ctx();
	return test_ctx ? 0 : -1;
}

int fixture_ctx_teardown(void **state)
{
	(void)state;
	p2pdma_ctx_destroy(test_ctx);
	test_ctx = NULL;
	return 0;
}

char *fixture_read(const char *path, bool gz, size_t *len)
{
	char cmd[4300];
	size_t cap = 1 << 16, n = 0, r;
	char *buf = malloc(cap + 1);
	FILE *f;

	assert_non_null(buf);
	if (gz) {
		snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
		f = popen(cmd, "r");
	} else {
		f = fopen(path, "rb");
	}
	assert_non_null(f);
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	if (gz)
		assert_int_equal(pclose(f), 0);
	else
		assert_int_equal(fclose(f), 0);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

void fixture_assert_sriov_equal(const struct p2pdma_dev *a,
				const struct p2pdma_dev *b)
{
	assert_int_equal(a->has_sriov, b->has_sriov);
	if (!a->has_sriov)
		return;
	assert_int_equal(a->sriov_total, b->sriov_total);
	assert_int_equal(a->sriov_num, b->sriov_num);
	assert_int_equal(a->sriov_offset, b->sriov_offset);
	assert_int_equal(a->sriov_stride, b->sriov_stride);
	assert_int_equal(a->sriov_vf_device, b->sriov_vf_device);
}
