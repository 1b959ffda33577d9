// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-dmabuf.c - the dma-buf core: export checks, handles, attach, the locking convention, pin, fences, phys_vec_to_sgt, revoke, importers, threads (doc/kernel-model.md §4) */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "dmabuf-private.h"
#include "model-test.h"

/* An MMIO buffer of @n ranges of 64 KiB at the start of a BAR. */
static struct p2pdma_dmabuf *mmio_buf(struct p2pdma_kernel *k, const char *bdf, int b,
				      size_t n)
{
	struct p2pdma_phys_vec r[8];
	struct p2pdma_dmabuf *buf;
	size_t i;

	assert_true(n <= 8);
	for (i = 0; i < n; i++) {
		r[i].paddr = bar(k, bdf, b) + i * 0x20000;
		r[i].len = 0x10000;
	}
	assert_int_equal(p2pdma_dmabuf_export_mmio(k, provider(k, bdf, b), r, n, P2PDMA_O_RDWR, &buf), 0);
	return buf;
}

/* --- a test exporter counting its calls --- */

struct tex {
	int attaches, detaches, pins, unpins, maps, unmaps, releases;
	int attach_ret, pin_ret;
};

static int tex_attach(struct p2pdma_dmabuf *buf, struct p2pdma_dmabuf_attach *a)
{
	struct tex *t = p2pdma_dmabuf_priv(buf);

	(void)a;
	t->attaches++;
	return t->attach_ret;
}

static void tex_detach(struct p2pdma_dmabuf *buf, struct p2pdma_dmabuf_attach *a)
{
	struct tex *t = p2pdma_dmabuf_priv(buf);

	(void)a;
	t->detaches++;
}

static int tex_pin(struct p2pdma_dmabuf_attach *a)
{
	struct tex *t = p2pdma_dmabuf_priv(p2pdma_dmabuf_attach_buf(a));

	if (t->pin_ret)
		return t->pin_ret;
	t->pins++;
	return 0;
}

static void tex_unpin(struct p2pdma_dmabuf_attach *a)
{
	struct tex *t = p2pdma_dmabuf_priv(p2pdma_dmabuf_attach_buf(a));

	t->unpins++;
}

static int tex_map(struct p2pdma_dmabuf_attach *a, enum p2pdma_dma_dir dir,
		   struct p2pdma_sgt **sgt)
{
	struct p2pdma_dmabuf *buf = p2pdma_dmabuf_attach_buf(a);
	struct tex *t = p2pdma_dmabuf_priv(buf);

	(void)dir;
	*sgt = p2pdma_sgt_alloc(buf->sys, 1);
	if (!*sgt)
		return -ENOMEM;
	(*sgt)->nents = 1;
	(*sgt)->e[0].dma = 0x1000;
	(*sgt)->e[0].dma_len = 0x1000;
	t->maps++;
	return 0;
}

static void tex_unmap(struct p2pdma_dmabuf_attach *a, struct p2pdma_sgt *sgt,
		      enum p2pdma_dma_dir dir)
{
	struct tex *t = p2pdma_dmabuf_priv(p2pdma_dmabuf_attach_buf(a));

	(void)dir;
	p2pdma_sgt_free_table(sgt);
	t->unmaps++;
}

static void tex_release(struct p2pdma_dmabuf *buf)
{
	struct tex *t = p2pdma_dmabuf_priv(buf);

	t->releases++;
}

static const struct p2pdma_dmabuf_ops tex_ops = {
	.attach = tex_attach, .detach = tex_detach, .map = tex_map,
	.unmap = tex_unmap, .release = tex_release,
};

static int tex_map_null(struct p2pdma_dmabuf_attach *a, enum p2pdma_dma_dir dir,
			struct p2pdma_sgt **sgt)
{
	(void)a;
	(void)dir;
	*sgt = NULL;
	return 0;
}

static const struct p2pdma_dmabuf_ops tex_null_ops = {
	.map = tex_map_null, .unmap = tex_unmap, .release = tex_release,
};

static const struct p2pdma_dmabuf_ops tex_pin_ops = {
	.attach = tex_attach, .detach = tex_detach, .pin = tex_pin, .unpin = tex_unpin,
	.map = tex_map, .unmap = tex_unmap, .release = tex_release,
};

static struct p2pdma_dmabuf *tex_export(struct p2pdma_kernel *k, struct tex *t,
					const struct p2pdma_dmabuf_ops *ops)
{
	struct p2pdma_dmabuf_export_info info = {
		.struct_size = sizeof(info), .exp_name = "tex", .ops = ops,
		.size = 0x1000, .flags = P2PDMA_O_RDWR | P2PDMA_O_CLOEXEC, .priv = t,
	};
	struct p2pdma_dmabuf *buf;

	assert_int_equal(p2pdma_dmabuf_export(k, &info, &buf), 0);
	return buf;
}

static int notified;

static void count_notify(struct p2pdma_dmabuf_attach *a)
{
	(void)a;
	notified++;
}

static const struct p2pdma_dmabuf_importer_ops p2p_ops = { true, count_notify };

/* --- export and handles (§4.1) --- */

static void test_export_checks_the_ops(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct tex t = { 0 };
	struct p2pdma_dmabuf_ops no_map = tex_ops, half_pin = tex_ops;
	struct p2pdma_dmabuf_export_info info = {
		.struct_size = sizeof(info), .ops = &no_map, .size = 4096, .priv = &t,
	};
	struct p2pdma_dmabuf *buf;

	(void)state;
	no_map.map = NULL;
	assert_int_equal(p2pdma_dmabuf_export(k, &info, &buf), -EINVAL);
	half_pin.pin = tex_pin;
	info.ops = &half_pin;
	assert_int_equal(p2pdma_dmabuf_export(k, &info, &buf), -EINVAL);
	info.ops = &tex_ops;
	info.priv = NULL;
	assert_int_equal(p2pdma_dmabuf_export(k, &info, &buf), -EINVAL);
	info.priv = &t;
	info.struct_size = 8;
	assert_int_equal(p2pdma_dmabuf_export(k, &info, &buf), -EINVAL);
	assert_int_equal(log_has(k, "WARNING: dma_buf_export()"), 4);
	info.struct_size = sizeof(info);
	info.flags = P2PDMA_O_RDWR | P2PDMA_O_CLOEXEC | P2PDMA_O_NONBLOCK;
	assert_int_equal(p2pdma_dmabuf_export(k, &info, &buf), 0);
	/* The file keeps O_ACCMODE | O_NONBLOCK only. */
	assert_int_equal(p2pdma_dmabuf_file_flags(buf), P2PDMA_O_RDWR | P2PDMA_O_NONBLOCK);
	assert_false(p2pdma_dmabuf_is_dynamic(buf));
	assert_string_equal(p2pdma_dmabuf_exp_name(buf), "unknown");
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	assert_int_equal(t.releases, 1);
	p2pdma_kernel_shutdown(k);
}

static void test_release_runs_on_the_last_reference(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct tex t = { 0 };
	struct p2pdma_dmabuf *buf = tex_export(k, &t, &tex_ops), *got;
	int fd;

	(void)state;
	fd = p2pdma_dmabuf_fd(buf, P2PDMA_O_CLOEXEC);	/* takes the creation reference */
	assert_true(fd >= 3);
	assert_int_equal(p2pdma_kernel_num_dmabufs(k), 1);
	assert_int_equal(p2pdma_dmabuf_get(k, fd, &got), 0);
	assert_ptr_equal(got, buf);
	assert_int_equal(p2pdma_dmabuf_get(k, 0, &got), -EINVAL);	/* stdin: not a dma-buf */
	assert_int_equal(p2pdma_dmabuf_get(k, fd + 1, &got), -EBADF);
	assert_int_equal(p2pdma_dmabuf_get(k, -1, &got), -EBADF);
	assert_int_equal(p2pdma_dmabuf_close_fd(k, fd), 0);
	assert_int_equal(t.releases, 0);	/* our reference keeps it */
	assert_int_equal(p2pdma_dmabuf_get(k, fd, &got), -EBADF);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	assert_int_equal(t.releases, 1);
	assert_int_equal(p2pdma_kernel_num_dmabufs(k), 0);
	assert_int_equal(p2pdma_dmabuf_close_fd(k, fd), -EBADF);
	p2pdma_kernel_shutdown(k);
}

