// SPDX-License-Identifier: LGPL-2.1-or-later
/* scenario.c - `p2pdma run`: the script parser, the runner, handles, results and expectations */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "context-private.h"
#include "scenario-private.h"

/*
 * The layers whose verbs a script may use. A new layer adds its
 * p2pdma_scn_layer here (and its declaration in scenario-private.h).
 */
static const struct p2pdma_scn_layer *const layers[] = {
	&p2pdma_scn_layer_machine,
	&p2pdma_scn_layer_p2pmem,
	&p2pdma_scn_layer_dmabuf,
	&p2pdma_scn_layer_vfio,
};
#define NLAYERS (sizeof(layers) / sizeof(layers[0]))

#define MAX_INCLUDE_DEPTH 16
#define MAX_LINE 4096
#define MAX_FILE (1 << 20)
#define MAX_STEPS 100000
#define MAX_TOKENS 64

/* --- the parsed script --- */

struct scn_expect {
	unsigned int line;
	char *text;
	char **argv;
	int argc;
	const struct p2pdma_scn_expect_kind *kind;	/* a layer's keyword, or NULL */
};

struct scn_line {
	const char *file;
	unsigned int line;
	char *text;
	char **argv;			/* argv[0] = verb */
	int argc;
	char *as;
	const struct p2pdma_scn_verb *verb;
	struct scn_expect *exp;
	int nexp;
};

struct p2pdma_scenario {
	struct p2pdma_ctx *ctx;
	char **files;
	size_t nfiles;
	struct scn_line *steps;
	size_t nsteps, cap;
	char *base_dir;			/* NULL: sandbox */
	/* include stack: real paths */
	char *stack[MAX_INCLUDE_DEPTH + 1];
	int depth;
};

/* --- the run --- */

struct scn_kv {
	char *key, *val;
};

struct scn_tline {
	enum p2pdma_scenario_line_kind kind;
	char *text;
};

struct scn_eres {
	bool held;
	char why[256];
};

struct p2pdma_scenario_step {
	const struct scn_line *l;
	int err;
	struct scn_kv *kv;
	size_t nkv, capkv;
	struct scn_tline *tl;
	size_t ntl, captl;
	struct scn_eres *eres;
	bool oom;
};

struct scn_handle {
	char *name;			/* NULL: anonymous */
	const char *type;
	void *obj;
	void (*destroy)(void *obj);
};

struct p2pdma_scn {
	struct p2pdma_scenario *sc;
	struct p2pdma_ctx *ctx;
	struct p2pdma_kernel *k;
	void *state[NLAYERS];
	struct scn_handle *h;
	size_t nh, caph;
};

/* --- errno names --- */

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EIO", EIO }, { "ENXIO", ENXIO },
	{ "E2BIG", E2BIG }, { "EBADF", EBADF }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM },
	{ "EACCES", EACCES }, { "EFAULT", EFAULT }, { "EBUSY", EBUSY }, { "EEXIST", EEXIST },
	{ "ENODEV", ENODEV }, { "EINVAL", EINVAL }, { "ENOSPC", ENOSPC }, { "ENOTTY", ENOTTY },
	{ "ERANGE", ERANGE }, { "EDEADLK", EDEADLK }, { "ENOSYS", ENOSYS }, { "ENODATA", ENODATA },
	{ "EPROTO", EPROTO }, { "EOVERFLOW", EOVERFLOW }, { "EBADMSG", EBADMSG },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "ENOTCONN", ENOTCONN }, { "ESHUTDOWN", ESHUTDOWN },
	{ "ETIMEDOUT", ETIMEDOUT }, { "EALREADY", EALREADY }, { "EINPROGRESS", EINPROGRESS },
	{ "ESTALE", ESTALE }, { "EREMOTEIO", EREMOTEIO }, { "ECANCELED", ECANCELED },
	{ "ENOMEDIUM", ENOMEDIUM }, { "ENOKEY", ENOKEY }, { "EHWPOISON", EHWPOISON },
	{ "EINTR", EINTR }, { "ESRCH", ESRCH }, { "ECHILD", ECHILD }, { "EMFILE", EMFILE },
	{ "EROFS", EROFS }, { "EPIPE", EPIPE }, { "EDOM", EDOM }, { "ENOLINK", ENOLINK },
};

P2PDMA_EXPORT const char *p2pdma_errno_name(int err)
{
	size_t i;

	if (!err)
		return "0";
	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].value == err)
			return errnos[i].name;
	return NULL;
}

int p2pdma_errno_value(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, name))
			return -errnos[i].value;
	return 0;
}

/* --- parsing --- */

static char *sdup(const char *s)
{
	return p2pdma_strdup(s);
}

