#!/usr/bin/python3
"""Benchmark (not a test): throughput and peak memory of a streaming run as the stimulus count grows.

Generates N JPEG images of 256x256 (smooth random pictures, seeded), exports googlenet with random
weights (scripts/export_model.py), then probes `inception3a` for 200 and for 2000 images with
JSON Lines output and prints images/s and the peak RSS of each run (from wait4's rusage of the
torchprobe process itself). A streaming run's peak RSS must not grow with N: the script checks
that the largest run's peak is within 10% of the smallest one's and exits 1 otherwise.

    /usr/bin/python3 scripts/bench/batch_memory.py [--bin build/src/torchprobe] [--counts 200 2000]
        [--workers W] [--threads T] [--with-json] [--keep DIR]

--with-json adds the same runs with one JSON document as output, which holds every record in
memory until the end (for comparison).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2]


def make_images(directory, count, size, seed=0):
    import cv2
    import numpy as np
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = directory / f"img{i:05d}.jpg"
        if not path.exists():
            small = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
            image = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
            noise = rng.integers(-12, 13, image.shape)
            image = np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
            cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(str(path))
    return paths


def run(binary, args):
    """Runs torchprobe; returns (seconds, peak RSS in MiB, stderr)."""
    start = time.monotonic()
    process = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"torchprobe {' '.join(args[:4])} ... failed ({process.returncode}):\n{stderr}")
    return seconds, usage.ru_maxrss / 1024.0, stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=str(SOURCE / "build" / "src" / "torchprobe"))
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--layer", default="inception3a")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--with-json", action="store_true")
    parser.add_argument("--keep", help="work directory to keep (images and model are reused)")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="torchprobe-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    model = work / "googlenet.pt"
    if not model.exists():
        subprocess.run([sys.executable, str(SOURCE / "scripts" / "export_model.py"), "googlenet",
                        "-o", str(model), "--weights", "random", "--seed", "0"], check=True,
                       stdout=subprocess.DEVNULL)
    images = make_images(work / "images", max(args.counts), args.size)

    extra = ["--batch-size", str(args.batch_size), "--quiet"]
    if args.workers is not None:
        extra += ["--workers", str(args.workers)]
    if args.threads is not None:
        extra += ["--threads", str(args.threads)]
    formats = ["jsonl"] + (["json"] if args.with_json else [])
    rows = []
    for fmt in formats:
        for count in args.counts:
            out = work / f"out-{count}.{fmt}"
            if out.exists():
                out.unlink()
            seconds, rss, stderr = run(args.bin, ["run", str(model), "--layer", args.layer,
                                                  *images[:count], "-o", str(out), *extra])
            match = re.search(r"([0-9.]+) images/s", stderr)
            rate = float(match.group(1)) if match else count / seconds
            rows.append((fmt, count, seconds, rate, rss, out.stat().st_size / 2**20))
            out.unlink()

    print(f"googlenet (random weights) at {args.layer}, {args.size}x{args.size} JPEGs, "
          f"batch size {args.batch_size}, {os.cpu_count()} CPUs, "
          f"workers {args.workers if args.workers is not None else 'default'}, "
          f"threads {args.threads if args.threads is not None else 'default'}")
    print(f"{'output':<7} {'images':>7} {'wall s':>8} {'images/s':>9} {'peak RSS MiB':>13} "
          f"{'output MiB':>11}")
    for fmt, count, seconds, rate, rss, size in rows:
        print(f"{fmt:<7} {count:>7} {seconds:>8.1f} {rate:>9.1f} {rss:>13.1f} {size:>11.1f}")
    streaming = [row for row in rows if row[0] == "jsonl"]
    small, large = streaming[0], streaming[-1]
    growth = (large[4] - small[4]) / small[4]
    print(f"peak RSS of {large[1]} vs {small[1]} images (jsonl): {growth:+.1%} "
          f"({'within' if abs(growth) <= 0.10 else 'NOT within'} 10%)")
    if not args.keep:
        import shutil
        shutil.rmtree(work)
    return 0 if abs(growth) <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
