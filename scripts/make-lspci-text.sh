#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make-lspci-text.sh - regenerate tests/fixtures/lspci-text/ with the real lspci.
#
# For every captured machine (tests/fixtures/kernel/*/lspci-xxxx.txt.gz and
# the bundled dumps tests/fixtures/dumps/*.lspci) lspci reads the dump back
# (-F) and prints each text form people paste; the output is stored gzipped
# as tests/fixtures/lspci-text/MACHINE/lspci-FORM.txt.gz. The names in the
# text come from the pci.ids lspci uses here; VERSIONS records which.
# Usage: scripts/make-lspci-text.sh   (needs pciutils and pci.ids)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$src/tests/fixtures/lspci-text
forms="vvv vvvnn vvvnnD vv v n tv tvnn t"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() {
	local name=$1 dump=$2 f
	mkdir -p "$out/$name"
	for f in $forms; do
		# lspci -vvv asks libkmod for modules and complains on stderr: not output.
		lspci -F "$dump" "-$f" 2>/dev/null | gzip -9n >"$out/$name/lspci-$f.txt.gz"
	done
}

rm -rf "$out"
mkdir -p "$out"
n=0
for d in "$src"/tests/fixtures/kernel/*/; do
	[ -f "$d/lspci-xxxx.txt.gz" ] || continue
	gzip -dc "$d/lspci-xxxx.txt.gz" >"$tmp/dump"
	gen "$(basename "$d")" "$tmp/dump"
	n=$((n + 1))
done
for d in "$src"/tests/fixtures/dumps/*.lspci; do
	gen "$(basename "$d" .lspci)" "$d"
	n=$((n + 1))
done
ids=$(sed -n 's/^#[[:space:]]*Version:[[:space:]]*//p' /usr/share/misc/pci.ids 2>/dev/null | head -1)
{
	echo "$(lspci --version)"
	echo "pci.ids ${ids:-unknown}"
	echo "forms: $forms"
	echo "machines: $n"
} >"$out/VERSIONS"
echo "make-lspci-text: $n machines x $(wc -w <<<"$forms") forms -> $out" >&2
