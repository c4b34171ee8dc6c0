#!/usr/bin/python3
"""Compare two capture documents (torchprobe's JSON output or hooks_reference.py's).

Usage:
    /usr/bin/python3 tests/reference/compare_outputs.py A.json B.json [--atol 1e-5] [--absolute]

Stimuli are matched by "id", responses by key. For each pair: same key sets, same "not_called"
sets, and per response the same "shape", the same "index" and values within tolerance (max abs
diff; NaN equals NaN). Other fields (the tool, versions, timings) are ignored.

Tolerance: atol times max(1, largest magnitude of B's values in that response). For a layer whose
values stay within [-1, 1] that is atol absolute; deeper layers of random-weight networks reach
magnitudes of 10-50, and float32 sums computed in another order (TorchScript vs eager, another
CPU's SIMD width, another thread count) differ there by about 1e-6 of the magnitude, not of 1.
A wrong capture (skipped preprocessing, a missing clone, a wrong position) differs by O(magnitude).
--absolute uses plain atol.

Prints one line per mismatch, then "N responses compared, max abs diff X".
Exit codes: 0 all agree, 1 any mismatch, 2 unreadable input.
"""

import argparse
import json
import sys

import numpy as np


def flat_values(values):
    """Nested lists of numbers (a 'full' readout) or a flat list -> 1-D float64 array."""
    try:
        return np.asarray(values, dtype=np.float64).reshape(-1)
    except (ValueError, TypeError):
        return None  # ragged or not numbers


def compare_response(where, a, b, atol, absolute, problems):
    """Returns the max abs diff of the values, or None if they could not be compared."""
    for field in ("shape", "index"):
        if a.get(field) != b.get(field):
            problems.append(f"{where}: {field} differs: {a.get(field)} vs {b.get(field)}")
    va, vb = flat_values(a.get("values")), flat_values(b.get("values"))
    if va is None or vb is None:
        problems.append(f"{where}: values are not a (nested) list of numbers")
        return None
    if va.shape != vb.shape:
        problems.append(f"{where}: {va.size} values vs {vb.size}")
        return None
    if va.size == 0:
        return 0.0
    nan_a, nan_b = np.isnan(va), np.isnan(vb)
    if (nan_a != nan_b).any():
        problems.append(f"{where}: NaN at different positions")
    both = ~(nan_a | nan_b)
    with np.errstate(invalid="ignore"):
        diff = np.abs(va[both] - vb[both])
    diff[np.isnan(diff)] = 0.0  # inf - inf: equal infinities (opposite ones give inf)
    worst = float(diff.max()) if diff.size else 0.0
    finite = vb[both][np.isfinite(vb[both])]
    scale = 1.0 if absolute or finite.size == 0 else max(1.0, float(np.abs(finite).max()))
    tol = atol * scale
    if worst > tol:
        i = int(np.argmax(diff))
        problems.append(f"{where}: max abs diff {worst:g} > tolerance {tol:g} (atol {atol:g} x scale {scale:g}) "
                        f"(value {np.flatnonzero(both)[i]}: {va[both][i]!r} vs {vb[both][i]!r})")
    return worst


def compare(a, b, atol, absolute=False):
    """Returns (problems, responses compared, max abs diff)."""
    problems, count, worst = [], 0, 0.0
    for name, doc in (("A", a), ("B", b)):
        ids = [s["id"] for s in doc.get("stimuli", [])]
        for sid in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"stimulus '{sid}': {ids.count(sid)} times in {name}, compared once")
    sa = {s["id"]: s for s in a.get("stimuli", [])}
    sb = {s["id"]: s for s in b.get("stimuli", [])}
    for sid in sorted(set(sa) ^ set(sb)):
        problems.append(f"stimulus '{sid}': only in {'A' if sid in sa else 'B'}")
    for sid in [s for s in sa if s in sb]:
        ra, rb = sa[sid].get("responses", {}), sb[sid].get("responses", {})
        for key in sorted(set(ra) ^ set(rb)):
            problems.append(f"stimulus '{sid}' layer '{key}': only in {'A' if key in ra else 'B'}")
        na, nb = set(sa[sid].get("not_called", [])), set(sb[sid].get("not_called", []))
        if na != nb:
            problems.append(f"stimulus '{sid}': not_called differs: {sorted(na)} vs {sorted(nb)}")
        for key in [k for k in ra if k in rb]:
            d = compare_response(f"stimulus '{sid}' layer '{key}'", ra[key], rb[key], atol, absolute,
                                 problems)
            count += 1
            if d is not None:
                worst = max(worst, d)
    return problems, count, worst


def main(argv=None):
    p = argparse.ArgumentParser(description="Compare two capture JSON documents.")
    p.add_argument("a", metavar="A.json")
    p.add_argument("b", metavar="B.json")
    p.add_argument("--atol", type=float, default=1e-5, help="max abs difference (default 1e-5)")
    p.add_argument("--absolute", action="store_true",
                   help="plain absolute tolerance, not scaled by the response's magnitude")
    args = p.parse_args(argv)
    docs = []
    for path in (args.a, args.b):
        try:
            with open(path) as f:
                docs.append(json.load(f))
        except (OSError, ValueError) as e:
            print(f"error: cannot read '{path}': {e}", file=sys.stderr)
            return 2
    problems, count, worst = compare(docs[0], docs[1], args.atol, args.absolute)
    for line in problems:
        print(line)
    print(f"{count} responses compared, max abs diff {worst:g}"
          + (f", {len(problems)} mismatches" if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
