"""Every bad model file gets its own documented exit code and a one-line message naming the file;
so do bad option values, stimuli that cannot be found, and a model whose forward rejects the
input (another number of channels, an input too small, a fixed input size)."""
import subprocess

import pytest

from conftest import MODELS, PYTHON, SOURCE_DIR, model, torchprobe

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


FUZZ_FINDS = SOURCE_DIR / "tests" / "fuzz" / "corpus" / "model_load"


# Found by model_load_fuzzer in one_conv.pt with a few bytes changed; each is refused by the zip
# checks before LibTorch reads the archive (detail/zip_check.h), which went wrong on each:
@pytest.mark.parametrize("name,why", [
    # a code file declares 1.2 GB for 412 compressed bytes: LibTorch allocated it (7 GB, 22 s)
    ("deflated_entry_declares_1_2_gb.pt",
     "entry 'archive/code/__torch__/torch/nn/modules/conv.py' declares 1174406152 bytes from 412 "
     "compressed, more than deflate expands (1032:1)"),
    # a code file and its debug pickle changed: LibTorch corrupted its heap (SIGABRT/SIGSEGV)
    ("code_and_debug_pickle_changed.pt",
     "entry 'archive/code/__torch__.py' is damaged (its data does not inflate to the size the "
     "directory records)"),
    # its debug pickle changed too: LibTorch's unpickler reserved 1.8 GB of strings (2 GB, 4 s)
    ("debug_pickle_declares_1_8_gb.pt",
     "entry 'archive/code/__torch__/torch/nn/modules/conv.py' is damaged (its data does not "
     "inflate to the size the directory records)"),
])
def test_a_damaged_archive_is_refused_before_libtorch_reads_it(name, why):
    path = FUZZ_FINDS / name
    result = torchprobe("layers", path, check=False, timeout=10)
    assert result.returncode == 18, result.stderr
    assert result.stderr.splitlines()[0] == \
        f"error: cannot load model '{path}': the archive is damaged: {why}"
    assert "hint: copy or export the model again" in result.stderr


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


@pytest.mark.parametrize("args,code,fragment", [
    (["--readout", "middle"], 2, "unknown readout 'middle'"),
    (["--readout", "at:999,0"], 22, "position (999,0) is outside the 112x112 map"),
    (["--batch-size", "0"], 2, "bad --batch-size 0: expected 1 to 65536"),
    (["--batch-size", "-3"], 2, "bad --batch-size -3: expected 1 to 65536"),
    (["--batch-size", "10000000"], 2, "bad --batch-size 10000000: expected 1 to 65536"),
    # Too large for int64: named as given, not as the largest int64.
    (["--batch-size", "99999999999999999999"], 2,
     "bad --batch-size 99999999999999999999: expected 1 to 65536"),
    (["--batch-size", "16x"], 2, "bad --batch-size 16x: expected 1 to 65536"),
    (["--threads", "99999999999999999999"], 2,
     "bad --threads 99999999999999999999: expected 0 (auto) to 1024"),
    (["--workers", "-5"], 2, "bad --workers -5: expected 0 to 256"),
    (["--threads", "-1"], 2, "bad --threads -1: expected 0 (auto) to 1024"),
    (["--threads", "100000"], 2, "bad --threads 100000: expected 0 (auto) to 1024"),
    (["--mode", "inference"], 2, "unknown mode 'inference'"),
    (["--size", "0x0"], 2, "bad size '0x0'"),
    (["--device", "cuda"], 2, "CPU-only"),
    (["--bogus-flag"], 2, "bogus-flag"),
])
def test_bad_command_line_values(args, code, fragment):
    result = torchprobe("run", model("resnet18_script"), "--layer", "conv1", *args, check=False)
    assert result.returncode == code, result.stderr
    assert fragment in result.stderr.splitlines()[0]
    assert result.stdout == ""


# ---- stimuli that cannot be found --------------------------------------------------------------

def test_list_file_naming_a_missing_image_exits_30_naming_it(tmp):
    (tmp / "list.txt").write_text("uniform:1\nmissing.png\n")
    result = torchprobe("run", model("tiny_gray_script"), "--layer", "conv1", "@list.txt",
                        check=False, cwd=tmp)
    assert result.returncode == 30, result.stderr
    assert result.stderr.splitlines()[0] == (
        "error: cannot use image 'missing.png': no such file (line 2 of 'list.txt')")


def test_empty_folder_stimulus_exits_30_naming_it(tmp):
    (tmp / "empty").mkdir()
    result = torchprobe("run", model("tiny_gray_script"), "--layer", "conv1", "empty",
                        check=False, cwd=tmp)
    assert result.returncode == 30, result.stderr
    assert result.stderr.splitlines()[0] == "error: directory 'empty' has no image files"


# ---- a forward that rejects the input ----------------------------------------------------------

