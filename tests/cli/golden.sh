#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# golden.sh - the CLI's output for every bundled example and fixture machine
# must match tests/fixtures/golden/. P2PDMA_UPDATE_GOLDEN=1 rewrites them
# (review the diff before committing).
. "$(dirname "$0")/lib.sh"
gold=$FIX/golden
update=${P2PDMA_UPDATE_GOLDEN:-0}

# machine name -> source options
declare -A src
for e in $("$BIN" examples | awk '{print $1}'); do src[$e]="--example $e"; done
for d in "$FIX"/dumps/*.lspci; do src[dump-$(basename "$d" .lspci)]="--dump $d"; done
for k in "$FIX"/kernel/*/lspci.txt; do
	[ -e "$k" ] || continue
	src[kernel-$(basename "$(dirname "$k")")]="--dump $k"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in $(printf '%s\n' "${!src[@]}" | sort); do
	mkdir -p "$tmp/$m"
	# shellcheck disable=SC2086
	for cmd in "tree" "tree --json" "matrix --json" "report" "report --json"; do
		f=$tmp/$m/$(tr ' ' '_' <<<"$cmd" | tr -d -).txt
		# Fixture paths differ between checkouts: print them relative.
		$BIN --no-names --kernel 6.12 ${src[$m]} $cmd 2>&1 | sed "s|$SRC/||g" >"$f"
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
