"""`torchprobe run` against PyTorch's own forward hooks (with .clone()) on the same weights.

Tolerance: 1e-5 absolute. Both sides run on one thread (LibTorch's intra-op pool and OpenBLAS),
torchprobe on the full input (--no-crop), and both compute convolutions in the same layout
(channels-last: torchprobe's default and the reference's --channels-last; contiguous: torchprobe
--no-channels-last and the reference's default), so the same kernels sum in the same order and the
numbers agree to the last bit but for the float32 text: the reference writes float64, torchprobe
the shortest text that reads back to the same float32 (at most half a float32 ulp apart). Each case runs the binary once and the reference once
with all layers, stimuli and one readout, then compares every response.
"""
import json
import os

import pytest

from conftest import SOURCE_DIR, compare, model, reference, torchprobe

GOOGLENET = ["conv1.conv", "conv1.bn", "conv1", "inception3a.branch2.1", "inception4c", "fc"]
DENSENET = ["features.conv0", "features.norm0", "features.denseblock1.denselayer1.conv1",
            "features.transition2", "classifier"]
RESNET = ["layer1.0.relu", "layer1.0.bn2", "layer3.0.downsample.1", "avgpool", "fc"]
STIMULI = ["uniform:1@224x244", "noise:7"]
ONE_THREAD = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

CASES = [
    (f"{arch}_{kind}", layers, readout)
    for arch, layers in [("googlenet", GOOGLENET), ("densenet121", DENSENET), ("resnet18", RESNET)]
    for kind in ["script", "trace"]
    for readout in ["center", "mean", "max"]
]


def run_and_compare(tmp, model_name, layers, stimuli, readout, preprocess="none", extra=(),
                    reference_channels_last=None, tolerance=None):
    """Compares at 1e-5 absolute, or at `tolerance` x max(1, the response's largest magnitude)."""
    path = str(SOURCE_DIR / "models" / "demo.pt") if model_name == "demo" else model(model_name)
    ours = tmp / "ours.json"
    # Same kernels, same summation order as the reference: one thread (intra-op and BLAS) and
    # the full input (cropping is checked against uncropped runs in test_crop.py).
    args = ["run", path, *stimuli, "--readout", readout, "--preprocess", preprocess,
            "--threads", "1", "--no-crop",
            "-o", ours, "--force", *extra]  # --force: some cases run twice into one tmp dir
    for layer in layers:
        args += ["--layer", layer]
    torchprobe(*args, env=ONE_THREAD)
    ref = tmp / "ref.json"
    if reference_channels_last is None:
        reference_channels_last = "--no-channels-last" not in extra
    reference(path, layers, stimuli, ref, readout=readout, preprocess=preprocess,
              channels_last=reference_channels_last)
    if tolerance is None:
        ok, report = compare(ours, ref, absolute=True)
    else:
        ok, report = compare(ours, ref, atol=tolerance)
    assert ok, report
    return report


@pytest.mark.parametrize("model_name,layers,readout", CASES)
def test_torchvision_models_match_hooks(tmp, model_name, layers, readout):
    report = run_and_compare(tmp, model_name, layers, STIMULI, readout)
    assert "responses compared" in report


@pytest.mark.parametrize("model_name", ["googlenet_script", "resnet18_trace", "densenet121_script"])
def test_full_readout_matches_hooks(tmp, model_name):
    layers = {"googlenet_script": ["conv1.bn", "inception3a"],
              "resnet18_trace": ["layer1.0.relu", "fc"],
              "densenet121_script": ["features.transition2"]}[model_name]
    run_and_compare(tmp, model_name, layers, ["noise:3@96x112"], "full")


# One early spatial layer (every border position of a non-square map) and one deep layer per
# architecture; resnet18's layer1.0.bn2 is overwritten in place by `out += identity`.
FULL_LAYERS = {"googlenet": ["conv1", "inception4c"],
               "densenet121": ["features.norm0", "features.transition2"],
               "resnet18": ["layer1.0.bn2", "layer3.0.downsample.1"]}


@pytest.mark.parametrize("arch", list(FULL_LAYERS))
@pytest.mark.parametrize("kind", ["script", "trace"])
def test_full_readout_of_every_torchvision_model_matches_hooks(tmp, arch, kind):
    report = run_and_compare(tmp, f"{arch}_{kind}", FULL_LAYERS[arch], STIMULI, "full")
    assert "4 responses compared" in report


@pytest.mark.parametrize("model_name", ["googlenet_script", "resnet18_script"])
def test_untruncated_matches_hooks(tmp, model_name):
    layers = GOOGLENET if model_name.startswith("googlenet") else RESNET
    run_and_compare(tmp, model_name, layers, ["noise:5"], "center", extra=["--no-truncate"])


