#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bad-input.sh - every kind of bad input gives a clear one-line error naming
# the file or argument, exit status 2, nothing on stdout, and no crash.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect STDERR-SUBSTRING ARGS...
expect() {
	local want=$1; shift
	local out err rc
	out=$("$BIN" "$@" 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
	if [ $rc -ge 128 ]; then bad "crash ($rc): $*"; return; fi
	if [ $rc != 2 ]; then bad "exit $rc (want 2): $*  stderr: $err"; return; fi
	if [ -n "$out" ]; then bad "stdout not empty: $*"; return; fi
	if ! grep -qF -- "$want" <<<"$err"; then bad "stderr lacks '$want': $*  stderr: $err"; return; fi
	if [ "$(wc -l <<<"$err")" -gt 8 ]; then bad "more than 8 lines on stderr: $*"; return; fi
	ok
}

printf 'garbage\n' >"$tmp/garbage.lspci"
printf '00:00.0 Host bridge: x\n00: 86 80 57 0d 07 00\n' >"$tmp/short.lspci"
: >"$tmp/empty.lspci"
printf '{"p2pdma_topology": 1, "devices": [' >"$tmp/trunc.json"
printf '\x00\x01\x02' >"$tmp/bin.json"
printf '{"p2pdma_topology": 1, "devices": [{"bdf": "0000:00:00.0", "vendor": "0x8086", "device": 1, "colour": 3}]}' >"$tmp/unknown.json"
mkdir -p "$tmp/emptysys"

expect "no-such-file" --dump "$tmp/no-such-file" tree
expect "garbage.lspci" --dump "$tmp/garbage.lspci" tree
expect "short.lspci" --dump "$tmp/short.lspci" tree
expect "empty.lspci" --dump "$tmp/empty.lspci" tree
expect "trunc.json" --topology "$tmp/trunc.json" tree
expect "bin.json" --topology "$tmp/bin.json" tree
expect "colour" --topology "$tmp/unknown.json" tree
expect "no-such.json" --topology "$tmp/no-such.json" tree
expect "emptysys" --sysfs "$tmp/emptysys" tree
expect "nosuch" --example nosuch tree
expect "0000:77:00.0" --example workstation check 0000:77:00.0 0000:01:00.0
expect "zz:00.0" --example workstation check zz:00.0 0000:01:00.0
expect "--kernel" --kernel banana --example workstation tree
expect "--kernel" --kernel 4.9 --example workstation tree
expect "--cpu" --cpu "amd:" --example workstation tree
expect "--cpu" --cpu "foo:23" --example workstation tree
expect "--cpu" --cpu "amd:abc" --example workstation tree
expect "--cmdline" --cmdline 'pci="unbalanced' --example workstation tree
expect "--seed" --seed x --example workstation providers
expect "one source" --example workstation --dump x tree
expect "unknown command" --example workstation frobnicate
expect "ACS" --example workstation --acs-set 0000:00:1f.0=RR tree
expect "SV,TB,RR" --example xeon-8gpu --acs-set 0000:17:00.0=QQ tree
expect "--devices" --example workstation matrix --devices 0000:01:00.0 --class gpu
expect "--all" --example workstation matrix --all --class gpu
expect "exactly one PROVIDER" --example workstation fix 0000:01:00.0
expect "--allow wants" --allow 8086 --example workstation tree
expect "--allow wants" --allow 8086:29c0:same --example workstation tree
expect "--allow wants" --allow 8086:12345 --example workstation tree
expect "vendor 0000" --allow 0:29c0 --example workstation tree
finish
