#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vfio.sh - p2pdma vfio explain on malformed and valid requests (doc/vfio.md),
# the real-call paths on a machine without a VFIO device, and the VMM example
# on machines where it ends differently.
. "$(dirname "$0")/lib.sh"
X="$BIN --no-names --example xeon-8gpu --kernel 6.19"
VMM=${P2PDMA_BUILDDIR:-$SRC/build}/vmm-dmabuf

# explain DEVICE FIELDS WANT-EXIT WANT-TEXT...
explain() {
	local dev=$1 fields=$2 want=$3 out rc
	shift 3
	out=$($X vfio explain "$dev" --fields "$fields" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ]; then ok; else bad "explain $fields: exit $rc, want $want"; fi
	for t in "$@"; do
		if grep -qF -- "$t" <<<"$out"; then ok; else bad "explain $fields: no '$t' in:"; echo "$out" | head -30; fi
	done
}

G='argsz=56, flags=VFIO_DEVICE_FEATURE_GET|VFIO_DEVICE_FEATURE_DMA_BUF, region_index=1, open_flags=O_RDWR|O_CLOEXEC, flags=0'
explain 18:00.0 "$G, nr_ranges=3, dma_ranges=[{offset=0, length=0x1000}, {offset=0x2000, length=0x1000}, {offset=0x1800, length=0x1000}]" 1 \
	"FAIL  range 2: offset 0x1800 is not page aligned -> EINVAL" "result: EINVAL (-22)"
explain 18:00.0 "$G, nr_ranges=0" 1 "FAIL  nr_ranges is 0 -> EINVAL"
explain 18:00.0 "argsz=40, flags=GET|DMA_BUF, region_index=6, open_flags=O_RDWR, flags=0, dma_ranges=[{offset=0, length=0x1000}]" 1 \
	"region_index 6: only BARs 0-5" "result: ENODEV (-19)"
explain 18:00.0 "argsz=40, flags=GET|SET|DMA_BUF, region_index=1, dma_ranges=[{offset=0, length=0x1000}]" 1 \
	"GET and SET together without PROBE -> EINVAL"
explain 18:00.0 "argsz=40, flags=GET|DMA_BUF, region_index=3, dma_ranges=[{offset=0x1ff0000, length=0x20000}]" 1 \
	"ends beyond the BAR 3 (0x2000000 bytes) -> EINVAL"
explain 18:00.0 "argsz=40, flags=GET|DMA_BUF, region_index=0, nr_ranges=2, dma_ranges=[{offset=0, length=0x1000}]" 1 \
	"copy_from_user(2 ranges, 32 bytes): only 16 bytes follow the header -> EFAULT"
# Valid: argsz too small for the ranges and overlapping ranges are accepted.
explain aa:00.0 "argsz=24, flags=GET|DMA_BUF, region_index=1, open_flags=O_RDWR, dma_ranges=[{offset=0, length=0x2000}, {offset=0x1000, length=0x1000}]" 0 \
	"result: success" "argsz is not checked against nr_ranges" "ranges 0 and 1 overlap" \
	"BUS_ADDR through 0000:a8:00.0"
# Two ranges for an importer behind a translating IOMMU: every range is
# linked at IOVA offset 0, the second collides (doc/vfio.md).
out=$($X vfio explain aa:00.0 --translated --fields "flags=GET|DMA_BUF, region_index=1, dma_ranges=[{offset=0, length=0x2000}, {offset=0x4000, length=0x1000}]" 2>&1)
if grep -qF "0000:18:00.0" <<<"$out" && grep -qF "map fails EEXIST" <<<"$out"; then ok; else bad "translated: $out"; fi
# The same request as bytes (strace's \x form and plain tokens) gives the same answer.
hex='28 00 00 00 0b 00 01 00 01 00 00 00 02 00 00 00 00 00 00 00 01 00 00 00 00 18 00 00 00 00 00 00 00 10 00 00 00 00 00 00'
for h in "$hex" "$(tr -d ' ' <<<"$hex")" "$(sed 's/\([0-9a-f][0-9a-f]\) */\\x\1/g' <<<"$hex")"; do
	out=$($X vfio explain 18:00.0 --hex "$h" 2>&1)
	if grep -qF "FAIL  range 0: offset 0x1800 is not page aligned -> EINVAL" <<<"$out"; then ok; else bad "--hex '$h': $out"; fi
