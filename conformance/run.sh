#!/usr/bin/env bash
# libp2pdma kernel conformance harness (issue #4).
#
# Boots instrumented Linux kernels (Debian's 6.12 and 6.1) in QEMU (TCG) on
# emulated PCIe topologies, records the kernel's own calc_map_type_and_dist()
# verdicts for every ordered pair of endpoints, and compares them with (a) the
# committed goldens under tests/fixtures/kernel/ and (b) our p2pdma tool's
# predictions. Every scenario runs on every kernel; golden directories are
# tests/fixtures/kernel/<scenario> (6.12) and <scenario>@<version> (others).
#
# Usage: bash conformance/run.sh [--update] [--only REGEX] [--jobs N] [--keep] [--kernels "6.12 6.1"]
#   --update     regenerate tests/fixtures/kernel/<scenario>[@<version>]/ (and the doc tables)
#   --only RE    run only scenarios whose name matches the extended regex RE
#   --jobs N     parallel QEMU boots (default 2)
#   --keep       keep the temporary work directory
#   --kernels L  the kernels (Debian linux-source-VERSION), default "6.12 6.1"
# Env: P2PDMA_BIN (default ./build/cli/p2pdma), P2PDMA_KCACHE, KSRC_DIR,
#      CONFORMANCE_BOOT_TIMEOUT (seconds per boot, default 180),
#      CONFORMANCE_JOBS, CONFORMANCE_KERNELS.
# Ends with "conformance: N passed, N failed, N skipped" (scenario x kernel level).
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
update=0 only='' jobs=${CONFORMANCE_JOBS:-2} keep=0 kernels=${CONFORMANCE_KERNELS:-"6.12 6.1"}
primary=6.12     # its goldens keep the plain scenario names
while [ $# -gt 0 ]; do
    case "$1" in
        --update) update=1; shift ;;
        --only) only=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --kernels) kernels=$2; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
t0=$(date +%s)