# Models without torchprobe metadata (so torchprobe feeds its default: 3 channels), written by
# PyTorch: one that takes 1 channel, one whose Linear fixes the input size to 3x8x8.
MAKE_MODELS = """
import sys
import torch
import torch.nn as nn


class Gray(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv1(x)))


class Fixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 2, 3)
        self.fc = nn.Linear(2 * 6 * 6, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv1(x), 1))


torch.manual_seed(0)
torch.jit.save(torch.jit.script(Gray().eval()), sys.argv[1] + "/gray_no_metadata.pt")
torch.jit.save(torch.jit.trace(Fixed().eval(), torch.ones(1, 3, 8, 8)), sys.argv[1] + "/fixed_8x8.pt")
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    (folder / "make_models.py").write_text(MAKE_MODELS)
    subprocess.run([PYTHON, str(folder / "make_models.py"), str(folder)], check=True)
    return {name: str(folder / f"{name}.pt") for name in ("gray_no_metadata", "fixed_8x8")}


def forward_error(result, model_path):
    """The one error line (and a hint) of a failed forward; no TorchScript traceback."""
    assert result.returncode == 40, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(f"error: forward of model '{model_path}' failed on an input of shape ")
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in result.stderr and "<--- HERE" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [
    ["run", "--layer", "bn"],
    ["run", "--layer", "bn", "--no-crop"],
    ["verify", "--layer", "bn"],
    ["bn-check"],
])
def test_model_fed_another_number_of_channels_exits_40_naming_both(made, command):
    path = made["gray_no_metadata"]
    result = torchprobe(command[0], path, *command[1:], "noise:1@16x16", "--preprocess", "none",
                        check=False)
    error = forward_error(result, path)
    assert "shape [1, 3, 16, 16]: " in error
    assert "expected input[1, 3, 16, 16] to have 1 channels, but got 3 channels instead" in error
    assert error.endswith("it expects 1 channel(s) (first convolution 'conv1', weight [4, 1, 3, 3])")
    assert "--size" in result.stderr and "torchprobe layers" in result.stderr


@pytest.mark.parametrize("command", [["layers", "resnet18_script", "--input-size", "1x32x32"],
                                     ["extract", "resnet18_script", "--layer", "conv1",
                                      "--input-size", "1x32x32", "-o", "probe.pt"]])
def test_layers_and_extract_with_another_number_of_channels_exit_40(tmp, command):
    path = model(command[1])
    result = torchprobe(command[0], path, *command[2:], check=False, cwd=tmp)
    error = forward_error(result, path)
    assert "shape [1, 1, 32, 32]: " in error and "to have 3 channels, but got 1 channels" in error
    assert error.endswith("it expects input 3x224x224 (the model's metadata)")
    assert "--input-size" in result.stderr
    assert not any(tmp.iterdir())


@pytest.mark.parametrize("command", [
    ["run", "--layer", "conv1", "noise:1", "--size", "2x2"],
    ["run", "--layer", "conv1", "noise:1", "--size", "2x2", "--no-crop"],
    ["verify", "--layer", "conv2", "noise:1", "--size", "2x2"],
    ["layers", "--input-size", "1x2x2"],
    ["extract", "--layer", "conv2", "--input-size", "1x2x2", "-o", "probe.pt"],
])
def test_input_too_small_for_the_net_exits_40(tmp, command):
    path = model("tiny_gray_script")
    result = torchprobe(command[0], path, *command[1:], check=False, cwd=tmp)
    error = forward_error(result, path)
    assert "shape [1, 1, 2, 2]: " in error
    assert "Kernel size can't be greater than actual input size" in error
    assert error.endswith("it expects input 1x32x32 (the model's metadata)")
    assert not any(tmp.iterdir())


def test_model_with_a_fixed_input_size_exits_40(made):
    path = made["fixed_8x8"]
    common = ["run", path, "--layer", "fc", "noise:1", "--preprocess", "none"]
    assert torchprobe(*common, "--size", "8x8").returncode == 0
    result = torchprobe(*common, "--size", "16x16", check=False)
    error = forward_error(result, path)
    assert "shape [1, 3, 16, 16]: " in error and "mat1 and mat2 shapes cannot be multiplied" in error
    assert error.endswith("it expects 3 channel(s) (first convolution 'conv1', weight [2, 3, 3, 3])")


def test_stimuli_of_a_size_the_model_takes_run_although_the_default_size_fails(made):
    # The default input (224x224, no metadata) fails; every stimulus brings the size it needs.
    result = torchprobe("run", made["fixed_8x8"], "--layer", "fc", "noise:1@8x8", "noise:2@8x8",
                        "--preprocess", "none")
    assert result.returncode == 0 and result.stderr.splitlines()[-1].startswith("summary: 2 stimuli")
    # The crop plan is made for 8x8, the size used (not the failing default): fc is no map.
    assert "cropping not used: layer 'fc' is not a spatial map" in result.stderr


def test_output_to_unwritable_directory_fails_cleanly(tmp):
    result = torchprobe("run", model("tiny_gray_script"), "--layer", "conv1",
                        "-o", tmp / "missing" / "out.json", check=False)
    assert result.returncode == 50
    assert "cannot write output" in result.stderr
    assert not (tmp / "missing").exists()


def test_version_names_torchprobe_and_libtorch():
    out = torchprobe("--version").stdout
    assert "torchprobe" in out and "LibTorch" in out
