#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pictures.sh - topo, graph and report --html as a person uses them:
#   - bad input: a clear one-line error, exit 2, nothing on stdout;
#   - the graph of every fixture machine is well-formed SVG;
#   - islands and blocking ports are drawn where the kernel puts them, on a
#     bundled example (against 'tree --json') and on a captured machine
#     (against the real kernel's verdicts);
#   - topo's matrix (golden file, P2PDMA_UPDATE_GOLDEN=1 rewrites it) and
#     its JSON;
#   - the HTML page is self-contained and escapes what a topology holds.
# The page in a real browser is tests/cli/html-browser.sh.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PY=${PYTHON:-python3}

# expect STDERR-SUBSTRING ARGS...
expect() {
	local want=$1; shift
	local out err rc
	out=$("$BIN" "$@" 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
	if [ $rc != 2 ]; then bad "exit $rc (want 2): $*  stderr: $err"; return; fi
	if [ -n "$out" ]; then bad "stdout not empty: $*"; return; fi
	if ! grep -qF -- "$want" <<<"$err"; then bad "stderr lacks '$want': $*  stderr: $err"; return; fi
	if [ "$(wc -l <<<"$err")" != 1 ]; then bad "not one line on stderr: $*  stderr: $err"; return; fi
	ok
}

printf '{"p2pdma_topology": 1, "devices": []}' >"$tmp/empty.json"
X=(--example xeon-8gpu)
expect "77:00.0: no such PCI function" "${X[@]}" graph --provider 77:00.0
expect "-o /nonexistent/x.svg: No such file or directory" "${X[@]}" graph -o /nonexistent/x.svg
expect "--html /proc/x:" "${X[@]}" report --html /proc/x
expect "--format 'bogus': want dot, svg or png" "${X[@]}" graph --format bogus
expect "no PCI function" --topology "$tmp/empty.json" graph
expect "no PCI function" --topology "$tmp/empty.json" topo
expect "no PCI function" --topology "$tmp/empty.json" report --html "$tmp/e.html"
expect "--class 'frob'" "${X[@]}" graph --class frob
expect "--vendor 'nvidia'" "${X[@]}" graph --vendor nvidia
expect "no function matches --vendor 1234" "${X[@]}" graph --vendor 1234
expect "--html and --json" "${X[@]}" report --json --html "$tmp/r.html"
expect "unexpected argument 'x'" "${X[@]}" topo x
[ ! -e "$tmp/e.html" ] && [ ! -e "$tmp/r.html" ] && ok || bad "a failed run left a file"

# --help teaches each command (no topology needed).
for c in topo graph report; do
	"$BIN" "$c" --help >"$tmp/help" 2>&1
	if grep -q "Usage: p2pdma .*$c" "$tmp/help" && [ "$(wc -l <"$tmp/help")" -gt 10 ]; then ok; else bad "$c --help"; fi
done

# Every fixture machine draws as well-formed SVG.
svg_ok() { "$PY" -c 'import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
assert r.tag == "{http://www.w3.org/2000/svg}svg", r.tag' "$1"; }
n=0
for e in $("$BIN" examples | awk '{print $1}'); do
	if "$BIN" --example "$e" graph -o "$tmp/g.svg" && svg_ok "$tmp/g.svg"; then ok; else bad "graph of $e"; fi
	n=$((n + 1))
done
for d in "$FIX"/dumps/*.lspci; do
	[ -e "$d" ] || continue
	if "$BIN" --dump "$d" graph -o "$tmp/g.svg" && svg_ok "$tmp/g.svg"; then ok; else bad "graph of $d"; fi
	n=$((n + 1))
done
k=0
for z in "$FIX"/kernel/*/lspci-xxxx.txt.gz; do
	[ -e "$z" ] || continue
	gzip -dc "$z" >"$tmp/l.txt"
	if "$BIN" --dump "$tmp/l.txt" graph -o "$tmp/g.svg" && svg_ok "$tmp/g.svg"; then ok; else bad "graph of $z"; fi
	k=$((k + 1))
done
# The globs must have matched: 4 examples, the dumps, 50 captured machines.
[ "$n" -ge 8 ] && [ "$k" -ge 50 ] && ok || bad "only $n example/dump and $k kernel fixtures drawn"

# Which drawn nodes carry which class: "title island-N|- acs-block|-" lines.
marks() { "$PY" -c 'import sys, re, xml.etree.ElementTree as E
ns = "{http://www.w3.org/2000/svg}"
for g in E.parse(sys.argv[1]).getroot().iter(ns + "g"):
    c = (g.get("class") or "").split()
    if "function" not in c: continue
    isl = [x for x in c if re.fullmatch(r"island-\d+", x)]
    print(g.find(ns + "title").text, isl[0] if isl else "-", "acs-block" if "acs-block" in c else "-")' "$1" | sort; }

# xeon-8gpu: the switch booted with disable_acs_redir is the one island;
# the blocking ports are the ones whose ACS Control has redirect bits.
"$BIN" "${X[@]}" graph --expand -o "$tmp/x.svg"
marks "$tmp/x.svg" >"$tmp/x.marks"
want=$(printf '0000:aa:00.0\n0000:ab:00.0\n0000:ac:00.0\n0000:ad:00.0')
got=$(awk '$2 == "island-1" {print $1}' "$tmp/x.marks")
[ "$got" = "$want" ] && ok || bad "xeon-8gpu island-1: $got"
[ "$(awk '$2 != "-" && $2 != "island-1"' "$tmp/x.marks")" = "" ] && ok || bad "xeon-8gpu: other islands"
"$BIN" "${X[@]}" tree --json | "$PY" -c 'import json, sys
def walk(ds):
    for d in ds:
        if isinstance(d.get("acs"), dict) and d["acs"].get("redirect"): print(d["bdf"])
        walk(d.get("children", []))
for h in json.load(sys.stdin)["host_bridges"]: walk(h["devices"])' | sort >"$tmp/x.redirect"
awk '$3 == "acs-block" {print $1}' "$tmp/x.marks" >"$tmp/x.block"
[ "$(wc -l <"$tmp/x.block")" = 16 ] && cmp -s "$tmp/x.block" "$tmp/x.redirect" && ok ||
	bad "xeon-8gpu blocking ports: $(tr '\n' ' ' <"$tmp/x.block") vs tree: $(tr '\n' ' ' <"$tmp/x.redirect")"
# Collapsed by default: 3 identical host bridges drawn once, marked x3.
"$BIN" "${X[@]}" graph -o "$tmp/c.svg"
grep -q '×3' "$tmp/c.svg" && [ "$(grep -c '<g id="dev_' "$tmp/c.svg")" = 19 ] &&
	[ "$(grep -c '<g id="dev_' "$tmp/x.svg")" = 46 ] &&
	ok || bad "xeon-8gpu: identical subtrees not collapsed"
# --provider: every other function coloured by its verdict.
"$BIN" "${X[@]}" graph --expand --provider aa:00.0 -o "$tmp/p.svg"
"$PY" -c 'import sys, xml.etree.ElementTree as E
ns = "{http://www.w3.org/2000/svg}"
v = {}
for g in E.parse(sys.argv[1]).getroot().iter(ns + "g"):
    c = (g.get("class") or "").split()
    if "function" in c: v[g.find(ns + "title").text] = [x for x in c if x.startswith("verdict-") or x == "provider"]
assert v["0000:aa:00.0"] == ["provider"], v["0000:aa:00.0"]
assert v["0000:ad:00.0"] == ["verdict-bus_addr"], v["0000:ad:00.0"]
assert v["0000:18:00.0"] == ["verdict-thru_host_bridge"], v["0000:18:00.0"]
assert all(len(x) == 1 for x in v.values())' "$tmp/p.svg" && ok || bad "xeon-8gpu --provider colours"
# --class keeps the GPUs and the bridges above them.
"$BIN" "${X[@]}" graph --expand --class gpu --format dot -o "$tmp/gpu.dot"
[ "$(grep -c 'Endpoint' "$tmp/gpu.dot")" = 8 ] && ! grep -q 'Samsung\|Mellanox' "$tmp/gpu.dot" && ok ||
	bad "--class gpu kept other endpoints"

# The DOT output is the graph before layout: Graphviz's own dot lays it out.
if command -v dot >/dev/null; then
	"$BIN" "${X[@]}" graph --format dot -o "$tmp/x.dot" && dot -Tsvg "$tmp/x.dot" -o "$tmp/dot.svg" &&
		svg_ok "$tmp/dot.svg" && [ "$(grep -c 'class="node function' "$tmp/dot.svg")" = 19 ] &&
		ok || bad "graph --format dot does not lay out with dot"
else
	bad "no dot (Debian package graphviz, scripts/install-deps.sh test)"
fi
# PNG renders (Graphviz's cairo plugin).
"$BIN" "${X[@]}" graph --format png -o "$tmp/x.png" && [ "$(head -c 8 "$tmp/x.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] &&
	ok || bad "graph --format png"

# A captured machine: islands and blocking ports against the real kernel.
kf=$FIX/kernel/mixed-qemu64-iommu
gzip -dc "$kf/lspci-xxxx.txt.gz" >"$tmp/m.txt"
"$BIN" --dump "$tmp/m.txt" graph --expand -o "$tmp/m.svg"
marks "$tmp/m.svg" >"$tmp/m.marks"
"$PY" - "$kf/verdicts.txt" "$tmp/m.marks" <<'EOF' && ok || bad "mixed-qemu64-iommu: islands or blocking ports differ from the kernel's"
import sys
dev, bus = {}, {}
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] == "DEV":
        dev[f[1]] = int(f[4], 16)
    elif f and f[0] == "VERDICT" and f[1] != f[2] and f[4] == "BUS_ADDR":
        bus.setdefault(f[1], set()).add(f[2])
marks = {l.split()[0]: l.split()[1:] for l in open(sys.argv[2])}
# Islands: the components of the kernel's BUS_ADDR relation.
parent = {d: d for d in marks}
def find(d):
    while parent[d] != d: d = parent[d]
    return d
for a, bs in bus.items():
    for b in bs:
        if a in marks and b in marks: parent[find(a)] = find(b)
comp = {}
for d in marks: comp.setdefault(find(d), set()).add(d)
want = sorted(sorted(c) for c in comp.values() if len(c) > 1)
drawn = {}
for d, (isl, _) in marks.items():
    if isl != "-": drawn.setdefault(isl, set()).add(d)
got = sorted(sorted(c) for c in drawn.values())
assert want and got == want, (got, want)
# Blocking ports: ACS Control with RR, CR or EC, as the kernel read it.
blocking = sorted(d for d, ctrl in dev.items() if ctrl & 0x2c)
assert blocking and sorted(d for d, m in marks.items() if m[1] == "acs-block") == blocking
EOF

# topo: the nvidia-smi layout with verdicts (golden), and its JSON.
gold=$FIX/golden/xeon-8gpu/topo.txt
"$BIN" --no-names "${X[@]}" topo >"$tmp/topo.txt"
if [ "${P2PDMA_UPDATE_GOLDEN:-0}" = 1 ]; then cp "$tmp/topo.txt" "$gold"; ok
elif diff -u "$gold" "$tmp/topo.txt" >"$tmp/diff"; then ok
else bad "topo differs from $gold:"; head -30 "$tmp/diff"; fi
"$BIN" "${X[@]}" topo --json | "$PY" -c 'import json, sys
j = json.load(sys.stdin)
assert [d["label"] for d in j["devices"]][:3] == ["GPU0", "GPU1", "GPU2"]
assert len(j["devices"]) == 16 and len(j["pairs"]) == 16 * 15
p = {(x["row"], x["column"]): x for x in j["pairs"]}
a = p[("GPU0", "GPU1")]
assert (a["path"], a["map_type"], a["nccl_mismatch"]) == ("PIX", "THRU_HOST_BRIDGE", True), a
a = p[("GPU6", "GPU7")]
assert (a["path"], a["map_type"], a["nccl_mismatch"]) == ("PIX", "BUS_ADDR", False), a
assert p[("GPU0", "GPU4")]["path"] == "SYS" and p[("GPU0", "GPU2")]["path"] == "NODE"
assert not p[("NVMe0", "GPU0")]["nccl_direct"]
assert j["nccl"]["p2p_level"] == "PXB" and j["devices"][0]["numa_node"] == 0' && ok || bad "topo --json"
# Clearing the redirect bits below the first switch removes its marks.
"$BIN" "${X[@]}" --acs-clear 0000:17:00.0 --acs-clear 0000:17:01.0 --acs-clear 0000:15:01.0 topo >"$tmp/t2"
[ "$(awk '$1 == "GPU0" && $2 == "X" {print $3, $4; exit}' "$tmp/t2")" = "PIX BUS:4" ] && ok || bad "topo after --acs-clear"

# The page: self-contained, escaped, the data it promises.
"$BIN" "${X[@]}" report --html "$tmp/r.html" && ok || bad "report --html"
! grep -qiE '(src|href)="(https?:)?//|@import|url\(' "$tmp/r.html" && ok || bad "the page refers to something outside itself"
[ "$(grep -o '<td class="cell ' "$tmp/r.html" | wc -l)" = 240 ] &&
	[ "$(grep -o '<details id="pair-' "$tmp/r.html" | wc -l)" = 240 ] &&
	ok || bad "the page lacks cells or explanations"
# A topology whose names hold markup: drivers, and the file's own name.
"$BIN" "${X[@]}" export --json | "$PY" -c 'import json, sys
j = json.load(sys.stdin)
for d in j["devices"]:
    if d.get("driver") == "nvidia": d["driver"] = "<script>alert(\"x\")</script>&<b>"
json.dump(j, sys.stdout)' >"$tmp/evil<i>.json"
"$BIN" --topology "$tmp/evil<i>.json" report --html "$tmp/evil.html" && ok || bad "report --html of a hostile topology"
[ "$(grep -c '<script' "$tmp/evil.html")" = 2 ] && ! grep -q 'alert("x")\|<b>\|<i>' "$tmp/evil.html" && ok ||
	bad "markup from the topology reached the page unescaped"
"$BIN" --topology "$tmp/evil<i>.json" graph -o "$tmp/evil.svg" && svg_ok "$tmp/evil.svg" && ok || bad "hostile names break the SVG"
finish