@pytest.mark.parametrize("model_name", ["googlenet_script", "densenet121_trace", "resnet18_script"])
def test_contiguous_layout_matches_contiguous_hooks(tmp, model_name):
    layers = {"googlenet_script": GOOGLENET, "densenet121_trace": DENSENET, "resnet18_script": RESNET}
    run_and_compare(tmp, model_name, layers[model_name], STIMULI, "center", extra=["--no-channels-last"])
    assert json.loads((tmp / "ours.json").read_text())["channels_last"] is False


@pytest.mark.parametrize("model_name", ["googlenet_trace", "densenet121_script", "resnet18_trace"])
def test_channels_last_agrees_with_contiguous_hooks_within_float_rounding(tmp, model_name):
    # What a user comparing with a plain (contiguous) PyTorch model sees: another summation
    # order, so float32 rounding, here within 1e-4 of each response's largest magnitude (at least 1).
    layers = {"googlenet_trace": GOOGLENET, "densenet121_script": DENSENET, "resnet18_trace": RESNET}
    report = run_and_compare(tmp, model_name, layers[model_name], STIMULI, "center",
                             reference_channels_last=False, tolerance=1e-4)
    assert json.loads((tmp / "ours.json").read_text())["channels_last"] is True
    assert "responses compared" in report


@pytest.mark.parametrize("batch_size", [2, 3])
def test_batched_stimuli_match_hooks_run_one_at_a_time(tmp, batch_size):
    # Three stimuli of one size: batches of 2 + 1 or one batch of 3; the reference runs each alone.
    report = run_and_compare(tmp, "resnet18_script", RESNET, ["noise:1", "uniform:0.5", "noise:2"],
                             "center", extra=["--batch-size", str(batch_size)])
    assert f"{3 * 6} responses compared" in report  # layer1.0.relu is called twice
    assert json.loads((tmp / "ours.json").read_text())["batch_size"] == batch_size


def test_imagenet_preprocessing_matches_hooks(tmp):
    run_and_compare(tmp, "googlenet_trace", ["conv1", "inception3a"], STIMULI, "center",
                    preprocess="imagenet")


def test_at_readout_matches_hooks(tmp):
    run_and_compare(tmp, "resnet18_script", ["layer1.0.bn2", "layer2.0.conv1"], STIMULI, "at:3,20")


HANDWRITTEN = [
    ("untaken_branch", ["body", "never", "head"]),
    ("loop_module_list", ["stem", "blocks.0", "blocks.2.bn", "shared"]),
    ("loop_shared", ["stem", "shared", "head"]),
    ("tuple_output", ["stem", "split", "split.a", "head"]),
    ("functional_inplace", ["conv1", "bn1", "conv2", "relu"]),
    ("tiny_gray", ["conv1", "relu", "conv2"]),
]


@pytest.mark.parametrize("name,layers", HANDWRITTEN)
@pytest.mark.parametrize("kind", ["script", "trace"])
def test_handwritten_trap_models_match_hooks(tmp, name, layers, kind):
    for readout in ["center", "full"]:
        run_and_compare(tmp, f"{name}_{kind}", layers, ["noise:1", "uniform:0.5@24x40"], readout)


def test_demo_model_matches_hooks(tmp):
    layers = ["stem.bn", "stem", "pool", "mixed", "mixed.branch2.1.bn", "fc"]
    run_and_compare(tmp, "demo", layers, ["noise:2", "uniform:1@64x80"], "center")


@pytest.mark.parametrize("kind", ["script", "trace"])
def test_module_called_in_a_loop_yields_one_response_per_iteration(tmp, kind):
    # loop_shared: 'shared' runs 3 times, in a prim::Loop (scripted) or unrolled (traced).
    ref = reference(model(f"loop_shared_{kind}"), ["shared"], ["noise:4"], tmp / "ref.json")
    assert sorted(ref["stimuli"][0]["responses"]) == ["shared#0", "shared#1", "shared#2"]
    ours = json.loads(torchprobe("run", model(f"loop_shared_{kind}"), "--layer", "shared",
                                 "noise:4", "--preprocess", "none").stdout)
    assert sorted(ours["stimuli"][0]["responses"]) == ["shared#0", "shared#1", "shared#2"]
    # One iteration by its call index, numbers as the hooks saw them.
    report = run_and_compare(tmp, f"loop_shared_{kind}", ["shared#1"], ["noise:4"], "center")
    assert "1 responses compared" in report
