"""Receptive-field cropping: on by default for point readouts, exact against --no-crop."""
import json

import numpy as np
import pytest

from conftest import model, torchprobe

CASES = [
    ("googlenet_script", ["conv1", "conv1.bn", "inception3a"], "center", "224x224"),
    ("googlenet_trace", ["conv2", "inception3a.branch2.1"], "center", "224x244"),
    ("resnet18_script", ["layer1.0.relu", "layer2.0.bn1"], "at:2,30", "224x244"),
    ("resnet18_trace", ["layer1.0.conv1"], "at:55,0", "224x224"),
    ("densenet121_script", ["features.denseblock1.denselayer1.conv1", "features.norm0"], "center", "224x224"),
    ("densenet121_trace", ["features.conv0"], "at:0,111", "224x224"),
]


def probe(tmp, name, layers, readout, size, *extra):
    out = tmp / f"out{len(extra)}.json"
    args = ["run", model(name), "noise:4", "uniform:0.3", "--readout", readout, "--size", size,
            "-o", out, *extra]
    for layer in layers:
        args += ["--layer", layer]
    result = torchprobe(*args)
    return json.loads(out.read_text()), result.stderr


@pytest.mark.parametrize("name,layers,readout,size", CASES)
def test_cropped_equals_uncropped(tmp, name, layers, readout, size):
    cropped, _ = probe(tmp, name, layers, readout, size)
    full, _ = probe(tmp, name, layers, readout, size, "--no-crop")
    assert cropped["crop"]["used"] is True, cropped["crop"]
    h, w = map(int, size.split("x"))
    box = cropped["crop"]["box"]
    assert box[2] * box[3] < h * w
    assert full["crop"]["used"] is False
    for a, b in zip(cropped["stimuli"], full["stimuli"]):
        assert a["responses"].keys() == b["responses"].keys()
        for key in a["responses"]:
            ra, rb = a["responses"][key], b["responses"][key]
            assert ra["shape"] == rb["shape"] and ra["index"] == rb["index"]
            va, vb = np.array(ra["values"]), np.array(rb["values"])
            assert np.max(np.abs(va - vb)) <= 1e-5 * max(1.0, np.max(np.abs(vb))), key


def test_whole_input_layers_fall_back_and_say_so(tmp):
    doc, stderr = probe(tmp, "googlenet_script", ["inception4e"], "center", "224x224")
    assert doc["crop"]["used"] is False
    assert "receptive field covers most of the input" in doc["crop"]["reason"]
    assert stderr.count("cropping not used") == 1


def test_mean_readout_is_not_cropped(tmp):
    doc, stderr = probe(tmp, "resnet18_script", ["layer1.0.conv1"], "mean", "224x224")
    assert doc["crop"]["used"] is False and "not a point readout" in doc["crop"]["reason"]
    assert "cropping" not in stderr
