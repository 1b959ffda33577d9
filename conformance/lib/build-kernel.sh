#!/usr/bin/env bash
# Build (once) the instrumented Linux 6.12 conformance kernel.
# Usage: build-kernel.sh   -> prints the path of the cached bzImage on stdout.
# Env: KSRC_TARBALL (default /usr/src/linux-source-6.12.tar.xz)
#      P2PDMA_KCACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/libp2pdma)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
cache=${P2PDMA_KCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libp2pdma}
frag=$here/kernel.config
patch=$here/p2pdma-verdict.patch

[ -r "$tarball" ] || { echo "build-kernel: missing $tarball (apt-get install linux-source-6.12)" >&2; exit 1; }
hash=$( { cat "$frag" "$patch"; basename "$tarball"; } | sha256sum | cut -c1-16)
out=$cache/kernel-$hash
if [ -s "$out/bzImage" ]; then
    echo "$out/bzImage"
    exit 0
fi
mkdir -p "$cache"
work=$cache/build-$hash
rm -rf "$work"; mkdir -p "$work"
log=$work/build.log
echo "build-kernel: building kernel-$hash in $work (log: $log)" >&2
start=$(date +%s)
tar -C "$work" -xJf "$tarball"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
( cd "$src" && patch -p1 --forward < "$patch" ) >>"$log" 2>&1 || {
    echo "build-kernel: patch failed" >&2; tail -20 "$log" >&2; exit 1; }
export KBUILD_BUILD_TIMESTAMP='2024-01-01' KBUILD_BUILD_USER=conformance KBUILD_BUILD_HOST=libp2pdma
cc=gcc
if command -v ccache >/dev/null 2>&1; then cc="ccache gcc"; export CCACHE_BASEDIR=$work CCACHE_NOHASHDIR=1; fi
mk() { make -C "$src" ARCH=x86_64 CC="$cc" HOSTCC=gcc -j"$(nproc)" "$@" >>"$log" 2>&1; }
mk tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$frag" >>"$log" 2>&1
mk olddefconfig
# verify every fragment line stuck
bad=0
while IFS= read -r line; do
    case "$line" in ''|'#'*) continue;; esac
    opt=${line%%=*}; val=${line#*=}
    if [ "$val" = n ]; then
        if grep -q "^$opt=" "$src/.config"; then echo "build-kernel: $opt should be off but is: $(grep "^$opt=" "$src/.config")" >&2; bad=1; fi
    else
        got=$(grep "^$opt=" "$src/.config" | cut -d= -f2- || true)
        if [ "$got" != "$val" ]; then echo "build-kernel: $opt=$val did not stick (got '${got:-unset}')" >&2; bad=1; fi
    fi
done < "$frag"
grep -q '^CONFIG_PCI_P2PDMA=y' "$src/.config" || { echo "build-kernel: CONFIG_PCI_P2PDMA=y did NOT stick" >&2; bad=1; }
[ "$bad" = 0 ] || { echo "build-kernel: config verification failed; see $src/.config" >&2; exit 1; }
mk bzImage || { echo "build-kernel: kernel build failed:" >&2; grep -B2 -A8 -m5 'error:' "$log" >&2 || tail -40 "$log" >&2; exit 1; }
mkdir -p "$out"
cp "$src/arch/x86/boot/bzImage" "$out/bzImage"
cp "$src/.config" "$out/config"
echo "$(( $(date +%s) - start ))" > "$out/build-seconds"
rm -rf "$work"
echo "build-kernel: done in $(cat "$out/build-seconds") s" >&2
echo "$out/bzImage"
