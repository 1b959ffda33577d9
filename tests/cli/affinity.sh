#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# affinity.sh - the CPU Affinity column of `p2pdma topo` against its oracles:
#  - every sysfs capture: each function's local_cpulist file, as written by
#    the kernel that booted it;
#  - every hwloc XML that hwloc's own hwloc-calc can read (formats 1 and 2):
#    the OS indexes of the PUs near each PCI function
#    (hwloc-calc --po -I pu pci=BDF), as a CPU list.
# The comparisons run in affinity.py (one process: no interpreter or awk
# started per function); this script finds the fixtures and counts.
. "$(dirname "$0")/lib.sh"
command -v hwloc-calc >/dev/null || { bad "hwloc-calc missing (Debian package hwloc)"; finish; }

glob_or_fail tars "$FIX/kernel/*/sysfs.tar.gz"
glob_or_fail files "$FIX/hwloc/*.v[12].xml.gz"
glob_or_fail up "$FIX/hwloc/upstream/*.v2.xml.gz"
summary=
while IFS= read -r line; do
	case $line in
	OK) ok ;;
	"FAIL: "*) bad "${line#FAIL: }" ;;
	affinity.sh:*) summary=$line ;;
	"rc 0") ;;
	"rc "*) bad "affinity.py exited with status ${line#rc }" ;;
	*) echo "$line" ;;
	esac
done < <(python3 "$(dirname "$0")/affinity.py" "$BIN" --sysfs "${tars[@]}" --hwloc "${files[@]}" "${up[@]}"; echo "rc $?")
case $summary in "") bad "affinity.py ended without its summary" ;; *) echo "$summary" ;; esac
finish
