#!/bin/sh
# capture-sysfs.sh - capture the part of /sys that libpci's linux-sysfs access
# method (and libp2pdma's sysfs reader) reads, preserving the relative symlink
# structure, into a .tar.gz.  POSIX sh; runs under busybox sh.
#
# Usage: capture-sysfs.sh [-s SYSROOT] OUTPUT.tar.gz
#   SYSROOT defaults to /sys.  Run as root so that `config` includes the
#   extended (>= 0x100) config space (ACS capability lives there).
#
# The archive holds one top directory `sysfs/` laid out like /sys:
#   sysfs/bus/pci/devices/DDDD:BB:DD.F -> ../../../devices/pciDDDD:BB/.../DDDD:BB:DD.F
#   sysfs/devices/pciDDDD:BB/.../DDDD:BB:DD.F/{config,resource,vendor,...}
#   .../driver -> <original relative target>/bus/pci/drivers/NAME   (empty dir)
#   .../iommu_group -> <original relative target>/kernel/iommu_groups/N (empty dir)
#   .../physfn, virtfnN (original relative targets), p2pmem/{size,available,published}
#   sysfs/bus/pci/slots/*/address
# Use it with: lspci -A linux-sysfs -O sysfs.path=DIR/sysfs ...
set -eu

sys=/sys
while [ $# -gt 0 ]; do
    case "$1" in
        -s) sys=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || { echo "usage: $0 [-s SYSROOT] OUTPUT.tar.gz" >&2; exit 2; }
out=$1
case "$out" in /*) ;; *) out=$(pwd)/$out ;; esac
[ -d "$sys/bus/pci/devices" ] || { echo "capture-sysfs: $sys/bus/pci/devices not found" >&2; exit 1; }
sysreal=$(cd "$sys" && pwd -P)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/capsysfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
root=$tmp/sysfs
mkdir -p "$root/bus/pci/devices" "$root/bus/pci/drivers" "$root/kernel/iommu_groups"

files="config resource vendor device subsystem_vendor subsystem_device class revision
irq numa_node enable local_cpus local_cpulist label index acpi_index modalias
broken_parity_status msi_bus d3cold_allowed ari_enabled
sriov_totalvfs sriov_numvfs sriov_offset sriov_stride sriov_vf_device
sriov_drivers_autoprobe sriov_vf_total_msix
current_link_speed current_link_width max_link_speed max_link_width
secondary_bus_number subordinate_bus_number"

# copy_link SRC DST: recreate symlink SRC at DST with the same (relative) target,
# and create the target as an empty directory inside the capture when it points
# into a place we do not otherwise capture (drivers, iommu groups).
copy_link() {
    t=$(readlink "$1")
    ln -s "$t" "$2"
    ddir=$(dirname "$2")
    # resolve the target textually relative to the capture
    case "$t" in
        */bus/pci/drivers/*) mkdir -p "$root/bus/pci/drivers/${t##*/}" ;;
        */kernel/iommu_groups/*) mkdir -p "$root/kernel/iommu_groups/${t##*/}" ;;
    esac
    : "$ddir"
}

n=0
for l in "$sys"/bus/pci/devices/*; do
    [ -e "$l" ] || continue
    name=${l##*/}
    ln -s "$(readlink "$l")" "$root/bus/pci/devices/$name"
    real=$(cd "$l" && pwd -P)
    rel=${real#"$sysreal"/}
    d=$root/$rel
    mkdir -p "$d"
    # one cp per function, not one cat per file: each fork+exec costs
    # milliseconds in a TCG guest (this loop was ~3 s of every boot)
    set --
    for f in $files; do
        if [ -f "$real/$f" ] && [ -r "$real/$f" ]; then
            set -- "$@" "$real/$f"
        fi
    done
    [ $# -eq 0 ] || cp "$@" "$d/" 2>/dev/null || true
    for lk in driver iommu_group physfn "$real"/virtfn*; do
        lk=${lk##*/}
        [ -L "$real/$lk" ] && copy_link "$real/$lk" "$d/$lk"
    done
    if [ -d "$real/p2pmem" ]; then
        mkdir -p "$d/p2pmem"
        for f in size available published; do
            [ -r "$real/p2pmem/$f" ] && cat "$real/p2pmem/$f" > "$d/p2pmem/$f" 2>/dev/null || true
        done
    fi
    n=$((n + 1))
done

if [ -d "$sys/bus/pci/slots" ]; then
    for s in "$sys"/bus/pci/slots/*; do
        [ -d "$s" ] || continue
        mkdir -p "$root/bus/pci/slots/${s##*/}"
        [ -r "$s/address" ] && cat "$s/address" > "$root/bus/pci/slots/${s##*/}/address" 2>/dev/null || true
    done
fi

(cd "$tmp" && tar -czf "$out" sysfs)
echo "capture-sysfs: $n PCI functions -> $out" >&2
