"""`torchprobe run` on many stimuli: existing outputs, bad stimuli, progress and summary, option
checks."""
import json
import os
import pty
import subprocess

import pytest

from conftest import BIN, PYTHON, SOURCE_DIR, torchprobe

DEMO = str(SOURCE_DIR / "models" / "demo.pt")
BASE = ["run", DEMO, "--layer", "stem.bn", "--preprocess", "imagenet"]


def write_png(path, seed=0):
    code = ("import cv2, numpy as np, sys; rng = np.random.default_rng(int(sys.argv[2])); "
            "cv2.imwrite(sys.argv[1], rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))")
    subprocess.run([PYTHON, "-c", code, str(path), str(seed)], check=True)
    return str(path)


# ---- existing outputs -------------------------------------------------------------------------

@pytest.mark.parametrize("name,hint", [("out.json", "give --force to overwrite it"),
                                       ("out.jsonl", "give --resume to continue it")])
def test_existing_output_is_never_overwritten(tmp, name, hint):
    out = tmp / name
    out.write_text("precious")
    result = torchprobe(*BASE, "noise:1", "-o", out, check=False)
    assert result.returncode == 51, result.stderr
    assert f"error: output '{out}' exists" in result.stderr
    assert f"hint: {hint}" in result.stderr
    assert out.read_text() == "precious"


@pytest.mark.parametrize("name", ["out.json", "out.jsonl"])
def test_force_overwrites(tmp, name):
    out = tmp / name
    out.write_text("old")
    torchprobe(*BASE, "noise:1", "-o", out, "--force")
    text = out.read_text()
    assert "noise:1" in text and "old" not in text


def test_json_document_is_still_written_atomically(tmp):
    out = tmp / "doc.json"
    result = torchprobe(*BASE, "noise:1", str(tmp / "missing.png"), "-o", out, check=False)
    assert result.returncode == 30
    assert not out.exists()
    assert [p.name for p in tmp.iterdir()] == []


@pytest.mark.parametrize("args,fragment", [
    (["--resume", "--force", "-o", "x.jsonl"], "--resume and --force contradict each other"),
    (["--resume", "-o", "x.json"], "--resume needs a JSON Lines output: -o FILE.jsonl"),
    (["--resume"], "--resume needs a JSON Lines output: -o FILE.jsonl"),
    (["--shard", "1/2", "-o", "x.json"], "--shard needs a JSON Lines output: -o FILE.jsonl"),
    (["--shard", "0/4", "-o", "x.jsonl"], "bad --shard '0/4': expected K/N with 1 <= K <= N"),
    (["--shard", "5/4", "-o", "x.jsonl"], "bad --shard '5/4'"),
    (["--shard", "1/0", "-o", "x.jsonl"], "bad --shard '1/0'"),
    (["--shard", "1-4", "-o", "x.jsonl"], "bad --shard '1-4'"),
    (["--shard", "a/b", "-o", "x.jsonl"], "bad --shard 'a/b'"),
    (["--workers", "-2"], "bad --workers -2: expected 0 to 256"),
    (["--workers", "1000"], "bad --workers 1000"),
])
def test_bad_batch_options_are_usage_errors(tmp, args, fragment):
    result = torchprobe(*BASE, "noise:1", *args, check=False, cwd=tmp)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr
    assert not any(tmp.iterdir())


# ---- bad stimuli --------------------------------------------------------------------------------

@pytest.fixture
def stimuli(tmp):
    good = [write_png(tmp / f"good{i}.png", i) for i in range(5)]
    bad = tmp / "bad.png"
    bad.write_text("not an image")
    # batches of 2: [good0 good1] [good2 bad] [good3 good4]
    return [good[0], good[1], good[2], str(bad), good[3], good[4]]


