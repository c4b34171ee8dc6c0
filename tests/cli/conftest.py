"""Shared fixtures for the CLI tests: the real torchprobe binary, the generated test models, and
the independent PyTorch reference (tests/reference/hooks_reference.py).

Run through CTest (which sets the environment) or by hand:
    TORCHPROBE_BIN=build/src/torchprobe TEST_MODELS_DIR=build/test-models \
        /usr/bin/python3 -m pytest tests/cli
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("TORCHPROBE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = os.environ.get("TORCHPROBE_BIN", str(SOURCE_DIR / "build" / "src" / "torchprobe"))
MODELS = Path(os.environ.get("TEST_MODELS_DIR", SOURCE_DIR / "build" / "test-models"))
PYTHON = os.environ.get("TORCHPROBE_PYTHON", "/usr/bin/python3")
REFERENCE = SOURCE_DIR / "tests" / "reference" / "hooks_reference.py"
COMPARE = SOURCE_DIR / "tests" / "reference" / "compare_outputs.py"


def model(name):
    return str(MODELS / f"{name}.pt")


def torchprobe(*args, check=True, **kwargs):
    """Runs the binary; returns the CompletedProcess (text mode)."""
    result = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"torchprobe {' '.join(map(str, args))} exited {result.returncode}:\n"
                             f"{result.stderr}")
    return result


def reference(model_path, layers, stimuli, out, readout="center", preprocess="none", extra=(),
              channels_last=True):
    """The hooks reference's output. channels_last (default, as `torchprobe run`): its Conv2d
    weights in channels-last order, so both compute in the same layout; False for a torchprobe
    run with --no-channels-last."""
    args = [PYTHON, str(REFERENCE), model_path, *stimuli, "--readout", readout,
            "--preprocess", preprocess, "-o", str(out), *extra,
            *(["--channels-last"] if channels_last else [])]
    for layer in layers:
        args += ["--layer", layer]
    # One intra-op thread for the reference, so its sums have one order whatever the machine;
    # the remaining float32 noise against torchprobe is covered by compare()'s scaled tolerance.
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"reference failed:\n{result.stderr}"
    return json.loads(Path(out).read_text())


def compare(a, b, atol=1e-5, absolute=False):
    """Runs the independent comparer; returns (ok, report).

    Tolerance per response: atol x max(1, largest |value| of b's response), see compare_outputs.py;
    absolute=True uses plain atol."""
    result = subprocess.run([PYTHON, str(COMPARE), str(a), str(b), "--atol", str(atol),
                             *(["--absolute"] if absolute else [])],
                            capture_output=True, text=True)
    return result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def tmp(tmp_path):
    return tmp_path
