// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-config.c - the config-space codec: hand-made images, malformed lists, round trips */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

static uint8_t img[P2PDMA_CFG_SIZE];

static void w8(size_t pos, uint8_t v)
{
	img[pos] = v;
}

static void w16(size_t pos, uint16_t v)
{
	img[pos] = (uint8_t)v;
	img[pos + 1] = (uint8_t)(v >> 8);
}

static void w32(size_t pos, uint32_t v)
{
	w16(pos, (uint16_t)v);
	w16(pos + 2, (uint16_t)(v >> 16));
}

/* A blank header: IDs, class, header type, and the capability list bit. */
static void header(uint16_t vendor, uint16_t device, uint32_t class_code,
		   uint8_t hdr)
{
	memset(img, 0, sizeof(img));
	w16(0x00, vendor);
	w16(0x02, device);
	w16(0x06, 0x0010);
	w8(0x08, 0xa1);
	w8(0x09, (uint8_t)class_code);
	w8(0x0a, (uint8_t)(class_code >> 8));
	w8(0x0b, (uint8_t)(class_code >> 16));
	w8(0x0e, hdr);
}

/* Standard capability at @pos with @next, plus the PCIe registers. */
static void pcie_cap(size_t pos, uint8_t next, int type, uint8_t max_speed,
		     uint8_t max_width, uint8_t speed, uint8_t width)
{
	w8(pos, 0x10);
	w8(pos + 1, next);
	w16(pos + 2, (uint16_t)(0x2 | type << 4));
	w32(pos + 0x0c, (uint32_t)max_speed | (uint32_t)max_width << 4 | 0x01000000);
	w16(pos + 0x12, (uint16_t)(speed | width << 4));
}

static void ext_cap(size_t pos, uint16_t id, uint16_t next)
{
	w32(pos, (uint32_t)id | 1u << 16 | (uint32_t)next << 20);
}

static struct p2pdma_dev *blank_dev(void)
{
	struct p2pdma_dev *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->pcie_type = P2PDMA_PCIE_NONE;
	return d;
}

static void test_endpoint(void **state)
{
	struct p2pdma_dev *d = blank_dev();

	(void)state;
	header(0x15b3, 0x101d, 0x020000, 0x80);
	w32(0x10, 0xc000000c);		/* BAR0: 64-bit prefetchable */
	w32(0x14, 0x00000020);		/*       upper half */
	w32(0x18, 0x0000e001);		/* BAR2: IO */
	w32(0x1c, 0xfe000000);		/* BAR3: 32-bit memory */
	w16(0x2c, 0x15b3);
	w16(0x2e, 0x0042);
	w8(0x34, 0x60);
	pcie_cap(0x60, 0x00, P2PDMA_PCIE_ENDPOINT, 4, 16, 3, 8);
	ext_cap(0x100, 0x0001, 0x150);	/* AER first, as real devices do */
	ext_cap(0x150, 0x000d, 0x180);	/* ACS */
	w16(0x154, 0x005f);
	w16(0x156, 0x0004);
	ext_cap(0x180, 0x0010, 0x000);	/* SR-IOV */
	w16(0x18e, 16);
	w16(0x190, 4);
	w16(0x194, 1);
	w16(0x196, 2);
	w16(0x19a, 0x101e);

	assert_int_equal(p2pdma_config_decode(d, img, sizeof(img)), 0);
	assert_int_equal(d->vendor, 0x15b3);
	assert_int_equal(d->device, 0x101d);
	assert_int_equal(d->class_code, 0x020000);
	assert_int_equal(d->revision, 0xa1);
	assert_int_equal(d->header_type, 0);
	assert_true(d->multifunction);
	assert_int_equal(d->subvendor, 0x15b3);
	assert_int_equal(d->subdevice, 0x0042);
	assert_int_equal(d->bars[0].flags,
			 P2PDMA_BAR_MEM | P2PDMA_BAR_64 | P2PDMA_BAR_PREFETCH);
	assert_int_equal(d->bars[0].bus, 0x20c0000000ull);
	assert_int_equal(d->bars[0].size, 0);
	assert_int_equal(d->bars[1].flags, 0);	/* consumed by BAR0 */
	assert_int_equal(d->bars[2].flags, P2PDMA_BAR_IO);
	assert_int_equal(d->bars[2].bus, 0xe000);
	assert_int_equal(d->bars[3].flags, P2PDMA_BAR_MEM);
	assert_int_equal(d->bars[3].bus, 0xfe000000);
	assert_int_equal(d->bars[4].flags, 0);
	assert_int_equal(d->pcie_type, P2PDMA_PCIE_ENDPOINT);
	assert_int_equal(d->link.max_speed, 4);
	assert_int_equal(d->link.max_width, 16);
	assert_int_equal(d->link.speed, 3);
	assert_int_equal(d->link.width, 8);
	assert_int_equal(d->acs_state, P2PDMA_ACS_PRESENT);
	assert_int_equal(d->acs_pos, 0x150);
	assert_int_equal(d->acs_cap, 0x005f);
	assert_int_equal(d->acs_ctrl, 0x0004);
	assert_true(d->has_sriov);
	assert_int_equal(d->sriov_total, 16);
	assert_int_equal(d->sriov_num, 4);
	assert_int_equal(d->sriov_offset, 1);
	assert_int_equal(d->sriov_stride, 2);
	assert_int_equal(d->sriov_vf_device, 0x101e);
	free(d);
}

