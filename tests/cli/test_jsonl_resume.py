"""JSON Lines output and --resume: after a kill at any point, --resume gives the uninterrupted
run's file byte for byte.

The kills are simulated deterministically with TORCHPROBE_TEST_KILL_AFTER_BYTES=B and the
preloaded tests/support/kill_after_bytes.cpp (the process writes B bytes of JSON Lines and dies
with exit 137, as under kill -9 at that point; the release binary has no such hook), and once for
real with SIGKILL in the middle of a run.
"""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BIN, KILL_SHIM, SOURCE_DIR, torchprobe

DEMO = str(SOURCE_DIR / "models" / "demo.pt")
LAYERS = ["--layer", "stem.bn", "--layer", "pool"]
# 11 stimuli in batches of 3; the @32x48 ones form their own batches (a different input size).
STIMULI = ["noise:1", "noise:2", "uniform:0.5", "noise:3", "uniform:1@32x48", "noise:4@32x48",
           "noise:5", "noise:6", "noise:7", "noise:8", "uniform:0"]
COMMON = ["run", DEMO, *LAYERS, *STIMULI, "--batch-size", "3", "--preprocess", "imagenet"]


def killed_after(byte_count):
    """The environment of a run that dies after writing `byte_count` bytes of JSON Lines."""
    return {"TORCHPROBE_TEST_KILL_AFTER_BYTES": str(byte_count), "LD_PRELOAD": KILL_SHIM}


def run_jsonl(out, *extra, env=None, check=True):
    full_env = dict(os.environ, **(env or {}))
    return torchprobe(*COMMON, "-o", out, *extra, env=full_env, check=check)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.jsonl"
    run_jsonl(out)
    return out.read_bytes()


def test_jsonl_is_header_then_one_record_per_stimulus(tmp, reference):
    lines = reference.decode().splitlines()
    assert len(lines) == 1 + len(STIMULI)
    header = json.loads(lines[0])
    assert "stimuli" not in header and header["layers"] == ["stem.bn", "pool"]
    assert header["stimulus_list"]["count"] == len(STIMULI) and header["batch_size"] == 3
    records = [json.loads(line) for line in lines[1:]]
    assert [r["id"] for r in records] == STIMULI
    assert [r["index"] for r in records] == list(range(len(STIMULI)))
    assert records[4]["input_shape"] == [1, 3, 32, 48]


def test_jsonl_matches_the_json_document(tmp, reference):
    torchprobe(*COMMON, "-o", tmp / "doc.json")
    doc = json.loads((tmp / "doc.json").read_text())
    lines = reference.decode().splitlines()
    stimuli = doc.pop("stimuli")
    assert json.loads(lines[0]) == doc
    assert [json.loads(line) for line in lines[1:]] == stimuli


@pytest.mark.parametrize("workers", ["0", "1", "3"])
def test_workers_do_not_change_the_bytes(tmp, reference, workers):
    run_jsonl(tmp / "w.jsonl", "--workers", workers)
    assert (tmp / "w.jsonl").read_bytes() == reference


