"""A requested layer that a stimulus does not call (untaken branch) is listed under that stimulus's
`not_called` and warned about on stderr. untaken_branch runs 'never' only if the sum of its
body's output exceeds 1e30: never for ordinary stimuli; for uniform:3e+27 it does."""
import json

import pytest

from conftest import compare, model, reference, torchprobe

UNTAKEN = model("untaken_branch_script")


def test_layer_in_untaken_branch_is_listed_under_not_called_as_in_hooks(tmp):
    stimuli = ["noise:1", "uniform:0.5@24x40"]
    ours = tmp / "ours.json"
    torchprobe("run", UNTAKEN, "--layer", "never", "--layer", "head", *stimuli,
               "--preprocess", "none", "-o", ours)
    ref = reference(UNTAKEN, ["never", "head"], stimuli, tmp / "ref.json")
    doc = json.loads(ours.read_text())
    for got, want in zip(doc["stimuli"], ref["stimuli"]):
        assert got["not_called"] == want["not_called"] == ["never"]
        assert sorted(got["responses"]) == sorted(want["responses"]) == ["head"]
    ok, report = compare(ours, tmp / "ref.json")
    assert ok, report


def test_layer_not_called_is_warned_about_on_stderr():
    result = torchprobe("run", UNTAKEN, "--layer", "never", "--layer", "head", "noise:1",
                        "uniform:0.5", "--preprocess", "none")
    warning = ("warning: layer 'never' was not called in the forward (an untaken branch?); "
               "it is listed under not_called")
    assert result.stderr.splitlines().count(warning) == 1, result.stderr
    assert "'head'" not in result.stderr


def test_call_index_beyond_the_calls_made_is_warned_about():
    # In a loop: how many calls there are is known only when the forward runs.
    result = torchprobe("run", model("loop_shared_script"), "--layer", "shared#3", "noise:1",
                        "--preprocess", "none")
    assert json.loads(result.stdout)["stimuli"][0]["not_called"] == ["shared#3"]
    assert "warning: layer 'shared#3' was not called in the forward" in result.stderr


def test_call_index_of_a_call_in_a_branch_is_warned_about():
    result = torchprobe("run", UNTAKEN, "--layer", "never#1", "noise:1", "--preprocess", "none")
    assert json.loads(result.stdout)["stimuli"][0]["not_called"] == ["never#1"]


# Every call site of layer1.0.relu (BasicBlock: after bn1 and after the residual add) is outside
# any if or loop: it runs exactly twice in every forward, so '#5' can never be called.
@pytest.mark.parametrize("kind", ["script", "trace"])
def test_call_index_beyond_a_static_call_count_is_refused(tmp, kind):
    out = tmp / "out.json"
    result = torchprobe("run", model(f"resnet18_{kind}"), "noise:1", "--layer", "layer1.0.relu#5",
                        "-o", out, check=False)
    assert result.returncode == 20, result.stderr
    assert ("error: unknown layer 'layer1.0.relu#5' in model '" + model(f"resnet18_{kind}") +
            "': layer1.0.relu is called 2 times in the forward (layer1.0.relu#0, layer1.0.relu#1), "
            "outside any if or loop") in result.stderr
    assert ("hint: name one of layer1.0.relu#0, layer1.0.relu#1, or layer1.0.relu for every call"
            in result.stderr)
    assert not out.exists()


def test_call_index_of_an_input_capture_is_checked_too():
    result = torchprobe("run", model("resnet18_script"), "noise:1", "--layer", "layer1.0.conv1#1:in",
                        check=False)
    assert result.returncode == 20, result.stderr
    assert ("layer1.0.conv1 is called once in the forward (layer1.0.conv1#0:in)" in result.stderr)
    assert "hint: name layer1.0.conv1#0:in, or layer1.0.conv1:in for every call" in result.stderr


def test_call_index_within_a_static_call_count_is_captured():
    result = torchprobe("run", model("resnet18_script"), "noise:1", "--layer", "layer1.0.relu#1",
                        "--layer", "layer1.0.conv1#0")
    stimulus = json.loads(result.stdout)["stimuli"][0]
    assert sorted(stimulus["responses"]) == ["layer1.0.conv1#0", "layer1.0.relu#1"]
    assert stimulus["not_called"] == []


def test_no_not_called_warning_when_every_layer_is_called():
    result = torchprobe("run", model("loop_shared_script"), "--layer", "shared", "noise:1",
                        "--preprocess", "none")
    assert "not called" not in result.stderr


# A branch whose condition depends on the input's values is taken per stimulus by the hooks
# (one stimulus per forward, full input). A batch would take one branch for all its stimuli, so
# torchprobe runs such a model one stimulus per forward; cropping the input changes what the
# condition sees too.
def test_value_dependent_branch_is_taken_per_stimulus_as_in_hooks(tmp):
    stimuli = ["noise:1", "uniform:3e+27"]
    ours = tmp / "ours.json"
    result = torchprobe("run", UNTAKEN, "--layer", "never", "--layer", "head", *stimuli,
                        "--no-crop", "--preprocess", "none", "--batch-size", "2", "-o", ours)
    ref = reference(UNTAKEN, ["never", "head"], stimuli, tmp / "ref.json")
    assert [s["not_called"] for s in ref["stimuli"]] == [["never"], []]
    ok, report = compare(ours, tmp / "ref.json")
    assert ok, report
    assert "warning: the forward branches on the input's values (an if at " in result.stderr
    assert "probing one stimulus per forward instead of batches of 2" in result.stderr
    assert json.loads(ours.read_text())["batch_size"] == 1


def test_layers_before_a_value_dependent_branch_are_still_batched():
    # Truncated to 'body', the program no longer holds the branch.
    result = torchprobe("run", UNTAKEN, "--layer", "body", "noise:1", "uniform:3e+27",
                        "--preprocess", "none", "--batch-size", "2")
    assert "branches on the input's values" not in result.stderr
    assert json.loads(result.stdout)["batch_size"] == 2


def test_value_dependent_branch_is_taken_as_on_the_full_input(tmp):
    ours = tmp / "ours.json"
    torchprobe("run", UNTAKEN, "--layer", "never", "--layer", "head", "uniform:3e+27",
               "--preprocess", "none", "-o", ours)
    ref = reference(UNTAKEN, ["never", "head"], ["uniform:3e+27"], tmp / "ref.json")
    assert ref["stimuli"][0]["not_called"] == []
    ok, report = compare(ours, tmp / "ref.json")
    assert ok, report
