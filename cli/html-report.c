// SPDX-License-Identifier: GPL-2.0-or-later
/* html-report.c - report --html: one self-contained page (summary, picture, heat map, advice) */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-graph.h"
#include "cli-html.h"
#include "cli-verdict.h"

/* Beyond this many devices the matrix shows the first ones (n² explanations). */
#define HTML_MAX_DEVS 32

struct page {
	struct cli *cli;
	const struct cli_html_input *in;
	size_t n;
	char (*label)[16];
	struct p2pdma_islands *islands;
	json_t *pairs;			/* "i-j": the pair's data, for the script */
	uint8_t *types;			/* n * n map types */
	int *dists;
	size_t count[5];		/* ordered pairs per map type */
	FILE *f;
};

static void esc(struct page *pg, const char *s)
{
	cli_xml_escape(pg->f, s);
}

/* A command line: may wrap after each ';' (copying keeps it one line). */
static void esc_cmdline(struct page *pg, const char *s)
{
	char piece[1024];

	while (*s) {
		size_t n = strcspn(s, ";");

		n = n < sizeof(piece) - 2 ? n + (s[n] == ';') : sizeof(piece) - 2;
		memcpy(piece, s, n);
		piece[n] = '\0';
		esc(pg, piece);
		if (piece[n - 1] == ';')
			fputs("<wbr>", pg->f);
		s += n;
	}
}

int cli_check_writable(const char *opt, const char *path)
{
	FILE *f;

	if (!access(path, F_OK))
		return access(path, W_OK) ? cli_error("%s %s: %s", opt, path, strerror(errno)) : 0;
	f = fopen(path, "wb");
	if (!f)
		return cli_error("%s %s: %s", opt, path, strerror(errno));
	fclose(f);
	unlink(path);
	return 0;
}

/* What @fn prints on cli->out, as a string (NULL: out of memory). */
static char *capture(struct cli *cli, int (*fn)(void *), void *data, bool notes)
{
	FILE *saved = cli->out;
	unsigned int nnotes = cli->nnotes;
	char *text = NULL;
	size_t len = 0;

	cli->out = open_memstream(&text, &len);
	if (!cli->out) {
		cli->out = saved;
		return NULL;
	}
	/* The machine's notes are shown once, not under every pair. */
	if (!notes)
		cli->nnotes = 0;
	fn(data);
	cli->nnotes = nnotes;
	if (fclose(cli->out)) {
		free(text);
		text = NULL;
	}
	cli->out = saved;
	return text;
}

struct fix_call {
	struct cli *cli;
	const struct p2pdma_dev *provider, *client;
};

/* 'p2pdma fix PROVIDER CLIENT': the explanation and every command line. */
static int fix_text(void *data)
{
	struct fix_call *fc = data;
	char p[16], c[16], *argv[4] = { (char *)"fix", p, c, NULL };

	snprintf(p, sizeof(p), "%s", p2pdma_dev_name(fc->provider));
	snprintf(c, sizeof(c), "%s", p2pdma_dev_name(fc->client));
	return cmd_fix(fc->cli, 3, argv);
}

static const char *short_kind(const struct p2pdma_dev_info *in)
{
	unsigned int base = in->class_code >> 16;

	return base == 0x03 ? "GPU" : base == 0x02 ? "NIC" :
	       in->class_code >> 8 == 0x0108 ? "NVMe" : base == 0x01 ? "Storage" :
	       base == 0x12 ? "Accel" : "Dev";
}

static int label_devices(struct page *pg)
{
	static const char *const kinds[] = { "GPU", "NIC", "NVMe", "Storage", "Accel", "Dev" };
	size_t i, k, next[6] = { 0 };

	pg->n = pg->in->n < HTML_MAX_DEVS ? pg->in->n : HTML_MAX_DEVS;
	pg->label = calloc(pg->n + 1, sizeof(*pg->label));
	if (!pg->label)
		return -ENOMEM;
	for (i = 0; i < pg->n; i++) {
		struct p2pdma_dev_info in;

		p2pdma_dev_get_info(pg->in->devs[i], &in, sizeof(in));
		for (k = 0; strcmp(kinds[k], short_kind(&in)); k++)
			;
		snprintf(pg->label[i], sizeof(pg->label[i]), "%s%zu", kinds[k], next[k]++);
	}
	return 0;
}

