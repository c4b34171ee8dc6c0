"""`torchprobe diff`: exit codes, what the table and the JSON report name, unreadable inputs.

The outputs compared are real `torchprobe run` outputs of a small test model; the candidates are
copies edited here (a value moved, a shape changed, a layer or stimulus dropped).
"""
import json

import pytest

from conftest import model, torchprobe

RTOL, ATOL = 1e-5, 1e-6  # the documented defaults
LAYERS = ["conv1", "bn1", "relu"]
STIMULI = ["noise:1", "noise:2", "uniform:0.5"]


def run_output(path, readout="center"):
    args = ["run", model("functional_inplace_script"), *STIMULI, "--readout", readout,
            "--preprocess", "none", "-o", path]
    for layer in LAYERS:
        args += ["--layer", layer]
    torchprobe(*args)
    return path


@pytest.fixture(scope="module")
def baseline_file(tmp_path_factory):
    return run_output(tmp_path_factory.mktemp("diff") / "baseline.json")


@pytest.fixture(scope="module")
def full_baseline_file(tmp_path_factory):
    return run_output(tmp_path_factory.mktemp("diff") / "full.json", readout="full")


# Each test gets the path and a fresh copy of the document to edit.
@pytest.fixture
def baseline(baseline_file):
    return baseline_file, json.loads(baseline_file.read_text())


@pytest.fixture
def full_baseline(full_baseline_file):
    return full_baseline_file, json.loads(full_baseline_file.read_text())


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def write_jsonl(path, doc):
    header = {k: v for k, v in doc.items() if k != "stimuli"}
    path.write_text("".join(json.dumps(x) + "\n" for x in [header, *doc["stimuli"]]))
    return path


def diff(a, b, *extra):
    return torchprobe("diff", a, b, *extra, check=False)


def moved(value, factor):
    """`value` moved by `factor` times its tolerance, away from zero."""
    step = factor * (ATOL + RTOL * abs(value))
    return value + step if value >= 0 else value - step


