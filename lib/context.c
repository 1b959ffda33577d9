// SPDX-License-Identifier: LGPL-2.1-or-later
/* context.c - library context: the error line, the log callback, parameters */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context-private.h"
#include "topo-private.h"

P2PDMA_EXPORT int p2pdma_ctx_create(struct p2pdma_ctx **out)
{
	struct p2pdma_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->log_max = P2PDMA_LOG_WARNING;
	*out = ctx;
	return 0;
}

P2PDMA_EXPORT void p2pdma_ctx_destroy(struct p2pdma_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->param_pci_ids);
	free(ctx->param_names);
	free(ctx->param_fault_alloc);
	free(ctx);
}

P2PDMA_EXPORT void p2pdma_ctx_set_log(struct p2pdma_ctx *ctx, p2pdma_log_fn fn,
				      void *data, int max_level)
{
	ctx->log_fn = fn;
	ctx->log_data = data;
	ctx->log_max = max_level;
}

P2PDMA_EXPORT const char *p2pdma_ctx_error(const struct p2pdma_ctx *ctx)
{
	return ctx->error;
}

static char **param_slot(struct p2pdma_ctx *ctx, const char *name)
{
	if (!strcmp(name, "pci.ids"))
		return &ctx->param_pci_ids;
	if (!strcmp(name, "names"))
		return &ctx->param_names;
	if (!strcmp(name, "fault.alloc"))
		return &ctx->param_fault_alloc;
	return NULL;
}

P2PDMA_EXPORT int p2pdma_ctx_set_param(struct p2pdma_ctx *ctx, const char *name,
				       const char *value)
{
	char **slot = param_slot(ctx, name);
	char *copy;

	if (!slot)
		return p2pdma_err(ctx, -EINVAL, "unknown parameter '%s'", name);
	if (slot == &ctx->param_fault_alloc) {
		char *end;
		unsigned long n = value ? strtoul(value, &end, 10) : 0;

		if (value && (!*value || *end))
			return p2pdma_err(ctx, -EINVAL, "fault.alloc wants a number, got '%s'", value);
		ctx->fail_nth = n;
		atomic_store(&ctx->alloc_calls, 0);
	}
	copy = value ? p2pdma_strdup(value) : NULL;
	if (value && !copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

P2PDMA_EXPORT const char *p2pdma_ctx_get_param(const struct p2pdma_ctx *ctx,
					       const char *name)
{
	char **slot = param_slot((struct p2pdma_ctx *)ctx, name);

	return slot ? *slot : NULL;
}

P2PDMA_EXPORT const char *p2pdma_version(void)
{
	/* The Meson project version, passed by lib/meson.build. */
	return P2PDMA_VERSION;
}

int p2pdma_err(struct p2pdma_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (!ctx)
		return err;
	while (atomic_flag_test_and_set_explicit(&ctx->error_lock, memory_order_acquire))
		;
	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	atomic_flag_clear_explicit(&ctx->error_lock, memory_order_release);
	return err;
}

void p2pdma_clear_err(struct p2pdma_ctx *ctx)
{
	if (ctx)
		ctx->error[0] = '\0';
}

void p2pdma_log(struct p2pdma_ctx *ctx, int level, const char *fmt, ...)
{
	char line[P2PDMA_ERRLEN];
	va_list ap;

	if (!ctx || !ctx->log_fn || level > ctx->log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ctx->log_fn(ctx->log_data, level, line);
}

static bool inject(struct p2pdma_ctx *ctx)
{
	unsigned long n;

	if (!ctx)
		return false;
	n = atomic_fetch_add(&ctx->alloc_calls, 1) + 1;
	return ctx->fail_nth && n == ctx->fail_nth;
}

void *p2pdma_alloc(struct p2pdma_ctx *ctx, size_t size)
{
	return inject(ctx) ? NULL : malloc(size ? size : 1);
}

void *p2pdma_zalloc(struct p2pdma_ctx *ctx, size_t nmemb, size_t size)
{
	return inject(ctx) ? NULL : calloc(nmemb ? nmemb : 1, size ? size : 1);
}

unsigned long p2pdma_alloc_calls(const struct p2pdma_ctx *ctx)
{
	return ctx ? atomic_load(&((struct p2pdma_ctx *)ctx)->alloc_calls) : 0;
}

char *p2pdma_strdup(const char *s)
{
	size_t n;
	char *d;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

P2PDMA_EXPORT const char *p2pdma_human_size(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	unsigned int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (d == (double)(uint64_t)d)
		snprintf(buf, len, "%.0f %s", d, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", d, unit[u]);
	return buf;
}