/* The pair's data: verdict, explanation, the command line to paste. */
static json_t *pair_json(struct page *pg, size_t i, size_t j, const struct p2pdma_verdict *v)
{
	struct fix_call fc = { pg->cli, pg->in->devs[i], pg->in->devs[j] };
	struct p2pdma_advice *a = NULL;
	char *text = capture(pg->cli, fix_text, &fc, false);
	const char *kc = NULL;
	json_t *o;

	if (!p2pdma_advise_pair(pg->cli->k, fc.provider, fc.client, &a))
		kc = p2pdma_advice_kernel_cmdline(a);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s?, s:b}",
		      "provider", p2pdma_dev_name(fc.provider), "client", p2pdma_dev_name(fc.client),
		      "provider_label", pg->label[i], "client_label", pg->label[j],
		      "map_type", p2pdma_map_type_name(p2pdma_verdict_map_type(v)),
		      "distance", p2pdma_verdict_distance(v),
		      "explanation", text ? text : "", "kernel_cmdline", kc,
		      "verified", a && p2pdma_advice_status(a) == P2PDMA_ADVICE_FIX);
	p2pdma_advice_destroy(a);
	free(text);
	return o;
}

static void head(struct page *pg)
{
	FILE *f = pg->f;

	fputs("<!DOCTYPE html>\n<html lang=\"en\" class=\"nojs\">\n<head>\n<meta charset=\"utf-8\">\n"
	      /* Nothing outside this file may load, whatever the page holds. */
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>P2P DMA report: ", f);
	esc(pg, p2pdma_topo_name(pg->cli->topo));
	fputs("</title>\n<style>\n"
	      "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:1.5em;color:#222;max-width:1400px}\n"
	      "h1{font-size:1.5em;margin:0 0 .5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}\n"
	      "table.facts td{padding:1px 12px 1px 0;vertical-align:top}table.facts td:first-child{color:#555}\n"
	      "pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px;line-height:1.35}\n"
	      "pre.cmdline{background:#eef5ff;border:1px solid #9bbbe8;white-space:pre-wrap;overflow-wrap:anywhere}\n"
	      "#explain pre{white-space:pre-wrap}table.facts td:first-child{white-space:nowrap}\n"
	      "#picture{overflow-x:auto;border:1px solid #ddd;padding:4px}#picture svg{max-width:100%;height:auto}\n"
	      ".matrix-wrap{display:flex;gap:1.5em;align-items:flex-start;flex-wrap:wrap}\n"
	      "table.heat{border-collapse:collapse;font-size:11px}\n"
	      "table.heat th{font-weight:normal;padding:2px 4px;white-space:nowrap;text-align:left}\n"
	      "table.heat td{width:3.2em;height:1.9em;text-align:center;border:1px solid #fff;padding:0}\n"
	      "table.heat td a{display:block;color:#222;text-decoration:none;line-height:1.9em}\n"
	      "td.bus{background:#7cc87c}td.hb{background:#ffd24d}td.ns{background:#ef7f7f}td.self{background:#ddd}\n"
	      "td.cell{cursor:pointer}td.cell:hover,td.selected{outline:2px solid #1f4e9c}\n"
	      "#explain{flex:1;min-width:640px;border:1px solid #9bbbe8;padding:.6em;background:#fbfdff}\n"
	      "#explain pre{font-size:11px}\n"
	      "html.nojs #explain .js-only{display:none}html.js #explain .nojs-only{display:none}\n"
	      "details{margin:.3em 0}details summary{cursor:pointer}\n"
	      ".v-BUS_ADDR{color:#176317}.v-THRU_HOST_BRIDGE{color:#8a6100}.v-NOT_SUPPORTED{color:#a00000}\n"
	      "</style>\n</head>\n<body>\n", f);
}

static void fact(struct page *pg, const char *name, const char *value)
{
	fprintf(pg->f, "<tr><td>%s</td><td>", name);
	esc(pg, value ? value : "unknown");
	fputs("</td></tr>\n", pg->f);
}

static void summary(struct page *pg)
{
	const struct p2pdma_topo *t = pg->cli->topo;
	struct p2pdma_machine_info mi;
	char buf[256];
	size_t k, j;

	p2pdma_topo_machine(t, &mi);
	fputs("<h1>P2P DMA report for ", pg->f);
	esc(pg, p2pdma_topo_name(t));
	fputs("</h1>\n<section id=\"summary\"><table class=\"facts\">\n", pg->f);
	fact(pg, "CPU", mi.cpu_model ? mi.cpu_model : mi.cpu_vendor);
	fact(pg, "kernel profile", p2pdma_policy_kernel(pg->cli->pol));
	fact(pg, "AMD Zen CPU rule", p2pdma_policy_cpu_rule(pg->cli->pol) ? "on" : "off");
	fact(pg, "captured under", mi.kernel);
	fact(pg, "command line", mi.cmdline);
	fact(pg, "IOMMU", mi.iommu < 0 ? NULL : mi.iommu ? "on" : "off");
	snprintf(buf, sizeof(buf), "%zu functions, %zu host bridges, %zu P2P-relevant devices (GPU, NIC, storage, accelerator, p2pmem)%s",
		 p2pdma_topo_num_devs(t), p2pdma_topo_num_host_bridges(t), pg->in->n,
		 pg->n < pg->in->n ? "; the matrix shows the first 32" : "");
	fact(pg, "machine", buf);
	snprintf(buf, sizeof(buf), "%zu BUS_ADDR, %zu THRU_HOST_BRIDGE, %zu NOT_SUPPORTED",
		 pg->count[P2PDMA_MAP_BUS_ADDR], pg->count[P2PDMA_MAP_THRU_HOST_BRIDGE],
		 pg->count[P2PDMA_MAP_NOT_SUPPORTED]);
	fact(pg, "ordered pairs", buf);
	fputs("<tr><td>P2P islands</td><td>", pg->f);
	for (k = 0; k < p2pdma_islands_count(pg->islands); k++) {
		fprintf(pg->f, "%s<span class=\"island\">island %zu:", k ? "<br>" : "", k + 1);
		for (j = 0; j < p2pdma_island_size(pg->islands, k); j++) {
			fputc(' ', pg->f);
			esc(pg, p2pdma_dev_name(p2pdma_island_member(pg->islands, k, j)));
		}
		fputs("</span>", pg->f);
	}
	if (!p2pdma_islands_count(pg->islands))
		fputs("none: no two of these devices reach each other by BUS_ADDR", pg->f);
	fputs(" (every pair of an island is BUS_ADDR: the traffic turns around in a switch)</td></tr>\n</table></section>\n",
	      pg->f);
}

/* The machine advice: one command line, its verification and its cost. */
static void changes(struct page *pg)
{
	const struct p2pdma_advice *a = pg->in->advice;
	const char *kc = a ? p2pdma_advice_kernel_cmdline(a) : NULL;
	size_t i, best = 0, ng, nf;

	fputs("<section id=\"changes\"><h2>Changes worth making</h2>\n", pg->f);
	if (!a || p2pdma_advice_status(a) == P2PDMA_ADVICE_NOTHING_TO_DO) {
		fputs("<p>No kernel command line helps: every pair of these devices is BUS_ADDR, or none is held back by ACS redirect. The text report below says what else decides.</p>\n",
		      pg->f);
	} else if (!kc) {
		fprintf(pg->f, "<p>%zu pairs are held back by ACS redirect, but no command line verifies on kernel ",
			p2pdma_advice_num_pairs(a));
		esc(pg, p2pdma_policy_kernel(pg->cli->pol));
		fputs(" (each pair's explanation shows the variants and their boot logs).</p>\n", pg->f);
	} else {
		for (i = 0; i < p2pdma_advice_num_variants(a); i++)
			if (p2pdma_advice_variant(a, i, NULL) == kc)
				best = i;
		fprintf(pg->f, "<p>One kernel command line for the whole machine: %zu of the %zu pairs held back by ACS redirect become BUS_ADDR, no BUS_ADDR pair is lost (verified by booting a copy of the machine with it). Quote it in a boot loader or shell: ';' separates devices.</p>\n<pre class=\"cmdline\" id=\"machine-cmdline\">",
			p2pdma_advice_variant_gained(a, best), p2pdma_advice_num_pairs(a));
		esc_cmdline(pg, kc);
		fputs("</pre>\n<ul>\n", pg->f);
		for (i = 0; i < p2pdma_advice_num_warnings(a); i++) {
			fputs("<li>warning: ", pg->f);
			esc(pg, p2pdma_advice_warning(a, i));
			fputs("</li>\n", pg->f);
		}
		fprintf(pg->f, "<li>cost: P2P below the changed ports then bypasses the IOMMU, and %zu IOMMU group%s merge (each changed port with what is below it; VFIO must assign a merged group whole)",
			p2pdma_advice_num_group_merges(a), cli_plural(p2pdma_advice_num_group_merges(a)));
		for (i = 0; i < p2pdma_advice_num_group_merges(a); i++) {
			fputs(i ? ", " : ": ", pg->f);
			esc(pg, p2pdma_dev_name(p2pdma_advice_group_merge(a, i, &ng, &nf)));
			fprintf(pg->f, " (%zu groups, %zu functions)", ng, nf);
		}
		fputs("</li>\n", pg->f);
		fputs("</ul>\n", pg->f);
	}
	fputs("</section>\n", pg->f);
}

/* The Graphviz picture, inline (no XML prolog inside HTML). */
static int picture(struct page *pg)
{
	struct cli_graph_opts o = { 0 };
	char *svg = NULL, *start;
	size_t len = 0;
	int ret = cli_graph_render(pg->cli, &o, "svg", &svg, &len);

	if (ret)
		return ret;
	start = strstr(svg, "<svg");
	fputs("<section><h2>The machine</h2>\n<div id=\"picture\">\n", pg->f);
	if (start)
		fputs(start, pg->f);
	fputs("</div></section>\n", pg->f);
	free(svg);
	return 0;
}

static const char *cell_class(enum p2pdma_map_type t)
{
	return t == P2PDMA_MAP_BUS_ADDR ? "bus" : t == P2PDMA_MAP_THRU_HOST_BRIDGE ? "hb" : "ns";
}

/* Every ordered pair: verdict counts, and the data the page embeds. */
static int evaluate(struct page *pg)
{
	struct p2pdma_verdict *v;
	size_t i, j;
	char key[48];

	pg->pairs = json_object();
	pg->types = calloc(pg->n * pg->n + 1, sizeof(*pg->types));
	pg->dists = calloc(pg->n * pg->n + 1, sizeof(*pg->dists));
	if (!pg->pairs || !pg->types || !pg->dists || p2pdma_verdict_create(&v))
		return -ENOMEM;
	for (i = 0; i < pg->n; i++)
		for (j = 0; j < pg->n; j++) {
			if (i == j)
				continue;
			p2pdma_router_calc(cli_router(pg->cli), pg->in->devs[i], pg->in->devs[j], true, v);
			pg->types[i * pg->n + j] = (uint8_t)p2pdma_verdict_map_type(v);
			pg->dists[i * pg->n + j] = p2pdma_verdict_distance(v);
			pg->count[p2pdma_verdict_map_type(v)]++;
			snprintf(key, sizeof(key), "%zu-%zu", i, j);
			json_object_set_new(pg->pairs, key, pair_json(pg, i, j, v));
		}
	p2pdma_verdict_destroy(v);
	return 0;
}

/* Lightness of a cell: the shortest distance of its verdict darkest. */
static int lightness(const struct page *pg, enum p2pdma_map_type t, int d)
{
	int lo = 1 << 30, hi = -1;
	size_t k;

	for (k = 0; k < pg->n * pg->n; k++) {
		if (pg->types[k] != t || k / pg->n == k % pg->n)
			continue;
		lo = pg->dists[k] < lo ? pg->dists[k] : lo;
		hi = pg->dists[k] > hi ? pg->dists[k] : hi;
	}
	return hi > lo ? 55 + 25 * (d - lo) / (hi - lo) : 60;
}

static void heat_row(struct page *pg, size_t i)
{
	size_t j;

	fprintf(pg->f, "<tr><th scope=\"row\" title=\"");
	esc(pg, p2pdma_dev_name(pg->in->devs[i]));
	fprintf(pg->f, "\">%s <small>", pg->label[i]);
	esc(pg, p2pdma_dev_name(pg->in->devs[i]));
	fputs("</small></th>", pg->f);
	for (j = 0; j < pg->n; j++) {
		enum p2pdma_map_type t = pg->types[i * pg->n + j];
		const char *name = p2pdma_map_type_name(t);
		char key[48];

		if (i == j) {
			fputs("<td class=\"self\" title=\"the device itself\"></td>", pg->f);
			continue;
		}
		snprintf(key, sizeof(key), "%zu-%zu", i, j);
		fprintf(pg->f, "<td class=\"cell %s\" id=\"cell-%s\" data-pair=\"%s\" data-verdict=\"%s\""
			" style=\"background:hsl(%d,75%%,%d%%)\" title=\"%s &#8594; %s: %s\"><a href=\"#pair-%s\">",
			cell_class(t), key, key, name,
			t == P2PDMA_MAP_BUS_ADDR ? 120 : t == P2PDMA_MAP_THRU_HOST_BRIDGE ? 42 : 0,
			lightness(pg, t, pg->dists[i * pg->n + j]), pg->label[i], pg->label[j], name, key);
		if (t == P2PDMA_MAP_NOT_SUPPORTED)
			fputs("NS", pg->f);
		else
			fprintf(pg->f, "%s %d", t == P2PDMA_MAP_BUS_ADDR ? "BUS" : "HB",
				pg->dists[i * pg->n + j]);
		fputs("</a></td>", pg->f);
	}
	fputs("</tr>\n", pg->f);
}

static void matrix(struct page *pg)
{
	size_t i;

	fputs("<section id=\"verdicts\"><h2>Verdicts</h2>\n"
	      "<p>Rows: the provider (owner of the memory); columns: the client (DMA initiator). "
	      "<span class=\"v-BUS_ADDR\">BUS n</span>: BUS_ADDR, direct through a switch, distance n; "
	      "<span class=\"v-THRU_HOST_BRIDGE\">HB n</span>: THRU_HOST_BRIDGE, allowed through the root complex; "
	      "<span class=\"v-NOT_SUPPORTED\">NS</span>: NOT_SUPPORTED, refused. "
	      "The shorter the distance, the darker the cell. Each cell links to its explanation.</p>\n<div class=\"matrix-wrap\">\n"
	      "<table class=\"heat\" id=\"heat\">\n<thead><tr><th>provider \\ client</th>", pg->f);
	for (i = 0; i < pg->n; i++) {
		fputs("<th scope=\"col\" title=\"", pg->f);
		esc(pg, p2pdma_dev_name(pg->in->devs[i]));
		fprintf(pg->f, "\">%s</th>", pg->label[i]);
	}
	fputs("</tr></thead>\n<tbody>\n", pg->f);
	for (i = 0; i < pg->n; i++)
		heat_row(pg, i);
	fputs("</tbody></table>\n<div id=\"explain\">\n"
	      "<p class=\"nojs-only\">Follow a cell's link to its explanation in the list below.</p>\n"
	      "<div class=\"js-only\"><h3 id=\"explain-title\">Click a cell</h3>\n"
	      "<p id=\"explain-verdict\">Its explanation and the command line to paste appear here.</p>\n"
	      "<pre id=\"explain-text\"></pre>\n<h4>Kernel command line</h4>\n"
	      "<pre class=\"cmdline\" id=\"explain-cmdline\"></pre>\n"
	      "<button type=\"button\" id=\"copy\">Copy the command line</button></div>\n</div>\n</div>\n</section>\n",
	      pg->f);
}

/* The explanations, as plain HTML: everything works without the script. */
static void pair_list(struct page *pg)
{
	size_t i, j;

	fputs("<section id=\"pairs\"><h2>Every pair explained</h2>\n", pg->f);
	for (i = 0; i < pg->n; i++)
		for (j = 0; j < pg->n; j++) {
			char key[48];
			json_t *p;
			const char *t, *kc;

			if (i == j)
				continue;
			snprintf(key, sizeof(key), "%zu-%zu", i, j);
			p = json_object_get(pg->pairs, key);
			t = json_string_value(json_object_get(p, "map_type"));
			kc = json_string_value(json_object_get(p, "kernel_cmdline"));
			fprintf(pg->f, "<details id=\"pair-%s\"><summary>%s &#8594; %s (", key,
				pg->label[i], pg->label[j]);
			esc(pg, p2pdma_dev_name(pg->in->devs[i]));
			fputs(" &#8594; ", pg->f);
			esc(pg, p2pdma_dev_name(pg->in->devs[j]));
			fprintf(pg->f, "): <span class=\"v-%s\">%s</span></summary>\n<pre class=\"explanation\">", t, t);
			esc(pg, json_string_value(json_object_get(p, "explanation")));
			fputs("</pre>\n", pg->f);
			if (kc) {
				fputs("<pre class=\"cmdline\">", pg->f);
				esc_cmdline(pg, kc);
				fputs("</pre>\n", pg->f);
			}
			fputs("</details>\n", pg->f);
		}
	fputs("</section>\n", pg->f);
}

/* JSON inside <script>: no '<', '>' or '&' can end or escape the element. */
static void data_script(struct page *pg)
{
	char *s = json_dumps(pg->pairs, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_SORT_KEYS), *p;

	fputs("<script type=\"application/json\" id=\"pair-data\">", pg->f);
	for (p = s; p && *p; p++) {
		if (*p == '<')
			fputs("\\u003c", pg->f);
		else if (*p == '>')
			fputs("\\u003e", pg->f);
		else if (*p == '&')
			fputs("\\u0026", pg->f);
		else
			fputc(*p, pg->f);
	}
	fputs("</script>\n", pg->f);
	free(s);
}

/* Enhances the page: a click shows the pair in the panel. Text only,
 * never markup, goes from the data into the page. */
static const char script[] =
"<script>\n"
"(function () {\n"
"  'use strict';\n"
"  var root = document.documentElement, data, current = null;\n"
"  root.className = 'js';\n"
"  try { data = JSON.parse(document.getElementById('pair-data').textContent); } catch (e) { return; }\n"
"  function $(id) { return document.getElementById(id); }\n"
"  function show(td) {\n"
"    var p = data[td.getAttribute('data-pair')];\n"
"    if (!p) return;\n"
"    if (current) current.classList.remove('selected');\n"
"    current = td; td.classList.add('selected');\n"
"    $('explain-title').textContent = p.provider_label + ' \\u2192 ' + p.client_label + ': ' + p.provider + ' \\u2192 ' + p.client;\n"
"    $('explain-verdict').textContent = p.map_type + ', distance ' + p.distance;\n"
"    $('explain-verdict').className = 'v-' + p.map_type;\n"
"    $('explain-text').textContent = p.explanation;\n"
"    $('explain').scrollIntoView({block: 'nearest'});\n"
"    $('explain-cmdline').textContent = p.kernel_cmdline ||\n"
"      (p.map_type === 'BUS_ADDR' ? 'nothing to change: already BUS_ADDR' : 'none: no kernel command line makes this pair BUS_ADDR (see the explanation)');\n"
"  }\n"
"  var cells = document.querySelectorAll('td.cell[data-pair]');\n"
"  for (var i = 0; i < cells.length; i++) {\n"
"    cells[i].addEventListener('click', function (ev) { ev.preventDefault(); show(this); });\n"
"  }\n"
"  $('copy').addEventListener('click', function () {\n"
"    var text = $('explain-cmdline').textContent, r = document.createRange(), s = window.getSelection();\n"
"    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text); return; }\n"
"    r.selectNodeContents($('explain-cmdline')); s.removeAllRanges(); s.addRange(r);\n"
"    try { document.execCommand('copy'); } catch (e) { }\n"
"  });\n"
"})();\n"
"</script>\n";

static int text_report(struct page *pg)
{
	char *text = capture(pg->cli, pg->in->text, pg->in->data, true);

	if (!text)
		return -ENOMEM;
	fputs("<section id=\"text\"><h2>The text report</h2>\n<details><summary>What 'p2pdma report' prints: the reasons behind the other pairs, grouped</summary>\n<pre>",
	      pg->f);
	esc(pg, text);
	fputs("</pre></details></section>\n", pg->f);
	free(text);
	return 0;
}

static int write_page(struct page *pg, const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	(void)pg;
	if (!f)
		return cli_error("--html %s: %s", path, strerror(errno));
	if (fwrite(buf, 1, len, f) != len || fclose(f)) {
		int e = errno;

		unlink(path);
		return cli_error("--html %s: %s", path, strerror(e));
	}
	return 0;
}

int cli_html_report(struct cli *cli, const char *path, const struct cli_html_input *in)
{
	struct page pg = { .cli = cli, .in = in };
	char *buf = NULL;
	size_t len = 0;
	int ret = 2;

	pg.f = open_memstream(&buf, &len);
	if (!pg.f || label_devices(&pg) ||
	    p2pdma_islands_compute(cli_router(cli), in->devs, in->n, &pg.islands) ||
	    evaluate(&pg)) {
		cli_error("out of memory");
		goto out;
	}
	head(&pg);
	summary(&pg);
	changes(&pg);
	matrix(&pg);
	if (picture(&pg))
		goto out;
	pair_list(&pg);
	if (text_report(&pg)) {
		cli_error("out of memory");
		goto out;
	}
	data_script(&pg);
	fputs(script, pg.f);
	fputs("</body>\n</html>\n", pg.f);
	ret = 0;
out:
	if (pg.f && fclose(pg.f) && !ret)
		ret = cli_error("out of memory");
	if (!ret)
		ret = write_page(&pg, path, buf, len);
	free(buf);
	free(pg.label);
	free(pg.types);
	free(pg.dists);
	json_decref(pg.pairs);
	p2pdma_islands_destroy(pg.islands);
	return ret;
}