static void test_fd_table_full_is_emfile(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct tex t = { 0 };
	struct p2pdma_dmabuf *a = tex_export(k, &t, &tex_ops), *b = tex_export(k, &t, &tex_ops);

	(void)state;
	assert_int_equal(p2pdma_dmabuf_set_fd_limit(k, 4), 0);
	assert_int_equal(p2pdma_dmabuf_fd(a, 0), 3);
	assert_int_equal(p2pdma_dmabuf_fd(b, 0), -EMFILE);
	assert_int_equal(p2pdma_dmabuf_put(b), 0);	/* still ours */
	assert_int_equal(t.releases, 1);
	p2pdma_kernel_shutdown(k);	/* releases the one the table holds */
	assert_int_equal(t.releases, 2);
}

/* --- attachments and the locking convention (§4.2, §4.4) --- */

static void test_dynamic_attach_requires_move_notify(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct tex t = { 0 };
	struct p2pdma_dmabuf *buf = tex_export(k, &t, &tex_ops);
	struct p2pdma_dmabuf_importer_ops bad = { true, NULL };
	struct p2pdma_dmabuf_attach *a;

	(void)state;
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "1a:00.0"), &bad, NULL, &a), -EINVAL);
	assert_int_equal(log_has(k, "without move_notify"), 1);
	/* The exporter's attach runs first and may refuse. */
	t.attach_ret = -EOPNOTSUPP;
	assert_int_equal(p2pdma_dmabuf_attach(buf, dev(k, "1a:00.0"), &a), -EOPNOTSUPP);
	assert_int_equal(p2pdma_dmabuf_num_attachments(buf), 0);
	t.attach_ret = 0;
	assert_int_equal(p2pdma_dmabuf_attach(buf, dev(k, "1a:00.0"), &a), 0);
	assert_false(p2pdma_dmabuf_attach_peer2peer(a));
	assert_false(p2pdma_dmabuf_attach_is_dynamic(a));
	assert_string_equal(p2pdma_dmabuf_attach_name(a), "0000:1a:00.0");
	assert_int_equal(p2pdma_dmabuf_detach(buf, a), 0);
	assert_int_equal(t.detaches, 1);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_locking_convention_is_enforced(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct tex t = { 0 };
	struct p2pdma_dmabuf *buf = tex_export(k, &t, &tex_pin_ops);
	struct p2pdma_dmabuf_attach *a, *b;
	struct p2pdma_sgt *s;
	unsigned long v0 = p2pdma_dmabuf_lock_violations(k);
	void *va;

	(void)state;
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "1a:00.0"), &p2p_ops, NULL, &a), 0);
	/* Must hold: map, unmap, pin, unpin, move_notify, vmap. */
	assert_int_equal(p2pdma_dmabuf_map_attachment(a, P2PDMA_DMA_TO_DEVICE, &s), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_pin(a), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_unpin(a), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_move_notify(buf), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_vmap(buf, &va), -EDEADLK);
	assert_int_equal(t.maps + t.pins, 0);
	/* Must not hold: attach, detach, put, mmap, the _unlocked variants. */
	assert_int_equal(p2pdma_dmabuf_resv_lock(buf), 0);
	assert_true(p2pdma_dmabuf_resv_held(buf));
	assert_int_equal(p2pdma_dmabuf_attach(buf, dev(k, "19:00.0"), &b), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_detach(buf, a), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_put(buf), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_mmap(buf, 0, 4096), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_map_attachment_unlocked(a, P2PDMA_DMA_TO_DEVICE, &s), -EDEADLK);
	/* Taking it twice on one thread is a deadlock. */
	assert_int_equal(p2pdma_dmabuf_resv_lock(buf), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_map_attachment(a, P2PDMA_DMA_TO_DEVICE, &s), 0);
	assert_int_equal(p2pdma_dmabuf_unmap_attachment(a, s, P2PDMA_DMA_TO_DEVICE), 0);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(buf), -EPERM);
	assert_int_equal(p2pdma_dmabuf_lock_violations(k) - v0, 12);
	assert_int_equal(log_has(k, "called without the reservation lock held"), 5);
	assert_int_equal(log_has(k, "called with the reservation lock held"), 5);
	assert_int_equal(p2pdma_dmabuf_detach(buf, a), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_map_without_a_table_is_enomem(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct tex t = { 0 };
	struct p2pdma_dmabuf *buf = tex_export(k, &t, &tex_null_ops);
	struct p2pdma_dmabuf_attach *a;
	struct p2pdma_sgt *s;

	(void)state;
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "1a:00.0"), &p2p_ops, NULL, &a), 0);
	assert_int_equal(p2pdma_dmabuf_map_attachment_unlocked(a, P2PDMA_DMA_TO_DEVICE, &s), -ENOMEM);
	assert_int_equal(p2pdma_dmabuf_attach_mappings(a), 0);
	assert_int_equal(p2pdma_dmabuf_detach(buf, a), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

/* --- pinning (§4.5) --- */

static void test_pin_on_map_for_static_importers_and_without_move_notify(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct tex t = { 0 };
	struct p2pdma_dmabuf *buf = tex_export(k, &t, &tex_pin_ops);
	struct p2pdma_dmabuf_attach *st, *dy;
	struct p2pdma_sgt *s;

	(void)state;
	assert_true(p2pdma_dmabuf_is_dynamic(buf));
	assert_int_equal(p2pdma_dmabuf_attach(buf, dev(k, "1a:00.0"), &st), 0);
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "19:00.0"), &p2p_ops, NULL, &dy), 0);
	/* A static importer: the map pins first, the unmap unpins. */
	assert_int_equal(p2pdma_dmabuf_map_attachment_unlocked(st, P2PDMA_DMA_TO_DEVICE, &s), 0);
	assert_int_equal(t.pins, 1);
	assert_int_equal(p2pdma_dmabuf_unmap_attachment_unlocked(st, s, P2PDMA_DMA_TO_DEVICE), 0);
	assert_int_equal(t.unpins, 1);
	/* A dynamic one with CONFIG_DMABUF_MOVE_NOTIFY=y: no pin. */
	assert_int_equal(p2pdma_dmabuf_map_attachment_unlocked(dy, P2PDMA_DMA_TO_DEVICE, &s), 0);
	assert_int_equal(t.pins, 1);
	assert_int_equal(p2pdma_dmabuf_unmap_attachment_unlocked(dy, s, P2PDMA_DMA_TO_DEVICE), 0);
	/* ...and with =n it pins like a static one, so a refusing pin fails the map. */
	assert_int_equal(p2pdma_dma_set_quirks(k, p2pdma_dma_quirks(k) & ~P2PDMA_QUIRK_MOVE_NOTIFY), 0);
	t.pin_ret = -EOPNOTSUPP;
	assert_int_equal(p2pdma_dmabuf_map_attachment_unlocked(dy, P2PDMA_DMA_TO_DEVICE, &s), -EOPNOTSUPP);
	assert_int_equal(t.maps, 2);
	/* dma_buf_pin() is for dynamic importers only. */
	assert_int_equal(p2pdma_dmabuf_resv_lock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_pin(st), -EINVAL);
	assert_int_equal(p2pdma_dmabuf_pin(dy), -EOPNOTSUPP);
	t.pin_ret = 0;
	assert_int_equal(p2pdma_dmabuf_pin(dy), 0);
	assert_int_equal(p2pdma_dmabuf_unpin(dy), 0);
	assert_int_equal(p2pdma_dmabuf_unpin(dy), -EINVAL);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_detach(buf, st), 0);
	assert_int_equal(p2pdma_dmabuf_detach(buf, dy), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_move_notify_reaches_dynamic_importers_only(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct tex t = { 0 };
	struct p2pdma_dmabuf *buf = tex_export(k, &t, &tex_ops);
	struct p2pdma_dmabuf_attach *st, *dy1, *dy2;
	struct p2pdma_sgt *s;

	(void)state;
	notified = 0;
	assert_int_equal(p2pdma_dmabuf_attach(buf, dev(k, "1a:00.0"), &st), 0);
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "19:00.0"), &p2p_ops, NULL, &dy1), 0);
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "18:00.0"), &p2p_ops, NULL, &dy2), 0);
	assert_int_equal(p2pdma_dmabuf_map_attachment_unlocked(st, P2PDMA_DMA_TO_DEVICE, &s), 0);
	assert_int_equal(p2pdma_dmabuf_resv_lock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_move_notify(buf), 0);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(buf), 0);
	assert_int_equal(notified, 2);
	/* The static importer kept its mapping: it was never told. */
	assert_int_equal(p2pdma_dmabuf_attach_kept_across_revoke(st), 1);
	assert_int_equal(log_has(k, "static importers are never told"), 1);
	/* Detach with a mapping: the core unmaps it, with a warning. */
	assert_int_equal(p2pdma_dmabuf_detach(buf, st), 0);
	assert_int_equal(log_has(k, "detaches with 1 mapping"), 1);
	assert_int_equal(t.unmaps, 1);
	assert_int_equal(p2pdma_dmabuf_detach(buf, dy1), 0);
	assert_int_equal(p2pdma_dmabuf_detach(buf, dy2), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

/* --- fences (§4.6) --- */

struct signal_job {
	struct p2pdma_fence *f;
	int delay_ms;
};

static void *signal_later(void *arg)
{
	struct signal_job *j = arg;
	struct timespec ts = { 0, j->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	p2pdma_fence_signal(j->f);
	return NULL;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_static_map_waits_for_kernel_fences(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct tex t = { 0 };
	struct p2pdma_dmabuf *buf = tex_export(k, &t, &tex_ops);
	struct p2pdma_dmabuf_attach *st, *dy;
	struct p2pdma_fence *kf, *rf;
	struct signal_job job;
	struct p2pdma_sgt *s;
	struct timespec t0;
	pthread_t th;

	(void)state;
	assert_int_equal(p2pdma_fence_create(ctx, "move", &kf), 0);
	assert_int_equal(p2pdma_fence_create(ctx, "reader", &rf), 0);
	assert_int_equal(p2pdma_dmabuf_attach(buf, dev(k, "1a:00.0"), &st), 0);
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "19:00.0"), &p2p_ops, NULL, &dy), 0);
	assert_int_equal(p2pdma_dmabuf_add_fence(buf, kf, P2PDMA_RESV_USAGE_KERNEL), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_resv_lock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_add_fence(buf, kf, P2PDMA_RESV_USAGE_KERNEL), 0);
	assert_int_equal(p2pdma_dmabuf_add_fence(buf, rf, P2PDMA_RESV_USAGE_READ), 0);
	/* A dynamic importer is not waited for: it syncs itself. */
	assert_int_equal(p2pdma_dmabuf_map_attachment(dy, P2PDMA_DMA_TO_DEVICE, &s), 0);
	assert_int_equal(p2pdma_dmabuf_unmap_attachment(dy, s, P2PDMA_DMA_TO_DEVICE), 0);
	/* A static importer with a bounded wait: interrupted. */
	p2pdma_dmabuf_set_map_wait_timeout(buf, 20);
	assert_int_equal(p2pdma_dmabuf_map_attachment(st, P2PDMA_DMA_TO_DEVICE, &s), -EINTR);
	assert_int_equal(t.maps, 2);
	assert_int_equal(t.unmaps, 2);	/* the core undid the exporter's map */
	/* Signalled by another thread while the static map waits. */
	p2pdma_dmabuf_set_map_wait_timeout(buf, -1);
	job.f = kf;
	job.delay_ms = 30;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&th, NULL, signal_later, &job), 0);
	assert_int_equal(p2pdma_dmabuf_map_attachment(st, P2PDMA_DMA_TO_DEVICE, &s), 0);
	assert_true(ms_since(&t0) >= 25);
	assert_int_equal(pthread_join(th, NULL), 0);
	/* The READ fence was not waited for; BOOKKEEP-level waits see it. */
	assert_false(p2pdma_fence_is_signaled(rf));
	assert_int_equal(p2pdma_dmabuf_unmap_attachment(st, s, P2PDMA_DMA_TO_DEVICE), 0);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_wait(buf, P2PDMA_RESV_USAGE_KERNEL, 0), 0);
	assert_int_equal(p2pdma_dmabuf_wait(buf, P2PDMA_RESV_USAGE_BOOKKEEP, 10), -ETIME);
	p2pdma_fence_signal(rf);
	assert_int_equal(p2pdma_dmabuf_wait(buf, P2PDMA_RESV_USAGE_BOOKKEEP, -1), 0);
	p2pdma_fence_put(kf);
	p2pdma_fence_put(rf);
	assert_int_equal(p2pdma_dmabuf_detach(buf, st), 0);
	assert_int_equal(p2pdma_dmabuf_detach(buf, dy), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

/* --- dma_buf_phys_vec_to_sgt() (§4.8) --- */

/* Attach @importer to @buf dynamically and map; returns the table. */
static struct p2pdma_sgt *map_for(struct p2pdma_kernel *k, struct p2pdma_dmabuf *buf,
				  const char *importer, struct p2pdma_dmabuf_attach **a,
				  int *err)
{
	struct p2pdma_sgt *s = NULL;

	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, importer), &p2p_ops, NULL, a), 0);
	*err = p2pdma_dmabuf_map_attachment_unlocked(*a, P2PDMA_DMA_BIDIRECTIONAL, &s);
	return s;
}

