#!/usr/bin/env python3
"""The harness's extra guest checks (conformance/checks.list): normalizing
their captures into golden files, comparing two goldens, and comparing a
golden with our model. Used by conformance.py (run.sh) and by
tests/cli/kernel-replay.py (offline). Only the Python standard library.

  p2pmem-seq  p2pmem-seq.json: `p2pdma verify --sequence ... --mmap-rules
              --json` run in the guest (the real p2pmem/allocate mappings and
              p2pmem/available after each step, beside the guest's model),
              the kernel lines it caused. Model: `p2pdma run` of the same
              steps on the captured sysfs tree.
  nvmet       nvmet.txt: `p2pcopy nvmet` (NVMe target namespaces, their
              p2pmem attribute and enable) and the kernel lines of each
              write. Model: conformance/lib/nvmet-replay.c on the captured
              sysfs tree (lib/nvmet.c).
  vfio        vfio.txt: a function bound to vfio-pci, our tool's real
              VFIO_DEVICE_FEATURE(DMA_BUF) calls (probe, export) with their
              output, the guest's model of each request (MODEL lines) and the
              kernel lines. Model: `p2pdma vfio explain` on the captured tree.
"""
import errno
import json
import os
import re
import shutil
import subprocess
import tempfile

TS_RE = re.compile(r'^\[\s*\d+\.\d+\]\s?')
MARK = "p2pdma-conformance: "
CHECK_FILES = {"p2pmem-seq": "p2pmem-seq.json", "nvmet": "nvmet.txt", "vfio": "vfio.txt"}
STRERROR = {os.strerror(e): n for e, n in errno.errorcode.items()}


class CheckError(Exception):
    pass


def _dmesg_lines(path):
    if not os.path.exists(path):
        return []
    return [TS_RE.sub("", l.rstrip("\n")) for l in open(path, errors="replace")]


def _between(lines, begin, end):
    """Kernel lines after the marker BEGIN up to the marker END (both
    "p2pdma-conformance: ..." texts); None if BEGIN is not there."""
    out, on = None, False
    for l in lines:
        if l == MARK + begin:
            out, on = [], True
            continue
        if on and l == MARK + end:
            return out
        if on:
            out.append(l)
    return out


def normalize_checks(out, gold, checks):
    """The captures of the checks a boot ran (OUT = the guest's /out) into
    GOLD; raises CheckError when a check asked for left no result."""
    dm = _dmesg_lines(os.path.join(out, "dmesg-post.txt"))
    for c in checks.split():
        if c not in CHECK_FILES:
            raise CheckError("unknown check %s" % c)
        if not dm:
            raise CheckError("%s: no dmesg-post.txt" % c)
    if "p2pmem-seq" in checks.split():
        p = os.path.join(out, "p2pmem-seq.json")
        err = open(os.path.join(out, "p2pmem-seq.err")).read() if os.path.exists(os.path.join(out, "p2pmem-seq.err")) else ""
        try:
            verify = json.load(open(p))
        except (OSError, ValueError) as e:
            raise CheckError("p2pmem-seq: no verify --json output (%s) %s" % (e, err.strip()[:200]))
        kl = _between(dm, "p2pmem-seq begin", "p2pmem-seq end")
        if kl is None:
            raise CheckError("p2pmem-seq: no kernel-log markers")
        obj = {"steps": open(os.path.join(out, "p2pmem-seq.steps")).read().strip(),
               "rc": int(open(os.path.join(out, "p2pmem-seq.rc")).read()),
               "verify": {k: verify[k] for k in ("sequences", "mmap_rules", "tested", "differ")},
               "dmesg": kl}
        with open(os.path.join(gold, "p2pmem-seq.json"), "w") as fh:
            json.dump(obj, fh, indent=1, sort_keys=True)
            fh.write("\n")
    if "nvmet" in checks.split():
        p = os.path.join(out, "nvmet-raw.txt")
        raw = open(p).read().splitlines() if os.path.exists(p) else []
        if not raw or raw[-1] != "END":
            raise CheckError("nvmet: p2pcopy nvmet did not finish: %s %s" % (
                raw[-1:] if raw else "no output",
                open(os.path.join(out, "nvmet.err")).read().strip()[:300] if os.path.exists(os.path.join(out, "nvmet.err")) else ""))
        body = []
        for l in raw:
            if not l.startswith("NVMET "):
                continue
            cid = l.split()[1]
            body.append(l)
            for phase, nxt in (("store", "enable"), ("enable", "end")):
                kl = _between(dm, "nvmet %s %s" % (cid, phase), "nvmet %s %s" % (cid, nxt))
                if kl is None:
                    raise CheckError("nvmet: no kernel-log markers for case %s" % cid)
                body.extend("KMSG %s %s %s" % (cid, phase, x) for x in kl)
        if not any(l.startswith("NVMET ") for l in body):
            raise CheckError("nvmet: no case ran (%s)" % raw)
        with open(os.path.join(gold, "nvmet.txt"), "w") as fh:
            fh.write("\n".join(body) + "\nEND\n")
    if "vfio" in checks.split():
        p = os.path.join(out, "vfio.txt")
        raw = open(p).read().splitlines() if os.path.exists(p) else []
        if not raw or raw[-1] != "END" or not any(l.startswith("REQUEST ") for l in raw):
            raise CheckError("vfio: no requests made: %s" % raw[:5])
        body = [l for l in raw if l != "END"]
        for l in raw:
            if l.startswith("REQUEST "):
                n = l.split()[1]
                try:
                    m = json.load(open(os.path.join(out, "vfio-model-%s.json" % n)))
                    body.append("MODEL %s %s %s" % (n, m["result"], m.get("reason", "")))
                except (OSError, ValueError, KeyError) as e:
                    body.append("MODEL %s - (%s)" % (n, e))
        kl = _between(dm, "vfio begin", "vfio end")
        if kl is None:
            raise CheckError("vfio: no kernel-log markers")
        body.extend("KMSG %s" % x for x in kl)
        with open(os.path.join(gold, "vfio.txt"), "w") as fh:
            fh.write("\n".join(body) + "\nEND\n")


