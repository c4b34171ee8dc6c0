"""`torchprobe layers` against Python's named_modules() and hook call counts."""
import json
import subprocess

import pytest

from conftest import PYTHON, SOURCE_DIR, model, torchprobe

NAMED_MODULES = r"""
import json, sys, torch
m = torch.jit.load(sys.argv[1])
print(json.dumps([[name, mod.original_name] for name, mod in m.named_modules() if name]))
"""

# Counts forward calls per module with hooks on the eager model rebuilt by the reference script.
CALL_COUNTS = r"""
import json, sys, collections, torch
sys.path.insert(0, sys.argv[2] + "/tests/reference")
sys.argv = [sys.argv[0], sys.argv[1]]
import hooks_reference as ref
scripted, meta = ref.load_model(sys.argv[1])
eager = ref.build_eager(scripted, meta, sys.argv[1]).eval()
counts = collections.Counter()
for name, mod in eager.named_modules():
    if name:
        mod.register_forward_hook(lambda m, i, o, name=name: counts.update([name]))
with torch.no_grad():
    eager(torch.ones(1, *meta["input_size"]))
print(json.dumps(counts))
"""


def python_named_modules(path):
    out = subprocess.run([PYTHON, "-c", NAMED_MODULES, path], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("name", ["googlenet_script", "googlenet_trace", "densenet121_script",
                                  "densenet121_trace", "resnet18_script", "resnet18_trace",
                                  "loop_module_list_script", "tuple_output_trace"])
def test_layers_lists_exactly_python_named_modules(name):
    ours = json.loads(torchprobe("layers", model(name), "--json").stdout)
    got = [[layer["name"], layer["type"]] for layer in ours["layers"]]
    assert got == python_named_modules(model(name))


def test_layers_counts_a_module_called_twice():
    ours = json.loads(torchprobe("layers", model("resnet18_script"), "--json").stdout)
    by_name = {layer["name"]: layer for layer in ours["layers"]}
    assert by_name["layer1.0.relu"]["call_sites"] == 2
    assert by_name["layer1.0.conv1"]["call_sites"] == 1


@pytest.mark.parametrize("name", ["resnet18_script", "resnet18_trace", "googlenet_script"])
def test_layers_call_counts_and_shapes_match_hooks_on_eager_model(name):
    ours = json.loads(torchprobe("layers", model(name), "--json", "--input-size", "3x224x224").stdout)
    counts = json.loads(subprocess.run([PYTHON, "-c", CALL_COUNTS, model(name), str(SOURCE_DIR)],
                                       capture_output=True, text=True, check=True).stdout)
    for layer in ours["layers"]:
        assert layer["calls"] == counts.get(layer["name"], 0), layer["name"]
    by_name = {layer["name"]: layer for layer in ours["layers"]}
    if name.startswith("resnet18"):
        assert by_name["layer1.0.relu"]["output_shapes"] == [[[1, 64, 56, 56]], [[1, 64, 56, 56]]]
        assert by_name["fc"]["output_shapes"] == [[[1, 1000]]]


def test_layers_table_shows_kind_and_training_flag():
    out = torchprobe("layers", model("resnet18_train_script")).stdout
    assert "scripted" in out and "training mode" in out
    out = torchprobe("layers", model("googlenet_trace")).stdout
    assert "traced" in out and "fixed when it was traced" in out


def test_layers_loop_module_list_shared_module_called_twice():
    ours = json.loads(torchprobe("layers", model("loop_module_list_script"), "--json",
                                 "--input-size", "3x32x32").stdout)
    by_name = {layer["name"]: layer for layer in ours["layers"]}
    assert by_name["shared"]["calls"] == 2


def layers_table(path, *args):
    """The text table of `torchprobe layers` as {name: {"calls", "where", "explain"}}."""
    lines = torchprobe("layers", path, *args).stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("name "))
    rows = {}
    for line in lines[header + 1:]:
        if line.startswith("explain:"):
            break
        name, _type, calls, where, explain = line.split()[:5]
        rows[name] = {"calls": calls, "where": where, "explain": explain}
    return rows


def layers_json(path, *args):
    doc = json.loads(torchprobe("layers", path, "--json", *args).stdout)
    return {layer["name"]: layer for layer in doc["layers"]}


def test_layers_marks_a_call_inside_an_if_as_in_branch():
    by_name = layers_json(model("untaken_branch_script"))
    assert (by_name["never"]["in_branch"], by_name["never"]["in_loop"]) == (True, False)
    for name in ["body", "body.conv", "head"]:
        assert (by_name[name]["in_branch"], by_name[name]["in_loop"]) == (False, False), name
    rows = layers_table(model("untaken_branch_script"))
    assert rows["never"]["where"] == "branch"
    assert rows["body"]["where"] == "-" and rows["head"]["where"] == "-"


def test_layers_marks_a_call_inside_a_loop_as_in_loop():
    by_name = layers_json(model("loop_shared_script"), "--input-size", "3x32x32")
    assert (by_name["shared"]["in_loop"], by_name["shared"]["in_branch"]) == (True, False)
    assert by_name["shared"]["call_sites"] == 1 and by_name["shared"]["calls"] == 3
    for name in ["stem", "head"]:
        assert (by_name[name]["in_loop"], by_name[name]["in_branch"]) == (False, False), name
    rows = layers_table(model("loop_shared_script"), "--input-size", "3x32x32")
    assert rows["shared"]["where"] == "loop" and rows["shared"]["calls"] == "3"
    assert rows["stem"]["where"] == "-"


def test_layers_marks_a_module_called_in_a_loop_as_called_more_than_once():
    # The 'calls' marker warns that a hook fires several times: one call site in a loop does too.
    assert "calls" in layers_json(model("loop_shared_script"))["shared"]["explain"].split(",")
    assert "calls" in layers_table(model("loop_shared_script"))["shared"]["explain"].split(",")


def test_layers_traced_loop_is_unrolled_into_separate_calls():
    by_name = layers_json(model("loop_shared_trace"), "--input-size", "3x32x32")
    assert by_name["shared"]["in_loop"] is False
    assert by_name["shared"]["call_sites"] == 3 and by_name["shared"]["calls"] == 3


def test_layers_untaken_branch_call_runs_zero_times():
    by_name = layers_json(model("untaken_branch_script"), "--input-size", "3x32x32")
    assert by_name["never"]["call_sites"] == 1 and by_name["never"]["calls"] == 0
