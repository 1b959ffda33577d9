// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-dmabuf.c - the dma-buf paths side by side, from one run:
 *  - dma_buf_phys_vec_to_sgt() for a 1 GiB buffer, as 262,144 ranges of
 *    4 KiB and as one range, BUS_ADDR and IOVA, against a bare loop that
 *    writes the same entries (and, for IOVA, the same page-table entries);
 *  - IOVA map+unmap pairs per second (dma_map_phys() in a DMA domain) for
 *    4 KiB and 2 MiB;
 *  - revoke latency with 1,000 dynamic importers mapped.
 * Machine: the bundled xeon-8gpu (BUS_ADDR through switch D, IOVA through
 * the allow-listed host bridge of switch A).
 * Arguments pick parts: sgt, sgt-iova (the IOVA half alone, for a
 * profiler), pairs, revoke; none: all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmabuf-private.h"

#define GIB (1ULL << 30)
#define PG 4096ULL

static struct p2pdma_ctx *ctx;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, int err) __attribute__((noreturn));
static void die(const char *what, int err)
{
	fprintf(stderr, "bench-dmabuf: %s: %d (%s)\n", what, err, p2pdma_ctx_error(ctx));
	exit(1);
}

static struct p2pdma_kernel *boot(enum p2pdma_domain_type def)
{
	struct p2pdma_topo *t;
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;
	int ret;

	if ((ret = p2pdma_topo_load_example(ctx, "xeon-8gpu", &t)) ||
	    (ret = p2pdma_policy_from_machine(ctx, t, &pol)) ||
	    (ret = p2pdma_policy_set_kernel(pol, "6.19")) ||
	    (ret = p2pdma_kernel_boot(ctx, t, pol, &k)))
		die("boot", ret);
	p2pdma_policy_destroy(pol);
	p2pdma_topo_destroy(t);
	if ((ret = p2pdma_dma_set_default_domain(k, def)))
		die("default domain", ret);
	return k;
}

static const struct p2pdma_dev *dev(struct p2pdma_kernel *k, const char *bdf)
{
	const struct p2pdma_dev *d = p2pdma_topo_find(p2pdma_kernel_topo(k), bdf);

	if (!d)
		die(bdf, -ENODEV);
	return d;
}

static struct p2pdma_provider *provider(struct p2pdma_kernel *k, const char *bdf, int bar)
{
	struct p2pdma_provider *p;
	int ret;

	if ((ret = p2pdma_kernel_p2pdma_init(k, dev(k, bdf))) ||
	    (ret = p2pdma_kernel_provider(k, dev(k, bdf), bar, &p)))
		die("provider", ret);
	return p;
}

static void noop_notify(struct p2pdma_dmabuf_attach *a)
{
	(void)a;
}

static const struct p2pdma_dmabuf_importer_ops ops = { true, noop_notify };

/* The best of @reps timings of dma_buf_phys_vec_to_sgt() alone (the
 * table is freed outside the timed part). */
static double time_sgt(struct p2pdma_dmabuf_attach *a, const struct p2pdma_provider *p,
		       const struct p2pdma_phys_vec *v, size_t nr, int reps, size_t *nents)
{
	double best = 1e9;
	int i;

	for (i = 0; i < reps; i++) {
		struct p2pdma_sgt *s;
		double t0 = now(), t;
		int ret = p2pdma_dmabuf_phys_vec_to_sgt(a, p, v, nr, GIB, P2PDMA_DMA_BIDIRECTIONAL, &s);

		t = now() - t0;
		if (ret)
			die("phys_vec_to_sgt", ret);
		*nents = p2pdma_sgt_nents(s);
		p2pdma_dmabuf_free_sgt(a, s, P2PDMA_DMA_BIDIRECTIONAL);
		if (t < best)
			best = t;
	}
	return best;
}

