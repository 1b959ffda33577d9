#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# report.sh - the README's main job: the P2P report for this machine, or for
# a bundled example when this machine has nothing to pair (a VM, a laptop).
set -uo pipefail
bin=${1:-build/cli/p2pdma}
example=${P2PDMA_EXAMPLE:-xeon-8gpu}

out=$("$bin" report --require-interesting)
rc=$?
if [ $rc = 0 ]; then
	printf '%s\n' "$out"
	[ "$(id -u)" = 0 ] || echo "(not root: ACS registers are unreadable; run with sudo for exact verdicts)"
	exit 0
fi
if [ $rc != 3 ]; then
	[ -n "$out" ] && printf '%s\n' "$out"
	echo "report.sh: $bin report --require-interesting failed (exit $rc)" >&2
	exit $rc
fi
echo "This machine has fewer than two P2P-relevant PCI devices; its tree:"
"$bin" tree || echo "report.sh: $bin tree failed (exit $?)" >&2
echo
echo "Showing the bundled example machine '$example' instead (p2pdma examples lists them):"
echo
"$bin" --example "$example" report
rc=$?
[ $rc = 0 ] || echo "report.sh: $bin --example $example report failed (exit $rc)" >&2
exit $rc
