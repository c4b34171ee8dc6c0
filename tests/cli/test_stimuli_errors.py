"""Every kind of unusable image is refused with exit code 30 and a message naming the file, in
`run` and in `render`; bad stimulus specs and options have their documented codes too."""
import pytest

from conftest import model, torchprobe
from stimuli_helpers import BAD, RGB_MODEL, images  # noqa: F401

STIMULUS_ERROR = 30
USAGE = 2


def command(name, tmp, *stimuli):
    if name == "run":
        return ["run", model(RGB_MODEL), "--layer", "conv1", *stimuli, "-o", tmp / "out.json"]
    return ["render", *stimuli, "-o", tmp / "render"]


@pytest.mark.parametrize("cmd", ["run", "render"])
@pytest.mark.parametrize("bad,fragment", sorted(BAD.items()))
def test_bad_image_exits_30_naming_the_file(tmp, images, cmd, bad, fragment):
    path = images[bad]
    result = torchprobe(*command(cmd, tmp, images["rgb.png"], path), check=False)
    assert result.returncode == STIMULUS_ERROR, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: cannot use image '{path}': "), first
    assert fragment in first, first
    assert not (tmp / "out.json").exists()


def test_truncated_jpeg_is_refused_although_opencv_decodes_it(images):
    import cv2
    assert cv2.imread(images["truncated.jpg"], cv2.IMREAD_UNCHANGED) is not None


def test_truncated_jpeg_hint_says_it_was_cut_short(tmp, images):
    result = torchprobe(*command("render", tmp, images["truncated.jpg"]), check=False)
    assert "hint: the file was probably cut short" in result.stderr


@pytest.mark.parametrize("cmd", ["run", "render"])
@pytest.mark.parametrize("stimulus,fragment", [
    ("missing.png", "cannot use image 'missing.png': no such file"),
    ("@missing.txt", "cannot read stimulus list 'missing.txt': no such file"),
    ("grating:ori=x", "bad stimulus 'grating:ori=x'"),
    ("noise:1,dist=cauchy", "unknown noise distribution 'cauchy'"),
])
def test_bad_stimulus_specs_exit_30(tmp, cmd, stimulus, fragment):
    result = torchprobe(*command(cmd, tmp, stimulus), check=False, cwd=tmp)
    assert result.returncode == STIMULUS_ERROR, result.stderr
    assert fragment in result.stderr.splitlines()[0]


def test_bad_sweep_exits_30(tmp):
    result = torchprobe(*command("render", tmp), "--sweep", "grating:ori=0:0:15", check=False)
    assert result.returncode == STIMULUS_ERROR
    assert "bad sweep 'grating:ori=0:0:15'" in result.stderr and "gives no values" in result.stderr


@pytest.mark.parametrize("args,fragment", [
    (["--fit", "pad"], "bad fit 'pad'"),
    (["--mean", "0.1,0.2"], "bad --mean: 2 values"),
    (["--mean", "0.1,x"], "bad --mean '0.1,x'"),
    (["--std", "0"], "std values must be positive"),
    (["--preprocess", "imagenet", "--mean", "0.5"], "cannot be combined with --preprocess"),
])
def test_bad_preprocessing_options_exit_2(tmp, args, fragment):
    result = torchprobe(*command("run", tmp, "noise:1"), *args, check=False)
    assert result.returncode == USAGE, result.stderr
    assert fragment in result.stderr


def test_range_outside_sweep_hints_at_sweep(tmp):
    result = torchprobe(*command("render", tmp, "grating:ori=0:180:15"), check=False)
    assert result.returncode == STIMULUS_ERROR
    assert "hint: ranges (START:STOP:STEP) and lists (A|B) need --sweep" in result.stderr


def header_bombs(tmp):
    """Small valid JPEG and PNG files whose headers are patched to declare 40000x20000 pixels
    (800M: gigabytes once decoded), as the image fuzzer found with a 202-byte JPEG."""
    import struct
    import cv2
    import numpy as np
    pixels = np.zeros((8, 8, 3), np.uint8)
    ok, jpeg = cv2.imencode(".jpg", pixels)
    jpeg = bytearray(jpeg.tobytes())
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 20000, 40000)  # height, width
    ok, png = cv2.imencode(".png", pixels)
    png = bytearray(png.tobytes())
    png[16:24] = struct.pack(">II", 40000, 20000)  # width, height
    (tmp / "bomb.jpg").write_bytes(bytes(jpeg))
    (tmp / "bomb.png").write_bytes(bytes(png))
    return [tmp / "bomb.jpg", tmp / "bomb.png"]


@pytest.mark.parametrize("cmd", ["run", "render"])
def test_an_image_declaring_billions_of_bytes_is_refused_before_decoding(tmp, cmd):
    for path in header_bombs(tmp):
        result = torchprobe(*command(cmd, tmp, path), check=False)
        assert result.returncode == STIMULUS_ERROR, result.stderr
        first = result.stderr.splitlines()[0]
        assert first == (f"error: cannot use image '{path}': its header declares 40000x20000 "
                         f"pixels, more than the 268435456 torchprobe decodes"), first
