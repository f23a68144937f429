#!/usr/bin/python3
"""The point-release bisection of scripts/kernels.sh --bisect: which build
of one kernel series first moved a figure, and what changed in it.

Usage:
  kernels_bisect.py next DIR      the index (DIR/builds.tsv) of the next
                                  build to boot, or nothing when done
  kernels_bisect.py render DIR    DIR/builds.tsv + DIR/raw/ -> the report

DIR/bisect.info (key=value) says what to find: figures= (comma list),
mode= (bisect: boot the ends, then halve; sweep: every build), min_effect=
(default 0.01), k= (default 3), control= (the kernel arguments of the
planted step, if this is the positive control) and planted= (the index from
which they were added). DIR/builds.tsv has one line per build of the series,
oldest first: index, package, version, upstream, suite, status (ok; gone:
not in the archive; fetch-failed; no-boot), label, append (extra kernel
arguments of its boots), deb (the .deb holding its changelog), runs (boots
done). A build's figure comes from raw/LABEL/runN.log.bench.json, one value
per boot: its median over the boots and the spread (max - min) / median.

A build moved from build A when |B - A| / A exceeds the threshold
max(min_effect, k x the larger spread of A and B). A threshold above
MAX_THRESHOLD (30%) cannot judge anything: INCONCLUSIVE. Bisection assumes
at most one step between FIRST and LAST (a step that comes back is
invisible to it; a sweep sees it): it boots FIRST and LAST, and while they
differ boots the middle build between the last one like FIRST and the first
one like LAST. A build without a figure (gone, no boot, the benchmark
errored) is left out and named. A sweep boots every build and names every
step between neighbours; the first is the answer.

render writes (via tmp.* names): bisect.tsv (per figure and build: the
median, spread, change from the previous measured build, threshold, the
verdict), changelog.txt (the Debian changelog entries between the two
builds of each step, from /usr/share/doc/PACKAGE/changelog.gz of the later
build's .deb), plots/ (the figure against the build, gnuplot
scripts/plot/bisect.gp), kernels_bisect.json and report.md. Exit status of
render: 0 done (a step or none), 3 inconclusive, and with control= 1 when
the step found is not the planted one.

Python 3 standard library only (and dpkg-deb for the changelog).
"""

import csv
import gzip
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile

import bench_report
import kernels_report
import ptcli

PROG = "kernels_bisect.py"


class UsageError(Exception):
    pass

MIN_EFFECT = 0.01
K = 3.0
MAX_THRESHOLD = 0.30


# --- Debian versions -------------------------------------------------------

def _order(c):
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _cmp_part(a, b):
    """dpkg's comparison of an upstream version or a revision."""
    i = j = 0
    while i < len(a) or j < len(b):
        first = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first:
                first = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first:
            return first
    return 0


def _split(v):
    epoch, _, rest = v.partition(":") if ":" in v else ("0", "", v)
    up, _, rev = rest.rpartition("-") if "-" in rest else (rest, "", "0")
    return int(epoch or 0), up, rev


def vercmp(a, b):
    """<0, 0, >0 as Debian version a sorts before, with or after b."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return ea - eb
    return _cmp_part(ua, ub) or _cmp_part(ra, rb)


def upstream(version):
    """The upstream kernel of a Debian version: 6.1.192-3 -> 6.1.192."""
    return _split(version)[1].split("~")[0].split("+")[0]


# --- the judgement ---------------------------------------------------------

def summarize(values):
    """dict(median, spread, n, values) of one build's figures (floats)."""
    nums = [v for v in values if isinstance(v, float)]
    med = statistics.median(nums) if nums else None
    return {"median": med, "spread": kernels_report.spread(nums), "n": len(nums), "values": nums}


def judge(a, b, min_effect=MIN_EFFECT, k=K):
    """B against A (summaries): dict(change, threshold, moved, verdict).
    verdict: same, moved, inconclusive (too noisy, or a spread unknown)."""
    change = (b["median"] - a["median"]) / a["median"]
    spreads = [s for s in (a["spread"], b["spread"]) if s is not None]
    thr = max(min_effect, k * max(spreads, default=0.0))
    moved = abs(change) > thr
    if thr > MAX_THRESHOLD:
        verdict = "inconclusive"
        why = f"threshold {thr:.1%} above {MAX_THRESHOLD:.0%}: too noisy to judge"
    elif len(spreads) < 2:
        verdict = "inconclusive"
        why = "a build with one boot: its spread is unknown"
    else:
        verdict = "moved" if moved else "same"
        why = ""
    return {"change": change, "threshold": thr, "moved": verdict == "moved",
            "verdict": verdict, "why": why}


