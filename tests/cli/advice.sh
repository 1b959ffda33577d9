#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# advice.sh - advice a user can paste without breaking the machine, and the
# CLI's handling of what people feed it: one check per reported problem
# (each failed on 0.1.0).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { bad "python3 missing"; finish; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
X="--no-names --kernel 6.12 --example xeon-8gpu"
E="--no-names --example epyc-2s"

# json FILE EXPR: evaluate a Python expression on the parsed JSON as j.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
# check NAME CONDITION-OUTPUT: "True" passes.
is_true() { if [ "$2" = True ]; then ok; else bad "$1 (got '$2')"; fi; }
has() { if grep -qF -- "$2" "$3"; then ok; else bad "$1: no '$2' in $(head -c 400 "$3")"; fi; }
hasnt() { if grep -qF -- "$2" "$3"; then bad "$1: '$2' in output"; else ok; fi; }
rc_is() { if [ "$2" = "$3" ]; then ok; else bad "$1: exit $2, want $3"; fi; }

# --- 1. a fix merges the machine's own parameters; report gives one line ---
$BIN $X fix --json 18:00.0 19:00.0 >"$tmp/fix.json"; rc_is "fix xeon 18-19" $? 0
is_true "fix keeps the machine's a9 list" "$(json "$tmp/fix.json" "'0000:a9:00.0' in j['kernel_cmdline'] and '0000:17:00.0' in j['kernel_cmdline']")"
is_true "fix is verified over every BUS_ADDR pair" "$(json "$tmp/fix.json" "j['verified'] and all(v['bus_addr_pairs_lost'] == 0 for v in j['variants'] if v['works'])")"
is_true "fix warns about the parameter it replaces" "$(json "$tmp/fix.json" "any('replaces the machine' in w for w in j['warnings'])")"
$BIN $X report --json >"$tmp/report.json"
is_true "report has one kernel_cmdline for the machine" "$(json "$tmp/report.json" "all(d in j['kernel_cmdline'] for d in ('0000:a9:00.0','0000:17:00.0','0000:28:00.0','0000:99:00.0')) and ' ' not in j['kernel_cmdline']")"
is_true "report's line loses no BUS_ADDR pair" "$(json "$tmp/report.json" "j['machine_fix']['verified'] and j['machine_fix']['bus_addr_pairs_lost'] == 0")"
# What the user pastes, booted: the a9 group stays, 17 joins.
line=$(json "$tmp/report.json" "j['kernel_cmdline']")
$BIN $X --cmdline "$line" check --json aa:00.0 ab:00.0 >"$tmp/c.json"
is_true "pasted line keeps aa-ab BUS_ADDR" "$(json "$tmp/c.json" "j['clients'][0]['map_type'] == 'BUS_ADDR'")"
$BIN $X --cmdline "$line" check --json 18:00.0 19:00.0 >"$tmp/c.json"
is_true "pasted line makes 18-19 BUS_ADDR" "$(json "$tmp/c.json" "j['clients'][0]['map_type'] == 'BUS_ADDR'")"

# --- 2. the what-if boot inside fix keeps the AMD Zen CPU rule ---
$BIN $E fix --json 42:00.0 42:00.2 >"$tmp/f2.json"
is_true "epyc fix: no variant is NOT_SUPPORTED" "$(json "$tmp/f2.json" "j['map_type'] == 'THRU_HOST_BRIDGE' and all(v['map_type'] != 'NOT_SUPPORTED' for v in j['variants'])")"

# --- 3. an already-allowed pair: what holds, exit 0 ---
$BIN $X fix --json 18:00.0 29:00.0 >"$tmp/f3.json"; rc_is "fix allowed xeon" $? 0
is_true "xeon: allow list met, named once" "$(json "$tmp/f3.json" "j['status'] == 'allowed_no_common_switch' and [r['kind'] for r in j['requirements'] if r['met']] == ['allow_list']")"
$BIN $E fix --json 41:00.0 c1:00.0 >"$tmp/f3b.json"; rc_is "fix allowed epyc" $? 0
is_true "epyc: the CPU rule is what admits it" "$(json "$tmp/f3b.json" "[r['kind'] for r in j['requirements'] if r['met']] == ['amd_zen_cpu_rule']")"
$BIN $X fix 18:00.0 29:00.0 >"$tmp/f3.txt"
has "fix text says what holds" "allowed through the host bridge" "$tmp/f3.txt"

