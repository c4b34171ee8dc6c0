"""The header of `torchprobe run`'s JSON document: tool versions, model, mode, readout, truncation,
preprocessing. Expected values come from the model file itself (hashlib, its torchprobe.json read
by /usr/bin/python3's torch), CMakeLists.txt and Python's torch, never typed in by hand."""
import hashlib
import json
import re
import subprocess

import pytest

from conftest import PYTHON, SOURCE_DIR, model, torchprobe

READ_METADATA = r"""
import json, sys, torch
extra = {"torchprobe.json": ""}
torch.jit.load(sys.argv[1], _extra_files=extra)
print(extra["torchprobe.json"].decode() if isinstance(extra["torchprobe.json"], bytes) else extra["torchprobe.json"])
"""

IMAGENET = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import hooks_reference as ref
print(json.dumps([ref.IMAGENET_MEAN, ref.IMAGENET_STD]))
"""


def run_header(*args):
    doc = json.loads(torchprobe("run", *args).stdout)
    doc.pop("stimuli")
    return doc


def python(code, *args):
    return subprocess.run([PYTHON, "-c", code, *map(str, args)], capture_output=True, text=True,
                          check=True).stdout


def test_header_names_torchprobe_and_libtorch_versions():
    header = run_header(model("tiny_gray_script"), "--layer", "conv1", "noise:1")["torchprobe"]
    project = re.search(r"project\(torchprobe VERSION ([0-9.]+)",
                        (SOURCE_DIR / "CMakeLists.txt").read_text()).group(1)
    assert header["version"] == project
    torch_version = python("import torch; print(torch.__version__)").strip()
    # Debian's Python torch is the same release as its LibTorch, with a pre-release suffix (a0).
    assert header["libtorch"] == re.match(r"\d+\.\d+\.\d+", torch_version).group(0)
    assert torchprobe("--version").stdout.strip() == \
        f"torchprobe {header['version']} (LibTorch {header['libtorch']})"


@pytest.mark.parametrize("kind", ["script", "trace"])
def test_header_identifies_the_model_file_and_how_it_was_exported(kind):
    path = model(f"loop_shared_{kind}")
    header = run_header(path, "--layer", "head", "noise:1")["model"]
    with open(path, "rb") as f:
        assert header["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert header["path"] == path
    assert header["kind"] == kind
    assert json.loads(python(READ_METADATA, path))["export_mode"] == kind
    assert (header["mode"], header["training"]) == ("eval", False)


def test_header_says_whether_the_program_was_truncated():
    args = [model("loop_shared_script"), "--layer", "stem", "noise:1"]
    assert run_header(*args)["truncated"] is True
    assert run_header(*args, "--no-truncate")["truncated"] is False


@pytest.mark.parametrize("readout", ["center", "mean", "max", "full", "at:3,5"])
def test_header_records_the_readout(readout):
    header = run_header(model("tiny_gray_script"), "--layer", "conv1", "noise:1",
                        "--readout", readout)
    assert header["readout"] == readout


def test_header_records_the_model_preprocessing_by_default():
    path = model("loop_shared_trace")
    meta = json.loads(python(READ_METADATA, path))
    pre = run_header(path, "--layer", "head", "noise:1")["preprocess"]
    assert pre["name"] == "model"
    assert (pre["mean"], pre["std"]) == (meta["mean"], meta["std"])
    assert pre["size"] == meta["input_size"][1:] and pre["channels"] == meta["input_size"][0]
    assert pre["fit"] == meta["resize"]["fit"] and pre["crop_pct"] == meta["resize"]["crop_pct"]
    assert pre["interpolation"] == meta["resize"]["interpolation"]


def test_header_records_the_preprocessing_asked_for():
    path = model("loop_shared_trace")
    pre = run_header(path, "--layer", "head", "noise:1", "--preprocess", "none",
                     "--fit", "stretch", "--size", "40x48")["preprocess"]
    assert (pre["name"], pre["mean"], pre["std"]) == ("none", [], [])
    assert (pre["fit"], pre["size"]) == ("stretch", [40, 48]) and "crop_pct" not in pre
    pre = run_header(path, "--layer", "head", "noise:1", "--preprocess", "imagenet")["preprocess"]
    assert pre["name"] == "imagenet"
    reference = json.loads(python(IMAGENET, SOURCE_DIR / "tests" / "reference"))
    assert [pre["mean"], pre["std"]] == reference
