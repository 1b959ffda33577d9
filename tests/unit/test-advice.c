// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-advice.c - fix advice: merged with the machine's parameters, verified by booting it */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"


static struct p2pdma_kernel *boot(const struct p2pdma_topo *t, const char *cmdline)
{
	struct p2pdma_policy *pol;
	struct p2pdma_kernel *k;

	assert_int_equal(p2pdma_policy_from_machine(test_ctx, t, &pol), 0);
	if (cmdline)
		assert_int_equal(p2pdma_policy_set_cmdline(pol, cmdline), 0);
	if (p2pdma_kernel_boot(test_ctx, t, pol, &k))
		fail_msg("boot: %s", p2pdma_ctx_error(test_ctx));
	p2pdma_policy_destroy(pol);
	return k;
}

static struct p2pdma_topo *example(const char *name)
{
	struct p2pdma_topo *t;

	assert_int_equal(p2pdma_topo_load_example(test_ctx, name, &t), 0);
	return t;
}

/*
 * What a user does with the advice: take the machine's own command line,
 * drop its pci=disable_acs_redir= and pci=config_acs= options, paste
 * kernel_cmdline. Written here independently of the library's merging.
 */
static char *user_cmdline(const struct p2pdma_topo *t, const char *kernel_cmdline)
{
	struct p2pdma_machine_info m;
	char *out = calloc(1, 65536), *copy, *tok, *save = NULL;

	assert_non_null(out);
	p2pdma_topo_machine(t, &m);
	copy = strdup(m.cmdline ? m.cmdline : "");
	assert_non_null(copy);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strncmp(tok, "pci=", 4)) {
			char *opt, *osave = NULL, kept[4096] = "";

			for (opt = strtok_r(tok + 4, ",", &osave); opt; opt = strtok_r(NULL, ",", &osave))
				if (strncmp(opt, "disable_acs_redir=", 18) && strncmp(opt, "config_acs=", 11))
					snprintf(kept + strlen(kept), sizeof(kept) - strlen(kept), "%s%s",
						 kept[0] ? "," : "", opt);
			if (kept[0])
				snprintf(out + strlen(out), 65536 - strlen(out), "pci=%s ", kept);
			continue;
		}
		snprintf(out + strlen(out), 65536 - strlen(out), "%s ", tok);
	}
	strcat(out, kernel_cmdline);
	free(copy);
	return out;
}

static bool endpoint(const struct p2pdma_dev *d)
{
	struct p2pdma_dev_info in;

	p2pdma_dev_get_info(d, &in, sizeof(in));
	return !in.is_bridge;
}

struct tally {
	unsigned int pairs, fixes, verified, unverified;
};

/*
 * The property: for every pair the advice can help, booting with the
 * advised kernel_cmdline makes the pair BUS_ADDR, loses no pair that is
 * BUS_ADDR today, and gives exactly the outcome the advice reported; an
 * unverified variant's reported outcome is also exactly what a boot gives.
 */
