#!/usr/bin/env python3
"""Post-processing for the libp2pdma kernel conformance harness.

Subcommands:
  normalize RAWDIR GOLDDIR NAME TOPO CPU IOMMU EXTRA [CHECKS]
      turn one guest capture (RAWDIR/out) into the golden file set in GOLDDIR
      (CHECKS: the extra guest checks the boot ran, guestchecks.py)
  diff-kernel GOLD_A GOLD_B
      compare the kernel verdicts (kernel.json) of two golden dirs; exit 1 on difference
  tool GOLDDIR P2PDMA_BIN RESULT.json [GOLDEN_ROOT...]
      compare our tool (host replay of the captured dump; guest run if captured)
      against the kernel verdicts; with GOLDEN_ROOTs, also our what-if boot of
      the scenario's command line from a sibling capture's firmware registers
      (same topology and kernel, no IOMMU, no extra parameters) against the
      real boot; writes RESULT.json; exit 1 on disagreement
  lookup-replay P2PDMA_BIN OUT
      build conformance/lib/lookup-replay.c against P2PDMA_BIN's library into OUT
  nvmet-replay P2PDMA_BIN OUT
      build conformance/lib/nvmet-replay.c against P2PDMA_BIN's library into OUT
  table RESULTS_DIR DOC.md
      rewrite the agreement table and the O_DIRECT table between the markers in DOC.md
Only the Python standard library is used.
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestchecks  # noqa: E402

BDF_RE = r'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]'
TS_RE = re.compile(r'^\[\s*\d+\.\d+\]\s?')
PREFIX_RE = re.compile(r'^(?:(\S+) )?(' + BDF_RE + r'): (.*)$')
MAP_NAMES = ("NOT_SUPPORTED", "BUS_ADDR", "THRU_HOST_BRIDGE")


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


def split_msg(line):
    """'[ 1.2] nvme 0000:01:00.0: text' -> (driver, bdf, text); tolerant of prefix."""
    line = TS_RE.sub('', line.rstrip('\n'))
    m = PREFIX_RE.match(line)
    if m:
        return m.group(1) or '', m.group(2), m.group(3)
    return '', '', line


def parse_verdicts(path):
    info = {"cpu_supports_p2pdma": None, "allow": [], "host_bridges": [], "devices": [], "pairs": []}
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "CPU_SUPPORTS_P2PDMA":
            info["cpu_supports_p2pdma"] = int(f[1])
        elif f[0] == "ALLOW":
            info["allow"].append({"id": f[1], "flags": int(f[2])})
        elif f[0] == "HOSTBRIDGE":
            info["host_bridges"].append({"root_bus": f[1], "first_dev": f[2], "id": f[3],
                                         "candidate": int(f[4])})
        elif f[0] == "DEV":
            info["devices"].append({"bdf": f[1], "hdr_type": int(f[2]), "acs_cap": int(f[3], 16),
                                    "acs_ctrl": int(f[4], 16), "upstream": None if f[5] == '-' else f[5]})
        elif f[0] == "VERDICT":
            info["pairs"].append({"provider": f[1], "client": f[2], "map_type_int": int(f[3]),
                                  "map_type": f[4], "distance": int(f[5]),
                                  "pci_p2pdma_distance": int(f[6])})
        elif f[0] == "END":
            info["end"] = int(f[1])
    if info.get("end") != len(info["pairs"]):
        die("%s: truncated verdict output" % path)
    return info


def parse_lookup(path):
    """lookup.txt (the patch's p2pdma_lookup file) -> (lookups, nopool)."""
    lookups, nopool, end = [], [], None
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "LOOKUP":
            lookups.append({"provider": f[1], "client": f[2], "cached": f[3], "map_type": f[4]})
        elif f[0] == "NOPOOL":
            nopool.append(f[1])
        elif f[0] == "END":
            end = int(f[1])
    if end != len(lookups):
        die("%s: truncated lookup output" % path)
    return lookups, nopool


def parse_dmesg_pairs(path):
    """Attribute dmesg lines to pairs using the patch's markers: returns the
    lines of the verdict pass, of the silent cross-check and of the lookups."""
    warn, xwarn, lwarn = {}, {}, {}
    cur, target = None, None
    for raw in open(path, errors='replace'):
        line = TS_RE.sub('', raw.rstrip('\n'))
        m = re.match(r'^(?:\S+: )?p2pdma-conformance: (pair|xcheck|lookup) (' + BDF_RE + ') (' + BDF_RE + ')$', line)
        if m:
            cur = (m.group(2), m.group(3))
            target = {"pair": warn, "xcheck": xwarn, "lookup": lwarn}[m.group(1)]
            target.setdefault(cur, [])
            continue
        if line.endswith('p2pdma-conformance: end'):
            cur = None
            continue
        if cur is not None:
            drv, bdf, text = split_msg(line)
            target[cur].append({"driver": drv, "device": bdf, "text": text})
    return warn, xwarn, lwarn


def normalize(raw, gold, name, topo, cpu, iommu, extra, checks=""):
    out = os.path.join(raw, "out")
    os.makedirs(gold, exist_ok=True)
    try:
        guestchecks.normalize_checks(out, gold, checks)
    except guestchecks.CheckError as e:
        die("%s: %s" % (name, e))
    for f in ("cmdline", "cpu", "cpuinfo", "uname", "p2pmem.txt", "lspci-tvnn.txt", "verdicts.txt",
              "sysfs.tar.gz"):
        shutil.copy(os.path.join(out, f), os.path.join(gold, f))
    for f in ("lookup.txt", "sriov.txt"):
        if os.path.exists(os.path.join(out, f)):
            shutil.copy(os.path.join(out, f), os.path.join(gold, f))
    for f in ("lspci-xxxx.txt", "dmesg.txt"):
        with open(os.path.join(out, f), 'rb') as src, \
                gzip.GzipFile(os.path.join(gold, f + ".gz"), 'wb', mtime=0) as dst:
            shutil.copyfileobj(src, dst)
    shutil.copy(os.path.join(raw, "qemu-args.txt"), os.path.join(gold, "qemu-args.txt"))
    if os.path.exists(os.path.join(out, "odirect.txt")):
        shutil.copy(os.path.join(out, "odirect.txt"), os.path.join(gold, "odirect.txt"))
    v = parse_verdicts(os.path.join(out, "verdicts.txt"))
    warn, xwarn, lwarn = parse_dmesg_pairs(os.path.join(out, "dmesg.txt"))
    devices = sorted({p["provider"] for p in v["pairs"]})
    pairs = []
    for p in v["pairs"]:
        k = (p["provider"], p["client"])
        if k not in warn:
            die("%s: no dmesg marker for pair %s %s (log buffer overflow?)" % (name, *k))
        p = dict(p)
        p["dmesg"] = warn[k]
        p["xcheck_dmesg"] = xwarn.get(k, [])
        pairs.append(p)
    lookups, nopool = [], []
    if os.path.exists(os.path.join(out, "lookup.txt")):
        lookups, nopool = parse_lookup(os.path.join(out, "lookup.txt"))
        for lk in lookups:
            k = (lk["provider"], lk["client"])
            if k not in lwarn:
                die("%s: no dmesg marker for lookup %s %s (log buffer overflow?)" % (name, *k))
            lk["dmesg"] = lwarn[k]
    want_allow = []
    for w in ("" if extra == '-' else extra).split():
        if w.startswith("p2pdma_test_allow="):
            for r in w.split("=", 1)[1].split(","):
                f = r.split(":")
                want_allow.append({"id": "%04x:%04x" % (int(f[0], 16), int(f[1], 16)),
                                   "flags": 1 if len(f) > 2 else 0})
    if want_allow != v["allow"]:
        die("%s: the kernel took allow-list rows %s, the scenario asked for %s" % (name, v["allow"], want_allow))
    kernel = {
        "scenario": name, "topology": topo, "cpu_model": cpu, "iommu": iommu,
        "cmdline_extra": "" if extra == '-' else extra,
        "cmdline": open(os.path.join(out, "cmdline")).read().strip(),
        "cpu": open(os.path.join(out, "cpu")).read().strip(),
        "kernel": open(os.path.join(out, "uname")).read().strip(),
        "cpu_supports_p2pdma": v["cpu_supports_p2pdma"], "allow": v["allow"],
        "host_bridges": v["host_bridges"], "pci_devices": v["devices"],
        "devices": devices, "pairs": pairs, "lookups": lookups, "nopool": nopool,
    }
    with open(os.path.join(gold, "kernel.json"), "w") as fh:
        fh.write(dump_compact(kernel))


def dump_compact(obj):
    """JSON with one top-level key per line and one list element per line (diff friendly)."""
    parts = []
    for k in sorted(obj):
        v = obj[k]
        if isinstance(v, list) and v and isinstance(v[0], dict):
            inner = ",\n".join("  " + json.dumps(e, sort_keys=True) for e in v)
            parts.append(" %s: [\n%s\n ]" % (json.dumps(k), inner))
        else:
            parts.append(" %s: %s" % (json.dumps(k), json.dumps(v, sort_keys=True)))
    return "{\n" + ",\n".join(parts) + "\n}\n"


def verdict_key(kj):
    # what must be identical between two runs: verdicts + attributed warnings
    return {"cpu_supports_p2pdma": kj["cpu_supports_p2pdma"], "devices": kj["devices"],
            "pci_devices": kj["pci_devices"], "host_bridges": kj["host_bridges"],
            "allow": kj.get("allow", []), "nopool": kj.get("nopool", []),
            "lookups": [{k: lk[k] for k in ("provider", "client", "cached", "map_type")} |
                        {"dmesg": [d["text"] for d in lk["dmesg"]]} for lk in kj.get("lookups", [])],
            "pairs": [{k: p[k] for k in ("provider", "client", "map_type", "distance",
                                          "pci_p2pdma_distance")} |
                      {"dmesg": [d["text"] for d in p["dmesg"]]} for p in kj["pairs"]]}


def struct_page_key(gold):
    """What must be identical between two runs in the struct-page layer: p2pmem
    files and the O_DIRECT results (data too, except where QEMU makes it
    meaningless, see odirect_expect)."""
    kj = json.load(open(os.path.join(gold, "kernel.json")))
    kp = {(p["provider"], p["client"]): p["map_type"] for p in kj["pairs"]}
    key = {"p2pmem": parse_p2pmem(os.path.join(gold, "p2pmem.txt")), "odirect": None}
    path = os.path.join(gold, "odirect.txt")
    if os.path.exists(path):
        od = parse_odirect(path)
        ops = []
        for o in od["ops"]:
            _, data = odirect_expect(kp.get((o["provider"], o["client"])), o["provider"], o["client"],
                                     kj["iommu"], o["len"])
            ops.append(dict(o, data=o["data"] if data is not None else "*"))
        key["odirect"] = {"ns": od["ns"], "control": od["control"], "mmap": od["mmap"], "ops": ops}
    return key


def diff_kernel(a, b):
    ka = verdict_key(json.load(open(os.path.join(a, "kernel.json"))))
    kb = verdict_key(json.load(open(os.path.join(b, "kernel.json"))))
    sa, sb = struct_page_key(a), struct_page_key(b)
    rc = guestchecks.diff_checks(a, b)
    for key in sa:
        if sa[key] == sb[key]:
            continue
        rc = 1
        if key == "odirect" and sa[key] and sb[key]:
            for sub in sa[key]:
                a, b = sa[key][sub], sb[key][sub]
                if sub == "ops":
                    a, b = [str(x) for x in a], [str(x) for x in b]
                    for x in [x for x in a if x not in b]:
                        print("  O_DIRECT golden only: %s" % x)
                    for x in [x for x in b if x not in a]:
                        print("  O_DIRECT fresh only:  %s" % x)
                elif a != b:
                    print("  O_DIRECT %s: golden %s fresh %s" % (sub, a, b))
        else:
            print("  %s: golden %s\n  %s: fresh  %s" % (key, sa[key], key, sb[key]))
    if ka == kb:
        return rc
    for key in ka:
        if ka[key] != kb[key]:
            if key == "pairs":
                pa = {(p["provider"], p["client"]): p for p in ka["pairs"]}
                pb = {(p["provider"], p["client"]): p for p in kb["pairs"]}
                for k in sorted(set(pa) | set(pb)):
                    if pa.get(k) != pb.get(k):
                        print("  golden %s\n  fresh  %s" % (pa.get(k), pb.get(k)))
            else:
                print("  %s: golden %s fresh %s" % (key, ka[key], kb[key]))
    return 1


def kernel_kv(kernel):
    """(major, minor) of the captured kernel's release ("6.1.192" -> (6, 1))."""
    m = re.match(r'^(\d+)\.(\d+)', kernel["kernel"])
    return (int(m.group(1)), int(m.group(2)))


def kernel_series(kernel):
    return "%d.%d" % kernel_kv(kernel)


def allow_args(kernel):
    """The kernel's test-only allow-list rows as our tool's --allow what-ifs."""
    args = []
    for a in kernel.get("allow", []):
        args += ["--allow", a["id"] + (":same-host-bridge" if a["flags"] & 1 else "")]
    return args


def find_json(text):
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        i = text.find('{')
        try:
            return json.loads(text[i:]) if i >= 0 else None
        except ValueError:
            return None


def run_tool(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e), 127
    return find_json(r.stdout), r.stderr.strip(), r.returncode


def compare_matrix(kernel, mat, label, failures):
    """Return (n, map_ok, dist_ok, missing)."""
    kp = {(p["provider"], p["client"]): p for p in kernel["pairs"]}
    tp = {}
    for p in mat.get("pairs", []):
        tp[(str(p.get("provider", "")).lower(), str(p.get("client", "")).lower())] = p
    n = map_ok = dist_ok = missing = 0
    for k, p in kp.items():
        n += 1
        t = tp.get(k)
        if t is None:
            missing += 1
            failures.append("%s: pair %s -> %s: kernel %s/%d, tool: (missing)" %
                            (label, k[0], k[1], p["map_type"], p["distance"]))
            continue
        m_ok = str(t.get("map_type")) == p["map_type"]
        d_ok = t.get("distance") == p["distance"]
        map_ok += m_ok
        dist_ok += d_ok
        if not (m_ok and d_ok):
            failures.append("%s: pair provider %s client %s: kernel %s dist %d, tool %s dist %s" %
                            (label, k[0], k[1], p["map_type"], p["distance"],
                             t.get("map_type"), t.get("distance")))
    extra = set(tp) - set(kp)
    for k in sorted(extra):
        failures.append("%s: tool reports pair %s -> %s that the kernel does not evaluate" % (label, *k))
    return n, map_ok, dist_ok, missing


def collect_dmesg(obj, client):
    """Find the predicted dmesg lines for `client` in a `check --json` answer."""
    found = []

    def walk(o, ctx_client):
        if isinstance(o, dict):
            c = o.get("client", ctx_client)
            if isinstance(c, str):
                c = c.lower()
            if "dmesg" in o and isinstance(o["dmesg"], list) and (c is None or c == client):
                found.extend(str(x) for x in o["dmesg"])
            for k, v in o.items():
                if k != "dmesg":
                    walk(v, c)
        elif isinstance(o, list):
            for v in o:
                walk(v, ctx_client)
    walk(obj, None)
    return found


# ---- struct-page layer (doc/kernel-model.md §1.5): p2pmem sysfs files and O_DIRECT ----------------

def parse_p2pmem(path):
    """p2pmem.txt -> {bdf: {"size", "available", "published"}}"""
    res = {}
    for line in open(path):
        f = line.split()
        if not f:
            continue
        kv = dict(x.split("=", 1) for x in f[1:])
        res[f[0]] = {"size": int(kv["size"]), "available": int(kv["available"]),
                     "published": kv["published"] == "1"}
    return res


def tool_p2pmem(obj):
    """p2pmem of every provider in a `providers --json` answer."""
    res = {}
    for p in (obj or {}).get("providers", []):
        m = p.get("p2pmem") or {}
        res[str(p.get("provider", "")).lower()] = {
            "size": m.get("size"), "available": m.get("available"), "published": bool(m.get("published"))}
    return res


def compare_p2pmem(kernel_p2pmem, ours, label, failures):
    """The published providers and their size/available/published; returns (n, ok)."""
    want = {b: v for b, v in kernel_p2pmem.items() if v["published"]}
    n = ok = 0
    for b in sorted(set(want) | set(ours)):
        n += 1
        if want.get(b) == ours.get(b):
            ok += 1
        else:
            failures.append("%s [p2pmem]: %s: kernel sysfs %s, tool %s" % (label, b, want.get(b), ours.get(b)))
    return n, ok


def parse_odirect(path):
    """p2pcopy's output (odirect.txt)."""
    od = {"ns": {}, "control": [], "mmap": [], "ops": [], "end": False}
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "NS":
            od["ns"][f[1]] = {"bdf": f[2], "serial": f[3]}
        elif f[0] == "CONTROL":
            od["control"].append({"ns": f[1], "result": f[2], "data": f[3]})
        elif f[0] == "MMAP":
            od["mmap"].append({"provider": f[1], "case": f[2], "result": f[3]})
        elif f[0] == "ODIRECT":
            od["ops"].append({"provider": f[1], "client": f[2], "ns": f[3], "op": f[4], "len": int(f[5]),
                              "result": f[6], "data": f[7]})
        elif f[0] == "END":
            od["end"] = True
    return od


def odirect_expect(map_type, provider, client, iommu, length):
    """What an O_DIRECT transfer between a p2pmem mapping of PROVIDER and the
    namespace of CLIENT returns, given the map type of (provider, client).

    6.12: bio pages are pinned with FOLL_PCI_P2PDMA (NVMe queues have
    BLK_FEAT_PCI_P2PDMA), then nvme_map_data -> dma_map_sgtable ->
    pci_p2pdma_map_segment -> pci_p2pdma_map_type(pgmap, client) (cached per
    provider): NOT_SUPPORTED -> -EREMOTEIO -> BLK_STS_TARGET -> EREMOTEIO.
    BUS_ADDR / THRU_HOST_BRIDGE map (6.12 dma-direct's THRU_HOST_BRIDGE `break`
    leaves the switch and maps the CPU physical address: correct in 6.12).
    Returns (result, data): data None = not checkable in QEMU: a BUS_ADDR
    transfer between two devices with the VT-d on is sent untranslated, but
    QEMU's switches do not route peer-to-peer, so the TLP goes to QEMU's IOMMU
    (DMAR fault) instead of the peer; the command still completes."""
    if map_type not in ("BUS_ADDR", "THRU_HOST_BRIDGE"):
        return "EREMOTEIO", "-"
    if map_type == "BUS_ADDR" and provider != client and iommu == "on":
        return str(length), None
    return str(length), "ok"


def parse_dmesg_odirect(path, opener=open):
    """Kernel lines with a device prefix printed between p2pcopy's markers."""
    res, cur = {}, None
    with opener(path, "rt", errors="replace") as fh:
        for raw in fh:
            line = TS_RE.sub('', raw.rstrip('\n'))
            m = re.match(r'^p2pcopy: begin (' + BDF_RE + ') (' + BDF_RE + ')$', line)
            if m:
                cur = (m.group(1), m.group(2))
                res.setdefault(cur, [])
                continue
            if line == "p2pcopy: end":
                cur = None
                continue
            if cur is not None:
                drv, bdf, text = split_msg(line)
                if bdf:
                    res[cur].append((bdf, text))
    return res


def odirect_kernel_check(gold, kernel, label, failures):
    """Kernel-side facts of the struct-page layer: p2pcopy ran to the end, the
    O_DIRECT control reads into RAM saw each drive's pattern, the allocate file's
    mmap rules (doc/kernel-model.md §1.5), every transfer behaved as the kernel's own verdict for
    (provider, client) implies, and the mapping path's (first, verbose) evaluation
    printed exactly the warnings the verdict pass printed. Returns #ops checked."""
    path = os.path.join(gold, "odirect.txt")
    if not os.path.exists(path):
        return None
    od = parse_odirect(path)
    if not od["end"]:
        failures.append("%s [O_DIRECT]: p2pcopy did not finish" % label)
    published = sorted(b for b, v in parse_p2pmem(os.path.join(gold, "p2pmem.txt")).items() if v["published"])
    mapped = sorted({m["provider"] for m in od["mmap"]})
    if kernel_kv(kernel) < (6, 2):
        # p2pmem/allocate (userspace mappings of p2pmem, hence O_DIRECT
        # into them) arrived in 6.2: there is nothing to map.
        if od["mmap"] or od["ops"]:
            failures.append("%s [O_DIRECT]: kernel %s predates p2pmem/allocate (6.2), yet p2pcopy mapped %s" %
                            (label, kernel["kernel"], mapped))
    elif mapped != published:
        failures.append("%s [O_DIRECT]: providers with p2pmem/allocate %s, published pools %s" %
                        (label, mapped, published))
    for c in od["control"]:
        if c["result"] != "4096" or c["data"] != "ok":
            failures.append("%s [O_DIRECT]: control read of %s into RAM: %s %s" % (label, c["ns"], c["result"], c["data"]))
    want_mmap = {"private": "EINVAL", "offset4096": "EINVAL", "shared": "0"}
    for m in od["mmap"]:
        if want_mmap.get(m["case"]) != m["result"]:
            failures.append("%s [O_DIRECT]: mmap %s of %s/p2pmem/allocate: %s, spec says %s" %
                            (label, m["case"], m["provider"], m["result"], want_mmap.get(m["case"])))
    kp = {(p["provider"], p["client"]): p for p in kernel["pairs"]}
    n = 0
    for o in od["ops"]:
        n += 1
        p = kp.get((o["provider"], o["client"]))
        if p is None:
            failures.append("%s [O_DIRECT]: pair %s %s has no kernel verdict" % (label, o["provider"], o["client"]))
            continue
        res, data = odirect_expect(p["map_type"], o["provider"], o["client"], kernel["iommu"], o["len"])
        if o["result"] != res or (data is not None and o["data"] != data):
            failures.append("%s [O_DIRECT]: provider %s client %s %s %d: kernel verdict %s implies %s/%s, observed %s/%s" %
                            (label, o["provider"], o["client"], o["op"], o["len"], p["map_type"], res, data,
                             o["result"], o["data"]))
    seen = parse_dmesg_odirect(os.path.join(gold, "dmesg.txt.gz"), gzip.open)
    for k, lines in sorted(seen.items()):
        want = [(d["device"], d["text"]) for d in kp[k]["dmesg"]] if k in kp else None
        if lines != want:
            failures.append("%s [O_DIRECT]: mapping-path warnings for %s %s: %s, verdict pass printed %s" %
                            (label, k[0], k[1], lines, want))
    return n


def lookup_kernel_check(kernel, p2pmem, label, failures):
    """Kernel-side facts of pci_p2pdma_map_type() (the DMA mapping path's
    lookup, read after p2pcopy and before the verdict pass): every provider
    with a pool answers for every client; a cache miss is evaluated on
    demand, verbosely (the verdict pass's warnings, the verdict pass's map
    type), a hit answers the cached map type silently. Returns
    {"n", "misses"} or None when the capture has no lookup file."""
    if "lookups" not in kernel:
        return None
    kp = {(p["provider"], p["client"]): p for p in kernel["pairs"]}
    provs = sorted({lk["provider"] for lk in kernel["lookups"]} | set(kernel.get("nopool", [])))
    published = sorted(b for b, v in p2pmem.items() if v["published"])
    if provs != published:
        failures.append("%s [lookup]: providers looked up %s, published pools %s" % (label, provs, published))
    if kernel.get("nopool"):
        failures.append("%s [lookup]: no free p2pmem to look up with on %s" % (label, kernel["nopool"]))
    misses = 0
    for lk in kernel["lookups"]:
        k = (lk["provider"], lk["client"])
        p = kp.get(k)
        if p is None:
            failures.append("%s [lookup]: pair %s %s has no verdict" % (label, *k))
            continue
        texts = [(d["device"], d["text"]) for d in lk["dmesg"]]
        want = [(d["device"], d["text"]) for d in p["dmesg"]]
        if lk["map_type"] != p["map_type"]:
            failures.append("%s [lookup]: %s %s: pci_p2pdma_map_type() %s (cached before: %s), verdict %s" %
                            (label, k[0], k[1], lk["map_type"], lk["cached"], p["map_type"]))
        if lk["cached"] == "UNKNOWN":
            misses += 1
            if texts != want:
                failures.append("%s [lookup]: %s %s: a miss printed %s, the verdict pass %s" % (label, *k, texts, want))
        elif lk["cached"] != p["map_type"] or texts:
            failures.append("%s [lookup]: %s %s: cached %s (verdict %s), printed %s" %
                            (label, *k, lk["cached"], p["map_type"], texts))
    return {"n": len(kernel["lookups"]), "misses": misses}


def lookup_replay_binary(binary, out=None):
    """lookup-replay.c built for BINARY's library (guestchecks.replay_binary);
    None if it cannot be built (then the lookup comparison is reported as
    skipped)."""
    return guestchecks.replay_binary("lookup-replay", binary, "P2PDMA_LOOKUP_REPLAY", out)


def lookup_tool_check(gold, kernel, binary, label, failures):
    """The kernel's lookups (pci_p2pdma_map_type() after p2pcopy) replayed on
    our model of the map-type cache (lookup-replay.c): same answer, answered
    from the cache or evaluated as the kernel did (keyed by the client's own
    BDF, VFs included; evaluated on a miss from 6.0), same number of warnings.
    Returns {"n", "ok"} or None (no lookups, or the replay could not be
    built: a failure)."""
    if not kernel.get("lookups"):
        return None
    prog = lookup_replay_binary(binary)
    if not prog:
        failures.append("%s [lookup]: conformance/lib/lookup-replay.c could not be built against %s's library" %
                        (label, binary))
        return None
    # the sysfs capture: an lspci dump has no BAR sizes, hence no providers
    cmd = [prog, os.path.join(gold, "sysfs.tar.gz"), kernel["kernel"], kernel["cpu"],
           os.path.join(gold, "lookup.txt")] + [a for a in allow_args(kernel) if a != "--allow"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        failures.append("%s [lookup]: `%s` failed: %s" % (label, " ".join(cmd), r.stderr.strip()[:300]))
        return None
    ours = [l.split()[1:] for l in r.stdout.splitlines() if l.startswith("LOOKUP ")]
    n = ok = 0
    for lk, o in zip(kernel["lookups"], ours + [None] * (len(kernel["lookups"]) - len(ours))):
        n += 1
        want = [lk["provider"], lk["client"], lk["cached"], lk["map_type"], str(len(lk["dmesg"]))]
        if o == want:
            ok += 1
        else:
            failures.append("%s [lookup]: kernel %s, our cache model %s" % (label, " ".join(want), o and " ".join(o)))
    return {"n": n, "ok": ok}


def odirect_tool_check(gold, kernel, mat, label, failures):
    """Observed O_DIRECT results against our tool's map type for (provider, client).
    Returns (ops, ok, rows) with rows for the doc's O_DIRECT table."""
    path = os.path.join(gold, "odirect.txt")
    if not os.path.exists(path):
        return None
    od = parse_odirect(path)
    tp = {(str(p.get("provider", "")).lower(), str(p.get("client", "")).lower()): p
          for p in mat.get("pairs", [])}
    kp = {(p["provider"], p["client"]): p for p in kernel["pairs"]}
    n = ok = 0
    rows = {}
    for o in od["ops"]:
        k = (o["provider"], o["client"])
        n += 1
        mt = str(tp.get(k, {}).get("map_type", "(missing)"))
        res, data = odirect_expect(mt, o["provider"], o["client"], kernel["iommu"], o["len"])
        good = o["result"] == res and (data is None or o["data"] == data)
        ok += good
        if not good:
            failures.append("%s [O_DIRECT]: provider %s client %s %s %d: tool %s predicts %s/%s, observed %s/%s" %
                            (label, o["provider"], o["client"], o["op"], o["len"], mt, res, data,
                             o["result"], o["data"]))
        r = rows.setdefault(k, {"scenario": kernel["scenario"], "provider": k[0], "client": k[1],
                                "kernel": kp.get(k, {}).get("map_type", "?"), "tool": mt,
                                "predicted": "transfer" if res != "EREMOTEIO" else "EREMOTEIO",
                                "observed": [], "agree": True})
        r["observed"].append("%s %d: %s%s" % (o["op"], o["len"], o["result"],
                                              "" if o["data"] == "-" else " " + o["data"]))
        r["agree"] = r["agree"] and good
        if data is None:
            r["note"] = "data not checkable (QEMU VT-d)"
    return n, ok, list(rows.values())


BOOTLOG_RE = re.compile(r"(PCI: Unknown option|PCI: Can't parse|disabled ACS redirect|"
                        r"cannot disable ACS redirect|Configured ACS|ACS Flags|Invalid ACS)")


def find_base(kernel, candidates):
    """The capture a what-if boot of KERNEL's command line starts from: the
    same topology and kernel series, booted without IOMMU and without extra
    parameters (its ACS Control registers are what firmware left), qemu64
    preferred. CANDIDATES: golden dirs. None if there is none."""
    best = None
    for d in candidates:
        try:
            b = json.load(open(os.path.join(d, "kernel.json")))
        except (OSError, ValueError):
            continue
        if (b["topology"] != kernel["topology"] or kernel_kv(b) != kernel_kv(kernel) or
                b["iommu"] != "off" or b["cmdline_extra"] or b["scenario"] == kernel["scenario"]):
            continue
        if best is None or b["cpu_model"] == "qemu64":
            best = (d, b)
    return best[0] if best else None


def cmdline_check(gold, base, binary, label, failures):
    """Our what-if boot against the real boot: load BASE's dump (firmware
    ACS registers), boot it with the scenario's whole command line (plus
    --iommu when the scenario had intel_iommu=on) under the captured kernel's
    profile, and compare the predicted ACS Control of every ACS-capable
    function and the predicted boot-log lines (unknown option, parse errors,
    "disabled ACS redirect", "Configured ACS to ...") with the kernel's.
    Returns {"regs": n, "regs_ok": n, "log": [lines], "log_ok": bool}."""
    kernel = json.load(open(os.path.join(gold, "kernel.json")))
    tmp = tempfile.mkdtemp(prefix="p2pcmd.")
    try:
        dump = os.path.join(tmp, "base.lspci")
        with gzip.open(os.path.join(base, "lspci-xxxx.txt.gz"), 'rb') as src, open(dump, 'wb') as dst:
            shutil.copyfileobj(src, dst)
        cmd = [binary, "--dump", dump, "--cpu", kernel["cpu"], "--kernel", kernel["kernel"],
               "--cmdline", kernel["cmdline"]] + (["--iommu"] if kernel["iommu"] == "on" else []) + \
              ["--no-names", "tree", "--json"]
        obj, err, rc = run_tool(cmd)
    finally:
        shutil.rmtree(tmp)
    if obj is None or rc != 0:
        failures.append("%s [boot]: `%s` failed rc=%s: %s" % (label, " ".join(cmd), rc, err[:300]))
        return None
    pred = {}

    def walk(devs):
        for d in devs:
            if d.get("acs"):
                pred[d["bdf"]] = int(d["acs"]["ctrl"], 16)
            walk(d.get("children", []))
    for hb in obj.get("host_bridges", []):
        walk(hb.get("devices", []))
    real = {d["bdf"]: d["acs_ctrl"] for d in kernel["pci_devices"] if d["acs_cap"]}
    n = ok = 0
    for b in sorted(set(real) | set(pred)):
        n += 1
        if real.get(b) == pred.get(b):
            ok += 1
        else:
            failures.append("%s [boot]: %s ACS Control: kernel %s, our what-if boot of the command line %s" %
                            (label, b, "0x%04x" % real[b] if b in real else None,
                             "0x%04x" % pred[b] if b in pred else None))
    tool_log = sorted(x for x in obj.get("notes", []) if BOOTLOG_RE.search(x))
    klog = []
    with gzip.open(os.path.join(gold, "dmesg.txt.gz"), "rt", errors="replace") as fh:
        for raw in fh:
            line = TS_RE.sub('', raw.rstrip('\n'))
            if BOOTLOG_RE.search(line):
                klog.append(line)
    klog.sort()
    if klog != tool_log:
        failures.append("%s [boot]: boot log: kernel %s, our what-if boot %s" % (label, klog, tool_log))
    return {"regs": n, "regs_ok": ok, "log": klog, "log_ok": klog == tool_log}


def tool(gold, binary, result_path, base=None):
    kernel = json.load(open(os.path.join(gold, "kernel.json")))
    res = {"scenario": kernel["scenario"], "pairs": len(kernel["pairs"]), "failures": [],
           "skipped": [], "host": None, "guest": None, "sysfs": None, "dmesg": None,
           "p2pmem_sysfs": None, "p2pmem_guest": None, "odirect": None, "odirect_kernel": None,
           "odirect_rows": []}
    failures = res["failures"]
    kp2p = parse_p2pmem(os.path.join(gold, "p2pmem.txt"))
    res["odirect_kernel"] = odirect_kernel_check(gold, kernel, kernel["scenario"], failures)
    res["lookup"] = lookup_kernel_check(kernel, kp2p, kernel["scenario"], failures)
    res["boot"] = None
    if base and binary and os.access(binary, os.X_OK):
        res["boot"] = cmdline_check(gold, base, binary, kernel["scenario"], failures)
    tmp = tempfile.mkdtemp(prefix="p2pconf.")
    try:
        dump = os.path.join(tmp, "lspci-xxxx.txt")
        with gzip.open(os.path.join(gold, "lspci-xxxx.txt.gz"), 'rb') as src, open(dump, 'wb') as dst:
            shutil.copyfileobj(src, dst)
        if not (binary and os.access(binary, os.X_OK)):
            res["skipped"].append("p2pdma binary not found (%s)" % binary)
        else:
            # (ii) host replay of the captured dump; ACS registers already hold what
            # the kernel applied at boot, so no command line is applied again.
            cmd = [binary, "--dump", dump, "--cpu", kernel["cpu"], "--kernel", kernel["kernel"]] + allow_args(kernel) + [
                   "--cmdline", "", "matrix", "--json"]
            mat, err, rc = run_tool(cmd)
            if mat is None or rc != 0:
                res["skipped"].append("host replay: `%s` failed rc=%s: %s" % (" ".join(cmd), rc, err[:300]))
            else:
                n, mo, do, miss = compare_matrix(kernel, mat, kernel["scenario"] + " [host replay]", failures)
                res["host"] = {"pairs": n, "map_ok": mo, "dist_ok": do, "missing": miss}
                res["lookup_tool"] = lookup_tool_check(gold, kernel, binary, kernel["scenario"], failures)
                odr = odirect_tool_check(gold, kernel, mat, kernel["scenario"] + " [dump replay]", failures)
                if odr is not None:
                    res["odirect"] = {"ops": odr[0], "ok": odr[1]}
                    res["odirect_rows"] = odr[2]
                # predicted dmesg lines: one `check` per provider with all clients
                d_n = d_ok = 0
                d_fail = []
                by_prov = {}
                for p in kernel["pairs"]:
                    by_prov.setdefault(p["provider"], []).append(p)
                for prov, plist in by_prov.items():
                    cmd = [binary, "--dump", dump, "--cpu", kernel["cpu"], "--kernel", kernel["kernel"]] + allow_args(kernel) + [
                           "--cmdline", "", "check", prov] + [p["client"] for p in plist] + ["--json"]
                    obj, err, rc = run_tool(cmd)
                    if obj is None:
                        d_fail = None
                        res["skipped"].append("check --json failed rc=%s: %s" % (rc, err[:300]))
                        break
                    for p in plist:
                        pred = [split_msg(x)[1:] for x in collect_dmesg(obj, p["client"])]
                        want = [(d["device"], d["text"]) for d in p["dmesg"]]
                        d_n += 1
                        if pred == want:
                            d_ok += 1
                        else:
                            d_fail.append("%s [dmesg]: pair provider %s client %s: kernel %s, tool %s" %
                                          (kernel["scenario"], p["provider"], p["client"], want, pred))
                if d_fail is not None:
                    res["dmesg"] = {"pairs": d_n, "ok": d_ok}
                    failures.extend(d_fail)
        # (iii) host replay of the captured sysfs tree, if the CLI has --sysfs
        if binary and os.access(binary, os.X_OK):
            helptext = ""
            try:
                r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
                helptext = r.stdout + r.stderr
            except (OSError, subprocess.TimeoutExpired):
                pass
            if "--sysfs" in helptext:
                import tarfile
                with tarfile.open(os.path.join(gold, "sysfs.tar.gz")) as tf:
                    tf.extractall(tmp)
                cmd = [binary, "--sysfs", os.path.join(tmp, "sysfs"), "--cpu", kernel["cpu"],
                       "--kernel", kernel["kernel"]] + allow_args(kernel) + ["--cmdline", "", "matrix", "--json"]
                mat, err, rc = run_tool(cmd)
                if mat is None or rc != 0:
                    res["skipped"].append("sysfs replay: `%s` failed rc=%s: %s" % (" ".join(cmd), rc, err[:300]))
                else:
                    n, mo, do, miss = compare_matrix(kernel, mat, kernel["scenario"] + " [sysfs replay]", failures)
                    res["sysfs"] = {"pairs": n, "map_ok": mo, "dist_ok": do, "missing": miss}
                cmd = [binary, "--sysfs", os.path.join(tmp, "sysfs"), "--cpu", kernel["cpu"],
                       "--kernel", kernel["kernel"]] + allow_args(kernel) + ["--cmdline", "", "providers", "--json"]
                obj, err, rc = run_tool(cmd)
                if obj is None or rc != 0:
                    res["skipped"].append("p2pmem: `%s` failed rc=%s: %s" % (" ".join(cmd), rc, err[:300]))
                else:
                    n, ok = compare_p2pmem(kp2p, tool_p2pmem(obj), kernel["scenario"] + " [sysfs replay]", failures)
                    res["p2pmem_sysfs"] = {"n": n, "ok": ok}
            else:
                res["skipped"].append("sysfs replay: CLI has no --sysfs option")
        # (i) our tool inside the guest on the live sysfs
        gm = os.path.join(gold, "guest-matrix.json")
        if os.path.exists(gm):
            mat = find_json(open(gm).read())
            if mat is None:
                res["skipped"].append("guest matrix output unparsable")
            else:
                n, mo, do, miss = compare_matrix(kernel, mat, kernel["scenario"] + " [guest live]", failures)
                res["guest"] = {"pairs": n, "map_ok": mo, "dist_ok": do, "missing": miss}
        else:
            res["skipped"].append("no guest run of p2pdma (binary absent when captured)")
        # the extra guest checks (p2pmem sequence, nvmet, VFIO) against our model
        if binary and os.access(binary, os.X_OK):
            res["checks"] = guestchecks.tool_checks(gold, kernel, binary, kernel["scenario"], failures)
        elif any(os.path.exists(os.path.join(gold, f)) for f in guestchecks.CHECK_FILES.values()):
            res["skipped"].append("guest checks: p2pdma binary not found")
        gp = os.path.join(gold, "guest-providers.json")
        if os.path.exists(gp):
            obj = find_json(open(gp).read())
            if obj is None:
                res["skipped"].append("guest providers output unparsable")
            else:
                n, ok = compare_p2pmem(kp2p, tool_p2pmem(obj), kernel["scenario"] + " [guest live]", failures)
                res["p2pmem_guest"] = {"n": n, "ok": ok}
    finally:
        shutil.rmtree(tmp)
    with open(result_path, "w") as fh:
        json.dump(res, fh, indent=1)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


def replace_block(text, begin, end, body):
    if begin not in text or end not in text:
        text += "\n%s\n%s\n" % (begin, end)
    pre, rest = text.split(begin, 1)
    _, post = rest.split(end, 1)
    return pre + begin + "\n" + body + "\n" + end + post


def table(results_dir, doc):
    """One agreement table per kernel series (markers
    <!-- conformance-table-SERIES:begin/end -->) and one O_DIRECT table."""
    rows, orows, crows = {}, [], []
    totals = {}
    for fn in sorted(os.listdir(results_dir)):
        if not fn.endswith(".json"):
            continue
        r = json.load(open(os.path.join(results_dir, fn)))
        k = r.get("kernel_summary", {})
        series = k.get("series", "?")

        def fmt(part, key, tot="pairs"):
            if not part:
                return "skipped"
            return "%d/%d" % (part[key], part[tot])
        h, g, d, s_ = r.get("host"), r.get("guest"), r.get("dmesg"), r.get("sysfs")
        ps, pg, od = r.get("p2pmem_sysfs"), r.get("p2pmem_guest"), r.get("odirect")
        b, lk, lt = r.get("boot"), r.get("lookup"), r.get("lookup_tool")
        boot = "-" if not b else "%d/%d%s" % (b["regs_ok"], b["regs"], "" if b["log_ok"] else " **log differs**")
        look = "-" if not lk else "%s/%d (%d misses)" % (lt["ok"] if lt else "skipped ", lk["n"], lk["misses"])
        rows.setdefault(series, []).append(
            "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["scenario"], k.get("verdicts", ""), r["pairs"], fmt(h, "map_ok"), fmt(h, "dist_ok"),
                fmt(s_, "map_ok"), fmt(s_, "dist_ok"), fmt(g, "map_ok"), fmt(g, "dist_ok"), fmt(d, "ok"),
                fmt(ps, "ok", "n"), fmt(pg, "ok", "n"), fmt(od, "ok", "ops") if od else "-", boot, look,
                "%d" % len(r.get("failures", []))))
        t = totals.setdefault(series, {"scenarios": 0, "pairs": 0, "disagreements": 0, "failed": 0})
        t["scenarios"] += 1
        t["pairs"] += r["pairs"]
        t["disagreements"] += len(r.get("failures", []))
        t["failed"] += 1 if r.get("failures") else 0
        ch = r.get("checks") or {}
        if any(ch.values()):
            def cfmt(part, extra=""):
                return "-" if not part else "%d/%d%s" % (part["ok"], part["n"], extra % part if extra else "")
            crows.append("| %s | %s | %s | %s |" % (
                r["scenario"], cfmt(ch.get("p2pmem_seq")), cfmt(ch.get("nvmet"), " (%(refused)d refused)"),
                cfmt(ch.get("vfio"))))
        for o in r.get("odirect_rows", []):
            orows.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                o["scenario"], o["provider"], o["client"], o["kernel"], o["tool"], o["predicted"],
                "; ".join(o["observed"]) + (" (%s)" % o["note"] if o.get("note") else ""),
                "yes" if o["agree"] else "**NO**"))
    head = ["| scenario | kernel verdicts (BUS_ADDR/THRU_HOST_BRIDGE/NOT_SUPPORTED) | pairs | "
            "dump replay: map type | dump replay: distance | sysfs replay: map type | "
            "sysfs replay: distance | guest live: map type | guest live: distance | dmesg lines (dump) | "
            "p2pmem (sysfs replay) | p2pmem (guest live) | O_DIRECT ops (tool) | what-if boot: ACS registers | "
            "lookups: cache model | disagreements |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    obody = ["| scenario | provider | client | kernel map type | tool map type | predicted | observed (op len: result data) | agree |",
             "|---|---|---|---|---|---|---|---|"] + orows
    text = open(doc).read()
    for series, rs in rows.items():
        t = totals[series]
        summary = ("Linux %s: %d scenarios, %d ordered pairs, %d disagreements (%d scenarios with any)." %
                   (series, t["scenarios"], t["pairs"], t["disagreements"], t["failed"]))
        text = replace_block(text, "<!-- conformance-table-%s:begin -->" % series,
                             "<!-- conformance-table-%s:end -->" % series, "\n".join([summary, ""] + head + rs))
    text = replace_block(text, "<!-- conformance-odirect:begin -->", "<!-- conformance-odirect:end -->", "\n".join(obody))
    cbody = ["| scenario | p2pmem sequence: checks agreeing | nvmet: cases agreeing | VFIO: requests agreeing |",
             "|---|---|---|---|"] + crows
    text = replace_block(text, "<!-- conformance-checks:begin -->", "<!-- conformance-checks:end -->", "\n".join(cbody))
    with open(doc, "w") as fh:
        fh.write(text)