done
# JSON.
out=$($X vfio explain 18:00.0 --json --hex "$hex")
if python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["result"]=="EINVAL" and d["errno"]==22, d' <<<"$out"; then ok; else bad "--json: $out"; fi
# Before 6.19 the feature is unknown.
out=$($BIN --no-names --example xeon-8gpu --kernel 6.12 vfio explain 18:00.0 --hex "$hex" 2>&1)
if grep -qF "kernel 6.12 has no VFIO_DEVICE_FEATURE_DMA_BUF" <<<"$out"; then ok; else bad "6.12: $out"; fi
# nvgrace: region 4 bounded by the real memory.
out=$($X vfio explain 18:00.0 --nvgrace 0x400000000000:0x18000000 --fields "flags=GET|DMA_BUF, region_index=4, dma_ranges=[{offset=0x18000000, length=0x1000}]" 2>&1)
if grep -qF "ends beyond the device memory of region 4 (0x18000000 real of 0x20000000 padded)" <<<"$out"; then ok; else bad "nvgrace: $out"; fi
# Memory decode off: succeeds, starts revoked, importers cannot attach.
out=$($X vfio explain aa:00.0 --memory-off --fields "flags=GET|DMA_BUF, region_index=1, dma_ranges=[{offset=0, length=0x1000}]" 2>&1)
if grep -qF "the buffer starts REVOKED" <<<"$out" && grep -qF "attach fails ENODEV" <<<"$out"; then ok; else bad "memory off: $out"; fi
# Bad input.
$X vfio explain 18:00.0 --hex "zz" >/dev/null 2>&1; [ $? = 2 ] && ok || bad "--hex zz should be exit 2"
$X vfio explain 18:00.0 --fields "bogus=1" >/dev/null 2>&1; [ $? = 2 ] && ok || bad "unknown field should be exit 2"
$X vfio explain 18:00.0 >/dev/null 2>&1; [ $? = 2 ] && ok || bad "no request should be exit 2"

# The real call on this machine: no VFIO device here, said plainly.
out=$($BIN --no-names --example xeon-8gpu vfio probe 0000:ff:1f.7 2>&1)
rc=$?
if [ "$rc" = 1 ] && grep -qF "cannot open the VFIO device" <<<"$out"; then ok; else bad "probe without a device: exit $rc: $out"; fi

# The VMM example: where it ends differently.
if [ -x "$VMM" ]; then
	out=$("$VMM" xeon-8gpu 2>&1)
	if grep -qF "map: BUS_ADDR, 1 entry" <<<"$out" && grep -qF "the NIC mapped it again on demand" <<<"$out" \
	   && grep -qF "RDMA write 'during reset': ENODEV" <<<"$out" && grep -qF "the old buffer stays dead (map: ENODEV)" <<<"$out"; then ok
	else bad "vmm-dmabuf xeon-8gpu:"; echo "$out"; fi
	out=$("$VMM" --iommu dma epyc-2s 2>&1)
	if grep -qF "map: THRU_HOST_BRIDGE, 1 entry" <<<"$out" && grep -qF "an IOVA: the NIC's IOMMU translates it" <<<"$out"; then ok
	else bad "vmm-dmabuf epyc-2s:"; echo "$out"; fi
	out=$("$VMM" workstation 2>&1)
	if grep -qF "map: EINVAL" <<<"$out" && grep -qF "(NOT_SUPPORTED)" <<<"$out"; then ok
	else bad "vmm-dmabuf workstation:"; echo "$out"; fi
	out=$("$VMM" --kernel 6.12 xeon-8gpu 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -qF "ENOTTY" <<<"$out"; then ok; else bad "vmm-dmabuf on 6.12: exit $rc: $out"; fi
else
	bad "no $VMM"
fi
finish