static void unmap_detach(struct p2pdma_dmabuf *buf, struct p2pdma_dmabuf_attach *a,
			 struct p2pdma_sgt *s)
{
	if (s)
		assert_int_equal(p2pdma_dmabuf_unmap_attachment_unlocked(a, s, P2PDMA_DMA_BIDIRECTIONAL), 0);
	assert_int_equal(p2pdma_dmabuf_detach(buf, a), 0);
}

static void test_sgt_bus_addr_entries_per_range_no_cpu_list(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	struct p2pdma_dmabuf *buf = mmio_buf(k, "aa:00.0", 1, 3);
	struct p2pdma_dmabuf_attach *a;
	struct p2pdma_sgt *s;
	int err;

	(void)state;
	s = map_for(k, buf, "ac:00.0", &a, &err);
	assert_int_equal(err, 0);
	assert_int_equal(p2pdma_sgt_orig_nents(s), 0);
	assert_int_equal(p2pdma_sgt_page(s, 0, NULL, NULL), -ENOENT);
	assert_int_equal(p2pdma_sgt_nents(s), 3);	/* adjacent or not, never merged */
	assert_int_equal(p2pdma_sgt_dma_address(s, 1), bar(k, "aa:00.0", 1) + 0x20000);
	assert_int_equal(p2pdma_sgt_dma_len(s, 1), 0x10000);
	unmap_detach(buf, a, s);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_sgt_iova_one_contiguous_span(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	struct p2pdma_dmabuf *one = mmio_buf(k, "18:00.0", 1, 1), *three = mmio_buf(k, "18:00.0", 1, 3);
	struct p2pdma_dmabuf_attach *a;
	struct p2pdma_iommu_domain *d;
	struct p2pdma_sgt *s;
	uint64_t phys, iova;
	char out[5] = "";
	int err;

	(void)state;
	s = map_for(k, one, "1a:00.0", &a, &err);
	assert_int_equal(err, 0);
	assert_int_equal(p2pdma_sgt_nents(s), 1);
	assert_int_not_equal(p2pdma_sgt_dma_address(s, 0), bar(k, "18:00.0", 1));
	assert_int_equal(p2pdma_dma_domain(k, dev(k, "1a:00.0"), &d), 0);
	assert_int_equal(p2pdma_iommu_iova_to_phys(d, p2pdma_sgt_dma_address(s, 0) + 0x1234, &phys, NULL), 0);
	assert_int_equal(phys, bar(k, "18:00.0", 1) + 0x1234);
	unmap_detach(one, a, s);
	/* Several ranges: every release read links each at IOVA offset 0, so
	 * the second link collides with the first and the map fails. */
	s = map_for(k, three, "1a:00.0", &a, &err);
	assert_int_equal(err, -EEXIST);
	assert_null(s);
	unmap_detach(three, a, NULL);
	/* With the running offset the ranges become one span, in order. */
	assert_int_equal(p2pdma_dma_set_quirks(k, p2pdma_dma_quirks(k) & ~P2PDMA_QUIRK_SGT_IOVA_OFFSET_ZERO), 0);
	s = map_for(k, three, "1a:00.0", &a, &err);
	assert_int_equal(err, 0);
	assert_int_equal(p2pdma_sgt_nents(s), 1);
	assert_int_equal(p2pdma_sgt_dma_len(s, 0), 0x30000);
	iova = p2pdma_sgt_dma_address(s, 0);
	assert_int_equal(p2pdma_phys_write(k, bar(k, "18:00.0", 1) + 0x40000 + 8, "third", 5), 0);
	assert_int_equal(p2pdma_dma_read(k, dev(k, "1a:00.0"), iova + 0x20000 + 8, out, 5), 0);
	assert_memory_equal(out, "third", 5);
	unmap_detach(three, a, s);
	assert_int_equal(p2pdma_dmabuf_put(one), 0);
	assert_int_equal(p2pdma_dmabuf_put(three), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_sgt_per_range_dma_map_phys_without_iova(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);	/* identity */
	struct p2pdma_dmabuf *buf = mmio_buf(k, "18:00.0", 1, 2);
	struct p2pdma_dmabuf_attach *a;
	struct p2pdma_sgt *s;
	int err;

	(void)state;
	s = map_for(k, buf, "1a:00.0", &a, &err);
	assert_int_equal(err, 0);
	assert_int_equal(p2pdma_sgt_nents(s), 2);
	assert_int_equal(p2pdma_sgt_dma_address(s, 0), bar(k, "18:00.0", 1));
	assert_int_equal(p2pdma_sgt_dma_address(s, 1), bar(k, "18:00.0", 1) + 0x20000);
	assert_false(p2pdma_sgt_is_bus_address(s, 0));
	unmap_detach(buf, a, s);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_sgt_unreachable_importer_fails_at_map_not_attach(void **state)
{
	struct p2pdma_kernel *k = boot("workstation", "6.19", -1);
	struct p2pdma_dmabuf *buf = mmio_buf(k, "01:00.0", 1, 1);
	struct p2pdma_dmabuf_attach *a;
	struct p2pdma_sgt *s;
	int err;

	(void)state;
	s = map_for(k, buf, "03:00.0", &a, &err);	/* attach succeeded */
	assert_int_equal(err, -EINVAL);
	assert_null(s);
	unmap_detach(buf, a, NULL);
	/* Without a PCI device: pci_p2pdma_map_type() says NOT_SUPPORTED. */
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, NULL, &p2p_ops, NULL, &a), 0);
	assert_int_equal(p2pdma_dmabuf_map_attachment_unlocked(a, P2PDMA_DMA_TO_DEVICE, &s), -EINVAL);
	assert_int_equal(p2pdma_dmabuf_detach(buf, a), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_sgt_per_range_map_failure_undoes_the_earlier_ranges(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);	/* identity */
	struct p2pdma_dmabuf *buf = mmio_buf(k, "18:00.0", 0, 1);
	struct p2pdma_provider *p = provider(k, "18:00.0", 0);
	/* Below 4 GiB (BAR 0), then above (BAR 1): a 32-bit importer can
	 * reach the first, and MMIO is never bounced. */
	struct p2pdma_phys_vec v[2] = { { bar(k, "18:00.0", 0), 0x1000 }, { bar(k, "18:00.0", 1), 0x1000 } };
	struct p2pdma_dmabuf_attach *a;
	struct p2pdma_sgt *s;

	(void)state;
	assert_int_equal(p2pdma_dma_set_mask(k, dev(k, "1a:00.0"), 0xffffffffULL), 0);
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "1a:00.0"), &p2p_ops, NULL, &a), 0);
	assert_int_equal(p2pdma_dmabuf_resv_lock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_phys_vec_to_sgt(a, p, v, 2, 0x2000, P2PDMA_DMA_TO_DEVICE, &s), -ENOMEM);
	assert_null(s);
	assert_int_equal(log_has(k, "no swiotlb for MMIO"), 1);
	assert_int_equal(p2pdma_dmabuf_phys_vec_to_sgt(a, p, v, 1, 0x1000, P2PDMA_DMA_TO_DEVICE, &s), 0);
	assert_int_equal(p2pdma_sgt_dma_address(s, 0), bar(k, "18:00.0", 0));
	assert_int_equal(p2pdma_dmabuf_free_sgt(a, s, P2PDMA_DMA_TO_DEVICE), 0);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_detach(buf, a), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_sgt_argument_errors(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_dmabuf *buf = mmio_buf(k, "aa:00.0", 1, 1);
	struct p2pdma_provider *p = provider(k, "aa:00.0", 1);
	struct p2pdma_phys_vec huge[2] = { { 0, 1ULL << 63 }, { 0, 1ULL << 63 } };
	struct p2pdma_dmabuf_attach *a;
	struct p2pdma_sgt *s;

	(void)state;
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "ac:00.0"), &p2p_ops, NULL, &a), 0);
	assert_int_equal(p2pdma_dmabuf_phys_vec_to_sgt(a, p, huge, 1, 0, P2PDMA_DMA_TO_DEVICE, &s), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_resv_lock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_phys_vec_to_sgt(a, NULL, huge, 1, 0, P2PDMA_DMA_TO_DEVICE, &s), -EINVAL);
	assert_int_equal(log_has(k, "no provider"), 1);
	/* No range: no entry, sg_alloc_table() refuses. */
	assert_int_equal(p2pdma_dmabuf_phys_vec_to_sgt(a, p, huge, 0, 0, P2PDMA_DMA_TO_DEVICE, &s), -EINVAL);
	/* Entries beyond an unsigned int: the checked sum gives 0, -EINVAL. */
	assert_int_equal(p2pdma_dmabuf_phys_vec_to_sgt(a, p, huge, 2, 0, P2PDMA_DMA_TO_DEVICE, &s), -EINVAL);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_detach(buf, a), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

