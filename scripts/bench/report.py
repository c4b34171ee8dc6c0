#!/usr/bin/python3
"""The benchmark's table and targets (scripts/bench/run.sh), and its correctness check.

    /usr/bin/python3 scripts/bench/report.py table RUNS.tsv --images N [--repeats R]
        [--machine TEXT] [--features TEXT] [--check TEXT] [--crop-info OUT.json]
        [--markdown results.md]
    /usr/bin/python3 scripts/bench/report.py compare A.json B.json --layer conv1 [--tolerance 1e-4]

RUNS.tsv (written by run.sh), one row per process run: repeat, workload, tool, images,
milliseconds (process start to JSON written), rss_kb (/usr/bin/time %M), rate (compute-only rows:
images/s of torchprobe_compute_bench, tool compute-crop or compute-nocrop, whose milliseconds are
the time to build the program and plan the crop).

Every figure is a median over the repeats. Per tool and workload:
    whole process  N / T_N
    steady state   (N - 1) / (T_N - T_1), T_1 being the same run on one image (startup: loading,
                   building the program or the FX graph, first-batch warm-up)
Ratios are torchprobe's images/s over the peer's. With --startup-from W (run.sh --quick), T_1 of
workload W stands for every workload's. `compare` exits 1 when the two outputs differ
by more than the tolerance anywhere (matched by stimulus id).
"""
import argparse
import csv
import json
import statistics
import sys
from collections import defaultdict

LAYERS = {"conv1": "conv1", "inception3a": "inception3a", "inception4e": "inception4e",
          "three": "conv1+inception3a+inception4e", "fc": "fc"}
PEERS = ("hooks", "fx")


def compare(a):
    docs = [json.load(open(path)) for path in (a.first, a.second)]
    by_id = [{s["id"]: s for s in d["stimuli"]} for d in docs]
    common = sorted(set(by_id[0]) & set(by_id[1]))
    if not common or len(common) != len(by_id[0]):
        print(f"correctness: FAILED, the outputs hold different stimuli ({len(by_id[0])} vs "
              f"{len(by_id[1])}, {len(common)} in common)")
        return 1
    worst, count = 0.0, 0
    for sid in common:
        x = by_id[0][sid]["responses"][a.layer]["values"]
        y = by_id[1][sid]["responses"][a.layer]["values"]
        if len(x) != len(y):
            print(f"correctness: FAILED, '{sid}' has {len(x)} vs {len(y)} values")
            return 1
        worst = max([worst] + [abs(p - q) for p, q in zip(x, y)])
        count += len(x)
    ok = worst <= a.tolerance
    print(f"correctness: {a.layer} centre values of {len(common)} images ({count} numbers), "
          f"torchprobe vs hooks peer: max |difference| {worst:.3g} "
          f"({'<=' if ok else '>'} {a.tolerance:g}: {'ok' if ok else 'FAILED'})")
    return 0 if ok else 1