# --- 4. --iommu keeps the machine's own disable_acs_redir ---
$BIN $X --iommu check --json aa:00.0 ab:00.0 >"$tmp/i.json"
is_true "--iommu: aa-ab stays BUS_ADDR" "$(json "$tmp/i.json" "j['clients'][0]['map_type'] == 'BUS_ADDR'")"
is_true "--iommu: a note says the line is applied again" "$(json "$tmp/i.json" "any('applied again in this boot' in n for n in j['notes'])")"

# --- 5. --cmdline warnings ---
$BIN $X --cmdline 'pci=disable_acs_redir=0000:16:01.0' tree >"$tmp/w1.txt"
has "nonexistent device" "matches no function" "$tmp/w1.txt"
$BIN $X --cmdline 'pci=disable_acs_redir=0000:17:00.0,0000:17:01.0' tree >"$tmp/w2.txt"
has "comma cuts the list" "',' ends a pci= option" "$tmp/w2.txt"
$BIN $X --cmdline 'pci=disable_acs_redir=0000:17:00.0 pci=disable_acs_redir=0000:17:01.0' tree >"$tmp/w3.txt"
has "repeated option" "only the last one takes effect" "$tmp/w3.txt"
# The man page's example runs and does what it says.
ex=$(sed -n "s/^p2pdma \\\\-\\\\-example xeon\\\\-8gpu \\\\-\\\\-cmdline '\(.*\)' check \(.*\)$/\1|\2/p" "$SRC/doc/p2pdma.1" | sed 's/\\-/-/g')
[ -n "$ex" ] || bad "man page example with --cmdline not found"
# shellcheck disable=SC2086
$BIN $X --cmdline "${ex%%|*}" check --json ${ex#*|} >"$tmp/man.json"
is_true "man page example: BUS_ADDR, no warning" "$(json "$tmp/man.json" "j['clients'][0]['map_type'] == 'BUS_ADDR' and not any('matches no function' in n for n in j['notes'])")"

# --- 6. a dump with AMD host bridges says up front that the CPU decides ---
$BIN --no-names --dump "$FIX/dumps/example-epyc-2s.lspci" check 41:00.0 c1:00.0 >"$tmp/d.txt"
if head -1 "$tmp/d.txt" | grep -q "host bridges are AMD.*--cpu"; then ok; else bad "no up-front CPU note: $(head -1 "$tmp/d.txt")"; fi

# --- say why the host bridge matters ---
has "check says why" "why the host bridge matters" "$tmp/d.txt"
$BIN --no-names --example arm-server report >"$tmp/arm.txt"
has "report cites the Arm program" "BSA" "$tmp/arm.txt"
hasnt "no AMD Zen advice on an Arm machine" "an AMD Zen CPU," "$tmp/arm.txt"

# --- control characters are escaped ---
printf '{"p2pdma_topology": 1, "devices": [{"bdf": "0000:00:00.0", "vendor": "0x8086", "device": "0x2020", "class": "0x060000", "driver": "\\u001b[31mEVIL\\u0007"}]}' >"$tmp/esc.json"
$BIN --no-names --topology "$tmp/esc.json" tree >"$tmp/esc.txt"
if LC_ALL=C grep -q $'\x1b\|\x07' "$tmp/esc.txt"; then bad "raw control characters in tree output"; else ok; fi
has "escaped as \\x1b" '\x1b[31mEVIL\x07' "$tmp/esc.txt"

# --- deep chains: every function printed, the depth marked ---
python3 - "$tmp/deep.json" <<'EOF'
import json, sys
devs = [{"bdf": "0000:00:00.0", "vendor": "0x8086", "device": "0x2020", "class": "0x060000"}]
n = 200
for b in range(n):
    devs.append({"bdf": "0000:%02x:00.0" % b, "vendor": "0x10b5", "device": "0x8747",
                 "class": "0x060400", "pcie_type": "downstream_port" if b else "root_port",
                 "secondary_bus": hex(b + 1), "subordinate_bus": hex(n)})
devs[1]["bdf"] = "0000:00:01.0"
devs.append({"bdf": "0000:%02x:00.0" % n, "vendor": "0x10de", "device": "0x2330", "class": "0x030200", "pcie_type": "endpoint"})
json.dump({"p2pdma_topology": 1, "devices": devs}, open(sys.argv[1], "w"))
EOF
$BIN --no-names --topology "$tmp/deep.json" tree >"$tmp/deep.txt"; rc_is "deep tree" $? 0
lines=$(grep -c "0000:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]\.[0-7] " "$tmp/deep.txt")
if [ "$lines" -ge 202 ]; then ok; else bad "deep tree printed $lines functions of 202"; fi
has "deep tree marks the depth" "[depth 200]" "$tmp/deep.txt"

# --- validation and consistent messages ---
$BIN $X --acs-set 17:00.0=0x80 tree >/dev/null 2>"$tmp/e"; rc_is "--acs-set 0x80" $? 2
printf '{"p2pdma_topology": 1, "machine": {"kernel": "3.10"}, "devices": [{"bdf": "0000:00:00.0", "vendor": "0x8086", "device": "0x2020", "class": "0x060000"}]}' >"$tmp/k310.json"
$BIN --topology "$tmp/k310.json" tree >"$tmp/k.txt"
$BIN --topology "$tmp/k310.json" --kernel 3.10 tree >/dev/null 2>"$tmp/k.err"
has "JSON 3.10 reads like --kernel 3.10" "has no P2PDMA" "$tmp/k.txt"
has "--kernel 3.10" "has no P2PDMA" "$tmp/k.err"
$BIN $X --kernel 99.99 tree >"$tmp/k99.txt"
has "--kernel 99.99 gets a note" "newer than the newest modelled release" "$tmp/k99.txt"
$BIN $E --cpu AuthenticAMD:25:1 check --json 41:00.0 c1:00.0 >"$tmp/cpu.json" 2>"$tmp/cpu.err"; rc_is "--cpu V:F:M" $? 0
is_true "--cpu AuthenticAMD:25:1 is AMD Zen" "$(json "$tmp/cpu.json" "j['clients'][0]['cpu_rule']")"

# --- consistency ---
$BIN examples --json >"$tmp/ex.json"; rc_is "examples --json" $? 0
is_true "examples --json is JSON" "$(json "$tmp/ex.json" "len(j['examples']) >= 4")"
$BIN examples --help >/dev/null; rc_is "examples --help" $? 0
$BIN examples stray >/dev/null 2>&1; rc_is "examples stray argument" $? 2
$BIN $X matrix --devices 17:00.0,18:00.0 >/dev/null 2>&1; rc_is "matrix --devices with a bridge" $? 2
$BIN $X matrix --class '' >/dev/null 2>&1; rc_is "matrix --class ''" $? 2
$BIN $X export --json --dump >/dev/null 2>&1; rc_is "export --json --dump" $? 2
is_true "report --json: structured example_pair, no prose in fields" "$(json "$tmp/report.json" "all(isinstance(r['example_pair'], dict) and 'fix' not in r for r in j['reasons'])")"

# --- wording: plural forms ---
printf '{"p2pdma_topology": 1, "devices": [{"bdf": "0000:00:00.0", "vendor": "0x8086", "device": "0x2020", "class": "0x060000"}]}' >"$tmp/one.json"
$BIN --no-names --topology "$tmp/one.json" tree >"$tmp/one.txt"
has "1 function, 1 host bridge" "1 function, 1 host bridge" "$tmp/one.txt"
$BIN --no-names --example arm-server report >"$tmp/arm.txt"
has "1 pair," "1 pair, e.g." "$tmp/arm.txt"
for o in --class --devices --all --bar --seed --no-names --version --require-interesting "3 report"; do
	has "man page names $o" "$(sed 's/-/\\-/g' <<<"$o")" "$SRC/doc/p2pdma.1"
done

# --- errors under --json are JSON on stderr, same exit codes ---
$BIN --json --dump "$tmp/no-such" tree >/dev/null 2>"$tmp/je"; rc_is "--json error exit" $? 2
is_true "--json error is JSON" "$(json "$tmp/je" "'no-such' in j['error'] and j['exit_status'] == 2")"
$BIN --json $X check --bogus 1 2 >/dev/null 2>"$tmp/je2"; rc_is "--json bad option exit" $? 2
is_true "--json bad option is JSON" "$(json "$tmp/je2" "'--bogus' in j['error']")"
finish
