// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-config.c - fuzz target: config-space decode -> encode -> decode */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "topo-private.h"

#define FIELD(f)							\
	FUZZ_CHECK(a->f == b->f, "%s: %#llx after decode, %#llx after encode+decode", \
		   #f, (unsigned long long)a->f, (unsigned long long)b->f)

/* Every field config space carries (p2pdma_topo_equal()'s CMP_CONFIG set). */
static void same_config(const struct p2pdma_dev *a, const struct p2pdma_dev *b)
{
	int i;

	FIELD(vendor);
	FIELD(device);
	FIELD(subvendor);
	FIELD(subdevice);
	FIELD(class_code);
	FIELD(revision);
	FIELD(header_type);
	FIELD(multifunction);
	FIELD(pcie_type);
	FIELD(primary);
	FIELD(secondary);
	FIELD(subordinate);
	for (i = 0; i < P2PDMA_WIN_COUNT; i++) {
		FUZZ_CHECK(a->win[i].valid == b->win[i].valid &&
			   a->win[i].base == b->win[i].base &&
			   a->win[i].limit == b->win[i].limit,
			   "window %d: %d %#llx-%#llx, then %d %#llx-%#llx", i,
			   a->win[i].valid, (unsigned long long)a->win[i].base,
			   (unsigned long long)a->win[i].limit, b->win[i].valid,
			   (unsigned long long)b->win[i].base,
			   (unsigned long long)b->win[i].limit);
	}
	for (i = 0; i < P2PDMA_NUM_BARS; i++) {
		FUZZ_CHECK(a->bars[i].flags == b->bars[i].flags &&
			   a->bars[i].bus == b->bars[i].bus,
			   "BAR %d: flags %#x bus %#llx, then flags %#x bus %#llx", i,
			   a->bars[i].flags, (unsigned long long)a->bars[i].bus,
			   b->bars[i].flags, (unsigned long long)b->bars[i].bus);
	}
	FIELD(acs_state);
	FIELD(acs_cap);
	FIELD(acs_ctrl);
	FIELD(acs_ctrl_boot);
	FIELD(has_sriov);
	FIELD(sriov_total);
	FIELD(sriov_num);
	FIELD(sriov_offset);
	FIELD(sriov_stride);
	FIELD(sriov_vf_device);
	FIELD(link.speed);
	FIELD(link.width);
	FIELD(link.max_speed);
	FIELD(link.max_width);
}

static void dev_init(struct p2pdma_dev *d)
{
	/* p2pdma_topo_add_dev()'s defaults; decode must overwrite all it owns. */
	memset(d, 0, sizeof(*d));
	d->pcie_type = P2PDMA_PCIE_NONE;
	d->acs_state = P2PDMA_ACS_ABSENT;
	d->iommu_group = -1;
	d->numa_node = -1;
}

/*
 * Properties, for any image of 64..4096 bytes the decoder accepts:
 *  - decoded fields are in range (closed windows are 0/0, a PRESENT ACS
 *    has its offset in the extended space, UNKNOWN/ABSENT has none);
 *  - encoding them and decoding the published part of the image
 *    (p2pdma_config_image_len()) gives the same fields: the exporter
 *    loses nothing the decoder found;
 *  - encoding is then a fixed point: the second image is byte-identical.
 * Shorter images are rejected with -EINVAL.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t img1[P2PDMA_CFG_SIZE], img2[P2PDMA_CFG_SIZE];
	struct p2pdma_dev a, b;
	size_t len;
	int ret, i;

	dev_init(&a);
	ret = p2pdma_config_decode(&a, data, size);
	if (size < 64) {
		FUZZ_CHECK(ret == -EINVAL, "%zu-byte image: %d", size, ret);
		return 0;
	}
	FUZZ_CHECK(ret == 0, "%zu-byte image rejected: %d", size, ret);
	FUZZ_CHECK(a.header_type < 0x80, "header type %#x", a.header_type);
	for (i = 0; i < P2PDMA_WIN_COUNT; i++)
		FUZZ_CHECK(a.win[i].valid ? a.win[i].base <= a.win[i].limit :
			   !a.win[i].base && !a.win[i].limit,
			   "window %d: %d %#llx-%#llx", i, a.win[i].valid,
			   (unsigned long long)a.win[i].base,
			   (unsigned long long)a.win[i].limit);
	if (a.acs_state == P2PDMA_ACS_PRESENT)
		FUZZ_CHECK(a.acs_pos >= 0x100 && a.acs_pos + 8 <= P2PDMA_CFG_SIZE &&
			   size >= P2PDMA_CFG_SIZE, "ACS at %#x in %zu bytes",
			   a.acs_pos, size);
	else
		FUZZ_CHECK(!a.acs_pos && !a.acs_cap && !a.acs_ctrl,
			   "ACS state %d with registers", a.acs_state);
	FUZZ_CHECK(a.acs_ctrl_boot == a.acs_ctrl, "boot ctrl %#x != ctrl %#x",
		   a.acs_ctrl_boot, a.acs_ctrl);

	p2pdma_config_encode(&a, img1);
	len = p2pdma_config_image_len(&a);
	FUZZ_CHECK(len == 64 || len == 128 || len == 256 || len == P2PDMA_CFG_SIZE, "image length %zu", len);
	dev_init(&b);
	ret = p2pdma_config_decode(&b, img1, len);
	FUZZ_CHECK(ret == 0, "encoded image rejected: %d", ret);
	same_config(&a, &b);

	p2pdma_config_encode(&b, img2);
	FUZZ_CHECK(p2pdma_config_image_len(&b) == len, "image length %zu then %zu",
		   len, p2pdma_config_image_len(&b));
	FUZZ_CHECK(memcmp(img1, img2, sizeof(img1)) == 0, "encoding is not a fixed point");
	return 0;
}
