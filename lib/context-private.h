/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* context-private.h - error and log helpers for the library's own code */
#ifndef P2PDMA_CONTEXT_PRIVATE_H
#define P2PDMA_CONTEXT_PRIVATE_H

#include "p2pdma/context.h"

#define P2PDMA_ERRLEN 512

struct p2pdma_ctx {
	p2pdma_log_fn log_fn;
	void *log_data;
	int log_max;
	char error[P2PDMA_ERRLEN];
	char *param_pci_ids;
	char *param_names;
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
void p2pdma_log(struct p2pdma_ctx *ctx, int level, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);

#endif