def summarize(gold):
    k = json.load(open(os.path.join(gold, "kernel.json")))
    c = {n: 0 for n in MAP_NAMES}
    for p in k["pairs"]:
        c[p["map_type"]] = c.get(p["map_type"], 0) + 1
    return "%d/%d/%d" % (c["BUS_ADDR"], c["THRU_HOST_BRIDGE"], c["NOT_SUPPORTED"])


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    cmd = argv[1]
    if cmd == "normalize" and len(argv) in (9, 10):
        normalize(*argv[2:])
        return 0
    if cmd == "diff-kernel" and len(argv) == 4:
        return diff_kernel(argv[2], argv[3])
    if cmd == "tool" and len(argv) >= 5:
        base = None
        kj = json.load(open(os.path.join(argv[2], "kernel.json")))
        for root in argv[5:]:  # directories of golden dirs to find the what-if base in
            if base is None and os.path.isdir(root):
                base = find_base(kj, [os.path.join(root, x) for x in sorted(os.listdir(root))])
        rc = tool(argv[2], argv[3], argv[4], base)
        r = json.load(open(argv[4]))
        r["kernel_summary"] = {"verdicts": summarize(argv[2]), "series": kernel_series(kj)}
        json.dump(r, open(argv[4], "w"), indent=1)
        return rc
    if cmd == "lookup-replay" and len(argv) == 4:
        return 0 if lookup_replay_binary(argv[2], argv[3]) else 1
    if cmd == "nvmet-replay" and len(argv) == 4:
        return 0 if guestchecks.nvmet_replay_binary(argv[2], argv[3]) else 1
    if cmd == "table" and len(argv) == 4:
        table(argv[2], argv[3])
        return 0
    die(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