def test_an_output_equals_itself(baseline):
    path, _ = baseline
    result = diff(path, path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "result: same" in result.stdout
    assert result.stderr == ""


def test_json_and_jsonl_in_any_combination(tmp, baseline):
    path, doc = baseline
    lines = write_jsonl(tmp / "b.jsonl", doc)
    for a, b in [(path, lines), (lines, path), (lines, lines)]:
        result = diff(a, b)
        assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(diff(path, lines, "--json").stdout)
    assert report["candidate"]["format"] == "jsonl"
    assert report["baseline"]["format"] == "json"


@pytest.mark.parametrize("stimulus,layer,channel", [(1, "bn1", 3), (2, "relu", 0)])
def test_a_value_moved_by_twice_the_tolerance_is_named(tmp, baseline, stimulus, layer, channel):
    path, doc = baseline
    values = doc["stimuli"][stimulus]["responses"][layer]["values"]
    values[channel] = moved(values[channel], 2)
    candidate = write_jsonl(tmp / "moved.jsonl", doc)
    sid = STIMULI[stimulus]

    result = diff(path, candidate)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (f"stimulus '{sid}' layer '{layer}': 1 of {len(values)} values out of tolerance; "
            f"worst at channel {channel} (index {channel})") in result.stdout
    assert "result: DIFFERENT" in result.stdout

    report = json.loads(diff(path, candidate, "--json").stdout)
    assert report["result"] == "different"
    [difference] = report["differences"]
    assert difference["kind"] == "values"
    assert (difference["stimulus"], difference["layer"]) == (sid, layer)
    assert difference["out_of_tolerance"] == 1
    assert difference["worst"]["channel"] == channel
    assert report["summary"]["values_out_of_tolerance"] == 1


def test_a_value_moved_within_the_tolerance_is_not_a_difference(tmp, baseline):
    path, doc = baseline
    values = doc["stimuli"][0]["responses"]["conv1"]["values"]
    values[2] = moved(values[2], 0.5)
    result = diff(path, write(tmp / "b.json", doc))
    assert result.returncode == 0, result.stdout


def test_tolerance_options(tmp, baseline):
    path, doc = baseline
    values = doc["stimuli"][0]["responses"]["conv1"]["values"]
    values[1] += 1e-3
    candidate = write(tmp / "b.json", doc)
    assert diff(path, candidate).returncode == 1
    assert diff(path, candidate, "--atol", "2e-3").returncode == 0
    assert diff(path, candidate, "--atol", "0", "--rtol", "0").returncode == 1
    report = json.loads(diff(path, candidate, "--atol", "2e-3", "--rtol", "0", "--json").stdout)
    assert report["tolerance"]["atol"] == 2e-3 and report["tolerance"]["rtol"] == 0
    bad = diff(path, candidate, "--atol", "-1")
    assert bad.returncode == 2 and "error: bad tolerance" in bad.stderr


def test_full_readout_names_channel_and_position(tmp, full_baseline):
    path, doc = full_baseline
    values = doc["stimuli"][0]["responses"]["relu"]["values"]
    values[5][7][9] = moved(values[5][7][9], 10)
    result = diff(path, write(tmp / "b.json", doc))
    assert result.returncode == 1
    assert "stimulus 'noise:1' layer 'relu': 1 of 8192 values out of tolerance; " \
           "worst at channel 5 at (7,9)" in result.stdout


def test_a_changed_shape_is_reported(tmp, baseline):
    path, doc = baseline
    doc["stimuli"][2]["responses"]["conv1"]["shape"] = [8, 16, 16]
    report_text = diff(path, write(tmp / "b.json", doc))
    assert report_text.returncode == 1
    assert "stimulus 'uniform:0.5' layer 'conv1': shape changed: [8,32,32] in the baseline, " \
           "[8,16,16] in the candidate" in report_text.stdout
    report = json.loads(diff(path, tmp / "b.json", "--json").stdout)
    [difference] = report["differences"]
    assert difference["kind"] == "shape"
    assert difference["baseline"] == [8, 32, 32] and difference["candidate"] == [8, 16, 16]


def test_a_missing_layer_is_reported(tmp, baseline):
    path, doc = baseline
    for record in doc["stimuli"]:
        del record["responses"]["bn1"]
    result = diff(path, write(tmp / "b.json", doc))
    assert result.returncode == 1
    assert "stimulus 'noise:1' layer 'bn1': missing in the candidate" in result.stdout
    assert "(in the baseline only)" in result.stdout
    report = json.loads(diff(path, tmp / "b.json", "--json").stdout)
    assert [d["kind"] for d in report["differences"]] == ["missing_layer"] * 3
    assert [l["missing"] for l in report["layers"] if l["layer"] == "bn1"] == [True]
    # the other way round: an extra layer
    report = json.loads(diff(tmp / "b.json", path, "--json").stdout)
    assert {d["kind"] for d in report["differences"]} == {"extra_layer"}


def test_missing_and_extra_stimuli_are_reported(tmp, baseline):
    path, doc = baseline
    doc["stimuli"][1]["id"] = "noise:99"
    result = diff(path, write(tmp / "b.json", doc))
    assert result.returncode == 1
    assert "stimulus 'noise:2': missing in the candidate" in result.stdout
    assert "stimulus 'noise:99': only in the candidate" in result.stdout


def test_a_different_readout_is_a_difference_a_different_model_a_note(tmp, baseline):
    path, doc = baseline
    doc["model"]["sha256"] = "0" * 64
    result = diff(path, write(tmp / "b.json", doc))
    assert result.returncode == 0
    assert "note: model.sha256 differs" in result.stdout
    doc["readout"] = "mean"
    result = diff(path, write(tmp / "b.json", doc))
    assert result.returncode == 1
    assert "header field 'readout' differs: \"center\" in the baseline, \"mean\" in the candidate" \
        in result.stdout


def malformed_inputs(tmp, path, doc):
    text = path.read_text()
    lines = write_jsonl(tmp / "ok.jsonl", doc).read_text().splitlines(keepends=True)
    torn = "".join(lines[:2]) + lines[2][: len(lines[2]) // 2]
    ragged = json.loads(text)
    ragged["stimuli"][0]["responses"]["conv1"]["values"] = [[1, 2], [3]]
    no_id = json.loads(text)
    del no_id["stimuli"][0]["id"]
    cases = {
        "truncated.json": (text[: len(text) // 2], "the JSON ends early (a truncated file?)"),
        "empty.json": ("", "the file is empty"),
        "schema.json": ('{"stimuli": []}\n', 'not a torchprobe output (no "torchprobe" header field)'),
        "list.json": ("[1, 2]\n", "not a torchprobe output"),
        "text.json": ("hello\n", "not valid JSON"),
        "torn.jsonl": (torn, "line 3 is not valid JSON (the torn last line of an interrupted run?)"),
        "ragged.json": (json.dumps(ragged), "is not a number or a rectangular list of numbers"),
        "no_id.json": (json.dumps(no_id), 'stimulus record 1 has no string "id"'),
    }
    for name, (content, message) in cases.items():
        (tmp / name).write_text(content)
        yield tmp / name, message


def test_malformed_inputs_exit_60_naming_the_file(tmp, baseline):
    path, doc = baseline
    for i, (bad, message) in enumerate(malformed_inputs(tmp, path, doc)):
        for a, b in [(path, bad), (bad, path)] if i < 2 else [(path, bad)]:
            result = diff(a, b)
            assert result.returncode == 60, (bad.name, result.stdout, result.stderr)
            assert result.stderr.startswith(f"error: cannot read results '{bad}': "), result.stderr
            assert message in result.stderr, (bad.name, result.stderr)
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert result.stdout == ""


def test_missing_file_and_directory_exit_60(tmp, baseline):
    path, _ = baseline
    result = diff(path, tmp / "nope.json")
    assert result.returncode == 60
    assert f"error: cannot read results '{tmp / 'nope.json'}': no such file" in result.stderr
    result = diff(tmp, path)
    assert result.returncode == 60 and "it is a directory" in result.stderr
