// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-scenario.c - the scenario layer: verb tables, numbers, errno names, the sandbox, step results */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "dmabuf-private.h"
#include "scenario-private.h"

static const struct p2pdma_scn_layer *const all[] = {
	&p2pdma_scn_layer_machine,
	&p2pdma_scn_layer_p2pmem,
	&p2pdma_scn_layer_dmabuf,
	&p2pdma_scn_layer_vfio,
};

/* Verb names are unique across layers; usages start with the name. */
static void test_verb_tables(void **state)
{
	size_t a, b, i, j, n = 0;

	(void)state;
	for (a = 0; a < sizeof(all) / sizeof(all[0]); a++) {
		for (i = 0; i < all[a]->nverbs; i++) {
			const struct p2pdma_scn_verb *v = &all[a]->verbs[i];

			n++;
			assert_non_null(v->run);
			assert_int_equal(strncmp(v->usage, v->name, strlen(v->name)), 0);
			assert_true(v->max_args < 0 || v->max_args >= v->min_args);
			assert_true(strcmp(v->name, "include") && strcmp(v->name, "expect"));
			if ((v->flags & P2PDMA_SCN_AS) && !strstr(v->usage, "as NAME"))
				fail_msg("%s may be named but its usage does not say so", v->name);
			for (b = a; b < sizeof(all) / sizeof(all[0]); b++)
				for (j = b == a ? i + 1 : 0; j < all[b]->nverbs; j++)
					if (!strcmp(v->name, all[b]->verbs[j].name))
						fail_msg("verb %s defined twice", v->name);
		}
	}
	assert_true(n >= 70);
	/* Expect keywords too, and none shadows a core one. */
	for (a = 0; a < sizeof(all) / sizeof(all[0]); a++)
		for (i = 0; i < all[a]->nexpects; i++) {
			const char *w = all[a]->expects[i].name;

			assert_true(strcmp(w, "ok") && strcmp(w, "errno") && strcmp(w, "dmesg") &&
				    strcmp(w, "no-dmesg") && strcmp(w, "note") && !p2pdma_errno_value(w));
			for (b = a; b < sizeof(all) / sizeof(all[0]); b++)
				for (j = b == a ? i + 1 : 0; j < all[b]->nexpects; j++)
					if (!strcmp(w, all[b]->expects[j].name))
						fail_msg("expect %s defined twice", w);
		}
}

