"""`explain` and `bn-check` on the test models; numbers against PyTorch on the eager model."""
import json
import subprocess

import pytest

from conftest import PYTHON, SOURCE_DIR, model, torchprobe


def explain(name, layer):
    return json.loads(torchprobe("explain", model(name), layer, "--json").stdout)


@pytest.mark.parametrize("kind", ["script", "trace"])
def test_explain_conv1_conv_lists_transform_input_ops(kind):
    e = explain(f"googlenet_{kind}", "conv1.conv")
    ops = [op["op"] for op in e["functional_before"]]
    # GoogLeNet._transform_input: three channel slices, scaled and shifted, concatenated
    assert ops.count("aten::mul") == 3 and ops.count("aten::add") == 3 and "aten::cat" in ops
    assert all(op["module"] == "" for op in e["functional_before"])
    text = torchprobe("explain", model(f"googlenet_{kind}"), "conv1.conv").stdout
    assert "nn.Sequential" in text


@pytest.mark.parametrize("kind", ["script", "trace"])
def test_explain_conv1_bn_reports_the_inplace_relu(kind):
    e = explain(f"googlenet_{kind}", "conv1.bn")
    assert [op["op"] for op in e["inplace_after"]] == ["aten::relu_"]
    text = torchprobe("explain", model(f"googlenet_{kind}"), "conv1.bn").stdout
    assert "without .clone()" in text


def test_explain_resnet_relu_reports_two_calls():
    e = explain("resnet18_script", "layer1.0.relu")
    assert e["calls"]["call_sites"] == 2
    assert "layer1.0.relu#1" in torchprobe("explain", model("resnet18_script"), "layer1.0.relu").stdout


def test_explain_resnet_bn2_reports_the_residual_add():
    ops = [op["op"] for op in explain("resnet18_script", "layer1.0.bn2")["inplace_after"]]
    assert "aten::add_" in ops


def test_explain_conv_without_traps_has_nothing_to_report():
    e = explain("resnet18_script", "layer1.0.conv1")
    assert e["functional_before"] == [] and e["inplace_after"] == []


def test_explain_training_dependence_and_traced_note():
    e = explain("resnet18_trace", "layer1.0")
    assert any("BatchNorm2d" in m for m in e["training_dependent"])
    assert e["traced"] is True
    assert "fixed when it was traced" in torchprobe("explain", model("resnet18_trace"), "conv1").stdout


def test_explain_lists_effects_outside_the_tensor_world():
    e = explain("googlenet_script", "conv1")
    assert any(op["op"] == "prim::RaiseException" for op in e["external_effects"])


def test_layers_marks_layers_that_explain_talks_about():
    layers = json.loads(torchprobe("layers", model("googlenet_script"), "--json").stdout)["layers"]
    by_name = {layer["name"]: layer["explain"] for layer in layers}
    assert "inplace" in by_name["conv1.bn"]
    assert by_name["conv1.conv"] == ""


def bn_check(name, *args):
    result = torchprobe("bn-check", model(name), "--json", *args, check=False)
    return result.returncode, json.loads(result.stdout)


@pytest.mark.parametrize("name", ["googlenet_script", "googlenet_trace", "densenet121_script",
                                  "densenet121_trace", "resnet18_script", "resnet18_trace"])
def test_bn_check_passes_on_every_batchnorm_of_eval_models(name):
    code, report = bn_check(name)
    assert code == 0
    assert len(report["layers"]) > 10
    assert all(row["status"] == "ok" for row in report["layers"])


# The batch-statistics discrepancy of a training-mode BatchNorm, computed in PyTorch with hooks on
# the eager model (buffers read before the forward, which updates them in training mode).
TRAIN_REFERENCE = r"""
import json, sys, torch
sys.path.insert(0, sys.argv[2] + "/tests/reference")
import hooks_reference as ref
scripted, meta = ref.load_model(sys.argv[1])
eager = ref.build_eager(scripted, meta, sys.argv[1]).train()
x = torch.stack([torch.from_numpy(ref.noise(s, (3, 224, 224))) for s in (0, 1)])
x = (x - torch.tensor(meta["mean"]).view(1, 3, 1, 1)) / torch.tensor(meta["std"]).view(1, 3, 1, 1)
saved = {n: (m.running_mean.clone().double(), m.running_var.clone().double())
         for n, m in eager.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
diffs = {}
def hook(name):
    def f(m, inp, out):
        rm, rv = saved[name]
        xi = inp[0].double()
        y = (xi - rm.view(1, -1, 1, 1)) / torch.sqrt(rv.view(1, -1, 1, 1) + m.eps)
        y = y * m.weight.double().view(1, -1, 1, 1) + m.bias.double().view(1, -1, 1, 1)
        diffs[name] = (y - out.double()).abs().max().item()
    return f
for n, m in eager.named_modules():
    if n in saved:
        m.register_forward_hook(hook(n))
with torch.no_grad():
    eager(x)
print(json.dumps(diffs))
"""


def test_bn_check_flags_training_mode_batchnorm_and_eval_clears_it():
    code, report = bn_check("resnet18_train_script")
    rows = report["layers"]
    assert code == 0 and rows
    assert all(row["status"] == "batch-statistics" and row["training"] for row in rows)
    assert all(row["max_abs_diff_batch"] < 1e-4 for row in rows)
    ref = json.loads(subprocess.run([PYTHON, "-c", TRAIN_REFERENCE, model("resnet18_train_script"),
                                     str(SOURCE_DIR)], capture_output=True, text=True,
                                    check=True).stdout)
    for row in rows:
        expected = ref[row["layer"]]
        assert abs(row["max_abs_diff_running"] - expected) <= 1e-4 + 1e-3 * expected, row
    code, report = bn_check("resnet18_train_script", "--mode", "eval")
    assert code == 0
    assert all(row["status"] == "ok" for row in report["layers"])


def test_bn_check_rejects_a_layer_that_is_not_batchnorm():
    result = torchprobe("bn-check", model("resnet18_script"), "--layer", "conv1", check=False)
    assert result.returncode == 2
    assert "not a BatchNorm" in result.stderr


def test_bn_check_table_names_batch_statistics():
    out = torchprobe("bn-check", model("resnet18_train_script")).stdout
    assert "uses batch statistics" in out
