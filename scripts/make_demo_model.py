#!/usr/bin/python3
"""Generate models/demo.pt, the small model used by the README, the demo and quick tests.

Usage:
    /usr/bin/python3 scripts/make_demo_model.py [-o models/demo.pt] [--seed 0]

The model is testmodels.DemoNet (see models/README.md for its layers and traps): scripted, eval
mode, seeded random weights with calibrated BatchNorm, metadata architecture 'torchprobe-demo'.
Same arguments give byte-identical files.
"""

import os
import sys

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    # NOTE: see export_model.py: TorchScript's saved code depends on string hashing.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse
import hashlib

import export_model as em
import testmodels as tm

ARCHITECTURE = "torchprobe-demo"
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "demo.pt")


def main(argv=None):
    p = argparse.ArgumentParser(description="Generate the demo model models/demo.pt.")
    p.add_argument("-o", "--output", default=os.path.normpath(DEFAULT_OUT), metavar="OUT.pt")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)

    model = tm.build_demo(a.seed)
    module = em.to_torchscript(model, "script", tm.DemoNet.input_chw)
    meta = em.make_metadata(ARCHITECTURE, "random", a.seed, "script", False, tm.DemoNet.input_chw)
    data = em.torchscript_bytes(module, meta)
    em.write_atomic(a.output, data)
    print(f"wrote {a.output}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