/* A 9 GiB range of a 128 GiB BAR, BUS_ADDR: three entries. */
static void chunking(const char *release, unsigned int force, uint64_t *e1, uint64_t *e2,
		     uint32_t *l0)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", release, -1);
	struct p2pdma_phys_vec r = { bar(k, "aa:00.0", 1), 9ULL << 30 };
	struct p2pdma_dmabuf *buf;
	struct p2pdma_dmabuf_attach *a;
	struct p2pdma_sgt *s;
	int err;

	if (force)
		assert_int_equal(p2pdma_dma_set_quirks(k, p2pdma_dma_quirks(k) | force), 0);
	assert_int_equal(p2pdma_dmabuf_export_mmio(k, provider(k, "aa:00.0", 1), &r, 1, 0, &buf), 0);
	s = map_for(k, buf, "ac:00.0", &a, &err);
	assert_int_equal(err, 0);
	assert_int_equal(p2pdma_sgt_nents(s), 3);
	assert_int_equal(p2pdma_sgt_dma_bytes(s), 9ULL << 30);
	*e1 = p2pdma_sgt_dma_address(s, 1) - r.paddr;
	*e2 = p2pdma_sgt_dma_address(s, 2) - r.paddr;
	*l0 = p2pdma_sgt_dma_len(s, 0);
	unmap_detach(buf, a, s);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_sgt_max_ent_by_release_and_the_8gib_overflow(void **state)
{
	uint64_t e1, e2;
	uint32_t l0;

	(void)state;
	/* 6.19: cut at UINT_MAX, second entry not page aligned. */
	chunking("6.19", 0, &e1, &e2, &l0);
	assert_int_equal(l0, 0xffffffffU);
	assert_int_equal(e1, 0xffffffffULL);
	assert_int_equal(e2, 0x1fffffffeULL);
	/* v9 as merged: i * UINT_MAX in 32 bits, the third entry is wrong. */
	chunking("6.19-rc1", 0, &e1, &e2, &l0);
	assert_int_equal(e1, 0xffffffffULL);
	assert_int_equal(e2, 0xfffffffeULL);
	/* Later: page-aligned entries. */
	chunking("7.2", 0, &e1, &e2, &l0);
	assert_int_equal(l0, 0xfffff000U);
	assert_int_equal(e1, 0xfffff000ULL);
	assert_int_equal(e2, 0x1ffffe000ULL);
	/* Selected on another release. */
	chunking("7.2", P2PDMA_QUIRK_SGT_MAX_ENT_UINT | P2PDMA_QUIRK_SGT_ADDR_OVERFLOW, &e1, &e2, &l0);
	assert_int_equal(e2, 0xfffffffeULL);
}