def kill_points(reference):
    """Byte offsets to die at: nothing, inside the header, at and just after line ends, inside
    records of a batch, one byte short of the end."""
    ends = [i + 1 for i, b in enumerate(reference) if b == ord("\n")]
    return sorted({0, ends[0] // 2, ends[0], ends[0] + 1, ends[2], ends[3] - 1,
                   (ends[8] + ends[9]) // 2, len(reference) - 1})


def test_resume_after_a_kill_at_any_point_gives_the_same_bytes(tmp, reference):
    for point in kill_points(reference):
        out = tmp / f"killed-{point}.jsonl"
        killed = run_jsonl(out, env=killed_after(point), check=False)
        assert killed.returncode == 137, killed.stderr
        assert out.read_bytes() == reference[:point]
        resumed = run_jsonl(out, "--resume")
        assert out.read_bytes() == reference, f"kill after {point} bytes"
        assert "summary:" in resumed.stderr


def test_resume_after_two_kills(tmp, reference):
    out = tmp / "twice.jsonl"
    first = len(reference) // 3
    run_jsonl(out, env=killed_after(first), check=False)
    # The second run writes from where the first stopped (minus the torn line): die again.
    again = run_jsonl(out, "--resume", env=killed_after(900),
                      check=False)
    assert again.returncode == 137
    run_jsonl(out, "--resume")
    assert out.read_bytes() == reference


def test_resume_of_a_complete_file_changes_nothing(tmp, reference):
    out = tmp / "done.jsonl"
    out.write_bytes(reference)
    result = run_jsonl(out, "--resume")
    assert out.read_bytes() == reference
    assert f"0 stimuli (+{len(STIMULI)} resumed)" in result.stderr


def test_resume_of_a_missing_file_starts_it(tmp, reference):
    out = tmp / "new.jsonl"
    run_jsonl(out, "--resume")
    assert out.read_bytes() == reference


def test_resume_with_other_layers_is_refused(tmp, reference):
    out = tmp / "other.jsonl"
    out.write_bytes(reference[: len(reference) // 2])
    result = torchprobe("run", DEMO, "--layer", "stem", *STIMULI, "--batch-size", "3",
                        "--preprocess", "imagenet", "-o", out, "--resume", check=False)
    assert result.returncode == 60, result.stderr
    assert f"error: cannot resume '{out}': it was written by a different run: 'layers' is " \
           '["stem.bn","pool"] there and ["stem"] here' in result.stderr
    assert "hint: rerun with the stimuli and options that wrote it" in result.stderr
    assert out.read_bytes() == reference[: len(reference) // 2]


def with_option(args, flag, value=None):
    args = list(args)
    if value is None:
        return args + [flag]
    if flag in args:
        args[args.index(flag) + 1] = value
        return args
    return args + [flag, value]


@pytest.mark.parametrize("flag,value,field", [
    ("--readout", "mean", "readout"),
    ("--preprocess", "none", "preprocess.mean"),
    ("--batch-size", "4", "batch_size"),
    ("--no-truncate", None, "truncated"),
    ("--mode", "train", "model.mode"),
])
def test_resume_with_other_options_is_refused(tmp, reference, flag, value, field):
    out = tmp / "other.jsonl"
    out.write_bytes(reference[: len(reference) // 2])
    result = torchprobe(*with_option(COMMON, flag, value), "-o", out, "--resume", check=False)
    assert result.returncode == 60, result.stderr
    assert f"it was written by a different run: '{field}' is " in result.stderr


def test_resume_with_another_stimulus_list_is_refused(tmp, reference):
    out = tmp / "list.jsonl"
    out.write_bytes(reference[: len(reference) // 2])
    result = torchprobe("run", DEMO, *LAYERS, *STIMULI[:-1], "noise:99", "--batch-size", "3",
                        "--preprocess", "imagenet", "-o", out, "--resume", check=False)
    assert result.returncode == 60
    assert "'stimulus_list.sha256' is " in result.stderr


def test_resume_of_a_file_that_is_not_jsonl_output(tmp):
    out = tmp / "junk.jsonl"
    out.write_text("hello\nworld\n")
    result = run_jsonl(out, "--resume", check=False)
    assert result.returncode == 60
    assert f"error: cannot read results '{out}': not a torchprobe JSON Lines output" in result.stderr


LONG = ["run", DEMO, *LAYERS, *[f"noise:{i}" for i in range(400)], "--batch-size", "2",
        "--readout", "full", "--preprocess", "imagenet", "--threads", "1"]


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("long") / "ref.jsonl"
    torchprobe(*LONG, "-o", out)
    return out.read_bytes()


def start_and_wait_for_lines(out, lines, stderr=subprocess.DEVNULL):
    process = subprocess.Popen([BIN, *LONG, "-o", str(out)], stderr=stderr, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") > lines:
            break
        time.sleep(0.005)
    return process


def test_real_kill_9_mid_run_then_resume(tmp, long_reference):
    out = tmp / "killed.jsonl"
    process = start_and_wait_for_lines(out, 40)
    still_running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert still_running, "the run finished before it could be killed: make it longer"
    assert 0 < out.stat().st_size < len(long_reference)
    torchprobe(*LONG, "-o", out, "--resume")
    assert out.read_bytes() == long_reference


@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"),
                                           (signal.SIGTERM, 143, "terminated")])
def test_sigint_and_sigterm_stop_after_a_batch_and_can_be_resumed(tmp, long_reference, sig, code,
                                                                  word):
    out = tmp / "stopped.jsonl"
    process = start_and_wait_for_lines(out, 20, stderr=subprocess.PIPE)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert f"error: {word} after " in stderr and " of 400 stimuli" in stderr
    assert "hint: the finished batches are kept: rerun the same command with --resume" in stderr
    data = out.read_bytes()
    assert data.endswith(b"\n")  # whole batches only
    assert (data.count(b"\n") - 1) % 2 == 0
    torchprobe(*LONG, "-o", out, "--resume")
    assert out.read_bytes() == long_reference
