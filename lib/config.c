// SPDX-License-Identifier: LGPL-2.1-or-later
/* config.c - PCI configuration space codec: raw bytes <-> struct p2pdma_dev */
#include <errno.h>
#include <string.h>

#include "topo-private.h"

/*
 * Register offsets and IDs, as include/uapi/linux/pci_regs.h names them
 * (spelled with our prefix: libpci exports the PCI_* names).
 */
#define CFG_VENDOR		0x00
#define CFG_DEVICE		0x02
#define CFG_COMMAND		0x04
#define CFG_STATUS		0x06
#define  CFG_STATUS_CAP_LIST	0x10
#define CFG_REVISION		0x08
#define CFG_CLASS_PROG		0x09
#define CFG_HEADER_TYPE		0x0e
#define CFG_BAR0		0x10
#define CFG_SUBSYS_VENDOR	0x2c	/* type 0 */
#define CFG_SUBSYS_ID		0x2e
#define CFG_CAP_PTR		0x34	/* type 0 and 1 */
#define CFG_CB_CAP_PTR		0x14	/* type 2 */
#define CFG_CB_SUBSYS_VENDOR	0x40
#define CFG_CB_SUBSYS_ID	0x42

/* type 1 */
#define CFG_PRIMARY_BUS		0x18
#define CFG_SECONDARY_BUS	0x19
#define CFG_SUBORDINATE_BUS	0x1a
#define CFG_IO_BASE		0x1c
#define CFG_IO_LIMIT		0x1d
#define CFG_MEM_BASE		0x20
#define CFG_MEM_LIMIT		0x22
#define CFG_PREF_BASE		0x24
#define CFG_PREF_LIMIT		0x26
#define CFG_PREF_BASE_UPPER	0x28
#define CFG_PREF_LIMIT_UPPER	0x2c
#define CFG_IO_BASE_UPPER	0x30
#define CFG_IO_LIMIT_UPPER	0x32

#define CAP_ID_PCIE		0x10
#define CAP_ID_SSVID		0x0d
#define PCIE_FLAGS		0x02
#define PCIE_LNKCAP		0x0c
#define PCIE_LNKSTA		0x12
#define PCIE_CAP_SIZE		0x3c	/* v2 capability, up to Slot Status 2 */
#define SSVID_VENDOR		0x04
#define SSVID_DEVICE		0x06
#define SSVID_CAP_SIZE		0x08

#define EXT_CAP_ID_ACS		0x000d
#define EXT_CAP_ID_SRIOV	0x0010
#define ACS_CAP			0x04
#define ACS_CTRL		0x06
#define SRIOV_CTRL		0x08
#define SRIOV_INITIAL_VF	0x0c
#define SRIOV_TOTAL_VF		0x0e
#define SRIOV_NUM_VF		0x10
#define SRIOV_VF_OFFSET		0x14
#define SRIOV_VF_STRIDE		0x16
#define SRIOV_VF_DID		0x1a
#define SRIOV_CAP_SIZE		0x40

#define CFG_STD_SIZE		256
#define CFG_MIN_SIZE		64
#define CFG_CB_SIZE		128	/* lspci -x of a CardBus bridge */

/* The kernel's loop bounds (PCI_FIND_CAP_TTL, and the ext-cap ttl). */
#define CAP_TTL			48
#define EXT_CAP_TTL		((P2PDMA_CFG_SIZE - CFG_STD_SIZE) / 8)

#define CLASS_BRIDGE_HOST	0x0600

static uint16_t rd16(const uint8_t *cfg, size_t pos)
{
	return (uint16_t)(cfg[pos] | cfg[pos + 1] << 8);
}

static uint32_t rd32(const uint8_t *cfg, size_t pos)
{
	return (uint32_t)cfg[pos] | (uint32_t)cfg[pos + 1] << 8 |
	       (uint32_t)cfg[pos + 2] << 16 | (uint32_t)cfg[pos + 3] << 24;
}

