// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz-bdf.c - fuzz target: p2pdma_parse_bdf() parse -> format -> parse round trip */
#include <string.h>

#include "fuzz.h"
#include "topo-private.h"

/*
 * Properties, for any text the parser accepts:
 *  - the canonical form ("%04x:%02x:%02x.%d", the kernel's pci_name())
 *    parses back to the same address;
 *  - the short form "BB:DD.F" means domain 0;
 *  - the name the library itself gives a function at that address
 *    (p2pdma_topo_add_dev()) is that canonical form, untruncated, and so
 *    parses back too.
 * And the parser only accepts what the grammar allows: hex digits, ':' and
 * '.', no more than three fields.
 */
static void roundtrip(const char *what, const char *text, uint32_t domain,
		      uint8_t bus, uint8_t devfn)
{
	uint32_t d2 = 0;
	uint8_t b2 = 0, df2 = 0;
	int ret = p2pdma_parse_bdf(text, &d2, &b2, &df2);

	FUZZ_CHECK(ret == 0, "%s \"%s\" does not parse back (%d)", what, text, ret);
	FUZZ_CHECK(d2 == domain && b2 == bus && df2 == devfn,
		   "%s \"%s\" parses to %x:%x:%x, not %x:%x:%x", what, text,
		   d2, b2, df2, domain, bus, devfn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[64], canon[32];
	uint32_t domain = 0;
	uint8_t bus = 0, devfn = 0;
	struct p2pdma_topo *topo;
	struct p2pdma_dev *dev;
	size_t i, colons = 0;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (p2pdma_parse_bdf(text, &domain, &bus, &devfn))
		return 0;

	for (i = 0; text[i]; i++) {
		char c = text[i];
		bool hex = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');

		FUZZ_CHECK(hex || c == ':' || c == '.', "accepted \"%s\" (byte %zu)", text, i);
		colons += c == ':';
	}
	FUZZ_CHECK(colons == 1 || colons == 2, "accepted \"%s\" with %zu ':'", text, colons);
	if (colons == 1)
		FUZZ_CHECK(domain == 0, "short form \"%s\" gave domain %x", text, domain);

	snprintf(canon, sizeof(canon), "%04x:%02x:%02x.%d", domain, bus,
		 devfn >> 3, devfn & 7);
	roundtrip("canonical", canon, domain, bus, devfn);
	if (domain == 0) {
		snprintf(canon, sizeof(canon), "%02x:%02x.%d", bus, devfn >> 3, devfn & 7);
		roundtrip("short", canon, domain, bus, devfn);
		snprintf(canon, sizeof(canon), "%04x:%02x:%02x.%d", domain, bus,
			 devfn >> 3, devfn & 7);
	}

	topo = p2pdma_topo_alloc(NULL, P2PDMA_SRC_SYNTH, "fuzz-bdf");
	FUZZ_CHECK(topo != NULL, "out of memory");
	dev = p2pdma_topo_add_dev(topo, domain, bus, devfn);
	FUZZ_CHECK(dev != NULL, "out of memory");
	FUZZ_CHECK(strcmp(dev->name, canon) == 0, "library names %s \"%s\"", canon, dev->name);
	roundtrip("library name", dev->name, domain, bus, devfn);
	p2pdma_topo_destroy(topo);
	return 0;
}
