"""`torchprobe extract`: the written probe, loaded by Python's torch.jit.load, returns a dict
with the same numbers as `torchprobe run --readout full` (within 1e-6).

NOTE: both sides run with one intra-op thread: LibTorch's convolutions and matrix products sum in
another order with another thread count, which moves deep layers (googlenet's fc) by ~1e-6.
"""
import json
import re
import sys

import numpy as np
import pytest
import torch

from conftest import SOURCE_DIR, model, torchprobe

sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
from hooks_reference import noise  # noqa: E402  (torchprobe's noise:SEED, reimplemented)

torch.set_num_threads(1)

CASES = [
    ("resnet18_trace", ["layer1.0.relu", "layer1.0.bn2", "fc"]),
    ("googlenet_script", ["conv1", "inception3a", "fc"]),
    ("densenet121_script", ["features.transition2", "classifier"]),
    ("loop_module_list_script", ["blocks.0", "shared", "shared#1:in"]),
    ("tuple_output_script", ["split", "head"]),
    ("tuple_output_trace", ["split", "stem"]),
    ("functional_inplace_trace", ["conv1", "bn1", "relu:in", "relu"]),
    ("untaken_branch_script", ["body", "never", "head"]),
    ("tiny_gray_script", ["conv1", "conv2"]),
]


def extract(model_name, layers, out, *extra):
    args = ["extract", model(model_name), "-o", out, *extra]
    for layer in layers:
        args += ["--layer", layer]
    return torchprobe(*args, check=False)


def run_full(model_name, layers, out, stimulus="noise:3"):
    # --no-channels-last: the extracted module keeps the model's weights as stored (contiguous),
    # so this is the same computation; run's default channels-last layout sums in another order.
    args = ["run", model(model_name), stimulus, "--readout", "full", "--preprocess", "none",
            "--threads", "1", "--no-channels-last", "-o", out]
    for layer in layers:
        args += ["--layer", layer]
    torchprobe(*args)
    return json.loads(out.read_text())["stimuli"][0]


@pytest.mark.parametrize("model_name,layers", CASES, ids=[c[0] for c in CASES])
def test_probe_gives_the_numbers_of_run(tmp, model_name, layers):
    result = extract(model_name, layers, tmp / "probe.pt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"wrote {tmp / 'probe.pt'}: forward(x) -> Dict[str, Tensor]")
    record = run_full(model_name, layers, tmp / "run.json")

    probe = torch.jit.load(str(tmp / "probe.pt"))
    x = torch.from_numpy(noise(3, tuple(record["input_shape"])))
    with torch.no_grad():
        out = probe(x)
    assert isinstance(out, dict)
    assert list(out) == list(record["responses"]) or set(out) == set(record["responses"])
    for name, response in record["responses"].items():
        got = out[name]
        assert list(got.shape) == [1, *response["shape"]], name
        want = np.asarray(response["values"], dtype=np.float32)
        np.testing.assert_allclose(got[0].numpy(), want, rtol=0, atol=1e-6, err_msg=name)
    if record["not_called"]:
        assert "was not called in the example forward" in result.stderr


def test_probe_is_truncated_and_records_what_it_is(tmp):
    assert extract("googlenet_script", ["conv1"], tmp / "probe.pt").returncode == 0
    extra = {"torchprobe_probe.json": "", "torchprobe.json": ""}
    probe = torch.jit.load(str(tmp / "probe.pt"), _extra_files=extra)
    assert len(re.findall(r"torch\.(conv2d|_convolution)\(", probe.code)) == 1, probe.code
    info = json.loads(extra["torchprobe_probe.json"])
    assert info["captures"] == ["conv1"] and info["layers"] == ["conv1"]
    assert info["example_input_size"] == [1, 3, 224, 224]
    assert json.loads(extra["torchprobe.json"])["architecture"] == "googlenet"
    assert not probe.training


def test_probe_clones_at_capture_time(tmp):
    # functional_inplace: relu is F.relu(inplace=True) on bn1's output; the probe must return bn1
    # as it was before the in-place op.
    assert extract("functional_inplace_script", ["bn1", "relu"], tmp / "p.pt").returncode == 0
    probe = torch.jit.load(str(tmp / "p.pt"))
    out = probe(torch.from_numpy(noise(5, (1, 3, 32, 32))))
    assert (out["bn1"] < 0).any(), "bn1 lost its negative values: captured after the in-place relu"


def test_batch_and_other_sizes_work(tmp):
    assert extract("resnet18_script", ["layer2", "fc"], tmp / "p.pt").returncode == 0
    probe = torch.jit.load(str(tmp / "p.pt"))
    out = probe(torch.rand(3, 3, 96, 128))
    assert out["layer2"].shape == (3, 128, 12, 16) and out["fc"].shape == (3, 1000)


def test_existing_output_needs_force(tmp):
    (tmp / "p.pt").write_text("keep me")
    result = extract("tiny_gray_script", ["conv1"], tmp / "p.pt")
    assert result.returncode == 51 and "exists" in result.stderr
    assert (tmp / "p.pt").read_text() == "keep me"
    assert extract("tiny_gray_script", ["conv1"], tmp / "p.pt", "--force").returncode == 0
    torch.jit.load(str(tmp / "p.pt"))


def test_unknown_layer_and_bad_input_size(tmp):
    result = extract("resnet18_script", ["layer9"], tmp / "p.pt")
    assert result.returncode == 20 and not (tmp / "p.pt").exists()
    result = extract("resnet18_script", ["fc"], tmp / "p.pt", "--input-size", "3x224")
    assert result.returncode == 2 and "bad --input-size '3x224'" in result.stderr
