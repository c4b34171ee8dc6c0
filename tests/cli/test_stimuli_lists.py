"""Where stimuli come from: --sweep expansion (ids, counts, order), directories (order, ids,
--recursive), @LIST files (comments, relative paths), unique ids, and `render`'s files."""
import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import model, torchprobe
from stimuli_helpers import RGB_MODEL, file_stem, images, render_npy  # noqa: F401


def run_ids(tmp, *args, cwd=None):
    out = tmp / "ids.json"
    torchprobe("run", model(RGB_MODEL), "--layer", "conv1", *args, "-o", out, "--force", cwd=cwd)
    return [r["id"] for r in json.loads(out.read_text())["stimuli"]]


def test_sweep_is_the_cartesian_product_with_canonical_ids(tmp):
    ids = run_ids(tmp, "--sweep", "grating:ori=0:180:15,sf=2|4|8@16x16")
    expected = [f"grating:ori={ori},sf={sf},phase=0,contrast=1,mean=0.5@16x16"
                for ori, sf in itertools.product(range(0, 180, 15), [2, 4, 8])]
    assert ids == expected
    assert len(ids) == 36


def test_sweeps_follow_positional_stimuli_and_ranges_round_to_12_digits(tmp):
    ids = run_ids(tmp, "noise:5@8x8", "--sweep", "uniform:0:0.3:0.1@8x8",
                  "--sweep", "noise:1:3,dist=uniform|normal@8x8")
    assert ids == ["noise:5@8x8", "uniform:0@8x8", "uniform:0.1@8x8", "uniform:0.2@8x8",
                   "noise:1@8x8", "noise:1,dist=normal@8x8", "noise:2@8x8", "noise:2,dist=normal@8x8"]


@pytest.fixture
def tree(tmp, images):
    """A folder of images with a subfolder, a hidden file and a non-image."""
    root = tmp / "stimuli"
    (root / "sub" / "deeper").mkdir(parents=True)
    png = open(images["rgb.png"], "rb").read()
    for name in ["b.png", "A.png", "a.png", "sub/c.png", "sub/deeper/d.png", ".hidden.png"]:
        (root / name).write_bytes(png)
    (root / "notes.txt").write_text("not a stimulus\n")
    return root


def test_directory_gives_its_images_sorted_by_relative_path(tmp, tree):
    result = torchprobe("run", model(RGB_MODEL), "--layer", "conv1", tree, "-o", tmp / "o.json")
    ids = [r["id"] for r in json.loads((tmp / "o.json").read_text())["stimuli"]]
    assert ids == ["A.png", "a.png", "b.png"]
    assert "skipped 1 file(s) without an image extension" in result.stderr


def test_recursive_directory_descends_and_ids_are_relative(tmp, tree):
    assert run_ids(tmp, tree, "--recursive") == ["A.png", "a.png", "b.png", "sub/c.png",
                                                 "sub/deeper/d.png"]
    # the same ids whichever way the folder is spelled
    assert run_ids(tmp, "./stimuli/", "-r", cwd=tmp) == run_ids(tmp, tree, "-r")


def test_list_file_with_comments_and_paths_relative_to_the_list(tmp, tree, images):
    lists = tmp / "lists"
    lists.mkdir()
    (lists / "list.txt").write_text(
        "# stimuli for the experiment\n"
        "\n"
        "../stimuli/b.png      # a photo\n"
        "   uniform:0.5@8x8\n"
        "../stimuli/sub\n"
        "@more.txt\n")
    (lists / "more.txt").write_text("grating:ori=90@8x8\n")
    out = tmp / "o.json"
    torchprobe("run", model(RGB_MODEL), "--layer", "conv1", "@lists/list.txt", "-o", out, cwd=tmp)
    records = json.loads(out.read_text())["stimuli"]
    assert [r["id"] for r in records] == [
        "../stimuli/b.png", "uniform:0.5@8x8", "c.png",
        "grating:ori=90,sf=8,phase=0,contrast=1,mean=0.5@8x8"]
    assert records[0]["sha256"] == records[2]["sha256"]


def test_repeated_ids_are_refused(tmp, tree):
    (tmp / "other").mkdir()
    (tmp / "other" / "a.png").write_bytes((tree / "a.png").read_bytes())
    result = torchprobe("render", tree, tmp / "other", "-o", tmp / "r", check=False)
    assert result.returncode == 30
    assert "duplicate stimulus id 'a.png'" in result.stderr


def test_render_writes_16_bit_pngs_named_after_ids(tmp, tree):
    out = tmp / "render"
    result = torchprobe("render", tree, "grating:ori=45@20x30", "noise:3,dist=normal@8x8",
                        "--size", "24x40", "--fit", "crop", "--npy", "-o", out)
    names = ["A.png", "a.png", "b.png"] + [
        file_stem(i) for i in ["grating:ori=45,sf=8,phase=0,contrast=1,mean=0.5@20x30",
                               "noise:3,dist=normal@8x8"]]
    assert names[3] == "grating%3Aori=45,sf=8,phase=0,contrast=1,mean=0.5@20x30"
    assert result.stdout.splitlines() == [str(out / f"{n}.png") for n in names]
    for name in names:
        png = cv2.imread(str(out / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        pixels = np.load(out / f"{name}.npy")
        assert png.dtype == np.uint16
        expected = np.round(np.clip(pixels, 0, 1) * 65535).transpose(1, 2, 0)[:, :, ::-1]
        assert np.array_equal(png, expected.astype(np.uint16)), name
    assert pixels.shape == (3, 8, 8)
    assert np.load(out / "a.png.npy").shape == (3, 24, 40)
    # normal noise leaves [0, 1]: clipped in the PNG only, with a warning
    assert "values outside [0, 1] are clipped" in result.stderr


def test_render_takes_size_channels_and_fit_from_a_model(tmp, images):
    arrays = render_npy(tmp / "r", images["wide.png"], "--model", model("tiny_gray_script"))
    assert arrays[0].shape == (1, 32, 32)


def test_file_names_of_ids_that_used_to_collide_stay_distinct(tmp, tree):
    (tree / "sub_c.png").write_bytes((tree / "a.png").read_bytes())  # "sub/c.png" was sub_c.png
    out = tmp / "render"
    lines = torchprobe("render", tree, "-r", "-o", out).stdout.splitlines()
    # sorted by relative path: "sub/c.png" < "sub/deeper/d.png" < "sub_c.png" ('/' < '_')
    assert lines == [str(out / n) for n in ["A.png.png", "a.png.png", "b.png.png", "sub%2Fc.png.png",
                                            "sub%2Fdeeper%2Fd.png.png", "sub_c.png.png"]]
    dump = tmp / "dump"
    torchprobe("run", model(RGB_MODEL), "--layer", "conv1", tree, "-r", "--dump-inputs", dump,
               "-o", tmp / "o.json")
    assert sorted(p.name for p in dump.iterdir()) == sorted(
        [Path(l).stem + ".npy" for l in lines] + ["manifest.json"])
