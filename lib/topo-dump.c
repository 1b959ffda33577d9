// SPDX-License-Identifier: LGPL-2.1-or-later
/* topo-dump.c - export a topology as an lspci -xxxx dump that lspci -F reads back */
#include <errno.h>
#include <stdlib.h>

#include "names-private.h"
#include "topo-private.h"

/*
 * The header line is lspci's "BDF Class: Vendor Device" (libpci's dump
 * reader only looks at the address and a space after it); names come
 * from the model or the ID database, numbers otherwise.
 */
static int write_header(const struct p2pdma_dev *dev, struct p2pdma_names *names,
			FILE *f)
{
	char cbuf[128], vbuf[128], dbuf[128];
	const char *cls, *ven, *devn;

	cls = p2pdma_names_class(names, dev->class_code, cbuf, sizeof(cbuf));
	ven = dev->vendor_name ? dev->vendor_name :
	      p2pdma_names_vendor(names, dev->vendor, vbuf, sizeof(vbuf));
	devn = dev->device_name ? dev->device_name :
	       p2pdma_names_device(names, dev->vendor, dev->device, dbuf, sizeof(dbuf));

	if (cls)
		fprintf(f, "%s %s:", p2pdma_dev_name(dev), cls);
	else
		fprintf(f, "%s Class %04x:", p2pdma_dev_name(dev), dev->class_code >> 8);
	if (ven)
		fprintf(f, " %s", ven);
	else
		fprintf(f, " Vendor %04x", dev->vendor);
	if (devn)
		fprintf(f, " %s", devn);
	else
		fprintf(f, " Device %04x", dev->device);
	if (dev->revision)
		fprintf(f, " (rev %02x)", dev->revision);
	return fputc('\n', f) == EOF ? -EIO : 0;
}

/* lspci's show_hex_dump(): "%02x:" then " %02x" per byte, 16 a row. */
static void write_rows(const uint8_t *cfg, size_t len, FILE *f)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 15))
			fprintf(f, "%02zx:", i);
		fprintf(f, " %02x", cfg[i]);
		if ((i & 15) == 15)
			fputc('\n', f);
	}
}

P2PDMA_EXPORT int p2pdma_topo_export_dump(const struct p2pdma_topo *topo, FILE *f)
{
	struct p2pdma_names *names = NULL;
	uint8_t *cfg;
	uint32_t i;
	int ret;

	cfg = malloc(P2PDMA_CFG_SIZE);
	if (!cfg)
		return p2pdma_err(topo->ctx, -ENOMEM, "dump export: out of memory");
	/* Without names the dump is still complete: only the header text changes. */
	if (p2pdma_names_open(topo->ctx, &names))
		names = NULL;

	ret = 0;
	for (i = 0; i < topo->ndevs && !ret; i++) {
		const struct p2pdma_dev *dev = topo->devs[i];

		p2pdma_config_encode(dev, cfg);
		ret = write_header(dev, names, f);
		if (ret)
			break;
		/*
		 * A function whose ACS state is unknown is written short,
		 * as lspci prints what it could not read: the loader then
		 * finds it unknown again.
		 */
		write_rows(cfg, p2pdma_config_image_len(dev), f);
		if (fputc('\n', f) == EOF)
			ret = -EIO;
	}
	if (!ret && (fflush(f) || ferror(f)))
		ret = -EIO;
	p2pdma_names_close(names);
	free(cfg);
	if (ret)
		return p2pdma_err(topo->ctx, ret, "dump export: write failed");
	return 0;
}
