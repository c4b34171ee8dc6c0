"""`run --mode eval|as-saved|train`, and the warning for a model saved in training mode.

resnet18_train_script.pt has resnet18_script.pt's weights, saved in training mode; the reference
(hooks_reference.py --mode as-saved) runs it in training mode, one stimulus at a time, so BatchNorm
normalises with that stimulus's own statistics. torchprobe runs with --batch-size 1 to match:
in training mode responses depend on the batch. It also runs on one thread, as the reference does:
batch statistics of the constant stimulus (variance of a near-constant map) amplify the rounding of
another summation order (LibTorch 2.6: 3.4e-3 between 1 and 2 threads), so only the same kernels
in the same order are comparable at the suite's tolerance.
"""
import json
import os

import pytest

from conftest import compare, model, reference, torchprobe

LAYERS = ["bn1", "layer1.0.bn2", "layer2.0.downsample.1", "fc"]
STIMULI = ["noise:3", "uniform:0.5@200x232"]


def probe(tmp, path, *args):
    out = tmp / "ours.json"
    layer_args = [a for layer in LAYERS for a in ("--layer", layer)]
    one_thread = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    result = torchprobe("run", path, *STIMULI, *layer_args, "--preprocess", "none",
                        "--batch-size", "1", "--threads", "1", "-o", out, "--force", *args,
                        env=one_thread)
    return json.loads(out.read_text()), result.stderr


@pytest.fixture(scope="module")
def hooks(tmp_path_factory):
    """Reference documents by mode ("train", "eval"), computed once for this file."""
    out = tmp_path_factory.mktemp("hooks")
    refs = {}
    for mode, extra in [("train", ["--mode", "as-saved"]), ("eval", [])]:
        refs[mode] = out / f"ref_{mode}.json"
        reference(model("resnet18_train_script"), LAYERS, STIMULI, refs[mode], extra=extra)
    return refs


@pytest.mark.parametrize("name,mode", [("resnet18_script", "train"),
                                       ("resnet18_train_script", "train"),
                                       ("resnet18_train_script", "as-saved")])
def test_training_mode_batchnorm_matches_hooks_in_training_mode(tmp, hooks, name, mode):
    doc, _ = probe(tmp, model(name), "--mode", mode)
    assert (doc["model"]["mode"], doc["model"]["training"]) == (mode, True)
    ok, report = compare(tmp / "ours.json", hooks["train"])
    assert ok, report
    # Batch statistics, not the running ones: the eval-mode reference differs.
    ok, _ = compare(tmp / "ours.json", hooks["eval"])
    assert not ok


@pytest.mark.parametrize("name,args", [("resnet18_train_script", []),
                                       ("resnet18_train_script", ["--mode", "eval"]),
                                       ("resnet18_script", ["--mode", "as-saved"])])
def test_eval_mode_matches_hooks_in_eval_mode(tmp, hooks, name, args):
    doc, _ = probe(tmp, model(name), *args)
    assert doc["model"]["mode"] == (args[1] if args else "eval")
    assert doc["model"]["training"] is False
    ok, report = compare(tmp / "ours.json", hooks["eval"])
    assert ok, report


def warnings_of(name, *args):
    return torchprobe("run", model(name), "--layer", "conv1", "uniform:0.5@32x32", *args).stderr


def test_model_saved_in_training_mode_warns_that_eval_mode_is_used():
    stderr = warnings_of("resnet18_train_script")
    assert "was saved in training mode; probing in eval mode " \
           "(BatchNorm uses its running statistics)" in stderr
    assert "--mode as-saved" in stderr


@pytest.mark.parametrize("mode", ["as-saved", "train"])
def test_model_saved_in_training_mode_warns_that_batchnorm_uses_batch_statistics(mode):
    stderr = warnings_of("resnet18_train_script", "--mode", mode)
    assert f"was saved in training mode and is probed in mode '{mode}': " \
           "BatchNorm uses each batch's statistics" in stderr


def test_model_saved_in_eval_mode_gets_no_training_warning():
    assert "training mode" not in warnings_of("resnet18_script")
