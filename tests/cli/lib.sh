# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh - shared helpers of the CLI test scripts (sourced)
set -uo pipefail
SRC=${P2PDMA_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${P2PDMA_BIN:-$SRC/build/cli/p2pdma}
FIX=$SRC/tests/fixtures
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
skipped() { skip=$((skip + 1)); echo "SKIP: $*"; }
finish() {
	echo "$(basename "$0"): $pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ] || exit 1
	[ "$pass" -gt 0 ] || exit 77
	exit 0
}
# glob_or_fail VAR PATTERN: the files PATTERN matches, sorted, into array VAR.
# A fixture glob that matches nothing is a FAIL of the test (a renamed or
# recompressed fixture must not turn a comparison into a silent no-op); then
# VAR is empty and the status is 1.
glob_or_fail() {
	local -n glob_or_fail_out=$1
	mapfile -t glob_or_fail_out < <(compgen -G "$2")
	if [ ${#glob_or_fail_out[@]} = 0 ]; then
		bad "no file matches $2"
		return 1
	fi
}
