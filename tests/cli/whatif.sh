#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# whatif.sh - the what-if options do what they say (doc/kernel-model.md §2.7, issue #3):
# --cmdline '' applies nothing; a command line is a whole new boot; --iommu
# sets the kernel's default ACS bits; --acs-* edit one register.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
k=$FIX/kernel/mf-rp-qemu64-iommu-disredir
[ -d "$k" ] || { skipped "no kernel fixture $k"; finish; }
gzip -dc "$k/lspci-xxxx.txt.gz" >"$tmp/d.lspci"
P="$BIN --no-names --kernel 6.12 --cpu $(cat "$k/cpu") --dump $tmp/d.lspci"

# map type of PROVIDER CLIENT under extra options
mt() { local p=$1 c=$2; shift 2; $P "$@" check "$p" "$c" --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["clients"][0]["map_type"])'; }
same() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }

# The capture booted with pci=disable_acs_redir=0000:00:02.0: the two
# functions below that root port are BUS_ADDR (the kernel said so).
same "captured state" "$(mt 01:00.0 01:00.1)" BUS_ADDR
same "--cmdline '' applies nothing" "$(mt 01:00.0 01:00.1 --cmdline '')" BUS_ADDR
same "--cmdline ' ' applies nothing" "$(mt 01:00.0 01:00.1 --cmdline ' ')" BUS_ADDR
# A new boot without that parameter, the IOMMU requesting ACS again: the
# root port gets RR|CR back, the pair goes up to the host bridge, which
# QEMU's q35 (8086:29c0) may not cross without the CPU rule. The dump says
# nothing of an IOMMU, but the other root port (00:03.0) shows exactly the
# kernel's default bits, so the tool infers one and says so.
same "boot without disable_acs_redir" "$(mt 01:00.0 01:00.1 --cmdline 'quiet')" NOT_SUPPORTED
if { $P --cmdline quiet check 01:00.0 01:00.1 || true; } | grep -q "carry the IOMMU's default bits"; then ok; else bad "no note about the inferred IOMMU"; fi
same "same with --iommu" "$(mt 01:00.0 01:00.1 --cmdline 'quiet' --iommu)" NOT_SUPPORTED
same "boot with it again" "$(mt 01:00.0 01:00.1 --iommu --cmdline 'pci=disable_acs_redir=0000:00:02.0')" BUS_ADDR
same "boot with config_acs clearing RR/CR" "$(mt 01:00.0 01:00.1 --iommu --cmdline 'pci=config_acs=xx00xx@0000:00:02.0')" BUS_ADDR
same "config_acs entry for another device" "$(mt 01:00.0 01:00.1 --iommu --cmdline 'pci=config_acs=xx00xx@0000:00:03.0')" NOT_SUPPORTED
same "register edit sets RR" "$(mt 01:00.0 01:00.1 --acs-set 0000:00:02.0=RR)" NOT_SUPPORTED
same "register edit on the endpoint has no ACS" "$($P --acs-set 0000:01:00.0=RR tree >/dev/null 2>&1; echo $?)" 2

# --iommu on a capture made without an IOMMU turns the defaults on.
k2=$FIX/kernel/mf-rp-qemu64
if [ -d "$k2" ]; then
	gzip -dc "$k2/lspci-xxxx.txt.gz" >"$tmp/e.lspci"
	P="$BIN --no-names --kernel 6.12 --cpu $(cat "$k2/cpu") --dump $tmp/e.lspci"
	same "no IOMMU: BUS_ADDR" "$(mt 01:00.0 01:00.1)" BUS_ADDR
	same "--iommu: root port redirects" "$(mt 01:00.0 01:00.1 --iommu)" NOT_SUPPORTED
	same "--iommu + --cpu amd:23: Zen rule" "$(mt 01:00.0 01:00.1 --iommu --cpu amd:23)" THRU_HOST_BRIDGE
fi

# --allow: rows after the built-in table (first match decides). xeon-8gpu's
# host devices are 8086:09a2 (built-in from 5.18, no REQ_SAME_HOST_BRIDGE);
# 18:00.0 -> 29:00.0 crosses host bridges, 18:00.0 -> 19:00.0 stays below one.
P="$BIN --no-names --cpu intel:6 --example xeon-8gpu"
same "--allow: built-in 09a2 row decides first" "$(mt 18:00.0 29:00.0 --kernel 6.12 --allow 8086:09a2:same-host-bridge)" THRU_HOST_BRIDGE
same "5.17 has no 09a2 row" "$(mt 18:00.0 29:00.0 --kernel 5.17)" NOT_SUPPORTED
same "5.17 + --allow 09a2" "$(mt 18:00.0 29:00.0 --kernel 5.17 --allow 8086:09a2)" THRU_HOST_BRIDGE
same "5.17 + same-host-bridge row: across refused" "$(mt 18:00.0 29:00.0 --kernel 5.17 --allow 8086:09a2:same-host-bridge)" NOT_SUPPORTED
same "5.17 + same-host-bridge row: below one admitted" "$(mt 18:00.0 19:00.0 --kernel 5.17 --allow 8086:09a2:same-host-bridge)" THRU_HOST_BRIDGE
same "first added row decides" "$(mt 18:00.0 29:00.0 --kernel 5.17 --allow 8086:09a2:same-host-bridge --allow 8086:09a2)" NOT_SUPPORTED
same "5.3 (no table) ignores added rows" "$(mt 18:00.0 29:00.0 --kernel 5.3 --allow 8086:09a2)" NOT_SUPPORTED
finish