/* The bare loop: the entries the function writes, into a ready array. */
static double time_bare(const struct p2pdma_phys_vec *v, size_t nr, uint64_t off,
			bool iova, int reps)
{
	struct sg_ent *e = calloc(nr, sizeof(*e));
	uint64_t *pte = calloc(GIB / PG, sizeof(*pte));
	uint64_t sink = 0;
	double best = 1e9;
	int r;

	if (!e || !pte)
		die("bare loop", -ENOMEM);
	for (r = 0; r < reps; r++) {
		double t0 = now(), t;
		size_t i;

		if (!iova) {
			for (i = 0; i < nr; i++) {
				e[i].dma = v[i].paddr + off;
				e[i].dma_len = (uint32_t)v[i].len;
			}
		} else {
			/* One leaf per 4 KiB range (one 1 GiB leaf for one range),
			 * then the single span. */
			size_t n = nr == 1 ? 1 : GIB / PG;

			for (i = 0; i < n; i++)
				pte[i] = (v[nr == 1 ? 0 : i].paddr & ~0xfffULL) | 0x7;
			e[0].dma = 0x100000000ULL;
			e[0].dma_len = 0x3fffffff;
		}
		sink += e[nr - 1].dma + pte[r % 8];
		t = now() - t0;
		if (t < best)
			best = t;
	}
	if (sink == 1)	/* keep the loop's stores */
		printf("%llu\n", (unsigned long long)sink);
	free(e);
	free(pte);
	return best;
}

static void bench_sgt(const char *mode, enum p2pdma_domain_type def, const char *prov_bdf,
		      const char *imp_bdf)
{
	struct p2pdma_kernel *k = boot(def);
	struct p2pdma_provider *p = provider(k, prov_bdf, 1);
	uint64_t base = dev(k, prov_bdf)->bars[1].cpu;
	struct p2pdma_phys_vec *v = malloc((GIB / PG) * sizeof(*v));
	struct p2pdma_phys_vec one = { base, GIB };
	struct p2pdma_dmabuf *buf;
	struct p2pdma_dmabuf_attach *a;
	bool iova = def == P2PDMA_DOMAIN_DMA;
	size_t i, nents;
	int ret;

	if (!v)
		die("ranges", -ENOMEM);
	for (i = 0; i < GIB / PG; i++) {
		v[i].paddr = base + i * PG;
		v[i].len = PG;
	}
	if ((ret = p2pdma_dmabuf_export_mmio(k, p, &one, 1, 0, &buf)) ||
	    (ret = p2pdma_dmabuf_dynamic_attach(buf, dev(k, imp_bdf), &ops, NULL, &a)))
		die("export/attach", ret);
	/* Several ranges under an IOVA: every release read links them all at
	 * offset 0 and fails; measure the running-offset variant. */
	if (iova)
		p2pdma_dma_set_quirks(k, p2pdma_dma_quirks(k) & ~P2PDMA_QUIRK_SGT_IOVA_OFFSET_ZERO);
	p2pdma_dmabuf_resv_lock(buf);
	{
		double t_many = time_sgt(a, p, v, GIB / PG, 21, &nents);
		size_t nents_many = nents;
		double t_one = time_sgt(a, p, &one, 1, 2001, &nents);
		double b_many = time_bare(v, GIB / PG, 0, iova, 21);
		double b_one = time_bare(&one, 1, 0, iova, 2001);

		printf("phys_vec to sgt, %s, 262144 ranges, vs bare loop: %.2f x (%.2f ms vs %.2f ms, %zu entries)\n",
		       mode, t_many / b_many, t_many * 1e3, b_many * 1e3, nents_many);
		printf("phys_vec to sgt, %s, 1 ranges, vs bare loop: %.2f x (%.2f us vs %.3f us, %zu entries)\n",
		       mode, t_one / b_one, t_one * 1e6, b_one * 1e6, nents);
	}
	p2pdma_dmabuf_resv_unlock(buf);
	p2pdma_dmabuf_detach(buf, a);
	p2pdma_dmabuf_put(buf);
	free(v);
	p2pdma_kernel_shutdown(k);
}