static void wr16(uint8_t *cfg, size_t pos, uint16_t v)
{
	cfg[pos] = (uint8_t)v;
	cfg[pos + 1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *cfg, size_t pos, uint32_t v)
{
	wr16(cfg, pos, (uint16_t)v);
	wr16(cfg, pos + 2, (uint16_t)(v >> 16));
}

/*
 * __pci_find_next_cap_ttl(): the standard list, walked exactly as the
 * kernel walks it (same TTL, same stop conditions) so that we find what it
 * finds; a pointer outside @len ends the walk instead of reading garbage.
 * Returns the offset, 0 when absent, -1 when the walk left the bytes we
 * have (the answer is unknown).
 */
static int find_cap(const uint8_t *cfg, size_t len, uint8_t hdr, uint8_t id)
{
	unsigned int ttl = CAP_TTL;
	unsigned int pos;

	if (!(rd16(cfg, CFG_STATUS) & CFG_STATUS_CAP_LIST))
		return 0;
	pos = cfg[hdr == 2 ? CFG_CB_CAP_PTR : CFG_CAP_PTR];
	while (ttl--) {
		uint16_t ent;

		if (pos < 0x40)
			break;
		pos &= ~3u;
		if (pos + 2 > len)
			return -1;
		ent = rd16(cfg, pos);
		if ((ent & 0xff) == 0xff)
			break;
		if ((ent & 0xff) == id)
			return (int)pos;
		pos = ent >> 8;
	}
	return 0;
}

/*
 * pci_find_next_ext_capability(): starts at 0x100, a zero header means
 * "no extended capabilities", the next pointer is bits 31:20 with the low
 * two bits masked, and a pointer below 0x100 ends the list. The TTL bounds
 * loops in malformed dumps.
 */
static int find_ext_cap(const uint8_t *cfg, size_t len, uint16_t id)
{
	unsigned int ttl = EXT_CAP_TTL;
	unsigned int pos = CFG_STD_SIZE;
	uint32_t header;

	if (len < P2PDMA_CFG_SIZE)
		return -1;
	header = rd32(cfg, pos);
	if (header == 0)
		return 0;
	while (ttl-- > 0) {
		if ((header & 0xffff) == id)
			return (int)pos;
		pos = (header >> 20) & 0xffc;
		if (pos < CFG_STD_SIZE)
			break;
		header = rd32(cfg, pos);
	}
	return 0;
}

static void decode_bars(struct p2pdma_dev *dev, const uint8_t *cfg,
			unsigned int nbars)
{
	unsigned int i;

	memset(dev->bars, 0, sizeof(dev->bars));
	for (i = 0; i < nbars; i++) {
		struct p2pdma_bar *bar = &dev->bars[i];
		uint32_t v = rd32(cfg, CFG_BAR0 + 4 * i);

		/*
		 * Without sizing (which needs writes) an all-zero register
		 * cannot be told from an unimplemented BAR: call it absent.
		 */
		if (v == 0)
			continue;
		if (v & 1) {
			bar->flags = P2PDMA_BAR_IO;
			bar->bus = v & ~3u;
			continue;
		}
		bar->flags = P2PDMA_BAR_MEM;
		bar->bus = v & ~0xfu;
		if (v & 0x8)
			bar->flags |= P2PDMA_BAR_PREFETCH;
		if (((v >> 1) & 3) == 2 && i + 1 < nbars) {
			/* A 64-bit BAR takes the next slot for its upper half. */
			bar->flags |= P2PDMA_BAR_64;
			bar->bus |= (uint64_t)rd32(cfg, CFG_BAR0 + 4 * (i + 1)) << 32;
			i++;
		}
		/*
		 * Only type bits and no address (reserved or below-1M type, or
		 * a 64-bit type in the last slot): no more than the all-zero
		 * register says, and encoding would write it back as zero.
		 */
		if (bar->flags == P2PDMA_BAR_MEM && !bar->bus)
			bar->flags = 0;
	}
}

static void set_window(struct p2pdma_window *w, uint64_t base, uint64_t limit)
{
	/*
	 * pci_read_bridge_io/mmio/mmio_pref(): the window forwards iff
	 * base <= limit. A closed window is kept as 0/0 so that every
	 * source describes "closed" the same way.
	 */
	if (base <= limit) {
		w->base = base;
		w->limit = limit;
		w->valid = true;
	} else {
		w->base = 0;
		w->limit = 0;
		w->valid = false;
	}
}

static void decode_bridge(struct p2pdma_dev *dev, const uint8_t *cfg)
{
	uint8_t io_b = cfg[CFG_IO_BASE], io_l = cfg[CFG_IO_LIMIT];
	uint16_t pf_b = rd16(cfg, CFG_PREF_BASE), pf_l = rd16(cfg, CFG_PREF_LIMIT);
	uint64_t base, limit;

	dev->primary = cfg[CFG_PRIMARY_BUS];
	dev->secondary = cfg[CFG_SECONDARY_BUS];
	dev->subordinate = cfg[CFG_SUBORDINATE_BUS];

	base = (uint64_t)(io_b & 0xf0) << 8;
	limit = (uint64_t)(io_l & 0xf0) << 8 | 0xfff;
	if ((io_b & 0xf) == 1) {	/* PCI_IO_RANGE_TYPE_32 */
		base |= (uint64_t)rd16(cfg, CFG_IO_BASE_UPPER) << 16;
		limit |= (uint64_t)rd16(cfg, CFG_IO_LIMIT_UPPER) << 16;
	}
	set_window(&dev->win[P2PDMA_WIN_IO], base, limit);

	base = (uint64_t)(rd16(cfg, CFG_MEM_BASE) & 0xfff0) << 16;
	limit = (uint64_t)(rd16(cfg, CFG_MEM_LIMIT) & 0xfff0) << 16 | 0xfffff;
	set_window(&dev->win[P2PDMA_WIN_MEM], base, limit);

	base = (uint64_t)(pf_b & 0xfff0) << 16;
	limit = (uint64_t)(pf_l & 0xfff0) << 16 | 0xfffff;
	if ((pf_b & 0xf) == 1) {	/* PCI_PREF_RANGE_TYPE_64 */
		base |= (uint64_t)rd32(cfg, CFG_PREF_BASE_UPPER) << 32;
		limit |= (uint64_t)rd32(cfg, CFG_PREF_LIMIT_UPPER) << 32;
	}
	set_window(&dev->win[P2PDMA_WIN_PREFETCH], base, limit);
}

/*
 * Whether the kernel would give this function 4096 bytes of config space
 * (pci_cfg_space_size()): PCIe functions and host bridges; conventional
 * PCI functions get 256, so no extended capability can exist for them.
 */
static bool has_ext_space(const struct p2pdma_dev *dev)
{
	return dev->pcie_type != P2PDMA_PCIE_NONE ||
	       (dev->class_code >> 8) == CLASS_BRIDGE_HOST;
}

static void decode_ext(struct p2pdma_dev *dev, const uint8_t *cfg, size_t len,
		       bool caps_visible)
{
	int acs, sriov;

	dev->acs_pos = 0;
	dev->acs_cap = 0;
	dev->acs_ctrl = 0;
	dev->acs_ctrl_boot = 0;
	dev->has_sriov = false;
	dev->sriov_total = dev->sriov_num = 0;
	dev->sriov_offset = dev->sriov_stride = dev->sriov_vf_device = 0;

	if (!caps_visible) {
		/* 64 bytes: we cannot even tell whether it is PCIe. */
		dev->acs_state = P2PDMA_ACS_UNKNOWN;
		return;
	}
	if (len < P2PDMA_CFG_SIZE) {
		/* 256 bytes: the extended space was not captured. */
		dev->acs_state = has_ext_space(dev) ? P2PDMA_ACS_UNKNOWN :
						      P2PDMA_ACS_ABSENT;
		return;
	}
	/*
	 * All-ones at 0x100 is what an unreadable extended space reads as;
	 * for a function that must have one, that is "unknown", not "none".
	 */
	if (rd32(cfg, CFG_STD_SIZE) == 0xffffffff && has_ext_space(dev)) {
		dev->acs_state = P2PDMA_ACS_UNKNOWN;
		return;
	}

	acs = find_ext_cap(cfg, len, EXT_CAP_ID_ACS);
	if (acs > 0 && (size_t)acs + ACS_CTRL + 2 <= len) {
		dev->acs_state = P2PDMA_ACS_PRESENT;
		dev->acs_pos = (uint16_t)acs;
		dev->acs_cap = rd16(cfg, (size_t)acs + ACS_CAP);
		dev->acs_ctrl = rd16(cfg, (size_t)acs + ACS_CTRL);
	} else {
		dev->acs_state = P2PDMA_ACS_ABSENT;
	}
	dev->acs_ctrl_boot = dev->acs_ctrl;

	sriov = find_ext_cap(cfg, len, EXT_CAP_ID_SRIOV);
	if (sriov > 0 && (size_t)sriov + SRIOV_VF_DID + 2 <= len) {
		dev->has_sriov = true;
		dev->sriov_total = rd16(cfg, (size_t)sriov + SRIOV_TOTAL_VF);
		dev->sriov_num = rd16(cfg, (size_t)sriov + SRIOV_NUM_VF);
		dev->sriov_offset = rd16(cfg, (size_t)sriov + SRIOV_VF_OFFSET);
		dev->sriov_stride = rd16(cfg, (size_t)sriov + SRIOV_VF_STRIDE);
		dev->sriov_vf_device = rd16(cfg, (size_t)sriov + SRIOV_VF_DID);
	}
}

int p2pdma_config_decode(struct p2pdma_dev *dev, const uint8_t *cfg,
			 size_t len)
{
	bool caps_visible;
	int pcie, ssvid;

	if (!dev || !cfg || len < CFG_MIN_SIZE)
		return -EINVAL;
	if (len > P2PDMA_CFG_SIZE)
		len = P2PDMA_CFG_SIZE;

	dev->vendor = rd16(cfg, CFG_VENDOR);
	dev->device = rd16(cfg, CFG_DEVICE);
	dev->revision = cfg[CFG_REVISION];
	dev->class_code = (uint32_t)cfg[CFG_CLASS_PROG] |
			  (uint32_t)cfg[CFG_CLASS_PROG + 1] << 8 |
			  (uint32_t)cfg[CFG_CLASS_PROG + 2] << 16;
	dev->header_type = cfg[CFG_HEADER_TYPE] & 0x7f;
	dev->multifunction = cfg[CFG_HEADER_TYPE] & 0x80;

	dev->subvendor = dev->subdevice = 0;
	dev->primary = dev->secondary = dev->subordinate = 0;
	memset(dev->win, 0, sizeof(dev->win));
	memset(&dev->link, 0, sizeof(dev->link));
	dev->pcie_type = P2PDMA_PCIE_NONE;

	switch (dev->header_type) {
	case 0:
		decode_bars(dev, cfg, 6);
		dev->subvendor = rd16(cfg, CFG_SUBSYS_VENDOR);
		dev->subdevice = rd16(cfg, CFG_SUBSYS_ID);
		break;
	case 1:
		decode_bars(dev, cfg, 2);
		decode_bridge(dev, cfg);
		break;
	case 2:
		/* CardBus: one socket register BAR, bus numbers as type 1. */
		decode_bars(dev, cfg, 1);
		dev->primary = cfg[CFG_PRIMARY_BUS];
		dev->secondary = cfg[CFG_SECONDARY_BUS];
		dev->subordinate = cfg[CFG_SUBORDINATE_BUS];
		if (len >= CFG_CB_SUBSYS_ID + 2) {
			dev->subvendor = rd16(cfg, CFG_CB_SUBSYS_VENDOR);
			dev->subdevice = rd16(cfg, CFG_CB_SUBSYS_ID);
		}
		break;
	default:
		memset(dev->bars, 0, sizeof(dev->bars));
		break;
	}

	/*
	 * A 64-byte image (lspci -x, or sysfs read by non-root) has the
	 * capability pointer but not the list it points to.
	 */
	pcie = find_cap(cfg, len, dev->header_type, CAP_ID_PCIE);
	caps_visible = pcie >= 0;
	if (pcie > 0 && (size_t)pcie + PCIE_LNKSTA + 2 <= len) {
		uint32_t lnkcap = rd32(cfg, (size_t)pcie + PCIE_LNKCAP);
		uint16_t lnksta = rd16(cfg, (size_t)pcie + PCIE_LNKSTA);

		dev->pcie_type = (int8_t)((rd16(cfg, (size_t)pcie + PCIE_FLAGS) >> 4) & 0xf);
		dev->link.max_speed = lnkcap & 0xf;
		dev->link.max_width = (lnkcap >> 4) & 0x3f;
		dev->link.speed = lnksta & 0xf;
		dev->link.width = (lnksta >> 4) & 0x3f;
	}
	/*
	 * Not from a list that ran past the captured bytes: such a function
	 * is published again as 64 bytes (ACS unknown), which would drop
	 * the IDs (a round trip must give back what decoding found).
	 */
	if (dev->header_type == 1 && caps_visible) {
		ssvid = find_cap(cfg, len, 1, CAP_ID_SSVID);
		if (ssvid > 0 && (size_t)ssvid + SSVID_DEVICE + 2 <= len) {
			dev->subvendor = rd16(cfg, (size_t)ssvid + SSVID_VENDOR);
			dev->subdevice = rd16(cfg, (size_t)ssvid + SSVID_DEVICE);
		}
	}

	decode_ext(dev, cfg, len, caps_visible);
	return 0;
}

size_t p2pdma_config_image_len(const struct p2pdma_dev *dev)
{
	/*
	 * An unknown ACS state is carried by leaving out what would have
	 * told: the extended space (PCIe), or the capability list itself.
	 * That is what lspci prints when it could not read them.
	 */
	if (dev->acs_state != P2PDMA_ACS_UNKNOWN)
		return P2PDMA_CFG_SIZE;
	/*
	 * Not 256 bytes for a PCIe function: in a -xxxx dump that means the
	 * kernel itself had no extended space (cfg_size 256), i.e. no ACS.
	 * All-ones at 0x100 (encode_ext()) is what unreadable space reads.
	 */
	if (has_ext_space(dev))
		return P2PDMA_CFG_SIZE;
	/* lspci -x of a CardBus bridge: 128 bytes, its subsystem IDs sit at 0x40. */
	return dev->header_type == 2 ? CFG_CB_SIZE : CFG_MIN_SIZE;
}

static void encode_bars(const struct p2pdma_dev *dev, uint8_t *cfg,
			unsigned int nbars)
{
	unsigned int i;

	for (i = 0; i < nbars; i++) {
		const struct p2pdma_bar *bar = &dev->bars[i];
		uint32_t v;

		if (bar->flags & P2PDMA_BAR_IO) {
			wr32(cfg, CFG_BAR0 + 4 * i, (uint32_t)(bar->bus & ~3ull) | 1);
			continue;
		}
		if (!(bar->flags & P2PDMA_BAR_MEM))
			continue;
		v = (uint32_t)(bar->bus & 0xfffffff0u);
		if (bar->flags & P2PDMA_BAR_PREFETCH)
			v |= 0x8;
		if ((bar->flags & P2PDMA_BAR_64) && i + 1 < nbars) {
			wr32(cfg, CFG_BAR0 + 4 * i, v | 0x4);
			wr32(cfg, CFG_BAR0 + 4 * (i + 1), (uint32_t)(bar->bus >> 32));
			i++;
			continue;
		}
		wr32(cfg, CFG_BAR0 + 4 * i, v);
	}
}

static void encode_bridge(const struct p2pdma_dev *dev, uint8_t *cfg)
{
	const struct p2pdma_window *w;

	cfg[CFG_PRIMARY_BUS] = dev->primary;
	cfg[CFG_SECONDARY_BUS] = dev->secondary;
	cfg[CFG_SUBORDINATE_BUS] = dev->subordinate;

	/* Closed windows are written as base > limit, as firmware does. */
	w = &dev->win[P2PDMA_WIN_IO];
	if (w->valid) {
		cfg[CFG_IO_BASE] = (uint8_t)(((w->base >> 8) & 0xf0) | 1);
		cfg[CFG_IO_LIMIT] = (uint8_t)(((w->limit >> 8) & 0xf0) | 1);
		wr16(cfg, CFG_IO_BASE_UPPER, (uint16_t)(w->base >> 16));
		wr16(cfg, CFG_IO_LIMIT_UPPER, (uint16_t)(w->limit >> 16));
	} else {
		cfg[CFG_IO_BASE] = 0xf1;
		cfg[CFG_IO_LIMIT] = 0x01;
	}
	w = &dev->win[P2PDMA_WIN_MEM];
	if (w->valid) {
		wr16(cfg, CFG_MEM_BASE, (uint16_t)((w->base >> 16) & 0xfff0));
		wr16(cfg, CFG_MEM_LIMIT, (uint16_t)((w->limit >> 16) & 0xfff0));
	} else {
		wr16(cfg, CFG_MEM_BASE, 0xfff0);
		wr16(cfg, CFG_MEM_LIMIT, 0x0000);
	}
	w = &dev->win[P2PDMA_WIN_PREFETCH];
	if (w->valid) {
		wr16(cfg, CFG_PREF_BASE, (uint16_t)(((w->base >> 16) & 0xfff0) | 1));
		wr16(cfg, CFG_PREF_LIMIT, (uint16_t)(((w->limit >> 16) & 0xfff0) | 1));
		wr32(cfg, CFG_PREF_BASE_UPPER, (uint32_t)(w->base >> 32));
		wr32(cfg, CFG_PREF_LIMIT_UPPER, (uint32_t)(w->limit >> 32));
	} else {
		wr16(cfg, CFG_PREF_BASE, 0xfff1);
		wr16(cfg, CFG_PREF_LIMIT, 0x0001);
	}
}

/* Does [pos, pos + size) fit the extended space without touching [o, o + osize)? */
static bool ext_slot_ok(unsigned int pos, unsigned int size, unsigned int o,
			unsigned int osize)
{
	if (pos < CFG_STD_SIZE || (pos & 3) || pos + size > P2PDMA_CFG_SIZE)
		return false;
	return osize == 0 || pos + size <= o || o + osize <= pos;
}

static void encode_ext(const struct p2pdma_dev *dev, uint8_t *cfg)
{
	unsigned int acs = 0, sriov = 0, first, second;
	const unsigned int acs_size = 0x10;

	if (dev->acs_state == P2PDMA_ACS_UNKNOWN && has_ext_space(dev)) {
		memset(cfg + CFG_STD_SIZE, 0xff, P2PDMA_CFG_SIZE - CFG_STD_SIZE);
		return;
	}

	if (dev->acs_state == P2PDMA_ACS_PRESENT) {
		/* Keep the offset a real capture had, when it is sane. */
		acs = dev->acs_pos;
		if (!ext_slot_ok(acs, acs_size, 0, 0))
			acs = CFG_STD_SIZE;
	}
	if (dev->has_sriov) {
		/*
		 * 0x100 unless ACS sits below 0x140; then right after ACS,
		 * which is below 0x150 and so always fits.
		 */
		sriov = CFG_STD_SIZE;
		if (acs && !ext_slot_ok(sriov, SRIOV_CAP_SIZE, acs, acs_size))
			sriov = acs + acs_size;
	}

	if (acs) {
		wr16(cfg, acs + ACS_CAP, dev->acs_cap);
		wr16(cfg, acs + ACS_CTRL, dev->acs_ctrl);
	}
	if (sriov) {
		wr16(cfg, sriov + SRIOV_INITIAL_VF, dev->sriov_total);
		wr16(cfg, sriov + SRIOV_TOTAL_VF, dev->sriov_total);
		wr16(cfg, sriov + SRIOV_NUM_VF, dev->sriov_num);
		wr16(cfg, sriov + SRIOV_VF_OFFSET, dev->sriov_offset);
		wr16(cfg, sriov + SRIOV_VF_STRIDE, dev->sriov_stride);
		wr16(cfg, sriov + SRIOV_VF_DID, dev->sriov_vf_device);
		/* VF Enable + VF MSE once VFs exist, as sriov_enable() sets. */
		if (dev->sriov_num)
			wr16(cfg, sriov + SRIOV_CTRL, 0x0009);
	}

	/*
	 * The list must start at 0x100 (find_ext_cap's only entry point):
	 * chain the lower one first, and if neither sits at 0x100 leave a
	 * zero-ID header there that links to them.
	 */
	first = acs && (!sriov || acs < sriov) ? acs : sriov;
	second = first == acs ? sriov : acs;
	if (!first)
		return;
	if (first != CFG_STD_SIZE)
		wr32(cfg, CFG_STD_SIZE, (uint32_t)0x1 << 16 | (uint32_t)first << 20);
	wr32(cfg, first, (uint32_t)(first == acs ? EXT_CAP_ID_ACS : EXT_CAP_ID_SRIOV) |
			 (uint32_t)0x1 << 16 | (uint32_t)second << 20);
	if (second)
		wr32(cfg, second, (uint32_t)(second == acs ? EXT_CAP_ID_ACS : EXT_CAP_ID_SRIOV) |
				  (uint32_t)0x1 << 16);
}

void p2pdma_config_encode(const struct p2pdma_dev *dev, uint8_t *cfg)
{
	unsigned int nbars, pos = 0x40, prev = 0;
	uint16_t cmd = 0x0006;	/* memory space + bus master */
	unsigned int i;

	memset(cfg, 0, P2PDMA_CFG_SIZE);
	wr16(cfg, CFG_VENDOR, dev->vendor);
	wr16(cfg, CFG_DEVICE, dev->device);
	cfg[CFG_REVISION] = dev->revision;
	cfg[CFG_CLASS_PROG] = (uint8_t)dev->class_code;
	cfg[CFG_CLASS_PROG + 1] = (uint8_t)(dev->class_code >> 8);
	cfg[CFG_CLASS_PROG + 2] = (uint8_t)(dev->class_code >> 16);
	cfg[CFG_HEADER_TYPE] = (uint8_t)((dev->header_type & 0x7f) |
					 (dev->multifunction ? 0x80 : 0));

	nbars = dev->header_type == 0 ? 6 : dev->header_type == 1 ? 2 :
		dev->header_type == 2 ? 1 : 0;
	encode_bars(dev, cfg, nbars);
	for (i = 0; i < nbars; i++)
		if (dev->bars[i].flags & P2PDMA_BAR_IO)
			cmd |= 0x0001;
	wr16(cfg, CFG_COMMAND, cmd);

	if (dev->header_type == 0) {
		wr16(cfg, CFG_SUBSYS_VENDOR, dev->subvendor);
		wr16(cfg, CFG_SUBSYS_ID, dev->subdevice);
	} else if (dev->header_type == 1) {
		encode_bridge(dev, cfg);
	} else if (dev->header_type == 2) {
		cfg[CFG_PRIMARY_BUS] = dev->primary;
		cfg[CFG_SECONDARY_BUS] = dev->secondary;
		cfg[CFG_SUBORDINATE_BUS] = dev->subordinate;
		wr16(cfg, CFG_CB_SUBSYS_VENDOR, dev->subvendor);
		wr16(cfg, CFG_CB_SUBSYS_ID, dev->subdevice);
		pos = 0x80;	/* past the CardBus header */
	}

	/* Standard capability list: PCIe, then the bridge SSID. */
	if (dev->pcie_type != P2PDMA_PCIE_NONE) {
		cfg[pos] = CAP_ID_PCIE;
		wr16(cfg, pos + PCIE_FLAGS, (uint16_t)(0x2 | (dev->pcie_type & 0xf) << 4));
		wr32(cfg, pos + PCIE_LNKCAP, (uint32_t)(dev->link.max_speed & 0xf) |
					     (uint32_t)(dev->link.max_width & 0x3f) << 4);
		wr16(cfg, pos + PCIE_LNKSTA, (uint16_t)((dev->link.speed & 0xf) |
							(dev->link.width & 0x3f) << 4));
		prev = pos;
		pos += PCIE_CAP_SIZE + 4;
	}
	if (dev->header_type == 1 && (dev->subvendor || dev->subdevice)) {
		cfg[pos] = CAP_ID_SSVID;
		wr16(cfg, pos + SSVID_VENDOR, dev->subvendor);
		wr16(cfg, pos + SSVID_DEVICE, dev->subdevice);
		if (prev)
			cfg[prev + 1] = (uint8_t)pos;
		else
			prev = pos;
		pos += SSVID_CAP_SIZE;
	}
	/*
	 * A conventional function with unknown ACS is published as 64
	 * bytes; a capability pointer past them (to a Null capability)
	 * says "there is a list you cannot see", so decoding it gives
	 * unknown again rather than "no capabilities, hence no ACS".
	 */
	if (!prev && dev->acs_state == P2PDMA_ACS_UNKNOWN)
		prev = pos;
	if (prev) {
		unsigned int head = dev->header_type == 2 ? 0x80 : 0x40;

		cfg[dev->header_type == 2 ? CFG_CB_CAP_PTR : CFG_CAP_PTR] = (uint8_t)head;
		wr16(cfg, CFG_STATUS, CFG_STATUS_CAP_LIST);
	}

	encode_ext(dev, cfg);
}
