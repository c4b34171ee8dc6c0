"""`torchprobe check`: re-running a golden file's probe on an unchanged model, a model with
perturbed weights (written by scripts/perturb_model.py), and with changed or missing stimuli.
"""
import json
import os
import shutil
import subprocess

import cv2
import numpy as np
import pytest

from conftest import BIN, PYTHON, SOURCE_DIR, model, torchprobe

PERTURB = SOURCE_DIR / "scripts" / "perturb_model.py"
LAYERS = ["layer1.0.relu", "layer3.0.downsample.1", "fc"]
RESPONSES = ["layer1.0.relu#0", "layer1.0.relu#1", "layer3.0.downsample.1", "fc"]  # relu: 2 calls


def perturb(source, out, *args):
    result = subprocess.run([PYTHON, str(PERTURB), source, "-o", str(out), *args],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


def write_image(path, seed):
    pixels = np.random.RandomState(seed).randint(0, 256, (40, 50, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), pixels)
    return path


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """A golden file of resnet18_script with a relative image path, two sizes of synthetic
    stimulus and the model's own preprocessing; returns its directory."""
    directory = tmp_path_factory.mktemp("check")
    write_image(directory / "cat.png", 0)
    args = ["run", model("resnet18_script"), "noise:1", "cat.png", "uniform:0.5@64x80",
            "-o", "golden.json"]
    for layer in LAYERS:
        args += ["--layer", layer]
    torchprobe(*args, cwd=directory)
    return directory


def check(golden_file, model_path, *extra, cwd=None):
    return torchprobe("check", model_path, "--golden", golden_file, *extra, check=False, cwd=cwd)


def test_unchanged_model_passes(golden):
    result = check(golden / "golden.json", model("resnet18_script"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "result: same: 12 responses of 3 stimuli within tolerance (max abs error 0)" \
        in result.stdout


def test_unchanged_model_passes_from_another_directory_and_as_jsonl(golden, tmp):
    doc = json.loads((golden / "golden.json").read_text())
    header = {k: v for k, v in doc.items() if k != "stimuli"}
    lines = golden / "golden.jsonl"
    lines.write_text("".join(json.dumps(x) + "\n" for x in [header, *doc["stimuli"]]))
    # the image id 'cat.png' is found next to the golden file
    result = check(lines, model("resnet18_script"), cwd=tmp)
    assert result.returncode == 0, result.stdout + result.stderr


def test_perturbed_weights_fail_and_the_report_says_where(golden, tmp):
    bad = perturb(model("resnet18_script"), tmp / "bad.pt")  # conv1.weight[0] += 1e-2
    result = check(golden / "golden.json", bad)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "result: DIFFERENT" in result.stdout
    assert "note: model.sha256 differs" in result.stdout
    for name in RESPONSES:
        assert f"stimulus 'noise:1' layer '{name}': " in result.stdout, result.stdout


def test_a_deep_perturbation_leaves_earlier_layers_alone(golden, tmp):
    bad = perturb(model("resnet18_script"), tmp / "bad.pt", "--param", "layer3.0.conv1.weight",
                  "--index", "all")
    result = check(golden / "golden.json", bad, "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    layers = {l["layer"]: l for l in report["layers"]}
    assert layers["layer1.0.relu#0"]["responses_different"] == 0
    assert layers["layer1.0.relu#1"]["responses_different"] == 0
    assert layers["layer3.0.downsample.1"]["responses_different"] == 0  # not after layer3.0.conv1
    assert layers["fc"]["responses_different"] == 3
    assert {d["layer"] for d in report["differences"]} == {"fc"}


def test_tolerance_options_apply(golden, tmp):
    bad = perturb(model("resnet18_script"), tmp / "bad.pt", "--delta", "1e-6")
    assert check(golden / "golden.json", bad).returncode == 1
    assert check(golden / "golden.json", bad, "--atol", "1e-3", "--rtol", "1e-3").returncode == 0


def test_output_option_writes_the_new_responses(golden, tmp):
    result = check(golden / "golden.json", model("resnet18_script"), "-o", tmp / "new.json")
    assert result.returncode == 0, result.stderr
    assert torchprobe("diff", golden / "golden.json", tmp / "new.json", check=False).returncode == 0


@pytest.mark.parametrize("crop_flag", [[], ["--no-crop"]], ids=["cropped", "no-crop"])
def test_the_recorded_crop_setting_is_replayed(tmp, crop_flag):
    golden_file = tmp / "golden.json"
    torchprobe("run", model("resnet18_script"), "noise:2", "--layer", "layer1.0.conv1",
               "-o", golden_file, *crop_flag)
    recorded = json.loads(golden_file.read_text())["crop"]["used"]
    assert recorded is (not crop_flag)
    result = check(golden_file, model("resnet18_script"), "-o", tmp / "new.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp / "new.json").read_text())["crop"]["used"] is recorded


@pytest.mark.parametrize("recorded", [True, False, None], ids=["channels-last", "contiguous", "absent"])
def test_the_recorded_layout_is_replayed(tmp, recorded):
    # A golden file from before channels-last computing has no "channels_last": it was contiguous.
    golden_file = tmp / "golden.json"
    torchprobe("run", model("resnet18_script"), "noise:2", "--layer", "layer2.0.bn1", "-o", golden_file,
               *([] if recorded else ["--no-channels-last"]))
    doc = json.loads(golden_file.read_text())
    assert doc["channels_last"] is bool(recorded)
    if recorded is None:
        del doc["channels_last"]
        golden_file.write_text(json.dumps(doc))
    result = check(golden_file, model("resnet18_script"), "-o", tmp / "new.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp / "new.json").read_text())["channels_last"] is bool(recorded)


def test_a_changed_stimulus_file_is_not_a_model_regression(golden, tmp):
    directory = tmp / "copy"
    shutil.copytree(golden, directory)
    write_image(directory / "cat.png", 1)
    result = check(directory / "golden.json", model("resnet18_script"), cwd=directory)
    assert result.returncode == 30, result.stdout + result.stderr
    assert result.stderr.startswith(
        f"error: 1 stimulus file changed since golden file '{directory / 'golden.json'}' was "
        "written: 'cat.png' (sha256 ")
    assert "the model was not checked (a changed stimulus is not a model regression)" \
        in result.stderr
    assert "hint: restore the stimulus files" in result.stderr
    assert result.stdout == ""


def test_a_missing_stimulus_file_and_stimulus_root(golden, tmp):
    shutil.copy(golden / "golden.json", tmp / "golden.json")
    result = check(tmp / "golden.json", model("resnet18_script"), cwd=tmp)
    assert result.returncode == 30
    assert "1 stimulus file of golden file" in result.stderr and "not found: 'cat.png'" \
        in result.stderr
    assert "hint: relative ids are looked up in --stimulus-root DIR" in result.stderr
    result = check(tmp / "golden.json", model("resnet18_script"), "--stimulus-root", golden,
                   cwd=tmp)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unreadable_golden_exits_60(tmp):
    (tmp / "golden.json").write_text('{"torchprobe": {"version": "0.1.0"}, "stimuli": [')
    result = check(tmp / "golden.json", model("resnet18_script"))
    assert result.returncode == 60
    assert result.stderr.startswith(f"error: cannot read results '{tmp / 'golden.json'}': ")
    (tmp / "golden.json").write_text('{"torchprobe": {"version": "0.1.0"}, "stimuli": []}')
    result = check(tmp / "golden.json", model("resnet18_script"))
    assert result.returncode == 60
    assert "its header has no \"layers\" list" in result.stderr
    (tmp / "golden.json").write_text('{"torchprobe": {"version": "0.1.0"}, "layers": ["fc"], '
                                     '"truncated": "yes", "stimuli": []}')
    result = check(tmp / "golden.json", model("resnet18_script"))
    assert result.returncode == 60
    assert 'its header field "truncated" is "yes"' in result.stderr


def test_a_layer_the_new_model_lacks_is_an_unknown_layer(golden):
    result = check(golden / "golden.json", model("googlenet_script"))
    assert result.returncode == 20
    assert "unknown layer 'layer1.0.relu'" in result.stderr


CI_SCRIPT = SOURCE_DIR / "scripts" / "ci" / "check-model.sh"


def ci_step(model_path, tmp):
    """scripts/ci/check-model.sh on `model_path` (the export step skipped: the test model has the
    weights `export_model.py resnet18` gives) against the committed golden file."""
    env = {**os.environ, "MODEL": str(model_path), "TORCHPROBE": BIN, "PYTHON": PYTHON,
           "WORK": str(tmp)}
    return subprocess.run(["bash", str(CI_SCRIPT)], capture_output=True, text=True, env=env)


def test_ci_example_passes_on_the_exported_model(tmp):
    result = ci_step(model("resnet18_script"), tmp)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== OK: resnet18 responds as" in result.stdout


def test_ci_example_prints_the_table_on_failure(tmp):
    bad = perturb(model("resnet18_script"), tmp / "bad.pt", "--param", "layer4.0.conv1.weight",
                  "--index", "all")
    result = ci_step(bad, tmp)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "layer                  stimuli  differ" in result.stdout
    assert "stimulus 'noise:1' layer 'layer4': " in result.stdout
    assert "== FAILED: resnet18's layer responses changed" in result.stderr
    assert (tmp / "responses.json").exists()


STRIP_METADATA = r"""
import sys, torch
torch.jit.save(torch.jit.load(sys.argv[1]), sys.argv[2])   # no _extra_files: no torchprobe.json
"""


def test_a_golden_replays_its_recorded_preprocessing_on_a_model_without_metadata(tmp):
    # tiny_gray's metadata: 1 channel, 32x32, its own mean/std. The same weights saved without
    # metadata must pass: the golden's numbers are replayed, not '--preprocess model' asked of
    # a model that has none (issue 16: an option the user never typed).
    torchprobe("run", model("tiny_gray_script"), "noise:1", "noise:2", "-l", "conv2",
               "-o", tmp / "golden.json")
    bare = tmp / "bare.pt"
    subprocess.run([PYTHON, "-c", STRIP_METADATA, model("tiny_gray_script"), str(bare)], check=True)
    result = check(tmp / "golden.json", bare, "-o", tmp / "rerun.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--preprocess" not in result.stderr
    recorded = json.loads((tmp / "golden.json").read_text())["preprocess"]
    replayed = json.loads((tmp / "rerun.json").read_text())["preprocess"]
    for key in ("channels", "mean", "std", "size", "fit", "crop_pct"):
        assert replayed[key] == recorded[key], key


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to run torchprobe as 'nobody' (root reads any file)")
def test_an_unreadable_golden_stimulus_is_a_stimulus_error(tmp_path_factory):
    # A directory 'nobody' can enter (pytest's tmp_path is private to root).
    directory = tmp_path_factory.mktemp("unreadable")
    os.chmod(directory.parent, 0o755)
    os.chmod(directory, 0o777)
    shutil.copy(model("tiny_gray_script"), directory / "model.pt")
    write_image(directory / "img.png", 1)
    torchprobe("run", "model.pt", "img.png", "-l", "conv1", "-o", "golden.json", cwd=directory)
    os.chmod(directory / "img.png", 0)
    result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                             BIN, "check", "model.pt", "-g", "golden.json"],
                            capture_output=True, text=True, cwd=directory)
    assert result.returncode == 30, result.stderr
    assert "cannot read stimulus" in result.stderr and "img.png" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("field, value, fragment", [
    ("size", [200000, 200000], "too large"), ("fit", "zzz", "bad fit 'zzz'"),
    ("channels", 7, "channels 7")])
def test_a_golden_header_with_impossible_preprocessing_is_exit_60(tmp, field, value, fragment):
    torchprobe("run", model("tiny_gray_script"), "noise:1", "-l", "conv1", "-o", tmp / "g.json")
    doc = json.loads((tmp / "g.json").read_text())
    doc["preprocess"][field] = value
    (tmp / "g.json").write_text(json.dumps(doc))
    result = check(tmp / "g.json", model("tiny_gray_script"))
    assert result.returncode == 60, result.stderr
    assert "g.json" in result.stderr and fragment in result.stderr