def test_bad_stimulus_stops_the_run_and_keeps_finished_batches(tmp, stimuli):
    out = tmp / "out.jsonl"
    result = torchprobe(*BASE, *stimuli, "--batch-size", "2", "-o", out, check=False)
    assert result.returncode == 30, result.stderr
    assert str(tmp / "bad.png") in result.stderr.splitlines()[0]
    assert "give --skip-bad" in result.stderr and "--resume" in result.stderr
    lines = out.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines[1:]] == stimuli[:2]
    assert out.read_text().endswith("\n")


def test_skip_bad_writes_an_error_record_and_goes_on(tmp, stimuli):
    out = tmp / "out.jsonl"
    result = torchprobe(*BASE, *stimuli, "--batch-size", "2", "-o", out, "--skip-bad")
    records = [json.loads(line) for line in out.read_text().splitlines()[1:]]
    assert [r["id"] for r in records] == stimuli
    bad = records[3]
    assert sorted(bad) == ["error", "id", "index"] and bad["index"] == 3
    assert str(tmp / "bad.png") in bad["error"]
    assert all("responses" in r for i, r in enumerate(records) if i != 3)
    assert "6 stimuli" in result.stderr and "1 bad skipped" in result.stderr
    # The good stimulus batched with the bad one equals its response when probed alone.
    alone = tmp / "alone.json"
    torchprobe(*BASE, stimuli[2], "-o", alone)
    assert json.loads(alone.read_text())["stimuli"][0]["responses"] == records[2]["responses"]


def test_skip_bad_in_a_json_document(tmp, stimuli):
    out = tmp / "out.json"
    torchprobe(*BASE, *stimuli, "-o", out, "--skip-bad")
    doc = json.loads(out.read_text())
    assert "error" in doc["stimuli"][3] and len(doc["stimuli"]) == 6


def test_records_carry_file_hashes(tmp, stimuli):
    out = tmp / "out.jsonl"
    torchprobe(*BASE, stimuli[0], "noise:1", "-o", out, "--workers", "2")
    first, second = [json.loads(line) for line in out.read_text().splitlines()[1:]]
    import hashlib
    assert first["sha256"] == hashlib.sha256(open(stimuli[0], "rb").read()).hexdigest()
    assert "sha256" not in second


# ---- progress and summary ---------------------------------------------------------------------

def test_no_progress_when_stderr_is_not_a_terminal_but_a_summary(tmp):
    out = tmp / "out.jsonl"
    result = torchprobe(*BASE, "noise:1", "noise:2", "noise:3", "-o", out)
    assert "\r" not in result.stderr
    summary = [line for line in result.stderr.splitlines() if line.startswith("summary:")]
    assert len(summary) == 1
    assert summary[0].startswith("summary: 3 stimuli, 1 layer, ")
    assert "images/s, 0 bad skipped -> " + str(out) in summary[0]


def test_summary_names_stdout(tmp):
    result = torchprobe(*BASE, "noise:1")
    assert json.loads(result.stdout)["stimuli"][0]["id"] == "noise:1"
    assert result.stderr.strip().splitlines()[-1].endswith("-> stdout")


def run_on_terminal(args):
    """Runs the binary with stderr on a pseudo-terminal; returns (exit code, stderr text)."""
    master, slave = pty.openpty()
    process = subprocess.Popen([BIN, *map(str, args)], stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return process.wait(), b"".join(chunks).decode()


def test_progress_on_a_terminal(tmp):
    stimuli = [f"noise:{i}" for i in range(8)]
    code, stderr = run_on_terminal([*BASE, *stimuli, "--batch-size", "2", "-o", tmp / "o.jsonl"])
    assert code == 0, stderr
    assert "\r" in stderr and "8/8 stimuli (100%)" in stderr and "images/s  ETA" in stderr
    assert "summary: 8 stimuli" in stderr


def test_quiet_silences_progress_but_not_the_summary(tmp):
    code, stderr = run_on_terminal([*BASE, "noise:1", "noise:2", "-o", tmp / "o.jsonl", "--quiet"])
    assert code == 0
    assert "ETA" not in stderr and "summary: 2 stimuli" in stderr
