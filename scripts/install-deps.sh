#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# install-deps.sh - install the Debian packages a target needs, only if missing.
# Usage: scripts/install-deps.sh build|test|conformance|fresh-root...
#   build       what scripts/run.sh needs (the library, the CLI, the report)
#   test        build + what scripts/check.sh's builds and tests need
#   conformance the QEMU harness (conformance/run.sh)
#   fresh-root  scripts/fresh-root.sh (a debootstrapped Debian 12 root)
# On failure it says which apt-get step failed and prints its output.
set -uo pipefail

pkgs_build=(meson ninja-build pkg-config gcc libc6-dev python3 libpci-dev libjansson-dev pciutils pci.ids
            libgraphviz-dev libxml2-dev libarchive-dev)
# graphviz: dot for the graph's DOT output; Chromium and Selenium (Debian's
# /usr/bin/python3) run the HTML report in a headless browser; hwloc's lstopo
# is an oracle for the hwloc reader.
pkgs_test=(libcmocka-dev clang binutils gzip pciutils graphviz chromium chromium-driver python3-selenium hwloc)
pkgs_conformance=(qemu-system-x86 busybox-static linux-source-6.12 linux-source-6.1 ccache bc flex bison
                  libelf-dev libssl-dev libc6-dev cpio xz-utils make perl)
pkgs_fresh_root=(debootstrap debian-archive-keyring gpgv git tar gzip mount)

die() { echo "install-deps: $*" >&2; exit 1; }

want=()
for group in "$@"; do
	case "$group" in
	build) want+=("${pkgs_build[@]}") ;;
	test) want+=("${pkgs_build[@]}" "${pkgs_test[@]}") ;;
	conformance) want+=("${pkgs_conformance[@]}") ;;
	fresh-root) want+=("${pkgs_fresh_root[@]}") ;;
	*) echo "install-deps: unknown group '$group' (build, test, conformance, fresh-root)" >&2; exit 2 ;;
	esac
done

command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
	die "needs dpkg-query and apt-get (Debian); install by hand: ${want[*]}"
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
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: as root, run apt-get install ${missing[*]}"
	sudo_=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp "${TMPDIR:-/tmp}/p2pdma-apt.XXXXXX") || die "mktemp failed"
trap 'rm -f "$log"' EXIT
apt_install() { "${sudo_[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; }
# A fresh machine (or a stale package list) has no lists to install from:
# then refresh them once and retry.
if ! apt_install; then
	echo "install-deps: apt-get install failed; running apt-get update and retrying"
	if ! "${sudo_[@]}" apt-get update -q >"$log" 2>&1; then
		cat "$log" >&2
		die "apt-get update failed (its output is above)"
	fi
	if ! apt_install; then
		cat "$log" >&2
		die "apt-get install ${missing[*]} failed (its output is above)"
	fi
fi
