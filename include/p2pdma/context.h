/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/context.h - library context: errors, logging, per-context parameters */
#ifndef P2PDMA_CONTEXT_H
#define P2PDMA_CONTEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(P2PDMA_BUILDING) && defined(__GNUC__)
#define P2PDMA_EXPORT __attribute__((visibility("default")))
#else
#define P2PDMA_EXPORT
#endif

struct p2pdma_ctx;

/* Log levels, as syslog's. */
enum p2pdma_log_level {
	P2PDMA_LOG_ERR = 3,
	P2PDMA_LOG_WARNING = 4,
	P2PDMA_LOG_INFO = 6,
	P2PDMA_LOG_DEBUG = 7,
};

/**
 * typedef p2pdma_log_fn - log callback
 * @data: the pointer given to p2pdma_ctx_set_log()
 * @level: enum p2pdma_log_level
 * @msg: one line, no trailing newline
 *
 * The library never prints by itself; this is the only way it speaks.
 */
typedef void (*p2pdma_log_fn)(void *data, int level, const char *msg);

/**
 * p2pdma_ctx_create() - create a library context
 * @out: the new context
 *
 * Return: 0 or -ENOMEM.
 */
int p2pdma_ctx_create(struct p2pdma_ctx **out);

/**
 * p2pdma_ctx_destroy() - free a context
 * @ctx: the context, or NULL. Topologies made with it must be destroyed first.
 */
void p2pdma_ctx_destroy(struct p2pdma_ctx *ctx);

/**
 * p2pdma_ctx_set_log() - install the log callback
 * @ctx: the context
 * @fn: callback, or NULL for silence
 * @data: passed to @fn
 * @max_level: messages above this level are dropped
 */
void p2pdma_ctx_set_log(struct p2pdma_ctx *ctx, p2pdma_log_fn fn, void *data,
			int max_level);

/**
 * p2pdma_ctx_error() - the message of the last failed call
 * @ctx: the context
 *
 * One line naming the file and the place ("topo.json:12:5: ..."), or ""
 * when no call has failed.
 *
 * Return: a string owned by the context, valid until the next call.
 */
const char *p2pdma_ctx_error(const struct p2pdma_ctx *ctx);

/**
 * p2pdma_ctx_set_param() - set a named per-context parameter
 * @ctx: the context
 * @name: parameter name: "pci.ids" (path of the ID database), "names"
 *        ("0" disables ID-to-name lookup), or "fault.alloc" (a number N:
 *        the N-th allocation of the model layers from now on fails, once;
 *        "0" turns it off; for testing error paths)
 * @value: its value (copied)
 *
 * Return: 0, -EINVAL for an unknown name, -ENOMEM.
 */
int p2pdma_ctx_set_param(struct p2pdma_ctx *ctx, const char *name,
			 const char *value);

/**
 * p2pdma_ctx_get_param() - read a named parameter
 * @ctx: the context
 * @name: parameter name
 *
 * Return: the value, or NULL when unset or unknown.
 */
const char *p2pdma_ctx_get_param(const struct p2pdma_ctx *ctx,
				 const char *name);

/**
 * p2pdma_version() - library version string
 *
 * Return: e.g. "0.1.0".
 */
const char *p2pdma_version(void);

/**
 * p2pdma_human_size() - a byte count as the library's messages write it
 * @v: bytes
 * @buf: where to write
 * @len: size of @buf (16 bytes hold any value)
 *
 * Binary units, whole or to one decimal: "16 MiB", "1.5 GiB", "512 B".
 *
 * Return: @buf.
 */
const char *p2pdma_human_size(uint64_t v, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