/* --- revoke and the importers (§4.7) --- */

static void test_revoke_notifies_and_refuses_attach_and_map(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_dmabuf *buf = mmio_buf(k, "aa:00.0", 1, 1);
	struct p2pdma_dmabuf_attach *a, *b;
	struct p2pdma_sgt *s;

	(void)state;
	notified = 0;
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "ac:00.0"), &p2p_ops, NULL, &a), 0);
	/* Static importers are refused: no peer2peer. */
	assert_int_equal(p2pdma_dmabuf_attach(buf, dev(k, "ab:00.0"), &b), -EOPNOTSUPP);
	assert_int_equal(p2pdma_dmabuf_revoke(buf, true), 0);
	assert_int_equal(notified, 1);
	assert_true(p2pdma_dmabuf_revoked(buf));
	assert_int_equal(p2pdma_dmabuf_revoke(buf, true), 0);	/* no change, no notice */
	assert_int_equal(notified, 1);
	assert_int_equal(p2pdma_dmabuf_dynamic_attach(buf, dev(k, "ab:00.0"), &p2p_ops, NULL, &b), -ENODEV);
	assert_int_equal(p2pdma_dmabuf_map_attachment_unlocked(a, P2PDMA_DMA_TO_DEVICE, &s), -ENODEV);
	assert_int_equal(p2pdma_dmabuf_revoke(buf, false), 0);
	assert_int_equal(notified, 2);
	assert_int_equal(p2pdma_dmabuf_map_attachment_unlocked(a, P2PDMA_DMA_TO_DEVICE, &s), 0);
	/* The helper takes the lock itself. */
	assert_int_equal(p2pdma_dmabuf_resv_lock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_revoke(buf, true), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_unmap_attachment(a, s, P2PDMA_DMA_TO_DEVICE), 0);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(buf), 0);
	assert_int_equal(p2pdma_dmabuf_detach(buf, a), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_rdma_importer_remaps_on_demand(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_dmabuf *buf = mmio_buf(k, "aa:00.0", 1, 2);
	struct p2pdma_importer *imp;
	char out[6] = "";

	(void)state;
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "ac:00.0"), "mlx5_ib", &imp), 0);
	assert_int_equal(p2pdma_importer_import(imp, buf), 0);
	assert_false(p2pdma_importer_mapped(imp));
	/* Across the two ranges: the second half lands in the second range. */
	assert_int_equal(p2pdma_importer_write(imp, 0x10000 - 3, "hello", 6), 0);
	assert_true(p2pdma_importer_mapped(imp));
	assert_int_equal(p2pdma_phys_read(k, bar(k, "aa:00.0", 1) + 0x20000, out, 3), 0);
	assert_memory_equal(out, "lo", 3);
	assert_int_equal(p2pdma_dmabuf_revoke(buf, true), 0);
	assert_false(p2pdma_importer_mapped(imp));
	assert_int_equal(p2pdma_importer_notifications(imp), 1);
	assert_int_equal(p2pdma_importer_write(imp, 0, "x", 1), -ENODEV);
	assert_int_equal(p2pdma_dmabuf_revoke(buf, false), 0);
	assert_int_equal(p2pdma_importer_read(imp, 0x10000 - 3, out, 6), 0);
	assert_string_equal(out, "hello");
	assert_int_equal(p2pdma_dmabuf_attach_kept_across_revoke(p2pdma_importer_attachment(imp)), 0);
	p2pdma_importer_destroy(imp);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_hostile_importer_is_detected_and_its_dma_blocked(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_dmabuf *buf = mmio_buf(k, "aa:00.0", 1, 1);
	struct p2pdma_importer *imp;
	char out[4] = "";

	(void)state;
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_HOSTILE, dev(k, "ac:00.0"), "evil", &imp), 0);
	assert_int_equal(p2pdma_importer_import(imp, buf), 0);
	assert_int_equal(p2pdma_importer_write(imp, 0, "ok!", 4), 0);
	assert_int_equal(p2pdma_dmabuf_revoke(buf, true), 0);
	assert_int_equal(p2pdma_importer_notifications(imp), 1);
	assert_true(p2pdma_importer_mapped(imp));
	assert_int_equal(p2pdma_dmabuf_attach_kept_across_revoke(p2pdma_importer_attachment(imp)), 1);
	assert_int_equal(log_has(k, "importer evil kept 1 mapping(s)"), 1);
	/* Its DMA through the stale mapping never lands. */
	assert_int_equal(p2pdma_importer_write(imp, 0, "BAD", 4), -ESTALE);
	assert_int_equal(log_has(k, "use after revoke: evil (0000:ac:00.0) wrote"), 1);
	assert_int_equal(p2pdma_phys_read(k, bar(k, "aa:00.0", 1), out, 4), 0);
	assert_string_equal(out, "ok!");
	/* A device that never attached is caught too. */
	assert_int_equal(p2pdma_dma_write(k, dev(k, "ab:00.0"), bar(k, "aa:00.0", 1), "x", 1), -ESTALE);
	assert_int_equal(log_has(k, "a device with no attachment"), 1);
	p2pdma_importer_destroy(imp);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_pinned_importer_is_unsafe_with_revocable_exporters(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_dmabuf *buf = mmio_buf(k, "aa:00.0", 1, 1);
	struct p2pdma_importer *imp;

	(void)state;
	/* The model's MMIO exporter has no pin: dma_buf_pin() succeeds. */
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_PINNED, dev(k, "ac:00.0"), NULL, &imp), 0);
	assert_int_equal(p2pdma_importer_import(imp, buf), 0);
	assert_true(p2pdma_importer_mapped(imp));
	assert_int_equal(p2pdma_dmabuf_revoke(buf, true), 0);
	assert_int_equal(log_has(k, "Invalidate callback should not be called when memory is pinned"), 1);
	assert_true(p2pdma_importer_mapped(imp));	/* it cannot let go */
	assert_int_equal(p2pdma_importer_write(imp, 0x100, "x", 1), -ESTALE);
	assert_string_equal(p2pdma_importer_name(imp), "rdma-pinned@0000:ac:00.0");
	p2pdma_importer_destroy(imp);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_iommufd_importer_single_range_revoked_for_good(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	struct p2pdma_dmabuf *one = mmio_buf(k, "18:00.0", 1, 1), *two = mmio_buf(k, "18:00.0", 1, 2);
	struct p2pdma_importer *imp;
	uint64_t iova;
	char out[4] = "";

	(void)state;
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_IOMMUFD, dev(k, "1a:00.0"), NULL, &imp), 0);
	assert_int_equal(p2pdma_importer_import(imp, two), -EOPNOTSUPP);
	assert_int_equal(p2pdma_importer_import(imp, one), 0);
	assert_int_equal(p2pdma_importer_dma_address(imp, 0x10, &iova), 0);
	assert_int_equal(p2pdma_phys_write(k, bar(k, "18:00.0", 1) + 0x10, "gpu", 4), 0);
	assert_int_equal(p2pdma_importer_read(imp, 0x10, out, 4), 0);
	assert_string_equal(out, "gpu");
	assert_int_equal(p2pdma_dmabuf_revoke(one, true), 0);
	assert_false(p2pdma_importer_mapped(imp));
	assert_int_equal(p2pdma_importer_read(imp, 0x10, out, 4), -EFAULT);	/* unmapped IOVA */
	assert_int_equal(p2pdma_dmabuf_revoke(one, false), 0);
	assert_int_equal(p2pdma_importer_notifications(imp), 2);
	assert_int_equal(p2pdma_importer_map(imp), -ENODEV);	/* iommufd does not come back */
	p2pdma_importer_destroy(imp);
	assert_int_equal(p2pdma_dmabuf_put(one), 0);
	assert_int_equal(p2pdma_dmabuf_put(two), 0);
	p2pdma_kernel_shutdown(k);
}