# ---- a. packages ------------------------------------------------------------
need_pkgs=()
chk() { command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2"); }
chk qemu-system-x86_64 qemu-system-x86
chk lspci pciutils
chk python3 python3
chk gcc gcc
chk make make
chk bc bc
chk flex flex
chk bison bison
chk cpio cpio
chk xz xz-utils
chk ccache ccache
chk perl perl
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
for v in $kernels; do
    [ -r "${KSRC_DIR:-/usr/src}/linux-source-$v.tar.xz" ] || need_pkgs+=("linux-source-$v")
done
[ -e /usr/include/libelf.h ] || need_pkgs+=(libelf-dev)
[ -e /usr/include/openssl/ssl.h ] || need_pkgs+=(libssl-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "conformance: installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    sudo_=(); [ "$(id -u)" = 0 ] || sudo_=(sudo)
    "${sudo_[@]}" apt-get install -y -q "${need_pkgs[@]}" >/dev/null 2>&1 || {
        "${sudo_[@]}" apt-get update -q >/dev/null
        "${sudo_[@]}" apt-get install -y -q "${need_pkgs[@]}"; }
fi

PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# ---- b./c. kernels (cached; cold ones are built concurrently) ----------------
tk=$(date +%s)
declare -A KIMG=()
# shellcheck disable=SC2086
klines=$(bash "$here/lib/build-kernel.sh" $kernels) || { echo "conformance: kernel build failed" >&2; exit 1; }
while read -r v path; do KIMG[$v]=$path; done <<<"$klines"
for v in $kernels; do echo "conformance: kernel $v: ${KIMG[$v]}"; done
echo "conformance: kernels ready in $(( $(date +%s) - tk )) s"

# ---- d. initramfs -------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/p2pdma-conformance.XXXXXX")
cleanup() { if [ "$keep" = 1 ]; then echo "conformance: work dir kept: $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
# static O_DIRECT checker for the guest; also writes the drives' patterns
if gcc -static -O2 -Wall -Wextra -Werror -o "$work/p2pcopy" "$here/guest/p2pcopy.c"; then
    export P2PCOPY=$work/p2pcopy
else
    echo "conformance: WARNING: could not build conformance/guest/p2pcopy.c statically; no O_DIRECT checks"
fi
p2pdma_bin=${P2PDMA_BIN:-$repo/build/cli/p2pdma}
case "$p2pdma_bin" in /*) ;; *) p2pdma_bin=$repo/$p2pdma_bin ;; esac
if [ -x "$p2pdma_bin" ]; then
    echo "conformance: our tool: $p2pdma_bin (also run inside the guest)"
    bash "$here/lib/mkinitramfs.sh" "$work/initrd.gz" "$p2pdma_bin"
else
    echo "conformance: SKIP our-tool comparison: $p2pdma_bin not found (build the project with meson first)"
    p2pdma_bin=''
    bash "$here/lib/mkinitramfs.sh" "$work/initrd.gz"
fi

# ---- e. scenario matrix ---------------------------------------------------------
mapfile -t lines < <(grep -v '^\s*#' "$here/scenarios.list" | grep -v '^\s*$')
# extra guest checks (checks.list): "NAME CHECK[@KERNEL]..."
declare -A CHECKS=()
while read -r cname cchecks; do
    [ -n "$cname" ] || continue
    grep -q "^$cname " <<<"$(printf '%s\n' "${lines[@]}")" || {
        echo "conformance: checks.list names $cname, which scenarios.list does not have" >&2; exit 2; }
    CHECKS[$cname]=$cchecks
done < <(grep -v '^\s*#' "$here/checks.list" | grep -v '^\s*$')
checks_of() { # SCENARIO KVER -> the checks that run on that kernel
    local c out=()
    for c in ${CHECKS[$1]:-}; do
        case "$c" in *@*) [ "${c#*@}" = "$2" ] && out+=("${c%@*}") ;; *) out+=("$c") ;; esac
    done
    echo "${out[*]}"
}
sel=()
for l in "${lines[@]}"; do
    name=$(awk '{print $1}' <<<"$l")
    if [ -z "$only" ] || [[ $name =~ $only ]]; then sel+=("$l"); fi
done
[ ${#sel[@]} -gt 0 ] || { echo "conformance: no scenario selected" >&2; exit 2; }
# one instance per (kernel, scenario): "KVER NAME TOPO CPU IOMMU EXTRA", NAME
# with "@KVER" unless KVER is the primary kernel
inst=()
for v in $kernels; do
    for l in "${sel[@]}"; do
        read -r name rest <<<"$l"
        [ "$v" = "$primary" ] || name="$name@$v"
        inst+=("$v $name $rest")
    done
done
echo "conformance: booting ${#sel[@]} scenarios x kernels ($kernels) = ${#inst[@]} boots, $jobs at a time"
mkdir -p "$work/raw" "$work/gold" "$work/results" "$work/checks"
for l in "${inst[@]}"; do   # the checks of each boot, beside its initramfs
    read -r kv name _ <<<"$l"
    checks_of "${name%@*}" "$kv" > "$work/checks/$name"
done
tb=$(date +%s)
boot_one() { # instance line
    local kv name topo cpu iommu extra kvar initrd=$work/initrd.gz
    read -r kv name topo cpu iommu extra <<<"$1"
    kvar=KIMG_${kv//./_}
    if [ -s "$work/checks/$name" ]; then
        # the shared initramfs plus /checks (the kernel unpacks both archives)
        initrd=$work/checks/$name.initrd.gz
        local cdir; cdir=$(mktemp -d "$work/checks/cpio.XXXXXX")
        cp "$work/checks/$name" "$cdir/checks"
        { cat "$work/initrd.gz"; (cd "$cdir" && echo checks | cpio -o -H newc --quiet | gzip -1); } > "$initrd"
        rm -rf "$cdir"
    fi
    if bash "$here/lib/boot-one.sh" "$name" "$topo" "$cpu" "$iommu" "$extra" \
            "$work/raw/$name" "${!kvar}" "$initrd" 2> "$work/raw/$name.err"; then
        echo "  booted $name ($(cat "$work/raw/$name/boot-seconds" | cut -c1-5) s)"
    else
        echo "  BOOT FAILED $name: $(tail -3 "$work/raw/$name.err" | tr '\n' ' ')"
    fi
}
export -f boot_one
export here work
for v in $kernels; do export "KIMG_${v//./_}=${KIMG[$v]}"; done
printf '%s\n' "${inst[@]}" | xargs -d '\n' -P "$jobs" -I{} bash -c 'boot_one "$1"' _ {}
boot_s=$(( $(date +%s) - tb ))
echo "conformance: boots took $boot_s s"

# ---- f./g. goldens + comparisons ------------------------------------------------
py=("$PY" "$here/lib/conformance.py")
# the lookup replay program, built once for every comparison below
if [ -n "$p2pdma_bin" ] && "${py[@]}" lookup-replay "$p2pdma_bin" "$work/lookup-replay"; then
    export P2PDMA_LOOKUP_REPLAY=$work/lookup-replay
else
    echo "conformance: WARNING: could not build conformance/lib/lookup-replay.c: lookups not compared with our tool"
fi
# the nvmet model driver, likewise (guestchecks.py fails the nvmet check without it)
if [ -n "$p2pdma_bin" ] && "${py[@]}" nvmet-replay "$p2pdma_bin" "$work/nvmet-replay"; then
    export P2PDMA_NVMET_REPLAY=$work/nvmet-replay
fi
golden_root=$repo/tests/fixtures/kernel
passed=0 failed=0 skipped=0
pairs_total=0 pairs_fail=0
failed_names=()
declare -A normalized=()
for l in "${inst[@]}"; do   # pass 1: every capture into a golden dir (what-if bases for pass 2)
    read -r kv name topo cpu iommu extra <<<"$l"
    raw=$work/raw/$name
    [ -s "$raw/out/verdicts.txt" ] || continue
    if "${py[@]}" normalize "$raw" "$work/gold/$name" "$name" "$topo" "$cpu" "$iommu" "$extra" \
            "$(cat "$work/checks/$name")"; then
        normalized[$name]=1
    fi
done
for l in "${inst[@]}"; do
    read -r kv name topo cpu iommu extra <<<"$l"
    raw=$work/raw/$name
    if [ ! -s "$raw/out/verdicts.txt" ]; then
        echo "FAIL $name: no kernel capture"; failed=$((failed + 1)); failed_names+=("$name"); continue
    fi
    gold=$work/gold/$name
    if [ -z "${normalized[$name]:-}" ]; then
        echo "FAIL $name: could not normalize capture"; failed=$((failed + 1)); failed_names+=("$name"); continue
    fi
    ok=1
    if [ "$update" = 1 ]; then
        rm -rf "${golden_root:?}/$name"; mkdir -p "$golden_root"
        cp -r "$gold" "$golden_root/$name"
    elif [ ! -f "$golden_root/$name/kernel.json" ]; then
        echo "FAIL $name: no committed golden in tests/fixtures/kernel/$name (run: bash conformance/run.sh --update)"
        ok=0
    elif ! "${py[@]}" diff-kernel "$golden_root/$name" "$gold"; then
        echo "FAIL $name: kernel verdicts differ from the committed golden"
        ok=0
    fi
    [ -f "$raw/out/guest-matrix.json" ] && cp "$raw/out/guest-matrix.json" "$gold/guest-matrix.json"
    [ -f "$raw/out/guest-matrix.err" ] && cp "$raw/out/guest-matrix.err" "$gold/guest-matrix.err"
    [ -f "$raw/out/guest-providers.json" ] && cp "$raw/out/guest-providers.json" "$gold/guest-providers.json"
    trc=0
    "${py[@]}" tool "$gold" "$p2pdma_bin" "$work/results/$name.json" "$work/gold" "$golden_root" \
        > "$work/results/$name.log" || trc=$?
    np=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pairs"])' "$work/results/$name.json")
    nf=$(grep -c '^FAIL' "$work/results/$name.log" || true)
    pairs_total=$((pairs_total + np)); pairs_fail=$((pairs_fail + nf))
    if [ "$trc" != 0 ]; then
        ok=0
        echo "FAIL $name: our tool disagrees with the kernel on $nf pair checks:"
        head -20 "$work/results/$name.log" | sed 's/^/    /'
    fi
    sk=$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("; ".join(r["skipped"]) if r["host"] is None else "")' "$work/results/$name.json")
    if [ "$ok" = 0 ]; then
        failed=$((failed + 1)); failed_names+=("$name")
    elif [ -n "$sk" ]; then
        skipped=$((skipped + 1)); echo "SKIP $name (kernel verdicts OK; tool: $sk)"
    else
        passed=$((passed + 1)); echo "PASS $name"
    fi
done
[ -n "$p2pdma_bin" ] || true
nsel=${#inst[@]}

# ---- h. doc table ----------------------------------------------------------------
if [ -z "$only" ]; then
    "${py[@]}" table "$work/results" "$repo/doc/conformance.md"
    total_s=$(( $(date +%s) - t0 ))
    "$PY" - "$repo/doc/conformance.md" "$nsel" "$boot_s" "$total_s" "$jobs" <<'PYEOF'
import sys, re
doc, n, boot, total, jobs = sys.argv[1:]
t = open(doc).read()
b, e = "<!-- conformance-timing:begin -->", "<!-- conformance-timing:end -->"
line = ("Last full run: %s boots (scenarios x kernels) in %s s of QEMU time with %s parallel boots; "
        "whole run.sh %s s (kernels cached)." % (n, boot, jobs, total))
if b in t and e in t:
    pre, rest = t.split(b, 1); _, post = rest.split(e, 1)
    open(doc, "w").write(pre + b + "\n" + line + "\n" + e + post)
PYEOF
fi
echo "conformance: $pairs_total ordered pairs evaluated by the kernel, $pairs_fail tool disagreements (pair-level)"
[ ${#failed_names[@]} -eq 0 ] || echo "conformance: failed scenarios: ${failed_names[*]}"
echo "conformance: total $(( $(date +%s) - t0 )) s; counts below are scenario-level"
echo "conformance: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
