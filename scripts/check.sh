#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# check.sh - the README's test command (make check): every test, every build.
#
#   1. gcc build, warnings as errors, unit + CLI tests
#   2. the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. clang build, warnings as errors, unit + CLI tests
#   4. real-kernel conformance: Linux booted in QEMU (conformance/run.sh)
#
# Ends with "N passed, N failed, N skipped" (test programs and conformance
# scenarios summed over the phases) and exits non-zero on any failure.
# P2PDMA_SKIP_CONFORMANCE=1 leaves phase 4 out (counted as one skip).
# P2PDMA_CHECK_PHASES picks phases by name (default: all of
# "gcc asan clang tsan conformance"); the others are not run and not
# counted. .ci/run uses it to run each phase once: the first four in a fresh
# Debian root, conformance on the host. Conformance alone still builds
# ./build (gcc), whose p2pdma it compares with the kernel, without its tests.
set -uo pipefail
cd "$(dirname "$0")/.."
all_phases="gcc asan clang tsan conformance"
phases=${P2PDMA_CHECK_PHASES:-$all_phases}
for ph in $phases; do
	case " $all_phases " in
	*" $ph "*) ;;
	*) echo "check: unknown phase '$ph' in P2PDMA_CHECK_PHASES (phases: $all_phases)" >&2; exit 2 ;;
	esac
done
# want PHASE: is PHASE selected?
want() { case " $phases " in *" $1 "*) return 0 ;; esac; return 1; }
[ "$phases" = "$all_phases" ] || echo "check: phases: $phases (P2PDMA_CHECK_PHASES)"
if ! bash scripts/install-deps.sh test; then
	echo "check: installing the test packages failed: bash scripts/install-deps.sh test" >&2
	exit 2
fi

# The conformance kernels (phase 4) do not depend on the project: when they
# are not cached, build them now, niced, beside phases 1-3 (conformance/run.sh
# waits for this build through its lock instead of starting another).
kbuild_log=$(mktemp)
if want conformance && [ "${P2PDMA_SKIP_CONFORMANCE:-0}" != 1 ] && bash scripts/install-deps.sh conformance; then
	nice bash conformance/lib/build-kernel.sh ${CONFORMANCE_KERNELS:-6.12 6.1} >"$kbuild_log" 2>&1 &
fi

passed=0 failed=0 skipped=0
failures=()

# meson test summary lines: "Ok: N", "Fail: N", "Skipped: N", "Timeout: N"...
count_meson() {
	local dir=$1 name=$2 log
	shift 2
	log=$(mktemp)
	meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" 2>&1 | tee "$log"
	local ok fail skip tmo xfail upass
	ok=$(awk '/^Ok:/{print $2}' "$log" | tail -1)
	fail=$(awk '/^Fail:/{print $2}' "$log" | tail -1)
	skip=$(awk '/^Skipped:/{print $2}' "$log" | tail -1)
	tmo=$(awk '/^Timeout:/{print $2}' "$log" | tail -1)
	xfail=$(awk '/^Expected Fail:/{print $3}' "$log" | tail -1)
	upass=$(awk '/^Unexpected Pass:/{print $3}' "$log" | tail -1)
	rm -f "$log"
	if [ -z "$ok" ]; then
		echo "check: $name: meson test printed no summary"
		failed=$((failed + 1)); failures+=("$name: no test summary")
		return
	fi
	# Why each skipped test skipped (meson prints the logs of failures only)
	if [ "${skip:-0}" != 0 ] && [ -f "$dir/meson-logs/testlog.txt" ]; then
		echo "check: $name: the skipped tests' output:"
		awk '/^=+ [0-9]+\/[0-9]+ =+$/ { if (skipped) printf "%s", block; block = ""; skipped = 0 }
			{ block = block "  | " $0 "\n" }
			/^result:/ && (/77/ || /[Ss]kip/) { skipped = 1 }
			END { if (skipped) printf "%s", block }' "$dir/meson-logs/testlog.txt" | head -60
	fi
	passed=$((passed + ok + ${xfail:-0}))
	failed=$((failed + ${fail:-0} + ${tmo:-0} + ${upass:-0}))
	skipped=$((skipped + ${skip:-0}))
	[ "${fail:-0}" = 0 ] && [ "${tmo:-0}" = 0 ] || failures+=("$name: ${fail:-0} failed, ${tmo:-0} timed out")
}

build_phase() {
	local name=$1 dir=$2 suites=$3; shift 3
	echo "=== check: $name"
	[ "$suites" = "--no-tests" ] && echo "check: building $dir only (for the conformance phase; its tests belong to phase gcc)"
	# The tests are a must here (-Dtests=enabled: no cmocka is an error, not
	# a build without tests). A build dir made earlier (scripts/run.sh
	# builds without cmocka) is reconfigured with the same options.
	local how=()
	[ -f "$dir/build.ninja" ] && how=(--reconfigure)
	if ! meson setup "${how[@]}" "$dir" --werror -Dtests=enabled "$@" >"$dir.setup.log" 2>&1; then
		cat "$dir.setup.log"; rm -f "$dir.setup.log"
		echo "check: $name: meson setup of $dir failed (its output is above)"
		failed=$((failed + 1)); failures+=("$name: meson setup failed"); return
	fi
	rm -f "$dir.setup.log"
	# shellcheck disable=SC2086
	if ! ninja -C "$dir" ${NINJA_TARGETS:-}; then
		echo "check: $name: ninja -C $dir failed"
		failed=$((failed + 1)); failures+=("$name: build failed"); return
	fi
	[ "$suites" = "--no-tests" ] && return
	# shellcheck disable=SC2086
	count_meson "$dir" "$name" $suites
}

if want gcc; then
	build_phase "gcc -Werror" build ""
elif want conformance; then
	build_phase "gcc -Werror" build --no-tests
fi
want asan && CC=gcc build_phase "gcc ASan+UBSan" build-asan "--suite unit --suite cli" \
	-Db_sanitize=address,undefined -Db_lundef=false
want clang && CC=clang build_phase "clang -Werror" build-clang "--suite unit --suite cli"
# ThreadSanitizer on what is meant to be shared by threads (suite 'threads':
# a router queried from several threads...); only those tests are built.
want tsan && CC=gcc NINJA_TARGETS="$(sed -n 's/^#threads: //p' tests/meson.build)" \
	build_phase "gcc TSan" build-tsan "--suite threads --no-rebuild" \
	-Db_sanitize=thread -Db_lundef=false

conformance_phase() {
	echo "=== check: real-kernel conformance (QEMU)"
	if [ "${P2PDMA_SKIP_CONFORMANCE:-0}" = 1 ]; then
		echo "check: conformance skipped (P2PDMA_SKIP_CONFORMANCE=1)"
		skipped=$((skipped + 1))
		return
	fi
	local log rc line p f s
	log=$(mktemp)
	P2PDMA_BIN=$PWD/build/cli/p2pdma bash conformance/run.sh 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	sed -n 's/^build-kernel: /check: early kernel build: /p' "$kbuild_log"
	line=$(grep -E '^conformance: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	rm -f "$log"
	if [ -n "$line" ]; then
		p=$(sed -E 's/^conformance: ([0-9]+) passed.*/\1/' <<<"$line")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
		s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
		[ "$f" = 0 ] || failures+=("conformance: $f failed")
	fi
	if [ "$rc" != 0 ] && { [ -z "$line" ] || [ "$f" = 0 ]; }; then
		failed=$((failed + 1)); failures+=("conformance: exit status $rc")
	fi
}
want conformance && conformance_phase

rm -f "$kbuild_log"
echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
