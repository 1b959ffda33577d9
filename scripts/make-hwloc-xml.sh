#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make-hwloc-xml.sh - regenerate tests/fixtures/hwloc/*.xml.gz with the real lstopo.
#
# lstopo reads a captured sysfs tree as the root of another system
# (--input DIR --if fsroot). Each capture (tests/fixtures/kernel/*/sysfs.tar.gz,
# tests/fixtures/sysfs/*.tar.gz) is unpacked as DIR/sys; hwloc's Linux
# backend also insists on a CPU topology, which the captures do not hold,
# so DIR gets one CPU (/sys/devices/system/cpu/cpu0 with online/possible/
# present = "0" and /proc/cpuinfo naming it): it only shapes the CPU side
# of the XML, nothing PCI. Written with all I/O kept (--filter io:all) in
# hwloc's format 2 (NAME.v2.xml.gz) and format 1 (--export-xml-flags v1,
# NAME.v1.xml.gz). Debian 12's hwloc 2.9 cannot write format 3; the v3
# files under upstream/ come from hwloc's own test suite (see its README).
# Usage: scripts/make-hwloc-xml.sh   (needs hwloc)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$src/tests/fixtures/hwloc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() {
	local name=$1 tgz=$2 root=$tmp/$1
	mkdir -p "$root"
	tar -xzf "$tgz" -C "$root"
	mv "$root/sysfs" "$root/sys"
	mkdir -p "$root/sys/devices/system/cpu/cpu0/topology" "$root/proc"
	for f in online possible present; do echo 0 >"$root/sys/devices/system/cpu/$f"; done
	for f in physical_package_id core_id die_id cluster_id; do
		echo 0 >"$root/sys/devices/system/cpu/cpu0/topology/$f"
	done
	for f in thread_siblings core_siblings core_cpus package_cpus die_cpus cluster_cpus; do
		echo 1 >"$root/sys/devices/system/cpu/cpu0/topology/$f"
	done
	printf 'processor\t: 0\n\n' >"$root/proc/cpuinfo"
	# "Cannot find discovery component `pci'": the libpciaccess plugin is
	# not installed; hwloc's Linux backend reads PCI from sysfs itself.
	lstopo --input "$root" --if fsroot --filter io:all --of xml - 2>/dev/null |
		gzip -9n >"$out/$name.v2.xml.gz"
	lstopo --input "$root" --if fsroot --filter io:all --of xml --export-xml-flags v1 - 2>/dev/null |
		gzip -9n >"$out/$name.v1.xml.gz"
}

mkdir -p "$out"
rm -f "$out"/*.v1.xml.gz "$out"/*.v2.xml.gz
n=0
for t in "$src"/tests/fixtures/kernel/*/sysfs.tar.gz; do
	gen "$(basename "$(dirname "$t")")" "$t"
	n=$((n + 1))
done
for t in "$src"/tests/fixtures/sysfs/*.tar.gz; do
	gen "$(basename "$t" .tar.gz)" "$t"
	n=$((n + 1))
done
echo "$(lstopo --version)" >"$out/VERSIONS"
echo "captures: $n" >>"$out/VERSIONS"
echo "make-hwloc-xml: $n captures -> $out (v1 and v2)" >&2
