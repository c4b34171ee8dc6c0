"""Receptive-field cropping: on by default for point readouts, exact against --no-crop."""
import json

import numpy as np
import pytest

from conftest import SOURCE_DIR, compare, model, reference, torchprobe

CASES = [
    ("googlenet_script", ["conv1", "conv1.bn", "inception3a"], "center", "224x224"),
    ("googlenet_trace", ["conv2", "inception3a.branch2.1"], "center", "224x244"),
    ("resnet18_script", ["layer1.0.relu", "layer2.0.bn1"], "at:2,30", "224x244"),
    ("resnet18_trace", ["layer1.0.conv1"], "at:55,0", "224x224"),
    ("densenet121_script", ["features.denseblock1.denselayer1.conv1", "features.norm0"], "center", "224x224"),
    ("densenet121_trace", ["features.conv0"], "at:0,111", "224x224"),
]


# The hand-written test models (scripts/testmodels.py) and models/demo.pt, 32x32 / 64x64 inputs.
HANDWRITTEN_CASES = [
    ("tiny_gray_script", ["conv1", "conv2"], "center", "32x32"),
    ("tiny_gray_trace", ["conv1", "relu"], "at:3,20", "32x40"),
    ("functional_inplace_script", ["conv1", "bn1", "conv2", "relu"], "center", "32x32"),
    ("functional_inplace_trace", ["bn1", "relu"], "at:0,5", "32x48"),
    ("loop_module_list_script", ["blocks.0", "blocks.2.bn", "shared"], "center", "32x32"),
    ("loop_module_list_trace", ["stem", "blocks.1.conv"], "at:30,1", "36x32"),
    ("loop_shared_script", ["shared", "head"], "center", "48x40"),
    ("untaken_branch_trace", ["body", "head"], "center", "40x32"),  # the branch fixed by tracing
    ("tuple_output_script", ["stem", "split", "head"], "center", "32x32"),
    ("tuple_output_trace", ["split.a", "split.b"], "at:31,31", "32x32"),
    ("demo", ["stem", "stem.bn", "block1", "mixed"], "center", "64x64"),
    ("demo", ["stem.conv", "mixed.branch2.1"], "at:1,18", "64x80"),
]


def path_of(name):
    return str(SOURCE_DIR / "models" / "demo.pt") if name == "demo" else model(name)


def probe(tmp, name, layers, readout, size, *extra):
    out = tmp / f"out{len(extra)}.json"
    args = ["run", path_of(name), "noise:4", "uniform:0.3", "--readout", readout, "--size", size,
            "-o", out, *extra]
    for layer in layers:
        args += ["--layer", layer]
    result = torchprobe(*args)
    return json.loads(out.read_text()), result.stderr


@pytest.mark.parametrize("name,layers,readout,size", CASES + HANDWRITTEN_CASES)
def test_cropped_equals_uncropped(tmp, name, layers, readout, size):
    cropped, _ = probe(tmp, name, layers, readout, size)
    full, _ = probe(tmp, name, layers, readout, size, "--no-crop")
    assert cropped["crop"]["used"] is True, cropped["crop"]
    h, w = map(int, size.split("x"))
    box = cropped["crop"]["box"]
    assert box[2] * box[3] < h * w
    assert full["crop"]["used"] is False
    for a, b in zip(cropped["stimuli"], full["stimuli"]):
        assert a["responses"].keys() == b["responses"].keys()
        for key in a["responses"]:
            ra, rb = a["responses"][key], b["responses"][key]
            assert ra["shape"] == rb["shape"] and ra["index"] == rb["index"]
            va, vb = np.array(ra["values"]), np.array(rb["values"])
            assert np.max(np.abs(va - vb)) <= 1e-5 * max(1.0, np.max(np.abs(vb))), key


