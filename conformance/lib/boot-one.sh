#!/usr/bin/env bash
# Boot one conformance scenario in QEMU (TCG) and collect the guest's capture.
# Usage: boot-one.sh NAME TOPOLOGY CPU IOMMU(on|off) CMDLINE_EXTRA('-' for none) OUTDIR KERNEL INITRD
# Result: OUTDIR/out/ (the guest's /out), OUTDIR/console.log, OUTDIR/qemu-args.txt,
#         OUTDIR/boot-seconds; exit 0 on success.
set -euo pipefail
name=$1 topo=$2 cpu=$3 iommu=$4 extra=$5 outdir=$6 kernel=$7 initrd=$8
here=$(cd "$(dirname "$0")/.." && pwd)
timeout_s=${CONFORMANCE_BOOT_TIMEOUT:-180}
mkdir -p "$outdir"; rm -rf "${outdir:?}"/*
work=$outdir/work; mkdir -p "$work"

Q=()            # topology -device/-drive arguments
chassis=0
dev()  { Q+=(-device "$1"); }
rp()   { # rp ID BUS ADDR [EXTRA]
    chassis=$((chassis + 1))
    Q+=(-device "pcie-root-port,id=$1,bus=$2,addr=$3,chassis=$chassis,slot=$chassis${4:+,$4}"); }
sw()   { # sw ID BUS NDOWN : x3130-upstream ID with downstream ports ID.d0..ID.d(N-1)
    local i
    Q+=(-device "x3130-upstream,id=$1,bus=$2")
    for ((i = 0; i < $3; i++)); do
        chassis=$((chassis + 1))
        Q+=(-device "xio3130-downstream,id=$1.d$i,bus=$1,chassis=$chassis,slot=$i")
    done; }
pxb()  { # pxb ID BUS_NR
    Q+=(-device "pxb-pcie,id=$1,bus_nr=$2,bus=pcie.0"); }
nvme() { # nvme ID BUS [ADDR] [EXTRA]   (NVMe with a 16 MiB CMB -> p2pmem provider)
    # distinct known contents per drive (serial = ID) for the O_DIRECT checks
    if [ -n "${P2PCOPY:-}" ]; then "$P2PCOPY" pattern "$1" 1048576 > "$work/$1.img"
    else truncate -s 1M "$work/$1.img"; fi
    Q+=(-drive "file=$work/$1.img,if=none,id=$1,format=raw,file.locking=off")
    Q+=(-device "nvme,serial=$1,drive=$1,cmb_size_mb=16,bus=$2${3:+,addr=$3}${4:+,$4}"); }
nvmesriov() { # nvmesriov ID BUS NVFS   (NVMe PF with SR-IOV, NVFS VFs; own subsystem;
    # no CMB: QEMU refuses a CMB with SR-IOV). The guest enables the VFs.
    local nvf=$3
    if [ -n "${P2PCOPY:-}" ]; then "$P2PCOPY" pattern "$1" 1048576 > "$work/$1.img"
    else truncate -s 1M "$work/$1.img"; fi
    Q+=(-drive "file=$work/$1.img,if=none,id=$1,format=raw,file.locking=off")
    Q+=(-device "nvme-subsys,id=$1.subsys,nqn=$1")
    Q+=(-device "nvme,id=$1.ctrl,serial=$1,subsys=$1.subsys,bus=$2,sriov_max_vfs=$nvf,sriov_vq_flexible=$((2 * nvf)),sriov_vi_flexible=$nvf,max_ioqpairs=$((2 * nvf + 2))")
    Q+=(-device "nvme-ns,drive=$1,bus=$1.ctrl,nsid=1"); }

# shellcheck source=/dev/null
source "$here/topologies/$topo.sh"

append="console=ttyS0 quiet panic=-1"
pre=()
if [ "$iommu" = on ]; then
    pre+=(-device intel-iommu,intremap=off)
    append+=" intel_iommu=on"
fi
[ "$extra" = - ] || append+=" $extra"

args=(-nodefaults -nographic -no-reboot -accel tcg -machine q35 -m 512M -smp 1
      -cpu "$cpu" -kernel "$kernel" -initrd "$initrd" -append "$append"
      -serial "file:$outdir/console.log" -serial "file:$work/data.b64"
      -monitor none "${pre[@]}" "${Q[@]}")
printf '%q ' qemu-system-x86_64 "${args[@]}" | sed "s#$outdir#\$OUT#g; s#$kernel#\$KERNEL#; s#$initrd#\$INITRD#" > "$outdir/qemu-args.txt"
echo >> "$outdir/qemu-args.txt"
start=$(date +%s.%N)
rc=0
timeout "$timeout_s" qemu-system-x86_64 "${args[@]}" > "$work/qemu.stdout" 2>&1 < /dev/null || rc=$?
end=$(date +%s.%N)
echo "$end - $start" | bc > "$outdir/boot-seconds"
if ! grep -q 'CONFORMANCE-TAR-END' "$work/data.b64" 2>/dev/null; then
    echo "boot-one[$name]: no capture received (qemu rc=$rc)" >&2
    tail -5 "$work/qemu.stdout" >&2 || true
    tail -15 "$outdir/console.log" >&2 || true
    exit 1
fi
tr -d '\r' < "$work/data.b64" | sed -n '/=====CONFORMANCE-TAR-BEGIN=====/,/=====CONFORMANCE-TAR-END=====/p' \
    | grep -v '=====CONFORMANCE-TAR-' | base64 -d | tar -C "$outdir" -xzf -
cp "$work/qemu.stdout" "$outdir/qemu.log"
rm -rf "$work"
[ -s "$outdir/out/verdicts.txt" ] || { echo "boot-one[$name]: empty verdicts ($(cat "$outdir/out/verdicts.err" 2>/dev/null))" >&2; exit 1; }
exit 0