def load_runs(path):
    times = defaultdict(list)   # (workload, tool, images) -> [ms]
    rss = defaultdict(list)     # (workload, tool) -> [kB] of the N-image runs
    rates = defaultdict(list)   # (workload, compute-crop|compute-nocrop) -> [img/s]
    with open(path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["tool"].startswith("compute-"):
                rates[row["workload"], row["tool"]].append(float(row["rate"]))
                times[row["workload"], row["tool"], 0].append(float(row["milliseconds"]))
                continue
            times[row["workload"], row["tool"], int(row["images"])].append(float(row["milliseconds"]))
            if int(row["images"]) > 1:
                rss[row["workload"], row["tool"]].append(float(row["rss_kb"]))
    return times, rss, rates


def median(values):
    return statistics.median(values) if values else None


def fmt(value, digits=1, suffix=""):
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def crop_note(path):
    """What torchprobe's output header says about cropping, if anything."""
    if not path:
        return None
    try:
        doc = json.load(open(path))
    except (OSError, ValueError):
        return None
    found = {k: v for k, v in doc.items() if "crop" in k.lower()}
    return json.dumps(found) if found else "no crop field in torchprobe's output header"


def table(a):
    times, rss, rates = load_runs(a.runs)
    n = a.images
    tools = [t for t in ("torchprobe", "torchprobe-nocrop", "hooks", "fx")
             if any(k[1] == t for k in times)]
    has_nocrop = "torchprobe-nocrop" in tools

    def speeds(workload, tool):
        tn = median(times[workload, tool, n])
        t1 = median(times[a.startup_from or workload, tool, 1])
        whole = n / (tn / 1000) if tn else None
        steady = (n - 1) / ((tn - t1) / 1000) if tn and t1 and tn > t1 else None
        return whole, steady, tn, t1

    def ratio(x, y):
        return x / y if x and y else None

    lines = []
    out = lines.append
    out(f"googlenet (random weights), {n} JPEGs 256x256 -> 224x224, centre readout, "
        f"batch size 16, 2 threads; medians of {a.repeats} run(s)")
    if a.machine:
        out(f"machine: {a.machine}")
    if a.features:
        out(f"torchprobe options found: {a.features}")
    out("")
    head = ["workload", "torchprobe img/s"]
    if has_nocrop:
        head.append("tp --no-crop img/s")
    head += ["hooks img/s", "FX img/s", "tp/hooks", "tp/FX", "compute-only img/s (crop / no crop)",
             "peak RSS MiB (tp / hooks / FX)"]
    out("| " + " | ".join(head) + " |")
    out("|" + "|".join("---" for _ in head) + "|")
    results = {}
    for w, label in LAYERS.items():
        if not any(k[0] == w for k in times):
            continue
        s = {t: speeds(w, t) for t in tools}
        results[w] = s
        cells = [label]
        for t in tools:
            whole, steady = s[t][0], s[t][1]
            cells.append(f"{fmt(whole)} (steady {fmt(steady)})")
        for peer in PEERS:
            cells.append(f"{fmt(ratio(s['torchprobe'][0], s[peer][0]), 2, 'x')} "
                         f"(steady {fmt(ratio(s['torchprobe'][1], s[peer][1]), 2, 'x')})")
        crop, nocrop = median(rates[w, "compute-crop"]), median(rates[w, "compute-nocrop"])
        plan = median(times[w, "compute-crop", 0])
        cells.append(f"{fmt(crop)} / {fmt(nocrop)}" +
                     (f" (plan {plan / 1000:.1f} s)" if plan is not None else ""))
        mib = [median(rss[w, t]) for t in ("torchprobe", "hooks", "fx")]
        cells.append(" / ".join(fmt(m / 1024 if m else None, 0) for m in mib))
        out("| " + " | ".join(cells) + " |")
    one = {t: median(times["inception3a", t, 1]) for t in tools}
    cells = ["1 stimulus end to end, inception3a (s)"]
    cells += [fmt(one[t] / 1000 if one[t] else None, 2, " s") for t in tools]
    cells += [f"{fmt(ratio(one['torchprobe'], one[p]), 2, 'x')} time" for p in PEERS]
    cells += ["", ""]
    out("| " + " | ".join(cells) + " |")
    out("")
    out("img/s: whole process (N / wall time from process start to JSON written); steady: "
        "(N - 1) / (T_N - T_1), startup removed. Ratios: torchprobe over peer. Compute-only: "
        "torchprobe_compute_bench on preloaded [16,3,224,224] tensors; plan: time to build the "
        "program and plan the crop (plan_crop), not in the compute-only rate.")
    if a.startup_from:
        out(f"startup T_1 of every workload: that of {a.startup_from} (quick mode)")
    note = crop_note(a.crop_info)
    if note:
        out(f"torchprobe cropping (inception3a run header): {note}")
    if a.check:
        out(a.check)

    # Targets, on whole-process figures.
    def get(w, tool, i=0):
        return results.get(w, {}).get(tool, (None,) * 4)[i]

    targets = []

    def target(name, value, threshold, at_least=True, unit="x"):
        met = value is not None and (value >= threshold if at_least else value <= threshold)
        targets.append((name, value, threshold, at_least, unit, met))

    target("conv1: torchprobe / hooks", ratio(get("conv1", "torchprobe"), get("conv1", "hooks")), 10)
    target("conv1: torchprobe / FX", ratio(get("conv1", "torchprobe"), get("conv1", "fx")), 3)
    target("inception3a: torchprobe / FX",
           ratio(get("inception3a", "torchprobe"), get("inception3a", "fx")), 5)
    target("three layers: torchprobe / FX", ratio(get("three", "torchprobe"), get("three", "fx")), 2)
    target("fc: torchprobe / hooks", ratio(get("fc", "torchprobe"), get("fc", "hooks")), 1.1)
    compute = median(rates["inception3a", "compute-crop"])
    target("inception3a: end-to-end / compute-only", ratio(get("inception3a", "torchprobe"), compute),
           0.8, unit="")
    target("1 stimulus end to end: torchprobe time / hooks time",
           ratio(one.get("torchprobe"), one.get("hooks")), 0.25, at_least=False)
    out("")
    out("| target | measured | required | |")
    out("|---|---|---|---|")
    for name, value, threshold, at_least, unit, met in targets:
        out(f"| {name} | {fmt(value, 2, unit)} | {'>=' if at_least else '<='} {threshold:g}{unit} | "
            f"{'met' if met else 'MISSED'} |")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("# torchprobe benchmark (scripts/bench/run.sh)\n\n" + text)
        print(f"\nwritten: {a.markdown}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("table")
    t.add_argument("runs")
    t.add_argument("--images", type=int, required=True)
    t.add_argument("--repeats", type=int, default=1)
    t.add_argument("--startup-from", metavar="WORKLOAD",
                   help="the 1-image runs of this workload stand for every workload's startup")
    t.add_argument("--machine")
    t.add_argument("--features")
    t.add_argument("--check")
    t.add_argument("--crop-info")
    t.add_argument("--markdown")
    c = sub.add_parser("compare")
    c.add_argument("first")
    c.add_argument("second")
    c.add_argument("--layer", required=True)
    c.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args()
    return table(a) if a.command == "table" else compare(a)


if __name__ == "__main__":
    sys.exit(main())
