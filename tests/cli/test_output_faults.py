"""Outputs that cannot be written: a disk that fills up (a real file size limit, `ulimit -f`),
a directory that is not one, a pseudo-filesystem. Each exits 50 with one line naming the file,
leaves no temporary file, and a JSON Lines output keeps only complete lines that --resume
continues."""
import json
import os
import stat
import subprocess

import pytest

from conftest import BIN, model, torchprobe

TINY = model("tiny_gray_script")
# --readout full on conv1 of tiny_gray (4x30x30 floats): about 40 KB per record, so a 64 KiB
# limit stops the run in its second record.
RUN = ["run", TINY, "--layer", "conv1", "--readout", "full", "--batch-size", "1", "-q",
       *[f"noise:{i}" for i in range(1, 7)]]
LIMIT_BLOCKS = 64  # bash's ulimit -f counts 1024-byte blocks


def run_limited(*args, cwd):
    """The binary under a file size limit, as on a full disk (SIGXFSZ is the default action)."""
    return subprocess.run(["bash", "-c", f'ulimit -f {LIMIT_BLOCKS}; exec "$@"', "_", BIN,
                           *map(str, args)], capture_output=True, text=True, cwd=cwd)


def error_lines(result):
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    assert len(lines) == 1 or lines[1].startswith("hint: "), result.stderr
    return lines


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out.jsonl"
    torchprobe(*RUN, "-o", out)
    assert out.stat().st_size > 2 * LIMIT_BLOCKS * 1024, "the output must exceed the limit"
    return out.read_bytes()


@pytest.mark.parametrize("name", ["out.json", "out.jsonl"])
def test_full_disk_exits_50_naming_the_file_and_leaves_no_temporary_file(tmp, name, reference):
    result = run_limited(*RUN, "-o", name, cwd=tmp)
    assert result.returncode == 50, result.stderr  # not 153: killed by SIGXFSZ
    error = error_lines(result)[0]
    assert error == (f"error: cannot write output '{name}': "
                     "the disk or the file size limit is full (File too large)")
    assert "ulimit -f" in result.stderr
    expected = ["out.jsonl"] if name.endswith(".jsonl") else []
    assert sorted(p.name for p in tmp.iterdir()) == expected


def test_full_disk_keeps_complete_json_lines_and_resume_completes_the_file(tmp, reference):
    out = tmp / "out.jsonl"
    result = run_limited(*RUN, "-o", out.name, cwd=tmp)
    assert result.returncode == 50, result.stderr
    assert "--resume" in result.stderr
    data = out.read_bytes()
    assert data and data.endswith(b"\n"), "the torn last line is cut off"
    lines = data.decode().splitlines()
    assert len(lines) >= 2, "the header and the first record fit under the limit"
    for line in lines:
        json.loads(line)
    assert reference.startswith(data)

    torchprobe(*RUN, "-o", out.name, "--resume", cwd=tmp)  # the limit raised again
    assert out.read_bytes() == reference


def test_full_disk_on_stdout_exits_50(tmp):
    with open("/dev/full", "w") as full:
        result = subprocess.run([BIN, "run", TINY, "--layer", "conv1", "-q"], stdout=full,
                                stderr=subprocess.PIPE, text=True)
    assert result.returncode == 50, result.stderr
    assert error_lines(result)[0] == ("error: cannot write output '<stdout>': the disk or the file "
                                      "size limit is full (No space left on device)")


# NOTE: the tests run as root, for whom chmod does not stop writes: these paths fail for anyone.
@pytest.mark.parametrize("name", ["out.json", "out.jsonl"])
@pytest.mark.parametrize("parent,why", [("a-file", "Not a directory"),
                                        ("/proc", "No such file or directory")])
def test_output_where_no_file_can_be_created_exits_50(tmp, name, parent, why):
    (tmp / "a-file").write_text("a regular file, not a directory\n")
    out = f"{parent}/{name}"
    result = torchprobe("run", TINY, "--layer", "conv1", "-o", out, check=False, cwd=tmp)
    assert result.returncode == 50, result.stderr
    error, hint = error_lines(result)
    assert error == f"error: cannot write output '{out}': {why}"
    assert hint == "hint: check that the directory exists and is writable"
    assert sorted(p.name for p in tmp.iterdir()) == ["a-file"]


def test_a_device_is_written_in_place_never_replaced(tmp):
    # Renaming the temporary file over /dev/null would replace the device node (root can).
    result = torchprobe("run", TINY, "--layer", "conv1", "-q", "-o", "/dev/null", "--force")
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    result = torchprobe("run", TINY, "--layer", "conv1", "-q", "-o", "/dev/full", "--force",
                        check=False)
    assert result.returncode == 50, result.stderr
    assert "cannot write output '/dev/full': the disk or the file size limit is full" \
        in error_lines(result)[0]
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_directory_as_output_exits_50(tmp):
    (tmp / "out").mkdir()
    result = torchprobe("run", TINY, "--layer", "conv1", "-o", tmp / "out", "--force", check=False)
    assert result.returncode == 50, result.stderr
    assert error_lines(result)[0] == f"error: cannot write output '{tmp / 'out'}': it is a directory"
    assert list((tmp / "out").iterdir()) == []
