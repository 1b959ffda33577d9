#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Replay the real-kernel goldens against p2pdma (see kernel-replay.sh).

Every golden directory (tests/fixtures/kernel/<scenario> for Linux 6.12,
<scenario>@<version> for the other kernels) is replayed under the profile of
the kernel that produced it (its uname), with its test-only allow-list rows
as --allow; our what-if boot of the scenario's command line is checked
against the real boot as conformance/run.sh does (conformance.py). The
extra guest checks (conformance/checks.list: the p2pmem sequence, the NVMe
target's p2pmem choice, the VFIO dma-buf call) are compared with our model
as run.sh compares them (guestchecks.py); each kind must have a golden."""
import glob
import gzip
import json
import os
import subprocess
import sys
import tarfile
import tempfile

BIN, ROOT = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conformance", "lib"))
import conformance  # noqa: E402  (the harness's own comparison code)
import guestchecks  # noqa: E402

passed = failed = skipped = 0


def run(args):
    p = subprocess.run([BIN] + args, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


def strip_prefix(line):
    # "<driver> DDDD:BB:DD.F: text" -> ("DDDD:BB:DD.F", "text")
    head, _, text = line.partition(": ")
    return head.split(" ")[-1], text


def odirect_expect(map_type, provider, client, iommu, length):
    """Result of an O_DIRECT transfer between PROVIDER's p2pmem mapping and the
    namespace of CLIENT (doc/kernel-model.md §1.5; conformance.py's odirect_expect): EREMOTEIO
    unless the pair maps (BUS_ADDR / THRU_HOST_BRIDGE); data None = not
    checkable in QEMU (BUS_ADDR between two devices with the VT-d on: QEMU's
    switches do not route P2P, so the untranslated TLP faults in the IOMMU)."""
    if map_type not in ("BUS_ADDR", "THRU_HOST_BRIDGE"):
        return "EREMOTEIO", "-"
    if map_type == "BUS_ADDR" and provider != client and iommu == "on":
        return str(length), None
    return str(length), "ok"


def check_odirect(d, golden, opairs, bad):
    """Observed O_DIRECT results (odirect.txt) against our map types."""
    path = os.path.join(d, "odirect.txt")
    if not os.path.exists(path):
        return 0
    n = 0
    for line in open(path):
        f = line.split()
        if not f or f[0] != "ODIRECT":
            continue
        prov, client, op, length, result, data = f[1], f[2], f[4], int(f[5]), f[6], f[7]
        mt = opairs.get((prov, client), {}).get("map_type", "(missing)")
        want, wdata = odirect_expect(mt, prov, client, golden["iommu"], length)
        n += 1
        if result != want or (wdata is not None and data != wdata):
            bad.append("O_DIRECT %s -> %s %s %d: ours %s predicts %s/%s, kernel did %s/%s" % (
                prov, client, op, length, mt, want, wdata, result, data))
    return n


def check_p2pmem(d, base, bad):
    """p2pmem.txt (the guest's sysfs files) against `providers --json`."""
    want = {}
    for line in open(os.path.join(d, "p2pmem.txt")):
        f = line.split()
        if f:
            kv = dict(x.split("=", 1) for x in f[1:])
            if kv["published"] == "1":
                want[f[0]] = (int(kv["size"]), int(kv["available"]), True)
    got = {}
    for p in run(base + ["providers", "--json"])["providers"]:
        m = p.get("p2pmem") or {}
        got[p["provider"]] = (m.get("size"), m.get("available"), bool(m.get("published")))
    if want != got:
        bad.append("p2pmem: kernel sysfs %s, ours %s" % (want, got))
    return len(want)


def compare_checks(name, golden, d):
    """The extra guest checks this golden has, against our model."""
    global passed, failed
    bad = []
    r = guestchecks.tool_checks(d, golden, BIN, name, bad)
    parts = ["%s %d/%d" % (k, v["ok"], v["n"]) for k, v in sorted(r.items()) if v]
    if not parts:
        return
    if bad:
        failed += 1
        print("FAIL: %s (guest checks): %d disagreements" % (name, len(bad)))
        for b in bad[:10]:
            print("   ", b)
    else:
        passed += 1
        print("ok: %s (guest checks): %s agree" % (name, ", ".join(parts)))


def compare(name, source, golden, cpu, d):
    global passed, failed
    base = source + ["--cpu", cpu, "--kernel", golden["kernel"], "--cmdline", "", "--no-names"] + \
        conformance.allow_args(golden)
    ours = run(base + ["matrix", "--json"])
    kpairs = {(p["provider"], p["client"]): p for p in golden["pairs"]}
    opairs = {(p["provider"], p["client"]): p for p in ours["pairs"]}
    bad = []
    if set(kpairs) != set(opairs):
        bad.append("pair sets differ: kernel-only %s, ours-only %s" % (
            sorted(set(kpairs) - set(opairs))[:4], sorted(set(opairs) - set(kpairs))[:4]))
    for key in sorted(set(kpairs) & set(opairs)):
        k, o = kpairs[key], opairs[key]
        if k["map_type"] != o["map_type"] or k["distance"] != o["distance"]:
            bad.append("%s -> %s: kernel %s/%d, ours %s/%d" % (
                key[0], key[1], k["map_type"], k["distance"], o["map_type"], o["distance"]))
    # dmesg: one check per provider with every client, verbose as the kernel's walk
    providers = sorted({p for p, _ in kpairs})
    for prov in providers:
        clients = [c for (p, c) in kpairs if p == prov]
        res = run(base + ["check", prov] + clients + ["--json"])
        for c in res["clients"]:
            want = [(d["device"], d["text"]) for d in kpairs[(prov, c["client"])]["dmesg"]]
            got = [strip_prefix(line) for line in c.get("dmesg", [])]
            if want != got:
                bad.append("%s -> %s dmesg: kernel %s, ours %s" % (prov, c["client"], want, got))
    nod = check_odirect(d, golden, opairs, bad)
    extra = ", %d O_DIRECT ops" % nod if nod else ""
    if source[0] == "--dump":  # the kernel's map-type lookups on our cache model
        lk = conformance.lookup_tool_check(d, golden, BIN, name, bad)
        if lk:
            extra += ", %d lookups" % lk["n"]
    if source[0] == "--dump":  # our what-if boot of the command line vs the real boot
        wbase = conformance.find_base(golden, sorted(glob.glob(os.path.join(ROOT, "*"))))
        if wbase:
            b = conformance.cmdline_check(d, wbase, BIN, name, bad)
            if b:
                extra += ", boot %d/%d ACS registers%s" % (b["regs_ok"], b["regs"],
                                                          ", %d log lines" % len(b["log"]) if b["log"] else "")
    if source[0] == "--sysfs":  # p2pmem files exist only in the sysfs capture
        extra += ", %d p2pmem providers" % check_p2pmem(d, base, bad)
    if bad:
        failed += 1
        print("FAIL: %s (%s): %d disagreements" % (name, source[0], len(bad)))
        for b in bad[:10]:
            print("   ", b)
    else:
        passed += 1
        print("ok: %s (%s): %d pairs agree%s" % (name, source[0], len(kpairs), extra))


pattern = os.path.join(ROOT, "*", "kernel.json")
scenarios = sorted(glob.glob(pattern))
if not scenarios:  # a fixture glob that matches nothing fails (as lib.sh's glob_or_fail)
    failed += 1
    print("FAIL: no file matches %s" % pattern)
for f in sorted(guestchecks.CHECK_FILES.values()):  # every kind of guest check has goldens
    if not glob.glob(os.path.join(ROOT, "*", f)):
        failed += 1
        print("FAIL: no file matches %s" % os.path.join(ROOT, "*", f))
with tempfile.TemporaryDirectory() as tmp:
    for kj in scenarios:
        d = os.path.dirname(kj)
        name = os.path.basename(d)
        golden = json.load(open(kj))
        cpu = open(os.path.join(d, "cpu")).read().strip()
        try:
            dump = os.path.join(tmp, name + ".lspci")
            with gzip.open(os.path.join(d, "lspci-xxxx.txt.gz"), "rt") as f, open(dump, "w") as o:
                o.write(f.read())
            compare(name, ["--dump", dump], golden, cpu, d)
            st = os.path.join(d, "sysfs.tar.gz")
            if os.path.exists(st):
                sd = os.path.join(tmp, name + "-sysfs")
                with tarfile.open(st) as t:
                    t.extractall(sd)
                compare(name, ["--sysfs", os.path.join(sd, "sysfs")], golden, cpu, d)
            else:
                skipped += 1
            compare_checks(name, golden, d)
        except (RuntimeError, ValueError, KeyError) as e:
            failed += 1
            print("FAIL: %s: %s" % (name, e))

print("kernel-replay: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
if failed:
    sys.exit(1)
if not passed:
    sys.exit(77)