static void test_pages_exporters_system_and_p2p(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_sg_page sys_pages[2] = { { NULL, 0x100000000ULL, 4096 }, { NULL, 0x100004000ULL, 4096 } };
	struct p2pdma_sg_page p2p_pages[2] = { { NULL, 0, 4096 }, { NULL, 0x100008000ULL, 4096 } };
	struct p2pdma_dmabuf *sb, *pb;
	struct p2pdma_importer *st, *dy;
	uint64_t kva;
	char out[3] = "";

	(void)state;
	/* A P2P page is a page of the pool: the BAR's struct pages, handed out. */
	assert_int_equal(p2pdma_kernel_add_resource(k, dev(k, "aa:00.0"), 1, 2 << 20, 0), 0);
	p2p_pages[0].provider = provider(k, "aa:00.0", 1);
	p2p_pages[0].phys = bar(k, "aa:00.0", 1);
	assert_int_equal(p2pdma_dmabuf_export_pages(k, p2p_pages, 2, 0, NULL, NULL, &pb), -EINVAL);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "is free in the pool"));
	p2p_pages[0].phys = bar(k, "aa:00.0", 1) + (4 << 20);	/* in the BAR, no struct page */
	assert_int_equal(p2pdma_dmabuf_export_pages(k, p2p_pages, 2, 0, NULL, NULL, &pb), -EINVAL);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "has no struct page"));
	assert_int_equal(p2pdma_p2pmem_alloc(k, dev(k, "aa:00.0"), 4096, "test", &kva), 0);
	p2p_pages[0].phys = p2pdma_p2pmem_virt_to_phys(k, kva);
	assert_int_equal(p2pdma_dmabuf_export_pages(k, sys_pages, 2, 0, NULL, NULL, &sb), 0);
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_STATIC, dev(k, "ac:00.0"), NULL, &st), 0);
	assert_int_equal(p2pdma_importer_import(st, sb), 0);
	assert_int_equal(p2pdma_importer_write(st, 4096, "hi", 3), 0);
	assert_int_equal(p2pdma_phys_read(k, 0x100004000ULL, out, 3), 0);
	assert_string_equal(out, "hi");
	p2pdma_importer_destroy(st);
	/* P2P pages: static importers refused, dynamic ones get marked bus entries. */
	assert_int_equal(p2pdma_dmabuf_export_pages(k, p2p_pages, 2, 0, NULL, NULL, &pb), 0);
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_STATIC, dev(k, "ac:00.0"), NULL, &st), 0);
	assert_int_equal(p2pdma_importer_import(st, pb), -EOPNOTSUPP);
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "ac:00.0"), NULL, &dy), 0);
	assert_int_equal(p2pdma_importer_import(dy, pb), 0);
	assert_int_equal(p2pdma_importer_map(dy), 0);
	assert_true(p2pdma_sgt_is_bus_address(p2pdma_importer_sgt(dy), 0));
	assert_false(p2pdma_sgt_is_bus_address(p2pdma_importer_sgt(dy), 1));
	/* Outside its provider's BAR: refused at export. */
	p2p_pages[0].phys = 0x1000;
	assert_int_equal(p2pdma_dmabuf_export_pages(k, p2p_pages, 2, 0, NULL, NULL, &sb), -EINVAL);
	p2pdma_importer_destroy(st);
	p2pdma_importer_destroy(dy);
	/* mmap and vmap: these exporters offer neither. */
	assert_int_equal(p2pdma_dmabuf_mmap(pb, 0, 4096), -EINVAL);
	assert_int_equal(p2pdma_dmabuf_put(sb), 0);
	assert_int_equal(p2pdma_dmabuf_put(pb), 0);
	assert_int_equal(p2pdma_p2pmem_free(k, dev(k, "aa:00.0"), kva, 4096), 0);
	p2pdma_kernel_shutdown(k);
}