static void test_bridge(void **state)
{
	struct p2pdma_dev *d = blank_dev();

	(void)state;
	header(0x8086, 0x347a, 0x060400, 0x01);
	w32(0x10, 0xfd000000);		/* BAR0 */
	w8(0x18, 0x00);
	w8(0x19, 0x17);
	w8(0x1a, 0x1a);
	w8(0x1c, 0x31);			/* IO 32-bit: 0x1_3000.. */
	w8(0x1d, 0x41);
	w16(0x30, 0x0001);
	w16(0x32, 0x0001);
	w16(0x20, 0xa000);		/* mem a0000000-a0ffffff */
	w16(0x22, 0xa0f0);
	w16(0x24, 0x0001);		/* pref 64-bit 0x38_00000000.. */
	w16(0x26, 0xfff1);
	w32(0x28, 0x38);
	w32(0x2c, 0x38);
	w8(0x34, 0x40);
	pcie_cap(0x40, 0x80, P2PDMA_PCIE_ROOT_PORT, 5, 16, 5, 16);
	w8(0x80, 0x0d);			/* SSID capability */
	w8(0x81, 0x00);
	w16(0x84, 0x1028);
	w16(0x86, 0x0b1f);
	ext_cap(0x100, 0x000d, 0);
	w16(0x104, 0x001f);
	w16(0x106, 0x001d);

	assert_int_equal(p2pdma_config_decode(d, img, sizeof(img)), 0);
	assert_int_equal(d->header_type, 1);
	assert_false(d->multifunction);
	assert_int_equal(d->primary, 0x00);
	assert_int_equal(d->secondary, 0x17);
	assert_int_equal(d->subordinate, 0x1a);
	assert_int_equal(d->bars[0].flags, P2PDMA_BAR_MEM);
	assert_int_equal(d->bars[0].bus, 0xfd000000);
	assert_int_equal(d->bars[2].flags, 0);	/* type 1 has two BARs */
	assert_true(d->win[P2PDMA_WIN_IO].valid);
	assert_int_equal(d->win[P2PDMA_WIN_IO].base, 0x13000);
	assert_int_equal(d->win[P2PDMA_WIN_IO].limit, 0x14fff);
	assert_true(d->win[P2PDMA_WIN_MEM].valid);
	assert_int_equal(d->win[P2PDMA_WIN_MEM].base, 0xa0000000);
	assert_int_equal(d->win[P2PDMA_WIN_MEM].limit, 0xa0ffffff);
	assert_true(d->win[P2PDMA_WIN_PREFETCH].valid);
	assert_int_equal(d->win[P2PDMA_WIN_PREFETCH].base, 0x3800000000ull);
	assert_int_equal(d->win[P2PDMA_WIN_PREFETCH].limit, 0x38ffffffffull);
	assert_int_equal(d->subvendor, 0x1028);
	assert_int_equal(d->subdevice, 0x0b1f);
	assert_int_equal(d->pcie_type, P2PDMA_PCIE_ROOT_PORT);
	assert_int_equal(d->acs_state, P2PDMA_ACS_PRESENT);
	assert_int_equal(d->acs_pos, 0x100);
	assert_int_equal(d->acs_ctrl & P2PDMA_ACS_REDIR_MASK, 0x000c);
	assert_false(d->has_sriov);

	/* Firmware-closed windows (base > limit) do not forward. */
	w8(0x1c, 0xf0);
	w8(0x1d, 0x00);
	w16(0x20, 0xfff0);
	w16(0x22, 0x0000);
	w16(0x24, 0xfff1);
	w16(0x26, 0x0001);
	w32(0x28, 0);
	w32(0x2c, 0);
	assert_int_equal(p2pdma_config_decode(d, img, sizeof(img)), 0);
	assert_false(d->win[P2PDMA_WIN_IO].valid);
	assert_false(d->win[P2PDMA_WIN_MEM].valid);
	assert_false(d->win[P2PDMA_WIN_PREFETCH].valid);
	free(d);
}

