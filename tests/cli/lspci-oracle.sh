#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# lspci-oracle.sh - real lspci as the oracle for our dump reader and our dump writer
#
# 1. For every tests/fixtures/dumps/*.lspci and tests/fixtures/kernel/*/lspci-xxxx.txt.gz
#    (a glob that matches nothing fails): the parent/child edges of `lspci -F DUMP -t` equal those of
#    `p2pdma --dump DUMP tree --json`, and the IDs/classes of `lspci -F DUMP -n`
#    equal ours.
# 2. For every bundled example: `p2pdma --example NAME export --dump` is read by
#    `lspci -F` without complaint, shows the same functions, and its ACSCtl
#    registers (lspci -vvv) equal the model's ACS Control.
# Exit 0 all agree, 1 a mismatch (the diff is printed), 77 skipped (no lspci).
set -u
. "$(dirname "$0")/lib.sh"  # glob_or_fail; pass/fail are counted here as there

bin=${P2PDMA_BIN:?set P2PDMA_BIN to the p2pdma binary}
src=${P2PDMA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v lspci >/dev/null 2>&1; then
    echo "SKIP: lspci (pciutils) is not installed"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is needed to read lspci's tree"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lspci-oracle.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# lspci -t text -> "parent child" lines, parent "pciDDDD:BB" for root buses.
# Each token's children start at the column where the token after it on
# the same line starts; later lines put siblings at that same column.
tree_edges_lspci() {
    python3 -c '
import re, sys
tok = re.compile(r"\[([0-9a-f]{4,5}):([0-9a-f]{2})\]|([0-9a-f]{2})\.([0-7])(?:-\[([0-9a-f]{2})(?:-[0-9a-f]{2})?\])?")
parent_at = {}          # column -> (parent name, domain, bus of its children)
edges = set()
for line in sys.stdin:
    line = line.rstrip("\n")
    toks = list(tok.finditer(line))
    for i, m in enumerate(toks):
        col = m.start()
        if m.group(1):
            dom, bus = m.group(1), m.group(2)
            me = ("pci%s:%s" % (dom, bus), dom, bus)
        else:
            par = parent_at.get(col)
            if par is None:
                sys.exit("lspci -t: cannot place %r at column %d" % (m.group(0), col))
            name, dom, bus = par
            bdf = "%s:%s:%s.%s" % (dom, bus, m.group(3), m.group(4))
            edges.add("%s %s" % (name, bdf))
            me = (bdf, dom, m.group(5)) if m.group(5) else None
        if me and i + 1 < len(toks):
            parent_at[toks[i + 1].start()] = me
for e in sorted(edges):
    print(e)
'
}

# tree --json -> the same edge list.
tree_edges_ours() {
    python3 -c '
import json, sys
t = json.load(sys.stdin)
out = []
def walk(parent, devs):
    for d in devs:
        out.append("%s %s" % (parent, d["bdf"]))
        walk(d["bdf"], d.get("children", []))
for hb in t["host_bridges"]:
    walk(hb["name"], hb["devices"])
for e in sorted(out):
    print(e)
'
}

# lspci -n -D -> "BDF class vendor:device"; ours from tree --json.
ids_lspci() {
    awk '{ c = $2; sub(":", "", c); print $1, c, $3 }' | sort
}

ids_ours() {
    python3 -c '
import json, sys
t = json.load(sys.stdin)
def walk(devs):
    for d in devs:
        print("%s %s %s:%s" % (d["bdf"], d["class"][2:6], d["vendor"][2:], d["device"][2:]))
        walk(d.get("children", []))
for hb in t["host_bridges"]:
    walk(hb["devices"])
' | sort
}

# lspci -vvv -D -> "BDF ctrl" for each function with an ACS capability.
acs_lspci() {
    python3 -c '
import re, sys
bits = ["SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd", "EgressCtrl", "DirectTrans"]
cur = None
for line in sys.stdin:
    m = re.match(r"^([0-9a-f]{4,5}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ", line)
    if m:
        cur = m.group(1)
        continue
    m = re.match(r"^\s+ACSCtl:\s+(.*)$", line)
    if m and cur:
        v = 0
        for i, b in enumerate(bits):
            if re.search(r"\b%s\+" % b, m.group(1)):
                v |= 1 << i
        print("%s 0x%04x" % (cur, v))
' | sort
}

acs_ours() {
    python3 -c '
import json, sys
t = json.load(sys.stdin)
def walk(devs):
    for d in devs:
        if isinstance(d.get("acs"), dict):
            print("%s %s" % (d["bdf"], d["acs"]["ctrl"]))
        walk(d.get("children", []))
for hb in t["host_bridges"]:
    walk(hb["devices"])
' | sort
}

pass=0
fail=0
skipped=0

# compare WHAT FILE-A FILE-B: print a diff and count a failure if they differ.
compare() {
    if diff -u --label "lspci: $1" --label "p2pdma: $1" "$2" "$3" > "$tmp/diff"; then
        return 0
    fi
    echo "MISMATCH $1"
    cat "$tmp/diff"
    return 1
}

check_dump() {
    local dump=$1 name=${1#"$src"/tests/fixtures/} ok=1
    if ! lspci -F "$dump" -t > "$tmp/lt" 2> "$tmp/lerr"; then
        echo "SKIP  $name: lspci cannot read it: $(grep -v libkmod "$tmp/lerr" | head -1)"
        skipped=$((skipped + 1))
        return
    fi
    if ! "$bin" --dump "$dump" tree --json > "$tmp/ours.json" 2> "$tmp/oerr"; then
        echo "FAIL  $name: p2pdma cannot read it: $(head -1 "$tmp/oerr")"
        fail=$((fail + 1))
        return
    fi
    tree_edges_lspci < "$tmp/lt" > "$tmp/le" || ok=0
    tree_edges_ours < "$tmp/ours.json" > "$tmp/oe" || ok=0
    compare "$name tree edges" "$tmp/le" "$tmp/oe" || ok=0
    lspci -F "$dump" -n -D 2>/dev/null | ids_lspci > "$tmp/li"
    ids_ours < "$tmp/ours.json" > "$tmp/oi"
    # A VF's config space reads ffff:ffff; we name it from its PF (SR-IOV).
    python3 - "$tmp/li" "$tmp/oi" > "$tmp/li2" <<'EOF'
import sys
ours = dict(l.split(" ", 1) for l in open(sys.argv[2]).read().splitlines())
for l in open(sys.argv[1]).read().splitlines():
    bdf, rest = l.split(" ", 1)
    if rest.endswith("ffff:ffff") and bdf in ours:
        rest = ours[bdf]
    print(bdf, rest)
EOF
    compare "$name IDs" "$tmp/li2" "$tmp/oi" || ok=0
    if [ $ok = 1 ]; then
        echo "ok    $name: $(wc -l < "$tmp/le") edges, $(wc -l < "$tmp/li") functions"
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
    fi
}

glob_or_fail dumps "$src/tests/fixtures/dumps/*.lspci"
for dump in "${dumps[@]}"; do
    check_dump "$dump"
done
# The real-kernel captures (QEMU guests, lspci -xxxx as root), gzipped.
glob_or_fail kernels "$src/tests/fixtures/kernel/*/lspci-xxxx.txt.gz"
for gz in "${kernels[@]}"; do
    name=$(basename "$(dirname "$gz")")
    mkdir -p "$tmp/kernel/$name"
    gzip -dc "$gz" > "$tmp/kernel/$name/lspci-xxxx.txt"
    check_dump "$tmp/kernel/$name/lspci-xxxx.txt"
done

# Our writer, read by the real reader.
glob_or_fail machines "$src/examples/machines/*.json"
for json in "${machines[@]}"; do
    ex=$(basename "$json" .json)
    ok=1
    if ! "$bin" --example "$ex" export --dump > "$tmp/x.lspci" 2> "$tmp/oerr"; then
        echo "FAIL  export $ex: $(head -1 "$tmp/oerr")"
        fail=$((fail + 1))
        continue
    fi
    if ! lspci -F "$tmp/x.lspci" -vvv -D > "$tmp/lv" 2> "$tmp/lerr" ||
       grep -v libkmod "$tmp/lerr" | grep -q .; then
        echo "FAIL  export $ex: lspci -F complains: $(grep -v libkmod "$tmp/lerr" | head -1)"
        fail=$((fail + 1))
        continue
    fi
    "$bin" --example "$ex" tree --json > "$tmp/ours.json"
    acs_lspci < "$tmp/lv" > "$tmp/la"
    acs_ours < "$tmp/ours.json" > "$tmp/oa"
    compare "export $ex ACSCtl" "$tmp/la" "$tmp/oa" || ok=0
    lspci -F "$tmp/x.lspci" -n -D 2>/dev/null | ids_lspci > "$tmp/li"
    ids_ours < "$tmp/ours.json" > "$tmp/oi"
    compare "export $ex IDs" "$tmp/li" "$tmp/oi" || ok=0
    lspci -F "$tmp/x.lspci" -t > "$tmp/lt" 2>/dev/null
    tree_edges_lspci < "$tmp/lt" > "$tmp/le" || ok=0
    tree_edges_ours < "$tmp/ours.json" > "$tmp/oe"
    compare "export $ex tree edges" "$tmp/le" "$tmp/oe" || ok=0
    if [ $ok = 1 ]; then
        echo "ok    export $ex: $(wc -l < "$tmp/li") functions, $(wc -l < "$tmp/la") ACS registers"
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
    fi
done

echo "lspci oracle: $pass agree, $fail differ, $skipped skipped"
[ $fail -eq 0 ] || exit 1
[ $pass -gt 0 ] || { echo "nothing was compared"; exit 77; }
exit 0