def diff_checks(a, b):
    """1 (and what differs) if goldens A and B differ in a check's file."""
    rc = 0
    for f in sorted(CHECK_FILES.values()):
        pa, pb = os.path.join(a, f), os.path.join(b, f)
        ea, eb = os.path.exists(pa), os.path.exists(pb)
        if not ea and not eb:
            continue
        if ea != eb:
            print("  %s: %s" % (f, "only in the golden" if ea else "only in the fresh capture"))
            rc = 1
            continue
        ta, tb = open(pa).read().splitlines(), open(pb).read().splitlines()
        if ta != tb:
            rc = 1
            for x in [x for x in ta if x not in tb][:10]:
                print("  %s golden only: %s" % (f, x))
            for x in [x for x in tb if x not in ta][:10]:
                print("  %s fresh only:  %s" % (f, x))
    return rc


def _run(cmd, timeout=120):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e), -1
    return p.stdout, p.stderr, p.returncode


def allow_args(kernel):
    out = []
    for a in kernel.get("allow", []):
        out += ["--allow", a["id"] + (":same-host-bridge" if a["flags"] & 1 else "")]
    return out


# --- p2pmem-seq ------------------------------------------------------------------

def _seq_script(gold, kernel, seq):
    """The `p2pdma run` script of the guest's verify: the same steps on each
    provider (in the guest's order), then the mmap rules, with the kernel's
    own successful mappings as the ones later steps unmap (a mapping the
    model refused already disagrees)."""
    lines = ["machine sysfs %s" % os.path.join(os.path.abspath(gold), "sysfs.tar.gz"),
             "kernel %s" % kernel["kernel"], "cpu %s" % kernel["cpu"], "boot", "comm p2pdma"]
    plan = []  # (provider, step index or "start"/"end", script line indices)
    for s in seq["verify"]["sequences"]:
        prov = s["provider"]
        steps = s["steps"]
        lines.append("p2pmem %s" % prov)
        plan.append((prov, 0, len(lines) - 1))
        maps = []  # kernel-side errno of each map step
        live = {}
        for i, st in enumerate(steps[1:-1], start=1):
            w = st["step"].split()
            if w[0] == "map":
                h = "m%d_%d" % (len(plan), len(maps))
                if st["errno"] == "":
                    lines.append("mmap %s %s as %s" % (prov, w[1], h))
                    live[len(maps)] = h
                else:
                    lines.append("mmap %s %s" % (prov, w[1]))
                maps.append(st["errno"])
                plan.append((prov, i, len(lines) - 1))
            else:
                n = int(w[1])
                if n in live:
                    lines.append("munmap $%s%s" % (live[n], (" %s %s" % (w[2], w[3])) if len(w) == 4 else ""))
                    plan.append((prov, i, len(lines) - 1))
                    if len(w) == 2:
                        del live[n]
                else:
                    plan.append((prov, i, None))  # not run in the guest either
            lines.append("p2pmem %s" % prov)
            plan.append((prov, ("avail", i), len(lines) - 1))
        for h in live.values():
            lines.append("munmap $%s" % h)
        lines.append("p2pmem %s" % prov)
        plan.append((prov, len(steps) - 1, len(lines) - 1))
    rules = []
    for r in seq["verify"]["mmap_rules"]:
        prov = r["provider"]
        lines.append("mmap %s 4K private" % prov)
        rules.append((prov, "private", len(lines) - 1))
        lines.append("mmap %s 4K offset 4096" % prov)
        rules.append((prov, "offset", len(lines) - 1))
        if r["shared"] == "0":  # the kernel mapped it: the model's mapping is unmapped as the guest's
            lines.append("mmap %s 4K as rule_%d" % (prov, len(rules)))
            rules.append((prov, "shared", len(lines) - 1))
            lines.append("munmap $rule_%d" % (len(rules) - 1))
        else:
            lines.append("mmap %s 4K" % prov)
            rules.append((prov, "shared", len(lines) - 1))
    return lines, plan, rules


