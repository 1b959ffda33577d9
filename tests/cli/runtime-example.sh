#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# runtime-example.sh - examples/p2p-query.c, the program a runtime writes,
# built against the INSTALLED library through its pkg-config file, run on
# the captured machine of every real-kernel fixture: each answer (map type,
# pci_p2pdma_distance()) must be the kernel's own (verdicts.txt).
. "$(dirname "$0")/lib.sh"
build=${P2PDMA_BUILDDIR:-$SRC/build}
command -v pkg-config >/dev/null || { bad "pkg-config missing"; finish; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! meson install -C "$build" --destdir "$tmp/dest" --no-rebuild >"$tmp/install.log" 2>&1; then
	bad "meson install failed: $(tail -3 "$tmp/install.log")"; finish
fi
pc=$(find "$tmp/dest" -name libp2pdma.pc | head -1)
[ -n "$pc" ] || { bad "no libp2pdma.pc installed"; finish; }
export PKG_CONFIG_PATH=$(dirname "$pc")
# The install went below a destdir: relocate its prefix.
prefix=$tmp/dest$(pkg-config --variable=prefix libp2pdma)
flags=$(pkg-config --define-variable=prefix="$prefix" --cflags --libs libp2pdma) ||
	{ bad "pkg-config libp2pdma failed"; finish; }
libdir=$(pkg-config --define-variable=prefix="$prefix" --variable=libdir libp2pdma)
if ${CC:-cc} -std=c11 -Wall -Werror -o "$tmp/p2p-query" "$SRC/examples/p2p-query.c" $flags 2>"$tmp/cc.log"; then
	ok
else
	bad "the example does not build against the installed library: $(head -5 "$tmp/cc.log")"; finish
fi

scenarios=0 test_rows=0
for dir in "$FIX"/kernel/*/; do
	[ -f "$dir/sysfs.tar.gz" ] || continue
	name=$(basename "$dir")
	# Kernels booted with the conformance patch's test-only allow-list rows
	# (p2pdma_test_allow=) answer as no production kernel does; the library
	# reproduces them only when told the rows (--allow, kernel-replay.sh).
	if grep -q 'p2pdma_test_allow=' "$dir/cmdline"; then
		test_rows=$((test_rows + 1)); continue
	fi
	root=$tmp/root-$name
	mkdir -p "$root/proc/sys/kernel"
	tar -xzf "$dir/sysfs.tar.gz" -C "$root" && mv "$root/sysfs" "$root/sys"
	cp "$dir/cpuinfo" "$root/proc/cpuinfo"
	cp "$dir/cmdline" "$root/proc/cmdline"
	cp "$dir/uname" "$root/proc/sys/kernel/osrelease"
	# The kernel's answers, per provider.
	for p in $(awk '$1 == "VERDICT" {print $2}' "$dir/verdicts.txt" | sort -u); do
		clients=$(awk -v p="$p" '$1 == "VERDICT" && $2 == p {print $3}' "$dir/verdicts.txt")
		# shellcheck disable=SC2086
		LD_LIBRARY_PATH=$libdir "$tmp/p2p-query" -r "$root" "$p" $clients >"$tmp/out" 2>"$tmp/err" ||
			{ bad "$name: p2p-query failed: $(head -2 "$tmp/err")"; continue; }
		# One awk per provider joins the kernel's lines with the example's
		# answers ("VERDICT prov client _ name _ dist" / "client _ _ name
		# dist"); the loop only counts.
		while read -r verdict why; do
			if [ "$verdict" = OK ]; then ok; else bad "$name: $why"; fi
		done < <(awk -v p="$p" 'NR == FNR { got[$1] = $4 " " $5; next }
			$1 == "VERDICT" && $2 == p {
				want = $5 " " $7
				if (($3 in got) && got[$3] == want) print "OK"
				else print "BAD", $3 " -> " p ": kernel " want ", example '"'"'" got[$3] "'"'"'"
			}' "$tmp/out" "$dir/verdicts.txt")
	done
	scenarios=$((scenarios + 1))
	rm -rf "$root"
done
# A glob that matched nothing must fail.
[ "$scenarios" -ge 50 ] && ok || bad "only $scenarios kernel fixtures found"
echo "runtime-example.sh: $scenarios captured machines ($test_rows with test-only allow-list rows left to kernel-replay.sh)"
finish