static void test_port_types(void **state)
{
	static const int types[] = {
		P2PDMA_PCIE_ENDPOINT, P2PDMA_PCIE_LEGACY_ENDPOINT,
		P2PDMA_PCIE_ROOT_PORT, P2PDMA_PCIE_UPSTREAM,
		P2PDMA_PCIE_DOWNSTREAM, P2PDMA_PCIE_PCIE_TO_PCI,
		P2PDMA_PCIE_PCI_TO_PCIE, P2PDMA_PCIE_RC_ENDPOINT,
		P2PDMA_PCIE_RC_EVENT_COLLECTOR,
	};
	struct p2pdma_dev *d = blank_dev();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		bool bridge = types[i] >= 4 && types[i] <= 8;

		header(0x1000, 0x00b2, bridge ? 0x060400 : 0x010700,
		       bridge ? 1 : 0);
		w8(0x34, 0x50);
		/* An unrelated capability first: the walk must follow next. */
		w8(0x50, 0x05);
		w8(0x51, 0x68);
		pcie_cap(0x68, 0x00, types[i], 3, 4, 3, 4);
		assert_int_equal(p2pdma_config_decode(d, img, 256), 0);
		assert_int_equal(d->pcie_type, types[i]);
		/* PCIe with only 256 bytes: the extended space is missing. */
		assert_int_equal(d->acs_state, P2PDMA_ACS_UNKNOWN);
	}
	free(d);
}

static void test_acs_knowledge(void **state)
{
	struct p2pdma_dev *d = blank_dev();

	(void)state;
	/* 64 bytes: the capability list is out of sight. */
	header(0x10de, 0x2330, 0x030200, 0);
	w8(0x34, 0x40);
	pcie_cap(0x40, 0, P2PDMA_PCIE_ENDPOINT, 4, 16, 4, 16);
	assert_int_equal(p2pdma_config_decode(d, img, 64), 0);
	assert_int_equal(d->acs_state, P2PDMA_ACS_UNKNOWN);
	assert_int_equal(d->pcie_type, P2PDMA_PCIE_NONE);

	/* PCIe, full space, zero header at 0x100: no extended caps at all. */
	assert_int_equal(p2pdma_config_decode(d, img, 4096), 0);
	assert_int_equal(d->pcie_type, P2PDMA_PCIE_ENDPOINT);
	assert_int_equal(d->acs_state, P2PDMA_ACS_ABSENT);

	/* PCIe, all-ones at 0x100: the space was not readable. */
	memset(img + 0x100, 0xff, 4096 - 0x100);
	assert_int_equal(p2pdma_config_decode(d, img, 4096), 0);
	assert_int_equal(d->acs_state, P2PDMA_ACS_UNKNOWN);

	/* Conventional PCI with 256 bytes: the kernel gives it no more. */
	header(0x1af4, 0x1041, 0x020000, 0);
	assert_int_equal(p2pdma_config_decode(d, img, 256), 0);
	assert_int_equal(d->pcie_type, P2PDMA_PCIE_NONE);
	assert_int_equal(d->acs_state, P2PDMA_ACS_ABSENT);

	/* ...but a host bridge gets 4096 (pci_cfg_space_size()). */
	header(0x8086, 0x0d57, 0x060000, 0);
	assert_int_equal(p2pdma_config_decode(d, img, 256), 0);
	assert_int_equal(d->acs_state, P2PDMA_ACS_UNKNOWN);
	assert_int_equal(p2pdma_config_decode(d, img, 4096), 0);
	assert_int_equal(d->acs_state, P2PDMA_ACS_ABSENT);

	/* Too short to be config space. */
	assert_int_equal(p2pdma_config_decode(d, img, 63), -EINVAL);
	free(d);
}

