#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# install-deps.sh - install the Debian packages a target needs, only if missing.
# Usage: scripts/install-deps.sh build|test|conformance...
set -euo pipefail

pkgs_build=(meson ninja-build pkg-config gcc libc6-dev python3 libpci-dev libjansson-dev pciutils pci.ids)
pkgs_test=(libcmocka-dev clang binutils gzip pciutils)
pkgs_conformance=(qemu-system-x86 busybox-static linux-source-6.12 linux-source-6.1 ccache bc flex bison
                  libelf-dev libssl-dev libc6-dev cpio xz-utils make perl)

want=()
for group in "$@"; do
	case "$group" in
	build) want+=("${pkgs_build[@]}") ;;
	test) want+=("${pkgs_build[@]}" "${pkgs_test[@]}") ;;
	conformance) want+=("${pkgs_conformance[@]}") ;;
	*) echo "install-deps: unknown group '$group' (build, test, conformance)" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing+=("$p") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

# dedupe, keep order
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
echo "install-deps: installing ${missing[*]}"
sudo_=()
[ "$(id -u)" = 0 ] || sudo_=(sudo)
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo_[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/p2pdma-apt.log 2>&1; then
	"${sudo_[@]}" apt-get update -q >/dev/null
	"${sudo_[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
