"""Every bad model file gets its own documented exit code and a one-line message naming the file."""
import pytest

from conftest import MODELS, model, torchprobe

CASES = [
    ("does_not_exist", 10, "no such file"),
    ("empty", 12, "empty"),
    ("random_bytes", 13, "not a zip file"),
    ("not_torchscript.zip", 14, "without TorchScript code"),
    ("state_dict", 15, "torch.save() file"),
    ("eager_pickle", 15, "torch.save() file"),
    ("truncated", 16, "truncated"),
    ("frozen", 17, "frozen"),
]


@pytest.mark.parametrize("command", ["layers", "run"])
@pytest.mark.parametrize("name,code,fragment", CASES)
def test_bad_model_file_has_documented_exit_code_and_message(name, code, fragment, command):
    args = [command, model(name)] + (["--layer", "conv1"] if command == "run" else [])
    result = torchprobe(*args, check=False)
    assert result.returncode == code, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: cannot load model '" + model(name) + "'"), first
    assert fragment in first
    assert result.stdout == ""


def test_model_path_that_is_a_directory():
    result = torchprobe("layers", MODELS, check=False)
    assert result.returncode == 11
    assert "is a directory" in result.stderr and str(MODELS) in result.stderr


def test_frozen_model_error_says_what_to_export_instead():
    result = torchprobe("layers", model("frozen"), check=False)
    assert "hint: save the model without freezing" in result.stderr


def test_unknown_layer_suggests_close_names_and_layers_command():
    result = torchprobe("run", model("resnet18_script"), "--layer", "layer1.0.conv", check=False)
    assert result.returncode == 20
    assert "unknown layer 'layer1.0.conv'" in result.stderr
    assert "did you mean 'layer1.0.conv1'" in result.stderr
    assert "hint: run 'torchprobe layers" in result.stderr


@pytest.mark.parametrize("args,fragment", [
    (["--readout", "middle"], "unknown readout 'middle'"),
    (["--readout", "at:999,0"], "outside the"),
    (["--batch-size", "0"], "bad --batch-size"),
    (["--threads", "-1"], "bad --threads"),
    (["--mode", "inference"], "unknown mode 'inference'"),
    (["--size", "0x0"], "bad size '0x0'"),
    (["--device", "cuda"], "CPU-only"),
    (["--bogus-flag"], "bogus-flag"),
])
def test_bad_command_line_values(args, fragment):
    result = torchprobe("run", model("resnet18_script"), "--layer", "conv1", *args, check=False)
    assert result.returncode in (2, 22), result.stderr
    assert fragment in result.stderr


def test_output_to_unwritable_directory_fails_cleanly(tmp):
    result = torchprobe("run", model("tiny_gray_script"), "--layer", "conv1",
                        "-o", tmp / "missing" / "out.json", check=False)
    assert result.returncode == 50
    assert "cannot write output" in result.stderr
    assert not (tmp / "missing").exists()


def test_version_names_torchprobe_and_libtorch():
    out = torchprobe("--version").stdout
    assert "torchprobe" in out and "LibTorch" in out
