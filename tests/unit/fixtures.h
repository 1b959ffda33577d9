/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fixtures.h - helpers shared by the unit tests */
#ifndef P2PDMA_TEST_FIXTURES_H
#define P2PDMA_TEST_FIXTURES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <p2pdma/p2pdma.h>
#include "topo-private.h"

/* "$P2PDMA_SRCDIR/tests/fixtures/<rel>" in a static buffer. */
const char *fixture_path(const char *rel);
/* A fresh context that logs nothing. */
struct p2pdma_ctx *fixture_ctx(void);
/* The context of a test group: set up by fixture_ctx_setup(), freed by
 * fixture_ctx_teardown() (cmocka group fixtures). */
extern struct p2pdma_ctx *test_ctx;
int fixture_ctx_setup(void **state);
int fixture_ctx_teardown(void **state);
/* Load JSON text or fail the test with the library's message. */
struct p2pdma_topo *fixture_json(struct p2pdma_ctx *ctx, const char *json);
/*
 * The whole of the file at @path, gunzipped through the real gzip when @gz,
 * with a NUL after the @len (may be NULL) bytes; fails the test if it
 * cannot be read. free() it.
 */
char *fixture_read(const char *path, bool gz, size_t *len);
/* A temporary directory (removed by fixture_rmtree). */
char *fixture_tmpdir(void);
void fixture_rmtree(const char *dir);
/* Assert that p2pdma_topo_check() passes, printing the violation if not. */
void fixture_assert_invariants(const struct p2pdma_topo *topo);

/* The SR-IOV capability of two functions is the same (has_sriov and, if
 * set, the VF layout). */
void fixture_assert_sriov_equal(const struct p2pdma_dev *a,
				const struct p2pdma_dev *b);

/*
 * Build a topology programmatically (p2pdma_topo_alloc + add_dev) and
 * finalize it; the helpers below fill the fields the model needs.
 */
struct p2pdma_dev *fixture_bridge(struct p2pdma_topo *t, uint32_t dom,
				  uint8_t bus, uint8_t dev, uint8_t fn,
				  int pcie_type, uint8_t sec, uint8_t sub);
struct p2pdma_dev *fixture_endpoint(struct p2pdma_topo *t, uint32_t dom,
				    uint8_t bus, uint8_t dev, uint8_t fn,
				    int pcie_type);
void fixture_acs(struct p2pdma_dev *d, uint16_t cap, uint16_t ctrl);

#endif