/* The importer's steps one by one, and its ops variants (§4.2, §4.4, §4.5). */
static void test_importer_steps_follow_the_core_rules(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", -1);
	struct p2pdma_dmabuf *buf = mmio_buf(k, "aa:00.0", 1, 2);
	struct p2pdma_importer *imp, *st;
	uint64_t addr;

	(void)state;
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "ac:00.0"), "nic", &imp), 0);
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_STATIC, dev(k, "ac:00.0"), NULL, &st), 0);
	assert_int_equal(p2pdma_importer_set_flags(st, P2PDMA_IMPORTER_NO_PEER2PEER), -EINVAL);
	assert_int_equal(p2pdma_importer_set_flags(imp, 0x80), -EINVAL);
	/* Ops without move_notify: the core refuses (WARNING). */
	assert_int_equal(p2pdma_importer_set_flags(imp, P2PDMA_IMPORTER_NO_MOVE_NOTIFY), 0);
	assert_int_equal(p2pdma_importer_attach(imp, buf), -EINVAL);
	assert_int_equal(log_has(k, "importer ops without move_notify"), 1);
	/* Dynamic but no peer2peer: this MMIO exporter refuses. */
	assert_int_equal(p2pdma_importer_set_flags(imp, P2PDMA_IMPORTER_NO_PEER2PEER), 0);
	assert_int_equal(p2pdma_importer_attach(imp, buf), -EOPNOTSUPP);
	assert_int_equal(p2pdma_importer_set_flags(imp, 0), 0);
	assert_int_equal(p2pdma_importer_attach(imp, buf), 0);
	assert_int_equal(p2pdma_importer_set_flags(imp, 0), -EBUSY);
	assert_false(p2pdma_importer_mapped(imp));	/* attach maps nothing */
	/* map and pin need the lock; the _unlocked variant must not have it. */
	assert_int_equal(p2pdma_importer_map_attachment(imp, false), -EDEADLK);
	assert_int_equal(p2pdma_importer_pin(imp), -EDEADLK);
	assert_int_equal(p2pdma_dmabuf_resv_lock(buf), 0);
	assert_int_equal(p2pdma_importer_map_attachment(imp, true), -EDEADLK);
	assert_int_equal(p2pdma_importer_pin(imp), 0);	/* no pin op: a no-op */
	assert_int_equal(p2pdma_importer_map_attachment(imp, false), 0);
	assert_int_equal(p2pdma_importer_map_attachment(imp, false), -EBUSY);
	assert_true(p2pdma_importer_mapped(imp));	/* a query with the lock held */
	assert_int_equal(p2pdma_importer_dma_address(imp, 0, &addr), 0);
	assert_int_equal(addr, dev(k, "aa:00.0")->bars[1].bus);
	/* Paths that take the lock themselves fail, and keep the caller's lock. */
	assert_int_equal(p2pdma_importer_write(imp, 0, "x", 1), -EDEADLK);
	assert_int_equal(p2pdma_importer_release(imp), -EDEADLK);
	assert_int_equal(p2pdma_importer_detach(imp), -EDEADLK);
	assert_true(p2pdma_dmabuf_resv_held(buf));
	assert_int_equal(p2pdma_importer_unpin(imp), 0);
	assert_int_equal(p2pdma_importer_unpin(imp), -EINVAL);
	assert_int_equal(p2pdma_dmabuf_resv_unlock(buf), 0);
	assert_int_equal(p2pdma_importer_write(imp, 0, "x", 1), 0);
	/* detach as is: the core unmaps what is left, with its WARNING. */
	assert_int_equal(p2pdma_importer_detach(imp), 0);
	assert_int_equal(log_has(k, "nic detaches with 1 mapping(s)"), 1);
	assert_int_equal(p2pdma_importer_detach(imp), -ENOENT);
	assert_int_equal(p2pdma_importer_attach(imp, buf), 0);
	assert_int_equal(p2pdma_importer_map_attachment(imp, true), 0);
	assert_int_equal(p2pdma_importer_unmap_attachment(imp, true), 0);
	assert_int_equal(p2pdma_importer_unmap_attachment(imp, true), -ENOENT);
	p2pdma_importer_destroy(imp);
	p2pdma_importer_destroy(st);
	assert_int_equal(p2pdma_dmabuf_num_attachments(buf), 0);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

/* The P2P-pages exporter on the pool: pages from pci_alloc_p2pmem(), back at release. */
static void test_p2pmem_exporter_takes_pool_pages(void **state)
{
	struct p2pdma_kernel *k = boot("nvmeof-target", "6.19", -1);
	const struct p2pdma_dev *cmb = dev(k, "1a:00.0");
	const struct p2pdma_provider *prov;
	struct p2pdma_pool_info pi;
	struct p2pdma_page_info pg;
	struct p2pdma_dmabuf *buf;
	struct p2pdma_importer *nic;
	uint64_t phys;
	char out[6] = "";

	(void)state;
	assert_int_equal(p2pdma_dmabuf_export_p2pmem(k, cmb, 64 << 10, 0, &buf), -ENODEV);	/* no pool */
	assert_int_equal(p2pdma_kernel_add_resource(k, cmb, 4, 0, 0), 0);
	assert_int_equal(p2pdma_dmabuf_export_p2pmem(k, cmb, 0, 0, &buf), -EINVAL);
	assert_int_equal(p2pdma_dmabuf_export_p2pmem(k, cmb, 1ULL << 30, 0, &buf), -ENOMEM);
	assert_int_equal(p2pdma_dmabuf_export_p2pmem(k, cmb, (60 << 10) + 1, 0, &buf), 0);
	assert_int_equal(p2pdma_p2pmem_pool_get_info(k, cmb, &pi, sizeof(pi)), 0);
	assert_int_equal(pi.size - pi.available, 64 << 10);	/* rounded up to pages */
	assert_int_equal(p2pdma_dmabuf_size(buf), 64 << 10);
	assert_string_equal(p2pdma_dmabuf_exp_name(buf), "p2pdma_p2p_pages");
	prov = p2pdma_dmabuf_provider(buf);
	assert_non_null(prov);
	assert_ptr_equal(p2pdma_provider_owner(prov), cmb);
	/* The NIC below the same switch maps them: one BUS_ADDR entry, the pool's page. */
	assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "19:00.0"), "nic", &nic), 0);
	assert_int_equal(p2pdma_importer_import(nic, buf), 0);
	assert_int_equal(p2pdma_importer_map(nic), 0);
	assert_int_equal(p2pdma_sgt_kind(p2pdma_importer_sgt(nic)), P2PDMA_SGT_MAP_SG);
	assert_int_equal(p2pdma_sgt_nents(p2pdma_importer_sgt(nic)), 1);
	assert_true(p2pdma_sgt_is_bus_address(p2pdma_importer_sgt(nic), 0));
	assert_int_equal(p2pdma_sgt_page(p2pdma_importer_sgt(nic), 0, &prov, &phys), 0);
	assert_ptr_equal(prov, p2pdma_dmabuf_provider(buf));
	p2pdma_page_get_info(k, phys, &pg, sizeof(pg));
	assert_int_equal(pg.kind, P2PDMA_PAGE_P2PDMA);
	assert_int_equal(pg.state, P2PDMA_PAGE_KERNEL);
	assert_int_equal(p2pdma_sgt_dma_address(p2pdma_importer_sgt(nic), 0),
			 p2pdma_provider_bus_addr_map(prov, phys));
	assert_int_equal(p2pdma_importer_write(nic, 0x100, "cmb!", 5), 0);
	assert_int_equal(p2pdma_phys_read(k, phys + 0x100, out, 5), 0);
	assert_string_equal(out, "cmb!");
	/* The provider's unbind waits for the buffer, which holds the pages. */
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	assert_int_equal(p2pdma_kernel_unbind(k, cmb), -EINPROGRESS);
	assert_int_equal(log_has(k, "'dma-buf'"), 1);
	p2pdma_importer_destroy(nic);	/* the last reference: release, pages back */
	assert_int_equal(log_has(k, "the unbind completes"), 1);
	assert_null(p2pdma_kernel_driver(k, cmb));
	p2pdma_kernel_shutdown(k);
}

/* --- allocation failures --- */

static int dmabuf_scenario(struct p2pdma_kernel *k)
{
	struct p2pdma_phys_vec r = { bar(k, "aa:00.0", 1), 0x2000 };
	struct p2pdma_provider *p;
	struct p2pdma_dmabuf *buf = NULL, *got;
	struct p2pdma_importer *imp = NULL;
	struct p2pdma_fence *f = NULL;
	int fd, ret;

	if (p2pdma_kernel_provider(k, dev(k, "aa:00.0"), 1, &p))
		return -EINVAL;
	ret = p2pdma_dmabuf_export_mmio(k, p, &r, 1, 0, &buf);
	if (ret)
		return ret;
	fd = p2pdma_dmabuf_fd(buf, 0);
	if (fd < 0) {
		p2pdma_dmabuf_put(buf);
		return fd;
	}
	ret = p2pdma_dmabuf_get(k, fd, &got);
	if (ret)
		goto out;
	ret = p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, "1a:00.0"), NULL, &imp);
	if (!ret)
		ret = p2pdma_importer_import(imp, got);
	if (!ret)
		ret = p2pdma_importer_write(imp, 8, "abc", 4);
	if (!ret && !(ret = p2pdma_fence_create(ctx, "f", &f))) {
		p2pdma_dmabuf_resv_lock(got);
		ret = p2pdma_dmabuf_add_fence(got, f, P2PDMA_RESV_USAGE_BOOKKEEP);
		p2pdma_dmabuf_resv_unlock(got);
		p2pdma_fence_signal(f);
		p2pdma_fence_put(f);
	}
	if (!ret)
		ret = p2pdma_dmabuf_revoke(got, true);
	if (!ret)
		ret = p2pdma_dmabuf_revoke(got, false);
	p2pdma_importer_destroy(imp);
	p2pdma_dmabuf_put(got);
