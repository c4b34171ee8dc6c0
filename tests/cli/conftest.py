"""Shared fixtures for the CLI tests: the real torchprobe binary, the generated test models, and
the independent PyTorch reference (tests/reference/hooks_reference.py).

Run through CTest (which sets the environment) or by hand:
    TORCHPROBE_BIN=build/src/torchprobe TEST_MODELS_DIR=build/test-models \
        /usr/bin/python3 -m pytest tests/cli

$TORCHPROBE_TEST_MODELS_DIR, when set, overrides TEST_MODELS_DIR (scripts/test-isa.sh), and
$TORCHPROBE_REFERENCE_CACHE overrides REFERENCE_CACHE_DIR (see reference()).
"""
import functools
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("TORCHPROBE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = os.environ.get("TORCHPROBE_BIN", str(SOURCE_DIR / "build" / "src" / "torchprobe"))
# The tests' simulated kill -9 (tests/support/kill_after_bytes.cpp), preloaded by test_jsonl_resume.
KILL_SHIM = os.environ.get("TORCHPROBE_KILL_SHIM",
                           str(SOURCE_DIR / "build" / "tests" / "libtorchprobe_kill_after_bytes.so"))
MODELS = Path(os.environ.get("TORCHPROBE_TEST_MODELS_DIR")
              or os.environ.get("TEST_MODELS_DIR", SOURCE_DIR / "build" / "test-models"))
REFERENCE_CACHE = os.environ.get("TORCHPROBE_REFERENCE_CACHE") or os.environ.get("REFERENCE_CACHE_DIR")
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
    cached = cache_path(model_path, args[3:], env)
    if cached and cached.exists():
        doc = json.loads(cached.read_text())
        doc["model"] = model_path  # the one field that names the file rather than its content
        Path(out).write_text(json.dumps(doc))
        return doc
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"reference failed:\n{result.stderr}"
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(Path(out).read_bytes())
        os.replace(partial, cached)  # atomic: tests running in parallel never read half a file
    return json.loads(Path(out).read_text())


# What a reference output depends on besides its arguments: the reference's code, the PyTorch
# that runs it, and what selects its kernels (instruction set, thread counts).
REFERENCE_SOURCES = [REFERENCE, SOURCE_DIR / "scripts" / "testmodels.py",
                     SOURCE_DIR / "scripts" / "export_model.py"]
KERNEL_ENVIRONMENT = ["ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA",
                      "OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]


def file_digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cache_path(model_path, args, env):
    """Where the reference's output is cached, or None when there is no cache directory or the
    call writes more than its output.

    The key is the sha256 of everything the output depends on: the model file's content (not
    its path: the Release and sanitizer builds share results), the other arguments as given
    (stimulus ids are taken from them; the value after -o is left out), the content of every
    argument that names a file (image stimuli), the reference's sources, the versions of torch
    and torchvision and the kernel-selecting environment."""
    if not REFERENCE_CACHE or "--dump-input" in map(str, args):  # a side effect to replay
        return None
    key = hashlib.sha256(file_digest(model_path).encode())
    skip_next = False
    for arg in map(str, args):
        if skip_next or arg == "-o":
            skip_next = arg == "-o"
            continue
        key.update(b"\0" + arg.encode())
        if os.path.isfile(arg):
            key.update(file_digest(arg).encode())
    for source in REFERENCE_SOURCES:
        key.update(file_digest(source).encode())
    key.update(torch_versions().encode())
    for name in KERNEL_ENVIRONMENT:
        key.update(f"\0{name}={env.get(name, '')}".encode())
    return Path(REFERENCE_CACHE) / f"{key.hexdigest()}.json"


@functools.lru_cache(maxsize=None)
def torch_versions():
    """The versions of the reference's torch and torchvision (which rebuilds the eager models),
    from their package metadata: no import, so fast."""
    return subprocess.run(
        [PYTHON, "-c", "import importlib.metadata as m; "
                       "print(m.version('torch'), m.version('torchvision'))"],
        capture_output=True, text=True, check=True).stdout.strip()


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
