#!/usr/bin/env bash
# Build the guest initramfs (busybox-static, real lspci, optional p2pdma).
# Usage: mkinitramfs.sh OUTPUT.cpio.gz [P2PDMA_BIN]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$1; p2pbin=${2:-}
root=$(mktemp -d "${TMPDIR:-/tmp}/p2pinitrd.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,usr/share/misc,lib64,lib/x86_64-linux-gnu}
cp /bin/busybox "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
copy_with_libs() { # BIN DEST
    cp -L "$1" "$root/$2"
    { ldd "$1" 2>/dev/null || true; } | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do
        [ -n "$lib" ] || continue
        mkdir -p "$root$(dirname "$lib")" "$root/usr/lib"
        cp -L "$lib" "$root$lib"
        # also where the guest's LD_LIBRARY_PATH looks ($ORIGIN runpaths of a
        # build tree do not resolve from /usr/bin)
        cp -L "$lib" "$root/usr/lib/$(basename "$lib")"
    done
}
copy_with_libs "$(command -v lspci)" usr/bin/lspci
[ -f /usr/share/misc/pci.ids ] && cp /usr/share/misc/pci.ids "$root/usr/share/misc/pci.ids"
if [ -n "$p2pbin" ]; then
    copy_with_libs "$p2pbin" usr/bin/p2pdma
fi
# O_DIRECT <-> p2pmem checker (static, built by run.sh)
[ -n "${P2PCOPY:-}" ] && cp "$P2PCOPY" "$root/usr/bin/p2pcopy"
cp "$here/guest/init" "$root/init"; chmod +x "$root/init"
cp "$here/capture-sysfs.sh" "$root/capture-sysfs.sh"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -1 > "$out"
