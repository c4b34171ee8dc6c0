"""Files named after stimulus ids (run --dump-inputs, render): one file per id, never shared,
and DIR/manifest.json saying which file holds which id (issue 16: 'a/b.jpg' and 'a_b.jpg' used to
be written as a_b.jpg.npy and a_b.jpg-2.npy, the first holding the other's input)."""
import json

import cv2
import numpy as np

from conftest import model, torchprobe
from stimuli_helpers import file_stem

# Ids that the old rule ('/' -> '_', then "-2" for a repeat) mapped onto one another.
COLLIDING = {"a/b.png": 0, "a_b.png": 255, "a%2Fb.png": 128}


def write_colliding_images(directory):
    """One uniform gray image per colliding id; its gray level identifies it."""
    (directory / "a").mkdir()
    for name, level in COLLIDING.items():
        assert cv2.imwrite(str(directory / name), np.full((8, 8), level, np.uint8))


def manifest(directory):
    return {f["id"]: f["file"] for f in json.loads((directory / "manifest.json").read_text())["files"]}


def test_dump_inputs_gives_each_id_its_own_file_and_lists_it(tmp):
    write_colliding_images(tmp)
    torchprobe("run", model("tiny_gray_script"), *COLLIDING, "-l", "conv1", "--preprocess", "none",
               "--dump-inputs", "inputs", "-o", "out.json", cwd=tmp)
    files = manifest(tmp / "inputs")
    assert sorted(files) == sorted(COLLIDING)
    assert len(set(files.values())) == len(COLLIDING)
    for stimulus_id, level in COLLIDING.items():
        assert files[stimulus_id] == f"{file_stem(stimulus_id)}.npy"
        pixels = np.load(tmp / "inputs" / files[stimulus_id])
        assert pixels.shape == (1, 1, 32, 32)
        np.testing.assert_array_equal(pixels, np.float32(level / 255))


def test_render_gives_each_id_its_own_file_and_lists_it(tmp):
    write_colliding_images(tmp)
    torchprobe("render", *COLLIDING, "--channels", "1", "--size", "8x8", "-o", "rendered", cwd=tmp)
    files = manifest(tmp / "rendered")
    assert len(set(files.values())) == len(COLLIDING)
    for stimulus_id, level in COLLIDING.items():
        assert files[stimulus_id] == f"{file_stem(stimulus_id)}.png"
        png = cv2.imread(str(tmp / "rendered" / files[stimulus_id]), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(png, np.uint16(level * 257))  # 16-bit: level / 255 * 65535


def test_a_failing_render_leaves_no_partial_output(tmp):
    write_colliding_images(tmp)
    (tmp / "cut.png").write_bytes((tmp / "a_b.png").read_bytes()[:20])
    result = torchprobe("render", "a_b.png", "cut.png", "-o", "rendered", check=False, cwd=tmp)
    assert result.returncode == 30, result.stderr
    assert not (tmp / "rendered").exists()
    (tmp / "kept").mkdir()
    (tmp / "kept" / "mine.txt").write_text("not torchprobe's")
    result = torchprobe("render", "a_b.png", "cut.png", "-o", "kept", check=False, cwd=tmp)
    assert result.returncode == 30
    assert sorted(p.name for p in (tmp / "kept").iterdir()) == ["mine.txt"]