static void test_numbers(void **state)
{
	static const struct { const char *text; int ret; uint64_t v; } cases[] = {
		{ "0", 0, 0 }, { "4096", 0, 4096 }, { "0x10", 0, 16 }, { "64K", 0, 65536 },
		{ "2M", 0, 2 << 20 }, { "2MiB", 0, 2 << 20 }, { "1G", 0, 1ULL << 30 },
		{ "16T", 0, 16ULL << 40 }, { "3KB", 0, 3072 },
		{ "18446744073709551615", 0, ~0ULL },
		{ "", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "+4", -EINVAL, 0 }, { "4Q", -EINVAL, 0 },
		{ "4KX", -EINVAL, 0 }, { "17179869184G", -EINVAL, 0 }, { "0x", -EINVAL, 0 },
		{ "18446744073709551616", -EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int ret = p2pdma_scn_parse_u64(cases[i].text, &v);

		if (ret != cases[i].ret || (!ret && v != cases[i].v))
			fail_msg("'%s': %d %llu", cases[i].text, ret, (unsigned long long)v);
	}
}

static void test_errno_names(void **state)
{
	static const char *const names[] = { "EINVAL", "ENOMEM", "ENODEV", "EREMOTEIO",
					     "EINPROGRESS", "ETIMEDOUT", "EFAULT", "EEXIST",
					     "ENXIO", "EOPNOTSUPP", "EBUSY", "ENOENT" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int v = p2pdma_errno_value(names[i]);

		assert_true(v < 0);
		assert_string_equal(p2pdma_errno_name(v), names[i]);
		assert_string_equal(p2pdma_errno_name(-v), names[i]);
	}
	assert_string_equal(p2pdma_errno_name(0), "0");
	assert_null(p2pdma_errno_name(-4000));
	assert_int_equal(p2pdma_errno_value("EWHAT"), 0);
}

/* Without a base directory nothing reads files. */
static void test_sandbox(void **state)
{
	static const char *const scripts[] = {
		"include other.p2ps\n",
		"machine dump /etc/passwd\n",
		"machine sysfs /sys\n",
		"machine topology x.json\n",
	};
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_scenario *sc;
	unsigned int failed;
	size_t i;

	(void)state;
	assert_int_equal(p2pdma_scenario_load_string(ctx, scripts[0], "s", NULL, &sc), -EINVAL);
	assert_non_null(strstr(p2pdma_ctx_error(ctx), "s:1: include: this script may not read files"));
	for (i = 1; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		assert_int_equal(p2pdma_scenario_load_string(ctx, scripts[i], "s", NULL, &sc), 0);
		assert_int_equal(p2pdma_scenario_run(sc, NULL, NULL, &failed), -EINVAL);
		assert_non_null(strstr(p2pdma_ctx_error(ctx), "may not read files"));
		p2pdma_scenario_destroy(sc);
	}
	p2pdma_ctx_destroy(ctx);
}

struct seen {
	int steps;
	char fields[512];
	int kernel_lines;
	bool held[4];
};

static void on_step(void *data, const struct p2pdma_scenario_step *st)
{
	struct seen *s = data;
	size_t i;

	s->steps++;
	if (strcmp(p2pdma_scenario_step_verb(st), "alloc"))
		return;
	for (i = 0; p2pdma_scenario_step_field(st, i, NULL); i++) {
		const char *v, *k = p2pdma_scenario_step_field(st, i, &v);

		snprintf(s->fields + strlen(s->fields), sizeof(s->fields) - strlen(s->fields),
			 "%s=%s;", k, v);
	}
	for (i = 0; i < p2pdma_scenario_step_num_expects(st) && i < 4; i++)
		p2pdma_scenario_step_expect(st, i, NULL, &s->held[i], NULL);
}

/* Results, expectations, numeric comparison, quotes and comments. */
static void test_run(void **state)
{
	const char *text =
		"machine example workstation   # an Alder Lake box\n"
		"cmdline \"quiet pci=config_acs=\\\"x\\\"#not-a-comment\"\n"
		"boot\n"
		"add-resource 0000:01:00.0 1\n"
		"alloc 0000:01:00.0 64K as a\n"
		"expect addr 0xffff88c010000000\n"
		"expect phys 275146342400\n"
		"expect size 256M\n"
		"expect available 0x0fff0000\n";
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_scenario *sc;
	struct seen s = { 0 };
	unsigned int failed;

	(void)state;
	assert_int_equal(p2pdma_scenario_load_string(ctx, text, "t", NULL, &sc), 0);
	assert_int_equal(p2pdma_scenario_num_steps(sc), 5);
	assert_int_equal(p2pdma_scenario_run(sc, on_step, &s, &failed), 0);
	assert_int_equal(s.steps, 5);
	assert_int_equal(failed, 0);
	assert_true(s.held[0] && s.held[1] && s.held[2] && s.held[3]);
	assert_non_null(strstr(s.fields, "addr=0xffff88c010000000;"));
	p2pdma_scenario_destroy(sc);
	p2pdma_ctx_destroy(ctx);
}

/*
 * A script that ends, or boots again, holding reservation locks and
 * importers: the run lets go of every lock before anything is destroyed
 * (no deadlock, nothing held after the run), and a second run is the same.
 */
static void test_locks_released_at_reboot_and_end(void **state)
{
	const char *text =
		"machine example xeon-8gpu\n"
		"kernel 6.19\n"
		"boot\n"
		"unbind 0000:aa:00.0\n"
		"vfio-bind 0000:aa:00.0 as gpu\n"
		"vfio-open $gpu\n"
		"vfio-feature $gpu region=1 ranges=0:2M as vbuf\n"
		"importer hostile 0000:ac:00.0 as rogue\n"
		"import $rogue $vbuf\n"
		"resv-lock $vbuf\n"
		"vfio-command $gpu 0\n"
		"expect EDEADLK\n"
		"boot\n"
		"p2pdma-init 0000:aa:00.0\n"
		"export mmio 0000:aa:00.0 1 0:2M as vram\n"
		"importer rdma 0000:ac:00.0 as nic\n"
		"import $nic $vram\n"
		"resv-lock $vram\n"
		"map $nic\n"
		"expect ok\n"
		"importer rdma 0000:ab:00.0 as late\n";
	struct p2pdma_ctx *ctx = fixture_ctx();
	struct p2pdma_scenario *sc;
	struct seen s = { 0 };
	unsigned int failed;
	int run;

	(void)state;
	assert_int_equal(p2pdma_scenario_load_string(ctx, text, "t", NULL, &sc), 0);
	for (run = 0; run < 2; run++) {
		assert_int_equal(p2pdma_scenario_run(sc, on_step, &s, &failed), 0);
		assert_int_equal(failed, 0);
		assert_false(p2pdma_resv_held_any());
	}
	p2pdma_scenario_destroy(sc);
	p2pdma_ctx_destroy(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verb_tables),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_errno_names),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_locks_released_at_reboot_and_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
