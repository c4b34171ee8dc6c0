"""Modules that return their input unchanged in eval mode (nn.Identity, torchvision's
StochasticDepth). torch.jit.trace records such a call with no argument and a None result, so a
traced model holds no output of theirs: `run` refuses them (exit 21), says why and names the
capture that gives the value they pass on; `layers` marks them. Scripted, they are ordinary calls.

identity_modules: 'identity' on the model's input (then 'stem'), 'res.stochastic_depth' on
'res.block's output before the residual add, as in EfficientNet's MBConv."""
import json

import pytest

from conftest import compare, model, reference, torchprobe

TRACED = model("identity_modules_trace")
SCRIPTED = model("identity_modules_script")
NO_DATA_FLOW = ("the tracer recorded no data flow through it (it returned its input unchanged "
                "when traced, e.g. an identity in eval mode)")


@pytest.mark.parametrize("layer,passes_on,described", [
    ("res.stochastic_depth", "res.block", "it passes on the output of 'res.block'"),
    ("identity", "stem:in", "it passes on the input of 'stem'"),
])
def test_traced_identity_is_refused_naming_what_it_passes_on(tmp, layer, passes_on, described):
    out = tmp / "out.json"
    result = torchprobe("run", TRACED, "noise:1", "--layer", layer, "--preprocess", "none",
                        "-o", out, check=False)
    assert result.returncode == 21, result.stderr
    assert f"error: cannot capture layer '{layer}': {NO_DATA_FLOW}" in result.stderr
    assert described in result.stderr
    assert f"hint: capture '{passes_on}' instead" in result.stderr
    assert "NoneType" not in result.stderr
    assert not out.exists()


def test_layers_marks_traced_identities_with_what_they_pass_on():
    doc = json.loads(torchprobe("layers", TRACED, "--json").stdout)
    by_name = {layer["name"]: layer for layer in doc["layers"]}
    assert by_name["res.stochastic_depth"]["traced_identity"] is True
    assert by_name["res.stochastic_depth"]["passes_on"] == "res.block"
    assert by_name["identity"]["passes_on"] == "stem:in"
    assert "identity" in by_name["res.stochastic_depth"]["explain"].split(",")
    others = [name for name in by_name if name not in ("identity", "res.stochastic_depth")]
    assert others and all(by_name[name]["traced_identity"] is False for name in others)
    assert all("passes_on" not in by_name[name] for name in others)

    text = torchprobe("layers", TRACED).stdout
    row = next(line for line in text.splitlines() if line.startswith("res.stochastic_depth "))
    assert "identity" in row.split()[4].split(",")
    assert "identity = the tracer recorded no data flow through the layer" in text
    assert "  res.stochastic_depth  (passes on 'res.block')" in text.splitlines()


def test_scripted_identities_are_ordinary_layers():
    doc = json.loads(torchprobe("layers", SCRIPTED, "--json").stdout)
    assert not any(layer["traced_identity"] for layer in doc["layers"])
    assert "identity =" not in torchprobe("layers", SCRIPTED).stdout


def test_scripted_identities_are_captured_as_in_hooks(tmp):
    layers = ["identity", "res.block", "res.stochastic_depth"]
    stimuli = ["noise:1", "uniform:0.5@24x40"]
    ours = tmp / "ours.json"
    args = ["run", SCRIPTED, *stimuli, "--readout", "full", "--preprocess", "none", "--no-crop",
            "-o", ours]
    for layer in layers:
        args += ["--layer", layer]
    torchprobe(*args)
    reference(SCRIPTED, layers, stimuli, tmp / "ref.json", readout="full")
    ok, report = compare(ours, tmp / "ref.json")
    assert ok, report
    # In eval mode StochasticDepth passes on its input: the block's output.
    for stimulus in json.loads(ours.read_text())["stimuli"]:
        responses = stimulus["responses"]
        assert responses["res.stochastic_depth"] == responses["res.block"]


def test_capture_the_hint_names_gives_the_scripted_modules_output(tmp):
    traced = json.loads(torchprobe("run", TRACED, "noise:3", "--layer", "res.block",
                                   "--readout", "full", "--preprocess", "none").stdout)
    scripted = json.loads(torchprobe("run", SCRIPTED, "noise:3", "--layer", "res.stochastic_depth",
                                     "--readout", "full", "--preprocess", "none").stdout)
    assert (traced["stimuli"][0]["responses"]["res.block"]["values"] ==
            scripted["stimuli"][0]["responses"]["res.stochastic_depth"]["values"])
