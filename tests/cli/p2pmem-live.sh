#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# p2pmem-live.sh - p2pdma p2pmem and p2pdma verify on a sysfs tree instead
# of a machine with p2pmem.
#
# The tree is the real capture of a QEMU guest with two NVMe CMBs
# (tests/fixtures/kernel/switch-epyc/sysfs.tar.gz: its p2pmem/size,
# available and published files are the kernel's) plus what the capture
# does not hold and no tool on a machine without NVMe can make: the
# block/ links (nvme0n1 -> .../0000:03:00.0/nvme/nvme0/nvme0n1, as
# conformance.md describes them), the NVMe serials, a SATA disk on a
# function without P2PDMA support, p2pmem/allocate as a 16 MiB file, and
# /dev nodes as 1 MiB files. The data path is real O_DIRECT I/O between
# those files and the file-backed MAP_SHARED mapping; what only a real
# machine shows is the kernel's refusals (EREMOTEIO, the allocate mmap
# rules) and data that does not arrive.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
tgz=$FIX/kernel/switch-epyc/sysfs.tar.gz
[ -e "$tgz" ] || { bad "no $tgz"; finish; }
tar -xzf "$tgz" -C "$tmp" || { bad "cannot untar $tgz"; finish; }
S=$tmp/sysfs
mkdir -p "$S/block" "$S/class/nvme" "$S/bus/pci/drivers/ahci" "$tmp/dev"
n=0
for b in 0000:03:00.0 0000:04:00.0; do
	dir=$(cd "$S/bus/pci/devices/$b" && pwd -P)
	rel=${dir#"$S"/}
	[ -d "$dir/p2pmem" ] || bad "$b: the capture has no p2pmem/"
	truncate -s 16M "$dir/p2pmem/allocate"
	mkdir -p "$dir/nvme/nvme$n/nvme${n}n1"
	ln -s "../../nvme$n" "$dir/nvme/nvme$n/nvme${n}n1/device"
	ln -s "../$rel/nvme/nvme$n/nvme${n}n1" "$S/block/nvme${n}n1"
	ln -s "../../$rel/nvme/nvme$n" "$S/class/nvme/nvme$n"
	echo "nvme$((n + 1))" >"$dir/nvme/nvme$n/serial"
	head -c 1M /dev/urandom >"$tmp/dev/nvme${n}n1"
	n=$((n + 1))
done
sata=$(cd "$S/bus/pci/devices" && ls | grep -v '0000:0[0-4]:0[0-2]' | head -1)
sdir=$(cd "$S/bus/pci/devices/$sata" && pwd -P)
mkdir -p "$sdir/ata1/host0/target0:0:0/0:0:0:0/block/sda"
ln -s "../${sdir#"$S"/}/ata1/host0/target0:0:0/0:0:0:0/block/sda" "$S/block/sda"
ln -s "$(realpath --relative-to="$sdir" "$S/bus/pci/drivers/ahci")" "$sdir/driver"
head -c 1M /dev/urandom >"$tmp/dev/sda"
# A block device with no PCI function (skipped).
mkdir -p "$S/devices/virtual/block/loop0"
ln -s ../devices/virtual/block/loop0 "$S/block/loop0"
sums() { (cd "$tmp/dev" && sha256sum nvme0n1 nvme1n1 sda); }
before=$(sums)
P="$BIN --no-names --sysfs $S"

# p2pmem: the files read now beside the adopted pools.
out=$($P p2pmem 2>&1) && ok || bad "p2pmem: $out"
grep -q "0000:03:00.0 (nvme)  size 16 MiB  available 15.9 MiB  published 1  allocate yes" <<<"$out" && ok || bad "p2pmem line: $out"
[ "$(grep -c 'figures agree' <<<"$out")" = 2 ] && ok || bad "p2pmem: model figures: $out"
grep -q "pool at BAR 2 0x[0-9a-f]*-0x[0-9a-f]* (BAR inferred), aligned to 2 MiB" <<<"$out" && ok || bad "p2pmem BAR: $out"
out=$($P p2pmem --json --seed 3 0000:04:00.0 2>&1) && ok || bad "p2pmem --json: $out"
if command -v python3 >/dev/null; then
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
p = {x["bdf"]: x for x in o["providers"]}
assert set(p) == {"0000:03:00.0", "0000:04:00.0"}, p
for x in p.values():
    assert x["sysfs"]["size"] == 16777216 and x["sysfs"]["available"] == 16711680, x
    assert x["model"]["bar"] == 2 and x["agree"], x
assert o["find_many"]["pick"] in p and o["seed"] == 3, o
' "$out" && ok || bad "p2pmem --json content: $out"
fi
"$BIN" --example xeon-8gpu p2pmem >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "captured sysfs tree" "$tmp/err" && ok || bad "p2pmem on an example: $(cat "$tmp/err")"

# verify: read-only, every pair moves and matches the prediction.
out=$($P verify --dev-dir "$tmp/dev" --device nvme0n1 --device nvme1n1 2>&1)
rc=$?
[ $rc = 0 ] && ok || bad "verify exits $rc: $out"
[ "$(grep -c 'read 65536: moved, data ok  \[agree\]' <<<"$out")" = 4 ] && ok || bad "verify pairs: $out"
grep -q "0000:03:00.0 -> nvme1n1 (0000:04:00.0, nvme): predicted BUS_ADDR, moves" <<<"$out" && ok || bad "verify prediction: $out"
grep -q "4 checked, 0 differ" <<<"$out" && ok || bad "verify summary: $out"
[ "$(sums)" = "$before" ] && ok || bad "a read-only verify changed a device"
grep -q "sda\|loop0" <<<"$out" && bad "verify went beyond --device" || ok

# --scratch: writes through p2pmem, read back, original restored.
out=$($P verify --dev-dir "$tmp/dev" --scratch nvme1n1 --provider 0000:03:00.0 --size 8K --offset 4K 2>&1)
[ $? = 0 ] && ok || bad "verify --scratch: $out"
grep -q "nvme1n1 .*read 8192: moved, data ok; write: moved, data ok  \[agree\]" <<<"$out" && ok || bad "scratch write: $out"
[ "$(sums)" = "$before" ] && ok || bad "the scratch device was not restored"

# A disk whose queue has no BLK_FEAT_PCI_P2PDMA: the model says EREMOTEIO,
# the files move the data: verify reports the disagreement (exit 1).
out=$($P verify --dev-dir "$tmp/dev" --device sda --json 2>&1)
[ $? = 1 ] && ok || bad "verify sda does not exit 1: $out"
if command -v python3 >/dev/null; then
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["tested"] == 2 and o["differ"] == 2, o
for p in o["pairs"]:
    assert p["predicted"]["errno"] == "EREMOTEIO" and not p["predicted"]["queue_p2pdma"], p
    assert p["read"]["outcome"] == "moved" and p["driver"] == "ahci" and not p["agree"], p
' "$out" && ok || bad "verify --json: $out"
fi
# The mmap rules: a plain file maps privately, the kernel's allocate does not.
out=$($P verify --dev-dir "$tmp/dev" --device nvme0n1 --mmap-rules --provider 0000:04:00.0 2>&1)
[ $? = 1 ] && ok || bad "mmap rules: $out"
grep -q "0000:04:00.0 mmap rules: private 0 (predicted EINVAL), offset 4096 0 (predicted EINVAL), shared 0 (predicted 0)  \[DIFFER\]" <<<"$out" && ok || bad "mmap rules line: $out"
# --sequence: map and unmap step by step, available read after each step.
# A plain file's size never moves, the model's pool does: the map steps
# differ, the start and the end (everything unmapped) agree, and the model's
# first-fit pool refuses 8M where the file maps it.
out=$($P verify --sequence 'map 4M, map 8M, unmap 0, map 8M, unmap 1 1M 1M' --provider 0000:03:00.0 --json 2>&1)
[ $? = 1 ] && ok || bad "verify --sequence does not exit 1: $out"
if command -v python3 >/dev/null; then
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
s = o["sequences"]
assert len(s) == 1 and s[0]["provider"] == "0000:03:00.0" and o["pairs"] == [], o
st = [(x["step"], x["errno"], x["available"], x["predicted_errno"], x["predicted_available"], x["agree"])
      for x in s[0]["steps"]]
A = 16711680
assert st == [("start", "", A, "", A, True),
              ("map 4M", "", A, "", A - (4 << 20), False),
              ("map 8M", "", A, "", A - (12 << 20), False),
              ("unmap 0", "", A, "", A - (8 << 20), False),
              ("map 8M", "", A, "ENOMEM", A - (8 << 20), False),
              ("unmap 1 1M 1M", "", A, "", A - (7 << 20), False),
              ("end: unmap all", "", A, "", A, True)], st
assert o["tested"] == 7 and o["differ"] == 5, o
' "$out" && ok || bad "verify --sequence --json: $out"
fi
out=$($P verify --sequence 'map 64K, unmap 0' --provider 0000:04:00.0 2>&1)
grep -q "^0000:04:00.0 sequence:" <<<"$out" && grep -q "  map 64K .*ok, available 16711680  (predicted ok, 16646144)  \[DIFFER\]" <<<"$out" \
	&& ok || bad "verify --sequence text: $out"
for s in 'map 0' 'unmap 0' 'map 4K, unmap 1' 'map 4K, unmap 0 100 4096' 'map' 'mmap 4K' ''; do
	$P verify --sequence "$s" >/dev/null 2>&1
	[ $? = 2 ] && ok || bad "verify --sequence '$s' accepted"
done
# Linux 6.1 has no allocate file: mapping fails with ENOENT there, and the
# model of 6.1 says so (the mmap rules and every map step agree).
rm "$(cd "$S/bus/pci/devices/0000:04:00.0" && pwd -P)/p2pmem/allocate"
out=$($P --kernel 6.1 verify --provider 0000:04:00.0 --sequence 'map 4K, unmap 0' --mmap-rules 2>&1)
[ $? = 0 ] && ok || bad "6.1 --sequence and --mmap-rules: $out"
grep -q "map 4K .*ENOENT, available 16711680  (predicted ENOENT, 16711680)  \[agree\]" <<<"$out" && ok || bad "6.1 map: $out"
grep -q "unmap 0 .*not run, available 16711680  (predicted not run, 16711680)  \[agree\]" <<<"$out" && ok || bad "6.1 unmap: $out"
grep -q "0000:04:00.0 mmap rules: cannot open p2pmem/allocate: ENOENT (predicted ENOENT, ENOENT, ENOENT)  \[agree\]" <<<"$out" && ok || bad "6.1 mmap rules: $out"
# Nothing to test: exit 2.
"$BIN" --sysfs "$S" verify --dev-dir "$tmp/nonexistent" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "nothing was tested" "$tmp/err" && ok || bad "verify with no readable device: $(cat "$tmp/err")"
$P verify --size 1000 >/dev/null 2>&1
[ $? = 2 ] && ok || bad "verify --size 1000 accepted"
finish
