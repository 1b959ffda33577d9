#!/usr/bin/env python3
"""Post-processing for the libp2pdma kernel conformance harness.

Subcommands:
  normalize RAWDIR GOLDDIR NAME TOPO CPU IOMMU EXTRA
      turn one guest capture (RAWDIR/out) into the golden file set in GOLDDIR
  diff-kernel GOLD_A GOLD_B
      compare the kernel verdicts (kernel.json) of two golden dirs; exit 1 on difference
  tool GOLDDIR P2PDMA_BIN RESULT.json
      compare our tool (host replay of the captured dump; guest run if captured)
      against the kernel verdicts; writes RESULT.json; exit 1 on disagreement
  table RESULTS_DIR DOC.md
      rewrite the agreement table between the markers in DOC.md
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
    info = {"cpu_supports_p2pdma": None, "host_bridges": [], "devices": [], "pairs": []}
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "CPU_SUPPORTS_P2PDMA":
            info["cpu_supports_p2pdma"] = int(f[1])
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


def parse_dmesg_pairs(path):
    """Attribute dmesg lines to pairs using the patch's markers."""
    warn, xwarn = {}, {}
    cur, target = None, None
    for raw in open(path, errors='replace'):
        line = TS_RE.sub('', raw.rstrip('\n'))
        m = re.match(r'^(?:\S+: )?p2pdma-conformance: (pair|xcheck) (' + BDF_RE + ') (' + BDF_RE + ')$', line)
        if m:
            cur = (m.group(2), m.group(3))
            target = warn if m.group(1) == 'pair' else xwarn
            target.setdefault(cur, [])
            continue
        if line.endswith('p2pdma-conformance: end'):
            cur = None
            continue
        if cur is not None:
            drv, bdf, text = split_msg(line)
            target[cur].append({"driver": drv, "device": bdf, "text": text})
    return warn, xwarn


def normalize(raw, gold, name, topo, cpu, iommu, extra):
    out = os.path.join(raw, "out")
    os.makedirs(gold, exist_ok=True)
    for f in ("cmdline", "cpu", "cpuinfo", "uname", "p2pmem.txt", "lspci-tvnn.txt", "verdicts.txt",
              "sysfs.tar.gz"):
        shutil.copy(os.path.join(out, f), os.path.join(gold, f))
    for f in ("lspci-xxxx.txt", "dmesg.txt"):
        with open(os.path.join(out, f), 'rb') as src, \
                gzip.GzipFile(os.path.join(gold, f + ".gz"), 'wb', mtime=0) as dst:
            shutil.copyfileobj(src, dst)
    shutil.copy(os.path.join(raw, "qemu-args.txt"), os.path.join(gold, "qemu-args.txt"))
    v = parse_verdicts(os.path.join(out, "verdicts.txt"))
    warn, xwarn = parse_dmesg_pairs(os.path.join(out, "dmesg.txt"))
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
    kernel = {
        "scenario": name, "topology": topo, "cpu_model": cpu, "iommu": iommu,
        "cmdline_extra": "" if extra == '-' else extra,
        "cmdline": open(os.path.join(out, "cmdline")).read().strip(),
        "cpu": open(os.path.join(out, "cpu")).read().strip(),
        "kernel": open(os.path.join(out, "uname")).read().strip(),
        "cpu_supports_p2pdma": v["cpu_supports_p2pdma"],
        "host_bridges": v["host_bridges"], "pci_devices": v["devices"],
        "devices": devices, "pairs": pairs,
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
            "pairs": [{k: p[k] for k in ("provider", "client", "map_type", "distance",
                                          "pci_p2pdma_distance")} |
                      {"dmesg": [d["text"] for d in p["dmesg"]]} for p in kj["pairs"]]}


def diff_kernel(a, b):
    ka = verdict_key(json.load(open(os.path.join(a, "kernel.json"))))
    kb = verdict_key(json.load(open(os.path.join(b, "kernel.json"))))
    if ka == kb:
        return 0
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


