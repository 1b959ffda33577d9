#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# abi.sh - the ABI rules of doc/abi.md, checked on the built library:
#   - the exported symbols, the public headers and lib/libp2pdma.map agree;
#   - every exported symbol carries a version node LIBP2PDMA_x.y not newer
#     than the Meson project version, and the newest node is that version;
#   - every public function has a kernel-doc comment naming it;
#   - no public struct a caller fills or reads is big: results that grow
#     are opaque with accessors (struct p2pdma_verdict...), views are
#     size-versioned (the caller passes sizeof), and none holds more than
#     1 KiB (no multi-kilobyte fixed arrays whose stride would change);
#   - size-versioned structs start with or are filled through a size.
. "$(dirname "$0")/lib.sh"
so=${P2PDMA_BUILDDIR:-$SRC/build}/lib/libp2pdma.so
map=$SRC/lib/libp2pdma.map
[ -e "$so" ] || { bad "no $so: build first"; finish; }

glob_or_fail headers "$SRC/include/p2pdma/*.h"
# Function declarations in the public headers (comments stripped).
declared=$(cat /dev/null "${headers[@]}" | sed 's|/\*.*\*/||g' |
	awk '/\/\*/{c=1} !c{print} /\*\//{c=0}' |
	grep -oE '\bp2pdma_[a-z0-9_]+\(' | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u)
mapped=$(grep -oE '^\s+p2pdma_[a-z0-9_]+;' "$map" | tr -d ' \t;' | sort)

[ -n "$declared" ] && [ -n "$exported" ] && [ -n "$mapped" ] || bad "nothing found (declared/exported/mapped empty)"
for s in $declared; do
	if grep -qx "$s" <<<"$exported"; then ok; else bad "$s is declared in include/p2pdma but not exported"; fi
done
for s in $exported; do
	grep -qx "$s" <<<"$declared" || bad "$s is exported but not declared in a public header"
	grep -qx "$s" <<<"$mapped" || bad "$s is exported but not listed in lib/libp2pdma.map"
done
dups=$(uniq -d <<<"$mapped")
[ -z "$dups" ] && ok || bad "listed twice in lib/libp2pdma.map: $dups"
for s in $mapped; do
	grep -qx "$s" <<<"$exported" || bad "$s is listed in lib/libp2pdma.map but not exported"
done

# Version nodes: every symbol versioned, no node newer than the project.
version=$(sed -nE "s/^\s*version\s*:\s*'([0-9]+)\.([0-9]+)\.[0-9]+'.*/\1.\2/p" "$SRC/meson.build" | head -1)
[ -n "$version" ] || bad "no project version in meson.build"
nodes=$(objdump -T "$so" | awk '$NF ~ /^p2pdma_/ {print $(NF-1)}' | sort -u)
newest=""
for n in $nodes; do
	case "$n" in
	LIBP2PDMA_[0-9]*.[0-9]*)
		v=${n#LIBP2PDMA_}
		if [ "$(printf '%s\n%s\n' "$v" "$version" | sort -V | tail -1)" != "$version" ]; then
			bad "node $n is newer than the project version $version"
		else
			ok
		fi
		[ -z "$newest" ] || [ "$(printf '%s\n%s\n' "$v" "$newest" | sort -V | tail -1)" = "$v" ] && newest=$v
		;;
	*) bad "exported symbols carry version node '$n', not LIBP2PDMA_x.y" ;;
	esac
done
[ "$newest" = "$version" ] && ok || bad "the newest version node is $newest, the project version $version"

# kernel-doc: "/**" ... " * name() - summary" before each declaration.
for s in $declared; do
	if grep -qE "^ \* $s\(\) - " "${headers[@]}"; then ok; else bad "$s has no kernel-doc comment"; fi
done

# Public structs with a body: their sizes, from a program built on the headers.
structs=$(cat "$SRC"/include/p2pdma/*.h | grep -oE '^struct p2pdma_[a-z0-9_]+ \{' | awk '{print $2}' | sort -u)
[ -n "$structs" ] || bad "no public struct found"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
	echo '#include <stdio.h>'
	echo '#include <p2pdma/p2pdma.h>'
	echo 'int main(void) {'
	for s in $structs; do echo "	printf(\"$s %zu\\n\", sizeof(struct $s));"; done
	echo '	return 0; }'
} >"$tmp/sizes.c"
if ${CC:-cc} -I"$SRC/include" -o "$tmp/sizes" "$tmp/sizes.c" 2>"$tmp/err"; then
	while read -r name size; do
		if [ "$size" -le 1024 ]; then ok; else bad "struct $name is $size bytes: make it opaque with accessors (doc/abi.md)"; fi
	done < <("$tmp/sizes")
else
	bad "the public headers do not compile on their own: $(head -3 "$tmp/err")"
fi
# Views the library fills must be size-versioned: a size argument or field.
for s in $structs; do
	case "$s" in
	p2pdma_dev_info|p2pdma_query)
		if grep -qE "sizeof\(\*?(info|q)\)|size_t size" "$SRC"/include/p2pdma/*.h; then ok
		else bad "$s is filled by the library but carries no size"; fi ;;
	esac
done
finish
