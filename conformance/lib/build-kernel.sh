#!/usr/bin/env bash
# Build (once) the instrumented conformance kernels.
# Usage: build-kernel.sh VERSION...   (VERSION: 6.12, 6.1 = Debian's linux-source-VERSION)
#   -> prints "VERSION PATH-OF-CACHED-bzImage" per version on stdout.
# Cold versions are built concurrently (each with -j$(nproc), under nice):
# their serial phases (tarball extraction, kconfig, link, compression)
# overlap with the other's compile.
# Env: KSRC_DIR (default /usr/src: linux-source-VERSION.tar.xz)
#      KSRC_TARBALL (one version only: use this tarball)
#      P2PDMA_KCACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/libp2pdma)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${P2PDMA_KCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libp2pdma}
frag=$here/kernel.config
[ $# -gt 0 ] || { echo "usage: build-kernel.sh VERSION..." >&2; exit 2; }

tarball_of() { # VERSION
    if [ -n "${KSRC_TARBALL:-}" ] && [ $# -eq 1 ]; then echo "$KSRC_TARBALL"
    else echo "${KSRC_DIR:-/usr/src}/linux-source-$1.tar.xz"; fi
}
patch_of() { echo "$here/p2pdma-verdict-$1.patch"; }
# The fragments of one kernel: the common one, then its own (if any).
frags_of() { # VERSION
    echo "$frag"
    [ ! -r "$here/kernel-$1.config" ] || echo "$here/kernel-$1.config"
}
# The cache key: fragments, patch, tarball name and size (a new Debian
# upload of the same series is a new kernel).
hash_of() { # VERSION
    local t f; t=$(tarball_of "$1")
    { while read -r f; do cat "$f"; done < <(frags_of "$1"); cat "$(patch_of "$1")"
      basename "$t"; stat -c %s "$t"; } | sha256sum | cut -c1-16
}

build_one() { # VERSION HASH  (stdout: nothing; stderr: progress)
    local ver=$1 hash=$2 tarball patch out work log start src cc bad
    tarball=$(tarball_of "$ver"); patch=$(patch_of "$ver")
    out=$cache/kernel-$hash
    work=$cache/build-$hash
    rm -rf "$work"; mkdir -p "$work"
    log=$work/build.log
    echo "build-kernel: building $ver as kernel-$hash in $work (log: $log)" >&2
    start=$(date +%s)
    tar -C "$work" -xJf "$tarball"
    src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
    ( cd "$src" && patch -p1 --forward < "$patch" ) >>"$log" 2>&1 || {
        echo "build-kernel[$ver]: patch failed" >&2; tail -20 "$log" >&2; return 1; }
    export KBUILD_BUILD_TIMESTAMP='2024-01-01' KBUILD_BUILD_USER=conformance KBUILD_BUILD_HOST=libp2pdma
    cc=gcc
    # ccache in depend mode: a miss (every object of a cold build) does not run
    # the preprocessor a second time
    if command -v ccache >/dev/null 2>&1; then cc="ccache gcc"; export CCACHE_BASEDIR=$work CCACHE_NOHASHDIR=1 CCACHE_DEPEND=1; fi
    mk() { nice make -C "$src" ARCH=x86_64 CC="$cc" HOSTCC=gcc -j"$(nproc)" "$@" >>"$log" 2>&1; }
    mk tinyconfig
    # "# optional" lines are merged but not enforced
    frags_of "$ver" | while read -r f; do sed 's/[[:space:]]*# optional$//' "$f"; done > "$work/fragment.config"
    "$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$work/fragment.config" >>"$log" 2>&1
    mk olddefconfig
    # verify every enforced fragment line stuck
    bad=0
    while IFS= read -r line; do
        case "$line" in ''|'#'*|*'# optional') continue;; esac
        opt=${line%%=*}; val=${line#*=}
        if [ "$val" = n ]; then
            if grep -q "^$opt=" "$src/.config"; then echo "build-kernel[$ver]: $opt should be off but is: $(grep "^$opt=" "$src/.config")" >&2; bad=1; fi
        else
            got=$(grep "^$opt=" "$src/.config" | cut -d= -f2- || true)
            if [ "$got" != "$val" ]; then echo "build-kernel[$ver]: $opt=$val did not stick (got '${got:-unset}')" >&2; bad=1; fi
        fi
    done < <(frags_of "$ver" | while read -r f; do cat "$f"; done)
    grep -q '^CONFIG_PCI_P2PDMA=y' "$src/.config" || { echo "build-kernel[$ver]: CONFIG_PCI_P2PDMA=y did NOT stick" >&2; bad=1; }
    [ "$bad" = 0 ] || { echo "build-kernel[$ver]: config verification failed; see $src/.config" >&2; return 1; }
    mk bzImage || { echo "build-kernel[$ver]: kernel build failed:" >&2; grep -B2 -A8 -m5 'error:' "$log" >&2 || tail -40 "$log" >&2; return 1; }
    mkdir -p "$out"
    cp "$src/arch/x86/boot/bzImage" "$out/bzImage"
    cp "$src/.config" "$out/config"
    make -s -C "$src" kernelrelease > "$out/release" 2>/dev/null || true
    echo "$(( $(date +%s) - start ))" > "$out/build-seconds"
    rm -rf "$work"
    echo "build-kernel: $ver done in $(cat "$out/build-seconds") s" >&2
}

mkdir -p "$cache"
pids=() vers=()
for ver in "$@"; do
    t=$(tarball_of "$ver")
    [ -r "$t" ] || { echo "build-kernel: missing $t (apt-get install linux-source-$ver)" >&2; exit 1; }
    [ -r "$(patch_of "$ver")" ] || { echo "build-kernel: no instrumentation patch for $ver ($(patch_of "$ver"))" >&2; exit 1; }
    h=$(hash_of "$ver")
    [ -s "$cache/kernel-$h/bzImage" ] && continue
    # one builder per kernel: a second caller (another checkout, or
    # check.sh's early start) waits for the first and takes its result
    (
        exec 9>"$cache/kernel-$h.lock"
        flock 9
        [ -s "$cache/kernel-$h/bzImage" ] || build_one "$ver" "$h"
    ) & pids+=($!); vers+=("$ver")
done
rc=0
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { echo "build-kernel: ${vers[$i]} failed" >&2; rc=1; }
done
[ "$rc" = 0 ] || exit 1
for ver in "$@"; do
    echo "$ver $cache/kernel-$(hash_of "$ver")/bzImage"
done