def test_whole_input_layers_fall_back_and_say_so(tmp):
    doc, stderr = probe(tmp, "googlenet_script", ["inception4e"], "center", "224x224")
    assert doc["crop"]["used"] is False
    assert "receptive field covers most of the input" in doc["crop"]["reason"]
    assert stderr.count("cropping not used") == 1


def test_mean_readout_is_not_cropped(tmp):
    doc, stderr = probe(tmp, "resnet18_script", ["layer1.0.conv1"], "mean", "224x224")
    assert doc["crop"]["used"] is False and "not a point readout" in doc["crop"]["reason"]
    assert "cropping" not in stderr


def assert_same_responses(a_doc, b_doc):
    for a, b in zip(a_doc["stimuli"], b_doc["stimuli"], strict=True):
        assert a["responses"] == b["responses"]


@pytest.mark.parametrize("name,layers,reason", [
    # track_running_stats=False: normalised with the batch's statistics over the whole map
    ("bn_variants_script", ["conv", "bn_batch_stats"], "the receptive field covers most of the input: the units depend on pixels outside the 13x13 box around them (of 16x16)"),
    # BatchNorm1d on the flattened map (N, C, H*W)
    ("bn_variants_trace", ["bn1d_seq"], "layer 'bn1d_seq' is not a spatial map"),
    # the only layer asked for sits in an untaken branch
    ("untaken_branch_trace", ["never"], "nothing is captured"),
])
def test_handwritten_models_that_cannot_be_cropped_say_why(tmp, name, layers, reason):
    size = {"bn_variants": "16x16", "untaken_branch": "32x32"}[name.rsplit("_", 1)[0]]
    doc, stderr = probe(tmp, name, layers, "center", size)
    assert doc["crop"]["used"] is False and doc["crop"]["reason"] == reason
    assert stderr.count("cropping not used") == 1 and reason in stderr
    full, _ = probe(tmp, name, layers, "center", size, "--no-crop")
    assert_same_responses(doc, full)


def test_cropped_and_full_disagreeing_falls_back_and_gives_the_reference_numbers(tmp):
    # coord_conv concatenates coordinate channels computed from the input's size (CoordConv): each
    # unit sees a 5x5 box, so the NaN box search passes, but a crop changes the coordinates and so
    # the values. Only the exactness check catches it; the run then uses the full input.
    layers = ["conv1", "conv2"]
    doc, stderr = probe(tmp, "coord_conv_script", layers, "center", "32x32")
    assert doc["crop"]["used"] is False
    assert doc["crop"]["reason"].startswith("layer 'conv1': cropped and full responses differ (")
    lines = [line for line in stderr.splitlines() if "cropping not used" in line]
    assert len(lines) == 1 and "cropped and full responses differ" in lines[0]
    full, _ = probe(tmp, "coord_conv_script", layers, "center", "32x32", "--no-crop")
    assert_same_responses(doc, full)
    # and those are PyTorch's numbers (its hooks on the eager CoordConv, on the full input)
    ours = tmp / "ours.json"
    args = ["run", model("coord_conv_script"), "noise:4", "--preprocess", "none", "--threads", "1",
            "-o", ours]
    for layer in layers:
        args += ["--layer", layer]
    torchprobe(*args)
    assert json.loads(ours.read_text())["crop"]["used"] is False
    ref = reference(model("coord_conv_script"), layers, ["noise:4"], tmp / "ref.json")
    ok, report = compare(ours, tmp / "ref.json")
    assert ok, report


def test_a_forward_that_branches_on_input_values_is_not_cropped(tmp):
    # untaken_branch (scripted) runs `if x.sum() > 1e30:`: a crop sums fewer pixels, so it could
    # take another branch than the full input; the exactness check's test inputs would not notice.
    doc, stderr = probe(tmp, "untaken_branch_script", ["body", "head"], "center", "40x32")
    assert doc["crop"]["used"] is False
    assert doc["crop"]["reason"].startswith("the forward branches on the input's values (")
    assert stderr.count("cropping not used") == 1


