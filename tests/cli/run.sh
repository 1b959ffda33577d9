#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh - p2pdma run: the bundled scenarios hold, JSON output, exit codes
# 1 (an expectation failed, line named) and 2 (malformed, line named),
# includes (relative paths, cycles, depth), and the README's transcript.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every bundled scenario runs with all its expectations holding, and
# checks something (at least one expectation per scenario).
n=0
for f in "$SRC"/examples/scenarios/*.p2ps; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	if out=$("$BIN" run --quiet "$f" 2>&1); then
		grep -q ", 0 failed$" <<<"$out" && ok || bad "$f: $out"
		grep -qE ", [1-9][0-9]* expectations?, 0 failed$" <<<"$out" && ok || bad "$f checks nothing: $out"
	else
		bad "$f exits $?: $out"
	fi
done
[ "$n" -ge 24 ] && ok || bad "only $n scenarios in examples/scenarios"

# --json: one object per step, each parses, errno names where they fail.
f=$SRC/examples/scenarios/teardown.p2ps
"$BIN" run --json "$f" >"$tmp/out.json" 2>"$tmp/err" && ok || bad "run --json $f failed"
steps=$(wc -l <"$tmp/out.json")
[ "$steps" -ge 20 ] && ok || bad "--json printed $steps lines"
if command -v python3 >/dev/null; then
	python3 - "$tmp/out.json" <<'EOF' && ok || bad "--json objects malformed"
import json, sys
names = set()
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert set(o) >= {"file", "line", "step", "verb", "errno", "errno_name", "fields", "lines", "expects"}, o
    assert isinstance(o["line"], int)
    if o["errno"]:
        assert o["errno_name"].startswith("E"), o
    names.add(o["errno_name"])
    for e in o["expects"]:
        assert e["held"] is True, e
assert "EINPROGRESS" in names and "ETIMEDOUT" in names, names
EOF
fi

# --json of the dma-buf and VFIO layers: the importers told, the map type,
# the errno of a use after revoke.
f=$SRC/examples/scenarios/dmabuf-move-notify.p2ps
"$BIN" run --json "$f" >"$tmp/dmabuf.json" 2>"$tmp/err" && ok || bad "run --json $f failed"
if command -v python3 >/dev/null; then
	python3 - "$tmp/dmabuf.json" <<'EOF' && ok || bad "--json of the dma-buf verbs"
import json, sys
steps = [json.loads(l) for l in open(sys.argv[1])]
revoke = [o for o in steps if o["verb"] == "revoke"][0]
assert revoke["fields"]["notified"] == "nic rogue pinned ufd", revoke
assert revoke["fields"]["move_notify"] == "4", revoke
assert any(l["kind"] == "dmesg" and "Invalidate callback" in l["text"] for l in revoke["lines"])
stale = [o for o in steps if o["errno_name"] == "ESTALE"]
assert len(stale) == 2 and all(o["verb"] == "dma-write" for o in stale), stale
assert any(o["fields"].get("map") == "BUS_ADDR" and o["fields"].get("mode") == "bus_addr" for o in steps)
EOF
fi

# A failed expectation: exit 1, the line named, the other steps still run.
cat >"$tmp/fail.p2ps" <<'EOF'
machine example nvmeof-target
boot
add-resource 0000:1a:00.0 4
expect EINVAL
alloc 0000:1a:00.0 4K
expect ok
EOF
"$BIN" run "$tmp/fail.p2ps" >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] && ok || bad "a failed expectation does not exit 1"
grep -q "fail.p2ps:4: expect EINVAL: the step returned 0 (ok)" "$tmp/err" && ok || bad "failure not named: $(cat "$tmp/err")"
grep -q "2 expectations, 1 failed" "$tmp/out" && ok || bad "summary: $(tail -1 "$tmp/out")"

# Malformed scripts: exit 2 and FILE:LINE in the message, nothing run.
malformed() {	# name, expected message part, script text
	printf '%s\n' "$3" >"$tmp/$1.p2ps"
	"$BIN" run "$tmp/$1.p2ps" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc = 2 ] && grep -qF -- "$2" "$tmp/err"; then ok; else bad "$1: exit $rc, $(cat "$tmp/err")"; fi
}
malformed unknown-verb "unknown-verb.p2ps:2: unknown verb 'allocate'" $'machine example workstation\nallocate 1 2'
malformed arity "arity.p2ps:1: boot: wrong number of arguments" 'boot now'
malformed quote "quote.p2ps:1: unterminated" 'cmdline "pci=noacs'
malformed expect-first "expect-first.p2ps:2: expect: no step before it" $'# nothing yet\nexpect ok'
malformed expect-empty "expect-empty.p2ps:2: expect what?" $'machine example workstation\nexpect'
malformed expect-arity "expect-arity.p2ps:2: expect ok: wrong number of arguments" $'machine example workstation\nexpect ok now'
malformed bad-as "bad-as.p2ps:1: boot makes nothing to name" 'boot as k'
malformed no-boot "no-boot.p2ps:2: alloc: no kernel yet" $'machine example workstation\nalloc 0000:01:00.0 4K'
malformed no-machine "no-machine.p2ps:1: boot: no machine" 'boot'
malformed no-dev "no-dev.p2ps:3: alloc: 0000:99:00.0: no such PCI function" $'machine example workstation\nboot\nalloc 0000:99:00.0 4K'
malformed no-handle "no-handle.p2ps:3: free: \$buf: no such handle" $'machine example workstation\nboot\nfree $buf'
malformed bad-number "bad-number.p2ps:3: alloc: '4Q' is not a number" $'machine example workstation\nboot\nalloc 0000:01:00.0 4Q'
malformed late-switch "late-switch.p2ps:3: kernel: policy switches go before boot" $'machine example workstation\nboot\nkernel 6.1'
malformed bad-kernel "bad-kernel.p2ps:2: kernel: 'banana'" $'machine example workstation\nkernel banana'
malformed twice "twice.p2ps:5: alloc: \$a is already defined" $'machine example workstation\nboot\nadd-resource 0000:01:00.0 1\nalloc 0000:01:00.0 4K as a\nalloc 0000:01:00.0 4K as a'
malformed swapped "swapped.p2ps:5: attach: \$b is a dmabuf, not a importer" $'machine example workstation\nboot\nexport system 0x100000000:4K as b\nimporter rdma 0000:04:00.0 as i\nattach $b $i'
malformed bad-export "bad-export.p2ps:3: export: 'dram': export system|p2pmem|mmio" $'machine example workstation\nboot\nexport dram 0:4K'
malformed bad-range "bad-range.p2ps:3: export: '4K': a range is OFFSET:LENGTH" $'machine example workstation\nboot\nexport system 4K'
malformed bad-field "bad-field.p2ps:3: vfio-feature: 'size=4': argsz=" $'machine example workstation\nboot\nvfio-feature 0000:01:00.0 size=4'
malformed bad-quirk "bad-quirk.p2ps:3: quirk: quirk NAME on|off" $'machine example workstation\nboot\nquirk fast on'
malformed put-twice "put-twice.p2ps:5: put: \$b: no such handle" $'machine example workstation\nboot\nexport system 0x100000000:4K as b\nput $b\nput $b'

# Includes: relative to the including file; cycles and depth refused.
mkdir -p "$tmp/inc/sub"
printf 'machine example workstation\nboot\n' >"$tmp/inc/sub/boot.p2ps"
printf 'include sub/boot.p2ps\nadd-resource 0000:01:00.0 1\nexpect ok\n' >"$tmp/inc/main.p2ps"
"$BIN" run "$tmp/inc/main.p2ps" >"$tmp/out" 2>&1 && ok || bad "include: $(cat "$tmp/out")"
grep -q "inc/sub/boot.p2ps:2  boot" "$tmp/out" && ok || bad "include: step not named after its file"
printf 'include b.p2ps\n' >"$tmp/inc/a.p2ps"
printf 'machine example workstation\ninclude a.p2ps\n' >"$tmp/inc/b.p2ps"
"$BIN" run "$tmp/inc/a.p2ps" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "b.p2ps:2: include a.p2ps: a cycle" "$tmp/err" && ok || bad "include cycle: $(cat "$tmp/err")"
for i in $(seq 0 17); do printf 'include d%d.p2ps\n' $((i + 1)) >"$tmp/inc/d$i.p2ps"; done
printf 'machine example workstation\n' >"$tmp/inc/d18.p2ps"
"$BIN" run "$tmp/inc/d0.p2ps" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "nested more than 16 deep" "$tmp/err" && ok || bad "include depth: $(cat "$tmp/err")"
"$BIN" run "$tmp/inc/missing.p2ps" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && ok || bad "a missing script does not exit 2"
"$BIN" run >/dev/null 2>&1
[ $? = 2 ] && ok || bad "run without a script does not exit 2"

# The README's transcripts are what the scenarios print (no drift): every
# run-transcript block, its first line the command, the rest its output.
readme=$SRC/README.md
awk -v dir="$tmp" '/<!-- run-transcript:begin -->/ { n++; f = dir "/readme-" n ".txt"; on = 1; next }
	/<!-- run-transcript:end -->/ { on = 0 }
	on && !/^```$/ { print > f }' "$readme"
blocks=0
for b in "$tmp"/readme-*.txt; do
	[ -e "$b" ] || continue
	blocks=$((blocks + 1))
	cmd=$(head -1 "$b" | sed 's/^\$ //')
	(cd "$SRC" && eval "${cmd/p2pdma/$BIN}") >"$tmp/actual.txt" 2>&1
	if [ "$(wc -l <"$tmp/actual.txt")" -gt 3 ] && diff -u <(tail -n +2 "$b") "$tmp/actual.txt" >"$tmp/diff"; then
		ok
	else
		bad "README transcript $blocks ($cmd) differs from the scenario's output:"; head -20 "$tmp/diff"
	fi
done
[ "$blocks" -ge 2 ] && ok || bad "README.md has $blocks run-transcript blocks, expected the NVMe-oF and the VFIO one"
finish
