"""`run --shard K/N` and `merge`: the merged parts equal the single run byte for byte."""
import json
import shutil

import pytest

from conftest import SOURCE_DIR, torchprobe

DEMO = str(SOURCE_DIR / "models" / "demo.pt")
# 14 stimuli in batches of 2 with a size change: batches [0 1] [2 3] [4] [5 6] [7 8] [9 10]
# [11 12] [13].
STIMULI = ["noise:1", "noise:2", "uniform:0.5", "noise:3", "uniform:1@32x48", "noise:4",
           "noise:5", "noise:6", "noise:7", "noise:8", "uniform:0", "noise:9", "noise:10",
           "noise:11"]
COMMON = ["run", DEMO, "--layer", "stem.bn", "--layer", "mixed", *STIMULI, "--batch-size", "2",
          "--preprocess", "imagenet"]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "all.jsonl"
    torchprobe(*COMMON, "-o", out)
    return out


def shard_parts(tmp, n, *extra):
    parts = []
    for k in range(1, n + 1):
        part = tmp / f"part-{k}-of-{n}.jsonl"
        torchprobe(*COMMON, "--shard", f"{k}/{n}", "-o", part, *extra)
        parts.append(part)
    return parts


@pytest.fixture(scope="module")
def parts2(tmp_path_factory):
    return shard_parts(tmp_path_factory.mktemp("parts2"), 2)


@pytest.fixture(scope="module")
def parts3(tmp_path_factory):
    return shard_parts(tmp_path_factory.mktemp("parts3"), 3)


def copies(parts, tmp):
    """Copies of the shared parts, for tests that change them."""
    out = []
    for part in parts:
        shutil.copy(part, tmp / part.name)
        out.append(tmp / part.name)
    return out


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


@pytest.mark.parametrize("n", [1, 3, 20])  # 20 > 8 batches: some parts hold no stimulus
def test_merged_shards_equal_the_single_run(tmp, single, n):
    parts = shard_parts(tmp, n)
    merged = tmp / "merged.jsonl"
    result = torchprobe("merge", *reversed(parts), "-o", merged)
    assert merged.read_bytes() == single.read_bytes()
    assert f"summary: merged {len(STIMULI)} stimuli from {n} part" in result.stderr


def test_shards_split_the_batches_round_robin(parts3):
    parts = parts3
    # batch b goes to shard b % 3 + 1
    assert [r["index"] for r in records(parts[0])] == [0, 1, 5, 6, 11, 12]
    assert [r["index"] for r in records(parts[1])] == [2, 3, 7, 8, 13]
    assert [r["index"] for r in records(parts[2])] == [4, 9, 10]
    header = json.loads(parts[1].read_text().splitlines()[0])
    assert header["shard"] == {"index": 2, "count": 3, "stimuli": 5}
    assert header["stimulus_list"]["count"] == len(STIMULI)


def test_merge_to_a_json_document(tmp, single, parts2):
    torchprobe("merge", *parts2, "-o", tmp / "merged.json")
    doc = json.loads((tmp / "merged.json").read_text())
    lines = single.read_text().splitlines()
    assert doc.pop("stimuli") == [json.loads(line) for line in lines[1:]]
    assert doc == json.loads(lines[0])


def test_merge_reports_missing_shards(tmp, parts3):
    parts = parts3
    result = torchprobe("merge", parts[0], parts[2], "-o", tmp / "m.jsonl", check=False)
    assert result.returncode == 60, result.stderr
    assert "error: cannot merge: 5 of 14 stimuli are missing (indices 2-3, 7-8, 13); no part is " \
           "shard 2/3" in result.stderr
    assert "hint: rerun the missing or incomplete shards" in result.stderr
    assert not (tmp / "m.jsonl").exists()


def test_merge_reports_an_interrupted_part(tmp, parts2):
    parts = copies(parts2, tmp)
    data = parts[1].read_bytes()
    parts[1].write_bytes(data[: len(data) - 10])  # torn last line
    result = torchprobe("merge", *parts, "-o", tmp / "m.jsonl", check=False)
    assert result.returncode == 60
    assert "1 of 14 stimuli are missing (indices 13)" in result.stderr
    assert f"'{parts[1]}' (shard 2/2) holds 6 of its 7 stimuli and ends in a torn line" \
        in result.stderr
    # --resume completes the part, and then the merge works.
    torchprobe(*COMMON, "--shard", "2/2", "-o", parts[1], "--resume")
    torchprobe("merge", *parts, "-o", tmp / "m.jsonl")


def test_merge_rejects_a_shard_given_twice(tmp, parts2):
    parts = parts2
    copy = tmp / "copy.jsonl"
    copy.write_bytes(parts[0].read_bytes())
    result = torchprobe("merge", parts[0], parts[1], copy, "-o", tmp / "m.jsonl", check=False)
    assert result.returncode == 60
    assert f"error: cannot merge: '{parts[0]}' and '{copy}' are both shard 1/2" in result.stderr


