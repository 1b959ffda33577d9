/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* names-private.h - ID-to-name lookup through libpci's database, for every source */
#ifndef P2PDMA_NAMES_PRIVATE_H
#define P2PDMA_NAMES_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "topo-private.h"

/*
 * A handle on the PCI ID database (libpci's pci.ids / hwdb). It honours
 * the context parameters "names" ("0": no lookup at all) and "pci.ids"
 * (the database file; hwdb is then not consulted, so results depend only
 * on that file). A missing or broken database is not an error: lookups
 * just find nothing.
 */
struct p2pdma_names;

/* Open a handle; *out is NULL (and 0 returned) when names are disabled. */
int p2pdma_names_open(struct p2pdma_ctx *ctx, struct p2pdma_names **out);
void p2pdma_names_close(struct p2pdma_names *names);

/* Each returns @buf filled with the name, or NULL when not found. */
const char *p2pdma_names_vendor(struct p2pdma_names *names, uint16_t vendor,
				char *buf, size_t len);
const char *p2pdma_names_device(struct p2pdma_names *names, uint16_t vendor,
				uint16_t device, char *buf, size_t len);
/* @class_code: base << 16 | sub << 8 | prog-if; looks up base/sub. */
const char *p2pdma_names_class(struct p2pdma_names *names, uint32_t class_code,
			       char *buf, size_t len);

/* Open the database even when the "names" parameter is "0" (for reading names back to IDs). */
int p2pdma_names_open_db(struct p2pdma_ctx *ctx, struct p2pdma_names **out);

/*
 * Names back to IDs, for text that carries only names (lspci -v, -tv).
 * Each fills @cand with up to P2PDMA_NAMES_MAX_CANDIDATES matches and sets
 * *@ncand to how many there are (more than one: the name is ambiguous).
 * A match is one that libpci prints exactly as @text. Returns 0, -ENOENT
 * when there is no usable database, or -ENOMEM.
 */
#define P2PDMA_NAMES_MAX_CANDIDATES 8
/* A class as lspci prints it ("Host bridge"); candidates are base << 8 | sub. */
int p2pdma_names_find_class(struct p2pdma_names *names, const char *text,
			    uint32_t *cand, size_t *ncand);
/*
 * "Vendor Device" as lspci prints it into a @bufsize-byte buffer (128 in
 * the device line of lspci -v, 256 in lspci -tv and for subsystems; longer
 * names are cut to end in "..."); with @sub = { vendor, device } the text is
 * that device's "Subsystem:" line. Candidates are id1 << 16 | id2.
 */
int p2pdma_names_find_pair(struct p2pdma_names *names, const char *text, size_t bufsize,
			   const uint16_t *sub, uint32_t *cand, size_t *ncand);

/*
 * Fill vendor_name/device_name of every function that has none. Used by
 * every source (libpci, JSON, examples). Returns 0, or -ENOMEM; a missing
 * database leaves the names NULL and still returns 0.
 */
int p2pdma_names_fill(struct p2pdma_topo *topo);

#endif
