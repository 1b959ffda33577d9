#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# golden.sh - the CLI's output for every bundled example and fixture machine
# must match tests/fixtures/golden/. P2PDMA_UPDATE_GOLDEN=1 rewrites them
# (review the diff before committing).
. "$(dirname "$0")/lib.sh"
gold=$FIX/golden
update=${P2PDMA_UPDATE_GOLDEN:-0}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# machine name -> source options
declare -A src
examples=$("$BIN" examples | awk '{print $1}')
[ -n "$examples" ] || bad "p2pdma examples lists no example"
for e in $examples; do src[$e]="--example $e"; done
glob_or_fail dumps "$FIX/dumps/*.lspci"
for d in "${dumps[@]}"; do src[dump-$(basename "$d" .lspci)]="--dump $d"; done
# The real-kernel captures (conformance/run.sh: lspci -xxxx in the QEMU
# guest, gzipped), read as the kernel-replay test reads them: the captured
# CPU, the 6.12 profile, and no what-if command line (the registers already
# hold what the guest's command line did).
glob_or_fail kernels "$FIX/kernel/*/lspci-xxxx.txt.gz"
for gz in "${kernels[@]}"; do
	k=$(basename "$(dirname "$gz")")
	mkdir -p "$tmp/kernel/$k"
	if ! gzip -dc "$gz" >"$tmp/kernel/$k/lspci-xxxx.txt"; then
		bad "kernel-$k: cannot decompress $gz"; continue
	fi
	src[kernel-$k]="--dump $tmp/kernel/$k/lspci-xxxx.txt --cpu $(cat "$(dirname "$gz")/cpu") --cmdline="
done
for m in $(printf '%s\n' "${!src[@]}" | sort); do
	mkdir -p "$tmp/out/$m"
	# shellcheck disable=SC2086
	for cmd in "tree" "tree --json" "matrix --json" "report" "report --json"; do
		f=$tmp/out/$m/$(tr ' ' '_' <<<"$cmd" | tr -d -).txt
		# Fixture paths differ between checkouts: print them relative.
		# The kernel dumps are read from $tmp: print them as kernel/NAME/...
		$BIN --no-names --kernel 6.12 ${src[$m]} $cmd 2>&1 | sed "s|$SRC/||g; s|$tmp/||g" >"$f"
		echo "exit ${PIPESTATUS[0]}" >>"$f"
		g=$gold/$m/$(basename "$f")
		if [ "$update" = 1 ]; then
			mkdir -p "$gold/$m"; cp "$f" "$g"; ok; continue
		fi
		if [ ! -f "$g" ]; then
			bad "$m: $cmd: no golden file $g (P2PDMA_UPDATE_GOLDEN=1 makes it)"
		elif diff -u "$g" "$f" >"$tmp/diff"; then
			ok
		else
			bad "$m: $cmd differs from $g:"; head -40 "$tmp/diff"
		fi
	done
done
finish