def tool(gold, binary, result_path):
    kernel = json.load(open(os.path.join(gold, "kernel.json")))
    res = {"scenario": kernel["scenario"], "pairs": len(kernel["pairs"]), "failures": [],
           "skipped": [], "host": None, "guest": None, "sysfs": None, "dmesg": None}
    failures = res["failures"]
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
            cmd = [binary, "--dump", dump, "--cpu", kernel["cpu"], "--kernel", "6.12",
                   "--cmdline", "", "matrix", "--json"]
            mat, err, rc = run_tool(cmd)
            if mat is None or rc != 0:
                res["skipped"].append("host replay: `%s` failed rc=%s: %s" % (" ".join(cmd), rc, err[:300]))
            else:
                n, mo, do, miss = compare_matrix(kernel, mat, kernel["scenario"] + " [host replay]", failures)
                res["host"] = {"pairs": n, "map_ok": mo, "dist_ok": do, "missing": miss}
                # predicted dmesg lines: one `check` per provider with all clients
                d_n = d_ok = 0
                d_fail = []
                by_prov = {}
                for p in kernel["pairs"]:
                    by_prov.setdefault(p["provider"], []).append(p)
                for prov, plist in by_prov.items():
                    cmd = [binary, "--dump", dump, "--cpu", kernel["cpu"], "--kernel", "6.12",
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
                       "--kernel", "6.12", "--cmdline", "", "matrix", "--json"]
                mat, err, rc = run_tool(cmd)
                if mat is None or rc != 0:
                    res["skipped"].append("sysfs replay: `%s` failed rc=%s: %s" % (" ".join(cmd), rc, err[:300]))
                else:
                    n, mo, do, miss = compare_matrix(kernel, mat, kernel["scenario"] + " [sysfs replay]", failures)
                    res["sysfs"] = {"pairs": n, "map_ok": mo, "dist_ok": do, "missing": miss}
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
    finally:
        shutil.rmtree(tmp)
    with open(result_path, "w") as fh:
        json.dump(res, fh, indent=1)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


def table(results_dir, doc):
    rows = []
    for fn in sorted(os.listdir(results_dir)):
        if not fn.endswith(".json"):
            continue
        r = json.load(open(os.path.join(results_dir, fn)))
        k = r.get("kernel_summary", {})

        def fmt(part, key):
            if not part:
                return "skipped"
            return "%d/%d" % (part[key], part["pairs"])
        h, g, d, s = r.get("host"), r.get("guest"), r.get("dmesg"), r.get("sysfs")
        rows.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], k.get("verdicts", ""), r["pairs"], fmt(h, "map_ok"), fmt(h, "dist_ok"),
            fmt(s, "map_ok"), fmt(s, "dist_ok"), fmt(g, "map_ok"), fmt(g, "dist_ok"), fmt(d, "ok")))
    body = ["| scenario | kernel verdicts (BUS_ADDR/THRU_HOST_BRIDGE/NOT_SUPPORTED) | pairs | "
            "dump replay: map type | dump replay: distance | sysfs replay: map type | "
            "sysfs replay: distance | guest live: map type | guest live: distance | dmesg lines (dump) |",
            "|---|---|---|---|---|---|---|---|---|---|"] + rows
    text = open(doc).read()
    begin, end = "<!-- conformance-table:begin -->", "<!-- conformance-table:end -->"
    if begin not in text or end not in text:
        text += "\n%s\n%s\n" % (begin, end)
    pre, rest = text.split(begin, 1)
    _, post = rest.split(end, 1)
    with open(doc, "w") as fh:
        fh.write(pre + begin + "\n" + "\n".join(body) + "\n" + end + post)


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
    if cmd == "normalize" and len(argv) == 9:
        normalize(*argv[2:9])
        return 0
    if cmd == "diff-kernel" and len(argv) == 4:
        return diff_kernel(argv[2], argv[3])
    if cmd == "tool" and len(argv) == 5:
        rc = tool(argv[2], argv[3], argv[4])
        r = json.load(open(argv[4]))
        r["kernel_summary"] = {"verdicts": summarize(argv[2])}
        json.dump(r, open(argv[4], "w"), indent=1)
        return rc
    if cmd == "table" and len(argv) == 4:
        table(argv[2], argv[3])
        return 0
    die(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
