"""The model input torchprobe builds from images and synthetic stimuli, against an independent
numpy implementation of the documented rules (tests/reference/preprocess_reference.py).

Bounds (README "Preprocessing"): pixels are computed in double and rounded once to float32 on
both sides, and the normalisation is the same float32 arithmetic, so the inputs agree exactly in
practice; the tests allow 1e-6 for stretch and for crop (measured: 0 for both). Crop geometry is
also checked against torchvision's own Resize(round(S/0.875)) + CenterCrop(S) on float tensors
(antialias=False), which interpolates in float32: bound 1e-5 (measured about 3e-6).
"""
import hashlib

import cv2
import numpy as np
import pytest

from conftest import torchprobe
from stimuli_helpers import (GOOD, GRAY_MODEL, RGB_MODEL, dump_inputs, file_stem,  # noqa: F401
                             images, max_abs_diff, reference, render_npy)

STRETCH_BOUND = 1e-6
CROP_BOUND = 1e-6
TORCHVISION_CROP_BOUND = 1e-5
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


@pytest.mark.parametrize("size", ["32x32", "24x40", "200x224"])
@pytest.mark.parametrize("fit", ["stretch", "crop"])
@pytest.mark.parametrize("model_name,channels,norm", [
    (RGB_MODEL, 3, ["--preprocess", "imagenet"]),
    (GRAY_MODEL, 1, ["--mean", "0.2", "--std", "0.3"]),
])
def test_image_inputs_match_numpy_reference(tmp, images, model_name, channels, norm, fit, size):
    h, w = (int(v) for v in size.split("x"))
    paths = [images[name] for name in GOOD]
    arrays, _ = dump_inputs(tmp, model_name, paths, "--fit", fit, "--size", size, *norm)
    mean, std = IMAGENET if channels == 3 else ([0.2], [0.3])
    bound = STRETCH_BOUND if fit == "stretch" else CROP_BOUND
    for path in paths:
        ours = arrays[path]
        assert ours.shape == (1, channels, h, w) and ours.dtype == np.float32
        ref = reference.model_input(path, (h, w), channels, fit, 0.875, mean, std)
        assert max_abs_diff(ours, ref) <= bound, path


@pytest.mark.parametrize("side", [32, 224])
def test_crop_is_torchvisions_resize_and_center_crop(tmp, images, side):
    import torch
    import torchvision.transforms as T
    transform = T.Compose([
        T.Resize(round(side / 0.875), interpolation=T.InterpolationMode.BILINEAR, antialias=False),
        T.CenterCrop(side)])
    paths = [images[name] for name in GOOD]
    out = tmp / "render"
    torchprobe("render", *paths, "--fit", "crop", "--size", f"{side}x{side}", "--npy", "-o", out)
    for name in GOOD:
        pixels = reference.to_channels(reference.to_unit_float(reference.decode(images[name])), 3)
        theirs = transform(torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))).float())
        ours = np.load(out / f"{file_stem(images[name])}.npy")
        assert max_abs_diff(ours, theirs.numpy()) <= TORCHVISION_CROP_BOUND, name


SYNTHETIC = [
    "grating:",
    "grating:ori=30,sf=3.5,phase=90,contrast=0.5,mean=0.4@20x36",
    "grating:ori=135,sf=2@33x17",
    "grating:ori=-20,sf=12,phase=45,contrast=1.5,mean=0.6@40x40",
    "noise:7,dist=normal@16x24",
    "noise:123@9x11",
    "uniform:0.3@5x7",
]


def test_synthetic_pixels_match_numpy_formulas(tmp):
    rendered = render_npy(tmp / "render", *SYNTHETIC, "--size", "24x24")
    for spec, ours in zip(SYNTHETIC, rendered):
        ref = reference.synthetic_pixels(spec, 3, (24, 24)).astype(np.float32)
        assert max_abs_diff(ours, ref) <= 1e-6, spec


def test_synthetic_inputs_are_normalised_like_images(tmp):
    arrays, result = dump_inputs(tmp, RGB_MODEL, SYNTHETIC, "--preprocess", "imagenet")
    for record in result["stimuli"]:
        assert record["id"] in arrays
    for spec, ours in zip(SYNTHETIC, arrays.values()):
        ref = reference.model_input(spec, (32, 32), 3, mean=IMAGENET[0], std=IMAGENET[1])
        assert max_abs_diff(ours, ref) <= 1e-6, spec


def test_grating_orientation_convention(tmp):
    specs = ["grating:ori=0@16x16", "grating:ori=90@16x16", "grating:ori=45@16x16"]
    vertical, horizontal, diagonal = (a[0] for a in render_npy(tmp / "render", *specs))
    assert np.allclose(vertical, vertical[:1, :], atol=1e-7)      # ori=0: vertical stripes
    assert np.allclose(horizontal, horizontal[:, :1], atol=1e-7)  # ori=90: horizontal stripes
    # ori=45: stripes run from top-left to bottom-right
    assert np.allclose(diagonal[1:, 1:], diagonal[:-1, :-1], atol=1e-6)
    assert not np.allclose(diagonal[1:, :-1], diagonal[:-1, 1:], atol=1e-3)


def test_uniform_one_without_preprocessing_feeds_exactly_ones(tmp):
    arrays, result = dump_inputs(tmp, RGB_MODEL, ["uniform:1@224x244"], "--preprocess", "none")
    x = arrays["uniform:1@224x244"]
    assert x.shape == (1, 3, 224, 244) and x.dtype == np.float32
    assert np.array_equal(x, np.ones((1, 3, 224, 244), dtype=np.float32))
    assert result["stimuli"][0]["input_shape"] == [1, 3, 224, 244]


def test_exif_orientation_is_ignored(tmp, images):
    path = images["rotated.jpg"]  # 20 x 30 as stored, EXIF says "rotate 90 CW"
    arrays, _ = dump_inputs(tmp, RGB_MODEL, [path], "--size", "20x30", "--fit", "stretch",
                            "--preprocess", "none")
    stored = cv2.imread(path, cv2.IMREAD_UNCHANGED)[:, :, ::-1].transpose(2, 0, 1) / 255.0
    assert max_abs_diff(arrays[path][0], stored) <= 1e-7


def test_header_records_the_preprocessing_applied(tmp, images):
    _, result = dump_inputs(tmp, RGB_MODEL, [images["rgb.png"]])
    assert result["preprocess"] == {
        "name": "model", "size": [32, 32], "channels": 3, "fit": "crop", "crop_pct": 0.875,
        "interpolation": "bilinear", "scale": "8-bit/255, 16-bit/65535",
        "mean": IMAGENET[0], "std": IMAGENET[1]}
    _, result = dump_inputs(tmp, GRAY_MODEL, [images["rgb.png"]], "--fit", "stretch",
                            "--size", "20x28", "--mean", "0.5", "--std", "0.25")
    pre = result["preprocess"]
    assert (pre["name"], pre["fit"], pre["size"], pre["channels"]) == ("custom", "stretch", [20, 28], 1)
    assert (pre["mean"], pre["std"]) == ([0.5], [0.25])
    assert "crop_pct" not in pre


def test_file_records_carry_id_and_sha256(tmp, images):
    _, result = dump_inputs(tmp, RGB_MODEL, [images["rgb.jpg"], "noise:1"])
    first, second = result["stimuli"]
    with open(images["rgb.jpg"], "rb") as f:
        assert first["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert first["id"] == images["rgb.jpg"]
    assert second["id"] == "noise:1" and "sha256" not in second
