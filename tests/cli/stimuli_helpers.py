"""Shared by the tests/cli/test_stimuli_*.py files: generated images, the numpy reference and
.npy dumps of torchprobe's inputs."""
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SOURCE_DIR, model, torchprobe

sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "fixtures"))

import make_images  # noqa: E402
import preprocess_reference as reference  # noqa: E402

RGB_MODEL = "functional_inplace_script"  # 3 x 32 x 32, metadata: ImageNet mean/std, fit crop
GRAY_MODEL = "tiny_gray_script"          # 1 x 32 x 32
GOOD = ["rgb.jpg", "rgb.png", "gray.png", "gray.jpg", "rgba.png", "rgb16.png", "gray16.png",
        "double.png", "tiny.bmp", "wide.png", "progressive.jpg", "trailing.jpg"]
BAD = {  # file -> fragment of the message
    "truncated.jpg": "truncated JPEG",
    "truncated.png": "truncated PNG",
    "empty.png": "the file is empty (0 bytes)",
    "text.png": "not an image",
    "anim.gif": "unsupported image format GIF",
}


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """{name: path} of tests/fixtures/make_images.py's files, made once per session."""
    return make_images.make_images(tmp_path_factory.mktemp("images"))


def file_stem(stimulus_id):
    """The documented file name of a stimulus id (render, --dump-inputs; README "Stimuli"): every
    byte outside [A-Za-z0-9._,=+@-], and a leading '.', as %XX (upper-case hex); ids whose name
    would pass 200 bytes are not used by the tests."""
    stem = "".join(chr(b) if re.fullmatch(r"[A-Za-z0-9._,=+@-]", chr(b)) and not (i == 0 and b == 46)
                   else f"%{b:02X}" for i, b in enumerate(stimulus_id.encode()))
    assert len(stem) <= 200, stimulus_id
    return stem or "%"


def dump_inputs(tmp, model_name, stimuli, *args):
    """Runs `torchprobe run --dump-inputs` and returns ({id: input array}, output JSON)."""
    out_dir = tmp / "inputs"
    out = tmp / "out.json"
    torchprobe("run", model(model_name), "--layer", "conv1", *stimuli, *args,
               "--dump-inputs", out_dir, "-o", out, "--force")
    result = json.loads(out.read_text())
    files = {f["id"]: f["file"] for f in json.loads((out_dir / "manifest.json").read_text())["files"]}
    arrays = {}
    for record in result["stimuli"]:
        assert files[record["id"]] == f"{file_stem(record['id'])}.npy"
        arrays[record["id"]] = np.load(out_dir / files[record["id"]])
    return arrays, result


def render_npy(out_dir, *args):
    """Runs `torchprobe render ARGS --npy -o OUT_DIR`; returns the .npy arrays in stimulus order
    (render prints one PNG path per stimulus)."""
    result = torchprobe("render", *args, "--npy", "-o", out_dir)
    return [np.load(Path(line).with_suffix(".npy")) for line in result.stdout.splitlines()]


def max_abs_diff(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


__all__ = ["BAD", "GOOD", "GRAY_MODEL", "RGB_MODEL", "dump_inputs", "file_stem", "images",
           "max_abs_diff", "reference", "render_npy"]