static void check_machine(const char *what, struct p2pdma_topo *t, struct tally *ty)
{
	struct p2pdma_kernel *k = boot(t, NULL);
	const struct p2pdma_router *now = p2pdma_kernel_router(k);
	size_t n = p2pdma_topo_num_devs(t), i, j, a, b, v;

	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			const struct p2pdma_dev *p = p2pdma_topo_dev(t, i), *c = p2pdma_topo_dev(t, j);
			struct p2pdma_advice *adv;
			enum p2pdma_advice_status st;

			if (i == j || !endpoint(p) || !endpoint(c))
				continue;
			ty->pairs++;
			assert_int_equal(p2pdma_advise_pair(k, p, c, &adv), 0);
			st = p2pdma_advice_status(adv);
			if (st != P2PDMA_ADVICE_FIX && st != P2PDMA_ADVICE_FIX_UNVERIFIED) {
				p2pdma_advice_destroy(adv);
				continue;
			}
			ty->fixes++;
			ty->verified += st == P2PDMA_ADVICE_FIX;
			ty->unverified += st == P2PDMA_ADVICE_FIX_UNVERIFIED;
			for (v = 0; v < p2pdma_advice_num_variants(adv); v++) {
				char *line = user_cmdline(t, p2pdma_advice_variant(adv, v, NULL));
				struct p2pdma_kernel *k2 = boot(t, line);
				const struct p2pdma_router *then = p2pdma_kernel_router(k2);
				int d0 = -1, d1 = -1;
				enum p2pdma_map_type said = p2pdma_advice_variant_outcome(adv, v, &d0);
				enum p2pdma_map_type got = p2pdma_router_map_type(then, p, c, &d1);
				size_t lost = 0;

				if (said != got || d0 != d1)
					fail_msg("%s: fix %s %s: variant %zu said %s/%d, the boot gives %s/%d (%s)",
						 what, p2pdma_dev_name(p), p2pdma_dev_name(c), v,
						 p2pdma_map_type_name(said), d0,
						 p2pdma_map_type_name(got), d1, line);
				for (a = 0; a < n; a++)
					for (b = 0; b < n; b++)
						if (endpoint(p2pdma_topo_dev(t, a)) && endpoint(p2pdma_topo_dev(t, b)) &&
						    p2pdma_router_map_type(now, p2pdma_topo_dev(t, a), p2pdma_topo_dev(t, b), NULL) == P2PDMA_MAP_BUS_ADDR &&
						    p2pdma_router_map_type(then, p2pdma_topo_dev(t, a), p2pdma_topo_dev(t, b), NULL) != P2PDMA_MAP_BUS_ADDR)
							lost++;
				assert_int_equal(lost, p2pdma_advice_variant_lost(adv, v));
				if (p2pdma_advice_variant_works(adv, v)) {
					/* improves, loses nothing */
					assert_int_equal(got, P2PDMA_MAP_BUS_ADDR);
					assert_int_equal(lost, 0);
				}
				if (v == 0 && st == P2PDMA_ADVICE_FIX)
					assert_true(p2pdma_advice_variant_works(adv, v) ||
						    p2pdma_advice_variant_works(adv, 1));
				p2pdma_kernel_shutdown(k2);
				free(line);
			}
			/* The recommended line is a working variant. */
			if (st == P2PDMA_ADVICE_FIX) {
				const char *kc = p2pdma_advice_kernel_cmdline(adv);
				bool found = false;

				for (v = 0; v < p2pdma_advice_num_variants(adv); v++)
					found |= p2pdma_advice_variant(adv, v, NULL) == kc &&
						 p2pdma_advice_variant_works(adv, v);
				assert_true(found);
			}
			p2pdma_advice_destroy(adv);
		}
	}
	p2pdma_kernel_shutdown(k);
}

static void test_property_examples(void **state)
{
	struct tally ty = { 0 };
	size_t i;

	(void)state;
	for (i = 0; p2pdma_example_name(i); i++) {
		struct p2pdma_topo *t = example(p2pdma_example_name(i));

		check_machine(p2pdma_example_name(i), t, &ty);
		p2pdma_topo_destroy(t);
	}
	print_message("# examples: %u pairs, %u with a command-line fix (%u verified, %u not)\n",
		      ty.pairs, ty.fixes, ty.verified, ty.unverified);
	assert_true(i >= 4);
	assert_true(ty.verified > 0);
}

static void test_property_kernel_fixtures(void **state)
{
	const char *kdir = fixture_path("kernel");
	struct tally ty = { 0 };
	unsigned int machines = 0;
	struct dirent *e;
	DIR *d = opendir(kdir);

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		char cmd[8400], dump[4200];
		struct p2pdma_topo *t;
		char *tmp;

		if (e->d_name[0] == '.')
			continue;
		tmp = fixture_tmpdir();
		snprintf(dump, sizeof(dump), "%s/lspci-xxxx.txt", tmp);
		snprintf(cmd, sizeof(cmd), "gzip -dc '%s/%s/lspci-xxxx.txt.gz' > '%s'",
			 kdir, e->d_name, dump);
		assert_int_equal(system(cmd), 0);
		if (p2pdma_topo_load_dump(test_ctx, dump, &t))
			fail_msg("%s: %s", e->d_name, p2pdma_ctx_error(test_ctx));
		check_machine(e->d_name, t, &ty);
		p2pdma_topo_destroy(t);
		fixture_rmtree(tmp);
		free(tmp);
		machines++;
	}
	closedir(d);
	print_message("# %u real-kernel captures: %u pairs, %u with a command-line fix (%u verified, %u not)\n",
		      machines, ty.pairs, ty.fixes, ty.verified, ty.unverified);
	assert_true(machines >= 50);
	assert_true(ty.fixes > 0);
}

/* The user's reports, one by one. */