static void test_malformed(void **state)
{
	struct p2pdma_dev *d = blank_dev();
	unsigned int seed = 12345, i, n;

	(void)state;
	/* Standard list pointing at itself: ends by TTL, no PCIe found. */
	header(0x1234, 0x5678, 0x020000, 0);
	w8(0x34, 0x40);
	w8(0x40, 0x09);
	w8(0x41, 0x40);
	assert_int_equal(p2pdma_config_decode(d, img, 4096), 0);
	assert_int_equal(d->pcie_type, P2PDMA_PCIE_NONE);

	/* Pointer back into the header: the walk stops there. */
	w8(0x41, 0x10);
	assert_int_equal(p2pdma_config_decode(d, img, 4096), 0);
	assert_int_equal(d->pcie_type, P2PDMA_PCIE_NONE);

	/* Extended list looping on itself, and one pointing below 0x100. */
	header(0x1234, 0x5678, 0x020000, 0);
	w8(0x34, 0x40);
	pcie_cap(0x40, 0, P2PDMA_PCIE_ENDPOINT, 1, 1, 1, 1);
	ext_cap(0x100, 0x0001, 0x100);
	assert_int_equal(p2pdma_config_decode(d, img, 4096), 0);
	assert_int_equal(d->acs_state, P2PDMA_ACS_ABSENT);
	ext_cap(0x100, 0x0001, 0x040);
	assert_int_equal(p2pdma_config_decode(d, img, 4096), 0);
	assert_int_equal(d->acs_state, P2PDMA_ACS_ABSENT);
	/* A pointer to the very last dword still reads inside the image. */
	ext_cap(0x100, 0x0001, 0xffc);
	ext_cap(0xffc, 0x000d, 0);
	assert_int_equal(p2pdma_config_decode(d, img, 4096), 0);
	assert_int_equal(d->acs_state, P2PDMA_ACS_ABSENT);	/* ctrl would be past the end */

	/* All ones everywhere: what an absent device reads as. */
	memset(img, 0xff, sizeof(img));
	assert_int_equal(p2pdma_config_decode(d, img, 4096), 0);
	assert_int_equal(d->vendor, 0xffff);
	assert_int_equal(d->header_type, 0x7f);

	/* Random images of every size: never crash, never hang. */
	for (n = 0; n < 3000; n++) {
		static const size_t lens[] = { 64, 128, 256, 4096 };

		for (i = 0; i < sizeof(img); i++) {
			seed = seed * 1103515245u + 12345u;
			img[i] = (uint8_t)(seed >> 16);
		}
		/* Bias toward walkable lists. */
		w16(0x06, 0x0010);
		w8(0x0e, (uint8_t)(n % 3));
		assert_int_equal(p2pdma_config_decode(d, img, lens[n % 4]), 0);
		assert_true(d->acs_state <= P2PDMA_ACS_UNKNOWN);
	}
	free(d);
}

/* decode(encode(d)) must give back every config-derived field. */
static void assert_same_config(const struct p2pdma_dev *a, const struct p2pdma_dev *b)
{
	int i;

	assert_int_equal(a->vendor, b->vendor);
	assert_int_equal(a->device, b->device);
	assert_int_equal(a->subvendor, b->subvendor);
	assert_int_equal(a->subdevice, b->subdevice);
	assert_int_equal(a->class_code, b->class_code);
	assert_int_equal(a->revision, b->revision);
	assert_int_equal(a->header_type, b->header_type);
	assert_int_equal(a->multifunction, b->multifunction);
	assert_int_equal(a->pcie_type, b->pcie_type);
	assert_int_equal(a->primary, b->primary);
	assert_int_equal(a->secondary, b->secondary);
	assert_int_equal(a->subordinate, b->subordinate);
	for (i = 0; i < P2PDMA_WIN_COUNT; i++) {
		assert_int_equal(a->win[i].valid, b->win[i].valid);
		if (a->win[i].valid) {
			assert_int_equal(a->win[i].base, b->win[i].base);
			assert_int_equal(a->win[i].limit, b->win[i].limit);
		}
	}
	for (i = 0; i < P2PDMA_NUM_BARS; i++) {
		assert_int_equal(a->bars[i].flags, b->bars[i].flags);
		assert_int_equal(a->bars[i].bus, b->bars[i].bus);
	}
	assert_int_equal(a->acs_state, b->acs_state);
	if (a->acs_state == P2PDMA_ACS_PRESENT) {
		assert_int_equal(a->acs_cap, b->acs_cap);
		assert_int_equal(a->acs_ctrl, b->acs_ctrl);
	}
	fixture_assert_sriov_equal(a, b);
	assert_int_equal(a->link.speed, b->link.speed);
	assert_int_equal(a->link.width, b->link.width);
	assert_int_equal(a->link.max_speed, b->link.max_speed);
	assert_int_equal(a->link.max_width, b->link.max_width);
}

static void roundtrip(const struct p2pdma_dev *a)
{
	struct p2pdma_dev *b = blank_dev();
	uint8_t *cfg = malloc(P2PDMA_CFG_SIZE);
	size_t len = p2pdma_config_image_len(a);

	assert_non_null(cfg);
	p2pdma_config_encode(a, cfg);
	assert_int_equal(p2pdma_config_decode(b, cfg, len), 0);
	assert_same_config(a, b);
	free(cfg);
	free(b);
}

