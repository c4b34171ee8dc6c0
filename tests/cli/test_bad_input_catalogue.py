"""A catalogue of bad inputs: one row per bad input, across every subcommand, each with the exit
code the README documents and a fragment of the one-line message that names the bad value.

For every row, test_bad_input checks that torchprobe
  - exits with the row's code,
  - prints the fragment on stderr,
  - prints one `error: ...` line (optionally followed by one `hint: ...` line): no LibTorch
    traceback, no "internal error",
  - leaves no output behind: a fresh output path does not exist afterwards, a pre-existing output
    is unchanged.
test_every_code_is_documented checks that each code of the table is in the README's exit-code
table (the README stays the single source of what the codes mean).

Adding a row: append `row(ID, ARGS, CODE, FRAGMENT)` to ROWS, in the section of its command.
ARGS are the command-line arguments after `torchprobe`; FRAGMENT is a stable part of the message,
ideally the bad value as quoted there. These placeholders are replaced in ARGS and FRAGMENT:
    {model:NAME}   a test model, TEST_MODELS_DIR/NAME.pt (TINY and R18 name the two most used)
    {fx:PATH}      a file made once for the module by the `fixtures` fixture (add new bad files
                   there), e.g. {fx:bad/truncated.jpg}, {fx:results/torn.jsonl}, {fx:emptydir}
    {new:NAME}     a fresh path in the row's own directory: an output that must not be created
    {newdir:NAME}  the same for an output directory (render): it may be created, but stays empty
    {keep:NAME}    a copy of {fx:NAME}, under its base name in the row's own directory, made
                   before the run: an existing output (file or directory) that must be unchanged
Each row runs in its own empty directory, so relative stimuli such as `missing.png` are missing.
Keep rows fast: the 1x32x32 model TINY and 32x32 synthetic stimuli (S). The selected rows run in
parallel before their tests (fixture `outcomes`): each is a fresh process whose start-up (LibTorch)
is most of its time.

Rows marked `# issue 16` are bugs being fixed now: they fail against a binary without the fix.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import SOURCE_DIR, model, torchprobe

sys.path.insert(0, str(SOURCE_DIR / "tests" / "fixtures"))
import make_images  # noqa: E402

TINY = "{model:tiny_gray_script}"  # 1x32x32, layers conv1, relu, conv2
R18 = "{model:resnet18_script}"    # 3x224x224, layer1.0.relu is called twice
S = "noise:1@32x32"                # a stimulus of TINY's size
RUN = ["run", TINY, "-l", "conv1"]
VERIFY = ["verify", TINY, "-l", "conv1"]
EXTRACT = ["extract", TINY, "-l", "conv1"]
GOOD_JSON = "{fx:results/good.json}"
GOLDEN = "{fx:golden_%s/golden.json}"  # golden outputs whose stimulus img.png then changed
P1, P2 = "{fx:parts/p1.jsonl}", "{fx:parts/p2.jsonl}"  # a run of TINY in 2 shards
OUT = ["-o", "{new:out.json}"]           # outputs that must not be written
RENDERED = ["-o", "{newdir:rendered}"]
MERGED = ["-o", "{new:m.jsonl}"]

IS_ROOT = os.geteuid() == 0
# Rows run in parallel: each is a fresh process, and LibTorch's start-up is most of its time.
WORKERS = min(16, 2 * (os.cpu_count() or 1))
TIMEOUT = 120  # seconds, per row


def row(id, args, code, fragment, marks=()):
    return pytest.param(args, code, fragment, id=id, marks=marks)


ROWS = [
    # ---- the command line as a whole -----------------------------------------------------------
    row("no-command", [], 2, "A subcommand is required"),
    row("unknown-command", ["runn"], 2, "'runn'"),  # issue 16

    # ---- layers: bad model files -------------------------------------------------------------
    row("layers-missing-model", ["layers", "missing.pt"], 10, "'missing.pt': no such file"),
    row("layers-model-is-directory", ["layers", "{fx:dir.pt}"], 11, "dir.pt': is a directory"),
    row("layers-empty-model", ["layers", "{model:empty}"], 12,
        "empty.pt': the file is empty (0 bytes)"),
    row("layers-random-bytes", ["layers", "{model:random_bytes}"], 13,
        "random_bytes.pt': not a TorchScript archive"),
    row("layers-zip-without-code", ["layers", "{model:not_torchscript.zip}"], 14,
        "zip.pt': a zip archive without TorchScript code"),
    row("layers-state-dict", ["layers", "{model:state_dict}"], 15,
        "state_dict.pt': a torch.save() file"),
    row("layers-truncated-model", ["layers", "{model:truncated}"], 16,
        "truncated.pt': the archive is truncated"),
    row("layers-frozen-model", ["layers", "{model:frozen}"], 17, "it looks frozen"),
    row("layers-dev-zero", ["layers", "/dev/zero"], 19, "not a regular file"),  # issue 16
    row("layers-fifo", ["layers", "{fx:fifo.pt}"], 19, "not a regular file"),  # issue 16
    row("layers-bad-input-size", ["layers", TINY, "--input-size", "abc"], 2,
        "bad --input-size 'abc'"),
    row("layers-input-too-small", ["layers", TINY, "--input-size", "1x2x2"], 40,
        "shape [1, 1, 2, 2]"),

    # ---- run: models and layers --------------------------------------------------------------
    row("run-no-model", ["run"], 2, "model is required"),
    row("run-no-layer", ["run", TINY, S], 2, "--layer is required"),
    row("run-fifo-model", ["run", "{fx:fifo.pt}", "-l", "conv1", *OUT], 19,
        "not a regular file"),  # issue 16
    row("run-unknown-layer", [*RUN[:2], "-l", "conv9", S, *OUT], 20, "unknown layer 'conv9'"),
    row("run-bad-call-index", [*RUN[:2], "-l", "conv1#x", S, *OUT], 2, "'conv1#x'"),
    row("run-call-index-beyond-calls", ["run", R18, "noise:1", "-l", "layer1.0.relu#5", *OUT], 20,
        "called 2 times"),  # issue 16

    # ---- run: option values ------------------------------------------------------------------
    row("run-unknown-readout", [*RUN, S, "--readout", "middle", *OUT], 2,
        "unknown readout 'middle'"),
    row("run-readout-outside-map", [*RUN, S, "--readout", "at:999,0", *OUT], 22,
        "position (999,0) is outside the 30x30 map"),
    row("run-batch-size-zero", [*RUN, S, "--batch-size", "0", *OUT], 2, "bad --batch-size 0"),
    row("run-threads-negative", [*RUN, S, "--threads", "-1", *OUT], 2, "bad --threads -1"),
    row("run-workers-negative", [*RUN, S, "--workers", "-5", *OUT], 2, "bad --workers -5"),
    row("run-workers-minus-one", [*RUN, S, "--workers", "-1", *OUT], 2, "--workers"),  # issue 16
    row("run-unknown-mode", [*RUN, S, "--mode", "inference", *OUT], 2, "unknown mode 'inference'"),
    row("run-size-zero", [*RUN, S, "--size", "0x0", *OUT], 2, "bad size '0x0'"),
    row("run-size-too-large", [*RUN, "--size", "60000x60000", "{fx:good/rgb.jpg}", *OUT], 2,
        "too large"),  # issue 16
    # 17 gray 8192x8192 inputs in one batch: 17 x 256 MiB, more than the 4 GiB a batch may hold
    row("run-batch-too-large", [*RUN, *(f"uniform:{i / 17}@8192x8192" for i in range(17)),
                                "--batch-size", "17", *OUT], 2,
        "more than 4096 MiB"),  # issue 16
    row("layers-input-size-too-large", ["layers", "{model:tiny_gray_script}", "--input-size",
                                     "1x70000x70000"], 2, "too large"),  # issue 16
    row("run-cuda-device", [*RUN, S, "--device", "cuda", *OUT], 2, "CPU-only"),
    row("run-unknown-fit", [*RUN, S, "--fit", "pad", *OUT], 2, "bad fit 'pad'"),
    row("run-mean-wrong-count", [*RUN, S, "--mean", "0.1,0.2", *OUT], 2, "bad --mean: 2 values"),
    row("run-std-zero", [*RUN, S, "--std", "0", *OUT], 2, "std values must be positive"),
    row("run-mean-and-preprocess", [*RUN, S, "--preprocess", "imagenet", "--mean", "0.5", *OUT], 2,
        "cannot be combined with --preprocess"),
    row("run-unknown-flag", [*RUN, S, "--bogus-flag", *OUT], 2, "bogus-flag"),

    # ---- run: outputs ------------------------------------------------------------------------
    row("run-output-csv", [*RUN, S, "-o", "{new:out.csv}"], 2, "'.csv'"),  # issue 16
    row("run-output-empty-name", [*RUN, S, "-o", ""], 2, "empty"),  # issue 16
    row("run-output-exists", [*RUN, S, "-o", "{keep:existing.json}"], 51,
        "output '{keep:existing.json}' exists"),
    row("run-output-is-directory", [*RUN, S, "-o", "{keep:outdir}"], 50,
        "is a directory"),  # issue 16
    row("run-output-is-directory-force", [*RUN, S, "-o", "{keep:outdir}", "--force"], 50,
        "outdir': it is a directory"),
    row("run-output-directory-missing", [*RUN, S, "-o", "{new:missing/out.json}"], 50,
        "cannot write output '{new:missing/out.json}'"),
    row("run-output-under-a-file", [*RUN, S, "-o", "{keep:existing.json}/out.json"], 50,
        "existing.json/out.json': Not a directory"),
    row("run-shard-zero", [*RUN, S, "--shard", "0/2", "-o", "{new:out.jsonl}"], 2,
        "bad --shard '0/2'"),
    row("run-shard-to-json", [*RUN, S, "--shard", "1/2", *OUT], 2, "--shard"),
    row("run-resume-to-json", [*RUN, S, "--resume", *OUT], 2, "--resume"),
    row("run-resume-not-an-output", [*RUN, S, "--resume", "-o", "{keep:results/junk.jsonl}"], 60,
        "junk.jsonl': not a torchprobe JSON Lines output"),
    row("run-resume-other-run", [*RUN, S, "noise:2@32x32", "--readout", "mean", "--resume",
                                 "-o", "{keep:results/good.jsonl}"], 60,
        "'readout' is \"center\" there and \"mean\" here"),
    row("run-dump-inputs-to-a-file", [*RUN, S, "--dump-inputs", "{keep:existing.json}", *OUT], 50,
        "cannot write inputs to '{keep:existing.json}'"),

    # ---- run: stimuli ------------------------------------------------------------------------
    row("run-missing-image", [*RUN, "missing.png", *OUT], 30,
        "cannot use image 'missing.png': no such file"),
    row("run-truncated-jpeg", [*RUN, "{fx:bad/truncated.jpg}", *OUT], 30, "truncated JPEG"),
    row("run-empty-image", [*RUN, "{fx:bad/empty.png}", *OUT], 30,
        "empty.png': the file is empty (0 bytes)"),
    row("run-text-named-png", [*RUN, "{fx:bad/text.png}", *OUT], 30, "text.png': not an image"),
    row("run-jpeg-header-bomb", [*RUN, "{fx:bomb.jpg}", *OUT], 30, "declares 40000x20000 pixels"),
    row("run-empty-directory", [*RUN, "{fx:emptydir}", *OUT], 30, "has no image files"),
    row("run-missing-list", [*RUN, "@missing.txt", *OUT], 30,
        "cannot read stimulus list 'missing.txt': no such file"),
    row("run-list-naming-missing-image", [*RUN, "@{fx:lists/missing_image.txt}", *OUT], 30,
        "nowhere.png': no such file"),
    row("run-duplicate-stimulus", [*RUN, S, S, *OUT], 30, f"duplicate stimulus id '{S}'"),
    row("run-unknown-stimulus-kind", [*RUN, "gabor:ori=45@32x32", *OUT], 30,
        "unknown stimulus kind 'gabor'"),  # issue 16
    row("run-grating-bad-number", [*RUN, "grating:ori=x@32x32", *OUT], 30,
        "bad stimulus 'grating:ori=x@32x32'"),
    row("run-grating-non-finite", [*RUN, "grating:sf=1e308@32x32", *OUT], 30,
        "non-finite"),  # issue 16
    row("run-stimulus-too-large", [*RUN, "uniform:1@100000x100000", *OUT], 30,
        "too large"),  # issue 16
    row("run-range-without-sweep", [*RUN, "grating:ori=0:180:15@32x32", *OUT], 30, "need --sweep"),
    row("run-sweep-without-values", [*RUN, "--sweep", "grating:ori=0:0:15", *OUT], 30,
        "bad sweep 'grating:ori=0:0:15'"),

    # ---- run: forward failures ---------------------------------------------------------------
    row("run-input-too-small", [*RUN, "noise:1", "--size", "2x2", *OUT], 40, "shape [1, 1, 2, 2]"),

    # ---- render ------------------------------------------------------------------------------
    row("render-no-output", ["render", S], 2, "--output is required"),
    row("render-missing-image", ["render", "missing.png", *RENDERED], 30,
        "cannot use image 'missing.png'"),
    row("render-truncated-jpeg", ["render", "{fx:bad/truncated.jpg}", *RENDERED], 30,
        "truncated JPEG"),
    row("render-text-named-png", ["render", "{fx:bad/text.png}", *RENDERED], 30, "not an image"),
    row("render-unknown-stimulus-kind", ["render", "gabor:ori=45@32x32", *RENDERED], 30,
        "unknown stimulus kind 'gabor'"),  # issue 16
    row("render-stimulus-too-large", ["render", "uniform:1@100000x100000", *RENDERED], 30,
        "too large"),  # issue 16
    row("render-size-zero", ["render", S, "--size", "0x0", *RENDERED], 2, "bad size '0x0'"),
    row("render-two-channels", ["render", S, "--channels", "2", *RENDERED], 2, "bad --channels 2"),
    row("render-missing-model", ["render", S, "--model", "missing.pt", *RENDERED], 10,
        "'missing.pt': no such file"),
    row("render-output-is-a-file", ["render", S, "-o", "{keep:existing.json}"], 50,
        "cannot write to directory '{keep:existing.json}'"),

    # ---- merge -------------------------------------------------------------------------------
    row("merge-no-parts", ["merge", *MERGED], 2, "parts is required"),
    row("merge-missing-part", ["merge", P1, "missing.jsonl", *MERGED], 60,
        "'missing.jsonl': no such file"),
    row("merge-not-an-output", ["merge", "{fx:results/junk.jsonl}", *MERGED], 60,
        "junk.jsonl': not a torchprobe JSON Lines output"),
    row("merge-missing-shard", ["merge", P1, *MERGED], 60, "no part is shard 2/2"),
    row("merge-shard-twice", ["merge", P1, P1, P2, *MERGED], 60, "are both shard 1/2"),
    row("merge-different-runs", ["merge", P1, "{fx:parts/p2_mean.jsonl}", *MERGED], 60,
        "'readout' is \"center\" there and \"mean\" here"),
    row("merge-different-shard-counts", ["merge", P1, "{fx:parts/p2of3.jsonl}", *MERGED], 60,
        "different numbers of shards"),
    row("merge-torn-part", ["merge", P1, "{fx:parts/p2_torn.jsonl}", *MERGED], 60,
        "p2_torn.jsonl' (shard 2/2) holds 0 of its 1 stimuli and ends in a torn line"),
    row("merge-shard-index-zero", ["merge", P1, "{fx:parts/p2_index0.jsonl}", *MERGED], 60,
        "shard"),  # issue 16
    row("merge-shard-index-huge", ["merge", P1, "{fx:parts/p2_index1000000.jsonl}", *MERGED], 60,
        "shard"),  # issue 16
    row("merge-shard-index-beyond-count", ["merge", P1, "{fx:parts/p2_index3.jsonl}", *MERGED], 60,
        "shard"),  # issue 16
    row("merge-shard-index-negative", ["merge", P1, "{fx:parts/p2_index-1.jsonl}", *MERGED], 60,
        "shard"),  # issue 16
    row("merge-output-exists", ["merge", P1, P2, "-o", "{keep:existing.json}"], 51,
        "output '{keep:existing.json}' exists"),

    # ---- explain -----------------------------------------------------------------------------
    row("explain-no-layer", ["explain", TINY], 2, "layer is required"),
    row("explain-unknown-layer", ["explain", TINY, "conv9"], 20, "unknown layer 'conv9'"),
    row("explain-missing-model", ["explain", "missing.pt", "conv1"], 10,
        "'missing.pt': no such file"),

    # ---- bn-check ----------------------------------------------------------------------------
    row("bn-check-negative-atol", ["bn-check", R18, "--atol", "-1"], 2, "--atol"),  # issue 16
    row("bn-check-nan-atol", ["bn-check", R18, "--atol", "nan"], 2, "--atol"),  # issue 16
    row("bn-check-unknown-mode", ["bn-check", TINY, "--mode", "inference"], 2,
        "unknown mode 'inference'"),
    row("bn-check-unknown-layer", ["bn-check", TINY, "-l", "nope"], 20, "unknown layer 'nope'"),
    row("bn-check-not-a-batchnorm", ["bn-check", TINY, "-l", "conv1"], 2,
        "'conv1' is a Conv2d, not a BatchNorm"),
    row("bn-check-bad-stimulus", ["bn-check", TINY, "noise:x@32x32"], 30,
        "bad stimulus 'noise:x@32x32'"),

    # ---- diff --------------------------------------------------------------------------------
    row("diff-missing-candidate", ["diff", GOOD_JSON, "nope.json"], 60,
        "'nope.json': no such file"),
    row("diff-directory", ["diff", "{fx:emptydir}", GOOD_JSON], 60, "emptydir': it is a directory"),
    row("diff-empty", ["diff", GOOD_JSON, "{fx:results/empty.json}"], 60,
        "empty.json': the file is empty"),
    row("diff-truncated", ["diff", GOOD_JSON, "{fx:results/truncated.json}"], 60,
        "truncated.json': the JSON ends early"),
    row("diff-text", ["diff", GOOD_JSON, "{fx:results/text.json}"], 60,
        "text.json': not valid JSON"),
    row("diff-no-header", ["diff", GOOD_JSON, "{fx:results/schema.json}"], 60,
        "schema.json': not a torchprobe output (no \"torchprobe\" header field)"),
    row("diff-torn-jsonl", ["diff", GOOD_JSON, "{fx:results/torn.jsonl}"], 60,
        "torn.jsonl': line 3 is not valid JSON"),
    row("diff-ragged-values", ["diff", GOOD_JSON, "{fx:results/ragged.json}"], 60,
        "\"values\" is not a number or a rectangular list of numbers"),
    row("diff-record-without-id", ["diff", GOOD_JSON, "{fx:results/no_id.json}"], 60,
        "no_id.json': stimulus record 1 has no string \"id\""),
    row("diff-negative-atol", ["diff", GOOD_JSON, GOOD_JSON, "--atol", "-1"], 2, "bad tolerance"),
    row("diff-negative-scale-tol", ["diff", GOOD_JSON, GOOD_JSON, "--scale-tol", "-1"], 2,
        "--scale-tol"),

    # ---- check -------------------------------------------------------------------------------
    row("check-missing-golden", ["check", TINY, "-g", "nope.json"], 60,
        "'nope.json': no such file"),
    row("check-golden-not-an-output", ["check", TINY, "-g", "{fx:results/schema.json}"], 60,
        "schema.json': not a torchprobe output"),
    row("check-golden-is-directory", ["check", TINY, "-g", "{fx:emptydir}"], 60,
        "emptydir': it is a directory"),
    row("check-missing-model", ["check", "missing.pt", "-g", GOOD_JSON], 10,
        "'missing.pt': no such file"),
    row("check-golden-stimulus-changed", ["check", TINY, "-g", GOLDEN % "changed"], 30,
        "was written: 'img.png' (sha256"),
    row("check-golden-stimulus-is-directory", ["check", TINY, "-g", GOLDEN % "directory"], 30,
        "'img.png'"),
    row("check-golden-stimulus-unreadable", ["check", TINY, "-g", GOLDEN % "unreadable"], 30,
        "'img.png'",  # issue 16 (run as root, it is skipped: root reads a chmod 000 file)
        marks=pytest.mark.skipif(IS_ROOT, reason="root reads a chmod 000 file")),
    row("check-negative-atol", ["check", TINY, "-g", GOOD_JSON, "--atol", "-1"], 2,
        "bad tolerance"),
    row("check-missing-stimulus-root", ["check", TINY, "-g", GOLDEN % "directory",
                                        "--stimulus-root", "nowhere"], 30, "'img.png'"),

    # ---- verify ------------------------------------------------------------------------------
    row("verify-no-layer", ["verify", TINY, S], 2, "--layer is required"),
    row("verify-unknown-layer", ["verify", TINY, "-l", "conv9", S], 20, "unknown layer 'conv9'"),
    row("verify-missing-image", [*VERIFY, "missing.png"], 30, "cannot use image 'missing.png'"),
    row("verify-size-zero", [*VERIFY, "noise:1", "--size", "0x0"], 2, "bad size '0x0'"),
    row("verify-input-too-small", [*VERIFY, "noise:1", "--size", "2x2"], 40, "shape [1, 1, 2, 2]"),

    # ---- extract -----------------------------------------------------------------------------
    row("extract-no-output", [*EXTRACT], 2, "--output is required"),
    row("extract-unknown-layer", ["extract", TINY, "-l", "conv9", "-o", "{new:probe.pt}"], 20,
        "unknown layer 'conv9'"),
    row("extract-frozen-model", ["extract", "{model:frozen}", "-l", "conv1", "-o",
                                 "{new:probe.pt}"], 17, "it looks frozen"),
    row("extract-input-too-small", [*EXTRACT, "--input-size", "1x2x2", "-o", "{new:probe.pt}"], 40,
        "shape [1, 1, 2, 2]"),
    row("extract-output-exists", [*EXTRACT, "-o", "{keep:existing.json}"], 51,
        "output '{keep:existing.json}' exists"),
    row("extract-output-directory-missing", [*EXTRACT, "-o", "{new:missing/probe.pt}"], 50,
        "cannot write output '{new:missing/probe.pt}'"),
    row("extract-output-is-directory", [*EXTRACT, "-o", "{keep:outdir}", "--force"], 50,
        "outdir': it is a directory"),
]


# ---- the bad files ----------------------------------------------------------------------------

def header_bomb(path):
    """A small valid JPEG whose header declares 40000x20000 pixels (as in test_stimuli_errors)."""
    import cv2
    import numpy as np
    jpeg = bytearray(cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 20000, 40000)  # height, width
    path.write_bytes(bytes(jpeg))


def bad_results(folder):
    """Files that are not readable torchprobe outputs, made from the good output good.json."""
    text = (folder / "good.json").read_text()
    doc = json.loads(text)
    header = {k: v for k, v in doc.items() if k != "stimuli"}
    lines = [json.dumps(x) + "\n" for x in [header, *doc["stimuli"]]]
    ragged = json.loads(text)
    ragged["stimuli"][0]["responses"]["conv1"]["values"] = [[1, 2], [3]]
    no_id = json.loads(text)
    del no_id["stimuli"][0]["id"]
    files = {
        "good.jsonl": "".join(lines),
        "empty.json": "",
        "truncated.json": text[: len(text) // 2],
        "text.json": "hello\n",
        "schema.json": '{"stimuli": []}\n',
        "torn.jsonl": "".join(lines[:2]) + lines[2][: len(lines[2]) // 2],
        "ragged.json": json.dumps(ragged),
        "no_id.json": json.dumps(no_id),
        "junk.jsonl": '{"a": 1}\n',
    }
    for name, content in files.items():
        (folder / name).write_text(content)


def bad_parts(folder):
    """Copies of part 2 of 2 with a torn line or another shard index in its header."""
    lines = (folder / "p2.jsonl").read_text().splitlines(keepends=True)
    (folder / "p2_torn.jsonl").write_text(lines[0] + lines[1][: len(lines[1]) // 2])
    for index in [0, 1000000, 3, -1]:
        header = json.loads(lines[0])
        header["shard"]["index"] = index
        text = json.dumps(header) + "\n" + "".join(lines[1:])
        (folder / f"p2_index{index}.jsonl").write_text(text)


def replace_by_directory(path):
    path.unlink()
    path.mkdir()


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    """The folder of the bad (and a few good) files the rows name as {fx:PATH}."""
    fx = tmp_path_factory.mktemp("catalogue")
    make_images.make_images(fx)  # good/gray.png, bad/truncated.jpg, bad/text.png, ...
    header_bomb(fx / "bomb.jpg")
    for folder in ["emptydir", "dir.pt", "outdir", "lists", "results", "parts"]:
        (fx / folder).mkdir()
    os.mkfifo(fx / "fifo.pt")  # NOTE: never opened here; only torchprobe gets its path
    (fx / "existing.json").write_text("an existing output, to be kept\n")
    (fx / "lists" / "missing_image.txt").write_text("noise:1@32x32\nnowhere.png\n")
    # Golden outputs of TINY on img.png (a relative id), whose image is then changed.
    goldens = {"golden_changed": lambda p: shutil.copy(fx / "good" / "gray.jpg", p),
               "golden_directory": replace_by_directory,
               "golden_unreadable": lambda p: p.chmod(0)}
    for name in goldens:
        (fx / name).mkdir()
        shutil.copy(fx / "good" / "gray.png", fx / name / "img.png")

    # The good outputs, in parallel: results/good.json, the parts of a sharded run, the goldens.
    tiny = ["run", model("tiny_gray_script"), "-l", "conv1", "-q"]
    three = ["noise:1@32x32", "noise:2@32x32", "noise:3@32x32"]
    shards = [*tiny, *three, "--batch-size", "1", "--shard"]
    runs = [([*tiny, *three, "-o", fx / "results" / "good.json"], fx),
            ([*shards, "1/2", "-o", fx / "parts" / "p1.jsonl"], fx),
            ([*shards, "2/2", "-o", fx / "parts" / "p2.jsonl"], fx),
            ([*shards, "2/3", "-o", fx / "parts" / "p2of3.jsonl"], fx),
            ([*shards, "2/2", "--readout", "mean", "-o", fx / "parts" / "p2_mean.jsonl"], fx)]
    runs += [([*tiny, "img.png", "-o", "golden.json"], fx / name) for name in goldens]
    with ThreadPoolExecutor(WORKERS) as pool:
        for job in [pool.submit(torchprobe, *args, cwd=cwd) for args, cwd in runs]:
            job.result()

    bad_results(fx / "results")
    bad_parts(fx / "parts")
    for name, change in goldens.items():
        change(fx / name / "img.png")
    return fx


# ---- the test ---------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(model|fx|new|newdir|keep):([^}]*)\}")


def expand(text, fx, folder, outputs):
    """`text` with its placeholders replaced; records the outputs ({new}, {newdir}, {keep}) in
    `outputs` as {path: (kind, fixture it copies)}."""
    def replace(match):
        kind, name = match.groups()
        if kind == "model":
            return model(name)
        if kind == "fx":
            return str(fx / name)
        path = folder / (Path(name).name if kind == "keep" else name)
        outputs.setdefault(path, (kind, fx / name))
        return str(path)
    return PLACEHOLDER.sub(replace, text)


def snapshot(path):
    """What must stay as it is of an existing output: a file's bytes, a directory's listing."""
    if path.is_dir():
        return sorted(p.name for p in path.iterdir())
    return path.read_bytes()


def run_row(args, fragment, fx, folder):
    """Runs one row in `folder`; returns what test_bad_input checks."""
    outputs = {}
    argv = [expand(arg, fx, folder, outputs) for arg in args]
    fragment = expand(fragment, fx, folder, outputs)
    before = {}
    for path, (kind, source) in outputs.items():
        if kind == "keep":
            if source.is_dir():
                shutil.copytree(source, path)
            else:
                shutil.copy(source, path)
            before[path] = snapshot(path)
    try:
        result = torchprobe(*argv, check=False, cwd=folder, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as timeout:  # fails this row only
        result = subprocess.CompletedProcess(argv, "timeout", "",
                                             f"(killed after {TIMEOUT} s)\n{timeout.stderr}")
    return argv, fragment, result, outputs, before


def skipped(item):
    return any(mark.args and mark.args[0] for mark in item.iter_markers("skipif"))


@pytest.fixture(scope="module")
def outcomes(request, fixtures, tmp_path_factory):
    """The outcome of every row selected in this session, run in parallel, by row id."""
    rows = {}
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        if item.module is request.module and spec and "args" in spec.params and not skipped(item):
            rows[spec.id] = (spec.params["args"], spec.params["fragment"],
                             tmp_path_factory.mktemp(spec.id))
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {id: pool.submit(run_row, args, fragment, fixtures, folder)
                   for id, (args, fragment, folder) in rows.items()}
        return {id: future.result() for id, future in futures.items()}


@pytest.mark.parametrize("args,code,fragment", ROWS)
def test_bad_input(outcomes, request, args, code, fragment):
    argv, fragment, result, outputs, before = outcomes[request.node.callspec.id]
    shown = f"torchprobe {' '.join(argv)}\nexit {result.returncode}\nstderr:\n{result.stderr}"
    assert result.returncode == code, shown
    assert fragment in result.stderr, shown
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), shown
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), shown
    for marker in ["internal error", "Traceback", "Exception raised from", "<--- HERE",
                   "enforce fail"]:
        assert marker not in result.stderr, shown
    for path, (kind, _) in outputs.items():
        if kind == "new":
            assert not path.exists(), f"{shown}\nleft {path} behind"
        elif kind == "newdir":  # NOTE: render may leave its output directory, but empty
            assert not path.exists() or snapshot(path) == [], f"{shown}\nleft files in {path}"
        else:
            assert snapshot(path) == before[path], f"{shown}\nchanged {path}"


def documented_codes():
    """The codes of the `| code | meaning |` table under `## Exit codes` in the README."""
    text = (SOURCE_DIR / "README.md").read_text()
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    codes = set()
    for line in section.splitlines():
        first = line.split("|")[1].strip() if line.startswith("|") else ""
        if re.fullmatch(r"\d+( / \d+)*", first):  # "130 / 143" documents two
            codes.update(int(code) for code in first.split(" / "))
    return codes


def test_every_code_is_documented():
    documented = documented_codes()
    assert {0, 1, 2, 70} <= documented, "the README's exit-code table was not found"
    codes = {param.values[1] for param in ROWS}
    assert codes - documented == set(), "codes missing from README.md's exit-code table"