/* 1. A fix must not undo the machine's own disable_acs_redir list. */
static void test_merges_machine_params(void **state)
{
	struct p2pdma_topo *t = example("xeon-8gpu");
	struct p2pdma_kernel *k = boot(t, NULL);
	struct p2pdma_advice *a;
	const char *kc;

	(void)state;
	assert_int_equal(p2pdma_advise_pair(k, p2pdma_topo_find(t, "18:00.0"),
					    p2pdma_topo_find(t, "19:00.0"), &a), 0);
	assert_int_equal(p2pdma_advice_status(a), P2PDMA_ADVICE_FIX);
	kc = p2pdma_advice_kernel_cmdline(a);
	assert_non_null(strstr(kc, "0000:a9:00.0"));
	assert_non_null(strstr(kc, "0000:17:00.0"));
	assert_null(strchr(kc, ' '));	/* one parameter, not two */
	assert_true(p2pdma_advice_num_warnings(a) >= 1);
	assert_non_null(strstr(p2pdma_advice_warning(a, 0), "replaces the machine's pci=disable_acs_redir="));
	p2pdma_advice_destroy(a);
	/* The machine advice: one line for everything, nothing lost. */
	{
		const struct p2pdma_dev *devs[4] = {
			p2pdma_topo_find(t, "18:00.0"), p2pdma_topo_find(t, "19:00.0"),
			p2pdma_topo_find(t, "aa:00.0"), p2pdma_topo_find(t, "ab:00.0"),
		};

		assert_int_equal(p2pdma_advise_machine(k, devs, 4, &a), 0);
		assert_int_equal(p2pdma_advice_status(a), P2PDMA_ADVICE_FIX);
		assert_int_equal(p2pdma_advice_num_pairs(a), 1);	/* 18 and 19 */
		kc = p2pdma_advice_kernel_cmdline(a);
		assert_non_null(strstr(kc, "0000:a9:00.0"));
		assert_int_equal(p2pdma_advice_variant_lost(a, 0), 0);
		p2pdma_advice_destroy(a);
	}
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* 2. The what-if boot keeps the CPU rule: config_acs on AMD. */
static void test_keeps_cpu_rule(void **state)
{
	struct p2pdma_topo *t = example("epyc-2s");
	struct p2pdma_kernel *k = boot(t, NULL);
	struct p2pdma_advice *a;
	size_t v;

	(void)state;
	assert_true(p2pdma_policy_cpu_rule(p2pdma_kernel_policy(k)));
	assert_int_equal(p2pdma_advise_pair(k, p2pdma_topo_find(t, "42:00.0"),
					    p2pdma_topo_find(t, "42:00.2"), &a), 0);
	assert_int_equal(p2pdma_verdict_map_type(p2pdma_advice_verdict(a)),
			 P2PDMA_MAP_THRU_HOST_BRIDGE);
	for (v = 0; v < p2pdma_advice_num_variants(a); v++)
		assert_int_not_equal(p2pdma_advice_variant_outcome(a, v, NULL),
				     P2PDMA_MAP_NOT_SUPPORTED);
	p2pdma_advice_destroy(a);
	p2pdma_kernel_shutdown(k);
	p2pdma_topo_destroy(t);
}

/* 3. An already-allowed pair gets what holds, not an error. */
static void test_already_allowed(void **state)
{
	static const struct {
		const char *machine, *p, *c;
		enum p2pdma_requirement holds;
	} cases[] = {
		{ "xeon-8gpu", "18:00.0", "29:00.0", P2PDMA_REQ_ALLOW_LIST },
		{ "epyc-2s", "41:00.0", "c1:00.0", P2PDMA_REQ_CPU_RULE },
	};
	size_t i, r;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct p2pdma_topo *t = example(cases[i].machine);
		struct p2pdma_kernel *k = boot(t, NULL);
		struct p2pdma_advice *a;
		unsigned int listed = 0, met = 0;

		assert_int_equal(p2pdma_advise_pair(k, p2pdma_topo_find(t, cases[i].p),
						    p2pdma_topo_find(t, cases[i].c), &a), 0);
		assert_int_equal(p2pdma_advice_status(a), P2PDMA_ADVICE_ALLOWED_NO_SWITCH);
		for (r = 0; r < p2pdma_advice_num_requirements(a); r++) {
			bool m;
			enum p2pdma_requirement kind = p2pdma_advice_requirement(a, r, NULL, &m);

			listed += kind == P2PDMA_REQ_ALLOW_LIST;
			if (kind == cases[i].holds && m)
				met++;
		}
		/* The condition that admits it is named, once. */
		assert_int_equal(met, 1);
		assert_true(listed <= 1 || cases[i].holds != P2PDMA_REQ_ALLOW_LIST);
		p2pdma_advice_destroy(a);
		p2pdma_kernel_shutdown(k);
		p2pdma_topo_destroy(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merges_machine_params),
		cmocka_unit_test(test_keeps_cpu_rule),
		cmocka_unit_test(test_already_allowed),
		cmocka_unit_test(test_property_examples),
		cmocka_unit_test(test_property_kernel_fixtures),
	};

	return cmocka_run_group_tests(tests, fixture_ctx_setup, fixture_ctx_teardown);
}