def test_merge_rejects_duplicate_stimuli(tmp, parts2):
    parts = copies(parts2, tmp)
    lines = parts[1].read_text().splitlines(keepends=True)
    # Smuggle stimulus 0 into part 2 (keeping its indices increasing).
    first_of_part1 = parts[0].read_text().splitlines(keepends=True)[1]
    parts[1].write_text(lines[0] + first_of_part1 + "".join(lines[1:]))
    result = torchprobe("merge", *parts, "-o", tmp / "m.jsonl", check=False)
    assert result.returncode == 60
    assert "error: cannot merge: stimulus 0 'noise:1' is in both" in result.stderr


def test_merge_rejects_parts_of_different_runs(tmp, parts2):
    a = parts2[0]
    b = tmp / "b.jsonl"
    torchprobe(*COMMON, "--shard", "2/2", "-o", b, "--readout", "mean")
    result = torchprobe("merge", a, b, "-o", tmp / "m.jsonl", check=False)
    assert result.returncode == 60
    assert f"error: cannot merge '{a}' and '{b}': their headers differ: 'readout' is " \
           '"center" there and "mean" here' in result.stderr


def test_merge_rejects_different_shard_counts(tmp, parts2, parts3):
    a, b = parts2[0], parts3[1]
    result = torchprobe("merge", a, b, "-o", tmp / "m.jsonl", check=False)
    assert result.returncode == 60
    assert "they split the list into different numbers of shards" in result.stderr


def test_merge_does_not_overwrite(tmp, single, parts2):
    parts = parts2
    out = tmp / "m.jsonl"
    out.write_text("keep")
    result = torchprobe("merge", *parts, "-o", out, check=False)
    assert result.returncode == 51
    assert out.read_text() == "keep"
    torchprobe("merge", *parts, "-o", out, "--force")
    assert out.read_bytes() == single.read_bytes()


def test_merge_of_a_file_that_is_not_output(tmp):
    junk = tmp / "junk.jsonl"
    junk.write_text('{"a": 1}\n')
    result = torchprobe("merge", junk, "-o", tmp / "m.jsonl", check=False)
    assert result.returncode == 60
    assert f"error: cannot read results '{junk}': not a torchprobe JSON Lines output" \
        in result.stderr


def with_shard(tmp, part, name, **fields):
    """A copy of `part` whose header's "shard" has `fields` changed (a damaged or edited part)."""
    lines = part.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["shard"].update(fields)
    out = tmp / name
    out.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    return out


# Issue 16: shard index 0 or 1000000 in a header crashed merge (SIGSEGV), a huge count ended in
# bad_alloc (exit 70). Both are a bad part: exit 60, naming it, and no output.
@pytest.mark.parametrize("index", [0, 3, 1000000])
def test_merge_rejects_a_shard_index_outside_the_count(tmp, parts2, index):
    bad = with_shard(tmp, parts2[1], "p2.jsonl", index=index)
    result = torchprobe("merge", parts2[0], bad, "-o", tmp / "m.jsonl", check=False)
    assert result.returncode == 60, result.stderr
    assert f"error: cannot read results '{bad}': its header's shard.index {index} is outside " \
           "1..2" in result.stderr
    assert not (tmp / "m.jsonl").exists()


def test_merge_rejects_a_huge_shard_count(tmp, parts2):
    bad = [with_shard(tmp, part, f"p{k}.jsonl", count=10**15) for k, part in enumerate(parts2)]
    result = torchprobe("merge", *bad, "-o", tmp / "m.jsonl", check=False)
    assert result.returncode == 60, result.stderr
    assert f"error: cannot read results '{bad[0]}': its header's shard.count 1000000000000000 " \
           "is outside 1..1000000" in result.stderr
    assert not (tmp / "m.jsonl").exists()


def test_merge_rejects_a_record_nested_too_deep(tmp, parts2):
    # Printing a value 300000 lists deep overflowed the stack (SIGSEGV) in merge -o X.json, diff
    # and --resume; the readers now refuse more than 64 levels.
    lines = parts2[1].read_text().splitlines(keepends=True)
    record = json.loads(lines[1])
    record["extra"] = "DEEP"
    deep = json.dumps(record).replace('"DEEP"', "[" * 300000 + "]" * 300000)
    bad = tmp / "p2.jsonl"
    bad.write_text(lines[0] + deep + "\n" + "".join(lines[2:]))
    result = torchprobe("merge", parts2[0], bad, "-o", tmp / "m.json", check=False)
    assert result.returncode == 60, result.stderr
    assert f"error: cannot read results '{bad}': line 2 nests arrays and objects more than 64 " \
           "deep" in result.stderr
    assert not (tmp / "m.json").exists()
