#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bad-input-sources.sh - the file sources (--dump, --topology, --lspci,
# --hwloc, --sysfs) read pipes, "-", /dev/stdin, <(...) and FIFOs; wrong
# files (a directory, /dev/zero, lspci text as a dump, garbled trees,
# hostile tarballs, oversized input) give one clear line naming the file,
# exit status 2, nothing on stdout, and no crash.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect STDERR-SUBSTRING ARGS... (stdin from $stdin_file if set)
expect() {
	local want=$1; shift
	local out err rc
	out=$("$BIN" "$@" 2>"$tmp/err" <"${stdin_file:-/dev/null}")
	rc=$?
	err=$(cat "$tmp/err")
	if [ $rc -ge 128 ]; then bad "crash ($rc): $*"; return; fi
	if [ $rc != 2 ]; then bad "exit $rc (want 2): $*  stderr: $err"; return; fi
	if [ -n "$out" ]; then bad "stdout not empty: $*"; return; fi
	if ! grep -qF -- "$want" <<<"$err"; then bad "stderr lacks '$want': $*  stderr: $err"; return; fi
	if [ "$(wc -l <<<"$err")" -gt 1 ]; then bad "more than one line on stderr: $*  stderr: $err"; return; fi
	ok
}

# works SUBSTRING-OF-STDOUT ARGS...: loads and prints the tree header
works() {
	local want=$1; shift
	local out rc
	out=$("$BIN" --no-names "$@" tree 2>"$tmp/err" <"${stdin_file:-/dev/null}")
	rc=$?
	if [ $rc != 0 ]; then bad "exit $rc: $*  stderr: $(head -2 "$tmp/err")"; return; fi
	if ! grep -qF -- "$want" <<<"$out"; then bad "stdout lacks '$want': $*"; return; fi
	ok
}

gzip -dc "$FIX/kernel/switch-epyc/lspci-xxxx.txt.gz" >"$tmp/dump"
gzip -dc "$FIX/lspci-text/switch-epyc/lspci-vvvnn.txt.gz" >"$tmp/vvvnn"
gzip -dc "$FIX/lspci-text/switch-epyc/lspci-tv.txt.gz" >"$tmp/tv"
gzip -dc "$FIX/hwloc/switch-epyc.v2.xml.gz" >"$tmp/hwloc.xml"
cp "$FIX/kernel/switch-epyc/sysfs.tar.gz" "$tmp/sysfs.tgz"

# Every file source reads each way a shell hands over a stream.
for src in "dump:$tmp/dump" "topology:$FIX/json/all-fields.json" "lspci:$tmp/vvvnn" \
	   "lspci:$tmp/tv" "hwloc:$tmp/hwloc.xml" "sysfs:$tmp/sysfs.tgz"; do
	opt=${src%%:*} file=${src#*:}
	stdin_file=$file works "<stdin>:" "--$opt" -
	stdin_file=$file works "/dev/stdin:" "--$opt" /dev/stdin
	works "functions" "--$opt" <(cat "$file")
	rm -f "$tmp/fifo"
	mkfifo "$tmp/fifo"
	(cat "$file" >"$tmp/fifo" &)
	works "$tmp/fifo:" "--$opt" "$tmp/fifo"
done

# A directory is a directory, whatever the source.
for opt in dump topology lspci hwloc; do
	expect "$tmp: is a directory" "--$opt" "$tmp" tree
done
# Endless or random streams fail at once, with the file named.
for opt in dump topology lspci hwloc; do
	expect "/dev/zero:1: NUL byte at offset 0" "--$opt" /dev/zero tree
	expect "/dev/urandom:" "--$opt" /dev/urandom tree
done
expect "/dev/zero: not a tar or tar.gz archive" --sysfs /dev/zero tree
# Over the size limit: refused before reading.
truncate -s 300M "$tmp/huge"
for opt in dump topology lspci hwloc sysfs; do
	expect "$tmp/huge: larger than 256 MiB, the limit" "--$opt" "$tmp/huge" tree
done
# A line no lspci prints.
head -c 5000 /dev/zero | tr '\0' 'x' >"$tmp/longline"
expect "$tmp/longline:1: line longer than 4096 bytes" --lspci "$tmp/longline" tree

# lspci's text where a dump is wanted: what it is and what to run.
expect "this is lspci's text output (lspci -v/-vv/-n), not a dump; capture one with 'sudo lspci -xxxx'" \
	--dump "$tmp/vvvnn" tree
expect "this is lspci's tree (lspci -t), not a dump" --dump "$tmp/tv" tree
gzip -dc "$FIX/lspci-text/switch-epyc/lspci-n.txt.gz" >"$tmp/n"
expect "or read this text as an lspci listing (--lspci)" --dump "$tmp/n" tree

# Garbled lspci text: the line.
printf -- '-[0000:00]-+-00.0\n           +-02.0-[01]--+-00.0\n           |            \\-00.1\n              \\-1f.0\n' >"$tmp/badtree"
expect "$tmp/badtree:4: column 15: this branch continues no open list above it" --lspci "$tmp/badtree" tree
head -c 200 "$tmp/tv" >"$tmp/cuttree"
expect "$tmp/cuttree:" --lspci "$tmp/cuttree" tree
printf 'hello\nworld\n' >"$tmp/garbage"
expect "$tmp/garbage:2: no lspci output found" --lspci "$tmp/garbage" tree

# Garbled or foreign XML.
printf '<topology version="2.0">\n<object type="Machine">\n' >"$tmp/cut.xml"
expect "$tmp/cut.xml:3:" --hwloc "$tmp/cut.xml" tree
printf '<?xml version="1.0"?>\n<svg/>\n' >"$tmp/svg.xml"
expect "$tmp/svg.xml:2: root element <svg>, not <topology>" --hwloc "$tmp/svg.xml" tree
expect "no PCI objects" --hwloc <(printf '<topology version="2.0"><object type="Machine"/></topology>\n') tree

# Hostile tarballs (Python's tarfile makes what tar refuses to).
if python3 - "$tmp" <<'PY'
import io, sys, tarfile
out = sys.argv[1]
def make(name, extra):
    with tarfile.open(out + '/' + name, 'w:gz') as tf:
        ti = tarfile.TarInfo('sysfs/bus/pci/devices'); ti.type = tarfile.DIRTYPE; tf.addfile(ti)
        tf.addfile(extra, io.BytesIO(b'x') if extra.type == tarfile.REGTYPE else None)
ti = tarfile.TarInfo('../evil'); ti.size = 1; make('dotdot.tgz', ti)
ti = tarfile.TarInfo('sysfs/link'); ti.type = tarfile.SYMTYPE; ti.linkname = '/etc'; make('abslink.tgz', ti)
ti = tarfile.TarInfo('sysfs/dev'); ti.type = tarfile.BLKTYPE; make('blk.tgz', ti)
PY
then
	expect "$tmp/dotdot.tgz: entry \"../evil\" climbs out with \"..\"" --sysfs "$tmp/dotdot.tgz" tree
	expect "$tmp/abslink.tgz: symlink sysfs/link -> /etc points outside the capture" --sysfs "$tmp/abslink.tgz" tree
	expect "$tmp/blk.tgz: sysfs/dev is a device node" --sysfs "$tmp/blk.tgz" tree
else
	skipped "python3 tarfile not available: hostile tarballs not made"
fi
printf 'not a tarball at all, but long enough to be looked at properly by the reader ....\n' >"$tmp/notar.tgz"
expect "$tmp/notar.tgz: not a tar or tar.gz archive" --sysfs "$tmp/notar.tgz" tree
finish
