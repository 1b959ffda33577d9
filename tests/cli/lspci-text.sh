#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# lspci-text.sh - lspci's text output read back (--lspci), checked against
# the dump it was printed from (--dump), for every machine under
# tests/fixtures/lspci-text (made by scripts/make-lspci-text.sh):
#  - every form loads (-vvv, -vvvnn, -vvvnnD, -vv, -v, plain -n, -tv, -tvnn, -t);
#  - the forms that carry ACSCtl (-vv and up) give the dump's verdicts for
#    every pair, exactly (matrix --json --all);
#  - pasted copies (indented, CRLF, a prompt line above) read the same.
# The shape of the other forms is compared in tests/unit/test-lspci.c.
. "$(dirname "$0")/lib.sh"
# The verdict pairs of a matrix --json, one per line.
pairs_of() { python3 -c 'import json, sys; [print(json.dumps(p, sort_keys=True)) for p in json.load(sys.stdin)["pairs"]]'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

forms="vvv vvvnn vvvnnD vv v n tv tvnn t"
drop_unknown_marks() {
	python3 -c 'import json,sys
m = json.load(sys.stdin)
for p in m.get("pairs", []):
    p.pop("map_type_if_acs_redirect", None)
m["notes"] = [n for n in m.get("notes", []) if "ACS unknown" not in n and "unknown ACS" not in n]
print(json.dumps(m, indent=2))'
}
acs_forms="vvv vvvnn vvvnnD vv"
machines=0 loads=0 verdicts=0
for dir in "$FIX"/lspci-text/*/; do
	n=$(basename "$dir")
	if [ -f "$FIX/kernel/$n/lspci-xxxx.txt.gz" ]; then
		gzip -dc "$FIX/kernel/$n/lspci-xxxx.txt.gz" >"$tmp/dump"
	elif [ -f "$FIX/dumps/$n.lspci" ]; then
		cp "$FIX/dumps/$n.lspci" "$tmp/dump"
	else
		bad "$n: no dump it was made from"
		continue
	fi
	machines=$((machines + 1))
	# A dump with 256-byte functions and none of 4096 (lspci -xxx).
	short=0
	if grep -q '^f0: ' "$tmp/dump" && ! grep -q '^ff0: ' "$tmp/dump" &&
		! grep -q 'access denied' <(lspci -F "$tmp/dump" -vv 2>/dev/null); then
		short=1
	fi
	ref=$("$BIN" --no-names --kernel 6.12 --dump "$tmp/dump" matrix --json --all 2>/dev/null) ||
		{ bad "$n: the dump does not load"; continue; }
	for f in $forms; do
		if [ ! -f "$dir/lspci-$f.txt.gz" ]; then bad "$n: lspci-$f.txt.gz missing"; continue; fi
		gzip -dc "$dir/lspci-$f.txt.gz" >"$tmp/text"
		if ! "$BIN" --no-names --lspci "$tmp/text" tree >/dev/null 2>"$tmp/err"; then
			bad "$n -$f does not load: $(head -1 "$tmp/err")"
			continue
		fi
		loads=$((loads + 1))
		ok
		case " $acs_forms " in *" $f "*) ;; *) continue ;; esac
		got=$("$BIN" --no-names --kernel 6.12 --lspci "$tmp/text" matrix --json --all 2>/dev/null)
		# Text lspci -F printed from a 256-byte dump (-xxx) cannot show that
		# the extended space was never read: there ACS reads as absent and
		# only the dump's "unknown" marks are lost. Compare without them.
		if [ "$short" = 1 ]; then
			got=$(drop_unknown_marks <<<"$got")
			refc=$(drop_unknown_marks <<<"$ref")
		else
			refc=$ref
		fi
		# The verdicts, not the notes: a text without IDs cannot say what
		# the dump's host bridges say about the CPU.
		got=$(pairs_of <<<"$got")
		refc=$(pairs_of <<<"$refc")
		if [ "$got" != "$refc" ]; then
			bad "$n -$f: verdicts differ from the dump's"
			diff <(echo "$refc") <(echo "$got") | head -8
			continue
		fi
		verdicts=$((verdicts + 1))
		ok
	done
	# As pasted: indented four spaces, CRLF, the command above it.
	gzip -dc "$dir/lspci-vvvnn.txt.gz" |
		{ echo 'user@host:~$ sudo lspci -vvvnn'; sed 's/^/    /'; echo 'user@host:~$ '; } |
		sed 's/$/\r/' >"$tmp/pasted"
	got=$("$BIN" --no-names --kernel 6.12 --lspci - matrix --json --all <"$tmp/pasted" 2>"$tmp/err")
	[ "$short" = 1 ] && { got=$(drop_unknown_marks <<<"$got"); refc=$(drop_unknown_marks <<<"$ref"); } || refc=$ref
	if [ "$(pairs_of <<<"$got")" != "$(pairs_of <<<"$refc")" ]; then bad "$n: pasted -vvvnn differs: $(head -1 "$tmp/err")"; else ok; fi
done
# A live capture's own text (lspci -vvvnnk run on the machine, with drivers
# and sizes) against the dump taken there at the same time.
ref=$("$BIN" --no-names --kernel 6.12 --dump "$FIX/dumps/host-virtio.lspci" matrix --json --all 2>/dev/null)
got=$("$BIN" --no-names --kernel 6.12 --lspci "$FIX/dumps/host-virtio.lspci-vvvnnk" matrix --json --all 2>"$tmp/err")
if [ "$(pairs_of <<<"$got")" = "$(pairs_of <<<"$ref")" ]; then ok; verdicts=$((verdicts + 1)); else bad "host-virtio live -vvvnnk differs: $(head -1 "$tmp/err")"; fi
for f in n tv tvnn; do
	if "$BIN" --no-names --lspci "$FIX/dumps/host-virtio.lspci-$f" tree >/dev/null 2>"$tmp/err"; then
		ok; loads=$((loads + 1))
	else
		bad "host-virtio live -$f does not load: $(head -1 "$tmp/err")"
	fi
done
[ "$machines" -ge 50 ] || bad "only $machines machines under $FIX/lspci-text (expected 50 kernel fixtures and more)"
echo "lspci-text: $machines machines, $loads forms loaded, $verdicts verdict matrices equal to the dump's"
finish
