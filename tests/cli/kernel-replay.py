#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Replay the real-kernel goldens against p2pdma (see kernel-replay.sh)."""
import glob
import gzip
import json
import os
import subprocess
import sys
import tarfile
import tempfile

BIN, ROOT = sys.argv[1], sys.argv[2]
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


def compare(name, source, golden, cpu):
    global passed, failed
    base = source + ["--cpu", cpu, "--kernel", "6.12", "--cmdline", "", "--no-names"]
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
    if bad:
        failed += 1
        print("FAIL: %s (%s): %d disagreements" % (name, source[0], len(bad)))
        for b in bad[:10]:
            print("   ", b)
    else:
        passed += 1
        print("ok: %s (%s): %d pairs agree" % (name, source[0], len(kpairs)))


scenarios = sorted(glob.glob(os.path.join(ROOT, "*", "kernel.json")))
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
            compare(name, ["--dump", dump], golden, cpu)
            st = os.path.join(d, "sysfs.tar.gz")
            if os.path.exists(st):
                sd = os.path.join(tmp, name + "-sysfs")
                with tarfile.open(st) as t:
                    t.extractall(sd)
                compare(name, ["--sysfs", os.path.join(sd, "sysfs")], golden, cpu)
            else:
                skipped += 1
        except (RuntimeError, ValueError, KeyError) as e:
            failed += 1
            print("FAIL: %s: %s" % (name, e))

print("kernel-replay: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
if failed:
    sys.exit(1)
if not passed:
    sys.exit(77)