@pytest.mark.parametrize("fit", ["stretch", "crop"])
def test_image_files_prepared_as_the_crop_box_equal_the_full_input(tmp, fit):
    # A cropped run prepares only the crop box of each image (resizing and normalising a few
    # pixels): the responses must be those of the whole prepared input, for images larger and
    # smaller than the input, non-square, colour and gray, in a batch with a synthetic stimulus.
    import cv2
    rng = np.random.RandomState(7)
    images = []
    for i, shape in enumerate([(256, 256, 3), (97, 150, 3), (300, 180), (224, 224, 3)]):
        path = tmp / f"img{i}.{'png' if i % 2 else 'jpg'}"
        assert cv2.imwrite(str(path), rng.randint(0, 256, shape, dtype=np.uint8))
        images.append(str(path))
    layers = ["inception3a.branch1", "inception3a.branch3.1"]

    def run(*extra):
        out = tmp / f"images{len(extra)}.json"
        args = ["run", model("googlenet_script"), *images, "noise:2", "--readout", "at:10,20",
                "--size", "200x232", "--fit", fit, "--preprocess", "imagenet", "--batch-size", "3",
                "-o", out, *extra]
        for layer in layers:
            args += ["--layer", layer]
        torchprobe(*args)
        return json.loads(out.read_text())

    cropped, full = run(), run("--no-crop")
    assert cropped["crop"]["used"] is True, cropped["crop"]
    box = cropped["crop"]["box"]
    assert box[2] * box[3] * 4 < 200 * 232, box
    for a, b in zip(cropped["stimuli"], full["stimuli"], strict=True):
        assert a["id"] == b["id"] and a.get("sha256") == b.get("sha256")
        assert a["input_shape"] == b["input_shape"] == [1, 3, 200, 232]
        for key in layers:
            va, vb = np.array(a["responses"][key]["values"]), np.array(b["responses"][key]["values"])
            assert a["responses"][key]["index"] == b["responses"][key]["index"]
            assert np.max(np.abs(va - vb)) <= 1e-5 * max(1.0, np.max(np.abs(vb))), key


def test_the_header_records_the_crop_plan_of_each_input_size_used(tmp):
    # Every stimulus 40x48, none at the default 32x32: "crop" describes 40x48 (issue 16: it
    # described the default size, which no stimulus used).
    out = tmp / "sized.json"
    torchprobe("run", model("tiny_gray_script"), "noise:1@40x48", "noise:2@40x48", "-l", "conv1",
               "-o", out)
    header = json.loads(out.read_text())
    assert header["crop"]["input_size"] == [40, 48]
    assert [p["input_size"] for p in header["crop_plans"]] == [[40, 48]]
    # Two sizes: one plan each, in order of first use, each with its own box.
    torchprobe("run", model("tiny_gray_script"), "noise:1@40x48", "noise:2", "noise:3@40x48",
               "-l", "conv1", "-o", out, "--force")
    plans = json.loads(out.read_text())["crop_plans"]
    assert [p["input_size"] for p in plans] == [[40, 48], [32, 32]]
    assert all(p["used"] for p in plans)
    # conv1 (3x3, stride 1) at the centre of H x W: the 3x3 box around (H//2, W//2).
    assert [p["box"] for p in plans] == [[19, 23, 3, 3], [15, 15, 3, 3]]


def test_no_truncate_does_not_crop_and_does_not_warn(tmp):
    # densenet's whole forward cannot run on a crop; it used to warn with the forward error's
    # hints about channels the input had.
    out = tmp / "whole.json"
    result = torchprobe("run", model("densenet121_script"), "noise:1", "-l", "features.conv0",
                        "--no-truncate", "-o", out)
    assert "warning" not in result.stderr, result.stderr
    crop = json.loads(out.read_text())["crop"]
    assert crop["used"] is False and "not truncated" in crop["reason"]