static void test_roundtrip_model(void **state)
{
	struct p2pdma_dev *d = blank_dev();
	static const uint16_t acs_positions[] = { 0x100, 0x110, 0x148, 0x200, 0xff0, 0x0fe, 0 };
	size_t i;

	(void)state;
	/* A switch downstream port with ACS, SSID and every window. */
	d->vendor = 0x10b5;
	d->device = 0x8747;
	d->subvendor = 0x10b5;
	d->subdevice = 0x8747;
	d->class_code = 0x060400;
	d->revision = 0xca;
	d->header_type = 1;
	d->multifunction = true;
	d->pcie_type = P2PDMA_PCIE_DOWNSTREAM;
	d->primary = 2;
	d->secondary = 3;
	d->subordinate = 5;
	d->win[P2PDMA_WIN_IO] = (struct p2pdma_window){ 0x2000, 0x2fff, true };
	d->win[P2PDMA_WIN_MEM] = (struct p2pdma_window){ 0x90000000, 0x901fffff, true };
	d->win[P2PDMA_WIN_PREFETCH] =
		(struct p2pdma_window){ 0x3000000000ull, 0x30ffffffffull, true };
	d->bars[0] = (struct p2pdma_bar){ .bus = 0x90200000, .flags = P2PDMA_BAR_MEM };
	d->link = (struct p2pdma_link){ 4, 16, 4, 16 };
	d->acs_state = P2PDMA_ACS_PRESENT;
	d->acs_cap = 0x7f;
	d->acs_ctrl = P2PDMA_ACS_SV | P2PDMA_ACS_RR | P2PDMA_ACS_CR | P2PDMA_ACS_UF;
	/* ACS wherever a capture may have had it, with SR-IOV beside it. */
	d->has_sriov = true;
	d->sriov_total = 8;
	d->sriov_num = 2;
	d->sriov_offset = 4;
	d->sriov_stride = 1;
	d->sriov_vf_device = 0x1234;
	for (i = 0; i < sizeof(acs_positions) / sizeof(acs_positions[0]); i++) {
		d->acs_pos = acs_positions[i];
		roundtrip(d);
	}

	/* Closed windows, no SSID. */
	d->subvendor = d->subdevice = 0;
	memset(d->win, 0, sizeof(d->win));
	d->has_sriov = false;
	roundtrip(d);

	/*
	 * An endpoint: IO, 32- and 64-bit BARs; ACS unknown: a full image
	 * whose extended space reads all-ones (a 256-byte one would say the
	 * kernel had no extended space, hence no ACS).
	 */
	memset(d, 0, sizeof(*d));
	d->vendor = 0x144d;
	d->device = 0xa808;
	d->class_code = 0x010802;
	d->pcie_type = P2PDMA_PCIE_ENDPOINT;
	d->bars[0] = (struct p2pdma_bar){ .bus = 0x38000000000ull,
		.flags = P2PDMA_BAR_MEM | P2PDMA_BAR_64 | P2PDMA_BAR_PREFETCH };
	d->bars[2] = (struct p2pdma_bar){ .bus = 0xd000, .flags = P2PDMA_BAR_IO };
	d->bars[5] = (struct p2pdma_bar){ .bus = 0xfe800000, .flags = P2PDMA_BAR_MEM };
	d->acs_state = P2PDMA_ACS_UNKNOWN;
	assert_int_equal(p2pdma_config_image_len(d), 4096);
	roundtrip(d);

	/* Conventional PCI with unknown ACS: only 64 bytes are published. */
	d->pcie_type = P2PDMA_PCIE_NONE;
	d->link = (struct p2pdma_link){ 0, 0, 0, 0 };
	assert_int_equal(p2pdma_config_image_len(d), 64);
	roundtrip(d);
	free(d);
}

static void test_roundtrip_examples(void **state)
{
	struct p2pdma_ctx *ctx = fixture_ctx();
	size_t i, j, n = 0;

	(void)state;
	for (i = 0; p2pdma_example_name(i); i++) {
		struct p2pdma_topo *t = NULL;

		assert_int_equal(p2pdma_topo_load_example(ctx, p2pdma_example_name(i), &t), 0);
		for (j = 0; j < p2pdma_topo_num_devs(t); j++, n++)
			roundtrip(p2pdma_topo_dev(t, j));
		p2pdma_topo_destroy(t);
	}
	p2pdma_ctx_destroy(ctx);
	if (!i)
		skip();
	print_message("round-tripped %zu functions of %zu examples\n", n, i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_port_types),
		cmocka_unit_test(test_acs_knowledge),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_roundtrip_model),
		cmocka_unit_test(test_roundtrip_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
