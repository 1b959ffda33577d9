/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* context-private.h - error and log helpers for the library's own code */
#ifndef P2PDMA_CONTEXT_PRIVATE_H
#define P2PDMA_CONTEXT_PRIVATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "p2pdma/context.h"

#define P2PDMA_ERRLEN 512

struct p2pdma_ctx {
	p2pdma_log_fn log_fn;
	void *log_data;
	int log_max;
	char error[P2PDMA_ERRLEN];
	char *param_pci_ids;
	char *param_names;
	char *param_fault_alloc;
	/* Fault injection: allocation number fail_nth (from 1) fails. */
	atomic_ulong alloc_calls;
	unsigned long fail_nth;
	/* Serialises writers of @error: the DMA, dma-buf and VFIO layers
	 * may fail on several threads at once. */
	atomic_flag error_lock;
};

#if defined(__GNUC__)
#define P2PDMA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define P2PDMA_PRINTF(a, b)
#endif

/*
 * Record an error message for p2pdma_ctx_error() and return @err (a
 * negative errno), so that failures read as one line:
 *	return p2pdma_err(ctx, -EINVAL, "%s:%d: bad thing", file, line);
 */
int p2pdma_err(struct p2pdma_ctx *ctx, int err, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);
void p2pdma_clear_err(struct p2pdma_ctx *ctx);

/*
 * Allocations of the model layers go through these, so that tests can
 * make any one of them fail: with the context parameter "fault.alloc" set
 * to N, the N-th allocation after setting it returns NULL (once).
 * p2pdma_alloc_calls() tells how many there were, so a test can fail each
 * site in turn. @ctx may be NULL (no injection).
 */
void *p2pdma_alloc(struct p2pdma_ctx *ctx, size_t size);
void *p2pdma_zalloc(struct p2pdma_ctx *ctx, size_t nmemb, size_t size);
unsigned long p2pdma_alloc_calls(const struct p2pdma_ctx *ctx);
void p2pdma_log(struct p2pdma_ctx *ctx, int level, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);

#endif
