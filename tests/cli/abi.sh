#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# abi.sh - the exported symbols of libp2pdma.so and the public headers agree,
# and every public function has a kernel-doc comment naming it.
. "$(dirname "$0")/lib.sh"
so=${P2PDMA_BUILDDIR:-$SRC/build}/lib/libp2pdma.so
[ -e "$so" ] || { skipped "no $so"; finish; }

glob_or_fail headers "$SRC/include/p2pdma/*.h"
# Function declarations in the public headers (comments stripped).
declared=$(cat /dev/null "${headers[@]}" | sed 's|/\*.*\*/||g' |
	awk '/\/\*/{c=1} !c{print} /\*\//{c=0}' |
	grep -oE '\bp2pdma_[a-z0-9_]+\(' | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u)

for s in $declared; do
	if grep -qx "$s" <<<"$exported"; then ok; else bad "$s is declared in include/p2pdma but not exported"; fi
done
for s in $exported; do
	grep -qx "$s" <<<"$declared" || bad "$s is exported but not declared in a public header"
done
# Everything exported carries the version node.
if objdump -T "$so" | awk '$NF ~ /^p2pdma_/' | grep -qv LIBP2PDMA_0; then
	bad "exported symbols without the LIBP2PDMA_0 version"
else
	ok
fi
# kernel-doc: "/**" ... " * name() - summary" before each declaration.
for s in $declared; do
	if grep -qE "^ \* $s\(\) - " "${headers[@]}"; then ok; else bad "$s has no kernel-doc comment"; fi
done
finish
