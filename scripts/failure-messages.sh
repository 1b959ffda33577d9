#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# failure-messages.sh - the README's two commands say what failed: each
# broken step is named, with its exit status and its output; and the main
# job builds without the test framework while check.sh refuses to.
#
# Runs on a scratch copy of the tree (no build dirs), with stub programs
# first on PATH and cmocka hidden from pkg-config where a case needs it.
# Needs what scripts/check.sh installs (scripts/fresh-root.sh runs it in
# the fresh root after check.sh). Ends with "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/p2pdma-failmsg.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# A fresh scratch tree for each case.
fresh_tree() {
	rm -rf "$tmp/src"
	mkdir "$tmp/src"
	tar -c --exclude='./build*' --exclude=./.git . | tar -C "$tmp/src" -x
}
# stub NAME EXIT [always]: a NAME that prints "stub NAME broke" and exits
# EXIT; with --version it is the real one (meson asks ninja its version)
# unless "always".
stub() {
	local real=
	[ "${3:-}" = always ] || real=$(command -v "$1")
	mkdir -p "$tmp/stubs"
	cat >"$tmp/stubs/$1" <<-EOF
	#!/bin/sh
	[ "\${1:-}" = --version ] && [ -n "$real" ] && exec "$real" "\$@"
	echo "stub $1 broke" >&2
	exit $2
	EOF
	chmod +x "$tmp/stubs/$1"
}
# pkg-config's own search path without cmocka.pc.
hide_cmocka() {
	local d f
	mkdir -p "$tmp/pc"
	IFS=: read -ra dirs <<<"$(pkg-config --variable pc_path pkg-config)"
	for d in "${dirs[@]}"; do
		for f in "$d"/*.pc; do
			[ -e "$f" ] && [ "$(basename "$f")" != cmocka.pc ] && ln -s "$f" "$tmp/pc/" 2>/dev/null
		done
	done
}

# expect NAME RC WANT... -- CMD...: CMD's exit status is RC ("nonzero" for
# any failure) and its output (stdout+stderr) has every WANT line fragment.
expect() {
	local name=$1 want_rc=$2 w rc ok=1
	local -a wants=()
	shift 2
	while [ "$1" != -- ]; do wants+=("$1"); shift; done
	shift
	"$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$want_rc" = nonzero ]; then [ $rc != 0 ] || ok=0; else [ $rc = "$want_rc" ] || ok=0; fi
	for w in "${wants[@]}"; do grep -qF -- "$w" "$tmp/out" || { ok=0; echo "  missing: $w"; }; done
	if [ $ok = 1 ]; then
		echo "ok: $name"
		pass=$((pass + 1))
	else
		echo "FAIL: $name (exit $rc, want $want_rc); its output:"
		sed 's/^/  | /' "$tmp/out" | tail -30
		fail=$((fail + 1))
	fi
}

echo "=== failure-messages: run.sh with meson setup failing"
fresh_tree; rm -rf "$tmp/stubs"; stub meson 3
expect "run.sh names the failing meson setup and shows its output" 3 \
	"run.sh: configuring the build (meson setup) failed (exit 3)" "stub meson broke" -- \
	env PATH="$tmp/stubs:$PATH" bash "$tmp/src/scripts/run.sh"

echo "=== failure-messages: run.sh with the build failing"
fresh_tree; rm -rf "$tmp/stubs"; stub ninja 4
expect "run.sh names the failing build and shows its output" 4 \
	"run.sh: building (ninja) failed (exit 4)" "stub ninja broke" -- \
	env PATH="$tmp/stubs:$PATH" bash "$tmp/src/scripts/run.sh"

echo "=== failure-messages: apt-get failing (every package missing)"
fresh_tree; rm -rf "$tmp/stubs"; stub apt-get 100; stub dpkg-query 1
expect "run.sh: install-deps names apt-get update and shows its output" nonzero \
	"install-deps: apt-get install failed; running apt-get update and retrying" \
	"install-deps: apt-get update failed" "stub apt-get broke" \
	"run.sh: installing the build packages failed" -- \
	env PATH="$tmp/stubs:$PATH" bash "$tmp/src/scripts/run.sh"
expect "check.sh: install-deps failure is named" 2 \
	"install-deps: apt-get update failed" "check: installing the test packages failed" -- \
	env PATH="$tmp/stubs:$PATH" bash "$tmp/src/scripts/check.sh"

echo "=== failure-messages: no cmocka"
# meson also looks for cmocka through cmake: no cmake either.
rm -rf "$tmp/stubs"; hide_cmocka; stub cmake 1 always
fresh_tree
expect "run.sh builds and reports without cmocka" 0 "P2P DMA report for" -- \
	env PATH="$tmp/stubs:$PATH" PKG_CONFIG_LIBDIR="$tmp/pc" bash "$tmp/src/scripts/run.sh"
fresh_tree
expect "check.sh fails loudly without cmocka" 1 \
	'Dependency "cmocka" not found' "check: gcc -Werror: meson setup of build failed" \
	"FAILED: gcc -Werror: meson setup failed" -- \
	env PATH="$tmp/stubs:$PATH" PKG_CONFIG_LIBDIR="$tmp/pc" P2PDMA_SKIP_CONFORMANCE=1 \
	bash "$tmp/src/scripts/check.sh"

echo "failure-messages: $pass passed, $fail failed"
echo "$pass passed, $fail failed, 0 skipped"
[ $fail = 0 ]
