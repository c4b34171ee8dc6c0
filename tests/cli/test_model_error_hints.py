"""Every bad model file's error is followed by one hint line that says what to do next.

test_model_errors.py checks the exit codes and the error lines; this file checks the hints.
"""
import pytest

from conftest import MODELS, model, torchprobe

EXPORT = "hint: export with scripts/export_model.py, or torch.jit.save(torch.jit.script(model.eval()), path)"

CASES = [
    ("does_not_exist", "hint: check the path"),
    ("empty", EXPORT),
    ("random_bytes", EXPORT),
    ("not_torchscript.zip", EXPORT),
    ("state_dict", EXPORT),
    ("eager_pickle", EXPORT),
    ("truncated", "hint: copy or export the model again"),
    ("frozen", "hint: save the model without freezing: torch.jit.save(torch.jit.script(model.eval()), path)"),
]


def error_and_hint(result):
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    return lines


@pytest.mark.parametrize("command", ["layers", "run"])
@pytest.mark.parametrize("name,hint", CASES)
def test_bad_model_file_error_is_followed_by_a_hint(name, hint, command):
    args = [command, model(name)] + (["--layer", "conv1"] if command == "run" else [])
    error, hint_line = error_and_hint(torchprobe(*args, check=False))
    assert error.startswith("error: cannot load model '" + model(name) + "'"), error
    assert hint_line == hint


def test_model_path_that_is_a_directory_hints_at_the_file_inside():
    _, hint_line = error_and_hint(torchprobe("layers", MODELS, check=False))
    assert hint_line == "hint: give the path of the .pt file inside it"