def usable(summaries, i):
    return summaries.get(i) is not None and summaries[i]["median"] is not None


def bisect_plan(order, summaries, min_effect=MIN_EFFECT, k=K):
    """Bisection over the builds ORDER (indices, oldest first, gone ones
    already out) given SUMMARIES (index -> summary, or None for a build
    booted without a figure; absent: not booted). Returns ("boot", index)
    or ("done", result): result has verdict (STEP, NO STEP, INCONCLUSIVE),
    before/after (the last build like FIRST and the first one moved), the
    judgement, and skipped (builds without a figure)."""
    avail = [i for i in order if i not in summaries or usable(summaries, i)]
    skipped = [i for i in order if i in summaries and not usable(summaries, i)]
    if len(avail) < 2:
        return "done", {"verdict": "INCONCLUSIVE", "why": "fewer than two builds with a figure",
                        "before": None, "after": None, "skipped": skipped}
    for i in (avail[0], avail[-1]):
        if i not in summaries:
            return "boot", i
    base = summaries[avail[0]]
    ends = judge(base, summaries[avail[-1]], min_effect, k)
    if ends["verdict"] == "inconclusive":
        return "done", {"verdict": "INCONCLUSIVE", "why": ends["why"], "before": avail[0],
                        "after": avail[-1], "judgement": ends, "skipped": skipped}
    if not ends["moved"]:
        return "done", {"verdict": "NO STEP", "why": "", "before": avail[0], "after": avail[-1],
                        "judgement": ends, "skipped": skipped}
    lo, hi = 0, len(avail) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        i = avail[mid]
        if i not in summaries:
            return "boot", i
        j = judge(base, summaries[i], min_effect, k)
        if j["verdict"] == "inconclusive":
            return "done", {"verdict": "INCONCLUSIVE", "why": j["why"], "before": avail[lo],
                            "after": i, "judgement": j, "skipped": skipped}
        if j["moved"]:
            hi = mid
        else:
            lo = mid
    last = judge(summaries[avail[lo]], summaries[avail[hi]], min_effect, k)
    return "done", {"verdict": "STEP", "why": "", "before": avail[lo], "after": avail[hi],
                    "judgement": last, "skipped": skipped}


def sweep_steps(order, summaries, min_effect=MIN_EFFECT, k=K):
    """Every pair of neighbouring builds with a figure, judged:
    [(before, after, judgement)]."""
    have = [i for i in order if usable(summaries, i)]
    return [(a, b, judge(summaries[a], summaries[b], min_effect, k))
            for a, b in zip(have, have[1:])]


def sweep_result(order, summaries, min_effect=MIN_EFFECT, k=K):
    """The sweep's answer in bisect_plan's form: the first step between
    neighbours (STEP), none (NO STEP), or INCONCLUSIVE when a pair before
    the first step could not be judged."""
    skipped = [i for i in order if i in summaries and not usable(summaries, i)]
    pairs = sweep_steps(order, summaries, min_effect, k)
    if not pairs:
        return {"verdict": "INCONCLUSIVE", "why": "fewer than two builds with a figure",
                "before": None, "after": None, "skipped": skipped, "steps": []}
    steps = [(a, b, j) for a, b, j in pairs if j["moved"]]
    for a, b, j in pairs:
        if j["verdict"] == "inconclusive":
            return {"verdict": "INCONCLUSIVE", "why": j["why"], "before": a, "after": b,
                    "judgement": j, "skipped": skipped, "steps": steps}
        if j["moved"]:
            return {"verdict": "STEP", "why": "", "before": a, "after": b, "judgement": j,
                    "skipped": skipped, "steps": steps}
    return {"verdict": "NO STEP", "why": "", "before": pairs[0][0], "after": pairs[-1][1],
            "judgement": judge(summaries[pairs[0][0]], summaries[pairs[-1][1]], min_effect, k),
            "skipped": skipped, "steps": []}


# --- the changelog ---------------------------------------------------------

ENTRY = re.compile(r"^(\S+) \(([^)]+)\) [^;]*;")


def changelog_entries(text, after, upto):
    """The entries of a Debian changelog with after < version <= upto:
    [(version, text)], newest first (the file's order)."""
    out, cur, body = [], None, []
    for line in text.splitlines():
        m = ENTRY.match(line)
        if m:
            if cur is not None:
                out.append((cur, "\n".join(body).rstrip() + "\n"))
            cur, body = m.group(2), [line]
        elif cur is not None:
            body.append(line)
    if cur is not None:
        out.append((cur, "\n".join(body).rstrip() + "\n"))
    return [(v, t) for v, t in out if vercmp(v, after) > 0 and vercmp(v, upto) <= 0]


