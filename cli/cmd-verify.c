// SPDX-License-Identifier: GPL-2.0-or-later
/* cmd-verify.c - p2pdma verify: real O_DIRECT into p2pmem, beside the model's prediction */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"

static const char verify_help[] =
"Usage: p2pdma [--sysfs DIR] [POLICY] verify [--dev-dir DIR] [--provider BDF]...\n"
"              [--device NAME]... [--scratch NAME]... [--size N] [--offset N]\n"
"              [--mmap-rules] [--sequence STEPS] [--json]\n"
"\n"
"What p2pmem-test does, with the prediction beside it: for every provider\n"
"with p2pmem/allocate and every block device behind a PCI function, map\n"
"the provider's allocate file (MAP_SHARED), read the device with O_DIRECT\n"
"into the mapping and check the bytes against the same read into ordinary\n"
"memory. Beside each transfer, what the model predicts for the same\n"
"operation on this machine's kernel: the map type of (provider, the disk's\n"
"controller) and the outcome (moved, or the errno: EREMOTEIO when the queue\n"
"lacks BLK_FEAT_PCI_P2PDMA - only nvme sets it - or the path is\n"
"NOT_SUPPORTED before 6.17, EINVAL from 6.17).\n"
"\n"
"Safe by default: devices are only read. A device named with --scratch is\n"
"also written (a pattern from the mapping, read back through ordinary\n"
"memory, then the original block restored): name only a disk whose data\n"
"may be lost. Needs root on a real machine.\n"
"\n"
"  --dev-dir DIR    where the block device nodes are (default /dev)\n"
"  --provider BDF   only this provider (repeatable)\n"
"  --device NAME    only this block device, e.g. nvme0n1 (repeatable)\n"
"  --scratch NAME   allow writes to this device (repeatable; implies --device)\n"
"  --size N         bytes per transfer (default 64K; a multiple of 4K)\n"
"  --offset N       disk offset (default 0; a multiple of 4K)\n"
"  --mmap-rules     also try MAP_PRIVATE and a non-zero offset on allocate\n"
"  --sequence STEPS instead of the transfers: on each provider, map and unmap\n"
"                   its allocate file step by step and read p2pmem/available\n"
"                   after each step, beside the model's figures for the same\n"
"                   steps. STEPS: comma-separated 'map SIZE' (MAP_SHARED,\n"
"                   offset 0) and 'unmap N [OFFSET LEN]' (the Nth map step,\n"
"                   from 0; whole or a page-aligned part); what is still\n"
"                   mapped is unmapped at the end, e.g.\n"
"                   'map 4M, map 4M, unmap 0, map 6M, unmap 1 1M 1M'\n"
"\n"
"Exit status: 0 every result matched the prediction, 1 one did not, 2 usage\n"
"error or nothing to test.\n";

#define MAX_LIST 64
#define MAX_STEPS 64

/* One step of --sequence. */
struct seq_step {
	bool unmap;
	uint64_t size;		/* map: bytes; unmap: bytes, 0 = the whole mapping */
	unsigned int map;	/* unmap: the map step (0 = the first) */
	uint64_t offset;	/* unmap: offset into that mapping */
	char text[64];
};

struct vopts {
	const char *dev_dir;
	const char *providers[MAX_LIST];
	size_t nproviders;
	const char *devices[MAX_LIST];
	size_t ndevices;
	const char *scratch[MAX_LIST];
	size_t nscratch;
	uint64_t size, offset;
	bool mmap_rules;
	bool json;
	struct seq_step steps[MAX_STEPS];
	size_t nsteps;
	size_t nmaps;
};