static void bench_pairs(uint64_t size)
{
	struct p2pdma_kernel *k = boot(P2PDMA_DOMAIN_DMA);
	const struct p2pdma_dev *nic = dev(k, "1a:00.0");
	uint64_t phys = dev(k, "18:00.0")->bars[1].cpu;
	double t0, t;
	long n = 0;

	t0 = now();
	do {
		int i;

		for (i = 0; i < 1000; i++) {
			uint64_t a = p2pdma_dma_map_phys(k, nic, phys, size, P2PDMA_DMA_BIDIRECTIONAL,
							 P2PDMA_DMA_ATTR_MMIO);

			if (a == P2PDMA_DMA_MAPPING_ERROR)
				die("map_phys", -ENOMEM);
			p2pdma_dma_unmap_phys(k, nic, a, size, P2PDMA_DMA_BIDIRECTIONAL,
					      P2PDMA_DMA_ATTR_MMIO);
		}
		n += 1000;
		t = now() - t0;
	} while (t < 0.5);
	printf("IOVA map+unmap pairs, %llu KiB: %.0f pairs/s\n",
	       (unsigned long long)(size >> 10), (double)n / t);
	p2pdma_kernel_shutdown(k);
}

static void bench_revoke(const char *mode, enum p2pdma_domain_type def, const char *prov_bdf,
			 const char *imp_bdf)
{
	struct p2pdma_kernel *k = boot(def);
	struct p2pdma_provider *p = provider(k, prov_bdf, 1);
	struct p2pdma_phys_vec r = { dev(k, prov_bdf)->bars[1].cpu, 2 << 20 };
	struct p2pdma_importer *imp[1000];
	struct p2pdma_dmabuf *buf;
	double times[21], tmp;
	int i, j, ret;

	if ((ret = p2pdma_dmabuf_export_mmio(k, p, &r, 1, 0, &buf)))
		die("export", ret);
	for (i = 0; i < 1000; i++)
		if ((ret = p2pdma_importer_create(k, P2PDMA_IMPORTER_RDMA_DYNAMIC, dev(k, imp_bdf),
						  NULL, &imp[i])) ||
		    (ret = p2pdma_importer_import(imp[i], buf)))
			die("importer", ret);
	for (j = 0; j < 21; j++) {
		double t0;

		for (i = 0; i < 1000; i++)
			if ((ret = p2pdma_importer_map(imp[i])))
				die("map", ret);
		t0 = now();
		p2pdma_dmabuf_revoke(buf, true);
		times[j] = now() - t0;
		for (i = 0; i < 1000; i++)
			if (p2pdma_importer_mapped(imp[i]))
				die("still mapped after revoke", -EBUSY);
		p2pdma_dmabuf_revoke(buf, false);
	}
	for (i = 0; i < 21; i++)
		for (j = i + 1; j < 21; j++)
			if (times[j] < times[i]) {
				tmp = times[i];
				times[i] = times[j];
				times[j] = tmp;
			}
	printf("revoke with 1000 importers: %.0f us (median of 21, %s; min %.0f us, max %.0f us)\n",
	       times[10] * 1e6, mode, times[0] * 1e6, times[20] * 1e6);
	for (i = 0; i < 1000; i++)
		p2pdma_importer_destroy(imp[i]);
	p2pdma_dmabuf_put(buf);
	p2pdma_kernel_shutdown(k);
}

/* With no argument every part runs; else the parts named: sgt pairs revoke. */
static bool want(int argc, char **argv, const char *part)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], part))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	if (p2pdma_ctx_create(&ctx))
		return 1;
	p2pdma_ctx_set_param(ctx, "names", "0");
	if (want(argc, argv, "sgt"))
		bench_sgt("BUS_ADDR", P2PDMA_DOMAIN_IDENTITY, "aa:00.0", "ac:00.0");
	if (want(argc, argv, "sgt") || want(argc, argv, "sgt-iova"))
		bench_sgt("IOVA", P2PDMA_DOMAIN_DMA, "18:00.0", "1a:00.0");
	if (want(argc, argv, "pairs")) {
		bench_pairs(4096);
		bench_pairs(2 << 20);
	}
	if (want(argc, argv, "revoke")) {
		bench_revoke("BUS_ADDR importers", P2PDMA_DOMAIN_IDENTITY, "aa:00.0", "ac:00.0");
		bench_revoke("IOVA importers, each unmapping its IOVA", P2PDMA_DOMAIN_DMA,
			     "18:00.0", "1a:00.0");
	}
	p2pdma_ctx_destroy(ctx);
	return 0;
}
