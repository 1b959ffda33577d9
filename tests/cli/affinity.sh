#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# affinity.sh - the CPU Affinity column of `p2pdma topo` against its oracles:
#  - every sysfs capture: each function's local_cpulist file, as written by
#    the kernel that booted it;
#  - every hwloc XML that hwloc's own hwloc-calc can read (formats 1 and 2):
#    the OS indexes of the PUs near each PCI function
#    (hwloc-calc --po -I pu pci=BDF), as a CPU list.
. "$(dirname "$0")/lib.sh"
command -v hwloc-calc >/dev/null || { bad "hwloc-calc missing (Debian package hwloc)"; finish; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "0,1,2,3,8" -> "0-3,8"
ranges() {
	python3 -c '
import sys
v = sorted(int(x) for x in sys.argv[1].split(",") if x)
out, i = [], 0
while i < len(v):
    j = i
    while j + 1 < len(v) and v[j + 1] == v[j] + 1:
        j += 1
    out.append(str(v[i]) if i == j else "%d-%d" % (v[i], v[j]))
    i = j + 1
print(",".join(out))' "$1"
}

# topo --json -> "BDF CPULIST" lines ("-" for unknown)
affinity() {
	python3 -c '
import json, sys
for d in json.load(sys.stdin)["devices"]:
    print(d["bdf"], d["cpu_affinity"] or "-")'
}

captures=0 funcs=0
glob_or_fail tars "$FIX/kernel/*/sysfs.tar.gz"
for t in "${tars[@]}"; do
	name=$(basename "$(dirname "$t")")
	if ! "$BIN" --no-names --sysfs "$t" topo --json 2>"$tmp/err" | affinity >"$tmp/got"; then
		bad "$name: topo --json failed: $(head -2 "$tmp/err")"; continue
	fi
	# The kernel's own files, read from the tarball by python's tarfile.
	python3 - "$t" >"$tmp/want" <<'PY' || { bad "$name: cannot read $t"; continue; }
import re, sys, tarfile
with tarfile.open(sys.argv[1]) as tf:
    for m in tf.getmembers():
        g = re.search(r"/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])/local_cpulist$", m.name)
        if g and m.isfile():
            print(g.group(1), tf.extractfile(m).read().decode().strip())
PY
	[ -s "$tmp/got" ] || { bad "$name: topo lists no device"; continue; }
	while read -r bdf cpus; do
		want=$(awk -v b="$bdf" '$1 == b {print $2}' "$tmp/want")
		if [ -n "$want" ] && [ "$cpus" = "$want" ]; then ok
		else bad "$name: $bdf: topo says '$cpus', local_cpulist '${want:-(none)}'"; fi
		funcs=$((funcs + 1))
	done <"$tmp/got"
	captures=$((captures + 1))
done

xmls=0 hfuncs=0 multi=0
glob_or_fail files "$FIX/hwloc/*.v[12].xml.gz" || true
glob_or_fail up "$FIX/hwloc/upstream/*.v2.xml.gz" || true
for f in "${files[@]}" "${up[@]}"; do
	name=$(basename "$f")
	gzip -dc "$f" >"$tmp/x.xml" || { bad "$name: gunzip failed"; continue; }
	if ! "$BIN" --no-names --hwloc "$tmp/x.xml" topo --json 2>"$tmp/err" | affinity >"$tmp/got"; then
		bad "$name: topo --json failed: $(head -2 "$tmp/err")"; continue
	fi
	while read -r bdf cpus; do
		pus=$(hwloc-calc -i "$tmp/x.xml" --po -I pu "pci=$bdf" 2>"$tmp/err") ||
			{ bad "$name: hwloc-calc pci=$bdf failed: $(head -1 "$tmp/err")"; continue; }
		want=$(ranges "$pus")
		if [ "$cpus" = "$want" ]; then ok
		else bad "$name: $bdf: topo says '$cpus', hwloc-calc '$want'"; fi
		case $cpus in *[-,]*) multi=$((multi + 1));; esac
		hfuncs=$((hfuncs + 1))
	done <"$tmp/got"
	xmls=$((xmls + 1))
done
# Some function must sit near more than one CPU, or the lists prove little.
[ "$multi" -gt 0 ] && ok || bad "no hwloc fixture gave a function more than one CPU"
[ "$captures" -ge 100 ] && ok || bad "only $captures captures"
echo "affinity.sh: $captures captures ($funcs functions) against local_cpulist, $xmls hwloc XML files ($hfuncs functions, $multi near several CPUs) against hwloc-calc"
finish