static bool listed(const char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

static const char *ename(int err)
{
	const char *n = p2pdma_errno_name(err);

	return n ? n : "E?";
}

struct prediction {
	int mmap_err;
	int err;
	enum p2pdma_map_type map;
	bool feature;
};

/* The same operation on the model: a queue, a mapping, an O_DIRECT read. */
static void predict(struct cli *cli, const struct p2pdma_dev *prov, const struct p2pdma_dev *client,
		    const struct p2pdma_live_blockdev *bd, uint64_t len, struct prediction *p)
{
	struct p2pdma_blk_result *res = NULL;
	struct p2pdma_blkq *q;
	uint64_t u;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->map = P2PDMA_MAP_UNKNOWN;
	/* nvme-pci sets BLK_FEAT_PCI_P2PDMA when its DMA ops support P2PDMA. */
	p->feature = !strcmp(bd->driver, "nvme");
	p->mmap_err = p2pdma_p2pmem_mmap(cli->k, prov, len, 0, P2PDMA_MMAP_SHARED, &u);
	if (p->mmap_err)
		return;
	if (p2pdma_blkq_create(cli->k, client, bd->name, p->feature ? P2PDMA_BLK_FEAT_PCI_P2PDMA : 0, &q) ||
	    p2pdma_blk_result_create(&res)) {
		p->err = -ENOMEM;
	} else {
		p->err = p2pdma_blkq_direct_io(q, false, u, len, res);
		for (i = 0; i < p2pdma_blk_result_num_bios(res); i++) {
			const struct p2pdma_provider *pp;

			p2pdma_blk_result_bio(res, i, &p->map, &pp, NULL);
			if (pp)
				break;
		}
		p2pdma_blkq_destroy(q);
	}
	p2pdma_blk_result_destroy(res);
	p2pdma_user_munmap(cli->k, u, len);
}

static const char *outcome_name(enum p2pdma_live_outcome o)
{
	switch (o) {
	case P2PDMA_LIVE_MOVED: return "moved";
	case P2PDMA_LIVE_FAILED: return "failed";
	case P2PDMA_LIVE_SHORT: return "short";
	case P2PDMA_LIVE_BAD_DATA: return "bad-data";
	default: return "not-run";
	}
}

/* Does what happened match what was predicted? */
static bool matches(const struct prediction *p, enum p2pdma_live_outcome o, int err)
{
	if (p->err)
		return o == P2PDMA_LIVE_FAILED && err == p->err;
	return o == P2PDMA_LIVE_MOVED;
}

static void describe(char *buf, size_t len, enum p2pdma_live_outcome o, int err, int64_t bytes)
{
	switch (o) {
	case P2PDMA_LIVE_MOVED: snprintf(buf, len, "moved, data ok"); break;
	case P2PDMA_LIVE_FAILED: snprintf(buf, len, "%s", ename(err)); break;
	case P2PDMA_LIVE_SHORT: snprintf(buf, len, "short: %" PRId64 " bytes", bytes); break;
	case P2PDMA_LIVE_BAD_DATA: snprintf(buf, len, "moved, but the data did not arrive"); break;
	default: snprintf(buf, len, "not run"); break;
	}
}

static int parse_size(const char *arg, uint64_t *v)
{
	char *end;
	unsigned long long n;
	int shift = 0;

	errno = 0;
	n = strtoull(arg, &end, 0);
	if (errno || end == arg)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	if (shift)
		end++;
	if (*end)
		return -1;
	*v = (uint64_t)n << shift;
	return 0;
}

/* --sequence: "map SIZE" and "unmap N [OFFSET LEN]", comma-separated. */
static int parse_sequence(const char *spec, struct vopts *o)
{
	char buf[1024], *save = NULL, *step;

	if (strlen(spec) >= sizeof(buf))
		return cli_error("--sequence: too long");
	snprintf(buf, sizeof(buf), "%s", spec);
	o->nsteps = o->nmaps = 0;
	for (step = strtok_r(buf, ",", &save); step; step = strtok_r(NULL, ",", &save)) {
		char *w[5], *s2 = NULL, *tok;
		struct seq_step *s;
		size_t nw = 0;
		uint64_t n;

		for (tok = strtok_r(step, " \t", &s2); tok; tok = strtok_r(NULL, " \t", &s2))
			if (nw < 5)
				w[nw++] = tok;
			else
				return cli_error("--sequence: too many words in a step");
		if (!nw)
			continue;
		if (o->nsteps == MAX_STEPS)
			return cli_error("--sequence: at most %d steps", MAX_STEPS);
		s = &o->steps[o->nsteps];
		memset(s, 0, sizeof(*s));
		if (!strcmp(w[0], "map") && nw == 2) {
			if (parse_size(w[1], &s->size) || !s->size || s->size > (1ULL << 36))
				return cli_error("--sequence: 'map %s': want a size", w[1]);
			snprintf(s->text, sizeof(s->text), "map %s", w[1]);
			o->nmaps++;
		} else if (!strcmp(w[0], "unmap") && (nw == 2 || nw == 4)) {
			s->unmap = true;
			if (parse_size(w[1], &n) || n >= o->nmaps)
				return cli_error("--sequence: 'unmap %s': want the number of an earlier map step (from 0)", w[1]);
			s->map = (unsigned int)n;
			if (nw == 4 && (parse_size(w[2], &s->offset) || parse_size(w[3], &s->size) ||
					!s->size || s->offset % 4096 || s->size % 4096))
				return cli_error("--sequence: 'unmap %s %s %s': want page-aligned OFFSET and LEN",
						 w[1], w[2], w[3]);
			if (nw == 4)
				snprintf(s->text, sizeof(s->text), "unmap %s %s %s", w[1], w[2], w[3]);
			else
				snprintf(s->text, sizeof(s->text), "unmap %s", w[1]);
		} else {
			return cli_error("--sequence: '%s': want 'map SIZE' or 'unmap N [OFFSET LEN]'", w[0]);
		}
		o->nsteps++;
	}
	if (!o->nsteps)
		return cli_error("--sequence: no steps");
	return 0;
}

/* The real figure and the model's after one step. */
struct seq_result {
	int err, perr;		/* -errno, 1 = not run (its mapping failed) */
	uint64_t avail, pavail;
	int avail_err;
};

static const char *step_errno(int err)
{
	return err == 1 ? "not-run" : err ? ename(err) : "";
}

static void seq_report(struct cli *cli, const struct vopts *o, json_t *jsteps, const char *what,
		       const struct seq_result *r, unsigned int *tested, unsigned int *differ)
{
	bool agree = r->err == r->perr && !r->avail_err && r->avail == r->pavail;

	(*tested)++;
	*differ += !agree;
	if (o->json) {
		json_array_append_new(jsteps, json_pack("{s:s, s:s, s:I, s:s, s:I, s:b}", "step", what,
			"errno", step_errno(r->err), "available", r->avail_err ? (json_int_t)-1 : (json_int_t)r->avail,
			"predicted_errno", step_errno(r->perr), "predicted_available", (json_int_t)r->pavail,
			"agree", agree));
		return;
	}
	fprintf(cli->out, "  %-24s %s, available %" PRIu64 "  (predicted %s, %" PRIu64 ")  [%s]\n", what,
		r->err == 1 ? "not run" : r->err ? ename(r->err) : "ok", r->avail,
		r->perr == 1 ? "not run" : r->perr ? ename(r->perr) : "ok", r->pavail, agree ? "agree" : "DIFFER");
}

/* --sequence on each provider: the real allocate file and the model side by side. */
static void run_sequence(struct cli *cli, const struct vopts *o, const char *sysfs, json_t *jseq,
			 unsigned int *tested, unsigned int *differ)
{
	char prov[64], prev[64], path[512];
	const char *after = NULL;

	while (p2pdma_live_provider_next(sysfs, after, prov, sizeof(prov)) == 0) {
		const struct p2pdma_dev *pd = p2pdma_topo_find(cli->topo, prov);
		void *real[MAX_STEPS];
		uint64_t model[MAX_STEPS], msize[MAX_STEPS];
		int rerr[MAX_STEPS], perr[MAX_STEPS];
		struct p2pdma_live_p2pmem pm;
		struct seq_result r;
		json_t *jsteps = NULL;
		size_t i, m = 0;
		int fd;

		snprintf(prev, sizeof(prev), "%s", prov);
		after = prev;
		if ((o->nproviders && !listed(o->providers, o->nproviders, prov)) || !pd)
			continue;
		if (o->json)
			jsteps = json_array();
		else
			fprintf(cli->out, "%s sequence:\n", prov);
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/p2pmem/allocate", sysfs, prov);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		memset(&r, 0, sizeof(r));
		r.avail_err = p2pdma_live_p2pmem_read(sysfs, prov, &pm, sizeof(pm));
		r.avail = pm.available;
		p2pdma_kernel_p2pmem_size(cli->k, pd, &r.pavail);
		seq_report(cli, o, jsteps, "start", &r, tested, differ);
		for (i = 0; i < o->nsteps; i++) {
			const struct seq_step *s = &o->steps[i];

			if (!s->unmap) {
				msize[m] = s->size;
				real[m] = MAP_FAILED;
				if (fd < 0) {
					rerr[m] = fd;
				} else {
					real[m] = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
					rerr[m] = real[m] == MAP_FAILED ? -errno : 0;
				}
				perr[m] = p2pdma_p2pmem_mmap(cli->k, pd, s->size, 0, P2PDMA_MMAP_SHARED, &model[m]);
				r.err = rerr[m];
				r.perr = perr[m];
				m++;
			} else {
				uint64_t len = s->size ? s->size : msize[s->map];

				r.err = rerr[s->map] ? 1 :
					munmap((char *)real[s->map] + s->offset, len) ? -errno : 0;
				r.perr = perr[s->map] ? 1 :
					p2pdma_user_munmap(cli->k, model[s->map] + s->offset, len);
			}
			r.avail_err = p2pdma_live_p2pmem_read(sysfs, prov, &pm, sizeof(pm));
			r.avail = pm.available;
			p2pdma_kernel_p2pmem_size(cli->k, pd, &r.pavail);
			seq_report(cli, o, jsteps, s->text, &r, tested, differ);
		}
		/* whatever is still mapped goes back */
		for (i = 0; i < m; i++) {
			if (!rerr[i])
				munmap(real[i], msize[i]);
			if (!perr[i])
				p2pdma_user_munmap(cli->k, model[i], msize[i]);
		}
		if (fd >= 0)
			close(fd);
		r.err = r.perr = 0;
		r.avail_err = p2pdma_live_p2pmem_read(sysfs, prov, &pm, sizeof(pm));
		r.avail = pm.available;
		p2pdma_kernel_p2pmem_size(cli->k, pd, &r.pavail);
		seq_report(cli, o, jsteps, "end: unmap all", &r, tested, differ);
		if (o->json)
			json_array_append_new(jseq, json_pack("{s:s, s:o}", "provider", prov, "steps", jsteps));
	}
}

static int run_pairs(struct cli *cli, const struct vopts *o, const char *sysfs, json_t *jpairs,
		     unsigned int *tested, unsigned int *differ)
{
	char prov[64], prev[64];
	const char *after = NULL;

	while (p2pdma_live_provider_next(sysfs, after, prov, sizeof(prov)) == 0) {
		struct p2pdma_live_blockdev bd;
		struct p2pdma_live_p2pmem pm;
		const char *bafter = NULL;
		char bprev[32];

		snprintf(prev, sizeof(prev), "%s", prov);
		after = prev;
		if (o->nproviders && !listed(o->providers, o->nproviders, prov))
			continue;
		p2pdma_live_p2pmem_read(sysfs, prov, &pm, sizeof(pm));
		if (!pm.allocate) {
			if (!o->json)
				fprintf(cli->out, "%s: no p2pmem/allocate (Linux before 6.2, or being removed): skipped\n", prov);
			continue;
		}
		while (p2pdma_live_blockdev_next(sysfs, bafter, &bd, sizeof(bd)) == 0) {
			const struct p2pdma_dev *pd = p2pdma_topo_find(cli->topo, prov);
			const struct p2pdma_dev *cd = p2pdma_topo_find(cli->topo, bd.bdf);
			struct p2pdma_live_xfer x = { sizeof(x), sysfs, o->dev_dir, prov, bd.name,
						      o->offset, o->size, false };
			struct p2pdma_live_result r;
			struct prediction p;
			char pred[96], rd[96], wr[96];
			bool agree;

			snprintf(bprev, sizeof(bprev), "%s", bd.name);
			bafter = bprev;
			if ((o->ndevices || o->nscratch) && !listed(o->devices, o->ndevices, bd.name) &&
			    !listed(o->scratch, o->nscratch, bd.name))
				continue;
			if (!pd || !cd) {
				fprintf(stderr, "p2pdma: %s or %s is not in the loaded topology: skipped\n",
					prov, bd.bdf);
				continue;
			}
			x.write = listed(o->scratch, o->nscratch, bd.name);
			predict(cli, pd, cd, &bd, o->size, &p);
			p2pdma_live_transfer(&x, &r, sizeof(r));
			if (p.mmap_err)
				snprintf(pred, sizeof(pred), "mmap %s", ename(p.mmap_err));
			else if (p.err)
				snprintf(pred, sizeof(pred), "%s%s, %s", p2pdma_map_type_name(p.map),
					 p.feature ? "" : " (queue without BLK_FEAT_PCI_P2PDMA)", ename(p.err));
			else
				snprintf(pred, sizeof(pred), "%s, moves", p2pdma_map_type_name(p.map));
			if (r.ref_err) {
				if (!o->json)
					fprintf(cli->out, "%s -> %s (%s, %s): predicted %s; cannot read %s/%s: %s: not tested\n",
						prov, bd.name, bd.bdf, bd.driver[0] ? bd.driver : "no driver",
						pred, o->dev_dir, bd.name, ename(r.ref_err));
				continue;
			}
			(*tested)++;
			if (r.mmap_err)
				snprintf(rd, sizeof(rd), "mmap %s", ename(r.mmap_err));
			else
				describe(rd, sizeof(rd), r.read, r.read_err, r.read_bytes);
			agree = p.mmap_err ? r.mmap_err == p.mmap_err :
				!r.mmap_err && matches(&p, r.read, r.read_err);
			wr[0] = '\0';
			if (x.write && !r.mmap_err) {
				describe(wr, sizeof(wr), r.write, r.write_err, r.write_bytes);
				agree = agree && matches(&p, r.write, r.write_err) && !r.restore_err;
			}
			*differ += !agree;
			if (o->json) {
				json_array_append_new(jpairs, json_pack(
					"{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:b}, s:{s:s, s:s, s:I}, s:o, s:b}",
					"provider", prov, "device", bd.name, "client", bd.bdf, "driver", bd.driver,
					"predicted", "map", p2pdma_map_type_name(p.map),
					"errno", p.mmap_err ? ename(p.mmap_err) : p.err ? ename(p.err) : "",
					"queue_p2pdma", p.feature,
					"read", "outcome", r.mmap_err ? "mmap-failed" : outcome_name(r.read),
					"errno", r.mmap_err ? ename(r.mmap_err) : r.read_err ? ename(r.read_err) : "",
					"bytes", (json_int_t)r.read_bytes,
					"write", x.write ? json_pack("{s:s, s:s, s:I, s:b}", "outcome",
						outcome_name(r.write), "errno", r.write_err ? ename(r.write_err) : "",
						"bytes", (json_int_t)r.write_bytes, "restored", !r.restore_err) : json_null(),
					"agree", agree));
			} else {
				fprintf(cli->out, "%s -> %s (%s, %s): predicted %s; read %" PRIu64 ": %s%s%s%s  [%s]\n",
					prov, bd.name, bd.bdf, bd.driver[0] ? bd.driver : "no driver", pred,
					o->size, rd, wr[0] ? "; write: " : "", wr,
					r.restore_err ? " (RESTORE FAILED)" : "", agree ? "agree" : "DIFFER");
			}
		}
	}
	return 0;
}

static void mmap_rules(struct cli *cli, const struct vopts *o, const char *sysfs, json_t *jrules,
		       unsigned int *tested, unsigned int *differ)
{
	char prov[64], prev[64];
	const char *after = NULL;

	while (p2pdma_live_provider_next(sysfs, after, prov, sizeof(prov)) == 0) {
		const struct p2pdma_dev *pd = p2pdma_topo_find(cli->topo, prov);
		struct p2pdma_live_mmap_rules r;
		int want_private, want_offset, want_shared;
		uint64_t u;
		bool agree;

		snprintf(prev, sizeof(prev), "%s", prov);
		after = prev;
		if ((o->nproviders && !listed(o->providers, o->nproviders, prov)) || !pd)
			continue;
		/* The model's answers for the same three mmap() calls. */
		want_private = p2pdma_p2pmem_mmap(cli->k, pd, 4096, 0, 0, &u);
		want_offset = p2pdma_p2pmem_mmap(cli->k, pd, 4096, 4096, P2PDMA_MMAP_SHARED, &u);
		want_shared = p2pdma_p2pmem_mmap(cli->k, pd, 4096, 0, P2PDMA_MMAP_SHARED, &u);
		if (!want_shared)
			p2pdma_user_munmap(cli->k, u, 4096);
		p2pdma_live_mmap_rules(sysfs, prov, &r, sizeof(r));
		/* Without the file (before 6.2) every call fails as the open did. */
		agree = r.open_err ? r.open_err == want_private && r.open_err == want_offset &&
				     r.open_err == want_shared :
			r.private_err == want_private && r.offset_err == want_offset &&
			r.shared_err == want_shared;
		(*tested)++;
		*differ += !agree;
		if (o->json)
			json_array_append_new(jrules, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
				"provider", prov,
				"private", r.open_err ? ename(r.open_err) : ename(r.private_err),
				"offset", r.open_err ? ename(r.open_err) : ename(r.offset_err),
				"shared", r.open_err ? ename(r.open_err) : ename(r.shared_err),
				"predicted_private", ename(want_private), "predicted_offset", ename(want_offset),
				"predicted_shared", ename(want_shared), "agree", agree));
		else if (r.open_err)
			fprintf(cli->out, "%s mmap rules: cannot open p2pmem/allocate: %s (predicted %s, %s, %s)  [%s]\n",
				prov, ename(r.open_err), ename(want_private), ename(want_offset),
				ename(want_shared), agree ? "agree" : "DIFFER");
		else
			fprintf(cli->out, "%s mmap rules: private %s (predicted %s), offset 4096 %s (predicted %s), shared %s (predicted %s)  [%s]\n",
				prov, ename(r.private_err), ename(want_private), ename(r.offset_err),
				ename(want_offset), ename(r.shared_err), ename(want_shared),
				agree ? "agree" : "DIFFER");
	}
}

int cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev-dir", required_argument, NULL, 'd' },
		{ "provider", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'D' },
		{ "scratch", required_argument, NULL, 'S' },
		{ "size", required_argument, NULL, 's' },
		{ "offset", required_argument, NULL, 'o' },
		{ "mmap-rules", no_argument, NULL, 'm' },
		{ "sequence", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vopts o = { .dev_dir = "/dev", .size = 65536, .json = cli->json };
	json_t *jpairs = NULL, *jrules = NULL, *jseq = NULL;
	unsigned int tested = 0, differ = 0;
	const char *sysfs;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': o.dev_dir = optarg; break;
		case 'p':
			if (o.nproviders == MAX_LIST)
				return cli_error("too many --provider");
			o.providers[o.nproviders++] = optarg;
			break;
		case 'D':
			if (o.ndevices == MAX_LIST)
				return cli_error("too many --device");
			o.devices[o.ndevices++] = optarg;
			break;
		case 'S':
			if (o.nscratch == MAX_LIST)
				return cli_error("too many --scratch");
			o.scratch[o.nscratch++] = optarg;
			break;
		case 's':
		case 'o':
			if (parse_size(optarg, opt == 's' ? &o.size : &o.offset) ||
			    (opt == 's' && (!o.size || o.size > (64 << 20))) ||
			    ((opt == 's' ? o.size : o.offset) % 4096))
				return cli_error("--%s wants a multiple of 4096%s, got '%s'",
						 opt == 's' ? "size" : "offset",
						 opt == 's' ? " up to 64M" : "", optarg);
			break;
		case 'm': o.mmap_rules = true; break;
		case 'q':
			if (parse_sequence(optarg, &o))
				return 2;
			break;
		case 'j': o.json = true; break;
		case 'h': fputs(verify_help, stdout); return 0;
		default: fputs(verify_help, stderr); return 2;
		}
	}
	if (optind < argc)
		return cli_error("verify takes no operands ('%s'); see --help", argv[optind]);
	sysfs = cli_sysfs_root(cli);
	if (!sysfs)
		return cli_error("verify needs this machine or a captured sysfs tree (--sysfs DIR); %s has no p2pmem files",
				 p2pdma_topo_name(cli->topo));
	if (o.json) {
		jpairs = json_array();
		jrules = json_array();
		jseq = json_array();
	}
	if (o.nsteps)
		run_sequence(cli, &o, sysfs, jseq, &tested, &differ);
	else
		run_pairs(cli, &o, sysfs, jpairs, &tested, &differ);
	if (o.mmap_rules)
		mmap_rules(cli, &o, sysfs, jrules, &tested, &differ);
	if (o.json) {
		if (cli_print_json(cli, json_pack("{s:s, s:s, s:o, s:o, s:o, s:i, s:i}", "sysfs", sysfs,
						  "dev_dir", o.dev_dir, "pairs", jpairs,
						  "mmap_rules", jrules, "sequences", jseq,
						  "tested", tested, "differ", differ)))
			return 2;
	} else {
		fprintf(cli->out, "%u checked, %u differ from the prediction\n", tested, differ);
	}
	if (!tested)
		return cli_error("nothing was tested: no provider with p2pmem/allocate and readable block device");
	return differ ? 1 : 0;
}