static void free_argv(char **argv, int argc)
{
	int i;

	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

/* Split @line into tokens ("..." with \" and \\, # starts a comment). */
static int tokenize(const char *line, char ***out, int *outc, const char **err)
{
	char **argv = calloc(MAX_TOKENS, sizeof(*argv));
	char buf[MAX_LINE];
	const char *p = line;
	int argc = 0;

	*err = NULL;
	if (!argv)
		return -ENOMEM;
	for (;;) {
		size_t n = 0;
		bool quoted = false;

		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		if (argc == MAX_TOKENS) {
			*err = "too many words on one line";
			goto fail;
		}
		while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\r' && *p != '#'))) {
			if (*p == '"') {
				quoted = !quoted;
				p++;
				continue;
			}
			if (quoted && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			if (n + 1 >= sizeof(buf)) {
				*err = "line too long";
				goto fail;
			}
			buf[n++] = *p++;
		}
		if (quoted) {
			*err = "unterminated \"";
			goto fail;
		}
		buf[n] = '\0';
		argv[argc] = sdup(buf);
		if (!argv[argc])
			goto fail;
		argc++;
	}
	*out = argv;
	*outc = argc;
	return 0;
fail:
	free_argv(argv, argc);
	return *err ? -EINVAL : -ENOMEM;
}

static const struct p2pdma_scn_verb *find_verb(const char *name)
{
	size_t l, i;

	for (l = 0; l < NLAYERS; l++)
		for (i = 0; i < layers[l]->nverbs; i++)
			if (!strcmp(layers[l]->verbs[i].name, name))
				return &layers[l]->verbs[i];
	return NULL;
}

static const struct p2pdma_scn_expect_kind *find_expect(const char *name)
{
	size_t l, i;

	for (l = 0; l < NLAYERS; l++)
		for (i = 0; i < layers[l]->nexpects; i++)
			if (!strcmp(layers[l]->expects[i].name, name))
				return &layers[l]->expects[i];
	return NULL;
}

static bool valid_name(const char *s)
{
	if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (s++; *s; s++)
		if (!(*s == '_' || *s == '-' || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

struct parse_pos {
	const char *file;
	unsigned int line;
};

static int bad(struct p2pdma_scenario *sc, const struct parse_pos *pos, const char *fmt, ...)
	P2PDMA_PRINTF(3, 4);

static int bad(struct p2pdma_scenario *sc, const struct parse_pos *pos, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return p2pdma_err(sc->ctx, -EINVAL, "%s:%u: %s", pos->file, pos->line, msg);
}

/* Core expect keywords and their arities; -1 if @w is none. */
static int core_expect(const char *w, int argc, bool *ok)
{
	static const struct { const char *name; int min, max; } core[] = {
		{ "ok", 0, 0 }, { "errno", 1, 1 }, { "dmesg", 1, 1 },
		{ "no-dmesg", 0, 0 }, { "note", 1, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
		if (strcmp(core[i].name, w))
			continue;
		*ok = argc >= core[i].min && argc <= core[i].max;
		return 0;
	}
	if (p2pdma_errno_value(w)) {
		*ok = argc == 0;
		return 0;
	}
	return -1;
}

static const char *intern(struct p2pdma_scenario *sc, const char *name)
{
	char **nf;
	size_t i;

	for (i = 0; i < sc->nfiles; i++)
		if (!strcmp(sc->files[i], name))
			return sc->files[i];
	nf = realloc(sc->files, (sc->nfiles + 1) * sizeof(*nf));
	if (!nf)
		return NULL;
	sc->files = nf;
	nf[sc->nfiles] = sdup(name);
	return nf[sc->nfiles] ? nf[sc->nfiles++] : NULL;
}

static int parse_text(struct p2pdma_scenario *sc, const char *text, const char *file,
		      const char *dir);

/* Read a regular file of at most MAX_FILE bytes. */
static int read_file(struct p2pdma_ctx *ctx, const char *path, char **out)
{
	struct stat st;
	FILE *f = fopen(path, "r");
	size_t n;
	char *buf;

	*out = NULL;
	if (!f)
		return p2pdma_err(ctx, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
		fclose(f);
		return p2pdma_err(ctx, -EINVAL, "%s: not a regular file of at most 1 MiB", path);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	buf[n] = '\0';
	if (strlen(buf) != n) {
		free(buf);
		return p2pdma_err(ctx, -EINVAL, "%s: not a text file (NUL byte)", path);
	}
	*out = buf;
	return 0;
}

static int do_include(struct p2pdma_scenario *sc, const struct parse_pos *pos,
		      const char *dir, const char *arg)
{
	char path[PATH_MAX], real[PATH_MAX], subdir[PATH_MAX];
	char *text, *slash;
	int i, ret;

	if (!dir)
		return bad(sc, pos, "include: this script may not read files");
	if (arg[0] == '/')
		snprintf(path, sizeof(path), "%s", arg);
	else if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, arg) >= sizeof(path))
		return bad(sc, pos, "include %s: path too long", arg);
	if (!realpath(path, real))
		return bad(sc, pos, "include %s: %s", arg, strerror(errno));
	for (i = 0; i < sc->depth; i++)
		if (!strcmp(sc->stack[i], real))
			return bad(sc, pos, "include %s: a cycle (it is being read already)", arg);
	if (sc->depth >= MAX_INCLUDE_DEPTH)
		return bad(sc, pos, "include %s: nested more than %d deep", arg, MAX_INCLUDE_DEPTH);
	ret = read_file(sc->ctx, real, &text);
	if (ret)
		return bad(sc, pos, "include %s: %s", arg, p2pdma_ctx_error(sc->ctx));
	snprintf(subdir, sizeof(subdir), "%s", real);
	slash = strrchr(subdir, '/');
	if (slash)
		*slash = '\0';
	/* Messages name it as the including file's name + the relative path. */
	if (arg[0] != '/') {
		const char *s2 = strrchr(pos->file, '/');

		snprintf(path, sizeof(path), "%.*s%s", s2 ? (int)(s2 - pos->file + 1) : 0,
			 pos->file, arg);
	}
	sc->stack[sc->depth] = sdup(real);
	if (!sc->stack[sc->depth]) {
		free(text);
		return -ENOMEM;
	}
	sc->depth++;
	ret = parse_text(sc, text, path, subdir);
	sc->depth--;
	free(sc->stack[sc->depth]);
	sc->stack[sc->depth] = NULL;
	free(text);
	return ret;
}

static int add_expect(struct p2pdma_scenario *sc, const struct parse_pos *pos,
		      char **argv, int argc, const char *text)
{
	struct scn_line *last;
	struct scn_expect *e, *ne;
	const struct p2pdma_scn_expect_kind *kind = NULL;
	bool ok = false;
	int i;

	if (!sc->nsteps)
		return bad(sc, pos, "expect: no step before it to check");
	if (argc < 2)
		return bad(sc, pos, "expect what? (ok, an errno name, dmesg TEXT, NAME VALUE...)");
	if (core_expect(argv[1], argc - 2, &ok) < 0) {
		kind = find_expect(argv[1]);
		if (kind)
			ok = argc - 2 >= kind->min_args &&
			     (kind->max_args < 0 || argc - 2 <= kind->max_args);
		else
			ok = argc == 3;	/* a named result: expect NAME VALUE */
	}
	if (!ok)
		return bad(sc, pos, "expect %s: wrong number of arguments", argv[1]);
	last = &sc->steps[sc->nsteps - 1];
	ne = realloc(last->exp, (size_t)(last->nexp + 1) * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	last->exp = ne;
	e = &ne[last->nexp];
	memset(e, 0, sizeof(*e));
	e->line = pos->line;
	e->kind = kind;
	e->text = sdup(text);
	e->argv = calloc((size_t)argc, sizeof(*e->argv));
	if (!e->text || !e->argv) {
		free(e->text);
		free(e->argv);
		return -ENOMEM;
	}
	for (i = 1; i < argc; i++) {
		e->argv[i - 1] = argv[i];
		argv[i] = NULL;
	}
	e->argc = argc - 1;
	last->nexp++;
	return 0;
}

/* One non-empty line: include, expect, or a step. Takes @argv. */
static int parse_line(struct p2pdma_scenario *sc, const struct parse_pos *pos,
		      const char *dir, char **argv, int argc, const char *text)
{
	const struct p2pdma_scn_verb *v;
	struct scn_line *l;
	int nargs = argc - 1, ret;
	char *as = NULL;

	if (!strcmp(argv[0], "include")) {
		ret = argc == 2 ? do_include(sc, pos, dir, argv[1]) :
		      bad(sc, pos, "include FILE");
		free_argv(argv, argc);
		return ret;
	}
	if (!strcmp(argv[0], "expect")) {
		ret = add_expect(sc, pos, argv, argc, text);
		free_argv(argv, argc);
		return ret;
	}
	v = find_verb(argv[0]);
	if (!v) {
		ret = bad(sc, pos, "unknown verb '%s' (doc/scenarios.md lists them)", argv[0]);
		free_argv(argv, argc);
		return ret;
	}
	if (argc >= 3 && !strcmp(argv[argc - 2], "as")) {
		if (!(v->flags & P2PDMA_SCN_AS) || !valid_name(argv[argc - 1])) {
			ret = bad(sc, pos, (v->flags & P2PDMA_SCN_AS) ?
				  "as %s: a name is a letter or _ then letters, digits, _ or -" :
				  "%s makes nothing to name ('as %s')", (v->flags & P2PDMA_SCN_AS) ?
				  argv[argc - 1] : argv[0], argv[argc - 1]);
			free_argv(argv, argc);
			return ret;
		}
		as = argv[argc - 1];
		free(argv[argc - 2]);
		argv[argc - 2] = argv[argc - 1] = NULL;
		nargs -= 2;
	}
	if (nargs < v->min_args || (v->max_args >= 0 && nargs > v->max_args)) {
		ret = bad(sc, pos, "%s: wrong number of arguments (usage: %s)", argv[0], v->usage);
		free(as);
		free_argv(argv, argc);
		return ret;
	}
	if ((v->flags & P2PDMA_SCN_FILES) && !sc->base_dir) {
		ret = bad(sc, pos, "%s: this script may not read files", argv[0]);
		free(as);
		free_argv(argv, argc);
		return ret;
	}
	if (sc->nsteps == MAX_STEPS) {
		free(as);
		free_argv(argv, argc);
		return bad(sc, pos, "more than %d steps", MAX_STEPS);
	}
	if (sc->nsteps == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 64;
		struct scn_line *n = realloc(sc->steps, cap * sizeof(*n));

		if (!n) {
			free(as);
			free_argv(argv, argc);
			return -ENOMEM;
		}
		sc->steps = n;
		sc->cap = cap;
	}
	l = &sc->steps[sc->nsteps];
	memset(l, 0, sizeof(*l));
	l->file = intern(sc, pos->file);
	l->line = pos->line;
	l->text = sdup(text);
	l->argv = argv;
	l->argc = 1 + nargs;
	l->as = as;
	l->verb = v;
	sc->nsteps++;
	return l->file && l->text ? 0 : -ENOMEM;
}

static int parse_text(struct p2pdma_scenario *sc, const char *text, const char *file,
		      const char *dir)
{
	struct parse_pos pos = { file, 0 };
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char line[MAX_LINE], *trim;
		const char *err;
		char **argv;
		int argc, ret;

		pos.line++;
		if (n >= sizeof(line))
			return bad(sc, &pos, "line longer than %d bytes", MAX_LINE - 1);
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (eol ? 1 : 0);
		ret = tokenize(line, &argv, &argc, &err);
		if (ret)
			return ret == -ENOMEM ? p2pdma_err(sc->ctx, -ENOMEM, "out of memory") :
			       bad(sc, &pos, "%s", err);
		if (!argc) {
			free(argv);
			continue;
		}
		/* The text as written, for transcripts: without the comment. */
		for (trim = line; *trim == ' ' || *trim == '\t'; trim++)
			;
		{
			char *hash = NULL, *q;
			bool quoted = false;

			for (q = trim; *q; q++) {
				if (*q == '"')
					quoted = !quoted;
				else if (*q == '#' && !quoted) {
					hash = q;
					break;
				}
			}
			if (hash)
				*hash = '\0';
			for (q = trim + strlen(trim); q > trim && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'); q--)
				q[-1] = '\0';
		}
		ret = parse_line(sc, &pos, dir, argv, argc, trim);
		if (ret)
			return ret;
	}
	return 0;
}

static int scenario_new(struct p2pdma_ctx *ctx, const char *base_dir,
			struct p2pdma_scenario **out)
{
	struct p2pdma_scenario *sc = calloc(1, sizeof(*sc));

	*out = NULL;
	if (!sc)
		return p2pdma_err(ctx, -ENOMEM, "out of memory");
	sc->ctx = ctx;
	if (base_dir && !(sc->base_dir = sdup(base_dir))) {
		free(sc);
		return p2pdma_err(ctx, -ENOMEM, "out of memory");
	}
	*out = sc;
	return 0;
}

P2PDMA_EXPORT int p2pdma_scenario_load_string(struct p2pdma_ctx *ctx, const char *text,
					      const char *name, const char *base_dir,
					      struct p2pdma_scenario **out)
{
	struct p2pdma_scenario *sc;
	int ret = scenario_new(ctx, base_dir, &sc);

	*out = NULL;
	if (ret)
		return ret;
	ret = parse_text(sc, text, name ? name : "(script)", base_dir);
	if (ret) {
		p2pdma_scenario_destroy(sc);
		return ret;
	}
	*out = sc;
	return 0;
}

P2PDMA_EXPORT int p2pdma_scenario_load(struct p2pdma_ctx *ctx, const char *path,
				       struct p2pdma_scenario **out)
{
	char real[PATH_MAX], dir[PATH_MAX], *text, *slash;
	struct p2pdma_scenario *sc;
	int ret;

	*out = NULL;
	if (!realpath(path, real))
		return p2pdma_err(ctx, -errno, "%s: %s", path, strerror(errno));
	ret = read_file(ctx, real, &text);
	if (ret)
		return ret;
	snprintf(dir, sizeof(dir), "%s", real);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	ret = scenario_new(ctx, dir, &sc);
	if (ret) {
		free(text);
		return ret;
	}
	sc->stack[0] = sdup(real);
	sc->depth = 1;
	ret = sc->stack[0] ? parse_text(sc, text, path, dir) : -ENOMEM;
	free(text);
	if (ret) {
		p2pdma_scenario_destroy(sc);
		return ret == -ENOMEM ? p2pdma_err(ctx, ret, "out of memory") : ret;
	}
	*out = sc;
	return 0;
}

P2PDMA_EXPORT void p2pdma_scenario_destroy(struct p2pdma_scenario *sc)
{
	size_t i;
	int j;

	if (!sc)
		return;
	for (i = 0; i < sc->nsteps; i++) {
		struct scn_line *l = &sc->steps[i];

		for (j = 0; j < l->nexp; j++) {
			free_argv(l->exp[j].argv, l->exp[j].argc);
			free(l->exp[j].text);
		}
		free(l->exp);
		free_argv(l->argv, l->argc);
		free(l->as);
		free(l->text);
	}
	free(sc->steps);
	for (i = 0; i < sc->nfiles; i++)
		free(sc->files[i]);
	free(sc->files);
	for (j = 0; j < sc->depth; j++)
		free(sc->stack[j]);
	free(sc->base_dir);
	free(sc);
}

P2PDMA_EXPORT size_t p2pdma_scenario_num_steps(const struct p2pdma_scenario *sc)
{
	return sc->nsteps;
}

/* --- runtime helpers for verbs --- */

struct p2pdma_ctx *p2pdma_scn_ctx(const struct p2pdma_scn *s)
{
	return s->ctx;
}

struct p2pdma_kernel *p2pdma_scn_kernel(const struct p2pdma_scn *s)
{
	return s->k;
}

void *p2pdma_scn_layer_state(const struct p2pdma_scn *s, const struct p2pdma_scn_layer *l)
{
	size_t i;

	for (i = 0; i < NLAYERS; i++)
		if (layers[i] == l)
			return s->state[i];
	return NULL;
}

const char *p2pdma_scn_base_dir(const struct p2pdma_scn *s)
{
	return s->sc->base_dir;
}

int p2pdma_scn_argc(const struct p2pdma_scenario_step *st)
{
	return st->l->argc - 1;
}

const char *p2pdma_scn_arg(const struct p2pdma_scenario_step *st, int i)
{
	return i >= 0 && i < st->l->argc - 1 ? st->l->argv[i + 1] : NULL;
}

const char *p2pdma_scn_as(const struct p2pdma_scenario_step *st)
{
	return st->l->as;
}

int p2pdma_scn_malformed(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st,
			 const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p2pdma_err(s->ctx, P2PDMA_SCN_MALFORMED, "%s:%u: %s: %s", st->l->file, st->l->line,
		   st->l->argv[0], msg);
	return P2PDMA_SCN_MALFORMED;
}

int p2pdma_scn_parse_u64(const char *text, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!text || !*text || *text == '-' || *text == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || end == text)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: return -EINVAL;
		}
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
		if (*end || (v && v > (~0ULL >> shift)))
			return -EINVAL;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

int p2pdma_scn_arg_u64(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st, int i,
		       uint64_t *out)
{
	const char *a = p2pdma_scn_arg(st, i);

	if (!a)
		return p2pdma_scn_malformed(s, st, "argument %d is missing", i + 1);
	if (p2pdma_scn_parse_u64(a, out))
		return p2pdma_scn_malformed(s, st, "'%s' is not a number (decimal, 0x hex, K/M/G/T)", a);
	return 0;
}

int p2pdma_scn_arg_dev(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st, int i,
		       const struct p2pdma_dev **out)
{
	const char *a = p2pdma_scn_arg(st, i);

	*out = NULL;
	if (!a)
		return p2pdma_scn_malformed(s, st, "argument %d is missing", i + 1);
	if (!s->k)
		return p2pdma_scn_malformed(s, st, "no machine booted");
	if (a[0] == '$')	/* a function a step found (find-many ... as NAME) */
		return p2pdma_scn_arg_handle(s, st, i, "dev", (void **)out);
	*out = p2pdma_topo_find(p2pdma_kernel_topo(s->k), a);
	if (!*out)
		return p2pdma_scn_malformed(s, st, "%s: no such PCI function on this machine", a);
	return 0;
}

static struct scn_handle *handle_find(struct p2pdma_scn *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nh; i++)
		if (s->h[i].name && !strcmp(s->h[i].name, name))
			return &s->h[i];
	return NULL;
}

bool p2pdma_scn_arg_is_handle(const struct p2pdma_scenario_step *st, int i)
{
	const char *a = p2pdma_scn_arg(st, i);

	return a && a[0] == '$';
}

int p2pdma_scn_arg_handle(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st, int i,
			  const char *type, void **obj)
{
	const char *a = p2pdma_scn_arg(st, i);
	struct scn_handle *h;

	*obj = NULL;
	if (!a)
		return p2pdma_scn_malformed(s, st, "argument %d is missing", i + 1);
	if (a[0] != '$')
		return p2pdma_scn_malformed(s, st, "'%s': a handle is written $NAME", a);
	h = handle_find(s, a + 1);
	if (!h)
		return p2pdma_scn_malformed(s, st, "%s: no such handle (made with 'as %s'?)", a, a + 1);
	if (type && strcmp(h->type, type))
		return p2pdma_scn_malformed(s, st, "%s is a %s, not a %s", a, h->type, type);
	*obj = h->obj;
	return 0;
}

int p2pdma_scn_handle_add(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
			  const char *type, void *obj, void (*destroy)(void *obj))
{
	const char *name = st->l->as;
	struct scn_handle *h;

	if (name && handle_find(s, name)) {
		if (destroy)
			destroy(obj);
		return p2pdma_scn_malformed(s, st, "$%s is already defined", name);
	}
	if (s->nh == s->caph) {
		size_t cap = s->caph ? s->caph * 2 : 32;
		struct scn_handle *n = realloc(s->h, cap * sizeof(*n));

		if (!n) {
			if (destroy)
				destroy(obj);
			return p2pdma_err(s->ctx, -ENOMEM, "out of memory");
		}
		s->h = n;
		s->caph = cap;
	}
	h = &s->h[s->nh];
	h->name = name ? sdup(name) : NULL;
	if (name && !h->name) {
		if (destroy)
			destroy(obj);
		return p2pdma_err(s->ctx, -ENOMEM, "out of memory");
	}
	h->type = type;
	h->obj = obj;
	h->destroy = destroy;
	s->nh++;
	return 0;
}

void p2pdma_scn_handle_forget(struct p2pdma_scn *s, void *obj)
{
	size_t i;

	for (i = 0; i < s->nh; i++) {
		if (s->h[i].obj != obj)
			continue;
		free(s->h[i].name);
		memmove(&s->h[i], &s->h[i + 1], (s->nh - i - 1) * sizeof(s->h[0]));
		s->nh--;
		return;
	}
}

static void handles_drop(struct p2pdma_scn *s)
{
	while (s->nh) {
		struct scn_handle *h = &s->h[--s->nh];

		if (h->destroy)
			h->destroy(h->obj);
		free(h->name);
	}
}

void p2pdma_scn_kernel_replace(struct p2pdma_scn *s, struct p2pdma_kernel *k)
{
	size_t i;

	handles_drop(s);
	for (i = 0; i < NLAYERS; i++)
		if (layers[i]->reboot)
			layers[i]->reboot(s, s->state[i]);
	p2pdma_kernel_shutdown(s->k);
	s->k = k;
}

/* --- results --- */

void p2pdma_scn_errno(struct p2pdma_scenario_step *st, int err)
{
	st->err = err;
}

int p2pdma_scn_step_err(const struct p2pdma_scenario_step *st)
{
	return st->err;
}

static void add_tline(struct p2pdma_scenario_step *st, enum p2pdma_scenario_line_kind kind,
		      const char *text)
{
	if (st->ntl == st->captl) {
		size_t cap = st->captl ? st->captl * 2 : 8;
		struct scn_tline *n = realloc(st->tl, cap * sizeof(*n));

		if (!n) {
			st->oom = true;
			return;
		}
		st->tl = n;
		st->captl = cap;
	}
	st->tl[st->ntl].kind = kind;
	st->tl[st->ntl].text = sdup(text);
	if (!st->tl[st->ntl].text) {
		st->oom = true;
		return;
	}
	st->ntl++;
}

void p2pdma_scn_say(struct p2pdma_scenario_step *st, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	add_tline(st, P2PDMA_SCENARIO_SAY, text);
}

void p2pdma_scn_set(struct p2pdma_scenario_step *st, const char *key, const char *fmt, ...)
{
	char val[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	for (i = 0; i < st->nkv; i++) {
		if (strcmp(st->kv[i].key, key))
			continue;
		free(st->kv[i].val);
		st->kv[i].val = sdup(val);
		st->oom |= !st->kv[i].val;
		return;
	}
	if (st->nkv == st->capkv) {
		size_t cap = st->capkv ? st->capkv * 2 : 8;
		struct scn_kv *n = realloc(st->kv, cap * sizeof(*n));

		if (!n) {
			st->oom = true;
			return;
		}
		st->kv = n;
		st->capkv = cap;
	}
	st->kv[st->nkv].key = sdup(key);
	st->kv[st->nkv].val = sdup(val);
	if (!st->kv[st->nkv].key || !st->kv[st->nkv].val) {
		free(st->kv[st->nkv].key);
		free(st->kv[st->nkv].val);
		st->oom = true;
		return;
	}
	st->nkv++;
}

const char *p2pdma_scn_get(const struct p2pdma_scenario_step *st, const char *key)
{
	size_t i;

	for (i = 0; i < st->nkv; i++)
		if (!strcmp(st->kv[i].key, key))
			return st->kv[i].val;
	return NULL;
}

static void step_free(struct p2pdma_scenario_step *st)
{
	size_t i;

	for (i = 0; i < st->nkv; i++) {
		free(st->kv[i].key);
		free(st->kv[i].val);
	}
	free(st->kv);
	for (i = 0; i < st->ntl; i++)
		free(st->tl[i].text);
	free(st->tl);
	free(st->eres);
}

/* --- expectations --- */

static bool values_equal(const char *want, const char *got)
{
	uint64_t a, b;

	if (!p2pdma_scn_parse_u64(want, &a) && !p2pdma_scn_parse_u64(got, &b))
		return a == b;
	return !strcmp(want, got);
}

static void describe_err(int err, char *buf, size_t len)
{
	const char *name = p2pdma_errno_name(err);

	if (!err)
		snprintf(buf, len, "0 (ok)");
	else if (name)
		snprintf(buf, len, "%s (%d)", name, err);
	else
		snprintf(buf, len, "%d", err);
}

static bool line_contains(const struct p2pdma_scenario_step *st,
			  enum p2pdma_scenario_line_kind kind, const char *text)
{
	size_t i;

	for (i = 0; i < st->ntl; i++)
		if (st->tl[i].kind == kind && strstr(st->tl[i].text, text))
			return true;
	return false;
}

static bool check_expect(struct p2pdma_scn *s, const struct p2pdma_scenario_step *st,
			 const struct scn_expect *e, char *why, size_t len)
{
	const char *w = e->argv[0];
	char got[64];
	int want;
	size_t i;

	why[0] = '\0';
	describe_err(st->err, got, sizeof(got));
	if (e->kind)
		return e->kind->check(s, st, e->argv + 1, e->argc - 1, why, len);
	if (!strcmp(w, "ok")) {
		if (st->err)
			snprintf(why, len, "the step returned %s", got);
		return !st->err;
	}
	if (!strcmp(w, "errno") || p2pdma_errno_value(w)) {
		const char *v = strcmp(w, "errno") ? w : e->argv[1];
		uint64_t n;

		want = p2pdma_errno_value(v);
		if (!want && !p2pdma_scn_parse_u64(v, &n) && n < 4096)
			want = -(int)n;
		if (!want && strcmp(v, "0")) {
			snprintf(why, len, "'%s' is not an errno name", v);
			return false;
		}
		if (st->err != want)
			snprintf(why, len, "the step returned %s", got);
		return st->err == want;
	}
	if (!strcmp(w, "dmesg")) {
		if (line_contains(st, P2PDMA_SCENARIO_KERNEL, e->argv[1]))
			return true;
		snprintf(why, len, "no kernel line of this step contains it");
		return false;
	}
	if (!strcmp(w, "note")) {
		if (line_contains(st, P2PDMA_SCENARIO_NOTE, e->argv[1]))
			return true;
		snprintf(why, len, "no note of this step contains it");
		return false;
	}
	if (!strcmp(w, "no-dmesg")) {
		for (i = 0; i < st->ntl; i++) {
			if (st->tl[i].kind == P2PDMA_SCENARIO_KERNEL) {
				snprintf(why, len, "the kernel printed: %s", st->tl[i].text);
				return false;
			}
		}
		return true;
	}
	/* expect NAME VALUE */
	{
		const char *v = p2pdma_scn_get(st, w);

		if (!v) {
			snprintf(why, len, "the step has no '%s' result", w);
			return false;
		}
		if (values_equal(e->argv[1], v))
			return true;
		snprintf(why, len, "%s is %s", w, v);
		return false;
	}
}

/* --- the run --- */

static void collect_log(struct p2pdma_scn *s, struct p2pdma_scenario_step *st,
			struct p2pdma_kernel *k, size_t from)
{
	size_t i, n;

	if (!k)
		return;
	n = p2pdma_kernel_log_count(k);
	for (i = from; i < n; i++) {
		enum p2pdma_klog_kind kind;
		const char *text = p2pdma_kernel_log_entry(k, i, &kind, NULL);

		add_tline(st, kind == P2PDMA_KLOG_KERNEL ? P2PDMA_SCENARIO_KERNEL :
			  P2PDMA_SCENARIO_NOTE, text);
	}
	(void)s;
}

static void run_free(struct p2pdma_scn *s)
{
	size_t i;

	handles_drop(s);
	free(s->h);
	for (i = 0; i < NLAYERS; i++)
		if (layers[i]->fini)
			layers[i]->fini(s, s->state[i]);
	p2pdma_kernel_shutdown(s->k);
	free(s);
}

P2PDMA_EXPORT int p2pdma_scenario_run(struct p2pdma_scenario *sc, p2pdma_scenario_step_fn fn,
				      void *data, unsigned int *failed)
{
	struct p2pdma_scn *s = calloc(1, sizeof(*s));
	size_t i;
	int ret = 0;

	*failed = 0;
	if (!s)
		return p2pdma_err(sc->ctx, -ENOMEM, "out of memory");
	s->sc = sc;
	s->ctx = sc->ctx;
	for (i = 0; i < NLAYERS; i++) {
		if (layers[i]->init && (ret = layers[i]->init(s, &s->state[i]))) {
			while (i--)
				if (layers[i]->fini)
					layers[i]->fini(s, s->state[i]);
			free(s);
			return p2pdma_err(sc->ctx, ret, "out of memory");
		}
	}
	for (i = 0; i < sc->nsteps && !ret; i++) {
		const struct scn_line *l = &sc->steps[i];
		struct p2pdma_scenario_step st = { .l = l };
		struct p2pdma_kernel *k0 = s->k;
		size_t from = k0 ? p2pdma_kernel_log_count(k0) : 0;
		int j;

		if ((l->verb->flags & P2PDMA_SCN_KERNEL) && !s->k) {
			ret = p2pdma_err(sc->ctx, -EINVAL, "%s:%u: %s: no kernel yet (add 'boot' before it)",
					 l->file, l->line, l->argv[0]);
			break;
		}
		p2pdma_clear_err(sc->ctx);
		ret = l->verb->run(s, &st);
		if (ret) {
			step_free(&st);
			break;
		}
		if (st.err && *p2pdma_ctx_error(sc->ctx))
			add_tline(&st, P2PDMA_SCENARIO_SAY, p2pdma_ctx_error(sc->ctx));
		for (j = 0; j < (int)NLAYERS; j++)
			if (layers[j]->after)
				layers[j]->after(s, s->state[j], &st);
		/* The kernel's own lines: from the boot if the step booted one. */
		collect_log(s, &st, s->k, s->k == k0 ? from : 0);
		st.eres = calloc((size_t)l->nexp + 1, sizeof(*st.eres));
		if (!st.eres || st.oom) {
			step_free(&st);
			ret = p2pdma_err(sc->ctx, -ENOMEM, "out of memory");
			break;
		}
		for (j = 0; j < l->nexp; j++) {
			st.eres[j].held = check_expect(s, &st, &l->exp[j], st.eres[j].why,
						       sizeof(st.eres[j].why));
			*failed += !st.eres[j].held;
		}
		if (fn)
			fn(data, &st);
		step_free(&st);
	}
	run_free(s);
	return ret;
}

/* --- the step, for callers --- */

P2PDMA_EXPORT const char *p2pdma_scenario_step_source(const struct p2pdma_scenario_step *step,
						      unsigned int *line)
{
	if (line)
		*line = step->l->line;
	return step->l->file;
}

P2PDMA_EXPORT const char *p2pdma_scenario_step_text(const struct p2pdma_scenario_step *step)
{
	return step->l->text;
}

P2PDMA_EXPORT const char *p2pdma_scenario_step_verb(const struct p2pdma_scenario_step *step)
{
	return step->l->argv[0];
}

P2PDMA_EXPORT int p2pdma_scenario_step_errno(const struct p2pdma_scenario_step *step)
{
	return step->err;
}

P2PDMA_EXPORT size_t p2pdma_scenario_step_num_fields(const struct p2pdma_scenario_step *step)
{
	return step->nkv;
}

P2PDMA_EXPORT const char *p2pdma_scenario_step_field(const struct p2pdma_scenario_step *step,
						     size_t i, const char **value)
{
	if (i >= step->nkv)
		return NULL;
	if (value)
		*value = step->kv[i].val;
	return step->kv[i].key;
}

P2PDMA_EXPORT size_t p2pdma_scenario_step_num_lines(const struct p2pdma_scenario_step *step)
{
	return step->ntl;
}

P2PDMA_EXPORT const char *p2pdma_scenario_step_line(const struct p2pdma_scenario_step *step,
						    size_t i, enum p2pdma_scenario_line_kind *kind)
{
	if (i >= step->ntl)
		return NULL;
	if (kind)
		*kind = step->tl[i].kind;
	return step->tl[i].text;
}

P2PDMA_EXPORT size_t p2pdma_scenario_step_num_expects(const struct p2pdma_scenario_step *step)
{
	return (size_t)step->l->nexp;
}

P2PDMA_EXPORT const char *p2pdma_scenario_step_expect(const struct p2pdma_scenario_step *step,
						      size_t i, unsigned int *line, bool *held,
						      const char **why)
{
	if (i >= (size_t)step->l->nexp)
		return NULL;
	if (line)
		*line = step->l->exp[i].line;
	if (held)
		*held = step->eres[i].held;
	if (why)
		*why = step->eres[i].why;
	return step->l->exp[i].text;
}
