#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh - the README's main job (also `make run`): install what is missing,
# build, and print the P2P report of this machine, or of a bundled example
# when this machine has nothing to pair. It needs only the build packages
# (not the test framework: the tests are built when cmocka is there). A step
# that fails is named, with its exit status and its output.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp "${TMPDIR:-/tmp}/p2pdma-run.XXXXXX") || { echo "run.sh: mktemp failed" >&2; exit 1; }
trap 'rm -f "$log"' EXIT

# step WHAT CMD...: run CMD with its output kept; if it fails, say so and show it.
step() {
	local what=$1 rc
	shift
	"$@" >"$log" 2>&1
	rc=$?
	[ $rc = 0 ] && return 0
	echo "run.sh: $what failed (exit $rc): $*" >&2
	echo "--- its output:" >&2
	cat "$log" >&2
	echo "---" >&2
	exit $rc
}

# install-deps prints what it installs and, on failure, what failed.
if ! bash scripts/install-deps.sh build; then
	echo "run.sh: installing the build packages failed: bash scripts/install-deps.sh build" >&2
	exit 1
fi
if [ ! -f build/build.ninja ]; then
	wipe=()
	# A setup that failed half-way leaves a build dir meson will not reuse.
	[ -e build/meson-private/coredata.dat ] && wipe=(--wipe)
	step "configuring the build (meson setup)" meson setup "${wipe[@]}" build
fi
step "building (ninja)" ninja -C build
exec bash scripts/report.sh build/cli/p2pdma
