"""Which preprocessing `run` applies: the model's metadata by default or with --preprocess model,
none (with a one-line warning) for a model without metadata, and --fit on synthetic stimuli."""
import json
import subprocess

import numpy as np
import pytest

from conftest import PYTHON, SOURCE_DIR, compare, model, reference, torchprobe
from stimuli_helpers import dump_inputs, max_abs_diff
from stimuli_helpers import reference as numpy_reference

WARNING = ("has no torchprobe metadata: no normalisation is applied "
           "(give --preprocess imagenet or --preprocess none to silence this)")

# Re-saves a model without its extra files, and returns [metadata it had, extra files it has now].
STRIP_METADATA = r"""
import json, sys, torch
before = {"torchprobe.json": ""}
m = torch.jit.load(sys.argv[1], _extra_files=before)
torch.jit.save(m, sys.argv[2])
after = {"torchprobe.json": ""}
torch.jit.load(sys.argv[2], _extra_files=after)
print(json.dumps([json.loads(before["torchprobe.json"]), after["torchprobe.json"].decode()
                  if isinstance(after["torchprobe.json"], bytes) else after["torchprobe.json"]]))
"""

IMAGENET = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import hooks_reference as ref
print(json.dumps({"mean": ref.IMAGENET_MEAN, "std": ref.IMAGENET_STD}))
"""


def python(code, *args):
    return json.loads(subprocess.run([PYTHON, "-c", code, *map(str, args)], capture_output=True,
                                     text=True, check=True).stdout)


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """loop_shared_script.pt re-saved by torch.jit.save without torchprobe.json, and the
    metadata the original had."""
    path = tmp_path_factory.mktemp("bare") / "loop_shared_no_metadata.pt"
    meta, left = python(STRIP_METADATA, model("loop_shared_script"), path)
    assert left == "" and meta["mean"]
    return str(path), meta


def test_model_without_metadata_warns_once_and_applies_no_normalisation(tmp, bare):
    path, meta = bare
    out = tmp / "ours.json"
    result = torchprobe("run", path, "--layer", "shared", "--layer", "head", "noise:1@224x224",
                        "uniform:0.5", "-o", out)
    warnings = [line for line in result.stderr.splitlines() if WARNING in line]
    assert warnings == [f"warning: model '{path}' {WARNING}"], result.stderr
    doc = json.loads(out.read_text())
    pre = doc["preprocess"]
    assert (pre["name"], pre["mean"], pre["std"]) == ("none", [], [])
    # No metadata, no input size: 224x224, stretched.
    assert (pre["size"], pre["fit"], pre["channels"]) == ([224, 224], "stretch", 3)
    assert doc["stimuli"][1]["input_shape"] == [1, 3, 224, 224]
    # The numbers of the original file (same weights) without normalisation; the reference
    # reads the original's 32x32 input size, so it is given 224x224 explicitly.
    ref = reference(model("loop_shared_script"), ["shared", "head"],
                    ["noise:1@224x224", "uniform:0.5@224x224"], tmp / "ref.json")
    ref["stimuli"][1]["id"] = "uniform:0.5"
    (tmp / "ref.json").write_text(json.dumps(ref))
    ok, report = compare(out, tmp / "ref.json")
    assert ok, report


@pytest.mark.parametrize("choice", ["none", "imagenet"])
def test_explicit_preprocess_silences_the_missing_metadata_warning(bare, choice):
    result = torchprobe("run", bare[0], "--layer", "head", "noise:1", "--preprocess", choice)
    assert WARNING not in result.stderr
    assert json.loads(result.stdout)["preprocess"]["name"] == choice


def test_preprocess_model_without_metadata_is_an_error(bare):
    result = torchprobe("run", bare[0], "--layer", "head", "noise:1", "--preprocess", "model",
                        check=False)
    assert result.returncode == 2, result.stderr
    assert f"--preprocess model: model '{bare[0]}' has no mean/std in its metadata" in result.stderr
    assert "hint: use --preprocess imagenet or none" in result.stderr


def test_explicit_preprocess_model_is_the_default_and_matches_hooks(tmp, bare):
    _, meta = bare
    imagenet = python(IMAGENET, SOURCE_DIR / "tests" / "reference")
    assert (meta["mean"], meta["std"]) == (imagenet["mean"], imagenet["std"])
    stimuli = ["noise:1@40x48", "uniform:0.5"]
    layer_args = ["--layer", "shared", "--layer", "head"]
    explicit = json.loads(torchprobe("run", model("loop_shared_script"), *layer_args, *stimuli,
                                     "--preprocess", "model").stdout)
    default = json.loads(torchprobe("run", model("loop_shared_script"), *layer_args,
                                    *stimuli).stdout)
    assert explicit["preprocess"] == default["preprocess"]
    assert explicit["preprocess"]["name"] == "model"
    assert explicit["stimuli"] == default["stimuli"]
    (tmp / "ours.json").write_text(json.dumps(explicit))
    reference(model("loop_shared_script"), ["shared", "head"], stimuli, tmp / "ref.json",
              preprocess="imagenet")
    ok, report = compare(tmp / "ours.json", tmp / "ref.json")
    assert ok, report


def test_fit_crop_leaves_synthetic_stimuli_as_made_at_the_target_size(tmp):
    # Synthetic stimuli are drawn at the target size (their @HxW, else --size): nothing to crop.
    stimuli = ["noise:1@40x48", "grating:ori=30,sf=3@20x20", "noise:2"]
    crop, doc = dump_inputs(tmp / "crop", "functional_inplace_script", stimuli, "--fit", "crop",
                            "--size", "24x28", "--preprocess", "none")
    stretch, _ = dump_inputs(tmp / "stretch", "functional_inplace_script", stimuli, "--fit",
                             "stretch", "--size", "24x28", "--preprocess", "none")
    assert doc["preprocess"]["fit"] == "crop"
    for spec, record in zip(stimuli, doc["stimuli"]):
        ours = crop[record["id"]]
        ref = numpy_reference.model_input(spec, (24, 28), 3)
        assert max_abs_diff(ours, ref) <= 1e-6, record["id"]
        assert np.array_equal(ours, stretch[record["id"]])
        assert record["input_shape"] == list(ref.shape)