def deb_changelog(deb, package):
    """The text of usr/share/doc/PACKAGE/changelog.gz in DEB (symlinks in
    the .deb followed), or raises ptcli.InputError."""
    try:
        raw = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True,
                             capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise ptcli.InputError(f"dpkg-deb --fsys-tarfile {deb}: {e}")
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = {m.name.lstrip("./"): m for m in tar.getmembers()}
        path = f"usr/share/doc/{package}"
        for _ in range(4):
            m = members.get(path)
            if m is not None and m.issym():
                path = os.path.normpath(os.path.join(os.path.dirname(path), m.linkname))
                continue
            break
        m = members.get(path + "/changelog.gz") or members.get(path + "/changelog.Debian.gz")
        if m is None:
            raise ptcli.InputError(f"{deb}: no /{path}/changelog.gz")
        return gzip.decompress(tar.extractfile(m).read()).decode("utf-8", "replace")


# --- reading a bisect folder -----------------------------------------------

def read_builds(d):
    path = os.path.join(d, "builds.tsv")
    try:
        with open(path, encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError as e:
        raise ptcli.InputError(f"cannot read {path}: {e.strerror}")
    need = {"index", "package", "version", "upstream", "status", "label", "runs"}
    if not rows or not need <= set(rows[0]):
        raise ptcli.InputError(f"{path}: not a bisect build list (wants columns {sorted(need)})")
    for r in rows:
        r["index"] = int(r["index"])
        r["runs"] = int(r["runs"] or 0)
    return rows


def read_info(d):
    info = kernels_report.read_kv(os.path.join(d, "bisect.info"))
    figs = [f for f in info.get("figures", "").split(",") if f]
    if not figs:
        raise ptcli.InputError(f"{d}/bisect.info names no figures=")
    info["figures"] = figs
    info["min_effect"] = float(info.get("min_effect") or MIN_EFFECT)
    info["k"] = float(info.get("k") or K)
    info["mode"] = info.get("mode") or "bisect"
    return info


def build_figures(d, row):
    """figure -> [value per boot] (floats, or error texts) of one build."""
    out = {}
    for n in range(1, row["runs"] + 1):
        path = os.path.join(d, "raw", row["label"], f"run{n}.log.bench.json")
        if not os.path.exists(path):
            continue
        try:
            figs = kernels_report.bench_figures(path)
        except ptcli.InputError:
            continue
        for name, v in figs.items():
            out.setdefault(name, []).append(v)
    return out


def summaries_of(d, rows, figure):
    """index -> summary (None: booted, no figure) of the booted builds."""
    out = {}
    for r in rows:
        if r["status"] == "gone" or r["status"] == "fetch-failed":
            continue
        if r["runs"] == 0:
            continue
        vals = build_figures(d, r).get(figure, [])
        s = summarize(vals)
        out[r["index"]] = s if s["median"] is not None else None
    return out


def candidates(rows):
    return [r["index"] for r in rows if r["status"] not in ("gone", "fetch-failed")]


def plan_all(d):
    """The next build to boot for any figure, or None."""
    rows, info = read_builds(d), read_info(d)
    order = candidates(rows)
    if info["mode"] == "sweep":
        return next((i for i in order if not any(r["index"] == i and r["runs"] for r in rows)), None)
    for fig in info["figures"]:
        what, val = bisect_plan(order, summaries_of(d, rows, fig), info["min_effect"], info["k"])
        if what == "boot":
            return val
    return None


def cmd_next(args):
    if len(args) != 1:
        raise UsageError("usage: kernels_bisect.py next DIR")
    i = plan_all(args[0])
    if i is not None:
        print(i)
    return 0


# --- the report ------------------------------------------------------------

def fmt_pct(x):
    return "-" if x is None else f"{100 * x:+.2f}%"


def name_of(rows, i):
    r = next(r for r in rows if r["index"] == i)
    return f"{r['package'][len('linux-image-'):]} ({r['version']}, {r['upstream']})"


def plot(d, fig, rows, summ, result):
    pdir = os.path.join(d, "plots")
    os.makedirs(pdir, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", fig).strip("_")
    dat = os.path.join(pdir, f"bisect-{slug}.dat")
    lines = ["# x label median min max step"]
    for x, r in enumerate(rows):
        s = summ.get(r["index"])
        lab = f"{r['package'][len('linux-image-'):].split('-')[1] if r['package'].count('-') > 2 else r['package']}"
        lab = f"-{lab} {r['upstream']}"
        if r["status"] == "gone":
            lab += " GONE"
        step = 1 if result.get("after") == r["index"] and result["verdict"] == "STEP" else 0
        if s and s["median"] is not None:
            lines.append(f'{x} "{lab}" {s["median"]:.6g} {min(s["values"]):.6g} '
                         f'{max(s["values"]):.6g} {step}')
        else:
            lines.append(f'{x} "{lab}" ? ? ? {step}')
    ptcli.write_atomic(dat, "\n".join(lines) + "\n")
    base = os.path.join(pdir, f"bisect-{slug}")
    err = bench_report.gnuplot("bisect.gp", base, {
        "dat": dat, "ttl": f"{fig} by build ({result['verdict']})",
        "ylab": "instructions (emulated)"})
    return (None, err) if err else (os.path.relpath(base + ".png", d), None)


def render(args):
    if len(args) != 1:
        raise UsageError("usage: kernels_bisect.py render DIR")
    d = args[0]
    rows, info = read_builds(d), read_info(d)
    order = candidates(rows)
    by = {r["index"]: r for r in rows}
    mk, kk = info["min_effect"], info["k"]
    planted = int(info["planted"]) if info.get("planted") else None
    out = {"info": {k: v for k, v in info.items()}, "builds": rows, "figures": {}}
    tsv = [["figure", "index", "package", "version", "upstream", "status", "append", "boots",
            "median", "spread", "change", "threshold", "verdict"]]
    md = [f"# Point-release bisection: {', '.join(info['figures'])}", ""]
    ctl = info.get("control")
    if ctl:
        md += [f"Positive control: every position boots **{rows[0]['package']} {rows[0]['version']}**; "
               f"from position {planted} on with `{ctl}` added to the kernel command line. "
               f"The bisection must name position {planted}.", ""]
    md += [f"Mode: {info['mode']} ({'every build booted' if info['mode'] == 'sweep' else 'the ends, then halves'}); "
           f"{info.get('runs', '?')} boot(s) per build, accel {info.get('accel', '?')}; a build moved when "
           f"its median differs from the other's by more than max({mk:.0%}, {kk:g} x the larger "
           "spread) (spread = (max - min) / median over the boots).", ""]
    md += ["## Builds", "", kernels_report.md_table(
        ["#", "package", "version", "upstream", "suite", "status", "boots", "append"],
        [[r["index"], r["package"], r["version"], r["upstream"], r.get("suite", ""),
          r["status"].upper() if r["status"] == "gone" else r["status"], r["runs"],
          r.get("append", "") or "-"] for r in rows]), ""]
    gone = [r for r in rows if r["status"] == "gone"]
    if gone:
        md += ["GONE (not in the archive, not in the cache): " +
               ", ".join(f"{r['package']}" + (f" {r['version']}" if r["version"] else "") for r in gone), ""]
    status, steps_seen, changelogs = 0, [], []
    for fig in info["figures"]:
        summ = summaries_of(d, rows, fig)
        if info["mode"] == "sweep":
            res = sweep_result(order, summ, mk, kk)
            bis = bisect_plan(order, summ, mk, kk)[1]
        else:
            what, res = bisect_plan(order, summ, mk, kk)
            if what == "boot":
                res = {"verdict": "INCONCLUSIVE", "why": f"unfinished: build {res} was never booted",
                       "before": None, "after": None, "skipped": []}
            bis = None
        prev = None
        for r in rows:
            s = summ.get(r["index"])
            change = thr = verdict = ""
            if s and prev is not None:
                j = judge(summ[prev], s, mk, kk)
                change, thr, verdict = fmt_pct(j["change"]), f"{j['threshold']:.2%}", j["verdict"]
            if s:
                prev = r["index"]
            if r["status"] == "gone":
                verdict = "GONE"
            elif r["index"] in summ and s is None:
                verdict = "no figure"
            tsv.append([fig, r["index"], r["package"], r["version"], r["upstream"], r["status"],
                        r.get("append", ""), r["runs"],
                        "" if not s else f"{s['median']:.6g}",
                        "" if not s or s["spread"] is None else f"{s['spread']:.4%}",
                        change, thr, verdict])
        md += [f"## {fig}", ""]
        line = f"**{res['verdict']}**"
        if res["verdict"] == "STEP":
            j = res["judgement"]
            line += (f": first moved in **{name_of(rows, res['after'])}**, after "
                     f"{name_of(rows, res['before'])}: {fmt_pct(j['change'])} "
                     f"(threshold {j['threshold']:.2%}).")
            steps_seen.append((res["before"], res["after"]))
        elif res["verdict"] == "NO STEP":
            j = res["judgement"]
            line += (f": {name_of(rows, res['before'])} to {name_of(rows, res['after'])} "
                     f"{fmt_pct(j['change'])}, within the threshold {j['threshold']:.2%}"
                     + (" (and every neighbouring pair within theirs)." if info["mode"] == "sweep" else "."))
        else:
            line += f": {res['why']}."
            status = max(status, 3)
        md.append(line)
        if res.get("skipped"):
            md.append("Booted without this figure (left out): " +
                      ", ".join(by[i]["package"] for i in res["skipped"]) + ".")
        if info["mode"] == "sweep" and len(res.get("steps", [])) > 1:
            md.append("Every step between neighbours: " + "; ".join(
                f"{by[b]['package'][len('linux-image-'):]} {fmt_pct(j['change'])}"
                for a, b, j in res["steps"]) + ".")
        if bis is not None:
            agree = (bis["verdict"] == res["verdict"] and bis.get("after") == res.get("after"))
            md.append(f"Bisection on the same figures: {bis['verdict']}"
                      + (f" at {by[bis['after']]['package']}" if bis.get("after") is not None
                         and bis["verdict"] == "STEP" else "")
                      + (" (agrees)." if agree else " (differs from the sweep: more than one step?)."))
        if ctl:
            found = res["verdict"] == "STEP" and res["after"] == planted
            md.append(f"Control: the planted step at position {planted} "
                      + ("**was found**." if found else "**was not found**."))
            if not found:
                status = max(status, 1) if status != 3 else 3
        made, err = plot(d, fig, rows, summ, res)
        md += ["", f"![{fig}]({made})" if made else f"(no plot: {err})", ""]
        out["figures"][fig] = {"result": res, "summaries": {str(k): v for k, v in summ.items()}}
    # The changelog of each step, once per pair of builds.
    for a, b in dict.fromkeys(steps_seen):
        ra, rb = by[a], by[b]
        if ctl:
            changelogs.append(f"== position {a} -> {b}: the same package; the change is the planted `{ctl}`\n")
            continue
        try:
            text = deb_changelog(rb["deb"], rb["package"])
            ents = changelog_entries(text, ra["version"], rb["version"])
            changelogs.append(f"== {ra['package']} {ra['version']} -> {rb['package']} {rb['version']}: "
                              f"{len(ents)} entr{'y' if len(ents) == 1 else 'ies'} of "
                              f"/usr/share/doc/{rb['package']}/changelog.gz\n\n"
                              + "\n".join(t for _, t in ents))
            md += [f"## Changelog {ra['package']} {ra['version']} -> {rb['package']} {rb['version']}", "",
                   f"{len(ents)} Debian changelog entr{'y' if len(ents) == 1 else 'ies'} "
                   f"({', '.join(v for v, _ in ents)}), in full in changelog.txt. Their headlines:", ""]
            for v, t in ents:
                heads = [l.strip() for l in t.splitlines()[1:] if l.startswith("  [") or
                         l.startswith("  * ")][:12]
                md += [f"- {v}:"] + [f"  - {h}" for h in heads]
            md.append("")
        except ptcli.InputError as e:
            changelogs.append(f"== {ra['package']} -> {rb['package']}: no changelog: {e}\n")
            md += [f"(no changelog for {rb['package']}: {e})", ""]
    ptcli.write_atomic(os.path.join(d, "bisect.tsv"), kernels_report.tsv(tsv[0], tsv[1:]))
    ptcli.write_atomic(os.path.join(d, "changelog.txt"), "\n".join(changelogs) or "no step: no changelog\n")
    ptcli.write_atomic(os.path.join(d, "kernels_bisect.json"), json.dumps(out, indent=1, default=str) + "\n")
    ptcli.write_atomic(os.path.join(d, "report.md"), "\n".join(md) + "\n")
    print(os.path.join(d, "report.md"))
    return status


def main(argv):
    cmds = {"next": cmd_next, "render": render}
    if not argv or argv[0] not in cmds:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        return cmds[argv[0]](argv[1:])
    except UsageError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except ptcli.InputError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