out:
	p2pdma_dmabuf_close_fd(k, fd);
	return ret;
}

/* The machine of dmabuf_scenario(), its provider bound outside the run. */
static struct p2pdma_kernel *dmabuf_machine(void)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);

	provider(k, "aa:00.0", 1);
	return k;
}

/* No dma-buf outlives the scenario, failed or not. */
static void no_dmabuf_left(struct p2pdma_kernel *k)
{
	assert_int_equal(p2pdma_kernel_num_dmabufs(k), 0);
}

static void test_allocation_failure_at_every_site_is_clean(void **state)
{
	(void)state;
	alloc_fault_sweep(dmabuf_machine, dmabuf_scenario, no_dmabuf_left);
}

/* --- threads: importers map and unmap while the exporter revokes --- */

#define NIMPORTERS 4
#define ROUNDS 300

struct worker {
	struct p2pdma_kernel *k;
	struct p2pdma_dmabuf *buf;
	struct p2pdma_importer *imp;
	atomic_int *stop;
	unsigned int ok, refused, violations;
};

static void *importer_thread(void *arg)
{
	struct worker *w = arg;
	char b[8] = "0123456";
	unsigned int iter = 0;

	while (!atomic_load(w->stop)) {
		int ret;
		bool mapped;

		iter++;
		if (!p2pdma_importer_attachment(w->imp)) {
			ret = p2pdma_importer_import(w->imp, w->buf);
			if (ret == -ENODEV)	/* attach while revoked */
				__atomic_add_fetch(&w->refused, 1, __ATOMIC_RELAXED);
			else if (ret)
				w->violations++;
			continue;
		}
		ret = p2pdma_importer_write(w->imp, 64, b, 8);
		if (!ret)
			__atomic_add_fetch(&w->ok, 1, __ATOMIC_RELAXED);
		else if (ret == -ENODEV)
			__atomic_add_fetch(&w->refused, 1, __ATOMIC_RELAXED);
		else
			w->violations++;	/* anything else breaks the rule */
		/* The invariant, under the lock: revoked implies unmapped. */
		p2pdma_dmabuf_resv_lock(w->buf);
		mapped = p2pdma_dmabuf_attach_mappings(p2pdma_importer_attachment(w->imp)) > 0;
		if (mapped && p2pdma_dmabuf_revoked(w->buf))
			w->violations++;
		p2pdma_dmabuf_resv_unlock(w->buf);
		if (iter % 7 == 0)
			p2pdma_importer_release(w->imp);
	}
	return NULL;
}

static void test_threads_map_while_the_exporter_revokes(void **state)
{
	struct p2pdma_kernel *k = boot("xeon-8gpu", "6.19", P2PDMA_DOMAIN_DMA);
	struct p2pdma_dmabuf *buf = mmio_buf(k, "18:00.0", 1, 1);
	static const char *const devs[NIMPORTERS] = { "1a:00.0", "19:00.0", "ac:00.0", "aa:00.0" };
	struct worker w[NIMPORTERS];
	pthread_t th[NIMPORTERS];
	atomic_int stop;
	unsigned int i, r, ok = 0, refused = 0;

	(void)state;
	atomic_init(&stop, 0);
	for (i = 0; i < NIMPORTERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].k = k;
		w[i].buf = buf;
		w[i].stop = &stop;
		assert_int_equal(p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, devs[i]), NULL, &w[i].imp), 0);
		assert_int_equal(p2pdma_importer_import(w[i].imp, buf), 0);
		assert_int_equal(pthread_create(&th[i], NULL, importer_thread, &w[i]), 0);
	}
	/* Revoke and restore until every importer got through both ways. */
	for (r = 0;; r++) {
		struct timespec pause = { 0, 20000 };
		unsigned int done = 0;

		assert_int_equal(p2pdma_dmabuf_revoke(buf, true), 0);
		/* Right after the revoke: no attachment maps it any more (the
		 * list changes only under the lock). */
		p2pdma_dmabuf_resv_lock(buf);
		{
			struct p2pdma_dmabuf_attach *a;

			for (a = buf->attachments; a; a = a->next)
				assert_int_equal(p2pdma_dmabuf_attach_mappings(a), 0);
		}
		p2pdma_dmabuf_resv_unlock(buf);
		nanosleep(&pause, NULL);
		assert_int_equal(p2pdma_dmabuf_revoke(buf, false), 0);
		nanosleep(&pause, NULL);
		for (i = 0; i < NIMPORTERS; i++)
			done += __atomic_load_n(&w[i].ok, __ATOMIC_RELAXED) > 20 &&
				__atomic_load_n(&w[i].refused, __ATOMIC_RELAXED) > 5;
		if (r >= ROUNDS && (done == NIMPORTERS || r > 200000))
			break;
	}
	atomic_store(&stop, 1);
	for (i = 0; i < NIMPORTERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].violations, 0);
		ok += w[i].ok;
		refused += w[i].refused;
		p2pdma_importer_destroy(w[i].imp);
	}
	/* No use after revoke was ever logged. */
	assert_int_equal(log_has(k, "use after revoke"), 0);
	print_message("# %u revoke/restore rounds, %u importer writes landed, %u refused while revoked\n",
		      r + 1, ok, refused);
	assert_int_equal(p2pdma_dmabuf_put(buf), 0);
	p2pdma_kernel_shutdown(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_checks_the_ops),
		cmocka_unit_test(test_release_runs_on_the_last_reference),
		cmocka_unit_test(test_fd_table_full_is_emfile),
		cmocka_unit_test(test_dynamic_attach_requires_move_notify),
		cmocka_unit_test(test_locking_convention_is_enforced),
		cmocka_unit_test(test_map_without_a_table_is_enomem),
		cmocka_unit_test(test_pin_on_map_for_static_importers_and_without_move_notify),
		cmocka_unit_test(test_move_notify_reaches_dynamic_importers_only),
		cmocka_unit_test(test_static_map_waits_for_kernel_fences),
		cmocka_unit_test(test_sgt_bus_addr_entries_per_range_no_cpu_list),
		cmocka_unit_test(test_sgt_iova_one_contiguous_span),
		cmocka_unit_test(test_sgt_per_range_dma_map_phys_without_iova),
		cmocka_unit_test(test_sgt_unreachable_importer_fails_at_map_not_attach),
		cmocka_unit_test(test_sgt_per_range_map_failure_undoes_the_earlier_ranges),
		cmocka_unit_test(test_sgt_argument_errors),
		cmocka_unit_test(test_sgt_max_ent_by_release_and_the_8gib_overflow),
		cmocka_unit_test(test_revoke_notifies_and_refuses_attach_and_map),
		cmocka_unit_test(test_rdma_importer_remaps_on_demand),
		cmocka_unit_test(test_hostile_importer_is_detected_and_its_dma_blocked),
		cmocka_unit_test(test_pinned_importer_is_unsafe_with_revocable_exporters),
		cmocka_unit_test(test_iommufd_importer_single_range_revoked_for_good),
		cmocka_unit_test(test_pages_exporters_system_and_p2p),
		cmocka_unit_test(test_p2pmem_exporter_takes_pool_pages),
		cmocka_unit_test(test_importer_steps_follow_the_core_rules),
		cmocka_unit_test(test_allocation_failure_at_every_site_is_clean),
		cmocka_unit_test(test_threads_map_while_the_exporter_revokes),
	};

	return cmocka_run_group_tests(tests, model_setup, model_teardown);
}
