#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""affinity.py - the comparisons of affinity.sh, in one process.

usage: affinity.py BIN --sysfs TAR... --hwloc XML.GZ...

Prints "OK" or "FAIL: why" per check, then one summary line; affinity.sh
counts them. Each capture costs one `p2pdma topo --json`; each hwloc XML
one `p2pdma topo --json` and one hwloc-calc that reads every PCI location
from its standard input.
"""
import gzip
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

CPULIST = re.compile(r"/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])/local_cpulist$")


def ranges(values):
    """[0, 1, 2, 3, 8] -> "0-3,8", as the kernel writes a CPU list."""
    v = sorted(values)
    out, i = [], 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[j + 1] == v[j] + 1:
            j += 1
        out.append(str(v[i]) if i == j else "%d-%d" % (v[i], v[j]))
        i = j + 1
    return ",".join(out)


def topo(binary, flag, path):
    """bdf -> CPU affinity ("-" for unknown) of `p2pdma topo --json`."""
    r = subprocess.run([binary, "--no-names", flag, path, "topo", "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("topo --json failed: " + " ".join(r.stderr.splitlines()[:2]))
    return [(d["bdf"], d["cpu_affinity"] or "-") for d in json.loads(r.stdout)["devices"]]


def main():
    binary = sys.argv[1]
    groups, cur = {"--sysfs": [], "--hwloc": []}, None
    for a in sys.argv[2:]:
        if a in groups:
            cur = a
        else:
            groups[cur].append(a)

    captures = funcs = 0
    for tar in groups["--sysfs"]:
        name = os.path.basename(os.path.dirname(tar))
        try:
            got = topo(binary, "--sysfs", tar)
        except RuntimeError as e:
            print("FAIL: %s: %s" % (name, e))
            continue
        want = {}
        with tarfile.open(tar) as tf:
            for m in tf.getmembers():
                g = CPULIST.search(m.name)
                if g and m.isfile():
                    want[g.group(1)] = tf.extractfile(m).read().decode().strip()
        if not got:
            print("FAIL: %s: topo lists no device" % name)
            continue
        for bdf, cpus in got:
            w = want.get(bdf)
            if w is not None and cpus == w:
                print("OK")
            else:
                print("FAIL: %s: %s: topo says '%s', local_cpulist '%s'" % (name, bdf, cpus, w or "(none)"))
            funcs += 1
        captures += 1

    xmls = hfuncs = multi = 0
    with tempfile.TemporaryDirectory() as tmp:
        xml = os.path.join(tmp, "x.xml")
        for f in groups["--hwloc"]:
            name = os.path.basename(f)
            with gzip.open(f) as src, open(xml, "wb") as dst:
                dst.write(src.read())
            try:
                got = topo(binary, "--hwloc", xml)
            except RuntimeError as e:
                print("FAIL: %s: %s" % (name, e))
                continue
            # hwloc-calc reads locations from stdin, one answer line each
            # (after a "Waiting for locations" banner on stdout).
            r = subprocess.run(["hwloc-calc", "-i", xml, "--po", "-I", "pu"],
                               input="".join("pci=%s\n" % b for b, _ in got),
                               capture_output=True, text=True)
            answers = [l for l in r.stdout.splitlines() if not l.startswith("Waiting")]
            if r.returncode != 0 or len(answers) != len(got):
                print("FAIL: %s: hwloc-calc gave %d answers for %d functions (exit %d): %s"
                      % (name, len(answers), len(got), r.returncode, r.stderr.strip()[:200]))
                continue
            for (bdf, cpus), pus in zip(got, answers):
                w = ranges(int(x) for x in pus.split(",") if x)
                if cpus == w:
                    print("OK")
                else:
                    print("FAIL: %s: %s: topo says '%s', hwloc-calc '%s'" % (name, bdf, cpus, w))
                if "-" in cpus or "," in cpus:
                    multi += 1
                hfuncs += 1
            xmls += 1
    # Some function must sit near more than one CPU, or the lists prove little.
    print("OK" if multi > 0 else "FAIL: no hwloc fixture gave a function more than one CPU")
    print("OK" if captures >= 100 else "FAIL: only %d captures" % captures)
    print("affinity.sh: %d captures (%d functions) against local_cpulist, %d hwloc XML files "
          "(%d functions, %d near several CPUs) against hwloc-calc" % (captures, funcs, xmls, hfuncs, multi))


if __name__ == "__main__":
    main()