def p2pmem_seq_check(gold, kernel, binary, label, failures):
    """The guest's figures (real kernel) against our model replaying the same
    steps on the captured tree; also the guest's own comparison. Returns
    {"n", "ok"} or None without p2pmem-seq.json."""
    path = os.path.join(gold, "p2pmem-seq.json")
    if not os.path.exists(path):
        return None
    seq = json.load(open(path))
    n = ok = 0
    bad = []
    if seq["rc"] != 0 or seq["verify"]["differ"]:
        bad.append("the guest's verify found %d differences (exit %d)" % (seq["verify"]["differ"], seq["rc"]))
    if not seq["verify"]["sequences"]:
        bad.append("no provider was tested")
    lines, plan, rules = _seq_script(gold, kernel, seq)
    tmp = tempfile.mkdtemp(prefix="p2pseq.")
    try:
        script = os.path.join(tmp, "seq.p2ps")
        with open(script, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        out, err, rc = _run([binary, "run", "--json", script])
    finally:
        shutil.rmtree(tmp)
    if out is None:
        failures.append("%s [p2pmem-seq]: `p2pdma run` did not run: %s" % (label, err))
        return {"n": 0, "ok": 0}
    if rc not in (0, 1):
        # e.g. a mapping the kernel made and the model refused: later steps
        # unmap a handle the model never made; the steps before still count
        bad.append("`p2pdma run` stopped (exit %s): %s" % (rc, (err or "").strip()[:300]))
    objs = {}
    for l in out.splitlines():
        try:
            o = json.loads(l)
        except ValueError:
            continue
        if o.get("file") and o.get("line"):
            objs[o["line"] - 1] = o
    seqs = {s["provider"]: s["steps"] for s in seq["verify"]["sequences"]}
    for prov, key, li in plan:
        o = objs.get(li) if li is not None else None
        if isinstance(key, tuple):  # the available figure after step key[1]
            st = seqs[prov][key[1]]
            n += 1
            got = o and o["fields"].get("available")
            if o and int(got) == st["available"]:
                ok += 1
            else:
                bad.append("%s after '%s': kernel available %s, model %s" % (prov, st["step"], st["available"], got))
            continue
        st = seqs[prov][key]
        n += 1
        if st["step"] in ("start",) or st["step"].startswith("end"):
            got = o and o["fields"].get("available")
            if o and int(got) == st["available"]:
                ok += 1
            else:
                bad.append("%s %s: kernel available %s, model %s" % (prov, st["step"], st["available"], got))
            continue
        want = st["errno"]
        got = "not-run" if li is None else (o["errno_name"] if o else "(no step)")
        if want == got:
            ok += 1
        else:
            bad.append("%s '%s': kernel %s, model %s" % (prov, st["step"], want or "ok", got or "ok"))
    model_dmesg = []
    real = {r["provider"]: r for r in seq["verify"]["mmap_rules"]}
    for prov, case, li in rules:
        o = objs.get(li)
        n += 1
        got = o["errno_name"] if o else "(no step)"
        want = real[prov][case]
        want = "" if want == "0" else want
        if got == want:
            ok += 1
        else:
            bad.append("%s mmap %s: kernel %s, model %s" % (prov, case, want or "ok", got or "ok"))
        if o:
            model_dmesg += [x["text"] for x in o.get("lines", []) if x.get("kind") == "dmesg"]
    n += 1
    if model_dmesg == seq["dmesg"]:
        ok += 1
    else:
        bad.append("kernel lines: kernel %s, model %s" % (seq["dmesg"], model_dmesg))
    failures.extend("%s [p2pmem-seq]: %s" % (label, b) for b in bad)
    return {"n": n, "ok": ok}


# --- nvmet -----------------------------------------------------------------------

def nvmet_check(gold, kernel, replay, label, failures):
    """nvmet.txt against nvmet-replay (REPLAY = its binary, None if it could
    not be built: a failure). Returns {"n", "ok", "refused"} or None."""
    path = os.path.join(gold, "nvmet.txt")
    if not os.path.exists(path):
        return None
    if not replay:
        failures.append("%s [nvmet]: conformance/lib/nvmet-replay.c could not be built" % label)
        return {"n": 0, "ok": 0, "refused": 0}
    cmd = [replay, os.path.join(gold, "sysfs.tar.gz"), kernel["kernel"], kernel["cpu"], path] + \
        [a for a in allow_args(kernel) if a != "--allow"]
    out, err, rc = _run(cmd)
    if rc != 0:
        failures.append("%s [nvmet]: `%s` failed (exit %s): %s" % (label, " ".join(cmd), rc, (err or "").strip()[:300]))
        return {"n": 0, "ok": 0, "refused": 0}

    def cases(lines):
        c = {}
        for l in lines:
            w = l.split(" ")
            if w[0] == "NVMET":
                c.setdefault(w[1], {"line": l, "kmsg": []})["line"] = l
            elif w[0] == "KMSG":
                c.setdefault(w[1], {"line": None, "kmsg": []})["kmsg"].append(l)
        return c
    kc = cases(open(path).read().splitlines())
    mc = cases(out.splitlines())
    n = ok = refused = 0
    for cid in sorted(kc, key=int):
        n += 1
        k, m = kc[cid], mc.get(cid, {"line": None, "kmsg": []})
        w = k["line"].split()
        refused += w[6] != "ok" or w[8] != "ok"
        if k == m:
            ok += 1
        else:
            failures.append("%s [nvmet] case %s: kernel %s, model %s" % (label, cid, k, m))
    if set(mc) - set(kc):
        failures.append("%s [nvmet]: model cases the kernel did not run: %s" % (label, sorted(set(mc) - set(kc))))
    return {"n": n, "ok": ok, "refused": refused}


# --- vfio ------------------------------------------------------------------------

EXPLAINED = {
    "ENOTTY": "this kernel has no VFIO dma-buf export",
}


def parse_vfio(path):
    v = {"device": None, "driver": None, "requests": [], "model": {}, "kmsg": [], "noremap": [],
         "noremap_exit": None}
    cur = None
    for l in open(path).read().splitlines():
        w = l.split(" ", 1)
        rest = w[1] if len(w) > 1 else ""
        if w[0] == "DEVICE":
            v["device"] = rest
        elif w[0] == "DRIVER":
            v["driver"] = rest
        elif w[0] == "NOREMAP-EXIT":
            v["noremap_exit"] = int(rest)
        elif w[0] == "NOREMAP":
            v["noremap"].append(rest)
        elif w[0] == "REQUEST":
            n, kind, fields = (rest.split(" ", 2) + ["", ""])[:3]
            cur = {"n": n, "kind": kind, "fields": fields, "exit": None, "out": [], "model_exit": None}
            v["requests"].append(cur)
        elif w[0] == "EXIT" and cur:
            cur["exit"] = int(rest)
        elif w[0] == "OUT" and cur:
            cur["out"].append(rest)
        elif w[0] == "MODEL-EXIT" and cur:
            cur["model_exit"] = int(rest)
        elif w[0] == "MODEL":
            n, res = (rest.split(" ", 2) + ["", ""])[:2]
            v["model"][n] = res
        elif w[0] == "KMSG":
            v["kmsg"].append(rest)
    return v


def real_errno(out_lines):
    """The errno of our tool's real call from its message
    ("...VFIO_DEVICE_FEATURE(DMA_BUF): <strerror> (<why>)"), or None."""
    for l in out_lines:
        m = re.search(r'VFIO_DEVICE_FEATURE\(DMA_BUF\): (.+?) \(', l)
        if m and m.group(1) in STRERROR:
            return STRERROR[m.group(1)]
    return None


def vfio_check(gold, kernel, binary, label, failures):
    """vfio.txt: each real call refused with the errno our model gives for
    the same request on the captured machine and kernel, explained (not a
    bare errno), and the guest's model the same. Returns {"n", "ok"} or None."""
    path = os.path.join(gold, "vfio.txt")
    if not os.path.exists(path):
        return None
    v = parse_vfio(path)
    n = ok = 0
    bad = []
    # before allow_unsafe_interrupts: type1 refuses the group, explained
    n += 1
    if v["noremap_exit"] == 1 and any("Operation not permitted" in l and "interrupt remapping" in l
                                      for l in v["noremap"]):
        ok += 1
    else:
        bad.append("without interrupt remapping: exit %s, output %s (want EPERM, explained)" % (
            v["noremap_exit"], v["noremap"]))
    if v["driver"] != "vfio-pci" or not v["requests"]:
        bad.append("device %s not bound to vfio-pci (driver %s), %d requests" % (v["device"], v["driver"], len(v["requests"])))
    for r in v["requests"]:
        n += 1
        fields = r["fields"] or "argsz=8, flags=PROBE|GET|DMA_BUF"
        cmd = [binary, "--sysfs", os.path.join(gold, "sysfs.tar.gz"), "--cpu", kernel["cpu"], "--kernel",
               kernel["kernel"]] + allow_args(kernel) + ["--cmdline", "", "--no-names", "vfio", "explain",
                                                          v["device"] or "-", "--json", "--fields", fields]
        out, err, rc = _run(cmd)
        try:
            model = json.loads(out)["result"]
        except (TypeError, ValueError, KeyError):
            model = None
        real = real_errno(r["out"])
        why = []
        if any("cannot open the VFIO device" in l for l in r["out"]):
            why.append("our tool could not open the device")
        if r["exit"] != 1:
            why.append("exit %s, want 1 (refused)" % r["exit"])
        if real is None:
            why.append("no errno in the output")
        if model != real:
            why.append("model on the captured machine: %s (`%s`: %s)" % (model, " ".join(cmd), (err or "").strip()[:200]))
        if v["model"].get(r["n"]) != real:
            why.append("guest's model: %s" % v["model"].get(r["n"]))
        text = " ".join(r["out"])
        if real in EXPLAINED:
            if EXPLAINED[real] not in text:
                why.append("not explained ('%s' missing)" % EXPLAINED[real])
        elif r["kind"] == "export" and "explained by the model of this machine" not in text:
            why.append("the guest's tool did not explain it with its model")
        if why:
            bad.append("request %s (%s %s): kernel %s: %s" % (r["n"], r["kind"], fields, real, "; ".join(why)))
        else:
            ok += 1
    failures.extend("%s [vfio]: %s" % (label, b) for b in bad)
    return {"n": n, "ok": ok}


_REPLAY = {}


def replay_binary(name, binary, env_var, out=None):
    """Build conformance/lib/NAME.c (a replay program: lookup-replay,
    nvmet-replay) against the library next to our CLI (BUILD/cli/p2pdma ->
    BUILD/lib) into OUT, or once per process into a temporary directory
    (run.sh builds each once per run and names it in ENV_VAR); None if it
    cannot be built."""
    if out is None and os.environ.get(env_var):
        return os.environ[env_var]
    if out is None and (name, binary) in _REPLAY:
        return _REPLAY[(name, binary)]
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(here, name + ".c")
    inc = os.path.join(here, "..", "..", "include")
    lib = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(binary))), "lib")
    if out is None:
        out = os.path.join(tempfile.mkdtemp(prefix="p2p%s." % name), name)
        import atexit
        atexit.register(shutil.rmtree, os.path.dirname(out), True)
    res = None
    # a sanitizer build's library links without the sanitizer runtime but
    # then refuses to run: a program counts only if it starts (usage, exit 2)
    for extra in ([], ["-fsanitize=address,undefined"]):
        cmd = [os.environ.get("CC", "cc"), "-std=c11", "-O1", "-I", inc, "-o", out, src] + extra + \
              ["-L", lib, "-lp2pdma", "-Wl,-rpath," + lib]
        try:
            if subprocess.run(cmd, capture_output=True, timeout=120).returncode != 0:
                continue
            t = subprocess.run([out], capture_output=True, text=True, timeout=60)
            if t.returncode == 2 and ("usage: " + name) in t.stderr:
                res = out
                break
        except (OSError, subprocess.TimeoutExpired):
            break
    _REPLAY[(name, binary)] = res
    return res


def nvmet_replay_binary(binary, out=None):
    """nvmet-replay.c built for BINARY's library (replay_binary)."""
    return replay_binary("nvmet-replay", binary, "P2PDMA_NVMET_REPLAY", out)


def tool_checks(gold, kernel, binary, label, failures):
    """Every check file GOLD has, against our model. Returns
    {"p2pmem_seq": ..., "nvmet": ..., "vfio": ...} (None where absent)."""
    return {"p2pmem_seq": p2pmem_seq_check(gold, kernel, binary, label, failures),
            "nvmet": nvmet_check(gold, kernel, nvmet_replay_binary(binary)
                                 if os.path.exists(os.path.join(gold, "nvmet.txt")) else None, label, failures),
            "vfio": vfio_check(gold, kernel, binary, label, failures)}
