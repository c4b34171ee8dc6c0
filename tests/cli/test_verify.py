"""`torchprobe verify` on every test model: the truncated program's captures must be bitwise
identical to the untruncated program's and to a re-run's.
"""
import json

import pytest

from conftest import model, torchprobe

GOOGLENET = ["conv1.conv", "conv1", "inception3a", "inception4c.branch2.1", "fc", "fc:in"]
DENSENET = ["features.norm0", "features.denseblock1.denselayer1.conv1", "features.transition2",
            "classifier"]
RESNET = ["layer1.0.relu", "layer1.0.bn2", "layer3.0.downsample.1", "avgpool", "fc"]
HANDWRITTEN = {
    "untaken_branch": ["body", "never", "head"],
    "loop_module_list": ["stem", "blocks.0", "blocks.2.bn", "shared", "shared#1:in"],
    "tuple_output": ["stem", "split", "split.a", "head"],
    "functional_inplace": ["conv1", "bn1", "conv2", "relu", "relu:in"],
    "tiny_gray": ["conv1", "relu", "conv2"],
}

CASES = [(f"{arch}_{kind}", layers, ["noise:1", "uniform:0.5@64x80"])
         for arch, layers in [("googlenet", GOOGLENET), ("densenet121", DENSENET),
                              ("resnet18", RESNET)]
         for kind in ["script", "trace"]]
CASES += [("resnet18_train_script", RESNET, ["noise:1"])]
CASES += [(f"{name}_{kind}", layers, ["noise:1", "uniform:0.5@24x40"])
          for name, layers in HANDWRITTEN.items() for kind in ["script", "trace"]]


def verify(model_name, layers, stimuli, *extra):
    args = ["verify", model(model_name), *stimuli, "--preprocess", "none", *extra]
    for layer in layers:
        args += ["--layer", layer]
    return torchprobe(*args, check=False)


@pytest.mark.parametrize("model_name,layers,stimuli", CASES, ids=[c[0] for c in CASES])
def test_every_test_model_verifies(model_name, layers, stimuli):
    result = verify(model_name, layers, stimuli, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["result"] == "identical"
    assert report["stimuli"] == stimuli
    assert report["captures"], report
    for capture in report["captures"]:
        assert capture["passed"] and capture["stimuli"] == len(stimuli), capture
    if model_name.startswith("untaken_branch"):
        assert report["not_called"] == ["never"]
    # truncation removed work for the first layers (not for fc, which needs everything)
    assert report["convolutions"]["truncated"] <= report["convolutions"]["full"]


def test_training_mode_verifies_too():
    result = verify("resnet18_train_script", RESNET[:2], ["noise:1"], "--mode", "as-saved")
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_lists_each_capture(tmp):
    result = verify("loop_module_list_script", HANDWRITTEN["loop_module_list"], ["noise:4"])
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("model: ") and lines[1] == "stimuli: noise:4"
    for name in ["stem", "blocks.0", "blocks.2.bn", "shared#0", "shared#1", "shared#1:in"]:
        [row] = [line for line in lines if line.split()[:1] == [name]]
        assert row.split()[1:] == ["[8,32,32]", "identical", "identical"], row
    assert lines[-1] == "result: identical: every capture is bitwise equal in all three programs"


def test_model_warnings_are_collected_once():
    result = verify("googlenet_script", ["conv1"], ["noise:1", "noise:2"])
    assert result.returncode == 0
    assert result.stderr.count("warning: the model's forward warned: Scripted GoogleNet") == 1
    assert "W20" not in result.stderr  # nothing printed by LibTorch's own logging


def test_errors_are_those_of_run():
    result = verify("resnet18_script", ["layer9"], ["noise:1"])
    assert result.returncode == 20 and "unknown layer 'layer9'" in result.stderr
    result = verify("resnet18_script", ["fc"], ["noise:x"])
    assert result.returncode == 30
