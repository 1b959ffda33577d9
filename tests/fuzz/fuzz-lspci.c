// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-lspci.c - fuzz target: the lspci text reader (-v/-vv/-vvv, plain, -t trees) */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source-props.h"

/*
 * A small ID database in the pci.ids syntax, with the names the seeds use
 * and the ambiguities that matter (two vendors called "Red Hat, Inc.", two
 * devices called "82574L Gigabit Network Connection"), so that reading
 * names back to IDs is fuzzed at the speed of the text paths; the system's
 * pci.ids costs ~20 ms a load to read.
 */
static const char small_ids[] =
	"1af4  Red Hat, Inc.\n"
	"\t1000  Virtio network device\n"
	"\t1041  Virtio 1.0 network device\n"
	"\t\t1af4 1100  QEMU Virtual Machine\n"
	"1b36  Red Hat, Inc.\n"
	"\t000c  QEMU PCIe Root port\n"
	"\t0010  QEMU NVM Express Controller\n"
	"8086  Intel Corporation\n"
	"\t10d3  82574L Gigabit Network Connection\n"
	"\t10f6  82574L Gigabit Network Connection\n"
	"\t2918  82801IB (ICH9) LPC Interface Controller\n"
	"\t2922  82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode]\n"
	"\t29c0  82G33/G31/P35/P31 Express DRAM Controller\n"
	"\t\t1af4 1100  QEMU Virtual Machine\n"
	"104c  Texas Instruments\n"
	"\t8232  XIO3130 PCI Express Switch (Upstream)\n"
	"\t8233  XIO3130 PCI Express Switch (Downstream)\n"
	"C 01  Mass storage controller\n"
	"\t06  SATA controller\n"
	"\t\t01  AHCI 1.0\n"
	"\t08  Non-Volatile memory controller\n"
	"\t\t02  NVM Express\n"
	"C 02  Network controller\n"
	"\t00  Ethernet controller\n"
	"C 06  Bridge\n"
	"\t00  Host bridge\n"
	"\t01  ISA bridge\n"
	"\t04  PCI bridge\n"
	"\t\t00  Normal decode\n";

static const char *ids_path(void)
{
	static char path[64];
	int fd;

	if (path[0])
		return path;
	fd = memfd_create("fuzz-pci.ids", 0);
	FUZZ_CHECK(fd >= 0, "memfd_create failed");
	FUZZ_CHECK(write(fd, small_ids, sizeof(small_ids) - 1) == (ssize_t)sizeof(small_ids) - 1,
		   "write failed");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return path;
}

/*
 * Byte 0: bit 0 chooses the small ID database (else none: names stay
 * unknown), bit 3 turns names off; the rest is the text. Properties:
 * check_source_load(); a tree ("-[" first) never yields a known ACS state.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pdma_topo *topo = NULL;
	struct p2pdma_ctx *ctx;
	const char *p;
	char *text;
	int ret;

	if (size < 1)
		return 0;
	text = malloc(size);
	FUZZ_CHECK(text != NULL, "out of memory");
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	FUZZ_CHECK(p2pdma_ctx_create(&ctx) == 0, "context creation failed");
	p2pdma_ctx_set_param(ctx, "pci.ids", (data[0] & 1) ? ids_path() : "/nonexistent/pci.ids");
	if (data[0] & 8)
		p2pdma_ctx_set_param(ctx, "names", "0");

	ret = p2pdma_topo_load_lspci_string(ctx, text, "fuzz.txt", &topo);
	for (p = text; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
		;
	check_source_load(ctx, ret, topo, !strncmp(p, "-[", 2) || !strncmp(p, "-+-[", 4));
	p2pdma_topo_destroy(topo);
	p2pdma_ctx_destroy(ctx);
	free(text);
	return 0;
}
